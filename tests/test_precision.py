"""precision="bfloat16": mixed-precision forward passes (issue 14), float32 by default."""

import pandas as pd
import pytest
import torch

from tabgan import Synthesizer
from tabgan.nn.precision import autocast


def test_bfloat16_runs_the_matrix_products_in_bfloat16_only_inside_the_block():
    layer = torch.nn.Linear(4, 3)
    x = torch.randn(2, 4)
    with autocast(torch.device("cpu"), torch.bfloat16):
        assert layer(x).dtype == torch.bfloat16
    with autocast(torch.device("cpu"), None):
        assert layer(x).dtype == torch.float32


def test_bfloat16_fit_samples_valid_rows_and_is_kept_in_the_model_file(mixed_frame, fast_params, tmp_path):
    model = Synthesizer(precision="bfloat16", **fast_params).fit(mixed_frame)
    plain = Synthesizer(**fast_params).fit(mixed_frame)
    out = model.sample(300, random_state=1)
    assert list(out.columns) == list(mixed_frame.columns)
    pd.testing.assert_series_equal(out.dtypes, mixed_frame.dtypes)
    assert out["x"].dropna().between(mixed_frame["x"].min(), mixed_frame["x"].max()).all()
    assert all(torch.isfinite(p).all() for p in model.generator_.parameters())
    assert not out.equals(plain.sample(300, random_state=1))  # the setting reaches training and sampling
    path = tmp_path / "bf16.tabgan"
    model.save(path)
    loaded = Synthesizer.load(path)
    assert loaded.precision == "bfloat16"
    pd.testing.assert_frame_equal(loaded.sample(64, random_state=3), model.sample(64, random_state=3))


@pytest.mark.parametrize("params, match", [
    ({"precision": "float16"}, "precision must be one of"),
    ({"precision": "bfloat16", "epsilon": 1.0}, "not available with differential privacy"),
])
def test_bad_precision_is_refused_before_fitting(mixed_frame, fast_params, params, match):
    with pytest.raises(ValueError, match=match):
        Synthesizer(**{**fast_params, **params}).fit(mixed_frame)
