"""The conditional sampler: condition vectors, training-by-sampling and the compact-to-wide expansion."""

import numpy as np
import torch

from tabgan.sampling import ConditionalSampler, expand_codes

CPU = torch.device("cpu")


def _codes():
    # Two conditioned columns: 3 levels (level 2 unused by the rows) and 2 levels.
    a = torch.tensor([0, 0, 0, 1, 1, 0, 1, 0])
    b = torch.tensor([1, 0, 1, 1, 0, 0, 1, 1])
    return torch.stack([a, b], dim=1)


def test_expand_codes_places_floats_and_one_hot_levels():
    floats = torch.tensor([[0.5], [-0.25]])
    codes = torch.tensor([[2, 0], [0, 1]])
    out = expand_codes(floats, codes, torch.tensor([0]), torch.tensor([1, 4]), width=6)
    assert out.tolist() == [[0.5, 0, 0, 1, 1, 0], [-0.25, 1, 0, 0, 0, 1]]


def test_condition_vectors_are_one_hot_at_the_column_offset():
    sampler = ConditionalSampler([np.array([0.5, 0.5, 0.0]), np.array([0.4, 0.6])], CPU)
    assert sampler.cond_width == 5 and sampler.cond_offsets.tolist() == [0, 3]
    cond = sampler.fixed(4, column=1, level=1)
    assert cond.tolist() == [[0, 0, 0, 0, 1]] * 4


def test_training_rows_hold_the_level_of_their_condition_and_unused_levels_are_never_asked():
    sampler = ConditionalSampler([np.array([0.5, 0.5, 0.0]), np.array([0.4, 0.6])], CPU, codes=_codes())
    gen = torch.Generator().manual_seed(0)
    cond, col, level, rows = sampler.sample_train(2000, gen)
    codes = _codes()
    assert torch.equal(codes[rows, col], level)
    assert not torch.any((col == 0) & (level == 2))
    assert torch.equal(cond.sum(dim=1), torch.ones(2000))
    assert torch.equal(cond.argmax(dim=1), sampler.cond_offsets[col] + level)


def test_generation_draws_levels_by_their_frequency():
    sampler = ConditionalSampler([np.array([0.2, 0.8])], CPU)
    _, col, level = sampler.sample_generation(20_000, torch.Generator().manual_seed(1))
    assert torch.all(col == 0)
    assert abs(level.float().mean().item() - 0.8) < 0.02


def test_conditions_read_from_rows_name_each_rows_own_level():
    sampler = ConditionalSampler([np.array([0.5, 0.5, 0.0]), np.array([0.4, 0.6])], CPU)
    sampler.codes = _codes()  # as under DP: no index of rows by level, no counts taken
    rows = torch.tensor([0, 3, 4, 7])
    _, col, level = sampler.cond_from_rows(rows, torch.Generator().manual_seed(2))
    assert torch.equal(level, _codes()[rows, col])


def test_a_target_column_takes_half_the_draws_in_training_and_generation():
    probs = [np.array([0.5, 0.5, 0.0]), np.array([0.4, 0.6])]
    plain = ConditionalSampler(probs, CPU, codes=_codes())
    aimed = ConditionalSampler(probs, CPU, codes=_codes(), target=1)
    n = 20_000
    assert abs(float((plain.sample_train(n, torch.Generator().manual_seed(0))[1] == 1).float().mean()) - 0.5) < 0.02
    # Half the draws on the target, the other half uniform: three quarters in all.
    _, col, level, rows = aimed.sample_train(n, torch.Generator().manual_seed(0))
    assert abs(float((col == 1).float().mean()) - 0.75) < 0.02
    assert torch.equal(_codes()[rows, col], level)  # the rows still hold their condition's level
    _, col, level = aimed.sample_generation(n, torch.Generator().manual_seed(0))
    assert abs(float((col == 1).float().mean()) - 0.75) < 0.02
    on_target = level[col == 1]
    assert abs(float(on_target.float().mean()) - 0.6) < 0.02  # levels still by frequency
