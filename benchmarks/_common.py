"""Shared helpers for the benchmark scripts (not part of the tabgan package).

Everything here follows ``../shared/docs/BENCHMARKS.md``: the dataset loading and split, the
SDMetrics quality score, the CTGAN baseline (timed per epoch), the independent-marginals floor,
and the markdown table / JSON output.  The utility and privacy figures (TSTR, detection, DCR)
come from :mod:`tabgan.evaluation.metrics`, so the benchmark and the library score alike.

Heavy imports (torch, ctgan, sdmetrics, tabgan) happen inside the functions that need them, so
that a script can set its thread limits after importing this module and before torch loads.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = REPO_ROOT.parent / "shared" / "datasets"
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
DATASETS = ("adult", "penguins", "diamonds", "taxis", "credit_default", "flights")

NUMERIC_KINDS = ("continuous", "integer")
HOLDOUT_FRAC = 0.2
SPLIT_SEED = 0

#: ctgan 0.12.1 defaults, written out so the record says what ran.
CTGAN_DEFAULT_EPOCHS = 300
CTGAN_BATCH_SIZE = 500
CTGAN_PAC = 10

if str(REPO_ROOT) not in sys.path:  # so `python benchmarks/x.py` finds tabgan without installing
    sys.path.insert(0, str(REPO_ROOT))


# --------------------------------------------------------------------------- threads


def limit_threads(n: int) -> None:
    """Run torch on ``n`` threads (0: leave the default).

    ``OMP_NUM_THREADS`` and friends are read once, when a runtime loads, so a script sets
    them before importing this module (see ``adult.py``); this sets torch's own pool, which
    works at any time, and re-exports the variables for child processes.
    """
    if n <= 0:
        return
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(n)
    import torch

    torch.set_num_threads(n)


# --------------------------------------------------------------------------- data


def prepared(dataset: str, data_dir: str | Path, threads: int):
    """A benchmark's start: torch on ``threads`` threads, then the shared table, its protocol
    split and its task: ``(df, meta, train, holdout, task)``."""
    limit_threads(threads)
    df, meta = load_dataset(dataset, data_dir)
    train, holdout = split(df)
    return df, meta, train, holdout, task_of(df, meta)


def column_kinds(meta: Mapping[str, Any]) -> dict[str, str]:
    """``{column: kind}`` from a dataset JSON, whose entries are a kind or ``{"kind": ...}``."""
    kinds = {}
    for col, spec in meta["columns"].items():
        kinds[col] = spec["kind"] if isinstance(spec, Mapping) else str(spec)
    return kinds


def datetime_format(meta: Mapping[str, Any], column: str) -> str | None:
    """The strftime format of a datetime column (per column spec, else the table's)."""
    spec = meta["columns"].get(column)
    if isinstance(spec, Mapping) and spec.get("format"):
        return spec["format"]
    return meta.get("datetime_format")


def load_dataset(name: str, data_dir: str | Path = DEFAULT_DATA_DIR) -> tuple[pd.DataFrame, dict]:
    """Read ``NAME.csv`` with ``skipinitialspace=True`` and its ``NAME.json``.

    Datetime columns are parsed with their format, so every synthesizer sees ``datetime64``.
    Everything else is as ``read_csv`` gives it (an integer column with missing values is
    float64; adult's ``?`` stays an ordinary category value, as the protocol says).
    """
    data_dir = Path(data_dir)
    json_path = data_dir / f"{name}.json"
    if not json_path.exists():
        available = sorted(p.stem for p in data_dir.glob("*.json"))
        raise SystemExit(f"no dataset {name!r} in {data_dir} (found: {', '.join(available)})")
    meta = json.loads(json_path.read_text(encoding="utf-8"))
    df = pd.read_csv(data_dir / meta.get("file", f"{name}.csv"), skipinitialspace=True)
    for col, kind in column_kinds(meta).items():
        if kind == "datetime":
            df[col] = pd.to_datetime(df[col], format=datetime_format(meta, col))
    return df, meta


def split(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``holdout = df.sample(frac=0.2, random_state=0)``; ``train`` is the rest."""
    holdout = df.sample(frac=HOLDOUT_FRAC, random_state=SPLIT_SEED)
    train = df.drop(holdout.index)
    return train, holdout


def task_of(df: pd.DataFrame, meta: Mapping[str, Any]) -> str:
    """``binary``, ``multiclass`` or ``regression`` for the dataset's target."""
    if meta.get("task") == "regression":
        return "regression"
    return "binary" if df[meta["target"]].nunique(dropna=True) <= 2 else "multiclass"


# --------------------------------------------------------------------------- baselines


def independent_marginals(train: pd.DataFrame, n: int, random_state: int = 0) -> pd.DataFrame:
    """Each column resampled alone, with replacement: the floor (keeps dtypes and NaN rate)."""
    rng = np.random.default_rng(random_state)
    idx = rng.integers(0, len(train), size=(n, train.shape[1]))
    return pd.DataFrame(
        {
            col: train[col].iloc[idx[:, j]].reset_index(drop=True)
            for j, col in enumerate(train.columns)
        }
    )


class _EpochClock:
    """Stands in for ``tqdm`` inside ctgan's training loop and records when each epoch ends, on
    the wall clock and on the process's CPU clock (which a busy machine slows far less)."""

    def __init__(self, report_every: int = 0) -> None:
        self.start = time.perf_counter()
        self.start_cpu = time.process_time()
        self.marks: list[float] = []
        self.cpu_marks: list[float] = []
        self.report_every = report_every

    def __call__(self, iterable: Iterable, **_: Any) -> "_EpochClock":
        self._iterable = iterable
        return self

    def __iter__(self):
        self.marks.append(time.perf_counter())
        self.cpu_marks.append(time.process_time())
        total = len(self._iterable) if hasattr(self._iterable, "__len__") else "?"
        for i, item in enumerate(self._iterable, 1):
            yield item
            self.marks.append(time.perf_counter())
            self.cpu_marks.append(time.process_time())
            if self.report_every and i % self.report_every == 0:
                print(f"    CTGAN epoch {i}/{total}, {self.marks[-1] - self.start:.0f} s",
                      file=sys.stderr, flush=True)

    def set_description(self, *_: Any, **__: Any) -> None:
        pass

    set_postfix = set_description

    @property
    def setup_s(self) -> float:
        """Encoder fit + transform + data sampler: everything before the first epoch."""
        return self.marks[0] - self.start

    @property
    def epoch_s(self) -> list[float]:
        return list(np.diff(self.marks))

    @property
    def setup_cpu_s(self) -> float:
        return self.cpu_marks[0] - self.start_cpu

    @property
    def epoch_cpu_s(self) -> list[float]:
        return list(np.diff(self.cpu_marks))


def datetime_resolution(fmt: str | None) -> str | None:
    """The finest unit a strftime format writes (``"s"``, ``"min"``, ``"h"``, ``"D"``)."""
    if not fmt:
        return None
    for code, unit in (("%f", None), ("%S", "s"), ("%M", "min"), ("%H", "h"), ("%d", "D")):
        if code in fmt:
            return unit
    return None


def _ctgan_encode(train: pd.DataFrame, meta: Mapping[str, Any]):
    """Make ``train`` acceptable to ctgan, the way SDV feeds it.

    ctgan refuses missing values in continuous columns and has no datetime type, so numeric
    columns with missing values get a 0/1 ``__null__`` indicator (a discrete column) and the
    mean in place of the gaps, and datetimes become float seconds.  Returns the frame, the
    discrete columns and the decoder for sampled frames (which rounds datetimes to their
    format's resolution and integers with gaps to whole numbers, as SDV does around ctgan).
    """
    kinds = column_kinds(meta)
    data: dict[str, Any] = {}
    discrete: list[str] = []
    nulls: dict[str, str] = {}
    for col, kind in kinds.items():
        s = train[col]
        if kind == "datetime":
            s = pd.Series(s.to_numpy(dtype="datetime64[ns]").astype("int64") / 1e9, index=s.index)
            s[train[col].isna().to_numpy()] = np.nan
        if kind in NUMERIC_KINDS or kind == "datetime":
            missing = s.isna()
            if missing.any():
                flag = f"__null__{col}"
                nulls[col] = flag
                data[flag] = missing.astype("int64")
                discrete.append(flag)
                s = s.fillna(s.mean())
            data[col] = s
        else:
            data[col] = s
            discrete.append(col)
    frame = pd.DataFrame(data)

    def decode(synth: pd.DataFrame) -> pd.DataFrame:
        out = {}
        for col, kind in kinds.items():
            s = synth[col]
            if kind == "integer" and train[col].dtype.kind == "f":
                s = s.astype("float64").round()
            if col in nulls:
                s = s.where(synth[nulls[col]].astype("int64") == 0)
            if kind == "datetime":
                ns = (s.astype("float64") * 1e9).round()
                s = pd.to_datetime(ns, unit="ns")
                unit = datetime_resolution(datetime_format(meta, col))
                if unit:
                    s = s.dt.round(unit)
            out[col] = s.reset_index(drop=True)
        return pd.DataFrame(out)

    return frame, discrete, decode


def fit_ctgan_timed(train: pd.DataFrame, meta: Mapping[str, Any], epochs: int, *, random_state: int = 0,
                    report_every: int = 0):
    """ctgan 0.12.1 at its defaults (batch 500, pac 10) trained ``epochs`` epochs, its setup and
    every epoch timed through the progress bar it reports to: ``(model, encoded frame, decode,
    clock, wall seconds)``."""
    import ctgan
    import ctgan.synthesizers.ctgan as ctgan_module

    frame, discrete, decode = _ctgan_encode(train, meta)
    model = ctgan.CTGAN(epochs=epochs, batch_size=CTGAN_BATCH_SIZE, pac=CTGAN_PAC, enable_gpu=False)
    model.set_random_state(random_state)
    clock = _EpochClock(report_every=report_every)
    original_tqdm = ctgan_module.tqdm
    ctgan_module.tqdm = clock
    try:
        t0 = time.perf_counter()
        clock.start, clock.start_cpu = t0, time.process_time()
        model.fit(frame, discrete_columns=discrete)
        wall = time.perf_counter() - t0
    finally:
        ctgan_module.tqdm = original_tqdm
    return model, frame, decode, clock, wall


def run_ctgan(
    train: pd.DataFrame,
    meta: Mapping[str, Any],
    *,
    n: int,
    epochs: int | None,
    timing_epochs: int = 3,
    random_state: int = 0,
) -> tuple[pd.DataFrame, dict]:
    """Fit ctgan 0.12.1 with its defaults and sample ``n`` rows.

    ``epochs=None``: train ``timing_epochs`` epochs only and estimate the default fit as setup
    (encoder fit, transform, sampler) + 300 x the mean measured epoch.  Otherwise train
    ``epochs`` epochs in full and report the measured wall time.  The sample (and so every
    quality figure) always comes from the model actually trained.
    """
    try:
        import ctgan
    except ImportError as exc:
        raise SystemExit(
            f"ctgan 0.12.1 is needed for the CTGAN row ({exc}); pass --skip-ctgan or run in the "
            "benchmark environment, see benchmarks/README.md"
        ) from None

    trained_epochs = epochs if epochs is not None else timing_epochs
    model, frame, decode, clock, wall = fit_ctgan_timed(
        train, meta, trained_epochs, random_state=random_state,
        report_every=max(trained_epochs // 10, 1) if trained_epochs >= 20 else 0)
    epoch_s = clock.epoch_s
    mean_epoch = float(np.mean(epoch_s))
    t0 = time.perf_counter()
    raw = model.sample(n)
    sample_s = time.perf_counter() - t0
    synthetic = decode(raw)
    estimated = epochs is None
    info = {
        "version": ctgan.__version__,
        "batch_size": CTGAN_BATCH_SIZE,
        "pac": CTGAN_PAC,
        "epochs_trained": trained_epochs,
        "fit_time_estimated": estimated,
        "setup_s": clock.setup_s,
        "epoch_s": epoch_s,
        "mean_epoch_s": mean_epoch,
        "fit_wall_s": wall,
        "fit_s": clock.setup_s + CTGAN_DEFAULT_EPOCHS * mean_epoch if estimated else wall,
        "fit_s_for_epochs": CTGAN_DEFAULT_EPOCHS if estimated else trained_epochs,
        "sample_s": sample_s,
        "null_indicators": sorted(c for c in frame.columns if c.startswith("__null__")),
    }
    return synthetic, info


def run_tabgan(
    train: pd.DataFrame,
    meta: Mapping[str, Any],
    *,
    n: int,
    random_state: int = 0,
    **params: Any,
) -> tuple[pd.DataFrame, dict, Any]:
    """``Synthesizer(random_state=0, **params).fit(train, metadata=meta).sample(n, random_state=0)``."""
    from tabgan import Synthesizer

    if "verbose" in Synthesizer().get_params() and "verbose" not in params:
        params["verbose"] = False  # no progress bar in the benchmark log
    model = Synthesizer(random_state=random_state, **params)
    t0 = time.perf_counter()
    model.fit(train, metadata=dict(meta))
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    synthetic = model.sample(n, random_state=random_state)
    sample_s = time.perf_counter() - t0
    info: dict[str, Any] = {"fit_s": fit_s, "sample_s": sample_s}
    history = getattr(model, "history_", None)
    if history is not None and hasattr(history, "to_frame"):
        frame = history.to_frame()
        info["epochs_trained"] = len(frame)
        if "seconds" in frame:
            info["training_s"] = float(frame["seconds"].sum())
            info["mean_epoch_s"] = float(frame["seconds"].mean()) if len(frame) else None
    info["params"] = _jsonable(model.get_params())
    return synthetic, info, model


# --------------------------------------------------------------------------- scoring


def sdmetrics_metadata(meta: Mapping[str, Any]) -> dict:
    """Numeric kinds as ``numerical``, datetimes with their format, the rest ``categorical``."""
    columns = {}
    for col, kind in column_kinds(meta).items():
        if kind in NUMERIC_KINDS:
            columns[col] = {"sdtype": "numerical"}
        elif kind == "datetime":
            columns[col] = {"sdtype": "datetime", "datetime_format": datetime_format(meta, col)}
        else:
            columns[col] = {"sdtype": "categorical"}
    return {"columns": columns}


def quality(train: pd.DataFrame, synthetic: pd.DataFrame, meta: Mapping[str, Any]) -> dict:
    """SDMetrics 0.32 single-table ``QualityReport`` (thresholded pair trends, its default)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from sdmetrics.reports.single_table import QualityReport
        except ImportError as exc:
            raise SystemExit(
                f"sdmetrics 0.32.0 is needed for the quality figures ({exc}); run the benchmark "
                "in its environment, see benchmarks/README.md (e.g. /work/benchenv/bin/python)"
            ) from None

        report = QualityReport()
        report.generate(train, synthetic[train.columns], sdmetrics_metadata(meta), verbose=False)
    props = report.get_properties().set_index("Property")["Score"]
    shapes = report.get_details("Column Shapes")
    return {
        "quality": float(report.get_score()),
        "column_shapes": float(props["Column Shapes"]),
        "pair_trends": float(props["Column Pair Trends"]),
        # Per column (KS complement for numeric and datetime columns, TV complement for the
        # rest): a table-level mean can hide one heavy-tailed column far off.
        "column_shapes_by_column": {str(c): float(v) for c, v in zip(shapes["Column"], shapes["Score"])},
    }


def utility_privacy(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    meta: Mapping[str, Any],
    *,
    with_dcr: bool = True,
) -> dict:
    """TSTR, detection AUC and DCR from :mod:`tabgan.evaluation.metrics`."""
    from tabgan.evaluation import metrics

    kinds = column_kinds(meta)
    out: dict[str, Any] = {
        "ml_efficacy": _jsonable(
            metrics.ml_efficacy(train, synthetic, holdout, meta["target"], kinds, random_state=0)
        ),
        "detection": _jsonable(metrics.detection_auc(holdout, synthetic, kinds, random_state=0)),
    }
    if with_dcr:
        out["dcr"] = _jsonable(metrics.dcr(train, holdout, synthetic, kinds, random_state=0))
    return out


def tabgan_quality(train: pd.DataFrame, synthetic: pd.DataFrame, meta: Mapping[str, Any]) -> dict:
    """tabgan's own re-implementation of the quality report, recorded beside SDMetrics' to
    show they agree (or by how much they differ)."""
    from tabgan.evaluation import metrics

    kinds = column_kinds(meta)
    out = _jsonable(metrics.quality(train, synthetic, kinds, random_state=0))
    # The near-deterministic dependencies of the real table (hierarchies, functional
    # dependencies) and the share of synthetic rows that keep each: the lowest is the figure.
    pairs = metrics.hierarchy_consistency(train, synthetic, kinds)["pairs"]
    out["hierarchy_pairs"] = int(len(pairs))
    out["hierarchy_consistency"] = float(pairs["synthetic_consistency"].min()) if len(pairs) else None
    out["hierarchy_by_pair"] = {f"{c} -> {p}": float(v) for c, p, v in
                                zip(pairs["child"], pairs["parent"], pairs["synthetic_consistency"])}
    return out


def score(
    name: str,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    meta: Mapping[str, Any],
    *,
    fit_s: float | None,
    sample_s: float | None,
    with_utility: bool = True,
    with_dcr: bool = True,
    note: str = "",
    extra: Mapping[str, Any] | None = None,
    quality_rows: pd.DataFrame | None = None,
) -> dict:
    """One result row: quality, utility and privacy figures, timings.

    ``quality_rows`` replaces ``synthetic`` in the quality report only: the ceiling row scores
    the holdout's quality against ``train`` (train against itself would be a trivial 1.0) while
    its detection and TSTR figures use the training rows themselves.
    """
    t0 = time.perf_counter()
    row: dict[str, Any] = {"name": name, "note": note, "rows": len(synthetic)}
    quality_of = synthetic if quality_rows is None else quality_rows
    row.update(quality(train, quality_of, meta))
    if with_utility:
        try:
            row.update(utility_privacy(train, holdout, synthetic, meta, with_dcr=with_dcr))
            row["tabgan_quality"] = tabgan_quality(train, quality_of, meta)
        except ImportError as exc:  # tabgan.evaluation.metrics not there yet
            row["utility_error"] = f"{type(exc).__name__}: {exc}"
    row["fit_s"] = fit_s
    row["sample_s"] = sample_s
    row["score_s"] = time.perf_counter() - t0
    if extra:
        row.update(_jsonable(dict(extra)))
    return row


# --------------------------------------------------------------------------- output


def _pick(d: Any, *keys: str) -> Any:
    """First of ``keys`` present in mapping ``d`` (metrics return dicts; tolerate key names)."""
    if isinstance(d, Mapping):
        for key in keys:
            if key in d and d[key] is not None:
                return d[key]
        return None
    return d


def ml_primary(row: Mapping[str, Any], task: str) -> tuple[Any, Any]:
    """(synthetic, real) figure of the task's headline ML-efficacy metric."""
    ml = row.get("ml_efficacy")
    if not isinstance(ml, Mapping):
        return None, None
    key = {"binary": "roc_auc", "multiclass": "macro_f1", "regression": "r2"}[task]
    synth = _pick(ml, key, f"synthetic_{key}", "synthetic", "score")
    real = _pick(ml, f"real_{key}", "real")
    if isinstance(synth, Mapping):
        synth = _pick(synth, key)
    if isinstance(real, Mapping):
        real = _pick(real, key)
    return synth, real


def detection_value(row: Mapping[str, Any]) -> Any:
    return _pick(row.get("detection"), "auc", "detection_auc", "roc_auc", "mean_auc")


def dcr_values(row: Mapping[str, Any]) -> tuple[Any, Any]:
    d = row.get("dcr")
    return (
        _pick(d, "dcr_share_closer_to_train", "share_closer_to_train"),
        _pick(d, "exact_copies", "exact_copy_share"),
    )


def fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, (int, float, np.floating, np.integer)):
        return f"{float(value):.{digits}f}"
    return str(value)


def fmt_seconds(value: Any) -> str:
    if value is None:
        return "–"
    value = float(value)
    if value < 0.05:
        return "0 s"
    if value < 120:
        return f"{value:.1f} s"
    return f"{value / 60:.1f} min"


ML_LABEL = {"binary": "TSTR AUC", "multiclass": "TSTR macro F1", "regression": "TSTR R²"}


def markdown_table(rows: list[Mapping[str, Any]], task: str) -> str:
    """The comparison table, one line per synthesizer."""
    real_ml = next((ml_primary(r, task)[1] for r in rows if ml_primary(r, task)[1] is not None), None)
    header = [
        "synthesizer",
        "quality",
        "column shapes",
        "pair trends",
        f"{ML_LABEL[task]} (real {fmt(real_ml)})",
        "detection AUC",
        "DCR share to train",
        "exact copies",
        "fit time",
        "sample time",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        share, copies = dcr_values(r)
        name = r["name"] + (f" ({r['note']})" if r.get("note") else "")
        cells = [
            name,
            fmt(r.get("quality")),
            fmt(r.get("column_shapes")),
            fmt(r.get("pair_trends")),
            fmt(ml_primary(r, task)[0]),
            fmt(detection_value(r)),
            fmt(share),
            fmt(copies, 4) if copies is not None else "–",
            fmt_seconds(r.get("fit_s")),
            fmt_seconds(r.get("sample_s")),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _jsonable(obj: Any) -> Any:
    """Plain JSON types from numpy/pandas scalars, arrays, frames and nested containers."""
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, pd.DataFrame):
        return _jsonable(obj.to_dict(orient="records"))
    if isinstance(obj, pd.Series):
        return _jsonable(obj.to_dict())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, (str, int, float, bool)) or obj is None:
        return obj
    return repr(obj)


def machine_info() -> dict:
    """Where and with what the figures were measured."""
    versions = {}
    for mod in ("numpy", "pandas", "sklearn", "torch", "ctgan", "sdmetrics", "tabgan"):
        module = sys.modules.get(mod)
        if module is None:
            try:
                module = __import__(mod)
            except ImportError:
                continue
        versions[mod] = getattr(module, "__version__", "?")
    torch = sys.modules.get("torch")
    try:  # which code was measured (None outside a git checkout)
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                                text=True, timeout=10).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        commit = None
    return {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "tabgan_commit": commit,
        "load_average_1min": os.getloadavg()[0],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "versions": versions,
    }


def portable_args(args: Mapping[str, Any]) -> dict:
    """Command-line arguments for a results JSON: paths relative to the repository (or to the
    shared datasets beside it), so that no machine's own folders end up in committed files."""
    out = dict(args)
    for key in ("data_dir", "out", "anchor_python"):
        value = out.get(key)
        if value:
            path = Path(value).resolve()
            if path == DEFAULT_DATA_DIR.resolve():
                out[key] = "../shared/datasets"
            elif path.is_relative_to(REPO_ROOT):
                out[key] = str(path.relative_to(REPO_ROOT))
            else:
                out[key] = f"<outside the repository>/{path.name}"
    return out


def write_json(path: str | Path, payload: Mapping[str, Any]) -> Path:
    """Write ``payload`` as indented JSON (atomically), creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(_jsonable(payload), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    t0 = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t0
