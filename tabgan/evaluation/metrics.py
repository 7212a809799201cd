"""Fidelity, utility and privacy metrics as pure functions of DataFrames.

The quality scores are SDMetrics 0.32's single-table ``QualityReport``; ML efficacy, detection
and the distance diagnostics follow the project's benchmark protocol (each function's docstring
states its settings), so that ``benchmarks/`` and :class:`tabgan.evaluation.FidelityReport`
report the same figures.  This module never imports
torch or the synthesizer.

Column kinds are tabgan's (``continuous``, ``integer``, ``categorical``, ``boolean``,
``datetime``); they map to SDMetrics sdtypes as numerical (continuous, integer), datetime,
categorical and boolean.  Pass ``kinds=None`` to infer them with :func:`tabgan.schema.infer_schema`
on the real table, as the synthesizer does.
"""

from __future__ import annotations

import logging
from itertools import combinations
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import binom, ks_2samp

from .. import dependencies
from .._stats import cramers_v
from ..exceptions import InvalidDataError
from ..schema import KINDS, ColumnSpec, Schema, infer_schema, numeric_values

__all__ = [
    "resolve_schema",
    "check_columns",
    "subsample",
    "nanmean",
    "column_shapes",
    "pair_trends",
    "quality",
    "coverage",
    "column_statistics",
    "ml_efficacy",
    "detection_auc",
    "dcr",
    "dcr_distances",
    "alpha_precision_beta_recall",
    "support_features",
    "hierarchy_consistency",
    "summarise_hierarchy",
    "CORRELATION_THRESHOLD",
    "ASSOCIATION_THRESHOLD",
]

logger = logging.getLogger("tabgan")

#: SDMetrics >= 0.27 averages only numeric pairs whose real |Pearson r| exceeds this ...
CORRELATION_THRESHOLD = 0.5
#: ... and other pairs whose real Cramér's V exceeds this (``DEFAULT_REAL_*_THRESHOLD``).
ASSOCIATION_THRESHOLD = 0.3
#: SDMetrics subsamples (unseeded) both tables to this many rows for contingency tables.
CONTINGENCY_MAX_ROWS = 50_000
#: KSComplement rounds values to ``sys.float_info.dig - 1`` decimals before the test.
_KS_DECIMALS = 14
#: HistGradientBoosting handles at most 255 bins; columns with more levels enter as codes.
MAX_NATIVE_CATEGORIES = 250

_NUMERIC = ("continuous", "integer", "datetime")
_DISCRETE = ("categorical", "boolean")


# --------------------------------------------------------------------------- column kinds


def resolve_schema(
    real: pd.DataFrame,
    kinds: Mapping[str, str] | Schema | None = None,
    metadata: Mapping | None = None,
) -> Schema:
    """Return a :class:`~tabgan.schema.Schema` for ``real``.

    Parameters
    ----------
    real : DataFrame
        The real (training) table.
    kinds : dict or Schema, optional
        ``{column: kind}`` for every column to evaluate (a subset of ``real``'s columns is
        allowed), or a schema.  When ``None``, kinds come from :func:`~tabgan.schema.infer_schema`
        on ``real`` and ``metadata``: the same inference the synthesizer uses.
    metadata : dict, optional
        Dataset metadata (see :mod:`tabgan.schema`), used only when ``kinds`` is ``None``.

    Raises
    ------
    InvalidDataError
        A kind is unknown or a named column is not in ``real``.
    """
    if isinstance(kinds, Schema):
        return kinds
    if kinds is None:
        return infer_schema(real, metadata)
    if not isinstance(kinds, Mapping):
        raise TypeError(f"kinds must be a dict {{column: kind}} or a Schema; got {type(kinds).__name__}.")
    problems = [f"{name!r}: unknown kind {kind!r} (use one of {', '.join(KINDS)})"
                for name, kind in kinds.items() if kind not in KINDS]
    missing = [name for name in kinds if name not in real.columns]
    if missing:
        problems.append(f"columns {missing} are not in the real table (it has {list(real.columns)[:20]})")
    if problems:
        raise InvalidDataError("Invalid column kinds:\n  - " + "\n  - ".join(problems))
    return Schema([ColumnSpec(name=name, kind=kind, dtype=str(real[name].dtype)) for name, kind in kinds.items()])


def check_columns(schema: Schema, **frames: pd.DataFrame | None) -> None:
    """Check every given frame: a DataFrame (else ``TypeError``), with rows and every column of
    ``schema`` (else ``InvalidDataError`` saying which).  ``None`` frames are skipped."""
    for label, frame in frames.items():
        if frame is None:
            continue
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"{label} must be a pandas DataFrame; got {type(frame).__name__}.")
        if len(frame) == 0:
            raise InvalidDataError(f"The {label} table is empty; pass a table with rows.")
        missing = [name for name in schema.names if name not in frame.columns]
        if missing:
            raise InvalidDataError(
                f"The {label} table lacks columns {missing} that the real table has; "
                "evaluate tables with the same columns (select them with df[columns])."
            )


def _numeric(frame: pd.DataFrame, spec: ColumnSpec) -> np.ndarray:
    """float64 values of a numeric or datetime column (datetimes as ns since the epoch)."""
    return numeric_values(frame[spec.name], spec)


def _codes(*columns: pd.Series) -> tuple[list[np.ndarray], pd.Index]:
    """Integer codes of discrete columns over the union of their values; missing -> -1.

    Returns the code arrays (one per input) and the levels (code ``i`` is ``levels[i]``).
    """
    joined = pd.concat([pd.Series(c.to_numpy(dtype=object)) for c in columns], ignore_index=True)
    codes, uniques = pd.factorize(joined, sort=False, use_na_sentinel=True)
    # Number the levels in sorted order, not by first appearance: a code that reveals which
    # table a level first appeared in lets a detection classifier tell the tables apart.
    order = np.argsort(np.asarray([str(u) for u in uniques], dtype=object), kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    codes = np.where(codes >= 0, rank[np.maximum(codes, 0)], -1)
    uniques = uniques.take(order) if hasattr(uniques, "take") else np.asarray(uniques)[order]
    out, start = [], 0
    for c in columns:
        out.append(codes[start:start + len(c)])
        start += len(c)
    return out, pd.Index(uniques)


def subsample(frame: pd.DataFrame, n: int | None, rng: np.random.Generator) -> pd.DataFrame:
    """At most ``n`` rows of ``frame`` drawn without replacement by ``rng``, in their order."""
    if n is None or len(frame) <= n:
        return frame
    idx = np.sort(rng.choice(len(frame), size=n, replace=False))
    return frame.iloc[idx]


# --------------------------------------------------------------------------- column shapes


def _ks_complement(real: np.ndarray, synthetic: np.ndarray) -> float:
    real = np.round(real[~np.isnan(real)], _KS_DECIMALS)
    synthetic = np.round(synthetic[~np.isnan(synthetic)], _KS_DECIMALS)
    if len(real) == 0 or len(synthetic) == 0:
        return float("nan")
    return float(1.0 - ks_2samp(real, synthetic).statistic)


def _tv_complement(real_codes: np.ndarray, synth_codes: np.ndarray, n_levels: int) -> float:
    """SDMetrics' TVComplement, including its 1e-6 regularisation of unseen synthetic values."""
    real_counts = np.bincount(real_codes[real_codes >= 0], minlength=n_levels).astype(float)
    synth_counts = np.bincount(synth_codes[synth_codes >= 0], minlength=n_levels).astype(float)
    if real_counts.sum() == 0 or synth_counts.sum() == 0:
        return float("nan")
    real_counts[(real_counts == 0) & (synth_counts > 0)] = 1e-6
    keep = real_counts > 0
    f_obs = synth_counts[keep] / synth_counts.sum()
    f_exp = real_counts[keep] / real_counts.sum()
    return float(1.0 - 0.5 * np.abs(f_obs - f_exp).sum())


def column_shapes(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    kinds: Mapping[str, str] | Schema | None = None,
) -> pd.DataFrame:
    """Per-column shape similarity, as SDMetrics' ``ColumnShapes`` property.

    KSComplement (1 - two-sample Kolmogorov-Smirnov D, missing values dropped) for numeric and
    datetime columns; TVComplement (1 - total variation distance of the category frequencies,
    missing values dropped) for categorical and boolean columns.

    Returns
    -------
    DataFrame
        One row per column: ``column``, ``kind``, ``metric``, ``score``.  The property score
        is ``result["score"].mean()``.
    """
    schema = resolve_schema(real, kinds)
    check_columns(schema, real=real, synthetic=synthetic)
    rows = []
    for spec in schema:
        if spec.kind in _NUMERIC:
            score = _ks_complement(_numeric(real, spec), _numeric(synthetic, spec))
            metric = "KSComplement"
        else:
            (rc, sc), levels = _codes(real[spec.name], synthetic[spec.name])
            score = _tv_complement(rc, sc, len(levels))
            metric = "TVComplement"
        rows.append({"column": spec.name, "kind": spec.kind, "metric": metric, "score": score})
    return pd.DataFrame(rows, columns=["column", "kind", "metric", "score"])


# --------------------------------------------------------------------------- pair trends


def _histogram_bins(values: np.ndarray) -> np.ndarray:
    """SDMetrics' ColumnPairTrends discretisation: 10 equal-width bins over the table's *own*
    non-missing range, ``np.digitize`` without open ends.  So (as in SDMetrics) the maximum and a
    missing value both land in bin 11, and the synthetic table is binned on its own range."""
    finite = values[~np.isnan(values)]
    if len(finite) == 0:
        return np.full(len(values), 11, dtype=np.int64)
    edges = np.histogram_bin_edges(finite)
    return np.digitize(values, bins=edges).astype(np.int64)


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    ok = ~(np.isnan(x) | np.isnan(y))
    x, y = x[ok], y[ok]
    if len(x) < 2:
        return float("nan")
    xm, ym = x - x.mean(), y - y.mean()
    denom = np.sqrt((xm * xm).sum() * (ym * ym).sum())
    if denom == 0:
        return float("nan")
    return float(np.clip((xm * ym).sum() / denom, -1.0, 1.0))


def _n_unique(values: np.ndarray) -> int:
    finite = values[~np.isnan(values)]
    return len(np.unique(finite))


def _contingency(a: np.ndarray, b: np.ndarray, na: int, nb: int) -> np.ndarray:
    """Counts of each (a, b) code pair; codes are >= 0 (missing already given its own code)."""
    return np.bincount(a * nb + b, minlength=na * nb).reshape(na, nb)


def pair_trends(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    kinds: Mapping[str, str] | Schema | None = None,
    *,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """Per-pair trend similarity, as SDMetrics' ``ColumnPairTrends`` property.

    Numeric/datetime pairs: CorrelationSimilarity, ``1 - |r_real - r_synth| / 2`` with Pearson's
    r over rows where both values are present (undefined for a constant column).  Every other
    pair: ContingencySimilarity, ``1 - TV distance`` between the two tables' joint frequencies,
    with numeric columns binned into 10 equal-width bins of each table's own range and missing
    values as a category of their own.

    Parameters
    ----------
    real, synthetic : DataFrame
    kinds : dict or Schema, optional
        See :func:`resolve_schema`.
    random_state : int, optional
        Seeds the subsample SDMetrics draws (unseeded) when a table exceeds
        :data:`CONTINGENCY_MAX_ROWS` rows; unused for smaller tables.

    Returns
    -------
    DataFrame
        One row per pair: ``column_1``, ``column_2``, ``metric``, ``score`` (all-pairs form),
        ``real_correlation``, ``synthetic_correlation``, ``real_association`` and
        ``synthetic_association`` (Cramér's V, for contingency pairs) and ``meets_threshold`` (real |r| > 0.5 or V > 0.3).  SDMetrics'
        pair-trends score is ``score[meets_threshold].mean()``; the all-pairs score is
        ``score.mean()``.

    Notes
    -----
    Longer than 60 lines with this documentation: the body is one loop over the column pairs,
    with the two metrics side by side as SDMetrics computes them.
    """
    schema = resolve_schema(real, kinds)
    check_columns(schema, real=real, synthetic=synthetic)
    rng = np.random.default_rng(random_state)
    specs = list(schema)
    numeric = {s.name: (_numeric(real, s), _numeric(synthetic, s)) for s in specs if s.kind in _NUMERIC}
    # Discrete codes: missing is a category (groupby(dropna=False)); binned numerics 0..11.
    discrete: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}
    for s in specs:
        if s.kind in _NUMERIC:
            r, y = numeric[s.name]
            discrete[s.name] = (_histogram_bins(r), _histogram_bins(y), 12)
        else:
            (rc, sc), levels = _codes(real[s.name], synthetic[s.name])
            n_levels = len(levels)
            discrete[s.name] = (np.where(rc < 0, n_levels, rc), np.where(sc < 0, n_levels, sc), n_levels + 1)
    # SDMetrics subsamples each table when either exceeds the cap (for contingency pairs only).
    r_idx = s_idx = None
    if max(len(real), len(synthetic)) > CONTINGENCY_MAX_ROWS:
        r_idx = _subsample_index(len(real), CONTINGENCY_MAX_ROWS, rng)
        s_idx = _subsample_index(len(synthetic), CONTINGENCY_MAX_ROWS, rng)
    rows = []
    for a, b in combinations(specs, 2):
        row: dict[str, Any] = {"column_1": a.name, "column_2": b.name, "real_correlation": np.nan,
                               "synthetic_correlation": np.nan, "real_association": np.nan,
                               "synthetic_association": np.nan}
        if a.kind in _NUMERIC and b.kind in _NUMERIC:
            row["metric"] = "CorrelationSimilarity"
            (ra, sa), (rb, sb) = numeric[a.name], numeric[b.name]
            if min(_n_unique(ra), _n_unique(rb), _n_unique(sa), _n_unique(sb)) == 1:
                row.update(score=np.nan, meets_threshold=False)  # SDMetrics: ConstantInputError
            else:
                r_real, r_syn = _pearson(ra, rb), _pearson(sa, sb)
                score = np.nan if (np.isnan(r_real) or np.isnan(r_syn) or r_real == 0) \
                    else 1.0 - abs(r_real - r_syn) / 2.0
                row.update(score=score, real_correlation=r_real, synthetic_correlation=r_syn,
                           meets_threshold=bool(abs(r_real) > CORRELATION_THRESHOLD))
        else:
            row["metric"] = "ContingencySimilarity"
            ra, sa, na = discrete[a.name]
            rb, sb, nb = discrete[b.name]
            if r_idx is not None:
                ra, rb, sa, sb = ra[r_idx], rb[r_idx], sa[s_idx], sb[s_idx]
            real_table = _contingency(ra, rb, na, nb)
            synth_table = _contingency(sa, sb, na, nb)
            v = cramers_v(real_table)
            score = 1.0 - 0.5 * np.abs(real_table / real_table.sum() - synth_table / synth_table.sum()).sum()
            row.update(score=float(score), real_association=v, synthetic_association=cramers_v(synth_table),
                       meets_threshold=bool(not np.isnan(v) and v > ASSOCIATION_THRESHOLD))
        rows.append(row)
    cols = ["column_1", "column_2", "metric", "score", "real_correlation", "synthetic_correlation",
            "real_association", "synthetic_association", "meets_threshold"]
    return pd.DataFrame(rows, columns=cols)


def _subsample_index(n: int, cap: int, rng: np.random.Generator) -> np.ndarray:
    if n <= cap:
        return np.arange(n)
    return np.sort(rng.choice(n, size=cap, replace=False))


def quality(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    kinds: Mapping[str, str] | Schema | None = None,
    *,
    random_state: int | None = 0,
) -> dict[str, float]:
    """SDMetrics 0.32 ``QualityReport`` scores.

    Returns
    -------
    dict
        ``quality`` (mean of the next two, NaN ignored, as SDMetrics), ``column_shapes``,
        ``pair_trends`` (thresholded form: pairs with real |r| > 0.5 or Cramér's V > 0.3; NaN if no
        pair qualifies), ``pair_trends_all_pairs`` and ``quality_all_pairs`` (every pair).
    """
    shapes = column_shapes(real, synthetic, kinds)
    pairs = pair_trends(real, synthetic, kinds, random_state=random_state)
    return summarise_quality(shapes, pairs)


def summarise_quality(shapes: pd.DataFrame, pairs: pd.DataFrame) -> dict[str, float]:
    """Turn :func:`column_shapes` and :func:`pair_trends` details into the quality scores."""
    cs = nanmean(shapes["score"])
    pt = nanmean(pairs.loc[pairs["meets_threshold"].astype(bool), "score"])
    pt_all = nanmean(pairs["score"])
    return {
        "quality": nanmean(pd.Series([cs, pt])),
        "column_shapes": cs,
        "pair_trends": pt,
        "pair_trends_all_pairs": pt_all,
        "quality_all_pairs": nanmean(pd.Series([cs, pt_all])),
        "pair_trends_pairs_counted": int(pairs["meets_threshold"].astype(bool).sum()),
    }


def nanmean(values: Sequence[float] | pd.Series) -> float:
    """The mean of the values that are not NaN; NaN when there are none."""
    arr = np.asarray(values, dtype=float)
    arr = arr[~np.isnan(arr)]
    return float(arr.mean()) if len(arr) else float("nan")


# --------------------------------------------------------------------------- coverage


def coverage(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    kinds: Mapping[str, str] | Schema | None = None,
) -> pd.DataFrame:
    """Per-column coverage, boundary adherence and missing-value similarity (SDMetrics' metrics).

    * ``category_coverage`` (discrete): share of the real categories that appear in the
      synthetic column.
    * ``range_coverage`` (numeric): ``1 - (gap below + gap above)`` of the real [min, max] left
      uncovered by the synthetic range, relative to the real range (NaN for a constant column).
    * ``boundary_adherence`` (numeric): share of non-missing synthetic values inside the real
      [min, max].
    * ``missing_similarity`` (all): ``1 - |real missing rate - synthetic missing rate|``.

    Returns
    -------
    DataFrame
        One row per column with those four columns (NaN where not applicable) and the real and
        synthetic missing rates.
    """
    schema = resolve_schema(real, kinds)
    check_columns(schema, real=real, synthetic=synthetic)
    rows = []
    for spec in schema:
        real_missing = float(real[spec.name].isna().mean())
        synth_missing = float(synthetic[spec.name].isna().mean())
        row = {"column": spec.name, "kind": spec.kind, "category_coverage": np.nan,
               "range_coverage": np.nan, "boundary_adherence": np.nan,
               "missing_similarity": 1.0 - abs(real_missing - synth_missing),
               "real_missing": real_missing, "synthetic_missing": synth_missing}
        if spec.kind in _NUMERIC:
            r, s = _numeric(real, spec), _numeric(synthetic, spec)
            r, s = r[~np.isnan(r)], s[~np.isnan(s)]
            if len(r) and len(s):
                lo, hi = r.min(), r.max()
                if hi > lo:
                    gap = max((s.min() - lo) / (hi - lo), 0) + max((hi - s.max()) / (hi - lo), 0)
                    row["range_coverage"] = max(1.0 - gap, 0.0)
                row["boundary_adherence"] = float(((s >= lo) & (s <= hi)).mean())
        else:
            (rc, sc), _ = _codes(real[spec.name], synthetic[spec.name])
            real_levels = np.unique(rc[rc >= 0])
            if len(real_levels):
                row["category_coverage"] = float(np.isin(real_levels, sc).mean())
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- summary statistics


def _top(codes: np.ndarray, n_levels: int) -> tuple[int, float, int]:
    """Most common code, its share of the non-missing codes, and the number of distinct codes."""
    present = codes[codes >= 0]
    if len(present) == 0:
        return -1, float("nan"), 0
    counts = np.bincount(present, minlength=n_levels)
    top = int(counts.argmax())
    return top, float(counts[top] / len(present)), int((counts > 0).sum())


def column_statistics(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    kinds: Mapping[str, str] | Schema | None = None,
) -> pd.DataFrame:
    """Plain summary statistics of every column, real and synthetic side by side.

    Returns
    -------
    DataFrame
        Two rows per column (``table`` is ``"real"`` then ``"synthetic"``) with ``column``,
        ``kind`` and ``missing`` (share of rows).  Numeric and datetime columns: ``mean``, ``std``
        (ddof 1), ``min``, ``median``, ``max`` (datetimes in nanoseconds since the epoch),
        ``mode`` (the most common value) and ``mode_share`` (its share of the non-missing
        values), both NaN when no value occurs twice.  Categorical and boolean columns:
        ``levels`` (distinct non-missing values), ``top_level``, ``top_share`` (of the
        non-missing values) and, on the synthetic row,
        ``unseen_levels``: the real levels the synthetic column never takes (a list).
        Statistics that do not apply are NaN (None for the object columns).
    """
    schema = resolve_schema(real, kinds)
    check_columns(schema, real=real, synthetic=synthetic)
    rows = []
    for spec in schema:
        base = {"column": spec.name, "kind": spec.kind}
        if spec.kind in _NUMERIC:
            for label, frame in (("real", real), ("synthetic", synthetic)):
                v = _numeric(frame, spec)
                finite = v[~np.isnan(v)]
                row = {**base, "table": label, "missing": float(np.isnan(v).mean()) if len(v) else float("nan")}
                if len(finite):
                    values, counts = np.unique(finite, return_counts=True)
                    top = int(counts.argmax())
                    repeats = counts[top] > 1  # else every value is distinct: there is no most common one
                    row.update(mean=float(finite.mean()), std=float(finite.std(ddof=1)) if len(finite) > 1
                               else float("nan"), min=float(finite.min()), median=float(np.median(finite)),
                               max=float(finite.max()), mode=float(values[top]) if repeats else float("nan"),
                               mode_share=float(counts[top] / len(finite)) if repeats else float("nan"))
                rows.append(row)
        else:
            (rc, sc), levels = _codes(real[spec.name], synthetic[spec.name])
            for label, codes in (("real", rc), ("synthetic", sc)):
                top, share, n = _top(codes, len(levels))
                row = {**base, "table": label, "missing": float((codes < 0).mean()) if len(codes) else float("nan"),
                       "levels": n, "top_level": levels[top] if top >= 0 else None, "top_share": share}
                if label == "synthetic":
                    unseen = np.setdiff1d(np.unique(rc[rc >= 0]), sc)
                    row["unseen_levels"] = [levels[i] for i in unseen]
                rows.append(row)
    cols = ["column", "kind", "table", "missing", "mean", "std", "min", "median", "max", "mode", "mode_share",
            "levels", "top_level", "top_share", "unseen_levels"]
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------- model matrices


def _model_matrices(
    frames: Sequence[pd.DataFrame], schema: Schema, exclude: Sequence[str] = ()
) -> tuple[list[np.ndarray], np.ndarray, list[str]]:
    """Encode frames for HistGradientBoosting: float64 matrices, a categorical mask, names.

    Discrete columns become ordinal codes over the union of the frames' values (missing stays
    NaN); those with more than :data:`MAX_NATIVE_CATEGORIES` levels are plain numeric codes.
    Numeric columns are floats; datetimes nanoseconds since the epoch.
    """
    mats = [np.empty((len(f), 0)) for f in frames]
    cols, mask, names = [[] for _ in frames], [], []
    for spec in schema:
        if spec.name in exclude:
            continue
        if spec.kind in _NUMERIC:
            values = [_numeric(f, spec) for f in frames]
            mask.append(False)
        else:
            codes, levels = _codes(*(f[spec.name] for f in frames))
            values = [np.where(c < 0, np.nan, c).astype(float) for c in codes]
            mask.append(len(levels) <= MAX_NATIVE_CATEGORIES)
        for i, v in enumerate(values):
            cols[i].append(v)
        names.append(spec.name)
    mats = [np.column_stack(c) if c else m for c, m in zip(cols, mats)]
    return mats, np.asarray(mask, dtype=bool), names


def _drop_empty_features(
    x: np.ndarray, x_test: np.ndarray, mask: np.ndarray, names: Sequence[str], label: str, notes: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Leave out of a model's fit the features missing in every row of its training matrix.

    A gradient-boosted tree cannot split on a column without values (and scikit-learn's binning
    fails on one), so such a column carries nothing; dropping it from the fit and test matrices
    scores the rest, and ``notes`` names it.
    """
    empty = np.isnan(x).all(axis=0) if len(x) else np.zeros(x.shape[1], dtype=bool)
    if not empty.any():
        return x, x_test, mask
    notes.append(f"the {label} table has no values in {[n for n, e in zip(names, empty) if e]}; "
                 "left out of its model")
    keep = ~empty
    return x[:, keep], x_test[:, keep], mask[keep]


def _task(schema: Schema, target: str, labels: pd.Series) -> str:
    kind = schema[target].kind
    if kind in _DISCRETE:
        return "binary" if labels.dropna().nunique() <= 2 else "multiclass"
    if kind == "datetime":
        raise InvalidDataError(f"Target {target!r} is a datetime column; pick a categorical or numeric target.")
    return "regression"


def ml_efficacy(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame,
    target: str,
    kinds: Mapping[str, str] | Schema | None = None,
    random_state: int | None = 0,
) -> dict[str, Any]:
    """Train on synthetic, test on real (TSTR), with the train-on-real reference beside it.

    The model is ``HistGradientBoostingClassifier(random_state=random_state)`` with discrete
    columns as native categorical features (``HistGradientBoostingRegressor`` for a numeric
    target), fitted once on ``synthetic`` and once on ``train``, and scored on ``holdout``.

    Parameters
    ----------
    train, synthetic, holdout : DataFrame
        The real training table, the synthetic table and real rows the synthesizer never saw.
    target : str
        Column to predict.  A categorical/boolean target with two levels gives a binary task
        (ROC AUC and macro F1), more levels a multi-class one (macro F1), a numeric target a
        regression (R²).
    kinds : dict or Schema, optional
        See :func:`resolve_schema`.
    random_state : int, optional
        Seed of the gradient-boosting models (0 in the benchmark protocol).

    Returns
    -------
    dict
        ``task``, ``metric`` (the headline: ``roc_auc``, ``macro_f1`` or ``r2``), ``synthetic``
        and ``real`` (the headline figure trained on synthetic / on real rows), and each figure
        under its own name: ``synthetic_roc_auc``, ``synthetic_macro_f1``, ``real_roc_auc``,
        ``real_macro_f1`` (classification) or ``synthetic_r2``, ``real_r2`` (regression).  A figure
        that cannot be computed (e.g. the synthetic table holds a single class) is NaN and
        ``notes`` says why.

    Notes
    -----
    Longer than 60 lines with this documentation: the body fits and scores each model on one
    shared encoding of the three tables, which reads best in one place.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.metrics import f1_score, r2_score, roc_auc_score

    schema = resolve_schema(train, kinds)
    if target not in schema.names:
        raise InvalidDataError(f"target {target!r} is not a column of the table; columns: {schema.names[:20]}.")
    check_columns(schema, train=train, synthetic=synthetic, holdout=holdout)
    frames = [f[f[target].notna()] for f in (train, synthetic, holdout)]
    task = _task(schema, target, pd.concat([frames[0][target], frames[2][target]]))
    (x_train, x_syn, x_hold), mask, names = _model_matrices(frames, schema, exclude=[target])
    notes: list[str] = []
    fit_inputs = {label: _drop_empty_features(x, x_hold, mask, names, label, notes)
                  for label, x in (("synthetic", x_syn), ("real", x_train))}
    out: dict[str, Any] = {"task": task}
    if task == "regression":
        ys = [_numeric(f, schema[target]) for f in frames]
        out["metric"] = "r2"
        for label, y in (("synthetic", ys[1]), ("real", ys[0])):
            x, x_test, m = fit_inputs[label]
            model = HistGradientBoostingRegressor(random_state=random_state, categorical_features=m)
            out[f"{label}_r2"] = float(r2_score(ys[2], model.fit(x, y).predict(x_test)))
    else:
        (y_train, y_syn, y_hold), levels = _codes(*(f[target] for f in frames))
        # Positive class of a binary task: the last real level in sorted order (' >50K' on adult).
        real_levels = sorted(set(np.r_[y_train, y_hold].tolist()), key=lambda c: str(levels[c]))
        positive = real_levels[-1]
        out["metric"] = "roc_auc" if task == "binary" else "macro_f1"
        for label, y in (("synthetic", y_syn), ("real", y_train)):
            x, x_test, m = fit_inputs[label]
            if len(np.unique(y)) < 2:
                notes.append(f"the {label} table holds a single class of {target!r}; no classifier can be trained")
                out[f"{label}_macro_f1"] = float("nan")
                if task == "binary":
                    out[f"{label}_roc_auc"] = float("nan")
                continue
            model = HistGradientBoostingClassifier(random_state=random_state, categorical_features=m)
            model.fit(x, y)
            pred = model.predict(x_test)
            out[f"{label}_macro_f1"] = float(f1_score(y_hold, pred, average="macro"))
            if task == "binary":
                proba = model.predict_proba(x_test)
                col = list(model.classes_).index(positive) if positive in model.classes_ else None
                score = proba[:, col] if col is not None else np.zeros(len(x_test))
                y_pos = (y_hold == positive).astype(int)
                out[f"{label}_roc_auc"] = float(roc_auc_score(y_pos, score)) if 0 < y_pos.sum() < len(y_pos) \
                    else float("nan")
    out["synthetic"] = out.get(f"synthetic_{out['metric']}", float("nan"))
    out["real"] = out.get(f"real_{out['metric']}", float("nan"))
    out["notes"] = notes
    return out


# --------------------------------------------------------------------------- detection


def detection_auc(
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    kinds: Mapping[str, str] | Schema | None = None,
    max_rows: int = 5000,
    random_state: int | None = 0,
) -> float:
    """ROC AUC of a classifier telling real holdout rows from synthetic rows (0.5 is ideal).

    ``min(max_rows, len(holdout), len(synthetic))`` rows are drawn from each table (seeded), and
    ``HistGradientBoostingClassifier(random_state=random_state)`` with native categorical
    features is scored by 5-fold stratified cross-validation; the mean ROC AUC is returned.
    0.5 means the tables cannot be told apart, 1.0 that every row is trivially recognised.

    Parameters
    ----------
    holdout : DataFrame
        Real rows the synthesizer never saw (using training rows would reward memorisation).
    synthetic : DataFrame
    kinds : dict or Schema, optional
        See :func:`resolve_schema`; inferred from ``holdout`` when ``None``.
    max_rows : int
        Rows drawn from each table (5,000 in the benchmark protocol), which bounds the cost.
    random_state : int, optional
        Seeds the row draw, the fold split and the classifier.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold

    schema = resolve_schema(holdout, kinds)
    check_columns(schema, holdout=holdout, synthetic=synthetic)
    n = min(int(max_rows), len(holdout), len(synthetic))
    if n < 5:
        raise InvalidDataError(f"detection_auc needs at least 5 rows in each table; got {n}.")
    seed = 0 if random_state is None else random_state
    real_part = holdout.sample(n=n, random_state=seed) if len(holdout) > n else holdout
    synth_part = synthetic.sample(n=n, random_state=seed) if len(synthetic) > n else synthetic
    (x_real, x_syn), mask, _ = _model_matrices([real_part, synth_part], schema)
    x = np.vstack([x_real, x_syn])
    y = np.r_[np.zeros(n, dtype=int), np.ones(n, dtype=int)]
    aucs = []
    for fit_idx, test_idx in StratifiedKFold(n_splits=5, shuffle=True, random_state=seed).split(x, y):
        model = HistGradientBoostingClassifier(random_state=seed, categorical_features=mask)
        model.fit(x[fit_idx], y[fit_idx])
        aucs.append(roc_auc_score(y[test_idx], model.predict_proba(x[test_idx])[:, 1]))
    return float(np.mean(aucs))


# --------------------------------------------------------------------------- distances


def _gower_inputs(
    frames: Sequence[pd.DataFrame], schema: Schema, reference: pd.DataFrame
) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray, np.ndarray]:
    """Numeric blocks scaled by the reference range and discrete code blocks, per frame."""
    num_specs = [s for s in schema if s.kind in _NUMERIC]
    disc_specs = [s for s in schema if s.kind in _DISCRETE]
    ranges = []
    for s in num_specs:
        ref = _numeric(reference, s)
        ref = ref[~np.isnan(ref)]
        span = float(ref.max() - ref.min()) if len(ref) else 0.0
        ranges.append(span if span > 0 else 1.0)
    ranges_arr = np.asarray(ranges, dtype=float)
    nums = [np.column_stack([_numeric(f, s) for s in num_specs]) / ranges_arr if num_specs
            else np.empty((len(f), 0)) for f in frames]
    discs = []
    if disc_specs:
        per_col = [_codes(*(f[s.name] for f in frames))[0] for s in disc_specs]
        discs = [np.column_stack([c[i] for c in per_col]) for i in range(len(frames))]
    else:
        discs = [np.empty((len(f), 0), dtype=np.int64) for f in frames]
    return nums, discs, ranges_arr, np.array([s.name for s in num_specs + disc_specs])


def _nearest_two(
    q_num: np.ndarray, q_disc: np.ndarray, r_num: np.ndarray, r_disc: np.ndarray,
    chunk_cells: int = 4_000_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Distances of each query row to its closest and second-closest reference row (Gower).

    Chunked broadcasting over query rows; memory stays near ``chunk_cells`` float32 cells.
    """
    n_cols = q_num.shape[1] + q_disc.shape[1]
    n_q, n_r = len(q_num), len(r_num)
    first = np.empty(n_q)
    second = np.empty(n_q)
    step = max(1, chunk_cells // max(n_r, 1))
    r_num32 = r_num.astype(np.float32)
    r_num_nan = np.isnan(r_num32)
    for start in range(0, n_q, step):
        stop = min(start + step, n_q)
        total = np.zeros((stop - start, n_r), dtype=np.float32)
        for j in range(q_num.shape[1]):
            q = q_num[start:stop, j].astype(np.float32)[:, None]
            d = np.abs(q - r_num32[None, :, j])
            # Missing on exactly one side counts 1, on both sides 0.
            q_nan = np.isnan(q)
            d = np.where(q_nan | r_num_nan[None, :, j], (q_nan != r_num_nan[None, :, j]).astype(np.float32), d)
            total += np.minimum(d, 1.0)
        for j in range(q_disc.shape[1]):
            total += q_disc[start:stop, j][:, None] != r_disc[None, :, j]
        total /= max(n_cols, 1)
        if n_r >= 2:
            two = np.partition(total, 1, axis=1)[:, :2]
            first[start:stop], second[start:stop] = two[:, 0], two[:, 1]
        else:
            first[start:stop], second[start:stop] = total[:, 0], np.nan
    return first, second


def dcr_distances(
    train: pd.DataFrame,
    holdout: pd.DataFrame | None,
    synthetic: pd.DataFrame,
    kinds: Mapping[str, str] | Schema | None = None,
    n_synthetic: int = 2000,
    random_state: int | None = 0,
) -> dict[str, Any]:
    """Raw distance-to-closest-record arrays behind :func:`dcr`.

    Returns
    -------
    dict
        ``to_train``, ``to_train_second`` and ``to_holdout`` (None without a holdout): arrays of
        shape (n,) with each sampled synthetic row's Gower distance to its closest (and
        second-closest) record; ``n_train_reference``; ``exact_copies``.
    """
    schema = resolve_schema(train, kinds)
    check_columns(schema, train=train, holdout=holdout, synthetic=synthetic)
    rng = np.random.default_rng(random_state)
    synth_part = subsample(synthetic, n_synthetic, rng)
    n_ref = len(holdout) if holdout is not None else min(len(train), 10_000)
    train_part = subsample(train, n_ref, rng)
    frames = [synth_part, train_part] + ([holdout] if holdout is not None else [])
    nums, discs, _, _ = _gower_inputs(frames, schema, train)
    to_train, to_train_2 = _nearest_two(nums[0], discs[0], nums[1], discs[1])
    to_holdout = None
    if holdout is not None:
        to_holdout, _ = _nearest_two(nums[0], discs[0], nums[2], discs[2])
    return {"to_train": to_train, "to_train_second": to_train_2, "to_holdout": to_holdout,
            "n_train_reference": len(train_part), "n_synthetic": len(synth_part),
            "exact_copies": exact_copies(train, synthetic, schema)}


def exact_copies(train: pd.DataFrame, synthetic: pd.DataFrame, kinds: Mapping[str, str] | Schema | None = None) -> float:
    """Share of synthetic rows identical (in every evaluated column) to some training row."""
    schema = resolve_schema(train, kinds)
    frames = [train, synthetic]
    parts = {}
    for spec in schema:
        if spec.kind in _NUMERIC:
            parts[spec.name] = [_numeric(f, spec) for f in frames]
        else:
            parts[spec.name] = _codes(*(f[spec.name] for f in frames))[0]
    hashes = [pd.util.hash_pandas_object(pd.DataFrame({k: v[i] for k, v in parts.items()}), index=False)
              for i in range(2)]
    return float(np.isin(hashes[1].to_numpy(), hashes[0].to_numpy()).mean())


def dcr(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    kinds: Mapping[str, str] | Schema | None = None,
    n_synthetic: int = 2000,
    random_state: int | None = 0,
) -> dict[str, float]:
    """Distance-to-closest-record privacy diagnostics (benchmark protocol).

    Gower distance: numeric columns ``|a - b| / range`` (range from ``train``, capped at 1),
    discrete columns 0/1, a value missing on one side 1 (on both, 0); averaged over columns.
    ``n_synthetic`` synthetic rows are compared with a random subsample of ``train`` the size of
    ``holdout`` and with ``holdout`` itself.  These are diagnostics, not a privacy guarantee.

    Returns
    -------
    dict
        ``dcr_share_closer_to_train``: share of synthetic rows closer to the training sample
        than to the holdout, ties counting half (0.5 for a synthesizer that does not memorise;
        the protocol's bar is <= 0.55); ``exact_copies``: share of all synthetic rows identical
        to a training row; ``dcr_train_median``, ``dcr_holdout_median``; ``nndr_median``: median
        ratio of the closest to the second-closest training distance (near 0: the row sits on
        one training record); ``dcr_train_zero_share``: share at distance 0 of the sample.
    """
    d = dcr_distances(train, holdout, synthetic, kinds, n_synthetic=n_synthetic, random_state=random_state)
    return summarise_dcr(d)


def summarise_dcr(d: Mapping[str, Any]) -> dict[str, float]:
    """Summaries of :func:`dcr_distances` output (see :func:`dcr`)."""
    to_train, second = d["to_train"], d["to_train_second"]
    with np.errstate(invalid="ignore", divide="ignore"):
        nndr = np.where(second > 0, to_train / second, np.where(to_train == 0, 0.0, 1.0))
    out = {
        "exact_copies": d["exact_copies"],
        "dcr_train_median": float(np.median(to_train)),
        "dcr_train_zero_share": float((to_train == 0).mean()),
        "nndr_median": float(np.nanmedian(nndr)),
    }
    if d["to_holdout"] is not None:
        hold = d["to_holdout"]
        closer = np.where(to_train < hold, 1.0, np.where(to_train == hold, 0.5, 0.0))
        out["dcr_share_closer_to_train"] = float(closer.mean())
        out["dcr_holdout_median"] = float(np.median(hold))
    return out


# --------------------------------------------------------------------------- alpha-precision, beta-recall

#: Rows drawn (seeded) from each table, the same number from both, for alpha-precision and
#: beta-recall: the nearest-neighbour searches cost rows squared times features.
SUPPORT_MAX_ROWS = 3000
#: k of the real rows' k-nearest-neighbour balls in beta-recall (Naeem et al. 2020, "Reliable
#: fidelity and diversity metrics for generative models", use 5 for their coverage).
SUPPORT_NEIGHBOURS = 5
#: The alpha (and beta) levels on which both curves are evaluated: 0, 0.025, ..., 1.
SUPPORT_LEVELS = np.linspace(0.0, 1.0, 41)
#: One-hot columns per discrete column: its most frequent real levels; the rest share one column.
SUPPORT_MAX_LEVELS = 32
#: Whitening floors each eigenvalue of the real covariance at this share of the largest, so that
#: directions in which the real rows do not vary at all (a one-hot block sums to a constant;
#: education determines education-num) weigh much, but not infinitely.
WHITEN_FLOOR = 1e-2


def support_features(frames: Sequence[pd.DataFrame], schema: Schema, reference: pd.DataFrame) -> list[np.ndarray]:
    """Standardised feature matrices of mixed-type tables, fitted on ``reference``.

    Numeric and datetime columns: ``(x - mean) / std`` of the reference's values (datetimes as
    nanoseconds); a missing or infinite value becomes 0 (the mean), and a 0/1 indicator column of
    missing values is added when any frame has one.  Discrete columns: one-hot over the
    reference's :data:`SUPPORT_MAX_LEVELS` most frequent levels (missing is a level) and one column
    for every other value, each scaled by ``1/sqrt(2)``, so that two rows that differ in one category
    are at distance 1, as two rows one standard deviation apart in a numeric column.

    Returns
    -------
    list of ndarray
        One float64 matrix of shape (len(frame), n_features) per frame.
    """
    blocks: list[list[np.ndarray]] = [[] for _ in frames]
    for spec in schema:
        if spec.kind in _NUMERIC:
            values = []
            for f in frames:
                v = _numeric(f, spec)
                values.append(np.where(np.isfinite(v), v, np.nan))
            ref = _numeric(reference, spec)
            ref = ref[np.isfinite(ref)]
            mean = float(ref.mean()) if len(ref) else 0.0
            std = float(ref.std()) if len(ref) > 1 else 0.0
            std = std if std > 0 else 1.0
            indicator = any(np.isnan(v).any() for v in values)
            for block, v in zip(blocks, values):
                block.append(np.nan_to_num((v - mean) / std, nan=0.0)[:, None])
                if indicator:
                    block.append(np.isnan(v).astype(float)[:, None])
        else:
            (*codes, ref_codes), levels = _codes(*(f[spec.name] for f in frames), reference[spec.name])
            # Missing (-1) is a level of its own: shift every code by one.
            counts = np.bincount(ref_codes + 1, minlength=len(levels) + 1)
            kept = np.argsort(-counts, kind="stable")[:SUPPORT_MAX_LEVELS]
            kept = kept[counts[kept] > 0]
            column = np.full(len(levels) + 1, len(kept), dtype=np.int64)  # every other value: the last column
            column[kept] = np.arange(len(kept))
            for block, c in zip(blocks, codes):
                one_hot = np.zeros((len(c), len(kept) + 1))
                one_hot[np.arange(len(c)), column[c + 1]] = 1.0 / np.sqrt(2.0)
                block.append(one_hot)
    return [np.hstack(b) if b else np.empty((len(f), 0)) for b, f in zip(blocks, frames)]


def _whitening(reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and matrix ``T`` with ``(x - mean) @ T`` of identity covariance on ``reference``
    (eigenvalues floored at :data:`WHITEN_FLOOR` times the largest)."""
    mean = reference.mean(axis=0)
    centred = reference - mean
    cov = centred.T @ centred / max(len(reference) - 1, 1)
    values, vectors = np.linalg.eigh(cov)
    top = float(values.max()) if len(values) else 0.0
    floor = WHITEN_FLOOR * top if top > 0 else 1.0
    return mean, vectors / np.sqrt(np.maximum(values, floor))


def _integrated(curve: np.ndarray, levels: np.ndarray) -> float:
    """``1 - 2 * integral |curve - level|`` (trapezoid rule), clipped to [0, 1]."""
    gap = np.abs(curve - levels)
    area = float(np.sum((gap[1:] + gap[:-1]) / 2.0 * np.diff(levels)))
    return float(np.clip(1.0 - 2.0 * area, 0.0, 1.0))


def alpha_precision_beta_recall(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    kinds: Mapping[str, str] | Schema | None = None,
    *,
    max_rows: int = SUPPORT_MAX_ROWS,
    n_neighbors: int = SUPPORT_NEIGHBOURS,
    random_state: int | None = 0,
) -> dict[str, Any]:
    """Integrated alpha-precision and beta-recall (Alaa et al., ICML 2022), in a fixed embedding.

    Alaa et al. define the alpha-support of a distribution as its smallest region holding a
    share alpha of its mass.  **alpha-precision** ``P(alpha)`` is the share of synthetic rows in
    the real alpha-support, **beta-recall** ``R(beta)`` the share of real rows in the synthetic
    beta-support; a synthetic table from the real distribution has ``P(alpha) = alpha`` and
    ``R(beta) = beta``.  The summaries are ``1 - 2 * integral |P(alpha) - alpha| d alpha`` and the
    same for ``R``: 1 at best, 0 at worst.

    Embedding (a documented simplification): the paper learns a one-class embedding that maps
    the real rows into a hypersphere; here both tables are put in :func:`support_features`' space
    and whitened with the real covariance (:data:`WHITEN_FLOOR`), the linear map that makes the
    real rows' spread spherical, both fitted on real rows other than the evaluated ones (so that
    the evaluated real rows are as new to the space as the synthetic ones).  Supports are balls
    around a centre, as in the paper:

    * ``P(alpha)``: share of synthetic rows whose distance to the real rows' mean is at most the
      alpha-quantile of the real rows' distances to it.
    * ``R(beta)``: share of real rows (i) whose closest synthetic row lies inside the real row's
      ball of radius its distance to its ``n_neighbors``-th closest real row, and (ii) whose
      closest synthetic row lies in the synthetic beta-support: its distance to the synthetic
      mean is at most the beta-quantile of those distances over the real rows' closest synthetic
      rows (as synthcity's ``AlphaPrecision`` computes it).  synthcity uses ``n_neighbors=1``, with
      which a table from the real distribution covers about half of the real rows; 5, as in Naeem
      et al. 2020's coverage, puts it near 1.

    Parameters
    ----------
    real, synthetic : DataFrame
    kinds : dict or Schema, optional
        See :func:`resolve_schema`.
    max_rows : int
        ``min(max_rows, len(real) // 2, len(synthetic))`` rows are drawn (seeded) from each table;
        up to ``max_rows`` other real rows fit the space.
    n_neighbors : int
        k of the real rows' k-nearest-neighbour balls.
    random_state : int, optional
        Seeds the row draws; the rest is deterministic.

    Returns
    -------
    dict
        ``alpha_precision`` and ``beta_recall`` (the integrated summaries), ``levels`` (the alpha
        and beta values, :data:`SUPPORT_LEVELS`), ``precision_curve`` and ``recall_curve`` (arrays
        of P and R at those levels), ``real_rows_covered`` (``R(1)``: share of real rows with a
        synthetic row inside their ball), ``n_rows`` (rows per table) and ``n_features``.
        Figures are NaN when a table has fewer than ``n_neighbors + 2`` rows.

    Notes
    -----
    Longer than 60 lines with this documentation: both figures share the cross-fitted space
    and the neighbour searches, so they are computed together.
    """
    from sklearn.neighbors import NearestNeighbors

    schema = resolve_schema(real, kinds)
    check_columns(schema, real=real, synthetic=synthetic)
    # Half of the real rows at most: the others fit the space (see below).
    n = min(int(max_rows), len(real) // 2, len(synthetic))
    levels = SUPPORT_LEVELS
    out: dict[str, Any] = {"levels": levels, "n_rows": n}
    if n < n_neighbors + 2:
        nan_curve = np.full(len(levels), np.nan)
        out.update(alpha_precision=float("nan"), beta_recall=float("nan"), precision_curve=nan_curve,
                   recall_curve=nan_curve, real_rows_covered=float("nan"), n_features=0)
        return out
    rng = np.random.default_rng(random_state)
    order = rng.permutation(len(real))
    real_part = real[schema.names].iloc[np.sort(order[:n])]
    # Cross-fitting: the standardisation and the whitening are fitted on other real rows than the
    # evaluated ones.  Fitted on the evaluated rows, the whitening makes them look closer to their
    # centre than any new row (in-sample bias of a covariance: with 1,000 features on 3,000 rows,
    # a second sample of the same distribution scored 0.16).
    fit_part = real[schema.names].iloc[np.sort(order[n:n + int(max_rows)])]
    synth_part = subsample(synthetic[schema.names], n, rng)
    fit, r, s = support_features([fit_part, real_part, synth_part], schema, fit_part)
    mean, transform = _whitening(fit)
    r, s = (r - mean) @ transform, (s - mean) @ transform
    # alpha-precision: synthetic rows inside the real alpha-ball around the real centre.
    centre = r.mean(axis=0)
    real_radii = np.quantile(np.linalg.norm(r - centre, axis=1), levels)
    synth_to_centre = np.linalg.norm(s - centre, axis=1)
    precision = (synth_to_centre[:, None] <= real_radii[None, :]).mean(axis=0)
    # beta-recall: real rows whose closest synthetic row is within their k-NN ball and central.
    ball = NearestNeighbors(n_neighbors=n_neighbors + 1, algorithm="brute").fit(r).kneighbors(r)[0][:, n_neighbors]
    to_synth, closest = NearestNeighbors(n_neighbors=1, algorithm="brute").fit(s).kneighbors(r)
    covered = to_synth[:, 0] <= ball + 1e-6  # sklearn's distances carry rounding of ~1e-8
    closest_to_centre = np.linalg.norm(s[closest[:, 0]] - s.mean(axis=0), axis=1)
    synth_radii = np.quantile(closest_to_centre, levels)
    recall = (covered[:, None] & (closest_to_centre[:, None] <= synth_radii[None, :])).mean(axis=0)
    out.update(alpha_precision=_integrated(precision, levels), beta_recall=_integrated(recall, levels),
               precision_curve=precision, recall_curve=recall, real_rows_covered=float(covered.mean()),
               n_features=int(r.shape[1]))
    return out


# --------------------------------------------------------------------------- hierarchy consistency

#: Integer columns with at most this many distinct real values take part as discrete columns.
HIERARCHY_MAX_INTEGER_LEVELS = 32
#: A pair of discrete columns is a dependency when its real Cramér's V is at least this ...
HIERARCHY_MIN_CRAMERS_V = 0.95
#: ... or when this share of the real rows have their child level's usual parent level.
#: The level-wise thresholds are the ones :mod:`tabgan.dependencies` learns its rules with.
HIERARCHY_MIN_SHARE = dependencies.MIN_SHARE
#: A level-wise implication needs at least this many real rows of the child level ...
LEVEL_RULE_MIN_ROWS = dependencies.MIN_LEVEL_ROWS
#: ... of which HIERARCHY_MIN_SHARE have one parent level, beyond chance: a binomial test against
#: that parent level's share of all rows, p below this.
LEVEL_RULE_MAX_P = dependencies.MAX_P

_PAIR_COLUMNS = ["child", "parent", "mutual", "real_cramers_v", "real_share", "synthetic_share",
                 "synthetic_consistency"]
_RULE_COLUMNS = ["child", "child_level", "parent", "parent_level", "real_rows", "real_share",
                 "synthetic_rows", "synthetic_share"]


def _hierarchy_codes(real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema) -> dict[str, tuple]:
    """Codes (missing is a level) of the columns that take part: categorical, boolean, and integer
    columns with at most :data:`HIERARCHY_MAX_INTEGER_LEVELS` distinct real values."""
    out = {}
    for spec in schema:
        if spec.kind in _DISCRETE:
            (rc, sc), levels = _codes(real[spec.name], synthetic[spec.name])
            labels = list(levels)
        elif spec.kind == "integer":
            rv, sv = _numeric(real, spec), _numeric(synthetic, spec)
            if len(np.unique(rv[~np.isnan(rv)])) > HIERARCHY_MAX_INTEGER_LEVELS:
                continue
            codes, uniques = pd.factorize(np.r_[rv, sv], sort=True, use_na_sentinel=True)
            rc, sc = codes[:len(rv)], codes[len(rv):]
            labels = [int(u) if float(u).is_integer() else float(u) for u in uniques]
        else:
            continue
        n_levels = len(labels)
        # Missing becomes the last code.
        rc, sc = np.where(rc < 0, n_levels, rc), np.where(sc < 0, n_levels, sc)
        out[spec.name] = (rc.astype(np.int64), sc.astype(np.int64), labels + [None])
    return out


def _usual_parent(keys: np.ndarray, counts: np.ndarray, n_parent: int, n_child: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per child code: its rows, the parent code it has most often (-1 if unseen), and that parent's rows."""
    rows = np.bincount(keys // n_parent, weights=counts, minlength=n_child)
    levels, implied, implied_rows = dependencies.usual_parents(keys, counts, n_parent)
    top_parent = np.full(n_child, -1, dtype=np.int64)
    top_rows = np.zeros(n_child)
    top_parent[levels], top_rows[levels] = implied, implied_rows
    return rows, top_parent, top_rows


def _sparse_cramers_v(keys: np.ndarray, counts: np.ndarray, n_parent: int, n_child: int) -> float:
    """Cramér's V (no continuity correction) from the observed pairs, over the observed levels."""
    child_of, parent_of = keys // n_parent, keys % n_parent
    row_sums = np.bincount(child_of, weights=counts, minlength=n_child)
    col_sums = np.bincount(parent_of, weights=counts, minlength=n_parent)
    r, c = int((row_sums > 0).sum()), int((col_sums > 0).sum())
    if min(r, c) < 2:
        return float("nan")
    n = counts.sum()
    chi2 = n * (np.sum(counts.astype(float) ** 2 / (row_sums[child_of] * col_sums[parent_of])) - 1.0)
    return float(np.sqrt(max(chi2, 0.0) / (n * (min(r, c) - 1))))


def hierarchy_consistency(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    kinds: Mapping[str, str] | Schema | None = None,
) -> dict[str, pd.DataFrame]:
    """Near-deterministic dependencies between discrete columns of the real table, and how often
    the synthetic rows keep them.

    Columns that take part: categorical and boolean ones, and integer columns with at most
    :data:`HIERARCHY_MAX_INTEGER_LEVELS` distinct real values; a missing value is a level.

    **Column dependencies.**  A pair of columns is one when, in the real table, both have at least
    two levels and either its Cramér's V is at least :data:`HIERARCHY_MIN_CRAMERS_V`, or one
    column (the child) maps to one level of the other (the parent) in at least
    :data:`HIERARCHY_MIN_SHARE` of the rows.  That share, the *real share*, counts the rows whose
    parent is their child level's most common parent, over the rows of child levels seen at least
    twice (a level seen once trivially has one parent).  Guards against trivial pairs: the child
    levels seen at least twice must hold at least half of the rows (for Cramér's V, in both
    columns: an ID-like column is associated with everything), and the child must cut the errors
    of always guessing the parent's most common level at least in half.  Each pair is listed once,
    child first (``mutual`` when each column determines the other, as education and
    education-num).  Its **synthetic consistency** is the share of synthetic rows whose (child,
    parent) pair occurs in the real table; its *synthetic share* is the real share's definition
    applied to the synthetic rows (with the real table's usual parents).

    A hierarchy the schema declares (metadata ``hierarchies``, see :mod:`tabgan.schema`) makes
    each of its (child, parent) pairs a dependency whatever these figures say.

    **Level-wise implications**, for column pairs that are not dependencies as a whole: a child
    level seen in at least :data:`LEVEL_RULE_MIN_ROWS` real rows, :data:`HIERARCHY_MIN_SHARE` of
    which have one parent level, beyond chance (binomial test against that parent level's share
    of the rows, p < :data:`LEVEL_RULE_MAX_P`).  On adult: relationship "Husband" -> sex "Male",
    while "Not-in-family" goes with both.  The synthetic share is the share of synthetic rows with
    the child level that have the implied parent level.

    Returns
    -------
    dict
        ``pairs``: DataFrame, one row per dependency: ``child``, ``parent``, ``mutual``,
        ``real_cramers_v``, ``real_share``, ``synthetic_share``, ``synthetic_consistency``.
        ``rules``: DataFrame, one row per implication: ``child``, ``child_level``, ``parent``,
        ``parent_level``, ``real_rows``, ``real_share``, ``synthetic_rows``, ``synthetic_share``
        (NaN when no synthetic row has the child level).

    Notes
    -----
    Longer than 60 lines with this documentation: the column dependencies and the level-wise
    rules share one count of each column pair.
    """
    schema = resolve_schema(real, kinds)
    check_columns(schema, real=real, synthetic=synthetic)
    codes = _hierarchy_codes(real, synthetic, schema)
    declared = set(schema.hierarchy_pairs())
    names = list(codes)
    n_real = len(real)
    info = {}
    for name, (rc, _, labels) in codes.items():
        counts = np.bincount(rc, minlength=len(labels))
        repeated = counts[counts >= 2].sum() / n_real if n_real else 0.0
        info[name] = {"width": len(labels), "levels": int((counts > 0).sum()), "repeated": repeated,
                      "top_share": counts.max() / n_real if n_real else np.nan, "counts": counts}

    def direction(child: str, parent: str, keys: np.ndarray, counts: np.ndarray) -> dict[str, Any]:
        """The child -> parent figures of the real table (share over child levels seen twice), from
        the observed pairs ``keys = child * width(parent) + parent`` and their counts."""
        wp = info[parent]["width"]
        rows, top_parent, top_rows = _usual_parent(keys, counts, wp, info[child]["width"])
        multi = rows >= 2
        share = float(top_rows[multi].sum() / rows[multi].sum()) if multi.any() else float("nan")
        informative = (not np.isnan(share)) and (1.0 - share) <= 0.5 * (1.0 - info[parent]["top_share"])
        return {"keys": keys, "counts": counts, "rows": rows, "top_parent": top_parent, "top_rows": top_rows,
                "share": share, "functional": bool(informative and share >= HIERARCHY_MIN_SHARE
                                                   and info[child]["repeated"] >= 0.5)}

    pair_rows, rule_rows = [], []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            if info[a]["levels"] < 2 or info[b]["levels"] < 2:
                continue
            wa, wb = info[a]["width"], info[b]["width"]
            keys, counts = dependencies.pair_counts(codes[a][0], codes[b][0], wa, wb)
            ab = direction(a, b, keys, counts)
            ba = direction(b, a, (keys % wb) * wa + keys // wb, counts)  # the same table, transposed
            v = _sparse_cramers_v(keys, counts, wb, wa)
            associated = (not np.isnan(v) and v >= HIERARCHY_MIN_CRAMERS_V
                          and min(info[a]["repeated"], info[b]["repeated"]) >= 0.5)
            if (a, b) in declared or (b, a) in declared:  # the metadata says which way it goes
                child, parent, d = (a, b, ab) if (a, b) in declared else (b, a, ba)
                pair_rows.append(_dependency_row(codes, child, parent, d, v, (b, a) in declared and (a, b) in declared))
                continue
            if ab["functional"] or ba["functional"] or associated:
                # Child first: the column that determines the other (the higher real share).
                flip = (ba["functional"] and not ab["functional"]) or (
                    ab["functional"] == ba["functional"] and np.nan_to_num(ba["share"]) > np.nan_to_num(ab["share"]))
                child, parent, d = (b, a, ba) if flip else (a, b, ab)
                pair_rows.append(_dependency_row(codes, child, parent, d, v, ab["functional"] and ba["functional"]))
                continue
            for child, parent, d in ((a, b, ab), (b, a, ba)):
                rule_rows.extend(_level_rules(codes, child, parent, d, info[parent]["counts"], n_real))
    return {"pairs": pd.DataFrame(pair_rows, columns=_PAIR_COLUMNS),
            "rules": pd.DataFrame(rule_rows, columns=_RULE_COLUMNS)}


def _dependency_row(codes: dict, child: str, parent: str, d: dict, v: float, mutual: bool) -> dict[str, Any]:
    rc, sc, _ = codes[child]
    _, sp, _ = codes[parent]
    wp = len(codes[parent][2])
    synth_keys = sc * wp + sp
    consistency = float(np.isin(synth_keys, d["keys"]).mean()) if len(sc) else float("nan")
    # Synthetic share: rows of child levels seen at least twice in the real table that have the
    # real table's usual parent of their level.
    multi = d["rows"] >= 2
    counted = multi[sc] if len(sc) else np.zeros(0, dtype=bool)
    kept = counted & (d["top_parent"][sc] == sp)
    synth_share = float(kept.sum() / counted.sum()) if counted.any() else float("nan")
    return {"child": child, "parent": parent, "mutual": bool(mutual), "real_cramers_v": v,
            "real_share": d["share"], "synthetic_share": synth_share, "synthetic_consistency": consistency}


def _level_rules(codes: dict, child: str, parent: str, d: dict, parent_counts: np.ndarray, n_real: int
                 ) -> list[dict[str, Any]]:
    rows, top_parent, top_rows = d["rows"], d["top_parent"], d["top_rows"]
    candidates = np.flatnonzero((rows >= LEVEL_RULE_MIN_ROWS) & (top_rows >= HIERARCHY_MIN_SHARE * rows))
    if len(candidates) == 0 or (parent_counts > 0).sum() < 2:
        return []
    base = parent_counts[top_parent[candidates]] / n_real
    # P(at least top_rows of rows draws have that parent level) if the child level told nothing.
    p = binom.sf(top_rows[candidates] - 1, rows[candidates], base)
    candidates = candidates[p < LEVEL_RULE_MAX_P]
    if len(candidates) == 0:
        return []
    _, sc, child_labels = codes[child]
    _, sp, parent_labels = codes[parent]
    wc = len(child_labels)
    # Synthetic rows per child level, and those of them with the level's implied parent level.
    synth_rows = np.bincount(sc, minlength=wc)[candidates]
    kept = np.bincount(sc[top_parent[sc] == sp], minlength=wc)[candidates]
    with np.errstate(invalid="ignore", divide="ignore"):
        synth_share = np.where(synth_rows > 0, kept / synth_rows, np.nan)
    return [{"child": child, "child_level": child_labels[level], "parent": parent,
             "parent_level": parent_labels[top_parent[level]], "real_rows": int(rows[level]),
             "real_share": float(top_rows[level] / rows[level]), "synthetic_rows": int(n_synth),
             "synthetic_share": float(share)}
            for level, n_synth, share in zip(candidates, synth_rows, synth_share)]


def summarise_hierarchy(details: Mapping[str, pd.DataFrame]) -> dict[str, Any]:
    """Headline figures of :func:`hierarchy_consistency`.

    Returns
    -------
    dict
        ``hierarchy_consistency``: the lowest synthetic consistency over the column dependencies
        (NaN when none is found); ``hierarchy_pairs``: how many there are;
        ``level_rule_consistency``: over every level-wise implication, the share of synthetic rows
        with its child level that keep its parent level (rows pooled; NaN when there is no rule
        or no synthetic row with a rule's child level); ``level_rules``: how many rules.
    """
    pairs, rules = details["pairs"], details["rules"]
    weights = rules["synthetic_rows"].to_numpy(dtype=float) if len(rules) else np.zeros(0)
    kept = np.nansum(rules["synthetic_share"].to_numpy(dtype=float) * weights) if len(rules) else 0.0
    return {
        "hierarchy_consistency": float(pairs["synthetic_consistency"].min()) if len(pairs) else float("nan"),
        "hierarchy_pairs": int(len(pairs)),
        "level_rule_consistency": float(kept / weights.sum()) if weights.sum() > 0 else float("nan"),
        "level_rules": int(len(rules)),
    }
