"""The training loop's step functions and its epoch bookkeeping."""

import torch

from tabgan.training.callbacks import Callback
from tabgan.training.loop import (AUTO_STEPS, MAX_EPOCHS, MIN_EPOCHS, discriminator_step, generator_step,
                                  resolve_epochs, train)


def _snapshot(module):
    return [p.detach().clone() for p in module.parameters()]


def _changed(before, module):
    return any(not torch.equal(a, b) for a, b in zip(before, module.parameters()))


def test_resolve_epochs_takes_the_parameter_or_about_auto_steps():
    assert resolve_epochs(1000, 100, 7) == (7, 10)
    assert resolve_epochs(1000, 100, None) == (round(AUTO_STEPS / 10), 10)
    assert resolve_epochs(50, 100, None) == (MAX_EPOCHS, 1)  # fewer rows than a batch: one step
    assert resolve_epochs(10_000_000, 500, None)[0] == MIN_EPOCHS
    # A 1M-row table spends about the budget of any other table, not the floor's multiple of it.
    epochs, per_epoch = resolve_epochs(1_000_000, 500, None)
    assert abs(epochs * per_epoch - AUTO_STEPS) / AUTO_STEPS < 0.1


def test_critic_step_moves_the_critic_only_and_hands_its_fakes_to_the_generator_step(make_state):
    state = make_state(gp_weight=10.0)
    g_before, d_before = _snapshot(state.generator), _snapshot(state.discriminator)
    loss = discriminator_step(state)
    assert loss.shape == () and torch.isfinite(loss)
    assert _changed(d_before, state.discriminator) and not _changed(g_before, state.generator)
    assert "pending" in state.extra
    d_after = _snapshot(state.discriminator)
    generator_step(state)
    assert _changed(g_before, state.generator) and not _changed(d_after, state.discriminator)
    assert "pending" not in state.extra
    assert all(p.requires_grad for p in state.discriminator.parameters())  # unfrozen again


def test_generator_step_without_a_pending_batch_draws_its_own(make_state):
    state = make_state(conditioned=False)
    before = _snapshot(state.generator)
    assert torch.isfinite(generator_step(state))
    assert _changed(before, state.generator)


class _Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, epochs):
        self.events.append(("begin", epochs))

    def on_epoch_end(self, record):
        self.events.append(("epoch", record.epoch))

    def on_train_end(self):
        self.events.append(("end",))


def test_train_reports_each_epoch_and_stops_when_asked(make_state):
    recorder = _Recorder()
    assert train(make_state(), 3, 2, [recorder]) == 3
    assert recorder.events == [("begin", 3), ("epoch", 0), ("epoch", 1), ("epoch", 2), ("end",)]
    asked = []

    def should_stop():
        asked.append(1)
        return len(asked) > 3  # three steps, then stop: epoch 0 done, epoch 1 half done

    recorder = _Recorder()
    assert train(make_state(), 5, 2, [recorder], should_stop=should_stop) == 2
    assert recorder.events[-1] == ("end",) and [e for e in recorder.events if e[0] == "epoch"] == [("epoch", 0),
                                                                                                   ("epoch", 1)]
