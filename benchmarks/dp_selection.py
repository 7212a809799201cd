"""How tabgan chooses its DP two-way marginals, compared on one trained DP generator.

A DP fit's figures move with its seed by about 0.02 (ML efficacy), more than most changes to
the post-processing of the releases. This benchmark trains the DP generator once per table
and seed, keeps what ``finish_calibration`` reads (the pool of generated codes, the private
codes it scores and measures, the plan's noise), and then rebuilds only the choice of pairs,
their measurement and the tilt under each variant, with several selection seeds, scoring
every sample with the shared protocol (``../shared/docs/BENCHMARKS.md``):

* ``one round, raw scores``: every pair chosen at once, scored by L1 distance less the
  measurement's noise (tabgan before a3b0270);
* ``one round``: the same, less the pool's own sampling noise too;
* ``three rounds``: the default (``tabgan.marginals.SELECT_ROUNDS``);
* ``one pair per round``: AIM's schedule.

Each variant spends the same budget as the fit planned (k exponential mechanisms and k
tables of the plan's noise). It is a diagnostic of the post-processing, not a DP fit: the
private codes are read once per variant and seed.

    benchmarks/.venv/bin/python benchmarks/dp_selection.py --dataset diamonds --epsilon 1
"""

from __future__ import annotations

import argparse
import inspect
import math
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

#: variant -> (rounds, whether the scores discount the pool's own sampling noise)
VARIANTS = {
    "one round, raw scores": (1, False),
    "one round": (1, True),
    "three rounds": (3, True),
    "one pair per round": (None, True),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dataset", default="adult")
    p.add_argument("--epsilon", type=float, default=1.0)
    p.add_argument("--delta", type=float, default=1e-5)
    p.add_argument("--seed", type=int, default=0, help="the fit's seed")
    p.add_argument("--selections", type=int, default=2, help="selection and measurement seeds per variant")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--data-dir", default=str(HERE.parent.parent / "shared" / "datasets"))
    p.add_argument("--out", default=None, help="JSON output (default: results/dp_selection_DATASET.json)")
    p.add_argument("--threads", type=int, default=1)
    return p.parse_args(argv)


def raw_scores(marginals):
    """The selection scores without the pool's noise discounted (the former rule)."""
    def scores(codes, synthetic, widths, n_hat, sigma, pairs, weights=None):
        real = marginals.pair_counts(codes, widths, pairs)
        fake = marginals.pair_counts(synthetic, widths, pairs, weights)
        scale = n_hat / max(len(synthetic) if weights is None else float(np.sum(weights)), 1e-12)
        return np.array([np.abs(r - scale * f).sum() - math.sqrt(2 / math.pi) * sigma * r.size
                         for r, f in zip(real, fake)])
    return scores


def fit_capturing(train, kinds, eps, delta, seed):
    """A DP fit, and the arguments its ``finish_calibration`` chose and measured the pairs with
    (``tabgan.marginals.measure_in_rounds``, bound by name)."""
    from tabgan import Synthesizer
    from tabgan import marginals as M
    from tabgan.training import privacy

    captured = {}
    original = privacy.measure_in_rounds

    def capturing(*args, **kwargs):
        bound = inspect.signature(M.measure_in_rounds).bind(*args, **kwargs)
        captured.update(bound.arguments)
        return original(*args, **kwargs)

    privacy.measure_in_rounds = capturing
    try:
        model = Synthesizer(epsilon=eps, delta=delta, random_state=seed, verbose=False)
        model.fit(train, metadata=kinds)
    finally:
        privacy.measure_in_rounds = original
    return model, captured


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.threads > 0:
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ[var] = str(args.threads)
    sys.path.insert(0, str(HERE))
    import _common as C
    from tabgan import marginals as M

    started = time.perf_counter()
    df, meta, train, holdout, task = C.prepared(args.dataset, args.data_dir, args.threads)
    t0 = time.perf_counter()
    model, c = fit_capturing(train, {"columns": C.column_kinds(meta)}, args.epsilon, args.delta, args.seed)
    print(f"{args.dataset}: DP fit (eps {args.epsilon:g}, seed {args.seed}) in {time.perf_counter() - t0:.0f} s; "
          f"k {c['k']} pairs, noise {c['sigma']:.1f}", flush=True)
    names = [col.spec.name for col in model.transformer_.columns_ for s in col.spans if s.activation == "softmax"]
    kept_scores = M.pair_scores
    rows, summary = [], []
    for variant in args.variants:
        rounds, discounted = VARIANTS[variant]
        scored = []
        for s in range(args.selections):
            M.pair_scores = kept_scores if discounted else raw_scores(M)
            try:
                # Selection and measurement noise from the selection seed; the resampling's
                # uniforms from one fixed generator, the same for every variant.
                pairs, _, tilt = M.measure_in_rounds(**{**c, "rng": np.random.default_rng(1000 + s), "rounds": rounds,
                                                        "post_rng": lambda: np.random.default_rng(7)})
            finally:
                M.pair_scores = kept_scores
            model.calibration_ = replace(model.calibration_, pair_tilt=tilt)
            synthetic = model.sample(len(train), random_state=args.seed)
            row = C.score(f"{variant} (selection {s})", train, holdout, synthetic, meta, fit_s=0, sample_s=0,
                          note="", extra={"variant": variant, "selection_seed": s,
                                          "pairs": [[names[a], names[b]] for a, b in pairs]})
            rows.append(row)
            figures = tuple(np.nan if v is None else float(v) for v in
                            (row["quality"], row["column_shapes"], row["pair_trends"], C.ml_primary(row, task)[0]))
            scored.append(figures)
            print(f"  {variant}, selection {s}: quality {figures[0]:.4f}, shapes {figures[1]:.4f}, "
                  f"pairs {figures[2]:.4f}, ML efficacy {figures[3]:.4f}", flush=True)
        mean = np.mean(scored, axis=0)
        summary.append({"variant": variant, "quality": float(mean[0]), "column_shapes": float(mean[1]),
                        "pair_trends": float(mean[2]), "ml_efficacy": float(mean[3])})
    lines = ["| variant | quality | column shapes | pair trends | ML efficacy |", "|---|---|---|---|---|"]
    lines += [f"| {m['variant']} | {m['quality']:.4f} | {m['column_shapes']:.4f} | {m['pair_trends']:.4f} | "
              f"{m['ml_efficacy']:.4f} |" for m in summary]
    table = "\n".join(lines)
    print(f"\nmean of {args.selections} selection seeds\n{table}")
    out = Path(args.out) if args.out else C.RESULTS_DIR / f"dp_selection_{args.dataset}.json"
    payload = {"dataset": args.dataset, "epsilon": args.epsilon, "delta": args.delta, "k": c["k"],
               "sigma": c["sigma"], "args": C.portable_args(vars(args)), "machine": C.machine_info(),
               "total_s": time.perf_counter() - started, "summary": summary, "table": table, "results": rows}
    print(f"\nwrote {C.write_json(out, payload)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
