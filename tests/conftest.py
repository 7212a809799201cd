import numpy as np
import pandas as pd
import pytest
import torch

# Small networks train fastest on one thread, and a second thread contending with other
# processes slows torch down by an order of magnitude on 2-core machines.
torch.set_num_threads(1)


@pytest.fixture
def mixed_frame():
    """A small table with every column kind, missing values and pandas extension dtypes."""
    rng = np.random.default_rng(0)
    n = 200
    group = rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2])
    x = rng.normal(0, 1, n) + (group == "b") * 3.0
    df = pd.DataFrame({
        "group": group,
        "x": x,
        "count": rng.poisson(3, n).astype("int64"),
        "flag": rng.random(n) < 0.3,
        "when": pd.Timestamp("2024-01-01", tz="Europe/Paris") + pd.to_timedelta(rng.integers(0, 86400 * 30, n), unit="s"),
        "maybe": pd.array(np.where(rng.random(n) < 0.2, None, rng.integers(0, 5, n)), dtype="Int64"),
        "level": pd.Categorical(rng.choice(["lo", "mid", "hi"], n), categories=["lo", "mid", "hi"], ordered=True),
        "note": pd.array(np.where(rng.random(n) < 0.1, None, rng.choice(["u", "v"], n)), dtype="string"),
    })
    df.loc[rng.random(n) < 0.1, "x"] = np.nan
    return df


@pytest.fixture
def fast_params():
    return {"epochs": 1, "batch_size": 50, "verbose": False, "random_state": 0}
