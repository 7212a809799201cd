"""Shared pieces of the column transformers."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

__all__ = ["Span", "WIDE_LEVELS", "pandas_dtype", "restore_dtype"]

#: A categorical column with more levels than this (flight numbers, tail numbers, zip codes) is
#: "wide": it is not a conditional-vector column, and the networks see its levels through a
#: low-rank factor (see :mod:`tabgan.nn.modules`).  A full-width one-hot would make it the
#: largest input of both networks and of the condition vector, for little gain: training by
#: sampling one of thousands of levels teaches the generator next to nothing per step.
WIDE_LEVELS = 256


@dataclass(frozen=True)
class Span:
    """One block of the generator's output.

    Attributes
    ----------
    column : str
        The column the span belongs to.
    width : int
        Number of output units (1 for ``tanh``, the number of levels or modes for ``softmax``).
    activation : {"tanh", "softmax"}
    discrete : bool
        True for the level span of a categorical/boolean column.
    """

    column: str
    width: int
    activation: str
    discrete: bool = False


def restore_dtype(values: pd.Series, dtype: str, *, integer: bool = False) -> pd.Series:
    """Cast generated values back to the dtype the column had when the model was fitted.

    Missing values force a nullable or float dtype when the original one cannot hold them
    (a model fitted on ``int64`` data without missing values never generates them, so this
    only happens for dtypes that already allowed it).
    """
    target = pandas_dtype(dtype)
    if values.dtype == object and target == object:
        return values
    # A float column's missing values and range are read on its numpy array (pandas' isna,
    # clip and astype cost more than the rest of decoding a column).
    floats = values.to_numpy() if values.dtype.kind == "f" else None
    has_na = bool(np.isnan(floats).any()) if floats is not None else bool(values.isna().any())
    if floats is not None and target is not None and ptypes.is_integer_dtype(target):
        # float(2**63 - 1) rounds up to 2**63, which wraps around when cast to int64: clip to
        # the largest float the integer type can hold, so extreme values stay in range.
        info = np.iinfo(getattr(target, "numpy_dtype", target))
        hi = float(info.max) if float(info.max) <= info.max else float(np.nextafter(float(info.max), 0))
        floats = np.clip(floats, float(info.min), hi)
        values = pd.Series(floats, index=values.index, name=values.name)
    if floats is not None and isinstance(target, np.dtype) and target.kind in "iuf" and not has_na:
        return pd.Series(floats.astype(target, copy=False), index=values.index, name=values.name)
    if integer and values.dtype.kind == "f" and target is not None and target == object:
        # Integers held in an object column come back as Python ints (None for missing).
        arr = values.to_numpy(dtype="float64", na_value=np.nan)
        ok = ~np.isnan(arr)
        if np.all(np.abs(arr[ok]) < 2.0**63):
            out = np.full(len(arr), None, dtype=object)
            out[ok] = arr[ok].astype(np.int64).astype(object)
            return pd.Series(out, index=values.index, name=values.name, dtype=object)
    try:
        numpy_target = isinstance(target, np.dtype)
        if numpy_target and target.kind in "iu" and has_na:
            return values.astype("Int64" if target.kind == "i" else "UInt64")
        if numpy_target and target.kind == "b" and has_na:
            return values.astype("boolean")
        return values.astype(dtype)
    except (TypeError, ValueError):
        return values


@functools.lru_cache(maxsize=256)
def pandas_dtype(name: str):
    """The pandas dtype called ``name`` (looked up once: pandas tries every registered dtype);
    None for a name pandas does not know."""
    try:
        return pd.api.types.pandas_dtype(name)
    except TypeError:
        return None


def object_array(values: list, codes: np.ndarray) -> np.ndarray:
    lookup = np.empty(len(values), dtype=object)
    lookup[:] = values
    return lookup[codes]


def arrow_strings(values: list, codes: np.ndarray, dtype) -> pd.api.extensions.ExtensionArray | None:
    """``values[codes]`` as an array of the pyarrow-backed string ``dtype``, taken by pyarrow
    (building it from Python strings checks each one, the slowest step of decoding a table);
    None when ``dtype`` is not pyarrow-backed or ``values`` are not all strings or None."""
    if not isinstance(dtype, pd.StringDtype) or dtype.storage != "pyarrow":
        return None
    import pyarrow as pa  # present: the dtype is backed by it

    try:
        taken = pa.array(values, type=pa.large_string()).take(pa.array(codes))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    return pd.array(taken, dtype=dtype)
