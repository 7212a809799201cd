"""Fit and sample every shared table; check that the synthetic table keeps the real one's form.

    python benchmarks/shared_tables.py [--epochs 2] [--datasets adult penguins ...]

For each table (read as a user would, kinds inferred, or with ``--metadata`` from its JSON)
it checks: same columns in the same order, same dtypes, numeric and datetime values inside
the training range, categorical values inside the training category set, and the missing
rate of every column (absolute difference). Prints a table and writes JSON to
benchmarks/results/shared_tables.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

DATASETS = ["adult", "penguins", "diamonds", "taxis", "credit_default", "flights"]


def check(real, synthetic, schema) -> dict:
    import numpy as np

    from tabgan.schema import numeric_values

    out = {
        "columns_and_order": list(real.columns) == list(synthetic.columns),
        "dtypes": bool((real.dtypes == synthetic.dtypes).all()),
    }
    in_range, in_categories, miss_gap = True, True, 0.0
    for spec in schema:
        r, s = real[spec.name], synthetic[spec.name]
        miss_gap = max(miss_gap, abs(r.isna().mean() - s.isna().mean()))
        if spec.is_discrete:
            in_categories &= bool(set(s.dropna().astype(str)) <= set(r.dropna().astype(str)))
        else:
            rv, sv = numeric_values(r, spec), numeric_values(s, spec)
            sv = sv[~np.isnan(sv)]
            in_range &= bool(((sv >= np.nanmin(rv)) & (sv <= np.nanmax(rv))).all())
    out.update(in_range=in_range, in_categories=in_categories, max_missing_rate_gap=round(miss_gap, 4))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--datasets", nargs="*", default=DATASETS)
    p.add_argument("--data-dir", default=str(HERE.parent.parent / "shared" / "datasets"))
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--metadata", action="store_true", help="pass the dataset JSON as metadata")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=str(HERE / "results" / "shared_tables.json"))
    args = p.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import pandas as pd
    import torch

    torch.set_num_threads(args.threads)
    from tabgan import Synthesizer

    rows = []
    for name in args.datasets:
        real = pd.read_csv(Path(args.data_dir) / f"{name}.csv", skipinitialspace=True)
        meta = json.loads((Path(args.data_dir) / f"{name}.json").read_text()) if args.metadata else None
        start = time.perf_counter()
        model = Synthesizer(epochs=args.epochs, random_state=0, verbose=False).fit(real, metadata=meta)
        fit_s = time.perf_counter() - start
        start = time.perf_counter()
        synthetic = model.sample(len(real), random_state=0)
        sample_s = time.perf_counter() - start
        row = {"dataset": name, "rows": len(real), "columns": real.shape[1], "fit_s": round(fit_s, 1),
               "sample_s": round(sample_s, 2), **check(real, synthetic, model.schema_)}
        rows.append(row)
        print(json.dumps(row), flush=True)
    keys = list(rows[0])
    print("\n| " + " | ".join(keys) + " |\n|" + "---|" * len(keys))
    for row in rows:
        print("| " + " | ".join(str(row[k]) for k in keys) + " |")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"epochs": args.epochs, "metadata": args.metadata, "rows": rows}, indent=2))
    ok = all(r["columns_and_order"] and r["dtypes"] and r["in_range"] and r["in_categories"] for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
