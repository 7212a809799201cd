"""Small statistics and constants shared across layers (the training layer, the evaluation
package, the calibration and the DP releases; torch-free).

They live here, below all of them, so that none imports another.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cramers_v", "MODE_LEVELS", "MIN_MODE_ROWS"]

#: Probability levels of the in-mode quantile maps (``tabgan.calibration``), with the ends (the
#: smallest and largest value of the mode, so generated values stay inside its range); under
#: DP the released histograms give them (``tabgan.privacy_preprocessing``).
MODE_LEVELS = np.linspace(0.0, 1.0, 257)
#: A mode gets its map only with at least this many values (fewer give noisy quantiles).
MIN_MODE_ROWS = 100


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
