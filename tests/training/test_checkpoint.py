"""Restoring a checkpoint: the random stream, and what happens when it cannot be restored."""

import pytest
import torch

from tabgan.exceptions import TabganWarning
from tabgan.training.checkpoint import restore


class _State:
    def __init__(self):
        self.generator = torch.nn.Linear(2, 2)
        self.discriminator = torch.nn.Linear(2, 1)
        self.opt_g = torch.optim.Adam(self.generator.parameters())
        self.opt_d = torch.optim.Adam(self.discriminator.parameters())
        self.rng = torch.Generator().manual_seed(0)
        self.device = torch.device("cpu")
        self.average = None  # no moving average of the generator


def _states(state, rng_state):
    return {"generator": state.generator.state_dict(), "discriminator": state.discriminator.state_dict(),
            "opt_g": state.opt_g.state_dict(), "opt_d": state.opt_d.state_dict(), "rng": rng_state}


def test_the_random_stream_is_restored():
    written = _State()
    written.rng.manual_seed(7)
    torch.rand(3, generator=written.rng)
    expected = torch.rand(2, generator=torch.Generator().set_state(written.rng.get_state()))
    resumed = _State()
    assert restore(resumed, {"epoch": 3}, _states(written, written.rng.get_state()), []) == 3
    assert torch.equal(torch.rand(2, generator=resumed.rng), expected)


def test_a_stream_from_another_device_type_warns_and_goes_on_from_the_seed():
    resumed = _State()
    before = resumed.rng.get_state()
    foreign = torch.zeros(3, dtype=torch.uint8)  # not a CPU generator's state (as a CUDA one is not)
    with pytest.warns(TabganWarning, match="another device type.*differ from one fitted without interruption"):
        assert restore(resumed, {"epoch": 1}, _states(_State(), foreign), []) == 1
    assert torch.equal(resumed.rng.get_state(), before)
