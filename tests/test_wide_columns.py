"""Categorical columns with more levels than WIDE_LEVELS (tail numbers, zip codes).

They are generated like any other column, but are not conditioned on; the generator's head for
them is a rank-WIDE_RANK factor (the default) or a mixture of WIDE_COMPONENTS distributions over
the levels (``wide_head="mixture"``, with which training never expands them to full width), and
the critic sees them through a rank-WIDE_RANK projection.
"""

import numpy as np
import pandas as pd
import pytest
import torch

from tabgan import Synthesizer
from tabgan.exceptions import ConditionError
from tabgan.nn.losses import gradient_penalty, projected_gradient_penalty
from tabgan.nn.modules import WIDE_COMPONENTS, WIDE_RANK, Discriminator, Generator
from tabgan.nn.wide import relaxed_mixture_sample
from tabgan.transformers.base import WIDE_LEVELS

N = 3000
N_IDS = WIDE_LEVELS + 44
SMALL = {"epochs": 2, "batch_size": 300, "generator_dims": (64,), "discriminator_dims": (64,),
         "embedding_dim": 16, "verbose": False, "random_state": 0, "wide_head": "mixture"}


@pytest.fixture(scope="module")
def wide_frame():
    rng = np.random.default_rng(0)
    # Zipf-like frequencies, so the calibrated marginal has something to get right.
    weights = 1.0 / np.arange(1, N_IDS + 1)
    ids = np.concatenate([np.arange(N_IDS), rng.choice(N_IDS, N - N_IDS, p=weights / weights.sum())])
    return pd.DataFrame({
        "plane": np.char.add("N", ids.astype(str)).astype(object),
        "carrier": np.where(ids % 3 == 0, "AA", np.where(ids % 3 == 1, "UA", "DL")).astype(object),
        "distance": rng.gamma(2.0, 400.0, N).round(),
    })


@pytest.fixture(scope="module")
def wide_model(wide_frame):
    return Synthesizer(**SMALL).fit(wide_frame)


def test_wide_column_is_generated_but_not_in_the_condition_vector(wide_model, wide_frame):
    layout = wide_model.transformer_.layout_
    assert layout.wide_spans == [(0, N_IDS)]
    assert wide_model.sampler_.cond_width == 3  # carrier's levels only
    synthetic = wide_model.sample(2000, random_state=0)
    assert set(synthetic["plane"]) <= set(wide_frame["plane"])
    assert synthetic["plane"].nunique() > 100
    # Calibration gets the marginal of the wide column right: the most frequent levels lead.
    top_real = wide_frame["plane"].value_counts().index[:5]
    share = synthetic["plane"].isin(top_real).mean()
    real_share = wide_frame["plane"].isin(top_real).mean()
    assert abs(share - real_share) < 0.08


def test_networks_see_a_wide_span_through_a_mixture_and_a_projection(wide_model):
    gen, disc = wide_model.generator_, wide_model.discriminator_
    assert tuple(gen.levels[0].shape) == (WIDE_COMPONENTS, N_IDS)
    assert disc.project[0].in_features == N_IDS and disc.project[0].out_features == WIDE_RANK
    # The first layer sees the projection, not the levels.
    width = wide_model.transformer_.layout_.width + wide_model.sampler_.cond_width
    assert disc.net[0].in_features == wide_model.pac * (width - N_IDS + WIDE_RANK)


def test_generator_places_each_span_at_its_offset():
    torch.manual_seed(0)
    wide = ((3, 300), (305, 400))
    gen = Generator(8, (16,), 710, wide, head="mixture").eval()
    x = torch.randn(257, 8)
    logits = gen(x)
    assert logits.shape == (257, 710)
    assert gen.net(torch.zeros(2, 8)).shape[1] == 710 - 700 + 2 * WIDE_COMPONENTS  # narrow units + mixture weights
    narrow, log_weights, log_levels = gen.split(x)
    for k, (off, w) in enumerate(wide):
        # A wide span's raw outputs are the log-probabilities of its levels under the row's mixture.
        probs = log_weights[k].exp() @ log_levels[k].exp()
        torch.testing.assert_close(logits[:, off:off + w], probs.log())
        torch.testing.assert_close(probs.sum(dim=1), torch.ones(257))
    torch.testing.assert_close(logits[:, :3], narrow[:, :3])
    torch.testing.assert_close(logits[:, 303:305], narrow[:, 3:5])
    torch.testing.assert_close(logits[:, 705:], narrow[:, 5:10])


def test_factor_head_places_each_span():
    torch.manual_seed(0)
    gen = Generator(8, (16,), 710, ((3, 300), (305, 400))).eval()
    x = torch.randn(257, 8)
    block = gen(x)[:, 3:303] - gen.expand[0].bias
    assert torch.linalg.matrix_rank(block.detach(), rtol=1e-4) <= WIDE_RANK


def test_relaxed_samples_of_a_wide_span_follow_its_mixture():
    gen = torch.Generator().manual_seed(0)
    n, levels = 20000, 50
    log_weights = torch.log_softmax(torch.tensor([[0.5, -1.0, 2.0, 0.0]]), dim=1).expand(n, 4)
    log_levels = torch.log_softmax(torch.randn(4, levels, generator=gen) * 2, dim=1)
    probs = (log_weights[:1].exp() @ log_levels.exp())[0]
    index, weight = relaxed_mixture_sample(log_weights, log_levels, 0.2, gen)
    torch.testing.assert_close(weight.sum(dim=1), torch.ones(n))
    # The level a sample weighs most is drawn from the mixture (Gumbel-max), ...
    top = index.gather(1, weight.argmax(dim=1, keepdim=True)).squeeze(1)
    assert (torch.bincount(top, minlength=levels) / n - probs).abs().max() < 0.01
    # ... and the sample's mean is the full Gumbel-softmax's, over every level.
    u = torch.rand(n, levels, generator=gen)
    full = torch.softmax((probs.log() - torch.log(-torch.log(u))) / 0.2, dim=1).mean(dim=0)
    mine = torch.zeros(n, levels).scatter_add_(1, index, weight).mean(dim=0)
    assert (full - mine).abs().max() < 0.01


def _expanded(disc, narrow, levels):
    """Rows at full width from narrow inputs and each wide span's codes or (index, weight)."""
    rows = narrow.shape[0]
    x = torch.zeros(rows, sum(stop - start for start, stop, _ in disc._segments))
    pos = 0
    for start, stop, k in disc._segments:
        if k is None:
            x[:, start:stop] = narrow[:, pos:pos + stop - start]
            pos += stop - start
        elif isinstance(levels[k], torch.Tensor):
            x[torch.arange(rows), start + levels[k]] = 1.0
        else:
            x[:, start:stop].scatter_add_(1, *levels[k])
    return x


def test_critic_and_penalty_on_level_codes_equal_those_at_full_width():
    torch.manual_seed(0)
    disc = Discriminator(720, (16, 16), pac=2, dropout=0.0, wide=((3, 300), (305, 400)))
    real = (torch.randn(8, 20), [torch.randint(0, 300, (8,)), torch.randint(0, 400, (8,))])
    fake = (torch.randn(8, 20), [(torch.randint(0, w, (8, 5)), torch.softmax(torch.randn(8, 5), dim=1))
                                 for w in (300, 400)])
    full_real, full_fake = _expanded(disc, *real), _expanded(disc, *fake)
    torch.testing.assert_close(disc.score(disc.embed(*real)), disc(full_real))
    torch.testing.assert_close(disc.score(disc.embed(*fake)), disc(full_fake))
    expected = gradient_penalty(disc, full_real, full_fake, 2, torch.Generator().manual_seed(1), 10.0, 0.5)
    penalty = projected_gradient_penalty(disc, real, fake, 2, torch.Generator().manual_seed(1), 10.0, 0.5)
    torch.testing.assert_close(penalty, expected)
    params = [p for p in disc.parameters()][:-1]  # the last bias has no gradient in a penalty
    for a, b in zip(torch.autograd.grad(expected, params), torch.autograd.grad(penalty, params)):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-5)


def test_discriminator_sees_a_wide_span_only_through_its_projection():
    torch.manual_seed(0)
    disc = Discriminator(310, (8,), pac=2, dropout=0.0, wide=((10, 300),))
    x = torch.randn(6, 310)
    assert disc(x).shape == (3, 1)
    swapped = x.clone()
    swapped[:, 10:310] = 0
    # Only the projection sees the wide span: zeroing it equals zeroing its projection's weights.
    with torch.no_grad():
        expected = disc(swapped)
        disc.project[0].weight.zero_()
        torch.testing.assert_close(disc(x), expected)


def test_wide_levels_drawn_from_the_mixture_follow_the_full_width_draw(wide_model, monkeypatch):
    from tabgan import generation

    def shares(seed):
        return wide_model.sample(20000, random_state=seed)["plane"].value_counts(normalize=True)

    fast = shares(1)
    # Without the narrow layout, generation expands the wide span and takes a Gumbel-max over it.
    monkeypatch.setattr(generation, "_narrow_layout", lambda parts: None)
    dense, dense_again = shares(1), shares(2)
    reference = 0.5 * dense.sub(dense_again, fill_value=0).abs().sum()  # two draws of the same distribution
    assert 0.5 * fast.sub(dense, fill_value=0).abs().sum() < 1.5 * reference


def test_factor_head_trains_at_full_width_and_round_trips(wide_frame, tmp_path):
    model = Synthesizer(**dict(SMALL, wide_head="factor")).fit(wide_frame)
    assert model.generator_.head == "factor" and not hasattr(model.generator_, "levels")
    model.save(tmp_path / "factor.tabgan")
    loaded = Synthesizer.load(tmp_path / "factor.tabgan")
    assert loaded.generator_.head == "factor"
    pd.testing.assert_frame_equal(loaded.sample(300, random_state=4), model.sample(300, random_state=4))


def test_wide_head_is_checked():
    with pytest.raises(ValueError, match="wide_head must be 'factor' or 'mixture'"):
        Synthesizer(wide_head="dense").fit(pd.DataFrame({"a": [1.0, 2.0, 3.0] * 10}))


def test_conditions_on_a_wide_column_are_refused_with_what_to_do(wide_model):
    with pytest.raises(ConditionError, match="more than 256 levels"):
        wide_model.sample(10, conditions={"plane": "N1"})
    assert (wide_model.sample(50, conditions={"carrier": "AA"}, random_state=0)["carrier"] == "AA").all()


def test_wide_model_round_trips_through_save_and_load(wide_model, tmp_path):
    path = tmp_path / "wide.tabgan"
    wide_model.save(path)
    loaded = Synthesizer.load(path)
    pd.testing.assert_frame_equal(loaded.sample(300, random_state=4), wide_model.sample(300, random_state=4))


def test_wide_column_under_differential_privacy(wide_frame):
    pytest.importorskip("opacus")
    levels = sorted(wide_frame["plane"].unique())
    params = dict(SMALL, epochs=1, batch_size=None)
    model = Synthesizer(epsilon=2.0, delta=1e-5, **params).fit(
        wide_frame, metadata={"columns": {"plane": {"kind": "categorical", "categories": levels}}})
    assert model.privacy_spent_["epsilon"] <= 2.0
    assert model.sampler_.cond_width < 10  # carrier's released levels, not the planes
    synthetic = model.sample(500, random_state=0)
    assert set(synthetic["plane"]) <= set(levels)


def test_unused_categories_of_a_wide_column_are_never_generated(wide_frame):
    levels = sorted(wide_frame["plane"].unique()) + [f"UNUSED{i}" for i in range(20)]
    frame = wide_frame.assign(plane=pd.Categorical(wide_frame["plane"], categories=levels))
    model = Synthesizer(**SMALL).fit(frame)
    assert model.transformer_.layout_.wide_spans == [(0, len(levels))]
    synthetic = model.sample(5000, random_state=0)
    assert not synthetic["plane"].astype(str).str.startswith("UNUSED").any()
    assert list(synthetic["plane"].cat.categories) == levels
    # Masked by the model itself, not only by calibration.
    uncalibrated = Synthesizer(**dict(SMALL, calibrate=False)).fit(frame).sample(5000, random_state=0)
    assert not uncalibrated["plane"].astype(str).str.startswith("UNUSED").any()
