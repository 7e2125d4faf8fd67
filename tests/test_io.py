"""Reading vector files: study areas made valid, CSV encodings and column names."""
from __future__ import annotations

import json

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import Point, mapping

from coverage.errors import DataError
from coverage.io import polygon_union, read_area, read_features


def test_a_bow_tie_study_area_keeps_its_area(tmp_path):
    """A hand-drawn boundary crossing itself is an invalid polygon whose area measures 0: the
    by-area requirement read '0.0 km² study area'. It is made valid (two triangles) when read."""
    bow = shapely.Polygon([(121.46, 31.22), (121.48, 31.24), (121.48, 31.22), (121.46, 31.24)])
    assert not bow.is_valid and bow.area == 0.0
    f = tmp_path / "area.geojson"
    f.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": mapping(bow)}]}), encoding="utf-8")
    area = read_area(f)
    assert area.is_valid and area.area == pytest.approx(0.02 * 0.02 / 2, rel=1e-9)


def test_polygon_union_keeps_polygons_only():
    gc = shapely.GeometryCollection([shapely.box(0, 0, 1, 1), shapely.LineString([(0, 0), (5, 5)])])
    assert polygon_union([gc, shapely.box(2, 2, 3, 3)]).area == pytest.approx(2.0)
    assert polygon_union([shapely.LineString([(0, 0), (1, 1)])]).is_empty


def test_an_area_file_of_lines_is_refused(tmp_path):
    f = tmp_path / "lines.geojson"
    f.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "LineString",
                                                          "coordinates": [[121.4, 31.2], [121.5, 31.3]]}}]}),
                 encoding="utf-8")
    with pytest.raises(DataError, match="holds no polygon with an area \\(it holds LineString\\)"):
        read_area(f)
    flat = tmp_path / "flat.geojson"  # a ring of no area: made valid, nothing is left
    flat.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [
            [[121.4, 31.2], [121.5, 31.3], [121.4, 31.2], [121.4, 31.2]]]}}]}), encoding="utf-8")
    with pytest.raises(DataError, match="holds no polygon with an area"):
        read_area(flat)


def test_every_area_name_must_exist(tmp_path):
    """area.names with one real and one misspelt name ran on the real one alone, silently."""
    from coverage.errors import InputError

    f = tmp_path / "areas.geojson"
    f.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": n}, "geometry": mapping(shapely.box(x, 0, x + 1, 1))}
        for n, x in (("West", 0), ("East", 2))]}), encoding="utf-8")
    assert read_area(f, names=["West", "East"], name_field="name").area == pytest.approx(2.0)
    with pytest.raises(InputError, match=r"area names 'Eats' \(did you mean 'East'\?\), 'Nowhere' not found"):
        read_area(f, names=["West", "Eats", "Nowhere"], name_field="name")


def test_area_names_one_code_or_an_empty_list(tmp_path):
    """names: 310101 (a district code) crashed with a TypeError; names: [] used the whole file."""
    from coverage.errors import InputError

    f = tmp_path / "codes.geojson"
    f.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": c}, "geometry": mapping(shapely.box(x, 0, x + 1, 1))}
        for c, x in ((310101, 0), (310104, 2))]}), encoding="utf-8")
    assert read_area(f, names=310101, name_field="code").area == pytest.approx(1.0)
    with pytest.raises(InputError, match="empty list"):
        read_area(f, names=[], name_field="code")


def test_names_with_a_blank_feature_and_codes_read_as_floats(tmp_path):
    """A feature without a name crashed the did-you-mean (pandas keeps the blank as NaN), and a
    code column holding a blank reads as floats (310101.0): names: 310101 never matched."""
    from coverage.errors import InputError

    f = tmp_path / "blank.geojson"
    f.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "Kallio", "code": 310101},
         "geometry": mapping(shapely.box(0, 0, 1, 1))},
        {"type": "Feature", "properties": {"name": None, "code": None}, "geometry": mapping(shapely.box(2, 0, 3, 1))}]}),
        encoding="utf-8")
    with pytest.raises(InputError, match=r"'Kalio' \(did you mean 'Kallio'\?\) not found"):
        read_area(f, names=["Kalio"], name_field="name")
    for code in (310101, "310101"):
        assert read_area(f, names=[code], name_field="code").area == pytest.approx(1.0)


def test_coordinates_out_of_range_are_refused(tmp_path):
    """An area with latitudes above 90 (or metres without a CRS) crashed deep in GEOS; POIs at
    latitude 95 were accepted silently."""
    from coverage.io import read_features

    f = tmp_path / "far.geojson"
    f.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": mapping(shapely.box(121.45, 111.2, 121.49, 111.25))}]}),
        encoding="utf-8")
    with pytest.raises(DataError, match=r"out of range \(bounds \(121.45, 111.2, 121.49, 111.25\)\)"):
        read_area(f)
    csv = tmp_path / "pois.csv"
    csv.write_text("name,lon,lat\nx,121.0,95.0\n", encoding="utf-8")
    with pytest.raises(DataError, match="pois file .* out of range"):
        read_features(csv, what="pois")
    # lon and lat columns swapped (a latitude of 121): said so, not blamed on a missing CRS
    csv.write_text("name,lon,lat\nA,31.2304,121.4737\n", encoding="utf-8")
    with pytest.raises(DataError, match="look swapped") as info:
        read_features(csv, what="candidates", datum="gcj02")
    assert "projected" not in str(info.value)


def test_chinese_headers_read_as_name_and_id(tmp_path):
    # a planner's spreadsheet: 编号, 名称, 经度, 纬度 (Excel on Chinese Windows: GBK); a table with
    # its own name column keeps it
    import warnings

    import pandas as pd

    from coverage.errors import CoverageWarning
    from coverage.io import read_csv_table

    f = tmp_path / "sites.csv"
    f.write_bytes("编号,名称,经度,纬度\nH042,南京西路地块,121.47,31.23\nH008,成都北路地块,121.46,31.23\n".encode("gbk"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CoverageWarning)  # (read as GB 18030: warned)
        g = read_features(f, what="candidates")
    assert g["name"].tolist() == ["南京西路地块", "成都北路地块"] and g["id"].tolist() == ["H042", "H008"]
    f2 = tmp_path / "own.csv"
    pd.DataFrame({"name": ["a"], "名称": ["b"], " 编号 ": ["7"], "lon": [121.0], "lat": [31.0]}).to_csv(f2, index=False)
    t = read_csv_table(f2)
    assert t["name"].tolist() == ["a"] and t["名称"].tolist() == ["b"] and t["id"].astype(str).tolist() == ["7"]
    gj = tmp_path / "pois.geojson"
    gpd.GeoDataFrame({"名称": ["小白楼"]}, geometry=[Point(117.2, 39.1)], crs=4326).to_file(gj)
    assert read_features(gj, what="pois")["name"].tolist() == ["小白楼"]


def test_a_name_field_given_by_its_chinese_or_shapefile_header_still_works(tmp_path):
    # copying 名称 / NAME to name must keep the column a name_field names (it was renamed away)
    zone = shapely.Polygon([(121.45, 31.21), (121.47, 31.21), (121.47, 31.24)])
    for col in ("名称", "NAME"):
        f = tmp_path / f"zones_{col}.geojson"
        f.write_text(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {col: "西区"}, "geometry": mapping(zone)}]}, ensure_ascii=False),
            encoding="utf-8")
        g = read_features(f, what="districts")
        assert g[col].tolist() == ["西区"] and g["name"].tolist() == ["西区"]
        assert read_area(f, names=["西区"], name_field=col).area == pytest.approx(zone.area)
