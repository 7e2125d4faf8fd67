"""Report folders: contents, atomic replacement, JSON conversion and the Markdown summary."""
from __future__ import annotations

import json
import os

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import LineString, Point

from coverage.errors import DataError, InputError
from coverage.report import (
    check_out_folder,
    markdown_summary,
    write_json_atomic,
    write_report,
    write_text_atomic,
)


def _layers():
    stations = gpd.GeoDataFrame(
        {"id": ["s1", "s2"], "name": ["小白楼消防救援站", "Station 2"], "class": ["small", "class1"]},
        geometry=[Point(117.20, 39.12), Point(117.21, 39.13)],
        crs=4326,
    )
    roads = gpd.GeoDataFrame(
        {"seconds": [12.5, 40.0]},
        geometry=[LineString([(0, 0), (100, 0)]), LineString([(100, 0), (100, 250)])],
        crs=32650,
    )
    return {"stations": stations, "uncovered": roads}


def _summary():
    return {
        "name": "和平区 14th FYP",
        "standard": {"turnout_s": 60, "travel_s": 240},
        "covered_share": np.float64(0.8734),
        "response_s": {"p50": np.float32(151.0), "p90": np.int64(280), "max": 402.2},
        "stations": [
            {"id": "s1", "name": "小白楼", "class": "small", "status": "planned",
             "district_km2": np.float64(2.6), "cap_km2": 2.0, "over_cap": np.bool_(True)},
            {"id": "s2", "name": "五大道", "class": "class1", "status": "existing",
             "district_km2": 5.1, "cap_km2": 7.0, "over_cap": False},
        ],
        "stations_required": 52,
        "stations_existing": 34,
        "hydrants": {"required": 5667, "existing": 3957},
        "nan_value": float("nan"),
        "array": np.arange(3),
    }


def test_report_folder_holds_every_layer_table_and_summary(tmp_path):
    out = tmp_path / "run"
    table = pd.DataFrame({"id": ["s1", "s2"], "area_km2": [1.5, 3.25], "名称": ["甲", "乙"]})
    write_report(out, layers=_layers(), tables={"stations": table}, summary=_summary(),
                 extra_files={"map.html": "<html>地图</html>", "raw.bin": b"\x00\x01"})

    names = sorted(p.name for p in out.iterdir())
    assert names == [".covplan-report", "layers.gpkg", "map.html", "raw.bin", "stations.csv",
                     "summary.json", "summary.md"]
    # leftovers from the temporary build folder must be gone
    assert [p.name for p in tmp_path.iterdir()] == ["run"]

    listed = {row[0] for row in pyogrio.list_layers(out / "layers.gpkg")}
    assert listed == {"stations", "uncovered"}
    st = gpd.read_file(out / "layers.gpkg", layer="stations")
    assert st.crs.to_epsg() == 4326
    assert list(st["name"]) == ["小白楼消防救援站", "Station 2"]
    assert st.geometry.iloc[0].equals(Point(117.20, 39.12))
    un = gpd.read_file(out / "layers.gpkg", layer="uncovered")
    assert un.crs.to_epsg() == 32650
    assert un.geometry.length.sum() == pytest.approx(350.0)

    back = pd.read_csv(out / "stations.csv", encoding="utf-8-sig")
    pd.testing.assert_frame_equal(back, table)

    raw = (out / "summary.json").read_bytes().decode("utf-8")
    assert "和平区" in raw  # ensure_ascii=False
    data = json.loads(raw)
    assert data["covered_share"] == pytest.approx(0.8734)
    assert data["response_s"] == {"p50": 151.0, "p90": 280, "max": 402.2}
    assert data["stations"][0]["over_cap"] is True
    assert data["nan_value"] is None
    assert data["array"] == [0, 1, 2]
    assert (out / "map.html").read_text(encoding="utf-8") == "<html>地图</html>"
    assert (out / "raw.bin").read_bytes() == b"\x00\x01"
    assert "# 和平区 14th FYP" in (out / "summary.md").read_text(encoding="utf-8")


def test_failed_write_leaves_previous_report_untouched(tmp_path):
    out = tmp_path / "run"
    write_report(out, layers=_layers(), tables={"t": pd.DataFrame({"a": [1]})}, summary={"covered_share": 0.5})
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    # columns "A" and "a" clash in a GeoPackage (field names are case-insensitive): GDAL refuses
    bad = gpd.GeoDataFrame({"A": [1], "a": [2]}, geometry=[Point(0, 0)], crs=4326)
    with pytest.raises(DataError, match="'bad' could not be written"):
        write_report(out, layers={"ok": _layers()["stations"], "bad": bad}, summary={"covered_share": 0.9})

    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # temp folder cleaned up


def test_failure_while_swapping_rolls_back(tmp_path, monkeypatch):
    out = tmp_path / "run"
    write_report(out, summary={"covered_share": 0.25})
    old = (out / "summary.json").read_text(encoding="utf-8")

    real_rename = os.rename
    calls = []

    def flaky_rename(src, dst):
        calls.append((str(src), str(dst)))
        if len(calls) == 2:  # the new folder moving into place
            raise OSError("disk gone")
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", flaky_rename)
    with pytest.raises(OSError, match="disk gone"):
        write_report(out, summary={"covered_share": 0.75})
    monkeypatch.undo()
    assert (out / "summary.json").read_text(encoding="utf-8") == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_report_replaces_old_files_completely(tmp_path):
    out = tmp_path / "run"
    write_report(out, tables={"old": pd.DataFrame({"a": [1]})}, summary={},
                 extra_files={"map.html": "<html/>", "hydrants.json": "{}"})
    write_report(out, tables={"new": pd.DataFrame({"b": [2]})}, summary={})
    assert sorted(p.name for p in out.iterdir()) == [".covplan-report", "new.csv", "summary.json",
                                                     "summary.md"]


def test_a_folder_covplan_did_not_write_is_never_replaced(tmp_path):
    """Replacing deletes the old folder: a scenario or notes kept in --out would be lost."""
    out = tmp_path / "work"
    out.mkdir()
    (out / "helsinki.yaml").write_text("name: x\n", encoding="utf-8")
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match=r"'.*work' is not a covplan report folder \(it holds "
                                         r"helsinki.yaml, notes.txt, which.*new or empty folder"):
        write_report(out, summary={"covered_share": 0.5})
    assert sorted(p.name for p in out.iterdir()) == ["helsinki.yaml", "notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["work"]  # no temporary folder left
    # an empty folder, and a report from before the marker existed, are replaced
    empty = tmp_path / "empty"
    empty.mkdir()
    write_report(empty, summary={})
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    for name in ("summary.json", "summary.md", "stations.csv", "layers.gpkg", "map.html"):
        (legacy / name).write_text("{}", encoding="utf-8")
    write_report(legacy, summary={})
    assert sorted(p.name for p in legacy.iterdir()) == [".covplan-report", "summary.json", "summary.md"]
    # nor a report folder someone has since put their own files in
    (legacy / "data").mkdir()
    (legacy / "plan.docx").write_bytes(b"x")
    with pytest.raises(InputError, match=r"holds data, plan.docx, which"):
        write_report(legacy, summary={})
    assert (legacy / "plan.docx").exists()


def test_a_folder_of_report_like_files_is_replaced_only_when_every_name_is_covplans(tmp_path):
    """An old report (no manifest) is recognised by covplan's own file names, not by suffixes: a
    summary.json beside the user's notes.md and budget.csv must not make the folder replaceable."""
    out = tmp_path / "d"
    out.mkdir()
    mine = {"summary.json": "{}", "notes.md": "notes", "budget.csv": "a,b"}
    for name, text in mine.items():
        (out / name).write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match=r"'.*d' is not a covplan report folder \(it holds "
                                         r"budget.csv, notes.md, which covplan did not write"):
        write_report(out, summary={"covered_share": 0.5})
    assert {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()} == mine
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]
    # covplan's own report file names only: an old report is replaced
    old = tmp_path / "report"
    old.mkdir()
    for f in ("summary.json", "summary.md", "demand.csv", "proposed.csv", "districts.csv", "hydrants.json"):
        (old / f).write_text("{}", encoding="utf-8")
    write_report(old, summary={})
    assert sorted(p.name for p in old.iterdir()) == [".covplan-report", "summary.json", "summary.md"]
    # a stations.csv alone (no summary.json) may be the user's own data
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "stations.csv").write_text("id,lon,lat", encoding="utf-8")
    with pytest.raises(InputError, match=r"it holds stations.csv, which"):
        check_out_folder(tmp_path / "data")
    # compare may write into a report folder or over an earlier comparison; a run then keeps the
    # comparison (refused), and a lone compare.md may be the user's own notes
    check_out_folder(old, command="compare")
    for f in ("compare.json", "compare.md"):
        (old / f).write_text("{}", encoding="utf-8")
    check_out_folder(old, command="compare")
    with pytest.raises(InputError, match=r"it holds compare.json, compare.md, which"):
        check_out_folder(old)
    cmp_only = tmp_path / "cmp"
    cmp_only.mkdir()
    (cmp_only / "compare.md").write_text("my notes", encoding="utf-8")
    with pytest.raises(InputError, match=r"it holds compare.md, which.*compare writes compare.json"):
        check_out_folder(cmp_only, command="compare")
    (cmp_only / "compare.json").write_text("{}", encoding="utf-8")
    check_out_folder(cmp_only, command="compare")


def test_out_that_is_a_file_is_refused(tmp_path):
    f = tmp_path / "somefile"
    f.write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match=r"--out '.*somefile' exists and is not a folder: expected a "
                                         r"folder .*somefile-report"):
        check_out_folder(f)
    with pytest.raises(InputError, match=r"--out '.*somefile.sub' lies inside '.*somefile', which is "
                                         r"a file"):
        check_out_folder(f / "sub")
    with pytest.raises(InputError, match="expected a folder"):
        check_out_folder(f, command="compare")
    assert f.read_text(encoding="utf-8") == "mine"
    check_out_folder(tmp_path / "new" / "deeper")  # a new folder is fine


def test_bad_names_and_types_are_rejected(tmp_path):
    with pytest.raises(InputError, match="not a plain file name"):
        write_report(tmp_path / "r", tables={"../evil": pd.DataFrame()}, summary={})
    with pytest.raises(InputError, match="expected a GeoDataFrame"):
        write_report(tmp_path / "r", layers={"x": pd.DataFrame({"a": [1]})}, summary={})
    with pytest.raises(InputError, match="clash"):
        write_report(tmp_path / "r", summary={}, extra_files={"summary.json": "{}"})
    with pytest.raises(DataError, match="does not exist"):
        write_report(tmp_path / "missing" / "r", summary={})
    with pytest.raises(InputError, match="cannot be written as JSON"):
        write_report(tmp_path / "r", summary={"x": object()})
    assert not (tmp_path / "r").exists()


def test_atomic_helpers(tmp_path):
    p = tmp_path / "a.json"
    write_json_atomic(p, {"share": np.float32(0.5), "名": "值", "n": np.int32(3)})
    assert json.loads(p.read_text(encoding="utf-8")) == {"share": 0.5, "名": "值", "n": 3}
    assert "名" in p.read_text(encoding="utf-8")
    write_text_atomic(p, "replaced")
    assert p.read_text() == "replaced"
    assert [x.name for x in tmp_path.iterdir()] == ["a.json"]
    with pytest.raises(DataError):
        write_text_atomic(tmp_path / "nope" / "x.txt", "x")


def test_markdown_summary_in_plan_terms():
    md = markdown_summary(_summary())
    assert "## 覆盖 Coverage" in md
    assert "reached within the standard (60 s turnout + 240 s drive): **87.3%**" in md
    assert "min" not in md.split("## 消防站")[0]
    assert "p50 151 s" in md and "p90 280 s" in md
    assert "over their district cap: **1**" in md
    # Luoyang's plan: 52 stations required, 34 exist; 5,667 hydrants required, 3,957 exist (30.2% short)
    assert "required 52, 现有 existing 34, 缺口 short 18 (34.6%)" in md
    assert "required 5,667, 现有 existing 3,957, 缺口 short 1,710 (30.2%)" in md
    assert "| s1 | 小白楼 | small | planned | 2.60 | 2.0 | 是 yes |" in md


def test_markdown_summary_tolerates_missing_sections():
    md = markdown_summary({})
    assert md.startswith("# Coverage report")
    assert "##" not in md
    md = markdown_summary({"covered_share": 0.5, "standard": {"turnout_s": 60, "travel_s": 420}})
    assert "reached within the standard (60 s turnout + 420 s drive): **50.0%**" in md
    assert "Stations" not in md and "Required" not in md
    md = markdown_summary({"hydrants": {"existing": 916}})
    assert "916 existing" in md
    # a name holding a pipe must not break the table
    md = markdown_summary({"stations": [{"id": "a|b", "over_cap": False}]})
    assert "a\\|b" in md


def _coverage_section(md: str) -> str:
    return md.split("## 覆盖 Coverage")[1].split("\n## ")[0]


def test_markdown_names_the_standard_covered_share_is_measured_against():
    s = {
        "covered_share": 0.869,
        "standard": {"turnout_s": 60.0, "travel_s": 240.0, "response_s": 300.0,
                     "class_travel_s": {"small": 120.0, "class2": 200.0}},
        "stations": [{"id": "a", "class": "class1", "status": "existing", "scored": True},
                     {"id": "b", "class": "small", "status": "planned", "scored": True},
                     {"id": "c", "class": "class2", "status": "candidate", "scored": False}],
    }
    std = s["standard"]
    t, d, small = std["turnout_s"], std["travel_s"], std["class_travel_s"]["small"]
    sec = _coverage_section(markdown_summary(s))
    # what the share is: each class's own budget, not "within 5 min" (turnout + travel_s)
    assert (f"reached within the standard ({t:.0f} s turnout + {d:.0f} s drive; small stations "
            f"{small:.0f} s drive): **{100 * s['covered_share']:.1f}%**") in sec
    assert f"small 类站 stations: {t:.0f} s + {small:.0f} s = {t + small:.0f} s" in sec
    assert " min" not in sec and "分钟" not in sec
    # a class budget no scored station uses is not named
    assert "class2" not in sec


def test_markdown_response_times_beyond_the_horizon_are_consistent():
    horizon, turnout = 960.0, 60.0
    rs = {"p50": 203.2, "p90": None, "max": None, "mean": None, "mean_reached": 198.8,
          "max_reached": 572.0, "beyond_horizon_share": 0.152345}
    s = {"covered_share": 0.732, "horizon_s": horizon, "response_s": rs,
         "standard": {"turnout_s": turnout, "travel_s": 240.0}}
    sec = _coverage_section(markdown_summary(s))
    limit = f"> {turnout + horizon:,.0f} s"  # a response time: turnout + the drive horizon
    assert f"p50 {rs['p50']:.0f} s" in sec
    assert f"p90 {limit}" in sec and f"max {limit}" in sec
    assert f"drive > {horizon:,.0f} s" in sec
    assert f"{100 * rs['beyond_horizon_share']:.1f}% of demand" in sec  # 15.2%, not 15.0%
    # the reached-only figures are labelled as such and are not on the response-time line
    line = next(l for l in sec.splitlines() if "response time" in l)
    assert f"{rs['max_reached']:.0f}" not in line and "mean" not in line
    only = next(l for l in sec.splitlines() if "reached demand only" in l)
    assert f"({100 * (1 - rs['beyond_horizon_share']):.1f}%)" in only
    assert f"mean {rs['mean_reached']:.0f} s" in only and f"max {rs['max_reached']:.0f} s" in only
    # an older summary whose max was of the reached demand only: still not printed as the max
    old = {**s, "response_s": {"p50": 203.2, "p90": None, "max": 572.0, "beyond_horizon_share": 0.15}}
    line = next(l for l in _coverage_section(markdown_summary(old)).splitlines() if "response time" in l)
    assert f"max {limit}" in line and "572" not in line


def test_markdown_response_times_all_reached():
    rs = {"p50": 151.0, "p90": 280.0, "max": 402.2, "mean": 160.4, "mean_reached": 160.4,
          "max_reached": 402.2, "beyond_horizon_share": 0.0}
    sec = _coverage_section(markdown_summary({"response_s": rs, "horizon_s": 960.0,
                                              "standard": {"turnout_s": 60, "travel_s": 240}}))
    for k in ("p50", "p90", "mean", "max"):
        assert f"{k} {rs[k]:.0f} s" in sec
    assert "horizon" not in sec and "reached demand only" not in sec


def test_one_line_says_the_standard_and_response_beyond_horizon():
    from coverage.outputs import Outputs, one_line

    s = {"scenario": "x", "covered_share": 0.5, "horizon_s": 960.0,
         "response_s": {"p50": 200.0, "p90": None},
         "standard": {"turnout_s": 60.0, "travel_s": 240.0, "class_travel_s": {"small": 120.0}},
         "stations": [{"class": "small", "scored": True}]}
    text = one_line(Outputs(summary=s))
    assert "reached within the standard (60 s turnout + 240 s drive; small stations 120 s drive): 50.0%" in text
    assert f"p90 response > {60 + 960:.0f} s" in text and "min" not in text


def test_markdown_says_which_roads_were_left_out():
    s = {"scenario": "x", "covered_share": 0.5,
         "demand": {"kind": "roads", "excluded_km": {"tunnel": 4.5387, "motorway": 0.0}},
         "hydrants": {"existing": 3, "protected_share": 0.2,
                      "excluded_km_by_kind": {"tunnel": 0.29, "motorway": 10.97}}}
    md = markdown_summary(s)
    demand_line = next(line for line in md.splitlines() if "left out of demand" in line)
    assert "tunnels 4.5 km" in demand_line and "motorway" not in demand_line  # 0 km is not listed
    hyd_line = next(line for line in md.splitlines() if "left out of the hydrant counts" in line)
    assert "tunnels 0.3 km" in hyd_line and "motorways 11.0 km" in hyd_line
    assert "left out" not in markdown_summary({"scenario": "x", "covered_share": 0.5,
                                               "demand": {"excluded_km": {}}})


def test_markdown_escapes_names_and_explains_the_optimiser_baseline():
    s = {"scenario": "<img src=x onerror=alert(1)> plan", "covered_share": 0.968,
         "optimise": {"model": "mclp", "status": "optimal", "gap": 0.0, "new_sites": 1,
                      "covered_share_before": 0.966, "covered_share_after": 0.970,
                      "covered_share_plan": 0.968, "planned_selected": [],
                      "sites": [{"rank": 1, "label": "a<b>", "kind": "planned", "district": None,
                                 "adds_share": 0.004, "adds_km2": 0.01}]}}
    md = markdown_summary(s)
    assert "<img" not in md and "&lt;img src=x onerror=alert(1)&gt; plan" in md.splitlines()[0]
    assert "a&lt;b&gt; [规划 planned]: +0.4% demand" in md
    assert "existing stations 96.6% → with the proposed sites 97.0%" in md
    assert "planned stations the optimum keeps: none" in md
    assert "(-)" not in md  # no empty district placeholder


def test_markdown_counts_hydrants_that_were_not_used():
    md = markdown_summary({"scenario": "x", "hydrants": {"existing": 38, "unsnapped": 1, "duplicates": 2}})
    assert "hydrants in the data not counted: 1" in md and "duplicate hydrants counted once: 2" in md
    assert "not counted" not in markdown_summary({"scenario": "x", "hydrants": {"existing": 38, "unsnapped": 0}})


def test_markdown_reports_candidates_siting_warnings_and_idle_sites():
    opt = {"model": "mclp", "status": "optimal", "gap": 0.0, "new_sites": 3, "candidates": 33,
           "candidates_removed": {"siting_rules": 2, "off_main_network": 11, "spacing": 0},
           "siting_warnings": [{"station": "hakaniemi", "rule": "hazard", "distance_m": 30.4, "min_m": 200}],
           "dropped_candidates": [{"label": "user:1", "reason": "off the main network"}],
           "sites_adding_nothing_note": "1 of the 3 proposed sites add nothing"}
    md = markdown_summary({"scenario": "x", "optimise": opt})
    assert "candidate sites: 33 (left out: siting rules 2, off main network 11)" in md
    assert "planned station hakaniemi is 30 m from a hazard (GB 51080 asks >= 200 m)" in md
    assert "candidate not used: user:1: off the main network" in md
    assert "sites adding nothing: 1 of the 3" in md


def test_markdown_lists_every_district():
    s = {"scenario": "x", "districts": [
        {"district": "西区 West", "demand": 10.0, "covered_share_existing": 0.649, "covered_share_plan": 0.655,
         "stations_existing": 0, "stations_planned": 1, "response_p90_s": None, "beyond_horizon_share": 0.177},
        {"district": "南区 South", "demand": 0.0, "covered_share_existing": None, "covered_share_plan": None,
         "stations_existing": 0, "stations_planned": 0, "response_p90_s": None, "beyond_horizon_share": None}]}
    md = markdown_summary(s)
    assert "| 西区 West | 64.9% | 65.5% | 0 | 1 | beyond the horizon | 17.7% |" in md
    assert "| 南区 South | no demand | – | 0 | 0 | – | – |" in md


def test_markdown_says_which_plan_sites_compete_and_which_are_forced():
    base = {"model": "mclp", "status": "optimal", "gap": 0.0, "new_sites": 1,
            "covered_share_before": 0.5, "covered_share_after": 0.6}
    none = markdown_summary({"optimise": {**base, "planned_candidates": 0, "candidate_stations": 0}})
    assert "compete as candidates" not in none and "required" not in none
    some = markdown_summary({"optimise": {**base, "planned_candidates": 2, "candidate_stations": 1,
                                          "required": ["kamppi"], "excluded": ["hakaniemi"]}})
    assert "the plan's 2 planned and 1 candidate stations compete as candidates" in some
    assert "required sites: kamppi" in some and "excluded sites: hakaniemi" in some


def test_markdown_says_which_candidate_sites_the_requirement_used():
    """The method names the candidates actually used: the user's points (no spacing), land nodes or
    crossings (with the spacing), and the plan's stations."""
    def method(sites, spacing=150.0):
        md = markdown_summary({"requirement": {"stations_required": 2, "stations_existing": 1,
                                               "candidate_spacing_m": spacing, "candidate_sites": sites}})
        return next(line for line in md.splitlines() if "method" in line)

    base = {"file": None, "user_points": 0, "land_nodes": 0, "crossings": 0, "spacing_m": 150.0,
            "planned": 0, "candidate_stations": 0}
    pts = method({**base, "file": "sites.geojson", "user_points": 3, "planned": 1}, spacing=None)
    assert "candidate sites: 3 points from sites.geojson, the plan's 1 planned station" in pts
    assert "150" not in pts and "every" not in pts
    land = method({**base, "file": "land.gpkg", "land_nodes": 12})
    assert "candidate sites: 12 road nodes inside the candidate land from land.gpkg at least 150 m apart" in land
    both = method({**base, "file": "c.geojson", "user_points": 1, "land_nodes": 2, "candidate_stations": 2})
    assert "1 point from c.geojson, 2 road nodes inside" in both and both.endswith("2 candidate stations")
    crossings = method({**base, "crossings": 31, "planned": 2})
    assert "candidate sites: 31 road crossings at least 150 m apart, the plan's 2 planned stations" in crossings
    assert method({**base, "crossings": 1, "spacing_m": 0}).endswith("candidate sites: 1 road crossing")
    # a summary written before candidate_sites existed keeps its wording
    old = markdown_summary({"requirement": {"stations_required": 2, "candidate_spacing_m": 300}})
    assert "candidate sites every 300 m" in old


def test_markdown_competing_plan_sites_singular_and_none():
    base = {"model": "mclp", "status": "optimal", "gap": 0.0, "new_sites": 1,
            "covered_share_before": 0.5, "covered_share_after": 0.6}
    one = markdown_summary({"optimise": {**base, "planned_candidates": 1, "candidate_stations": 0}})
    assert "(the plan's 1 planned station competes as a candidate)" in one
    excluded = markdown_summary({"optimise": {**base, "planned_candidates": 0, "candidate_stations": 0,
                                              "excluded": ["hakaniemi"]}})
    assert "compete" not in excluded and "excluded sites: hakaniemi" in excluded
    both = markdown_summary({"optimise": {**base, "planned_candidates": 2, "candidate_stations": 0,
                                          "plan_required": 2, "required": ["a", "b"]}})
    assert ("(the plan's 2 planned stations compete as candidates; its 2 required stations are built "
            "in any case)") in both


def test_markdown_names_each_sites_class_the_quotas_and_the_rule_broken():
    base = {"model": "mclp", "status": "optimal", "gap": 0.0, "new_sites": 2,
            "covered_share_before": 0.5, "covered_share_after": 0.6,
            "quotas": {"涧西区": {"min": 2, "max": None}, "老城区": {"min": 1, "max": 2}},
            "sites": [{"rank": 1, "label": "x", "class": "class1", "adds_share": 0.05, "adds_km2": 1.0},
                      {"rank": 2, "label": "y", "class": "small", "adds_share": 0.03, "adds_km2": 0.5}],
            "siting_warnings": [{"station": "c1", "status": "candidate", "rule": "hazards",
                                 "distance_m": 150.0, "min_m": 200}]}
    md = markdown_summary({"optimise": base})
    assert "#1 x [class1]" in md and "#2 y [small]" in md
    assert "district quotas: 涧西区: min 2; 老城区: min 1, max 2" in md
    assert "siting rule: candidate station c1 is 150 m from a hazardous site" in md


def test_candidate_stations_are_listed_as_not_scored():
    """A candidate station (never scored) was counted among the stations and shown 'over cap: no'
    beside a blank district."""
    stations = [{"id": "a", "name": "A", "class": "class1", "status": "existing", "district_km2": 8.0,
                 "cap_km2": 7.0, "over_cap": True},
                {"id": "c", "name": "C", "class": "small", "status": "candidate", "district_km2": None,
                 "cap_km2": 2.0, "over_cap": False}]
    md = markdown_summary({"stations": stations})
    assert "- 2 个站 stations (1 candidate, not scored: only the optimiser weighs candidates); " \
           "辖区超标 / over their district cap: **1**" in md
    assert "| c | C | small | candidate | – (not scored) | 2.0 | – |" in md
    assert "| a | A | class1 | existing | 8.00 | 7.0 | 是 yes |" in md


def test_headline_coverage_says_which_stations_it_counts():
    """The headline share and response times are the existing and planned stations together: a
    planner read them as today's coverage."""
    from coverage.outputs import Outputs, one_line

    cmp_ = {"existing": {"stations": 3, "covered_share": 0.8},
            "existing_plus_planned": {"stations": 5, "covered_share": 0.9}}
    s = {"scenario": "x", "covered_share": 0.9, "response_s": {"p50": 150.0, "p90": 250.0},
         "standard": {"turnout_s": 60, "travel_s": 240}, "comparison": cmp_}
    md = markdown_summary(s)
    assert "reached within the standard (60 s turnout + 240 s drive) by the 3 existing and 2 planned stations: **90.0%**" in md
    assert "response time (出动 turnout + 行车 drive) by the 3 existing and 2 planned stations: p50 150 s" in md
    assert "by the 3 existing and 2 planned stations: 90.0%" in one_line(Outputs(summary=s))
    cmp_["existing_plus_planned"]["stations"] = 3
    assert "drive) by the existing stations: **90.0%**" in markdown_summary(s)
    cmp_["existing"]["stations"], cmp_["existing_plus_planned"]["stations"] = 0, 1
    assert "drive) by the 1 planned station: **90.0%**" in markdown_summary(s)


def test_hydrant_counts_say_which_existing_hydrants_they_count():
    """Hsinchu read "38 exist, 134 required", so a reader expected 96 short where 122 are
    proposed: only 12 of the 38 protect a counted road; the spacing rule set all 38 against road
    length counting none of the 26 others' roads."""
    from coverage.outputs import Outputs, one_line

    h = {"existing": 38, "existing_protecting": 12, "existing_in_placement": 12, "existing_in_spacing_rule": 12,
         "required_spacing_rule": 417, "required_min_placement": 134, "proposed": 122,
         "protected_share": 0.032, "shortfall_share": (417 - 12) / 417,
         "shortfall_share_min_placement": 122 / 134, "propose_for": "protection"}
    line = one_line(Outputs(summary={"scenario": "x", "hydrants": h}))
    assert "hydrants: 38 exist (12 protecting a counted road), 134 required = 12 + 122 new, 3.2% of road" in line
    md = markdown_summary({"hydrants": h})
    assert "spacing rule; existing: the 12 protecting a counted road): 需 required 417, 现有 existing 12, " \
           "缺口 short 405 (97.1%)" in md
    h.update(existing_protecting=38, existing_in_placement=38, existing_in_spacing_rule=38, proposed=96)
    line = one_line(Outputs(summary={"scenario": "x", "hydrants": h}))
    assert "hydrants: 38 exist, 134 required = 38 + 96 new" in line
