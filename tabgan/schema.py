"""Column kinds: inference from a DataFrame, override by metadata, JSON round trip.

This module is torch-free and shared by the synthesizer and by :mod:`tabgan.evaluation`.

Metadata has the form of the JSON files that describe the shared datasets::

    {"columns": {"age": "integer", "sex": "categorical",
                 "when": {"kind": "datetime", "min": "2020-01-01", "max": "2021-01-01"},
                 "grade": {"kind": "categorical", "categories": ["A", "B", "C"], "ordered": true}},
     "ordinal_categories": {"cut": ["Fair", "Good", "Ideal"]},
     "datetime_format": "%Y-%m-%d %H:%M",
     "hierarchies": [["postal_code", "city", "state"]],
     "target": "income"}

``hierarchies`` declares chains of discrete columns, finest first, in which each column
determines the next (a postal code has one city, a city one state): the synthesizer then keeps
every such pair as the table holds it, whether or not its own detection would have found it
(see :mod:`tabgan.dependencies`).

``target`` names the column a model trained on the synthetic rows will predict: when it is a
categorical or boolean column of at most 256 levels, the synthesizer conditions half of its
training batches and of its generated rows on it (see :mod:`tabgan.sampling`), which taught
it the other columns' relation to the target better on adult (``benchmarks/README.md``). A
numeric or wider target changes nothing.

Keys other than ``columns``, ``ordinal_categories``, ``datetime_format``, ``hierarchies`` and
``target`` (``file``, ``rows``, notes) are accepted and ignored, so a dataset's JSON can be
passed as is.
"""

from __future__ import annotations

import datetime
import math
import numbers
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from .exceptions import InvalidDataError

__all__ = [
    "KINDS",
    "ColumnSpec",
    "Schema",
    "infer_schema",
    "validate_frame",
    "parse_metadata",
    "to_json_scalar",
]

KINDS = ("continuous", "integer", "categorical", "boolean", "datetime")

#: A column with more distinct values than this, and distinct in more than half of its rows,
#: is taken for an identifier and refused (it cannot be learned and would only be memorised).
ID_LIKE_MIN_LEVELS = 1000
#: Hard cap on the number of levels of a categorical column.  Levels are stored as integer
#: codes and expanded to one-hot per batch, so memory grows with batch x levels, not rows x levels.
MAX_CATEGORIES = 20_000

_ISO_PATTERNS = [
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), "%Y-%m-%d"),
    (re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$"), "%Y-%m-%d %H:%M"),
    (re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"), "%Y-%m-%d %H:%M:%S"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"), "%Y-%m-%dT%H:%M:%S"),
    (re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$"), "%Y-%m-%dT%H:%M"),
]


def to_json_scalar(value: Any) -> Any:
    """Convert a numpy/pandas scalar to the equivalent plain Python (JSON) value."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass
class ColumnSpec:
    """What the library knows about one column.

    Attributes
    ----------
    name : str
    kind : one of :data:`KINDS`
    dtype : str
        ``str(dtype)`` of the column as given, used to restore it on output.
    nullable : bool
        Whether the column may hold missing values (it did in the training data, or metadata
        says so).
    categories : list or None
        Levels of a categorical/boolean column, as JSON scalars, in code order.
    ordered : bool
        Whether the categories have an order (ordinal).
    min, max : float or None
        Bounds of a numeric column; for datetimes, nanoseconds since the epoch (UTC).
    datetime_format : str or None
        When the column holds datetimes as strings, the format to write them back with.
    tz : str or None
        Time zone of a tz-aware datetime column.
    public : dict
        Which statistics came from user-supplied metadata rather than from the data
        (``categories``, ``bounds``); the privacy module reads this.
    """

    name: str
    kind: str
    dtype: str
    nullable: bool = False
    categories: list | None = None
    ordered: bool = False
    min: float | None = None
    max: float | None = None
    datetime_format: str | None = None
    tz: str | None = None
    public: dict = field(default_factory=dict)

    @property
    def is_discrete(self) -> bool:
        return self.kind in ("categorical", "boolean")

    @property
    def is_numeric(self) -> bool:
        return self.kind in ("continuous", "integer", "datetime")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping) -> "ColumnSpec":
        return cls(**dict(data))


@dataclass
class Schema:
    """An ordered collection of :class:`ColumnSpec`, one per column, the hierarchies the
    metadata declares (chains of discrete column names, finest first) and its target column."""

    columns: list[ColumnSpec]
    hierarchies: list = field(default_factory=list)
    target: str | None = None

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def kinds(self) -> dict[str, str]:
        return {c.name: c.kind for c in self.columns}

    def __getitem__(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    def __iter__(self):
        return iter(self.columns)

    def __len__(self) -> int:
        return len(self.columns)

    def to_dict(self) -> dict:
        out = {"columns": [c.to_dict() for c in self.columns],
               "hierarchies": [list(chain) for chain in self.hierarchies]}
        if self.target is not None:  # absent otherwise, as in files written before it existed
            out["target"] = self.target
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> "Schema":
        # "hierarchies" and "target" are absent from files written before they existed.
        return cls([ColumnSpec.from_dict(c) for c in data["columns"]],
                   [list(chain) for chain in data.get("hierarchies", [])], data.get("target"))

    def hierarchy_pairs(self) -> list[tuple[str, str]]:
        """The declared ``(child, parent)`` pairs: consecutive columns of every chain."""
        return [(a, b) for chain in self.hierarchies for a, b in zip(chain, chain[1:])]


# --------------------------------------------------------------------------- validation


def _describe_bad_cell(series: pd.Series) -> str | None:
    """Return a description of unsupported Python objects in an object column, if any."""
    values = series.dropna()
    if values.empty:
        return None
    types = values.map(type)
    unique_types = set(types.unique())
    bad = (bytes, bytearray, memoryview, list, dict, tuple, set, frozenset, complex, np.complexfloating)
    found = [t.__name__ for t in unique_types if issubclass(t, bad)]
    if found:
        return f"cells of type {', '.join(sorted(found))}"
    kinds = set()
    for t in unique_types:
        if issubclass(t, (bool, np.bool_)):
            kinds.add("bool")
        elif issubclass(t, numbers.Number):
            kinds.add("number")
        elif issubclass(t, str):
            kinds.add("str")
        elif issubclass(t, (pd.Timestamp, np.datetime64)) or t.__name__ == "datetime":
            kinds.add("datetime")
        else:
            kinds.add(t.__name__)
    if len(kinds) > 1:
        return f"a mix of value types ({', '.join(sorted(kinds))})"
    other = kinds - {"bool", "number", "str", "datetime"}
    if other:
        return f"cells of type {', '.join(sorted(other))}"
    return None


def _unsupported_dtype(name, dtype) -> str | None:
    """A problem description when ``dtype`` is not one tabgan models, else None.

    Supported: bool, integer, float (numpy or nullable), datetime64 (naive or tz-aware,
    any resolution), category, string, object, and the pyarrow-backed equivalents (plus
    pyarrow ``date``). Everything else is refused with a hint, rather than failing later.
    """
    fix = "convert it to numbers, strings or datetimes, or drop it"
    if ptypes.is_timedelta64_dtype(dtype):
        return (f"{name!r}: timedelta columns are not supported; convert to a number "
                "(e.g. s.dt.total_seconds()).")
    if isinstance(dtype, pd.PeriodDtype):
        return (f"{name!r}: {dtype} columns are not supported; convert to timestamps "
                "(s.dt.to_timestamp()) or to strings (s.astype(str)).")
    if isinstance(dtype, pd.IntervalDtype):
        return (f"{name!r}: {dtype} columns are not supported; split into two numeric columns "
                "(s.array.left, s.array.right) or convert to strings (s.astype(str)).")
    if ptypes.is_complex_dtype(dtype):
        return f"{name!r}: complex numbers are not supported; split into real and imaginary columns."
    if isinstance(dtype, pd.SparseDtype):
        return f"{name!r}: sparse columns are not supported; densify with s.sparse.to_dense()."
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        t = dtype.pyarrow_dtype
        if pa.types.is_duration(t):
            return (f"{name!r}: duration columns ({dtype}) are not supported; convert to a number "
                    "(e.g. s.dt.total_seconds()).")
        ok = (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
              or pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_timestamp(t)
              or pa.types.is_date(t))
        if not ok:
            return f"{name!r}: pyarrow type {t} is not supported; {fix}."
        return None
    if (dtype == object or isinstance(dtype, (pd.CategoricalDtype, pd.StringDtype))
            or ptypes.is_bool_dtype(dtype) or ptypes.is_integer_dtype(dtype) or ptypes.is_float_dtype(dtype)
            or ptypes.is_datetime64_any_dtype(dtype) or ptypes.is_string_dtype(dtype)):
        return None
    return f"{name!r}: dtype {dtype} is not supported; {fix}."


def _describe_bad_values(name, values: pd.Series) -> str | None:
    """Problems with the values of an object column or the categories of a categorical one."""
    desc = _describe_bad_cell(values)
    if desc:
        hint = "convert the column to one type (e.g. s.astype(str)) or drop it"
        if "delta" in desc:
            hint = "convert to a number (e.g. pd.to_timedelta(s).dt.total_seconds()) or drop it"
        elif "date" in desc or "time" in desc:
            hint = "convert with pd.to_datetime(s) (or s.astype(str)) or drop it"
        return f"{name!r}: holds {desc}; {hint}."
    vals = values.dropna()
    if not len(vals):
        return None
    first = vals.iloc[0]
    if isinstance(first, datetime.datetime):
        tzs = {str(getattr(v, "tzinfo", None)) for v in vals.iloc[:10_000]}
        if len(tzs) > 1:
            return (f"{name!r}: datetimes with mixed time zones ({', '.join(sorted(tzs))}); "
                    "convert with pd.to_datetime(s, utc=True).")
    if isinstance(first, numbers.Number) and not isinstance(first, (bool, np.bool_)):
        arr = pd.to_numeric(vals, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
        if np.isinf(arr).any():
            return f"{name!r}: holds infinite (or too large to represent) values; replace them with NaN."
    return None


def validate_frame(df: Any, *, min_rows: int = 2) -> None:
    """Check that ``df`` is a table tabgan can model; raise a clear error otherwise.

    Raises
    ------
    TypeError
        ``df`` is not a DataFrame.
    InvalidDataError
        Empty table, too few rows, duplicate or non-string column names, an all-missing
        column, infinite values, or a column of a type that cannot be modelled.
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"Expected a pandas DataFrame, got {type(df).__name__}. "
            "Wrap your data with pandas.DataFrame(...) or read it with pandas.read_csv(...)."
        )
    if df.shape[1] == 0:
        raise InvalidDataError("The DataFrame has no columns; pass a table with at least one column.")
    if len(df) < min_rows:
        raise InvalidDataError(
            f"The DataFrame has {len(df)} row(s); at least {min_rows} are needed to learn a distribution."
        )
    bad_names = [repr(c) for c in df.columns if not isinstance(c, str)]
    if bad_names:
        raise InvalidDataError(
            f"Column names must be strings; got {', '.join(bad_names[:5])}. "
            "Rename them, e.g. df.columns = df.columns.map(str)."
        )
    dup = df.columns[df.columns.duplicated()].unique().tolist()
    if dup:
        raise InvalidDataError(f"Duplicate column names {dup}; give every column a unique name.")
    problems = []
    for name in df.columns:
        s = df[name]
        dtype = s.dtype
        problem = _unsupported_dtype(name, dtype)
        if problem is None and s.isna().all():
            problem = f"{name!r}: every value is missing; drop the column."
        if problem is None and ptypes.is_float_dtype(dtype):
            arr = s.to_numpy(dtype="float64", na_value=np.nan)
            if np.isinf(arr).any():
                problem = f"{name!r}: holds infinite values; replace them with NaN or a finite value."
        if problem is None and dtype == object:
            problem = _describe_bad_values(name, s)
        if problem is None and isinstance(dtype, pd.CategoricalDtype):
            problem = _describe_bad_values(name, pd.Series(dtype.categories, dtype=object))
        if problem is not None:
            problems.append(problem)
    if problems:
        raise InvalidDataError("The DataFrame cannot be modelled:\n  - " + "\n  - ".join(problems))


# --------------------------------------------------------------------------- metadata


def parse_metadata(metadata: Mapping | None, columns: Iterable[str]) -> dict[str, dict]:
    """Normalise metadata to ``{column: {"kind": ..., other keys}}`` and check it.

    Raises
    ------
    InvalidDataError
        Unknown kind, a column not in the table, or a malformed entry.
    """
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping):
        raise TypeError(f"metadata must be a dict like {{'columns': {{name: kind}}}}; got {type(metadata).__name__}.")
    columns = list(columns)
    known = set(columns)
    raw_cols = metadata.get("columns", {})
    if not isinstance(raw_cols, Mapping):
        raise InvalidDataError("metadata['columns'] must map column names to kinds or dicts.")
    out: dict[str, dict] = {}
    problems = []
    for name, entry in raw_cols.items():
        if isinstance(entry, str):
            entry = {"kind": entry}
        elif isinstance(entry, Mapping):
            entry = dict(entry)
        else:
            problems.append(f"{name!r}: expected a kind string or a dict, got {type(entry).__name__}")
            continue
        kind = entry.get("kind", entry.get("type"))
        if kind is not None and kind not in KINDS:
            problems.append(f"{name!r}: unknown kind {kind!r}; use one of {', '.join(KINDS)}")
            continue
        entry["kind"] = kind
        out[name] = entry
    for name, cats in (metadata.get("ordinal_categories") or {}).items():
        entry = out.setdefault(name, {"kind": "categorical"})
        entry.setdefault("kind", "categorical")
        if entry["kind"] is None:
            entry["kind"] = "categorical"
        entry["categories"] = list(cats)
        entry["ordered"] = True
    fmt = metadata.get("datetime_format")
    if fmt:
        for entry in out.values():
            if entry.get("kind") == "datetime":
                entry.setdefault("datetime_format", fmt)
    missing = [n for n in out if n not in known]
    problems += _hierarchy_problems(metadata.get("hierarchies"), known)
    target = metadata.get("target")
    if target is not None and target not in known:
        problems.append(f"'target' {target!r} is not a column of the table; the table has {columns[:20]}")
    if missing:
        problems.append(f"columns {missing} are in the metadata but not in the table; "
                        f"the table has {columns[:20]}")
    if problems:
        raise InvalidDataError("Invalid metadata:\n  - " + "\n  - ".join(problems))
    return out


def _hierarchy_problems(hierarchies, known: set) -> list[str]:
    """What is wrong with metadata ``hierarchies`` (a list of chains of column names, finest first)."""
    if hierarchies is None:
        return []
    example = 'e.g. "hierarchies": [["postal_code", "city", "state"]] (finest first)'
    if isinstance(hierarchies, (str, Mapping)) or not isinstance(hierarchies, Iterable):
        return [f"'hierarchies' must be a list of chains of column names, {example}; got {hierarchies!r}"]
    problems = []
    for chain in hierarchies:
        if isinstance(chain, (str, Mapping)) or not isinstance(chain, Iterable):
            problems.append(f"hierarchy {chain!r} is not a list of column names, {example}")
            continue
        chain = list(chain)
        if len(chain) < 2 or len(set(chain)) != len(chain):
            problems.append(f"hierarchy {chain!r} needs at least two different columns, {example}")
        unknown = [c for c in chain if c not in known]
        if unknown:
            problems.append(f"hierarchy {chain!r} names columns that are not in the table: {unknown}")
    return problems


def _check_hierarchy_kinds(hierarchies: list, specs: list) -> list[str]:
    kinds = {s.name: s.kind for s in specs}
    bad = sorted({c for chain in hierarchies for c in chain if c in kinds and kinds[c] not in ("categorical", "boolean")})
    return [f"hierarchy columns must be categorical or boolean; {bad} are not (mark them categorical in "
            f"'columns' or leave them out of 'hierarchies')"] if bad else []


# --------------------------------------------------------------------------- inference


def _guess_datetime_format(values: pd.Series) -> str | None:
    sample = values.dropna().astype(str).iloc[:200]
    if sample.empty:
        return None
    for pattern, fmt in _ISO_PATTERNS:
        if sample.str.match(pattern).all():
            return fmt
    return None


def _holds_strings(s: pd.Series) -> bool:
    """Whether the column's values are strings (as opposed to datetime or number objects)."""
    if ptypes.is_datetime64_any_dtype(s.dtype) or ptypes.is_numeric_dtype(s.dtype):
        return False
    vals = s.dropna()
    return bool(len(vals)) and isinstance(vals.iloc[0], str)


def _infer_kind(s: pd.Series) -> tuple[str, str | None]:
    """Return (kind, datetime_format) for a validated column."""
    dtype = s.dtype
    if ptypes.is_bool_dtype(dtype):
        return "boolean", None
    if ptypes.is_datetime64_any_dtype(dtype):
        return "datetime", None
    if isinstance(dtype, pd.CategoricalDtype):
        return "categorical", None
    if ptypes.is_integer_dtype(dtype):
        return "integer", None
    if ptypes.is_float_dtype(dtype):
        vals = s.dropna().to_numpy(dtype="float64")
        if len(vals) and np.all(np.floor(vals) == vals) and np.abs(vals).max() < 2**53:
            return "integer", None
        return "continuous", None
    vals = s.dropna()
    if len(vals):
        first = vals.iloc[0]
        if isinstance(first, (bool, np.bool_)):
            return "boolean", None
        if isinstance(first, pd.Timestamp) or type(first).__name__ == "datetime":
            return "datetime", None
        if isinstance(first, numbers.Number):
            arr = pd.to_numeric(vals).to_numpy(dtype="float64")
            if np.all(np.floor(arr) == arr):
                return "integer", None
            return "continuous", None
        fmt = _guess_datetime_format(vals)
        if fmt is not None:
            return "datetime", fmt
    return "categorical", None


def _datetime_ns(s: pd.Series, fmt: str | None) -> tuple[np.ndarray, str | None]:
    """Datetimes (or strings in ``fmt``) as float64 nanoseconds since the epoch, UTC; NaN for missing."""
    if isinstance(s.dtype, pd.ArrowDtype) and "date" in str(s.dtype.pyarrow_dtype):
        dt = s.astype("datetime64[ns]")  # pyarrow date32/date64: days as naive datetimes
    elif ptypes.is_datetime64_any_dtype(s.dtype):
        dt = s
    else:
        try:
            dt = pd.to_datetime(s, format=fmt) if fmt else pd.to_datetime(s)
        except (ValueError, TypeError) as exc:
            raise InvalidDataError(
                f"Column {s.name!r} is marked datetime but could not be parsed"
                f"{' with format ' + repr(fmt) if fmt else ''}: {exc}. "
                "Give the right 'datetime_format' in the metadata or mark the column categorical."
            ) from None
    tz = None
    if getattr(dt.dt, "tz", None) is not None:
        tz = str(dt.dt.tz)
        dt = dt.dt.tz_convert("UTC").dt.tz_localize(None)
    ns = dt.astype("datetime64[ns]")
    out = ns.to_numpy().astype("int64").astype("float64")
    out[ns.isna().to_numpy()] = np.nan
    return out, tz


def numeric_values(s: pd.Series, spec: ColumnSpec) -> np.ndarray:
    """The values of a numeric or datetime column as float64 (NaN for missing)."""
    if spec.kind == "datetime":
        return _datetime_ns(s, spec.datetime_format)[0]
    if ptypes.is_bool_dtype(s.dtype):
        return s.astype("float64").to_numpy()
    try:
        return pd.to_numeric(s).to_numpy(dtype="float64", na_value=np.nan)
    except (ValueError, TypeError):
        raise InvalidDataError(
            f"Column {s.name!r} is marked {spec.kind} but holds non-numeric values "
            f"(e.g. {s.dropna().iloc[0]!r}); mark it categorical or clean it."
        ) from None


def _category_values(s: pd.Series, spec_kind: str) -> list:
    if spec_kind == "boolean":
        return [False, True]
    if isinstance(s.dtype, pd.CategoricalDtype):
        return [to_json_scalar(v) for v in s.dtype.categories]
    uniques = pd.unique(s.dropna())
    vals = [to_json_scalar(v) for v in uniques]
    try:
        return sorted(vals)
    except TypeError:
        return sorted(vals, key=lambda v: (type(v).__name__, str(v)))


def _bound(value, kind: str, name: str = "", key: str = "") -> float | None:
    if value is None:
        return None
    try:
        if kind == "datetime":
            ts = pd.Timestamp(value)
            return float((ts if ts.tzinfo is None else ts.tz_convert("UTC").tz_localize(None)).value)
        if isinstance(value, (bool, str)) or not isinstance(value, numbers.Real):
            raise TypeError
        out = float(value)
        if not math.isfinite(out):
            raise ValueError
        return out
    except (TypeError, ValueError, OverflowError):
        wanted = "a timestamp such as '2020-01-31'" if kind == "datetime" else "a finite number"
        raise InvalidDataError(
            f"Column {name!r}: metadata {key} {value!r} is not valid for a {kind} column; give "
            f"{wanted} or leave it out."
        ) from None


def _refuse_id_like(s: pd.Series, n_levels: int) -> None:
    """Refuse a column with too many levels to learn (an identifier or free text)."""
    n_obs = int(s.notna().sum())
    if n_levels > MAX_CATEGORIES or (n_levels > ID_LIKE_MIN_LEVELS and n_levels > 0.5 * n_obs):
        raise InvalidDataError(
            f"Column {s.name!r} has {n_levels} distinct values in {n_obs} non-missing rows: it looks "
            "like an identifier or free text, which a synthesizer can only memorise. Drop it, "
            "replace it with a coarser category, or mark it numeric in the metadata if it is a number.")


def _mark_discrete(meta: dict, discrete_columns, df: pd.DataFrame) -> None:
    """Apply ``discrete_columns`` (a shortcut marking columns categorical) to ``meta``."""
    if isinstance(discrete_columns, str):
        discrete_columns = [discrete_columns]
    if not isinstance(discrete_columns, Iterable) or isinstance(discrete_columns, (bytes, Mapping)):
        raise TypeError(
            f"discrete_columns must be a list of column names; got {type(discrete_columns).__name__} "
            f"{discrete_columns!r}.")
    discrete_columns = list(discrete_columns)
    unknown = [c for c in discrete_columns if c not in df.columns]
    if unknown:
        raise InvalidDataError(
            f"discrete_columns names {unknown}, which are not columns of the table; "
            f"the table has {list(df.columns)[:20]}."
        )
    for name in discrete_columns:
        meta.setdefault(name, {})["kind"] = "categorical"


def _discrete_spec(spec: ColumnSpec, s: pd.Series, entry: dict, kind: str, inferred_kind: str) -> None:
    """Fill in the levels of a categorical or boolean column (public ones from the metadata)."""
    name = spec.name
    if kind == "boolean" and not (ptypes.is_bool_dtype(s.dtype) or inferred_kind == "boolean"):
        levels = set(pd.unique(s.dropna()).tolist())
        if not levels <= {0, 1, True, False}:
            raise InvalidDataError(
                f"Column {name!r} is marked boolean but holds {sorted(map(str, levels))[:5]}; "
                "mark it categorical.")
    if "categories" in entry:
        if isinstance(entry["categories"], (str, bytes, Mapping)) or not isinstance(
                entry["categories"], Iterable):
            raise InvalidDataError(
                f"Column {name!r}: metadata categories must be a list of values; got "
                f"{type(entry['categories']).__name__} {entry['categories']!r}.")
        cats = [to_json_scalar(v) for v in entry["categories"]]
        observed = set(_category_values(s, "categorical"))
        unknown = observed - set(cats)
        if unknown and kind != "boolean":
            raise InvalidDataError(
                f"Column {name!r} holds values {sorted(map(str, unknown))[:5]} that are not in "
                "the categories given in the metadata; add them or clean the column.")
        spec.categories = cats
        spec.public["categories"] = True
    else:
        _refuse_id_like(s, int(s.nunique(dropna=True)) if not isinstance(
            s.dtype, pd.CategoricalDtype) else len(s.dtype.categories))
        spec.categories = _category_values(s, kind)
    spec.ordered = bool(entry.get("ordered", False)) or bool(
        isinstance(s.dtype, pd.CategoricalDtype) and s.dtype.ordered)
    _refuse_id_like(s, len(spec.categories))


def _numeric_spec(spec: ColumnSpec, s: pd.Series, entry: dict, kind: str, fmt: str | None) -> None:
    """Fill in the bounds (and a datetime column's format and time zone) of a numeric column."""
    name = spec.name
    if kind == "datetime":
        if fmt is None and _holds_strings(s):
            fmt = _guess_datetime_format(s)
        spec.datetime_format = fmt if not ptypes.is_datetime64_any_dtype(s.dtype) else None
        values, tz = _datetime_ns(s, spec.datetime_format)
        spec.tz = tz
    else:
        values = numeric_values(s, spec)
        if not np.isfinite(values[~np.isnan(values)]).all():
            raise InvalidDataError(f"Column {name!r} holds infinite values; replace them with NaN.")
    finite = values[~np.isnan(values)]
    lo = _bound(entry.get("min"), kind, name, "min")
    hi = _bound(entry.get("max"), kind, name, "max")
    if lo is not None or hi is not None:
        spec.public["bounds"] = lo is not None and hi is not None
    spec.min = lo if lo is not None else float(finite.min())
    spec.max = hi if hi is not None else float(finite.max())
    if spec.min > spec.max:
        raise InvalidDataError(f"Column {name!r}: metadata min {spec.min} is above max {spec.max}.")


def infer_schema(
    df: pd.DataFrame,
    metadata: Mapping | None = None,
    discrete_columns: Iterable[str] | None = None,
) -> Schema:
    """Infer a :class:`Schema` for ``df``, overridden by ``metadata`` and ``discrete_columns``.

    Parameters
    ----------
    df : DataFrame
        The table; it is validated with :func:`validate_frame` first and never modified.
    metadata : dict, optional
        Column kinds and public facts (see module docstring).
    discrete_columns : iterable of str, optional
        Shortcut that marks these columns ``categorical``.

    Returns
    -------
    Schema
    """
    validate_frame(df)
    meta = parse_metadata(metadata, df.columns)
    if discrete_columns is not None:
        _mark_discrete(meta, discrete_columns, df)
    specs = []
    problems = []
    for name in df.columns:
        s = df[name]
        entry = meta.get(name, {})
        inferred_kind, fmt = _infer_kind(s)
        kind = entry.get("kind") or inferred_kind
        fmt = entry.get("datetime_format") or fmt
        spec = ColumnSpec(name=name, kind=kind, dtype=str(s.dtype), nullable=bool(s.isna().any()))
        if "nullable" in entry:
            spec.nullable = bool(entry["nullable"]) or spec.nullable
        try:
            if spec.is_discrete:
                _discrete_spec(spec, s, entry, kind, inferred_kind)
            else:
                _numeric_spec(spec, s, entry, kind, fmt)
        except InvalidDataError as exc:
            problems.append(str(exc))
            continue
        specs.append(spec)
    hierarchies = [list(chain) for chain in ((metadata or {}).get("hierarchies") or [])]
    problems += _check_hierarchy_kinds(hierarchies, specs)
    if problems:
        raise InvalidDataError("The table cannot be modelled:\n  - " + "\n  - ".join(problems))
    return Schema(specs, hierarchies, (metadata or {}).get("target"))
