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
