"""Two-way marginals under differential privacy: which pairs to measure, their noisy release,
and the tilt that steers generated rows towards them (torch-free).

A generator trained against a DP-SGD critic sees the joint distribution through heavy noise
and keeps pairs of columns only loosely related; marginal-based synthesizers (AIM, MST) spend
their budget on measured low-order marginals instead. Under ``epsilon=...`` tabgan does both,
after training, in the space of the codes every column already has (a categorical level, or
a numeric column's mode: its point masses and equal-mass intervals):

* :func:`select_pairs` reads the private codes: it picks pairs of columns by the exponential
  mechanism (Gumbel top-``k``), scoring each candidate by how far the generator's joint table
  is from the table's (L1, in counts: sensitivity 1 under adding or removing one row) less the
  error the measurement's own noise and the generated rows' sampling would bring (AIM's rule);
  :func:`measure_in_rounds` chooses and measures the ``k`` pairs in rounds, each scored
  against the generated rows as the releases before it post-process them;
* :func:`measure_pairs` releases the counts of those pairs with Gaussian noise (each row adds
  1 to one cell of each table: L2 sensitivity ``sqrt(k)``);
* :func:`fit_tilt` is post-processing: on pools of *generated* rows it fits a log-linear
  weight (one factor per cell of each measured pair, one per level of each column) by
  iterative proportional fitting towards the noisy tables and the 1-way targets, reading no
  training row. Sampling keeps a generated row with probability ``min(1, weight / cap)``
  (:meth:`PairTilt.accept`), which draws rows from the generator's distribution tilted
  towards the measured pairs;
* :func:`couple_positions` is post-processing too: along each resampling rule between two
  numeric columns, the child's positions inside its mode are sorted with the parent's.

Both mechanisms are charged to the fit's ledger (:mod:`tabgan.training.accounting`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
import numpy as np

from ._stats import cramers_v

__all__ = ["PairTilt", "Rule", "pair_counts", "select_pairs", "measure_pairs", "fit_tilt", "candidate_pairs",
           "em_epsilon", "pair_scores", "resampling_from_tables",
           "resample", "resampled_pool", "tilt_from_release", "pair_groups", "pair_resolution", "grouped",
           "measure_in_rounds", "round_sizes", "couple_positions"]

#: Pairs whose table has more cells than this are not candidates (their noise would swamp them).
MAX_CELLS = 2048
#: IPF rounds of the tilt, and the bound on each log-factor.
TILT_ROUNDS, MAX_LOG_FACTOR = 12, 3.0
#: A target cell gets at least this share of its table (so one noisy zero cannot forbid a cell).
FLOOR = 1e-5
#: The acceptance cap is this quantile of the pool's weights (rows above it are kept always).
CAP_QUANTILE = 0.995


def pair_resolution(n_hat: float, sigma: float) -> int:
    """Most groups a numeric column keeps in a measured pair: ``g`` with ``g * g`` cells of
    ``n_hat / g^2`` rows on average holding at least one noise standard deviation ``sigma`` each,
    so that a pair table of two such columns is not mostly noise (post-processing of the DP row
    count and the planned noise; at least 2)."""
    if sigma <= 0:
        return MAX_CELLS
    return max(2, int(math.floor(math.sqrt(max(n_hat, 1.0) / sigma))))


def pair_groups(widths, values: list, targets: list, max_groups: int) -> list[np.ndarray]:
    """Per code column, the group of each code in the measured pairs (``(width,)`` ints).

    A numeric column (``values[j]``: each code's value, NaN for the missing mode; ``None`` for a
    categorical column) with more than ``max_groups`` codes is measured on at most
    ``max_groups`` ranges of adjacent values holding about equal shares of its released
    frequencies (``targets[j]``), the missing mode on its own; every other code column keeps one
    group per code. Post-processing of public facts and releases."""
    out = []
    for w, v, t in zip(widths, values, targets):
        w = int(w)
        if v is None or w <= max_groups or t is None or len(t) != w or len(v) != w:
            out.append(np.arange(w, dtype=np.int64))
            continue
        v = np.asarray(v, dtype=np.float64)
        p = np.clip(np.asarray(t, dtype=np.float64), 0.0, None)
        order = np.flatnonzero(~np.isnan(v))
        order = order[np.argsort(v[order], kind="stable")]
        share = p[order] / max(p[order].sum(), 1e-12)
        mid = np.cumsum(share) - share / 2.0  # each code's place in its column's distribution
        group = np.full(w, max_groups, dtype=np.int64)  # the missing mode: a group of its own
        group[order] = np.minimum((mid * max_groups).astype(np.int64), max_groups - 1)
        out.append(np.unique(group, return_inverse=True)[1].astype(np.int64))
    return out


def grouped(codes: np.ndarray, groups: list) -> tuple[np.ndarray, list[int]]:
    """``codes`` with each column mapped to its group, and the groups' widths."""
    codes = np.asarray(codes, dtype=np.int64)
    out = np.stack([g[codes[:, j]] for j, g in enumerate(groups)], axis=1) if groups else codes
    return out, [int(g.max()) + 1 if len(g) else 0 for g in groups]


def candidate_pairs(widths) -> list[tuple[int, int]]:
    """Every pair of code columns with at least two levels each and at most MAX_CELLS cells."""
    w = [int(x) for x in widths]
    return [(a, b) for a in range(len(w)) for b in range(a + 1, len(w))
            if w[a] > 1 and w[b] > 1 and w[a] * w[b] <= MAX_CELLS]


def pair_counts(codes: np.ndarray, widths, pairs, weights: np.ndarray | None = None) -> list[np.ndarray]:
    """Counts (or summed ``weights``) of each pair's cells, as ``(width_a, width_b)`` tables."""
    out = []
    for a, b in pairs:
        wa, wb = int(widths[a]), int(widths[b])
        flat = codes[:, a].astype(np.int64) * wb + codes[:, b]
        out.append(np.bincount(flat, weights=weights, minlength=wa * wb).astype(np.float64).reshape(wa, wb))
    return out


def em_epsilon(rho: float, k: int) -> float:
    """The epsilon of each of ``k`` exponential mechanisms that together are ``rho``-zCDP
    (an exponential mechanism is ``epsilon^2 / 8``-zCDP, Cesar and Rogers 2021)."""
    return math.sqrt(8.0 * rho / k)


def select_pairs(codes: np.ndarray, synthetic: np.ndarray, widths, n_hat: float, k: int, epsilon0: float,
                 sigma: float, rng: np.random.Generator, weights: np.ndarray | None = None,
                 exclude=()) -> list[tuple[int, int]]:
    """``k`` pairs chosen by ``k`` exponential mechanisms of ``epsilon0`` each (Gumbel top-k),
    among the candidates not in ``exclude`` (those an earlier round chose).

    ``codes`` are the private rows' codes (read here, and only for the scores); ``synthetic``
    the codes of generated rows (with ``weights``, say those of a tilt towards the released 1-way
    frequencies, so that a column's own error does not make every pair of it look wrong), whose
    joint tables are scaled to ``n_hat`` (the DP row count). The scores are :func:`pair_scores`
    (sensitivity 1 under adding or removing one row)."""
    taken = {tuple(p) for p in exclude}
    pairs = [p for p in candidate_pairs(widths) if p not in taken]
    k = min(int(k), len(pairs))
    if k <= 0:
        return []
    score = pair_scores(codes, synthetic, widths, n_hat, sigma, pairs, weights)
    noisy = score + rng.gumbel(0.0, 2.0 / epsilon0, size=len(score))
    return [pairs[i] for i in np.argsort(-noisy, kind="stable")[:k]]


def pair_scores(codes: np.ndarray, synthetic: np.ndarray, widths, n_hat: float, sigma: float,
                pairs, weights: np.ndarray | None = None) -> np.ndarray:
    """Each pair's L1 distance (in counts) between the private table's joint counts and the
    generated rows' scaled to ``n_hat``, less ``sqrt(2 / pi) * sigma`` per cell (the expected
    L1 error of measuring it) and less the L1 error the generated rows' own sampling brings
    (``sqrt(2 / pi)`` times each scaled cell's standard deviation, ``sqrt(sum of w^2)``): without
    it a wide table of independent columns (adult's fnlwgt by anything) looks wrong by the
    pool's noise alone. Only the first term reads private rows: one row more or less moves each
    score by at most 1."""
    real = pair_counts(codes, widths, pairs)
    w = np.ones(len(synthetic)) if weights is None else np.asarray(weights, dtype=np.float64)
    fake = pair_counts(synthetic, widths, pairs, w)
    spread = pair_counts(synthetic, widths, pairs, w * w)
    scale = n_hat / max(float(np.sum(w)), 1e-12)
    c = math.sqrt(2 / math.pi)
    return np.array([np.abs(r - scale * f).sum() - c * sigma * r.size - c * scale * np.sqrt(v).sum()
                     for r, f, v in zip(real, fake, spread)])


def measure_pairs(codes: np.ndarray, widths, pairs, sigma: float, rng: np.random.Generator) -> list[np.ndarray]:
    """Noisy counts of each pair's table (Gaussian, ``sigma`` per cell)."""
    return [t + rng.normal(0.0, sigma, size=t.shape) for t in pair_counts(codes, widths, pairs)]


@dataclass
class Rule:
    """One resampling rule: the code column ``child`` drawn again given ``parent``.

    ``cdf`` (parent width, child width): the released conditional frequencies of the child
    given the parent, cumulative. Without ``order`` the child is drawn afresh from its parent's
    row. A numeric child has an ``order`` (its codes by value) and ``source``, the generated
    rows' own cumulative conditional frequencies in that order (the pool the rule was fitted
    on): the row's code is then mapped by quantiles, from its place among the generated codes
    of its parent to the same place among the released ones (both in ``order``), so rows the
    generator put high stay high. A generator that missed price given carat still ranks price
    by the clarity and colour it conditioned on; a fresh draw would forget that ranking.

    ``sign`` (+1 or -1 for a rule between two numeric columns, 0 for none) is the direction of
    the released dependence: :func:`couple_positions` then orders the child's positions inside
    each (parent code, child code) cell as the parent's run (-1: the other way)."""

    child: int
    parent: int
    cdf: np.ndarray
    order: np.ndarray | None = None
    source: np.ndarray | None = None
    sign: int = 0

    def _rank(self) -> np.ndarray:
        """Each child code's place in ``order``."""
        rank = np.empty(len(self.order), dtype=np.int64)
        rank[self.order] = np.arange(len(self.order))
        return rank

    def draw(self, codes: np.ndarray, u: np.ndarray) -> np.ndarray:
        """The child's new codes for rows ``codes`` (n, C), given uniforms ``u`` (n,)."""
        parent = codes[:, self.parent]
        q = u  # the quantile drawn at: fresh, or the row's place among the generated codes
        if self.source is not None:
            place = self._rank()[codes[:, self.child]]
            seen, rows = self.source[parent], np.arange(len(place))
            hi = seen[rows, place]
            lo = np.where(place > 0, seen[rows, place - 1], 0.0)
            total = seen[:, -1]
            # A parent code the pool never generated has no ranking: a fresh draw.
            q = np.where(total > 0, (lo + u * (hi - lo)) / np.maximum(total, 1e-300), u)
        cdf = self.cdf[parent]
        drawn = np.minimum((cdf < q[:, None] * cdf[:, -1:]).sum(axis=1), cdf.shape[1] - 1)
        return drawn if self.order is None else self.order[drawn]

    def fitted(self, codes: np.ndarray) -> "Rule":
        """The rule with ``source`` read from generated rows ``codes`` (a numeric child's only)."""
        if self.order is None:
            return self
        width_p, width_c = self.cdf.shape
        table = np.bincount(codes[:, self.parent] * width_c + self._rank()[codes[:, self.child]],
                            minlength=width_p * width_c).reshape(width_p, width_c).astype(np.float64)
        return Rule(self.child, self.parent, self.cdf, self.order, np.cumsum(table, axis=1), self.sign)

    def get_state(self) -> list:
        out = [int(self.child), int(self.parent), self.cdf.tolist()]
        if self.order is None:
            return out
        return out + [self.order.tolist(), self.source.tolist(), int(self.sign)]

    @classmethod
    def from_state(cls, state: list) -> "Rule":
        order, source = (np.asarray(state[3], dtype=np.int64), np.asarray(state[4], dtype=np.float64)) \
            if len(state) > 3 else (None, None)
        sign = int(state[5]) if len(state) > 5 else 0  # models saved before the coupling: none
        return cls(int(state[0]), int(state[1]), np.asarray(state[2], dtype=np.float64), order, source, sign)


@dataclass
class PairTilt:
    """Log-factors per measured pair cell and per level; rows are kept with ``min(1, w / cap)``."""

    pairs: list                  # [(code column a, code column b)]
    factors: list                # per pair, (width_a, width_b) log-factors
    level_factors: list          # per code column, (width,) log-factors
    offset: float = 0.0          # makes the weights average 1 on the pool they were fitted on
    cap: float = 1.0
    resample: list = field(default_factory=list)  # [Rule], see resampling_from_tables
    groups: list = field(default_factory=list)    # per code column, each code's group in the pairs (see pair_groups)

    def log_weight(self, codes: np.ndarray) -> np.ndarray:
        lw = np.full(codes.shape[0], -self.offset)
        for j, f in enumerate(self.level_factors):
            lw += f[codes[:, j]]
        paired = grouped(codes, self.groups)[0] if self.groups else codes
        for (a, b), f in zip(self.pairs, self.factors):
            lw += f[paired[:, a], paired[:, b]]
        return lw

    def accept(self, codes: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Which rows to keep, given uniforms ``u`` in [0, 1) (one per row)."""
        return u * self.cap < np.exp(self.log_weight(codes))

    def get_state(self) -> dict:
        return {"pairs": [[int(a), int(b)] for a, b in self.pairs],
                "factors": [f.tolist() for f in self.factors],
                "level_factors": [f.tolist() for f in self.level_factors],
                "offset": float(self.offset), "cap": float(self.cap),
                "resample": [rule.get_state() for rule in self.resample],
                "groups": [g.tolist() for g in self.groups]}

    @classmethod
    def from_state(cls, state: dict) -> "PairTilt":
        return cls([tuple(p) for p in state["pairs"]], [np.asarray(f, dtype=np.float64) for f in state["factors"]],
                   [np.asarray(f, dtype=np.float64) for f in state["level_factors"]], float(state["offset"]),
                   float(state["cap"]), [Rule.from_state(r) for r in state.get("resample", [])],
                   [np.asarray(g, dtype=np.int64) for g in state.get("groups", [])])


def _target(table: np.ndarray) -> np.ndarray:
    t = np.clip(np.asarray(table, dtype=np.float64), 0.0, None)
    t = t / max(t.sum(), 1e-12)
    t = np.maximum(t, FLOOR)
    return t / t.sum()


def _step(target: np.ndarray, seen: np.ndarray, current: np.ndarray) -> np.ndarray:
    """The change of log-factors that moves ``seen`` (weighted counts) onto ``target``."""
    seen = seen / max(seen.sum(), 1e-12)
    new = current.copy()
    has = seen > 0
    new[has] = np.clip(current[has] + np.log(target[has] / seen[has]), -MAX_LOG_FACTOR, MAX_LOG_FACTOR)
    return new - current


def fit_tilt(codes: np.ndarray, widths, pairs, noisy: list, targets: list, resampled: list = (),
             groups: list = ()) -> PairTilt:
    """Fit the tilt by IPF on the codes of generated rows (``codes``, a pool) towards the noisy
    pair tables ``noisy`` (on the codes' ``groups``, see :func:`pair_groups`; one per code when
    empty) and the per-column ``targets`` (level or mode frequencies, ``None`` to leave a column
    free); ``resampled`` are the rules already applied to ``codes`` (kept with the tilt, see
    :func:`tilt_from_release`). Reads no training row."""
    widths = [int(w) for w in widths]
    codes = np.asarray(codes, dtype=np.int64)
    groups = [np.asarray(g, dtype=np.int64) for g in groups]
    paired, pair_widths = grouped(codes, groups) if groups else (codes, widths)
    pair_t = [_target(t) for t in noisy]
    level_t = [None if t is None or len(t) != widths[j] else _target(t) for j, t in enumerate(targets)]
    flat = [paired[:, a] * pair_widths[b] + paired[:, b] for a, b in pairs]
    factors = [np.zeros((pair_widths[a], pair_widths[b])) for a, b in pairs]
    level_factors = [np.zeros(w) for w in widths]
    lw = np.zeros(codes.shape[0])
    for _ in range(TILT_ROUNDS if pairs or any(t is not None for t in level_t) else 0):
        for i, t in enumerate(pair_t):
            size = t.size
            seen = np.bincount(flat[i], weights=np.exp(lw), minlength=size)
            step = _step(t.ravel(), seen, factors[i].ravel())
            factors[i] = factors[i] + step.reshape(t.shape)
            lw += step[flat[i]]
        for j, t in enumerate(level_t):
            if t is None:
                continue
            seen = np.bincount(codes[:, j], weights=np.exp(lw), minlength=widths[j])
            step = _step(t, seen, level_factors[j])
            level_factors[j] = level_factors[j] + step
            lw += step[codes[:, j]]
    offset = float(np.log(np.mean(np.exp(lw)))) if len(lw) else 0.0
    cap = float(max(np.quantile(np.exp(lw - offset), CAP_QUANTILE), 1.0)) if len(lw) else 1.0
    return PairTilt(list(pairs), factors, level_factors, offset, cap, list(resampled), groups)



#: A measured pair whose noisy table has a Cramer's V at least this high (education and
#: education-num: 1.0) is kept by resampling, not by weights (see :func:`resampling_from_tables`).
RESAMPLE_V = 0.9
#: A measured pair with a strong dependence (noisy table's V at least ``MISSED_V``) that the
#: generator's rows keep less than ``MISSED_SHARE`` of (their table's V) is resampled too, modes
#: of continuous ranges included: weights cannot build a dependence the rows lack (diamonds at
#: epsilon 1: carat, x, y, z and price came out of the DP generator nearly unrelated, and the
#: tilt alone brought them about halfway back; benchmarks/README.md).
MISSED_V, MISSED_SHARE = 0.5, 0.5
#: Cells below this many noise standard deviations count as empty when reading a near-function.
RESAMPLE_Z = 2.0


def resampling_from_tables(pairs, noisy: list, widths, eligible, sigma: float, seen: list | None = None,
                           modes=None, numeric=None, values=None) -> list[Rule]:
    """The :class:`Rule` s of the code columns drawn again, row by row, from the released noisy
    conditional frequencies of the child given the parent, in the order they are to be applied.
    Post-processing of the noisy tables and of generated rows (``seen``: per pair, the generated
    rows' table). With ``values`` (per code column, each code's place on its value axis, or
    ``None``; see ``TableTransformer.code_values``), a rule between two numeric columns maps the
    child by quantiles (its ``order``; the rule's ``source`` is read from generated rows by
    :meth:`Rule.fitted`).

    Weights cannot make a near-function (education -> education-num) out of a generator that
    mixes its levels: the few generated rows on the diagonal would need weights beyond any cap.
    Cells below ``RESAMPLE_Z`` noise standard deviations (``sigma``) are taken for empty (the
    noise of many empty cells would otherwise hide a function). A pair is resampled when its
    table so denoised has a Cramer's V of at least ``RESAMPLE_V`` and both are value columns
    (``eligible``: levels, point masses), or when it has a V of at least ``MISSED_V``, the
    generated rows' table less than ``MISSED_SHARE`` of it, and both columns are numeric
    (``numeric``) and measured code by code (``modes``; a mode of a continuous range keeps the
    generated place inside it). Only numeric pairs: the DP generator learns a categorical
    column's relations through its condition vectors (each real row's own level), and a
    numeric column has none, so the relations between numeric columns are the ones it misses.
    Strongest pairs first, the rules form a forest: a new column is drawn given one already in
    it (so a chain carat -> x -> y is applied in order), two new ones the coarser given the
    finer, and a pair of two columns already in it is left to the weights."""
    modes = eligible if modes is None else modes
    found = []
    for i, ((a, b), table) in enumerate(zip(pairs, noisy)):
        if not (modes[a] and modes[b]):
            continue
        clipped = np.clip(np.asarray(table, dtype=np.float64), 0.0, None)
        t = np.where(clipped > RESAMPLE_Z * sigma, clipped, 0.0)
        v = cramers_v(t)
        if not v >= min(RESAMPLE_V, MISSED_V):  # NaN: fewer than two levels seen
            continue
        near = bool(eligible[a] and eligible[b] and v >= RESAMPLE_V)
        missed = (seen is not None and numeric is not None and bool(numeric[a] and numeric[b]) and v >= MISSED_V
                  and not cramers_v(np.asarray(seen[i], float)) >= MISSED_SHARE * v)
        if near or missed:
            found.append((-v, i, a, b, t, clipped))
    out, touched = [], set()
    for _, _, a, b, t, clipped in sorted(found, key=lambda f: f[:2]):
        if a in touched and b in touched:
            continue
        if a in touched or b in touched:
            child = b if a in touched else a
        else:
            child = a if int(widths[a]) < int(widths[b]) else b
        parent = b if child == a else a
        touched |= {child, parent}
        empty = t.sum(axis=1, keepdims=True) <= 0
        t = np.where(empty, clipped, t)
        t = t.T if child == a else t  # rows: the parent's codes
        rows = t.sum(axis=1, keepdims=True)
        cond = np.where(rows > 0, t / np.maximum(rows, 1e-12), 1.0 / t.shape[1])
        order, sign = None, 0
        if values is not None and numeric is not None and numeric[child] and numeric[parent] \
                and values[child] is not None:
            order = np.argsort(np.asarray(values[child], dtype=np.float64), kind="stable")  # missing last
            sign = _direction(t, values[parent], values[child])
            cond = cond[:, order]
        out.append(Rule(int(child), int(parent), np.cumsum(cond, axis=1), order, None, sign))
    return out


def _direction(table: np.ndarray, parent_values, child_values) -> int:
    """+1 when the (parent, child) ``table`` puts higher children with higher parents (the
    rank correlation of the codes' values over its counts, missing modes left out), else -1."""
    pv, cv = np.asarray(parent_values, dtype=np.float64), np.asarray(child_values, dtype=np.float64)
    keep_p, keep_c = ~np.isnan(pv), ~np.isnan(cv)
    t = np.clip(np.asarray(table, dtype=np.float64), 0.0, None)[np.ix_(keep_p, keep_c)]
    if t.sum() <= 0:
        return 1
    rp = np.argsort(np.argsort(pv[keep_p], kind="stable"), kind="stable").astype(np.float64)
    rc = np.argsort(np.argsort(cv[keep_c], kind="stable"), kind="stable").astype(np.float64)
    w = t / t.sum()
    mp, mc = (w.sum(axis=1) * rp).sum(), (w.sum(axis=0) * rc).sum()
    return 1 if float(((rp - mp)[:, None] * (rc - mc)[None, :] * w).sum()) >= 0 else -1


def couple_positions(floats: np.ndarray, codes: np.ndarray, rules: list, float_of: dict) -> np.ndarray:
    """``floats`` with each coupled rule's child positions reordered inside every (parent code,
    child code) cell to run with the parent's positions (``Rule.sign``; ``float_of``: code column
    -> the float of its position inside a continuous mode). Post-processing of generated rows.

    The rules redraw a numeric child's *code* (its mode) from the released table given its
    parent's; inside the drawn mode the position stays the generator's, which under DP need not
    follow the parent's: on diamonds at epsilon 1, among rows in the top modes of both carat and
    price (price 9,520 to 18,432), the DP generator's prices even fell as carat rose. The measured
    table says the two rise together (or fall); the finest version of that the rows allow is to
    sort them together inside each cell. That makes the pair comonotone inside a cell, a stronger
    relation there than real rows have (the cells' own frequencies stay the released table's).
    Only positions are swapped between rows of the same cell, so each mode keeps the very
    positions it had (every column's distribution is unchanged) and the codes, hence the tilt,
    are not touched."""
    out = None
    for rule in rules:
        if not rule.sign or rule.child not in float_of or rule.parent not in float_of:
            continue
        out = np.array(floats, copy=True) if out is None else out
        fp, fc = float_of[rule.parent], float_of[rule.child]
        cell = codes[:, rule.parent].astype(np.int64) * (int(codes[:, rule.child].max(initial=0)) + 1) \
            + codes[:, rule.child]
        by_parent = np.lexsort((rule.sign * out[:, fp], cell))
        by_child = np.lexsort((out[:, fc], cell))
        moved = np.empty(len(out), dtype=out.dtype)
        moved[by_parent] = out[by_child, fc]
        out[:, fc] = moved
    return floats if out is None else out


def resample(codes: np.ndarray, rules: list, u: np.ndarray) -> np.ndarray:
    """``codes`` with each rule's child drawn again given its parent (``u``: (n, len(rules)) uniforms)."""
    if not rules:
        return codes
    out = np.array(codes, dtype=np.int64, copy=True)
    for i, rule in enumerate(rules):
        out[:, rule.child] = rule.draw(out, u[:, i])
    return out


def resampled_pool(pool: np.ndarray, widths, pairs, noisy: list, sigma: float, eligible, rng: np.random.Generator,
                   groups: list = (), numeric=None, values=None) -> tuple[list, np.ndarray]:
    """The resampling rules read from the noisy tables (noise ``sigma`` per cell, measured on
    ``groups`` of codes, see :func:`pair_groups`) and the pool of generated codes with them
    applied (uniforms from ``rng``). Only columns measured one group per code can be resampled;
    the pool's own pair tables tell which measured dependences between ``numeric`` code columns
    (a bool per code column) the generator missed. Each rule's ranking of the child (``values``,
    see :class:`Rule`) is read from the pool as the rules before it left it."""
    whole = np.asarray([len(np.unique(g)) == len(g) for g in groups] if groups else [True] * len(widths), dtype=bool)
    eligible = np.asarray(eligible, dtype=bool) & whole
    paired, pair_widths = grouped(pool, groups) if groups else (pool, widths)
    seen = pair_counts(paired, pair_widths, pairs)
    rules = resampling_from_tables(pairs, noisy, widths, eligible, sigma, seen, whole, numeric, values)
    if rules:
        u = rng.random((len(pool), len(rules)))
        pool = np.array(pool, dtype=np.int64, copy=True)
        for i, rule in enumerate(rules):  # each rule's ranking is read where it applies: after those before it
            rules[i] = rule.fitted(pool)
            pool[:, rule.child] = rules[i].draw(pool, u[:, i])
    return rules, pool


def tilt_from_release(pool: np.ndarray, widths, pairs, noisy: list, sigma: float, targets: list, eligible,
                      rng: np.random.Generator, groups: list = (), numeric=None, values=None) -> PairTilt:
    """The whole post-processing: :func:`resampled_pool`, then the tilt fitted on the resampled
    pool towards the noisy tables and the 1-way ``targets``."""
    rules, pool = resampled_pool(pool, widths, pairs, noisy, sigma, eligible, rng, groups, numeric, values)
    return fit_tilt(pool, widths, pairs, noisy, targets, rules, groups)


#: The pairs are chosen in this many rounds, as AIM chooses its marginals round by round: each
#: round scores the candidates against the pool as the releases of the rounds before it have
#: post-processed it (rules and tilt), so a pair those releases already fix does not take a
#: measurement from a pair they leave wrong. The ledger is the same for any split: k exponential
#: mechanisms of ``epsilon0`` and k tables of noise ``sigma`` in all (zCDP composes adaptively).
#: Three rounds, not one pair per round: on one DP generator each of adult and diamonds (eps 1,
#: ``benchmarks/dp_selection.py``), one pair per round left diamonds' price with one measured
#: pair and lost 0.013 to 0.018 of its ML efficacy; three rounds gained on every figure of both.
SELECT_ROUNDS = 3


def round_sizes(k: int, rounds: int) -> list[int]:
    """``k`` pairs split into at most ``rounds`` rounds, the earlier ones one larger."""
    k, rounds = int(k), max(1, min(int(rounds), int(k)))
    return [k // rounds + (1 if i < k % rounds else 0) for i in range(rounds)] if k > 0 else []


def measure_in_rounds(private: np.ndarray, pool: np.ndarray, widths, groups: list, n_hat: float, k: int,
                      epsilon0: float, sigma: float, rng: np.random.Generator, targets: list, eligible,
                      post_rng, numeric=None, values=None,
                      rounds: int | None = SELECT_ROUNDS) -> tuple[list, list, PairTilt]:
    """Choose and measure ``k`` pairs in ``rounds`` rounds (see :data:`SELECT_ROUNDS`; ``None``:
    one pair each): the pairs, their noisy tables, and the tilt that post-processes the pool
    towards them (what :func:`tilt_from_release` rebuilds from the releases with ``post_rng()``).

    ``private``: the training rows' codes on ``groups`` (read by the selection's scores and the
    measurements only); ``pool``: generated codes, scored first with the tilt towards the 1-way
    ``targets`` alone, then as each round's releases post-process it (``post_rng()``: a fresh
    generator of the resampling's uniforms; ``eligible``, ``numeric``, ``values`` as in
    :func:`resampled_pool`)."""
    pair_widths = grouped(pool, groups)[1] if groups else [int(w) for w in widths]
    tilt, post = fit_tilt(pool, widths, [], [], targets), pool
    pairs, noisy = [], []
    for size in round_sizes(k, k if rounds is None else rounds):
        scored = grouped(post, groups)[0] if groups else post
        new = select_pairs(private, scored, pair_widths, n_hat, size, epsilon0, sigma, rng,
                           np.exp(tilt.log_weight(post)), pairs)
        pairs += new
        noisy += measure_pairs(private, pair_widths, new, sigma, rng)
        # Post-processing: the pool as these releases leave it, scored by the next round.
        rules, post = resampled_pool(pool, widths, pairs, noisy, sigma, eligible, post_rng(), groups, numeric, values)
        tilt = fit_tilt(post, widths, pairs, noisy, targets, rules, groups)
    return pairs, noisy, tilt
