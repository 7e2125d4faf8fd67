"""Where the planner finds things. No global mutable state: functions read these on call."""
from __future__ import annotations

import os
from pathlib import Path

#: Environment variable naming the folder of shared real OSM extracts.
SHARED_DATA_ENV = "COVPLAN_SHARED_DATA"
#: Environment variable naming the download cache folder.
CACHE_ENV = "COVPLAN_CACHE"

_REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_data_dir() -> Path:
    """Folder of the shared real OSM extracts: ``$COVPLAN_SHARED_DATA`` or ``../shared/data``.

    The default is resolved relative to the repository root (the folder holding ``coverage/``).
    The folder may not exist; callers check and skip or fail with a clear message.
    """
    env = os.environ.get(SHARED_DATA_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return (_REPO_ROOT.parent / "shared" / "data").resolve()


def cache_dir() -> Path:
    """Folder for downloaded networks: ``$COVPLAN_CACHE`` or ``~/.cache/covplan``."""
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return Path.home() / ".cache" / "covplan"
