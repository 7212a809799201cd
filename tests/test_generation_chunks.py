"""Wide outputs are generated in bounded chunks (issue 14): same rows per call, bounded memory."""

import numpy as np
import pandas as pd

import tabgan.generation as generation
from tabgan import Synthesizer


def test_chunk_rows_bounds_the_values_per_chunk():
    assert generation.chunk_rows(20_000, 150) == 20_000  # adult-like width: one chunk, as before
    assert generation.chunk_rows(20_000, 8_000) * 8_000 <= generation.MAX_CHUNK_VALUES
    assert generation.chunk_rows(5, 10**9) == 1


def test_small_chunks_give_the_same_kind_of_model_and_samples(monkeypatch, mixed_frame, fast_params):
    whole = Synthesizer(**fast_params).fit(mixed_frame)
    monkeypatch.setattr(generation, "MAX_CHUNK_VALUES", 700)  # a few dozen rows per chunk
    chunked = Synthesizer(**fast_params).fit(mixed_frame)
    out = chunked.sample(400, random_state=0)
    assert len(out) == 400 and list(out.columns) == list(mixed_frame.columns)
    # Calibration offsets fitted on pools drawn in pieces agree with the one-piece ones up to
    # the pools' sampling noise.
    assert np.allclose(chunked.calibration_.bias, whole.calibration_.bias, atol=0.5)
    shares = out["group"].value_counts(normalize=True).reindex(["a", "b", "c"]).fillna(0)
    real = mixed_frame["group"].value_counts(normalize=True).reindex(["a", "b", "c"])
    assert (shares - real).abs().max() < 0.15
    pd.testing.assert_frame_equal(chunked.sample(50, random_state=3), chunked.sample(50, random_state=3))
