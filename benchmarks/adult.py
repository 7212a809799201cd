"""tabgan beside CTGAN and the two reference rows, on adult or another shared table.

Protocol: ``../shared/docs/BENCHMARKS.md``.  Rows: the real training rows (the ceiling),
independent marginals (the floor), CTGAN 0.12.1 with its defaults, and tabgan.  Prints a
markdown table and writes JSON.

    python benchmarks/adult.py                          # adult, CTGAN fit time estimated
    python benchmarks/adult.py --dataset penguins --ctgan-epochs 300
    python benchmarks/adult.py --skip-ctgan --tabgan-epochs 50
    python benchmarks/adult.py --skip-ctgan --tabgan-param generator_average=0 --no-target  # ablation

CTGAN: without ``--ctgan-epochs`` it trains ``--ctgan-timing-epochs`` (3) epochs, and its fit
time is the measured setup (encoder fit, transform, sampler) + 300 x the mean measured epoch;
its quality figures then come from that barely trained model, and the table says so.  With
``--ctgan-epochs N`` it trains N epochs and its fit time is measured.

Run it in the benchmark environment (ctgan 0.12.1 and sdmetrics 0.32.0, which need pandas < 3)
with the repository on the path, e.g. ``/work/benchenv/bin/python benchmarks/adult.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="adult", help="shared dataset name (default: adult)")
    p.add_argument(
        "--data-dir",
        default=str(HERE.parent.parent / "shared" / "datasets"),
        help="folder with NAME.csv and NAME.json (default: ../shared/datasets)",
    )
    p.add_argument(
        "--ctgan-epochs",
        type=int,
        default=None,
        help="train CTGAN this many epochs and measure its fit (default: estimate 300 epochs)",
    )
    p.add_argument(
        "--ctgan-timing-epochs",
        type=int,
        default=3,
        help="epochs trained to estimate CTGAN's 300-epoch fit time (default: 3)",
    )
    p.add_argument("--skip-ctgan", action="store_true")
    p.add_argument("--skip-tabgan", action="store_true")
    p.add_argument(
        "--tabgan-epochs", type=int, default=None, help="tabgan epochs (default: its own)"
    )
    p.add_argument(
        "--numeric-encoding", choices=("auto", "modes", "quantile"), default=None,
        help="tabgan's numeric_encoding (default: its own)",
    )
    p.add_argument(
        "--tabgan-param", action="append", default=[], metavar="NAME=JSON",
        help="another tabgan parameter, e.g. generator_average=0 or 'generator_dims=[256, 256]' (repeatable)",
    )
    p.add_argument(
        "--no-target", action="store_true",
        help="fit tabgan without the dataset's target in its metadata (scores still use it)",
    )
    p.add_argument(
        "--seed", type=int, default=0, help="tabgan's random_state, fit and sample (default: 0)"
    )
    p.add_argument(
        "--out", default=None,
        help="JSON output (default: benchmarks/results/NAME.json, NAME-seedS.json for --seed S > 0)",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch/OpenMP threads, as in the protocol (default: 1; 0 leaves the defaults)",
    )
    args = p.parse_args(argv)
    if args.ctgan_epochs is not None and args.ctgan_epochs < 1:
        p.error("--ctgan-epochs must be >= 1")
    if args.ctgan_timing_epochs < 1:
        p.error("--ctgan-timing-epochs must be >= 1")
    for item in args.tabgan_param:
        name, sep, value = item.partition("=")
        try:
            json.loads(value)
        except json.JSONDecodeError:
            sep = ""
        if not sep or not name:
            p.error(f"--tabgan-param takes NAME=JSON (e.g. generator_average=0); got {item!r}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.threads > 0:  # before numpy/torch/sklearn load their thread pools
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    sys.path.insert(0, str(HERE))
    import _common as C

    C.limit_threads(args.threads)
    started = time.perf_counter()
    df, meta = C.load_dataset(args.dataset, args.data_dir)
    train, holdout = C.split(df)
    task = C.task_of(df, meta)
    n = len(train)
    print(
        f"{args.dataset}: {len(df)} rows x {df.shape[1]} columns; train {n}, holdout "
        f"{len(holdout)}; target {meta['target']!r} ({task}); threads {args.threads or 'default'}",
        flush=True,
    )

    rows = []
    suffix = f"-seed{args.seed}" if args.seed else ""
    out = Path(args.out) if args.out else C.RESULTS_DIR / f"{args.dataset}{suffix}.json"

    def payload(table: str | None) -> dict:
        return {
            "dataset": args.dataset,
            "target": meta["target"],
            "task": task,
            "rows": {"total": len(df), "train": n, "holdout": len(holdout)},
            "args": C.portable_args(vars(args)),
            "machine": C.machine_info(),
            "complete": table is not None,
            "total_s": time.perf_counter() - started,
            "results": rows,
            "table": table,
        }

    def add(row: dict) -> None:
        rows.append(row)
        print(f"  scored {row['name']} in {row['score_s']:.1f} s", flush=True)
        C.write_json(out, payload(None))  # a long run keeps what it has measured so far

    # The ceiling: real rows.  Quality is the holdout's against train (sampling noise between
    # two real samples); TSTR is train-on-real; detection tells holdout from training rows.
    add(C.score("real rows (ceiling)", train, holdout, train, meta, fit_s=None, sample_s=None,
                with_dcr=False, quality_rows=holdout))

    synthetic, sample_s = C.timed(lambda: C.independent_marginals(train, n, random_state=0))
    add(C.score("independent marginals (floor)", train, holdout, synthetic, meta,
                fit_s=0.0, sample_s=sample_s))

    if not args.skip_ctgan:
        print("fitting CTGAN ...", flush=True)
        synthetic, info = C.run_ctgan(
            train,
            meta,
            n=n,
            epochs=args.ctgan_epochs,
            timing_epochs=args.ctgan_timing_epochs,
        )
        if info["fit_time_estimated"]:
            note = (
                f"{info['epochs_trained']} epochs trained; fit time = setup "
                f"{info['setup_s']:.0f} s + 300 x {info['mean_epoch_s']:.1f} s/epoch"
            )
        else:
            note = f"{info['epochs_trained']} epoch" + ("s" if info["epochs_trained"] > 1 else "")
        print(f"  CTGAN: {note}", flush=True)
        add(C.score(f"CTGAN {info['version']}", train, holdout, synthetic, meta,
                    fit_s=info["fit_s"], sample_s=info["sample_s"], note=note,
                    extra={"ctgan": info}))

    if not args.skip_tabgan:
        print("fitting tabgan ...", flush=True)
        params = {} if args.tabgan_epochs is None else {"epochs": args.tabgan_epochs}
        if args.numeric_encoding is not None:
            params["numeric_encoding"] = args.numeric_encoding
        for item in args.tabgan_param:
            name, _, value = item.partition("=")
            value = json.loads(value)
            params[name] = tuple(value) if isinstance(value, list) else value
        tabgan_meta = {k: v for k, v in meta.items() if k != "target"} if args.no_target else meta
        synthetic, info, _ = C.run_tabgan(train, tabgan_meta, n=n, random_state=args.seed, **params)
        note = ", ".join([f"{k} {v}" for k, v in params.items()] + (["no target"] if args.no_target else []))
        print(f"  tabgan: fit {info['fit_s']:.1f} s, sample {info['sample_s']:.1f} s", flush=True)
        add(C.score("tabgan", train, holdout, synthetic, meta, fit_s=info["fit_s"],
                    sample_s=info["sample_s"], note=note, extra={"tabgan": info}))

    table = C.markdown_table(rows, task)
    print()
    print(table)
    errors = {r["name"]: r["utility_error"] for r in rows if "utility_error" in r}
    if errors:
        print(f"\nutility/privacy metrics not computed: {next(iter(errors.values()))}")
    print(f"\nwrote {C.write_json(out, payload(table))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
