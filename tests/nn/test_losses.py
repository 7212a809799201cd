"""The loss functions of the adversarial game."""

import math

import torch
import torch.nn.functional as F

from tabgan.nn.losses import condition_loss, critic_loss, generator_adversarial_loss, gradient_penalty


def test_critic_loss_rewards_high_real_and_low_fake_scores():
    real, fake = torch.tensor([2.0, 4.0]), torch.tensor([-1.0, 0.0])
    assert critic_loss(real, fake).item() == -3.5
    assert generator_adversarial_loss(fake).item() == 0.5


def test_gradient_penalty_is_zero_for_a_unit_gradient_critic_and_grows_with_the_slope():
    real, fake = torch.randn(8, 3, generator=torch.Generator().manual_seed(0)), torch.zeros(8, 3)
    w = torch.tensor([0.6, 0.8, 0.0])  # |w| = 1

    def unit(x):
        return x @ w

    def steep(x):
        return x @ (3 * w)

    assert gradient_penalty(unit, real, fake, pac=1).item() < 1e-10
    assert math.isclose(gradient_penalty(steep, real, fake, pac=1, weight=10.0).item(), 10 * (3 - 1) ** 2,
                        rel_tol=1e-5)
    # pac rows are scored together: the gradient norm is over the whole group.
    assert math.isclose(gradient_penalty(unit, real, fake, pac=2, weight=1.0).item(), (math.sqrt(2) - 1) ** 2,
                        rel_tol=1e-5)


def test_gradient_penalty_on_a_share_of_the_batch_uses_fewer_rows():
    seen = []

    def critic(x):
        seen.append(x.shape[0])
        return x.sum(dim=1)

    gradient_penalty(critic, torch.ones(10, 2), torch.zeros(10, 2), pac=1, share=0.25)
    assert seen == [3]


def test_condition_loss_is_the_cross_entropy_of_each_rows_conditioned_span():
    raw = torch.randn(3, 7, generator=torch.Generator().manual_seed(1))
    offsets, widths = torch.tensor([1, 4]), torch.tensor([3, 2])
    col, level = torch.tensor([0, 1, 0]), torch.tensor([2, 1, 0])
    expected = torch.stack([
        F.cross_entropy(raw[0:1, 1:4], level[0:1]),
        F.cross_entropy(raw[1:2, 4:6], level[1:2]),
        F.cross_entropy(raw[2:3, 1:4], level[2:3]),
    ]).mean()
    assert torch.allclose(condition_loss(raw, col, level, offsets, widths), expected)
    assert condition_loss(raw, col[:0], level[:0], offsets, widths).item() == 0.0


def test_condition_loss_with_the_width_given_equals_the_width_read_from_the_tensor():
    gen = torch.Generator().manual_seed(0)
    raw = torch.randn(6, 9, generator=gen)
    offsets, widths = torch.tensor([0, 4]), torch.tensor([4, 5])
    col, level = torch.tensor([0, 1, 1, 0, 1, 0]), torch.tensor([3, 4, 0, 1, 2, 0])
    assert torch.equal(condition_loss(raw, col, level, offsets, widths),
                       condition_loss(raw, col, level, offsets, widths, max_width=5))
