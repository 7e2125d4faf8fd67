"""Comparing two plans: metrics side by side, shares as percent, hydrant figures from scenarios."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from coverage.cli import main
from coverage.compare import compare_markdown, compare_summaries
from coverage.errors import InputError
from coverage.report import check_out_folder, write_report

REPO = Path(__file__).resolve().parent.parent


def test_shares_print_as_percent_and_differences_as_points():
    a = {"scenario": "A", "covered_share": 0.968, "response_s": {"p90": 210.0},
         "hydrants": {"shortfall_share": 0.826, "shortfall_share_min_placement": 0.493}}
    b = {"scenario": "B", "covered_share": 0.5472, "response_s": {"p90": 523.0},
         "hydrants": {"shortfall_share": 0.946}}
    table = compare_summaries(a, b)
    rows = {r["metric"]: r for r in table["metrics"]}
    assert rows["covered_share"]["better"] == "A"
    assert abs(rows["covered_share"]["b_minus_a"] - (0.5472 - 0.968)) < 1e-12
    md = compare_markdown(table)
    assert "| 96.8% | 54.7% | -42.1 pts | A |" in md
    assert "| 210 | 523 | +313 | A |" in md
    # both hydrant shortfalls, each named by its rule; B lacks the minimum placement
    assert "spacing rule" in md and "| 49.3% | – | – | – |" in md


def test_comparing_scenarios_includes_their_hydrant_figures(tmp_path):
    sc = str(REPO / "scenarios" / "helsinki.yaml")
    assert main(["--quiet", "compare", sc, sc, "--out", str(tmp_path)]) == 0
    table = json.loads((tmp_path / "compare.json").read_text(encoding="utf-8"))
    rows = {r["metric"]: r for r in table["metrics"]}
    assert rows["hydrants_protected_share"]["a"] is not None
    assert rows["hydrants_protected_share"]["b_minus_a"] == 0
    assert rows["hydrants_shortfall_share"]["a"] > 0


def test_unscored_sides_are_named_and_beyond_horizon_responses_kept():
    std = {"turnout_s": 60.0, "travel_s": 240.0}
    a = {"scenario": "plan A", "covered_share": 0.4, "horizon_s": 960.0, "standard": std,
         "response_s": {"p50": 300.0, "p90": None, "beyond_horizon_share": 0.2},
         "requirement": {"stations_required": 9, "new_needed_after_plan": 3}}
    b = {"scenario": "plan B", "horizon_s": 960.0, "standard": std,
         "optimise": {"new_sites": 2, "covered_share_after": 0.7}}
    table = compare_summaries(a, b)
    rows = {r["metric"]: r for r in table["metrics"]}
    assert rows["response_p90_s"]["a"] is None  # kept: beyond the horizon, not missing
    assert rows["stations_required"]["a"] == 9 and rows["optimise_new_sites"]["b"] == 2
    md = compare_markdown(table)
    assert "| Response p90 (s) 90%响应时间 | > 1,020 | – |" in md
    assert "B (plan B) holds no scoring results" in md and "A (plan A)" not in md
    assert "New stations still needed after the plan" in md
    assert "| Covered with the proposed sites 加建议站点后覆盖率 | – | 70.0% |" in md


def _summary(name, **changes):
    """A scored run's summary (the fields compare checks), with ``changes`` by dotted path."""
    s = {"scenario": name, "covered_share": 0.876, "horizon_s": 960.0,
         "response_s": {"p50": 163.0, "max_reached": 470.0, "beyond_horizon_share": 0.1},
         "standard": {"turnout_s": 60.0, "travel_s": 240.0, "response_s": 300.0,
                      "class_travel_s": {"small": 180.0},
                      "caps_km2": {"special": 7.0, "class1": 7.0, "class2": 4.0, "small": 2.0}},
         "district_land": {"land_km2": 12.9, "unreached_km2": 0.0, "beyond_km2": 0.0, "fill_m": None},
         "network": {"nodes": 589, "edges": 927, "road_km": 84.129, "crs": "EPSG:32651"},
         "speeds": {"speeds_kmh": {"primary": 45.0, "secondary": 40.0, "residential": 20.0, "service": 15.0},
                    "use_maxspeed": True, "max_kmh": 80.0, "maxspeed_class_factor": 1.5, "congestion": 0.8,
                    "signal_delay_s": 0.0, "unknown_kmh": None},
         "demand": {"kind": "roads", "units": 1684, "total_weight": 64723.956,
                    "excluded_roads": ["tunnel", "bridge", "motorway"]},
         "districts": [{"district": "西工区"}, {"district": "涧西区"}],
         "stations_over_cap": [],
         "hydrants": {"protected_share": 0.5, "radius_m": 150.0, "spacing_m": 120.0, "exclude": ["tunnel"],
                      "existing_in_spacing_rule": 12, "shortfall_share": 0.971}}
    for path, value in changes.items():
        *parents, key = path.split(".")
        d = s
        for k in parents:
            d = d[k]
        d[key] = value
    return s


def test_a_changed_standard_is_not_comparable_and_names_no_better_plan():
    """The reviewer's repro: only travel_s 240 -> 420, and B was called better."""
    a = _summary("strict")
    b = _summary("lax", **{"standard.travel_s": 420.0, "covered_share": 0.888})
    table = compare_summaries(a, b)
    assert table["comparable"] is False
    assert [(d["check"], d["field"], d["a"], d["b"]) for d in table["differences"]] == [
        ("standard", "travel_s", 240.0, 420.0)]
    rows = {r["metric"]: r for r in table["metrics"]}
    assert rows["covered_share"]["better"] is None and rows["covered_share"]["not_comparable"] == ["standard"]
    assert rows["covered_share"]["b_minus_a"] == pytest.approx(0.012)
    # hydrants do not depend on the fire standard
    assert rows["hydrants_protected_share"]["not_comparable"] == []
    md = compare_markdown(table)
    head = md.split("| metric")[0]  # prominent: before the table
    assert "Not comparable 不可比" in head
    assert "standards differ: travel budget 240 s (A) vs 420 s (B)" in head
    assert "| 87.6% | 88.8% | +1.2 pts | not comparable: standards differ |" in md
    # a class budget of its own, or the turnout, differs too
    table = compare_summaries(a, _summary("b", **{"standard.class_travel_s": {"small": 120.0},
                                                  "standard.turnout_s": 90.0}))
    assert {d["field"] for d in table["differences"]} == {"turnout_s", "class_travel_s.small"}
    assert "travel budget of class small 180 s (A) vs 120 s (B)" in compare_markdown(table)


def test_other_district_caps_or_district_measures_are_not_comparable():
    """Stations over their cap compare only under the same caps and the same measure of district
    land: plan A was called better with class-1 capped at 2 km² in B, and against a summary from
    before districts tiled the study area (250 m of a road)."""
    a = _summary("a")
    caps = {"special": 7.0, "class1": 2.0, "class2": 1.0, "small": 2.0}
    for change, text in (({"standard.caps_km2": caps, "stations_over_cap": ["x", "y"]},
                          "district cap of class class1 7 km² (A) vs 2 km² (B)"),
                         ({"district_land.fill_m": 250.0, "stations_over_cap": ["x", "y"]},
                          "district land over the whole study area (A) vs within 250 m of a road (B)")):
        table = compare_summaries(a, _summary("b", **change))
        rows = {r["metric"]: r for r in table["metrics"]}
        assert rows["stations_over_cap"]["better"] is None
        assert rows["stations_over_cap"]["not_comparable"] == ["caps"]
        assert rows["covered_share"]["not_comparable"] == []  # coverage does not depend on caps
        assert text in compare_markdown(table)


def test_hydrants_placed_for_other_rules_are_not_comparable():
    a = _summary("a", **{"hydrants.propose_for": "protection", "hydrants.shortfall_share_min_placement": 0.75})
    b = _summary("b", **{"hydrants.propose_for": "spacing", "hydrants.shortfall_share_min_placement": 0.889})
    table = compare_summaries(a, b)
    rows = {r["metric"]: r for r in table["metrics"]}
    assert rows["hydrants_shortfall_min_share"]["not_comparable"] == ["hydrant_placement"]
    assert rows["hydrants_shortfall_min_share"]["better"] is None
    # the protected share and the spacing-rule shortfall do not depend on the placement's rule
    assert rows["hydrants_protected_share"]["not_comparable"] == [] and table["comparable"] is True
    md = compare_markdown(table)
    assert "minimum placement for the protection (A) vs the spacing (B)" in md and "Not comparable" not in md
    # a summary from before propose_for existed placed for the protection
    del a["hydrants"]["propose_for"]
    old = compare_summaries(a, _summary("c", **{"hydrants.propose_for": "protection"}))
    assert not old["differences"] and not [u for u in old["unchecked"] if u["field"] == "propose_for"]


def test_district_land_beyond_the_road_extract_from_an_older_summary_does_not_compare():
    """The same plan: 0 stations over their cap now, 2 in a summary that gave the land beyond
    the road extract to the edge stations; A was called better."""
    a = _summary("a")
    b = _summary("b", **{"stations_over_cap": ["x", "y"]})
    del b["district_land"]["beyond_km2"]
    table = compare_summaries(a, b)
    rows = {r["metric"]: r for r in table["metrics"]}
    assert rows["stations_over_cap"]["not_comparable"] == ["caps"] and rows["stations_over_cap"]["better"] is None
    assert rows["covered_share"]["not_comparable"] == []
    assert "district land up to the road extract (A) vs beyond the road extract too (B)" in compare_markdown(table)


def test_a_spacing_rule_shortfall_from_before_it_counted_protecting_hydrants_does_not_compare():
    """Summaries before existing_in_spacing_rule set the spacing rule against every existing
    hydrant (Hsinchu 0.909 with 38) where now only those protecting a counted road count (0.971
    with 12): the same plan read as worse."""
    a = _summary("a")
    b = _summary("b", **{"hydrants.shortfall_share": 0.909})
    del b["hydrants"]["existing_in_spacing_rule"]
    table = compare_summaries(a, b)
    rows = {r["metric"]: r for r in table["metrics"]}
    assert rows["hydrants_shortfall_share"]["not_comparable"] == ["hydrant_counting"]
    assert rows["hydrants_shortfall_share"]["better"] is None
    assert rows["hydrants_protected_share"]["not_comparable"] == [] and table["comparable"] is True
    assert "spacing-rule shortfall set against the existing hydrants protecting a counted road (A) vs all " \
           "existing hydrants (B)" in compare_markdown(table)


def test_other_study_areas_and_demand_are_not_comparable():
    a = _summary("Hsinchu")
    net = {"nodes": 372, "edges": 692, "road_km": 29.493, "crs": "EPSG:32635"}
    b = _summary("Helsinki", **{"network": net, "demand.units": 714, "demand.total_weight": 24842.665,
                                "districts": [], "covered_share": 0.967})
    table = compare_summaries(a, b)
    assert not table["comparable"]
    assert {(d["check"], d["field"]) for d in table["differences"]} == {
        ("area", "network"), ("area", "districts"), ("demand", "units"), ("demand", "total_weight")}
    rows = {r["metric"]: r for r in table["metrics"]}
    assert rows["covered_share"]["not_comparable"] == ["area", "demand"]
    assert rows["hydrants_protected_share"]["not_comparable"] == ["area"]
    assert all(r["better"] is None for r in table["metrics"])
    md = compare_markdown(table)
    assert "total demand 64,723.956 (A) vs 24,842.665 (B)" in md and "372 nodes, 692 edges" in md
    assert "| not comparable: study areas differ, demand differs |" in md
    # the same demand total, rounded in summary.json: comparable, and a better plan is named
    same = compare_summaries(a, _summary("B", **{"demand.total_weight": 64723.9564, "covered_share": 0.9}))
    assert same["comparable"] and same["differences"] == []
    assert next(r for r in same["metrics"] if r["metric"] == "covered_share")["better"] == "B"
    assert "Not comparable" not in compare_markdown(same)


def test_summaries_without_the_fields_still_compare_as_unknown():
    a = {"scenario": "old", "covered_share": 0.5}
    b = _summary("new", covered_share=0.6)
    table = compare_summaries(a, b)
    assert table["comparable"] and table["differences"] == []
    assert {"check": "standard", "field": "standard", "missing": ["A"]} in table["unchecked"]
    assert next(r for r in table["metrics"] if r["metric"] == "covered_share")["better"] == "B"
    md = compare_markdown(table)
    assert "Not checked 未核对: the standard, the road network, the road speeds, the demand (A lacks them)" in md


def test_other_road_speeds_are_not_comparable_and_name_no_better_plan():
    """The reviewers' repro: only the congestion factor differs (0.8 vs 0.5), and coverage 84.1% vs
    57.2% called A better on every row."""
    a = _summary("free", covered_share=0.841, **{"response_s.p50": 150.0})
    b = _summary("jammed", **{"speeds.congestion": 0.5, "covered_share": 0.572, "response_s.p50": 240.0})
    table = compare_summaries(a, b)
    assert table["comparable"] is False
    assert [(d["check"], d["field"], d["a"], d["b"]) for d in table["differences"]] == [
        ("speeds", "congestion", 0.8, 0.5)]
    rows = {r["metric"]: r for r in table["metrics"]}
    for key in ("covered_share", "response_p50_s", "response_max_reached_s", "beyond_horizon_share",
                "stations_over_cap"):  # network districts follow travel times too
        assert rows[key]["better"] is None and "speeds" in rows[key]["not_comparable"], key
    assert rows["hydrants_protected_share"]["not_comparable"] == []  # along roads, by length
    md = compare_markdown(table)
    head = md.split("| metric")[0]
    assert "Not comparable 不可比" in head and "road speeds differ: congestion factor 0.8 (A) vs 0.5 (B)" in head
    assert "| 84.1% | 57.2% | -26.9 pts | not comparable: road speeds differ |" in md
    # each class's speed and the other options name their values and units
    table = compare_summaries(a, _summary("b", **{
        "speeds.speeds_kmh": {"primary": 30.0, "secondary": 40.0, "residential": 20.0, "track": 10.0},
        "speeds.signal_delay_s": 15.0, "speeds.use_maxspeed": False, "speeds.unknown_kmh": 25.0}))
    assert {d["field"] for d in table["differences"]} == {
        "speeds_kmh.primary", "speeds_kmh.service", "speeds_kmh.track", "signal_delay_s", "use_maxspeed",
        "unknown_kmh"}
    md = compare_markdown(table)
    for text in ("speed of class primary 45 km/h (A) vs 30 km/h (B)", "speed of class track none (A) vs 10 km/h (B)",
                 "signal delay 0 s (A) vs 15 s (B)", "OSM maxspeed used: yes (A) vs no (B)",
                 "roads of unknown classes dropped (A) vs at 25 km/h (B)"):
        assert f"road speeds differ: {text}" in md


def test_the_same_road_speeds_compare_as_before():
    a = _summary("a")
    b = _summary("b", **{"covered_share": 0.9, "speeds.max_kmh": 80.0004})  # rounding only
    table = compare_summaries(a, b)
    assert table["comparable"] is True and table["differences"] == []
    assert not [u for u in table["unchecked"] if u["check"] == "speeds"]
    assert next(r for r in table["metrics"] if r["metric"] == "covered_share")["better"] == "B"
    assert "Not comparable" not in compare_markdown(table)


def test_a_summary_from_before_the_road_speeds_were_written_leaves_them_not_checked():
    old = _summary("old", covered_share=0.5)
    del old["speeds"]
    table = compare_summaries(old, _summary("new", covered_share=0.6))
    assert table["comparable"] is True and table["differences"] == []
    assert [u for u in table["unchecked"] if u["check"] == "speeds"] == [
        {"check": "speeds", "field": "speeds", "missing": ["A"]}]
    assert next(r for r in table["metrics"] if r["metric"] == "covered_share")["better"] == "B"
    assert "Not checked 未核对: the road speeds (A lacks it)" in compare_markdown(table)


def test_the_summary_records_every_field_of_the_speed_model():
    from dataclasses import fields

    from coverage.pipeline import speed_summary
    from coverage.speeds import DEFAULT_SPEEDS_KMH, SpeedModel

    s = speed_summary(SpeedModel(speeds_kmh={"primary": 50}, congestion=0.5, signal_delay_s=10))
    assert set(s) == {f.name for f in fields(SpeedModel)}
    assert json.loads(json.dumps(s)) == s  # JSON as it is
    assert s["speeds_kmh"] == {**DEFAULT_SPEEDS_KMH, "primary": 50.0} and list(s["speeds_kmh"]) == sorted(s["speeds_kmh"])
    assert (s["congestion"], s["signal_delay_s"], s["unknown_kmh"], s["use_maxspeed"]) == (0.5, 10.0, None, True)


def test_comparing_scenarios_with_other_road_speeds_says_so(tmp_path, capsys):
    """End to end: the same scenario with congestion 0.5 is not comparable; the default speeds
    given explicitly are the same speeds."""
    import yaml

    data = yaml.safe_load((REPO / "scenarios" / "helsinki.yaml").read_text(encoding="utf-8"))
    data.pop("hydrants")
    files = {}
    for name, speeds in (("free", None), ("explicit", {"primary": 45, "congestion": 1}),
                         ("jammed", {"congestion": 0.5})):
        data.pop("speeds", None)
        if speeds:
            data["speeds"] = speeds
        files[name] = tmp_path / f"{name}.yaml"
        files[name].write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert main(["--quiet", "compare", str(files["free"]), str(files["jammed"]), "--out", str(tmp_path / "cmp")]) == 0
    assert "road speeds differ: congestion factor 1 (A) vs 0.5 (B)" in capsys.readouterr().out
    table = json.loads((tmp_path / "cmp" / "compare.json").read_text(encoding="utf-8"))
    assert table["comparable"] is False
    assert [(d["field"], d["a"], d["b"]) for d in table["differences"]] == [("congestion", 1.0, 0.5)]
    assert all(r["better"] is None for r in table["metrics"] if r["metric"] != "stations")
    assert main(["--quiet", "compare", str(files["free"]), str(files["explicit"])]) == 0
    out = capsys.readouterr().out
    assert "Not comparable" not in out and "Not checked" not in out


def test_comparing_scenarios_with_other_standards_says_so(tmp_path, capsys):
    import yaml

    data = yaml.safe_load((REPO / "scenarios" / "helsinki.yaml").read_text(encoding="utf-8"))
    data.pop("hydrants")
    strict, lax = tmp_path / "strict.yaml", tmp_path / "lax.yaml"
    strict.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    data["standard"]["travel_s"] = 420
    lax.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert main(["--quiet", "compare", str(strict), str(lax), "--out", str(tmp_path / "cmp")]) == 0
    out = capsys.readouterr().out
    assert "Not comparable 不可比" in out and "travel budget 240 s (A) vs 420 s (B)" in out
    table = json.loads((tmp_path / "cmp" / "compare.json").read_text(encoding="utf-8"))
    assert table["comparable"] is False and table["differences"][0]["field"] == "travel_s"
    assert next(r for r in table["metrics"] if r["metric"] == "covered_share")["better"] is None


def _report(folder: Path, name: str, share: float) -> Path:
    write_report(folder, summary={"scenario": name, "covered_share": share})
    return folder


def test_a_run_into_a_folder_compare_wrote_into_is_refused_for_the_right_reason(tmp_path):
    """A run into a report folder that compare --out wrote into was refused as holding files
    'covplan did not write'; it is still refused (it would delete the comparison, which the README
    promises never to do), now saying so. compare itself may write there again."""
    a = _report(tmp_path / "a", "A", 0.5)
    b = _report(tmp_path / "b", "B", 0.6)
    assert main(["--quiet", "compare", str(a), str(b), "--out", str(a)]) == 0
    assert {"compare.json", "compare.md"} <= {p.name for p in a.iterdir()}
    for folder in (a, tmp_path / "new", tmp_path / "old"):
        if folder.name == "old":  # a report from before the manifest
            folder.mkdir()
            (folder / "summary.json").write_text("{}", encoding="utf-8")
            (folder / "summary.md").write_text("", encoding="utf-8")
        assert main(["--quiet", "compare", str(a), str(b), "--out", str(folder)]) == 0
        check_out_folder(folder, command="compare")  # compare again: fine
        with pytest.raises(InputError, match="holds a comparison .* that a run would delete"):
            check_out_folder(folder)  # what `covplan run ... --out folder` checks first
    assert (a / "compare.json").exists()
    # a file covplan did not write still makes the folder no report: the run is refused
    (a / "notes.md").write_text("mine", encoding="utf-8")
    assert main(["--quiet", "compare", str(a), str(b), "--out", str(b)]) == 0
    (b / "budget.csv").write_text("mine", encoding="utf-8")
    for out, mine in ((a, "notes.md"), (b, "budget.csv")):
        with pytest.raises(InputError, match=f"it holds {mine}, which covplan did not write"):
            check_out_folder(out)


def test_district_land_of_another_extent_does_not_compare():
    """Two extracts stating other bounds around the same roads (or a summary from when the
    extent was the stated bounds alone): 12.89 vs 7.36 km² of district land, 2 vs 0 stations over
    their cap, and B was called better."""
    a = _summary("a", **{"stations_over_cap": ["x", "y"], "district_land.land_km2": 12.89})
    b = _summary("b", **{"district_land.land_km2": 7.36})
    table = compare_summaries(a, b)
    rows = {r["metric"]: r for r in table["metrics"]}
    assert rows["stations_over_cap"]["not_comparable"] == ["caps"] and rows["stations_over_cap"]["better"] is None
    assert "district land 12.89 km² (A) vs 7.36 km² (B)" in compare_markdown(table)
    same = compare_summaries(_summary("a"), _summary("b", **{"district_land.land_km2": 12.9004}))
    assert same["comparable"] is True
