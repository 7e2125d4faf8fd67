"""Set-cover kernels for large instances: local search, Lagrangian bound, and the large path of
``min_cover`` (Lagrangian bound + exact solve on the columns a better cover could use), checked
against brute force and the LP relaxation (scipy's HiGHS)."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from coverage import _setcover
from coverage import optimise


def geometric(n_dem, n_cand, radius, seed):
    rng = np.random.default_rng(seed)
    d = rng.random((n_dem, 2))
    c = rng.random((n_cand, 2))
    A = np.hypot(d[:, None, 0] - c[None, :, 0], d[:, None, 1] - c[None, :, 1]) <= radius
    A = A[A.any(axis=1)]
    return A


def brute_min(A):
    n = A.shape[1]
    for k in range(1, n + 1):
        for s in itertools.combinations(range(n), k):
            if A[:, list(s)].any(axis=1).all():
                return k
    raise AssertionError("no cover")


def lp_value(A):
    n = A.shape[1]
    r = linprog(np.ones(n), A_ub=-A.astype(float), b_ub=-np.ones(A.shape[0]), bounds=(0, 1), method="highs")
    assert r.status == 0
    return r.fun


@pytest.mark.parametrize("seed", range(5))
def test_local_search_reaches_the_brute_force_optimum(seed):
    A = geometric(40, 16, 0.3, seed)
    B = sp.csr_matrix(A)
    start = _setcover.greedy_cover(B)
    assert A[:, start].any(axis=1).all()
    x = _setcover.local_search(B, start, time_limit=5.0, max_steps=20_000, seed=seed)
    assert A[:, x].any(axis=1).all()
    assert x.sum() <= start.sum()
    assert x.sum() == brute_min(A)


@pytest.mark.parametrize("seed", range(4))
def test_lagrangian_bound_is_valid_and_close_to_the_lp(seed):
    A = geometric(120, 60, 0.18, seed)
    B = sp.csr_matrix(A)
    lp = lp_value(A)
    ub = int(_setcover.greedy_cover(B).sum())
    bound, u = _setcover.lagrangian_bound(B, ub + 5, time_limit=10.0)
    assert (u >= 0).all()
    # L(u) recomputed independently from the multipliers is the returned bound
    rc = 1.0 - A.T.astype(float) @ u
    assert bound == pytest.approx(u.sum() + np.minimum(rc, 0).sum(), rel=1e-9, abs=1e-9)
    assert bound <= lp + 1e-6  # a Lagrangian bound never exceeds the LP optimum
    assert bound >= 0.95 * lp


def test_greedy_cover_rejects_an_uncoverable_row():
    B = sp.csr_matrix(np.array([[1, 0], [0, 0]], dtype=bool))
    with pytest.raises(ValueError, match="no column"):
        _setcover.greedy_cover(B)


@pytest.mark.parametrize("dense", [False, True])  # subgradient bound only / then row-generation LP
@pytest.mark.parametrize("seed", range(4))
def test_large_path_of_min_cover_is_exact(seed, dense, monkeypatch):
    """Forcing the large-instance path on instances HiGHS solves directly: the Lagrangian bound
    plus the exact solve restricted by reduced costs must prove the same optimum."""
    A = geometric(400, 300, 0.1, seed)
    default = optimise.min_cover(A, time_limit_s=60)
    assert default.status == "optimal"
    monkeypatch.setattr(optimise, "_LARGE_COVER_NNZ", 0)
    monkeypatch.setattr(optimise, "_DENSE_ROW_LEN", 0 if dense else 10**9)
    sol = optimise.min_cover(A, time_limit_s=60)
    assert sol.stats["lagrangian_bound"] <= default.objective + 1e-9
    # either the bound alone proves the cover optimal or the restricted exact solve ran
    assert "cols_restricted" in sol.stats or sol.stats["lagrangian_bound"] > sol.objective - 1
    assert A[:, sol.selected].any(axis=1).all()
    assert (sol.objective, sol.bound, sol.status, sol.gap) == (default.objective, default.objective, "optimal", 0.0)


@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("seed", range(3))
def test_large_path_without_exact_solve_brackets_the_optimum(seed, dense, monkeypatch):
    """When even the restricted problem is too large, local search uses the time: the plan is
    a cover and the reported bound never exceeds the true optimum."""
    A = geometric(400, 300, 0.1, seed)
    opt = optimise.min_cover(A, time_limit_s=60).objective
    monkeypatch.setattr(optimise, "_LARGE_COVER_NNZ", 0)
    monkeypatch.setattr(optimise, "_DENSE_ROW_LEN", 0 if dense else 10**9)
    monkeypatch.setattr(optimise, "_RESTRICTED_MIP_NNZ", 0)
    sol = optimise.min_cover(A, time_limit_s=3)
    assert A[:, sol.selected].any(axis=1).all()
    assert sol.bound <= opt <= sol.objective
    assert sol.gap == pytest.approx((sol.objective - sol.bound) / sol.objective)
    assert sol.status in ("optimal", "time_limit")


def test_large_path_keeps_fixed_sites_and_reports_uncoverable(monkeypatch):
    A = geometric(80, 20, 0.25, 3)
    A = np.vstack([A, np.zeros((1, A.shape[1]), dtype=bool)])  # one demand unit nobody reaches
    monkeypatch.setattr(optimise, "_LARGE_COVER_NNZ", 0)
    sol = optimise.min_cover(A, fixed=[0, 1], time_limit_s=30)
    assert {0, 1} <= set(sol.selected.tolist())
    assert sol.uncoverable.tolist() == [A.shape[0] - 1]
    assert A[:-1][:, sol.selected].any(axis=1).all()
    # brute force over new sites with 0 and 1 fixed
    rest = A[:-1][~A[:-1][:, [0, 1]].any(axis=1)][:, 2:]
    assert sol.objective == (brute_min(rest) if rest.shape[0] else 0)


@pytest.mark.parametrize("seed", range(3))
def test_lp_over_a_row_subset_reaches_the_full_lp(seed):
    """Row generation ends at the LP over all rows (scipy's HiGHS on the full LP), and its
    bound, recomputed from the multipliers, never exceeds it."""
    A = geometric(1500, 300, 0.09, seed)
    B = sp.csr_matrix(A)
    lp = lp_value(A)
    bound, u, rows, finished = _setcover.lp_bound_rows(B, 10**6, time_limit=60)
    assert finished and rows.size < A.shape[0] and np.unique(rows).size == rows.size
    assert (u[np.setdiff1d(np.arange(A.shape[0]), rows)] == 0).all()
    assert bound == pytest.approx(lp, abs=1e-6)
    rc = 1.0 - A.T.astype(float) @ u
    assert bound == pytest.approx(u.sum() + np.minimum(rc, 0).sum(), abs=1e-9)
    # stopped early it is still a valid bound
    early, _, _, _ = _setcover.lp_bound_rows(B, 10**6, time_limit=0.05)
    assert early <= lp + 1e-6


@pytest.mark.parametrize("seed", [4, 6, 0, 1])  # greedy misses the optimum by one on 4 and 6
def test_row_subset_search_reaches_the_brute_force_optimum(seed):
    """Search on a few rows, growing them with the rows its covers miss: the result covers every
    row, is never larger than the start, and reaches the optimum on small instances."""
    A = geometric(60, 18, 0.25, seed)
    B = sp.csr_matrix(A)
    start = _setcover.greedy_cover(B)
    few = np.arange(0, A.shape[0], 10)  # a tenth of the rows to begin with
    x = _setcover.row_subset_search(B, start, few, time_limit=5.0, target=brute_min(A), seed=seed)
    assert A[:, x].any(axis=1).all()
    assert x.sum() <= start.sum()
    assert x.sum() == brute_min(A)


def test_row_subset_search_never_returns_a_partial_cover():
    """Rows outside the subset that no small cover of the subset reaches: the answer is still a
    cover of all rows (here the start itself: nothing smaller exists)."""
    # rows 0-2 are covered by column 0 alone; row 3 only by column 1; row 4 only by column 2
    A = np.array([[1, 0, 0], [1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=bool)
    B = sp.csr_matrix(A)
    start = np.array([True, True, True])
    x = _setcover.row_subset_search(B, start, np.array([0, 1]), time_limit=2.0)
    assert x.tolist() == [True, True, True]


def test_large_path_shows_its_phases_when_asked(monkeypatch, capsys):
    """A city-scale set cover runs for minutes: with ``progress`` its phases, best cover and
    bound appear on stderr; without it nothing is printed."""
    A = geometric(400, 300, 0.1, 1)
    monkeypatch.setattr(optimise, "_LARGE_COVER_NNZ", 0)
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    quiet = optimise.min_cover(A, time_limit_s=30)
    assert capsys.readouterr().err == ""
    sol = optimise.min_cover(A, time_limit_s=30, progress=True)
    err = capsys.readouterr().err
    assert "set cover" in err and "lower bound (" in err
    assert f"done: best {sol.objective:.0f}, bound {sol.bound:.0f}" in err
    assert sol.objective == quiet.objective


def test_many_sparse_rows_skip_the_root_lp(monkeypatch):
    """Sparse covers with many demand rows (hydrant placement) go straight to the large-cover
    path, whose subgradient bound and local search give the same optimum here."""
    A = geometric(400, 300, 0.1, 2)
    default = optimise.min_cover(A, time_limit_s=60)
    assert "lp_bound" in default.stats and "lagrangian_bound" not in default.stats
    monkeypatch.setattr(optimise, "_LARGE_SPARSE_ROWS", 10)
    sol = optimise.min_cover(A, time_limit_s=60)
    assert "lp_bound" not in sol.stats and "lagrangian_bound" in sol.stats
    assert A[:, sol.selected].any(axis=1).all()
    assert (sol.objective, sol.status) == (default.objective, "optimal")


def test_root_lp_out_of_time_falls_back_to_the_large_path(monkeypatch):
    """When HiGHS's root LP does not finish in its share of the time, the cover still comes from
    the large-cover path (never from a MIP left no time): a cover, bound <= optimum <= objective."""
    A = geometric(400, 300, 0.1, 0)
    opt = optimise.min_cover(A, time_limit_s=60).objective
    real = optimise._run_highs

    def lp_times_out(*args, **kw):
        if not args[3].any():  # the LP relaxation (no integer columns)
            return optimise._MipOut(None, math.nan, -math.inf, "time_limit")
        return real(*args, **kw)

    monkeypatch.setattr(optimise, "_run_highs", lp_times_out)
    sol = optimise.min_cover(A, time_limit_s=20)
    assert sol.stats["lp_status"] == "time_limit" and "lagrangian_bound" in sol.stats
    assert A[:, sol.selected].any(axis=1).all()
    assert sol.bound <= opt <= sol.objective
