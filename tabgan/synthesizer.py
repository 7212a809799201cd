"""The estimator facade: validates, builds the parts, calls ``train()``, samples, saves."""

from __future__ import annotations

import logging
import numbers
import time
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils.validation import check_is_fitted

from ._version import __version__
from ._io import check_output_path, write_frames
from ._random import numpy_generator, resolve_seed, torch_generator
from .calibration import Calibration
from .dependencies import Dependencies, fit_dependencies
from .conditions import parse_conditions
from .exceptions import NotFittedError, PrivacyConfigError
from .generation import GenerationParts, calibrate, generate, pair_pool
from .nn.modules import Discriminator, Generator, OutputHead, init_parameters
from .nn.precision import autocast_dtype
from .persistence import read_model_file, write_model_file
from .sampling import ConditionalSampler
from .schema import Schema
from .training.callbacks import Announcer, History, HistoryCallback, LogCallback, ProgressBar, format_seconds
from .training.device import resolve_device, resolve_threads, torch_threads
from .training.loop import TrainingState, train
from .training.averaging import WeightAverage
from .training.strategy import Encoded, FitSettings, Schedule, Training
from .training.selection import BestGeneratorCallback, Discretizer
from .validation import check_n, check_params, check_positive_int
from .transformers import TableTransformer
from .transformers.base import WIDE_LEVELS

__all__ = ["Synthesizer"]

logger = logging.getLogger("tabgan")

#: The validation check (``keep_best``) compares this many generated rows with as many real
#: ones, about this many times per fit.
CHECK_ROWS = 5000
#: The gradient penalty is estimated on this share of each batch (its double backward pass is
#: the costliest part of a critic step; a quarter of 500 rows estimates it well).
GP_SHARE = 0.25
CHECKS_PER_FIT = 20
#: Marks the seeds of partitioned sampling apart from the model's sampling stream.
PARTITION_KEY = 0x7061_7274
#: What a parameter left at ``None`` means (see :meth:`Synthesizer.setting`).
DEFAULTS = {"epochs": None, "batch_size": 500, "generator_dims": (256,), "discriminator_dims": (256, 256),
            "generator_lr": 2e-4, "discriminator_lr": 2e-4, "gradient_penalty": 10.0, "generator_average": 0.995}
#: ... and under differential privacy: every step spends budget, so few epochs of large
#: (expected) batches, a smaller critic and larger steps. Measured on adult at epsilon 1, 3, 10.
DP_DEFAULTS = {"epochs": 12, "batch_size": 1000, "generator_dims": (256, 256), "discriminator_dims": (128, 128),
               "generator_lr": 1e-3, "discriminator_lr": 1e-3, "gradient_penalty": 0.0, "generator_average": 0.0}


class Synthesizer(BaseEstimator):
    """Conditional tabular GAN (CTGAN-style) with mixed-type encoding.

    Parameters
    ----------
    epochs : int or None
        Passes over the table. ``None`` picks about 6,400 generator steps, bounded to
        [3, 1000] epochs (123 epochs on adult's 26k rows, 1,000 on a 344-row table): small
        tables need many passes, large ones fewer. Under differential privacy ``None`` is 12
        epochs (every step spends budget; see ``DP_DEFAULTS``).

    ``batch_size``, ``generator_dims``, ``discriminator_dims``, ``generator_lr`` and
    ``discriminator_lr`` left at ``None`` take ``DEFAULTS``, or ``DP_DEFAULTS`` when ``epsilon``
    is set: a noisy critic needs larger batches, a smaller critic and larger steps (on adult at
    epsilon 1, learning rates of 1e-3 gave clearly better ML efficacy and quality than 2e-4;
    the measurements are in ``benchmarks/README.md``).

    batch_size : int or None
        Rows per step (500, as CTGAN; 1,000 expected rows under DP). Capped at a quarter of the
        table (so an epoch has at least four steps) and rounded down to a multiple of ``pac``.
    embedding_dim : int
        Size of the generator's noise input (128, as CTGAN).
    generator_dims, discriminator_dims : tuple of int or None
        Hidden layer sizes (under DP: (256, 256) and (128, 128)). The discriminator has CTGAN's
        (256, 256); the generator one
        residual layer of 256 rather than CTGAN's two (fewer operations per row, and no worse
        pair trends or detection on adult in single runs; see ``benchmarks/README.md``).
    generator_lr, discriminator_lr : float or None
        Adam learning rates (2e-4, as CTGAN, with betas (0.5, 0.9); 1e-3 under DP).
    weight_decay : float
        Adam weight decay of the generator (1e-6, as CTGAN).
    pac : int
        Rows the discriminator scores together (PacGAN). CTGAN uses 10; pac 1 scored better pair
        trends and ML efficacy on adult in single runs (``benchmarks/README.md``), and is what
        differential privacy needs (one row, one gradient).
    discriminator_steps : int
        Critic updates per generator update.
    gradient_penalty : float or None
        WGAN-GP weight; ``None`` means 10 (Gulrajani et al. 2017), and none under differential
        privacy, where any weight above 0 is refused (opacus has no per-sample gradients for its
        double backward). 0 switches it off.
    generator_average : float or None
        Decay of an exponential moving average of the generator's weights, updated after every
        generator step (:mod:`tabgan.training.averaging`): the average, not the last weights, is
        the generator that ``keep_best`` checks and the model keeps (the critic still trains
        against the raw generator). ``None`` means 0.995 (about the last 200 steps), and 0
        (off) under differential privacy, where it has not been measured; 0 keeps the trained
        generator itself. On adult it raised the validation check's fidelity and lowered
        detection AUC (``benchmarks/README.md``).
    max_fit_rows : int
        Rows used to fit each numeric column's mixture (a random subsample; bounds fit time).
    numeric_encoding : {"auto", "modes", "quantile"}
        How continuous values reach the networks. ``"modes"``: CTGAN's mode-specific
        normalisation (a mixture mode, one-hot, and the position inside it). ``"quantile"``:
        one standard-normal score through a piecewise-linear CDF (knots at equal-mass points
        of the mixture, heights from counts), so a monotone relation between columns is a
        near-linear one for the networks. ``"auto"``: the quantile encoding for the numeric
        columns tied to another by |Spearman| or |Pearson| >= 0.9 (diamonds' sizes, weight and
        price; flights' departure and arrival delays),
        modes for the others; modes for every column under differential privacy. Point masses
        and missing values stay one-hot in all three.
    keep_best : bool
        Score the generator about 20 times during training with a cheap fidelity check (column
        and associated column-pair distributions of 5,000 generated rows against 5,000 real
        ones) and keep
        the best one rather than the last: GAN losses say little about quality and the
        generator oscillates. Off under differential privacy (the check reads the table).
    calibrate : bool
        After training, match the generator's one-dimensional marginals to the model's own
        targets (level frequencies, the share of each numeric mode, standard-normal quantile
        scores) with logit offsets and monotone score maps fitted on generated rows (see
        :mod:`tabgan.calibration`). Post-processing: it reads no training row, so it is free
        under differential privacy too.
    dependencies : bool
        Keep the near-deterministic dependencies between discrete columns: functional
        dependencies and hierarchies (education -> education-num, postal code -> city) and
        level-wise implications (relationship "Husband" -> sex "Male") found in the table are
        enforced in every generated row (see :mod:`tabgan.dependencies`). Off under differential
        privacy (finding them reads exact counts). Hierarchies declared in the metadata
        (``"hierarchies": [["postal_code", "city", "state"]]``) are kept whatever this says.
    device : str
        ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    precision : {"float32", "bfloat16"}
        ``"bfloat16"`` runs the networks' forward passes under ``torch.autocast`` (matrix
        products in bfloat16; output head, losses and optimisers in float32): about twice the
        arithmetic rate on CPUs with AVX512-BF16 and on recent GPUs. Not the default: its effect
        on fidelity has not been measured on every shared table (``benchmarks/README.md``).
        Not available under differential privacy.
    wide_head : {"factor", "mixture"}
        The generator's head for a wide categorical column (more than 256 levels: flight or
        tail numbers). ``"factor"``: logits through a rank-64 factor, and every training step
        expands the column to all its levels. ``"mixture"``: each row's level probabilities are
        its weights over 64 distributions over the levels, and a training step touches only
        the few levels each row's Gumbel-softmax sample weighs; on flights (two such columns,
        7,600 levels), fitted beside the factor head at one commit, 3.3 times faster (23.9
        against 78.3 minutes) with pair trends 0.580 against 0.630 and TSTR R² 0.637 against
        0.676 (``benchmarks/README.md``, "Exact values, and tables nobody here tuned to"), so
        not the default. No effect on a table without wide columns.
    threads : int or None
        CPU threads torch uses during ``fit`` and ``sample`` (restored afterwards). ``None``
        means one: the networks are small, so more threads gain little on an idle machine and
        slow training down several-fold when other jobs keep the cores busy. Raise it for a
        table with thousands of one-hot levels on an idle multi-core machine.
    random_state : int, numpy Generator or None
        Seeds the encoders, training and sampling. Same seed, data, machine, torch version and
        thread count give identical samples.
    verbose : bool
        Show the plan of the fit (column kinds, epochs, batch, device, threads), an estimate of
        the training time after the first epoch, a progress bar and a final summary, on stderr
        (or on the ``tabgan`` logger at INFO when logging is configured to show it).
    epsilon, delta : float or None
        Differential privacy target for the whole fit, one row as the unit (``docs/privacy.md``).
        ``None`` (default) trains without DP. Needs opacus (the ``dp`` extra).
    max_grad_norm : float
        Per-sample gradient clipping norm of DP-SGD (DP only).
    preprocessing_epsilon_share : float
        Share of the budget (as zCDP) spent on the DP statistics the encoders need (DP only).

    Attributes
    ----------
    schema_ : Schema
    transformer_ : TableTransformer
    generator_ : torch.nn.Module
    history_ : History
        One record per epoch; ``history_.to_frame()``.
    privacy_spent_ : dict or None
        The privacy ledger (``None`` when trained without differential privacy).
    settings_ : dict
        The values the fit actually used for the parameters left at ``None`` and the sizes it
        derived (``batch_size``, ``epochs``, network sizes, learning rates, ``threads``,
        ``device``, each numeric column's encoding, ``processes``: the data-parallel world size,
        1 outside torchrun, see ``docs/distributed.md``). ``get_params()`` shows the parameters as
        given, ``None`` included, as scikit-learn requires.
    dependencies_ : Dependencies or None
        The dependency rules enforced in samples (``None`` when ``dependencies=False`` or under
        differential privacy).
    device_ : torch.device
    n_features_in_ : int
    feature_names_in_ : ndarray of str
    """

    def __init__(
        self,
        *,
        epochs: int | None = None,
        batch_size: int | None = None,
        embedding_dim: int = 128,
        generator_dims: tuple[int, ...] | None = None,
        discriminator_dims: tuple[int, ...] | None = None,
        generator_lr: float | None = None,
        discriminator_lr: float | None = None,
        weight_decay: float = 1e-6,
        pac: int = 1,
        discriminator_steps: int = 1,
        gradient_penalty: float | None = None,
        generator_average: float | None = None,
        max_fit_rows: int = 10_000,
        numeric_encoding: str = "auto",
        keep_best: bool = True,
        calibrate: bool = True,
        dependencies: bool = True,
        device: str = "auto",
        precision: str = "float32",
        wide_head: str = "factor",
        threads: int | None = None,
        random_state=None,
        verbose: bool = True,
        epsilon: float | None = None,
        delta: float | None = None,
        max_grad_norm: float = 1.0,
        preprocessing_epsilon_share: float = 0.1,
    ):
        self.epochs = epochs
        self.batch_size = batch_size
        self.embedding_dim = embedding_dim
        self.generator_dims = generator_dims
        self.discriminator_dims = discriminator_dims
        self.generator_lr = generator_lr
        self.discriminator_lr = discriminator_lr
        self.weight_decay = weight_decay
        self.pac = pac
        self.discriminator_steps = discriminator_steps
        self.gradient_penalty = gradient_penalty
        self.generator_average = generator_average
        self.max_fit_rows = max_fit_rows
        self.numeric_encoding = numeric_encoding
        self.keep_best = keep_best
        self.calibrate = calibrate
        self.dependencies = dependencies
        self.device = device
        self.precision = precision
        self.wide_head = wide_head
        self.threads = threads
        self.random_state = random_state
        self.verbose = verbose
        self.epsilon = epsilon
        self.delta = delta
        self.max_grad_norm = max_grad_norm
        self.preprocessing_epsilon_share = preprocessing_epsilon_share

    # ------------------------------------------------------------------ validation

    def _validate_params(self) -> None:
        check_params(self.get_params())

    def _reset(self) -> None:
        for attr in [a for a in vars(self) if a.endswith("_") and not a.startswith("__")]:
            delattr(self, attr)
        for attr in ("_sample_entropy", "_sample_calls", "_dp_release"):
            self.__dict__.pop(attr, None)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "generator_")

    def _check_fitted(self) -> None:
        try:
            check_is_fitted(self)
        except SklearnNotFittedError:
            raise NotFittedError(
                "This Synthesizer is not fitted yet; call fit(df) first or load a saved model with "
                "Synthesizer.load(path)."
            ) from None

    # ------------------------------------------------------------------ fit
    def setting(self, name: str):
        """The value ``name`` takes in a fit: the parameter, or its default for this mode
        (``DP_DEFAULTS`` when ``epsilon`` is set, else ``DEFAULTS``) when it is ``None``."""
        value = getattr(self, name)
        if value is not None:
            return value
        return (DP_DEFAULTS if self.epsilon is not None else DEFAULTS).get(name)

    def fit(self, data: pd.DataFrame, *, metadata: Mapping | None = None, discrete_columns=None,
            checkpoint=None, checkpoint_every: int = 1, resume_from=None) -> "Synthesizer":
        """Learn the distribution of ``data``.

        Parameters
        ----------
        data : DataFrame of shape (n_rows, n_columns)
            Never modified.
        metadata : dict, optional
            Column kinds and public facts, ``{"columns": {name: kind or dict}}`` (see
            :mod:`tabgan.schema`). Columns it does not name are inferred. A ``"target"`` (a
            categorical or boolean column) is conditioned on in half of the training batches
            and generated rows (not under differential privacy).
        discrete_columns : list of str, optional
            Shortcut marking these columns categorical.
        checkpoint : str or Path, optional
            Write the training state there every ``checkpoint_every`` epochs (atomically; no
            training rows inside), so an interrupted fit can go on with ``resume_from``.
        checkpoint_every : int
            Epochs between checkpoints.
        resume_from : str or Path, optional
            A checkpoint of an earlier fit with the same parameters on the same table: training
            continues from its last epoch (see ``docs/robustness.md``).

        Returns
        -------
        self

        Notes
        -----
        Interrupting ``fit`` (KeyboardInterrupt) re-raises and leaves the estimator unfitted:
        fitted attributes are only assigned at the end.
        """
        self._reset()
        self._validate_params()
        resume = self._read_resume(checkpoint, checkpoint_every, resume_from)
        strategy = self._strategy()
        with torch_threads(resolve_threads(self.threads)), strategy.session():
            return self._fit(strategy, data, metadata, discrete_columns, checkpoint, checkpoint_every, resume,
                             resume_from)

    def _fit(self, strategy: Training, data, metadata, discrete_columns, checkpoint, checkpoint_every, resume,
             resume_from) -> "Synthesizer":
        """The body of :meth:`fit`, run with the chosen thread count: one pipeline, with the
        differences of differential privacy and of data-parallel training in the training
        strategy (:meth:`_strategy`)."""
        from .training import checkpoint as ckpt

        if strategy.private and isinstance(metadata, Mapping) and metadata.get("hierarchies"):
            raise PrivacyConfigError(
                "metadata 'hierarchies' cannot be kept under differential privacy: the child -> parent map is "
                "read from the table and is not released; remove 'hierarchies' from the metadata or fit "
                "without epsilon.")
        schema = strategy.schema(data, metadata, discrete_columns)
        seq = resolve_seed(self.random_state) if resume is None else ckpt.seed_from(resume[0])
        if resume is not None:
            ckpt.check_resume_matches(resume[0], self._json_params(), schema.to_dict(), resume_from)
        seeds = dict(zip(strategy.seed_names, seq.spawn(len(strategy.seed_names))))
        device = strategy.place(resolve_device(self.device))
        logger.info("tabgan: training on %s", device)
        encoded = strategy.encode(data, schema, seeds)
        plan = strategy.schedule(encoded)
        transformer = encoded.transformer
        layout = transformer.layout_
        # Read from exact counts of the table: the rules are fitted here, never under DP.
        dependencies = (strategy.once(lambda: fit_dependencies(
                            encoded.codes, layout.code_widths,
                            transformer.exact_code_columns() if self.dependencies else
                            np.zeros(len(layout.code_widths), dtype=bool),
                            _declared_code_pairs(schema, layout)))
                        if (self.dependencies or schema.hierarchies) and not strategy.private else None)
        encoded = strategy.shard(encoded, seeds)
        # Nothing is announced under DP: the plan holds the exact row count.
        announcer = None if strategy.private else Announcer(self.verbose and strategy.main)
        if announcer is not None:
            announcer.say(_plan_text(schema, transformer, encoded.n_rows, plan.epochs, plan.steps_per_epoch,
                                     plan.batch, device, resolve_threads(self.threads), dependencies))
        fit_start = time.perf_counter()

        cond_probs = layout.of_conditioned(encoded.level_probs)
        state, history, done, selector = self._train(strategy, data, encoded, plan, device, seeds, announcer,
                                                     (checkpoint, checkpoint_every, resume, seq))
        summary = _summary_text(done, plan, time.perf_counter() - fit_start, selector)

        state.generator.eval()
        # Level probabilities only, no rows; the target drawn as in training.
        sampler = ConditionalSampler(cond_probs, device, target=state.sampler.target)
        parts = GenerationParts(state.generator, sampler, encoded.level_probs, state.head, transformer, device,
                                int(self.embedding_dim), dependencies=dependencies,
                                autocast_dtype=autocast_dtype(self.precision))
        one_way = strategy.once(lambda: self._calibrate(parts, encoded.targets, seeds["calibrate"],
                                                        encoded.mode_targets))
        calibration = strategy.once(lambda: strategy.finish_calibration(
            parts, encoded, one_way, seeds, lambda seq: pair_pool(parts, one_way, seq)))
        if announcer is not None:
            announcer.say(f"{summary}; fit took {format_seconds(time.perf_counter() - fit_start)} in all")
        # Fitted state is assigned only now, so an interrupted fit leaves the estimator unfitted.
        self._set_fitted(parts, schema=encoded.schema, discriminator=strategy.unwrap_critic(state.discriminator),
                         calibration=calibration, history=history, privacy_spent=strategy.ledger(encoded),
                         epochs=done, settings=self._settings(encoded.n_rows, plan.batch, done, parts,
                                                              strategy.world_size),
                         sample_entropy=int(seeds["sample"].generate_state(1, dtype=np.uint64)[0]),
                         dp_release=strategy.dp_release())
        return self

    def _train(self, strategy: Training, data, encoded: Encoded, plan: Schedule, device, seeds: dict, announcer,
               checkpointing) -> tuple[TrainingState, History, int, object]:
        """Build the training state and run the loop with the strategy's hooks, the validation
        check (restored at the end) and checkpoints; ``(state, history, epochs done, selector)``.
        ``checkpointing`` is ``(checkpoint, checkpoint_every, resume, seed)``."""
        from .training import checkpoint as ckpt

        checkpoint, checkpoint_every, resume, seq = checkpointing
        layout, schema = encoded.transformer.layout_, encoded.schema
        cond_probs = layout.of_conditioned(encoded.level_probs)
        codes = torch.as_tensor(encoded.codes, device=device)
        sampler = strategy.sampler(cond_probs, codes[:, torch.as_tensor(layout.conditioned)], device,
                                   _target_index(schema, layout))
        state = self._training_state(strategy, layout, sampler, torch.as_tensor(encoded.floats, device=device), codes,
                                     plan, device, seeds, encoded.level_probs)
        history, callbacks = self._callbacks(announcer, self.verbose and strategy.main)
        decay = float(self.setting("generator_average"))
        if decay > 0:
            state.average = WeightAverage(state.generator, decay)
        # The generator the fit keeps: the moving average of the trained one's weights, or that one.
        kept = state.generator if state.average is None else state.average.module
        selector = None
        # The check reads the table: off under DP. Rank 0 alone runs it in a data-parallel fit.
        if self.keep_best and not strategy.private and strategy.main:
            selector = self._selector(data, encoded, kept, state.head, device, plan.epochs, seeds["check"])
            callbacks.append(selector)
        start = 0
        if resume is not None:
            start = ckpt.restore(state, resume[0], resume[1], history, selector)
            callbacks.insert(0, ckpt.EpochOffset(start))
        strategy.prepare(state, callbacks, start)
        if checkpoint is not None and strategy.main:
            callbacks.append(ckpt.CheckpointCallback(
                checkpoint, checkpoint_every, state,
                ckpt.checkpoint_meta(self._json_params(), schema.to_dict(), seq, plan.epochs), history, selector))
        done = start + train(state, max(0, plan.epochs - start), plan.steps_per_epoch, callbacks,
                             d_step=strategy.d_step, g_step=strategy.g_step, should_stop=strategy.should_stop())
        if selector is not None:
            selector.restore()
        strategy.sync_generator(kept)
        # Training is over: from here on the state's generator is the one the model keeps.
        state.generator = kept
        return state, history, done, selector

    def _read_resume(self, checkpoint, checkpoint_every, resume_from):
        """Check ``fit``'s checkpoint arguments; the checkpoint to resume from, or None."""
        from .training import checkpoint as ckpt

        ckpt.check_checkpoint_args(checkpoint, checkpoint_every, resume_from)
        resume = ckpt.read_checkpoint(resume_from) if resume_from is not None else None
        if self.epsilon is not None and (checkpoint is not None or resume is not None):
            raise ValueError("checkpoint/resume_from are not supported with differential privacy (the privacy "
                             "accountant's state is not checkpointed); fit without them.")
        return resume

    def _strategy(self) -> Training:
        """How this fit trains: plainly, or with differential privacy when ``epsilon`` is set;
        data-parallel over the processes of a torchrun launch (see ``docs/distributed.md``)."""
        settings = FitSettings(
            epochs=self.setting("epochs"), batch_size=int(self.setting("batch_size")), pac=self.pac,
            discriminator_steps=int(self.discriminator_steps), discriminator_lr=self.setting("discriminator_lr"),
            weight_decay=self.weight_decay, gradient_penalty=self.setting("gradient_penalty"),
            max_fit_rows=self.max_fit_rows, numeric_encoding=self.numeric_encoding, epsilon=self.epsilon,
            delta=self.delta, max_grad_norm=self.max_grad_norm,
            preprocessing_epsilon_share=self.preprocessing_epsilon_share, calibrate=bool(self.calibrate))
        from .training.distributed import data_parallel

        if self.epsilon is None:
            return data_parallel(Training(settings), resolve_device(self.device))
        from .training.privacy import PrivateTraining  # opacus, only when asked for

        return data_parallel(PrivateTraining(settings), resolve_device(self.device))

    def _set_fitted(self, parts: GenerationParts, *, schema: Schema, history: History, privacy_spent: dict | None,
                    epochs: int | None, settings: dict, sample_entropy: int, sample_calls: int = 0,
                    discriminator=None, calibration: Calibration | None = None, dp_release=None) -> None:
        """The one place the fitted state is assigned: by :meth:`fit` (plain and private) and
        :meth:`load` (which has no critic: ``discriminator_`` is None)."""
        self.schema_ = schema
        self.transformer_ = parts.transformer
        self.generator_ = parts.generator
        self.discriminator_ = discriminator
        self.sampler_ = parts.sampler
        self.level_probs_ = parts.level_probs
        self.calibration_ = calibration
        self.dependencies_ = parts.dependencies
        self.head_ = parts.head
        self.history_ = history
        self.privacy_spent_ = privacy_spent
        self.device_ = parts.device
        self.epochs_ = epochs
        self.settings_ = settings
        self.n_features_in_ = len(schema)
        self.feature_names_in_ = np.asarray(schema.names, dtype=object)
        self._sample_entropy = int(sample_entropy)
        self._sample_calls = int(sample_calls)
        self._dp_release = dp_release  # the DP releases the encoders were built from (tests rebuild them)

    def _selector(self, data, encoded: Encoded, generator, head, device, epochs: int, seq):
        """The validation check that keeps the best ``generator`` (see training/selection.py)."""
        schema, transformer, level_probs = encoded.schema, encoded.transformer, encoded.level_probs
        rng = numpy_generator(seq)
        n_check = min(len(data), CHECK_ROWS)
        reference = data.iloc[np.sort(rng.choice(len(data), n_check, replace=False))]
        discretizer = Discretizer(schema, reference)
        layout = transformer.layout_
        parts = GenerationParts(generator, ConditionalSampler(layout.of_conditioned(level_probs), device,
                                                              target=_target_index(schema, layout)),
                                level_probs, head, transformer, device, int(self.embedding_dim),
                                autocast_dtype=autocast_dtype(self.precision))
        check_seq = seq.spawn(1)[0]

        def sample_frame(n):
            # The same draw every check, so scores differ by the generator only.
            floats, codes = generate(parts, n, [], check_seq, CHECK_ROWS)
            return transformer.inverse_transform(floats, codes)

        every = max(1, epochs // CHECKS_PER_FIT)
        return BestGeneratorCallback(generator, sample_frame, discretizer, discretizer.cells(reference), every,
                                     n_check)

    def _training_state(self, strategy: Training, layout, sampler, floats, codes, plan: Schedule, device,
                        seeds: dict, level_probs: list) -> TrainingState:
        """Networks initialised from the ``init`` seed (a wide span's mixture components at its
        level frequencies ``level_probs``), the critic as the strategy wraps it, optimisers, and
        the state the training loop runs on."""
        generator, discriminator, head = self._build_networks(layout, sampler.cond_width, plan.pac, device)
        init_gen = torch_generator(seeds["init"], device)
        init_parameters(generator, init_gen)
        init_parameters(discriminator, init_gen)
        if layout.wide_spans and generator.head == "mixture":
            wide = (layout.discrete & ~layout.conditioned)[layout.discrete]
            generator.init_levels([p for p, w in zip(level_probs, wide) if w])
        train_gen = torch_generator(seeds["train"], device)
        discriminator.use_generator(train_gen)
        critic, opt_d = strategy.wrap_critic(discriminator, device, seeds)
        opt_g = torch.optim.Adam(generator.parameters(), lr=self.setting("generator_lr"), betas=(0.5, 0.9),
                                 weight_decay=self.weight_decay)
        return TrainingState(
            generator=generator, discriminator=critic, head=head, opt_g=opt_g, opt_d=opt_d,
            sampler=sampler, floats=floats, codes=codes,
            float_positions=torch.as_tensor(layout.float_positions, device=device),
            code_offsets=torch.as_tensor(layout.code_offsets, device=device),
            cond_span_offsets=torch.as_tensor(layout.code_offsets[layout.conditioned], device=device),
            cond_span_widths=torch.as_tensor(layout.code_widths[layout.conditioned], device=device),
            width=layout.width, embedding_dim=int(self.embedding_dim), batch_size=plan.batch, pac=plan.pac,
            gp_weight=float(strategy.gradient_penalty()), rng=train_gen,
            discriminator_steps=int(self.discriminator_steps), gp_share=GP_SHARE, privacy=strategy.accountant,
            autocast_dtype=autocast_dtype(self.precision),
        )

    def _callbacks(self, announcer: Announcer | None = None, verbose: bool | None = None) -> tuple[History, list]:
        history = History()
        callbacks = [HistoryCallback(history), LogCallback()]
        if self.verbose if verbose is None else verbose:
            callbacks.append(ProgressBar(announcer))
        return history, callbacks

    def _settings(self, n_rows: int | None, batch: int, epochs_trained: int, parts: GenerationParts,
                  processes: int = 1) -> dict:
        """What the fit used, with the defaults resolved (see ``settings_``); ``n_rows`` is None
        under differential privacy; ``processes`` is the data-parallel world size."""
        return {
            "rows": None if n_rows is None else int(n_rows), "batch_size": int(batch), "epochs": int(epochs_trained),
            "generator_dims": [int(d) for d in self.setting("generator_dims")],
            "discriminator_dims": [int(d) for d in self.setting("discriminator_dims")],
            "generator_lr": float(self.setting("generator_lr")),
            "discriminator_lr": float(self.setting("discriminator_lr")),
            "gradient_penalty": float(self.setting("gradient_penalty")),
            "generator_average": float(self.setting("generator_average")),
            "threads": resolve_threads(self.threads), "device": str(parts.device),
            "numeric_encodings": {col.spec.name: col.encoding_ for col in parts.transformer.columns_
                                  if hasattr(col, "encoding_")},
            "dependency_rules": 0 if parts.dependencies is None else len(parts.dependencies),
            "processes": int(processes),
        }

    def _build_networks(self, layout, cond_width: int, pac: int, device, wide_head: str | None = None):
        """Generator, critic and output head; ``wide_head`` is the generator's head for wide
        spans (None: the ``wide_head`` parameter)."""
        wide = layout.wide_spans
        generator = Generator(int(self.embedding_dim) + cond_width, tuple(self.setting("generator_dims")), layout.width,
                              wide, head=wide_head or self.wide_head)
        discriminator = Discriminator(layout.width + cond_width, tuple(self.setting("discriminator_dims")), pac,
                                      wide=wide)
        head = OutputHead(torch.as_tensor(layout.float_positions, device=device), layout.code_offsets.tolist(),
                          layout.code_widths.tolist())
        return generator.to(device), discriminator.to(device), head

    # ------------------------------------------------------------------ sample


    def _sample_seed(self, random_state) -> np.random.SeedSequence:
        if random_state is not None:
            return resolve_seed(random_state)
        seq = np.random.SeedSequence(self._sample_entropy, spawn_key=(self._sample_calls,))
        self._sample_calls += 1
        return seq

    def sample(self, n: int, *, conditions: Mapping | None = None, random_state=None,
               chunk_size: int = 10_000) -> pd.DataFrame:
        """Generate ``n`` synthetic rows.

        Parameters
        ----------
        n : int
            Number of rows (0 gives an empty frame with the right columns and dtypes).
        conditions : dict, optional
            ``{column: value}`` on categorical/boolean columns; every returned row satisfies all
            of them. The generator is conditioned on the first and rows are filtered on the
            rest, within a bounded number of tries.
        random_state : int, numpy Generator or None
            Seed for this call; ``None`` continues the model's own sampling stream.
        chunk_size : int
            Rows generated per forward pass (bounds memory).

        Returns
        -------
        DataFrame of shape (n, n_columns), same column order and dtypes as the training data.
        """
        self._check_fitted()
        check_n(n)
        check_positive_int("chunk_size", chunk_size)
        parsed = self._parse_conditions(conditions)
        seq = self._sample_seed(random_state)
        with torch_threads(resolve_threads(self.threads)):
            floats, codes = generate(self._parts(), int(n), parsed, seq, int(chunk_size))
        return self.transformer_.inverse_transform(floats, codes)

    def sample_to(self, path, n: int, *, chunk_size: int = 100_000, conditions: Mapping | None = None,
                  random_state=None, partitions: int | None = None, workers: int = 1) -> Path:
        """Generate ``n`` rows straight into a CSV or Parquet file, ``chunk_size`` rows at a time.

        Memory stays flat in ``n``: only one chunk is held at once (``benchmarks/sample_memory.py``
        measures it). The file is written under a temporary name in the same folder and renamed
        when complete, so an interrupted call never leaves a truncated file at ``path``.

        Parameters
        ----------
        path : str or Path
            Ends in ``.csv`` or ``.parquet``/``.pq`` (Parquet needs pyarrow).
        n : int
            Number of rows (0 writes the header or an empty Parquet file with the right schema).
        chunk_size : int
            Rows generated, decoded and written per step; peak memory grows with it, not with ``n``.
        conditions, random_state
            As in :meth:`sample`. With the same ``random_state`` the file is the same; its rows are
            not those of ``sample(n, random_state=...)`` (the stream is split per chunk).
        partitions : int, optional
            Split the rows into this many partitions, written one after the other: partition
            ``i`` holds the rows of :meth:`sample_partition` ``(n, i, partitions)``, seeded by the
            model's seed (or ``random_state``, an int) and ``i`` only. The file is then the same
            whatever ``workers`` is, and the same on every call (the model's sampling stream is
            not advanced).
        workers : int
            Processes generating partitions at once (needs ``partitions``); each holds one
            partition in memory at a time.

        Returns
        -------
        Path of the written file.
        """
        self._check_fitted()
        check_n(n)
        check_positive_int("chunk_size", chunk_size)
        check_positive_int("workers", workers)
        if partitions is None:
            if workers != 1:
                raise ValueError(f"workers={workers} needs partitions: pass partitions=k (k >= workers) so that "
                                 "each worker generates whole partitions.")
        else:
            check_positive_int("partitions", partitions)
        path = check_output_path(path)
        parsed = self._parse_conditions(conditions)
        if partitions is not None:
            return write_frames(path, lambda: self._partition_frames(int(n), int(partitions), conditions, random_state,
                                                                     int(chunk_size), int(workers)))
        seq = self._sample_seed(random_state)
        n, chunk_size = int(n), int(chunk_size)
        threads = resolve_threads(self.threads)
        parts = self._parts()

        def frames():
            if n == 0:  # header / schema only
                yield self.transformer_.inverse_transform(*generate(parts, 0, parsed, seq, 1))
                return
            for i, child in enumerate(seq.spawn(-(-n // chunk_size))):
                rows = min(chunk_size, n - i * chunk_size)
                with torch_threads(threads):
                    floats, codes = generate(parts, rows, parsed, child, min(chunk_size, 10_000))
                yield self.transformer_.inverse_transform(floats, codes)

        return write_frames(path, frames)

    def sample_partition(self, n: int, partition: int, partitions: int, *, conditions: Mapping | None = None,
                         random_state=None, chunk_size: int = 100_000) -> pd.DataFrame:
        """The rows of partition ``partition`` (0-based) of an ``n``-row sample cut into
        ``partitions`` parts: rows ``partition * n // partitions`` up to (not including)
        ``(partition + 1) * n // partitions``, in that order.

        A partition's rows depend only on the model, ``random_state`` (the model's own seed when
        None), the partition id and its row count: any engine's map over ``range(partitions)``
        (processes, Spark, Dask, Ray) gives, concatenated in order, the file
        ``sample_to(path, n, partitions=partitions)`` writes, whatever the number of workers.
        The model's sampling stream is not advanced.

        Parameters
        ----------
        n : int
            Rows of the whole sample (0 or more).
        partition : int
            Which partition, in ``[0, partitions)``.
        partitions : int
            How many partitions the sample is cut into.
        conditions : dict, optional
            As in :meth:`sample`.
        random_state : int or None
            Seed of the whole sample; None uses the model's (fixed at ``fit``, saved with it).
            A numpy Generator is refused: its draws would differ from worker to worker.
        chunk_size : int
            Rows generated per step inside the partition (bounds memory).

        Returns
        -------
        DataFrame with the partition's rows, the training data's columns and dtypes.
        """
        self._check_fitted()
        check_n(n)
        check_positive_int("partitions", partitions)
        check_positive_int("chunk_size", chunk_size)
        if isinstance(partition, bool) or not isinstance(partition, numbers.Integral) or \
                not 0 <= partition < partitions:
            raise ValueError(f"partition must be an integer in [0, {partitions}); got {partition!r}.")
        if isinstance(random_state, np.random.Generator):
            raise TypeError("random_state of partitioned sampling must be an int or None: a numpy Generator's "
                            "draws would differ from one worker to the next.")
        parsed = self._parse_conditions(conditions)
        n, partitions, partition = int(n), int(partitions), int(partition)
        rows = (partition + 1) * n // partitions - partition * n // partitions
        base = (resolve_seed(random_state) if random_state is not None
                else np.random.SeedSequence(self._sample_entropy, spawn_key=(PARTITION_KEY,)))
        seq = np.random.SeedSequence(base.entropy, spawn_key=tuple(base.spawn_key) + (PARTITION_KEY, partition),
                                     pool_size=base.pool_size)
        parts = self._parts()
        frames = []
        with torch_threads(resolve_threads(self.threads)):
            for i, child in enumerate(seq.spawn(max(1, -(-rows // int(chunk_size))))):
                size = min(int(chunk_size), rows - i * int(chunk_size))
                floats, codes = generate(parts, max(size, 0), parsed, child, max(1, min(int(chunk_size), 10_000)))
                frames.append(self.transformer_.inverse_transform(floats, codes))
        return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)

    def _partition_frames(self, n: int, partitions: int, conditions, random_state, chunk_size: int, workers: int):
        """The partitions of :meth:`sample_to`, in order: computed here, or by ``workers`` processes."""
        calls = (((n, i, partitions), {"conditions": conditions, "random_state": random_state,
                                       "chunk_size": chunk_size}) for i in range(partitions))
        if workers == 1:
            for args, kwargs in calls:
                yield self.sample_partition(*args, **kwargs)
            return
        from ._workers import ordered_map

        yield from ordered_map(self, "sample_partition", calls, min(workers, partitions))

    def _parse_conditions(self, conditions) -> list[tuple[int, int]]:
        return parse_conditions(conditions, self.schema_, self.transformer_, self.sampler_.level_probs)

    def _calibrate(self, parts: GenerationParts, targets: list, seq: np.random.SeedSequence,
                   mode_targets: dict | None = None) -> Calibration | None:
        """The calibration (see :func:`tabgan.generation.calibrate`); None when ``calibrate=False``."""
        return calibrate(parts, targets, seq, mode_targets) if self.calibrate else None

    def _parts(self) -> GenerationParts:
        return GenerationParts(self.generator_, self.sampler_, self.level_probs_, self.head_, self.transformer_, self.device_,
                      int(self.embedding_dim), self.calibration_, getattr(self, "dependencies_", None),
                      autocast_dtype(self.precision))


    # ------------------------------------------------------------------ persistence
    def _json_params(self) -> dict:
        params = self.get_params()
        for key in ("generator_dims", "discriminator_dims"):
            if params[key] is not None:
                params[key] = [int(v) for v in params[key]]
        rs = params["random_state"]
        params["random_state"] = int(rs) if isinstance(rs, numbers.Integral) else None
        params["device"] = str(params["device"])
        return params

    def save(self, path) -> None:
        """Write the fitted model to ``path`` (one file, atomically; no training rows inside)."""
        self._check_fitted()
        meta = {
            "tabgan_version": __version__,
            "params": self._json_params(),
            "schema": self.schema_.to_dict(),
            "transformer": self.transformer_.get_state(),
            "level_probs": [p.tolist() for p in self.level_probs_],
            "privacy_spent": self.privacy_spent_,
            "epochs_trained": self.epochs_,
            "sample_entropy": str(self._sample_entropy),
            "sample_calls": self._sample_calls,
            "calibration": None if self.calibration_ is None else self.calibration_.get_state(),
            "dependencies": None if self.dependencies_ is None else self.dependencies_.get_state(),
            "settings": self.settings_,
        }
        write_model_file(path, meta=meta, tensors={"generator": self.generator_.state_dict()})

    @classmethod
    def load(cls, path, *, device: str | None = None) -> "Synthesizer":
        """Load a model written by :meth:`save`; ``device`` overrides the saved one (a model
        trained on CUDA loads on a CPU-only machine with ``device="auto"`` or ``"cpu"``)."""
        meta, states = read_model_file(path, map_location="cpu")
        from .exceptions import ModelFileError

        try:
            params = dict(meta["params"])
            for key in ("generator_dims", "discriminator_dims"):
                if params.get(key) is not None:
                    params[key] = tuple(params[key])
            if device is not None:
                params["device"] = device
            elif params.get("device") not in ("auto", "cpu"):
                params["device"] = "auto"
            model = cls(**params)
            dev = resolve_device(model.device)
            schema = Schema.from_dict(meta["schema"])
            transformer = TableTransformer.from_state(schema, meta["transformer"])
            level_probs = [np.asarray(p, dtype=np.float64) for p in meta["level_probs"]]
            layout = transformer.layout_
            factor = "expand.0.weight" in states["generator"]  # the head the file's generator has
            if layout.wide_spans and not factor and "levels.0" not in states["generator"]:
                raise ModelFileError(
                    f"{path} was written by a tabgan from before categorical columns with more than {WIDE_LEVELS} "
                    "levels got their low-rank layers; refit the model with this version.")
            sampler = ConditionalSampler(layout.of_conditioned(level_probs), dev, target=_target_index(schema, layout))
            deps = meta.get("dependencies")  # absent in files from before dependency rules
            dependencies = None if deps is None else Dependencies.from_state(deps, layout.code_widths)
            generator, _, head = model._build_networks(layout, sampler.cond_width, int(model.pac), dev,
                                                       "factor" if factor else "mixture")
            generator.load_state_dict(states["generator"])
            cal = meta.get("calibration")
            calibration = None if cal is None else Calibration.from_state(cal)
            sample_entropy, sample_calls = int(meta["sample_entropy"]), int(meta.get("sample_calls", 0))
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            if isinstance(exc, ModelFileError):
                raise
            raise ModelFileError(f"{path} is damaged or inconsistent: {exc}") from None
        generator.eval()
        parts = GenerationParts(generator, sampler, level_probs, head, transformer, dev, int(model.embedding_dim),
                                dependencies=dependencies, autocast_dtype=autocast_dtype(model.precision))
        model._set_fitted(parts, schema=schema, history=History(), privacy_spent=meta.get("privacy_spent"),
                          epochs=meta.get("epochs_trained"), settings=meta.get("settings") or {},
                          sample_entropy=sample_entropy, sample_calls=sample_calls, calibration=calibration)
        return model


def _target_index(schema: Schema, layout) -> int | None:
    """The position of the metadata's target among the condition vector's columns; None when
    there is no target or it is not one of them (numeric, or wider than ``WIDE_LEVELS``)."""
    if schema.target is None:
        return None
    codes = next(codes for name, _, codes in layout.columns if name == schema.target)
    if codes.stop - codes.start != 1 or not layout.conditioned[codes.start]:
        return None
    return int(np.count_nonzero(layout.conditioned[:codes.start]))


def _declared_code_pairs(schema: Schema, layout) -> list[tuple[int, int]]:
    """The code columns of the hierarchies the metadata declares, as (child, parent) pairs."""
    code_of = {name: codes.start for name, _, codes in layout.columns}
    return [(code_of[a], code_of[b]) for a, b in schema.hierarchy_pairs()]


def _plan_text(schema: Schema, transformer: TableTransformer, n_rows: int, epochs: int, steps_per_epoch: int,
               batch: int, device, threads: int, dependencies: Dependencies | None) -> str:
    """What a fit is about to do, in a few lines: the inferred kinds, the step budget, where it runs."""
    kinds: dict[str, list[str]] = {}
    for spec in schema:
        kinds.setdefault(spec.kind, []).append(spec.name)
    lines = [f"tabgan: fitting {n_rows:,} rows x {len(schema)} columns"]
    for kind, names in kinds.items():
        shown = ", ".join(names[:12]) + (f", ... ({len(names) - 12} more)" if len(names) > 12 else "")
        lines.append(f"  {kind} ({len(names)}): {shown}")
    quantile = [c.spec.name for c in transformer.columns_ if getattr(c, "encoding_", None) == "quantile"]
    if quantile:
        lines.append(f"  quantile encoding (tied numeric columns): {', '.join(quantile)}")
    if dependencies is not None and len(dependencies):
        names = schema.names
        pairs = sorted({f"{names[c]} -> {names[p]}" for c, p, _ in dependencies.pairs()})
        lines.append(f"  dependencies kept ({len(pairs)}): {', '.join(pairs[:8])}" + (" ..." if len(pairs) > 8 else ""))
    lines.append(f"  {epochs} epochs x {steps_per_epoch} steps of {batch} rows on {device}, {threads} "
                 f"thread{'s' if threads != 1 else ''}")
    return "\n".join(lines)


def _summary_text(done: int, plan: Schedule, seconds: float, selector) -> str:
    """What training did, and which generator the selector kept (when there is one)."""
    summary = [f"tabgan: trained {done} epochs of {plan.steps_per_epoch} steps (batch {plan.batch}) in "
               f"{format_seconds(seconds)}"]
    if selector is not None:
        summary.append(f"kept the generator of epoch {selector.best_epoch + 1} (validation fidelity "
                       f"{selector.best_score:.3f})")
    return "; ".join(summary)
