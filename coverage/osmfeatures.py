"""Named OSM features (places, POIs, fire stations, hydrants) from the scenario's own OSM source.

From a local OSM XML file (parsed directly), a PBF file (pyrosm), or, for downloaded networks,
from osmnx's feature download for the same bbox/place, cached as GeoJSON beside the network
cache so that later runs are offline.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Mapping

import geopandas as gpd
import numpy as np
import shapely

from .errors import DataError, NetworkUnavailableError
from .io import name_text, open_binary
from .settings import cache_dir as default_cache_dir

#: Tags that make a feature useful for ``place:`` resolution and station import.
FEATURE_TAGS: Mapping[str, Any] = {
    "place": True, "amenity": True, "emergency": True, "building": ["fire_station"],
    "landuse": ["commercial", "retail", "industrial"], "leisure": ["park"], "tourism": True,
    "shop": ["mall", "department_store", "supermarket"], "man_made": ["storage_tank", "gasometer"],
}
#: GB 51080 §4.1.5: stations at least 200 m from sites with flammable or explosive goods ...
HAZARD_TAGS: Mapping[str, tuple] = {
    "amenity": ("fuel",), "man_made": ("storage_tank", "gasometer"),
    "industrial": ("oil", "chemical", "gas", "refinery", "fuel"),
}
#: ... and at least 50 m from the main exits of crowded venues.
VENUE_TAGS: Mapping[str, tuple] = {
    "amenity": ("school", "kindergarten", "university", "college", "hospital", "marketplace",
                "theatre", "cinema", "stadium", "place_of_worship"),
    "shop": ("mall", "department_store", "supermarket"),
    "leisure": ("stadium",),
}
KEEP_COLUMNS = ("osmid", "name", "name:zh", "name:en", "alt_name", "old_name", "place", "amenity",
                "emergency", "tourism", "landuse", "fire_hydrant:type", "shop", "man_made",
                "industrial", "leisure")


def _from_xml(path: Path) -> gpd.GeoDataFrame:
    """Tagged nodes, and tagged ways as their centroid/polygon, from OSM XML."""
    coords: dict[int, tuple[float, float]] = {}
    rows: list[dict] = []
    geoms: list = []
    try:
        with open_binary(path) as fh:
            for _, el in ET.iterparse(fh, events=("end",)):
                if el.tag == "node":
                    nid = int(el.get("id"))
                    lon, lat = float(el.get("lon")), float(el.get("lat"))
                    coords[nid] = (lon, lat)
                    tags = {t.get("k"): t.get("v") for t in el.findall("tag")}
                    if _interesting(tags):
                        rows.append({"osmid": f"node/{nid}", **tags})
                        geoms.append(shapely.Point(lon, lat))
                    el.clear()
                elif el.tag == "way":
                    tags = {t.get("k"): t.get("v") for t in el.findall("tag")}
                    if _interesting(tags) and "highway" not in tags:
                        pts = [coords[int(n.get("ref"))] for n in el.findall("nd") if int(n.get("ref")) in coords]
                        if len(pts) >= 3 and pts[0] == pts[-1]:
                            geoms.append(shapely.Polygon(pts))
                        elif pts:
                            geoms.append(shapely.MultiPoint(pts).centroid)
                        else:
                            el.clear()
                            continue
                        rows.append({"osmid": f"way/{el.get('id')}", **tags})
                    el.clear()
    except (ET.ParseError, OSError, EOFError) as exc:
        raise DataError(f"OSM file {str(path)!r} could not be read for features ({exc})") from None
    return _frame(rows, geoms)


def _interesting(tags: Mapping[str, str]) -> bool:
    if not tags:
        return False
    if tags.get("emergency") in ("fire_hydrant", "suction_point", "water_tank"):
        return True
    if tags.get("amenity") == "fire_station":
        return True
    if any(tags.get(k) in v for k, v in HAZARD_TAGS.items()) or any(tags.get(k) in v for k, v in VENUE_TAGS.items()):
        return True
    return "name" in tags and any(k in tags for k in ("place", "amenity", "tourism", "landuse",
                                                        "leisure", "building", "shop", "office"))


def _frame(rows: list[dict], geoms: list) -> gpd.GeoDataFrame:
    if not rows:
        return gpd.GeoDataFrame({"osmid": [], "name": []}, geometry=[], crs=4326)
    g = gpd.GeoDataFrame(rows, geometry=geoms, crs=4326)
    keep = [c for c in g.columns if c in KEEP_COLUMNS or c == "geometry"]
    return g[keep]


def _from_pbf(path: Path) -> gpd.GeoDataFrame:
    import warnings

    import pyrosm

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            osm = pyrosm.OSM(str(path))
            pois = osm.get_pois(custom_filter={"amenity": True, "emergency": True, "place": True,
                                               "tourism": True, "shop": list(VENUE_TAGS["shop"]),
                                               "man_made": list(HAZARD_TAGS["man_made"])})
    except Exception as exc:
        raise DataError(f"OSM file {str(path)!r} could not be read for features ({exc})") from None
    if pois is None or len(pois) == 0:
        return _frame([], [])
    pois = pois.copy()
    pois["osmid"] = pois["osm_type"].astype(str) + "/" + pois["id"].astype(str)
    keep = [c for c in pois.columns if c in KEEP_COLUMNS] + ["geometry"]
    return gpd.GeoDataFrame(pois[keep], geometry="geometry", crs=4326)


def _download(source: Mapping[str, Any], *, cache, offline: bool) -> gpd.GeoDataFrame:
    import osmnx as ox

    kind = next(k for k in ("place", "bbox", "polygon") if k in source)
    value = source[kind]
    key = value.wkt if kind == "polygon" else value
    folder = Path(cache) if cache is not None else default_cache_dir()
    digest = hashlib.sha1(json.dumps([kind, key], ensure_ascii=False).encode()).hexdigest()[:16]
    cached = folder / f"features-{kind}-{digest}.geojson"
    if cached.exists():
        try:
            return gpd.read_file(cached)
        except Exception as exc:  # a damaged cache entry: never trusted, fetched again when online
            if offline:
                raise DataError(f"cached OSM features {str(cached)!r} cannot be read ({type(exc).__name__}): "
                                "delete the file and run `covplan fetch SCENARIO` where online") from None
            with contextlib.suppress(OSError):
                cached.unlink()
    if offline:
        raise NetworkUnavailableError(
            f"OSM features for {kind} {key!r} are not cached in {str(folder)!r} and downloads are off: "
            "run `covplan fetch SCENARIO` where online"
        )
    from .network import _is_connection_error, osmnx_download, replaced_whole

    def fetch():
        if kind == "place":
            return ox.features_from_place(value, tags=dict(FEATURE_TAGS))
        if kind == "bbox":
            return ox.features_from_bbox(tuple(value), tags=dict(FEATURE_TAGS))
        return ox.features_from_polygon(value, tags=dict(FEATURE_TAGS))

    try:
        g = osmnx_download(folder, fetch)
    except DataError:
        raise
    except Exception as exc:
        if _is_connection_error(exc):
            raise NetworkUnavailableError(
                f"cannot download OSM features for {kind} {key!r}: no connection "
                f"({type(exc).__name__}); give a pois file instead (pois: {{file: ...}})"
            ) from None
        if type(exc).__name__ == "InsufficientResponseError":
            g = gpd.GeoDataFrame({"name": []}, geometry=[], crs=4326)
        else:
            raise DataError(f"download of OSM features for {kind} {key!r} failed: {exc}") from None
    g = g.reset_index()
    if "element" in g.columns and "id" in g.columns:
        g["osmid"] = g["element"].astype(str) + "/" + g["id"].astype(str)
    keep = [c for c in g.columns if c in KEEP_COLUMNS] + ["geometry"]
    g = gpd.GeoDataFrame(g[keep], geometry="geometry", crs=4326)
    folder.mkdir(parents=True, exist_ok=True)
    with replaced_whole(cached, ".tmp.geojson") as tmp:
        g.to_file(tmp, driver="GeoJSON")
    return g


def osm_features(network_source: Any, *, cache=None, offline: bool = False) -> gpd.GeoDataFrame:
    """Named places, POIs, fire stations and hydrants for a scenario's network source.

    ``network_source`` is what the scenario's ``network`` resolves to: a file path, ``"default"``
    or a download request (``{"place"|"bbox"|"polygon": ...}``).
    """
    if isinstance(network_source, Mapping):
        return _download(network_source, cache=cache, offline=offline)
    if network_source == "default":
        from .network import default_network_source

        network_source = default_network_source()
    path = Path(network_source)
    if not path.exists():
        raise DataError(f"OSM file {str(path)!r} does not exist")
    if path.name.lower().endswith(".pbf"):
        return _from_pbf(path)
    if path.name.lower().endswith(".graphml"):
        raise DataError(
            f"{str(path)!r} is a GraphML road network: it holds no POIs; give a pois file"
        )
    return _from_xml(path)


def fire_stations(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Fire stations (``amenity=fire_station``) as points with ids and names."""
    if "amenity" not in features.columns or len(features) == 0:
        return gpd.GeoDataFrame({"osmid": [], "name": []}, geometry=[], crs=4326)
    fs = features[features["amenity"] == "fire_station"].copy()
    fs["geometry"] = fs.geometry.representative_point()
    if "name" not in fs.columns:
        fs["name"] = None
    # the OSM id as our reader names it, as overpass-turbo / JOSM exports name it, or the row
    column = next((c for c in ("osmid", "@id", "id", "osm_id") if c in fs.columns), None)
    ids = fs[column] if column is not None else [None] * len(fs)
    fs["osmid"] = [name_text(v).strip() or f"row{i}" for i, v in zip(fs.index, ids)]
    return fs[["osmid", "name", "geometry"]].reset_index(drop=True)


def _matching(features: gpd.GeoDataFrame, table: Mapping[str, tuple]) -> gpd.GeoDataFrame:
    mask = np.zeros(len(features), bool)
    for key, values in table.items():
        if key in features.columns:
            mask |= features[key].isin(values).to_numpy()
    # areas stay areas: a siting distance is measured from a site's edge, not its middle
    out = features[mask & ~features.geometry.isna().to_numpy()].copy()
    return out.reset_index(drop=True)


def hazard_sites(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Sites a station must keep 200 m from (fuel stations, storage tanks, chemical plants), as
    their OSM geometry (points, or areas for mapped grounds)."""
    return _matching(features, HAZARD_TAGS)


def crowded_venues(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Crowded venues whose exits a station must keep 50 m from (schools, hospitals, malls ...), as
    their OSM geometry (an area's edge stands for its exits)."""
    return _matching(features, VENUE_TAGS)
