"""Footprint mixing: identities, normalisation, and Taylor / dot-product tests."""

import numpy as np
import pytest
import scipy.sparse as sp

from tccas.model.errors import TccasInputError
from tccas.model.verification import dot_product_test, random_directions, taylor_test
from tccas.operators.mixing import (
    mix_linear,
    mix_linear_ad,
    mix_transmissivity,
    mix_transmissivity_ad,
    mix_transmissivity_tl,
    normalised,
)

WEIGHTS = sp.csr_matrix(np.array([[0.2, 0.3, 0.0, 0.5],
                                  [0.0, 0.0, 0.9, 0.0],
                                  [0.1, 0.1, 0.1, 0.1]]))


def test_rows_normalised_and_identical_tiles():
    assert np.allclose(np.asarray(normalised(WEIGHTS).sum(axis=1)).ravel(), 1.0)
    same = np.full(4, 0.7)
    np.testing.assert_allclose(mix_transmissivity(WEIGHTS, same), 0.7)
    np.testing.assert_allclose(mix_linear(WEIGHTS, same), 0.7)


def test_transmissivity_mixing_of_bare_and_dense_tiles():
    """Half bare soil (tau 0), half forest (tau 1): tau = -ln((1 + e^-1)/2) = 0.3799,
    less than the linear mean 0.5."""
    weights = sp.csr_matrix([[0.5, 0.5]])
    assert mix_transmissivity(weights, np.array([0.0, 1.0]))[0] == pytest.approx(
        -np.log((1 + np.exp(-1)) / 2))


def test_empty_footprint_is_an_error():
    with pytest.raises(TccasInputError, match="observation 1 covers no model tile"):
        normalised(sp.csr_matrix([[1.0, 0.0], [0.0, 0.0]]))


def test_mixing_derivatives():
    tau, dtau, dobs = random_directions(21, (4,), (4,), (3,))
    tau = np.abs(tau)
    result = taylor_test(lambda x: mix_transmissivity(WEIGHTS, x),
                         lambda x, dx: mix_transmissivity_tl(WEIGHTS, x, dx)[1], tau, dtau)
    assert result.min_relative_error < 1e-8
    dot = dot_product_test(lambda x, dx: mix_transmissivity_tl(WEIGHTS, x, dx)[1],
                           lambda x, yb: mix_transmissivity_ad(WEIGHTS, x, yb), tau, dtau,
                           dobs)
    assert dot.relative_error < 1e-12
    dot = dot_product_test(lambda x, dx: mix_linear(WEIGHTS, dx),
                           lambda x, yb: mix_linear_ad(WEIGHTS, yb), tau, dtau, dobs)
    assert dot.relative_error < 1e-12


def test_transmissivity_tangent_of_many_directions():
    tau = np.array([0.1, 0.5, 1.0, 0.3])
    (directions,) = random_directions(8, (4, 6))
    _, many = mix_transmissivity_tl(WEIGHTS, tau, directions)
    for k in range(6):
        _, one = mix_transmissivity_tl(WEIGHTS, tau, directions[:, k])
        np.testing.assert_allclose(many[:, k], one, rtol=1e-14)
