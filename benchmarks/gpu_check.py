"""Fit and sample adult with tabgan on CUDA: epochs per second, times, peak GPU memory.

A short check (a few minutes at most at the defaults; no CTGAN, no SDMetrics) that the
training loop runs on a GPU and how fast.  Prints a table and writes JSON.

    python benchmarks/gpu_check.py                      # adult, tabgan defaults, cuda
    python benchmarks/gpu_check.py --epochs 50 --out benchmarks/results/gpu_check.json
    python benchmarks/gpu_check.py --rows 1000000 --epochs 3 --precision bfloat16 \
        --out benchmarks/results/gpu_check_1m.json     # issue 14: the 1M-row table, mixed precision

``--rows N`` fits N rows resampled from adult's training split with jitter (the table of
``benchmarks/speed.py``'s scale section) instead of the split itself; quality is then scored
against those rows.

Exits with status 2 and a message when CUDA is not available.  Needs only tabgan's own
dependencies (torch, numpy, pandas, scikit-learn, scipy).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _common as C  # noqa: E402  (after the path tweak)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="adult")
    p.add_argument("--data-dir", default=str(C.DEFAULT_DATA_DIR))
    p.add_argument("--device", default="cuda", help="CUDA device (default: cuda)")
    p.add_argument("--epochs", type=int, default=None, help="tabgan epochs (default: its own)")
    p.add_argument("--rows", type=int, default=None, help="fit this many jittered adult rows (speed.py's table)")
    p.add_argument("--precision", default="float32", choices=("float32", "bfloat16"),
                   help="Synthesizer(precision=...)")
    p.add_argument("--out", default=str(C.RESULTS_DIR / "gpu_check.json"))
    p.add_argument(
        "--score",
        action="store_true",
        help="also score TSTR, detection AUC and DCR on the holdout (tabgan.evaluation.metrics)",
    )
    return p.parse_args(argv)


def _epochs_run(model, params: dict) -> int | None:
    """Epochs actually trained: the history's length, else the ``epochs`` parameter."""
    history = getattr(model, "history_", None)
    if history is not None:
        try:
            return len(history)
        except TypeError:
            pass
    return params.get("epochs")


def _training_seconds(model) -> float | None:
    """Sum of the per-epoch seconds the history records (fit time less the setup)."""
    history = getattr(model, "history_", None)
    try:
        seconds = [float(r.seconds) for r in history]
    except (TypeError, AttributeError, ValueError):
        return None
    return sum(seconds) if seconds else None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print(
            "gpu_check: CUDA is not available here (torch "
            f"{torch.__version__}, built for CUDA {torch.version.cuda}); run it on a machine "
            "with an NVIDIA GPU and a CUDA build of torch.",
            file=sys.stderr,
        )
        return 2
    from tabgan import Synthesizer

    device = torch.device(args.device)
    t0 = time.perf_counter()
    torch.zeros(1, device=device)  # create the CUDA context outside the timed fit
    torch.cuda.synchronize(device)
    context_s = time.perf_counter() - t0

    df, meta = C.load_dataset(args.dataset, args.data_dir)
    train, holdout = C.split(df)
    if args.rows is not None:
        from speed import jittered_adult

        train = jittered_adult(train, args.rows, meta)
    n = len(train)

    accepted = Synthesizer().get_params()
    params = {"random_state": 0, "device": str(device)}
    if "verbose" in accepted:
        params["verbose"] = False
    if args.epochs is not None:
        params["epochs"] = args.epochs
    if args.precision != "float32":
        params["precision"] = args.precision
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        print(f"gpu_check: Synthesizer has no parameter(s) {unknown}", file=sys.stderr)
        return 1
    model = Synthesizer(**params)

    torch.cuda.reset_peak_memory_stats(device)
    t0 = time.perf_counter()
    model.fit(train, metadata=meta)
    torch.cuda.synchronize(device)
    fit_s = time.perf_counter() - t0
    fit_peak = torch.cuda.max_memory_allocated(device)

    torch.cuda.reset_peak_memory_stats(device)
    t0 = time.perf_counter()
    synthetic = model.sample(n, random_state=0)
    torch.cuda.synchronize(device)
    sample_s = time.perf_counter() - t0
    sample_peak = torch.cuda.max_memory_allocated(device)

    all_params = model.get_params()
    epochs = _epochs_run(model, all_params)
    train_s = _training_seconds(model)
    from tabgan.evaluation import metrics  # torch-free, quick; a sanity check, not the benchmark

    q = metrics.quality(train, synthetic[train.columns], C.column_kinds(meta), random_state=0)
    result = {
        "dataset": args.dataset,
        "device": str(device),
        "gpu": torch.cuda.get_device_name(device),
        "cuda": torch.version.cuda,
        "train_rows": n,
        "generated_rows": args.rows is not None,
        "precision": args.precision,
        "epochs": epochs,
        "context_s": context_s,
        "fit_s": fit_s,
        "training_s": train_s,
        "epochs_per_s": epochs / fit_s if epochs else None,
        "epochs_per_s_training": epochs / train_s if epochs and train_s else None,
        "sample_s": sample_s,
        "sample_rows_per_s": n / sample_s if sample_s > 0 else None,
        "peak_gpu_mib_fit": fit_peak / 2**20,
        "peak_gpu_mib_sample": sample_peak / 2**20,
        "quality_tabgan_metrics": q,
        "params": all_params,
    }
    if args.score:
        t0 = time.perf_counter()
        result["scores"] = C.utility_privacy(train, holdout, synthetic[train.columns], meta)
        result["score_s"] = time.perf_counter() - t0
    lines = [
        "| device | epochs | fit | epochs/s (fit) | epochs/s (training) | sample "
        f"{n} rows | peak GPU memory fit / sample | quality (tabgan metrics) |",
        "|---|---|---|---|---|---|---|---|",
        f"| {result['gpu']} | {epochs} | {C.fmt_seconds(fit_s)} | "
        f"{C.fmt(result['epochs_per_s'], 2)} | {C.fmt(result['epochs_per_s_training'], 2)} | "
        f"{C.fmt_seconds(sample_s)} | {result['peak_gpu_mib_fit']:.0f} / "
        f"{result['peak_gpu_mib_sample']:.0f} MiB | {C.fmt(q.get('quality'))} |",
    ]
    if args.score:
        s = result["scores"]
        tstr, tstr_real = C.ml_primary(s, s["ml_efficacy"].get("task", "binary"))
        lines += [
            "",
            "| TSTR (real) | detection AUC | DCR share to train |",
            "|---|---|---|",
            f"| {C.fmt(tstr)} ({C.fmt(tstr_real)}) | {C.fmt(C.detection_value(s))} | "
            f"{C.fmt(C.dcr_values(s)[0])} |",
        ]
    table = "\n".join(lines)
    print(table)
    payload = {"machine": C.machine_info(), "result": result, "table": table}
    print(f"\nwrote {C.write_json(args.out, payload)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
