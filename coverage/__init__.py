"""Fire and rescue station coverage planner (import name ``coverage``; not coverage.py)."""
from __future__ import annotations

from .errors import CoverageError
from .network import RoadNetwork, load_network

__all__ = ["CoverageError", "RoadNetwork", "load_network"]
__version__ = "0.1.0"
