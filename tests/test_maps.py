"""Reviewer maps: every layer builds, names and escaping in the HTML, offline pages link nothing."""
from __future__ import annotations

import json
import re

import folium
import geopandas as gpd
import networkx as nx
import pytest
from pyproj import Geod
from shapely.geometry import LineString, Point, box, shape

from coverage import maps
from coverage.errors import DataError, InputError
from coverage.maps import leaflet_assets, map_html, reviewer_map, save_map
from coverage.network import network_from_graph

LON0, LAT0 = 24.94, 60.17
EVIL = "<script>alert(1)</script>"
EVIL2 = "`${alert(2)}`</script><img src=x onerror=alert(3)>"


def _grid_graph(n=4, step_lon=0.004, step_lat=0.002):
    G = nx.MultiDiGraph(crs="epsg:4326")
    classes = ["primary", "residential", "secondary", "service"]
    for i in range(n):
        for j in range(n):
            G.add_node(i * n + j + 1, x=LON0 + i * step_lon, y=LAT0 + j * step_lat)
    for i in range(n):
        for j in range(n):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < n and j + dj < n:
                    a, b = i * n + j + 1, (i + di) * n + (j + dj) + 1
                    h = classes[(i + j) % len(classes)]
                    G.add_edge(a, b, highway=h)
                    if (i, j) != (0, 0):  # one one-way street
                        G.add_edge(b, a, highway=h)
    return G


def _pt(dx, dy):
    return Point(LON0 + dx, LAT0 + dy)


def _layers():
    stations = gpd.GeoDataFrame(
        {"id": ["a", "b", "c", "d"], "name": [EVIL, "小白楼消防救援站", EVIL2, None],
         "class": ["class1", "small", "special", "water"],
         "status": ["existing", "planned", "candidate", "proposed"]},
        geometry=[_pt(0.004, 0.002), _pt(0.008, 0.004), _pt(0.006, 0.003), _pt(0.001, 0.005)],
        crs=4326,
    )
    iso = gpd.GeoDataFrame(
        {"origin": ["a", "a", "b"], "band_s": [120, 240, 240]},
        geometry=[_pt(0.004, 0.002).buffer(0.002), _pt(0.004, 0.002).buffer(0.004),
                  _pt(0.008, 0.004).buffer(0.003)],
        crs=4326,
    )
    nd = gpd.GeoDataFrame(
        {"origin": ["a", "b"], "area_km2": [1.2, 2.5], "cap_km2": [7.0, 2.0], "over_cap": [False, True]},
        geometry=[box(LON0, LAT0, LON0 + 0.006, LAT0 + 0.006), box(LON0 + 0.006, LAT0, LON0 + 0.012, LAT0 + 0.006)],
        crs=4326,
    )
    return {
        "area": gpd.GeoDataFrame(geometry=[box(LON0 - 0.001, LAT0 - 0.001, LON0 + 0.013, LAT0 + 0.007)], crs=4326),
        "districts": gpd.GeoDataFrame({"name": ["和平区", EVIL]},
                                      geometry=[box(LON0, LAT0, LON0 + 0.006, LAT0 + 0.006),
                                                box(LON0 + 0.006, LAT0, LON0 + 0.012, LAT0 + 0.006)], crs=4326),
        "stations": stations.to_crs(3067),  # any CRS in
        "isochrones": iso.to_crs(32635),
        "network_districts": nd,
        "uncovered": gpd.GeoDataFrame({"weight": [50.0, 20.0]},
                                      geometry=[LineString([_pt(0.012, 0).coords[0], _pt(0.012, 0.006).coords[0]]),
                                                _pt(0.011, 0.001)], crs=4326),
        "proposed": gpd.GeoDataFrame({"id": ["p1", "p2"], "rank": [1, 2], "adds_weight": [1234.5, 10.0],
                                      "adds_km2": [0.8, 0.1]},
                                     geometry=[_pt(0.011, 0.005), _pt(0.002, 0.001)], crs=4326),
        "hydrants": gpd.GeoDataFrame({"id": [1, 2, 3]}, geometry=[_pt(0.001, 0.001), _pt(0.005, 0.001),
                                                                  _pt(0.009, 0.001)], crs=4326),
        "hydrant_gaps": gpd.GeoDataFrame({"length_m": [200.0]},
                                         geometry=[LineString([(LON0 + 0.006, LAT0 + 0.006),
                                                               (LON0 + 0.012, LAT0 + 0.006)])], crs=4326),
        "hydrant_proposals": gpd.GeoDataFrame({"id": ["h1"]}, geometry=[_pt(0.010, 0.006)], crs=4326),
    }


NAMES = {
    "network": "道路 Roads", "area": "研究范围 Study area", "districts": "行政区 Districts",
    "stations": "消防站 Stations", "isochrones": "等时圈 Isochrones",
    "network_districts": "辖区 Station districts", "uncovered": "未覆盖 Uncovered",
    "proposed": "建议站址 Proposed sites", "hydrants": "消火栓 Hydrants",
    "hydrant_gaps": "消火栓缺口 Hydrant gaps", "hydrant_proposals": "建议消火栓 Proposed hydrants",
}


@pytest.fixture(scope="module")
def net():
    return network_from_graph(_grid_graph(), simplify=False)


def _layer_data(m) -> dict[str, dict]:
    """FeatureCollections embedded in the map, by layer-control name."""
    out = {}
    for child in m._children.values():
        if isinstance(child, folium.FeatureGroup):
            datas = [json.loads(c.data_js) for c in child._children.values() if hasattr(c, "data_js")]
            assert len(datas) == 1
            out[child.layer_name] = datas[0]
    return out


def test_map_with_every_layer_type(net):
    layers = _layers()
    m = reviewer_map(network=net, title="测试", **layers)
    html = map_html(m)
    for name in NAMES.values():
        assert json.dumps(name) in html, name  # in the layer control
    data = _layer_data(m)
    assert set(data) == set(NAMES.values())
    for key, gdf in layers.items():
        assert len(data[NAMES[key]]["features"]) == len(gdf), key

    # CRS conversion: station 'b' came in as EPSG:3067; it must land back on its lon/lat
    feats = data[NAMES["stations"]]["features"]
    b = next(f for f in feats if "小白楼" in f["properties"]["p"])
    assert b["geometry"]["coordinates"] == pytest.approx([LON0 + 0.008, LAT0 + 0.004], abs=2e-6)
    # class colour and status style reach the marker
    assert b["properties"]["s"]["fillColor"] == maps.STATION_CLASSES["small"][2]
    assert b["properties"]["s"]["dashArray"] == maps.STATION_STATUSES["planned"][2]["dashArray"]
    assert "小型站 small" in b["properties"]["p"] and "规划 planned" in b["properties"]["p"]

    # proposed popups say what each adds
    props = data[NAMES["proposed"]]["features"]
    p1 = next(f for f in props if "p1" in f["properties"]["p"])
    assert "adds demand" in p1["properties"]["p"] and "1,234" in p1["properties"]["p"]
    assert "adds area km²" in p1["properties"]["p"]

    # district over its cap is drawn red, the other blue
    nd = data[NAMES["network_districts"]]["features"]
    colours = sorted(f["properties"]["s"]["color"] for f in nd)
    assert colours == ["#3182bd", "#e31a1c"]

    # two isochrone bands -> two colours, both in the legend
    iso_colours = {f["properties"]["s"]["fillColor"] for f in data[NAMES["isochrones"]]["features"]}
    assert len(iso_colours) == 2
    assert "≤ 2 min (120 s)" in html and "≤ 4 min (240 s)" in html
    # legend, scale bar, title
    assert "covplan-legend" in html and "L.control.scale" in html and "测试" in html


def test_roads_drawn_once_per_street_with_true_lengths(net):
    m = reviewer_map(network=net)
    data = _layer_data(m)[NAMES["network"]]
    geod = Geod(ellps="WGS84")
    drawn = sum(geod.geometry_length(shape(f["geometry"])) for f in data["features"])
    # independent: geodesic length of every street of the hand-built graph, counted once
    G = _grid_graph()
    pairs = {tuple(sorted((u, v))) for u, v in G.edges()}
    expected = sum(
        geod.line_length([G.nodes[u]["x"], G.nodes[v]["x"]], [G.nodes[u]["y"], G.nodes[v]["y"]])
        for u, v in pairs
    )
    assert drawn == pytest.approx(expected, rel=1e-3)
    classes = {f["properties"]["t"].split(": ")[1] for f in data["features"]}
    assert classes == {"primary", "residential", "secondary", "service"}


def test_user_strings_are_escaped(net):
    layers = _layers()
    html = map_html(reviewer_map(stations=layers["stations"], districts=layers["districts"], title=EVIL))
    assert EVIL not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    # every <script> opened is closed by its own tag: no user text ends a script early
    assert len(re.findall(r"<script\b", html)) == len(re.findall(r"</script>", html))
    # the escaped second name survives in the JSON (backtick escaped, '<' as \u003c never raw)
    assert "&lt;img src=x onerror=alert(3)&gt;" in html


def _urls(text: str) -> set[str]:
    return set(re.findall(r"https?://[^\s\"'<>)\\]+", text))


def test_offline_html_has_no_external_urls(net, tmp_path):
    path = save_map(reviewer_map(network=net, **_layers()), tmp_path / "map.html")
    html = path.read_text(encoding="utf-8")
    js, css, _ = leaflet_assets()
    assert js in html and css in html  # Leaflet inlined
    # the only URLs left are the ones inside Leaflet's own source (comments, attribution link)
    assert _urls(html) - _urls(js) - _urls(css) == set()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html.replace(js, ""))
    assert "url(images/" not in html  # Leaflet's CSS images inlined as data URIs
    for lib in ("jquery", "bootstrap", "awesome-markers", "font-awesome"):
        assert lib not in html.lower()
    assert [p.name for p in tmp_path.iterdir()] == ["map.html"]  # no temp file left


def test_online_map_links_cdn_and_check_is_meaningful():
    html = map_html(reviewer_map(stations=_layers()["stations"], offline=False))
    assert re.search(r"<script src=\"https://", html)  # folium's CDN links kept online


def test_offline_map_refuses_external_assets_added_later():
    m = reviewer_map(stations=_layers()["stations"])
    folium.RegularPolygonMarker([LAT0, LON0]).add_to(m)  # needs a CDN plugin
    with pytest.raises(DataError, match="external asset"):
        map_html(m)


def test_offline_without_leaflet_package_says_what_to_install(monkeypatch):
    maps._leaflet_assets_cached.cache_clear()
    monkeypatch.setattr(maps, "_find_leaflet_dir", lambda cwd: None)
    try:
        with pytest.raises(DataError, match="django-js-lib-leaflet"):
            reviewer_map(stations=_layers()["stations"])
        reviewer_map(stations=_layers()["stations"], offline=False)  # online still works
    finally:
        maps._leaflet_assets_cached.cache_clear()


def test_tiles():
    st = _layers()["stations"]
    html = map_html(reviewer_map(stations=st, tiles="osm", offline=False))
    assert "tile.openstreetmap.org" in html and json.dumps("OSM 底图 OSM tiles") in html
    off = reviewer_map(stations=st, tiles=("tianditu", "abc123"))
    tile = next(c for c in off._children.values() if isinstance(c, folium.TileLayer))
    assert tile.show is False  # offline: optional, switched off
    assert "tk=abc123" in map_html(off)
    for bad in ("amap", ("gaode", "k")):
        with pytest.raises(InputError, match="GCJ-02"):
            reviewer_map(stations=st, tiles=bad)
    with pytest.raises(InputError, match="Tianditu key"):
        reviewer_map(stations=st, tiles=("tianditu", "a'b"))
    with pytest.raises(InputError, match="not understood"):
        reviewer_map(stations=st, tiles="bing")


def test_bad_inputs_name_the_problem():
    st = _layers()["stations"]
    with pytest.raises(InputError, match="'class'.*'classX'"):
        reviewer_map(stations=st.assign(**{"class": ["classX", "small", "special", "water"]}))
    with pytest.raises(InputError, match="'status'"):
        reviewer_map(stations=st.assign(status=["built", "planned", "candidate", "proposed"]))
    with pytest.raises(InputError, match=r"lacks column\(s\) \['class'\]"):
        reviewer_map(stations=st.drop(columns="class"))
    with pytest.raises(InputError, match="no CRS"):
        reviewer_map(hydrants=gpd.GeoDataFrame(geometry=[Point(1, 2)]))
    with pytest.raises(InputError, match="expected a GeoDataFrame"):
        reviewer_map(area=[Point(1, 2)])
    with pytest.raises(InputError, match="band_s"):
        reviewer_map(isochrones=_layers()["isochrones"].drop(columns="band_s"))
    with pytest.raises(InputError, match="lang"):
        reviewer_map(lang="fr")


def test_language_options(net):
    html_en = map_html(reviewer_map(network=net, stations=_layers()["stations"], lang="en"))
    assert json.dumps("Stations") in html_en and json.dumps("消防站 Stations") not in html_en
    html_zh = map_html(reviewer_map(stations=_layers()["stations"], lang="zh"))
    assert json.dumps("消防站") in html_zh


def test_empty_map_and_empty_layers():
    m = reviewer_map()
    assert "L.map" in map_html(m)
    empty = _layers()["hydrants"].iloc[:0]
    data = _layer_data(reviewer_map(hydrants=empty))
    assert data[NAMES["hydrants"]]["features"] == []


def test_uncovered_layer_names_the_standard_not_5_minutes():
    layers = _layers()
    std = {"turnout_s": 60.0, "travel_s": 240.0, "class_travel_s": {"small": 120.0, "special": 300.0}}
    m = reviewer_map(uncovered=layers["uncovered"], stations=layers["stations"], standard=std)
    html = map_html(m)
    feats = _layer_data(m)[NAMES["uncovered"]]["features"]
    # the planned station is small: its own budget is named; the candidate's class is not scored
    scored = layers["stations"][layers["stations"]["status"].isin(["existing", "planned"])]
    assert "small" in set(scored["class"]) and "special" not in set(scored["class"])
    want = (f"not reached within the standard ({std['turnout_s']:.0f} s turnout + "
            f"{std['travel_s']:.0f} s drive; small stations {std['class_travel_s']['small']:.0f} s drive)")
    assert all(want in f["properties"]["t"] for f in feats)
    assert "按标准未到达" in feats[0]["properties"]["t"]
    assert "special stations" not in html
    assert "5分钟" not in html and "5 min" not in html
    # legend too
    assert "uncovered demand: " in html and want in html


def test_isochrone_legend_says_drive_time():
    m = reviewer_map(isochrones=_layers()["isochrones"], lang="en")
    html = map_html(m)
    assert "drive ≤ 2 min (120 s)" in html and "drive ≤ 4 min (240 s)" in html
