"""Small statistics shared by the training layer and the evaluation package (torch-free).

They live here, below both, so that neither imports the other.
"""

from __future__ import annotations

import numpy as np
from scipy.stats.contingency import association

__all__ = ["cramers_v"]


def cramers_v(table: np.ndarray) -> float:
    """Cramér's V (no continuity correction) of the observed levels, as SDMetrics' threshold;
    NaN when fewer than two levels of either variable are observed."""
    observed = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if min(observed.shape) < 2:
        return float("nan")
    return float(association(observed, method="cramer"))
