"""Run reports: one folder per run, written atomically.

A report folder holds ``layers.gpkg`` (one GeoPackage layer per result layer), one CSV per table,
``summary.json`` and ``summary.md``, plus any extra files (for example ``map.html``). Everything is
built in a temporary sibling folder and swapped in at the end, so a run that fails half-way leaves
the previous report exactly as it was.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .errors import DataError, InputError

__all__ = [
    "write_report",
    "markdown_summary",
    "write_json_atomic",
    "write_text_atomic",
    "to_jsonable",
]

#: GeoPackage file name inside a report folder.
LAYERS_FILE = "layers.gpkg"

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_\-\u4e00-\u9fff][A-Za-z0-9_.\-\u4e00-\u9fff]*$")


# --------------------------------------------------------------------------------------------
# atomic single-file helpers


def to_jsonable(obj: Any) -> Any:
    """Convert numpy / pandas / path / datetime values inside ``obj`` to plain JSON types.

    NaN and infinities become ``None`` (JSON has no such numbers); sets become sorted lists.
    """
    if isinstance(obj, Mapping):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, (set, frozenset)):
        return sorted((to_jsonable(v) for v in obj), key=repr)
    if isinstance(obj, np.ndarray):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (pd.Series, pd.Index)):
        return [to_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, pd.DataFrame):
        return [to_jsonable(r) for r in obj.to_dict(orient="records")]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        f = float(obj)
        return f if math.isfinite(f) else None
    if obj is None or isinstance(obj, str):
        return obj
    if obj is pd.NA or obj is pd.NaT:
        return None
    if isinstance(obj, (os.PathLike,)):
        return os.fspath(obj)
    if isinstance(obj, (_dt.datetime, _dt.date, pd.Timestamp)):
        return obj.isoformat()
    if hasattr(obj, "__geo_interface__"):
        return obj.__geo_interface__
    raise InputError(
        f"summary value {obj!r} of type {type(obj).__name__} cannot be written as JSON: expected "
        "numbers, strings, booleans, lists or mappings of them"
    )


def write_text_atomic(path: str | os.PathLike, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (temporary file in the same folder + ``os.replace``).

    Readers see either the old file or the complete new one, never a partial file.
    """
    return _write_bytes_atomic(Path(path), text.encode(encoding))


def write_json_atomic(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as UTF-8 JSON (``ensure_ascii=False``, numpy types converted) atomically."""
    text = json.dumps(to_jsonable(obj), ensure_ascii=False, indent=2, allow_nan=False)
    return write_text_atomic(path, text + "\n")


def _write_bytes_atomic(path: Path, data: bytes) -> Path:
    path = path.expanduser()
    folder = path.parent
    if not folder.is_dir():
        raise DataError(f"cannot write {str(path)!r}: folder {str(folder)!r} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with _suppress_os():
            os.unlink(tmp)
        raise
    return path


class _suppress_os:
    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        return exc_type is not None and issubclass(exc_type, OSError)


# --------------------------------------------------------------------------------------------
# report folder


def write_report(
    out_dir: str | os.PathLike,
    *,
    layers: Mapping[str, Any] | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    summary: Mapping[str, Any] | None = None,
    markdown: str | None = None,
    extra_files: Mapping[str, bytes | str] | None = None,
) -> Path:
    """Write one run's results to ``out_dir``, replacing any earlier report there atomically.

    Parameters
    ----------
    out_dir
        The report folder. Its parent must exist. An existing folder is replaced as a whole, and
        only once the new report is complete; on any error the old folder is left untouched.
    layers
        ``{name: GeoDataFrame}``; each becomes one layer of ``layers.gpkg`` (any CRS; written with
        its own CRS). Empty GeoDataFrames are written as empty layers.
    tables
        ``{name: DataFrame}``; each becomes ``name.csv`` (UTF-8 with BOM so spreadsheet programs
        show Chinese text correctly).
    summary
        Written as ``summary.json`` (UTF-8, numpy values converted, NaN as null).
    markdown
        ``summary.md``; by default :func:`markdown_summary` of ``summary``.
    extra_files
        ``{file name: bytes or str}`` written beside the rest (e.g. ``{"map.html": html}``).

    Returns
    -------
    Path
        The report folder.
    """
    out = Path(out_dir).expanduser().absolute()
    parent = out.parent
    if not parent.is_dir():
        raise DataError(f"cannot write report {str(out)!r}: folder {str(parent)!r} does not exist")
    if out.exists() and not out.is_dir():
        raise DataError(f"cannot write report {str(out)!r}: a file of that name exists (expected a folder)")
    check_out_folder(out)
    layers = dict(layers or {})
    tables = dict(tables or {})
    summary = dict(summary or {})
    extra_files = dict(extra_files or {})
    _check_names(layers, tables, extra_files)

    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=parent))
    try:
        if layers:
            _write_layers(tmp / LAYERS_FILE, layers)
        for name, table in tables.items():
            _write_table(tmp / f"{name}.csv", name, table)
        (tmp / "summary.json").write_text(
            json.dumps(to_jsonable(summary), ensure_ascii=False, indent=2, allow_nan=False) + "\n",
            encoding="utf-8",
        )
        md = markdown if markdown is not None else markdown_summary(summary)
        (tmp / "summary.md").write_text(md, encoding="utf-8")
        for name, content in extra_files.items():
            data = content.encode("utf-8") if isinstance(content, str) else bytes(content)
            (tmp / name).write_bytes(data)
        # last, so that it lists every file of the report
        written = sorted(e.name for e in tmp.iterdir())
        (tmp / MARKER_FILE).write_text(json.dumps({
            "note": "a report folder written by covplan; the next run with the same --out replaces "
                    "it as a whole, unless it then holds files other than these",
            "files": written}, indent=1) + "\n", encoding="utf-8")
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


#: Marks a folder as a covplan report, which a later run may replace as a whole.
MARKER_FILE = ".covplan-report"
#: Every file name covplan writes into a report folder (``covplan run`` and the single steps).
REPORT_FILES = frozenset({"summary.json", "summary.md", LAYERS_FILE, "stations.csv", "demand.csv",
                          "districts.csv", "proposed.csv", "hydrants.json", "map.html"})
#: The files ``covplan compare --out`` writes (into a new, empty or covplan folder).
COMPARE_FILES = frozenset({"compare.json", "compare.md"})


def check_out_folder(out: str | os.PathLike, *, command: str = "run") -> None:
    """Refuse an ``--out`` that is a file, or a folder holding anything but the files of a covplan
    report: a run replaces its folder as a whole (a scenario file or notes kept there would be
    lost), so it also refuses a folder holding a comparison (``compare.json``) even though
    covplan wrote it; ``command="compare"`` accepts an earlier comparison there (``compare.json``,
    with or without ``compare.md``), which it overwrites.
    The CLI calls this before any work; :func:`write_report` again before writing.

    A folder is accepted when it is empty, carries the manifest :data:`MARKER_FILE` and holds only
    the files it lists, or, written before the manifest existed, holds ``summary.json`` and only
    files of the names covplan writes for a report (:data:`REPORT_FILES`).
    """
    out = Path(out).expanduser().absolute()
    _check_not_a_file(out)
    if not out.is_dir():
        return
    # compare's own files: only beside its compare.json (a lone compare.md may be the user's)
    earlier = command == "compare" and (out / "compare.json").is_file()
    foreign = _foreign_files(out, COMPARE_FILES if earlier else frozenset())
    if not foreign and command != "compare" and (out / "compare.json").is_file():
        # covplan wrote it, but a run would delete a comparison the user may still need
        raise InputError(
            f"--out folder {str(out)!r} holds a comparison (compare.json, compare.md from covplan "
            "compare) that a run would delete with the folder: move it, or choose a new or empty "
            f"folder, e.g. {str(out / 'report')!r}")
    if not foreign:
        return
    shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
    what = ("compare writes compare.json and compare.md into it, so choose a new or empty "
            "folder, or a covplan report folder" if command == "compare" else
            "a run replaces its --out folder as a whole, so choose a new or empty folder")
    raise InputError(
        f"--out folder {str(out)!r} is not a covplan report folder (it holds {shown}, which covplan "
        f"did not write as part of a report); {what}, e.g. {str(out / 'report')!r}"
    )


def _check_not_a_file(out: Path) -> None:
    """Refuse an ``--out`` path that is, or lies inside, an existing file."""
    for p in (out, *out.parents):
        if p.is_dir():
            return
        if p.exists() or p.is_symlink():
            where = ("exists and is not a folder" if p == out
                     else f"lies inside {str(p)!r}, which is a file, not a folder")
            raise InputError(
                f"--out {str(out)!r} {where}: expected a folder (new, empty, or an earlier covplan "
                f"report); choose another path, e.g. {str(p.with_name(p.name + '-report'))!r}"
            )


def _foreign_files(out: Path, allowed: frozenset[str]) -> list[str]:
    """Names of the entries of folder ``out`` that are neither its report's files nor
    ``allowed`` (sorted); all of them when ``out`` is no covplan report."""
    entries = [e for e in out.iterdir()
               if e.name != MARKER_FILE and not (e.name in allowed and e.is_file())]
    names = {e.name for e in entries}
    ours = _manifest_files(out / MARKER_FILE)
    if ours is not None:
        return sorted(names - ours)
    if not names or ("summary.json" in names and all(e.is_file() and e.name in REPORT_FILES for e in entries)):
        return []  # empty (but for allowed files), or a report written before the manifest existed
    return sorted(names - REPORT_FILES) or sorted(names)


def _manifest_files(marker: Path) -> set[str] | None:
    """The file names a report folder's manifest lists, or None without a readable manifest."""
    try:
        files = json.loads(marker.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return None
    return set(files)


def _check_names(layers: Mapping, tables: Mapping, extra_files: Mapping) -> None:
    for kind, names in (("layer", layers), ("table", tables), ("extra file", extra_files)):
        for name in names:
            if not isinstance(name, str) or not _SAFE_NAME.match(name) or name in (".", ".."):
                raise InputError(
                    f"report {kind} name {name!r} is not a plain file name: expected letters, "
                    "digits, '_', '-', '.' (no folders)"
                )
    reserved = {"summary.json", "summary.md", LAYERS_FILE} | {f"{t}.csv" for t in tables}
    clash = sorted(set(extra_files) & reserved)
    if clash:
        raise InputError(f"report extra file name(s) {clash} clash with the report's own files")


def _write_layers(path: Path, layers: Mapping[str, Any]) -> None:
    import geopandas as gpd
    import pyogrio

    for name, gdf in layers.items():
        if not isinstance(gdf, gpd.GeoDataFrame):
            raise InputError(
                f"report layer {name!r} is a {type(gdf).__name__}: expected a GeoDataFrame"
            )
        frame = _gpkg_ready(gdf)
        try:
            pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", append=path.exists())
        except Exception as exc:  # GDAL errors come in many types
            raise DataError(
                f"report layer {name!r} could not be written to {path.name} "
                f"({type(exc).__name__}: {exc})"
            ) from exc


def _gpkg_ready(gdf):
    """A copy with column types GeoPackage can hold (lists/dicts as JSON text)."""
    frame = gdf.copy()
    geom = frame.geometry.name
    for col in frame.columns:
        if col == geom:
            continue
        s = frame[col]
        if s.dtype == object:
            if s.map(lambda v: isinstance(v, (list, tuple, dict, set, np.ndarray))).any():
                frame[col] = s.map(
                    lambda v: json.dumps(to_jsonable(v), ensure_ascii=False)
                    if isinstance(v, (list, tuple, dict, set, np.ndarray)) else v
                )
    return frame


def _write_table(path: Path, name: str, table: pd.DataFrame) -> None:
    if not isinstance(table, pd.DataFrame):
        raise InputError(f"report table {name!r} is a {type(table).__name__}: expected a DataFrame")
    frame = table
    if "geometry" in frame.columns or hasattr(frame, "geometry"):
        frame = pd.DataFrame(frame).copy()
        for col in frame.columns:
            if frame[col].map(lambda v: hasattr(v, "wkt")).any():
                frame[col] = frame[col].map(lambda v: v.wkt if hasattr(v, "wkt") else v)
    frame.to_csv(path, index=False, encoding="utf-8-sig")


def _swap_in(tmp: Path, out: Path) -> None:
    """Replace ``out`` with ``tmp``: old -> backup, new -> out, delete backup; roll back on error."""
    if not out.exists():
        os.rename(tmp, out)
        return
    backup = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
    os.rename(out, backup)
    try:
        os.rename(tmp, out)
    except BaseException:
        os.rename(backup, out)
        raise
    shutil.rmtree(backup, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Markdown summary


def _pct(x: Any) -> str:
    try:
        return f"{100.0 * float(x):.1f}%"
    except (TypeError, ValueError):
        return str(x)


def _left_out(km_by_kind: Any) -> str:
    """'tunnel 4.5 km, motorway 11.0 km' for the road kinds left out (empty when none)."""
    if not isinstance(km_by_kind, Mapping):
        return ""
    names = {"tunnel": "隧道 tunnels", "bridge": "桥梁/高架 bridges and viaducts", "motorway": "高速公路 motorways",
             "service": "内部道路 service roads",
             "second_carriageway": "双幅路另一幅 second carriageways of divided roads"}
    return ", ".join(f"{names.get(str(k), str(k))} {_num(float(v), 1)} km"
                     for k, v in km_by_kind.items() if v is not None and float(v) > 0)


def _no_district(st: Mapping) -> bool:
    """A station of a class with no district (logistics support): listed, not scored."""
    from .scenario import NO_DISTRICT_CLASSES

    return st.get("class") in NO_DISTRICT_CLASSES and st.get("status") != "candidate"


def _num(x: Any, digits: int = 1) -> str:
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
        return f"{int(x):,}"
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(f):
        return "-"
    return f"{f:,.{digits}f}"


def _md_cell(x: Any) -> str:
    """Text from the scenario or data for Markdown: one line, table-safe, and no raw HTML (a
    station named ``<img ...>`` must not render as markup in a Markdown viewer)."""
    text = str(x).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("\n", " ")


def _scored_classes(stations: Any) -> list[str] | None:
    """Classes of the scored (existing / planned) stations in a summary's station list."""
    if not isinstance(stations, (list, tuple)):
        return None
    out = []
    for st in stations:
        if not isinstance(st, Mapping) or st.get("class") is None:
            continue
        scored = st.get("scored")
        if scored is None:
            scored = st.get("status") in ("existing", "planned")
        if scored and str(st["class"]) not in out:
            out.append(str(st["class"]))
    return out


def _class_budgets(std: Mapping[str, Any], classes: list[str] | None) -> list[tuple[str, float]]:
    """(class, driving budget) for classes whose budget differs from the standard's ``travel_s``;
    only the ``classes`` given (all when ``None``)."""
    per = std.get("class_travel_s") if isinstance(std.get("class_travel_s"), Mapping) else {}
    travel = std.get("travel_s")
    out = []
    for cls, b in per.items():
        if b is None or (classes is not None and str(cls) not in classes):
            continue
        if travel is not None and float(b) == float(travel):
            continue
        out.append((str(cls), float(b)))
    return out


def standard_label(std: Mapping[str, Any] | None, classes: list[str] | None = None) -> str:
    """The response standard in words, from a summary's ``standard`` dict, e.g.
    ``"60 s turnout + 240 s drive; small stations 120 s drive"``.

    ``classes`` limits the per-class driving budgets (``class_travel_s``) named to those classes
    (all when ``None``). Empty when the standard has no turnout / travel times.
    """
    if not isinstance(std, Mapping):
        return ""
    t, d = std.get("turnout_s"), std.get("travel_s")
    if t is None or d is None:
        return ""
    text = f"{_num(t, 0)} s turnout + {_num(d, 0)} s drive"
    extra = [f"{cls} stations {_num(b, 0)} s drive" for cls, b in _class_budgets(std, classes)]
    return text + ("; " + ", ".join(extra) if extra else "")


def markdown_summary(summary: Mapping[str, Any]) -> str:
    """A short bilingual Markdown summary of a run, in the plans' own terms.

    Reads (all optional): ``name``/``scenario``; ``standard`` (``turnout_s``, ``travel_s``,
    ``class_travel_s``); ``covered_share`` (reached within each station class's own standard);
    ``response_s`` (``p50``, ``p90``, ``mean``, ``max``, ``mean_reached``, ``max_reached``,
    ``beyond_horizon_share``) with ``horizon_s`` (a drive-time cutoff); ``stations`` (list of dicts
    with ``id``, ``name``, ``class``, ``status``, ``district_km2``/``area_km2``, ``cap_km2``,
    ``over_cap``); ``comparison`` (``existing``/``plan`` covered shares); ``requirement`` or
    ``stations_required`` / ``stations_existing`` and ``hydrants`` (``required``, ``existing``,
    ``shortfall``). Missing sections are left out.
    """
    s = dict(summary or {})
    lines: list[str] = []
    title = s.get("name") or s.get("scenario") or "Coverage report"
    lines += [f"# {_md_cell(title)}", ""]

    std = s.get("standard") if isinstance(s.get("standard"), Mapping) else {}
    turnout = std.get("turnout_s")
    classes = _scored_classes(s.get("stations"))

    cov_lines = []
    who = _scored_by(s.get("comparison"))
    if s.get("covered_share") is not None:
        label = standard_label(std, classes)
        cov_lines.append(
            f"- 按标准到达 / reached within the standard{f' ({label})' if label else ''}{who}: "
            f"**{_pct(s['covered_share'])}** of demand"
        )
    if turnout is not None and std.get("travel_s") is not None:
        t, d = float(turnout), float(std["travel_s"])
        line = (f"- 标准 / standard: {_num(t, 0)} s 出动 turnout + {_num(d, 0)} s 行车 drive "
                f"= {_num(t + d, 0)} s")
        for cls, b in _class_budgets(std, classes):
            line += f"; {_md_cell(cls)} 类站 stations: {_num(t, 0)} s + {_num(b, 0)} s = {_num(t + b, 0)} s"
        cov_lines.append(line)
    rs = s.get("response_s")
    if isinstance(rs, Mapping) and rs:
        horizon = s.get("horizon_s")
        beyond = rs.get("beyond_horizon_share") or 0
        # the horizon is a drive-time cutoff: as a response time it is turnout + horizon
        if horizon is not None and turnout is not None:
            over = f"> {_num(float(turnout) + float(horizon), 0)} s"
        elif horizon is not None:
            over = f"drive > {_num(horizon, 0)} s"
        else:
            over = "beyond the horizon"
        parts = []
        for k in ("p50", "p90", "mean", "max"):
            v = rs.get(k)
            if beyond and k in ("mean", "max"):
                # unreached demand makes these infinite; the reached-only figures follow below
                if k == "max":
                    parts.append(f"max {over}")
            elif v is not None:
                parts.append(f"{k} {_num(v, 0)} s")
            elif beyond:
                parts.append(f"{k} {over}")
        if parts:
            cov_lines.append(f"- 响应时间 / response time (出动 turnout + 行车 drive){who}: " + ", ".join(parts))
        if beyond:
            detail = ""
            if horizon is not None:
                detail = f" (行车 drive > {_num(horizon, 0)} s"
                detail += f", response {over})" if turnout is not None else ")"
            cov_lines.append(
                f"- 无法到达 / not reached within the drive horizon{detail}: {_pct(beyond)} "
                "of demand (islands, one-way dead ends or roads far from every station)")
            reached = [f"{lab} {_num(rs[k], 0)} s" for k, lab in (("mean_reached", "mean"),
                                                                   ("max_reached", "max"))
                       if rs.get(k) is not None]
            if reached:
                cov_lines.append(f"- 已到达的需求 / reached demand only ({_pct(1 - float(beyond))}): "
                                 + ", ".join(reached))
    if s.get("uncovered_km") is not None:
        cov_lines.append(f"- 未覆盖道路 / uncovered roads: {_num(s['uncovered_km'])} km")
    cmp_ = s.get("comparison")
    if isinstance(cmp_, Mapping):
        ex, pl = cmp_.get("existing"), cmp_.get("plan", cmp_.get("existing_plus_planned"))
        if isinstance(ex, Mapping):
            ex = ex.get("covered_share")
        if isinstance(pl, Mapping):
            pl = pl.get("covered_share")
        if ex is not None and pl is not None:
            gain = float(pl) - float(ex)
            cov_lines.append(
                f"- 现有站 / existing stations: {_pct(ex)}; 加规划站 / with planned: {_pct(pl)} "
                f"(+{100 * gain:.1f} points)"
            )
    dem = s.get("demand")
    left_out = _left_out(dem.get("excluded_km") if isinstance(dem, Mapping) else None)
    if left_out:
        cov_lines.append(f"- 不计入需求的道路 / roads left out of demand: {left_out}")
    if isinstance(dem, Mapping) and dem.get("far_cells"):
        cov_lines.append(f"- 不计入需求的网格 / grid cells left out of demand: {_num(dem['far_cells'], 0)} "
                         f"({_num(dem.get('far_km2'))} km²), farther than the access distance from any street")
    if cov_lines:
        lines += ["## 覆盖 Coverage", ""] + cov_lines + [""]

    dists = s.get("districts")
    if isinstance(dists, (list, tuple)) and dists:
        lines += ["## 分区 Districts", "",
                  "| 分区 district | 现有站覆盖 existing | 加规划站 with planned | 现有站 existing | 规划站 planned "
                  "| p90 响应 response | 超出计算范围 beyond horizon |", "|---|---|---|---|---|---|---|"]
        for d in dists:
            if not isinstance(d, Mapping):
                continue
            beyond = d.get("beyond_horizon_share")
            p90 = d.get("response_p90_s")
            p90_txt = "–" if not d.get("demand") else (
                f"{_num(p90, 0)} s" if p90 is not None else "beyond the horizon")
            lines.append("| " + " | ".join(_md_cell(v) for v in (
                d.get("district"),
                _pct(d["covered_share_existing"]) if d.get("covered_share_existing") is not None else "no demand",
                _pct(d["covered_share_plan"]) if d.get("covered_share_plan") is not None else "–",
                _num(d.get("stations_existing", 0), 0), _num(d.get("stations_planned", 0), 0),
                p90_txt, _pct(beyond) if beyond else "–")) + " |")
        lines.append("")

    stations = s.get("stations")
    if isinstance(stations, (list, tuple)) and stations:
        over = [st for st in stations if isinstance(st, Mapping) and st.get("over_cap")
                and st.get("status") != "candidate"]
        cands = sum(1 for st in stations if isinstance(st, Mapping) and st.get("status") == "candidate")
        logistics = sum(1 for st in stations if isinstance(st, Mapping) and _no_district(st))
        lines += ["## 消防站 Stations", ""]
        lines.append(
            f"- {len(stations)} 个站 stations"
            + (f" ({_count(cands, 'candidate')}, not scored: only the optimiser weighs candidates)" if cands else "")
            + (f" ({logistics} 战勤保障站 logistics-support, not scored: they supply the other stations and "
               "have no district, 建标152-2017)" if logistics else "")
            + f"; 辖区超标 / over their district cap: **{len(over)}**"
        )
        land = s.get("district_land")
        if isinstance(land, Mapping) and "fill_m" in land:
            beyond = land.get("beyond_km2")
            lines.append("- 辖区 district km²: the land each station reaches first (divided by the nearest road), "
                         + ("the whole study area" if land["fill_m"] is None else
                            f"within {_num(land['fill_m'], 0)} m of a road")
                         + (f"; {_num(beyond, 2)} km² beyond the road extract (its roads are unknown) is in "
                            "no district" if isinstance(beyond, (int, float)) and beyond >= 0.005 else ""))
        rows = [st for st in stations if isinstance(st, Mapping)]
        if rows:
            lines += ["", "| id | 名称 name | 类别 class | 状态 status | 辖区 district km² | 上限 cap km² | 超标 over cap |",
                      "|---|---|---|---|---|---|---|"]
            for st in rows:
                area = st.get("district_km2", st.get("area_km2"))
                cand = st.get("status") == "candidate" or _no_district(st)
                lines.append(
                    "| " + " | ".join(_md_cell(v) for v in (
                        st.get("id", ""), st.get("name", ""), st.get("class", ""),
                        st.get("status", ""),
                        "– (not scored)" if cand else _num(area, 2) if area is not None else "",
                        "–" if _no_district(st) else _num(st.get("cap_km2"), 1) if st.get("cap_km2") is not None else "",
                        "–" if cand else ("是 yes" if st.get("over_cap") else "否 no") if "over_cap" in st else "",
                    )) + " |"
                )
        lines.append("")

    req_lines = []
    req = s.get("requirement") if isinstance(s.get("requirement"), Mapping) else {}
    st_req = req.get("stations_required", s.get("stations_required"))
    st_ex = req.get("stations_existing", s.get("stations_existing"))
    if st_req is not None:
        req_lines.append(_shortfall_line("消防站 stations (按覆盖 by coverage)", st_req, st_ex))
        how = []
        if req.get("new_station_class"):
            how.append(f"new stations of class {_md_cell(req['new_station_class'])}")
        if isinstance(req.get("candidate_sites"), Mapping):
            how.append(_candidate_sites_text(req["candidate_sites"]))
        elif req.get("candidate_spacing_m"):  # a summary from before candidate_sites
            how.append(f"candidate sites every {_num(req['candidate_spacing_m'], 0)} m")
        if req.get("uncoverable_share"):
            how.append(f"{_pct(req['uncoverable_share'])} of demand no site reaches is left out")
        if req.get("status"):
            how.append(str(req["status"]) + (f", gap {_pct(req['gap'])}" if req.get("gap") else ""))
        if how:
            req_lines.append(f"  - 方法 / method: fewest stations reaching all reachable demand within the "
                             f"standard; {'; '.join(how)}")
        if req.get("new_needed_after_plan") is not None:
            req_lines.append(f"  - 加规划站后 / after the plan's {_num(req.get('stations_planned', 0), 0)} planned "
                             f"station(s): still short {_num(req['new_needed_after_plan'], 0)}")
    by_area = req.get("by_area")
    if isinstance(by_area, Mapping) and by_area.get("stations"):
        req_lines.append(
            f"- 消防站 stations (按辖区面积 by district area): {_num(by_area['area_km2'], 1)} km² "
            f"{_md_cell(by_area.get('area_source', ''))} / {_num(by_area['cap_km2'], 0)} km² per "
            f"{_md_cell(by_area.get('cap_of', 'class-1'))} district = at least {_num(by_area['stations'], 0)}" + (
                f", existing {_num(st_ex, 0)}" if st_ex is not None else ""))
    hyd = s.get("hydrants")
    if isinstance(hyd, Mapping):
        h_req = hyd.get("required", hyd.get("required_min_placement"))
        h_ex = hyd.get("existing")
        if hyd.get("required_spacing_rule") is not None:
            # the rule counts the counted road length only: the existing hydrants protecting one meet it
            h_sp = hyd.get("existing_in_spacing_rule", h_ex)
            label = "消火栓 hydrants (间距规则 spacing rule"
            if isinstance(h_sp, int) and isinstance(h_ex, int) and h_sp < h_ex:
                label += f"; existing: the {_num(h_sp, 0)} protecting a counted road"
            req_lines.append(_shortfall_line(label + ")", hyd["required_spacing_rule"], h_sp))
        if h_req is not None:
            # the fewest that protect every road keep only the existing ones protecting one
            h_prot = (hyd.get("existing_in_placement", hyd.get("existing_protecting"))
                      if hyd.get("required_min_placement") is not None else None)
            spaced = hyd.get("propose_for") == "spacing"
            label = ("消火栓 hydrants (最少布置 minimum placement"
                     + (f" at most {_num(hyd.get('spacing_m') or 120, 0)} m apart" if spaced else ""))
            if isinstance(h_prot, int) and isinstance(h_ex, int) and h_prot < h_ex:
                near = "within half the spacing of" if spaced else "protecting"
                req_lines.append(_shortfall_line(f"{label}; existing: the {_num(h_prot, 0)} {near} a counted road)",
                                                 h_req, h_prot))
            else:
                req_lines.append(_shortfall_line(label + ")", h_req, h_ex))
        elif h_ex is not None:
            req_lines.append(f"- 消火栓 hydrants: {_num(h_ex, 0)} existing")
        cov = hyd.get("protected_share", hyd.get("covered_share"))
        if cov is not None:
            req_lines.append(f"- 消火栓保护道路 / road length protected by hydrants: {_pct(cov)}")
        if hyd.get("unsnapped"):
            req_lines.append(f"- 未计入的消火栓 / hydrants in the data not counted: {_num(hyd['unsnapped'], 0)} "
                             "too far from any counted road (check their position and datum)")
        if hyd.get("duplicates"):
            req_lines.append(f"- 重复的消火栓 / duplicate hydrants counted once: {_num(hyd['duplicates'], 0)}")
        idle = (h_ex - hyd["existing_protecting"]) if isinstance(h_ex, int) and isinstance(
            hyd.get("existing_protecting"), int) else 0
        if idle > 0:
            req_lines.append(f"- 不保护计入道路的消火栓 / existing hydrants protecting no counted road: "
                             f"{_num(idle, 0)} of {_num(h_ex, 0)} (on roads left out of the counts, e.g. "
                             f"campus or service lanes, or beside the study area, farther than "
                             f"{_num(hyd.get('radius_m') or 150, 0)} m along roads from a counted street)")
        h_out = _left_out(hyd.get("excluded_km_by_kind"))
        if h_out:
            req_lines.append(f"- 不设市政消火栓的道路 / roads left out of the hydrant counts: {h_out}")
        if hyd.get("proposed") is not None:
            req_lines.append(f"- 建议新增消火栓 / proposed hydrants: {_num(hyd['proposed'], 0)}")
        if hyd.get("water_cranes"):
            req_lines.append(f"- 建议消防水鹤 / proposed water cranes (high-risk areas): {_num(hyd['water_cranes'], 0)}")
    opt = s.get("optimise")
    if isinstance(opt, Mapping):
        among = _competing_text(opt)
        o = [f"- 模型 / model: {opt.get('model')} ({opt.get('status')}, gap {_pct(opt.get('gap') or 0)})",
             f"- 新增站点 / new sites proposed: {_num(opt.get('new_sites'), 0)}{among}; "
             f"覆盖 / coverage: existing stations {_pct(opt.get('covered_share_before'))}"
             f" → with the proposed sites {_pct(opt.get('covered_share_after'))}"]
        if opt.get("covered_twice_share_after") is not None:
            o.append(f"- 双重覆盖 / covered twice: {_pct(opt.get('covered_twice_share_before'))} → "
                     f"{_pct(opt.get('covered_twice_share_after'))}")
        if opt.get("mean_time_s_after") is not None:
            o.append(f"- 平均行车时间 / mean drive time: {_num(opt.get('mean_time_s_before'), 0)} s → "
                     f"{_num(opt.get('mean_time_s_after'), 0)} s (unreached demand counted at "
                     f"{_num(opt.get('penalty_s'), 0)} s)")
        if opt.get("covered_share_plan") is not None:
            kept = [str(x) for x in (opt.get("planned_selected") or [])]
            o.append(f"- 规划方案覆盖 / the plan's own sites (existing + planned): {_pct(opt['covered_share_plan'])}"
                     f"; planned stations the optimum keeps: {_md_cell(', '.join(kept)) if kept else 'none'}")
        quotas = opt.get("quotas")
        if isinstance(quotas, Mapping) and quotas:
            o.append("- 区域配额 / district quotas: "
                     + "; ".join(f"{_md_cell(d)}: {_quota_text(q)}" for d, q in quotas.items()))
        for key, label in (("required", "必选 / required sites"), ("excluded", "排除 / excluded sites")):
            if opt.get(key):
                o.append(f"- {label}: {_md_cell(', '.join(map(str, opt[key])))}")
        for site in (opt.get("sites") or [])[:20]:
            if isinstance(site, Mapping):
                extra = ""
                if site.get("adds_twice_share") is not None:
                    extra += f", +{_pct(site['adds_twice_share'])} covered twice"
                if site.get("saves_mean_s") is not None:
                    extra += f", -{_num(site['saves_mean_s'], 1)} s mean drive time"
                tag = {"planned": " [规划 planned]", "candidate": " [备选 candidate station]"}.get(
                    str(site.get("kind")), "")
                where = f" ({_md_cell(site['district'])})" if site.get("district") else ""
                cls = f" [{_md_cell(site['class'])}]" if site.get("class") else ""
                o.append(f"  - #{site.get('rank')} {_md_cell(site.get('label'))}{cls}{tag}{where}: "
                         f"+{_pct(site.get('adds_share'))} demand, +{_num(site.get('adds_km2'), 2)} km²{extra}")
        if opt.get("sites_adding_nothing_note"):
            o.append(f"- 不增加覆盖的站点 / sites adding nothing: {_md_cell(opt['sites_adding_nothing_note'])}")
        if opt.get("uncoverable_share"):
            o.append(f"- 任何站点都无法在标准内到达 / no site (existing or candidate) reaches within the "
                     f"standard: {_pct(opt['uncoverable_share'])}")
        if opt.get("beyond_horizon_share"):
            o.append(f"- p-median: beyond every site's {_num(opt.get('horizon_s'), 0)} s drive "
                     f"(counted at the penalty): {_pct(opt['beyond_horizon_share'])}")
        removed = opt.get("candidates_removed")
        if isinstance(removed, Mapping) and opt.get("candidates") is not None:
            why = ", ".join(f"{_md_cell(k).replace('_', ' ')} {_num(v, 0)}" for k, v in removed.items() if v)
            o.append(f"- 候选点 / candidate sites: {_num(opt['candidates'], 0)}" + (f" (left out: {why})" if why else ""))
        if opt.get("siting_warnings"):
            from .siting import SITING_RULES

            what = {rule: words for rule, words, _ in SITING_RULES}  # the warnings' own wording
        for w in opt.get("siting_warnings") or []:
            if isinstance(w, Mapping):
                rule = str(w.get("rule"))
                o.append(f"- 选址规则 / siting rule: {_md_cell(w.get('status') or 'planned')} station "
                         f"{_md_cell(w.get('station'))} is {_num(w.get('distance_m'), 0)} m from "
                         f"{what.get(rule, 'a ' + _md_cell(rule))} (GB 51080 asks >= {_num(w.get('min_m'), 0)} m)")
        for d in opt.get("dropped_candidates") or []:
            if isinstance(d, Mapping):
                o.append(f"- 未采用的候选点 / candidate not used: {_md_cell(d.get('label'))}: {_md_cell(d.get('reason'))}")
        lines += ["## 选址 Proposed sites", ""] + o + [""]
    if req_lines:
        lines += ["## 需求与缺口 Required vs existing", ""] + req_lines + [""]

    warnings_ = s.get("warnings")
    if isinstance(warnings_, (list, tuple)) and warnings_:
        lines += ["## 提示 Warnings", ""] + [f"- {_md_cell(w)}" for w in warnings_] + [""]
    if len(lines) == 2:
        lines += ["(no results in this summary)", ""]
    return "\n".join(lines)


def _candidate_sites_text(src: Mapping[str, Any]) -> str:
    """The candidate sites a requirement used, in words, from its ``candidate_sites``: e.g.
    "candidate sites: 4 points from sites.geojson, the plan's 1 planned station"."""
    spacing = float(src.get("spacing_m") or 0)
    apart = f" at least {_num(spacing, 0)} m apart" if spacing > 0 else ""
    where = f" from {_md_cell(src['file'])}" if src.get("file") else ""
    n = {k: int(src.get(k) or 0) for k in ("user_points", "land_nodes", "crossings", "planned",
                                            "candidate_stations")}
    parts = []
    if n["user_points"]:
        parts.append(f"{_count(n['user_points'], 'point')}{where}")
    if n["land_nodes"]:
        parts.append(f"{_count(n['land_nodes'], 'road node')} inside the candidate land{where}{apart}")
    if n["crossings"]:
        parts.append(f"{_count(n['crossings'], 'road crossing')}{apart}")
    if n["planned"]:
        parts.append(f"the plan's {_count(n['planned'], 'planned station')}")
    if n["candidate_stations"]:
        parts.append(_count(n["candidate_stations"], "candidate station"))
    return "candidate sites: " + (", ".join(parts) if parts else "none")


def _quota_text(q: Any) -> str:
    """'min 1, max 2' for a district quota of a summary; 'none' without bounds."""
    q = q if isinstance(q, Mapping) else {}
    return ", ".join(f"{k} {_num(q[k], 0)}" for k in ("min", "max") if q.get(k) is not None) or "none"


def _count(n: int, noun: str) -> str:
    """'1 point', '4 points'."""
    return f"{_num(n, 0)} {noun}{'' if n == 1 else 's'}"


def _scored_by(cmp_: Any) -> str:
    """' by the 3 existing and 2 planned stations' (or ' by the existing stations'): whose
    coverage the headline figures are, from the summary's ``comparison``; empty when unknown."""
    if not isinstance(cmp_, Mapping):
        return ""
    ex, pl = cmp_.get("existing"), cmp_.get("existing_plus_planned")
    n_ex = ex.get("stations") if isinstance(ex, Mapping) else None
    n_pl = pl.get("stations") if isinstance(pl, Mapping) else None
    if not (isinstance(n_ex, int) and isinstance(n_pl, int)):
        return ""
    if n_pl > n_ex:
        planned = _count(n_pl - n_ex, "planned station")
        return f" by the {n_ex} existing and {planned}" if n_ex else f" by the {planned}"
    return " by the existing stations"


def _competing_text(opt: Mapping[str, Any]) -> str:
    """' (the plan's 2 planned and 1 candidate stations compete as candidates; its 1 required
    station is built in any case)':
    the plan's sites the optimiser could choose (those ``optimise.excluded`` takes out are not
    counted; those ``optimise.required`` puts in the plan are counted apart); empty when none."""
    counts = [(int(opt.get(k) or 0), what) for k, what in (("planned_candidates", "planned"),
                                                           ("candidate_stations", "candidate"))]
    among = [f"{n} {what}" for n, what in counts if n > 0]
    n_req = int(opt.get("plan_required") or 0)
    parts = []
    if among:
        one = sum(n for n, _ in counts) == 1
        verb = "station competes as a candidate" if one else "stations compete as candidates"
        parts.append(f"the plan's {' and '.join(among)} {verb}")
    if n_req:
        whose = "its" if among else "the plan's"
        parts.append(f"{whose} {_count(n_req, 'required station')} {'is' if n_req == 1 else 'are'} "
                     "built in any case")
    return f" ({'; '.join(parts)})" if parts else ""


def _shortfall_line(label: str, required: Any, existing: Any) -> str:
    if existing is None:
        return f"- {label}: {_num(required, 0)} required"
    try:
        r, e = float(required), float(existing)
    except (TypeError, ValueError):
        return f"- {label}: {required} required, {existing} existing"
    short = max(r - e, 0.0)
    share = short / r if r > 0 else 0.0
    return (
        f"- {label}: 需 required {_num(required, 0)}, 现有 existing {_num(existing, 0)}, "
        f"缺口 short {_num(short, 0)} ({_pct(share)})"
    )
