"""Gradient-canary membership audit of tabgan's DP critic update, at several noise levels.

The CI test (``tests/test_privacy_audit.py``) runs one noise level with 1,200 trials; this
runs a sweep with more trials, so the empirical lower bounds get closer to what the attack
can prove.  For each noise multiplier it prints the accountant's claimed epsilon for one
update and the 95% (Clopper-Pearson) empirical lower bound; the noise-free row is the
positive control (the attack must prove a large epsilon there).

    python benchmarks/dp_audit.py                       # 5,000 trials per level
    python benchmarks/dp_audit.py --trials 20000 --noise 0 1 2
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--trials", type=int, default=5000)
    p.add_argument("--noise", type=float, nargs="+", default=[0.0, 0.5, 1.0, 1.5, 2.0])
    p.add_argument("--delta", type=float, default=1e-5)
    p.add_argument("--out", default=None, help="JSON output (default: benchmarks/results/dp_audit.json)")
    args = p.parse_args(argv)
    sys.path.insert(0, str(HERE))
    import _common as C

    C.limit_threads(1)
    from tabgan.training.privacy import gradient_canary_audit

    rows = []
    print("| noise multiplier | claimed epsilon (one update) | empirical lower bound (95%) | holds |")
    print("|---|---|---|---|")
    for sigma in args.noise:
        t0 = time.perf_counter()
        r = gradient_canary_audit(noise_multiplier=sigma, trials=args.trials, delta=args.delta, seed=0)
        r["seconds"] = time.perf_counter() - t0
        rows.append(r)
        holds = r["epsilon_lower_bound"] <= r["epsilon_claimed"]
        print(f"| {sigma:g} | {C.fmt(r['epsilon_claimed'])} | {r['epsilon_lower_bound']:.3f} | "
              f"{'yes' if holds else 'NO'} |", flush=True)
    out = Path(args.out) if args.out else C.RESULTS_DIR / "dp_audit.json"
    print(f"\nwrote {C.write_json(out, {'args': C.portable_args(vars(args)), 'machine': C.machine_info(), 'results': rows})}")
    return 0 if all(r["epsilon_lower_bound"] <= r["epsilon_claimed"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
