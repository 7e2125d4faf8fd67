"""Report folders: contents, atomic replacement, JSON conversion and the Markdown summary."""
from __future__ import annotations

import json
import os

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import LineString, Point, Polygon

from coverage.errors import DataError, InputError
from coverage.report import (
    markdown_summary,
    write_json_atomic,
    write_report,
    write_text_atomic,
)


def _layers():
    stations = gpd.GeoDataFrame(
        {"id": ["s1", "s2"], "name": ["小白楼消防救援站", "Station 2"], "class": ["small", "class1"]},
        geometry=[Point(117.20, 39.12), Point(117.21, 39.13)],
        crs=4326,
    )
    roads = gpd.GeoDataFrame(
        {"seconds": [12.5, 40.0]},
        geometry=[LineString([(0, 0), (100, 0)]), LineString([(100, 0), (100, 250)])],
        crs=32650,
    )
    return {"stations": stations, "uncovered": roads}


def _summary():
    return {
        "name": "和平区 14th FYP",
        "standard": {"turnout_s": 60, "travel_s": 240},
        "covered_share": np.float64(0.8734),
        "response_s": {"p50": np.float32(151.0), "p90": np.int64(280), "max": 402.2},
        "stations": [
            {"id": "s1", "name": "小白楼", "class": "small", "status": "planned",
             "district_km2": np.float64(2.6), "cap_km2": 2.0, "over_cap": np.bool_(True)},
            {"id": "s2", "name": "五大道", "class": "class1", "status": "existing",
             "district_km2": 5.1, "cap_km2": 7.0, "over_cap": False},
        ],
        "stations_required": 52,
        "stations_existing": 34,
        "hydrants": {"required": 5667, "existing": 3957},
        "nan_value": float("nan"),
        "array": np.arange(3),
    }


def test_report_folder_holds_every_layer_table_and_summary(tmp_path):
    out = tmp_path / "run"
    table = pd.DataFrame({"id": ["s1", "s2"], "area_km2": [1.5, 3.25], "名称": ["甲", "乙"]})
    write_report(out, layers=_layers(), tables={"stations": table}, summary=_summary(),
                 extra_files={"map.html": "<html>地图</html>", "raw.bin": b"\x00\x01"})

    names = sorted(p.name for p in out.iterdir())
    assert names == ["layers.gpkg", "map.html", "raw.bin", "stations.csv", "summary.json", "summary.md"]
    # leftovers from the temporary build folder must be gone
    assert [p.name for p in tmp_path.iterdir()] == ["run"]

    listed = {row[0] for row in pyogrio.list_layers(out / "layers.gpkg")}
    assert listed == {"stations", "uncovered"}
    st = gpd.read_file(out / "layers.gpkg", layer="stations")
    assert st.crs.to_epsg() == 4326
    assert list(st["name"]) == ["小白楼消防救援站", "Station 2"]
    assert st.geometry.iloc[0].equals(Point(117.20, 39.12))
    un = gpd.read_file(out / "layers.gpkg", layer="uncovered")
    assert un.crs.to_epsg() == 32650
    assert un.geometry.length.sum() == pytest.approx(350.0)

    back = pd.read_csv(out / "stations.csv", encoding="utf-8-sig")
    pd.testing.assert_frame_equal(back, table)

    raw = (out / "summary.json").read_bytes().decode("utf-8")
    assert "和平区" in raw  # ensure_ascii=False
    data = json.loads(raw)
    assert data["covered_share"] == pytest.approx(0.8734)
    assert data["response_s"] == {"p50": 151.0, "p90": 280, "max": 402.2}
    assert data["stations"][0]["over_cap"] is True
    assert data["nan_value"] is None
    assert data["array"] == [0, 1, 2]
    assert (out / "map.html").read_text(encoding="utf-8") == "<html>地图</html>"
    assert (out / "raw.bin").read_bytes() == b"\x00\x01"
    assert "# 和平区 14th FYP" in (out / "summary.md").read_text(encoding="utf-8")


def test_failed_write_leaves_previous_report_untouched(tmp_path):
    out = tmp_path / "run"
    write_report(out, layers=_layers(), tables={"t": pd.DataFrame({"a": [1]})}, summary={"covered_share": 0.5})
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    # columns "A" and "a" clash in a GeoPackage (field names are case-insensitive): GDAL refuses
    bad = gpd.GeoDataFrame({"A": [1], "a": [2]}, geometry=[Point(0, 0)], crs=4326)
    with pytest.raises(DataError, match="'bad' could not be written"):
        write_report(out, layers={"ok": _layers()["stations"], "bad": bad}, summary={"covered_share": 0.9})

    after = {p.name: p.read_bytes() for p in out.iterdir()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # temp folder cleaned up


def test_failure_while_swapping_rolls_back(tmp_path, monkeypatch):
    out = tmp_path / "run"
    write_report(out, summary={"covered_share": 0.25})
    old = (out / "summary.json").read_text(encoding="utf-8")

    real_rename = os.rename
    calls = []

    def flaky_rename(src, dst):
        calls.append((str(src), str(dst)))
        if len(calls) == 2:  # the new folder moving into place
            raise OSError("disk gone")
        return real_rename(src, dst)

    monkeypatch.setattr(os, "rename", flaky_rename)
    with pytest.raises(OSError, match="disk gone"):
        write_report(out, summary={"covered_share": 0.75})
    monkeypatch.undo()
    assert (out / "summary.json").read_text(encoding="utf-8") == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_report_replaces_old_files_completely(tmp_path):
    out = tmp_path / "run"
    write_report(out, tables={"old": pd.DataFrame({"a": [1]})}, summary={})
    write_report(out, tables={"new": pd.DataFrame({"b": [2]})}, summary={})
    assert sorted(p.name for p in out.iterdir()) == ["new.csv", "summary.json", "summary.md"]


def test_bad_names_and_types_are_rejected(tmp_path):
    with pytest.raises(InputError, match="not a plain file name"):
        write_report(tmp_path / "r", tables={"../evil": pd.DataFrame()}, summary={})
    with pytest.raises(InputError, match="expected a GeoDataFrame"):
        write_report(tmp_path / "r", layers={"x": pd.DataFrame({"a": [1]})}, summary={})
    with pytest.raises(InputError, match="clash"):
        write_report(tmp_path / "r", summary={}, extra_files={"summary.json": "{}"})
    with pytest.raises(DataError, match="does not exist"):
        write_report(tmp_path / "missing" / "r", summary={})
    with pytest.raises(InputError, match="cannot be written as JSON"):
        write_report(tmp_path / "r", summary={"x": object()})
    assert not (tmp_path / "r").exists()


def test_atomic_helpers(tmp_path):
    p = tmp_path / "a.json"
    write_json_atomic(p, {"share": np.float32(0.5), "名": "值", "n": np.int32(3)})
    assert json.loads(p.read_text(encoding="utf-8")) == {"share": 0.5, "名": "值", "n": 3}
    assert "名" in p.read_text(encoding="utf-8")
    write_text_atomic(p, "replaced")
    assert p.read_text() == "replaced"
    assert [x.name for x in tmp_path.iterdir()] == ["a.json"]
    with pytest.raises(DataError):
        write_text_atomic(tmp_path / "nope" / "x.txt", "x")


def test_markdown_summary_in_plan_terms():
    md = markdown_summary(_summary())
    assert "## 覆盖 Coverage" in md
    assert "reached within 5 min: **87.3%**" in md
    assert "p50 151 s" in md and "p90 280 s" in md
    assert "over their district cap: **1**" in md
    # Luoyang's plan: 52 stations required, 34 exist; 5,667 hydrants required, 3,957 exist (30.2% short)
    assert "required 52, 现有 existing 34, 缺口 short 18 (34.6%)" in md
    assert "required 5,667, 现有 existing 3,957, 缺口 short 1,710 (30.2%)" in md
    assert "| s1 | 小白楼 | small | planned | 2.60 | 2.0 | 是 yes |" in md


def test_markdown_summary_tolerates_missing_sections():
    md = markdown_summary({})
    assert md.startswith("# Coverage report")
    assert "##" not in md
    md = markdown_summary({"covered_share": 0.5, "standard": {"turnout_s": 60, "travel_s": 420}})
    assert "reached within 8 min: **50.0%**" in md
    assert "Stations" not in md and "Required" not in md
    md = markdown_summary({"hydrants": {"existing": 916}})
    assert "916 existing" in md
    # a name holding a pipe must not break the table
    md = markdown_summary({"stations": [{"id": "a|b", "over_cap": False}]})
    assert "a\\|b" in md
