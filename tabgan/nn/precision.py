"""Numeric precision of the networks' forward passes (``Synthesizer(precision=...)``).

``"bfloat16"`` runs the generator's and the critic's forward passes under ``torch.autocast``:
matrix products in bfloat16 (half the memory traffic, and twice the arithmetic rate on CPUs with
AVX512-BF16 or AMX and on recent GPUs), while the output head, the losses, the gradient penalty's
norm and the optimisers stay in float32. bfloat16 keeps float32's exponent range, so no loss
scaling is needed (unlike float16).
"""

from __future__ import annotations

from contextlib import nullcontext

import torch

__all__ = ["PRECISIONS", "autocast", "autocast_dtype"]

#: ``precision`` values and the autocast dtype each means (None: plain float32).
PRECISIONS = {"float32": None, "bfloat16": torch.bfloat16}


def autocast_dtype(precision: str) -> torch.dtype | None:
    """The autocast dtype of a ``precision`` value (see ``PRECISIONS``)."""
    return PRECISIONS[precision]


def autocast(device: torch.device, dtype: torch.dtype | None):
    """Mixed precision for the block when ``dtype`` is set (``torch.autocast``), else nothing."""
    return nullcontext() if dtype is None else torch.autocast(device.type, dtype=dtype)
