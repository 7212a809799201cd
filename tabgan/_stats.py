"""Small statistics shared by the training layer and the evaluation package (torch-free).

They live here, below both, so that neither imports the other.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cramers_v"]


def cramers_v(table: np.ndarray) -> float:
    """Cramér's V (no continuity correction) of the observed levels, as SDMetrics' threshold;
    NaN when fewer than two levels of either variable are observed. ``table`` holds counts, or
    non-negative weights (a denoised DP release)."""
    table = np.asarray(table, dtype=np.float64)
    observed = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if min(observed.shape) < 2:
        return float("nan")
    p = observed / observed.sum()
    expected = np.outer(p.sum(axis=1), p.sum(axis=0))
    chi2 = float(((p - expected) ** 2 / expected).sum())
    return float(np.sqrt(chi2 / (min(observed.shape) - 1)))
