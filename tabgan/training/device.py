"""Device selection: ``"auto"`` takes CUDA when present."""

from __future__ import annotations

import logging
import numbers
from contextlib import contextmanager

import torch

__all__ = ["resolve_device", "resolve_threads", "torch_threads"]

#: Threads for torch's CPU operations when ``threads=None``. tabgan's networks are small (a
#: batch of 500 rows through layers of 256 units): a matrix product takes well under a
#: millisecond, so a second thread saves little on an idle machine and costs a lot on a busy
#: one, where threads wait for each other (several times slower than one thread on 2 cores
#: with another job running).
DEFAULT_THREADS = 1

logger = logging.getLogger("tabgan")


def resolve_device(device) -> torch.device:
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or a ``torch.device`` into a device.

    Raises
    ------
    ValueError
        Unknown device string, or a CUDA device asked for where there is none.
    """
    if isinstance(device, torch.device):
        dev = device
    elif device is None or device == "auto":
        dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    elif isinstance(device, str):
        try:
            dev = torch.device(device)
        except RuntimeError:
            raise ValueError(
                f"Unknown device {device!r}; use 'auto', 'cpu', 'cuda' or 'cuda:N'."
            ) from None
    else:
        raise TypeError(f"device must be a string or torch.device, got {type(device).__name__}.")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for but CUDA is not available here; use device='auto' or 'cpu'.")
    if dev.type == "mps" and not (hasattr(torch.backends, "mps") and torch.backends.mps.is_available()):
        raise ValueError(f"device={device!r} was asked for but MPS is not available here; use 'auto' or 'cpu'.")
    if dev.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"Unsupported device {device!r}; use 'auto', 'cpu' or 'cuda'.")
    return dev


def resolve_threads(threads) -> int:
    """The number of CPU threads a fit or a sample uses: ``threads``, or ``DEFAULT_THREADS``.

    Raises
    ------
    ValueError
        ``threads`` is not ``None`` nor a positive integer.
    """
    if threads is None:
        return DEFAULT_THREADS
    if isinstance(threads, bool) or not isinstance(threads, numbers.Integral) or threads < 1:
        raise ValueError(f"threads must be a positive integer or None (one thread); got {threads!r}.")
    return int(threads)


@contextmanager
def torch_threads(n: int):
    """Run the block with torch using ``n`` CPU threads, then restore the caller's setting.

    torch's thread count is a process-wide setting: other torch work running in the same process
    at the same time shares it.
    """
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)
