"""The real download path of ``load_network`` (osmnx -> Overpass / Nominatim), run offline.

osmnx is pointed at a loopback fake server (tests/fake_overpass.py) that answers its real HTTP
requests with real OSM data (the Shanghai Huangpu extract converted to Overpass JSON), so the
whole chain runs: geocoding, the Overpass query, osmnx's graph building, our GraphML cache,
the offline second run, and the error paths (connection refused, HTTP 500, garbage).
The downloaded network is checked against loading the same OSM file directly.
"""
from __future__ import annotations

import json
import socket
import traceback

import numpy as np
import pytest
from shapely.geometry import Polygon, box

from coverage.errors import DataError, InputError, NetworkUnavailableError
from coverage.network import load_network

from fake_overpass import FakeOsmServer, osm_xml_elements, overpass_answer

HUANGPU = "osm/shanghai_huangpu_osmnx_drive.osm"
BBOX = [121.468, 31.225, 121.478, 31.235]  # west, south, east, north; inside the extract
PLACE = "人民广场, 黄浦区, 上海市"
PLACE_POLY = Polygon([(121.466, 31.226), (121.474, 31.2225), (121.481, 31.229),
                      (121.477, 31.237), (121.468, 31.235)])


@pytest.fixture
def osmnx_to(monkeypatch):
    """Returns ``point(url)``: sends osmnx's Overpass and Nominatim requests to ``url``.

    Every setting is changed through ``monkeypatch`` and so restored after the test; osmnx's
    DNS pinning replaces ``socket.getaddrinfo``, which is restored too.
    """
    import osmnx as ox

    monkeypatch.setattr(socket, "getaddrinfo", socket.getaddrinfo)
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")

    def point(url: str) -> None:
        monkeypatch.setattr(ox.settings, "overpass_url", url + "/api")
        monkeypatch.setattr(ox.settings, "nominatim_url", url + "/")
        monkeypatch.setattr(ox.settings, "overpass_rate_limit", False)  # no /status queries
        monkeypatch.setattr(ox.settings, "requests_timeout", 10)
        monkeypatch.setattr(ox.settings, "doh_url_template", None)  # never leave the machine

    return point


@pytest.fixture(scope="module")
def huangpu_elements(shared_data):
    return osm_xml_elements(shared_data / HUANGPU)


def closed_port_url() -> str:
    """A loopback URL on which nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def summary(net) -> tuple:
    return (set(net.node_ids.tolist()), net.n_edges, float(net.edge_length.sum()),
            float(net.edge_time.sum()))


def assert_same_network(got, want, *, rel=1e-6) -> None:
    g_nodes, g_m, g_len, g_time = summary(got)
    w_nodes, w_m, w_len, w_time = summary(want)
    assert g_nodes == w_nodes, (len(g_nodes - w_nodes), len(w_nodes - g_nodes))
    assert g_m == w_m
    assert g_len == pytest.approx(w_len, rel=rel)
    assert g_time == pytest.approx(w_time, rel=rel)


# --------------------------------------------------------------------------------------------
# the fake server itself


def test_fake_overpass_applies_filters_and_polygon():
    """The fake answers like Overpass: tag filters (unanchored regex, missing key passes !~) and
    the polygon select ways, and every node of a selected way is returned."""
    elements = [
        {"type": "node", "id": 1, "lat": 0.0, "lon": 0.0, "tags": {}},
        {"type": "node", "id": 2, "lat": 0.0, "lon": 0.01, "tags": {}},
        {"type": "node", "id": 3, "lat": 0.0, "lon": 0.05, "tags": {}},
        {"type": "node", "id": 4, "lat": 0.05, "lon": 0.05, "tags": {}},
        {"type": "way", "id": 10, "nodes": [1, 2, 3], "tags": {"highway": "primary"}},
        {"type": "way", "id": 11, "nodes": [1, 2], "tags": {"highway": "footway"}},
        {"type": "way", "id": 12, "nodes": [3, 4], "tags": {"highway": "residential"}},
        {"type": "way", "id": 13, "nodes": [1, 2], "tags": {"highway": "service",
                                                           "service": "parking_aisle"}},
    ]
    poly = "'-0.01 -0.01 -0.01 0.02 0.01 0.02 0.01 -0.01'"  # lat lon pairs around nodes 1-2
    query = f'[out:json];(way["highway"]["highway"!~"foot|path"]["service"!~"parking"](poly:{poly});>;);out;'
    out = overpass_answer(elements, query)
    ways = [e["id"] for e in out["elements"] if e["type"] == "way"]
    nodes = [e["id"] for e in out["elements"] if e["type"] == "node"]
    assert ways == [10]  # 11 filtered by tag, 12 outside, 13 by unanchored "parking"
    assert nodes == [1, 2, 3]  # node 3 is outside but belongs to way 10


# --------------------------------------------------------------------------------------------
# downloads that work


def test_bbox_download_matches_file_and_is_cached(osmnx_to, huangpu_elements, shared_data, tmp_path):
    import osmnx as ox

    settings_before = (ox.settings.cache_folder, ox.settings.use_cache,
                       list(ox.settings.useful_tags_way), list(ox.settings.useful_tags_node))
    cache = tmp_path / "cache"
    with FakeOsmServer(elements=huangpu_elements) as server:
        osmnx_to(server.url)
        net = load_network({"bbox": BBOX}, cache=cache)
        assert [p for p, _ in server.requests] == ["/api/interpreter"]
        assert "poly:" in server.requests[0][1]

    # independent route: the same OSM data read from the file and clipped to the same box
    want = load_network(shared_data / HUANGPU, clip=box(*BBOX), clip_buffer_m=0)
    assert_same_network(net, want)
    assert net.n_nodes > 100
    lon, lat = net.lon, net.lat
    assert ((lon >= BBOX[0]) & (lon <= BBOX[2]) & (lat >= BBOX[1]) & (lat <= BBOX[3])).all()
    # road names survived osmnx's JSON parsing (plan-text resolution needs them)
    names = {d.get("name") for *_, d in net.graph.edges(data=True)} - {None}
    assert "西藏中路" in {n for v in names for n in (v if isinstance(v, list) else [v])}

    cached = sorted(cache.glob("network-bbox-*.graphml"))
    assert len(cached) == 1 and cached[0].stat().st_size > 0
    # osmnx's global settings are as they were
    assert settings_before == (ox.settings.cache_folder, ox.settings.use_cache,
                               list(ox.settings.useful_tags_way), list(ox.settings.useful_tags_node))

    # second run: server gone, offline -> the cache gives the same network
    again = load_network({"bbox": BBOX}, cache=cache, offline=True)
    assert_same_network(again, net, rel=1e-9)
    assert np.array_equal(again.node_ids, net.node_ids)
    # not offline, server still gone: the cache is used first, no download attempted
    osmnx_to(closed_port_url())
    assert_same_network(load_network({"bbox": BBOX}, cache=cache), net, rel=1e-9)


def test_place_download_through_nominatim(osmnx_to, huangpu_elements, shared_data, tmp_path):
    with FakeOsmServer(elements=huangpu_elements, gazetteer={PLACE: PLACE_POLY}) as server:
        osmnx_to(server.url)
        net = load_network({"place": PLACE}, cache=tmp_path)
        paths = [p for p, _ in server.requests]
        assert paths == ["/search", "/api/interpreter"]
        # an unknown place: a DataError naming it, nothing cached
        with pytest.raises(DataError, match="Nowhere Town") as info:
            load_network({"place": "Nowhere Town"}, cache=tmp_path)
        assert info.value.__cause__ is None

    want = load_network(shared_data / HUANGPU, clip=PLACE_POLY, clip_buffer_m=0)
    assert_same_network(net, want)
    assert len(list(tmp_path.glob("network-place-*.graphml"))) == 1
    again = load_network({"place": PLACE}, cache=tmp_path, offline=True)
    assert_same_network(again, net, rel=1e-9)


def test_polygon_download(osmnx_to, huangpu_elements, shared_data, tmp_path):
    with FakeOsmServer(elements=huangpu_elements) as server:
        osmnx_to(server.url)
        net = load_network({"polygon": PLACE_POLY}, cache=tmp_path)
    want = load_network(shared_data / HUANGPU, clip=PLACE_POLY, clip_buffer_m=0)
    assert_same_network(net, want)


# --------------------------------------------------------------------------------------------
# failures


def _assert_no_library_traceback(exc: BaseException) -> None:
    assert exc.__cause__ is None and exc.__suppress_context__
    text = "".join(traceback.format_exception(exc))
    for deep in ("urllib3", "requests", "socket", "ConnectionRefusedError"):
        assert deep not in text.replace(str(exc), ""), deep


@pytest.mark.parametrize("request_", [{"bbox": BBOX}, {"place": PLACE}])
def test_connection_refused_without_cache(osmnx_to, tmp_path, request_):
    osmnx_to(closed_port_url())
    with pytest.raises(NetworkUnavailableError) as info:
        load_network(request_, cache=tmp_path)
    msg = str(info.value)
    assert "no connection" in msg
    assert "file" in msg and ".osm" in msg  # how to supply a local file
    _assert_no_library_traceback(info.value)
    assert not list(tmp_path.glob("*.graphml"))


def test_offline_without_cache_says_how_to_fetch(osmnx_to, tmp_path):
    with FakeOsmServer() as server:
        osmnx_to(server.url)
        with pytest.raises(NetworkUnavailableError, match="covplan fetch") as info:
            load_network({"bbox": BBOX}, cache=tmp_path, offline=True)
        assert server.requests == []  # offline means not even one request
    assert "file" in str(info.value)


@pytest.mark.parametrize("mode", ["http500", "garbage"])
def test_bad_server_answer_is_a_data_error(osmnx_to, tmp_path, mode):
    with FakeOsmServer(mode=mode) as server:
        osmnx_to(server.url)
        with pytest.raises(DataError) as info:
            load_network({"bbox": BBOX}, cache=tmp_path)
        assert len(server.requests) == 1
    assert not isinstance(info.value, NetworkUnavailableError)
    assert "download of the road network" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert not list(tmp_path.rglob("*.graphml"))


def test_empty_server_answer_is_a_data_error(osmnx_to, tmp_path):
    with FakeOsmServer(elements=[]) as server:  # valid JSON, no roads in the area
        osmnx_to(server.url)
        with pytest.raises(DataError, match="bbox"):
            load_network({"bbox": BBOX}, cache=tmp_path)


@pytest.mark.parametrize(
    "bbox",
    [
        [121.478, 31.225, 121.468, 31.235],  # west > east
        [121.468, 31.235, 121.478, 31.225],  # south > north
        [121.468, 31.225, 121.478],  # three numbers
        [121.468, "south", 121.478, 31.235],
        [200.0, 31.225, 201.0, 31.235],  # longitude out of range
        "121.468,31.225,121.478,31.235",
    ],
)
def test_bad_bbox_is_an_input_error(bbox, tmp_path):
    with pytest.raises(InputError, match="bbox") as info:
        load_network({"bbox": bbox}, cache=tmp_path)
    assert repr(bbox) in str(info.value)
    assert not list(tmp_path.iterdir())


# --------------------------------------------------------------------------------------------
# hand-made data: the download keeps the same roads as reading the same data from a file


def _grid_elements() -> list[dict]:
    """A 4 x 4 street grid (about 110 m blocks) near Shanghai, with a mix of road tags."""
    lon0, lat0, step = 121.470, 31.228, 0.001
    nodes = {}
    for i in range(4):
        for j in range(4):
            nid = 1000 + 10 * i + j
            tags = {"highway": "traffic_signals"} if (i, j) == (1, 1) else {}
            nodes[nid] = {"type": "node", "id": nid, "lat": lat0 + i * step,
                          "lon": lon0 + j * step, "tags": tags}
    row = lambda i: [1000 + 10 * i + j for j in range(4)]  # noqa: E731
    col = lambda j: [1000 + 10 * i + j for i in range(4)]  # noqa: E731
    ways = [
        (1, row(0), {"highway": "primary", "name": "南京东路"}),
        (2, row(1), {"highway": "residential", "oneway": "yes"}),
        (3, row(2), {"highway": "service"}),                          # a compound road: drivable
        (4, row(3), {"highway": "service", "service": "parking_aisle"}),  # not a street
        (5, col(0), {"highway": "secondary", "maxspeed": "40"}),
        (6, col(1), {"highway": "footway"}),                          # not drivable
        (7, col(2), {"highway": "residential", "access": "private"}),  # gated: fire engines enter
        (8, col(3), {"highway": "tertiary", "motor_vehicle": "no"}),  # closed to motor vehicles
    ]
    return list(nodes.values()) + [
        {"type": "way", "id": wid, "nodes": nds, "tags": tags} for wid, nds, tags in ways
    ]


def _write_osm_xml(elements: list[dict], path) -> None:
    import xml.etree.ElementTree as ET

    root = ET.Element("osm", version="0.6", generator="test")
    for e in elements:
        if e["type"] == "node":
            el = ET.SubElement(root, "node", id=str(e["id"]), lat=repr(e["lat"]),
                               lon=repr(e["lon"]), version="1")
        else:
            el = ET.SubElement(root, "way", id=str(e["id"]), version="1")
            for n in e["nodes"]:
                ET.SubElement(el, "nd", ref=str(n))
        for k, v in e["tags"].items():
            ET.SubElement(el, "tag", k=k, v=v)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def test_download_keeps_the_same_roads_as_a_file(osmnx_to, tmp_path):
    elements = _grid_elements()
    osm = tmp_path / "grid.osm"
    _write_osm_xml(elements, osm)
    bbox = [121.4695, 31.2275, 121.4735, 31.2315]  # holds the whole grid
    with FakeOsmServer(elements=elements) as server:
        osmnx_to(server.url)
        got = load_network({"bbox": bbox}, cache=tmp_path, retain_all=True,
                           speeds={"signal_delay_s": 5})
    want = load_network(osm, retain_all=True, speeds={"signal_delay_s": 5})
    assert_same_network(got, want)
    # by hand: the plain service road and the private residential street stay; the parking
    # aisle, the footway and the motor_vehicle=no street go. Rows 0-2 and columns 0 and 2
    # remain; column 1's crossings are then plain bends and are simplified away, except the
    # signal at 1011, which stays a node because its wait is paid there.
    kept = {d["osmid"] for *_, d in got.graph.edges(data=True)}
    kept = {w for v in kept for w in (v if isinstance(v, list) else [v])}
    assert kept == {1, 2, 3, 5, 7}
    assert set(got.node_ids.tolist()) == (
        {1000 + 10 * i + j for i in range(3) for j in (0, 2, 3)} | {1030, 1032, 1011}
    )


def test_an_overpass_remark_is_an_error_and_nothing_is_cached(osmnx_to, tmp_path):
    """Overpass answers a query it gave up on with HTTP 200, no data and a remark: that used to be
    cached as an empty area (no OSM features, for good) or as a partial road network."""
    from coverage.osmfeatures import osm_features

    with FakeOsmServer(mode="remark") as server:
        osmnx_to(server.url)
        with pytest.raises(DataError, match="without its data .*Query timed out.*nothing was cached"):
            load_network({"bbox": BBOX}, cache=tmp_path)
        with pytest.raises(DataError, match="without its data"):
            osm_features({"bbox": BBOX}, cache=tmp_path)
    assert not list(tmp_path.glob("network-*")) and not list(tmp_path.glob("features-*"))


def test_broken_cache_files_are_never_trusted(osmnx_to, huangpu_elements, tmp_path):
    from coverage.osmfeatures import osm_features

    with FakeOsmServer(elements=huangpu_elements, max_requests=20) as server:
        osmnx_to(server.url)
        load_network({"bbox": BBOX}, cache=tmp_path)
        feats = osm_features({"bbox": BBOX}, cache=tmp_path)
        # a killed run leaves a truncated file in osmnx's HTTP cache: deleted and downloaded anew
        # in the same run (the user had to run again)
        for f in tmp_path.glob("network-*.graphml"):
            f.unlink()
        http = sorted((tmp_path / "http").glob("*.json"))
        assert http
        for f in http:
            f.write_text(f.read_text(encoding="utf-8")[:50], encoding="utf-8")
        before = len(server.requests)
        assert load_network({"bbox": BBOX}, cache=tmp_path).n_edges > 0
        assert len(server.requests) > before  # downloaded anew, not read from the broken file
        assert all(json.loads(f.read_text(encoding="utf-8")) is not None
                   for f in (tmp_path / "http").glob("*.json"))
        # twice broken (osmnx reads a broken file again): an error naming the cache, not a traceback
        from coverage.network import BrokenCacheError, osmnx_download

        calls = []

        def always_broken():
            calls.append(1)
            raise BrokenCacheError("broken file in the download cache")

        with pytest.raises(DataError, match="gave a broken file twice: delete that folder"):
            osmnx_download(tmp_path, always_broken)
        assert len(calls) == 2
        # a damaged features file: named when offline, fetched again when online
        (cached,) = tmp_path.glob("features-*.geojson")
        cached.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
        with pytest.raises(DataError, match="cannot be read .*delete the file"):
            osm_features({"bbox": BBOX}, cache=tmp_path, offline=True)
        assert len(osm_features({"bbox": BBOX}, cache=tmp_path)) == len(feats)


def test_cache_writers_use_their_own_temporary_names(tmp_path):
    """Two runs downloading the same area at once used one temporary name: one crashed."""
    from coverage.network import unique_temp

    target = tmp_path / "network-bbox-abc.graphml"
    names = {unique_temp(target, ".tmp") for _ in range(50)}
    assert len(names) == 50 and all(n.parent == tmp_path and n.name.endswith(".tmp") for n in names)


def test_a_broken_cache_file_of_another_request_does_not_mask_a_valid_answer(osmnx_to, tmp_path):
    """An empty area is a ValueError inside osmnx too: it used to trigger the broken-cache branch
    when any unrelated file of the cache was truncated."""
    from coverage.osmfeatures import osm_features

    (tmp_path / "http").mkdir()
    other = tmp_path / "http" / ("0" * 40 + ".json")
    other.write_text('{"elements": [', encoding="utf-8")
    with FakeOsmServer(elements=[]) as server:
        osmnx_to(server.url)
        assert len(osm_features({"bbox": BBOX}, cache=tmp_path)) == 0
    assert other.exists()
