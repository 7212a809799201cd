"""Generating rows from a trained generator (torch): the generation kernel, rejection sampling
for conditions, and the pools of generated rows the calibration is fitted on.

:class:`GenerationParts` holds what generation needs; the estimator builds it from its fitted
attributes, and during ``fit`` from the networks being trained (the validation check) or just
trained (the calibration).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from ._random import torch_generator
from .calibration import Calibration, fit_calibration
from .dependencies import Dependencies
from .exceptions import ConditionError
from .marginals import couple_positions, resample
from .nn.modules import Generator, OutputHead
from .nn.wide import NarrowLayout, draw_levels, mixture_levels
from .nn.precision import autocast
from .sampling import ConditionalSampler
from .transformers import TableTransformer
from .transformers.numeric import ALPHA_CLIP, Q_SCALE

__all__ = ["GenerationParts", "generate", "generate_chunk", "output_masks", "calibrate", "pair_pool",
           "MAX_CONDITION_ROUNDS"]

#: Generated rows the two-way marginals' tilt is fitted on (under DP).
PAIR_POOL_ROWS = 100_000
#: Rejection sampling for conditions gives up after this many generated chunks.
MAX_CONDITION_ROUNDS = 50
#: At most this many values (rows x output width) per generated chunk: a table with thousands of
#: levels (flights: about 7,700 outputs a row) would otherwise hold several (rows, width) float
#: tensors of a whole 20,000-row calibration pool at once, some 4 GB. Narrower tables (adult:
#: about 150 outputs) are generated in one chunk as before, with the same draws.
MAX_CHUNK_VALUES = 1 << 24


def chunk_rows(rows: int, width: int) -> int:
    """Rows per generated chunk: ``rows``, or fewer so that a chunk holds at most
    ``MAX_CHUNK_VALUES`` outputs."""
    return max(1, min(int(rows), MAX_CHUNK_VALUES // max(1, int(width))))


@dataclass
class GenerationParts:
    """What generation needs; built from a fitted model, or during fit for the validation check."""

    generator: torch.nn.Module
    sampler: ConditionalSampler
    level_probs: list              # every level column's frequencies (the sampler holds the conditioned ones)
    head: OutputHead
    transformer: TableTransformer
    device: torch.device
    embedding_dim: int
    calibration: Calibration | None = None
    dependencies: Dependencies | None = None
    autocast_dtype: torch.dtype | None = None  # mixed precision of the generator (see training.loop.autocast)


@contextmanager
def _inference(generator: torch.nn.Module):
    """The block runs with the generator in eval mode, without autograd; its mode is restored."""
    was_training = generator.training
    generator.eval()
    try:
        with torch.inference_mode():
            yield
    finally:
        generator.train(was_training)


def generate(parts: GenerationParts, n: int, parsed: list[tuple[int, int]], seq: np.random.SeedSequence,
             chunk_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Compact ``floats`` (n, F) and ``codes`` (n, C) of ``n`` generated rows, drawn from ``seq``.

    With conditions (``parsed``: ``[(code column, level)]``), the generator is conditioned on the
    first and rows are kept when they satisfy all (rejection sampling), within
    ``MAX_CONDITION_ROUNDS`` chunks of ``chunk_size`` rows; otherwise a :class:`ConditionError`.
    """
    layout = parts.transformer.layout_
    chunk_size = chunk_rows(chunk_size, layout.width)
    gen = torch_generator(seq, parts.device)
    disc_index = {int(ci): j for j, ci in enumerate(np.flatnonzero(layout.conditioned))}
    gumbel_mask, level_bias = output_masks(parts)
    tilt = None if parts.calibration is None else parts.calibration.pair_tilt
    kept_f, kept_c, total = [], [], 0
    with _inference(parts.generator):
        rounds = 0
        while total < n:
            if parsed and rounds >= MAX_CONDITION_ROUNDS:
                raise ConditionError(
                    f"Only {total} of {n} rows satisfying the conditions were produced in "
                    f"{rounds} rounds of {chunk_size}: the model rarely generates this "
                    "combination. Ask for fewer conditions or fewer rows."
                )
            if parsed:
                batch = chunk_size
            elif tilt is not None:  # about a cap-th of the rows are kept
                batch = min(chunk_size, int(np.ceil((n - total) * tilt.cap)) + 64)
            else:
                batch = min(chunk_size, n - total)
            f, c = generate_chunk(parts, batch, parsed, disc_index, gen, gumbel_mask, level_bias)
            if parsed or tilt is not None:
                ok = np.ones(batch, dtype=bool)
                if tilt is not None:  # keep each row with min(1, weight / cap): the tilted distribution
                    u = torch.rand(batch, 1 + len(tilt.resample), device=parts.device, generator=gen,
                                   dtype=torch.float64).cpu().numpy()
                    c = resample(c, tilt.resample, u[:, 1:])
                    ok &= tilt.accept(c, u[:, 0])
                for ci, level in parsed:
                    ok &= c[:, ci] == level
                f, c = f[ok], c[ok]
            kept_f.append(f)
            kept_c.append(c)
            total += f.shape[0]
            rounds += 1
    floats = np.concatenate(kept_f)[:n] if kept_f else np.zeros((0, len(layout.float_positions)), np.float32)
    codes = np.concatenate(kept_c)[:n] if kept_c else np.zeros((0, len(layout.code_offsets)), np.int64)
    if tilt is not None and tilt.resample:  # positions inside the resampled modes, before their maps
        float_of = {cj: fj for fj, (cj, _) in parts.transformer.mode_floats().items()}
        floats = couple_positions(floats, codes, tilt.resample, float_of)
    if parts.calibration is not None:
        floats = parts.calibration.map_floats(floats, codes)
    return floats, codes


def calibrate(parts: GenerationParts, targets: list, seq: np.random.SeedSequence,
              mode_targets: dict | None = None) -> Calibration:
    """Offsets and score maps towards ``targets`` (one per code column) and the in-mode
    ``mode_targets``, fitted on rows generated from ``seq``
    (with ``parts.dependencies`` enforced); see :mod:`tabgan.calibration`."""
    layout = parts.transformer.layout_
    gumbel_mask, level_bias = output_masks(parts)
    gen = torch_generator(seq, parts.device)

    def pool(n: int, bias: np.ndarray):
        b = level_bias + torch.as_tensor(bias, dtype=level_bias.dtype, device=parts.device)
        step = chunk_rows(n, layout.width)
        chunks = [generate_chunk(parts, min(step, n - start), [], {}, gen, gumbel_mask, b, with_probs=True)
                  for start in range(0, n, step)]
        # Each chunk's shares are per its own rows: weight them by its rows to get the pool's.
        weights = [len(chunk[0]) / n for chunk in chunks]

        def pooled(j: int, fixed: bool):
            if fixed and chunks[0][3][j] is None:
                return None
            return sum(w * chunk[3 if fixed else 2][j].double() for w, chunk in zip(weights, chunks)).cpu().numpy()

        n_spans = len(chunks[0][2])
        return (np.concatenate([chunk[0] for chunk in chunks]), np.concatenate([chunk[1] for chunk in chunks]),
                [pooled(j, False) for j in range(n_spans)], [pooled(j, True) for j in range(n_spans)])

    with _inference(parts.generator):
        return fit_calibration(pool, width=layout.width, code_offsets=layout.code_offsets,
                               targets=targets, quantile_floats=parts.transformer.quantile_floats(),
                               q_scale=Q_SCALE, alpha_clip=ALPHA_CLIP, mode_targets=mode_targets)


def pair_pool(parts: GenerationParts, calibration: Calibration, seq: np.random.SeedSequence) -> np.ndarray:
    """Codes of ``PAIR_POOL_ROWS`` rows generated with ``calibration``'s offsets (no tilt): the
    pool the two-way marginals are chosen against and the tilt is fitted on."""
    from dataclasses import replace

    plain = replace(calibration, pair_tilt=None)
    return generate(replace(parts, calibration=plain), PAIR_POOL_ROWS, [], seq, 20_000)[1]


def generate_chunk(parts: GenerationParts, batch: int, parsed, disc_index, gen, gumbel_mask, level_bias,
                   with_probs: bool = False):
    """``floats`` (batch, F) and ``codes`` (batch, C) of ``batch`` generated rows, as numpy
    arrays, with ``parts.dependencies`` enforced on the codes.

    With ``with_probs``, also two lists, one entry per softmax span, for the calibration's
    pools: the generator's level probabilities summed over the rows that no dependency rule
    set, divided by ``batch`` (what the offsets act on), and ``None`` or the frequencies of the
    levels the rules set (as shares of ``batch``).
    """
    sampler = parts.sampler
    if parsed:
        ci, level = parsed[0]
        cond = sampler.fixed(batch, disc_index[ci], level)
    elif sampler.n_columns:
        cond = sampler.sample_generation(batch, gen)[0]
    else:
        cond = torch.zeros(batch, 0, device=parts.device)
    noise = torch.randn(batch, parts.embedding_dim, device=parts.device, generator=gen)
    narrow = _narrow_layout(parts)
    with autocast(parts.device, parts.autocast_dtype):
        if narrow is None:
            raw = parts.generator(torch.cat([noise, cond], dim=1)).float()
        else:
            raw, log_weights, log_levels = parts.generator.split(torch.cat([noise, cond], dim=1))
            raw = raw.float()
    if narrow is None:
        # Levels are drawn from the generator's softmax (Gumbel-max), not taken by argmax, so
        # that the generated marginals keep their spread.
        u = torch.rand(raw.shape, device=raw.device, generator=gen).clamp_(1e-10, 1 - 1e-10)
        floats, codes = parts.head.decode(raw - torch.log(-torch.log(u)) * gumbel_mask + level_bias)
        logits = raw + level_bias
        span_probs = [(lambda off=off, w=w: torch.softmax(logits[:, off:off + w], dim=1), None)
                      for off, w in zip(parts.head.code_offsets, parts.head.code_widths)]
    else:
        floats, codes, span_probs = _mixture_decode(parts, narrow, raw, log_weights, log_levels, gen, gumbel_mask,
                                                    level_bias)
    floats, codes, set_rows = floats.cpu().numpy(), codes.cpu().numpy(), {}
    if parts.dependencies is not None:
        codes, set_rows = parts.dependencies.apply_with_mask(codes)
    if not with_probs:
        return floats, codes
    probs, fixed = [], []
    for j, (rows_of, basis) in enumerate(span_probs):
        # A span's level probabilities per row are rows_of() (B, levels), or rows_of() @ basis
        # for a wide span's mixture (B, components) @ (components, levels).
        def summed(p, basis=basis):
            return p if basis is None else p @ basis
        p = rows_of()
        if j not in set_rows:
            probs.append(summed(p.mean(dim=0)))
            fixed.append(None)
            continue
        w = int(parts.head.code_widths[j])
        rows = torch.as_tensor(set_rows[j], device=p.device)
        done = torch.bincount(torch.as_tensor(codes[set_rows[j], j], device=p.device), minlength=w)
        probs.append(summed(p[~rows].sum(dim=0)) / batch)
        fixed.append(done.to(p.dtype) / batch)
    return floats, codes, probs, fixed


def _narrow_layout(parts: GenerationParts):
    """The layout without the wide spans when the generator has a mixture head for them (they
    are then drawn without expanding them, see :func:`_mixture_decode`), else None."""
    gen = parts.generator
    if not (isinstance(gen, Generator) and gen.wide and gen.head == "mixture"):
        return None
    head, layout = parts.head, parts.transformer.layout_
    return NarrowLayout.of(layout.width, head.float_positions.cpu().numpy(), head.code_offsets, head.code_widths,
                           gen.wide)


def _mixture_decode(parts: GenerationParts, narrow: NarrowLayout, raw, log_weights, log_levels, gen, gumbel_mask,
                    level_bias):
    """``floats``, ``codes`` and per softmax span the function and basis of its probabilities
    (see :func:`generate_chunk`) from the narrow raw outputs and the wide spans' mixtures.

    The narrow spans are decoded as at full width; a wide span's level is drawn from its
    mixture with ``level_bias`` added (:func:`tabgan.nn.wide.mixture_levels`): the distribution
    the Gumbel-max of the full-width path draws from, at the cost of a component and a search
    per row instead of every level."""
    device = raw.device
    units = torch.as_tensor(narrow.units, device=device)
    head = OutputHead(torch.as_tensor(narrow.float_positions, device=device), narrow.code_offsets.tolist(),
                      narrow.code_widths.tolist())
    u = torch.rand(raw.shape, device=device, generator=gen).clamp_(1e-10, 1 - 1e-10)
    bias = level_bias[units]
    floats, narrow_codes = head.decode(raw - torch.log(-torch.log(u)) * gumbel_mask[units] + bias)
    codes = torch.empty(raw.shape[0], len(parts.head.code_offsets), dtype=torch.long, device=device)
    codes[:, torch.as_tensor(narrow.code_columns, device=device)] = narrow_codes
    logits = raw + bias
    span_probs = [None] * codes.shape[1]
    for j, off, w in zip(narrow.code_columns, narrow.code_offsets, narrow.code_widths):
        span_probs[j] = (lambda off=int(off), w=int(w): torch.softmax(logits[:, off:off + w], dim=1), None)
    for k, j in enumerate(narrow.wide_columns):
        off, w = parts.generator.wide[k]
        weights, components = mixture_levels(log_weights[k].float(), log_levels[k].float(), level_bias[off:off + w])
        codes[:, j] = draw_levels(weights, components, 1, gen)[:, 0]
        span_probs[j] = (lambda weights=weights: weights, components)
    return floats, codes, span_probs


def output_masks(parts: GenerationParts) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-output constants of generation, shape (width,) each: 1 where Gumbel noise is added
    (softmax units), and -inf on categorical levels with zero frequency (unused categories of a
    ``category`` dtype, say) so that they are never generated, 0 elsewhere."""
    layout = parts.transformer.layout_
    device = parts.device
    gumbel_mask = torch.ones(layout.width, device=device)
    gumbel_mask[parts.head.float_positions] = 0.0
    bias = torch.zeros(layout.width, device=device)
    for off, probs in zip(layout.code_offsets[layout.discrete], parts.level_probs):
        unseen = np.flatnonzero(np.asarray(probs) <= 0)
        if len(unseen) and len(unseen) < len(probs):
            bias[torch.as_tensor(int(off) + unseen, device=device)] = float("-inf")
    if parts.calibration is not None:
        bias += torch.as_tensor(parts.calibration.bias, dtype=bias.dtype, device=device)
    return gumbel_mask, bias

