"""Tangent-linear and adjoint of the leaf photosynthesis kernels
(model/kernels/photosynthesis.py).

Each kernel, seen as a map of its active inputs, passes Taylor tests (along a random
direction for all outputs together, and for every output along the random direction and
along every input), a dot-product test, and gives for k directions at once what k single
directions give. Hypothesis draws leaves from -10 to 50 C, in the dark, at low light and in
full sun, at the top and the bottom of dense canopies, for C3 and C4 plants, and the
kernels' inputs are computed from them by the forward kernels, as in ``tile_hour``.
"""

import math
from dataclasses import dataclass

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tccas.model.kernels.photosynthesis import (
    BETHY_KELVIN,
    E_K4,
    E_KC,
    E_RD,
    E_VCMAX,
    R_GAS,
    arrhenius,
    arrhenius_ad,
    arrhenius_tl,
    c3_assimilation_coupled,
    c3_assimilation_coupled_ad,
    c3_assimilation_coupled_tl,
    c3_assimilation_fixed_ci,
    c3_assimilation_fixed_ci_ad,
    c3_assimilation_fixed_ci_tl,
    c3_capacities,
    c3_capacities_ad,
    c3_capacities_tl,
    c4_assimilation_coupled,
    c4_assimilation_coupled_ad,
    c4_assimilation_coupled_tl,
    c4_assimilation_fixed_ci,
    c4_assimilation_fixed_ci_ad,
    c4_assimilation_fixed_ci_tl,
    c4_capacities,
    c4_capacities_ad,
    c4_capacities_tl,
    co2_conductance,
    co2_conductance_ad,
    co2_conductance_tl,
    dark_inhibition,
    dark_inhibition_ad,
    dark_inhibition_tl,
    heat_inhibition,
    heat_inhibition_ad,
    heat_inhibition_tl,
    temperature_factors,
    temperature_factors_ad,
    temperature_factors_tl,
    unstressed_conductance,
    unstressed_conductance_ad,
    unstressed_conductance_tl,
)
from tccas.model.parameters import constant
from tccas.model.verification import check_kernel_by_component

SEEDS = st.integers(0, 2**32 - 1)

G_MIN = constant("G_MIN")
F_CI_C3 = constant("F_CI_C3")
F_CI_C4 = constant("F_CI_C4")
JMAX_T_SLOPE = constant("JMAX_T_SLOPE")
GAMMA_STAR_SLOPE = constant("GAMMA_STAR_SLOPE")

# maxx keeps 0.04 T and Gamma* = 1.7e-6 T positive; at the lower ends of its transitions
# (T = -0.025 C and -0.0059 C) the second derivative jumps and central differences across
# them lose an order: leaf temperatures keep 2e-3 K away (the Taylor steps stay inside)
KINKS = (-1e-3 / JMAX_T_SLOPE, -1e-8 / GAMMA_STAR_SLOPE)
T_LEAF = st.one_of(st.floats(-10.0, 50.0), st.floats(-0.05, 0.3)).filter(
    lambda t: min(abs(t - kink) for kink in KINKS) > 2e-3)
# absorbed PAR per leaf area: night, the curved range of the dark inhibition, full sun
PAR = st.one_of(st.just(0.0), st.floats(1e-6, 3e-5), st.floats(1e-6, 2.5e-3))
G0 = st.floats(-4.0, math.log10(0.5)).map(lambda exponent: 10.0**exponent)


@dataclass(frozen=True)
class Leaf:
    """Drawn state of one leaf layer (SI units as in the kernels)."""

    t_leaf: float
    par_leaf: float
    vcmax25: float
    a_jv: float
    nscale: float
    ca: float
    g0: float
    pressure: float

    @property
    def factors(self):
        return temperature_factors(self.t_leaf)

    @property
    def heat(self):
        return heat_inhibition(self.t_leaf)

    def c3(self):
        f_vcmax, f_rd, _, jmax_t, _, _ = self.factors
        return c3_capacities(self.vcmax25, self.a_jv, self.nscale, f_vcmax, f_rd, jmax_t,
                             self.par_leaf)

    def c4(self):
        f_vcmax, f_rd, f_k4, _, _, _ = self.factors
        return c4_capacities(self.vcmax25, self.nscale, f_vcmax, f_rd, f_k4, self.par_leaf)


@st.composite
def leaves(draw):
    return Leaf(t_leaf=draw(T_LEAF), par_leaf=draw(PAR), vcmax25=draw(st.floats(5e-6, 1e-4)),
                a_jv=draw(st.floats(1.5, 2.5)), nscale=draw(st.floats(0.01, 1.0)),
                ca=draw(st.floats(280e-6, 800e-6)), g0=draw(G0),
                pressure=draw(st.floats(5e4, 1.05e5)))


def relative_scale(values):
    """Perturbation sizes: a tenth of each input. Inputs that are 0 stay unperturbed, as in
    the model: absorbed PAR, J and C4 J_E at night, Jmax(T) and Gamma* below 0 C lie on
    clamped branches whose tangents vanish; where PAR and Jmax(T) both vanish, J is not
    differentiable at all beyond the 1e-30 regularisation."""
    return 0.1 * np.abs(np.asarray(values, dtype=np.float64))


# --- temperature and light responses

@settings(max_examples=30, deadline=None)
@given(t_leaf=T_LEAF, energy=st.sampled_from([E_VCMAX, E_RD, E_K4, E_KC]), seed=SEEDS)
def test_arrhenius_derivatives(t_leaf, energy, seed):
    check_kernel_by_component(arrhenius, arrhenius_tl, arrhenius_ad, (t_leaf, energy), (0,), (0.5,),
                      seed)


@settings(max_examples=30, deadline=None)
@given(t_leaf=st.floats(-10.0, 80.0), seed=SEEDS)
def test_heat_inhibition_derivatives(t_leaf, seed):
    check_kernel_by_component(heat_inhibition, heat_inhibition_tl, heat_inhibition_ad, (t_leaf,),
                      (0,), (0.5,), seed)
    # the derivative keeps its digits where the inhibition rounds to 1
    e = math.exp(1.3 * (t_leaf - 55.0))
    np.testing.assert_allclose(heat_inhibition_ad(t_leaf, 1.0), -1.3 * e / (1.0 + e) ** 2,
                               rtol=1e-13)


@settings(max_examples=30, deadline=None)
@given(par_leaf=PAR, seed=SEEDS)
def test_dark_inhibition_derivatives(par_leaf, seed):
    check_kernel_by_component(dark_inhibition, dark_inhibition_tl, dark_inhibition_ad, (par_leaf,),
                      (0,), relative_scale([par_leaf]), seed)


@settings(max_examples=40, deadline=None)
@given(t_leaf=T_LEAF, seed=SEEDS)
def test_temperature_factors_derivatives(t_leaf, seed):
    check_kernel_by_component(temperature_factors, temperature_factors_tl, temperature_factors_ad,
                      (t_leaf,), (0,), (0.5,), seed)


# --- leaf capacities

@settings(max_examples=40, deadline=None)
@given(leaf=leaves(), seed=SEEDS)
def test_c3_capacities_derivatives(leaf, seed):
    f_vcmax, f_rd, _, jmax_t, _, _ = leaf.factors
    args = (leaf.vcmax25, leaf.a_jv, leaf.nscale, f_vcmax, f_rd, jmax_t, leaf.par_leaf)
    check_kernel_by_component(c3_capacities, c3_capacities_tl, c3_capacities_ad, args,
                      tuple(range(7)), relative_scale(args), seed)


@settings(max_examples=40, deadline=None)
@given(leaf=leaves(), seed=SEEDS)
def test_c4_capacities_derivatives(leaf, seed):
    f_vcmax, f_rd, f_k4, _, _, _ = leaf.factors
    args = (leaf.vcmax25, leaf.nscale, f_vcmax, f_rd, f_k4, leaf.par_leaf)
    check_kernel_by_component(c4_capacities, c4_capacities_tl, c4_capacities_ad, args,
                      tuple(range(6)), relative_scale(args), seed)


# --- assimilation, pass 1 (fixed Ci) and pass 2 (diffusion-limited Ci)

@settings(max_examples=40, deadline=None)
@given(leaf=leaves(), seed=SEEDS)
def test_c3_assimilation_fixed_ci_derivatives(leaf, seed):
    vcmax, j, _ = leaf.c3()
    _, _, _, _, gamma_star, k2 = leaf.factors
    args = (vcmax, j, gamma_star, k2, F_CI_C3 * leaf.ca, leaf.heat)
    check_kernel_by_component(c3_assimilation_fixed_ci, c3_assimilation_fixed_ci_tl,
                      c3_assimilation_fixed_ci_ad, args, (0, 1, 2, 3, 5),
                      relative_scale([vcmax, j, gamma_star, k2, leaf.heat]), seed)


@settings(max_examples=30, deadline=None)
@given(leaf=leaves(), seed=SEEDS)
def test_c4_assimilation_fixed_ci_derivatives(leaf, seed):
    je, _, k = leaf.c4()
    args = (je, k, F_CI_C4 * leaf.ca, leaf.heat)
    check_kernel_by_component(c4_assimilation_fixed_ci, c4_assimilation_fixed_ci_tl,
                      c4_assimilation_fixed_ci_ad, args, (0, 1, 3),
                      relative_scale([je, k, leaf.heat]), seed)


@settings(max_examples=50, deadline=None)
@given(leaf=leaves(), seed=SEEDS)
def test_c3_assimilation_coupled_derivatives(leaf, seed):
    vcmax, j, rd = leaf.c3()
    _, _, _, _, gamma_star, k2 = leaf.factors
    args = (vcmax, j, rd, gamma_star, k2, leaf.g0, leaf.ca, leaf.heat)
    check_kernel_by_component(c3_assimilation_coupled, c3_assimilation_coupled_tl,
                      c3_assimilation_coupled_ad, args, (0, 1, 2, 3, 4, 5, 7),
                      relative_scale([vcmax, j, rd, gamma_star, k2, leaf.g0, leaf.heat]), seed)


@settings(max_examples=40, deadline=None)
@given(leaf=leaves(), seed=SEEDS)
def test_c4_assimilation_coupled_derivatives(leaf, seed):
    je, rd, k = leaf.c4()
    args = (je, k, rd, leaf.g0, leaf.ca, leaf.heat)
    check_kernel_by_component(c4_assimilation_coupled, c4_assimilation_coupled_tl,
                      c4_assimilation_coupled_ad, args, (0, 1, 2, 3, 5),
                      relative_scale([je, k, rd, leaf.g0, leaf.heat]), seed)


# --- stomatal conductance

@settings(max_examples=40, deadline=None)
@given(leaf=leaves(), is_c4=st.booleans(), seed=SEEDS)
def test_unstressed_conductance_derivatives(leaf, is_c4, seed):
    _, _, _, _, gamma_star, k2 = leaf.factors
    if is_c4:
        ci0 = F_CI_C4 * leaf.ca
        je, rd, k = leaf.c4()
        a_gross = c4_assimilation_fixed_ci(je, k, ci0, leaf.heat)
    else:
        ci0 = F_CI_C3 * leaf.ca
        vcmax, j, rd = leaf.c3()
        a_gross = c3_assimilation_fixed_ci(vcmax, j, gamma_star, k2, ci0, leaf.heat)
    # away from the lower end of the smooth bound at 0.9 g_min (C1 only, see T_LEAF)
    g = (1.6 * (a_gross - rd) * R_GAS * (leaf.t_leaf + BETHY_KELVIN)
         / (leaf.pressure * (leaf.ca - ci0)))
    assume(abs(g - 0.9 * G_MIN) > 0.01 * G_MIN)
    args = (a_gross, rd, leaf.ca, ci0, leaf.t_leaf, leaf.pressure, G_MIN)
    check_kernel_by_component(unstressed_conductance, unstressed_conductance_tl,
                      unstressed_conductance_ad, args, (0, 1, 4),
                      [*relative_scale([a_gross, rd]), 0.5], seed)


@settings(max_examples=30, deadline=None)
@given(leaf=leaves(), seed=SEEDS)
def test_co2_conductance_derivatives(leaf, seed):
    g_water = leaf.g0 / co2_conductance(1.0, leaf.t_leaf, leaf.pressure)
    args = (g_water, leaf.t_leaf, leaf.pressure)
    check_kernel_by_component(co2_conductance, co2_conductance_tl, co2_conductance_ad, args, (0, 1),
                      (0.1 * g_water, 0.5), seed)
    np.testing.assert_allclose(co2_conductance(*args), leaf.g0, rtol=1e-14)
