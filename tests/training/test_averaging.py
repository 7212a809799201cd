"""The moving average of the generator's weights (``generator_average``)."""

import pytest
import torch

from tabgan import Synthesizer
from tabgan.training.averaging import WeightAverage


def _net():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))


def test_the_average_follows_the_weights_from_behind_and_leaves_the_network_alone():
    net = _net()
    average = WeightAverage(net, decay=0.9)
    start = net[0].weight.detach().clone()
    for step in range(1, 201):
        with torch.no_grad():
            net[0].weight.copy_(start + step)  # weights that keep moving up
            net[1].num_batches_tracked.fill_(step)
        average.update()
        kept = average.module[0].weight
        assert torch.all(kept > start) and torch.all(kept < net[0].weight)  # between the start and now
    assert torch.equal(net[0].weight, start + 200)  # read, never changed
    assert int(average.module[1].num_batches_tracked) == 200  # integer buffers are copied
    # About the last 1 / (1 - decay) = 10 steps: the average trails the weights by about 9 steps.
    lag = (net[0].weight - average.module[0].weight).mean().item()
    assert 8.5 < lag < 9.5
    assert not any(p.requires_grad for p in average.module.parameters())


def test_first_updates_are_not_held_back_by_the_initial_weights():
    net = _net()
    average = WeightAverage(net, decay=0.999)
    with torch.no_grad():
        net[0].weight.add_(1.0)
    for _ in range(3):
        average.update()
    # With decay 0.999 from the start, three updates would have moved 0.3% of the way.
    assert torch.allclose(average.module[0].weight, net[0].weight, atol=0.6)


def test_a_fit_keeps_the_average_by_default_and_the_raw_generator_with_zero(mixed_frame, fast_params):
    params = {**fast_params, "epochs": 2}
    averaged = Synthesizer(**params).fit(mixed_frame)
    raw = Synthesizer(**params, generator_average=0).fit(mixed_frame)
    assert averaged.settings_["generator_average"] == 0.995 and raw.settings_["generator_average"] == 0.0
    a, b = averaged.sample(200, random_state=1), raw.sample(200, random_state=1)
    assert list(a.columns) == list(b.columns) and not a.equals(b)
    assert not any(p.requires_grad for p in averaged.generator_.parameters())


@pytest.mark.parametrize("value", [1.0, -0.1, 1.5, "0.9", True])
def test_a_decay_outside_zero_to_one_is_refused(mixed_frame, value):
    with pytest.raises(ValueError, match=r"generator_average must be a number in \[0, 1\)"):
        Synthesizer(generator_average=value).fit(mixed_frame)
