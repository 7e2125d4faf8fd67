"""Turn pipeline results into report layers, tables and summaries, and write them atomically."""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from .errors import InputError
from .pipeline import Prepared, summary_header


@dataclass(frozen=True)
class Outputs:
    """What one command writes: GeoPackage layers, CSV tables, summary.json, extra files."""

    layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    extra_files: dict[str, str | bytes] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)  # in-memory results for maps


def _wgs(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return g.to_crs(4326) if g.crs is not None and g.crs.to_epsg() != 4326 else g


def _base_layers(prep: Prepared) -> dict[str, gpd.GeoDataFrame]:
    layers = {"stations": prep.stations.drop(columns=["edge", "fraction"])}
    if prep.area is not None:
        layers["area"] = gpd.GeoDataFrame({"name": [prep.scenario.name]}, geometry=[prep.area], crs=4326)
    if prep.districts is not None:
        layers["districts"] = prep.districts
    return layers


def score_outputs(prep: Prepared, *, progress: bool = False) -> Outputs:
    """Score the plan; layers: stations, reach, network districts, uncovered demand."""
    from .pipeline import score_scenario

    res = score_scenario(prep, progress=progress)
    layers = _base_layers(prep)
    layers.update({
        "station_scores": res.stations,
        "reach": res.reach,
        "network_districts": res.districts,
        "uncovered": res.uncovered,
    })
    tables = {"stations": pd.DataFrame(res.stations.drop(columns="geometry")),
              "demand": pd.DataFrame(res.demand.drop(columns="geometry"))}
    if len(res.by_district):
        tables["districts"] = res.by_district
    summary = {**summary_header(prep), **res.summary}
    return Outputs(layers=layers, tables=tables, summary=summary, objects={"score": res})


def optimise_outputs(prep: Prepared, *, model: str | None = None, new: int | None = None,
                     time_limit_s: float | None = None, progress: bool = False,
                     shared: dict | None = None) -> Outputs:
    """Propose new sites with the scenario's optimise settings (CLI options override)."""
    from .siting import propose_sites

    spec = prep.scenario.optimise
    if new is not None and (model or spec.model) == "lscp":
        raise InputError(f"--new {new} does not apply to model lscp, which finds the fewest new stations "
                         "that cover all coverable demand: drop --new, or use --model mclp/backup/pmedian")
    if spec.classes and (model or spec.model) != "mclp":
        raise InputError(f"optimise.classes {dict(spec.classes)} apply to model mclp only, not "
                         f"{model or spec.model}: drop optimise.classes from the scenario or use --model mclp")
    res, said = _kept_warnings("optimise", lambda: propose_sites(
        prep, model=model or spec.model, new=new if new is not None else spec.new,
        time_limit_s=spec.time_limit_s if time_limit_s is None else time_limit_s,
        progress=progress, shared=shared))
    layers = _base_layers(prep)
    layers["proposed"] = res.sites
    if len(res.uncoverable):
        layers["uncoverable"] = res.uncoverable
    tables = {"proposed": pd.DataFrame(res.sites.drop(columns="geometry"))}
    summary = {**summary_header(prep), "optimise": res.summary}
    summary["warnings"] = list(summary.get("warnings", [])) + said
    return Outputs(layers=layers, tables=tables, summary=summary, objects={"optimise": res})


def _kept_warnings(label: str, make):
    """``make()`` and its CoverageWarnings as summary lines (``"label: message"``); the warnings
    are still shown (``--quiet`` hides them, the summary keeps them)."""
    import warnings

    from .errors import CoverageWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CoverageWarning)
        out = make()
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    said = []
    for w in caught:
        text = f"{label}: {w.message}"
        if issubclass(w.category, CoverageWarning) and text not in said:
            said.append(text)
    return out, said


def hydrant_outputs(prep: Prepared, *, progress: bool = False) -> Outputs:
    """Hydrant gap analysis; writes hydrants.json with the plan-style counts."""
    from .pipeline import hydrants_scenario

    res, said = _kept_warnings("hydrants", lambda: hydrants_scenario(prep, progress=progress))
    s = res.summary()
    layers = _base_layers(prep)
    points = _hydrant_points(res)
    if points is not None and len(points):
        layers["hydrants"] = points
    for name in ("protected", "unprotected", "proposals", "water_cranes"):
        g = getattr(res, name, None)
        if isinstance(g, gpd.GeoDataFrame) and len(g):
            layers[f"hydrant_{name}"] = _wgs(g)
    summary = {**summary_header(prep), "hydrants": s}
    summary["warnings"] = list(summary.get("warnings", [])) + said
    return Outputs(layers=layers, summary=summary, extra_files={"hydrants.json": _json_text(s)},
                   objects={"hydrants": res})


def _light(g: gpd.GeoDataFrame, prep: Prepared, tolerance_m: float = 3.0) -> gpd.GeoDataFrame:
    """Polygons simplified for the map (a few metres; reports keep full detail)."""
    if g is None or len(g) == 0:
        return g
    p = g.to_crs(prep.network.crs)
    p["geometry"] = p.geometry.simplify(tolerance_m, preserve_topology=True)
    return p.to_crs(4326)


def _merged_lines(g: gpd.GeoDataFrame, prep: Prepared) -> gpd.GeoDataFrame:
    """Uncovered road pieces merged into continuous lines per district for the map."""
    import shapely

    if g is None or len(g) == 0:
        return g
    p = g.to_crs(prep.network.crs)
    key = p["district"].fillna("") if "district" in p.columns else pd.Series("", index=p.index)
    rows, geoms = [], []
    for name, part in p.groupby(key):
        merged = shapely.line_merge(shapely.union_all(part.geometry.to_numpy()))
        rows.append({"district": name or None, "weight": float(part["weight"].sum()),
                     "units": int(len(part)), "km": round(float(part.geometry.length.sum()) / 1000, 3)})
        geoms.append(shapely.simplify(merged, 2.0))
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=prep.network.crs).to_crs(4326)


def _hydrant_points(res) -> gpd.GeoDataFrame | None:
    """The snapped hydrants of a hydrant result (WGS-84), or None."""
    if res is None:
        return None
    g = getattr(getattr(res, "snapped", None), "hydrants", None)
    return _wgs(g) if isinstance(g, gpd.GeoDataFrame) else None


def _json_text(obj: Any) -> str:
    import json

    import numpy as np

    def default(o):
        if isinstance(o, np.integer):
            return int(o)
        if isinstance(o, np.floating):
            return None if not np.isfinite(o) else float(o)
        if isinstance(o, np.bool_):
            return bool(o)
        if isinstance(o, np.ndarray):
            return o.tolist()
        return str(o)

    return json.dumps(obj, ensure_ascii=False, indent=2, default=default)


def with_map(prep: Prepared, out: Outputs, *, offline: bool = True) -> Outputs:
    """Add map.html built from every layer the outputs hold."""
    from .maps import map_html, reviewer_map

    L = out.layers
    score = out.objects.get("score")
    hyd = out.objects.get("hydrants")
    m = reviewer_map(
        network=prep.network,
        area=L.get("area"),
        districts=L.get("districts"),
        stations=prep.stations.drop(columns=["edge", "fraction"]),
        isochrones=_light(score.reach, prep) if score is not None else None,
        network_districts=_light(score.districts, prep) if score is not None else None,
        uncovered=_merged_lines(score.uncovered, prep) if score is not None else None,
        proposed=L.get("proposed"),
        hydrants=_hydrant_points(hyd),
        hydrant_gaps=_wgs(hyd.unprotected) if hyd is not None and getattr(hyd, "unprotected", None) is not None else None,
        hydrant_proposals=_wgs(hyd.proposals) if hyd is not None and getattr(hyd, "proposals", None) is not None else None,
        water_cranes=(_wgs(hyd.water_cranes) if hyd is not None and getattr(hyd, "water_cranes", None) is not None
                      and len(hyd.water_cranes) else None),
        standard=out.summary.get("standard"),
        title=prep.scenario.name,
        offline=offline,
        tiles=None if offline else "osm",
    )
    html = map_html(m)
    return replace(out, extra_files={**out.extra_files, "map.html": html})


def run_all(prep: Prepared, *, offline_map: bool = True, progress: bool = False) -> Outputs:
    """Everything for a scenario: score; optimise when it has an ``optimise`` section or
    candidates; hydrants when it names them; the map; one report folder."""
    from .siting import propose_sites

    parts = [score_outputs(prep, progress=progress)]
    sc = prep.scenario
    lscp = None
    shared: dict = {}  # candidate sites and drive times, built once for the models below
    spec = sc.optimise
    if spec.new is not None or spec.model == "lscp":
        opt = optimise_outputs(prep, progress=progress, shared=shared)
        parts.append(opt)
        if spec.model == "lscp" and not (spec.quotas or spec.required or spec.excluded):
            lscp = opt.summary["optimise"]
    elif (spec.model_given or spec.model != "mclp" or spec.candidates is not None or spec.quotas
          or spec.required or spec.excluded):
        # a plan is asked for (a model, candidate sites, quotas ...) but its count is missing
        parts.append(Outputs(summary={"warnings": [
            f"optimise: model {spec.model} needs the number of new stations (optimise.new, or "
            f"covplan optimise --new N): no new sites were proposed; the requirement (lscp) is "
            "reported"]}))
    # what the standard requires: no quotas (they shape a plan, not the requirement)
    if lscp is None:
        res, said = _kept_warnings("requirement", lambda: propose_sites(
            prep, model="lscp", time_limit_s=sc.optimise.time_limit_s, progress=progress, quotas=False,
            shared=shared))
        lscp = res.summary
        # the same candidates and stations warn again in this run: keep only what the plan's run
        # (its "optimise: " lines) has not said already
        seen = {w.removeprefix("optimise: ") for p in parts for w in p.summary.get("warnings", [])}
        parts.append(Outputs(summary={"warnings": [w for w in said if w.removeprefix("requirement: ") not in seen]}))
    after_plan = None
    if _planned(prep.stations).any():
        after_plan = propose_sites(prep, model="lscp", time_limit_s=sc.optimise.time_limit_s,
                                   progress=progress, quotas=False, fix_planned=True, shared=shared).summary
    land = parts[0].summary.get("district_land") or {}
    parts.append(Outputs(summary={"requirement": requirement(
        lscp, after_plan=after_plan, stations=prep.stations, standard=sc.standard,
        new_class=sc.optimise.station_class, spacing_m=sc.optimise.candidate_spacing_m,
        area_km2=_study_area_km2(prep), land_km2=land.get("land_km2"))}))
    if sc.hydrants is not None:
        parts.append(hydrant_outputs(prep, progress=progress))
    merged = merge(parts)
    return with_map(prep, merged, offline=offline_map)


def requirement(lscp: dict, *, after_plan: dict | None = None, stations=None, standard=None,
                new_class: str | None = None, spacing_m: float | None = None,
                area_km2: float | None = None, land_km2: float | None = None) -> dict:
    """How many stations the standard requires.

    By coverage: the fewest stations (existing fixed, new ones of ``new_class`` at candidate
    sites) reaching all demand that some site can reach within the standard (set cover, from
    ``lscp``, solved without quotas); ``after_plan`` (the same with the plan's planned stations
    fixed too) gives what is still missing after the plan. By area: the study area (else the land
    within reach of the roads) over the class-1 district cap. ``candidate_sites`` says which
    candidates ``lscp`` had (its ``candidate_sources`` and the plan's competing stations);
    ``candidate_spacing_m`` is ``spacing_m`` only when generated sites (crossings, nodes in
    candidate land) were among them, for the user's points alone no spacing applies.
    """
    sources = _candidate_sites(lscp)
    if sources is not None and not (sources.get("crossings") or sources.get("land_nodes")):
        spacing_m = None
    out = {
        "stations_existing": lscp["fixed_existing"],
        "stations_required": lscp["fixed_existing"] + lscp["new_sites"],
        "new_needed": lscp["new_sites"],
        "status": lscp["status"],
        "gap": lscp.get("gap"),
        "uncoverable_share": lscp["uncoverable_share"],
        "new_station_class": new_class,
        "candidate_spacing_m": spacing_m,
        "candidate_sites": sources,
        "method": "fewest stations (existing fixed, new of the optimise class at candidate sites) "
                  "reaching all demand some candidate can reach within the standard (set cover "
                  "without quotas, exact unless status says not); demand no site reaches is left "
                  "out (uncoverable_share)",
    }
    if stations is not None:
        out["stations_planned"] = int(_planned(stations).sum())
    if after_plan is not None:
        out["new_needed_after_plan"] = after_plan["new_sites"]
        out["status_after_plan"] = after_plan["status"]
    if standard is not None:
        cap = float(standard.cap_for("class1"))
        size, source = (area_km2, "study area") if area_km2 else (land_km2, "land within 250 m of the roads, inside the extract")
        if size:
            out["by_area"] = {"area_km2": round(float(size), 3), "area_source": source, "cap_km2": cap,
                              "cap_of": "suburban class-1" if standard.suburban else "class-1",
                              "stations": int(math.ceil(float(size) / cap - 1e-9))}
    return out


def _planned(stations) -> np.ndarray:
    """Per station: planned and of a class with a district (a logistics-support station is not
    one of the plan's fire stations)."""
    from .stations import responding

    return (stations["status"] == "planned").to_numpy() & responding(stations)


def _candidate_sites(lscp: dict) -> dict | None:
    """The candidates an lscp summary had: where generated or given sites came from, plus the
    plan's planned and candidate stations that competed; None for a summary without them."""
    src = lscp.get("candidate_sources")
    if not isinstance(src, dict) or not src:
        return None
    return {**src, "planned": int(lscp.get("planned_candidates") or 0),
            "candidate_stations": int(lscp.get("candidate_stations") or 0)}


def _study_area_km2(prep: Prepared) -> float | None:
    """The study area in km² (projected), or None without one."""
    if prep.area is None:
        return None
    from .demand import _area_projected

    return float(_area_projected(prep.network, prep.area).area) / 1e6


def merge(parts: list[Outputs]) -> Outputs:
    layers: dict = {}
    tables: dict = {}
    summary: dict = {}
    extra: dict = {}
    objects: dict = {}
    warns: list = []
    for p in parts:
        layers.update(p.layers)
        tables.update(p.tables)
        warns += [w for w in p.summary.get("warnings", []) if w not in warns]
        summary.update(p.summary)
        if warns:
            summary["warnings"] = list(warns)
        extra.update(p.extra_files)
        objects.update(p.objects)
    return Outputs(layers, tables, summary, extra, objects)


def write(out_dir: str | Path, out: Outputs) -> Path:
    """Write one report folder atomically (a failed run leaves the previous folder intact)."""
    from .report import markdown_summary, write_report

    layers = {k: _wgs(v) for k, v in out.layers.items() if v is not None and len(v)}
    Path(out_dir).parent.mkdir(parents=True, exist_ok=True)
    write_report(out_dir, layers=layers, tables=out.tables, summary=out.summary,
                 markdown=markdown_summary(out.summary), extra_files=out.extra_files)
    return Path(out_dir)


def one_line(out: Outputs) -> str:
    """A one-line result for the terminal."""
    s = out.summary
    bits = [s.get("scenario", "")]
    if "covered_share" in s:
        from .report import _scored_by, standard_label

        r = s.get("response_s") or {}
        std = s.get("standard") or {}
        # the horizon is a drive-time cutoff: beyond it the response is > turnout + horizon
        limit = (s.get("horizon_s") or 0) + (std.get("turnout_s") or 0)
        p90 = f"{r['p90']:.0f} s" if r.get("p90") is not None else f"> {limit:.0f} s"
        label = standard_label(std, [st.get("class") for st in s.get("stations") or []
                                     if isinstance(st, dict) and st.get("scored", True)])
        bits.append(f"reached within the standard{f' ({label})' if label else ''}{_scored_by(s.get('comparison'))}: "
                    f"{100 * s['covered_share']:.1f}% (p90 response {p90})")
    if "optimise" in s:
        o = s["optimise"]
        bits.append(f"optimum: {o.get('new_sites')} new site(s) beside the existing stations, coverage "
                    f"{100 * (o.get('covered_share_before') or 0):.1f}% -> {100 * (o.get('covered_share_after') or 0):.1f}%"
                    f" ({o.get('status')})")
    if "hydrants" in s:
        h = s["hydrants"]
        kept = h.get("existing_in_placement", h.get("existing_protecting", h.get("existing")))
        near = "within half the spacing of" if h.get("propose_for") == "spacing" else "protecting"
        of_them = f" ({kept} {near} a counted road)" if kept != h.get("existing") else ""
        new = f" = {kept} + {h.get('proposed')} new" if h.get("required_min_placement") is not None else ""
        bits.append(f"hydrants: {h.get('existing')} exist{of_them}, {h.get('required_min_placement')} "
                    f"required{new}, {100 * (h.get('protected_share') or 0):.1f}% of road protected")
    return " | ".join(b for b in bits if b)
