"""Run by tests/test_distributed.py under ``torchrun --nproc-per-node 2`` (gloo, CPU): a plain
fit, a private fit and ``tabgan fit`` in each of the processes; each rank writes what it ended
with to ``OUT/rank<r>.json`` (test code: the library writes nothing from ranks other than 0)."""

import contextlib
import io
import json
import os
import sys

import torch

import tabgan.persistence
import tabgan.synthesizer
import tabgan.training.checkpoint
import tabgan.training.distributed
from tabgan import Synthesizer
from tabgan.cli import main
from tabgan.datasets import DEMO_METADATA, load_demo

PLAIN = {"epochs": 10, "random_state": 0, "verbose": False}
PRIVATE = {"epochs": 1, "random_state": 0, "epsilon": 3.0, "delta": 1e-5, "verbose": False}


def checksum(module) -> float:
    return float(sum(t.double().sum() for t in module.state_dict().values()))


if __name__ == "__main__":
    torch.set_num_threads(1)
    out = sys.argv[1]
    rank = int(os.environ["RANK"])
    writes = []
    real_write = tabgan.persistence.write_model_file

    def counted_write(path, **kwargs):
        writes.append(str(path))
        return real_write(path, **kwargs)

    # Every file a model or checkpoint is written to passes here.
    tabgan.synthesizer.write_model_file = tabgan.training.checkpoint.write_model_file = counted_write
    samplers = []
    real_sampler = tabgan.training.distributed.DataParallel.sampler

    def recorded_sampler(self, *args):
        sampler = real_sampler(self, *args)
        if not self.private:  # a private sampler holds noisy frequencies only, no counts
            samplers.append({"rows": int(sampler.codes.shape[0]), "count": sampler.level_count.tolist(),
                             "train_probs": sampler.train_probs.tolist()})
        return sampler

    tabgan.training.distributed.DataParallel.sampler = recorded_sampler
    df = load_demo()
    plain = Synthesizer(**PLAIN).fit(df, metadata=DEMO_METADATA, checkpoint=os.path.join(out, "fit.ckpt"))
    if rank == 0:
        plain.save(os.path.join(out, "plain.tabgan"))
    private = Synthesizer(**PRIVATE).fit(df, metadata=DEMO_METADATA)
    df.to_csv(os.path.join(out, "penguins.csv"), index=False)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["fit", os.path.join(out, "penguins.csv"), "-o", os.path.join(out, "cli.tabgan"), "--epochs", "1",
                     "--seed", "0", "-q"])
    json.dump({"generator": checksum(plain.generator_), "history": plain.history_.to_frame().to_dict("list"),
               "settings": plain.settings_, "private_generator": checksum(private.generator_),
               "ledger": private.privacy_spent_,
               "pair_tilt": private.calibration_.pair_tilt.get_state()["pairs"], "cli_code": code, "cli_printed": printed.getvalue(),
               "writes": writes, "sampler": samplers[0]}, open(os.path.join(out, f"rank{rank}.json"), "w"))
