"""Tangent-linear and adjoint of the canopy radiation kernels (model/kernels/radiation.py).

Each kernel, seen as a map of its active inputs, passes Taylor tests (along a random
direction for all outputs together, and for every output along the random direction and
along every input), a dot-product test, and gives for k directions at once what k single
directions give. Hypothesis draws the sun from night to zenith, through the two-stream
resonance window, LAI from leaf-off to dense canopies, and bright to dark backgrounds.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tccas.model.kernels.radiation import (
    MU_NIGHT,
    MU_RESONANCE,
    MU_RESONANCE_HALF_WIDTH,
    background_par_albedo,
    background_par_albedo_ad,
    background_par_albedo_tl,
    canopy_par_absorption,
    canopy_par_absorption_ad,
    canopy_par_absorption_tl,
    longwave_transmissivity,
    longwave_transmissivity_ad,
    longwave_transmissivity_tl,
    nitrogen_scaling,
    nitrogen_scaling_ad,
    nitrogen_scaling_tl,
    two_stream_net_flux,
    two_stream_net_flux_ad,
    two_stream_net_flux_tl,
)
from tccas.model.verification import TAYLOR_TOLERANCE, dot_product_test, taylor_test

SEEDS = st.integers(0, 2**32 - 1)
# the best central difference is only good to about (noise / change)^(2/3) (truncation
# against rounding), so directions along which the primal's rounding noise exceeds this
# fraction of the change of its outputs per unit step are not Taylor-tested; the
# dot-product test still covers them
RESOLVABLE = 3e-11
# directions whose dot-product terms cancel by more than this factor are redrawn: rounding,
# not the adjoint, would decide a 1e-12 comparison of such sums
MAX_CANCELLATION = 1e3

LAI = st.floats(0.01, 10.0)
# effective LAI L / fc up to 100; beyond L / fc of about 30 the LAI sensitivity of the top
# layer falls below 1e-8 of its absorption, which central differences cannot resolve (see
# ``resolvable``; the tangent there agrees with a 50-digit evaluation of the formula to
# 1e-9)
COVER = st.floats(0.1, 1.0)
MU = st.one_of(st.floats(0.01, 1.0),
               st.floats(MU_RESONANCE - 1.2 * MU_RESONANCE_HALF_WIDTH,
                         MU_RESONANCE + 1.2 * MU_RESONANCE_HALF_WIDTH))
F_DIR = st.floats(0.0, 1.0)
# a margin of 2e-3 around the kink of max(0.92 albedo - 0.015, 0), where central
# differences straddle two slopes
ALBEDO = st.floats(0.0, 0.8).filter(lambda albedo: abs(0.92 * albedo - 0.015) > 2e-3)


def kernel_maps(primal, tangent_linear, adjoint, args, active):
    """The kernel ``primal(*args)`` as maps of its active arguments (positions ``active``):
    ``function(x) -> y``, ``tangent(x, dx) -> dy`` (dx of shape (n,) or (n, k)) and
    ``adjoint(x, y_b) -> x_b``; ``value(x)`` gives the primal outputs that the
    tangent-linear kernel returns."""

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
        tangent_linear(*inputs(x), *directions, *out)
        return out[:, 0] if dx.ndim == 1 else out

    def value(x):
        directions = np.zeros((len(active), 1))
        out = np.empty((function(x).size, 1))
        return np.atleast_1d(np.asarray(tangent_linear(*inputs(x), *directions, *out)))

    def adjoint_map(x, y_b):
        return np.atleast_1d(np.asarray(adjoint(*inputs(x), *y_b), dtype=np.float64))

    return function, tangent, adjoint_map, value


def rounding_noise(function, x, direction):
    """Rounding noise of each output of the primal near ``x``: the rounding of the output
    or, where larger, the departure of f(x +- h dx) from the straight line through f(x)
    with the central-difference slope at 1e-4, for h of 1e-7 to 1e-9 (the curvature is far
    below rounding there; an output that moves in steps, or not at all, shows its steps)."""
    y = function(x)
    slope = (function(x + 1e-4 * direction) - function(x - 1e-4 * direction)) / 2e-4
    noise = np.finfo(float).eps * np.abs(y)
    for h in (1e-7, 1e-8, 1e-9):
        for step in (h, -h):
            noise = np.maximum(noise, np.abs(function(x + step * direction) - y - step * slope))
    return noise


def resolvable(function, x, direction):
    """Whether central differences of ``function`` along ``direction`` can check a tangent
    to 1e-6: the rounding noise against the change of the outputs per unit step (a central
    difference at 1e-4). Both come from the primal only, so a wrong tangent cannot exempt
    itself."""
    change = np.linalg.norm(function(x + 1e-4 * direction)
                            - function(x - 1e-4 * direction)) / 2e-4
    return np.linalg.norm(rounding_noise(function, x, direction)) < RESOLVABLE * change


def assert_taylor(function, tangent, x, direction):
    """Taylor test: best central-difference agreement below 1e-6, and a first-order
    remainder r(h) = |f(x + h dx) - f(x) - h J dx| that falls like h^2 down to the rounding
    noise of the primal: by more than 5 over the last half decade of h where it stands 20
    times clear of the noise (h^2 gives 10; a tangent off by delta leaves delta h |J dx|,
    which gives 3.2). Where the h^2 term shows only above its asymptotic range or hides
    below the noise, r(h) must instead reach 1e-7 of h |J dx| at some step or never exceed
    ten times the noise.

    (The minimum over h of the central-difference error alone can pass a tangent off by
    1e-5: the truncation error sweeps through that value at some step.)
    """
    result = taylor_test(function, tangent, x, direction)
    assert result.min_relative_error < TAYLOR_TOLERANCE, (x, direction, result.relative_errors)
    remainders = result.remainders
    noise = np.linalg.norm(rounding_noise(function, x, direction))
    clear = np.flatnonzero(remainders > 20.0 * noise)
    last = clear[-1] if clear.size else 0
    falls_like_h2 = last > 0 and last - 1 in clear and remainders[last - 1] > 5.0 * remainders[last]
    one_sided = remainders / (result.steps * np.linalg.norm(tangent(x, direction)))
    assert (falls_like_h2 or one_sided.min() < 1e-7
            or remainders.max() <= 10.0 * noise), (remainders, noise)


def check_derivatives(primal, tangent_linear, adjoint, args, active, scale, seed):
    """Taylor, dot-product and k-direction tests of a kernel at ``args``.

    ``scale`` is the size of the perturbation of each active input: small enough to keep
    the Taylor steps inside the input's domain and on its branch.
    """
    function, tangent, adjoint_map, value = kernel_maps(primal, tangent_linear, adjoint,
                                                        args, active)
    x = np.array([float(args[i]) for i in active])
    scale = np.broadcast_to(np.asarray(scale, dtype=np.float64), x.shape)
    y = function(x)
    rng = np.random.default_rng(seed)
    columns = tangent(x, np.diag(scale))

    random_direction = rng.standard_normal(x.size) * scale
    # the tangent-linear kernel returns the primal outputs (to their rounding: fast-math
    # code inlined beside the partials may fuse operations differently)
    assert np.all(np.abs(value(x) - y) <= 4.0 * rounding_noise(function, x, random_direction))
    if resolvable(function, x, random_direction):
        assert_taylor(function, tangent, x, random_direction)
    for i in range(y.size):
        def component(x, i=i):
            return function(x)[i:i + 1]

        def component_tangent(x, dx, i=i):
            return tangent(x, dx)[i:i + 1]

        for direction in [random_direction, *np.diag(scale)]:
            if resolvable(component, x, direction):
                assert_taylor(component, component_tangent, x, direction)

    dx = rng.standard_normal(x.size)
    dy = rng.standard_normal(y.size)
    while abs(dy @ columns @ dx) * MAX_CANCELLATION < np.abs(dy) @ np.abs(columns) @ np.abs(dx):
        dx = rng.standard_normal(x.size)
        dy = rng.standard_normal(y.size)
    dot = dot_product_test(tangent, adjoint_map, x, dx * scale, dy)
    assert dot.passed, dot

    block = rng.standard_normal((x.size, 3)) * scale[:, None]
    together = tangent(x, block)
    for j in range(block.shape[1]):
        np.testing.assert_allclose(together[:, j], tangent(x, block[:, j]), rtol=1e-14,
                                   atol=0.0)


@settings(max_examples=60, deadline=None)
@given(lai=LAI, cover=COVER, mu=MU, f_dir=F_DIR, albedo=ALBEDO, seed=SEEDS)
def test_canopy_par_absorption_derivatives(lai, cover, mu, f_dir, albedo, seed):
    rho_soil = background_par_albedo(albedo)
    check_derivatives(canopy_par_absorption, canopy_par_absorption_tl,
                      canopy_par_absorption_ad, (lai, cover, mu, f_dir, rho_soil), (0, 4),
                      (0.1 * lai, 0.02), seed)


@settings(max_examples=20, deadline=None)
@given(lai=LAI, cover=COVER, mu=st.floats(0.0, 0.999 * MU_NIGHT), f_dir=F_DIR,
       albedo=ALBEDO)
def test_canopy_par_absorption_derivatives_vanish_at_night(lai, cover, mu, f_dir, albedo):
    rho_soil = background_par_albedo(albedo)
    outputs = np.full((4, 2), np.nan)
    values = canopy_par_absorption_tl(lai, cover, mu, f_dir, rho_soil, np.ones(2),
                                      np.ones(2), *outputs)
    assert values == (0.0, 0.0, 0.0, 0.0)
    np.testing.assert_array_equal(outputs, 0.0)
    assert canopy_par_absorption_ad(lai, cover, mu, f_dir, rho_soil, 1.0, 1.0, 1.0,
                                    1.0) == (0.0, 0.0)


@settings(max_examples=40, deadline=None)
@given(lai_eff=st.floats(0.01, 100.0), fraction=st.floats(0.0, 1.0), mu=MU, f_dir=F_DIR,
       albedo=ALBEDO, seed=SEEDS)
def test_two_stream_net_flux_derivatives(lai_eff, fraction, mu, f_dir, albedo, seed):
    check_derivatives(two_stream_net_flux, two_stream_net_flux_tl, two_stream_net_flux_ad,
                      (fraction * lai_eff, lai_eff, mu, f_dir, background_par_albedo(albedo)),
                      (0, 1, 4), (0.05 * lai_eff, 0.1 * lai_eff, 0.02), seed)


def test_two_stream_net_flux_tangent_is_continuous_at_the_resonance_window():
    """At the edges of the interpolation window the interpolated tangent meets the
    tangent of the closed-form solution."""
    ones = np.ones(1)
    for edge in (MU_RESONANCE - MU_RESONANCE_HALF_WIDTH,
                 MU_RESONANCE + MU_RESONANCE_HALF_WIDTH):
        tangents = []
        for mu in (edge * (1.0 - 1e-12), edge * (1.0 + 1e-12)):
            n_d = np.empty(1)
            two_stream_net_flux_tl(1.2, 3.0, mu, 0.6, 0.15, ones, ones, ones, n_d)
            tangents.append(n_d[0])
        np.testing.assert_allclose(tangents[0], tangents[1], rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(albedo=ALBEDO, seed=SEEDS)
def test_background_par_albedo_derivatives(albedo, seed):
    check_derivatives(background_par_albedo, background_par_albedo_tl,
                      background_par_albedo_ad, (albedo,), (0,), (0.002,), seed)
    slope = background_par_albedo_ad(albedo, 1.0)
    assert slope == (0.92 if albedo > 0.015 / 0.92 else 0.0)


@settings(max_examples=40, deadline=None)
@given(lai_above=st.floats(0.0, 10.0),
       mu_noon=st.one_of(st.floats(0.0, 1e-3), st.floats(1e-3, 1.0)),
       scaled=st.booleans(), seed=SEEDS)
def test_nitrogen_scaling_derivatives(lai_above, mu_noon, scaled, seed):
    check_derivatives(nitrogen_scaling, nitrogen_scaling_tl, nitrogen_scaling_ad,
                      (lai_above, mu_noon, scaled), (0,), (0.1 * lai_above + 0.01,), seed)
    if not scaled:
        assert nitrogen_scaling_ad(lai_above, mu_noon, scaled, 1.0) == 0.0


@settings(max_examples=40, deadline=None)
@given(lai=LAI, cover=st.floats(0.05, 1.0), seed=SEEDS)
def test_longwave_transmissivity_derivatives(lai, cover, seed):
    check_derivatives(longwave_transmissivity, longwave_transmissivity_tl,
                      longwave_transmissivity_ad, (lai, cover), (0,), (0.1 * lai,), seed)
