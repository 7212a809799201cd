"""Peak memory of ``Synthesizer.sample_to`` at 1M and 10M rows of adult-like data.

``sample_to`` writes ``chunk_size`` rows at a time, so its peak resident memory should not
grow with the number of rows written (issue 6). This script fits a small model (``epochs=1``)
on generated adult-like columns (no dataset download needed), saves it, then runs each
measurement in a fresh child process that loads the model, records its resident memory
(``VmRSS``) just before ``sample_to`` and its peak (``VmHWM``) just after.

Usage::

    python benchmarks/sample_memory.py                      # 1M and 10M rows, CSV and Parquet
    python benchmarks/sample_memory.py --rows 100000 1000000 --formats csv

Prints a markdown table and writes ``benchmarks/results/sample_memory.json``.
Linux only (reads ``/proc/self/status``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS = REPO_ROOT / "benchmarks" / "results" / "sample_memory.json"


def status_mb(field: str) -> float:
    """``VmRSS``/``VmHWM`` of this process in MiB (speed.py reads it too)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"{field} not in /proc/self/status")


def adult_like(n: int, seed: int = 0):
    """A frame with adult's column kinds and rough marginals (6 integer, 9 categorical)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)

    def cat(levels, skew=1.0):
        p = rng.dirichlet(np.full(len(levels), skew))
        return rng.choice(levels, n, p=p)

    education = [f"edu-{i}" for i in range(16)]
    return pd.DataFrame({
        "age": rng.integers(17, 91, n),
        "workclass": cat(["Private", "Self-emp", "Local-gov", "State-gov", "Federal-gov", "Without-pay",
                          "Never-worked", "?"], 0.5),
        "fnlwgt": rng.lognormal(12, 0.5, n).astype("int64"),
        "education": cat(education),
        "education-num": rng.integers(1, 17, n),
        "marital-status": cat([f"ms-{i}" for i in range(7)]),
        "occupation": cat([f"occ-{i}" for i in range(15)]),
        "relationship": cat([f"rel-{i}" for i in range(6)]),
        "race": cat([f"race-{i}" for i in range(5)], 0.3),
        "sex": cat(["Male", "Female"]),
        "capital-gain": np.where(rng.random(n) < 0.92, 0, rng.lognormal(8, 1, n)).astype("int64"),
        "capital-loss": np.where(rng.random(n) < 0.95, 0, rng.lognormal(7, 0.3, n)).astype("int64"),
        "hours-per-week": rng.integers(1, 100, n),
        "native-country": cat([f"country-{i}" for i in range(41)], 0.2),
        "income": cat(["<=50K", ">50K"]),
    })


def worker(model_path: str, out_path: str, rows: int, chunk_size: int) -> None:
    """Child process: load, measure, write; prints one JSON line."""
    import torch

    torch.set_num_threads(1)
    from tabgan import Synthesizer

    model = Synthesizer.load(model_path, device="cpu")
    rss_before = status_mb("VmRSS")
    hwm_before = status_mb("VmHWM")
    start = time.perf_counter()
    model.sample_to(out_path, rows, chunk_size=chunk_size, random_state=0)
    seconds = time.perf_counter() - start
    print(json.dumps({
        "rss_before_mb": round(rss_before, 1),
        "peak_before_mb": round(hwm_before, 1),
        "peak_mb": round(status_mb("VmHWM"), 1),
        "seconds": round(seconds, 1),
        "file_mb": round(os.path.getsize(out_path) / 2**20, 1),
    }))
    os.unlink(out_path)


def measure(rows_list, formats, chunk_size: int = 100_000, train_rows: int = 5_000, progress=True):
    """Fit a small model on ``adult_like(train_rows)`` and measure ``sample_to`` of each number of
    rows in each format, each in a fresh child process; ``(fit seconds, records)``.

    ``benchmarks/speed.py`` calls this too (target 3), so both report the same measurement.
    """
    sys.path.insert(0, str(REPO_ROOT))
    from tabgan import Synthesizer

    records = []
    with tempfile.TemporaryDirectory(prefix="tabgan-mem-") as tmp:
        model_path = os.path.join(tmp, "adult_like.tabgan")
        start = time.perf_counter()
        Synthesizer(epochs=1, random_state=0, verbose=False, device="cpu").fit(
            adult_like(train_rows)).save(model_path)
        fit_seconds = time.perf_counter() - start
        for fmt in formats:
            for rows in rows_list:
                out = os.path.join(tmp, f"out.{fmt}")
                proc = subprocess.run(
                    [sys.executable, __file__, "--worker", model_path, out, str(rows), str(chunk_size)],
                    capture_output=True, text=True, check=False,
                    env={**os.environ, "OMP_NUM_THREADS": "1"},
                )
                if proc.returncode != 0:
                    raise RuntimeError(f"sample_to worker failed ({fmt}, {rows} rows):\n{proc.stderr}")
                rec = {"format": fmt, "rows": rows, "chunk_size": chunk_size,
                       **json.loads(proc.stdout.strip().splitlines()[-1])}
                rec["growth_mb"] = round(rec["peak_mb"] - rec["rss_before_mb"], 1)
                rec["rows_per_s"] = round(rows / rec["seconds"]) if rec["seconds"] else None
                records.append(rec)
                if progress:
                    print(f"  {fmt} {rows:>11,} rows: peak {rec['peak_mb']:.0f} MB "
                          f"({rec['seconds']:.0f} s)", file=sys.stderr, flush=True)
    return fit_seconds, records


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--formats", nargs="+", default=["csv", "parquet"], choices=["csv", "parquet"])
    parser.add_argument("--chunk-size", type=int, default=100_000)
    parser.add_argument("--train-rows", type=int, default=5_000)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--worker", nargs=4, metavar=("MODEL", "OUT", "ROWS", "CHUNK"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        model, out, rows, chunk = args.worker
        worker(model, out, int(rows), int(chunk))
        return 0

    import torch

    torch.set_num_threads(1)
    fit_seconds, records = measure(args.rows, args.formats, args.chunk_size, args.train_rows)

    header = "| format | rows | chunk | RSS before (MB) | peak RSS (MB) | peak - before (MB) | seconds | file (MB) |"
    print(header)
    print("|" + "---|" * 8)
    for r in records:
        print(f"| {r['format']} | {r['rows']:,} | {r['chunk_size']:,} | {r['rss_before_mb']:.0f} | "
              f"{r['peak_mb']:.0f} | {r['growth_mb']:.0f} | {r['seconds']:.0f} | {r['file_mb']:.0f} |")
    result = {
        "benchmark": "sample_memory",
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count(), "torch": torch.__version__, "threads": 1},
        "train_rows": args.train_rows,
        "fit_seconds": round(fit_seconds, 1),
        "records": records,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
