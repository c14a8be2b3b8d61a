"""The derivative harness accepts correct derivatives and rejects wrong ones."""

import math

import numpy as np
import pytest

from tccas.model.verification import (
    check_kernel,
    check_kernel_by_component,
    dot_product_test,
    random_directions,
    taylor_test,
)

A = np.random.default_rng(7).standard_normal((3, 4))


def function(x):
    return np.sin(A @ x) + x[:3] ** 2


def tangent(x, dx):
    return np.cos(A @ x) * (A @ dx) + 2 * x[:3] * dx[:3]


def adjoint(x, y_bar):
    x_bar = A.T @ (np.cos(A @ x) * y_bar)
    x_bar[:3] += 2 * x[:3] * y_bar
    return x_bar


def test_correct_derivatives_pass():
    x, dx, dy = random_directions(3, (4,), (4,), (3,))
    taylor = taylor_test(function, tangent, x, dx)
    assert taylor.passed and taylor.second_order
    assert taylor.min_relative_error < 1e-9
    dot = dot_product_test(tangent, adjoint, x, dx, dy)
    assert dot.passed and dot.relative_error < 1e-14


def test_wrong_derivatives_fail():
    x, dx, dy = random_directions(4, (4,), (4,), (3,))
    taylor = taylor_test(function, lambda x, dx: 1.001 * tangent(x, dx), x, dx)
    assert not taylor.passed and taylor.min_relative_error > 5e-4
    dot = dot_product_test(tangent, lambda x, yb: 1.001 * adjoint(x, yb), x, dx, dy)
    assert not dot.passed


def test_a_tangent_wrong_by_1e5_fails_on_the_remainder():
    """Whatever the step grid, a 1e-5 relative error keeps a first-order remainder."""
    x, dx = random_directions(5, (4,), (4,))
    for grid in (np.logspace(-1, -9, 17), np.logspace(-2, -8, 13), np.logspace(-1, -7, 25)):
        taylor = taylor_test(function, lambda x, dx: (1 + 1e-5) * tangent(x, dx), x, dx,
                             steps=grid)
        assert not taylor.second_order and not taylor.passed


def test_linear_map_is_second_order():
    matrix = np.arange(12.0).reshape(3, 4)
    taylor = taylor_test(lambda x: matrix @ x, lambda x, dx: matrix @ dx, np.ones(4),
                         np.arange(4.0))
    assert taylor.passed


def test_random_directions_are_seeded():
    a = random_directions(11, (5,), (2, 3))
    b = random_directions(11, (5,), (2, 3))
    assert [u.shape for u in a] == [(5,), (2, 3)]
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)


def _kernel(x, y):
    return math.sin(x) * y


def _kernel_tl(x, y, x_d, y_d, out_d, error=0.0):
    for j in range(out_d.size):
        out_d[j] = (1.0 + error) * math.cos(x) * y * x_d[j] + math.sin(x) * y_d[j]
    return _kernel(x, y)


def _kernel_ad(x, y, out_b):
    return math.cos(x) * y * out_b, math.sin(x) * out_b


@pytest.mark.parametrize("checker", [check_kernel, check_kernel_by_component])
def test_kernel_checkers_accept_a_correct_pair(checker):
    checker(_kernel, _kernel_tl, _kernel_ad, (0.7, 1.3), (0, 1), 0.05, 11)


@pytest.mark.parametrize("checker", [check_kernel, check_kernel_by_component])
def test_kernel_checkers_reject_a_tangent_wrong_by_1e5(checker):
    def wrong_tl(x, y, x_d, y_d, out_d):
        return _kernel_tl(x, y, x_d, y_d, out_d, error=1e-5)

    with pytest.raises(AssertionError):
        checker(_kernel, wrong_tl, _kernel_ad, (0.7, 1.3), (0, 1), 0.05, 11)
