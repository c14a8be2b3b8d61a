"""JRC-TIP FAPAR reader and writer: composite timing, variable mapping, screening, cell
footprints and bad files."""

from __future__ import annotations

import json
import re

import netCDF4
import numpy as np
import pytest

from tccas.catalog.jrc_tip import (
    QC_MEANINGS,
    TipScreening,
    TipVariables,
    composite_starts,
    inspect_jrc_tip,
    read_jrc_tip,
    write_jrc_tip,
)
from tccas.catalog.observations import passed_qc
from tccas.model.errors import TccasInputError

# 0.01 degree cells around Majadas (39.94 N, 5.77 W), north to south
LAT = np.round(40.0 - 0.005 - 0.01 * np.arange(12), 3)
LON = np.round(-5.85 + 0.005 + 0.01 * np.arange(16), 3)
STARTS = composite_starts(2020)[10:13]


def float32(values):
    return np.asarray(values, dtype=np.float32).astype(np.float64)


def make_fields():
    rng = np.random.default_rng(3)
    shape = (STARTS.size, LAT.size, LON.size)
    fapar = rng.uniform(0.05, 0.8, shape)
    sigma = rng.uniform(0.02, 0.09, shape)
    fapar[0, 0, 0] = np.nan  # a gap (cloud, no albedo)
    fapar[1, 2, 3] = 1.2  # outside [0, 1]
    sigma[2, 5, 5] = 0.3  # snow background
    return fapar, sigma


@pytest.fixture(scope="module")
def fields():
    return make_fields()


@pytest.fixture(scope="module")
def tip_file(fields, tmp_path_factory):
    fapar, sigma = fields
    return write_jrc_tip(tmp_path_factory.mktemp("tip") / "JRC-TIP_FAPAR_2020.nc", fapar,
                         sigma, LAT, LON, STARTS, lai=fapar * 3.0, lai_sigma=sigma * 10.0)


@pytest.fixture(scope="module")
def fapar_table(tip_file):
    return read_jrc_tip(tip_file)


def test_composites_are_posted_every_8_days_from_1_january():
    starts = composite_starts(2020)
    assert starts.size == 46
    day_of_year = (starts - np.datetime64("2020-01-01")).astype(int) + 1
    np.testing.assert_array_equal(day_of_year, 1 + 8 * np.arange(46))
    assert composite_starts(2021)[-1] == np.datetime64("2021-12-27")


def test_round_trip_keeps_values_cells_and_composite_centres(fields, fapar_table):
    fapar, sigma = fields
    valid = np.isfinite(fapar)
    assert fapar_table.sizes["obs"] == int(valid.sum()) == fapar.size - 1
    assert fapar_table.attrs["stream"] == "fapar" and fapar_table.attrs["units"] == "1"
    np.testing.assert_array_equal(fapar_table["value"].values, float32(fapar[valid]))
    np.testing.assert_array_equal(fapar_table["sigma"].values, float32(sigma[valid]))
    t, i, j = np.nonzero(valid)
    np.testing.assert_array_equal(fapar_table["latitude"].values, LAT[i])
    np.testing.assert_array_equal(fapar_table["longitude"].values, LON[j])
    # time = local solar noon (12 h - lon / 15 h UTC) of the window centre, start + 8 days
    noon_s = np.round((12.0 - LON[j] / 15.0) * 3600.0).astype(np.int64)
    expected = ((STARTS[t] + np.timedelta64(8, "D")).astype("datetime64[ns]")
                + noon_s.astype("timedelta64[s]"))
    np.testing.assert_array_equal(fapar_table["time"].values, expected)
    np.testing.assert_array_equal(fapar_table["composite_end"].values
                                  - fapar_table["composite_start"].values,
                                  np.timedelta64(16, "D"))


def test_footprint_is_the_0p01_degree_cell(fapar_table):
    first = fapar_table.isel(obs=0)
    assert fapar_table.attrs["footprint_model"] == "corners"
    np.testing.assert_allclose(first["corner_latitude"].values,
                               float(first["latitude"]) + np.array([-1, -1, 1, 1]) * 0.005,
                               atol=1e-12)
    np.testing.assert_allclose(first["corner_longitude"].values,
                               float(first["longitude"]) + np.array([-1, 1, 1, -1]) * 0.005,
                               atol=1e-12)


def test_screening_flags_range_and_large_sigma(fapar_table):
    assert fapar_table["qc"].attrs["flag_meanings"].split() == list(QC_MEANINGS)
    by_value = fapar_table.isel(obs=np.flatnonzero(fapar_table["value"].values > 1.0))
    assert by_value.sizes["obs"] == 1 and int(by_value["qc"][0]) == 1
    large = fapar_table.isel(obs=np.flatnonzero(fapar_table["sigma"].values > 0.1))
    assert large.sizes["obs"] == 1 and int(large["qc"][0]) == 2
    assert passed_qc(fapar_table).sizes["obs"] == fapar_table.sizes["obs"] - 2
    assert json.loads(fapar_table.attrs["qc_thresholds"])["max_sigma"] == 0.1


def test_layout_holds_lai_and_time_bounds(tip_file, fields):
    with netCDF4.Dataset(tip_file) as nc:
        assert nc["fapar"].dimensions == ("time", "lat", "lon")
        assert nc["time"].bounds == "time_bnds"
        np.testing.assert_array_equal(nc["time_bnds"][0],
                                      [(STARTS[0] - np.datetime64("2000-01-01")).astype(int),
                                       (STARTS[0] - np.datetime64("2000-01-01")).astype(int)
                                       + 16])
        assert nc["lai_effective"].units == "m2 m-2"
        assert float(nc["lai_effective"][1, 1, 1]) == pytest.approx(3.0 * fields[0][1, 1, 1],
                                                                    rel=1e-6)


def test_variable_mapping_with_flags_and_no_bounds(tmp_path, fields):
    fapar, sigma = fields
    names = TipVariables(fapar="FAPAR", fapar_sigma="FAPAR_SD", latitude="latitude",
                         longitude="longitude", time_bounds=None, flags="QA")
    flags = np.zeros(fapar.shape, dtype=np.uint16)
    flags[0, 1, 1] = 8
    path = write_jrc_tip(tmp_path / "mapped.nc", fapar, sigma, LAT, LON, STARTS,
                         flags=flags, variables=names)
    table = read_jrc_tip(path, names, TipScreening(flags_mask=8))
    flagged = (table["latitude"].values == LAT[1]) & (table["longitude"].values == LON[1])
    day = table["time"].values.astype("datetime64[D]")
    flagged &= day == day.min()
    assert int(table["qc"].values[flagged][0]) == 1 << QC_MEANINGS.index("FLAGS")
    # without bounds, the time coordinate (written at the window centre) gives the day
    assert day.min() == STARTS[0] + np.timedelta64(8, "D")
    assert json.loads(table.attrs["variables"])["fapar"] == "FAPAR"


def test_bbox_read_and_inspect(tip_file, fapar_table):
    box = read_jrc_tip(tip_file, bbox=(-5.83, 39.95, -5.80, 39.99))
    # centres -5.825 .. -5.805 (3) x 39.985 .. 39.955 (4), 3 composites
    assert box.sizes["obs"] == 3 * 4 * 3
    summary = inspect_jrc_tip(tip_file)
    assert summary["n_composites"] == 3
    assert summary["grid_shape"] == (12, 16)
    assert summary["n_records"] == 3 * 12 * 16
    assert summary["streams"]["fapar"] == {"n_valid": fapar_table.sizes["obs"],
                                           "n_after_qc": fapar_table.sizes["obs"] - 2}
    assert summary["time_start"] == str(STARTS[0] + np.timedelta64(8, "D")) + "T00:00:00"


# ------------------------------------------------------------------------ bad input
def test_missing_mapped_variable_is_named(tip_file):
    names = TipVariables(fapar_sigma="fapar_sd")
    with pytest.raises(TccasInputError, match="fapar_sd missing") as error:
        read_jrc_tip(tip_file, names)
    assert str(tip_file) in str(error.value)


def test_wrong_shape_is_named(tmp_path, fields):
    path = write_jrc_tip(tmp_path / "shape.nc", *fields, LAT, LON, STARTS)
    with netCDF4.Dataset(path, "a") as nc:
        nc.renameVariable("fapar_uncertainty", "old")
        nc.createVariable("fapar_uncertainty", "f4", ("lat", "lon"))
    with pytest.raises(TccasInputError, match=r"'fapar_uncertainty' has shape \(12, 16\)"):
        read_jrc_tip(path)


def test_all_fill_is_rejected(tmp_path, fields):
    empty = np.full(fields[0].shape, np.nan)
    path = write_jrc_tip(tmp_path / "fill.nc", empty, fields[1], LAT, LON, STARTS)
    with pytest.raises(TccasInputError, match="'fapar' holds only fill values"):
        read_jrc_tip(path)


def test_irregular_coordinate_and_bad_time_units(tmp_path, fields):
    path = write_jrc_tip(tmp_path / "bad.nc", *fields, LAT, LON, STARTS)
    with netCDF4.Dataset(path, "a") as nc:
        nc["lon"][3] = nc["lon"][3] + 0.004
    with pytest.raises(TccasInputError, match="'lon' is not regularly spaced"):
        read_jrc_tip(path)
    with netCDF4.Dataset(path, "a") as nc:
        nc["time"].units = "fortnights"
    with pytest.raises(TccasInputError, match="'time' has time units 'fortnights'"):
        read_jrc_tip(path)


@pytest.mark.parametrize("cut", ["empty", "truncated"])
def test_damaged_file_is_a_user_error_naming_it(tmp_path, fields, cut):
    path = write_jrc_tip(tmp_path / "damaged.nc", *fields, LAT, LON, STARTS)
    data = path.read_bytes()
    path.write_bytes(b"" if cut == "empty" else data[: len(data) // 3])
    with pytest.raises(TccasInputError, match=re.escape(str(path))):
        read_jrc_tip(path)


def test_writer_rejects_wrong_shapes(tmp_path, fields):
    with pytest.raises(TccasInputError, match=r"'fapar_uncertainty' has shape"):
        write_jrc_tip(tmp_path / "w.nc", fields[0], fields[1][:, :, :-1], LAT, LON, STARTS)
    with pytest.raises(TccasInputError, match="flag variable name"):
        write_jrc_tip(tmp_path / "w.nc", *fields, LAT, LON, STARTS,
                      flags=np.zeros(fields[0].shape))
