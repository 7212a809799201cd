"""FidelityReport: scores, detail frame and the structure of the self-contained HTML page."""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pytest

from tabgan.evaluation import FidelityReport
from tabgan.exceptions import InvalidDataError

from evaluation_tables import CLS_KINDS, classification_table

LEDGER = {"epsilon": 3.0, "delta": 1e-5, "unit": "row",
          "mechanisms": [{"name": "category sets (public metadata)", "epsilon": 0.0, "delta": 0.0},
                         {"name": "DP-SGD discriminator", "epsilon": 2.7, "delta": 1e-5},
                         {"name": "bounds (Laplace)", "epsilon": 0.3, "delta": 0.0}]}


@pytest.fixture(scope="module")
def report() -> FidelityReport:
    return FidelityReport(classification_table(0), classification_table(2), holdout=classification_table(1),
                          target="label", kinds=CLS_KINDS, privacy_spent=LEDGER)


@pytest.fixture(scope="module")
def page(report, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("report") / "report.html"
    text = report.to_html(path)
    assert path.read_text(encoding="utf-8") == text
    return text


def test_scores_hold_every_headline_figure(report):
    s = report.scores
    for key in ("quality", "column_shapes", "pair_trends", "pair_trends_all_pairs", "category_coverage",
                "range_coverage", "boundary_adherence", "missing_value_similarity", "ml_efficacy_synthetic",
                "ml_efficacy_real", "ml_synthetic_roc_auc", "ml_real_macro_f1", "detection_auc",
                "dcr_share_closer_to_train", "exact_copies", "nndr_median", "privacy_epsilon"):
        assert key in s, key
    assert 0.8 < s["quality"] <= 1 and abs(s["detection_auc"] - 0.5) < 0.15
    assert s["privacy_epsilon"] == 3.0 and s["exact_copies"] == 0.0


def test_to_frame_lists_columns_and_pairs(report):
    frame = report.to_frame()
    cols = frame[frame.level == "column"]
    pairs = frame[frame.level == "pair"]
    assert sorted(cols["column_1"]) == sorted(CLS_KINDS)
    assert len(pairs) == 6 and pairs["column_2"].notna().all()
    assert {"score", "boundary_adherence", "meets_threshold", "real_association"} <= set(frame.columns)


def test_html_is_self_contained_with_every_section(page):
    for anchor in ("summary", "column-shapes", "distributions", "statistics", "pair-trends", "worst-pairs",
                   "heatmaps", "hierarchy", "level-rules", "coverage", "support", "utility", "privacy", "dp-ledger",
                   "model", "schema"):
        assert f'id="{anchor}"' in page, anchor
    assert "<script" not in page and not re.search(r'(src|href)="(https?:)?//', page)
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(images) == 7
    for b64 in images:
        assert base64.b64decode(b64)[:8] == b"\x89PNG\r\n\x1a\n"
    assert page.count('class="explain"') >= 7  # a one-line explanation per section


def test_html_states_diagnostics_are_not_guarantees_and_shows_ledger(page):
    assert "diagnostics, not a privacy guarantee" in page
    assert "DP-SGD discriminator" in page and "bounds (Laplace)" in page
    assert "protected unit: row" in page


def test_without_holdout_sections_are_skipped_with_a_note():
    real, synth = classification_table(0), classification_table(2)
    report = FidelityReport(real, synth, kinds=CLS_KINDS)
    s = report.scores
    assert "detection_auc" not in s and "ml_efficacy_synthetic" not in s
    assert "dcr_share_closer_to_train" not in s and "exact_copies" in s
    page = report.to_html()
    assert "No holdout given" in page
    assert "No model file and no privacy ledger were given" in page


def test_sections_are_lazy_and_inputs_untouched():
    real, synth, hold = classification_table(0), classification_table(2), classification_table(1)
    before = real.copy()
    report = FidelityReport(real, synth, holdout=hold, target="label", kinds=CLS_KINDS)
    _ = report.column_details
    assert set(report.timings) == {"setup", "columns"}  # nothing expensive ran yet
    pd.testing.assert_frame_equal(real, before)


def test_large_tables_are_subsampled_with_a_stated_cap():
    report = FidelityReport(classification_table(0, n=900), classification_table(2), kinds=CLS_KINDS, max_rows=500)
    assert len(report.real) == 500 and len(report.synthetic) == 500
    assert any("subsample of 500" in note for note in report.notes)
    again = FidelityReport(classification_table(0, n=900), classification_table(2), kinds=CLS_KINDS, max_rows=500)
    assert report.real.index.equals(again.real.index)  # seeded


def test_bad_arguments_are_explained():
    real, synth = classification_table(0), classification_table(2)
    with pytest.raises(InvalidDataError, match="target 'income'"):
        FidelityReport(real, synth, target="income", kinds=CLS_KINDS)
    with pytest.raises(InvalidDataError, match="privacy_spent must be a dict"):
        FidelityReport(real, synth, kinds=CLS_KINDS, privacy_spent={"eps": 1})
    with pytest.raises(InvalidDataError, match="lacks columns"):
        FidelityReport(real, synth.drop(columns="a"), kinds=CLS_KINDS)
    with pytest.raises(TypeError, match="pandas DataFrame"):
        FidelityReport(real, synth.to_numpy(), kinds=CLS_KINDS)
    assert np.isfinite(FidelityReport(real, synth, kinds=CLS_KINDS).scores["quality"])
