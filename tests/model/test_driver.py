"""Whole-model runs: conservation over 7 years, physical sense at the sites, spin-up,
layout and errors."""

from functools import cache

import numpy as np
import pytest

from tccas.catalog.weather import site_forcing
from tccas.model.driver import SpinUp, run_forward
from tccas.model.errors import NonFiniteModelError, TccasInputError
from tccas.model.layout import CARBON_STATES, N_STATE, STATE_NAMES, WATER_STATES
from tccas.model.outputs import OUTPUT_INDEX as O
from tccas.model.parameters import PARAMETER_NAMES, prior_table
from tccas.pipeline.simulate import site_simulation

# Annual GPP ranges [gC m-2 yr-1] for the plausibility test. Majadas: eddy covariance at
# ES-LMa/ES-LM1 gives about 800-1200 (El-Madany et al. 2018, Agric. For. Meteorol.
# 262:258, doi:10.1016/j.agrformet.2018.07.010); Sodankyla pine forest about 400-800
# (Thum et al. 2007, Tellus B 59:874, doi:10.1111/j.1600-0889.2007.00305.x); Reusel,
# temperate crops and grass, about 800-1600 (FLUXNET2015 cropland/grassland sites). The
# ranges below are wider (prior parameters, generated weather): they catch unit and sign
# errors, not calibration.
GPP_RANGES = {"majadas": (500.0, 1600.0), "sodankyla": (200.0, 900.0),
              "reusel": (500.0, 2200.0)}


@cache
def seven_years(site: str):
    simulation = site_simulation(site, "2015-01-01", "2021-12-31")
    return simulation, run_forward(simulation.tiles, simulation.parameters,
                                   simulation.forcing, simulation.spinup)


@pytest.mark.slow
@pytest.mark.parametrize("site", ["majadas", "sodankyla"])
def test_water_balance_closes_over_seven_years(site):
    _, result = seven_years(site)
    d = result.daily
    storage_change = (result.final_state[:, list(WATER_STATES)].sum(axis=1)
                      - result.start_state[:, list(WATER_STATES)].sum(axis=1))
    fluxes = (d[:, :, O["precipitation"]] - d[:, :, O["et"]] - d[:, :, O["runoff"]]).sum(axis=1)
    precipitation = d[:, :, O["precipitation"]].sum(axis=1)
    assert np.all(np.abs(storage_change - fluxes) <= 1e-9 * precipitation)


@pytest.mark.slow
@pytest.mark.parametrize("site", ["majadas", "sodankyla"])
def test_carbon_balance_closes_over_seven_years(site):
    _, result = seven_years(site)
    change = (result.final_state[:, list(CARBON_STATES)].sum(axis=1)
              - result.start_state[:, list(CARBON_STATES)].sum(axis=1))
    nee = result.daily[:, :, O["nee"]].sum(axis=1)
    gpp = result.daily[:, :, O["gpp"]].sum(axis=1)
    assert np.all(np.abs(change + nee) <= 1e-9 * gpp)


@pytest.mark.slow
def test_daily_et_is_the_sum_of_its_components():
    _, result = seven_years("majadas")
    d = result.daily
    parts = (d[..., O["transpiration"]] + d[..., O["soil_evaporation"]]
             + d[..., O["interception_evaporation"]] + d[..., O["snow_sublimation"]])
    np.testing.assert_allclose(d[..., O["et"]], parts, rtol=0, atol=1e-12)


@pytest.mark.slow
def test_sodankyla_polar_night_and_snow():
    _, result = seven_years("sodankyla")
    days = result.days
    d = result.daily
    polar_night = (days >= np.datetime64("2016-12-12")) & (days <= np.datetime64("2016-12-31"))
    assert np.all(d[:, polar_night, O["gpp"]] == 0.0)
    assert np.all(d[:, polar_night, O["fapar"]] == 0.0)
    for year in range(2015, 2022):
        march = (days >= np.datetime64(f"{year}-03-01")) & (days <= np.datetime64(
            f"{year}-03-31"))
        assert d[0, march, O["snow_water"]].mean() > 50.0, year
        july = (days >= np.datetime64(f"{year}-07-01")) & (days <= np.datetime64(
            f"{year}-07-31"))
        assert d[0, july, O["snow_water"]].max() < 1e-9
        assert d[0, july, O["gpp"]].mean() > 1.0
    january = days.astype("datetime64[M]").astype(int) % 12 == 0
    # frozen root zone: (almost) no water supply in January, as in D&B output
    assert d[0, january, O["fpasm"]].mean() < 0.05


@pytest.mark.slow
def test_majadas_grass_dries_out_in_summer():
    simulation, result = seven_years("majadas")
    grass = simulation.tiles.pft_names.index("C3Gr")
    days = result.days
    month = days.astype("datetime64[M]").astype(int) % 12 + 1
    d = result.daily[grass]
    for year in range(2016, 2022):
        in_year = days.astype("datetime64[Y]").astype(int) + 1970 == year
        spring = in_year & ((month == 3) | (month == 4))
        summer = in_year & ((month == 7) | (month == 8))
        assert d[summer, O["gpp"]].mean() < 0.3 * d[spring, O["gpp"]].mean(), year
        assert d[summer, O["lai"]].mean() < d[spring, O["lai"]].mean(), year
        assert d[summer, O["sm_surface"]].mean() < 0.08


@pytest.mark.slow
@pytest.mark.parametrize("site", ["majadas", "sodankyla", "reusel"])
def test_annual_gpp_in_plausible_range(site):
    simulation = site_simulation(site, "2015-01-01", "2018-12-31")
    result = run_forward(simulation.tiles, simulation.parameters, simulation.forcing)
    weighted = simulation.tiles.cover_fraction @ result.daily[:, :, O["gpp"]]
    after_spinup = weighted[result.spinup_days:]
    annual = after_spinup.sum() / (after_spinup.size / 365.25)
    low, high = GPP_RANGES[site]
    assert low <= annual <= high


def test_spinup_window_and_carbon_reset():
    simulation = site_simulation("majadas", "2015-01-01", "2016-12-31")
    result = run_forward(simulation.tiles, simulation.parameters, simulation.forcing,
                         SpinUp(years=1, cycles=2))
    assert result.spinup_days == 365
    init = [PARAMETER_NAMES.index(n) for n in ("c_labile_init", "c_foliage_init",
                                               "c_root_init", "c_wood_init",
                                               "c_litter_init", "c_som_init")]
    np.testing.assert_array_equal(result.start_state[:, :6], simulation.parameters[:, init])
    assert result.daily.shape == (2, 731, len(O))
    assert len(STATE_NAMES) == N_STATE


def test_tiles_sharing_a_met_cell_equal_their_single_runs():
    simulation = site_simulation("majadas", "2015-01-01", "2015-03-31")
    together = run_forward(simulation.tiles, simulation.parameters, simulation.forcing,
                           SpinUp(0, 0), threads=2)
    from tccas.model.tiles import make_tiles

    for i, pft in enumerate(simulation.tiles.pft_names):
        alone_tiles = make_tiles([pft], [1.0], 39.9426, -5.7786, "sandy_loam")
        alone = run_forward(alone_tiles, simulation.parameters[i:i + 1], simulation.forcing,
                            SpinUp(0, 0), threads=1)
        np.testing.assert_array_equal(alone.daily[0], together.daily[i])


def test_bad_parameters_are_reported_with_tile_and_day():
    simulation = site_simulation("majadas", "2015-01-01", "2015-01-31")
    parameters = simulation.parameters.copy()
    parameters[1, PARAMETER_NAMES.index("theta_lit")] = 2.0  # rate > 1 d-1: log of < 0
    with pytest.raises(NonFiniteModelError, match=r"tile 1 \(PFT C3Gr, cell 0\) on 2015-01-0"):
        run_forward(simulation.tiles, parameters, simulation.forcing, SpinUp(0, 0))


def test_driver_input_errors():
    simulation = site_simulation("majadas", "2015-01-01", "2015-01-31")
    with pytest.raises(TccasInputError, match="parameters have shape"):
        run_forward(simulation.tiles, simulation.parameters[:1], simulation.forcing)
    partial_day = simulation.forcing.slice_hours(0, 30)
    with pytest.raises(TccasInputError, match="whole days"):
        run_forward(simulation.tiles, simulation.parameters, partial_day)
    bad = simulation.parameters.copy()
    bad[0, 0] = np.nan
    with pytest.raises(TccasInputError, match="non-finite"):
        run_forward(simulation.tiles, bad, simulation.forcing)


def test_prior_table_drives_the_default_run():
    simulation = site_simulation("sodankyla", "2015-01-01", "2015-01-10")
    np.testing.assert_array_equal(simulation.parameters, prior_table([5, 7]))
    assert site_forcing("sodankyla", "2015-01-01", "2015-01-10").n_hour == 240
