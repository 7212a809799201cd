"""Progress bar, loss history and logging, as callbacks of the training loop."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

__all__ = ["EpochRecord", "History", "ProgressBar", "LogCallback", "Callback"]

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


class ProgressBar(Callback):
    """A tqdm bar over epochs showing the latest losses."""

    def on_train_begin(self, epochs: int) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=epochs, desc="tabgan fit", unit="epoch", leave=False)

    def on_epoch_end(self, record: EpochRecord) -> None:
        post = {"G": f"{record.generator_loss:.3f}", "D": f"{record.discriminator_loss:.3f}"}
        if record.epsilon is not None:
            post["eps"] = f"{record.epsilon:.2f}"
        self.bar.set_postfix(post, refresh=False)
        self.bar.update(1)

    def on_train_end(self) -> None:
        self.bar.close()


class LogCallback(Callback):
    """Logs each epoch's losses at DEBUG level on the ``tabgan`` logger."""

    def on_epoch_end(self, record: EpochRecord) -> None:
        logger.debug("epoch %d: G %.4f D %.4f (%.2fs)", record.epoch, record.generator_loss,
                     record.discriminator_loss, record.seconds)
