"""The HTML page of the report as a reader sees it (issue 17): honest timing, the pairs that count,
plain notes, the model's settings, readable figures, point masses, summary statistics, and a page
that explains itself without files the reader may not have."""

from __future__ import annotations

import html as html_lib
import re
import time

import numpy as np
import pandas as pd
import pytest

from tabgan.evaluation import FidelityReport, _html, _plots
from tabgan.evaluation import metrics as M
from tabgan.evaluation.cli import run_report
from tabgan.evaluation.report import read_model_info

from evaluation_tables import CLS_KINDS, classification_table

#: The page's text column: 1,100 px less 2 x 1rem of padding.
PAGE_WIDTH_PX = 1068


def _footer_seconds(page: str) -> float:
    return float(re.search(r"computed in ([0-9.]+) s", page).group(1))


def _section(page: str, start: str, end: str) -> str:
    return page[page.index(f'id="{start}"'):page.index(f'id="{end}"')]


def _rows(fragment: str) -> list[list[str]]:
    """Cell texts of every body row of the first table in ``fragment``."""
    body = fragment[fragment.index("</thead>"):fragment.index("</table>")]
    return [[html_lib.unescape(re.sub("<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body)]


# --------------------------------------------------------------------------- 1. footer time


def test_footer_time_counts_each_second_once():
    real, synth, hold = classification_table(0), classification_table(2), classification_table(1)
    start = time.perf_counter()
    report = FidelityReport(real, synth, holdout=hold, target="label", kinds=CLS_KINDS)
    page = report.to_html()  # computes every section while rendering, as `tabgan report` does
    wall = time.perf_counter() - start
    shown = _footer_seconds(page)
    # Shown with one decimal; sections computed during rendering were counted twice before.
    assert shown <= wall + 0.06, (shown, wall, report.timings)
    assert shown >= 0.8 * wall - 0.06, (shown, wall, report.timings)
    assert sum(report.timings.values()) == pytest.approx(wall, abs=0.05)
    # A second page reuses the sections: only its own rendering is added, not the first page's.
    start = time.perf_counter()
    again = report.to_html()
    second = time.perf_counter() - start
    assert _footer_seconds(again) <= wall + second + 0.06


# --------------------------------------------------------------------------- 2. worst pairs


def _pair_tables(seed: int = 0, n: int = 2000) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Real: x-y strongly correlated, g follows x, u unrelated to both.  Synthetic: y independent of
    x (a broken strong dependency) and u spread evenly where the real u sits in its lowest tenth,
    so that u's pairs, which do not count (u is unrelated), score worst."""
    rng = np.random.default_rng(seed)

    def table(real: bool) -> pd.DataFrame:
        x = rng.normal(size=n)
        y = (2 * x if real else 2 * rng.normal(size=n)) + rng.normal(0, 0.3, n)
        g = np.where(x + rng.normal(0, 0.3, n) > 0, "hi", "lo")
        if real:
            u = rng.exponential(size=n)
            u[:20] = 40.0  # a few far values: nearly every real u falls in the first of 10 bins
        else:
            u = rng.uniform(0, 40, n)
        return pd.DataFrame({"x": x, "y": y, "g": g, "u": u})

    kinds = {"x": "continuous", "y": "continuous", "g": "categorical", "u": "continuous"}
    return table(True), table(False), kinds


def test_worst_pairs_are_the_counted_ones_worst_first_and_broken_ones_stand_out():
    real, synth, kinds = _pair_tables()
    report = FidelityReport(real, synth, kinds=kinds)
    pairs = report.pair_details
    counted = pairs[pairs["meets_threshold"]]
    uncounted = pairs[~pairs["meets_threshold"]]
    # The fixture makes an uncounted pair score worse than every counted one.
    assert uncounted["score"].min() < counted["score"].min()
    page = report.to_html()
    block = _section(page, "worst-pairs", "heatmaps")
    rows = _rows(block)
    listed = [(r[0], r[1]) for r in rows]
    assert sorted(listed) == sorted(zip(counted["column_1"], counted["column_2"]))
    scores = [float(r[3]) for r in rows]
    assert scores == sorted(scores)  # worst first
    assert "pairs in the score, worst first" in block
    status = {(r[0], r[1]): r[6] for r in rows}
    assert status[("x", "y")] == "lost"
    assert 'class="bad"' in block
    assert re.search(r'class="warning">Relationships lost or reversed[^<]*x – y', block)


def test_pair_status_reads_the_change_in_strength():
    nan = float("nan")
    assert _html.pair_status(0.9, 0.85, nan, nan) == "kept"
    assert _html.pair_status(0.9, 0.6, nan, nan) == "weakened"
    assert _html.pair_status(-0.9, -0.2, nan, nan) == "lost"
    assert _html.pair_status(0.8, -0.5, nan, nan) == "reversed"
    assert _html.pair_status(nan, nan, 0.4, 0.7) == "stronger"
    assert _html.pair_status(nan, nan, 1.0, 0.3) == "lost"


def test_without_counted_pairs_the_page_says_so():
    rng = np.random.default_rng(0)
    real = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    page = FidelityReport(real, real.sample(frac=1, random_state=1), kinds={"a": "continuous",
                                                                             "b": "continuous"}).to_html()
    assert "No pair is clearly related in the real table" in page
    assert 'id="worst-pairs"' not in page


# --------------------------------------------------------------------------- 3. and 4. plain notes


def test_without_holdout_the_page_says_so_plainly():
    page = FidelityReport(classification_table(0), classification_table(2), kinds=CLS_KINDS).to_html()
    assert "none rows" not in page and "holdout: none" not in page
    assert ("No holdout given: ML efficacy, detection and the train-vs-holdout distance comparison are "
            "skipped") in page


def test_privacy_wording_depends_on_what_was_given(model_meta):
    real, synth = classification_table(0), classification_table(2)
    none_given = FidelityReport(real, synth, kinds=CLS_KINDS).to_html()
    assert "No model file and no privacy ledger were given" in none_given
    assert "trained without differential privacy" not in none_given
    non_dp = FidelityReport(real, synth, kinds=CLS_KINDS, model=model_meta).to_html()
    assert "The model was trained without differential privacy" in non_dp
    assert "No model file and no privacy ledger" not in non_dp and "ledger was given" not in non_dp
    ledger = {"epsilon": 2.0, "delta": 1e-5, "unit": "row",
              "mechanisms": [{"name": "DP-SGD discriminator", "epsilon": 2.0, "delta": 1e-5}]}
    dp = FidelityReport(real, synth, kinds=CLS_KINDS, model={**model_meta, "privacy_spent": ledger}).to_html()
    assert "Differential privacy ledger" in dp and "DP-SGD discriminator" in dp
    assert "trained without differential privacy" not in dp


# --------------------------------------------------------------------------- 8. fit settings


@pytest.fixture(scope="module")
def fitted():
    from tabgan import Synthesizer

    return Synthesizer(epochs=1, random_state=0, verbose=False).fit(classification_table(0, n=300))


@pytest.fixture(scope="module")
def model_file(fitted, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "model.tabgan"
    fitted.save(path)
    return path


@pytest.fixture(scope="module")
def model_meta(model_file):
    from tabgan.persistence import read_model_file

    return read_model_file(model_file)[0]


def test_model_file_settings_are_shown_from_the_cli(model_file, model_meta, tmp_path):
    paths = {}
    for name, seed in (("real", 0), ("synthetic", 2), ("holdout", 1)):
        paths[name] = tmp_path / f"{name}.csv"
        classification_table(seed, n=300).to_csv(paths[name], index=False)
    out = tmp_path / "report.html"
    assert run_report([str(paths["real"]), str(paths["synthetic"]), "--holdout", str(paths["holdout"]),
                       "--target", "label", "--model", str(model_file), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    block = _section(page, "model", "schema")
    settings = dict(r[:2] for r in _rows(block))
    assert settings["tabgan version that wrote it"] == model_meta["tabgan_version"]
    assert settings["epochs trained"].startswith(str(model_meta["epochs_trained"]))
    stored = model_meta.get("settings") or {}  # resolved fit values, in files that hold them
    if stored.get("device"):
        assert settings["device"] == stored["device"]
        assert 'id="fit-resolved"' in block
    else:
        assert "does not store the device used" in settings["device"]
    assert settings["differential privacy"] == "no"
    params = dict(r[:2] for r in _rows(block[block.index('id="fit-parameters"'):]))
    assert set(params) == set(model_meta["params"])
    assert params["epochs"] == "1" and params["random_state"] == "0"
    assert "The model was trained without differential privacy" in page
    assert "Model: tabgan" in page and "1 epochs trained" in page
    assert run_report([str(paths["real"]), str(paths["synthetic"]), "--model", str(tmp_path / "no.tabgan")]) == 2


def test_fitted_synthesizer_shows_its_device(fitted, model_file):
    report = FidelityReport(classification_table(0), classification_table(2), model=fitted)
    assert report.model_info["device"] == "cpu"
    assert report.schema is fitted.schema_
    # The estimator in memory and the file it saved are shown alike (the file lacks the device used).
    from_file = read_model_info(model_file)
    same = ("tabgan_version", "params", "settings", "epochs_trained", "calibrated", "privacy_spent")
    assert {k: report.model_info[k] for k in same} == {k: from_file[k] for k in same}
    assert from_file["schema"].to_dict() == fitted.schema_.to_dict()
    block = _section(report.to_html(), "model", "schema")
    assert dict(r[:2] for r in _rows(block))["device"] == "cpu"


def test_without_a_model_the_settings_section_says_what_to_give():
    page = FidelityReport(classification_table(0), classification_table(2), kinds=CLS_KINDS).to_html()
    assert "No model was given, so its fit settings are unknown" in _section(page, "model", "schema")
    with pytest.raises(TypeError, match="model must be the path of a model file"):
        FidelityReport(classification_table(0), classification_table(2), model=42)


# --------------------------------------------------------------------------- 5. and 6. figures


@pytest.fixture(scope="module")
def drawn():
    """Every figure of a report with a zero-inflated column: its texts, axes and PNG size."""
    import matplotlib.text

    real, synth, hold = classification_table(0), classification_table(2), classification_table(1)
    rng = np.random.default_rng(3)
    for frame in (real, synth, hold):
        gain = rng.lognormal(8, 1, len(frame)).round()
        gain[rng.random(len(frame)) < 0.9] = 0
        frame["gain"] = gain
    report = FidelityReport(real, synth, holdout=hold, target="label", kinds={**CLS_KINDS, "gain": "integer"})
    figures = []
    original = _plots.to_base64

    def capture(fig):
        texts = [t for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text().strip()]
        info = {"sizes": [t.get_fontsize() for t in texts], "texts": [t.get_text() for t in texts],
                "scales": [ax.get_xscale() for ax in fig.axes], "dpi": fig.dpi}
        b64 = original(fig)
        info["width"], info["height"] = _plots.png_size(b64)
        figures.append(info)
        return b64

    _plots.to_base64 = capture
    try:
        page = report.to_html()
    finally:
        _plots.to_base64 = original
    return figures, page


def test_figures_are_readable_at_the_size_the_page_shows_them(drawn):
    figures, page = drawn
    assert len(figures) == 7
    for fig in figures:
        shown = min(1.0, PAGE_WIDTH_PX / fig["width"])
        smallest_px = min(fig["sizes"]) * _plots.DPI / 72 * shown
        assert smallest_px >= 10, (fig["texts"][int(np.argmin(fig["sizes"]))], smallest_px)
        assert fig["width"] <= _plots.MAX_WIDTH_PX
        assert fig["width"] >= 600  # not a thumbnail
    # Each image is shown at its natural size.
    for width, height in re.findall(r'<img alt="[^"]*" width="(\d+)" height="(\d+)"', page):
        assert (int(width), int(height)) in {(f["width"], f["height"]) for f in figures}


def test_zero_inflated_column_shows_its_point_mass_and_a_log_tail(drawn):
    figures, page = drawn
    grid = next(f for f in figures if "gain (integer)" in f["texts"])
    assert "log" in grid["scales"]
    assert "rows at\n0" in grid["texts"]
    assert any(re.fullmatch(r"(89|90|91)%", t) for t in grid["texts"])
    assert "gain pile up on one value" in page


def test_point_mass_detection():
    rng = np.random.default_rng(0)
    tail = rng.lognormal(7, 1, 1000).round()
    zero_inflated = np.where(rng.random(1000) < 0.9, 0.0, tail)
    assert _plots.point_mass(zero_inflated) == 0.0
    assert _plots.point_mass(rng.normal(size=1000)) is None
    # A spike inside the range (hours per week at 40) is drawn as it is.
    hours = np.where(rng.random(1000) < 0.5, 40.0, rng.integers(1, 99, 1000))
    assert _plots.point_mass(hours) is None
    assert _plots.point_mass(np.where(rng.random(1000) < 0.9, 0.0, np.nan)) is None


# --------------------------------------------------------------------------- 7. column statistics


def test_column_statistics_by_hand():
    real = pd.DataFrame({"v": [0.0, 0.0, 0.0, 4.0, np.nan], "c": ["a", "a", "b", "c", None]})
    synth = pd.DataFrame({"v": [1.0, 2.0, 2.0, 3.0, 10.0], "c": ["a", "b", "b", "b", "d"]})
    stats = M.column_statistics(real, synth, {"v": "continuous", "c": "categorical"})
    stats = stats.set_index(["column", "table"])
    r, s = stats.loc[("v", "real")], stats.loc[("v", "synthetic")]
    assert r["missing"] == 0.2 and s["missing"] == 0.0
    assert r["mean"] == 1.0 and r["std"] == pytest.approx(2.0) and r["median"] == 0.0
    assert (r["min"], r["max"], r["mode"], r["mode_share"]) == (0.0, 4.0, 0.0, 0.75)
    assert (s["mean"], s["median"], s["mode"], s["mode_share"]) == (3.6, 2.0, 2.0, 0.4)
    rc, sc = stats.loc[("c", "real")], stats.loc[("c", "synthetic")]
    assert (rc["levels"], rc["top_level"], rc["top_share"], rc["missing"]) == (3, "a", 0.5, 0.2)
    assert (sc["levels"], sc["top_level"], sc["top_share"]) == (3, "b", 0.6)
    assert sc["unseen_levels"] == ["c"]
    distinct = M.column_statistics(real.assign(v=[1.0, 2.0, 3.0, 4.0, 5.0]), synth, {"v": "continuous"})
    assert distinct["mode"].isna().iloc[0] and distinct["mode_share"].isna().iloc[0]  # no value repeats


def test_statistics_section_lists_every_column_real_and_synthetic():
    real, synth = classification_table(0), classification_table(2)
    report = FidelityReport(real, synth, kinds=CLS_KINDS)
    block = _section(report.to_html(), "statistics", "pair-trends")
    rows = _rows(block[block.index('id="numeric-statistics"'):])
    assert rows[0][:3] == ["a", "continuous", "real"] and rows[1][0] == "synthetic"
    assert float(rows[0][4]) == pytest.approx(real["a"].mean(), abs=1e-3)
    assert float(rows[1][2]) == pytest.approx(synth["a"].mean(), abs=1e-3)  # no name, kind cells (rowspan)
    cat = _rows(block[block.index('id="categorical-statistics"'):])
    group = next(i for i, r in enumerate(cat) if r[0] == "group")
    top = real["group"].value_counts()
    assert cat[group][5] == top.index[0] and cat[group][6] == f"{100 * top.iloc[0] / len(real):.1f}%"
    assert cat[group + 1][-1] == "none"


# --------------------------------------------------------------------------- 9. self-contained page


def test_page_explains_itself_without_outside_files(drawn):
    _, page = drawn
    assert not re.search(r"\.md\b|BENCHMARKS|docs/", page)
    # Every figure is followed by a caption saying how to read it.
    assert page.count("<img ") == page.count('<figcaption><p class="caption">') == 7
    assert page.count("<section ") == page.count('<p class="explain">')
