"""Propose new station sites for a scenario: candidates on the network, coverage matrix, solve.

Existing stations are fixed; the plan's planned stations join the candidates (so the optimum can
confirm or replace them); other candidates are network crossings in the study area thinned to a
spacing, or the user's own points / land polygons, filtered by the GB 51080 siting rules.
The rules are checked where each site stands on the network (a user's point after snapping),
against the hazard and venue geometries (an area from its boundary), before any thinning; the
user's own points are never thinned, and each one dropped is reported. Planned stations that break
a rule stay candidates, with a warning and an entry in the summary (``siting_warnings``).

A station must open onto a surface street it can leave from: crossings (and road nodes inside
candidate land) where every road is a tunnel or a road without frontage (``motorway``,
``motorway_link``, ``trunk_link``; see :func:`coverage.network.street_nodes`) are never
candidates, and generated sites sit exactly at their node on such a street. The user's own
points and the plan's planned stations are kept, with a :class:`CoverageWarning` naming each
one that lies on a tunnel or such a road.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely

from .errors import CoverageWarning, DataError, InputError
from .network import RoadNetwork, Snapped, snap_xy, street_edges, street_nodes
from .places import crossing_name
from .pipeline import Prepared
from .stations import responding, stations_snapped


@dataclass(frozen=True, eq=False)
class Candidates:
    """Candidate sites: where they are on the network and what they are."""

    at: Snapped
    kind: np.ndarray        # "existing" / "planned" / "candidate" / "crossing" / "user"
    label: np.ndarray       # station id, node id or user row
    district: np.ndarray    # district name or None
    station_class: np.ndarray
    # planned stations breaking a GB 51080 siting rule (kept): {station, rule, distance_m, min_m}
    siting_warnings: tuple = ()
    # the user's candidate points dropped: {label, reason, snapped_m}
    dropped: tuple = ()
    # generated sites (crossings, nodes in candidate land) removed, by reason
    removed: dict = field(default_factory=dict)
    # where the sites beside the stations come from: {file, user_points, land_nodes, crossings,
    # spacing_m} (see :func:`_sources`)
    sources: dict = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class SitingResult:
    sites: gpd.GeoDataFrame          # selected new sites, ranked, with what each adds
    uncoverable: gpd.GeoDataFrame    # demand no candidate reaches in time
    solution: Any                    # coverage.optimise.Solution
    candidates: Candidates
    summary: dict = field(default_factory=dict)


def _concat(parts: list[Snapped]) -> Snapped:
    return Snapped(*(np.concatenate([getattr(p, f) for p in parts]) for f in
                     ("edge", "fraction", "distance_m", "x", "y", "lon", "lat")))


def crossing_nodes(network: RoadNetwork) -> np.ndarray:
    """Node indices where three or more distinct roads meet, biggest crossings first."""
    nbrs: list[set] = [set() for _ in range(network.n_nodes)]
    for u, v in zip(network.edge_u.tolist(), network.edge_v.tolist()):
        nbrs[u].add(v)
        nbrs[v].add(u)
    deg = np.array([len(s) for s in nbrs])
    nodes = np.flatnonzero(deg >= 3)
    return nodes[np.argsort(-deg[nodes], kind="stable")]


def at_nodes(network: RoadNetwork, nodes: np.ndarray) -> Snapped:
    """Points exactly at nodes, placed on a surface street leaving the node (fraction 0), else on
    one arriving (fraction 1), else on any road there. Unlike snapping the node's coordinates,
    this never lands on a tunnel or an expressway passing under or over the crossing."""
    nodes = np.asarray(nodes, dtype=np.int64)
    ok = street_edges(network)
    e = np.arange(network.n_edges)
    cand_node = np.concatenate([network.edge_u, network.edge_v])
    cand_edge = np.concatenate([e, e])
    cand_frac = np.concatenate([np.zeros(len(e)), np.ones(len(e))])
    prio = np.concatenate([np.where(ok, 0, 2), np.where(ok, 1, 3)])
    order = np.lexsort((cand_edge, prio, cand_node))
    first = np.full(network.n_nodes, -1, np.int64)
    sorted_nodes = cand_node[order]
    head = np.ones(len(order), bool)
    head[1:] = sorted_nodes[1:] != sorted_nodes[:-1]
    first[sorted_nodes[head]] = order[head]
    pick = first[nodes]
    if (pick < 0).any():
        raise DataError(f"{int((pick < 0).sum())} node(s) have no road: cannot place a site there")
    x, y = network.x[nodes], network.y[nodes]
    return Snapped(edge=cand_edge[pick].astype(np.int64), fraction=cand_frac[pick],
                   distance_m=np.zeros(len(nodes)), x=x, y=y, lon=network.lon[nodes],
                   lat=network.lat[nodes])


def _warn_off_street(network: RoadNetwork, at: Snapped, labels: list, what: str) -> None:
    """Warn about sites lying on a tunnel or on a road without frontage."""
    bad = np.flatnonzero(~street_edges(network)[at.edge])
    if len(bad) == 0:
        return
    shown = ", ".join(
        f"{labels[i]} ({'tunnel' if network.edge_tunnel[at.edge[i]] else 'bridge' if network.edge_bridge[at.edge[i]] else network.edge_highway[at.edge[i]]})"
        for i in bad[:5])
    warnings.warn(
        f"{len(bad)} {what} lie in a tunnel, on a bridge or viaduct, or on a road without frontage "
        f"(motorway, motorway_link, trunk_link), where no station can open onto a street: {shown}"
        f"{' ...' if len(bad) > 5 else ''}; they are kept as given: check their position",
        CoverageWarning, stacklevel=3,
    )


#: GB 51080 §4.1.5 siting distances (metres): (rule, what it keeps the station from, minimum)
SITING_RULES = (("hazards", "a hazardous site", 200.0), ("venues", "a crowded venue's exit", 50.0))


def _rule_layers(prep: Prepared) -> dict[str, np.ndarray]:
    """The scenario's siting-rule features as shapely geometries in the network CRS."""
    spec = prep.scenario.optimise
    out = {}
    for kind, _, _ in SITING_RULES:
        g = _rule_geoms(getattr(spec, kind), prep.network, prep, kind)
        if g is not None and len(g):
            out[kind] = g
    return out


def _rule_breaches(layers: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray) -> list[list[dict]]:
    """Per point, the GB 51080 rules it breaks: ``{"rule", "distance_m", "min_m"}`` each."""
    from .candidates import nearest_distance

    out: list[list[dict]] = [[] for _ in range(len(x))]
    for kind, what, min_m in SITING_RULES:
        if kind not in layers or len(x) == 0:
            continue
        d = nearest_distance(x, y, layers[kind])
        for i in np.flatnonzero(d < min_m).tolist():
            out[i].append({"rule": kind, "what": what, "distance_m": round(float(d[i]), 1), "min_m": min_m})
    return out


def _breach_text(b: list[dict]) -> str:
    return "; ".join(f"{r['distance_m']:.0f} m from {r['what']} (GB 51080 needs >= {r['min_m']:.0f} m)"
                     for r in b)


def make_candidates(prep: Prepared, *, spacing_m: float, station_class: str) -> Candidates:
    """Existing stations (to fix), planned and candidate stations, then crossings or the user's
    candidates.

    The siting rules are checked at each site's final position on the network (a user's point
    after snapping onto its road), against the hazard and venue geometries (an area from its
    boundary). Generated sites (crossings, road nodes inside candidate land) that break a rule or
    cannot reach the main network are dropped first, and only then thinned to ``spacing_m``.
    The user's own points are never thinned; each one dropped is named in a
    :class:`CoverageWarning` and in ``Candidates.dropped``. Planned stations are kept (the plan
    names them) with a warning for each rule they break (``Candidates.siting_warnings``).
    """
    from .candidates import thin_candidates
    from .demand import _area_projected, _assign_districts, _districts_projected
    from .io import read_features
    from .scoring import _subset
    from .traveltime import on_main_network

    net = prep.network
    spec = prep.scenario.optimise
    st = prep.stations
    layers = _rule_layers(prep) if (spec.hazards is not None or spec.venues is not None) else {}
    siting_warnings: list[dict] = []
    dropped: list[dict] = []
    removed = {"siting_rules": 0, "off_main_network": 0, "spacing": 0}
    parts, kinds, labels, classes = [], [], [], []
    stated: list = []  # the district of each of the plan's stations (stated, else where it lies)
    for status in ("existing", "planned", "candidate"):
        # a logistics-support station covers no district: not fixed, not a site
        rows = st[(st["status"] == status).to_numpy() & responding(st)]
        if len(rows) == 0:
            continue
        at = stations_snapped(net, rows)
        ids = list(rows["id"].astype(str))
        if status != "existing":
            _warn_off_street(net, at, ids, f"{status} station(s)")
            breaches = _rule_breaches(layers, at.x, at.y)
            # a candidate station is only offered: one breaking a rule is left out (unless
            # required); planned ones (and required candidates) are the plan's: kept, warned about
            drop = np.array([bool(b) and status == "candidate" and sid not in spec.required
                             for sid, b in zip(ids, breaches)], bool)
            dropped += [{"label": sid, "reason": "siting rule: " + _breach_text(b), "station": True}
                        for sid, b, d in zip(ids, breaches, drop) if d]
            if drop.any():
                warnings.warn(
                    f"{int(drop.sum())} candidate station(s) break the GB 51080 siting rules and are left "
                    "out: " + "; ".join(f"{sid}: {_breach_text(b)}" for sid, b, d in zip(ids, breaches, drop) if d),
                    CoverageWarning, stacklevel=2)
            bad = [(sid, b) for sid, b, d in zip(ids, breaches, drop) if b and not d]
            siting_warnings += [{"station": sid, "status": status, "rule": r["rule"], "distance_m": r["distance_m"],
                                 "min_m": r["min_m"]} for sid, b in bad for r in b]
            if bad:
                warnings.warn(
                    f"{len(bad)} {status} station(s) break the GB 51080 siting rules: "
                    + "; ".join(f"{sid}: {_breach_text(b)}" for sid, b in bad)
                    + "; they stay candidates because the plan names them: check their position",
                    CoverageWarning, stacklevel=2,
                )
            if drop.any():
                keep = np.flatnonzero(~drop)
                rows, at, ids = rows.iloc[keep], _subset(at, keep), [ids[i] for i in keep]
                if len(rows) == 0:
                    continue
        parts.append(at)
        kinds += [status] * len(rows)
        labels += ids
        classes += list(rows["class"])
        stated += list(rows["district"]) if "district" in rows.columns else [None] * len(rows)
    n_fixed_like = sum(len(p) for p in parts)
    street = street_nodes(net)

    def rule_ok(x, y) -> tuple[np.ndarray, list[list[dict]]]:
        b = _rule_breaches(layers, x, y)
        return np.array([not r for r in b], bool), b

    pt_at = None       # the user's points, snapped: never thinned
    pt_lab: list = []
    nodes = np.zeros(0, np.int64)  # generated sites: crossings or road nodes inside candidate land
    if spec.candidates is not None:
        feats = read_features(spec.candidates.path, datum=spec.candidates.datum, what="candidates").to_crs(net.crs)
        polys = feats[feats.geom_type.isin(["Polygon", "MultiPolygon"])]
        pts = feats[~feats.geom_type.isin(["Polygon", "MultiPolygon"])]
        if len(pts):
            rp = pts.geometry.representative_point()
            names = pts["name"] if "name" in pts.columns else [None] * len(pts)
            pt_lab = [f"{n} (user:{i})" if isinstance(n, str) and n.strip() else f"user:{i}"
                      for i, n in zip(pts.index, names)]
            pt_at = snap_xy(net, rp.x.to_numpy(float), rp.y.to_numpy(float), max_distance_m=300.0,
                            labels=pt_lab)
            _warn_off_street(net, pt_at, pt_lab, "user candidate site(s)")
            ok, breach = rule_ok(pt_at.x, pt_at.y)  # where the station would stand: on the road
            for i in np.flatnonzero(~ok).tolist():
                dropped.append({"label": pt_lab[i], "reason": "siting rule: " + _breach_text(breach[i]),
                                "snapped_m": round(float(pt_at.distance_m[i]), 1)})
            main = on_main_network(net, pt_at)
            for i in np.flatnonzero(ok & ~main).tolist():
                dropped.append({"label": pt_lab[i], "reason": "off the main network: its road cannot "
                                "reach the main road network (an island or a one-way dead end)",
                                "snapped_m": round(float(pt_at.distance_m[i]), 1)})
            keep = np.flatnonzero(ok & main)
            pt_at = _subset(pt_at, keep)
            pt_lab = [pt_lab[i] for i in keep]
        if len(polys):
            land = shapely.union_all(polys.geometry.to_numpy())
            inside = np.flatnonzero(shapely.contains_xy(land, net.x, net.y))
            if len(inside) == 0:
                raise DataError("no road node lies inside the candidate land polygons")
            inside = inside[street[inside]]  # a site opens onto a surface street
            if len(inside) == 0:
                raise DataError(
                    "the road nodes inside the candidate land polygons are all on tunnels or roads "
                    "without frontage (motorway, motorway_link, trunk_link): no station can open there"
                )
            nodes = inside.astype(np.int64)
        kind = "user"
    else:
        nodes = crossing_nodes(net)
        nodes = nodes[street[nodes]]  # never a tunnel-only or expressway-only crossing
        area_p = _area_projected(net, prep.area)
        if area_p is not None:
            nodes = nodes[shapely.contains_xy(area_p, net.x[nodes], net.y[nodes])]
        nodes = nodes.astype(np.int64)
        kind = "crossing"
    if len(nodes):
        # generated sites sit exactly at their node, on a street leaving it (never on a tunnel or
        # an expressway passing under or over the crossing): the rules are checked there, and
        # sites that are ruled out must not displace others, so filter first, then thin
        ok, _ = rule_ok(net.x[nodes], net.y[nodes])
        removed["siting_rules"] += int((~ok).sum())
        nodes = nodes[ok]
    if len(nodes):
        main = on_main_network(net, at_nodes(net, nodes))  # an island or one-way dead end is useless
        removed["off_main_network"] += int((~main).sum())
        nodes = nodes[main]
    if len(nodes) and spacing_m > 0:
        n0 = len(nodes)
        # the stations (existing, planned, candidate) and the user's points are kept as given:
        # generated sites keep the spacing from them (a crossing beside a station adds nothing)
        # (not from the stations optimise.excluded takes out: their land is not available)
        given = parts + ([pt_at] if len(pt_lab) else [])  # in the order of labels + pt_lab
        if given:
            from scipy.spatial import cKDTree

            usable = ~np.isin(np.array(labels + pt_lab, dtype=object), list(spec.excluded))
            gx = np.concatenate([g.x for g in given])[usable]
            gy = np.concatenate([g.y for g in given])[usable]
            if len(gx):
                d, _ = cKDTree(np.column_stack([gx, gy])).query(
                    np.column_stack([net.x[nodes], net.y[nodes]]), k=1)
                nodes = nodes[d >= spacing_m]
        if len(nodes):
            nodes = nodes[thin_candidates(net.x[nodes], net.y[nodes], spacing_m)]
        removed["spacing"] += n0 - len(nodes)
    points_dropped = [d for d in dropped if not d.get("station")]  # stations were warned about above
    if points_dropped:
        warnings.warn(
            f"{len(points_dropped)} user candidate point(s) dropped: "
            + "; ".join(f"{d['label']} ({d['reason']})" for d in points_dropped[:10])
            + (" ..." if len(points_dropped) > 10 else ""),
            CoverageWarning, stacklevel=2,
        )
    if pt_at is not None and len(pt_lab):
        parts.append(pt_at)
        kinds += ["user"] * len(pt_lab)
        labels += pt_lab
        classes += [station_class] * len(pt_lab)
    if len(nodes):
        parts.append(at_nodes(net, nodes))
        kinds += [kind] * len(nodes)
        # named as plans name places: the crossing's roads, with the OSM node to find it exactly
        names = [crossing_name(net, int(i)) for i in nodes]
        labels += [f"{nm} (node:{n})" if nm else f"node:{n}" for nm, n in zip(names, net.node_ids[nodes])]
        classes += [station_class] * len(nodes)
    if len(kinds) == n_fixed_like and not any(k in ("planned", "candidate") for k in kinds):
        why = []
        if points_dropped:
            why.append(f"{len(points_dropped)} user point(s) dropped")
        if len(dropped) > len(points_dropped):
            why.append(f"{len(dropped) - len(points_dropped)} candidate station(s) breaking the siting rules")
        if removed["siting_rules"]:
            why.append(f"{removed['siting_rules']} site(s) ruled out by the GB 51080 siting rules")
        if removed["off_main_network"]:
            why.append(f"{removed['off_main_network']} site(s) off the main road network")
        raise InputError(
            "no candidate sites: "
            + ("; ".join(why) + " and none left" if why else
               "the study area has no road crossings and no candidates file was given "
               "(optimise.candidates: {file: ...})")
        )
    at = _concat(parts)
    d = _districts_projected(net, prep.districts, prep.district_field) if prep.districts is not None else None
    district = _assign_districts(at.x, at.y, d)
    # the plan's stations count where the plan says (pipeline._label_districts warns when that
    # is not where they lie), as in the scoring and its per-district table
    for i, name in enumerate(stated if d is not None else ()):
        if name is not None and name == name:
            district[i] = str(name)
    return Candidates(at=at, kind=np.array(kinds, dtype=object), label=np.array(labels, dtype=object),
                      district=district, station_class=np.array(classes, dtype=object),
                      siting_warnings=tuple(siting_warnings), dropped=tuple(dropped),
                      removed=dict(removed),
                      sources=_sources(spec, len(pt_lab), kind, len(nodes), spacing_m))


def _sources(spec, n_points: int, kind: str, n_nodes: int, spacing_m: float) -> dict:
    """Where the candidate sites beside the stations come from: the user's points and the road
    nodes inside the user's land (``optimise.candidates``, never both with crossings), or the
    road crossings; generated sites (land nodes, crossings) are at least ``spacing_m`` apart."""
    return {"file": spec.candidates.path.name if spec.candidates is not None else None,
            "user_points": int(n_points),
            "land_nodes": int(n_nodes) if kind == "user" else 0,
            "crossings": int(n_nodes) if kind == "crossing" else 0,
            "spacing_m": float(spacing_m)}


def _plan_sites(cands: Candidates, spec, fixed: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Candidate indices of ``optimise.required`` / ``excluded`` (planned or candidate station
    ids); ``None`` for an empty list. A required station already fixed is left to ``fixed``."""
    out = []
    open_site = np.isin(cands.kind, ["planned", "candidate"])
    gone = {d.get("label") for d in cands.dropped}
    for where, ids in (("required", spec.required), ("excluded", spec.excluded)):
        idx = []
        for sid in ids:
            hit = np.flatnonzero(open_site & (cands.label == sid))
            if len(hit) == 0 and where == "excluded" and sid in gone:
                continue  # left out by the siting rules already
            if len(hit) == 0:
                raise InputError(f"optimise.{where} names station {sid!r}, which is not a planned or "
                                 "candidate station of this scenario")
            idx.append(int(hit[0]))
        idx = np.array(sorted(set(idx) - set(fixed.tolist())), dtype=np.int64)
        out.append(idx if len(idx) else None)
    return out[0], out[1]


def _rule_geoms(ref, net: RoadNetwork, prep: Prepared, kind: str) -> np.ndarray | None:
    """Hazard or venue features in the network CRS, as geometries: areas stay areas."""
    if ref is None:
        return None
    if ref.options.get("osm"):
        from .osmfeatures import crowded_venues, hazard_sites, osm_features

        # the OSM features the scenario already read (not a pois file of the user's own)
        from_osm = prep.scenario.pois is None and prep.pois is not None
        feats = prep.pois if from_osm else \
            osm_features(prep.scenario.network["source"], cache=prep.cache, offline=prep.offline)
        g = (hazard_sites if kind == "hazards" else crowded_venues)(feats)
        if len(g) == 0:
            return None
        g = g.to_crs(net.crs)
    else:
        from .io import read_features

        g = read_features(ref.path, datum=ref.datum, what=f"siting rule {kind}").to_crs(net.crs)
    return g.geometry.to_numpy()


def propose_sites(prep: Prepared, *, model: str = "mclp", new: int | None = None,
                  time_limit_s: float = 60.0, progress: bool = False, quotas: bool = True,
                  fix_planned: bool = False, shared: dict | None = None) -> SitingResult:
    """Solve the scenario's siting model.

    ``lscp`` needs no ``new``; ``mclp``/``backup``/``pmedian`` need ``new`` (the number of new
    stations). Quotas come from the scenario (``optimise.quotas``: district -> (min, max)) unless
    ``quotas=False``; ``fix_planned=True`` keeps the plan's planned stations in like existing ones
    (what is still needed after the plan) instead of letting them compete as candidates.
    ``shared``: a dict that several calls for the same ``prep`` pass, so that the candidate sites
    and their drive times are built once (``covplan run`` solves up to three models).
    """
    from . import optimise as opt
    from .traveltime import point_times

    spec = prep.scenario.optimise
    standard = prep.scenario.standard
    if model not in ("lscp", "mclp", "backup", "pmedian"):
        raise InputError(f"model {model!r} is unknown: expected lscp, mclp, backup or pmedian")
    if model != "lscp" and new is None:
        raise InputError(f"model {model!r} needs the number of new stations: --new N (or optimise.new)")
    if spec.classes and model in ("backup", "pmedian"):
        raise InputError(
            f"optimise.classes {dict(spec.classes)} apply to model mclp only; model {model!r} sites "
            f"new stations of one class (optimise.class): drop optimise.classes or use model mclp"
        )
    if spec.classes and model == "mclp" and new is not None and new != sum(spec.classes.values()):
        raise InputError(
            f"--new {new} contradicts optimise.classes {dict(spec.classes)}, which ask for "
            f"{sum(spec.classes.values())} new stations: drop --new or change the classes' counts"
        )
    if shared is not None and shared.get("prep") is not prep:
        shared.clear()
        shared["prep"] = prep
    cands = shared.get("candidates") if shared is not None else None
    if cands is None:
        cands = make_candidates(prep, spacing_m=spec.candidate_spacing_m, station_class=spec.station_class)
        if shared is not None:
            shared["candidates"] = cands
    n_open = int((cands.kind != "existing").sum())
    if model != "lscp" and new > n_open:
        kinds_open = set(cands.kind[cands.kind != "existing"].tolist())
        hints = []
        if "crossing" in kinds_open and spec.candidate_spacing_m > 0:
            hints.append(f"lower optimise.candidate_spacing_m (now {spec.candidate_spacing_m:g} m) "
                         "for more road crossings")
        if "user" in kinds_open:
            hints.append("add candidate points or land to optimise.candidates")
        if cands.removed.get("siting_rules") or cands.dropped:
            hints.append("check the siting rules (optimise.hazards / venues), which ruled out "
                         f"{cands.removed.get('siting_rules', 0) + len(cands.dropped)} site(s)")
        hints.append("or ask for fewer new stations")
        raise InputError(
            f"{new} new stations asked (--new or optimise.new) but only {n_open} candidate sites "
            f"are available ({', '.join(f'{int((cands.kind == k).sum())} {k}' for k in sorted(kinds_open))}): "
            + "; ".join(hints)
        )
    budgets = np.array([standard.travel_for(c) for c in cands.station_class], float)
    net = prep.network
    demand = prep.demand
    class_budget = {c: standard.travel_for(c) for c in spec.classes} if spec.classes and model == "mclp" else {}
    longest = max([budgets.max(), *class_budget.values()])
    horizon = max(longest, 4 * standard.travel_s) if model == "pmedian" else longest
    times = shared.get(("times", horizon)) if shared is not None else None
    if times is None:
        times = point_times(net, cands.at, demand.at, cutoff_s=horizon,
                            labels=list(cands.label)).tocsr()  # cand x demand
        if shared is not None:
            shared[("times", horizon)] = times
    tc = times.tocoo()

    def covers_within(budget_per_cand: np.ndarray) -> sp.csr_matrix:
        ok = tc.data <= budget_per_cand[tc.row] + 1e-9
        return sp.csr_matrix((np.ones(ok.sum(), bool), (tc.col[ok], tc.row[ok])),
                             shape=(len(demand), len(budget_per_cand)))

    covers = covers_within(budgets)
    fixed = np.flatnonzero(np.isin(cands.kind, ["existing", "planned"] if fix_planned else ["existing"]))
    groups = None
    gmin = gmax = None
    if spec.quotas and quotas:
        names = sorted({str(k) for k in spec.quotas})
        if prep.districts is None:
            raise InputError(
                f"optimise.quotas name district(s) {names} but the scenario has no districts file: "
                "quotas need one (districts: {file: ..., name_field: ...}) to tell which district "
                "each candidate site lies in"
            )
        groups = np.array([d if d is not None else "" for d in cands.district], dtype=object)
        gmin = {k: v[0] for k, v in spec.quotas.items() if v[0] is not None}
        gmax = {k: v[1] for k, v in spec.quotas.items() if v[1] is not None}
        in_file = {str(v) for v in prep.districts[prep.district_field].dropna()} \
            if prep.district_field in prep.districts.columns else set()
        unknown = [n for n in names if n not in in_file]
        if unknown:
            raise InputError(
                f"quota district(s) {unknown} are not in the districts file: expected district "
                f"names from its field {prep.district_field!r}, known: {sorted(in_file)}"
            )
        have = set(groups[cands.kind != "existing"])
        # a district without candidates matters only when its quota asks for a site there
        empty = [n for n in names if n not in have and (gmin.get(n) or 0) > 0]
        for n in names:
            if n not in have and n not in empty:
                gmin.pop(n, None)
                gmax.pop(n, None)
        if empty:
            raise InputError(
                f"quota district(s) {empty} are in the districts file but have no candidate sites "
                f"(no planned station, {'user candidate' if spec.candidates is not None else 'road crossing'} "
                "in them after the spacing and the siting rules): drop their quotas or "
                + ("add candidates there" if spec.candidates is not None
                   else "lower optimise.candidate_spacing_m")
            )
    w = demand.weight
    required, excluded = _plan_sites(cands, spec, fixed) if quotas else (None, None)
    common = dict(fixed=fixed, groups=groups, group_min=gmin, group_max=gmax,
                  time_limit_s=time_limit_s, progress=progress, excluded=excluded)
    if required is not None and not class_budget:
        common["required"] = required
    if class_budget:
        # each class with its own reach; existing stations keep their own class
        by_class = {}
        for c, b in class_budget.items():
            per = np.full(len(budgets), b)
            per[fixed] = budgets[fixed]
            by_class[c] = covers_within(per)
        fixed_by_class: dict[str, list[int]] = {c: [] for c in class_budget}
        for j in fixed:
            c = cands.station_class[j]
            if c not in fixed_by_class:  # an existing class with no new sites: count 0
                fixed_by_class[c] = []
                per = np.full(len(budgets), standard.travel_for(c))
                by_class[c] = covers_within(per)
            fixed_by_class[c].append(int(j))
        counts = {c: int(spec.classes.get(c, 0)) for c in by_class}
        common.pop("fixed")
        req_by_class = None
        if required is not None:  # a required station is built as its own class
            req_by_class = {}
            for j in required.tolist():
                c = str(cands.station_class[j])
                if not counts.get(c):
                    raise InputError(
                        f"optimise.required station {cands.label[j]!r} is of class {c!r}, but "
                        f"optimise.classes {dict(spec.classes)} build no new {c!r} stations: add "
                        f"{c} to the classes or change the station's class")
                req_by_class.setdefault(c, []).append(int(j))
        sol = opt.max_cover_classes(by_class, w, counts, fixed=fixed_by_class, required=req_by_class,
                                    **common)
    elif model == "lscp":
        sol = opt.min_cover(covers, weights=w, **common)
    elif model == "mclp":
        sol = opt.max_cover(covers, w, new, **common)
    elif model == "backup":
        sol = opt.backup_cover(covers, w, new, **common)
    else:
        penalty = 2.0 * horizon  # unreached demand counts at twice the horizon
        sol = opt.p_median(times.T.tocsr(), w, new, penalty_s=penalty, **common)

    total = float(w.sum())
    # demand no site (existing or candidate) reaches within its own standard: the same for every
    # model (p-median's own "uncoverable" is demand beyond its longer horizon)
    usable = np.ones(len(budgets), bool)
    if excluded is not None:
        usable[excluded] = False
    reachable = np.asarray(covers[:, usable].sum(axis=1)).ravel() > 0
    if class_budget:
        for m in by_class.values():
            reachable |= np.asarray(m[:, usable].sum(axis=1)).ravel() > 0
    uncov_idx = np.flatnonzero(~reachable).astype(np.int64)
    dg = demand.gdf()
    uncoverable = dg.iloc[uncov_idx].to_crs(4326) if len(uncov_idx) else dg.iloc[:0].to_crs(4326)

    # what each selected site covers within ITS standard (a class model's site: the class it got)
    sel = np.asarray(sol.selected, dtype=np.int64)
    new_sites = np.asarray(sol.new, dtype=np.int64)
    site_budget = budgets.copy()
    if getattr(sol, "site_class", None) is not None:
        for j, c in zip(sel.tolist(), sol.site_class):
            site_budget[j] = standard.travel_for(str(c))
    S = covers_within(site_budget)[:, sel].tocsc()
    pos = {j: k for k, j in enumerate(sel.tolist())}
    first = [pos[j] for j in fixed.tolist()]
    saves = {}
    if model == "pmedian":
        # the solver's build order (largest saving of weighted response time first)
        saves = dict(zip(sel.tolist(), np.asarray(sol.marginal, float).tolist()))
        first += [pos[j] for j in sorted(new_sites.tolist(), key=lambda j: -saves[j])]
    order, adds, unique = opt.site_gains(S, w, first)
    is_new = set(new_sites.tolist())
    ranked = [int(sel[k]) for k in order if int(sel[k]) in is_new]
    twice_new = _twice_gains(S, w, order) if model == "backup" else None
    area_add = _marginal_area(net, cands, fixed, ranked, site_budget)
    rows = []
    for rank, j in enumerate(ranked, 1):
        k = pos[j]
        row = {
            "rank": rank, "candidate": int(j), "kind": cands.kind[j], "label": cands.label[j],
            "class": (sol.site_class[k] if getattr(sol, "site_class", None) is not None
                      else cands.station_class[j]),
            "district": cands.district[j],
            "lon": float(cands.at.lon[j]), "lat": float(cands.at.lat[j]),
            "adds_weight": float(adds[k]), "adds_share": float(adds[k]) / total if total else np.nan,
            "unique_weight": float(unique[k]), "adds_km2": area_add.get(j, 0.0),
        }
        if model == "backup":
            row["adds_twice_weight"] = float(twice_new[k])
            row["adds_twice_share"] = float(twice_new[k]) / total if total else np.nan
        if model == "pmedian":
            row["saves_mean_s"] = saves[j] / total if total else np.nan
        rows.append(row)
    columns = ["rank", "candidate", "kind", "label", "class", "district", "lon", "lat",
               "adds_weight", "adds_share", "unique_weight", "adds_km2"]
    columns += {"backup": ["adds_twice_weight", "adds_twice_share"], "pmedian": ["saves_mean_s"]}.get(model, [])
    sites = gpd.GeoDataFrame(
        pd.DataFrame(rows, columns=columns),
        geometry=gpd.points_from_xy([r["lon"] for r in rows], [r["lat"] for r in rows]), crs=4326)

    # the plan's own planned stations (their own class's reach), for comparison with the optimum
    planned = np.flatnonzero(cands.kind == "planned")
    plan_cols = np.concatenate([fixed, planned])
    hits_after = np.diff(S.tocsr().indptr)  # sites covering each demand unit
    hits_before = np.diff(S[:, first[:len(fixed)]].tocsr().indptr) if len(fixed) else np.zeros(len(w), int)
    hits_plan = np.diff(covers[:, plan_cols].tocsr().indptr) if len(plan_cols) else np.zeros(len(w), int)

    def share(mask: np.ndarray) -> float | None:
        return round(float(w[mask].sum()) / total, 6) if total else None

    req = np.isin(cands.label.astype(str), [str(r) for r in spec.required]) if quotas \
        else np.zeros(len(cands.label), bool)
    summary = {
        "model": model, "status": sol.status, "objective": _f(sol.objective), "bound": _f(sol.bound),
        "gap": _f(sol.gap), "solve_seconds": round(float(sol.solve_seconds), 3),
        # sites the optimiser could choose: not the fixed ones, nor those optimise.excluded takes out
        "candidates": int(usable.sum()) - int(len(fixed)), "fixed_existing": int(len(fixed)),
        "new_sites": int(len(new_sites)),
        "covered_share_before": share(hits_before > 0),
        "covered_share_after": share(hits_after > 0),
        "covered_share_plan": share(hits_plan > 0),
        "planned_selected": [str(cands.label[j]) for j in planned if j in set(sel.tolist())],
        "uncoverable_share": round(float(w[uncov_idx].sum()) / total, 6) if total else None,
        "uncoverable_units": int(len(uncov_idx)),
        "uncoverable_means": "demand no site (existing or candidate) reaches within its standard",
        "quotas": {k: {"min": v[0], "max": v[1]} for k, v in spec.quotas.items()},
        # the plan's sites that compete: not those optimise.excluded takes out (``usable``) nor
        # those optimise.required puts in the plan (counted apart)
        "planned_candidates": int(((cands.kind == "planned") & usable & ~req).sum()) if not fix_planned else 0,
        "candidate_stations": int(((cands.kind == "candidate") & usable & ~req).sum()),
        "plan_required": int((np.isin(cands.kind, ["candidate"] if fix_planned else ["planned", "candidate"])
                              & usable & req).sum()),
        "candidate_sources": dict(cands.sources),
        "required": list(spec.required) if quotas else [],
        "excluded": list(spec.excluded) if quotas else [],
    }
    if model == "pmedian":
        far = np.asarray(sol.uncoverable, dtype=np.int64)
        summary["beyond_horizon_share"] = round(float(w[far].sum()) / total, 6) if total else None
        summary["horizon_s"] = float(horizon)
    if model == "backup":
        summary["covered_twice_share_before"] = share(hits_before >= 2)
        summary["covered_twice_share_after"] = share(hits_after >= 2)
    if model == "pmedian":
        summary["penalty_s"] = penalty
        summary["mean_time_s_before"] = _mean_time(times, fixed, w, penalty)
        summary["mean_time_s_after"] = _mean_time(times, sel, w, penalty)
    summary["sites"] = [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()}
                        for r in rows]
    # sites that add nothing by the model's own measure: the earlier sites already reach all the
    # demand they could add (MCLP/LSCP pad the count with them; the objective does not change)
    idle = [r for r in rows if r["adds_weight"] <= 1e-9 * max(total, 1.0)
            and (model != "backup" or r["adds_twice_weight"] <= 1e-9 * max(total, 1.0))
            and (model != "pmedian" or not r["saves_mean_s"] > 1e-9)]
    summary["sites_adding_nothing"] = [{"rank": r["rank"], "label": str(r["label"]),
                                        "why": _idle_reason(r, rows, spec, model, quotas)} for r in idle]
    if idle:
        summary["sites_adding_nothing_note"] = _idle_note(summary["sites_adding_nothing"], len(rows), model)
    summary["siting_warnings"] = [dict(w_) for w_ in cands.siting_warnings]
    summary["dropped_candidates"] = [dict(d) for d in cands.dropped]
    summary["candidates_removed"] = dict(cands.removed)
    if spec.classes and model == "lscp":
        summary["classes_note"] = (f"optimise.classes {dict(spec.classes)} apply to model mclp only: lscp "
                                   f"counts the fewest new stations of class {spec.station_class}")
    return SitingResult(sites=sites, uncoverable=uncoverable, solution=sol, candidates=cands, summary=summary)


def _idle_reason(row: Mapping[str, Any], rows: list, spec: Any, model: str, quotas: bool) -> str:
    """Why a proposed site that adds nothing is in the plan: ``required`` (optimise.required),
    ``quota`` (its district's minimum needs it), ``count`` (MCLP/backup/p-median: the number of
    new stations asked) or ``zero_weight`` (set cover: the demand only it reaches weighs 0)."""
    if quotas and str(row["label"]) in {str(r) for r in spec.required}:
        return "required"
    d = row.get("district")
    q = spec.quotas.get(d) if (quotas and spec.quotas and d is not None) else None
    if q is not None and q[0] and sum(1 for r in rows if r.get("district") == d) <= q[0]:
        return "quota"
    return "zero_weight" if model == "lscp" else "count"


def _idle_note(idle: list, n_rows: int, model: str) -> str:
    """The sentence explaining the proposed sites that add nothing, by their reasons."""
    why = {"required": "required by optimise.required",
           "quota": "needed for their district's minimum quota",
           "count": "only fill the number of new stations asked (fewer new stations do as well)",
           "zero_weight": "reach only demand of weight 0 that no other site reaches"}
    parts = []
    for key, text in why.items():
        labels = [r["label"] for r in idle if r["why"] == key]
        if labels:
            parts.append(f"{len(labels)} {text} ({', '.join(labels[:5])}{' ...' if len(labels) > 5 else ''})")
    return (f"{len(idle)} of the {n_rows} proposed sites add nothing: the sites ranked before them "
            "already reach all the demand these could reach"
            + (" (and cover it twice where they could)" if model == "backup" else "")
            + (" as fast" if model == "pmedian" else "")
            + "; " + "; ".join(parts))


def _twice_gains(S: sp.csc_matrix, w: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Per column of ``S``: demand weight it makes covered twice when added in ``order``."""
    hits = np.zeros(S.shape[0], dtype=np.int64)
    out = np.zeros(S.shape[1])
    for k in order.tolist():
        rows = S.indices[S.indptr[k]:S.indptr[k + 1]]
        out[k] = float(w[rows[hits[rows] == 1]].sum())
        hits[rows] += 1
    return out


def _mean_time(times: sp.csr_matrix, sites: np.ndarray, w: np.ndarray, penalty: float) -> float | None:
    """Demand-weighted mean seconds to the nearest of ``sites`` (unreached demand at ``penalty``)."""
    best = np.full(times.shape[1], float(penalty))
    if len(sites):
        sub = times[np.asarray(sites, dtype=np.int64)].tocoo()
        np.minimum.at(best, sub.col, np.minimum(sub.data, penalty))
    tot = float(w.sum())
    return round(float(best @ w) / tot, 3) if tot else None


def _f(v) -> float | None:
    v = float(v)
    return round(v, 6) if np.isfinite(v) else None


def _marginal_area(net: RoadNetwork, cands: Candidates, fixed: np.ndarray, order: list[int],
                   budgets: np.ndarray) -> dict[int, float]:
    """km² each new site adds to the reach of the fixed sites and the sites ranked before it."""
    from .isochrones import isochrones
    from .scoring import _subset

    cols = list(fixed) + list(order)
    if not order:
        return {}
    polys = {}
    for b in np.unique(budgets[cols]):
        idx = [c for c in cols if budgets[c] == b]
        iso = isochrones(net, _subset(cands.at, np.array(idx)), cutoff_s=float(b), mode="overlap",
                         labels=[cands.label[c] for c in idx])
        iso = iso.to_crs(net.crs)
        for o, g in zip(iso["origin"].to_numpy(int), iso.geometry):
            polys[idx[o]] = g
    done = shapely.union_all([polys[c] for c in fixed if c in polys]) if len(fixed) else shapely.Polygon()
    out = {}
    for j in order:
        g = polys.get(j)
        if g is None:
            out[j] = 0.0
            continue
        out[j] = float(shapely.area(shapely.difference(g, done)) / 1e6)
        done = shapely.union(done, g)
    return out
