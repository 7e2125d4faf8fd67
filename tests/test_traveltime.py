"""The travel-time engine: hand-computed answers on tiny graphs, networkx Dijkstra on every real
extract, brute force for nearest_source, and an independent edge-splitting networkx computation for
points on edges."""
from __future__ import annotations

import math
import warnings

import networkx as nx
import numpy as np
import pyproj
import pytest

from coverage.errors import CoverageWarning, InputError
from coverage.network import CSR, Snapped, build_csr, load_network, network_from_graph, snap_points, snap_xy
from coverage.traveltime import (
    Reach,
    bounded_reach,
    coverage_matrix,
    nearest_source,
    origin_seeds,
    point_times,
    reach,
    travel_times,
)

UTM51 = pyproj.CRS.from_epsg(32651)
X0, Y0 = 350_000.0, 3_460_000.0  # metres in UTM 51N (near Shanghai)


def _net(nodes: dict, edges: list, kmh: float = 36.0, retain_all: bool = True):
    """Hand-built network: ``nodes`` id -> (x, y) metres from (X0, Y0); ``edges`` (u, v, oneway).
    At 36 km/h every metre is 0.1 s."""
    ways = [(a, b, {"oneway": oneway}) for u, v, oneway in edges
            for a, b in ((u, v), (v, u))[:1 if oneway else 2]]
    return network_from_graph(_graph(nodes, ways), speeds={"residential": kmh}, simplify=False,
                              retain_all=retain_all)


def _graph(nodes: dict, ways: list) -> nx.MultiDiGraph:
    """A graph of ``ways`` (u, v, tags) between nodes given in metres from (X0, Y0); a ``course``
    tag (list of (x, y) metres) becomes the edge's geometry."""
    from shapely.geometry import LineString

    inv = pyproj.Transformer.from_crs(UTM51, 4326, always_xy=True)
    g = nx.MultiDiGraph(crs="epsg:4326")
    for n, (x, y) in nodes.items():
        lon, lat = inv.transform(X0 + x, Y0 + y)
        g.add_node(n, x=lon, y=lat)
    for u, v, tags in ways:
        tags = dict(tags)
        course = tags.pop("course", None)
        if course is not None:
            tags["geometry"] = LineString([inv.transform(X0 + x, Y0 + y) for x, y in course])
        g.add_edge(u, v, highway="residential", **tags)
    return g


def _edge(net, u, v) -> int:
    iu, iv = net.node_index([u, v])
    return int(np.flatnonzero((net.edge_u == iu) & (net.edge_v == iv))[0])


def _as_dict(net, res: Reach, i: int) -> dict:
    nodes, cost = res.of(i)
    return dict(zip(net.node_ids[nodes].tolist(), cost.tolist()))


# --------------------------------------------------------------------------------------------
# array level, hand-computed


@pytest.fixture(scope="module")
def tiny_csr() -> CSR:
    # 0 -> 1 (10), 1 -> 0 (10), 1 -> 2 (5), 2 -> 3 (5, one-way), 0 -> 3 (25), 3 -> 0 (1); 4 isolated
    tail = [0, 1, 1, 2, 0, 3]
    head = [1, 0, 2, 3, 3, 0]
    w = [10.0, 10.0, 5.0, 5.0, 25.0, 1.0]
    return build_csr(5, np.array(tail), np.array(head), np.array(w))


def _single(n_origins_nodes):
    nodes = np.asarray(n_origins_nodes, np.int64)
    return np.arange(len(nodes) + 1, dtype=np.int64), nodes, np.zeros(len(nodes))


def test_bounded_reach_hand_computed(tiny_csr):
    ptr, node, t = _single([0, 3, 2, 4])
    r = bounded_reach(tiny_csr, ptr, node, t, 20.0, threads=1)
    assert r.n_origins == 4
    got = [dict(zip(*(a.tolist() for a in r.of(i)))) for i in range(4)]
    assert got[0] == {0: 0.0, 1: 10.0, 2: 15.0, 3: 20.0}  # 3 exactly on the cutoff is included
    assert got[1] == {3: 0.0, 0: 1.0, 1: 11.0, 2: 16.0}
    assert got[2] == {2: 0.0, 3: 5.0, 0: 6.0, 1: 16.0}  # 2 -> 1 only by going round (one-way)
    assert got[3] == {4: 0.0}
    for i in range(4):  # sorted by node
        assert np.all(np.diff(r.of(i)[0]) > 0)
    just_below = bounded_reach(tiny_csr, *_single([0]), 20.0 - 1e-9)
    assert just_below.of(0)[0].tolist() == [0, 1, 2]


def test_bounded_reach_multi_seed_and_seed_beyond_cutoff(tiny_csr):
    # origin 0 seeds node 1 at 4 s and node 3 at 0 s; origin 1 seeds node 2 at 30 s (> cutoff)
    ptr = np.array([0, 2, 3])
    r = bounded_reach(tiny_csr, ptr, np.array([1, 3, 2]), np.array([4.0, 0.0, 30.0]), 12.0)
    assert dict(zip(*(a.tolist() for a in r.of(0)))) == {0: 1.0, 1: 4.0, 2: 9.0, 3: 0.0}
    assert r.of(1)[0].size == 0
    empty = bounded_reach(tiny_csr, np.zeros(1, np.int64), np.empty(0, np.int64), np.empty(0), 5.0)
    assert empty.n_origins == 0 and empty.node.size == 0


def test_cutoff_errors_name_the_value(tiny_csr):
    for bad, shown in ((-1.0, "-1.0"), (float("nan"), "nan"), ("soon", "'soon'")):
        with pytest.raises(InputError, match=shown):
            bounded_reach(tiny_csr, *_single([0]), bad)
    with pytest.raises(InputError, match="-5"):
        nearest_source(tiny_csr, *_single([0]), -5)


def test_nearest_source_hand_computed(tiny_csr):
    # origins: node 2 (at 0 s) and node 0 (starting 3 s late)
    label, cost = nearest_source(tiny_csr, np.array([0, 1, 2]), np.array([2, 0]), np.array([0.0, 3.0]))
    assert label.tolist() == [1, 1, 0, 0, -1]
    assert cost[:4].tolist() == [3.0, 13.0, 0.0, 5.0] and np.isinf(cost[4])
    label, cost = nearest_source(tiny_csr, np.array([0, 1, 2]), np.array([2, 0]), np.array([0.0, 3.0]),
                                 cutoff=10.0)
    assert label.tolist() == [1, -1, 0, 0, -1]


def _random_csr(n: int, m: int, seed: int) -> tuple[CSR, nx.DiGraph]:
    rng = np.random.default_rng(seed)
    tail = rng.integers(0, n, m)
    head = (tail + rng.integers(1, 30, m)) % n  # local-ish links, some one-way
    w = rng.uniform(0.5, 20.0, m).round(2)
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for a, b, c in zip(tail.tolist(), head.tolist(), w.tolist()):
        if not g.has_edge(a, b) or g[a][b]["weight"] > c:
            g.add_edge(a, b, weight=c)
    return build_csr(n, tail, head, w), g


def test_bounded_reach_matches_networkx_on_random_graph():
    csr, g = _random_csr(3000, 12000, 1)
    origins = np.random.default_rng(2).choice(3000, 80, replace=False)
    for cutoff in (15.0, 40.0):
        r1 = bounded_reach(csr, *_single(origins), cutoff, threads=1)
        r2 = bounded_reach(csr, *_single(origins), cutoff, threads=2)
        assert np.array_equal(r1.indptr, r2.indptr) and np.array_equal(r1.node, r2.node)
        assert np.array_equal(r1.cost, r2.cost)
        for i, o in enumerate(origins.tolist()):
            ref = nx.single_source_dijkstra_path_length(g, o, cutoff=cutoff, weight="weight")
            nodes, cost = r1.of(i)
            assert nodes.tolist() == sorted(ref)
            np.testing.assert_allclose(cost, [ref[k] for k in nodes.tolist()], rtol=1e-12)


def test_nearest_source_matches_brute_force():
    csr, _ = _random_csr(2000, 8000, 3)
    rng = np.random.default_rng(4)
    n_orig = 25
    counts = rng.integers(1, 4, n_orig)
    seed_ptr = np.concatenate([[0], np.cumsum(counts)])
    seed_node = rng.choice(2000, seed_ptr[-1], replace=False)
    seed_time = rng.uniform(0, 5, seed_ptr[-1])
    for cutoff in (20.0, math.inf):
        label, cost = nearest_source(csr, seed_ptr, seed_node, seed_time, cutoff)
        full = bounded_reach(csr, seed_ptr, seed_node, seed_time, cutoff)
        best = np.full(2000, np.inf)
        for i in range(n_orig):
            nodes, c = full.of(i)
            best[nodes] = np.minimum(best[nodes], c)
        np.testing.assert_allclose(cost, best, rtol=1e-12)
        assert np.array_equal(label == -1, np.isinf(best))
        # the label is an origin achieving the minimum
        for v in np.flatnonzero(label >= 0).tolist():
            nodes, c = full.of(int(label[v]))
            j = np.searchsorted(nodes, v)
            assert nodes[j] == v and c[j] == pytest.approx(best[v], rel=1e-12)


# --------------------------------------------------------------------------------------------
# network level, hand-built roads


@pytest.fixture(scope="module")
def street():
    """1 -- 2 -- 3 two-way (100 m each = 10 s), 3 -> 4 one-way north (200 m = 20 s), 4 -- 5
    two-way (200 m), 5 -> 1 one-way south (200 m): a loop driven anticlockwise."""
    nodes = {1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (200, 200), 5: (0, 200)}
    edges = [(1, 2, False), (2, 3, False), (3, 4, True), (4, 5, False), (5, 1, True)]
    return _net(nodes, edges)


def test_network_edge_times_are_as_built(street):
    assert street.edge_time[_edge(street, 1, 2)] == pytest.approx(10.0, rel=1e-9)
    assert street.edge_time[_edge(street, 3, 4)] == pytest.approx(20.0, rel=1e-9)
    assert street.edge_reverse[_edge(street, 3, 4)] == -1
    assert street.edge_reverse[_edge(street, 1, 2)] == _edge(street, 2, 1)


def test_travel_times_hand_computed_and_direction(street):
    df = travel_times(street, [1, 4], cutoff_s=45.0)
    assert list(df.columns) == ["origin", "node", "seconds"]
    got = {(o, n): s for o, n, s in df.itertuples(index=False)}
    exp = {(1, 1): 0, (1, 2): 10, (1, 3): 20, (1, 4): 40, (4, 4): 0, (4, 5): 20, (4, 1): 40}
    # 1 reaches 5 only through 4 (5 -> 1 is one-way): 60 s, beyond the cutoff
    assert set(got) == set(exp)
    for k, v in exp.items():
        assert got[k] == pytest.approx(v, abs=1e-9)


def test_cutoff_exactly_on_a_node_is_included(street):
    # 1 -> 4 takes exactly 10 + 10 + 20 = 40 s along edges built from exact coordinates;
    # compare against the same sum in floating point the engine uses
    t = street.edge_time
    exact = t[_edge(street, 1, 2)] + t[_edge(street, 2, 3)] + t[_edge(street, 3, 4)]
    df = travel_times(street, [1], cutoff_s=exact)
    assert 4 in df.node.tolist()
    df = travel_times(street, [1], cutoff_s=np.nextafter(exact, 0))
    assert 4 not in df.node.tolist()


def test_snapped_origin_seeds_both_ends(street):
    e12 = _edge(street, 1, 2)
    e34 = _edge(street, 3, 4)
    origins = Snapped(edge=np.array([e12, e34]), fraction=np.array([0.3, 0.25]),
                      distance_m=np.zeros(2), x=np.zeros(2), y=np.zeros(2), lon=np.zeros(2),
                      lat=np.zeros(2))
    ptr, node, t = origin_seeds(street, origins)
    assert ptr.tolist() == [0, 2, 3]
    seeds0 = dict(zip(street.node_ids[node[:2]].tolist(), t[:2].tolist()))
    assert seeds0 == pytest.approx({2: 7.0, 1: 3.0})
    assert street.node_ids[node[2]] == 4 and t[2] == pytest.approx(15.0)  # one-way: only ahead
    r = reach(street, origins, cutoff_s=30.0)
    assert _as_dict(street, r, 0) == pytest.approx({1: 3.0, 2: 7.0, 3: 17.0})
    assert _as_dict(street, r, 1) == pytest.approx({4: 15.0})  # 4 -> 5 takes 20 s more


def _snap(net, pts):
    pts = np.asarray(pts, float)
    return snap_xy(net, X0 + pts[:, 0], Y0 + pts[:, 1], max_distance_m=50)


def test_point_times_hand_computed(street):
    origins = _snap(street, [(30, 0), (200, 50)])  # on 1-2 (30 m from 1); on one-way 3 -> 4
    targets = _snap(street, [(80, 0), (10, 0), (150, 0), (200, 20), (200, 150), (100, 200)])
    mat = point_times(street, origins, targets, cutoff_s=100.0).toarray()
    # origin 0 at x=30 on the two-way street 1-2-3
    assert mat[0, 0] == pytest.approx(5.0)    # same edge downstream
    assert mat[0, 1] == pytest.approx(2.0)    # same edge upstream (two-way: straight back)
    assert mat[0, 2] == pytest.approx(12.0)   # next edge
    assert mat[0, 3] == pytest.approx(19.0)   # 17 s to 3, 2 s up the one-way
    assert mat[0, 4] == pytest.approx(32.0)
    assert mat[0, 5] == pytest.approx(17.0 + 20 + 10)  # via 4 then west along 4-5
    # origin 1 on the one-way 3 -> 4 at y=50: a target behind it (y=20) needs a loop that does
    # not exist within 100 s: 4 -> 5 -> 1 -> 2 -> 3 -> (20 m) = 15 + 20 + 20 + 10 + 10 + 2
    assert mat[1, 3] == pytest.approx(77.0)
    assert mat[1, 4] == pytest.approx(10.0)
    assert mat[1, 5] == pytest.approx(25.0)
    short = point_times(street, origins, targets, cutoff_s=76.0)
    assert short[1, 3] == 0 and short[1, 4] == pytest.approx(10.0)
    # a target at the origin's own position is stored (tiny positive), not lost as a zero
    same = point_times(street, origins, origins, cutoff_s=1.0)
    assert same.nnz == 2 and np.all(same.diagonal() > 0) and np.all(same.diagonal() < 1e-6)
    cov = coverage_matrix(street, origins, targets, cutoff_s=20.0)
    assert cov.shape == (6, 2) and cov.dtype == bool
    assert cov[:, 0].toarray().ravel().tolist() == [True, True, True, True, False, False]


def test_point_times_reach_input_matches_node_origins(street):
    targets = _snap(street, [(80, 0), (150, 0), (200, 150)])
    direct = point_times(street, [1, 3], targets, cutoff_s=50.0)
    via = point_times(street, reach(street, [1, 3], cutoff_s=50.0), targets, cutoff_s=50.0)
    assert (direct != via).nnz == 0
    assert direct[0, 0] == pytest.approx(8.0) and direct[1, 2] == pytest.approx(15.0)


def test_bad_origins(street):
    with pytest.raises(InputError, match="999"):
        travel_times(street, [1, 999], cutoff_s=60)
    with pytest.raises(InputError, match="no origins"):
        travel_times(street, [], cutoff_s=60)
    with pytest.raises(InputError, match="-3"):
        travel_times(street, [1], cutoff_s=-3)
    with pytest.raises(InputError, match="nan"):
        reach(street, [1], cutoff_s=float("nan"))


def test_island_origin_warns_naming_it():
    nodes = {1: (0, 0), 2: (100, 0), 3: (200, 0), 7: (0, 500), 8: (100, 500)}
    net = _net(nodes, [(1, 2, False), (2, 3, False), (7, 8, False)])
    with pytest.warns(CoverageWarning, match=r"\b7\b"):
        travel_times(net, [1, 7], cutoff_s=60)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        travel_times(net, [1, 2], cutoff_s=60)
    # a one-way street leading into the main network is fine; one leading out of it is not
    nodes = {1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (300, 0), 5: (-100, 0)}
    net = _net(nodes, [(1, 2, False), (2, 3, False), (3, 4, True), (5, 1, True)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        travel_times(net, [5], cutoff_s=60)
    with pytest.warns(CoverageWarning, match=r"\b4\b"):
        travel_times(net, [4], cutoff_s=60)


# --------------------------------------------------------------------------------------------
# real extracts against networkx

REAL = ["shanghai_huangpu_osmnx_drive.osm", "hsinchu_nctu_taiwan.osm.pbf",
        "hsinchu_nctu_taiwan_roads.osm.bz2", "helsinki_centre.osm.pbf",
        "helsinki_centre_roads.osm.bz2", "default"]

_NETS: dict = {}


def _real(name, shared_data):
    if name not in _NETS:
        src = "default" if name == "default" else shared_data / "osm" / name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CoverageWarning)
            _NETS[name] = load_network(src)
    return _NETS[name]


@pytest.mark.parametrize("name", REAL)
def test_real_extract_matches_networkx(name, shared_data):
    net = _real(name, shared_data)
    g = net.graph
    rng = np.random.default_rng(len(name))
    origins = net.node_ids[rng.choice(net.n_nodes, min(50, net.n_nodes), replace=False)]
    for cutoff in (45.0, 120.0, 300.0):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CoverageWarning)
            df = travel_times(net, origins, cutoff_s=cutoff)
        for o, part in df.groupby("origin", sort=False):
            ref = nx.single_source_dijkstra_path_length(g, o, cutoff=cutoff, weight="travel_time")
            assert set(part.node.tolist()) == set(ref), (name, o, cutoff)
            np.testing.assert_allclose(part.seconds.to_numpy(), [ref[n] for n in part.node.tolist()],
                                       rtol=1e-9, atol=1e-9)
        assert set(df.origin.unique().tolist()) == set(origins.tolist())  # each reaches itself


def _split_reference(net, origins: Snapped, targets: Snapped, cutoff: float) -> np.ndarray:
    """Independent answer for point_times: split every road at its points in a networkx graph
    and run plain Dijkstra from each origin point."""
    g = nx.DiGraph()
    for u, v, t in zip(net.edge_u.tolist(), net.edge_v.tolist(), net.edge_time.tolist()):
        if not g.has_edge(u, v) or g[u][v]["w"] > t:
            g.add_edge(u, v, w=t)
    # group points by road: canonical edge = min(e, reverse); position measured along it
    pts: dict[int, list] = {}
    labels = []
    for kind, snapped in (("o", origins), ("t", targets)):
        for k, (e, f) in enumerate(zip(snapped.edge.tolist(), snapped.fraction.tolist())):
            r = int(net.edge_reverse[e])
            canon, pos = (e, f) if r < 0 or e < r else (r, 1.0 - f)
            pts.setdefault(canon, []).append((pos, (kind, k)))
            labels.append((kind, k))
    for canon, items in pts.items():
        items.sort()
        r = int(net.edge_reverse[canon])
        u, v = int(net.edge_u[canon]), int(net.edge_v[canon])
        chain = [(0.0, u)] + [(p, lab) for p, lab in items] + [(1.0, v)]
        # driving spreads along the road; a signal's wait is paid only on reaching its end node
        drive = net.edge_time - net.edge_delay
        for (p0, a), (p1, b) in zip(chain[:-1], chain[1:]):
            g.add_edge(a, b, w=(p1 - p0) * drive[canon] + (net.edge_delay[canon] if b == v else 0.0))
            if r >= 0:
                g.add_edge(b, a, w=(p1 - p0) * drive[r] + (net.edge_delay[r] if a == u else 0.0))
    out = np.full((len(origins), len(targets)), np.inf)
    for i in range(len(origins)):
        d = nx.single_source_dijkstra_path_length(g, ("o", i), cutoff=cutoff, weight="w")
        for k in range(len(targets)):
            out[i, k] = d.get(("t", k), np.inf)
    return out


@pytest.mark.parametrize("signal_delay_s", [0.0, 20.0])
def test_point_times_match_edge_splitting_on_shanghai(shared_data, signal_delay_s):
    if signal_delay_s:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CoverageWarning)
            net = load_network(shared_data / "osm" / "shanghai_huangpu_osmnx_drive.osm",
                               speeds={"signal_delay_s": signal_delay_s})
        # signals stay edge ends, so every wait sits at an edge's end (none inside an edge)
        assert net.node_signal.sum() > 20
        waits = net.edge_delay > 0
        assert np.array_equal(waits, net.node_signal[net.edge_v])
        assert np.all(net.edge_delay[waits] == signal_delay_s)
    else:
        net = _real("shanghai_huangpu_osmnx_drive.osm", shared_data)
    rng = np.random.default_rng(7)
    x0, x1, y0, y1 = net.x.min(), net.x.max(), net.y.min(), net.y.max()
    o = snap_xy(net, rng.uniform(x0, x1, 25), rng.uniform(y0, y1, 25), max_distance_m=1e4)
    # targets: random points plus points on the origins' own roads (same-edge cases)
    tx = np.concatenate([rng.uniform(x0, x1, 300), o.x + rng.normal(0, 15, 25)])
    ty = np.concatenate([rng.uniform(y0, y1, 300), o.y + rng.normal(0, 15, 25)])
    t = snap_xy(net, tx, ty, max_distance_m=1e4)
    cutoff = 150.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)
        got = point_times(net, o, t, cutoff_s=cutoff).toarray()
    ref = _split_reference(net, o, t, cutoff)
    reached = np.isfinite(ref)
    assert np.array_equal(got > 0, reached)
    np.testing.assert_allclose(got[reached], ref[reached], rtol=1e-9, atol=2e-9)
    assert reached.sum() > 200  # the check is not vacuous


def test_a_station_at_a_signalised_crossing_does_not_wait_at_its_own_signal():
    # 4-arm crossing 0 with a signal (30 s wait), arms 500 m at 36 km/h (50 s)
    inv = pyproj.Transformer.from_crs(UTM51, 4326, always_xy=True)
    g = nx.MultiDiGraph(crs="epsg:4326")
    pts = {0: (0, 0), 1: (500, 0), 2: (-500, 0), 3: (0, 500), 4: (0, -500)}
    for n, (x, y) in pts.items():
        lon, lat = inv.transform(X0 + x, Y0 + y)
        g.add_node(n, x=lon, y=lat, **({"highway": "traffic_signals"} if n == 0 else {}))
    for a in (1, 2, 3, 4):
        g.add_edge(0, a, highway="residential")
        g.add_edge(a, 0, highway="residential")
    net = network_from_graph(g, speeds={"residential": 36, "signal_delay_s": 30}, retain_all=True,
                             simplify=False)
    from coverage.siting import at_nodes

    site = at_nodes(net, net.node_index([0]))
    assert site.fraction[0] in (0.0, 1.0)  # snapped to an end of one of the arms
    got = _as_dict(net, reach(net, site, cutoff_s=200), 0)
    assert got == pytest.approx({0: 0.0, 1: 50.0, 2: 50.0, 3: 50.0, 4: 50.0})
    # whichever arm it is snapped onto, and from either end
    for e in range(net.n_edges):
        for f in (0.0, 1.0):
            node = int(net.node_ids[net.edge_u[e] if f == 0.0 else net.edge_v[e]])
            s = Snapped(edge=np.array([e]), fraction=np.array([f]), distance_m=np.zeros(1),
                        x=net.x[[0]], y=net.y[[0]], lon=net.lon[[0]], lat=net.lat[[0]])
            assert _as_dict(net, reach(net, s, cutoff_s=200), 0)[node] == 0.0


def test_a_target_at_the_end_of_a_one_way_edge_stands_at_its_end_node():
    """A point just past a node may snap to the end of the one-way edge arriving there: it is at
    that node, reached as soon as the node is (20 s here), not only via the edge's start."""
    net = _net({1: (0, 0), 2: (100, 0), 3: (100, 200)}, [(1, 2, True), (2, 3, False)])
    tgt = Snapped(edge=np.array([_edge(net, 1, 2)]), fraction=np.array([1.0]), distance_m=np.zeros(1),
                  x=np.zeros(1), y=np.zeros(1), lon=np.zeros(1), lat=np.zeros(1))
    t = point_times(net, [3], tgt, cutoff_s=1000).toarray()
    assert t[0, 0] == pytest.approx(20.0)
    # a point short of the end is still reached only along the edge (from node 1, unreachable)
    tgt2 = Snapped(edge=np.array([_edge(net, 1, 2)]), fraction=np.array([0.99]), distance_m=np.zeros(1),
                   x=np.zeros(1), y=np.zeros(1), lon=np.zeros(1), lat=np.zeros(1))
    assert point_times(net, [3], tgt2, cutoff_s=1000).nnz == 0


def _pts(e, f):
    return Snapped(edge=np.array([e]), fraction=np.array([f], float), distance_m=np.zeros(1), x=np.zeros(1),
                   y=np.zeros(1), lon=np.zeros(1), lat=np.zeros(1))


@pytest.mark.parametrize("e, f, match", [(0, 1.5, "fraction 1.5"), (0, math.nan, "fraction nan"),
                                         (-1, 0.2, "edge -1"), (99, 0.5, "edge 99")])
def test_snapped_points_off_the_network_are_input_errors(street, e, f, match):
    with pytest.raises(InputError, match=match):
        travel_times(street, _pts(e, f), cutoff_s=100)
    with pytest.raises(InputError, match=match):
        point_times(street, [1], _pts(e, f), cutoff_s=100)


def test_float_edge_indices_are_named_as_the_problem(street):
    with pytest.raises(InputError, match="edge indices must be integers, got dtype float64"):
        travel_times(street, Snapped(edge=np.array([1.0]), fraction=np.array([0.5]), distance_m=np.zeros(1),
                                     x=np.zeros(1), y=np.zeros(1), lon=np.zeros(1), lat=np.zeros(1)),
                     cutoff_s=100)


def test_bad_seeds_are_input_errors_not_crashes(tiny_csr):
    with pytest.raises(InputError, match="seed node 10000000"):
        bounded_reach(tiny_csr, [0, 1], [10**7], [0.0], 10)
    with pytest.raises(InputError, match="seed node 10000000"):
        nearest_source(tiny_csr, [0, 1], [10**7], [0.0], 10)
    with pytest.raises(InputError, match="seed_ptr"):
        bounded_reach(tiny_csr, [0, 5], [0], [0.0], 10)
    with pytest.raises(InputError, match="seed time -5.0"):
        bounded_reach(tiny_csr, [0, 1], [0], [-5.0], 10)


@pytest.mark.parametrize("simplify", [False, True])
def test_a_two_way_ring_road_stays_two_way(simplify):
    """A stem 1-2 into a square two-way ring 2-3-4-5-2 (100 m sides): simplified, the ring is two
    loops at node 2, one each way round; the second was dropped as a duplicate of the first (the
    Hausdorff distance ignores direction), so a point 10 m from 2 on the ring's last side was
    reached the long way round (49 s instead of 11 s)."""
    nodes = {1: (-100, 0), 2: (0, 0), 3: (100, 0), 4: (100, 100), 5: (0, 100)}
    ways = [(a, b, {"oneway": False}) for u, v in [(1, 2), (2, 3), (3, 4), (4, 5), (5, 2)]
            for a, b in ((u, v), (v, u))]
    net = network_from_graph(_graph(nodes, ways), speeds={"residential": 36}, simplify=simplify)
    inv = pyproj.Transformer.from_crs(UTM51, 4326, always_xy=True)
    for x, y in [(0, 10), (10, 0)]:  # 10 m from node 2 either way round
        lon, lat = inv.transform(X0 + x, Y0 + y)
        t = point_times(net, [1], snap_points(net, [lon], [lat]), cutoff_s=1000).toarray()[0, 0]
        assert t == pytest.approx(11.0, abs=0.01)
    loops = np.flatnonzero(net.edge_u == net.edge_v)
    if simplify:
        assert len(loops) == 2 and set(net.edge_reverse[loops]) == set(loops)


def test_a_narrow_two_way_turning_loop_stays_two_way():
    """A tear-drop turning loop 4 m wide: its two ways round lie within 5 m of each other all along,
    so comparing points a quarter and three quarters round took them for one loop drawn twice."""
    nodes = {1: (0, 0), 2: (60, 2), 3: (64, 0), 4: (60, -2), 5: (-200, 0)}
    ways = [(a, b, {"oneway": False}) for u, v in [(1, 2), (2, 3), (3, 4), (4, 1), (5, 1)]
            for a, b in ((u, v), (v, u))]
    net = network_from_graph(_graph(nodes, ways), speeds={"residential": 36}, simplify=True)
    loops = np.flatnonzero(net.edge_u == net.edge_v)
    assert len(loops) == 2 and set(net.edge_reverse[loops]) == set(loops)


def test_curved_edges_are_not_simplified_straight():
    """A graph with curved edge courses but no 'simplified' flag (osmnx drops it on a round trip
    through GeoDataFrames): simplifying again drew 1 -> 2 straight along its nodes (200 m instead
    of its 400 m course) and scaled its time down with it (1 -> 3: 30 s instead of 50 s)."""
    nodes = {1: (0, 0), 2: (200, 0), 3: (300, 0), 9: (0, 300), 10: (400, 0), 11: (300, -100)}
    ways = [(1, 2, {"oneway": True, "course": [(0, 0), (0, 100), (200, 100), (200, 0)]}),
            (2, 3, {"oneway": True}), (1, 9, {"oneway": True}), (3, 10, {"oneway": True}),
            (3, 11, {"oneway": True})]
    for simplify in (False, True):
        net = network_from_graph(_graph(nodes, ways), speeds={"residential": 36}, simplify=simplify)
        t = travel_times(net, [1], cutoff_s=1000)
        assert float(t[t.node == 3].seconds.iloc[0]) == pytest.approx(50.0, abs=1e-6)
        # networkx on the network's own graph: the same
        assert nx.shortest_path_length(net.graph, 1, 3, weight="travel_time") == pytest.approx(50.0, abs=1e-6)


def test_two_one_way_carriageways_between_the_same_crossings_are_not_one_two_way_road():
    """Carriageways 15 m apart over 1.6 km between shared ends: the reverse-edge test allowed their
    midpoints 1 % of the length (16 m) apart, so each was taken as the other's reverse and a
    point 100 m behind a station on one was reached driving backwards (9.6 s, legally ~311 s)."""
    nodes = {1: (0, 0), 2: (1600, 0)}
    ways = [(1, 2, {"oneway": True, "course": [(0, 0), (5, 7.5), (1595, 7.5), (1600, 0)]}),
            (2, 1, {"oneway": True, "course": [(1600, 0), (1595, -7.5), (5, -7.5), (0, 0)]})]
    net = network_from_graph(_graph(nodes, ways), speeds={"residential": 36}, simplify=False)
    assert (net.edge_reverse == -1).all()
    e = _edge(net, 1, 2)
    t = point_times(net, _pts(e, 0.5), _pts(e, 0.45), cutoff_s=1000).toarray()[0, 0]
    assert t > 300  # on to node 2, back on the other carriageway and round again
