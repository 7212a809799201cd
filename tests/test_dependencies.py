"""Dependencies between discrete columns: found in the table, kept in every generated row."""

import numpy as np
import pandas as pd
import pytest

from tabgan import Synthesizer
from tabgan.dependencies import Dependencies, fit_dependencies


def hierarchy_frame(n=1200, seed=0):
    """postal code -> city -> state, a near-constant column, an independent one, and a level-wise
    implication that is not a functional dependency (role "husband" -> sex "m", "other" -> both)."""
    rng = np.random.default_rng(seed)
    postal = rng.integers(0, 60, n)
    city = postal // 4          # 15 cities
    state = city // 5           # 3 states
    role = rng.choice(["husband", "wife", "other"], n, p=[0.4, 0.2, 0.4])
    sex = np.where(role == "husband", "m", np.where(role == "wife", "f", rng.choice(["m", "f"], n)))
    return pd.DataFrame({
        "postal": [f"p{v:02d}" for v in postal], "city": [f"c{v}" for v in city], "state": [f"s{v}" for v in state],
        "role": role, "sex": sex, "noise": rng.choice(list("abcd"), n),
        "rare": np.where(rng.random(n) < 0.005, "x", "y"), "value": rng.normal(size=n),
    })


def _codes(frame, columns):
    codes = np.stack([pd.factorize(frame[c], sort=True)[0] for c in columns], axis=1)
    return codes, codes.max(axis=0) + 1


def _pairs_seen(real, synthetic, child, parent) -> float:
    seen = set(zip(real[child], real[parent]))
    return float(np.mean([pair in seen for pair in zip(synthetic[child], synthetic[parent])]))


def test_finds_the_hierarchy_and_the_level_wise_implication_only():
    frame = hierarchy_frame()
    columns = ["postal", "city", "state", "role", "sex", "noise", "rare"]
    codes, widths = _codes(frame, columns)
    deps = fit_dependencies(codes, widths, np.ones(len(columns), dtype=bool))
    found = {(columns[c], columns[p]): k for c, p, k in deps.pairs()}
    assert {("postal", "city"), ("postal", "state"), ("city", "state")} <= set(found)
    assert found[("postal", "city")] == 60 and found[("city", "state")] == 15
    assert found[("role", "sex")] == 2  # husband -> m, wife -> f; "other" has no rule
    # Nothing implies the independent column, and a near-constant column is no evidence of a rule.
    assert not {p for _, p in found} & {"noise", "rare", "postal"}
    # Finer implying columns are applied first, so that chains come out consistent.
    order = [columns[c] for c, _, _ in deps.rules]
    assert order.index("postal") < order.index("city")


def test_apply_makes_random_rows_consistent_and_leaves_the_input_alone():
    frame = hierarchy_frame()
    columns = ["postal", "city", "state", "role", "sex"]
    codes, widths = _codes(frame, columns)
    deps = fit_dependencies(codes, widths, np.ones(len(columns), dtype=bool))
    rng = np.random.default_rng(1)
    noisy = np.stack([rng.integers(0, w, 5000) for w in widths], axis=1)
    before = noisy.copy()
    fixed = deps.apply(noisy)
    assert np.array_equal(noisy, before)
    real_pairs = {tuple(r) for r in codes[:, :3]}
    assert all(tuple(r) in real_pairs for r in fixed[:, :3])
    husband = np.flatnonzero(np.unique(frame["role"]) == "husband")[0]
    m = np.flatnonzero(np.unique(frame["sex"]) == "m")[0]
    assert (fixed[fixed[:, 3] == husband, 4] == m).all()
    # The implying columns themselves are never changed (postal codes stay as generated).
    assert np.array_equal(fixed[:, 0], noisy[:, 0])
    again = Dependencies.from_state(deps.get_state(), widths)
    assert np.array_equal(again.apply(noisy), fixed)


def test_a_synthesizer_keeps_the_dependencies_in_every_row_and_condition(tmp_path):
    frame = hierarchy_frame()
    model = Synthesizer(epochs=1, random_state=0, verbose=False).fit(frame)
    synthetic = model.sample(2000, random_state=0)
    for child, parent in [("postal", "city"), ("city", "state"), ("postal", "state")]:
        assert _pairs_seen(frame, synthetic, child, parent) == 1.0
    assert not ((synthetic["role"] == "husband") & (synthetic["sex"] == "f")).any()
    # A condition on an implied column: every row satisfies it and stays consistent.
    conditioned = model.sample(300, conditions={"sex": "f"}, random_state=1)
    assert (conditioned["sex"] == "f").all() and not (conditioned["role"] == "husband").any()
    model.save(tmp_path / "m.tabgan")
    loaded = Synthesizer.load(tmp_path / "m.tabgan")
    pd.testing.assert_frame_equal(loaded.sample(200, random_state=5), model.sample(200, random_state=5))
    plain = Synthesizer(epochs=1, random_state=0, verbose=False, dependencies=False).fit(frame)
    assert plain.dependencies_ is None
    # After one epoch the generator alone pairs cities and states at random.
    assert _pairs_seen(frame, plain.sample(2000, random_state=0), "city", "state") < 0.9


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_dependencies_must_be_a_bool(value):
    with pytest.raises(ValueError, match="dependencies must be True or False"):
        Synthesizer(dependencies=value).fit(hierarchy_frame(100))


def test_a_bijection_sets_one_column_from_the_other_and_leaves_the_first_free():
    # education <-> education-num: the second rule would set education from a value derived from
    # education itself; education keeps its own draw (so the calibration still steers it).
    rng = np.random.default_rng(0)
    level = rng.integers(0, 5, 2000)
    codes = np.stack([level, (level * 3) % 5, rng.integers(0, 3, 2000)], axis=1)
    deps = fit_dependencies(codes, [5, 5, 3], [True, True, True])
    assert {(c, p) for c, p, _ in deps.pairs()} == {(0, 1), (1, 0)}
    noisy = np.stack([rng.integers(0, 5, 500), rng.integers(0, 5, 500), rng.integers(0, 3, 500)], axis=1)
    fixed_codes, fixed = deps.apply_with_mask(noisy)
    first, second = deps.rules[0][0], deps.rules[0][1]
    assert fixed[second].all() and not fixed[first].any()
    assert np.array_equal(fixed_codes[:, first], noisy[:, first])
    assert np.array_equal(fixed_codes[:, 1], (fixed_codes[:, 0] * 3) % 5)


def _noisy_hierarchy(n=1500, seed=3):
    """store -> region with 4% of rows recorded under another region: too loose for the detection
    (99% of rows), a hierarchy its owner knows to hold."""
    rng = np.random.default_rng(seed)
    store = rng.integers(0, 40, n)
    region = store // 10
    slip = rng.random(n) < 0.04
    region = np.where(slip, rng.integers(0, 4, n), region)
    return pd.DataFrame({"store": [f"st{v:02d}" for v in store], "region": [f"r{v}" for v in region],
                         "value": rng.normal(size=n)})


def test_a_hierarchy_declared_in_the_metadata_is_kept_where_detection_would_not_find_it(tmp_path):
    frame = _noisy_hierarchy()
    found = Synthesizer(epochs=1, random_state=0, verbose=False).fit(frame)
    # 97% of rows: the detection keeps rules for a few stores only, by chance.
    assert sum(k for _, _, k in found.dependencies_.pairs()) < 20
    meta = {"hierarchies": [["store", "region"]]}
    model = Synthesizer(epochs=1, random_state=0, verbose=False).fit(frame, metadata=meta)
    synthetic = model.sample(3000, random_state=0)
    usual = frame.groupby("store")["region"].agg(lambda s: s.mode()[0])
    assert (synthetic["region"].to_numpy() == usual[synthetic["store"]].to_numpy()).all()
    # Undeclared, the same one-epoch generator pairs stores and regions far more loosely.
    loose = found.sample(3000, random_state=0)
    assert (loose["region"].to_numpy() == usual[loose["store"]].to_numpy()).mean() < 0.9
    # Declared rules are kept with dependencies=False, and survive save/load (schema included).
    off = Synthesizer(epochs=1, random_state=0, verbose=False, dependencies=False).fit(frame, metadata=meta)
    assert len(off.dependencies_) == 1
    off.save(tmp_path / "m.tabgan")
    loaded = Synthesizer.load(tmp_path / "m.tabgan")
    assert loaded.schema_.hierarchies == [["store", "region"]]
    pd.testing.assert_frame_equal(loaded.sample(100, random_state=1), off.sample(100, random_state=1))


@pytest.mark.parametrize("hierarchies, message", [
    ("store", "must be a list of chains"),
    ([["store"]], "at least two different columns"),
    ([["store", "town"]], "not in the table: \\['town'\\]"),
    ([["store", "value"]], "must be categorical or boolean"),
])
def test_a_malformed_hierarchy_is_refused_with_what_to_write(hierarchies, message):
    from tabgan.exceptions import InvalidDataError

    with pytest.raises(InvalidDataError, match=message):
        Synthesizer(epochs=1, verbose=False).fit(_noisy_hierarchy(200), metadata={"hierarchies": hierarchies})


def test_a_declared_hierarchy_is_refused_under_differential_privacy():
    pytest.importorskip("opacus")
    from tabgan.exceptions import PrivacyConfigError

    with pytest.raises(PrivacyConfigError, match="remove 'hierarchies'"):
        Synthesizer(epsilon=1.0, epochs=1, verbose=False).fit(
            _noisy_hierarchy(200), metadata={"hierarchies": [["store", "region"]],
                                              "columns": {"store": "categorical", "region": "categorical"}})
