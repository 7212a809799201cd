"""Differentially private release of what the encoders need (torch-free).

Under ``epsilon=...`` nothing the model keeps may come from the private table except
through a mechanism charged to the budget.  This module does the preprocessing part:

* the row count (Gaussian mechanism);
* per categorical column, noisy counts of its levels (Gaussian).  Levels named by public
  metadata (or ``False``/``True`` of a boolean column, or the missing level) are a fixed
  domain; levels learned from the data are released only when their noisy count clears a
  threshold (Gaussian thresholding, which adds a small ``delta``).  Rows holding a level
  that was not released are pooled into :data:`POOLED_LABEL` (or the most frequent level
  when the pool is estimated empty);
* per numeric column, a noisy histogram on a fixed power-of-two grid (missing, zero, and
  ``[2^k, 2^(k+1))`` for either sign), from which the bounds come, then a noisy histogram on
  a finer grid (each kept coarse bin cut in :data:`SUB_BINS`), from which point masses and
  mixture modes come (equal-mass intervals instead of a Gaussian mixture fitted on private
  values).

Every mechanism here is a Gaussian mechanism with L2 sensitivity 1 under adding or removing
one row, so it is ``rho``-zCDP with ``rho = 1 / (2 sigma^2)`` (plus an additive ``delta`` for
thresholded releases): the caller composes these with DP-SGD as Renyi-DP curves.

The two steps are kept apart so the model file can be traced: :func:`release` reads the
table and returns only noisy statistics; :func:`build` turns them (and the public schema)
into the schema, the encoders' state and the level frequencies without seeing the table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm

from ._stats import MIN_MODE_ROWS, MODE_LEVELS
from .schema import ColumnSpec, Schema, numeric_values
from .transformers.categorical import level_codes

__all__ = [
    "POOLED_LABEL",
    "PlannedRelease",
    "plan_releases",
    "release",
    "build",
    "private_frame",
    "gaussian_sigma",
]

#: The level that stands for every category a DP mechanism could not release.
POOLED_LABEL = "<other>"
#: Power-of-two grid of the coarse histogram: 2^K_MIN .. 2^K_MAX (values outside clamp).
K_MIN, K_MAX = -20, 64
#: Each kept coarse bin is cut into this many equal sub-bins for the fine histogram.
SUB_BINS = 8
#: An integer column's kept bin holding at most this many integers is cut one bin per integer,
#: so a common value (adult's 40 hours a week) can be released as a point mass.
MAX_INTEGER_BINS = 64
#: Most point masses an integer column made of single integers is released as (else its
#: frequent integers only are points, the rest intervals).
MAX_INTEGER_POINTS = 2 * MAX_INTEGER_BINS
#: The ends of a fine histogram are trimmed while their summed noisy count is within this many
#: noise standard deviations of zero.
TRIM_Z = 2.0
#: A noisy count is trusted above this many standard deviations of its noise.
KEEP_Z = 3.0
#: Gaussian mixture modes per numeric column (equal-mass intervals), as CTGAN's 10. Twenty
#: lifted diamonds' TSTR R^2 at epsilon 1, seed 0 (0.797 -> 0.865), but seed 1's column shapes
#: fell to 0.830, and on adult the pair selection then spent a third of its pairs on fnlwgt, a
#: column nearly unrelated to the rest (why its tables scored so high is not established;
#: benchmarks/README.md).
MAX_MODES = 10


def gaussian_sigma(rho: float, sensitivity: float = 1.0) -> float:
    """Noise standard deviation of a ``rho``-zCDP Gaussian mechanism."""
    return sensitivity / math.sqrt(2.0 * rho)


@dataclass
class PlannedRelease:
    """One mechanism on the private table, known before it runs (name, column, stage)."""

    name: str
    column: str | None
    stage: str                 # "row_count", "levels", "coarse", "fine"
    thresholded: bool = False  # releases data-derived keys, so costs an additive delta


def _public_levels(spec: ColumnSpec) -> bool:
    return spec.kind == "boolean" or bool(spec.public.get("categories"))


def plan_releases(schema: Schema) -> list[PlannedRelease]:
    """The mechanisms :func:`release` will run, in order (a function of the schema only)."""
    plan = [PlannedRelease("row count", None, "row_count")]
    for spec in schema:
        if spec.is_discrete:
            thr = not _public_levels(spec)
            what = "category set and frequencies" if thr else "level frequencies"
            plan.append(PlannedRelease(f"{spec.name}: {what}", spec.name, "levels", thresholded=thr))
        else:
            plan.append(PlannedRelease(coarse_name(spec.name), spec.name, "coarse"))
            plan.append(PlannedRelease(f"{spec.name}: modes (fine histogram)", spec.name, "fine"))
    return plan


# --------------------------------------------------------------------------- grids


def _coarse_index(x: np.ndarray) -> np.ndarray:
    """Bin of each value on the fixed grid: 0 missing, 1 zero, then positive, then negative."""
    n_k = K_MAX - K_MIN
    out = np.empty(len(x), dtype=np.int64)
    miss = np.isnan(x)
    out[miss] = 0
    zero = ~miss & (x == 0)
    out[zero] = 1
    rest = ~miss & ~zero
    k = np.clip(np.floor(np.log2(np.abs(x[rest]))), K_MIN, K_MAX - 1).astype(np.int64) - K_MIN
    out[rest] = np.where(x[rest] > 0, 2 + k, 2 + n_k + k)
    return out


def _coarse_edges(b: int) -> tuple[float, float]:
    """Value interval [lo, hi) of coarse bin ``b`` (``b >= 1``)."""
    if b == 1:
        return 0.0, 0.0
    n_k = K_MAX - K_MIN
    if b < 2 + n_k:
        k = b - 2 + K_MIN
        lo = 0.0 if k == K_MIN else 2.0 ** k
        return lo, 2.0 ** (k + 1)
    k = b - 2 - n_k + K_MIN
    hi = 0.0 if k == K_MIN else -(2.0 ** k)
    return -(2.0 ** (k + 1)), hi


def _fine_grid(coarse_counts: np.ndarray, sigma: float, spec: ColumnSpec) -> tuple[list, np.ndarray]:
    """From the noisy coarse histogram: kept value bins and the edges of the fine grid.

    Returns ``(points, edges)``: candidate point masses (0 when the zero bin is kept) and the
    sorted edges of the fine sub-bins (empty when nothing but point masses is kept).
    Post-processing only.
    """
    keep = coarse_counts > KEEP_Z * sigma
    keep[0] = False  # the missing bin holds no values
    if not keep[1:].any():  # nothing clears the noise: keep the fullest bin
        keep[1 + int(np.argmax(coarse_counts[1:]))] = True
    points = [0.0] if keep[1] else []
    intervals = sorted(_coarse_edges(b) for b in np.flatnonzero(keep) if b >= 2)
    edges = []
    for lo, hi in intervals:
        if spec.public.get("bounds"):
            lo, hi = max(lo, spec.min), min(hi, spec.max)
            if hi <= lo:
                continue
        edges.append(_sub_edges(lo, hi, spec))
    if not edges and not points and spec.public.get("bounds") and spec.max > spec.min:
        edges.append(_sub_edges(spec.min, spec.max, spec))
    return points, edges


def _sub_edges(lo: float, hi: float, spec: ColumnSpec) -> np.ndarray:
    """Edges of the fine sub-bins of ``[lo, hi)``: one per integer for a narrow integer bin,
    else :data:`SUB_BINS` equal ones."""
    if spec.kind == "integer":
        first, last = math.ceil(lo), math.ceil(hi) - 1  # integers in [lo, hi)
        if 0 <= last - first < MAX_INTEGER_BINS:
            return np.arange(first, last + 2, dtype=np.float64)
    return np.linspace(lo, hi, SUB_BINS + 1)


# --------------------------------------------------------------------------- release


def _noisy(counts: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    return counts.astype(np.float64) + rng.normal(0.0, sigma, size=counts.shape)


def _level_keys(spec: ColumnSpec) -> list:
    return list(spec.categories or [])


def _level_codes(series: pd.Series, keys: list) -> np.ndarray:
    """Index of each value among ``keys``; ``len(keys)`` for missing, -1 for other values."""
    codes = level_codes(series, keys, boolean=bool(keys) and all(isinstance(k, bool) for k in keys))
    return np.where(series.isna().to_numpy(), len(keys), codes)


def release(data: pd.DataFrame, schema: Schema, rho: dict[str, float], delta_threshold: float,
            rng: np.random.Generator) -> dict:
    """Run every planned mechanism on ``data``; return the noisy statistics only.

    Parameters
    ----------
    data : DataFrame
        The private table (read, never modified).
    schema : Schema
        Column kinds and *public* facts; data-derived ``categories`` of a non-public column
        are the candidate keys of its thresholded release (never kept unless released).
    rho : dict
        zCDP parameter of each planned mechanism, by name (see :func:`plan_releases`).
    delta_threshold : float
        Additive delta allowed to each thresholded (data-derived keys) release.
    rng : numpy Generator
        Source of the noise.

    Returns
    -------
    dict
        ``{"row_count": float, "columns": {name: {...}}, "sigma": {mechanism: sigma}}``:
        JSON-able noisy counts, their keys (released ones only) and grids.

    Notes
    -----
    Longer than 60 lines on purpose: every mechanism draws from ``rng`` in a fixed order, and
    one function in that order is what lets a reader check that each release is charged once,
    with the noise the ledger states.
    """
    out: dict = {"columns": {}, "sigma": {}, "thresholds": {}}
    for planned in plan_releases(schema):
        sigma = gaussian_sigma(rho[planned.name])
        out["sigma"][planned.name] = sigma
        if planned.stage == "row_count":
            out["row_count"] = float(len(data) + rng.normal(0.0, sigma))
            continue
        spec = schema[planned.column]
        series = data[spec.name]
        col = out["columns"].setdefault(spec.name, {})
        if planned.stage == "levels":
            keys = _level_keys(spec)
            codes = _level_codes(series, keys)
            counts = np.bincount(codes[codes >= 0], minlength=len(keys) + 1)
            noisy = _noisy(counts, sigma, rng)
            col["missing_count"] = float(noisy[-1])
            if planned.thresholded:
                # Keys seen in the data are released only above tau: a key held by one row
                # clears it with probability at most delta_threshold.
                tau = 1.0 + sigma * float(norm.isf(delta_threshold))
                out["thresholds"][planned.name] = tau
                kept = [i for i in range(len(keys)) if noisy[i] > tau]
                col["keys"] = [keys[i] for i in kept]
                col["counts"] = [float(noisy[i]) for i in kept]
            else:
                col["keys"] = keys
                col["counts"] = [float(v) for v in noisy[:-1]]
        elif planned.stage == "coarse":
            x = numeric_values(series, spec)
            counts = np.bincount(_coarse_index(x), minlength=2 + 2 * (K_MAX - K_MIN))
            col["coarse"] = [float(v) for v in _noisy(counts, sigma, rng)]
        else:
            coarse_sigma = out["sigma"][coarse_name(spec.name)]
            points, edges = _fine_grid(np.asarray(col["coarse"]), coarse_sigma, spec)
            x = numeric_values(series, spec)
            x = x[~np.isnan(x)]
            point_counts = np.asarray([(x == p).sum() for p in points], dtype=np.int64)
            rest = x[~np.isin(x, points)] if points else x
            # A value outside every kept interval is counted in the nearest one (clipped), as
            # the encoder clips it: one row still lands in exactly one bin.
            bin_counts = _fine_counts(rest, edges) if edges else np.zeros(0, np.int64)
            noisy = _noisy(np.concatenate([point_counts, bin_counts]), sigma, rng)
            col["points"] = points
            col["point_counts"] = [float(v) for v in noisy[: len(points)]]
            col["edges"] = [[float(v) for v in e] for e in edges]
            col["bin_counts"] = [float(v) for v in noisy[len(points):]]
    return out


def coarse_name(column: str) -> str:
    return f"{column}: missing rate and bounds (coarse histogram)"


def _fine_counts(values: np.ndarray, edges: list[np.ndarray]) -> np.ndarray:
    """Counts on the concatenated fine grid; each value in exactly one sub-bin (the nearest
    interval's, clipped, when it falls in a gap or outside)."""
    starts = np.asarray([e[0] for e in edges])
    ends = np.asarray([e[-1] for e in edges])
    sizes = np.asarray([len(e) - 1 for e in edges])
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    counts = np.zeros(int(offsets[-1]), dtype=np.int64)
    if len(values) == 0:
        return counts
    # Nearest interval: distance 0 inside, else to the closer end.
    dist = np.maximum(starts[None, :] - values[:, None], 0) + np.maximum(values[:, None] - ends[None, :], 0)
    which = dist.argmin(axis=1)
    for i, e in enumerate(edges):  # one vectorised pass per interval (a few dozen at most)
        v = values[which == i]
        sub = np.clip(np.searchsorted(e, v, side="right") - 1, 0, sizes[i] - 1)
        counts[offsets[i]: offsets[i + 1]] += np.bincount(sub, minlength=sizes[i])
    return counts


# --------------------------------------------------------------------------- build (post-processing)


@dataclass
class Built:
    """What :func:`build` derives from a release: no value in it was read from the table."""

    schema: Schema
    transformer_state: dict
    level_probs: list[np.ndarray]
    row_count: float
    #: per categorical column, the level that rows holding an unreleased value are mapped to
    fallback: dict = field(default_factory=dict)


def _datetime_step(spec: ColumnSpec) -> float:
    fmt = spec.datetime_format or ""
    if fmt and not any(code in fmt for code in ("%H", "%I", "%M", "%S", "%f")):
        return 86_400e9
    return 1e9


def _pooled_label(keys: list) -> str:
    label = POOLED_LABEL
    while label in keys:
        label += "_"
    return label


def _build_levels(spec: ColumnSpec, col: dict, sigma: float, n_hat: float, nullable_public: bool,
                  thresholded: bool) -> tuple[ColumnSpec, dict, np.ndarray, object]:
    keys = list(col["keys"])
    counts = [max(c, 0.0) for c in col["counts"]]
    missing = max(col["missing_count"], 0.0)
    nullable = nullable_public or missing > KEEP_Z * sigma
    fallback = keys[int(np.argmax(counts))] if keys else None
    if thresholded:
        pooled = n_hat - sum(counts) - missing
        if pooled > KEEP_Z * sigma or not keys:
            fallback = _pooled_label(keys)
            keys.append(fallback)
            counts.append(max(pooled, 1.0))
    probs = np.asarray(counts + ([missing] if nullable else []), dtype=np.float64)
    probs = probs / probs.sum() if probs.sum() > 0 else np.full(len(probs), 1.0 / len(probs))
    new = ColumnSpec.from_dict({**spec.to_dict(), "categories": keys, "nullable": bool(nullable)})
    return new, {"missing_level": bool(nullable)}, probs, fallback


def _equal_mass_modes(lefts: np.ndarray, rights: np.ndarray, mass: np.ndarray, k: int):
    """``k`` intervals holding equal shares of the (noisy) mass on the given bins."""
    cdf = np.concatenate([[0.0], np.cumsum(mass)])
    total = cdf[-1]
    cuts = [float(lefts[0])]
    for j in range(1, k):
        target = total * j / k
        i = int(np.searchsorted(cdf, target, side="right") - 1)
        i = min(max(i, 0), len(mass) - 1)
        frac = (target - cdf[i]) / mass[i] if mass[i] > 0 else 0.0
        cuts.append(float(lefts[i] + frac * (rights[i] - lefts[i])))
    cuts.append(float(rights[-1]))
    cuts = np.maximum.accumulate(np.asarray(cuts))
    return [(cuts[j], cuts[j + 1]) for j in range(k) if cuts[j + 1] > cuts[j]]


def _in_mode_quantiles(lefts: np.ndarray, rights: np.ndarray, mass: np.ndarray, intervals: list) -> list:
    """Per interval (mode), the quantiles at ``MODE_LEVELS`` of the noisy fine histogram's mass
    inside it, spread evenly over each sub-bin, in the mode's position units (``-1`` at its left
    end, ``1`` at its right); ``[]`` for a mode holding less than ``MIN_MODE_ROWS`` of noisy mass.
    The calibration maps the generator's positions in the mode onto them (post-processing, as
    the quantiles of the training positions are without DP)."""
    out = []
    for a, b in intervals:
        lo, hi = np.clip(lefts, a, b), np.clip(rights, a, b)
        share = np.where(rights > lefts, (hi - lo) / np.maximum(rights - lefts, 1e-300), 0.0)
        m = mass * share
        keep = (hi > lo) & (m > 0)
        if m[keep].sum() < MIN_MODE_ROWS or b <= a:
            out.append([])
            continue
        order = np.argsort(lo[keep], kind="stable")
        lo, hi, m = lo[keep][order], hi[keep][order], m[keep][order]
        ends = np.cumsum(m)
        x = np.ravel(np.column_stack([lo, hi]))
        c = np.ravel(np.column_stack([ends - m, ends]))
        c = c + np.linspace(0.0, 1e-9 * ends[-1], len(c))  # strictly increasing, so it inverts
        q = np.interp(np.asarray(MODE_LEVELS) * c[-1], c, x)
        out.append([float(v) for v in np.clip((q - (a + b) / 2.0) / ((b - a) / 2.0), -1.0, 1.0)])
    return out


def _empty_ends(raw: np.ndarray, sigma: float) -> tuple[int, int]:
    """``[first, last)`` of the bins kept after trimming each end: the longest run of end bins
    whose summed (unclipped, so unbiased) noisy count stays within TRIM_Z noise std of zero.
    Post-processing; one pass per end."""
    def run(counts: np.ndarray) -> int:
        sums = np.cumsum(counts)
        over = np.flatnonzero(sums > TRIM_Z * sigma * np.sqrt(np.arange(1, len(counts) + 1)))
        return int(over[0]) if len(over) else len(counts)
    first = run(raw)
    last = len(raw) - run(raw[::-1])
    return (first, last) if last > first else (0, len(raw))


def _quantile_state(lefts: np.ndarray, rights: np.ndarray, mass: np.ndarray, center: float, scale: float) -> dict:
    """The quantile encoding's piecewise-linear CDF from the noisy fine histogram: knots at the
    bin edges, uniform mass inside each bin, none across gaps (see ``NumericTransformer``)."""
    knots = np.unique(np.concatenate([lefts, rights]))
    cum = np.concatenate([[0.0], np.cumsum(mass)])
    # Mass below each knot: the bins whose right edge is at or below it.
    below = cum[np.searchsorted(np.sort(rights), knots, side="right")]
    below = below + 1e-6 * cum[-1] * np.arange(len(knots)) / max(len(knots) - 1, 1)  # strictly increasing
    return {"means": [], "stds": [], "weights": [], "half_widths": [],
            "knots": [float(v) for v in (knots - center) / scale], "cdf": [float(v) for v in below / below[-1]]}


def _build_numeric(spec: ColumnSpec, col: dict, sigma_coarse: float, sigma_fine: float, nullable_public: bool,
                   point_mass_share: float, encoding: str = "modes") -> tuple[ColumnSpec, dict]:
    """A numeric column's spec and encoder state from its noisy histograms alone (bounds, point
    masses, missing level, mixture modes or quantile knots). Longer than 60 lines: the steps
    share the clipped, noisy counts, and kept in one place they read as one post-processing."""
    coarse = np.asarray(col["coarse"])
    nullable = nullable_public or coarse[0] > KEEP_Z * sigma_coarse
    points_c = list(col["points"])
    point_counts = [max(v, 0.0) for v in col["point_counts"]]
    edges = [np.asarray(e) for e in col["edges"]]
    lefts = np.concatenate([e[:-1] for e in edges]) if edges else np.zeros(0)
    rights = np.concatenate([e[1:] for e in edges]) if edges else np.zeros(0)
    raw = np.asarray(col["bin_counts"], dtype=np.float64)  # unclipped: unbiased, used for sums
    mass = np.maximum(raw, 0.0)
    points, pmass = list(points_c), list(point_counts)
    if spec.kind == "integer" and len(lefts):
        ints = np.ceil(lefts)
        single = (ints < rights) & (ints + 1 >= rights)  # sub-bins holding exactly one integer
        kept = mass > KEEP_Z * sigma_fine
        total = mass.sum() + sum(pmass)
        # Between the trimmed ends (never inside the bins above the noise), every sub-bin.
        first, last = _empty_ends(raw, sigma_fine)
        on = np.flatnonzero(kept)
        inside = np.zeros(len(raw), dtype=bool)
        inside[min(first, on[0]) if len(on) else first: max(last, on[-1] + 1) if len(on) else last] = True
        # The bins above the noise are all single integers: a column of integers. Every integer
        # between the ends is a point mass, those under the noise too (with their clipped noisy
        # count), so a tail of rare values (adult's oldest ages) is kept, not dropped.
        exact = bool(kept.any() and single[kept].all() and (single & inside).sum() <= MAX_INTEGER_POINTS)
        if exact:
            as_point = single & inside
        else:
            as_point = single & (mass >= point_mass_share * max(total, 1e-12)) & kept
        points += [float(v) for v in ints[as_point]]
        pmass += [float(v) for v in mass[as_point]]
        keep_bins = inside & ~as_point if exact else ~as_point
        lefts, rights, mass, raw = (v[keep_bins] for v in (lefts, rights, mass, raw))
    if len(mass):  # trim the empty ends of the grid, so the bounds hug the data
        first, last = _empty_ends(raw, sigma_fine)
        lefts, rights, mass = (v[first:last] for v in (lefts, rights, mass))
    lo_all = [*points, *(lefts[:1] if len(lefts) else [])]
    hi_all = [*points, *(rights[-1:] if len(rights) else [])]
    lo = float(min(lo_all)) if lo_all else 0.0
    hi = float(max(hi_all)) if hi_all else 1.0
    if spec.public.get("bounds"):
        lo, hi = float(spec.min), float(spec.max)
    center = (lo + hi) / 2.0
    scale = (hi - lo) / 2.0 if hi > lo else 1.0
    intervals = []
    if len(mass) and mass.sum() > 0:
        k = int(min(MAX_MODES, max(1, (mass > 0).sum())))
        intervals = _equal_mass_modes(lefts, rights, mass, k)
    elif not points:
        intervals = [(lo, hi if hi > lo else lo + 1.0)]
    share = np.asarray([mass.sum() / max(len(intervals), 1)] * len(intervals)) if len(mass) else \
        np.ones(len(intervals))
    order = np.argsort(points, kind="stable")
    state = {
        "center": center,
        "scale": scale,
        "points": [(points[i] - center) / scale for i in order],
        "means": [((a + b) / 2.0 - center) / scale for a, b in intervals],
        "stds": [max((b - a) / 4.0 / scale, 1e-6) for a, b in intervals],
        "weights": [float(w) for w in (share / share.sum() if share.sum() > 0 else share)],
        "half_widths": [max((b - a) / 2.0 / scale, 1e-6) for a, b in intervals],
        "step": {"integer": 1.0, "datetime": _datetime_step(spec)}.get(spec.kind, 0.0),
        "missing_mode": bool(nullable),
        "encoding": encoding, "knots": [], "cdf": [],
        "mode_quantiles": _in_mode_quantiles(lefts, rights, mass, intervals) if len(mass) else [[]] * len(intervals),
    }
    cont = [float(v) for v in share]
    if encoding == "quantile" and intervals and len(mass) and mass.sum() > 0:
        state.update(_quantile_state(lefts, rights, mass, center, scale), mode_quantiles=[])
        cont = [float(mass.sum())]
    # Target share of each mode (points, continuous part, missing), for the calibration.
    modes = [pmass[i] for i in order] + cont + ([max(float(coarse[0]), 0.0)] if nullable else [])
    total = sum(modes)
    state["mode_probs"] = [m / total for m in modes] if total > 0 else [1.0 / len(modes)] * len(modes)
    new = ColumnSpec.from_dict({**spec.to_dict(), "min": lo, "max": hi, "nullable": bool(nullable)})
    return new, state


def build(rel: dict, schema: Schema, *, nullable_public: set | frozenset = frozenset(),
          point_mass_share: float = 0.05, numeric_encoding: str = "modes") -> Built:
    """Schema, encoder state and level frequencies from a :func:`release` and public facts.

    ``schema`` supplies only what is public (names, kinds, dtypes, formats, and the
    categories/bounds that ``ColumnSpec.public`` marks as metadata); everything else comes
    from ``rel``. The table is not an argument: this is post-processing.
    """
    n_hat = max(float(rel["row_count"]), 1.0)
    specs, states, level_probs, fallback = [], [], [], {}
    plan = {p.name: p for p in plan_releases(schema)}
    for spec in schema:
        col = rel["columns"][spec.name]
        public_null = spec.name in nullable_public
        if spec.is_discrete:
            name = next(p for p in plan.values() if p.column == spec.name and p.stage == "levels").name
            new, state, probs, fb = _build_levels(spec, col, rel["sigma"][name], n_hat, public_null,
                                                  plan[name].thresholded)
            level_probs.append(probs)
            fallback[spec.name] = fb
        else:
            fine = next(p for p in plan.values() if p.column == spec.name and p.stage == "fine").name
            new, state = _build_numeric(spec, col, rel["sigma"][coarse_name(spec.name)], rel["sigma"][fine],
                                        public_null, point_mass_share, numeric_encoding)
        specs.append(new)
        states.append(state)
    transformer_state = {"max_fit_rows": 0, "point_mass_share": point_mass_share,
                         "numeric_encoding": numeric_encoding, "columns": states}
    # Neither the declared hierarchies (refused under DP) nor the metadata's target (its extra
    # condition draws are not measured under DP) are carried: the private fit and the model
    # file it saves know neither.
    return Built(Schema(specs), transformer_state, level_probs, n_hat, fallback)


def private_frame(data: pd.DataFrame, built: Built) -> pd.DataFrame:
    """A copy of ``data`` whose unreleased category values are replaced, row by row, by the
    pooled level (or the most frequent released level), so the encoders see known levels only.

    A missing value in a discrete column that the releases (or the public metadata) give no
    missing level becomes the column's first level: the missing share was released as (about)
    zero, so the model has no level for it.
    """
    out = data.copy()
    for spec in built.schema:
        if not spec.is_discrete:
            continue
        if spec.kind != "boolean" and not spec.public.get("categories"):
            s = out[spec.name].astype("object") if isinstance(out[spec.name].dtype, pd.CategoricalDtype) \
                else out[spec.name]
            known = _level_codes(s, list(spec.categories)) >= 0
            out[spec.name] = s.where(known, built.fallback[spec.name]) if not known.all() else s
        missing = out[spec.name].isna()
        if not spec.nullable and spec.categories and missing.any():
            out[spec.name] = out[spec.name].where(~missing, spec.categories[0])
    return out
