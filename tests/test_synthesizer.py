"""The estimator contract, sampling, conditions, persistence and reproducibility."""

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from tabgan import Synthesizer
from tabgan.exceptions import ConditionError, NotFittedError


@pytest.fixture
def fitted(mixed_frame, fast_params):
    return Synthesizer(**fast_params).fit(mixed_frame)


def test_sample_before_fit_raises_not_fitted():
    with pytest.raises(NotFittedError, match="fit"):
        Synthesizer().sample(3)
    with pytest.raises(AttributeError):  # sklearn-style code catches AttributeError too
        Synthesizer().sample(3)


def test_init_only_stores_params_and_clone_works():
    model = Synthesizer(epochs=3, batch_size=7, random_state=1)
    assert model.get_params()["batch_size"] == 7
    copy = clone(model)
    assert copy.get_params() == model.get_params()
    model.set_params(epochs=5)
    assert model.epochs == 5
    # Invalid values are accepted by __init__ and rejected by fit, as in scikit-learn.
    bad = Synthesizer(epochs=0)
    with pytest.raises(ValueError, match="epochs"):
        bad.fit(pd.DataFrame({"a": [1.0, 2.0, 3.0]}))


def test_fit_returns_self_and_sample_matches_columns_and_dtypes(mixed_frame, fitted):
    out = fitted.sample(300)
    assert len(out) == 300
    assert list(out.columns) == list(mixed_frame.columns)
    assert (out.dtypes == mixed_frame.dtypes).all()
    assert set(out["group"].dropna()) <= set(mixed_frame["group"])
    assert out["x"].dropna().between(mixed_frame["x"].min(), mixed_frame["x"].max()).all()
    assert str(out["when"].dt.tz) == "Europe/Paris"
    assert fitted.history_.to_frame().shape[0] == 1
    assert fitted.n_features_in_ == mixed_frame.shape[1]


def test_fit_does_not_mutate_input(mixed_frame, fast_params):
    before = mixed_frame.copy(deep=True)
    Synthesizer(**fast_params).fit(mixed_frame)
    pd.testing.assert_frame_equal(mixed_frame, before)


def test_sample_zero_rows_keeps_columns_and_dtypes(mixed_frame, fitted):
    out = fitted.sample(0)
    assert out.shape == (0, mixed_frame.shape[1])
    assert (out.dtypes == mixed_frame.dtypes).all()


@pytest.mark.parametrize("n, exc", [(-1, ValueError), (2.5, TypeError), ("10", TypeError), (True, TypeError)])
def test_bad_n_is_rejected(fitted, n, exc):
    with pytest.raises(exc, match="non-negative integer"):
        fitted.sample(n)


def test_conditions_hold_on_every_row(fitted):
    out = fitted.sample(200, conditions={"group": "c", "flag": True})
    assert len(out) == 200
    assert (out["group"] == "c").all() and out["flag"].all()


def test_condition_on_missing_level(fitted):
    out = fitted.sample(20, conditions={"note": None})
    assert out["note"].isna().all()


@pytest.mark.parametrize("conditions, match", [
    ({"nope": "a"}, "unknown column"),
    ({"group": "zzz"}, "never seen"),
    ({"x": 1.0}, "categorical and boolean columns only"),
])
def test_bad_conditions_are_clear_errors(fitted, conditions, match):
    with pytest.raises(ConditionError, match=match):
        fitted.sample(5, conditions=conditions)


def test_same_seed_same_samples(mixed_frame, fast_params):
    a = Synthesizer(**fast_params).fit(mixed_frame).sample(100)
    b = Synthesizer(**fast_params).fit(mixed_frame).sample(100)
    pd.testing.assert_frame_equal(a, b)
    model = Synthesizer(**fast_params).fit(mixed_frame)
    first, second = model.sample(50), model.sample(50)
    assert not first.equals(second)  # the sampling stream moves on between calls
    pd.testing.assert_frame_equal(model.sample(50, random_state=7), model.sample(50, random_state=7))


def test_sample_does_not_change_the_model(fitted):
    before = {k: v.clone() for k, v in fitted.generator_.state_dict().items()}
    fitted.sample(100)
    after = fitted.generator_.state_dict()
    assert all(torch_equal(before[k], after[k]) for k in before)
    assert not fitted.generator_.training


def torch_equal(a, b):
    import torch

    return torch.equal(a, b)


def test_save_load_samples_identically(tmp_path, fitted):
    path = tmp_path / "m.tabgan"
    fitted.save(path)
    loaded = Synthesizer.load(path)
    pd.testing.assert_frame_equal(loaded.sample(64, random_state=3), fitted.sample(64, random_state=3))
    assert loaded.get_params() == {**fitted.get_params(), "random_state": 0}
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left behind


def test_model_file_holds_no_training_rows(tmp_path, mixed_frame, fast_params):
    df = mixed_frame.copy()
    df["group"] = [f"secret{i % 7}" for i in range(len(df))]
    model = Synthesizer(**fast_params).fit(df)
    path = tmp_path / "m.tabgan"
    model.save(path)
    import json

    from tabgan.persistence import read_model_file

    meta, states = read_model_file(path)
    text = json.dumps(meta)
    # Categories are part of the schema; raw numeric values are not stored.
    x_values = mixed_frame["x"].dropna().round(6).astype(str).tolist()
    assert not any(v in text for v in x_values[:50])
    # At full precision (JSON writes floats with repr), the only training values in the file
    # are the column's bounds, which the schema keeps to clip generated values.
    x = mixed_frame["x"].dropna()
    found = {repr(float(v)) for v in x if repr(float(v)) in text}
    assert found <= {repr(float(x.min())), repr(float(x.max()))}
    assert found, "the search must find the stored bounds, or it could not find stored rows either"
    assert set(states) == {"generator"}


def test_fit_twice_replaces_the_first_fit(mixed_frame, fast_params):
    model = Synthesizer(**fast_params).fit(mixed_frame)
    other = pd.DataFrame({"k": ["p", "q"] * 30, "v": np.linspace(0, 1, 60)})
    model.fit(other)
    out = model.sample(10)
    assert list(out.columns) == ["k", "v"]
    assert model.n_features_in_ == 2


@pytest.mark.slow
def test_learns_a_dependency_between_columns():
    """A short fit on a strongly dependent pair beats independent sampling by far."""
    rng = np.random.default_rng(0)
    n = 1500
    g = rng.choice(["low", "high"], n)
    x = np.where(g == "low", rng.normal(-3, 0.5, n), rng.normal(3, 0.5, n))
    df = pd.DataFrame({"g": g, "x": x})
    model = Synthesizer(epochs=150, batch_size=100, random_state=0, verbose=False).fit(df)
    out = model.sample(2000)
    agree = ((out["g"] == "low") == (out["x"] < 0)).mean()
    assert agree > 0.8  # independent sampling gives 0.5


def test_unused_categories_are_never_generated_and_tiny_tables_fit():
    df = pd.DataFrame({"x": [0.0, 1.0, 2.0],
                       "c": pd.Categorical(["a", None, "a"], categories=["a", "never"])})
    model = Synthesizer(epochs=1, verbose=False, random_state=0).fit(df)
    out = model.sample(500)
    assert out["c"].dtype == df["c"].dtype  # the unused level stays in the dtype ...
    assert "never" not in set(out["c"].dropna())  # ... but is never generated


def test_condition_on_an_unused_category_is_refused_up_front():
    df = pd.DataFrame({"x": np.linspace(0, 1, 40),
                       "c": pd.Categorical(["a", "b"] * 20, categories=["a", "b", "never"])})
    model = Synthesizer(epochs=1, verbose=False, random_state=0).fit(df)
    with pytest.raises(ConditionError, match="never seen"):
        model.sample(5, conditions={"c": "never"})


def test_calibration_brings_a_barely_trained_models_marginals_in_line():
    # After one epoch the generator's marginals are far off; the calibration (post-processing
    # on generated rows) pulls level frequencies and the numeric column's shape towards the
    # table's, and is saved with the model.
    from tabgan.evaluation import metrics

    rng = np.random.default_rng(0)
    n = 1500
    df = pd.DataFrame({
        "kind": rng.choice(["a", "b", "c", "d"], n, p=[0.55, 0.25, 0.15, 0.05]),
        "hours": np.where(rng.random(n) < 0.5, 40, rng.integers(1, 99, n)),
        "value": rng.lognormal(3, 1, n),
    })
    params = {"epochs": 1, "random_state": 0, "verbose": False, "generator_dims": (32,),
              "discriminator_dims": (32,), "embedding_dim": 16}
    raw = Synthesizer(calibrate=False, **params).fit(df)
    cal = Synthesizer(**params).fit(df)
    shapes_raw = metrics.column_shapes(df, raw.sample(n, random_state=0))["score"].mean()
    synthetic = cal.sample(n, random_state=0)
    shapes_cal = metrics.column_shapes(df, synthetic)["score"].mean()
    assert shapes_cal > shapes_raw + 0.05 and shapes_cal > 0.9
    freq = synthetic["kind"].value_counts(normalize=True).reindex(["a", "b", "c", "d"]).fillna(0)
    assert np.abs(freq.to_numpy() - [0.55, 0.25, 0.15, 0.05]).max() < 0.05
    assert raw.calibration_ is None and cal.calibration_ is not None


def test_in_mode_maps_send_generated_positions_onto_the_training_quantiles():
    # A generator whose positions spread over the whole tanh range, against training positions
    # that fill only part of it (a mode cut by the column's minimum): mapped positions follow
    # the training ones and stay inside their range, so nothing piles up on a clipped bound.
    from scipy import stats

    from tabgan.calibration import fit_calibration, mode_quantiles

    rng = np.random.default_rng(0)
    train_pos = -0.5 + 0.8 * rng.beta(2, 5, 5000)
    train_codes = np.zeros((5000, 1), dtype=np.int64)
    targets = mode_quantiles(train_pos[:, None].astype(np.float32), train_codes, {0: (0, [0])})

    def generate(n, bias):
        return rng.uniform(-1, 1, (n, 1)).astype(np.float32), np.zeros((n, 1), dtype=np.int64), [np.ones(1)], [None]

    cal = fit_calibration(generate, width=2, code_offsets=np.array([1]), targets=[None], quantile_floats={},
                          q_scale=4.5, alpha_clip=0.99, mode_targets=targets)
    raw, codes, _, _ = generate(20_000, None)
    mapped = cal.map_floats(raw, codes)[:, 0]
    assert mapped.min() >= train_pos.min() - 1e-6 and mapped.max() <= train_pos.max() + 1e-6
    assert stats.ks_2samp(mapped, train_pos).statistic < 0.03
    assert cal.map_floats(raw)[:, 0].tolist() == raw[:, 0].tolist()  # without codes: no in-mode map
    again = type(cal).from_state(cal.get_state())
    assert np.array_equal(again.map_floats(raw, codes), cal.map_floats(raw, codes))


def test_a_fit_maps_inside_modes_and_keeps_a_bounded_skewed_columns_shape():
    # The in-mode maps are fitted and used; that they keep values off a clipped bound is
    # shown by the unit test above (this one-epoch generator piles up little on its own).
    rng = np.random.default_rng(0)
    n = 2000
    df = pd.DataFrame({"weight": np.round(10_000 + rng.lognormal(11, 0.6, n)), "group": rng.choice(["a", "b"], n)})
    params = {"epochs": 1, "random_state": 0, "verbose": False, "generator_dims": (32,),
              "discriminator_dims": (32,), "embedding_dim": 16}
    model = Synthesizer(**params).fit(df)
    synthetic = model.sample(n, random_state=0)
    assert model.calibration_.mode_maps
    assert (synthetic["weight"] == df["weight"].min()).mean() < 0.005
    from tabgan.evaluation import metrics

    shapes = metrics.column_shapes(df, synthetic).set_index("column")["score"]
    assert shapes["weight"] > 0.9


def test_threads_are_used_and_the_callers_setting_restored(mixed_frame, fast_params, monkeypatch):
    import torch

    import tabgan.synthesizer as synthesizer_module

    seen = []  # torch's thread count while training and while generating

    def spy(fn):
        def wrapped(*args, **kwargs):
            seen.append(torch.get_num_threads())
            return fn(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(synthesizer_module, "train", spy(synthesizer_module.train))
    monkeypatch.setattr(synthesizer_module, "generate", spy(synthesizer_module.generate))
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        model = Synthesizer(**{**fast_params, "threads": 1}).fit(mixed_frame)
        assert torch.get_num_threads() == 2
        assert model.settings_["threads"] == 1
        model.sample(10)
        assert torch.get_num_threads() == 2
        assert seen and set(seen) == {1}
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        Synthesizer(threads=0).fit(mixed_frame)


def test_settings_show_what_the_fit_used_and_survive_save_and_load(mixed_frame, fast_params, tmp_path):
    model = Synthesizer(**{**fast_params, "batch_size": None, "generator_lr": None}).fit(mixed_frame)
    assert model.get_params()["batch_size"] is None  # as given, as scikit-learn requires
    used = model.settings_
    assert used["batch_size"] == min(500, len(mixed_frame) // 4)
    assert used["generator_lr"] == 2e-4 and used["gradient_penalty"] == 10.0
    assert used["epochs"] == model.epochs_ and used["rows"] == len(mixed_frame)
    model.save(tmp_path / "m.tabgan")
    assert Synthesizer.load(tmp_path / "m.tabgan").settings_ == used


def test_a_verbose_fit_says_what_it_does_and_a_quiet_one_nothing(mixed_frame, fast_params, capsys):
    Synthesizer(**{**fast_params, "epochs": 4, "verbose": True}).fit(mixed_frame)
    err = capsys.readouterr().err
    for fragment in ("categorical (", "4 epochs x", "1 thread", "training should take about", "trained 4 epochs"):
        assert fragment in err, fragment
    Synthesizer(**{**fast_params, "verbose": False}).fit(mixed_frame)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_a_new_fit_starts_from_nothing_not_even_a_dp_release():
    model = Synthesizer()
    model.schema_, model._dp_release, model._sample_calls = "old", {"sigma": {}}, 3
    model._reset()
    assert not any(hasattr(model, a) for a in ("schema_", "_dp_release", "_sample_calls"))


def test_a_discrete_target_is_conditioned_on_and_kept_by_save_and_load(mixed_frame, fast_params, tmp_path):
    model = Synthesizer(**fast_params).fit(mixed_frame, metadata={"target": "flag"})
    names = [name for name, _, codes in model.transformer_.layout_.columns
             if codes.stop - codes.start == 1 and model.transformer_.layout_.conditioned[codes.start]]
    assert names[model.sampler_.target] == "flag"
    model.save(tmp_path / "m.tabgan")
    loaded = Synthesizer.load(tmp_path / "m.tabgan")
    assert loaded.sampler_.target == model.sampler_.target
    pd.testing.assert_frame_equal(loaded.sample(50, random_state=3), model.sample(50, random_state=3))
    # A numeric target is not in the condition vector: nothing changes.
    assert Synthesizer(**fast_params).fit(mixed_frame, metadata={"target": "x"}).sampler_.target is None
