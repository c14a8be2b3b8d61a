"""Block tangent-linear driver: the forward run of every tile of a block with the
tangents of ``k`` parameter directions carried at once (layer 2, numpy in, numpy out).

Directions live in the per-tile parameter space, which includes the initial carbon pools
(MODEL_SPEC 5.1): ``parameter_directions[tile, parameter, direction]``. The initial state's
tangent follows from them (carbon pools from the ``*_init`` parameters, the root zone
starting at its capacity). The spin-up recycling of the physical states is differentiated
too (the carbon pools and their tangents are reset to the initial values after each
cycle, as in the forward driver).

Outputs: tangents of the final state, of the snapshots (the Jacobian columns of every
simulated observation) and of selected daily outputs (the full daily tangent of 27
variables for many directions would not fit in memory for large blocks).
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
from tccas.model.kernels.tile_hour_tl import N_WORK, tile_constants_tl, tile_hour_tl
from tccas.model.layout import (
    D_APAR,
    D_FAPAR,
    D_FPASM,
    D_GPP,
    D_INTERCEPTION_EVAPORATION,
    D_LAI,
    D_MELT,
    D_NEE,
    D_PAR,
    D_PRECIPITATION,
    D_RA,
    D_RH,
    D_RUNOFF,
    D_SM_SURFACE,
    D_SOIL_EVAPORATION,
    D_SUBLIMATION,
    D_T_CANOPY,
    D_TRANSPIRATION,
    N_DERIVED,
    N_DIAG,
    N_SNAPSHOT,
    N_STATE,
    S_C_FOL,
    S_C_LAB,
    S_C_LIT,
    S_C_ROOT,
    S_C_SOM,
    S_C_WOOD,
    S_SNOW,
    S_W_CANOPY,
    S_W_ROOT,
    S_W_SURFACE,
    V_ROOT_CAPACITY,
)
from tccas.model.outputs import OUTPUT_NAMES
from tccas.model.parameters import (
    N_PARAMETER,
    P_C_FOLIAGE_INIT,
    P_C_LABILE_INIT,
    P_C_LITTER_INIT,
    P_C_ROOT_INIT,
    P_C_SOM_INIT,
    P_C_WOOD_INIT,
)
from tccas.model.tiles import Tiles

# how each daily output is built from the hourly step: (kind, index)
KIND_MEAN = 0  # mean of a diagnostic over the day
KIND_SUM = 1  # sum of a diagnostic over the day
KIND_STATE = 2  # state at the end of the day
KIND_ET = 3  # transpiration + soil, interception and snow evaporation
KIND_FAPAR = 4  # PAR-weighted mean FAPAR
OUTPUT_RECIPES: dict[str, tuple[int, int]] = {
    "gpp": (KIND_MEAN, D_GPP), "ra": (KIND_MEAN, D_RA), "rh": (KIND_MEAN, D_RH),
    "nee": (KIND_MEAN, D_NEE), "et": (KIND_ET, 0),
    "transpiration": (KIND_SUM, D_TRANSPIRATION),
    "soil_evaporation": (KIND_SUM, D_SOIL_EVAPORATION),
    "interception_evaporation": (KIND_SUM, D_INTERCEPTION_EVAPORATION),
    "snow_sublimation": (KIND_SUM, D_SUBLIMATION), "runoff": (KIND_SUM, D_RUNOFF),
    "precipitation": (KIND_SUM, D_PRECIPITATION), "snowmelt": (KIND_SUM, D_MELT),
    "snow_water": (KIND_STATE, S_SNOW), "canopy_water": (KIND_STATE, S_W_CANOPY),
    "soil_water_surface": (KIND_STATE, S_W_SURFACE), "soil_water_root": (KIND_STATE, S_W_ROOT),
    "sm_surface": (KIND_MEAN, D_SM_SURFACE), "lai": (KIND_MEAN, D_LAI),
    "fapar": (KIND_FAPAR, D_FAPAR), "fpasm": (KIND_MEAN, D_FPASM),
    "t_canopy": (KIND_MEAN, D_T_CANOPY),
    "c_labile": (KIND_STATE, S_C_LAB), "c_foliage": (KIND_STATE, S_C_FOL),
    "c_root": (KIND_STATE, S_C_ROOT), "c_wood": (KIND_STATE, S_C_WOOD),
    "c_litter": (KIND_STATE, S_C_LIT), "c_som": (KIND_STATE, S_C_SOM),
}
INIT_PARAMETERS = (P_C_LABILE_INIT, P_C_FOLIAGE_INIT, P_C_ROOT_INIT, P_C_WOOD_INIT,
                   P_C_LITTER_INIT, P_C_SOM_INIT)


@dataclass(frozen=True)
class TangentResult:
    """Tangents for ``k`` directions.

    ``final_state_d (n_tile, N_STATE, k)``; ``snapshots_d (n_sample, N_SNAPSHOT, k)`` in
    the order of ``Samples.hours``; ``daily_d (n_tile, n_day, n_output, k)`` for the
    ``outputs`` requested; ``final_state`` the primal final state.
    """

    final_state: np.ndarray
    final_state_d: np.ndarray
    snapshots_d: np.ndarray
    daily_d: np.ndarray
    outputs: tuple[str, ...]


@njit(parallel=True, cache=True, fastmath=set(KERNEL_FASTMATH), error_model="numpy")
def _tangent_block(parameters, parameters_d, static, met_cell, t_air, shortwave, longwave,
                   precipitation, vpd, pressure, co2, day_of_year, utc_hour, spinup_hours,
                   spinup_cycles, initial_state, init_columns, recipe_kind, recipe_index,
                   sample_pointer, sample_hours, final_state, final_state_d, snapshots_d,
                   daily_d):
    n_tile = parameters.shape[0]
    n_hour = day_of_year.shape[0]
    k = parameters_d.shape[2]
    n_out = recipe_kind.shape[0]
    sin_dec = np.empty(n_hour)
    cos_dec = np.empty(n_hour)
    eot = np.empty(n_hour)
    distance = np.empty(n_hour)
    solar_calendar(day_of_year, sin_dec, cos_dec, eot, distance)
    for tile in prange(n_tile):
        params = parameters[tile]
        params_d = parameters_d[tile]
        tile_static = static[tile]
        m = met_cell[tile]
        derived = np.empty(N_DERIVED)
        derived_d = np.empty((N_DERIVED, k))
        tile_constants_tl(params, tile_static, derived, params_d, derived_d)
        state = initial_state[tile].copy()
        state_d = np.zeros((N_STATE, k))
        for c in range(N_CARBON):
            state_d[c] = params_d[init_columns[c]]
        state_d[S_W_ROOT] = derived_d[V_ROOT_CAPACITY]
        diag = np.empty(N_DIAG)
        diag_d = np.empty((N_DIAG, k))
        work = np.empty((N_WORK, k))
        for _ in range(spinup_cycles):
            for h in range(spinup_hours):
                tile_hour_tl(state, params, tile_static, derived, t_air[m, h],
                             shortwave[m, h], longwave[m, h], precipitation[m, h],
                             vpd[m, h], pressure[m, h], co2[m, h], day_of_year[h],
                             utc_hour[h], sin_dec[h], cos_dec[h], eot[h], distance[h], diag,
                             state_d, params_d, derived_d, diag_d, work)
            for c in range(N_CARBON):
                state[c] = initial_state[tile, c]
                state_d[c] = params_d[init_columns[c]]
        out = daily_d[tile]
        par_sum = 0.0
        next_sample = sample_pointer[tile]
        last_sample = sample_pointer[tile + 1]
        for h in range(n_hour):
            tile_hour_tl(state, params, tile_static, derived, t_air[m, h], shortwave[m, h],
                         longwave[m, h], precipitation[m, h], vpd[m, h], pressure[m, h],
                         co2[m, h], day_of_year[h], utc_hour[h], sin_dec[h], cos_dec[h],
                         eot[h], distance[h], diag, state_d, params_d, derived_d, diag_d,
                         work)
            if next_sample < last_sample and sample_hours[next_sample] == h:
                snapshots_d[next_sample, :N_STATE] = state_d
                snapshots_d[next_sample, N_STATE:] = diag_d
                next_sample += 1
            day = h // 24
            par_sum += diag[D_PAR]
            for o in range(n_out):
                kind = recipe_kind[o]
                index = recipe_index[o]
                if kind == KIND_MEAN:
                    for i in range(k):
                        out[day, o, i] += diag_d[index, i] / 24.0
                elif kind == KIND_SUM:
                    for i in range(k):
                        out[day, o, i] += diag_d[index, i]
                elif kind == KIND_ET:
                    for i in range(k):
                        out[day, o, i] += (diag_d[D_TRANSPIRATION, i]
                                           + diag_d[D_SOIL_EVAPORATION, i]
                                           + diag_d[D_INTERCEPTION_EVAPORATION, i]
                                           + diag_d[D_SUBLIMATION, i])
                elif kind == KIND_FAPAR:
                    for i in range(k):
                        out[day, o, i] += diag_d[D_APAR, i]
                elif h % 24 == 23:
                    for i in range(k):
                        out[day, o, i] = state_d[index, i]
            if h % 24 == 23:
                for o in range(n_out):
                    if recipe_kind[o] == KIND_FAPAR:
                        for i in range(k):
                            out[day, o, i] = out[day, o, i] / par_sum if par_sum > 0.0 \
                                else 0.0
                par_sum = 0.0
        final_state[tile] = state
        final_state_d[tile] = state_d


def run_tangent(tiles: Tiles, parameters: np.ndarray, forcing: Forcing,
                parameter_directions: np.ndarray, spinup: SpinUp | None = None,
                samples: Samples | None = None, outputs: tuple[str, ...] = ("gpp", "nee"),
                threads: int | None = None) -> TangentResult:
    """Tangent-linear of :func:`tccas.model.driver.run_forward` for the directions
    ``parameter_directions (n_tile, N_PARAMETER, k)`` [parameter units]."""
    import numba

    spinup = SpinUp() if spinup is None else spinup
    parameters = np.ascontiguousarray(parameters, dtype=np.float64)
    directions = np.ascontiguousarray(parameter_directions, dtype=np.float64)
    if directions.ndim != 3 or directions.shape[:2] != (tiles.n_tile, N_PARAMETER):
        raise TccasInputError(
            f"parameter directions have shape {directions.shape}, expected "
            f"({tiles.n_tile}, {N_PARAMETER}, k)")
    unknown = [name for name in outputs if name not in OUTPUT_RECIPES]
    if unknown:
        raise TccasInputError(f"unknown output(s) {', '.join(unknown)}; known: "
                              f"{', '.join(OUTPUT_NAMES)}")
    samples = Samples.none(tiles.n_tile) if samples is None else samples
    samples.validate(tiles.n_tile, forcing.n_hour)
    day_of_year, utc_hour = hourly_calendar(forcing)
    k = directions.shape[2]
    n_day = forcing.n_hour // 24
    kinds = np.array([OUTPUT_RECIPES[name][0] for name in outputs], dtype=np.int64)
    indices = np.array([OUTPUT_RECIPES[name][1] for name in outputs], dtype=np.int64)
    final_state = np.empty((tiles.n_tile, N_STATE))
    final_state_d = np.empty((tiles.n_tile, N_STATE, k))
    snapshots_d = np.zeros((samples.hours.size, N_SNAPSHOT, k))
    daily_d = np.zeros((tiles.n_tile, n_day, len(outputs), k))
    previous_threads = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(threads)
    try:
        _tangent_block(parameters, directions, tiles.static, tiles.met_cell,
                       forcing.air_temperature, forcing.shortwave_down, forcing.longwave_down,
                       forcing.precipitation, forcing.vapour_pressure_deficit,
                       forcing.surface_pressure, forcing.co2, day_of_year, utc_hour,
                       spinup_hours(forcing, spinup), spinup.cycles,
                       initial_state(tiles, parameters, forcing),
                       np.array(INIT_PARAMETERS, dtype=np.int64), kinds, indices,
                       samples.pointer, samples.hours, final_state, final_state_d,
                       snapshots_d, daily_d)
    finally:
        numba.set_num_threads(previous_threads)
    return TangentResult(final_state=final_state, final_state_d=final_state_d,
                         snapshots_d=snapshots_d, daily_d=daily_d, outputs=tuple(outputs))
