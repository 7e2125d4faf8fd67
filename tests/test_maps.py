"""Reviewer maps: every layer builds, names and escaping in the HTML, offline pages link nothing."""
from __future__ import annotations

import json
import re

import folium
import geopandas as gpd
import pytest
from pyproj import Geod
from shapely.geometry import LineString, Point, box, shape

from coverage import maps
from conftest import lonlat_grid
from coverage.errors import DataError, InputError
from coverage.maps import leaflet_assets, map_html, reviewer_map, save_map
from coverage.network import network_from_graph

LON0, LAT0 = 24.94, 60.17
EVIL = "<script>alert(1)</script>"
EVIL2 = "`${alert(2)}`</script><img src=x onerror=alert(3)>"


def _grid_graph(n=4, step_lon=0.004, step_lat=0.002):
    # mixed road classes and one one-way street (from the first crossing)
    return lonlat_grid(n, LON0, LAT0, step_lon, step_lat,
                       classes=("primary", "residential", "secondary", "service"), one_way={(0, 0)})


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
    iso = _layers()["isochrones"]
    for bad, shown in ((float("nan"), "nan"), ("4 min", "'4 min'")):  # was a bare KeyError: nan
        band = iso["band_s"].astype(object)
        band.iloc[-1] = bad
        with pytest.raises(InputError, match=f"isochrones row .* has band_s {shown}: expected the seconds"):
            reviewer_map(isochrones=iso.assign(band_s=band))
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


# --- legend, popup formatting, labels by station, colours (review of the reviewer map) ---------


def test_legend_is_narrow_wraps_and_has_a_collapse_button(net):
    std = {"turnout_s": 60.0, "travel_s": 240.0, "class_travel_s": {"small": 120.0}}
    html = map_html(reviewer_map(network=net, standard=std, **_layers()))
    assert f"max-width:{maps.LEGEND_MAX_WIDTH_PX}px" in html and maps.LEGEND_MAX_WIDTH_PX <= 300
    assert "overflow-wrap:anywhere" in html  # the long 'uncovered demand ...' line wraps
    assert "<button type='button' class='covplan-legend-toggle' aria-expanded='true'" in html
    assert ".covplan-legend.covplan-collapsed .covplan-legend-body{display:none}" in html
    # collapsed from the start on narrow viewports, by an inline script (nothing loaded)
    w, h = maps.LEGEND_COLLAPSE_BELOW
    assert f"window.innerWidth < {w} || window.innerHeight < {h}" in html
    legend_js = html[html.index("var box = document.getElementById('covplan-legend')") - 40:]
    assert not re.search(r"<script[^>]+src", legend_js[:2000])


def _popups(m, layer: str) -> list[str]:
    return [f["properties"]["p"] for f in _layer_data(m)[NAMES[layer]]["features"]]


def _cells(popup: str) -> dict[str, str]:
    return dict(re.findall(r"<th[^>]*>(.*?)</th><td>(.*?)</td>", popup))


def test_popup_numbers_formatted_by_field():
    stations = gpd.GeoDataFrame(
        {"id": ["daxue"], "name": ["大學路×光復路二段"], "class": ["small"], "status": ["planned"],
         "lon": [121.004545], "lat": [24.790983], "moved_m": [2.13e-10], "warnings": [""]},
        geometry=[Point(121.004545, 24.790983)], crs=4326,
    )
    proposed = gpd.GeoDataFrame(
        {"rank": [1], "lon": [120.98563126], "lat": [24.7872544], "adds_weight": [882.4],
         "adds_share": [0.0039271], "covered_share": [0.9663], "adds_km2": [0.0514239],
         "road_km": [75.4921], "saves_mean_s": [12.345]},
        geometry=[Point(120.98563126, 24.7872544)], crs=4326,
    )
    m = reviewer_map(stations=stations, proposed=proposed)
    st = _cells(_popups(m, "stations")[0])
    assert st["经度 lon"] == "121.004545" and st["纬度 lat"] == "24.790983"  # not '121' / '24.8'
    assert st["定位移动 m moved m"] == "0"  # floating noise, not '2.13e-10'
    assert "提示 warnings" not in st  # empty text left out
    p = _cells(_popups(m, "proposed")[0])
    assert p["经度 lon"] == "120.985631" and p["纬度 lat"] == "24.787254"
    assert p["新增覆盖比例 adds share"] == "0.39 %" and p["covered_share"] == "96.6 %"
    assert p["新增覆盖面积 km² adds area km²"] == "0.051" and p["道路长度 km road km"] == "75.49"
    assert p["平均行车时间减少 s cuts mean drive time s"] == "12.3" and p["新增覆盖需求 adds demand"] == "882"
    assert not any("e-" in v for v in p.values())
    # the formatter itself
    assert maps._fmt("moved_m", 2.13e-10) == "0" and maps._fmt("length_m", 1234.56) == "1,235"
    assert maps._fmt("distance_m", 2.179) == "2.2" and maps._fmt("band_s", 960.0) == "960"
    assert maps._fmt("weight", 0.0123456) == "0.0123" and maps._fmt("weight", 3e-12) == "0"
    assert maps._fmt("x", 1e-7) == "0.000000" and maps._fmt("adds_share", 1e-9) == "0 %"


def test_popups_hide_internal_fields_and_label_the_rest():
    hp = gpd.GeoDataFrame(
        {"rank": [1, 2], "site": ["crossing", "road"], "road": [-1, 72], "side": ["both", "left"],
         "position_m": [0.0, 89.61], "node": [25291572, -1], "newly_protected_m": [947.1, 733.6],
         "lon": [LON0, LON0 + 0.001], "lat": [LAT0, LAT0]},
        geometry=[_pt(0, 0), _pt(0.001, 0)], crs=4326,
    )
    gaps = gpd.GeoDataFrame(
        {"road": [3], "u": [1372477605], "v": [314935876], "side": ["both"], "start_m": [0.0],
         "end_m": [128.99], "length_m": [128.99], "highway": ["unclassified"],
         "edge": [5], "fraction": [0.5], "station_row": [0]},
        geometry=[LineString([_pt(0, 0).coords[0], _pt(0.002, 0).coords[0]])], crs=4326,
    )
    m = reviewer_map(hydrant_proposals=hp, hydrant_gaps=gaps)
    first, second = (_cells(p) for p in _popups(m, "hydrant_proposals"))
    gap = _cells(_popups(m, "hydrant_gaps")[0])
    for cells in (first, second, gap):
        assert not any(k in cells for k in ("road", "u", "v", "edge", "fraction", "station_row"))
        assert all(re.search(r"[\u4e00-\u9fff]", k) for k in cells), cells  # every label bilingual
    assert first["道路节点 road node"] == "25291572" and "道路节点 road node" not in second  # -1: none
    assert second["沿路位置 m position along road m"] == "89.6"
    assert gap["终点 m to m"] == "129" and gap["道路等级 road class"] == "unclassified"
    assert gap["道路侧 road side"] == "both"


def test_reach_and_districts_named_by_station_not_list_position():
    # as scoring passes them: reach 'origin' counts within each budget band (both are 0),
    # districts carry origin, label, band_s (the search horizon), station_row, id, class, caps
    stations = gpd.GeoDataFrame(
        {"id": ["erottaja", "hakaniemi"], "name": ["Erottajan paloasema", "Hakaniemi"],
         "class": ["class1", "small"], "status": ["existing", "planned"]},
        geometry=[_pt(0.004, 0.002), _pt(0.008, 0.004)], crs=4326,
    )
    reach = gpd.GeoDataFrame(
        {"origin": [0, 0], "label": ["hakaniemi", "erottaja"], "band_s": [120.0, 240.0],
         "area_km2": [0.597, 1.425], "road_km": [9.26, 26.03], "station_row": [1, 0]},
        geometry=[_pt(0.008, 0.004).buffer(0.002), _pt(0.004, 0.002).buffer(0.003)], crs=4326,
    )
    nd = gpd.GeoDataFrame(
        {"origin": [0, 1], "label": ["erottaja", "hakaniemi"], "band_s": [960.0, 960.0],
         "area_km2": [1.590575, 1.119126], "road_km": [16.17, 13.23], "station_row": [0, 1],
         "id": ["erottaja", "hakaniemi"], "class": ["class1", "small"], "cap_km2": [7.0, 2.0],
         "over_cap": [False, False]},
        geometry=[box(LON0, LAT0, LON0 + 0.006, LAT0 + 0.006), box(LON0 + 0.006, LAT0, LON0 + 0.012, LAT0 + 0.006)],
        crs=4326,
    )
    m = reviewer_map(stations=stations, isochrones=reach, network_districts=nd)
    data = _layer_data(m)
    iso_tips = sorted(f["properties"]["t"] for f in data[NAMES["isochrones"]]["features"])
    assert any("Erottajan paloasema (erottaja): 行车 drive ≤ 4 min" in tip for tip in iso_tips)
    assert any("Hakaniemi (hakaniemi): 行车 drive ≤ 2 min" in tip for tip in iso_tips)
    assert not any("station 0" in tip for tip in iso_tips)
    feats = data[NAMES["network_districts"]]["features"]
    tips = [f["properties"]["t"] for f in feats]
    assert tips[0] == "辖区 district Erottajan paloasema (erottaja): 1.591 / 7 km²"
    assert not any(t.startswith(("0:", "1:")) for t in tips)
    pop = feats[1]["properties"]["p"]
    assert pop.startswith("<b>辖区 District Hakaniemi (hakaniemi)</b>")
    cells = _cells(pop)
    assert "960" not in pop and "时间 s time s" not in cells  # the horizon is not the standard
    assert cells["类别 class"] == "小型站 small" and cells["面积上限 km² area cap km²"] == "2"
    assert not any(k in cells for k in ("station_row", "origin", "消防站 station", "label", "标识 label"))
    # without a stations layer, the id alone
    tips = [f["properties"]["t"] for f in _layer_data(reviewer_map(network_districts=nd))[NAMES["network_districts"]]["features"]]
    assert tips[0].startswith("辖区 district erottaja: ")


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def _distance(a: str, b: str) -> float:
    return sum((x - y) ** 2 for x, y in zip(_rgb(a), _rgb(b))) ** 0.5


def test_hydrant_and_proposal_colours_stand_apart_and_match_the_legend(net):
    layers = _layers()
    m = reviewer_map(network=net, **layers)
    data, html = _layer_data(m), map_html(m)
    gap = data[NAMES["hydrant_gaps"]]["features"][0]["properties"]["s"]["color"]
    ring = data[NAMES["hydrant_proposals"]]["features"][0]["properties"]["s"]["color"]
    site = data[NAMES["proposed"]]["features"][0]["properties"]["s"]["color"]
    # the old pairs were 82 (gap #d95f02 vs secondary road #fd8d3c) and 97 apart (#7a0177 vs #d4009b)
    assert min(_distance(gap, c) for c, _ in maps.ROAD_STYLES.values()) > 150
    assert _distance(ring, site) > 150
    legend = html[html.index("class='covplan-legend'"):]
    assert f"border-top:3px dashed {gap}" in legend
    assert f"border:2px solid {ring}" in legend and f"border:3px solid {site}" in legend


def test_empty_and_missing_geometries_are_dropped_without_a_library_warning():
    """GeoSeries.notna() warned (a six-line geopandas UserWarning printed through --quiet) when a
    layer held an empty geometry."""
    import warnings

    import geopandas as gpd
    import shapely

    from coverage.maps import _to_wgs84

    g = gpd.GeoDataFrame({"a": [1, 2, 3]}, geometry=[shapely.Point(24.9, 60.2), shapely.Point(), None], crs=4326)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = _to_wgs84(g, "stations")
    assert out["a"].tolist() == [1]


def test_proposed_site_title_with_a_float_rank_and_no_name():
    # "Proposed site #1.0 nan" read as a site named nan
    import numpy as np

    g = gpd.GeoDataFrame({"name": [np.nan, "小白楼"], "id": ["p1", "p2"], "rank": [1.0, 2.0]},
                         geometry=[Point(121.47, 31.23), Point(121.48, 31.23)], crs=4326)
    html = map_html(reviewer_map(proposed=g))
    text = json.loads('"' + "".join(re.findall(r'"p":"(.*?)"', html)) + '"') if '"p":"' in html else html
    assert "Proposed site #1 p1" in text and "Proposed site #2 小白楼" in text
    assert "nan" not in text and "#1.0" not in text
