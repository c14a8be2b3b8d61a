"""Tangent-linear of the whole hourly step, composed over days of real model runs:
Taylor tests against finite differences of ``tile_hour`` for state and parameter
perturbations, in snow, frozen-soil, drought, spring and C4 conditions."""

import numpy as np
import pytest

from tccas.model.driver import SpinUp, hourly_calendar, initial_state, run_forward
from tccas.model.kernels.astronomy import solar_calendar
from tccas.model.kernels.tile_hour import N_TAPE, tile_constants, tile_hour
from tccas.model.kernels.tile_hour_ad import tile_constants_ad, tile_hour_ad
from tccas.model.kernels.tile_hour_tl import N_WORK, tile_constants_tl, tile_hour_tl
from tccas.model.layout import D_GPP, D_NEE, D_TRANSPIRATION, N_DERIVED, N_DIAG, N_STATE
from tccas.model.parameters import PARAMETER_NAMES, prior_table
from tccas.model.tiles import make_tiles
from tccas.model.verification import dot_product_test, random_directions, taylor_test
from tccas.pipeline.simulate import site_simulation

ACCUMULATED = [D_GPP, D_NEE, D_TRANSPIRATION]


class HourlyRun:
    """The hourly step of one tile as a map (initial state, parameters) -> (final state,
    accumulated GPP, NEE and transpiration), with its tangent."""

    def __init__(self, tiles, parameters, forcing, tile):
        self.forcing = forcing
        day_of_year, self.utc_hour = hourly_calendar(forcing)
        self.day_of_year = day_of_year
        n = forcing.n_hour
        self.solar = [np.empty(n) for _ in range(4)]
        solar_calendar(day_of_year, *self.solar)
        self.static = tiles.static[tile]
        self.x0 = np.concatenate([initial_state(tiles, parameters, forcing)[tile],
                                  parameters[tile]])

    def forcing_at(self, h):
        f = self.forcing
        return (f.air_temperature[0, h], f.shortwave_down[0, h], f.longwave_down[0, h],
                f.precipitation[0, h], f.vapour_pressure_deficit[0, h],
                f.surface_pressure[0, h], f.co2[0, h], self.day_of_year[h], self.utc_hour[h],
                *(s[h] for s in self.solar))

    def function(self, x):
        state, params = x[:N_STATE].copy(), x[N_STATE:].copy()
        derived = np.empty(N_DERIVED)
        tile_constants(params, self.static, derived)
        diag = np.empty(N_DIAG)
        tape = np.empty(N_TAPE)
        total = np.zeros(len(ACCUMULATED))
        for h in range(self.forcing.n_hour):
            tile_hour(state, params, self.static, derived, *self.forcing_at(h), diag, tape)
            total += diag[ACCUMULATED]
        return np.concatenate([state, total])

    def tangent(self, x, dx):
        k = dx.shape[1] if dx.ndim == 2 else 1
        dx = dx.reshape(x.size, k)
        state, params = x[:N_STATE].copy(), x[N_STATE:].copy()
        state_d, params_d = dx[:N_STATE].copy(), dx[N_STATE:].copy()
        derived, derived_d = np.empty(N_DERIVED), np.empty((N_DERIVED, k))
        tile_constants_tl(params, self.static, derived, params_d, derived_d)
        diag, diag_d = np.empty(N_DIAG), np.empty((N_DIAG, k))
        work = np.empty((N_WORK, k))
        total = np.zeros((len(ACCUMULATED), k))
        for h in range(self.forcing.n_hour):
            tile_hour_tl(state, params, self.static, derived, *self.forcing_at(h), diag,
                         state_d, params_d, derived_d, diag_d, work)
            total += diag_d[ACCUMULATED]
        out = np.concatenate([state_d, total])
        return out[:, 0] if k == 1 else out


def perturbation(run, seed):
    (direction,) = random_directions(seed, run.x0.shape)
    dx = direction * np.abs(run.x0) * 0.01
    for name in ("d_onset", "d_fall"):
        dx[N_STATE + PARAMETER_NAMES.index(name)] = direction[N_STATE]
    return dx


CASES = [("sodankyla", "2015-01-10", "2015-01-12", 0),   # snow, frozen root zone, night
         ("sodankyla", "2015-05-08", "2015-05-11", 1),   # snow melt, thaw
         ("majadas", "2015-07-01", "2015-07-03", 1),     # summer drought, grass
         ("majadas", "2015-03-20", "2015-03-23", 0),     # spring, leaf onset, trees
         ("reusel", "2015-06-01", "2015-06-02", 0)]      # crop


@pytest.mark.parametrize(("site", "start", "end", "tile"), CASES)
def test_tile_hour_tangent_matches_finite_differences(site, start, end, tile):
    simulation = site_simulation(site, start, end)
    run = HourlyRun(simulation.tiles, simulation.parameters, simulation.forcing, tile)
    # the numpy map reproduces the block driver exactly
    result = run_forward(simulation.tiles, simulation.parameters, simulation.forcing,
                         SpinUp(0, 0))
    np.testing.assert_array_equal(run.function(run.x0)[:N_STATE], result.final_state[tile])
    seed = np.random.SeedSequence().entropy % 2**32
    print(f"seed {seed}")
    taylor = taylor_test(run.function, run.tangent, run.x0, perturbation(run, seed),
                         steps=np.logspace(-2, -8, 13))
    assert taylor.min_relative_error < 1e-6, (seed, taylor.relative_errors)
    assert taylor.second_order


def test_c4_grass_tangent():
    simulation = site_simulation("majadas", "2015-05-01", "2015-05-02")
    tiles = make_tiles(["C4Gr"], [1.0], 39.94, -5.77, "sandy_loam")
    run = HourlyRun(tiles, prior_table(tiles.pft), simulation.forcing, 0)
    taylor = taylor_test(run.function, run.tangent, run.x0, perturbation(run, 12),
                         steps=np.logspace(-2, -8, 13))
    assert taylor.min_relative_error < 1e-6, taylor.relative_errors


def test_many_directions_equal_single_directions():
    simulation = site_simulation("majadas", "2015-04-01", "2015-04-01")
    run = HourlyRun(simulation.tiles, simulation.parameters, simulation.forcing, 1)
    (directions,) = random_directions(3, (run.x0.size, 5))
    many = run.tangent(run.x0, directions)
    for k in range(5):
        np.testing.assert_allclose(run.tangent(run.x0, directions[:, k]), many[:, k],
                                   rtol=1e-13, atol=1e-300)


def adjoint_of_run(run, x, y_bar):
    """Adjoint of ``HourlyRun.function``: record every hour's tape, then reverse."""
    state, params = x[:N_STATE].copy(), x[N_STATE:].copy()
    derived = np.empty(N_DERIVED)
    tile_constants(params, run.static, derived)
    diag = np.empty(N_DIAG)
    tapes = np.empty((run.forcing.n_hour, N_TAPE))
    for h in range(run.forcing.n_hour):
        tile_hour(state, params, run.static, derived, *run.forcing_at(h), diag, tapes[h])
    state_b = y_bar[:N_STATE].copy()
    diag_b = np.zeros(N_DIAG)
    diag_b[ACCUMULATED] = y_bar[N_STATE:]
    params_b = np.zeros(params.size)
    derived_b = np.zeros(N_DERIVED)
    for h in range(run.forcing.n_hour - 1, -1, -1):
        tile_hour_ad(tapes[h], params, run.static, derived, state_b, params_b, derived_b,
                     diag_b)
    tile_constants_ad(params, run.static, derived_b, params_b)
    return np.concatenate([state_b, params_b])


@pytest.mark.parametrize(("site", "start", "end", "tile"), CASES)
def test_tile_hour_adjoint_dot_product(site, start, end, tile):
    simulation = site_simulation(site, start, end)
    run = HourlyRun(simulation.tiles, simulation.parameters, simulation.forcing, tile)
    seed = int(np.random.SeedSequence().entropy % 2**32)
    print(f"seed {seed}")
    dx = perturbation(run, seed)
    (dy,) = random_directions(seed + 1, (N_STATE + len(ACCUMULATED),))
    dot = dot_product_test(run.tangent, lambda x, yb: adjoint_of_run(run, x, yb), run.x0,
                           dx, dy)
    assert dot.relative_error < 1e-12, (seed, dot)
