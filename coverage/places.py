"""Places from plan text: road crossings ("A路 × B路") and named features, resolved on a network.

Plans name places the way people do: "南京路" for 南京西路 and 南京东路, full-width letters, stray
spaces, the old name of a road. Names are compared after normalisation (see :func:`normalise_name`)
in four tiers -- exact (``name``, ``name:zh``, ``official_name``, ``ref``), exact on an alternative or
former name (``alt_name``, ``old_name``, ``loc_name``, ``short_name``), same name with another road
type (路/街/大道 ...), and family (direction parts 东/西/南/北/中 and sections 一段/二段 dropped) --
and the best tier that matches wins. A name matched through an alternative tag reads
"人民路 (old_name)" in warnings and ``matched_names``.

Every answer is a :class:`Resolved`: WGS-84 point, the graph node it snaps to, how it was found,
how far it may be from what the text names, warnings and the other candidates.
"""
from __future__ import annotations

import difflib
import math
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Sequence

import networkx as nx
import numpy as np
import pyproj
import shapely
from shapely.geometry import LineString

from .errors import InputError, ResolveError

__all__ = [
    "Candidate",
    "Resolved",
    "family_key",
    "crossing_name",
    "normalise_name",
    "resolve_crossing",
    "resolve_place",
]

#: Edge (and POI) tags searched for names.
NAME_TAGS = ("name", "name:zh", "name:zh-Hans", "name:zh-Hant", "alt_name", "old_name",
             "official_name", "loc_name", "short_name", "ref")
#: Tags that hold another name than the feature's own (matched one tier below its own names).
ALIAS_TAGS = ("alt_name", "old_name", "loc_name", "short_name")
#: Meeting points of the same two roads closer than this are one crossing (dual carriageways).
CLUSTER_M = 150.0

# Road-type suffixes, longest first so that 高架路 is removed whole, not just its 路.
_TYPE_SUFFIXES = ("高架路", "快速路", "大马路", "大道", "大街", "公路", "胡同", "高架", "马路",
                  "路", "街", "道", "巷", "弄")
_DIRECTIONS = "东東西南北中"  # 東: traditional characters (Taiwan, Hong Kong)
_SECTION = re.compile(r"(?:[一二三四五六七八九十]+|\d+)段$")
# A numbered part after a direction: 中山东一路 is the first stretch of 中山东路.
_NUMBERED_DIRECTION = re.compile(r"([东東西南北中])(?:[一二三四五六七八九十]+|\d+)$")
_TIERS = (0, 1, 2, 3)
_TIER_TEXT = {0: "exact", 1: "alternative or former name (alt_name, old_name ...)",
              2: "same name, other road type", 3: "family (direction/section dropped)"}


# --------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class Candidate:
    """Another place the text could mean."""

    lon: float
    lat: float
    node: Any
    distance_m: float
    names: tuple[str, ...]


@dataclass(frozen=True)
class Resolved:
    """Where a piece of plan text resolves to on the network.

    Attributes
    ----------
    query
        The text as given (``"A × B"`` for crossings).
    lon, lat
        The resolved point, WGS-84 degrees.
    node
        Id of the ``graph`` node nearest that point (on the matched roads where possible).
    distance_m
        How far the answer may be from what the text names: for a crossing 0 where the roads
        meet (at a node or where their lines cross), else their nearest approach; for a place the
        distance from the feature to :attr:`node`.
    snap_m
        Distance from ``(lon, lat)`` to :attr:`node`.
    method
        ``"shared node"``, ``"geometric intersection"``, ``"nearest approach"``, ``"road"`` or
        ``"poi"``.
    warnings
        Everything a reviewer should know (family matches, gaps, ambiguity).
    candidates
        Other distinct places the text could mean, best first.
    matched_names
        Per query part, the original OSM names that matched.
    """

    query: str
    lon: float
    lat: float
    node: Any
    distance_m: float
    snap_m: float
    method: str
    warnings: list[str] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    matched_names: tuple[tuple[str, ...], ...] = ()


# --------------------------------------------------------------------------------------------
# names


def normalise_name(text: str) -> str:
    """NFKC (full/half width), case-folded, letters and digits only (spaces/punctuation dropped)."""
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def _strip_type(norm: str) -> str:
    for suffix in _TYPE_SUFFIXES:
        if norm.endswith(suffix) and len(norm) > len(suffix):
            return norm[: -len(suffix)]
    return norm


def _core_key(norm: str) -> str:
    """Name without its section and road type: 南京西路 -> 南京西, 光复路一段 -> 光复."""
    return _strip_type(_SECTION.sub("", norm) or norm)


def family_key(name: str) -> str:
    """The road family a name belongs to: 南京西路, 南京东路, 南京路 -> 南京.

    Drops a trailing section (一段), the road type (路, 街, 大道, 高架路 ...), a number after a
    direction (中山东一路; not when the direction starts the name: 北一路 and 北二路 are different
    roads) and one direction part (东/西/南/北/中) when at least two characters remain (湖南路
    stays 湖南).
    """
    core, _ = _family_parts(name)
    return core


def _family_parts(name: str) -> tuple[str, str]:
    """(family key, direction part or "") of a road name: 南京东路 -> (南京, 东)."""
    core = _core_key(normalise_name(name))
    numbered = _NUMBERED_DIRECTION.search(core)
    if numbered is not None and numbered.start() >= 2:
        core = core[: numbered.start() + 1]
    if len(core) >= 3 and core[-1] in _DIRECTIONS:
        return core[:-1], core[-1].replace("東", "东")
    return core, ""


def _split_values(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, float) and math.isnan(value):
        return []
    if isinstance(value, (list, tuple, set)):
        out: list[str] = []
        for v in value:
            out.extend(_split_values(v))
        return out
    return [p.strip() for p in str(value).split(";") if p.strip()]


def _named(data: Any) -> list[tuple[str, str, bool]]:
    """(key, name, alias) for each name of a feature: its own names keyed as themselves, names
    only in an :data:`ALIAS_TAGS` tag keyed "name (tag)", so that they match a tier lower."""
    own = [n for tag in NAME_TAGS if tag not in ALIAS_TAGS for n in _split_values(_get(data, tag))]
    out: list[tuple[str, str, bool]] = [(n, n, False) for n in dict.fromkeys(own)]
    for tag in ALIAS_TAGS:
        for n in _split_values(_get(data, tag)):
            key = f"{n} ({tag})"
            if n not in own and all(k != key for k, _, _ in out):
                out.append((key, n, True))
    return out


def _keys_of(data: Any) -> list[str]:
    """The name keys of a feature (see :func:`_named`)."""
    return [k for k, _, _ in _named(data)]


def _get(data: Any, tag: str) -> Any:
    try:
        return data.get(tag)
    except AttributeError:
        return None


def _names_of(data: Any) -> list[str]:
    out: list[str] = []
    for tag in NAME_TAGS:
        for v in _split_values(_get(data, tag)):
            if v not in out:
                out.append(v)
    return out


def crossing_name(network, node: int, *, most: int = 3) -> str:
    """The roads meeting at engine node ``node`` as plans write a crossing, e.g. "联盟路 × 黔川路"
    (OSM ``name``, else ``ref``; at most ``most`` roads); "" when none is named."""
    g = network.graph
    nid = network.node_ids[int(node)]
    names: list[str] = []
    for _, _, data in list(g.out_edges(nid, data=True)) + list(g.in_edges(nid, data=True)):
        for tag in ("name", "ref"):
            vals = _split_values(data.get(tag))
            if vals:
                for v in vals:
                    if v not in names:
                        names.append(v)
                break
    return " × ".join(names[:most])


class _Names:
    """Original names of some features, searchable by normalised tiers."""

    def __init__(self) -> None:
        self.items: dict[str, list[Any]] = defaultdict(list)  # name key -> features
        self.plain: dict[str, str] = {}  # name key -> the name itself
        self.alias: set[str] = set()  # keys of names found only in alias tags

    def add_feature(self, data: Any, item: Any) -> None:
        """Index feature ``item`` under every name of its tags ``data`` (see :func:`_named`)."""
        for key, name, alias in _named(data):
            self.items[key].append(item)
            self.plain[key] = name
            if alias:
                self.alias.add(key)

    def match(self, query: str) -> dict[int, list[str]]:
        """Name keys matching ``query`` at each tier (0 exact, 1 exact alternative or former
        name, 2 other type, 3 family)."""
        q = normalise_name(query)
        qcore, (qfam, qdir) = _core_key(q), _family_parts(query)
        tiers: dict[int, list[str]] = {t: [] for t in _TIERS}
        for key in self.items:
            name = self.plain[key]
            n = normalise_name(name)
            if not n:
                continue
            if n == q:
                tiers[1 if key in self.alias else 0].append(key)
            elif _core_key(n) == qcore:
                tiers[2].append(key)
            else:
                fam, direction = _family_parts(name)
                # 南京路 means 南京东路 or 南京西路; 南京东路 never means 南京西路
                if fam == qfam and (not qdir or not direction or direction == qdir):
                    tiers[3].append(key)
        return tiers

    def close(self, query: str, n: int = 5) -> list[str]:
        by_norm: dict[str, list[str]] = defaultdict(list)
        for key in self.items:
            by_norm[normalise_name(self.plain[key])].append(key)
        q = normalise_name(query)
        close = difflib.get_close_matches(q, list(by_norm), n=n, cutoff=0.3)
        # Names sharing the family, or containing the query, are close too.
        extra = [k for k in by_norm if (q and q in k) or (family_key(k) and family_key(k) == family_key(q))]
        out: list[str] = []
        for k in close + extra:
            for name in by_norm[k]:
                if name not in out:
                    out.append(name)
        return out[:n]


def _check_query(text: Any, what: str) -> str:
    if not isinstance(text, str) or not normalise_name(text):
        raise InputError(f"{what} must be a non-empty name (letters or digits), got {text!r}")
    return text


# --------------------------------------------------------------------------------------------
# network access


class _Net:
    """What resolution needs from a network: graph, projection, edge geometries, name index."""

    def __init__(self, network: Any) -> None:
        graph = network if isinstance(network, nx.Graph) else getattr(network, "graph", network)
        if not isinstance(graph, nx.MultiDiGraph):
            raise InputError(
                f"expected a road network (coverage.load_network(...)) or a networkx.MultiDiGraph, "
                f"got {type(network).__name__}"
            )
        if graph.number_of_edges() == 0:
            raise InputError("the road network has no edges; nothing to resolve names on")
        self.graph = graph
        self.node_ids = np.array(list(graph.nodes), dtype=object)
        try:
            lon = np.array([graph.nodes[n]["x"] for n in self.node_ids], dtype=float)
            lat = np.array([graph.nodes[n]["y"] for n in self.node_ids], dtype=float)
        except KeyError as exc:
            raise InputError(f"graph nodes need 'x' (lon) and 'y' (lat) attributes; missing {exc}") from exc
        crs = getattr(network, "crs", None)
        if crs is None or not pyproj.CRS(crs).is_projected:
            crs = _utm(float(np.mean(lon)), float(np.mean(lat)))
        self.crs = pyproj.CRS(crs)
        self._fwd = pyproj.Transformer.from_crs(4326, self.crs, always_xy=True)
        self._inv = pyproj.Transformer.from_crs(self.crs, 4326, always_xy=True)
        self.x, self.y = self._fwd.transform(lon, lat)
        self.index = {n: i for i, n in enumerate(self.node_ids.tolist())}
        self.names = _Names()
        self.edges: list[tuple[Any, Any, Any, dict]] = []
        for u, v, k, d in graph.edges(keys=True, data=True):
            self.names.add_feature(d, len(self.edges))
            self.edges.append((u, v, k, d))
        self._geoms: dict[int, LineString] = {}

    def project(self, lon: Any, lat: Any) -> tuple[np.ndarray, np.ndarray]:
        return self._fwd.transform(np.asarray(lon, float), np.asarray(lat, float))

    def unproject(self, x: float, y: float) -> tuple[float, float]:
        lon, lat = self._inv.transform(float(x), float(y))
        return float(lon), float(lat)

    def geom(self, e: int) -> LineString:
        g = self._geoms.get(e)
        if g is None:
            u, v, _, d = self.edges[e]
            line = d.get("geometry")
            if line is not None and not line.is_empty:
                xy = np.asarray(line.coords, dtype=float)
                g = LineString(np.column_stack(self._fwd.transform(xy[:, 0], xy[:, 1])))
            else:
                i, j = self.index[u], self.index[v]
                g = LineString([(self.x[i], self.y[i]), (self.x[j], self.y[j])])
            self._geoms[e] = g
        return g

    def edges_named(self, names: Iterable[str]) -> list[int]:
        out: set[int] = set()
        for n in names:
            out.update(self.names.items[n])
        return sorted(out)

    def nearest_node(self, x: float, y: float, among: Sequence[Any] | None = None) -> tuple[Any, float]:
        if among is not None and len(among):
            idx = np.array([self.index[n] for n in among])
        else:
            idx = np.arange(len(self.node_ids))
        d = np.hypot(self.x[idx] - x, self.y[idx] - y)
        j = int(np.argmin(d))
        return self.node_ids[idx[j]], float(d[j])


def _utm(lon: float, lat: float) -> pyproj.CRS:
    zone = int(math.floor((lon + 180.0) / 6.0)) % 60 + 1
    return pyproj.CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def _is_grade_separated(d: dict) -> bool:
    def yes(v: Any) -> bool:
        return any(s not in ("no", "0", "false") for s in map(str.lower, _split_values(v)))

    return yes(d.get("bridge")) or yes(d.get("tunnel")) or "高架" in "".join(_names_of(d))


def _road_matches(net: _Net, query: str, what: str) -> dict[int, list[str]]:
    tiers = net.names.match(query)
    if not any(tiers.values()):
        close = net.names.close(query)
        hint = f"; closest names in the network: {', '.join(close)}" if close else \
            "; the network holds no similar road name"
        raise ResolveError(f"no road named {query!r} ({what}) in the network{hint}")
    return tiers


def _cumulative(tiers: dict[int, list[str]]) -> list[tuple[int, list[str]]]:
    """(tier, names up to that tier) for each tier that adds names."""
    out, acc = [], []
    for t in _TIERS:
        if tiers[t]:
            acc = acc + tiers[t]
            out.append((t, list(acc)))
    return out


# --------------------------------------------------------------------------------------------
# clustering


def _clusters(xy: np.ndarray, radius: float) -> list[np.ndarray]:
    """Single-linkage groups of points closer than ``radius``; largest group first."""
    n = len(xy)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if n > 1:
        from scipy.spatial import cKDTree

        for i, j in cKDTree(xy).query_pairs(radius):
            parent[find(i)] = find(j)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        groups[find(i)].append(i)
    return sorted((np.array(g) for g in groups.values()), key=lambda g: (-len(g), g[0]))


# --------------------------------------------------------------------------------------------
# crossings


def resolve_crossing(network: Any, road_a: str, road_b: str) -> Resolved:
    """Resolve "a station near the crossing of ``road_a`` and ``road_b``" to the network.

    Parameters
    ----------
    network
        A :class:`coverage.network.RoadNetwork` (its ``graph`` is used) or an osmnx-style
        ``networkx.MultiDiGraph`` in WGS-84 with edge names.
    road_a, road_b
        Road names as the plan writes them (normalised, see module docs).

    Returns
    -------
    Resolved
        ``method`` is ``"shared node"`` where the roads share network nodes (distance 0),
        ``"geometric intersection"`` where their lines cross without a junction (bridges,
        tunnels, missing nodes; distance 0 and a warning), ``"shared edge"`` where one network
        edge carries both names (ways merged where the roads run together; its middle, with a
        warning) and ``"nearest approach"`` where they
        do not meet (distance = the gap, warning). Several meeting places further apart than
        150 m are listed in ``candidates`` with a warning.

    Raises
    ------
    ResolveError
        A name matches no road (the message lists the closest names), or both names mean the
        same road.
    """
    _check_query(road_a, "crossing road A")
    _check_query(road_b, "crossing road B")
    net = _Net(network)
    query = f"{road_a} × {road_b}"
    if normalise_name(road_a) == normalise_name(road_b):
        raise ResolveError(f"crossing {query!r} names the same road twice; expected two different roads")
    levels_a = _cumulative(_road_matches(net, road_a, "crossing road A"))
    levels_b = _cumulative(_road_matches(net, road_b, "crossing road B"))
    combos = sorted(((ta, na, tb, nb) for ta, na in levels_a for tb, nb in levels_b),
                    key=lambda c: (c[0] + c[2], max(c[0], c[2])))

    # 1. shared nodes, 2. crossing lines, at the tightest name tiers that give either: the
    # named roads crossing on a bridge beat a looser name's junction kilometres away, but not a
    # junction right beneath the crossing (the surface 延安东路 under the elevated 延安路)
    for i, (ta, names_a, tb, names_b) in enumerate(combos):
        ea, eb = _without_common(net.edges_named(names_a), net.edges_named(names_b))
        if not ea or not eb:
            continue
        found = _shared_nodes(net, ea, eb)
        if found is None:
            crossing = _line_crossings(net, ea, eb)
            if crossing is None:
                continue
            beneath = _junction_beneath(net, crossing, combos[i + 1:])
            if beneath is None:
                found = crossing
            else:
                found, (ta, names_a, tb, names_b), ea, eb = beneath
        res = _finish(net, query, found, (road_a, ta, names_a), (road_b, tb, names_b), ea, eb)
        return _off_named(net, res, ((road_a, ta, levels_a[0]), (road_b, tb, levels_b[0])))
    # 3. an edge carrying both roads' own names (osmnx merged the two ways: they run together
    # there); not one road both names happen to match (西藏路 and 西藏中路 for 西藏中路 alone)
    ta, names_a = levels_a[0]
    tb, names_b = levels_b[0]
    all_a, all_b = net.edges_named(names_a), net.edges_named(names_b)
    only_a, only_b = set(names_a) - set(names_b), set(names_b) - set(names_a)
    common = [e for e in sorted(set(all_a) & set(all_b))
              if only_a & set(_keys_of(net.edges[e][3])) and only_b & set(_keys_of(net.edges[e][3]))]
    if common:
        mids = [net.geom(e).interpolate(0.5, normalized=True) for e in common]
        found = _Found("shared edge", np.array([[p.x, p.y] for p in mids]), (None,) * len(mids), 0.0)
        return _finish(net, query, found, (road_a, ta, names_a), (road_b, tb, names_b), common, common)
    # 4. nearest approach of the best-tier roads.
    ea, eb = _without_common(all_a, all_b)
    if not ea or not eb:
        raise ResolveError(
            f"crossing {query!r}: both names match the same road(s) {sorted(set(names_a) | set(names_b))}; "
            "expected two different roads"
        )
    found = _nearest_approach(net, ea, eb)
    return _finish(net, query, found, (road_a, ta, names_a), (road_b, tb, names_b), ea, eb)


#: A crossing placed on a looser name match farther than this from the road the plan names
#: itself is reported (and the distance counts as how far the answer may be from the text).
OFF_NAMED_M = 50.0


def _off_named(net: _Net, res: Resolved, parts) -> Resolved:
    """When a part matched only at a looser tier than its best match (e.g. 人民大道 for 人民路),
    say how far the chosen point is from the best-matching road itself."""
    x, y = net.project([res.lon], [res.lat])
    p = shapely.Point(float(np.asarray(x)[0]), float(np.asarray(y)[0]))
    extra, dist = [], res.distance_m
    for q, tier, (best_tier, best_names) in parts:
        if tier <= best_tier:
            continue
        edges = net.edges_named(best_names)
        if not edges:
            continue
        d = float(min(shapely.distance(net.geom(e), p) for e in edges))
        if d > OFF_NAMED_M:
            extra.append(f"{q!r} itself ({', '.join(sorted(best_names))}) does not meet the other road: "
                         f"the crossing used lies {d:.0f} m from it")
            dist = max(dist, d)
    if not extra:
        return res
    return replace(res, distance_m=dist, warnings=list(res.warnings) + extra)


def _junction_beneath(net: _Net, crossing: _Found, looser: list) -> tuple[_Found, tuple, list[int], list[int]] | None:
    """For roads that cross without a junction (``crossing``): the junctions of the first of the
    ``looser`` name matches that meet within :data:`CLUSTER_M` of the crossing, as (found, combo,
    edges a, edges b); None when there are none."""
    for combo in looser:
        ea, eb = _without_common(net.edges_named(combo[1]), net.edges_named(combo[3]))
        found = _shared_nodes(net, ea, eb) if ea and eb else None
        if found is None:
            continue
        near = np.array([np.hypot(*(crossing.xy - xy).T).min() <= CLUSTER_M for xy in found.xy])
        if near.any():
            keep = np.flatnonzero(near)
            return (_Found(found.method, found.xy[keep], tuple(found.nodes[k] for k in keep), 0.0),
                    combo, ea, eb)
    return None


def _without_common(ea: list[int], eb: list[int]) -> tuple[list[int], list[int]]:
    """Edges carrying both names (a merged osmnx edge) belong to neither side's search."""
    common = set(ea) & set(eb)
    return [e for e in ea if e not in common], [e for e in eb if e not in common]


@dataclass(frozen=True)
class _Found:
    method: str
    xy: np.ndarray          # meeting points (projected), one row each
    nodes: tuple            # graph node per point, or None where the point is not a node
    gap_m: float


def _shared_nodes(net: _Net, ea: list[int], eb: list[int]) -> _Found | None:
    na = {n for e in ea for n in net.edges[e][:2]}
    nb = {n for e in eb for n in net.edges[e][:2]}
    shared = sorted(na & nb, key=lambda n: net.index[n])
    if not shared:
        return None
    idx = np.array([net.index[n] for n in shared])
    return _Found("shared node", np.column_stack([net.x[idx], net.y[idx]]), tuple(shared), 0.0)


def _line_crossings(net: _Net, ea: list[int], eb: list[int]) -> _Found | None:
    ga = np.array([net.geom(e) for e in ea], dtype=object)
    gb = np.array([net.geom(e) for e in eb], dtype=object)
    tree = shapely.STRtree(gb)
    ia, ib = tree.query(ga, predicate="intersects")
    pts: list[tuple[float, float]] = []
    for i, j in zip(ia, ib):
        inter = shapely.intersection(ga[i], gb[j])
        for p in shapely.get_parts(inter):
            if p.geom_type == "Point":
                pts.append((p.x, p.y))
            elif not p.is_empty:  # overlapping pieces: use their middle
                c = p.interpolate(0.5, normalized=True) if hasattr(p, "interpolate") else p.centroid
                pts.append((c.x, c.y))
    if not pts:
        return None
    xy = np.unique(np.round(np.array(pts), 3), axis=0)
    return _Found("geometric intersection", xy, (None,) * len(xy), 0.0)


def _nearest_approach(net: _Net, ea: list[int], eb: list[int]) -> _Found:
    ua = shapely.union_all([net.geom(e) for e in ea])
    ub = shapely.union_all([net.geom(e) for e in eb])
    line = shapely.shortest_line(ua, ub)
    (x0, y0), (x1, y1) = line.coords
    gap = float(math.hypot(x1 - x0, y1 - y0))
    return _Found("nearest approach", np.array([[(x0 + x1) / 2, (y0 + y1) / 2]]), (None,), gap)


def _finish(net: _Net, query: str, found: _Found, a: tuple, b: tuple,
            ea: list[int], eb: list[int]) -> Resolved:
    (qa, ta, names_a), (qb, tb, names_b) = a, b
    warnings: list[str] = []
    for q, t, names, edges in ((qa, ta, names_a, ea), (qb, tb, names_b, eb)):
        used = sorted({n for e in edges for n in _keys_of(net.edges[e][3]) if n in names})
        if t > 0:
            warnings.append(f"{q!r} matched by {_TIER_TEXT[t]}: {', '.join(used)}")
    # Nodes to snap to: those of the two roads, preferring ones not on bridges/tunnels.
    road_edges = ea + eb
    surface = [e for e in road_edges if not _is_grade_separated(net.edges[e][3])] or road_edges
    road_nodes = sorted({n for e in surface for n in net.edges[e][:2]}, key=lambda n: net.index[n])

    groups = _clusters(found.xy, CLUSTER_M)
    places = []
    for g in groups:
        cx, cy = found.xy[g].mean(axis=0)
        members = [found.nodes[i] for i in g if found.nodes[i] is not None]
        node, snap = net.nearest_node(cx, cy, members or road_nodes)
        lon, lat = net.unproject(cx, cy)
        places.append((lon, lat, node, snap, len(g)))
    # Best: most meeting points (the main junction of dual carriageways), then nearest to the
    # middle of all meeting points (a stable tie-break).
    mid = found.xy.mean(axis=0)
    order = sorted(range(len(groups)), key=lambda i: (
        -places[i][4], float(np.hypot(*(found.xy[groups[i]].mean(axis=0) - mid)))))
    best = places[order[0]]
    candidates = [Candidate(p[0], p[1], p[2], found.gap_m, (qa, qb)) for p in (places[i] for i in order[1:])]
    if candidates:
        spread = max(_haversine(best[0], best[1], c.lon, c.lat) for c in candidates)
        warnings.append(
            f"{query!r}: {len(places)} distinct meeting places (up to {spread:.0f} m apart); chose the one "
            f"with the most junction nodes at ({best[0]:.6f}, {best[1]:.6f}); others listed in candidates"
        )
    if found.method == "geometric intersection":
        warnings.append(
            f"{query!r}: the roads cross without a shared junction (bridge, tunnel or a gap in the "
            f"data); placed at the nearest node of either road, {best[3]:.0f} m from the crossing"
        )
    elif found.method == "shared edge":
        warnings.append(
            f"{query!r}: the network has one edge carrying both names (the ways were merged where "
            f"the roads run together); placed at the middle of that edge"
        )
    elif found.method == "nearest approach":
        warnings.append(
            f"{query!r}: the roads do not meet in the network; used their nearest approach, "
            f"{found.gap_m:.0f} m apart"
        )
    return Resolved(
        query=query, lon=best[0], lat=best[1], node=best[2], distance_m=found.gap_m, snap_m=best[3],
        method=found.method, warnings=warnings, candidates=candidates,
        matched_names=(tuple(sorted(set(_names_used(net, ea, names_a)))),
                       tuple(sorted(set(_names_used(net, eb, names_b))))),
    )


def _names_used(net: _Net, edges: list[int], names: list[str]) -> list[str]:
    wanted = set(names)
    return [n for e in edges for n in _keys_of(net.edges[e][3]) if n in wanted]


def _haversine(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(h))


# --------------------------------------------------------------------------------------------
# named places


def resolve_place(network: Any, name: str, *, pois: Any = None) -> Resolved:
    """Resolve a named place (POI, neighbourhood, station, or a road) to the network.

    Parameters
    ----------
    network
        A :class:`coverage.network.RoadNetwork` or an osmnx-style ``MultiDiGraph`` (WGS-84).
    name
        The place as the plan writes it.
    pois
        Optional GeoDataFrame of named features (``name``, ``name:zh``, ``alt_name``, ...
        columns; points or polygons; any CRS, WGS-84 assumed when unset).

    Returns
    -------
    Resolved
        ``method`` ``"poi"`` (the feature's point, polygons by a point inside) or ``"road"``
        (the point of the road nearest its middle), snapped to the nearest node (of the road,
        for roads); ``distance_m`` is the distance from the feature to that node. POIs win over
        roads at the same name tier; tiers are exact, alternative or former name, other road type, family.

    Raises
    ------
    ResolveError
        Nothing of that name; the message lists the closest names.
    """
    _check_query(name, "place name")
    net = _Net(network)
    poi_names = _Names()
    poi_xy: list[tuple[float, float]] = []
    if pois is not None:
        poi_xy = _index_pois(net, pois, poi_names)
    poi_tiers = poi_names.match(name)
    road_tiers = net.names.match(name)
    # A POI whose name contains the query (小白楼 in 小白楼消防救援站) is a partial match.
    q = normalise_name(name)
    partial = [n for n in poi_names.items
               if n not in sum(poi_tiers.values(), []) and len(q) >= 2 and q in normalise_name(poi_names.plain[n])]
    options = []
    for t in _TIERS:
        if poi_tiers[t]:
            options.append(("poi", t, poi_tiers[t], _TIER_TEXT[t]))
        if road_tiers[t]:
            options.append(("road", t, road_tiers[t], _TIER_TEXT[t]))
        if t == 2 and partial:
            options.append(("poi", 3, partial, "partial name"))
    if not options:
        close = (poi_names.close(name) + net.names.close(name))[:8]
        hint = f"; closest names: {', '.join(close)}" if close else "; nothing similar is named"
        raise ResolveError(f"no place or road named {name!r} in the network or POIs{hint}")
    kind, tier, names, how = options[0]
    warnings: list[str] = []
    if tier > 0:
        warnings.append(f"{name!r} matched by {how}: {', '.join(names)}")
    if kind == "poi":
        idx = sorted({i for n in names for i in poi_names.items[n]})
        xy = np.array([poi_xy[i] for i in idx])
        groups = _clusters(xy, CLUSTER_M)
        places = []
        for g in groups:
            cx, cy = xy[g].mean(axis=0)
            node, snap = net.nearest_node(cx, cy)
            places.append((*net.unproject(cx, cy), node, snap))
    else:
        edges = net.edges_named(names)
        # One place per connected stretch of the road far apart from the others.
        lines = [net.geom(e) for e in edges]
        groups = _stretches(net, edges)
        places = []
        for g in groups:
            merged = shapely.union_all([lines[i] for i in g])
            ox, oy = shapely.shortest_line(merged, merged.centroid).coords[0]
            nodes = sorted({n for i in g for n in net.edges[edges[i]][:2]}, key=lambda n: net.index[n])
            node, snap = net.nearest_node(ox, oy, nodes)
            places.append((*net.unproject(ox, oy), node, snap))
    best, rest = places[0], places[1:]
    candidates = [Candidate(p[0], p[1], p[2], p[3], tuple(names)) for p in rest]
    if candidates:
        warnings.append(
            f"{name!r}: {len(places)} distinct places of that name; chose the largest, "
            f"others listed in candidates"
        )
    return Resolved(
        query=name, lon=best[0], lat=best[1], node=best[2], distance_m=best[3], snap_m=best[3],
        method=kind, warnings=warnings, candidates=candidates, matched_names=(tuple(names),),
    )


def _stretches(net: _Net, edges: list[int]) -> list[list[int]]:
    """Edges of one road grouped into pieces that touch or come within 150 m; longest first."""
    g = nx.Graph()
    g.add_nodes_from(range(len(edges)))
    by_node: dict[Any, list[int]] = defaultdict(list)
    for i, e in enumerate(edges):
        for n in net.edges[e][:2]:
            by_node[n].append(i)
    for members in by_node.values():
        for j in members[1:]:
            g.add_edge(members[0], j)
    comps = [sorted(c) for c in nx.connected_components(g)]
    # Merge components closer than CLUSTER_M (dual carriageways are two parallel components).
    geoms = [shapely.union_all([net.geom(edges[i]) for i in c]) for c in comps]
    h = nx.Graph()
    h.add_nodes_from(range(len(comps)))
    for i in range(len(comps)):
        for j in range(i + 1, len(comps)):
            if geoms[i].distance(geoms[j]) < CLUSTER_M:
                h.add_edge(i, j)
    merged = [sorted(i for c in grp for i in comps[c]) for grp in nx.connected_components(h)]
    length = lambda grp: sum(net.geom(edges[i]).length for i in grp)  # noqa: E731
    return sorted(merged, key=lambda grp: -length(grp))


def _index_pois(net: _Net, pois: Any, names: _Names) -> list[tuple[float, float]]:
    try:
        import geopandas as gpd
    except ImportError as exc:  # pragma: no cover - geopandas is a dependency
        raise InputError("POIs need geopandas") from exc
    if not isinstance(pois, gpd.GeoDataFrame):
        raise InputError(f"pois must be a GeoDataFrame of named features, got {type(pois).__name__}")
    if pois.crs is not None:
        pois = pois.to_crs(net.crs)
    else:
        pois = pois.set_crs(4326).to_crs(net.crs)
    cols = [c for c in NAME_TAGS if c in pois.columns]
    if not cols:
        raise InputError(
            f"pois have no name column; expected one of {', '.join(NAME_TAGS)}, got {list(pois.columns)}"
        )
    xy: list[tuple[float, float]] = []
    for row, geom in zip(pois[cols].itertuples(index=False), pois.geometry):
        if geom is None or geom.is_empty:
            continue
        tags = dict(zip(cols, row))
        if not _names_of(tags):
            continue
        p = geom if geom.geom_type == "Point" else geom.representative_point()
        names.add_feature(tags, len(xy))
        xy.append((p.x, p.y))
    return xy
