"""Shared pieces of the column transformers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

__all__ = ["Span", "restore_dtype"]


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
        True for the level span of a categorical/boolean column: these spans make up the
        conditional vector.
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
    has_na = bool(values.isna().any())
    try:
        if dtype.startswith(("int", "uint")) and has_na:
            return values.astype("Int64" if not dtype.startswith("u") else "UInt64")
        if dtype == "bool" and has_na:
            return values.astype("boolean")
        if integer and dtype.startswith("float"):
            return values.astype(dtype)
        return values.astype(dtype)
    except (TypeError, ValueError):
        return values


def is_string_like(dtype) -> bool:
    return dtype == object or ptypes.is_string_dtype(dtype)


def object_array(values: list, codes: np.ndarray) -> np.ndarray:
    lookup = np.empty(len(values), dtype=object)
    lookup[:] = values
    return lookup[codes]
