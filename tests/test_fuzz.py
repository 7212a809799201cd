"""Hypothesis-generated frames through the transformer round trip and through fit + sample
(issue 6): mixed and nullable dtypes, NaN/NaT/None/pd.NA, unicode and empty strings,
tz-aware datetimes. The only exception allowed is the documented InvalidDataError (e.g. a
column that came out all missing); columns and dtypes are preserved."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tabgan import Synthesizer
from tabgan.exceptions import InvalidDataError
from tabgan.schema import infer_schema
from tabgan.transformers import TableTransformer

TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=6)
KINDS = ["float", "Float64", "int", "Int64", "bool", "boolean", "str", "string", "object", "category",
         "datetime", "datetime_tz", "small_float"]


@st.composite
def column(draw, n: int):
    kind = draw(st.sampled_from(KINDS))
    missing = draw(st.lists(st.booleans(), min_size=n, max_size=n)) if kind not in ("int", "bool") else [False] * n
    mask = np.asarray(missing)
    if kind in ("float", "Float64", "small_float"):
        scale = 1e-6 if kind == "small_float" else 1.0
        vals = np.asarray(draw(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=n, max_size=n))) * scale
        vals = np.where(mask, np.nan, vals)
        return pd.Series(vals, dtype="Float64" if kind == "Float64" else "float64")
    if kind in ("int", "Int64"):
        vals = draw(st.lists(st.integers(-10**6, 10**6), min_size=n, max_size=n))
        if kind == "int":
            return pd.Series(vals, dtype="int64")
        return pd.Series(pd.array([None if m else v for v, m in zip(vals, mask)], dtype="Int64"))
    if kind in ("bool", "boolean"):
        vals = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        if kind == "bool":
            return pd.Series(vals, dtype=bool)
        return pd.Series(pd.array([None if m else v for v, m in zip(vals, mask)], dtype="boolean"))
    if kind in ("str", "string", "object", "category"):
        levels = draw(st.lists(TEXT, min_size=1, max_size=4, unique=True))
        vals = [None if m else levels[draw(st.integers(0, len(levels) - 1))] for m in mask]
        if kind == "object":
            na = draw(st.sampled_from([None, np.nan, pd.NA]))
            return pd.Series([na if v is None else v for v in vals], dtype=object)
        if kind == "category":
            return pd.Series(pd.Categorical(vals, categories=levels))
        return pd.Series(vals, dtype="str" if kind == "str" else "string")
    secs = draw(st.lists(st.integers(0, 4 * 10**9), min_size=n, max_size=n))
    dt = pd.Series(pd.to_datetime(secs, unit="s"))
    if kind == "datetime_tz":
        dt = dt.dt.tz_localize("UTC").dt.tz_convert(draw(st.sampled_from(["UTC", "Europe/Paris", "Asia/Kolkata"])))
    dt[mask] = pd.NaT
    return dt


@st.composite
def frames(draw):
    n = draw(st.integers(2, 30))
    n_cols = draw(st.integers(1, 4))
    names = draw(st.lists(TEXT, min_size=n_cols, max_size=n_cols, unique=True))
    return pd.DataFrame({name: draw(column(n)).reset_index(drop=True) for name in names})


def _expected_refusal(df: pd.DataFrame) -> bool:
    return bool(df.isna().all().any())


def _dtypes(df):
    return df.dtypes.astype(str).tolist()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(frames())
def test_transformer_round_trip_keeps_columns_dtypes_and_missing(df):
    before = df.copy(deep=True)
    try:
        schema = infer_schema(df)
    except InvalidDataError:
        assert _expected_refusal(df)
        return
    assert not _expected_refusal(df)
    tt = TableTransformer(schema).fit(df, np.random.default_rng(0))
    floats, codes = tt.transform(df, np.random.default_rng(1))
    assert np.isfinite(floats).all() and (np.abs(floats) <= 1).all()
    back = tt.inverse_transform(floats, codes)
    assert list(back.columns) == list(df.columns)
    assert _dtypes(back) == _dtypes(df)
    pd.testing.assert_frame_equal(back.isna(), df.isna())
    for spec in schema:
        if spec.is_discrete:
            assert back[spec.name].dropna().astype(object).tolist() == df[spec.name].dropna().astype(object).tolist()
    pd.testing.assert_frame_equal(df, before)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(frames(), st.integers(0, 25))
def test_fit_one_epoch_and_sample(df, n):
    before = df.copy(deep=True)
    model = Synthesizer(epochs=1, batch_size=16, verbose=False, random_state=0, generator_dims=(16,),
                        discriminator_dims=(16,), embedding_dim=8, keep_best=False)
    try:
        model.fit(df)
    except InvalidDataError:
        assert _expected_refusal(df)
        return
    out = model.sample(n)
    assert out.shape == (n, df.shape[1])
    assert list(out.columns) == list(df.columns)
    assert _dtypes(out) == _dtypes(df)
    for name in df.columns:
        got = out[name].dropna()
        if isinstance(df[name].dtype, pd.CategoricalDtype) or df[name].dtype == object or \
                pd.api.types.is_string_dtype(df[name].dtype):
            assert set(got.astype(object)) <= set(df[name].dropna().astype(object))
        elif len(got) and not pd.api.types.is_bool_dtype(df[name].dtype):
            assert got.min() >= df[name].min() and got.max() <= df[name].max()
        if not df[name].isna().any():
            assert got.size == n  # no missing values invented
    pd.testing.assert_frame_equal(df, before)
