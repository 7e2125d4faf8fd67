"""Site proposals for scenarios: candidates, classes, quotas, and a brute-force optimality check."""
from __future__ import annotations

import warnings
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
    import shapely

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
    # the rules are checked where the sites stand: exactly at their crossing
    # (mapped grounds are areas: distances to their edge, brute force over every feature)
    pts = shapely.points(ruled.at.x[new], ruled.at.y[new])
    d_h = np.array([shapely.distance(hz.geometry.to_numpy(), p).min() for p in pts])
    d_v = np.array([shapely.distance(vn.geometry.to_numpy(), p).min() for p in pts])
    assert (d_h >= 200 - 1e-6).all() and (d_v >= 50 - 1e-6).all()
    assert (hz.geom_type != "Point").any() or (vn.geom_type != "Point").any()  # areas kept as areas
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


def _hand_prep(tmp_path, optimise=None, *, island=False, districts=False):
    """A hand-built network (metres, two-way roads) wrapped as a Prepared scenario.

    Surface streets meet at B (4 streets), D (a street and a ramp) and E (3 streets and a tunnel);
    T is a junction of road tunnels only; I a junction of motorway, motorway_link and trunk_link
    only. A tunnel Q-R passes exactly under crossing B without touching it. ``island`` adds a
    street X-Y (3000..3300 m east) joined to nothing; ``districts`` adds districts "west"
    (x < 800 m: A..E, L, N, D, I ...) and "east" (x >= 800 m: C, T, F, G, J; no crossing site).
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
             "Q": (300, -200), "R": (700, 200), **({"X": (3000, 0), "Y": (3300, 0)} if island else {})}
    ids = {k: i + 1 for i, k in enumerate(nodes)}
    street, tunnel = {"highway": "residential"}, {"highway": "residential", "tunnel": "yes", "layer": "-1"}
    roads = [("A", "B", street), ("B", "C", street), ("B", "D", street), ("B", "E", street),
             ("E", "L", street), ("E", "N", street),
             ("C", "T", tunnel), ("T", "F", tunnel), ("T", "G", tunnel), ("G", "E", tunnel),
             ("D", "I", {"highway": "motorway_link"}), ("I", "H", {"highway": "motorway"}),
             ("I", "J", {"highway": "motorway"}), ("I", "K", {"highway": "trunk_link"}),
             ("Q", "R", tunnel), ("Q", "E", tunnel), ("R", "D", tunnel)] + ([("X", "Y", street)] if island else [])
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
    dist = None
    if districts:
        import shapely

        def box(x_lo, x_hi):
            xs, ys = inv.transform([x0 + x_lo, x0 + x_hi, x0 + x_hi, x0 + x_lo],
                                   [y0 - 1100, y0 - 1100, y0 + 1600, y0 + 1600])
            return shapely.Polygon(zip(xs, ys))

        dist = gpd.GeoDataFrame({"name": ["west", "east"]}, geometry=[box(-100, 800), box(800, 3500)], crs=4326)
    prep = Prepared(scenario=sc, network=net, area=None, districts=dist,
                    district_field="name" if districts else None,
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
    with pytest.warns(CoverageWarning, match=r"1 user candidate site\(s\) lie in a tunnel, on a bridge.*tunnel \(user:0\) \(tunnel\)"):
        cands = make_candidates(prep, spacing_m=0, station_class="small")
    # named by the file's name property
    assert list(cands.label) == ["tunnel (user:0)", "street (user:1)"] and list(cands.kind) == ["user", "user"]
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

    import re

    def node_of(label):  # crossings are labelled "A × B (node:123)", or "node:123" when unnamed
        return int(re.search(r"node:(\d+)", label).group(1))

    crossing = res.candidates.kind == "crossing"
    assert 5770348841 not in {node_of(lab) for lab in res.candidates.label[crossing]}
    assert all(surface_out(node_of(lab)) for lab in res.candidates.label[crossing])
    (label,) = res.sites["label"]
    assert node_of(label) != 5770348841 and surface_out(node_of(label))
    # named by its roads, as plans name crossings
    names = {d.get("name") for _, _, d in net.graph.out_edges(node_of(label), data=True)} - {None}
    assert any(str(n) in label for n in names) or not names


# --------------------------------------------------------------------------------------------
# GB 51080 siting rules, candidate reporting, quotas and requests (review B)


def _geojson(tmp_path, name, geoms_m, inv_x0_y0, **cols):
    """Write shapely geometries given in the hand network's metres as a WGS-84 GeoJSON file."""
    import geopandas as gpd
    import shapely

    inv, x0, y0 = inv_x0_y0
    out = [shapely.transform(g, lambda xy: np.column_stack(inv.transform(xy[:, 0] + x0, xy[:, 1] + y0)))
           for g in geoms_m]
    path = tmp_path / f"{name}.geojson"
    gpd.GeoDataFrame(cols or {"name": [f"{name}{i}" for i in range(len(out))]}, geometry=out,
                     crs=4326).to_file(path, driver="GeoJSON")
    return path


def _labels_to_names(ids, labels):
    name = {v: k for k, v in ids.items()}
    return {name[int(lab.split(":")[1])] for lab in labels if str(lab).startswith("node:")}


def _m(prep, ids, key):
    """A hand node's projected position (the network's CRS)."""
    i = int(prep.network.node_index([ids[key]])[0])
    return float(prep.network.x[i]), float(prep.network.y[i])


def test_user_points_are_checked_where_they_are_snapped(tmp_path):
    # a point 205 m from a hazard snaps 180 m onto street A-B, 25 m from the hazard: it must go
    import shapely

    from coverage.errors import CoverageWarning
    from coverage.siting import make_candidates

    _, ids, ref = _hand_prep(tmp_path)
    haz = _geojson(tmp_path, "haz", [shapely.Point(250, -25)], ref)
    pts = _geojson(tmp_path, "pts", [shapely.Point(250, 180), shapely.Point(250, -500)], ref)
    prep, _, _ = _hand_prep(tmp_path, {"candidates": {"file": str(pts)}, "hazards": {"file": str(haz)}})
    bx, by = _m(prep, ids, "B")
    hx, hy = bx - 250, by - 25   # the hazard, in the network's metres (B is at (500, 0))
    assert np.hypot(bx - 250 - hx, by + 180 - hy) == pytest.approx(205, abs=0.5)  # raw point: allowed
    with pytest.warns(CoverageWarning, match=r"pts0 \(user:0\) \(siting rule: 25 m from a hazardous site"):
        cands = make_candidates(prep, spacing_m=0, station_class="small")
    assert list(cands.label) == ["pts1 (user:1)"]
    d = np.hypot(cands.at.x - hx, cands.at.y - hy)
    assert (d >= 200).all() and d[0] == pytest.approx(475, abs=0.5)
    (drop,) = cands.dropped
    assert drop["label"] == "pts0 (user:0)" and "hazardous" in drop["reason"] and drop["snapped_m"] == pytest.approx(180, abs=0.5)


def test_hazard_and_venue_areas_are_measured_from_their_boundary(tmp_path):
    # a 300 x 300 m tank farm 60 m east of B (its centre 210 m away) rules B out; a venue whose
    # edge is 20 m north of D (its centre 76 m away) rules D out; E stays
    import shapely

    from coverage.siting import make_candidates

    _, ids, ref = _hand_prep(tmp_path)
    farm = shapely.box(560, -150, 860, 150)
    venue = shapely.box(400, 520, 540, 620)
    haz = _geojson(tmp_path, "farm", [farm], ref)
    ven = _geojson(tmp_path, "venue", [venue], ref)
    prep, _, _ = _hand_prep(tmp_path, {"hazards": {"file": str(haz)}, "venues": {"file": str(ven)}})
    cands = make_candidates(prep, spacing_m=0, station_class="small")
    assert _labels_to_names(ids, cands.label) == {"E"}
    # independently: distances from the nodes (hand metres) to the areas and to their centres
    assert farm.distance(shapely.Point(500, 0)) == 60 and farm.centroid.distance(shapely.Point(500, 0)) == 210
    assert venue.distance(shapely.Point(500, 500)) == 20 and venue.centroid.distance(shapely.Point(500, 500)) > 50
    assert farm.distance(shapely.Point(500, -500)) >= 200 and venue.distance(shapely.Point(500, -500)) >= 50
    assert cands.removed["siting_rules"] == 2


def test_ruled_out_crossings_do_not_thin_away_others(tmp_path):
    # crossings in order E (5 roads), B (4), D (3), 500 m apart on a line; a hazard 50 m south
    # of E rules E out. Filter first, then thin at 600 m: of B and D, B comes first and keeps
    # D out. Thinning first would let E drop B, and then E itself be filtered, leaving D only.
    import shapely

    from coverage.siting import crossing_nodes, make_candidates

    _, ids, ref = _hand_prep(tmp_path)
    haz = _geojson(tmp_path, "haz", [shapely.Point(500, -550)], ref)
    prep, _, _ = _hand_prep(tmp_path, {"hazards": {"file": str(haz)}})
    net = prep.network
    name = {v: k for k, v in ids.items()}
    order = [name[int(net.node_ids[i])] for i in crossing_nodes(net)]
    assert [k for k in order if k in "EBD"] == ["E", "B", "D"]
    hand = {"E": (500, -500), "B": (500, 0), "D": (500, 500)}
    allowed = [k for k in "EBD" if np.hypot(hand[k][0] - 500, hand[k][1] + 550) >= 200]
    kept = []
    for k in allowed:  # greedy thinning, preferred crossings first
        if all(np.hypot(hand[k][0] - hand[j][0], hand[k][1] - hand[j][1]) >= 600 for j in kept):
            kept.append(k)
    assert kept == ["B"]
    cands = make_candidates(prep, spacing_m=600, station_class="small")
    assert _labels_to_names(ids, cands.label) == set(kept)


def test_user_points_are_never_thinned_and_drops_are_reported(tmp_path):
    # two user points 100 m apart with a 150 m spacing are both kept; one on an island street is
    # dropped, with a warning and an entry in the summary
    import shapely

    from coverage.errors import CoverageWarning
    from coverage.siting import make_candidates

    _, _, ref = _hand_prep(tmp_path, island=True)
    pts = _geojson(tmp_path, "pts", [shapely.Point(150, 0), shapely.Point(250, 0), shapely.Point(3100, 5)], ref)
    prep, _, _ = _hand_prep(tmp_path, {"candidates": {"file": str(pts)}, "candidate_spacing_m": 150},
                            island=True)
    with pytest.warns(CoverageWarning, match=r"pts2 \(user:2\) \(off the main network"):
        cands = make_candidates(prep, spacing_m=150, station_class="small")
    assert list(cands.label) == ["pts0 (user:0)", "pts1 (user:1)"]
    assert np.hypot(cands.at.x[1] - cands.at.x[0], cands.at.y[1] - cands.at.y[0]) == pytest.approx(100, abs=0.5)
    assert [d["label"] for d in cands.dropped] == ["pts2 (user:2)"]
    with pytest.warns(CoverageWarning, match="user:2"):
        res = propose_sites(prep, model="mclp", new=1)
    assert [d["label"] for d in res.summary["dropped_candidates"]] == ["pts2 (user:2)"]
    assert "off the main network" in res.summary["dropped_candidates"][0]["reason"]


def test_planned_station_breaking_a_rule_is_kept_with_a_warning(helsinki, tmp_path):
    import geopandas as gpd
    import shapely

    from coverage.errors import CoverageWarning
    from coverage.scenario import FileRef

    net = helsinki.network
    free = propose_sites(helsinki, model="mclp", new=1).candidates
    k = int(np.flatnonzero(free.label == "hakaniemi")[0])
    x, y = float(free.at.x[k]), float(free.at.y[k])
    path = tmp_path / "haz.geojson"
    gpd.GeoDataFrame({"name": ["fuel"]}, geometry=[shapely.Point(x + 30, y)], crs=net.crs).to_crs(4326).to_file(
        path, driver="GeoJSON")
    prep = _with_optimise(helsinki, hazards=FileRef(path=path))
    with pytest.warns(CoverageWarning, match=r"hakaniemi: 30 m from a hazardous site \(GB 51080 needs >= 200 m\)"):
        res = propose_sites(prep, model="mclp", new=1)
    assert "hakaniemi" in set(res.candidates.label)
    (w,) = res.summary["siting_warnings"]
    assert w["station"] == "hakaniemi" and w["rule"] == "hazards" and w["min_m"] == 200
    assert w["distance_m"] == pytest.approx(30, abs=0.5)


def test_quota_errors_say_what_is_wrong(tmp_path):
    prep, _, _ = _hand_prep(tmp_path, {"quotas": {"west": {"min": 1}}})
    with pytest.raises(InputError, match="has no districts file"):
        propose_sites(prep, model="mclp", new=1)
    prep, _, _ = _hand_prep(tmp_path, {"quotas": {"east": {"min": 1, "max": 2}}}, districts=True)
    with pytest.raises(InputError, match=r"\['east'\] are in the districts file but have no candidate "
                                         r"sites.*drop their quotas or lower optimise"):
        propose_sites(prep, model="mclp", new=1)
    # a quota that cannot bind there (at most 1, or at least 0) is simply met
    for q in ({"max": 1}, {"min": 0}):
        prep, _, _ = _hand_prep(tmp_path, {"quotas": {"east": q}}, districts=True)
        assert propose_sites(prep, model="mclp", new=1).summary["new_sites"] == 1
    prep, _, _ = _hand_prep(tmp_path, {"quotas": {"north": {"min": 1}}}, districts=True)
    with pytest.raises(InputError, match=r"\['north'\] are not in the districts file.*'east', 'west'"):
        propose_sites(prep, model="mclp", new=1)


def test_max_quotas_below_new_are_refused(tmp_path):
    # every candidate (B, D, E) lies in "west", capped at 1: two new sites cannot be placed
    from coverage.errors import InfeasibleError
    from coverage.siting import make_candidates

    prep, _, _ = _hand_prep(tmp_path, {"quotas": {"west": {"max": 1}}}, districts=True)
    assert set(make_candidates(prep, spacing_m=0, station_class="small").district) == {"west"}
    for model in ("mclp", "backup", "pmedian"):
        with pytest.raises(InfeasibleError, match=r"maximum quotas allow at most 1 new sites but p=2: 'west' max 1"):
            propose_sites(prep, model=model, new=2)
    assert len(propose_sites(prep, model="mclp", new=1).sites) == 1


def test_too_few_crossings_suggests_a_smaller_spacing(tmp_path):
    prep, _, _ = _hand_prep(tmp_path, {"candidate_spacing_m": 600})  # E and D remain
    with pytest.raises(InputError, match=r"3 new stations asked .* only 2 candidate sites.*"
                                         r"lower optimise.candidate_spacing_m \(now 600 m\)"):
        propose_sites(prep, model="mclp", new=3)


def test_classes_only_with_mclp_and_matching_new(helsinki):
    from coverage.outputs import optimise_outputs

    prep = _with_optimise(helsinki, classes={"small": 1, "class1": 1}, new=2)
    for model in ("backup", "pmedian"):
        with pytest.raises(InputError, match=r"optimise.classes .* mclp only"):
            propose_sites(prep, model=model, new=2)
    with pytest.raises(InputError, match=r"--new 3 contradicts optimise.classes"):
        propose_sites(prep, model="mclp", new=3)
    with pytest.raises(InputError, match=r"optimise.classes .* mclp only, not lscp"):
        optimise_outputs(prep, model="lscp")


def test_sites_that_add_nothing_are_flagged(tmp_path):
    # B alone reaches every street piece of the hand network: the other two sites only fill
    # the count asked for
    prep, _, _ = _hand_prep(tmp_path)
    res = propose_sites(prep, model="mclp", new=3)
    c = res.candidates
    budget = np.array([prep.scenario.standard.travel_for(k) for k in c.station_class])
    t = point_times(prep.network, c.at, prep.demand.at, cutoff_s=budget.max()).toarray()
    reach = (t > 0) & (t <= budget[:, None] + 1e-9)
    w = prep.demand.weight
    done = np.zeros(len(w), bool)
    nothing = []
    for _, row in res.sites.sort_values("rank").iterrows():
        j = int(row["candidate"])
        if w[reach[j] & ~done].sum() == 0:
            nothing.append(row["label"])
        done |= reach[j]
    assert len(nothing) == 2
    assert [s["label"] for s in res.summary["sites_adding_nothing"]] == nothing
    assert {s["why"] for s in res.summary["sites_adding_nothing"]} == {"count"}
    assert "add nothing" in res.summary["sites_adding_nothing_note"]
    assert "2 only fill the number of new stations asked" in res.summary["sites_adding_nothing_note"]


def test_sites_a_quota_forces_are_not_said_to_fill_the_count(tmp_path):
    """Set cover with "at least 3 in west": B alone reaches everything, the other two are there for
    the quota; the note said they "only fill the number of new stations asked: fewer new stations
    do as well", which no number asked and the quota forbids."""
    prep, _, _ = _hand_prep(tmp_path, {"quotas": {"west": {"min": 3}}}, districts=True)
    res = propose_sites(prep, model="lscp")
    idle = res.summary["sites_adding_nothing"]
    assert len(res.sites) == 3 and len(idle) == 2 and {s["why"] for s in idle} == {"quota"}
    note = res.summary["sites_adding_nothing_note"]
    assert "2 needed for their district's minimum quota" in note and "fewer" not in note


def _helsinki_variant(tmp_path, stations=(), **optimise):
    data = yaml.safe_load((REPO / "scenarios" / "helsinki.yaml").read_text(encoding="utf-8"))
    data["stations"] += list(stations)
    data["optimise"].update(optimise)
    if data["optimise"].get("model") == "lscp":
        data["optimise"].pop("new", None)
    p = tmp_path / "h.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return p


def test_candidate_stations_required_and_excluded_sites(tmp_path, helsinki):
    # a candidate station at a generated crossing site that the free optimum does not pick
    base = propose_sites(helsinki, model="mclp", new=1)
    c = base.candidates
    j = int(np.flatnonzero(c.kind == "crossing")[5])
    assert c.label[j] not in set(base.sites["label"])
    site = {"id": "kamppi", "name": "Kamppi site", "class": "small", "status": "candidate",
            "at": {"lon": float(c.at.lon[j]), "lat": float(c.at.lat[j])}}
    free = prepare(load_scenario(_helsinki_variant(tmp_path, [site])))
    res = propose_sites(free, model="mclp", new=2)
    kinds = dict(zip(res.candidates.label, res.candidates.kind))
    assert kinds["kamppi"] == "candidate" and kinds["hakaniemi"] == "planned"
    # forced: the candidate station is built whatever the optimum; excluded: never chosen
    forced = prepare(load_scenario(_helsinki_variant(tmp_path, [site], required=["kamppi"],
                                                     excluded=["hakaniemi"])))
    got = propose_sites(forced, model="mclp", new=2)
    labels = list(got.sites["label"])
    assert "kamppi" in labels and "hakaniemi" not in labels
    assert got.solution.objective <= res.solution.objective + 1e-9
    # brute force over the second site, with kamppi in and hakaniemi out
    budget = np.array([free.scenario.standard.travel_for(k) for k in res.candidates.station_class])
    t = point_times(free.network, res.candidates.at, free.demand.at, cutoff_s=budget.max()).toarray()
    reach = (t > 0) & (t <= budget[:, None] + 1e-9)
    w = free.demand.weight
    lab = list(res.candidates.label)
    have = reach[np.flatnonzero(res.candidates.kind == "existing")].any(axis=0) | reach[lab.index("kamppi")]
    best = max(w[have | reach[k]].sum() for k in range(len(lab))
               if res.candidates.kind[k] != "existing" and lab[k] not in ("kamppi", "hakaniemi"))
    assert got.solution.objective == pytest.approx(best, rel=1e-9)
    # generated crossings keep the candidate spacing from every station
    c = res.candidates
    gen = c.kind == "crossing"
    given = np.isin(c.kind, ["existing", "planned", "candidate"])
    d = np.hypot(c.at.x[gen][:, None] - c.at.x[given][None, :], c.at.y[gen][:, None] - c.at.y[given][None, :])
    assert gen.sum() > 20 and d.min() >= 150.0


@pytest.mark.parametrize("optimise, match", [
    ({"qoutas": {"a": 1}}, r"optimise.qoutas.*did you mean 'quotas'"),
    ({"required": ["nowhere"]}, r"optimise.required: got 'nowhere'.*planned or candidate station"),
    ({"excluded": ["erottaja"]}, r"optimise.excluded: got 'erottaja'.*existing stations are always kept"),
    ({"required": ["hakaniemi"], "excluded": ["hakaniemi"]}, r"not also in optimise.excluded"),
    ({"new": 0, "required": ["hakaniemi"]}, r"optimise.required.*at most optimise.new \(0\) ids"),
])
def test_optimise_section_mistakes_are_named(tmp_path, optimise, match):
    from coverage.errors import ScenarioError

    with pytest.raises(ScenarioError, match=match):
        load_scenario(_helsinki_variant(tmp_path, **optimise))


def test_demand_no_site_reaches_means_the_same_for_every_model(helsinki):
    res = {m: propose_sites(helsinki, model=m, new=None if m == "lscp" else 1)
           for m in ("lscp", "mclp", "backup", "pmedian")}
    c = res["mclp"].candidates
    budget = np.array([helsinki.scenario.standard.travel_for(k) for k in c.station_class])
    t = point_times(helsinki.network, c.at, helsinki.demand.at, cutoff_s=budget.max()).toarray()
    none = ~((t > 0) & (t <= budget[:, None] + 1e-9)).any(axis=0)
    w = helsinki.demand.weight
    want = round(float(w[none].sum() / w.sum()), 6)
    assert want > 0
    for m, r in res.items():
        assert r.summary["uncoverable_share"] == pytest.approx(want, abs=1e-6), m
        assert len(r.uncoverable) == int(none.sum()), m
    assert res["pmedian"].summary["beyond_horizon_share"] <= want


def test_runs_sharing_candidates_and_times_give_the_same_answers(helsinki, monkeypatch):
    import coverage.traveltime as tt

    calls = []
    real = tt.point_times
    monkeypatch.setattr(tt, "point_times", lambda *a, **k: calls.append(1) or real(*a, **k))
    runs = [dict(model="mclp", new=1), dict(model="lscp", quotas=False),
            dict(model="lscp", quotas=False, fix_planned=True)]
    alone = [propose_sites(helsinki, **r).summary for r in runs]
    n_alone = len(calls)
    shared: dict = {}
    together = [propose_sites(helsinki, shared=shared, **r).summary for r in runs]
    assert n_alone == 3 and len(calls) - n_alone == 1  # the drive times are computed once
    for a, b in zip(alone, together):
        a.pop("solve_seconds"), b.pop("solve_seconds")
        assert a == b


def test_an_excluded_station_neither_reaches_demand_nor_keeps_crossings_away(tmp_path):
    from coverage.outputs import run_all

    path = _helsinki_variant(tmp_path, model="lscp", candidate_spacing_m=400, excluded=["hakaniemi"])
    prep = prepare(load_scenario(path))
    res = propose_sites(prep, model="lscp")
    s = res.summary
    assert "hakaniemi" not in set(res.sites["label"])
    # every unit is covered after the plan or reached by no usable site
    assert s["covered_share_after"] + s["uncoverable_share"] == pytest.approx(1.0, abs=1e-5)
    c = res.candidates
    at = int(np.flatnonzero(c.label == "hakaniemi")[0])
    gen = np.flatnonzero(c.kind == "crossing")
    near = np.hypot(c.at.x[gen] - c.at.x[at], c.at.y[gen] - c.at.y[at]) < 400
    free = prepare(load_scenario(_helsinki_variant(tmp_path, model="lscp", candidate_spacing_m=400)))
    c0 = propose_sites(free, model="lscp").candidates
    gen0 = np.flatnonzero(c0.kind == "crossing")
    at0 = int(np.flatnonzero(c0.label == "hakaniemi")[0])
    assert near.any() and not (np.hypot(c0.at.x[gen0] - c0.at.x[at0], c0.at.y[gen0] - c0.at.y[at0]) < 400).any()
    # the requirement ignores the plan's exclusions even when the model is lscp
    req = run_all(prep).summary["requirement"]
    assert req["stations_required"] == run_all(free).summary["requirement"]["stations_required"]


def test_candidate_station_breaking_a_rule_is_left_out_unless_required(helsinki, tmp_path):
    """A station only offered as a candidate (status: candidate) 30 m from a fuel station used to
    be proposed; it is left out with a reason now. One the scenario requires stays, warned about."""
    from dataclasses import replace

    import geopandas as gpd
    import shapely

    from coverage.errors import CoverageWarning
    from coverage.scenario import FileRef

    net = helsinki.network
    free = propose_sites(helsinki, model="mclp", new=1).candidates
    k = int(np.flatnonzero(free.label == "hakaniemi")[0])
    path = tmp_path / "haz.geojson"
    gpd.GeoDataFrame({"name": ["fuel"]}, geometry=[shapely.Point(float(free.at.x[k]) + 30, float(free.at.y[k]))],
                     crs=net.crs).to_crs(4326).to_file(path, driver="GeoJSON")
    st = helsinki.stations.copy()
    st.loc[st["id"] == "hakaniemi", "status"] = "candidate"
    prep = replace(_with_optimise(helsinki, hazards=FileRef(path=path)), stations=st)
    with pytest.warns(CoverageWarning, match=r"1 candidate station\(s\) break the GB 51080 siting rules and are left out"):
        res = propose_sites(prep, model="mclp", new=1)
    assert "hakaniemi" not in set(res.candidates.label) and "hakaniemi" not in set(res.sites["label"])
    assert [d["label"] for d in res.summary["dropped_candidates"]] == ["hakaniemi"]
    assert res.summary["siting_warnings"] == []
    prep = replace(_with_optimise(helsinki, hazards=FileRef(path=path), required=("hakaniemi",)), stations=st)
    with pytest.warns(CoverageWarning, match="they stay candidates because the plan names them"):
        res = propose_sites(prep, model="mclp", new=1)
    assert "hakaniemi" in set(res.sites["label"])
    assert res.summary["siting_warnings"][0]["status"] == "candidate"


def test_no_candidates_error_counts_stations_and_points_apart(helsinki, tmp_path):
    """A candidate station ruled out by a siting rule was counted as a dropped "user point"."""
    from dataclasses import replace

    import geopandas as gpd
    import shapely

    from coverage.scenario import FileRef

    path = tmp_path / "haz.geojson"
    gpd.GeoDataFrame({"name": ["big"]}, geometry=[shapely.box(24.90, 60.15, 25.00, 60.20)], crs=4326).to_file(
        path, driver="GeoJSON")
    st = helsinki.stations.copy()
    st.loc[st["id"] == "hakaniemi", "status"] = "candidate"
    prep = replace(_with_optimise(helsinki, hazards=FileRef(path=path)), stations=st)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(InputError, match="no candidate sites: 1 candidate station\\(s\\) breaking the siting rules") as info:
            propose_sites(prep, model="mclp", new=1)
    assert "user point" not in str(info.value)


def test_osm_siting_rules_read_osm_not_the_users_pois_file(helsinki, tmp_path, monkeypatch):
    """hazards: {osm: true} took the user's own pois file whenever it had an amenity column."""
    import geopandas as gpd
    import shapely

    import coverage.osmfeatures as osmf
    from coverage.errors import CoverageWarning
    from coverage.scenario import FileRef

    net = helsinki.network
    free = propose_sites(helsinki, model="mclp", new=1).candidates
    k = int(np.flatnonzero(free.label == "hakaniemi")[0])
    near = gpd.GeoSeries([shapely.Point(float(free.at.x[k]) + 30, float(free.at.y[k]))], crs=net.crs).to_crs(4326)
    osm = gpd.GeoDataFrame({"amenity": ["fuel"], "name": ["fuel"], "osmid": ["node/1"]}, geometry=near, crs=4326)
    calls = []
    monkeypatch.setattr(osmf, "osm_features", lambda *a, **kw: calls.append(kw) or osm)
    users = gpd.GeoDataFrame({"name": ["school"], "amenity": ["school"]},
                             geometry=gpd.GeoSeries([shapely.Point(24.0, 60.0)], crs=4326), crs=4326)
    rule = FileRef(path=Path("<osm>"), options={"osm": True})
    sc = helsinki.scenario
    prep = replace(helsinki, pois=users, scenario=replace(
        sc, pois=FileRef(path=tmp_path / "mine.geojson"), optimise=replace(sc.optimise, hazards=rule)))
    with pytest.warns(CoverageWarning, match="hakaniemi: 30 m from a hazardous site"):
        propose_sites(prep, model="mclp", new=1)
    assert calls and calls[0].get("offline") is False


def test_a_logistics_station_is_neither_fixed_nor_a_site(helsinki):
    # the Helsinki station made a logistics-support one: it covers nothing, so the optimiser
    # fixes no station and the best single site is the brute-force best from scratch
    st = helsinki.stations.copy()
    st.loc[st["status"] == "existing", "class"] = "logistics"
    prep = replace(helsinki, stations=st)
    res = propose_sites(prep, model="mclp", new=1)
    assert "existing" not in set(res.candidates.kind) and res.summary["fixed_existing"] == 0
    c = res.candidates
    budget = np.array([prep.scenario.standard.travel_for(k) for k in c.station_class])
    t = point_times(prep.network, c.at, prep.demand.at, cutoff_s=budget.max()).toarray()
    reach = (t > 0) & (t <= budget[:, None] + 1e-9)
    w = prep.demand.weight
    assert res.solution.objective == pytest.approx(max(w[reach[j]].sum() for j in range(len(budget))), rel=1e-9)
