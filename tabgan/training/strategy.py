"""How a fit trains: the plain strategy, and the hooks another strategy changes.

``Synthesizer.fit`` is one pipeline (schema, encoding, schedule, networks, training loop,
calibration, fitted state); what differs under differential privacy plugs in as a strategy
(:class:`tabgan.training.privacy.PrivateTraining`; data-parallel training wraps either, see
:mod:`tabgan.training.distributed`) through these hooks:

- ``schema``: the column kinds (under DP, from metadata and dtypes only, after the refusals);
- ``encode``: the fitted encoders, the encoded table and the frequencies behind the
  conditional sampler and the calibration (under DP, all from noisy releases);
- ``schedule``: batch, ``pac``, epochs and steps per epoch;
- ``sampler``: the conditional sampler training draws from;
- ``wrap_critic``: the critic module and its optimiser (under DP: opacus' per-sample gradients
  and a noisy optimiser);
- ``d_step``/``g_step``: the step functions; ``should_stop``: the stop rule;
- ``finish_calibration``: the calibration kept (under DP, with the two-way marginals' tilt);
- ``ledger``: what the fit reports as ``privacy_spent_``;
- ``session``/``place``/``once``/``shard``/``prepare``/``sync_generator``: where several
  processes train one model (:class:`tabgan.training.distributed.DataParallel`): the process
  group around the fit, each rank's device, work done by rank 0 alone and broadcast, each
  rank's share of the rows, the per-rank batch, stream and DDP wrappers, and rank 0's kept
  generator on every rank. In one process they do nothing.

A strategy receives the resolved settings (:class:`FitSettings`), never the estimator.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch

from .._random import numpy_generator
from ..calibration import mode_quantiles
from ..sampling import ConditionalSampler
from ..schema import Schema, infer_schema
from ..transformers import TableTransformer
from .loop import discriminator_step, generator_step, resolve_epochs

__all__ = ["FitSettings", "Encoded", "Schedule", "Training"]


@dataclass(frozen=True)
class FitSettings:
    """The parameter values a fit uses (defaults resolved), as the estimator hands them down."""

    epochs: int | None
    batch_size: int
    pac: int
    discriminator_steps: int
    discriminator_lr: float
    weight_decay: float
    gradient_penalty: float
    max_fit_rows: int
    numeric_encoding: str
    epsilon: float | None = None
    delta: float | None = None
    max_grad_norm: float = 1.0
    preprocessing_epsilon_share: float = 0.1
    calibrate: bool = True


@dataclass
class Encoded:
    """The encoded table and what the model keeps of it.

    ``level_probs``: every level column's frequencies; ``targets``: the calibration's target
    per code column; ``mode_targets``: its in-mode quantiles (under DP, those of the released histograms); ``n_rows``: the
    exact row count, None where it is private; ``row_count``: the count, or its DP estimate.
    """

    schema: Schema
    transformer: TableTransformer
    floats: np.ndarray
    codes: np.ndarray
    level_probs: list
    targets: list
    mode_targets: dict | None
    n_rows: int | None
    row_count: float


@dataclass(frozen=True)
class Schedule:
    """Rows per step (expected rows under Poisson sampling), ``pac``, epochs, steps per epoch."""

    batch: int
    pac: int
    epochs: int
    steps_per_epoch: int


class Training:
    """Plain training (WGAN-GP, training-by-sampling): the default strategy.

    Attributes
    ----------
    seed_names : tuple of str
        The child seeds a fit spawns from its ``random_state``, in order (a strategy may need
        more; the order keeps seeded fits reproducible).
    private : bool
        Whether the fit is differentially private (no validation check, no dependency rules,
        no checkpoints, no plan printed with the row count).
    """

    seed_names = ("encode", "init", "train", "sample", "check", "calibrate")
    private = False
    #: Whether this process is the one that checks, calibrates, announces and writes files.
    main = True
    world_size = 1
    d_step = staticmethod(discriminator_step)
    g_step = staticmethod(generator_step)

    def __init__(self, settings: FitSettings):
        self.settings = settings

    def schema(self, data, metadata, discrete_columns) -> Schema:
        return infer_schema(data, metadata, discrete_columns)

    def encode(self, data, schema: Schema, seeds: dict) -> Encoded:
        """Fit the encoders on the table and encode it; frequencies are exact counts."""
        rng = numpy_generator(seeds["encode"])
        transformer = TableTransformer(schema, max_fit_rows=self.settings.max_fit_rows,
                                       numeric_encoding=self.settings.numeric_encoding).fit(data, rng)
        floats, codes = transformer.transform(data, rng)
        layout = transformer.layout_
        n = len(data)
        # The frequency of every level and every numeric mode (counts, no rows): the level
        # columns' mask unseen levels and, for the conditioned ones, drive the conditional
        # sampler; all are calibration targets.
        code_freqs = [np.bincount(codes[:, j], minlength=int(w)) / n for j, w in enumerate(layout.code_widths)]
        level_probs = [code_freqs[j] for j in np.flatnonzero(layout.discrete)]
        return Encoded(schema, transformer, floats, codes, level_probs, code_freqs,
                       mode_quantiles(floats, codes, transformer.mode_floats()), n, float(n))

    def schedule(self, encoded: Encoded) -> Schedule:
        n = encoded.n_rows
        pac = int(min(self.settings.pac, n))
        # At most a quarter of the table, so that even a small table gets several steps per epoch.
        batch = min(self.settings.batch_size, max(n // 4, pac))
        # A multiple of pac, and at least two rows (batch normalisation needs two).
        batch = max(2 * pac, batch - batch % pac)
        epochs, steps_per_epoch = resolve_epochs(n, batch, self.settings.epochs)
        return Schedule(batch, pac, epochs, steps_per_epoch)

    def sampler(self, cond_probs: list, cond_codes: torch.Tensor, device, target: int | None = None
                ) -> ConditionalSampler:
        """Training-by-sampling over the real rows' level codes, ``target`` (a condition column's
        index, see :class:`ConditionalSampler`) taking its share of the draws."""
        return ConditionalSampler(cond_probs, device, codes=cond_codes, target=target)

    def gradient_penalty(self) -> float:
        return float(self.settings.gradient_penalty)

    def wrap_critic(self, discriminator, device, seeds: dict):
        """The critic the loop trains and its optimiser (Adam, betas (0.5, 0.9) as CTGAN)."""
        opt = torch.optim.Adam(discriminator.parameters(), lr=self.settings.discriminator_lr, betas=(0.5, 0.9),
                               weight_decay=self.settings.weight_decay)
        return discriminator, opt

    def unwrap_critic(self, critic):
        return critic

    def finish_calibration(self, parts, encoded: Encoded, calibration, seeds: dict, make_pool):
        """The calibration the model keeps, given the one fitted on its 1-way targets (under
        DP, with the tilt towards noisy two-way marginals added); ``make_pool(seed)`` gives the codes
        of rows generated with ``calibration``."""
        return calibration

    @property
    def accountant(self):
        """The privacy accountant the loop reports epsilon from (None: no privacy)."""
        return None

    def should_stop(self):
        """A callable asked before every critic step, or None: train every planned step."""
        return None

    def ledger(self, encoded: Encoded) -> dict | None:
        """``privacy_spent_``: None without differential privacy."""
        return None

    def dp_release(self):
        """What the fit keeps of the private releases (None without differential privacy)."""
        return None

    # ------------------------------------------------------------ several processes (none here)
    def session(self):
        """A context the whole fit runs in (a data-parallel fit's process group)."""
        return contextlib.nullcontext()

    def place(self, device):
        """The device this process trains on."""
        return device

    def once(self, fn):
        """``fn()``, computed once for all processes."""
        return fn()

    def shard(self, encoded: Encoded, seeds: dict) -> Encoded:
        """The rows this process trains on: all of them."""
        return encoded

    def prepare(self, state, callbacks: list, start: int = 0) -> None:
        """Last changes to the training state and callbacks before the loop runs."""

    def sync_generator(self, generator) -> None:
        """Make every process's generator the kept one (one process: nothing to do)."""
