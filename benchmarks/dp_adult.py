"""tabgan with differential privacy on adult (or another shared table), beside the DP anchors.

Protocol: ``../shared/docs/BENCHMARKS.md`` (split, SDMetrics quality, TSTR, detection, DCR).
tabgan sees **no public metadata** beyond the column kinds (``{"columns": {name: kind}}``):
category sets, bounds, modes, missing rates, level frequencies and the row count are all
paid from the budget and listed in the ledger, which is written with each row.

    /work/benchenv/bin/python benchmarks/dp_adult.py                  # epsilon 1, 3, 10
    /work/benchenv/bin/python benchmarks/dp_adult.py --epsilons 1 --epochs 10

On adult the anchors (smartnoise-synth MST, AIM, DP-CTGAN, PATE-CTGAN) are the figures measured
for BENCHMARKS.md with this protocol; they are printed for comparison, not re-run. On another
table, ``--anchors aim mst`` fits smartnoise's AIM and MST in their own environment
(``benchmarks/dp_anchor_worker.py`` in ``benchmarks/.venv-dp-anchors``) and scores them here:

    benchmarks/.venv/bin/python benchmarks/dp_adult.py --dataset penguins --anchors aim mst
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: BENCHMARKS.md, "Differentially private anchors on adult (delta 1e-5)":
#: (quality, column shapes, pair trends, TSTR AUC, detection AUC, DCR share)
ANCHORS = {
    ("AIM", 1): (0.895, 0.926, 0.865, 0.766, 1.000, 0.472),
    ("AIM", 3): (0.842, 0.808, 0.877, 0.772, 1.000, 0.578),
    ("AIM", 10): (0.796, 0.791, 0.800, 0.834, 1.000, 0.488),
    ("MST", 1): (0.883, 0.930, 0.837, 0.634, 1.000, 0.515),
    ("MST", 3): (0.826, 0.809, 0.844, 0.685, 1.000, 0.541),
    ("MST", 10): (0.785, 0.794, 0.775, 0.689, 1.000, 0.521),
    ("DP-CTGAN", 1): (0.526, 0.638, 0.414, 0.415, 1.000, 0.528),
    ("PATE-CTGAN", 1): (0.558, 0.652, 0.464, 0.347, 1.000, 0.506),
}

#: The benchmark runs tabgan's own DP defaults (``tabgan.synthesizer.DP_DEFAULTS``) unless an
#: option below overrides one; the JSON records every parameter of every run.


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="adult", help="a shared table (its anchors are run with --anchors)")
    p.add_argument("--anchors", nargs="*", default=[], choices=["aim", "mst"],
                   help="smartnoise-synth anchors to fit and score in this run (benchmarks/dp_anchor_worker.py)")
    p.add_argument("--anchor-python", default=str(HERE / ".venv-dp-anchors" / "bin" / "python"),
                   help="the anchors' environment (smartnoise-synth 1.0.8), see benchmarks/README.md")
    p.add_argument("--anchor-timeout", type=float, default=None,
                   help="seconds an anchor may take; one that takes longer (or fails) is listed under anchor_timeouts")
    p.add_argument("--aim-rounds", type=int, default=None,
                   help="AIM's rounds (default: smartnoise's, 16 per column; the whole budget is spent either way)")
    p.add_argument("--skip-tabgan", action="store_true", help="run the anchors only")
    p.add_argument("--epsilons", type=float, nargs="+", default=[1.0, 3.0, 10.0])
    p.add_argument("--delta", type=float, default=1e-5)
    p.add_argument("--epochs", type=int, default=None, help="tabgan epochs (default: its own)")
    p.add_argument("--batch-size", type=int, default=None, help="expected rows per DP step (default: tabgan's)")
    p.add_argument("--lr", type=float, default=None, help="generator and discriminator learning rate")
    p.add_argument("--data-dir", default=str(HERE.parent.parent / "shared" / "datasets"))
    p.add_argument("--out", default=None, help="JSON output (default: benchmarks/results/dp_adult.json)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def run_anchor(C, args, synth: str, eps: float, train, holdout, meta) -> dict:
    """Fit a smartnoise anchor in its own environment (a subprocess) and score its rows here."""
    import subprocess
    import tempfile

    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "synthetic.csv"
        t0 = time.perf_counter()
        try:
            subprocess.run([args.anchor_python, str(HERE / "dp_anchor_worker.py"), synth, str(eps), str(out),
                            "--dataset", args.dataset, "--data-dir", args.data_dir, "--delta", str(args.delta),
                            "--seed", str(args.seed)]
                           + (["--aim-rounds", str(args.aim_rounds)] if args.aim_rounds else []),
                           check=True, timeout=args.anchor_timeout)
        except subprocess.TimeoutExpired:
            return None
        except subprocess.CalledProcessError as exc:  # the anchor refused the table: say so, go on
            return f"failed (exit status {exc.returncode}; its error is printed above)"
        fit_s = time.perf_counter() - t0
        synthetic = pd.read_csv(out)
    for c in train.columns:  # back to the train split's types (the worker wrote categories as text)
        if c in synthetic and train[c].dtype == object:
            synthetic[c] = synthetic[c].where(synthetic[c].astype(str) != "nan").astype(object)
        elif c in synthetic and pd.api.types.is_datetime64_any_dtype(train[c]):  # written as text
            synthetic[c] = pd.to_datetime(synthetic[c], errors="coerce").astype(train[c].dtype)
        elif c in synthetic:
            synthetic[c] = pd.to_numeric(synthetic[c], errors="coerce").astype(train[c].dtype, errors="ignore")
    return C.score(f"smartnoise {synth.upper()} eps={eps:g}", train, holdout, synthetic[train.columns], meta,
                   fit_s=fit_s, sample_s=None, note="smartnoise-synth 1.0.8, preprocessor_eps 10% of epsilon, "
                   + (f"{args.aim_rounds} rounds, " if synth == "aim" and args.aim_rounds else "")
                   + "fit time includes the subprocess start", extra={"seed": args.seed})


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads > 0:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    sys.path.insert(0, str(HERE))
    import _common as C

    started = time.perf_counter()
    df, meta, train, holdout, task = C.prepared(args.dataset, args.data_dir, args.threads)
    n = len(train)
    kinds_only = {"columns": C.column_kinds(meta)}  # kinds only: no categories, bounds or counts
    print(f"{args.dataset}: train {n}, holdout {len(holdout)}; threads {args.threads}", flush=True)

    from tabgan import Synthesizer

    rows = []
    for eps in [] if args.skip_tabgan else args.epsilons:
        params = {}
        if args.batch_size is not None:
            params["batch_size"] = args.batch_size
        if args.epochs is not None:
            params["epochs"] = args.epochs
        if args.lr is not None:
            params["generator_lr"] = params["discriminator_lr"] = args.lr
        model = Synthesizer(epsilon=eps, delta=args.delta, random_state=args.seed, verbose=False, **params)
        t0 = time.perf_counter()
        model.fit(train, metadata=kinds_only)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        synthetic = model.sample(n, random_state=args.seed)
        sample_s = time.perf_counter() - t0
        ledger = model.privacy_spent_
        sgd = ledger["mechanisms"][-1]
        note = (f"eps {ledger['epsilon']:.3f} spent, {sgd['steps']} steps, "
                f"noise {sgd['noise_multiplier']:.2f}")
        print(f"  epsilon {eps}: fit {fit_s:.0f} s; {note}", flush=True)
        row = C.score(f"tabgan eps={eps:g}", train, holdout, synthetic, meta, fit_s=fit_s, sample_s=sample_s,
                      note=note, extra={"privacy_spent": ledger, "params": C._jsonable({**model.get_params(), "settings": {
                                          k: model.setting(k) for k in ("epochs", "batch_size", "generator_dims",
                                                                        "discriminator_dims", "generator_lr",
                                                                        "discriminator_lr")}}),
                                        "epochs_trained": model.epochs_})
        rows.append(row)
        print(f"  scored in {row['score_s']:.0f} s: quality {row['quality']:.3f}, pair trends "
              f"{row['pair_trends']:.3f}, TSTR "
              f"{C.fmt(C.ml_primary(row, task)[0])}, detection {C.fmt(C.detection_value(row))}", flush=True)

    timeouts = []
    for synth in args.anchors:
        for eps in args.epsilons:
            row = run_anchor(C, args, synth, eps, train, holdout, meta)
            if row is None or isinstance(row, str):
                timeouts.append(f"{synth} eps={eps:g}: " + (row or f"no result within {args.anchor_timeout:g} s"))
                print(f"  {timeouts[-1]}", flush=True)
                continue
            rows.append(row)
            print(f"  {synth} epsilon {eps}: quality {rows[-1]['quality']:.3f}, TSTR "
                  f"{C.fmt(C.ml_primary(rows[-1], task)[0])}", flush=True)

    table = C.markdown_table(rows, task)
    anchor_lines = ["| anchor | epsilon | quality | column shapes | pair trends | TSTR AUC | detection AUC | DCR share |",
                    "|---|---|---|---|---|---|---|---|"]
    for (name, eps), vals in ANCHORS.items():
        anchor_lines.append(f"| {name} | {eps} | " + " | ".join(f"{v:.3f}" for v in vals) + " |")
    print()
    print(table)
    if args.dataset == "adult":
        print()
        print("\n".join(anchor_lines))
    default = "dp_adult.json" if args.dataset == "adult" else f"dp_{args.dataset}.json"
    out = Path(args.out) if args.out else C.RESULTS_DIR / default
    payload = {
        "dataset": args.dataset, "delta": args.delta, "metadata": "column kinds only",
        "args": C.portable_args(vars(args)), "machine": C.machine_info(), "total_s": time.perf_counter() - started,
        "results": rows, "table": table, "anchor_timeouts": timeouts,
        "anchors": {f"{k[0]} eps={k[1]}": v for k, v in ANCHORS.items()} if args.dataset == "adult" else {},
    }
    print(f"\nwrote {C.write_json(out, payload)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
