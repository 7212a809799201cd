"""Differentially private training: the plan, DP-SGD on the discriminator, the ledger.

This is the only module that imports opacus, and it is imported only when ``epsilon`` is
set.  See ``docs/privacy.md`` for the threat model and the accounting.

Accounting: every mechanism is described by a Renyi-DP curve on a fixed grid of orders.
The preprocessing releases (:mod:`tabgan.privacy_preprocessing`) are Gaussian mechanisms,
``rho``-zCDP, so their curve is ``alpha * rho``; thresholded releases of data-derived
category sets add a fixed ``delta`` each.  DP-SGD with Poisson sampling contributes the
subsampled-Gaussian curve of opacus' RDP accountant, times the number of steps.  The curves
add (adaptive composition) and are converted once into ``(epsilon, delta_conversion)``; the
total delta is ``delta_conversion`` plus the thresholds' deltas.
"""

from __future__ import annotations

import inspect
import logging
import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import torch

from .._random import numpy_generator, resolve_seed, torch_generator
from ..exceptions import PrivacyConfigError
from ..nn.losses import condition_loss, generator_adversarial_loss
from ..privacy_preprocessing import build, plan_releases, private_frame, release
from ..sampling import ConditionalSampler
from ..schema import Schema, infer_schema, parse_metadata
from .device import resolve_device
from .loop import TrainingState, generate, real_batch, train

try:  # opacus is an optional dependency (extra "dp")
    from opacus import GradSampleModule
    from opacus.accountants.analysis.rdp import compute_rdp, get_privacy_spent
    from opacus.optimizers import DPOptimizer
except ImportError:  # pragma: no cover - exercised by the refusal test with opacus hidden
    GradSampleModule = None

__all__ = ["PrivacyPlan", "PrivacyAccountant", "check_config", "fit_private", "ORDERS"]

logger = logging.getLogger("tabgan")

#: Renyi orders on which every curve is evaluated.
#: Few fractional orders: opacus computes those by a slow series, and integers dominate
#: at the epsilons tabgan targets.
ORDERS = [1.1, 1.25, 1.5, 1.75, 2.5, 3.5] + list(range(2, 64)) + [80, 100, 128, 160, 256, 512]
#: Share of delta given to the thresholded category releases (split evenly among them).
THRESHOLD_DELTA_SHARE = 0.1
#: A plan needing more noise than this (per unit of clipping norm) is refused as hopeless.
MAX_NOISE_MULTIPLIER = 50.0
#: Fewest rows a DP fit accepts.
MIN_ROWS = 100


def _epsilon(rdp: np.ndarray, delta: float) -> float:
    with warnings.catch_warnings():  # "optimal order is the largest alpha": only ever loosens the bound
        warnings.simplefilter("ignore", UserWarning)
        eps, _ = get_privacy_spent(orders=ORDERS, rdp=rdp, delta=delta)
    return float(eps)


def _sgd_rdp(q: float, sigma: float, steps: int) -> np.ndarray:
    if steps <= 0:
        return np.zeros(len(ORDERS))
    return np.asarray(compute_rdp(q=q, noise_multiplier=sigma, steps=steps, orders=ORDERS))


def rho_for(epsilon: float, delta: float) -> float:
    """The zCDP ``rho`` whose curve converts to exactly ``epsilon`` at ``delta``."""
    lo, hi = 0.0, max(epsilon, 1.0)
    orders = np.asarray(ORDERS)
    for _ in range(100):
        mid = (lo + hi) / 2
        if _epsilon(orders * mid, delta) > epsilon:
            hi = mid
        else:
            lo = mid
    return lo


def noise_for(q: float, steps: int, rdp_fixed: np.ndarray, epsilon: float, delta: float) -> float:
    """Smallest noise multiplier (to 1e-4 relative) keeping the total within ``epsilon``."""
    lo, hi = 0.05, 1000.0
    if _epsilon(rdp_fixed + _sgd_rdp(q, hi, steps), delta) > epsilon:
        return math.inf
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        if _epsilon(rdp_fixed + _sgd_rdp(q, mid, steps), delta) > epsilon:
            lo = mid
        else:
            hi = mid
        if hi / lo < 1 + 1e-4:
            break
    return hi


@dataclass
class PrivacyPlan:
    """Everything about the budget fixed before training starts."""

    epsilon: float
    delta: float
    delta_conversion: float
    delta_threshold: float        # per thresholded release
    rho: dict                     # per preprocessing release
    n_thresholded: int

    @classmethod
    def make(cls, epsilon: float, delta: float, schema: Schema, share: float) -> "PrivacyPlan":
        planned = plan_releases(schema)
        n_thr = sum(p.thresholded for p in planned)
        d_thr = THRESHOLD_DELTA_SHARE * delta / n_thr if n_thr else 0.0
        d_conv = delta - d_thr * n_thr
        rho_pre = share * rho_for(epsilon, d_conv)
        return cls(epsilon, delta, d_conv, d_thr, {p.name: rho_pre / len(planned) for p in planned}, n_thr)

    @property
    def rdp_preprocessing(self) -> np.ndarray:
        return np.asarray(ORDERS) * sum(self.rho.values())


class PrivacyAccountant:
    """Counts DP-SGD steps and says whether one more keeps the total within the target."""

    def __init__(self, plan: PrivacyPlan, sample_rate: float, noise_multiplier: float, planned_steps: int):
        self.plan = plan
        self.sample_rate = sample_rate
        self.noise_multiplier = noise_multiplier
        self.planned_steps = planned_steps
        self.steps = 0
        self._rdp_step = _sgd_rdp(sample_rate, noise_multiplier, 1)

    def epsilon_after(self, steps: int) -> float:
        return _epsilon(self.plan.rdp_preprocessing + steps * self._rdp_step, self.plan.delta_conversion)

    def epsilon_spent(self) -> float:
        return self.epsilon_after(self.steps)

    def can_step(self, k: int = 1) -> bool:
        return self.steps + k <= self.planned_steps and self.epsilon_after(self.steps + k) <= self.plan.epsilon

    def ledger(self, rel: dict, planned: list, max_grad_norm: float) -> dict:
        plan = self.plan
        d = plan.delta_conversion
        mechanisms = []
        for p in planned:
            rho = plan.rho[p.name]
            mechanisms.append({
                "name": p.name, "epsilon": _epsilon(np.asarray(ORDERS) * rho, d),
                "delta": d + (plan.delta_threshold if p.thresholded else 0.0),
                "mechanism": "gaussian" + (" with threshold" if p.thresholded else ""),
                "rho": rho, "sigma": rel["sigma"][p.name],
            })
        mechanisms.append({
            "name": "discriminator DP-SGD", "epsilon": _epsilon(self.steps * self._rdp_step, d), "delta": d,
            "mechanism": "subsampled gaussian (Poisson)", "noise_multiplier": self.noise_multiplier,
            "sample_rate": self.sample_rate, "steps": self.steps, "planned_steps": self.planned_steps,
            "max_grad_norm": max_grad_norm,
        })
        return {
            "epsilon": self.epsilon_spent(),
            "delta": d + plan.delta_threshold * plan.n_thresholded,
            "unit": "row",
            "target_epsilon": plan.epsilon,
            "target_delta": plan.delta,
            "composition": "Renyi DP curves added over all mechanisms, converted once at delta_conversion; "
                           "thresholded releases add their delta",
            "delta_conversion": d,
            "mechanisms": mechanisms,
        }


# --------------------------------------------------------------------------- refusals


def _is_number(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)


def check_config(est, n_rows: int | None) -> None:
    """Raise :class:`PrivacyConfigError` listing every DP setting that cannot be honoured."""
    defaults = {k: p.default for k, p in inspect.signature(type(est).__init__).parameters.items()}
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
    if est.pac != defaults.get("pac") and est.pac != 1:
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


def _check_budget(est, schema: Schema, n_rows: int) -> None:
    """Refuse a budget too small for the table before any mechanism runs (uses the true row
    count, as the other refusals: only the data owner sees the error)."""
    plan = PrivacyPlan.make(float(est.epsilon), float(est.delta), schema, float(est.preprocessing_epsilon_share))
    batch, q, epochs, spe = _schedule(est, float(n_rows))
    steps = epochs * spe * int(est.discriminator_steps)
    sigma = noise_for(q, steps, plan.rdp_preprocessing, plan.epsilon, plan.delta_conversion)
    if sigma > MAX_NOISE_MULTIPLIER:
        raise PrivacyConfigError(
            "Cannot train with differential privacy:\n  - too few rows for the budget: with "
            f"{n_rows} rows, epsilon={est.epsilon} and {steps} planned steps the noise multiplier would be "
            f"{sigma:.3g} (> {MAX_NOISE_MULTIPLIER}). Use more rows, a larger epsilon or fewer epochs.")


# --------------------------------------------------------------------------- steps


def _schedule(est, n_hat: float) -> tuple[int, float, int, int]:
    """Batch (expected real rows per step), sampling rate, epochs and steps per epoch."""
    n = max(int(round(n_hat)), 1)
    batch = max(1, min(int(est.setting("batch_size")), n))
    epochs, spe = est._resolve_epochs(n, batch)
    return batch, min(1.0, batch / max(n_hat, 1.0)), epochs, spe


def _conditions(state: TrainingState, batch: int):
    if state.sampler.n_columns == 0:
        return torch.zeros(batch, 0, device=state.device), None, None
    return state.sampler.sample_generation(batch, state.rng)


def dp_discriminator_step(state: TrainingState) -> float:
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
    state.opt_d.step()
    acc.steps += 1
    with torch.no_grad():
        n_real = max(rows.numel(), 1)
        return float(scores[rows.numel():].mean() - scores[: rows.numel()].sum() / n_real)


def dp_generator_step(state: TrainingState) -> float:
    """Generator update; conditions drawn by the *noisy* level frequencies.  opacus' hooks are
    off during it, and whatever gradients it leaves on the discriminator are cleared."""
    gsm = state.discriminator
    gsm.disable_hooks()
    try:
        cond, col, level = _conditions(state, state.batch_size)
        raw, fake = generate(state, cond)
        loss = generator_adversarial_loss(gsm(torch.cat([fake, cond], dim=1)))
        if col is not None:
            loss = loss + condition_loss(raw, col, level, state.cond_span_offsets, state.cond_span_widths)
        state.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        state.opt_g.step()
    finally:
        gsm.enable_hooks()
        state.opt_d.zero_grad(set_to_none=True)
        for p in gsm.parameters():
            p.grad_sample = None
    return float(loss.detach())


def make_private_discriminator(discriminator, *, lr: float, noise_multiplier: float, max_grad_norm: float,
                               expected_batch_size: int, noise_generator: torch.Generator):
    """Wrap the critic for per-sample gradients and give it a DP optimizer (Adam inside).

    Noise comes from ``noise_generator`` (reproducible); ``secure_mode`` stays off, see the
    docs for that trade-off."""
    gsm = GradSampleModule(discriminator, batch_first=True, loss_reduction="mean")
    adam = torch.optim.Adam(gsm.parameters(), lr=lr, betas=(0.5, 0.9))
    opt = DPOptimizer(adam, noise_multiplier=noise_multiplier, max_grad_norm=max_grad_norm,
                      expected_batch_size=expected_batch_size, loss_reduction="mean",
                      generator=noise_generator, secure_mode=False)
    return gsm, opt


# --------------------------------------------------------------------------- audit


def clopper_pearson(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Two-sided exact binomial interval (each side alpha/2)."""
    from scipy.stats import beta

    lo = float(beta.ppf(alpha / 2, k, n - k + 1)) if k > 0 else 0.0
    hi = float(beta.ppf(1 - alpha / 2, k + 1, n - k)) if k < n else 1.0
    return lo, hi


def epsilon_lower_bound(scores_in: np.ndarray, scores_out: np.ndarray, delta: float,
                        threshold: float) -> float:
    """95% lower bound on epsilon from a threshold test "score > threshold means member":
    ``log((TPR_low - delta) / FPR_high)`` with Clopper-Pearson bounds (0 when not positive)."""
    tpr_lo, _ = clopper_pearson(int((scores_in > threshold).sum()), len(scores_in))
    _, fpr_hi = clopper_pearson(int((scores_out > threshold).sum()), len(scores_out))
    if tpr_lo - delta <= 0:
        return 0.0
    return max(0.0, math.log((tpr_lo - delta) / fpr_hi))


def gradient_canary_audit(*, noise_multiplier: float, trials: int = 2000, max_grad_norm: float = 1.0,
                          delta: float = 1e-5, batch: int = 32, width: int = 12, seed: int = 0) -> dict:
    """Empirical membership audit of one DP-SGD critic update as tabgan builds it.

    The adversary knows the critic, the other rows and everything but the noise; it plants a
    canary row whose gradient is far above the clipping norm, observes the privatized
    gradient that Adam receives, projects it on the canary's (clipped) gradient after
    removing the other rows' known contribution, and guesses "member" above a threshold.
    Half the trials pick the threshold, the other half measure TPR/FPR; the Clopper-Pearson
    95% bound gives an empirical epsilon lower bound.  Returns it with the claimed epsilon of
    that update (the accountant's, one step, sampling rate 1).
    """
    from ..nn.modules import Discriminator, init_parameters

    torch_gen = torch.Generator().manual_seed(seed)
    critic = Discriminator(width, (16, 16), 1, dropout=0.0)
    init_parameters(critic, torch_gen)
    base = torch.randn(batch, width, generator=torch_gen)
    canary = 50.0 * torch.ones(1, width)
    gsm, opt = make_private_discriminator(critic, lr=0.0, noise_multiplier=noise_multiplier,
                                          max_grad_norm=max_grad_norm, expected_batch_size=batch + 1,
                                          noise_generator=torch.Generator().manual_seed(seed + 1))
    params = [p for p in gsm.parameters() if p.requires_grad]

    def privatized(with_canary: bool) -> torch.Tensor:
        x = torch.cat([base, canary]) if with_canary else base
        sign = torch.ones(x.shape[0])
        sign[: batch // 2] = -1.0  # "real" and "fake" terms in one pass, as the critic step
        opt.zero_grad(set_to_none=True)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Full backward hook is firing", category=UserWarning)
            (sign * gsm(x).squeeze(1)).mean().backward()
        opt.step()
        return torch.cat([p.grad.reshape(-1) for p in params]) * opt.expected_batch_size

    saved = opt.noise_multiplier
    opt.noise_multiplier = 0.0
    clean_out = privatized(False)
    direction = privatized(True) - clean_out           # the canary's clipped gradient
    opt.noise_multiplier = saved
    unit = direction / direction.norm()
    rng = np.random.default_rng(seed)
    member = rng.random(trials) < 0.5
    scores = np.asarray([float((privatized(bool(m)) - clean_out) @ unit) / max_grad_norm for m in member])
    half = trials // 2
    cand = np.quantile(scores[:half], np.linspace(0.5, 0.999, 60))
    best = max(cand, key=lambda t: epsilon_lower_bound(scores[:half][member[:half]],
                                                       scores[:half][~member[:half]], delta, t))
    lower = epsilon_lower_bound(scores[half:][member[half:]], scores[half:][~member[half:]], delta, best)
    claimed = _epsilon(_sgd_rdp(1.0, noise_multiplier, 1), delta) if noise_multiplier > 0 else math.inf
    return {"epsilon_lower_bound": lower, "epsilon_claimed": claimed, "trials": trials,
            "noise_multiplier": noise_multiplier, "canary_norm_before_clipping_exceeds": True,
            "clipped_canary_norm": float(direction.norm())}


# --------------------------------------------------------------------------- fit


def _public_schema(data, metadata, discrete_columns) -> tuple[Schema, set]:
    """The schema, with kinds decided by the metadata or the frame's dtypes only."""
    schema = infer_schema(data, metadata, discrete_columns)
    meta = parse_metadata(metadata, data.columns)
    declared = {n for n, e in meta.items() if e.get("kind")} | set(
        [discrete_columns] if isinstance(discrete_columns, str) else (discrete_columns or []))
    for spec in schema:
        # A float column is "integer" only when every value is whole: a fact about the data.
        if spec.name not in declared and spec.kind == "integer" and data[spec.name].dtype.kind == "f":
            spec.kind = "continuous"
    nullable_public = {n for n, e in meta.items() if e.get("nullable")}
    return schema, nullable_public


def fit_private(est, data, metadata=None, discrete_columns=None) -> dict:
    """The DP branch of :meth:`Synthesizer.fit`; returns the fitted attributes."""
    n_rows = len(data) if hasattr(data, "__len__") else None
    check_config(est, n_rows)
    schema, nullable_public = _public_schema(data, metadata, discrete_columns)
    _check_budget(est, schema, n_rows)
    plan = PrivacyPlan.make(float(est.epsilon), float(est.delta), schema, float(est.preprocessing_epsilon_share))

    seq = resolve_seed(est.random_state)
    s_encode, s_init, s_train, s_sample, s_noise, s_release, s_calibrate = seq.spawn(7)
    device = resolve_device(est.device)
    rel = release(data, schema, plan.rho, plan.delta_threshold, numpy_generator(s_release))
    # "auto" would choose encodings from relations between private columns: under DP it is "modes".
    encoding = "modes" if est.numeric_encoding == "auto" else est.numeric_encoding
    built = build(rel, schema, nullable_public=nullable_public, numeric_encoding=encoding)
    from ..transformers import TableTransformer
    from ..transformers.numeric import NumericTransformer

    transformer = TableTransformer.from_state(built.schema, built.transformer_state)
    floats_np, codes_np = transformer.transform(private_frame(data, built), numpy_generator(s_encode))
    layout = transformer.layout_

    batch, q, epochs, spe = _schedule(est, built.row_count)
    planned = epochs * spe * int(est.discriminator_steps)
    sigma = noise_for(q, planned, plan.rdp_preprocessing, plan.epsilon, plan.delta_conversion)
    if not math.isfinite(sigma):
        raise PrivacyConfigError("Cannot train with differential privacy:\n  - too few rows for the budget "
                                 "(no noise multiplier fits); use more rows, a larger epsilon or fewer epochs.")
    accountant = PrivacyAccountant(plan, q, sigma, planned)
    logger.info("tabgan DP: q=%.4g, noise multiplier %.4g, %d planned steps", q, sigma, planned)

    floats = torch.as_tensor(floats_np, device=device)
    codes = torch.as_tensor(codes_np, device=device)
    # Noisy frequencies only, of the conditional-vector columns (wide categoricals are not).
    cond_probs = layout.of_conditioned(built.level_probs)
    sampler = ConditionalSampler(cond_probs, device)
    sampler.codes = codes[:, torch.as_tensor(layout.conditioned)]  # for cond_from_rows; no counts taken

    def private_critic(discriminator):
        return make_private_discriminator(
            discriminator, lr=est.setting("discriminator_lr"), noise_multiplier=sigma,
            max_grad_norm=float(est.max_grad_norm), expected_batch_size=max(1, int(round(q * built.row_count)) + batch),
            noise_generator=torch_generator(s_noise, device))

    state = est._training_state(layout, sampler, floats, codes, pac=1, batch=batch, device=device, s_init=s_init,
                                s_train=s_train, gp_weight=0.0, privacy=accountant, private_critic=private_critic)
    generator, gsm, head = state.generator, state.discriminator, state.head
    history, callbacks = est._callbacks()
    d_steps = int(est.discriminator_steps)
    done = train(state, epochs, spe, callbacks, d_step=dp_discriminator_step, g_step=dp_generator_step,
                 should_stop=lambda: not accountant.can_step(d_steps))
    generator.eval()
    sampler_out = ConditionalSampler(cond_probs, device)
    # Calibration targets from the releases only: noisy level frequencies and mode shares.
    level_iter = iter(built.level_probs)
    targets = [col.mode_probs_ if isinstance(col, NumericTransformer) else next(level_iter)
               for col in transformer.columns_]
    calibration = est._fit_calibration(generator, sampler_out, built.level_probs, head, transformer, device, targets,
                                       s_calibrate)
    ledger = accountant.ledger(rel, plan_releases(schema), float(est.max_grad_norm))
    if ledger["epsilon"] > plan.epsilon or ledger["delta"] > plan.delta * (1 + 1e-12):  # pragma: no cover
        raise RuntimeError(f"privacy ledger {ledger['epsilon']}, {ledger['delta']} exceeds the target")
    return {
        "schema_": built.schema, "transformer_": transformer, "generator_": generator,
        "discriminator_": gsm._module, "sampler_": sampler_out, "level_probs_": built.level_probs, "head_": head, "calibration_": calibration,
        "dependencies_": None, "history_": history, "privacy_spent_": ledger, "device_": device, "epochs_": done,
        "n_features_in_": len(built.schema), "feature_names_in_": np.asarray(built.schema.names, dtype=object),
        "_sample_entropy": int(s_sample.generate_state(1, dtype=np.uint64)[0]), "_sample_calls": 0,
        "_dp_release": rel,
    }
