"""Set cover (unit costs) at city scale: local search, Lagrangian bound, greedy.

Used by :func:`coverage.optimise.min_cover` when no district quota binds:

* ``local_search``: row-weighting local search (after Gao et al.'s RWLS for unicost set cover)
  from the greedy cover; it usually finds the optimum of instances HiGHS needs seconds for in
  a fraction of a second, and gives HiGHS a strong start.
* ``lagrangian_bound``: for multipliers ``u >= 0``,
  ``L(u) = sum_i u_i + sum_j min(0, 1 - sum_{i in j} u_i)`` bounds every cover from below (at
  best it equals the LP bound); maximised by projected subgradient steps, one pass over the
  matrix each (numba), where the LP itself would take HiGHS minutes. Its reduced costs also
  show which columns a better cover could use at all (see ``optimise._large_min_cover``).
* ``greedy_cover``: Chvatal's greedy with redundant columns dropped.
"""
from __future__ import annotations

import math
import time

import numpy as np
import scipy.sparse as sp

from ._highs import quiet_highs
from ._numba import numba

_EPS = 1e-6


@numba.njit(cache=True, nogil=True)
def _reduced_costs(cptr, cidx, cost, u, ct):
    """Reduced costs ``ct`` of all columns; returns the sum of the negative ones."""
    n = cptr.size - 1
    val = 0.0
    for j in range(n):
        v = cost[j]
        for k in range(cptr[j], cptr[j + 1]):
            v -= u[cidx[k]]
        ct[j] = v
        if v < 0.0:
            val += v
    return val


@numba.njit(cache=True)
def _now():
    with numba.objmode(t="float64"):
        t = time.perf_counter()
    return t


@numba.njit(cache=True, nogil=True)
def _greedy_cover(rptr, ridx, cptr, cidx, insol):
    """Chvatal's greedy for unit costs: take the column covering the most uncovered rows (lowest
    index on ties) until all are covered, then drop redundant columns, latest pick first. Fills
    ``insol``; returns False when some row has no column."""
    m = rptr.size - 1
    n = cptr.size - 1
    covered = np.zeros(m, np.bool_)
    mu = np.zeros(n, np.int64)  # uncovered rows per column
    for j in range(n):
        insol[j] = False
        mu[j] = cptr[j + 1] - cptr[j]
    picks = np.empty(n, np.int64)
    n_picks = 0
    left = m
    while left > 0:
        best = -1
        most = 0
        for j in range(n):
            if not insol[j] and mu[j] > most:
                most = mu[j]
                best = j
        if best < 0:
            return False
        insol[best] = True
        picks[n_picks] = best
        n_picks += 1
        for k in range(cptr[best], cptr[best + 1]):
            i = cidx[k]
            if covered[i]:
                continue
            covered[i] = True
            left -= 1
            for kk in range(rptr[i], rptr[i + 1]):
                mu[ridx[kk]] -= 1
    cnt = np.zeros(m, np.int64)
    for q in range(n_picks):
        j = picks[q]
        for k in range(cptr[j], cptr[j + 1]):
            cnt[cidx[k]] += 1
    for q in range(n_picks - 1, -1, -1):
        j = picks[q]
        red = True
        for k in range(cptr[j], cptr[j + 1]):
            if cnt[cidx[k]] < 2:
                red = False
                break
        if red:
            insol[j] = False
            for k in range(cptr[j], cptr[j + 1]):
                cnt[cidx[k]] -= 1
    return True


@numba.njit(cache=True, nogil=True)
def _lagrangian_search(rptr, ridx, cptr, cidx, cost, u, best_u, ub, deadline, max_iters, lam0, patience,
                       min_lam):
    """Projected subgradient ascent on ``L(u)``, the step halved after ``patience`` steps without
    progress. ``u`` holds the start and ends at the best multipliers. Returns the best bound."""
    m = rptr.size - 1
    n = cptr.size - 1
    ct = np.zeros(n)
    s = np.zeros(m)
    best = -np.inf
    lam = lam0
    stall = 0
    for it in range(max_iters):
        if (it & 7) == 0 and _now() > deadline:
            break
        sum_u = 0.0
        for i in range(m):
            sum_u += u[i]
        L = sum_u + _reduced_costs(cptr, cidx, cost, u, ct)
        if L > best + 1e-9:
            if L > best + 1e-4 * max(1.0, abs(best)):
                stall = 0
            else:
                stall += 1
            best = L
            for i in range(m):
                best_u[i] = u[i]
        else:
            stall += 1
        if stall >= patience:
            lam *= 0.5
            stall = 0
        if best > ub - 1.0 + _EPS or lam < min_lam:
            break
        norm = 0.0
        for i in range(m):
            g = 1.0
            for k in range(rptr[i], rptr[i + 1]):
                if ct[ridx[k]] < 0.0:
                    g -= 1.0
            if u[i] <= 0.0 and g < 0.0:
                g = 0.0
            s[i] = g
            norm += g * g
        if norm == 0.0:
            break
        target = ub if ub < 1.05 * best + 1.0 else 1.05 * best + 1.0
        step = lam * (target - L) / norm
        if step <= 0.0:
            step = lam * 0.01 * max(1.0, abs(L)) / norm
        for i in range(m):
            v = u[i] + step * s[i]
            u[i] = v if v > 0.0 else 0.0
    for i in range(m):
        u[i] = best_u[i]
    return best


@numba.njit(cache=True, nogil=True)
def _weighting_search(rptr, ridx, cptr, cidx, start, deadline, max_steps, seed, tenure, target, stop):
    """Row-weighting local search for a smaller unit-cost cover (after Gao et al.'s RWLS).

    From a cover, drop the column whose loss is least and repair: while rows are uncovered,
    swap out the solution column that uncovers the least row weight and bring in, for a random
    uncovered row, the column covering the most uncovered weight (recently removed columns are
    tabu for ``tenure`` steps); rows that stay uncovered grow heavier. Returns the best cover
    found (bool per column); it is never larger than ``start``.
    """
    np.random.seed(seed)
    m = rptr.size - 1
    n = cptr.size - 1
    insol = start.copy()
    best = start.copy()
    cov = np.zeros(m, np.int64)
    w = np.ones(m, np.int64)
    score = np.zeros(n, np.int64)
    stamp = np.zeros(n, np.int64)
    removed_at = np.full(n, -(1 << 40), np.int64)
    unc = np.zeros(m, np.int64)  # uncovered rows
    pos = np.full(m, -1, np.int64)
    n_unc = 0
    size = 0
    for j in range(n):
        if insol[j]:
            size += 1
            for k in range(cptr[j], cptr[j + 1]):
                cov[cidx[k]] += 1
    for i in range(m):
        if cov[i] == 0:
            pos[i] = n_unc
            unc[n_unc] = i
            n_unc += 1
    for j in range(n):
        sc = 0
        for k in range(cptr[j], cptr[j + 1]):
            i = cidx[k]
            if insol[j] and cov[i] == 1:
                sc -= w[i]
            elif not insol[j] and cov[i] == 0:
                sc += w[i]
        score[j] = sc
    best_size = size if n_unc == 0 else n + 1
    step = 0
    last_added = -1
    while step < max_steps:
        if (step & 255) == 0 and (stop[0] != 0 or _now() > deadline):
            break
        dropping = n_unc == 0
        if dropping:
            if size < best_size:
                best_size = size
                for j in range(n):
                    best[j] = insol[j]
            if best_size <= target:
                stop[0] = 1  # a parallel search can stop too
                break
            # drop the column of least loss: look for a cover one smaller
            bj = -1
            bs = -(1 << 62)
            for j in range(n):
                if insol[j] and (score[j] > bs or (score[j] == bs and stamp[j] < stamp[bj])):
                    bs = score[j]
                    bj = j
            if bj < 0:
                break
            j = bj
        else:
            # swap out the solution column of least loss (not the one just added)
            bj = -1
            bs = -(1 << 62)
            for j in range(n):
                if insol[j] and j != last_added and (score[j] > bs or (score[j] == bs and stamp[j] < stamp[bj])):
                    bs = score[j]
                    bj = j
            if bj < 0:
                break
            j = bj
        # remove j
        insol[j] = False
        size -= 1
        removed_at[j] = step
        stamp[j] = step
        for k in range(cptr[j], cptr[j + 1]):
            i = cidx[k]
            cov[i] -= 1
            if cov[i] == 0:
                pos[i] = n_unc
                unc[n_unc] = i
                n_unc += 1
                for kk in range(rptr[i], rptr[i + 1]):
                    col = ridx[kk]
                    if col != j:
                        score[col] += w[i]
            elif cov[i] == 1:
                for kk in range(rptr[i], rptr[i + 1]):
                    col = ridx[kk]
                    if insol[col]:
                        score[col] -= w[i]
                        break
        score[j] = -score[j]
        if dropping or n_unc == 0:
            continue  # search one size smaller: swaps from the next step on
        # add the best column for a random uncovered row
        r = unc[np.random.randint(n_unc)]
        aj = -1
        a_s = -(1 << 62)
        for kk in range(rptr[r], rptr[r + 1]):
            col = ridx[kk]
            if step - removed_at[col] <= tenure:
                continue
            if score[col] > a_s or (score[col] == a_s and stamp[col] < stamp[aj]):
                a_s = score[col]
                aj = col
        if aj < 0:  # every column of the row is tabu: take the oldest
            for kk in range(rptr[r], rptr[r + 1]):
                col = ridx[kk]
                if aj < 0 or removed_at[col] < removed_at[aj]:
                    aj = col
        j = aj
        insol[j] = True
        size += 1
        stamp[j] = step
        last_added = j
        for k in range(cptr[j], cptr[j + 1]):
            i = cidx[k]
            cov[i] += 1
            if cov[i] == 1:
                p = pos[i]
                last = unc[n_unc - 1]
                unc[p] = last
                pos[last] = p
                pos[i] = -1
                n_unc -= 1
                for kk in range(rptr[i], rptr[i + 1]):
                    col = ridx[kk]
                    if col != j:
                        score[col] -= w[i]
            elif cov[i] == 2:
                for kk in range(rptr[i], rptr[i + 1]):
                    col = ridx[kk]
                    if insol[col] and col != j:
                        score[col] += w[i]
                        break
        score[j] = -score[j]
        # uncovered rows grow heavier
        for q in range(n_unc):
            i = unc[q]
            w[i] += 1
            for kk in range(rptr[i], rptr[i + 1]):
                score[ridx[kk]] += 1
        step += 1
    if n_unc == 0 and size < best_size:
        for j in range(n):
            best[j] = insol[j]
    return best


def cover_arrays(B: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Row-wise and column-wise index arrays of ``B`` (int64) for the kernels; compute once and
    pass as ``arrays=`` when searching the same matrix several times."""
    B = sp.csr_matrix(B, dtype=bool)
    B.sort_indices()
    C = B.tocsc()
    C.sort_indices()
    return (B.indptr.astype(np.int64), B.indices.astype(np.int64), C.indptr.astype(np.int64),
            C.indices.astype(np.int64))


def local_search(B: sp.csr_matrix, start: np.ndarray, *, time_limit: float, max_steps: int = 200_000,
                 seed: int = 1, tenure: int = 2, target: int = 0, threads: int = 1, arrays=None) -> np.ndarray:
    """A cover of all rows of ``B`` no larger than ``start`` (bool per column), by row-weighting
    local search within ``time_limit`` seconds or ``max_steps`` swaps (deterministic per seed for
    a step limit); stops early at a cover of ``target`` columns (a known lower bound).
    ``threads > 1`` runs that many searches with different seeds at once and keeps the best."""
    rptr, ridx, cptr, cidx = cover_arrays(B) if arrays is None else arrays
    deadline = time.perf_counter() + max(time_limit, 0.0)
    stop = np.zeros(1, np.int64)

    def one(k):
        x = np.asarray(start, dtype=np.bool_).copy()
        return _weighting_search(rptr, ridx, cptr, cidx, x, deadline, int(max_steps), int(seed) + k, int(tenure),
                                 int(target), stop)

    if threads <= 1:
        return one(0)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=threads) as pool:
        found = list(pool.map(one, range(threads)))
    return min(found, key=lambda x: int(x.sum()))


def row_subset_search(B: sp.csr_matrix, start: np.ndarray, rows: np.ndarray, *, time_limit: float,
                      target: int = 0, threads: int = 1, arrays=None, seed: int = 11) -> np.ndarray:
    """A cover of all rows of ``B`` no larger than ``start`` (a cover, bool per column), found by
    local search on a growing subset of rows.

    On dense city-scale covers each local-search step touches every row of the columns it moves
    and every column of those rows, so a search over all rows makes few steps. A few thousand
    rows (the covering LP's, ``rows``) already pin down most of a good cover: the search there
    runs many times faster. Each round asks the subset for a cover one smaller than the best
    full cover; the rows it leaves uncovered join the subset, and a short search over all rows
    from that near-cover repairs it at the same size when it can. Stops at ``target`` columns,
    at ``time_limit``, or when the subset search fails twice in a row.
    """
    t0 = time.perf_counter()
    m, n = B.shape
    B = sp.csr_matrix(B, dtype=bool)
    full = cover_arrays(B) if arrays is None else arrays
    Bc = B.tocsc()
    best = np.asarray(start, dtype=bool).copy()
    used = np.zeros(m, dtype=bool)
    used[np.asarray(rows, dtype=np.int64)] = True
    if m == 0 or best.sum() <= target:
        return best

    def uncovered(x: np.ndarray) -> np.ndarray:
        cov = np.zeros(m, dtype=bool)
        for j in np.flatnonzero(x):
            cov[Bc.indices[Bc.indptr[j]:Bc.indptr[j + 1]]] = True
        return ~cov

    # round lengths grow with the matrix: about 1 s per 2.5 M nonzeros, within a tenth of the time
    per = min(max(0.25, B.nnz / 2.5e6), 0.1 * time_limit)
    cur = best
    fails = 0
    rnd = 0
    while fails < 2:
        left = time_limit - (time.perf_counter() - t0)
        ub = int(best.sum())
        if left <= 0 or ub <= target:
            break
        sub = np.flatnonzero(used)
        y = local_search(B[sub], cur, time_limit=min(per, left), max_steps=10**9, seed=seed + rnd,
                         target=ub - 1, threads=threads)
        rnd += 1
        short = uncovered(y)
        if int(y.sum()) >= ub or short[sub].any():  # no smaller cover of the subset found
            fails += 1
            cur = best
            continue
        fails = 0
        if not short.any():
            best = cur = y
            continue
        used |= short
        left = time_limit - (time.perf_counter() - t0)
        if left <= 0:
            break
        z = local_search(B, y, time_limit=min(1.5 * per, left), max_steps=10**9, seed=seed + 1000 + rnd,
                         target=target, threads=threads, arrays=full)
        if int(z.sum()) < ub and not uncovered(z).any():
            best = cur = z
        else:
            cur = y  # covers the earlier subset; the next round starts from it
    return best


def lagrangian_bound(B: sp.csr_matrix, ub: float, *, time_limit: float, max_iters: int = 100_000,
                     lam0: float = 2.0, patience: int = 100, min_lam: float = 1e-4,
                     arrays=None) -> tuple[float, np.ndarray]:
    """Best Lagrangian lower bound ``max_u L(u)`` found on the unit-cost cover of ``B`` and its
    multipliers; stops early once the bound exceeds ``ub - 1`` (then ``ub`` is optimal)."""
    rptr, ridx, cptr, cidx = cover_arrays(B) if arrays is None else arrays
    m, n = B.shape
    if m == 0:
        return 0.0, np.zeros(0)
    cost = np.ones(n)
    size = np.diff(cptr).astype(float)
    per = 1.0 / np.maximum(size, 1.0)
    u = np.full(m, np.inf)
    np.minimum.at(u, np.repeat(np.arange(m), np.diff(rptr)), per[ridx])
    u[~np.isfinite(u)] = 0.0
    best_u = u.copy()
    bound = _lagrangian_search(rptr, ridx, cptr, cidx, cost, u, best_u, float(ub),
                               time.perf_counter() + max(time_limit, 0.0), int(max_iters), float(lam0),
                               int(patience), float(min_lam))
    return float(bound), u


def greedy_cover(B: sp.csr_matrix) -> np.ndarray:
    """Chvatal's greedy cover of all rows of ``B`` (most newly covered rows first), redundant
    columns dropped (latest pick first); bool per column. Raises ValueError when a row has no
    column."""
    rptr, ridx, cptr, cidx = cover_arrays(B)
    x = np.zeros(B.shape[1], dtype=np.bool_)
    if not _greedy_cover(rptr, ridx, cptr, cidx, x):
        raise ValueError("a row has no column: no cover exists")
    return x


def _spread_rows(B: sp.csr_matrix, order: np.ndarray, k: int, overlap: float = 0.85) -> np.ndarray:
    """Up to ``k`` rows from ``order`` whose column sets are not mostly (``overlap``) taken by the
    rows already picked (rows far apart add the most to a covering LP; 0.85 settled the LP of
    six engine covers 30-50 % faster than 0.3, which adds too few rows per round)."""
    mark = np.zeros(B.shape[1], dtype=bool)
    out = []
    ind, ptr = B.indices, B.indptr
    for i in order:
        cols = ind[ptr[i]:ptr[i + 1]]
        if cols.size and mark[cols].mean() > overlap:
            continue
        mark[cols] = True
        out.append(i)
        if len(out) >= k:
            break
    return np.asarray(out if out else order[:k], dtype=np.int64)


def lp_bound_rows(B: sp.csr_matrix, ub: float, *, time_limit: float) -> tuple[float, np.ndarray, np.ndarray, bool]:
    """Lower bound from the covering LP, solved over a growing subset of rows.

    The LP over some rows relaxes the LP over all rows, so each subset's value bounds every
    cover. Rows the subset's LP solution leaves uncovered are added (spread out, fewest covering
    columns first) until none is left (then the value is the full LP bound) or the time is up.
    A few thousand rows usually settle the LP of a city-sized instance with tens of thousands.
    Returns (bound, multipliers ``u`` on all rows (zero off the subset), the subset's rows, finished);
    the bound is recomputed as ``L(u)`` from ``u`` itself, so it is valid whatever the solver's
    tolerances.
    """
    import highspy

    t0 = time.perf_counter()
    B = sp.csr_matrix(B, dtype=bool)
    m, n = B.shape
    if m == 0:
        return 0.0, np.zeros(0), np.zeros(0, np.int64), True
    Bf = B.astype(float)
    h = quiet_highs(highspy)
    h.setOptionValue("output_flag", False)
    inf = highspy.kHighsInf
    h.addCols(n, np.ones(n), np.zeros(n), np.ones(n), 0, np.zeros(n, np.int32), np.zeros(0, np.int32), np.zeros(0))
    used = np.zeros(m, dtype=bool)
    order: list[np.ndarray] = []  # the LP's rows, in the order they were added

    def add(rows):
        sub = Bf[rows]
        h.addRows(len(rows), np.ones(len(rows)), np.full(len(rows), inf), sub.nnz,
                  sub.indptr[:-1].astype(np.int32), sub.indices.astype(np.int32), sub.data)
        used[rows] = True
        order.append(np.asarray(rows, dtype=np.int64))

    size = np.diff(B.indptr)
    per_round = max(100, m // 50)
    add(_spread_rows(B, np.argsort(size, kind="stable"), per_round))
    best, best_u = -math.inf, np.zeros(m)
    finished = False
    while True:
        left = time_limit - (time.perf_counter() - t0)
        if left <= 0:
            break
        # HiGHS measures its time limit over all runs of this instance, not per run
        h.setOptionValue("time_limit", float(h.getRunTime() + left))
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        sol = h.getSolution()
        u = np.zeros(m)
        u[np.concatenate(order)] = np.maximum(np.asarray(sol.row_dual, dtype=float), 0.0)
        rc = 1.0 - np.asarray(B.T @ u, dtype=float).ravel()
        L = float(u.sum() + np.minimum(rc, 0.0).sum())
        if L > best:
            best, best_u = L, u
        if best > ub - 1.0 + _EPS:
            break
        x = np.asarray(sol.col_value, dtype=float)
        cov = Bf @ x
        short = np.flatnonzero((cov < 1.0 - 1e-9) & ~used)
        if short.size == 0:
            finished = True
            break
        add(_spread_rows(B, short[np.argsort(cov[short], kind="stable")], per_round))
    return best, best_u, np.concatenate(order), finished
