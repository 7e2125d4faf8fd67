"""Optimiser: brute force on small instances, agreement with spopt, quotas, fixed sites, errors."""
from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from coverage.errors import InfeasibleError, InputError
from coverage.optimise import backup_cover, max_cover, max_cover_classes, min_cover, p_median, site_gains


def instance(n_dem=14, n_cand=9, radius=0.35, seed=0):
    rng = np.random.default_rng(seed)
    d = rng.random((n_dem, 2))
    c = rng.random((n_cand, 2))
    dist = np.hypot(d[:, None, 0] - c[None, :, 0], d[:, None, 1] - c[None, :, 1])
    w = rng.integers(1, 20, n_dem).astype(float)
    return dist, dist <= radius, w


def covered_weight(cov, w, cols, times=1):
    return w[cov[:, list(cols)].sum(axis=1) >= times].sum() if len(cols) else 0.0


def brute(n_cand, k, ok=lambda s: True, fixed=(), score=None, maximize=True):
    best, arg = None, None
    free = [j for j in range(n_cand) if j not in fixed]
    for s in itertools.combinations(free, k):
        if not ok(s):
            continue
        v = score(tuple(fixed) + s)
        if best is None or (v > best if maximize else v < best):
            best, arg = v, s
    return best, arg


@pytest.mark.parametrize("seed", range(6))
def test_max_cover_matches_brute_force(seed):
    _, cov, w = instance(seed=seed)
    for p in (1, 2, 3):
        sol = max_cover(cov, w, p)
        best, _ = brute(cov.shape[1], p, score=lambda s: covered_weight(cov, w, s))
        assert sol.status == "optimal" and sol.gap == 0
        assert sol.objective == pytest.approx(best)
        assert covered_weight(cov, w, sol.selected) == pytest.approx(best)
        assert len(sol.new) == p


@pytest.mark.parametrize("seed", range(6))
def test_min_cover_with_fixed_matches_brute_force(seed):
    _, cov, w = instance(seed=seed)
    fixed = [0]
    coverable = cov.any(axis=1)
    sol = min_cover(sp.csr_matrix(cov), fixed=fixed, weights=w)
    need = None
    for k in range(cov.shape[1]):
        if any(np.array_equal(cov[:, [0, *s]].any(axis=1), coverable)
               for s in itertools.combinations(range(1, cov.shape[1]), k)):
            need = k
            break
    assert sol.objective == need and len(sol.new) == need
    assert 0 in sol.selected
    assert np.array_equal(cov[:, sol.selected].any(axis=1), coverable)
    assert set(sol.uncoverable.tolist()) == set(np.flatnonzero(~coverable).tolist())


@pytest.mark.parametrize("seed", range(4))
def test_quotas_and_fixed_honoured_against_brute_force(seed):
    _, cov, w = instance(n_dem=16, n_cand=10, seed=seed)
    groups = np.array(["a"] * 5 + ["b"] * 5)
    fixed = [9]
    p = 3
    sol = max_cover(cov, w, p, fixed=fixed, groups=groups, group_min={"a": 2}, group_max={"b": 1})
    ok = lambda s: sum(groups[j] == "a" for j in s) >= 2 and sum(groups[j] == "b" for j in s) <= 1
    best, _ = brute(10, p, ok=ok, fixed=fixed, score=lambda s: covered_weight(cov, w, s))
    assert sol.objective == pytest.approx(best)
    new = sol.new.tolist()
    assert 9 in sol.selected and 9 not in new
    assert sum(groups[j] == "a" for j in new) >= 2 and sum(groups[j] == "b" for j in new) <= 1


@pytest.mark.parametrize("seed", range(4))
def test_backup_cover_matches_brute_force(seed):
    _, cov, w = instance(seed=seed, radius=0.45)
    p = 3
    sol = backup_cover(cov, w, p)
    best, _ = brute(cov.shape[1], p, score=lambda s: covered_weight(cov, w, s, times=2))
    assert sol.objective == pytest.approx(best)


@pytest.mark.parametrize("seed", range(4))
def test_p_median_matches_brute_force(seed):
    dist, _, w = instance(seed=seed)
    times = dist * 1000
    p = 2
    sol = p_median(times, w, p)
    best, _ = brute(times.shape[1], p, score=lambda s: float((w * times[:, list(s)].min(axis=1)).sum()),
                    maximize=False)
    assert sol.objective == pytest.approx(best, rel=1e-9)


def test_classes_with_their_own_reach():
    dist, _, w = instance(n_dem=16, n_cand=8, seed=3)
    big, small = dist <= 0.4, dist <= 0.2
    sol = max_cover_classes({"class1": big, "small": small}, w, {"class1": 1, "small": 2})
    best = 0.0
    for a in range(8):
        for s in itertools.combinations([j for j in range(8) if j != a], 2):
            cov = big[:, a] | small[:, list(s)].any(axis=1)
            best = max(best, w[cov].sum())
    assert sol.objective == pytest.approx(best)
    assert sorted(sol.site_class.tolist()) == ["class1", "small", "small"]


def test_greedy_is_feasible_and_reports_itself():
    _, cov, w = instance(n_dem=40, n_cand=20, seed=5)
    sol = max_cover(cov, w, 3, solver="greedy")
    assert sol.status == "greedy" and len(sol.new) == 3
    exact = max_cover(cov, w, 3)
    assert sol.objective <= exact.objective + 1e-9
    assert exact.bound >= exact.objective - 1e-9


def test_agrees_with_spopt():
    spopt = pytest.importorskip("spopt.locate")
    pulp = pytest.importorskip("pulp")
    dist, _, w = instance(n_dem=60, n_cand=25, radius=0.3, seed=11)
    solver = pulp.PULP_CBC_CMD(msg=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lscp = spopt.LSCP.from_cost_matrix(dist, 0.3).solve(solver)
        ours = min_cover(dist <= 0.3)
        # spopt's LSCP needs every demand coverable; all are here
        assert not len(ours.uncoverable)
        assert ours.objective == int(round(pulp.value(lscp.problem.objective)))
        mclp = spopt.MCLP.from_cost_matrix(dist, w, 0.3, p_facilities=4).solve(solver)
        ours = max_cover(dist <= 0.3, w, 4)
        assert ours.objective == pytest.approx(pulp.value(mclp.problem.objective))


def test_bad_inputs_before_solving():
    _, cov, w = instance()
    with pytest.raises(InputError, match="no candidate"):
        min_cover(np.zeros((3, 0), bool))
    with pytest.raises(InputError):
        max_cover(cov, w, cov.shape[1] + 1)
    with pytest.raises(InputError, match="-1"):
        max_cover(cov, w, -1)
    with pytest.raises(InputError, match="weights"):
        max_cover(cov, w[:-1], 2)
    with pytest.raises(InputError, match="weights"):
        max_cover(cov, -w, 2)
    with pytest.raises(InputError, match="both fixed and excluded"):
        max_cover(cov, w, 2, fixed=[1], excluded=[1])
    with pytest.raises(InputError):
        max_cover(cov, w, 2, fixed=[99])
    groups = np.array(["a"] * 4 + ["b"] * 5)
    with pytest.raises((InputError, InfeasibleError)):
        max_cover(cov, w, 2, groups=groups, group_min={"a": 3}, group_max={"a": 1})
    with pytest.raises((InputError, InfeasibleError)):
        max_cover(cov, w, 2, groups=groups, group_min={"a": 2, "b": 2})
    with pytest.raises((InputError, InfeasibleError), match="c"):
        max_cover(cov, w, 2, groups=groups, group_min={"c": 1})


def test_max_quotas_below_p_are_infeasible_not_fewer_sites():
    # every candidate lies in a capped district and the caps allow 1 new site in all: asking
    # for 2 used to return 1 site as "optimal"
    cov = np.eye(4, dtype=bool)
    w = np.ones(4)
    groups = np.array(["a", "a", "b", "b"])
    caps = {"a": 0, "b": 1}
    for solve in (lambda **k: max_cover(cov, w, 2, **k), lambda **k: backup_cover(cov, w, 2, **k),
                  lambda **k: p_median(sp.csr_matrix(cov * 10.0), w, 2, **k),
                  lambda **k: max_cover_classes({"x": cov, "y": cov}, w, {"x": 1, "y": 1}, **k)):
        with pytest.raises(InfeasibleError, match=r"at most 1 new sites but p=2: 'a' max 0, 'b' max 1"):
            solve(groups=groups, group_max=caps)
    # a district without a maximum takes the rest
    open_g = np.array(["a", "a", "b", "c"])
    sol = max_cover(cov, w, 2, groups=open_g, group_max=caps)
    assert len(sol.new) == 2 and "a" not in {open_g[j] for j in sol.new}
    # a cap above what a district holds: it can give only what it has
    with pytest.raises(InfeasibleError, match="at most 3 new sites but p=4"):
        max_cover(cov, w, 4, groups=np.array(["a", "b", "b", "b"]), group_max={"a": 5, "b": 2})
    # set cover keeps its meaning: no p, the caps only limit the cover
    sol = min_cover(cov, groups=open_g, group_max={"a": 2, "b": 1})
    assert sorted(sol.new.tolist()) == [0, 1, 2, 3]


def test_uncoverable_demand_is_reported_not_infeasible():
    cov = np.array([[1, 0], [0, 1], [0, 0]], bool)
    sol = min_cover(cov)
    assert sol.uncoverable.tolist() == [2]
    assert sol.objective == 2


@pytest.mark.parametrize("seed", range(5))
def test_lagrangian_bound_brackets_the_optimum(seed):
    from coverage.optimise import _lagrangian_mclp

    _, cov, w = instance(n_dem=30, n_cand=12, radius=0.3, seed=seed)
    groups = np.array([0] * 6 + [1] * 6)
    lo, hi = np.array([1, 0]), np.array([10, 2])
    ok = lambda s: sum(groups[j] == 0 for j in s) >= 1 and sum(groups[j] == 1 for j in s) <= 2
    best, _ = brute(12, 3, ok=ok, score=lambda s: covered_weight(cov, w, s))
    cols, lb, ub = _lagrangian_mclp(sp.csr_matrix(cov.astype(np.int32)), w, np.zeros(0, np.int64),
                                    groups, lo, hi, 3, seconds=5)
    assert lb <= best + 1e-9 <= ub + 2e-9
    assert lb == pytest.approx(covered_weight(cov, w, cols))
    assert ok(cols.tolist()) and len(cols) == 3


@pytest.mark.parametrize("seed", range(5))
def test_quota_selection_is_exact(seed):
    from coverage.optimise import _select_top

    rng = np.random.default_rng(seed)
    c = rng.random(9)
    groups = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2])
    lo, hi = np.array([1, 0, 2]), np.array([3, 1, 3])
    x = _select_top(c, groups, lo, hi, 4)
    ok = lambda s: all(lo[g] <= sum(groups[j] == g for j in s) <= hi[g] for g in range(3))
    best, _ = brute(9, 4, ok=ok, score=lambda s: c[list(s)].sum())
    assert c[x].sum() == pytest.approx(best) and ok(x.tolist())


@pytest.mark.parametrize("seed", [65, 77, 87, 109, 237])
def test_highs_start_is_never_reported_wrongly(seed):
    """HiGHS 1.16 returned a start as 'optimal' with a wrong objective when presolve removed
    columns (these seeds triggered it); the wrapper must return the true optimum, matching
    scipy's own HiGHS build without a start."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    from coverage.optimise import _run_highs

    rng = np.random.default_rng(seed)
    m, n = rng.integers(20, 80), rng.integers(20, 80)
    A = rng.random((m, n)) < rng.uniform(0.03, 0.15)
    for i in range(m):
        if not A[i].any():
            A[i, rng.integers(n)] = True
    B = sp.csc_matrix(A.astype(float))
    start = np.zeros(n)  # a poor but feasible start: the first column of each uncovered row
    for i in range(m):
        if not (A[i] & (start > 0)).any():
            start[np.flatnonzero(A[i])[0]] = 1.0
    out = _run_highs(np.ones(n), np.zeros(n), np.ones(n), np.ones(n, bool), B, np.ones(m), np.full(m, np.inf),
                     maximize=False, start=start, time_limit=20, mip_gap=0.0, log=False)
    ref = milp(np.ones(n), constraints=LinearConstraint(A.astype(float), 1, np.inf), integrality=np.ones(n),
               bounds=Bounds(0, 1))
    assert out.status == "optimal"
    x = out.x > 0.5
    assert A[:, x].any(axis=1).all()
    assert x.sum() == pytest.approx(out.objective)
    assert out.objective == pytest.approx(ref.fun)
    assert out.bound <= out.objective + 1e-6


def test_site_gains_builds_the_plan_greedily_after_the_given_sites():
    rng = np.random.default_rng(7)
    for _ in range(30):
        S = rng.random((40, 8)) < 0.25
        w = rng.random(40) * 10
        first = list(rng.permutation(8)[:rng.integers(0, 3)])
        order, marginal, unique = site_gains(sp.csr_matrix(S), w, first + first[:1])  # a repeat is ignored
        assert sorted(order.tolist()) == list(range(8)) and order[:len(first)].tolist() == first
        covered = np.zeros(40, bool)
        for k in order:
            gain = w[S[:, k] & ~covered].sum()
            assert marginal[k] == pytest.approx(gain)
            if k not in first:  # greedy: no remaining site would add more
                rest = [j for j in range(8) if j not in order[:list(order).index(k)] and j != k]
                assert all(w[S[:, j] & ~covered].sum() <= gain + 1e-9 for j in rest)
            covered |= S[:, k]
        only = S.sum(axis=1) == 1
        assert np.allclose(unique, [w[only & S[:, k]].sum() for k in range(8)])


def test_stored_zeros_in_sparse_covers_are_not_coverage():
    """Thresholding a sparse time matrix (``C.data = C.data <= limit``) keeps False entries;
    they must count as "not covered", as in the dense matrix."""
    from coverage.optimise import backup_cover, max_cover_classes

    T = sp.csr_matrix([[300.0, 900.0, 0.0], [900.0, 300.0, 0.0], [300.0, 300.0, 900.0]])
    C = T.copy()
    C.data = C.data <= 600
    assert C.nnz == 7 and not C.data.all()
    dense = C.toarray()
    assert min_cover(C).objective == min_cover(dense).objective == 2
    assert max_cover(C, None, 1).objective == max_cover(dense, None, 1).objective == 2
    assert backup_cover(C, None, 2).objective == backup_cover(dense, None, 2).objective
    by = max_cover_classes({"a": C, "b": C}, None, {"a": 1, "b": 0})
    assert by.objective == 2
    # duplicate entries of a COO matrix are one cover, whatever their dtype
    coo = sp.coo_matrix((np.array([1, 1, 1, 1]), (np.array([0, 0, 1, 2]), np.array([0, 0, 1, 0]))),
                        shape=(3, 2))
    assert min_cover(coo).objective == 2


@pytest.mark.parametrize("limit", [0.005, 0.02])
def test_tiny_time_limits_give_a_plan_with_a_valid_bound(limit):
    rng = np.random.default_rng(1)
    D, C = rng.random((300, 2)), rng.random((1500, 2))
    A = np.hypot(*(D[:, None] - C[None]).transpose(2, 0, 1)) < 0.12
    s = min_cover(A, time_limit_s=limit)
    best = min_cover(A).objective  # 23, proven
    assert A[:, s.selected].any(axis=1).all()  # a real cover, whatever the time
    assert s.bound <= best <= s.objective
    assert (s.status == "optimal") == (s.objective == s.bound)


def test_p_median_always_builds_the_p_sites_asked_for():
    # two demand units only site 0 reaches: the optimum needs 1 site; p=2 still gives 2
    T = np.array([[10.0, np.inf, np.inf], [10.0, np.inf, np.inf]])
    r = p_median(T, None, 2)
    assert r.new.size == 2 and r.p == 2 and 0 in r.new and r.objective == 20.0
    rng = np.random.default_rng(5)
    for _ in range(30):
        n_dem, n_cand = rng.integers(3, 9), rng.integers(3, 8)
        t = np.where(rng.random((n_dem, n_cand)) < 0.3, rng.integers(1, 50, (n_dem, n_cand)), np.inf)
        p = int(rng.integers(1, n_cand))
        r = p_median(t, None, p, penalty_s=100.0)
        assert r.new.size == p
        best = min(np.minimum(np.min(t[:, list(c)], axis=1), 100.0).sum()
                   for c in itertools.combinations(range(n_cand), p))
        assert r.objective == pytest.approx(best)


def test_a_heuristic_or_time_limit_failure_is_not_called_infeasible():
    from coverage.errors import NoPlanFoundError

    # greedy takes column 0 first and then has no site left for row 0; [2, 3] is a valid plan
    A = np.array([[0, 0, 0, 1, 0], [1, 1, 1, 0, 0], [1, 1, 1, 0, 0]], bool)
    kw = dict(groups=list("aabaa"), group_max={"a": 1})
    with pytest.raises(NoPlanFoundError, match="greedy heuristic.*solver='highs'") as info:
        min_cover(A, solver="greedy", **kw)
    assert not isinstance(info.value, InfeasibleError)
    s = min_cover(A, **kw)
    assert s.status == "optimal" and sorted(s.selected.tolist()) == [2, 3]
    # a truly infeasible quota is still InfeasibleError
    with pytest.raises(InfeasibleError):
        min_cover(A, groups=list("aabaa"), group_max={"a": 0, "b": 0})


def test_small_input_mistakes_and_classes_uncoverable():
    A = np.array([[1, 0], [0, 1]], bool)
    with pytest.raises(InputError, match=r"no district for candidate\(s\) \[1\]"):
        max_cover(A, None, 1, groups=["a", None], group_min={"a": 1})
    with pytest.raises(InputError, match="2-D"):
        p_median(sp.csr_array(np.array([1.0, 2.0])), None, 1)
    # demand reachable only by a class that builds no new site is uncoverable
    r = max_cover_classes({"big": [[1, 1], [0, 1], [1, 0]], "small": [[0, 0], [0, 1], [1, 0]]}, None,
                          {"big": 0, "small": 1})
    assert r.uncoverable.tolist() == [0]


def test_time_limit_must_be_finite_and_uncoverable_means_no_allowed_site():
    A = np.array([[1, 0], [0, 1]], bool)
    with pytest.raises(InputError, match=r"finite number of seconds .* got inf"):
        min_cover(A, time_limit_s=float("inf"))
    # reachable demand is not "uncoverable" because no new site is left to place
    assert max_cover(A, None, 0).uncoverable.tolist() == []
    assert max_cover(A, None, 1, required=[0]).uncoverable.tolist() == []
    assert max_cover(np.array([[1, 0], [0, 0]], bool), None, 1).uncoverable.tolist() == [1]


def _geo(n_dem, n_cand, r, seed):
    g = np.random.default_rng(seed)
    D, C = g.random((n_dem, 2)), g.random((n_cand, 2))
    return np.sqrt(((D[:, None] - C[None]) ** 2).sum(-1)) < r


def test_a_closed_gap_is_reported_optimal_whatever_stopped_the_solver():
    """The set-cover bound is rounded up to a whole number of sites: when that meets the plan,
    the plan is proven optimal even if HiGHS stopped at its time limit."""
    from coverage.optimise import _MipOut, _status

    assert _status(_MipOut(None, 28.0, 27.3, "time_limit"), 0.0) == "optimal"
    assert _status(_MipOut(None, 28.0, 27.3, "time_limit"), 0.02) == "time_limit"
    assert _status(_MipOut(None, 28.0, 27.9, "optimal"), 0.01) == "gap_limit"
    A = _geo(400, 300, 0.12, 1)
    for limit in (0.2, 0.4, 5.0):
        s = min_cover(A, time_limit_s=limit)
        assert (s.status == "optimal") == (s.gap == 0.0) and s.bound <= s.objective


def test_pmedian_gap_limit_is_measured_on_the_reported_total():
    """HiGHS's relative gap is on its own objective (time saved); the reported gap is on the total
    weighted time, so a requested mip_gap used to come back up to 6x wider as "gap_limit"."""
    for seed in range(4):
        g = np.random.default_rng(seed)
        T = g.uniform(100, 1000, (60, 25))
        T[g.random(T.shape) < 0.5] = np.inf
        w = g.integers(1, 10, 60).astype(float)
        s = p_median(T, w, 3, mip_gap=0.05, time_limit_s=60)
        assert s.status in ("optimal", "gap_limit") and s.gap <= 0.05 + 1e-12
        best = p_median(T, w, 3, time_limit_s=60)
        assert best.status == "optimal" and s.objective <= best.objective * 1.05 + 1e-6
        assert s.bound <= best.objective + 1e-6


def test_tiny_weights_give_the_same_plan_as_their_scaled_up_copy():
    """Solver tolerances are absolute: weights near 1e-12 used to stop HiGHS and the greedy at
    once, with a plan covering 40 % less, labelled optimal. Weights are scaled internally."""
    g = np.random.default_rng(3)
    A = g.random((300, 120)) < 0.05
    w = g.integers(1, 100, 300).astype(float)
    ref = max_cover(A, w, 6)
    T = np.where(A, g.uniform(10, 100, A.shape), np.inf)
    ref_pm = p_median(T, w, 5)
    ref_cl = max_cover_classes({"a": A, "b": A}, w, {"a": 3, "b": 3})
    for k in (1e-6, 1e-12):
        s = max_cover(A, w * k, 6)
        assert s.status == "optimal" and s.objective == pytest.approx(ref.objective * k, rel=1e-12)
        assert s.covered_after == pytest.approx(ref.covered_after * k, rel=1e-12)
        assert s.marginal.sum() == pytest.approx(ref.marginal.sum() * k, rel=1e-9)
        assert p_median(T, w * k, 5).objective == pytest.approx(ref_pm.objective * k, rel=1e-9)
        assert max_cover_classes({"a": A, "b": A}, w * k, {"a": 3, "b": 3}).objective == pytest.approx(
            ref_cl.objective * k, rel=1e-12)


def test_odd_inputs_get_specific_errors_or_sensible_readings():
    A = _geo(40, 20, 0.3, 2)
    with pytest.raises(InputError, match="fixed .* mapping class name"):
        max_cover_classes({"std": A, "small": A}, None, {"std": 1}, fixed=[0])
    with pytest.raises(InputError, match="required .* mapping class name"):
        max_cover_classes({"std": A, "small": A}, None, {"std": 1}, required=np.array([1]))
    with pytest.raises(InputError, match="boolean matrix"):
        p_median(np.eye(2, dtype=bool), None, 1)
    # a CSR built from triplets sums a duplicate to 2: the message says so
    dup = sp.csr_matrix((np.ones(2, int), (np.array([0, 0]), np.array([0, 0]))), shape=(1, 2))
    with pytest.raises(InputError, match="duplicate"):
        min_cover(dup)
    # a pair given twice in a sparse time matrix takes its time once (the shorter), never the sum
    t = sp.coo_matrix((np.array([30.0, 40.0]), (np.array([0, 0]), np.array([0, 0]))), shape=(1, 2))
    s = p_median(t, None, 1)
    assert s.objective == 30.0 and list(s.selected) == [0]
    # any whole-number p, numpy float32 included
    assert max_cover(A, None, np.float32(2.0)).p == 2


def test_models_take_every_argument_by_name():
    A = _geo(40, 20, 0.3, 2)
    w = np.random.default_rng(1).random(40) * 1e-6  # scaled internally: the wrapper must bind names
    T = np.where(A, 10.0, np.inf)
    assert max_cover(covers=A, weights=w, p=3).objective == pytest.approx(max_cover(A, w, 3).objective)
    assert p_median(times=T, weights=w, p=3).objective == pytest.approx(p_median(T, w, 3).objective)
    assert backup_cover(covers=A, weights=w, p=3).objective == pytest.approx(backup_cover(A, w, 3).objective)
    assert max_cover_classes(covers_by_class={"a": A}, weights=w, counts={"a": 2}).objective == pytest.approx(
        max_cover_classes({"a": A}, w, {"a": 2}).objective)


@pytest.mark.parametrize("solver", ["highs", "greedy"])
def test_infeasible_maxima_are_named_with_the_demand_they_cut_off(solver):
    """'cannot cover all coverable demand within the group_max quotas' named no district."""
    C = np.array([[1, 0, 0, 0],   # only 'west' candidates reach rows 0 and 1
                  [1, 1, 0, 0],
                  [0, 0, 1, 0],
                  [0, 0, 0, 1]], bool)
    groups = ["west", "west", "east", "east"]
    with pytest.raises(InfeasibleError,
                       match=r"quotas \(west <= 0\): 2 demand unit\(s\) are reached only from "
                             r"candidates in west, which allow no new site"):
        min_cover(C, groups=groups, group_max={"west": 0}, solver=solver)
    with pytest.raises(InfeasibleError, match=r"\(east <= 1\): together they allow too few new sites"):
        min_cover(C, groups=groups, group_max={"east": 1})
    # a required site uses up west's only place: said, so "west <= 1 ... allow no new site" reads right
    with pytest.raises(InfeasibleError, match=r"west <= 1 \(1 taken by required sites\)"):
        min_cover(np.column_stack([C, np.array([0, 0, 1, 1], bool)]), groups=groups + ["west"],
                  group_max={"west": 1}, required=[4], solver=solver)
