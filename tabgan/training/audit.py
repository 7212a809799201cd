"""Empirical membership audit of one DP-SGD critic update: the regression test of the DP path.

The Clopper-Pearson interval is scipy's (``binomtest(...).proportion_ci(method="exact")``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from scipy.stats import binomtest

from ..nn.modules import Discriminator, init_parameters
from .accounting import epsilon_of, sgd_rdp
from .privacy import make_private_discriminator

__all__ = ["clopper_pearson", "epsilon_lower_bound", "gradient_canary_audit"]


def clopper_pearson(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Two-sided exact binomial interval of ``k`` successes in ``n`` (each side ``alpha / 2``)."""
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=1 - alpha, method="exact")
    return float(ci.low), float(ci.high)


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
    claimed = epsilon_of(sgd_rdp(1.0, noise_multiplier, 1), delta) if noise_multiplier > 0 else math.inf
    return {"epsilon_lower_bound": lower, "epsilon_claimed": claimed, "trials": trials,
            "noise_multiplier": noise_multiplier, "canary_norm_before_clipping_exceeds": True,
            "clipped_canary_norm": float(direction.norm())}
