"""Place a scenario's stations on the network: coordinates (any datum), crossings, places, nodes.

Every station's resolution (method, snapped point, distance moved, warnings) is kept in the
output, and all stations that cannot be placed are reported together.
"""
from __future__ import annotations

from typing import Any, Sequence

import geopandas as gpd
import numpy as np

from .errors import CoverageError, InputError
from .network import RoadNetwork, Snapped, frontage_edges, snap_points
from .scenario import NO_DISTRICT_CLASSES

COLUMNS = ["id", "name", "class", "status", "district", "plan_text", "method", "lon", "lat",
           "moved_m", "warnings", "edge", "fraction"]


def place_stations(
    network: RoadNetwork,
    stations: Sequence[Any],
    *,
    pois: gpd.GeoDataFrame | None = None,
    max_snap_m: float = 300.0,
) -> gpd.GeoDataFrame:
    """Resolve scenario stations to points on road edges.

    Parameters
    ----------
    stations
        :class:`~coverage.scenario.Station` objects.
    pois
        Optional named features (WGS-84) for ``place:`` locations.

    Returns
    -------
    GeoDataFrame (WGS-84) with columns ``id, name, class, status, district, plan_text, method,
    lon, lat, moved_m, warnings, edge, fraction``: ``lon/lat`` is the point on the road the engine
    starts from; ``moved_m`` how far it is from where the plan put it.
    """
    from .datum import to_wgs84
    from .places import resolve_crossing, resolve_place

    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    streets = frontage_edges(network)  # a station opens onto a surface street
    for st in stations:
        loc = st.at
        warns: list[str] = []
        try:
            if loc.kind == "coordinates":
                lon, lat = to_wgs84(loc.lon, loc.lat, loc.datum)
                method = f"coordinates ({loc.datum})"
                moved0 = 0.0
            elif loc.kind == "crossing":
                res = resolve_crossing(network, *loc.crossing)
                lon, lat, method = res.lon, res.lat, f"crossing: {res.method}"
                # roads that do not meet: the point is midway across their nearest approach, half
                # the gap from each named road (the gap itself is in the warnings); a looser name
                # match away from the named road counts its distance from that road
                moved0 = float(res.distance_m) / (2.0 if res.method == "nearest approach" else 1.0)
                warns += list(res.warnings)
                if moved0 > max_snap_m:  # no crossing the plan could mean (as coordinates that far)
                    raise InputError(
                        f"the point found lies {moved0:.0f} m from the roads named, farther than "
                        f"{max_snap_m:.0f} m: {'; '.join(res.warnings)}; check the names or give "
                        "the site by coordinates")
            elif loc.kind == "place":
                res = resolve_place(network, loc.place, pois=pois)
                lon, lat, method = res.lon, res.lat, f"place: {res.method}"
                moved0 = 0.0  # (lon, lat) is the feature's own point: the snap below is the move
                warns += list(res.warnings)
            else:
                i = int(network.node_index([loc.node])[0])
                lon, lat, method, moved0 = network.lon[i], network.lat[i], "node", 0.0
            snapped = snap_points(network, [float(lon)], [float(lat)], max_distance_m=max_snap_m,
                                  labels=[st.id], edges=streets)
        except CoverageError as exc:
            problems.append(f"station {st.id!r} ({st.name}, at {loc.describe()}): {exc}")
            continue
        moved = moved0 + float(snapped.distance_m[0])
        if snapped.distance_m[0] > 100:
            warns.append(f"snapped {snapped.distance_m[0]:.0f} m to the nearest surface street "
                         "(tunnels and expressways are not station sites)")
        rows.append({
            "id": st.id, "name": st.name, "class": st.station_class, "status": st.status,
            "district": st.district, "plan_text": loc.describe(), "method": method,
            "lon": float(snapped.lon[0]), "lat": float(snapped.lat[0]), "moved_m": moved,
            "warnings": "; ".join(warns), "edge": int(snapped.edge[0]),
            "fraction": float(snapped.fraction[0]),
        })
    if problems:
        raise InputError(f"{len(problems)} station(s) could not be placed:\n" +
                         "\n".join(f"  - {p}" for p in problems))
    gdf = gpd.GeoDataFrame(rows, columns=COLUMNS,
                           geometry=gpd.points_from_xy([r["lon"] for r in rows], [r["lat"] for r in rows]),
                           crs=4326)
    return gdf


def responding(stations: gpd.GeoDataFrame) -> np.ndarray:
    """Per placed station: of a class answering calls in a district of its own, unlike a
    logistics-support station (:data:`~coverage.scenario.NO_DISTRICT_CLASSES`), which is listed
    but neither scored, fixed, nor counted among the plan's fire stations."""
    return ~stations["class"].isin(NO_DISTRICT_CLASSES).to_numpy()


def stations_snapped(network: RoadNetwork, stations: gpd.GeoDataFrame) -> Snapped:
    """The engine's view of placed stations (their ``edge``/``fraction`` columns)."""
    edge = stations["edge"].to_numpy(np.int64)
    frac = stations["fraction"].to_numpy(float)
    geoms = network.edge_geometry[edge]
    import shapely

    pts = shapely.line_interpolate_point(geoms, frac, normalized=True)
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    lon, lat = network.to_wgs84(x, y)
    return Snapped(edge=edge, fraction=frac, distance_m=np.zeros(len(edge)), x=x, y=y,
                   lon=np.asarray(lon), lat=np.asarray(lat))
