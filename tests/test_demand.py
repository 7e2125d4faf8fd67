"""Demand units: road pieces count each road once, grids tile the area, features snap or fail."""
from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import pytest
import shapely

from coverage.demand import from_features, grid_cells, road_pieces
from coverage.errors import DataError, InputError, OffNetworkError
from coverage.network import load_network, network_from_graph

UTM50 = pyproj.CRS.from_epsg(32650)
X0, Y0 = 450_000.0, 4_330_000.0  # near Beijing


def _graph_with_nodes(nodes):
    """A WGS-84 graph holding ``nodes`` (id -> (x, y) metres from (X0, Y0) in UTM 50N)."""
    inv = pyproj.Transformer.from_crs(UTM50, 4326, always_xy=True)
    g = nx.MultiDiGraph(crs="epsg:4326")
    for n, (x, y) in nodes.items():
        lon, lat = inv.transform(X0 + x, Y0 + y)
        g.add_node(n, x=lon, y=lat)
    return g


def hand_net(nodes, edges, kmh=36.0):
    g = _graph_with_nodes(nodes)
    for u, v, oneway in edges:
        g.add_edge(u, v, highway="residential")
        if not oneway:
            g.add_edge(v, u, highway="residential")
    return network_from_graph(g, speeds={"residential": kmh}, simplify=False, retain_all=True)


@pytest.fixture(scope="module")
def tee():
    # a two-way 1,000 m road and a one-way 130 m spur
    return hand_net({1: (0, 0), 2: (1000, 0), 3: (1000, 130)}, [(1, 2, False), (2, 3, True)])


def test_road_pieces_count_two_way_roads_once(tee):
    d = road_pieces(tee, piece_m=50)
    assert d.total == pytest.approx(1130.0, abs=0.5)
    assert len(d) == 20 + 3  # ceil(1000/50) + ceil(130/50)
    assert max(shapely.length(d.geometry)) <= 50.0 + 1e-6
    # each unit sits at the middle of its piece
    mids = shapely.line_interpolate_point(d.geometry, 0.5, normalized=True)
    assert np.allclose(shapely.get_x(mids), d.at.x, atol=1e-6)
    assert np.allclose(d.weight, shapely.length(d.geometry), atol=1e-6)


def test_road_pieces_area_and_districts(tee):
    inv = pyproj.Transformer.from_crs(UTM50, 4326, always_xy=True)

    def rect(x0, x1):
        xs, ys = inv.transform([X0 + x0, X0 + x1, X0 + x1, X0 + x0], [Y0 - 50, Y0 - 50, Y0 + 200, Y0 + 200])
        return shapely.Polygon(zip(xs, ys))

    area = rect(-10, 500)
    d = road_pieces(tee, piece_m=50, area=area)
    assert d.total == pytest.approx(500.0, abs=0.5)
    districts = gpd.GeoDataFrame({"name": ["west", "east"]}, geometry=[rect(-10, 400), rect(400, 1100)], crs=4326)
    d = road_pieces(tee, piece_m=50, districts=districts, name_field="name")
    w = {k: d.weight[d.district == k].sum() for k in ("west", "east")}
    assert w["west"] == pytest.approx(400.0, abs=0.5)
    assert w["east"] == pytest.approx(730.0, abs=0.5)
    with pytest.raises(InputError, match="nom"):
        road_pieces(tee, districts=districts, name_field="nom")
    with pytest.raises(DataError, match="holds no road"):
        road_pieces(tee, area=shapely.box(0, 0, 1, 1))
    with pytest.raises(InputError, match="piece_m"):
        road_pieces(tee, piece_m=0)


def test_grid_cells_tile_the_area(tee):
    inv = pyproj.Transformer.from_crs(UTM50, 4326, always_xy=True)
    # (an area inside the extract: the nodes' hull + 200 m)
    xs, ys = inv.transform([X0, X0 + 1000, X0 + 1000, X0], [Y0 - 100, Y0 - 100, Y0 + 100, Y0 + 100])
    area = shapely.Polygon(zip(xs, ys))
    for shape in ("square", "hex"):
        g = grid_cells(tee, area=area, cell_m=100, shape=shape, max_access_m=1e9)
        assert g.total == pytest.approx(1.0 * 0.2, rel=2e-3)  # km², the whole rectangle
        assert (g.at.distance_m <= 300).all()
    with pytest.raises(InputError, match="shape"):
        grid_cells(tee, shape="triangle")


def test_grid_cells_far_from_streets_are_counted_and_warned_about(tee):
    """Cells more than max_access_m from a street were dropped silently (Huangpu as a grid: 21 %
    of the area), and coverage shares counted the rest as if it were all."""
    from coverage.errors import CoverageWarning
    from coverage.report import markdown_summary

    inv = pyproj.Transformer.from_crs(UTM50, 4326, always_xy=True)
    xs, ys = inv.transform([X0 - 100, X0 + 1100, X0 + 1100, X0 - 100], [Y0 - 100, Y0 - 100, Y0 + 900, Y0 + 900])
    area = shapely.Polygon(zip(xs, ys))
    with pytest.warns(CoverageWarning, match=r"grid cell\(s\), .* km² \(.*% of the area\), lie more than 250 m"):
        g = grid_cells(tee, area=area, cell_m=100, max_access_m=250)
    everything = grid_cells(tee, area=area, cell_m=100, max_access_m=1e9)
    assert g.far_cells == len(everything) - len(g) > 0
    assert g.total + g.far_km2 == pytest.approx(everything.total, rel=1e-9)
    md = markdown_summary({"demand": {"far_cells": g.far_cells, "far_km2": g.far_km2}})
    assert f"grid cells left out of demand: {g.far_cells}" in md


def test_features_snap_or_fail_naming_the_feature(tee):
    inv = pyproj.Transformer.from_crs(UTM50, 4326, always_xy=True)
    lon, lat = inv.transform([X0 + 100, X0 + 500], [Y0 + 20, Y0 + 10])
    pts = gpd.GeoDataFrame({"pop": [10, 30]}, geometry=gpd.points_from_xy(lon, lat), crs=4326)
    d = from_features(tee, pts, kind="points", weight_field="pop")
    assert d.total == 40
    assert d.at.distance_m == pytest.approx([20, 10], abs=0.01)
    far_lon, far_lat = inv.transform(X0 + 500, Y0 + 215)  # 215 m from the road, inside the extract
    far = gpd.GeoDataFrame({"pop": [1]}, geometry=gpd.points_from_xy([far_lon], [far_lat]), crs=4326, index=["school-7"])
    with pytest.raises(OffNetworkError, match="points feature school-7"):
        from_features(tee, far, kind="points", max_access_m=150)
    far["name"] = ["小区10"]  # a named feature is named too
    with pytest.raises(OffNetworkError, match="points feature school-7 '小区10'"):
        from_features(tee, far, kind="points", max_access_m=150)
    with pytest.raises(InputError, match="people"):
        from_features(tee, pts, weight_field="people")
    # a bad weight is named with its feature and value
    bad = pts.assign(pop=[10, "many"])
    with pytest.raises(InputError, match="'pop' of the points file has 1 missing.*first 'many' in feature 1"):
        from_features(tee, bad, kind="points", weight_field="pop")


def test_real_extract_road_length_matches_the_graph(shared_data):
    net = load_network(shared_data / "osm" / "hsinchu_nctu_taiwan_roads.osm.bz2")
    d = road_pieces(net, exclude=[])
    # independent: osmnx's own undirected conversion merges the two directions of a road
    import osmnx as ox

    und = ox.convert.to_undirected(net.graph)
    total = sum(e["length"] for _, _, e in und.edges(data=True))
    assert d.total == pytest.approx(total, rel=0.002)
    assert d.excluded_m == {}
    # by default motorways (and tunnels) are left out; lengths from the raw OSM tags
    motorway = sum(e["length"] for _, _, e in und.edges(data=True)
                   if e["highway"] in ("motorway", "motorway_link"))
    assert motorway > 5000  # the extract's freeway and its ramps
    dd = road_pieces(net)
    assert dd.total + sum(dd.excluded_m.values()) == pytest.approx(d.total, rel=1e-9)
    # each left-out road counts once, as its first kind: tunnel, then bridge, then motorway
    tun = lambda e: e.get("tunnel") not in (None, "no", "building_passage")  # noqa: E731
    bri = lambda e: e.get("bridge") not in (None, "no")  # noqa: E731
    mot = lambda e: e["highway"] in ("motorway", "motorway_link")  # noqa: E731
    want = {"tunnel": lambda e: tun(e), "bridge": lambda e: bri(e) and not tun(e),
            "motorway": lambda e: mot(e) and not tun(e) and not bri(e)}
    for kind, test in want.items():
        length = sum(e["length"] for _, _, e in und.edges(data=True) if test(e))
        assert dd.excluded_m.get(kind, 0.0) == pytest.approx(length, rel=0.002, abs=1.0), kind
    assert dd.excluded_m["bridge"] > 500  # the extract's viaducts and river bridges
    left = sum(e["length"] for _, _, e in und.edges(data=True) if tun(e) or bri(e) or mot(e))
    assert dd.total == pytest.approx(total - left, rel=0.01)


def tagged_net(nodes, roads):
    """Two-way roads (a, b, tags) between nodes given in metres; travel times from speeds."""
    g = _graph_with_nodes(nodes)
    for a, b, tags in roads:
        g.add_edge(a, b, **tags)
        g.add_edge(b, a, **tags)
    return network_from_graph(g, simplify=False, retain_all=True)


@pytest.fixture(scope="module")
def mixed():
    # a 1,000 m street 1-2; a 300 m road tunnel 2-3; a 120 m building passage 1-4; a 700 m
    # motorway 3-5 and its 250 m ramp 5-2; a 400 m trunk 2-6 (kept: trunks have frontage)
    nodes = {1: (0, 0), 2: (1000, 0), 3: (1300, 0), 4: (0, 120), 5: (1300, 700), 6: (1000, -400)}
    roads = [(1, 2, {"highway": "residential"}),
             (2, 3, {"highway": "primary", "tunnel": "yes", "layer": "-1"}),
             (1, 4, {"highway": "service", "tunnel": "building_passage"}),
             (3, 5, {"highway": "motorway"}),
             (5, 2, {"highway": "motorway_link"}),
             (2, 6, {"highway": "trunk"})]
    return tagged_net(nodes, roads), nodes


def test_road_demand_leaves_out_tunnels_and_motorways(mixed):
    net, nodes = mixed

    def dist(a, b):
        (xa, ya), (xb, yb) = nodes[a], nodes[b]
        return float(np.hypot(xb - xa, yb - ya))

    kept = dist(1, 2) + dist(1, 4) + dist(2, 6)  # 1,520 m
    tunnel = dist(2, 3)
    motorway = dist(3, 5) + dist(5, 2)
    d = road_pieces(net, piece_m=50)
    assert d.exclude == ("tunnel", "bridge", "motorway")
    assert d.total == pytest.approx(kept, abs=0.5)
    assert d.excluded_m["tunnel"] == pytest.approx(tunnel, abs=0.5)
    assert d.excluded_m["motorway"] == pytest.approx(motorway, abs=0.5)
    assert d.excluded_km == pytest.approx((tunnel + motorway) / 1000, abs=1e-3)
    # no unit is served on a tunnel or a motorway
    assert not net.edge_tunnel[d.at.edge].any()
    assert not np.isin(net.edge_highway[d.at.edge], ["motorway", "motorway_link"]).any()
    # each kind on its own, and everything
    t_only = road_pieces(net, exclude=["tunnel"])
    assert t_only.total == pytest.approx(kept + motorway, abs=0.5) and set(t_only.excluded_m) == {"tunnel"}
    m_only = road_pieces(net, exclude="motorway")
    assert m_only.total == pytest.approx(kept + tunnel, abs=0.5)
    every = road_pieces(net, exclude=[])
    assert every.total == pytest.approx(kept + tunnel + motorway, abs=0.5) and every.excluded_m == {}
    with pytest.raises(InputError, match="tunnels"):
        road_pieces(net, exclude=["tunnels"])
    with pytest.raises(InputError, match="exclude"):
        road_pieces(net, exclude=True)
    # service roads (the 120 m building passage 1-4 is highway=service) count unless asked
    svc = road_pieces(net, exclude=["tunnel", "motorway", "service"])
    assert svc.total == pytest.approx(kept - dist(1, 4), abs=0.5)
    assert svc.excluded_m["service"] == pytest.approx(dist(1, 4), abs=0.5)
    assert svc.exclude == ("tunnel", "motorway", "service")


def test_road_demand_exclusion_inside_the_area_only(mixed):
    net, nodes = mixed
    inv = pyproj.Transformer.from_crs(UTM50, 4326, always_xy=True)
    # a strip along y = 0 holding the piece midpoints of the tunnel and of the street's last 100 m,
    # none of the motorway's (first midpoint at y = 25), the ramp's (y = 21.9) or the trunk's (-25)
    xs, ys = inv.transform([X0 + 900, X0 + 1400, X0 + 1400, X0 + 900], [Y0 - 20, Y0 - 20, Y0 + 15, Y0 + 15])
    d = road_pieces(net, piece_m=50, area=shapely.Polygon(zip(xs, ys)))
    assert d.excluded_m["tunnel"] == pytest.approx(300, abs=0.5)  # the whole tunnel is inside
    assert d.excluded_m["motorway"] == pytest.approx(0, abs=0.5)
    assert d.total == pytest.approx(100, abs=0.5)  # the last 100 m of the street 1-2
    # only excluded roads left: a clear error naming the way out
    xs, ys = inv.transform([X0 + 1050, X0 + 1250, X0 + 1250, X0 + 1050], [Y0 - 20, Y0 - 20, Y0 + 20, Y0 + 20])
    with pytest.raises(DataError, match="exclude: \\[\\]"):
        road_pieces(net, area=shapely.Polygon(zip(xs, ys)))


def test_scenario_demand_exclude_option(tmp_path):
    from coverage.errors import ScenarioError
    from coverage.scenario import parse_scenario

    base = {"name": "x", "network": {"default": "helsinki"}}
    assert parse_scenario({**base, "demand": {"kind": "roads"}}).demand.exclude == ("tunnel", "bridge", "motorway")
    assert parse_scenario({**base, "demand": {"exclude": []}}).demand.exclude == ()
    assert parse_scenario({**base, "demand": {"exclude": ["motorway"]}}).demand.exclude == ("motorway",)
    for bad, match in (({"exclude": ["tunnels"]}, "demand.exclude.*tunnels"),
                       ({"exclude": 5}, "demand.exclude"),
                       ({"kind": "grid", "exclude": []}, "kind roads only"),
                       ({"exlude": []}, "demand.exlude")):
        with pytest.raises(ScenarioError, match=match):
            parse_scenario({**base, "demand": bad})
    h = parse_scenario({**base, "hydrants": {"osm": True, "exclude": ["tunnel"]}}).hydrants
    assert (h["osm"], h["exclude"], h["high_risk"]) == (True, ("tunnel",), None)
    # hydrants leave out service roads by default (municipal hydrants line municipal streets),
    # and the second carriageway of a divided road (one side suffices up to 60 m)
    assert parse_scenario({**base, "hydrants": {"osm": True}}).hydrants["exclude"] == (
        "tunnel", "bridge", "motorway", "service", "second_carriageway")
    assert parse_scenario({**base, "demand": {"exclude": ["service", "tunnel"]}}).demand.exclude == (
        "tunnel", "service")
    assert parse_scenario({**base, "hydrants": {"osm": True, "exclude": ["tunnel", "motorway"]}}
                          ).hydrants["exclude"] == ("tunnel", "motorway")
    with pytest.raises(ScenarioError, match="hydrants.exclude.*service"):
        parse_scenario({**base, "hydrants": {"osm": True, "exclude": ["services"]}})
    with pytest.raises(ScenarioError, match="hydrants.exclude"):
        parse_scenario({**base, "hydrants": {"osm": True, "exclude": "expressway"}})


def test_grid_and_buildings_are_served_from_surface_streets(mixed):
    net, nodes = mixed
    # points right above the tunnel (2-3 at y = 0) and beside the motorway (3-5 at x = 1300):
    # the nearest road is the tunnel / motorway, but demand is served from a surface street
    inv = pyproj.Transformer.from_crs(UTM50, 4326, always_xy=True)
    xy = [(1150.0, 5.0), (1310.0, 400.0), (500.0, 10.0)]
    lon, lat = inv.transform([X0 + x for x, _ in xy], [Y0 + y for _, y in xy])
    pts = gpd.GeoDataFrame({"w": [1.0, 2.0, 3.0]}, geometry=gpd.points_from_xy(lon, lat), crs=4326)
    d = from_features(net, pts, kind="points", max_access_m=1000)
    hw = net.edge_highway[d.at.edge].astype(str)
    assert not net.edge_tunnel[d.at.edge].any()
    assert not np.isin(hw, ["motorway", "motorway_link", "trunk_link"]).any()
    assert d.at.distance_m[2] == pytest.approx(10.0, abs=0.01)  # a street point stays where it is
    g = grid_cells(net, cell_m=200.0, max_access_m=2000)
    assert not net.edge_tunnel[g.at.edge].any()
    assert not np.isin(net.edge_highway[g.at.edge].astype(str), ["motorway", "motorway_link"]).any()


def test_stations_open_onto_surface_streets(mixed):
    from coverage.scenario import parse_scenario
    from coverage.stations import place_stations

    net, nodes = mixed
    inv = pyproj.Transformer.from_crs(UTM50, 4326, always_xy=True)
    lon, lat = inv.transform(X0 + 1150.0, Y0 + 3.0)  # above the road tunnel
    sc = parse_scenario({"name": "x", "network": {"default": "helsinki"},
                         "stations": [{"id": "a", "at": {"lon": float(lon), "lat": float(lat)}}]})
    st = place_stations(net, sc.stations, max_snap_m=500)
    row = st.iloc[0]
    assert not net.edge_tunnel[int(row["edge"])]
    assert net.edge_highway[int(row["edge"])] in ("primary", "residential", "trunk", "service")
    assert row["moved_m"] > 100 and "surface street" in row["warnings"]


def test_demand_that_weighs_nothing_or_is_not_points_is_refused(tee):
    """All-zero weights gave 'nan%' coverage; a line in a points file was cut to one point."""
    from shapely.geometry import LineString

    from coverage.errors import DataError

    inv = pyproj.Transformer.from_crs(UTM50, 4326, always_xy=True)
    lon, lat = inv.transform([X0 + 100, X0 + 500], [Y0 + 20, Y0 + 10])
    zero = gpd.GeoDataFrame({"w": [0, 0]}, geometry=gpd.points_from_xy(lon, lat), crs=4326)
    with pytest.raises(DataError, match=r"weighs nothing \(total 0 in weight field 'w'\)"):
        from_features(tee, zero, kind="points", weight_field="w")
    line = gpd.GeoDataFrame({"w": [1]}, geometry=[LineString(zip(lon, lat))], crs=4326)
    with pytest.raises(DataError, match="not points, the first 0 a LineString"):
        from_features(tee, line, kind="points")
    # QGIS / ArcGIS exports type every feature MultiPoint: one point each is a point; two are not
    from shapely.geometry import MultiPoint
    mp = gpd.GeoDataFrame({"w": [1.0, 2.0]}, geometry=[MultiPoint([(lon[0], lat[0])]), MultiPoint([(lon[1], lat[1])])],
                          crs=4326)
    d = from_features(tee, mp, kind="points", weight_field="w")
    plain = from_features(tee, gpd.GeoDataFrame({"w": [1.0, 2.0]}, geometry=gpd.points_from_xy(lon, lat), crs=4326),
                          kind="points", weight_field="w")
    assert d.total == 3.0 and d.at.distance_m == pytest.approx(plain.at.distance_m)
    assert from_features(tee, mp.rename_geometry("geom"), kind="points", weight_field="w").total == 3.0
    two = gpd.GeoDataFrame({"w": [1]}, geometry=[MultiPoint(list(zip(lon, lat)))], crs=4326)
    with pytest.raises(DataError, match="not points, the first 0 a MultiPoint"):
        from_features(tee, two, kind="points")


def test_demand_beyond_the_road_extract_is_left_out_and_reported(tee):
    """A grid over a study area larger than the extract put 45 % of its demand beyond the
    extract's bounds, served from the edge roads; points there were served from the edge too.
    Without stated bounds the extract is the nodes' hull + 200 m, as for district land."""
    from coverage.errors import CoverageWarning

    inv = pyproj.Transformer.from_crs(UTM50, 4326, always_xy=True)

    def lonlat_box(x0, y0, x1, y1):
        xs, ys = inv.transform([x0, x1, x1, x0], [y0, y0, y1, y1])
        return shapely.Polygon(zip(xs, ys))
    area = lonlat_box(X0 - 100, Y0 - 100, X0 + 1100, Y0 + 300)  # 1.2 km x 0.4 km
    net = tee
    net.graph.graph["extract_area"] = lonlat_box(X0 - 50, Y0 - 50, X0 + 1050, Y0 + 200).wkt  # the roads' box
    hull = shapely.MultiPoint(np.column_stack([net.x, net.y])).convex_hull.buffer(200.0)
    fwd = pyproj.Transformer.from_crs(4326, net.crs, always_xy=True)
    stated = shapely.Polygon([fwd.transform(*inv.transform(x, y)) for x, y in
                              [(X0 - 50, Y0 - 50), (X0 + 1050, Y0 - 50), (X0 + 1050, Y0 + 200), (X0 - 50, Y0 + 200)]])
    try:
        with pytest.warns(CoverageWarning, match=r"km² of the study area lies beyond the road extract"):
            g = grid_cells(net, area=area, cell_m=100, max_access_m=1e9)
        assert g.total == pytest.approx(stated.intersection(hull).area / 1e6, rel=2e-3)
        assert g.beyond_km2 == pytest.approx(0.48 - g.total, rel=2e-3)
        lon, lat = inv.transform([X0 + 100, X0 + 1080], [Y0 + 20, Y0 + 250])  # the second beyond
        pts = gpd.GeoDataFrame({"name": ["inside", "east"]}, geometry=gpd.points_from_xy(lon, lat), crs=4326)
        with pytest.warns(CoverageWarning, match="1 of 2 points feature.*beyond the road extract.*'east'"):
            d = from_features(net, pts, kind="points")
        assert len(d) == 1 and d.beyond_units == 1
        with pytest.raises(DataError, match="no points lie within the road extract"):
            from_features(net, pts.iloc[[1]], kind="points")
    finally:
        del net.graph.graph["extract_area"]
    # without stated bounds the extract is the hull + 200 m, as for district land
    with pytest.warns(CoverageWarning, match="beyond the road extract"):
        plain = grid_cells(net, area=area, cell_m=100, max_access_m=1e9)
    full = shapely.Polygon([fwd.transform(*inv.transform(x, y)) for x, y in
                            [(X0 - 100, Y0 - 100), (X0 + 1100, Y0 - 100), (X0 + 1100, Y0 + 300), (X0 - 100, Y0 + 300)]])
    assert plain.total == pytest.approx(full.intersection(hull).area / 1e6, rel=2e-3)
