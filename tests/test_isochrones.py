"""Isochrones: hand-built roads with hand-computed reached lengths and areas, membership of points,
one-way streets, snapped origins, and split districts checked against networkx Dijkstra on the
real Shanghai extract."""
from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pyproj
import pytest
import shapely

from coverage.errors import CoverageWarning, InputError
from coverage.isochrones import isochrones, reached_pieces
from coverage.network import load_network, network_from_graph, snap_xy

UTM51 = pyproj.CRS.from_epsg(32651)
X0, Y0 = 350_000.0, 3_460_000.0  # metres in UTM 51N (near Shanghai)
W = 20.0  # road-side width used in the hand tests


def _net(nodes: dict, edges: list, kmh: float = 36.0):
    """A hand-built network: ``nodes`` id -> (x, y) metres from (X0, Y0), ``edges`` (u, v, oneway)."""
    inv = pyproj.Transformer.from_crs(UTM51, 4326, always_xy=True)
    g = nx.MultiDiGraph(crs="epsg:4326")
    for n, (x, y) in nodes.items():
        lon, lat = inv.transform(X0 + x, Y0 + y)
        g.add_node(n, x=lon, y=lat)
    for u, v, oneway in edges:
        g.add_edge(u, v, highway="residential", oneway=oneway)
        if not oneway:
            g.add_edge(v, u, highway="residential", oneway=oneway)
    net = network_from_graph(g, speeds={"residential": kmh}, simplify=False, retain_all=True)
    assert net.crs == UTM51
    return net


def _xy(x, y):
    return shapely.Point(X0 + x, Y0 + y)


def _proj(frame, net):
    return frame.to_crs(net.crs)


@pytest.fixture(scope="module")
def straight():
    """One 1 km two-way road: 100 s at 36 km/h."""
    return _net({1: (0, 0), 2: (1000, 0)}, [(1, 2, False)])


@pytest.fixture(scope="module")
def grid():
    """3 x 3 grid, 200 m blocks (20 s each), node 10*i + j at (200 i, 200 j); centre is 11."""
    nodes = {10 * i + j: (200.0 * i, 200.0 * j) for i in range(3) for j in range(3)}
    edges = [(10 * i + j, 10 * (i + 1) + j, False) for i in range(2) for j in range(3)]
    edges += [(10 * i + j, 10 * i + j + 1, False) for i in range(3) for j in range(2)]
    return _net(nodes, edges)


# --------------------------------------------------------------------------------------------
# hand-computed answers


def test_partial_edge_cut_at_exact_point(straight):
    assert straight.edge_time == pytest.approx([100.0, 100.0], rel=1e-9)
    iso = isochrones(straight, [1], cutoff_s=50, road_width_m=W)
    assert len(iso) == 1
    assert iso.road_km.iloc[0] == pytest.approx(0.5, rel=1e-9)
    expected = 2 * W * 500 + math.pi * W**2
    assert iso.area_km2.iloc[0] * 1e6 == pytest.approx(expected, rel=1e-3)
    assert _proj(iso, straight).area.iloc[0] == pytest.approx(iso.area_km2.iloc[0] * 1e6, rel=1e-6)
    pieces = reached_pieces(straight, [1], cutoff_s=50)
    assert len(pieces) == 1
    p = pieces.iloc[0]
    assert (p.u, p.v, p.from_fraction, p.to_fraction) == (1, 2, 0.0, pytest.approx(0.5))
    assert (p.t_start, p.t_end) == (0.0, pytest.approx(50.0))
    assert p.geometry.length == pytest.approx(500.0, rel=1e-9)
    end = shapely.get_point(p.geometry, -1)
    assert end.distance(_xy(500, 0)) < 1e-6


def test_grid_reached_lengths_and_membership(grid):
    iso = isochrones(grid, [11], cutoff_s=30, bands_s=[10, 30], road_width_m=W)
    # 10 s: 100 m on each of the 4 streets out of the centre.
    # 30 s: the 4 streets (200 m each) + 100 m on the 8 streets beyond the first crossings.
    assert iso.road_km.tolist() == pytest.approx([0.4, 4 * 0.2 + 8 * 0.1], rel=1e-9)
    assert iso.band_s.tolist() == [10.0, 30.0]
    poly = _proj(iso, grid).geometry
    inside_10 = [_xy(200, 260), _xy(110, 200), _xy(200, 105)]
    inside_30 = [_xy(0, 150), _xy(150, 0), _xy(400, 290), _xy(310, 400)]
    outside_30 = [_xy(0, 60), _xy(60, 0), _xy(400, 40), _xy(350, 400), _xy(0, 340)]
    assert all(poly.iloc[0].contains(p) for p in inside_10)
    assert not any(poly.iloc[0].contains(p) for p in inside_30)
    assert all(poly.iloc[1].contains(p) for p in inside_10 + inside_30)
    assert not any(poly.iloc[1].contains(p) for p in outside_30)


def test_cutoff_exactly_on_a_node():
    net = _net({1: (0, 0), 2: (1000, 0), 3: (2000, 0)}, [(1, 2, False), (2, 3, False)])
    iso = isochrones(net, [1], cutoff_s=100, bands_s=[99.9, 100], road_width_m=W)
    assert iso.road_km.tolist() == pytest.approx([0.999, 1.0], rel=1e-9)
    pieces = reached_pieces(net, [1], cutoff_s=100)
    assert pieces.length_m.sum() == pytest.approx(1000.0, rel=1e-9)
    assert set(zip(pieces.u, pieces.v)) == {(1, 2)}


@pytest.mark.filterwarnings("ignore:.*cannot reach the main road network")
def test_one_way_street_reached_only_forward():
    net = _net({1: (0, 0), 2: (1000, 0), 3: (1000, 1000)}, [(1, 2, True), (2, 3, False)])
    # from the start of the one-way: 500 m of it
    assert isochrones(net, [1], cutoff_s=50, road_width_m=W).road_km.iloc[0] == pytest.approx(0.5)
    # from node 2 of a plain one-way: nothing at all, and a warning naming it
    dead = _net({1: (0, 0), 2: (1000, 0)}, [(1, 2, True)])
    with pytest.warns(CoverageWarning, match=r"reach no road within 50 s.*'end'"):
        iso = isochrones(dead, [2], cutoff_s=50, labels=["end"])
    assert iso.road_km.iloc[0] == 0 and iso.geometry.iloc[0].is_empty
    # from its end: nothing of it, 500 m of the two-way street
    pieces = reached_pieces(net, [2], cutoff_s=50)
    assert set(zip(pieces.u, pieces.v)) == {(2, 3)}
    assert pieces.length_m.sum() == pytest.approx(500.0)
    iso = _proj(isochrones(net, [2], cutoff_s=50, road_width_m=W), net)
    assert not iso.geometry.iloc[0].contains(_xy(500, 0))
    assert iso.geometry.iloc[0].contains(_xy(1000, 400))


def test_snapped_origin_drives_its_own_edge_both_ways(straight):
    pt = snap_xy(straight, [X0 + 500], [Y0 + 5])
    pieces = reached_pieces(straight, pt, cutoff_s=20)
    assert sorted(pieces.length_m) == pytest.approx([200.0, 200.0])
    assert (pieces.t_start == 0).all() and pieces.t_end.tolist() == pytest.approx([20.0, 20.0])
    starts = shapely.get_point(pieces.geometry.values, 0)
    assert shapely.distance(starts, _xy(500, 0)).max() < 1e-6
    iso = isochrones(straight, pt, cutoff_s=20, road_width_m=W)
    assert iso.road_km.iloc[0] == pytest.approx(0.4)
    assert iso.area_km2.iloc[0] * 1e6 == pytest.approx(2 * W * 400 + math.pi * W**2, rel=1e-3)
    # on a one-way street only forward from the point
    oneway = _net({1: (0, 0), 2: (1000, 0)}, [(1, 2, True)])
    pt = snap_xy(oneway, [X0 + 500], [Y0 + 5])
    pieces = reached_pieces(oneway, pt, cutoff_s=20)
    assert len(pieces) == 1
    assert (pieces.from_fraction.iloc[0], pieces.to_fraction.iloc[0]) == pytest.approx((0.5, 0.7))


def test_split_at_point_of_equal_arrival(straight):
    # origins at node 1 (x = 0) and at x = 800 on the road: they meet at x = 400
    pts = snap_xy(straight, [X0, X0 + 800], [Y0 + 3, Y0 - 3])
    iso = isochrones(straight, pts, cutoff_s=100, mode="split", road_width_m=W, labels=["a", "b"])
    assert iso.label.tolist() == ["a", "b"]
    assert iso.road_km.tolist() == pytest.approx([0.4, 0.6], rel=1e-9)
    proj = _proj(iso, straight).geometry
    assert proj.iloc[0].contains(_xy(390, 0)) and proj.iloc[1].contains(_xy(410, 0))
    assert proj.iloc[0].intersection(proj.iloc[1]).area < 1e-6
    whole = isochrones(straight, pts, cutoff_s=100, mode="dissolve", road_width_m=W)
    assert whole.road_km.iloc[0] == pytest.approx(1.0)
    assert iso.area_km2.sum() == pytest.approx(whole.area_km2.iloc[0], rel=1e-6)
    assert whole.area_km2.iloc[0] * 1e6 == pytest.approx(2 * W * 1000 + math.pi * W**2, rel=1e-3)


def test_split_on_a_regular_grid(grid):
    # opposite corners: by symmetry each gets half of the 2.4 km grid; the regular grid gives
    # cocircular points, the degenerate case of the Voronoi split
    kw = dict(cutoff_s=80, road_width_m=W)
    split = isochrones(grid, [0, 22], mode="split", **kw)
    whole = isochrones(grid, [0, 22], mode="dissolve", **kw)
    assert split.road_km.tolist() == pytest.approx([1.2, 1.2], rel=1e-9)
    assert whole.road_km.iloc[0] == pytest.approx(2.4, rel=1e-9)
    assert split.area_km2.sum() == pytest.approx(whole.area_km2.iloc[0], rel=1e-6)
    a, b = _proj(split, grid).geometry
    assert a.intersection(b).area < 1e-3
    assert a.contains(_xy(50, 0)) and b.contains(_xy(350, 400))


def test_output_crs_columns_and_labels(grid):
    iso = isochrones(grid, [11, 0], cutoff_s=30, bands_s=[20, 30], labels=["x", "y"], road_width_m=W)
    assert iso.crs.to_epsg() == 4326
    assert list(iso.columns) == ["origin", "label", "band_s", "area_km2", "road_km", "geometry"]
    assert iso.origin.tolist() == [0, 0, 1, 1] and iso.label.tolist() == ["x", "x", "y", "y"]
    lon, lat = iso.geometry.iloc[0].centroid.coords[0]
    assert 121 < lon < 122 and 31 < lat < 32
    pieces = reached_pieces(grid, [11], cutoff_s=30)
    assert pieces.crs == grid.crs


# --------------------------------------------------------------------------------------------
# real extract against networkx


@pytest.fixture(scope="module")
def shanghai(shared_data):
    return load_network(shared_data / "osm" / "shanghai_huangpu_osmnx_drive.osm")


def _nx_times(net, node_id, cutoff):
    return nx.single_source_dijkstra_path_length(net.graph, node_id, cutoff=cutoff,
                                                 weight="travel_time")


def _road_reached_m(net, node_times, cutoff):
    """Reached metres by an independent formula: per road, the union of the interval driven in
    from each end, ``min(1, a + b)`` of its length; node times are networkx Dijkstra's."""
    total = 0.0
    for e in range(net.n_edges):
        r = int(net.edge_reverse[e])
        if r >= 0 and r < e:
            continue
        u, v = net.node_ids[net.edge_u[e]], net.node_ids[net.edge_v[e]]
        a = np.clip((cutoff - node_times.get(u, np.inf)) / net.edge_time[e], 0, 1)
        b = np.clip((cutoff - node_times.get(v, np.inf)) / net.edge_time[r], 0, 1) if r >= 0 else 0
        total += min(1.0, a + b) * net.edge_length[e]
    return total


def _origins(net, k, seed):
    """``k`` random nodes of the largest strongly connected part (each can drive somewhere)."""
    core = sorted(max(nx.strongly_connected_components(net.graph), key=len))
    rng = np.random.default_rng(seed)
    return np.asarray(core)[rng.choice(len(core), size=k, replace=False)]


def test_overlap_road_length_matches_networkx(shanghai):
    origins = _origins(shanghai, 4, 1)
    iso = isochrones(shanghai, origins, cutoff_s=120, road_width_m=30)
    for i, o in enumerate(origins):
        expected = _road_reached_m(shanghai, _nx_times(shanghai, o, 120), 120)
        assert iso.road_km.iloc[i] * 1000 == pytest.approx(expected, rel=1e-9, abs=1e-6)


def test_split_pieces_go_to_the_nearest_origin(shanghai):
    origins = _origins(shanghai, 6, 2)
    cutoff = 150.0
    times = [_nx_times(shanghai, o, 10 * cutoff) for o in origins]
    pieces = reached_pieces(shanghai, origins, cutoff_s=cutoff, mode="split")
    assert len(pieces) > 100
    net = shanghai
    e = pieces.edge.to_numpy()
    r = net.edge_reverse[e]
    fm = (pieces.from_fraction.to_numpy() + pieces.to_fraction.to_numpy()) / 2
    u = net.node_ids[net.edge_u[e]]
    v = net.node_ids[net.edge_v[e]]
    best = np.full((len(origins), len(e)), np.inf)
    for i, t in enumerate(times):
        tu = np.array([t.get(n, np.inf) for n in u])
        tv = np.array([t.get(n, np.inf) for n in v])
        back = np.where(r >= 0, tv + (1 - fm) * net.edge_time[np.maximum(r, 0)], np.inf)
        best[i] = np.minimum(tu + fm * net.edge_time[e], back)
    order = np.sort(best, axis=0)
    tm = (pieces.t_start.to_numpy() + pieces.t_end.to_numpy()) / 2
    assert tm == pytest.approx(order[0], abs=1e-6)
    clear = order[1] - order[0] > 1e-6
    assert clear.mean() > 0.95
    assert (best.argmin(axis=0)[clear] == pieces.origin.to_numpy()[clear]).all()
    # the districts together are exactly the road reached by any origin
    union_times = {}
    for t in times:
        for n, s in t.items():
            union_times[n] = min(s, union_times.get(n, np.inf))
    assert pieces.length_m.sum() == pytest.approx(_road_reached_m(net, union_times, cutoff), rel=1e-9)


def test_split_polygons_partition_the_dissolved_area(shanghai):
    origins = _origins(shanghai, 5, 3)
    kw = dict(cutoff_s=180, bands_s=[90, 180], road_width_m=40)
    split = _proj(isochrones(shanghai, origins, mode="split", **kw), shanghai)
    whole = _proj(isochrones(shanghai, origins, mode="dissolve", **kw), shanghai)
    wide = reached_pieces(shanghai, origins, cutoff_s=180, mode="split")
    for band in (90.0, 180.0):
        pieces = reached_pieces(shanghai, origins, cutoff_s=band, mode="split")
        part = split[split.band_s == band]
        dis = whole[whole.band_s == band].iloc[0]
        assert len(part) == len(origins)
        if band == 180.0:  # the widest band partitions the dissolved area
            assert part.area_km2.sum() == pytest.approx(dis.area_km2, rel=1e-6)
        else:  # a narrower one: each district along its own origin's roads, within the dissolved
            assert part.area_km2.sum() <= dis.area_km2 * (1 + 1e-9)
            own = pieces.geometry.to_numpy()
            for o, g in zip(part.origin, part.geometry):
                strip = shapely.buffer(shapely.union_all(own[pieces.origin.to_numpy() == o]), 40.0 + 0.5)
                assert shapely.difference(g, strip).area < 1e-6 * max(g.area, 1.0)
        assert part.road_km.sum() == pytest.approx(dis.road_km, rel=1e-9)
        geoms = part.geometry.to_numpy()
        for i in range(len(geoms)):
            for j in range(i + 1, len(geoms)):
                assert shapely.intersection(geoms[i], geoms[j]).area < 1e-3
        # piece midpoints lie in their own origin's district, unless another origin's road
        # (reached within the widest band, which draws the districts) runs right beside them
        # (divided carriageways, elevated roads over ground streets)
        lines = pieces.geometry.to_numpy()
        owner = pieces.origin.to_numpy()
        mids = shapely.line_interpolate_point(lines, 0.5, normalized=True)
        clear = np.ones(len(mids), bool)
        for o in np.unique(owner):
            others = shapely.union_all(wide.geometry.to_numpy()[wide.origin.to_numpy() != o])
            clear[owner == o] = shapely.distance(mids[owner == o], others) > 30.0
        assert clear.mean() > 0.6
        assert shapely.covers(geoms[owner[clear]], mids[clear]).all()


def test_bands_are_nested(shanghai):
    origins = _origins(shanghai, 3, 4)
    for mode in ("overlap", "dissolve", "split"):
        iso = _proj(isochrones(shanghai, origins, cutoff_s=240, mode=mode,
                               bands_s=[60, 120, 240], road_width_m=25), shanghai)
        if mode == "split":  # the widest band partitions the dissolved area
            dis = _proj(isochrones(shanghai, origins, cutoff_s=240, mode="dissolve",
                                   bands_s=[60, 120, 240], road_width_m=25), shanghai)
            whole = dis.loc[dis.band_s == 240].geometry.iloc[0]
            rows = iso[iso.band_s == 240]
            assert rows.area.sum() == pytest.approx(whole.area, rel=1e-6)
            assert shapely.union_all(rows.geometry.to_numpy()).symmetric_difference(whole).area \
                < 1e-6 * whole.area
        for _, rows in iso.groupby("origin"):
            rows = rows.sort_values("band_s")
            assert (np.diff(rows.road_km) > 0).all() and (np.diff(rows.area_km2) > 0).all()
            g = rows.geometry.to_numpy()
            for inner, outer in zip(g[:-1], g[1:]):
                assert shapely.difference(inner, outer).area < 1e-7 * outer.area


# --------------------------------------------------------------------------------------------
# bad input


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(mode="bogus"), r"'bogus'.*'overlap', 'dissolve', 'split'"),
        (dict(bands_s=[120, 60]), r"not increasing"),
        (dict(bands_s=[60, 60]), r"not increasing"),
        (dict(bands_s=[60, 300]), r"300.*above cutoff_s"),
        (dict(bands_s=[0, 60]), r"time band 0 .*> 0"),
        (dict(bands_s=[-5]), r"time band -5"),
        (dict(bands_s=[]), r"bands_s is empty"),
        (dict(road_width_m=-1), r"road_width_m -1"),
        (dict(cutoff_s=-3), r"cutoff_s -3"),
        (dict(labels=["only one", "two", "three"]), r"3 name\(s\) for 1 origin"),
    ],
)
def test_bad_input_named(grid, kwargs, match):
    args = dict(cutoff_s=240, road_width_m=W)
    args.update(kwargs)
    with pytest.raises(InputError, match=match):
        isochrones(grid, [11], **args)


def test_bad_origins_named(grid):
    with pytest.raises(InputError, match="origins is empty"):
        isochrones(grid, [], cutoff_s=60)
    with pytest.raises(InputError, match="999"):
        isochrones(grid, [11, 999], cutoff_s=60)
    with pytest.raises(InputError, match="'nope'"):
        reached_pieces(grid, [11], cutoff_s=60, mode="nope")



# --------------------------------------------------------------------------------------------
# districts as land (district_land)


@pytest.fixture(scope="module")
def big_grid():
    """6 x 6 grid, 200 m blocks, one one-way street; node 10*i + j at (200 i, 200 j)."""
    nodes = {10 * i + j: (200.0 * i, 200.0 * j) for i in range(6) for j in range(6)}
    edges = [(10 * i + j, 10 * (i + 1) + j, (i, j) == (2, 3)) for i in range(5) for j in range(6)]
    edges += [(10 * i + j, 10 * i + j + 1, False) for i in range(6) for j in range(5)]
    return _net(nodes, edges)


def _arrival(net, origins, cutoff):
    """networkx: for each origin, seconds to every node (directed, edge travel_time)."""
    g = nx.DiGraph()
    for k in range(net.n_edges):
        u, v = int(net.edge_u[k]), int(net.edge_v[k])
        g.add_edge(u, v, t=float(net.edge_time[k]))
    ids = {nid: i for i, nid in enumerate(net.node_ids.tolist())}
    return [nx.single_source_dijkstra_path_length(g, ids[o], cutoff=cutoff, weight="t") for o in origins]


@pytest.mark.parametrize("cutoff", [45.0, 150.0])
def test_district_land_divides_the_land_by_first_arrival(big_grid, cutoff):
    from coverage.isochrones import district_land

    net, origins, fill = big_grid, [0, 55, 22], 120.0
    d = _proj(district_land(net, origins, cutoff_s=cutoff, fill_m=fill), net)
    roads = shapely.union_all([shapely.buffer(g, fill) for g in net.edge_geometry])
    # the land is every point within fill_m of a road; districts + unreached land tile it
    assert d.attrs["land_km2"] * 1e6 == pytest.approx(roads.area, rel=1e-6)
    assert (d.area_km2.sum() + d.attrs["unreached_km2"]) * 1e6 == pytest.approx(roads.area, rel=1e-6)
    assert d.area_km2.to_numpy() * 1e6 == pytest.approx(d.area.to_numpy(), rel=1e-6)
    for a in range(3):
        for b in range(a + 1, 3):
            assert d.geometry.iloc[a].intersection(d.geometry.iloc[b]).area < 1.0
    # each random land point lies in the district of the origin arriving first at its nearest
    # road point (networkx times along the edge, both directions where the road is two-way)
    times = _arrival(net, origins, cutoff)
    rng = np.random.default_rng(3)
    minx, miny, maxx, maxy = roads.bounds
    lines = net.edge_geometry
    agree = total = 0
    while total < 400:
        p = shapely.Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if not roads.contains(p):
            continue
        k = int(np.argmin(shapely.distance(lines, p)))
        f = lines[k].project(p, normalized=True)
        best, owner = math.inf, -1
        for i, t in enumerate(times):
            arr = []
            for e, frac in ((k, f), (int(net.edge_reverse[k]), 1.0 - f)):
                if e >= 0 and int(net.edge_u[e]) in t:
                    arr.append(t[int(net.edge_u[e])] + frac * float(net.edge_time[e]))
            a = min(arr, default=math.inf)
            if a <= cutoff and a < best:
                best, owner = a, i
        inside = [i for i in range(3) if d.geometry.iloc[i].contains(p)]
        total += 1
        agree += (inside == [owner]) if owner >= 0 else (inside == [])
    assert agree / total >= 0.99  # a point within a road-point spacing of a boundary may differ
    if cutoff < 60:
        assert d.attrs["unreached_km2"] > 0.1


def test_district_land_clipped_to_area_and_bad_values(big_grid):
    from coverage.isochrones import district_land

    net = big_grid
    area = shapely.box(X0 - 50, Y0 - 50, X0 + 500, Y0 + 500)
    d = _proj(district_land(net, [0, 55], cutoff_s=1000, area=area), net)
    assert d.area_km2.sum() * 1e6 == pytest.approx(area.area, rel=1e-6)  # the area is all near roads
    assert d.geometry.iloc[1].area < d.geometry.iloc[0].area  # 55 is far from the clipped corner
    for bad in (0, -5, float("nan"), "wide"):
        with pytest.raises(InputError, match="fill_m"):
            district_land(net, [0], cutoff_s=100, fill_m=bad)


def test_district_land_leaves_out_the_area_beyond_the_road_extract(big_grid):
    # a study area far larger than the 1 km grid: only the grid's extent (hull of its nodes +
    # 200 m) goes to districts; the rest, whose roads are unknown, is reported, in no district
    from coverage.isochrones import district_land

    net = big_grid
    area = shapely.box(X0 - 1000, Y0 - 1000, X0 + 3000, Y0 + 3000)
    d = _proj(district_land(net, [0, 55], cutoff_s=1000, area=area, fill_m=None), net)
    extent = 1000.0 ** 2 + 4 * 1000.0 * 200.0 + math.pi * 200.0 ** 2
    assert d.attrs["land_km2"] * 1e6 == pytest.approx(extent, rel=1e-3)  # (buffer arcs are polygons)
    assert (d.area_km2.sum() + d.attrs["unreached_km2"]) * 1e6 == pytest.approx(extent, rel=1e-3)
    assert d.attrs["beyond_km2"] * 1e6 == pytest.approx(area.area - extent, rel=1e-3)
    assert d.geometry.union_all().within(shapely.box(X0 - 201, Y0 - 201, X0 + 1201, Y0 + 1201))


@pytest.mark.parametrize("mode", ["dissolve", "split", "overlap"])
def test_island_origins_are_warned_in_every_mode(mode):
    # node 2 is the end of a one-way street: it cannot reach the main network (nodes 3-4)
    net = _net({1: (0, 0), 2: (1000, 0), 3: (0, 500), 4: (1000, 500)},
               [(1, 2, True), (3, 4, False), (1, 3, False)])
    with pytest.warns(CoverageWarning, match="cannot reach the main road network"):
        isochrones(net, [2, 3], cutoff_s=50, mode=mode, road_width_m=W)
    with pytest.warns(CoverageWarning, match="network.*: dead end st"):  # named by its label
        isochrones(net, [2, 3], cutoff_s=50, mode=mode, road_width_m=W, labels=["dead end st", "b"])


def test_signal_wait_is_paid_at_the_signal_not_along_the_road():
    """1 km road 1-2-3 (100 s per km at 36 km/h) with a signal at 2 (30 s wait): driving from 1
    reaches 800 m in 80 s (no share of the wait); 2 at 130 s; 200 m past it at 150 s. The signal
    stays a node when the road is simplified."""
    inv = pyproj.Transformer.from_crs(UTM51, 4326, always_xy=True)
    g = nx.MultiDiGraph(crs="epsg:4326")
    for n, x in ((1, 0.0), (2, 1000.0), (3, 2000.0)):
        lon, lat = inv.transform(X0 + x, Y0)
        g.add_node(n, x=lon, y=lat, **({"highway": "traffic_signals"} if n == 2 else {}))
    for u, v in ((1, 2), (2, 3)):
        g.add_edge(u, v, highway="residential")
        g.add_edge(v, u, highway="residential")
    net = network_from_graph(g, speeds={"residential": 36, "signal_delay_s": 30}, retain_all=True)
    assert sorted(net.node_ids.tolist()) == [1, 2, 3]
    for cutoff, km in ((80, 0.8), (129, 1.0), (150, 1.2)):
        iso = isochrones(net, [1], cutoff_s=cutoff, road_width_m=W)
        assert iso.road_km.iloc[0] == pytest.approx(km, rel=1e-9)
    # from the far end the wait at 2 is paid going west too: 3 -> 2 is 130 s, 1 km more is 230 s
    iso = isochrones(net, [3], cutoff_s=180, road_width_m=W)
    assert iso.road_km.iloc[0] == pytest.approx(1.5, rel=1e-9)
    # without a wait the signal may go: one 2 km road
    plain = network_from_graph(g, speeds={"residential": 36}, retain_all=True)
    assert sorted(plain.node_ids.tolist()) == [1, 3]


def test_narrower_split_bands_hold_only_ground_along_their_own_roads():
    """Dual carriageway 15 m apart: B drives east on y=0 from x=0, A west on y=15 from x=1000.
    Within 50 s each reaches 500 m; A's 50 s district holds nothing beside B's road only."""
    net = _net({1: (0, 0), 2: (1000, 0), 3: (0, 15), 4: (1000, 15)}, [(1, 2, True), (4, 3, True)])
    iso = _proj(isochrones(net, [1, 4], cutoff_s=100, bands_s=[50, 100], mode="split",
                           road_width_m=W, labels=["B", "A"]), net)
    west = shapely.box(X0 - 100, Y0 - 100, X0 + 490, Y0 + 100)  # A reaches nothing here in 50 s
    a50 = iso[(iso.label == "A") & (iso.band_s == 50)].geometry.iloc[0]
    b50 = iso[(iso.label == "B") & (iso.band_s == 50)].geometry.iloc[0]
    assert a50.intersection(west).area < 0.02 * a50.area  # only the strip's round end past x=500
    assert b50.intersection(west).area > 0.9 * b50.area
    for lab in "AB":
        rows = iso[iso.label == lab].sort_values("band_s").geometry.to_numpy()
        assert shapely.difference(rows[0], rows[1]).area < 1e-6
