"""Block tangent driver: Taylor tests of the whole multi-year run (spin-up included)
with respect to all parameters and initial pools, and k directions at once equal to k
single runs."""

import numpy as np
import pytest

from tccas.model.driver import Samples, SpinUp
from tccas.model.errors import TccasInputError
from tccas.model.outputs import OUTPUT_INDEX
from tccas.model.parameters import N_PARAMETER, PARAMETER_NAMES
from tccas.model.run_maps import run_maps
from tccas.model.tangent import OUTPUT_RECIPES, run_tangent
from tccas.model.verification import random_directions, taylor_test
from tccas.operators.streams import overpass_hours
from tccas.pipeline.simulate import site_simulation

OUTPUTS = ("gpp", "nee", "et", "lai", "fapar", "c_wood", "soil_water_root")


def relative_direction(parameters, seed):
    (direction,) = random_directions(seed, parameters.shape)
    dx = direction * np.abs(parameters) * 0.01
    for name in ("d_onset", "d_fall"):
        dx[:, PARAMETER_NAMES.index(name)] = direction[:, 0]
    return dx


@pytest.mark.slow
@pytest.mark.parametrize("site", ["majadas", "sodankyla"])
def test_three_year_run_tangent_matches_finite_differences(site):
    simulation = site_simulation(site, "2015-01-01", "2017-12-31")
    lon = float(simulation.tiles.static[0, 1])
    samples = Samples.same_for_all(simulation.tiles.n_tile,
                                   overpass_hours(lon, 13.5, 1096)[::5])
    maps = run_maps(simulation.tiles, simulation.forcing, N_PARAMETER,
                    SpinUp(years=1, cycles=1), samples, OUTPUTS)
    seed = int(np.random.SeedSequence().entropy % 2**32)
    print(f"seed {seed}")
    x = simulation.parameters.ravel()
    direction = relative_direction(simulation.parameters, seed).ravel()
    taylor = taylor_test(maps.function, maps.tangent, x, direction,
                         steps=np.logspace(-3, -8, 11))
    assert taylor.passed, (seed, taylor.relative_errors, taylor.remainders)


def test_k_directions_equal_single_runs():
    simulation = site_simulation("majadas", "2015-03-01", "2015-04-30")
    (directions,) = random_directions(9, (2, N_PARAMETER, 4))
    spinup = SpinUp(years=0, cycles=0)
    many = run_tangent(simulation.tiles, simulation.parameters, simulation.forcing,
                       directions, spinup, outputs=("gpp", "lai"))
    for k in range(4):
        one = run_tangent(simulation.tiles, simulation.parameters, simulation.forcing,
                          directions[..., k:k + 1], spinup, outputs=("gpp", "lai"))
        np.testing.assert_allclose(many.final_state_d[..., k], one.final_state_d[..., 0],
                                   rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(many.daily_d[..., k], one.daily_d[..., 0], rtol=1e-12,
                                   atol=1e-300)


def test_every_daily_output_has_a_recipe_and_errors():
    assert set(OUTPUT_RECIPES) == set(OUTPUT_INDEX)
    simulation = site_simulation("majadas", "2015-03-01", "2015-03-02")
    with pytest.raises(TccasInputError, match="unknown output"):
        run_tangent(simulation.tiles, simulation.parameters, simulation.forcing,
                    np.zeros((2, N_PARAMETER, 1)), outputs=("warp",))
    with pytest.raises(TccasInputError, match="parameter directions have shape"):
        run_tangent(simulation.tiles, simulation.parameters, simulation.forcing,
                    np.zeros((2, 3, 1)))
