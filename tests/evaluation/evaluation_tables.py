"""Small generated tables shared by the evaluation tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

KINDS = {"x": "continuous", "y": "continuous", "k": "integer", "when": "datetime",
         "cat": "categorical", "flag": "boolean"}


def make_table(seed: int, n: int = 400, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1.0, n)
    y = 2 * x + rng.normal(0, 0.6 + shift, n)
    y[rng.random(n) < 0.1] = np.nan
    cat = np.where(x + rng.normal(0, 0.5, n) > 0, "high", "low").astype(object)
    cat[rng.random(n) < 0.1] = None
    if shift:
        cat[rng.random(n) < 0.2] = "new"
    return pd.DataFrame({
        "x": x, "y": y, "k": rng.integers(0, 6 + int(3 * shift), n),
        "when": pd.Timestamp("2021-03-01") + pd.to_timedelta(x * 20, unit="D"),
        "cat": pd.Series(cat, dtype="str"),
        "flag": rng.random(n) < 0.3 + 0.3 * (x > 0),
    })


def classification_table(seed: int, n: int = 600) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    group = rng.choice(["u", "v", "w"], n)
    label = np.where(a + (group == "u") * 1.0 + rng.normal(0, 0.3, n) > 0.5, "yes", "no")
    return pd.DataFrame({"a": a, "group": pd.Series(group, dtype="str"), "label": label,
                         "r": 3 * a + rng.normal(0, 0.1, n)})


CLS_KINDS = {"a": "continuous", "group": "categorical", "label": "categorical", "r": "continuous"}
