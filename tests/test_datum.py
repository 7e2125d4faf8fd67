"""Datum conversions: published reference values, round trips, pass-through, real boundary pairs."""
from __future__ import annotations

import json

import numpy as np
import pytest
from pyproj import Geod

from coverage import datum
from coverage.errors import InputError

GEOD = Geod(ellps="WGS84")


def geodesic_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Ellipsoidal distance in metres (pyproj), independent of the code under test."""
    lon1, lat1, lon2, lat2 = (np.broadcast_to(np.asarray(v, float), np.shape(lon1)) for v in
                              (lon1, lat1, lon2, lat2))
    _, _, d = GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(d)


# Reference values published in the test suite of googollee/eviltransform (python/test.py):
# (wgs lat, wgs lng, gcj lat, gcj lng), asserted there to 6 decimal places.
EVILTRANSFORM = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]
# Reference values from the test suite of Glatzel/pyxis (geotool): one point in all three datums.
# That library uses the WGS-84 semi-major axis in the offset formula (the classic one uses
# Krasovsky's), which moves results by ~1e-7 degrees (~1 cm); it asserts to 1e-6 degrees.
PYXIS_WGS84 = (121.0917077, 30.6107779)
PYXIS_GCJ02 = (121.09626935575027, 30.608604331756705)
PYXIS_BD09 = (121.10271732371203, 30.61484572185035)


@pytest.mark.parametrize("wlat, wlon, glat, glon", EVILTRANSFORM)
def test_wgs84_to_gcj02_matches_published_values(wlat, wlon, glat, glon):
    lon, lat = datum.wgs84_to_gcj02(wlon, wlat)
    assert isinstance(lon, float) and isinstance(lat, float)
    assert lon == pytest.approx(glon, abs=5e-7)
    assert lat == pytest.approx(glat, abs=5e-7)


@pytest.mark.parametrize("wlat, wlon, glat, glon", EVILTRANSFORM)
def test_gcj02_to_wgs84_published_values_within_half_metre(wlat, wlon, glat, glon):
    lon, lat = datum.gcj02_to_wgs84(glon, glat)
    assert geodesic_m(lon, lat, wlon, wlat) < 0.5


def test_pyxis_reference_point_all_datums():
    tol = 1e-6
    assert datum.wgs84_to_gcj02(*PYXIS_WGS84) == pytest.approx(PYXIS_GCJ02, abs=tol)
    assert datum.wgs84_to_bd09(*PYXIS_WGS84) == pytest.approx(PYXIS_BD09, abs=tol)
    assert datum.gcj02_to_bd09(*PYXIS_GCJ02) == pytest.approx(PYXIS_BD09, abs=tol)
    assert datum.bd09_to_gcj02(*PYXIS_BD09) == pytest.approx(PYXIS_GCJ02, abs=tol)
    assert datum.bd09_to_wgs84(*PYXIS_BD09) == pytest.approx(PYXIS_WGS84, abs=tol)
    assert datum.gcj02_to_wgs84(*PYXIS_GCJ02) == pytest.approx(PYXIS_WGS84, abs=tol)


def test_offset_size_is_the_known_hundreds_of_metres():
    # GCJ-02 moves points by 100-700 m inside China; BD-09 adds another few hundred metres.
    rng = np.random.default_rng(1)
    lon = rng.uniform(75, 134, 500)
    lat = rng.uniform(18, 53, 500)
    glon, glat = datum.wgs84_to_gcj02(lon, lat)
    d = geodesic_m(lon, lat, glon, glat)
    assert d.min() > 20 and d.max() < 1000
    blon, blat = datum.gcj02_to_bd09(glon, glat)
    assert geodesic_m(glon, glat, blon, blat).min() > 100


@pytest.fixture(scope="module")
def china_points():
    rng = np.random.default_rng(7)
    lon = rng.uniform(73.0, 135.0, 5000)
    lat = rng.uniform(18.0, 53.5, 5000)
    # Add points near the corners of the China rectangle, far enough inside (0.05 deg; the
    # offset is < 0.01 deg) that their GCJ-02 images are inside too: right at the edge the
    # standard algorithm decides by the input point, so edge points cannot round-trip.
    lon = np.concatenate([lon, [72.06, 137.78, 72.06, 137.78]])
    lat = np.concatenate([lat, [0.88, 0.88, 55.77, 55.77]])
    return lon, lat


def test_gcj02_round_trip_under_half_metre(china_points):
    lon, lat = china_points
    back = datum.gcj02_to_wgs84(*datum.wgs84_to_gcj02(lon, lat))
    assert geodesic_m(lon, lat, *back).max() < 0.5
    # The inverse also works the other way round (GCJ point -> WGS -> GCJ).
    again = datum.wgs84_to_gcj02(*datum.gcj02_to_wgs84(lon, lat))
    assert geodesic_m(lon, lat, *again).max() < 0.5


def test_bd09_round_trips_under_half_metre(china_points):
    lon, lat = china_points
    back = datum.bd09_to_wgs84(*datum.wgs84_to_bd09(lon, lat))
    assert geodesic_m(lon, lat, *back).max() < 0.5
    back = datum.bd09_to_gcj02(*datum.gcj02_to_bd09(lon, lat))
    assert geodesic_m(lon, lat, *back).max() < 0.5


def test_iterated_inverse_beats_the_one_step_approximation(china_points):
    # The naive inverse (subtract the offset evaluated at the GCJ point) is off by metres; the
    # iterated inverse must do much better, or the iteration is not doing anything.
    lon, lat = china_points
    glon, glat = datum.wgs84_to_gcj02(lon, lat)
    naive = datum.wgs84_to_gcj02(glon, glat)
    naive_lon, naive_lat = 2 * glon - naive[0], 2 * glat - naive[1]
    err_naive = geodesic_m(lon, lat, naive_lon, naive_lat)
    err = geodesic_m(lon, lat, *datum.gcj02_to_wgs84(glon, glat))
    assert err_naive.max() > 0.5
    assert err.max() < 0.01


def test_array_shapes_and_scalar_types():
    lon = np.array([[121.47, 121.48], [116.39, 117.2]])
    lat = np.array([[31.23, 31.24], [39.9, 39.12]])
    for fn in (datum.wgs84_to_gcj02, datum.gcj02_to_wgs84, datum.wgs84_to_bd09,
               datum.bd09_to_wgs84, datum.gcj02_to_bd09, datum.bd09_to_gcj02):
        x, y = fn(lon, lat)
        assert x.shape == lon.shape and y.shape == lat.shape
        sx, sy = fn(121.47, 31.23)
        assert isinstance(sx, float) and isinstance(sy, float)
        assert (sx, sy) == pytest.approx((x[0, 0], y[0, 0]), abs=1e-9)
        # Lists work too.
        lx, ly = fn([121.47, 116.39], [31.23, 39.9])
        assert lx.shape == (2,)


@pytest.mark.parametrize("lon, lat", [(0.0, 0.0), (-0.1276, 51.5072), (24.94, 60.17),
                                      (139.69, 35.69), (72.0, 30.0), (100.0, 56.0), (100.0, 0.8)])
def test_out_of_china_passes_through_unchanged(lon, lat):
    for fn in (datum.wgs84_to_gcj02, datum.gcj02_to_wgs84, datum.wgs84_to_bd09,
               datum.bd09_to_wgs84, datum.gcj02_to_bd09, datum.bd09_to_gcj02):
        assert fn(lon, lat) == (lon, lat)
    assert not datum.in_china(lon, lat)


def test_mixed_array_only_moves_points_inside_china():
    lon = np.array([24.94, 121.47, -70.0])
    lat = np.array([60.17, 31.23, -33.0])
    glon, glat = datum.wgs84_to_gcj02(lon, lat)
    assert glon[0] == lon[0] and glat[0] == lat[0] and glon[2] == lon[2] and glat[2] == lat[2]
    assert geodesic_m(lon[1], lat[1], glon[1], glat[1]) > 100


@pytest.mark.parametrize("name, expected", [
    ("wgs84", "wgs84"), ("WGS-84", "wgs84"), ("WGS84", "wgs84"), ("gcj02", "gcj02"),
    ("GCJ-02", "gcj02"), ("gcj_02", "gcj02"), ("bd09", "bd09"), ("BD-09", "bd09"),
])
def test_datum_names_are_normalised(name, expected):
    assert datum.normalise_datum(name) == expected


def test_to_wgs84_dispatches_by_datum():
    g = datum.wgs84_to_gcj02(*PYXIS_WGS84)
    b = datum.wgs84_to_bd09(*PYXIS_WGS84)
    assert datum.to_wgs84(*PYXIS_WGS84, "WGS-84") == PYXIS_WGS84
    assert geodesic_m(*datum.to_wgs84(*g, "GCJ-02"), *PYXIS_WGS84) < 0.01
    assert geodesic_m(*datum.to_wgs84(*b, "bd09"), *PYXIS_WGS84) < 0.01
    x, y = datum.to_wgs84(np.array([g[0], g[0]]), np.array([g[1], g[1]]), "gcj02")
    assert x.shape == (2,)


def test_unknown_datum_names_value_and_choices():
    with pytest.raises(InputError, match=r"'cgcs2000'.*wgs84.*gcj02.*bd09"):
        datum.to_wgs84(121.0, 31.0, "cgcs2000")
    with pytest.raises(InputError, match="None"):
        datum.to_wgs84(121.0, 31.0, None)


def test_bad_coordinates_raise_input_error_naming_the_value():
    with pytest.raises(InputError, match="nan"):
        datum.wgs84_to_gcj02(float("nan"), 31.0)
    with pytest.raises(InputError, match="index 1"):
        datum.gcj02_to_wgs84(np.array([121.0, np.inf]), np.array([31.0, 31.0]))
    with pytest.raises(InputError, match="181"):
        datum.to_wgs84(181.0, 31.0, "wgs84")
    with pytest.raises(InputError, match=r"121.*swapped"):
        datum.to_wgs84(31.2, 121.5, "wgs84")  # latitude 121.5 cannot be; obvious swap
    with pytest.raises(InputError, match="swapped"):
        datum.to_wgs84(39.1, 117.2, "gcj02")  # plausible numbers, but only China when swapped
    with pytest.raises(InputError, match="numbers"):
        datum.wgs84_to_gcj02("east", 31.0)
    with pytest.raises(InputError, match="same shape"):
        datum.wgs84_to_gcj02(np.zeros(3), np.zeros(2))


def _vertices(path) -> np.ndarray:
    out: list = []

    def walk(c):
        if isinstance(c[0], (int, float)):
            out.append(c[:2])
        else:
            for part in c:
                walk(part)

    for feature in json.loads(path.read_text(encoding="utf-8"))["features"]:
        walk(feature["geometry"]["coordinates"])
    return np.asarray(out, dtype=float)


def test_real_boundary_pairs_match_independent_conversion(shared_data):
    """The data gatherer converted AMap (GCJ-02) boundaries to WGS-84 with their own code."""
    pairs = sorted((shared_data / "boundaries").glob("*_gcj02.geojson"))
    if not pairs:
        pytest.skip(f"no *_gcj02.geojson boundary files in {shared_data / 'boundaries'}")
    checked = 0
    for gcj_path in pairs:
        wgs_path = gcj_path.with_name(gcj_path.name.replace("_gcj02", "_wgs84"))
        gcj, wgs = _vertices(gcj_path), _vertices(wgs_path)
        assert gcj.shape == wgs.shape, gcj_path.name
        lon, lat = datum.gcj02_to_wgs84(gcj[:, 0], gcj[:, 1])
        err = geodesic_m(lon, lat, wgs[:, 0], wgs[:, 1])
        assert err.max() < 1.0, (gcj_path.name, err.max())
        # The files really differ by the datum shift, so this comparison has teeth.
        assert geodesic_m(gcj[:, 0], gcj[:, 1], wgs[:, 0], wgs[:, 1]).min() > 100
        checked += len(gcj)
    assert checked > 1000
