"""``tabgan report`` from the shell: files in, one HTML page (and JSON scores) out."""

from __future__ import annotations

import json

import pytest

from tabgan.evaluation.cli import run_report

from evaluation_tables import classification_table


@pytest.fixture()
def csvs(tmp_path):
    paths = {}
    for name, seed in (("real", 0), ("synthetic", 2), ("holdout", 1)):
        paths[name] = tmp_path / f"{name}.csv"
        classification_table(seed, n=300).to_csv(paths[name], index=False)
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"columns": {"group": "categorical", "label": "categorical"}}))
    paths["meta"] = meta
    return paths


def test_report_command_writes_html_and_scores(csvs, tmp_path, capsys):
    out, scores = tmp_path / "report.html", tmp_path / "scores.json"
    code = run_report([str(csvs["real"]), str(csvs["synthetic"]), "--holdout", str(csvs["holdout"]),
                       "--target", "label", "--metadata", str(csvs["meta"]), "--out", str(out),
                       "--json", str(scores)])
    assert code == 0
    assert 'id="utility"' in out.read_text(encoding="utf-8")
    data = json.loads(scores.read_text())
    assert 0 < data["quality"] <= 1 and "detection_auc" in data
    printed = capsys.readouterr().out
    assert "quality" in printed and str(out) in printed


def test_report_command_explains_bad_input(csvs, tmp_path, capsys):
    assert run_report([str(csvs["real"]), str(tmp_path / "nope.csv")]) == 2
    assert "No CSV file at" in capsys.readouterr().err
    assert run_report([str(csvs["real"]), str(csvs["synthetic"]), "--target", "label"]) == 2
    assert "--target needs --holdout" in capsys.readouterr().err


def test_report_reads_other_separators_and_refuses_a_misread_file(csvs, tmp_path, capsys):
    import pandas as pd

    semi = {}
    for name in ("real", "synthetic"):
        semi[name] = tmp_path / f"{name}_semi.csv"
        pd.read_csv(csvs[name]).to_csv(semi[name], sep=";", index=False)
    assert run_report([str(semi["real"]), str(semi["synthetic"]), "--out", str(tmp_path / "r.html")]) == 2
    assert "--sep ';'" in capsys.readouterr().err
    assert run_report([str(semi["real"]), str(semi["synthetic"]), "--sep", ";",
                       "--out", str(tmp_path / "r.html")]) == 0
