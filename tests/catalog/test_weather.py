"""Built-in weather generator: layout, reproducibility, climate, solar geometry, radiation."""

from __future__ import annotations

import time

import numpy as np
import pytest
import xarray as xr

from tccas.catalog.era5 import era5_to_forcing
from tccas.catalog.sites import SITES, Site
from tccas.catalog.weather import (
    STEFAN_BOLTZMANN,
    clear_sky_shortwave,
    cloudy_shortwave,
    cos_solar_zenith,
    generate_era5_weather,
    hourly_mean_cos_zenith,
    longwave_down,
    site_forcing,
)
from tccas.model.errors import TccasInputError

SEVEN_YEARS = ("2015-01-01", "2021-12-31")
# site -> (annual mean T, January T, July T [degC], 30-year annual precipitation [mm])
CLIMATE_TARGETS = {
    "majadas": (16.0, 8.0, 26.0, (510.0, 690.0)),
    "sodankyla": (-0.5, -13.0, 14.5, (450.0, 610.0)),
    "reusel": (10.5, 3.0, 18.0, (680.0, 920.0)),
}


@pytest.fixture(scope="module")
def seven_years():
    """Seven years of generated forcing per built-in site (seed 0)."""
    return {name: site_forcing(name, *SEVEN_YEARS, seed=0) for name in SITES}


def _months(forcing):
    return forcing.times.astype("datetime64[M]").astype(np.int64) % 12


def test_layout_is_new_cds_era5():
    ds = generate_era5_weather("reusel", "2018-03-01", "2018-03-03", seed=2)
    site = SITES["reusel"]
    assert ds.sizes == {"valid_time": 3 * 24 + 1}
    assert ds["valid_time"].values[0] == np.datetime64("2018-03-01T00:00", "ns")
    assert ds["valid_time"].values[-1] == np.datetime64("2018-03-04T00:00", "ns")
    assert np.all(np.diff(ds["valid_time"].values) == np.timedelta64(1, "h"))
    assert float(ds["latitude"]) == site.latitude
    assert float(ds["longitude"]) == site.longitude
    assert ds["latitude"].ndim == 0 and ds["number"].ndim == 0
    assert ds["expver"].dims == ("valid_time",)
    units = {name: ds[name].attrs["units"] for name in ds.data_vars}
    assert units == {
        "t2m": "K", "d2m": "K", "sp": "Pa", "u10": "m s**-1", "v10": "m s**-1",
        "ssrd": "J m**-2", "strd": "J m**-2", "tp": "m",
    }
    assert all(ds[name].dtype == np.float32 for name in ds.data_vars)
    assert all("long_name" in ds[name].attrs for name in ds.data_vars)
    assert bool((ds["d2m"] <= ds["t2m"]).all())


def test_same_seed_identical_other_seed_different():
    first = generate_era5_weather("majadas", "2016-01-01", "2016-01-31", seed=7)
    again = generate_era5_weather(SITES["majadas"], "2016-01-01", "2016-01-31", seed=7)
    other = generate_era5_weather("majadas", "2016-01-01", "2016-01-31", seed=8)
    xr.testing.assert_identical(first, again)
    assert np.abs(first["t2m"].values - other["t2m"].values).max() > 1.0


def test_sites_draw_from_different_streams():
    # With one shared stream the turbulent wind components of two sites would be
    # almost perfectly correlated; with separate streams they are unrelated.
    a = generate_era5_weather("majadas", "2016-01-01", "2016-12-31", seed=0)
    b = generate_era5_weather("reusel", "2016-01-01", "2016-12-31", seed=0)
    correlation = np.corrcoef(a["v10"].values, b["v10"].values)[0, 1]
    assert abs(correlation) < 0.2


def test_seven_years_well_under_two_seconds():
    began = time.perf_counter()
    forcing = site_forcing("sodankyla", *SEVEN_YEARS, seed=3)
    elapsed = time.perf_counter() - began
    assert forcing.n_hour == 61368
    assert elapsed < 2.0


@pytest.mark.parametrize("name", sorted(CLIMATE_TARGETS))
def test_thirty_year_climate(name):
    # A 30-year normal: 7-year means of Mediterranean rain still vary by about 10 %.
    forcing = site_forcing(name, "1991-01-01", "2020-12-31", seed=0)
    annual, january, july, (p_low, p_high) = CLIMATE_TARGETS[name]
    celsius = forcing.air_temperature[0] - 273.15
    months = _months(forcing)
    assert celsius.mean() == pytest.approx(annual, abs=1.0)
    assert celsius[months == 0].mean() == pytest.approx(january, abs=1.5)
    assert celsius[months == 6].mean() == pytest.approx(july, abs=1.5)
    precipitation_mm = forcing.precipitation[0] * 3600.0
    assert p_low < precipitation_mm.sum() / 30.0 < p_high


def test_seven_year_climate_within_interannual_spread(seven_years):
    for name, (annual, _, _, (p_low, p_high)) in CLIMATE_TARGETS.items():
        forcing = seven_years[name]
        assert forcing.air_temperature[0].mean() - 273.15 == pytest.approx(annual, abs=1.5)
        precipitation_mm = forcing.precipitation[0].sum() * 3600.0 / 7.0
        assert 0.8 * p_low < precipitation_mm < 1.2 * p_high


def test_majadas_dry_summer_and_rain_events(seven_years):
    forcing = seven_years["majadas"]
    months = _months(forcing)
    rain = forcing.precipitation[0]
    summer = np.isin(months, [5, 6, 7])
    wet_season = np.isin(months, [9, 10, 11, 0, 1, 2, 3, 4])
    assert rain[summer].sum() / rain.sum() < 0.10
    assert rain[wet_season].sum() / rain.sum() > 0.85
    wet = (rain > 0).astype(np.int8)
    edges = np.diff(np.concatenate(([0], wet, [0])))
    durations = np.flatnonzero(edges == -1) - np.flatnonzero(edges == 1)
    assert 0.01 < wet.mean() < 0.10
    assert 1.5 < durations.mean() < 12.0


def test_majadas_summer_afternoon_vpd(seven_years):
    forcing = seven_years["majadas"]
    months = _months(forcing)
    hours = (forcing.times - forcing.times.astype("datetime64[D]")).astype(np.int64)
    # 13-16 UTC is about 12:40-15:40 local solar time at 5.8 W.
    afternoon = np.isin(months, [5, 6, 7]) & (hours >= 13) & (hours <= 15)
    vpd = forcing.vapour_pressure_deficit[0]
    assert 3000.0 < vpd[afternoon].mean() < 5000.0
    assert vpd[afternoon].mean() > 3.0 * vpd[np.isin(months, [11, 0, 1])].mean()


def test_sodankyla_snow_season(seven_years):
    forcing = seven_years["sodankyla"]
    months = _months(forcing)
    frozen = forcing.air_temperature[0] < 273.15
    rain = forcing.precipitation[0]
    assert frozen[np.isin(months, [11, 0, 1])].mean() > 0.85
    assert frozen[months == 6].mean() < 0.001
    winter = np.isin(months, [10, 11, 0, 1, 2])
    assert rain[winter & frozen].sum() / rain[winter].sum() > 0.8
    assert frozen[np.isin(months, [9, 4])].mean() > 0.2


def test_shortwave_zero_at_night_positive_by_day(seven_years):
    forcing = seven_years["majadas"]
    site = SITES["majadas"]
    hour_end = forcing.times + np.timedelta64(1, "h")
    mean_cos, _ = hourly_mean_cos_zenith(site.latitude, site.longitude, hour_end)
    shortwave = forcing.shortwave_down[0]
    assert np.all(shortwave[mean_cos == 0.0] == 0.0)
    assert np.all(shortwave[mean_cos > 0.01] > 0.0)
    assert 0.4 < (mean_cos == 0.0).mean() < 0.6
    assert 850.0 < shortwave.max() < 1100.0


def test_sodankyla_polar_night_and_midnight_sun():
    december = site_forcing("sodankyla", "2019-12-10", "2019-12-20", seed=1)
    assert np.all(december.shortwave_down == 0.0)
    june = site_forcing("sodankyla", "2019-06-18", "2019-06-26", seed=1)
    # Solar midnight at 26.64 E is at about 22:13 UTC: the hour 22-23 UTC of every day.
    midnight = june.shortwave_down[0].reshape(-1, 24)[:, 22]
    assert np.all(midnight > 0.0)
    assert np.all(june.shortwave_down[0] > 0.0)


@pytest.mark.parametrize("latitude", [39.94, 51.36, 67.36, -33.0])
def test_hourly_mean_cos_zenith_is_the_exact_average(latitude):
    rng = np.random.default_rng(5)
    hour_end = np.datetime64("2019-01-01T00", "s") + rng.integers(0, 365 * 24, 60).astype(
        "timedelta64[h]"
    )
    longitude = 26.64
    mean_cos, sunlit = hourly_mean_cos_zenith(latitude, longitude, hour_end)
    # Midpoint rule over 3600 one-second steps, each with its own solar position.
    offsets = (np.arange(3600) * 1000 + 500 - 3_600_000).astype("timedelta64[ms]")
    instants = hour_end.astype("datetime64[ms]")[:, None] + offsets[None, :]
    cos_zenith = cos_solar_zenith(latitude, longitude, instants)
    np.testing.assert_allclose(mean_cos, np.maximum(cos_zenith, 0.0).mean(1), atol=2e-4)
    np.testing.assert_allclose(sunlit, (cos_zenith > 0.0).mean(1), atol=2e-3)
    assert (mean_cos > 0).any() and (mean_cos == 0).any()


def test_clear_sky_and_cloud_attenuation():
    clear = clear_sky_shortwave(np.array([1.0, 0.5, 0.0]), np.array([1.0, 1.0, 0.0]),
                                np.array([1.0, 1.0, 1.0]), 0.0)
    # 1.1 S0 0.7^(AM^0.678): at the zenith AM = 1 (Kasten-Young 0.99973).
    assert clear[0] == pytest.approx(1.1 * 1361.0 * 0.7, rel=2e-4)
    assert clear[1] < 0.5 * clear[0]
    assert clear[2] == 0.0
    cloudy = cloudy_shortwave(np.array([800.0, 800.0, 800.0]), np.array([0.0, 1.0, 0.5]))
    np.testing.assert_allclose(cloudy, [800.0, 200.0, 800.0 * (1 - 0.75 * 0.5**3.4)])


def test_longwave_brutsaert_and_cloud_correction():
    temperature = np.array([288.15, 288.15])
    vapour_pressure = np.array([1705.6, 1705.6])  # [Pa] e_s at 15 degC
    clear, overcast = longwave_down(temperature, vapour_pressure, np.array([0.0, 1.0]))
    expected_clear = 1.24 * (17.056 / 288.15) ** (1 / 7) * STEFAN_BOLTZMANN * 288.15**4
    assert clear == pytest.approx(expected_clear, rel=1e-12)
    assert clear == pytest.approx(323.7, abs=0.2)
    assert overcast == pytest.approx(STEFAN_BOLTZMANN * 288.15**4, rel=1e-12)


def test_clouds_cut_shortwave_and_raise_longwave(seven_years):
    forcing = seven_years["reusel"]
    site = SITES["reusel"]
    hour_end = forcing.times + np.timedelta64(1, "h")
    mean_cos, sunlit = hourly_mean_cos_zenith(site.latitude, site.longitude, hour_end)
    clear = clear_sky_shortwave(mean_cos, sunlit, np.ones_like(mean_cos), site.elevation)
    day = mean_cos > 0.3
    transmission = forcing.shortwave_down[0][day] / clear[day]
    emissivity = forcing.longwave_down[0][day] / (
        STEFAN_BOLTZMANN * forcing.air_temperature[0][day] ** 4
    )
    assert np.corrcoef(transmission, emissivity)[0, 1] < -0.5


def test_bad_site_and_seed_raise():
    nowhere = Site(name="nowhere", latitude=0.0, longitude=0.0, elevation=0.0, pfts=(),
                   soil="sand", utc_offset=0.0, fluxnet_id="XX-Now")
    with pytest.raises(TccasInputError, match="nowhere"):
        generate_era5_weather(nowhere, "2019-01-01", "2019-01-02")
    with pytest.raises(TccasInputError, match="unknown site 'atlantis'"):
        generate_era5_weather("atlantis", "2019-01-01", "2019-01-02")
    with pytest.raises(TccasInputError, match="seed"):
        generate_era5_weather("reusel", "2019-01-01", "2019-01-02", seed=-1)
    with pytest.raises(TccasInputError, match="before start"):
        generate_era5_weather("reusel", "2019-01-02", "2019-01-01")


def test_site_forcing_is_generated_data_through_the_era5_reader():
    ds = generate_era5_weather("sodankyla", "2020-02-27", "2020-03-01", seed=4)
    forcing = site_forcing("sodankyla", "2020-02-27", "2020-03-01", seed=4)
    converted = era5_to_forcing(ds, "test")
    assert forcing.n_hour == 4 * 24
    assert forcing.start == np.datetime64("2020-02-27T00", "h")
    for name, values in forcing.arrays().items():
        np.testing.assert_array_equal(values, getattr(converted, name))
