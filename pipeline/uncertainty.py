"""Posterior uncertainty at the optimum and its propagation to target quantities
(ARCHITECTURE.md section 7; SCIENCE.md, assimilation).

The Jacobian H of all simulated observations with respect to z comes from tangent-linear
runs of every block in all control directions at once (in chunks of directions to bound
memory), through the same footprint operators as the cost. With R the diagonal of total
observation variances,

    A_z = (I + H' R^-1 H)^-1,       A = D A_z D,   D = diag(dx/dz) at the optimum,

(Rayner et al. 2005, doi:10.1029/2004GB002254; Kaminski et al. 2012,
doi:10.1029/2011JG001906). The uncertainty reduction of an element is
1 - sqrt((A_z)_ii): 1 - sigma_post/sigma_prior measured in whitened space, i.e. in
relative terms for the log-normal elements; it is never negative. In physical units a
log-normal element's sigma_post = s x_post sqrt((A_z)_ii) is linearised at the posterior
value and sigma_prior = s x0 at the prior value, so sigma_post can exceed sigma_prior where
the data move the element up (x_post > x0) while its relative uncertainty falls. A target
quantity t gets sigma_t^2 = g' A_z g with g = dt/dz from the same tangent runs (prior: g'g).

Targets (area-weighted over the tiles of each PFT and of the whole region, tile area =
cover fraction x cell area): mean GPP, NEE and ET over the assimilation window
[gC m-2 d-1, gC m-2 d-1, mm d-1], and total carbon (the six DALEC pools) at the start and
the end of the window [gC m-2].

Information content (SCIENCE.md): every stream left out in turn reuses the same Jacobian
rows; nothing is run again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.linalg

from tccas.model.driver import run_forward
from tccas.model.outputs import OUTPUT_NAMES
from tccas.model.parameters import N_PARAMETER, PFTS
from tccas.model.tangent import run_tangent
from tccas.operators.observe import (
    PartialSums,
    complete_tangent,
    partial_sums,
    partial_sums_tangent,
)
from tccas.pipeline.control import KIND_MODEL, KIND_OPERATOR, ControlSpace
from tccas.pipeline.cost import (
    BlockProblem,
    CostFunction,
    reduce_streams,
    sampled_observations,
)

FLUX_TARGETS = ("gpp", "nee", "et")
POOLS = ("c_labile", "c_foliage", "c_root", "c_wood", "c_litter", "c_som")
TARGET_OUTPUTS = FLUX_TARGETS + POOLS
TARGET_UNITS = {"gpp": "gC m-2 d-1", "nee": "gC m-2 d-1", "et": "mm d-1",
                "carbon_start": "gC m-2", "carbon_end": "gC m-2"}
#: Directions per tangent run: bounds the daily tangent array to n_tile x n_day x 9 x 16.
DIRECTION_CHUNK = 16


def target_names(pft_codes: Sequence[int]) -> list[str]:
    """Names ``<quantity>.<PFT>`` and ``<quantity>.total`` of the target quantities."""
    groups = [PFTS[code - 1].short for code in sorted(set(pft_codes))] + ["total"]
    return [f"{quantity}.{group}" for quantity in TARGET_UNITS for group in groups]


@dataclass(frozen=True)
class BlockJacobian:
    """A block's share of the Jacobian: per stream the partial sums and their tangents
    (n_obs_block, n); per target the area-weighted sum, the area and the tangent (n,)."""

    partials: tuple[PartialSums, ...]
    sums_d: tuple[np.ndarray, ...]
    target_sums: np.ndarray
    target_areas: np.ndarray
    target_d: np.ndarray


def _parameter_directions(space: ControlSpace, problem: BlockProblem,
                          elements: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-tile parameter and operator directions of unit steps in x for ``elements``."""
    tiles = problem.tiles
    directions = np.zeros((tiles.n_tile, N_PARAMETER, elements.size))
    operator_d = np.zeros((len(space.operator_parameters(space.x0)), elements.size))
    for k, element in enumerate(elements):
        if space.kind[element] == KIND_OPERATOR:
            operator_d[space.column[element], k] = 1.0
        else:
            target = space.tiles_of(element, tiles.pft, problem.tile_ids)
            directions[target, space.column[element], k] = 1.0
    return directions, operator_d


def block_jacobian(problem: BlockProblem, space: ControlSpace, x: np.ndarray,
                   window_start_day: int, all_pfts: Sequence[int],
                   threads: int | None = 1) -> BlockJacobian:
    """Tangent runs of one block in every control direction (a Dask task)."""
    parameters = space.tile_parameters(x, problem.tiles.pft, problem.tile_ids)
    operators = space.operator_parameters(x)
    sampled = sampled_observations(problem)
    forward = run_forward(problem.tiles, parameters, problem.forcing, problem.spinup,
                          threads=threads, samples=sampled.samples)
    partials = tuple(partial_sums(sampled, forward.snapshots, operators))
    columns = [OUTPUT_NAMES.index(name) for name in TARGET_OUTPUTS]
    daily = forward.daily[:, :, columns]
    n = space.n
    sums_d = [np.zeros((obs.n_obs, n)) for obs in problem.observations]
    daily_d = np.zeros((problem.tiles.n_tile, daily.shape[1], len(columns), n))
    model_elements = np.flatnonzero(space.kind == KIND_MODEL)
    for first in range(0, n, DIRECTION_CHUNK):
        elements = np.arange(first, min(first + DIRECTION_CHUNK, n))
        directions, operator_d = _parameter_directions(space, problem, elements)
        if np.isin(elements, model_elements).any():
            tangent = run_tangent(problem.tiles, parameters, problem.forcing, directions,
                                  problem.spinup, samples=sampled.samples,
                                  outputs=TARGET_OUTPUTS, threads=threads)
            snapshots_d, chunk_daily_d = tangent.snapshots_d, tangent.daily_d
        else:
            snapshots_d = np.zeros((*forward.snapshots.shape, elements.size))
            chunk_daily_d = np.zeros((*daily.shape, elements.size))
        for k, part in enumerate(partial_sums_tangent(sampled, forward.snapshots, operators,
                                                      snapshots_d, operator_d)):
            sums_d[k][:, elements] = part
        daily_d[..., elements] = chunk_daily_d
    sums, areas, tangents = _block_targets(problem, daily, daily_d, window_start_day,
                                           all_pfts)
    return BlockJacobian(partials=partials, sums_d=tuple(sums_d), target_sums=sums,
                         target_areas=areas, target_d=tangents)


def _block_targets(problem: BlockProblem, daily: np.ndarray, daily_d: np.ndarray,
                   window_start_day: int, all_pfts: Sequence[int]
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Area-weighted sums over the block's tiles of each target (values and tangents)."""
    window = slice(window_start_day, None)
    n_flux = len(FLUX_TARGETS)
    per_tile = [daily[:, window, i].mean(axis=1) for i in range(n_flux)]
    per_tile_d = [daily_d[:, window, i, :].mean(axis=1) for i in range(n_flux)]
    carbon = daily[:, :, n_flux:].sum(axis=2)
    carbon_d = daily_d[:, :, n_flux:, :].sum(axis=2)
    per_tile += [carbon[:, window_start_day], carbon[:, -1]]
    per_tile_d += [carbon_d[:, window_start_day, :], carbon_d[:, -1, :]]
    area = problem.tile_area
    groups = [np.asarray(problem.tiles.pft) == code for code in sorted(set(all_pfts))]
    groups.append(np.ones(problem.tiles.n_tile, dtype=bool))
    sums, areas, tangents = [], [], []
    for values, values_d in zip(per_tile, per_tile_d, strict=True):
        for members in groups:
            sums.append(float(area[members] @ values[members]))
            areas.append(float(area[members].sum()))
            tangents.append(area[members] @ values_d[members])
    return np.array(sums), np.array(areas), np.array(tangents)


@dataclass(frozen=True)
class Jacobian:
    """The Jacobian at z: per stream H_z (n_obs, n) with the streams' total sigmas, and
    the targets' values and gradients g_z (n_target, n)."""

    z: np.ndarray
    streams: tuple[str, ...]
    h: tuple[np.ndarray, ...]
    sigma: tuple[np.ndarray, ...]
    target_names: tuple[str, ...]
    target_values: np.ndarray
    target_gradients: np.ndarray


def jacobian(cost: CostFunction, z: np.ndarray, window_start_day: int) -> Jacobian:
    """Tangent runs of every block (in this process or on the cost's cluster) and their
    reduction to H_z and the target gradients."""
    space = cost.space
    x = space.x_from_z(z)
    all_pfts = sorted({int(code) for code in cost.pft_codes})
    if cost.client is None:
        blocks = [block_jacobian(p, space, x, window_start_day, all_pfts, cost.threads)
                  for p in cost.problems]
    else:
        blocks = cost.client.gather([
            cost.client.submit(block_jacobian, p, space, x, window_start_day, all_pfts, 1)
            for p in cost.problems])
    reduced = reduce_streams(cost.streams, cost.observation_ids,
                             [b.partials for b in blocks])
    dx_dz = space.dx_dz(z)
    h = []
    for k, part in enumerate(reduced):
        sums_d = np.zeros((cost.streams[k].n_obs, space.n))
        for ids, block in zip(cost.observation_ids, blocks, strict=True):
            np.add.at(sums_d, ids[k], block.sums_d[k])
        h.append(complete_tangent(part, sums_d) * dx_dz)
    sums = np.sum([b.target_sums for b in blocks], axis=0)
    areas = np.sum([b.target_areas for b in blocks], axis=0)
    gradients = np.sum([b.target_d for b in blocks], axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        values = sums / areas
        gradients = gradients / areas[:, None] * dx_dz
    return Jacobian(z=np.asarray(z), streams=tuple(s.name for s in cost.streams),
                    h=tuple(h), sigma=tuple(s.sigma for s in cost.streams),
                    target_names=tuple(target_names(all_pfts)), target_values=values,
                    target_gradients=gradients)


def posterior_covariance_z(jac: Jacobian, include: Sequence[str] | None = None
                           ) -> np.ndarray:
    """A_z = (I + sum over the included streams of H' R^-1 H)^-1 (all streams by
    default), through a Cholesky factorisation of the symmetric positive-definite
    Hessian."""
    chosen = jac.streams if include is None else tuple(include)
    hessian = np.eye(jac.z.size)
    for name, h, sigma in zip(jac.streams, jac.h, jac.sigma, strict=True):
        if name in chosen:
            weighted = h / sigma[:, None]
            hessian += weighted.T @ weighted
    factor = scipy.linalg.cho_factor(hessian)
    return scipy.linalg.cho_solve(factor, np.eye(jac.z.size))


@dataclass(frozen=True)
class Uncertainty:
    """Posterior statistics of one experiment (all streams, or some left out)."""

    a_z: np.ndarray
    a_x: np.ndarray
    sigma_prior: np.ndarray
    sigma_post: np.ndarray
    reduction: np.ndarray
    correlation: np.ndarray
    target_sigma_prior: np.ndarray
    target_sigma_post: np.ndarray


def uncertainty(space: ControlSpace, jac: Jacobian,
                include: Sequence[str] | None = None) -> Uncertainty:
    """Posterior covariance, sigmas, correlations, reductions and target sigmas."""
    a_z = posterior_covariance_z(jac, include)
    d = space.dx_dz(jac.z)
    a_x = a_z * np.outer(d, d)
    sd_z = np.sqrt(np.diag(a_z))
    g = jac.target_gradients
    return Uncertainty(
        a_z=a_z, a_x=a_x, sigma_prior=space.sigma_prior, sigma_post=d * sd_z,
        reduction=1.0 - sd_z, correlation=a_z / np.outer(sd_z, sd_z),
        target_sigma_prior=np.sqrt(np.einsum("ti,ti->t", g, g)),
        target_sigma_post=np.sqrt(np.einsum("ti,ij,tj->t", g, a_z, g)))
