"""Where a small table's DCR share comes from: tabgan beside two references that fit nothing.

The distance-to-closest-record share (``../shared/docs/BENCHMARKS.md``) compares each synthetic
row's Gower distance to a sample of the training rows with its distance to the holdout, both the
size of the holdout.  On a small table (penguins: 69 rows on each side) a discrete mismatch costs
1/n_columns, more than most numeric gaps, so the closest record is mostly one with the same
combination of discrete values, and the share reads which combinations each side happens to hold.
This script separates that part:

* **bootstrap of the training rows' discrete columns**: the synthesizer that learns the joint
  distribution of the discrete columns exactly as the table shows it, scored on those columns
  only.  Its share is the share of any perfect learner of the empirical discrete joint;
* **independent marginals**: every column drawn from its own marginal (no joint at all);
* **tabgan** at its defaults, scored on every column, on the discrete columns only and on the
  numeric columns only.

Each figure is the mean over ``--samples`` synthetic draws x 3 DCR subsamples (and over
``--seeds`` fits for tabgan).  Prints a markdown table and writes JSON.

    python benchmarks/dcr_reference.py                                   # penguins
    python benchmarks/dcr_reference.py --dataset credit_default --rows 1000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import (  # noqa: E402
    DEFAULT_DATA_DIR,
    NUMERIC_KINDS,
    column_kinds,
    fmt,
    independent_marginals,
    limit_threads,
    load_dataset,
    machine_info,
    portable_args,
    split,
    write_json,
)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="penguins")
    p.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    p.add_argument("--rows", type=int, default=None,
                   help="use a random subsample of this many rows before the split (default: all)")
    p.add_argument("--seeds", default="0,1", help="tabgan fits, comma-separated seeds (default: 0,1)")
    p.add_argument("--samples", type=int, default=4, help="synthetic draws per fit (default: 4)")
    p.add_argument("--epochs", type=int, default=None, help="tabgan epochs (default: its own)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=None, help="JSON path (default: benchmarks/results/dcr_reference_NAME.json)")
    return p.parse_args(argv)


def shares(train, holdout, synthetic, kinds, columns) -> list[float]:
    from tabgan.evaluation import metrics

    k = {c: kinds[c] for c in columns}
    return [metrics.dcr(train[columns], holdout[columns], synthetic[columns], k,
                        random_state=r)["dcr_share_closer_to_train"] for r in range(3)]


def summary(values: list[float]) -> dict:
    v = np.asarray(values, dtype=float)
    return {"mean": float(v.mean()), "standard_error": float(v.std(ddof=1) / np.sqrt(len(v))), "n": int(len(v))}


def main(argv=None) -> int:
    args = parse_args(argv)
    limit_threads(args.threads)
    from tabgan import Synthesizer

    df, meta = load_dataset(args.dataset, args.data_dir)
    if args.rows is not None and args.rows < len(df):
        df = df.sample(args.rows, random_state=0).reset_index(drop=True)
    train, holdout = split(df)
    kinds = column_kinds(meta)
    numeric = [c for c in train.columns if kinds[c] in NUMERIC_KINDS and train[c].nunique() > 20]
    discrete = [c for c in train.columns if c not in numeric]
    t0 = time.perf_counter()
    rows = {}
    boot, indep = [], []
    for r in range(args.samples * len(args.seeds.split(","))):
        sample = train.sample(len(train), replace=True, random_state=r).reset_index(drop=True)
        boot += shares(train, holdout, sample, kinds, discrete)
        indep += shares(train, holdout, independent_marginals(train, len(train), random_state=r), kinds,
                        list(train.columns))
    rows["bootstrap of the training rows, discrete columns"] = {"discrete": summary(boot)}
    rows["independent marginals"] = {"all": summary(indep)}
    parts = {"all": list(train.columns), "discrete": discrete, "numeric": numeric}
    got = {k: [] for k in parts}
    fit_s = []
    for seed in (int(s) for s in args.seeds.split(",")):
        t = time.perf_counter()
        model = Synthesizer(random_state=seed, epochs=args.epochs, verbose=False).fit(train, metadata=dict(meta))
        fit_s.append(time.perf_counter() - t)
        for i in range(args.samples):
            synthetic = model.sample(len(train), random_state=100 + i)
            for name, cols in parts.items():
                if cols:
                    got[name] += shares(train, holdout, synthetic, kinds, cols)
    rows["tabgan"] = {name: summary(v) for name, v in got.items() if v}
    lines = ["| synthesizer | DCR share, every column | discrete columns only | numeric columns only |",
             "|---|---|---|---|"]
    for name, r in rows.items():
        cells = [f"{fmt(r[p]['mean'])} ± {fmt(r[p]['standard_error'])}" if p in r else "–"
                 for p in ("all", "discrete", "numeric")]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(f"{args.dataset}: {len(train)} training rows, {len(holdout)} holdout rows; discrete columns: "
          f"{', '.join(discrete)}; numeric: {', '.join(numeric)}")
    print(table)
    out = args.out or HERE / "results" / f"dcr_reference_{args.dataset}{'' if args.rows is None else args.rows}.json"
    write_json(out, {"dataset": args.dataset, "rows": len(df), "train_rows": len(train),
                     "holdout_rows": len(holdout), "discrete_columns": discrete, "numeric_columns": numeric,
                     "args": portable_args(vars(args) | {"out": str(out)}), "machine": machine_info(),
                     "tabgan_fit_s": fit_s, "total_s": time.perf_counter() - t0, "results": rows,
                     "table": table})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
