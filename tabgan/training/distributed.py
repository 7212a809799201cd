"""Data-parallel training over ``torch.distributed``: a strategy of the one fit (issue 15).

A fit launched by ``torchrun`` (one process per GPU on NCCL, or CPU processes on gloo) trains
data-parallel without any change to the calling code: :func:`data_parallel` sees the launch in
the environment (``WORLD_SIZE`` > 1, as torchrun sets it, or a process group the caller has
already initialised with more than one rank) and wraps the fit's strategy (plain or private) in
:class:`DataParallel`. What each rank does (``docs/distributed.md``):

- every rank infers the schema (dtypes and metadata only) and checks that all ranks agree;
- rank 0 fits the encoders, encodes the table, computes the level frequencies (and, under DP,
  runs the private releases) and broadcasts all of it; the encoded rows are dealt out in
  random, disjoint shards, one per rank;
- the schedule (epochs, steps per epoch, the DP step budget) is the one-process schedule; each
  rank draws ``batch / world_size`` rows per step from its shard, so a step sees the global batch;
- the generator and critic are wrapped in :class:`~torch.nn.parallel.DistributedDataParallel`
  (gradients averaged over ranks at each backward, the gradient penalty's double backward
  included); under DP the critic's gradients go through opacus' ``DistributedDPOptimizer``
  instead (clipped per-sample sums added over ranks, the noise drawn once by rank 0);
- rank 0 alone runs the validation check, the calibration (under DP with the two-way
  marginals, read from the whole table's codes it kept) and the dependency rules, writes
  checkpoints, and broadcasts the kept generator, so every rank ends with the same model.

Random streams: the networks start from the fit's ``init`` seed on every rank; each rank's
batches, noise and dropout come from the ``train`` seed and the rank.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from .._random import numpy_generator
from ..exceptions import InvalidDataError
from .callbacks import Callback, EpochRecord
from .strategy import Encoded, Schedule, Training

__all__ = ["DataParallel", "data_parallel", "launched_world_size", "is_main_process", "rank_seed"]

logger = logging.getLogger("tabgan")

#: What ``torch.distributed``'s ``env://`` initialisation reads (torchrun sets them all).
ENV_VARS = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
#: Marks the per-rank child seeds, apart from any ``spawn()`` of the same parent.
_RANK_TAG = 0x7261_6E6B


def launched_world_size() -> int:
    """The number of processes of the launch: an initialised process group's size, else
    ``WORLD_SIZE`` from the environment (torchrun), else 1."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    raw = os.environ.get("WORLD_SIZE")
    if raw is None:
        return 1
    try:
        size = int(raw)
    except ValueError:
        raise ValueError(f"WORLD_SIZE={raw!r} in the environment is not a number of processes; launch with "
                         "torchrun (which sets it) or unset it to fit in one process.") from None
    if size < 1:
        raise ValueError(f"WORLD_SIZE={raw!r} in the environment must be at least 1.")
    return size


def is_main_process() -> bool:
    """Whether this process writes files: rank 0 of a data-parallel launch, or a process
    launched alone. Readable after ``fit`` too (from ``RANK`` once the group is gone)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    return int(os.environ.get("RANK", "0") or 0) == 0


def data_parallel(strategy: Training, device: torch.device) -> Training:
    """``strategy`` itself in a process launched alone; wrapped in :class:`DataParallel` when the
    process is one of several (see :func:`launched_world_size`)."""
    return DataParallel(strategy, device) if launched_world_size() > 1 else strategy


def rank_seed(seq: np.random.SeedSequence, rank: int, *extra: int) -> np.random.SeedSequence:
    """The child of ``seq`` owned by ``rank`` (a fixed function of the seed and the rank)."""
    return np.random.SeedSequence(seq.entropy, spawn_key=tuple(seq.spawn_key) + (_RANK_TAG, int(rank), *extra),
                                  pool_size=seq.pool_size)


class _AverageLosses(Callback):
    """Put first: each epoch's losses become the mean over ranks, so every rank's history
    is the same (each rank's own losses are those of its share of the batch)."""

    def __init__(self, world_size: int, device: torch.device):
        self.world_size = world_size
        self.device = device

    def on_epoch_end(self, record: EpochRecord) -> None:
        losses = torch.tensor([record.generator_loss, record.discriminator_loss], dtype=torch.float64,
                              device=self.device)
        dist.all_reduce(losses)
        record.generator_loss, record.discriminator_loss = (losses / self.world_size).tolist()


def _swapped(step, with_critic: bool):
    """``step`` run with the networks' DDP wrappers in the training state (the state itself
    holds the bare modules, which the validation check, checkpoints and the fitted model use)."""

    def run(state):
        ddp_generator, ddp_critic = state.extra["ddp"]
        bare = state.generator, state.discriminator
        state.generator = ddp_generator
        if with_critic and ddp_critic is not None:
            state.discriminator = ddp_critic
        try:
            return step(state)
        finally:
            state.generator, state.discriminator = bare

    return run


class DataParallel(Training):
    """Train ``inner`` (plain or private) data-parallel over the ranks of a torch.distributed
    launch; the hooks are :class:`~tabgan.training.strategy.Training`'s.

    The process group is the caller's when one is initialised, else it is created from the
    environment (``env://``: NCCL on CUDA, gloo on CPU) by the first fit and kept for the life
    of the process (later fits reuse it; torchrun's agent store does not take a second group
    of the same name reliably).
    """

    def __init__(self, inner: Training, device: torch.device):
        if device.type not in ("cpu", "cuda"):
            raise ValueError(f"data-parallel training runs on CPU processes (gloo) or CUDA devices (NCCL); got "
                             f"device={str(device)!r}. Pass device='cpu' or 'cuda', or launch one process.")
        self.inner = inner
        self.settings = inner.settings
        self.seed_names = tuple(inner.seed_names) + ("shard",)
        self.private = inner.private
        self.requested = device
        self.d_step = _swapped(inner.d_step, with_critic=True)
        # The generator step scores with the bare critic: its weights are frozen (plain) or its
        # hooks off (DP) there, so DDP has no critic gradient to wait for.
        self.g_step = _swapped(inner.g_step, with_critic=False)

    # ---------------------------------------------------------------- the process group
    @property
    def rank(self) -> int:
        return dist.get_rank()

    @property
    def world_size(self) -> int:
        return dist.get_world_size()

    @property
    def main(self) -> bool:
        return self.rank == 0

    def _local_device(self) -> torch.device:
        if self.requested.type != "cuda":
            return torch.device("cpu")
        count = torch.cuda.device_count()
        if "LOCAL_RANK" in os.environ:
            index = int(os.environ["LOCAL_RANK"])
        else:
            index = (dist.get_rank() if dist.is_initialized() else int(os.environ.get("RANK", "0"))) % count
        return torch.device("cuda", index)

    @contextlib.contextmanager
    def session(self):
        """The fit runs inside: the process group is set up (unless one is) and every rank
        waits for the others at the end of a successful fit."""
        if not dist.is_initialized():
            missing = [v for v in ENV_VARS if v not in os.environ]
            if missing:
                raise ValueError(f"WORLD_SIZE={os.environ.get('WORLD_SIZE')} asks for a data-parallel fit, but "
                                 f"{', '.join(missing)} is not set: launch with torchrun (which sets them all) or "
                                 "unset WORLD_SIZE to fit in one process.")
        self.device = self._local_device()
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)
        if not dist.is_initialized():
            dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo")
        logger.info("tabgan: data-parallel fit, rank %d of %d on %s (%s)", self.rank, self.world_size,
                    self.device, dist.get_backend())
        yield
        # No rank leaves before every rank has received rank 0's last broadcast (gloo's sender
        # returns before the receivers are done, and a process that exits drops its sockets).
        dist.barrier()

    def place(self, device: torch.device) -> torch.device:
        return self.device

    # ---------------------------------------------------------------- computed once
    def once(self, fn):
        """``fn()`` run by rank 0 and its result (or its error) broadcast to every rank."""
        box: list = [None, None]
        if self.main:
            try:
                box[0] = fn()
            except Exception as exc:  # every rank raises it, rather than the others waiting
                box[1] = exc
        dist.broadcast_object_list(box, src=0)  # rank 0's list keeps its own objects
        if box[1] is not None:
            raise box[1]
        return box[0]

    def _everywhere(self, fn):
        """``fn()`` run by every rank; when one fails, every rank raises (its own error first)."""
        result = error = None
        try:
            result = fn()
        except Exception as exc:
            error = exc
        errors: list = [None] * self.world_size
        dist.all_gather_object(errors, None if error is None else error)
        if error is not None:
            raise error
        failed = next((e for e in errors if e is not None), None)
        if failed is not None:
            raise failed
        return result

    # ---------------------------------------------------------------- hooks
    def schema(self, data, metadata, discrete_columns):
        """Inferred by every rank (dtypes and metadata only; under DP the refusals and the
        budget plan too, all deterministic), then checked to be the same on every rank."""
        schema = self._everywhere(lambda: self.inner.schema(data, metadata, discrete_columns))
        mine = (len(data), [str(c) for c in data.columns], schema.to_dict())
        reference = [mine]
        dist.broadcast_object_list(reference, src=0)

        def same():
            if reference[0] != mine:
                raise InvalidDataError(
                    f"rank {self.rank} of the data-parallel fit got another table than rank 0 ({len(data)} rows "
                    f"against {reference[0][0]}, or other columns or kinds): every process must read the same "
                    "table with the same metadata.")

        self._everywhere(same)
        if len(data) < self.world_size:
            raise InvalidDataError(f"the table has {len(data)} rows, fewer than the {self.world_size} processes of "
                                   "the data-parallel fit; launch fewer processes.")
        return schema

    def encode(self, data, schema, seeds: dict) -> Encoded:
        """Rank 0 fits the encoders (and, under DP, runs the private releases, once) and
        encodes the table; the encoders and frequencies are broadcast. Rank 0 keeps the
        encoded rows until :meth:`shard`; the other ranks get none yet."""
        self.seeds = seeds
        full: list = []

        def fit_encoders():
            encoded = self.inner.encode(data, schema, seeds)
            full.append(encoded)
            # What the inner strategy learnt while encoding (under DP: the releases its ledger
            # lists) travels with the encoders, so every rank's strategy is rank 0's.
            return dataclasses.replace(encoded, floats=None, codes=None), dict(vars(self.inner))

        encoded, learnt = self.once(fit_encoders)
        if not self.main:
            vars(self.inner).update(learnt)
        return full[0] if full else encoded

    def shard(self, encoded: Encoded, seeds: dict) -> Encoded:
        """Each rank's rows: a random, disjoint share of the encoded table (sent by rank 0)."""
        shards = None
        if self.main:
            order = numpy_generator(seeds["shard"]).permutation(len(encoded.floats))
            picks = [np.sort(order[r::self.world_size]) for r in range(self.world_size)]
            shards = [(encoded.floats[p], encoded.codes[p]) for p in picks]
        # Rank 0 keeps the whole table's codes for finish_calibration (the DP pairs are chosen
        # and measured on every row, once).
        self.full_codes = encoded.codes if self.main else None
        mine: list = [None]
        dist.scatter_object_list(mine, shards, src=0)
        floats, codes = mine[0]
        return dataclasses.replace(encoded, floats=floats, codes=codes)

    def schedule(self, encoded: Encoded) -> Schedule:
        """The one-process schedule (global batch, epochs, steps, DP budget); each rank draws
        ``batch / world_size`` rows per step (a multiple of ``pac``, at least two packs)."""
        plan = self.inner.schedule(encoded)
        share = plan.batch // self.world_size
        self.local_batch = max(2 * plan.pac, share - share % plan.pac)
        if self.local_batch * self.world_size != plan.batch:
            logger.info("tabgan: batch %d over %d processes: %d rows each (%d per step in all)", plan.batch,
                        self.world_size, self.local_batch, self.local_batch * self.world_size)
        return plan

    def sampler(self, cond_probs: list, cond_codes: torch.Tensor, device, target: int | None = None):
        """The inner sampler over this rank's rows; in plain training the levels are drawn by
        the log-frequencies of the whole table (summed over ranks), as in one process, among
        the levels this rank's rows hold."""
        sampler = self.inner.sampler(cond_probs, cond_codes, device, target)
        if not self.private and sampler.n_columns:
            total = sampler.level_count.clone()
            dist.all_reduce(total)
            sampler.train_probs = torch.where(sampler.level_count > 0, torch.log1p(total.float()),
                                              torch.zeros((), device=total.device))
        return sampler

    def gradient_penalty(self) -> float:
        return self.inner.gradient_penalty()

    def wrap_critic(self, discriminator, device, seeds: dict):
        if not self.private:
            return self.inner.wrap_critic(discriminator, device, seeds)
        from .privacy import wrap_critic_distributed

        return wrap_critic_distributed(self.inner, discriminator, device, seeds, self.world_size)

    def prepare(self, state, callbacks: list, start: int = 0) -> None:
        """Per-rank batch and random stream, the DDP wrappers, and the loss averaging."""
        state.batch_size = self.local_batch
        # The stream the critic's dropout also reads (the same generator object).
        state.rng.manual_seed(int(rank_seed(self.seeds["train"], self.rank, start).generate_state(
            1, dtype=np.uint64)[0] >> np.uint64(1)))
        ids = [self.device.index] if self.device.type == "cuda" else None
        generator = DistributedDataParallel(state.generator, device_ids=ids)
        # Under DP the critic's gradients are combined by the private optimiser (clipped sums,
        # noise once); DDP would average unclipped gradients.
        critic = None if self.private else DistributedDataParallel(state.discriminator, device_ids=ids)
        state.extra["ddp"] = (generator, critic)
        callbacks.insert(0, _AverageLosses(self.world_size, self.device))

    def sync_generator(self, generator: torch.nn.Module) -> None:
        """Rank 0's generator (weights and normalisation statistics) on every rank."""
        with torch.no_grad():
            for tensor in generator.state_dict().values():
                dist.broadcast(tensor, src=0)

    def finish_calibration(self, parts, encoded: Encoded, calibration, seeds: dict, make_pool):
        """The inner strategy's, on the whole table's codes (rank 0 runs it, inside ``once``):
        under DP, the two-way marginals chosen, measured and turned into the tilt as in one
        process."""
        whole = dataclasses.replace(encoded, codes=self.full_codes) if self.main else encoded
        return self.inner.finish_calibration(parts, whole, calibration, seeds, make_pool)

    def unwrap_critic(self, critic):
        return self.inner.unwrap_critic(critic)

    @property
    def accountant(self):
        return self.inner.accountant

    def should_stop(self):
        return self.inner.should_stop()

    def ledger(self, encoded: Encoded):
        return self.inner.ledger(encoded)

    def dp_release(self):
        return self.inner.dp_release()
