"""Isochrones: service-area polygons from the road pieces each origin reaches, by time band.

Every road is split where travel times say so: an edge ``(u, v)`` reached at ``t[u]`` is driven
for ``band - t[u]`` seconds (the exact point along its projected geometry), the same from ``v``
over the reverse edge, and a road carrying an origin point is driven from that point in every
allowed direction. The pieces are buffered by a road-side width and unioned. Three modes, as in
commercial service-area tools:

* ``"overlap"``: one polygon per origin and band; polygons of different origins may overlap.
* ``"dissolve"``: one polygon per band for all origins together.
* ``"split"``: network districts: each piece of road goes to the origin that reaches it first
  (an edge between two districts is cut at the point of equal arrival time), and the area around
  the roads is divided by a Voronoi diagram of points along the pieces, so that the polygons do
  not overlap and their areas sum to the dissolved area. The division is drawn once, for the
  widest band; a narrower band is the part of each district along the roads its own origin
  reaches within the band, so bands nest and no district holds ground beside another origin's
  road only (at narrower bands the districts may then sum to a little less than the dissolved
  area, where roads of different origins run closer than twice the road-side width).

:func:`district_land` gives districts as land (the ground each origin reaches first, blocks
between roads included), which is what the standards' district caps (7 km² ...) measure; the
polygons above cover only a road-side strip.

Travel times come from :mod:`coverage.traveltime` (``reach`` for overlapping polygons,
``nearest_source`` for dissolved and split ones); this module only does geometry.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import shapely
from shapely.ops import substring

from .errors import CoverageWarning, InputError
from .network import EXTENT_BUFFER_M, RoadNetwork, Snapped, check_snapped, network_extent

#: Accepted values of ``mode``.
MODES = ("overlap", "dissolve", "split")

_PIECE_COLUMNS = ["origin", "label", "edge", "u", "v", "from_fraction", "to_fraction",
                  "t_start", "t_end", "length_m"]
_POLYGON_COLUMNS = ["origin", "label", "band_s", "area_km2", "road_km"]
_QUAD_SEGS = 8


@dataclass(frozen=True, eq=False)
class _Origins:
    """Origins checked against the network: labels and points on roads (canonical road frame)."""

    engine: Any                 # what the engine takes: graph node ids or a Snapped
    labels: list
    point_road: np.ndarray      # canonical road id per origin point (-1: origin at a node)
    point_frac: np.ndarray      # fraction along the canonical road

    @property
    def n(self) -> int:
        return len(self.labels)


@dataclass(frozen=True, eq=False)
class _Pieces:
    """Reached road pieces: ``edge`` driven from ``f0`` to ``f1`` (fractions along the directed
    edge), arriving at ``t0`` and ``t1`` seconds, by ``origin`` (position in the origins)."""

    edge: np.ndarray
    f0: np.ndarray
    f1: np.ndarray
    t0: np.ndarray
    t1: np.ndarray
    origin: np.ndarray

    def __len__(self) -> int:
        return len(self.edge)

    def take(self, mask: np.ndarray) -> "_Pieces":
        return _Pieces(self.edge[mask], self.f0[mask], self.f1[mask], self.t0[mask],
                       self.t1[mask], self.origin[mask])


# --------------------------------------------------------------------------------------------
# public


def reached_pieces(
    network: RoadNetwork,
    origins: Any,
    *,
    cutoff_s: float,
    mode: str = "overlap",
    labels: Sequence[Any] | None = None,
):
    """The road pieces reached within ``cutoff_s``, as line pieces in the projected CRS.

    Parameters
    ----------
    network
        The road network.
    origins
        Graph node ids, or a :class:`coverage.network.Snapped` (points on edges).
    cutoff_s
        Travel-time limit in seconds.
    mode
        ``"overlap"``: the pieces each origin reaches on its own (pieces of different origins
        overlap). ``"dissolve"`` / ``"split"``: every reached piece once, with the origin that
        reaches it first (both modes give the same pieces).
    labels
        Names for the origins (default: node ids, or positions for snapped points).

    Returns
    -------
    GeoDataFrame
        One row per piece: ``origin`` (position in ``origins``), ``label``, ``edge`` (engine edge
        index driven), ``u``, ``v`` (its graph node ids), ``from_fraction``, ``to_fraction`` (along
        the edge), ``t_start``, ``t_end`` (seconds at the two ends), ``length_m``, and the line
        ``geometry`` running in the driving direction, in ``network.crs``.
    """
    cutoff = _check_cutoff(cutoff_s)
    _check_mode(mode)
    org = _parse_origins(network, origins, labels)
    pieces = _compute_pieces(network, org, cutoff, mode)
    return _pieces_frame(network, org, pieces)


def isochrones(
    network: RoadNetwork,
    origins: Any,
    *,
    cutoff_s: float,
    mode: str = "overlap",
    bands_s: Sequence[float] | None = None,
    road_width_m: float = 50.0,
    labels: Sequence[Any] | None = None,
    progress: bool = False,
):
    """Service-area polygons by time band, from the road pieces the origins reach.

    Parameters
    ----------
    network
        The road network.
    origins
        Graph node ids, or a :class:`coverage.network.Snapped` (points on edges; the origin's own
        edge is driven from the point, both ways where the road is two-way).
    cutoff_s
        Travel-time limit in seconds.
    mode
        ``"overlap"`` (one polygon per origin and band), ``"dissolve"`` (one polygon per band for
        all origins) or ``"split"`` (non-overlapping network districts per origin and band).
    bands_s
        Increasing time bands in seconds, each in ``(0, cutoff_s]`` (default ``[cutoff_s]``).
    road_width_m
        Buffer on each side of the reached road pieces, in metres (> 0).
    labels
        Names for the origins (default: node ids, or positions for snapped points).
    progress
        Show a progress bar over the bands.

    Returns
    -------
    GeoDataFrame
        In WGS-84 (EPSG:4326), columns ``origin`` (position in ``origins``; -1 for dissolved
        rows), ``label``, ``band_s``, ``area_km2`` and ``road_km`` (both measured in the
        projected CRS), ``geometry``. Origins that reach nothing in a band get an empty polygon.
    """
    import geopandas as gpd
    from tqdm.auto import tqdm

    cutoff = _check_cutoff(cutoff_s)
    _check_mode(mode)
    bands = _check_bands(bands_s, cutoff)
    width = _check_width(road_width_m)
    org = _parse_origins(network, origins, labels)
    pieces = _compute_pieces(network, org, cutoff, mode)
    if mode == "overlap":
        stuck = np.setdiff1d(np.arange(org.n), pieces.origin)
        if len(stuck):
            names = ", ".join(repr(org.labels[i]) for i in stuck[:5].tolist())
            warnings.warn(
                f"{len(stuck)} origin(s) reach no road within {cutoff:g} s, so their isochrones "
                f"are empty: {names}{' ...' if len(stuck) > 5 else ''} (dead-end one-way or a "
                "part of the network cut off from the rest?)",
                CoverageWarning, stacklevel=2,
            )

    rows: list[dict] = []
    geoms: list = []
    districts = None
    if mode == "split":  # districts are drawn once, for the widest band; each band fills them
        widest = _cut(network, pieces, bands[-1])
        districts = _split_polygons(_piece_geometries(network, widest), widest.origin, org.n, width)
    for band in tqdm(bands, desc="isochrone bands", disable=not progress):
        cut = _cut(network, pieces, band)
        lines = _piece_geometries(network, cut)
        length = (cut.f1 - cut.f0) * network.edge_length[cut.edge]
        if mode == "dissolve":
            polys = [_buffer_group(lines, width)]
            owners = [-1]
            road = [float(length.sum())]
        else:
            owners = list(range(org.n))
            road = np.bincount(cut.origin, weights=length, minlength=org.n).tolist()
            if mode == "overlap":
                polys = _buffer_groups(lines, cut.origin, org.n, width)
            elif band == bands[-1]:
                polys = districts
            else:  # each district's part along the roads its own origin reaches in the band
                own = _buffer_groups(lines, cut.origin, org.n, width)
                polys = [shapely.intersection(o, d) for o, d in zip(own, districts)]
        for owner, poly, km in zip(owners, polys, road):
            rows.append({
                "origin": owner,
                "label": "all" if owner < 0 else org.labels[owner],
                "band_s": float(band),
                "area_km2": float(shapely.area(poly)) / 1e6,
                "road_km": km / 1000.0,
            })
            geoms.append(poly)
    frame = gpd.GeoDataFrame(rows, columns=_POLYGON_COLUMNS, geometry=geoms, crs=network.crs)
    frame = frame.sort_values(["origin", "band_s"], kind="stable").reset_index(drop=True)
    frame["origin"] = frame["origin"].astype(np.int64)
    return frame.to_crs(4326)


# --------------------------------------------------------------------------------------------
# input checks


def _check_mode(mode: Any) -> None:
    if mode not in MODES:
        raise InputError(
            f"isochrone mode {mode!r} is unknown: expected one of {', '.join(map(repr, MODES))}"
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _check_cutoff(cutoff_s: Any) -> float:
    if not (_is_number(cutoff_s) and math.isfinite(cutoff_s) and cutoff_s > 0):
        raise InputError(f"cutoff_s {cutoff_s!r} is invalid: expected seconds > 0")
    return float(cutoff_s)


def _check_bands(bands_s: Any, cutoff: float) -> list[float]:
    if bands_s is None:
        return [cutoff]
    try:
        bands = list(bands_s)
    except TypeError:
        raise InputError(
            f"bands_s {bands_s!r} is invalid: expected a list of increasing seconds, e.g. "
            "[120, 180, 240]"
        ) from None
    if not bands:
        raise InputError("bands_s is empty: expected a list of increasing seconds, e.g. [120, 240]")
    for b in bands:
        if not (_is_number(b) and math.isfinite(b) and b > 0):
            raise InputError(f"time band {b!r} in bands_s {bands!r} is invalid: expected seconds > 0")
        if b > cutoff:
            raise InputError(
                f"time band {b!r} in bands_s {bands!r} is above cutoff_s {cutoff!r}: expected "
                "every band <= cutoff_s"
            )
    for a, b in zip(bands, bands[1:]):
        if not b > a:
            raise InputError(
                f"bands_s {bands!r} is not increasing ({a!r} then {b!r}): expected strictly "
                "increasing seconds"
            )
    return [float(b) for b in bands]


def _check_width(road_width_m: Any) -> float:
    if not (_is_number(road_width_m) and math.isfinite(road_width_m) and road_width_m > 0):
        raise InputError(
            f"road_width_m {road_width_m!r} is invalid: expected metres > 0 (the road-side strip "
            "on each side of a reached road)"
        )
    return float(road_width_m)


def _canonical_roads(network: RoadNetwork) -> np.ndarray:
    """Per edge, one id for the road it runs on (the lower of an edge and its reverse)."""
    cached = network.__dict__.get("_iso_canonical")
    if cached is None:
        e = np.arange(network.n_edges, dtype=np.int64)
        rev = network.edge_reverse
        cached = np.where(rev >= 0, np.minimum(e, rev), e)
        object.__setattr__(network, "_iso_canonical", cached)
    return cached


def _parse_origins(network: RoadNetwork, origins: Any, labels: Sequence[Any] | None) -> _Origins:
    if isinstance(origins, Snapped):
        n = len(origins)
        if n == 0:
            raise InputError("origins is an empty Snapped: expected at least one origin point")
        check_snapped(network, origins)
        edge = np.asarray(origins.edge, dtype=np.int64)
        frac = np.asarray(origins.fraction, dtype=float)
        canon = _canonical_roads(network)[edge]
        point_frac = np.where(canon == edge, frac, 1.0 - frac)
        default = list(range(n))
        engine: Any = origins
        point_road = canon
    else:
        if isinstance(origins, (str, bytes)) or np.ndim(origins) == 0:
            origins = [origins]
        ids = np.asarray(list(origins))
        if len(ids) == 0:
            raise InputError("origins is empty: expected at least one graph node id or a Snapped")
        network.node_index(ids)  # InputError naming unknown ids
        default = ids.tolist()
        engine = ids
        n = len(ids)
        point_road = np.full(n, -1, dtype=np.int64)
        point_frac = np.zeros(n)
    if labels is None:
        names = default
    else:
        names = list(labels)
        if len(names) != n:
            raise InputError(
                f"labels has {len(names)} name(s) for {n} origin(s): expected one name per origin"
            )
    return _Origins(engine=engine, labels=names, point_road=point_road, point_frac=point_frac)


# --------------------------------------------------------------------------------------------
# reached pieces


def _engine():
    from . import traveltime

    return traveltime


def _compute_pieces(network: RoadNetwork, org: _Origins, cutoff: float, mode: str) -> _Pieces:
    tt = _engine()
    has_point = org.point_road >= 0
    if mode == "overlap":
        reach = tt.reach(network, org.engine, cutoff_s=cutoff, labels=org.labels)
        parts = []
        for i in range(org.n):
            lo, hi = int(reach.indptr[i]), int(reach.indptr[i + 1])
            nodes = np.asarray(reach.node[lo:hi], dtype=np.int64)
            cost = np.asarray(reach.cost[lo:hi], dtype=float)
            order = np.argsort(nodes, kind="stable")
            nodes, cost = nodes[order], cost[order]

            def lookup(q: np.ndarray, nodes=nodes, cost=cost, i=i) -> tuple[np.ndarray, np.ndarray]:
                pos = np.minimum(np.searchsorted(nodes, q), max(len(nodes) - 1, 0))
                found = (nodes[pos] == q) if len(nodes) else np.zeros(len(q), bool)
                return np.where(found, cost[pos] if len(nodes) else 0.0, np.inf), np.full(len(q), i)

            pts = np.array([i]) if has_point[i] else np.array([], dtype=np.int64)
            parts.append(_envelope_pieces(
                network, nodes, lookup, org.point_road[pts], org.point_frac[pts], pts, cutoff,
            ))
        return _concat(parts)
    seed_ptr, seed_node, seed_time = tt.origin_seeds(network, org.engine)
    tt._warn_islands(network, seed_ptr, seed_node, org.engine, org.labels)  # as travel_times does
    label, cost = tt.nearest_source(network.csr, seed_ptr, seed_node, seed_time, cutoff)
    label = np.asarray(label, dtype=np.int64)
    cost = np.where(label >= 0, np.asarray(cost, dtype=float), np.inf)
    nodes = np.flatnonzero(label >= 0)

    def lookup_all(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return cost[q], label[q]

    pts = np.flatnonzero(has_point)
    return _envelope_pieces(network, nodes, lookup_all, org.point_road[pts], org.point_frac[pts],
                            pts, cutoff)


def _envelope_pieces(
    network: RoadNetwork,
    nodes: np.ndarray,
    lookup: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
    point_road: np.ndarray,
    point_frac: np.ndarray,
    point_label: np.ndarray,
    cutoff: float,
) -> _Pieces:
    """Pieces of every road touched by reached ``nodes`` (and origin points) within ``cutoff``.

    Each road (an edge and its reverse, or a one-way edge) is cut at origin points into segments
    ``[a, b]`` (fractions along the road's canonical edge). On a segment, arrival times are the
    lower envelope of a ray driven forward from ``a`` and, on two-way roads, a ray driven back
    from ``b``; the rays meet at the point of equal arrival time.
    """
    rev = network.edge_reverse
    canon = _canonical_roads(network)
    csr = network.csr
    starts = csr.indptr[nodes]
    counts = csr.indptr[nodes + 1] - starts
    total = int(counts.sum())
    pos = np.repeat(starts - (np.cumsum(counts) - counts), counts) + np.arange(total)
    out_edges = csr.edge[pos]
    roads = np.unique(np.concatenate([canon[out_edges], point_road]))
    if len(roads) == 0:
        return _empty_pieces()
    nr = len(roads)
    two_way = rev[roads] >= 0
    tu, lu = lookup(network.edge_u[roads])
    tv, lv = lookup(network.edge_v[roads])

    # cuts along each road: its two ends and any origin points, sorted by position
    k_pt = np.searchsorted(roads, point_road)
    cut_k = np.concatenate([np.arange(nr), k_pt, np.arange(nr)])
    cut_f = np.concatenate([np.zeros(nr), point_frac, np.ones(nr)])
    cut_t = np.concatenate([tu, np.zeros(len(point_road)), tv])
    cut_l = np.concatenate([lu, point_label, lv]).astype(np.int64)
    kind = np.concatenate([np.zeros(nr), np.ones(len(point_road)), np.full(nr, 2)])
    order = np.lexsort((kind, cut_f, cut_k))
    cut_k, cut_f, cut_t, cut_l = cut_k[order], cut_f[order], cut_t[order], cut_l[order]
    left = np.flatnonzero(cut_k[:-1] == cut_k[1:])
    right = left + 1
    k = cut_k[left]
    a, b = cut_f[left], cut_f[right]
    keep = b > a
    left, right, k, a, b = left[keep], right[keep], k[keep], a[keep], b[keep]
    road = roads[k]
    back = rev[road]
    tw = two_way[k]
    tl, ll = cut_t[left], cut_l[left]
    tr = np.where(tw, cut_t[right], np.inf)
    lr = cut_l[right]
    # driving seconds along the road each way (a signal's wait is at the road's end, in tu/tv)
    drive = network.edge_drive
    tf = drive[road]
    tb = np.where(tw, drive[np.maximum(back, 0)], 1.0)

    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        meet = np.clip((tr - tl + a * tf + b * tb) / (tf + tb), a, b)
        meet = np.where(np.isinf(tr), b, np.where(np.isinf(tl), a, meet))
        end_f = np.minimum(meet, a + (cutoff - tl) / tf)
        end_b = np.maximum(meet, b - (cutoff - tr) / tb)
    fwd = (tl <= cutoff) & (end_f > a)
    bwd = (tr <= cutoff) & (end_b < b)
    return _Pieces(
        edge=np.concatenate([road[fwd], back[bwd]]),
        f0=np.concatenate([a[fwd], 1.0 - b[bwd]]),
        f1=np.concatenate([end_f[fwd], 1.0 - end_b[bwd]]),
        t0=np.concatenate([tl[fwd], tr[bwd]]),
        t1=np.concatenate([tl[fwd] + (end_f[fwd] - a[fwd]) * tf[fwd],
                           tr[bwd] + (b[bwd] - end_b[bwd]) * tb[bwd]]),
        origin=np.concatenate([ll[fwd], lr[bwd]]).astype(np.int64),
    )


def _empty_pieces() -> _Pieces:
    z = np.zeros(0)
    i = np.zeros(0, dtype=np.int64)
    return _Pieces(i, z, z, z, z, i)


def _concat(parts: list[_Pieces]) -> _Pieces:
    if not parts:
        return _empty_pieces()
    return _Pieces(*(np.concatenate([getattr(p, f) for p in parts])
                     for f in ("edge", "f0", "f1", "t0", "t1", "origin")))


def _cut(network: RoadNetwork, pieces: _Pieces, band: float) -> _Pieces:
    """The parts of ``pieces`` reached within ``band`` seconds (times rise along each piece)."""
    keep = pieces.t0 <= band
    p = pieces.take(keep)
    rate = network.edge_drive[p.edge]
    f1 = np.where(p.t1 <= band, p.f1, np.minimum(p.f1, p.f0 + (band - p.t0) / rate))
    t1 = np.where(p.t1 <= band, p.t1, p.t0 + (f1 - p.f0) * rate)
    nonempty = f1 > p.f0
    return _Pieces(p.edge, p.f0, f1, p.t0, t1, p.origin).take(nonempty)


def _piece_geometries(network: RoadNetwork, pieces: _Pieces) -> np.ndarray:
    """Projected line of each piece, running from ``f0`` to ``f1`` along its edge."""
    geoms = network.edge_geometry[pieces.edge].copy()
    partial = np.flatnonzero((pieces.f0 > 0.0) | (pieces.f1 < 1.0))
    for i in partial:
        geoms[i] = substring(geoms[i], float(pieces.f0[i]), float(pieces.f1[i]), normalized=True)
    return geoms


def _pieces_frame(network: RoadNetwork, org: _Origins, pieces: _Pieces):
    import geopandas as gpd

    lines = _piece_geometries(network, pieces)
    data = {
        "origin": pieces.origin,
        "label": [org.labels[i] for i in pieces.origin.tolist()],
        "edge": pieces.edge,
        "u": network.node_ids[network.edge_u[pieces.edge]],
        "v": network.node_ids[network.edge_v[pieces.edge]],
        "from_fraction": pieces.f0,
        "to_fraction": pieces.f1,
        "t_start": pieces.t0,
        "t_end": pieces.t1,
        "length_m": (pieces.f1 - pieces.f0) * network.edge_length[pieces.edge],
    }
    return gpd.GeoDataFrame(data, columns=_PIECE_COLUMNS, geometry=lines, crs=network.crs)


# --------------------------------------------------------------------------------------------
# polygons


def _buffer_group(lines: np.ndarray, width: float):
    if len(lines) == 0:
        return shapely.Polygon()
    return shapely.union_all(shapely.buffer(lines, width, quad_segs=_QUAD_SEGS))


def _buffer_groups(lines: np.ndarray, group: np.ndarray, n: int, width: float) -> list:
    """One buffered polygon per group id ``0..n-1`` (empty where a group has no lines)."""
    out = [shapely.Polygon()] * n
    if len(lines) == 0:
        return out
    # buffering each piece and unioning is about twice as fast in GEOS as buffering one
    # MultiLineString of heavily overlapping pieces
    strips = shapely.buffer(lines, width, quad_segs=_QUAD_SEGS)
    order = np.argsort(group, kind="stable")
    present, starts = np.unique(group[order], return_index=True)
    for g, chunk in zip(present.tolist(), np.split(strips[order], starts[1:])):
        out[g] = shapely.union_all(chunk)
    return out


def _split_polygons(lines: np.ndarray, group: np.ndarray, n: int, width: float) -> list:
    """Non-overlapping polygons per group: the dissolved buffer divided by a Voronoi diagram of
    points along the lines, each cell going to the group of its point."""
    out = [shapely.Polygon()] * n
    if len(lines) == 0:
        return out
    whole = _buffer_group(lines, width)
    present = np.unique(group)
    if len(present) == 1:
        out[int(present[0])] = whole
        return out
    spacing = max(min(width / 2.0, 25.0), 1.0)
    count = np.maximum(np.ceil(shapely.length(lines) / spacing).astype(np.int64) + 1, 2)
    which = np.repeat(np.arange(len(lines)), count)
    step = np.arange(len(which)) - np.repeat(np.cumsum(count) - count, count)
    pts = shapely.line_interpolate_point(lines[which], step / (count[which] - 1), normalized=True)
    for g, region in _divide(whole, shapely.get_coordinates(pts), group[which], width).items():
        out[g] = region
    return out


def _divide(whole, xy: np.ndarray, owner: np.ndarray, pad: float) -> dict:
    """``whole`` divided by the Voronoi diagram of the points ``xy``: per owner, the union of its
    points' cells within ``whole`` (``pad``: margin of the diagram around ``whole``)."""
    # one point per location (the Voronoi builder refuses duplicates); first owner wins
    _, first = np.unique(np.round(xy, 3), axis=0, return_index=True)
    first = np.sort(first)
    xy, owner = xy[first], owner[first]
    present = np.unique(owner).tolist()
    if len(present) == 1:
        return {present[0]: whole}
    # work in local coordinates for numerical robustness
    x0, y0 = xy.mean(axis=0)
    minx, miny, maxx, maxy = whole.bounds
    frame = shapely.box(minx - x0 - pad, miny - y0 - pad, maxx - x0 + pad, maxy - y0 + pad)
    # points of symmetric layouts are cocircular, and GEOS then builds overlapping cells whose
    # union loses land: a fixed sub-millimetre jitter breaks the ties (a tie's owner is arbitrary)
    jitter = np.random.default_rng(0).uniform(-5e-4, 5e-4, xy.shape)
    cells = shapely.get_parts(shapely.voronoi_polygons(
        shapely.multipoints(xy - [x0, y0] + jitter), extend_to=frame, ordered=True,
    ))
    cells = shapely.transform(cells, lambda c: c + [x0, y0])
    return {g: shapely.intersection(whole, _union_cells(cells[owner == g])) for g in present}


def district_land(
    network: RoadNetwork,
    origins: Any,
    *,
    cutoff_s: float,
    area=None,
    fill_m: float | None = 250.0,
    spacing_m: float = 25.0,
    labels: Sequence[Any] | None = None,
):
    """Station districts as LAND: the ground each origin reaches first over the roads.

    Every road is cut where two origins arrive at the same time (as ``mode="split"``), points
    every ``spacing_m`` along all roads take the origin that reaches them first within
    ``cutoff_s`` (or none), and the land is divided by the Voronoi diagram of those points: a
    piece of land belongs to the origin of the nearest point of road. The land is everything
    within ``fill_m`` of a road, clipped to ``area`` when given, so that blocks between roads
    count (the standards' district caps, e.g. 7 km², are land areas); with ``fill_m=None`` and an
    ``area``, the whole area (land far from any road too: a sparse suburban network). Land beyond
    the road extract (:func:`coverage.network.network_extent`) is in no district: its roads are
    unknown.

    Parameters
    ----------
    network, origins, cutoff_s, labels
        As in :func:`isochrones`.
    area : shapely geometry in the network's projected CRS, optional
        Study area to clip the land to.
    fill_m : float or None
        How far from a road land still counts (m, > 0); covers blocks up to twice as wide. None:
        the whole ``area`` (250 m without one).
    spacing_m : float
        Distance between road points (m, > 0).

    Returns
    -------
    GeoDataFrame
        WGS-84, one row per origin: ``origin``, ``label``, ``band_s`` (= cutoff), ``area_km2``
        (land), ``road_km`` (road reached first), ``geometry``; ``attrs["unreached_km2"]`` is the
        land nearest to roads that no origin reaches within the cutoff, ``attrs["beyond_km2"]``
        the land left out as beyond the road extract.
    """
    import geopandas as gpd

    cutoff = _check_cutoff(cutoff_s)
    whole = fill_m is None and area is not None
    if fill_m is None:
        fill_m = 250.0
    for name, v in (("fill_m", fill_m), ("spacing_m", spacing_m)):
        if not (_is_number(v) and math.isfinite(v) and v > 0):
            raise InputError(f"{name} {v!r} is invalid: expected metres > 0 (or None: the whole area)")
    org = _parse_origins(network, origins, labels)
    cut = _cut(network, _compute_pieces(network, org, cutoff, "split"), cutoff)
    road_m = np.bincount(cut.origin, weights=(cut.f1 - cut.f0) * network.edge_length[cut.edge],
                         minlength=org.n)

    # points along every road (canonical edge), owned by the piece that contains them
    canon = _canonical_roads(network)
    roads = np.unique(canon)
    count = np.maximum(np.ceil(network.edge_length[roads] / spacing_m).astype(np.int64), 1)
    which = np.repeat(roads, count)
    step = np.arange(len(which)) - np.repeat(np.cumsum(count) - count, count)
    frac = (step + 0.5) / np.repeat(count, count)
    owner = np.full(len(which), -1, dtype=np.int64)
    if len(cut):
        # pieces in the canonical edge's frame (a piece driven over the reverse edge is flipped)
        flip = canon[cut.edge] != cut.edge
        ce = canon[cut.edge]
        c0 = np.where(flip, 1.0 - cut.f1, cut.f0)
        c1 = np.where(flip, 1.0 - cut.f0, cut.f1)
        order = np.lexsort((c0, ce))
        pe, p0, p1, po = ce[order], c0[order], c1[order], cut.origin[order]
        # pieces of one road never overlap: the candidate is the last piece starting at or before
        pos = np.searchsorted(pe * 2.0 + p0, which * 2.0 + frac, side="right") - 1
        ok = pos >= 0
        pos = np.maximum(pos, 0)
        ok &= (pe[pos] == which) & (frac <= p1[pos] + 1e-12)
        owner[ok] = po[pos[ok]]
    pts = shapely.line_interpolate_point(network.edge_geometry[which], frac, normalized=True)
    xy = shapely.get_coordinates(pts)

    if whole:
        land = shapely.make_valid(area)
    else:
        land = shapely.union_all(shapely.buffer(network.edge_geometry[roads], fill_m, quad_segs=_QUAD_SEGS))
        if area is not None:
            land = shapely.intersection(land, area)
    # land beyond the extract's extent has unknown roads: no station's district (it made edge
    # stations read over their cap)
    asked = float(shapely.area(land))
    # (without stated bounds: the hull of the nodes, grown to hold all land near the roads)
    land = shapely.intersection(land, network_extent(network, EXTENT_BUFFER_M if whole else
                                                     max(EXTENT_BUFFER_M, fill_m)))
    polys = [shapely.Polygon()] * org.n
    unreached = 0.0
    if len(xy) and not land.is_empty:
        for g, poly in _divide(land, xy, owner, 1.0).items():
            if g < 0:
                unreached = float(shapely.area(poly)) / 1e6
            else:
                polys[g] = poly
    rows = [{"origin": i, "label": org.labels[i], "band_s": cutoff, "area_km2": float(shapely.area(polys[i])) / 1e6,
             "road_km": float(road_m[i]) / 1000.0} for i in range(org.n)]
    frame_ = gpd.GeoDataFrame(rows, columns=_POLYGON_COLUMNS, geometry=polys, crs=network.crs).to_crs(4326)
    frame_["origin"] = frame_["origin"].astype(np.int64)
    frame_.attrs["unreached_km2"] = unreached
    frame_.attrs["land_km2"] = float(shapely.area(land)) / 1e6
    frame_.attrs["beyond_km2"] = max(0.0, asked - float(shapely.area(land))) / 1e6
    frame_.attrs["fill_m"] = None if whole else float(fill_m)  # None: the whole area is land
    return frame_


def _union_cells(cells: np.ndarray):
    """Union of Voronoi cells: the fast coverage union, or the general one where GEOS finds the
    cells not exactly noded."""
    try:
        return shapely.coverage_union_all(cells)
    except shapely.errors.GEOSException:
        # regular grids give cocircular points and degenerate cells: repair, snap-round to 1 mm
        return shapely.union_all(shapely.make_valid(cells), grid_size=1e-3)
