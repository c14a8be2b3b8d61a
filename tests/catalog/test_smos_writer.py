"""SMOS L2 SM writer: the real v700 layout, read back by the reader like a real granule."""

from __future__ import annotations

import json
from pathlib import Path

import netCDF4
import numpy as np
import pytest

from tccas.catalog.smos import read_smos_l2sm
from tccas.catalog.smos_writer import (
    CONFIDENCE_FLAGS,
    SCIENCE_FLAGS,
    VARIABLE_NAMES,
    X_SWATH_SCALE,
    SmosGranule,
    smos_l2sm_filename,
    write_smos_l2sm,
)
from tccas.model.errors import TccasInputError

REAL = "smos/SM_OPER_MIR_SMUDP2_20230401T191629_20230401T200942_700_001_1.nc"
SCHEMA = Path(__file__).resolve().parents[3] / "shared" / "design" / "smos_l2sm_v700_schema.json"

GRANULE = SmosGranule(
    sensing_start=np.datetime64("2018-07-01T05:13:05.170406"),
    sensing_stop=np.datetime64("2018-07-01T06:03:00.357164"),
    ascending=True, absolute_orbit=44758,
    utc_at_anx=np.datetime64("2018-07-01T05:38:02.763785"), longitude_at_anx=-2.5)


def _points(n: int = 6) -> dict[str, np.ndarray]:
    time = (np.datetime64("2018-07-01T05:40:00.123456") + np.arange(n) * np.timedelta64(
        1500123, "us"))
    return {
        "Latitude": np.linspace(39.5, 40.5, n), "Longitude": np.linspace(-6.2, -5.1, n),
        "Grid_Point_ID": np.arange(n) + 8011295, "time": time,
        "Soil_Moisture": np.array([0.05, 0.21, np.nan, 0.33, 0.62, 0.18])[:n],
        "Soil_Moisture_DQX": np.array([0.03, 0.04, np.nan, 0.05, 0.02, 0.12])[:n],
        "Optical_Thickness_Nad": np.array([0.1, 0.35, np.nan, 0.5, 0.2, 0.3])[:n],
        "Optical_Thickness_Nad_DQX": np.array([0.04, 0.08, np.nan, 0.1, 0.05, 0.07])[:n],
        "AFP": np.array([20.5, 22.0, 0.0, 25.25, 27.0, 21.0])[:n],
        "X_Swath": np.array([-420.0, 12.5, 650.0, 300.0, 500.0, -100.0])[:n],
        "RFI_Prob": np.array([0.0, 0.1, np.nan, 0.25, 0.005, 0.15])[:n],
        "Chi_2_P": np.array([0.5, 0.9, np.nan, 0.02, 0.6, 0.7])[:n],
        "Chi_2": np.array([10.0, 7.1, np.nan, 16.6, 9.0, 11.0])[:n],
        "Science_Flags": np.array([1024, 1024 | SCIENCE_FLAGS["FL_FROST"], 0,
                                   1024 | SCIENCE_FLAGS["FL_SNOW_DRY"], 1024, 1024])[:n],
        "Confidence_Flags": np.array([0, 0, CONFIDENCE_FLAGS["FL_NO_PROD"], 0,
                                      CONFIDENCE_FLAGS["FL_RANGE"], CONFIDENCE_FLAGS["FL_DQX"]
                                      ])[:n],
        "Altitude": np.linspace(200.0, 900.0, n),
    }


def test_file_name_and_validity_follow_the_real_granules() -> None:
    # real: precise 19:16:28.016138 .. 20:09:42.461511 -> validity 19:16:29 .. 20:09:42
    real = SmosGranule(np.datetime64("2023-04-01T19:16:28.016138"),
                       np.datetime64("2023-04-01T20:09:42.461511"), False, 70489,
                       np.datetime64("2023-04-01T18:54:43.706101"), 166.590452)
    assert smos_l2sm_filename(real) == \
        "SM_OPER_MIR_SMUDP2_20230401T191629_20230401T200942_700_001_1.nc"
    assert smos_l2sm_filename(GRANULE, "REPR").startswith("SM_REPR_MIR_SMUDP2_20180701T051306")


def test_round_trip_through_the_reader(tmp_path: Path) -> None:
    points = _points()
    path = write_smos_l2sm(tmp_path, points, GRANULE)
    assert path.name == smos_l2sm_filename(GRANULE)
    retrieved = np.isfinite(points["Soil_Moisture"])
    for stream, name, sigma in (("sm_surface", "Soil_Moisture", "Soil_Moisture_DQX"),
                                ("vod", "Optical_Thickness_Nad", "Optical_Thickness_Nad_DQX")):
        table = read_smos_l2sm(path, stream)
        assert table.sizes["obs"] == 5
        np.testing.assert_array_equal(table["value"].values,
                                      points[name][retrieved].astype(np.float32))
        np.testing.assert_array_equal(table["sigma"].values,
                                      points[sigma][retrieved].astype(np.float32))
        np.testing.assert_array_equal(table["time"].values,
                                      points["time"][retrieved].astype("datetime64[ns]"))
        np.testing.assert_array_equal(table["footprint_semi_major_km"].values,
                                      points["AFP"][retrieved].astype(np.float32))
        np.testing.assert_array_equal(table["grid_point_id"].values,
                                      points["Grid_Point_ID"][retrieved])
        expected_x = np.round(np.round(points["X_Swath"][retrieved] / X_SWATH_SCALE)
                              * X_SWATH_SCALE, 6)
        np.testing.assert_array_equal(table["x_swath_km"].values, expected_x)
        assert table.attrs["orbit_direction"] == "A"
    qc = read_smos_l2sm(path, "sm_surface")["qc"].values
    # rows: frost (science), RFI 0.25 >= 0.2 and chi2_p 0.02 and snow, SM 0.62 and range
    # flag, DQX 0.12 > 0.06 and DQX flag
    assert qc.tolist() == [0, 16, 4 | 8 | 16, 1 | 32, 2 | 32]


def test_layout_matches_the_real_granule(tmp_path: Path, fixture_file) -> None:
    path = write_smos_l2sm(tmp_path, _points(), GRANULE)
    real = fixture_file(REAL)
    with netCDF4.Dataset(real) as ref, netCDF4.Dataset(path) as new:
        assert new.file_format == ref.file_format == "NETCDF4"
        assert list(new.dimensions) == ["n_grid_points"]
        assert list(new.variables) == list(ref.variables) == list(VARIABLE_NAMES)
        for name, variable in ref.variables.items():
            written = new[name]
            assert written.dtype == variable.dtype, name
            assert sorted(written.ncattrs()) == sorted(variable.ncattrs()), name
            for attr in variable.ncattrs():
                np.testing.assert_array_equal(np.asarray(written.getncattr(attr)),
                                              np.asarray(variable.getncattr(attr)))
            assert (written.chunking() == "contiguous") == \
                (variable.chunking() == "contiguous"), name
        assert new.getncattr("FH:File_Type") == "MIR_SMUDP2"
        assert set(new.ncattrs()) - set(ref.ncattrs()) == set()
        order = [a for a in new.ncattrs()]
        assert order == [a for a in ref.ncattrs() if a in set(order)]
        assert new.getncattr("FH:Validity_Period:Validity_Start") == "UTC=2018-07-01T05:13:06"
        assert new.getncattr("VH:SPH:MI:TI:Abs_Orbit_Start") == "+44758"
        assert new.getncattr("total_number_of_grid_points") == "6"
    schema = json.loads(SCHEMA.read_text())
    assert sorted(schema["variables"]) == sorted(VARIABLE_NAMES)


def test_variables_not_given_read_as_fill(tmp_path: Path) -> None:
    path = write_smos_l2sm(tmp_path, _points(), GRANULE)
    with netCDF4.Dataset(path) as nc:
        nc.set_auto_maskandscale(False)
        assert np.all(nc["TTH"][:] == np.float32(-999.0))
        assert np.all(nc["N_Sky"][:] == 0)
        assert np.all(nc["GQX"][:] == 0)
        assert nc["RFI_Prob"][2] == 0  # NaN is the fill code 0
        assert nc["Days"][0] == 6756  # 2018-07-01 is day 6756 after 2000-01-01
        assert nc["Seconds"][0] == 5 * 3600 + 40 * 60 and nc["Microseconds"][0] == 123456


@pytest.mark.parametrize(("change", "message"), [
    ({"Latitude": None}, "lack Latitude"),
    ({"Days": np.ones(6)}, "derived"),
    ({"Bogus": np.ones(6)}, "Bogus"),
    ({"Soil_Moisture": np.ones(5)}, "shape"),
    ({"N_Sky": np.full(6, 70000.0)}, "N_Sky"),
    ({"time": np.full(6, np.datetime64("2018-07-02T00:00:00", "us"))}, "sensing period"),
    ({"Grid_Point_ID": np.zeros(6)}, "Grid_Point_ID"),
])
def test_bad_points_are_refused_with_the_variable_named(tmp_path: Path, change: dict,
                                                          message: str) -> None:
    points = _points()
    for key, value in change.items():
        if value is None:
            points.pop(key)
        else:
            points[key] = value
    with pytest.raises(TccasInputError, match=message):
        write_smos_l2sm(tmp_path, points, GRANULE)
    assert list(tmp_path.iterdir()) == []
