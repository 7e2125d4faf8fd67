"""Placing stations: how far each moved from the plan's point is measured once, from that point."""
from __future__ import annotations

import geopandas as gpd
import networkx as nx
import pyproj
import pytest

from coverage.errors import InputError
from coverage.network import network_from_graph
from coverage.scenario import Location, Station
from coverage.stations import place_stations

UTM50 = pyproj.CRS.from_epsg(32650)
X0, Y0 = 450_000.0, 4_330_000.0
INV = pyproj.Transformer.from_crs(UTM50, 4326, always_xy=True)
GEOD = pyproj.Geod(ellps="WGS84")


def _net():
    """A 1 km east-west street 东风路 and a 1 km north-south 解放路 crossing at (500, 0)."""
    g = nx.MultiDiGraph(crs="epsg:4326")
    pts = {1: (0, 0), 2: (500, 0), 3: (1000, 0), 4: (500, -500), 5: (500, 500)}
    for n, (x, y) in pts.items():
        lon, lat = INV.transform(X0 + x, Y0 + y)
        g.add_node(n, x=lon, y=lat)
    for a, b, name in ((1, 2, "东风路"), (2, 3, "东风路"), (4, 2, "解放路"), (2, 5, "解放路")):
        g.add_edge(a, b, highway="primary", name=name)
        g.add_edge(b, a, highway="primary", name=name)
    return network_from_graph(g, simplify=False, retain_all=True)


def test_place_moved_m_is_the_distance_from_the_feature_to_the_placed_point():
    net = _net()
    lon, lat = INV.transform(X0 + 200, Y0 + 40)  # a school 40 m north of 东风路, 300 m from the crossing
    pois = gpd.GeoDataFrame({"name": ["第一中学"]}, geometry=gpd.points_from_xy([lon], [lat]), crs=4326)
    st = place_stations(net, [Station("a", "a", "small", "planned", Location(place="第一中学"))], pois=pois)
    row = st.iloc[0]
    _, _, d = GEOD.inv(lon, lat, row["lon"], row["lat"])
    assert d == pytest.approx(40.0, abs=0.5)
    assert row["moved_m"] == pytest.approx(d, abs=0.5)  # not feature-to-node (~304 m) + snap


def test_crossing_moved_m_is_zero_where_the_roads_meet():
    net = _net()
    st = place_stations(net, [Station("b", "b", "small", "planned", Location(crossing=("东风路", "解放路")))])
    row = st.iloc[0]
    clon, clat = INV.transform(X0 + 500, Y0)
    _, _, d = GEOD.inv(clon, clat, row["lon"], row["lat"])
    assert d < 0.5 and row["moved_m"] < 0.5


def test_a_crossing_far_from_both_named_roads_is_refused():
    # 东风路 and a parallel 建设路 2 km north never meet: the midpoint of their nearest approach is
    # 1 km from either road (on a third street, 中间路), no crossing the plan could mean
    net = _net()
    g = net.graph.copy()
    for n, x, y in ((11, 0, 2000), (12, 1000, 2000), (13, 0, 1000), (14, 1000, 1000)):
        lon, lat = INV.transform(X0 + x, Y0 + y)
        g.add_node(n, x=lon, y=lat)
    for a, b, name in ((11, 12, "建设路"), (13, 14, "中间路")):
        g.add_edge(a, b, highway="primary", name=name)
        g.add_edge(b, a, highway="primary", name=name)
    far = network_from_graph(g, simplify=False, retain_all=True)
    with pytest.raises(InputError, match=r"station 'c'.*东风路 × 建设路.*do not meet.*2000 m"):
        place_stations(far, [Station("c", "c", "small", "planned", Location(crossing=("东风路", "建设路")))])
