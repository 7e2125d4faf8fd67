"""Headless Chromium opens an offline reviewer map from a file.

Checks: no network request leaves the machine and none fails, Leaflet is live with a map and its
layers, the layer control lists the expected layers, user strings stay text, and the screenshot
is a real picture. Skipped with the reason when Chromium, chromedriver or selenium is missing
(CI installs them: ``apt-get install -y chromium chromium-driver`` and the ``test`` extras).
"""
from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import geopandas as gpd
import networkx as nx
import pytest
from shapely.geometry import LineString, Point, box

from coverage.maps import reviewer_map, save_map
from coverage.network import network_from_graph

pytestmark = pytest.mark.browser

LON0, LAT0 = 121.48, 31.23
EVIL = "<script>alert(1)</script>"
EVIL_IMG = "<img src=x onerror=\"window.__xss=1\">"

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=1200,800",
)


def _find(*names: str) -> str | None:
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def driver():
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="selenium not installed (pip install selenium)"
    )
    from selenium.webdriver.chrome.service import Service

    chromium = _find("chromium", "chromium-browser")
    chromedriver = _find("chromedriver")
    if chromium is None or chromedriver is None:
        pytest.skip(
            "headless Chromium not installed: apt-get install -y chromium chromium-driver "
            f"(chromium: {chromium}, chromedriver: {chromedriver})"
        )
    profile = tempfile.mkdtemp(prefix="covplan-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    drv = webdriver.Chrome(service=Service(executable_path=chromedriver), options=opts)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _map_file(folder: Path) -> Path:
    G = nx.MultiDiGraph(crs="epsg:4326")
    n = 5
    for i in range(n):
        for j in range(n):
            G.add_node(i * n + j + 1, x=LON0 + i * 0.004, y=LAT0 + j * 0.003)
    for i in range(n):
        for j in range(n):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < n and j + dj < n:
                    h = "primary" if i == 2 or j == 2 else "residential"
                    a, b = i * n + j + 1, (i + di) * n + (j + dj) + 1
                    G.add_edge(a, b, highway=h)
                    G.add_edge(b, a, highway=h)
    net = network_from_graph(G, simplify=False)
    p = lambda dx, dy: Point(LON0 + dx, LAT0 + dy)  # noqa: E731
    stations = gpd.GeoDataFrame(
        {"id": ["s1", "s2", "s3"], "name": [EVIL, "小白楼消防救援站", EVIL_IMG],
         "class": ["class1", "small", "class2"], "status": ["existing", "planned", "candidate"]},
        geometry=[p(0.004, 0.003), p(0.012, 0.009), p(0.008, 0.006)], crs=4326,
    ).to_crs(32651)
    iso = gpd.GeoDataFrame(
        {"origin": ["s1", "s1"], "band_s": [120, 240]},
        geometry=[p(0.004, 0.003).buffer(0.003), p(0.004, 0.003).buffer(0.006)], crs=4326,
    )
    nd = gpd.GeoDataFrame(
        {"origin": ["s1", "s2"], "area_km2": [1.5, 2.4], "cap_km2": [7.0, 2.0], "over_cap": [False, True]},
        geometry=[box(LON0, LAT0, LON0 + 0.008, LAT0 + 0.012), box(LON0 + 0.008, LAT0, LON0 + 0.016, LAT0 + 0.012)],
        crs=4326,
    )
    m = reviewer_map(
        network=net,
        area=gpd.GeoDataFrame(geometry=[box(LON0 - 0.001, LAT0 - 0.001, LON0 + 0.017, LAT0 + 0.013)], crs=4326),
        stations=stations, isochrones=iso, network_districts=nd,
        uncovered=gpd.GeoDataFrame(geometry=[LineString([(LON0 + 0.016, LAT0), (LON0 + 0.016, LAT0 + 0.012)])], crs=4326),
        proposed=gpd.GeoDataFrame({"id": ["p1"], "rank": [1], "adds_weight": [830.0], "adds_km2": [0.6]},
                                  geometry=[p(0.015, 0.011)], crs=4326),
        hydrants=gpd.GeoDataFrame(geometry=[p(0.001, 0.001), p(0.005, 0.001)], crs=4326),
        hydrant_gaps=gpd.GeoDataFrame(geometry=[LineString([(LON0 + 0.008, LAT0 + 0.012), (LON0 + 0.016, LAT0 + 0.012)])], crs=4326),
        hydrant_proposals=gpd.GeoDataFrame(geometry=[p(0.012, 0.012)], crs=4326),
        title="黄浦区 test plan",
    )
    return save_map(m, folder / "map.html")


EXPECTED_LAYERS = [
    "道路 Roads", "研究范围 Study area", "等时圈 Isochrones", "辖区 Station districts",
    "未覆盖 Uncovered", "消火栓缺口 Hydrant gaps", "消火栓 Hydrants", "建议消火栓 Proposed hydrants",
    "消防站 Stations", "建议站址 Proposed sites",
]

_STATE_JS = """
var maps = Object.keys(window).filter(function (k) {
    return k.indexOf('map_') === 0 && window.L && window[k] instanceof L.Map; });
var m = maps.length ? window[maps[0]] : null;
var n = 0, vectors = 0, markers = 0, markerPanes = {};
if (m) { m.eachLayer(function (l) { n += 1; if (l instanceof L.Path) { vectors += 1; }
    if (l instanceof L.CircleMarker && !(l instanceof L.Circle)) {
        markers += 1; markerPanes[l.options.pane] = (markerPanes[l.options.pane] || 0) + 1; } }); }
var labels = Array.prototype.map.call(
    document.querySelectorAll('.leaflet-control-layers-overlays label'),
    function (el) { return el.textContent.trim(); });
return JSON.stringify({hasL: typeof window.L, version: window.L ? L.version : null,
    maps: maps.length, layers: n, vectors: vectors, labels: labels, markers: markers, markerPanes: markerPanes,
    scale: document.querySelectorAll('.leaflet-control-scale').length,
    legend: document.querySelectorAll('.covplan-legend').length,
    xss: window.__xss === undefined ? null : window.__xss});
"""

_POPUP_JS = """
var maps = Object.keys(window).filter(function (k) {
    return k.indexOf('map_') === 0 && window[k] instanceof L.Map; });
var m = window[maps[0]], found = [];
m.eachLayer(function (l) {
    if (l.feature && l.feature.properties.p && l.feature.properties.p.indexOf('&lt;') >= 0) { found.push(l); } });
var out = [];
found.forEach(function (l) {
    l.openPopup();
    var el = l.getPopup().getElement().querySelector('.leaflet-popup-content');
    out.push({text: el.textContent, scripts: el.querySelectorAll('script').length,
              imgs: el.querySelectorAll('img').length});
    l.closePopup();
});
return JSON.stringify(out);
"""


def test_offline_map_in_headless_chromium(driver, tmp_path):
    path = _map_file(tmp_path)
    driver.get_log("performance")  # drop anything logged before this page
    driver.get(path.resolve().as_uri())

    state = json.loads(driver.execute_script(_STATE_JS))
    assert state["hasL"] == "object" and state["version"] == "1.9.4"
    assert state["maps"] == 1
    assert state["vectors"] >= 10  # roads, polygons, circle markers on the canvas
    assert state["labels"] == EXPECTED_LAYERS
    assert state["scale"] == 1 and state["legend"] == 1
    # point markers (stations, sites, hydrants) are drawn above the lines, so a click on a station
    # opens its own popup and not that of a hydrant gap crossing it
    assert state["markers"] >= 2 and state["markerPanes"] == {"covplanPoints": state["markers"]}

    popups = json.loads(driver.execute_script(_POPUP_JS))
    assert len(popups) == 3  # two stations, and the district named after station s1
    texts = " ".join(p["text"] for p in popups)
    assert EVIL in texts and EVIL_IMG in texts  # shown as text ...
    assert all(p["scripts"] == 0 and p["imgs"] == 0 for p in popups)  # ... never as markup
    state = json.loads(driver.execute_script(_STATE_JS))
    assert state["xss"] is None

    # every request of the page stayed on the machine (the page itself, data: URIs), none failed,
    # and the browser sent nothing over the network at all while the page was open
    uri = path.resolve().as_uri()
    page_requests, network_requests, failed = {}, [], []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        params = msg.get("params", {})
        if msg["method"] == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if url.startswith(("http:", "https:", "ws:", "wss:")):
                network_requests.append(url)
            if params.get("documentURL") == uri:
                page_requests[params["requestId"]] = url
        elif msg["method"] == "Network.loadingFailed":
            failed.append(params)
    assert uri in page_requests.values(), "performance log missed the page: the check would be blind"
    assert network_requests == []
    assert [u for u in page_requests.values() if not u.startswith(("file://", "data:"))] == []
    assert [f for f in failed if f["requestId"] in page_requests] == []
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []

    png = driver.get_screenshot_as_png()
    Image = pytest.importorskip("PIL.Image", reason="pillow needed to inspect the screenshot")
    img = Image.open(io.BytesIO(png)).convert("RGB")
    assert img.size[0] >= 800 and img.size[1] >= 600
    colours = img.getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 20  # a drawn map, not a blank page
    keep = os.environ.get("COVPLAN_SCREENSHOT")
    if keep:
        Path(keep).write_bytes(png)


_LEGEND_JS = """
var box = document.querySelector('.covplan-legend');
var body = box.querySelector('.covplan-legend-body');
var r = box.getBoundingClientRect();
return JSON.stringify({width: r.width, height: r.height, viewport: window.innerWidth,
    collapsed: box.classList.contains('covplan-collapsed'),
    bodyShown: getComputedStyle(body).display !== 'none',
    expanded: box.querySelector('.covplan-legend-toggle').getAttribute('aria-expanded')});
"""


def test_legend_is_narrow_and_collapses(driver, tmp_path):
    path = _map_file(tmp_path)
    uri = path.resolve().as_uri()
    driver.get(uri)
    legend = json.loads(driver.execute_script(_LEGEND_JS))
    assert legend["viewport"] >= 1000 and not legend["collapsed"] and legend["bodyShown"]
    assert legend["width"] < 320, legend  # was 600-745 px: the uncovered line now wraps
    open_height = legend["height"]

    driver.find_element("css selector", ".covplan-legend-toggle").click()
    shut = json.loads(driver.execute_script(_LEGEND_JS))
    assert shut["collapsed"] and not shut["bodyShown"] and shut["expanded"] == "false"
    assert shut["height"] < 40 < open_height
    driver.find_element("css selector", ".covplan-legend-toggle").click()
    assert json.loads(driver.execute_script(_LEGEND_JS))["bodyShown"]

    # a narrow viewport (a phone) opens with the legend collapsed, one click shows it
    size = driver.get_window_size()
    try:
        driver.set_window_size(480, 800)
        driver.get(uri)
        narrow = json.loads(driver.execute_script(_LEGEND_JS))
        assert narrow["viewport"] < 700 and narrow["collapsed"] and not narrow["bodyShown"]
        driver.find_element("css selector", ".covplan-legend-toggle").click()
        assert json.loads(driver.execute_script(_LEGEND_JS))["bodyShown"]
    finally:
        driver.set_window_size(size["width"], size["height"])
    errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
