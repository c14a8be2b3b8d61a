"""Block driver: run D&B forward for every tile of a block over the whole period.

Layer 2 of ARCHITECTURE.md: numpy in, numpy out. Tiles are the outer loop (a Numba
``prange``, tiles do not interact) and hours the inner loop, so each tile's state and its
meteorology series stay in cache (MODEL_SPEC 8.1; measured in BENCHMARKS.md).

Spin-up (TCCAS, MODEL_SPEC 1.2): the first ``SpinUp.years`` calendar years of the period
are the spin-up window, reported in the output and excluded from any misfit later. Before
the run, the physical states (water, snow, soil temperature) are equilibrated by running
the spin-up years ``SpinUp.cycles`` times ("recycled" forcing); the carbon pools are then
reset to their initial values, because those are control variables of the assimilation
(MODEL_SPEC 5.1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange

from tccas.model.errors import NonFiniteModelError, TccasInputError
from tccas.model.forcing import Forcing
from tccas.model.kernels import KERNEL_FASTMATH
from tccas.model.kernels.astronomy import solar_calendar
from tccas.model.kernels.tile_hour import N_TAPE, tile_constants, tile_hour
from tccas.model.layout import (
    D_APAR,
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
    S_SNOW_ALBEDO,
    S_SNOW_DENSITY,
    S_T_SOIL,
    S_W_CANOPY,
    S_W_ROOT,
    S_W_SURFACE,
    V_ROOT_CAPACITY,
    V_SURFACE_FIELD_CAPACITY,
)
from tccas.model.outputs import N_OUTPUT, OUTPUT_INDEX, OUTPUT_NAMES
from tccas.model.parameters import (
    N_PARAMETER,
    P_C_FOLIAGE_INIT,
    P_C_LABILE_INIT,
    P_C_LITTER_INIT,
    P_C_ROOT_INIT,
    P_C_SOM_INIT,
    P_C_WOOD_INIT,
    PFTS,
    constant,
)
from tccas.model.tiles import Tiles

T_ZERO = constant("T_ZERO")
N_CARBON = 6  # carbon pools are the first six state entries (layout.S_C_*)

O_GPP = OUTPUT_INDEX["gpp"]
O_RA = OUTPUT_INDEX["ra"]
O_RH = OUTPUT_INDEX["rh"]
O_NEE = OUTPUT_INDEX["nee"]
O_ET = OUTPUT_INDEX["et"]
O_TRANSPIRATION = OUTPUT_INDEX["transpiration"]
O_SOIL_EVAPORATION = OUTPUT_INDEX["soil_evaporation"]
O_INTERCEPTION_EVAPORATION = OUTPUT_INDEX["interception_evaporation"]
O_SUBLIMATION = OUTPUT_INDEX["snow_sublimation"]
O_RUNOFF = OUTPUT_INDEX["runoff"]
O_PRECIPITATION = OUTPUT_INDEX["precipitation"]
O_SNOWMELT = OUTPUT_INDEX["snowmelt"]
O_SNOW = OUTPUT_INDEX["snow_water"]
O_CANOPY_WATER = OUTPUT_INDEX["canopy_water"]
O_W_SURFACE = OUTPUT_INDEX["soil_water_surface"]
O_W_ROOT = OUTPUT_INDEX["soil_water_root"]
O_SM = OUTPUT_INDEX["sm_surface"]
O_LAI = OUTPUT_INDEX["lai"]
O_FAPAR = OUTPUT_INDEX["fapar"]
O_FPASM = OUTPUT_INDEX["fpasm"]
O_T_CANOPY = OUTPUT_INDEX["t_canopy"]
O_C_LABILE = OUTPUT_INDEX["c_labile"]


@dataclass(frozen=True)
class SpinUp:
    """Spin-up configuration: the window of ``years`` calendar years at the start of the
    period, recycled ``cycles`` times to equilibrate water, snow and soil temperature."""

    years: int = 2
    cycles: int = 1

    def __post_init__(self) -> None:
        if self.years < 0 or self.cycles < 0:
            raise TccasInputError(
                f"spin-up: years and cycles must be >= 0, got {self.years}, {self.cycles}")


@dataclass(frozen=True)
class Samples:
    """Hours at which to record a snapshot of each tile (observation hours).

    Compressed-sparse-row layout: the sampled hours of tile ``t`` are
    ``hours[pointer[t]:pointer[t + 1]]``, sorted, as indices into the forcing period (the
    main run, after the spin-up recycling). A snapshot is the state after the hour followed
    by the hour's diagnostics (:data:`tccas.model.layout.N_SNAPSHOT` values).
    """

    pointer: np.ndarray
    hours: np.ndarray

    @staticmethod
    def same_for_all(n_tile: int, hours: np.ndarray) -> Samples:
        """The same sorted hours for every tile."""
        hours = np.sort(np.asarray(hours, dtype=np.int64))
        return Samples(pointer=np.arange(n_tile + 1, dtype=np.int64) * hours.size,
                       hours=np.tile(hours, n_tile))

    @staticmethod
    def none(n_tile: int) -> Samples:
        return Samples(pointer=np.zeros(n_tile + 1, dtype=np.int64),
                       hours=np.zeros(0, dtype=np.int64))

    def validate(self, n_tile: int, n_hour: int) -> None:
        if self.pointer.shape != (n_tile + 1,) or self.pointer[0] != 0 or \
                self.pointer[-1] != self.hours.size or np.any(np.diff(self.pointer) < 0):
            raise TccasInputError("samples: pointer does not describe the hours of each tile")
        if self.hours.size and (self.hours.min() < 0 or self.hours.max() >= n_hour):
            raise TccasInputError(f"samples: hours must lie in [0, {n_hour})")
        for t in range(n_tile):
            if np.any(np.diff(self.hours[self.pointer[t]:self.pointer[t + 1]]) <= 0):
                raise TccasInputError(f"samples: hours of tile {t} are not strictly increasing")


@dataclass(frozen=True)
class ForwardResult:
    """Daily output of a forward run.

    ``daily[tile, day, variable]`` in the order of :data:`tccas.model.outputs.DAILY_OUTPUTS`;
    ``start_state`` is the state at the start of the period (after the recycled spin-up),
    ``final_state`` at its end; ``days`` the UTC dates; the first ``spinup_days`` days form
    the spin-up window; ``snapshots`` (n_sample, N_SNAPSHOT) the requested samples in the
    order of ``Samples.hours``.
    """

    daily: np.ndarray
    start_state: np.ndarray
    final_state: np.ndarray
    days: np.ndarray
    spinup_days: int
    snapshots: np.ndarray


@njit(parallel=True, cache=True, fastmath=set(KERNEL_FASTMATH), error_model="numpy")
def _forward_block(parameters, static, met_cell, t_air, shortwave, longwave, precipitation,
                   vpd, pressure, co2, day_of_year, utc_hour, spinup_hours, spinup_cycles,
                   initial_state, sample_pointer, sample_hours, daily, snapshots,
                   start_state, final_state):
    n_tile = parameters.shape[0]
    n_hour = day_of_year.shape[0]
    sin_dec = np.empty(n_hour)
    cos_dec = np.empty(n_hour)
    eot = np.empty(n_hour)
    distance = np.empty(n_hour)
    solar_calendar(day_of_year, sin_dec, cos_dec, eot, distance)
    for tile in prange(n_tile):
        state = initial_state[tile].copy()
        diag = np.zeros(N_DIAG)
        tape = np.empty(N_TAPE)  # the record of each hour, for the adjoint only
        params = parameters[tile]
        tile_static = static[tile]
        derived = np.empty(N_DERIVED)
        tile_constants(params, tile_static, derived)
        m = met_cell[tile]
        for _ in range(spinup_cycles):
            for h in range(spinup_hours):
                tile_hour(state, params, tile_static, derived, t_air[m, h], shortwave[m, h],
                          longwave[m, h], precipitation[m, h], vpd[m, h], pressure[m, h],
                          co2[m, h], day_of_year[h], utc_hour[h], sin_dec[h], cos_dec[h],
                          eot[h], distance[h], diag, tape)
            for c in range(N_CARBON):
                state[c] = initial_state[tile, c]
        start_state[tile] = state
        out = daily[tile]
        par_sum = 0.0
        next_sample = sample_pointer[tile]
        last_sample = sample_pointer[tile + 1]
        for h in range(n_hour):
            tile_hour(state, params, tile_static, derived, t_air[m, h], shortwave[m, h],
                      longwave[m, h], precipitation[m, h], vpd[m, h], pressure[m, h],
                      co2[m, h], day_of_year[h], utc_hour[h], sin_dec[h], cos_dec[h],
                      eot[h], distance[h], diag, tape)
            if next_sample < last_sample and sample_hours[next_sample] == h:
                snapshots[next_sample, :N_STATE] = state
                snapshots[next_sample, N_STATE:] = diag
                next_sample += 1
            row = out[h // 24]
            row[O_GPP] += diag[D_GPP]
            row[O_RA] += diag[D_RA]
            row[O_RH] += diag[D_RH]
            row[O_NEE] += diag[D_NEE]
            row[O_TRANSPIRATION] += diag[D_TRANSPIRATION]
            row[O_SOIL_EVAPORATION] += diag[D_SOIL_EVAPORATION]
            row[O_INTERCEPTION_EVAPORATION] += diag[D_INTERCEPTION_EVAPORATION]
            row[O_SUBLIMATION] += diag[D_SUBLIMATION]
            row[O_RUNOFF] += diag[D_RUNOFF]
            row[O_PRECIPITATION] += diag[D_PRECIPITATION]
            row[O_SNOWMELT] += diag[D_MELT]
            row[O_SM] += diag[D_SM_SURFACE]
            row[O_LAI] += diag[D_LAI]
            row[O_FAPAR] += diag[D_APAR]
            row[O_FPASM] += diag[D_FPASM]
            row[O_T_CANOPY] += diag[D_T_CANOPY]
            par_sum += diag[D_PAR]
            if h % 24 == 23:
                for o in (O_GPP, O_RA, O_RH, O_NEE, O_SM, O_LAI, O_FPASM, O_T_CANOPY):
                    row[o] /= 24.0
                row[O_ET] = (row[O_TRANSPIRATION] + row[O_SOIL_EVAPORATION]
                             + row[O_INTERCEPTION_EVAPORATION] + row[O_SUBLIMATION])
                row[O_FAPAR] = row[O_FAPAR] / par_sum if par_sum > 0.0 else 0.0
                par_sum = 0.0
                row[O_SNOW] = state[S_SNOW]
                row[O_CANOPY_WATER] = state[S_W_CANOPY]
                row[O_W_SURFACE] = state[S_W_SURFACE]
                row[O_W_ROOT] = state[S_W_ROOT]
                for c in range(N_CARBON):
                    row[O_C_LABILE + c] = state[c]
        final_state[tile] = state


def hourly_calendar(forcing: Forcing) -> tuple[np.ndarray, np.ndarray]:
    """Fractional day of year at the middle of every hour (1.02 at 00:30 UTC on 1 January)
    and the UTC hour at its start."""
    times = forcing.times
    days = times.astype("datetime64[D]")
    years = times.astype("datetime64[Y]")
    day_of_year = (days - years.astype("datetime64[D]")).astype(np.float64) + 1.0
    utc_hour = (times - days).astype("timedelta64[h]").astype(np.float64)
    return day_of_year + (utc_hour + 0.5) / 24.0, utc_hour


def spinup_hours(forcing: Forcing, spinup: SpinUp) -> int:
    """Hours in the first ``spinup.years`` calendar years of the forcing (at most all)."""
    start = np.datetime64(forcing.start, "h")
    end = (start.astype("datetime64[Y]") + np.timedelta64(spinup.years, "Y")).astype(
        "datetime64[h]")
    return int(min(max((end - start).astype(np.int64), 0), forcing.n_hour))


def initial_state(tiles: Tiles, parameters: np.ndarray, forcing: Forcing) -> np.ndarray:
    """State at the start of the spin-up: carbon pools from the ``*_init`` parameters,
    soil layers at field capacity, no snow or intercepted water, root-zone temperature at
    the mean air temperature of the first year of the tile's meteorology cell."""
    state = np.zeros((tiles.n_tile, N_STATE))
    state[:, S_C_LAB] = parameters[:, P_C_LABILE_INIT]
    state[:, S_C_FOL] = parameters[:, P_C_FOLIAGE_INIT]
    state[:, S_C_ROOT] = parameters[:, P_C_ROOT_INIT]
    state[:, S_C_WOOD] = parameters[:, P_C_WOOD_INIT]
    state[:, S_C_LIT] = parameters[:, P_C_LITTER_INIT]
    state[:, S_C_SOM] = parameters[:, P_C_SOM_INIT]
    derived = np.empty(N_DERIVED)
    for i in range(tiles.n_tile):
        tile_constants(parameters[i], tiles.static[i], derived)
        state[i, S_W_SURFACE] = derived[V_SURFACE_FIELD_CAPACITY]
        state[i, S_W_ROOT] = derived[V_ROOT_CAPACITY]
    state[:, S_W_CANOPY] = 0.0
    state[:, S_SNOW] = 0.0
    state[:, S_SNOW_DENSITY] = 100.0
    state[:, S_SNOW_ALBEDO] = 0.85
    first_year = forcing.air_temperature[:, : min(forcing.n_hour, 8760)].mean(axis=1)
    state[:, S_T_SOIL] = first_year[tiles.met_cell] - T_ZERO
    return state


def run_forward(tiles: Tiles, parameters: np.ndarray, forcing: Forcing,
                spinup: SpinUp | None = None, threads: int | None = None,
                samples: Samples | None = None) -> ForwardResult:
    """Run D&B for all tiles over the forcing period.

    Parameters
    ----------
    tiles : the tiles of the block.
    parameters : float64 (n_tile, N_PARAMETER) per-tile parameters (columns of
        :data:`tccas.model.parameters.PARAMETER_NAMES`).
    forcing : hourly forcing starting at 00 UTC and covering whole days.
    spinup : spin-up window and recycling (default two years, one cycle).
    threads : Numba threads for the tile loop (default: Numba's setting).
    samples : hours at which to record snapshots for the observation operators.
    """
    spinup = SpinUp() if spinup is None else spinup
    parameters = np.ascontiguousarray(parameters, dtype=np.float64)
    if parameters.shape != (tiles.n_tile, N_PARAMETER):
        raise TccasInputError(
            f"parameters have shape {parameters.shape}, expected ({tiles.n_tile}, {N_PARAMETER})")
    if not np.all(np.isfinite(parameters)):
        raise TccasInputError("parameters contain non-finite values")
    if forcing.n_hour % 24 != 0 or np.datetime64(forcing.start, "h") != np.datetime64(
            forcing.start, "D"):
        raise TccasInputError(
            f"forcing must start at 00 UTC and cover whole days; it starts at {forcing.start} "
            f"with {forcing.n_hour} hours")
    if tiles.met_cell.max() >= forcing.n_met:
        raise TccasInputError(
            f"tiles refer to meteorology cell {tiles.met_cell.max()}, the forcing has "
            f"{forcing.n_met}")
    samples = Samples.none(tiles.n_tile) if samples is None else samples
    samples.validate(tiles.n_tile, forcing.n_hour)
    day_of_year, utc_hour = hourly_calendar(forcing)
    n_day = forcing.n_hour // 24
    state0 = initial_state(tiles, parameters, forcing)
    daily = np.zeros((tiles.n_tile, n_day, N_OUTPUT))
    snapshots = np.zeros((samples.hours.size, N_SNAPSHOT))
    start_state = np.empty_like(state0)
    final_state = np.empty_like(state0)
    n_spin = spinup_hours(forcing, spinup)
    previous_threads = numba.get_num_threads()
    if threads is not None:
        numba.set_num_threads(threads)
    try:
        _forward_block(parameters, tiles.static, tiles.met_cell, forcing.air_temperature,
                       forcing.shortwave_down, forcing.longwave_down, forcing.precipitation,
                       forcing.vapour_pressure_deficit, forcing.surface_pressure, forcing.co2,
                       day_of_year, utc_hour, n_spin, spinup.cycles, state0,
                       samples.pointer, samples.hours, daily, snapshots, start_state,
                       final_state)
    finally:
        numba.set_num_threads(previous_threads)
    days = np.datetime64(forcing.start, "D") + np.arange(n_day).astype("timedelta64[D]")
    check_finite(daily, tiles, days)
    return ForwardResult(daily=daily, start_state=start_state, final_state=final_state,
                         days=days, spinup_days=n_spin // 24, snapshots=snapshots)


def check_finite(daily: np.ndarray, tiles: Tiles, days: np.ndarray) -> None:
    """Raise :class:`NonFiniteModelError` naming the first tile, PFT, day and variable
    whose daily output is NaN or infinite."""
    bad = ~np.isfinite(daily)
    if not bad.any():
        return
    tile, day, variable = (int(i[0]) for i in np.nonzero(bad))
    raise NonFiniteModelError(
        f"model output '{OUTPUT_NAMES[variable]}' is {daily[tile, day, variable]} for tile "
        f"{tile} (PFT {PFTS[tiles.pft[tile] - 1].short}, cell {tiles.cell[tile]}) on "
        f"{days[day]}; check the tile's parameters and forcing")
