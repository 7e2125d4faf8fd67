"""Errors raised by the planner.

Every message names the bad value, what was expected and, where there is one, the fix.
Callers catch :class:`CoverageError` to report one clear line instead of a traceback.
"""
from __future__ import annotations


class CoverageError(Exception):
    """Base class for every error the planner raises on purpose."""


class InputError(CoverageError, ValueError):
    """A value given by the user is malformed or out of range."""


class DataError(CoverageError):
    """A data file is missing, unreadable, corrupt or holds nothing usable."""


class NetworkUnavailableError(DataError):
    """A download was needed but the internet (or the server) cannot be reached."""


class OffNetworkError(InputError):
    """A point lies too far from any road, or on a part of the network cut off from the rest."""


class ResolveError(InputError):
    """A place name or a road crossing from plan text could not be resolved."""


class ScenarioError(InputError):
    """A scenario file has one or more problems; ``problems`` lists all of them."""

    def __init__(self, path: str, problems: list[str]):
        self.path = str(path)
        self.problems = list(problems)
        if len(self.problems) == 1:
            super().__init__(f"scenario {self.path}: {self.problems[0]}")
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            super().__init__(f"{len(self.problems)} problems in scenario {self.path}:\n{lines}")


class InfeasibleError(CoverageError):
    """An optimisation model has no solution; the message says which constraint makes it so."""


class NoPlanFoundError(CoverageError):
    """The solver stopped (time limit, or the greedy heuristic alone) without a plan, although
    one may exist: not a proof of infeasibility; the message says what to change."""


class CoverageWarning(UserWarning):
    """A warning about data that is used but looks suspicious (unknown road class, offsets ...)."""
