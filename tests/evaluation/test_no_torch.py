"""``tabgan.evaluation`` must work where torch is absent: it never imports torch or the synthesizer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
import numpy as np, pandas as pd
import tabgan.evaluation
from tabgan.evaluation import FidelityReport
from tabgan.evaluation.cli import run_report
rng = np.random.default_rng(0)
df = pd.DataFrame({"a": rng.normal(size=60), "b": rng.choice(["x", "y"], 60)})
FidelityReport(df, df.sample(frac=1, random_state=1), holdout=df, target="b").to_html()
bad = sorted(m for m in sys.modules if m == "torch" or m.startswith(("torch.", "tabgan.synthesizer", "opacus")))
print("LOADED:" + ",".join(bad))
"""


def test_evaluation_never_imports_torch_or_the_synthesizer():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MPLBACKEND": "Agg"}
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT, timeout=600,
                         env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("LOADED:"), out.stdout
