"""One ``random_state`` for everything: resolve it once, hand out child generators.

Global RNG state (``np.random.seed``, ``torch.manual_seed``) is never read or written.
"""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["resolve_seed", "numpy_generator", "torch_generator"]


def resolve_seed(random_state) -> np.random.SeedSequence:
    """Turn ``None``, an int, a ``SeedSequence`` or a numpy ``Generator`` into a ``SeedSequence``.

    A ``Generator`` is consumed (one draw) so that passing the same generator twice gives
    different but reproducible streams, as in scikit-learn.
    """
    if random_state is None:
        return np.random.SeedSequence()
    if isinstance(random_state, np.random.SeedSequence):
        return random_state
    if isinstance(random_state, np.random.Generator):
        return np.random.SeedSequence(int(random_state.integers(0, 2**63 - 1)))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if int(random_state) < 0:
            raise ValueError(
                f"random_state must be a non-negative int, None or a numpy Generator; got {random_state}."
            )
        return np.random.SeedSequence(int(random_state))
    raise TypeError(
        "random_state must be None, a non-negative int or a numpy.random.Generator; "
        f"got {type(random_state).__name__}."
    )


def numpy_generator(seq: np.random.SeedSequence) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seq))


def torch_generator(seq: np.random.SeedSequence, device="cpu"):
    import torch

    gen = torch.Generator(device=device)
    gen.manual_seed(int(seq.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)))
    return gen
