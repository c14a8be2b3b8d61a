"""Simulated observations on their own footprints, split over blocks of tiles.

A footprint can span several blocks (ARCHITECTURE.md section 6), so a block cannot
finish an observation alone. Each block returns *partial sums* for every observation it
touches, and a reduction over blocks completes them:

* linear streams (SIF, FAPAR, soil moisture, fluxes, biomass; MODEL_SPEC 6.1):
  ``y_i = S_i / W_i`` with ``S_i = sum_j w_ij y_j + b_i v0`` over the block's tiles ``j``
  and ``W_i = sum_j w_ij + b_i``;
* transmissivity (L-VOD, MODEL_SPEC 6.1 and 6.4): ``tau_i = -ln(S_i / W_i)`` with
  ``S_i = sum_j w_ij exp(-tau_j) + b_i exp(-tau0)``.

Here ``w_ij`` is the share of footprint ``i``'s response falling in tile ``j``'s cell times
the tile's cover fraction (:func:`tccas.operators.footprint.aggregate_to_tiles`), ``b_i``
the share falling on ground without a vegetation tile and ``v0``/``tau0`` the stream's
value there (:attr:`tccas.operators.streams.Stream.non_vegetated`; a stream without one
ignores ``b_i``). ``W_i`` is the part of the footprint inside the model region: the
simulated observation describes that part (the catalogue decides how much coverage an
observation needs). The model value is taken at the observation hour from the block's
snapshots (``tccas.model.driver.Samples``).

Every step has its tangent (``*_tangent``, k directions at once) and adjoint
(``*_adjoint``): the sums are linear in the tile values, the completion is a scalar map per
observation, and the tile operators' derivatives come from :mod:`tccas.operators.streams`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from tccas.model.driver import Samples
from tccas.model.errors import TccasInputError
from tccas.operators.streams import STREAMS, Stream


@dataclass(frozen=True)
class FootprintObservations:
    """The observations of one stream that one block of tiles sees.

    Attributes
    ----------
    stream : stream name (a key of :data:`tccas.operators.streams.STREAMS`).
    hours : (n_obs,) int64 index of each observation's hour in the forcing period (the
        main run after spin-up recycling; hour 0 = 00 UTC of the first day).
    weights : (n_obs, n_tile) sparse, ``w_ij`` >= 0 [1] (see the module docstring).
    non_vegetated : (n_obs,) ``b_i`` >= 0 [1], the share on ground without tiles of the
        block.
    """

    stream: str
    hours: np.ndarray
    weights: sp.csr_matrix
    non_vegetated: np.ndarray

    def __post_init__(self) -> None:
        if self.stream not in STREAMS:
            raise TccasInputError(f"unknown stream '{self.stream}'")
        weights = sp.csr_matrix(self.weights, dtype=np.float64)
        weights.sum_duplicates()
        weights.sort_indices()
        hours = np.asarray(self.hours, dtype=np.int64)
        bare = np.asarray(self.non_vegetated, dtype=np.float64)
        if hours.shape != (weights.shape[0],) or bare.shape != hours.shape:
            raise TccasInputError(
                f"stream {self.stream}: hours {hours.shape}, non_vegetated {bare.shape} and "
                f"weights {weights.shape} disagree on the number of observations")
        if (weights.nnz and weights.data.min() < 0.0) or (bare.size and bare.min() < 0.0):
            raise TccasInputError(f"stream {self.stream}: negative footprint weight")
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "hours", hours)
        object.__setattr__(self, "non_vegetated", bare)

    @property
    def n_obs(self) -> int:
        """Number of observations."""
        return int(self.hours.size)

    @property
    def spec(self) -> Stream:
        """The stream's registry entry."""
        return STREAMS[self.stream]

    def entries(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(observation, tile, weight) of every nonzero weight, in CSR order."""
        rows = np.repeat(np.arange(self.n_obs, dtype=np.int64), np.diff(self.weights.indptr))
        return rows, self.weights.indices.astype(np.int64), self.weights.data


@dataclass(frozen=True)
class SampledObservations:
    """Footprint observations of a block with the snapshot row of every weight entry."""

    observations: tuple[FootprintObservations, ...]
    samples: Samples
    rows: tuple[np.ndarray, ...]


def sample_observations(n_tile: int, n_hour: int,
                        observations: Sequence[FootprintObservations]) -> SampledObservations:
    """The snapshot hours a block must record (every (tile, hour) pair any footprint of
    any stream needs, once) and, per stream, the snapshot row of each weight entry."""
    keys = []
    for obs in observations:
        if obs.weights.shape[1] != n_tile:
            raise TccasInputError(f"stream {obs.stream}: weights have {obs.weights.shape[1]} "
                                  f"tile columns, the block has {n_tile} tiles")
        if obs.n_obs and (obs.hours.min() < 0 or obs.hours.max() >= n_hour):
            raise TccasInputError(f"stream {obs.stream}: observation hour outside the "
                                  f"forcing period of {n_hour} hours")
        row, tile, _ = obs.entries()
        keys.append(tile * n_hour + obs.hours[row])
    unique, inverse = np.unique(np.concatenate(keys) if keys else np.zeros(0, np.int64),
                                return_inverse=True)
    tiles = unique // n_hour
    pointer = np.zeros(n_tile + 1, dtype=np.int64)
    np.cumsum(np.bincount(tiles, minlength=n_tile), out=pointer[1:])
    samples = Samples(pointer=pointer, hours=(unique % n_hour).astype(np.int64))
    bounds = np.cumsum([0] + [k.size for k in keys])
    rows = tuple(inverse[bounds[i]:bounds[i + 1]].astype(np.int64) for i in range(len(keys)))
    return SampledObservations(observations=tuple(observations), samples=samples, rows=rows)


@dataclass(frozen=True)
class PartialSums:
    """A block's contribution to one stream's observations: ``sums`` S_i and ``weights``
    W_i (n_obs,) as in the module docstring; contributions of blocks add."""

    stream: str
    sums: np.ndarray
    weights: np.ndarray


def _terms(stream: Stream, values: np.ndarray) -> np.ndarray:
    return values if stream.mixing == "linear" else np.exp(-values)


def _non_vegetated_term(stream: Stream) -> float:
    value = float(stream.non_vegetated or 0.0)
    return value if stream.mixing == "linear" else float(np.exp(-value))


def _stream_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct snapshot rows of a stream and, per weight entry, its position among
    them: the operator runs once per (tile, hour), however many footprints share it."""
    unique, inverse = np.unique(rows, return_inverse=True)
    return unique, inverse.reshape(-1)


def partial_sums(sampled: SampledObservations, snapshots: np.ndarray,
                 operator_parameters: np.ndarray) -> list[PartialSums]:
    """The block's partial sums for every stream, from its snapshots
    (``run_forward(..., samples=sampled.samples).snapshots``)."""
    out = []
    for obs, rows in zip(sampled.observations, sampled.rows, strict=True):
        stream = obs.spec
        row, _, weight = obs.entries()
        unique, inverse = _stream_rows(rows)
        values = stream.evaluate(snapshots[unique], operator_parameters)[inverse]
        sums = np.bincount(row, weight * _terms(stream, values), minlength=obs.n_obs)
        weights = np.bincount(row, weight, minlength=obs.n_obs)
        if stream.non_vegetated is not None:
            sums += obs.non_vegetated * _non_vegetated_term(stream)
            weights += obs.non_vegetated
        out.append(PartialSums(obs.stream, sums, weights))
    return out


def partial_sums_tangent(sampled: SampledObservations, snapshots: np.ndarray,
                         operator_parameters: np.ndarray, snapshots_d: np.ndarray,
                         operator_d: np.ndarray) -> list[np.ndarray]:
    """Tangent of the sums (n_obs, k) per stream for snapshot directions
    (n_sample, N_SNAPSHOT, k) and operator-parameter directions (n_operator, k)."""
    out = []
    for obs, rows in zip(sampled.observations, sampled.rows, strict=True):
        stream = obs.spec
        row, _, weight = obs.entries()
        unique, inverse = _stream_rows(rows)
        values_d = stream.tangent(snapshots[unique], operator_parameters, snapshots_d[unique],
                                  operator_d)
        if stream.mixing == "transmissivity":
            values = stream.evaluate(snapshots[unique], operator_parameters)
            values_d = -np.exp(-values)[:, None] * values_d
        sums_d = np.zeros((obs.n_obs, values_d.shape[1]))
        np.add.at(sums_d, row, weight[:, None] * values_d[inverse])
        out.append(sums_d)
    return out


def partial_sums_adjoint(sampled: SampledObservations, snapshots: np.ndarray,
                         operator_parameters: np.ndarray, sums_b: Sequence[np.ndarray]
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Adjoint of :func:`partial_sums`: (snapshots_b (n_sample, N_SNAPSHOT), operator_b
    (n_operator,)) for the sums' adjoints ``sums_b`` (one (n_obs,) array per stream)."""
    snapshots_b = np.zeros(snapshots.shape)
    operator_b = np.zeros(np.shape(operator_parameters))
    for obs, rows, s_b in zip(sampled.observations, sampled.rows, sums_b, strict=True):
        stream = obs.spec
        row, _, weight = obs.entries()
        unique, inverse = _stream_rows(rows)
        values_b = np.bincount(inverse, weight * s_b[row], minlength=unique.size)
        if stream.mixing == "transmissivity":
            values = stream.evaluate(snapshots[unique], operator_parameters)
            values_b = -np.exp(-values) * values_b
        rows_b, op_b = stream.adjoint(snapshots[unique], operator_parameters, values_b)
        snapshots_b[unique] += rows_b
        operator_b += op_b
    return snapshots_b, operator_b


def reduce_partials(parts: Sequence[Sequence[PartialSums]]) -> dict[str, PartialSums]:
    """Sum the partial sums of several blocks, stream by stream."""
    total: dict[str, PartialSums] = {}
    for block in parts:
        for part in block:
            if part.stream in total:
                done = total[part.stream]
                total[part.stream] = PartialSums(part.stream, done.sums + part.sums,
                                                 done.weights + part.weights)
            else:
                total[part.stream] = part
    return total


def complete(part: PartialSums) -> np.ndarray:
    """Simulated observations [stream units] from the reduced sums; an observation no
    block covers (W_i = 0) is an error."""
    empty = np.flatnonzero(part.weights <= 0.0)
    if empty.size:
        raise TccasInputError(f"stream {part.stream}: observation {empty[0]} lies outside "
                              "every tile of the model region")
    ratio = part.sums / part.weights
    return ratio if STREAMS[part.stream].mixing == "linear" else -np.log(ratio)


def complete_tangent(part: PartialSums, sums_d: np.ndarray) -> np.ndarray:
    """Tangent of :func:`complete` (n_obs, k) for reduced sum tangents ``sums_d``."""
    if STREAMS[part.stream].mixing == "linear":
        return sums_d / part.weights[:, None]
    return -sums_d / part.sums[:, None]


def complete_adjoint(part: PartialSums, simulated_b: np.ndarray) -> np.ndarray:
    """Adjoint of :func:`complete`: the sums' adjoint (n_obs,)."""
    if STREAMS[part.stream].mixing == "linear":
        return simulated_b / part.weights
    return -simulated_b / part.sums
