"""Differential privacy: refusals, the ledger, the budget, and what the saved model holds."""

import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tabgan import Synthesizer
from tabgan.exceptions import PrivacyConfigError
from tabgan.generation import pair_pool
from tabgan._random import numpy_generator
from tabgan.marginals import pair_groups, pair_resolution, tilt_from_release
from tabgan.persistence import read_model_file
from tabgan.privacy_preprocessing import POOLED_LABEL, build, release
from tabgan.training import privacy
from tabgan.training.accounting import PrivacyAccountant, PrivacyPlan, noise_for

N = 2000
SMALL = {"epochs": 2, "batch_size": 200, "generator_dims": (32, 32), "discriminator_dims": (32, 32),
         "embedding_dim": 16, "verbose": False, "random_state": 0}


@pytest.fixture(scope="module")
def private_frame():
    rng = np.random.default_rng(1)
    group = rng.choice(["a", "b", "c"], N, p=[0.5, 0.3, 0.2]).astype(object)
    group[:3] = "zz"  # a rare value held by three rows: must not be released
    income = np.round(rng.lognormal(10, 0.7, N), 2) + (group == "b") * 5000
    income[rng.random(N) < 0.1] = np.nan
    return pd.DataFrame({
        "group": group,
        "income": income,
        "age": rng.integers(18, 80, N),
        "gain": np.where(rng.random(N) < 0.85, 0, rng.integers(100, 9000, N)),
        "flag": rng.random(N) < 0.3,
        "grade": rng.choice(["A", "B", "C"], N),
    })


METADATA = {"columns": {"grade": {"kind": "categorical", "categories": ["A", "B", "C", "D"]},
                        "age": {"kind": "integer", "min": 0, "max": 120}}}


@pytest.fixture(scope="module")
def dp_model(private_frame):
    return Synthesizer(epsilon=2.0, delta=1e-5, **SMALL).fit(private_frame, metadata=METADATA)


def test_dp_fit_spends_at_most_the_target_and_lists_every_mechanism(dp_model, private_frame):
    ledger = dp_model.privacy_spent_
    assert ledger["unit"] == "row"
    assert 0 < ledger["epsilon"] <= 2.0
    assert ledger["delta"] <= 1e-5
    names = [m["name"] for m in ledger["mechanisms"]]
    for col in private_frame.columns:  # every column's statistics are paid for
        assert any(name.startswith(f"{col}:") for name in names), col
    assert "row count" in names
    sgd = ledger["mechanisms"][-1]
    assert sgd["name"] == "discriminator DP-SGD" and sgd["steps"] == sgd["planned_steps"] > 0
    assert all(m["epsilon"] <= 2.0 and m["delta"] <= 1e-5 for m in ledger["mechanisms"])
    # DP training used one row per critic input and left no per-sample gradients behind.
    assert dp_model.discriminator_.pac == 1
    assert all(getattr(p, "grad_sample", None) is None for p in dp_model.discriminator_.parameters())
    assert dp_model.history_.to_frame()["epsilon"].iloc[-1] == pytest.approx(ledger["epsilon"])


def test_the_two_way_marginals_are_on_the_ledger_with_the_noise_of_their_sensitivity(dp_model):
    ledger = {m["name"]: m for m in dp_model.privacy_spent_["mechanisms"]}
    counts, choice = ledger["two-way marginals: counts"], ledger["two-way marginals: choice of pairs"]
    k = counts["k"]
    assert k == choice["k"] == 10  # 1.67 pairs per column of the six-column table
    # k tables, each row in one cell of each: L2 sensitivity sqrt(k).
    assert counts["sigma"] == pytest.approx(math.sqrt(k) / math.sqrt(2 * counts["rho"]))
    assert choice["epsilon_each"] == pytest.approx(math.sqrt(8 * choice["rho"] / k))
    assert dp_model.calibration_.pair_tilt is not None and len(dp_model.calibration_.pair_tilt.pairs) == k


def test_conditions_hold_on_rows_drawn_through_the_pair_tilt(dp_model):
    synthetic = dp_model.sample(200, conditions={"grade": "B"}, random_state=1)
    assert len(synthetic) == 200 and (synthetic["grade"] == "B").all()


def test_without_calibration_no_pair_is_measured(private_frame):
    model = Synthesizer(epsilon=2.0, delta=1e-5, calibrate=False, **SMALL).fit(private_frame, metadata=METADATA)
    names = [m["name"] for m in model.privacy_spent_["mechanisms"]]
    assert not any(name.startswith("two-way") for name in names)
    assert model.privacy_spent_["epsilon"] <= 2.0


def test_dp_samples_have_the_table_shape_and_released_levels_only(dp_model, private_frame):
    synthetic = dp_model.sample(500, random_state=0)
    assert list(synthetic.columns) == list(private_frame.columns)
    assert len(synthetic) == 500
    assert "zz" not in set(synthetic["group"].dropna())  # three rows cannot clear the threshold
    assert set(synthetic["group"].dropna()) <= {"a", "b", "c", POOLED_LABEL}
    assert set(synthetic["grade"]) <= {"A", "B", "C", "D"}  # public categories kept as given
    assert synthetic["age"].between(0, 120).all()


def test_saved_model_is_a_function_of_metadata_and_ledger_releases(dp_model, private_frame, tmp_path):
    path = tmp_path / "dp.tabgan"
    dp_model.save(path)
    meta, states = read_model_file(path)
    assert set(meta) <= {"tabgan_version", "params", "schema", "transformer", "level_probs", "privacy_spent",
                         "epochs_trained", "sample_entropy", "sample_calls", "calibration", "dependencies",
                         "settings"}, \
        "new data-derived field? trace it"
    # No dependency rules (they read exact counts) and no exact row count in the settings.
    assert meta["dependencies"] is None and meta["settings"]["rows"] is None
    assert meta["settings"]["epochs"] == meta["epochs_trained"]
    assert set(states) == {"generator"}  # weights trained against the DP critic only
    rel = dp_model._dp_release
    # Every release is a mechanism of the ledger, with the noise the ledger states.
    ledger = {m["name"]: m for m in meta["privacy_spent"]["mechanisms"]}
    assert set(rel["sigma"]) == set(ledger) - {"discriminator DP-SGD", "two-way marginals: choice of pairs"}
    assert all(rel["sigma"][k] == pytest.approx(ledger[k]["sigma"]) for k in rel["sigma"])
    # Rebuild the schema, the encoders and the level frequencies from the releases and the
    # public facts alone, with every data-derived fact of the schema poisoned.
    schema, nullable_public = privacy._public_schema(private_frame, METADATA, None)
    for spec in schema:
        if spec.is_discrete and not (spec.kind == "boolean" or spec.public.get("categories")):
            spec.categories = ["POISON"]
        if not spec.is_discrete and not spec.public.get("bounds"):
            spec.min, spec.max = -1e9, 1e9
        spec.nullable = not spec.nullable
    rebuilt = build(rel, schema, nullable_public=nullable_public)
    assert rebuilt.schema.to_dict() == meta["schema"]
    assert rebuilt.transformer_state["columns"] == meta["transformer"]["columns"]
    assert [p.tolist() for p in rebuilt.level_probs] == meta["level_probs"]
    # The calibration is post-processing of the DP generator towards targets rebuilt from the
    # releases: refitting it from the saved generator and those targets gives it back.
    from tabgan._random import resolve_seed

    loaded = Synthesizer.load(path)
    levels = iter(rebuilt.level_probs)
    targets = [c["mode_probs"] if "mode_probs" in c else next(levels) for c in rebuilt.transformer_state["columns"]]
    from tabgan.generation import GenerationParts, calibrate

    parts = GenerationParts(loaded.generator_, loaded.sampler_, loaded.level_probs_, loaded.head_, loaded.transformer_,
                            loaded.device_, SMALL["embedding_dim"])
    seeds = resolve_seed(SMALL["random_state"]).spawn(9)
    again = calibrate(parts, targets, seeds[6], loaded.transformer_.released_mode_quantiles())
    assert again.mode_maps  # the in-mode maps towards the released histograms' quantiles
    saved = dict(meta["calibration"])
    saved_tilt = saved.pop("pair_tilt")
    assert again.get_state() == saved
    # The tilt towards the two-way marginals is post-processing too: refitted from the released
    # noisy counts on rows the saved generator makes (with the offsets above), it comes back.
    pool = pair_pool(parts, again, seeds[8])
    pairs = [tuple(p) for p in rel["pairs"]["pairs"]]
    assert len(pairs) == ledger["two-way marginals: counts"]["k"] > 0
    # The pairs are measured on groups of a numeric column's codes, read from the public layout,
    # the released frequencies and row count and the planned noise.
    sigma = rel["sigma"]["two-way marginals: counts"]
    widths = loaded.transformer_.layout_.code_widths
    groups = pair_groups(widths, loaded.transformer_.code_values(), targets, pair_resolution(rebuilt.row_count, sigma))
    tilt = tilt_from_release(pool, widths, pairs, [np.asarray(c) for c in rel["pairs"]["counts"]], sigma, targets,
                             loaded.transformer_.exact_code_columns(), numpy_generator(seeds[8]), groups,
                             [v is not None for v in loaded.transformer_.code_values()], loaded.transformer_.code_values())
    assert tilt.get_state() == saved_tilt
    # ... and no exact statistic of the private table is in the file.
    text = json.dumps(meta)
    assert '"zz"' not in text
    income = private_frame["income"]
    spec = {c["name"]: c for c in meta["schema"]["columns"]}
    assert spec["income"]["min"] != income.min() and spec["income"]["max"] != income.max()
    exact = private_frame["group"].value_counts(normalize=True).reindex(["a", "b", "c"]).to_numpy()
    assert not np.allclose(meta["level_probs"][0][:3], exact, atol=1e-6)
    assert meta["privacy_spent"] == dp_model.privacy_spent_
    assert Synthesizer.load(path).privacy_spent_ == dp_model.privacy_spent_


def test_quantile_encoding_under_dp_is_built_from_the_releases_alone(private_frame):
    model = Synthesizer(epsilon=2.0, delta=1e-5, numeric_encoding="quantile", **SMALL).fit(
        private_frame, metadata=METADATA)
    schema, nullable_public = privacy._public_schema(private_frame, METADATA, None)
    rebuilt = build(model._dp_release, schema, nullable_public=nullable_public, numeric_encoding="quantile")
    state = model.transformer_.get_state()
    assert rebuilt.transformer_state["columns"] == state["columns"]
    income = next(c for c in state["columns"] if c.get("knots"))  # a CDF from the noisy histogram
    assert np.all(np.diff(income["cdf"]) > 0) and income["cdf"][0] == 0 and income["cdf"][-1] == 1
    synthetic = model.sample(500, random_state=0)
    assert synthetic["income"].dropna().between(model.schema_["income"].min, model.schema_["income"].max).all()
    assert model.privacy_spent_["epsilon"] <= 2.0


def test_same_seed_gives_the_same_private_model(private_frame):
    params = dict(SMALL, epochs=1)
    a = Synthesizer(epsilon=1.0, delta=1e-5, **params).fit(private_frame).sample(200, random_state=3)
    b = Synthesizer(epsilon=1.0, delta=1e-5, **params).fit(private_frame).sample(200, random_state=3)
    pd.testing.assert_frame_equal(a, b)


def test_refusal_lists_every_problem_before_training(private_frame):
    model = Synthesizer(epsilon=-1.0, delta=None, pac=4, gradient_penalty=5.0, **SMALL)
    with pytest.raises(PrivacyConfigError) as info:
        model.fit(private_frame)
    msg = str(info.value)
    for fragment in ("epsilon must be a positive", "delta is missing", "gradient_penalty=5.0", "pac=4"):
        assert fragment in msg
    assert not hasattr(model, "generator_")


@pytest.mark.parametrize("kwargs, rows, fragment", [
    ({"epsilon": 1.0, "delta": 1e-3}, N, "not below 1/n_rows"),
    ({"epsilon": 1.0, "delta": 1e-5}, 60, "at least 100"),
    ({"epsilon": 1e-3, "delta": 1e-5, "epochs": 300}, 300, "too few rows for the budget"),
    ({"epsilon": 1.0, "delta": 1e-5, "preprocessing_epsilon_share": 1.5}, N, "preprocessing_epsilon_share"),
])
def test_settings_that_cannot_be_private_are_refused(private_frame, kwargs, rows, fragment):
    params = {**SMALL, **kwargs}
    with pytest.raises(PrivacyConfigError, match=fragment):
        Synthesizer(**params).fit(private_frame.iloc[:rows])


def test_missing_opacus_is_refused_with_the_install_command(private_frame, monkeypatch):
    monkeypatch.setattr(privacy, "GradSampleModule", None)
    with pytest.raises(PrivacyConfigError, match=r"opacus is not installed.*pip install -e \"\.\[dp\]\""):
        Synthesizer(epsilon=1.0, delta=1e-5, **SMALL).fit(private_frame)


def test_training_stops_before_the_budget_would_be_exceeded(private_frame):
    schema, _ = privacy._public_schema(private_frame, None, None)
    plan = PrivacyPlan.make(1.0, 1e-5, schema, 0.1)
    sigma = noise_for(0.05, 100, plan.rdp_preprocessing, 1.0, plan.delta_conversion)
    # Allow many more steps than the noise was planned for: the budget must stop it.
    acc = PrivacyAccountant(plan, 0.05, sigma, planned_steps=10_000)
    while acc.can_step():
        acc.steps += 1
    assert 95 <= acc.steps < 10_000
    assert acc.epsilon_spent() <= 1.0 < acc.epsilon_after(acc.steps + 1)


def test_non_private_fit_never_imports_opacus():
    code = ("import sys, numpy as np, pandas as pd; from tabgan import Synthesizer; "
            "df = pd.DataFrame({'x': np.arange(60.0), 'c': ['a', 'b'] * 30}); "
            "Synthesizer(epochs=1, batch_size=20, verbose=False, random_state=0).fit(df).sample(5); "
            "print('opacus' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_common_integer_is_released_as_a_point_mass_and_the_marginal_follows():
    # 45% of rows work 40 hours: the DP histogram of a narrow integer bin has one sub-bin per
    # integer, so 40 becomes an exact point mass, and the calibrated sample reproduces its share.
    rng = np.random.default_rng(3)
    hours = np.where(rng.random(N) < 0.45, 40, rng.integers(1, 99, N))
    df = pd.DataFrame({"hours": hours, "group": rng.choice(["a", "b"], N)})
    model = Synthesizer(epsilon=3.0, delta=1e-5, **SMALL).fit(df, metadata={"columns": {"hours": "integer"}})
    col = model.transformer_.columns_[0]
    assert 40.0 in [round(p * col.scale_ + col.center_, 6) for p in col.points_]
    share = (model.sample(4000, random_state=0)["hours"] == 40).mean()
    assert abs(share - 0.45) < 0.07  # noisy counts on 2,000 rows: a few points of bias


def test_values_inside_a_dp_mode_follow_the_released_histogram_not_the_generators_spread():
    # A price-like column crowds at the low end of each equal-mass mode (most of all the top
    # one). The release's fine histogram says so; the calibration maps the generated positions
    # in each mode onto its quantiles, so even a barely trained generator puts the top mode's
    # values low, as the table does, instead of spreading them evenly across the mode.
    rng = np.random.default_rng(5)
    price = np.round(300 + rng.lognormal(7.5, 1.0, 20_000))
    df = pd.DataFrame({"price": price, "group": rng.choice(["a", "b"], 20_000)})
    model = Synthesizer(epsilon=3.0, delta=1e-5, **SMALL).fit(df, metadata={"columns": {"price": "integer"}})
    col = model.transformer_.columns_[0]
    top = col.mode_quantiles_[-1]
    assert len(top) == 257 and top[0] == pytest.approx(-1.0) and top[-1] == pytest.approx(1.0) and np.all(np.diff(top) >= 0)
    assert top[128] < -0.3  # the released median of the top mode sits in its lower part
    lo, hi = ((col.means_[-1] + s * col.half_widths_[-1]) * col.scale_ + col.center_ for s in (-1, 1))
    drawn = model.sample(20_000, random_state=0)["price"]
    real_share = np.mean(price[(price >= lo) & (price <= hi)] < (lo + hi) / 2)
    synth_share = np.mean(drawn[(drawn >= lo) & (drawn <= hi)] < (lo + hi) / 2)
    assert real_share > 0.7 and abs(synth_share - real_share) < 0.1


def test_an_integer_column_keeps_its_thin_tail_of_rare_values_as_point_masses():
    # Ages 17 to 90, most between 17 and 60, a tail of old ages each too rare to clear the
    # noise alone: the release keeps every integer between the trimmed ends as a point mass,
    # the tail's too, instead of clipping the column at the last common age.
    rng = np.random.default_rng(4)
    age = np.where(rng.random(20_000) < 0.93, rng.integers(17, 61, 20_000), rng.integers(61, 91, 20_000))
    df = pd.DataFrame({"age": age})
    schema, _ = privacy._public_schema(df, {"columns": {"age": "integer"}}, None)
    plan = PrivacyPlan.make(1.0, 1e-5, schema, 0.1)
    rel = release(df, schema, plan.rho, plan.delta_threshold, np.random.default_rng(0))
    built = build(rel, schema)
    state = built.transformer_state["columns"][0]
    points = sorted(round(p * state["scale"] + state["center"]) for p in state["points"])
    assert state["means"] == []  # every code a value: the column stays exact in the pairs too
    assert points[0] == 17 and points[-1] >= 80 and set(range(17, 80)) <= set(points)


def test_parameters_left_unset_take_the_dp_defaults_under_epsilon():
    from tabgan.synthesizer import DEFAULTS, DP_DEFAULTS

    private, plain = Synthesizer(epsilon=1.0, delta=1e-5), Synthesizer()
    for name in DP_DEFAULTS:
        assert private.setting(name) == DP_DEFAULTS[name] and plain.setting(name) == DEFAULTS[name]
    assert Synthesizer(epsilon=1.0, generator_lr=5e-4).setting("generator_lr") == 5e-4
    # ... and the DP fit runs with them: the expected batch sets the sampling rate.
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=3000), "g": rng.choice(["a", "b"], 3000)})
    model = Synthesizer(epsilon=3.0, delta=1e-5, epochs=1, verbose=False, random_state=0).fit(df)
    sgd = model.privacy_spent_["mechanisms"][-1]
    assert sgd["sample_rate"] == pytest.approx(DP_DEFAULTS["batch_size"] / 3000, rel=0.1)
    assert model.get_params()["batch_size"] is None  # the estimator's parameters are untouched


def test_auto_encoding_reads_no_relation_between_private_columns():
    # Under DP "auto" is the mode encoding: choosing per column would read the private table.
    rng = np.random.default_rng(0)
    x = rng.lognormal(0, 1, N)
    df = pd.DataFrame({"x": x, "y": 2 * x + 1})
    model = Synthesizer(epsilon=3.0, delta=1e-5, numeric_encoding="auto", **SMALL).fit(df)
    assert {c.encoding_ for c in model.transformer_.columns_} == {"modes"}


def test_a_missing_value_without_a_released_missing_level_becomes_the_first_level(private_frame, dp_model):
    """Documented behaviour of privacy_preprocessing.private_frame: a column whose released
    missing share is about zero has no missing level, and its few missing values become its first
    level (the categorical encoder refuses values that are not levels)."""
    from tabgan.privacy_preprocessing import private_frame as to_private

    frame = private_frame.copy()
    frame.loc[frame.index[:2], "grade"] = None  # two rows: far below the release's noise
    schema, nullable_public = privacy._public_schema(frame, METADATA, None)
    built = build(dp_model._dp_release, schema, nullable_public=nullable_public)
    grade = next(s for s in built.schema if s.name == "grade")
    assert not grade.nullable
    out = to_private(frame, built)
    assert out["grade"].iloc[:2].tolist() == [grade.categories[0]] * 2
    assert out["grade"].notna().all() and frame["grade"].isna().sum() == 2  # the input is not modified


def test_public_schema_reads_discrete_columns_as_infer_schema_does():
    """A whole-valued float column is "integer" only when declared; discrete_columns declares it
    (a single name or a list), so it stays categorical; an undeclared one becomes continuous."""
    df = pd.DataFrame({"x": np.arange(200.0) % 5, "y": np.arange(200.0)})
    for given in ("x", ["x"]):
        schema, _ = privacy._public_schema(df, None, given)
        kinds = {s.name: s.kind for s in schema}
        assert kinds == {"x": "categorical", "y": "continuous"}, given


def test_released_boolean_counts_follow_the_order_of_the_levels():
    """The release's level codes (privacy_preprocessing._level_codes) put each boolean value on
    its own level, whatever the order the metadata lists them in; missing is the last code."""
    from tabgan.privacy_preprocessing import _level_codes

    s = pd.Series([True, True, False, None, 1, 0, 2], dtype=object)
    assert _level_codes(s, [False, True]).tolist() == [1, 1, 0, 2, 1, 0, -1]
    assert _level_codes(s, [True, False]).tolist() == [0, 0, 1, 2, 0, 1, -1]


def test_the_metadata_target_changes_nothing_under_dp(dp_model, private_frame):
    # Its extra condition draws are not measured under DP: the fit and its samples are those of
    # the same fit without a target.
    aimed = Synthesizer(epsilon=2.0, delta=1e-5, **SMALL).fit(private_frame, metadata={**METADATA, "target": "group"})
    assert aimed.sampler_.target is None and aimed.schema_.target is None
    pd.testing.assert_frame_equal(aimed.sample(300, random_state=4), dp_model.sample(300, random_state=4))
