"""The validation check that picks the generator kept by ``keep_best``."""

import numpy as np
import pandas as pd

from tabgan.schema import infer_schema
from tabgan.training.selection import Discretizer, fidelity_score, strong_pairs


def _frame(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return pd.DataFrame({
        "x": x,
        "y": 2 * x + rng.normal(0, 0.1, n),                  # tied to x
        "noise": rng.normal(size=n),                         # tied to nothing
        "g": np.where(x > 0, "pos", "neg"),                  # tied to x
        "h": rng.choice(["a", "b", "c"], n),                 # tied to nothing
    })


def test_only_associated_pairs_are_scored():
    real = _frame()
    d = Discretizer(infer_schema(real), real)
    names = list(real.columns)
    pairs = {(names[a], names[b]) for a, b in strong_pairs(d.cells(real), d.sizes)}
    assert pairs == {("x", "y"), ("x", "g"), ("y", "g")}


def test_a_generator_that_breaks_an_associated_pair_scores_lower():
    real = _frame()
    d = Discretizer(infer_schema(real), real)
    cells = d.cells(real)
    pairs = strong_pairs(cells, d.sizes)
    good = d.cells(_frame(seed=1))
    broken = _frame(seed=1)
    broken["y"] = broken["y"].sample(frac=1, random_state=0).to_numpy()  # same marginal, no tie
    bad = d.cells(broken)
    assert fidelity_score(cells, good, d.sizes, pairs) > fidelity_score(cells, bad, d.sizes, pairs) + 0.1
    # Over every pair the same break weighs far less: the unrelated pairs dilute it.
    gap_all = fidelity_score(cells, good, d.sizes) - fidelity_score(cells, bad, d.sizes)
    gap_strong = fidelity_score(cells, good, d.sizes, pairs) - fidelity_score(cells, bad, d.sizes, pairs)
    assert gap_strong > 2 * gap_all
