"""The scenario runner: loading a scenario checks that the road network covers its study area."""
from __future__ import annotations

import json
import re
import warnings

import osmnx as ox
import pytest
import shapely
import yaml
from pyproj import Geod
from shapely.geometry import Point, box, mapping

from conftest import lonlat_grid
from coverage.errors import CoverageWarning
from coverage.network import network_from_graph
from coverage.pipeline import network_extent_warning, prepare, summary_header
from coverage.report import markdown_summary
from coverage.scenario import load_scenario

LON0, LAT0 = 24.94, 60.17
N, STEP_LON, STEP_LAT = 4, 0.004, 0.002  # a 4 x 4 grid ~ 670 m x 670 m
GEOD = Geod(ellps="WGS84")


def _grid_graph():
    return lonlat_grid(N, LON0, LAT0, STEP_LON, STEP_LAT)


GRID = box(LON0, LAT0, LON0 + (N - 1) * STEP_LON, LAT0 + (N - 1) * STEP_LAT)
BIG = box(LON0 - 0.03, LAT0 - 0.015, LON0 + 0.042, LAT0 + 0.021)   # ~ 4 km x 4 km around it
FITS = GRID.buffer(0.0005)                                        # the grid, a little more


def _km2(poly) -> float:
    return abs(GEOD.geometry_area_perimeter(poly)[0]) / 1e6


def _numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"(\d+(?:\.\d+)?) ?(?:km²|%)", text)]


def test_network_much_smaller_than_the_area_is_warned_about():
    net = network_from_graph(_grid_graph(), simplify=False)
    msg = network_extent_warning(net, BIG, what="the study area of 'x' (big.geojson)", source="net.osm")
    assert msg is not None
    area_km2, inside_km2, share = _numbers(msg)
    # independent: the area's geodesic size; the network's extent lies between the grid's own
    # rectangle and that rectangle grown by the 200 m buffer
    assert area_km2 == pytest.approx(_km2(BIG), abs=0.06)
    lo = _km2(GRID)
    hi = lo + 4 * 200 * 700 / 1e6 + 3.1416 * 0.2 ** 2
    assert lo - 0.05 <= inside_km2 <= hi + 0.05
    assert share == pytest.approx(100 * inside_km2 / area_km2, abs=1.5)
    for text in ("big.geojson", "net.osm", "larger road extract", "smaller study area"):
        assert text in msg


def test_network_covering_the_area_is_not_warned_about():
    net = network_from_graph(_grid_graph(), simplify=False)
    assert network_extent_warning(net, FITS) is None
    assert network_extent_warning(net, None) is None


def _scenario(tmp_path, area) -> str:
    ox.save_graphml(_grid_graph(), tmp_path / "grid.graphml")
    (tmp_path / "area.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "area"}, "geometry": mapping(area)}]}), encoding="utf-8")
    lon, lat = LON0 + STEP_LON, LAT0 + STEP_LAT
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump({
        "name": "grid town", "network": {"file": "grid.graphml"}, "area": {"file": "area.geojson"},
        "stations": [{"id": "s", "name": "s", "class": "class1", "status": "existing",
                      "at": {"lon": lon, "lat": lat, "datum": "wgs84"}}],
        "demand": {"kind": "roads", "piece_m": 50},
    }), encoding="utf-8")
    return str(p)


def test_prepare_warns_and_the_summary_carries_the_warning(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prep = prepare(load_scenario(_scenario(tmp_path, BIG)))
    ours = [w for w in caught if issubclass(w.category, CoverageWarning) and "study area" in str(w.message)]
    assert len(ours) == 1
    msg = str(ours[0].message)
    assert "'grid town'" in msg and "area.geojson" in msg and "grid.graphml" in msg
    assert prep.warnings == (msg,)
    header = summary_header(prep)
    assert header["warnings"] == [msg]
    assert "## 提示 Warnings" in markdown_summary(header)


def test_prepare_is_quiet_when_the_network_covers_the_area(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prep = prepare(load_scenario(_scenario(tmp_path, FITS)))
    assert not [w for w in caught if "study area" in str(w.message)]
    assert prep.warnings == () and summary_header(prep)["warnings"] == []


def test_station_placement_warnings_reach_the_summary(tmp_path):
    p = _scenario(tmp_path, FITS)
    data = yaml.safe_load(open(p, encoding="utf-8"))
    # a second station ~150 m north of the grid's top row: snapped with a distance warning
    data["stations"].append({"id": "far", "name": "far", "class": "small", "status": "planned",
                             "at": {"lon": LON0 + STEP_LON, "lat": LAT0 + (N - 1) * STEP_LAT + 0.00135}})
    data.pop("area")
    open(p, "w", encoding="utf-8").write(yaml.safe_dump(data))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        prep = prepare(load_scenario(p))
    notes = [w for w in prep.warnings if w.startswith("station 'far'")]
    assert len(notes) == 1 and "snapped 150 m" in notes[0]
    assert not [w for w in prep.warnings if w.startswith("station 's'")]
    assert notes[0] in summary_header(prep)["warnings"]


def test_network_loading_warnings_reach_the_summary(tmp_path):
    p = _scenario(tmp_path, FITS)
    data = yaml.safe_load(open(p, encoding="utf-8"))
    data["speeds"] = {"fire_access_route": 20}  # a class of the user's own that no road has
    open(p, "w", encoding="utf-8").write(yaml.safe_dump(data))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prep = prepare(load_scenario(p))
    shown = [str(w.message) for w in caught if "fire_access_route" in str(w.message)]
    assert len(shown) == 1  # still shown once while loading
    assert [w for w in prep.warnings if "fire_access_route" in w] == shown
    assert shown[0] in summary_header(prep)["warnings"]


def test_warnings_are_shown_when_preparing_fails(tmp_path):
    from coverage.errors import InputError

    p = _scenario(tmp_path, BIG)  # the network spans far less than the study area: warned
    data = yaml.safe_load(open(p, encoding="utf-8"))
    data["stations"].append({"id": "sea", "name": "sea", "class": "class1", "status": "planned",
                             "at": {"lon": LON0 + 1.0, "lat": LAT0}})  # ~90 km off: fails
    open(p, "w", encoding="utf-8").write(yaml.safe_dump(data))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(InputError, match="could not be placed"):
            prepare(load_scenario(p))
    assert any("study area" in str(w.message) for w in caught)


def _district_scenario(tmp_path, **extra) -> str:
    """The grid town split into districts West and East (at the grid's middle); station 's' lies
    in West."""
    p = _scenario(tmp_path, FITS)
    mid = LON0 + 1.5 * STEP_LON
    x0, y0, x1, y1 = FITS.bounds
    feats = [{"type": "Feature", "properties": {"name": n}, "geometry": mapping(box(a, y0, b, y1))}
             for n, a, b in (("West", x0, mid), ("East", mid, x1))]
    (tmp_path / "districts.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": feats}),
                                                encoding="utf-8")
    data = yaml.safe_load(open(p, encoding="utf-8"))
    data.pop("area")
    data["districts"] = {"file": "districts.geojson", "name_field": "name", **extra.pop("districts", {})}
    for k, v in extra.items():
        data[k] = v
    open(p, "w", encoding="utf-8").write(yaml.safe_dump(data))
    return p


@pytest.mark.parametrize("names, match", [(["West", "Est"], r"\['Est'\] not found .*available \['East', 'West'\]"),
                                          ("West", "expected a non-empty list")])
def test_district_names_must_name_districts(tmp_path, names, match):
    """A misspelt name used to drop its district silently (the run then failed far away), and a
    plain string was read letter by letter."""
    from coverage.errors import InputError

    with pytest.raises(InputError, match=match):
        prepare(load_scenario(_district_scenario(tmp_path, districts={"names": names})))
    prep = prepare(load_scenario(_district_scenario(tmp_path, districts={"names": ["West"]})))
    assert list(prep.districts["name"]) == ["West"]


def test_district_names_beside_a_district_without_a_name(tmp_path):
    """A district without a name made the 'not found' message crash (sorting text and NaN)."""
    from coverage.errors import InputError

    p = _district_scenario(tmp_path, districts={"names": ["West", "Est"]})
    f = tmp_path / "districts.geojson"
    data = json.loads(f.read_text(encoding="utf-8"))
    data["features"].append({"type": "Feature", "properties": {"name": None},
                             "geometry": mapping(box(LON0 - 0.01, LAT0 - 0.01, LON0 - 0.005, LAT0 - 0.005))})
    f.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(InputError, match=r"\['Est'\] not found .*available \['East', 'West'\]"):
        prepare(load_scenario(p))


def test_district_codes_stay_codes_beside_a_blank_one(tmp_path):
    """Codes as the name field, one district without: the column reads as floats, and districts
    were named '310101.0' (quotas and stated districts keyed 310101 did not match)."""
    p = _district_scenario(tmp_path, districts={"name_field": "code"})
    f = tmp_path / "districts.geojson"
    data = json.loads(f.read_text(encoding="utf-8"))
    for feat, code in zip(data["features"], (310101, 310104)):
        feat["properties"]["code"] = code
    data["features"].append({"type": "Feature", "properties": {"name": "x", "code": None},
                             "geometry": mapping(box(LON0 - 0.01, LAT0 - 0.01, LON0 - 0.005, LAT0 - 0.005))})
    f.write_text(json.dumps(data), encoding="utf-8")
    prep = prepare(load_scenario(p))
    # the nameless district is no district (no 'nan' row), its land still in the study area
    assert list(prep.districts["code"]) == ["310101", "310104"]
    assert list(prep.stations["district"]) == ["310101"]
    assert set(prep.demand.district) - {None} == {"310101", "310104"}
    assert prep.area.area > shapely.union_all(prep.districts.geometry.to_numpy()).area


def test_a_districts_file_of_lines_is_named(tmp_path):
    """It gave 'clip area <POLYGON EMPTY> is invalid', naming neither the file nor the problem."""
    from coverage.errors import DataError

    p = _district_scenario(tmp_path)
    (tmp_path / "districts.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "West"},
         "geometry": {"type": "LineString", "coordinates": [[LON0, LAT0], [LON0 + STEP_LON, LAT0]]}}]}),
        encoding="utf-8")
    with pytest.raises(DataError, match=r"districts file .*districts.geojson' holds no polygon with an area "
                                        r"\(it holds LineString\)"):
        prepare(load_scenario(p))


def test_a_stated_station_district_is_checked(tmp_path):
    from coverage.errors import InputError

    p = _district_scenario(tmp_path)
    data = yaml.safe_load(open(p, encoding="utf-8"))
    data["stations"][0]["district"] = "North"
    open(p, "w", encoding="utf-8").write(yaml.safe_dump(data))
    with pytest.raises(InputError, match="'North', which is not one of .*\\['East', 'West'\\]"):
        prepare(load_scenario(p))
    data["stations"][0]["district"] = "East"  # it lies in West
    open(p, "w", encoding="utf-8").write(yaml.safe_dump(data))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        prep = prepare(load_scenario(p))
    assert list(prep.stations["district"]) == ["East"]
    assert any("states district 'East' but lies in 'West'" in w for w in prep.warnings)
    # the optimiser's quotas count it where the plan says too (they counted it where it lies)
    from coverage.siting import make_candidates

    cands = make_candidates(prep, spacing_m=150.0, station_class="small")
    assert list(cands.district[cands.label == "s"]) == ["East"]
    assert set(cands.district[cands.kind == "crossing"]) == {"West", "East"}  # the rest by position


def test_a_station_outside_the_study_area_is_warned_about(tmp_path):
    """A station outside the area was scored silently: its district, cut to the area, read 0 km²,
    as if the station were broken."""
    west = box(LON0 - 0.0005, LAT0 - 0.0005, LON0 + 1.9 * STEP_LON, LAT0 + (N - 1) * STEP_LAT + 0.0005)
    p = _scenario(tmp_path, west)
    data = yaml.safe_load(open(p, encoding="utf-8"))
    data["stations"].append({"id": "east", "name": "东站", "class": "class1", "status": "existing",
                             "at": {"lon": LON0 + (N - 1) * STEP_LON, "lat": LAT0 + STEP_LAT}})
    # given 2 m inside the edge, snapped to the street 22 m beyond it: the plan put it inside
    data["stations"].append({"id": "edge", "name": "edge", "class": "class1", "status": "existing",
                             "at": {"lon": LON0 + 1.9 * STEP_LON - 0.00004, "lat": LAT0 + 0.5 * STEP_LAT}})
    open(p, "w", encoding="utf-8").write(yaml.safe_dump(data, allow_unicode=True))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        prep = prepare(load_scenario(p))
    said = [w for w in prep.warnings if "outside the study area" in w]
    assert len(said) == 2
    east = next(w for w in said if "'east'" in w)
    assert "station 'east' (东站) stands on a road 0.2" in east and "area.geojson" in east
    assert "check its position and datum" in east
    # given 2 m inside, snapped beyond the edge: said without blaming the position
    edge = prep.stations.set_index("id").loc["edge"]
    assert edge["moved_m"] > 20 and not west.contains(Point(edge["lon"], edge["lat"]))
    near = next(w for w in said if "'edge'" in w)
    assert "the road nearest the plan's point" in near and "check its position" not in near


def test_a_station_clipped_away_with_the_network_says_so(tmp_path):
    from coverage.errors import InputError

    p = _scenario(tmp_path, FITS)
    data = yaml.safe_load(open(p, encoding="utf-8"))
    data["network"]["clip_buffer_m"] = 0
    # 400 m east of the grid: the grid graph has no road there and the clip leaves none either
    data["stations"].append({"id": "out", "name": "out", "class": "class1", "status": "planned",
                             "at": {"lon": LON0 + (N - 1) * STEP_LON + 0.0075, "lat": LAT0}})
    open(p, "w", encoding="utf-8").write(yaml.safe_dump(data))
    with pytest.raises(InputError, match="plus clip_buffer_m = 0 m, the network was clipped away there"):
        prepare(load_scenario(p))


def test_siting_rules_from_osm_do_not_burden_other_commands(tmp_path):
    """optimise.hazards: {osm: true} made every command read OSM features; on a GraphML network
    (no POIs) even `score` failed."""
    p = _scenario(tmp_path, FITS)
    data = yaml.safe_load(open(p, encoding="utf-8"))
    data["optimise"] = {"model": "mclp", "new": 1, "hazards": {"osm": True}}
    open(p, "w", encoding="utf-8").write(yaml.safe_dump(data))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prep = prepare(load_scenario(p), offline=True)
    assert prep.pois is None and len(prep.stations) == 1


def test_the_same_station_given_twice_is_warned_about(tmp_path):
    # one station written once in WGS-84 and again (planned) in GCJ-02 (equal outside China): they
    # split one district between them, unnoticed; a planned station 200 m away is no duplicate
    from coverage.datum import wgs84_to_gcj02

    p = _scenario(tmp_path, FITS)
    data = yaml.safe_load(open(p, encoding="utf-8"))
    first = data["stations"][0]
    lon, lat = first["at"]["lon"], first["at"]["lat"]
    glon, glat = wgs84_to_gcj02(lon, lat)
    data["stations"] += [
        {"id": "again", "name": "again", "class": "small", "status": "planned",
         "at": {"lon": float(glon), "lat": float(glat), "datum": "gcj02"}},
        {"id": "next", "name": "next", "class": "small", "status": "planned",
         "at": {"lon": lon + STEP_LON, "lat": lat}}]
    open(p, "w", encoding="utf-8").write(yaml.safe_dump(data))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        prep = prepare(load_scenario(p))
    pairs = [w for w in prep.warnings if "apart: the same station given twice" in w]
    assert pairs == [f"stations {first['id']!r} (existing) and 'again' (planned) stand 0 m apart: the same "
                     "station given twice (in two datums?) splits its district and its coverage between "
                     "the two; remove one"]


def test_a_logistics_station_beside_a_fire_station_is_neither_a_duplicate_nor_the_osm_one(tmp_path):
    # a 战勤保障站 on the fire station's site: no "given twice, remove one" (following it could
    # delete the real station); and an OSM fire station beside a listed logistics one is imported
    from coverage.pipeline import _drop_listed_twice

    p = _scenario(tmp_path, FITS)
    data = yaml.safe_load(open(p, encoding="utf-8"))
    first = data["stations"][0]
    data["stations"].append({"id": "zq", "name": "战勤保障站", "class": "logistics", "status": "existing",
                             "at": dict(first["at"])})
    open(p, "w", encoding="utf-8").write(yaml.safe_dump(data))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        prep = prepare(load_scenario(p))
    assert not [w for w in prep.warnings if "given twice" in w]
    st = prep.stations.copy()
    st.loc[st["id"] == first["id"], "id"] = "osm-1"  # the fire station, as imported from OSM
    kept = _drop_listed_twice(prep.network, st, {"osm-1"})
    assert sorted(kept["id"]) == ["osm-1", "zq"]
    st.loc[st["id"] == "zq", "class"] = "class1"  # beside a listed fire station it is that one
    assert sorted(_drop_listed_twice(prep.network, st, {"osm-1"})["id"]) == ["zq"]
