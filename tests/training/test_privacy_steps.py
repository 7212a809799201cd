"""The DP-SGD critic and generator steps (training/privacy.py), checked without noise or clipping."""

import copy
from types import SimpleNamespace

import pytest
import torch

pytest.importorskip("opacus")

from tabgan.training.privacy import dp_discriminator_step, dp_generator_step, make_private_discriminator  # noqa: E402


def _private_state(make_state, expected_batch: int):
    state = make_state()
    critic = torch.nn.Linear(state.width + state.sampler.cond_width, 1)
    reference = copy.deepcopy(critic)
    gsm, opt = make_private_discriminator(critic, lr=0.0, noise_multiplier=0.0, max_grad_norm=1e6,
                                          expected_batch_size=expected_batch,
                                          noise_generator=torch.Generator().manual_seed(1))
    state.discriminator, state.opt_d = gsm, opt
    state.privacy = SimpleNamespace(sample_rate=1.0)  # every real row in the step
    return state, critic, reference


def test_the_fake_term_enters_the_dp_update_with_the_opposite_sign_of_the_real_term(make_state):
    """With no noise and no clipping, the privatized gradient is that of
    (sum of fake scores - sum of real scores) / expected batch: the WGAN critic loss."""
    expected = 50
    state, critic, reference = _private_state(make_state, expected)
    inputs = []
    critic.register_forward_hook(lambda module, args, out: inputs.append(args[0].detach()))
    dp_discriminator_step(state)
    x = inputs[-1]
    n_real = state.n_rows
    assert x.shape[0] == n_real + state.batch_size
    loss = (reference(x[n_real:]).sum() - reference(x[:n_real]).sum()) / expected
    loss.backward()
    for got, want in zip(critic.parameters(), reference.parameters()):
        assert torch.allclose(got.grad, want.grad, atol=1e-5)
    # The fake term matters: with its sign flipped the gradient would differ.
    flipped = copy.deepcopy(reference)
    flipped.zero_grad()
    ((-flipped(x[n_real:]).sum() - flipped(x[:n_real]).sum()) / expected).backward()
    assert not torch.allclose(critic.bias.grad, flipped.bias.grad, atol=1e-3)


def test_generator_step_moves_the_generator_and_leaves_no_per_sample_gradients(make_state):
    state, critic, _ = _private_state(make_state, 50)
    before = [p.detach().clone() for p in state.generator.parameters()]
    critic_before = [p.detach().clone() for p in critic.parameters()]
    dp_generator_step(state)
    assert any(not torch.equal(a, b) for a, b in zip(before, state.generator.parameters()))
    assert all(torch.equal(a, b) for a, b in zip(critic_before, critic.parameters()))
    assert all(getattr(p, "grad_sample", None) is None and p.grad is None for p in critic.parameters())


def test_a_critic_opacus_cannot_make_private_is_refused_by_its_validator():
    from opacus.validators.errors import UnsupportedModuleError

    critic = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 1))
    with pytest.raises(UnsupportedModuleError, match="BatchNorm"):
        make_private_discriminator(critic, lr=1e-3, noise_multiplier=1.0, max_grad_norm=1.0, expected_batch_size=8,
                                   noise_generator=torch.Generator())


def test_dp_steps_leave_their_losses_on_the_device(make_state):
    """As the plain steps: a float() per step would force a host-device sync every step on CUDA."""
    state, _, _ = _private_state(make_state, 50)
    for loss in (dp_discriminator_step(state), dp_generator_step(state)):
        assert isinstance(loss, torch.Tensor) and loss.shape == () and torch.isfinite(loss)
