"""An exponential moving average of the generator's weights, the generator a fit keeps.

A GAN's generator oscillates around the equilibrium step after step; the average of its
recent weights sits nearer the middle of the oscillation (Yazıcı et al. 2019, "The unusual
effectiveness of averaging in GAN training"). The average is a second copy of the generator,
updated after every generator step, that the training never reads: the critic still plays
against the raw generator. The validation check (``keep_best``), the calibration and sampling
use the average.

Normalisation statistics (BatchNorm's running mean and variance) are averaged like the
weights; integer buffers (the batch counter) are copied.
"""

from __future__ import annotations

import copy

import torch

__all__ = ["WeightAverage"]


class WeightAverage:
    """``module``'s parameters and buffers averaged over the steps, with decay ``decay``.

    The first updates average with a smaller decay, ``min(decay, (1 + t) / (10 + t))`` at update
    ``t``, so that the average is not held back by the initial weights.

    Parameters
    ----------
    module : torch.nn.Module
        The network being trained; read, never changed.
    decay : float
        In (0, 1): the weight of the old average at each update (0.995: about the last 200 steps).
    """

    def __init__(self, module: torch.nn.Module, decay: float):
        self.decay = float(decay)
        self.module = copy.deepcopy(module)
        self.module.requires_grad_(False)
        self.updates = 0
        # state_dict() tensors share storage with the parameters and buffers, which the
        # optimiser and the forward passes change in place.
        source = module.state_dict()
        average = self.module.state_dict()
        self._floats = [(average[k], v) for k, v in source.items() if v.dtype.is_floating_point]
        self._others = [(average[k], v) for k, v in source.items() if not v.dtype.is_floating_point]

    @torch.no_grad()
    def update(self) -> None:
        """Move the average towards the module's current weights (after each generator step)."""
        self.updates += 1
        t = self.updates
        weight = 1.0 - min(self.decay, (1.0 + t) / (10.0 + t))
        if self._floats:
            torch._foreach_lerp_([a for a, _ in self._floats], [s for _, s in self._floats], weight)
        for a, s in self._others:
            a.copy_(s)

    def state_dict(self) -> dict:
        """The averaged weights and the update count (for checkpoints)."""
        return {"module": self.module.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        self.module.load_state_dict(state["module"])
        self.updates = int(state["updates"])
