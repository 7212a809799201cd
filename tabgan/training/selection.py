"""Keep the generator that scores best on a cheap fidelity check, not the last one.

GAN losses say little about sample quality and the generator oscillates from epoch to epoch.
Every few epochs the current generator draws a few thousand rows, and the rows are compared
with a random sample of real rows on every column's marginal and every pair's joint
distribution, both discretised into at most ``n_bins`` cells per column (numeric columns by
quantiles of the real sample, missing values in a cell of their own). The score is the mean
of one minus the total variation distance over columns and over the associated pairs (real
Cramér's V above 0.3; every pair when none is): a fast stand-in for SDMetrics' column shapes
and pair trends, which also counts associated pairs only. The best generator's weights are kept in memory and
restored at the end of training.

This check reads the training table, so it is switched off under differential privacy.
"""

from __future__ import annotations

import copy
import logging

import numpy as np
import pandas as pd

from .._stats import cramers_v
from ..schema import Schema, numeric_values
from .callbacks import Callback

__all__ = ["Discretizer", "fidelity_score", "strong_pairs", "BestGeneratorCallback"]

#: Pairs whose real cells have Cramér's V above this are the ones the check scores (as
#: SDMetrics' pair trends count only associated pairs); every pair when none is.
STRONG_ASSOCIATION = 0.3

logger = logging.getLogger("tabgan")


class Discretizer:
    """Map each column of a frame to small integer cells, with edges learned from ``reference``."""

    def __init__(self, schema: Schema, reference: pd.DataFrame, n_bins: int = 10):
        self.schema = schema
        self.n_bins = n_bins
        self.edges: dict[str, np.ndarray] = {}
        self.levels: dict[str, list] = {}
        for spec in schema:
            if spec.is_discrete:
                self.levels[spec.name] = list(spec.categories or [])
            else:
                x = numeric_values(reference[spec.name], spec)
                x = x[~np.isnan(x)]
                qs = np.unique(np.quantile(x, np.linspace(0, 1, n_bins + 1)[1:-1])) if len(x) else np.zeros(0)
                self.edges[spec.name] = qs
        self.sizes = np.asarray([
            (len(self.levels[s.name]) if s.is_discrete else len(self.edges[s.name]) + 1) + 1 for s in schema
        ])

    def cells(self, df: pd.DataFrame) -> np.ndarray:
        """Cell indices (n, n_columns); the last cell of each column holds missing values."""
        out = np.empty((len(df), len(self.schema)), dtype=np.int64)
        for j, spec in enumerate(self.schema):
            s = df[spec.name]
            missing_cell = self.sizes[j] - 1
            if spec.is_discrete:
                values = s.astype("object") if isinstance(s.dtype, pd.CategoricalDtype) else s
                if spec.kind == "boolean":
                    codes = pd.Categorical(values.astype("object"), categories=[False, True]).codes
                else:
                    codes = pd.Categorical(values, categories=self.levels[spec.name]).codes
                out[:, j] = np.where(codes < 0, missing_cell, codes)
            else:
                x = numeric_values(s, spec)
                cell = np.searchsorted(self.edges[spec.name], x, side="right")
                out[:, j] = np.where(np.isnan(x), missing_cell, cell)
        return out


def _joint(cells: np.ndarray, a: int, b: int, sizes: np.ndarray) -> np.ndarray:
    size = sizes[a] * sizes[b]
    return np.bincount(cells[:, a] * sizes[b] + cells[:, b], minlength=size).reshape(sizes[a], sizes[b])


def strong_pairs(real_cells: np.ndarray, sizes: np.ndarray, threshold: float = STRONG_ASSOCIATION) -> list:
    """Column pairs whose real cells are associated (Cramér's V above ``threshold``): the
    pairs SDMetrics' pair-trends score counts (|r| > 0.5 or V > 0.3), approximately."""
    n_cols = real_cells.shape[1]
    return [(a, b) for a in range(n_cols) for b in range(a + 1, n_cols)
            if cramers_v(_joint(real_cells, a, b, sizes)) > threshold]  # NaN (a constant column): no


def fidelity_score(real_cells: np.ndarray, fake_cells: np.ndarray, sizes: np.ndarray, pairs=None) -> float:
    """Mean of (1 - total variation) over the columns, averaged with the same over ``pairs``
    (default: every pair), in [0, 1]."""
    n_cols = real_cells.shape[1]
    scores = []
    for j in range(n_cols):
        p = np.bincount(real_cells[:, j], minlength=sizes[j]) / len(real_cells)
        q = np.bincount(fake_cells[:, j], minlength=sizes[j]) / len(fake_cells)
        scores.append(1 - 0.5 * np.abs(p - q).sum())
    if pairs is None:
        pairs = [(a, b) for a in range(n_cols) for b in range(a + 1, n_cols)]
    pair_scores = []
    for a, b in pairs:
        p = _joint(real_cells, a, b, sizes) / len(real_cells)
        q = _joint(fake_cells, a, b, sizes) / len(fake_cells)
        pair_scores.append(1 - 0.5 * np.abs(p - q).sum())
    shape = float(np.mean(scores))
    return shape if not pair_scores else 0.5 * (shape + float(np.mean(pair_scores)))


class BestGeneratorCallback(Callback):
    """Scores the generator every ``every`` epochs and keeps a copy of the best weights.

    Parameters
    ----------
    generator : torch.nn.Module
    sample_frame : callable
        ``sample_frame(n) -> DataFrame`` drawing from the current generator in eval mode.
    discretizer : Discretizer
    real_cells : ndarray (m, n_columns)
    every : int
    n_rows : int
    """

    def __init__(self, generator, sample_frame, discretizer: Discretizer, real_cells: np.ndarray,
                 every: int, n_rows: int, warmup: int = 0):
        self.generator = generator
        self.sample_frame = sample_frame
        self.discretizer = discretizer
        self.real_cells = real_cells
        # Only associated pairs count (as in SDMetrics' pair trends): the many unrelated pairs
        # score alike for every generator and would only add noise to the choice.
        self.pairs = strong_pairs(real_cells, discretizer.sizes) or None
        self.every = max(1, int(every))
        self.n_rows = n_rows
        self.warmup = warmup
        self.best_score = -np.inf
        self.best_epoch = None
        self.best_state = None
        self.scores: list[tuple[int, float]] = []

    def _check(self, epoch: int) -> None:
        fake = self.sample_frame(self.n_rows)
        score = fidelity_score(self.real_cells, self.discretizer.cells(fake), self.discretizer.sizes,
                               self.pairs)
        self.scores.append((epoch, score))
        logger.debug("epoch %d: validation fidelity %.4f", epoch, score)
        if score > self.best_score:
            self.best_score = score
            self.best_epoch = epoch
            self.best_state = copy.deepcopy(self.generator.state_dict())

    def on_train_begin(self, epochs: int) -> None:
        self.epochs = epochs

    def on_epoch_end(self, record) -> None:
        epoch = record.epoch + 1
        if epoch > self.warmup and (epoch % self.every == 0 or epoch == self.epochs):
            self._check(record.epoch)

    def restore(self) -> None:
        """Load the best weights into the generator (no-op if no check ran)."""
        if self.best_state is not None:
            self.generator.load_state_dict(self.best_state)
