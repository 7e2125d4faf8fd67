"""Compare two plans from their summaries (``covplan compare A B``)."""
from __future__ import annotations

from typing import Any, Mapping

#: (key, label, path into summary.json, higher is better)
METRICS = (
    ("covered_share", "Demand covered within standard 标准内覆盖率", ("covered_share",), True),
    ("response_p50_s", "Response p50 (s) 响应时间中位数", ("response_s", "p50"), False),
    ("response_p90_s", "Response p90 (s) 90%响应时间", ("response_s", "p90"), False),
    ("response_max_s", "Response max (s; – when some demand is beyond the horizon) 最长响应时间", ("response_s", "max"), False),
    ("response_max_reached_s", "Response max of reached demand (s) 已到达需求最长响应时间", ("response_s", "max_reached"), False),
    ("beyond_horizon_share", "Demand beyond the drive horizon 超出计算范围需求", ("response_s", "beyond_horizon_share"), False),
    ("stations", "Stations scored 站点数", ("comparison", "existing_plus_planned", "stations"), None),
    ("added_share", "Coverage added by planned stations 规划新增覆盖", ("comparison", "added_share"), True),
    ("stations_over_cap", "Stations over district cap 超辖区面积站点", ("stations_over_cap",), False),
    ("hydrants_protected_share", "Road length protected by hydrants 消火栓保护率", ("hydrants", "protected_share"), True),
    ("hydrants_shortfall_share", "Hydrant shortfall, spacing rule 消火栓缺口（间距规则）", ("hydrants", "shortfall_share"), False),
    ("hydrants_shortfall_min_share", "Hydrant shortfall, minimum placement 消火栓缺口（最少布置）",
     ("hydrants", "shortfall_share_min_placement"), False),
    ("stations_required", "Stations the standard requires (by coverage) 按覆盖需设站数",
     ("requirement", "stations_required"), None),
    ("new_needed_after_plan", "New stations still needed after the plan 规划后仍需新增",
     ("requirement", "new_needed_after_plan"), False),
    ("optimise_new_sites", "New sites proposed 建议新增站点", ("optimise", "new_sites"), None),
    ("proposed_covered_share", "Covered with the proposed sites 加建议站点后覆盖率",
     ("optimise", "covered_share_after"), True),
)
#: The metrics a scoring run gives; a side with none of them is not a scored plan.
_SCORED = ("covered_share",)
_MISSING = object()


def _get(summary: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """The value at ``path``; :data:`_MISSING` when the summary has no such entry (``None`` is a
    value: a response time beyond the drive horizon)."""
    value: Any = summary
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return _MISSING
        value = value[key]
    if isinstance(value, list):
        return len(value)
    return value


def compare_summaries(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict:
    """Side-by-side metrics of two summaries with differences (B - A) and which is better."""
    rows = []
    notes = []
    for side, summ in (("A", a), ("B", b)):
        if all(_get(summ, (k,)) is _MISSING for k in _SCORED):
            notes.append(f"{side} ({summ.get('scenario', side)}) holds no scoring results (an optimise- "
                         "or hydrants-only run?): its coverage rows are empty; compare `covplan run` "
                         "or `covplan score` folders, or the scenarios themselves")
    for key, label, path, higher_better in METRICS:
        va, vb = _get(a, path), _get(b, path)
        if va is _MISSING and vb is _MISSING:
            continue
        missing = [side for side, v in (("A", va), ("B", vb)) if v is _MISSING]
        va, vb = (None if v is _MISSING else v for v in (va, vb))
        if va is None and vb is None and not path[0] == "response_s":
            continue
        diff = None
        better = None
        if isinstance(va, (int, float)) and isinstance(vb, (int, float)):
            diff = vb - va
            if higher_better is not None and diff != 0:
                better = "B" if (diff > 0) == higher_better else "A"
        rows.append({"metric": key, "label": label, "a": va, "b": vb, "b_minus_a": diff, "better": better,
                     "missing": missing})
    return {"a": a.get("scenario", "A"), "b": b.get("scenario", "B"), "metrics": rows, "notes": notes,
            "horizon": {"A": _response_horizon(a), "B": _response_horizon(b)}}


def _response_horizon(summary: Mapping[str, Any]) -> float | None:
    """Turnout + drive horizon of a summary: a response time of ``None`` lies beyond it."""
    try:
        return float(summary["standard"]["turnout_s"]) + float(summary["horizon_s"])
    except (KeyError, TypeError, ValueError):
        return None


def compare_markdown(table: Mapping[str, Any]) -> str:
    """The comparison as a Markdown table."""

    def fmt(v: Any, key: str, diff: bool = False, side: str | None = None) -> str:
        if v is None:
            h = (table.get("horizon") or {}).get(side) if side else None
            if key.startswith("response_") and not key.endswith("_share") and h:
                return f"> {h:,.0f}"  # beyond the drive horizon
            return "–"
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return str(v)
        if key.endswith("_share"):  # shares as percent, differences in percentage points
            return f"{100 * v:+.1f} pts" if diff else f"{100 * v:.1f}%"
        if key.endswith("_s"):
            return f"{v:+,.0f}" if diff else f"{v:,.0f}"
        return f"{v:+,g}" if diff else f"{v:,g}"

    lines = [f"# Compare 方案对比: A = {table['a']} / B = {table['b']}", "",
             "| metric 指标 | A | B | B − A | better 更优 |", "|---|---|---|---|---|"]
    for r in table["metrics"]:
        k = r["metric"]
        gone = r.get("missing") or []
        lines.append(f"| {r['label']} | {fmt(r['a'], k, side=None if 'A' in gone else 'A')} "
                     f"| {fmt(r['b'], k, side=None if 'B' in gone else 'B')} "
                     f"| {fmt(r['b_minus_a'], k, True)} | {r['better'] or '–'} |")
    for note in table.get("notes") or []:
        lines += ["", f"> {note}"]
    return "\n".join(lines) + "\n"
