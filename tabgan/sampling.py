"""Conditional vectors and training-by-sampling, vectorised on the device.

CTGAN's training-by-sampling (Xu et al. 2019): pick a conditional-vector column (a categorical
or boolean column of at most ``WIDE_LEVELS`` levels) uniformly (with a target column, which
the metadata may name, ``TARGET_SHARE`` of the draws take it), pick one of
its levels (by log-frequency during training so rare levels are seen, by frequency when
generating so marginals come out right), and draw a real row holding that level. Row lookup
uses, per discrete column, the row indices sorted by level plus per-level start offsets, so a
batch of rows costs one gather, with no per-row Python loop and no host-device copy.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["ConditionalSampler", "expand_codes", "TARGET_SHARE"]

#: With a target column (metadata ``"target"``), this share of the condition vectors, in
#: training and in generation, condition on it; the others pick a column uniformly as before.
TARGET_SHARE = 0.5


def expand_codes(floats: torch.Tensor, codes: torch.Tensor, float_positions: torch.Tensor,
                 code_offsets: torch.Tensor, width: int) -> torch.Tensor:
    """Build the expanded (B, width) matrix from compact ``floats`` (B, F) and ``codes`` (B, C)."""
    out = torch.zeros(floats.shape[0], width, dtype=floats.dtype, device=floats.device)
    if float_positions.numel():
        out[:, float_positions] = floats
    if code_offsets.numel():
        out.scatter_(1, codes + code_offsets, 1.0)
    return out


class ConditionalSampler:
    """Draw conditional vectors and matching real rows.

    Parameters
    ----------
    level_probs : list of ndarray
        For each conditional-vector column, the probability of each level when *generating*
        (the level frequencies; under DP, noised frequencies). Each column's offset inside the
        conditional vector follows from the widths (``cond_offsets``).
    device : torch.device
    codes : Tensor (n, D), optional
        The real rows' level codes of the conditional-vector columns, needed for
        training-by-sampling only (never saved with the model).
    target : int, optional
        Index of the target column among the conditional-vector columns: ``TARGET_SHARE`` of
        the draws condition on it, so the generator learns the other columns given the target
        (what a model trained on the synthetic rows predicts) from more batches.
    """

    def __init__(self, level_probs: list[np.ndarray], device: torch.device, codes: torch.Tensor | None = None,
                 target: int | None = None):
        self.device = device
        self.n_columns = len(level_probs)
        self.target = None if target is None else int(target)
        widths = np.asarray([len(p) for p in level_probs], dtype=np.int64)
        self.widths = torch.as_tensor(widths, device=device)
        self.cond_offsets = torch.as_tensor(np.concatenate([[0], np.cumsum(widths)[:-1]]) if len(widths) else
                                            np.zeros(0, np.int64), device=device)
        self.cond_width = int(widths.sum())
        max_w = int(widths.max()) if len(widths) else 0
        freq = np.zeros((self.n_columns, max_w))
        for j, p in enumerate(level_probs):
            freq[j, : len(p)] = p
        self.freq = torch.as_tensor(freq, dtype=torch.float32, device=device)
        self.level_probs = [np.asarray(p, dtype=np.float64) for p in level_probs]
        self.codes = None
        if codes is not None:
            self._index_rows(codes)

    def _index_rows(self, codes: torch.Tensor) -> None:
        n = codes.shape[0]
        self.n_rows = n
        self.codes = codes
        orders, starts, counts = [], [], []
        for j in range(self.n_columns):
            col = codes[:, j]
            orders.append(torch.argsort(col, stable=True))
            cnt = torch.bincount(col, minlength=int(self.widths[j]))
            counts.append(cnt)
            starts.append(torch.cumsum(cnt, 0) - cnt + j * n)
        self.row_order = torch.cat(orders) if orders else torch.zeros(0, dtype=torch.long, device=self.device)
        max_w = self.freq.shape[1]
        self.level_start = torch.zeros(self.n_columns, max_w, dtype=torch.long, device=self.device)
        self.level_count = torch.zeros(self.n_columns, max_w, dtype=torch.long, device=self.device)
        for j in range(self.n_columns):
            w = int(self.widths[j])
            self.level_start[j, :w] = starts[j]
            self.level_count[j, :w] = counts[j]
        # Training-by-sampling draws levels by log-frequency among levels present in the rows.
        present = self.level_count > 0
        self.train_probs = torch.where(present, torch.log1p(self.level_count.float()), torch.zeros(()))

    # ---------------------------------------------------------------- drawing
    def _cond(self, col: torch.Tensor, level: torch.Tensor) -> torch.Tensor:
        cond = torch.zeros(col.shape[0], self.cond_width, device=self.device)
        cond[torch.arange(col.shape[0], device=self.device), self.cond_offsets[col] + level] = 1.0
        return cond

    def _columns(self, batch: int, generator: torch.Generator) -> torch.Tensor:
        """The column each condition vector is drawn for: uniform, or the target's share on the target."""
        col = torch.randint(0, self.n_columns, (batch,), device=self.device, generator=generator)
        if self.target is None:
            return col
        on_target = torch.rand(batch, device=self.device, generator=generator) < TARGET_SHARE
        return torch.where(on_target, torch.full_like(col, self.target), col)

    def sample_train(self, batch: int, generator: torch.Generator):
        """Conditional vectors for a training batch and the real rows that match them.

        Returns
        -------
        cond : Tensor (B, cond_width)
        col, level : Tensor (B,)  the chosen discrete column and level
        rows : Tensor (B,)  indices of real rows holding that level
        """
        col = self._columns(batch, generator)
        level = torch.multinomial(self.train_probs[col], 1, generator=generator).squeeze(1)
        u = torch.rand(batch, device=self.device, generator=generator)
        count = self.level_count[col, level]
        pick = self.level_start[col, level] + (u * count).long().clamp(max=count - 1)
        rows = self.row_order[pick]
        return self._cond(col, level), col, level, rows

    def sample_generation(self, batch: int, generator: torch.Generator):
        """Conditional vectors for generating rows, levels drawn by frequency."""
        col = self._columns(batch, generator)
        level = torch.multinomial(self.freq[col], 1, generator=generator).squeeze(1)
        return self._cond(col, level), col, level

    def fixed(self, batch: int, column: int, level: int) -> torch.Tensor:
        col = torch.full((batch,), column, dtype=torch.long, device=self.device)
        lev = torch.full((batch,), level, dtype=torch.long, device=self.device)
        return self._cond(col, lev)

    def cond_from_rows(self, rows: torch.Tensor, generator: torch.Generator):
        """Conditional vectors read from the rows themselves (one random discrete column each).

        Used under DP, where real rows are Poisson-sampled uniformly rather than by level.
        """
        col = torch.randint(0, self.n_columns, (rows.shape[0],), device=self.device, generator=generator)
        level = self.codes[rows, col]
        return self._cond(col, level), col, level
