"""Fire and rescue station coverage planner.

The import name is ``coverage`` (this is not coverage.py, and the two cannot be installed in the
same environment); the command line is ``covplan``.
"""
from __future__ import annotations

import sys as _sys


def _imported_by_numba_probe() -> bool:
    """True when numba's coverage.py probe is importing us by mistake (same import name)."""
    f = _sys._getframe(1)
    while f is not None:
        if f.f_globals.get("__name__") == "numba.misc.coverage_support":
            return True
        f = f.f_back
    return False


if _imported_by_numba_probe():
    raise ImportError("this 'coverage' is the station-coverage planner, not coverage.py")

# numba probes ``import coverage`` (for coverage.py) when it is first imported, by us or by any
# other library (spopt, pandana ...): load it now, while the probe can be told we are not it.
from . import _numba  # noqa: F401
from .errors import CoverageError
from .network import RoadNetwork, load_network
# The function, not the submodule of the same name: imported here so that a later
# ``import coverage.isochrones`` cannot rebind the package attribute to the module.
from .isochrones import isochrones

__version__ = "0.1.0"

__all__ = [
    "CoverageError", "RoadNetwork", "load_network", "travel_times", "isochrones",
    "load_scenario", "resolve_crossing", "resolve_place",
]


def __getattr__(name: str):
    # Lazy re-exports keep `import coverage` light (numba compiles the engine on first use).
    if name == "travel_times":
        from .traveltime import travel_times
        return travel_times
    if name == "load_scenario":
        from .scenario import load_scenario
        return load_scenario
    if name in ("resolve_crossing", "resolve_place"):
        from . import places
        return getattr(places, name)
    raise AttributeError(f"module 'coverage' has no attribute {name!r}")
