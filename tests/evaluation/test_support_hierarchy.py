"""Alpha-precision and beta-recall, and hierarchy consistency (issue 11, item 5): sanity checks that
fail when the figures stop ranking tables sensibly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tabgan.evaluation import FidelityReport
from tabgan.evaluation import metrics as M
from tabgan.evaluation.cli import run_report

from evaluation_tables import KINDS, make_table

# --------------------------------------------------------------------------- alpha-precision, beta-recall

MIXED = {"x": "continuous", "y": "continuous", "cat": "categorical", "flag": "boolean", "k": "integer"}


def mixed_table(seed: int, n: int = 1200) -> pd.DataFrame:
    """Correlated numerics with missing values, a categorical tied to them, a boolean, an integer."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = x + rng.normal(0, 0.5, n)
    y[rng.random(n) < 0.05] = np.nan
    cat = np.where(x > 0.5, "a", np.where(x < -0.5, "b", "c")).astype(object)
    cat[rng.random(n) < 0.05] = None
    return pd.DataFrame({"x": x, "y": y, "cat": cat, "flag": rng.random(n) < 0.3 + 0.4 * (x > 0),
                         "k": rng.integers(0, 8, n)})


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return mixed_table(0)


def test_a_table_from_the_real_distribution_scores_high(real):
    out = M.alpha_precision_beta_recall(real, mixed_table(1), MIXED)
    assert out["alpha_precision"] > 0.9 and out["beta_recall"] > 0.85 and out["real_rows_covered"] > 0.9
    levels = out["levels"]
    assert levels[0] == 0 and levels[-1] == 1 and len(out["precision_curve"]) == len(levels)
    # The curves follow the diagonal.
    assert np.abs(out["precision_curve"] - levels).max() < 0.1
    assert np.abs(out["recall_curve"] - levels).max() < 0.15


def test_mode_collapse_keeps_precision_and_loses_recall(real):
    few = real.sample(12, random_state=3)
    collapsed = few.loc[few.index.repeat(100)].reset_index(drop=True)  # 12 real rows, 100 times each
    out = M.alpha_precision_beta_recall(real, collapsed, MIXED)
    assert out["alpha_precision"] > 0.6
    assert out["beta_recall"] < 0.15 and out["real_rows_covered"] < 0.15


def test_shifted_or_noisy_tables_lose_precision(real):
    good = M.alpha_precision_beta_recall(real, mixed_table(1), MIXED)["alpha_precision"]
    rng = np.random.default_rng(5)
    shifted = mixed_table(1).assign(x=lambda f: f["x"] + 3.0, y=lambda f: f["y"] + 3.0)
    noisy = mixed_table(1).assign(x=lambda f: f["x"] + rng.normal(0, 3, len(f)),
                                  y=lambda f: f["y"] + rng.normal(0, 3, len(f)))
    for table in (shifted, noisy):
        out = M.alpha_precision_beta_recall(real, table, MIXED)
        assert out["alpha_precision"] < 0.5 < good
        assert out["beta_recall"] < good


def test_broken_dependencies_lose_precision(real):
    """Each column resampled on its own keeps every marginal but no relationship."""
    rng = np.random.default_rng(7)
    independent = pd.DataFrame({c: real[c].to_numpy()[rng.permutation(len(real))] for c in real.columns})
    good = M.alpha_precision_beta_recall(real, mixed_table(1), MIXED)
    out = M.alpha_precision_beta_recall(real, independent, MIXED)
    assert out["alpha_precision"] < good["alpha_precision"] - 0.1


def test_many_features_for_the_rows_do_not_bias_a_same_distribution_table():
    """With the space fitted on the evaluated real rows, a table of 25 categorical columns (about
    400 features) on 1,000 rows put every new row outside the real balls (precision 0)."""
    rng = np.random.default_rng(4)
    wide = pd.DataFrame({f"c{i}": rng.integers(0, 15, 4000).astype(str) for i in range(25)})
    kinds = {c: "categorical" for c in wide}
    out = M.alpha_precision_beta_recall(wide.iloc[:2000], wide.iloc[2000:], kinds, max_rows=1000)
    assert out["n_features"] > 350
    assert out["alpha_precision"] > 0.85 and out["beta_recall"] > 0.85


def test_figures_lie_in_the_unit_interval_and_are_seeded(real):
    tables = [mixed_table(1), mixed_table(2).assign(x=lambda f: f["x"] * 10), real.iloc[:1].copy().iloc[[0] * 50]]
    for table in tables:
        out = M.alpha_precision_beta_recall(real, table, MIXED)
        for key in ("alpha_precision", "beta_recall", "real_rows_covered"):
            assert 0.0 <= out[key] <= 1.0, (key, out[key])
        assert ((out["precision_curve"] >= 0) & (out["precision_curve"] <= 1)).all()
    a = M.alpha_precision_beta_recall(real, mixed_table(1), MIXED, max_rows=500, random_state=3)
    b = M.alpha_precision_beta_recall(real, mixed_table(1), MIXED, max_rows=500, random_state=3)
    assert a["alpha_precision"] == b["alpha_precision"] and a["beta_recall"] == b["beta_recall"]
    assert a["n_rows"] == 500


def test_datetimes_missing_values_and_tiny_tables():
    real, synth = make_table(0), make_table(1)
    out = M.alpha_precision_beta_recall(real, synth, KINDS)
    assert 0.5 < out["alpha_precision"] <= 1 and 0.5 < out["beta_recall"] <= 1
    tiny = M.alpha_precision_beta_recall(real.head(5), synth.head(5), KINDS)
    assert np.isnan(tiny["alpha_precision"]) and np.isnan(tiny["beta_recall"])


def test_support_features_standardise_and_one_hot():
    frame = pd.DataFrame({"v": [1.0, 2.0, 3.0, np.nan], "c": ["a", "b", "a", None]})
    schema = M.resolve_schema(frame, {"v": "continuous", "c": "categorical"})
    (m,) = M.support_features([frame], schema, frame)
    # v standardised, its missing indicator, then c's levels a, b, missing and "other".
    assert m.shape == (4, 2 + 4)
    np.testing.assert_allclose(m[:3, 0], [-np.sqrt(1.5), 0.0, np.sqrt(1.5)])
    assert m[3, 0] == 0 and m[3, 1] == 1
    np.testing.assert_allclose(m[:, 2:].sum(axis=1), 1 / np.sqrt(2))
    other = pd.DataFrame({"v": [2.0], "c": ["zzz"]})
    (o,) = M.support_features([other], schema, frame)
    assert o[0, -1] == pytest.approx(1 / np.sqrt(2))  # an unseen level lands in "other"


# --------------------------------------------------------------------------- hierarchy consistency

H_KINDS = {"zip": "categorical", "city": "categorical", "state": "categorical", "years": "integer",
           "level": "categorical", "role": "categorical", "sex": "categorical", "id": "categorical",
           "noise": "categorical", "rare": "boolean"}


def hierarchy_table(seed: int, n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    zips = rng.integers(0, 60, n)
    city = zips // 6                    # zip -> city (10 cities) -> state (5)
    state = city // 2
    level = rng.integers(0, 8, n)       # level <-> years, one to one
    role = rng.choice(["husband", "wife", "child", "single"], n, p=[0.4, 0.1, 0.3, 0.2])
    sex = np.where(role == "husband", "M", np.where(role == "wife", "F", rng.choice(["M", "F"], n)))
    return pd.DataFrame({
        "zip": [f"z{z}" for z in zips], "city": [f"c{c}" for c in city], "state": [f"s{s}" for s in state],
        "years": level + 8, "level": [f"L{v}" for v in level], "role": role, "sex": sex,
        "id": [f"id{seed}-{i}" for i in range(n)],          # every value once: no dependency
        "noise": rng.choice(["p", "q", "r"], n),
        "rare": rng.random(n) < 0.002,                     # nearly constant: implied by anything, trivially
    })


@pytest.fixture(scope="module")
def h_real() -> pd.DataFrame:
    return hierarchy_table(0)


def _pairs(details):
    return {(r.child, r.parent) for r in details["pairs"].itertuples()}


def test_dependencies_are_found_and_trivial_pairs_are_not(h_real):
    details = M.hierarchy_consistency(h_real, hierarchy_table(1), H_KINDS)
    pairs = _pairs(details)
    assert {("zip", "city"), ("zip", "state"), ("city", "state")} <= pairs
    assert ("level", "years") in pairs or ("years", "level") in pairs
    row = details["pairs"].set_index(["child", "parent"])
    assert row.loc[("zip", "city"), "real_share"] == 1.0 and not row.loc[("zip", "city"), "mutual"]
    assert bool(details["pairs"].query("child in ['level', 'years']")["mutual"].iloc[0])
    names = {c for pair in pairs for c in pair}
    assert "id" not in names and "noise" not in names and "rare" not in names
    assert not {("role", "sex"), ("sex", "role")} & pairs  # a level-wise implication, not a whole dependency
    rules = details["rules"].set_index(["child", "child_level", "parent"])
    assert rules.loc[("role", "husband", "sex"), "parent_level"] == "M"
    assert rules.loc[("role", "wife", "sex"), "parent_level"] == "F"
    assert ("role", "child", "sex") not in rules.index
    assert not (details["rules"]["parent"] == "rare").any()  # no rule towards a near-constant column
    s = M.summarise_hierarchy(details)
    assert s["hierarchy_consistency"] == 1.0 and s["level_rule_consistency"] == 1.0
    assert s["hierarchy_pairs"] == len(pairs) and s["level_rules"] == len(details["rules"])


def test_broken_dependencies_lower_the_consistency(h_real):
    broken = hierarchy_table(1)
    rng = np.random.default_rng(3)
    flip = rng.random(len(broken)) < 0.3
    broken.loc[flip, "city"] = rng.choice([f"c{c}" for c in range(10)], flip.sum())
    wrong = (broken["role"] == "husband") & (rng.random(len(broken)) < 0.5)
    broken.loc[wrong, "sex"] = "F"
    details = M.hierarchy_consistency(h_real, broken, H_KINDS)
    row = details["pairs"].set_index(["child", "parent"])
    assert 0.6 < row.loc[("zip", "city"), "synthetic_consistency"] < 0.8  # 30% redrawn, a tenth of them right
    assert row.loc[("zip", "state"), "synthetic_consistency"] == 1.0
    rules = details["rules"].set_index(["child", "child_level", "parent"])
    assert rules.loc[("role", "husband", "sex"), "synthetic_share"] == pytest.approx(0.5, abs=0.05)
    s = M.summarise_hierarchy(details)
    assert s["hierarchy_consistency"] == pytest.approx(row["synthetic_consistency"].min())
    assert s["level_rule_consistency"] < 0.8


def test_no_dependency_is_reported_as_none():
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"a": rng.choice(["x", "y"], 500), "b": rng.choice(["u", "v", "w"], 500),
                         "n": rng.normal(size=500)})
    kinds = {"a": "categorical", "b": "categorical", "n": "continuous"}
    details = M.hierarchy_consistency(real, real.sample(frac=1, random_state=1), kinds)
    assert details["pairs"].empty and details["rules"].empty
    s = M.summarise_hierarchy(details)
    assert np.isnan(s["hierarchy_consistency"]) and s["hierarchy_pairs"] == 0 and s["level_rules"] == 0
    assert np.isnan(s["level_rule_consistency"])


def test_integer_columns_with_many_values_and_missing_parents():
    rng = np.random.default_rng(1)
    n = 2000
    code = rng.integers(0, 100, n)                     # 100 distinct integers: too many to take part
    group = pd.Series(np.where(code % 2 == 0, "even", "odd"), dtype=object)
    kind = rng.choice(["a", "b", "c"], n)
    parent = pd.Series(np.where(kind == "a", None, "set"), dtype=object)  # missing is a level of its own
    real = pd.DataFrame({"code": code, "group": group, "kind": kind, "parent": parent})
    kinds = {"code": "integer", "group": "categorical", "kind": "categorical", "parent": "categorical"}
    details = M.hierarchy_consistency(real, real, kinds)
    pairs = _pairs(details)
    assert ("kind", "parent") in pairs
    assert not any("code" in pair for pair in pairs)
    synth = real.copy()
    synth["parent"] = "set"  # "a" rows lose their missing parent
    row = M.hierarchy_consistency(real, synth, kinds)["pairs"].set_index(["child", "parent"])
    assert row.loc[("kind", "parent"), "synthetic_consistency"] == pytest.approx((kind != "a").mean())


# --------------------------------------------------------------------------- in the report


def test_report_scores_frame_page_and_command(h_real, tmp_path, capsys):
    report = FidelityReport(h_real, hierarchy_table(1), kinds=H_KINDS)
    s = report.scores
    for key in ("alpha_precision", "beta_recall", "real_rows_covered", "hierarchy_consistency",
                "hierarchy_pairs", "level_rule_consistency", "level_rules"):
        assert key in s, key
    # The second table keeps every dependency and implication of the first, as the function says.
    direct = M.summarise_hierarchy(M.hierarchy_consistency(h_real, hierarchy_table(1), H_KINDS))
    assert {k: s[k] for k in direct} == direct
    assert s["hierarchy_consistency"] == 1.0 and s["level_rule_consistency"] == 1.0 and s["hierarchy_pairs"] >= 4
    frame = report.to_frame()
    deps = frame[frame.level == "hierarchy"]
    assert len(deps) == s["hierarchy_pairs"] and (deps["metric"] == "HierarchyConsistency").all()
    assert (deps["score"] == 1.0).all()
    page = report.to_html()
    block = page[page.index('id="hierarchy"'):page.index('id="coverage"')]
    assert "zip" in block and "husband" in block and "Level-wise implications" in block
    support = page[page.index('id="support"'):page.index('id="utility"')]
    assert "alpha-precision" in support and "one-class embedding" in support
    real_csv, synth_csv = tmp_path / "real.csv", tmp_path / "synth.csv"
    h_real.drop(columns="id").to_csv(real_csv, index=False)  # inference refuses an ID column
    hierarchy_table(1).drop(columns="id").to_csv(synth_csv, index=False)
    assert run_report([str(real_csv), str(synth_csv), "--out", str(tmp_path / "r.html")]) == 0
    printed = capsys.readouterr().out
    assert "alpha_precision" in printed and "beta_recall" in printed
    assert "hierarchy_consistency" in printed and "dependencies)" in printed


def test_page_says_when_no_dependency_is_found(capsys, tmp_path):
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"a": rng.choice(["x", "y"], 300), "n": rng.normal(size=300)})
    synth = pd.DataFrame({"a": rng.choice(["x", "y"], 300), "n": rng.normal(size=300)})
    page = FidelityReport(real, synth, kinds={"a": "categorical", "n": "continuous"}).to_html()
    assert "No dependency found" in page
    real.to_csv(tmp_path / "r.csv", index=False)
    synth.to_csv(tmp_path / "s.csv", index=False)
    assert run_report([str(tmp_path / "r.csv"), str(tmp_path / "s.csv"), "--out", str(tmp_path / "r.html")]) == 0
    assert "no dependency found" in capsys.readouterr().out


def test_a_declared_hierarchy_is_scored_whatever_the_detection_says():
    # store -> region with 6% of rows filed under another region: below the detection's bars,
    # declared in the metadata by someone who knows it holds.
    rng = np.random.default_rng(4)
    store = rng.integers(0, 30, 2000)
    region = np.where(rng.random(2000) < 0.06, rng.integers(0, 3, 2000), store // 10)
    real = pd.DataFrame({"store": [f"s{v}" for v in store], "region": [f"r{v}" for v in region]})
    broken = real.assign(region=rng.permutation(real["region"].to_numpy()))
    kinds = {"store": "categorical", "region": "categorical"}
    assert len(M.hierarchy_consistency(real, broken, kinds)["pairs"]) == 0
    from tabgan.schema import infer_schema

    schema = infer_schema(real, {"columns": kinds, "hierarchies": [["store", "region"]]})
    pairs = M.hierarchy_consistency(real, broken, schema)["pairs"]
    assert list(zip(pairs["child"], pairs["parent"])) == [("store", "region")]
    kept = M.hierarchy_consistency(real, real.sample(frac=1, random_state=0), schema)["pairs"]
    assert kept["synthetic_consistency"].iloc[0] == 1.0 > pairs["synthetic_consistency"].iloc[0]
