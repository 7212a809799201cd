"""Fit one smartnoise-synth DP anchor (AIM or MST) on a shared table's train split and write its
synthetic rows as CSV; ``dp_adult.py --anchors`` runs this in the anchors' own environment
(``benchmarks/.venv-dp-anchors``, see benchmarks/README.md) and scores the rows itself.

    benchmarks/.venv-dp-anchors/bin/python benchmarks/dp_anchor_worker.py aim 1.0 OUT.csv --dataset penguins

As BENCHMARKS.md's anchors: 10% of epsilon to smartnoise's preprocessor (the bounds of the
numeric columns), delta 1e-5, the categorical and numeric columns named from the table's kinds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("synth", choices=["aim", "mst"])
    p.add_argument("epsilon", type=float)
    p.add_argument("out")
    p.add_argument("--dataset", default="adult")
    p.add_argument("--data-dir", default=str(HERE.parent.parent / "shared" / "datasets"))
    p.add_argument("--delta", type=float, default=1e-5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--aim-rounds", type=int, default=None,
                   help="AIM's rounds (default: its own, 16 per column); fewer rounds spend the same budget "
                        "on fewer, less noisy measurements and fit sooner")
    args = p.parse_args(argv)
    sys.path.insert(0, str(HERE))
    import _common as C
    import numpy as np

    df, meta = C.load_dataset(args.dataset, args.data_dir)
    train, _ = C.split(df)
    kinds = C.column_kinds(meta)
    continuous = [c for c in train.columns if kinds[c] in C.NUMERIC_KINDS]
    categorical = [c for c in train.columns if c not in continuous]
    frame = train.copy()
    for c in categorical:  # smartnoise's label encoder wants one type per column
        frame[c] = frame[c].astype(str)
    np.random.seed(args.seed)
    from snsynth import Synthesizer

    options = {"rounds": args.aim_rounds} if args.synth == "aim" and args.aim_rounds else {}
    model = Synthesizer.create(args.synth, epsilon=args.epsilon, delta=args.delta, **options)
    t0 = time.perf_counter()
    model.fit(frame, categorical_columns=categorical, continuous_columns=continuous,
              preprocessor_eps=0.1 * args.epsilon)
    fit_s = time.perf_counter() - t0
    synthetic = model.sample(len(train))
    synthetic.to_csv(args.out, index=False)
    print(f"{args.synth} eps={args.epsilon:g}: fit {fit_s:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
