"""HTML rendering of a :class:`~tabgan.evaluation.FidelityReport` (one self-contained page).

No scripts, no external resources, no references to files a reader may not have: inline CSS and
base64 PNG images, every section opening with a short explanation (``class="explain"``) and
every figure followed by how to read it (``class="caption"``), so the file can be mailed,
archived or opened offline and read on its own.
"""

from __future__ import annotations

import html
import math
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import numpy as np
import pandas as pd

from .._version import __version__
from ..schema import numeric_values
from . import _plots
from .metrics import (
    ASSOCIATION_THRESHOLD,
    CORRELATION_THRESHOLD,
    HIERARCHY_MAX_INTEGER_LEVELS,
    HIERARCHY_MIN_CRAMERS_V,
    HIERARCHY_MIN_SHARE,
    LEVEL_RULE_MAX_P,
    LEVEL_RULE_MIN_ROWS,
    SUPPORT_MAX_LEVELS,
    SUPPORT_NEIGHBOURS,
)

if TYPE_CHECKING:  # pragma: no cover
    from .report import FidelityReport

#: Pair-trend section: at most this many of the pairs in the score are listed and drawn.
WORST_PAIRS = 20
#: A counted pair whose synthetic strength is below this share of its real strength is "lost" ...
LOST_RATIO = 0.5
#: ... below this share "weakened", above its inverse "stronger".
WEAKENED_RATIO = 0.8
#: Hierarchy section: at most this many dependencies and level-wise implications are listed (worst first).
MAX_HIERARCHY_ROWS = 20
#: Levels unseen in the synthetic column are named up to this many.
MAX_UNSEEN_NAMED = 5
_NS_PER_DAY = 86_400e9

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1100px;
color:#222;line-height:1.45;padding:0 1rem}
h1{margin-bottom:.2rem}h2{border-bottom:2px solid #4c72b0;padding-bottom:.2rem;margin-top:2.2rem}
p.explain{background:#f3f6fb;border-left:4px solid #4c72b0;padding:.5rem .8rem;margin:.6rem 0}
p.caption{color:#444;font-size:.92rem;margin:.2rem 0 1rem}
p.note{background:#fff8e6;border-left:4px solid #dd8452;padding:.5rem .8rem}
p.warning{background:#fdecea;border-left:4px solid #c0392b;padding:.5rem .8rem;font-weight:600}
table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.25rem .6rem;text-align:left;vertical-align:top}th{background:#f0f0f0}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.bad td{background:#fdecea}tr.warn td{background:#fff8e6}tr.synthetic td{color:#8a4a1c}
tbody.pair{border-top:2px solid #bbb}
img{max-width:100%;height:auto;display:block;margin:.6rem 0}
figure{margin:0}
.cards{display:flex;flex-wrap:wrap;gap:.8rem}.card{border:1px solid #ddd;border-radius:6px;padding:.6rem .9rem;
min-width:9rem}.card b{display:block;font-size:1.5rem}.card span{font-size:.8rem;color:#555}
footer{margin-top:3rem;font-size:.8rem;color:#666}
"""


def fmt(value: Any, digits: int = 3) -> str:
    """Format a figure for the page; None and NaN become an en dash."""
    if value is None:
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating, int, np.integer)):
        if isinstance(value, (float, np.floating)) and math.isnan(value):
            return "–"
        if isinstance(value, (int, np.integer)):
            return f"{value:,}"
        if value != 0 and abs(value) < 10 ** -digits:
            return f"{value:.1e}"
        return f"{value:.{digits}f}"
    return html.escape(str(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, (float, int, np.floating, np.integer)) and not isinstance(value, (bool, np.bool_))


def _cell(value: Any) -> str:
    return f'<td class="num">{fmt(value)}</td>' if _is_number(value) else f"<td>{fmt(value)}</td>"


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]], row_classes: Sequence[str] | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        css = row_classes[i] if row_classes is not None and row_classes[i] else ""
        body.append((f'<tr class="{css}">' if css else "<tr>") + "".join(_cell(v) for v in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _figure(b64: str, alt: str, caption: str) -> str:
    """An image at its natural size with how to read it underneath."""
    width, height = _plots.png_size(b64)
    return (f'<figure><img alt="{html.escape(alt)}" width="{width}" height="{height}" '
            f'src="data:image/png;base64,{b64}"><figcaption><p class="caption">{caption}</p></figcaption></figure>')


def _section(anchor: str, title: str, explain: str, body: str) -> str:
    return (f'<section id="{anchor}"><h2>{html.escape(title)}</h2>'
            f'<p class="explain">{explain}</p>{body}</section>')


def _card(value: Any, label: str) -> str:
    return f'<div class="card"><b>{fmt(value)}</b><span>{html.escape(label)}</span></div>'


def _notes(notes: Iterable[str]) -> str:
    return "".join(f'<p class="note">{html.escape(n)}</p>' for n in notes)


def _computing_seconds(timings: dict) -> float:
    return sum(v for k, v in timings.items() if k != "html")


def render(report: "FidelityReport") -> str:
    """Compute whatever the report has not computed yet and return the page.

    Sets ``report.timings["html"]`` to the time spent on text and plots only: sections computed
    while rendering are timed under their own names, so no second is counted twice.
    """
    start = time.perf_counter()
    before = _computing_seconds(report.timings)
    scores = report.scores
    cols = report.column_details
    pairs = report.pair_details
    parts = [_summary(report, scores), _column_section(report, cols), _statistics_section(report),
             _pair_section(report, pairs), _hierarchy_section(report, scores), _coverage_section(cols),
             _support_section(report, scores), _utility_section(report),
             _privacy_section(report, scores), _model_section(report), _schema_section(report)]
    computed_here = _computing_seconds(report.timings) - before
    report.timings["html"] = max(time.perf_counter() - start - computed_here, 0.0)
    total = sum(report.timings.values())
    breakdown = ", ".join(f"{k} {v:.1f} s" for k, v in report.timings.items())
    footer = (f"<footer>Generated by tabgan {html.escape(__version__)} on "
              f"{datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; random_state="
              f"{html.escape(str(report.random_state))}; computed in {total:.1f} s ({breakdown}). The quality "
              "scores are computed as SDMetrics 0.32's single-table QualityReport computes them.</footer>")
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>tabgan fidelity report</title><style>{_CSS}</style></head><body>"
            "<h1>Synthetic data report</h1>" + "".join(parts) + footer + "</body></html>")


# ---------------------------------------------------------------------------------------- summary


def _model_line(report: "FidelityReport") -> str:
    info = report.model_info
    if info is None:
        if report.privacy_spent is not None:
            return "Model: not given, but a differential-privacy ledger was (see Privacy diagnostics)."
        return ("Model: not given, so its fit settings and whether it was trained with differential privacy "
                "are unknown to this report.")
    epochs = info.get("epochs_trained")
    dp = ("trained with differential privacy, epsilon "
          f"{fmt(float(report.privacy_spent['epsilon']))}" if report.privacy_spent is not None
          else "trained without differential privacy")
    return (f"Model: tabgan {html.escape(str(info.get('tabgan_version') or '?'))}, "
            f"{'?' if epochs is None else epochs} epochs trained, {dp} (see Model and fit settings).")


def _summary(report: "FidelityReport", s: dict) -> str:
    sizes = report.sizes
    cards = [_card(s["quality"], "quality (SDMetrics)"), _card(s["column_shapes"], "column shapes"),
             _card(s["pair_trends"], "pair trends"), _card(s["alpha_precision"], "alpha-precision (realism)"),
             _card(s["beta_recall"], "beta-recall (coverage)")]
    if s["hierarchy_pairs"]:
        cards.append(_card(s["hierarchy_consistency"], f"hierarchy consistency (lowest of {s['hierarchy_pairs']})"))
    if "ml_efficacy_synthetic" in s:
        cards.append(_card(s["ml_efficacy_synthetic"], f"ML efficacy ({s['ml_efficacy_metric']}), "
                           f"real: {fmt(s['ml_efficacy_real'])}"))
    if "detection_auc" in s:
        cards.append(_card(s["detection_auc"], "detection AUC (0.5 ideal)"))
    if "dcr_share_closer_to_train" in s:
        cards.append(_card(s["dcr_share_closer_to_train"], "share closer to train (0.5 ideal)"))
    cards.append(_card(s["exact_copies"], "exact copies of training rows"))
    if "privacy_epsilon" in s:
        cards.append(_card(s["privacy_epsilon"], "DP epsilon spent"))
    holdout = "" if sizes["holdout"] is None else f"; holdout: {sizes['holdout']:,} rows"
    size_text = (f"Real table: {sizes['real']:,} rows; synthetic: {sizes['synthetic']:,} rows{holdout}; "
                 f"{len(report.schema)} columns"
                 f"{'; target ' + html.escape(repr(report.target)) if report.target else ''}.")
    explain = ("The headline figures; each is explained in its section below. Scores near 1 (0.5 for "
               "detection and the train/holdout share) mean the synthetic table looks like the real one.")
    return _section("summary", "Summary", explain,
                    f'<p>{size_text}</p><p>{_model_line(report)}</p><div class="cards">{"".join(cards)}</div>'
                    + _notes(report.notes + report._skip_notes()))


# ---------------------------------------------------------------------------------- column shapes


def _column_section(report: "FidelityReport", cols: pd.DataFrame) -> str:
    rows = cols.sort_values("score")[["column", "kind", "metric", "score"]].itertuples(index=False)
    masses = [spec.name for spec in list(report.schema)[:_plots.MAX_DISTRIBUTION_PLOTS]
              if spec.kind in ("continuous", "integer")
              and _plots.point_mass(numeric_values(report.real[spec.name], spec)) is not None]
    mass_text = ""
    if masses:
        mass_text = (f" {html.escape(', '.join(masses))} pile up on one value (a point mass, such as a zero that "
                     "most rows hold): the small panel on the left shows the share of rows at that value, real "
                     "and synthetic, and the wider panel the distribution of the other values on a logarithmic "
                     "axis, each as a share of those other rows, so a long tail stays visible.")
    body = (_figure(_plots.column_scores(cols), "column shape scores",
                    "One bar per column, best at the top: the closer to 1, the closer the synthetic column's "
                    "distribution is to the real one. Blue bars are numeric columns (KS complement), orange "
                    "ones categorical columns (TV complement).")
            + _table(["column", "kind", "metric", "score"], rows)
            + "<h3 id=\"distributions\">Distributions</h3>"
            + _figure(_plots.distributions(report.real, report.synthetic, report.schema), "column distributions",
                      "Each column on its own: real values as filled blue bars, synthetic values as an orange "
                      "outline; where they match, the outline follows the top of the bars. Numeric columns "
                      "are drawn between the real 0.5% and 99.5% quantiles (values outside are piled into the "
                      "end bins); categorical columns show the 10 most frequent real levels, then \"(other)\" "
                      "for the rest and for synthetic levels the real table lacks; \"(missing)\" is a level."
                      + mass_text))
    if len(report.schema) > _plots.MAX_DISTRIBUTION_PLOTS:
        body += _notes([f"Only the first {_plots.MAX_DISTRIBUTION_PLOTS} of {len(report.schema)} columns are "
                        "plotted."])
    explain = ("Does each column, on its own, have the real distribution? For numeric and datetime columns the "
               "score is 1 minus the Kolmogorov-Smirnov distance (the largest gap between the two cumulative "
               "distributions: 0.9 means they never differ by more than 10% of the rows below any threshold); "
               "for categorical columns 1 minus the total variation distance of the category shares (0.9 means "
               "10% of the synthetic rows would have to change category). Missing values are left out; the "
               "section score is the mean over columns.")
    return _section("column-shapes", f"Column shapes: {fmt(cols['score'].mean())}", explain, body)


# ----------------------------------------------------------------------------- column statistics


def _number(value: Any, kind: str, spread: bool = False) -> str:
    """A statistic in the column's own units: dates for datetimes, days for their spread."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    value = float(value)
    if kind == "datetime":
        if spread:
            return f"{value / _NS_PER_DAY:.4g} days"
        stamp = pd.Timestamp(int(value))
        return stamp.strftime("%Y-%m-%d" if stamp == stamp.normalize() else "%Y-%m-%d %H:%M")
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 1e4:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _share(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if 0 < value < 0.0005:
        return "&lt;0.1%"
    return f"{100 * value:.1f}%"


def _stat_rows(stats: pd.DataFrame, cells) -> str:
    body = []
    for name, group in stats.groupby("column", sort=False):
        rows = list(group.itertuples(index=False))
        lines = []
        for k, row in enumerate(rows):
            head = (f'<td rowspan="{len(rows)}">{html.escape(str(name))}</td><td rowspan="{len(rows)}">'
                    f"{html.escape(row.kind)}</td>") if k == 0 else ""
            values = "".join(f'<td class="num">{v}</td>' if numeric else f"<td>{v}</td>" for v, numeric in cells(row))
            lines.append(f'<tr class="{row.table}">{head}<td>{row.table}</td>{values}</tr>')
        body.append('<tbody class="pair">' + "".join(lines) + "</tbody>")
    return "".join(body)


def _statistics_section(report: "FidelityReport") -> str:
    stats = report.column_statistics
    numeric = stats[stats["kind"].isin(["continuous", "integer", "datetime"])]
    discrete = stats[~stats["kind"].isin(["continuous", "integer", "datetime"])]
    body = ""
    if len(numeric):
        head = "".join(f"<th>{h}</th>" for h in ("column", "kind", "table", "missing", "mean", "std", "min",
                                                  "median", "max", "most common value (share)"))

        def numeric_cells(r):
            return [(_share(r.missing), True), (_number(r.mean, r.kind), True),
                    (_number(r.std, r.kind, spread=True), True), (_number(r.min, r.kind), True),
                    (_number(r.median, r.kind), True), (_number(r.max, r.kind), True),
                    ("no value repeats" if _missing(r.mode) else f"{_number(r.mode, r.kind)} ({_share(r.mode_share)})",
                     True)]
        body += (f'<h3 id="numeric-statistics">Numeric columns</h3><table><thead><tr>{head}</tr></thead>'
                 + _stat_rows(numeric, numeric_cells) + "</table>")
    if len(discrete):
        head = "".join(f"<th>{h}</th>" for h in ("column", "kind", "table", "missing", "levels", "top level",
                                                  "top level's share", "real levels never generated"))

        def discrete_cells(r):
            unseen = r.unseen_levels if isinstance(r.unseen_levels, list) else None
            if unseen is None:
                missing_levels = "–"
            elif not unseen:
                missing_levels = "none"
            else:
                named = ", ".join(html.escape(_plots._short(v, 24)) for v in unseen[:MAX_UNSEEN_NAMED])
                more = f" and {len(unseen) - MAX_UNSEEN_NAMED} more" if len(unseen) > MAX_UNSEEN_NAMED else ""
                missing_levels = f"{len(unseen)}: {named}{more}"
            top = "–" if r.top_level is None else html.escape(_plots._short(r.top_level, 28))
            return [(_share(r.missing), True), (f"{int(r.levels):,}", True), (top, False),
                    (_share(r.top_share), True), (missing_levels, False)]
        body += (f'<h3 id="categorical-statistics">Categorical columns</h3><table><thead><tr>{head}</tr></thead>'
                 + _stat_rows(discrete, discrete_cells) + "</table>")
    explain = ("Plain statistics of every column, the real table's row above the synthetic one's. Missing is the "
               "share of rows without a value; every other statistic is over the rows with one. For numeric "
               "columns, the most common value and its share show a value many rows pile up on (a zero, say); "
               "for categorical columns, \"real levels never generated\" lists the categories of the real "
               "column that no synthetic row takes (rare ones go first).")
    return _section("statistics", "Column statistics", explain, body)


# ----------------------------------------------------------------------------------- pair trends


def pair_status(real_r: float, synth_r: float, real_v: float, synth_v: float) -> str:
    """How a real relationship fared: kept, weakened, lost, reversed or stronger.

    Numeric pairs compare |Pearson r| (a sign flip with |r_synthetic| >= 0.1 is "reversed"), other
    pairs Cramér's V; "lost" below :data:`LOST_RATIO` of the real strength, "weakened" below
    :data:`WEAKENED_RATIO`, "stronger" above its inverse.
    """
    numeric = not np.isnan(real_r)
    if numeric:
        if np.isnan(synth_r):
            return "–"
        if np.sign(synth_r) != np.sign(real_r) and abs(synth_r) >= 0.1:
            return "reversed"
        real, synth = abs(real_r), abs(synth_r)
    else:
        real, synth = real_v, synth_v
    if np.isnan(real) or np.isnan(synth) or real == 0:
        return "–"
    ratio = synth / real
    if ratio < LOST_RATIO:
        return "lost"
    if ratio < WEAKENED_RATIO:
        return "weakened"
    if ratio > 1 / WEAKENED_RATIO:
        return "stronger"
    return "kept"


_STATUS_CLASS = {"lost": "bad", "reversed": "bad", "weakened": "warn", "stronger": "warn"}


def _pair_section(report: "FidelityReport", pairs: pd.DataFrame) -> str:
    s = report.scores
    counted = pairs[pairs["meets_threshold"].astype(bool)]
    n_counted = len(counted)
    body = (f"<p>Pair-trends score: <b>{fmt(s['pair_trends'])}</b>, the mean over the {n_counted} of {len(pairs)} "
            f"pairs that are clearly related in the real table (numeric pairs with |Pearson r| &gt; "
            f"{CORRELATION_THRESHOLD}, other pairs with Cramér's V &gt; {ASSOCIATION_THRESHOLD}), as SDMetrics 0.32 "
            f"computes it. The mean over all pairs is <b>{fmt(s['pair_trends_all_pairs'])}</b>.</p>")
    if n_counted:
        worst = counted.sort_values("score", kind="stable").head(WORST_PAIRS)
        statuses = [pair_status(r.real_correlation, r.synthetic_correlation, r.real_association,
                                r.synthetic_association) for r in worst.itertuples(index=False)]
        title = (f"The {n_counted} pairs in the score, worst first" if n_counted <= WORST_PAIRS
                 else f"The {WORST_PAIRS} worst of the {n_counted} pairs in the score")
        rows = []
        for r, status in zip(worst.itertuples(index=False), statuses):
            numeric = r.metric == "CorrelationSimilarity"
            rows.append([r.column_1, r.column_2, "correlation" if numeric else "contingency", r.score,
                         r.real_correlation if numeric else r.real_association,
                         r.synthetic_correlation if numeric else r.synthetic_association, status])
        broken = [f"{html.escape(r[0])} – {html.escape(r[1])} (real {fmt(r[4])}, synthetic {fmt(r[5])})"
                  for r, status in zip(rows, statuses) if status in ("lost", "reversed")]
        verdict = (f'<p class="warning">Relationships lost or reversed in the synthetic table: {"; ".join(broken)}.</p>'
                   if broken else "<p>No relationship in the score lost half of its real strength or changed "
                                  "direction.</p>")
        body += (f'<h3 id="worst-pairs">{title}</h3>' + verdict
                 + _figure(_plots.pair_strengths(worst), "strength of the pairs in the score",
                           "Each line is one pair of the score, worst score at the top: the blue dot is how strongly "
                           "the two columns are related in the real table, the orange diamond in the synthetic one "
                           "(|Pearson r| for two numeric columns, Cramér's V otherwise; 0 = unrelated, 1 = one "
                           "determines the other). A long line that ends near 0 is a dependency the synthesizer "
                           "broke.")
                 + _table(["column 1", "column 2", "metric", "score", "real r / V", "synthetic r / V",
                           "relationship"], rows, [_STATUS_CLASS.get(st, "") for st in statuses])
                 + '<p class="caption">Score: 1 - |r_real - r_synthetic| / 2 for a correlation pair, 1 minus the total '
                   "variation distance between the two tables' joint frequencies for a contingency pair. "
                   f"Relationship: the synthetic strength against the real one: lost below {LOST_RATIO:.0%} of it, "
                   f"weakened below {WEAKENED_RATIO:.0%}, stronger above {1 / WEAKENED_RATIO:.0%}, reversed when a "
                   "correlation changes sign.</p>")
    else:
        body += _notes(["No pair is clearly related in the real table, so the thresholded pair-trends score is "
                        "undefined and quality is the column-shapes score alone."])
    n_other = len(pairs) - n_counted
    body += ('<h3 id="heatmaps">Every pair</h3>'
             + _figure(_plots.association_heatmaps(pairs, report.schema.names), "association heatmaps",
                       "Left: how strongly each pair of columns is related, the real table below the diagonal and "
                       "the synthetic table above it (mirror images when the synthesizer keeps every "
                       "relationship). Right: synthetic minus real; white is good, red is a relationship the "
                       "synthesizer invented or exaggerated, blue one it weakened. Numeric pairs show Pearson's r "
                       "(−1 to 1), the other pairs Cramér's V (0 to 1). Black outlines mark the pairs in the "
                       f"score. The other {n_other} pairs are weakly related in the real table; they count only in "
                       "the all-pairs mean, where even a synthesizer that ignores every relationship scores high."))
    explain = ("Are the relationships between columns kept? Two numeric columns are compared by their correlation, "
               "any other pair by its table of joint frequencies (numeric columns cut into 10 equal-width bins, "
               "missing values a category of their own). Unrelated pairs score well even when a synthesizer "
               "ignores every relationship, which is why the headline counts only the clearly related ones.")
    return _section("pair-trends", f"Column pair trends: {fmt(s['pair_trends'])}", explain, body)


# ------------------------------------------------------------------------------------ hierarchy


def _hierarchy_section(report: "FidelityReport", s: dict) -> str:
    details = report.hierarchy
    pairs, rules = details["pairs"], details["rules"]
    explain = ("Does every synthetic row respect the hierarchies of the real table? Some discrete columns "
               "(almost) determine others: a postal code its city, an education level its number of years. Such "
               "a pair is found in the real table when its Cramér's V is at least "
               f"{HIERARCHY_MIN_CRAMERS_V} or when at least {HIERARCHY_MIN_SHARE:.0%} of the rows have the parent "
               "value that their child value usually has (child values seen only once are left out, and a "
               "column with (nearly) one row per value does not count). Categorical and boolean columns take "
               f"part, and integer columns with at most {HIERARCHY_MAX_INTEGER_LEVELS} distinct values; a "
               "missing value is a value of its own. The consistency of a pair is the share of synthetic rows "
               "whose (child, parent) combination occurs in the real table: 1 is best, and a synthesizer that "
               "ignores the dependency scores about as low as a random combination would.")
    if len(pairs):
        worst = pairs.sort_values("synthetic_consistency", kind="stable").head(MAX_HIERARCHY_ROWS)
        body = (f"<p>Hierarchy consistency: <b>{fmt(s['hierarchy_consistency'])}</b>, the lowest over the "
                f"{len(pairs)} {'dependency' if len(pairs) == 1 else 'dependencies'} found in the real table.</p>"
                + _table(["child", "parent", "real Cramér's V", "real share", "synthetic share",
                          "synthetic consistency"],
                         [[r.child + (" (both ways)" if r.mutual else ""), r.parent, r.real_cramers_v,
                           r.real_share, r.synthetic_share, r.synthetic_consistency]
                          for r in worst.itertuples(index=False)],
                         ["bad" if r.synthetic_consistency < 0.9 else "warn" if r.synthetic_consistency < 0.99
                          else "" for r in worst.itertuples(index=False)])
                + '<p class="caption">Real share: the share of real rows whose parent is the one their child '
                  "value usually has; synthetic share: the same share among the synthetic rows, with the real "
                  "table's usual parents; synthetic consistency: the share of synthetic rows whose combination "
                  "occurs in the real table. \"Both ways\": each column determines the other.</p>")
    else:
        body = "<p>No dependency found: no pair of discrete columns determines one another in the real table.</p>"
    body += '<h3 id="level-rules">Level-wise implications</h3>'
    if len(rules):
        worst = rules.sort_values("synthetic_share", kind="stable", na_position="last").head(MAX_HIERARCHY_ROWS)
        more = (f" (the {MAX_HIERARCHY_ROWS} worst of {len(rules)} shown)" if len(rules) > MAX_HIERARCHY_ROWS else "")
        body += (f"<p>Share of synthetic rows that keep the implied value: <b>{fmt(s['level_rule_consistency'])}</b>, "
                 f"over the synthetic rows of every rule's child value; {len(rules)} rules{more}.</p>"
                 + _table(["child", "child value", "parent", "implied parent value", "real rows", "real share",
                           "synthetic rows", "synthetic share"],
                          [[r.child, _plots._short(r.child_level, 28), r.parent, _plots._short(r.parent_level, 28),
                            r.real_rows, r.real_share, r.synthetic_rows, r.synthetic_share]
                           for r in worst.itertuples(index=False)],
                          ["bad" if r.synthetic_share < 0.9 else "warn" if r.synthetic_share < 0.99 else ""
                           for r in worst.itertuples(index=False)])
                 + '<p class="caption">A rule is a child value seen in at least '
                   f"{LEVEL_RULE_MIN_ROWS} real rows, at least {HIERARCHY_MIN_SHARE:.0%} of which have one parent "
                   "value, more often than chance allows (a binomial test against that parent value's share of all "
                   f"rows, p &lt; {LEVEL_RULE_MAX_P:g}), in a pair of columns that is not a dependency as a whole: "
                   "in census data, "
                   "the relationship \"Husband\" implies the sex \"Male\" while \"Not-in-family\" goes with "
                   "both. Synthetic share: the share of synthetic rows with the child value that have the implied "
                   "parent value (– when no synthetic row has the child value).</p>")
    else:
        body += "<p>No level-wise implication found in the pairs that are not dependencies as a whole.</p>"
    title = ("Hierarchies: " + fmt(s["hierarchy_consistency"])) if len(pairs) else "Hierarchies"
    return _section("hierarchy", title, explain, body)


# ------------------------------------------------------------------------------------- coverage


def _coverage_section(cols: pd.DataFrame) -> str:
    rows = cols[["column", "kind", "category_coverage", "range_coverage", "boundary_adherence",
                 "real_missing", "synthetic_missing", "missing_similarity"]].itertuples(index=False)
    explain = ("Does the synthetic table reach every real category (category coverage: the share of real "
               "categories generated at least once) and the whole real range (range coverage: the share of the "
               "real [min, max] the synthetic values span), stay inside the real bounds (boundary adherence: the "
               "share of synthetic values inside them), and keep the share of missing values (1 minus the "
               "difference of the two missing rates)? All four are 1 at best.")
    body = _table(["column", "kind", "category coverage", "range coverage", "boundary adherence",
                   "real missing", "synthetic missing", "missing similarity"], rows)
    return _section("coverage", "Coverage, boundaries and missing values", explain, body)


# -------------------------------------------------------------------------------- support (α, β)


def _support_section(report: "FidelityReport", s: dict) -> str:
    sup = report.support
    explain = ("Are the synthetic rows realistic, and do they cover every kind of real row? Alpha-precision and "
               "beta-recall (Alaa et al., ICML 2022) look at whole rows rather than single columns or pairs. The "
               "alpha-support of the real rows is their most typical region holding a share alpha of them; "
               "alpha-precision asks which share of the synthetic rows falls inside it, for every alpha from 0 to "
               "1. A synthetic table from the real distribution puts a share alpha of its rows there; too many "
               "(rows piled on the most typical values) or too few (implausible rows) both count. Beta-recall "
               "asks the converse: the share of real rows with a synthetic row close by, in the synthetic "
               "table's most typical region holding a share beta of it. Each summary is 1 minus twice the area "
               "between its curve and the diagonal: 1 is best, 0 worst.")
    if np.isnan(sup["alpha_precision"]):
        return _section("support", "Realism and coverage: alpha-precision and beta-recall", explain,
                        _notes([f"The tables are too small ({sup['n_rows']} rows) for these figures."]))
    rows = [["alpha-precision (integrated)", s["alpha_precision"], "synthetic rows as typical as real ones"],
            ["beta-recall (integrated)", s["beta_recall"], "real rows of every kind have synthetic neighbours"],
            ["real rows with a synthetic row nearby", s["real_rows_covered"], "beta-recall at beta = 1"]]
    body = (_table(["figure", "value", "what 1 means"], rows)
            + _figure(_plots.support_curves(sup["levels"], sup["precision_curve"], sup["recall_curve"]),
                      "alpha-precision and beta-recall curves",
                      "Left: the share of synthetic rows inside the real alpha-support (orange) against alpha; "
                      "right: the share of real rows covered by the synthetic beta-support against beta. The "
                      "dashed diagonal is a table drawn from the real distribution; the shaded area between the "
                      "curve and the diagonal is what the summary counts. A precision curve below the diagonal "
                      "means implausible rows, above it rows piled on the most typical values; a recall curve "
                      "that stays low means kinds of real rows the synthetic table never produces (mode "
                      "collapse).")
            + f"<p>How it is computed: {sup['n_rows']:,} rows of each table (a seeded random draw) are put in one "
              "numeric space: each numeric or datetime column standardised with the real mean and standard "
              "deviation (a missing value at the mean, plus a 0/1 missing column), each categorical column one-hot "
              f"(its {SUPPORT_MAX_LEVELS} most frequent real values, the rest together; missing is a value). The "
              "space is then whitened with the real rows' covariance, so that a combination the real rows never "
              "show (an education level with another level's years) lies far away; the standardisation and the "
              "whitening are fitted on other real rows than those evaluated, which are then as new to the space "
              "as the synthetic rows. A support is a ball around the "
              "centre of its table's rows, holding the share alpha (or beta) of them. A real row counts as "
              "covered when its closest synthetic row is nearer than its "
              f"{SUPPORT_NEIGHBOURS}th-closest real row. The original method learns the space with a neural "
              "network (a one-class embedding); this fixed, whitened space is a simpler stand-in, so compare "
              "these figures between synthetic tables of one real table rather than with published ones.</p>")
    return _section("support", "Realism and coverage: alpha-precision and beta-recall", explain, body)


# -------------------------------------------------------------------------------------- utility


def _utility_section(report: "FidelityReport") -> str:
    ml = report.ml_efficacy
    det = report.detection
    explain = ("ML efficacy: a gradient-boosting model (scikit-learn's HistGradientBoosting) is trained on the "
               "synthetic table to predict the target and scored on real holdout rows, beside the same model "
               "trained on the real training rows (the ceiling): close figures mean a model built on the "
               "synthetic data would work nearly as well on real data. Detection: the same kind of classifier "
               "tries to tell synthetic rows from real ones.")
    if ml is None and det is None:
        return _section("utility", "Utility: ML efficacy and detection", explain, _notes(report._skip_notes()))
    body = _figure(_plots.utility(ml or {}, det), "utility",
                   "Left: the model's scores on the real holdout when trained on real rows (blue) and on synthetic "
                   "rows (orange); the nearer the orange bars to the blue ones, the more useful the synthetic "
                   "table. Right: the detection ROC AUC; the dashed line at 0.5 is a classifier that cannot tell "
                   "the tables apart, 1.0 one that recognises every synthetic row.")
    if ml is not None:
        keys = [k for k in ("roc_auc", "macro_f1", "r2") if f"real_{k}" in ml]
        body += _table(["figure", "trained on synthetic", "trained on real (reference)"],
                       [[k.replace("_", " "), ml[f"synthetic_{k}"], ml[f"real_{k}"]] for k in keys])
        body += _notes(ml.get("notes", []))
    else:
        body += _notes(report._skip_notes())
    if det is not None:
        body += (f"<p>Detection ROC AUC: <b>{fmt(det)}</b>. A gradient-boosting classifier tries to tell "
                 f"{min(report.detection_rows, len(report.holdout), len(report.synthetic)):,} holdout rows "
                 "from as many synthetic rows (5-fold cross-validation): 0.5 means it cannot, 1.0 that every "
                 "synthetic row is recognised. It is the hardest test here: most synthesizers score above 0.9 on "
                 "tables such as the census data set adult.</p>")
    return _section("utility", "Utility: ML efficacy and detection", explain, body)


# -------------------------------------------------------------------------------------- privacy


def _privacy_section(report: "FidelityReport", s: dict) -> str:
    d = report.distances
    warning = ('<p class="warning">These distances are diagnostics, not a privacy guarantee. A synthetic table '
               "can pass every one of them and still leak information about individuals; only differential "
               "privacy (see below) bounds what can be learned about any one row.</p>")
    rows = [["exact copies of a training row (share of synthetic rows)", s["exact_copies"],
             "near the rate at which real rows repeat each other"],
            ["median distance to closest training row", s["dcr_train_median"], "similar to holdout"],
            ["median nearest-neighbour distance ratio (NNDR)", s["nndr_median"], "not near 0"]]
    if "dcr_share_closer_to_train" in s:
        rows.insert(1, ["share of synthetic rows closer to training than to holdout (ties half)",
                        s["dcr_share_closer_to_train"], "0.5 (protocol bar: at most 0.55)"])
        rows.insert(3, ["median distance to closest holdout row", s["dcr_holdout_median"], "similar to training"])
    caption = ("How far each sampled synthetic row is from its closest training row (orange bars)"
               + (" and from its closest holdout row (blue outline). The two shapes should match: training and "
                  "holdout rows come from the same population, so a synthesizer that does not memorise sits "
                  "as close to one as to the other. A spike at 0 for training rows only is memorisation."
                  if d["to_holdout"] is not None else
                  ". A spike at 0 means synthetic rows that copy training rows. Without a holdout there is no "
                  "reference for the shape."))
    body = (warning + _table(["diagnostic", "value", "expected without memorisation"], rows)
            + '<p class="caption">The share closer to train counts each synthetic row whose closest training row is '
              "nearer than its closest holdout row. NNDR divides the distance to the closest training row by the "
              "distance to the second closest; near 0, rows sit on one particular training record rather than "
              "between several.</p>"
            + _figure(_plots.dcr_histogram(d["to_train"], d["to_holdout"]), "distance to closest record", caption)
            + f"<p>{d['n_synthetic']:,} synthetic rows against {d['n_train_reference']:,} training rows"
            + (f" and {len(report.holdout):,} holdout rows" if report.holdout is not None else "") + ".</p>"
            + _ledger(report))
    explain = ("How close do synthetic rows sit to the rows the model was trained on, compared with real rows it "
               "never saw? Gower distance: for each numeric column the gap divided by the real range (capped at 1), "
               "for each categorical column 0 if equal and 1 if not, averaged over columns; 0 is an identical row.")
    return _section("privacy", "Privacy diagnostics", explain, body)


def _ledger(report: "FidelityReport") -> str:
    privacy_spent = report.privacy_spent
    if privacy_spent is None:
        if report.model_info is not None:
            return ('<h3 id="dp-ledger">Differential privacy</h3><p class="note">The model was trained without '
                    "differential privacy (no epsilon was set), so it makes no formal privacy claim: nothing bounds "
                    "what the synthetic rows reveal about any one training row.</p>")
        return ('<h3 id="dp-ledger">Differential privacy</h3><p class="note">No model file and no privacy ledger '
                "were given, so this report cannot say whether the model was trained with differential privacy. "
                "Give the model (tabgan report --model model.tabgan, or FidelityReport(..., model=...)) to show "
                "its privacy ledger or to state that it has none.</p>")
    rows = [[m.get("name", "?"), float(m.get("epsilon", float("nan"))), float(m.get("delta", 0.0) or 0.0)]
            for m in privacy_spent.get("mechanisms", [])]
    rows.append(["total", float(privacy_spent["epsilon"]), float(privacy_spent.get("delta", 0.0) or 0.0)])
    unit = html.escape(str(privacy_spent.get("unit", "row")))
    return ('<h3 id="dp-ledger">Differential privacy ledger</h3>'
            f"<p>The model was trained with differential privacy; protected unit: {unit}. Every use of the "
            "real table is charged below: with the total epsilon and delta, anyone who sees the synthetic data "
            "(or the model) learns at most that much about whether any one row was in the training table.</p>"
            + _table(["mechanism", "epsilon", "delta"], rows))


# ---------------------------------------------------------------------------------------- model

#: Fit parameters shown first, in this order (the rest follow alphabetically).
_FIRST_PARAMS = ("epochs", "batch_size", "device", "epsilon", "delta", "random_state", "numeric_encoding",
                 "calibrate", "keep_best")


def _model_section(report: "FidelityReport") -> str:
    info = report.model_info
    explain = ("The settings the synthetic table was made with, as stored in the model: read them beside the "
               "scores (few epochs, say, explain weak pair trends).")
    if info is None:
        return _section("model", "Model and fit settings", explain, _notes([
            "No model was given, so its fit settings are unknown. Give it with tabgan report --model "
            "model.tabgan or FidelityReport(..., model=...) (a model file or a fitted Synthesizer)."]))
    params = info["params"]
    epochs = info.get("epochs_trained")
    requested = params.get("epochs")
    device = info.get("device")
    rows = [["source", info["source"]],
            ["tabgan version that wrote it", info.get("tabgan_version") or "not stored"],
            ["epochs trained", "not stored" if epochs is None else
             f"{epochs}" + (" (epochs=None: chosen from the table size)" if requested is None else
                            f" of {requested} requested")],
            ["device", device if device is not None else
             f"{params.get('device', '?')} requested (the model file does not store the device used)"],
            ["differential privacy", "no" if report.privacy_spent is None else
             f"yes: epsilon {fmt(float(report.privacy_spent['epsilon']))}, delta "
             f"{fmt(float(report.privacy_spent.get('delta', 0.0) or 0.0))}"]]
    if info.get("calibrated") is not None:
        rows.append(["output calibration fitted", "yes" if info["calibrated"] else "no"])
    ordered = [k for k in _FIRST_PARAMS if k in params] + sorted(k for k in params if k not in _FIRST_PARAMS)
    param_rows = [[k, "None" if params[k] is None else str(params[k])] for k in ordered]
    body = (_table(["setting", "value"], rows)
            + '<h3 id="fit-parameters">Parameters</h3>'
            + '<p class="caption">The estimator\'s parameters as given to Synthesizer(...). None is the library\'s '
              "default: epsilon None means no differential privacy; for epochs, batch size, network sizes and "
              "learning rates the value was chosen at fit time (from the table size).</p>"
            + _table(["parameter", "value"], param_rows))
    settings = info.get("settings") or {}
    if settings:
        body += ('<h3 id="fit-resolved">Values used by the fit</h3><p class="caption">What the fit actually used '
                 "where a parameter was left to the library, and the sizes it derived, as stored in the model.</p>"
                 + _table(["setting", "value"], [[k, _setting_text(v)] for k, v in settings.items()]))
    return _section("model", "Model and fit settings", explain, body)


def _setting_text(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_setting_text(v)}" for k, v in value.items()) or "–"
    if isinstance(value, list):
        return "(" + ", ".join(_setting_text(v) for v in value) + ")"
    return "None" if value is None else str(value)


def _schema_section(report: "FidelityReport") -> str:
    rows = [[spec.name, spec.kind] for spec in report.schema]
    source = ("the model's schema" if report.model_info is not None and report.model_info["schema"] is not None
              and report.schema is report.model_info["schema"] else
              "inferred from the real table as the synthesizer infers them, or given")
    return _section("schema", "Columns and kinds", "The column kinds every figure above was computed with "
                    f"({source}). A surprising score can come from a column read as the wrong kind (a numeric "
                    "code read as a category, say).", _table(["column", "kind"], rows))
