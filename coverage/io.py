"""Reading vector files (GeoJSON, GeoPackage, Shapefile, CSV with lon/lat) with a stated datum."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .errors import DataError, InputError

_LON = ("lon", "lng", "longitude", "long", "x", "经度")
_LAT = ("lat", "latitude", "y", "纬度")


def lonlat_columns(df: pd.DataFrame) -> tuple[str | None, str | None]:
    """The longitude and latitude columns of a table (lon/lng/longitude/long/x/经度 and
    lat/latitude/y/纬度, any case, spaces around ignored), or None for a missing one."""
    cols = {str(c).strip().lower(): c for c in df.columns}
    lon = next((cols[c] for c in _LON if c in cols), None)
    lat = next((cols[c] for c in _LAT if c in cols), None)
    return lon, lat


#: Column headers read as ``name`` / ``id`` when a table has no column of that name (Chinese
#: spreadsheets: 名称, 编号).
COLUMN_ALIASES = {"name": ("名称", "名字", "站名", "地名", "Name", "NAME"), "id": ("编号", "ID", "Id")}


def canonical_columns(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with a ``name`` / ``id`` column copied from its first :data:`COLUMN_ALIASES`
    header where it has no such column (spaces around headers ignored); the original column
    stays, so a ``name_field: 名称`` still finds it."""
    stripped = {str(c).strip(): c for c in df.columns}
    copies = {}
    for canon, aliases in COLUMN_ALIASES.items():
        if canon in stripped:
            continue
        found = next((stripped[a] for a in aliases if a in stripped), None)
        if found is not None:
            copies[canon] = df[found]
    return df.assign(**copies) if copies else df


def read_csv_table(path: str | Path, what: str = "CSV") -> pd.DataFrame:
    """A CSV file as a table: UTF-8 (with or without a byte-order mark), else GB 18030 (GBK, what
    Excel writes on Chinese Windows) with a :class:`CoverageWarning` showing how its text read
    (a file in another encoding may decode as GB 18030 too, wrongly). Chinese headers 名称/编号
    read as name/id (:func:`canonical_columns`)."""
    import io
    import re
    import warnings

    from .errors import CoverageWarning

    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise DataError(f"{what} file {str(path)!r} is neither UTF-8 nor GB 18030 (GBK) text (byte "
                            f"{exc.start}): save it as UTF-8") from None
        sample = list(dict.fromkeys(re.findall(r"[^\s,;\"']*[^\x00-\x7f][^\s,;\"']*", text)))[:3]
        warnings.warn(f"{what} file {str(path)!r} is not UTF-8: read as GB 18030 (GBK, as Excel saves on "
                      f"Chinese Windows), its text as {', '.join(map(repr, sample))}; if that reads "
                      "wrong, save the file as UTF-8", CoverageWarning, stacklevel=3)
    return canonical_columns(pd.read_csv(io.StringIO(text)))


def open_binary(path: str | Path):
    """Open a file for reading bytes, unpacking ``.bz2`` and ``.gz`` on the fly."""
    import bz2
    import gzip

    path = Path(path)
    low = path.name.lower()
    if low.endswith(".bz2"):
        return bz2.open(path, "rb")
    if low.endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def read_features(path: str | Path, *, datum: str = "wgs84", what: str = "features") -> gpd.GeoDataFrame:
    """Read a vector file into WGS-84, converting from GCJ-02 / BD-09 when ``datum`` says so.

    CSV files need lon/lat columns. Files with a projected CRS are reprojected; a ``datum`` other
    than WGS-84 applies to files in geographic coordinates only.
    """
    from .datum import to_wgs84

    path = Path(path)
    if not path.exists():
        from .settings import SHARED_DATA_ENV, shared_data_dir

        hint = ""
        if str(path.resolve()).startswith(str(shared_data_dir())):
            hint = f" (shared data folder: set {SHARED_DATA_ENV} to the folder holding osm/ and boundaries/)"
        raise DataError(f"{what} file {str(path)!r} does not exist{hint}")
    if path.stat().st_size == 0:
        raise DataError(f"{what} file {str(path)!r} is empty (0 bytes)")
    if path.suffix.lower() in (".csv", ".txt"):
        try:
            df = read_csv_table(path, what)
        except DataError:
            raise
        except Exception as exc:
            raise DataError(f"{what} file {str(path)!r} is not readable CSV ({exc})") from None
        lon, lat = lonlat_columns(df)
        if lon is None or lat is None:
            raise DataError(
                f"{what} file {str(path)!r} has no lon/lat columns: got {list(df.columns)}, expected "
                "columns named lon and lat (or lng/longitude, latitude, x/y, 经度/纬度)"
            )
        x = pd.to_numeric(df[lon], errors="coerce").to_numpy(float)
        y = pd.to_numeric(df[lat], errors="coerce").to_numpy(float)
        bad = ~(np.isfinite(x) & np.isfinite(y))
        if bad.any():
            rows = (np.flatnonzero(bad)[:5] + 2).tolist()
            raise DataError(f"{what} file {str(path)!r} has rows without coordinates (lines {rows})")
        gdf = gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(x, y), crs=4326)
    else:
        try:
            gdf = gpd.read_file(path)
        except Exception as exc:
            raise DataError(
                f"{what} file {str(path)!r} could not be read ({type(exc).__name__}: {exc}); "
                "expected GeoJSON, GeoPackage, Shapefile or CSV with lon/lat"
            ) from None
    if "geometry" not in gdf or len(gdf) == 0:
        raise DataError(f"{what} file {str(path)!r} holds no features")
    gdf = canonical_columns(gdf)
    missing = gdf.geometry.isna() | gdf.geometry.is_empty
    if missing.any():
        raise DataError(
            f"{what} file {str(path)!r} has {int(missing.sum())} feature(s) without geometry "
            f"(rows {np.flatnonzero(missing.to_numpy())[:5].tolist()}): fix or remove them"
        )
    if gdf.crs is None:
        gdf = gdf.set_crs(4326)
    if not gdf.crs.is_geographic:
        if datum.lower().replace("-", "") != "wgs84":
            raise InputError(
                f"{what} file {str(path)!r} is in projected CRS {gdf.crs.to_string()} but datum "
                f"{datum!r} was stated: GCJ-02/BD-09 apply to lon/lat files only"
            )
        return gdf.to_crs(4326)
    gdf = gdf.to_crs(4326)
    x0, y0, x1, y1 = gdf.total_bounds
    if not (np.isfinite([x0, y0, x1, y1]).all() and -180 <= x0 and x1 <= 180 and -90 <= y0 and y1 <= 90):
        swapped = np.isfinite([x0, y0, x1, y1]).all() and -90 <= x0 and x1 <= 90 and -180 <= y0 and y1 <= 180
        raise DataError(
            f"{what} file {str(path)!r} has coordinates out of range (bounds "
            f"{tuple(round(float(v), 3) for v in (x0, y0, x1, y1))}): expected longitude/latitude in "
            "[-180, 180] x [-90, 90]; " + ("longitude and latitude look swapped (the latitudes are "
                                           "beyond 90): check which column is which" if swapped else
                                           "a projected file (metres) needs its CRS stated in the file"))
    if datum.lower().replace("-", "") != "wgs84":
        def conv(xy: np.ndarray) -> np.ndarray:
            lon, lat = to_wgs84(xy[:, 0], xy[:, 1], datum)
            return np.column_stack([lon, lat])

        gdf = gdf.set_geometry(shapely.transform(gdf.geometry.to_numpy(), conv), crs=4326)
    return gdf


def name_text(value: Any) -> str:
    """A feature name or code as text: "" for a missing one, a whole number without ".0" (a
    code column holding a blank is read as floats: 310101.0 is "310101")."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def match_names(values, names) -> tuple[np.ndarray, list[str], set[str]]:
    """Which of a name column's ``values`` are among ``names`` (both as :func:`name_text`): the
    mask, the names not found, and the names there are (blanks left out)."""
    keys = np.array([name_text(v) for v in values], dtype=object)
    known = set(keys) - {""}
    wanted = [name_text(n) for n in names]
    return np.isin(keys, wanted), [n for n in wanted if n not in known], known


def read_area(path: str | Path, *, datum: str = "wgs84", names=None, name_field: str | None = None):
    """A study-area polygon (union of the file's polygons, optionally only the named ones)."""
    gdf = read_features(path, datum=datum, what="area")
    if names is not None:
        if name_field is None or name_field not in gdf.columns:
            raise InputError(f"area name_field {name_field!r} not in {list(gdf.columns)}")
        wanted = list(names) if isinstance(names, (list, tuple)) else [names]  # one name, or a code
        if not wanted:
            raise InputError(f"area names of {str(path)!r} is an empty list: expected the names of the "
                             "features to use (or no names: every feature)")
        keep, missing, have = match_names(gdf[name_field], wanted)
        if missing:
            import difflib

            hints = [f"{n!r} (did you mean {m[0]!r}?)" if (m := difflib.get_close_matches(n, list(have), 1))
                     else repr(n) for n in missing]
            raise InputError(
                f"area names {', '.join(hints)} not found in {name_field!r} of {str(path)!r}: every name "
                f"must exist; available {sorted(have)[:20]}"
            )
        gdf = gdf[keep]
    return polygon_union(gdf.geometry.to_numpy(), what=f"area file {str(path)!r}")


def polygon_union(geoms, *, what: str | None = None) -> shapely.Geometry:
    """The union of the polygonal parts of ``geoms``, each made valid first (a self-touching or
    bow-tie ring from a hand-drawn boundary would otherwise measure 0 km² or break the union).
    With ``what`` (e.g. "area file 'x.geojson'"), none with an area is a :class:`DataError`."""
    geoms = np.asarray(geoms, dtype=object)
    # make_valid may give a GeometryCollection of polygons and stray lines: keep the polygons
    parts = shapely.get_parts(shapely.make_valid(geoms))
    polys = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
    out = shapely.union_all(polys) if len(polys) else shapely.Polygon()
    if what is not None and (out.is_empty or out.area == 0):
        kinds = ", ".join(sorted({g.geom_type for g in geoms if g is not None}))
        raise DataError(f"{what} holds no polygon with an area (it holds {kinds}): expected polygons")
    return out
