"""Compare tabgan's fidelity report with SDMetrics 0.32.0 on adult, and time the full report.

Protocol: the shared ``BENCHMARKS.md`` (adult split with ``random_state=0``; numeric columns as
``numerical``, the rest ``categorical``).  SDMetrics is not a tabgan dependency: run this with an
interpreter that has it, e.g.::

    python -m venv --system-site-packages /work/benchenv
    /work/benchenv/bin/pip install sdmetrics==0.32.0
    /work/benchenv/bin/python benchmarks/report_adult.py --synthetic marginals

``--synthetic`` is ``marginals`` (each column resampled independently: the floor), ``tabgan``
(``tabgan.Synthesizer`` fitted for ``--epochs`` epochs on the training rows), ``holdout`` (the real
holdout rows as the synthetic table: the ceiling) or a CSV path.  A
second comparison runs on a generated table with missing values, datetimes and booleans, the cases
adult lacks.  Prints a table and writes JSON (``--json``) and the HTML report (``--html``); with
``--model`` (a model file, or the one ``--synthetic tabgan`` fits) the report shows its fit
settings.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tabgan.evaluation import FidelityReport  # noqa: E402
from tabgan.evaluation.metrics import column_shapes, pair_trends, summarise_quality  # noqa: E402

DATA = ROOT.parent / "shared" / "datasets"
SDTYPES = {"continuous": "numerical", "integer": "numerical", "datetime": "datetime",
           "categorical": "categorical", "boolean": "boolean"}


def load_adult() -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    df = pd.read_csv(DATA / "adult.csv", skipinitialspace=True)
    kinds = json.loads((DATA / "adult.json").read_text())["columns"]
    holdout = df.sample(frac=0.2, random_state=0)
    return df.drop(holdout.index), holdout, kinds


def marginals(train: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(train)
    return pd.DataFrame({c: train[c].to_numpy()[rng.integers(0, n, n)] for c in train.columns})


def generated(seed: int = 1, n: int = 3000) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """A table with the awkward cases: NaNs, datetimes, booleans, correlated pairs."""
    rng = np.random.default_rng(seed)

    def make(shift: float) -> pd.DataFrame:
        x = rng.normal(size=n)
        y = 2 * x + rng.normal(scale=0.5 + shift, size=n)
        cat = np.where(x + rng.normal(scale=0.5, size=n) > 0, "high", "low").astype(object)
        cat[rng.random(n) < 0.1] = None
        z = rng.exponential(size=n) + shift
        z[rng.random(n) < 0.15] = np.nan
        when = pd.Timestamp("2020-01-01") + pd.to_timedelta(x * 30 + shift * 10, unit="D")
        flag = rng.random(n) < (0.3 + 0.2 * (x > 0))
        return pd.DataFrame({"x": x, "y": y, "cat": cat, "z": z, "when": when, "flag": flag,
                             "k": rng.integers(0, 5 + int(shift * 3), n)})

    kinds = {"x": "continuous", "y": "continuous", "cat": "categorical", "z": "continuous",
             "when": "datetime", "flag": "boolean", "k": "integer"}
    return make(0.0), make(1.0), kinds


def sdmetrics_scores(real: pd.DataFrame, synthetic: pd.DataFrame, kinds: dict, all_pairs: bool = False) -> dict:
    from sdmetrics.reports.single_table import QualityReport

    metadata = {"columns": {c: {"sdtype": SDTYPES[k]} for c, k in kinds.items()}}
    report = QualityReport()
    if all_pairs:  # the pre-0.27 form: every pair counts
        report.real_correlation_threshold = 0
        report.real_association_threshold = 0
    start = time.perf_counter()
    report.generate(real[list(kinds)], synthetic[list(kinds)], metadata, verbose=False)
    seconds = time.perf_counter() - start
    props = report.get_properties().set_index("Property")["Score"]
    shapes = report.get_details("Column Shapes")
    pairs = report.get_details("Column Pair Trends")
    return {"quality": float(report.get_score()), "column_shapes": float(props["Column Shapes"]),
            "pair_trends": float(props["Column Pair Trends"]), "shapes": shapes, "pairs": pairs,
            "seconds": seconds}


def compare(real: pd.DataFrame, synthetic: pd.DataFrame, kinds: dict) -> dict:
    """Scores from both libraries and the largest per-column / per-pair disagreement."""
    ours_shapes = column_shapes(real, synthetic, kinds)
    ours_pairs = pair_trends(real, synthetic, kinds)
    ours = summarise_quality(ours_shapes, ours_pairs)
    theirs = sdmetrics_scores(real, synthetic, kinds)
    theirs["pair_trends_all_pairs"] = sdmetrics_scores(real, synthetic, kinds, all_pairs=True)["pair_trends"]
    shape_diff = np.abs(ours_shapes.set_index("column")["score"]
                        - theirs["shapes"].set_index("Column")["Score"]).max()
    mine = ours_pairs.set_index(["column_1", "column_2"])
    ref = theirs["pairs"].set_index(["Column 1", "Column 2"])
    counted = ref["Meets Threshold?"].fillna(False).astype(bool)
    pair_diff = np.nanmax(np.abs(mine.loc[ref.index[counted], "score"] - ref.loc[counted, "Score"]))
    threshold_agree = bool((mine.loc[ref.index, "meets_threshold"].to_numpy() == counted.to_numpy()).all())
    return {
        "tabgan": {k: ours[k] for k in ("quality", "column_shapes", "pair_trends", "pair_trends_all_pairs")},
        "sdmetrics": {k: theirs[k] for k in ("quality", "column_shapes", "pair_trends", "pair_trends_all_pairs")},
        "max_abs_diff": {k: abs(ours[k] - theirs[k])
                         for k in ("quality", "column_shapes", "pair_trends", "pair_trends_all_pairs")},
        "max_column_diff": float(shape_diff),
        "max_counted_pair_diff": float(pair_diff) if counted.any() else 0.0,
        "same_pairs_counted": threshold_agree,
        "sdmetrics_seconds": theirs["seconds"],
    }


def tabgan_synthetic(train: pd.DataFrame, kinds: dict, epochs: int, model_path: str | None = None) -> pd.DataFrame:
    from tabgan import Synthesizer

    discrete = [c for c, k in kinds.items() if k == "categorical"]
    model = Synthesizer(epochs=epochs, random_state=0).fit(train, discrete_columns=discrete)
    if model_path:
        model.save(model_path)
    return model.sample(len(train), random_state=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", default="marginals",
                        help="'marginals', 'tabgan', 'holdout' or a CSV path (default: marginals)")
    parser.add_argument("--epochs", type=int, default=30, help="epochs for --synthetic tabgan")
    parser.add_argument("--json", default="/tmp/tabgan_report_adult.json")
    parser.add_argument("--html", default="/tmp/tabgan_report_adult.html")
    parser.add_argument("--model", help="model file that made --synthetic (its fit settings are shown); with "
                                        "--synthetic tabgan, where to save the fitted model")
    parser.add_argument("--skip-sdmetrics", action="store_true", help="only time the report")
    args = parser.parse_args(argv)

    train, holdout, kinds = load_adult()
    if args.synthetic == "marginals":
        synthetic = marginals(train)
    elif args.synthetic == "tabgan":
        synthetic = tabgan_synthetic(train, kinds, args.epochs, args.model)
    elif args.synthetic == "holdout":
        synthetic = holdout
    else:
        synthetic = pd.read_csv(args.synthetic, skipinitialspace=True)

    start = time.perf_counter()
    report = FidelityReport(real=train, synthetic=synthetic, holdout=holdout, target="income",
                            metadata={"columns": kinds}, model=args.model, random_state=0)
    scores = report.scores
    report.to_html(args.html)
    report_seconds = time.perf_counter() - start
    result = {"synthetic": args.synthetic, "report_seconds": report_seconds,
              "scores": {k: v for k, v in scores.items() if isinstance(v, (int, float, str))},
              "section_seconds": dict(report.timings), "html": args.html}
    print(f"full report on adult ({len(train)} train, {len(holdout)} holdout, synthetic={args.synthetic}): "
          f"{report_seconds:.1f} s -> {args.html}")
    print("  sections: " + ", ".join(f"{k} {v:.1f} s" for k, v in report.timings.items()))
    for key in ("quality", "column_shapes", "pair_trends", "pair_trends_all_pairs", "alpha_precision", "beta_recall",
                "real_rows_covered", "hierarchy_consistency", "hierarchy_pairs", "level_rule_consistency",
                "level_rules", "ml_efficacy_synthetic", "ml_efficacy_real", "detection_auc",
                "dcr_share_closer_to_train", "exact_copies", "nndr_median"):
        if key in scores:
            value = scores[key]
            print(f"  {key:28s} {value:.4f}" if isinstance(value, float) else f"  {key:28s} {value}")

    if not args.skip_sdmetrics:
        result["adult"] = compare(train, synthetic, kinds)
        real_g, synth_g, kinds_g = generated()
        result["generated"] = compare(real_g, synth_g, kinds_g)
        print("\nagreement with SDMetrics 0.32.0 QualityReport (|tabgan - sdmetrics|):")
        print(f"  {'table':10s} {'score':22s} {'tabgan':>8s} {'sdmetrics':>10s} {'diff':>9s}")
        for table in ("adult", "generated"):
            c = result[table]
            for key in ("quality", "column_shapes", "pair_trends", "pair_trends_all_pairs"):
                print(f"  {table:10s} {key:22s} {c['tabgan'][key]:8.4f} {c['sdmetrics'][key]:10.4f} "
                      f"{c['max_abs_diff'][key]:9.2e}")
            print(f"  {table:10s} worst column {c['max_column_diff']:.2e}, worst counted pair "
                  f"{c['max_counted_pair_diff']:.2e}, same pairs counted: {c['same_pairs_counted']}, "
                  f"sdmetrics took {c['sdmetrics_seconds']:.1f} s")
    Path(args.json).write_text(json.dumps(result, indent=2, default=float))
    print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
