import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tabgan.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_fit_sample_from_the_shell(tmp_path, capsys):
    df = pd.DataFrame({"a": ["x", "y", "z"] * 20, "b": range(60)})
    data = tmp_path / "data.csv"
    df.to_csv(data, index=False)
    meta = tmp_path / "meta.json"
    meta.write_text(json.dumps({"columns": {"b": "integer"}}))
    model = tmp_path / "m.tabgan"
    assert main(["fit", str(data), "-o", str(model), "--metadata", str(meta), "--epochs", "1", "-q"]) == 0
    out = tmp_path / "s.csv"
    assert main(["sample", str(model), "-n", "25", "-o", str(out), "--conditions", '{"a": "y"}']) == 0
    synthetic = pd.read_csv(out)
    assert len(synthetic) == 25 and (synthetic["a"] == "y").all()
    assert "trained without differential privacy" in capsys.readouterr().out


def test_cli_errors_are_one_line_not_tracebacks(tmp_path, capsys):
    assert main(["fit", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "m.tabgan")]) == 2
    assert "No CSV file" in capsys.readouterr().err


def test_cli_defaults_come_from_the_estimator():
    from tabgan import Synthesizer
    from tabgan.cli import build_parser

    args = build_parser().parse_args(["fit", "d.csv", "-o", "m"])
    assert args.batch_size == Synthesizer().batch_size and args.epochs == Synthesizer().epochs


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted((ROOT / "examples").glob("*.py")), ids=lambda p: p.name)
def test_examples_run(script, tmp_path):
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.slow
def test_demo_command_writes_csv_and_summary(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tabgan", "demo", "--out-dir", str(tmp_path), "--epochs", "5",
                             "-q"], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    synthetic = pd.read_csv(tmp_path / "penguins_synthetic.csv")
    assert synthetic.shape == (344, 8)
    assert "species" in result.stdout and "quality" in result.stdout
