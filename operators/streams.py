"""Registry of observation streams: how each is simulated from a tile snapshot, its
units, its footprint mixing rule and, for daily equivalents, its overpass time.

A snapshot (``tccas.model.driver.Samples``) is the tile's state after the observation hour
followed by that hour's diagnostics (``tccas.model.layout``). Adding a stream means adding
an entry here with its tile operator.

Overpass times are local solar times (longitude / 15 h from UTC): TROPOMI ascending near
13:30 (EO_FORMATS 1.3), SMOS ascending near 06:00 (EO_FORMATS 2.1), FAPAR at local noon
(the JRC-TIP and Sentinel-3 products describe daytime conditions).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit

from tccas.model.kernels import KERNEL_FASTMATH
from tccas.model.kernels.radiation import background_par_albedo
from tccas.model.layout import (
    D_ALBEDO_BG,
    D_ELECTRON_TRANSPORT_1,
    D_ELECTRON_TRANSPORT_2,
    D_ELECTRON_TRANSPORT_3,
    D_F_DIR,
    D_GPP,
    D_LAI,
    D_MU,
    D_NEE,
    D_PLANT_WATER_STATUS,
    D_SM_SURFACE,
    D_SOIL_WATER_INDEX,
    D_T_AIR,
    N_STATE,
    S_C_FOL,
    S_C_WOOD,
)
from tccas.model.parameters import OPERATOR_PARAMETERS
from tccas.operators.fapar import fapar_tip, fapar_two_stream
from tccas.operators.insitu import above_ground_biomass
from tccas.operators.sif import sif743
from tccas.operators.vod import vod

OPERATOR_INDEX = {p.name: i for i, p in enumerate(OPERATOR_PARAMETERS)}
I_L_WD = OPERATOR_INDEX["vod_l_wd"]
I_L_S = OPERATOR_INDEX["vod_l_s"]
I_L_FOL = OPERATOR_INDEX["vod_l_fol"]
I_L_F = OPERATOR_INDEX["vod_l_f"]
I_L_0 = OPERATOR_INDEX["vod_l_0"]
I_SIF_SCALE = OPERATOR_INDEX["sif_scale"]

Evaluate = Callable[[np.ndarray, np.ndarray], np.ndarray]


def operator_prior() -> np.ndarray:
    """Prior values of the global operator parameters (table order)."""
    return np.array([p.prior for p in OPERATOR_PARAMETERS])


@njit(cache=True, fastmath=set(KERNEL_FASTMATH))
def _sif743(snapshots, operator_parameters):
    out = np.empty(snapshots.shape[0])
    for i in range(snapshots.shape[0]):
        d = snapshots[i, N_STATE:]
        out[i] = sif743(d[D_ELECTRON_TRANSPORT_1], d[D_ELECTRON_TRANSPORT_2],
                        d[D_ELECTRON_TRANSPORT_3], d[D_LAI], operator_parameters[I_SIF_SCALE])
    return out


@njit(cache=True, fastmath=set(KERNEL_FASTMATH))
def _vod(snapshots, operator_parameters):
    out = np.empty(snapshots.shape[0])
    p = operator_parameters
    for i in range(snapshots.shape[0]):
        s = snapshots[i]
        d = snapshots[i, N_STATE:]
        out[i] = vod(s[S_C_WOOD], s[S_C_FOL], d[D_SOIL_WATER_INDEX], d[D_PLANT_WATER_STATUS],
                     d[D_T_AIR], p[I_L_WD], p[I_L_FOL], p[I_L_S], p[I_L_F], p[I_L_0])
    return out


@njit(cache=True, fastmath=set(KERNEL_FASTMATH))
def _fapar_tip(snapshots, operator_parameters):
    out = np.empty(snapshots.shape[0])
    for i in range(snapshots.shape[0]):
        d = snapshots[i, N_STATE:]
        out[i] = fapar_tip(d[D_LAI], background_par_albedo(d[D_ALBEDO_BG]))
    return out


@njit(cache=True, fastmath=set(KERNEL_FASTMATH))
def _fapar(snapshots, operator_parameters):
    out = np.empty(snapshots.shape[0])
    for i in range(snapshots.shape[0]):
        d = snapshots[i, N_STATE:]
        out[i] = fapar_two_stream(d[D_LAI], d[D_ALBEDO_BG], d[D_MU], d[D_F_DIR])
    return out


@njit(cache=True, fastmath=set(KERNEL_FASTMATH))
def _agb(snapshots, operator_parameters):
    out = np.empty(snapshots.shape[0])
    for i in range(snapshots.shape[0]):
        out[i] = above_ground_biomass(snapshots[i, S_C_WOOD], snapshots[i, S_C_FOL])
    return out


def _diagnostic(index: int) -> Evaluate:
    def evaluate(snapshots: np.ndarray, operator_parameters: np.ndarray) -> np.ndarray:
        return snapshots[:, N_STATE + index].copy()

    return evaluate


@dataclass(frozen=True)
class Stream:
    """An observation stream: name, units, long name, mixing rule ("linear" or
    "transmissivity"), local solar overpass hour of its daily equivalent (None: not a
    daily-overpass product) and the tile operator on snapshots."""

    name: str
    units: str
    long_name: str
    mixing: str
    overpass_local_hour: float | None
    evaluate: Evaluate


STREAMS: dict[str, Stream] = {
    s.name: s
    for s in (
        Stream("sif743", "mW m-2 sr-1 nm-1", "solar-induced fluorescence at 743 nm (TROPOMI)",
               "linear", 13.5, _sif743),
        Stream("vod", "1", "L-band vegetation optical depth (SMOS)", "transmissivity", 6.0,
               _vod),
        Stream("sm_surface", "m3 m-3", "surface soil moisture (SMOS)", "linear", 6.0,
               _diagnostic(D_SM_SURFACE)),
        Stream("fapar", "1", "FAPAR, model two-stream (optical)", "linear", 12.0, _fapar),
        Stream("fapar_tip", "1", "FAPAR, JRC-TIP-consistent", "linear", 12.0, _fapar_tip),
        Stream("nee", "gC m-2 d-1", "net ecosystem exchange (tower)", "linear", None,
               _diagnostic(D_NEE)),
        Stream("gpp", "gC m-2 d-1", "gross primary production (tower)", "linear", None,
               _diagnostic(D_GPP)),
        Stream("agb", "Mg ha-1", "above-ground biomass, dry matter", "linear", None, _agb),
    )
}

DAILY_EQUIVALENTS = ("sif743", "vod", "sm_surface", "fapar")


def overpass_hours(longitude: float, local_hour: float, n_day: int) -> np.ndarray:
    """Indices of the hours (from 00 UTC of day 0) that contain local solar time
    ``local_hour`` on each of ``n_day`` days."""
    utc = (local_hour - longitude / 15.0) % 24.0
    return np.arange(n_day, dtype=np.int64) * 24 + int(np.floor(utc))
