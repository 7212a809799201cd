"""Conditions of ``sample(conditions={column: value})``, checked and turned into level codes
(torch-free)."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .exceptions import ConditionError
from .schema import Schema, to_json_scalar
from .transformers import TableTransformer
from .transformers.base import WIDE_LEVELS

__all__ = ["parse_conditions", "level_of"]


def parse_conditions(conditions, schema: Schema, transformer: TableTransformer,
                     cond_level_probs: list) -> list[tuple[int, int]]:
    """Turn ``{column: value}`` into ``[(code column index, level)]``, checking every entry.

    ``cond_level_probs`` are the level frequencies of the conditional-vector columns (a level
    of frequency zero, an unused category, is refused like an unknown value).

    Raises
    ------
    TypeError
        ``conditions`` is not a mapping.
    ConditionError
        Listing every unknown column or value, every wide or numeric column.
    """
    if conditions is None:
        return []
    if not isinstance(conditions, Mapping):
        raise TypeError(f"conditions must be a dict {{column: value}}; got {type(conditions).__name__}.")
    layout = transformer.layout_
    cond_index = {int(ci): j for j, ci in enumerate(np.flatnonzero(layout.conditioned))}
    by_name = {}  # conditioned column name -> (code column index, transformer, sampler index)
    for col, (name, _, codes) in zip(transformer.columns_, layout.columns):
        for ci in range(codes.start, codes.stop):
            if ci in cond_index:
                by_name[name] = (ci, col, cond_index[ci])
    parsed = []
    problems = []
    for name, value in conditions.items():
        if name not in schema.names:
            problems.append(f"unknown column {name!r}; columns are {schema.names[:20]}")
            continue
        if name not in by_name and schema[name].is_discrete:
            problems.append(f"column {name!r} has more than {WIDE_LEVELS} levels, and such wide columns are "
                            "not conditioned on; sample more rows and keep those with the value you need")
            continue
        if name not in by_name:
            problems.append(f"column {name!r} is {schema[name].kind}; conditions are supported on "
                            "categorical and boolean columns only")
            continue
        idx, col, j = by_name[name]
        level = level_of(col, value)
        if level is not None and cond_level_probs[j][level] <= 0:
            level = None  # a declared level (unused category) the model never saw
        if level is None:
            shown = col.categories_[:10]
            problems.append(f"value {value!r} was never seen in column {name!r}; known values include {shown}")
            continue
        parsed.append((idx, level))
    if problems:
        raise ConditionError("Cannot sample with these conditions:\n  - " + "\n  - ".join(problems))
    return parsed


def level_of(col, value) -> int | None:
    """The level code of ``value`` in the categorical column transformer ``col``; None when it
    is not one of its levels (missing values: the missing level, where the column has one)."""
    is_missing = value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA \
        or value is pd.NaT
    if is_missing:
        return len(col.categories_) if col.has_missing_level_ else None
    value = to_json_scalar(value)
    for i, cat in enumerate(col.categories_):
        if type(cat) is bool or type(value) is bool:
            if col.spec.kind == "boolean" and value in (0, 1, True, False) and bool(value) == cat:
                return i
            continue
        if cat == value:
            return i
    return None
