"""Site proposals for scenarios: candidates, classes, quotas, and a brute-force optimality check."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import yaml

from coverage.errors import InputError
from coverage.pipeline import prepare
from coverage.scenario import load_scenario
from coverage.siting import propose_sites
from coverage.traveltime import point_times

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def helsinki():
    return prepare(load_scenario(REPO / "scenarios" / "helsinki.yaml"))


def _with_optimise(prep, **changes):
    spec = replace(prep.scenario.optimise, **changes)
    return replace(prep, scenario=replace(prep.scenario, optimise=spec))


def test_one_new_site_is_the_brute_force_best(helsinki):
    res = propose_sites(helsinki, model="mclp", new=1)
    assert res.summary["status"] == "optimal"
    c = res.candidates
    budget = np.array([helsinki.scenario.standard.travel_for(k) for k in c.station_class])
    t = point_times(helsinki.network, c.at, helsinki.demand.at, cutoff_s=budget.max()).toarray()
    reach = (t > 0) & (t <= budget[:, None] + 1e-9)  # cand x demand
    w = helsinki.demand.weight
    fixed = np.flatnonzero(c.kind == "existing")
    base = reach[fixed].any(axis=0)
    best = max(w[base | reach[j]].sum() for j in range(len(budget)) if c.kind[j] != "existing")
    assert res.solution.objective == pytest.approx(best, rel=1e-9)
    site = res.sites.iloc[0]
    assert site["adds_weight"] == pytest.approx(best - w[base].sum(), rel=1e-9)
    assert res.summary["covered_share_after"] >= res.summary["covered_share_before"]


def test_planned_stations_are_candidates_and_existing_are_fixed(helsinki):
    res = propose_sites(helsinki, model="lscp")
    kinds = list(res.candidates.kind)
    assert kinds[0] == "existing" and "planned" in kinds
    assert 0 in set(res.solution.selected.tolist())  # the existing station is always in
    assert res.summary["fixed_existing"] == 1


def test_classes_each_with_their_own_count(helsinki):
    prep = _with_optimise(helsinki, classes={"small": 2, "class2": 1}, new=3)
    res = propose_sites(prep, model="mclp", new=3)
    assert sorted(res.sites["class"]) == ["class2", "small", "small"]


def test_quotas_per_district(shared_data):
    prep = prepare(load_scenario(REPO / "scenarios" / "huangpu_shared.yaml"))
    res = propose_sites(prep, model="mclp", new=2)
    assert sorted(res.sites["district"]) == ["东区 East", "西区 West"]
    bad = _with_optimise(prep, quotas={"北区 North": (1, None)})
    with pytest.raises(InputError, match="北区 North"):
        propose_sites(bad, model="mclp", new=2)


def test_bad_requests(helsinki, tmp_path):
    with pytest.raises(InputError, match="--new"):
        propose_sites(helsinki, model="mclp", new=None)
    with pytest.raises(InputError, match="'magic'"):
        propose_sites(helsinki, model="magic", new=1)
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump({"name": "x", "network": {"default": "helsinki"},
                                 "optimise": {"classes": {"huge": 1, "small": -1}, "new": 5}}),
                 encoding="utf-8")
    with pytest.raises(Exception) as info:
        load_scenario(p)
    text = str(info.value)
    assert "optimise.classes.huge" in text and "optimise.classes.small" in text


def test_siting_rules_from_osm_keep_candidates_away(shared_data, tmp_path):
    from scipy.spatial import cKDTree

    from coverage.osmfeatures import crowded_venues, hazard_sites, osm_features
    from coverage.siting import make_candidates

    base = {"name": "rules", "network": {"shared": "osm/hsinchu_nctu_taiwan.osm.pbf"},
            "stations": [{"id": "puding", "class": "class2", "at": {"lon": 121.00793, "lat": 24.78903}}]}
    p = tmp_path / "free.yaml"
    p.write_text(yaml.safe_dump({**base, "optimise": {"candidate_spacing_m": 0}}), encoding="utf-8")
    free = make_candidates(prepare(load_scenario(p)), spacing_m=0, station_class="small")
    p2 = tmp_path / "rules.yaml"
    p2.write_text(yaml.safe_dump({**base, "optimise": {"candidate_spacing_m": 0, "hazards": {"osm": True},
                                                       "venues": {"osm": True}}}), encoding="utf-8")
    prep = prepare(load_scenario(p2))
    ruled = make_candidates(prep, spacing_m=0, station_class="small")
    feats = osm_features(shared_data / "osm" / "hsinchu_nctu_taiwan.osm.pbf")
    hz = hazard_sites(feats).to_crs(prep.network.crs)
    vn = crowded_venues(feats).to_crs(prep.network.crs)
    assert len(hz) > 0 and len(vn) > 0
    new = ruled.kind == "crossing"
    # the rules are applied to the crossing positions before snapping; snapping moves < 1 m here
    xy = np.column_stack([ruled.at.x[new], ruled.at.y[new]])
    d_h, _ = cKDTree(np.column_stack([hz.geometry.x, hz.geometry.y])).query(xy)
    d_v, _ = cKDTree(np.column_stack([vn.geometry.x, vn.geometry.y])).query(xy)
    assert (d_h >= 200 - 1).all() and (d_v >= 50 - 1).all()
    assert new.sum() < (free.kind == "crossing").sum()


def _reach(prep, res):
    """Independent reach matrix (candidate x demand) within each candidate's own standard."""
    c = res.candidates
    budget = np.array([prep.scenario.standard.travel_for(k) for k in c.station_class])
    t = point_times(prep.network, c.at, prep.demand.at, cutoff_s=4 * budget.max()).toarray()
    return t, (t > 0) & (t <= budget[:, None] + 1e-9)


@pytest.mark.parametrize("model", ["lscp", "mclp", "backup", "pmedian"])
def test_what_each_site_adds_sums_to_the_coverage_change(helsinki, model):
    # every model reports the same measure per site: demand weight newly covered within the
    # standard, in build order; the sites' adds must sum to after - before
    res = propose_sites(helsinki, model=model, new=None if model == "lscp" else 3)
    t, reach = _reach(helsinki, res)
    w = helsinki.demand.weight
    fixed = np.flatnonzero(res.candidates.kind == "existing")
    sel = res.solution.selected
    before, after = reach[fixed].any(axis=0), reach[sel].any(axis=0)
    s = res.summary
    assert s["covered_share_before"] == pytest.approx(w[before].sum() / w.sum(), abs=1e-6)
    assert s["covered_share_after"] == pytest.approx(w[after].sum() / w.sum(), abs=1e-6)
    assert res.sites["adds_weight"].sum() == pytest.approx(w[after & ~before].sum(), rel=1e-9)
    assert list(res.sites["rank"]) == list(range(1, len(res.sites) + 1))
    assert sorted(res.sites["candidate"]) == sorted(res.solution.new.tolist())
    # unique: demand only that selected site reaches
    hits = reach[sel].sum(axis=0)
    for _, row in res.sites.iterrows():
        only = (hits == 1) & reach[int(row["candidate"])]
        assert row["unique_weight"] == pytest.approx(w[only].sum(), rel=1e-9, abs=1e-9)
    if model == "backup":
        twice_before, twice_after = reach[fixed].sum(axis=0) >= 2, hits >= 2
        assert s["covered_twice_share_after"] == pytest.approx(w[twice_after].sum() / w.sum(), abs=1e-6)
        assert res.sites["adds_twice_weight"].sum() == pytest.approx(w[twice_after & ~twice_before].sum(), rel=1e-9)
    if model == "pmedian":
        pen = s["penalty_s"]
        tt = np.where(t > 0, np.minimum(t, pen), pen)
        mean_after = (tt[sel].min(axis=0) * w).sum() / w.sum()
        mean_before = (tt[fixed].min(axis=0) * w).sum() / w.sum()
        assert s["mean_time_s_after"] == pytest.approx(mean_after, abs=1e-3)
        assert s["mean_time_s_before"] == pytest.approx(mean_before, abs=1e-3)
        assert res.solution.objective / w.sum() == pytest.approx(mean_after, rel=1e-6)
        assert res.sites["saves_mean_s"].sum() == pytest.approx(mean_before - mean_after, abs=1e-3)
