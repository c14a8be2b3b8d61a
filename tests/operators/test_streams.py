"""Observation streams evaluated on model snapshots from real runs."""

import numpy as np
import pytest

from tccas.model.driver import Samples, SpinUp, run_forward
from tccas.model.verification import taylor_test
from tccas.operators.streams import STREAMS, operator_prior, overpass_hours
from tccas.pipeline.simulate import observation_equivalents, run, site_simulation


def test_overpass_hours_follow_local_solar_time():
    np.testing.assert_array_equal(overpass_hours(-5.7786, 13.5, 3), [13, 37, 61])
    np.testing.assert_array_equal(overpass_hours(26.64, 13.5, 2), [11, 35])
    np.testing.assert_array_equal(overpass_hours(26.64, 6.0, 1), [4])
    np.testing.assert_array_equal(overpass_hours(-150.0, 6.0, 1), [16])


def test_sif_is_zero_at_night():
    simulation = site_simulation("majadas", "2015-06-01", "2015-06-10")
    midnight = overpass_hours(-5.7786, 0.0, 10)
    samples = Samples.same_for_all(simulation.tiles.n_tile, midnight)
    result = run_forward(simulation.tiles, simulation.parameters, simulation.forcing,
                         SpinUp(0, 0), samples=samples)
    sif = STREAMS["sif743"].evaluate(result.snapshots, operator_prior())
    assert sif.shape == (20,)
    assert np.all(sif == 0.0)
    noon = Samples.same_for_all(simulation.tiles.n_tile, overpass_hours(-5.7786, 13.5, 10))
    result = run_forward(simulation.tiles, simulation.parameters, simulation.forcing,
                         SpinUp(0, 0), samples=noon)
    assert np.all(STREAMS["sif743"].evaluate(result.snapshots, operator_prior()) > 0.0)


@pytest.fixture(scope="module")
def sodankyla_winter():
    simulation = site_simulation("sodankyla", "2015-11-01", "2016-01-31")
    result = run(simulation)
    return observation_equivalents(simulation, result)


def test_sif_is_zero_in_polar_night(sodankyla_winter):
    polar_night = sodankyla_winter.sel(time=slice("2015-12-10", "2015-12-31"))
    assert float(abs(polar_night["sif743"]).max()) == 0.0
    assert float(polar_night["fapar"].max()) == 0.0


def test_equivalents_ranges_and_vod_mixing(sodankyla_winter):
    ds = sodankyla_winter
    for name in ("fapar", "sm_surface", "vod"):
        assert float(ds[name].min()) >= 0.0
    assert float(ds["fapar"].max()) <= 1.0
    assert float(ds["sm_surface"].max()) <= 0.437  # saturation of sand
    tau = ds["vod"].values
    cover = ds["cover_fraction"].values
    expected = -np.log(cover @ np.exp(-tau))
    np.testing.assert_allclose(ds["vod_cell"].values[0], expected, rtol=1e-12)
    np.testing.assert_allclose(ds["sif743_cell"].values[0], cover @ ds["sif743"].values,
                               rtol=1e-12)


@pytest.fixture(scope="module")
def majadas_snapshots():
    simulation = site_simulation("majadas", "2015-04-01", "2015-04-20")
    hours = np.concatenate([overpass_hours(-5.7786, local, 20) for local in (6.0, 13.5)])
    samples = Samples.same_for_all(simulation.tiles.n_tile, hours)
    result = run_forward(simulation.tiles, simulation.parameters, simulation.forcing,
                         SpinUp(0, 0), samples=samples)
    return result.snapshots


@pytest.mark.parametrize("name", sorted(STREAMS))
def test_stream_tangent_and_adjoint_are_verified(name, majadas_snapshots):
    """Taylor test of the stream tangent along random snapshot and operator directions,
    and <TL dx, dy> = <dx, AD dy> to 1e-12 (directions drawn with a printed seed)."""
    stream = STREAMS[name]
    snapshots, operators = majadas_snapshots, operator_prior()
    seed = int(np.random.SeedSequence().entropy % 2**32)
    print(f"seed {seed}")
    rng = np.random.default_rng(seed)
    n = snapshots.shape[0]
    inputs = list(stream.inputs)
    scale = np.abs(snapshots[:, inputs]).mean(axis=0) + 1e-3
    snapshot_d = np.zeros(snapshots.shape)
    snapshot_d[:, inputs] = rng.standard_normal((n, len(inputs))) * scale * 1e-2
    operator_d = rng.standard_normal(operators.size) * operators * 1e-2

    def function(t):
        return stream.evaluate(snapshots + t * snapshot_d, operators + t * operator_d)

    def tangent(_t, dt):
        return stream.tangent(snapshots, operators, snapshot_d[:, :, None] * dt,
                              operator_d[:, None] * dt)[:, 0]

    result = taylor_test(function, tangent, np.zeros(1), np.ones(1))
    assert result.min_relative_error < 1e-6
    assert result.second_order

    dy = rng.standard_normal(n)
    left = stream.tangent(snapshots, operators, snapshot_d[:, :, None],
                          operator_d[:, None])[:, 0] @ dy
    snapshots_b, operator_b = stream.adjoint(snapshots, operators, dy)
    right = np.sum(snapshots_b * snapshot_d) + operator_b @ operator_d
    assert abs(left - right) <= 1e-12 * max(abs(left), abs(right))
    untouched = np.setdiff1d(np.arange(snapshots.shape[1]), inputs)
    assert np.all(snapshots_b[:, untouched] == 0.0)
    assert np.all(operator_b[np.setdiff1d(np.arange(operators.size),
                                          list(stream.operator_inputs))] == 0.0)
