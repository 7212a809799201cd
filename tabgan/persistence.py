"""Model files: one ``torch.save`` archive of tensors and JSON strings, written atomically.

Loading uses ``torch.load(weights_only=True)``, which refuses any pickled object other than
tensors and plain containers, so a model file cannot run code. Nothing in the file is a
training row: the generator's weights, the schema, the encoders' parameters and the level
probabilities used to draw conditions.
"""

from __future__ import annotations

import datetime
import decimal
import json
import os
import pickle
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .exceptions import ModelFileError

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "write_model_file", "read_model_file"]

FORMAT_NAME = "tabgan-model"
FORMAT_VERSION = 1


#: Values that JSON cannot hold but a schema may (categories of datetimes, Decimals ...) are
#: written as ``{"$tabgan": type name, "value": text}`` and rebuilt on load by these
#: constructors only: reading a model never calls anything named by the file.
_DECODERS = {
    "Timestamp": pd.Timestamp,
    "Timedelta": pd.Timedelta,
    "Decimal": decimal.Decimal,
    "date": datetime.date.fromisoformat,
    "time": datetime.time.fromisoformat,
}
_TAG = "$tabgan"


def _encode(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, datetime.datetime):  # pd.Timestamp included
        return {_TAG: "Timestamp", "value": pd.Timestamp(value).isoformat(),
                **({"tz": str(value.tzinfo)} if value.tzinfo is not None else {})}
    if isinstance(value, datetime.timedelta):
        return {_TAG: "Timedelta", "value": pd.Timedelta(value).isoformat()}
    if isinstance(value, decimal.Decimal):
        return {_TAG: "Decimal", "value": str(value)}
    if isinstance(value, (datetime.date, datetime.time)):
        return {_TAG: type(value).__name__, "value": value.isoformat()}
    raise TypeError(f"a value of type {type(value).__name__} ({value!r:.80}) cannot be saved in a model file")


def _decode(obj: dict):
    kind = obj.get(_TAG)
    if kind is None:
        return obj
    if kind not in _DECODERS or not isinstance(obj.get("value"), str):
        raise ValueError(f"unknown tagged value {kind!r}")
    out = _DECODERS[kind](obj["value"])
    if kind == "Timestamp" and "tz" in obj:
        out = out.tz_convert(obj["tz"])
    return out


def _dumps(meta: dict) -> str:
    return json.dumps(meta, default=_encode)


def _to_cpu(obj):
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def write_model_file(path, *, meta: dict, tensors: dict[str, dict[str, torch.Tensor]],
                     objects: dict | None = None) -> None:
    """Write ``meta`` (JSON-able) and state dicts to ``path`` atomically.

    ``objects`` holds nested plain containers of tensors and numbers (optimizer states), which
    ``weights_only`` loading accepts too.

    The archive is written to a temporary file in the same folder, flushed and fsynced, then
    renamed over ``path``: a crash leaves either the old file or the new one, never half of one.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory; give a file name such as model.tabgan.")
    if not path.parent.exists():
        raise FileNotFoundError(f"Folder {path.parent} does not exist; create it first.")
    try:
        _dumps(meta)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"Cannot save this model: {exc}. Please report it as a tabgan bug.") from None
    payload = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "meta": _dumps(meta),
        **{f"state/{name}": {k: v.detach().cpu() for k, v in sd.items()} for name, sd in tensors.items()},
        **{f"object/{name}": _to_cpu(obj) for name, obj in (objects or {}).items()},
    }
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_model_file(path, map_location="cpu") -> tuple[dict, dict[str, dict[str, torch.Tensor]]]:
    """Read a model file safely; returns ``(meta, state_dicts)``.

    Raises
    ------
    FileNotFoundError
        No such file.
    ModelFileError
        Not a tabgan model, corrupt or truncated, unsafe content, or a newer format version.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"No model file at {path}.")
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory, not a model file.")
    if path.stat().st_size == 0:
        raise ModelFileError(f"{path} is empty, not a readable tabgan model (corrupt or truncated?).")
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        raise ModelFileError(
            f"{path} was refused without running anything: it holds objects other than tensors and plain "
            "data (weights_only loading), or is damaged. Only load model files written by tabgan."
        ) from None
    except Exception as exc:  # noqa: BLE001 - whatever a damaged archive makes torch raise (IndexError,
        # struct.error, UnicodeDecodeError, ...), it is a damaged file, not a bug of the caller
        raise ModelFileError(
            f"{path} is not a readable tabgan model (corrupt or truncated?): "
            f"{(str(exc).splitlines() or [type(exc).__name__])[0][:200]}"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_NAME:
        raise ModelFileError(f"{path} is not a tabgan model file.")
    version = payload.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ModelFileError(
            f"{path} was written in model format version {version}, newer than this tabgan reads "
            f"({FORMAT_VERSION}); upgrade tabgan (reinstall it from an up-to-date clone)."
        )
    try:
        meta = json.loads(payload["meta"], object_hook=_decode)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelFileError(f"{path} has a damaged header: {exc}") from None
    states = {k.split("/", 1)[1]: v for k, v in payload.items() if k.startswith(("state/", "object/"))}
    return meta, states
