"""The protocol metrics: SDMetrics 0.32 agreement (expected values computed independently here,
since sdmetrics is not a test dependency), utility, detection and distance diagnostics."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from evaluation_tables import CLS_KINDS, KINDS, classification_table, make_table

from tabgan.evaluation import metrics as M
from tabgan.exceptions import InvalidDataError

@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_table(0), make_table(1, n=300, shift=0.7)


# --------------------------------------------------------------------------- independent oracles


def as_float(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(s):
        out = s.astype("datetime64[ns]").astype("int64").astype(float)
        out[s.isna().to_numpy()] = np.nan
        return out.to_numpy()
    return s.astype(float).to_numpy()


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.sort(a[~np.isnan(a)]), np.sort(b[~np.isnan(b)])
    grid = np.concatenate([a, b])
    return float(np.max(np.abs(np.searchsorted(a, grid, "right") / len(a)
                               - np.searchsorted(b, grid, "right") / len(b))))


def tv_complement(a: pd.Series, b: pd.Series) -> float:
    fa, fb = a.dropna().value_counts().astype(float), b.dropna().value_counts()
    for value in fb.index.difference(fa.index):
        fa[value] = 1e-6  # SDMetrics' regularisation of values the real column lacks
    fa, fb = fa / fa.sum(), (fb / fb.sum()).reindex(fa.index, fill_value=0)
    return 1 - 0.5 * float(np.abs(fa - fb).sum())


def binned(s: pd.Series, kind: str) -> pd.Series:
    if kind in ("categorical", "boolean"):
        return s.astype(object).where(s.notna(), "NA")
    v = as_float(s)
    edges = np.histogram_bin_edges(v[~np.isnan(v)], bins=10)
    return pd.Series(np.digitize(v, edges))


def cramers_v(table: pd.DataFrame) -> float:
    obs = table.to_numpy(float)
    expected = obs.sum(1, keepdims=True) * obs.sum(0, keepdims=True) / obs.sum()
    chi2 = ((obs - expected) ** 2 / expected).sum()
    return float(np.sqrt(chi2 / (obs.sum() * (min(obs.shape) - 1))))


def expected_pairs(real: pd.DataFrame, synth: pd.DataFrame, kinds: dict) -> list[tuple[float, bool]]:
    out = []
    for a, b in combinations(kinds, 2):
        numeric = {kinds[a], kinds[b]} <= {"continuous", "integer", "datetime"}
        if numeric:
            def corr(f):
                pair = pd.DataFrame({"a": as_float(f[a]), "b": as_float(f[b])}).dropna()
                return np.corrcoef(pair["a"], pair["b"])[0, 1]
            r_real, r_syn = corr(real), corr(synth)
            out.append((1 - abs(r_real - r_syn) / 2, abs(r_real) > 0.5))
        else:
            cr = pd.crosstab(binned(real[a], kinds[a]).to_numpy(), binned(real[b], kinds[b]).to_numpy())
            cs = pd.crosstab(binned(synth[a], kinds[a]).to_numpy(), binned(synth[b], kinds[b]).to_numpy())
            pr, ps = cr.stack() / len(real), cs.stack() / len(synth)
            idx = pr.index.union(ps.index)
            tv = 0.5 * np.abs(pr.reindex(idx, fill_value=0) - ps.reindex(idx, fill_value=0)).sum()
            out.append((1 - tv, cramers_v(cr) > 0.3))
    return out


# --------------------------------------------------------------------------- SDMetrics agreement


def test_column_shapes_match_ks_and_tv_complements(tables):
    real, synth = tables
    shapes = M.column_shapes(real, synth, KINDS).set_index("column")
    for name, kind in KINDS.items():
        if kind in ("categorical", "boolean"):
            expected, metric = tv_complement(real[name], synth[name]), "TVComplement"
        else:
            expected, metric = 1 - ks_statistic(as_float(real[name]), as_float(synth[name])), "KSComplement"
        assert shapes.loc[name, "metric"] == metric
        assert shapes.loc[name, "score"] == pytest.approx(expected, abs=1e-9), name


def test_pair_trends_and_quality_match_sdmetrics_definitions(tables):
    real, synth = tables
    pairs = M.pair_trends(real, synth, KINDS)
    expected = expected_pairs(real, synth, KINDS)
    assert len(pairs) == len(expected) == 15
    np.testing.assert_allclose(pairs["score"], [e[0] for e in expected], atol=1e-9)
    assert pairs["meets_threshold"].tolist() == [e[1] for e in expected]
    counted = [e[0] for e in expected if e[1]]
    assert 0 < len(counted) < 15  # the fixture exercises the threshold both ways
    q = M.quality(real, synth, KINDS)
    cs = np.mean([1 - ks_statistic(as_float(real[c]), as_float(synth[c])) if k not in ("categorical", "boolean")
                  else tv_complement(real[c], synth[c]) for c, k in KINDS.items()])
    assert q["column_shapes"] == pytest.approx(cs, abs=1e-9)
    assert q["pair_trends"] == pytest.approx(np.mean(counted), abs=1e-9)
    assert q["pair_trends_all_pairs"] == pytest.approx(np.mean([e[0] for e in expected]), abs=1e-9)
    assert q["quality"] == pytest.approx((cs + np.mean(counted)) / 2, abs=1e-9)


def test_identical_tables_score_one_and_constant_pairs_are_left_out(tables):
    real, _ = tables
    q = M.quality(real, real.copy(), KINDS)
    assert q["quality"] == pytest.approx(1.0)
    const = real.assign(x=1.0)
    pairs = M.pair_trends(const, const, KINDS)
    # SDMetrics cannot correlate a constant column: such pairs get no score and do not count.
    assert pairs.loc[(pairs.column_1 == "x") & (pairs.column_2 == "y"), "score"].isna().all()


def test_kinds_are_inferred_like_the_synthesizer(tables):
    real, synth = tables
    inferred = M.column_shapes(real, synth).set_index("column")["kind"].to_dict()
    assert inferred == {**KINDS, "k": "integer"}


# --------------------------------------------------------------------------- coverage


def test_coverage_reports_missing_categories_and_out_of_range_values():
    real = pd.DataFrame({"c": ["a", "b", "a", "b"], "v": [0.0, 1.0, 2.0, np.nan]})
    synth = pd.DataFrame({"c": ["a", "a", "a", None], "v": [1.0, 3.0, 1.5, 1.2]})
    cov = M.coverage(real, synth, {"c": "categorical", "v": "continuous"}).set_index("column")
    assert cov.loc["c", "category_coverage"] == 0.5
    assert cov.loc["v", "boundary_adherence"] == 0.75
    assert cov.loc["v", "range_coverage"] == pytest.approx(0.5)  # synthetic misses [0, 1)
    assert cov.loc["c", "missing_similarity"] == 0.75
    assert cov.loc["v", "missing_similarity"] == 0.75


# --------------------------------------------------------------------------- utility


def test_ml_efficacy_rewards_kept_relationships():
    train, holdout = classification_table(0), classification_table(1)
    good = M.ml_efficacy(train, classification_table(2), holdout, "label", CLS_KINDS)
    broken = classification_table(3).assign(label=lambda d: d["label"].sample(frac=1, random_state=0).to_numpy())
    bad = M.ml_efficacy(train, broken, holdout, "label", CLS_KINDS)
    assert good["task"] == "binary" and good["metric"] == "roc_auc"
    assert good["real"] > 0.9 and good["synthetic"] > 0.9
    assert bad["synthetic"] < 0.65 < good["synthetic"]
    assert 0 < good["synthetic_macro_f1"] <= 1 and bad["real"] == good["real"]


def test_ml_efficacy_regression_and_single_class():
    train, holdout = classification_table(0), classification_table(1)
    reg = M.ml_efficacy(train, classification_table(2), holdout, "r", CLS_KINDS)
    assert reg["task"] == "regression" and reg["synthetic_r2"] > 0.9
    one_class = classification_table(2).assign(label="yes")
    res = M.ml_efficacy(train, one_class, holdout, "label", CLS_KINDS)
    assert np.isnan(res["synthetic"]) and "single class" in res["notes"][0]


def test_ml_efficacy_scores_a_synthetic_table_with_an_empty_column():
    # A synthesizer can return a column with no values at all (taxis' datetimes from a DP
    # anchor did): the column is left out of that model, the others still score it.
    train, holdout = classification_table(0), classification_table(1)
    empty = classification_table(2).assign(r=np.nan)
    res = M.ml_efficacy(train, empty, holdout, "label", CLS_KINDS)
    assert res["synthetic"] > 0.9 and any("'r'" in note for note in res["notes"])
    assert np.isfinite(M.ml_efficacy(train, empty, holdout, "group", CLS_KINDS)["synthetic"])
    assert M.ml_efficacy(train, classification_table(2).assign(group=None), holdout, "r", CLS_KINDS)["synthetic"] > 0.9


def test_ml_efficacy_multiclass_reports_macro_f1():
    train, holdout = classification_table(0), classification_table(1)
    res = M.ml_efficacy(train, classification_table(2), holdout, "group", CLS_KINDS)
    assert res["task"] == "multiclass" and res["metric"] == "macro_f1" and "synthetic_roc_auc" not in res


def test_detection_auc_near_half_for_same_distribution_and_high_for_shifted():
    same = M.detection_auc(classification_table(1), classification_table(2), CLS_KINDS)
    shifted = M.detection_auc(classification_table(1), classification_table(2).assign(a=lambda d: d.a + 2),
                              CLS_KINDS)
    assert abs(same - 0.5) < 0.1
    assert shifted > 0.95


# --------------------------------------------------------------------------- distances


def test_gower_distance_by_hand():
    train = pd.DataFrame({"v": [0.0, 10.0], "c": ["a", "b"]})
    holdout = pd.DataFrame({"v": [np.nan, 4.0], "c": ["a", "a"]})
    synth = pd.DataFrame({"v": [2.0], "c": ["b"]})
    d = M.dcr_distances(train, holdout, synth, {"v": "continuous", "c": "categorical"})
    # to train rows: (0.2 + 1) / 2 = 0.6 and (0.8 + 0) / 2 = 0.4; to holdout: (1 + 1) / 2, (0.2 + 1) / 2
    assert d["to_train"][0] == pytest.approx(0.4)
    assert d["to_train_second"][0] == pytest.approx(0.6)
    assert d["to_holdout"][0] == pytest.approx(0.6)
    summary = M.summarise_dcr(d)
    assert summary["dcr_share_closer_to_train"] == 1.0
    assert summary["nndr_median"] == pytest.approx(0.4 / 0.6)


def test_dcr_flags_copies_and_is_balanced_for_fresh_samples():
    train, holdout = classification_table(0), classification_table(1)
    copied = M.dcr(train, holdout, train.sample(200, random_state=0), CLS_KINDS)
    assert copied["exact_copies"] == 1.0 and copied["dcr_share_closer_to_train"] > 0.9
    assert copied["dcr_train_median"] == 0.0
    fresh = M.dcr(train, holdout, classification_table(5), CLS_KINDS)
    assert fresh["exact_copies"] == 0.0
    assert abs(fresh["dcr_share_closer_to_train"] - 0.5) < 0.1


def test_dcr_ties_count_half():
    train = pd.DataFrame({"c": ["a", "b"]})
    holdout = pd.DataFrame({"c": ["a", "b"]})
    res = M.dcr(train, holdout, pd.DataFrame({"c": ["a", "b", "a"]}), {"c": "categorical"})
    assert res["dcr_share_closer_to_train"] == 0.5


# --------------------------------------------------------------------------- errors


def test_missing_column_and_unknown_kind_are_explained(tables):
    real, synth = tables
    with pytest.raises(InvalidDataError, match="lacks columns \\['cat'\\]"):
        M.column_shapes(real, synth.drop(columns="cat"), KINDS)
    with pytest.raises(InvalidDataError, match="unknown kind 'text'"):
        M.quality(real, synth, {"x": "text"})
    with pytest.raises(InvalidDataError, match="target 'nope'"):
        M.ml_efficacy(real, synth, real, "nope", KINDS)
