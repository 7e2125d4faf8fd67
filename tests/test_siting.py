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


# --------------------------------------------------------------------------------------------
# a station opens onto a surface street: never tunnel-only or expressway-only nodes


def _hand_prep(tmp_path, optimise=None):
    """A hand-built network (metres, two-way roads) wrapped as a Prepared scenario.

    Surface streets meet at B (4 streets), D (a street and a ramp) and E (3 streets and a tunnel);
    T is a junction of road tunnels only; I a junction of motorway, motorway_link and trunk_link
    only. A tunnel Q-R passes exactly under crossing B without touching it.
    """
    import geopandas as gpd
    import networkx as nx
    import pyproj

    from coverage.demand import road_pieces
    from coverage.network import network_from_graph
    from coverage.pipeline import Prepared
    from coverage.scenario import parse_scenario

    utm = pyproj.CRS.from_epsg(32650)
    inv = pyproj.Transformer.from_crs(utm, 4326, always_xy=True)
    x0, y0 = 450_000.0, 4_330_000.0
    nodes = {"A": (0, 0), "B": (500, 0), "C": (1000, 0), "D": (500, 500), "E": (500, -500),
             "L": (500, -1000), "N": (0, -500), "T": (1500, 0), "F": (1500, 500), "G": (1500, -500),
             "I": (500, 1000), "H": (0, 1000), "J": (1000, 1000), "K": (500, 1500),
             "Q": (300, -200), "R": (700, 200)}
    ids = {k: i + 1 for i, k in enumerate(nodes)}
    street, tunnel = {"highway": "residential"}, {"highway": "residential", "tunnel": "yes", "layer": "-1"}
    roads = [("A", "B", street), ("B", "C", street), ("B", "D", street), ("B", "E", street),
             ("E", "L", street), ("E", "N", street),
             ("C", "T", tunnel), ("T", "F", tunnel), ("T", "G", tunnel), ("G", "E", tunnel),
             ("D", "I", {"highway": "motorway_link"}), ("I", "H", {"highway": "motorway"}),
             ("I", "J", {"highway": "motorway"}), ("I", "K", {"highway": "trunk_link"}),
             ("Q", "R", tunnel), ("Q", "E", tunnel), ("R", "D", tunnel)]
    g = nx.MultiDiGraph(crs="epsg:4326")
    for k, (x, y) in nodes.items():
        lon, lat = inv.transform(x0 + x, y0 + y)
        g.add_node(ids[k], x=lon, y=lat)
    for a, b, tags in roads:
        g.add_edge(ids[a], ids[b], **tags)
        g.add_edge(ids[b], ids[a], **tags)
    net = network_from_graph(g, simplify=False, retain_all=True)
    sc = parse_scenario({"name": "hand", "network": {"default": "helsinki"},
                         "optimise": {"candidate_spacing_m": 0, **(optimise or {})}}, base=tmp_path)
    stations = gpd.GeoDataFrame({"id": [], "status": [], "class": []}, geometry=[], crs=4326)
    prep = Prepared(scenario=sc, network=net, area=None, districts=None, district_field=None,
                    stations=stations, demand=road_pieces(net), pois=None)
    return prep, ids, (inv, x0, y0)


def test_candidates_never_at_tunnel_or_expressway_only_nodes(tmp_path):
    from coverage.network import street_nodes
    from coverage.siting import crossing_nodes, make_candidates

    prep, ids, _ = _hand_prep(tmp_path)
    net = prep.network
    name = {v: k for k, v in ids.items()}
    crossings = {name[int(net.node_ids[i])] for i in crossing_nodes(net)}
    assert crossings == {"B", "D", "E", "T", "I"}  # T and I are crossings ...
    cands = make_candidates(prep, spacing_m=0, station_class="small")
    got = {name[int(lab.split(":")[1])] for lab in cands.label}
    assert got == {"B", "D", "E"}  # ... but no station can open onto them
    assert not street_nodes(net)[net.node_index([ids["T"], ids["I"]])].any()
    # each site sits exactly at its node, on a surface street leaving it: not on the tunnel
    # Q-R that passes under B, nor on the ramp at D or the tunnel at E
    for lab, e, f, d in zip(cands.label, cands.at.edge, cands.at.fraction, cands.at.distance_m):
        node = int(net.node_index([int(lab.split(":")[1])])[0])
        assert net.edge_u[e] == node and f == 0 and d == 0
        assert not net.edge_tunnel[e] and net.edge_highway[e] == "residential"


def test_user_candidates_on_a_tunnel_are_kept_with_a_warning(tmp_path):
    import geopandas as gpd

    from coverage.errors import CoverageWarning, DataError
    from coverage.siting import make_candidates

    _, ids, (inv, x0, y0) = _hand_prep(tmp_path)
    lon, lat = inv.transform([x0 + 1250, x0 + 250], [y0, y0])  # on the tunnel C-T; on street A-B
    pts = tmp_path / "sites.geojson"
    gpd.GeoDataFrame({"name": ["tunnel", "street"]}, geometry=gpd.points_from_xy(lon, lat),
                     crs=4326).to_file(pts, driver="GeoJSON")
    prep, _, _ = _hand_prep(tmp_path, {"candidates": {"file": str(pts)}})
    with pytest.warns(CoverageWarning, match=r"1 user candidate site\(s\) lie on a tunnel.*user:0 \(tunnel\)"):
        cands = make_candidates(prep, spacing_m=0, station_class="small")
    assert list(cands.label) == ["user:0", "user:1"] and list(cands.kind) == ["user", "user"]
    # land polygons: only the nodes a station can open onto; tunnel-only land is an error
    def land(x_lo, x_hi, y_lo, y_hi, path):
        xs, ys = inv.transform([x0 + x_lo, x0 + x_hi, x0 + x_hi, x0 + x_lo], [y0 + y_lo, y0 + y_lo, y0 + y_hi, y0 + y_hi])
        import shapely

        gpd.GeoDataFrame(geometry=[shapely.Polygon(zip(xs, ys))], crs=4326).to_file(path, driver="GeoJSON")
        return path

    both = land(400, 1600, -50, 50, tmp_path / "both.geojson")  # holds B, C and T
    prep, _, _ = _hand_prep(tmp_path, {"candidates": {"file": str(both)}})
    got = set(make_candidates(prep, spacing_m=0, station_class="small").label)
    assert got == {f"node:{ids['B']}", f"node:{ids['C']}"}
    only_t = land(1400, 1600, -600, 600, tmp_path / "t.geojson")  # T, F, G: tunnels only
    prep, _, _ = _hand_prep(tmp_path, {"candidates": {"file": str(only_t)}})
    with pytest.raises(DataError, match="tunnels"):
        make_candidates(prep, spacing_m=0, station_class="small")


def test_helsinki_new_site_opens_onto_a_surface_street(helsinki):
    # the review found the proposal at node 5770348841, a junction of underground service
    # tunnels (tunnel=yes, layer=-4); checked here against the graph's own OSM tags
    net = helsinki.network
    res = propose_sites(helsinki, model="mclp", new=1)
    assert helsinki.demand.excluded_m["tunnel"] > 4000 and not net.edge_tunnel[helsinki.demand.at.edge].any()

    def surface_out(node_id):
        for _, _, d in net.graph.out_edges(node_id, data=True):
            t = d.get("tunnel")
            t = [] if t is None else ([t] if isinstance(t, str) else list(t))
            if not any(x not in ("no", "building_passage") for x in t) and d["highway"] not in (
                    "motorway", "motorway_link", "trunk_link"):
                return True
        return False

    crossing = res.candidates.kind == "crossing"
    assert "node:5770348841" not in set(res.candidates.label)
    assert all(surface_out(int(lab.split(":")[1])) for lab in res.candidates.label[crossing])
    (label,) = res.sites["label"]
    assert label.startswith("node:") and label != "node:5770348841"
    assert surface_out(int(label.split(":")[1]))
