"""The covplan command line: the README's main job, each subcommand, errors as one line."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from coverage.cli import EXIT_DATA, EXIT_INPUT, EXIT_OFFLINE, main

REPO = Path(__file__).resolve().parent.parent
HELSINKI = REPO / "scenarios" / "helsinki.yaml"


@pytest.fixture(scope="module")
def helsinki_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "helsinki"
    code = main(["--quiet", "run", str(HELSINKI), "--out", str(out)])
    assert code == 0
    return out


def test_run_writes_a_complete_report(helsinki_run):
    out = helsinki_run
    for name in ("summary.json", "summary.md", "layers.gpkg", "map.html", "hydrants.json"):
        assert (out / name).exists(), name
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert 0 < s["covered_share"] <= 1
    assert s["comparison"]["existing_plus_planned"]["covered_share"] >= s["comparison"]["existing"]["covered_share"]
    assert [p["id"] for p in s["stations_placed"]] == ["erottaja", "hakaniemi"]
    assert s["requirement"]["stations_required"] >= s["requirement"]["stations_existing"]
    h = json.loads((out / "hydrants.json").read_text(encoding="utf-8"))
    for key in ("protected_share", "existing", "required_spacing_rule", "required_min_placement",
                "proposed", "shortfall_share"):
        assert key in h
    assert h["existing"] > 0  # the extract's real hydrants
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "Erottajan paloasema" in html
    assert "https://cdn" not in html


def test_score_subcommand_and_summary(tmp_path):
    out = tmp_path / "score"
    assert main(["--quiet", "score", str(HELSINKI), "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert 0 <= s["covered_share"] <= 1
    assert {"p50", "p90", "max"} <= set(s["response_s"])
    assert len(s["stations"]) == 2


def test_compare_two_result_folders(helsinki_run, tmp_path, capsys):
    other = tmp_path / "copy"
    shutil.copytree(helsinki_run, other)
    s = json.loads((other / "summary.json").read_text(encoding="utf-8"))
    s["covered_share"] = s["covered_share"] / 2
    s["scenario"] = "halved"
    (other / "summary.json").write_text(json.dumps(s), encoding="utf-8")
    assert main(["compare", str(helsinki_run), str(other), "--out", str(tmp_path / "cmp")]) == 0
    table = json.loads((tmp_path / "cmp" / "compare.json").read_text(encoding="utf-8"))
    row = next(r for r in table["metrics"] if r["metric"] == "covered_share")
    assert row["better"] == "A"
    assert row["b_minus_a"] == pytest.approx(-s["covered_share"])


def test_errors_are_one_line_with_exit_codes(tmp_path, capsys):
    assert main(["score", str(tmp_path / "missing.yaml"), "--out", str(tmp_path / "o")]) == EXIT_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "does not exist" in err[0]

    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"name": "x", "network": {"default": "helsinki"},
                                   "stations": [{"id": "a", "class": "huge",
                                                 "at": {"lon": 24.9, "lat": 60.17}}]}), encoding="utf-8")
    assert main(["score", str(bad), "--out", str(tmp_path / "o")]) == EXIT_INPUT
    assert "'huge'" in capsys.readouterr().err

    off = tmp_path / "offline.yaml"
    off.write_text(yaml.safe_dump({"name": "x", "network": {"bbox": [117.15, 39.08, 117.24, 39.16]}}), encoding="utf-8")
    import os

    os.environ["COVPLAN_CACHE"] = str(tmp_path / "cache")
    try:
        assert main(["--offline", "score", str(off), "--out", str(tmp_path / "o")]) == EXIT_OFFLINE
    finally:
        del os.environ["COVPLAN_CACHE"]
    assert "covplan fetch" in capsys.readouterr().err

    far = tmp_path / "far.yaml"
    far.write_text(yaml.safe_dump({"name": "x", "network": {"default": "helsinki"},
                                   "stations": [{"id": "tianjin", "at": {"lon": 117.2, "lat": 39.1}}]}),
                   encoding="utf-8")
    assert main(["score", str(far), "--out", str(tmp_path / "o")]) == EXIT_INPUT
    assert "tianjin" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_failed_run_leaves_previous_results(helsinki_run, tmp_path):
    out = tmp_path / "keep"
    shutil.copytree(helsinki_run, out)
    before = (out / "summary.json").read_bytes()
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"name": "x", "network": {"default": "helsinki"},
                                   "stations": [{"id": "a", "at": {"crossing": ["Nowhere street", "Mannerheimintie"]}}]}),
                   encoding="utf-8")
    assert main(["--quiet", "run", str(bad), "--out", str(out)]) != 0
    assert (out / "summary.json").read_bytes() == before


def test_console_script_is_covplan():
    exe = shutil.which("covplan")
    if exe is None:
        pytest.skip("covplan console script not on PATH (package not installed with pip install -e .)")
    r = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "score" in r.stdout and "hydrants" in r.stdout


def test_readme_opens_with_the_two_commands():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```")[0].strip() for b in text.split("```bash")[1:3]]
    assert "pip install -e" in blocks[0] and "covplan run scenarios/helsinki.yaml" in blocks[0]
    assert "pytest" in blocks[1]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    test_cmd = blocks[1].split("&&")[-1].strip()
    assert test_cmd in ci


def test_new_with_lscp_is_refused(tmp_path, capsys):
    # lscp decides the number of stations itself: a given --new would be silently ignored
    code = main(["optimise", str(REPO / "scenarios" / "helsinki.yaml"), "--model", "lscp", "--new", "2",
                 "--out", str(tmp_path / "o")])
    assert code == EXIT_INPUT
    err = capsys.readouterr().err
    assert "--new 2" in err and "lscp" in err
    assert not (tmp_path / "o").exists()


def test_global_flags_work_before_or_after_the_command():
    from coverage.cli import build_parser

    p = build_parser()
    for argv, want in ((["score", "s.yaml", "--out", "o"], (False, False, False)),
                       (["--quiet", "--offline", "score", "s.yaml", "--out", "o"], (True, False, True)),
                       (["run", "s.yaml", "--out", "o", "--quiet", "--debug"], (True, True, False)),
                       (["-q", "compare", "a", "b", "--offline"], (True, False, True))):
        a = p.parse_args(argv)
        assert (a.quiet, a.debug, a.offline) == want, argv


def test_water_cranes_for_the_scenarios_high_risk_areas(tmp_path):
    import pyogrio

    # two high-risk areas in the Helsinki centre, one of them ~0.5 km² served by one crane per 0.2 km²
    areas = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "port"}, "geometry": {"type": "Polygon", "coordinates": [[
            [24.945, 60.166], [24.955, 60.166], [24.955, 60.171], [24.945, 60.171], [24.945, 60.166]]]}},
        {"type": "Feature", "properties": {"name": "depot"}, "geometry": {"type": "Polygon", "coordinates": [[
            [24.935, 60.168], [24.938, 60.168], [24.938, 60.170], [24.935, 60.170], [24.935, 60.168]]]}}]}
    (tmp_path / "risk.geojson").write_text(json.dumps(areas), encoding="utf-8")
    sc = yaml.safe_load((REPO / "scenarios" / "helsinki.yaml").read_text(encoding="utf-8"))
    sc["hydrants"] = {"osm": True, "high_risk": {"file": "risk.geojson"}, "crane_area_km2": 0.2}
    sc.pop("optimise", None)
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(sc, allow_unicode=True), encoding="utf-8")
    assert main(["--quiet", "hydrants", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "o")]) == 0
    h = json.loads((tmp_path / "o" / "hydrants.json").read_text(encoding="utf-8"))
    cranes = pyogrio.read_dataframe(tmp_path / "o" / "layers.gpkg", layer="hydrant_water_cranes")
    assert h["water_cranes"] == len(cranes) >= 3  # port: ceil(~0.31 km² / 0.2) = 2, depot: 1
    assert "water cranes" in (tmp_path / "o" / "summary.md").read_text(encoding="utf-8")
    assert main(["--quiet", "map", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "m")]) == 0
    assert main(["--quiet", "run", str(tmp_path / "s.yaml"), "--out", str(tmp_path / "r")]) == 0
    html = (tmp_path / "r" / "map.html").read_text(encoding="utf-8")
    assert "Proposed water cranes" in html and html.count("Proposed water crane") >= 1 + len(cranes)
    bad = dict(sc, hydrants={"osm": True, "crane_area_km2": -1})
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(bad, allow_unicode=True), encoding="utf-8")
    assert main(["--quiet", "hydrants", str(tmp_path / "b.yaml"), "--out", str(tmp_path / "o2")]) == EXIT_INPUT


def test_out_folder_with_other_files_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    import coverage.pipeline as pipeline

    out = tmp_path / "mine"
    out.mkdir()
    (out / "helsinki.yaml").write_text(HELSINKI.read_text(encoding="utf-8"), encoding="utf-8")
    called = []
    monkeypatch.setattr(pipeline, "prepare", lambda *a, **k: called.append(1))
    assert main(["score", str(out / "helsinki.yaml"), "--out", str(out)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "is not a covplan report folder (it holds helsinki.yaml" in err and "Traceback" not in err
    assert not called and sorted(p.name for p in out.iterdir()) == ["helsinki.yaml"]


def test_a_second_run_replaces_the_first(helsinki_run):
    # the map and hydrants.json are the run's own files too: the folder is replaced, not refused
    assert main(["--quiet", "run", str(HELSINKI), "--out", str(helsinki_run)]) == 0
    assert (helsinki_run / "map.html").exists() and (helsinki_run / "hydrants.json").exists()


def test_a_summary_json_beside_the_users_files_does_not_make_out_replaceable(helsinki_run, tmp_path,
                                                                             capsys, monkeypatch):
    """The reviewer's repro: summary.json, notes.md and budget.csv in --out were all deleted."""
    import coverage.pipeline as pipeline

    out = tmp_path / "d"
    out.mkdir()
    mine = {"summary.json": "{}\n", "notes.md": "notes\n", "budget.csv": "a,b\n"}
    for name, text in mine.items():
        (out / name).write_text(text, encoding="utf-8")
    called = []
    monkeypatch.setattr(pipeline, "prepare", lambda *a, **k: called.append(1))
    assert main(["score", str(HELSINKI), "--out", str(out)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert f"--out folder {str(out)!r} is not a covplan report folder (it holds budget.csv" in err
    # compare writes into its --out folder: refused there too, before reading anything
    assert main(["compare", str(helsinki_run), str(helsinki_run), "--out", str(out)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "it holds budget.csv, notes.md" in err and "compare writes compare.json" in err
    assert not called and {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()} == mine


def test_out_that_is_a_file_is_refused_before_any_work(helsinki_run, tmp_path, capsys, monkeypatch):
    import coverage.pipeline as pipeline

    f = tmp_path / "somefile"
    f.write_text("mine", encoding="utf-8")
    called = []
    monkeypatch.setattr(pipeline, "prepare", lambda *a, **k: called.append(1))
    assert main(["run", str(HELSINKI), "--out", str(f)]) == EXIT_INPUT
    assert not called and f"--out {str(f)!r} exists and is not a folder" in capsys.readouterr().err
    # compare crashed here with FileExistsError (exit 1) after comparing
    assert main(["compare", str(helsinki_run), str(helsinki_run), "--out", str(f)]) == EXIT_INPUT
    err = capsys.readouterr().err
    assert "exists and is not a folder" in err and "unexpected" not in err
    assert main(["compare", str(helsinki_run), str(helsinki_run), "--out", str(f / "sub")]) == EXIT_INPUT
    assert "which is a file" in capsys.readouterr().err
    assert f.read_text(encoding="utf-8") == "mine"


def test_compare_refuses_a_summary_json_that_is_not_an_object(helsinki_run, tmp_path, capsys):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "summary.json").write_text("[1, 2]\n", encoding="utf-8")
    assert main(["compare", str(helsinki_run), str(bad)]) == EXIT_DATA
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "summary.json' holds a JSON array ([1, 2]): expected an object" in err[0]


def _helsinki_with(tmp_path, **optimise) -> Path:
    sc = yaml.safe_load(HELSINKI.read_text(encoding="utf-8"))
    sc["optimise"] = {**sc["optimise"], **optimise}
    sc.pop("hydrants", None)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(sc, allow_unicode=True), encoding="utf-8")
    return path


def test_requirement_names_the_users_candidate_points_not_a_spacing(tmp_path):
    points = [("A", 24.9384, 60.1699), ("B", 24.9510, 60.1760), ("C", 24.9420, 60.1660)]
    (tmp_path / "sites.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": n}, "geometry": {"type": "Point", "coordinates": [x, y]}}
        for n, x, y in points]}), encoding="utf-8")
    scenario = _helsinki_with(tmp_path, candidates={"file": "sites.geojson"})
    assert main(["--quiet", "run", str(scenario), "--out", str(tmp_path / "o")]) == 0
    req = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))["requirement"]
    assert req["candidate_spacing_m"] is None
    assert req["candidate_sites"] == {"file": "sites.geojson", "user_points": 3, "land_nodes": 0,
                                      "crossings": 0, "spacing_m": 150.0, "planned": 1,
                                      "candidate_stations": 0}
    md = (tmp_path / "o" / "summary.md").read_text(encoding="utf-8")
    method = next(line for line in md.splitlines() if "方法 / method" in line)
    assert "candidate sites: 3 points from sites.geojson, the plan's 1 planned station;" in method
    assert "every 150 m" not in md


def test_an_excluded_planned_station_is_not_said_to_compete(tmp_path):
    scenario = _helsinki_with(tmp_path, excluded=["hakaniemi"])
    assert main(["--quiet", "optimise", str(scenario), "--out", str(tmp_path / "o")]) == 0
    opt = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))["optimise"]
    assert opt["planned_candidates"] == 0 and opt["excluded"] == ["hakaniemi"]
    assert "hakaniemi" not in {s["label"] for s in opt["sites"]}
    md = (tmp_path / "o" / "summary.md").read_text(encoding="utf-8")
    assert "compete" not in md and "excluded sites: hakaniemi" in md
    # without the exclusion the planned station competes, in the singular
    assert main(["--quiet", "optimise", str(HELSINKI), "--out", str(tmp_path / "all")]) == 0
    md = (tmp_path / "all" / "summary.md").read_text(encoding="utf-8")
    assert "(the plan's 1 planned station competes as a candidate)" in md


def test_a_required_planned_station_is_not_said_to_compete(tmp_path):
    """A planned station optimise.required puts in the plan is built in any case: the summary
    used to say it "competes as a candidate"."""
    scenario = _helsinki_with(tmp_path, required=["hakaniemi"])
    assert main(["--quiet", "optimise", str(scenario), "--out", str(tmp_path / "o")]) == 0
    opt = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))["optimise"]
    assert opt["planned_candidates"] == 0 and opt["plan_required"] == 1
    assert "hakaniemi" in {s["label"] for s in opt["sites"]}
    md = (tmp_path / "o" / "summary.md").read_text(encoding="utf-8")
    assert "compete" not in md and "(the plan's 1 required station is built in any case)" in md


def test_siting_warnings_are_kept_in_the_summary_even_when_quiet(tmp_path):
    """Warnings of the siting step went to stderr only (and --quiet dropped them)."""
    import geopandas as gpd
    import shapely

    fuel = shapely.Point(24.950214 + 0.0003, 60.178266)  # ~17 m east of planned Hakaniemi as placed
    gpd.GeoDataFrame({"name": ["fuel"]}, geometry=[fuel], crs=4326).to_file(tmp_path / "fuel.geojson", driver="GeoJSON")
    scenario = _helsinki_with(tmp_path, hazards={"file": "fuel.geojson"})
    assert main(["--quiet", "optimise", str(scenario), "--out", str(tmp_path / "o")]) == 0
    s = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))
    said = [w for w in s["warnings"] if w.startswith("optimise: ") and "GB 51080" in w and "hakaniemi" in w]
    assert len(said) == 1
    md = (tmp_path / "o" / "summary.md").read_text(encoding="utf-8")
    assert "## 提示 Warnings" in md and "optimise: 1 planned station(s) break the GB 51080 siting rules" in md


def test_time_limit_zero_is_refused_not_replaced(tmp_path):
    """--time-limit 0 used to fall back silently to the scenario's limit."""
    assert main(["--quiet", "optimise", str(HELSINKI), "--time-limit", "0", "--out", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()


def test_a_warning_repeated_by_the_requirement_run_is_kept_once(tmp_path):
    """The requirement's set cover reuses the plan's candidates and stations, so their warnings
    (here: a station that cannot reach the main network) came twice, as optimise: and requirement:."""
    sc = yaml.safe_load(HELSINKI.read_text(encoding="utf-8"))
    sc["stations"].append({"id": "isl", "name": "island st", "class": "class1", "status": "existing",
                           "at": {"lon": 24.953411, "lat": 60.1678435, "datum": "wgs84"}})
    sc.pop("hydrants", None)
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(sc, allow_unicode=True), encoding="utf-8")
    assert main(["--quiet", "run", str(path), "--out", str(tmp_path / "o")]) == 0
    warns = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))["warnings"]
    bodies = [w.split(": ", 1)[-1] for w in warns]
    island = [b for b in bodies if "cannot reach the main road network" in b]
    assert island and all("isl" in b and "#" not in b for b in island), island  # named by its id
    assert len(bodies) == len(set(bodies)), warns


def test_hydrant_proposals_for_the_spacing_from_the_scenario(tmp_path, helsinki_run):
    """hydrants.propose_for: spacing reaches the hydrant step: more proposals than for the
    protection, and every counted road within 60 m of a hydrant once they are built."""
    sc = yaml.safe_load(HELSINKI.read_text(encoding="utf-8"))
    sc["hydrants"] = {"osm": True, "propose_for": "spacing"}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(sc, allow_unicode=True), encoding="utf-8")
    assert main(["--quiet", "hydrants", str(path), "--out", str(tmp_path / "o")]) == 0
    spaced = json.loads((tmp_path / "o" / "hydrants.json").read_text(encoding="utf-8"))
    protect = json.loads((helsinki_run / "hydrants.json").read_text(encoding="utf-8"))
    assert spaced["propose_for"] == "spacing" and protect["propose_for"] == "protection"
    assert spaced["proposed"] > protect["proposed"]
    assert spaced["required_min_placement"] <= spaced["required_spacing_rule"] + spaced["existing"]
