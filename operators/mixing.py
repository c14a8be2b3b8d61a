"""Mixing of tile values into one simulated observation per footprint.

A footprint's weights over tiles are area overlap x PFT cover fraction, a sparse matrix W
(n_obs x n_tile) (``tccas.operators.footprint``). Rows are normalised to sum to 1 (a
footprint partly outside the grid is simulated from the part inside).

* linear (cover-weighted mean): FAPAR, SIF, soil moisture, fluxes, biomass: y = W x.
  Tangent W dx, adjoint W' y_bar.
* transmissivity (L-VOD, MODEL_SPEC 6.1): tau = -ln sum_i w_i exp(-tau_i).
  Tangent d tau = sum_i w_i e^(-tau_i) d tau_i / S, adjoint tau_bar_i = w_i e^(-tau_i) /
  S tau_bar, with S = sum_i w_i e^(-tau_i).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from tccas.model.errors import TccasInputError


def normalised(weights: sp.spmatrix) -> sp.csr_matrix:
    """Rows scaled to sum to one; an empty row (footprint outside every tile) is an
    error naming the observation."""
    weights = sp.csr_matrix(weights, dtype=np.float64)
    totals = np.asarray(weights.sum(axis=1)).ravel()
    empty = np.nonzero(totals <= 0.0)[0]
    if empty.size:
        raise TccasInputError(f"footprint of observation {empty[0]} covers no model tile")
    return sp.csr_matrix(sp.diags(1.0 / totals) @ weights)


def mix_linear(weights: sp.spmatrix, values: np.ndarray) -> np.ndarray:
    """Cover-weighted mean of tile values per observation; ``values`` (n_tile,) or
    (n_tile, k) for k tangent directions (the map is linear, so it is its own tangent)."""
    return normalised(weights) @ values


def mix_linear_ad(weights: sp.spmatrix, obs_bar: np.ndarray) -> np.ndarray:
    """Adjoint of :func:`mix_linear`: W' obs_bar (n_tile,)."""
    return normalised(weights).T @ obs_bar


def mix_transmissivity(weights: sp.spmatrix, tau: np.ndarray) -> np.ndarray:
    """Footprint optical depth -ln sum_i w_i exp(-tau_i) [-] from tile optical depths."""
    return -np.log(normalised(weights) @ np.exp(-tau))


def mix_transmissivity_tl(weights: sp.spmatrix, tau: np.ndarray, tau_d: np.ndarray
                          ) -> tuple[np.ndarray, np.ndarray]:
    """(footprint tau, its tangent); ``tau_d`` (n_tile,) or (n_tile, k)."""
    w = normalised(weights)
    transmissivity = np.exp(-tau)
    total = w @ transmissivity
    weighted = w @ (transmissivity[:, None] * tau_d if tau_d.ndim == 2
                    else transmissivity * tau_d)
    scale = total[:, None] if tau_d.ndim == 2 else total
    return -np.log(total), weighted / scale


def mix_transmissivity_ad(weights: sp.spmatrix, tau: np.ndarray, obs_bar: np.ndarray
                          ) -> np.ndarray:
    """Adjoint of :func:`mix_transmissivity`: tau_bar (n_tile,)."""
    w = normalised(weights)
    transmissivity = np.exp(-tau)
    total = w @ transmissivity
    return transmissivity * (w.T @ (obs_bar / total))
