"""Named OSM features from the scenario's own source: places, fire stations, hydrants."""
from __future__ import annotations

import pytest
import yaml

from coverage.errors import DataError, NetworkUnavailableError
from coverage.osmfeatures import fire_stations, osm_features
from coverage.pipeline import prepare
from coverage.scenario import load_scenario


def test_pbf_default_has_the_real_fire_station_and_hydrants():
    f = osm_features("default")
    fs = fire_stations(f)
    assert list(fs["name"]) == ["Erottajan paloasema"]
    assert fs.geometry.x.iloc[0] == pytest.approx(24.945, abs=0.002)
    assert (f["emergency"] == "fire_hydrant").sum() == 37


def test_xml_features_parse(shared_data):
    f = osm_features(shared_data / "osm" / "helsinki_centre_roads.osm.bz2")
    assert len(f) > 0 and f.crs.to_epsg() == 4326
    assert f["name"].notna().all()


def test_stations_from_osm_become_existing_stations(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump({"name": "osm stations", "network": {"default": "helsinki"},
                                 "stations_from_osm": True}), encoding="utf-8")
    prep = prepare(load_scenario(p))
    st = prep.stations
    assert list(st["name"]) == ["Erottajan paloasema"]
    assert list(st["status"]) == ["existing"] and list(st["class"]) == ["class1"]
    assert st["moved_m"].iloc[0] < 100


def test_offline_download_request_without_cache(tmp_path):
    with pytest.raises(NetworkUnavailableError, match="covplan fetch"):
        osm_features({"bbox": [117.15, 39.08, 117.24, 39.16]}, cache=tmp_path, offline=True)
    with pytest.raises(DataError, match="does not exist"):
        osm_features(tmp_path / "nope.osm")
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><node id='1' lat='1' lon=", encoding="utf-8")
    with pytest.raises(DataError, match="could not be read"):
        osm_features(bad)


def test_an_osm_station_the_scenario_lists_is_not_imported_twice(tmp_path):
    """Helsinki lists Erottaja; stations_from_osm used to add it again 1 m away (osm-relation-...),
    leaving the listed one a district of 0 km²."""
    import warnings
    from pathlib import Path

    from coverage.errors import CoverageWarning

    src = Path(__file__).resolve().parent.parent / "scenarios" / "helsinki.yaml"
    data = yaml.safe_load(src.read_text(encoding="utf-8"))
    data["stations_from_osm"] = {"class": "class1"}
    data.pop("hydrants", None)
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prep = prepare(load_scenario(p))
    ids = list(prep.stations["id"])
    assert "erottaja" in ids and not [i for i in ids if i.startswith("osm-")]
    assert sorted(ids) == sorted(s["id"] for s in data["stations"])
    said = [str(w.message) for w in caught if issubclass(w.category, CoverageWarning)
            and "taken as the same station" in str(w.message)]
    assert len(said) == 1 and "'erottaja'" in said[0]

    # a planned station next door does not stand for the existing OSM one (a plan may build there)
    data["stations"] = [{"id": "newone", "name": "new", "class": "class1", "status": "planned",
                         "at": {"lon": 24.9473, "lat": 60.1652}}]
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prep = prepare(load_scenario(p))
    st = prep.stations.set_index("id")
    assert len(st) == 2 and st.loc["newone", "status"] == "planned"
    assert [s for s in st.index if s.startswith("osm-")] and (st["status"] == "existing").sum() == 1


def test_fire_stations_from_a_pois_file_take_its_own_id_column():
    # overpass-turbo / JOSM exports name the id "@id" (the shared Hsinchu POIs); a file without
    # any id column numbers its rows; a station was imported as "osm-<id>" and crashed before
    import geopandas as gpd
    from shapely.geometry import Point, box

    pts = [Point(121.0, 24.78), box(121.01, 24.78, 121.011, 24.781), Point(121.02, 24.78)]
    tags = {"amenity": ["fire_station", "fire_station", "school"], "name": ["埔頂消防分隊", None, "國小"]}
    fs = fire_stations(gpd.GeoDataFrame({**tags, "@id": ["node/2606023508", "way/77", "node/1"]},
                                        geometry=pts, crs=4326))
    assert fs["osmid"].tolist() == ["node/2606023508", "way/77"]
    assert fs["name"].tolist()[0] == "埔頂消防分隊"
    assert fs.geometry.iloc[1].within(pts[1])  # an area's point inside it
    bare = fire_stations(gpd.GeoDataFrame(tags, geometry=pts, crs=4326))
    assert bare["osmid"].tolist() == ["row0", "row1"]
    gaps = fire_stations(gpd.GeoDataFrame({**tags, "osmid": [None, 5, 6]}, geometry=pts, crs=4326))
    assert gaps["osmid"].tolist() == ["row0", "5"]
