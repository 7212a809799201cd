"""A pool of worker processes that runs one method of a fitted model over a list of calls and
yields the results in the order of the calls (``Synthesizer.sample_to(..., workers=w)``).

Each worker gets the model once, as plain pickle bytes (not through torch's shared-memory
reducers, which need a large ``/dev/shm``), at its start (``spawn`` start method: no state
forked from a process that holds torch threads), and then only the arguments of each call. At most
``workers + 1`` calls are in flight, so results wait in memory only a few at a time.
"""

from __future__ import annotations

import multiprocessing
import pickle
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor

__all__ = ["ordered_map"]

_model = None


def _start(model_bytes: bytes) -> None:
    global _model
    _model = pickle.loads(model_bytes)


def _call(method: str, args: tuple, kwargs: dict):
    return getattr(_model, method)(*args, **kwargs)


def ordered_map(model, method: str, calls: Iterable[tuple[tuple, dict]], workers: int) -> Iterator:
    """``model.<method>(*args, **kwargs)`` for each ``(args, kwargs)`` of ``calls``, computed by
    ``workers`` processes, yielded in the order of ``calls``."""
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start, initargs=(pickle.dumps(model),))
    try:
        calls = iter(calls)
        pending: deque = deque()

        def submit() -> None:
            for args, kwargs in calls:
                pending.append(pool.submit(_call, method, args, kwargs))
                return

        for _ in range(workers + 1):
            submit()
        while pending:
            result = pending.popleft().result()
            submit()
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
