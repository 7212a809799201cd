"""Long runs: an interrupted fit leaves nothing half-done, a checkpointed fit resumes, and
``sample_to`` streams to disk (issue 6)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tabgan.synthesizer as synth_mod
from tabgan import Synthesizer
from tabgan.exceptions import InvalidDataError, ModelFileError
from tabgan.training.callbacks import Callback

PARAMS = {"epochs": 4, "batch_size": 20, "verbose": False, "random_state": 0,
          "generator_dims": (32,), "discriminator_dims": (32,), "embedding_dim": 16}


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(0)
    n = 100
    return pd.DataFrame({"a": rng.normal(size=n), "g": rng.choice(["x", "y", "z"], n),
                         "i": pd.array(np.where(rng.random(n) < 0.2, None, rng.integers(0, 9, n)), dtype="Int64")})


class _Interrupt(Callback):
    """Presses Ctrl-C at the end of epoch ``at`` (0-based)."""

    def __init__(self, at: int):
        self.at = at

    def on_epoch_end(self, record) -> None:
        if record.epoch == self.at:
            raise KeyboardInterrupt


@pytest.fixture
def interrupt_at(monkeypatch):
    """``interrupt_at(k)`` makes the next fits raise KeyboardInterrupt after epoch k."""
    real = synth_mod.train

    def arm(at: int):
        def train(state, epochs, steps, callbacks, **kwargs):
            return real(state, epochs, steps, list(callbacks) + [_Interrupt(at)], **kwargs)

        monkeypatch.setattr(synth_mod, "train", train)

    yield arm


def test_keyboard_interrupt_reraises_and_leaves_unfitted(table, interrupt_at):
    model = Synthesizer(**PARAMS).fit(table)  # a first, complete fit ...
    interrupt_at(1)
    with pytest.raises(KeyboardInterrupt):
        model.fit(table)  # ... then an interrupted one: neither the old nor half of the new
    assert not [a for a in vars(model) if a.endswith("_")]
    with pytest.raises(AttributeError, match="not fitted"):
        model.sample(3)


def test_resumed_fit_completes_and_matches_an_uninterrupted_one(table, interrupt_at, tmp_path):
    path = tmp_path / "fit.ckpt"
    full = Synthesizer(**PARAMS).fit(table)
    interrupt_at(1)
    with pytest.raises(KeyboardInterrupt):
        Synthesizer(**PARAMS).fit(table, checkpoint=path, checkpoint_every=1)
    assert path.exists() and not list(tmp_path.glob(".*.tmp"))
    interrupt_at(99)  # disarm (4 epochs never reach epoch 99)
    resumed = Synthesizer(**PARAMS).fit(table, resume_from=path)
    assert resumed.epochs_ == 4
    assert [r.epoch for r in resumed.history_] == [0, 1, 2, 3]
    np.testing.assert_allclose(resumed.history_.to_frame()["generator_loss"],
                               full.history_.to_frame()["generator_loss"], rtol=1e-5)
    pd.testing.assert_frame_equal(resumed.sample(50, random_state=1), full.sample(50, random_state=1))


def test_checkpoint_every_k_and_final(table, tmp_path):
    from tabgan.training.checkpoint import read_checkpoint

    path = tmp_path / "fit.ckpt"
    Synthesizer(**{**PARAMS, "epochs": 3}).fit(table, checkpoint=path, checkpoint_every=2)
    meta, states = read_checkpoint(path)
    assert meta["epoch"] == 3 and len(meta["history"]) == 3
    assert {"generator", "discriminator", "opt_g", "opt_d", "rng"} <= set(states)
    text = str(meta)
    assert not any(f"{v:.6f}" in text for v in table["a"].head(30))  # no training rows inside
    # Resuming a finished fit trains nothing more and gives the same model.
    again = Synthesizer(**{**PARAMS, "epochs": 3}).fit(table, resume_from=path)
    assert again.epochs_ == 3


def test_resume_refuses_other_params_other_table_or_a_model_file(table, tmp_path):
    path = tmp_path / "fit.ckpt"
    Synthesizer(**{**PARAMS, "epochs": 1}).fit(table, checkpoint=path)
    with pytest.raises(ValueError, match=r"batch_size=20 \(now 40\).*same parameters"):
        Synthesizer(**{**PARAMS, "batch_size": 40}).fit(table, resume_from=path)
    with pytest.raises(InvalidDataError, match="table differs"):
        Synthesizer(**PARAMS).fit(table.drop(columns="i"), resume_from=path)
    model_path = tmp_path / "m.tabgan"
    Synthesizer(**{**PARAMS, "epochs": 1}).fit(table).save(model_path)
    with pytest.raises(ModelFileError, match="not a tabgan checkpoint"):
        Synthesizer(**PARAMS).fit(table, resume_from=model_path)
    with pytest.raises(FileNotFoundError):
        Synthesizer(**PARAMS).fit(table, resume_from=tmp_path / "missing.ckpt")
    with pytest.raises(ValueError, match="checkpoint_every must be an integer >= 1"):
        Synthesizer(**PARAMS).fit(table, checkpoint=path, checkpoint_every=0)
    with pytest.raises(TypeError, match="checkpoint must be a file path"):
        Synthesizer(**PARAMS).fit(table, checkpoint=3)


# ----------------------------------------------------------------------------- sample_to


@pytest.fixture(scope="module")
def fitted(table):
    return Synthesizer(**{**PARAMS, "epochs": 1}).fit(table)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_sample_to_writes_all_rows_in_chunks(fitted, table, tmp_path, suffix):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    path = tmp_path / f"out{suffix}"
    assert fitted.sample_to(path, 2_345, chunk_size=500, random_state=3) == path
    back = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    assert back.shape == (2_345, table.shape[1]) and list(back.columns) == list(table.columns)
    assert set(back["g"].dropna()) <= set(table["g"])
    if suffix == ".parquet":
        assert back.dtypes.astype(str).tolist() == table.dtypes.astype(str).tolist()
    # Same seed, same file; no temporary file left behind.
    again = tmp_path / f"again{suffix}"
    fitted.sample_to(again, 2_345, chunk_size=500, random_state=3)
    if suffix == ".csv":
        assert path.read_bytes() == again.read_bytes()
    assert not list(tmp_path.glob(".*.tmp"))


def test_sample_to_zero_rows_and_conditions(fitted, tmp_path):
    path = tmp_path / "empty.csv"
    fitted.sample_to(path, 0)
    assert path.read_text().strip() == "a,g,i"
    cond = tmp_path / "cond.csv"
    fitted.sample_to(cond, 120, chunk_size=50, conditions={"g": "z"})
    assert (pd.read_csv(cond)["g"] == "z").all()


def test_interrupted_sample_to_leaves_the_old_file(fitted, tmp_path, monkeypatch):
    path = tmp_path / "out.csv"
    path.write_text("old contents\n")
    calls = []
    real = type(fitted.transformer_).inverse_transform

    def flaky(self, floats, codes):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(self, floats, codes)

    monkeypatch.setattr(type(fitted.transformer_), "inverse_transform", flaky)
    with pytest.raises(KeyboardInterrupt):
        fitted.sample_to(path, 1_000, chunk_size=100)
    assert path.read_text() == "old contents\n"
    assert not list(tmp_path.glob(".*.tmp"))
