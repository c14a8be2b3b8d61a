"""Block adjoint driver: the gradient of any weighted sum of model outputs with respect to
every per-tile parameter and initial pool (layer 2, numpy in, numpy out).

Seeds (adjoints of the outputs) may be given for selected daily outputs, for the
snapshots of sampled hours (the simulated observations) and for the final state.

Checkpointing scheme: a forward sweep stores the state at the start of every day
(spin-up cycles included): 13 values per tile and day, 0.27 MB per tile for 7 years. The
reverse sweep goes back day by day: it restores the day's checkpoint and recomputes the
day's 24 hours once with ``tile_hour(..., tape)``, which records each hour's tape (state
before the hour and intermediate values, 24 x N_TAPE values = 27 kB per tile being
worked on, reused every day); then :func:`tile_hour_ad` runs backwards through the hours
reading those tapes. Cost: two forward runs (the checkpoint sweep and the recording
recompute) plus the reverse halves of the hourly adjoints, each hour's forward physics
evaluated twice; memory grows with the number of days, never with the number of hours.

The spin-up recycling is reversed too: the carbon pools reset to their initial values
after each cycle send their adjoint to the ``*_init`` parameters, and the physical states
carry it back through the cycles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from tccas.model.driver import (
    N_CARBON,
    Samples,
    SpinUp,
    hourly_calendar,
    initial_state,
    spinup_hours,
)
from tccas.model.errors import TccasInputError
from tccas.model.forcing import Forcing
from tccas.model.kernels import KERNEL_FASTMATH
from tccas.model.kernels.astronomy import solar_calendar
from tccas.model.kernels.tile_hour import N_TAPE, R_PAR, tile_constants, tile_hour
from tccas.model.kernels.tile_hour_ad import tile_constants_ad, tile_hour_ad
from tccas.model.layout import (
    D_FAPAR,
    D_INTERCEPTION_EVAPORATION,
    D_SOIL_EVAPORATION,
    D_SUBLIMATION,
    D_TRANSPIRATION,
    N_DERIVED,
    N_DIAG,
    N_SNAPSHOT,
    N_STATE,
    S_W_ROOT,
    V_ROOT_CAPACITY,
)
from tccas.model.parameters import N_PARAMETER
from tccas.model.tangent import (
    INIT_PARAMETERS,
    KIND_ET,
    KIND_FAPAR,
    KIND_MEAN,
    KIND_SUM,
    OUTPUT_RECIPES,
)
from tccas.model.tiles import Tiles


@dataclass(frozen=True)
class AdjointResult:
    """``parameters_b (n_tile, N_PARAMETER)``: the gradient of the seeded sum with respect
    to each tile's parameters (initial pools included)."""

    parameters_b: np.ndarray

    def per_pft(self, tiles: Tiles) -> tuple[np.ndarray, np.ndarray]:
        """Gradient with respect to per-PFT parameters shared by all tiles of a PFT (the
        default sharing of the control space): (PFT codes present, gradient
        (n_pft, N_PARAMETER)), the sum over each PFT's tiles (the adjoint of copying a PFT
        value to its tiles)."""
        codes = np.unique(tiles.pft)
        gradient = np.stack([self.parameters_b[tiles.pft == code].sum(axis=0)
                             for code in codes])
        return codes, gradient


@njit(cache=True, fastmath=set(KERNEL_FASTMATH), error_model="numpy")
def _hour_seed(i, day, recipe_kind, recipe_index, daily_b, tapes, par_sum, diag_b, state_b):
    """Add the daily-output seeds of day ``day`` that fall on hour ``i`` of the day (the
    day's PAR comes from its tapes)."""
    for o in range(recipe_kind.shape[0]):
        weight = daily_b[day, o]
        if weight == 0.0:
            continue
        kind = recipe_kind[o]
        index = recipe_index[o]
        if kind == KIND_MEAN:
            diag_b[index] += weight / 24.0
        elif kind == KIND_SUM:
            diag_b[index] += weight
        elif kind == KIND_ET:
            diag_b[D_TRANSPIRATION] += weight
            diag_b[D_SOIL_EVAPORATION] += weight
            diag_b[D_INTERCEPTION_EVAPORATION] += weight
            diag_b[D_SUBLIMATION] += weight
        elif kind == KIND_FAPAR:
            if par_sum > 0.0:
                diag_b[D_FAPAR] += weight * tapes[i, R_PAR] / par_sum
        elif i == 23:
            state_b[index] += weight


@njit(cache=True, fastmath=set(KERNEL_FASTMATH), error_model="numpy")
def _record_day(state, params, tile_static, derived, m, first_hour, t_air, shortwave,
                longwave, precipitation, vpd, pressure, co2, day_of_year, utc_hour, sin_dec,
                cos_dec, eot, distance, diag, tapes):
    """Advance ``state`` through the 24 hours from ``first_hour``, recording the tape of
    hour ``i`` of the day in ``tapes[i]``."""
    for i in range(24):
        h = first_hour + i
        tile_hour(state, params, tile_static, derived, t_air[m, h], shortwave[m, h],
                  longwave[m, h], precipitation[m, h], vpd[m, h], pressure[m, h], co2[m, h],
                  day_of_year[h], utc_hour[h], sin_dec[h], cos_dec[h], eot[h], distance[h],
                  diag, tapes[i])


@njit(parallel=True, cache=True, fastmath=set(KERNEL_FASTMATH), error_model="numpy")
def _adjoint_block(parameters, static, met_cell, t_air, shortwave, longwave, precipitation,
                   vpd, pressure, co2, day_of_year, utc_hour, spinup_hours, spinup_cycles,
                   initial_state, init_columns, recipe_kind, recipe_index, sample_pointer,
                   sample_hours, daily_b, snapshots_b, final_state_b, parameters_b):
    n_tile = parameters.shape[0]
    n_hour = day_of_year.shape[0]
    n_day = n_hour // 24
    spin_days = spinup_hours // 24
    sin_dec = np.empty(n_hour)
    cos_dec = np.empty(n_hour)
    eot = np.empty(n_hour)
    distance = np.empty(n_hour)
    solar_calendar(day_of_year, sin_dec, cos_dec, eot, distance)
    for tile in prange(n_tile):
        params = parameters[tile]
        tile_static = static[tile]
        m = met_cell[tile]
        derived = np.empty(N_DERIVED)
        tile_constants(params, tile_static, derived)
        diag = np.empty(N_DIAG)
        n_check = spinup_cycles * spin_days + n_day
        checkpoints = np.empty((n_check, N_STATE))
        state = initial_state[tile].copy()
        tapes = np.empty((24, N_TAPE))
        # forward sweep with daily checkpoints, by the day step of the reverse sweep's
        # recompute (which so reproduces these states bit for bit); the tapes are not needed
        c = 0
        for _ in range(spinup_cycles):
            for day in range(spin_days):
                checkpoints[c] = state
                c += 1
                _record_day(state, params, tile_static, derived, m, day * 24, t_air,
                            shortwave, longwave, precipitation, vpd, pressure, co2,
                            day_of_year, utc_hour, sin_dec, cos_dec, eot, distance, diag,
                            tapes)
            for p in range(N_CARBON):
                state[p] = initial_state[tile, p]
        for day in range(n_day):
            checkpoints[c] = state
            c += 1
            _record_day(state, params, tile_static, derived, m, day * 24, t_air, shortwave,
                        longwave, precipitation, vpd, pressure, co2, day_of_year, utc_hour,
                        sin_dec, cos_dec, eot, distance, diag, tapes)
        # reverse sweep: each day recomputed once from its checkpoint with its tapes
        state_b = final_state_b[tile].copy()
        params_b = parameters_b[tile]
        derived_b = np.zeros(N_DERIVED)
        diag_b = np.empty(N_DIAG)
        last_sample = sample_pointer[tile + 1] - 1
        first_sample = sample_pointer[tile]
        for day in range(n_day - 1, -1, -1):
            state[:] = checkpoints[spinup_cycles * spin_days + day]
            _record_day(state, params, tile_static, derived, m, day * 24, t_air, shortwave,
                        longwave, precipitation, vpd, pressure, co2, day_of_year, utc_hour,
                        sin_dec, cos_dec, eot, distance, diag, tapes)
            par_sum = 0.0
            for i in range(24):
                par_sum += tapes[i, R_PAR]
            for i in range(23, -1, -1):
                h = day * 24 + i
                diag_b[:] = 0.0
                _hour_seed(i, day, recipe_kind, recipe_index, daily_b[tile], tapes, par_sum,
                           diag_b, state_b)
                if last_sample >= first_sample and sample_hours[last_sample] == h:
                    for s in range(N_STATE):
                        state_b[s] += snapshots_b[last_sample, s]
                    for d in range(N_DIAG):
                        diag_b[d] += snapshots_b[last_sample, N_STATE + d]
                    last_sample -= 1
                tile_hour_ad(tapes[i], params, tile_static, derived, state_b, params_b,
                             derived_b, diag_b)
        diag_b[:] = 0.0
        for cycle in range(spinup_cycles - 1, -1, -1):
            # the carbon pools were reset to the initial values after this cycle
            for p in range(N_CARBON):
                params_b[init_columns[p]] += state_b[p]
                state_b[p] = 0.0
            for day in range(spin_days - 1, -1, -1):
                state[:] = checkpoints[cycle * spin_days + day]
                _record_day(state, params, tile_static, derived, m, day * 24, t_air,
                            shortwave, longwave, precipitation, vpd, pressure, co2,
                            day_of_year, utc_hour, sin_dec, cos_dec, eot, distance, diag,
                            tapes)
                for i in range(23, -1, -1):
                    tile_hour_ad(tapes[i], params, tile_static, derived, state_b, params_b,
                                 derived_b, diag_b)
        # the initial state: carbon pools are parameters, the root zone starts full
        for p in range(N_CARBON):
            params_b[init_columns[p]] += state_b[p]
        derived_b[V_ROOT_CAPACITY] += state_b[S_W_ROOT]
        tile_constants_ad(params, tile_static, derived_b, params_b)


def run_adjoint(tiles: Tiles, parameters: np.ndarray, forcing: Forcing,
                spinup: SpinUp | None = None, samples: Samples | None = None,
                outputs: tuple[str, ...] = (), daily_b: np.ndarray | None = None,
                snapshots_b: np.ndarray | None = None, final_state_b: np.ndarray | None = None,
                threads: int | None = None) -> AdjointResult:
    """Gradient of sum(daily_b * daily[outputs]) + sum(snapshots_b * snapshots) +
    sum(final_state_b * final_state) with respect to the per-tile parameters.

    ``daily_b (n_tile, n_day, len(outputs))``, ``snapshots_b (n_sample, N_SNAPSHOT)`` in
    the order of ``samples.hours``, ``final_state_b (n_tile, N_STATE)``; absent seeds are
    zero.
    """
    import numba

    spinup = SpinUp() if spinup is None else spinup
    parameters = np.ascontiguousarray(parameters, dtype=np.float64)
    samples = Samples.none(tiles.n_tile) if samples is None else samples
    samples.validate(tiles.n_tile, forcing.n_hour)
    unknown = [name for name in outputs if name not in OUTPUT_RECIPES]
    if unknown:
        raise TccasInputError(f"unknown output(s) {', '.join(unknown)}")
    n_day = forcing.n_hour // 24
    shapes = {"daily_b": (tiles.n_tile, n_day, len(outputs)),
              "snapshots_b": (samples.hours.size, N_SNAPSHOT),
              "final_state_b": (tiles.n_tile, N_STATE)}
    seeds = {"daily_b": daily_b, "snapshots_b": snapshots_b, "final_state_b": final_state_b}
    for name, shape in shapes.items():
        if seeds[name] is None:
            seeds[name] = np.zeros(shape)
        seeds[name] = np.ascontiguousarray(seeds[name], dtype=np.float64)
        if seeds[name].shape != shape:
            raise TccasInputError(f"{name} has shape {seeds[name].shape}, expected {shape}")
    n_spin = spinup_hours(forcing, spinup)
    if n_spin % 24:
        raise TccasInputError("the spin-up window must cover whole days")
    day_of_year, utc_hour = hourly_calendar(forcing)
    kinds = np.array([OUTPUT_RECIPES[name][0] for name in outputs], dtype=np.int64)
    indices = np.array([OUTPUT_RECIPES[name][1] for name in outputs], dtype=np.int64)
    parameters_b = np.zeros((tiles.n_tile, N_PARAMETER))
    previous_threads = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(threads)
    try:
        _adjoint_block(parameters, tiles.static, tiles.met_cell, forcing.air_temperature,
                       forcing.shortwave_down, forcing.longwave_down, forcing.precipitation,
                       forcing.vapour_pressure_deficit, forcing.surface_pressure, forcing.co2,
                       day_of_year, utc_hour, n_spin, spinup.cycles,
                       initial_state(tiles, parameters, forcing),
                       np.array(INIT_PARAMETERS, dtype=np.int64), kinds, indices,
                       samples.pointer, samples.hours, seeds["daily_b"], seeds["snapshots_b"],
                       seeds["final_state_b"], parameters_b)
    finally:
        numba.set_num_threads(previous_threads)
    return AdjointResult(parameters_b=parameters_b)
