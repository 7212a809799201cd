"""The categorical transformer: levels as codes, missing values as a level of their own, and
values that are not levels refused (they used to become level 0 silently)."""

import numpy as np
import pandas as pd
import pytest

from tabgan.exceptions import InvalidDataError
from tabgan.schema import ColumnSpec
from tabgan.transformers.categorical import CategoricalTransformer


def _transformer(nullable: bool) -> CategoricalTransformer:
    spec = ColumnSpec.from_dict({"name": "g", "kind": "categorical", "categories": ["a", "b"],
                                 "nullable": nullable, "dtype": "object"})
    return CategoricalTransformer(spec).fit(pd.Series(["a", "b"]))


def test_missing_values_take_the_last_level_of_a_nullable_column():
    _, codes = _transformer(nullable=True).transform(pd.Series(["b", None, "a"], dtype=object))
    assert codes[:, 0].tolist() == [1, 2, 0]


def test_a_value_that_is_not_a_level_is_refused_with_the_fix():
    tt = _transformer(nullable=False)
    with pytest.raises(InvalidDataError, match=r"'g' holds 2 value\(s\) that are not among its 2 levels.*'c'.*"
                                               r"categories in the metadata"):
        tt.transform(pd.Series(["a", "c", None], dtype=object))


def test_codes_decode_back_to_the_values():
    tt = _transformer(nullable=True)
    values = pd.Series(["a", None, "b", "b"], dtype=object)
    _, codes = tt.transform(values)
    back = tt.inverse_transform(np.zeros((4, 0), np.float32), codes)
    assert back.tolist() == ["a", None, "b", "b"]


def test_an_unknown_value_is_not_taken_for_a_missing_one():
    with pytest.raises(InvalidDataError, match=r"holds 1 value\(s\) that are not among its 2 levels \(for example "
                                               r"\['c'\]\)\. Add them"):
        _transformer(nullable=True).transform(pd.Series(["a", "c", None], dtype=object))


def test_a_boolean_value_other_than_0_or_1_is_refused_not_truncated_to_a_level():
    spec = ColumnSpec.from_dict({"name": "f", "kind": "boolean", "categories": [False, True], "nullable": True,
                                 "dtype": "bool"})
    tt = CategoricalTransformer(spec).fit(pd.Series([True, False]))
    assert tt.transform(pd.Series([True, False, None, 1, 0], dtype=object))[1][:, 0].tolist() == [1, 0, 2, 1, 0]
    for bad in (2, 0.5):  # 2 used to become the missing level, 0.5 False
        with pytest.raises(InvalidDataError, match="not among its 2 levels"):
            tt.transform(pd.Series([True, bad], dtype=object))


def test_a_pandas_categorical_series_gets_the_same_codes_as_its_values():
    values = ["b", None, "a"]
    tt = _transformer(nullable=True)
    as_cat = tt.transform(pd.Series(pd.Categorical(values, categories=["b", "a", "x"])))[1]
    assert as_cat[:, 0].tolist() == tt.transform(pd.Series(values, dtype=object))[1][:, 0].tolist() == [1, 2, 0]


def test_boolean_levels_listed_true_first_keep_each_value_on_its_own_level():
    """Metadata may list a boolean's categories as [True, False]: True must not become False."""
    from tabgan.schema import infer_schema

    df = pd.DataFrame({"f": [True] * 9 + [False]})
    spec = infer_schema(df, {"columns": {"f": {"kind": "boolean", "categories": [True, False]}}})["f"]
    tt = CategoricalTransformer(spec).fit(df["f"])
    _, codes = tt.transform(df["f"])
    assert codes[:, 0].tolist() == [0] * 9 + [1]
    assert tt.inverse_transform(np.zeros((10, 0), np.float32), codes).tolist() == df["f"].tolist()


@pytest.mark.parametrize("dtype", ["str", "string", "category", "object"])
def test_levels_decode_to_the_columns_own_string_dtype_with_its_missing_marker(dtype):
    values = pd.Series(["b", None, "a", "é", "b", None], dtype=dtype)
    spec = ColumnSpec.from_dict({"name": "g", "kind": "categorical", "categories": ["a", "b", "é"],
                                 "nullable": True, "dtype": str(values.dtype)})
    tt = CategoricalTransformer(spec).fit(values)
    _, codes = tt.transform(values)
    back = tt.inverse_transform(np.zeros((len(values), 0), np.float32), codes)
    pd.testing.assert_series_equal(back, values.rename("g"))
