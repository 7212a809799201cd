"""Differentially private training as a strategy of the one fit: refusals, the DP-SGD steps,
the private critic, and the strategy that plugs them in (:class:`PrivateTraining`).

This is the only module that imports opacus' training parts, and it is imported only when
``epsilon`` is set. The budget arithmetic is in :mod:`tabgan.training.accounting`, the
empirical audit in :mod:`tabgan.training.audit`. See ``docs/privacy.md`` for the threat model
and the accounting.
"""

from __future__ import annotations

import logging
import math
import numbers
import warnings
from dataclasses import replace

import numpy as np
import torch

from .._random import numpy_generator, torch_generator
from ..exceptions import PrivacyConfigError
from ..nn.losses import condition_loss, generator_adversarial_loss
from ..privacy_preprocessing import build, plan_releases, private_frame, release
from ..sampling import ConditionalSampler
from ..schema import Schema, infer_schema, parse_metadata
from ..transformers import TableTransformer
from ..transformers.numeric import NumericTransformer
from ..marginals import grouped, measure_in_rounds, pair_groups, pair_resolution
from .accounting import PAIR_COUNTS, PrivacyAccountant, PrivacyPlan, noise_for
from .loop import TrainingState, generate, real_batch, resolve_epochs, widest_condition
from .strategy import Encoded, FitSettings, Schedule, Training

try:  # opacus is an optional dependency (extra "dp")
    from opacus import GradSampleModule
    from opacus.optimizers import DPOptimizer
    from opacus.validators import ModuleValidator
except ImportError:  # pragma: no cover - exercised by the refusal test with opacus hidden
    GradSampleModule = None

__all__ = ["PrivateTraining", "check_config", "make_private_discriminator", "dp_discriminator_step",
           "dp_generator_step"]

logger = logging.getLogger("tabgan")

#: A plan needing more noise than this (per unit of clipping norm) is refused as hopeless.
MAX_NOISE_MULTIPLIER = 50.0

#: Fewest rows a DP fit accepts.
MIN_ROWS = 100



# --------------------------------------------------------------------------- refusals


def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)


def check_config(settings: FitSettings, n_rows: int | None) -> None:
    """Raise :class:`PrivacyConfigError` listing every DP setting that cannot be honoured."""
    est = settings
    problems = []
    eps, delta = est.epsilon, est.delta
    if not _is_number(eps) or eps <= 0:
        problems.append(f"epsilon must be a positive finite number; got {eps!r}.")
    if delta is None:
        problems.append("delta is missing: pass delta=..., well below 1/n_rows (1e-5 or 1/n_rows**1.1 are usual).")
    elif not _is_number(delta) or delta <= 0:
        problems.append(f"delta must be a positive number below 1/n_rows; got {delta!r}.")
    elif n_rows is not None and delta >= 1.0 / n_rows:
        problems.append(f"delta={delta!r} is not below 1/n_rows = {1.0 / n_rows:.3g} (n_rows={n_rows}): such a "
                        "delta allows releasing a whole row; use e.g. delta=1/n_rows**1.1.")
    gp = est.gradient_penalty
    if gp is not None and _is_number(gp) and gp > 0:
        problems.append(f"gradient_penalty={gp!r} cannot be used with DP-SGD (its double backward has no "
                        "per-sample gradients in opacus); pass gradient_penalty=0 or leave it at None, which "
                        "means no penalty under DP.")
    if est.pac != 1:
        problems.append(f"pac={est.pac!r}: under DP the discriminator scores one row at a time (the privacy unit "
                        "is one row, and Poisson sampling does not form fixed groups); pass pac=1 or leave the default.")
    share = est.preprocessing_epsilon_share
    if not _is_number(share) or not 0 < share < 1:
        problems.append(f"preprocessing_epsilon_share must be in (0, 1); got {share!r}.")
    if not _is_number(est.max_grad_norm) or est.max_grad_norm <= 0:
        problems.append(f"max_grad_norm must be a positive number; got {est.max_grad_norm!r}.")
    if n_rows is not None and n_rows < MIN_ROWS:
        problems.append(f"the table has {n_rows} rows; differentially private training needs at least {MIN_ROWS} "
                        "(the noise would drown everything). Use more rows or train without epsilon.")
    if GradSampleModule is None:
        problems.append("opacus is not installed; differentially private training needs it (the dp extra): "
                        "pip install 'opacus>=1.5', or from a clone of tabgan: pip install -e \".[dp]\"")
    if problems:
        raise PrivacyConfigError("Cannot train with differential privacy:\n  - " + "\n  - ".join(problems))


def _check_budget(est: FitSettings, plan: PrivacyPlan, n_rows: int) -> None:
    """Refuse a budget too small for the table before any mechanism runs (uses the true row
    count, as the other refusals: only the data owner sees the error)."""
    batch, q, epochs, spe = _schedule(est, float(n_rows))
    steps = epochs * spe * int(est.discriminator_steps)
    sigma = noise_for(q, steps, plan.rdp_preprocessing, plan.epsilon, plan.delta_conversion)
    if sigma > MAX_NOISE_MULTIPLIER:
        raise PrivacyConfigError(
            "Cannot train with differential privacy:\n  - too few rows for the budget: with "
            f"{n_rows} rows, epsilon={est.epsilon} and {steps} planned steps the noise multiplier would be "
            f"{sigma:.3g} (> {MAX_NOISE_MULTIPLIER}). Use more rows, a larger epsilon or fewer epochs.")


# --------------------------------------------------------------------------- steps


def _schedule(est: FitSettings, n_hat: float) -> tuple[int, float, int, int]:
    """Batch (expected real rows per step), sampling rate, epochs and steps per epoch."""
    n = max(int(round(n_hat)), 1)
    batch = max(1, min(int(est.batch_size), n))
    epochs, spe = resolve_epochs(n, batch, est.epochs)
    return batch, min(1.0, batch / max(n_hat, 1.0)), epochs, spe


def _conditions(state: TrainingState, batch: int):
    if state.sampler.n_columns == 0:
        return torch.zeros(batch, 0, device=state.device), None, None
    return state.sampler.sample_generation(batch, state.rng)


def dp_discriminator_step(state: TrainingState) -> torch.Tensor:
    """One DP-SGD critic update: Poisson-sampled real rows (conditions read from the rows),
    as many fakes as the expected batch, one forward and one backward over both."""
    acc: PrivacyAccountant = state.privacy
    take = torch.rand(state.n_rows, device=state.device, generator=state.rng) < acc.sample_rate
    rows = take.nonzero().squeeze(1)
    real = real_batch(state, rows)
    if state.sampler.n_columns:
        cond_real = state.sampler.cond_from_rows(rows, state.rng)[0]
    else:
        cond_real = torch.zeros(rows.numel(), 0, device=state.device)
    cond_fake = _conditions(state, state.batch_size)[0]
    with torch.no_grad():
        _, fake = generate(state, cond_fake)
    x = torch.cat([torch.cat([real, cond_real], dim=1), torch.cat([fake, cond_fake], dim=1)])
    scores = state.discriminator(x).squeeze(1)
    sign = torch.cat([-torch.ones(rows.numel(), device=state.device), torch.ones(state.batch_size, device=state.device)])
    loss = (sign * scores).mean()  # opacus' "mean": per-sample gradients are those of sign * score
    state.opt_d.zero_grad(set_to_none=True)
    with warnings.catch_warnings():  # opacus' hooks on inputs that need no gradient: expected
        warnings.filterwarnings("ignore", message="Full backward hook is firing", category=UserWarning)
        loss.backward()
    state.opt_d.step()  # counted by the accountant's step hook (see PrivateTraining.wrap_critic)
    # Left on the device, as the plain steps' losses: train() converts the epoch's sum once.
    with torch.no_grad():
        n_real = max(rows.numel(), 1)
        return scores[rows.numel():].mean() - scores[: rows.numel()].sum() / n_real


def dp_generator_step(state: TrainingState) -> torch.Tensor:
    """Generator update; conditions drawn by the *noisy* level frequencies.  opacus' hooks are
    off during it, and whatever gradients it leaves on the discriminator are cleared."""
    gsm = state.discriminator
    gsm.disable_hooks()
    try:
        cond, col, level = _conditions(state, state.batch_size)
        raw, fake = generate(state, cond)
        loss = generator_adversarial_loss(gsm(torch.cat([fake, cond], dim=1)))
        if col is not None:
            loss = loss + condition_loss(raw, col, level, state.cond_span_offsets, state.cond_span_widths,
                                         widest_condition(state))
        state.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        state.opt_g.step()
    finally:
        gsm.enable_hooks()
        state.opt_d.zero_grad(set_to_none=True)
        for p in gsm.parameters():
            p.grad_sample = None
    return loss.detach()


def make_private_discriminator(discriminator, *, lr: float, noise_multiplier: float, max_grad_norm: float,
                               expected_batch_size: int, noise_generator: torch.Generator):
    """Wrap the critic for per-sample gradients and give it a DP optimizer (Adam inside).

    Noise comes from ``noise_generator`` (reproducible); ``secure_mode`` stays off, see the
    docs for that trade-off."""
    # opacus' own check that every layer has per-sample gradients (no BatchNorm): it names the
    # layers it refuses, where a wrong module would otherwise give wrong gradients.
    ModuleValidator.validate(discriminator, strict=True)
    gsm = GradSampleModule(discriminator, batch_first=True, loss_reduction="mean")
    adam = torch.optim.Adam(gsm.parameters(), lr=lr, betas=(0.5, 0.9))
    opt = DPOptimizer(adam, noise_multiplier=noise_multiplier, max_grad_norm=max_grad_norm,
                      expected_batch_size=expected_batch_size, loss_reduction="mean",
                      generator=noise_generator, secure_mode=False)
    return gsm, opt



# --------------------------------------------------------------------------- the strategy


def _public_schema(data, metadata, discrete_columns) -> tuple[Schema, set]:
    """The schema, with kinds decided by the metadata or the frame's dtypes only."""
    schema = infer_schema(data, metadata, discrete_columns)
    meta = parse_metadata(metadata, data.columns)
    # discrete_columns need no look: infer_schema made them categorical, never "integer".
    declared = {n for n, e in meta.items() if e.get("kind")}
    for spec in schema:
        # A float column is "integer" only when every value is whole: a fact about the data.
        if spec.name not in declared and spec.kind == "integer" and data[spec.name].dtype.kind == "f":
            spec.kind = "continuous"
    nullable_public = {n for n, e in meta.items() if e.get("nullable")}
    return schema, nullable_public


class PrivateTraining(Training):
    """Differentially private training (``epsilon`` set): DP-SGD on the critic, everything the
    encoders need from noisy releases charged to the same budget, and the ledger.

    The hooks (see :mod:`tabgan.training.strategy`) run in the fit's order: ``schema`` refuses
    what cannot be made private (every problem at once) and plans the budget; ``encode``
    releases the statistics and builds the encoders from them; ``schedule`` solves the noise
    multiplier; ``wrap_critic`` gives the critic per-sample gradients and a noisy optimiser
    whose steps the accountant counts; ``should_stop`` ends training before the budget is
    exceeded.
    """

    seed_names = ("encode", "init", "train", "sample", "noise", "release", "calibrate", "pairs", "pair_pool")
    private = True
    d_step = staticmethod(dp_discriminator_step)
    g_step = staticmethod(dp_generator_step)

    def schema(self, data, metadata, discrete_columns) -> Schema:
        s = self.settings
        n_rows = len(data) if hasattr(data, "__len__") else None
        check_config(s, n_rows)
        schema, self.nullable_public = _public_schema(data, metadata, discrete_columns)
        self.public_schema = schema
        self.plan = PrivacyPlan.make(float(s.epsilon), float(s.delta), schema, float(s.preprocessing_epsilon_share),
                                     pairs=bool(s.calibrate))
        _check_budget(s, self.plan, n_rows)
        return schema

    def encode(self, data, schema: Schema, seeds: dict) -> Encoded:
        """Encoders built from noisy releases only; the calibration's targets too."""
        plan = self.plan
        self.released = release(data, schema, plan.rho, plan.delta_threshold, numpy_generator(seeds["release"]))
        # "auto" would choose encodings from relations between private columns: under DP it is "modes".
        encoding = "modes" if self.settings.numeric_encoding == "auto" else self.settings.numeric_encoding
        built = build(self.released, schema, nullable_public=self.nullable_public, numeric_encoding=encoding)
        transformer = TableTransformer.from_state(built.schema, built.transformer_state)
        floats, codes = transformer.transform(private_frame(data, built), numpy_generator(seeds["encode"]))
        level_iter = iter(built.level_probs)
        targets = [col.mode_probs_ if isinstance(col, NumericTransformer) else next(level_iter)
                   for col in transformer.columns_]
        # No exact row count under DP: it is a fact of the private table.
        return Encoded(built.schema, transformer, floats, codes, built.level_probs, targets,
                       transformer.released_mode_quantiles(), None, built.row_count)

    def schedule(self, encoded: Encoded) -> Schedule:
        plan, s = self.plan, self.settings
        batch, q, epochs, spe = _schedule(s, encoded.row_count)
        planned = epochs * spe * int(s.discriminator_steps)
        sigma = noise_for(q, planned, plan.rdp_preprocessing, plan.epsilon, plan.delta_conversion)
        if not math.isfinite(sigma):
            raise PrivacyConfigError("Cannot train with differential privacy:\n  - too few rows for the budget "
                                     "(no noise multiplier fits); use more rows, a larger epsilon or fewer epochs.")
        self._accountant = PrivacyAccountant(plan, q, sigma, planned)
        self.expected_batch = max(1, int(round(q * encoded.row_count)) + batch)
        logger.info("tabgan DP: q=%.4g, noise multiplier %.4g, %d planned steps", q, sigma, planned)
        return Schedule(batch, 1, epochs, spe)

    def sampler(self, cond_probs: list, cond_codes: torch.Tensor, device, target: int | None = None
                ) -> ConditionalSampler:
        """Noisy frequencies only; the rows' codes serve ``cond_from_rows`` (no counts taken).
        The metadata's ``target`` is not drawn more often under DP (not measured there)."""
        sampler = ConditionalSampler(cond_probs, device)
        sampler.codes = cond_codes
        return sampler

    def gradient_penalty(self) -> float:
        return 0.0

    def wrap_critic(self, discriminator, device, seeds: dict):
        """opacus' per-sample gradients and a noisy optimiser; each step is counted by the
        accountant through the optimiser's step hook."""
        acc = self._accountant
        gsm, opt = make_private_discriminator(
            discriminator, lr=self.settings.discriminator_lr, noise_multiplier=acc.noise_multiplier,
            max_grad_norm=float(self.settings.max_grad_norm), expected_batch_size=self.expected_batch,
            noise_generator=torch_generator(seeds["noise"], device))
        opt.attach_step_hook(lambda _optimizer: acc.count_step())
        return gsm, opt

    def unwrap_critic(self, critic):
        return critic._module

    def finish_calibration(self, parts, encoded: Encoded, calibration, seeds: dict, make_pool):
        """Choose and measure the two-way marginals (both on the ledger), then fit the tilt
        towards them on generated rows (post-processing; see :mod:`tabgan.marginals`)."""
        plan = self.plan
        if calibration is None or not plan.k_pairs:
            return calibration
        widths = parts.transformer.layout_.code_widths
        pool = make_pool(seeds["pair_pool"])  # generated rows: their codes, with the 1-way offsets
        rng = numpy_generator(seeds["pairs"])
        sigma, eps0 = plan.pair_sigma, plan.pair_epsilon_each
        # A numeric column with many codes is measured on fewer ranges of them (post-processing).
        groups = pair_groups(widths, parts.transformer.code_values(), encoded.targets,
                             pair_resolution(encoded.row_count, sigma))
        values = parts.transformer.code_values()
        numeric, exact = [v is not None for v in values], parts.transformer.exact_code_columns()
        # Chosen in rounds, each scored against the pool as the releases before it post-process it.
        # The tilt is post-processing of the releases (tilt_from_release rebuilds it from them).
        pairs, noisy, tilt = measure_in_rounds(grouped(encoded.codes, groups)[0], pool, widths, groups,
                                               encoded.row_count, plan.k_pairs, eps0, sigma, rng, encoded.targets,
                                               exact, lambda: numpy_generator(seeds["pair_pool"]), numeric, values)
        self.released["sigma"][PAIR_COUNTS] = sigma
        self.released["pairs"] = {"pairs": [[int(a), int(b)] for a, b in pairs], "epsilon_each": eps0,
                                  "counts": [t.tolist() for t in noisy]}
        return replace(calibration, pair_tilt=tilt)

    @property
    def accountant(self) -> PrivacyAccountant:
        return self._accountant

    def should_stop(self):
        acc, d_steps = self._accountant, int(self.settings.discriminator_steps)
        return lambda: not acc.can_step(d_steps)

    def ledger(self, encoded: Encoded) -> dict:
        plan = self.plan
        ledger = self._accountant.ledger(self.released, plan_releases(self.public_schema),
                                         float(self.settings.max_grad_norm))
        if ledger["epsilon"] > plan.epsilon or ledger["delta"] > plan.delta * (1 + 1e-12):  # pragma: no cover
            raise RuntimeError(f"privacy ledger {ledger['epsilon']}, {ledger['delta']} exceeds the target")
        return ledger

    def dp_release(self):
        return self.released


def __getattr__(name: str):
    # benchmarks/dp_audit.py imports the audit from here; it lives in tabgan.training.audit
    # (which imports this module, hence the lazy import).
    if name == "gradient_canary_audit":
        from .audit import gradient_canary_audit

        return gradient_canary_audit
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------- several processes


def wrap_critic_distributed(strategy: PrivateTraining, discriminator, device, seeds: dict, world_size: int):
    """The private critic of a data-parallel fit (:mod:`tabgan.training.distributed`).

    opacus' ``DistributedDPOptimizer``: every rank clips its rows' per-sample gradients and sums
    them, rank 0 alone adds the Gaussian noise (from the fit's ``noise`` seed, as in one
    process), the sums are added over ranks and divided by the global expected batch (each
    rank's divisor is ``expected_batch / world_size``, and the optimiser divides by the world
    size once more). The step is the one-process DP-SGD step on the union of the ranks'
    Poisson samples, so the accountant counts it once, with the global sampling rate.
    """
    from opacus.optimizers import DistributedDPOptimizer

    acc = strategy.accountant
    ModuleValidator.validate(discriminator, strict=True)
    gsm = GradSampleModule(discriminator, batch_first=True, loss_reduction="mean")
    adam = torch.optim.Adam(gsm.parameters(), lr=strategy.settings.discriminator_lr, betas=(0.5, 0.9))
    opt = DistributedDPOptimizer(adam, noise_multiplier=acc.noise_multiplier,
                                 max_grad_norm=float(strategy.settings.max_grad_norm),
                                 expected_batch_size=strategy.expected_batch / world_size, loss_reduction="mean",
                                 generator=torch_generator(seeds["noise"], device), secure_mode=False)
    opt.attach_step_hook(lambda _optimizer: acc.count_step())
    return gsm, opt
