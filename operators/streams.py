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
from tccas.model.kernels.radiation import background_par_albedo, background_par_albedo_ad
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
from tccas.operators.fapar import fapar_tip, fapar_tip_ad, fapar_two_stream, fapar_two_stream_ad
from tccas.operators.insitu import above_ground_biomass
from tccas.operators.sif import sif743, sif743_ad
from tccas.operators.vod import vod, vod_ad

OPERATOR_INDEX = {p.name: i for i, p in enumerate(OPERATOR_PARAMETERS)}
I_L_WD = OPERATOR_INDEX["vod_l_wd"]
I_L_S = OPERATOR_INDEX["vod_l_s"]
I_L_FOL = OPERATOR_INDEX["vod_l_fol"]
I_L_F = OPERATOR_INDEX["vod_l_f"]
I_L_0 = OPERATOR_INDEX["vod_l_0"]
I_SIF_SCALE = OPERATOR_INDEX["sif_scale"]

def operator_prior() -> np.ndarray:
    """Prior values of the global operator parameters (table order)."""
    return np.array([p.prior for p in OPERATOR_PARAMETERS])


# Tile operators on snapshots. Each fills, for every snapshot row, the operator value and
# its partial derivatives with respect to the stream's snapshot inputs (``d_snapshot``,
# columns in the order of ``Stream.inputs``) and operator parameters (``d_operator``, in
# the order of ``Stream.operator_inputs``). The partials come from the kernels' own
# adjoints seeded with 1 (each operator is scalar-valued), so the stream tangent and
# adjoint below inherit their verification. Air temperature, the solar zenith cosine and
# the direct fraction are forcing, not controlled: they have no partials.


@njit(cache=True, fastmath=set(KERNEL_FASTMATH))
def _sif743(snapshots, operator_parameters, d_snapshot, d_operator):
    out = np.empty(snapshots.shape[0])
    scale = operator_parameters[I_SIF_SCALE]
    for i in range(snapshots.shape[0]):
        d = snapshots[i, N_STATE:]
        j1, j2, j3, lai = (d[D_ELECTRON_TRANSPORT_1], d[D_ELECTRON_TRANSPORT_2],
                           d[D_ELECTRON_TRANSPORT_3], d[D_LAI])
        out[i] = sif743(j1, j2, j3, lai, scale)
        (d_snapshot[i, 0], d_snapshot[i, 1], d_snapshot[i, 2], d_snapshot[i, 3],
         d_operator[i, 0]) = sif743_ad(j1, j2, j3, lai, scale, 1.0)
    return out


@njit(cache=True, fastmath=set(KERNEL_FASTMATH))
def _vod(snapshots, operator_parameters, d_snapshot, d_operator):
    out = np.empty(snapshots.shape[0])
    p = operator_parameters
    for i in range(snapshots.shape[0]):
        s = snapshots[i]
        d = snapshots[i, N_STATE:]
        args = (s[S_C_WOOD], s[S_C_FOL], d[D_SOIL_WATER_INDEX], d[D_PLANT_WATER_STATUS],
                d[D_T_AIR], p[I_L_WD], p[I_L_FOL], p[I_L_S], p[I_L_F], p[I_L_0])
        out[i] = vod(*args)
        (d_snapshot[i, 0], d_snapshot[i, 1], d_snapshot[i, 2], d_snapshot[i, 3],
         d_operator[i, 0], d_operator[i, 1], d_operator[i, 2], d_operator[i, 3],
         d_operator[i, 4]) = vod_ad(*args, 1.0)
    return out


@njit(cache=True, fastmath=set(KERNEL_FASTMATH))
def _fapar_tip(snapshots, operator_parameters, d_snapshot, d_operator):
    out = np.empty(snapshots.shape[0])
    for i in range(snapshots.shape[0]):
        d = snapshots[i, N_STATE:]
        background = background_par_albedo(d[D_ALBEDO_BG])
        out[i] = fapar_tip(d[D_LAI], background)
        d_snapshot[i, 0], background_b = fapar_tip_ad(d[D_LAI], background, 1.0)
        d_snapshot[i, 1] = background_par_albedo_ad(d[D_ALBEDO_BG], background_b)
    return out


@njit(cache=True, fastmath=set(KERNEL_FASTMATH))
def _fapar(snapshots, operator_parameters, d_snapshot, d_operator):
    out = np.empty(snapshots.shape[0])
    for i in range(snapshots.shape[0]):
        d = snapshots[i, N_STATE:]
        out[i] = fapar_two_stream(d[D_LAI], d[D_ALBEDO_BG], d[D_MU], d[D_F_DIR])
        d_snapshot[i, 0], d_snapshot[i, 1] = fapar_two_stream_ad(
            d[D_LAI], d[D_ALBEDO_BG], d[D_MU], d[D_F_DIR], 1.0)
    return out


@njit(cache=True, fastmath=set(KERNEL_FASTMATH))
def _agb(snapshots, operator_parameters, d_snapshot, d_operator):
    out = np.empty(snapshots.shape[0])
    per_wood = above_ground_biomass(1.0, 0.0)     # the operator is linear
    per_foliage = above_ground_biomass(0.0, 1.0)
    for i in range(snapshots.shape[0]):
        out[i] = above_ground_biomass(snapshots[i, S_C_WOOD], snapshots[i, S_C_FOL])
        d_snapshot[i, 0] = per_wood
        d_snapshot[i, 1] = per_foliage
    return out


def _identity(snapshots: np.ndarray, operator_parameters: np.ndarray,
              d_snapshot: np.ndarray, d_operator: np.ndarray) -> np.ndarray:
    """Streams that are one snapshot entry (their single input)."""
    d_snapshot[:, 0] = 1.0
    return snapshots[:, 0].copy()


@dataclass(frozen=True)
class Stream:
    """An observation stream and its tile operator.

    Attributes
    ----------
    name, units, long_name : the stream and the units of its values.
    mixing : footprint mixing rule, "linear" or "transmissivity" (:mod:`mixing`).
    overpass_local_hour : local solar hour of its daily equivalent (None: not a daily
        overpass product).
    inputs : snapshot columns the operator reads and is differentiable in.
    operator_inputs : indices of the global operator parameters it uses.
    kernel : ``kernel(snapshots, operator_parameters, d_snapshot, d_operator) -> values``,
        filling the partial derivatives (see above); identity streams get the snapshot
        restricted to their one input column.
    non_vegetated : the stream's value over ground without vegetation tiles (bare soil,
        rock, water, urban, and PFT cover below the tile cut-off), which a footprint mixes
        in with its share of such ground; None: the footprint is simulated from its
        vegetated part only. PROPOSED: 0 for SIF, FAPAR, fluxes and biomass (no
        vegetation); 0 optical depth for L-VOD (transmissivity 1); None for surface soil
        moisture, whose bare-soil value the model does not simulate.
    """

    name: str
    units: str
    long_name: str
    mixing: str
    overpass_local_hour: float | None
    inputs: tuple[int, ...]
    operator_inputs: tuple[int, ...]
    kernel: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    non_vegetated: float | None = 0.0

    def partials(self, snapshots: np.ndarray, operator_parameters: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(values (n,), d values / d snapshot inputs (n, len(inputs)), d values / d
        operator inputs (n, len(operator_inputs))) for snapshots (n, N_SNAPSHOT)."""
        snapshots = np.ascontiguousarray(snapshots, dtype=np.float64)
        n = snapshots.shape[0]
        d_snapshot = np.zeros((n, len(self.inputs)))
        d_operator = np.zeros((n, len(self.operator_inputs)))
        rows = snapshots[:, list(self.inputs)] if self.kernel is _identity else snapshots
        values = self.kernel(np.ascontiguousarray(rows), np.asarray(operator_parameters,
                                                                    dtype=np.float64),
                             d_snapshot, d_operator)
        return values, d_snapshot, d_operator

    def evaluate(self, snapshots: np.ndarray, operator_parameters: np.ndarray) -> np.ndarray:
        """The operator on every snapshot row [units]."""
        return self.partials(snapshots, operator_parameters)[0]

    def tangent(self, snapshots: np.ndarray, operator_parameters: np.ndarray,
                snapshots_d: np.ndarray, operator_d: np.ndarray) -> np.ndarray:
        """Tangent (n, k) for snapshot directions (n, N_SNAPSHOT, k) and operator-parameter
        directions (n_operator, k)."""
        _, d_snapshot, d_operator = self.partials(snapshots, operator_parameters)
        out = np.einsum("ni,nik->nk", d_snapshot, snapshots_d[:, list(self.inputs), :])
        if self.operator_inputs:
            out += d_operator @ operator_d[list(self.operator_inputs), :]
        return out

    def adjoint(self, snapshots: np.ndarray, operator_parameters: np.ndarray,
                values_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Adjoint of :meth:`evaluate`: (snapshots_b (n, N_SNAPSHOT), operator_b
        (n_operator,)) for the value adjoints ``values_b`` (n,)."""
        _, d_snapshot, d_operator = self.partials(snapshots, operator_parameters)
        snapshots_b = np.zeros(np.shape(snapshots))
        snapshots_b[:, list(self.inputs)] = d_snapshot * values_b[:, None]
        operator_b = np.zeros(len(OPERATOR_PARAMETERS))
        operator_b[list(self.operator_inputs)] = values_b @ d_operator
        return snapshots_b, operator_b


_DIAG = N_STATE
STREAMS: dict[str, Stream] = {
    s.name: s
    for s in (
        Stream("sif743", "mW m-2 sr-1 nm-1", "solar-induced fluorescence at 743 nm (TROPOMI)",
               "linear", 13.5,
               (_DIAG + D_ELECTRON_TRANSPORT_1, _DIAG + D_ELECTRON_TRANSPORT_2,
                _DIAG + D_ELECTRON_TRANSPORT_3, _DIAG + D_LAI), (I_SIF_SCALE,), _sif743),
        Stream("vod", "1", "L-band vegetation optical depth (SMOS)", "transmissivity", 6.0,
               (S_C_WOOD, S_C_FOL, _DIAG + D_SOIL_WATER_INDEX, _DIAG + D_PLANT_WATER_STATUS),
               (I_L_WD, I_L_FOL, I_L_S, I_L_F, I_L_0), _vod),
        Stream("sm_surface", "m3 m-3", "surface soil moisture (SMOS)", "linear", 6.0,
               (_DIAG + D_SM_SURFACE,), (), _identity, non_vegetated=None),
        Stream("fapar", "1", "FAPAR, model two-stream (optical)", "linear", 12.0,
               (_DIAG + D_LAI, _DIAG + D_ALBEDO_BG), (), _fapar),
        Stream("fapar_tip", "1", "FAPAR, JRC-TIP-consistent", "linear", 12.0,
               (_DIAG + D_LAI, _DIAG + D_ALBEDO_BG), (), _fapar_tip),
        Stream("nee", "gC m-2 d-1", "net ecosystem exchange (tower)", "linear", None,
               (_DIAG + D_NEE,), (), _identity),
        Stream("gpp", "gC m-2 d-1", "gross primary production (tower)", "linear", None,
               (_DIAG + D_GPP,), (), _identity),
        Stream("agb", "Mg ha-1", "above-ground biomass, dry matter", "linear", None,
               (S_C_WOOD, S_C_FOL), (), _agb),
    )
}

DAILY_EQUIVALENTS = ("sif743", "vod", "sm_surface", "fapar")


def overpass_hours(longitude: float, local_hour: float, n_day: int) -> np.ndarray:
    """Indices of the hours (from 00 UTC of day 0) that contain local solar time
    ``local_hour`` on each of ``n_day`` days."""
    utc = (local_hour - longitude / 15.0) % 24.0
    return np.arange(n_day, dtype=np.int64) * 24 + int(np.floor(utc))
