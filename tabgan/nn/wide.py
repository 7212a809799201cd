"""Gumbel-softmax samples of a wide span's mixture head without touching every level of every row.

The Gumbel-softmax sample of a span (Jang et al. 2017; CTGAN's tau 0.2) is
``softmax((log p + G) / tau)`` over all its levels, with ``G`` independent Gumbel noise: for a
span of thousands of levels, drawing that noise, the softmax and the backward pass through them
cost more than the rest of a training step together. At tau 0.2 the sample puts almost all its
weight on the few levels whose perturbed log-probability ``z = log p + G`` is largest; a level
whose ``z`` is 3 below the largest gets less than ``exp(-15)`` of it.

So only the levels with ``z > -ARRIVALS`` are drawn, exactly: ``P(z_i > T) = 1 - exp(-p_i e^-T)``
is the probability that a Poisson(``p_i e^-T``) count is positive, and independent Poisson
counts with these rates are ``Poisson(e^-T)`` draws from ``p`` (``sum p_i = 1``), distributed
among the levels. So ``N ~ Poisson(e^ARRIVALS)`` draws of a row's level (by its mixture: a
component, then a level of it, each a lookup), with duplicates dropped, are the set of levels
with ``z > -ARRIVALS``; given the set, each ``z_i`` is a Gumbel truncated below at
``-ARRIVALS``, drawn by inverting its distribution function. The relaxed sample is the softmax
over the set, and its gradient is the Gumbel-softmax's (the noise ``z - log p`` held fixed).
The levels left out have ``z`` below ``-ARRIVALS`` while the largest ``z`` is a
Gumbel(0) draw (``log sum p = 0``): their weight is below ``exp(-(3 + G)/0.2)``, about 1e-8 at
the median ``G`` and below 1e-3 in about one row in 1,600.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["relaxed_mixture_sample", "draw_levels", "mixture_levels", "NarrowLayout", "ARRIVALS", "MAX_DRAWS",
           "KEPT"]

#: Levels whose perturbed log-probability exceeds ``-ARRIVALS`` are drawn (about ``e^3 = 20``
#: draws a row).
ARRIVALS = 3.0
#: Draws taken per row; a Poisson(20) count exceeds it in about one row in 50 million (the
#: count is then cut to it).
MAX_DRAWS = 48
#: Levels a sample keeps: those of the largest perturbed log-probabilities. At tau 0.2 the
#: ninth-largest ``z`` is on average 2.7 below the largest (the spacings of Gumbel maxima), a
#: weight of about exp(-13.6).
KEPT = 8


def relaxed_mixture_sample(log_weights: torch.Tensor, log_levels: torch.Tensor, tau: float,
                           generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Gumbel-softmax samples of a categorical span whose level probabilities are a mixture.

    Parameters
    ----------
    log_weights : Tensor (B, M)
        Each row's log mixture weights (differentiable).
    log_levels : Tensor (M, L)
        Each component's log-probabilities of the span's ``L`` levels (differentiable).
    tau : float
        Temperature of the Gumbel-softmax.
    generator : torch.Generator, optional

    Returns
    -------
    index : Tensor (B, KEPT) of int64
        The levels each row puts weight on (padding repeats a level with weight 0).
    weight : Tensor (B, KEPT)
        Their weights (summing to 1 per row), differentiable in both inputs.
    """
    rows = log_weights.shape[0]
    n_levels = log_levels.shape[1]
    device = log_weights.device
    levels = log_levels.exp()
    weights = log_weights.exp()
    with torch.no_grad():
        level = draw_levels(weights.detach(), levels.detach(), MAX_DRAWS, generator)
        count = torch.poisson(torch.full((rows,), math.exp(ARRIVALS), device=device), generator=generator)
        drawn = torch.arange(MAX_DRAWS, device=device) < count.clamp_(min=1)[:, None]
        # Drop draws past the row's count, and repeats: sorted, the padding (n_levels) goes last.
        level, _ = torch.where(drawn, level, n_levels).sort(dim=1)
        keep = level < n_levels
        keep[:, 1:] &= level[:, 1:] != level[:, :-1]
        index = level.clamp_(max=n_levels - 1)
        # Log-probabilities of the drawn levels (the mixture's, gathered level by level) and
        # their noise given z = log p + G > -ARRIVALS: z's distribution function
        # exp(-exp(log p - z)) inverted above its value at -ARRIVALS.
        columns = levels.detach().t().contiguous()  # (L, M)
        lp = torch.log(_mix(F.embedding(index, columns), weights.detach())).double()
        low = torch.exp(-torch.exp(lp + ARRIVALS))
        v = (low + torch.rand(lp.shape, device=device, dtype=torch.float64, generator=generator) * (1 - low))
        noise = -torch.log(-torch.log(v.clamp_(max=1 - 1e-15)))
        # The KEPT levels of largest z carry all but about exp(-13) of the sample's weight.
        top = (lp + noise).masked_fill_(~keep, float("-inf")).topk(min(KEPT, MAX_DRAWS), dim=1).indices
        index, keep, noise = index.gather(1, top), keep.gather(1, top), noise.gather(1, top).to(levels.dtype)
    # The same log-probabilities of the kept levels, now differentiable.
    log_p = torch.log(_mix(F.embedding(index, levels.t().contiguous()), weights))
    scores = ((log_p + noise) / tau).masked_fill(~keep, float("-inf"))
    return index, torch.softmax(scores, dim=1)


def _mix(by_level: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Mixture probabilities (B, D) from the components' probabilities of each row's levels
    (B, D, M) and the rows' weights (B, M), floored where a product underflows (so that its
    logarithm and that logarithm's gradient stay finite)."""
    return (by_level * weights.unsqueeze(1)).sum(dim=2).clamp_min(1e-30)


@dataclass(frozen=True)
class NarrowLayout:
    """The expanded layout without its wide spans ("narrow coordinates"), for the paths that
    never expand a wide span: training steps and generation with a mixture head.

    Attributes
    ----------
    units : ndarray
        Expanded index of each narrow unit, in order.
    float_positions, code_offsets, code_widths : ndarray
        The ``tanh`` units and the narrow softmax spans, in narrow coordinates.
    code_columns : ndarray
        The code columns of the narrow softmax spans.
    wide_columns : list of int
        The code column of each wide span.
    """

    units: np.ndarray
    float_positions: np.ndarray
    code_offsets: np.ndarray
    code_widths: np.ndarray
    code_columns: np.ndarray
    wide_columns: list

    @classmethod
    def of(cls, width: int, float_positions, code_offsets, code_widths, wide) -> "NarrowLayout":
        wide_off = np.asarray([o for o, _ in wide], dtype=np.int64)
        wide_w = np.asarray([w for _, w in wide], dtype=np.int64)
        inside = np.zeros(width, dtype=bool)
        for o, w in zip(wide_off, wide_w):
            inside[o:o + w] = True
        offsets, widths = np.asarray(code_offsets, dtype=np.int64), np.asarray(code_widths, dtype=np.int64)
        is_wide = np.isin(offsets, wide_off)
        self = cls(np.flatnonzero(~inside), np.zeros(0, np.int64), np.zeros(0, np.int64), widths[~is_wide],
                   np.flatnonzero(~is_wide), [int(np.flatnonzero(offsets == o)[0]) for o in wide_off])
        object.__setattr__(self, "float_positions", self.narrow(float_positions))
        object.__setattr__(self, "code_offsets", self.narrow(offsets[~is_wide]))
        return self

    @property
    def width(self) -> int:
        return len(self.units)

    def narrow(self, positions) -> np.ndarray:
        """Narrow coordinates of expanded indices of narrow units."""
        return np.searchsorted(self.units, np.asarray(positions, dtype=np.int64).reshape(-1))


def mixture_levels(log_weights: torch.Tensor, log_levels: torch.Tensor, bias: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """The mixture with ``bias`` (L,) added to every level's log-probability (generation's
    calibration offsets and -inf on unseen levels), as a mixture again: rows' weights (B, M) and
    components (M, L), both normalised, whose product is ``softmax(log(mixture) + bias)``."""
    shifted = log_levels + bias
    log_mass = torch.logsumexp(shifted, dim=1)  # (M,): each component's mass after the bias
    return torch.softmax(log_weights + log_mass, dim=1), torch.softmax(shifted, dim=1)


def draw_levels(weights: torch.Tensor, components: torch.Tensor, n_draws: int,
                generator: torch.Generator | None = None) -> torch.Tensor:
    """``n_draws`` levels per row (B, n_draws) from the mixture ``weights @ components``: a
    component by the row's weights, then a level of it (one search in the components'
    cumulative distributions, each shifted by its index, in float64 so that rare levels keep
    their own step)."""
    n_components, n_levels = components.shape
    cdf = components.double().cumsum(dim=1)
    cdf = cdf / cdf[:, -1:] + torch.arange(n_components, device=cdf.device, dtype=torch.float64)[:, None]
    component = torch.multinomial(weights.float(), n_draws, replacement=True, generator=generator)
    u = torch.rand(weights.shape[0], n_draws, device=weights.device, dtype=torch.float64, generator=generator)
    found = torch.searchsorted(cdf.reshape(-1), component + u)
    return (found - component * n_levels).clamp_(0, n_levels - 1)
