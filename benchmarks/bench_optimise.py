"""Benchmark the optimiser against spopt (PuLP + CBC) on the same instances in the same run.

Run: ``python benchmarks/bench_optimise.py`` (``--quick`` for a short run, ``--help`` for sizes).

1. Random geometric set cover (points in a unit square, covered within a radius), demand x
   candidates 200 x 1,000 and 500 x 2,500: our ``min_cover`` vs spopt ``LSCP.from_cost_matrix``,
   checking both reach the same optimal number of sites; the same for MCLP.
2. Our scaling alone up to 20,000 candidates x 50,000 demand units from the road engine: a
   generated street grid (the travel-time benchmark's network: arterials, one-way streets),
   candidates at random crossings, every street segment a demand unit, covered when the engine
   reaches its midpoint within 240 s (``engine_city``). ``--geometric`` uses the older
   geometric stand-in (L1 distance on a grid) instead.

The last line is ``ratio spopt <spopt seconds / our seconds>`` for the 500 x 2,500 LSCP
(``--seed``). ``--seeds N`` also prints the ratio on seeds 1..N: instance hardness, and so both
solvers' times, vary several-fold between seeds.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from coverage.optimise import max_cover, min_cover


def square_instance(n_dem: int, n_cand: int, radius: float, seed: int):
    """Dense distance matrix and weights for points in the unit square."""
    rng = np.random.default_rng(seed)
    D = rng.random((n_dem, 2))
    C = rng.random((n_cand, 2))
    dist = np.hypot(D[:, None, 0] - C[None, :, 0], D[:, None, 1] - C[None, :, 1])
    w = rng.integers(1, 100, n_dem).astype(float)
    return dist, w


def grid_city(n_dem: int, n_cand: int, reach_m: float, seed: int, block_m: float = 150.0):
    """Engine-like sparse covers: grid streets, crossings as candidates, L1 street distance."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_cand)))
    gx, gy = np.meshgrid(np.arange(side), np.arange(side))
    cx = (gx.ravel() * block_m)[:n_cand] + rng.normal(0, 10, n_cand)
    cy = (gy.ravel() * block_m)[:n_cand] + rng.normal(0, 10, n_cand)
    extent = side * block_m
    # demand on streets: a random coordinate along a random grid line
    along = rng.random(n_dem) * extent
    line = rng.integers(0, side, n_dem) * block_m
    horizontal = rng.random(n_dem) < 0.5
    dx = np.where(horizontal, along, line)
    dy = np.where(horizontal, line, along)
    tree = cKDTree(np.column_stack([cx, cy]))
    pairs = tree.query_ball_point(np.column_stack([dx, dy]), r=reach_m, p=1, return_sorted=False)
    lens = np.fromiter((len(p) for p in pairs), dtype=np.int64, count=n_dem)
    cols = np.fromiter((j for p in pairs for j in p), dtype=np.int64, count=int(lens.sum()))
    rows = np.repeat(np.arange(n_dem), lens)
    A = sp.csr_matrix((np.ones(cols.size, dtype=bool), (rows, cols)), shape=(n_dem, n_cand))
    w = rng.gamma(2.0, 50.0, n_dem)
    return A, w


def engine_city(n_cand: int, seed: int, cutoff_s: float = 240.0):
    """Covers computed by the road engine: a generated street grid (mixed speeds, one-ways; the
    travel-time benchmark's network), candidates at ``n_cand`` random crossings, demand = every
    street segment once (about 2.5 per candidate), covered when a fire engine from the candidate
    reaches the segment's midpoint within ``cutoff_s`` (4 min of driving after 1 min turnout)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_traveltime import grid_network

    from coverage.network import build_csr
    from coverage.traveltime import bounded_reach

    n_nodes = int(round(n_cand * 1.3125))
    x, y, tail, head, sec = grid_network(n_nodes, seed=seed)
    n = x.size
    csr = build_csr(n, tail, head, sec)
    rng = np.random.default_rng(seed)
    cand = np.sort(rng.choice(n, size=min(n_cand, n), replace=False))
    # street segments (undirected) as demand units; a directed edge reaches its segment midpoint
    a, b = np.minimum(tail, head), np.maximum(tail, head)
    seg_key, seg_of_edge = np.unique(a * n + b, return_inverse=True)
    out_ptr = csr.indptr
    out_seg = seg_of_edge[csr.edge]
    out_half = csr.weights / 2.0
    res = bounded_reach(csr, np.arange(cand.size + 1), cand, np.zeros(cand.size), cutoff_s, sort=False)
    rows, cols = [], []
    for s0 in range(0, cand.size, 2000):
        s1 = min(cand.size, s0 + 2000)
        lo, hi = res.indptr[s0], res.indptr[s1]
        node, cost = res.node[lo:hi], res.cost[lo:hi]
        origin = np.repeat(np.arange(s0, s1), np.diff(res.indptr[s0:s1 + 1]))
        deg = out_ptr[node + 1] - out_ptr[node]
        e = np.repeat(out_ptr[node], deg) + (np.arange(deg.sum()) - np.repeat(np.cumsum(deg) - deg, deg))
        ok = np.repeat(cost, deg) + out_half[e] <= cutoff_s
        rows.append(out_seg[e[ok]])
        cols.append(np.repeat(origin, deg)[ok])
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    A = sp.csr_matrix((np.ones(rows.size, dtype=bool), (rows, cols)), shape=(seg_key.size, cand.size))
    A.sum_duplicates()
    w = rng.gamma(2.0, 50.0, seg_key.size)
    return A, w


# spopt runs in a child process: its numba import does ``import coverage`` and would find this
# project's package (not coverage.py); the child hides it so numba skips its coverage hook.
_SPOPT_CHILD = r"""
import json, sys, time
sys.modules["coverage"] = None
import numpy as np, pulp
from spopt.locate import LSCP, MCLP
data = np.load(sys.argv[1])
out = []
for k in range(int(data["n"])):
    dist, radius, kind = data[f"dist{k}"], float(data[f"radius{k}"]), str(data[f"kind{k}"])
    t = time.perf_counter()
    if kind == "lscp":
        m = LSCP.from_cost_matrix(dist, radius)
    else:
        m = MCLP.from_cost_matrix(dist, data[f"w{k}"], radius, p_facilities=int(data[f"p{k}"]))
    m = m.solve(pulp.PULP_CBC_CMD(msg=False), results=False)
    out.append([float(pulp.value(m.problem.objective)), time.perf_counter() - t])
print(json.dumps(out))
"""


def run_spopt(jobs: list[dict]) -> list[tuple[float, float]]:
    """Solve jobs (kind lscp/mclp, dist, radius, w, p) with spopt + CBC; (objective, seconds) each."""
    import json
    import os
    import subprocess
    import sys
    import tempfile

    arrays = {"n": np.array(len(jobs))}
    for k, job in enumerate(jobs):
        arrays[f"dist{k}"] = job["dist"]
        arrays[f"radius{k}"] = np.array(job["radius"])
        arrays[f"kind{k}"] = np.array(job["kind"])
        arrays[f"w{k}"] = job.get("w", np.zeros(0))
        arrays[f"p{k}"] = np.array(job.get("p", 0))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "jobs.npz")
        np.savez(path, **arrays)
        res = subprocess.run([sys.executable, "-c", _SPOPT_CHILD, path], capture_output=True, text=True,
                             cwd=tmp)
    if res.returncode != 0:
        raise RuntimeError(f"spopt child failed:\n{res.stderr[-2000:]}")
    return [tuple(x) for x in json.loads(res.stdout.strip().splitlines()[-1])]


def ours(fn, *args, **kw):
    t = time.perf_counter()
    s = fn(*args, **kw)
    return s, time.perf_counter() - t


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes only (no 500x2500 spopt, scale to 5k x 12.5k)")
    ap.add_argument("--radius", type=float, default=0.1, help="cover radius in the unit square (default 0.1)")
    ap.add_argument("--p", type=int, default=10, help="new sites for the MCLP comparison (default 10)")
    ap.add_argument("--reach-m", type=float, default=1500.0, help="street distance reach of the grid city (m)")
    ap.add_argument("--max-cand", type=int, default=20000, help="largest candidate count of the scaling run")
    ap.add_argument("--time-limit", type=float, default=120.0, help="our time limit per scaling solve (s)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--geometric", action="store_true", help="scaling on the geometric grid city, not the engine")
    ap.add_argument("--skip-scaling", action="store_true", help="only the comparison with spopt")
    ap.add_argument("--seeds", type=int, default=1,
                    help="also run the 500x2500 LSCP comparison on seeds 1..N and print each ratio "
                         "(instance hardness varies a lot between seeds); the last line stays --seed's")
    args = ap.parse_args(argv)

    sizes = [(200, 1000)] if args.quick else [(200, 1000), (500, 2500)]
    # load the compiled kernels once (numba cache) so that the first timing is not the load
    warm, _ = square_instance(30, 60, 0.3, 0)
    min_cover(warm <= 0.3)
    max_cover(warm <= 0.3, np.ones(30), 2)
    print(f"{'instance':<26}{'model':<7}{'spopt s':>9}{'ours s':>9}{'ratio':>8}{'spopt obj':>12}{'our obj':>12}  status")
    ratio_500 = None
    for n_dem, n_cand in sizes:
        dist, w = square_instance(n_dem, n_cand, args.radius, args.seed)
        covers = dist <= args.radius
        (s_obj, s_t), (m_obj, m_t) = run_spopt([
            {"kind": "lscp", "dist": dist, "radius": args.radius},
            {"kind": "mclp", "dist": dist, "radius": args.radius, "w": w, "p": args.p},
        ])
        sol, o_t = ours(min_cover, covers)
        same = "same" if abs(s_obj - sol.objective) < 1e-6 else "DIFFERENT"
        print(f"{f'square {n_dem}x{n_cand}':<26}{'lscp':<7}{s_t:9.3f}{o_t:9.3f}{s_t / o_t:8.1f}{s_obj:12.0f}"
              f"{sol.objective:12.0f}  {sol.status} {same} (model {sol.stats['rows_model']}x{sol.stats['cols_model']})")
        if (n_dem, n_cand) == (500, 2500):
            ratio_500 = s_t / o_t
        s_obj, s_t = m_obj, m_t
        sol, o_t = ours(max_cover, covers, w, args.p)
        same = "same" if abs(s_obj - sol.objective) <= 1e-6 * max(1.0, s_obj) else "DIFFERENT"
        print(f"{f'square {n_dem}x{n_cand}':<26}{'mclp':<7}{s_t:9.3f}{o_t:9.3f}{s_t / o_t:8.1f}{s_obj:12.0f}"
              f"{sol.objective:12.0f}  {sol.status} {same} (model {sol.stats['rows_model']}x{sol.stats['cols_model']})")

    print()
    cands = [] if args.skip_scaling else [1000, 2500, 5000] if args.quick else [1000, 2500, 5000, 10000,
                                                                              args.max_cand]
    if cands and args.geometric:
        print("scaling (ours only; geometric grid city, street-distance reach "
              f"{args.reach_m:.0f} m, demand = 2.5 x candidates)")
    elif cands:
        print("scaling (ours only; road engine on a generated street grid, 240 s reach, "
              "demand = every street segment, about 2.5 x candidates)")
    if cands:
        print(f"{'candidates':>10}{'demand':>9}{'nnz':>12}{'model':<7}{'seconds':>9}{'objective':>12}{'bound':>12}"
              f"{'gap':>9}  status")
    for n_cand in cands:
        t_build = time.perf_counter()
        if args.geometric:
            A, w = grid_city(int(2.5 * n_cand), n_cand, args.reach_m, args.seed)
        else:
            A, w = engine_city(n_cand, args.seed)
        n_dem = A.shape[0]
        print(f"{'':>10}(covers built in {time.perf_counter() - t_build:.1f} s)")
        for name, fn, extra in (("lscp", min_cover, ()), ("mclp", max_cover, (w, max(1, n_cand // 200)))):
            sol, t = ours(fn, A, *extra, time_limit_s=args.time_limit)
            print(f"{n_cand:>10}{n_dem:>9}{A.nnz:>12}{name:<7}{t:9.2f}{sol.objective:12.1f}{sol.bound:12.1f}"
                  f"{sol.gap:9.4f}  {sol.status} (model {sol.stats['rows_model']}x{sol.stats['cols_model']})")
    if args.seeds > 1:
        print()
        print(f"500 x 2,500 LSCP over seeds 1..{args.seeds} (radius {args.radius:g})")
        print(f"{'seed':>5}{'spopt s':>9}{'ours s':>9}{'ratio':>8}{'objective':>10}  model")
        ratios = []
        for seed in range(1, args.seeds + 1):
            dist, _ = square_instance(500, 2500, args.radius, seed)
            ((s_obj, s_t),) = run_spopt([{"kind": "lscp", "dist": dist, "radius": args.radius}])
            sol, o_t = ours(min_cover, dist <= args.radius)
            same = "" if abs(s_obj - sol.objective) < 1e-6 else f" DIFFERENT from spopt {s_obj:.0f}"
            ratios.append(s_t / o_t)
            print(f"{seed:>5}{s_t:9.2f}{o_t:9.3f}{s_t / o_t:8.1f}{sol.objective:10.0f}  "
                  f"{sol.stats['rows_model']}x{sol.stats['cols_model']} {sol.status}{same}")
        r = np.array(ratios)
        print(f"ratio over seeds: min {r.min():.1f}, median {np.median(r):.1f}, max {r.max():.1f}")
    if ratio_500 is None:
        dist, _ = square_instance(500, 2500, args.radius, args.seed)
        ((s_obj, s_t),) = run_spopt([{"kind": "lscp", "dist": dist, "radius": args.radius}])
        _, o_t = ours(min_cover, dist <= args.radius)
        ratio_500 = s_t / o_t
    print(f"ratio spopt {ratio_500:.1f}")


if __name__ == "__main__":
    main()
