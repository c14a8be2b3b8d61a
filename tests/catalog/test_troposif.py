"""TROPOSIF reader and writer: round trips through the L2B/L2 layout, fills, time, corners,
QA screening, and bad files (the real S5P CH4/NO2 fixtures must be rejected)."""

from __future__ import annotations

import datetime as dt
import json
import re

import netCDF4
import numpy as np
import pytest
import xarray as xr

from tccas.catalog.observations import passed_qc, validate_observations
from tccas.catalog.troposif import (
    QC_MEANINGS,
    TroposifScreening,
    inspect_troposif,
    read_troposif,
    sort_corners_counterclockwise,
)
from tccas.catalog.troposif_writer import (
    DEFAULT_ALGORITHM_SETTINGS,
    NETCDF_FLOAT_FILL,
    write_troposif_l2,
    write_troposif_l2b,
)
from tccas.model.errors import TccasInputError

DAY = dt.date(2023, 7, 1)
N = 1000
S5P_FILES = {
    "CH4": ("tropomi_s5p/S5P_OFFL_L2__CH4____20200303T013547_20200303T031717_12367_01_"
            "010302_20200306T053811.nc"),
    "NO2": ("tropomi_s5p/S5P_OFFL_L2__NO2____20200303T013547_20200303T031717_12367_01_"
            "010302_20200306T053815.nc"),
}


def make_soundings(n: int = N) -> dict[str, np.ndarray]:
    """Soundings over Iberia from 00:24 UTC to 00:05 UTC the next day (as a real L2B day),
    at whole milliseconds, with corners given clockwise from the north-west corner."""
    rng = np.random.default_rng(42)
    lat = rng.uniform(36.0, 44.0, n)
    lon = rng.uniform(-9.5, 3.0, n)
    start = np.datetime64(f"{DAY}T00:24:00", "ms")
    span_ms = (23 * 60 + 41) * 60_000
    time = start + np.sort(rng.integers(0, span_ms, n)).astype("timedelta64[ms]")
    half_lat, half_lon = 0.025, 0.02
    return {
        "time": time.astype("datetime64[ns]"),
        "latitude": lat,
        "longitude": lon,
        "latitude_bounds": np.stack([lat + half_lat, lat + half_lat, lat - half_lat,
                                     lat - half_lat], axis=1),
        "longitude_bounds": np.stack([lon - half_lon, lon + half_lon, lon + half_lon,
                                      lon - half_lon], axis=1),
        "SIF_743": rng.normal(0.4, 0.5, n),  # negative values are real retrievals
        "SIF_735": rng.normal(0.4, 0.4, n),
        "SIF_ERROR_743": rng.uniform(0.3, 0.6, n),
        "SIF_ERROR_735": rng.uniform(0.25, 0.5, n),
        "solar_zenith_angle": rng.uniform(20.0, 70.0, n),
        "viewing_zenith_angle": rng.uniform(0.0, 60.0, n),
        "cloud_fraction_L2": rng.uniform(0.0, 0.8, n) ** 2 / 0.8,
        "TOA_RFL": rng.uniform(0.05, 0.4, (n, 7)),
    }


def with_qa(soundings: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    n = soundings["latitude"].size
    return {**soundings, "QA_value_743": np.linspace(0.0, 1.0, n),
            "QA_value_735": np.linspace(1.0, 0.0, n)}


def as_float32(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=np.float32).astype(np.float64)


@pytest.fixture(scope="module")
def soundings():
    return make_soundings()


@pytest.fixture(scope="module")
def l2b_file(soundings, tmp_path_factory):
    path = tmp_path_factory.mktemp("troposif") / "S5P_PAL__L2B_SIF____20230701.nc"
    return write_troposif_l2b(path, soundings, DAY)


@pytest.fixture(scope="module")
def l2_file(soundings, tmp_path_factory):
    path = tmp_path_factory.mktemp("troposif") / "S5P_PAL__L2__SIF____20230701_29321.nc"
    return write_troposif_l2(path, with_qa(soundings), DAY, orbit=29321)


@pytest.fixture(scope="module")
def sif743(l2b_file):
    return read_troposif(l2b_file)


def test_l2b_round_trip_keeps_values_times_and_corners(soundings, sif743):
    assert sif743.sizes["obs"] == N
    assert sif743.attrs["stream"] == "sif743"
    assert sif743.attrs["units"] == "mW m-2 sr-1 nm-1"
    assert sif743.attrs["product_level"] == "L2B"
    np.testing.assert_array_equal(sif743["value"].values, as_float32(soundings["SIF_743"]))
    np.testing.assert_array_equal(sif743["sigma"].values,
                                  as_float32(soundings["SIF_ERROR_743"]))
    np.testing.assert_array_equal(sif743["time"].values, soundings["time"])
    np.testing.assert_array_equal(sif743["latitude"].values, as_float32(soundings["latitude"]))
    # written clockwise from the north-west; read counter-clockwise from the south-west
    order = [3, 2, 1, 0]
    np.testing.assert_array_equal(sif743["corner_latitude"].values,
                                  as_float32(soundings["latitude_bounds"])[:, order])
    np.testing.assert_allclose(sif743["corner_longitude"].values,
                               as_float32(soundings["longitude_bounds"])[:, order], atol=1e-12)
    np.testing.assert_array_equal(sif743["cloud_fraction"].values,
                                  as_float32(soundings["cloud_fraction_L2"]))
    assert (sif743["value"].values < 0).sum() > 0
    assert np.all(sif743["qc"].values == 0)  # L2B: already screened upstream
    assert "qa_value" not in sif743


def test_writer_accepts_a_dataset(tmp_path, soundings, sif743):
    second = {"latitude_bounds": "ncorner", "longitude_bounds": "ncorner", "TOA_RFL": "band"}
    dataset = xr.Dataset({name: (("n_elem", second[name]) if name in second else "n_elem",
                                 values) for name, values in soundings.items()})
    table = read_troposif(write_troposif_l2b(tmp_path / "from_dataset.nc", dataset, DAY))
    np.testing.assert_array_equal(table["value"].values, sif743["value"].values)
    np.testing.assert_array_equal(table["corner_longitude"].values,
                                  sif743["corner_longitude"].values)


def test_file_spanning_midnight_keeps_each_soundings_own_utc_time(soundings, sif743):
    times = sif743["time"].values
    next_day = times >= np.datetime64(DAY + dt.timedelta(days=1))
    assert times.min() >= np.datetime64(f"{DAY}T00:24:00")
    assert times.max() < np.datetime64(f"{DAY + dt.timedelta(days=1)}T00:05:00")
    assert next_day.sum() == (soundings["time"] >= np.datetime64("2023-07-02")).sum() > 0


def test_written_layout_matches_the_l2b_conventions(l2b_file, soundings):
    with netCDF4.Dataset(l2b_file) as nc:
        product = nc["PRODUCT"]
        assert product["time"].units == "seconds since 2010-01-01 00:00:00"
        assert int(product["time"][0]) == 425_865_600  # 2023-07-01T00:00Z
        assert product["delta_time"].units == "milliseconds since 2023-07-01 00:00:00"
        assert product["delta_time"][:].max() > 86_400_000
        assert "_FillValue" not in product["SIF_735"].ncattrs()
        assert "_FillValue" in product["SIF_743"].ncattrs()
        assert product.dimensions["ncorner"].size == 4
        assert nc["PRODUCT/SUPPORT_DATA/DETAILED_RESULTS/TOA_RFL"].shape == (N, 7)
        settings = nc["METADATA/ALGORITHM_SETTINGS"]
        assert settings.getncattr("Cloud fraction threshold") == pytest.approx(0.8)
        assert set(DEFAULT_ALGORITHM_SETTINGS) == set(settings.ncattrs())
    # the file is readable by ordinary tools too: xarray decodes delta_time by its units
    with xr.open_dataset(l2b_file, group="PRODUCT") as product:
        np.testing.assert_array_equal(product["delta_time"].values, soundings["time"])


def test_sif735_undeclared_fill_is_masked(l2b_file, soundings):
    with netCDF4.Dataset(l2b_file) as nc:
        nc.set_auto_mask(False)
        raw = nc["PRODUCT/SIF_735"][:]
    filled = np.flatnonzero(raw >= 1e30)
    assert filled.size == 3  # 0.3 % of 1000 soundings
    assert raw[filled] == pytest.approx(NETCDF_FLOAT_FILL, rel=1e-6)
    table = read_troposif(l2b_file, "sif735")
    assert table.sizes["obs"] == N - 3
    assert np.abs(table["value"].values).max() < 10.0
    kept = np.setdiff1d(np.arange(N), filled)
    np.testing.assert_array_equal(table["value"].values, as_float32(soundings["SIF_735"][kept]))
    np.testing.assert_array_equal(table["time"].values, soundings["time"][kept])


def test_missing_values_drop_rows(tmp_path, soundings):
    gaps = {**soundings, "SIF_743": soundings["SIF_743"].copy(),
            "latitude_bounds": soundings["latitude_bounds"].copy()}
    gaps["SIF_743"][[5, 6]] = np.nan  # written as the declared _FillValue
    gaps["latitude_bounds"][10, 2] = np.nan  # a pixel without its footprint
    path = write_troposif_l2b(tmp_path / "gaps.nc", gaps, DAY, sif735_fill_fraction=0.0)
    table = read_troposif(path)
    assert table.sizes["obs"] == N - 3
    assert read_troposif(path, "sif735").sizes["obs"] == N - 1


def test_dateline_pixels_keep_unwrapped_counter_clockwise_corners(tmp_path):
    base = make_soundings(4)
    lon = np.array([179.99, -179.99, 179.5, -10.0])
    lat = np.array([60.0, 60.0, -30.0, 40.0])
    offsets = np.array([-0.03, 0.03, 0.03, -0.03])  # clockwise from the north-west
    corner_lon = (lon[:, None] + offsets + 180.0) % 360.0 - 180.0
    corner_lat = lat[:, None] + np.array([0.02, 0.02, -0.02, -0.02])
    path = write_troposif_l2b(
        tmp_path / "dateline.nc",
        {**base, "latitude": lat, "longitude": lon, "latitude_bounds": corner_lat,
         "longitude_bounds": corner_lon},
        DAY, sif735_fill_fraction=0.0,
    )
    table = read_troposif(path)
    corners = table["corner_longitude"].values
    assert corners[0] == pytest.approx([179.96, 180.02, 180.02, 179.96], abs=1e-4)
    assert corners[1] == pytest.approx([-180.02, -179.96, -179.96, -180.02], abs=1e-4)
    assert np.abs(corners - table["longitude"].values[:, None]).max() < 0.031
    assert np.all(shoelace_area(table) > 0)


def shoelace_area(table: xr.Dataset) -> np.ndarray:
    """Signed area of each quadrilateral in the local east-north plane (> 0: CCW)."""
    east = (table["corner_longitude"].values - table["longitude"].values[:, None]) * np.cos(
        np.radians(table["latitude"].values))[:, None]
    north = table["corner_latitude"].values
    return 0.5 * (east * np.roll(north, -1, axis=1) - np.roll(east, -1, axis=1) * north).sum(1)


def test_corner_sorting_is_independent_of_the_input_order():
    rng = np.random.default_rng(7)
    lat = rng.uniform(-60.0, 70.0, 200)
    lon = rng.uniform(-180.0, 180.0, 200)
    square = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]]) * 0.02
    reference = sort_corners_counterclockwise(
        lat[:, None] + square[:, 1], lon[:, None] + square[:, 0], lat, lon)
    for permutation in ([1, 2, 3, 0], [3, 2, 1, 0], [2, 0, 3, 1]):
        shuffled = square[permutation]
        result = sort_corners_counterclockwise(
            lat[:, None] + shuffled[:, 1], (lon[:, None] + shuffled[:, 0] + 180) % 360 - 180,
            lat, lon)
        np.testing.assert_allclose(result[0], reference[0], atol=1e-12)
        np.testing.assert_allclose(result[1], reference[1], atol=1e-9)


def test_l2_quality_screening_counts(l2_file):
    table = read_troposif(l2_file)
    assert table.attrs["product_level"] == "L2"
    assert table["qc"].attrs["flag_meanings"].split() == list(QC_MEANINGS)
    qa = np.linspace(0.0, 1.0, N).astype(np.float32)
    expected = int((qa >= 0.8).sum())
    assert expected == 200
    assert passed_qc(table).sizes["obs"] == expected
    np.testing.assert_array_equal(table["qa_value"].values, qa)
    # the 735 nm stream is screened on its own QA value (reversed: the first 200 pass),
    # less sounding 0, one of the three (0, 500, 999) holding the undeclared SIF_735 fill
    sif735 = read_troposif(l2_file, "sif735")
    assert passed_qc(sif735).sizes["obs"] == 199
    np.testing.assert_array_equal(sif735["qa_value"].values[:3], qa[::-1][1:4])
    relaxed = read_troposif(l2_file, screening=TroposifScreening(min_qa=0.0))
    assert passed_qc(relaxed).sizes["obs"] == N


def test_cloud_cut_is_optional(sif743, l2b_file, soundings):
    strict = read_troposif(l2b_file, screening=TroposifScreening(max_cloud_fraction=0.2))
    cloudy = as_float32(soundings["cloud_fraction_L2"]) > 0.2
    assert strict.sizes["obs"] == N  # screening flags, never drops
    assert passed_qc(strict).sizes["obs"] == N - cloudy.sum()
    bit = 1 << QC_MEANINGS.index("CLOUD_FRACTION")
    np.testing.assert_array_equal((strict["qc"].values & bit) != 0, cloudy)
    assert json.loads(strict.attrs["qc_thresholds"])["max_cloud_fraction"] == 0.2
    off = TroposifScreening(max_cloud_fraction=None, max_solar_zenith_deg=10.0)
    low_sun = read_troposif(l2b_file, screening=off)
    assert passed_qc(low_sun).sizes["obs"] == 0


def test_delta_time_without_epoch_is_added_to_the_reference_time(tmp_path, soundings):
    path = write_troposif_l2b(tmp_path / "bare.nc", soundings, DAY)
    with netCDF4.Dataset(path, "a") as nc:
        nc["PRODUCT/delta_time"].units = "milliseconds"
    np.testing.assert_array_equal(read_troposif(path)["time"].values, soundings["time"])
    with netCDF4.Dataset(path, "a") as nc:
        nc["PRODUCT"].renameVariable("time", "reference_time")
    with pytest.raises(TccasInputError, match=r"units without an epoch.*PRODUCT/time"):
        read_troposif(path)


def test_inspect_reports_level_settings_and_counts(l2_file):
    summary = inspect_troposif(l2_file)
    assert summary["product_level"] == "L2"
    assert summary["orbit"] == 29321
    assert summary["n_soundings"] == N
    assert summary["algorithm_settings"]["SZA threshold"] == 70.0
    assert summary["sif743"]["n_valid"] == N and summary["sif735"]["n_valid"] == N - 3
    assert summary["sif743"]["n_passed_qc"] == 200
    assert summary["sif743"]["time_min"].startswith("2023-07-01T00:")
    assert summary["time_coverage_end"].startswith("2023-07-02T00:0")


@pytest.mark.parametrize("product", sorted(S5P_FILES))
def test_real_s5p_file_of_another_product_is_rejected(fixture_file, product):
    path = fixture_file(S5P_FILES[product])
    with pytest.raises(TccasInputError) as error:
        read_troposif(path)
    message = str(error.value)
    assert str(path) in message and "not a TROPOSIF SIF file" in message
    assert f"L2__{product}___" in message  # the file's own ProductShortName
    assert "/PRODUCT/SIF_743" in message and "latitude_bounds" in message
    with pytest.raises(TccasInputError):
        inspect_troposif(path)


@pytest.mark.parametrize("cut", ["empty", "truncated"])
def test_damaged_file_is_a_user_error_naming_it(l2b_file, tmp_path, cut):
    data = l2b_file.read_bytes()
    damaged = tmp_path / f"{cut}.nc"
    damaged.write_bytes(b"" if cut == "empty" else data[: len(data) // 2])
    with pytest.raises(TccasInputError, match=re.escape(str(damaged))):
        read_troposif(damaged)


def test_missing_variable_is_named(tmp_path, soundings):
    path = write_troposif_l2b(tmp_path / "no_error.nc", soundings, DAY)
    with netCDF4.Dataset(path, "a") as nc:
        nc["PRODUCT"].renameVariable("SIF_ERROR_743", "SIF_ERR")
    with pytest.raises(TccasInputError, match=r"missing /PRODUCT/SIF_ERROR_743$"):
        read_troposif(path)
    assert read_troposif(path, "sif735").sizes["obs"] == N - 3


def add_qa_743(path, dims):
    """Turn an L2B file into a (broken) per-orbit L2 that has QA_value_743 only (netCDF-C
    cannot rename a variable in these sub-groups, so variables are added, not renamed)."""
    with netCDF4.Dataset(path, "a") as nc:
        qa = nc["PRODUCT/SUPPORT_DATA/DETAILED_RESULTS"].createVariable("QA_value_743", "f4",
                                                                          dims)
        qa[:] = 0.9


def test_l2_without_the_streams_qa_value_is_rejected(tmp_path, soundings):
    path = write_troposif_l2b(tmp_path / "orbit.nc", soundings, DAY)
    add_qa_743(path, ("n_elem",))
    assert passed_qc(read_troposif(path)).sizes["obs"] == N
    with pytest.raises(TccasInputError, match="lacks /PRODUCT/SUPPORT_DATA/DETAILED_RESULTS/"
                                              "QA_value_735"):
        read_troposif(path, "sif735")


def test_quality_values_on_a_percent_scale_are_rejected(tmp_path, soundings):
    percent = {**with_qa(soundings), "QA_value_743": np.linspace(0.0, 100.0, N)}
    path = write_troposif_l2(tmp_path / "percent.nc", percent, DAY, orbit=1)
    with pytest.raises(TccasInputError, match=r"QA_value_743' holds .*in \[0, 1\]"):
        read_troposif(path)


def test_unreadable_time_units_are_named(tmp_path, soundings):
    path = write_troposif_l2b(tmp_path / "units.nc", soundings, DAY)
    with netCDF4.Dataset(path, "a") as nc:
        nc["PRODUCT/delta_time"].units = "fortnights since 2023-07-01"
    with pytest.raises(TccasInputError, match=r"'/PRODUCT/delta_time' has time units"):
        read_troposif(path)


def test_wrong_variable_shape_is_named(tmp_path, soundings):
    path = write_troposif_l2b(tmp_path / "shape.nc", soundings, DAY)
    add_qa_743(path, ("n_elem", "ncorner"))
    with pytest.raises(TccasInputError, match=r"QA_value_743' has shape \(1000, 4\), "
                                              r"expected \(1000,\)"):
        read_troposif(path)


def test_unknown_stream_and_bad_writer_input_are_user_errors(l2b_file, tmp_path, soundings):
    with pytest.raises(TccasInputError, match="'sif757'"):
        read_troposif(l2b_file, "sif757")
    with pytest.raises(TccasInputError, match="soundings lack QA_value_743, QA_value_735"):
        write_troposif_l2(tmp_path / "x.nc", soundings, DAY, orbit=1)
    with pytest.raises(TccasInputError, match=r"'TOA_RFL' has shape \(1000, 6\)"):
        write_troposif_l2b(tmp_path / "y.nc", {**soundings, "TOA_RFL": np.zeros((N, 6))}, DAY)
    with pytest.raises(TccasInputError, match="'time' must hold one datetime64"):
        write_troposif_l2b(tmp_path / "z.nc", {**soundings, "time": np.zeros(N)}, DAY)


def break_table(table: xr.Dataset, how: str) -> xr.Dataset:
    broken = table.copy(deep=True)
    if how == "missing sigma":
        return broken.drop_vars("sigma")
    if how == "no stream":
        del broken.attrs["stream"]
        return broken
    values = {"value": np.nan, "sigma": 0.0, "longitude": 181.0, "latitude": -91.0}
    if how in values:
        broken[how].values[7] = values[how]
    elif how == "wrapped corner":  # a corner written in [-180, 180) around a 179.99 centre
        broken["longitude"].values[7] = 179.99
        broken["corner_longitude"].values[7] = [179.96, -179.98, -179.98, 179.96]
    elif how == "time dtype":
        broken["time"] = broken["time"].astype("datetime64[s]")
    return broken


@pytest.mark.parametrize(("how", "variable"), [
    ("missing sigma", "observation table lacks variable 'sigma'"),
    ("no stream", "observation table lacks attribute 'stream'"),
    ("value", "variable 'value' is not finite at obs 7"),
    ("sigma", "variable 'sigma' is not positive at obs 7"),
    ("longitude", "variable 'longitude' is outside"),
    ("latitude", "variable 'latitude' is outside"),
    ("wrapped corner", "variable 'corner_longitude' is more than 180 degree"),
    ("time dtype", "variable 'time' has dtype"),
])
def test_validation_names_the_source_and_the_variable(sif743, how, variable):
    with pytest.raises(TccasInputError, match=re.escape(f"granule.nc: {variable}")):
        validate_observations(break_table(sif743, how), "granule.nc")
