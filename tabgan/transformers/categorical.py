"""One-hot (as codes) encoding of categorical and boolean columns.

Missing values are a level of their own (the last one), so the missing rate round-trips.
Levels are kept in the schema's order, so ordered categories keep their order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import InvalidDataError
from ..schema import ColumnSpec
from .base import Span, arrow_strings, object_array, pandas_dtype, restore_dtype

__all__ = ["CategoricalTransformer", "level_codes"]


def _numeric_not_bool(dtype: str) -> bool:
    dt = pandas_dtype(dtype)
    return dt is not None and pd.api.types.is_numeric_dtype(dt) and not pd.api.types.is_bool_dtype(dt)


class CategoricalTransformer:
    """Encode one categorical or boolean column as an integer level code."""

    def __init__(self, spec: ColumnSpec):
        self.spec = spec

    def fit(self, series: pd.Series, rng: np.random.Generator | None = None) -> "CategoricalTransformer":
        self.categories_ = list(self.spec.categories or [])
        self.has_missing_level_ = bool(self.spec.nullable)
        return self

    @property
    def n_levels(self) -> int:
        return len(self.categories_) + int(self.has_missing_level_)

    @property
    def spans(self) -> list[Span]:
        return [Span(self.spec.name, self.n_levels, "softmax", discrete=True)]

    def codes_of(self, series: pd.Series) -> np.ndarray:
        """Level codes of the values; -1 for values not among the levels (missing included)."""
        return level_codes(series, self.categories_, boolean=self.spec.kind == "boolean")

    def transform(self, series: pd.Series, rng: np.random.Generator | None = None):
        """Return an empty float block (n, 0) and the level codes (n, 1).

        Missing values take the missing level. A value that is not a level, or a missing value
        in a column without a missing level, is refused (they used to become level 0, or the
        missing level, silently).

        Raises
        ------
        InvalidDataError
            Values that are not among the column's levels.
        """
        codes = self.codes_of(series)
        missing = series.isna().to_numpy() & (codes < 0)
        bad = (codes < 0) & ~missing if self.has_missing_level_ else codes < 0
        if bad.any():
            unknown = pd.unique(series[bad].astype("object"))
            no_missing = "" if self.has_missing_level_ else ", and it has no level for missing values"
            raise InvalidDataError(
                f"Column {self.spec.name!r} holds {int(bad.sum())} value(s) that are not among its "
                f"{len(self.categories_)} levels (for example {list(unknown[:5])}){no_missing}. Add them to "
                "the column's categories in the metadata, or drop those rows.")
        codes = np.where(missing, len(self.categories_), codes)
        return np.zeros((len(codes), 0), dtype=np.float32), codes[:, None]

    def inverse_transform(self, floats: np.ndarray, codes: np.ndarray) -> pd.Series:
        codes = np.asarray(codes, dtype=np.int64).reshape(-1)
        spec = self.spec
        levels = list(self.categories_) + ([None] * int(self.has_missing_level_))
        if spec.dtype == "category":  # str() of every CategoricalDtype
            # The missing level decodes to the code -1 of a Categorical.
            cat = pd.Categorical.from_codes(np.where(codes < len(self.categories_), codes, -1),
                                            categories=self.categories_, ordered=spec.ordered)
            return pd.Series(cat, name=spec.name)
        strings = arrow_strings(levels, codes, pandas_dtype(spec.dtype))
        if strings is not None:
            return pd.Series(strings, name=spec.name)
        series = pd.Series(object_array(levels, codes), name=spec.name, dtype=object)
        if spec.kind == "boolean" and _numeric_not_bool(spec.dtype):
            # A 0/1 column marked boolean: give the numbers back (an object column of True/False
            # keeps its bools).
            series = series.map({False: 0, True: 1, None: None})
        return restore_dtype(series, spec.dtype)

    def get_state(self) -> dict:
        return {"missing_level": self.has_missing_level_}

    def set_state(self, state: dict) -> "CategoricalTransformer":
        self.categories_ = list(self.spec.categories or [])
        self.has_missing_level_ = bool(state["missing_level"])
        return self


def level_codes(series: pd.Series, categories: list, *, boolean: bool) -> np.ndarray:
    """Index of each value among ``categories``; -1 for any other value, missing included.

    A boolean column's values are compared as numbers (``True``, ``1`` and ``1.0`` are one
    level), each to its own level wherever it sits among ``categories`` (metadata may list
    ``[True, False]``); other numbers (2, 0.5) are not levels.
    """
    if boolean:
        arr = pd.to_numeric(series.astype("object").where(series.notna(), np.nan), errors="coerce") \
            .to_numpy(dtype="float64", na_value=np.nan)
        keys = pd.to_numeric(pd.Series(list(categories), dtype=object), errors="coerce").to_numpy(dtype="float64")
        codes = pd.Index(keys).get_indexer(arr).astype(np.int64)
        return np.where(np.isnan(arr), -1, codes)
    # Index lookup, not pd.Categorical(values, categories): pandas deprecates building a
    # Categorical from values outside its categories, which is how unknowns are found here.
    return pd.Index(categories, dtype=object).get_indexer(series.astype(object)).astype(np.int64)
