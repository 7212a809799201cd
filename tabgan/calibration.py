"""Post-hoc calibration of the generator's one-dimensional marginals (torch-free).

A GAN learns the joint distribution roughly and each column's marginal only as well as the
critic pushes it; under differential privacy the noisy critic leaves marginals visibly off
(adult at epsilon 1: hours-per-week KS 0.44). The fitted model knows better targets: the level
frequencies the conditional sampler already uses, the share of each numeric mode (point
masses, the continuous part, missing values) and, for the quantile encoding, that a
continuous score is standard normal. Calibration moves the generator's output towards them
without retraining:

* every softmax span (categorical levels, numeric modes) gets a logit offset, fitted by
  iterative proportional fitting on pools of generated rows, and added before the level is
  drawn (a Gumbel-max draw, so the offset shifts frequencies and keeps the generator's
  per-row preferences);
* every quantile-encoded score gets a monotone map from the quantiles of the generated scores
  to those of a standard normal (in the encoding's units), which keeps the rank of every
  generated value and so every rank relation between columns;
* every continuous mode of a mode-encoded column gets the same kind of monotone map, from the
  generated positions inside the mode to the quantiles the training values have there
  (``mode_quantiles``, statistics of the table kept with the model like the mixture itself;
  under differential privacy, the quantiles of the released noisy fine histogram inside the
  mode). The generator's tanh unit spreads wider than the data, and values past a bound used
  to pile up on it when clipped (adult's fnlwgt: 2% of rows at the minimum, against 0.04% in
  the table); under DP the generator spread price evenly over its top mode (9,520 to 18,432 on
  diamonds), where the real prices crowd at the low end.

It is post-processing: the targets come from the fitted model (under DP, from its noisy
releases) and the pools from the generator, so it reads no training row and costs no privacy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.special import ndtri

from ._stats import MIN_MODE_ROWS, MODE_LEVELS
from .marginals import PairTilt

__all__ = ["Calibration", "fit_calibration", "mode_quantiles", "LEVELS", "MODE_LEVELS"]

#: Probability levels at which generated and target scores are matched.
LEVELS = (np.arange(1000) + 0.5) / 1000
#: Rows per pool, and IPF rounds over the logit offsets.
POOL_ROWS, ROUNDS = 20_000, 4
#: IPF rounds when dependency rules set levels of some columns: the rows a rule sets and the
#: offsets of the implying columns move together, and 4 rounds left a parent column's
#: frequencies visibly off (taxis' color: shape score 0.028 lower with 4 rounds, 0.005 with 8).
ROUNDS_WITH_RULES = 8
#: Offsets are kept within +-MAX_BIAS (a level the generator never draws cannot be forced).
MAX_BIAS = 8.0
#: The offset of a level or mode whose target frequency is zero (a numeric mode that no training
#: value falls in): never drawn.  Finite, for JSON.  (Unused categories are masked for every
#: level column, calibrated or not, by the synthesizer's output masks.)
NEVER = -1e4


@dataclass
class Calibration:
    """Logit offsets (one per unit of the expanded layout; 0 on tanh units) and per-score quantile maps."""

    bias: np.ndarray                                   # (width,) 0 on tanh units
    float_maps: dict = field(default_factory=dict)     # float index -> (src quantiles, dst quantiles)
    #: (float index, code column, mode) -> (src quantiles, dst quantiles), for rows in that mode
    mode_maps: dict = field(default_factory=dict)
    #: Under differential privacy, the tilt towards noisy two-way marginals (:mod:`tabgan.marginals`).
    pair_tilt: PairTilt | None = None

    def map_floats(self, floats: np.ndarray, codes: np.ndarray | None = None) -> np.ndarray:
        """Apply the score maps to ``floats`` (n, F); the in-mode maps need the rows' ``codes``."""
        if not self.float_maps and not (self.mode_maps and codes is not None):
            return floats
        out = floats.copy()
        for j, (src, dst) in self.float_maps.items():
            out[:, j] = np.interp(floats[:, j], src, dst)
        if codes is not None:
            for (j, cj, mode), (src, dst) in self.mode_maps.items():
                rows = codes[:, cj] == mode
                out[rows, j] = np.interp(floats[rows, j], src, dst)
        return out

    def get_state(self) -> dict:
        state = {"bias": [float(v) for v in self.bias],
                 "float_maps": {str(j): [list(map(float, s)), list(map(float, d))]
                                for j, (s, d) in self.float_maps.items()},
                 "mode_maps": [[int(j), int(cj), int(m), list(map(float, s)), list(map(float, d))]
                               for (j, cj, m), (s, d) in self.mode_maps.items()]}
        if self.pair_tilt is not None:
            state["pair_tilt"] = self.pair_tilt.get_state()
        return state

    @classmethod
    def from_state(cls, state: dict) -> "Calibration":
        return cls(np.asarray(state["bias"], dtype=np.float64),
                   {int(j): (np.asarray(s), np.asarray(d)) for j, (s, d) in state["float_maps"].items()},
                   {(int(j), int(cj), int(m)): (np.asarray(s), np.asarray(d))
                    for j, cj, m, s, d in state.get("mode_maps", [])},
                   PairTilt.from_state(state["pair_tilt"]) if state.get("pair_tilt") else None)


def mode_quantiles(floats: np.ndarray, codes: np.ndarray, mode_floats: dict) -> dict:
    """Quantiles (at ``MODE_LEVELS``) of the encoded positions of the training values in each
    continuous mode with at least ``MIN_MODE_ROWS`` values: ``{(float index, code column, mode): q}``.

    ``mode_floats`` maps a float index to its code column and the indices of its continuous modes.
    """
    out = {}
    for fj, (cj, modes) in mode_floats.items():
        for mode in modes:
            values = floats[codes[:, cj] == mode, fj]
            if len(values) >= MIN_MODE_ROWS:
                out[(int(fj), int(cj), int(mode))] = np.quantile(values.astype(np.float64), MODE_LEVELS)
    return out


def _monotone_map(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = np.concatenate([[True], np.diff(src) > 0])  # interp needs increasing knots
    return src[keep], dst[keep]


def fit_calibration(generate: Callable[[int, np.ndarray], tuple[np.ndarray, np.ndarray, list, list]], *, width: int,
                    code_offsets: np.ndarray, targets: list, quantile_floats: dict, q_scale: float,
                    alpha_clip: float, mode_targets: dict | None = None) -> Calibration:
    """Fit offsets and maps on pools from ``generate(n, bias) -> (floats, codes, probs, fixed)``.

    ``probs`` holds, per code column, the generator's level probabilities averaged over the
    pool: the expected frequencies, which IPF matches to the targets.  They carry no sampling
    noise of the drawn codes, which matters for wide columns (thousands of levels, a handful of
    draws each in a pool).  ``fixed`` holds, per code column, ``None`` or the frequencies (as
    shares of the pool) of the levels that dependency rules set whatever the offsets (see
    :mod:`tabgan.dependencies`); for such a column ``probs`` covers only the rows the rules
    leave free (summed, divided by the pool size), and IPF fits the offsets so that those rows
    make up the rest of the target.

    Parameters
    ----------
    targets : list
        Per code column, the target frequencies of its levels or modes (``None``: leave as is).
    quantile_floats : dict
        Float index -> code column and mode index whose rows carry a quantile score.
    mode_targets : dict, optional
        ``(float index, code column, mode) -> quantiles at MODE_LEVELS`` of the training
        positions in that mode (see :func:`mode_quantiles`).

    Notes
    -----
    A little over 60 lines: the offsets and the maps are fitted on pools of one generator in
    one order, which keeps a seeded fit reproducible.
    """
    bias = np.zeros(width)
    tracked = [(j, np.asarray(t, dtype=np.float64)) for j, t in enumerate(targets) if t is not None]
    for r in range(ROUNDS_WITH_RULES if tracked else 0):
        _, _, probs, fixed = generate(POOL_ROWS, bias)
        if r >= ROUNDS and all(f is None for f in fixed):
            break
        for j, target in tracked:
            w = len(target)
            seen = probs[j][:w]
            t = target / max(target.sum(), 1e-12)
            if fixed[j] is not None:  # only the rows the rules leave free respond to the offsets
                done = fixed[j][:w]
                if done.sum() > 1 - 1e-3:
                    continue
                seen = seen / (1 - done.sum())
                t = np.clip(t - done, 0.0, None)
                t = t / max(t.sum(), 1e-12)
            step = np.log((t + 1e-4) / (seen + 1e-4))
            off = int(code_offsets[j])
            bias[off:off + w] = np.clip(bias[off:off + w] + step, -MAX_BIAS, MAX_BIAS)
    for j, target in tracked:
        if target.sum() > 0:
            bias[int(code_offsets[j]) + np.flatnonzero(target <= 0)] = NEVER
    maps, mode_maps = {}, {}
    if quantile_floats or mode_targets:
        floats, codes, _, _ = generate(POOL_ROWS, bias)
        dst = np.clip(ndtri(LEVELS) / q_scale, -alpha_clip, alpha_clip)
        for fj, (cj, mode) in quantile_floats.items():
            scores = floats[codes[:, cj] == mode, fj]
            if len(scores) < 100:  # too few generated values to say anything
                continue
            maps[fj] = _monotone_map(np.quantile(scores, LEVELS), dst)
        for (fj, cj, mode), target in (mode_targets or {}).items():
            scores = floats[codes[:, cj] == mode, fj]
            if len(scores) < 100:
                continue
            mode_maps[(fj, cj, mode)] = _monotone_map(np.quantile(scores.astype(np.float64), MODE_LEVELS),
                                                      np.asarray(target, dtype=np.float64))
    return Calibration(bias, maps, mode_maps)
