"""Shared fixtures. Tests that need ../shared/data use ``shared_data`` and skip when it is absent."""
from __future__ import annotations

from pathlib import Path

import pytest

from coverage.settings import SHARED_DATA_ENV, shared_data_dir


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared real-data folder; skips the test with the reason when it is missing."""
    path = shared_data_dir()
    if not (path / "osm").is_dir():
        pytest.skip(
            f"shared real OSM data not found at {path} "
            f"(set {SHARED_DATA_ENV} to the folder holding osm/ and boundaries/)"
        )
    return path


@pytest.fixture(autouse=True)
def _quiet_progress(monkeypatch):
    """Progress bars off in tests."""
    monkeypatch.setenv("TQDM_DISABLE", "1")


def lonlat_grid(n: int, lon0: float, lat0: float, step_lon: float, step_lat: float,
                classes=("residential",), one_way=()):
    """An ``n`` x ``n`` street grid in WGS-84 (node ``i * n + j + 1`` at ``(lon0 + i step_lon,
    lat0 + j step_lat)``); link ``(i, j) -> next`` gets ``classes[(i + j) % len(classes)]`` and is
    two-way unless ``(i, j)`` is in ``one_way``."""
    import networkx as nx

    G = nx.MultiDiGraph(crs="epsg:4326")
    for i in range(n):
        for j in range(n):
            G.add_node(i * n + j + 1, x=lon0 + i * step_lon, y=lat0 + j * step_lat)
    for i in range(n):
        for j in range(n):
            for di, dj in ((1, 0), (0, 1)):
                if i + di < n and j + dj < n:
                    a, b = i * n + j + 1, (i + di) * n + (j + dj) + 1
                    h = classes[(i + j) % len(classes)]
                    G.add_edge(a, b, highway=h)
                    if (i, j) not in one_way:
                        G.add_edge(b, a, highway=h)
    return G
