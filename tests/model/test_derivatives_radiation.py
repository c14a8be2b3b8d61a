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
from tccas.model.verification import check_kernel_by_component

SEEDS = st.integers(0, 2**32 - 1)

LAI = st.floats(0.01, 10.0)
# effective LAI L / fc up to 100; beyond L / fc of about 30 the LAI sensitivity of the top
# layer falls below 1e-8 of its absorption, which central differences cannot resolve (see
# ``tccas.model.verification.resolvable``; the tangent there agrees with a 50-digit
# evaluation of the formula to 1e-9)
COVER = st.floats(0.1, 1.0)
MU = st.one_of(st.floats(0.01, 1.0),
               st.floats(MU_RESONANCE - 1.2 * MU_RESONANCE_HALF_WIDTH,
                         MU_RESONANCE + 1.2 * MU_RESONANCE_HALF_WIDTH))
F_DIR = st.floats(0.0, 1.0)
# a margin of 2e-3 around the kink of max(0.92 albedo - 0.015, 0), where central
# differences straddle two slopes
ALBEDO = st.floats(0.0, 0.8).filter(lambda albedo: abs(0.92 * albedo - 0.015) > 2e-3)


@settings(max_examples=60, deadline=None)
@given(lai=LAI, cover=COVER, mu=MU, f_dir=F_DIR, albedo=ALBEDO, seed=SEEDS)
def test_canopy_par_absorption_derivatives(lai, cover, mu, f_dir, albedo, seed):
    rho_soil = background_par_albedo(albedo)
    check_kernel_by_component(canopy_par_absorption, canopy_par_absorption_tl,
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
    check_kernel_by_component(two_stream_net_flux, two_stream_net_flux_tl, two_stream_net_flux_ad,
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
    check_kernel_by_component(background_par_albedo, background_par_albedo_tl,
                      background_par_albedo_ad, (albedo,), (0,), (0.002,), seed)
    slope = background_par_albedo_ad(albedo, 1.0)
    assert slope == (0.92 if albedo > 0.015 / 0.92 else 0.0)


@settings(max_examples=40, deadline=None)
@given(lai_above=st.floats(0.0, 10.0),
       mu_noon=st.one_of(st.floats(0.0, 1e-3), st.floats(1e-3, 1.0)),
       scaled=st.booleans(), seed=SEEDS)
def test_nitrogen_scaling_derivatives(lai_above, mu_noon, scaled, seed):
    check_kernel_by_component(nitrogen_scaling, nitrogen_scaling_tl, nitrogen_scaling_ad,
                      (lai_above, mu_noon, scaled), (0,), (0.1 * lai_above + 0.01,), seed)
    if not scaled:
        assert nitrogen_scaling_ad(lai_above, mu_noon, scaled, 1.0) == 0.0


@settings(max_examples=40, deadline=None)
@given(lai=LAI, cover=st.floats(0.05, 1.0), seed=SEEDS)
def test_longwave_transmissivity_derivatives(lai, cover, seed):
    check_kernel_by_component(longwave_transmissivity, longwave_transmissivity_tl,
                      longwave_transmissivity_ad, (lai, cover), (0,), (0.1 * lai,), seed)
