"""An online scenario end to end, offline: `covplan fetch` against a loopback fake Overpass
serving the real Huangpu roads (plus a few synthetic named places and fire stations, since the
extract has no POIs), then `covplan --offline run` from the cache with the server gone."""
from __future__ import annotations

import json

import pytest
import yaml

from coverage.cli import EXIT_OFFLINE, main

from fake_overpass import FakeOsmServer, osm_xml_elements
from test_download import BBOX, HUANGPU, osmnx_to  # noqa: F401  (fixture)

# Synthetic features, clearly not OSM data: placed on real crossings of the extract.
SYNTHETIC = [
    {"type": "node", "id": 9_000_000_001, "lat": 31.2310, "lon": 121.4750,
     "tags": {"place": "neighbourhood", "name": "人民广场"}},
    {"type": "node", "id": 9_000_000_002, "lat": 31.2305, "lon": 121.4700,
     "tags": {"amenity": "fire_station", "name": "测试消防站甲"}},
    {"type": "node", "id": 9_000_000_003, "lat": 31.2280, "lon": 121.4765,
     "tags": {"amenity": "fire_station", "name": "测试消防站乙"}},
]


@pytest.fixture
def scenario(tmp_path, monkeypatch):
    monkeypatch.setenv("COVPLAN_CACHE", str(tmp_path / "cache"))
    p = tmp_path / "online.yaml"
    p.write_text(yaml.safe_dump({
        "name": "online Huangpu",
        "network": {"bbox": list(BBOX)},
        "pois": {"osm": True},
        "stations_from_osm": {"class": "class1"},
        "stations": [
            {"id": "square", "class": "small", "status": "planned", "at": {"place": "人民广场"}},
            {"id": "yanan", "class": "small", "status": "planned", "at": {"crossing": ["延安东路", "西藏中路"]}},
            {"id": "gcj", "class": "small", "status": "planned",
             "at": {"lon": 121.479519, "lat": 31.229054, "datum": "gcj02"}},
        ],
        "optimise": {"model": "mclp", "new": 1, "class": "small", "candidate_spacing_m": 200},
    }, allow_unicode=True), encoding="utf-8")
    return p


def test_fetch_then_offline_run(osmnx_to, shared_data, scenario, tmp_path):  # noqa: F811
    elements = osm_xml_elements(shared_data / HUANGPU) + SYNTHETIC
    with FakeOsmServer(elements=elements) as server:
        osmnx_to(server.url)
        assert main(["--quiet", "fetch", str(scenario)]) == 0
        assert len(server.requests) == 2  # roads, then named features
    cache = tmp_path / "cache"
    assert len(list(cache.glob("network-bbox-*.graphml"))) == 1
    assert len(list(cache.glob("features-bbox-*.geojson"))) == 1

    out = tmp_path / "out"
    assert main(["--offline", "--quiet", "run", str(scenario), "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    placed = {p["id"]: p for p in s["stations_placed"]}
    osm = [p for p in placed.values() if p["id"].startswith("osm-")]
    assert sorted(p["name"] for p in osm) == ["测试消防站乙", "测试消防站甲"]
    assert all(p["status"] == "existing" for p in osm)
    assert placed["square"]["method"].startswith("place")
    assert abs(placed["square"]["lon"] - 121.4750) < 0.003 and abs(placed["square"]["lat"] - 31.2310) < 0.003
    assert placed["yanan"]["method"].startswith("crossing")
    assert 0 < s["covered_share"] <= 1
    assert s["comparison"]["existing"]["stations"] == 2
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "测试消防站甲" in html and "测试消防站乙" in html


def test_offline_run_without_cache_says_fetch(scenario, capsys):
    assert main(["--offline", "run", str(scenario), "--out", "unused"]) == EXIT_OFFLINE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "covplan fetch" in err[0]


def test_downloads_never_write_into_the_working_directory(osmnx_to, shared_data, scenario, tmp_path, monkeypatch):  # noqa: F811
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    with FakeOsmServer(elements=osm_xml_elements(shared_data / HUANGPU) + SYNTHETIC) as server:
        osmnx_to(server.url)
        assert main(["--quiet", "fetch", str(scenario)]) == 0
    assert list(work.iterdir()) == []


def test_siting_rules_from_osm_are_fetched_and_read_offline(osmnx_to, shared_data, tmp_path, monkeypatch):  # noqa: F811
    """optimise.hazards/venues {osm: true} read OSM features: `covplan fetch` caches them and an
    --offline run reads the cache (it used to download them, offline or not)."""
    monkeypatch.setenv("COVPLAN_CACHE", str(tmp_path / "cache"))
    p = tmp_path / "rules.yaml"
    p.write_text(yaml.safe_dump({
        "name": "rules", "network": {"bbox": list(BBOX)},
        "stations": [{"id": "s", "class": "small", "status": "existing", "at": {"lon": 121.4725, "lat": 31.2300}}],
        "optimise": {"model": "mclp", "new": 1, "class": "small", "candidate_spacing_m": 200,
                     "hazards": {"osm": True}, "venues": {"osm": True}},
    }, allow_unicode=True), encoding="utf-8")
    elements = osm_xml_elements(shared_data / HUANGPU) + SYNTHETIC
    with FakeOsmServer(elements=elements) as server:
        osmnx_to(server.url)
        assert main(["--quiet", "fetch", str(p)]) == 0
        assert len(server.requests) == 2  # roads, then features
    assert len(list((tmp_path / "cache").glob("features-bbox-*.geojson"))) == 1
    assert main(["--offline", "--quiet", "optimise", str(p), "--out", str(tmp_path / "out")]) == 0


def test_osm_hydrants_of_a_downloaded_network_are_fetched_and_read_offline(osmnx_to, shared_data, tmp_path,
                                                                           monkeypatch):  # noqa: F811
    """hydrants: {osm: true} was refused for downloaded networks (after scoring and optimising),
    though the README's own example offers it beside a bbox network."""
    monkeypatch.setenv("COVPLAN_CACHE", str(tmp_path / "cache"))
    p = tmp_path / "hyd.yaml"
    p.write_text(yaml.safe_dump({
        "name": "hydrants", "network": {"bbox": list(BBOX)}, "hydrants": {"osm": True},
        "stations": [{"id": "s", "class": "small", "status": "existing", "at": {"lon": 121.4725, "lat": 31.2300}}],
    }, allow_unicode=True), encoding="utf-8")
    hydrant = {"type": "node", "id": 9_000_000_010, "lat": 31.2310, "lon": 121.4750,  # synthetic, 7 m off a street
               "tags": {"emergency": "fire_hydrant", "fire_hydrant:type": "pillar"}}
    elements = osm_xml_elements(shared_data / HUANGPU) + SYNTHETIC + [hydrant]
    with FakeOsmServer(elements=elements) as server:
        osmnx_to(server.url)
        assert main(["--quiet", "fetch", str(p)]) == 0
        assert len(server.requests) == 2  # roads, then features (hydrants among them)
    assert main(["--offline", "--quiet", "hydrants", str(p), "--out", str(tmp_path / "out")]) == 0
    h = json.loads((tmp_path / "out" / "hydrants.json").read_text(encoding="utf-8"))
    assert h["existing"] == 1 and h["proposed"] > 0
    # scoring needs no features: it reads none (offline, with only the network cached)
    for f in (tmp_path / "cache").glob("features-*"):
        f.unlink()
    assert main(["--offline", "--quiet", "score", str(p), "--out", str(tmp_path / "score")]) == 0
