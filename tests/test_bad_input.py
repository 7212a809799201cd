"""Bad and awkward input, table-driven (issue 6).

Every case names what it passes and what it gets: an exception class with a message that
says what was wrong and what to do, or a documented success whose result is checked. Errors
come before any expensive work (the encoders and the training loop are never reached), and
nothing the caller passed is modified.
"""

from __future__ import annotations

import copy
import datetime
import decimal
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
import pytest

import tabgan.generation as generation
import tabgan.synthesizer as synth_mod
from tabgan import Synthesizer
from tabgan.exceptions import ConditionError, InvalidDataError, NotFittedError

FAST = {"epochs": 1, "batch_size": 50, "verbose": False, "random_state": 0,
        "generator_dims": (32,), "discriminator_dims": (32,), "embedding_dim": 16}
N = 40
_rng = np.random.default_rng(0)
_X = _rng.normal(size=N)
_G = np.array(["x", "y"] * (N // 2), dtype=object)


def frame(**cols) -> pd.DataFrame:
    return pd.DataFrame(cols)


@dataclass
class Case:
    name: str
    data: Callable[[], Any]
    raises: type[BaseException] | None = None
    match: str = ""
    fit_kwargs: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    check: Callable[[Synthesizer, pd.DataFrame, pd.DataFrame], None] | None = None


# ----------------------------------------------------------------------------- checks


def same_columns_and_dtypes(model, out, df):
    assert list(out.columns) == list(df.columns)
    assert out.dtypes.astype(str).tolist() == df.dtypes.astype(str).tolist()


def numeric_in_range(col):
    def check(model, out, df):
        same_columns_and_dtypes(model, out, df)
        vals = out[col].dropna().astype("float64")
        assert len(vals) and np.isfinite(vals).all()
        assert vals.between(df[col].astype("float64").min(), df[col].astype("float64").max()).all()
    return check


def values_within(col, allowed_na=True):
    def check(model, out, df):
        same_columns_and_dtypes(model, out, df)
        seen = set(df[col].dropna().tolist())
        got = out[col]
        assert set(got.dropna().tolist()) <= seen
        if not allowed_na:
            assert got.notna().all()
        assert {type(v) for v in got.dropna()} <= {type(v) for v in df[col].dropna()}
    return check


def constants_come_back(model, out, df):
    same_columns_and_dtypes(model, out, df)
    for col in ("c", "s", "i", "t"):
        assert (out[col] == df[col].iloc[0]).all(), col


def one_category(model, out, df):
    same_columns_and_dtypes(model, out, df)
    assert list(out["c"].cat.categories) == ["only"]
    assert (out["c"] == "only").all()


def unused_categories_kept(model, out, df):
    same_columns_and_dtypes(model, out, df)
    assert list(out["c"].cat.categories) == ["x", "y", "z"]


def saved_and_loaded(col):
    def check(model, out, df, tmp_path=None):
        values_within(col)(model, out, df)
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as tmp:
            model.save(Path(tmp) / "m.tabgan")
            back = Synthesizer.load(Path(tmp) / "m.tabgan").sample(20, random_state=1)
        values_within(col)(model, back, df)
    return check


def timestamps_back(model, out, df):
    same_columns_and_dtypes(model, out, df)
    assert all(isinstance(v, pd.Timestamp) for v in out["a"])
    assert out["a"].between(df["a"].min(), df["a"].max()).all()


def default_index(model, out, df):
    same_columns_and_dtypes(model, out, df)
    assert isinstance(out.index, pd.RangeIndex) and out.index[0] == 0


def nan_or_the_value(model, out, df):
    same_columns_and_dtypes(model, out, df)
    assert set(out["a"].dropna()) <= {3.0}


# ----------------------------------------------------------------------------- the table

CASES = [
    # --- not a table
    Case("list", lambda: [[1, 2], [3, 4]], TypeError, r"Expected a pandas DataFrame, got list.*pandas\.DataFrame"),
    Case("ndarray", lambda: np.ones((5, 2)), TypeError, r"got ndarray"),
    Case("dict", lambda: {"a": [1, 2]}, TypeError, r"got dict"),
    Case("series", lambda: pd.Series([1.0, 2.0, 3.0]), TypeError, r"got Series"),
    Case("none", lambda: None, TypeError, r"got NoneType"),
    # --- shape
    Case("empty frame", lambda: pd.DataFrame(), InvalidDataError, r"no columns.*at least one column"),
    Case("zero columns", lambda: pd.DataFrame(index=range(5)), InvalidDataError, r"no columns"),
    Case("zero rows", lambda: frame(a=pd.Series([], dtype=float)), InvalidDataError, r"0 row.*at least 2"),
    Case("one row", lambda: frame(a=[1.0], g=["x"]), InvalidDataError, r"1 row.*at least 2"),
    Case("two rows", lambda: frame(a=[1.0, 2.0], g=["x", "y"]), check=same_columns_and_dtypes),
    # --- column names
    Case("duplicate names", lambda: pd.DataFrame([[1.0, 2.0]] * 10, columns=["a", "a"]), InvalidDataError,
         r"Duplicate column names \['a'\].*unique"),
    Case("int names", lambda: pd.DataFrame(np.ones((10, 2))), InvalidDataError,
         r"must be strings; got 0, 1.*df\.columns = df\.columns\.map\(str\)"),
    Case("numpy int names", lambda: pd.DataFrame(np.ones((10, 2)), columns=[np.int64(3), np.int64(4)]),
         InvalidDataError, r"must be strings"),
    Case("MultiIndex columns", lambda: pd.DataFrame(
        np.ones((10, 2)), columns=pd.MultiIndex.from_tuples([("a", "b"), ("a", "c")])),
        InvalidDataError, r"must be strings; got \('a', 'b'\)"),
    Case("unicode/whitespace names", lambda: pd.DataFrame({" é 名前 ": _X, "": _X, "tab\t": _G}),
         check=same_columns_and_dtypes),
    Case("bool column named '1'", lambda: frame(**{"1": [True, False] * (N // 2)}), check=values_within("1")),
    # --- missing values
    Case("all-missing float", lambda: frame(a=_X, b=[np.nan] * N), InvalidDataError,
         r"'b': every value is missing; drop the column"),
    Case("all-missing object", lambda: frame(a=_X, b=[None] * N), InvalidDataError, r"every value is missing"),
    Case("all NaT", lambda: frame(a=pd.Series([pd.NaT] * N, dtype="datetime64[ns]"), b=_X), InvalidDataError,
         r"every value is missing"),
    Case("all-NaN float but one value", lambda: frame(a=[np.nan] * (N - 1) + [3.0]), check=nan_or_the_value),
    Case("pd.NA in object column", lambda: frame(a=pd.Series(["x", pd.NA, "y", None] * (N // 4), dtype=object)),
         check=values_within("a")),
    Case("boolean with NA", lambda: frame(a=pd.array([True, None, False, True] * (N // 4), dtype="boolean")),
         check=values_within("a")),
    Case("object bools with None", lambda: frame(a=pd.Series([True, None, False, True] * (N // 4), dtype=object)),
         check=values_within("a")),
    # --- constants and magnitudes
    Case("constant columns", lambda: frame(a=_X, c=[5.0] * N, s=["k"] * N, i=[3] * N,
                                           t=[pd.Timestamp("2020-01-01")] * N), check=constants_come_back),
    Case("inf", lambda: frame(a=np.r_[_X[:-1], np.inf]), InvalidDataError,
         r"'a': holds infinite values; replace them with NaN"),
    Case("-inf", lambda: frame(a=np.r_[_X[:-1], -np.inf]), InvalidDataError, r"infinite"),
    Case("inf in nullable Float64", lambda: frame(a=pd.array(np.r_[_X[:-1], np.inf], dtype="Float64")),
         InvalidDataError, r"infinite"),
    Case("inf in object numbers", lambda: frame(a=pd.Series([1.0, np.inf] * (N // 2), dtype=object)),
         InvalidDataError, r"infinite"),
    Case("magnitude 1e300", lambda: frame(a=_X * 1e300), check=numeric_in_range("a")),
    Case("magnitude 1e-300", lambda: frame(a=_X * 1e-300), check=numeric_in_range("a")),
    Case("float64 extremes", lambda: frame(a=np.r_[_X[:-2], 1.7e308, -1.7e308]), check=numeric_in_range("a")),
    Case("int64 extremes", lambda: frame(a=[2**63 - 1, -(2**63)] * (N // 2)), check=numeric_in_range("a")),
    Case("uint64 extremes", lambda: frame(a=np.array([2**64 - 1, 0] * (N // 2), dtype=np.uint64)),
         check=numeric_in_range("a")),
    # --- cell types
    Case("mixed object column", lambda: frame(a=[1, "x"] * (N // 2)), InvalidDataError,
         r"'a': holds a mix of value types \(number, str\).*astype\(str\)"),
    Case("bools mixed with ints", lambda: frame(a=pd.Series([True, 1, 0, False] * (N // 4), dtype=object)),
         InvalidDataError, r"mix of value types \(bool, number\)"),
    Case("bytes cells", lambda: frame(a=[b"x", b"y"] * (N // 2)), InvalidDataError, r"cells of type bytes"),
    Case("list cells", lambda: frame(a=[[1], [2]] * (N // 2)), InvalidDataError, r"cells of type list"),
    Case("dict cells", lambda: frame(a=[{"k": 1}, {"k": 2}] * (N // 2)), InvalidDataError, r"cells of type dict"),
    Case("complex dtype", lambda: frame(a=np.arange(N) + 1j), InvalidDataError,
         r"complex numbers are not supported; split into real and imaginary"),
    Case("complex cells", lambda: frame(a=pd.Series([1 + 1j, 2j] * (N // 2), dtype=object)), InvalidDataError,
         r"cells of type complex"),
    Case("Decimal cells", lambda: frame(a=[decimal.Decimal("1.5"), decimal.Decimal("2.25")] * (N // 2)),
         check=numeric_in_range("a")),
    Case("Decimal as discrete (save/load)", lambda: frame(a=[decimal.Decimal("1.5"), decimal.Decimal("2.25")] * (N // 2)),
         fit_kwargs={"discrete_columns": ["a"]}, check=saved_and_loaded("a")),
    Case("date cells", lambda: frame(a=[datetime.date(2020, 1, 1 + i % 28) for i in range(N)]), InvalidDataError,
         r"cells of type date.*pd\.to_datetime"),
    Case("timedelta cells", lambda: frame(a=pd.Series([datetime.timedelta(seconds=i) for i in range(N)],
                                                      dtype=object)), InvalidDataError, r"timedelta.*total_seconds"),
    Case("very long strings", lambda: frame(a=["x" * 100_000, "y" * 100_000] * (N // 2)), check=values_within("a")),
    Case("empty strings", lambda: frame(a=[""] * (N - 1) + ["x"]), check=values_within("a")),
    # --- dtypes
    Case("timedelta dtype", lambda: frame(a=pd.to_timedelta(np.arange(N), unit="s")), InvalidDataError,
         r"timedelta columns are not supported.*total_seconds"),
    Case("period dtype", lambda: frame(a=pd.period_range("2020-01", periods=N, freq="M")), InvalidDataError,
         r"period\[M\] columns are not supported.*to_timestamp"),
    Case("interval dtype", lambda: frame(a=pd.interval_range(0, N)), InvalidDataError,
         r"interval.*not supported; split into two numeric columns"),
    Case("sparse dtype", lambda: frame(a=pd.arrays.SparseArray([0, 1.0] * (N // 2))), InvalidDataError,
         r"sparse.*to_dense"),
    Case("mixed time zones", lambda: frame(a=[pd.Timestamp("2020-01-01", tz="UTC"),
                                              pd.Timestamp("2020-01-01", tz="Europe/Paris")] * (N // 2)),
         InvalidDataError, r"mixed time zones.*utc=True"),
    Case("naive and aware datetimes", lambda: frame(a=[pd.Timestamp("2020-01-01"),
                                                       pd.Timestamp("2020-01-01", tz="Asia/Tokyo")] * (N // 2)),
         InvalidDataError, r"mixed time zones"),
    Case("object Timestamps", lambda: frame(a=pd.Series(list(pd.date_range("2020", periods=N)), dtype=object)),
         check=timestamps_back),
    Case("categorical with one category", lambda: frame(a=_X, c=pd.Categorical(["only"] * N)), check=one_category),
    Case("categorical unused categories", lambda: frame(
        a=_X, c=pd.Categorical(["x", "y"] * (N // 2), categories=["x", "y", "z"])), check=unused_categories_kept),
    Case("categorical of Timestamps (save/load)", lambda: frame(
        a=pd.Categorical(list(pd.date_range("2020", periods=4, tz="UTC")) * (N // 4))), check=saved_and_loaded("a")),
    Case("categorical of bytes", lambda: frame(a=pd.Categorical([b"x", b"y"] * (N // 2))), InvalidDataError,
         r"bytes"),
    Case("nullable Int8 with NA", lambda: frame(a=pd.array(list(range(N - 1)) + [None], dtype="Int8")),
         check=numeric_in_range("a")),
    Case("non-default index", lambda: pd.DataFrame({"a": _X, "g": _G}, index=np.arange(N) * 7 + 3),
         check=default_index),
    Case("duplicate index", lambda: pd.DataFrame({"a": _X, "g": _G}, index=[0] * N), check=default_index),
    # --- discrete_columns and metadata
    Case("discrete_columns names a missing column", lambda: frame(a=_X, g=_G), InvalidDataError,
         r"discrete_columns names \['nope'\], which are not columns.*the table has \['a', 'g'\]",
         fit_kwargs={"discrete_columns": ["nope"]}),
    Case("discrete_columns not a list", lambda: frame(a=_X, g=_G), TypeError,
         r"discrete_columns must be a list of column names; got int", fit_kwargs={"discrete_columns": 3}),
    Case("discrete_columns one string", lambda: frame(a=_X, g=_G), fit_kwargs={"discrete_columns": "g"},
         check=values_within("g")),
    Case("metadata not a dict", lambda: frame(a=_X), TypeError, r"metadata must be a dict",
         fit_kwargs={"metadata": [1]}),
    Case("metadata unknown kind", lambda: frame(a=_X), InvalidDataError, r"unknown kind 'weird'; use one of",
         fit_kwargs={"metadata": {"columns": {"a": "weird"}}}),
    Case("metadata unknown column", lambda: frame(a=_X), InvalidDataError, r"\['zz'\] are in the metadata but not",
         fit_kwargs={"metadata": {"columns": {"zz": "integer"}}}),
    Case("metadata bound not a number", lambda: frame(a=_X), InvalidDataError,
         r"metadata min 'low' is not valid.*finite number",
         fit_kwargs={"metadata": {"columns": {"a": {"kind": "continuous", "min": "low"}}}}),
    Case("metadata categories a string", lambda: frame(g=_G), InvalidDataError, r"categories must be a list",
         fit_kwargs={"metadata": {"columns": {"g": {"kind": "categorical", "categories": "xy"}}}}),
    Case("metadata marks strings integer", lambda: frame(g=_G), InvalidDataError,
         r"marked integer but holds non-numeric.*mark it categorical",
         fit_kwargs={"metadata": {"columns": {"g": "integer"}}}),
    # --- parameters
    Case("epochs=0", lambda: frame(a=_X), ValueError, r"epochs must be an integer >= 1; got 0", params={"epochs": 0}),
    Case("epochs=1.5", lambda: frame(a=_X), ValueError, r"epochs must be an integer", params={"epochs": 1.5}),
    Case("batch_size=0", lambda: frame(a=_X), ValueError, r"batch_size must be an integer >= 1",
         params={"batch_size": 0}),
    Case("batch_size larger than the table", lambda: frame(a=_X, g=_G), params={"batch_size": 10_000},
         check=same_columns_and_dtypes),
    Case("unknown device", lambda: frame(a=_X), ValueError, r"Unknown device 'tpu'; use 'auto', 'cpu'",
         params={"device": "tpu"}),
    Case("device not a string", lambda: frame(a=_X), TypeError, r"device must be a string", params={"device": 0}),
    Case("random_state a string", lambda: frame(a=_X), TypeError, r"random_state must be None",
         params={"random_state": "x"}),
    Case("learning rate NaN", lambda: frame(a=_X), ValueError, r"generator_lr must be a positive number",
         params={"generator_lr": float("nan")}),
]


def _assert_unchanged(before, after):
    if isinstance(before, pd.DataFrame):
        pd.testing.assert_frame_equal(after, before)
    elif isinstance(before, (pd.Series, np.ndarray)):
        np.testing.assert_array_equal(np.asarray(after, dtype=object), np.asarray(before, dtype=object))
    else:
        assert after == before


@pytest.fixture
def training_spy(monkeypatch):
    """Records whether the encoders or the training loop were reached."""
    reached = []
    real_train = synth_mod.train
    real_fit = synth_mod.TableTransformer.fit

    def train(*args, **kwargs):
        reached.append("train")
        return real_train(*args, **kwargs)

    def fit(self, *args, **kwargs):
        reached.append("encode")
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(synth_mod, "train", train)
    monkeypatch.setattr(synth_mod.TableTransformer, "fit", fit)
    return reached


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fit_input(case, training_spy):
    data = case.data()
    kwargs = {k: copy.deepcopy(v) for k, v in case.fit_kwargs.items()}
    before_data, before_kwargs = copy.deepcopy(data), copy.deepcopy(kwargs)
    model = Synthesizer(**{**FAST, **case.params})
    if case.raises is not None:
        with pytest.raises(case.raises, match=case.match):
            model.fit(data, **kwargs)
        assert training_spy == [], "the error came after expensive work had started"
        assert not hasattr(model, "generator_")
    else:
        model.fit(data, **kwargs)
        out = model.sample(60)
        assert len(out) == 60
        case.check(model, out, data)
        empty = model.sample(0)
        assert empty.shape == (0, data.shape[1])
        assert empty.dtypes.astype(str).tolist() == data.dtypes.astype(str).tolist()
    _assert_unchanged(before_data, data)
    assert kwargs == before_kwargs


def test_there_are_at_least_30_cases():
    assert len(CASES) >= 30
    assert sum(c.raises is None for c in CASES) >= 10


def test_million_distinct_strings_are_refused_fast(training_spy):
    """An ID column is refused as such, in seconds, without building a million-level encoder."""
    n = 1_000_000
    df = pd.DataFrame({"id": [f"user-{i:07d}" for i in range(n)], "x": np.zeros(n)})
    start = time.perf_counter()
    with pytest.raises(InvalidDataError, match=r"'id' has 1000000 distinct values.*identifier.*Drop it"):
        Synthesizer(**FAST).fit(df)
    assert time.perf_counter() - start < 60  # generous: ~2 s on a loaded 2-core machine
    assert training_spy == []


# ----------------------------------------------------------------------------- sampling


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(1)
    n = 80
    df = pd.DataFrame({
        "g": rng.choice(["x", "y", "z"], n), "h": rng.choice(["p", "q"], n),
        "a": rng.normal(size=n), "f": rng.random(n) < 0.5,
        "i": pd.array(np.where(rng.random(n) < 0.2, None, rng.integers(0, 5, n)), dtype="Int64"),
    })
    return df, Synthesizer(**FAST).fit(df)


SAMPLE_CASES = [
    ("n negative", {"n": -1}, ValueError, r"n must be a non-negative integer; got -1"),
    ("n float", {"n": 2.5}, TypeError, r"n must be a non-negative integer; got 2\.5 of type float"),
    ("n string", {"n": "10"}, TypeError, r"non-negative integer"),
    ("n bool", {"n": True}, TypeError, r"non-negative integer"),
    ("n None", {"n": None}, TypeError, r"non-negative integer"),
    ("chunk_size 0", {"n": 3, "chunk_size": 0}, ValueError, r"chunk_size must be an integer >= 1"),
    ("conditions not a dict", {"n": 3, "conditions": [("g", "x")]}, TypeError, r"conditions must be a dict"),
    ("condition unknown column", {"n": 3, "conditions": {"zz": 1}}, ConditionError,
     r"unknown column 'zz'; columns are"),
    ("condition unknown value", {"n": 3, "conditions": {"g": "w"}}, ConditionError,
     r"value 'w' was never seen in column 'g'; known values include \['x', 'y', 'z'\]"),
    ("condition on a numeric column", {"n": 3, "conditions": {"a": 1.0}}, ConditionError,
     r"categorical and boolean columns only"),
    ("condition unhashable value", {"n": 3, "conditions": {"g": ["x"]}}, ConditionError, r"never seen"),
    ("condition missing on a complete column", {"n": 3, "conditions": {"g": None}}, ConditionError, r"never seen"),
    ("random_state bad", {"n": 3, "random_state": "s"}, TypeError, r"random_state must be"),
]


@pytest.mark.parametrize("name, kwargs, exc, match", SAMPLE_CASES, ids=[c[0] for c in SAMPLE_CASES])
def test_sample_input(fitted, name, kwargs, exc, match):
    _, model = fitted
    before = copy.deepcopy(kwargs)
    with pytest.raises(exc, match=match):
        model.sample(**kwargs)
    assert kwargs == before


def test_sample_zero_rows_has_columns_and_dtypes(fitted):
    df, model = fitted
    out = model.sample(0)
    assert out.shape == (0, df.shape[1])
    assert (out.dtypes == df.dtypes).all()


def test_numpy_integer_n_and_conditions_are_accepted(fitted):
    _, model = fitted
    conditions = {"g": np.str_("x"), "f": 1}
    out = model.sample(np.int64(7), conditions=conditions)
    assert len(out) == 7 and (out["g"] == "x").all() and out["f"].all()
    assert conditions == {"g": "x", "f": 1}


def test_impossible_combination_is_a_condition_error(fitted, monkeypatch):
    """A combination the model (almost) never produces ends with a ConditionError after a bounded
    number of rounds, not a hang."""
    _, model = fitted
    monkeypatch.setattr(generation, "MAX_CONDITION_ROUNDS", 2)
    with pytest.raises(ConditionError, match=r"Only \d+ of 1000 rows.*rarely generates.*fewer"):
        model.sample(1000, conditions={"g": "x", "h": "p"}, chunk_size=5)


def test_sample_to_rejects_bad_paths(fitted, tmp_path):
    _, model = fitted
    with pytest.raises(ValueError, match=r"'out\.xlsx'.*'\.csv' or '\.parquet'"):
        model.sample_to(tmp_path / "out.xlsx", 5)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        model.sample_to(tmp_path / "nope" / "out.csv", 5)
    with pytest.raises(ValueError, match="non-negative"):
        model.sample_to(tmp_path / "out.csv", -5)
    assert list(tmp_path.iterdir()) == []


def test_not_fitted():
    with pytest.raises(NotFittedError, match=r"fit\(df\)"):
        Synthesizer().sample(3)
    with pytest.raises(NotFittedError):
        Synthesizer().sample_to("x.csv", 3)


def test_fit_twice_replaces_the_first_completely(fitted):
    df, _ = fitted
    model = Synthesizer(**FAST).fit(df)
    first_attrs = {k for k in vars(model) if k.endswith("_")}
    other = pd.DataFrame({"k": ["p", "q"] * 30, "v": np.linspace(0, 1, 60)})
    model.fit(other)
    assert {k for k in vars(model) if k.endswith("_")} <= first_attrs
    assert list(model.sample(5).columns) == ["k", "v"]
    assert model.schema_.names == ["k", "v"] and model.n_features_in_ == 2
    with pytest.raises(ConditionError, match="unknown column 'g'"):
        model.sample(3, conditions={"g": "x"})
    # A failed second fit leaves no half of either fit behind.
    with pytest.raises(InvalidDataError):
        model.fit(pd.DataFrame({"k": [1.0]}))
    assert not hasattr(model, "generator_")
