"""Benchmark the hydrant analysis against networkx on the same work in the same run.

Run: ``python benchmarks/bench_hydrants.py`` (``--quick`` for a short run).

A jittered grid city (100 m blocks, 5% of links removed) with hydrants dropped near random
roads. The protection step (hose distance along roads from every hydrant, 150 m) is timed for
``coverage.hydrants.analyse_hydrants(..., propose=False)`` and for the independent networkx
computation the tests use (hydrants inserted as nodes, multi-source Dijkstra on length); both
include their own graph building, and their protected lengths must agree. Then the proposal step
(exact minimum placement, time-limited) on a smaller city.

The last line is ``ratio networkx <networkx seconds / our seconds>`` at the largest size.
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj

from coverage.hydrants import analyse_hydrants
from coverage.network import network_from_graph

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_hydrants import nx_protected_m  # noqa: E402  (the tests' independent reference)

UTM = pyproj.CRS.from_epsg(32649)
X0, Y0 = 635_000.0, 3_832_000.0  # Luoyang-ish


def city(n_nodes: int, seed: int, block_m: float = 100.0):
    rng = np.random.default_rng(seed)
    side = int(round(np.sqrt(n_nodes)))
    inv = pyproj.Transformer.from_crs(UTM, 4326, always_xy=True)
    xs = np.repeat(np.arange(side), side) * block_m + rng.normal(0, 8, side * side)
    ys = np.tile(np.arange(side), side) * block_m + rng.normal(0, 8, side * side)
    lon, lat = inv.transform(X0 + xs, Y0 + ys)
    g = nx.MultiDiGraph(crs="epsg:4326")
    for i in range(side * side):
        g.add_node(i, x=float(lon[i]), y=float(lat[i]))
    for i in range(side):
        for j in range(side):
            a = i * side + j
            for b in ((a + side) if i + 1 < side else None, (a + 1) if j + 1 < side else None):
                if b is None or rng.random() < 0.05:
                    continue
                hw = "secondary" if (i % 6 == 0 or j % 6 == 0) else "residential"
                g.add_edge(a, b, highway=hw)
                g.add_edge(b, a, highway=hw)
    return network_from_graph(g, simplify=False, retain_all=True)


def hydrants(net, n: int, seed: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    e = rng.integers(0, net.n_edges, n)
    pts = [net.edge_geometry[k].interpolate(rng.random(), normalized=True) for k in e]
    x = np.array([p.x for p in pts]) + rng.normal(0, 3, n)
    y = np.array([p.y for p in pts]) + rng.normal(0, 3, n)
    lon, lat = net.to_wgs84(x, y)
    return gpd.GeoDataFrame({"id": [f"h{i}" for i in range(n)], "kind": "hydrant"},
                            geometry=gpd.points_from_xy(lon, lat), crs=4326)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    sizes = [2_500, 10_000] if args.quick else [2_500, 10_000, 40_000]
    analyse_hydrants(city(100, 0), hydrants(city(100, 0), 5, 0), propose=False)  # warm-up
    print(f"{'nodes':>7} {'road km':>8} {'hydrants':>9} {'ours s':>8} {'networkx s':>11} {'protected km':>13} {'agree':>6}")
    last = None
    for n in sizes:
        t0 = time.perf_counter()
        net = city(n, n)
        build = time.perf_counter() - t0
        hyd = hydrants(net, n // 10, n)
        t0 = time.perf_counter()
        res = analyse_hydrants(net, hyd, propose=False)
        t_ours = time.perf_counter() - t0
        used = res.snapped.used()
        h = hyd.iloc[used]
        t0 = time.perf_counter()
        p_nx, total = nx_protected_m(net, h.geometry.x.to_numpy(), h.geometry.y.to_numpy())
        t_nx = time.perf_counter() - t0
        agree = abs(p_nx - res.protected_m) <= max(0.5 * len(h), 1e-6 * total)
        print(f"{net.n_nodes:7d} {total / 1000:8.1f} {len(h):9d} {t_ours:8.2f} {t_nx:11.2f} "
              f"{res.protected_m / 1000:13.2f} {str(agree):>6}   (network build {build:.1f} s)")
        last = (t_nx, t_ours)

    net = city(2_500 if args.quick else 10_000, 7)
    hyd = hydrants(net, net.n_nodes // 20, 7)
    t0 = time.perf_counter()
    res = analyse_hydrants(net, hyd, propose=True, time_limit_s=60)
    s = res.summary()
    print(f"\nproposals on {net.n_nodes} nodes: {time.perf_counter() - t0:.1f} s, status {s['status']}, "
          f"gap {s['gap']:.4f}, existing {s['existing']}, proposed {s['proposed']}, "
          f"spacing rule {s['required_spacing_rule']}, minimum placement {s['required_min_placement']}")
    print(f"\nratio networkx {last[0] / last[1]:.1f}")


if __name__ == "__main__":
    main()
