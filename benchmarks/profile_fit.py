"""Where tabgan's fit time goes, phase by phase, plus the top functions of a cProfile.

    python benchmarks/profile_fit.py [--dataset adult] [--epochs 3] [--threads 1] [--precision float32]
        [--tabgan-param NAME=JSON ...]

Prints a table of phases (schema inference, encoder fit, encoding, network set-up, training
per epoch, sampling) and the 15 most expensive functions, and writes both (with the load
average) to benchmarks/results/profile_NAME.json.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="adult")
    p.add_argument("--data-dir", default=str(HERE.parent.parent / "shared" / "datasets"))
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--precision", default="float32", help="Synthesizer(precision=...); left out for a "
                   "checkout from before the parameter existed when float32")
    p.add_argument("--tabgan-param", action="append", default=[], metavar="NAME=JSON",
                   help="another Synthesizer parameter, e.g. wide_head='\"mixture\"' (repeatable)")
    p.add_argument("--out", default=None)
    args = p.parse_args(argv)
    params = {}
    for item in args.tabgan_param:
        name, _, value = item.partition("=")
        try:
            params[name] = json.loads(value)
        except json.JSONDecodeError:
            p.error(f"--tabgan-param takes NAME=JSON (e.g. wide_head='\"mixture\"'); got {item!r}")
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))

    import numpy as np
    import pandas as pd
    import torch

    torch.set_num_threads(args.threads)
    from tabgan import Synthesizer
    from tabgan._random import numpy_generator
    from tabgan.schema import infer_schema
    from tabgan.transformers import TableTransformer

    data_dir = Path(args.data_dir)
    df = pd.read_csv(data_dir / f"{args.dataset}.csv", skipinitialspace=True)
    meta = json.loads((data_dir / f"{args.dataset}.json").read_text())

    phases = {}
    t = time.perf_counter()
    schema = infer_schema(df, meta)
    phases["schema inference"] = time.perf_counter() - t
    rng = numpy_generator(np.random.SeedSequence(0))
    t = time.perf_counter()
    tt = TableTransformer(schema).fit(df, rng)
    phases["encoder fit"] = time.perf_counter() - t
    t = time.perf_counter()
    tt.transform(df, rng)
    phases["encode table"] = time.perf_counter() - t

    extra = {} if args.precision == "float32" else {"precision": args.precision}
    model = Synthesizer(epochs=args.epochs, random_state=0, verbose=False, **extra, **params)
    prof = cProfile.Profile()
    t = time.perf_counter()
    prof.enable()
    model.fit(df, metadata=meta)
    prof.disable()
    total = time.perf_counter() - t
    epoch_s = [r.seconds for r in model.history_]
    phases["fit total"] = total
    phases["training, per epoch (mean)"] = float(np.mean(epoch_s))
    phases["fit outside training"] = total - float(np.sum(epoch_s))
    t = time.perf_counter()
    model.sample(len(df), random_state=0)
    phases[f"sample {len(df)} rows"] = time.perf_counter() - t

    print(f"\n## fit profile: {args.dataset} ({len(df)} rows), {args.epochs} epochs, {args.threads} thread(s)\n")
    print("| phase | seconds |\n|---|---|")
    for k, v in phases.items():
        print(f"| {k} | {v:.3f} |")
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf).sort_stats("tottime")
    stats.print_stats(15)
    top_functions = [{"function": f"{path.rsplit('/', 1)[-1]}:{line}({name})", "calls": calls, "own_s": round(own, 3),
                      "cumulative_s": round(cum, 3)}
                     for (path, line, name), (_, calls, own, cum, _) in
                     sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:15]]
    top = buf.getvalue()
    print("\nTop functions by own time:\n")
    print("\n".join(line for line in top.splitlines() if line.strip())[-2500:])

    out = Path(args.out) if args.out else HERE / "results" / f"profile_{args.dataset}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"dataset": args.dataset, "epochs": args.epochs, "threads": args.threads,
                               "precision": args.precision, "params": params, "load_average": os.getloadavg(),
                               "phases_s": phases, "epoch_seconds": epoch_s, "top_functions": top_functions},
                              indent=2))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
