"""Generator, discriminator and the output head, after CTGAN (Xu et al. 2019).

Dropout draws its mask from an explicit ``torch.Generator`` and weights are initialised from
one, so training never reads or writes torch's global RNG state.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["Generator", "Discriminator", "OutputHead", "init_parameters"]


class Residual(nn.Module):
    """``[relu(bn(linear(x))), x]``: a fully connected layer whose input is concatenated to its
    output (CTGAN's generator block)."""

    def __init__(self, in_dim: int, out_dim: int):
        super().__init__()
        self.fc = nn.Linear(in_dim, out_dim)
        self.bn = nn.BatchNorm1d(out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.relu(self.bn(self.fc(x))), x], dim=1)


class Generator(nn.Module):
    """Maps noise (B, embedding_dim) + conditional vector (B, cond_dim) to raw outputs (B, data_dim)."""

    def __init__(self, in_dim: int, hidden: tuple[int, ...], data_dim: int):
        super().__init__()
        layers = []
        dim = in_dim
        for h in hidden:
            layers.append(Residual(dim, h))
            dim += h
        layers.append(nn.Linear(dim, data_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


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

    def __init__(self, in_dim: int, hidden: tuple[int, ...], pac: int, dropout: float = 0.5):
        super().__init__()
        self.pac = pac
        layers: list[nn.Module] = []
        dim = in_dim * pac
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
        return self.net(x.reshape(-1, x.shape[1] * self.pac))


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
        codes = [raw[:, off:off + w].argmax(dim=1) for off, w in zip(self.code_offsets, self.code_widths)]
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
