"""SMOS-IC reader and writer: EASE-2 geometry, round trips, screening, fallback sigma and
bad files."""

from __future__ import annotations

import datetime as dt
import json
import re

import netCDF4
import numpy as np
import pytest

from tccas.catalog.observations import passed_qc, validate_observations
from tccas.catalog.smos_ic import (
    EASE2_CELL_M,
    EASE2_SHAPE,
    FALLBACK_SIGMA,
    QC_MEANINGS,
    SmosIcScreening,
    ease2_cell_corners,
    ease2_cell_of,
    ease2_centres,
    inspect_smos_ic,
    read_smos_ic,
    smos_ic_file_name,
    write_smos_ic,
)
from tccas.model.errors import TccasInputError

DAY = dt.date(2020, 7, 1)
IBERIA = (-9.5, 36.0, 3.0, 44.0)


def float32(values):
    return np.asarray(values, dtype=np.float32).astype(np.float64)


def make_retrievals() -> dict[str, np.ndarray]:
    """One retrieval per EASE-2 cell centre over Iberia, at whole microseconds; rows 0-5
    each fail exactly one screen, row 6 has no StdError."""
    lat_all, lon_all = ease2_centres()
    rows = np.flatnonzero((lat_all > 37.0) & (lat_all < 43.0))
    cols = np.flatnonzero((lon_all > -8.0) & (lon_all < 0.0))
    row, col = (a.ravel() for a in np.meshgrid(rows, cols, indexing="ij"))
    n = row.size
    rng = np.random.default_rng(7)
    start = np.datetime64("2020-07-01T06:05:00.000000", "us")
    retrievals = {
        "latitude": lat_all[row] + rng.uniform(-0.05, 0.05, n),  # inside the cell
        "longitude": lon_all[col] + rng.uniform(-0.05, 0.05, n),
        "time": (start + np.sort(rng.integers(0, 900_000_000, n)).astype("timedelta64[us]")
                 ).astype("datetime64[ns]"),
        "Soil_Moisture": rng.uniform(0.02, 0.45, n),
        "Soil_Moisture_StdError": rng.uniform(0.01, 0.05, n),
        "Optical_Thickness_Nad": rng.uniform(0.05, 0.9, n),
        "Optical_Thickness_Nad_StdError": rng.uniform(0.02, 0.15, n),
        "RMSE": rng.uniform(1.0, 6.0, n),
        "Soil_Temperature_Level1": rng.uniform(285.0, 310.0, n),
        "Scene_Flags": np.zeros(n),
        "Quality_Flag": np.zeros(n),
    }
    retrievals["Quality_Flag"][0] = 1
    retrievals["Soil_Moisture"][1] = 0.7
    retrievals["Soil_Moisture_StdError"][2] = 0.08
    retrievals["RMSE"][3] = 9.5
    retrievals["Soil_Temperature_Level1"][4] = 268.0
    retrievals["Scene_Flags"][5] = 4
    retrievals["Soil_Moisture_StdError"][6] = np.nan
    return retrievals


@pytest.fixture(scope="module")
def retrievals():
    return make_retrievals()


@pytest.fixture(scope="module")
def global_file(retrievals, tmp_path_factory):
    path = tmp_path_factory.mktemp("smos_ic") / smos_ic_file_name(DAY, "A")
    return write_smos_ic(path, retrievals)


@pytest.fixture(scope="module")
def subset_file(retrievals, tmp_path_factory):
    path = tmp_path_factory.mktemp("smos_ic_subset") / smos_ic_file_name(DAY, "D")
    return write_smos_ic(path, retrievals, bbox=IBERIA)


@pytest.fixture(scope="module")
def soil_moisture(global_file):
    return read_smos_ic(global_file, "sm_surface")


def test_ease2_centres_reproduce_the_tuw_reference_cells():
    lat, lon = ease2_centres()
    assert lat.shape == (584,) and lon.shape == (1388,)
    # TUW-GEO smos tests/test_ICimg_reading.py: north-up row 355, column 458 and 425, 1237
    assert lat[355] == pytest.approx(-12.55398, abs=1e-5)
    assert lon[458] == pytest.approx(-61.08069, abs=1e-5)
    assert lat[425] == pytest.approx(-27.17044, abs=1e-5)
    assert lon[1237] == pytest.approx(140.9654, abs=1e-4)
    assert lat[0] == pytest.approx(83.51714, abs=1e-5) and lat[-1] == -lat[0]
    np.testing.assert_array_equal(ease2_cell_of(lon[[458, 1237]], lat[[355, 425]]),
                                  ([355, 425], [458, 1237]))


def test_ease2_corners_are_the_25_km_cell_rectangle():
    corner_lat, corner_lon = ease2_cell_corners(np.array([0, 355, 9]), np.array([0, 458, 1387]))
    # 1388 columns over 360 degrees; counter-clockwise from the south-west
    np.testing.assert_allclose(corner_lon[:, 1] - corner_lon[:, 0], 360.0 / 1388, rtol=1e-9)
    np.testing.assert_array_equal(corner_lat[:, 0], corner_lat[:, 1])
    np.testing.assert_array_equal(corner_lat[:, 2], corner_lat[:, 3])
    assert corner_lon[0, 0] == pytest.approx(-180.0, abs=1e-6)
    assert corner_lon[2, 1] == pytest.approx(180.0, abs=1e-6)
    assert corner_lat[0, 3] == pytest.approx(84.43979, abs=1e-5)  # the grid's north edge
    # NSIDC: the global grid spans x = +-17 367 530.445 m
    assert EASE2_CELL_M * EASE2_SHAPE[1] == pytest.approx(2 * 17_367_530.44516, abs=0.01)


def test_global_file_is_stored_south_up(global_file):
    with netCDF4.Dataset(global_file) as nc:
        assert nc.dimensions["lat"].size == 584 and nc.dimensions["lon"].size == 1388
        lat = nc["lat"][:]
        assert lat[0] < 0 < lat[-1]
        assert nc["Soil_Moisture"].units == "m3 m-3"
        assert int(nc["Quality_Flag"][0, 0]) == 2  # no retrieval: "missing data"


def test_round_trip_keeps_values_times_and_cells(retrievals, soil_moisture):
    n = retrievals["latitude"].size
    assert soil_moisture.sizes["obs"] == n
    assert soil_moisture.attrs["stream"] == "sm_surface"
    assert soil_moisture.attrs["units"] == "m3 m-3"
    assert soil_moisture.attrs["orbit_direction"] == "A"
    order = np.argsort(soil_moisture["time"].values, kind="stable")
    table = soil_moisture.isel(obs=order)
    np.testing.assert_array_equal(table["time"].values, retrievals["time"])
    np.testing.assert_array_equal(table["value"].values, float32(retrievals["Soil_Moisture"]))
    error = float32(retrievals["Soil_Moisture_StdError"])
    np.testing.assert_array_equal(table["sigma"].values[np.isfinite(error)],
                                  error[np.isfinite(error)])
    row, col = ease2_cell_of(retrievals["longitude"], retrievals["latitude"])
    np.testing.assert_array_equal(table["ease2_row"].values, row)
    np.testing.assert_array_equal(table["ease2_col"].values, col)
    lat_all, lon_all = ease2_centres()
    np.testing.assert_array_equal(table["latitude"].values, lat_all[row])
    np.testing.assert_array_equal(table["longitude"].values, lon_all[col])
    assert table.attrs["footprint_model"] == "corners"
    corner_lat, _ = ease2_cell_corners(row, col)
    np.testing.assert_array_equal(table["corner_latitude"].values, corner_lat)


def test_spot_checked_retrieval(retrievals, soil_moisture):
    index = 10
    row, col = ease2_cell_of(retrievals["longitude"][[index]], retrievals["latitude"][[index]])
    hit = np.flatnonzero((soil_moisture["ease2_row"].values == row[0])
                         & (soil_moisture["ease2_col"].values == col[0]))
    assert hit.size == 1
    picked = soil_moisture.isel(obs=int(hit[0]))
    assert float(picked["value"]) == pytest.approx(retrievals["Soil_Moisture"][index], rel=1e-7)
    assert picked["time"].values == retrievals["time"][index]
    assert float(picked["rmse_tb"]) == pytest.approx(retrievals["RMSE"][index], rel=1e-7)
    assert bool(picked["sigma_from_product"])


def test_each_screen_sets_its_own_bit(retrievals, soil_moisture):
    expected = {0: "QUALITY_FLAG", 1: "VALUE_RANGE", 2: "SIGMA_TOO_LARGE", 3: "TB_FIT_RMSE",
                4: "FROZEN_SOIL"}
    qc_by_time = dict(zip(soil_moisture["time"].values, soil_moisture["qc"].values,
                          strict=True))
    for index, name in expected.items():
        assert qc_by_time[retrievals["time"][index]] == 1 << QC_MEANINGS.index(name)
    # scene flags reject nothing by default (their bit meanings are undocumented) ...
    assert qc_by_time[retrievals["time"][5]] == 0
    assert passed_qc(soil_moisture).sizes["obs"] == soil_moisture.sizes["obs"] - 5
    assert json.loads(soil_moisture.attrs["qc_thresholds"])["max_rmse_k"] == 8.0


def test_scene_flag_mask_is_configurable(global_file, retrievals):
    rules = SmosIcScreening(value_min=0.0, value_max=0.6, max_sigma=0.06, scene_flags_mask=4)
    table = read_smos_ic(global_file, "sm_surface", rules)
    qc_by_time = dict(zip(table["time"].values, table["qc"].values, strict=True))
    assert qc_by_time[retrievals["time"][5]] == 1 << QC_MEANINGS.index("SCENE_FLAGS")


def test_missing_stderror_falls_back_to_the_proposed_sigma(retrievals, soil_moisture):
    fallback = soil_moisture.isel(obs=np.flatnonzero(
        soil_moisture["time"].values == retrievals["time"][6]))
    assert float(fallback["sigma"][0]) == FALLBACK_SIGMA["sm_surface"] == 0.04
    assert not bool(fallback["sigma_from_product"][0])
    assert int(fallback["qc"][0]) == 0  # the fallback sigma is not screened
    assert int(soil_moisture["sigma_from_product"].sum()) == soil_moisture.sizes["obs"] - 1


def test_vod_stream(global_file, retrievals):
    vod = read_smos_ic(global_file, "vod")
    assert vod.attrs["units"] == "1"
    order = np.argsort(vod["time"].values, kind="stable")
    np.testing.assert_array_equal(vod["value"].values[order],
                                  float32(retrievals["Optical_Thickness_Nad"]))
    validate_observations(vod, "vod")


def test_regional_subset_and_bbox_read_agree_with_the_global_file(subset_file, global_file,
                                                                  soil_moisture):
    with netCDF4.Dataset(subset_file) as nc:
        assert nc.dimensions["lat"].size < 584 and nc.dimensions["lon"].size < 1388
    subset = read_smos_ic(subset_file, "sm_surface")
    assert subset.attrs["orbit_direction"] == "D"
    np.testing.assert_array_equal(np.sort(subset["value"].values),
                                  np.sort(soil_moisture["value"].values))
    box = read_smos_ic(global_file, "sm_surface", bbox=(-5.0, 39.0, -3.0, 41.0))
    inside = ((soil_moisture["longitude"] >= -5.0) & (soil_moisture["longitude"] <= -3.0)
              & (soil_moisture["latitude"] >= 39.0) & (soil_moisture["latitude"] <= 41.0))
    assert box.sizes["obs"] == int(inside.sum()) > 0


def test_inspect_counts(global_file, retrievals):
    summary = inspect_smos_ic(global_file)
    n = retrievals["latitude"].size
    assert summary["product"] == "SMOS-IC"
    assert summary["grid_shape"] == (584, 1388)
    assert summary["n_records"] == 584 * 1388
    assert summary["streams"]["sm_surface"] == {"n_valid": n, "n_after_qc": n - 5}
    assert summary["streams"]["vod"]["n_valid"] == n
    assert summary["time_start"] == str(retrievals["time"].min().astype("datetime64[us]"))


def test_day_without_overpass_gives_an_empty_table(tmp_path):
    path = write_smos_ic(tmp_path / smos_ic_file_name(DAY, "A"),
                         {"latitude": np.array([]), "longitude": np.array([]),
                          "time": np.array([], dtype="datetime64[ns]")}, bbox=IBERIA)
    assert read_smos_ic(path, "vod").sizes["obs"] == 0


# ------------------------------------------------------------------------ bad input
@pytest.fixture
def small_file(retrievals, tmp_path):
    return write_smos_ic(tmp_path / smos_ic_file_name(DAY, "A"), retrievals, bbox=IBERIA)


def test_missing_variable_is_named(small_file):
    with netCDF4.Dataset(small_file, "a") as nc:
        nc.renameVariable("Soil_Moisture", "SM")
    with pytest.raises(TccasInputError, match="Soil_Moisture missing") as error:
        read_smos_ic(small_file, "sm_surface")
    assert str(small_file) in str(error.value)


def test_missing_stderror_variable_uses_the_fallback_everywhere(small_file):
    with netCDF4.Dataset(small_file, "a") as nc:
        nc.renameVariable("Optical_Thickness_Nad_StdError", "unused")
    table = read_smos_ic(small_file, "vod")
    np.testing.assert_array_equal(table["sigma"].values, FALLBACK_SIGMA["vod"])
    assert "Optical_Thickness_Nad_StdError" in table.attrs["sigma_source"]


def test_wrong_shape_is_named(small_file):
    with netCDF4.Dataset(small_file, "a") as nc:
        nc.renameVariable("RMSE", "RMSE_old")
        nc.createVariable("RMSE", "f4", ("lon", "lat"))
    with pytest.raises(TccasInputError, match=r"variable 'RMSE' has shape"):
        read_smos_ic(small_file, "sm_surface")


def test_all_fill_values_under_a_data_flag_are_rejected(small_file):
    with netCDF4.Dataset(small_file, "a") as nc:
        nc["Soil_Moisture"][:] = -999.0
    with pytest.raises(TccasInputError, match=r"'Soil_Moisture' is fill in all \d+ cells"):
        read_smos_ic(small_file, "sm_surface")


def test_coordinates_off_the_ease2_grid_are_rejected(small_file):
    with netCDF4.Dataset(small_file, "a") as nc:
        nc["lon"][0] = nc["lon"][0] + 0.05
    with pytest.raises(TccasInputError, match=r"coordinate 'lon' value .* not a cell centre"):
        read_smos_ic(small_file, "sm_surface")


def test_times_outside_the_day_of_the_name_are_rejected(retrievals, tmp_path):
    late = {**retrievals, "time": retrievals["time"] + np.timedelta64(2, "D")}
    path = write_smos_ic(tmp_path / smos_ic_file_name(DAY, "A"), late, bbox=IBERIA)
    with pytest.raises(TccasInputError, match=r"UTC_Seconds.*outside the day"):
        read_smos_ic(path, "sm_surface")


@pytest.mark.parametrize("cut", ["empty", "truncated"])
def test_damaged_file_is_a_user_error_naming_it(small_file, cut):
    data = small_file.read_bytes()
    small_file.write_bytes(b"" if cut == "empty" else data[: len(data) // 2])
    with pytest.raises(TccasInputError, match=re.escape(str(small_file))):
        read_smos_ic(small_file, "sm_surface")


def test_unknown_stream_and_writer_errors(small_file, retrievals, tmp_path):
    with pytest.raises(TccasInputError, match="'lai'"):
        read_smos_ic(small_file, "lai")
    doubled = {key: np.concatenate([values, values[:1]]) for key, values in retrievals.items()}
    with pytest.raises(TccasInputError, match="share one EASE-2 cell"):
        write_smos_ic(tmp_path / "dup.nc", doubled, bbox=IBERIA)
    with pytest.raises(TccasInputError, match="outside the written extent"):
        write_smos_ic(tmp_path / "out.nc", retrievals, bbox=(-5.0, 39.0, -3.0, 41.0))
    with pytest.raises(TccasInputError, match="lack time"):
        write_smos_ic(tmp_path / "no_time.nc",
                      {k: v for k, v in retrievals.items() if k != "time"})
