"""Tangent-linear and adjoint of the micrometeorology kernels (model/kernels/micromet.py).

Each kernel, seen as a map of its active inputs, passes a Taylor test along a random
direction and along every input, a dot-product test, and gives for k directions at once
what k single directions give; hypothesis draws day and night, frozen and warm air, wet
and dry canopies, drought and leaf-off. The helpers are those of test_derivatives_smooth.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tccas.model.kernels.micromet import (
    CP_AIR,
    air_density,
    canopy_temperature,
    canopy_temperature_ad,
    canopy_temperature_tl,
    latent_heat,
    net_radiation,
    net_radiation_ad,
    net_radiation_tl,
    penman_monteith,
    penman_monteith_ad,
    penman_monteith_tl,
    psychrometric_constant,
    saturation_vapour_pressure,
    water_limitation,
    water_limitation_ad,
    water_limitation_tl,
)
from tccas.model.kernels.smooth import logistic
from tccas.model.parameters import constant
from tccas.model.verification import dot_product_test, taylor_test

C_W = constant("C_W")
ETA = constant("ETA_COLIMIT")

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


def air(t_c, pressure):
    """Forcing-only quantities of tile_hour: slope [Pa K-1], gamma [Pa K-1], lambda
    [J kg-1], rho c_p [J m-3 K-1]."""
    lam = latent_heat(t_c)
    return (saturation_vapour_pressure(t_c)[1], psychrometric_constant(pressure, lam), lam,
            air_density(t_c, pressure) * CP_AIR)


# frozen to hot air, on both sides of the water/ice switch of the Magnus formula (air
# temperature is forcing: no kernel here is differentiated with respect to it)
AIR_TEMPERATURES = st.floats(-35.0, 40.0)
PRESSURES = st.floats(7.0e4, 1.03e5)
CONDUCTANCES = st.floats(0.01, 0.3)


# --- net radiation: night (no shortwave), snow-covered and dark ground, bare to closed canopy

@settings(max_examples=60, deadline=None)
@given(shortwave=st.one_of(st.just(0.0), st.floats(1.0, 1000.0)),
       longwave_net=st.floats(-150.0, 50.0), fapar=st.floats(0.0, 0.98),
       albedo_bg=st.floats(0.05, 0.85), tl=st.floats(0.0, 1.0), seed=SEEDS)
def test_net_radiation_derivatives(shortwave, longwave_net, fapar, albedo_bg, tl, seed):
    check_kernel(net_radiation, net_radiation_tl, net_radiation_ad,
                 (shortwave, longwave_net, fapar, albedo_bg, tl), (2, 3, 4), 0.01, seed)


# --- Penman-Monteith: net radiation from night to noon, wet (g_c = 0) and dry surfaces

@settings(max_examples=80, deadline=None)
@given(t_c=AIR_TEMPERATURES, pressure=PRESSURES, vpd=st.floats(0.0, 4000.0),
       rn=st.floats(-150.0, 700.0), g_a=CONDUCTANCES,
       g_c=st.one_of(st.just(0.0), st.floats(1e-5, 0.05)), seed=SEEDS)
def test_penman_monteith_derivatives(t_c, pressure, vpd, rn, g_a, g_c, seed):
    slope, gamma, lam, rho_cp = air(t_c, pressure)
    # the wet branch (g_c = 0) is called with the constant 0: g_c stays unperturbed there
    check_kernel(penman_monteith, penman_monteith_tl, penman_monteith_ad,
                 (slope, gamma, rn, rho_cp * vpd * g_a, g_a, g_c, lam), (2, 5),
                 (10.0, 0.1 * g_c), seed)


# --- water limitation: demand from Penman-Monteith as in tile_hour, supply from a wet to
# a dry or frozen root zone, and night (no demand: both outputs constant)

@settings(max_examples=100, deadline=None)
@given(t_c=AIR_TEMPERATURES, pressure=PRESSURES, vpd=st.floats(1.0, 4000.0),
       rn=st.one_of(st.floats(-150.0, -1.0), st.floats(1.0, 700.0)), g_a=CONDUCTANCES,
       g_c0=st.floats(1e-4, 0.05), root_fill=st.floats(1e-3, 1.0),
       t_soil=st.floats(-10.0, 15.0), seed=SEEDS)
def test_water_limitation_derivatives(t_c, pressure, vpd, rn, g_a, g_c0, root_fill, t_soil,
                                      seed):
    slope, gamma, lam, rho_cp = air(t_c, pressure)
    aero = rho_cp * vpd * g_a
    demand = penman_monteith(slope, gamma, rn, aero, g_a, g_c0, lam)
    supply = C_W * root_fill * logistic(t_soil, 0.5) / 3600.0
    args = (demand, supply, slope * rn + aero, slope, gamma, g_a, g_c0, lam, ETA)
    check_kernel(water_limitation, water_limitation_tl, water_limitation_ad, args,
                 (0, 1, 2, 6), (0.01 * abs(demand), 0.01 * supply, 0.01 * abs(args[2]),
                                0.01 * g_c0), seed)


def test_water_limitation_derivatives_vanish_at_night():
    transpiration_d, factor_d = np.empty(2), np.empty(2)
    ones = np.ones(2)
    result = water_limitation_tl(-1e-6, 1e-4, -50.0, 100.0, 66.0, 0.1, 0.01, 2.5e6, ETA,
                                 ones, ones, ones, ones, transpiration_d, factor_d)
    assert result == (0.0, 1.0)
    assert not transpiration_d.any() and not factor_d.any()
    assert water_limitation_ad(-1e-6, 1e-4, -50.0, 100.0, 66.0, 0.1, 0.01, 2.5e6, ETA,
                               1.0, 1.0) == (0.0, 0.0, 0.0, 0.0)


# --- canopy temperature: closed canopies and leaf-off (1 - tl under its floor of 1e-3),
# away from the floor by 10 %, with latent heat from none to strong evaporation

@settings(max_examples=100, deadline=None)
@given(t_c=AIR_TEMPERATURES, pressure=PRESSURES, longwave_net=st.floats(-150.0, 50.0),
       shortwave=st.one_of(st.just(0.0), st.floats(1.0, 1000.0)), fapar=st.floats(0.0, 0.98),
       albedo_bg=st.floats(0.05, 0.85),
       open_fraction=st.one_of(st.floats(1.1e-3, 1.0), st.floats(0.0, 0.9e-3)),
       latent_flux=st.floats(0.0, 500.0), g_a=CONDUCTANCES, seed=SEEDS)
def test_canopy_temperature_derivatives(t_c, pressure, longwave_net, shortwave, fapar,
                                        albedo_bg, open_fraction, latent_flux, g_a, seed):
    rho_cp = air(t_c, pressure)[3]
    tl = 1.0 - open_fraction
    _, _, ground_heat, a_v = net_radiation(shortwave, longwave_net, fapar, albedo_bg, tl)
    args = (t_c, longwave_net, ground_heat, a_v, tl, shortwave, latent_flux, rho_cp * g_a)
    scale = (1.0, 0.01, 0.05 * min(open_fraction, abs(open_fraction - 1e-3)), 10.0)
    check_kernel(canopy_temperature, canopy_temperature_tl, canopy_temperature_ad, args,
                 (2, 3, 4, 6), scale, seed)
