"""The adversarial training loop, made of small step functions.

Everything a step needs lives in :class:`TrainingState`; the real table sits on the device in
compact form (floats + level codes) and batches are drawn there.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch

from ..nn.losses import (condition_loss, critic_loss, generator_adversarial_loss, gradient_penalty,
                         projected_gradient_penalty)
from ..nn.modules import Discriminator, Generator, OutputHead
from ..nn.wide import NarrowLayout, relaxed_mixture_sample
from ..nn.precision import autocast
from ..sampling import ConditionalSampler, expand_codes
from .callbacks import Callback, EpochRecord

__all__ = ["TrainingState", "discriminator_step", "generator_step", "train", "resolve_epochs", "widest_condition"]

#: Without an explicit ``epochs``, training runs about this many generator steps (bounded to
#: [MIN_EPOCHS, MAX_EPOCHS] epochs): small tables get many passes, large ones fewer. The floor
#: of 3 passes governs above about 1.07M rows (batch 500); a 1M-row table gets 3 epochs (6,000
#: steps), where its figures matched adult's at the defaults (``benchmarks/speed.py --sections
#: budget``; the former floor of 10 epochs spent 20,000 steps there).
AUTO_STEPS = 6400
MIN_EPOCHS = 3
MAX_EPOCHS = 1000


def resolve_epochs(n_rows: int, batch: int, epochs: int | None) -> tuple[int, int]:
    """Epochs and steps per epoch for ``n_rows`` rows in batches of ``batch``: ``epochs``, or
    about ``AUTO_STEPS`` generator steps when it is None."""
    steps_per_epoch = max(1, n_rows // batch)
    if epochs is not None:
        return int(epochs), steps_per_epoch
    return int(np.clip(round(AUTO_STEPS / steps_per_epoch), MIN_EPOCHS, MAX_EPOCHS)), steps_per_epoch


@dataclass
class TrainingState:
    generator: Generator
    discriminator: Discriminator
    head: OutputHead
    opt_g: torch.optim.Optimizer
    opt_d: torch.optim.Optimizer
    sampler: ConditionalSampler
    floats: torch.Tensor          # (n, F) real rows, on the device
    codes: torch.Tensor           # (n, C)
    float_positions: torch.Tensor
    code_offsets: torch.Tensor
    cond_span_offsets: torch.Tensor  # expanded offsets of the conditioned spans (D,)
    cond_span_widths: torch.Tensor
    width: int
    embedding_dim: int
    batch_size: int
    pac: int
    gp_weight: float
    rng: torch.Generator
    discriminator_steps: int = 1
    gp_share: float = 1.0           # share of the batch the gradient penalty is estimated on
    privacy: object | None = None   # a PrivacyEngine-like hook, see training/privacy.py
    extra: dict = field(default_factory=dict)
    #: ``torch.bfloat16`` runs the networks' forward passes under autocast (mixed precision:
    #: matrix products in bfloat16, the output head, losses and optimiser in float32); None: float32.
    autocast_dtype: torch.dtype | None = None
    #: The moving average of the generator's weights (:class:`tabgan.training.averaging.WeightAverage`),
    #: updated after every generator step; None: the fit keeps the raw generator.
    average: object | None = None

    @property
    def device(self) -> torch.device:
        return self.floats.device

    @property
    def n_rows(self) -> int:
        return self.floats.shape[0]


def _noise(state: TrainingState, batch: int) -> torch.Tensor:
    return torch.randn(batch, state.embedding_dim, device=state.device, generator=state.rng)


def draw_conditions(state: TrainingState, batch: int):
    """Condition vectors plus matching real row indices (training-by-sampling)."""
    if state.sampler.n_columns == 0:
        rows = torch.randint(0, state.n_rows, (batch,), device=state.device, generator=state.rng)
        empty = torch.zeros(batch, 0, device=state.device)
        return empty, None, None, rows
    return state.sampler.sample_train(batch, state.rng)


def real_batch(state: TrainingState, rows: torch.Tensor) -> torch.Tensor:
    return expand_codes(state.floats[rows], state.codes[rows], state.float_positions, state.code_offsets,
                        state.width)


def generate(state: TrainingState, cond: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Raw generator outputs and their activated form for the given conditions."""
    raw = state.generator(torch.cat([_noise(state, cond.shape[0]), cond], dim=1)).float()
    return raw, state.head(raw, state.rng)


def discriminator_step(state: TrainingState) -> torch.Tensor:
    """One WGAN-GP critic update; returns the critic loss (without the penalty).

    The fake batch is generated with its graph kept and handed to the next
    :func:`generator_step`, which then needs no generator forward pass of its own (as in the
    DCGAN reference loop): the generator's forward pass is the largest cost of a step.
    A table with wide spans takes :func:`wide_discriminator_step`.
    """
    plan = wide_plan(state)
    if plan is not None:
        return wide_discriminator_step(state, plan)
    cond, col, level, rows = draw_conditions(state, state.batch_size)
    real = real_batch(state, rows)
    with autocast(state.device, state.autocast_dtype):
        raw, fake_graph = generate(state, cond)
        state.extra["pending"] = (cond, col, level, raw, fake_graph)
        fake = fake_graph.detach()
        real_in = torch.cat([real, cond], dim=1)
        fake_in = torch.cat([fake, cond], dim=1)
        loss = critic_loss(state.discriminator(real_in).float(), state.discriminator(fake_in).float())
        total = loss
        if state.gp_weight > 0:
            total = loss + gradient_penalty(state.discriminator, real_in, fake_in, state.pac, state.rng,
                                            state.gp_weight, state.gp_share)
    state.opt_d.zero_grad(set_to_none=True)
    total.backward()
    state.opt_d.step()
    # Left on the device: converting here would force a host-device sync every step on CUDA;
    # train() converts the epoch's sum once.
    return loss.detach()


def widest_condition(state: TrainingState) -> int:
    """The widest conditioned span, read from the device once per fit, not once per step (on
    CUDA each read waits for the device)."""
    if "cond_max_width" not in state.extra:
        state.extra["cond_max_width"] = int(state.cond_span_widths.max())
    return state.extra["cond_max_width"]


def generator_step(state: TrainingState) -> torch.Tensor:
    """One generator update: fool the critic and honour the condition vector (a table with
    wide spans: :func:`wide_generator_step`)."""
    plan = wide_plan(state)
    if plan is not None:
        return wide_generator_step(state, plan)
    pending = state.extra.pop("pending", None)
    if pending is not None:
        cond, col, level, raw, fake = pending
    else:
        cond, col, level, _ = draw_conditions(state, state.batch_size)
        with autocast(state.device, state.autocast_dtype):
            raw, fake = generate(state, cond)
    with _frozen(state.discriminator), autocast(state.device, state.autocast_dtype):
        scores = state.discriminator(torch.cat([fake, cond], dim=1)).float()
    return _generator_update(state, scores, raw, col, level, state.cond_span_offsets)


def _generator_update(state: TrainingState, scores: torch.Tensor, raw: torch.Tensor, col, level,
                      cond_span_offsets: torch.Tensor) -> torch.Tensor:
    """The generator's loss (fool the critic, honour the condition vector: the conditioned
    spans of ``raw`` sit at ``cond_span_offsets``) and its step."""
    loss = generator_adversarial_loss(scores)
    if col is not None:
        loss = loss + condition_loss(raw, col, level, cond_span_offsets, state.cond_span_widths,
                                     widest_condition(state))
    state.opt_g.zero_grad(set_to_none=True)
    loss.backward()
    state.opt_g.step()
    # Left on the device: converting here would force a host-device sync every step on CUDA;
    # train() converts the epoch's sum once.
    return loss.detach()


@contextmanager
def _frozen(critic):
    """The critic's own weight gradients are not needed in a generator step (its step clears
    them anyway): freezing it spares their computation in the backward pass."""
    params = [p for p in critic.parameters() if p.requires_grad]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p in params:
            p.requires_grad_(True)


# --------------------------------------------------------------------------- wide spans
@dataclass
class WidePlan:
    """Where the narrow and wide parts of a table with wide spans sit, for the steps that never
    expand a wide span to full width.

    ``narrow`` coordinates are the expanded vector's without the wide spans' units.
    """

    narrow_codes: torch.Tensor       # code columns of the narrow softmax spans
    wide_codes: list                 # code column of each wide span
    float_positions: torch.Tensor    # tanh units, in narrow coordinates
    code_offsets: torch.Tensor       # the narrow softmax spans' offsets, in narrow coordinates
    cond_span_offsets: torch.Tensor  # the conditioned spans' offsets, in narrow coordinates
    width: int                       # narrow units
    head: OutputHead                 # activations of the narrow units


def wide_plan(state: TrainingState) -> WidePlan | None:
    """The plan of :func:`wide_discriminator_step` when the state's networks are the bare
    modules with a mixture head for wide spans, else None: then the steps expand every span
    (a table without wide spans; a model whose networks are wrapped, data-parallel or under
    differential privacy; the factor head of old models)."""
    gen, critic = state.generator, state.discriminator
    if not (type(gen) is Generator and gen.wide and gen.head == "mixture" and type(critic) is Discriminator
            and critic.wide == gen.wide):
        return None
    if "wide_plan" not in state.extra:
        head, device = state.head, state.device
        narrow = NarrowLayout.of(state.width, head.float_positions.cpu().numpy(), head.code_offsets,
                                 head.code_widths, gen.wide)
        state.extra["wide_plan"] = WidePlan(
            narrow_codes=torch.as_tensor(narrow.code_columns, device=device),
            wide_codes=narrow.wide_columns,
            float_positions=torch.as_tensor(narrow.float_positions, device=device),
            code_offsets=torch.as_tensor(narrow.code_offsets, device=device),
            cond_span_offsets=torch.as_tensor(narrow.narrow(state.cond_span_offsets.cpu().numpy()), device=device),
            width=narrow.width,
            head=OutputHead(torch.as_tensor(narrow.float_positions, device=device), narrow.code_offsets.tolist(),
                            narrow.code_widths.tolist(), head.tau))
    return state.extra["wide_plan"]


def wide_real_batch(state: TrainingState, plan: WidePlan, rows: torch.Tensor) -> tuple[torch.Tensor, list]:
    """Real rows as the narrow units (B, plan.width) and each wide span's level codes (B,)."""
    codes = state.codes[rows]
    narrow = expand_codes(state.floats[rows], codes[:, plan.narrow_codes], plan.float_positions, plan.code_offsets,
                          plan.width)
    return narrow, [codes[:, j] for j in plan.wide_codes]


def wide_generate(state: TrainingState, plan: WidePlan, cond: torch.Tensor):
    """Raw narrow outputs, their activated form (B, plan.width), and each wide span's
    Gumbel-softmax sample as ``(index, weight)`` (:func:`tabgan.nn.wide.relaxed_mixture_sample`)."""
    raw, log_weights, log_levels = state.generator.split(torch.cat([_noise(state, cond.shape[0]), cond], dim=1))
    raw = raw.float()
    wide = [relaxed_mixture_sample(w, lv, plan.head.tau, state.rng) for w, lv in zip(log_weights, log_levels)]
    return raw, plan.head(raw, state.rng), wide


def wide_discriminator_step(state: TrainingState, plan: WidePlan) -> torch.Tensor:
    """:func:`discriminator_step` of a table with wide spans, which never holds a wide span at
    full width: the critic projects real rows' levels by a lookup of its projection's columns
    and fake rows' relaxed samples by the few levels they weigh, and the gradient penalty is
    taken through the projections (:func:`tabgan.nn.losses.projected_gradient_penalty`)."""
    cond, col, level, rows = draw_conditions(state, state.batch_size)
    real_narrow, real_levels = wide_real_batch(state, plan, rows)
    critic = state.discriminator
    with autocast(state.device, state.autocast_dtype):
        raw, fake_narrow, fake_wide = wide_generate(state, plan, cond)
        state.extra["pending_wide"] = (cond, col, level, raw, fake_narrow, fake_wide)
        real = (torch.cat([real_narrow, cond], dim=1), real_levels)
        fake = (torch.cat([fake_narrow.detach(), cond], dim=1), [(i, w.detach()) for i, w in fake_wide])
        loss = critic_loss(critic.score(critic.embed(*real)).float(), critic.score(critic.embed(*fake)).float())
        total = loss
        if state.gp_weight > 0:
            total = loss + projected_gradient_penalty(critic, real, fake, state.pac, state.rng, state.gp_weight,
                                                      state.gp_share)
    state.opt_d.zero_grad(set_to_none=True)
    total.backward()
    state.opt_d.step()
    return loss.detach()


def wide_generator_step(state: TrainingState, plan: WidePlan) -> torch.Tensor:
    """:func:`generator_step` of a table with wide spans (see :func:`wide_discriminator_step`)."""
    pending = state.extra.pop("pending_wide", None)
    if pending is not None:
        cond, col, level, raw, fake_narrow, fake_wide = pending
    else:
        cond, col, level, _ = draw_conditions(state, state.batch_size)
        with autocast(state.device, state.autocast_dtype):
            raw, fake_narrow, fake_wide = wide_generate(state, plan, cond)
    critic = state.discriminator
    with _frozen(critic), autocast(state.device, state.autocast_dtype):
        scores = critic.score(critic.embed(torch.cat([fake_narrow, cond], dim=1), fake_wide)).float()
    return _generator_update(state, scores, raw, col, level, plan.cond_span_offsets)


def train(state: TrainingState, epochs: int, steps_per_epoch: int, callbacks: list[Callback],
          d_step=discriminator_step, g_step=generator_step, should_stop=None) -> int:
    """Run the adversarial game; returns the number of epochs completed.

    ``should_stop()`` is asked before every discriminator step (the privacy hook uses it to stop
    exactly when the budget is spent, never after).
    """
    state.generator.train()
    state.discriminator.train()
    for cb in callbacks:
        cb.on_train_begin(epochs)
    done = 0
    stopped = False
    try:
        for epoch in range(epochs):
            start = time.perf_counter()
            g_total = d_total = 0.0
            steps = 0
            for _ in range(steps_per_epoch):
                if should_stop is not None and should_stop():
                    stopped = True
                    break
                for _ in range(state.discriminator_steps):
                    d_total += d_step(state)
                g_total += g_step(state)
                if state.average is not None:
                    state.average.update()
                steps += 1
            if steps:
                eps = state.privacy.epsilon_spent() if state.privacy is not None else None
                record = EpochRecord(epoch, float(g_total) / steps,
                                     float(d_total) / (steps * state.discriminator_steps),
                                     time.perf_counter() - start, eps)
                for cb in callbacks:
                    cb.on_epoch_end(record)
                done += 1
            if stopped:
                break
    finally:
        for cb in callbacks:
            cb.on_train_end()
    return done
