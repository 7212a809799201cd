"""A tiny training state (two numeric columns, one conditioned column of three levels) built
straight from the loop's parts, without the estimator."""

import numpy as np
import pytest
import torch

from tabgan.nn.modules import OutputHead
from tabgan.sampling import ConditionalSampler
from tabgan.training.loop import TrainingState

N_ROWS, EMBED = 40, 4
FLOATS, LEVELS = 2, 3
WIDTH = FLOATS + LEVELS


@pytest.fixture
def make_state():
    def make(critic=None, optimizer=None, *, conditioned: bool = True, gp_weight: float = 0.0, seed: int = 0):
        gen = torch.Generator().manual_seed(seed)
        floats = torch.rand(N_ROWS, FLOATS, generator=gen) * 2 - 1
        codes = torch.randint(0, LEVELS, (N_ROWS, 1), generator=gen)
        probs = [np.bincount(codes[:, 0].numpy(), minlength=LEVELS) / N_ROWS] if conditioned else []
        sampler = ConditionalSampler(probs, torch.device("cpu"), codes=codes if conditioned else None)
        cond_width = sampler.cond_width
        generator = torch.nn.Linear(EMBED + cond_width, WIDTH)
        critic = critic if critic is not None else torch.nn.Linear(WIDTH + cond_width, 1)
        return TrainingState(
            generator=generator, discriminator=critic, head=OutputHead(torch.arange(FLOATS), [FLOATS], [LEVELS]),
            opt_g=torch.optim.SGD(generator.parameters(), lr=0.1),
            opt_d=optimizer if optimizer is not None else torch.optim.SGD(critic.parameters(), lr=0.1),
            sampler=sampler, floats=floats, codes=codes, float_positions=torch.arange(FLOATS),
            code_offsets=torch.tensor([FLOATS]), cond_span_offsets=torch.tensor([FLOATS] if conditioned else []),
            cond_span_widths=torch.tensor([LEVELS] if conditioned else []), width=WIDTH, embedding_dim=EMBED,
            batch_size=8, pac=1, gp_weight=gp_weight, rng=gen)

    return make
