"""Progress bar, loss history and logging, as callbacks of the training loop."""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import asdict, dataclass

__all__ = ["EpochRecord", "History", "ProgressBar", "LogCallback", "Callback", "Announcer", "format_seconds"]

logger = logging.getLogger("tabgan")


@dataclass
class EpochRecord:
    """Losses of one epoch (means over its steps)."""

    epoch: int
    generator_loss: float
    discriminator_loss: float
    seconds: float
    epsilon: float | None = None


class History(list):
    """A list of :class:`EpochRecord` with a ``to_frame()`` for plotting."""

    def to_frame(self):
        import pandas as pd

        columns = ["epoch", "generator_loss", "discriminator_loss", "seconds", "epsilon"]
        return pd.DataFrame([asdict(r) for r in self], columns=columns)


class Callback:
    def on_train_begin(self, epochs: int) -> None:  # pragma: no cover - interface
        pass

    def on_epoch_end(self, record: EpochRecord) -> None:  # pragma: no cover - interface
        pass

    def on_train_end(self) -> None:  # pragma: no cover - interface
        pass


class HistoryCallback(Callback):
    def __init__(self, history: History):
        self.history = history

    def on_epoch_end(self, record: EpochRecord) -> None:
        self.history.append(record)


class Announcer:
    """Says what a fit does (its plan, an estimate, a summary): on the ``tabgan`` logger at INFO,
    and, when ``verbose`` and that logger would not show INFO, on stderr beside the progress bar.
    """

    def __init__(self, verbose: bool):
        self.verbose = bool(verbose)

    def say(self, message: str) -> None:
        logger.info(message)
        if self.verbose and not logger.isEnabledFor(logging.INFO):
            from tqdm.auto import tqdm

            tqdm.write(message, file=sys.stderr)


def format_seconds(seconds: float) -> str:
    """``42.1 s``, ``6 min 24 s`` or ``2 h 05 min``."""
    seconds = float(seconds)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


#: The training-time estimate is announced after this many epochs.
ESTIMATE_AFTER = 3


class ProgressBar(Callback):
    """A tqdm bar over epochs showing the latest losses; it stays on screen when training ends.

    After the third epoch it announces the estimated training time: the wall time of the
    second and third epochs (the first one warms up and is slower), validation checks
    included, times the number of epochs.
    """

    def __init__(self, announcer: Announcer | None = None):
        self.announcer = announcer

    def on_train_begin(self, epochs: int) -> None:
        from tqdm.auto import tqdm

        self.epochs = epochs
        self.seen = 0
        self.start = time.perf_counter()
        self.bar = tqdm(total=epochs, desc="tabgan fit", unit="epoch", leave=True, file=sys.stderr)

    def on_epoch_end(self, record: EpochRecord) -> None:
        post = {"G": f"{record.generator_loss:.3f}", "D": f"{record.discriminator_loss:.3f}"}
        if record.epsilon is not None:
            post["eps"] = f"{record.epsilon:.2f}"
        self.bar.set_postfix(post, refresh=False)
        self.bar.update(1)
        self.seen += 1
        if self.seen == 1:
            self.warm = time.perf_counter()
        if self.seen == ESTIMATE_AFTER and self.epochs > ESTIMATE_AFTER and self.announcer is not None:
            per_epoch = (time.perf_counter() - self.warm) / (ESTIMATE_AFTER - 1)
            self.announcer.say(f"tabgan: an epoch takes about {format_seconds(per_epoch)}; training should take "
                               f"about {format_seconds(per_epoch * self.epochs)} for {self.epochs} epochs")

    def on_train_end(self) -> None:
        self.bar.close()


class LogCallback(Callback):
    """Logs each epoch's losses at DEBUG level on the ``tabgan`` logger."""

    def on_epoch_end(self, record: EpochRecord) -> None:
        logger.debug("epoch %d: G %.4f D %.4f (%.2fs)", record.epoch, record.generator_loss,
                     record.discriminator_loss, record.seconds)
