"""Tests of the shared pieces of tccas.catalog.gridded: the qc bit field and the lat/lon
frame of the format writers."""

from __future__ import annotations

import netCDF4
import numpy as np

from tccas.catalog.gridded import (
    ANNUAL_TIME_UNITS,
    WGS84_GRID_MAPPING,
    qc_bit_field,
    write_annual_latlon_frame,
    write_latlon_coordinates,
)


def test_qc_bit_field_sets_one_bit_per_failed_screen():
    failed = (np.array([True, False, False, True]), np.array([False, False, True, True]),
              np.array([False, False, False, True]))
    qc = qc_bit_field(failed, 4)
    assert qc.dtype == np.uint16
    np.testing.assert_array_equal(qc, [1, 0, 2, 7])
    assert qc_bit_field((), 3).tolist() == [0, 0, 0]


def test_annual_frame_lays_out_time_coordinates_and_crs(tmp_path):
    lat = np.array([60.5, 60.25, 60.0])
    lon = np.array([25.0, 25.25])
    path = tmp_path / "frame.nc"
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        write_annual_latlon_frame(nc, lat, lon, 2018, "i4")
    with netCDF4.Dataset(path) as nc:
        assert {name: len(dim) for name, dim in nc.dimensions.items()} == {
            "time": 1, "lat": 3, "lon": 2}
        assert list(nc.variables) == ["time", "lat", "lon", "crs"]
        assert nc["time"].dtype == np.int32 and nc["time"].units == ANNUAL_TIME_UNITS
        # 2018-01-01 is 17532 days after 1970-01-01.
        assert nc["time"][:].tolist() == [17532]
        np.testing.assert_array_equal(nc["lat"][:], lat)
        np.testing.assert_array_equal(nc["lon"][:], lon)
        assert (nc["lat"].units, nc["lon"].units) == ("degrees_north", "degrees_east")
        assert {key: nc["crs"].getncattr(key) for key in nc["crs"].ncattrs()} == \
            WGS84_GRID_MAPPING


def test_latlon_coordinates_take_the_product_names(tmp_path):
    path = tmp_path / "tip.nc"
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        nc.createDimension("latitude", 2)
        nc.createDimension("longitude", 1)
        write_latlon_coordinates(nc, np.array([1.0, 2.0]), np.array([3.0]),
                                 ("latitude", "longitude"))
    with netCDF4.Dataset(path) as nc:
        assert nc["latitude"][:].tolist() == [1.0, 2.0]
        assert nc["longitude"][:].tolist() == [3.0]
        assert nc["latitude"].dtype == np.float64
