import numpy as np
import pandas as pd
import pytest

from tabgan.exceptions import InvalidDataError
from tabgan.schema import Schema, infer_schema


def test_kinds_are_inferred(mixed_frame):
    kinds = infer_schema(mixed_frame).kinds
    assert kinds == {"group": "categorical", "x": "continuous", "count": "integer", "flag": "boolean",
                     "when": "datetime", "maybe": "integer", "level": "categorical", "note": "categorical"}


def test_metadata_overrides_kinds_and_gives_ordinal_order():
    df = pd.DataFrame({"code": [1, 2, 3, 1] * 5, "cut": ["Good", "Fair", "Ideal", "Fair"] * 5})
    meta = {"file": "x.csv", "columns": {"code": "categorical"},
            "ordinal_categories": {"cut": ["Fair", "Good", "Ideal"]}}
    schema = infer_schema(df, meta)
    assert schema["code"].kind == "categorical" and schema["code"].categories == [1, 2, 3]
    assert schema["cut"].categories == ["Fair", "Good", "Ideal"] and schema["cut"].ordered
    assert schema["cut"].public == {"categories": True}


def test_discrete_columns_shortcut_and_unknown_name():
    df = pd.DataFrame({"a": [1, 2, 3, 4], "b": [0.5, 1.5, 2.5, 3.5]})
    assert infer_schema(df, discrete_columns=["a"])["a"].kind == "categorical"
    with pytest.raises(InvalidDataError, match="not columns of the table"):
        infer_schema(df, discrete_columns=["nope"])


def test_metadata_bounds_are_used_and_marked_public():
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0]})
    spec = infer_schema(df, {"columns": {"x": {"kind": "continuous", "min": 0, "max": 10}}})["x"]
    assert (spec.min, spec.max) == (0.0, 10.0) and spec.public["bounds"]


def test_schema_round_trips_through_dict(mixed_frame):
    schema = infer_schema(mixed_frame)
    assert Schema.from_dict(schema.to_dict()) == schema


def test_identifier_column_is_refused_with_advice():
    df = pd.DataFrame({"id": [f"user{i}" for i in range(3000)], "x": np.arange(3000.0)})
    with pytest.raises(InvalidDataError, match="identifier"):
        infer_schema(df)


def test_unknown_kind_in_metadata_is_an_error():
    df = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(InvalidDataError, match="unknown kind"):
        infer_schema(df, {"columns": {"x": "float"}})


def test_the_metadata_target_is_kept_round_trips_and_must_name_a_column(mixed_frame):
    schema = infer_schema(mixed_frame, {"target": "group"})
    assert schema.target == "group"
    assert Schema.from_dict(schema.to_dict()) == schema
    assert "target" not in infer_schema(mixed_frame).to_dict()  # as in files written before it existed
    with pytest.raises(InvalidDataError, match="'target' 'income' is not a column of the table"):
        infer_schema(mixed_frame, {"target": "income"})
