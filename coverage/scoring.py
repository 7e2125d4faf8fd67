"""Score stations against the response standard: coverage, overlap, gaps, response times.

Per station: area and road length reached within its class's driving budget, demand reached,
unique and shared coverage, what is lost if it is removed, its network district (the roads it
reaches first) against its class's area cap. Per scenario: share of demand covered in time,
response-time percentiles, uncovered demand, existing vs existing + planned, per district.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp

from .demand import Demand
from .errors import InputError
from .network import RoadNetwork
from .scenario import Standard
from .stations import responding, stations_snapped


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """Weighted quantile (lower), ``inf`` values allowed; ``nan`` when there is no weight."""
    values = np.asarray(values, float)
    weights = np.asarray(weights, float)
    if len(values) == 0 or weights.sum() <= 0:
        return float("nan")
    order = np.argsort(values, kind="stable")
    cw = np.cumsum(weights[order])
    k = int(np.searchsorted(cw, q * cw[-1], side="left"))
    return float(values[order][min(k, len(values) - 1)])


@dataclass(frozen=True, eq=False)
class CoverageState:
    """Coverage of demand by one set of stations."""

    covered: np.ndarray        # bool per demand unit
    n_covering: np.ndarray     # int per demand unit
    response_s: np.ndarray     # turnout + fastest drive per demand unit (inf beyond the horizon)
    nearest: np.ndarray        # station row index reaching first (any standard), -1 if none
    covering: np.ndarray       # station row reaching first within its own standard, -1 if none
    covering_s: np.ndarray     # turnout + that station's drive (inf when not covered)

    def share(self, weight: np.ndarray, mask: np.ndarray | None = None) -> float:
        w = weight if mask is None else weight[mask]
        c = self.covered if mask is None else self.covered[mask]
        total = w.sum()
        return float(w[c].sum() / total) if total > 0 else float("nan")


@dataclass(frozen=True, eq=False)
class ScoreResult:
    """Everything a reviewer needs; all parts are computed when the result is made."""

    stations: gpd.GeoDataFrame          # per station scores (WGS-84 points)
    demand: gpd.GeoDataFrame            # per demand unit: response, covered, nearest (WGS-84)
    uncovered: gpd.GeoDataFrame         # demand not covered in time (WGS-84)
    reach: gpd.GeoDataFrame             # isochrone per station within its standard (WGS-84)
    districts: gpd.GeoDataFrame         # network districts (split mode) with caps (WGS-84)
    by_district: pd.DataFrame           # coverage per administrative district
    summary: Mapping[str, Any] = field(default_factory=dict)


def coverage_state(times: sp.csr_matrix, budgets: np.ndarray, turnout_s: float,
                   columns: np.ndarray | None = None) -> CoverageState:
    """Coverage of demand from a station x demand matrix of driving seconds.

    ``budgets`` is each station's driving budget; ``columns`` selects a subset of stations.
    Stored matrix entries are reached pairs (a stored 0 s is a real 0).
    """
    t = times.tocsr()
    if columns is not None:
        t = t[columns]
        budgets = budgets[columns]
    n_dem = t.shape[1]
    coo = t.tocoo()
    ok = coo.data <= budgets[coo.row] + 1e-9
    n_cov = np.bincount(coo.col[ok], minlength=n_dem)
    best = np.full(n_dem, np.inf)
    nearest = np.full(n_dem, -1, dtype=np.int64)
    station = coo.row if columns is None else np.asarray(columns)[coo.row]
    covering = np.full(n_dem, -1, dtype=np.int64)
    covering_t = np.full(n_dem, np.inf)
    for mask, t_out, who in ((np.ones(coo.nnz, bool), best, nearest), (ok, covering_t, covering)):
        col, data, row = coo.col[mask], coo.data[mask], station[mask]
        if len(col):  # per demand unit, the station with the least driving time
            order = np.lexsort((data, col))
            first = np.ones(len(order), bool)
            first[1:] = col[order][1:] != col[order][:-1]
            sel = order[first]
            t_out[col[sel]] = data[sel]
            who[col[sel]] = row[sel]
    return CoverageState(covered=n_cov > 0, n_covering=n_cov, response_s=best + turnout_s,
                         nearest=nearest, covering=covering, covering_s=covering_t + turnout_s)


def _response_stats(state: CoverageState, weight: np.ndarray, mask: np.ndarray | None = None) -> dict:
    """Weighted response-time statistics (turnout + drive, seconds) of the demand.

    Demand not reached within the drive horizon has an infinite response time. ``p50``, ``p90``,
    ``max`` and ``mean`` are over all demand, so any of them that the unreached demand makes
    infinite is ``None`` (beyond the horizon: turnout + horizon). ``max_reached`` and
    ``mean_reached`` are over the reached demand only. ``beyond_horizon_share`` is the share of
    demand weight not reached (6 decimals; seconds have 2). Demand units of zero weight are
    ignored; with no weight at all every value is ``None``.
    """
    r = state.response_s if mask is None else state.response_s[mask]
    w = weight if mask is None else weight[mask]
    total = float(w.sum())
    pos = w > 0
    finite = np.isfinite(r) & pos
    beyond = float(w[~np.isfinite(r) & pos].sum())
    nan = float("nan")
    max_reached = float(r[finite].max()) if finite.any() else nan
    mean_reached = float(np.average(r[finite], weights=w[finite])) if finite.any() else nan
    out = {
        "p50": weighted_quantile(r, w, 0.5),
        "p90": weighted_quantile(r, w, 0.9),
        "max": (float("inf") if beyond > 0 else max_reached) if total > 0 else nan,
        "mean": (float("inf") if beyond > 0 else mean_reached) if total > 0 else nan,
        "max_reached": max_reached,
        "mean_reached": mean_reached,
    }
    out = {k: (None if not np.isfinite(v) else round(v, 2)) for k, v in out.items()}
    out["beyond_horizon_share"] = round(beyond / total, 6) if total > 0 else None
    return out


def score(
    network: RoadNetwork,
    stations: gpd.GeoDataFrame,
    demand: Demand,
    standard: Standard,
    *,
    area=None,
    horizon_s: float | None = None,
    road_width_m: float = 50.0,
    district_fill_m: float | None = None,
    district_names: Sequence[Any] | None = None,
    progress: bool = False,
) -> ScoreResult:
    """Score placed stations (from :func:`coverage.stations.place_stations`) against a standard.

    Parameters
    ----------
    horizon_s
        Longest drive computed for response times (default 4 x the driving budget, at least
        900 s); demand beyond it counts as not reached, and is reported as such.
    area
        Study area (WGS-84) to clip network districts to.
    road_width_m
        Road-side strip of the reach polygons (``reach_km2``), in metres.
    district_names
        Every district of the scenario's districts file, so that districts without demand get a
        row in ``by_district`` too.
    district_fill_m
        Land within this distance of a road counts towards station districts
        (``district_km2``, compared with the standard's caps), see
        :func:`coverage.isochrones.district_land`; None (default): the whole study area, or
        without one the land within 250 m of a road.
    """
    from .isochrones import district_land, isochrones
    from .traveltime import point_times

    if len(stations) == 0:
        raise InputError("the scenario has no stations to score: add stations with status existing or planned")
    if len(demand) == 0:
        raise InputError("there is no demand to score against: check the study area and demand settings")
    stations = stations.reset_index(drop=True)
    snapped = stations_snapped(network, stations)
    budgets = np.array([standard.travel_for(c) for c in stations["class"]], float)
    horizon = max(4 * budgets.max(), 900.0)
    if horizon_s is not None:
        try:
            horizon = float(horizon_s)
        except (TypeError, ValueError):
            horizon = math.nan
        if not horizon >= budgets.max():  # NaN too
            raise InputError(
                f"horizon_s {horizon_s!r} is invalid: expected seconds >= the longest driving budget "
                f"({budgets.max():g} s), or it would cut coverage short")
    times = point_times(network, snapped, demand.at, cutoff_s=horizon).tocsr()
    weight = demand.weight
    total = float(weight.sum())

    status = stations["status"].to_numpy()
    responds = responding(stations)  # logistics-support stations: listed, not scored
    existing = np.flatnonzero((status == "existing") & responds)
    plan = np.flatnonzero(np.isin(status, ["existing", "planned"]) & responds)
    scored = plan if len(plan) else np.flatnonzero(responds)
    if len(scored) == 0:
        raise InputError("the scenario has only logistics-support stations (战勤保障站): they cover no "
                         "district; add fire stations of another class to score")
    state = coverage_state(times, budgets, standard.turnout_s, scored)

    # per-station figures (within the scored set: existing + planned)
    tc = times.tocoo()
    in_time = tc.data <= budgets[tc.row] + 1e-9
    cov = sp.csr_matrix((np.ones(in_time.sum()), (tc.row[in_time], tc.col[in_time])),
                        shape=times.shape)
    reached_w = np.asarray(cov @ weight).ravel()
    only = state.n_covering == 1
    unique_w = np.asarray(cov @ (weight * only)).ravel()
    shared_w = reached_w - unique_w

    # isochrones within each station's own budget
    reach_parts = []
    for b in np.unique(budgets):
        rows = np.flatnonzero(budgets == b)
        sub = _subset(snapped, rows)
        iso = isochrones(network, sub, cutoff_s=float(b), mode="overlap", road_width_m=road_width_m,
                         labels=list(stations["id"].iloc[rows]))
        iso = iso.copy()
        iso["station_row"] = rows[iso["origin"].to_numpy(int)]
        iso["origin"] = iso["station_row"]  # a position among all stations, not within this budget
        reach_parts.append(iso)
    reach = pd.concat(reach_parts, ignore_index=True)
    reach = gpd.GeoDataFrame(reach, geometry="geometry", crs=4326)
    area_by_row = reach.groupby("station_row")["area_km2"].sum()
    road_by_row = reach.groupby("station_row")["road_km"].sum() if "road_km" in reach else None

    # districts: the land each station reaches first over the roads (scored stations only), as
    # land area for the caps of the standard (blocks between roads count, not a road strip)
    area_p = None
    if area is not None:
        from .demand import _area_projected

        area_p = _area_projected(network, area)
    dist = district_land(network, _subset(snapped, scored), cutoff_s=horizon, area=area_p,
                         fill_m=district_fill_m, labels=list(stations["id"].iloc[scored]))
    dist_attrs = dict(dist.attrs)
    dist = dist.copy()
    dist["station_row"] = scored[dist["origin"].to_numpy(int)]
    dist["origin"] = dist["station_row"]  # as in the reach layer: a position among all stations
    dist_area = dist.groupby("station_row")["area_km2"].sum()
    caps = np.array([standard.cap_for(c) for c in stations["class"]])
    dist["id"] = stations["id"].to_numpy()[dist["station_row"].to_numpy(int)]
    dist["class"] = stations["class"].to_numpy()[dist["station_row"].to_numpy(int)]
    dist["cap_km2"] = caps[dist["station_row"].to_numpy(int)]
    dist["over_cap"] = dist["area_km2"] > dist["cap_km2"]

    table = stations.drop(columns=["edge", "fraction"]).copy()
    n = len(stations)
    table["travel_budget_s"] = budgets
    table["reach_km2"] = [float(area_by_row.get(i, 0.0)) for i in range(n)]
    if road_by_row is not None:
        table["reach_road_km"] = [float(road_by_row.get(i, 0.0)) for i in range(n)]
    table["demand_reached"] = reached_w
    table["demand_reached_share"] = reached_w / total
    in_scored = np.isin(np.arange(n), scored)
    table["scored"] = in_scored
    table["unique_demand"] = np.where(in_scored, unique_w, np.nan)
    table["shared_demand"] = np.where(in_scored, shared_w, np.nan)
    table["loss_if_removed_share"] = np.where(in_scored, unique_w / total, np.nan)
    table["district_km2"] = [float(dist_area.get(i, 0.0)) if in_scored[i] else np.nan for i in range(n)]
    table["cap_km2"] = caps
    table["over_cap"] = table["district_km2"] > table["cap_km2"]

    # demand table
    dgdf = demand.gdf()
    dgdf["response_s"] = state.response_s
    dgdf["covered"] = state.covered
    dgdf["n_covering"] = state.n_covering
    ids = stations["id"].to_numpy()

    def station_ids(rows: np.ndarray) -> np.ndarray:  # station id per demand unit, None for -1
        out = np.full(len(rows), None, dtype=object)
        out[rows >= 0] = ids[rows[rows >= 0]]
        return out

    dgdf["nearest_station"] = station_ids(state.nearest)
    # the station that covers it: first to arrive within its own standard (a small station may
    # arrive first but beyond its shorter standard, while a standard station covers it later)
    dgdf["covered_by"] = station_ids(state.covering)
    dgdf["covered_by_response_s"] = state.covering_s
    dgdf = dgdf.to_crs(4326)
    uncovered = dgdf[~dgdf["covered"]].copy()

    # comparison existing vs existing + planned, overall and per district
    base_state = coverage_state(times, budgets, standard.turnout_s, existing) if len(existing) else None
    # every district of the districts file (a district without roads or stations is a row too),
    # demand outside all of them as its own row; names compared as text (numeric codes too)
    dem_d = np.array([None if d is None else str(d) for d in demand.district], dtype=object)
    st_d = np.array([None if d is None or d != d else str(d) for d in stations["district"]], dtype=object)
    names = [str(d) for d in (district_names if district_names is not None else [])]
    names += [d for d in pd.unique(dem_d) if d is not None and d not in names]
    if len(names) and (dem_d == None).any():  # noqa: E711 (element-wise)
        names.append(None)
    rows = []
    for name in names:
        mask = dem_d == name  # element-wise, None included
        here = st_d == name
        stats = _response_stats(state, weight, mask)
        rows.append({
            "district": name if name is not None else "(outside every district)",
            "demand": float(weight[mask].sum()),
            "covered_share_existing": (base_state.share(weight, mask) if base_state else 0.0) if mask.any() else None,
            "covered_share_plan": state.share(weight, mask) if mask.any() else None,
            "stations_existing": int((here & responds & (stations["status"] == "existing").to_numpy()).sum()),
            "stations_planned": int((here & responds & (stations["status"] == "planned").to_numpy()).sum()),
            "response_p90_s": stats["p90"],
            "beyond_horizon_share": stats["beyond_horizon_share"],
        })
    by_district = pd.DataFrame(rows)

    share_plan = state.share(weight)
    share_existing = base_state.share(weight) if base_state else 0.0
    summary = {
        "covered_share": round(share_plan, 6),
        "response_s": _response_stats(state, weight),
        "standard": {"turnout_s": standard.turnout_s, "travel_s": standard.travel_s,
                     "response_s": standard.response_s,
                     "class_travel_s": {str(k): float(v) for k, v in standard.class_travel_s.items()},
                     # the district cap each class is held to (the suburban one where it applies)
                     "caps_km2": {c: standard.cap_for(c) for c in ("special", "class1", "class2", "small")},
                     "suburban": bool(standard.suburban)},
        "demand": {"kind": demand.kind, "units": int(len(demand)), "total_weight": round(total, 3),
                   "uncovered_units": int((~state.covered).sum()),
                   "excluded_roads": list(getattr(demand, "exclude", ())),
                   "excluded_km": {k: round(v / 1000.0, 3) for k, v in getattr(demand, "excluded_m", {}).items()},
                   "far_cells": int(getattr(demand, "far_cells", 0)),
                   "far_km2": round(float(getattr(demand, "far_km2", 0.0)), 4),
                   # left out as beyond the road extract: grid km², or point/building features
                   "beyond_km2": round(float(getattr(demand, "beyond_km2", 0.0)), 4),
                   "beyond_units": int(getattr(demand, "beyond_units", 0))},
        "horizon_s": horizon,
        "comparison": {
            "existing": {"stations": int(len(existing)), "covered_share": round(share_existing, 6),
                         "response_s": _response_stats(base_state, weight) if base_state else None},
            "existing_plus_planned": {"stations": int(len(plan)), "covered_share": round(share_plan, 6),
                                      "response_s": _response_stats(state, weight)},
            "added_share": round(share_plan - share_existing, 6),
        },
        "stations_over_cap": [str(s) for s in table.loc[table["over_cap"], "id"]],
        "district_land": {"land_km2": round(dist_attrs.get("land_km2", 0.0), 4),
                          "unreached_km2": round(dist_attrs.get("unreached_km2", 0.0), 4),
                          # study-area land beyond the road extract: in no district
                          "beyond_km2": round(dist_attrs.get("beyond_km2", 0.0), 4),
                          # None: the whole study area is land (every point to its nearest road)
                          "fill_m": dist_attrs.get("fill_m")},
        "stations": [_station_dict(r) for r in pd.DataFrame(table.drop(columns="geometry")).to_dict("records")],
        "districts": [_station_dict(r) for r in by_district.to_dict(orient="records")],
    }
    return ScoreResult(stations=table, demand=dgdf, uncovered=uncovered, reach=reach,
                       districts=dist, by_district=by_district, summary=summary)


def _subset(s, rows):
    from .network import Snapped

    return Snapped(*(getattr(s, f)[rows] for f in ("edge", "fraction", "distance_m", "x", "y", "lon", "lat")))


def _station_dict(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, (np.floating, float)):
            out[k] = None if not np.isfinite(v) else round(float(v), 4)
        elif isinstance(v, (np.integer,)):
            out[k] = int(v)
        elif isinstance(v, (np.bool_,)):
            out[k] = bool(v)
        else:
            out[k] = v
    return out
