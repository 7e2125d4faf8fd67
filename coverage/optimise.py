"""Station siting from a coverage matrix: set cover, maximal cover, backup cover and p-median.

The optimiser knows nothing of roads. It takes a demand x candidate matrix (numpy or scipy.sparse):
``covers[i, j]`` is True when a station at candidate ``j`` reaches demand unit ``i`` within the
standard (the engine builds it), or, for :func:`p_median`, response times in seconds.

Models (all keep existing ``fixed`` stations, force ``required`` sites, skip ``excluded`` ones and
honour per-district quotas on the NEW sites):

* :func:`min_cover` - fewest new sites covering all coverable demand (LSCP).
* :func:`max_cover` - best ``p`` new sites for maximum weighted covered demand (MCLP).
* :func:`max_cover_classes` - MCLP with several station classes, each with its own reach
  (its own covers matrix) and its own count (e.g. standard + small stations).
* :func:`backup_cover` - best ``p`` new sites for maximum demand weight covered at least twice.
* :func:`p_median` - best ``p`` new sites for minimum total weighted response time.

Exact answers come from HiGHS (``highspy``, sparse model built column-wise) after safe reductions:
demand already covered by fixed/required sites is dropped, uncoverable demand is dropped and
reported in ``.uncoverable``, identical demand rows are merged (weights summed), dominated demand
rows (set cover) and dominated candidate columns (same district, no minimum quota) are removed.
A greedy solution is computed first and passed to HiGHS as a MIP start; it is also the answer
with ``solver="greedy"`` or when HiGHS stops without a better one. Every result reports its
status, objective, best bound and relative gap.

Quotas: ``groups`` gives each candidate's district (any labels); ``group_min`` / ``group_max``
map a district label to the minimum / maximum number of NEW sites (required sites count, fixed
ones do not). The Luoyang case "8 small stations, >= 2 each in 涧西/西工/洛龙, >= 1 each in
老城/瀍河" is ``max_cover(covers_small, w, 8, fixed=existing, groups=district,
group_min={"涧西区": 2, "西工区": 2, "洛龙区": 2, "老城区": 1, "瀍河区": 1})``; with existing
stations of a longer reach use :func:`max_cover_classes`.
"""
from __future__ import annotations

import dataclasses
import functools
import inspect
import math
import time
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

import numpy as np
import scipy.sparse as sp

from coverage import _dominance, _setcover
from coverage._highs import quiet_highs as _quiet_highs
from coverage._numba import default_threads
from coverage.errors import InfeasibleError, InputError, NoPlanFoundError

__all__ = [
    "Solution",
    "min_cover",
    "max_cover",
    "max_cover_classes",
    "backup_cover",
    "p_median",
    "SOLVERS",
]

SOLVERS = ("highs", "greedy")
_EPS = 1e-9
_LARGE_COVER_NNZ = 500_000  # set-cover models above this size skip HiGHS's root LP (Lagrangian path)
_RESTRICTED_MIP_NNZ = 2_000_000  # largest restricted set-cover model given to HiGHS on that path
_RESTRICTED_MIP_GAP = 3  # ... and the widest gap (columns) it is asked to close
_LARGE_SPARSE_ROWS = 5_000  # sparse set covers with more demand rows also skip the root LP
# mean candidates per demand row from which a large set cover counts as dense (engine covers:
# hundreds; hydrant covers: about 15): its LP settles on few rows and local search starts there
_DENSE_ROW_LEN = 64
# with a strong start, branching on pseudocosts without strong-branching warm-up proved faster on
# set covers (500 x 2,500 geometric, eight instances not used for the choice: 27.6 s -> 13.7 s in total)
_PSCOST_MINRELIABLE = 0


# ----------------------------------------------------------------------------------------------
# result
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Solution:
    """The answer of one model; every field is always present.

    Attributes
    ----------
    model : str
        ``"lscp"``, ``"mclp"``, ``"mclp_classes"``, ``"backup"`` or ``"pmedian"``.
    selected : numpy.ndarray
        Sorted candidate indices of all stations in the plan (fixed ones included).
    new : numpy.ndarray
        ``selected`` minus the fixed sites (required sites are new).
    fixed : numpy.ndarray
        The fixed (existing) sites.
    objective : float
        lscp: number of new sites; mclp/classes: weight of covered demand (fixed coverage
        included); backup: weight of demand covered at least twice; pmedian: total weighted
        response time in seconds (unreached demand at ``penalty_s``).
    bound : float
        Best proven bound on the objective (lower bound when minimising, upper when maximising).
    gap : float
        ``|objective - bound| / |objective|``; 0.0 when proven optimal.
    status : str
        ``"optimal"``, ``"gap_limit"`` (stopped within ``mip_gap``), ``"time_limit"`` (best found
        when the time ran out) or ``"greedy"`` (greedy answer, ``solver="greedy"``).
    covered : numpy.ndarray
        Boolean per demand unit: reached by at least one selected site.
    covered_before, covered_after : float
        Demand weight covered by the fixed sites alone, and by the whole plan.
    uncoverable : numpy.ndarray
        Demand indices that no allowed candidate or fixed site reaches (kept out of the model,
        never silently dropped).
    marginal : numpy.ndarray
        Aligned with ``selected``: what each site adds when the plan is built in this order -
        fixed sites (index order), then required ones, then the other new sites, each time the
        one adding most. Coverage models: newly covered demand weight; pmedian: weighted
        seconds saved (against ``penalty_s``).
    unique : numpy.ndarray
        Aligned with ``selected``: demand weight covered by that site and no other selected site
        (pmedian: weight for which it is the only reachable selected site).
    site_class : numpy.ndarray or None
        Class name per selected site for :func:`max_cover_classes`, else None.
    solve_seconds : float
        Wall-clock seconds of the whole call (validation, reductions, solving).
    stats : Mapping[str, float]
        Model sizes before/after reductions and timings.
    """

    model: str
    selected: np.ndarray
    new: np.ndarray
    fixed: np.ndarray
    objective: float
    bound: float
    gap: float
    status: str
    covered: np.ndarray
    covered_before: float
    covered_after: float
    uncoverable: np.ndarray
    marginal: np.ndarray
    unique: np.ndarray
    site_class: np.ndarray | None
    solve_seconds: float
    stats: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def p(self) -> int:
        """Number of new sites."""
        return int(self.new.size)


# ----------------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------------
def _bool_matrix(covers, name: str = "covers") -> sp.csr_matrix:
    """Validate a boolean demand x candidate matrix; return CSR with int32 ones."""
    if sp.issparse(covers):
        if covers.ndim != 2:
            raise InputError(f"{name} must be 2-D (demand x candidate); got shape {covers.shape}")
        c = covers.tocoo()
        data = c.data  # checked entry by entry (before duplicates are summed)
    else:
        try:
            arr = np.asarray(covers)
        except Exception as exc:  # pragma: no cover - exotic inputs
            raise InputError(f"{name} must be a numpy array or scipy.sparse matrix: {exc}") from None
        if arr.ndim != 2:
            raise InputError(
                f"{name} must be a 2-D boolean demand x candidate matrix; got shape {arr.shape}"
            )
        if arr.dtype == object:
            raise InputError(f"{name} must hold booleans; got an object array")
        data = arr.ravel()
    if data.dtype != bool:
        if not np.issubdtype(data.dtype, np.number):
            raise InputError(f"{name} must hold booleans; got dtype {data.dtype}")
        bad = ~np.isin(data, (0, 1))
        if bad.any():
            hint = ("; a 2 may be a duplicate (row, column) entry that scipy summed when building "
                    "a CSR/CSC matrix: build it with boolean data" if sp.issparse(covers) else "")
            raise InputError(
                f"{name} must be boolean (0/1); found value {data[bad][0].item()!r} - for travel times "
                f"pass `times <= limit` or use p_median{hint}"
            )
    if sp.issparse(covers):
        # stored False / 0 entries are not coverage (a thresholded sparse time matrix keeps them);
        # duplicate entries are summed here and set back to 1 below
        keep = data != 0
        m = sp.csr_matrix((np.ones(int(keep.sum()), dtype=np.int32), (c.row[keep], c.col[keep])),
                          shape=c.shape)
    else:
        m = sp.csr_matrix(arr.astype(bool), dtype=np.int32)
    n_dem, n_cand = m.shape
    if n_cand == 0:
        raise InputError(f"{name} has no candidate columns (shape {m.shape}); need at least one")
    if n_dem == 0:
        raise InputError(f"{name} has no demand rows (shape {m.shape}); need at least one")
    m.sum_duplicates()
    m.data[:] = 1
    m.sort_indices()
    return m


def _scaled_weights(fn):
    """Solve with weights scaled by a power of two so that the largest lies in [1, 2) when it is
    below 1, and scale the answer back (exactly: powers of two). The solvers' absolute
    tolerances (HiGHS's gaps, greedy's zero gain) would otherwise treat tiny weights as ties
    and return a plan far from the best labelled optimal."""

    sig = inspect.signature(fn)

    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            bound = sig.bind(*args, **kwargs)
        except TypeError:
            return fn(*args, **kwargs)  # the model's own error
        weights = bound.arguments.get("weights")
        k = 1.0
        if weights is not None:
            try:
                w = np.asarray(weights, dtype=float)
            except (TypeError, ValueError):
                w = None  # the model's own check names the problem
            if w is not None and w.size and np.isfinite(w).all() and (w >= 0).all() and 0 < w.max() < 1:
                k = 2.0 ** (math.floor(math.log2(float(w.max()))))
                bound.arguments["weights"] = w / k
        sol = fn(*bound.args, **bound.kwargs)
        if k == 1.0:
            return sol
        return dataclasses.replace(
            sol, objective=sol.objective * k, bound=sol.bound * k, covered_before=sol.covered_before * k,
            covered_after=sol.covered_after * k, marginal=sol.marginal * k, unique=sol.unique * k)

    return run


def _weights(weights, n_dem: int) -> np.ndarray:
    if weights is None:
        return np.ones(n_dem)
    try:
        w = np.asarray(weights, dtype=float).ravel()
    except (TypeError, ValueError):
        raise InputError("weights must be numbers, one per demand unit") from None
    if w.size != n_dem:
        raise InputError(f"weights must have one value per demand row ({n_dem}); got {w.size}")
    bad = ~np.isfinite(w)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(f"weights must be finite; weights[{i}] is {w[i]}")
    if (w < 0).any():
        i = int(np.flatnonzero(w < 0)[0])
        raise InputError(f"weights must be >= 0; weights[{i}] is {w[i]}")
    return w


def _indices(value, n: int, name: str) -> np.ndarray:
    if value is None:
        return np.zeros(0, dtype=np.int64)
    arr = np.asarray(value)
    if arr.dtype == bool:
        if arr.ndim != 1 or arr.size != n:
            raise InputError(f"{name} as a boolean mask must have length {n}; got shape {arr.shape}")
        return np.flatnonzero(arr).astype(np.int64)
    arr = arr.ravel()
    if arr.size == 0:
        return np.zeros(0, dtype=np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise InputError(f"{name} must be candidate indices (integers); got {value!r}")
    bad = (arr < 0) | (arr >= n)
    if bad.any():
        raise InputError(
            f"{name} index {int(arr[bad][0])} is out of range; candidates are 0..{n - 1}"
        )
    return np.unique(arr.astype(np.int64))


def _count(p, name: str = "p") -> int:
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, (int, np.integer)):
        if isinstance(p, (float, np.floating)) and float(p).is_integer():
            p = int(p)
        else:
            raise InputError(f"{name} must be a whole number of new sites; got {p!r}")
    p = int(p)
    if p < 0:
        raise InputError(f"{name} must be >= 0 new sites; got {p}")
    return p


@dataclass(frozen=True)
class _Options:
    n_cand: int
    fixed: np.ndarray
    required: np.ndarray
    excluded: np.ndarray  # bool mask
    group_code: np.ndarray  # int code per candidate (0 when no groups)
    group_label: tuple
    lo: np.ndarray  # per group code, min NEW sites (required included)
    hi: np.ndarray  # per group code, max NEW sites
    time_limit_s: float
    mip_gap: float
    solver: str
    progress: bool

    @property
    def free(self) -> np.ndarray:
        """Candidates open to the model: not fixed, not required, not excluded."""
        mask = ~self.excluded.copy()
        mask[self.fixed] = False
        mask[self.required] = False
        return np.flatnonzero(mask)

    @property
    def decided(self) -> np.ndarray:
        return np.union1d(self.fixed, self.required)

    def req_per_group(self) -> np.ndarray:
        return np.bincount(self.group_code[self.required], minlength=self.lo.size)

    @property
    def lo_free(self) -> np.ndarray:
        return np.maximum(self.lo - self.req_per_group(), 0)

    @property
    def hi_free(self) -> np.ndarray:
        return self.hi - self.req_per_group()


def _options(
    n_cand: int,
    *,
    fixed,
    required,
    excluded,
    groups,
    group_min,
    group_max,
    time_limit_s,
    mip_gap,
    solver,
    progress,
    p: int | None = None,
) -> _Options:
    if solver not in SOLVERS:
        raise InputError(f"solver must be one of {SOLVERS}; got {solver!r}")
    try:
        tl = float(time_limit_s)
    except (TypeError, ValueError):
        raise InputError(f"time_limit_s must be seconds > 0; got {time_limit_s!r}") from None
    if not (tl > 0 and math.isfinite(tl)):
        raise InputError(f"time_limit_s must be a finite number of seconds > 0 (e.g. 3600 for an "
                         f"hour); got {time_limit_s!r}")
    try:
        gap = float(mip_gap)
    except (TypeError, ValueError):
        raise InputError(f"mip_gap must be a fraction in [0, 1); got {mip_gap!r}") from None
    if not 0 <= gap < 1:
        raise InputError(f"mip_gap must be a fraction in [0, 1); got {mip_gap!r}")
    fx = _indices(fixed, n_cand, "fixed")
    rq = _indices(required, n_cand, "required")
    ex_idx = _indices(excluded, n_cand, "excluded")
    both = np.intersect1d(fx, ex_idx)
    if both.size:
        raise InputError(f"candidate {int(both[0])} is both fixed and excluded; drop it from one")
    both = np.intersect1d(rq, ex_idx)
    if both.size:
        raise InputError(f"candidate {int(both[0])} is both required and excluded; drop it from one")
    both = np.intersect1d(rq, fx)
    if both.size:
        raise InputError(
            f"candidate {int(both[0])} is both fixed (existing) and required (new); drop it from one"
        )
    ex = np.zeros(n_cand, dtype=bool)
    ex[ex_idx] = True

    group_min = dict(group_min or {})
    group_max = dict(group_max or {})
    if groups is None:
        if group_min or group_max:
            raise InputError("group_min/group_max quotas need `groups` (a district id per candidate)")
        code = np.zeros(n_cand, dtype=np.int64)
        labels: tuple = (None,)
    else:
        g = np.asarray(groups).ravel()
        if g.size != n_cand:
            raise InputError(f"groups must give one district per candidate ({n_cand}); got {g.size}")
        if g.dtype.kind == "f" and np.isnan(g).any():
            raise InputError("groups must not contain NaN; give every candidate a district id")
        if g.dtype == object:
            missing = [i for i, v in enumerate(g.tolist()) if v is None or (isinstance(v, float) and v != v)]
            if missing:
                raise InputError(f"groups has no district for candidate(s) {missing[:5]}: give every "
                                 "candidate a district id (e.g. '' for none)")
        try:
            uniq, code = np.unique(g, return_inverse=True)
        except TypeError:
            raise InputError("groups mixes kinds of district id (e.g. numbers and names): use one "
                             "kind, e.g. all names") from None
        labels = tuple(u.item() if hasattr(u, "item") else u for u in uniq)
        code = code.astype(np.int64)
    lookup = {lab: k for k, lab in enumerate(labels)}
    n_g = len(labels)
    lo = np.zeros(n_g, dtype=np.int64)
    hi = np.full(n_g, np.iinfo(np.int64).max // 4, dtype=np.int64)
    for quota, arr, name in ((group_min, lo, "group_min"), (group_max, hi, "group_max")):
        for lab, val in quota.items():
            key = lab.item() if isinstance(lab, np.generic) else lab
            if key not in lookup or groups is None:
                raise InputError(
                    f"{name} names district {lab!r} but no candidate is in it "
                    f"(districts with candidates: {sorted(map(str, labels))[:10]})"
                )
            arr[lookup[key]] = _count(val, f"{name}[{lab!r}]")
    for k in range(n_g):
        if lo[k] > hi[k]:
            raise InputError(
                f"district {labels[k]!r}: its minimum quota (group_min) {lo[k]} is larger than its "
                f"maximum (group_max) {hi[k]}"
            )
    opts = _Options(n_cand, fx, rq, ex, code, labels, lo, hi, tl, gap, solver, bool(progress))
    # feasibility of quotas against what is available
    req_g = opts.req_per_group()
    avail = np.bincount(code[opts.free], minlength=n_g)
    for k in range(n_g):
        if req_g[k] > hi[k]:
            raise InfeasibleError(
                f"district {labels[k]!r}: {req_g[k]} required sites exceed its maximum quota "
                f"(group_max) {hi[k]}"
            )
        if lo[k] - req_g[k] > avail[k]:
            raise InfeasibleError(
                f"district {labels[k]!r} needs at least {lo[k]} new sites but has only "
                f"{avail[k] + req_g[k]} available candidates (not fixed or excluded)"
            )
    if p is not None:
        n_avail = int(opts.free.size + rq.size)
        if p > n_avail:
            raise InputError(
                f"p={p} new sites asked but only {n_avail} candidates are available "
                f"({n_cand} in all, {fx.size} fixed, {int(ex.sum())} excluded)"
            )
        if rq.size > p:
            raise InfeasibleError(f"{rq.size} required sites exceed the {p} new sites asked (p={p}; "
                                  "--new or optimise.new in a scenario)")
        need = int(np.maximum(lo, req_g).sum())
        if need > p:
            raise InfeasibleError(
                f"district minimum quotas (group_min, counting required sites) need {need} new sites "
                f"but p={p} are asked (--new or optimise.new in a scenario)"
            )
        # the most new sites each district can take: its maximum, or all it has
        room = np.minimum(hi, avail + req_g)
        if int(room.sum()) < p:
            capped = [k for k in range(n_g) if hi[k] < avail[k] + req_g[k]]
            rest = int(room.sum() - room[capped].sum())
            raise InfeasibleError(
                f"district maximum quotas allow at most {int(room.sum())} new sites but p={p}: "
                + ", ".join(f"{labels[k]!r} max {int(hi[k])}" for k in capped)
                + (f", plus {rest} candidate(s) in districts without a maximum" if rest
                   else " (every other candidate lies in these districts)")
                + f": raise the maxima (group_max; optimise.quotas max in a scenario) or ask for at "
                f"most {int(room.sum())} new sites (--new)"
            )
    return opts


# ----------------------------------------------------------------------------------------------
# reductions
# ----------------------------------------------------------------------------------------------
def _row_keys(B: sp.csr_matrix, extra: np.ndarray | None = None) -> np.ndarray:
    """Representative row index for each row of identical rows (exact, hash + verify)."""
    n = B.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(12345)
    r1 = rng.random(B.shape[1])
    r2 = rng.random(B.shape[1])
    h1 = B @ r1
    h2 = B @ r2
    nnz = np.diff(B.indptr)
    ex = np.zeros(n) if extra is None else np.asarray(extra, dtype=float)
    order = np.lexsort((h2, h1, nnz, ex))
    rep = np.arange(n, dtype=np.int64)
    keys = np.column_stack([ex[order], nnz[order], h1[order], h2[order]])
    same = np.all(keys[1:] == keys[:-1], axis=1)
    # verify equal-hash runs exactly
    ind, ptr = B.indices, B.indptr
    start = 0
    for pos in range(1, n + 1):
        if pos < n and same[pos - 1]:
            continue
        if pos - start > 1:
            members = order[start:pos]
            heads: list[int] = []
            for m in members:
                row = ind[ptr[m]:ptr[m + 1]]
                for h in heads:
                    if np.array_equal(row, ind[ptr[h]:ptr[h + 1]]):
                        rep[m] = h
                        break
                else:
                    heads.append(int(m))
        start = pos
    # make the representative the lowest index of its class
    lowest = np.full(n, n, dtype=np.int64)
    np.minimum.at(lowest, rep, np.arange(n))
    return lowest[rep]


def _merge_rows(B: sp.csr_matrix, w: np.ndarray, extra=None) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """Merge identical rows, summing weights; returns (B', w', kept original row positions)."""
    rep = _row_keys(B, extra)
    keep = np.flatnonzero(rep == np.arange(rep.size))
    wsum = np.bincount(rep, weights=w, minlength=rep.size)[keep]
    return B[keep], wsum, keep


def _dominated(M: sp.csr_matrix, cls: np.ndarray | None, protect: np.ndarray | None) -> np.ndarray:
    """Rows of ``M`` whose index set contains (or equals, higher index) another row's set.

    Row ``k`` is flagged when some row ``i`` of the same class has ``S_i`` a subset of ``S_k``
    (strict, or equal with ``i < k``). Flagged rows are implied by their subset rows (set
    cover). Returns a boolean mask (``protect``-ed rows never flagged).
    """
    out = _dominance.supersets(M, cls)
    if protect is not None:
        out &= ~protect
    return out


def _dominated_subsets(M: sp.csr_matrix, cls: np.ndarray | None, protect: np.ndarray | None) -> np.ndarray:
    """Rows of ``M`` whose set is contained in another row's set of the same class (strict, or
    equal with a lower index), and empty rows: used for dominated candidate columns (pass ``B.T``)."""
    out = _dominance.subsets(M, cls) | (np.diff(sp.csr_matrix(M).indptr) == 0)
    if protect is not None:
        out &= ~protect
    return out


# ----------------------------------------------------------------------------------------------
# HiGHS
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _MipOut:
    x: np.ndarray | None
    objective: float
    bound: float
    status: str  # optimal / time_limit / infeasible / other


def _run_highs(
    cost: np.ndarray,
    lb: np.ndarray,
    ub: np.ndarray,
    is_int: np.ndarray,
    A: sp.csc_matrix,
    row_lo: np.ndarray,
    row_hi: np.ndarray,
    *,
    maximize: bool,
    start: np.ndarray | None,
    time_limit: float,
    mip_gap: float,
    log: bool,
    heuristics: bool = True,
    mip_abs_gap: float | None = None,
) -> _MipOut:
    """Solve with HiGHS. ``mip_abs_gap`` defaults to HiGHS's 1e-6 scaled down with the costs
    (tiny weights would otherwise stop it at once, with a plan far from the best)."""
    import highspy

    inf = highspy.kHighsInf
    n = cost.size
    A = sp.csc_matrix(A)
    h = _quiet_highs(highspy) if not log else highspy.Highs()
    h.setOptionValue("output_flag", bool(log))
    lp = highspy.HighsLp()
    lp.num_col_ = int(n)
    lp.num_row_ = int(A.shape[0])
    lp.col_cost_ = np.asarray(cost, dtype=float)
    lp.col_lower_ = np.asarray(lb, dtype=float)
    lp.col_upper_ = np.asarray(ub, dtype=float)
    lp.row_lower_ = np.where(np.isfinite(row_lo), row_lo, -inf).astype(float)
    lp.row_upper_ = np.where(np.isfinite(row_hi), row_hi, inf).astype(float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    lp.a_matrix_.num_col_ = int(n)
    lp.a_matrix_.num_row_ = int(A.shape[0])
    lp.integrality_ = [
        highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous for b in is_int
    ]
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    h.passModel(lp)
    h.setOptionValue("time_limit", float(max(time_limit, 0.01)))
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    if mip_abs_gap is None:
        nz = np.abs(np.asarray(cost, float))
        nz = nz[nz > 0]
        mip_abs_gap = 1e-6 * min(1.0, float(np.median(nz))) if nz.size else 1e-6
    h.setOptionValue("mip_abs_gap", float(mip_abs_gap))
    if start is not None:
        # HiGHS 1.16 mishandles a start when presolve removes columns with an objective offset:
        # it returns the start as "optimal" with the offset missing from objective and bound
        # (tests/test_optimise.py::test_highs_start_is_never_reported_wrongly). Without presolve
        # the start is handled correctly.
        h.setOptionValue("presolve", "off")
    if not heuristics:  # the start is already strong: spend the time on the bound
        h.setOptionValue("mip_pscost_minreliable", _PSCOST_MINRELIABLE)
        h.setOptionValue("mip_allow_cut_separation_at_nodes", False)  # 10-20 % faster on the same covers
        h.setOptionValue("mip_heuristic_effort", 0.0)
        for opt in ("mip_heuristic_run_feasibility_jump", "mip_heuristic_run_rins", "mip_heuristic_run_rens",
                    "mip_heuristic_run_root_reduced_cost"):
            h.setOptionValue(opt, False)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = np.asarray(start, dtype=float).tolist()
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    ms = h.getModelStatus()
    info = h.getInfo()
    S = highspy.HighsModelStatus
    if ms == S.kInfeasible:
        return _MipOut(None, math.nan, math.nan, "infeasible")
    has = info.primal_solution_status == 2
    x = np.asarray(h.getSolution().col_value, dtype=float) if has else None
    if ms == S.kOptimal:
        status = "optimal"
    elif ms == S.kTimeLimit:
        status = "time_limit"
    else:
        status = h.modelStatusToString(ms).lower().replace(" ", "_")
    bound = float(info.mip_dual_bound)
    if not np.isfinite(bound):
        bound = math.inf if maximize else -math.inf
    objective = float(info.objective_function_value)
    if x is not None:
        # never trust a reported objective the returned plan does not have
        value = float(np.dot(cost, x))
        if abs(value - objective) > 1e-6 * max(1.0, abs(value)):
            if start is not None and time_limit > 1.0:
                return _run_highs(cost, lb, ub, is_int, A, row_lo, row_hi, maximize=maximize, start=None,
                                  time_limit=time_limit / 2, mip_gap=mip_gap, log=log, heuristics=True,
                                  mip_abs_gap=mip_abs_gap)
            status = "solver_inconsistent"
            objective = value
            bound = math.inf if maximize else -math.inf
    return _MipOut(x, objective, bound, status)


def _gap(obj: float, bound: float, maximize: bool) -> float:
    if not (np.isfinite(obj) and np.isfinite(bound)):
        return math.inf
    diff = (bound - obj) if maximize else (obj - bound)
    diff = max(diff, 0.0)
    if diff <= 1e-9 * abs(obj) or diff == 0.0:  # relative: weights may be tiny
        return 0.0
    return diff / max(abs(obj), _EPS)


def _status(mip: _MipOut, gap: float) -> str:
    if gap == 0.0:  # proven, also when HiGHS stopped with a bound that rounds up to the plan
        return "optimal"
    return "gap_limit" if mip.status == "optimal" else mip.status



# ----------------------------------------------------------------------------------------------
# large maximal-cover instances: Lagrangian bound and swap search
# ----------------------------------------------------------------------------------------------
def _select_top(c: np.ndarray, col_group: np.ndarray, lo: np.ndarray, hi: np.ndarray, p: int) -> np.ndarray | None:
    """The ``p`` columns of largest ``c`` with per-group min/max counts (exact for this linear
    choice: every group's minimum first from its best columns, then the best of the rest)."""
    order = np.argsort(-c, kind="stable")
    count = np.zeros(lo.size, dtype=np.int64)
    chosen = np.zeros(c.size, dtype=bool)
    for g in np.flatnonzero(lo > 0):
        cols = order[col_group[order] == g][: int(lo[g])]
        if cols.size < lo[g]:
            return None
        chosen[cols] = True
        count[g] += cols.size
    left = p - int(chosen.sum())
    for j in order:
        if left <= 0:
            break
        g = col_group[j]
        if chosen[j] or count[g] >= hi[g]:
            continue
        chosen[j] = True
        count[g] += 1
        left -= 1
    return np.flatnonzero(chosen)


def _covered_value(Bc: sp.csc_matrix, w: np.ndarray, cols) -> float:
    """Weight of rows covered by the columns ``cols`` (``Bc`` in CSC for fast column access)."""
    cols = np.asarray(cols, dtype=np.int64)
    if cols.size == 0:
        return 0.0
    hit = np.zeros(Bc.shape[0], dtype=bool)
    for j in cols:
        hit[Bc.indices[Bc.indptr[j]:Bc.indptr[j + 1]]] = True
    return float(w[hit].sum())


def _swap_search(B: sp.csr_matrix, Bt: sp.csr_matrix, w: np.ndarray, cols: np.ndarray, col_group: np.ndarray,
                 lo: np.ndarray, hi: np.ndarray, deadline: float) -> np.ndarray:
    """1-swap local search (out one site, in another) keeping the group counts within quotas."""
    cols = [int(j) for j in cols]
    Bc = B.tocsc()
    while time.perf_counter() < deadline and cols:
        cnt = np.zeros(B.shape[0], dtype=np.int64)
        for j in cols:
            cnt[Bc.indices[Bc.indptr[j]:Bc.indptr[j + 1]]] += 1
        count = np.bincount(col_group[cols], minlength=lo.size)
        best = (1e-9 * max(1.0, float(w.sum())), None, None)
        inset = np.zeros(B.shape[1], dtype=bool)
        inset[cols] = True
        for j in cols:
            rows_j = Bc.indices[Bc.indptr[j]:Bc.indptr[j + 1]]
            loss = float(w[rows_j][cnt[rows_j] == 1].sum())
            c2 = cnt.copy()
            c2[rows_j] -= 1
            gain = Bt @ (w * (c2 == 0))
            gj = col_group[j]
            ok = ~inset & (count[col_group] - (col_group == gj) < hi[col_group])
            if count[gj] - 1 < lo[gj]:
                ok &= col_group == gj
            if not ok.any():
                continue
            k = int(np.argmax(np.where(ok, gain, -np.inf)))
            delta = float(gain[k]) - loss
            if delta > best[0]:
                best = (delta, j, k)
        if best[1] is None:
            break
        cols[cols.index(best[1])] = best[2]
    return np.asarray(sorted(cols), dtype=np.int64)


def _lagrangian_mclp(B: sp.csr_matrix, w: np.ndarray, start: np.ndarray, col_group: np.ndarray,
                     lo: np.ndarray, hi: np.ndarray, p: int, *, seconds: float, iterations: int = 2000):
    """Upper bound on the covered weight by Lagrangian relaxation of ``y_i <= sum_j a_ij x_j``
    (subgradient steps), and the best plan met on the way (swap-improved).

    For multipliers ``lam >= 0``: ``L(lam) = sum_i max(0, w_i - lam_i) + max over feasible x of
    sum_j x_j sum_i a_ij lam_i``, an upper bound on every plan's covered weight.
    """
    t_end = time.perf_counter() + seconds
    Bt = B.T.tocsr()
    Bc = B.tocsc()
    best_cols = np.asarray(start, dtype=np.int64)
    lb = _covered_value(Bc, w, best_cols)
    ub = math.inf
    lam = w.astype(float).copy()
    theta = 1.0
    stall = 0
    for _ in range(iterations):
        if time.perf_counter() > t_end:
            break
        c = Bt @ lam
        x = _select_top(c, col_group, lo, hi, p)
        if x is None:
            break
        y = w > lam
        val = float((w - lam)[y].sum() + c[x].sum())
        if not math.isfinite(ub) or val < ub - 1e-9 * max(1.0, abs(ub)):
            ub = val
            stall = 0
        else:
            stall += 1
            if stall >= 20:
                theta /= 2
                stall = 0
        cand = _covered_value(Bc, w, x)
        if cand > lb:
            lb, best_cols = cand, x
        covx = np.zeros(B.shape[0])
        for j in x:
            covx[Bc.indices[Bc.indptr[j]:Bc.indptr[j + 1]]] += 1.0
        g = y.astype(float) - covx
        norm = float(g @ g)
        if norm == 0 or ub - lb <= 1e-9 * max(1.0, lb):
            break
        lam = np.clip(lam - theta * (ub - lb) / norm * g, 0.0, w)
    best_cols = _swap_search(B, Bt, w, best_cols, col_group, lo, hi, max(t_end, time.perf_counter() + 0.5 * seconds))
    lb = max(lb, _covered_value(Bc, w, best_cols))
    return best_cols, lb, ub

# ----------------------------------------------------------------------------------------------
# greedy
# ----------------------------------------------------------------------------------------------
@dataclass
class _Slots:
    """Count limits for greedy picks over model columns."""

    col_group: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    total: int
    col_class: np.ndarray | None = None
    class_cap: np.ndarray | None = None
    col_cand: np.ndarray | None = None

    def __post_init__(self):
        self.g_count = np.zeros(self.lo.size, dtype=np.int64)
        self.c_count = None if self.class_cap is None else np.zeros(self.class_cap.size, dtype=np.int64)
        self.used_cand: set[int] = set()
        self.n = 0

    def eligible(self, chosen: np.ndarray) -> np.ndarray:
        ok = ~chosen & (self.g_count[self.col_group] < self.hi[self.col_group])
        if self.c_count is not None:
            ok &= self.c_count[self.col_class] < self.class_cap[self.col_class]
        if self.col_cand is not None and self.used_cand:
            ok &= ~np.isin(self.col_cand, np.fromiter(self.used_cand, dtype=np.int64))
        unmet = np.maximum(self.lo - self.g_count, 0)
        if unmet.sum() >= self.total - self.n:
            ok &= unmet[self.col_group] > 0
        return ok

    def take(self, j: int) -> None:
        self.g_count[self.col_group[j]] += 1
        if self.c_count is not None:
            self.c_count[self.col_class[j]] += 1
        if self.col_cand is not None:
            self.used_cand.add(int(self.col_cand[j]))
        self.n += 1

    def mins_met(self) -> bool:
        return bool((self.g_count >= self.lo).all())


def _greedy_cover(B: sp.csr_matrix, w: np.ndarray, slots: _Slots, *, cover_all: bool) -> tuple[list[int], list[float], np.ndarray]:
    """Greedy coverage: repeatedly add the column covering most uncovered weight.

    ``cover_all``: continue until all rows are covered and minimum quotas met (set cover);
    otherwise stop at ``slots.total`` picks or when nothing more helps and quotas are met.
    Returns (picked columns in order, their gains, final gains of all columns).
    """
    n_rows, n_cols = B.shape
    Bc = B.tocsc()
    unc = np.ones(n_rows, dtype=bool)
    gains = np.asarray(B.T @ w, dtype=float).ravel() if n_rows else np.zeros(n_cols)
    chosen = np.zeros(n_cols, dtype=bool)
    picked: list[int] = []
    gained: list[float] = []
    while slots.n < slots.total:
        done = not unc.any() if cover_all else False
        if done and slots.mins_met():
            break
        ok = slots.eligible(chosen)
        if not ok.any():
            break
        cand = np.where(ok, gains, -np.inf)
        j = int(np.argmax(cand))
        if cand[j] <= _EPS and slots.mins_met():
            break
        chosen[j] = True
        slots.take(j)
        picked.append(j)
        gained.append(float(max(cand[j], 0.0)))
        rows = Bc.indices[Bc.indptr[j]:Bc.indptr[j + 1]]
        rows = rows[unc[rows]]
        if rows.size:
            unc[rows] = False
            sub = B[rows]
            gains -= np.bincount(sub.indices, weights=np.repeat(w[rows], np.diff(sub.indptr)), minlength=n_cols)
    return picked, gained, gains


def _packing_lower_bound(B: sp.csr_matrix) -> int:
    """Rows with pairwise disjoint candidate sets: each needs its own site (set-cover bound)."""
    n = B.shape[0]
    if n == 0:
        return 0
    Bc = B.tocsc()
    blocked = np.zeros(n, dtype=bool)
    count = 0
    for i in np.argsort(np.diff(B.indptr), kind="stable"):
        if blocked[i]:
            continue
        count += 1
        cols = B.indices[B.indptr[i]:B.indptr[i + 1]]
        for j in cols:
            blocked[Bc.indices[Bc.indptr[j]:Bc.indptr[j + 1]]] = True
    return count


# ----------------------------------------------------------------------------------------------
# reporting helpers
# ----------------------------------------------------------------------------------------------
def site_gains(S, w: np.ndarray, first=()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Build a plan up site by site and say what each site adds.

    Parameters
    ----------
    S : (n_demand, k) bool matrix (numpy or scipy.sparse)
        What each of the plan's ``k`` sites covers.
    w : (n_demand,) array
        Demand weights.
    first : sequence of int
        Column positions added first, in this order (existing stations, then required sites);
        the rest are added greedily, each time the one newly covering the most weight.

    Returns
    -------
    order : numpy.ndarray
        Column positions in build order.
    marginal : numpy.ndarray
        Per column: weight it newly covers when added in that order.
    unique : numpy.ndarray
        Per column: weight covered by that column and no other.
    """
    S = sp.csc_matrix(S, dtype=bool)
    w = np.asarray(w, dtype=float)
    order_first = np.asarray(first, dtype=np.int64)
    k = S.shape[1]
    marginal = np.zeros(k)
    if k == 0:
        return np.zeros(0, dtype=np.int64), marginal, np.zeros(0)
    R = S.tocsr()
    cnt = np.asarray(R.sum(axis=1)).ravel()
    only = cnt == 1
    unique = np.asarray(S[only].T @ w[only]).ravel() if only.any() else np.zeros(k)
    unc = np.ones(S.shape[0], dtype=bool)
    done = np.zeros(k, dtype=bool)
    gains = np.asarray(S.T @ w, dtype=float).ravel()
    seq = list(order_first)
    order = []
    while not done.all():
        if seq:
            j = int(seq.pop(0))
            if done[j]:  # listed twice
                continue
        else:
            j = int(np.argmax(np.where(done, -np.inf, gains)))
        done[j] = True
        order.append(j)
        marginal[j] = max(gains[j], 0.0)
        rows = S.indices[S.indptr[j]:S.indptr[j + 1]]
        rows = rows[unc[rows]]
        if rows.size:
            unc[rows] = False
            sub = R[rows]
            gains -= np.bincount(sub.indices, weights=np.repeat(w[rows], np.diff(sub.indptr)), minlength=k)
    return np.asarray(order, dtype=np.int64), marginal, unique


def _coverage_solution(
    model: str,
    A: sp.csr_matrix,
    w: np.ndarray,
    opts: _Options,
    new_free: np.ndarray,
    objective: float,
    bound: float,
    gap: float,
    status: str,
    uncoverable: np.ndarray,
    t0: float,
    stats: dict,
) -> Solution:
    new = np.union1d(opts.required, new_free).astype(np.int64)
    selected = np.union1d(opts.fixed, new).astype(np.int64)
    Ac = A.tocsc()
    S = Ac[:, selected]
    covered = np.asarray(S.sum(axis=1)).ravel() > 0
    before = float(w[np.asarray(Ac[:, opts.fixed].sum(axis=1)).ravel() > 0].sum()) if opts.fixed.size else 0.0
    pos = {c: k for k, c in enumerate(selected)}
    first = [pos[c] for c in opts.fixed] + [pos[c] for c in opts.required]
    _, marginal, unique = site_gains(S, w, first)
    stats["seconds"] = time.perf_counter() - t0
    return Solution(
        model=model,
        selected=selected,
        new=new,
        fixed=opts.fixed.copy(),
        objective=float(objective),
        bound=float(bound),
        gap=float(gap),
        status=status,
        covered=covered,
        covered_before=before,
        covered_after=float(w[covered].sum()),
        uncoverable=uncoverable.astype(np.int64),
        marginal=marginal,
        unique=unique,
        site_class=None,
        solve_seconds=time.perf_counter() - t0,
        stats=MappingProxyType(dict(stats)),
    )


def _group_rows(col_group: np.ndarray, lo: np.ndarray, hi: np.ndarray, n_cols: int, total: int | None):
    """Quota rows (only districts with a binding quota) and an optional total row."""
    rows, lows, highs = [], [], []
    big = np.iinfo(np.int64).max // 8
    n_in = np.bincount(col_group, minlength=lo.size)
    for g in range(lo.size):
        if lo[g] > 0 or hi[g] < n_in[g]:
            rows.append((col_group == g).astype(float))
            lows.append(float(lo[g]))
            highs.append(float(hi[g]) if hi[g] < big else math.inf)
    if total is not None:
        rows.append(np.ones(n_cols))
        lows.append(-math.inf)
        highs.append(float(total))
    if not rows:
        return sp.csr_matrix((0, n_cols)), np.zeros(0), np.zeros(0)
    return sp.csr_matrix(np.vstack(rows)), np.asarray(lows), np.asarray(highs)


# ----------------------------------------------------------------------------------------------
# set cover
# ----------------------------------------------------------------------------------------------
def min_cover(
    covers,
    *,
    fixed=None,
    required=None,
    excluded=None,
    weights=None,
    groups=None,
    group_min: Mapping | None = None,
    group_max: Mapping | None = None,
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
    solver: str = "highs",
    progress: bool = False,
) -> Solution:
    """Fewest new sites so that every coverable demand unit is covered (LSCP).

    Parameters
    ----------
    covers : (n_demand, n_candidates) bool array or scipy.sparse matrix
        ``covers[i, j]``: a station at candidate ``j`` reaches demand ``i`` within the standard.
    fixed : indices or bool mask, optional
        Existing stations: always in the plan, not counted in the objective.
    required : indices or bool mask, optional
        New sites that must be in the plan (counted in the objective).
    excluded : indices or bool mask, optional
        Candidates that may not be used.
    weights : array, optional
        Demand weights, only for ``covered_before/after``, ``marginal`` and ``unique``.
    groups, group_min, group_max
        District per candidate and min/max counts of new sites per district.
    time_limit_s, mip_gap, solver, progress
        HiGHS time limit, relative gap, ``"highs"`` (exact) or ``"greedy"``, HiGHS log.

    Returns
    -------
    Solution
        ``objective`` is the number of NEW sites (required included). Demand no allowed
        candidate or fixed site reaches is listed in ``uncoverable`` and not required.

    Raises
    ------
    InputError
        Malformed matrix, indices, quotas or options.
    InfeasibleError
        Quotas (group_max) make covering all coverable demand impossible.
    """
    t0 = time.perf_counter()
    A = _bool_matrix(covers)
    n_dem, n_cand = A.shape
    w = _weights(weights, n_dem)
    opts = _options(
        n_cand, fixed=fixed, required=required, excluded=excluded, groups=groups,
        group_min=group_min, group_max=group_max, time_limit_s=time_limit_s, mip_gap=mip_gap,
        solver=solver, progress=progress,
    )
    Ac = A.tocsc()
    free = opts.free
    decided = opts.decided
    by_decided = (np.asarray(Ac[:, decided].sum(axis=1)).ravel() > 0) if decided.size else np.zeros(n_dem, bool)
    by_free = np.diff(Ac[:, free].tocsr().indptr) > 0 if free.size else np.zeros(n_dem, bool)
    uncoverable = np.flatnonzero(~(by_decided | by_free))
    rows = np.flatnonzero(by_free & ~by_decided)
    if (opts.hi_free <= 0).any() and free.size and _closed_only(A, opts, rows)[0]:
        raise InfeasibleError(_max_quota_text(A, opts, rows))  # known before solving
    B = A[rows][:, free].tocsr()
    stats = {"rows": int(n_dem), "cols": int(n_cand), "rows_model0": int(B.shape[0]), "cols_model0": int(B.shape[1])}
    col_group = opts.group_code[free]
    lo, hi = opts.lo_free, opts.hi_free
    protect = lo[col_group] > 0
    t_red = time.perf_counter()
    # safe reductions, repeated while they bite
    keep_cols = np.arange(free.size)
    for _ in range(4):
        before = B.shape
        B, _, kr = _merge_rows(B, np.ones(B.shape[0]))
        drop_r = _dominated(B, None, None)
        B = B[~drop_r]
        drop_c = _dominated_subsets(B.T.tocsr(), col_group[keep_cols], protect[keep_cols])
        keep_cols = keep_cols[~drop_c]
        B = B[:, np.flatnonzero(~drop_c)].tocsr()
        if B.shape == before:
            break
    stats.update(rows_model=int(B.shape[0]), cols_model=int(B.shape[1]), reduce_seconds=time.perf_counter() - t_red)
    cols = free[keep_cols]
    cg = col_group[keep_cols]
    big = B.shape[1] + 1
    slots = _Slots(cg, lo, hi, total=big)
    picked, _, _ = _greedy_cover(B, np.ones(B.shape[0]), slots, cover_all=True)
    greedy_ok = (B.shape[0] == 0 or np.diff(B[:, picked].tocsr().indptr).min(initial=1) > 0) and slots.mins_met()
    if greedy_ok:
        picked = _drop_redundant(B, list(picked), cg, lo)
    n_req = opts.required.size
    lower = n_req + max(_packing_lower_bound(B), int(lo.sum()))
    n = B.shape[1]
    G, glo, ghi = _group_rows(cg, lo, hi, n, None)
    searched = False  # the start comes from local search (then HiGHS skips its own heuristics)
    if greedy_ok and G.shape[0] == 0 and B.shape[0] > 0:
        # no binding quota: improve the greedy cover by local search (a strong start, often
        # optimal); on models HiGHS handles, the LP bound first tells it when to stop. Too large
        # for HiGHS's root LP: many nonzeros, or many sparse rows (hydrant covers: the simplex
        # needs 70 s for 15,000 x 8,500 with 0.2 M nonzeros, degenerate)
        large = opts.solver != "greedy" and (
            B.nnz > _LARGE_COVER_NNZ or (not _dense(B) and B.shape[0] > _LARGE_SPARSE_ROWS))
        if not large and opts.solver != "greedy":
            Mlp = B.astype(float).tocsc()
            lp_limit = min(opts.time_limit_s - (time.perf_counter() - t0), max(2.0, 0.25 * opts.time_limit_s))
            lp = _run_highs(
                np.ones(n), np.zeros(n), np.ones(n), np.zeros(n, bool), Mlp, np.ones(B.shape[0]),
                np.full(B.shape[0], math.inf), maximize=False, start=None,
                time_limit=lp_limit, mip_gap=0.0, log=False,
            )
            if lp.status == "optimal":
                lower = max(lower, n_req + math.ceil(lp.objective - 1e-6))
                stats["lp_bound"] = n_req + lp.objective
            else:  # the LP alone took its share of the time: the MIP would not get far either
                stats["lp_status"] = lp.status
                large = True
        if large:
            return _large_min_cover(A, w, opts, B, cols, picked, lower, uncoverable, t0, stats)
        t_ls = time.perf_counter()
        budget = min(0.2 * opts.time_limit_s, max(0.0, opts.time_limit_s - (t_ls - t0)))
        start_x = np.zeros(n, dtype=bool)
        start_x[picked] = True
        steps = min(150_000, max(20_000, 100 * n))  # a start for HiGHS: more steps rarely pay here
        picked = list(np.flatnonzero(_setcover.local_search(B, start_x, time_limit=budget, max_steps=steps,
                                                            target=lower - n_req)))
        stats["local_search_seconds"] = time.perf_counter() - t_ls
        searched = True
        if opts.solver != "greedy" and lower >= n_req + len(picked):
            obj = n_req + len(picked)  # the LP bound proves the local-search cover optimal
            return _coverage_solution("lscp", A, w, opts, cols[np.asarray(picked, dtype=np.int64)], obj, obj,
                                      0.0, "optimal", uncoverable, t0, stats)
    if opts.solver == "greedy" or B.shape[1] == 0:
        if not greedy_ok and B.shape[1] == 0:
            raise InfeasibleError(_max_quota_text(A, opts, rows))
        if not greedy_ok:
            raise NoPlanFoundError(
                "the greedy heuristic found no cover within the group_max quotas; one may still "
                "exist: solve with solver='highs' (the default, and what the CLI uses)"
            )
        obj = n_req + len(picked)
        gap = _gap(obj, lower, False)
        status = "optimal" if gap == 0.0 else "greedy"
        return _coverage_solution("lscp", A, w, opts, cols[picked], obj, lower, gap, status, uncoverable, t0, stats)
    M = sp.vstack([B.astype(float), G]).tocsc()
    row_lo = np.concatenate([np.ones(B.shape[0]), glo])
    row_hi = np.concatenate([np.full(B.shape[0], math.inf), ghi])
    start = None
    if greedy_ok:
        start = np.zeros(n)
        start[picked] = 1.0
    t_mip = time.perf_counter()
    mip = _run_highs(
        np.ones(n), np.zeros(n), np.ones(n), np.ones(n, bool), M, row_lo, row_hi,
        maximize=False, start=start, time_limit=opts.time_limit_s - (t_mip - t0),
        mip_gap=opts.mip_gap, log=opts.progress, heuristics=not searched,
    )
    stats["mip_seconds"] = time.perf_counter() - t_mip
    if mip.status == "infeasible":
        raise InfeasibleError(_max_quota_text(A, opts, rows))
    if mip.x is None:
        if not greedy_ok:
            raise NoPlanFoundError(f"HiGHS found no plan within the time limit of {opts.time_limit_s:g} s "
                                   f"({mip.status}); one may still exist: raise time_limit_s "
                                   "(--time-limit)")
        chosen = np.asarray(picked, dtype=np.int64)
    else:
        chosen = np.flatnonzero(mip.x > 0.5)
    obj = n_req + chosen.size
    bound = n_req + max(math.ceil(mip.bound - 1e-6), lower - n_req) if np.isfinite(mip.bound) else lower
    bound = min(bound, obj)
    gap = _gap(obj, bound, False)
    status = _status(mip, gap) if mip.x is not None else "greedy"
    return _coverage_solution("lscp", A, w, opts, cols[chosen], obj, bound, gap, status, uncoverable, t0, stats)


def _closed_only(A: sp.csr_matrix, opts: _Options, rows: np.ndarray) -> tuple[int, str]:
    """How many of ``rows`` (demand the model must cover) only candidates in districts allowing
    no new site reach, and those districts (names, comma-separated)."""
    free = opts.free
    open_ = free[opts.hi_free[opts.group_code[free]] > 0]
    stuck = rows[np.diff(A[rows][:, open_].tocsr().indptr) == 0] if open_.size else rows
    if stuck.size == 0:
        return 0, ""
    reach = np.diff(A[stuck][:, free].tocsc().indptr) > 0
    return int(stuck.size), ", ".join(str(opts.group_label[g]) for g in np.unique(opts.group_code[free[reach]]))


def _max_quota_text(A: sp.csr_matrix, opts: _Options, rows: np.ndarray) -> str:
    """Why set cover is infeasible under the districts' maxima: the maxima, and the demand that
    only districts allowing no new site reach (:func:`_closed_only`)."""
    big = np.iinfo(np.int64).max // 8
    req = opts.req_per_group()
    text = ", ".join(f"{opts.group_label[g]} <= {int(opts.hi[g])}"
                     + (f" ({int(req[g])} taken by required sites)" if req[g] else "")
                     for g in range(opts.hi.size) if opts.hi[g] < big)
    out = f"cannot cover all coverable demand within the group_max quotas ({text})"
    n, where = _closed_only(A, opts, rows)
    if n:
        return (out + f": {n} demand unit(s) are reached only from candidates in {where}, which allow "
                "no new site; raise those maxima")
    return out + ": together they allow too few new sites; raise or drop a maximum"


def _dense(B: sp.csr_matrix) -> bool:
    """A set cover with many candidates per demand row (``_DENSE_ROW_LEN``), as from the road
    engine: its LP settles on few rows. Hydrant covers are sparse."""
    return B.nnz >= _DENSE_ROW_LEN * B.shape[0]


class _Phases:
    """Progress of a long set cover on stderr (tqdm, seconds of the time limit): the phase and the
    best cover and bound so far. Off unless ``progress`` (and off under ``TQDM_DISABLE``)."""

    def __init__(self, on: bool, time_limit: float, t0: float):
        import os

        from tqdm.auto import tqdm

        self.t0 = t0
        self.bar = tqdm(total=max(1, round(time_limit)), desc="set cover", leave=False,
                        bar_format="{desc} {bar} {n}/{total} s{postfix}",
                        disable=(not on) or bool(os.environ.get("TQDM_DISABLE")))

    def __call__(self, phase: str, best: int | None = None, bound: int | None = None) -> None:
        self.bar.n = min(self.bar.total, round(time.perf_counter() - self.t0))
        text = phase if best is None else f"{phase}: best {best}, bound {bound}"
        self.bar.set_postfix_str(text, refresh=True)

    def close(self) -> None:
        self.bar.close()


def _large_min_cover(A, w, opts: _Options, B: sp.csr_matrix, cols: np.ndarray, picked: list[int], lower: int,
                     uncoverable: np.ndarray, t0: float, stats: dict) -> Solution:
    """Set cover too large for HiGHS's root LP (no binding quotas).

    1. Lower bound: on dense covers (many candidates per demand unit, as from the road engine)
       the covering LP over a growing subset of rows (``lp_bound_rows``; it settles with a few
       thousand rows); on sparse covers such as hydrant placement, where that LP needs most
       rows and HiGHS cannot even solve it in time, Lagrangian subgradient steps (cheap, and
       close to the LP there). The best multipliers ``u`` give a valid bound ``L`` on every
       cover.
    2. Local search from the greedy cover until it meets ``ceil(L)`` or its share of the time;
       on dense covers first on the LP's rows (``row_subset_search``), where steps are cheap.
    3. Every cover costs at least ``L + rc_j`` for each of its columns ``j`` with reduced cost
       ``rc_j >= 0``, so a cover better than the incumbent ``UB`` uses only columns with
       ``rc_j <= UB - 1 - L``. When that restricted problem is small and the gap is a few
       columns, HiGHS solves it exactly (proving the optimum, or a bound if stopped); otherwise
       local search goes on.
    """
    show = _Phases(opts.progress, opts.time_limit_s, t0)
    try:
        return _large_min_cover_run(A, w, opts, B, cols, picked, lower, uncoverable, t0, stats, show)
    finally:
        show.close()


def _large_min_cover_run(A, w, opts: _Options, B: sp.csr_matrix, cols: np.ndarray, picked: list[int], lower: int,
                         uncoverable: np.ndarray, t0: float, stats: dict, show: _Phases) -> Solution:
    n_req = opts.required.size
    n = B.shape[1]
    ub = len(picked)
    show(f"lower bound ({B.shape[0]:,} demand x {n:,} candidates after reductions)", n_req + ub, lower)
    arrays = _setcover.cover_arrays(B)  # shared by every search of this matrix
    threads = default_threads()
    t_lag = time.perf_counter()
    budget = 0.35 * max(0.0, opts.time_limit_s - (t_lag - t0))
    L, u, lp_rows = -math.inf, np.zeros(B.shape[0]), np.zeros(0, np.int64)
    if _dense(B):
        L, u, lp_rows, finished = _setcover.lp_bound_rows(B, ub, time_limit=budget)
        stats["lp_rows"] = int(lp_rows.size)
        stats["lp_finished"] = finished
    if not np.isfinite(L):  # sparse, or not even the first LP solved in time: subgradient steps
        L, u = _setcover.lagrangian_bound(B, ub, time_limit=max(0.0, budget - (time.perf_counter() - t_lag)),
                                          arrays=arrays)
    stats["lagrangian_seconds"] = time.perf_counter() - t_lag
    stats["lagrangian_bound"] = n_req + L
    low = max(lower - n_req, math.ceil(L - 1e-6) if np.isfinite(L) else 0)  # -inf: no bound in time
    x = np.zeros(n, dtype=bool)
    x[picked] = True
    t_ls = time.perf_counter()
    if low < ub:
        show("local search", n_req + ub, n_req + low)
        ls_budget = 0.5 * max(0.0, opts.time_limit_s - (t_ls - t0))
        if lp_rows.size:
            # dense rows make every step over all rows costly: search the LP's rows first
            x = _setcover.row_subset_search(B, x, lp_rows, time_limit=0.6 * ls_budget, target=low,
                                            threads=threads, arrays=arrays)
            stats["row_subset_cover"] = int(x.sum())
        if int(x.sum()) > low:
            x = _setcover.local_search(B, x, time_limit=max(0.0, ls_budget - (time.perf_counter() - t_ls)),
                                       max_steps=max(100_000, 200 * n), target=low, threads=threads, arrays=arrays)
    stats["local_search_seconds"] = time.perf_counter() - t_ls
    chosen = np.flatnonzero(x)
    ub = chosen.size
    mip_status = None
    if low < ub:
        show("restricting candidates by reduced cost", n_req + ub, n_req + low)
        rc = 1.0 - np.asarray(B.T @ u, dtype=float).ravel()
        keep = np.flatnonzero(rc <= ub - 1 - L + 1e-9)
        Bk = B[:, keep].tocsr()
        stats["cols_restricted"] = int(keep.size)
        if (np.diff(Bk.indptr) == 0).any():
            low = ub  # some demand has no column a better cover could use
        elif Bk.nnz > _RESTRICTED_MIP_NNZ or ub - low > _RESTRICTED_MIP_GAP:
            # the restricted problem is still too large, or the gap too wide, for an exact solve
            # in the time left: spend it on the search for a smaller cover instead
            t_ls = time.perf_counter()
            x = _setcover.local_search(B, x, time_limit=opts.time_limit_s - (t_ls - t0), max_steps=10**9, seed=3,
                                       target=low, threads=threads, arrays=arrays)
            chosen = np.flatnonzero(x)
            stats["local_search_seconds"] += time.perf_counter() - t_ls
        else:
            show(f"exact solve over {keep.size:,} candidates", n_req + ub, n_req + low)
            t_mip = time.perf_counter()
            nk = keep.size
            mip = _run_highs(
                np.ones(nk), np.zeros(nk), np.ones(nk), np.ones(nk, bool), Bk.astype(float).tocsc(),
                np.ones(Bk.shape[0]), np.full(Bk.shape[0], math.inf), maximize=False, start=None,
                time_limit=opts.time_limit_s - (time.perf_counter() - t0), mip_gap=0.0, log=opts.progress,
            )
            stats["mip_seconds"] = time.perf_counter() - t_mip
            mip_status = mip.status
            if mip.status == "infeasible":
                low = ub
            else:
                if mip.x is not None:
                    better = keep[mip.x > 0.5]
                    if better.size < chosen.size:
                        chosen = better
                if mip.status == "optimal":
                    low = chosen.size
                elif np.isfinite(mip.bound):
                    low = max(low, min(chosen.size, math.ceil(mip.bound - 1e-6)))
    obj = n_req + chosen.size
    bound = min(n_req + low, obj)
    gap = _gap(obj, bound, False)
    status = "optimal" if gap == 0.0 else (mip_status if mip_status not in (None, "optimal") else "time_limit")
    show("done", obj, bound)
    return _coverage_solution("lscp", A, w, opts, cols[chosen], obj, bound, gap, status, uncoverable, t0, stats)


def _drop_redundant(B: sp.csr_matrix, picked: list[int], col_group: np.ndarray, lo: np.ndarray) -> list[int]:
    """Remove sites of a cover whose every row is covered by another picked site too (latest
    picks first, group minimums kept): a smaller cover and a better MIP start."""
    if not picked:
        return picked
    Bc = B.tocsc()
    cnt = np.zeros(B.shape[0], dtype=np.int64)
    for j in picked:
        cnt[Bc.indices[Bc.indptr[j]:Bc.indptr[j + 1]]] += 1
    count = np.bincount(col_group[picked], minlength=lo.size)
    keep = list(picked)
    for j in reversed(picked):
        rows = Bc.indices[Bc.indptr[j]:Bc.indptr[j + 1]]
        g = col_group[j]
        if (cnt[rows] >= 2).all() and count[g] - 1 >= lo[g]:
            cnt[rows] -= 1
            count[g] -= 1
            keep.remove(j)
    return keep


# ----------------------------------------------------------------------------------------------
# maximal cover (one or several classes)
# ----------------------------------------------------------------------------------------------
def _max_core(
    model: str,
    mats: list[sp.csr_matrix],
    class_names: list[str],
    w: np.ndarray,
    counts: list[int],
    opts: _Options,
    fixed_by_class: list[np.ndarray],
    required_by_class: list[np.ndarray],
    t0: float,
) -> Solution:
    n_dem, n_cand = mats[0].shape
    n_cls = len(mats)
    free = opts.free
    # demand already covered by fixed/required sites (each with its own class reach)
    by_decided = np.zeros(n_dem, dtype=bool)
    for c in range(n_cls):
        dec = np.union1d(fixed_by_class[c], required_by_class[c])
        if dec.size:
            by_decided |= np.diff(mats[c][:, dec].tocsr().indptr) > 0
    active = [c for c in range(n_cls) if counts[c] - required_by_class[c].size > 0]

    def reached(classes) -> np.ndarray:  # demand some allowed site of these classes reaches
        out = np.zeros(n_dem, dtype=bool)
        for c in classes if free.size else ():
            out |= np.diff(mats[c][:, free].tocsr().indptr) > 0
        return out

    by_free = reached(active)  # the model's rows: classes with new sites left to choose
    # coverable = reachable by the decided sites or by some allowed site: of any class with new
    # sites to build when there are several classes (a class building none covers nothing new)
    by_allowed = reached(range(n_cls) if n_cls == 1 else [c for c in range(n_cls) if counts[c] > 0])
    uncoverable = np.flatnonzero(~(by_decided | by_allowed))
    const = float(w[by_decided].sum())
    rows = np.flatnonzero(by_free & ~by_decided & (w > 0))
    # model columns: (class, free candidate)
    blocks, col_cand, col_class = [], [], []
    for c in active:
        blocks.append(mats[c][rows][:, free])
        col_cand.append(free)
        col_class.append(np.full(free.size, c))
    if blocks:
        B = sp.hstack(blocks).tocsr()
        col_cand_a = np.concatenate(col_cand)
        col_class_a = np.concatenate(col_class)
    else:
        B = sp.csr_matrix((rows.size, 0), dtype=np.int32)
        col_cand_a = np.zeros(0, np.int64)
        col_class_a = np.zeros(0, np.int64)
    wr = w[rows]
    lo, hi = opts.lo_free, opts.hi_free
    col_group = opts.group_code[col_cand_a]
    stats = {"rows": int(n_dem), "cols": int(n_cand), "rows_model0": int(B.shape[0]), "cols_model0": int(B.shape[1])}
    t_red = time.perf_counter()
    B, wr, _ = _merge_rows(B, wr)
    if len(active) == 1:
        protect = lo[col_group] > 0
        drop_c = _dominated_subsets(B.T.tocsr(), col_group, protect)
        keep = np.flatnonzero(~drop_c)
        B = B[:, keep].tocsr()
        col_cand_a, col_class_a, col_group = col_cand_a[keep], col_class_a[keep], col_group[keep]
        B, wr, _ = _merge_rows(B, wr)
    stats.update(rows_model=int(B.shape[0]), cols_model=int(B.shape[1]), reduce_seconds=time.perf_counter() - t_red)
    n = B.shape[1]
    class_cap = np.array([counts[c] - required_by_class[c].size for c in range(n_cls)], dtype=np.int64)
    p_free = int(class_cap[active].sum()) if active else 0
    multi = len(active) > 1

    def slots() -> _Slots:
        return _Slots(col_group, lo, hi, total=p_free, col_class=col_class_a, class_cap=class_cap,
                      col_cand=col_cand_a if multi else None)

    picked, _, final_gains = _greedy_cover(B, wr, slots(), cover_all=False)
    covered_rows = np.zeros(B.shape[0], dtype=bool)
    if picked:
        covered_rows = np.diff(B[:, picked].tocsr().indptr) > 0
    greedy_val = const + float(wr[covered_rows].sum())
    # submodular bound: f(S) + sum of the p largest marginal gains
    fg = np.sort(np.maximum(final_gains, 0.0))[::-1]
    greedy_bound = min(greedy_val + float(fg[:p_free].sum()), const + float(wr.sum()))

    def finish(chosen_cols: np.ndarray, obj: float, bound: float, gap: float, status: str) -> Solution:
        chosen_cols = np.asarray(chosen_cols, dtype=np.int64)
        return _class_solution(model, mats, class_names, w, opts, fixed_by_class, required_by_class,
                               col_cand_a[chosen_cols], col_class_a[chosen_cols], counts, obj, bound,
                               gap, status, uncoverable, t0, stats)

    if opts.solver == "greedy" or n == 0 or B.shape[0] == 0:
        gap = _gap(greedy_val, greedy_bound, True)
        status = "optimal" if gap == 0.0 else "greedy"
        return finish(np.asarray(picked), greedy_val, max(greedy_bound, greedy_val), gap, status)
    if not multi and len(active) == 1 and B.shape[0] > 20_000:
        # many demand rows (HiGHS may not even finish the root LP): a Lagrangian bound and a
        # swap-improved plan first; on smaller models HiGHS's own bound is the better one
        t_lag = time.perf_counter()
        lag_cols, lag_val, lag_ub = _lagrangian_mclp(
            B, wr, np.asarray(picked, dtype=np.int64), col_group, lo, hi, p_free,
            seconds=min(0.25 * opts.time_limit_s, 30.0))
        stats["lagrangian_seconds"] = time.perf_counter() - t_lag
        if const + lag_val > greedy_val:
            picked = [int(j) for j in lag_cols]
            greedy_val = const + lag_val
        greedy_bound = max(min(greedy_bound, const + lag_ub), greedy_val)
        if _gap(greedy_val, greedy_bound, True) <= opts.mip_gap:
            gap = _gap(greedy_val, greedy_bound, True)
            return finish(np.asarray(picked), greedy_val, greedy_bound, gap,
                          "optimal" if gap == 0.0 else "gap_limit")
    # fold rows with one column into that column's objective
    rnnz = np.diff(B.indptr)
    single = rnnz == 1
    col_w = np.bincount(B.indices[B.indptr[:-1][single]], weights=wr[single], minlength=n)
    Bm = B[~single]
    wm = wr[~single]
    m = Bm.shape[0]
    # columns: x (n, binary) then y (m, continuous); rows: y_i - sum x <= 0, quotas, class caps
    top = sp.hstack([-Bm.astype(float), sp.identity(m, format="csr")])
    G, glo, ghi = _group_rows(col_group, lo, hi, n, None)
    blocks = [top, sp.hstack([G, sp.csr_matrix((G.shape[0], m))])]
    r_lo = [np.full(m, -math.inf), glo]
    r_hi = [np.zeros(m), ghi]
    cap_rows = []
    for c in active:
        cap_rows.append((col_class_a == c).astype(float))
        r_lo.append(np.array([-math.inf]))
        r_hi.append(np.array([float(class_cap[c])]))
    if cap_rows:
        blocks.append(sp.hstack([sp.csr_matrix(np.vstack(cap_rows)), sp.csr_matrix((len(cap_rows), m))]))
    if multi:
        # one class per candidate
        cand_codes, inv = np.unique(col_cand_a, return_inverse=True)
        P = sp.csr_matrix((np.ones(n), (inv, np.arange(n))), shape=(cand_codes.size, n))
        blocks.append(sp.hstack([P, sp.csr_matrix((cand_codes.size, m))]))
        r_lo.append(np.full(cand_codes.size, -math.inf))
        r_hi.append(np.ones(cand_codes.size))
    M = sp.vstack(blocks).tocsc()
    cost = np.concatenate([col_w, wm])
    lb = np.zeros(n + m)
    ub = np.ones(n + m)
    is_int = np.concatenate([np.ones(n, bool), np.zeros(m, bool)])
    start = np.zeros(n + m)
    start[picked] = 1.0
    if m:
        start[n:] = (np.diff(Bm[:, picked].tocsr().indptr) > 0) if picked else 0.0
    t_mip = time.perf_counter()
    mip = _run_highs(cost, lb, ub, is_int, M, np.concatenate(r_lo), np.concatenate(r_hi),
                     maximize=True, start=start, time_limit=opts.time_limit_s - (t_mip - t0),
                     mip_gap=opts.mip_gap, log=opts.progress)
    stats["mip_seconds"] = time.perf_counter() - t_mip
    if mip.status == "infeasible":
        raise InfeasibleError(f"{model}: no plan satisfies the quotas and counts")
    if mip.x is None:
        chosen = np.asarray(picked, dtype=np.int64)
        obj = greedy_val
        status = "greedy"
        bound = min(greedy_bound, const + mip.bound) if np.isfinite(mip.bound) else greedy_bound
    else:
        chosen = np.flatnonzero(mip.x[:n] > 0.5)
        cov = np.diff(B[:, chosen].tocsr().indptr) > 0
        obj = const + float(wr[cov].sum())
        bound = min(const + mip.bound, greedy_bound) if np.isfinite(mip.bound) else greedy_bound
        status = None
    bound = max(bound, obj)
    gap = _gap(obj, bound, True)
    if status is None:
        status = _status(mip, gap)
    return finish(chosen, obj, bound, gap, status)


def _pad(chosen_cand: np.ndarray, chosen_class: np.ndarray, mats, w, opts: _Options, counts, required_by_class):
    """Fill unused slots (fewer sites suffice) with the allowed sites covering most weight."""
    n_cls = len(mats)
    used = set(int(c) for c in chosen_cand) | set(int(c) for c in opts.required)
    g_count = np.bincount(opts.group_code[np.concatenate([chosen_cand, opts.required]).astype(np.int64)],
                          minlength=opts.lo.size)
    out_cand, out_class = list(chosen_cand), list(chosen_class)
    free = opts.free
    for c in range(n_cls):
        have = int((np.asarray(chosen_class) == c).sum()) + required_by_class[c].size
        need = counts[c] - have
        if need <= 0 or free.size == 0:
            continue
        score = np.asarray(mats[c][:, free].T @ w).ravel()
        picks = _take_in_order(opts, np.argsort(-score, kind="stable"), need, used, g_count)
        out_cand += picks
        out_class += [c] * len(picks)
    return np.asarray(out_cand, dtype=np.int64), np.asarray(out_class, dtype=np.int64)


def _take_in_order(opts: _Options, order: np.ndarray, need: int, used: set, g_count: np.ndarray) -> list[int]:
    """Up to ``need`` free sites taken in ``order`` (positions in ``opts.free``), skipping sites
    in ``used`` and districts at their maximum; ``used`` and ``g_count`` are updated."""
    out: list[int] = []
    for k in order:
        if len(out) == need:
            break
        j = int(opts.free[k])
        g = opts.group_code[j]
        if j in used or g_count[g] >= opts.hi[g]:
            continue
        used.add(j)
        g_count[g] += 1
        out.append(j)
    return out


def _class_solution(model, mats, class_names, w, opts, fixed_by_class, required_by_class, new_cand,
                    new_class, counts, obj, bound, gap, status, uncoverable, t0, stats) -> Solution:
    new_cand, new_class = _pad(new_cand, new_class, mats, w, opts, counts, required_by_class)
    site: dict[int, int] = {}
    for c, idx in enumerate(fixed_by_class):
        for j in idx:
            site[int(j)] = c
    for c, idx in enumerate(required_by_class):
        for j in idx:
            site[int(j)] = c
    for j, c in zip(new_cand, new_class):
        site[int(j)] = int(c)
    selected = np.array(sorted(site), dtype=np.int64)
    classes = np.array([site[int(j)] for j in selected], dtype=np.int64)
    n_dem = mats[0].shape[0]
    S = sp.csc_matrix((n_dem, selected.size), dtype=np.int32)
    if selected.size:
        pos = [np.flatnonzero(classes == c) for c in range(len(mats))]
        S = sp.hstack([mats[c].tocsc()[:, selected[pos[c]]] for c in range(len(mats))]).tocsc()
        S = S[:, np.argsort(np.concatenate(pos), kind="stable")].tocsc()
    covered = np.diff(S.tocsr().indptr) > 0
    is_fixed = np.isin(selected, opts.fixed)
    before = float(w[np.diff(S[:, np.flatnonzero(is_fixed)].tocsr().indptr) > 0].sum()) if is_fixed.any() else 0.0
    first = list(np.flatnonzero(is_fixed)) + list(np.flatnonzero(np.isin(selected, opts.required)))
    _, marginal, unique = site_gains(S, w, first)
    new = selected[~is_fixed]
    return Solution(
        model=model, selected=selected, new=new, fixed=opts.fixed.copy(), objective=float(obj),
        bound=float(bound), gap=float(gap), status=status, covered=covered, covered_before=before,
        covered_after=float(w[covered].sum()), uncoverable=uncoverable.astype(np.int64),
        marginal=marginal, unique=unique,
        site_class=None if model == "mclp" else np.array([class_names[c] for c in classes], dtype=object),
        solve_seconds=time.perf_counter() - t0, stats=MappingProxyType(dict(stats, seconds=time.perf_counter() - t0)),
    )


@_scaled_weights
def max_cover(
    covers,
    weights,
    p: int,
    *,
    fixed=None,
    required=None,
    excluded=None,
    groups=None,
    group_min: Mapping | None = None,
    group_max: Mapping | None = None,
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
    solver: str = "highs",
    progress: bool = False,
) -> Solution:
    """Best ``p`` NEW sites maximising covered demand weight (MCLP).

    Parameters
    ----------
    covers : (n_demand, n_candidates) bool array or scipy.sparse matrix
        Coverage matrix.
    weights : array of n_demand floats >= 0, or None for ones
        Demand weight (population, risk ...).
    p : int
        Number of NEW sites; fixed (existing) sites come on top. Required sites count in ``p``.
        When fewer than ``p`` sites already cover everything coverable, the remaining slots are
        filled with the allowed sites covering most weight (objective unchanged).
    fixed, required, excluded, groups, group_min, group_max, time_limit_s, mip_gap, solver, progress
        As in :func:`min_cover`; quotas count new sites.

    Returns
    -------
    Solution
        ``objective`` is the covered weight including what fixed sites cover.
    """
    t0 = time.perf_counter()
    A = _bool_matrix(covers)
    n_dem, n_cand = A.shape
    w = _weights(weights, n_dem)
    p = _count(p)
    opts = _options(n_cand, fixed=fixed, required=required, excluded=excluded, groups=groups,
                    group_min=group_min, group_max=group_max, time_limit_s=time_limit_s,
                    mip_gap=mip_gap, solver=solver, progress=progress, p=p)
    return _max_core("mclp", [A], ["default"], w, [p], opts, [opts.fixed], [opts.required], t0)


@_scaled_weights
def max_cover_classes(
    covers_by_class: Mapping[str, object],
    weights,
    counts: Mapping[str, int],
    *,
    fixed: Mapping[str, object] | None = None,
    required: Mapping[str, object] | None = None,
    excluded=None,
    groups=None,
    group_min: Mapping | None = None,
    group_max: Mapping | None = None,
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
    solver: str = "highs",
    progress: bool = False,
) -> Solution:
    """MCLP with station classes, each with its own reach and its own number of new sites.

    Parameters
    ----------
    covers_by_class : mapping class name -> covers matrix
        One demand x candidate matrix per class, same shape (same demand, same candidates);
        a small station's shorter reach gives a sparser matrix.
    weights : array or None
        Demand weights.
    counts : mapping class name -> int
        Number of NEW sites of each class (0 allowed, e.g. for the class of existing stations).
    fixed, required : mapping class name -> indices, optional
        Existing / forced sites per class; each covers with its class's matrix.
    excluded, groups, group_min, group_max
        As in :func:`max_cover`; quotas count new sites of all classes together.
    time_limit_s, mip_gap, solver, progress
        As in :func:`min_cover`.

    Returns
    -------
    Solution
        ``site_class`` names the class of every selected site; a candidate gets one class at most.
    """
    t0 = time.perf_counter()
    if not isinstance(covers_by_class, Mapping) or not covers_by_class:
        raise InputError("covers_by_class must be a non-empty mapping class name -> covers matrix")
    names = list(covers_by_class)
    mats = [_bool_matrix(covers_by_class[c], f"covers_by_class[{c!r}]") for c in names]
    shape = mats[0].shape
    for c, m in zip(names, mats):
        if m.shape != shape:
            raise InputError(
                f"covers_by_class[{c!r}] has shape {m.shape}; all classes need shape {shape}"
            )
    if not isinstance(counts, Mapping):
        raise InputError("counts must be a mapping class name -> number of new sites")
    unknown = set(counts) - set(names)
    if unknown:
        raise InputError(f"counts names unknown class(es) {sorted(map(str, unknown))}; classes are {names}")
    cnt = [_count(counts.get(c, 0), f"counts[{c!r}]") for c in names]
    n_dem, n_cand = shape
    w = _weights(weights, n_dem)

    def per_class(value, what):
        if value is not None and not isinstance(value, Mapping):
            raise InputError(f"{what} {value!r} is invalid for max_cover_classes: expected a mapping class "
                             f"name -> candidate indices, e.g. {{{names[0]!r}: [0, 5]}}")
        value = dict(value or {})
        bad = set(value) - set(names)
        if bad:
            raise InputError(f"{what} names unknown class(es) {sorted(map(str, bad))}; classes are {names}")
        return [_indices(value.get(c), n_cand, f"{what}[{c!r}]") for c in names]

    fx = per_class(fixed, "fixed")
    rq = per_class(required, "required")
    all_fx = np.concatenate(fx) if fx else np.zeros(0, np.int64)
    all_rq = np.concatenate(rq) if rq else np.zeros(0, np.int64)
    if np.unique(all_fx).size != all_fx.size or np.unique(all_rq).size != all_rq.size:
        raise InputError("a candidate is fixed (or required) in more than one class")
    for c, r in zip(names, rq):
        if r.size > cnt[names.index(c)]:
            raise InfeasibleError(f"{r.size} required {c!r} sites exceed counts[{c!r}]={cnt[names.index(c)]}")
    opts = _options(n_cand, fixed=all_fx, required=all_rq, excluded=excluded, groups=groups,
                    group_min=group_min, group_max=group_max, time_limit_s=time_limit_s,
                    mip_gap=mip_gap, solver=solver, progress=progress, p=int(sum(cnt)))
    return _max_core("mclp_classes", mats, names, w, cnt, opts, fx, rq, t0)


# ----------------------------------------------------------------------------------------------
# backup cover
# ----------------------------------------------------------------------------------------------
@_scaled_weights
def backup_cover(
    covers,
    weights,
    p: int,
    *,
    fixed=None,
    required=None,
    excluded=None,
    require_primary: bool = False,
    groups=None,
    group_min: Mapping | None = None,
    group_max: Mapping | None = None,
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
    solver: str = "highs",
    progress: bool = False,
) -> Solution:
    """Best ``p`` NEW sites maximising the demand weight covered at least twice (backup cover).

    Parameters
    ----------
    covers, weights, p, fixed, required, excluded, groups, group_min, group_max
        As in :func:`max_cover` (``p`` counts new sites).
    require_primary : bool
        If True, every coverable demand unit must also be covered at least once
        (:class:`InfeasibleError` when ``p`` is too small for that).
    time_limit_s, mip_gap, solver, progress
        As in :func:`min_cover`.

    Returns
    -------
    Solution
        ``objective`` = weight of demand reached by >= 2 selected sites (fixed included);
        ``covered`` / ``marginal`` / ``unique`` describe first coverage.
    """
    t0 = time.perf_counter()
    A = _bool_matrix(covers)
    n_dem, n_cand = A.shape
    w = _weights(weights, n_dem)
    p = _count(p)
    opts = _options(n_cand, fixed=fixed, required=required, excluded=excluded, groups=groups,
                    group_min=group_min, group_max=group_max, time_limit_s=time_limit_s,
                    mip_gap=mip_gap, solver=solver, progress=progress, p=p)
    Ac = A.tocsc()
    free = opts.free
    dec = opts.decided
    c_dec = np.asarray(Ac[:, dec].sum(axis=1)).ravel().astype(np.int64) if dec.size else np.zeros(n_dem, np.int64)
    Bfull = A[:, free].tocsr() if free.size else sp.csr_matrix((n_dem, 0))
    reach = np.diff(Bfull.indptr)
    uncoverable = np.flatnonzero((c_dec == 0) & (reach == 0))
    const = float(w[c_dec >= 2].sum())
    need = np.maximum(2 - c_dec, 0)
    rows = np.flatnonzero((need > 0) & (reach >= need) & (w > 0))
    prim_rows = np.flatnonzero((c_dec == 0) & (reach > 0)) if require_primary else np.zeros(0, np.int64)
    B = Bfull[rows]
    stats = {"rows": int(n_dem), "cols": int(n_cand), "rows_model0": int(B.shape[0]), "cols_model0": int(B.shape[1])}
    B, wr, keep = _merge_rows(B, w[rows], extra=need[rows])
    kr = need[rows][keep]
    P = Bfull[prim_rows]
    if P.shape[0]:
        P, _, _ = _merge_rows(P, np.ones(P.shape[0]))
        P = P[~_dominated(P, None, None)]
    stats.update(rows_model=int(B.shape[0] + P.shape[0]), cols_model=int(B.shape[1]))
    n = free.size
    p_free = p - opts.required.size
    lo, hi = opts.lo_free, opts.hi_free
    cg = opts.group_code[free]

    def evaluate(chosen: np.ndarray) -> float:
        sel = np.union1d(dec, free[chosen])
        cnt = np.asarray(Ac[:, sel].sum(axis=1)).ravel()
        return float(w[cnt >= 2].sum())

    # greedy: half credit for a first extra cover, full for completing the second
    chosen_mask = np.zeros(n, dtype=bool)
    have = np.zeros(B.shape[0], dtype=np.int64)
    pc = np.zeros(P.shape[0], dtype=bool)
    slots = _Slots(cg, lo, hi, total=p_free)
    Bc, Pc = B.tocsc(), P.tocsc()
    while slots.n < p_free:
        ok = slots.eligible(chosen_mask)
        if not ok.any():
            break
        credit = np.where(have + 1 >= kr, 1.0, 0.5) * np.where(have >= kr, 0.0, 1.0) * wr
        score = np.asarray(B.T @ credit).ravel() if B.shape[0] else np.zeros(n)
        if P.shape[0]:
            score = score + np.asarray(P.T @ (~pc).astype(float)).ravel() * (wr.sum() + 1.0)
        j = int(np.argmax(np.where(ok, score, -np.inf)))
        chosen_mask[j] = True
        slots.take(j)
        have[Bc.indices[Bc.indptr[j]:Bc.indptr[j + 1]]] += 1
        pc[Pc.indices[Pc.indptr[j]:Pc.indptr[j + 1]]] = True
    picked = np.flatnonzero(chosen_mask)
    greedy_ok = bool(pc.all()) and slots.mins_met()
    trivial_bound = const + float(wr.sum())
    if opts.solver == "greedy" or n == 0:
        if require_primary and not greedy_ok:
            raise NoPlanFoundError(f"the greedy heuristic could not cover all coverable demand once with "
                                   f"p={p}; a plan may still exist: solve with solver='highs' (the "
                                   "default, and what the CLI uses)")
        obj = evaluate(picked)
        gap = _gap(obj, trivial_bound, True)
        return _backup_solution(A, w, opts, free[picked], obj, max(trivial_bound, obj), gap,
                                "optimal" if gap == 0.0 else "greedy", uncoverable, t0, stats)
    m = B.shape[0]
    # x (n binary), u (m: binary when two more covers are needed, else continuous)
    top = sp.hstack([-B.astype(float), sp.diags(kr.astype(float), format="csr")])
    G, glo, ghi = _group_rows(cg, lo, hi, n, p_free)
    blocks = [top, sp.hstack([G, sp.csr_matrix((G.shape[0], m))])]
    r_lo = [np.full(m, -math.inf), glo]
    r_hi = [np.zeros(m), ghi]
    if P.shape[0]:
        blocks.append(sp.hstack([P.astype(float), sp.csr_matrix((P.shape[0], m))]))
        r_lo.append(np.ones(P.shape[0]))
        r_hi.append(np.full(P.shape[0], math.inf))
    M = sp.vstack(blocks).tocsc()
    cost = np.concatenate([np.zeros(n), wr])
    is_int = np.concatenate([np.ones(n, bool), kr >= 2])
    start = None
    if greedy_ok:
        start = np.concatenate([chosen_mask.astype(float), (have >= kr).astype(float)])
    t_mip = time.perf_counter()
    mip = _run_highs(cost, np.zeros(n + m), np.ones(n + m), is_int, M, np.concatenate(r_lo),
                     np.concatenate(r_hi), maximize=True, start=start,
                     time_limit=opts.time_limit_s - (t_mip - t0), mip_gap=opts.mip_gap,
                     log=opts.progress)
    stats["mip_seconds"] = time.perf_counter() - t_mip
    if mip.status == "infeasible":
        raise InfeasibleError(
            f"backup_cover: p={p} new sites cannot cover all coverable demand once under the quotas"
            if require_primary else "backup_cover: no plan satisfies the quotas"
        )
    if mip.x is None:
        if not greedy_ok:
            raise NoPlanFoundError(f"backup_cover: no plan found within the time limit of "
                                   f"{opts.time_limit_s:g} s; one may still exist: raise time_limit_s "
                                   "(--time-limit)")
        chosen = picked
        status = "greedy"
    else:
        chosen = np.flatnonzero(mip.x[:n] > 0.5)
        status = None
    obj = evaluate(chosen)
    bound = const + mip.bound if np.isfinite(mip.bound) else trivial_bound
    bound = max(min(bound, trivial_bound), obj)
    gap = _gap(obj, bound, True)
    if status is None:
        status = _status(mip, gap)
    return _backup_solution(A, w, opts, free[chosen], obj, bound, gap, status, uncoverable, t0, stats)


def _backup_solution(A, w, opts, new_free, obj, bound, gap, status, uncoverable, t0, stats) -> Solution:
    sol = _coverage_solution("backup", A, w, opts, new_free, obj, bound, gap, status, uncoverable, t0, stats)
    return sol


# ----------------------------------------------------------------------------------------------
# p-median
# ----------------------------------------------------------------------------------------------
def _times_matrix(times) -> sp.csr_matrix:
    """Sparse seconds; stored entries (zeros included) are reachable pairs."""
    boolean = InputError("times must be travel times in seconds (inf/NaN or absent: unreachable); got a "
                         "boolean matrix - for a covers matrix use min_cover, max_cover or backup_cover")
    if sp.issparse(times):
        if times.dtype == bool:
            raise boolean
        if times.ndim != 2:
            raise InputError(f"times must be 2-D (demand x candidate); got shape {times.shape}")
        m = sp.coo_matrix(times)
        data = np.asarray(m.data, dtype=float)
        keep = np.isfinite(data)
        r, c, d = m.row[keep], m.col[keep], data[keep]
        shape = m.shape
    else:
        try:
            raw = np.asarray(times)
            arr = raw.astype(float)
        except (TypeError, ValueError):
            raise InputError("times must be numbers (seconds), inf/NaN for unreachable") from None
        if raw.dtype == bool:
            raise boolean
        if arr.ndim != 2:
            raise InputError(f"times must be a 2-D demand x candidate matrix; got shape {arr.shape}")
        r, c = np.nonzero(np.isfinite(arr))
        d = arr[r, c]
        shape = arr.shape
    if shape[1] == 0:
        raise InputError(f"times has no candidate columns (shape {shape}); need at least one")
    if shape[0] == 0:
        raise InputError(f"times has no demand rows (shape {shape}); need at least one")
    if (d < 0).any():
        raise InputError(f"times must be >= 0 seconds; found {d[d < 0][0]}")
    # a pair given twice (duplicate sparse entries) takes its shorter time, never the sum
    key = np.asarray(r, np.int64) * shape[1] + np.asarray(c, np.int64)
    order = np.lexsort((d, key))
    first = np.ones(order.size, bool)
    first[1:] = key[order][1:] != key[order][:-1]
    o = order[first]
    m = sp.csr_matrix((d[o], (np.asarray(r)[o], np.asarray(c)[o])), shape=shape)
    m.sort_indices()
    return m


@_scaled_weights
def p_median(
    times,
    weights,
    p: int,
    *,
    fixed=None,
    required=None,
    excluded=None,
    penalty_s: float | None = None,
    groups=None,
    group_min: Mapping | None = None,
    group_max: Mapping | None = None,
    time_limit_s: float = 60.0,
    mip_gap: float = 0.0,
    solver: str = "highs",
    progress: bool = False,
) -> Solution:
    """Best ``p`` NEW sites minimising total weighted response time (p-median).

    Parameters
    ----------
    times : (n_demand, n_candidates) array or scipy.sparse matrix of seconds
        Sparse: a stored entry (explicit zeros included) is a reachable pair, a missing entry is
        unreachable. Dense: ``inf`` or ``NaN`` is unreachable.
    weights, p, fixed, required, excluded, groups, group_min, group_max
        As in :func:`max_cover` (``p`` counts new sites, fixed ones come on top).
    penalty_s : float, optional
        Time charged to demand that no selected site reaches; default twice the largest finite
        time. Times above it are capped at it.
    time_limit_s, mip_gap, solver, progress
        As in :func:`min_cover`.

    Returns
    -------
    Solution
        ``objective`` = sum over ALL demand of weight x time to the nearest selected site
        (``penalty_s`` when unreached; units no allowed site reaches pay it whatever the plan and
        are listed in ``uncoverable``). ``covered`` = reached by some selected site.
    """
    t0 = time.perf_counter()
    T = _times_matrix(times)
    n_dem, n_cand = T.shape
    w = _weights(weights, n_dem)
    p = _count(p)
    opts = _options(n_cand, fixed=fixed, required=required, excluded=excluded, groups=groups,
                    group_min=group_min, group_max=group_max, time_limit_s=time_limit_s,
                    mip_gap=mip_gap, solver=solver, progress=progress, p=p)
    tmax = float(T.data.max()) if T.nnz else 1.0
    if penalty_s is None:
        pen = 2.0 * tmax if tmax > 0 else 1.0
    else:
        try:
            pen = float(penalty_s)
        except (TypeError, ValueError):
            raise InputError(f"penalty_s must be seconds >= 0; got {penalty_s!r}") from None
        if not (np.isfinite(pen) and pen >= 0):
            raise InputError(f"penalty_s must be finite seconds >= 0; got {penalty_s!r}")
    Tc = T.tocsc()
    free = opts.free
    dec = opts.decided
    allowed = np.union1d(free, dec)
    reach_any = np.diff(Tc[:, allowed].tocsr().indptr) > 0 if allowed.size else np.zeros(n_dem, bool)
    uncoverable = np.flatnonzero(~reach_any)
    fallback = np.full(n_dem, pen)
    if dec.size:
        D = Tc[:, dec].tocsr()
        has = np.diff(D.indptr) > 0
        mins = np.full(n_dem, np.inf)
        rr = np.repeat(np.arange(n_dem), np.diff(D.indptr))
        np.minimum.at(mins, rr, D.data)
        fallback = np.where(has, np.minimum(mins, pen), pen)
    F = T[:, free].tocoo() if free.size else sp.coo_matrix((n_dem, 0))
    useful = (F.data < fallback[F.row]) & (w[F.row] > 0)
    zi, zj, zt = F.row[useful], F.col[useful], F.data[useful]
    const = float((w * fallback).sum())
    n = free.size
    p_free = p - opts.required.size
    lo, hi = opts.lo_free, opts.hi_free
    cg = opts.group_code[free]
    stats = {"rows": int(n_dem), "cols": int(n_cand), "pairs": int(zi.size)}
    # greedy add by largest weighted saving
    saving_w = w[zi] * (fallback[zi] - zt)  # saving if that pair is used, from fallback

    def total_cost(chosen: np.ndarray) -> float:
        cur = fallback.copy()
        for j in chosen:
            sel = zj == j
            np.minimum.at(cur, zi[sel], zt[sel])
        return float((w * cur).sum())

    cur = fallback.copy()
    chosen_mask = np.zeros(n, dtype=bool)
    slots = _Slots(cg, lo, hi, total=p_free)
    order = np.argsort(zj, kind="stable")
    zi_s, zj_s, zt_s = zi[order], zj[order], zt[order]
    starts = np.searchsorted(zj_s, np.arange(n + 1))
    while slots.n < p_free:
        ok = slots.eligible(chosen_mask)
        if not ok.any():
            break
        sav = np.bincount(zj, weights=w[zi] * np.maximum(cur[zi] - zt, 0.0), minlength=n)
        j = int(np.argmax(np.where(ok, sav, -np.inf)))
        if sav[j] <= _EPS and slots.mins_met():
            break
        chosen_mask[j] = True
        slots.take(j)
        a, b = starts[j], starts[j + 1]
        np.minimum.at(cur, zi_s[a:b], zt_s[a:b])
    picked = np.flatnonzero(chosen_mask)
    greedy_val = float((w * cur).sum())
    best = fallback.copy()
    np.minimum.at(best, zi, zt)
    trivial_bound = float((w * best).sum())

    if opts.solver == "greedy" or zi.size == 0:
        gap = _gap(greedy_val, trivial_bound, False)
        return _pmedian_solution(T, w, pen, opts, free[picked], greedy_val, min(trivial_bound, greedy_val), gap,
                                 "optimal" if gap == 0.0 else "greedy", uncoverable, t0, stats, p_free)
    # variables: x_j (n, binary), z_k (pairs, continuous); minimise const - sum saving_k z_k
    # rows: sum_k over demand i of z_k <= 1 ; z_k - x_j <= 0 ; quotas/total on x
    K = zi.size
    dem_codes, dem_inv = np.unique(zi, return_inverse=True)
    R1 = sp.hstack([sp.csr_matrix((dem_codes.size, n)),
                    sp.csr_matrix((np.ones(K), (dem_inv, np.arange(K))), shape=(dem_codes.size, K))])
    R2 = sp.hstack([sp.csr_matrix((-np.ones(K), (np.arange(K), zj)), shape=(K, n)), sp.identity(K, format="csr")])
    G, glo, ghi = _group_rows(cg, lo, hi, n, p_free)
    R3 = sp.hstack([G, sp.csr_matrix((G.shape[0], K))])
    M = sp.vstack([R1, R2, R3]).tocsc()
    r_lo = np.concatenate([np.full(dem_codes.size, -math.inf), np.full(K, -math.inf), glo])
    r_hi = np.concatenate([np.ones(dem_codes.size), np.zeros(K), ghi])
    cost = np.concatenate([np.zeros(n), -saving_w])
    is_int = np.concatenate([np.ones(n, bool), np.zeros(K, bool)])
    start = None
    if slots.mins_met():
        z0 = np.zeros(K)
        best_pair = {}
        for k in np.flatnonzero(chosen_mask[zj]):
            i = zi[k]
            if i not in best_pair or zt[k] < zt[best_pair[i]]:
                best_pair[i] = k
        z0[list(best_pair.values())] = 1.0
        start = np.concatenate([chosen_mask.astype(float), z0])
    t_mip = time.perf_counter()
    # HiGHS's relative gap is measured on its objective (minus the time saved), not on the total
    # cost we report: ask for an absolute gap of mip_gap x a lower bound on the total instead
    mip = _run_highs(cost, np.zeros(n + K), np.ones(n + K), is_int, M, r_lo, r_hi, maximize=False,
                     start=start, time_limit=opts.time_limit_s - (t_mip - t0), mip_gap=0.0,
                     log=opts.progress,
                     mip_abs_gap=opts.mip_gap * trivial_bound if opts.mip_gap > 0 else None)
    stats["mip_seconds"] = time.perf_counter() - t_mip
    if mip.status == "infeasible":
        raise InfeasibleError("p_median: no plan satisfies the quotas")
    if mip.x is None:
        chosen, status = picked, "greedy"
        bound = trivial_bound
    else:
        chosen = np.flatnonzero(mip.x[:n] > 0.5)
        status = None
        bound = const + mip.bound if np.isfinite(mip.bound) else trivial_bound
    obj = total_cost(chosen)
    bound = min(max(bound, trivial_bound), obj)
    gap = _gap(obj, bound, False)
    if status is None:
        status = _status(mip, gap)
    return _pmedian_solution(T, w, pen, opts, free[chosen], obj, bound, gap, status, uncoverable, t0, stats,
                             p_free)


def _pad_free(T, w, opts, chosen: np.ndarray, p_free: int) -> np.ndarray:
    """Fill the slots of new sites that save nothing more (the p-median optimum may need fewer
    than p) with the allowed sites reaching most demand, within the districts' maxima: the
    objective is unchanged and the plan has the p sites asked for."""
    need = p_free - chosen.size
    if need <= 0:
        return chosen
    used = set(chosen.tolist())
    g_count = np.bincount(opts.group_code[np.concatenate([chosen, opts.required]).astype(np.int64)],
                          minlength=opts.lo.size)
    Tc = T.tocsc()
    reach = np.array([float(w[Tc.indices[Tc.indptr[j]:Tc.indptr[j + 1]]].sum()) for j in opts.free])
    out = chosen.tolist() + _take_in_order(opts, np.argsort(-reach, kind="stable"), need, used, g_count)
    return np.array(sorted(out), dtype=np.int64)


def _pmedian_solution(T, w, pen, opts, new_free, obj, bound, gap, status, uncoverable, t0, stats,
                      p_free: int) -> Solution:
    new_free = _pad_free(T, w, opts, np.asarray(new_free, np.int64), p_free)
    new = np.union1d(opts.required, new_free).astype(np.int64)
    selected = np.union1d(opts.fixed, new).astype(np.int64)
    n_dem = T.shape[0]
    S = T.tocsc()[:, selected].tocsc()
    R = S.tocsr()
    cnt = np.diff(R.indptr)
    covered = cnt > 0
    only = np.flatnonzero(cnt == 1)
    unique = np.bincount(R.indices[R.indptr[only]], weights=w[only], minlength=selected.size) if only.size else np.zeros(selected.size)
    cur = np.full(n_dem, pen)
    marginal = np.zeros(selected.size)
    done = np.zeros(selected.size, dtype=bool)
    first = [int(np.searchsorted(selected, j)) for j in list(opts.fixed) + list(opts.required)]
    Sc = S.tocoo()
    before = 0.0
    for step in range(selected.size):
        if first:
            k = first.pop(0)
        else:
            sav = np.bincount(Sc.col, weights=w[Sc.row] * np.maximum(cur[Sc.row] - np.minimum(Sc.data, pen), 0.0),
                              minlength=selected.size)
            k = int(np.argmax(np.where(done, -np.inf, sav)))
        a, b = S.indptr[k], S.indptr[k + 1]
        rows, t = S.indices[a:b], np.minimum(S.data[a:b], pen)
        gain = float((w[rows] * np.maximum(cur[rows] - t, 0.0)).sum())
        np.minimum.at(cur, rows, t)
        marginal[k] = gain
        done[k] = True
    if opts.fixed.size:
        before = float(w[np.diff(T.tocsc()[:, opts.fixed].tocsr().indptr) > 0].sum())
    stats["seconds"] = time.perf_counter() - t0
    return Solution(
        model="pmedian", selected=selected, new=new, fixed=opts.fixed.copy(), objective=float(obj),
        bound=float(bound), gap=float(gap), status=status, covered=covered, covered_before=before,
        covered_after=float(w[covered].sum()), uncoverable=uncoverable.astype(np.int64),
        marginal=marginal, unique=unique, site_class=None, solve_seconds=time.perf_counter() - t0,
        stats=MappingProxyType(dict(stats)),
    )
