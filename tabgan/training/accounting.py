"""Privacy accounting: the budget plan, the noise multiplier, the DP-SGD step counter and the ledger.

Every mechanism is described by a Renyi-DP curve on a fixed grid of orders. The preprocessing
releases (:mod:`tabgan.privacy_preprocessing`) are Gaussian mechanisms, ``rho``-zCDP, so their
curve is ``alpha * rho``; thresholded releases of data-derived category sets add a fixed
``delta`` each. DP-SGD with Poisson sampling contributes the subsampled-Gaussian curve of
opacus' RDP accountant, times the number of steps. The curves add (adaptive composition) and
are converted once into ``(epsilon, delta_conversion)``; the total delta is
``delta_conversion`` plus the thresholds' deltas.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from ..marginals import em_epsilon
from ..privacy_preprocessing import gaussian_sigma, plan_releases
from ..schema import Schema

try:  # opacus is an optional dependency (extra "dp"); its refusal is in tabgan.training.privacy
    from opacus.accountants.analysis.rdp import compute_rdp, get_privacy_spent
except ImportError:  # pragma: no cover - exercised by the refusal test with opacus hidden
    compute_rdp = get_privacy_spent = None

__all__ = ["ORDERS", "PAIR_COUNTS", "planned_pairs", "PrivacyPlan", "PrivacyAccountant", "noise_for", "rho_for", "epsilon_of", "sgd_rdp"]

#: Renyi orders on which every curve is evaluated.
#: Few fractional orders: opacus computes those by a slow series, and integers dominate
#: at the epsilons tabgan targets.
ORDERS = [1.1, 1.25, 1.5, 1.75, 2.5, 3.5] + list(range(2, 64)) + [80, 100, 128, 160, 256, 512]
#: The ledger's (and the release's) name of the two-way marginals' Gaussian counts.
PAIR_COUNTS = "two-way marginals: counts"
#: Share of delta given to the thresholded category releases (split evenly among them).
THRESHOLD_DELTA_SHARE = 0.1
#: Shares of the zCDP budget given to the two-way marginals (:mod:`tabgan.marginals`): their
#: measurement, and the choice of which pairs to measure.
PAIR_SHARE, SELECT_SHARE = 0.2, 0.02
#: Pairs measured per column of the table (at most every pair).
PAIRS_PER_COLUMN = 1.67


def planned_pairs(n_columns: int) -> int:
    """How many two-way marginals a fit over ``n_columns`` columns measures."""
    return min(n_columns * (n_columns - 1) // 2, int(round(PAIRS_PER_COLUMN * n_columns)))


def epsilon_of(rdp: np.ndarray, delta: float) -> float:
    """The epsilon at ``delta`` of a Renyi curve ``rdp`` on ``ORDERS``."""
    with warnings.catch_warnings():  # "optimal order is the largest alpha": only ever loosens the bound
        warnings.simplefilter("ignore", UserWarning)
        eps, _ = get_privacy_spent(orders=ORDERS, rdp=rdp, delta=delta)
    return float(eps)


def sgd_rdp(q: float, sigma: float, steps: int) -> np.ndarray:
    """The Renyi curve of ``steps`` Poisson-subsampled Gaussian steps (rate ``q``, noise ``sigma``)."""
    if steps <= 0:
        return np.zeros(len(ORDERS))
    return np.asarray(compute_rdp(q=q, noise_multiplier=sigma, steps=steps, orders=ORDERS))


def rho_for(epsilon: float, delta: float) -> float:
    """The zCDP ``rho`` whose curve converts to exactly ``epsilon`` at ``delta``."""
    lo, hi = 0.0, max(epsilon, 1.0)
    orders = np.asarray(ORDERS)
    for _ in range(100):
        mid = (lo + hi) / 2
        if epsilon_of(orders * mid, delta) > epsilon:
            hi = mid
        else:
            lo = mid
    return lo


def noise_for(q: float, steps: int, rdp_fixed: np.ndarray, epsilon: float, delta: float) -> float:
    """Smallest noise multiplier (to 1e-4 relative) keeping the total within ``epsilon``."""
    lo, hi = 0.05, 1000.0
    if epsilon_of(rdp_fixed + sgd_rdp(q, hi, steps), delta) > epsilon:
        return math.inf
    for _ in range(60):
        mid = math.sqrt(lo * hi)
        if epsilon_of(rdp_fixed + sgd_rdp(q, mid, steps), delta) > epsilon:
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
    k_pairs: int = 0              # two-way marginals measured after training
    rho_select: float = 0.0       # their choice (k exponential mechanisms)
    rho_pairs: float = 0.0        # their measurement (one Gaussian mechanism, L2 sensitivity sqrt(k))

    @classmethod
    def make(cls, epsilon: float, delta: float, schema: Schema, share: float,
             pairs: bool = False) -> "PrivacyPlan":
        planned = plan_releases(schema)
        n_thr = sum(p.thresholded for p in planned)
        d_thr = THRESHOLD_DELTA_SHARE * delta / n_thr if n_thr else 0.0
        d_conv = delta - d_thr * n_thr
        rho = rho_for(epsilon, d_conv)
        rho_pre = share * rho
        k = planned_pairs(len(schema)) if pairs else 0
        return cls(epsilon, delta, d_conv, d_thr, {p.name: rho_pre / len(planned) for p in planned}, n_thr,
                   k, SELECT_SHARE * rho if k else 0.0, PAIR_SHARE * rho if k else 0.0)

    @property
    def pair_sigma(self) -> float:
        """Noise per cell of the two-way marginals' counts (L2 sensitivity ``sqrt(k)``)."""
        return gaussian_sigma(self.rho_pairs, math.sqrt(self.k_pairs)) if self.k_pairs else 0.0

    @property
    def pair_epsilon_each(self) -> float:
        """Epsilon of each of the ``k`` exponential mechanisms that choose the pairs."""
        return em_epsilon(self.rho_select, self.k_pairs) if self.k_pairs else 0.0

    @property
    def rdp_preprocessing(self) -> np.ndarray:
        """The curve of every release other than DP-SGD (preprocessing and two-way marginals)."""
        return np.asarray(ORDERS) * (sum(self.rho.values()) + self.rho_select + self.rho_pairs)


class PrivacyAccountant:
    """Counts DP-SGD steps and says whether one more keeps the total within the target."""

    def __init__(self, plan: PrivacyPlan, sample_rate: float, noise_multiplier: float, planned_steps: int):
        self.plan = plan
        self.sample_rate = sample_rate
        self.noise_multiplier = noise_multiplier
        self.planned_steps = planned_steps
        self.steps = 0
        self._rdp_step = sgd_rdp(sample_rate, noise_multiplier, 1)

    def count_step(self) -> None:
        """One DP-SGD step was taken (the DP optimiser's step hook calls this)."""
        self.steps += 1

    def epsilon_after(self, steps: int) -> float:
        return epsilon_of(self.plan.rdp_preprocessing + steps * self._rdp_step, self.plan.delta_conversion)

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
                "name": p.name, "epsilon": epsilon_of(np.asarray(ORDERS) * rho, d),
                "delta": d + (plan.delta_threshold if p.thresholded else 0.0),
                "mechanism": "gaussian" + (" with threshold" if p.thresholded else ""),
                "rho": rho, "sigma": rel["sigma"][p.name],
            })
        if plan.k_pairs:
            mechanisms.append({
                "name": "two-way marginals: choice of pairs", "epsilon": epsilon_of(np.asarray(ORDERS) * plan.rho_select, d),
                "delta": d, "mechanism": "exponential (one-shot Gumbel top-k, score sensitivity 1)",
                "rho": plan.rho_select, "k": plan.k_pairs, "epsilon_each": plan.pair_epsilon_each,
            })
            mechanisms.append({
                "name": "two-way marginals: counts", "epsilon": epsilon_of(np.asarray(ORDERS) * plan.rho_pairs, d),
                "delta": d, "mechanism": "gaussian (L2 sensitivity sqrt(k))", "rho": plan.rho_pairs,
                "k": plan.k_pairs, "sigma": plan.pair_sigma,
            })
        mechanisms.append({
            "name": "discriminator DP-SGD", "epsilon": epsilon_of(self.steps * self._rdp_step, d), "delta": d,
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
