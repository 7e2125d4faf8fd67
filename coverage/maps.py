"""Reviewer maps (folium / Leaflet), with an offline mode for machines without internet.

:func:`reviewer_map` draws every result layer of a run on one map: roads as the base layer,
stations by class and status, isochrone bands, network districts, uncovered demand, proposed
sites, hydrants, hydrant gaps and proposals, the study area and districts. Each layer is one
``FeatureGroup`` with a bilingual name in the layer control; a legend (at most 280 px wide, with
a toggle button, collapsed from the start on narrow screens) and a scale bar are added. Popups
label every column in Chinese and English, format numbers by column (coordinates 6 decimals,
metres / seconds 0-1, km 2-3, shares as percentages), and leave out internal indexes.

Every user string (station names, ids ...) is HTML-escaped before it reaches the page, and the
layer data are embedded as JSON with ``<`` and ``>`` encoded, so a name cannot inject markup.
Points are drawn as Leaflet circle markers (no icon fonts).

Offline mode (the default) inlines Leaflet's JavaScript and CSS from an installed package
(PyPI ``django-js-lib-leaflet``, or ``node_modules/leaflet/dist`` from npm), drops every other
asset folium would link (jQuery, Bootstrap, Font Awesome ...), and uses the road network itself as
the base layer, so the saved HTML makes no network request at all. Online tiles are optional:
OpenStreetMap, or Tianditu with your key (CGCS2000, which matches WGS-84 at map scale). AMap /
Gaode tiles are GCJ-02 and are refused: overlays in WGS-84 would sit 100-700 m off the streets.
"""
from __future__ import annotations

import base64
import functools
import html
import importlib.util
import json
import math
import os
import re
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from .errors import DataError, InputError

__all__ = [
    "reviewer_map",
    "save_map",
    "map_html",
    "leaflet_assets",
    "STATION_CLASSES",
    "STATION_STATUSES",
    "LEAFLET_PACKAGE",
]

#: The PyPI package whose files are inlined in offline maps.
LEAFLET_PACKAGE = "django-js-lib-leaflet"

#: Station class -> (Chinese, English, fill colour, radius px).
STATION_CLASSES: Mapping[str, tuple[str, str, str, int]] = {
    "special": ("特勤站", "special service", "#99000d", 9),
    "class1": ("一级站", "class 1", "#e31a1c", 8),
    "class2": ("二级站", "class 2", "#fd8d3c", 7),
    "small": ("小型站", "small", "#fed976", 6),
    "logistics": ("战勤保障站", "logistics", "#6a51a3", 7),
    "water": ("水上站", "water", "#2171b5", 7),
    "metro": ("轨道交通站", "metro", "#238b45", 7),
}

#: Station status -> (Chinese, English, marker style).
STATION_STATUSES: Mapping[str, tuple[str, str, Mapping[str, Any]]] = {
    "existing": ("现有", "existing", {"color": "#000000", "weight": 2, "fillOpacity": 0.95}),
    "planned": ("规划", "planned", {"color": "#000000", "weight": 3, "dashArray": "4 3", "fillOpacity": 0.75}),
    "candidate": ("备选", "candidate", {"color": "#525252", "weight": 2, "dashArray": "1 3", "fillOpacity": 0.3}),
    "proposed": ("建议", "proposed", {"color": "#d4009b", "weight": 4, "fillOpacity": 0.9}),
}

#: Road classes -> (colour, line weight); link roads use their parent class.
ROAD_STYLES: Mapping[str, tuple[str, float]] = {
    "motorway": ("#cb181d", 3.0),
    "trunk": ("#ef3b2c", 2.6),
    "primary": ("#fb6a4a", 2.2),
    "secondary": ("#fd8d3c", 1.8),
    "tertiary": ("#8c6bb1", 1.4),
    "unclassified": ("#737373", 1.0),
    "residential": ("#969696", 1.0),
    "living_street": ("#bdbdbd", 0.8),
    "service": ("#bdbdbd", 0.7),
}
_ROAD_OTHER = ("#969696", 0.9)

#: Chinese names of the road classes for the legend.
_ROAD_ZH = {
    "motorway": "高速公路", "trunk": "快速路", "primary": "主干路", "secondary": "次干路",
    "tertiary": "支路", "unclassified": "其他道路", "residential": "居住区道路",
    "living_street": "生活街道", "service": "服务道路",
}

_BAND_COLOURS = ["#006d2c", "#31a354", "#74c476", "#bae4b3", "#edf8e9"]

#: Hydrant layers and proposed sites: hues no road class, station class or area uses (gaps in
#: cyan, not the orange of secondary roads; proposed hydrants a small navy ring, proposed sites
#: a large magenta ring).
_HYDRANT_COLOUR = ("#08519c", "#4292c6")  # outline, fill
_HYDRANT_PROPOSED_COLOUR = "#08306b"
_HYDRANT_GAP_COLOUR = "#00b4d8"
_CRANE_COLOUR = "#7f2704"  # dark brown: apart from roads, hydrants and proposed sites
_PROPOSED_SITE_COLOUR = "#d4009b"

_LANGS = ("zh+en", "zh", "en")

#: Drawing order independent of layer order: areas under roads (overlayPane, 400), then lines,
#: then points; all below Leaflet's marker (600), tooltip (650) and popup (700) panes.
_AREAS, _LINES, _POINTS = "covplanAreas", "covplanLines", "covplanPoints"
_PANES = {_AREAS: 350, _LINES: 410, _POINTS: 450}

#: AMap / Gaode / Tencent style tile names that are GCJ-02.
_GCJ_TILES = ("amap", "gaode", "autonavi", "tencent", "qq")


# --------------------------------------------------------------------------------------------
# Leaflet assets for offline maps


@functools.lru_cache(maxsize=4)
def _leaflet_assets_cached(cwd: str) -> tuple[str, str, str]:
    folder = _find_leaflet_dir(Path(cwd))
    if folder is None:
        raise DataError(
            "offline maps inline Leaflet from an installed copy, and none was found: install the "
            f"PyPI package '{LEAFLET_PACKAGE}' (pip install {LEAFLET_PACKAGE}) or the npm package "
            "'leaflet' (npm install leaflet, found in ./node_modules), or pass offline=False to "
            "load Leaflet from the internet"
        )
    js = (folder / "leaflet.js").read_text(encoding="utf-8")
    css = (folder / "leaflet.css").read_text(encoding="utf-8")

    def inline_image(match: re.Match) -> str:
        rel = match.group(1).strip("'\"")
        img = folder / rel
        if not img.is_file():
            return "none"  # never leave a relative URL the browser would try to fetch
        data = base64.b64encode(img.read_bytes()).decode("ascii")
        return f'url("data:image/png;base64,{data}")'

    css = re.sub(r"url\(\s*(['\"]?images/[^)'\"]+['\"]?)\s*\)", inline_image, css)
    return js, css, str(folder)


def leaflet_assets() -> tuple[str, str, str]:
    """Leaflet's ``(javascript, css, source folder)`` from an installed package.

    Looks in the PyPI package ``django-js-lib-leaflet`` first, then ``node_modules/leaflet/dist``
    in the working folder or any parent. Images referenced by the CSS are inlined as data URIs.
    Raises :class:`DataError` naming the package to install when neither is present.
    """
    return _leaflet_assets_cached(os.getcwd())


def _find_leaflet_dir(cwd: Path) -> Path | None:
    spec = importlib.util.find_spec("js_lib_leaflet")
    if spec is not None and spec.origin:
        folder = Path(spec.origin).parent / "static" / "js_lib_leaflet"
        if (folder / "leaflet.js").is_file() and (folder / "leaflet.css").is_file():
            return folder
    for base in (cwd, *cwd.parents):
        folder = base / "node_modules" / "leaflet" / "dist"
        if (folder / "leaflet.js").is_file() and (folder / "leaflet.css").is_file():
            return folder
    return None


# --------------------------------------------------------------------------------------------
# small folium elements of our own


def _raw_element(text: str):
    """A branca element that renders ``text`` verbatim (no Jinja parsing of the text itself)."""
    from branca.element import Element
    from jinja2 import Template

    el = Element()
    el._template = Template("{{ this.raw_text }}")
    el.raw_text = text
    return el


def _geojson_layer(features: list[dict], pane: str | None = None):
    """A MacroElement adding a GeoJSON FeatureCollection to its parent FeatureGroup.

    Each feature's ``properties`` hold ``s`` (Leaflet path style), ``p`` (popup HTML, already
    escaped) and ``t`` (tooltip HTML, already escaped); points become circle markers.
    """
    from branca.element import MacroElement
    from jinja2 import Template

    el = MacroElement()
    el._name = "CovplanGeoJson"
    el._template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var data = {{ this.data_js }};
            L.geoJSON(data, {
                {% if this.pane %}pane: {{ this.pane|tojson }},{% endif %}
                style: function (f) { return f.properties.s; },
                // markers take the layer's pane only when given it (Leaflet passes the pane to
                // the paths it builds itself, not to markers made here)
                pointToLayer: function (f, ll) {
                    return L.circleMarker(ll, Object.assign({}, f.properties.s
                        {%- if this.pane %}, {pane: {{ this.pane|tojson }}}{% endif %}));
                },
                onEachFeature: function (f, layer) {
                    if (f.properties.p) { layer.bindPopup(f.properties.p, {maxWidth: 360}); }
                    if (f.properties.t) { layer.bindTooltip(f.properties.t, {sticky: true}); }
                }
            }).addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )
    el.data_js = _safe_json({"type": "FeatureCollection", "features": features})
    el.pane = pane
    return el


def _safe_json(obj: Any) -> str:
    """JSON safe to place inside a ``<script>``: ``<``, ``>`` (and line separators) encoded."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        text.replace("<", "\\u003c").replace(">", "\\u003e")
        .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    )


# --------------------------------------------------------------------------------------------
# helpers


class _Text:
    def __init__(self, lang: str):
        if lang not in _LANGS:
            raise InputError(f"map lang {lang!r} is not supported: expected one of {list(_LANGS)}")
        self.lang = lang

    def __call__(self, zh: str, en: str) -> str:
        if self.lang == "zh":
            return zh
        if self.lang == "en":
            return en
        return f"{zh} {en}"


def _plain_number(v: float) -> str:
    """A float with about 3 significant digits, never in exponent notation; noise is 0."""
    a = abs(v)
    if a < 1e-6:
        return "0"
    if a >= 100:
        return f"{v:,.0f}"
    decimals = max(0, 2 - math.floor(math.log10(a)))
    text = f"{v:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _fixed(v: float, decimals: int, noise: float) -> str:
    """``v`` with at most ``decimals`` decimals (trailing zeros dropped); below ``noise``, 0."""
    if abs(v) < noise:
        return "0"
    text = f"{v:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


_COORD_COLUMNS = {"lon", "lat", "longitude", "latitude", "x", "y"}


def _fmt(col: str, value: Any) -> str:
    """Display text (not escaped) of a popup value, formatted by its column name.

    Coordinates get 6 decimals (~0.1 m), metres and seconds 0-1 decimals, km and km² 2-3,
    ``*_share`` a percentage; floating noise (``2e-10`` m) shows as 0.
    """
    if isinstance(value, (bool, np.bool_)):
        return "是 yes" if value else "否 no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if not isinstance(value, (float, np.floating)):
        return "" if value is None else str(value)
    v = float(value)
    if not math.isfinite(v):
        return "-"
    c = col.lower()
    if c in _COORD_COLUMNS:
        return f"{v:.6f}"
    if c == "share" or c.endswith("_share"):
        pct = 100.0 * v
        return _fixed(pct, 2 if abs(pct) < 10 else 1, 0.005) + " %"
    if c in ("km", "km2") or c.endswith(("_km", "_km2")):
        return _fixed(v, 3 if abs(v) < 10 else 2, 0.0005)
    if c in ("m", "s") or c.endswith(("_m", "_s")):
        return _fixed(v, 1 if abs(v) < 100 else 0, 0.05)
    return _plain_number(v)


def _as_float(value: Any) -> float:
    """``value`` as a number, NaN where it is none."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _present(value: Any) -> bool:
    """A value worth showing: not None, NaN or blank text."""
    if value is None or (isinstance(value, (float, np.floating)) and not math.isfinite(float(value))):
        return False
    return bool(str(value).strip())


def _esc(value: Any) -> str:
    if value is None:
        return ""
    return html.escape(_fmt("", value), quote=True)


def _popup(title: str, rows: Iterable[tuple[str, Any]]) -> str:
    """Popup HTML; ``title`` and every value are escaped here, labels are our own text."""
    body = "".join(
        f"<tr><th style='text-align:left;padding-right:6px'>{html.escape(k)}</th><td>{_esc(v)}</td></tr>"
        for k, v in rows
        if v is not None and not (isinstance(v, float) and math.isnan(v))
    )
    return f"<b>{_esc(title)}</b><table style='font-size:12px'>{body}</table>"


def _to_wgs84(gdf, layer: str):
    """A WGS-84 copy of a GeoDataFrame, empty / null geometries dropped."""
    import geopandas as gpd

    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(
            f"map layer {layer!r} is a {type(gdf).__name__}: expected a GeoDataFrame"
        )
    if gdf.crs is None:
        raise InputError(
            f"map layer {layer!r} has no CRS: expected a GeoDataFrame with its CRS set "
            "(e.g. gdf.set_crs(4326) for lon/lat)"
        )
    out = gdf.to_crs(4326) if not gdf.crs.equals(gdf.crs.from_epsg(4326)) else gdf.copy()
    import shapely

    geoms = out.geometry.to_numpy()  # shapely directly: GeoSeries.notna() warns about empties
    return out[~(shapely.is_missing(geoms) | shapely.is_empty(geoms))]


def _geom_json(geoms) -> list[dict]:
    """GeoJSON geometry dicts, coordinates rounded to 1e-6 degrees (~0.1 m)."""
    import shapely

    arr = np.asarray(list(geoms), dtype=object)
    if len(arr) == 0:
        return []
    rounded = shapely.transform(arr, lambda c: np.round(c, 6))
    return [json.loads(s) for s in shapely.to_geojson(rounded)]


def _require_columns(gdf, layer: str, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        raise InputError(
            f"map layer {layer!r} lacks column(s) {missing}: expected columns {list(columns)} "
            f"(has {[c for c in gdf.columns if c != gdf.geometry.name]})"
        )


def _check_values(gdf, layer: str, column: str, allowed: Iterable[str]) -> None:
    allowed = list(allowed)
    bad = sorted({str(v) for v in gdf[column].dropna().unique() if str(v) not in allowed})
    if bad or gdf[column].isna().any():
        shown = bad + (["<missing>"] if gdf[column].isna().any() else [])
        raise InputError(
            f"map layer {layer!r} column {column!r} has value(s) {shown}: expected one of {allowed}"
        )


#: Columns that are the program's own bookkeeping (row and edge indexes, node pairs, the
#: band-local origin index, the horizon band of districts): never shown in a popup.
_INTERNAL = {"edge", "fraction", "station_row", "u", "v", "road", "origin", "geometry", "unit"}
#: Columns where -1 means "none".
_NONE_IF_NEGATIVE = {"node", "candidate", "road", "edge"}


def _shown(col: str, value: Any) -> bool:
    if col in _INTERNAL or col.startswith("_") or value is None:
        return False
    if isinstance(value, (float, np.floating)) and math.isnan(float(value)):
        return False
    if isinstance(value, str) and not value.strip():
        return False
    if col in _NONE_IF_NEGATIVE and isinstance(value, (int, float, np.integer, np.floating)) \
            and not isinstance(value, (bool, np.bool_)) and value < 0:
        return False
    return True


def _fields(row, skip: Iterable[str], t: "_Text") -> list[tuple[str, str]]:
    """``(label, display text)`` of a row's user-facing columns, formatted by column."""
    skip = set(skip)
    out = []
    for k, v in row.items():
        k = str(k)
        if k in skip or not _shown(k, v):
            continue
        if k == "class" and str(v) in STATION_CLASSES:
            zh, en = STATION_CLASSES[str(v)][:2]
            out.append((_label(k, t), t(zh, en)))
            continue
        out.append((_label(k, t), _fmt(k, v)))
    return out


_LABELS = {
    "adds_weight": ("新增覆盖需求", "adds demand"),
    "adds_km2": ("新增覆盖面积 km²", "adds area km²"),
    "adds_km": ("新增覆盖道路 km", "adds road km"),
    "adds_share": ("新增覆盖比例", "adds share"),
    "unique_weight": ("独有覆盖需求", "demand only it covers"),
    "adds_twice_weight": ("新增双重覆盖需求", "adds demand covered twice"),
    "adds_twice_share": ("新增双重覆盖比例", "adds share covered twice"),
    "saves_mean_s": ("平均行车时间减少 s", "cuts mean drive time s"),
    "newly_protected_m": ("新增保护道路 m", "newly protects m"),
    "protects_m": ("保护范围内缺口 m", "gap within reach m"),
    "unique_m": ("独有保护道路 m", "only it protects m"),
    "rank": ("排序", "rank"),
    "weight": ("需求权重", "demand weight"),
    "area_km2": ("面积 km²", "area km²"),
    "cap_km2": ("面积上限 km²", "area cap km²"),
    "over_cap": ("超过上限", "over cap"),
    "origin": ("消防站", "station"),
    "band_s": ("时间 s", "time s"),
    "length_m": ("长度 m", "length m"),
    "class": ("类别", "class"),
    "status": ("状态", "status"),
    "name": ("名称", "name"),
    "id": ("编号", "id"),
    "label": ("标识", "label"),
    "kind": ("类型", "kind"),
    "subtype": ("子类型", "subtype"),
    "district": ("行政区", "district"),
    "plan_text": ("规划位置", "planned location"),
    "method": ("定位方式", "located by"),
    "lon": ("经度", "lon"),
    "lat": ("纬度", "lat"),
    "moved_m": ("定位移动 m", "moved m"),
    "warnings": ("提示", "warnings"),
    "snapped": ("已接入道路", "snapped to road"),
    "distance_m": ("距道路 m", "distance to road m"),
    "position_m": ("沿路位置 m", "position along road m"),
    "side": ("道路侧", "road side"),
    "at_crossing": ("位于路口", "at a crossing"),
    "duplicate_of": ("重复于", "duplicate of"),
    "site": ("位置类型", "site type"),
    "node": ("道路节点", "road node"),
    "start_m": ("起点 m", "from m"),
    "end_m": ("终点 m", "to m"),
    "highway": ("道路等级", "road class"),
    "candidate": ("备选点编号", "candidate no."),
    "road_km": ("道路长度 km", "road km"),
    "km": ("道路长度 km", "road km"),
    "units": ("需求单元数", "demand units"),
    "travel_budget_s": ("行车时间标准 s", "drive budget s"),
    "reach_km2": ("可达面积 km²", "reach area km²"),
    "reach_road_km": ("可达道路 km", "reach road km"),
    "demand_reached": ("到达需求", "demand reached"),
    "demand_reached_share": ("到达需求比例", "share of demand reached"),
    "district_km2": ("辖区面积 km²", "district area km²"),
    "response_s": ("响应时间 s", "response time s"),
    "access_m": ("接入距离 m", "access distance m"),
    "nearest_station": ("最先到达消防站", "first station to arrive (any standard)"),
    "covered_by": ("覆盖消防站", "covered by (first within its own standard)"),
    "covered_by_response_s": ("覆盖响应时间 s", "covering response s"),
}


def _label(col: str, t: _Text) -> str:
    if col in _LABELS:
        zh, en = _LABELS[col]
        return t(zh, en)
    return col


def _features(gdf, styles, popups, tips) -> list[dict]:
    geoms = _geom_json(gdf.geometry)
    return [
        {"type": "Feature", "geometry": g, "properties": {"s": s, "p": p, "t": tt}}
        for g, s, p, tt in zip(geoms, styles, popups, tips)
    ]


# --------------------------------------------------------------------------------------------
# the map


def reviewer_map(
    *,
    network=None,
    area=None,
    districts=None,
    stations=None,
    isochrones=None,
    network_districts=None,
    uncovered=None,
    proposed=None,
    hydrants=None,
    hydrant_gaps=None,
    hydrant_proposals=None,
    water_cranes=None,
    standard=None,
    title: str = "",
    lang: str = "zh+en",
    offline: bool = True,
    tiles: str | tuple[str, str] | None = None,
):
    """Build a reviewer map of a run; every layer is optional.

    Parameters
    ----------
    network
        A :class:`~coverage.network.RoadNetwork`: roads drawn thin, coloured by class (the base
        layer in offline mode).
    area, districts
        Study area and administrative districts (polygons; ``districts`` may have ``name``).
    stations
        Points with ``id``, ``class`` (special/class1/class2/small/logistics/water/metro),
        ``status`` (existing/planned/candidate/proposed) and optionally ``name``.
    isochrones
        Polygons with ``band_s`` (and ``origin``); each band value gets its own colour.
    network_districts
        Split-mode districts with ``origin``, ``area_km2``, ``cap_km2``, ``over_cap``.
    uncovered
        Demand geometries not reached within the standard.
    proposed
        Proposed sites; every column (``adds_weight``, ``adds_km2``, ``rank`` ...) is in the popup.
    hydrants, hydrant_gaps, hydrant_proposals, water_cranes
        Hydrant points, road pieces out of hydrant reach, proposed hydrant points, proposed
        water cranes for high-risk areas.
    standard
        The run summary's ``standard`` dict (``turnout_s``, ``travel_s``, ``class_travel_s``):
        the uncovered layer then says which standard was missed (turnout + each class's driving
        budget, naming the classes of the existing / planned ``stations``).
    title
        Shown at the top of the map (escaped).
    lang
        ``"zh+en"`` (default), ``"zh"`` or ``"en"`` for labels, layer names and the legend.
    offline
        Inline Leaflet from an installed package and link nothing external (default).
    tiles
        ``None`` (default), ``"osm"`` or ``("tianditu", key)``. In offline mode a tile layer is
        added switched off, so the page still opens without internet. ``"amap"``/``"gaode"`` are
        refused (GCJ-02 tiles).

    Returns
    -------
    folium.Map
        Any CRS in; everything is drawn in WGS-84. Save with :func:`save_map`.
    """
    import folium

    t = _Text(lang)
    tile_layers = _tile_layers(tiles, t)

    # SVG (not canvas): each pane gets its own SVG and pointer events reach every layer
    m = folium.Map(location=[0, 0], zoom_start=2, tiles=None, control_scale=True)
    for pane, z in _PANES.items():
        folium.map.CustomPane(pane, z_index=z, pointer_events=True).add_to(m)
    if offline:
        js, css, _ = leaflet_assets()
        # instance attributes: never touch folium's class-level lists
        m.default_js = []
        m.default_css = []
        root = m.get_root()
        root.header.add_child(_raw_element(f"<style>{css}</style>"), name="leaflet_css")
        root.header.add_child(_raw_element(f"<script>{js}</script>"), name="leaflet")
    m.get_root().header.add_child(
        _raw_element("<style>.leaflet-container{background:#f6f6f2}</style>"), name="covplan_bg"
    )
    m._covplan_offline = bool(offline)  # read by map_html / save_map

    for i, layer in enumerate(tile_layers):
        layer.show = (not offline) and i == 0
        layer.add_to(m)

    bounds: list[np.ndarray] = []
    legend_sections: list[str] = []

    def group(zh: str, en: str, *, show: bool = True):
        return folium.FeatureGroup(name=t(zh, en), show=show).add_to(m)

    def note_bounds(gdf):
        if len(gdf):
            bounds.append(np.asarray(gdf.total_bounds, dtype=float))

    # station names by id, so reach areas and districts name their station, not a list position
    names_by_id: dict[str, str] = {}
    if stations is not None and "id" in stations.columns and "name" in stations.columns:
        for sid, sname in zip(stations["id"], stations["name"]):
            if isinstance(sname, str) and sname.strip():
                names_by_id[str(sid)] = sname

    def station_of(row) -> str:
        """The station of a reach / district row: its id (``id``, else ``label``, else
        ``origin``), with the station's name when the stations layer has one."""
        key = ""
        for c in ("id", "label", "origin"):
            v = row[c] if c in row.index else None
            if v is not None and not (isinstance(v, float) and math.isnan(v)) and str(v).strip():
                key = str(v)
                break
        if not key:
            return ""
        name = names_by_id.get(key)
        return f"{name} ({key})" if name and name != key else key

    # roads -------------------------------------------------------------------------------
    if network is not None:
        roads, classes = _road_layer(network)
        note_bounds(roads)
        if len(roads):
            fg = group("道路", "Roads")
            styles = []
            for cls in roads["cls"]:
                colour, weight = ROAD_STYLES.get(cls, _ROAD_OTHER)
                styles.append({"color": colour, "weight": weight, "opacity": 0.9})
            tips = [html.escape(f"{t('道路等级', 'road class')}: {c}") for c in roads["cls"]]
            _geojson_layer(_features(roads, styles, [None] * len(roads), tips)).add_to(fg)
            rows = "".join(
                _legend_line(ROAD_STYLES.get(c, _ROAD_OTHER)[0], t(_ROAD_ZH[c], c), kind="line")
                for c in classes if c in ROAD_STYLES
            )
            legend_sections.append(f"<div><b>{t('道路', 'Roads')}</b>{rows}</div>")

    # area and districts -----------------------------------------------------------------
    if area is not None:
        g = _to_wgs84(area, "area")
        note_bounds(g)
        fg = group("研究范围", "Study area")
        style = {"color": "#252525", "weight": 2.5, "dashArray": "8 4", "fill": False}
        _geojson_layer(_features(g, [style] * len(g), [None] * len(g),
                                 [t("研究范围", "study area")] * len(g)), pane=_AREAS).add_to(fg)
    if districts is not None:
        g = _to_wgs84(districts, "districts")
        note_bounds(g)
        fg = group("行政区", "Districts")
        name_col = next((c for c in ("name", "name:zh", "名称", "district") if c in g.columns), None)
        names = [str(v) for v in g[name_col]] if name_col else [""] * len(g)
        style = {"color": "#636363", "weight": 1.5, "fill": True, "fillOpacity": 0.02}
        tips = [_esc(n) if n else None for n in names]
        _geojson_layer(_features(g, [style] * len(g), [None] * len(g), tips), pane=_AREAS).add_to(fg)

    # isochrones -------------------------------------------------------------------------
    if isochrones is not None:
        g = _to_wgs84(isochrones, "isochrones")
        _require_columns(g, "isochrones", ["band_s"])
        band = np.array([_as_float(v) for v in g["band_s"]], float)
        if not np.isfinite(band).all():
            i = int(np.flatnonzero(~np.isfinite(band))[0])
            v = g["band_s"].iloc[i]
            shown = repr(v) if isinstance(v, str) else str(v)
            raise InputError(f"isochrones row {g.index[i]!r} has band_s {shown}: expected "
                             "the seconds of its time band (a finite number)")
        note_bounds(g)
        bands = sorted({float(b) for b in g["band_s"].dropna()})
        colour = {b: _BAND_COLOURS[min(i, len(_BAND_COLOURS) - 1)] for i, b in enumerate(bands)}
        g = g.assign(_b=g["band_s"].astype(float)).sort_values("_b", ascending=False)
        fg = group("等时圈", "Isochrones")
        styles = [{"color": colour[b], "weight": 1, "fillColor": colour[b], "fillOpacity": 0.35}
                  for b in g["_b"]]
        drive = t("行车", "drive")
        tips = []
        for _, row in g.iterrows():
            who, b = station_of(row), float(row["_b"])
            tips.append(_esc(f"{t('消防站', 'station')} {who}: {drive} ≤ {b / 60:g} min" if who
                             else f"{drive} ≤ {b / 60:g} min"))
        _geojson_layer(_features(g, styles, [None] * len(g), tips), pane=_AREAS).add_to(fg)
        rows = "".join(_legend_line(colour[b], f"{drive} ≤ {b / 60:g} min ({b:g} s)", kind="box")
                       for b in bands)
        legend_sections.append(f"<div><b>{t('等时圈', 'Isochrones')}</b>{rows}</div>")

    # network districts ------------------------------------------------------------------
    if network_districts is not None:
        g = _to_wgs84(network_districts, "network_districts")
        _require_columns(g, "network_districts", ["origin", "area_km2", "cap_km2", "over_cap"])
        note_bounds(g)
        fg = group("辖区", "Station districts")
        styles, popups, tips = [], [], []
        for _, row in g.iterrows():
            over = bool(row["over_cap"])
            colour = "#e31a1c" if over else "#3182bd"
            styles.append({"color": colour, "weight": 2 if over else 1.2, "fillColor": colour,
                           "fillOpacity": 0.12})
            who = station_of(row)
            # band_s of a district is the search horizon, not the standard: left out
            skip = {g.geometry.name, "band_s", "label"} if "id" in g.columns else {g.geometry.name, "band_s"}
            popups.append(_popup(f"{t('辖区', 'District')} {who}", _fields(row, skip, t)))
            tips.append(_esc(f"{t('辖区', 'district')} {who}: {_fmt('area_km2', float(row['area_km2']))} / "
                             f"{_fmt('cap_km2', float(row['cap_km2']))} km²"))
        _geojson_layer(_features(g, styles, popups, tips), pane=_AREAS).add_to(fg)
        legend_sections.append(
            f"<div><b>{t('辖区', 'Station districts')}</b>"
            + _legend_line("#3182bd", t("面积达标", "within cap"), kind="box")
            + _legend_line("#e31a1c", t("超过面积上限", "over area cap"), kind="box") + "</div>"
        )

    # uncovered demand -------------------------------------------------------------------
    if uncovered is not None:
        g = _to_wgs84(uncovered, "uncovered")
        note_bounds(g)
        fg = group("未覆盖", "Uncovered")
        style = {"color": "#e7298a", "weight": 3, "radius": 3, "fillColor": "#e7298a",
                 "fillOpacity": 0.5, "opacity": 0.9}
        from .report import standard_label

        classes = None
        if stations is not None and "class" in stations.columns:
            st = stations[stations["status"].isin(["existing", "planned"])] if "status" in stations.columns else stations
            classes = [str(c) for c in st["class"].dropna().unique()]
        label = standard_label(standard, classes)
        missed = t("按标准未到达", "not reached within the standard") + (f" ({label})" if label else "")
        tips = [_esc(missed)] * len(g)
        _geojson_layer(_features(g, [style] * len(g), [None] * len(g), tips), pane=_LINES).add_to(fg)
        legend_sections.append(f"<div><b>{t('未覆盖', 'Uncovered')}</b>"
                               + _legend_line("#e7298a", t("未覆盖需求", "uncovered demand") + ": " + missed,
                                              kind="line") + "</div>")

    # hydrant gaps, hydrants, proposals -------------------------------------------------
    if hydrant_gaps is not None:
        g = _to_wgs84(hydrant_gaps, "hydrant_gaps")
        note_bounds(g)
        fg = group("消火栓缺口", "Hydrant gaps")
        style = {"color": _HYDRANT_GAP_COLOUR, "weight": 3, "dashArray": "6 4", "opacity": 0.9}
        popups = [_popup(t("消火栓缺口", "Hydrant gap"),
                         _fields(r, {g.geometry.name}, t))
                  for _, r in g.iterrows()]
        tips = [t("超出消火栓保护范围", "beyond hydrant reach")] * len(g)
        _geojson_layer(_features(g, [style] * len(g), popups, tips), pane=_LINES).add_to(fg)
    def point_layer(data, name: str, layer: tuple[str, str], one: tuple[str, str], style: dict) -> None:
        """Points with one style, each with a popup of its fields (titled ``one``), as a layer."""
        g = _to_wgs84(data, name)
        note_bounds(g)
        fg = group(*layer)
        popups = [_popup(t(*one), _fields(r, {g.geometry.name}, t)) for _, r in g.iterrows()]
        _geojson_layer(_features(g, [style] * len(g), popups, [None] * len(g)), pane=_POINTS).add_to(fg)

    if hydrants is not None:
        point_layer(hydrants, "hydrants", ("消火栓", "Hydrants"), ("消火栓", "Hydrant"),
                    {"color": _HYDRANT_COLOUR[0], "weight": 1, "radius": 3, "fillColor": _HYDRANT_COLOUR[1],
                     "fillOpacity": 0.9})
    if hydrant_proposals is not None:
        point_layer(hydrant_proposals, "hydrant_proposals", ("建议消火栓", "Proposed hydrants"),
                    ("建议消火栓", "Proposed hydrant"),
                    {"color": _HYDRANT_PROPOSED_COLOUR, "weight": 2.5, "radius": 4, "fillColor": "#ffffff",
                     "fillOpacity": 0.9})
    if water_cranes is not None:
        point_layer(water_cranes, "water_cranes", ("建议消防水鹤", "Proposed water cranes"),
                    ("建议消防水鹤", "Proposed water crane"),
                    {"color": _CRANE_COLOUR, "weight": 3, "radius": 6, "fillColor": "#ffffff", "fillOpacity": 0.9})
    if any(x is not None for x in (hydrants, hydrant_gaps, hydrant_proposals, water_cranes)):
        legend_sections.append(
            f"<div><b>{t('消火栓', 'Hydrants')}</b>"
            + (_legend_line(_HYDRANT_COLOUR[1], t("现有", "existing"), kind="dot", edge=_HYDRANT_COLOUR[0])
               if hydrants is not None else "")
            + (_legend_line(_HYDRANT_PROPOSED_COLOUR, t("建议", "proposed"), kind="small-ring")
               if hydrant_proposals is not None else "")
            + (_legend_line(_HYDRANT_GAP_COLOUR, t("超出保护范围", "gap"), kind="dash")
               if hydrant_gaps is not None else "")
            + (_legend_line(_CRANE_COLOUR, t("建议消防水鹤", "proposed water crane"), kind="small-ring")
               if water_cranes is not None else "")
            + "</div>"
        )

    # stations ---------------------------------------------------------------------------
    if stations is not None:
        g = _to_wgs84(stations, "stations")
        _require_columns(g, "stations", ["id", "class", "status"])
        _check_values(g, "stations", "class", STATION_CLASSES)
        _check_values(g, "stations", "status", STATION_STATUSES)
        note_bounds(g)
        fg = group("消防站", "Stations")
        styles, popups, tips = [], [], []
        for _, row in g.iterrows():
            czh, cen, fill, radius = STATION_CLASSES[str(row["class"])]
            szh, sen, sstyle = STATION_STATUSES[str(row["status"])]
            styles.append({"radius": radius, "fillColor": fill, **sstyle})
            name = row["name"] if "name" in g.columns and isinstance(row["name"], str) and row["name"] else row["id"]
            rows = [(t("编号", "id"), row["id"]), (t("类别", "class"), t(czh, cen)),
                    (t("状态", "status"), t(szh, sen))]
            rows += _fields(row, {g.geometry.name, "id", "name", "class", "status"}, t)
            popups.append(_popup(str(name), rows))
            tips.append(f"{_esc(name)} ({html.escape(t(czh, cen))}, {html.escape(t(szh, sen))})")
        _geojson_layer(_features(g, styles, popups, tips), pane=_POINTS).add_to(fg)
        present_classes = [c for c in STATION_CLASSES if c in set(g["class"].astype(str))]
        present_status = [s for s in STATION_STATUSES if s in set(g["status"].astype(str))]
        rows = "".join(
            _legend_line(STATION_CLASSES[c][2], t(STATION_CLASSES[c][0], STATION_CLASSES[c][1]), kind="dot")
            for c in present_classes
        )
        rows += "".join(
            _legend_status(STATION_STATUSES[s][2], t(STATION_STATUSES[s][0], STATION_STATUSES[s][1]))
            for s in present_status
        )
        legend_sections.insert(0, f"<div><b>{t('消防站', 'Stations')}</b>{rows}</div>")

    # proposed sites ---------------------------------------------------------------------
    if proposed is not None:
        g = _to_wgs84(proposed, "proposed")
        note_bounds(g)
        if "rank" in g.columns:
            g = g.sort_values("rank", ascending=False)  # best ranked drawn on top
        fg = group("建议站址", "Proposed sites")
        style = {"radius": 8, "color": _PROPOSED_SITE_COLOUR, "weight": 4, "fillColor": "#ffffff",
                 "fillOpacity": 0.9}
        popups, tips = [], []
        for _, row in g.iterrows():
            label = next((str(row[c]).strip() for c in ("name", "id") if c in g.columns
                          and _present(row[c])), "")
            rank = f"#{_fmt('rank', row['rank'])} " if "rank" in g.columns and _present(row["rank"]) else ""
            title_txt = f"{t('建议站址', 'Proposed site')} {rank}{label}".strip()
            popups.append(_popup(title_txt, _fields(row, {g.geometry.name}, t)))
            adds = [f"{_label(k, t)} {_fmt(k, row[k])}" for k in ("adds_weight", "adds_km2", "adds_km")
                    if k in g.columns]
            tips.append(_esc(title_txt) + ("<br>" + html.escape(", ".join(adds)) if adds else ""))
        _geojson_layer(_features(g, [style] * len(g), popups, tips), pane=_POINTS).add_to(fg)
        legend_sections.append(f"<div><b>{t('建议站址', 'Proposed sites')}</b>"
                               + _legend_line(_PROPOSED_SITE_COLOUR, t("建议站址", "proposed site"), kind="ring")
                               + "</div>")

    # bounds, controls, legend, title ----------------------------------------------------
    if bounds:
        b = np.vstack(bounds)
        w, s, e, n = b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max()
        if np.all(np.isfinite([w, s, e, n])):
            m.location = [float((s + n) / 2), float((w + e) / 2)]
            m.fit_bounds([[float(s), float(w)], [float(n), float(e)]])
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    if legend_sections:
        m.get_root().html.add_child(_raw_element(_legend_html(t, legend_sections)), name="covplan_legend")
    if title:
        m.get_root().html.add_child(
            _raw_element(
                "<div class='covplan-title' style='position:fixed;top:10px;left:60px;z-index:1000;"
                "background:rgba(255,255,255,.9);padding:4px 10px;border-radius:4px;"
                f"font:bold 15px sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)'>{_esc(title)}</div>"
            ),
            name="covplan_title",
        )
    return m


def _road_layer(network):
    """Roads as one MultiLineString per class in WGS-84 (each two-way road drawn once)."""
    import geopandas as gpd
    import shapely

    n = int(network.n_edges)
    if n == 0:
        return gpd.GeoDataFrame({"cls": []}, geometry=[], crs=4326), []
    idx = np.arange(n)
    rev = np.asarray(network.edge_reverse)
    keep = (rev < 0) | (idx < rev)
    cls = np.array([str(h).replace("_link", "") for h in np.asarray(network.edge_highway)[keep]], dtype=object)
    geoms = np.asarray(network.edge_geometry, dtype=object)[keep]
    order = list(ROAD_STYLES)
    classes = sorted(set(cls), key=lambda c: (order.index(c) if c in order else len(order), c))
    # draw minor roads first so main roads are on top
    parts = []
    for c in reversed(classes):
        lines = geoms[cls == c]
        parts.append((c, shapely.multilinestrings(lines.tolist())))
    roads = gpd.GeoDataFrame({"cls": [c for c, _ in parts]}, geometry=[g for _, g in parts],
                             crs=network.crs).to_crs(4326)
    return roads, classes


def _legend_row(swatch_style: str, text: str) -> str:
    """One legend entry: the swatch centred in a fixed 18 px column, the text wrapping beside it."""
    return (f"<div class='covplan-legend-row'><span class='covplan-sw'><span style='{swatch_style}'>"
            f"</span></span><span>{html.escape(text)}</span></div>")


def _legend_line(colour: str, text: str, *, kind: str, edge: str = "#000") -> str:
    shapes = {
        "line": f"width:18px;height:0;border-top:3px solid {colour}",
        "dash": f"width:18px;height:0;border-top:3px dashed {colour}",
        "box": f"width:14px;height:10px;background:{colour};opacity:.7;border:1px solid {colour}",
        "dot": f"width:9px;height:9px;border-radius:50%;background:{colour};border:1px solid {edge}",
        "ring": f"width:7px;height:7px;border-radius:50%;background:#fff;border:3px solid {colour}",
        "small-ring": f"width:5px;height:5px;border-radius:50%;background:#fff;border:2px solid {colour}",
    }
    return _legend_row(shapes[kind], text)


def _legend_status(style: Mapping[str, Any], text: str) -> str:
    dash = "dashed" if "dashArray" in style else "solid"
    if style.get("dashArray", "").startswith("1 "):
        dash = "dotted"
    swatch = (f"width:9px;height:9px;border-radius:50%;background:#bbb;"
              f"opacity:{0.3 + 0.7 * float(style.get('fillOpacity', 1)):.2f};"
              f"border:{max(int(style.get('weight', 1)), 1)}px {dash} {style['color']}")
    return _legend_row(swatch, text)


#: Legend width cap (px): long lines wrap instead of widening the box over the map.
LEGEND_MAX_WIDTH_PX = 280
#: Below this viewport width or height (px) the legend starts collapsed.
LEGEND_COLLAPSE_BELOW = (700, 500)

_LEGEND_CSS = (
    "<style>"
    ".covplan-legend{position:fixed;bottom:60px;left:10px;z-index:1000;box-sizing:border-box;"
    f"max-width:{LEGEND_MAX_WIDTH_PX}px;max-height:calc(100% - 130px);overflow:auto;"
    "background:rgba(255,255,255,.93);padding:4px 8px;border-radius:4px;font:11px/1.3 sans-serif;"
    "box-shadow:0 1px 4px rgba(0,0,0,.3);overflow-wrap:anywhere}"
    ".covplan-legend-toggle{display:block;width:100%;margin:0;padding:2px 0;border:0;background:none;"
    "font:bold 12px sans-serif;text-align:left;cursor:pointer;color:#222}"
    ".covplan-legend-toggle::after{content:' \\25BE';font-weight:normal}"
    ".covplan-legend.covplan-collapsed .covplan-legend-toggle::after{content:' \\25B8'}"
    ".covplan-legend.covplan-collapsed .covplan-legend-body{display:none}"
    ".covplan-legend-body>div>b{display:block;margin-top:3px}"
    ".covplan-legend-row{display:flex;align-items:flex-start;gap:5px;margin:1px 0}"
    ".covplan-sw{flex:none;width:18px;height:14px;display:flex;align-items:center;justify-content:center}"
    ".covplan-sw>span{display:block;box-sizing:content-box}"
    "</style>"
)

_LEGEND_JS = (
    "<script>(function () {"
    "var box = document.getElementById('covplan-legend');"
    "if (!box) { return; }"
    "var btn = box.querySelector('.covplan-legend-toggle');"
    "function show(open) {"
    " box.classList.toggle('covplan-collapsed', !open);"
    " btn.setAttribute('aria-expanded', open ? 'true' : 'false'); }"
    f"show(!(window.innerWidth < {LEGEND_COLLAPSE_BELOW[0]} || window.innerHeight < {LEGEND_COLLAPSE_BELOW[1]}));"
    "btn.addEventListener('click', function (e) {"
    " e.stopPropagation(); show(box.classList.contains('covplan-collapsed')); });"
    "})();</script>"
)


def _legend_html(t: _Text, sections: list[str]) -> str:
    """The legend: at most LEGEND_MAX_WIDTH_PX wide, long lines wrapped, a toggle button to
    collapse it (collapsed from the start on narrow / low viewports); plain inline script."""
    title = html.escape(t("图例", "Legend"))
    hint = html.escape(t("显示/隐藏图例", "show / hide the legend"))
    return (
        _LEGEND_CSS
        + "<div class='covplan-legend' id='covplan-legend'>"
        f"<button type='button' class='covplan-legend-toggle' aria-expanded='true' "
        f"aria-controls='covplan-legend-body' title='{hint}'>{title}</button>"
        "<div class='covplan-legend-body' id='covplan-legend-body'>"
        + "".join(sections) + "</div></div>"
        + _LEGEND_JS
    )


def _tile_layers(tiles, t: _Text) -> list:
    import folium

    if tiles is None:
        return []
    if isinstance(tiles, str) and tiles.lower() in ("osm", "openstreetmap"):
        return [folium.TileLayer(
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            attr="&copy; OpenStreetMap contributors", name=t("OSM 底图", "OSM tiles"),
            overlay=False, max_zoom=19,
        )]
    kind = tiles[0] if isinstance(tiles, (tuple, list)) and tiles else tiles
    if isinstance(kind, str) and kind.lower() in _GCJ_TILES:
        raise InputError(
            f"tiles {kind!r} are in GCJ-02 (the Chinese offset datum): WGS-84 overlays would sit "
            "100-700 m off the streets; use 'osm' or ('tianditu', key) instead"
        )
    if isinstance(tiles, (tuple, list)) and len(tiles) == 2 and str(tiles[0]).lower() == "tianditu":
        key = tiles[1]
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z0-9]+", key or ""):
            raise InputError(
                f"Tianditu key {key!r} is not valid: expected the alphanumeric key from your "
                "Tianditu developer account"
            )
        def wmts(layer: str) -> str:
            return (f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile"
                    f"&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
                    f"&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}")
        attr = "&copy; 天地图 Tianditu"
        base = folium.TileLayer(wmts("vec"), attr=attr, name=t("天地图", "Tianditu"), overlay=False,
                                subdomains="01234567", max_zoom=18)
        return [base]
    raise InputError(
        f"tiles {tiles!r} not understood: expected None, 'osm' or ('tianditu', key)"
    )


# --------------------------------------------------------------------------------------------
# output

_EXTERNAL_ASSET = re.compile(
    r"""(?:<script[^>]+src\s*=\s*["']?|<link[^>]+href\s*=\s*["']?|url\(\s*["']?|@import\s+["']?)"""
    r"""(?:https?:)?//""",
    re.IGNORECASE,
)


def map_html(m) -> str:
    """The complete HTML page of a map; offline maps are checked to link no external asset."""
    page = m.get_root().render()
    if getattr(m, "_covplan_offline", False):
        js, css, _ = leaflet_assets()
        rest = page.replace(js, "").replace(css, "")
        hit = _EXTERNAL_ASSET.search(rest)
        if hit:
            snippet = rest[hit.start(): hit.start() + 120]
            raise DataError(
                f"offline map would load an external asset ({snippet!r}); something added to the "
                "map after reviewer_map() needs the internet: remove it or use offline=False"
            )
    return page


def save_map(m, path: str | os.PathLike) -> Path:
    """Write the map's HTML to ``path`` atomically (temporary file + ``os.replace``)."""
    from .report import write_text_atomic

    return write_text_atomic(Path(path), map_html(m))
