"""Round trips of every column transformer on generated data."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tabgan.schema import infer_schema
from tabgan.transformers import TableTransformer


def roundtrip(df):
    schema = infer_schema(df)
    tt = TableTransformer(schema).fit(df, np.random.default_rng(0))
    floats, codes = tt.transform(df, np.random.default_rng(1))
    return schema, tt, floats, codes, tt.inverse_transform(floats, codes)


def test_mixed_frame_round_trips_exactly(mixed_frame):
    schema, tt, floats, codes, back = roundtrip(mixed_frame)
    assert floats.dtype == np.float32 and codes.dtype == np.int64
    assert np.abs(floats).max() < 1.0  # tanh range
    assert list(back.columns) == list(mixed_frame.columns)
    assert (back.dtypes == mixed_frame.dtypes).all()
    pd.testing.assert_frame_equal(back, mixed_frame, check_exact=False, rtol=1e-5)


def test_codes_stay_inside_their_spans(mixed_frame):
    _, tt, _, codes, _ = roundtrip(mixed_frame)
    assert (codes >= 0).all()
    assert (codes < tt.layout_.code_widths[None, :]).all()


def test_zero_inflated_column_keeps_its_point_mass():
    rng = np.random.default_rng(0)
    gain = np.where(rng.random(2000) < 0.9, 0, rng.lognormal(8, 1, 2000)).round()
    df = pd.DataFrame({"gain": gain.astype("int64")})
    schema, tt, floats, codes, back = roundtrip(df)
    col = tt.columns_[0]
    assert 0.0 in [p * col.scale_ + col.center_ for p in col.points_] or any(
        abs(p * col.scale_ + col.center_) < 1e-9 for p in col.points_)
    assert (back["gain"] == df["gain"]).all()


def _decode_noise(tt, n, seed=2):
    """What the table transformer makes of random generator outputs."""
    rng = np.random.default_rng(seed)
    floats = rng.uniform(-1, 1, (n, len(tt.layout_.float_positions))).astype(np.float32)
    codes = np.column_stack([rng.integers(0, w, n) for w in tt.layout_.code_widths])
    return tt.inverse_transform(floats, codes)


def test_a_continuous_column_of_few_repeated_values_is_generated_on_them_only():
    """MedExp's log family size (13 values on 5,574 rows): with a mixture for its rarer values a
    synthesizer wrote values between them, which a detector tells apart at once."""
    rng = np.random.default_rng(0)
    grid = np.log(np.arange(1, 14)).round(4)  # as a CSV holds it
    df = pd.DataFrame({"lfam": grid[np.minimum(rng.geometric(0.35, 3000), 13) - 1],
                       "spread": rng.normal(0, 1, 3000).round(3)})
    schema, tt, floats, codes, back = roundtrip(df)
    lfam, spread = tt.columns_
    assert schema["lfam"].kind == "continuous" and lfam.n_continuous == 0 and len(lfam.points_) == 13
    assert spread.n_continuous > 0  # many distinct values: a mixture as before
    # Any output of the generator (random units) decodes to one of the 13 values.
    decoded = _decode_noise(tt, len(df))
    assert np.isin(decoded["lfam"].to_numpy(), df["lfam"].unique()).all()  # the very doubles
    # A continuous column of 20 distinct rows keeps its mixture: no row's value is copied exactly.
    few = pd.DataFrame({"x": rng.normal(0, 1, 20)})
    assert TableTransformer(infer_schema(few)).fit(few, np.random.default_rng(0)).columns_[0].n_continuous > 0


def test_generated_decimals_are_the_doubles_a_csv_parses_to():
    """0.07 decoded as 7 * 0.01 is 0.07000000000000001: a detector's exact thresholds split it
    from the real 0.07 (on diamonds, real rows decoded that way were told from real rows with
    AUC 0.73)."""
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"price": rng.gamma(2, 30, 4000).round(2),
                       # MedExp's disease count: most values with 1 decimal, some with 5 or 6
                       "score": rng.choice([3.4, 6.9, 9.967326, 10.57626, 13.73189, 0.0], 4000)})
    _, tt, *_ = roundtrip(df)
    assert tt.columns_[1].step_ == 1e-6  # not 1e-5, which turned 9.967326 into 9.96733
    back = _decode_noise(tt, 5000)
    price = back["price"].to_numpy()
    assert all(float(f"{v:.2f}") == v for v in price)
    assert np.isin(back["score"].to_numpy(), df["score"].unique()).all()


def test_outliers_are_reproduced_not_clipped():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, 3000), [40.0, -55.0]])
    df = pd.DataFrame({"x": x})
    *_, back = roundtrip(df)
    np.testing.assert_allclose(back["x"].to_numpy(), x, rtol=1e-6, atol=1e-6)


def test_decimals_and_datetime_resolution_are_kept():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({
        "price": rng.uniform(0, 100, 500).round(2),
        "at": (pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1000, 500), unit="min"))
        .strftime("%Y-%m-%d %H:%M"),
    })
    schema, tt, floats, codes, back = roundtrip(df)
    assert schema["at"].kind == "datetime" and schema["at"].datetime_format == "%Y-%m-%d %H:%M"
    # Perturb the encoding: decoded values still land on the data's grid.
    floats = np.clip(floats + np.random.default_rng(2).normal(0, 0.01, floats.shape).astype(np.float32), -1, 1)
    back = tt.inverse_transform(floats, codes)
    assert np.allclose(back["price"] * 100, (back["price"] * 100).round())
    assert back["at"].str.match(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$").all()


def test_state_round_trips_through_json(mixed_frame):
    import json

    schema, tt, floats, codes, back = roundtrip(mixed_frame)
    state = json.loads(json.dumps(tt.get_state()))
    from tabgan.schema import Schema

    schema2 = Schema.from_dict(json.loads(json.dumps(schema.to_dict())))
    tt2 = TableTransformer.from_state(schema2, state)
    pd.testing.assert_frame_equal(tt2.inverse_transform(floats, codes), back)


def test_high_cardinality_column_is_encoded_as_codes_not_one_hot():
    rng = np.random.default_rng(0)
    n = 20_000
    df = pd.DataFrame({"tail": rng.integers(0, 3000, n).astype(str), "y": rng.normal(size=n)})
    schema, tt, floats, codes, back = roundtrip(df)
    # 3000 levels: the encoded table is n x 2 codes, not n x 3000 floats.
    assert codes.shape == (n, 2) and floats.shape == (n, 1)
    assert (back["tail"] == df["tail"]).all()


column_values = st.one_of(
    st.lists(st.one_of(st.floats(-1e6, 1e6, width=32), st.just(float("nan"))), min_size=5, max_size=40),
    st.lists(st.integers(-1000, 1000), min_size=5, max_size=40),
    st.lists(st.sampled_from(["a", "b", "", "é", None]), min_size=5, max_size=40),
    st.lists(st.sampled_from([True, False]), min_size=5, max_size=40),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values=column_values)
def test_any_single_column_round_trips(values):
    df = pd.DataFrame({"c": values})
    if df["c"].isna().all():
        return
    schema, tt, floats, codes, back = roundtrip(df)
    assert back["c"].dtype == df["c"].dtype
    assert back["c"].isna().tolist() == df["c"].isna().tolist()
    if schema["c"].is_discrete:
        assert back["c"].dropna().tolist() == df["c"].dropna().tolist()
    else:
        np.testing.assert_allclose(back["c"].dropna().astype(float), df["c"].dropna().astype(float),
                                   rtol=1e-5, atol=1e-3)


def quantile_roundtrip(df):
    schema = infer_schema(df)
    tt = TableTransformer(schema, numeric_encoding="quantile").fit(df, np.random.default_rng(0))
    floats, codes = tt.transform(df, np.random.default_rng(1))
    return tt, floats, codes, tt.inverse_transform(floats, codes)


def test_quantile_encoding_round_trips(mixed_frame):
    tt, floats, codes, back = quantile_roundtrip(mixed_frame)
    assert np.abs(floats).max() < 1.0
    assert (back.dtypes == mixed_frame.dtypes).all()
    exact = [c for c in mixed_frame.columns if c not in ("x", "when")]
    pd.testing.assert_frame_equal(back[exact], mixed_frame[exact])
    # Scores are float32, and a score's last bit is worth more where the CDF is flat (sparse
    # tails): continuous values come back to ~1e-4 of their range, timestamps to the minute.
    x, bx = mixed_frame["x"], back["x"]
    assert (x.isna() == bx.isna()).all()
    assert np.nanmax(np.abs(bx - x)) < 1e-4 * (x.max() - x.min())
    assert (back["when"] - mixed_frame["when"]).abs().max() < pd.Timedelta(minutes=1)


def test_quantile_encoding_keeps_outliers_and_point_masses():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(0, 1, 3000), [40.0, -55.0]])
    gain = np.where(rng.random(3002) < 0.9, 0, rng.lognormal(8, 1, 3002)).round().astype("int64")
    df = pd.DataFrame({"x": x, "gain": gain})
    tt, floats, codes, back = quantile_roundtrip(df)
    np.testing.assert_allclose(back["x"].to_numpy(), x, rtol=1e-3)
    assert ((back["gain"] == 0) == (df["gain"] == 0)).all()  # the point mass, exactly
    np.testing.assert_allclose(back["gain"].to_numpy(), df["gain"].to_numpy(), rtol=1e-3)


def test_quantile_encoding_makes_a_monotone_relation_linear():
    # y = exp(3x) is a deterministic but very non-linear function of x: in the quantile
    # encoding the two scores are (nearly) the same number, which an MLP learns easily.
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, 5000)
    df = pd.DataFrame({"x": x, "y": np.exp(3 * x)})
    tt, floats, codes, back = quantile_roundtrip(df)
    assert np.corrcoef(floats[:, 0], floats[:, 1])[0, 1] > 0.995
    # ... and each score is close to standard normal (divided by the encoding's scale).
    from tabgan.transformers.numeric import Q_SCALE
    assert abs(float(np.std(floats[:, 1] * Q_SCALE)) - 1.0) < 0.1
    # Values decoded from perturbed scores stay inside the column's range.
    noisy = np.clip(floats + rng.normal(0, 0.05, floats.shape).astype(np.float32), -1, 1)
    again = tt.inverse_transform(noisy, codes)
    assert again["y"].between(df["y"].min(), df["y"].max()).all()


def test_unknown_numeric_encoding_is_refused():
    from tabgan import Synthesizer

    with pytest.raises(ValueError, match="numeric_encoding"):
        Synthesizer(numeric_encoding="rank").fit(pd.DataFrame({"x": np.arange(50.0)}))


def test_auto_encoding_gives_the_quantile_encoding_to_tied_columns_only():
    rng = np.random.default_rng(0)
    carat = rng.lognormal(-0.5, 0.5, 3000)
    df = pd.DataFrame({
        "carat": carat,
        "price": np.round(3000 * carat ** 1.7 * rng.lognormal(0, 0.05, 3000)),  # monotone tie
        "depth": rng.normal(61.8, 1.4, 3000),                                 # tied to nothing
        "cut": rng.choice(["Fair", "Good", "Ideal"], 3000),
    })
    tt = TableTransformer(infer_schema(df), numeric_encoding="auto").fit(df, np.random.default_rng(0))
    encodings = {c.spec.name: c.encoding_ for c in tt.columns_ if hasattr(c, "encoding_")}
    assert encodings == {"carat": "quantile", "price": "quantile", "depth": "modes"}
    # The per-column choice survives a save/load of the state.
    again = TableTransformer.from_state(tt.schema, tt.get_state())
    assert [getattr(c, "encoding_", None) for c in again.columns_] == [getattr(c, "encoding_", None)
                                                                      for c in tt.columns_]


def test_auto_encoding_catches_a_linear_tie_carried_by_heavy_tails():
    # Flight delays: a noisy bulk near zero and long tails where arrival follows departure.
    # Rank correlation is low (about 0.65), Pearson high (about 0.93): still a tie.
    rng = np.random.default_rng(0)
    n = 3000
    dep = np.where(rng.random(n) < 0.75, rng.normal(-3, 4, n), rng.exponential(60, n)).round()
    df = pd.DataFrame({"dep_delay": dep, "arr_delay": (dep + rng.normal(-5, 12, n)).round(),
                       "other": rng.normal(size=n)})
    tt = TableTransformer(infer_schema(df), numeric_encoding="auto").fit(df, np.random.default_rng(0))
    encodings = {c.spec.name: c.encoding_ for c in tt.columns_}
    assert encodings == {"dep_delay": "quantile", "arr_delay": "quantile", "other": "modes"}
