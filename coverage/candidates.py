"""Pure-geometry helpers for candidate station sites (projected metres; knows nothing of roads).

* :func:`thin_candidates` keeps a subset of points at least ``spacing_m`` apart such that every
  dropped point lies within ``spacing_m`` of a kept one (greedy Poisson-disk thinning).
* :func:`siting_mask` applies the GB 51080 §4.1.5 siting rules: at least 200 m from hazardous
  sites and at least 50 m from the main exits of crowded venues (both distances configurable).
  Sites and venues may be points or areas: an area is measured from its boundary (0 inside it),
  never from its centre (:func:`nearest_distance`).
"""
from __future__ import annotations

import numpy as np
import shapely
from scipy.spatial import cKDTree

from coverage.errors import InputError

__all__ = ["thin_candidates", "siting_mask", "nearest_distance"]


def _xy(x, y, what: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        xa = np.asarray(x, dtype=float).ravel()
        ya = np.asarray(y, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise InputError(f"{what} coordinates must be numbers in projected metres: {exc}") from None
    if xa.shape != ya.shape:
        raise InputError(
            f"{what} x and y must have the same length; got {xa.size} x values and {ya.size} y values"
        )
    bad = ~(np.isfinite(xa) & np.isfinite(ya))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{what} coordinates must be finite; point {i} is ({xa[i]}, {ya[i]}) "
            f"({int(bad.sum())} bad point(s) in all)"
        )
    return xa, ya


def _distance(value, what: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a distance in metres; got {value!r}") from None
    if not np.isfinite(v) or v < 0:
        raise InputError(f"{what} must be a finite distance >= 0 metres; got {value!r}")
    return v


def thin_candidates(x, y, spacing_m: float) -> np.ndarray:
    """Thin candidate points to a minimum spacing.

    Points are visited in the given order (put preferred sites first); a point is kept unless a
    point kept before it lies closer than ``spacing_m``.

    Parameters
    ----------
    x, y : array-like
        Projected coordinates in metres.
    spacing_m : float
        Minimum distance between kept points (> 0).

    Returns
    -------
    numpy.ndarray
        Sorted integer indices of the kept points. Kept points are pairwise ``>= spacing_m``
        apart and every dropped point is closer than ``spacing_m`` to a kept point.
    """
    xa, ya = _xy(x, y, "candidate")
    spacing = _distance(spacing_m, "spacing_m")
    if spacing <= 0:
        raise InputError(f"spacing_m must be > 0 metres; got {spacing_m!r}")
    n = xa.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    tree = cKDTree(np.column_stack([xa, ya]))
    # pairs strictly closer than spacing: query a radius a hair below it, then filter exactly
    pairs = tree.query_pairs(spacing, output_type="ndarray")
    if pairs.size:
        d = np.hypot(xa[pairs[:, 0]] - xa[pairs[:, 1]], ya[pairs[:, 0]] - ya[pairs[:, 1]])
        pairs = pairs[d < spacing]
    if pairs.size == 0:
        return np.arange(n, dtype=np.int64)
    # CSR neighbour lists
    a = np.concatenate([pairs[:, 0], pairs[:, 1]])
    b = np.concatenate([pairs[:, 1], pairs[:, 0]])
    order = np.argsort(a, kind="stable")
    a, b = a[order], b[order]
    start = np.searchsorted(a, np.arange(n + 1))
    removed = np.zeros(n, dtype=bool)
    keep = np.zeros(n, dtype=bool)
    for i in range(n):
        if removed[i]:
            continue
        keep[i] = True
        removed[b[start[i]:start[i + 1]]] = True
    return np.flatnonzero(keep).astype(np.int64)


def nearest_distance(x, y, geoms) -> np.ndarray:
    """Distance in metres from each point to the nearest of ``geoms`` (shapely geometries in the
    same projected CRS): 0 on or inside a polygon, else to its boundary; ``inf`` without geometry.
    """
    xa, ya = _xy(x, y, "candidate")
    out = np.full(xa.size, np.inf)
    g = np.asarray([] if geoms is None else geoms, dtype=object).ravel()
    if g.size:
        g = g[~(shapely.is_missing(g) | shapely.is_empty(g))]
    if xa.size == 0 or g.size == 0:
        return out
    (ip, _), dist = shapely.STRtree(g).query_nearest(
        shapely.points(xa, ya), return_distance=True, all_matches=False)
    np.minimum.at(out, ip, dist)
    return out


def _far_from(cx, cy, px, py, geoms, min_m: float, what: str) -> np.ndarray:
    ok = np.ones(cx.size, dtype=bool)
    if (px is None) != (py is None):
        raise InputError(f"{what}: give both x and y coordinates, or neither")
    if min_m == 0 or cx.size == 0:
        return ok
    if geoms is not None:
        ok &= nearest_distance(cx, cy, geoms) >= min_m
    if px is None:
        return ok
    pxa, pya = _xy(px, py, what)
    if pxa.size == 0:
        return ok
    tree = cKDTree(np.column_stack([pxa, pya]))
    d, _ = tree.query(np.column_stack([cx, cy]), k=1)
    return ok & (d >= min_m)


def siting_mask(
    cand_x,
    cand_y,
    *,
    hazard_x=None,
    hazard_y=None,
    min_hazard_m: float = 200.0,
    venue_x=None,
    venue_y=None,
    min_venue_m: float = 50.0,
    hazards=None,
    venues=None,
) -> np.ndarray:
    """Which candidates satisfy the GB 51080 §4.1.5 siting distances.

    Parameters
    ----------
    cand_x, cand_y : array-like
        Candidate coordinates (projected metres).
    hazard_x, hazard_y : array-like, optional
        Hazardous sites (fuel stations, chemical plants ...) as points; none when omitted.
    min_hazard_m : float
        Minimum distance to any hazardous site (default 200 m).
    venue_x, venue_y : array-like, optional
        Main exits of crowded venues (schools, hospitals, malls ...) as points; none when omitted.
    min_venue_m : float
        Minimum distance to any venue exit (default 50 m).
    hazards, venues : array of shapely geometries, optional
        The same as geometries (points, lines or areas, projected metres): an area is measured
        from its boundary and a candidate inside it is at 0 m.

    Returns
    -------
    numpy.ndarray
        Boolean mask aligned with the candidates: True where the site is allowed
        (distance ``>=`` each minimum).
    """
    cx, cy = _xy(cand_x, cand_y, "candidate")
    mh = _distance(min_hazard_m, "min_hazard_m")
    mv = _distance(min_venue_m, "min_venue_m")
    ok = _far_from(cx, cy, hazard_x, hazard_y, hazards, mh, "hazard sites")
    ok &= _far_from(cx, cy, venue_x, venue_y, venues, mv, "venue exits")
    return ok
