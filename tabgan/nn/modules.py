"""Generator, discriminator and the output head, after CTGAN (Xu et al. 2019).

Dropout draws its mask from an explicit ``torch.Generator`` and weights are initialised from
one, so training never reads or writes torch's global RNG state.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["Generator", "Discriminator", "OutputHead", "WIDE_RANK", "WIDE_COMPONENTS", "init_parameters"]


class Residual(nn.Module):
    """``[relu(bn(linear(x))), x]``: a fully connected layer whose input is concatenated to its
    output (CTGAN's generator block)."""

    def __init__(self, in_dim: int, out_dim: int):
        super().__init__()
        self.fc = nn.Linear(in_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.relu(self.bn(self.fc(x))), x], dim=1)


#: Width of the projection through which the critic sees a wide span (one with more levels than
#: ``tabgan.transformers.base.WIDE_LEVELS``).
WIDE_RANK = 64
#: Mixture components of the generator's head for a wide span: each row's distribution over the
#: span's levels is a mixture of this many distributions over the levels shared by all rows.
WIDE_COMPONENTS = 64


def _segments(width: int, wide: tuple) -> list[tuple[int, int, int | None]]:
    """Cut ``range(width)`` into ``(start, stop, k)`` pieces in order: ``k`` is the index of the
    wide span the piece is (``wide`` holds their ``(offset, width)``, sorted), ``None`` for the
    narrow pieces between them."""
    out, pos = [], 0
    for k, (off, w) in enumerate(wide):
        if off > pos:
            out.append((pos, off, None))
        out.append((off, off + w, k))
        pos = off + w
    if pos < width:
        out.append((pos, width, None))
    return out


class Generator(nn.Module):
    """Maps noise (B, embedding_dim) + conditional vector (B, cond_dim) to raw outputs (B, data_dim).

    A wide span (``wide``: ``(offset, width)`` pairs) gets one of two heads. ``"factor"``: its
    logits come through a rank ``WIDE_RANK`` factor, hidden -> 64 -> levels (``expand[k]``).
    ``"mixture"``: its levels' probabilities are ``softmax(a) @ softmax(L)``, where ``a``
    (B, ``WIDE_COMPONENTS``) comes from the last layer and ``L`` (``WIDE_COMPONENTS``, levels) is
    a parameter (``levels[k]``), and its raw outputs are their logarithms; training then draws
    the span's relaxed samples from the mixture without computing every level of every row
    (:mod:`tabgan.nn.wide`, :meth:`split`), which the factor head cannot do.
    """

    def __init__(self, in_dim: int, hidden: tuple[int, ...], data_dim: int, wide: tuple = (),
                 head: str = "factor"):
        super().__init__()
        if head not in ("mixture", "factor"):
            raise ValueError(f"head must be 'mixture' or 'factor', got {head!r}")
        layers = []
        dim = in_dim
        for h in hidden:
            layers.append(Residual(dim, h))
            dim += h
        self.wide = tuple((int(o), int(w)) for o, w in wide)
        self.head = head
        self.n_narrow = data_dim - sum(w for _, w in self.wide)
        self.per_span = WIDE_COMPONENTS if head == "mixture" else WIDE_RANK
        layers.append(nn.Linear(dim, self.n_narrow + self.per_span * len(self.wide)))
        self.net = nn.Sequential(*layers)
        if self.wide:
            if head == "mixture":
                self.levels = nn.ParameterList([nn.Parameter(torch.zeros(WIDE_COMPONENTS, w)) for _, w in self.wide])
            else:
                self.expand = nn.ModuleList([nn.Linear(WIDE_RANK, w) for _, w in self.wide])
            self._segments = _segments(data_dim, self.wide)

    @torch.no_grad()
    def init_levels(self, probs: list) -> None:
        """Start every mixture component of wide span ``k`` at ``probs[k]`` (the level
        frequencies, smoothed so that no level starts impossible), so the generated marginal of
        a wide column is right from the first step."""
        for param, p in zip(self.levels, probs):
            p = torch.as_tensor(p, dtype=param.dtype, device=param.device)
            param.copy_(torch.log(p / p.sum() + 0.1 / p.numel()).expand_as(param))

    def split(self, x: torch.Tensor) -> tuple[torch.Tensor, list, list]:
        """The narrow spans' raw outputs (B, data_dim - wide levels), in order without the wide
        spans, and per wide span (mixture head) the log mixture weights (B, ``WIDE_COMPONENTS``)
        and the components' log-probabilities (``WIDE_COMPONENTS``, levels)."""
        h = self.net(x)
        first = self.n_narrow
        weights = [torch.log_softmax(h[:, first + k * self.per_span:first + (k + 1) * self.per_span].float(), dim=1)
                   for k in range(len(self.wide))]
        return h[:, :first], weights, [torch.log_softmax(L, dim=1) for L in self.levels]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.net(x)
        if not self.wide:
            return h
        parts, narrow_pos = [], 0
        for start, stop, k in self._segments:
            if k is None:
                parts.append(h[:, narrow_pos:narrow_pos + stop - start])
                narrow_pos += stop - start
                continue
            factor = h[:, self.n_narrow + k * self.per_span:self.n_narrow + (k + 1) * self.per_span]
            if self.head == "factor":
                parts.append(self.expand[k](factor))
            else:
                probs = torch.softmax(factor.float(), dim=1) @ torch.softmax(self.levels[k], dim=1)
                # The floor keeps the logarithm's gradient finite where a product underflows.
                parts.append(torch.log(probs.clamp_min(1e-30)).to(h.dtype))
        return torch.cat(parts, dim=1)


class SeededDropout(nn.Module):
    """Dropout whose mask comes from a given generator (set with :meth:`use_generator`)."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p
        self.generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.rand(x.shape, device=x.device, generator=self.generator) >= self.p
        return x * keep / (1 - self.p)


class Discriminator(nn.Module):
    """PacGAN critic: ``pac`` rows are concatenated and scored together (Lin et al. 2018).

    No BatchNorm, so per-sample gradients are well defined for DP-SGD.
    """

    def __init__(self, in_dim: int, hidden: tuple[int, ...], pac: int, dropout: float = 0.5, wide: tuple = ()):
        super().__init__()
        self.pac = pac
        self.wide = tuple((int(o), int(w)) for o, w in wide)
        row_dim = in_dim
        if self.wide:
            # Each wide span enters through its own rank-WIDE_RANK projection of the row (shared
            # by the pac rows of a pack), not at full width in the first layer.
            self.project = nn.ModuleList([nn.Linear(w, WIDE_RANK, bias=False) for _, w in self.wide])
            self._segments = _segments(in_dim, self.wide)
            row_dim = in_dim - sum(w for _, w in self.wide) + WIDE_RANK * len(self.wide)
        layers: list[nn.Module] = []
        dim = row_dim * pac
        for h in hidden:
            layers += [nn.Linear(dim, h), nn.LeakyReLU(0.2), SeededDropout(dropout)]
            dim = h
        layers.append(nn.Linear(dim, 1))
        self.net = nn.Sequential(*layers)

    def use_generator(self, generator: torch.Generator) -> None:
        for m in self.modules():
            if isinstance(m, SeededDropout):
                m.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.wide:
            x = torch.cat([x[:, start:stop] if k is None else self.project[k](x[:, start:stop])
                           for start, stop, k in self._segments], dim=1)
        return self.score(x)

    # The same critic on rows whose wide spans are given by their levels, not at full width
    # (training, see tabgan.training.loop): equal to forward() on the expanded rows.
    def score(self, rows: torch.Tensor) -> torch.Tensor:
        """Scores of rows whose wide spans are already projected (B, per-row input of ``net``)."""
        return self.net(rows.reshape(-1, rows.shape[1] * self.pac))

    def project_levels(self, k: int, levels) -> torch.Tensor:
        """Wide span ``k``'s projection (B, ``WIDE_RANK``) of rows given by level codes (B,), or
        by ``(index, weight)`` (B, D) each: the levels a row puts weight on and those weights
        (the rest of the row's span is 0). A lookup of the projection's columns, where the
        one-hot or relaxed row at full width would cost a (B, levels) product."""
        columns = self.project[k].weight.t().contiguous()  # (levels, WIDE_RANK): rows gathered contiguously
        if isinstance(levels, torch.Tensor):
            return F.embedding(levels, columns)
        index, weight = levels
        return (weight.unsqueeze(2).to(columns.dtype) * F.embedding(index, columns)).sum(dim=1)

    def assemble(self, narrow: torch.Tensor, projected: list) -> torch.Tensor:
        """Per-row input of ``net`` from the narrow inputs (B, in_dim - wide levels), in order
        without the wide spans, and each wide span's projection (B, ``WIDE_RANK``)."""
        parts, pos = [], 0
        for start, stop, k in self._segments:
            if k is None:
                parts.append(narrow[:, pos:pos + stop - start])
                pos += stop - start
            else:
                parts.append(projected[k].to(narrow.dtype))
        return torch.cat(parts, dim=1)

    def embed(self, narrow: torch.Tensor, levels: list) -> torch.Tensor:
        """:meth:`assemble` of the narrow inputs and the projections of ``levels`` (one entry per
        wide span, as :meth:`project_levels` takes)."""
        return self.assemble(narrow, [self.project_levels(k, x) for k, x in enumerate(levels)])


class OutputHead:
    """Applies each span's activation to the generator's raw output.

    ``tanh`` units get tanh; each softmax span gets a Gumbel-softmax (tau 0.2, as CTGAN) during
    training so gradients reach the generator, and a plain softmax at sampling time, where the
    level is then drawn or taken by argmax.
    """

    def __init__(self, float_positions: torch.Tensor, code_offsets: list[int], code_widths: list[int],
                 tau: float = 0.2):
        self.float_positions = float_positions
        self.code_offsets = [int(o) for o in code_offsets]
        self.code_widths = [int(w) for w in code_widths]
        self.tau = tau

    def __call__(self, raw: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        # One uniform draw for the whole block (a draw per span costs more than the softmaxes).
        u = torch.rand(raw.shape, device=raw.device, generator=generator).clamp_(1e-10, 1 - 1e-10)
        perturbed = (raw - torch.log(-torch.log(u))) / self.tau
        parts = []
        pos = 0
        tanh = torch.tanh(raw)
        for off, w in zip(self.code_offsets, self.code_widths):
            if off > pos:
                parts.append(tanh[:, pos:off])
            parts.append(torch.softmax(perturbed[:, off:off + w], dim=1))
            pos = off + w
        if pos < raw.shape[1]:
            parts.append(tanh[:, pos:])
        return torch.cat(parts, dim=1)

    def decode(self, raw: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Compact ``floats`` (B, F) and ``codes`` (B, C) from raw outputs (argmax per span)."""
        floats = torch.tanh(raw[:, self.float_positions]) if self.float_positions.numel() else \
            raw.new_zeros(raw.shape[0], 0)
        # argmax over a contiguous copy of each span: over a strided column slice it is slower.
        codes = [raw[:, off:off + w].contiguous().argmax(dim=1)
                 for off, w in zip(self.code_offsets, self.code_widths)]
        codes_t = torch.stack(codes, dim=1) if codes else torch.zeros(raw.shape[0], 0, dtype=torch.long,
                                                                      device=raw.device)
        return floats, codes_t


def init_parameters(module: nn.Module, generator: torch.Generator) -> None:
    """Re-initialise every Linear layer as PyTorch does by default, but from ``generator``."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=generator)
            if m.bias is not None:
                bound = 1 / math.sqrt(m.weight.shape[1]) if m.weight.shape[1] > 0 else 0
                nn.init.uniform_(m.bias, -bound, bound, generator=generator)
