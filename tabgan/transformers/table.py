"""The table transformer: one column transformer per column, offsets computed once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..schema import Schema, numeric_values
from .base import WIDE_LEVELS, Span
from .categorical import CategoricalTransformer
from .numeric import NumericTransformer

__all__ = ["TableTransformer", "Layout"]

#: ``numeric_encoding="auto"``: a numeric column whose |Spearman| or |Pearson| with another reaches this
#: gets the quantile encoding (monotone, near-deterministic ties: sizes, weights, prices).
AUTO_QUANTILE_RHO = 0.9
AUTO_ROWS = 5000


@dataclass(frozen=True)
class Layout:
    """Where each part of the encoding sits: in the expanded vector (the generator's output, one
    unit per ``tanh`` value and per softmax level) and in the compact ``floats``/``codes`` matrices.

    Attributes
    ----------
    spans : list of Span
        In the expanded vector's order.
    width : int
        Width of the expanded vector.
    float_positions : ndarray (F,)
        Expanded index of each ``tanh`` unit, in the order of the ``floats`` matrix.
    code_offsets, code_widths : ndarray (C,)
        Expanded offset and width of each ``softmax`` span, in the order of the ``codes`` matrix.
    discrete : ndarray (C,) of bool
        Which code columns are categorical/boolean levels.
    columns : tuple of (name, float slice, code slice)
        Per table column, in order: its columns of the ``floats`` and ``codes`` matrices (computed
        here once; the encoders and the condition parser read them).
    """

    spans: tuple
    width: int
    float_positions: np.ndarray
    code_offsets: np.ndarray
    code_widths: np.ndarray
    discrete: np.ndarray
    columns: tuple

    @classmethod
    def from_spans(cls, spans: list[Span]) -> "Layout":
        float_pos, offsets, widths, discrete = [], [], [], []
        pos = 0
        columns: dict[str, list[int]] = {}  # name -> [first float, end, first code, end] (spans of a column are adjacent)
        for span in spans:
            bounds = columns.setdefault(span.column, [len(float_pos), len(float_pos), len(offsets), len(offsets)])
            if span.activation == "tanh":
                float_pos.extend(range(pos, pos + span.width))
            else:
                offsets.append(pos)
                widths.append(span.width)
                discrete.append(span.discrete)
            bounds[1], bounds[3] = len(float_pos), len(offsets)
            pos += span.width
        return cls(tuple(spans), pos, np.asarray(float_pos, dtype=np.int64), np.asarray(offsets, dtype=np.int64),
                   np.asarray(widths, dtype=np.int64), np.asarray(discrete, dtype=bool),
                   tuple((name, slice(a, b), slice(c, d)) for name, (a, b, c, d) in columns.items()))

    @property
    def conditioned(self) -> np.ndarray:
        """(C,) bool: the level columns of the conditional vector, those of at most
        ``WIDE_LEVELS`` levels."""
        return self.discrete & (self.code_widths <= WIDE_LEVELS)

    def of_conditioned(self, per_level_column: list) -> list:
        """The entries of ``per_level_column`` (one per level column) that belong to the
        conditional-vector columns."""
        return [x for x, keep in zip(per_level_column, self.conditioned[self.discrete]) if keep]

    @property
    def wide_spans(self) -> list[tuple[int, int]]:
        """``(offset, width)`` of the level spans wider than ``WIDE_LEVELS`` (wide columns), in
        the expanded vector's order."""
        wide = self.discrete & ~self.conditioned
        return [(int(o), int(w)) for o, w in zip(self.code_offsets[wide], self.code_widths[wide])]


class TableTransformer:
    """Encode a whole table into ``floats`` (n, F) float32 and ``codes`` (n, C) int64 and back.

    Parameters
    ----------
    schema : Schema
    max_fit_rows : int
        Bound on the rows used to fit each numeric column's mixture.
    """

    def __init__(self, schema: Schema, *, max_fit_rows: int = 10_000, point_mass_share: float = 0.05,
                 numeric_encoding: str = "modes"):
        self.schema = schema
        self.numeric_encoding = numeric_encoding
        self.max_fit_rows = max_fit_rows
        self.point_mass_share = point_mass_share
        self.columns_: list = []

    def _make(self, spec, encoding: str = "modes"):
        if spec.is_discrete:
            return CategoricalTransformer(spec)
        return NumericTransformer(spec, max_fit_rows=self.max_fit_rows, point_mass_share=self.point_mass_share,
                                  encoding=encoding)

    def fit(self, df: pd.DataFrame, rng: np.random.Generator) -> "TableTransformer":
        quantile = self._quantile_columns(df)
        self.columns_ = [self._make(spec, "quantile" if spec.name in quantile else "modes").fit(df[spec.name], rng)
                         for spec in self.schema]
        self._build_layout()
        return self

    def _quantile_columns(self, df: pd.DataFrame) -> set:
        """Numeric columns to give the quantile encoding: all, none, or under ``"auto"`` those
        tied to another numeric column by a near-deterministic relation: |Spearman| or
        |Pearson| at least AUTO_QUANTILE_RHO on an evenly spaced subsample of at most AUTO_ROWS
        rows.  Pearson catches linear ties carried by heavy tails, which rank correlation
        misses when most of the mass sits in a noisy bulk (flight delays: departure and
        arrival delay have Pearson 0.93, Spearman 0.63)."""
        numeric = [s for s in self.schema if not s.is_discrete]
        if self.numeric_encoding != "auto":
            return {s.name for s in numeric} if self.numeric_encoding == "quantile" else set()
        if len(numeric) < 2:
            return set()
        rows = np.unique(np.linspace(0, len(df) - 1, min(len(df), AUTO_ROWS)).astype(np.int64))
        frame = pd.DataFrame({s.name: numeric_values(df[s.name].iloc[rows], s) for s in numeric})
        rho = np.fmax(frame.corr(method="spearman", min_periods=20).abs().to_numpy(copy=True),
                      frame.corr(method="pearson", min_periods=20).abs().to_numpy(copy=True))
        np.fill_diagonal(rho, 0.0)
        tied = np.nan_to_num(rho).max(axis=1) >= AUTO_QUANTILE_RHO
        return {s.name for s, t in zip(numeric, tied) if t}

    def _build_layout(self) -> None:
        spans = [span for col in self.columns_ for span in col.spans]
        self.layout_ = Layout.from_spans(spans)

    def transform(self, df: pd.DataFrame, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Encode ``df``; returns ``floats`` (n, F) float32 and ``codes`` (n, C) int64."""
        floats, codes = [], []
        for col in self.columns_:
            f, c = col.transform(df[col.spec.name], rng)
            floats.append(f)
            codes.append(c)
        n = len(df)
        floats_arr = np.concatenate(floats, axis=1) if floats else np.zeros((n, 0), np.float32)
        codes_arr = np.concatenate(codes, axis=1) if codes else np.zeros((n, 0), np.int64)
        return np.ascontiguousarray(floats_arr, dtype=np.float32), np.ascontiguousarray(codes_arr, dtype=np.int64)

    def inverse_transform(self, floats: np.ndarray, codes: np.ndarray) -> pd.DataFrame:
        """Decode ``floats`` (n, F) and ``codes`` (n, C) into a DataFrame with the original columns,
        order and dtypes."""
        # Columns laid out contiguously once: each column's strided slice of a row-major matrix
        # would read every cache line of it, once per column.
        floats_t, codes_t = np.ascontiguousarray(np.asarray(floats).T), np.ascontiguousarray(np.asarray(codes).T)
        out = {}
        for col, (_, fs, cs) in zip(self.columns_, self.layout_.columns, strict=True):
            out[col.spec.name] = col.inverse_transform(floats_t[fs].T, codes_t[cs].T)
        # Every column comes with the default index of its rows; the frame takes them as they are,
        # in the schema's order.
        return pd.DataFrame({name: out[name] for name in self.schema.names}, copy=False)

    def quantile_floats(self) -> dict[int, tuple[int, int]]:
        """Float index of every quantile-encoded score -> (its code column, the continuous mode)."""
        out = {}
        for col, (_, fs, cs) in zip(self.columns_, self.layout_.columns, strict=True):
            if isinstance(col, NumericTransformer) and col.knots_:
                out[fs.start] = (cs.start, len(col.points_))
        return out

    def _mode_encoded(self):
        """(column, its float slice, its code slice) of every mode-encoded numeric column."""
        for col, (_, fs, cs) in zip(self.columns_, self.layout_.columns, strict=True):
            if isinstance(col, NumericTransformer) and not col.knots_:
                yield col, fs, cs

    def mode_floats(self) -> dict[int, tuple[int, list[int]]]:
        """Float index of every mode-encoded position -> (its code column, its continuous modes)."""
        return {fs.start: (cs.start, list(range(len(col.points_), len(col.points_) + len(col.means_))))
                for col, fs, cs in self._mode_encoded() if col.means_}

    def released_mode_quantiles(self) -> dict:
        """Under DP, the in-mode quantiles the encoders were built with (from the noisy fine
        histograms), keyed as :func:`tabgan.calibration.mode_quantiles` keys the training ones."""
        return {(fs.start, cs.start, len(col.points_) + j): np.asarray(q, dtype=np.float64)
                for col, fs, cs in self._mode_encoded() for j, q in enumerate(col.mode_quantiles_) if len(q)}

    def exact_code_columns(self) -> np.ndarray:
        """(C,) bool: the code columns whose code is a value, not a mode of a continuous range:
        categorical/boolean levels, and numeric columns made of point masses only."""
        return np.asarray([not isinstance(col, NumericTransformer) or col.n_continuous == 0
                           for col in self.columns_ for s in col.spans if s.activation == "softmax"], dtype=bool)

    def code_values(self) -> list:
        """Per code column, each code's place on its column's value axis (scaled: points, then
        the continuous modes' centres, NaN for the missing mode) for numeric columns, ``None`` for
        categorical ones (their levels have no order)."""
        out = []
        for col in self.columns_:
            if not isinstance(col, NumericTransformer):
                out += [None for s in col.spans if s.activation == "softmax"]
                continue
            centres = list(col.points_) + (list(col.means_) if not col.knots_ else [0.0])
            out.append(np.asarray(centres + [np.nan] * int(col.has_missing_mode_), dtype=np.float64))
        return out

    # ------------------------------------------------------------------ state
    def get_state(self) -> dict:
        return {"max_fit_rows": self.max_fit_rows, "point_mass_share": self.point_mass_share,
                "numeric_encoding": self.numeric_encoding,
                "columns": [col.get_state() for col in self.columns_]}

    @classmethod
    def from_state(cls, schema: Schema, state: dict) -> "TableTransformer":
        self = cls(schema, max_fit_rows=state["max_fit_rows"], point_mass_share=state["point_mass_share"],
                   numeric_encoding=state.get("numeric_encoding", "modes"))
        self.columns_ = [self._make(spec, s.get("encoding", "modes")).set_state(s)
                         for spec, s in zip(schema, state["columns"])]
        self._build_layout()
        return self
