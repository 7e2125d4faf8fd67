"""Benchmark the travel-time engine against its peers on the same work in the same run.

Run: ``python benchmarks/bench_traveltime.py`` (``--quick`` for a short run).

A large road-like network is generated here: a jittered planar grid (5% of links removed),
arterials every 8th street (50 km/h), other streets 30 km/h, 15% of them one-way, 130 m
blocks, so that a 240 s cutoff reaches about 500 nodes. The same origins and cutoff go to:

* ours: ``coverage.traveltime.bounded_reach`` (numba, bounded multi-source Dijkstra), timed
  single-threaded for the per-origin ratios and with 2 threads for the full matrix;
* the osmnx recipe: ``networkx.ego_graph(G, n, radius=240, distance="travel_time")`` per origin
  (a sample of origins; reached sets compared exactly with ours);
* ``scipy.sparse.csgraph.dijkstra(..., indices=chunk, limit=240)`` in chunks of 50 origins;
* pandana ``Network.nodes_in_range`` (contraction hierarchies), when it imports.

The last lines are ``ratio <peer> <peer seconds / our seconds per origin>`` at the largest size.
"""
from __future__ import annotations

import argparse
import warnings
import resource
import time

import networkx as nx
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from coverage.network import build_csr
from coverage.traveltime import bounded_reach

CUTOFF = 240.0


def grid_network(n_nodes: int, seed: int = 0, block_m: float = 130.0):
    """(x, y, u, v, seconds) of a jittered grid with mixed road classes and one-way streets."""
    rng = np.random.default_rng(seed)
    side = int(round(np.sqrt(n_nodes)))
    idx = np.arange(side * side).reshape(side, side)
    x = (np.repeat(np.arange(side), side) * block_m + rng.normal(0, 10, side * side))
    y = (np.tile(np.arange(side), side) * block_m + rng.normal(0, 10, side * side))
    us, vs, kmh, oneway = [], [], [], []
    for axis in (0, 1):
        a = idx[:-1, :] if axis == 0 else idx[:, :-1]
        b = idx[1:, :] if axis == 0 else idx[:, 1:]
        street = (np.arange(side)[None, :] if axis == 0 else np.arange(side)[:, None]) * np.ones_like(a)
        street = street if axis == 0 else street
        a, b, street = a.ravel(), b.ravel(), street.ravel()
        keep = rng.random(a.size) > 0.05
        a, b, street = a[keep], b[keep], street[keep]
        arterial = street % 8 == 0
        speed = np.where(arterial, 50.0, 30.0)
        ow = ~arterial & (rng.random(a.size) < 0.15)
        us.append(a), vs.append(b), kmh.append(speed), oneway.append(ow)
    u, v = np.concatenate(us), np.concatenate(vs)
    speed, ow = np.concatenate(kmh), np.concatenate(oneway)
    length = np.hypot(x[u] - x[v], y[u] - y[v])
    t = length / (speed / 3.6)
    flip = ow & (rng.random(u.size) < 0.5)  # one-way streets run both ways across the grid
    fu = np.where(flip, v, u)
    fv = np.where(flip, u, v)
    two = ~ow
    tail = np.concatenate([fu, fv[two]])
    head = np.concatenate([fv, fu[two]])
    sec = np.concatenate([t, t[two]])
    return x, y, tail, head, sec


def ours(csr, origins, threads):
    ptr = np.arange(len(origins) + 1, dtype=np.int64)
    t0 = time.perf_counter()
    res = bounded_reach(csr, ptr, origins.astype(np.int64), np.zeros(len(origins)), CUTOFF,
                        threads=threads, sort=False)
    return time.perf_counter() - t0, res


def ego_graph_peer(G, origins):
    t0 = time.perf_counter()
    sets = [set(nx.ego_graph(G, int(o), radius=CUTOFF, distance="travel_time").nodes) for o in origins]
    return time.perf_counter() - t0, sets


def scipy_peer(n, tail, head, sec, origins, chunk=50):
    m = sp.csr_matrix((sec, (tail, head)), shape=(n, n))
    t0 = time.perf_counter()
    reached = 0
    for i in range(0, len(origins), chunk):
        d = dijkstra(m, directed=True, indices=origins[i:i + chunk], limit=CUTOFF)
        reached += int(np.isfinite(d).sum())
    return time.perf_counter() - t0, reached


def pandana_peer(x, y, tail, head, sec, origins):
    try:
        import pandana
        import pandas as pd
    except Exception:  # noqa: BLE001 - any import problem means: no peer
        return None
    nodes = pd.DataFrame({"x": x, "y": y})
    edges = pd.DataFrame({"from": tail, "to": head, "w": sec})
    t_build = time.perf_counter()
    net = pandana.Network(nodes["x"], nodes["y"], edges["from"], edges["to"], edges[["w"]], twoway=False)
    build = time.perf_counter() - t_build
    t0 = time.perf_counter()
    out = net.nodes_in_range(list(map(int, origins)), CUTOFF)
    return time.perf_counter() - t0, len(out), build


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="sizes up to 50k nodes, fewer origins")
    ap.add_argument("--origins", type=int, default=5000, help="origins of the full matrix")
    ap.add_argument("--sample", type=int, default=100, help="origins given to the slow peers")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")  # island warnings for random origins on clipped extracts
    sizes = [10_000, 25_000, 50_000] if args.quick else [10_000, 25_000, 50_000, 100_000, 200_000]
    n_full = 1000 if args.quick else args.origins
    rng = np.random.default_rng(42)

    # numba compile, reported separately
    x, y, tail, head, sec = grid_network(2500)
    t0 = time.perf_counter()
    ours(build_csr(len(x), tail, head, sec), np.arange(10), 1)
    print(f"numba warm-up (compile or cache load): {time.perf_counter() - t0:.2f} s\n")

    print(f"{'nodes':>8} {'edges':>9} {'reached/origin':>15} {'ours ms/origin':>15} "
          f"{'ego_graph ms':>13} {'scipy ms':>9} {'pandana ms':>11}")
    last = {}
    for n in sizes:
        x, y, tail, head, sec = grid_network(n, seed=n)
        n = len(x)
        csr = build_csr(n, tail, head, sec)
        origins = rng.choice(n, size=min(n_full, n), replace=False)
        sample = origins[: args.sample]
        t_ours, res = ours(csr, origins, 1)
        per_ours = t_ours / len(origins)
        reached = np.diff(res.indptr).mean()

        G = nx.DiGraph()
        G.add_weighted_edges_from(zip(tail.tolist(), head.tolist(), sec.tolist()), weight="travel_time")
        t_ego, sets = ego_graph_peer(G, sample)
        for i, s in enumerate(sets):  # identical reached sets (ours unsorted: compare as sets)
            mine = set(res.node[res.indptr[i]:res.indptr[i + 1]].tolist())
            assert mine == s, f"reached sets differ for origin {sample[i]}"
        per_ego = t_ego / len(sample)
        t_sc, sc_reached = scipy_peer(n, tail, head, sec, sample)
        per_sc = t_sc / len(sample)
        assert sc_reached == int(np.diff(res.indptr)[: len(sample)].sum()), "scipy reached a different count"
        pd_res = pandana_peer(x, y, tail, head, sec, sample)
        per_pd = pd_res[0] / len(sample) if pd_res else float("nan")
        print(f"{n:8d} {len(tail):9d} {reached:15.0f} {1e3 * per_ours:15.4f} {1e3 * per_ego:13.3f} "
              f"{1e3 * per_sc:9.3f} {1e3 * per_pd:11.3f}")
        last = {"n": n, "csr": csr, "origins": origins, "ours": per_ours, "ego_graph": per_ego,
                "scipy_dijkstra": per_sc, "pandana": per_pd, "pandana_build": pd_res[2] if pd_res else None}
        del G

    # full coverage matrix at the largest size, 2 threads, with peak memory
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t_full, res = ours(last["csr"], last["origins"], None)
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"\nfull matrix: {len(last['origins'])} origins x {last['n']} nodes, cutoff {CUTOFF:.0f} s, "
          f"2 threads: {t_full:.2f} s, {res.node.size} reached pairs, "
          f"result {(res.node.nbytes + res.cost.nbytes) / 1e6:.0f} MB, "
          f"peak RSS growth {(rss1 - rss0) / 1024:.0f} MB (process peak {rss1 / 1024:.0f} MB)")
    if last["pandana_build"] is not None:
        print(f"pandana contraction-hierarchy build (not in its ratio): {last['pandana_build']:.1f} s")

    try:  # the real extracts, when the shared data is there
        from coverage.network import load_network
        from coverage.settings import shared_data_dir
        from coverage.traveltime import reach

        osm = shared_data_dir() / "osm"
        files = sorted(p for p in osm.glob("*") if p.name.endswith((".osm", ".osm.bz2", ".pbf"))) if osm.is_dir() else []
        if files:
            print(f"\n{'extract':40s} {'nodes':>7} {'ours ms':>9} {'ego_graph ms':>13} {'ratio':>7}")
        for f in files:
            net = load_network(f)
            o = net.node_ids[rng.choice(net.n_nodes, size=min(50, net.n_nodes), replace=False)]
            reach(net, o[:2], cutoff_s=CUTOFF)
            t0 = time.perf_counter()
            reach(net, o, cutoff_s=CUTOFF, threads=1, sort=False)
            t_o = (time.perf_counter() - t0) / len(o)
            t0 = time.perf_counter()
            for k in o:
                nx.ego_graph(net.graph, int(k), radius=CUTOFF, distance="travel_time")
            t_e = (time.perf_counter() - t0) / len(o)
            print(f"{f.name:40s} {net.n_nodes:7d} {1e3 * t_o:9.4f} {1e3 * t_e:13.3f} {t_e / t_o:7.1f}")
    except Exception as exc:  # noqa: BLE001 - the synthetic part above is the benchmark proper
        print(f"(real extracts skipped: {exc})")

    print()
    for peer in ("ego_graph", "scipy_dijkstra", "pandana"):
        r = last[peer] / last["ours"]
        print(f"ratio {peer} {r:.1f}" if np.isfinite(r) else f"ratio {peer} nan (not installed)")


if __name__ == "__main__":
    main()
