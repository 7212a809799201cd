"""Data-parallel scaling: training rows per second of one tabgan fit on 1 and 2 processes.

Each configuration is one ``torchrun --standalone --nproc-per-node P`` launch of this script
(the workers fit adult's train split with the same settings; a launch of one process is the
ordinary one-process fit). Training rows per second = epochs x steps per epoch x the global
batch / the seconds the training loop took (the history's per-epoch seconds, rank 0): encoder
fitting, the validation check and the calibration are left out (``keep_best=False``,
``calibrate=False``), so the figure is the loop's throughput. Prints a table, writes JSON.

    python benchmarks/distributed_scaling.py --data-dir ../shared/datasets            # CPU, gloo, 1 and 2 processes
    python benchmarks/distributed_scaling.py --device cuda --processes 1 --out benchmarks/results/distributed_scaling_gpu.json

On CPU every process runs one torch thread; on CUDA each process takes its own GPU (NCCL), so
``--processes`` cannot exceed the GPU count. Quote ratios measured in one run: on a shared
machine the absolute figures move with the load (recorded in the JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _common as C  # noqa: E402  (after the path tweak)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="adult")
    p.add_argument("--data-dir", default=str(C.DEFAULT_DATA_DIR))
    p.add_argument("--device", default="cpu", help="cpu (gloo) or cuda (NCCL, one GPU per process)")
    p.add_argument("--processes", default="1,2", help="comma-separated process counts (default: 1,2)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--out", default=str(C.RESULTS_DIR / "distributed_scaling.json"))
    p.add_argument("--worker-out", help=argparse.SUPPRESS)  # set when this script runs as a torchrun worker
    return p.parse_args(argv)


def worker(args: argparse.Namespace) -> None:
    """One rank of a launch: fit, and (rank 0) write the timing to ``--worker-out``."""
    C.limit_threads(1)
    from tabgan import Synthesizer

    df, meta = C.load_dataset(args.dataset, args.data_dir)
    train, _ = C.split(df)
    model = Synthesizer(epochs=args.epochs, batch_size=args.batch_size, keep_best=False, calibrate=False,
                        dependencies=False, device=args.device, random_state=0, verbose=False)
    start = time.perf_counter()
    model.fit(train, metadata=meta)
    fit_seconds = time.perf_counter() - start
    if int(os.environ.get("RANK", "0")) != 0:
        return
    seconds = sum(float(r.seconds) for r in model.history_)
    settings = model.settings_
    steps = len(train) // settings["batch_size"]
    rows = len(model.history_) * steps * settings["batch_size"]
    Path(args.worker_out).write_text(json.dumps({
        "processes": settings["processes"], "device": settings["device"], "epochs": len(model.history_),
        "steps_per_epoch": steps, "batch_size": settings["batch_size"], "training_seconds": seconds,
        "fit_seconds": fit_seconds, "training_rows_per_second": rows / seconds}))


def launch(args: argparse.Namespace, processes: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rank0.json"
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(processes),
               __file__, "--dataset", args.dataset, "--data-dir", args.data_dir, "--device", args.device,
               "--epochs", str(args.epochs), "--batch-size", str(args.batch_size), "--worker-out", str(out)]
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        load_before = os.getloadavg()[0]
        subprocess.run(cmd, env=env, check=True)
        record = json.loads(out.read_text())
    record["load_average_1min_before"] = load_before
    record["load_average_1min_after"] = os.getloadavg()[0]
    return record


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker_out:
        worker(args)
        return 0
    if args.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            print("distributed_scaling: --device cuda needs CUDA, which is not available here", file=sys.stderr)
            return 2
    counts = [int(p) for p in args.processes.split(",")]
    rows = [launch(args, p) for p in counts]
    base = rows[0]["training_rows_per_second"]
    for r in rows:
        r["speedup"] = r["training_rows_per_second"] / base
    print(f"\n{args.dataset}, {args.epochs} epochs, global batch {args.batch_size}, {args.device}\n")
    print("| processes | device | training rows/s | speed-up | training s | fit s | load before/after |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['processes']} | {r['device']} | {r['training_rows_per_second']:,.0f} | {r['speedup']:.2f} | "
              f"{r['training_seconds']:.1f} | {r['fit_seconds']:.1f} | {r['load_average_1min_before']:.1f} / "
              f"{r['load_average_1min_after']:.1f} |")
    C.write_json(args.out, {"args": C.portable_args(vars(args)), "machine": C.machine_info(), "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
