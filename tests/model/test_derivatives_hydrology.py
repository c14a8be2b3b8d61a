"""Tangent-linear and adjoint of the water-store kernels (model/kernels/hydrology.py).

Each kernel, seen as a map of its active inputs, passes a Taylor test along a random
direction and along every input, a dot-product test, and gives for k directions at once
what k single directions give; hypothesis draws snow present and absent, frozen and
thawing air, dry and saturated soils, stores near capacity, leaf-off canopies and night
(no potential evaporation). The helpers are those of test_derivatives_smooth.
"""

import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tccas.model.kernels.hydrology import (
    INFILTRATION_MAX,
    K_DRAIN,
    W_CANOPY_PER_LAI,
    interception,
    interception_ad,
    interception_tl,
    snow_cover_fraction,
    snow_cover_fraction_ad,
    snow_cover_fraction_tl,
    snow_pack,
    snow_pack_ad,
    snow_pack_tl,
    soil_water,
    soil_water_ad,
    soil_water_tl,
)
from tccas.model.kernels.smooth import excess, limited_loss, maxx
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


# Kinks of the smooth switches (where they reach their constant branch) are kept at least
# MARGIN of the store's capacity away: the Taylor test's steps would cross them.
MARGIN = 2e-3


def away(value, kink, size):
    return abs(value - kink) > MARGIN * size


# --- snow cover: no snow to deep packs of fresh or old snow

@settings(max_examples=60, deadline=None)
@given(snow=st.one_of(st.just(0.0), st.floats(1e-3, 1.0), st.floats(1.0, 500.0)),
       density=st.floats(30.0, 500.0), seed=SEEDS)
def test_snow_cover_fraction_derivatives(snow, density, seed):
    # smooth through snow = 0, so an empty pack is perturbed too
    check_kernel(snow_cover_fraction, snow_cover_fraction_tl, snow_cover_fraction_ad,
                 (snow, density), (0, 1), (0.1 * snow + 1e-3, 0.1 * density), seed)


# --- interception: dry, wet and full canopies, leaf-off, no rain to heavy rain, night

@settings(max_examples=100, deadline=None)
@given(fill=st.one_of(st.just(0.0), st.floats(1e-4, 1.0)),
       rain=st.one_of(st.just(0.0), st.floats(1e-3, 20.0)),
       lai=st.one_of(st.floats(1e-4, 1e-2), st.floats(0.1, 8.0)), cover=st.floats(0.2, 1.0),
       potential=st.one_of(st.just(0.0), st.floats(1e-4, 1.0)), seed=SEEDS)
def test_interception_derivatives(fill, rain, lai, cover, potential, seed):
    capacity = W_CANOPY_PER_LAI * lai
    canopy_water = fill * capacity
    store = canopy_water + cover * (1.0 - math.exp(-0.5 * lai / cover)) * rain
    wet_fraction = min(store / (capacity + 1e-9), 1.0)
    left = store - limited_loss(potential * wet_fraction, store)
    assume(away(store, 1.01 * (capacity + 1e-9), capacity))
    assume(away(left, 0.99 * capacity, capacity))
    # an empty store (no rain on a dry canopy) has no tangent: it stays unperturbed
    check_kernel(interception, interception_tl, interception_ad,
                 (canopy_water, rain, lai, cover, potential), (0, 2, 4),
                 (0.05 * canopy_water, 0.05 * lai, 0.1 * potential), seed)


# --- snow pack: no snow, thin and deep packs, fresh snowfall, frozen and thawing air,
# sublimation from none to more than the pack

@settings(max_examples=120, deadline=None)
@given(snow=st.one_of(st.just(0.0), st.floats(1e-3, 1.0), st.floats(1.0, 300.0)),
       density=st.floats(50.0, 450.0), albedo=st.floats(0.52, 0.85),
       snowfall=st.one_of(st.just(0.0), st.floats(1e-2, 10.0)),
       t_c=st.one_of(st.floats(-35.0, -0.05), st.floats(0.05, 15.0)),
       potential=st.one_of(st.just(0.0), st.floats(1e-4, 0.5)), seed=SEEDS)
def test_snow_pack_derivatives(snow, density, albedo, snowfall, t_c, potential, seed):
    # keep off the 30 kg m-3 density floor, reached by cold fresh snow
    assume(snow_pack(snow, density, albedo, snowfall, t_c, potential)[1] > 30.5)
    # an empty pack under no snowfall has no tangent: it stays unperturbed
    check_kernel(snow_pack, snow_pack_tl, snow_pack_ad,
                 (snow, density, albedo, snowfall, t_c, potential), (0, 1, 2, 5),
                 (0.1 * snow, 0.05 * density, 0.01, 0.1 * potential), seed)


def test_snow_pack_derivatives_without_snow_are_zero_but_for_albedo():
    """No snow and no snowfall: snow, melt, sublimation and density do not change."""
    outputs = [np.empty(2) for _ in range(5)]
    ones = np.ones(2)
    snow_pack_tl(0.0, 200.0, 0.7, 0.0, 5.0, 0.1, np.zeros(2), ones, ones, ones, *outputs)
    snow_d, density_d, albedo_d, melt_d, sublimation_d = outputs
    assert not snow_d.any() and not melt_d.any() and not sublimation_d.any()
    np.testing.assert_allclose(density_d, 1.0, rtol=1e-15)
    np.testing.assert_allclose(albedo_d, math.exp(-0.01), rtol=1e-15)


# --- soil water: dry to saturated surface layers and root zones, infiltration excess,
# drainage above field capacity, overflow of full stores, night and drought

@st.composite
def soil_states(draw):
    surface_capacity = draw(st.floats(5.0, 30.0))
    field_capacity = surface_capacity * draw(st.floats(0.3, 0.8))
    root_capacity = draw(st.floats(20.0, 400.0))
    surface = surface_capacity * draw(st.one_of(st.floats(1e-4, 0.05), st.floats(0.05, 1.0)))
    root = root_capacity * draw(st.one_of(st.floats(1e-3, 0.05), st.floats(0.05, 1.0)))
    water_input = draw(st.one_of(st.just(0.0), st.floats(1e-3, 5.0), st.floats(5.0, 60.0)))
    demand = draw(st.one_of(st.just(0.0), st.floats(1e-3, 1.0)))
    transpiration = 0.5 * root / root_capacity * draw(st.floats(0.0, 1.0))
    return (surface, root, water_input, demand, transpiration, surface_capacity,
            field_capacity, root_capacity)


@settings(max_examples=120, deadline=None)
@given(args=soil_states(), seed=SEEDS)
def test_soil_water_derivatives(args, seed):
    (surface, root, water_input, demand, transpiration, surface_capacity, field_capacity,
     root_capacity) = args
    assume(abs(water_input - INFILTRATION_MAX + 0.1) > 0.01)
    wet = surface + water_input - maxx(water_input - INFILTRATION_MAX, 0.0, 0.1)
    left = wet - limited_loss(demand * wet / surface_capacity, wet)
    assume(away(left, 0.99 * surface_capacity, surface_capacity))
    below = left - excess(left, surface_capacity)
    assume(away(below, 0.99 * field_capacity, field_capacity))
    drainage = K_DRAIN * maxx(below - field_capacity, 0.0, 0.01 * field_capacity)
    filled = root + left - below + drainage - transpiration
    assume(away(filled, 0.99 * root_capacity, root_capacity))
    scale = (0.01 * surface_capacity, 0.01 * root_capacity, 0.05 * water_input,
             0.1 * demand, 0.1 * transpiration, 0.01 * root_capacity)
    check_kernel(soil_water, soil_water_tl, soil_water_ad, args, (0, 1, 2, 3, 4, 7), scale,
                 seed)
