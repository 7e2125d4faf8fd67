"""Import numba without letting it mistake this package for coverage.py.

numba probes ``import coverage`` at import time to support coverage.py; our package has the same
import name, so numba would find us and fail on ``coverage.types``. While numba loads, the name
``coverage`` is made unimportable (numba then simply runs without coverage.py support).
"""
from __future__ import annotations

import importlib.abc
import os
import sys


class _HideCoverage(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        if fullname == "coverage" or fullname.startswith("coverage."):
            raise ImportError("covplan's 'coverage' package is not coverage.py")
        return None


def _load():
    if "numba" in sys.modules and "numba.misc.coverage_support" in sys.modules:
        return sys.modules["numba"]
    saved = {k: v for k, v in sys.modules.items() if k == "coverage" or k.startswith("coverage.")}
    for k in saved:
        del sys.modules[k]
    finder = _HideCoverage()
    sys.meta_path.insert(0, finder)
    try:
        import numba
        import numba.misc.coverage_support  # noqa: F401  (the module that probes coverage.py)
    finally:
        sys.meta_path.remove(finder)
        sys.modules.update(saved)
    return numba


numba = _load()


def default_threads(threads: int | None = None) -> int:
    """Worker threads for the numba kernels (they release the GIL): ``threads`` if given, else
    the machine's cores, at most 8."""
    if threads is not None:
        return max(1, int(threads))
    return max(1, min(os.cpu_count() or 1, 8))
