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


def _small_csv(tmp_path, sep=","):
    df = pd.DataFrame({"a": ["x", "y", "z"] * 40, "b": range(120), "c": [1, 2, 3, 4] * 30})
    path = tmp_path / "data.csv"
    df.to_csv(path, index=False, sep=sep)
    return path


def test_version_and_described_subcommands(capsys):
    from tabgan import __version__

    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and __version__ in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    assert "penguins" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # -v logs training epochs: offered by fit only
        main(["sample", "m.tabgan", "-n", "1", "-o", "s.csv", "-v"])


def test_a_semicolon_csv_is_refused_with_the_flag_to_pass_and_read_with_it(tmp_path, capsys):
    data = _small_csv(tmp_path, sep=";")
    model = tmp_path / "m.tabgan"
    assert main(["fit", str(data), "-o", str(model), "--epochs", "1", "-q"]) == 2
    assert "--sep ';'" in capsys.readouterr().err and not model.exists()
    assert main(["fit", str(data), "-o", str(model), "--epochs", "1", "-q", "--sep", ";",
                 "--discrete-columns", "c", "--numeric-encoding", "modes", "--threads", "1"]) == 0
    from tabgan import Synthesizer

    fitted = Synthesizer.load(model)
    assert fitted.schema_["c"].kind == "categorical" and fitted.numeric_encoding == "modes"


def test_sample_to_standard_output_keeps_messages_off_it(tmp_path, capsys):
    model = tmp_path / "m.tabgan"
    assert main(["fit", str(_small_csv(tmp_path)), "-o", str(model), "--epochs", "1", "-q"]) == 0
    capsys.readouterr()
    assert main(["sample", str(model), "-n", "7", "-o", "-", "--seed", "1"]) == 0
    captured = capsys.readouterr()
    rows = captured.out.strip().splitlines()
    assert rows[0] == "a,b,c" and len(rows) == 8
    assert "wrote 7 synthetic rows to stdout" in captured.err and not (tmp_path / "-").exists()
    assert main(["fit", str(_small_csv(tmp_path)), "-o", "-", "--epochs", "1"]) == 2
    assert "give a file name" in capsys.readouterr().err


def test_errors_name_the_command_lines_flags(tmp_path, capsys):
    data = _small_csv(tmp_path)
    assert main(["fit", str(data), "-o", str(tmp_path / "m.tabgan"), "--epsilon", "1", "--delta", "0.5"]) == 2
    err = capsys.readouterr().err
    assert "--delta 0.5 is not below" in err and "delta=" not in err
    model = tmp_path / "m2.tabgan"
    assert main(["fit", str(data), "-o", str(model), "--epochs", "1", "-q"]) == 0
    assert main(["sample", str(model), "-n", "3", "-o", "-", "--conditions", "[1]"]) == 2
    assert "must be a JSON object" in capsys.readouterr().err


def test_an_interrupted_cli_fit_resumes_from_its_checkpoint(tmp_path):
    data, ckpt = _small_csv(tmp_path), tmp_path / "fit.ckpt"
    full, resumed = tmp_path / "full.tabgan", tmp_path / "resumed.tabgan"
    common = ["--seed", "0", "-q", "--batch-size", "30"]
    assert main(["fit", str(data), "-o", str(tmp_path / "part.tabgan"), "--epochs", "2", "--checkpoint", str(ckpt),
                 *common]) == 0
    assert ckpt.is_file()  # --checkpoint reaches fit
    # --resume reaches fit too: a missing checkpoint is an error, not a fresh fit.
    assert main(["fit", str(data), "-o", str(resumed), "--epochs", "2", "--resume", str(tmp_path / "none.ckpt"),
                 *common]) == 2 and not resumed.exists()
    assert main(["fit", str(data), "-o", str(resumed), "--epochs", "2", "--resume", str(ckpt), *common]) == 0
    assert main(["fit", str(data), "-o", str(full), "--epochs", "2", *common]) == 0
    from tabgan import Synthesizer

    pd.testing.assert_frame_equal(Synthesizer.load(resumed).sample(20, random_state=0),
                                  Synthesizer.load(full).sample(20, random_state=0))
