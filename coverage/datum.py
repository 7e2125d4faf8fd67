"""Datums of Chinese web maps: WGS-84 <-> GCJ-02 (AMap, Tencent) <-> BD-09 (Baidu).

GCJ-02 is WGS-84 plus a smooth, published-by-reverse-engineering offset of 100-700 m inside
China; BD-09 adds Baidu's own small rotation/scaling on top of GCJ-02. The forward formulas are
closed form; the inverses are solved by fixed-point iteration to far better than 0.5 m.

Points outside the usual China rectangle (lon 72.004-137.8347, lat 0.8293-55.8271) are left
unchanged by every conversion here (GCJ-02 and BD-09 steps), as the standard algorithm
defines. Every function takes
scalars or numpy arrays and returns ``(lon, lat)`` of the same shape (floats for scalars).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InputError

__all__ = [
    "DATUMS",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "in_china",
    "to_wgs84",
    "wgs84_to_bd09",
    "wgs84_to_gcj02",
]

#: Canonical datum names accepted by :func:`to_wgs84`.
DATUMS = ("wgs84", "gcj02", "bd09")

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 offset formula.
_A = 6378245.0
_EE = 0.00669342162296594323
# Baidu's constant for the BD-09 rotation.
_X_PI = np.pi * 3000.0 / 180.0
# The China rectangle of the standard algorithm.
_LON_MIN, _LON_MAX = 72.004, 137.8347
_LAT_MIN, _LAT_MAX = 0.8293, 55.8271

_INVERSE_TOL_DEG = 1e-10  # ~0.01 mm
_INVERSE_MAX_ITER = 30


# --------------------------------------------------------------------------------------------
# input handling


def _as_arrays(lon: Any, lat: Any, *, what: str) -> tuple[np.ndarray, np.ndarray, bool]:
    """Float arrays of lon/lat (broadcast), whether both were scalars; InputError on bad values."""
    try:
        x = np.asarray(lon, dtype=np.float64)
        y = np.asarray(lat, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"{what}: lon/lat must be numbers or numeric arrays, got lon={lon!r}, lat={lat!r}"
        ) from exc
    scalar = x.ndim == 0 and y.ndim == 0
    try:
        x, y = np.broadcast_arrays(x, y)
    except ValueError as exc:
        raise InputError(
            f"{what}: lon and lat must have the same shape, got {x.shape} and {y.shape}"
        ) from exc
    _validate(x, y, what=what)
    return x, y, scalar


def _error(message: str, mask: np.ndarray) -> InputError:
    """An InputError whose ``index`` is the first bad point's flat index (None for scalars), so
    that callers can name the record."""
    err = InputError(message)
    err.index = int(np.flatnonzero(np.ravel(mask))[0]) if np.ndim(mask) else None
    return err


def _first_bad(mask: np.ndarray) -> str:
    idx = np.argwhere(mask)[0]
    return "" if mask.ndim == 0 else f" at index {tuple(int(i) for i in idx) if len(idx) > 1 else int(idx[0])}"


def _validate(x: np.ndarray, y: np.ndarray, *, what: str) -> None:
    nan = ~np.isfinite(x) | ~np.isfinite(y)
    if nan.any():
        i = np.argwhere(nan)[0] if nan.ndim else ()
        raise _error(
            f"{what}: coordinate{_first_bad(nan)} is not a finite number "
            f"(lon={float(x[tuple(i)])!r}, lat={float(y[tuple(i)])!r}); expected lon in [-180, 180], lat in [-90, 90]",
            nan)
    bad_lat = np.abs(y) > 90.0
    if bad_lat.any():
        i = tuple(np.argwhere(bad_lat)[0]) if bad_lat.ndim else ()
        hint = (
            "; lon and lat look swapped (expected (lon, lat) order)"
            if abs(x[i]) <= 90.0 else ""
        )
        raise _error(f"{what}: latitude {float(y[i])!r}{_first_bad(bad_lat)} is out of range [-90, 90]{hint}",
                     bad_lat)
    bad_lon = np.abs(x) > 180.0
    if bad_lon.any():
        i = tuple(np.argwhere(bad_lon)[0]) if bad_lon.ndim else ()
        raise _error(f"{what}: longitude {float(x[i])!r}{_first_bad(bad_lon)} is out of range [-180, 180]",
                     bad_lon)


def _out(x: np.ndarray, y: np.ndarray, scalar: bool) -> tuple[Any, Any]:
    if scalar:
        return float(x), float(y)
    return x, y


def in_china(lon: Any, lat: Any) -> Any:
    """``True`` where a point lies in the rectangle the GCJ-02 algorithm treats as China."""
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    inside = (x >= _LON_MIN) & (x <= _LON_MAX) & (y >= _LAT_MIN) & (y <= _LAT_MAX)
    return bool(inside) if inside.ndim == 0 else inside


# --------------------------------------------------------------------------------------------
# the GCJ-02 offset


def _offset_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    out += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    out += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    out += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return out


def _offset_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    out += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    out += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    out += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return out


def _gcj_delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS-84 in degrees at WGS-84 points (zero outside the China rectangle)."""
    dlat = _offset_lat(lon - 105.0, lat - 35.0)
    dlon = _offset_lon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = dlat * 180.0 / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    dlon = dlon * 180.0 / (_A / sqrt_magic * np.cos(rad) * np.pi)
    inside = in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def _wgs_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlon, dlat = _gcj_delta(lon, lat)
    return lon + dlon, lat + dlat


def _gcj_to_wgs(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Solve f(w) = g by the fixed point w <- w - (f(w) - g); the offset varies slowly (its
    # derivative is ~1e-3), so each step gains ~3 digits. Out-of-China g stays unchanged.
    inside = in_china(lon, lat)
    wx, wy = lon.copy(), lat.copy()
    for _ in range(_INVERSE_MAX_ITER):
        fx, fy = _wgs_to_gcj(wx, wy)
        ex, ey = fx - lon, fy - lat
        wx = wx - ex
        wy = wy - ey
        if np.all(np.abs(ex) < _INVERSE_TOL_DEG) and np.all(np.abs(ey) < _INVERSE_TOL_DEG):
            break
    return np.where(inside, wx, lon), np.where(inside, wy, lat)


def _gcj_to_bd(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    z = np.hypot(lon, lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    inside = in_china(lon, lat)
    bx, by = z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006
    return np.where(inside, bx, lon), np.where(inside, by, lat)


def _bd_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Closed-form approximate inverse (Baidu's own), then refined by the same fixed point as
    # the GCJ-02 inverse so that gcj02_to_bd09(bd09_to_gcj02(p)) == p to ~1e-10 degrees.
    x, y = lon - 0.0065, lat - 0.006
    z = np.hypot(x, y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    gx, gy = z * np.cos(theta), z * np.sin(theta)
    for _ in range(_INVERSE_MAX_ITER):
        bx, by = _gcj_to_bd(gx, gy)
        ex, ey = bx - lon, by - lat
        gx, gy = gx - ex, gy - ey
        if np.all(np.abs(ex) < _INVERSE_TOL_DEG) and np.all(np.abs(ey) < _INVERSE_TOL_DEG):
            break
    inside = in_china(lon, lat)
    return np.where(inside, gx, lon), np.where(inside, gy, lat)


# --------------------------------------------------------------------------------------------
# public conversions


def wgs84_to_gcj02(lon: Any, lat: Any) -> tuple[Any, Any]:
    """WGS-84 to GCJ-02.

    Parameters
    ----------
    lon, lat
        Degrees, scalars or arrays of one shape.

    Returns
    -------
    (lon, lat)
        GCJ-02 degrees; unchanged outside the China rectangle.
    """
    x, y, scalar = _as_arrays(lon, lat, what="wgs84_to_gcj02")
    return _out(*_wgs_to_gcj(x, y), scalar)


def gcj02_to_wgs84(lon: Any, lat: Any) -> tuple[Any, Any]:
    """GCJ-02 to WGS-84 by iteration (error far below 0.5 m; unchanged outside China).

    Parameters
    ----------
    lon, lat
        GCJ-02 degrees, scalars or arrays of one shape.

    Returns
    -------
    (lon, lat)
        WGS-84 degrees.
    """
    x, y, scalar = _as_arrays(lon, lat, what="gcj02_to_wgs84")
    return _out(*_gcj_to_wgs(x, y), scalar)


def gcj02_to_bd09(lon: Any, lat: Any) -> tuple[Any, Any]:
    """GCJ-02 to BD-09 (Baidu)."""
    x, y, scalar = _as_arrays(lon, lat, what="gcj02_to_bd09")
    return _out(*_gcj_to_bd(x, y), scalar)


def bd09_to_gcj02(lon: Any, lat: Any) -> tuple[Any, Any]:
    """BD-09 (Baidu) to GCJ-02, refined by iteration to the exact inverse of :func:`gcj02_to_bd09`."""
    x, y, scalar = _as_arrays(lon, lat, what="bd09_to_gcj02")
    return _out(*_bd_to_gcj(x, y), scalar)


def wgs84_to_bd09(lon: Any, lat: Any) -> tuple[Any, Any]:
    """WGS-84 to BD-09 (via GCJ-02)."""
    x, y, scalar = _as_arrays(lon, lat, what="wgs84_to_bd09")
    return _out(*_gcj_to_bd(*_wgs_to_gcj(x, y)), scalar)


def bd09_to_wgs84(lon: Any, lat: Any) -> tuple[Any, Any]:
    """BD-09 to WGS-84 (via GCJ-02, both inverses iterated)."""
    x, y, scalar = _as_arrays(lon, lat, what="bd09_to_wgs84")
    return _out(*_gcj_to_wgs(*_bd_to_gcj(x, y)), scalar)


def normalise_datum(datum: Any) -> str:
    """Canonical datum name (``"wgs84"``, ``"gcj02"``, ``"bd09"``) from user spellings.

    Accepts any case, with or without ``-``/``_``/spaces (``"WGS-84"``, ``"GCJ-02"``, ``"BD-09"``).
    Raises :class:`InputError` naming the bad value and the accepted names.
    """
    if isinstance(datum, str):
        key = "".join(ch for ch in datum.casefold() if ch.isalnum())
        aliases = {"wgs84": "wgs84", "epsg4326": "wgs84", "gcj02": "gcj02", "bd09": "bd09",
                   "bd09ll": "bd09"}
        if key in aliases:
            return aliases[key]
    raise InputError(
        f"unknown datum {datum!r}; expected one of 'wgs84' (WGS-84, GPS/OSM), "
        "'gcj02' (GCJ-02, AMap/Tencent) or 'bd09' (BD-09, Baidu)"
    )


def to_wgs84(lon: Any, lat: Any, datum: str) -> tuple[Any, Any]:
    """Convert coordinates given in ``datum`` to WGS-84.

    Parameters
    ----------
    lon, lat
        Degrees, scalars or arrays of one shape.
    datum
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"`` (any case; ``"WGS-84"``, ``"GCJ-02"``, ``"BD-09"``).

    Returns
    -------
    (lon, lat)
        WGS-84 degrees.

    Raises
    ------
    InputError
        Unknown datum, NaN or out-of-range coordinates, or a GCJ-02/BD-09 point outside China
        whose swapped (lat, lon) lies inside China (lon and lat were given the wrong way round).
    """
    name = normalise_datum(datum)
    what = f"to_wgs84(datum={name!r})"
    x, y, scalar = _as_arrays(lon, lat, what=what)
    if name == "wgs84":
        return _out(x.copy(), y.copy(), scalar)
    outside = ~np.asarray(in_china(x, y))
    swapped_inside = np.asarray(in_china(y, x))
    suspicious = outside & swapped_inside
    if suspicious.any():
        i = tuple(np.argwhere(suspicious)[0]) if suspicious.ndim else ()
        raise _error(
            f"{what}: point (lon={float(x[i])!r}, lat={float(y[i])!r}){_first_bad(suspicious)} lies outside "
            f"China but (lon={float(y[i])!r}, lat={float(x[i])!r}) lies inside; lon and lat look swapped "
            "(expected (lon, lat) order)", suspicious)
    if name == "gcj02":
        return _out(*_gcj_to_wgs(x, y), scalar)
    return _out(*_gcj_to_wgs(*_bd_to_gcj(x, y)), scalar)
