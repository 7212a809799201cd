"""Empirical privacy audit of the DP critic update, with a positive control.

A gradient-canary membership test (the adversary knows everything but the noise) must not
find more leakage than the accountant claims; with the noise switched off the very same test
must find far more, which shows the audit is able to fail.
"""

import torch

from tabgan.training.audit import gradient_canary_audit

TRIALS = 1200


def test_audit_stays_below_claim_and_detects_missing_noise():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # opacus' per-step overhead dominates; one thread is fastest here
    try:
        private = gradient_canary_audit(noise_multiplier=1.5, trials=TRIALS, seed=0)
        control = gradient_canary_audit(noise_multiplier=0.0, trials=TRIALS, seed=0)
    finally:
        torch.set_num_threads(threads)
    # The canary's gradient is clipped to the norm the accountant assumes.
    assert abs(private["clipped_canary_norm"] - 1.0) < 1e-4
    claimed = private["epsilon_claimed"]
    assert 2.5 < claimed < 3.5
    assert private["epsilon_lower_bound"] <= claimed
    # Positive control: without noise the same attack proves an epsilon above the claim.
    assert control["epsilon_lower_bound"] > claimed


def test_the_old_import_path_benchmarks_use_still_gives_the_audit():
    """benchmarks/dp_audit.py imports the audit from tabgan.training.privacy (a lazy forward)."""
    import pytest

    from tabgan.training import privacy

    assert privacy.gradient_canary_audit is gradient_canary_audit
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        privacy.nonexistent  # noqa: B018
