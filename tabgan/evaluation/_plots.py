"""Matplotlib figures of the fidelity report, returned as base64 PNG strings.

matplotlib is imported inside the functions (with the non-interactive Agg backend), so that
``import tabgan.evaluation`` stays light and works without it.

Every figure is drawn at :data:`DPI` and at most :data:`MAX_WIDTH_PX` pixels wide, so the page
shows it at its natural size (no downscaling), and with fonts of at least :data:`MIN_FONT_PT`
points: ``MIN_FONT_PT * DPI / 72`` = 12.5 CSS pixels.
"""

from __future__ import annotations

import base64
import functools
import io
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from ..schema import Schema, numeric_values

REAL_COLOR = "#4c72b0"
SYNTH_COLOR = "#dd8452"
#: Distribution plots are drawn for at most this many columns (the first ones, in table order).
MAX_DISTRIBUTION_PLOTS = 40
#: Categorical plots show the most frequent real levels; the rest are pooled as "(other)".
MAX_LEVELS_SHOWN = 10
#: Pixels per inch of the PNGs; the page shows them at their natural size.
DPI = 100
#: Widest figure, in pixels: the page's text column (1,100 px less its padding).
MAX_WIDTH_PX = 1060
#: Smallest font on any figure, in points (tick labels); titles and labels are larger.
MIN_FONT_PT = 9
#: A numeric column whose most common value holds at least this share of the rows, at one end of
#: its range, with a spread of other values (capital-gain: 0 in 92% of adult's rows) is drawn as
#: a point mass beside the distribution of the other values.
POINT_MASS_SHARE = 0.3
_NS_PER_DAY = 86_400e9
_FIG_WIDTH = 10.2  # inches: 1,020 px at DPI, under MAX_WIDTH_PX with the tight bounding box

_STYLE = {
    "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "xtick.labelsize": MIN_FONT_PT,
    "ytick.labelsize": MIN_FONT_PT, "legend.fontsize": MIN_FONT_PT, "figure.titlesize": 12,
    "axes.spines.top": False, "axes.spines.right": False, "figure.dpi": DPI, "savefig.dpi": DPI,
}


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


def _styled(func: Callable[..., str]) -> Callable[..., str]:
    """Draw ``func``'s figure under the report's font sizes (artists take sizes when created)."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> str:
        plt = _pyplot()
        with plt.rc_context(_STYLE):
            return func(*args, **kwargs)
    return wrapper


def to_base64(fig: Any) -> str:
    """Render ``fig`` to PNG, close it and return the base64 text."""
    plt = _pyplot()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", pad_inches=0.08)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def png_size(b64: str) -> tuple[int, int]:
    """(width, height) in pixels of a base64 PNG, read from its header."""
    head = base64.b64decode(b64[:44])
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def _short(label: Any, width: int = 18) -> str:
    text = "(missing)" if label is None or (isinstance(label, float) and np.isnan(label)) else str(label)
    return text if len(text) <= width else text[: width - 1] + "…"


def compact_number(value: float) -> str:
    """Short tick label: 1.5M, 250k, 12, 0.25."""
    a = abs(value)
    if a >= 1e6:
        return f"{value / 1e6:.3g}M"
    if a >= 1e4:
        return f"{value / 1e3:.3g}k"
    return f"{value:.4g}"


def _compact_axis(axis: Any) -> None:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axis.set_major_locator(MaxNLocator(5))
    axis.set_major_formatter(FuncFormatter(lambda v, _: compact_number(v)))


@_styled
def column_scores(shapes: pd.DataFrame) -> str:
    """Horizontal bars of each column's shape score, worst at the top."""
    plt = _pyplot()
    data = shapes.sort_values("score", ascending=False)
    fig, ax = plt.subplots(figsize=(8.0, 0.3 * len(data) + 1.3))
    ks = data["metric"].to_numpy() == "KSComplement"
    labels = [_short(c, 24) for c in data["column"]]
    y = np.arange(len(data))
    ax.barh(y, data["score"].fillna(0), color=np.where(ks, REAL_COLOR, SYNTH_COLOR))
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 1)
    ax.set_xlabel("score (1 = same distribution)")
    from matplotlib.patches import Patch

    ax.legend([Patch(color=REAL_COLOR), Patch(color=SYNTH_COLOR)],
              ["numeric: KS complement", "categorical: TV complement"], loc="lower left",
              bbox_to_anchor=(0, 1.0), ncol=2, frameon=False)
    return to_base64(fig)


def point_mass(values: np.ndarray) -> float | None:
    """The value a numeric column piles up on (see :data:`POINT_MASS_SHARE`), or None."""
    values = values[~np.isnan(values)]
    if len(values) < 20:
        return None
    uniques, counts = np.unique(values, return_counts=True)
    top = int(counts.argmax())
    if counts[top] < POINT_MASS_SHARE * len(values) or len(uniques) < 10 or top not in (0, len(uniques) - 1):
        return None
    return float(uniques[top])


@_styled
def distributions(real: pd.DataFrame, synthetic: pd.DataFrame, schema: Schema) -> str:
    """Grid of per-column distributions, real (filled) beside or under synthetic (outline)."""
    plt = _pyplot()
    specs = list(schema)[:MAX_DISTRIBUTION_PLOTS]
    ncols = 3
    nrows = int(np.ceil(len(specs) / ncols))
    fig = plt.figure(figsize=(_FIG_WIDTH, 3.1 * nrows), layout="constrained")
    grid = fig.add_gridspec(nrows, ncols)
    for i, spec in enumerate(specs):
        cell = grid[i // ncols, i % ncols]
        title = f"{_short(spec.name, 26)} ({spec.kind})"
        if spec.kind in ("continuous", "integer", "datetime"):
            r = numeric_values(real[spec.name], spec)
            s = numeric_values(synthetic[spec.name], spec)
            mass = point_mass(r) if spec.kind != "datetime" else None
            if mass is not None:
                _point_mass_panel(fig, cell, r, s, mass, title)
                continue
            ax = fig.add_subplot(cell)
            _numeric_panel(ax, r, s, spec.kind)
        else:
            ax = fig.add_subplot(cell)
            _category_panel(ax, real[spec.name], synthetic[spec.name])
        ax.set_title(title)
    from matplotlib.patches import Patch

    fig.legend([Patch(facecolor=REAL_COLOR, alpha=0.6), Patch(facecolor="none", edgecolor=SYNTH_COLOR, lw=1.8)],
               ["real", "synthetic"], loc="outside upper center", ncol=2, frameon=False, fontsize=10)
    return to_base64(fig)


def _numeric_panel(ax: Any, real: np.ndarray, synth: np.ndarray, kind: str) -> None:
    real, synth = real[~np.isnan(real)], synth[~np.isnan(synth)]
    if kind == "datetime":
        real, synth = real / _NS_PER_DAY, synth / _NS_PER_DAY
    ax.set_yticks([])
    if len(real) == 0:
        return
    lo, hi = np.quantile(real, [0.005, 0.995])
    if kind == "integer":
        # Bins of whole units, centred on the integers: 30 bins over 73 ages would hold 2 or 3
        # values each and draw a comb that is not in the data.
        lo, hi = np.floor(lo), np.ceil(hi)
        width = max(1.0, np.ceil((hi - lo + 1) / 40))
        bins = np.arange(lo - 0.5, hi + 0.5 + width, width)
        hi = bins[-1] - 0.5
    else:
        if hi <= lo:
            lo, hi = real.min() - 0.5, real.max() + 0.5
        bins = np.linspace(lo, hi, 31)
    ax.hist(np.clip(real, lo, hi), bins=bins, density=True, color=REAL_COLOR, alpha=0.6, label="real")
    if len(synth):
        ax.hist(np.clip(synth, lo, hi), bins=bins, density=True, histtype="step", color=SYNTH_COLOR,
                linewidth=1.8, label="synthetic")
    if kind == "datetime":
        import matplotlib.dates as mdates

        locator = mdates.AutoDateLocator(minticks=2, maxticks=4)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    else:
        _compact_axis(ax.xaxis)


def _log_ticks(axis: Any, lo: float, hi: float) -> None:
    """At most about five readable labels on a log axis, none on minor ticks."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    decades = np.log10(hi / lo) if lo > 0 else np.inf
    subs = (1.0, 2.0, 5.0) if decades < 1.5 else (1.0, 3.0) if decades < 2.5 else (1.0,)
    axis.set_major_locator(LogLocator(base=10, subs=subs, numticks=12))
    axis.set_major_formatter(FuncFormatter(lambda v, _: compact_number(v)))
    axis.set_minor_formatter(NullFormatter())


def _point_mass_panel(fig: Any, cell: Any, real: np.ndarray, synth: np.ndarray, mass: float, title: str) -> None:
    """Share of rows at ``mass`` (two bars) beside the other values on a log or symlog axis."""
    real, synth = real[~np.isnan(real)], synth[~np.isnan(synth)]
    # An empty, flat axes over both panels carries the title, so the two read as one column.
    sub = cell.subgridspec(2, 2, width_ratios=[1, 2.6], height_ratios=[0.001, 1], wspace=0.05, hspace=0)
    ax_head = fig.add_subplot(sub[0, :])
    ax_head.axis("off")
    ax_head.set_title(title)
    ax_mass = fig.add_subplot(sub[1, 0])
    ax_tail = fig.add_subplot(sub[1, 1])
    shares = [float((real == mass).mean()), float((synth == mass).mean()) if len(synth) else 0.0]
    ax_mass.bar([0, 1], shares, color=[REAL_COLOR, SYNTH_COLOR], alpha=0.85, width=0.8)
    for x, share in enumerate(shares):
        ax_mass.text(x, share + 0.03, f"{share:.0%}", ha="center", va="bottom", fontsize=MIN_FONT_PT)
    ax_mass.set_ylim(0, 1.18)
    ax_mass.set_yticks([])
    ax_mass.set_xticks([0.5], [f"rows at\n{compact_number(mass)}"])
    ax_mass.set_xlim(-0.6, 1.6)
    tail_r, tail_s = real[real != mass], synth[synth != mass]
    ax_tail.set_yticks([])
    if len(tail_r) == 0:
        return
    every = np.r_[tail_r, tail_s]
    if (every > 0).all():
        ax_tail.set_xscale("log")
        bins = np.geomspace(every.min(), every.max(), 31)
        _log_ticks(ax_tail.xaxis, every.min(), every.max())
        scale = "log"
    else:
        from matplotlib.ticker import FuncFormatter, NullFormatter

        nonzero = np.abs(every[every != 0])
        linthresh = float(np.quantile(nonzero, 0.05)) if len(nonzero) else 1.0
        ax_tail.set_xscale("symlog", linthresh=linthresh)
        # Equal-width bins in the axis' own coordinates.
        forward = lambda v: np.sign(v) * np.log1p(np.abs(v) / linthresh)  # noqa: E731
        inverse = lambda u: np.sign(u) * linthresh * np.expm1(np.abs(u))  # noqa: E731
        bins = inverse(np.linspace(forward(every.min()), forward(every.max()), 31))
        ax_tail.xaxis.set_major_formatter(FuncFormatter(lambda v, _: compact_number(v)))
        ax_tail.xaxis.set_minor_formatter(NullFormatter())
        scale = "symlog"
    if bins[-1] <= bins[0]:
        bins = np.array([bins[0] - 0.5, bins[0] + 0.5])
    ax_tail.hist(tail_r, bins=bins, weights=np.full(len(tail_r), 1 / len(tail_r)), color=REAL_COLOR, alpha=0.6)
    if len(tail_s):
        ax_tail.hist(tail_s, bins=bins, weights=np.full(len(tail_s), 1 / len(tail_s)), histtype="step",
                     color=SYNTH_COLOR, linewidth=1.8)
    ax_tail.set_xlabel(f"the other values ({scale} scale)")


def _category_panel(ax: Any, real: pd.Series, synth: pd.Series) -> None:
    real_freq = real.astype(object).where(real.notna(), "(missing)").value_counts(normalize=True)
    synth_freq = synth.astype(object).where(synth.notna(), "(missing)").value_counts(normalize=True)
    levels = list(real_freq.index[:MAX_LEVELS_SHOWN])
    r = [real_freq.get(level, 0.0) for level in levels]
    s = [synth_freq.get(level, 0.0) for level in levels]
    if len(real_freq) > MAX_LEVELS_SHOWN or not set(synth_freq.index) <= set(levels):
        levels.append("(other)")
        r.append(max(1.0 - sum(r), 0.0))
        s.append(max(1.0 - sum(s), 0.0))
    y = np.arange(len(levels))
    ax.barh(y, r, height=0.8, color=REAL_COLOR, alpha=0.6, label="real")
    ax.barh(y, s, height=0.8, fill=False, edgecolor=SYNTH_COLOR, linewidth=1.8, label="synthetic")
    ax.set_yticks(y, [_short(v, 16) for v in levels])
    ax.invert_yaxis()
    ax.set_xlabel("share of rows")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(4))


def association_matrices(pairs: pd.DataFrame, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Real and synthetic association matrices and the mask of pairs in the thresholded score.

    Pearson r for numeric pairs, Cramér's V (0..1) for the others, as in the pair-trend metrics;
    the diagonal is 1 (real, synthetic) and False (mask).
    """
    names = list(names)
    index = {n: i for i, n in enumerate(names)}
    real = np.eye(len(names))
    synth = np.eye(len(names))
    counted = np.zeros((len(names), len(names)), dtype=bool)
    for row in pairs.itertuples(index=False):
        i, j = index[row.column_1], index[row.column_2]
        if row.metric == "CorrelationSimilarity":
            rv, sv = row.real_correlation, row.synthetic_correlation
        else:
            rv, sv = row.real_association, row.synthetic_association
        real[i, j] = real[j, i] = rv
        synth[i, j] = synth[j, i] = sv
        counted[i, j] = counted[j, i] = bool(row.meets_threshold)
    return real, synth, counted


@_styled
def association_heatmaps(pairs: pd.DataFrame, names: Sequence[str]) -> str:
    """Left: real associations below the diagonal, synthetic above.  Right: synthetic minus real.

    Cells of the pairs in the thresholded pair-trends score are outlined in black.
    """
    plt = _pyplot()
    from matplotlib.patches import Rectangle

    names = list(names)
    n = len(names)
    real, synth, counted = association_matrices(pairs, names)
    lower = np.tril(np.ones((n, n), dtype=bool), -1)
    combined = np.where(lower, real, synth)
    np.fill_diagonal(combined, np.nan)
    diff = synth - real
    np.fill_diagonal(diff, np.nan)
    side_by_side = n <= 20
    if side_by_side:
        fig, axes = plt.subplots(1, 2, figsize=(_FIG_WIDTH, 5.6), layout="constrained")
    else:
        fig, axes = plt.subplots(2, 1, figsize=(_FIG_WIDTH, 2 * (0.2 * n + 2.5)), layout="constrained")
    labels = [_short(c, 16) for c in names]
    cmap = plt.get_cmap("RdBu_r").with_extremes(bad="#dddddd")
    titles = ("real (below the diagonal) | synthetic (above)", "synthetic − real")
    for ax, matrix, title in zip(axes, (combined, diff), titles):
        image = ax.imshow(matrix, cmap=cmap, vmin=-1, vmax=1)
        ax.set_title(title)
        ax.set_xticks(range(n), labels, rotation=90)
        ax.set_yticks(range(n), labels)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        for i, j in zip(*np.nonzero(counted)):
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=1.2))
    fig.colorbar(image, ax=list(axes), shrink=0.8, label="Pearson r (numeric pairs), Cramér's V (others)")
    return to_base64(fig)


def strength(value_r: float, value_v: float) -> float:
    """Strength of a pair's relationship: |Pearson r| for numeric pairs, else Cramér's V."""
    return abs(value_r) if not np.isnan(value_r) else value_v


@_styled
def pair_strengths(pairs: pd.DataFrame) -> str:
    """Real vs synthetic strength of the given pairs (worst first), joined by a line."""
    plt = _pyplot()
    data = pairs.reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(9.0, 0.34 * len(data) + 1.4))
    y = np.arange(len(data))
    real = np.array([strength(r, v) for r, v in zip(data["real_correlation"], data["real_association"])])
    synth = np.array([strength(r, v) for r, v in zip(data["synthetic_correlation"], data["synthetic_association"])])
    ax.hlines(y, np.minimum(real, synth), np.maximum(real, synth), color="#999999", linewidth=2)
    ax.scatter(real, y, s=60, color=REAL_COLOR, zorder=3, label="real")
    ax.scatter(synth, y, s=60, color=SYNTH_COLOR, zorder=3, marker="D", label="synthetic")
    ax.set_yticks(y, [f"{_short(a, 16)} – {_short(b, 16)}" for a, b in zip(data["column_1"], data["column_2"])])
    ax.invert_yaxis()
    ax.set_xlim(-0.02, 1.02)
    ax.set_xlabel("strength of the relationship: |Pearson r| (numeric pairs) or Cramér's V")
    ax.grid(axis="x", color="#eeeeee")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, frameon=False)
    return to_base64(fig)


@_styled
def utility(ml: dict, detection: float | None) -> str:
    """Bars: the model trained on synthetic vs on real rows, and the detection AUC."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.4), gridspec_kw={"width_ratios": [2, 1]}, layout="constrained")
    ax = axes[0]
    if ml:
        keys = [k for k in ("roc_auc", "macro_f1", "r2") if f"real_{k}" in ml]
        x = np.arange(len(keys))
        real = [ml[f"real_{k}"] for k in keys]
        synth = [np.nan_to_num(ml[f"synthetic_{k}"]) for k in keys]
        ax.bar(x - 0.2, real, width=0.4, color=REAL_COLOR, label="trained on real")
        ax.bar(x + 0.2, synth, width=0.4, color=SYNTH_COLOR, label="trained on synthetic")
        for xi, (rv, sv) in enumerate(zip(real, synth)):
            ax.text(xi - 0.2, rv, f"{rv:.3f}", ha="center", va="bottom", fontsize=MIN_FONT_PT)
            ax.text(xi + 0.2, sv, f"{sv:.3f}", ha="center", va="bottom", fontsize=MIN_FONT_PT)
        ax.set_xticks(x, [k.replace("_", " ").replace("roc auc", "ROC AUC").replace("r2", "R²") for k in keys])
        ax.set_ylim(min(0.0, *synth), 1.12)
        ax.set_title(f"ML efficacy ({ml['task']}), scored on the real holdout")
        ax.legend(loc="upper right", ncol=2, frameon=False)
    else:
        ax.set_visible(False)
    ax = axes[1]
    if detection is not None:
        ax.barh([0], [detection], color=SYNTH_COLOR, height=0.5)
        ax.axvline(0.5, color="black", linestyle="--", linewidth=1)
        ax.text(0.5, 0.4, " 0.5 = cannot tell", va="bottom", fontsize=MIN_FONT_PT)
        ax.text(detection, 0, f" {detection:.3f}", va="center", fontsize=MIN_FONT_PT)
        ax.set_xlim(0.4, 1.08)
        ax.set_ylim(-0.6, 0.8)
        ax.set_yticks([])
        ax.set_title("detection ROC AUC")
    else:
        ax.set_visible(False)
    return to_base64(fig)


@_styled
def dcr_histogram(to_train: np.ndarray, to_holdout: np.ndarray | None) -> str:
    """Distances from synthetic rows to their closest training and holdout records."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8.5, 3.4))
    hi = float(np.quantile(np.r_[to_train, to_holdout if to_holdout is not None else []], 0.99)) or 1.0
    bins = np.linspace(0, hi, 41)
    ax.hist(np.minimum(to_train, hi), bins=bins, color=SYNTH_COLOR, alpha=0.6, label="to the closest training row")
    if to_holdout is not None:
        ax.hist(np.minimum(to_holdout, hi), bins=bins, histtype="step", color=REAL_COLOR, linewidth=1.8,
                label="to the closest holdout row")
    ax.set_xlabel("Gower distance (0 = identical row)")
    ax.set_ylabel("synthetic rows")
    ax.legend(loc="upper right", frameon=False)
    return to_base64(fig)


@_styled
def support_curves(levels: np.ndarray, precision: np.ndarray, recall: np.ndarray) -> str:
    """alpha-precision and beta-recall curves against the diagonal (the real distribution's)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.3), layout="constrained")
    for ax, curve, name, letter in ((axes[0], precision, "alpha-precision", "α"),
                                    (axes[1], recall, "beta-recall", "β")):
        ax.plot([0, 1], [0, 1], color="black", linestyle="--", linewidth=1, label="ideal (real distribution)")
        ax.plot(levels, curve, color=SYNTH_COLOR, linewidth=2, label="synthetic table")
        ax.fill_between(levels, levels, curve, color=SYNTH_COLOR, alpha=0.2)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(f"{letter} (share of the {'real' if letter == 'α' else 'synthetic'} rows in the support)")
        ax.set_ylabel(name)
        ax.set_aspect("equal")
        ax.legend(loc="upper left", frameon=False)
    return to_base64(fig)
