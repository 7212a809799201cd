"""tabgan: a privacy-oriented tabular data synthesizer.

>>> from tabgan import Synthesizer                      # doctest: +SKIP
>>> synthetic = Synthesizer().fit(df).sample(1000)      # doctest: +SKIP

``Synthesizer`` is imported lazily so that ``import tabgan.evaluation`` never loads torch.
"""

from __future__ import annotations

from ._version import __version__

__all__ = ["Synthesizer", "FidelityReport", "load_demo", "__version__"]


def __getattr__(name: str):
    if name == "Synthesizer":
        from .synthesizer import Synthesizer

        return Synthesizer
    if name == "FidelityReport":
        from .evaluation import FidelityReport

        return FidelityReport
    if name == "load_demo":
        from .datasets import load_demo

        return load_demo
    raise AttributeError(f"module 'tabgan' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
