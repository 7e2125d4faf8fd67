"""Comparing two plans: metrics side by side, shares as percent, hydrant figures from scenarios."""
from __future__ import annotations

import json
from pathlib import Path

from coverage.cli import main
from coverage.compare import compare_markdown, compare_summaries

REPO = Path(__file__).resolve().parent.parent


def test_shares_print_as_percent_and_differences_as_points():
    a = {"scenario": "A", "covered_share": 0.968, "response_s": {"p90": 210.0},
         "hydrants": {"shortfall_share": 0.826, "shortfall_share_min_placement": 0.493}}
    b = {"scenario": "B", "covered_share": 0.5472, "response_s": {"p90": 523.0},
         "hydrants": {"shortfall_share": 0.946}}
    table = compare_summaries(a, b)
    rows = {r["metric"]: r for r in table["metrics"]}
    assert rows["covered_share"]["better"] == "A"
    assert abs(rows["covered_share"]["b_minus_a"] - (0.5472 - 0.968)) < 1e-12
    md = compare_markdown(table)
    assert "| 96.8% | 54.7% | -42.1 pts | A |" in md
    assert "| 210 | 523 | +313 | A |" in md
    # both hydrant shortfalls, each named by its rule; B lacks the minimum placement
    assert "spacing rule" in md and "| 49.3% | – | – | – |" in md


def test_comparing_scenarios_includes_their_hydrant_figures(tmp_path):
    sc = str(REPO / "scenarios" / "helsinki.yaml")
    assert main(["--quiet", "compare", sc, sc, "--out", str(tmp_path)]) == 0
    table = json.loads((tmp_path / "compare.json").read_text(encoding="utf-8"))
    rows = {r["metric"]: r for r in table["metrics"]}
    assert rows["hydrants_protected_share"]["a"] is not None
    assert rows["hydrants_protected_share"]["b_minus_a"] == 0
    assert rows["hydrants_shortfall_share"]["a"] > 0


def test_unscored_sides_are_named_and_beyond_horizon_responses_kept():
    std = {"turnout_s": 60.0, "travel_s": 240.0}
    a = {"scenario": "plan A", "covered_share": 0.4, "horizon_s": 960.0, "standard": std,
         "response_s": {"p50": 300.0, "p90": None, "beyond_horizon_share": 0.2},
         "requirement": {"stations_required": 9, "new_needed_after_plan": 3}}
    b = {"scenario": "plan B", "horizon_s": 960.0, "standard": std,
         "optimise": {"new_sites": 2, "covered_share_after": 0.7}}
    table = compare_summaries(a, b)
    rows = {r["metric"]: r for r in table["metrics"]}
    assert rows["response_p90_s"]["a"] is None  # kept: beyond the horizon, not missing
    assert rows["stations_required"]["a"] == 9 and rows["optimise_new_sites"]["b"] == 2
    md = compare_markdown(table)
    assert "| Response p90 (s) 90%响应时间 | > 1,020 | – |" in md
    assert "B (plan B) holds no scoring results" in md and "A (plan A)" not in md
    assert "New stations still needed after the plan" in md
    assert "| Covered with the proposed sites 加建议站点后覆盖率 | – | 70.0% |" in md
