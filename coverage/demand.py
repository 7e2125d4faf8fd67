"""Demand units: what stations must reach, each with a weight and a place on the road network.

Kinds: road pieces (default: every drivable road cut into pieces of at most ``piece_m``, weight =
length, each two-way road counted once; tunnels, bridges and motorways left out by default, see
:func:`road_pieces`), a square or hex grid clipped to the study area (weight =
cell area), building footprints (weight = footprint area) or a points file with weights.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from shapely.geometry.base import BaseGeometry

from .errors import CoverageWarning, DataError, InputError
from .io import name_text
from .network import (ROAD_EXCLUSIONS, RoadNetwork, Snapped, check_exclude, excluded_edges, frontage_edges,
                      network_extent, snap_xy)


@dataclass(frozen=True, eq=False)
class Demand:
    """Demand units on a network.

    ``weight`` per unit; ``at`` where each unit is served on the network (a point on an edge);
    ``geometry`` the unit itself (projected CRS); ``district`` the district name or ``None``.
    ``exclude`` the road kinds left out of road demand (kind ``roads`` only) and ``excluded_m``
    the road length left out per kind, in metres (two-way roads once, inside the study area),
    e.g. ``{"tunnel": 4538.7, "motorway": 0.0}``; ``excluded_km`` is their sum in km.
    """

    kind: str
    weight: np.ndarray
    at: Snapped
    geometry: np.ndarray
    crs: pyproj.CRS
    district: np.ndarray
    exclude: tuple[str, ...] = ()
    excluded_m: Mapping[str, float] = field(default_factory=dict)
    # grid cells left out as farther than max_access_m from a street: their number and km²
    far_cells: int = 0
    far_km2: float = 0.0
    # study area beyond the road extract (grid), or features there (points, buildings): left out
    beyond_km2: float = 0.0
    beyond_units: int = 0

    def __len__(self) -> int:
        return len(self.weight)

    @property
    def total(self) -> float:
        return float(self.weight.sum())

    @property
    def excluded_km(self) -> float:
        """Road length left out of the demand (km), all kinds together."""
        return float(sum(self.excluded_m.values())) / 1000.0

    def gdf(self, *, to_wgs84: bool = False) -> gpd.GeoDataFrame:
        """The units as a GeoDataFrame (projected, or WGS-84)."""
        g = gpd.GeoDataFrame(
            {"unit": np.arange(len(self)), "kind": self.kind, "weight": self.weight,
             "district": self.district, "access_m": self.at.distance_m},
            geometry=self.geometry, crs=self.crs,
        )
        return g.to_crs(4326) if to_wgs84 else g


def _area_projected(network: RoadNetwork, area: BaseGeometry | None) -> BaseGeometry | None:
    if area is None:
        return None
    tr = pyproj.Transformer.from_crs(4326, network.crs, always_xy=True)
    return shapely.transform(area, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def _feature_labels(g, kind: str) -> list[str]:
    """"points feature 10 '小区10'": the row, and the feature's name or id where it has one."""
    col = next((c for c in ("name", "id") if c in g.columns), None)
    vals = g[col].tolist() if col is not None else [None] * len(g)
    return [f"{kind} feature {i}" + (f" {str(v).strip()!r}" if v is not None and v == v and str(v).strip()
                                     else "") for i, v in zip(g.index, vals)]


def _districts_projected(network: RoadNetwork, districts: gpd.GeoDataFrame | None, name_field: str | None):
    if districts is None:
        return None
    if name_field is None or name_field not in districts.columns:
        raise InputError(
            f"districts name field {name_field!r} not found: expected one of {list(districts.columns)}"
        )
    return districts.to_crs(network.crs)[[name_field, "geometry"]].rename(columns={name_field: "name"})


def _assign_districts(x: np.ndarray, y: np.ndarray, districts) -> np.ndarray:
    out = np.full(len(x), None, dtype=object)
    if districts is None or len(x) == 0:
        return out
    pts = shapely.points(x, y)
    for name, geom in zip(districts["name"], districts.geometry):
        if not name_text(name):  # a district without a name: none
            continue
        inside = shapely.contains(geom, pts) & (out == None)  # noqa: E711
        out[inside] = str(name)
    return out


def road_pieces(
    network: RoadNetwork,
    *,
    piece_m: float = 50.0,
    area: BaseGeometry | None = None,
    districts: gpd.GeoDataFrame | None = None,
    name_field: str | None = None,
    exclude: Any = ROAD_EXCLUSIONS,
) -> Demand:
    """Every drivable road cut into pieces of at most ``piece_m`` metres; weight = length (m).

    Two-way roads are counted once. ``area`` (WGS-84 polygon) keeps pieces whose midpoint lies
    inside it; ``districts`` labels each piece with the district holding its midpoint.

    ``exclude`` leaves out road kinds with no frontage to protect (default all three):
    ``"tunnel"`` (:attr:`RoadNetwork.edge_tunnel`; ``building_passage`` is not a tunnel),
    ``"bridge"`` (bridges and elevated roads, :attr:`RoadNetwork.edge_bridge`) and ``"motorway"``
    (``motorway``/``motorway_link``: reached through their own access rules). ``[]`` keeps every
    road. The length left out per kind is in :attr:`Demand.excluded_m`. Travel times still use
    these roads.
    """
    if not (isinstance(piece_m, (int, float)) and piece_m > 0):
        raise InputError(f"piece_m {piece_m!r} is invalid: expected a positive length in metres")
    exclude = check_exclude(exclude, "demand exclude")
    rev = network.edge_reverse
    idx = np.arange(network.n_edges)
    keep = (rev < 0) | (idx < rev)
    edges = idx[keep]
    length = network.edge_length[edges]
    n_pieces = np.maximum(1, np.ceil(length / piece_m - 1e-6).astype(np.int64))
    edge_of = np.repeat(edges, n_pieces)
    k = np.arange(n_pieces.sum()) - np.repeat(np.cumsum(n_pieces) - n_pieces, n_pieces)
    n_rep = np.repeat(n_pieces, n_pieces)
    f0 = k / n_rep
    f1 = (k + 1) / n_rep
    fm = (f0 + f1) / 2
    L = network.edge_length[edge_of]
    geoms_e = network.edge_geometry[edge_of]
    mids = shapely.line_interpolate_point(geoms_e, fm, normalized=True)
    mx, my = shapely.get_x(mids), shapely.get_y(mids)
    sel = np.ones(len(edge_of), bool)
    area_p = _area_projected(network, area)
    if area_p is not None:
        sel = shapely.contains_xy(area_p, mx, my)
        if not sel.any():
            raise DataError("the study area holds no road: check its position and datum (WGS-84 expected)")
    why = excluded_edges(network, exclude)[edge_of]
    excluded_m = {k: float((L * (f1 - f0))[sel & (why == k)].sum()) for k in exclude}
    sel &= why == ""
    if not sel.any():
        raise DataError(
            f"every road in the study area is left out of the demand ({', '.join(exclude)}): "
            "set demand exclude: [] to keep them"
        )
    edge_of, f0, f1, fm, L, geoms_e, mx, my = (a[sel] for a in (edge_of, f0, f1, fm, L, geoms_e, mx, my))
    pieces = np.array(
        [shapely.ops.substring(g, a, b, normalized=True) for g, a, b in zip(geoms_e, f0, f1)],
        dtype=object,
    )
    weight = L * (f1 - f0)
    lon, lat = network.to_wgs84(mx, my)
    at = Snapped(edge=edge_of.astype(np.int64), fraction=fm, distance_m=np.zeros(len(fm)),
                 x=mx, y=my, lon=np.asarray(lon), lat=np.asarray(lat))
    d = _districts_projected(network, districts, name_field)
    return Demand("roads", weight, at, pieces, network.crs, _assign_districts(mx, my, d),
                  exclude=exclude, excluded_m=excluded_m)


def grid_cells(
    network: RoadNetwork,
    *,
    area: BaseGeometry | None = None,
    cell_m: float = 250.0,
    shape: str = "square",
    max_access_m: float = 500.0,
    districts: gpd.GeoDataFrame | None = None,
    name_field: str | None = None,
) -> Demand:
    """A square or hex grid clipped to the area (default: the network's hull); weight = km².

    Each cell is served at the road point nearest its centre; cells farther than
    ``max_access_m`` from any street are left out (a :class:`CoverageWarning`; counted in
    ``far_cells`` and ``far_km2``).
    """
    import shapely.ops  # noqa: F401

    if shape not in ("square", "hex"):
        raise InputError(f"grid shape {shape!r} is invalid: expected 'square' or 'hex'")
    if not (isinstance(cell_m, (int, float)) and cell_m > 0):
        raise InputError(f"cell_m {cell_m!r} is invalid: expected a positive size in metres")
    region = _area_projected(network, area)
    if region is None:
        region = shapely.convex_hull(shapely.multipoints(np.column_stack([network.x, network.y])))
    # land beyond the road extract (as district land: network_extent) has unknown roads: its
    # cells would be served from the extract's edge
    inside = shapely.intersection(shapely.make_valid(region), network_extent(network))
    beyond_km2 = max(0.0, float(region.area - inside.area)) / 1e6
    if beyond_km2 >= 0.005:
        warnings.warn(f"{beyond_km2:.2f} km² of the study area lies beyond the road extract (its roads are "
                      "unknown) and is left out of grid demand", CoverageWarning, stacklevel=2)
    region = inside
    if region.is_empty:
        raise DataError("the study area and the road extract do not overlap: no grid demand")
    x0, y0, x1, y1 = region.bounds
    if shape == "square":
        xs = np.arange(x0, x1 + cell_m, cell_m)
        ys = np.arange(y0, y1 + cell_m, cell_m)
        gx, gy = np.meshgrid(xs, ys)
        cells = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + cell_m, gy.ravel() + cell_m)
    else:
        r = cell_m / math.sqrt(3)  # cell_m = flat-to-flat width
        dx, dy = cell_m, 1.5 * r
        rows = int((y1 - y0) / dy) + 2
        cols = int((x1 - x0) / dx) + 2
        ang = np.deg2rad(np.arange(6) * 60 + 30)
        hexagon = np.column_stack([r * np.cos(ang), r * np.sin(ang)])
        cells_l = []
        for j in range(rows):
            for i in range(cols):
                cx = x0 + i * dx + (dx / 2 if j % 2 else 0)
                cy = y0 + j * dy
                cells_l.append(shapely.Polygon(hexagon + [cx, cy]))
        cells = np.array(cells_l, dtype=object)
    hit = shapely.intersects(region, cells)
    cells = shapely.intersection(cells[hit], region)
    cells = cells[~shapely.is_empty(cells)]
    area_km2 = shapely.area(cells) / 1e6
    keep = area_km2 > 1e-6
    cells, area_km2 = cells[keep], area_km2[keep]
    cen = shapely.point_on_surface(cells)
    cx, cy = shapely.get_x(cen), shapely.get_y(cen)
    # served from the nearest surface street (not a tunnel or an expressway passing by)
    at = snap_xy(network, cx, cy, max_distance_m=float("inf"), edges=frontage_edges(network))
    ok = at.distance_m <= max_access_m
    if not ok.any():
        raise DataError(f"no grid cell lies within {max_access_m} m of a road")
    far_km2 = float(area_km2[~ok].sum())
    if (~ok).any():
        warnings.warn(f"{int((~ok).sum())} grid cell(s), {far_km2:.2f} km² ({far_km2 / area_km2.sum():.1%} of the "
                      f"area), lie more than {max_access_m:g} m from any street and are left out of demand: "
                      "coverage shares count the rest (roads missing from the extract, or land without "
                      "streets: water, parks, fields?)", CoverageWarning, stacklevel=2)
    at = Snapped(*(getattr(at, f)[ok] for f in ("edge", "fraction", "distance_m", "x", "y", "lon", "lat")))
    d = _districts_projected(network, districts, name_field)
    return Demand("grid", area_km2[ok], at, cells[ok], network.crs, _assign_districts(cx[ok], cy[ok], d),
                  far_cells=int((~ok).sum()), far_km2=far_km2, beyond_km2=beyond_km2)


def from_features(
    network: RoadNetwork,
    features: gpd.GeoDataFrame,
    *,
    kind: str = "points",
    weight_field: str | None = None,
    max_access_m: float = 300.0,
    area: BaseGeometry | None = None,
    districts: gpd.GeoDataFrame | None = None,
    name_field: str | None = None,
) -> Demand:
    """Demand from buildings (weight = footprint m² unless ``weight_field``) or weighted points.

    Features farther than ``max_access_m`` from a road raise :class:`OffNetworkError` naming them.
    """
    if features.crs is None:
        raise InputError(f"{kind} file has no CRS: expected WGS-84 GeoJSON or a file with a CRS")
    if len(features) == 0:
        raise DataError(f"{kind} file holds no features")
    if features.geometry.isna().any() or features.geometry.is_empty.any():
        bad = int((features.geometry.isna() | features.geometry.is_empty).sum())
        raise DataError(f"{kind} file has {bad} feature(s) without geometry: remove or fix them")
    if kind == "points":
        # a MultiPoint of one point (QGIS / ArcGIS exports type every feature MultiPoint) is a point
        single = (features.geometry.geom_type == "MultiPoint").to_numpy() & \
            (shapely.get_num_geometries(features.geometry.to_numpy()) == 1)
        if single.any():
            features = features.copy()
            features.loc[single, features.geometry.name] = shapely.get_geometry(
                features.geometry.to_numpy()[single], 0)
        other = features.geometry.geom_type != "Point"
        if other.any():
            i = int(np.flatnonzero(other.to_numpy())[0])
            raise DataError(f"the points demand file has {int(other.sum())} feature(s) that are not points, the "
                            f"first {features.index[i]!r} a {features.geometry.iloc[i].geom_type}: expected one "
                            "point per demand unit (use kind: buildings for areas)")
    g = features.to_crs(network.crs)
    area_p = _area_projected(network, area)
    if area_p is not None:
        g = g[g.geometry.representative_point().within(area_p)]
        if len(g) == 0:
            raise DataError(f"no {kind} lie inside the study area")
    # features beyond the road extract have unknown roads: they would be served from its edge
    out = ~g.geometry.representative_point().within(network_extent(network)).to_numpy()
    if out.all():
        raise DataError(f"no {kind} lie within the road extract (its nodes' hull + 200 m, within the bounds "
                        "it states): check the file, its datum, or use a larger extract")
    if out.any():
        warnings.warn(f"{int(out.sum())} of {len(g)} {kind} feature(s) lie beyond the road extract (its roads "
                      f"are unknown) and are left out of demand, e.g. {', '.join(_feature_labels(g[out], kind)[:3])}",
                      CoverageWarning, stacklevel=2)
        g = g[~out]
    if weight_field is not None:
        if weight_field not in g.columns:
            raise InputError(f"weight field {weight_field!r} not in the {kind} file: expected one of {list(g.columns)}")
        w = pd.to_numeric(g[weight_field], errors="coerce").to_numpy(float)
        bad = ~(np.isfinite(w) & (w >= 0))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise InputError(
                f"weight field {weight_field!r} of the {kind} file has {int(bad.sum())} missing, non-numeric "
                f"or negative value(s), the first {g[weight_field].iloc[i]!r} in feature {g.index[i]!r}: "
                "expected numbers >= 0")
    elif kind == "buildings":
        w = g.geometry.area.to_numpy(float)
    else:
        w = np.ones(len(g))
    if not float(w.sum()) > 0:
        raise DataError(f"the {kind} demand weighs nothing (total 0"
                        + (f" in weight field {weight_field!r}" if weight_field is not None else
                           ": buildings as points have no area" if kind == "buildings" else "")
                        + "): coverage shares would be undefined; give weights > 0")
    rep = g.geometry.representative_point()
    at = snap_xy(network, rep.x.to_numpy(), rep.y.to_numpy(), max_distance_m=max_access_m,
                 labels=_feature_labels(g, kind), edges=frontage_edges(network))
    d = _districts_projected(network, districts, name_field)
    return Demand(kind, w, at, g.geometry.to_numpy(), network.crs,
                  _assign_districts(rep.x.to_numpy(), rep.y.to_numpy(), d), beyond_units=int(out.sum()))


def make_demand(network: RoadNetwork, spec: Any, *, area=None, districts=None, name_field=None) -> Demand:
    """Demand from a scenario's :class:`~coverage.scenario.DemandSpec`."""
    if spec.kind == "roads":
        return road_pieces(network, piece_m=spec.piece_m, area=area, districts=districts, name_field=name_field,
                           exclude=getattr(spec, "exclude", ROAD_EXCLUSIONS))
    if spec.kind == "grid":
        return grid_cells(network, area=area, cell_m=spec.cell_m, shape=spec.shape, districts=districts,
                          name_field=name_field)
    from .io import read_features

    feats = read_features(spec.file.path, datum=spec.file.datum, what=f"demand {spec.kind}")
    return from_features(network, feats, kind=spec.kind, weight_field=spec.weight_field, area=area,
                         districts=districts, name_field=name_field)
