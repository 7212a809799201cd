"""Conditions of sample(conditions=...) parsed into level codes, without a model (torch-free)."""

import numpy as np
import pandas as pd
import pytest

from tabgan.conditions import parse_conditions
from tabgan.exceptions import ConditionError
from tabgan.schema import infer_schema
from tabgan.transformers import TableTransformer


@pytest.fixture(scope="module")
def encoded():
    frame = pd.DataFrame({"x": np.linspace(0, 1, 60), "g": ["a", "b", "c"] * 20, "flag": [True, False] * 30})
    schema = infer_schema(frame)
    transformer = TableTransformer(schema).fit(frame, np.random.default_rng(0))
    return schema, transformer


def test_values_become_code_columns_and_levels(encoded):
    schema, transformer = encoded
    probs = [np.array([0.4, 0.4, 0.2]), np.array([0.5, 0.5])]
    parsed = parse_conditions({"g": "c", "flag": 1}, schema, transformer, probs)
    layout = transformer.layout_
    g_code = next(cs.start for name, _, cs in layout.columns if name == "g")
    flag_code = next(cs.start for name, _, cs in layout.columns if name == "flag")
    assert parsed == [(g_code, 2), (flag_code, 1)]
    # The same code columns counted from the spans themselves (x's modes, then g, then flag).
    softmax_columns = [span.column for span in layout.spans if span.activation == "softmax"]
    assert (g_code, flag_code) == (softmax_columns.index("g"), softmax_columns.index("flag"))
    assert parse_conditions(None, schema, transformer, probs) == []


def test_every_problem_is_listed_at_once(encoded):
    schema, transformer = encoded
    probs = [np.array([0.5, 0.5, 0.0]), np.array([0.5, 0.5])]  # "c" never generated
    with pytest.raises(ConditionError) as info:
        parse_conditions({"nope": 1, "x": 0.5, "g": "c"}, schema, transformer, probs)
    message = str(info.value)
    assert "unknown column 'nope'" in message and "'x' is continuous" in message
    assert "value 'c' was never seen in column 'g'" in message
    with pytest.raises(TypeError, match="conditions must be a dict"):
        parse_conditions([("g", "a")], schema, transformer, probs)
