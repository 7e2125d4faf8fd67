"""Scenario files: valid ones load into frozen objects; bad ones report every problem at once."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from coverage.errors import ScenarioError
from coverage.scenario import Standard, load_scenario, parse_scenario

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((REPO / "scenarios").glob("*.yaml"))


def write(tmp_path: Path, data) -> Path:
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return p


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_shipped_scenarios_validate(path):
    sc = load_scenario(path)
    assert sc.name
    assert sc.network["kind"] in ("file", "shared", "default", "place", "bbox")
    ids = [s.id for s in sc.stations]
    assert len(ids) == len(set(ids))


def test_luoyang_scenario_keeps_the_plan_wording():
    sc = load_scenario(REPO / "scenarios" / "luoyang_13th.yaml")
    crossings = {s.at.crossing for s in sc.stations if s.at.kind == "crossing"}
    assert crossings == {("联盟路", "黔川路"), ("周山路", "渠北路"), ("秦岭东路", "蓬莱路"),
                         ("丽春东路", "御博路"), ("金业路", "豫通街")}
    places = {s.at.place for s in sc.stations if s.at.kind == "place"}
    assert places == {"安乐镇", "龙门园区"}
    assert sc.optimise.new == 8
    assert sum(q[0] for q in sc.optimise.quotas.values()) == 8


def test_minimal_scenario_defaults(tmp_path):
    p = write(tmp_path, {"name": "x", "network": {"default": "helsinki"},
                         "stations": [{"id": "a", "at": {"lon": 24.94, "lat": 60.17}}]})
    sc = load_scenario(p)
    assert sc.standard.response_s == 300
    assert sc.stations[0].station_class == "class1"
    assert sc.stations[0].status == "existing"
    assert sc.stations[0].at.datum == "wgs84"
    assert sc.demand.kind == "roads"
    with pytest.raises(Exception):
        sc.name = "changed"  # frozen


def test_many_mistakes_are_all_reported(tmp_path):
    data = {
        "name": "",
        "network": {"file": "missing.osm"},
        "standard": {"turnout_s": -5, "travel_s": "four minutes", "caps_km2": {"class9": 3}},
        "speeds": {"primary": -10, "congestion": 1.5},
        "stations": [
            {"id": "a", "class": "huge", "status": "dreamed", "at": {"lon": 200, "lat": 39}},
            {"id": "a", "at": {"crossing": ["联盟路"]}},
            {"id": "c", "at": {"lon": 117.2, "lat": 39.1, "datum": "wgs99"}},
            {"id": "d"},
        ],
        "demand": {"kind": "people"},
        "optimise": {"model": "magic", "new": -1, "quotas": {"涧西区": {"min": 3, "max": 1}}},
        "colour": "red",
    }
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, data))
    problems = info.value.problems
    text = "\n".join(problems)
    expected_fragments = [
        "name", "network.file", "standard.turnout_s", "standard.travel_s", "standard.caps_km2.class9",
        "speeds.primary", "speeds.congestion", ".class", ".status", ".at.lon", "(a).at.crossing",
        "unique id", ".datum", "(d).at", "demand.kind", "optimise.model", "optimise.new",
        "optimise.quotas.涧西区", "colour",
    ]
    for frag in expected_fragments:
        assert frag in text, f"{frag!r} not reported in:\n{text}"
    assert len(problems) >= len(expected_fragments)
    # each names the value and what was expected
    assert any("'huge'" in p and "special" in p for p in problems)
    assert any("'wgs99'" in p and "gcj02" in p for p in problems)


def test_not_a_mapping_and_bad_yaml(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("name: [unclosed", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(p)
    with pytest.raises(ScenarioError, match="expected a mapping"):
        parse_scenario(["a", "b"])
    with pytest.raises(ScenarioError, match="does not exist"):
        load_scenario(tmp_path / "nope.yaml")


def test_a_key_given_twice_is_refused_not_replaced(tmp_path):
    """A second stations: list (say, for the planned stations) silently replaced the first: the
    existing stations vanished from the run."""
    p = tmp_path / "twice.yaml"
    p.write_text("name: x\nnetwork: default\nstations:\n  - {id: a, at: {lon: 24.94, lat: 60.17}}\n"
                 "# planned\nstations:\n  - {id: b, at: {lon: 24.95, lat: 60.17}}\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"'stations' is given twice \(lines 3 and 6\)"):
        load_scenario(p)
    nested = tmp_path / "nested.yaml"  # inside a mapping too; the same key in two mappings is fine
    nested.write_text("name: x\nnetwork: default\nstandard: {travel_s: 240, travel_s: 300}\n"
                      "stations: [{id: a, at: {lon: 1, lat: 2}}, {id: b, at: {lon: 1, lat: 2}}]\n",
                      encoding="utf-8")
    with pytest.raises(ScenarioError, match="'travel_s' is given twice"):
        load_scenario(nested)


def test_yaml_merge_keys_still_work(tmp_path):
    """The duplicate-key check built the merge key << itself, which has no constructor: scenarios
    sharing station fields through an anchor failed to load. A key overriding a merged one is
    no duplicate."""
    p = tmp_path / "merge.yaml"
    p.write_text("name: x\nnetwork: default\n_small: &small {class: small, status: planned}\n"
                 "_extra: &extra {name: shared}\n"
                 "stations:\n  - <<: *small\n    id: a\n    at: {lon: 24.94, lat: 60.17}\n"
                 "  - <<: [*small, *extra]\n    status: existing\n    id: b\n    at: {lon: 24.95, lat: 60.17}\n",
                 encoding="utf-8")
    with pytest.raises(ScenarioError) as err:  # read; then the helper keys and the network are refused
        load_scenario(p)
    assert not any("YAML" in m for m in err.value.problems), err.value.problems
    assert any(m.startswith("_small:") for m in err.value.problems)
    import yaml

    from coverage.scenario import _UniqueKeyLoader
    data = yaml.load(p.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    assert data["stations"][0] == {"class": "small", "status": "planned", "id": "a", "at": {"lon": 24.94, "lat": 60.17}}
    assert data["stations"][1]["status"] == "existing" and data["stations"][1]["name"] == "shared"


def test_standard_class_budgets_and_caps():
    st = Standard(travel_s=240, class_travel_s={"small": 180})
    assert st.travel_for("small") == 180
    assert st.travel_for("class1") == 240
    assert st.cap_for("class1") == 7 and st.cap_for("class2") == 4 and st.cap_for("small") == 2
    assert Standard(suburban=True).cap_for("class1") == 15


def test_relative_paths_resolve_against_the_scenario(tmp_path):
    (tmp_path / "sub").mkdir()
    net = tmp_path / "sub" / "roads.osm"
    net.write_text("<osm></osm>", encoding="utf-8")
    p = tmp_path / "sub" / "s.yaml"
    p.write_text(yaml.safe_dump({"name": "x", "network": {"file": "roads.osm"}}), encoding="utf-8")
    sc = load_scenario(p)
    assert sc.network["source"] == str(net.resolve())


def test_public_interface_names():
    import coverage
    import coverage.isochrones  # noqa: F401  (must not shadow the function)
    from coverage.datum import bd09_to_wgs84, gcj02_to_wgs84, wgs84_to_bd09, wgs84_to_gcj02  # noqa: F401
    from coverage.optimise import max_cover, min_cover  # noqa: F401

    for name in ("load_network", "travel_times", "isochrones", "load_scenario", "resolve_crossing"):
        assert callable(getattr(coverage, name)), name


def test_optimise_new_and_classes_only_where_they_apply(tmp_path):
    base = {"name": "x", "network": {"default": "helsinki"}}

    def problems(opt):
        with pytest.raises(ScenarioError) as info:
            load_scenario(write(tmp_path, {**base, "optimise": opt}))
        return "\n".join(info.value.problems)

    # lscp finds the number of new stations itself: an explicit new is refused, like --new
    text = problems({"model": "lscp", "new": 2})
    assert "optimise.new" in text and "lscp" in text
    assert "optimise.classes" in problems({"model": "lscp", "classes": {"small": 2}})
    assert "optimise.classes" in problems({"model": "backup", "classes": {"small": 2}, "new": 2})
    assert "optimise.classes" in problems({"model": "pmedian", "classes": {"small": 1}})
    # fine: lscp without new; mclp classes set new implicitly
    assert load_scenario(write(tmp_path, {**base, "optimise": {"model": "lscp"}})).optimise.new is None
    sc = load_scenario(write(tmp_path, {**base, "optimise": {"classes": {"small": 2, "class1": 1}}}))
    assert sc.optimise.model == "mclp" and sc.optimise.new == 3


def _problems(tmp_path, data) -> str:
    with pytest.raises(ScenarioError) as info:
        load_scenario(write(tmp_path, {"name": "x", "network": {"default": "helsinki"}, **data}))
    return "\n".join(info.value.problems)


def test_review_mistakes_are_all_listed_not_dropped_or_crashing(tmp_path):
    text = _problems(tmp_path, {
        "network": {"default": "helsinki", "clip": 5, "retain_all": "false"},
        "standard": {"class_travel_s": ["small", 180], "caps_km2": "x", "suburban": "no"},
        "speeds": {"primry": 45, "use_maxspeed": "yes", "congestion": 0.8},
        "stations": [
            {"id": "lng", "at": {"lng": 121.482, "lat": 31.2368}},
            {"id": "null", "at": {"lon": 121.482, "lat": None}},
            {"id": "datun", "at": {"lon": 121.48, "lat": 31.23, "datun": "gcj02"}},
            {"id": "swap", "at": {"lon": 31.23, "lat": 121.48}},
            {"id": "xdatum", "at": {"crossing": ["a", "b"], "datum": "gcj02"}},
        ],
        "pois": {"osm": "maybe"},
    })
    for frag in ["network.clip",
                 "standard.class_travel_s: got ['small', 180]", "standard.caps_km2: got 'x'",
                 "standard.suburban: got 'no'", "speeds.primry", "did you mean 'primary'",
                 "speeds.use_maxspeed", "(lng).at.lng", "did you mean 'lon'", "(lng).at.lon: got None",
                 "(null).at.lat: got None", "(datun).at.datun", "did you mean 'datum'",
                 "lat 121.48 is out of range; lon and lat swapped?", "(xdatum).at.datum", "pois.osm"]:
        assert frag in text, f"{frag!r} not reported in:\n{text}"
    assert "network.retain_all" not in text  # the string 'false' is an explicit boolean


def test_network_unknown_keys_name_the_accepted_ones(tmp_path):
    # {place: 黄浦区, 上海市} in YAML flow style reads as {place: 黄浦区, 上海市: null}
    p = tmp_path / "s.yaml"
    p.write_text("name: x\nnetwork: {place: 黄浦区, 上海市}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(p)
    text = "\n".join(info.value.problems)
    assert "network.上海市" in text and "place: '黄浦区, 上海市'" in text and "clip_buffer_m" in text
    assert "network.clip" in _problems(tmp_path, {"network": {"default": "helsinki", "clip": 5}})


def test_booleans_datums_and_speed_keys(tmp_path):
    base = {"name": "x", "network": {"default": "helsinki", "retain_all": "false"},
            "standard": {"suburban": "true"},
            "speeds": {"use_maxspeed": False, "track": 15, "unknown_kmh": 20, "max_kmh": 70},
            "stations": [{"id": d, "at": {"lon": 121.48, "lat": 31.23, "datum": d}}
                         for d in ("GCJ 02", "bd09ll", "EPSG:4326", "WGS-84")]}
    sc = load_scenario(write(tmp_path, base))
    assert sc.network["retain_all"] is False and sc.standard.suburban is True
    assert sc.speeds["use_maxspeed"] is False and sc.speeds["track"] == 15
    assert [s.at.datum for s in sc.stations] == ["gcj02", "bd09", "wgs84", "wgs84"]
    from coverage.speeds import SpeedModel
    assert SpeedModel.from_options(dict(sc.speeds)).speeds_kmh["track"] == 15


def test_osm_layers_and_quotas_report_misspelt_keys(tmp_path):
    """With osm: true a file's keys (or a typo of a real key) were silently dropped, and a misspelt
    quota key silently removed the quota; each is now listed."""
    text = _problems(tmp_path, {
        "hydrants": {"osm": True, "exlude": ["tunnel"], "file": "hyd.csv"},
        "pois": {"osm": True, "fle": "x.geojson"},
        "stations_from_osm": {"clas": "small"},
        "optimise": {"new": 2, "quotas": {"West": {"minimum": 2}, "East": {"min": 1}},
                     "hazards": {"osm": True, "distance_m": 300}},
    })
    for frag in ["hydrants.exlude", "did you mean 'exclude'", "hydrants.file", "with osm: true",
                 "pois.fle", "stations_from_osm.clas", "did you mean 'class'",
                 "optimise.quotas.West.minimum", "keys min, max", "optimise.hazards.distance_m"]:
        assert frag in text, f"{frag!r} not reported in:\n{text}"
    assert "optimise.quotas.East" not in text


def test_a_folder_is_not_a_scenario(tmp_path):
    with pytest.raises(ScenarioError, match="is a folder"):
        load_scenario(tmp_path)


def test_demand_keys_of_another_demand_kind_are_reported(tmp_path):
    text = _problems(tmp_path, {"demand": {"kind": "roads", "weight_field": "pop", "cell_m": 100}})
    assert "demand.weight_field: got 'pop', expected no value: weight_field applies to demand kind " \
           "buildings or points only (this demand is roads)" in text
    assert "demand.cell_m" in text


BBOX_SCENARIOS = [p for p in SCENARIOS if "bbox" in (yaml.safe_load(p.read_text(encoding="utf-8")).get("network") or {})]


@pytest.mark.parametrize("path", BBOX_SCENARIOS, ids=[p.stem for p in BBOX_SCENARIOS])
def test_a_downloaded_network_covers_the_scenarios_study_area(path, shared_data):
    """A bbox download must hold the districts or area it is scored on (Luoyang's covered 67 %)."""
    import geopandas as gpd

    sc = load_scenario(path)
    assert sc.network.get("kind") == "bbox"
    w, s, e, n = sc.network["source"]["bbox"] if isinstance(sc.network["source"], dict) else sc.network["source"]
    for ref in (sc.area, sc.districts):
        if ref is None:
            continue
        g = gpd.read_file(ref.path)
        names = ref.options.get("names")
        if names:
            g = g[g[ref.options["name_field"]].astype(str).isin(names)]
        x0, y0, x1, y1 = g.to_crs(4326).total_bounds
        assert w <= x0 and s <= y0 and x1 <= e and y1 <= n, (path.name, (w, s, e, n), (x0, y0, x1, y1))


def test_district_codes_in_quotas_and_stations_are_read_as_the_districts_file_is():
    """The districts file's codes are made text without '.0'; quota keys and stated districts
    written 2.0 (or 310101.0) stayed '2.0' and matched no district."""
    sc = parse_scenario({"name": "x", "network": {"default": "helsinki"},
                         "stations": [{"id": "a", "district": 2.0, "at": {"lon": 24.94, "lat": 60.17}},
                                      {"id": "b", "district": 310101, "at": {"lon": 24.95, "lat": 60.17}}],
                         "optimise": {"new": 2, "quotas": {2.0: {"min": 1}, 310101: {"max": 1}, "西工区": {"min": 1}}}})
    assert [s.district for s in sc.stations] == ["2", "310101"]
    assert set(sc.optimise.quotas) == {"2", "310101", "西工区"}


def test_hydrant_proposals_for_the_spacing_are_a_scenario_option(tmp_path):
    base = {"name": "x", "network": {"default": "helsinki"}, "stations": [{"id": "a", "at": {"lon": 24.94, "lat": 60.17}}]}
    sc = parse_scenario({**base, "hydrants": {"osm": True, "propose_for": "spacing"}})
    assert sc.hydrants["propose_for"] == "spacing"
    assert parse_scenario({**base, "hydrants": {"osm": True}}).hydrants["propose_for"] == "protection"
    with pytest.raises(ScenarioError, match="hydrants.propose_for"):
        parse_scenario({**base, "hydrants": {"osm": True, "propose_for": "120m"}})


def test_wrong_types_that_are_falsy_or_collections_are_named():
    """A list as name_field crashed (unhashable); quotas: 0 and classes: '' were taken as none;
    signal_delay_s 600 passed here and failed later; crane_area_km2 .inf passed here too."""
    base = {"name": "x", "network": {"default": "helsinki"}, "stations": [{"id": "a", "at": {"lon": 24.94, "lat": 60.17}}]}
    with pytest.raises(ScenarioError) as err:
        parse_scenario({**base, "districts": {"file": "d.geojson", "name_field": ["name"]},
                        "area": {"file": "a.geojson", "name_field": {"x": 1}, "names": ["A"]},
                        "optimise": {"new": 1, "quotas": 0, "classes": ""},
                        "speeds": {"signal_delay_s": 600},
                        "hydrants": {"osm": True, "high_risk": {"file": "r.geojson"}, "crane_area_km2": float("inf")}})
    text = "\n".join(err.value.problems)
    for frag in ("districts.name_field: got ['name']", "area.name_field", "optimise.quotas: got 0",
                 "optimise.classes: got ''", "signal_delay_s: got 600, expected seconds in [0, 600)",
                 "hydrants.crane_area_km2: got inf"):
        assert frag in text, f"{frag!r} not in:\n{text}"


def test_class_caps_with_suburban_are_refused_not_silently_replaced(tmp_path):
    # suburban: true gives special/class1/class2 the suburban cap: a class1 cap beside it was
    # silently replaced by 15 km²; the small station's own cap and the suburban one still apply
    text = _problems(tmp_path, {"standard": {"suburban": True, "caps_km2": {"class1": 5, "class2": 3}}})
    assert "standard.caps_km2.class1: got 5" in text and "standard.caps_km2.class2: got 3" in text
    assert "set caps_km2.suburban" in text
    sc = load_scenario(write(tmp_path, {"name": "x", "network": {"default": "helsinki"},
                                        "standard": {"suburban": True, "caps_km2": {"suburban": 12, "small": 1.5}}}))
    assert sc.standard.cap_for("class1") == 12 and sc.standard.cap_for("small") == 1.5
    sc = load_scenario(write(tmp_path, {"name": "x", "network": {"default": "helsinki"},
                                        "standard": {"caps_km2": {"class1": 5}}}))
    assert sc.standard.cap_for("class1") == 5


def test_a_district_quota_given_twice_as_number_and_text_is_refused(tmp_path):
    # YAML keeps 2: and "2": apart; as district names both are "2", and one quota vanished
    p = tmp_path / "q.yaml"
    p.write_text('name: x\nnetwork: {default: helsinki}\noptimise:\n  quotas:\n    2: {min: 2}\n    "2": {max: 1}\n',
                 encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(p)
    text = "\n".join(info.value.problems)
    assert "'2' is given twice (2, '2')" in text


def test_new_stations_of_a_class_without_a_district_are_refused(tmp_path):
    text = _problems(tmp_path, {"optimise": {"model": "mclp", "class": "logistics", "classes": {"logistics": 1}}})
    assert "optimise.class: got 'logistics'" in text and "optimise.classes.logistics" in text


def test_a_logistics_station_cannot_be_required_or_excluded(tmp_path):
    text = _problems(tmp_path, {
        "stations": [{"id": "zq", "class": "logistics", "status": "planned", "at": {"lon": 24.94, "lat": 60.17}}],
        "optimise": {"model": "lscp", "required": ["zq"]}})
    assert "optimise.required: got 'zq'" in text and "'zq' is a logistics station: it covers no district" in text
