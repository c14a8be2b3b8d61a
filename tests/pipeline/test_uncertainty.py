"""Jacobian, posterior covariance, target propagation and leave-one-out on the twin."""

from __future__ import annotations

import numpy as np
import pytest

from tccas.model.driver import run_forward
from tccas.model.outputs import OUTPUT_NAMES
from tccas.pipeline.cost import CostFunction
from tccas.pipeline.uncertainty import jacobian, posterior_covariance_z, uncertainty


@pytest.fixture(scope="module")
def at_point(twin):
    control, streams, loaders, z_true = twin
    cost = CostFunction(control, streams, loaders)
    z = 0.5 * z_true
    return cost, z, jacobian(cost, z, window_start_day=30)


def test_jacobian_rows_reproduce_the_adjoint_gradient(at_point, twin):
    """dJ/dz = z + sum_s H_s' R_s^-1 (H(x) - y): tangent and adjoint agree to rounding."""
    cost, z, jac = at_point
    evaluation = cost(z)
    gradient = z.copy()
    for h, sigma, stream, simulated in zip(jac.h, jac.sigma, cost.streams,
                                           evaluation.simulated, strict=True):
        gradient += h.T @ ((simulated - stream.value) / sigma**2)
    np.testing.assert_allclose(gradient, evaluation.gradient, rtol=1e-9,
                               atol=1e-9 * np.abs(evaluation.gradient).max())
    assert [h.shape for h in jac.h] == [(40, cost.space.n)] * 4


def test_posterior_covariance_and_reductions(at_point):
    cost, _, jac = at_point
    space = cost.space
    post = uncertainty(space, jac)
    np.testing.assert_allclose(post.a_z, post.a_z.T, atol=1e-14)
    assert np.all(np.linalg.eigvalsh(post.a_z) > 0.0)
    assert np.all((post.reduction >= -1e-12) & (post.reduction < 1.0))
    # what the streams see is constrained: SIF scaling and the VOD coefficients
    for name in ("sif_scale", "C3Gr.lma", "vod_l_wd"):
        assert post.reduction[space.names.index(name)] > 0.3
    # litter turnover is invisible to SIF, VOD, soil moisture and FAPAR in six months
    assert post.reduction[space.names.index("C3Gr.theta_lit")] < 0.01
    np.testing.assert_allclose(np.diag(post.correlation), 1.0, rtol=1e-12)
    d = space.dx_dz(jac.z)
    np.testing.assert_allclose(post.a_x, post.a_z * np.outer(d, d), rtol=1e-14)
    np.testing.assert_allclose(post.sigma_post, d * np.sqrt(np.diag(post.a_z)), rtol=1e-14)
    assert np.all(post.target_sigma_post <= post.target_sigma_prior * (1 + 1e-12))


def test_leaving_a_stream_out_loses_information(at_point):
    _, _, jac = at_point
    everything = np.diag(posterior_covariance_z(jac))
    for stream in jac.streams:
        rest = [s for s in jac.streams if s != stream]
        without = np.diag(posterior_covariance_z(jac, rest))
        assert np.all(without >= everything * (1 - 1e-10))
        assert np.any(without > everything * 1.01)
    np.testing.assert_allclose(np.diag(posterior_covariance_z(jac, [])), 1.0)


def test_targets_values_and_gradients(at_point):
    cost, z, jac = at_point
    space = cost.space
    names = list(jac.target_names)
    assert names[:3] == ["gpp.TmEv", "gpp.C3Gr", "gpp.total"]
    assert len(names) == 5 * 3
    # the GPP mean of the whole region from a direct forward run of each block
    x = space.x_from_z(z)
    total, area = 0.0, 0.0
    for problem in cost.problems:
        parameters = space.tile_parameters(x, problem.tiles.pft, problem.tile_ids)
        daily = run_forward(problem.tiles, parameters, problem.forcing, problem.spinup).daily
        gpp = daily[:, 30:, OUTPUT_NAMES.index("gpp")].mean(axis=1)
        total += problem.tile_area @ gpp
        area += problem.tile_area.sum()
    assert jac.target_values[names.index("gpp.total")] == pytest.approx(total / area,
                                                                        rel=1e-12)
    # central differences of the target along a direction in z
    direction = np.random.default_rng(8).standard_normal(space.n)
    h = 1e-4

    def target(v):
        return jacobian(cost, v, window_start_day=30).target_values

    fd = (target(z + h * direction) - target(z - h * direction)) / (2 * h)
    np.testing.assert_allclose(jac.target_gradients @ direction, fd, rtol=1e-5,
                               atol=1e-7 * np.abs(fd).max())
