"""Tangent-linear and adjoint of the smooth switches (model/kernels/smooth.py).

Each kernel, seen as a map of its active inputs, passes a Taylor test along a random
direction and along every input, a dot-product test, and gives for k directions at once
what k single directions give; inputs are drawn by hypothesis on every branch.
"""

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tccas.model.kernels.smooth import (
    excess,
    excess_ad,
    excess_tl,
    limited_loss,
    limited_loss_ad,
    limited_loss_tl,
    logistic,
    logistic_ad,
    logistic_tl,
    maxx,
    maxx_ad,
    maxx_tl,
    mins,
    mins_ad,
    mins_tl,
    minx,
    minx_ad,
    minx_tl,
)
from tccas.model.verification import dot_product_test, taylor_test

SEEDS = st.integers(0, 2**32 - 1)
# dot products whose terms cancel by more than this factor are redrawn: rounding, not the
# adjoint, would decide a 1e-12 comparison of such sums
MAX_CANCELLATION = 1e3


def kernel_maps(primal, tangent_linear, adjoint, args, active):
    """The kernel ``primal(*args)`` as maps of its active arguments (positions ``active``):
    ``function(x) -> y``, ``tangent(x, dx) -> dy`` (dx of shape (n,) or (n, k)) and
    ``adjoint(x, y_b) -> x_b``."""

    def inputs(x):
        values = list(args)
        for position, value in zip(active, x, strict=True):
            values[position] = float(value)
        return values

    def function(x):
        return np.atleast_1d(np.asarray(primal(*inputs(x)), dtype=np.float64))

    def tangent(x, dx):
        dx = np.asarray(dx, dtype=np.float64)
        directions = np.ascontiguousarray(dx.reshape(len(active), -1))
        out = np.empty((function(x).size, directions.shape[1]))
        value = tangent_linear(*inputs(x), *directions, *out)
        # the primal that the tangent-linear returns: the same up to fused multiply-adds,
        # whose rounding exp(-x) amplifies x-fold
        primal_value = function(x)
        assert np.all(np.abs(np.atleast_1d(value) - primal_value)
                      <= 1e-12 * np.abs(primal_value)), (value, primal_value)
        return out[:, 0] if dx.ndim == 1 else out

    def adjoint_map(x, y_b):
        return np.atleast_1d(np.asarray(adjoint(*inputs(x), *y_b), dtype=np.float64))

    return function, tangent, adjoint_map


def assert_taylor(function, tangent, x, direction):
    """Taylor test along ``direction``: :func:`tccas.model.verification.taylor_test`, whose
    verdict is checked again where it fails, with the rounding of the function measured
    instead of assumed to be eps |f|, and with an h^2 criterion that tolerates the dip of
    the remainder where its h^2 and h^3 terms cancel.

    A quartic fitted to the function at 13 irregularly spaced points within 1e-2
    direction of x (regular steps from round inputs can round alike and hide the noise)
    gives a finite-difference slope; its residual, the second differences at the five
    smallest Taylor steps (where a nearly flat function that loses digits to cancellation
    shows its rare jumps) and eps |f| over the outputs that vary bound the rounding noise.

    The best central-difference agreement must be below 1e-6, unless the noise alone puts
    the rounding error of the central difference at the best step above 1e-7: finite
    differences cannot check such a direction, the dot-product test still covers it. The
    effect of the direction is the larger of the tangent's and the fitted slope, so that a
    tangent missing a dependence is not excused. Wherever the remainder r(h) stands above
    rounding (and 100 times the noise), r(h) / h^2 must stay within 10 times its largest
    value over the first two decades of steps: a first-order part, from a wrong tangent,
    makes it grow like 1 / h.
    """
    offsets = np.sin(np.arange(13.0))
    line = np.array([function(x + 1e-2 * t * direction) for t in offsets])
    basis = np.vander(offsets, 5)
    coefficients = np.linalg.lstsq(basis, line, rcond=None)[0]
    varying = np.ptp(line, axis=0) > 0.0
    second_differences = [function(x + h * direction) + function(x - h * direction) - 2 * line[0]
                          for h in np.logspace(-7.0, -9.0, 5)]
    noise = max(np.finfo(float).eps * np.linalg.norm(line[0][varying]),
                np.linalg.norm(line - basis @ coefficients, axis=1).max(),
                0.5 * np.linalg.norm(second_differences, axis=1).max())
    jdx = np.linalg.norm(tangent(x, direction))
    effect = max(jdx, np.linalg.norm(coefficients[3]) / 1e-2)
    result = taylor_test(function, tangent, x, direction)
    if result.passed:
        return
    best_step = result.steps[np.argmin(result.relative_errors)]
    accurate = result.min_relative_error < 1e-6 or noise > 1e-7 * best_step * effect
    rounding = np.maximum(1e4 * np.finfo(float).eps * (np.linalg.norm(line[0])
                                                        + result.steps * jdx), 100.0 * noise)
    above = result.remainders > rounding
    curvature = result.remainders[above] / result.steps[above] ** 2
    second_order = curvature.size == 0 or curvature.max() <= 10.0 * curvature[:4].max()
    assert accurate and second_order, (x, direction, result)


def check_derivatives(function, tangent, adjoint, x, scale, seed):
    """Taylor tests (a random direction and every input), the dot-product test, and k
    directions at once, for maps of the form of :func:`kernel_maps` at ``x``.

    ``scale`` is the size of the perturbation of each input: small enough to keep the
    Taylor steps inside the input's domain and on its branch; 0 leaves an input
    unperturbed in the Taylor tests (an empty store, whose tangent is 0 in the model).
    """
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), x.shape)
    rng = np.random.default_rng(seed)
    assert_taylor(function, tangent, x, rng.standard_normal(x.size) * scale)
    for i in np.flatnonzero(scale):
        assert_taylor(function, tangent, x, np.eye(x.size)[i] * scale[i])

    dot_scale = np.where(scale > 0.0, scale, 1.0)
    columns = tangent(x, np.diag(dot_scale))
    dx = rng.standard_normal(x.size)
    dy = rng.standard_normal(columns.shape[0])
    while abs(dy @ columns @ dx) * MAX_CANCELLATION < np.abs(dy) @ np.abs(columns) @ np.abs(dx):
        dx = rng.standard_normal(x.size)
        dy = rng.standard_normal(columns.shape[0])
    dot = dot_product_test(tangent, adjoint, x, dx * dot_scale, dy)
    assert dot.passed, dot

    block = rng.standard_normal((x.size, 3)) * dot_scale[:, None]
    together = tangent(x, block)
    for j in range(block.shape[1]):
        np.testing.assert_allclose(together[:, j], tangent(x, block[:, j]), rtol=1e-14,
                                   atol=0.0)


def check_kernel(primal, tangent_linear, adjoint, args, active, scale, seed):
    """:func:`check_derivatives` for the kernel ``primal(*args)`` and its ``_tl``/``_ad``
    pair over the arguments at positions ``active``."""
    x = np.array([float(args[i]) for i in active])
    check_derivatives(*kernel_maps(primal, tangent_linear, adjoint, args, active), x, scale,
                      seed)


# --- minx and maxx: both branches, the exp(-40) cut-off, never within 1 % of x0 of the
# branch boundary (C1 only: finite differences across it lose an order)

@settings(max_examples=100, deadline=None)
@given(x=st.floats(-10.0, 10.0), y=st.floats(-10.0, 10.0), x0=st.floats(1e-3, 1.0),
       seed=SEEDS)
def test_minx_derivatives(x, y, x0, seed):
    assume(abs(x - y - x0) > 0.01 * x0)
    check_kernel(minx, minx_tl, minx_ad, (x, y, x0), (0, 1), 0.01 * x0, seed)


@settings(max_examples=100, deadline=None)
@given(x=st.floats(-10.0, 10.0), y=st.floats(-10.0, 10.0), x0=st.floats(1e-3, 1.0),
       seed=SEEDS)
def test_maxx_derivatives(x, y, x0, seed):
    assume(abs(x - y + x0) > 0.01 * x0)
    check_kernel(maxx, maxx_tl, maxx_ad, (x, y, x0), (0, 1), 0.01 * x0, seed)


def test_minx_maxx_derivatives_on_each_branch():
    """Far below the switch minx follows x (d/dx = 1), above it y (d/dy = 1); maxx the
    mirror image."""
    out = np.empty(1)
    assert minx_tl(-5.0, 1.0, 0.1, np.ones(1), np.zeros(1), out) == -5.0 and out[0] == 1.0
    assert minx_ad(3.0, 1.0, 0.1, 1.0) == (0.0, 1.0)
    assert maxx_tl(5.0, 1.0, 0.1, np.ones(1), np.zeros(1), out) == 5.0 and out[0] == 1.0
    assert maxx_ad(-3.0, 1.0, 0.1, 1.0) == (0.0, 1.0)


# --- mins: co-limited rates, one much smaller than the other or both alike

@settings(max_examples=100, deadline=None)
@given(x=st.floats(1e-3, 10.0), ratio=st.sampled_from([1e-3, 0.1, 0.9, 1.0, 1.1, 10.0, 1e3]),
       eta=st.sampled_from([0.5, 0.9, 0.99, 0.999]), seed=SEEDS)
def test_mins_derivatives(x, ratio, eta, seed):
    y = x * ratio
    check_kernel(mins, mins_tl, mins_ad, (x, y, eta), (0, 1), (0.1 * x, 0.1 * y), seed)


# --- logistic: frozen, thawing and thawed soil, and the underflow branch

@settings(max_examples=60, deadline=None)
@given(x=st.one_of(st.floats(-20.0, 20.0), st.floats(-400.0, -360.0)),
       width=st.sampled_from([0.5, 0.1, 2.0]), seed=SEEDS)
def test_logistic_derivatives(x, width, seed):
    check_kernel(logistic, logistic_tl, logistic_ad, (x, width), (0,), 0.1 * width, seed)


# --- limited_loss: empty stores and zero demand (night) stay unperturbed (kink at 0; their
# tangents are 0 in the model), demand far below and far above the store

STORES = st.one_of(st.just(0.0), st.floats(1e-6, 1e-2), st.floats(1e-2, 100.0))


@settings(max_examples=100, deadline=None)
@given(demand=STORES, available=STORES, seed=SEEDS)
def test_limited_loss_derivatives(demand, available, seed):
    check_kernel(limited_loss, limited_loss_tl, limited_loss_ad, (demand, available),
                      (0, 1), (0.1 * demand, 0.1 * available), seed)


def test_limited_loss_derivatives_at_empty_store_are_zero():
    assert limited_loss_ad(1.0, 0.0, 1.0) == (0.0, 0.0)
    assert limited_loss_ad(0.0, 5.0, 1.0) == (0.0, 0.0)


# --- excess: stores from empty to over capacity, away from the start of the transition

@settings(max_examples=100, deadline=None)
@given(fill=st.one_of(st.floats(0.0, 0.98), st.floats(0.985, 1.05), st.floats(1.05, 3.0)),
       capacity=st.floats(1e-3, 500.0), seed=SEEDS)
def test_excess_derivatives(fill, capacity, seed):
    x = fill * capacity
    check_kernel(excess, excess_tl, excess_ad, (x, capacity), (0, 1),
                      (1e-4 * capacity, 1e-4 * capacity), seed)
