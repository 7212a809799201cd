"""A model file cannot run code, a save is atomic, a bad file gives a clear error (issue 6)."""

from __future__ import annotations

import io
import pathlib
import pickle
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch

import tabgan.persistence as persistence
from tabgan import Synthesizer
from tabgan.exceptions import ModelFileError

PARAMS = {"epochs": 1, "batch_size": 20, "verbose": False, "random_state": 0,
          "generator_dims": (16,), "discriminator_dims": (16,), "embedding_dim": 8}


@pytest.fixture(scope="module")
def model():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=60), "g": rng.choice(["x", "y"], 60)})
    return Synthesizer(**PARAMS).fit(df)


class _TouchOnUnpickle:
    """Unpickling this object calls ``Path.touch(marker)``: the stand-in for arbitrary code."""

    def __init__(self, marker: pathlib.Path):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


def _good_payload(model) -> dict:
    buf = io.BytesIO()
    torch.save({"x": torch.ones(1)}, buf)  # just to be sure torch.save works here
    return {"format": persistence.FORMAT_NAME, "format_version": persistence.FORMAT_VERSION,
            "meta": "{}", "state/generator": model.generator_.state_dict()}


@pytest.mark.parametrize("where", ["top level", "inside meta slot", "raw pickle file"])
def test_a_file_that_would_run_code_is_refused_and_the_code_does_not_run(model, tmp_path, where):
    marker = tmp_path / "code-ran"
    path = tmp_path / "evil.tabgan"
    payload = _good_payload(model)
    if where == "top level":
        payload["extra"] = _TouchOnUnpickle(marker)
        torch.save(payload, path)
    elif where == "inside meta slot":
        payload["meta"] = _TouchOnUnpickle(marker)
        torch.save(payload, path)
    else:
        path.write_bytes(pickle.dumps(_TouchOnUnpickle(marker), protocol=2))
    with pytest.raises(ModelFileError, match="refused without running anything.*Only load model files written by"):
        Synthesizer.load(path)
    assert not marker.exists()
    # The payload is real: an unsafe loader would have run it.
    if where != "raw pickle file":
        torch.load(path, weights_only=False)
    else:
        pickle.loads(path.read_bytes())
    assert marker.exists()


def test_tagged_json_values_only_build_known_types(model, tmp_path):
    path = tmp_path / "m.tabgan"
    payload = _good_payload(model)
    payload["meta"] = '{"x": {"$tabgan": "os.system", "value": "touch pwned"}}'
    torch.save(payload, path)
    with pytest.raises(ModelFileError, match="damaged header.*unknown tagged value 'os.system'"):
        persistence.read_model_file(path)


class _DiskFull(OSError):
    pass


@pytest.mark.parametrize("exc", [_DiskFull("No space left on device"), KeyboardInterrupt()])
def test_a_crash_mid_save_leaves_the_old_file_intact(model, tmp_path, monkeypatch, exc):
    path = tmp_path / "m.tabgan"
    model.save(path)
    old = path.read_bytes()
    expected = model.sample(20, random_state=1)
    real_save = torch.save

    def crashing_save(obj, f, *args, **kwargs):
        buf = io.BytesIO()
        real_save(obj, buf, *args, **kwargs)
        f.write(buf.getvalue()[: len(buf.getvalue()) // 2])  # half of the archive is on disk ...
        raise exc  # ... when the disk fills up / the user presses Ctrl-C

    monkeypatch.setattr(torch, "save", crashing_save)
    with pytest.raises(type(exc)):
        model.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["m.tabgan"]  # no temporary file left
    pd.testing.assert_frame_equal(Synthesizer.load(path).sample(20, random_state=1), expected)


def _saved(model, tmp_path) -> pathlib.Path:
    path = tmp_path / "m.tabgan"
    model.save(path)
    return path


@pytest.mark.parametrize("damage, match", [
    (lambda b: b[: len(b) // 2], "corrupt or truncated"),
    (lambda b: b[:100], "corrupt or truncated"),
    (lambda b: b"", "corrupt or truncated|not a readable"),
    (lambda b: b"this is not a model\n" * 10, "corrupt or truncated|not a readable"),
    (lambda b: b[: len(b) // 3] + b"\xff" * 16 + b[len(b) // 3 + 16:], "corrupt|refused|damaged"),
    (lambda b: b[:40] + b"\x00" * 40 + b[80:], "corrupt|refused|damaged"),
], ids=["half", "first 100 bytes", "empty", "text", "garbage in the middle", "garbage in the header"])
def test_truncated_or_corrupted_file_is_a_model_file_error(model, tmp_path, damage, match):
    path = _saved(model, tmp_path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ModelFileError, match=match):
        Synthesizer.load(path)


@pytest.mark.parametrize("edit, match", [
    ({"format_version": persistence.FORMAT_VERSION + 1}, r"format version 2, newer than this tabgan reads \(1\).*upgrade"),
    ({"format_version": "1"}, r"format version"),
    ({"format": "something-else"}, r"not a tabgan model file"),
    ({"meta": "{not json"}, r"damaged header"),
    ({"meta": '{"params": {}}'}, r"damaged or inconsistent"),
], ids=["newer version", "version not an int", "other format", "meta not JSON", "meta incomplete"])
def test_other_formats_and_damaged_headers_are_refused_with_a_message(model, tmp_path, edit, match):
    path = _saved(model, tmp_path)
    payload = torch.load(path, weights_only=True)
    payload.update(edit)
    torch.save(payload, path)
    with pytest.raises(ModelFileError, match=match):
        Synthesizer.load(path)


def test_weights_that_do_not_fit_the_schema_are_refused(model, tmp_path):
    path = _saved(model, tmp_path)
    payload = torch.load(path, weights_only=True)
    payload["state/generator"] = {k: v.reshape(-1)[:1] for k, v in payload["state/generator"].items()}
    torch.save(payload, path)
    with pytest.raises(ModelFileError, match="damaged or inconsistent"):
        Synthesizer.load(path)


def test_missing_file_directory_and_missing_folder(model, tmp_path):
    with pytest.raises(FileNotFoundError, match="No model file"):
        Synthesizer.load(tmp_path / "nope.tabgan")
    with pytest.raises(IsADirectoryError):
        Synthesizer.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        model.save(tmp_path / "no" / "such" / "m.tabgan")
    with pytest.raises(IsADirectoryError):
        model.save(tmp_path)


def _relocate_to_cuda(src: pathlib.Path, dst: pathlib.Path) -> None:
    """Rewrite a CPU-saved archive so that every storage says it lives on ``cuda:0``, which is
    what a model saved without ``.cpu()`` on a GPU machine looks like."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            raw = zin.read(info.filename)
            if info.filename.endswith("data.pkl"):
                assert b"X\x03\x00\x00\x00cpu" in raw
                raw = raw.replace(b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0")
            zout.writestr(info, raw)


def test_a_cuda_saved_file_loads_on_cpu_through_map_location(model, tmp_path, monkeypatch):
    src = _saved(model, tmp_path)
    path = tmp_path / "cuda.tabgan"
    _relocate_to_cuda(src, path)
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):  # what a loader without map_location gets
            torch.load(path, weights_only=True)
    seen = {}
    real_load = torch.load

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    loaded = Synthesizer.load(path, device="cpu")
    assert seen["weights_only"] is True and str(seen["map_location"]) == "cpu"
    assert all(p.device.type == "cpu" for p in loaded.generator_.parameters())
    pd.testing.assert_frame_equal(loaded.sample(30, random_state=2), model.sample(30, random_state=2))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_model_trained_on_cuda_loads_and_samples_on_cpu(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.normal(size=200), "g": rng.choice(["x", "y"], 200)})
    gpu_model = Synthesizer(**{**PARAMS, "device": "cuda"}).fit(df)
    assert gpu_model.device_.type == "cuda"
    path = tmp_path / "gpu.tabgan"
    gpu_model.save(path)
    cpu_model = Synthesizer.load(path, device="cpu")
    assert cpu_model.device_.type == "cpu"
    assert all(p.device.type == "cpu" for p in cpu_model.generator_.parameters())
    out = cpu_model.sample(50, random_state=0)
    assert list(out.columns) == ["a", "g"] and set(out["g"]) <= {"x", "y"}
    # And a checkpoint written on CUDA resumes on the CPU.
    ckpt = tmp_path / "gpu.ckpt"
    Synthesizer(**{**PARAMS, "device": "cuda", "epochs": 2}).fit(df, checkpoint=ckpt)
    resumed = Synthesizer(**{**PARAMS, "device": "cpu", "epochs": 3}).fit(df, resume_from=ckpt)
    assert resumed.epochs_ == 3
