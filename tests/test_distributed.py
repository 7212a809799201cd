"""Data-parallel training (two gloo processes on CPU, launched by torchrun) and partitioned
sampling (issue 15)."""

import filecmp
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tabgan import Synthesizer
from tabgan.datasets import DEMO_METADATA, load_demo
from tabgan.evaluation import FidelityReport

sys.path.insert(0, str(Path(__file__).parent))
from distributed_job import PLAIN, PRIVATE, checksum  # noqa: E402

JOB = Path(__file__).with_name("distributed_job.py")


@pytest.fixture(scope="module")
def launched(tmp_path_factory):
    """One torchrun launch of two processes; what each rank ended with."""
    out = tmp_path_factory.mktemp("ddp")
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env["OMP_NUM_THREADS"] = "1"
    if sys.platform.startswith("linux"):  # one machine: gloo on the loopback, whatever the hostname resolves to
        env.setdefault("GLOO_SOCKET_IFNAME", "lo")
    run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
                          str(JOB), str(out)], env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    ranks = [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]
    return out, ranks


@pytest.mark.slow
def test_every_rank_ends_with_the_same_model(launched):
    _, (r0, r1) = launched
    assert r0["generator"] == r1["generator"]
    assert r0["private_generator"] == r1["private_generator"]
    assert r0["history"] == {**r1["history"], "seconds": r0["history"]["seconds"]}  # losses averaged over ranks
    assert r0["settings"]["processes"] == 2 and r0["settings"]["batch_size"] == 86  # the global batch


@pytest.mark.slow
def test_each_rank_trains_on_its_shard_with_the_whole_tables_level_weights(launched):
    import numpy as np

    _, (r0, r1) = launched
    s0, s1 = r0["sampler"], r1["sampler"]
    assert s0["rows"] + s1["rows"] == len(load_demo()) and abs(s0["rows"] - s1["rows"]) <= 1
    total = np.asarray(s0["count"]) + np.asarray(s1["count"])
    for mine in (s0, s1):
        held = np.asarray(mine["count"]) > 0
        np.testing.assert_allclose(np.asarray(mine["train_probs"]), np.where(held, np.log1p(total), 0), rtol=1e-6)


@pytest.mark.slow
def test_only_rank_0_writes_models_and_checkpoints(launched):
    out, (r0, r1) = launched
    assert r1["writes"] == [] and r0["writes"]
    assert str(out / "fit.ckpt") in r0["writes"] and str(out / "cli.tabgan") in r0["writes"]
    assert r0["cli_code"] == r1["cli_code"] == 0
    assert "model written to" in r0["cli_printed"] and r1["cli_printed"] == ""
    model = Synthesizer.load(out / "cli.tabgan")
    assert model.settings_["processes"] == 2 and len(model.sample(10)) == 10


@pytest.mark.slow
def test_a_data_parallel_checkpoint_resumes_in_one_process(launched):
    out, _ = launched
    model = Synthesizer(**{**PLAIN, "epochs": 11}).fit(load_demo(), metadata=DEMO_METADATA,
                                                       resume_from=out / "fit.ckpt")
    assert model.history_.to_frame()["epoch"].tolist() == list(range(11))


@pytest.mark.slow
def test_two_processes_fit_as_well_as_one(launched):
    out, (r0, _) = launched
    real = load_demo()
    two = Synthesizer.load(out / "plain.tabgan")
    assert checksum(two.generator_) == r0["generator"]

    def quality(model):
        return FidelityReport(real=real, synthetic=model.sample(len(real), random_state=1),
                              metadata=DEMO_METADATA).scores["quality"]

    ones = [quality(Synthesizer(**{**PLAIN, "random_state": seed}).fit(real, metadata=DEMO_METADATA))
            for seed in (0, 1)]
    # Within the spread of one-process fits of other seeds (plus a margin for 10 epochs' noise).
    spread = abs(ones[0] - ones[1])
    assert abs(quality(two) - ones[0]) <= spread + 0.05, (quality(two), ones)


@pytest.mark.slow
def test_the_private_ledger_is_the_one_process_ledger(launched):
    _, (r0, r1) = launched
    one = Synthesizer(**PRIVATE).fit(load_demo(), metadata=DEMO_METADATA)
    assert r0["ledger"] == r1["ledger"] == json.loads(json.dumps(one.privacy_spent_))
    assert r0["ledger"]["epsilon"] <= PRIVATE["epsilon"]
    # The two-way marginals the ledger charges for are used: every rank holds the same tilt.
    assert r0["pair_tilt"] == r1["pair_tilt"]
    assert len(r0["pair_tilt"]) == len(one.calibration_.pair_tilt.pairs) > 0


def test_a_partial_torchrun_environment_is_refused(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    for name in ("MASTER_ADDR", "MASTER_PORT", "RANK"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValueError, match="torchrun"):
        Synthesizer(epochs=1, verbose=False).fit(load_demo())


# --------------------------------------------------------------------------- partitions


@pytest.fixture(scope="module")
def model():
    return Synthesizer(epochs=1, random_state=0, verbose=False).fit(load_demo(), metadata=DEMO_METADATA)


@pytest.mark.slow
def test_partitioned_files_do_not_depend_on_the_number_of_workers(model, tmp_path):
    one, three = tmp_path / "one.csv", tmp_path / "three.csv"
    model.sample_to(one, 1000, partitions=3, chunk_size=150)
    model.sample_to(three, 1000, partitions=3, workers=3, chunk_size=150)
    assert filecmp.cmp(one, three, shallow=False)
    assert len(pd.read_csv(one)) == 1000


def test_a_map_over_partition_ids_gives_the_partitioned_file(model, tmp_path):
    path = tmp_path / "all.csv"
    model.sample_to(path, 1001, partitions=4, chunk_size=100)
    pieces = [model.sample_partition(1001, i, 4, chunk_size=100) for i in reversed(range(4))][::-1]
    assert [len(p) for p in pieces] == [250, 250, 250, 251]
    pd.testing.assert_frame_equal(pd.concat(pieces, ignore_index=True), pd.read_csv(path), check_dtype=False)
    # The model's stream is not advanced, a seed changes the rows, a saved model gives the same.
    pd.testing.assert_frame_equal(model.sample_partition(1001, 2, 4, chunk_size=100), pieces[2])
    assert not model.sample_partition(1001, 2, 4, chunk_size=100, random_state=5).equals(pieces[2])
    model.save(tmp_path / "m.tabgan")
    loaded = Synthesizer.load(tmp_path / "m.tabgan")
    pd.testing.assert_frame_equal(loaded.sample_partition(1001, 2, 4, chunk_size=100), pieces[2])


def test_partition_arguments_are_checked(model, tmp_path):
    with pytest.raises(ValueError, match="partitions"):
        model.sample_to(tmp_path / "x.csv", 10, workers=2)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        model.sample_partition(10, 3, 3)
    import numpy as np

    with pytest.raises(TypeError, match="Generator"):
        model.sample_partition(10, 0, 3, random_state=np.random.default_rng(0))
