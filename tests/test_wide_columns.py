"""Categorical columns with more levels than WIDE_LEVELS (tail numbers, zip codes).

They are generated like any other column, but are not conditioned on, and the networks see
them through a rank-WIDE_RANK factor: the fit of a table with thousands of levels stays cheap.
"""

import numpy as np
import pandas as pd
import pytest
import torch

from tabgan import Synthesizer
from tabgan.exceptions import ConditionError
from tabgan.nn.modules import WIDE_RANK, Discriminator, Generator
from tabgan.transformers.base import WIDE_LEVELS

N = 3000
N_IDS = WIDE_LEVELS + 44
SMALL = {"epochs": 2, "batch_size": 300, "generator_dims": (64,), "discriminator_dims": (64,),
         "embedding_dim": 16, "verbose": False, "random_state": 0}


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


def test_networks_see_a_wide_span_through_a_low_rank_factor(wide_model):
    gen, disc = wide_model.generator_, wide_model.discriminator_
    assert gen.expand[0].in_features == WIDE_RANK and gen.expand[0].out_features == N_IDS
    assert disc.project[0].in_features == N_IDS and disc.project[0].out_features == WIDE_RANK
    # The first layer sees the projection, not the levels.
    width = wide_model.transformer_.layout_.width + wide_model.sampler_.cond_width
    assert disc.net[0].in_features == wide_model.pac * (width - N_IDS + WIDE_RANK)


def test_generator_places_each_span_at_its_offset():
    torch.manual_seed(0)
    wide = ((3, 300), (305, 400))
    gen = Generator(8, (16,), 710, wide).eval()
    out = gen(torch.randn(5, 8))
    assert out.shape == (5, 710)
    assert gen.net(torch.zeros(2, 8)).shape[1] == 710 - 700 + 2 * WIDE_RANK  # narrow units + two factors
    x = torch.randn(257, 8)
    logits = gen(x)
    for k, (off, w) in enumerate(wide):
        block = logits[:, off:off + w] - gen.expand[k].bias
        assert torch.linalg.matrix_rank(block.detach(), rtol=1e-4) <= WIDE_RANK
    narrow = gen.net(x)
    torch.testing.assert_close(logits[:, :3], narrow[:, :3])
    torch.testing.assert_close(logits[:, 303:305], narrow[:, 3:5])
    torch.testing.assert_close(logits[:, 705:], narrow[:, 5:10])


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
