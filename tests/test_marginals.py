"""Two-way marginals under DP: the sensitivity of the releases and the tilt's post-processing."""

import inspect
import math
from dataclasses import replace

import numpy as np
import pytest

from tabgan import marginals
from tabgan.marginals import (PairTilt, Rule, candidate_pairs, fit_tilt, grouped, measure_pairs, pair_counts, pair_groups,
                              pair_resolution, pair_scores, resample, resampling_from_tables, select_pairs,
                              tilt_from_release)

WIDTHS = [3, 4, 2, 1]


def _codes(n, seed=0):
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, w, n) for w in WIDTHS], axis=1)


def test_one_row_moves_each_measured_table_by_one_count_in_one_cell():
    codes = _codes(500)
    pairs = candidate_pairs(WIDTHS)
    assert pairs == [(0, 1), (0, 2), (1, 2)]  # a column with one level is never paired
    with_row = pair_counts(codes, WIDTHS, pairs)
    without = pair_counts(codes[1:], WIDTHS, pairs)
    diff = np.concatenate([(a - b).ravel() for a, b in zip(with_row, without)])
    # L2 sensitivity sqrt(k): the noise scale the release charges for k tables.
    assert np.sort(diff)[-len(pairs):].tolist() == [1.0] * len(pairs) and np.abs(diff).sum() == len(pairs)
    assert np.linalg.norm(diff) == pytest.approx(math.sqrt(len(pairs)))
    noisy = measure_pairs(codes, WIDTHS, pairs, 2.0, np.random.default_rng(0))
    spread = np.concatenate([(n - t).ravel() for n, t in zip(noisy, with_row)])
    assert 1.5 < spread.std() < 2.5


def test_a_selection_score_moves_by_at_most_one_when_a_row_is_added_or_removed():
    codes, fake = _codes(400, 1), _codes(3000, 2)
    pairs = candidate_pairs(WIDTHS)
    for i in (0, 7, 399):
        a = pair_scores(codes, fake, WIDTHS, 400.0, 3.0, pairs)
        b = pair_scores(np.delete(codes, i, axis=0), fake, WIDTHS, 400.0, 3.0, pairs)
        assert np.abs(a - b).max() <= 1.0 + 1e-9


def test_the_selection_finds_the_pair_the_generator_misses():
    rng = np.random.default_rng(3)
    real = _codes(5000, 4)
    real[:, 1] = np.where(rng.random(5000) < 0.9, real[:, 0], real[:, 1])  # columns 0 and 1 related
    fake = _codes(20000, 5)  # independent columns
    chosen = select_pairs(real, fake, WIDTHS, 5000.0, 1, epsilon0=0.5, sigma=5.0, rng=rng)
    assert chosen == [(0, 1)]


def test_the_tilt_reads_generated_rows_and_releases_only_and_matches_the_noisy_pair():
    assert "private" not in inspect.signature(fit_tilt).parameters
    pool = _codes(50_000, 6)  # the generator: independent columns
    target = np.array([[0.3, 0.0, 0.0, 0.03], [0.0, 0.3, 0.0, 0.03], [0.0, 0.0, 0.3, 0.04]])
    tilt = fit_tilt(pool, WIDTHS, [(0, 1)], [target * 1000], [None, None, np.array([0.5, 0.5]), None])
    keep = tilt.accept(pool, np.random.default_rng(7).random(len(pool)))
    kept = pair_counts(pool[keep], WIDTHS, [(0, 1)])[0]
    # The pair's joint frequencies follow the released table, within the floor and the cap.
    assert np.abs(kept / kept.sum() - target).sum() < 0.1
    back = PairTilt.from_state(tilt.get_state())
    assert np.array_equal(back.log_weight(pool), tilt.log_weight(pool))


def test_no_pairs_and_no_targets_leave_every_weight_at_one():
    pool = _codes(1000)
    tilt = fit_tilt(pool, WIDTHS, [], [], [None] * 4)
    assert np.allclose(np.exp(tilt.log_weight(pool)), 1.0) and tilt.cap == 1.0
    assert marginals.MAX_CELLS >= 1000


def test_a_near_function_in_a_noisy_table_is_kept_by_resampling_the_coarser_column():
    rng = np.random.default_rng(8)
    widths = [5, 5, 3]
    function = np.array([3, 0, 4, 1, 2])  # column 1 is a function of column 0
    table = np.zeros((5, 5))
    table[np.arange(5), function] = 400
    noisy = table + rng.normal(0, 5, table.shape)
    weak = rng.uniform(80, 120, size=(5, 3))  # column 2 barely related: left to the weights
    eligible = np.array([True, True, True])
    rules = resampling_from_tables([(0, 1), (0, 2)], [noisy, weak], widths, eligible, 5.0)
    assert [(r.child, r.parent) for r in rules] == [(1, 0)]
    pool = np.stack([rng.integers(0, w, 20_000) for w in widths], axis=1)  # a generator that mixes them up
    again = resample(pool, rules, rng.random((len(pool), 1)))
    assert np.mean(again[:, 1] == function[again[:, 0]]) > 0.97
    assert np.array_equal(again[:, [0, 2]], pool[:, [0, 2]])  # the other columns keep their draws
    # A column whose codes are modes of a continuous range is not resampled for a near-function
    # alone (only when the generated rows miss the dependence, see the next test).
    assert resampling_from_tables([(0, 1)], [noisy], widths, np.array([True, False, True]), 5.0) == []
    tilt = tilt_from_release(pool, widths, [(0, 1)], [noisy], 5.0, [None] * 3, eligible, rng)
    back = PairTilt.from_state(tilt.get_state()).resample[0]
    assert (back.child, back.parent, back.order) == (1, 0, None)


def test_a_strong_dependence_the_generator_missed_is_resampled_along_a_chain():
    # Four numeric columns of 8 modes each: 0 -> 1 -> 2 strongly related in the real table
    # (V about 0.6, no near-function), 3 unrelated; the generator made them all independent.
    rng = np.random.default_rng(11)
    widths, n = [8, 8, 8, 8], 40_000
    real = np.empty((n, 4), dtype=np.int64)
    real[:, 0] = rng.integers(0, 8, n)
    for j in (1, 2):
        real[:, j] = np.clip(real[:, j - 1] + rng.integers(-1, 2, n), 0, 7)
    real[:, 3] = rng.integers(0, 8, n)
    pairs = [(1, 2), (0, 1), (0, 2), (0, 3)]
    noisy = [t + rng.normal(0, 5.0, t.shape) for t in pair_counts(real, widths, pairs)]
    modes_only = np.zeros(4, dtype=bool)  # no value columns: the near-function rule cannot apply
    pool = rng.integers(0, 8, size=(n, 4))
    numeric = [True] * 4
    tilt = tilt_from_release(pool, widths, pairs, noisy, 5.0, [None] * 4, modes_only, rng, (), numeric)
    rules = [(r.child, r.parent) for r in tilt.resample]
    # The two strongest pairs make a tree over 0, 1, 2 (the weaker 0-2 is left to the weights);
    # the unrelated column keeps its draws.
    assert {frozenset(r) for r in rules} == {frozenset((0, 1)), frozenset((1, 2))}
    done = set()
    for child, parent in rules:  # a parent is drawn before its child reads it
        assert child not in done
        done.add(child)
    again = resample(pool, tilt.resample, rng.random((n, len(tilt.resample))))
    for a, b in [(0, 1), (1, 2)]:
        assert np.corrcoef(again[:, a], again[:, b])[0, 1] > 0.6 > 0.05 > abs(np.corrcoef(pool[:, a], pool[:, b])[0, 1])
    # A generator that kept the dependence is left to the weights.
    kept = tilt_from_release(real, widths, pairs, noisy, 5.0, [None] * 4, modes_only, rng, (), numeric)
    assert kept.resample == []
    # Categorical columns learn their relations through the condition vectors: left to the weights.
    assert tilt_from_release(pool, widths, pairs, noisy, 5.0, [None] * 4, modes_only, rng, (), [False] * 4).resample == []


def test_a_numeric_child_is_mapped_by_quantiles_keeping_the_generators_ranking():
    # Column 1 (numeric, codes in reverse order of value) depends on column 0 (numeric) in the
    # real table; the generator missed that but ranks column 1 by column 2 (a category it was
    # conditioned on). Resampled, column 1 follows the released table given column 0, and,
    # mapped by quantiles, still rises with column 2, which a fresh draw forgets.
    rng = np.random.default_rng(12)
    widths, n = [8, 8, 4], 40_000
    value_of = np.arange(8)[::-1].astype(float)  # code k of column 1 has value 7 - k
    real = np.empty((n, 3), dtype=np.int64)
    real[:, 0], real[:, 2] = rng.integers(0, 8, n), rng.integers(0, 4, n)
    real[:, 1] = 7 - np.clip(real[:, 0] + rng.integers(-1, 2, n), 0, 7)
    noisy = [pair_counts(real, widths, [(0, 1)])[0] + rng.normal(0, 5.0, (8, 8))]
    pool = np.stack([rng.integers(0, 8, n), np.zeros(n, np.int64), rng.integers(0, 4, n)], axis=1)
    pool[:, 1] = 7 - np.clip(2 * pool[:, 2] + rng.integers(0, 2, n), 0, 7)
    values, numeric = [np.arange(8.0), value_of, None], [True, True, False]
    mapped = tilt_from_release(pool, widths, [(0, 1)], noisy, 5.0, [None] * 3, np.zeros(3, bool), rng, (), numeric,
                               values)
    fresh = tilt_from_release(pool, widths, [(0, 1)], noisy, 5.0, [None] * 3, np.zeros(3, bool), rng, (), numeric)
    rule = mapped.resample[0]
    assert (rule.child, rule.parent) == (1, 0) and list(rule.order) == list(range(8))[::-1]
    u = rng.random((n, 1))
    target = np.clip(noisy[0], 0, None) / np.clip(noisy[0], 0, None).sum()
    for tilt in (mapped, fresh):
        again = resample(pool, tilt.resample, u)
        joint = pair_counts(again, widths, [(0, 1)])[0] / n
        assert np.abs(joint - target).sum() < 0.1  # the released table given column 0, either way
        rises = np.corrcoef(value_of[again[:, 1]] - again[:, 0], again[:, 2])[0, 1]
        assert rises > 0.3 if tilt is mapped else abs(rises) < 0.05
    back = PairTilt.from_state(mapped.get_state())
    assert np.array_equal(resample(pool, back.resample, u), resample(pool, mapped.resample, u))


def test_a_wide_numeric_column_is_measured_on_equal_mass_ranges_of_adjacent_values():
    # Column 0: an integer column of 40 point masses (values shuffled in code order) and a
    # missing mode; column 1: 6 categorical levels, never grouped; column 2: 3 numeric codes.
    rng = np.random.default_rng(9)
    values = [np.concatenate([rng.permutation(40).astype(float), [np.nan]]), None, np.array([0.0, 1.0, 2.0])]
    targets = [np.full(41, 1 / 41), np.full(6, 1 / 6), np.full(3, 1 / 3)]
    groups = pair_groups([41, 6, 3], values, targets, 4)
    assert groups[1].tolist() == list(range(6)) and groups[2].tolist() == [0, 1, 2]
    g = groups[0]
    assert g[40] == 4 and sorted(set(g[:40].tolist())) == [0, 1, 2, 3]  # the missing mode alone
    order = np.argsort(values[0][:40])
    assert np.all(np.diff(g[order]) >= 0)  # adjacent values share a group
    assert np.bincount(g[:40]).tolist() == [10, 10, 10, 10]
    codes = np.stack([rng.integers(0, 41, 100), rng.integers(0, 6, 100), rng.integers(0, 3, 100)], axis=1)
    paired, widths = grouped(codes, groups)
    assert widths == [5, 6, 3] and np.array_equal(paired[:, 0], g[codes[:, 0]])
    # More rows or less noise: finer groups.
    assert pair_resolution(26_000, 55.0) < pair_resolution(26_000, 20.0) < pair_resolution(260_000, 20.0)


def test_the_tilt_matches_a_pair_measured_on_groups_and_never_resamples_a_grouped_column():
    rng = np.random.default_rng(10)
    widths = [20, 20]
    pool = np.stack([rng.integers(0, 20, 40_000), rng.integers(0, 20, 40_000)], axis=1)  # independent
    groups = [np.repeat(np.arange(4), 5), np.repeat(np.arange(4), 5)]  # codes 0-4, 5-9, ... one range
    real = rng.integers(0, 20, 5_000)
    real = np.stack([real, np.clip(real + rng.integers(-1, 2, 5_000), 0, 19)], axis=1)  # nearly equal
    table = pair_counts(grouped(real, groups)[0], [4, 4], [(0, 1)])[0]
    tilt = tilt_from_release(pool, widths, [(0, 1)], [table], 1.0, [None, None], np.array([True, True]), rng, groups)
    assert tilt.resample == []  # a function between ranges says nothing about the codes inside them
    keep = tilt.accept(pool, rng.random(len(pool)))
    kept = pair_counts(grouped(pool[keep], groups)[0], [4, 4], [(0, 1)])[0]
    assert np.abs(kept / kept.sum() - table / table.sum()).sum() < 0.1
    back = PairTilt.from_state(tilt.get_state())
    assert np.array_equal(back.log_weight(pool), tilt.log_weight(pool))


def test_pairs_chosen_in_rounds_skip_a_pair_the_earlier_releases_already_fix():
    # Columns 0, 1 and 2 are copies of each other, 3 and 4 related; the generator makes every
    # column independent. Chosen at once, the three copy pairs take all three measurements;
    # chosen one per round, two of them resample the third into place and the last
    # measurement goes to the pair 3-4 that nothing else fixes.
    rng = np.random.default_rng(11)
    widths, n = [4, 4, 4, 3, 3], 5000
    base, other = rng.integers(0, 4, n), rng.integers(0, 3, n)
    private = np.stack([base, base, base, other, np.where(rng.random(n) < 0.6, other, rng.integers(0, 3, n))], axis=1)
    pool = np.stack([rng.integers(0, w, 20_000) for w in widths], axis=1)

    def chosen(rounds):
        pairs, noisy, tilt = marginals.measure_in_rounds(private, pool, widths, (), float(n), 3, 50.0, 1.0,
                                                      np.random.default_rng(0), [None] * 5, np.ones(5, bool),
                                                      lambda: np.random.default_rng(1), rounds=rounds)
        assert len(noisy) == len(pairs) == 3 and len(set(pairs)) == 3  # k tables, none twice
        # The tilt it returns is the one the releases alone rebuild.
        rebuilt = tilt_from_release(pool, widths, pairs, noisy, 1.0, [None] * 5, np.ones(5, bool),
                                    np.random.default_rng(1))
        assert np.array_equal(rebuilt.log_weight(pool), tilt.log_weight(pool))
        return set(pairs)

    assert chosen(1) == {(0, 1), (0, 2), (1, 2)}
    assert (3, 4) in chosen(3) and (3, 4) in chosen(None)
    assert marginals.round_sizes(17, 3) == [6, 6, 5] and marginals.round_sizes(2, 3) == [1, 1]


def test_the_generated_rows_own_sampling_noise_does_not_make_a_wide_independent_pair_look_wrong():
    # A column of 40 levels independent of the rest: the generator has its pairs right, yet a
    # 2,000-row pool's tables differ from the private ones by their sampling noise; the related
    # narrow pair the generator misses must score highest.
    rng = np.random.default_rng(12)
    widths, n = [40, 2, 3, 3], 30_000
    a, b = rng.integers(0, 3, n), rng.integers(0, 3, n)
    private = np.stack([rng.integers(0, 40, n), rng.integers(0, 2, n), a, np.where(rng.random(n) < 0.15, a, b)], axis=1)
    pool = np.stack([rng.integers(0, w, 2000) for w in widths], axis=1)
    scores = dict(zip(candidate_pairs(widths), pair_scores(private, pool, widths, float(n), 1.0, candidate_pairs(widths))))
    assert max(scores, key=scores.get) == (2, 3)


def test_positions_inside_resampled_modes_run_with_the_parent_and_every_mode_keeps_its_positions():
    rng = np.random.default_rng(13)
    n = 4000
    codes = np.stack([rng.integers(0, 3, n), rng.integers(0, 4, n)], axis=1)
    floats = rng.normal(size=(n, 2))  # each column's place inside its mode, unrelated
    float_of = {0: 0, 1: 1}
    rule = Rule(1, 0, np.ones((3, 4)), np.arange(4), None, 1)
    out = marginals.couple_positions(floats, codes, [rule], float_of)
    assert np.array_equal(out[:, 0], floats[:, 0])  # the parent is not touched
    for p in range(3):
        for c in range(4):
            cell = (codes[:, 0] == p) & (codes[:, 1] == c)
            # Same positions in the cell, now in the parent's order.
            assert np.array_equal(np.sort(out[cell, 1]), np.sort(floats[cell, 1]))
            order = np.argsort(floats[cell, 0])
            assert np.all(np.diff(out[cell, 1][order]) >= 0)
    falling = marginals.couple_positions(floats, codes, [replace(rule, sign=-1)], float_of)
    cell = (codes[:, 0] == 1) & (codes[:, 1] == 2)
    assert np.all(np.diff(falling[cell, 1][np.argsort(floats[cell, 0])]) <= 0)
    # A rule without a direction (categorical, or saved before the coupling) changes nothing.
    assert marginals.couple_positions(floats, codes, [replace(rule, sign=0)], float_of) is floats


def test_a_missed_numeric_rule_reads_its_direction_from_the_released_table_and_keeps_it_when_saved():
    widths, sigma = [5, 5], 1.0
    values = [np.arange(5.0), np.arange(5.0)]
    seen = [np.full((5, 5), 40.0)]  # the generator: unrelated
    found = {}
    for name, table in (("rising", np.eye(5) * 400), ("falling", np.fliplr(np.eye(5)) * 400)):
        rules = resampling_from_tables([(0, 1)], [table], widths, np.zeros(2, bool), sigma, seen,
                                       np.ones(2, bool), [True, True], values)
        assert len(rules) == 1 and rules[0].order is not None
        found[name] = rules[0].sign
        back = Rule.from_state(rules[0].fitted(np.stack([np.arange(5), np.arange(5)], axis=1)).get_state())
        assert back.sign == rules[0].sign
    assert found == {"rising": 1, "falling": -1}
    old = Rule(1, 0, np.ones((5, 5)), np.arange(5), np.ones((5, 5)), 1).get_state()[:5]
    assert Rule.from_state(old).sign == 0  # a model saved before the coupling samples as it did
