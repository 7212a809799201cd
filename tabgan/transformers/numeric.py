"""Mode-specific normalisation for continuous, integer and datetime columns.

A column is described by a set of *modes*:

* point masses: values that hold a large share of the rows (adult's capital-gain is 92% zeros;
  an integer column with a handful of distinct values is all point masses). They are
  reproduced exactly instead of being smeared by a Gaussian, which is what distorts CTGAN's
  marginals on zero-inflated columns;
* Gaussian components of a variational mixture (Xu et al. 2019) fitted on a bounded random
  subsample of the remaining values;
* a missing-value mode when the column can be missing, so the missing rate round-trips.

A value is encoded as ``(alpha, mode)``: the mode index (a one-hot span) and its position
inside the mode, ``alpha = (x - mean) / (4 * std)`` clipped to (-1, 1) (``tanh`` span).
"""

from __future__ import annotations


import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from ..schema import ColumnSpec, numeric_values
from .base import Span, restore_dtype
from .mixture import fit_dp_mixture

__all__ = ["NumericTransformer"]

#: A mode-encoded position is clipped to this inside (-1, 1) (tanh outputs never reach the ends).
ALPHA_CLIP = 0.99
#: ``"modes"``: CTGAN's mode-specific normalisation; ``"quantile"``: one Gaussianised scalar.
ENCODINGS = ("modes", "quantile")
#: What ``Synthesizer(numeric_encoding=...)`` accepts: a column's encoding, or ``"auto"``
#: (the table transformer decides per column).
TABLE_ENCODINGS = ("auto", "modes", "quantile")
#: Quantile encoding: the generator's tanh unit times this is the standard-normal score.
Q_SCALE = 4.5
#: A continuous column of at most ``max_discrete_values`` distinct values is encoded as point
#: masses only when it has at least this many rows per distinct value.
MIN_ROWS_PER_VALUE = 10
#: Quantile encoding: at most this many CDF knots, and at least this many rows per knot.
MAX_KNOTS, ROWS_PER_KNOT, MIN_KNOTS = 512, 20, 8


class NumericTransformer:
    """Encode one numeric (continuous, integer or datetime) column.

    Parameters
    ----------
    spec : ColumnSpec
    max_modes : int
        Upper bound on Gaussian components (CTGAN uses 10).
    max_fit_rows : int
        The mixture is fitted on at most this many randomly chosen values: the cost of a
        variational mixture grows linearly with rows and 10k values pin down 10 modes well.
    point_mass_share : float
        A value holding at least this share of the non-missing rows becomes a point mass.
    max_discrete_values : int
        An integer column with at most this many distinct values is encoded as point masses
        only, i.e. exactly; so is a continuous one with at least ``MIN_ROWS_PER_VALUE`` rows per
        distinct value.
    """

    def __init__(self, spec: ColumnSpec, *, max_modes: int = 10, max_fit_rows: int = 10_000,
                 point_mass_share: float = 0.05, max_discrete_values: int = 32, encoding: str = "modes"):
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")
        self.spec = spec
        self.encoding = encoding
        self.max_modes = max_modes
        self.max_fit_rows = max_fit_rows
        self.point_mass_share = point_mass_share
        self.max_discrete_values = max_discrete_values

    # ----------------------------------------------------------------- fit
    def fit(self, series: pd.Series, rng: np.random.Generator) -> "NumericTransformer":
        x = numeric_values(series, self.spec)
        finite = x[~np.isnan(x)]
        # Divide by the largest magnitude first: mean and std of values near 1e300 would
        # overflow (x**2) and make every generated value NaN (issue 6).
        big = float(np.abs(finite).max()) if len(finite) else 0.0
        big = big if big > 1e150 else 1.0
        self.center_ = float(np.mean(finite / big) * big)
        scale = float(np.std(finite / big) * big)
        self.scale_ = scale if scale > 0 else 1.0
        z = (finite - self.center_) / self.scale_
        raw, counts = np.unique(finite, return_counts=True)
        values = (raw - self.center_) / self.scale_  # each one as ``z`` computes it
        if self._few_values(len(values), len(finite)) or len(values) == 1:
            keep = np.arange(len(values))
        else:
            share = counts / counts.sum()
            order = np.argsort(-share, kind="stable")
            keep = np.sort(order[share[order] >= self.point_mass_share][: self.max_modes])
        points = values[keep]
        self.points_ = [float(p) for p in points]
        # A point mass decodes to the very value seen (z * scale + center is off by a unit in
        # the last place for some values, which a detector's exact thresholds tell apart).
        self.point_values_ = [float(v) for v in raw[keep]]
        residual = z[~np.isin(z, points)]
        means, stds, weights = self._fit_mixture(residual, rng)
        self.means_ = means
        self.stds_ = stds
        self.weights_ = weights
        # Half-width of each mode: 4 std as in CTGAN, widened so that every training value
        # assigned to the mode by maximum posterior is representable (CTGAN clips outliers).
        self.half_widths_ = [4 * sd for sd in stds]
        if means and len(residual):
            k = self._map_modes(residual)
            dev = np.abs(residual - np.asarray(means)[k])
            for j in range(len(means)):
                if (k == j).any():
                    self.half_widths_[j] = float(max(self.half_widths_[j], dev[k == j].max() / (ALPHA_CLIP - 0.005)))
        self.step_ = self._resolution(finite)
        self.has_missing_mode_ = bool(self.spec.nullable)
        self.encoding_ = self.encoding
        self.knots_, self.cdf_ = [], []
        self.mode_probs_ = None  # set from DP releases only; a plain fit counts the encoded modes
        self.mode_quantiles_ = []  # DP releases only: per continuous mode, its released in-mode quantiles
        if self.encoding == "quantile" and means:
            self._fit_quantile(residual, rng)
        return self

    def _few_values(self, distinct: int, rows: int) -> bool:
        """Whether the column is encoded as point masses only (exactly): an integer column of
        at most ``max_discrete_values`` distinct values, or a continuous one whose values also
        repeat (``MIN_ROWS_PER_VALUE`` rows each on average: a measurement on a coarse grid, a
        log of a count); a continuous column of a few distinct rows stays a mixture."""
        if distinct > self.max_discrete_values or self.spec.kind not in ("integer", "continuous"):
            return False
        return self.spec.kind == "integer" or rows >= MIN_ROWS_PER_VALUE * distinct

    def _fit_quantile(self, residual: np.ndarray, rng: np.random.Generator) -> None:
        """Knots of a piecewise-linear CDF of the non-point values.

        The knots are equal-mass points of the fitted mixture between the schema's bounds (no
        training value is stored), and the CDF at each knot is the share of values below it
        (counts, with the values dequantised over their grid step).  At most one knot per
        ``ROWS_PER_KNOT`` values, so a small table is described coarsely."""
        lo = (float(self.spec.min) - self.center_) / self.scale_
        hi = (float(self.spec.max) - self.center_) / self.scale_
        if not hi > lo:
            hi = lo + 1e-9
        grid = np.linspace(lo, hi, 8193)
        means, stds, weights = (np.asarray(v) for v in (self.means_, self.stds_, self.weights_))
        mix = (weights * ndtr((grid[:, None] - means) / stds)).sum(axis=1)
        mix = (mix - mix[0]) / max(mix[-1] - mix[0], 1e-300)
        k = int(np.clip(len(residual) // ROWS_PER_KNOT, MIN_KNOTS, MAX_KNOTS))
        knots = np.unique(np.interp(np.linspace(0.0, 1.0, k + 1), mix + np.linspace(0, 1e-9, len(mix)), grid))
        knots[0], knots[-1] = lo, hi
        z = self._dequantise(residual, rng)
        counts = np.bincount(np.searchsorted(knots, z, side="left").clip(1, len(knots) - 1) - 1,
                             minlength=len(knots) - 1).astype(float)
        # A whisper of uniform mass keeps the CDF strictly increasing (so it inverts).
        counts += 1e-6 * max(counts.sum(), 1.0) / len(counts)
        cdf = np.concatenate([[0.0], np.cumsum(counts)]) / counts.sum()
        self.knots_ = [float(v) for v in knots]
        self.cdf_ = [float(v) for v in cdf]
        # The mixture only placed the knots: it is not kept (the CDF is the continuous mode).
        self.means_, self.stds_, self.weights_, self.half_widths_ = [], [], [], []

    def _dequantise(self, z: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Spread values that lie on a grid uniformly over their grid cell (in z units)."""
        if self.step_ > 0:
            return z + (rng.random(len(z)) - 0.5) * (self.step_ / self.scale_)
        return z

    def _map_modes(self, z: np.ndarray) -> np.ndarray:
        means, stds, weights = (np.asarray(v) for v in (self.means_, self.stds_, self.weights_))
        logp = np.log(weights) - np.log(stds) - 0.5 * ((z[:, None] - means) / stds) ** 2
        return logp.argmax(axis=1)

    def _resolution(self, finite: np.ndarray) -> float:
        """The grid the observed values lie on (1 day, 1 s, 0.01, ...), so generated values
        land on it too; 0 when there is none. A value is on a grid of ``10**-d`` when it is
        within the rounding error of its dtype (float32: about 1e-7 relative, float64: 1e-16)
        of a multiple: a looser test put MedExp's 9.967326 on a grid of 1e-5 (the other values
        of that column have 5 decimals), and every generated 9.967326 came out as 9.96733."""
        if self.spec.kind == "integer":
            return 1.0
        sample = finite[: 100_000]
        if np.abs(sample).max(initial=0.0) > 1e150:
            return 0.0  # no decimal grid at such magnitudes (and x * 10**d would overflow)
        if self.spec.kind == "datetime":
            for unit in (86_400e9, 3_600e9, 60e9, 1e9, 1e6, 1e3, 1.0):
                if np.all(np.mod(sample, unit) == 0):
                    return unit
            return 1.0
        tolerance = 1e-6 if self.spec.dtype.lower() == "float32" else 1e-9  # float32 or Float32
        for decimals in range(0, 7):
            scaled = sample * 10.0 ** decimals
            on_grid = np.abs(scaled - np.round(scaled)) < tolerance * np.maximum(1.0, np.abs(scaled))
            # ... and no non-zero value rounds to 0 (values like 1e-300 have no decimal grid).
            if np.all(on_grid & ((np.round(scaled) != 0) | (sample == 0))):
                return 10.0 ** -decimals
        return 0.0

    def _fit_mixture(self, residual: np.ndarray, rng: np.random.Generator):
        if len(residual) == 0:
            return [], [], []
        n_unique = len(np.unique(residual[: 5000]))
        if len(residual) < 20 or n_unique < 3:
            std = float(np.std(residual)) or 1e-3
            return [float(np.mean(residual))], [max(std, 1e-3)], [1.0]
        if len(residual) > self.max_fit_rows:
            residual = rng.choice(residual, self.max_fit_rows, replace=False)
        n_components = int(min(self.max_modes, n_unique))
        # scikit-learn's BayesianGaussianMixture with these settings, specialised to one column
        # (same results to rounding, several times faster; see tabgan.transformers.mixture).
        means, variances, weights = fit_dp_mixture(residual, n_components, weight_concentration_prior=1e-3,
                                                   max_iter=100, random_state=int(rng.integers(0, 2**31 - 1)))
        keep = weights > 0.005
        if not keep.any():
            keep = weights >= weights.max()
        means = means[keep]
        stds = np.sqrt(variances[keep])
        weights = weights[keep] / weights[keep].sum()
        order = np.argsort(means)
        return ([float(v) for v in means[order]], [float(max(v, 1e-3)) for v in stds[order]],
                [float(v) for v in weights[order]])

    # ----------------------------------------------------------------- layout
    @property
    def n_continuous(self) -> int:
        """Modes of the non-point values: one CDF (quantile encoding) or the mixture's."""
        return 1 if self.knots_ else len(self.means_)

    @property
    def n_modes(self) -> int:
        return len(self.points_) + self.n_continuous + int(self.has_missing_mode_)

    @property
    def spans(self) -> list[Span]:
        return [Span(self.spec.name, 1, "tanh"), Span(self.spec.name, self.n_modes, "softmax")]

    # ----------------------------------------------------------------- transform
    def transform(self, series: pd.Series, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Return ``alpha`` of shape (n, 1) float32 and ``mode`` of shape (n, 1) int64."""
        x = numeric_values(series, self.spec)
        n = len(x)
        missing = np.isnan(x)
        z = (np.where(missing, self.center_, x) - self.center_) / self.scale_
        alpha = np.zeros(n, dtype=np.float64)
        mode = np.zeros(n, dtype=np.int64)
        n_points = len(self.points_)
        is_point = np.zeros(n, dtype=bool)
        if n_points:
            points = np.asarray(self.points_)
            idx = np.searchsorted(points, z).clip(0, n_points - 1)
            is_point = (points[idx] == z) & ~missing
            mode[is_point] = idx[is_point]
        rest = ~is_point & ~missing
        if rest.any():
            if self.knots_:
                cdf = np.interp(self._dequantise(z[rest], rng), self.knots_, self.cdf_)
                u = ndtri(np.clip(cdf, 1e-6, 1 - 1e-6))
                alpha[rest] = np.clip(u / Q_SCALE, -ALPHA_CLIP, ALPHA_CLIP)
                mode[rest] = n_points
            elif not self.means_:
                # Unseen non-point value (possible only for data other than the fitted one):
                # map it to the nearest point mass.
                points = np.asarray(self.points_)
                mode[rest] = np.abs(z[rest, None] - points[None, :]).argmin(axis=1)
            else:
                means = np.asarray(self.means_)
                stds = np.asarray(self.stds_)
                weights = np.asarray(self.weights_)
                zr = z[rest]
                # Sample each value's mode from its posterior (as CTGAN does) with one uniform
                # draw per row and a cumulative sum, not a per-row loop.
                logp = np.log(weights) - np.log(stds) - 0.5 * ((zr[:, None] - means) / stds) ** 2
                logp -= logp.max(axis=1, keepdims=True)
                p = np.exp(logp)
                cdf = np.cumsum(p, axis=1)
                u = rng.random(len(zr)) * cdf[:, -1]
                k = (cdf < u[:, None]).sum(axis=1).clip(0, len(means) - 1)
                half = np.asarray(self.half_widths_)
                a = (zr - means[k]) / half[k]
                # A value its sampled mode cannot represent goes to its most likely mode.
                far = np.abs(a) > ALPHA_CLIP
                if far.any():
                    k[far] = self._map_modes(zr[far])
                    a[far] = (zr[far] - means[k[far]]) / half[k[far]]
                alpha[rest] = np.clip(a, -ALPHA_CLIP, ALPHA_CLIP)
                mode[rest] = n_points + k
        if self.has_missing_mode_:
            mode[missing] = self.n_modes - 1
        return alpha.astype(np.float32)[:, None], mode[:, None]

    def inverse_transform(self, alpha: np.ndarray, mode: np.ndarray) -> pd.Series:
        alpha = np.asarray(alpha, dtype=np.float64).reshape(-1)
        mode = np.asarray(mode, dtype=np.int64).reshape(-1)
        n_points = len(self.points_)
        n_cont = self.n_continuous
        # Mode centres and half-widths; the quantile encoding's one mode is decoded below.
        means, halves = (self.means_, self.half_widths_) if not self.knots_ else ([0.0], [0.0])
        center = np.concatenate([np.asarray(self.points_, dtype=float), np.asarray(means, dtype=float),
                                 [0.0] * int(self.has_missing_mode_)])
        width = np.concatenate([np.zeros(n_points), np.asarray(halves, dtype=float),
                                [0.0] * int(self.has_missing_mode_)])
        z = center[mode] + np.clip(alpha, -1, 1) * width[mode]
        if self.knots_:
            cont = mode == n_points
            z[cont] = np.interp(ndtr(Q_SCALE * np.clip(alpha[cont], -1, 1)), self.cdf_, self.knots_)
        with np.errstate(over="ignore"):  # near the float64 limit: +-inf, clipped to the range below
            x = z * self.scale_ + self.center_
        lo, hi = self.spec.min, self.spec.max
        if 0 < self.step_ < 1:
            # k / 10**d is the double a CSV's decimal parses to; k * 10**-d is not always.
            per_unit = float(round(1.0 / self.step_))
            x = np.round(x * per_unit) / per_unit
        elif self.step_ > 0:
            x = np.round(x / self.step_) * self.step_
        if self.point_values_ is not None and n_points:
            exact = mode < n_points
            x[exact] = np.asarray(self.point_values_)[mode[exact]]
        x = np.clip(x, lo, hi)
        if self.has_missing_mode_:
            x[mode == n_points + n_cont] = np.nan
        return self._to_series(x)

    def _to_series(self, x: np.ndarray) -> pd.Series:
        spec = self.spec
        name = spec.name
        if spec.kind == "datetime":
            missing = np.isnan(x)
            ns = np.where(missing, 0, x).astype("int64")
            dt = pd.Series(pd.to_datetime(ns, unit="ns"), name=name)
            dt[missing] = pd.NaT
            if spec.tz is not None:
                dt = dt.dt.tz_localize("UTC").dt.tz_convert(spec.tz)
            if spec.datetime_format is not None:
                out = dt.dt.strftime(spec.datetime_format)
                out[missing] = None
                return restore_dtype(out, spec.dtype)
            return restore_dtype(dt, spec.dtype)
        series = pd.Series(x, name=name)
        if spec.dtype in ("bool", "boolean"):
            return restore_dtype(series.round().astype("Float64").astype("boolean"), spec.dtype)
        return restore_dtype(series, spec.dtype, integer=spec.kind == "integer")

    # ----------------------------------------------------------------- state
    def get_state(self) -> dict:
        state = {"center": self.center_, "scale": self.scale_, "points": self.points_,
                 "means": self.means_, "stds": self.stds_, "weights": self.weights_,
                 "half_widths": self.half_widths_, "step": self.step_, "missing_mode": self.has_missing_mode_,
                 "encoding": self.encoding_, "knots": self.knots_, "cdf": self.cdf_,
                 "mode_probs": self.mode_probs_, "mode_quantiles": self.mode_quantiles_}
        if self.point_values_ is not None:  # absent from a DP release's state, which the file must equal
            state["point_values"] = self.point_values_
        return state

    def set_state(self, state: dict) -> "NumericTransformer":
        self.center_ = float(state["center"])
        self.scale_ = float(state["scale"])
        self.points_ = [float(v) for v in state["points"]]
        values = state.get("point_values")  # None: a DP release's grid, or a file from before
        self.point_values_ = None if values is None else [float(v) for v in values]
        self.means_ = [float(v) for v in state["means"]]
        self.stds_ = [float(v) for v in state["stds"]]
        self.weights_ = [float(v) for v in state["weights"]]
        self.half_widths_ = [float(v) for v in state["half_widths"]]
        self.step_ = float(state["step"])
        self.has_missing_mode_ = bool(state["missing_mode"])
        self.encoding_ = str(state.get("encoding", "modes"))
        self.knots_ = [float(v) for v in state.get("knots", [])]
        self.cdf_ = [float(v) for v in state.get("cdf", [])]
        self.mode_probs_ = state.get("mode_probs")
        self.mode_quantiles_ = [list(q) for q in state.get("mode_quantiles", [])]
        return self
