"""Fire-engine speeds by OSM road class, and edge travel times.

The standards fix the response time (1 min turnout + 4 min driving) but not truck speeds. The
defaults below are for a fire engine running with lights on urban Chinese roads: averages over a
block including slowing at crossings, not top speeds. They follow the ranges used in Chinese
station-siting studies (main roads 40-50 km/h, branch roads 20-30 km/h) and are all overridable.
"""
from __future__ import annotations

import math
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np

from .errors import CoverageWarning, InputError

#: Default fire-engine speeds in km/h by OSM ``highway`` value.
DEFAULT_SPEEDS_KMH: Mapping[str, float] = {
    "motorway": 70.0,
    "motorway_link": 40.0,
    "trunk": 55.0,
    "trunk_link": 35.0,
    "primary": 45.0,
    "primary_link": 30.0,
    "secondary": 40.0,
    "secondary_link": 30.0,
    "tertiary": 35.0,
    "tertiary_link": 25.0,
    "unclassified": 25.0,
    "residential": 20.0,
    "living_street": 10.0,
    "service": 15.0,
    "road": 20.0,
    "busway": 30.0,
}

#: OSM ``highway`` values a fire engine cannot drive on; dropped silently.
NON_DRIVABLE = frozenset(
    {
        "footway", "pedestrian", "path", "steps", "cycleway", "bridleway", "corridor", "elevator",
        "escalator", "platform", "track", "trail", "proposed", "construction", "abandoned",
        "planned", "razed", "disused", "raceway", "bus_guideway", "bus_stop", "via_ferrata",
        "no", "crossing", "rest_area", "services", "emergency_bay", "traffic_island", "ladder",
    }
)

#: OSM ``service`` values not usable as streets by a fire engine.
NON_DRIVABLE_SERVICE = frozenset({"parking_aisle", "parking", "driveway", "drive-through"})


@dataclass(frozen=True)
class SpeedModel:
    """How edge travel times are computed.

    Parameters
    ----------
    speeds_kmh
        Speed per OSM highway class (km/h); merged over :data:`DEFAULT_SPEEDS_KMH`.
    use_maxspeed
        Use the OSM ``maxspeed`` tag where it is tagged, capped at ``max_kmh`` and at the
        class speed times ``maxspeed_class_factor``.
    max_kmh
        Hard cap on any speed (km/h).
    congestion
        Multiplier in (0, 1] applied to every speed (1 = free flow).
    signal_delay_s
        Seconds added to each edge that ends at a signalised crossing
        (``highway=traffic_signals`` node).
    unknown_kmh
        Speed for highway values that are neither known nor listed as non-drivable; ``None``
        drops such roads. Either way a warning names the values.
    """

    speeds_kmh: Mapping[str, float] = field(default_factory=dict)
    use_maxspeed: bool = True
    max_kmh: float = 80.0
    maxspeed_class_factor: float = 1.5
    congestion: float = 1.0
    signal_delay_s: float = 0.0
    unknown_kmh: float | None = None

    def __post_init__(self) -> None:
        table = dict(DEFAULT_SPEEDS_KMH)
        for key, value in dict(self.speeds_kmh).items():
            table[str(key)] = _check_speed(value, f"speeds.{key}")
        object.__setattr__(self, "speeds_kmh", table)
        _check_speed(self.max_kmh, "max_kmh")
        if not (isinstance(self.congestion, (int, float)) and 0 < self.congestion <= 1):
            raise InputError(
                f"congestion factor {self.congestion!r} is invalid: expected a number in (0, 1] "
                "(1 = free flow, 0.7 = 30% slower)"
            )
        if not (isinstance(self.signal_delay_s, (int, float)) and 0 <= self.signal_delay_s < 600):
            raise InputError(
                f"signal_delay_s {self.signal_delay_s!r} is invalid: expected seconds in [0, 600)"
            )
        if self.unknown_kmh is not None:
            _check_speed(self.unknown_kmh, "unknown_kmh")

    @classmethod
    def from_options(cls, options: "SpeedModel | Mapping[str, Any] | None") -> "SpeedModel":
        """Build from a model, ``None`` (defaults) or a mapping of overrides.

        A mapping may hold highway classes (``{"primary": 45}``) and the model's own options
        (``congestion``, ``signal_delay_s``, ``use_maxspeed``, ``max_kmh``, ``unknown_kmh``).
        """
        if options is None:
            return cls()
        if isinstance(options, SpeedModel):
            return options
        if not isinstance(options, Mapping):
            raise InputError(f"speeds {options!r} is invalid: expected a mapping of km/h values")
        own = {"use_maxspeed", "max_kmh", "maxspeed_class_factor", "congestion", "signal_delay_s",
               "unknown_kmh"}
        kwargs = {k: v for k, v in options.items() if k in own}
        table = {k: v for k, v in options.items() if k not in own}
        return cls(speeds_kmh=table, **kwargs)


def _check_speed(value: Any, what: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what} = {value!r} is not a speed: expected a positive number in km/h") from None
    if not math.isfinite(v) or v <= 0:
        raise InputError(f"{what} = {value!r} is invalid: expected a positive number in km/h")
    if v > 200:
        raise InputError(f"{what} = {value!r} km/h is implausible for a fire engine: expected <= 200")
    return v


_MAXSPEED_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph)?\s*$", re.I)
_MAXSPEED_ZONES = {"walk": 7.0, "living_street": 10.0, "urban": 50.0, "rural": 80.0,
                   "motorway": 120.0, "trunk": 100.0}


def parse_maxspeed(value: Any) -> float:
    """Parse an OSM ``maxspeed`` tag into km/h; ``nan`` when absent or unparseable.

    Handles numbers, ``"50 mph"``, zone values like ``"CN:urban"``/``"RU:urban"``, and lists or
    ``;``-separated values (the lowest is used).
    """
    if value is None:
        return math.nan
    if isinstance(value, (list, tuple, set)):
        vals = [parse_maxspeed(v) for v in value]
        vals = [v for v in vals if not math.isnan(v)]
        return min(vals) if vals else math.nan
    if isinstance(value, (int, float, np.number)):
        v = float(value)
        return v if math.isfinite(v) and v > 0 else math.nan
    text = str(value).strip()
    if ";" in text or "|" in text:
        return parse_maxspeed(re.split(r"[;|]", text))
    m = _MAXSPEED_RE.match(text)
    if m:
        v = float(m.group(1))
        if m.group(2) and m.group(2).lower() == "mph":
            v *= 1.609344
        return v if v > 0 else math.nan
    zone = text.split(":")[-1].lower()
    if zone in _MAXSPEED_ZONES:
        return _MAXSPEED_ZONES[zone]
    # numbered zones: "DE:zone30", "DE:zone:30", "zone30"
    m = re.fullmatch(r"(?:[a-z]{2}:)?zone:?(\d+(?:\.\d+)?)", text.lower())
    if m:
        v = float(m.group(1))
        return v if v > 0 else math.nan
    return math.nan


def highway_class(value: Any, table: Mapping[str, float]) -> str:
    """One highway class for an edge; osmnx merges ways into lists: take the fastest known one."""
    if isinstance(value, (list, tuple, set)):
        values = [str(v) for v in value]
        # the fastest drivable class (a speed given for a footway part must not speed it up)
        known = [v for v in values if v in table and v not in NON_DRIVABLE]
        if known:
            return max(known, key=lambda v: table[v])
        drivable = [v for v in values if v not in NON_DRIVABLE]
        return drivable[0] if drivable else values[0]
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "road"
    return str(value)


def edge_speeds_kmh(
    highways: Iterable[str],
    maxspeeds: Iterable[Any],
    model: SpeedModel,
) -> np.ndarray:
    """Speed in km/h per edge (after the congestion factor); ``nan`` for roads to drop.

    Unknown highway values produce one :class:`CoverageWarning` naming all of them.
    """
    table = model.speeds_kmh
    highways = list(highways)
    out = np.empty(len(highways), dtype=float)
    unknown: dict[str, int] = {}
    for i, (hw, ms) in enumerate(zip(highways, maxspeeds)):
        base = table.get(hw)
        if base is None:
            unknown[hw] = unknown.get(hw, 0) + 1
            if model.unknown_kmh is None:
                out[i] = math.nan
                continue
            base = model.unknown_kmh
        speed = base
        if model.use_maxspeed:
            tagged = parse_maxspeed(ms)
            if not math.isnan(tagged):
                speed = min(tagged, base * model.maxspeed_class_factor)
        out[i] = min(speed, model.max_kmh) * model.congestion
    given = set(table) - set(DEFAULT_SPEEDS_KMH)
    closed = sorted(given & set(NON_DRIVABLE))
    if closed:  # footways, paths ...: dropped before speeds apply, whatever speed is given
        warnings.warn(
            f"speeds given for {', '.join(map(repr, closed))} have no effect: these ways are not "
            "drivable for a fire engine and are always left out of the network",
            CoverageWarning,
            stacklevel=3,
        )
    unused = sorted(given - set(NON_DRIVABLE) - set(highways))
    if unused:  # a class of the user's own that no road carries: a typo or another city's tag
        present = ", ".join(sorted(set(highways)))
        warnings.warn(
            f"speeds given for highway classes {', '.join(map(repr, unused))} match no road in "
            f"this network (its classes: {present}): check the spelling against the OSM "
            "highway tag",
            CoverageWarning,
            stacklevel=3,
        )
    if unknown:
        listed = ", ".join(f"{k!r} ({n} edges)" for k, n in sorted(unknown.items()))
        action = (f"driven at {model.unknown_kmh} km/h" if model.unknown_kmh is not None
                  else "dropped")
        warnings.warn(
            f"unknown highway values {listed} are {action}; give them a speed with "
            "speeds: {<value>: <km/h>} to keep them",
            CoverageWarning,
            stacklevel=3,
        )
    return out
