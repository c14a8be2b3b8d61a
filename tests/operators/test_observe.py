"""Footprint observations split over blocks: exact reduction, tangent and adjoint."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from tccas.catalog.weather import site_forcing
from tccas.model.driver import Samples, SpinUp, run_forward
from tccas.model.errors import TccasInputError
from tccas.model.parameters import pft_code, prior_table
from tccas.model.tiles import make_tiles
from tccas.model.verification import taylor_test
from tccas.operators.mixing import mix_linear, mix_transmissivity
from tccas.operators.observe import (
    FootprintObservations,
    PartialSums,
    complete,
    complete_adjoint,
    complete_tangent,
    partial_sums,
    partial_sums_adjoint,
    partial_sums_tangent,
    reduce_partials,
    sample_observations,
)
from tccas.operators.streams import STREAMS, operator_prior, overpass_hours

N_DAY = 12
PFTS = ["TmEv", "C3Gr", "TmEv", "C3Gr"]
FRACTIONS = [0.3, 0.6, 0.2, 0.7]


@pytest.fixture(scope="module")
def region():
    """Four tiles (two cells x two PFTs, the second cell's tiles in a second block),
    twelve days of Majadas weather, and per stream six observations whose footprints
    cover one or both cells."""
    forcing = site_forcing("majadas", "2015-05-01", f"2015-05-{N_DAY:02d}", seed=3)
    tiles = make_tiles(PFTS, FRACTIONS, 39.94, -5.78, "sandy_loam", cell=[0, 0, 1, 1],
                       full_cover=False)
    parameters = prior_table([pft_code(p) for p in PFTS])
    rng = np.random.default_rng(11)
    cell_of_tile = np.array([0, 0, 1, 1])
    streams = {}
    for name in ("sif743", "vod", "sm_surface", "fapar"):
        local = STREAMS[name].overpass_local_hour
        hours = overpass_hours(-5.78, local, N_DAY)[rng.choice(N_DAY, 6, replace=False)]
        cell_share = rng.uniform(0.05, 0.5, (6, 2))
        cell_share[0, 1] = 0.0          # an observation seen by the first block only
        tile_w = cell_share[:, cell_of_tile] * np.array(FRACTIONS)
        bare = cell_share @ np.array([0.1, 0.1])   # 10 % bare ground in both cells
        streams[name] = (hours, tile_w, bare)
    return tiles, parameters, forcing, streams


def _block_observations(streams, tile_slice):
    return [FootprintObservations(name, hours, sp.csr_matrix(w[:, tile_slice]),
                                  bare / 2.0)   # the bare ground splits between blocks
            for name, (hours, w, bare) in streams.items()]


def _simulate(region, parameters_by_block, operators):
    tiles, _, forcing, streams = region
    parts, state = [], []
    for block, tile_slice in enumerate((slice(0, 2), slice(2, 4))):
        sub = tiles.subset(np.arange(4)[tile_slice])
        sampled = sample_observations(sub.n_tile, forcing.n_hour,
                                      _block_observations(streams, tile_slice))
        result = run_forward(sub, parameters_by_block[block], forcing, SpinUp(0, 0),
                             samples=sampled.samples)
        parts.append(partial_sums(sampled, result.snapshots, operators))
        state.append((sub, sampled, result))
    return reduce_partials(parts), state


def test_blocks_reduce_to_the_mixing_of_all_tiles(region):
    tiles, parameters, forcing, streams = region
    operators = operator_prior()
    reduced, _ = _simulate(region, [parameters[:2], parameters[2:]], operators)
    for name, (hours, w, bare) in streams.items():
        stream = STREAMS[name]
        # every tile's operator value at every observation hour, from one whole run
        values = np.empty((hours.size, 4))
        for i, hour in enumerate(hours):
            result = run_forward(tiles, parameters, forcing, SpinUp(0, 0),
                                 samples=Samples.same_for_all(4, np.array([hour])))
            values[i] = stream.evaluate(result.snapshots, operators)
        simulated = complete(reduced[name])
        if stream.non_vegetated is None:
            expected = [(mix_linear(sp.csr_matrix(w[i:i + 1]), values[i]))[0]
                        for i in range(hours.size)]
        else:
            with_bare = np.column_stack([w, bare])
            tile_values = np.column_stack([values, np.full(hours.size,
                                                           stream.non_vegetated)])
            mix = mix_linear if stream.mixing == "linear" else mix_transmissivity
            expected = [mix(sp.csr_matrix(with_bare[i:i + 1]), tile_values[i])[0]
                        for i in range(hours.size)]
        np.testing.assert_allclose(simulated, expected, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(reduced[name].weights,
                                   w.sum(axis=1) + (0 if stream.non_vegetated is None
                                                    else bare), rtol=1e-14)


def test_snapshot_hours_are_shared_between_streams(region):
    _tiles, _, forcing, streams = region
    sampled = sample_observations(2, forcing.n_hour, _block_observations(streams,
                                                                         slice(0, 2)))
    pairs = set()
    for (hours, w, _), rows in zip(streams.values(), sampled.rows, strict=True):
        nz = np.nonzero(w[:, :2])
        pairs |= {(int(t), int(hours[i])) for i, t in zip(*nz, strict=True)}
        tile_of_row = np.repeat(np.arange(2), np.diff(sampled.samples.pointer))
        np.testing.assert_array_equal(sampled.samples.hours[rows], hours[nz[0]])
        np.testing.assert_array_equal(tile_of_row[rows], nz[1])
    assert sampled.samples.hours.size == len(pairs)


def test_tangent_and_adjoint_of_the_whole_footprint_chain(region):
    """Snapshots and operator parameters -> simulated observations: Taylor test and
    <TL dx, dy> = <dx, AD dy> through partial sums, reduction and completion."""
    _tiles, parameters, _forcing, streams = region
    operators = operator_prior()
    reduced, state = _simulate(region, [parameters[:2], parameters[2:]], operators)
    seed = int(np.random.SeedSequence().entropy % 2**32)
    print(f"seed {seed}")
    rng = np.random.default_rng(seed)
    directions = []
    for _, sampled, result in state:
        d = np.zeros(result.snapshots.shape)
        for stream_obs in sampled.observations:
            cols = list(stream_obs.spec.inputs)
            scale = np.abs(result.snapshots[:, cols]).mean(axis=0) + 1e-3
            d[:, cols] = rng.standard_normal((d.shape[0], len(cols))) * scale * 1e-2
        directions.append(d)
    op_d = rng.standard_normal(operators.size) * operators * 1e-2
    names = list(streams)

    def simulated(t):
        parts = [partial_sums(sampled, result.snapshots + t[0] * d, operators + t[0] * op_d)
                 for (_, sampled, result), d in zip(state, directions, strict=True)]
        total = reduce_partials(parts)
        return np.concatenate([complete(total[n]) for n in names])

    def tangent(_t, dt):
        sums_d = [partial_sums_tangent(sampled, result.snapshots, operators,
                                       d[:, :, None] * dt[0], op_d[:, None] * dt[0])
                  for (_, sampled, result), d in zip(state, directions, strict=True)]
        return np.concatenate([
            complete_tangent(reduced[n], sums_d[0][k] + sums_d[1][k])[:, 0]
            for k, n in enumerate(names)])

    result = taylor_test(simulated, tangent, np.zeros(1), np.ones(1))
    assert result.min_relative_error < 1e-6
    assert result.second_order

    dy = rng.standard_normal(sum(reduced[n].sums.size for n in names))
    left = tangent(None, np.ones(1)) @ dy
    splits = np.cumsum([reduced[n].sums.size for n in names])[:-1]
    sums_b = [complete_adjoint(reduced[n], part) for n, part in
              zip(names, np.split(dy, splits), strict=True)]
    right = 0.0
    for (_, sampled, res), d in zip(state, directions, strict=True):
        snapshots_b, operator_b = partial_sums_adjoint(sampled, res.snapshots, operators,
                                                       sums_b)
        right += np.sum(snapshots_b * d) + operator_b @ op_d
    assert abs(left - right) <= 1e-12 * max(abs(left), abs(right))


def test_bad_observations_are_clear_errors(region):
    with pytest.raises(TccasInputError, match="unknown stream 'co2'"):
        FootprintObservations("co2", np.zeros(1), sp.csr_matrix((1, 2)), np.zeros(1))
    with pytest.raises(TccasInputError, match="disagree on the number of observations"):
        FootprintObservations("vod", np.zeros(2), sp.csr_matrix((1, 2)), np.zeros(1))
    with pytest.raises(TccasInputError, match="negative footprint weight"):
        FootprintObservations("vod", np.zeros(1), sp.csr_matrix(np.array([[-1.0, 0.0]])),
                              np.zeros(1))
    obs = FootprintObservations("vod", np.array([10**6]), sp.csr_matrix(np.ones((1, 2))),
                                np.zeros(1))
    with pytest.raises(TccasInputError, match="outside the forcing period"):
        sample_observations(2, 24, [obs])
    with pytest.raises(TccasInputError, match="outside every tile"):
        complete(PartialSums("vod", np.zeros(1), np.zeros(1)))
