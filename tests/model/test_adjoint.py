"""Block adjoint driver: dot-product tests against the tangent driver over multi-year runs
(spin-up cycles, daily outputs of every kind, snapshots and the final state), the
gradient of a scalar against finite differences, and the recording recompute of the
reverse sweep against the forward run."""

import numpy as np
import pytest

from tccas.model.adjoint import _record_day, run_adjoint
from tccas.model.driver import Samples, SpinUp, hourly_calendar, run_forward
from tccas.model.errors import TccasInputError
from tccas.model.kernels.astronomy import solar_calendar
from tccas.model.kernels.tile_hour import N_TAPE, R_STATE, tile_constants
from tccas.model.layout import N_DERIVED, N_DIAG, N_STATE
from tccas.model.outputs import OUTPUT_INDEX
from tccas.model.parameters import N_PARAMETER, PARAMETER_NAMES
from tccas.model.run_maps import run_maps
from tccas.model.verification import dot_product_test, random_directions
from tccas.operators.streams import overpass_hours
from tccas.pipeline.simulate import site_simulation

OUTPUTS = ("gpp", "nee", "et", "fapar", "lai", "c_wood", "snow_water", "runoff")


@pytest.mark.slow
@pytest.mark.parametrize("site", ["majadas", "sodankyla"])
def test_three_year_dot_product(site):
    simulation = site_simulation(site, "2015-01-01", "2017-12-31")
    lon = float(simulation.tiles.static[0, 1])
    samples = Samples.same_for_all(simulation.tiles.n_tile,
                                   overpass_hours(lon, 13.5, 1096)[::7])
    maps = run_maps(simulation.tiles, simulation.forcing, N_PARAMETER,
                    SpinUp(years=1, cycles=2), samples, OUTPUTS)
    seed = int(np.random.SeedSequence().entropy % 2**32)
    print(f"seed {seed}")
    dx, dy = random_directions(seed, (simulation.parameters.size,), (maps.n_out,))
    dx *= np.abs(simulation.parameters.ravel()) * 0.01
    dot = dot_product_test(maps.tangent, maps.adjoint, simulation.parameters.ravel(), dx, dy)
    assert dot.relative_error < 1e-12, (seed, dot)


def test_gradient_of_annual_gpp_matches_finite_differences():
    simulation = site_simulation("majadas", "2015-01-01", "2015-12-31")
    spinup = SpinUp(years=0, cycles=0)
    n_day = 365
    weights = np.zeros((2, n_day, 1))
    weights[1] = 1.0  # annual GPP of the grass tile
    gradient = run_adjoint(simulation.tiles, simulation.parameters, simulation.forcing,
                           spinup, outputs=("gpp",), daily_b=weights).parameters_b

    def annual_gpp(parameters):
        result = run_forward(simulation.tiles, parameters, simulation.forcing, spinup)
        return result.daily[1, :, OUTPUT_INDEX["gpp"]].sum()

    for name in ("vcmax25", "lma", "f_fol", "c_foliage_init", "water_capacity_factor"):
        column = PARAMETER_NAMES.index(name)
        step = 1e-5 * simulation.parameters[1, column]
        plus = simulation.parameters.copy()
        minus = simulation.parameters.copy()
        plus[1, column] += step
        minus[1, column] -= step
        difference = (annual_gpp(plus) - annual_gpp(minus)) / (2 * step)
        assert gradient[1, column] == pytest.approx(difference, rel=1e-5), name
    assert np.all(gradient[0] == 0.0)  # the tree tile does not touch grass GPP


def test_seed_shapes_are_checked():
    simulation = site_simulation("majadas", "2015-01-01", "2015-01-02")
    with pytest.raises(TccasInputError, match="daily_b has shape"):
        run_adjoint(simulation.tiles, simulation.parameters, simulation.forcing,
                    outputs=("gpp",), daily_b=np.zeros((2, 3, 1)))


def test_per_pft_gradient_sums_the_tiles_of_each_pft():
    from tccas.model.tiles import make_tiles

    simulation = site_simulation("majadas", "2015-04-01", "2015-04-10")
    tiles = make_tiles(["TmEv", "C3Gr", "TmEv", "C3Gr"], [0.25, 0.75, 0.5, 0.5], 39.94,
                       -5.77, "sandy_loam", cell=[0, 0, 1, 1])
    parameters = np.repeat(simulation.parameters, 2, axis=0)[[0, 2, 1, 3]]
    seeds = np.ones((4, 10, 1))
    result = run_adjoint(tiles, parameters, simulation.forcing, SpinUp(0, 0),
                         outputs=("gpp",), daily_b=seeds)
    codes, gradient = result.per_pft(tiles)
    assert codes.tolist() == [3, 9]
    np.testing.assert_allclose(gradient[0], result.parameters_b[[0, 2]].sum(axis=0))
    # tiles of the same PFT on the same meteorology have the same gradient
    np.testing.assert_allclose(result.parameters_b[0], result.parameters_b[2], rtol=1e-12)


def test_recording_recompute_reproduces_the_forward_run_bit_for_bit():
    """The reverse sweep recomputes each day from its checkpoint while recording the
    hourly tapes (``_record_day``); the states it records are the forward run's, bit for
    bit, over a boreal and a Mediterranean year (a compilation of tile_hour without the
    recording would differ in a few states a year)."""
    for site in ("sodankyla", "majadas"):
        simulation = site_simulation(site, "2015-01-01", "2015-12-31")
        tiles, forcing = simulation.tiles, simulation.forcing
        n_hour = forcing.n_hour
        samples = Samples.same_for_all(tiles.n_tile, np.arange(n_hour))
        result = run_forward(tiles, simulation.parameters, forcing, SpinUp(0, 0),
                             samples=samples)
        after = result.snapshots[:, :N_STATE].reshape(tiles.n_tile, n_hour, N_STATE)
        day_of_year, utc_hour = hourly_calendar(forcing)
        calendar = [np.empty(n_hour) for _ in range(4)]
        solar_calendar(day_of_year, *calendar)
        tapes = np.empty((24, N_TAPE))
        for tile in range(tiles.n_tile):
            params = simulation.parameters[tile]
            derived = np.empty(N_DERIVED)
            tile_constants(params, tiles.static[tile], derived)
            for day in range(n_hour // 24):
                state = after[tile, day * 24 - 1].copy() if day else result.start_state[tile]
                _record_day(state, params, tiles.static[tile], derived,
                            tiles.met_cell[tile], day * 24, forcing.air_temperature,
                            forcing.shortwave_down, forcing.longwave_down,
                            forcing.precipitation, forcing.vapour_pressure_deficit,
                            forcing.surface_pressure, forcing.co2, day_of_year, utc_hour,
                            *calendar, np.empty(N_DIAG), tapes)
                before = tapes[:, R_STATE:R_STATE + N_STATE]
                np.testing.assert_array_equal(before[1:], after[tile, day * 24:day * 24 + 23])
                np.testing.assert_array_equal(state, after[tile, day * 24 + 23])
