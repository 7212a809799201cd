"""Speed and scale of tabgan beside ctgan 0.12.1, measured in one run (issue 14's targets 1-4).

    python benchmarks/speed.py [--quick] [--sections quality,encoders,sampling,sample_to,scale]

Sections (each against ctgan 0.12.1 in the same process where ctgan has a counterpart):

- ``quality`` (target 1): CTGAN-300's fit time on adult, estimated as ``benchmarks/adult.py``
  does (setup + 300 x the mean of a few trained epochs), beside tabgan fits with a few short
  step budgets, each scored with ``tabgan.evaluation.metrics`` (quality, column shapes, pair
  trends, TSTR AUC, detection AUC) against CTGAN-300's figures of ``BENCHMARKS.md``; the
  validation check's score at each check, with the time it was reached (a time-to-quality
  curve).
- ``encoders`` (target 2): fit, transform and inverse transform of adult's training split with
  tabgan's ``TableTransformer`` and ctgan's ``DataTransformer``, and the column shapes of each
  round trip (decode(encode(train)) against train).
- ``sampling`` (target 3): rows per second of ``sample(N)`` (1M rows) for tabgan and ctgan,
  each from a model trained one epoch on adult (sampling speed does not depend on training),
  and each library's generator forward passes alone (what bounds the ratio). Inverse transforms
  and samples are timed in interleaved rounds, each library's fastest round kept.
- ``sample_to`` (target 3): peak resident memory of ``sample_to`` of 10M rows in CSV and
  Parquet, in fresh child processes (``benchmarks/sample_memory.py``'s measurement).
- ``scale`` (target 4): fits of a few epochs on generated tables, each in a fresh child process
  that reports its peak resident memory (``VmHWM``): adult rows resampled with jitter at 100k,
  300k and 1M rows, and a 200k x 40 table with 4 columns of 1k to 5k levels; time per epoch
  and per row, and the time the set-up phases take (encoding, dependency rules, validation
  checks, calibration).
- ``budget`` (target 4): the quality-against-time curve of a large table, which the default
  step budget is set from: one fit of the 1M-row jittered adult table for a few epochs (2,000
  steps each), with the validation check's score and time at every epoch, then the figures of
  the kept generator (quality and pair trends against a 50,000-row subsample of the table, TSTR
  AUC and detection AUC against adult's real holdout).

Prints one markdown table of the targets with ratios, then the details, and writes
``benchmarks/results/speed.json``. ``--quick`` shrinks every size for a smoke run (a few
minutes). Linux only (reads ``/proc/self/status``).
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECTIONS = ("quality", "encoders", "sampling", "sample_to", "scale", "budget")

#: CTGAN-300's adult figures (``../shared/docs/BENCHMARKS.md``): quality, column shapes, pair
#: trends, TSTR AUC, detection AUC (lower is better for detection).
CTGAN300 = {"quality": 0.871, "column_shapes": 0.878, "pair_trends": 0.864, "tstr_auc": 0.880, "detection": 0.996}


def _args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes everywhere: a smoke run of a few minutes")
    p.add_argument("--sections", default=",".join(SECTIONS), help=f"comma-separated, from {', '.join(SECTIONS)}")
    p.add_argument("--data-dir", default=None, help="folder with adult.csv and adult.json")
    p.add_argument("--budgets", default=None,
                   help="tabgan epoch budgets of the quality section, EPOCHS[:PRECISION[:BATCH]] (default "
                   "20,40,40:bfloat16; quick 2; e.g. 55:float32:250 for batches of 250)")
    p.add_argument("--scale-rows", default=None, help="rows of the jittered adult tables (default 100000,300000,"
                   "1000000; quick 20000,60000)")
    p.add_argument("--scale-epochs", type=int, default=1, help="epochs per scale fit")
    p.add_argument("--budget-rows", type=int, default=None, help="rows of the budget section's table (default 1M; "
                   "quick 20000)")
    p.add_argument("--budget-epochs", type=int, default=None, help="epochs of the budget section's fit (default 5; "
                   "quick 2)")
    p.add_argument("--sample-to-rows", type=int, default=None, help="rows of sample_to (default 10M; quick 500k)")
    p.add_argument("--fresh", action="store_true", help="start a new JSON instead of replacing the sections run "
                   "in the existing one")
    p.add_argument("--out", default=None)
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


# --------------------------------------------------------------------------- memory


from sample_memory import status_mb  # noqa: E402  (the benchmarks folder is on the path)


# --------------------------------------------------------------------------- generated tables


def jittered_adult(train, n: int, meta: dict, seed: int = 0):
    """``n`` rows resampled from adult's training split; numeric values moved by a little noise
    (2% of the column's standard deviation, integers rounded, kept in the column's range), so
    that rows are not exact copies while the relations between columns stay those of adult."""
    import numpy as np
    import pandas as pd

    from _common import column_kinds

    rng = np.random.default_rng(seed)
    out = train.iloc[rng.integers(0, len(train), n)].reset_index(drop=True)
    for col, kind in column_kinds(meta).items():
        if kind not in ("continuous", "integer"):
            continue
        x = out[col].to_numpy(dtype="float64")
        noisy = x + rng.normal(0.0, 0.02 * float(np.nanstd(x)), n)
        noisy = np.clip(noisy, np.nanmin(x), np.nanmax(x))
        out[col] = np.round(noisy).astype(train[col].dtype) if kind == "integer" else noisy
    return pd.DataFrame(out)


def wide_table(n: int, seed: int = 0):
    """``n`` rows x 40 columns: 4 categorical columns of 1,000 to 5,000 levels (Zipf-like
    frequencies), 2 columns implied by the widest (its group and region), 14 narrower
    categorical columns and 20 numeric ones (some tied to the level columns)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    cols = {}

    def zipf_codes(levels: int) -> np.ndarray:
        p = 1.0 / np.arange(1, levels + 1) ** 0.8
        return rng.choice(levels, n, p=p / p.sum())

    for j, levels in enumerate((1000, 2000, 3500, 5000)):
        top = zipf_codes(levels)
        cols[f"wide{j}"] = np.char.add(f"w{j}-", top.astype(str))
    cols["wide3_group"] = np.char.add("g", (top // 50).astype(str))    # 100 levels, implied by wide3
    cols["wide3_region"] = np.char.add("r", (top // 1000).astype(str))  # 5 levels
    for j in range(14):
        levels = 2 + 3 * j
        cols[f"cat{j}"] = np.char.add(f"c{j}-", zipf_codes(levels).astype(str))
    base = rng.normal(size=n)
    for j in range(20):
        if j < 5:
            x = base * (j + 1) + rng.normal(scale=0.5, size=n)
        elif j < 10:
            x = rng.lognormal(0.0, 1.0, n) * (1 + (top % 7))
        elif j < 15:
            x = rng.integers(0, 100, n).astype(np.float64)
        else:
            x = np.where(rng.random(n) < 0.3, 0.0, rng.gamma(2.0, 10.0, n))
        cols[f"num{j}"] = x
    return pd.DataFrame(cols)


# --------------------------------------------------------------------------- ctgan


def fit_ctgan(train, meta: dict, epochs: int):
    """ctgan 0.12.1 at its defaults (batch 500, pac 10), ``epochs`` epochs, each timed as in
    ``benchmarks/adult.py``; ``(model, decode, info)``."""
    import ctgan
    import numpy as np

    from _common import CTGAN_DEFAULT_EPOCHS, fit_ctgan_timed

    model, _, decode, clock, wall = fit_ctgan_timed(train, meta, epochs, random_state=0)
    mean_epoch = float(np.mean(clock.epoch_s))
    info = {"version": ctgan.__version__, "epochs_trained": epochs, "setup_s": clock.setup_s,
            "epoch_s": clock.epoch_s, "mean_epoch_s": mean_epoch, "fit_wall_s": wall,
            "fit300_estimated_s": clock.setup_s + CTGAN_DEFAULT_EPOCHS * mean_epoch,
            # the same on the process's CPU clock (one thread): what a busy machine slows least
            "setup_cpu_s": clock.setup_cpu_s, "epoch_cpu_s": clock.epoch_cpu_s,
            "fit300_estimated_cpu_s": clock.setup_cpu_s + CTGAN_DEFAULT_EPOCHS * float(np.mean(clock.epoch_cpu_s))}
    return model, decode, info


# --------------------------------------------------------------------------- sections


class _CheckLog(logging.Handler):
    """Collects the validation check's scores (logged by tabgan at DEBUG) with the time seen."""

    def __init__(self, start: float):
        super().__init__(logging.DEBUG)
        self.start = start
        self.points: list = []

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if msg.startswith("epoch ") and "validation fidelity" in msg:
            epoch = int(msg.split()[1].rstrip(":"))
            self.points.append({"epoch": epoch + 1, "score": float(msg.split()[-1]),
                                "seconds": round(time.perf_counter() - self.start, 2)})


def section_quality(train, holdout, meta, budgets, timing_epochs: int, partial=None) -> dict:
    """Target 1: CTGAN-300's estimated fit time, and tabgan's figures for short budgets;
    ``partial(section)`` is called after every budget (so that a stopped run keeps them)."""
    from tabgan import Synthesizer

    _, _, ct = fit_ctgan(train, meta, timing_epochs)
    ctgan_s = ct["fit300_estimated_s"]
    print(f"  ctgan: setup {ct['setup_s']:.1f} s, epochs {[round(float(e), 2) for e in ct['epoch_s']]} -> "
          f"CTGAN-300 estimated {ctgan_s:.0f} s", file=sys.stderr, flush=True)
    runs = []
    logger = logging.getLogger("tabgan")
    for budget in budgets:
        epochs, _, rest = budget.partition(":")
        precision, _, batch = rest.partition(":")
        epochs, precision = int(epochs), precision or "float32"
        batch_param = {"batch_size": int(batch)} if batch else {}
        model = Synthesizer(epochs=epochs, random_state=0, verbose=False, precision=precision, **batch_param)
        log = _CheckLog(time.perf_counter())
        level = logger.level
        logger.addHandler(log)
        logger.setLevel(logging.DEBUG)
        try:
            t0, c0 = time.perf_counter(), time.process_time()
            model.fit(train, metadata=meta)
            fit_s, fit_cpu_s = time.perf_counter() - t0, time.process_time() - c0
        finally:
            logger.removeHandler(log)
            logger.setLevel(level)
        synthetic = model.sample(len(train), random_state=0)
        figures, ml = _scored(train, synthetic, holdout, meta)
        beats = {k: (v <= CTGAN300[k] if k == "detection" else v >= CTGAN300[k]) for k, v in figures.items()}
        run = {"epochs": epochs, "precision": precision, "batch_size": int(model.settings_["batch_size"]), "steps": epochs * (model.settings_["rows"] // model.settings_["batch_size"]),
               "fit_s": fit_s, "fit_ratio_to_ctgan300": fit_s / ctgan_s,
               "fit_cpu_s": fit_cpu_s, "fit_cpu_ratio_to_ctgan300": fit_cpu_s / ct["fit300_estimated_cpu_s"],
               "training_s": float(sum(r.seconds for r in model.history_)), "figures": figures,
               "ml_efficacy": ml, "beats_ctgan300": beats, "all_beat": all(beats.values()),
               "checks": log.points}
        runs.append(run)
        if partial is not None:
            partial({"ctgan": ct, "ctgan300_estimated_s": ctgan_s, "ctgan300_figures": CTGAN300, "tabgan": runs,
                     "target_met": False, "partial": True})
        print(f"  tabgan {epochs} epochs ({precision}, batch {run['batch_size']}): fit {fit_s:.0f} s ({fit_s / ctgan_s:.3f} of CTGAN-300; "
              f"CPU {run['fit_cpu_ratio_to_ctgan300']:.3f}), "
              + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()), file=sys.stderr, flush=True)
    met = [r for r in runs if r["all_beat"] and r["fit_ratio_to_ctgan300"] <= 0.1]
    return {"ctgan": ct, "ctgan300_estimated_s": ctgan_s, "ctgan300_figures": CTGAN300, "tabgan": runs,
            "target_met": bool(met)}


#: Rounds of the side-by-side timings (inverse transforms; sample): each round times tabgan then
#: ctgan, and each library's figure is its fastest round, so that a load that changes during the
#: section reaches both alike (the first call of a process also pays one-time imports).
INVERSE_ROUNDS, SAMPLE_ROUNDS = 5, 2


def _interleaved_best(rounds: int, *fns) -> list[tuple[object, float]]:
    """Each ``fn()``'s last result and its fastest wall time, the ``fns`` called in turn ``rounds`` times."""
    best = [float("inf")] * len(fns)
    results: list = [None] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            t = time.perf_counter()
            results[i] = fn()
            best[i] = min(best[i], time.perf_counter() - t)
    return list(zip(results, best))


def section_encoders(train, meta) -> dict:
    """Target 2: encoder fit, transform and inverse transform, tabgan vs ctgan's DataTransformer."""
    import numpy as np
    from ctgan.data_transformer import DataTransformer

    from tabgan.evaluation import metrics
    from tabgan.schema import infer_schema
    from tabgan.transformers import TableTransformer

    from _common import _ctgan_encode, column_kinds

    kinds = column_kinds(meta)
    out = {}
    schema = infer_schema(train, meta)
    rng = np.random.default_rng(0)
    t = time.perf_counter()
    tt = TableTransformer(schema, numeric_encoding="auto").fit(train, rng)
    fit_s = time.perf_counter() - t
    t = time.perf_counter()
    floats, codes = tt.transform(train, rng)
    transform_s = time.perf_counter() - t
    frame, discrete, decode = _ctgan_encode(train, meta)
    dt = DataTransformer()
    t = time.perf_counter()
    dt.fit(frame, discrete)
    c_fit = time.perf_counter() - t
    t = time.perf_counter()
    matrix = dt.transform(frame)
    c_transform = time.perf_counter() - t
    (back, inverse_s), (c_back, c_inverse) = _interleaved_best(
        INVERSE_ROUNDS, lambda: tt.inverse_transform(floats, codes), lambda: decode(dt.inverse_transform(matrix)))
    shapes = metrics.column_shapes(train, back, kinds)["score"].mean()
    out["tabgan"] = {"fit_s": fit_s, "transform_s": transform_s, "inverse_s": inverse_s,
                     "round_trip_column_shapes": float(shapes)}
    c_shapes = metrics.column_shapes(train, c_back[train.columns], kinds)["score"].mean()
    out["ctgan"] = {"fit_s": c_fit, "transform_s": c_transform, "inverse_s": c_inverse,
                    "round_trip_column_shapes": float(c_shapes), "output_width": int(matrix.shape[1])}
    out["speedup"] = {k: out["ctgan"][k] / max(out["tabgan"][k], 1e-9) for k in ("fit_s", "transform_s", "inverse_s")}
    out["target_met"] = all(v >= 20 for v in out["speedup"].values()) and shapes >= c_shapes
    print(f"  encoders: speedup fit {out['speedup']['fit_s']:.0f}x, transform {out['speedup']['transform_s']:.0f}x, "
          f"inverse {out['speedup']['inverse_s']:.0f}x; round-trip shapes {shapes:.4f} vs {c_shapes:.4f}",
          file=sys.stderr, flush=True)
    return out


def _forward_s(generator, in_dim: int, rows: int, chunk: int) -> float:
    """Seconds of ``generator``'s forward passes alone over ``rows`` rows of noise, ``chunk`` at a time."""
    import torch

    generator.eval()
    t = time.perf_counter()
    with torch.inference_mode():
        for start in range(0, rows, chunk):
            generator(torch.randn(min(chunk, rows - start), in_dim))
    return time.perf_counter() - t


def section_sampling(train, meta, rows: int) -> dict:
    """Target 3a: rows per second of sample(rows), each model trained one epoch on adult; each
    library's fastest of ``SAMPLE_ROUNDS`` interleaved rounds."""
    from tabgan import Synthesizer

    model = Synthesizer(epochs=1, random_state=0, verbose=False, keep_best=False).fit(train, metadata=meta)
    bf16 = copy.deepcopy(model)
    bf16.set_params(precision="bfloat16")  # the same weights, generated under autocast
    ct, decode, _ = fit_ctgan(train, meta, 1)
    (_, tab_s), (_, bf16_s), (_, ct_s) = _interleaved_best(
        SAMPLE_ROUNDS, lambda: model.sample(rows, random_state=0), lambda: bf16.sample(rows, random_state=0),
        lambda: decode(ct.sample(rows)))
    out = {"rows": rows, "tabgan_s": tab_s, "ctgan_s": ct_s, "tabgan_rows_per_s": rows / tab_s,
           "ctgan_rows_per_s": rows / ct_s, "speedup": ct_s / tab_s, "tabgan_bfloat16_s": bf16_s,
           "tabgan_bfloat16_rows_per_s": rows / bf16_s, "speedup_bfloat16": ct_s / bf16_s}
    # What bounds the ratio: each library's generator forward passes alone, on the same number
    # of rows in the chunks each samples in (tabgan 10,000 rows, ctgan its batch size).
    out["tabgan_forward_s"] = _forward_s(model.generator_, model.generator_.net[0].fc.in_features, rows, 10_000)
    out["ctgan_forward_s"] = _forward_s(ct._generator, ct._generator.seq[0].fc.in_features, rows, ct._batch_size)
    out["tabgan_forward_share"] = out["tabgan_forward_s"] / tab_s
    out["speedup_bound"] = ct_s / out["tabgan_forward_s"]
    out["target_met"] = out["speedup"] >= 10
    print(f"  sample({rows:,}): tabgan {tab_s:.1f} s (bfloat16 {bf16_s:.1f} s), ctgan {ct_s:.1f} s "
          f"({out['speedup']:.1f}x, {out['speedup_bfloat16']:.1f}x); generator forward alone: tabgan "
          f"{out['tabgan_forward_s']:.1f} s, ctgan {out['ctgan_forward_s']:.1f} s (bound {out['speedup_bound']:.1f}x)",
          file=sys.stderr, flush=True)
    return out


def section_sample_to(rows: int) -> dict:
    """Target 3b: peak memory of sample_to (benchmarks/sample_memory.py's measurement)."""
    import sample_memory

    fit_s, records = sample_memory.measure([rows], ["csv", "parquet"])
    return {"rows": rows, "model_fit_s": fit_s, "records": records,
            "target_met": all(r["growth_mb"] < 1024 for r in records)}


def _fit_worker(spec: str) -> None:
    """Child process of the scale section: build the table, fit, print one JSON line."""
    kind, n, epochs, precision, evaluate, data_dir = spec.split(":", 5)
    n, epochs = int(n), int(epochs)
    import numpy as np
    import torch

    torch.set_num_threads(1)
    import tabgan.synthesizer as syn
    from tabgan import Synthesizer
    from tabgan.training import selection, strategy
    from tabgan.training.loop import resolve_epochs

    from _common import load_dataset, split

    holdout = None
    if kind == "adult":
        df, meta = load_dataset("adult", data_dir)
        train, holdout = split(df)
        table = jittered_adult(train, n, meta)
        del df, train
    else:
        table, meta = wide_table(n), None
    base_mb = status_mb("VmRSS")
    phases: dict = {}

    def timed(owner, name, label):
        original = getattr(owner, name)

        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return original(*a, **k)
            finally:
                phases[label] = phases.get(label, 0.0) + time.perf_counter() - t
        setattr(owner, name, wrapper)

    timed(strategy.Training, "encode", "encode")
    timed(syn, "fit_dependencies", "dependency rules")
    timed(syn.Synthesizer, "_selector", "validation check set-up")
    timed(selection.BestGeneratorCallback, "_check", "validation checks")
    timed(syn.Synthesizer, "_calibrate", "calibration")
    model = Synthesizer(epochs=epochs, random_state=0, verbose=False, precision=precision)
    logger = logging.getLogger("tabgan")
    t = time.perf_counter()
    log = _CheckLog(t)
    logger.addHandler(log)
    logger.setLevel(logging.DEBUG)
    try:
        model.fit(table, metadata=meta)
    finally:
        logger.removeHandler(log)
    fit_s = time.perf_counter() - t
    epoch_s = [r.seconds for r in model.history_]
    figures = _budget_figures(model, table, holdout, meta) if evaluate == "evaluate" else None
    batch = model.settings_["batch_size"]
    default_epochs, steps = resolve_epochs(n, batch, None)
    fixed = fit_s - float(np.sum(epoch_s)) - phases.get("validation checks", 0.0)
    per_check = phases.get("validation checks", 0.0) / max(1, min(epochs, 20))
    print(json.dumps({
        "table": kind, "precision": precision, "rows": n, "columns": table.shape[1], "epochs": epochs, "steps_per_epoch": steps,
        "fit_s": fit_s, "epoch_s": epoch_s, "step_ms": 1000 * float(np.mean(epoch_s)) / steps, "phases_s": phases,
        "table_rss_mb": base_mb, "peak_rss_mb": status_mb("VmHWM"), "width": model.transformer_.layout_.width,
        "default_epochs": default_epochs,
        "default_fit_estimated_s": fixed + default_epochs * float(np.mean(epoch_s)) + 20 * per_check,
        "checks": log.points, "figures": figures,
    }))


def _scored(real, synthetic, holdout, meta) -> tuple[dict, dict]:
    """Quality, column shapes and pair trends of ``synthetic`` against ``real``, TSTR AUC and
    detection AUC against ``holdout`` (``tabgan.evaluation.metrics``), and the ML-efficacy details."""
    from tabgan.evaluation import metrics

    from _common import column_kinds

    kinds = column_kinds(meta)
    q = metrics.quality(real, synthetic, kinds, random_state=0)
    ml = metrics.ml_efficacy(real, synthetic, holdout, meta["target"], kinds, random_state=0)
    return {"quality": q["quality"], "column_shapes": q["column_shapes"], "pair_trends": q["pair_trends"],
            "tstr_auc": ml["synthetic_roc_auc"],
            "detection": metrics.detection_auc(holdout, synthetic, kinds, random_state=0)}, ml


def _budget_figures(model, table, holdout, meta) -> dict:
    """The kept generator's figures on a 50,000-row subsample of ``table`` (quality, pair trends)
    and against adult's real holdout (TSTR AUC, detection AUC)."""
    real = table.sample(min(len(table), 50_000), random_state=0)
    return _scored(real, model.sample(len(real), random_state=0), holdout, meta)[0]


def _run_worker(kind: str, n: int, epochs: int, precision: str, data_dir: str, evaluate: bool = False) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--worker",
                           f"{kind}:{n}:{epochs}:{precision}:{'evaluate' if evaluate else 'time'}:{data_dir}"],
                          capture_output=True, text=True, check=False, env={**os.environ, "OMP_NUM_THREADS": "1"})
    if proc.returncode != 0:
        raise RuntimeError(f"fit worker failed ({kind}, {n} rows):\n{proc.stderr[-3000:]}")
    rec = json.loads(proc.stdout.strip().splitlines()[-1])
    rec["load_average_1min"] = os.getloadavg()[0]
    return rec


def section_budget(rows: int, epochs: int, data_dir: str) -> dict:
    """One fit of ``rows`` jittered adult rows for ``epochs`` epochs: the validation check's
    score at each epoch against the steps and seconds it took, and the kept generator's figures."""
    from tabgan.training.loop import AUTO_STEPS

    rec = _run_worker("adult", rows, epochs, "float32", data_dir, evaluate=True)
    for point in rec["checks"]:
        point["steps"] = point["epoch"] * rec["steps_per_epoch"]
    print(f"  adult {rows:,} rows, {epochs} epochs: " + ", ".join(
        f"{p['steps']} steps {p['score']:.4f} ({p['seconds']:.0f} s)" for p in rec["checks"]), file=sys.stderr, flush=True)
    return {**rec, "auto_steps": AUTO_STEPS}


def section_scale(rows_list, wide_rows: int, epochs: int, data_dir: str) -> dict:
    runs = []
    specs = [("adult", n, "float32") for n in rows_list] + [("wide", wide_rows, "float32"),
                                                            ("wide", wide_rows, "bfloat16")]
    for kind, n, precision in specs:
        rec = _run_worker(kind, n, epochs, precision, data_dir)
        runs.append(rec)
        print(f"  {kind} {n:,} rows ({precision}): fit {rec['fit_s']:.0f} s, epoch {rec['epoch_s'][-1]:.1f} s "
              f"({rec['step_ms']:.0f} ms/step), peak RSS {rec['peak_rss_mb']:.0f} MiB", file=sys.stderr, flush=True)
    adult = [r for r in runs if r["table"] == "adult"]
    wide = {r["precision"]: r for r in runs if r["table"] == "wide"}
    bf16_speedup = wide["float32"]["step_ms"] / wide["bfloat16"]["step_ms"]
    base = adult[0]
    for r in adult:
        # Time per epoch relative to the smallest table, divided by the row ratio: <= 1 is linear or better.
        r["epoch_growth_vs_linear"] = (r["epoch_s"][-1] / base["epoch_s"][-1]) / (r["rows"] / base["rows"])
    largest = max(adult, key=lambda r: r["rows"])
    return {"runs": runs, "wide_step_speedup_bfloat16": bf16_speedup, "target_met": largest["peak_rss_mb"] < 4096
            and all(r["epoch_growth_vs_linear"] <= 1.15 for r in adult)}


# --------------------------------------------------------------------------- output


def summary_table(res: dict) -> str:
    lines = ["| target | tabgan | ctgan 0.12.1 | ratio | goal | met |", "|---|---|---|---|---|---|"]
    q = res.get("quality")
    if q:
        for r in q["tabgan"]:
            f = r["figures"]
            lines.append(
                f"| 1. adult, {r['epochs']} epochs ({r['steps']:,} steps of {r.get('batch_size', 500)} rows, {r.get('precision', 'float32')}): quality / shapes / pairs / TSTR / "
                f"detection | {f['quality']:.3f} / {f['column_shapes']:.3f} / {f['pair_trends']:.3f} / "
                f"{f['tstr_auc']:.3f} / {f['detection']:.3f}, fit {r['fit_s']:.0f} s | CTGAN-300 "
                f"0.871 / 0.878 / 0.864 / 0.880 / 0.996, fit {q['ctgan300_estimated_s']:.0f} s (estimated) | "
                f"{r['fit_ratio_to_ctgan300']:.3f} of the fit time"
                + (f" ({r['fit_cpu_ratio_to_ctgan300']:.3f} of its CPU time)" if "fit_cpu_ratio_to_ctgan300" in r else "")
                + " | every figure, <= 0.1 | "
                f"{'yes' if r['all_beat'] and r['fit_ratio_to_ctgan300'] <= 0.1 else 'no'} |")
    e = res.get("encoders")
    if e:
        for k, label in (("fit_s", "fit"), ("transform_s", "transform"), ("inverse_s", "inverse transform")):
            lines.append(f"| 2. encoder {label}, adult train | {e['tabgan'][k]:.3f} s | {e['ctgan'][k]:.2f} s | "
                         f"{e['speedup'][k]:.0f}x faster | >= 20x | {'yes' if e['speedup'][k] >= 20 else 'no'} |")
        lines.append(f"| 2. round-trip column shapes | {e['tabgan']['round_trip_column_shapes']:.4f} | "
                     f"{e['ctgan']['round_trip_column_shapes']:.4f} | | no worse | "
                     f"{'yes' if e['tabgan']['round_trip_column_shapes'] >= e['ctgan']['round_trip_column_shapes'] else 'no'} |")
    s = res.get("sampling")
    if s:
        lines.append(f"| 3. sample({s['rows']:,}) | {s['tabgan_rows_per_s']:,.0f} rows/s | "
                     f"{s['ctgan_rows_per_s']:,.0f} rows/s | {s['speedup']:.1f}x | >= 10x | "
                     f"{'yes' if s['target_met'] else 'no'} |")
        lines.append(f"| 3. sample({s['rows']:,}), precision bfloat16 | {s['tabgan_bfloat16_rows_per_s']:,.0f} rows/s | "
                     f"{s['ctgan_rows_per_s']:,.0f} rows/s | {s['speedup_bfloat16']:.1f}x | >= 10x | "
                     f"{'yes' if s['speedup_bfloat16'] >= 10 else 'no'} |")
    st = res.get("sample_to")
    if st:
        for r in st["records"]:
            lines.append(f"| 3. sample_to {r['rows']:,} rows, {r['format']} | peak RSS {r['peak_mb']:.0f} MiB "
                         f"(+{r['growth_mb']:.0f} over the loaded model), {r['seconds']:.0f} s | – | | bounded "
                         f"(< 1 GiB growth) | {'yes' if r['growth_mb'] < 1024 else 'no'} |")
    sc = res.get("scale")
    if sc:
        for r in sc["runs"]:
            growth = r.get("epoch_growth_vs_linear")
            lines.append(
                f"| 4. fit {r['table']} {r['rows']:,} x {r['columns']} ({r['precision']}) | peak RSS {r['peak_rss_mb']:,.0f} MiB, "
                f"{r['epoch_s'][-1]:.1f} s/epoch ({r['step_ms']:.0f} ms/step), default {r['default_epochs']} "
                f"epochs ~{r['default_fit_estimated_s'] / 60:.1f} min | – | "
                + (f"epoch time / rows {growth:.2f} of linear" if growth is not None else "")
                + " | < 4 GiB at 1M, linear | "
                + ("yes" if r["peak_rss_mb"] < 4096 and (growth is None or growth <= 1.15) else "no") + " |")
    b = res.get("budget")
    if b:
        curve = ", ".join(f"{p['steps']:,}: {p['score']:.3f} ({p['seconds'] / 60:.0f} min)" for p in b["checks"])
        f = b["figures"]
        lines.append(f"| 4. step budget, adult {b['rows']:,} rows: validation score by steps (time) | {curve}; kept "
                     f"generator quality / pairs / TSTR / detection {f['quality']:.3f} / {f['pair_trends']:.3f} / "
                     f"{f['tstr_auc']:.3f} / {f['detection']:.3f} | – | | a curve | shown |")
    return "\n".join(lines)


def main(argv=None) -> int:
    args = _args(argv)
    os.environ["OMP_NUM_THREADS"] = "1"
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(HERE.parent))
    if args.worker:
        _fit_worker(args.worker)
        return 0
    import _common

    _common.limit_threads(1)
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise SystemExit(f"unknown sections {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    data_dir = args.data_dir or str(_common.DEFAULT_DATA_DIR)
    quick = args.quick
    budgets = (args.budgets or ("2" if quick else "20,40,40:bfloat16")).split(",")
    scale_rows = [int(r) for r in (args.scale_rows or ("20000,60000" if quick else "100000,300000,1000000")).split(",")]
    df, meta = _common.load_dataset("adult", data_dir)
    train, holdout = _common.split(df)
    out = Path(args.out) if args.out else _common.RESULTS_DIR / ("speed-quick.json" if quick else "speed.json")
    # Sections may run in separate invocations (memory figures do not depend on the load, so
    # they can run beside the timed ones): each replaces its own entry in the JSON.
    res: dict = json.loads(out.read_text()) if out.exists() and not args.fresh else {}
    res.update({"benchmark": "speed", "quick": quick})
    res.setdefault("runs", []).append({"args": _common.portable_args(vars(args)), "machine": _common.machine_info(),
                                       "sections": sections})
    started = time.perf_counter()
    for name in sections:
        print(f"{name} ...", file=sys.stderr, flush=True)
        load = {"start": os.getloadavg()}
        t = time.perf_counter()
        if name == "quality":
            def partial(section, name=name):
                res[name] = {**section, "load_average": {"start": load["start"], "end": os.getloadavg()}}
                _common.write_json(out, res)

            section = section_quality(train, holdout, meta, budgets, 1 if quick else 2, partial)
        elif name == "encoders":
            section = section_encoders(train, meta)
        elif name == "sampling":
            section = section_sampling(train, meta, 100_000 if quick else 1_000_000)
        elif name == "sample_to":
            section = section_sample_to(args.sample_to_rows or (500_000 if quick else 10_000_000))
        elif name == "scale":
            section = section_scale(scale_rows, 20_000 if quick else 200_000, args.scale_epochs, data_dir)
        else:
            section = section_budget(args.budget_rows or (20_000 if quick else 1_000_000),
                                     args.budget_epochs or (2 if quick else 5), data_dir)
        load["end"] = os.getloadavg()
        section.update(section_s=time.perf_counter() - t, load_average=load,
                       measured=_common.machine_info()["date"], commit=_common.machine_info()["tabgan_commit"])
        res[name] = section
        _common.write_json(out, res)  # after every section, so a stopped run keeps what it measured
    print("\n## speed targets (one thread, ctgan 0.12.1 in the same run)\n")
    print(summary_table(res))
    print("\nload average (1, 5, 15 min) at each section's start and end: " + "; ".join(
        f"{k} {v['load_average']['start'][0]:.1f} -> {v['load_average']['end'][0]:.1f}"
        for k, v in res.items() if isinstance(v, dict) and "load_average" in v))
    print(f"\nwrote {out} ({(time.perf_counter() - started) / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
