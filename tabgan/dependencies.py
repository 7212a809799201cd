"""Near-deterministic dependencies between discrete columns, learned once and kept in samples.

Real tables hold functional dependencies and hierarchies (education -> education-num, postal
code -> city -> state, tail number -> carrier) and level-wise implications that are not whole
functional dependencies (adult's relationship "Husband" -> sex "Male", while "Not-in-family"
goes with both). A GAN learns them only approximately: on adult a default fit kept education ->
education-num in about 85% of rows, and generated "Husband" with "Female" in 2% of rows, pairs
that never occur in the real table.

:func:`fit_dependencies` finds such implications in the encoded table (codes: one level or
point-mass index per column) and :meth:`Dependencies.apply` sets the implied column of every
generated row from the implying one. Only two kinds of code columns take part, because only
there is a code a value: categorical/boolean levels (the missing level included) and numeric
columns made of point masses only (an integer column with few distinct values).

A rule ``child level a -> parent level b`` is kept when, in the real table,

* the level-wise test holds: ``a`` is seen in at least ``MIN_LEVEL_ROWS`` rows, at least
  ``MIN_SHARE`` of them have ``b``, and so few have another parent level that chance is ruled
  out (a binomial test against the parent's own frequency of ``b``, p < ``MAX_P``); or
* the column-wise test holds for ``child -> parent`` as a whole (a functional dependency: the
  rows whose child level is seen at least twice are at least half the table, ``MIN_SHARE`` of
  them have their level's usual parent, and a Poisson test against the parent's frequencies
  rules out chance): then every child level seen in the table gets its rule, also those seen
  once (a postal code with one row still has one city).

Hierarchies declared in the metadata (``"hierarchies": [["postal_code", "city", "state"]]``)
need no test: every child level seen in the table gets its most common parent as its rule.

Rules are applied finer child first (more levels first), and a generated value set by one rule
is not overwritten by a later one, so chains (postal code -> city -> state) come out consistent.

The rules read exact counts of the table, so they are not learned under differential privacy.
This module is torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import stats

__all__ = ["Dependencies", "fit_dependencies", "pair_counts", "usual_parents"]

#: An implied level must hold at least this share of the implying level's rows.
MIN_SHARE = 0.99
#: A level-wise rule needs at least this many rows of the implying level.
MIN_LEVEL_ROWS = 10
#: Significance of the tests that rule out chance (a parent level that is common anyway).
MAX_P = 1e-3
#: Pairs of columns with at most this many level combinations are counted with one bincount;
#: wider pairs (thousands of levels each) with a sort of the row keys.
DENSE_PAIRS = 4_000_000


@dataclass
class Dependencies:
    """Rules ``codes[:, child] == a  ->  codes[:, parent] = maps[i][a]`` (``-1``: no rule for ``a``).

    Attributes
    ----------
    rules : list of (child, parent, map)
        ``child`` and ``parent`` are code-column indices; ``map`` is an int64 array of the
        child's width. In the order they are applied.
    """

    rules: list = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rules)

    def apply(self, codes: np.ndarray) -> np.ndarray:
        """Codes of shape (n, C) with every rule enforced (a new array; ``codes`` is not changed)."""
        return self.apply_with_mask(codes)[0]

    def apply_with_mask(self, codes: np.ndarray) -> tuple[np.ndarray, dict[int, np.ndarray]]:
        """:meth:`apply`, and per implied code column the (n,) mask of the rows a rule set.

        A rule does not set a column from a value that was itself derived from that column
        (education -> education-num -> education): the column keeps its own draw, which the
        first rule already made consistent, and counts as free.
        """
        out = np.array(codes, dtype=np.int64, copy=True)
        fixed: dict[int, np.ndarray] = {}
        roots: dict[int, np.ndarray] = {}  # per set column: the column each row's value comes from
        n = len(out)
        if not n:
            return out, fixed
        for child, parent, mapping in self.rules:
            implied = mapping[out[:, child]]
            take = implied >= 0
            child_root = roots.get(child)
            if child_root is not None:
                take &= child_root != parent
            if parent in fixed:  # a value set by an earlier (finer) rule is kept
                take &= ~fixed[parent]
                fixed[parent] |= take
            else:
                fixed[parent] = take.copy()
            out[take, parent] = implied[take]
            root = roots.setdefault(parent, np.full(n, parent, dtype=np.int64))
            root[take] = child if child_root is None else child_root[take]
        return out, fixed

    def pairs(self) -> list[tuple[int, int, int]]:
        """``(child, parent, number of child levels with a rule)`` per rule, for reports and logs."""
        return [(c, p, int((m >= 0).sum())) for c, p, m in self.rules]

    # ----------------------------------------------------------------- state
    def get_state(self) -> list:
        """JSON-ready: sparse maps ``[child, parent, levels, implied]``."""
        out = []
        for child, parent, mapping in self.rules:
            levels = np.flatnonzero(mapping >= 0)
            out.append([int(child), int(parent), levels.tolist(), mapping[levels].tolist()])
        return out

    @classmethod
    def from_state(cls, state: list, code_widths) -> "Dependencies":
        rules = []
        for child, parent, levels, implied in state:
            mapping = np.full(int(code_widths[child]), -1, dtype=np.int64)
            mapping[np.asarray(levels, dtype=np.int64)] = np.asarray(implied, dtype=np.int64)
            rules.append((int(child), int(parent), mapping))
        return cls(rules)


def fit_dependencies(codes: np.ndarray, code_widths, eligible, declared=()) -> Dependencies:
    """Find the rules of the real table's ``codes`` (n, C) among the ``eligible`` code columns,
    and make those of the ``declared`` pairs.

    Parameters
    ----------
    codes : ndarray of shape (n, C), int
        The encoded real table (one level or mode index per code column).
    code_widths : array of shape (C,)
        Levels (or modes) of each code column.
    eligible : array of shape (C,), bool
        Code columns whose codes are values (levels, or point masses only).
    declared : iterable of (child, parent)
        Code-column pairs the metadata declares a hierarchy: every child level seen gets its
        most common parent, without the tests.
    """
    codes = np.asarray(codes, dtype=np.int64)
    n = len(codes)
    widths = np.asarray(code_widths, dtype=np.int64)
    columns = [int(j) for j in np.flatnonzero(np.asarray(eligible, dtype=bool))]
    declared = {(int(c), int(p)) for c, p in declared}
    if n < 2 or (len(columns) < 2 and not declared):
        return Dependencies()
    counts = {j: np.bincount(codes[:, j], minlength=int(widths[j]))
              for j in set(columns) | {j for pair in declared for j in pair}}
    found = []
    for child in columns:
        for parent in columns:
            if child == parent or (child, parent) in declared or (counts[parent] > 0).sum() < 2:
                continue
            mapping = _rule_map(codes[:, child], codes[:, parent], counts[child], counts[parent], n)
            if mapping is not None:
                found.append((child, parent, mapping))
    for child, parent in sorted(declared):
        found.append((child, parent, _declared_map(codes[:, child], codes[:, parent], len(counts[child]),
                                                   len(counts[parent]))))
    # Finer implying columns first: in a chain, a parent is set before it implies its own parent.
    found.sort(key=lambda r: (-int((counts[r[0]] > 0).sum()), r[0], r[1]))
    return Dependencies(found)


def pair_counts(child: np.ndarray, parent: np.ndarray, w_child: int, w_parent: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """The (child, parent) code pairs that occur, as sorted keys ``child * w_parent + parent``,
    and their row counts."""
    keys = child * w_parent + parent
    if w_child * w_parent <= DENSE_PAIRS:  # one pass (np.unique would sort n keys)
        dense = np.bincount(keys, minlength=w_child * w_parent)
        seen = np.flatnonzero(dense)
        return seen, dense[seen]
    return np.unique(keys, return_counts=True)  # two wide columns: only the pairs that occur


def usual_parents(keys: np.ndarray, counts: np.ndarray, w_parent: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From :func:`pair_counts`' pairs: each child level seen, its most common parent level and
    that pair's row count."""
    levels, implied = keys // w_parent, keys % w_parent
    # Sort by (level, count descending) and take the first entry of each level.
    order = np.lexsort((-counts, levels))
    first = order[np.r_[True, levels[order][1:] != levels[order][:-1]]]
    return levels[first], implied[first], counts[first]


def _most_common_parent(child: np.ndarray, parent: np.ndarray, w_child: int, w_parent: int):
    """Per child level seen: the level, its most common parent level and that parent's row count."""
    return usual_parents(*pair_counts(child, parent, w_child, w_parent), w_parent)


def _declared_map(child: np.ndarray, parent: np.ndarray, w_child: int, w_parent: int) -> np.ndarray:
    """The child-level -> parent-level map of a declared hierarchy: every child level seen."""
    lv, top, _ = _most_common_parent(child, parent, w_child, w_parent)
    mapping = np.full(w_child, -1, dtype=np.int64)
    mapping[lv] = top
    return mapping


def _rule_map(child: np.ndarray, parent: np.ndarray, child_counts: np.ndarray, parent_counts: np.ndarray,
              n: int) -> np.ndarray | None:
    """The child-level -> parent-level map of one column pair, or None when it has no rule."""
    lv, top, top_n = _most_common_parent(child, parent, len(child_counts), len(parent_counts))
    rows = child_counts[lv]
    errors = rows - top_n
    p_top = parent_counts[top] / n
    # Level-wise: enough rows, a high share, and a parent level that chance would not give.
    p_level = stats.binom.cdf(errors, rows, 1.0 - p_top)
    keep = (rows >= MIN_LEVEL_ROWS) & (top_n >= MIN_SHARE * rows) & (p_level < MAX_P)
    # Column-wise: a functional dependency over the levels seen at least twice.
    seen_twice = rows >= 2
    covered = rows[seen_twice].sum()
    if covered >= 0.5 * n and top_n[seen_twice].sum() >= MIN_SHARE * covered:
        expected = float((rows[seen_twice] * (1.0 - p_top[seen_twice])).sum())
        if stats.poisson.cdf(errors[seen_twice].sum(), expected) < MAX_P:
            keep = np.ones_like(keep)
    if not keep.any():
        return None
    mapping = np.full(len(child_counts), -1, dtype=np.int64)
    mapping[lv[keep]] = top[keep]
    return mapping
