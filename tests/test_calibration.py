"""Post-hoc calibration (torch-free): logit offsets fitted by IPF on generated pools, score maps,
and their state."""

import numpy as np
from scipy.special import softmax

from tabgan.calibration import Calibration, fit_calibration, mode_quantiles

BASE = np.array([2.0, 0.0, -1.0, 0.5, 0.5])  # one code column of 3 levels at 0, one of 2 at 3
OFFSETS = np.array([0, 3])
TARGETS = [np.array([0.2, 0.3, 0.5]), np.array([0.9, 0.1])]


def _generate(rng):
    """A stand-in generator: levels drawn from softmax(BASE + bias) per span, no float column."""

    def generate(n, bias):
        logits = BASE + bias
        probs = [softmax(logits[0:3]), softmax(logits[3:5])]
        codes = np.stack([rng.choice(3, n, p=probs[0]), rng.choice(2, n, p=probs[1])], axis=1)
        return np.zeros((n, 0), np.float32), codes, probs, [None, None]

    return generate


def test_offsets_bring_the_expected_frequencies_to_the_targets():
    cal = fit_calibration(_generate(np.random.default_rng(0)), width=5, code_offsets=OFFSETS, targets=TARGETS,
                          quantile_floats={}, q_scale=4.5, alpha_clip=0.99)
    logits = BASE + cal.bias
    assert np.allclose(softmax(logits[0:3]), TARGETS[0], atol=0.01)
    assert np.allclose(softmax(logits[3:5]), TARGETS[1], atol=0.01)


def test_a_level_with_target_zero_is_never_drawn_and_none_leaves_a_column_alone():
    cal = fit_calibration(_generate(np.random.default_rng(1)), width=5, code_offsets=OFFSETS,
                          targets=[np.array([0.5, 0.5, 0.0]), None], quantile_floats={}, q_scale=4.5,
                          alpha_clip=0.99)
    assert softmax((BASE + cal.bias)[0:3])[2] < 1e-12
    assert np.all(cal.bias[3:5] == 0)


def test_state_round_trips_and_maps_apply_per_float_and_per_mode():
    cal = Calibration(np.array([0.0, 1.5]), {0: (np.array([-1.0, 1.0]), np.array([-0.5, 0.5]))},
                      {(1, 0, 2): (np.array([0.0, 1.0]), np.array([0.0, 0.25]))})
    again = Calibration.from_state(cal.get_state())
    floats = np.array([[0.5, 1.0], [1.0, 1.0]])
    codes = np.array([[2], [1]])
    assert np.allclose(again.map_floats(floats, codes), [[0.25, 0.25], [0.5, 1.0]])
    assert np.array_equal(again.bias, cal.bias)
    assert again.map_floats(floats) is not floats  # the float maps apply without codes too


def test_mode_quantiles_need_enough_rows_in_a_mode():
    floats = np.linspace(-1, 1, 400)[:, None]
    codes = np.repeat([[1]], 400, axis=0)
    codes[:3] = 0  # three rows in mode 0: too few
    q = mode_quantiles(floats, codes, {0: (0, [0, 1])})
    assert list(q) == [(0, 0, 1)] and q[(0, 0, 1)][0] >= floats[3, 0]
