"""Assembling a run's outputs: parts merged without losing any part's warnings."""
from __future__ import annotations

from coverage.outputs import Outputs, merge


def test_merge_keeps_every_parts_warnings_once():
    a = Outputs(summary={"scenario": "x", "warnings": ["area larger than the extract"], "covered_share": 0.5})
    b = Outputs(summary={"scenario": "x", "warnings": ["area larger than the extract"], "optimise": {}})
    c = Outputs(summary={"scenario": "x", "warnings": ["area larger than the extract", "hydrants: 1 not used"],
                         "hydrants": {}})
    m = merge([a, b, c])
    assert m.summary["warnings"] == ["area larger than the extract", "hydrants: 1 not used"]
    assert {"covered_share", "optimise", "hydrants"} <= set(m.summary)
    assert "warnings" not in merge([Outputs(summary={"scenario": "x"})]).summary
