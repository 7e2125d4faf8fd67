"""Compare two plans from their summaries (``covplan compare A B``)."""
from __future__ import annotations

import json
import os
from pathlib import Path
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
#: What each metric depends on besides the plan (see :func:`comparability`); metrics not named
#: here depend on the standard, the study area and network, the road speeds, and the demand.
_COVERAGE = ("standard", "area", "speeds", "demand")
_DEPENDS = {
    "stations": (),
    "response_max_reached_s": _COVERAGE + ("horizon",),
    "beyond_horizon_share": _COVERAGE + ("horizon",),
    # network districts: the land each station reaches first, by travel time
    "stations_over_cap": ("caps", "standard", "area", "speeds"),
    "hydrants_protected_share": ("area", "hydrant_rules"),
    "hydrants_shortfall_share": ("area", "hydrant_rules", "hydrant_counting"),
    "hydrants_shortfall_min_share": ("area", "hydrant_rules", "hydrant_placement"),
}
#: Differences that leave the runs comparable but for the rows depending on them (noted under
#: the table, not in the "not comparable" block).
_LOCAL = ("horizon", "hydrant_placement", "hydrant_counting")
#: How the "better" column names a difference.
_DIFFER = {"standard": "standards differ", "caps": "district caps or their measure differ",
           "area": "study areas differ", "speeds": "road speeds differ", "demand": "demand differs",
           "horizon": "drive horizons differ", "hydrant_rules": "hydrant rules differ",
           "hydrant_placement": "hydrants placed for other rules",
           "hydrant_counting": "shortfalls count other hydrants"}
#: How the speed model's options (summary.json ``speeds``, see :func:`coverage.pipeline.speed_summary`)
#: read; ``{a}``/``{b}`` are values as :func:`_speed_show` shows them. Options not named here read
#: by their own name.
_SPEED_TEXT = {"congestion": "congestion factor {a} (A) vs {b} (B)",
               "signal_delay_s": "signal delay {a} (A) vs {b} (B)",
               "use_maxspeed": "OSM maxspeed used: {a} (A) vs {b} (B)",
               "max_kmh": "speed cap {a} (A) vs {b} (B)",
               "maxspeed_class_factor": "maxspeed capped at the class speed × {a} (A) vs × {b} (B)",
               "unknown_kmh": "roads of unknown classes {a} (A) vs {b} (B)"}
#: The metrics a scoring run gives; a side with none of them is not a scored plan.
_SCORED = ("covered_share",)
_MISSING = object()


def _get(summary: Mapping[str, Any], path: tuple[str, ...], *, count: bool = True) -> Any:
    """The value at ``path`` (a list as its length, unless not ``count``); :data:`_MISSING` when
    the summary has no such entry (``None`` is a value: a response time beyond the drive horizon)."""
    value: Any = summary
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return _MISSING
        value = value[key]
    if count and isinstance(value, list):
        return len(value)
    return value


def comparability(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[list[dict], list[dict]]:
    """What differs between two summaries besides the plan, so that their metrics do not compare.

    Checks the standard (turnout, travel budget, each class's travel budget, district caps and
    how district land is measured), the study area and
    road network (the network's nodes, edges, road length and CRS; the study area's size and the
    district names), the road speeds (each class's km/h, congestion, signal delay, the maxspeed
    rule and caps, roads of unknown classes), the demand (kind, units, total weight, roads left
    out), the drive horizon and the hydrant rules (radius, spacing, roads left out).

    Returns
    -------
    differences
        ``{"check", "field", "a", "b", "text"}`` for each field that differs; ``check`` is one of
        ``standard``, ``caps`` (district caps, and what district land measures), ``area``,
        ``speeds``, ``demand``, ``horizon``, ``hydrant_rules``.
    unchecked
        ``{"check", "field", "missing"}`` for each field a summary lacks (``missing``: the sides
        lacking it, ``"A"``/``"B"``): whether it differs is unknown. ``field`` is the check's
        name when a summary lacks the whole section (``standard``, ``demand``, ``network``,
        ``speeds``).
    """
    differences: list[dict] = []
    unchecked: list[dict] = []

    def check(kind: str, field: str, va: Any, vb: Any, text: str) -> None:
        """Compare one field; ``text`` with ``{a}``/``{b}`` says how it differs."""
        missing = [side for side, v in (("A", va), ("B", vb)) if v is _MISSING]
        if missing:
            unchecked.append({"check": kind, "field": field, "missing": missing})
        elif not _same(va, vb):
            differences.append({"check": kind, "field": field, "a": va, "b": vb,
                                "text": f"{_DIFFER[kind]}: {text.format(a=_show(va), b=_show(vb))}"})

    def section(kind: str, key: str) -> bool:
        """Whether both summaries hold section ``key``; else one unchecked entry for it."""
        missing = [side for side, s in (("A", a), ("B", b)) if not isinstance(s.get(key), Mapping)]
        if missing:
            unchecked.append({"check": kind, "field": key, "missing": missing})
        return not missing

    if section("standard", "standard"):
        sa, sb = a["standard"], b["standard"]
        for field, what in (("turnout_s", "turnout"), ("travel_s", "travel budget")):
            check("standard", field, sa.get(field, _MISSING), sb.get(field, _MISSING),
                  what + " {a} s (A) vs {b} s (B)")
        # a class without its own budget has the default one (compared above)
        ca, cb = (s.get("class_travel_s") if isinstance(s.get("class_travel_s"), Mapping) else {}
                  for s in (sa, sb))
        for cls in sorted(set(ca) | set(cb), key=str):
            check("standard", f"class_travel_s.{cls}", ca.get(cls, sa.get("travel_s", _MISSING)),
                  cb.get(cls, sb.get("travel_s", _MISSING)),
                  f"travel budget of class {cls} " + "{a} s (A) vs {b} s (B)")
        # the district caps (summaries from before they were written: not checked)
        qa, qb = (s.get("caps_km2") if isinstance(s.get("caps_km2"), Mapping) else _MISSING for s in (sa, sb))
        if qa is _MISSING or qb is _MISSING:
            check("caps", "caps_km2", qa, qb, "")
        else:
            for cls in sorted(set(qa) | set(qb), key=str):
                check("caps", f"caps_km2.{cls}", qa.get(cls, _MISSING), qb.get(cls, _MISSING),
                      f"district cap of class {cls} " + "{a} km² (A) vs {b} km² (B)")
    # what district km² measures: the whole study area, or the land within fill_m of a road
    fa, fb = (_get(s, ("district_land", "fill_m"), count=False) for s in (a, b))
    check("caps", "district_land.fill_m", fa, fb,
          "district land {a} (A) vs {b} (B)".replace("{a}", _land_text(fa)).replace("{b}", _land_text(fb)))
    # and whether it stops at the road extract (summaries without beyond_km2 gave the land beyond
    # it, whose roads are unknown, to the edge stations)
    if all(isinstance(s.get("district_land"), Mapping) for s in (a, b)):
        clipped = ["up to the road extract" if "beyond_km2" in s["district_land"] else
                   "beyond the road extract too" for s in (a, b)]
        check("caps", "district_land.beyond_km2", *clipped, "district land {a} (A) vs {b} (B)")
        if clipped[0] == clipped[1]:  # the same rule: the same land, unless the extents differ
            check("caps", "district_land.land_km2", *(_get(s, ("district_land", "land_km2")) for s in (a, b)),
                  "district land {a} km² (A) vs {b} km² (B): other road extents or study areas")
    if section("area", "network"):
        check("area", "network", _network(a), _network(b), "road network {a} (A) vs {b} (B)")
    check("area", "study_area_km2", _study_area(a), _study_area(b), "study area {a} (A) vs {b} (B)")
    names = [_district_names(s) for s in (a, b)]
    check("area", "districts", *names, "districts {a} (A) vs {b} (B)")
    # the speeds travel times were computed with (summaries from before they were written: not checked)
    if section("speeds", "speeds"):
        for field, va, vb, text in _speed_pairs(a["speeds"], b["speeds"]):
            check("speeds", field, va, vb, text)
    def fields(kind: str, key: str, pairs: tuple) -> None:
        """Compare the ``(field, text)`` pairs of section ``key`` of both summaries."""
        for field, what in pairs:
            check(kind, field, _get(a, (key, field), count=False), _get(b, (key, field), count=False), what)

    if section("demand", "demand"):
        fields("demand", "demand", (("kind", "demand of kind {a} (A) vs {b} (B)"),
                                    ("units", "{a} demand units (A) vs {b} (B)"),
                                    ("total_weight", "total demand {a} (A) vs {b} (B)"),
                                    ("excluded_roads", "roads left out {a} (A) vs {b} (B)")))
    # set by the standard and the plan's station classes: the rows on demand beyond it do not compare
    check("horizon", "horizon_s", _get(a, ("horizon_s",)), _get(b, ("horizon_s",)),
          "{a} s (A) vs {b} s (B), set by the standard and the plans' station classes: demand "
          "beyond it, and the longest response of reached demand, do not compare")
    if isinstance(a.get("hydrants"), Mapping) and isinstance(b.get("hydrants"), Mapping):
        fields("hydrant_rules", "hydrants", (("radius_m", "protection radius {a} m (A) vs {b} m (B)"),
                                             ("spacing_m", "spacing {a} m (A) vs {b} m (B)"),
                                             ("exclude", "roads left out {a} (A) vs {b} (B)")))
        # the minimum placement's rule only (summaries from before it was written placed for protection)
        placed = [_get(s, ("hydrants", "propose_for"), count=False) for s in (a, b)]
        check("hydrant_placement", "propose_for", *[("protection" if v is _MISSING else v) for v in placed],
              "minimum placement for the {a} (A) vs the {b} (B): only its shortfall does not compare")
        # summaries from before existing_in_spacing_rule set the spacing rule against every hydrant
        counted = ["all existing hydrants" if _get(s, ("hydrants", "existing_in_spacing_rule"), count=False)
                   is _MISSING else "the existing hydrants protecting a counted road" for s in (a, b)]
        check("hydrant_counting", "existing_in_spacing_rule", *counted,
              "spacing-rule shortfall set against {a} (A) vs {b} (B): only that shortfall does not compare")
    return differences, unchecked


def _speed_pairs(sa: Mapping[str, Any], sb: Mapping[str, Any]) -> list[tuple[str, Any, Any, str]]:
    """``(field, a, b, text)`` for each class's km/h and each option of two ``speeds`` sections;
    ``text`` names the values already (a class one side gives no speed of its own: ``none``)."""
    ka, kb = (s.get("speeds_kmh") if isinstance(s.get("speeds_kmh"), Mapping) else _MISSING for s in (sa, sb))
    if ka is _MISSING or kb is _MISSING:
        pairs = [("speeds_kmh", ka, kb, "")]
    else:
        pairs = [(f"speeds_kmh.{cls}", ka.get(cls), kb.get(cls), f"speed of class {cls} " + "{a} (A) vs {b} (B)")
                 for cls in sorted(set(ka) | set(kb), key=str)]
    others = sorted((set(sa) | set(sb)) - set(_SPEED_TEXT) - {"speeds_kmh"}, key=str)
    pairs += [(field, sa.get(field, _MISSING), sb.get(field, _MISSING),
               _SPEED_TEXT.get(field, field + " {a} (A) vs {b} (B)")) for field in [*_SPEED_TEXT, *others]]
    return [(field, va, vb, text.replace("{a}", _speed_show(field, va)).replace("{b}", _speed_show(field, vb)))
            for field, va, vb, text in pairs]


def _speed_show(field: str, v: Any) -> str:
    """A speed model value as text, with its unit (km/h, s); ``None`` is ``dropped`` for roads of
    unknown classes, else ``none``."""
    if v is _MISSING:
        return "unknown"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if v is None:
        return "dropped" if field == "unknown_kmh" else "none"
    if field == "unknown_kmh":
        return f"at {_show(v)} km/h"
    if field.endswith("_kmh") or field.startswith("speeds_kmh."):
        return f"{_show(v)} km/h"
    return _show(v) + (" s" if field.endswith("_s") else "")


def _land_text(fill_m: Any) -> str:
    """How a summary measured district land, from its ``district_land.fill_m``."""
    if fill_m is _MISSING:
        return "unknown"
    return "over the whole study area" if fill_m is None else f"within {_show(fill_m)} m of a road"


def _same(x: Any, y: Any) -> bool:
    """Equal: numbers within rounding (summary.json rounds to 3 decimals), lists as sets."""
    if isinstance(x, (list, tuple, set)) and isinstance(y, (list, tuple, set)):
        return set(map(str, x)) == set(map(str, y))
    if (isinstance(x, (int, float)) and isinstance(y, (int, float))
            and not isinstance(x, bool) and not isinstance(y, bool)):
        return abs(x - y) <= max(1e-3, 1e-6 * max(abs(x), abs(y)))
    return x == y


def _show(v: Any) -> str:
    """A compared value as text: numbers without trailing zeros, lists as their items."""
    if isinstance(v, float):
        return f"{v:,.3f}".rstrip("0").rstrip(".")
    if isinstance(v, (list, tuple, set)):
        items = sorted(map(str, v))
        return ", ".join(items[:5]) + (f" ... ({len(items)} in all)" if len(items) > 5 else "") or "none"
    return str(v)


def _network(summary: Mapping[str, Any]) -> Any:
    """The road network's nodes, edges, road length and CRS as one text, or :data:`_MISSING`."""
    net = summary["network"]
    if not {"nodes", "edges"} <= set(net):
        return _MISSING
    km = net.get("road_km")
    return (f"{net['nodes']} nodes, {net['edges']} edges"
            + (f", {km:,.1f} km of road" if isinstance(km, (int, float)) else "")
            + (f", {net['crs']}" if net.get("crs") else ""))


def _study_area(summary: Mapping[str, Any]) -> Any:
    """The study area's size from a run's requirement, ``"none"`` without a study area, or
    :data:`_MISSING` (a summary without the requirement)."""
    by_area = _get(summary, ("requirement", "by_area"))
    if not isinstance(by_area, Mapping) or "area_source" not in by_area:
        return _MISSING
    if by_area["area_source"] != "study area":
        return "none"
    km2 = by_area.get("area_km2")
    return f"{km2:,.1f} km²" if isinstance(km2, (int, float)) else _MISSING


def _district_names(summary: Mapping[str, Any]) -> Any:
    """The names of the scenario's districts (sorted), or :data:`_MISSING`."""
    rows = summary.get("districts", _MISSING)
    if not isinstance(rows, list):
        return _MISSING
    return sorted({str(r.get("district")) for r in rows if isinstance(r, Mapping)})


def compare_summaries(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict:
    """Side-by-side metrics of two summaries with differences (B - A) and which is better.

    A metric that depends on something the two runs differ in (the standard, the study area, the
    demand ..., see :func:`comparability`) names no better plan: its ``not_comparable`` lists
    those checks, and the table's ``differences`` say what differs.
    """
    rows = []
    notes = []
    differences, unchecked = comparability(a, b)
    differ = {d["check"] for d in differences}
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
        apart = [c for c in _DEPENDS.get(key, _COVERAGE) if c in differ]
        if isinstance(va, (int, float)) and isinstance(vb, (int, float)):
            diff = vb - va
            if higher_better is not None and diff != 0 and not apart:
                better = "B" if (diff > 0) == higher_better else "A"
        rows.append({"metric": key, "label": label, "a": va, "b": vb, "b_minus_a": diff, "better": better,
                     "missing": missing, "not_comparable": apart})
    # the horizon follows the plan's station classes too, and the hydrant placement's rule bears
    # on one row: alone, they leave the runs comparable
    comparable = all(d["check"] in _LOCAL for d in differences)
    return {"a": a.get("scenario", "A"), "b": b.get("scenario", "B"), "comparable": comparable,
            "differences": differences, "unchecked": unchecked, "metrics": rows, "notes": notes,
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

    lines = [f"# Compare 方案对比: A = {table['a']} / B = {table['b']}", ""]
    differences = [d for d in table.get("differences") or [] if d.get("check") not in _LOCAL]
    if differences:
        lines += ["> **Not comparable 不可比**: A and B were not measured the same way, so no plan is "
                  "called better on the rows this affects:", ">"]
        lines += [f"> - {d['text']}" for d in differences]
        lines.append("")
    lines += ["| metric 指标 | A | B | B − A | better 更优 |", "|---|---|---|---|---|"]
    for r in table["metrics"]:
        k = r["metric"]
        gone = r.get("missing") or []
        apart = r.get("not_comparable") or []
        better = (f"not comparable: {', '.join(_DIFFER.get(c, c) for c in apart)}" if apart
                  else r["better"] or "–")
        lines.append(f"| {r['label']} | {fmt(r['a'], k, side=None if 'A' in gone else 'A')} "
                     f"| {fmt(r['b'], k, side=None if 'B' in gone else 'B')} "
                     f"| {fmt(r['b_minus_a'], k, True)} | {better} |")
    lines += [f"\n> {d['text']}" for d in table.get("differences") or [] if d.get("check") in _LOCAL]
    blind = _unchecked_text(table.get("unchecked") or [])
    if blind:
        lines += ["", f"> Not checked 未核对: {blind}: a summary lacks the fields (an older covplan, or "
                      "a run without scoring?), so whether A and B were measured the same way there "
                      "is unknown"]
    for note in table.get("notes") or []:
        lines += ["", f"> {note}"]
    return "\n".join(lines) + "\n"


def _unchecked_text(unchecked: list[Mapping[str, Any]]) -> str:
    """The sections (standard, road network, road speeds, demand) a summary lacks as a whole, by
    side."""
    what = {"standard": "the standard", "network": "the road network", "speeds": "the road speeds",
            "demand": "the demand"}
    by_sides: dict[tuple, list[str]] = {}
    for u in unchecked:
        if u.get("field") in what:
            by_sides.setdefault(tuple(u["missing"]), []).append(what[u["field"]])
    return "; ".join(f"{', '.join(names)} ({' and '.join(sides)} "
                     f"lack{'s' if len(sides) == 1 else ''} {'it' if len(names) == 1 else 'them'})"
                     for sides, names in by_sides.items())


def write_compare(out_dir: str | os.PathLike, table: Mapping[str, Any], markdown: str) -> Path:
    """Write ``compare.json`` and ``compare.md`` into ``out_dir`` and list them in its manifest.

    ``out_dir`` is a new or empty folder, a covplan report folder or an earlier comparison's (see
    :func:`coverage.report.check_out_folder`, called here too). The manifest
    (:data:`coverage.report.MARKER_FILE`) then lists the comparison beside the report's files, so
    that a later comparison may replace it and files covplan did not write stay recognisable. A
    run with the same ``--out`` is refused while the folder holds the comparison (it would
    delete it with the folder).

    Returns
    -------
    Path
        The folder.
    """
    from .report import (COMPARE_FILES, MARKER_FILE, REPORT_FILES, _manifest_files, check_out_folder,
                         write_json_atomic, write_text_atomic)

    out = Path(out_dir).expanduser().absolute()
    check_out_folder(out, command="compare")
    out.mkdir(parents=True, exist_ok=True)
    ours = _manifest_files(out / MARKER_FILE)
    if ours is None:  # new, empty, an earlier comparison, or a report from before the manifest
        ours = {e.name for e in out.iterdir() if e.is_file() and e.name in REPORT_FILES | COMPARE_FILES}
    write_json_atomic(out / "compare.json", table)
    write_text_atomic(out / "compare.md", markdown)
    # last, so that it lists every file of the folder
    write_text_atomic(out / MARKER_FILE, json.dumps({
        "note": "a folder written by covplan (a report, a comparison); compare may write into it "
                "again; a run with the same --out is refused while it holds compare.json, or files "
                "other than these",
        "files": sorted(ours | COMPARE_FILES)}, indent=1) + "\n")
    return out
