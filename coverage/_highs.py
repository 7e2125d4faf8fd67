"""HiGHS helpers shared by the optimiser and the set-cover kernels."""
from __future__ import annotations


def quiet_highs(highspy):
    """A HiGHS instance without the banner its constructor prints straight to file descriptor 1
    (``output_flag`` can only be set after construction)."""
    import os
    import sys

    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError):  # no real stdout (some embedded consoles): accept the banner
        return highspy.Highs()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        return highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)
