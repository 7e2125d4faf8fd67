"""Places from plan text: crossings and named places, on real extracts and tiny hand-built graphs."""
from __future__ import annotations

import math
import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import LineString, Point

from coverage.errors import InputError, ResolveError
from coverage.places import family_key, normalise_name, resolve_crossing, resolve_place

LON0, LAT0 = 121.0, 31.0


def haversine_m(lon1, lat1, lon2, lat2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 6371008.8 * math.asin(math.sqrt(h))


# --------------------------------------------------------------------------------------------
# tiny graphs in metres around (LON0, LAT0)


def _lonlat(x: float, y: float) -> tuple[float, float]:
    return (LON0 + x / (111320.0 * math.cos(math.radians(LAT0))), LAT0 + y / 110574.0)


def tiny_graph(roads: list[tuple[dict, list[tuple[float, float]]]]) -> nx.MultiDiGraph:
    """Roads as (tags, polyline of (x, y) metres); a node at every vertex, shared by coordinates."""
    g = nx.MultiDiGraph(crs="EPSG:4326")
    ids: dict[tuple[float, float], int] = {}

    def node(p):
        if p not in ids:
            ids[p] = len(ids) + 1
            lon, lat = _lonlat(*p)
            g.add_node(ids[p], x=lon, y=lat)
        return ids[p]

    for tags, line in roads:
        for a, b in zip(line[:-1], line[1:]):
            u, v = node(a), node(b)
            length = math.dist(a, b)
            g.add_edge(u, v, length=length, highway="primary", **tags)
            g.add_edge(v, u, length=length, highway="primary", **tags)
    return g


def node_at(g: nx.MultiDiGraph, x: float, y: float):
    lon, lat = _lonlat(x, y)
    for n, d in g.nodes(data=True):
        if abs(d["x"] - lon) < 1e-9 and abs(d["y"] - lat) < 1e-9:
            return n
    raise AssertionError(f"no node at {(x, y)}")


def test_normalisation_and_family_keys():
    assert normalise_name(" 南京 西路\u3000") == "南京西路"
    assert normalise_name("Ｍａｉｎ　Ｓｔ．") == "mainst"
    assert normalise_name("南京西路（东段）") == "南京西路东段"
    assert family_key("南京西路") == family_key("南京东路") == family_key("南京路") == "南京"
    assert family_key("延安高架路") == "延安"
    assert family_key("光復路一段") == family_key("光復路二段") == "光復"
    assert family_key("湖南路") == "湖南"  # a direction is dropped only when 2+ characters stay
    assert family_key("河南中路") == "河南"
    assert family_key("中山东一路") == family_key("中山南二路") == "中山"
    assert family_key("龍山東路") == family_key("龍山西路") == "龍山"
    assert family_key("园区一路") == "园区一"  # a number alone is part of the name
    # a direction starting the name is the name: 北一路, 北二路 and 北路 are three roads
    assert len({family_key("北一路"), family_key("北二路"), family_key("北路")}) == 3
    assert family_key("東三路") != family_key("東一路")


def test_single_crossing_at_a_shared_node():
    g = tiny_graph([({"name": "联盟路"}, [(-300, 0), (0, 0), (300, 0)]),
                    ({"name": "黔川路"}, [(0, -300), (0, 0), (0, 300)])])
    r = resolve_crossing(g, "联盟路", "黔川路")
    assert r.method == "shared node" and r.distance_m == 0.0
    assert r.node == node_at(g, 0, 0)
    assert haversine_m(r.lon, r.lat, *_lonlat(0, 0)) < 0.01
    assert r.warnings == [] and r.candidates == []
    assert r.matched_names == (("联盟路",), ("黔川路",))


def test_dual_carriageway_crossing_is_one_place_at_the_centroid():
    # 联盟路 as two one-way carriageways 30 m apart crossed by 黔川路: two shared nodes.
    g = tiny_graph([({"name": "联盟路"}, [(-300, 15), (0, 15), (300, 15)]),
                    ({"name": "联盟路"}, [(-300, -15), (0, -15), (300, -15)]),
                    ({"name": "黔川路"}, [(0, -300), (0, -15), (0, 15), (0, 300)])])
    r = resolve_crossing(g, "联盟路", "黔川路")
    assert r.method == "shared node" and r.candidates == []
    assert haversine_m(r.lon, r.lat, *_lonlat(0, 0)) < 0.5
    assert r.node in {node_at(g, 0, 15), node_at(g, 0, -15)}
    assert r.snap_m == pytest.approx(15.0, rel=0.01)


def test_two_distant_meetings_are_candidates_with_a_warning():
    # 渠北路 meets 周山路 twice, 1 km apart; the dual-carriageway junction (2 nodes) is preferred.
    g = tiny_graph([({"name": "周山路"}, [(-600, 0), (-500, 0), (500, 0), (600, 0)]),
                    ({"name": "渠北路"}, [(-500, 300), (-500, 0), (-500, -300)]),
                    ({"name": "渠北路"}, [(480, 300), (480, 0)]),
                    ({"name": "渠北路"}, [(520, 300), (520, 0)]),
                    ({"name": "周山路"}, [(480, 0), (500, 0), (520, 0)])])
    r = resolve_crossing(g, "周山路", "渠北路")
    assert r.method == "shared node"
    assert haversine_m(r.lon, r.lat, *_lonlat(500, 0)) < 1.0
    assert len(r.candidates) == 1
    c = r.candidates[0]
    assert c.node == node_at(g, -500, 0)
    assert any("2 distinct meeting places" in w for w in r.warnings)


def test_grade_separated_roads_cross_without_a_node():
    g = tiny_graph([({"name": "延安高架路", "bridge": "yes"}, [(0, -500), (0, 500)]),
                    ({"name": "黄陂南路"}, [(-400, 0), (-40, 0), (250, 0)])])
    r = resolve_crossing(g, "延安高架路", "黄陂南路")
    assert r.method == "geometric intersection"
    assert r.distance_m == 0.0
    assert haversine_m(r.lon, r.lat, *_lonlat(0, 0)) < 0.5
    # Snapped to the surface road, not to the bridge ends 500 m away.
    assert r.node == node_at(g, -40, 0)
    assert r.snap_m == pytest.approx(40.0, rel=0.01)
    assert any("without a shared junction" in w for w in r.warnings)


def test_parallel_roads_use_nearest_approach_with_distance():
    g = tiny_graph([({"name": "福州路"}, [(-300, 0), (300, 0)]),
                    ({"name": "九江路"}, [(-300, 80), (0, 80), (300, 90)])])
    r = resolve_crossing(g, "福州路", "九江路")
    assert r.method == "nearest approach"
    assert r.distance_m == pytest.approx(80.0, rel=0.01)
    assert any("do not meet" in w and "80 m" in w for w in r.warnings)
    assert not any("distinct" in w for w in r.warnings)


def test_exact_name_beats_family_and_family_is_reported():
    g = tiny_graph([({"name": "人民大道"}, [(-300, 0), (0, 0), (300, 0)]),
                    ({"name": "人民路"}, [(-300, 600), (0, 600), (300, 600)]),
                    ({"name": "西藏中路"}, [(0, -300), (0, 0), (0, 600), (0, 900)])])
    r = resolve_crossing(g, "人民大道", "西藏中路")
    assert r.node == node_at(g, 0, 0) and r.warnings == []
    r = resolve_crossing(g, "人民路", "西藏中路")
    assert r.node == node_at(g, 0, 600) and r.warnings == []
    # "西藏路" is only a family match for 西藏中路: resolved, with a warning naming the real name.
    r = resolve_crossing(g, "人民大道", "西藏路")
    assert r.node == node_at(g, 0, 0)
    assert any("family" in w and "西藏中路" in w for w in r.warnings)
    assert r.matched_names == (("人民大道",), ("西藏中路",))
    # "人民街" matches both 人民大道 and 人民路 (same name, other road type): ambiguous.
    r = resolve_crossing(g, "人民街", "西藏中路")
    assert len(r.candidates) == 1
    assert {r.node, r.candidates[0].node} == {node_at(g, 0, 0), node_at(g, 0, 600)}


def test_family_members_meeting_beat_an_exact_name_that_does_not():
    # The plan says 延安路; the network has an elevated 延安路 over 成都路 and the surface 延安东路
    # meeting it at a junction: the junction wins (with a family warning).
    g = tiny_graph([({"name": "延安路", "bridge": "yes"}, [(-500, 10), (500, 10)]),
                    ({"name": "延安东路"}, [(-500, -10), (0, -10), (500, -10)]),
                    ({"name": "成都路"}, [(0, -300), (0, -10), (0, 300)])])
    r = resolve_crossing(g, "延安路", "成都路")
    assert r.method == "shared node" and r.node == node_at(g, 0, -10)
    assert any("family" in w for w in r.warnings)


def test_names_from_lists_alt_old_names_and_width_variants():
    g = tiny_graph([({"name": ["Main St", "主街"], "old_name": "旧路;老街"}, [(-300, 0), (0, 0), (300, 0)]),
                    ({"name": "河西路", "alt_name": "滨河路"}, [(0, -300), (0, 0), (0, 300)])])
    expected = node_at(g, 0, 0)
    for a, b in [("Main St", "河西路"), ("ＭＡＩＮ　ｓｔ．", "河 西 路"), ("主街", "滨河路"),
                 ("旧路", "河西路"), ("老街", "滨河路")]:
        r = resolve_crossing(g, a, b)
        assert (r.method, r.node) == ("shared node", expected), (a, b)


def test_bad_queries_and_networks():
    g = tiny_graph([({"name": "黄陂北路"}, [(-300, 0), (0, 0)]), ({"name": "人民大道"}, [(0, 0), (0, 300)])])
    with pytest.raises(ResolveError, match=r"'黄坡北路'.*黄陂北路"):
        resolve_crossing(g, "黄坡北路", "人民大道")
    with pytest.raises(ResolveError, match="same road"):
        resolve_crossing(g, "人民大道", " 人民 大道")
    with pytest.raises(InputError, match="non-empty"):
        resolve_crossing(g, "", "人民大道")
    with pytest.raises(InputError, match="MultiDiGraph"):
        resolve_crossing({"not": "a graph"}, "a", "b")
    with pytest.raises(ResolveError, match="'不存在'"):
        resolve_place(g, "不存在")


def test_place_by_poi_and_road_tiny():
    g = tiny_graph([({"name": "小白楼路"}, [(-300, 0), (0, 0), (300, 0)]),
                    ({"name": "多伦道"}, [(0, 0), (0, 400)])])
    pois = gpd.GeoDataFrame(
        {"name": ["小白楼消防救援站", "多伦道"], "amenity": ["fire_station", "neighbourhood"]},
        geometry=[Point(_lonlat(290, 20)), Point(_lonlat(0, 380))], crs=4326,
    )
    r = resolve_place(g, "多伦道", pois=pois)  # POI beats the road of the same name
    assert r.method == "poi" and r.node == node_at(g, 0, 400)
    assert r.distance_m == pytest.approx(20.0, rel=0.02)
    r = resolve_place(g, "小白楼消防救援站", pois=pois)
    assert r.method == "poi" and r.node == node_at(g, 300, 0) and r.warnings == []
    r = resolve_place(g, "小白楼路")
    assert r.method == "road" and r.node == node_at(g, 0, 0)
    r = resolve_place(g, "小白楼", pois=pois)  # partial POI name or the road by type: the road
    assert r.method == "road" and any("小白楼路" in w for w in r.warnings)
    with pytest.raises(InputError, match="name column"):
        resolve_place(g, "x", pois=pois[["amenity", "geometry"]])


# --------------------------------------------------------------------------------------------
# real Shanghai extract


@pytest.fixture(scope="module")
def shanghai_graph(shared_data):
    import osmnx as ox

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # osmnx warns when re-reading its own XML export
        return ox.graph_from_xml(shared_data / "osm" / "shanghai_huangpu_osmnx_drive.osm",
                                 retain_all=True)


@pytest.fixture(scope="module")
def shanghai_network(shared_data):
    from coverage.network import load_network

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_network(shared_data / "osm" / "shanghai_huangpu_osmnx_drive.osm")


def _edges_named(g: nx.MultiDiGraph, name: str):
    for u, v, d in g.edges(data=True):
        n = d.get("name")
        if n == name or (isinstance(n, list) and name in n):
            yield u, v, d


def _meeting_nodes(g: nx.MultiDiGraph, a: str, b: str) -> set:
    na = {n for u, v, _ in _edges_named(g, a) for n in (u, v)}
    nb = {n for u, v, _ in _edges_named(g, b) for n in (u, v)}
    return na & nb


@pytest.mark.parametrize("which", ["graph", "network"])
@pytest.mark.parametrize("a, b", [("南京西路", "成都北路"), ("人民大道", "西藏中路"),
                                  ("人民大道", "黄陂北路"), ("延安东路", "西藏中路")])
def test_real_crossings_match_raw_edge_nodes(a, b, which, shanghai_graph, shanghai_network):
    net = shanghai_graph if which == "graph" else shanghai_network
    g = net if which == "graph" else net.graph
    expected = _meeting_nodes(g, a, b)
    assert expected, f"{a} and {b} should meet in the extract"
    r = resolve_crossing(net, a, b)
    assert r.method == "shared node" and r.distance_m == 0.0
    assert r.node in expected
    for n in expected:  # the resolved point lies at the junction
        assert haversine_m(r.lon, r.lat, g.nodes[n]["x"], g.nodes[n]["y"]) < 150
    assert r.matched_names == ((a,), (b,))
    # Spacing / full-width variants and the reversed order resolve to the same place.
    for va, vb in [(f" {a[:2]} {a[2:]}\u3000", b), (a + "。", f"（{b}）"), (b, a)]:
        r2 = resolve_crossing(net, va, vb)
        assert (r2.node, r2.lon, r2.lat) == (r.node, r.lon, r.lat)


def test_real_family_match(shanghai_graph):
    exact = resolve_crossing(shanghai_graph, "南京西路", "西藏中路")
    family = resolve_crossing(shanghai_graph, "南京路", "西藏中路")
    assert family.node == exact.node
    assert family.matched_names[0] == ("南京西路",)
    assert any("family" in w and "南京西路" in w for w in family.warnings)
    # 黄陂路 is the family of 黄陂北路 and 黄陂南路; it meets 人民大道 on 黄陂北路.
    r = resolve_crossing(shanghai_graph, "黄陂路", "人民大道")
    assert r.node in _meeting_nodes(shanghai_graph, "黄陂北路", "人民大道")


def _projected_union(g: nx.MultiDiGraph, name: str, tr: pyproj.Transformer):
    lines = []
    for u, v, d in _edges_named(g, name):
        geom = d.get("geometry") or LineString([(g.nodes[u]["x"], g.nodes[u]["y"]),
                                                (g.nodes[v]["x"], g.nodes[v]["y"])])
        x, y = tr.transform(*np.asarray(geom.coords).T)
        lines.append(LineString(np.column_stack([x, y])))
    return shapely.union_all(lines)


def test_real_roads_that_do_not_meet(shanghai_graph):
    a, b = "福州路", "九江路"
    assert not _meeting_nodes(shanghai_graph, a, b)
    r = resolve_crossing(shanghai_graph, a, b)
    assert r.method == "nearest approach"
    tr = pyproj.Transformer.from_crs(4326, 32651, always_xy=True)
    ua, ub = _projected_union(shanghai_graph, a, tr), _projected_union(shanghai_graph, b, tr)
    assert not ua.intersects(ub)
    assert r.distance_m == pytest.approx(ua.distance(ub), abs=0.5)
    p = Point(tr.transform(r.lon, r.lat))
    assert p.distance(ua) == pytest.approx(r.distance_m / 2, abs=0.5)
    assert p.distance(ub) == pytest.approx(r.distance_m / 2, abs=0.5)
    assert any("do not meet" in w for w in r.warnings)


def test_real_unknown_name_lists_close_names(shanghai_graph):
    with pytest.raises(ResolveError) as info:
        resolve_crossing(shanghai_graph, "黄坡北路", "人民大道")
    msg = str(info.value)
    assert "'黄坡北路'" in msg and "黄陂北路" in msg


def test_real_place_is_a_road(shanghai_graph):
    r = resolve_place(shanghai_graph, "人民大道")
    assert r.method == "road"
    tr = pyproj.Transformer.from_crs(4326, 32651, always_xy=True)
    road = _projected_union(shanghai_graph, "人民大道", tr)
    assert Point(tr.transform(r.lon, r.lat)).distance(road) < 0.5
    road_nodes = {n for u, v, _ in _edges_named(shanghai_graph, "人民大道") for n in (u, v)}
    assert r.node in road_nodes
    n = shanghai_graph.nodes[r.node]
    assert r.distance_m == pytest.approx(haversine_m(r.lon, r.lat, n["x"], n["y"]), rel=0.01, abs=0.5)


# --------------------------------------------------------------------------------------------
# real Hsinchu extract with POIs (traditional Chinese names)


def test_real_poi_place(shared_data):
    import osmnx as ox

    pois = gpd.read_file(shared_data / "osm" / "hsinchu_nctu_taiwan_pois.geojson")
    g = ox.graph_from_xml(shared_data / "osm" / "hsinchu_nctu_taiwan_roads.osm.bz2", retain_all=True)
    station = pois[pois["name"] == "埔頂消防分隊"]
    assert len(station) == 1
    p = station.geometry.iloc[0]
    p = p if p.geom_type == "Point" else p.representative_point()
    r = resolve_place(g, "埔頂消防分隊", pois=pois)
    assert r.method == "poi" and r.warnings == []
    assert haversine_m(r.lon, r.lat, p.x, p.y) < 0.5
    # Brute-force nearest node.
    best = min(g.nodes, key=lambda n: haversine_m(p.x, p.y, g.nodes[n]["x"], g.nodes[n]["y"]))
    assert r.node == best
    # A partial name finds it too, with a warning.
    r2 = resolve_place(g, "埔頂消防", pois=pois)
    assert r2.node == r.node and r2.warnings


def test_crossing_name_lists_the_roads_meeting_at_a_node():
    from coverage.network import network_from_graph
    from coverage.places import crossing_name

    g = tiny_graph([({"name": "联盟路"}, [(-300, 0), (0, 0), (300, 0)]),
                    ({"name": "黔川路"}, [(0, -300), (0, 0), (0, 300)]),
                    ({"ref": "G310"}, [(300, 0), (300, 300)]),
                    ({}, [(-300, 0), (-300, 300)])])
    net = network_from_graph(g, simplify=False, retain_all=True)
    idx = {int(n): i for i, n in enumerate(net.node_ids)}
    assert crossing_name(net, idx[node_at(g, 0, 0)]) == "联盟路 × 黔川路"
    assert crossing_name(net, idx[node_at(g, 300, 0)]) == "联盟路 × G310"  # ref when unnamed
    assert crossing_name(net, idx[node_at(g, -300, 300)]) == ""  # nothing named there
    assert crossing_name(net, idx[node_at(g, 0, 0)], most=1) == "联盟路"


def test_looser_name_match_far_from_the_named_road_is_reported():
    # the plan's 人民路 never meets 黄陂北路; 人民大道 (same name, other road type) does, 1 km away
    g = tiny_graph([({"name": "人民路"}, [(-300, 1000), (300, 1000)]),
                    ({"name": "人民大道"}, [(-300, 0), (0, 0), (300, 0)]),
                    ({"name": "黄陂北路"}, [(0, -300), (0, 0), (0, 400)])])
    r = resolve_crossing(g, "人民路", "黄陂北路")
    assert r.node == node_at(g, 0, 0)
    assert r.distance_m == pytest.approx(1000.0, rel=0.005)  # (UTM scale vs the test's local metres)
    assert any("'人民路' itself" in w and "100" in w for w in r.warnings)
    # where the named road does meet, nothing extra is said
    r = resolve_crossing(g, "人民大道", "黄陂北路")
    assert r.distance_m == 0.0 and r.warnings == []


def test_crossing_on_an_edge_carrying_both_names():
    # osmnx merged the two ways where they run together: one edge named "长乐路;淡水路"
    g = tiny_graph([({"name": "长乐路;淡水路"}, [(0, 0), (100, 0)]),
                    ({"name": "长乐路"}, [(-300, 0), (0, 0)]),
                    ({"name": "淡水路"}, [(100, 0), (100, 300)])])
    r = resolve_crossing(g, "淡水路", "长乐路")
    assert r.method in ("shared node", "shared edge")  # their own edges meet it at its ends
    g2 = tiny_graph([({"name": "长乐路;淡水路"}, [(0, 0), (100, 0)])])
    r2 = resolve_crossing(g2, "淡水路", "长乐路")
    assert r2.method == "shared edge" and any("both names" in w for w in r2.warnings)
    assert haversine_m(r2.lon, r2.lat, *_lonlat(50, 0)) < 1.0


def test_two_names_of_one_road_are_no_crossing():
    # 西藏路 is only a family match for 西藏中路: both names mean the one road, however its edge
    # is tagged, so there is no crossing to place
    g = tiny_graph([({"name": "西藏中路"}, [(0, -300), (0, 0), (0, 300)]),
                    ({"name": "人民大道"}, [(-300, 0), (0, 0)])])
    with pytest.raises(ResolveError, match="same road"):
        resolve_crossing(g, "西藏路", "西藏中路")


def test_named_roads_crossing_on_a_bridge_beat_a_looser_junction_far_away():
    # 人民路 passes over 解放路 on a bridge; 人民大道 (other road type) meets 解放路 2 km north:
    # the plan means the crossing of the roads it names
    g = tiny_graph([({"name": "解放路"}, [(0, -500), (0, -100), (0, 100), (0, 2000), (0, 2500)]),
                    ({"name": "人民路", "bridge": "yes"}, [(-500, 0), (500, 0)]),
                    ({"name": "人民大道"}, [(-500, 2000), (0, 2000), (500, 2000)])])
    r = resolve_crossing(g, "人民路", "解放路")
    assert r.method == "geometric intersection"
    assert haversine_m(r.lon, r.lat, *_lonlat(0, 0)) < 1.0
    assert r.matched_names == (("人民路",), ("解放路",))
    assert not any("itself" in w for w in r.warnings)


def test_old_and_alternative_names_rank_below_a_road_own_name():
    # the real 人民路 meets 解放路 once; 建设路 (old_name 人民路) meets a divided 解放路 at two
    # nodes 1 km north: the road named 人民路 today wins, the old name is said where it is used
    g = tiny_graph([({"name": "解放路"}, [(0, -500), (0, 0), (0, 1000), (0, 1500)]),
                    ({"name": "解放路"}, [(20, 900), (20, 1000), (20, 1100)]),
                    ({"name": "人民路"}, [(-500, 0), (0, 0), (500, 0)]),
                    ({"name": "建设路", "old_name": "人民路"}, [(-500, 1000), (0, 1000), (20, 1000), (500, 1000)])])
    r = resolve_crossing(g, "人民路", "解放路")
    assert r.node == node_at(g, 0, 0) and r.warnings == []
    g2 = tiny_graph([({"name": "解放路"}, [(0, -500), (0, 0), (0, 500)]),
                     ({"name": "建设路", "old_name": "人民路"}, [(-500, 0), (0, 0), (500, 0)])])
    r2 = resolve_crossing(g2, "人民路", "解放路")
    assert r2.node == node_at(g2, 0, 0)
    assert r2.matched_names[0] == ("人民路 (old_name)",)
    assert any("former name" in w and "人民路 (old_name)" in w for w in r2.warnings)


def test_family_match_keeps_the_direction_the_plan_names():
    g = tiny_graph([({"name": "西藏中路"}, [(0, -500), (0, 0), (0, 1500)]),
                    ({"name": "南京西路"}, [(-500, 0), (0, 0), (500, 0)]),
                    ({"name": "和平大街"}, [(2000, -500), (2000, 0), (2000, 1000), (2000, 1500)]),
                    ({"name": "北二路"}, [(1500, 0), (2000, 0), (2500, 0)]),
                    ({"name": "北三路"}, [(1500, 1000), (2000, 1000), (2500, 1000)])])
    # 南京东路 is not 南京西路 (nor is 北一路 北二路): no such road, the close names are listed
    with pytest.raises(ResolveError, match="no road named '南京东路'.*南京西路"):
        resolve_crossing(g, "南京东路", "西藏中路")
    with pytest.raises(ResolveError, match="no road named '北一路'"):
        resolve_crossing(g, "北一路", "和平大街")
    # without a direction the plan may mean either part of the family
    r = resolve_crossing(g, "南京路", "西藏路")
    assert r.node == node_at(g, 0, 0) and any("family" in w for w in r.warnings)
