"""Assembling a run's outputs: parts merged without losing any part's warnings."""
from __future__ import annotations

from coverage.outputs import Outputs, merge


def test_merge_keeps_every_parts_warnings_once():
    a = Outputs(summary={"scenario": "x", "warnings": ["area larger than the extract"], "covered_share": 0.5})
    b = Outputs(summary={"scenario": "x", "warnings": ["area larger than the extract"], "optimise": {}})
    c = Outputs(summary={"scenario": "x", "warnings": ["area larger than the extract", "hydrants: 1 not used"],
                         "hydrants": {}})
    m = merge([a, b, c])
    assert m.summary["warnings"] == ["area larger than the extract", "hydrants: 1 not used"]
    assert {"covered_share", "optimise", "hydrants"} <= set(m.summary)
    assert "warnings" not in merge([Outputs(summary={"scenario": "x"})]).summary


def test_requirement_by_coverage_after_the_plan_and_by_area():
    import pandas as pd

    from coverage.outputs import requirement
    from coverage.scenario import Standard

    lscp = {"fixed_existing": 2, "new_sites": 7, "status": "optimal", "gap": 0.0, "uncoverable_share": 0.175}
    after = {"fixed_existing": 4, "new_sites": 6, "status": "optimal"}
    # a planned logistics-support station is none of the plan's fire stations
    st = pd.DataFrame({"status": ["existing", "existing", "planned", "planned", "candidate", "planned"],
                       "class": ["class1", "class1", "small", "small", "small", "logistics"]})
    r = requirement(lscp, after_plan=after, stations=st, standard=Standard(), new_class="small",
                    spacing_m=200.0, area_km2=12.9, land_km2=7.3)
    assert (r["stations_required"], r["new_needed"], r["new_needed_after_plan"]) == (9, 7, 6)
    assert r["stations_planned"] == 2 and r["uncoverable_share"] == 0.175
    # 12.9 km² of study area over the 7 km² class-1 cap: at least 2 districts
    assert r["by_area"] == {"area_km2": 12.9, "area_source": "study area", "cap_km2": 7.0, "cap_of": "class-1",
                            "stations": 2}
    r2 = requirement(lscp, standard=Standard(), land_km2=14.0)  # no study area: the land by the roads
    assert r2["by_area"]["stations"] == 2 and r2["by_area"]["area_source"].startswith("land")
    assert "new_needed_after_plan" not in r2
    # suburbs: the 15 km² cap is the suburban one, not class-1's (summary.md said "per class-1 district")
    from coverage.report import markdown_summary

    r3 = requirement(lscp, standard=Standard(suburban=True), area_km2=31.0)
    assert (r3["by_area"]["cap_km2"], r3["by_area"]["cap_of"], r3["by_area"]["stations"]) == (15.0, "suburban class-1", 3)
    md = markdown_summary({"requirement": r3})
    assert "31.0 km² study area / 15 km² per suburban class-1 district = at least 3" in md


def test_a_run_with_restrictive_quotas_still_reports_the_requirement(shared_data):
    # quotas shape the plan's new stations, not what the standard requires: a run whose quotas
    # forbid any site in the west still reports the requirement (it used to stop the run)
    from dataclasses import replace
    from pathlib import Path

    from coverage.outputs import run_all
    from coverage.pipeline import prepare
    from coverage.scenario import load_scenario

    prep = prepare(load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "huangpu_shared.yaml"))
    spec = replace(prep.scenario.optimise, model="mclp", new=1, quotas={"西区 West": (None, 0)})
    prep = replace(prep, scenario=replace(prep.scenario, optimise=spec))
    out = run_all(prep)
    assert out.summary["optimise"]["sites"][0]["district"] == "东区 East"
    req = out.summary["requirement"]
    free = run_all(replace(prep, scenario=replace(prep.scenario, optimise=replace(spec, quotas={}))))
    assert req["stations_required"] == free.summary["requirement"]["stations_required"]
    assert req["new_needed_after_plan"] is not None


def test_a_run_whose_model_lacks_its_count_says_so():
    """An optimise section with model pmedian (or mclp/backup) but no ``new``: ``covplan run``
    proposes no sites, and says why in the summary instead of silently skipping them."""
    from dataclasses import replace

    from coverage.outputs import run_all
    from coverage.pipeline import prepare
    from coverage.scenario import OptimiseSpec, parse_scenario

    sc = parse_scenario({"name": "t", "network": {"default": "helsinki"},
                         "standard": {"turnout_s": 60, "travel_s": 240},
                         "stations": [{"id": "e", "status": "existing", "at": {"lon": 24.94516, "lat": 60.16515}}],
                         "optimise": {"model": "pmedian", "class": "small", "candidate_spacing_m": 300}})
    prep = prepare(sc)
    out = run_all(prep)
    assert "optimise" not in out.summary
    assert any("pmedian needs the number of new stations" in w for w in out.summary.get("warnings", []))
    assert out.summary["requirement"]["stations_required"] >= 1
    plain = run_all(replace(prep, scenario=replace(sc, optimise=OptimiseSpec())))  # no section: no word
    assert not any("needs the number" in w for w in plain.summary.get("warnings", []))
    # an explicit mclp (the default model) warns too; a section that only tunes the requirement
    # (class, time limit) does not
    base = {"name": "t", "network": {"default": "helsinki"}, "standard": {"turnout_s": 60, "travel_s": 240}}
    assert parse_scenario({**base, "optimise": {"model": "mclp"}}).optimise.model_given
    tuned = parse_scenario({**base, "optimise": {"class": "small", "time_limit_s": 30}}).optimise
    assert not tuned.model_given
    quiet = run_all(replace(prep, scenario=replace(sc, optimise=tuned)))
    assert not any("needs the number" in w for w in quiet.summary.get("warnings", []))
    # a spec built in code names its model by value alone
    coded = run_all(replace(prep, scenario=replace(sc, optimise=OptimiseSpec(model="backup"))))
    assert any("backup needs the number" in w for w in coded.summary.get("warnings", []))
