"""The cost function and its adjoint gradient as a map-reduce over blocks of tiles.

J(z) = 1/2 z'z + sum over streams of 1/2 sum_i ((H_i(x(z)) - y_i) / sigma_i)^2 with
sigma_i^2 = sigma_obs,i^2 + sigma_model^2 (MODEL_SPEC 6.1) over the observations of the
assimilation window (spin-up excluded by the caller when it builds the streams).

Evaluation (ARCHITECTURE.md section 6):

1. map over blocks, :func:`block_forward`: the block's parameters from x, a forward run
   recording snapshots at the observation hours, and the block's partial sums of every
   observation it touches (:mod:`tccas.operators.observe`);
2. reduce: sum the partial sums, complete the simulated observations, residuals, J and
   dJ/d(simulated);
3. map over blocks, :func:`block_gradient`: the partial sums' adjoint, then the
   operators' adjoint on the block's snapshots, the model adjoint seeded on those
   snapshots (:func:`tccas.model.adjoint.run_adjoint`), and the control gradient of the
   block; reduce: sum, add the prior term z.

The adjoint phase reuses the snapshots of the forward phase (step 1's result stays where
it was computed: on a Dask worker it is a future consumed by step 3) and recomputes the
model trajectory inside :func:`run_adjoint` from daily checkpoints. Keeping the full
hourly trajectory instead would cost 41 values x 8 bytes per tile-hour (25 MB per tile for
9 years), far beyond what checkpointing needs; recomputing costs one forward run out of
the adjoint's four to five.

Blocks are pure functions of (x, block inputs), so a lost worker's result is recomputed
by Dask from the same inputs and the evaluation does not change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from dask.base import tokenize

from tccas.model.adjoint import run_adjoint
from tccas.model.driver import SpinUp, run_forward
from tccas.model.errors import NonFiniteModelError, TccasInputError
from tccas.model.forcing import Forcing
from tccas.model.tiles import Tiles
from tccas.operators.observe import (
    FootprintObservations,
    PartialSums,
    SampledObservations,
    complete,
    complete_adjoint,
    partial_sums,
    partial_sums_adjoint,
    sample_observations,
)
from tccas.pipeline.control import ControlSpace

if TYPE_CHECKING:
    from distributed import Client


@dataclass(frozen=True)
class BlockProblem:
    """Everything one block needs, independent of x.

    Attributes
    ----------
    index : block number (for messages).
    tiles : the block's tiles.
    tile_ids : (n_tile,) global tile indices (per-tile control elements).
    forcing : hourly forcing of the block's meteorology cells over the whole period.
    spinup : spin-up recycling.
    observations : per assimilated stream, the block's footprint observations.
    observation_ids : per stream, (n_obs,) index of each observation in the stream's
        global table (:class:`StreamData`).
    tile_area : (n_tile,) [m2] ground area of each tile (cover fraction x cell area), the
        weight of the tile in regional means; default the cover fraction (cells of equal
        area).
    """

    index: int
    tiles: Tiles
    tile_ids: np.ndarray
    forcing: Forcing
    spinup: SpinUp
    observations: tuple[FootprintObservations, ...]
    observation_ids: tuple[np.ndarray, ...]
    tile_area: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.tile_area is None:
            object.__setattr__(self, "tile_area", np.asarray(self.tiles.cover_fraction))
        if len(self.observations) != len(self.observation_ids):
            raise TccasInputError(f"block {self.index}: one id array per stream is needed")
        for obs, ids in zip(self.observations, self.observation_ids, strict=True):
            if np.shape(ids) != (obs.n_obs,):
                raise TccasInputError(f"block {self.index}, stream {obs.stream}: "
                                      f"{np.size(ids)} ids for {obs.n_obs} observations")


@dataclass(frozen=True)
class StreamData:
    """One assimilated stream's observations over the whole region: values y and total
    sigmas (sigma_obs and the model error combined) [stream units]."""

    name: str
    value: np.ndarray
    sigma: np.ndarray

    def __post_init__(self) -> None:
        if np.shape(self.value) != np.shape(self.sigma):
            raise TccasInputError(f"stream {self.name}: value and sigma shapes differ")
        if np.any(~np.isfinite(self.value)) or np.any(~(np.asarray(self.sigma) > 0.0)):
            raise TccasInputError(f"stream {self.name}: values must be finite and sigmas > 0")

    @staticmethod
    def combined(name: str, value: np.ndarray, sigma_obs: np.ndarray,
                 sigma_model: float) -> StreamData:
        """Observation and model error combined in quadrature (MODEL_SPEC 6.1)."""
        sigma = np.sqrt(np.asarray(sigma_obs, dtype=np.float64) ** 2 + sigma_model**2)
        return StreamData(name, np.asarray(value, dtype=np.float64), sigma)

    @property
    def n_obs(self) -> int:
        """Number of observations."""
        return int(np.size(self.value))


@dataclass(frozen=True)
class BlockForward:
    """Result of the forward phase of a block: its partial sums (per stream, over the
    block's observations) and what the adjoint phase needs."""

    partials: tuple[PartialSums, ...]
    snapshots: np.ndarray = field(repr=False)
    parameters: np.ndarray = field(repr=False)


def _block_parameters(problem: BlockProblem, space: ControlSpace, x: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
    return (space.tile_parameters(x, problem.tiles.pft, problem.tile_ids),
            space.operator_parameters(x))


def sampled_observations(problem: BlockProblem) -> SampledObservations:
    """The block's snapshot hours and the snapshot row of every footprint weight."""
    return sample_observations(problem.tiles.n_tile, problem.forcing.n_hour,
                               problem.observations)


def block_forward(problem: BlockProblem, space: ControlSpace, x: np.ndarray,
                  threads: int | None = 1) -> BlockForward:
    """Forward phase of one block (a Dask task): partial sums of its observations."""
    parameters, operators = _block_parameters(problem, space, x)
    sampled = sampled_observations(problem)
    try:
        result = run_forward(problem.tiles, parameters, problem.forcing, problem.spinup,
                             threads=threads, samples=sampled.samples)
    except NonFiniteModelError as error:
        raise NonFiniteModelError(f"block {problem.index}: {error}") from None
    if not np.all(np.isfinite(result.snapshots)):
        row = int(np.flatnonzero(~np.isfinite(result.snapshots).all(axis=1))[0])
        tile = int(np.searchsorted(sampled.samples.pointer, row, side="right") - 1)
        when = np.datetime64(problem.forcing.start, "h") + int(sampled.samples.hours[row])
        raise NonFiniteModelError(
            f"block {problem.index}: non-finite model state for tile "
            f"{int(problem.tile_ids[tile])} (PFT {problem.tiles.pft_names[tile]}, cell "
            f"{int(problem.tiles.cell[tile])}) at {when} UTC")
    partials = tuple(partial_sums(sampled, result.snapshots, operators))
    return BlockForward(partials=partials, snapshots=result.snapshots, parameters=parameters)


def block_partials(forward: BlockForward) -> tuple[PartialSums, ...]:
    """The small part of a forward result that travels to the client."""
    return forward.partials


def block_gradient(problem: BlockProblem, space: ControlSpace, x: np.ndarray,
                   forward: BlockForward, simulated_b: Sequence[np.ndarray],
                   threads: int | None = 1) -> np.ndarray:
    """Adjoint phase of one block (a Dask task): the block's share of dJ/dx.

    ``simulated_b`` holds, per stream, the global sums' adjoint (n_obs of the stream);
    the block takes the entries of its own observations.
    """
    _, operators = _block_parameters(problem, space, x)
    sampled = sampled_observations(problem)
    local_b = [np.asarray(b)[ids] for b, ids in zip(simulated_b, problem.observation_ids,
                                                    strict=True)]
    snapshots_b, operator_b = partial_sums_adjoint(sampled, forward.snapshots, operators,
                                                   local_b)
    adjoint = run_adjoint(problem.tiles, forward.parameters, problem.forcing, problem.spinup,
                          samples=sampled.samples, snapshots_b=snapshots_b, threads=threads)
    gradient = space.gradient(adjoint.parameters_b, problem.tiles.pft, problem.tile_ids,
                              operator_b)
    if not np.all(np.isfinite(gradient)):
        bad = int(np.flatnonzero(~np.isfinite(gradient))[0])
        tile = int(np.flatnonzero(~np.isfinite(adjoint.parameters_b).all(axis=1))[0])
        raise NonFiniteModelError(
            f"block {problem.index}: non-finite gradient with respect to "
            f"{space.names[bad]} from tile {int(problem.tile_ids[tile])} (PFT "
            f"{problem.tiles.pft_names[tile]}, cell {int(problem.tiles.cell[tile])})")
    return gradient


def reduce_streams(streams: Sequence[StreamData], problems_ids: Sequence[Sequence[np.ndarray]],
                   partials: Sequence[Sequence[PartialSums]]) -> list[PartialSums]:
    """Sum the blocks' partial sums into each stream's global table order."""
    out = []
    for k, stream in enumerate(streams):
        sums = np.zeros(stream.n_obs)
        weights = np.zeros(stream.n_obs)
        for ids, block in zip(problems_ids, partials, strict=True):
            np.add.at(sums, ids[k], block[k].sums)
            np.add.at(weights, ids[k], block[k].weights)
        out.append(PartialSums(stream.name, sums, weights))
    return out


@dataclass(frozen=True)
class Misfit:
    """The observation part of the cost at one x: per stream the simulated values, the
    cost term 1/2 sum r^2 and the adjoint seeds of the reduced sums."""

    simulated: tuple[np.ndarray, ...]
    terms: dict[str, float]
    sums_b: tuple[np.ndarray, ...]


def misfit(streams: Sequence[StreamData], reduced: Sequence[PartialSums],
           valid: Sequence[np.ndarray]) -> Misfit:
    """Residuals, cost terms and the adjoint seeds from the reduced partial sums, over the
    ``valid`` observations of each stream (the others are NaN and do not count)."""
    simulated, terms, sums_b = [], {}, []
    for stream, part, ok in zip(streams, reduced, valid, strict=True):
        inside = PartialSums(part.stream, part.sums[ok], part.weights[ok])
        sim = np.full(stream.n_obs, np.nan)
        sim[ok] = complete(inside)
        normalised = (sim[ok] - stream.value[ok]) / stream.sigma[ok]
        terms[stream.name] = 0.5 * float(normalised @ normalised)
        simulated.append(sim)
        seed = np.zeros(stream.n_obs)
        seed[ok] = complete_adjoint(inside, normalised / stream.sigma[ok])
        sums_b.append(seed)
    return Misfit(tuple(simulated), terms, tuple(sums_b))


BlockLoader = Callable[[], BlockProblem]


@dataclass(frozen=True)
class Evaluation:
    """J and its gradient at one z: ``cost`` (total), ``terms`` (``prior`` and one per
    stream), ``gradient`` dJ/dz, and the simulated observations per stream."""

    z: np.ndarray
    cost: float
    terms: dict[str, float]
    gradient: np.ndarray
    simulated: tuple[np.ndarray, ...]


class CostFunction:
    """J(z) and dJ/dz over blocks, in this process or on a Dask cluster.

    Parameters
    ----------
    space : the control space.
    streams : the assimilated streams' global observation tables.
    loaders : one zero-argument, picklable callable per block that builds its
        :class:`BlockProblem` (e.g. reading the block from the catalogue). On a cluster
        each becomes a task whose result stays on a worker; Dask rebuilds it from the
        loader if that worker is lost, so an evaluation never depends on one worker.
    client : a ``distributed.Client``; None evaluates in this process.
    threads : Numba threads per block run (1 on a cluster: one task per core).
    """

    def __init__(self, space: ControlSpace, streams: Sequence[StreamData],
                 loaders: Sequence[BlockLoader], client: Client | None = None,
                 threads: int | None = None) -> None:
        self.space = space
        self.streams = tuple(streams)
        self.client = client
        self.threads = threads if client is None else 1
        if client is None:
            self.problems: list = [load() for load in loaders]
            summaries = [_summary(p) for p in self.problems]
        else:
            self.problems = [client.submit(load, key=f"block-problem-{i}-{tokenize(load)}")
                             for i, load in enumerate(loaders)]
            summaries = client.gather([client.submit(_summary, p) for p in self.problems])
        self.observation_ids = [ids for ids, _, _ in summaries]
        self.pft_codes = np.unique(np.concatenate([pfts for _, pfts, _ in summaries]))
        for ids in self.observation_ids:
            if len(ids) != len(self.streams):
                raise TccasInputError(f"a block has {len(ids)} observation streams, the "
                                      f"cost has {len(self.streams)}")
        totals = reduce_streams(self.streams, self.observation_ids,
                                [weights for _, _, weights in summaries])
        #: per stream, the observations some tile (or bare ground) of the region sees
        self.valid = [part.weights > 0.0 for part in totals]

    @property
    def n_obs(self) -> int:
        """Number of assimilated observations (those the region's tiles see)."""
        return int(sum(ok.sum() for ok in self.valid))

    def __call__(self, z: np.ndarray) -> Evaluation:
        z = np.asarray(z, dtype=np.float64)
        x = self.space.x_from_z(z)
        if self.client is None:
            forwards = [block_forward(p, self.space, x, self.threads) for p in self.problems]
            partials = [f.partials for f in forwards]
        else:
            forwards = [self.client.submit(block_forward, p, self.space, x, 1)
                        for p in self.problems]
            partials = self.client.gather([self.client.submit(block_partials, f)
                                           for f in forwards])
        reduced = reduce_streams(self.streams, self.observation_ids, partials)
        fit = misfit(self.streams, reduced, self.valid)
        if self.client is None:
            gradients = [block_gradient(p, self.space, x, f, fit.sums_b, self.threads)
                         for p, f in zip(self.problems, forwards, strict=True)]
        else:
            sums_b = self.client.scatter(list(fit.sums_b), broadcast=True)
            gradients = self.client.gather([
                self.client.submit(block_gradient, p, self.space, x, f, sums_b, 1)
                for p, f in zip(self.problems, forwards, strict=True)])
        gradient_x = np.sum(np.stack(gradients), axis=0)
        terms = {"prior": 0.5 * float(z @ z), **fit.terms}
        return Evaluation(z=z, cost=float(sum(terms.values())), terms=terms,
                          gradient=z + gradient_x * self.space.dx_dz(z),
                          simulated=fit.simulated)


def _summary(problem: BlockProblem
             ) -> tuple[tuple[np.ndarray, ...], np.ndarray, tuple[PartialSums, ...]]:
    """What the client needs of a block once: observation ids, PFT codes, and the footprint
    weight each observation has on the block (W_i of :mod:`tccas.operators.observe`)."""
    weights = []
    for obs in problem.observations:
        total = np.asarray(obs.weights.sum(axis=1)).ravel()
        if obs.spec.non_vegetated is not None:
            total = total + obs.non_vegetated
        weights.append(PartialSums(obs.stream, np.zeros(obs.n_obs), total))
    return problem.observation_ids, np.unique(problem.tiles.pft), tuple(weights)
