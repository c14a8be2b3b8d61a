"""ERA5/ERA5-Land reading, normalisation, unit conversion and the CO2 table."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import xarray as xr

from tccas.catalog.co2 import NOAA_GLOBAL_ANNUAL_MEAN_PPM, co2_mole_fraction, co2_ppm
from tccas.catalog.era5 import (
    STANDARD_GRAVITY,
    dewpoint_to_vpd,
    era5_geopotential_to_elevation,
    era5_precipitation_to_rate,
    era5_radiation_to_flux,
    era5_to_forcing,
    era5land_deaccumulate,
    normalise_era5,
    open_era5,
    open_era5_geopotential,
    saturation_vapour_pressure,
    utc_day_hours,
    wind_speed,
)
from tccas.catalog.weather import generate_era5_weather
from tccas.model.errors import TccasInputError

LEGACY_YEAR = "era5/era5_testfile.nc"
LEGACY_GRID = "era5/era5_2t_1.nc"


@pytest.fixture(scope="module")
def generated():
    """Four days of generated Majadas weather in the new CDS layout."""
    return generate_era5_weather("majadas", "2019-06-29", "2019-07-02", seed=11)


def test_saturation_vapour_pressure_water_and_ice():
    values = saturation_vapour_pressure(np.array([20.0, 0.0, -10.0]))
    np.testing.assert_allclose(values, [2338.0230, 610.78, 259.7378], rtol=1e-7)
    # Continuous at 0 degC: both branches give e0 there.
    below, above = saturation_vapour_pressure(np.array([-1e-9, 1e-9]))
    assert below == pytest.approx(above, rel=1e-8)


def test_dewpoint_to_vpd_and_wind_speed():
    vpd = dewpoint_to_vpd(np.array([303.15, 280.0, 270.0]), np.array([283.15, 280.0, 271.0]))
    expected = saturation_vapour_pressure(30.0) - saturation_vapour_pressure(10.0)
    np.testing.assert_allclose(vpd, [expected, 0.0, 0.0], rtol=1e-12)
    np.testing.assert_array_equal(wind_speed(np.array([3.0, -6.0]), np.array([4.0, 8.0])),
                                  [5.0, 10.0])


def test_accumulation_conversions():
    np.testing.assert_array_equal(era5_radiation_to_flux(np.array([3.6e6, 0.0])), [1000.0, 0.0])
    # 1 mm in one hour = 1 kg m-2 per 3600 s.
    assert era5_precipitation_to_rate(np.array([0.001]))[0] == pytest.approx(1.0 / 3600.0)


def _era5land_running_sums(hourly: np.ndarray, first_valid: np.datetime64) -> np.ndarray:
    """Build ERA5-Land accumulations from amounts over the hours ending at each valid time."""
    times = first_valid + np.arange(hourly.size).astype("timedelta64[h]")
    accumulated = np.empty_like(hourly)
    running = 0.0
    for k, time in enumerate(times):
        hour = int((time - time.astype("datetime64[D]")) / np.timedelta64(1, "h"))
        if hour == 1:
            running = 0.0
        running += hourly[k]
        accumulated[k] = running  # at 00 UTC: the full previous day (01..24 h)
    return accumulated


def test_era5land_deaccumulation_exact_on_constructed_example():
    # Integer amounts make every sum and difference exact in floating point.
    rng = np.random.default_rng(1)
    hourly = rng.integers(0, 50_000, 75).astype(np.float64)
    first_valid = np.datetime64("2021-03-01T00", "h")
    accumulated = _era5land_running_sums(hourly, first_valid)
    times = first_valid + np.arange(75).astype("timedelta64[h]")
    # Spot-check the construction: 01 UTC holds one hour, 00 UTC the previous day.
    assert accumulated[1] == hourly[1]
    assert accumulated[24] == hourly[1:25].sum()
    result = era5land_deaccumulate(accumulated, times)
    assert np.isnan(result[0])  # 00 UTC with no 23 UTC before it
    np.testing.assert_array_equal(result[1:], hourly[1:])
    # Two cells along axis 1, and a series starting at 01 UTC keeps its first value.
    both = era5land_deaccumulate(np.stack([accumulated, 2 * accumulated], 1)[1:], times[1:])
    np.testing.assert_array_equal(both[:, 0], hourly[1:])
    np.testing.assert_array_equal(both[:, 1], 2 * hourly[1:])
    # After a missing hour the difference is unknown, except at 01 UTC.
    gappy = np.delete(np.arange(75), [30, 48])
    result = era5land_deaccumulate(accumulated[gappy], times[gappy])
    gap_after = np.flatnonzero(np.isin(gappy, [31, 49]))
    assert np.isnan(result[gap_after[0]])  # 07 UTC after a gap
    assert result[gap_after[1]] == hourly[49]  # 01 UTC restarts the sum


def test_normalise_era5_land_dataset_deaccumulates_accumulated_variables_only():
    times = np.datetime64("2021-03-01T00", "h") + np.arange(49).astype("timedelta64[h]")
    hourly = np.arange(49, dtype=np.float64) * 1000.0
    accumulated = _era5land_running_sums(hourly, times[0])
    ds = xr.Dataset(
        {
            "ssrd": ("valid_time", accumulated, {"units": "J m**-2"}),
            "t2m": ("valid_time", accumulated, {"units": "K"}),
        },
        coords={"valid_time": times.astype("datetime64[ns]")},
    )
    land = normalise_era5(ds, product="era5-land")
    np.testing.assert_array_equal(land["ssrd"].values[1:], hourly[1:])
    np.testing.assert_array_equal(land["t2m"].values, accumulated)
    assert land.attrs["era5_product"] == "era5-land"
    np.testing.assert_array_equal(normalise_era5(ds)["ssrd"].values, accumulated)


def test_era5_land_running_sums_give_the_era5_forcing(generated):
    land = generated.copy()
    for name in ("ssrd", "strd", "tp"):
        hourly = generated[name].values.astype(np.float64)
        running = _era5land_running_sums(hourly, generated["valid_time"].values[0])
        land[name] = generated[name].copy(data=running)
    forcing = era5_to_forcing(normalise_era5(land, product="era5-land"), "land")
    reference = era5_to_forcing(generated, "era5")
    for name, values in reference.arrays().items():
        np.testing.assert_allclose(getattr(forcing, name), values, rtol=1e-9, atol=1e-12)


def test_legacy_packed_year_reads(fixture_file):
    ds = open_era5(fixture_file(LEGACY_YEAR))
    times = ds["valid_time"].values
    assert times.size == 8784
    assert times[0] == np.datetime64("2020-01-01T00", "ns")
    assert times[-1] == np.datetime64("2020-12-31T23", "ns")
    assert np.all(np.diff(times) == np.timedelta64(1, "h"))
    t2m = ds["t2m"].values
    assert 269.4 < t2m.min() < 269.6 and 302.2 < t2m.max() < 302.4
    assert "time" not in ds.variables and ds.attrs["era5_product"] == "era5"


def test_legacy_year_without_d2m_names_file_and_variable(fixture_file):
    ds = open_era5(fixture_file(LEGACY_YEAR))
    with pytest.raises(TccasInputError, match=r"era5_testfile\.nc.*'d2m'"):
        era5_to_forcing(ds, "era5_testfile.nc")


def test_legacy_year_with_mean_rate_shortwave_to_forcing(fixture_file):
    ds = open_era5(fixture_file(LEGACY_YEAR))
    ds["d2m"] = (ds["t2m"] - 3.0).assign_attrs(units="K")
    ds["msdwlwrf"] = xr.full_like(ds["t2m"], 300.0).assign_attrs(units="W m**-2")
    ds["mtpr"] = xr.full_like(ds["t2m"], 1.0e-5).assign_attrs(units="kg m**-2 s**-1")
    forcing = era5_to_forcing(ds, "era5_testfile.nc")
    assert forcing.n_met == 1 and forcing.n_hour == 8783
    assert forcing.start == np.datetime64("2020-01-01T00", "h")
    t2m = ds["t2m"].values[:, 0, 0]
    np.testing.assert_array_equal(forcing.air_temperature[0], 0.5 * (t2m[:-1] + t2m[1:]))
    # The mean rate valid at t + 1h is the mean over the model hour starting at t.
    shortwave = ds["msdwswrf"].values[1:, 0, 0]
    np.testing.assert_array_equal(forcing.shortwave_down[0], np.maximum(shortwave, 0.0))
    speed = np.hypot(ds["u10"].values[:, 0, 0], ds["v10"].values[:, 0, 0])
    np.testing.assert_allclose(forcing.wind_speed[0], 0.5 * (speed[:-1] + speed[1:]))
    assert forcing.co2[0, 0] == pytest.approx(412.44e-6, abs=1.5e-6)


def test_legacy_grid_is_normalised(fixture_file):
    path = fixture_file(LEGACY_GRID)
    raw = xr.open_dataset(path)
    ds = open_era5(path)
    np.testing.assert_array_equal(ds["latitude"].values, np.arange(-80.0, 81.0, 20.0))
    np.testing.assert_array_equal(ds["longitude"].values, np.arange(-180.0, 180.0, 20.0))
    assert ds["t2m"].sel(latitude=40.0, longitude=-20.0).item() == raw["t2m"].sel(
        latitude=40.0, longitude=340.0
    ).item()
    assert ds.sizes["valid_time"] == 1


def test_generated_round_trip_units_exact(generated):
    forcing = era5_to_forcing(generated, "generated")
    assert forcing.n_hour == 4 * 24
    assert forcing.start == np.datetime64("2019-06-29T00", "h")
    ssrd = generated["ssrd"].values.astype(np.float64)
    strd = generated["strd"].values.astype(np.float64)
    tp = generated["tp"].values.astype(np.float64)
    np.testing.assert_array_equal(forcing.shortwave_down[0], ssrd[1:] / 3600.0)
    np.testing.assert_array_equal(forcing.longwave_down[0], strd[1:] / 3600.0)
    np.testing.assert_array_equal(forcing.precipitation[0], tp[1:] * 1000.0 / 3600.0)
    t2m = generated["t2m"].values.astype(np.float64)
    d2m = generated["d2m"].values.astype(np.float64)
    np.testing.assert_array_equal(forcing.air_temperature[0], 0.5 * (t2m[:-1] + t2m[1:]))
    vpd = dewpoint_to_vpd(t2m, d2m)
    np.testing.assert_array_equal(forcing.vapour_pressure_deficit[0], 0.5 * (vpd[:-1] + vpd[1:]))
    mid_hour = forcing.times.astype("datetime64[m]") + np.timedelta64(30, "m")
    np.testing.assert_array_equal(forcing.co2[0], co2_mole_fraction(mid_hour))
    np.testing.assert_allclose(forcing.co2, 410.07e-6, atol=0.05e-6)  # mid-2019 value


def test_new_cds_zip_of_instant_and_accum_files(generated, tmp_path):
    instant = generated[["t2m", "d2m", "sp", "u10", "v10"]]
    accum = generated[["ssrd", "strd", "tp"]]
    members = {}
    for kind, part in (("instant", instant), ("accum", accum)):
        name = f"data_stream-oper_stepType-{kind}.nc"
        part.to_netcdf(tmp_path / name, engine="netcdf4")
        members[name] = tmp_path / name
    archive = tmp_path / "era5.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for name, path in members.items():
            zipped.write(path, name)
    ds = open_era5(archive)
    assert "number" not in ds.variables and "expver" not in ds.variables
    assert ds.attrs["source_files"] == "era5.zip"
    for name in generated.data_vars:
        np.testing.assert_array_equal(ds[name].values, generated[name].values)
    separate = open_era5(list(members.values()))
    xr.testing.assert_equal(separate[list(generated.data_vars)], ds[list(generated.data_vars)])
    forcing = era5_to_forcing(ds, "era5.zip")
    np.testing.assert_array_equal(forcing.air_temperature,
                                  era5_to_forcing(generated, "x").air_temperature)


def test_legacy_expver_dimension_takes_the_valid_slice(generated):
    t2m = generated["t2m"].values
    era5 = np.where(np.arange(t2m.size) < 50, t2m, np.nan)
    era5t = np.where(np.arange(t2m.size) >= 50, t2m, np.nan)
    ds = xr.Dataset(
        {"t2m": (("time", "expver"), np.stack([era5, era5t], 1), {"units": "K"})},
        coords={"time": generated["valid_time"].values, "expver": [1, 5]},
    )
    normalised = normalise_era5(ds)
    assert normalised["t2m"].dims == ("valid_time",)
    np.testing.assert_array_equal(normalised["t2m"].values, t2m)


def test_points_pick_the_nearest_cells():
    times = np.datetime64("2020-01-01T00", "ns") + np.arange(3).astype("timedelta64[h]")
    lats, lons = np.array([67.5, 67.25, 40.0]), np.array([354.25, 26.5, 26.75])
    t2m = 250.0 + np.arange(9.0).reshape(1, 3, 3) + np.zeros((3, 1, 1))
    ds = xr.Dataset(
        {
            "t2m": (("time", "latitude", "longitude"), t2m, {"units": "K"}),
            "d2m": (("time", "latitude", "longitude"), t2m - 2, {"units": "K"}),
            "sp": (("time", "latitude", "longitude"), t2m * 0 + 1e5, {"units": "Pa"}),
            "u10": (("time", "latitude", "longitude"), t2m * 0 + 1, {"units": "m s**-1"}),
            "v10": (("time", "latitude", "longitude"), t2m * 0, {"units": "m s**-1"}),
            "ssrd": (("time", "latitude", "longitude"), t2m * 0, {"units": "J m**-2"}),
            "strd": (("time", "latitude", "longitude"), t2m * 0 + 1e6, {"units": "J m**-2"}),
            "tp": (("time", "latitude", "longitude"), t2m * 0, {"units": "m"}),
        },
        coords={"time": times, "latitude": lats, "longitude": lons},
    )
    forcing = era5_to_forcing(ds, "grid", points=[(67.36, 26.64), (39.94, -5.77)])
    assert forcing.n_met == 2 and forcing.n_hour == 2
    # Sorted latitudes (40, 67.25, 67.5) and longitudes (-5.75, 26.5, 26.75).
    assert forcing.air_temperature[0, 0] == 255.0  # raw cell (67.25, 26.75)
    assert forcing.air_temperature[1, 0] == 256.0  # raw cell (40.0, 354.25)
    assert era5_to_forcing(ds, "grid").n_met == 9


def test_bad_inputs_name_source_variable_and_value(generated):
    broken = generated.copy(deep=True)
    broken["t2m"].values[5] = np.nan
    with pytest.raises(TccasInputError, match=r"gen\.nc: variable 't2m' value nan at "
                                              r"valid_time 2019-06-29T05"):
        era5_to_forcing(broken, "gen.nc")
    relabelled = generated.copy()
    relabelled["ssrd"] = relabelled["ssrd"].assign_attrs(units="W m**-2")
    with pytest.raises(TccasInputError, match=r"gen\.nc: variable 'ssrd' has units 'W m\*\*-2'"):
        era5_to_forcing(relabelled, "gen.nc")
    with pytest.raises(TccasInputError, match=r"gen\.nc: missing variable 'sp'"):
        era5_to_forcing(generated.drop_vars("sp"), "gen.nc")
    with pytest.raises(TccasInputError, match=r"gen\.nc: missing variable 'strd'"):
        era5_to_forcing(generated.drop_vars("strd"), "gen.nc")
    with pytest.raises(TccasInputError, match="not hourly"):
        era5_to_forcing(generated.isel(valid_time=[0, 1, 3, 4]), "gen.nc")
    doubled = generated.copy()
    doubled["tp"] = doubled["tp"] + 1.0  # 1 m of rain in an hour
    with pytest.raises(TccasInputError, match=r"gen\.nc: variable 'precipitation'"):
        era5_to_forcing(doubled, "gen.nc")


def test_open_era5_bad_files(tmp_path):
    with pytest.raises(TccasInputError, match=r"missing\.nc: file not found"):
        open_era5(tmp_path / "missing.nc")
    text = tmp_path / "notes.nc"
    text.write_text("not a netcdf file")
    with pytest.raises(TccasInputError, match=r"notes\.nc: cannot be read as NetCDF"):
        open_era5(text)


# --------------------------------------------------------------- surface geopotential
#: Geopotential [m2 s-2] on 3 latitudes (north first, as ERA5 writes them) x 4 longitudes
#: east of 354 E (0..360 as the legacy files): multiples of 0.5, exact in binary.
GEOPOTENTIAL = 1000.0 + 0.5 * np.arange(12.0).reshape(3, 4) * 997.0
LATITUDES = np.array([40.25, 40.0, 39.75])
LONGITUDES = np.array([353.75, 354.0, 354.25, 354.5])


def _geopotential_file(path, layout: str, values: np.ndarray = GEOPOTENTIAL,
                       units: str = "m**2 s**-2", n_time: int = 1):
    """A surface geopotential file in the new CDS layout (valid_time, number, expver,
    float32 values would round: float64 here) or the legacy one (time, int16 packed)."""
    time = "valid_time" if layout == "new" else "time"
    times = np.datetime64("2015-01-01T00", "ns") + np.arange(n_time).astype("timedelta64[h]")
    field = np.broadcast_to(values, (n_time, *values.shape))
    ds = xr.Dataset({"z": ((time, "latitude", "longitude"), field,
                           {"units": units, "long_name": "Geopotential"})},
                    coords={time: times, "latitude": LATITUDES, "longitude": LONGITUDES})
    encoding = {}
    if layout == "new":
        ds = ds.assign_coords(number=0, expver=(time, np.full(n_time, "0001")))
    else:
        encoding = {"z": {"dtype": "int16", "scale_factor": 0.5, "add_offset": 1000.0,
                          "_FillValue": np.int16(-32767)}}
    ds.to_netcdf(path, format="NETCDF4" if layout == "new" else "NETCDF3_64BIT",
                 encoding=encoding)
    return path


@pytest.mark.parametrize("layout", ["new", "legacy"])
def test_geopotential_is_read_as_elevation_exactly(layout, tmp_path):
    path = _geopotential_file(tmp_path / f"era5_geopotential_{layout}.nc", layout,
                              n_time=1 if layout == "new" else 2)
    elevation = open_era5_geopotential(path)
    assert elevation.dims == ("latitude", "longitude")
    np.testing.assert_array_equal(elevation["latitude"].values, LATITUDES[::-1])
    np.testing.assert_array_equal(elevation["longitude"].values, LONGITUDES - 360.0)
    # z / 9.80665 exactly, latitude now ascending.
    np.testing.assert_array_equal(elevation.values, GEOPOTENTIAL[::-1] / 9.80665)
    assert elevation.values[-1, 0] == pytest.approx(101.97 * 1.0, abs=0.01)  # 1000 / g0
    assert elevation.attrs["units"] == "m" and elevation.attrs["source"] == path.name
    assert STANDARD_GRAVITY == 9.80665
    np.testing.assert_array_equal(era5_geopotential_to_elevation(np.array([9.80665, 0.0])),
                                  [1.0, 0.0])


def test_bad_geopotential_files_name_file_variable_and_value(tmp_path):
    with pytest.raises(TccasInputError, match=r"units\.nc: variable 'z' has units 'm'; "
                                              r"expected 'm\*\*2 s\*\*-2'"):
        open_era5_geopotential(_geopotential_file(tmp_path / "units.nc", "new", units="m"))
    holes = GEOPOTENTIAL.copy()
    holes[1, 2] = np.nan
    with pytest.raises(TccasInputError, match=r"holes\.nc: variable 'z' value nan at "
                                              r"latitude 40\.0, longitude -5\.75 is not finite"):
        open_era5_geopotential(_geopotential_file(tmp_path / "holes.nc", "new", holes))
    deep = GEOPOTENTIAL.copy()
    deep[0, 0] = -9806.65  # 1000 m below the geoid
    with pytest.raises(TccasInputError, match=r"deep\.nc: variable 'z' value -9806\.65 m2 "
                                              r"s-2 is an elevation of -1000 m, outside"):
        open_era5_geopotential(_geopotential_file(tmp_path / "deep.nc", "new", deep))
    generate_era5_weather("majadas", "2019-06-29", "2019-06-29")[["t2m"]].to_netcdf(
        tmp_path / "t2m.nc")
    with pytest.raises(TccasInputError, match=r"t2m\.nc: no variable 'z' \(surface "
                                              r"geopotential\); variables are t2m"):
        open_era5_geopotential(tmp_path / "t2m.nc")
    moving = tmp_path / "moving.nc"
    _geopotential_file(moving, "new", n_time=2)
    with xr.open_dataset(moving) as opened:
        ds = opened.load()
    ds["z"].values[1] += 10.0
    ds.to_netcdf(tmp_path / "moving2.nc")
    with pytest.raises(TccasInputError, match=r"moving2\.nc: variable 'z' changes by 10 "
                                              r"m2 s-2 between its valid times"):
        open_era5_geopotential(tmp_path / "moving2.nc")
    (tmp_path / "broken.nc").write_bytes(b"CDF\x01 truncated")
    with pytest.raises(TccasInputError, match=r"broken\.nc: cannot be read as NetCDF"):
        open_era5_geopotential(tmp_path / "broken.nc")


def test_utc_day_hours():
    hours = utc_day_hours("2015-01-01", "2021-12-31")
    assert hours.size == 61368
    assert hours[-1] == np.datetime64("2021-12-31T23", "h")


def test_co2_table_interpolation_and_extrapolation():
    mid_2015 = np.array(["2015-07-02T12:00"], dtype="datetime64[m]")
    assert co2_mole_fraction(mid_2015)[0] == pytest.approx(399.65e-6, abs=0.01e-6)
    assert co2_ppm(2021.5) == pytest.approx(414.70)
    # Halfway between the mid-2020 and mid-2021 values at the turn of the year.
    assert co2_ppm(2021.0) == pytest.approx(0.5 * (412.44 + 414.70))
    last = max(NOAA_GLOBAL_ANNUAL_MEAN_PPM)
    late = co2_ppm(np.array([last + 0.5, last + 5.5]))
    assert late[0] == NOAA_GLOBAL_ANNUAL_MEAN_PPM[last]
    assert 2.0 < (late[1] - late[0]) / 5.0 < 3.0  # recent growth, ppm per year
    early = co2_ppm(np.array([1969.5, 1979.5]))
    assert early[1] == NOAA_GLOBAL_ANNUAL_MEAN_PPM[1979]
    assert 1.0 < (early[1] - early[0]) / 10.0 < 2.0
