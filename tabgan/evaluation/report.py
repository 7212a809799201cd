"""``FidelityReport``: fidelity, utility and privacy diagnostics in one object and one HTML file.

Every section is computed on first use and cached, so ``report.scores["quality"]`` does not pay
for the classifiers, and ``to_html`` reuses what ``scores`` already computed.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..exceptions import InvalidDataError
from ..schema import Schema
from . import metrics

__all__ = ["FidelityReport"]

logger = logging.getLogger("tabgan")

#: Default cap on the rows of each table used by the report (seeded subsample above it).
DEFAULT_MAX_ROWS = 100_000


def _sizes_note(label: str, n: int, cap: int) -> str | None:
    if n > cap:
        return f"The {label} table has {n:,} rows; a random subsample of {cap:,} (seeded) is evaluated."
    return None


def _validate_privacy_spent(privacy_spent: Mapping | None) -> dict | None:
    if privacy_spent is None:
        return None
    if not isinstance(privacy_spent, Mapping) or "epsilon" not in privacy_spent:
        raise InvalidDataError(
            "privacy_spent must be a dict like {'epsilon': 3.0, 'delta': 1e-5, 'unit': 'row', "
            "'mechanisms': [{'name': ..., 'epsilon': ..., 'delta': ...}]} (a fitted model's "
            f"privacy_spent_); got {privacy_spent!r}."
        )
    mechanisms = privacy_spent.get("mechanisms", [])
    if not isinstance(mechanisms, (list, tuple)) or not all(isinstance(m, Mapping) for m in mechanisms):
        raise InvalidDataError("privacy_spent['mechanisms'] must be a list of dicts with name, epsilon, delta.")
    return dict(privacy_spent)


def _plain(value: Any) -> Any:
    """A parameter value as JSON-like data (tuples as lists, numpy scalars as Python ones)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _plain_nested(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain_nested(v) for k, v in value.items()}
    return _plain(value)


def _info_from_meta(meta: Mapping, source: str) -> dict:
    """Fit settings from a model file's JSON (what ``Synthesizer.save`` writes)."""
    if not isinstance(meta.get("params"), Mapping):
        raise InvalidDataError(f"{source} holds no fit parameters ('params'); is it a tabgan model file?")
    schema = Schema.from_dict(meta["schema"]) if isinstance(meta.get("schema"), Mapping) else None
    settings = meta.get("settings") if isinstance(meta.get("settings"), Mapping) else {}
    return {"source": source, "tabgan_version": meta.get("tabgan_version"),
            "params": {k: _plain(v) for k, v in meta["params"].items()},
            "settings": {k: _plain_nested(v) for k, v in settings.items()},
            "epochs_trained": meta.get("epochs_trained"), "device": settings.get("device"),
            "calibrated": None if "calibration" not in meta else meta["calibration"] is not None,
            "privacy_spent": meta.get("privacy_spent"), "schema": schema}


def read_model_info(model: Any) -> dict | None:
    """What the report shows about the model: fit settings, DP ledger and column kinds.

    Parameters
    ----------
    model : str, Path, dict or fitted Synthesizer, optional
        A model file written by ``Synthesizer.save`` (read with
        :func:`tabgan.persistence.read_model_file`, which imports torch), that file's metadata
        dict (the ``meta`` it returns), or a fitted ``Synthesizer`` (read through its
        attributes; torch is not imported here).

    Returns
    -------
    dict or None
        ``source``, ``tabgan_version``, ``params`` (as given to the estimator), ``settings`` (the
        values the fit resolved for the defaults, where the model holds them; else empty),
        ``epochs_trained``, ``device`` (the device used, where known; None when only the requested
        ``params["device"]`` is stored), ``calibrated``, ``privacy_spent`` (None: trained without
        differential privacy) and ``schema``.  None when ``model`` is None.
    """
    if model is None:
        return None
    if isinstance(model, (str, os.PathLike)):
        from ..persistence import read_model_file  # the file is a torch archive: torch is needed here

        meta, _ = read_model_file(model, map_location="cpu")
        return _info_from_meta(meta, source=f"model file {os.fspath(model)}")
    if isinstance(model, Mapping):
        return _info_from_meta(model, source="model file metadata")
    if hasattr(model, "get_params") and hasattr(model, "schema_"):
        from .._version import __version__

        # The attributes ``Synthesizer.save`` writes to the file, read the same way; the device is
        # the one used (the file stores only what the fit settings hold).
        info = _info_from_meta({"tabgan_version": __version__, "params": model.get_params(),
                                "settings": getattr(model, "settings_", None),
                                "epochs_trained": getattr(model, "epochs_", None),
                                "calibration": getattr(model, "calibration_", None),
                                "privacy_spent": getattr(model, "privacy_spent_", None)},
                               source=f"fitted {type(model).__name__} (in memory)")
        device = getattr(model, "device_", None)
        info.update(device=None if device is None else str(device), schema=model.schema_)
        return info
    raise TypeError("model must be the path of a model file written by Synthesizer.save, that file's metadata "
                    f"dict, or a fitted Synthesizer; got {type(model).__name__}"
                    + (" (not fitted: call fit first)" if hasattr(model, "get_params") else "") + ".")


class FidelityReport:
    """How close a synthetic table is to the real one, how useful, and how close to its rows.

    Parameters
    ----------
    real : DataFrame
        The real table the synthesizer was trained on.
    synthetic : DataFrame
        The synthetic table; it must hold the real table's columns (extra columns are ignored).
    holdout : DataFrame, optional
        Real rows the synthesizer never saw.  Needed for ML efficacy, detection and the
        train-vs-holdout distance comparison; those sections are skipped, with a note, without it.
    target : str, optional
        Column to predict for ML efficacy (train on synthetic, test on real).
    metadata : dict, optional
        Column kinds and public facts (see :mod:`tabgan.schema`); kinds are otherwise inferred
        from ``real`` exactly as the synthesizer infers them.
    kinds : dict or Schema, optional
        ``{column: kind}`` or a fitted model's ``schema_``; overrides ``metadata``.
    privacy_spent : dict, optional
        The model's DP ledger (``Synthesizer.privacy_spent_``): ``epsilon``, ``delta``, ``unit``
        and ``mechanisms`` (a list of ``{"name", "epsilon", "delta"}``); shown in the report.
        Taken from ``model`` when not given.
    model : str, Path, dict or fitted Synthesizer, optional
        The model that made ``synthetic``: a model file (reading it imports torch), its metadata
        dict, or the fitted estimator.  The report then shows its fit settings (parameters,
        epochs trained, device, tabgan version), says whether it was trained with differential
        privacy (and shows the ledger), and uses its column kinds unless ``kinds`` is given.
    random_state : int, optional
        Seeds every subsample, fold split and model, so the report is reproducible.
    max_rows : int
        Each table above this many rows is replaced by a seeded random subsample of this size
        (default 100,000: the full report then takes well under a minute on two cores).
    dcr_rows : int
        Synthetic rows whose closest-record distances are computed (2,000 in the protocol).
    detection_rows : int
        Rows per table for the detection classifier (5,000 in the protocol).

    Examples
    --------
    >>> report = FidelityReport(train, synthetic, holdout=holdout, target="income")  # doctest: +SKIP
    >>> report.scores["quality"]                                                    # doctest: +SKIP
    >>> report.to_html("report.html")                                               # doctest: +SKIP
    """

    def __init__(
        self,
        real: pd.DataFrame,
        synthetic: pd.DataFrame,
        *,
        holdout: pd.DataFrame | None = None,
        target: str | None = None,
        metadata: Mapping | None = None,
        kinds: Mapping[str, str] | Schema | None = None,
        privacy_spent: Mapping | None = None,
        model: Any = None,
        random_state: int | None = 0,
        max_rows: int = DEFAULT_MAX_ROWS,
        dcr_rows: int = 2000,
        detection_rows: int = 5000,
    ) -> None:
        start = time.perf_counter()
        if not isinstance(max_rows, (int, np.integer)) or max_rows < 10:
            raise InvalidDataError(f"max_rows must be an integer >= 10; got {max_rows!r}.")
        self.model_info = read_model_info(model)
        if self.model_info is not None:
            if kinds is None and self.model_info["schema"] is not None:
                kinds = self.model_info["schema"]
            if privacy_spent is None:
                privacy_spent = self.model_info["privacy_spent"]
        self.schema = metrics.resolve_schema(real, kinds, metadata)
        metrics.check_columns(self.schema, real=real, synthetic=synthetic, holdout=holdout)
        if target is not None and target not in self.schema.names:
            raise InvalidDataError(
                f"target {target!r} is not a column of the real table; columns: {self.schema.names[:20]}."
            )
        self.target = target
        self.privacy_spent = _validate_privacy_spent(privacy_spent)
        self.random_state = random_state
        self.max_rows = int(max_rows)
        self.dcr_rows = int(dcr_rows)
        self.detection_rows = int(detection_rows)
        self.notes: list[str] = []
        rng = np.random.default_rng(random_state)
        names = self.schema.names
        self.sizes = {"real": len(real), "synthetic": len(synthetic),
                      "holdout": None if holdout is None else len(holdout)}
        for label, frame in (("real", real), ("synthetic", synthetic), ("holdout", holdout)):
            if frame is not None:
                note = _sizes_note(label, len(frame), self.max_rows)
                if note:
                    self.notes.append(note)
        # Subsampled views; the caller's frames are never modified.
        self.real = metrics.subsample(real[names], self.max_rows, rng)
        self.synthetic = metrics.subsample(synthetic[names], self.max_rows, rng)
        self.holdout = None if holdout is None else metrics.subsample(holdout[names], self.max_rows, rng)
        self._cache: dict[str, Any] = {}
        #: Seconds spent per part: ``setup`` (checks, subsamples, reading the model), each
        #: section as it is computed, and ``html`` (text and plots only, not the sections that
        #: ``to_html`` had to compute first).  Their sum is the report's computing time.
        self.timings: dict[str, float] = {"setup": time.perf_counter() - start}

    # ------------------------------------------------------------------ lazy sections

    def _get(self, key: str, compute) -> Any:
        if key not in self._cache:
            start = time.perf_counter()
            self._cache[key] = compute()
            self.timings[key] = time.perf_counter() - start
            logger.info("report section %s computed in %.2f s", key, self.timings[key])
        return self._cache[key]

    @property
    def column_details(self) -> pd.DataFrame:
        """Per-column shape scores joined with coverage, boundary and missing-value figures."""
        def compute():
            shapes = metrics.column_shapes(self.real, self.synthetic, self.schema)
            cover = metrics.coverage(self.real, self.synthetic, self.schema).drop(columns="kind")
            return shapes.merge(cover, on="column", how="left")
        return self._get("columns", compute)

    @property
    def column_statistics(self) -> pd.DataFrame:
        """Summary statistics per column, real and synthetic (see
        :func:`tabgan.evaluation.metrics.column_statistics`)."""
        return self._get("statistics", lambda: metrics.column_statistics(self.real, self.synthetic, self.schema))

    @property
    def pair_details(self) -> pd.DataFrame:
        """Per-pair trend scores (see :func:`tabgan.evaluation.metrics.pair_trends`)."""
        return self._get("pairs", lambda: metrics.pair_trends(
            self.real, self.synthetic, self.schema, random_state=self.random_state))

    @property
    def ml_efficacy(self) -> dict | None:
        """Train-on-synthetic / train-on-real figures on the holdout, or None without one."""
        if self.holdout is None or self.target is None:
            return None
        return self._get("ml_efficacy", lambda: metrics.ml_efficacy(
            self.real, self.synthetic, self.holdout, self.target, self.schema, random_state=self.random_state))

    @property
    def detection(self) -> float | None:
        """Detection ROC AUC (holdout vs synthetic), or None without a holdout."""
        if self.holdout is None:
            return None
        return self._get("detection", lambda: metrics.detection_auc(
            self.holdout, self.synthetic, self.schema, max_rows=self.detection_rows,
            random_state=self.random_state))

    @property
    def distances(self) -> dict:
        """Closest-record distance arrays (see :func:`tabgan.evaluation.metrics.dcr_distances`)."""
        return self._get("dcr", lambda: metrics.dcr_distances(
            self.real, self.holdout, self.synthetic, self.schema, n_synthetic=self.dcr_rows,
            random_state=self.random_state))

    @property
    def support(self) -> dict:
        """Alpha-precision and beta-recall with their curves (see
        :func:`tabgan.evaluation.metrics.alpha_precision_beta_recall`), real training rows against
        synthetic rows."""
        return self._get("support", lambda: metrics.alpha_precision_beta_recall(
            self.real, self.synthetic, self.schema, random_state=self.random_state))

    @property
    def hierarchy(self) -> dict[str, pd.DataFrame]:
        """Dependencies between discrete columns and how the synthetic rows keep them: ``pairs``
        and ``rules`` frames (see :func:`tabgan.evaluation.metrics.hierarchy_consistency`)."""
        return self._get("hierarchy", lambda: metrics.hierarchy_consistency(self.real, self.synthetic, self.schema))

    def _skip_notes(self) -> list[str]:
        notes = []
        if self.holdout is None:
            notes.append("No holdout given: ML efficacy, detection and the train-vs-holdout distance comparison "
                         "are skipped. Give real rows the synthesizer never saw (keep 20% aside before fitting) "
                         "as the holdout to get them.")
        elif self.target is None:
            notes.append("No target given: ML efficacy is skipped (name the column to predict as the target).")
        return notes

    # ------------------------------------------------------------------ public API

    @property
    def scores(self) -> dict[str, Any]:
        """Every headline figure as a flat dict of floats (NaN where undefined).

        Keys: ``quality``, ``column_shapes``, ``pair_trends`` (SDMetrics 0.32's thresholded form),
        ``pair_trends_all_pairs``, ``quality_all_pairs``, ``category_coverage``, ``range_coverage``,
        ``boundary_adherence``, ``missing_value_similarity``, ``alpha_precision``, ``beta_recall``,
        ``real_rows_covered`` (beta-recall's share of real rows with a synthetic row nearby),
        ``hierarchy_consistency`` (lowest over the column dependencies; NaN when none is found),
        ``hierarchy_pairs``, ``level_rule_consistency``, ``level_rules``; with a holdout and target
        ``ml_efficacy_task``, ``ml_efficacy_metric``, ``ml_efficacy_synthetic``, ``ml_efficacy_real``
        and each figure as ``ml_<trained on>_<metric>``; with a holdout ``detection_auc`` and
        ``dcr_share_closer_to_train``, ``dcr_holdout_median``; always ``exact_copies``,
        ``dcr_train_median``, ``nndr_median``; with a ledger ``privacy_epsilon``, ``privacy_delta``.
        """
        cols = self.column_details
        out: dict[str, Any] = metrics.summarise_quality(cols, self.pair_details)
        out["category_coverage"] = metrics.nanmean(cols["category_coverage"])
        out["range_coverage"] = metrics.nanmean(cols["range_coverage"])
        out["boundary_adherence"] = metrics.nanmean(cols["boundary_adherence"])
        out["missing_value_similarity"] = metrics.nanmean(cols["missing_similarity"])
        support = self.support
        for key in ("alpha_precision", "beta_recall", "real_rows_covered"):
            out[key] = support[key]
        out.update(metrics.summarise_hierarchy(self.hierarchy))
        ml = self.ml_efficacy
        if ml is not None:
            out["ml_efficacy_task"] = ml["task"]
            out["ml_efficacy_metric"] = ml["metric"]
            out["ml_efficacy_synthetic"] = ml["synthetic"]
            out["ml_efficacy_real"] = ml["real"]
            for key, value in ml.items():
                if key.startswith(("synthetic_", "real_")):
                    out[f"ml_{key}"] = value
        if self.holdout is not None:
            out["detection_auc"] = self.detection
        out.update(metrics.summarise_dcr(self.distances))
        if self.privacy_spent is not None:
            out["privacy_epsilon"] = float(self.privacy_spent["epsilon"])
            out["privacy_delta"] = float(self.privacy_spent.get("delta", 0.0) or 0.0)
        return out

    def to_frame(self) -> pd.DataFrame:
        """Per-column and per-pair details in one long table.

        Returns
        -------
        DataFrame
            Column rows (``level == "column"``: shape score, coverage, boundary adherence, missing
            rates), pair rows (``level == "pair"``: trend score, real and synthetic correlation or
            Cramér's V, whether the pair counts in the thresholded score), then one row per
            dependency between discrete columns (``level == "hierarchy"``: ``column_1`` the child,
            ``column_2`` the parent, ``score`` the synthetic consistency, ``real_association`` the
            real Cramér's V, and ``real_share``, ``synthetic_share``, ``mutual``).  The level-wise
            implications are in ``report.hierarchy["rules"]``.
        """
        cols = self.column_details.rename(columns={"column": "column_1"}).assign(level="column", column_2=None)
        pairs = self.pair_details.assign(level="pair", kind=None)
        deps = self.hierarchy["pairs"].rename(columns={
            "child": "column_1", "parent": "column_2", "synthetic_consistency": "score",
            "real_cramers_v": "real_association"}).assign(level="hierarchy", kind=None,
                                                          metric="HierarchyConsistency")
        frame = pd.concat([f for f in (cols, pairs, deps) if len(f)], ignore_index=True)
        first = ["level", "column_1", "column_2", "kind", "metric", "score"]
        return frame[first + [c for c in frame.columns if c not in first]]

    def to_html(self, path: str | Path | None = None) -> str:
        """Render the report as one self-contained HTML page (plots embedded as base64 PNG).

        Parameters
        ----------
        path : str or Path, optional
            Where to write the page (UTF-8).  The page is returned either way.

        Returns
        -------
        str
            The HTML text.
        """
        from ._html import render

        page = render(self)
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
            logger.info("wrote report to %s", path)
        return page

    def __repr__(self) -> str:
        return (f"FidelityReport(real={self.sizes['real']} rows, synthetic={self.sizes['synthetic']} rows, "
                f"holdout={self.sizes['holdout']}, target={self.target!r}, columns={len(self.schema)})")

