"""Checkpoints of a running fit, so that a long fit can be resumed (issue 6).

A checkpoint holds what the training loop changes: generator, discriminator and both
optimizers' state, the training random generator's state, the epoch count, the loss history,
the best-generator selector's state, and the seed the fit was set up with. It holds no
training rows: resuming takes the same table again, replays the (deterministic) setup from the
stored seed, checks that the schema and parameters match, and loads the states.

The file is written with :func:`tabgan.persistence.write_model_file` (atomically, so a crash
during a checkpoint leaves the previous one) and read with ``weights_only=True``.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..exceptions import InvalidDataError, ModelFileError, TabganWarning
from ..persistence import read_model_file, write_model_file
from .callbacks import Callback, EpochRecord

__all__ = ["CHECKPOINT_KIND", "CheckpointCallback", "EpochOffset", "read_checkpoint", "check_checkpoint_args"]

CHECKPOINT_KIND = "tabgan-checkpoint"
#: Parameters that may differ between the interrupted fit and the resumed one.
_FREE_PARAMS = ("verbose", "device", "epochs")


def check_checkpoint_args(checkpoint, checkpoint_every, resume_from) -> None:
    """Validate ``fit``'s checkpoint arguments before any work (types, folder, file)."""
    for name, value in (("checkpoint", checkpoint), ("resume_from", resume_from)):
        if value is not None and not isinstance(value, (str, os.PathLike)):
            raise TypeError(f"{name} must be a file path (str or pathlib.Path); got {type(value).__name__}.")
    if isinstance(checkpoint_every, bool) or not isinstance(checkpoint_every, (int, np.integer)) \
            or checkpoint_every < 1:
        raise ValueError(f"checkpoint_every must be an integer >= 1 (epochs); got {checkpoint_every!r}.")
    if checkpoint is not None:
        path = Path(checkpoint)
        if path.is_dir():
            raise IsADirectoryError(f"checkpoint {path} is a directory; give a file name such as fit.ckpt.")
        if not path.parent.exists():
            raise FileNotFoundError(f"Folder {path.parent} of the checkpoint does not exist; create it first.")


def _seed_of(seq: np.random.SeedSequence) -> dict:
    return {"entropy": str(seq.entropy), "spawn_key": [int(k) for k in seq.spawn_key]}


def seed_from(meta: dict) -> np.random.SeedSequence:
    seed = meta["seed"]
    return np.random.SeedSequence(int(seed["entropy"]), spawn_key=tuple(int(k) for k in seed["spawn_key"]))


def read_checkpoint(path) -> tuple[dict, dict]:
    """Read a checkpoint written by :class:`CheckpointCallback`; ``(meta, states)``."""
    meta, states = read_model_file(path, map_location="cpu")
    if meta.get("kind") != CHECKPOINT_KIND:
        raise ModelFileError(f"{path} is not a tabgan checkpoint (a saved model is loaded with "
                             "Synthesizer.load, not resumed).")
    missing = {"generator", "discriminator", "opt_g", "opt_d", "rng"} - set(states)
    if missing:
        raise ModelFileError(f"{path} is an incomplete checkpoint (no {sorted(missing)}).")
    return meta, states


def check_resume_matches(meta: dict, params: dict, schema_dict: dict, path) -> None:
    """Refuse to resume with other parameters or a table of another shape."""
    diff = sorted(k for k in set(params) | set(meta["params"])
                  if k not in _FREE_PARAMS and params.get(k) != meta["params"].get(k))
    if diff:
        shown = ", ".join(f"{k}={meta['params'].get(k)!r} (now {params.get(k)!r})" for k in diff)
        raise ValueError(f"Cannot resume from {path}: it was written with {shown}; use the same parameters.")
    if schema_dict != meta["schema"]:
        raise InvalidDataError(f"Cannot resume from {path}: the table differs from the one the checkpoint was "
                               "written for (columns, kinds or ranges); pass the same table.")


class EpochOffset(Callback):
    """Put first: numbers the epochs of a resumed fit after those already done."""

    def __init__(self, start: int):
        self.start = int(start)

    def on_epoch_end(self, record: EpochRecord) -> None:
        record.epoch += self.start


class CheckpointCallback(Callback):
    """Write a checkpoint every ``every`` epochs (and after the last one).

    Parameters
    ----------
    path : path of the checkpoint file (replaced atomically each time)
    every : int
    state : TrainingState
    meta : dict
        JSON-able facts to store: params, schema, seed, total epochs.
    history : list of EpochRecord
        The fit's history (written with each checkpoint).
    selector : BestGeneratorCallback or None
    """

    def __init__(self, path, every: int, state, meta: dict, history: list, selector=None):
        self.path = Path(path)
        self.every = int(every)
        self.state = state
        self.meta = meta
        self.history = history
        self.selector = selector

    def on_epoch_end(self, record: EpochRecord) -> None:
        done = record.epoch + 1
        if done % self.every == 0 or done >= self.meta["epochs"]:
            self.save(done)

    def save(self, done: int) -> None:
        s = self.state
        objects = {"opt_g": s.opt_g.state_dict(), "opt_d": s.opt_d.state_dict(), "rng": s.rng.get_state()}
        if s.average is not None:
            objects["generator_average"] = s.average.state_dict()
        selector = None
        if self.selector is not None and self.selector.best_state is not None:
            objects["best_generator"] = self.selector.best_state
            selector = {"best_score": float(self.selector.best_score), "best_epoch": self.selector.best_epoch}
        meta = {**self.meta, "kind": CHECKPOINT_KIND, "epoch": int(done),
                "history": [asdict(r) for r in self.history], "selector": selector}
        write_model_file(self.path, meta=meta,
                         tensors={"generator": s.generator.state_dict(),
                                  "discriminator": s.discriminator.state_dict()},
                         objects=objects)


def restore(state, meta: dict, states: dict, history: list, selector=None) -> int:
    """Load a checkpoint into a freshly built training state; returns the epochs already done.

    The training random stream is restored too, so that a resumed fit continues exactly as an
    uninterrupted one. A checkpoint written on another device type (CUDA against CPU) holds a
    stream state this device cannot take: training then goes on from the fit's seed, with a
    :class:`~tabgan.exceptions.TabganWarning` saying that its samples will differ from an
    uninterrupted fit's.
    """
    device = state.device
    try:
        state.generator.load_state_dict(states["generator"])
        state.discriminator.load_state_dict(states["discriminator"])
        state.opt_g.load_state_dict(states["opt_g"])
        state.opt_d.load_state_dict(states["opt_d"])
        if state.average is not None:
            # A checkpoint of a fit without the average: it starts again from the restored generator.
            state.average.load_state_dict(states.get("generator_average")
                                          or {"module": state.generator.state_dict(), "updates": 0})
        try:
            state.rng.set_state(states["rng"])
        except RuntimeError:
            warnings.warn(
                f"The checkpoint's random stream was written on another device type and cannot be restored on "
                f"{device}: training goes on from the fit's seed, so the model will differ from one fitted "
                "without interruption (resume on the device type the checkpoint was written on to avoid this).",
                TabganWarning, stacklevel=3)
        if selector is not None and meta.get("selector") and "best_generator" in states:
            selector.best_state = {k: v.to(device) for k, v in states["best_generator"].items()}
            selector.best_score = float(meta["selector"]["best_score"])
            selector.best_epoch = meta["selector"]["best_epoch"]
        history.extend(EpochRecord(**r) for r in meta.get("history", []))
        return int(meta["epoch"])
    except (KeyError, TypeError, ValueError, RuntimeError) as exc:
        raise ModelFileError(f"The checkpoint does not fit this model: {str(exc).splitlines()[0][:200]}") from None


def checkpoint_meta(params: dict, schema_dict: dict, seq: np.random.SeedSequence, epochs: int) -> dict:
    return {"params": params, "schema": schema_dict, "seed": _seed_of(seq), "epochs": int(epochs)}
