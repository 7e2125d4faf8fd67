"""Hydrant protection along roads: which road pieces are protected, how many hydrants are
required, and where new ones should go.

Model (GB 50974-2014 defaults, all configurable)
------------------------------------------------
* Hose is laid along streets in both directions, so protection is measured on the UNDIRECTED
  road network by length (not travel time): a point of road is protected when some hydrant lies
  within ``radius_m`` (default 150 m) of it along roads. Every road counts once, not once per
  direction. A divided road drawn as two one-way carriageways (a dual carriageway, up to
  :data:`coverage.network.DUAL_CARRIAGEWAY_M` apart) is one road: its second carriageway is a
  road kind left out (below), so the road counts once and hydrants go along one side.
* Wide roads (OSM ``width`` > ``wide_road_m``, or ``lanes`` x ``lane_width_m`` > ``wide_road_m``;
  default 60 m) have two sides that are protected separately. A hydrant on such a road protects
  only its own side of that road directly (side = the side of the centreline its mapped point
  lies on; a point exactly on the centreline counts as left). Proposals on such a road stand on
  their side, half the tagged width from the centreline (at most 40 m, less where another road
  would be nearer, not below 1.25 m). No two proposals, nor a proposal and an existing hydrant,
  stand within ``duplicate_m`` of each other (read back they would be one duplicate): one of a
  pair too close is moved sideways.
  Hose may cross a wide road at its ends (crossings, i.e. network nodes): everything a
  hydrant reaches through a node is protected on both sides of the roads meeting there, so a
  hydrant AT a crossing protects both sides of the wide roads meeting there.
* Road pieces are exact: a partially protected road is cut at the exact point (from the
  node distances and same-road hydrant positions), no sampling.
* Roads left out (``exclude``, default ``("tunnel", "bridge", "motorway", "service",
  "second_carriageway")``): tunnels (OSM ``tunnel`` other than ``no``/``building_passage``),
  bridges and viaducts, ``motorway``/``motorway_link`` and ``highway=service`` (driveways,
  parking aisles, campus lanes) carry no municipal hydrants (GB 50974 places them along
  municipal streets); the second carriageway of a divided road needs none of its own (GB 50974
  asks for both sides only above 60 m of road width), and a hydrant beside it snaps to the first
  carriageway facing it when that lies within the snapping tolerance (else it stays on the
  second carriageway). A divided road wider than ``wide_road_m`` by its tags (the gap between
  the carriageways plus half of each one's ``width`` or ``lanes`` x ``lane_width_m``) counts
  both carriageways. They are not counted in the road length,
  the required counts, the protected share or the gaps, and no new hydrant is proposed on them
  (nor at a node where only such roads meet); hose may still be laid through them, and the
  length left out is reported (``excluded_m``, ``summary()["excluded_km"]``). Existing hydrants
  snap to the nearest road that is not left out when one lies within the snapping tolerance (a
  hydrant on a street above a road tunnel belongs to the street). ``exclude=()`` keeps every road.
* Study area (``area``): only the roads inside it (cut exactly at its boundary) count in the
  road length, required counts, protected share, gaps and proposals; the network should reach at
  least ``radius_m`` beyond it, since hydrants just outside protect roads inside along roads.
  Hydrants farther than ``radius_m + tolerance_m`` from the area cannot protect anything inside
  and are ignored (not reported as unsnapped).
* Required count by the spacing rule: total road length / ``spacing_m``, wide roads counted per
  side (rounded up once for the whole network).
* Required count by minimum placement: existing hydrants are kept (fixed sites) and the fewest
  new hydrants are added so that every road piece is protected; required = the existing ones
  that protect some counted road + new (``existing_in_placement``, which is
  ``existing_protecting``; a hydrant on a campus lane far from every street is no part of the
  fewest that protect the roads). With ``propose_for="spacing"`` the placement reaches every
  road within ``spacing_m / 2`` instead (hydrants at most ``spacing_m`` apart along a road), and
  keeps the existing hydrants within that of a counted road (``existing_in_placement``). The
  new positions come from an exact set cover (:func:`coverage.optimise.min_cover`, HiGHS) over
  candidate positions - every road node (crossings, bends, dead ends), points every
  ``candidate_spacing_m`` along every road near a gap (on each side of wide roads), and in each
  gap the points ``radius_m`` and then every ``2 * radius_m`` inside its two ends, along the
  street through its bends (the best sites along a street) - covering the elementary pieces of
  the unprotected road length (the gaps cut at every candidate's reach boundary, so "covers" is
  exact for the candidate set). ``status`` "optimal" and the bound refer to these candidates: a
  gap spreading over several streets from a crossing may take a hydrant more than the best sites
  anywhere. Large models stop at ``time_limit_s``
  with the best plan found and a lower bound (``status``, ``gap``); ``solver="greedy"`` skips
  HiGHS and reports a packing lower bound. Crossings are preferred: after solving, each new
  mid-road site is swapped for a crossing that protects everything only it protects (count
  unchanged). On roads protected on both sides (wide roads, and both carriageways of a divided
  road wider than ``wide_road_m``) new mid-road hydrants are then staggered (GB 50974: 交叉错落):
  they are chosen again among the candidates on such roads, the other new sites fixed, as many
  and protecting the same, so that hydrants across the road from each other (new and existing)
  fall least short of ``spacing_m / 2`` apart along it (an exact second solve, at most 10 s;
  count and protection unchanged).
* The shortfall is stated the way the plans state it: (required - existing) / required, with the
  spacing-rule count (``shortfall_share``, against ``existing_in_spacing_rule``: the existing
  hydrants protecting a counted road, ``existing_protecting``, since the count is of counted road
  length only) and with the minimum placement (``shortfall_share_min_placement``, against
  ``existing_in_placement``); a surplus gives 0.

Kinds (OSM wiki conventions)
----------------------------
* ``hydrant``: ``emergency=fire_hydrant`` (``fire_hydrant:type`` pipe/underground/pillar/wall is
  kept as ``subtype``). Only this kind protects roads.
* ``water_crane`` (消防水鹤, high-flow truck filling crane): OSM has no approved tag; we read
  ``emergency=water_crane`` and ``fire_hydrant:type=water_crane`` (``railway=water_crane`` is a
  steam-locomotive crane and is NOT read).
* ``suction_point``: ``emergency=suction_point`` (a place where a truck drafts water with its pump),
  and the static water stores drafted the same way: ``emergency=water_tank`` and
  ``emergency=fire_water_pond``. ``man_made=water_tap`` is a drinking tap and is not read.
"""
from __future__ import annotations

import json
import math
import os
import time
import warnings
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from .errors import CoverageWarning, DataError, InputError
from .io import lonlat_columns, open_binary, read_csv_table
from .network import (DUAL_CARRIAGEWAY_M, HYDRANT_EXCLUSIONS, RoadNetwork, Snapped, check_exclude, edge_tree,
                      excluded_edges, facing_carriageways, snap_onto_edges, snap_xy, street_nodes)

__all__ = [
    "KINDS",
    "HydrantResult",
    "SnappedHydrants",
    "analyse_hydrants",
    "load_hydrants",
    "snap_hydrants",
    "water_cranes",
]

#: Hydrant kinds, in output order.
KINDS = ("hydrant", "water_crane", "suction_point")

_HYDRANT_TYPES = ("pipe", "underground", "pillar", "wall")
_TOL = 1e-3  # metres: positions closer than this are the same point
_MERGE_TOL = 1e-2  # metres: protected pieces closer than this are merged (numerical noise)
#: Hydrants none of which snaps, the nearest farther than this from the roads, belong to another
#: place than the network (a wrong file or area): an error, not a datum hint.
FAR_FROM_NETWORK_M = 5000.0
#: A consistent offset is reported as a possible datum mix-up only below this size (GCJ-02 /
#: BD-09 offsets are a few hundred metres).
DATUM_OFFSET_MAX_M = 2000.0


# --------------------------------------------------------------------------------------------
# loading


def _osm_kind(tags: Mapping[str, Any]) -> str | None:
    """Kind of one OSM object from its tags, or None when it is not a water source we read."""
    em = str(tags.get("emergency") or "").strip()
    ftype = str(tags.get("fire_hydrant:type") or "").strip()
    if em == "water_crane" or ftype == "water_crane":
        return "water_crane"
    if em == "fire_hydrant":
        return "hydrant"
    if em in ("suction_point", "water_tank", "fire_water_pond"):
        return "suction_point"
    return None


def _check_kinds(kinds: Iterable[str]) -> tuple[str, ...]:
    if isinstance(kinds, str):
        kinds = (kinds,)
    out = tuple(kinds)
    bad = [k for k in out if k not in KINDS]
    if bad or not out:
        raise InputError(f"hydrant kinds {list(out)!r} are invalid: expected a subset of {list(KINDS)}")
    return out


def load_hydrants(
    source: Any,
    *,
    datum: str = "wgs84",
    kinds: Sequence[str] = KINDS,
    id_column: str | None = None,
    kind_column: str | None = None,
    none_ok: bool = False,
) -> "gpd.GeoDataFrame":  # noqa: F821
    """Load hydrants, water cranes and suction points as WGS-84 points.

    Parameters
    ----------
    source
        A GeoDataFrame (OSM POIs with an ``emergency`` column or a ``tags`` column, or any points
        with an optional ``kind`` column), or a path: ``.geojson``/``.json``/``.gpkg``/``.shp``,
        ``.csv`` with lon/lat columns (``lon``/``lng``/``longitude``/``x`` and
        ``lat``/``latitude``/``y``), or an OSM file (``.osm``, ``.osm.bz2``, ``.osm.gz``,
        ``.osm.pbf``).
    datum
        Datum of the coordinates: ``"wgs84"`` (OSM, GPS), ``"gcj02"`` (AMap, Tencent) or
        ``"bd09"`` (Baidu); converted to WGS-84 with :func:`coverage.datum.to_wgs84`.
    kinds
        Kinds to keep (see the module notes for the OSM tags behind each kind).
    id_column, kind_column
        Columns with the id and kind for non-OSM tables; default ``id``/``@id``/``osmid`` and
        ``kind`` (rows without a kind are hydrants).
    none_ok
        A source holding no object of the wanted kinds gives an empty frame and a
        :class:`CoverageWarning` instead of a :class:`DataError` (an OSM extract where nobody
        mapped hydrants: 0 existing, every one required).

    Returns
    -------
    GeoDataFrame
        Columns ``id`` (str), ``kind``, ``subtype`` (OSM ``fire_hydrant:type`` or ""), geometry
        (WGS-84 points), CRS EPSG:4326.

    Raises
    ------
    DataError
        Unreadable file, no geometry / coordinates, or no objects of the wanted kinds.
    InputError
        Unknown datum or kinds, bad coordinates.
    """
    import geopandas as gpd

    kinds = _check_kinds(kinds)
    from .datum import normalise_datum  # lazy: datum.py is another engineer's module

    datum_name = normalise_datum(datum)
    name = "GeoDataFrame"
    if isinstance(source, gpd.GeoDataFrame):
        table = source.copy()
    elif isinstance(source, pd.DataFrame):
        table = _from_csv_table(source, "DataFrame")
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source).expanduser()
        name = str(path)
        if not path.is_file():
            raise DataError(f"hydrant file {name!r} does not exist: expected a GeoJSON, GPKG, CSV or OSM file")
        if path.stat().st_size == 0:
            raise DataError(f"hydrant file {name!r} is empty (0 bytes)")
        low = path.name.lower()
        if low.endswith((".osm", ".osm.bz2", ".osm.gz", ".xml", ".xml.bz2")):
            table = _read_osm_xml_pois(path)
        elif low.endswith(".pbf"):
            table = _read_pbf_pois(path)
        elif low.endswith((".csv", ".txt")):
            try:
                raw = read_csv_table(path, "hydrant")
            except DataError:
                raise
            except Exception as exc:
                raise DataError(f"hydrant file {name!r} could not be read as CSV ({exc})") from None
            table = _from_csv_table(raw, name)
        elif low.endswith((".geojson", ".json", ".gpkg", ".shp", ".fgb")):
            try:
                table = gpd.read_file(path)
            except Exception as exc:
                raise DataError(
                    f"hydrant file {name!r} could not be read ({type(exc).__name__}: {exc}); "
                    "expected GeoJSON/GPKG with point geometries"
                ) from None
        else:
            raise DataError(
                f"hydrant file {name!r} has an unknown type: expected .geojson, .gpkg, .csv "
                "(lon, lat), .osm, .osm.bz2 or .osm.pbf"
            )
    else:
        raise InputError(
            f"hydrant source {source!r} is not understood: expected a GeoDataFrame or a file path"
        )
    return _normalise(table, name, datum_name, kinds, id_column, kind_column, none_ok)


def _from_csv_table(raw: pd.DataFrame, name: str):
    import geopandas as gpd

    lon_c, lat_c = lonlat_columns(raw)
    if lon_c is None or lat_c is None:
        raise DataError(
            f"hydrant table {name!r} has no coordinate columns (columns: {list(raw.columns)}): "
            "expected 'lon' and 'lat' (or longitude/latitude, x/y, 经度/纬度)"
        )
    lon = pd.to_numeric(raw[lon_c], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(raw[lat_c], errors="coerce").to_numpy(float)
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    if bad.any():
        rows = np.flatnonzero(bad)[:5]
        ids = raw["id"].iloc[rows].tolist() if "id" in raw.columns else [None] * len(rows)
        where = ", ".join(f"line {r + 2}" + (f" ({v})" if v is not None and v == v else "")
                          for r, v in zip(rows.tolist(), ids))  # line 1 holds the headers
        raise DataError(
            f"hydrant table {name!r}: {int(bad.sum())} row(s) without numeric {lon_c}/{lat_c} "
            f"({where}); every hydrant needs coordinates"
        )
    return gpd.GeoDataFrame(raw.drop(columns=[lon_c, lat_c]), geometry=gpd.points_from_xy(lon, lat),
                            crs=4326)


def _read_osm_xml_pois(path: Path):
    """Water-source nodes (and ways, at their centroid) of an OSM XML file."""
    import geopandas as gpd

    rows = []
    coords: dict[str, tuple[float, float]] = {}
    way_rows = []
    try:
        with open_binary(path) as fh:
            for _, el in ET.iterparse(fh, events=("end",)):
                if el.tag == "node":
                    lon, lat = el.get("lon"), el.get("lat")
                    if lon is not None and lat is not None:
                        coords[el.get("id")] = (float(lon), float(lat))
                    tags = {t.get("k"): t.get("v") for t in el.findall("tag")}
                    if tags and _osm_kind(tags) is not None and lon is not None:
                        rows.append({"id": f"node/{el.get('id')}", **tags,
                                     "geometry": shapely.Point(float(lon), float(lat))})
                    el.clear()
                elif el.tag == "way":
                    tags = {t.get("k"): t.get("v") for t in el.findall("tag")}
                    if tags and _osm_kind(tags) is not None:
                        refs = [nd.get("ref") for nd in el.findall("nd")]
                        way_rows.append((el.get("id"), tags, refs))
                    el.clear()
    except (ET.ParseError, OSError, EOFError) as exc:
        raise DataError(
            f"hydrant file {str(path)!r} could not be read as OSM XML ({type(exc).__name__}: {exc})"
        ) from None
    for wid, tags, refs in way_rows:
        pts = [coords[r] for r in refs if r in coords]
        if pts:
            geom = shapely.MultiPoint(pts).centroid
            rows.append({"id": f"way/{wid}", **tags, "geometry": geom})
    if not rows:
        return gpd.GeoDataFrame({"id": [], "emergency": []}, geometry=[], crs=4326)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)


def _read_pbf_pois(path: Path):
    import geopandas as gpd

    try:
        import pyrosm
    except ImportError as exc:  # pragma: no cover - dependency
        raise DataError("reading .osm.pbf hydrants needs 'pyrosm': pip install pyrosm") from exc
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            osm = pyrosm.OSM(str(path))
            pois = osm.get_data_by_custom_criteria(
                custom_filter={"emergency": ["fire_hydrant", "water_crane", "suction_point",
                                             "water_tank", "fire_water_pond"]},
                osm_keys_to_keep=["emergency"], filter_type="keep",
                keep_nodes=True, keep_ways=True, keep_relations=False,
            )
    except Exception as exc:
        raise DataError(
            f"hydrant file {str(path)!r} could not be read as OSM PBF ({type(exc).__name__}: {exc})"
        ) from None
    if pois is None or len(pois) == 0:
        return gpd.GeoDataFrame({"id": [], "emergency": []}, geometry=[], crs=4326)
    pois = pois.copy()
    types = pois["osm_type"].astype(str) if "osm_type" in pois.columns else "node"
    pois["id"] = types + "/" + pois["id"].astype(str)
    return pois


def _tag_table(table) -> pd.DataFrame:
    """Tag columns of a POI table, with pyrosm-style JSON ``tags`` spread into columns."""
    tags = pd.DataFrame(index=table.index)
    for col in ("emergency", "fire_hydrant:type"):
        if col in table.columns:
            tags[col] = table[col]
    if "tags" in table.columns:
        extra = []
        for t in table["tags"]:
            if isinstance(t, str) and t:
                try:
                    t = json.loads(t)
                except ValueError:
                    t = {}
            extra.append(t if isinstance(t, dict) else {})
        for col in ("emergency", "fire_hydrant:type"):
            vals = [e.get(col) for e in extra]
            if col in tags.columns:
                tags[col] = tags[col].where(tags[col].notna(), pd.Series(vals, index=table.index))
            else:
                tags[col] = vals
    return tags


def _normalise(table, name: str, datum: str, kinds: tuple[str, ...], id_column, kind_column,
               none_ok: bool = False):
    import geopandas as gpd

    from .datum import to_wgs84

    if "geometry" not in getattr(table, "columns", []) or not isinstance(table, gpd.GeoDataFrame):
        raise DataError(f"hydrants from {name!r} have no geometry column: expected point geometries")
    if table.crs is not None and not table.crs.equals("EPSG:4326"):
        if table.crs.is_projected or datum == "wgs84":
            table = table.to_crs(4326)
    geom = table.geometry
    missing = geom.isna() | geom.is_empty
    if len(table) and missing.all():
        raise DataError(
            f"hydrants from {name!r}: none of the {len(table)} feature(s) has a geometry; expected "
            "point geometries (or a CSV with lon/lat columns)"
        )
    # kind
    tags = _tag_table(table)
    if kind_column is not None:
        if kind_column not in table.columns:
            raise InputError(f"kind_column {kind_column!r} is not a column of {name!r} ({list(table.columns)})")
        kind = table[kind_column].astype(str).str.strip().to_numpy()
        unknown = sorted(set(kind) - set(KINDS))
        if unknown:
            raise DataError(f"hydrants from {name!r} have unknown kinds {unknown}: expected {list(KINDS)}")
    elif "emergency" in tags.columns:
        kind = np.array([_osm_kind(r) for r in tags.to_dict("records")], dtype=object)
    elif "kind" in table.columns:
        kind = table["kind"].fillna("hydrant").astype(str).str.strip().to_numpy()
        unknown = sorted(set(kind) - set(KINDS))
        if unknown:
            raise DataError(f"hydrants from {name!r} have unknown kinds {unknown}: expected {list(KINDS)}")
    else:
        kind = np.full(len(table), "hydrant", dtype=object)
    subtype = (tags["fire_hydrant:type"].fillna("").astype(str).to_numpy()
               if "fire_hydrant:type" in tags.columns else np.full(len(table), "", dtype=object))
    # id
    if id_column is not None:
        if id_column not in table.columns:
            raise InputError(f"id_column {id_column!r} is not a column of {name!r} ({list(table.columns)})")
        ids = table[id_column].astype(str).to_numpy()
    else:
        col = next((c for c in ("id", "@id", "osmid", "ref") if c in table.columns), None)
        ids = (table[col].astype(str).to_numpy() if col is not None
               else np.array([str(i) for i in range(len(table))], dtype=object))
    keep = np.isin(kind.astype(object), np.array(kinds, dtype=object))
    wanted_no_geom = keep & missing.to_numpy()
    if wanted_no_geom.any():
        bad = ids[wanted_no_geom][:5].tolist()
        raise DataError(
            f"hydrants from {name!r}: {int(wanted_no_geom.sum())} feature(s) have no geometry "
            f"(ids {bad}); expected a point for every hydrant"
        )
    if not keep.any():
        found = sorted({str(k) for k in kind if k is not None})
        text = (f"hydrants from {name!r}: no objects of kinds {list(kinds)} among {len(table)} "
                f"feature(s) (kinds found: {found or 'none'}); OSM hydrants are tagged "
                "emergency=fire_hydrant")
        if not none_ok:
            raise DataError(text)
        warnings.warn(text + ": counted as 0 existing hydrants", CoverageWarning, stacklevel=3)
        return gpd.GeoDataFrame({"id": pd.Series([], dtype=str), "kind": pd.Series([], dtype=object),
                                 "subtype": pd.Series([], dtype=object)}, geometry=[], crs=4326)
    sel = table.loc[keep]
    pts = sel.geometry
    kept_ids = ids[keep].astype(str)
    n_parts = shapely.get_num_geometries(pts.to_numpy())
    multi = (pts.geom_type == "MultiPoint").to_numpy() & (n_parts > 1)
    if multi.any():
        raise DataError(
            f"hydrants from {name!r}: feature {str(kept_ids[multi][0])!r} is a MultiPoint of "
            f"{int(n_parts[multi][0])} points ({int(multi.sum())} such feature(s)): expected one point "
            "per hydrant; split them into single points")
    nonpoint = ~pts.geom_type.isin(["Point", "MultiPoint"]).to_numpy()
    if nonpoint.any():  # mapped as areas/lines (OSM allows it): use a point inside the shape
        warnings.warn(
            f"hydrants from {name!r}: {int(nonpoint.sum())} feature(s) are not points "
            f"({', '.join(f'{i} ({t})' for i, t in zip(kept_ids[nonpoint][:5], pts.geom_type[nonpoint][:5]))}"
            f"{' ...' if nonpoint.sum() > 5 else ''}): each stands for one hydrant at a point inside "
            "it; check that the file holds hydrants", CoverageWarning, stacklevel=4)
    convert = nonpoint | (pts.geom_type == "MultiPoint").to_numpy()  # a MultiPoint of one point too
    if convert.any():
        pts = pts.copy()
        pts.iloc[convert] = pts.iloc[convert].representative_point()
    lon = shapely.get_x(pts.to_numpy())
    lat = shapely.get_y(pts.to_numpy())
    try:
        lon, lat = to_wgs84(lon, lat, datum)
    except InputError as exc:  # name the file and the hydrant, not the converter's call
        i = getattr(exc, "index", None)
        at = f" (hydrant {str(ids[keep][i])!r})" if i is not None else ""
        raise InputError(f"hydrants from {name!r}{at}: {str(exc).split(': ', 1)[-1]}") from None
    return gpd.GeoDataFrame(
        {"id": ids[keep].astype(str), "kind": kind[keep].astype(str), "subtype": subtype[keep]},
        geometry=gpd.points_from_xy(np.asarray(lon, float), np.asarray(lat, float)),
        crs=4326,
    ).reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# roads (undirected, each road once) and their sides


@dataclass(frozen=True, eq=False)
class _Roads:
    """Undirected roads of a network and the 1-D "line" of their sides.

    Road ``r`` runs from node ``u[r]`` to ``v[r]`` (length ``length[r]``) and stands for network
    edge ``edge[r]`` and its reverse. Side ``k`` of road ``side_road[k]`` occupies positions
    ``[off[k], off[k] + length]`` of one global line, so that every interval computation is 1-D.
    """

    u: np.ndarray
    v: np.ndarray
    length: np.ndarray
    edge: np.ndarray
    wide: np.ndarray
    width_m: np.ndarray
    edge_road: np.ndarray  # per network edge: its road
    edge_flip: np.ndarray  # per network edge: True when it runs v -> u of its road
    side_road: np.ndarray
    side_code: np.ndarray  # 0 both (narrow road), 1 left, 2 right (of u -> v)
    off: np.ndarray
    first_side: np.ndarray  # per road: its first side index (left for wide roads)
    node_deg: np.ndarray  # per node: number of road ends
    graph: sp.csr_matrix  # undirected, min length between node pairs

    @property
    def n(self) -> int:
        return len(self.u)


def _num(value: Any) -> float:
    if value is None:
        return math.nan
    if isinstance(value, (list, tuple)):
        vals = [_num(v) for v in value]
        vals = [v for v in vals if math.isfinite(v)]
        return max(vals) if vals else math.nan
    s = str(value).strip().lower().replace(",", ".")
    for unit in ("meters", "metres", "meter", "metre", "m"):
        if s.endswith(unit):
            s = s[: -len(unit)].strip()
            break
    try:
        return float(s.split(";")[0])
    except ValueError:
        return math.nan


def _road_widths(net: RoadNetwork, edges: np.ndarray, lane_width_m: float) -> np.ndarray:
    out = np.full(len(edges), np.nan)
    for j, e in enumerate(edges.tolist()):
        u, v, k = net.node_ids[net.edge_u[e]], net.node_ids[net.edge_v[e]], net.edge_key[e]
        d = net.graph.get_edge_data(u, v, k) or {}
        w = _num(d.get("width"))
        if not math.isfinite(w):
            w = _num(d.get("est_width"))
        lanes = _num(d.get("lanes"))
        by_lanes = lanes * lane_width_m if math.isfinite(lanes) else math.nan
        vals = [x for x in (w, by_lanes) if math.isfinite(x)]
        out[j] = max(vals) if vals else math.nan
    return out


def _hydrant_exclusions(net: RoadNetwork, exclude: tuple[str, ...], wide_road_m: float,
                        lane_width_m: float) -> np.ndarray:
    """Per edge: the road kind it is left out as, or "" (:func:`coverage.network.excluded_edges`),
    except that the second carriageway of a divided road wider than ``wide_road_m`` counts: the
    gap to the first carriageway facing its midpoint plus half of each carriageway's tagged width
    (OSM ``width``, or ``lanes`` x ``lane_width_m``; untagged counts as 0) exceeds it, so
    GB 50974 asks for hydrants on both sides."""
    why = excluded_edges(net, exclude)
    sec = np.flatnonzero(why == "second_carriageway")
    if sec.size == 0:
        return why
    mid = shapely.line_interpolate_point(net.edge_geometry[sec], 0.5, normalized=True)
    mx, my = shapely.get_x(mid), shapely.get_y(mid)
    face = facing_carriageways(net, sec, mx, my, DUAL_CARRIAGEWAY_M + 1.0)
    has = face >= 0
    if has.any():
        gap = shapely.distance(net.edge_geometry[face[has]], mid[has])
        w_sec = np.nan_to_num(_road_widths(net, sec[has], lane_width_m), nan=0.0)
        w_face = np.nan_to_num(_road_widths(net, face[has], lane_width_m), nan=0.0)
        too_wide = gap + (w_sec + w_face) / 2.0 > wide_road_m
        why[sec[has][too_wide]] = ""
    return why


def _roads(net: RoadNetwork, *, wide_road_m: float, lane_width_m: float) -> _Roads:
    m = net.n_edges
    rev = net.edge_reverse
    idx = np.arange(m)
    rep = (rev < 0) | (idx < rev)
    edges = idx[rep]
    road_of = np.full(m, -1, np.int64)
    road_of[edges] = np.arange(len(edges))
    back = rev >= 0
    pair = idx[back & ~rep]
    road_of[pair] = road_of[rev[pair]]
    flip = np.zeros(m, bool)
    flip[pair] = True
    u = net.edge_u[edges]
    v = net.edge_v[edges]
    length = net.edge_length[edges].astype(float)
    width = _road_widths(net, edges, lane_width_m)
    wide = np.nan_to_num(width, nan=0.0) > wide_road_m
    n_sides = np.where(wide, 2, 1)
    first = np.zeros(len(edges), np.int64)
    np.cumsum(n_sides[:-1], out=first[1:])
    side_road = np.repeat(np.arange(len(edges)), n_sides)
    side_code = np.zeros(len(side_road), np.int64)
    side_code[first[wide]] = 1
    side_code[first[wide] + 1] = 2
    slen = length[side_road]
    off = np.zeros(len(side_road))
    np.cumsum(slen[:-1] + 1.0, out=off[1:])  # 1 m pad keeps sides apart on the line
    n = net.n_nodes
    deg = np.bincount(u, minlength=n) + np.bincount(v, minlength=n)
    # undirected graph for scipy: min length per node pair (parallel roads), no zero weights
    a = np.minimum(u, v)
    b = np.maximum(u, v)
    order = np.lexsort((length, b, a))
    a, b, w = a[order], b[order], length[order]
    first_pair = np.ones(len(a), bool)
    first_pair[1:] = (a[1:] != a[:-1]) | (b[1:] != b[:-1])
    a, b, w = a[first_pair], b[first_pair], np.maximum(w[first_pair], 1e-6)
    loop = a == b
    a, b, w = a[~loop], b[~loop], w[~loop]
    g = sp.csr_matrix((np.concatenate([w, w]), (np.concatenate([a, b]), np.concatenate([b, a]))),
                      shape=(n, n))
    return _Roads(u=u, v=v, length=length, edge=edges, wide=wide, width_m=width, edge_road=road_of,
                  edge_flip=flip, side_road=side_road, side_code=side_code, off=off,
                  first_side=first, node_deg=deg, graph=g)


# --------------------------------------------------------------------------------------------
# shortest paths (scipy until coverage.traveltime lands)


def _nearest_distance(roads: _Roads, seed_node: np.ndarray, seed_cost: np.ndarray,
                      cutoff: float) -> np.ndarray:
    """Distance from the nearest seed for every node (inf beyond ``cutoff``): one multi-source
    Dijkstra on the undirected length graph. Seeds are (node, initial cost) pairs."""
    n = roads.graph.shape[0]
    if len(seed_node) == 0:
        return np.full(n, np.inf)
    try:  # the engine, when it is there
        from .network import build_csr
        from .traveltime import nearest_source

        coo = roads.graph.tocoo()
        csr = build_csr(n, coo.row, coo.col, coo.data)
        _, cost = nearest_source(csr, np.array([0, len(seed_node)], np.int64),
                                 np.asarray(seed_node, np.int64), np.asarray(seed_cost, float), cutoff)
        return np.asarray(cost, float)
    except (ImportError, AttributeError):  # not written yet (or numba unusable)
        pass
    # virtual source node n with edges to every seed (cost + tiny, since scipy drops zeros)
    k = len(seed_node)
    coo = roads.graph.tocoo()
    rows = np.concatenate([coo.row, np.full(k, n)])
    cols = np.concatenate([coo.col, seed_node])
    data = np.concatenate([coo.data, np.asarray(seed_cost, float) + 1e-9])
    order = np.lexsort((data, cols, rows))
    r2, c2, d2 = rows[order], cols[order], data[order]
    firsts = np.ones(len(r2), bool)
    firsts[1:] = (r2[1:] != r2[:-1]) | (c2[1:] != c2[:-1])
    g = sp.csr_matrix((d2[firsts], (r2[firsts], c2[firsts])), shape=(n + 1, n + 1))
    dist = dijkstra(g, directed=True, indices=n, limit=cutoff + 1e-9)
    return np.maximum(dist[:n] - 1e-9, 0.0)


def _node_reach(roads: _Roads, net: RoadNetwork, sources: np.ndarray, cutoff: float,
                *, cell_m: float = 600.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bounded shortest distances from many source nodes: (source position, node, cost) for
    every node within ``cutoff`` along roads.

    Any node within ``cutoff`` along roads is within ``cutoff`` as the crow flies (road lengths
    are geometric lengths), so sources are processed in spatial cells, each on the sub-network
    inside its cell grown by ``cutoff``: many small Dijkstra runs instead of one dense matrix.
    """
    sources = np.asarray(sources, np.int64)
    if len(sources) == 0:
        e = np.zeros(0, np.int64)
        return e, e, np.zeros(0)
    x, y = net.x, net.y
    cx = np.floor((x[sources] - x.min()) / cell_m).astype(np.int64)
    cy = np.floor((y[sources] - y.min()) / cell_m).astype(np.int64)
    cell = cx * (cy.max() + 1) + cy
    order = np.argsort(cell, kind="stable")
    bounds = np.flatnonzero(np.diff(cell[order])) + 1
    groups = np.split(order, bounds)
    g = roads.graph
    # nodes sorted by x for quick box queries
    xorder = np.argsort(x)
    xs = x[xorder]
    out_s, out_n, out_c = [], [], []
    for grp in groups:
        src = sources[grp]
        x0, x1 = x[src].min() - cutoff, x[src].max() + cutoff
        y0, y1 = y[src].min() - cutoff, y[src].max() + cutoff
        lo, hi = np.searchsorted(xs, [x0, x1 + 1e-9])
        cand = xorder[lo:hi]
        box = cand[(y[cand] >= y0) & (y[cand] <= y1)]
        box.sort()
        sub = g[box][:, box]
        local = np.searchsorted(box, src)
        d = dijkstra(sub, directed=False, indices=local, limit=cutoff + 1e-9)
        d = np.atleast_2d(d)
        i, j = np.nonzero(np.isfinite(d))
        out_s.append(grp[i])
        out_n.append(box[j])
        out_c.append(d[i, j])
    return np.concatenate(out_s), np.concatenate(out_n), np.concatenate(out_c)


# --------------------------------------------------------------------------------------------
# intervals on the global line


def _union(lo: np.ndarray, hi: np.ndarray, tol: float = _MERGE_TOL) -> tuple[np.ndarray, np.ndarray]:
    """Union of intervals [lo, hi] (pieces closer than ``tol`` merged), sorted."""
    keep = hi > lo
    lo, hi = lo[keep], hi[keep]
    if len(lo) == 0:
        return lo, hi
    order = np.argsort(lo, kind="stable")
    lo, hi = lo[order], hi[order]
    reach = np.maximum.accumulate(hi)
    start = np.ones(len(lo), bool)
    start[1:] = lo[1:] > reach[:-1] + tol
    idx = np.flatnonzero(start)
    ends = np.append(idx[1:], len(lo)) - 1
    return lo[idx], reach[ends]


def _complement(lo: np.ndarray, hi: np.ndarray, off: np.ndarray, length: np.ndarray,
                tol: float = _MERGE_TOL) -> tuple[np.ndarray, np.ndarray]:
    """Parts of the sides [off, off + length] not covered by the (sorted, disjoint) intervals."""
    edges_lo = np.concatenate([off, hi])
    edges_hi = np.concatenate([off + length, lo])
    # gaps: from each side start / interval end to the next interval start / side end
    pts = np.concatenate([np.column_stack([off, np.zeros(len(off))]),
                          np.column_stack([lo, np.ones(len(lo))]),
                          np.column_stack([hi, np.full(len(hi), 2.0)]),
                          np.column_stack([off + length, np.full(len(off), 3.0)])])
    del edges_lo, edges_hi
    order = np.lexsort((pts[:, 1], pts[:, 0]))
    pts = pts[order]
    # walk: a gap opens at side start (0) or interval end (2), closes at interval start (1) or side end (3)
    opens = (pts[:-1, 1] == 0) | (pts[:-1, 1] == 2)
    closes = (pts[1:, 1] == 1) | (pts[1:, 1] == 3)
    ok = opens & closes & (pts[1:, 0] - pts[:-1, 0] > tol)
    return pts[:-1, 0][ok], pts[1:, 0][ok]


def _side_of(pos: np.ndarray, off: np.ndarray) -> np.ndarray:
    """Side index of global positions (``off`` sorted)."""
    return np.searchsorted(off, pos, side="right") - 1


def _node_intervals(roads: _Roads, node: np.ndarray, cost: np.ndarray, radius: float,
                    owner: np.ndarray | None = None):
    """Intervals reached from nodes with remaining hose ``radius - cost``, on every side of every
    road ending there. Returns (lo, hi, owner) on the global line."""
    rem = radius - cost
    ok = rem >= 0
    node, rem = node[ok], rem[ok]
    own = owner[ok] if owner is not None else np.zeros(len(node), np.int64)
    n = len(roads.node_deg)
    # node -> road ends
    ends_node = np.concatenate([roads.u, roads.v])
    ends_road = np.concatenate([np.arange(roads.n), np.arange(roads.n)])
    ends_at_v = np.concatenate([np.zeros(roads.n, bool), np.ones(roads.n, bool)])
    order = np.argsort(ends_node, kind="stable")
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(ends_node, minlength=n), out=ptr[1:])
    cnt = ptr[node + 1] - ptr[node]
    rep = np.repeat(np.arange(len(node)), cnt)
    pos = np.arange(len(rep)) - np.repeat(np.cumsum(cnt) - cnt, cnt) + np.repeat(ptr[node], cnt)
    e = order[pos]
    road = ends_road[e]
    at_v = ends_at_v[e]
    r_rem = rem[rep]
    r_own = own[rep]
    # sides of those roads
    nside = np.where(roads.wide[road], 2, 1)
    rep2 = np.repeat(np.arange(len(road)), nside)
    k = roads.first_side[road][rep2] + (np.arange(len(rep2)) - np.repeat(np.cumsum(nside) - nside, nside))
    L = roads.length[road][rep2]
    reach = np.minimum(r_rem[rep2], L)
    base = roads.off[k]
    lo = np.where(at_v[rep2], base + L - reach, base)
    hi = np.where(at_v[rep2], base + L, base + reach)
    return lo, hi, r_own[rep2]


def _own_road_intervals(roads: _Roads, road: np.ndarray, pos: np.ndarray, side: np.ndarray,
                        radius: float, owner: np.ndarray):
    """Intervals of points placed ON roads, along their own road (own side on wide roads)."""
    k = roads.first_side[road] + np.where(side == 2, 1, 0)
    L = roads.length[road]
    base = roads.off[k]
    return base + np.clip(pos - radius, 0, L), base + np.clip(pos + radius, 0, L), owner


# --------------------------------------------------------------------------------------------
# snapping


@dataclass(frozen=True, eq=False)
class SnappedHydrants:
    """Hydrants placed on roads.

    Attributes
    ----------
    hydrants
        Every input row (WGS-84 points, input order) with ``snapped`` (bool), ``distance_m`` to
        the nearest road, ``duplicate_of`` ("" or the id kept), ``road``, ``position_m`` (along
        the road from its ``u`` end), ``side`` ("both"/"left"/"right"), ``at_crossing``.
    unsnapped
        Table (id, kind, lon, lat, distance_m, reason) of hydrants farther than the tolerance.
    duplicates
        Table (id, kind, duplicate_of, distance_m, reason) of hydrants of one kind within
        ``duplicate_m`` of an earlier one; only the first is used. Duplicates are found by
        position only: hydrants farther apart that share an id (ids may come from a ``ref``
        column) are all used, with a warning.
    datum_warning
        A message when the offsets look like a wrong datum (also issued as a warning), else "".
    tolerance_m
        The snapping tolerance used.
    network, settings
        The network snapped onto and the road rules that decided roads and sides
        (``wide_road_m``, ``lane_width_m``, ``exclude``): :func:`analyse_hydrants` refuses the
        snapped set for another network or other rules (its roads, positions and sides would
        not hold there).
    """

    hydrants: Any
    unsnapped: pd.DataFrame
    duplicates: pd.DataFrame
    datum_warning: str
    tolerance_m: float
    network: Any = field(default=None, repr=False)
    settings: dict = field(default_factory=dict)

    def used(self, kind: str = "hydrant") -> np.ndarray:
        """Row indices of snapped, non-duplicate rows of a kind."""
        h = self.hydrants
        return np.flatnonzero((h["kind"] == kind).to_numpy() & h["snapped"].to_numpy()
                              & (h["duplicate_of"] == "").to_numpy())


#: A hydrant within this distance of a road end counts as at the crossing (snap_hydrants' default).
_CROSSING_M = 1.0
#: Time for staggering new hydrants across wide roads (an exact second solve).
_STAGGER_S = 10.0


def snap_hydrants(
    network: RoadNetwork,
    hydrants: Any,
    *,
    tolerance_m: float = 50.0,
    duplicate_m: float = 2.0,
    wide_road_m: float = 60.0,
    lane_width_m: float = 3.5,
    crossing_m: float = _CROSSING_M,
    exclude: Any = HYDRANT_EXCLUSIONS,
) -> SnappedHydrants:
    """Snap hydrants onto the road network; report the unsnappable and duplicates.

    Parameters
    ----------
    network
        The road network.
    hydrants
        GeoDataFrame from :func:`load_hydrants` (WGS-84 points, ``id``, ``kind``).
    tolerance_m
        Hydrants farther than this from any drivable road are not used and are listed in
        ``unsnapped`` with their distance (never dropped silently).
    duplicate_m
        Hydrants of one kind within this distance of an earlier one are listed in ``duplicates``
        and used once (by position: a repeated id alone is only warned about).
    wide_road_m, lane_width_m
        Wide-road rule (which side of a wide road each hydrant is on).
    crossing_m
        A hydrant within this distance of a road end counts as at the crossing.
    exclude
        Road kinds (:data:`coverage.network.ROAD_KINDS`) a hydrant is snapped to only when
        no other road lies within ``tolerance_m`` (a street above a tunnel, beside an expressway,
        at the mouth of a driveway, is preferred); a second carriageway is left for an equally
        near counted road or the first carriageway facing it, else kept (see ``_prefer_counted``).

    Raises
    ------
    InputError
        A hydrant without finite WGS-84 coordinates (named by id).
    DataError
        No hydrant lies within ``tolerance_m`` of the network and the nearest lies farther than
        :data:`FAR_FROM_NETWORK_M`: the hydrants are outside the network's extent.

    Warns
    -----
    CoverageWarning
        When most hydrants are far from roads and converting them from GCJ-02 (or BD-09) to
        WGS-84 brings them onto the roads: the coordinates are probably in that datum.
    """
    _check_snap_metres(tolerance_m, duplicate_m)
    _positive("wide_road_m", wide_road_m)
    _positive("lane_width_m", lane_width_m)
    h = _check_hydrant_frame(hydrants)
    exclude = check_exclude(exclude, "hydrants exclude")
    why = _hydrant_exclusions(network, exclude, wide_road_m, lane_width_m)
    roads = _roads(network, wide_road_m=wide_road_m, lane_width_m=lane_width_m)
    return _snap_frame(network, h, why, roads, tolerance_m=tolerance_m, duplicate_m=duplicate_m,
                       crossing_m=crossing_m, stacklevel=3,
                       settings=_snap_settings(wide_road_m, lane_width_m, exclude))


def _snap_settings(wide_road_m: float, lane_width_m: float, exclude) -> dict:
    """The road rules a snapped set depends on (compared by :func:`analyse_hydrants`)."""
    return {"wide_road_m": float(wide_road_m), "lane_width_m": float(lane_width_m),
            "exclude": sorted(str(k) for k in exclude)}


def _check_snap_metres(tolerance_m: Any, duplicate_m: Any) -> None:
    for name, val in (("tolerance_m", tolerance_m), ("duplicate_m", duplicate_m)):
        if not (isinstance(val, (int, float)) and math.isfinite(val) and val >= 0):
            raise InputError(f"{name} {val!r} is invalid: expected metres >= 0")


def _snap_frame(network: RoadNetwork, h, why: np.ndarray, roads: _Roads, *, tolerance_m: float,
                duplicate_m: float, crossing_m: float, stacklevel: int,
                settings: dict | None = None) -> SnappedHydrants:
    """:func:`snap_hydrants` on a checked hydrant frame, with the per-edge exclusions and the
    roads already built (:func:`analyse_hydrants` builds them once for snapping and counting);
    warnings point ``stacklevel`` frames up."""
    n = len(h)
    lon = shapely.get_x(h.geometry.to_numpy())
    lat = shapely.get_y(h.geometry.to_numpy())
    if n == 0:
        sn = None
        dist = np.zeros(0)
    else:
        px, py = network.to_projected(lon, lat)
        px, py = np.asarray(px, float), np.asarray(py, float)
        sn = snap_xy(network, px, py, max_distance_m=math.inf)
        sn = _prefer_counted(network, sn, px, py, why, tolerance_m, crossing_m)
        dist = sn.distance_m
    ok = dist <= tolerance_m
    if n and not ok.any() and float(dist.min()) > FAR_FROM_NETWORK_M:
        raise DataError(
            f"none of the {n} hydrant(s) lies within {tolerance_m:g} m of the road network: the "
            f"nearest is {float(dist.min()):.0f} m ({float(dist.min()) / 1000:.1f} km) from it "
            f"(median {float(np.median(dist)) / 1000:.1f} km), so the hydrants lie outside the "
            "network's extent; use the hydrants of the network's city/area (or the network of "
            "theirs)"
        )
    out = h[["id", "kind", "subtype"]].copy() if "subtype" in h.columns else h[["id", "kind"]].copy()
    out["snapped"] = ok
    out["distance_m"] = dist
    road = np.full(n, -1, np.int64)
    pos = np.full(n, np.nan)
    side = np.zeros(n, np.int64)
    at_cross = np.zeros(n, bool)
    if n:
        e = sn.edge
        road = roads.edge_road[e]
        L = roads.length[road]
        frac = np.where(roads.edge_flip[e], 1.0 - sn.fraction, sn.fraction)
        pos = frac * L
        # side of a wide road: sign of the cross product road direction x (point - snapped)
        g = network.edge_geometry[e]
        d = shapely.length(g)
        a = shapely.line_interpolate_point(g, np.clip(sn.fraction * d - 0.5, 0, d))
        b = shapely.line_interpolate_point(g, np.clip(sn.fraction * d + 0.5, 0, d))
        tx, ty = shapely.get_x(b) - shapely.get_x(a), shapely.get_y(b) - shapely.get_y(a)
        cross = tx * (py - sn.y) - ty * (px - sn.x)
        cross = np.where(roads.edge_flip[e], -cross, cross)
        side = np.where(roads.wide[road], np.where(cross >= 0, 1, 2), 0)
        at_cross = (pos <= crossing_m) | (L - pos <= crossing_m)
    out["road"] = road
    out["position_m"] = pos
    out["side"] = np.array(["both", "left", "right"], dtype=object)[side]
    out["at_crossing"] = at_cross
    # duplicates: same kind within duplicate_m (first one kept); an id is no position (a ref
    # column may repeat), so hydrants sharing an id but far apart are all kept (warned below)
    dup_of = np.full(n, "", dtype=object)
    dup_d = np.full(n, np.nan)
    reason = np.full(n, "", dtype=object)
    ids = out["id"].astype(str).to_numpy()
    if n > 1 and duplicate_m > 0:
        from scipy.spatial import cKDTree

        px2, py2 = network.to_projected(lon, lat)
        xy = np.column_stack([px2, py2])
        kinds = out["kind"].to_numpy()
        pairs = cKDTree(xy).query_pairs(duplicate_m, output_type="ndarray")
        if len(pairs):
            pairs = pairs[kinds[pairs[:, 0]] == kinds[pairs[:, 1]]]
            pairs = np.sort(pairs, axis=1)
            pairs = pairs[np.lexsort((pairs[:, 0], pairs[:, 1]))]
            for i, j in pairs.tolist():  # j > i: j duplicates i unless i itself is a duplicate
                if dup_of[j] == "" and dup_of[i] == "":
                    dup_of[j] = ids[i]
                    reason[j] = f"within {duplicate_m:g} m"
                    dup_d[j] = float(np.hypot(*(xy[j] - xy[i])))
    out["duplicate_of"] = dup_of
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(out, geometry=h.geometry.to_numpy(), crs=4326)
    far = ~ok
    unsnapped = pd.DataFrame({
        "id": ids[far], "kind": out["kind"].to_numpy()[far], "lon": lon[far], "lat": lat[far],
        "distance_m": dist[far],
        "reason": [f"{d:.0f} m from the nearest drivable road (tolerance {tolerance_m:g} m)"
                   for d in dist[far]],
    })
    isdup = dup_of != ""
    duplicates = pd.DataFrame({
        "id": ids[isdup], "kind": out["kind"].to_numpy()[isdup], "duplicate_of": dup_of[isdup],
        "distance_m": dup_d[isdup], "reason": reason[isdup],
    })
    message = _datum_check(network, lon, lat, dist, tolerance_m) if n else ""
    if message:
        warnings.warn(message, CoverageWarning, stacklevel=stacklevel)
    if far.any():
        shown = ", ".join(f"{i} ({d:.0f} m)" for i, d in zip(ids[far][:5], dist[far][:5]))
        warnings.warn(
            f"{int(far.sum())} of {n} hydrant(s) lie farther than {tolerance_m:g} m from any "
            f"drivable road and are not used: {shown}{' ...' if far.sum() > 5 else ''} "
            "(reported as hydrants not counted)", CoverageWarning, stacklevel=stacklevel)
    if isdup.any():
        shown = ", ".join(f"{i} = {j}" for i, j in zip(ids[isdup][:5], dup_of[isdup][:5]))
        warnings.warn(
            f"{int(isdup.sum())} duplicate hydrant(s) counted once: {shown}"
            f"{' ...' if isdup.sum() > 5 else ''} (reported as duplicates)", CoverageWarning,
            stacklevel=stacklevel)
    kept_ids = pd.Series(ids[~isdup])
    repeated = sorted(set(kept_ids[kept_ids.duplicated()]))
    if repeated:
        shown = ", ".join(f"{i!r} ({int((kept_ids == i).sum())}x)" for i in repeated[:5])
        warnings.warn(
            f"{len(repeated)} hydrant id(s) are used by several hydrants more than {duplicate_m:g} m "
            f"apart: {shown}{' ...' if len(repeated) > 5 else ''}; all of them are kept (duplicates "
            "are found by position); give each hydrant its own id to tell them apart",
            CoverageWarning, stacklevel=stacklevel)
    return SnappedHydrants(hydrants=gdf, unsnapped=unsnapped, duplicates=duplicates,
                           datum_warning=message, tolerance_m=float(tolerance_m), network=network,
                           settings=dict(settings or {}))


def _replace_rows(sn: Snapped, rows: np.ndarray, alt: Snapped, take: np.ndarray | None = None) -> Snapped:
    fields = ("edge", "fraction", "distance_m", "x", "y", "lon", "lat")
    arrays = {f: getattr(sn, f).copy() for f in fields}
    for f in fields:
        arrays[f][rows] = getattr(alt, f) if take is None else getattr(alt, f)[take]
    return Snapped(**arrays)


def _prefer_counted(network: RoadNetwork, sn: Snapped, px: np.ndarray, py: np.ndarray, why: np.ndarray,
                    tolerance_m: float, crossing_m: float) -> Snapped:
    """Hydrants snapped onto a road left out move to the road they serve.

    1. Nearest a tunnel, bridge, expressway or service lane: the nearest counted road or second
       carriageway within ``tolerance_m`` (a street above a tunnel, beside an expressway, at the
       mouth of a driveway), else they stay.
    2. Then, on a second carriageway: a counted road within ``tolerance_m`` that is as near
       (within ``crossing_m``: a hydrant at a crossing stays at the crossing), else the first
       carriageway facing it within ``tolerance_m`` (the divided road it serves), else they
       stay.
    """
    surface = (why == "") | (why == "second_carriageway")
    off_road = np.flatnonzero((why[sn.edge] != "") & (why[sn.edge] != "second_carriageway"))
    if len(off_road) and surface.any():
        alt = snap_xy(network, px[off_road], py[off_road], max_distance_m=math.inf, edges=surface)
        take = alt.distance_m <= tolerance_m
        if take.any():
            sn = _replace_rows(sn, off_road[take], alt, take)
    on_second = np.flatnonzero(why[sn.edge] == "second_carriageway")
    if len(on_second) and (why == "").any():
        near = snap_xy(network, px[on_second], py[on_second], max_distance_m=math.inf, edges=why == "")
        tie = (near.distance_m <= sn.distance_m[on_second] + crossing_m) & (near.distance_m <= tolerance_m)
        if tie.any():
            sn = _replace_rows(sn, on_second[tie], near, tie)
        rest = on_second[~tie]
        if len(rest):
            face = facing_carriageways(network, sn.edge[rest], px[rest], py[rest], tolerance_m)
            rows = rest[face >= 0]
            if len(rows):
                sn = _replace_rows(sn, rows, snap_onto_edges(network, px[rows], py[rows], face[face >= 0]))
    return sn


def _check_hydrant_frame(hydrants: Any):
    import geopandas as gpd

    if isinstance(hydrants, SnappedHydrants):
        hydrants = hydrants.hydrants
    if not isinstance(hydrants, gpd.GeoDataFrame):
        raise InputError(
            f"hydrants must be a GeoDataFrame from load_hydrants(), got {type(hydrants).__name__}"
        )
    missing = [c for c in ("id", "kind") if c not in hydrants.columns]
    if missing:
        raise InputError(
            f"hydrants lack column(s) {missing} (columns: {list(hydrants.columns)}): load them "
            "with load_hydrants()"
        )
    if hydrants.crs is not None and not hydrants.crs.equals("EPSG:4326"):
        hydrants = hydrants.to_crs(4326)
    geom = hydrants.geometry
    bad = (geom.isna() | geom.is_empty | (geom.geom_type != "Point")).to_numpy()
    if bad.any():
        ids = hydrants["id"].astype(str).to_numpy()[bad][:5].tolist()
        raise DataError(f"{int(bad.sum())} hydrant(s) without a point geometry (ids {ids})")
    unknown = sorted(set(hydrants["kind"].astype(str)) - set(KINDS))
    if unknown:
        raise InputError(f"hydrant kinds {unknown} are unknown: expected {list(KINDS)}")
    lon = shapely.get_x(geom.to_numpy())
    lat = shapely.get_y(geom.to_numpy())
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if bad.any():
        ids = hydrants["id"].astype(str).to_numpy()[bad]
        shown = ", ".join(f"{i} ({x}, {y})" for i, x, y in zip(ids[:5], lon[bad][:5], lat[bad][:5]))
        raise InputError(
            f"{int(bad.sum())} hydrant(s) have no valid WGS-84 coordinates (lon, lat): {shown}"
            f"{' ...' if bad.sum() > 5 else ''}; expected finite lon in [-180, 180] and lat in "
            "[-90, 90]"
        )
    return hydrants.reset_index(drop=True)


def _datum_check(net: RoadNetwork, lon, lat, dist, tolerance_m: float) -> str:
    """A warning when hydrants sit systematically off the roads: a datum change that brings
    them onto the roads is named; otherwise a consistent offset in one direction is reported."""
    if len(dist) < 3:
        return ""
    far_share = float(np.mean(dist > tolerance_m))
    med = float(np.median(dist))
    if far_share < 0.1 and med < 0.5 * tolerance_m:
        return ""
    from .datum import bd09_to_wgs84, gcj02_to_wgs84, wgs84_to_gcj02

    best = ("", med, far_share)
    trials = {
        "gcj02": gcj02_to_wgs84,
        "bd09": bd09_to_wgs84,
        "wgs84 converted as if GCJ-02": wgs84_to_gcj02,
    }
    for name, fn in trials.items():
        x, y = fn(lon, lat)
        if np.allclose(x, lon) and np.allclose(y, lat):
            continue  # outside China: no offset to try
        px, py = net.to_projected(x, y)
        d = snap_xy(net, np.asarray(px, float), np.asarray(py, float), max_distance_m=math.inf).distance_m
        m = float(np.median(d))
        if m < best[1]:
            best = (name, m, float(np.mean(d > tolerance_m)))
    px, py = net.to_projected(lon, lat)
    sn = snap_xy(net, np.asarray(px, float), np.asarray(py, float), max_distance_m=math.inf)
    dx, dy = np.asarray(px) - sn.x, np.asarray(py) - sn.y
    mean_vec = float(np.hypot(dx.mean(), dy.mean()))
    if best[0] and best[1] <= 0.5 * med and best[2] <= 0.5 * far_share:
        if best[0].startswith("wgs84"):
            hint = ("they look like WGS-84 coordinates that were converted from GCJ-02 although "
                    "they already were WGS-84; load them with the datum they really have")
        else:
            hint = (f"they look like {best[0].upper()} coordinates given as WGS-84; load them "
                    f"with datum={best[0]!r}")
        return (f"{far_share:.0%} of the hydrants lie more than {tolerance_m:g} m from any road "
                f"(median {med:.0f} m); read as {best[0]} the median distance falls to "
                f"{best[1]:.0f} m and {best[2]:.0%} lie off the roads: {hint}")
    if (far_share >= 0.5 and med >= 2 * tolerance_m and mean_vec > 0.5 * med
            and mean_vec < DATUM_OFFSET_MAX_M):
        return (f"{far_share:.0%} of the hydrants lie more than {tolerance_m:g} m from any road, "
                f"offset consistently by about {mean_vec:.0f} m in one direction (median "
                f"{med:.0f} m): check the datum of the coordinates (WGS-84 / GCJ-02 / BD-09)")
    return ""


# --------------------------------------------------------------------------------------------
# analysis


@dataclass(frozen=True, eq=False)
class HydrantResult:
    """Everything :func:`analyse_hydrants` found; every field is always present.

    Attributes
    ----------
    protected, unprotected
        Road pieces (GeoDataFrame, network CRS): ``road``, ``u``, ``v`` (graph node ids),
        ``side``, ``start_m``, ``end_m`` (along the road from ``u``), ``length_m``, ``highway``.
    protected_share
        Protected length / road length (wide roads counted per side).
    road_m, protected_m, unprotected_m
        Lengths in metres (wide roads per side), of the roads not left out by ``exclude``.
    existing
        Hydrants used (kind ``hydrant``, snapped, duplicates once); with a study area, those
        inside it (the ones just outside that protect roads inside are
        ``options["existing_outside_area"]``); ``options["existing_useful"]`` counts those
        within ``radius_m`` of a counted road (a hydrant on a campus lane far from any counted
        street is existing but protects nothing the requirement counts).
    required_spacing_rule
        ceil(road length per side / spacing_m), of the counted roads only; the existing hydrants
        set against it are those protecting a counted road (``options["existing_useful"]``,
        ``summary()["existing_in_spacing_rule"]``).
    required_min_placement
        The existing hydrants protecting a counted road (``options["existing_useful"]``) + the
        fewest new hydrants protecting every road (see ``status``/``gap``); with
        ``propose_for="spacing"``, reaching every road within half the spacing (the existing
        hydrants within half the spacing of a counted road, ``options["existing_placed"]``).
    proposals
        GeoDataFrame (WGS-84) of new positions: ``site`` (crossing/road/dead_end), ``road``,
        ``side``, ``position_m``, ``node`` (graph id or -1), ``rank`` (build order, largest gain
        first), ``newly_protected_m`` (gap length it newly protects in that order: the column sums
        to the gap closed), ``protects_m`` (gap length within its own reach), ``unique_m`` (gap
        length no other proposal protects), ``lon``, ``lat``.
    status, gap, bound
        Solver status (``optimal``, ``time_limit``, ``greedy``, ``not_run``, ``nothing_to_do``),
        relative gap and lower bound on the number of new hydrants.
    snapped
        The :class:`SnappedHydrants` used (unsnapped and duplicates reported there).
    water_cranes
        Suggested water-crane positions (empty unless ``high_risk`` was given).
    options
        The parameters used.
    exclude, excluded_m
        Road kinds left out (:data:`coverage.network.ROAD_KINDS`) and the length left out
        per kind in metres (inside the study area; wide roads per side, like ``road_m``; an edge
        of several kinds counts as the first, e.g. a motorway tunnel as tunnel). Not in
        ``protected``/``unprotected`` nor in any count.
    """

    protected: Any
    unprotected: Any
    protected_share: float
    road_m: float
    protected_m: float
    unprotected_m: float
    existing: int
    required_spacing_rule: int
    required_min_placement: int | None
    proposals: Any
    status: str
    gap: float
    bound: float
    snapped: SnappedHydrants
    water_cranes: Any
    options: Mapping[str, Any] = field(default_factory=dict)
    seconds: Mapping[str, float] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    excluded_m: Mapping[str, float] = field(default_factory=dict)

    @property
    def proposed(self) -> int:
        return int(len(self.proposals))

    def summary(self) -> dict[str, Any]:
        """Plain numbers for ``hydrants.json``."""
        req_s = self.required_spacing_rule
        req_m = self.required_min_placement
        useful = int(self.options.get("existing_useful", self.existing))
        placed = int(self.options.get("existing_placed", useful))
        return {
            "protected_share": float(self.protected_share),
            "existing": int(self.existing),
            "existing_outside_area": int(self.options.get("existing_outside_area", 0)),
            # of `existing`, those within reach of a road the requirement counts
            "existing_protecting": useful,
            "required_spacing_rule": int(req_s),
            "required_min_placement": None if req_m is None else int(req_m),
            "proposed": self.proposed,
            # the spacing rule counts the counted road length only, so the existing hydrants that
            # meet it are those protecting a counted road (not one on a campus or service lane)
            "existing_in_spacing_rule": useful,
            "shortfall_share": _shortfall(req_s, useful),
            # of those, the ones the minimum placement keeps (with propose_for="spacing": within
            # half the spacing of a counted road)
            "existing_in_placement": placed,
            "shortfall_share_min_placement": None if req_m is None else _shortfall(req_m, placed),
            "road_km": self.road_m / 1000.0,
            "unprotected_km": self.unprotected_m / 1000.0,
            "excluded_km": sum(self.excluded_m.values()) / 1000.0,
            "excluded_km_by_kind": {k: v / 1000.0 for k, v in self.excluded_m.items()},
            "exclude": list(self.exclude),
            "unsnapped": int(len(self.snapped.unsnapped)),
            "duplicates": int(len(self.snapped.duplicates)),
            "status": self.status,
            "gap": float(self.gap),
            "bound": float(self.bound),
            "datum_warning": self.snapped.datum_warning,
            "water_cranes": int(len(self.water_cranes)),
            "radius_m": self.options.get("radius_m"),
            "spacing_m": self.options.get("spacing_m"),
            # what the minimum placement and the proposals meet: protection or spacing
            "propose_for": self.options.get("propose_for", "protection"),
            "wide_road_m": self.options.get("wide_road_m"),
        }


def _shortfall(required: int, existing: int) -> float:
    if required <= 0:
        return 0.0
    return max(0.0, (required - existing) / required)


def _positive(name: str, value: Any, *, allow_zero: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        raise InputError(f"{name} {value!r} is invalid: expected a number of metres > 0")
    return float(value)


def _projected_xy(net: RoadNetwork, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Network-CRS (x, y) of WGS-84 shapely points."""
    if len(points) == 0:
        return np.zeros(0), np.zeros(0)
    x, y = net.to_projected(shapely.get_x(points), shapely.get_y(points))
    return np.asarray(x, float), np.asarray(y, float)


def _check_candidate_spacing(cand_sp: float, radius: float, spacing: float, propose_for: str) -> None:
    """Refuse candidates too far apart to reach every road point: ``cand_sp`` must be below twice
    the placement's reach, ``radius`` or (``propose_for="spacing"``) the smaller of ``radius``
    and ``spacing / 2``. The message names the value that binds."""
    if propose_for == "protection":
        reach, why = radius, f"radius_m {radius:g}"
    else:
        both = (f"with propose_for='spacing' the placement reaches the smaller of radius_m {radius:g} and "
                f"half of spacing_m {spacing:g} = {spacing / 2.0:g} m")
        if radius < spacing / 2.0:
            reach, why = radius, f"radius_m {radius:g} ({both}: radius_m binds)"
        else:
            reach, why = spacing / 2.0, f"spacing_m {spacing:g} ({both}: half the spacing binds)"
    if cand_sp >= 2.0 * reach:
        raise InputError(f"candidate_spacing_m {cand_sp:g} is too coarse for {why}: expected less than "
                         f"2 x {reach:g} = {2.0 * reach:g} m so that every road point can be reached")


def _protect_counted(roads: _Roads, counted_roads: np.ndarray, h_road: np.ndarray, h_pos: np.ndarray,
                     radius: float) -> np.ndarray:
    """Per hydrant at (road, position): whether a counted road lies within ``radius`` of it
    along the roads (its own road counted, or a counted road's end within reach)."""
    is_counted = np.zeros(roads.n, bool)
    is_counted[counted_roads] = True
    if len(h_road) == 0:
        return np.zeros(0, bool)
    ends = np.unique(np.concatenate([roads.u[is_counted], roads.v[is_counted]]))
    dist = _nearest_distance(roads, ends, np.zeros(len(ends)), radius)
    via = np.minimum(h_pos + dist[roads.u[h_road]], roads.length[h_road] - h_pos + dist[roads.v[h_road]])
    return is_counted[h_road] | (via <= radius)


def _protection_intervals(roads: _Roads, seeds_road: np.ndarray, seeds_pos: np.ndarray,
                          seeds_side: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Protected intervals (global line) of hydrants at (road, position, side)."""
    seed_node = np.concatenate([roads.u[seeds_road], roads.v[seeds_road]])
    seed_cost = np.concatenate([seeds_pos, roads.length[seeds_road] - seeds_pos])
    dist = _nearest_distance(roads, seed_node, seed_cost, radius)
    reached = np.flatnonzero(np.isfinite(dist) & (dist <= radius))
    lo1, hi1, _ = _node_intervals(roads, reached, dist[reached], radius)
    lo2, hi2, _ = _own_road_intervals(roads, seeds_road, seeds_pos, seeds_side, radius,
                                      np.zeros(len(seeds_road), np.int64))
    return _union(np.concatenate([lo1, lo2]), np.concatenate([hi1, hi2]))


def _intersect(a_lo: np.ndarray, a_hi: np.ndarray, b_lo: np.ndarray, b_hi: np.ndarray,
               tol: float = _MERGE_TOL) -> tuple[np.ndarray, np.ndarray]:
    """Intersection of two sorted, disjoint interval sets on the global line."""
    j0 = np.searchsorted(b_hi, a_lo, side="right")
    j1 = np.searchsorted(b_lo, a_hi, side="left")
    cnt = np.maximum(j1 - j0, 0)
    rep = np.repeat(np.arange(len(a_lo)), cnt)
    j = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt) + np.repeat(j0, cnt)
    lo = np.maximum(a_lo[rep], b_lo[j])
    hi = np.minimum(a_hi[rep], b_hi[j])
    ok = hi - lo > tol
    return lo[ok], hi[ok]


def _area_intervals(net: RoadNetwork, roads: _Roads, area_p) -> tuple[np.ndarray, np.ndarray]:
    """The parts of every road side inside the (projected) area, as sorted global intervals;
    roads are cut exactly at the area's boundary."""
    geoms = net.edge_geometry[roads.edge]  # runs u -> v of its road
    inter = shapely.intersection(geoms, area_p)
    parts, ridx = shapely.get_parts(inter, return_index=True)
    if len(parts):  # a GeometryCollection (point + line) holds MultiLineStrings at most
        multi = shapely.get_type_id(parts) == 5
        if multi.any():
            sub, si = shapely.get_parts(parts[multi], return_index=True)
            parts = np.concatenate([parts[~multi], sub])
            ridx = np.concatenate([ridx[~multi], ridx[multi][si]])
    line = shapely.get_type_id(parts) == 1
    parts, ridx = parts[line], ridx[line]
    glen = shapely.length(geoms)
    scale = np.where(glen > 0, roads.length / np.where(glen > 0, glen, 1.0), 1.0)[ridx]
    g = geoms[ridx]
    # locate each piece by its middle: on a road that ends where it starts (a loop), the shared
    # end point would be found at 0 and the piece running back to it misplaced
    plen = shapely.length(parts)
    mid = shapely.line_locate_point(g, shapely.line_interpolate_point(parts, 0.5, normalized=True))
    L = roads.length[ridx]
    lo = np.clip((mid - plen / 2) * scale, 0, L)
    hi = np.clip(lo + plen * scale, 0, L)
    # every side of the road
    nside = np.where(roads.wide[ridx], 2, 1)
    rep = np.repeat(np.arange(len(ridx)), nside)
    k = roads.first_side[ridx][rep] + (np.arange(len(rep)) - np.repeat(np.cumsum(nside) - nside, nside))
    base = roads.off[k]
    return _union(base + lo[rep], base + hi[rep])


def _pieces(net: RoadNetwork, roads: _Roads, lo: np.ndarray, hi: np.ndarray):
    """GeoDataFrame of road pieces for global intervals (cut exactly, vectorised)."""
    import geopandas as gpd

    k = _side_of(lo, roads.off)
    r = roads.side_road[k]
    start = lo - roads.off[k]
    end = hi - roads.off[k]
    L = roads.length[r]
    start = np.clip(start, 0, L)
    end = np.clip(end, 0, L)
    geoms = _substrings(net.edge_geometry[roads.edge[r]], start, end)
    hw = net.edge_highway[roads.edge[r]]
    return gpd.GeoDataFrame({
        "road": r, "u": net.node_ids[roads.u[r]], "v": net.node_ids[roads.v[r]],
        "side": np.array(["both", "left", "right"], dtype=object)[roads.side_code[k]],
        "start_m": start, "end_m": end, "length_m": end - start, "highway": hw,
    }, geometry=geoms, crs=net.crs)


def _substrings(lines: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Pieces [start, end] (metres from the line start) of LineStrings, vectorised."""
    if len(lines) == 0:
        return np.empty(0, dtype=object)
    coords, idx = shapely.get_coordinates(lines, return_index=True)
    n = len(lines)
    seg = np.hypot(np.diff(coords[:, 0]), np.diff(coords[:, 1]))
    same = idx[1:] == idx[:-1]
    seg = np.where(same, seg, 0.0)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    first = np.searchsorted(idx, np.arange(n))
    last = np.searchsorted(idx, np.arange(n), side="right") - 1
    base = cum[first]
    # scale to the stored road length (geometry length == edge length up to float error)
    glen = cum[last] - base
    gstart = base + np.minimum(start, glen)
    gend = base + np.minimum(end, glen)

    def interp(p):
        j = np.clip(np.searchsorted(cum, p, side="right") - 1, first, np.maximum(last - 1, first))
        span = cum[j + 1] - cum[j]
        t = np.where(span > 0, (p - cum[j]) / np.where(span > 0, span, 1), 0.0)
        return coords[j] + t[:, None] * (coords[j + 1] - coords[j])

    a = interp(gstart)
    b = interp(gend)
    # interior vertices strictly between start and end
    i0 = np.searchsorted(cum, gstart, side="right")
    i1 = np.searchsorted(cum, gend, side="left")
    i0 = np.maximum(i0, first)
    i1 = np.minimum(i1, last + 1)
    cnt = np.maximum(i1 - i0, 0)
    total = cnt + 2
    out = np.empty((int(total.sum()), 2))
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(total, out=ptr[1:])
    out[ptr[:-1]] = a
    out[ptr[1:] - 1] = b
    rep = np.repeat(np.arange(n), cnt)
    within = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    out[ptr[:-1][rep] + 1 + within] = coords[i0[rep] + within]
    ind = np.repeat(np.arange(n), total)
    return shapely.linestrings(out, indices=ind)


def analyse_hydrants(
    network: RoadNetwork,
    hydrants: Any,
    *,
    radius_m: float = 150.0,
    spacing_m: float = 120.0,
    wide_road_m: float = 60.0,
    lane_width_m: float = 3.5,
    tolerance_m: float = 50.0,
    duplicate_m: float = 2.0,
    propose: bool = True,
    candidate_spacing_m: float = 50.0,
    crossing_bonus: bool = True,
    time_limit_s: float = 60.0,
    solver: str = "highs",
    high_risk: Any = None,
    crane_area_km2: float | None = None,
    progress: bool = False,
    exclude: Any = HYDRANT_EXCLUSIONS,
    area: Any = None,
    propose_for: str = "protection",
) -> HydrantResult:
    """Protection of roads by hydrants along roads, required counts and proposed new hydrants.

    Parameters
    ----------
    network
        The road network.
    hydrants
        GeoDataFrame from :func:`load_hydrants` or a :class:`SnappedHydrants`; only kind
        ``hydrant`` protects roads.
    radius_m
        Protection radius along roads (hose length), metres.
    spacing_m
        Spacing rule for the simple required count (per side of wide roads).
    wide_road_m, lane_width_m
        Roads wider than ``wide_road_m`` (OSM ``width``, or ``lanes`` x ``lane_width_m``) have
        two sides protected separately (see the module notes).
    tolerance_m, duplicate_m
        Snapping tolerance and duplicate distance (see :func:`snap_hydrants`).
    propose
        Compute the minimum placement and proposals (set cover).
    candidate_spacing_m
        Spacing of candidate positions along roads (besides every road node); with ``propose``,
        must be below twice the placement's reach (``radius_m``, or with ``propose_for="spacing"``
        the smaller of ``radius_m`` and ``spacing_m / 2``) so that every gap can be protected.
    crossing_bonus
        Swap new mid-road sites for crossings that protect the same gap pieces.
    time_limit_s, solver
        Passed to :func:`coverage.optimise.min_cover` (``"highs"`` exact within the time limit,
        ``"greedy"``).
    high_risk, crane_area_km2
        High-risk polygons (GeoDataFrame/GeoSeries/list, WGS-84) for :func:`water_cranes`.
    progress
        Show solver progress.
    exclude
        Road kinds left out of the road length, required counts, gaps and proposals: any of
        ``"tunnel"``, ``"bridge"``, ``"motorway"`` (``motorway``/``motorway_link``),
        ``"service"`` (``highway=service``) and ``"second_carriageway"`` (one carriageway of a
        divided road), default all five; ``()`` keeps every road. Hose may still run through
        them. See the module notes.
    propose_for
        What the minimum placement and the proposals meet: ``"protection"`` (every road point
        within ``radius_m`` of a hydrant along roads) or ``"spacing"`` (every road point within
        ``spacing_m / 2``, so that hydrants along a road stand at most ``spacing_m`` apart: the
        120 m rule, which also meets the protection).
    area
        Study-area polygon (WGS-84 shapely geometry) or None (every road counts). Only the
        roads inside it count (required counts, protected share, gaps, proposals); hydrants
        outside it protect the roads inside along the network, which should therefore reach at
        least ``radius_m`` beyond the area. Hydrants farther than ``radius_m + tolerance_m``
        from the area are ignored (``options["outside_area"]`` counts them).

    Returns
    -------
    HydrantResult
    """
    t0 = time.perf_counter()
    radius = _positive("radius_m", radius_m)
    spacing = _positive("spacing_m", spacing_m)
    wide_m = _positive("wide_road_m", wide_road_m)
    _positive("lane_width_m", lane_width_m)
    cand_sp = _positive("candidate_spacing_m", candidate_spacing_m)
    if propose_for not in ("protection", "spacing"):
        raise InputError(f"propose_for {propose_for!r} is invalid: expected 'protection' (every road within "
                         "radius_m of a hydrant) or 'spacing' (hydrants at most spacing_m apart)")
    # the reach the placement must give every road point: the protection radius, or half the spacing
    reach = radius if propose_for == "protection" else min(radius, spacing / 2.0)
    if propose:  # candidates are only used by the placement
        _check_candidate_spacing(cand_sp, radius, spacing, propose_for)
    exclude = check_exclude(exclude, "hydrants exclude")
    area_p = None
    outside = 0
    if area is not None:
        from .demand import _area_projected

        if (not isinstance(area, shapely.Geometry) or area.is_empty
                or area.geom_type not in ("Polygon", "MultiPolygon")):
            raise InputError(f"area {str(area)[:80]!r} is invalid: expected a non-empty shapely polygon in WGS-84")
        x0, y0, x1, y1 = area.bounds
        if max(abs(x0), abs(x1)) > 180 or max(abs(y0), abs(y1)) > 90:
            raise InputError(f"area bounds {tuple(round(v, 1) for v in area.bounds)} are not longitude/"
                             "latitude: expected the study area in WGS-84 degrees")
        area_p = shapely.make_valid(_area_projected(network, area))
    if area_p is not None and not isinstance(hydrants, SnappedHydrants):
        hydrants = _check_hydrant_frame(hydrants)
        if len(hydrants):
            d_area = shapely.distance(area_p, shapely.points(*_projected_xy(network, hydrants.geometry.to_numpy())))
            near = d_area <= radius + tolerance_m
            outside = int((~near).sum())
            if not near.any() and float(d_area.min()) > FAR_FROM_NETWORK_M:
                raise DataError(
                    f"none of the {len(hydrants)} hydrant(s) lies within {radius + tolerance_m:g} m "
                    f"of the study area: the nearest is {float(d_area.min()) / 1000:.1f} km from "
                    "it, so the hydrants lie outside the area; use the hydrants of the study area"
                )
            hydrants = hydrants.loc[near].reset_index(drop=True)
    _check_snap_metres(tolerance_m, duplicate_m)  # duplicate_m also keeps the proposals apart
    why = _hydrant_exclusions(network, exclude, wide_m, lane_width_m)
    roads = _roads(network, wide_road_m=wide_m, lane_width_m=lane_width_m)
    settings = _snap_settings(wide_m, lane_width_m, exclude)
    if isinstance(hydrants, SnappedHydrants):
        snapped = hydrants
        if snapped.network is not network:
            raise InputError("hydrants were snapped onto another road network: their roads and positions do "
                             "not hold on this one; pass the hydrant frame (snapped.hydrants) instead")
        differ = {k: (v, settings[k]) for k, v in snapped.settings.items() if settings.get(k) != v}
        if differ:
            raise InputError("hydrants were snapped with other road rules than this analysis ("
                             + ", ".join(f"{k} {a!r} there, {b!r} here" for k, (a, b) in differ.items())
                             + "): pass the same options, or the hydrant frame (snapped.hydrants)")
    else:
        snapped = _snap_frame(network, _check_hydrant_frame(hydrants), why, roads, tolerance_m=tolerance_m,
                              duplicate_m=duplicate_m, crossing_m=_CROSSING_M, stacklevel=2, settings=settings)
    side_why = why[roads.edge][roads.side_road]  # "" = counted
    use = snapped.used("hydrant")
    H = snapped.hydrants
    h_road = H["road"].to_numpy()[use].astype(np.int64)
    h_pos = H["position_m"].to_numpy()[use].astype(float)
    h_side = pd.Series(H["side"].to_numpy()[use]).map({"both": 0, "left": 1, "right": 2}).to_numpy(np.int64)
    side_len = roads.length[roads.side_road]
    counted = side_why == ""
    # the counted part of the line: sides not left out, inside the study area (if any)
    if area_p is None:
        in_lo, in_hi = roads.off, roads.off + side_len
    else:
        in_lo, in_hi = _area_intervals(network, roads, area_p)
        if len(in_lo) == 0:
            raise DataError("the study area holds no road of the network: check its position and "
                            "datum (WGS-84 expected)")
    in_side = _side_of(in_lo, roads.off)
    in_len = in_hi - in_lo
    excluded_m = {k: float(in_len[side_why[in_side] == k].sum()) for k in exclude}
    # sides are 1 m apart on the line, so every interval lies on one side: drop excluded sides
    keep = counted[in_side]
    c_lo, c_hi = in_lo[keep], in_hi[keep]
    road_m = float((c_hi - c_lo).sum())
    p_lo, p_hi = _protection_intervals(roads, h_road, h_pos, h_side, radius)
    g_lo, g_hi = _complement(p_lo, p_hi, roads.off, side_len)
    p_lo, p_hi = _intersect(p_lo, p_hi, c_lo, c_hi)
    g_lo, g_hi = _intersect(g_lo, g_hi, c_lo, c_hi)
    protected_m = float((p_hi - p_lo).sum())
    unprotected_m = float((g_hi - g_lo).sum())
    t_prot = time.perf_counter()
    protected = _pieces(network, roads, p_lo, p_hi)
    unprotected = _pieces(network, roads, g_lo, g_hi)
    t_geo = time.perf_counter()
    required_spacing = int(math.ceil(road_m / spacing - 1e-9))
    existing = int(len(use))
    used_outside = 0
    inside = np.ones(existing, bool)
    used_xy = _projected_xy(network, H.geometry.to_numpy()[use])
    if area_p is not None and existing:
        # hydrants just outside protect roads inside, but the area's own count is what it has
        inside = shapely.contains_xy(area_p, *used_xy)
        used_outside = int((~inside).sum())
        existing -= used_outside
    # the area's hydrants that protect some counted road (one on a campus lane far from any
    # street counts in `existing` but protects nothing the requirement counts)
    counted_roads = roads.side_road[_side_of(c_lo, roads.off)]
    existing_useful = int((_protect_counted(roads, counted_roads, h_road, h_pos, radius) & inside).sum())
    # ... and those the placement keeps: within its reach of a counted road (half the spacing)
    existing_placed = existing_useful if reach == radius else int(
        (_protect_counted(roads, counted_roads, h_road, h_pos, reach) & inside).sum())
    if reach != radius:  # placed for the spacing: the pieces beyond half the spacing of a hydrant
        q_lo, q_hi = _protection_intervals(roads, h_road, h_pos, h_side, reach)
        f_lo, f_hi = _complement(q_lo, q_hi, roads.off, side_len)
        f_lo, f_hi = _intersect(f_lo, f_hi, c_lo, c_hi)
    else:
        f_lo, f_hi = g_lo, g_hi
    import geopandas as gpd

    empty_props = gpd.GeoDataFrame(
        {"rank": [], "site": [], "road": [], "side": [], "position_m": [], "node": [], "newly_protected_m": [],
         "protects_m": [], "unique_m": [], "lon": [], "lat": []}, geometry=[], crs=4326)
    if not propose:
        props, status, gap, bound, req_min = empty_props, "not_run", math.nan, math.nan, None
    elif len(f_lo) == 0:
        props, status, gap, bound, req_min = empty_props, "nothing_to_do", 0.0, 0.0, existing_placed
    else:
        road_ok = np.zeros(roads.n, bool)
        road_ok[counted_roads] = True
        props, status, gap, bound = _propose(
            network, roads, f_lo, f_hi, radius=reach, cand_sp=cand_sp, crossing_bonus=crossing_bonus,
            time_limit_s=time_limit_s, solver=solver, progress=progress, road_ok=road_ok,
            stagger_m=spacing / 2.0, existing=(h_road, h_pos, h_side),
            partners=_carriageway_partners(network, roads, why),
            snap_edges=(why == "") | (why == "second_carriageway"),
            apart_m=duplicate_m + _APART_MARGIN_M if duplicate_m > 0 else 0.0,
            existing_xy=used_xy)
        req_min = existing_placed + len(props)
    t_prop = time.perf_counter()
    cranes = (water_cranes(network, high_risk, area_per_crane_km2=crane_area_km2)
              if high_risk is not None else _empty_cranes())
    options = {"radius_m": radius, "spacing_m": spacing, "wide_road_m": wide_m,
               "lane_width_m": lane_width_m, "tolerance_m": snapped.tolerance_m,
               "candidate_spacing_m": cand_sp, "solver": solver, "time_limit_s": time_limit_s,
               "exclude": list(exclude), "area": area is not None, "outside_area": outside,
               "existing_outside_area": used_outside, "existing_useful": existing_useful,
               "existing_placed": existing_placed, "propose_for": propose_for}
    seconds = {"protection": t_prot - t0, "pieces": t_geo - t_prot, "proposal": t_prop - t_geo,
               "total": time.perf_counter() - t0}
    return HydrantResult(
        protected=protected, unprotected=unprotected,
        protected_share=protected_m / road_m if road_m > 0 else 1.0, road_m=road_m,
        protected_m=protected_m, unprotected_m=unprotected_m, existing=existing,
        required_spacing_rule=required_spacing, required_min_placement=req_min, proposals=props,
        status=status, gap=float(gap), bound=float(bound), snapped=snapped, water_cranes=cranes,
        options=options, seconds=seconds, exclude=exclude, excluded_m=excluded_m,
    )


@dataclass(frozen=True, eq=False)
class _Candidates:
    node: np.ndarray  # graph index or -1
    road: np.ndarray  # road or -1 (node candidates)
    pos: np.ndarray
    side: np.ndarray  # 0/1/2
    crossing: np.ndarray  # bool: node of >= 3 road ends


def _candidates(net: RoadNetwork, roads: _Roads, g_lo, g_hi, radius: float, cand_sp: float,
                allowed: np.ndarray | None = None) -> _Candidates:
    """Every node and points every ``cand_sp`` along roads, limited to those near a gap, on
    ``allowed`` roads only (default all) and at nodes where an allowed road ends; and in each gap
    piece, ``radius`` and then every ``2 * radius`` inside each of its ends (the best sites along
    a lone street, which a grid would miss)."""
    if allowed is None:
        allowed = np.ones(roads.n, bool)
    gk = _side_of(g_lo, roads.off)
    gap_roads = np.unique(roads.side_road[gk])
    seed = np.unique(np.concatenate([roads.u[gap_roads], roads.v[gap_roads]]))
    near = _nearest_distance(roads, seed, np.zeros(len(seed)), radius)
    node_ok = np.isfinite(near)
    on_allowed = np.zeros(len(node_ok), bool)
    on_allowed[roads.u[allowed]] = True
    on_allowed[roads.v[allowed]] = True
    nodes = np.flatnonzero(node_ok & on_allowed)
    # roads with a reached end (or a gap) get mid-road candidates
    road_ok = node_ok[roads.u] | node_ok[roads.v]
    road_ok[gap_roads] = True
    road_ok &= allowed
    rr = np.flatnonzero(road_ok)
    L = roads.length[rr]
    parts = np.maximum(np.ceil(L / cand_sp - 1e-9).astype(np.int64), 1)
    cnt = parts - 1
    rep = np.repeat(np.arange(len(rr)), cnt)
    j = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt) + 1
    m_road = rr[rep]
    m_pos = L[rep] * j / parts[rep]
    wide = roads.wide[m_road]
    m_road = np.concatenate([m_road, m_road[wide]])
    m_pos = np.concatenate([m_pos, m_pos[wide]])
    m_side = np.concatenate([np.where(wide, 1, 0), np.full(int(wide.sum()), 2)])
    # from each end of a gap piece (on one side of one road), sites radius and then every
    # 2 x radius into it: the optimal sites along a lone street, which a grid would miss
    reps = np.maximum(np.ceil((g_hi - g_lo) / (2 * radius)).astype(np.int64), 1)
    gi = np.repeat(np.arange(len(g_lo)), reps)
    step = (np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps)) * 2 * radius + radius
    at = np.concatenate([g_lo[gi] + step, g_hi[gi] - step])
    k = np.concatenate([gk[gi], gk[gi]])
    e_road = roads.side_road[k]
    e_pos = at - roads.off[k]
    inside = ((at > g_lo[np.concatenate([gi, gi])] - _TOL) & (at < g_hi[np.concatenate([gi, gi])] + _TOL)
              & (e_pos > _TOL) & (e_pos < roads.length[e_road] - _TOL) & allowed[e_road])
    s_road, s_pos = _strand_sites(roads, g_lo, g_hi, radius)
    s_ok = allowed[s_road]
    m_road = np.concatenate([m_road, e_road[inside], s_road[s_ok]])
    m_pos = np.concatenate([m_pos, e_pos[inside], s_pos[s_ok]])
    m_side = np.concatenate([m_side, roads.side_code[k][inside], np.zeros(int(s_ok.sum()), np.int64)])
    deg = roads.node_deg[nodes]
    return _Candidates(
        node=np.concatenate([nodes, np.full(len(m_road), -1)]),
        road=np.concatenate([np.full(len(nodes), -1), m_road]),
        pos=np.concatenate([np.zeros(len(nodes)), m_pos]),
        side=np.concatenate([np.zeros(len(nodes), np.int64), m_side]),
        crossing=np.concatenate([deg >= 3, np.zeros(len(m_road), bool)]),
    )


def _strand_sites(roads: _Roads, g_lo: np.ndarray, g_hi: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Sites (road, position) ``radius`` and then every ``2 * radius`` inside each end of the gap
    runs along strands: chains of narrow roads joined at nodes where only they meet (a street
    drawn as several edges, split where a tag changes). The best sites along such a street, as
    :func:`_candidates` places them along one road."""
    ends = np.concatenate([roads.u, roads.v])
    owner = np.concatenate([np.arange(roads.n), np.arange(roads.n)])
    order = np.argsort(ends, kind="stable")
    ends, owner = ends[order], owner[order]
    link: dict[tuple[int, int], int] = {}  # (road, 0 at u / 1 at v) -> the road joined there
    start = 0
    while start < len(ends):
        stop = start
        while stop < len(ends) and ends[stop] == ends[start]:
            stop += 1
        if stop - start == 2:
            a, b = int(owner[start]), int(owner[start + 1])
            if a != b and not roads.wide[a] and not roads.wide[b]:
                node = int(ends[start])
                link[(a, int(roads.v[a] == node and roads.u[a] != node))] = b
                link[(b, int(roads.v[b] == node and roads.u[b] != node))] = a
        start = stop
    if not link:
        return np.zeros(0, np.int64), np.zeros(0)
    # gap pieces per narrow road, in its own frame
    gk = _side_of(g_lo, roads.off)
    g_road = roads.side_road[gk]
    pieces: dict[int, list[tuple[float, float]]] = {}
    for r, lo, hi in zip(g_road.tolist(), (g_lo - roads.off[gk]).tolist(), (g_hi - roads.off[gk]).tolist()):
        if not roads.wide[r]:
            pieces.setdefault(r, []).append((lo, hi))
    out_road: list[int] = []
    out_pos: list[float] = []
    seen: set[int] = set()
    for first in sorted({r for r, _ in link}):
        if first in seen:
            continue
        # walk back out of the u end to the strand's start (or once round a ring) ...
        r, out_end = first, 0
        for _ in range(roads.n):
            prev = link.get((r, out_end))
            if prev is None or prev == first:
                break
            node = roads.u[r] if out_end == 0 else roads.v[r]
            r, out_end = prev, 1 if roads.u[prev] == node else 0  # prev's far end
        # ... then forward along it, entering the start road at its outer end
        chain: list[tuple[int, bool]] = []  # (road, walked u -> v)
        forward = out_end == 0
        while r not in seen:
            seen.add(r)
            chain.append((r, forward))
            nxt = link.get((r, 1 if forward else 0))
            if nxt is None:
                break
            node = roads.v[r] if forward else roads.u[r]
            forward = roads.u[nxt] == node
            r = nxt
        if len(chain) < 2:
            continue
        runs: list[tuple[float, float]] = []
        base = 0.0
        for r, fwd in chain:
            L = float(roads.length[r])
            for lo, hi in pieces.get(r, ()):
                runs.append((base + lo, base + hi) if fwd else (base + L - hi, base + L - lo))
            base += L
        offs = np.cumsum([0.0] + [float(roads.length[r]) for r, _ in chain])
        run_ends = np.array(runs, float).reshape(-1, 2)
        for a, b in zip(*(v.tolist() for v in _union(run_ends[:, 0], run_ends[:, 1], _TOL))):
            steps = np.arange(radius, b - a + _TOL, 2 * radius)
            for at in np.concatenate([a + steps, b - steps]):
                i = min(max(int(np.searchsorted(offs, at, side="right")) - 1, 0), len(chain) - 1)
                r, fwd = chain[i]
                local = at - offs[i]
                out_road.append(r)
                out_pos.append(local if fwd else float(roads.length[r]) - local)
    road = np.asarray(out_road, np.int64)
    pos = np.asarray(out_pos, float)
    ok = (pos > _TOL) & (pos < roads.length[road] - _TOL) if len(road) else np.zeros(0, bool)
    return road[ok], pos[ok]


def _candidate_intervals(net: RoadNetwork, roads: _Roads, cand: _Candidates, radius: float):
    """(lo, hi, candidate) intervals on the global line protected by each candidate alone."""
    is_node = cand.node >= 0
    mid = np.flatnonzero(~is_node)
    srcs = np.unique(np.concatenate([cand.node[is_node], roads.u[cand.road[mid]], roads.v[cand.road[mid]]]))
    s_i, s_node, s_cost = _node_reach(roads, net, srcs, radius)
    # rows of the reach per source node
    order = np.argsort(s_i, kind="stable")
    s_i, s_node, s_cost = s_i[order], s_node[order], s_cost[order]
    ptr = np.zeros(len(srcs) + 1, np.int64)
    np.cumsum(np.bincount(s_i, minlength=len(srcs)), out=ptr[1:])

    def expand(cidx: np.ndarray, src_node: np.ndarray, extra: np.ndarray):
        si = np.searchsorted(srcs, src_node)
        cnt = ptr[si + 1] - ptr[si]
        rep = np.repeat(np.arange(len(cidx)), cnt)
        pos = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt) + np.repeat(ptr[si], cnt)
        return cidx[rep], s_node[pos], s_cost[pos] + extra[rep]

    nodes_c = np.flatnonzero(is_node)
    a = expand(nodes_c, cand.node[nodes_c], np.zeros(len(nodes_c)))
    r = cand.road[mid]
    b = expand(mid, roads.u[r], cand.pos[mid])
    c = expand(mid, roads.v[r], roads.length[r] - cand.pos[mid])
    cc = np.concatenate([a[0], b[0], c[0]])
    nn = np.concatenate([a[1], b[1], c[1]])
    dd = np.concatenate([a[2], b[2], c[2]])
    keep = dd <= radius
    cc, nn, dd = cc[keep], nn[keep], dd[keep]
    # min cost per (candidate, node)
    o = np.lexsort((dd, nn, cc))
    cc, nn, dd = cc[o], nn[o], dd[o]
    f = np.ones(len(cc), bool)
    f[1:] = (cc[1:] != cc[:-1]) | (nn[1:] != nn[:-1])
    lo1, hi1, own1 = _node_intervals(roads, nn[f], dd[f], radius, owner=cc[f])
    lo2, hi2, own2 = _own_road_intervals(roads, r, cand.pos[mid], cand.side[mid], radius, mid)
    return (np.concatenate([lo1, lo2]), np.concatenate([hi1, hi2]), np.concatenate([own1, own2]))


def _propose(net, roads, g_lo, g_hi, *, radius, cand_sp, crossing_bonus, time_limit_s, solver, progress,
             road_ok=None, stagger_m=0.0, existing=None, partners=None, snap_edges=None, apart_m=0.0,
             existing_xy=None):
    """New sites closing the gaps ``[g_lo, g_hi]``: the proposals frame, status, gap and bound.
    Built where proposed, they stand more than ``apart_m`` apart and from the existing hydrants
    at ``existing_xy`` (x, y), so that none reads back as a duplicate (:func:`_keep_apart`)."""
    import geopandas as gpd

    cand = _candidates(net, roads, g_lo, g_hi, radius, cand_sp, road_ok)
    lo, hi, own = _candidate_intervals(net, roads, cand, radius)
    # elementary gap pieces: gaps cut at every candidate interval end inside them
    cut = np.unique(np.round(np.concatenate([lo, hi]) / _TOL).astype(np.int64)) * _TOL
    gi = np.searchsorted(g_lo, cut, side="right") - 1
    inner = (gi >= 0) & (cut > g_lo[np.maximum(gi, 0)] + _TOL) & (cut < g_hi[np.maximum(gi, 0)] - _TOL)
    bp = np.sort(np.concatenate([g_lo, g_hi, cut[inner]]))
    s_lo, s_hi = bp[:-1], bp[1:]
    mid = 0.5 * (s_lo + s_hi)
    gj = np.searchsorted(g_lo, mid, side="right") - 1
    ok = (gj >= 0) & (mid < g_hi[np.maximum(gj, 0)]) & (s_hi - s_lo > _TOL / 2)
    s_lo, s_hi = s_lo[ok], s_hi[ok]
    seg_len = s_hi - s_lo
    # covers: piece j inside candidate interval [lo, hi]
    j0 = np.searchsorted(s_lo, lo - _TOL, side="left")
    j1 = np.searchsorted(s_hi, hi + _TOL, side="right")
    cnt = np.maximum(j1 - j0, 0)
    rows = np.arange(int(cnt.sum())) - np.repeat(np.cumsum(cnt) - cnt, cnt) + np.repeat(j0, cnt)
    cols = np.repeat(own, cnt)
    useful = np.unique(cols)
    colmap = np.full(len(cand.node), -1, np.int64)
    colmap[useful] = np.arange(len(useful))
    A = sp.csr_matrix((np.ones(len(rows), bool), (rows, colmap[cols])), shape=(len(s_lo), len(useful)))
    A.sum_duplicates()
    A.data[:] = True
    from .optimise import min_cover, site_gains

    sol = min_cover(A, weights=seg_len, time_limit_s=time_limit_s, solver=solver, progress=progress)
    if len(sol.uncoverable):
        raise DataError(  # cannot happen with candidate_spacing_m < 2 radius; never silent
            f"{len(sol.uncoverable)} unprotected road piece(s) cannot be protected by any candidate "
            f"(total {seg_len[sol.uncoverable].sum():.1f} m)")
    chosen = np.asarray(sol.new, np.int64)
    crossing = cand.crossing[useful]
    Ac = A.tocsc()
    if crossing_bonus and len(chosen):
        chosen = _prefer_crossings(Ac, chosen, crossing)
    if stagger_m > 0 and len(chosen):
        chosen = _stagger(net, roads, Ac, chosen, cand, useful, stagger_m, existing, partners)
    sub = Ac[:, chosen]
    own = np.asarray(sub.T @ seg_len).ravel()
    # what each adds in build order (largest first), so the column sums to the gap closed
    order, newly, unique = site_gains(sub, seg_len)
    chosen, own, newly, unique = chosen[order], own[order], newly[order], unique[order]
    ci = useful[chosen]
    node = cand.node[ci]
    road = cand.road[ci]
    pos = cand.pos[ci]
    # coordinates
    x = np.where(node >= 0, net.x[np.maximum(node, 0)], np.nan)
    y = np.where(node >= 0, net.y[np.maximum(node, 0)], np.nan)
    m = node < 0
    if m.any():
        e = roads.edge[road[m]]
        pts = shapely.line_interpolate_point(net.edge_geometry[e], pos[m])
        x[m], y[m] = shapely.get_x(pts), shapely.get_y(pts)
        base = (x.copy(), y.copy())
        # on a wide road a proposal stands on its own side, not on the centreline (where its side
        # would be undecided when the point is read back)
        x[m], y[m] = _on_their_side(net, roads, road[m], pos[m], cand.side[ci][m], x[m], y[m], snap_edges)
        if existing_xy is None:
            existing_xy = (np.zeros(0), np.zeros(0))
        x, y = _keep_apart(net, roads, road, pos, cand.side[ci], base, x, y, existing_xy, apart_m, snap_edges)
    lon, lat = net.to_wgs84(x, y)
    deg = np.where(node >= 0, roads.node_deg[np.maximum(node, 0)], 2)
    site = np.where(node < 0, "road", np.where(deg >= 3, "crossing", np.where(deg == 1, "dead_end", "node")))
    props = gpd.GeoDataFrame({
        "site": site, "road": road, "side": np.array(["both", "left", "right"], dtype=object)[cand.side[ci]],
        "position_m": pos, "node": np.where(node >= 0, net.node_ids[np.maximum(node, 0)], -1),
        "newly_protected_m": newly, "protects_m": own, "unique_m": unique,
        "lon": np.asarray(lon), "lat": np.asarray(lat),
    }, geometry=shapely.points(np.asarray(lon), np.asarray(lat)), crs=4326)
    props.insert(0, "rank", np.arange(1, len(props) + 1))
    return props, sol.status, sol.gap, sol.bound


def _carriageway_partners(net: RoadNetwork, roads: _Roads, why: np.ndarray) -> dict:
    """Divided roads counted on both sides (wider than ``wide_road_m``): road -> roads of the
    carriageway across, both ways, from the first carriageways facing each counted second
    carriageway at its quarter points."""
    sec = np.flatnonzero(np.asarray(net.edge_second_carriageway, bool) & (why == ""))
    partners: dict[int, set] = {}
    if sec.size == 0:
        return {}
    e = np.repeat(sec, 3)
    pts = shapely.line_interpolate_point(net.edge_geometry[e], np.tile([0.25, 0.5, 0.75], sec.size),
                                         normalized=True)
    face = facing_carriageways(net, e, shapely.get_x(pts), shapely.get_y(pts), DUAL_CARRIAGEWAY_M + 1.0)
    ok = face >= 0
    ok[ok] = why[face[ok]] == ""
    for a, b in zip(roads.edge_road[e[ok]].tolist(), roads.edge_road[face[ok]].tolist()):
        partners.setdefault(a, set()).add(b)
        partners.setdefault(b, set()).add(a)
    return {k: np.array(sorted(v), np.int64) for k, v in partners.items()}


#: Wide-road proposals stand at least this far to their side (when the road's half width allows):
#: a left/right pair at one position stays more than the 2 m duplicate distance apart.
_SIDE_FLOOR_M = 1.25
#: A wide-road proposal no offset of which (down to the floor) reads back on its own road stands
#: this far to its side instead: on the centreline for a planner, but its side reads back.
_SIDE_FALLBACK_M = 0.01
#: Proposals are kept this much farther apart than the duplicate distance.
_APART_MARGIN_M = 0.1
#: Step of the sideways nudges tried for a narrow-road proposal too near another one.
_NUDGE_STEP_M = 0.5


def _left_normals(net: RoadNetwork, roads: _Roads, road: np.ndarray,
                  pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unit normals to the left of u -> v of ``road`` at ``pos`` (from the chord +-0.5 m)."""
    g = net.edge_geometry[roads.edge[road]]
    a = shapely.line_interpolate_point(g, np.maximum(pos - 0.5, 0))
    b = shapely.line_interpolate_point(g, np.minimum(pos + 0.5, shapely.length(g)))
    tx, ty = shapely.get_x(b) - shapely.get_x(a), shapely.get_y(b) - shapely.get_y(a)
    t = np.hypot(tx, ty)
    t = np.where(t > 0, t, 1.0)
    return -ty / t, tx / t


def _read_back(net: RoadNetwork, roads: _Roads, x: np.ndarray, y: np.ndarray,
               snap_edges: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """(road, position along it) where points ``(x, y)`` snap back to, among ``snap_edges``."""
    sn = snap_xy(net, x, y, max_distance_m=math.inf, edges=snap_edges)
    road = roads.edge_road[sn.edge]
    frac = np.where(roads.edge_flip[sn.edge], 1.0 - sn.fraction, sn.fraction)
    return road, frac * roads.length[road]


def _side_offsets(roads: _Roads, road: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(wanted, floor) side offsets of wide-road proposals: half the tagged width (5 m untagged)
    within 0.5-40 m, and :data:`_SIDE_FLOOR_M` (or the wanted offset, when smaller)."""
    off = np.clip(np.nan_to_num(roads.width_m[road] / 2.0, nan=5.0), 0.5, 40.0)
    return off, np.minimum(off, _SIDE_FLOOR_M)


def _on_their_side(net: RoadNetwork, roads: _Roads, road: np.ndarray, pos: np.ndarray, side: np.ndarray,
                   x: np.ndarray, y: np.ndarray, snap_edges: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Points ``(x, y)`` at ``pos`` along ``road`` moved to their ``side`` (1 left, 2 right of
    u -> v; 0 stays): half the tagged width (at most 40 m, at most a quarter of the way to another
    road), halved while another road would be nearer than their own (a street leaving at a sharp
    angle), never below the floor (:func:`_side_offsets`: 1.25 m); a point that would still read
    back on another road there falls back to its unoffset position, moved only
    :data:`_SIDE_FALLBACK_M` to its side (an unnoded crossing or a road end: its own road and side
    read back). Other roads are those a hydrant read back may snap to (``snap_edges``, bool per
    edge: counted roads and second carriageways, as in :func:`_prefer_counted`; a bridge passing
    over is not one)."""
    if not (side > 0).any():
        return x, y
    nx_, ny_ = _left_normals(net, roads, road, pos)
    sgn = np.where(side == 1, 1.0, np.where(side == 2, -1.0, 0.0))
    off, floor = _side_offsets(roads, road)
    # at most a quarter of the way to the nearest other road (the other carriageway of a divided
    # road: proposals facing each other across its median stay apart)
    pts = shapely.points(x, y)
    pi, ei = edge_tree(net).query(pts, predicate="dwithin", distance=4 * 40.0)
    other = roads.edge_road[ei] != road[pi]
    if snap_edges is not None:
        other &= snap_edges[ei]
    if other.any():
        d = np.full(len(x), np.inf)
        np.minimum.at(d, pi[other], shapely.distance(net.edge_geometry[ei[other]], pts[pi[other]]))
        # ... but not below the floor for that: a left/right pair at one position (a road passing
        # over or under, with no shared node) stays apart by more than the 2 m duplicate distance
        off = np.minimum(off, np.maximum(d / 4.0, floor))
    while True:  # ends: each round halves an offset, down to its floor
        back = _read_back(net, roads, x + sgn * off * nx_, y + sgn * off * ny_, snap_edges)[0]
        wrong = (sgn != 0) & (back != road)
        shrink = wrong & (off > floor)
        if not shrink.any():
            break
        off = np.where(shrink, np.maximum(off / 2.0, floor), off)
    off = np.where(wrong, _SIDE_FALLBACK_M, off)
    return x + sgn * off * nx_, y + sgn * off * ny_


def _keep_apart(net: RoadNetwork, roads: _Roads, road: np.ndarray, pos: np.ndarray, side: np.ndarray,
                base: tuple[np.ndarray, np.ndarray], x: np.ndarray, y: np.ndarray,
                fixed: tuple[np.ndarray, np.ndarray], apart_m: float,
                snap_edges: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Proposals at ``(x, y)`` moved sideways so that no two of them, nor one and an existing
    hydrant (``fixed``: x, y), stand within ``apart_m`` (read back, they would be one duplicate).

    Of a pair too close, one proposal is moved along its road's normal (from its centreline point
    ``base``), the smallest move first: a proposal on a narrow road nudged off its centreline
    (either way, in steps of :data:`_NUDGE_STEP_M` up to ``apart_m`` + 1 m), one on a wide road's
    side to another offset between the floor and the wanted offset of :func:`_side_offsets`
    (0.25 m steps); else a side proposal falls back to its unoffset position
    (:data:`_SIDE_FALLBACK_M` to its side). A move is taken only when the point reads back on its
    own road at its position and clears every other point by more than ``apart_m``. Proposals at
    nodes (``road`` -1) stay.
    """
    n = len(x)
    if apart_m <= 0 or n == 0 or not (road >= 0).any():
        return x, y
    from scipy.spatial import cKDTree

    x, y = x.copy(), y.copy()
    bx, by = base
    on_road = road >= 0
    nx_, ny_ = np.zeros(n), np.zeros(n)
    nx_[on_road], ny_[on_road] = _left_normals(net, roads, road[on_road], pos[on_road])
    for _ in range(n):  # each round moves at least one proposal, or stops
        ax, ay = np.concatenate([x, fixed[0]]), np.concatenate([y, fixed[1]])
        pairs = cKDTree(np.column_stack([ax, ay])).query_pairs(apart_m, output_type="ndarray")
        pairs = pairs[pairs.min(axis=1) < n] if len(pairs) else pairs
        moved = False
        for i, j in pairs.tolist():
            if math.hypot(ax[i] - ax[j], ay[i] - ay[j]) > apart_m:
                continue  # an earlier move settled it
            movable = [k for k in (i, j) if k < n and on_road[k]]
            best = _apart_move(net, roads, movable, road, pos, side, (bx, by), (nx_, ny_), ax, ay,
                               apart_m, snap_edges)
            if best is not None:
                k, x[k], y[k] = best
                ax[k], ay[k] = x[k], y[k]
                moved = True
        if not moved:
            break
    return x, y


def _apart_options(roads: _Roads, road: int, side: int, apart_m: float) -> tuple[np.ndarray, np.ndarray]:
    """(signed offsets along the left normal, harm) a proposal may move to: harm 0 keeps the
    offset rules, 1 is a side proposal's fallback to its unoffset position."""
    if side == 0:
        mags = np.arange(_NUDGE_STEP_M, apart_m + 1.0 + 1e-9, _NUDGE_STEP_M)
        return np.concatenate([mags, -mags]), np.zeros(2 * len(mags))
    sgn = 1.0 if side == 1 else -1.0
    wanted, floor = (float(v[0]) for v in _side_offsets(roads, np.array([road])))
    mags = np.append(np.arange(floor, wanted, 0.25), wanted)
    return sgn * np.append(mags, _SIDE_FALLBACK_M), np.append(np.zeros(len(mags)), 1.0)


def _apart_move(net: RoadNetwork, roads: _Roads, ks: list[int], road: np.ndarray, pos: np.ndarray,
                side: np.ndarray, base: tuple[np.ndarray, np.ndarray], normal: tuple[np.ndarray, np.ndarray],
                ax: np.ndarray, ay: np.ndarray, apart_m: float,
                snap_edges: np.ndarray | None) -> tuple[int, float, float] | None:
    """The least harmful, then smallest, move (proposal, x, y) among :func:`_apart_options` of
    proposals ``ks`` that reads back on its road at its position and clears every other point
    (``ax, ay``: every proposal, then every existing hydrant) by more than ``apart_m``, or None."""
    rows = []
    for k in ks:
        cur = (ax[k] - base[0][k]) * normal[0][k] + (ay[k] - base[1][k]) * normal[1][k]
        offs, harm = _apart_options(roads, int(road[k]), int(side[k]), apart_m)
        keep = np.abs(offs - cur) > 1e-9
        rows += [(h, abs(o - cur), k, base[0][k] + o * normal[0][k], base[1][k] + o * normal[1][k])
                 for o, h in zip(offs[keep].tolist(), harm[keep].tolist())]
    if not rows:
        return None
    rows.sort()
    k = np.array([r[2] for r in rows], np.int64)
    px, py = np.array([r[3] for r in rows]), np.array([r[4] for r in rows])
    d = np.hypot(ax[None, :] - px[:, None], ay[None, :] - py[:, None])
    d[np.arange(len(k)), k] = np.inf  # itself
    back_road, back_pos = _read_back(net, roads, px, py, snap_edges)
    ok = (d.min(axis=1) > apart_m) & (back_road == road[k]) & (np.abs(back_pos - pos[k]) <= _TOL)
    if not ok.any():
        return None
    t = int(np.argmax(ok))
    return int(k[t]), float(px[t]), float(py[t])


def _stagger(net: RoadNetwork, roads: _Roads, A: sp.csc_matrix, chosen: np.ndarray, cand: _Candidates,
             useful: np.ndarray, offset_m: float, existing, partners: dict | None,
             time_limit_s: float = _STAGGER_S) -> np.ndarray:
    """Stagger new hydrants across roads protected on both sides (GB 50974: 交叉错落).

    The new mid-road sites on roads with two protected sides (wide roads, and the carriageways
    of a divided road counted on both sides, ``partners``: road -> roads of the other
    carriageway) are chosen again among every candidate on such roads, the other new sites
    fixed: as many of them, protecting every gap piece the others leave, so that hydrants across
    the road from each other (new, or ``existing``: road, position, side arrays) stand as little
    as possible closer than ``offset_m`` (half the spacing) along it - each pair costs the metres
    it falls short, and moving a site costs a millimetre, so ties keep the solver's sites. An
    exact MIP (HiGHS via scipy) within ``time_limit_s``; without a better answer in time the
    sites stay. The count and the protection are unchanged.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp

    partners = partners or {}
    c_road, c_side, c_pos = cand.road[useful], cand.side[useful], cand.pos[useful]
    keys = np.fromiter(partners, np.int64, len(partners))
    two = (c_road >= 0) & (roads.wide[np.maximum(c_road, 0)] | np.isin(c_road, keys))
    C = np.flatnonzero(two)
    W = chosen[two[chosen]]
    if W.size == 0:
        return chosen
    F = chosen[~two[chosen]]
    h_road, h_pos, h_side = existing if existing is not None else (np.zeros(0, np.int64),) * 3
    h_road = np.asarray(h_road, np.int64)
    where = {int(c): k for k, c in enumerate(C)}
    short: dict[tuple[int, int], float] = {}  # (a, b) across each other: metres short of offset_m
    pen = np.zeros(C.size)  # short of offset_m from the nearest existing hydrant across
    geoms = net.edge_geometry[roads.edge]
    for r in np.unique(c_road[C]).tolist():
        mine = C[c_road[C] == r]
        if roads.wide[r]:  # sides of one road: positions compare directly
            groups = [(mine[c_side[mine] == s], mine[c_side[mine] == 3 - s], h_pos[(h_road == r) & (h_side == 3 - s)])
                      for s in (1, 2)]
            groups = [(a, c_pos[b], b, e) for a, b, e in groups]
        else:  # the other carriageway: its points projected onto this one
            other = C[np.isin(c_road[C], partners[r])]
            hn = np.isin(h_road, partners[r])
            pts_b = shapely.line_interpolate_point(geoms[c_road[other]], c_pos[other])
            pts_h = shapely.line_interpolate_point(geoms[h_road[hn]], h_pos[hn])
            groups = [(mine, shapely.line_locate_point(geoms[r], pts_b), other,
                       shapely.line_locate_point(geoms[r], pts_h))]
        for a, along_b, b, along_h in groups:
            if a.size and b.size:
                d = np.abs(c_pos[a][:, None] - np.asarray(along_b, float)[None, :])
                for i, j in zip(*np.nonzero(d < offset_m)):
                    key = (min(where[int(a[i])], where[int(b[j])]), max(where[int(a[i])], where[int(b[j])]))
                    short[key] = max(short.get(key, 0.0), offset_m - float(d[i, j]))
            if a.size and np.size(along_h):
                d = np.abs(c_pos[a][:, None] - np.asarray(along_h, float)[None, :]).min(axis=1)
                idx = np.array([where[int(x)] for x in a])
                pen[idx] = np.maximum(pen[idx], np.maximum(offset_m - d, 0.0))
    cur = np.isin(C, W)

    def cost(x: np.ndarray) -> float:
        return (sum(v for (i, j), v in short.items() if x[i] and x[j]) + float(pen[x].sum())
                + 1e-3 * float((x & ~cur).sum()))

    if cost(cur) <= 0:
        return chosen
    # rows the fixed sites leave to these
    left = np.flatnonzero(np.asarray(A[:, F].sum(axis=1)).ravel() == 0) if F.size else np.arange(A.shape[0])
    M = A[left][:, C].tocsr()
    P = np.array(list(short), np.int64).reshape(-1, 2)
    n, k = C.size, P.shape[0]
    obj = np.concatenate([pen + 1e-3 * ~cur, np.array(list(short.values()), float)])
    cons = [LinearConstraint(sp.hstack([M, sp.csr_matrix((M.shape[0], k))]), lb=1.0, ub=np.inf),
            LinearConstraint(sp.hstack([sp.csr_matrix(np.ones((1, n))), sp.csr_matrix((1, k))]), lb=W.size, ub=W.size)]
    if k:
        rows = np.repeat(np.arange(k), 3)
        cols = np.column_stack([P[:, 0], P[:, 1], n + np.arange(k)]).ravel()
        vals = np.tile([-1.0, -1.0, 1.0], k)
        cons.append(LinearConstraint(sp.csr_matrix((vals, (rows, cols)), shape=(k, n + k)), lb=-1.0, ub=np.inf))
    res = milp(obj, constraints=cons, integrality=np.concatenate([np.ones(n), np.zeros(k)]),
               bounds=Bounds(0, 1), options={"time_limit": float(time_limit_s), "disp": False})
    if res.x is None:
        return chosen
    x = res.x[:n] > 0.5
    ok = x.sum() == W.size and (M.shape[0] == 0 or (np.asarray(M[:, np.flatnonzero(x)].sum(axis=1)).ravel() > 0).all())
    if not ok or cost(x) >= cost(cur) - 1e-9:
        return chosen
    return np.concatenate([F, C[x]])


def _prefer_crossings(A: sp.csc_matrix, chosen: np.ndarray, crossing: np.ndarray) -> np.ndarray:
    """Swap each chosen mid-road site for a crossing covering every piece only it covers."""
    chosen = chosen.copy()
    cross_cols = np.flatnonzero(crossing)
    if len(cross_cols) == 0:
        return chosen
    Acr = A.tocsr()
    for t in range(len(chosen)):
        c = chosen[t]
        if crossing[c]:
            continue
        times = np.asarray(A[:, chosen].sum(axis=1)).ravel()
        col = A[:, c].indices
        only = col[times[col] == 1]
        if len(only) == 0:
            continue
        # crossings covering all of `only`
        hits = np.asarray(Acr[only][:, cross_cols].sum(axis=0)).ravel()
        good = cross_cols[hits == len(only)]
        good = good[~np.isin(good, chosen)]
        if len(good):
            # the one covering most pieces overall
            sizes = np.diff(A.indptr)[good]
            chosen[t] = good[np.argmax(sizes)]
    return chosen


# --------------------------------------------------------------------------------------------
# water cranes


def _empty_cranes():
    import geopandas as gpd

    return gpd.GeoDataFrame({"polygon": [], "crane": [], "area_km2": [], "node": [], "distance_m": [],
                             "lon": [], "lat": []}, geometry=[], crs=4326)


#: A water crane placed farther than this outside its high-risk area is warned about.
CRANE_WARN_M = 300.0


def _polygon_names(polygons: Any, n: int) -> list[str]:
    """``#i`` per polygon, with its ``name`` (or ``id``) where the frame has one."""
    out = [f"#{i}" for i in range(n)]
    cols = getattr(polygons, "columns", ())
    for col in ("name", "id"):
        if col in cols:
            vals = list(polygons[col])
            out = [f"#{i} {v!r}" if isinstance(v, str) and v else o for i, (o, v) in enumerate(zip(out, vals))]
            break
    return out


def water_cranes(
    network: RoadNetwork,
    high_risk_polygons: Any,
    *,
    area_per_crane_km2: float | None = None,
    datum: str = "wgs84",
) -> "gpd.GeoDataFrame":  # noqa: F821
    """Suggest water-crane positions for high-risk areas.

    One crane per polygon, or ``ceil(area / area_per_crane_km2)`` per polygon when given. Each
    crane goes to a road node (cranes are driven to) inside the polygon: with one crane, the
    node nearest the polygon's road-weighted centre; with several, the nodes nearest the
    centres of a k-means split of the road nodes inside. Only surface street crossings count
    (no tunnel or expressway nodes). A polygon without one gets the street crossing nearest to
    it (``distance_m`` says how far outside; a warning when over :data:`CRANE_WARN_M`); one with
    fewer crossings than cranes needed gets one per crossing, with a warning.

    Parameters
    ----------
    network
        The road network.
    high_risk_polygons
        GeoDataFrame / GeoSeries / list of shapely polygons (``datum`` coordinates).
    area_per_crane_km2
        Area served by one crane; None: one per polygon.
    datum
        Datum of the polygon coordinates.

    Returns
    -------
    GeoDataFrame
        ``polygon`` (input position), ``crane``, ``area_km2``, ``node`` (graph id),
        ``distance_m`` (node to polygon), ``lon``, ``lat``, WGS-84 points.
    """
    import geopandas as gpd
    from scipy.cluster.vq import kmeans2

    from .datum import to_wgs84

    if isinstance(high_risk_polygons, gpd.GeoDataFrame):
        gs = high_risk_polygons.geometry
    elif isinstance(high_risk_polygons, gpd.GeoSeries):
        gs = high_risk_polygons
    else:
        gs = gpd.GeoSeries(list(high_risk_polygons), crs=4326)
    if gs.crs is not None and not gs.crs.equals("EPSG:4326"):
        gs = gs.to_crs(4326)
    geoms = gs.to_numpy()
    bad = [i for i, g in enumerate(geoms)
           if g is None or g.is_empty or g.geom_type not in ("Polygon", "MultiPolygon")]
    if bad:
        raise InputError(f"high-risk areas {bad[:5]} are not polygons: expected Polygon/MultiPolygon geometries")
    if area_per_crane_km2 is not None:
        _positive("area_per_crane_km2", area_per_crane_km2)

    def project(xy):
        lon, lat = to_wgs84(xy[:, 0], xy[:, 1], datum)
        px, py = network.to_projected(lon, lat)
        return np.column_stack([px, py])

    rows = []
    nodes_xy = np.column_stack([network.x, network.y])
    rng = np.random.default_rng(0)
    street = street_nodes(network)  # a crane stands on a surface street, not in a tunnel
    if not street.any():
        street = np.ones(network.n_nodes, bool)
    sites = np.flatnonzero(street)
    names = _polygon_names(high_risk_polygons, len(geoms))
    for i, g in enumerate(geoms):
        pg = shapely.transform(g, project)
        area = pg.area / 1e6
        k = 1 if area_per_crane_km2 is None else max(1, math.ceil(area / area_per_crane_km2 - 1e-9))
        inside = sites[shapely.contains_xy(pg, network.x[sites], network.y[sites])]
        if len(inside) == 0:
            far = shapely.distance(pg, shapely.points(nodes_xy[sites]))
            j = int(sites[np.argmin(far)])
            picks = [j]
            if far.min() > CRANE_WARN_M:
                warnings.warn(
                    f"high-risk area {names[i]} has no street inside and the nearest street "
                    f"crossing is {far.min():.0f} m away, so its water crane stands that far "
                    "outside: check that the area lies within the road network",
                    CoverageWarning, stacklevel=2,
                )
            if k > 1:
                warnings.warn(
                    f"high-risk area {names[i]} ({area:.2f} km²) needs {k} water cranes at "
                    f"{area_per_crane_km2:g} km² each but has no street crossing inside: 1 placed "
                    f"at the nearest crossing, {far.min():.0f} m away",
                    CoverageWarning, stacklevel=2,
                )
        elif len(inside) <= k:
            picks = inside.tolist()
            if len(inside) < k:
                warnings.warn(
                    f"high-risk area {names[i]} ({area:.2f} km²) needs {k} water cranes at "
                    f"{area_per_crane_km2:g} km² each but has only {len(inside)} street "
                    f"crossing(s) inside: {len(inside)} placed",
                    CoverageWarning, stacklevel=2,
                )
        elif k == 1:
            centre = nodes_xy[inside].mean(axis=0)
            picks = [int(inside[np.argmin(np.hypot(*(nodes_xy[inside] - centre).T))])]
        else:
            cent, lab = kmeans2(nodes_xy[inside], k, seed=rng, minit="++")
            picks = []
            for c in cent:
                order = inside[np.argsort(np.hypot(*(nodes_xy[inside] - c).T))]
                picks.append(int(next(o for o in order if o not in picks)))
        for n_, j in enumerate(picks):
            d = float(pg.distance(shapely.Point(network.x[j], network.y[j])))
            rows.append((i, n_, area, int(network.node_ids[j]), d, float(network.lon[j]), float(network.lat[j])))
    if not rows:
        return _empty_cranes()
    df = pd.DataFrame(rows, columns=["polygon", "crane", "area_km2", "node", "distance_m", "lon", "lat"])
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(df["lon"], df["lat"]), crs=4326)
