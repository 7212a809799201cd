"""Fidelity, utility and privacy evaluation of synthetic tables (torch-free).

>>> from tabgan.evaluation import FidelityReport                      # doctest: +SKIP
>>> report = FidelityReport(real=train, synthetic=synth, holdout=holdout, target="income")
>>> report.scores["quality"], report.to_html("report.html")           # doctest: +SKIP

The protocol functions in :mod:`tabgan.evaluation.metrics` (``quality``, ``ml_efficacy``,
``detection_auc``, ``dcr``, ``alpha_precision_beta_recall``, ``hierarchy_consistency``...) are
pure functions of DataFrames, shared with ``benchmarks/``.
"""

from __future__ import annotations

from .metrics import (
    alpha_precision_beta_recall,
    column_shapes,
    coverage,
    dcr,
    detection_auc,
    exact_copies,
    hierarchy_consistency,
    ml_efficacy,
    pair_trends,
    quality,
)

__all__ = [
    "FidelityReport",
    "alpha_precision_beta_recall",
    "column_shapes",
    "coverage",
    "dcr",
    "detection_auc",
    "exact_copies",
    "hierarchy_consistency",
    "ml_efficacy",
    "pair_trends",
    "quality",
]


def __getattr__(name: str):
    if name == "FidelityReport":
        from .report import FidelityReport

        return FidelityReport
    raise AttributeError(f"module 'tabgan.evaluation' has no attribute {name!r}")
