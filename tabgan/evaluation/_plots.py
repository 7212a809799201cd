"""Matplotlib figures of the fidelity report, returned as base64 PNG strings.

matplotlib is imported inside the functions (with the non-interactive Agg backend), so that
``import tabgan.evaluation`` stays light and works without it.
"""

from __future__ import annotations

import base64
import io
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..schema import Schema, numeric_values

REAL_COLOR = "#4c72b0"
SYNTH_COLOR = "#dd8452"
#: Distribution plots are drawn for at most this many columns (the first ones, in table order).
MAX_DISTRIBUTION_PLOTS = 40
#: Categorical plots show the most frequent real levels; the rest are pooled as "(other)".
MAX_LEVELS_SHOWN = 10
_NS_PER_DAY = 86_400e9


def _pyplot():
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "FidelityReport.to_html needs matplotlib (the report extra); install it with "
            "pip install 'matplotlib>=3.7', or from a clone of tabgan: pip install -e \".[report]\"."
        ) from None
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def to_base64(fig: Any) -> str:
    """Render ``fig`` to PNG, close it and return the base64 text."""
    plt = _pyplot()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _short(label: Any, width: int = 18) -> str:
    text = "(missing)" if label is None or (isinstance(label, float) and np.isnan(label)) else str(label)
    return text if len(text) <= width else text[: width - 1] + "…"


def column_scores(shapes: pd.DataFrame) -> str:
    """Horizontal bars of each column's shape score, worst at the top."""
    plt = _pyplot()
    data = shapes.sort_values("score", ascending=False)
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(data) + 1.2))
    colors = [REAL_COLOR if m == "KSComplement" else SYNTH_COLOR for m in data["metric"]]
    ax.barh([_short(c, 24) for c in data["column"]], data["score"].fillna(0), color=colors)
    ax.set_xlim(0, 1)
    ax.set_xlabel("score (1 = same distribution)")
    ax.set_title("Column shapes: blue KS complement (numeric), orange TV complement (categorical)",
                 fontsize=9)
    return to_base64(fig)


def distributions(real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema) -> str:
    """Grid of per-column distributions, real (filled) under synthetic (outline)."""
    plt = _pyplot()
    specs = list(schema)[:MAX_DISTRIBUTION_PLOTS]
    ncols = 3
    nrows = int(np.ceil(len(specs) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 2.6 * nrows), squeeze=False)
    for ax in axes.ravel()[len(specs):]:
        ax.set_visible(False)
    for ax, spec in zip(axes.ravel(), specs):
        if spec.kind in ("continuous", "integer", "datetime"):
            _numeric_panel(ax, numeric_values(real[spec.name], spec), numeric_values(synthetic[spec.name], spec),
                           spec.kind)
        else:
            _category_panel(ax, real[spec.name], synthetic[spec.name])
        ax.set_title(f"{_short(spec.name, 30)} ({spec.kind})", fontsize=9)
        ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return to_base64(fig)


def _numeric_panel(ax: Any, real: np.ndarray, synth: np.ndarray, kind: str) -> None:
    real, synth = real[~np.isnan(real)], synth[~np.isnan(synth)]
    if kind == "datetime":
        real, synth = real / _NS_PER_DAY, synth / _NS_PER_DAY
    if len(real) == 0:
        return
    lo, hi = np.quantile(real, [0.005, 0.995])
    if hi <= lo:
        lo, hi = real.min() - 0.5, real.max() + 0.5
    bins = np.linspace(lo, hi, 31)
    ax.hist(np.clip(real, lo, hi), bins=bins, density=True, color=REAL_COLOR, alpha=0.55, label="real")
    if len(synth):
        ax.hist(np.clip(synth, lo, hi), bins=bins, density=True, histtype="step", color=SYNTH_COLOR,
                linewidth=1.6, label="synthetic")
    ax.set_yticks([])
    if kind == "datetime":
        import matplotlib.dates as mdates

        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m"))
        for label in ax.get_xticklabels():
            label.set_rotation(30)


def _category_panel(ax: Any, real: pd.Series, synth: pd.Series) -> None:
    real_freq = real.astype(object).where(real.notna(), "(missing)").value_counts(normalize=True)
    synth_freq = synth.astype(object).where(synth.notna(), "(missing)").value_counts(normalize=True)
    levels = list(real_freq.index[:MAX_LEVELS_SHOWN])
    r = [real_freq.get(level, 0.0) for level in levels]
    s = [synth_freq.get(level, 0.0) for level in levels]
    if len(real_freq) > MAX_LEVELS_SHOWN or not set(synth_freq.index) <= set(levels):
        levels.append("(other)")
        r.append(1.0 - sum(r))
        s.append(max(1.0 - sum(s), 0.0))
    y = np.arange(len(levels))
    ax.barh(y - 0.2, r, height=0.4, color=REAL_COLOR, label="real")
    ax.barh(y + 0.2, s, height=0.4, color=SYNTH_COLOR, label="synthetic")
    ax.set_yticks(y, [_short(v) for v in levels])
    ax.invert_yaxis()
    ax.set_xlabel("share of rows", fontsize=7)


def association_heatmaps(pairs: pd.DataFrame, names: Sequence[str]) -> str:
    """Real, synthetic and difference matrices of pairwise association.

    Pearson r for numeric pairs, Cramér's V (0..1) for the others, as in the pair-trend metrics.
    """
    plt = _pyplot()
    names = list(names)
    index = {n: i for i, n in enumerate(names)}
    real = np.eye(len(names))
    synth = np.eye(len(names))
    for row in pairs.itertuples(index=False):
        i, j = index[row.column_1], index[row.column_2]
        if row.metric == "CorrelationSimilarity":
            rv, sv = row.real_correlation, row.synthetic_correlation
        else:
            rv, sv = row.real_association, row.synthetic_association
        real[i, j] = real[j, i] = rv
        synth[i, j] = synth[j, i] = sv
    size = max(4.0, 0.32 * len(names) + 2)
    fig, axes = plt.subplots(1, 3, figsize=(3 * size, size))
    labels = [_short(n, 16) for n in names]
    for ax, matrix, title in zip(axes, (real, synth, synth - real),
                                 ("real", "synthetic", "synthetic − real")):
        image = ax.imshow(matrix, cmap="RdBu_r", vmin=-1, vmax=1)
        ax.set_title(title, fontsize=10)
        ax.set_xticks(range(len(names)), labels, rotation=90, fontsize=7)
        ax.set_yticks(range(len(names)), labels if ax is axes[0] else [""] * len(names), fontsize=7)
    fig.colorbar(image, ax=list(axes), shrink=0.7, label="Pearson r (numeric pairs) / Cramér's V (others)")
    return to_base64(fig)


def utility(ml: dict, detection: float | None) -> str:
    """Bars: the model trained on synthetic vs on real rows, and the detection AUC."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 2.8), gridspec_kw={"width_ratios": [2, 1]})
    ax = axes[0]
    if ml:
        metric = ml["metric"]
        keys = [k for k in ("roc_auc", "macro_f1", "r2") if f"real_{k}" in ml]
        x = np.arange(len(keys))
        ax.bar(x - 0.2, [ml[f"real_{k}"] for k in keys], width=0.4, color=REAL_COLOR, label="trained on real")
        ax.bar(x + 0.2, [np.nan_to_num(ml[f"synthetic_{k}"]) for k in keys], width=0.4, color=SYNTH_COLOR,
               label="trained on synthetic")
        ax.set_xticks(x, [k.replace("_", " ") for k in keys])
        ax.set_ylim(min(0.0, *[np.nan_to_num(ml[f"synthetic_{k}"]) for k in keys]), 1)
        ax.set_title(f"ML efficacy ({ml['task']}, headline {metric}) on the real holdout", fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
    else:
        ax.set_visible(False)
    ax = axes[1]
    if detection is not None:
        ax.barh(["detection"], [detection], color=SYNTH_COLOR)
        ax.axvline(0.5, color="black", linestyle="--", linewidth=1)
        ax.set_xlim(0.4, 1.0)
        ax.set_title("Detection ROC AUC (0.5 ideal)", fontsize=9)
    else:
        ax.set_visible(False)
    fig.tight_layout()
    return to_base64(fig)


def dcr_histogram(to_train: np.ndarray, to_holdout: np.ndarray | None) -> str:
    """Distances from synthetic rows to their closest training and holdout records."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 2.8))
    hi = float(np.quantile(np.r_[to_train, to_holdout if to_holdout is not None else []], 0.99)) or 1.0
    bins = np.linspace(0, hi, 41)
    ax.hist(np.minimum(to_train, hi), bins=bins, color=SYNTH_COLOR, alpha=0.6, label="to closest training row")
    if to_holdout is not None:
        ax.hist(np.minimum(to_holdout, hi), bins=bins, histtype="step", color=REAL_COLOR, linewidth=1.6,
                label="to closest holdout row")
    ax.set_xlabel("Gower distance (0 = identical row)")
    ax.set_ylabel("synthetic rows")
    ax.legend(fontsize=7)
    return to_base64(fig)
