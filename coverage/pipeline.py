"""The scenario runner: scenario -> network -> stations -> demand -> scores / sites / hydrants.

Each step is a plain function; the CLI and the notebooks call these.
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from tqdm.auto import tqdm

from .demand import Demand, make_demand
from .errors import CoverageWarning, DataError, InputError, OffNetworkError, ResolveError
from .io import match_names, name_text, polygon_union, read_area, read_features
from .network import EXTENT_BUFFER_M, RoadNetwork, extent_text, load_network, network_extent
from .scenario import Scenario
from .speeds import SpeedModel
from .stations import place_stations, responding


@dataclass(frozen=True, eq=False)
class Prepared:
    """A scenario with its network, study area, districts, placed stations and demand."""

    scenario: Scenario
    network: RoadNetwork
    area: Any                      # shapely polygon, WGS-84, or None
    districts: gpd.GeoDataFrame | None
    district_field: str | None
    stations: gpd.GeoDataFrame
    demand: Demand
    pois: gpd.GeoDataFrame | None
    warnings: tuple[str, ...] = ()  # data warnings for the summary (also issued as CoverageWarning)
    # how the scenario was loaded: later steps that read OSM features (the siting rules with
    # osm: true) read them the same way (the cache, no download when offline)
    offline: bool = False
    cache: str | None = None


def needs_osm_features(scenario: Scenario, *, rules: bool = True) -> bool:
    """Whether the scenario reads OSM features of its network source (besides its roads): for
    places or stations from OSM (what preparing the scenario reads), or (``rules``) also for
    the later steps: siting rules with ``osm: true``, and the hydrants of a downloaded network
    with ``hydrants: {osm: true}`` (an OSM file is read for them as it is)."""
    layers = [r for r in (scenario.optimise.hazards, scenario.optimise.venues) if r is not None]
    downloaded = not isinstance(scenario.network.get("source"), str)
    hydrants_osm = bool(scenario.hydrants is not None and scenario.hydrants.get("osm") and downloaded)
    return bool(scenario.pois_osm or scenario.osm_stations_class
                or (rules and (hydrants_osm or any(r.options.get("osm") for r in layers))))


def _bar(total: int, desc: str, progress: bool):
    disable = (not progress) or bool(os.environ.get("TQDM_DISABLE"))
    return tqdm(total=total, desc=desc, disable=disable, leave=False)


def prepare(scenario: Scenario, *, offline: bool = False, progress: bool = False,
            cache: str | None = None) -> Prepared:
    """Load everything a scenario names and place its stations on the network.

    Data warnings (network extent, unknown road classes, unused speeds, station placement ...)
    are issued as :class:`CoverageWarning` and kept in ``Prepared.warnings`` for the summary.
    """
    caught: list = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", CoverageWarning)
            prep = _prepare(scenario, offline=offline, progress=progress, cache=cache)
    finally:  # shown as before (also when preparing fails: they may explain why)
        for w in caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    notes = []
    for w in caught:  # and kept for the summary
        if issubclass(w.category, CoverageWarning) and str(w.message) not in notes:
            notes.append(str(w.message))
    return replace(prep, warnings=tuple(notes))


def _prepare(scenario: Scenario, *, offline: bool, progress: bool, cache: str | None) -> Prepared:
    with _bar(5, scenario.name, progress) as bar:
        area = None
        if scenario.area is not None:
            opts = scenario.area.options
            area = read_area(scenario.area.path, datum=scenario.area.datum, names=opts.get("names"),
                             name_field=opts.get("name_field"))
        districts = None
        field = None
        if scenario.districts is not None:
            districts = read_features(scenario.districts.path, datum=scenario.districts.datum,
                                      what="districts")
            field = scenario.districts.options.get("name_field")
            if field not in districts.columns:
                raise InputError(
                    f"districts.name_field {field!r} is not a property of "
                    f"{str(scenario.districts.path)!r}: expected one of {list(districts.columns)}"
                )
            # names as text once, for every later step: a code column with a blank reads as floats
            districts[field] = [name_text(v) or None for v in districts[field]]
            names = scenario.districts.options.get("names")
            if names is not None:
                districts = _named_districts(districts, field, names, scenario.districts.path)
            if area is None:
                area = polygon_union(districts.geometry.to_numpy(),
                                     what=f"districts file {str(scenario.districts.path)!r}")
            # a district without a name is no district (its land stays in the study area)
            named = districts[field].notna()
            if not named.any():
                raise DataError(f"no district of {str(scenario.districts.path)!r} has a {field!r}: expected "
                                "a name (or code) for each district")
            districts = districts[named]
        bar.update(1)
        net = scenario.network
        source = net["source"]
        if net["kind"] == "shared" and not os.path.exists(source):
            raise DataError(
                f"shared data file {source!r} not found: set COVPLAN_SHARED_DATA to the folder "
                "holding osm/ and boundaries/"
            )
        network = load_network(source, speeds=dict(scenario.speeds), clip=area,
                               clip_buffer_m=net.get("clip_buffer_m", 2000.0),
                               retain_all=net.get("retain_all", False), offline=offline, cache=cache)
        short = network_extent_warning(network, area, what=_area_name(scenario),
                                       source=os.path.basename(str(source)))
        if short:
            warnings.warn(short, CoverageWarning, stacklevel=2)
        bar.update(1)
        pois = None
        if scenario.pois is not None:
            pois = read_features(scenario.pois.path, datum=scenario.pois.datum, what="pois")
        elif needs_osm_features(scenario, rules=False):
            from .osmfeatures import osm_features

            pois = osm_features(source, cache=cache, offline=offline)
        station_list = list(scenario.stations)
        osm_list = []
        if scenario.osm_stations_class:
            osm_list = _osm_stations(pois, area, scenario.osm_stations_class, {s.id for s in station_list})
        try:
            stations = place_stations(network, station_list + osm_list, pois=pois)
        except (InputError, DataError) as exc:
            if area is None or type(exc) not in (InputError, DataError, OffNetworkError, ResolveError):
                raise
            buffer = net.get("clip_buffer_m", 2000.0)
            raise type(exc)(f"{exc} (if the station lies outside {_area_name(scenario)} plus clip_buffer_m "
                            f"= {buffer:g} m, the network was clipped away there: raise clip_buffer_m)") from None
        stations = _drop_listed_twice(network, stations, {s.id for s in osm_list})
        for note in (_placement_notes(stations) + _outside_notes(network, stations, area, scenario)
                     + _close_pair_notes(network, stations)):
            warnings.warn(note, CoverageWarning, stacklevel=2)  # they were in stations.csv only
        if districts is not None and len(stations):
            stations = _label_districts(stations, districts, field)
        bar.update(1)
        demand = make_demand(network, scenario.demand, area=area, districts=districts, name_field=field)
        bar.update(2)
    return Prepared(scenario=scenario, network=network, area=area, districts=districts,
                    district_field=field, stations=stations, demand=demand, pois=pois, offline=offline,
                    cache=cache)


def _outside_notes(network: RoadNetwork, stations, area, scenario: Scenario) -> list[str]:
    """One line per station standing on a road outside the study area (more than 1 m): it is
    scored, but its district and what it covers count only inside the area, so it may read as a
    broken station. The plan's own point lies within ``moved_m`` of the road point: when the road
    point is farther out than that, the plan put the station outside; else snapping to the
    nearest road (beyond an edge that follows a street) may have."""
    if area is None or len(stations) == 0:
        return []
    from .demand import _area_projected

    area_p = shapely.make_valid(_area_projected(network, area))
    x, y = network.to_projected(stations["lon"].to_numpy(float), stations["lat"].to_numpy(float))
    dist = shapely.distance(area_p, shapely.points(np.asarray(x, float), np.asarray(y, float)))
    moved = stations["moved_m"].to_numpy(float)
    out = []
    for sid, name, d, m in zip(stations["id"], stations["name"], dist, moved):
        if d <= 1.0:
            continue
        where = f"station {sid!r} ({name}) stands on a road {d / 1000:.2f} km outside {_area_name(scenario)}"
        if d > m + 1.0:  # the plan's point is outside too
            out.append(where + ": it is scored, but its district and coverage count only inside the area "
                       "(a district of 0 km² means it reaches nothing there first); check its position "
                       "and datum, or the area")
        else:
            out.append(where + f", the road nearest the plan's point ({m:.0f} m away): its district and "
                       "coverage count only inside the area")
    return out


#: Two of the plan's stations closer than this are warned about: the same station twice?
CLOSE_STATIONS_M = 50.0


def _close_pair_notes(network: RoadNetwork, stations) -> list[str]:
    """One line per pair of existing/planned stations within :data:`CLOSE_STATIONS_M` of each
    other (one station given twice, e.g. in two datums, splits its district in two)."""
    if len(stations) == 0:
        return []
    # a logistics-support station beside a fire station shares no district with it
    plan = stations[stations["status"].isin(["existing", "planned"]).to_numpy() & responding(stations)]
    if len(plan) < 2:
        return []
    from scipy.spatial import cKDTree

    x, y = network.to_projected(plan["lon"].to_numpy(float), plan["lat"].to_numpy(float))
    xy = np.column_stack([np.asarray(x, float), np.asarray(y, float)])
    out = []
    for i, j in sorted(cKDTree(xy).query_pairs(CLOSE_STATIONS_M)):
        a, b = plan.iloc[i], plan.iloc[j]
        out.append(f"stations {a['id']!r} ({a['status']}) and {b['id']!r} ({b['status']}) stand "
                   f"{float(np.hypot(*(xy[i] - xy[j]))):.0f} m apart: the same station given twice (in "
                   "two datums?) splits its district and its coverage between the two; remove one")
    return out


def _placement_notes(stations) -> list[str]:
    """One line per station whose placement carries warnings (ambiguous or distant matches)."""
    out = []
    for row in stations.itertuples(index=False):
        if getattr(row, "warnings", ""):
            out.append(f"station {row.id!r} ({row.plan_text}): placed by {row.method}, "
                       f"{float(row.moved_m):.0f} m from the plan's point; {row.warnings}")
    return out


#: A road network spanning less than this share of the study area gets a warning.
MIN_NETWORK_AREA_SHARE = 0.8
#: The network's extent: convex hull of its nodes grown by this many metres.
NETWORK_EXTENT_BUFFER_M = EXTENT_BUFFER_M


def network_extent_warning(network: RoadNetwork, area, *, what: str = "the study area",
                           source: str | None = None,
                           min_share: float = MIN_NETWORK_AREA_SHARE,
                           buffer_m: float = NETWORK_EXTENT_BUFFER_M) -> str | None:
    """A warning text when the road network covers too little of the study area, else ``None``.

    The network's extent is the convex hull of its nodes grown by ``buffer_m`` (in the network's
    projected CRS); the study area (WGS-84) is warned about when less than ``min_share`` of its
    land lies inside that extent: roads, stations and demand there are simply missing.
    """
    if area is None or network.n_nodes == 0:
        return None
    from .demand import _area_projected

    area_p = shapely.make_valid(_area_projected(network, area))
    total = float(area_p.area)
    if total <= 0:
        return None
    hull = network_extent(network, buffer_m)
    inside = float(area_p.intersection(hull).area)
    share = inside / total
    if share >= min_share:
        return None
    src = f" ({source})" if source else ""
    return (
        f"{what} covers {total / 1e6:.1f} km² but the road network{src} spans only "
        f"{inside / 1e6:.1f} km² of it ({100 * share:.0f}%, extent = {extent_text(network, buffer_m)}): "
        f"roads, stations and demand outside the extract are missing, so coverage describes part "
        f"of the area only. Use a larger road extract or a smaller study area"
    )


def _area_name(scenario: Scenario) -> str:
    """The study area as the scenario names it, for messages."""
    if scenario.area is not None:
        return f"the study area of {scenario.name!r} ({os.path.basename(str(scenario.area.path))})"
    if scenario.districts is not None:
        return (f"the study area of {scenario.name!r} (districts "
                f"{os.path.basename(str(scenario.districts.path))})")
    return f"the study area of {scenario.name!r}"


def _osm_stations(pois, area, station_class: str, taken: set) -> list:
    """Existing stations from OSM ``amenity=fire_station`` features inside the study area."""
    from .osmfeatures import fire_stations
    from .scenario import Location, Station

    fs = fire_stations(pois) if pois is not None else None
    out = []
    if fs is None or len(fs) == 0:
        return out
    for osmid, name, geom in zip(fs["osmid"], fs["name"], fs.geometry):
        if area is not None and not area.contains(geom):
            continue
        sid = f"osm-{osmid}".replace("/", "-")
        if sid in taken:
            continue
        out.append(Station(id=sid, name=str(name) if isinstance(name, str) else sid,
                           station_class=station_class, status="existing",
                           at=Location(lon=float(geom.x), lat=float(geom.y), datum="wgs84")))
    return out


#: An OSM fire station this close to a station the scenario lists is that station.
SAME_STATION_M = 150.0


def _drop_listed_twice(network: RoadNetwork, stations: gpd.GeoDataFrame, osm_ids: set) -> gpd.GeoDataFrame:
    """Drop stations imported from OSM (``osm_ids``) that lie within :data:`SAME_STATION_M` of an
    existing station the scenario lists: the same station twice would split its district in two.
    A planned or candidate station near one does not replace it (the plan may build next door)."""
    if not osm_ids or len(stations) == 0:
        return stations
    is_osm = stations["id"].isin(osm_ids).to_numpy()
    # a listed logistics-support station is not a fire station the OSM one could be
    listed = np.flatnonzero(~is_osm & (stations["status"] == "existing").to_numpy()
                            & responding(stations))
    if listed.size == 0 or not is_osm.any():
        return stations
    x, y = network.to_projected(stations["lon"].to_numpy(float), stations["lat"].to_numpy(float))
    xy = np.column_stack([np.asarray(x, float), np.asarray(y, float)])
    drop = []
    for i in np.flatnonzero(is_osm):
        d = np.hypot(*(xy[listed] - xy[i]).T)
        j = int(np.argmin(d))
        if d[j] <= SAME_STATION_M:
            drop.append(i)
            warnings.warn(f"OSM fire station {stations['id'].iloc[i]!r} ({stations['name'].iloc[i]}) lies "
                          f"{d[j]:.0f} m from the listed station {stations['id'].iloc[listed[j]]!r}: taken as "
                          "the same station, not imported", CoverageWarning, stacklevel=3)
    return stations.drop(index=stations.index[drop]).reset_index(drop=True) if drop else stations


def _named_districts(districts: gpd.GeoDataFrame, field: str, names: Any, path) -> gpd.GeoDataFrame:
    """The districts ``names`` lists (each must exist), or an InputError naming what is wrong."""
    if isinstance(names, str) or not isinstance(names, (list, tuple)) or not names:
        example = next((t for t in map(name_text, districts[field]) if t), "")
        raise InputError(f"districts.names {names!r} is invalid: expected a non-empty list of district "
                         f"names, e.g. [{example!r}]")
    keep, missing, known = match_names(districts[field], names)
    if missing:
        raise InputError(f"districts.names {missing} not found in {str(path)!r} (property {field!r}): "
                         f"available {sorted(known)}")
    return districts[keep]


def _label_districts(stations: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, field: str) -> gpd.GeoDataFrame:
    """Each station's district: the one its position lies in, unless the scenario states one; a
    stated district must be one of the districts, and one that disagrees with the position is
    warned about."""
    stations = stations.copy()
    joined = gpd.sjoin(stations[["geometry"]], districts[[field, "geometry"]], how="left",
                       predicate="within")
    joined = joined[~joined.index.duplicated(keep="first")]
    found = joined[field].reindex(stations.index)
    known = {name_text(v) for v in districts[field]} - {""}
    for sid, d, f in zip(stations["id"], stations["district"], found):
        if d is None or d != d:
            continue
        if str(d) not in known:
            raise InputError(f"station {sid!r} states district {d!r}, which is not one of the scenario's "
                             f"districts: expected one of {sorted(known)}")
        if f is not None and f == f and str(f) != str(d):
            warnings.warn(f"station {sid!r} states district {d!r} but lies in {str(f)!r}: the stated "
                          "district is used", CoverageWarning, stacklevel=3)
    stations["district"] = [d if d is not None and d == d else (None if f is None or f != f else str(f))
                            for d, f in zip(stations["district"], found)]
    return stations


def score_scenario(prep: Prepared, *, progress: bool = False):
    """Score the scenario's existing and planned stations (see :func:`coverage.scoring.score`)."""
    from .scoring import score

    scored = prep.stations[prep.stations["status"].isin(["existing", "planned"])]
    if len(scored) == 0:
        raise InputError(
            f"scenario {prep.scenario.name!r} has no existing or planned stations to score"
        )
    names = None
    if prep.districts is not None and prep.district_field in prep.districts.columns:
        names = list(dict.fromkeys(prep.districts[prep.district_field].astype(str)))
    return score(prep.network, prep.stations, prep.demand, prep.scenario.standard, area=prep.area,
                 district_names=names, progress=progress)


def summary_header(prep: Prepared) -> dict:
    """Scenario facts shared by every summary."""
    sc = prep.scenario
    return {
        "scenario": sc.name,
        "scenario_file": str(sc.path),
        "network": {"nodes": int(prep.network.n_nodes), "edges": int(prep.network.n_edges),
                    "road_km": round(_road_km(prep.network), 3),
                    "crs": prep.network.crs.to_string()},
        # the speeds travel times were computed with (covplan compare checks them)
        "speeds": speed_summary(prep.network.speed_model),
        "warnings": list(prep.warnings),
        "stations_placed": [
            {k: (None if isinstance(v, float) and v != v else v)
             for k, v in row.items() if k not in ("geometry", "edge", "fraction")}
            for row in prep.stations.drop(columns="geometry").to_dict("records")
        ],
    }


def speed_summary(model: SpeedModel) -> dict:
    """Every field of the speed model, JSON-friendly: the per-class km/h as ``speeds_kmh``
    (defaults merged in, sorted by class), the options as numbers, booleans or ``None``."""
    out: dict[str, Any] = {}
    for f in fields(model):
        value = getattr(model, f.name)
        if isinstance(value, Mapping):
            out[f.name] = {str(k): float(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
        elif isinstance(value, bool) or value is None:
            out[f.name] = value
        elif isinstance(value, (int, float)):
            out[f.name] = float(value)
        else:  # a later option of another kind: as text, still compared
            out[f.name] = str(value)
    return out


def _road_km(network) -> float:
    """Length of the drivable roads, each road once (a two-way road is two edges)."""
    import numpy as np

    e = np.arange(network.n_edges)
    once = (network.edge_reverse < 0) | (e < network.edge_reverse)
    return float(network.edge_length[once].sum()) / 1000.0


def station_counts(prep: Prepared) -> dict:
    """Existing / planned / candidate counts by status."""
    st = prep.stations["status"].value_counts().to_dict()
    return {k: int(v) for k, v in st.items()}


def as_points(network: RoadNetwork, x: np.ndarray, y: np.ndarray) -> gpd.GeoSeries:
    lon, lat = network.to_wgs84(x, y)
    return gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326)


def hydrants_scenario(prep: Prepared, *, progress: bool = False, propose: bool = True):
    """Hydrant gap analysis for the scenario's ``hydrants`` section (file or ``osm: true``);
    ``propose=False`` skips proposing new positions (and the minimum-placement count)."""
    from .hydrants import analyse_hydrants, load_hydrants

    spec = prep.scenario.hydrants
    if spec is None:
        raise InputError(
            f"scenario {prep.scenario.name!r} has no hydrants section: add hydrants: "
            "{file: hydrants.geojson, datum: wgs84} or hydrants: {osm: true}"
        )
    if spec.get("osm"):
        source = prep.scenario.network.get("source")
        if not isinstance(source, str):  # downloaded: the OSM features of the same area (cached)
            from .osmfeatures import osm_features

            source = osm_features(source, cache=prep.cache, offline=prep.offline)
        elif source == "default":
            from .network import default_network_source

            source = default_network_source()
        hyd = load_hydrants(source, none_ok=True)  # often nobody mapped them: 0 existing
    else:
        ref = spec["file"]
        hyd = load_hydrants(ref.path, datum=ref.datum)
    # the whole (buffered) network: hydrants just outside the study area protect its roads along
    # roads that may leave it; only the roads inside the area are counted (analyse_hydrants cuts
    # them exactly at the boundary), and hydrants beyond reach of the area are ignored there
    exclude = spec.get("exclude")
    kw = {} if exclude is None else {"exclude": tuple(exclude)}
    if spec.get("propose_for"):
        kw["propose_for"] = spec["propose_for"]
    risk = spec.get("high_risk")
    if risk is not None:  # water cranes for the scenario's high-risk areas
        kw["high_risk"] = read_features(risk.path, datum=risk.datum, what="high-risk areas")
        kw["crane_area_km2"] = spec.get("crane_area_km2")
    return analyse_hydrants(prep.network, hyd, progress=progress, propose=propose, area=prep.area, **kw)
