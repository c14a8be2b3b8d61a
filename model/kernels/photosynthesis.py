"""Leaf photosynthesis of BETHY: Farquhar C3 and Collatz C4, two-pass stomatal scheme.

Sources: Farquhar, von Caemmerer & Berry (1980) Planta 149:78, doi:10.1007/BF00386231;
Collatz, Ribas-Carbo & Berry (1992) Aust. J. Plant Physiol. 19:519, doi:10.1071/PP9920519;
BETHY forms and constants after Knorr (2000), doi:10.1046/j.1365-2699.2000.00159.x, code
``mo_carbon.f90`` (MODEL_SPEC 2.3-2.5, 5.3).

Units: rates per unit leaf area in mol m-2 s-1; Ci, Ca, Gamma*, Kc, Ko in mol mol-1;
temperatures in degC; conductances for water vapour in m s-1; pressure in Pa.

Each differentiable kernel ``f`` has its tangent-linear ``f_tl`` and adjoint ``f_ad``
beside it (convention in :mod:`tccas.model.kernels`); both take their local partial
derivatives from one private ``_f_partials``, so they are consistent by construction, and
``f_tl`` returns the outputs of ``f`` itself (those of the forward model, up to the last bit
where fast-math code inlined beside the partials fuses differently).
The partials of the building blocks (the quadratic root, Arrhenius, the inhibitions and
``maxx_partials``, ``mins_partials`` of :mod:`~tccas.model.kernels.smooth`) also return
their value, which the chain rule needs. Active inputs are those that depend on the state
or the parameters (leaf temperature, absorbed PAR, Vcmax25, a_JV, the nitrogen scaling and
everything derived from them); Ca, Ci0, pressure and g_min are inactive. Where a primal
takes a branch (the clamp at 0 under a square root, the sides of ``maxx``), the derivative
follows the same branch.
"""

import math

from tccas.model.kernels import kernel
from tccas.model.kernels.smooth import maxx, maxx_partials, mins, mins_partials
from tccas.model.parameters import constant

R_GAS = constant("R_GAS")
KC25 = constant("KC25")
KO25 = constant("KO25")
O2 = constant("O2")
E_KC = constant("E_KC")
E_KO = constant("E_KO")
E_VCMAX = constant("E_VCMAX")
E_RD = constant("E_RD")
E_K4 = constant("E_K4")
GAMMA_STAR_SLOPE = constant("GAMMA_STAR_SLOPE")
ALPHA_C3 = constant("ALPHA_C3")
ALPHA_C4 = constant("ALPHA_C4")
THETA_C4 = constant("THETA_C4")
ETA = constant("ETA_COLIMIT")
F_RD_C3 = constant("F_RD_C3")
F_RD_C4 = constant("F_RD_C4")
K_C4_FACTOR = constant("K_C4_FACTOR")
JMAX_T_SLOPE = constant("JMAX_T_SLOPE")
# BETHY's kelvin offset (273.16) and reference temperature (298.16 K) are kept as in BETHY
BETHY_KELVIN = 273.16
T_REF = 298.16


@kernel
def arrhenius(t_leaf: float, activation_energy: float) -> float:
    """Arrhenius factor exp(E (T - 298.16) / (298.16 R T)) relative to 25 C [-]."""
    tk = t_leaf + BETHY_KELVIN
    return math.exp(activation_energy * (tk - T_REF) / (T_REF * R_GAS * tk))


@kernel
def _arrhenius_partials(t_leaf: float, activation_energy: float) -> tuple[float, float]:
    """Arrhenius factor and its derivative by ``t_leaf``: f E / (R T_k^2) [K-1]."""
    tk = t_leaf + BETHY_KELVIN
    factor = math.exp(activation_energy * (tk - T_REF) / (T_REF * R_GAS * tk))
    return factor, factor * activation_energy / (R_GAS * tk * tk)


@kernel
def arrhenius_tl(t_leaf: float, activation_energy: float, t_leaf_d: "float[:]",
                 factor_d: "float[:]") -> float:
    """Tangent-linear of :func:`arrhenius`; active input ``t_leaf`` [degC].

    Writes the tangents of the factor to ``factor_d`` and returns the factor [-].
    """
    factor_t = _arrhenius_partials(t_leaf, activation_energy)[1]
    for i in range(factor_d.shape[0]):
        factor_d[i] = factor_t * t_leaf_d[i]
    return arrhenius(t_leaf, activation_energy)


@kernel
def arrhenius_ad(t_leaf: float, activation_energy: float, factor_b: float) -> float:
    """Adjoint of :func:`arrhenius`: the adjoint of ``t_leaf``."""
    return _arrhenius_partials(t_leaf, activation_energy)[1] * factor_b


@kernel
def heat_inhibition(t_leaf: float) -> float:
    """High-temperature inhibition 1 / (1 + exp(1.3 (T - 55))) [-]."""
    return 1.0 / (1.0 + math.exp(1.3 * (t_leaf - 55.0)))


@kernel
def _heat_inhibition_partials(t_leaf: float) -> tuple[float, float]:
    """Heat inhibition y and its derivative -1.3 e y^2 = -1.3 y (1 - y) by ``t_leaf``
    [K-1], e = exp(1.3 (T - 55)); the first form is used where y is close to 1 (no
    cancellation in 1 - y), the second where e may overflow."""
    e = math.exp(1.3 * (t_leaf - 55.0))
    heat = 1.0 / (1.0 + e)
    if e > 1.0:
        return heat, -1.3 * heat * (1.0 - heat)
    return heat, -1.3 * e * heat * heat


@kernel
def heat_inhibition_tl(t_leaf: float, t_leaf_d: "float[:]", heat_d: "float[:]") -> float:
    """Tangent-linear of :func:`heat_inhibition`; active input ``t_leaf`` [degC].

    Writes the tangents to ``heat_d`` and returns the inhibition factor [-].
    """
    heat_t = _heat_inhibition_partials(t_leaf)[1]
    for i in range(heat_d.shape[0]):
        heat_d[i] = heat_t * t_leaf_d[i]
    return heat_inhibition(t_leaf)


@kernel
def heat_inhibition_ad(t_leaf: float, heat_b: float) -> float:
    """Adjoint of :func:`heat_inhibition`: the adjoint of ``t_leaf``."""
    return _heat_inhibition_partials(t_leaf)[1] * heat_b


@kernel
def dark_inhibition(par_leaf: float) -> float:
    """Light inhibition of leaf respiration 0.5 + exp(-ln 2 - 1e5 I), I [mol m-2 s-1]."""
    return 0.5 + math.exp(-math.log(2.0) - 1e5 * par_leaf)


@kernel
def _dark_inhibition_partials(par_leaf: float) -> tuple[float, float]:
    """Light inhibition of respiration and its derivative by ``par_leaf``
    [per mol m-2 s-1]."""
    e = math.exp(-math.log(2.0) - 1e5 * par_leaf)
    return 0.5 + e, -1e5 * e


@kernel
def dark_inhibition_tl(par_leaf: float, par_leaf_d: "float[:]",
                       inhibition_d: "float[:]") -> float:
    """Tangent-linear of :func:`dark_inhibition`; active input ``par_leaf``
    [mol m-2 s-1].

    Writes the tangents to ``inhibition_d`` and returns the factor [-].
    """
    inhibition_par = _dark_inhibition_partials(par_leaf)[1]
    for i in range(inhibition_d.shape[0]):
        inhibition_d[i] = inhibition_par * par_leaf_d[i]
    return dark_inhibition(par_leaf)


@kernel
def dark_inhibition_ad(par_leaf: float, inhibition_b: float) -> float:
    """Adjoint of :func:`dark_inhibition`: the adjoint of ``par_leaf``."""
    return _dark_inhibition_partials(par_leaf)[1] * inhibition_b


@kernel
def temperature_factors(t_leaf: float) -> tuple[float, float, float, float, float, float]:
    """Leaf-temperature factors shared by all canopy layers (one evaluation per pass).

    Returns (f_vcmax, f_rd, f_k4, jmax_t, gamma_star, k2): Arrhenius factors of Vcmax,
    of dark respiration (times the heat inhibition) and of the C4 PEPcase constant [-];
    the Jmax temperature factor 0.04 T (kept positive smoothly) [-]; the CO2 compensation
    point max(1.7e-6 T, 0) and Kc (1 + O2/Ko) [mol mol-1].
    """
    heat = heat_inhibition(t_leaf)
    kc = KC25 * arrhenius(t_leaf, E_KC)
    ko = KO25 * arrhenius(t_leaf, E_KO)
    return (arrhenius(t_leaf, E_VCMAX), arrhenius(t_leaf, E_RD) * heat,
            arrhenius(t_leaf, E_K4), maxx(JMAX_T_SLOPE * t_leaf, 0.0, 1e-3),
            maxx(GAMMA_STAR_SLOPE * t_leaf, 0.0, 1e-8), kc * (1.0 + O2 / ko))


@kernel
def _temperature_factors_partials(t_leaf: float) -> tuple[float, float, float, float,
                                                         float, float]:
    """Derivatives of the six outputs of :func:`temperature_factors` by ``t_leaf``
    [per K]."""
    heat, heat_t = _heat_inhibition_partials(t_leaf)
    f_kc, f_kc_t = _arrhenius_partials(t_leaf, E_KC)
    f_ko, f_ko_t = _arrhenius_partials(t_leaf, E_KO)
    kc, kc_t = KC25 * f_kc, KC25 * f_kc_t
    ko, ko_t = KO25 * f_ko, KO25 * f_ko_t
    f_vcmax_t = _arrhenius_partials(t_leaf, E_VCMAX)[1]
    f_rd, f_rd_t = _arrhenius_partials(t_leaf, E_RD)
    f_k4_t = _arrhenius_partials(t_leaf, E_K4)[1]
    jmax_t_x = maxx_partials(JMAX_T_SLOPE * t_leaf, 0.0, 1e-3)[1]
    gamma_star_x = maxx_partials(GAMMA_STAR_SLOPE * t_leaf, 0.0, 1e-8)[1]
    return (f_vcmax_t, f_rd_t * heat + f_rd * heat_t, f_k4_t, jmax_t_x * JMAX_T_SLOPE,
            gamma_star_x * GAMMA_STAR_SLOPE, kc_t * (1.0 + O2 / ko) - kc * O2 * ko_t / (ko * ko))


@kernel
def temperature_factors_tl(t_leaf: float, t_leaf_d: "float[:]", f_vcmax_d: "float[:]",
                           f_rd_d: "float[:]", f_k4_d: "float[:]", jmax_t_d: "float[:]",
                           gamma_star_d: "float[:]",
                           k2_d: "float[:]") -> tuple[float, float, float, float, float, float]:
    """Tangent-linear of :func:`temperature_factors`; active input ``t_leaf`` [degC].

    Writes the tangents of the six factors and returns (f_vcmax, f_rd, f_k4, jmax_t,
    gamma_star, k2).
    """
    f_vcmax_t, f_rd_t, f_k4_t, jmax_t_t, gamma_star_t, k2_t = _temperature_factors_partials(
        t_leaf)
    for i in range(f_vcmax_d.shape[0]):
        f_vcmax_d[i] = f_vcmax_t * t_leaf_d[i]
        f_rd_d[i] = f_rd_t * t_leaf_d[i]
        f_k4_d[i] = f_k4_t * t_leaf_d[i]
        jmax_t_d[i] = jmax_t_t * t_leaf_d[i]
        gamma_star_d[i] = gamma_star_t * t_leaf_d[i]
        k2_d[i] = k2_t * t_leaf_d[i]
    return temperature_factors(t_leaf)


@kernel
def temperature_factors_ad(t_leaf: float, f_vcmax_b: float, f_rd_b: float, f_k4_b: float,
                           jmax_t_b: float, gamma_star_b: float, k2_b: float) -> float:
    """Adjoint of :func:`temperature_factors`: the adjoint of ``t_leaf`` for the adjoints
    of the six factors."""
    f_vcmax_t, f_rd_t, f_k4_t, jmax_t_t, gamma_star_t, k2_t = _temperature_factors_partials(
        t_leaf)
    return (f_vcmax_t * f_vcmax_b + f_rd_t * f_rd_b + f_k4_t * f_k4_b + jmax_t_t * jmax_t_b
            + gamma_star_t * gamma_star_b + k2_t * k2_b)


@kernel
def c3_capacities(vcmax25: float, a_jv: float, nscale: float, f_vcmax: float, f_rd: float,
                  jmax_t: float, par_leaf: float) -> tuple[float, float, float]:
    """C3 leaf capacities of one layer: (vcmax, j, rd) [mol m-2 s-1].

    Vcmax = Vcmax25 n f_V; electron transport J = alpha I Jmax / sqrt(Jmax^2 + (alpha I)^2)
    with Jmax = Vcmax25 a_JV n 0.04 T (alpha = 0.28); Rd = 0.011 Vcmax25 n f_Rd times the
    light inhibition (``temperature_factors`` gives f_V, f_Rd and 0.04 T).
    """
    vcmax = vcmax25 * nscale * f_vcmax
    jmax = vcmax25 * a_jv * nscale * jmax_t
    light = ALPHA_C3 * par_leaf
    j = light * jmax / math.sqrt(jmax * jmax + light * light + 1e-30)
    rd = F_RD_C3 * vcmax25 * nscale * f_rd * dark_inhibition(par_leaf)
    return vcmax, j, rd


@kernel
def _c3_capacities_partials(vcmax25: float, a_jv: float, nscale: float, f_vcmax: float,
                            f_rd: float, jmax_t: float, par_leaf: float) -> tuple[float, ...]:
    """Partials of vcmax by (vcmax25, nscale, f_vcmax), of j by
    (vcmax25, a_jv, nscale, jmax_t, par_leaf) and of rd by (vcmax25, nscale, f_rd,
    par_leaf).

    dJ/dJmax = aI ((aI)^2 + 1e-30) / q^3 and dJ/d(aI) = Jmax (Jmax^2 + 1e-30) / q^3 with
    q = sqrt(Jmax^2 + (aI)^2 + 1e-30), free of cancellation.
    """
    jmax = vcmax25 * a_jv * nscale * jmax_t
    light = ALPHA_C3 * par_leaf
    q = math.sqrt(jmax * jmax + light * light + 1e-30)
    q3 = q * q * q
    j_jmax = light * (light * light + 1e-30) / q3
    j_light = jmax * (jmax * jmax + 1e-30) / q3
    inhibition, inhibition_par = _dark_inhibition_partials(par_leaf)
    return (nscale * f_vcmax, vcmax25 * f_vcmax, vcmax25 * nscale,
            j_jmax * a_jv * nscale * jmax_t, j_jmax * vcmax25 * nscale * jmax_t,
            j_jmax * vcmax25 * a_jv * jmax_t, j_jmax * vcmax25 * a_jv * nscale,
            j_light * ALPHA_C3,
            F_RD_C3 * nscale * f_rd * inhibition, F_RD_C3 * vcmax25 * f_rd * inhibition,
            F_RD_C3 * vcmax25 * nscale * inhibition,
            F_RD_C3 * vcmax25 * nscale * f_rd * inhibition_par)


@kernel
def c3_capacities_tl(vcmax25: float, a_jv: float, nscale: float, f_vcmax: float,
                     f_rd: float, jmax_t: float, par_leaf: float,
                     vcmax25_d: "float[:]", a_jv_d: "float[:]", nscale_d: "float[:]",
                     f_vcmax_d: "float[:]", f_rd_d: "float[:]", jmax_t_d: "float[:]",
                     par_leaf_d: "float[:]", vcmax_d: "float[:]", j_d: "float[:]",
                     rd_d: "float[:]") -> tuple[float, float, float]:
    """Tangent-linear of :func:`c3_capacities`; all seven inputs are active (Vcmax25
    [mol m-2 s-1] and a_JV [-] are parameters, the nitrogen scaling follows LAI, the
    temperature factors the leaf temperature, ``par_leaf`` [mol m-2 s-1] LAI and albedo).

    Writes the tangents to ``vcmax_d``, ``j_d``, ``rd_d`` and returns (vcmax, j, rd)
    [mol m-2 s-1].
    """
    (vcmax_v, vcmax_n, vcmax_f, j_v, j_a, j_n, j_jt, j_par,
     rd_v, rd_n, rd_f, rd_par) = _c3_capacities_partials(vcmax25, a_jv, nscale, f_vcmax,
                                                         f_rd, jmax_t, par_leaf)
    for i in range(vcmax_d.shape[0]):
        vcmax_d[i] = vcmax_v * vcmax25_d[i] + vcmax_n * nscale_d[i] + vcmax_f * f_vcmax_d[i]
        j_d[i] = (j_v * vcmax25_d[i] + j_a * a_jv_d[i] + j_n * nscale_d[i]
                  + j_jt * jmax_t_d[i] + j_par * par_leaf_d[i])
        rd_d[i] = (rd_v * vcmax25_d[i] + rd_n * nscale_d[i] + rd_f * f_rd_d[i]
                   + rd_par * par_leaf_d[i])
    return c3_capacities(vcmax25, a_jv, nscale, f_vcmax, f_rd, jmax_t, par_leaf)


@kernel
def c3_capacities_ad(vcmax25: float, a_jv: float, nscale: float, f_vcmax: float,
                     f_rd: float, jmax_t: float, par_leaf: float, vcmax_b: float,
                     j_b: float, rd_b: float) -> tuple[float, float, float, float, float,
                                                       float, float]:
    """Adjoint of :func:`c3_capacities`: (vcmax25_b, a_jv_b, nscale_b, f_vcmax_b, f_rd_b,
    jmax_t_b, par_leaf_b) for the adjoints of (vcmax, j, rd)."""
    (vcmax_v, vcmax_n, vcmax_f, j_v, j_a, j_n, j_jt, j_par,
     rd_v, rd_n, rd_f, rd_par) = _c3_capacities_partials(vcmax25, a_jv, nscale, f_vcmax,
                                                         f_rd, jmax_t, par_leaf)
    return (vcmax_v * vcmax_b + j_v * j_b + rd_v * rd_b, j_a * j_b,
            vcmax_n * vcmax_b + j_n * j_b + rd_n * rd_b, vcmax_f * vcmax_b, rd_f * rd_b,
            j_jt * j_b, j_par * j_b + rd_par * rd_b)


@kernel
def c4_capacities(vcmax25: float, nscale: float, f_vcmax: float, f_rd: float, f_k4: float,
                  par_leaf: float) -> tuple[float, float, float]:
    """C4 leaf capacities of one layer (Collatz et al. 1992, BETHY constants):
    (je, rd, k): light-limited rate from the co-limitation of alpha_i I and Vcmax
    (theta = 0.83) [mol m-2 s-1], dark respiration [mol m-2 s-1] and the PEPcase constant
    K = 17500 Vcmax25 n f_K [mol m-2 s-1 per mol mol-1]."""
    vcmax = vcmax25 * nscale * f_vcmax
    light = ALPHA_C4 * par_leaf
    j0 = (light + vcmax) / (2.0 * THETA_C4)
    je = j0 - math.sqrt(max(j0 * j0 - vcmax * light / THETA_C4, 0.0))
    rd = F_RD_C4 * vcmax25 * nscale * f_rd * dark_inhibition(par_leaf)
    return je, rd, K_C4_FACTOR * vcmax25 * nscale * f_k4


@kernel
def _c4_capacities_partials(vcmax25: float, nscale: float, f_vcmax: float, f_rd: float,
                            f_k4: float, par_leaf: float) -> tuple[float, ...]:
    """Partials of je by (vcmax25, nscale, f_vcmax, par_leaf), of rd
    by (vcmax25, nscale, f_rd, par_leaf) and of k by (vcmax25, nscale, f_k4).

    je is the smaller root of theta z^2 - (aI + V) z + aI V = 0, so
    dje/d(aI) = (V - je) / (2 theta R) and dje/dV = (aI - je) / (2 theta R), R the square
    root in the primal; where the primal clamps R to 0, je = J0 and both are 1 / (2 theta).
    """
    vcmax = vcmax25 * nscale * f_vcmax
    light = ALPHA_C4 * par_leaf
    j0 = (light + vcmax) / (2.0 * THETA_C4)
    discriminant = j0 * j0 - vcmax * light / THETA_C4
    root = math.sqrt(max(discriminant, 0.0))
    je = j0 - root
    if discriminant > 0.0:
        je_light = (vcmax - je) / (2.0 * THETA_C4 * root)
        je_vcmax = (light - je) / (2.0 * THETA_C4 * root)
    else:
        je_light = 0.5 / THETA_C4
        je_vcmax = 0.5 / THETA_C4
    inhibition, inhibition_par = _dark_inhibition_partials(par_leaf)
    return (je_vcmax * nscale * f_vcmax, je_vcmax * vcmax25 * f_vcmax,
            je_vcmax * vcmax25 * nscale, je_light * ALPHA_C4,
            F_RD_C4 * nscale * f_rd * inhibition, F_RD_C4 * vcmax25 * f_rd * inhibition,
            F_RD_C4 * vcmax25 * nscale * inhibition,
            F_RD_C4 * vcmax25 * nscale * f_rd * inhibition_par,
            K_C4_FACTOR * nscale * f_k4, K_C4_FACTOR * vcmax25 * f_k4,
            K_C4_FACTOR * vcmax25 * nscale)


@kernel
def c4_capacities_tl(vcmax25: float, nscale: float, f_vcmax: float, f_rd: float,
                     f_k4: float, par_leaf: float, vcmax25_d: "float[:]",
                     nscale_d: "float[:]", f_vcmax_d: "float[:]", f_rd_d: "float[:]",
                     f_k4_d: "float[:]", par_leaf_d: "float[:]", je_d: "float[:]",
                     rd_d: "float[:]", k_d: "float[:]") -> tuple[float, float, float]:
    """Tangent-linear of :func:`c4_capacities`; all six inputs are active.

    Writes the tangents to ``je_d``, ``rd_d``, ``k_d`` and returns (je, rd, k)
    ([mol m-2 s-1] and [mol m-2 s-1 per mol mol-1]).
    """
    (je_v, je_n, je_f, je_par, rd_v, rd_n, rd_f, rd_par,
     k_v, k_n, k_f) = _c4_capacities_partials(vcmax25, nscale, f_vcmax, f_rd, f_k4, par_leaf)
    for i in range(je_d.shape[0]):
        je_d[i] = (je_v * vcmax25_d[i] + je_n * nscale_d[i] + je_f * f_vcmax_d[i]
                   + je_par * par_leaf_d[i])
        rd_d[i] = (rd_v * vcmax25_d[i] + rd_n * nscale_d[i] + rd_f * f_rd_d[i]
                   + rd_par * par_leaf_d[i])
        k_d[i] = k_v * vcmax25_d[i] + k_n * nscale_d[i] + k_f * f_k4_d[i]
    return c4_capacities(vcmax25, nscale, f_vcmax, f_rd, f_k4, par_leaf)


@kernel
def c4_capacities_ad(vcmax25: float, nscale: float, f_vcmax: float, f_rd: float,
                     f_k4: float, par_leaf: float, je_b: float, rd_b: float,
                     k_b: float) -> tuple[float, float, float, float, float, float]:
    """Adjoint of :func:`c4_capacities`: (vcmax25_b, nscale_b, f_vcmax_b, f_rd_b, f_k4_b,
    par_leaf_b) for the adjoints of (je, rd, k)."""
    (je_v, je_n, je_f, je_par, rd_v, rd_n, rd_f, rd_par,
     k_v, k_n, k_f) = _c4_capacities_partials(vcmax25, nscale, f_vcmax, f_rd, f_k4, par_leaf)
    return (je_v * je_b + rd_v * rd_b + k_v * k_b, je_n * je_b + rd_n * rd_b + k_n * k_b,
            je_f * je_b, rd_f * rd_b, k_f * k_b, je_par * je_b + rd_par * rd_b)


@kernel
def c3_assimilation_fixed_ci(vcmax: float, j: float, gamma_star: float, k2: float,
                             ci: float, heat: float) -> float:
    """Gross C3 assimilation at a given Ci (pass 1) [mol m-2 s-1]; ``heat`` is the
    high-temperature inhibition factor."""
    je = j * (ci - gamma_star) / (4.0 * (ci + 2.0 * gamma_star))
    jc = vcmax * (ci - gamma_star) / (ci + k2)
    return mins(je, jc, ETA) * heat


@kernel
def _c3_assimilation_fixed_ci_partials(vcmax: float, j: float, gamma_star: float,
                                       k2: float, ci: float,
                                       heat: float) -> tuple[float, float, float, float,
                                                             float]:
    """Partials of the gross assimilation by (vcmax, j, gamma_star, k2, heat)."""
    je_j = (ci - gamma_star) / (4.0 * (ci + 2.0 * gamma_star))
    je = j * je_j
    je_gamma = -0.75 * j * ci / ((ci + 2.0 * gamma_star) * (ci + 2.0 * gamma_star))
    jc_vcmax = (ci - gamma_star) / (ci + k2)
    jc = vcmax * jc_vcmax
    jc_gamma = -vcmax / (ci + k2)
    jc_k2 = -jc / (ci + k2)
    rate, rate_je, rate_jc = mins_partials(je, jc, ETA)
    return (heat * rate_jc * jc_vcmax, heat * rate_je * je_j,
            heat * (rate_je * je_gamma + rate_jc * jc_gamma), heat * rate_jc * jc_k2, rate)


@kernel
def c3_assimilation_fixed_ci_tl(vcmax: float, j: float, gamma_star: float, k2: float,
                                ci: float, heat: float, vcmax_d: "float[:]",
                                j_d: "float[:]", gamma_star_d: "float[:]",
                                k2_d: "float[:]", heat_d: "float[:]",
                                a_gross_d: "float[:]") -> float:
    """Tangent-linear of :func:`c3_assimilation_fixed_ci`; active inputs ``vcmax``, ``j``
    [mol m-2 s-1], ``gamma_star``, ``k2`` [mol mol-1] and ``heat`` [-] (``ci`` is
    Ci0 = f_ci Ca, forcing).

    Writes the tangents of the gross assimilation and returns it [mol m-2 s-1].
    """
    a_vcmax, a_j, a_gamma, a_k2, a_heat = _c3_assimilation_fixed_ci_partials(
        vcmax, j, gamma_star, k2, ci, heat)
    for i in range(a_gross_d.shape[0]):
        a_gross_d[i] = (a_vcmax * vcmax_d[i] + a_j * j_d[i] + a_gamma * gamma_star_d[i]
                        + a_k2 * k2_d[i] + a_heat * heat_d[i])
    return c3_assimilation_fixed_ci(vcmax, j, gamma_star, k2, ci, heat)


@kernel
def c3_assimilation_fixed_ci_ad(vcmax: float, j: float, gamma_star: float, k2: float,
                                ci: float, heat: float,
                                a_gross_b: float) -> tuple[float, float, float, float, float]:
    """Adjoint of :func:`c3_assimilation_fixed_ci`: (vcmax_b, j_b, gamma_star_b, k2_b,
    heat_b) for the adjoint of the gross assimilation."""
    a_vcmax, a_j, a_gamma, a_k2, a_heat = _c3_assimilation_fixed_ci_partials(
        vcmax, j, gamma_star, k2, ci, heat)
    return (a_vcmax * a_gross_b, a_j * a_gross_b, a_gamma * a_gross_b, a_k2 * a_gross_b,
            a_heat * a_gross_b)


@kernel
def c4_assimilation_fixed_ci(je: float, k: float, ci: float, heat: float) -> float:
    """Gross C4 assimilation at a given Ci (pass 1) [mol m-2 s-1]."""
    return mins(je, k * ci, ETA) * heat


@kernel
def _c4_assimilation_fixed_ci_partials(je: float, k: float, ci: float,
                                       heat: float) -> tuple[float, float, float]:
    """Partials of the gross assimilation by (je, k, heat)."""
    rate, rate_je, rate_jc = mins_partials(je, k * ci, ETA)
    return heat * rate_je, heat * rate_jc * ci, rate


@kernel
def c4_assimilation_fixed_ci_tl(je: float, k: float, ci: float, heat: float,
                                je_d: "float[:]", k_d: "float[:]", heat_d: "float[:]",
                                a_gross_d: "float[:]") -> float:
    """Tangent-linear of :func:`c4_assimilation_fixed_ci`; active inputs ``je``
    [mol m-2 s-1], ``k`` [mol m-2 s-1 per mol mol-1] and ``heat`` [-] (``ci`` forcing).

    Writes the tangents of the gross assimilation and returns it [mol m-2 s-1].
    """
    a_je, a_k, a_heat = _c4_assimilation_fixed_ci_partials(je, k, ci, heat)
    for i in range(a_gross_d.shape[0]):
        a_gross_d[i] = a_je * je_d[i] + a_k * k_d[i] + a_heat * heat_d[i]
    return c4_assimilation_fixed_ci(je, k, ci, heat)


@kernel
def c4_assimilation_fixed_ci_ad(je: float, k: float, ci: float, heat: float,
                                a_gross_b: float) -> tuple[float, float, float]:
    """Adjoint of :func:`c4_assimilation_fixed_ci`: (je_b, k_b, heat_b)."""
    a_je, a_k, a_heat = _c4_assimilation_fixed_ci_partials(je, k, ci, heat)
    return a_je * a_gross_b, a_k * a_gross_b, a_heat * a_gross_b


@kernel
def _smaller_root(b: float, c: float) -> float:
    """Smaller root of z^2 - b z + c = 0."""
    return 0.5 * b - math.sqrt(max(0.25 * b * b - c, 0.0))


@kernel
def _smaller_root_partials(b: float, c: float) -> tuple[float, float, float]:
    """:func:`_smaller_root` and its partials by ``b`` and ``c``: -z / (2 r) and 1 / (2 r),
    r the square root of the discriminant (implicit derivative of z^2 - b z + c = 0)."""
    discriminant = 0.25 * b * b - c
    if discriminant > 0.0:
        r = math.sqrt(discriminant)
        z = 0.5 * b - r
        return z, -0.5 * z / r, 0.5 / r
    return 0.5 * b, 0.5, 0.0


@kernel
def c3_assimilation_coupled(vcmax: float, j: float, rd: float, gamma_star: float,
                            k2: float, g0: float, ca: float,
                            heat: float) -> tuple[float, float]:
    """Gross C3 assimilation where supply by diffusion A_n = g0 (Ca - Ci) meets demand
    (pass 2). ``g0`` is the CO2 conductance [mol m-2 s-1].

    Returns (a_gross, je): gross assimilation and its light-limited part at the solution
    (the ratio a_gross / je scales the electron transport used by the SIF operator)
    [mol m-2 s-1].
    """
    quarter_j = 0.25 * j
    je = _smaller_root(rd + quarter_j + g0 * (ca + 2.0 * gamma_star),
                       quarter_j * (g0 * (ca - gamma_star) + rd))
    jc = _smaller_root(rd + vcmax + g0 * (ca + k2), vcmax * (g0 * (ca - gamma_star) + rd))
    return mins(je, jc, ETA) * heat, je


@kernel
def _c3_assimilation_coupled_partials(vcmax: float, j: float, rd: float,
                                      gamma_star: float, k2: float, g0: float, ca: float,
                                      heat: float) -> tuple[float, ...]:
    """Partials of a_gross by (vcmax, j, rd, gamma_star, k2, g0, heat), then of je by
    (j, rd, gamma_star, g0)."""
    quarter_j = 0.25 * j
    supply = g0 * (ca - gamma_star) + rd
    je, je_b, je_c = _smaller_root_partials(rd + quarter_j + g0 * (ca + 2.0 * gamma_star),
                                            quarter_j * supply)
    jc, jc_b, jc_c = _smaller_root_partials(rd + vcmax + g0 * (ca + k2), vcmax * supply)
    je_j = 0.25 * je_b + 0.25 * supply * je_c
    je_rd = je_b + quarter_j * je_c
    je_gamma = 2.0 * g0 * je_b - quarter_j * g0 * je_c
    je_g0 = (ca + 2.0 * gamma_star) * je_b + quarter_j * (ca - gamma_star) * je_c
    jc_vcmax = jc_b + supply * jc_c
    jc_rd = jc_b + vcmax * jc_c
    jc_gamma = -vcmax * g0 * jc_c
    jc_k2 = g0 * jc_b
    jc_g0 = (ca + k2) * jc_b + vcmax * (ca - gamma_star) * jc_c
    rate, rate_je, rate_jc = mins_partials(je, jc, ETA)
    rate_je = heat * rate_je
    rate_jc = heat * rate_jc
    return (rate_jc * jc_vcmax, rate_je * je_j, rate_je * je_rd + rate_jc * jc_rd,
            rate_je * je_gamma + rate_jc * jc_gamma, rate_jc * jc_k2,
            rate_je * je_g0 + rate_jc * jc_g0, rate,
            je_j, je_rd, je_gamma, je_g0)


@kernel
def c3_assimilation_coupled_tl(vcmax: float, j: float, rd: float, gamma_star: float,
                               k2: float, g0: float, ca: float, heat: float,
                               vcmax_d: "float[:]", j_d: "float[:]", rd_d: "float[:]",
                               gamma_star_d: "float[:]", k2_d: "float[:]", g0_d: "float[:]",
                               heat_d: "float[:]", a_gross_d: "float[:]",
                               je_d: "float[:]") -> tuple[float, float]:
    """Tangent-linear of :func:`c3_assimilation_coupled`; active inputs ``vcmax``, ``j``,
    ``rd`` [mol m-2 s-1], ``gamma_star``, ``k2`` [mol mol-1], ``g0`` [mol m-2 s-1] and
    ``heat`` [-] (``ca`` forcing).

    Writes the tangents to ``a_gross_d``, ``je_d`` and returns (a_gross, je)
    [mol m-2 s-1].
    """
    (a_vcmax, a_j, a_rd, a_gamma, a_k2, a_g0, a_heat,
     je_j, je_rd, je_gamma, je_g0) = _c3_assimilation_coupled_partials(
        vcmax, j, rd, gamma_star, k2, g0, ca, heat)
    for i in range(a_gross_d.shape[0]):
        a_gross_d[i] = (a_vcmax * vcmax_d[i] + a_j * j_d[i] + a_rd * rd_d[i]
                        + a_gamma * gamma_star_d[i] + a_k2 * k2_d[i] + a_g0 * g0_d[i]
                        + a_heat * heat_d[i])
        je_d[i] = je_j * j_d[i] + je_rd * rd_d[i] + je_gamma * gamma_star_d[i] + je_g0 * g0_d[i]
    return c3_assimilation_coupled(vcmax, j, rd, gamma_star, k2, g0, ca, heat)


@kernel
def c3_assimilation_coupled_ad(vcmax: float, j: float, rd: float, gamma_star: float,
                               k2: float, g0: float, ca: float, heat: float,
                               a_gross_b: float, je_b: float) -> tuple[float, float, float,
                                                                      float, float, float,
                                                                      float]:
    """Adjoint of :func:`c3_assimilation_coupled`: (vcmax_b, j_b, rd_b, gamma_star_b,
    k2_b, g0_b, heat_b) for the adjoints of (a_gross, je)."""
    (a_vcmax, a_j, a_rd, a_gamma, a_k2, a_g0, a_heat,
     je_j, je_rd, je_gamma, je_g0) = _c3_assimilation_coupled_partials(
        vcmax, j, rd, gamma_star, k2, g0, ca, heat)
    return (a_vcmax * a_gross_b, a_j * a_gross_b + je_j * je_b,
            a_rd * a_gross_b + je_rd * je_b, a_gamma * a_gross_b + je_gamma * je_b,
            a_k2 * a_gross_b, a_g0 * a_gross_b + je_g0 * je_b, a_heat * a_gross_b)


@kernel
def c4_assimilation_coupled(je: float, k: float, rd: float, g0: float, ca: float,
                            heat: float) -> float:
    """Gross C4 assimilation with diffusion-limited Ci (pass 2) [mol m-2 s-1]:
    JC = (g0 Ca + Rd) / (1 + g0 / K)."""
    jc = (g0 * ca + rd) / (1.0 + g0 / k)
    return mins(je, jc, ETA) * heat


@kernel
def _c4_assimilation_coupled_partials(je: float, k: float, rd: float, g0: float, ca: float,
                                      heat: float) -> tuple[float, float, float, float,
                                                            float]:
    """Partials of the gross assimilation by (je, k, rd, g0, heat)."""
    damping = 1.0 + g0 / k
    jc = (g0 * ca + rd) / damping
    rate, rate_je, rate_jc = mins_partials(je, jc, ETA)
    rate_jc = heat * rate_jc
    return (heat * rate_je, rate_jc * jc * g0 / (k * k * damping),
            rate_jc / damping, rate_jc * (ca - jc / k) / damping, rate)


@kernel
def c4_assimilation_coupled_tl(je: float, k: float, rd: float, g0: float, ca: float,
                               heat: float, je_d: "float[:]", k_d: "float[:]",
                               rd_d: "float[:]", g0_d: "float[:]", heat_d: "float[:]",
                               a_gross_d: "float[:]") -> float:
    """Tangent-linear of :func:`c4_assimilation_coupled`; active inputs ``je``, ``rd``,
    ``g0`` [mol m-2 s-1], ``k`` [mol m-2 s-1 per mol mol-1] and ``heat`` [-] (``ca``
    forcing).

    Writes the tangents of the gross assimilation and returns it [mol m-2 s-1].
    """
    a_je, a_k, a_rd, a_g0, a_heat = _c4_assimilation_coupled_partials(je, k, rd, g0, ca,
                                                                      heat)
    for i in range(a_gross_d.shape[0]):
        a_gross_d[i] = (a_je * je_d[i] + a_k * k_d[i] + a_rd * rd_d[i] + a_g0 * g0_d[i]
                        + a_heat * heat_d[i])
    return c4_assimilation_coupled(je, k, rd, g0, ca, heat)


@kernel
def c4_assimilation_coupled_ad(je: float, k: float, rd: float, g0: float, ca: float,
                               heat: float,
                               a_gross_b: float) -> tuple[float, float, float, float, float]:
    """Adjoint of :func:`c4_assimilation_coupled`: (je_b, k_b, rd_b, g0_b, heat_b)."""
    a_je, a_k, a_rd, a_g0, a_heat = _c4_assimilation_coupled_partials(je, k, rd, g0, ca,
                                                                      heat)
    return (a_je * a_gross_b, a_k * a_gross_b, a_rd * a_gross_b, a_g0 * a_gross_b,
            a_heat * a_gross_b)


@kernel
def unstressed_conductance(a_gross: float, rd: float, ca: float, ci0: float,
                           t_leaf: float, pressure: float, g_min: float) -> float:
    """Stomatal conductance for water vapour at fixed Ci0 (pass 1) [m s-1]:
    1.6 (A - Rd) R T / (p (Ca - Ci0)), bounded smoothly below by the cuticular g_min."""
    tk = t_leaf + BETHY_KELVIN
    g = 1.6 * (a_gross - rd) * R_GAS * tk / (pressure * (ca - ci0))
    return maxx(g, g_min, 0.1 * g_min)


@kernel
def _unstressed_conductance_partials(a_gross: float, rd: float, ca: float, ci0: float,
                                     t_leaf: float, pressure: float,
                                     g_min: float) -> tuple[float, float, float]:
    """Partials of the conductance by (a_gross, rd, t_leaf); zero on the g_min side."""
    tk = t_leaf + BETHY_KELVIN
    g_a = 1.6 * R_GAS * tk / (pressure * (ca - ci0))
    g = (a_gross - rd) * g_a
    g_s_g = maxx_partials(g, g_min, 0.1 * g_min)[1]
    return g_s_g * g_a, -g_s_g * g_a, g_s_g * g / tk


@kernel
def unstressed_conductance_tl(a_gross: float, rd: float, ca: float, ci0: float,
                              t_leaf: float, pressure: float, g_min: float,
                              a_gross_d: "float[:]", rd_d: "float[:]",
                              t_leaf_d: "float[:]", g_d: "float[:]") -> float:
    """Tangent-linear of :func:`unstressed_conductance`; active inputs ``a_gross``, ``rd``
    [mol m-2 s-1] and ``t_leaf`` [degC] (``ca``, ``ci0``, ``pressure`` forcing, ``g_min``
    constant).

    Writes the tangents of the conductance and returns it [m s-1].
    """
    g_a, g_rd, g_t = _unstressed_conductance_partials(a_gross, rd, ca, ci0, t_leaf,
                                                      pressure, g_min)
    for i in range(g_d.shape[0]):
        g_d[i] = g_a * a_gross_d[i] + g_rd * rd_d[i] + g_t * t_leaf_d[i]
    return unstressed_conductance(a_gross, rd, ca, ci0, t_leaf, pressure, g_min)


@kernel
def unstressed_conductance_ad(a_gross: float, rd: float, ca: float, ci0: float,
                              t_leaf: float, pressure: float, g_min: float,
                              g_b: float) -> tuple[float, float, float]:
    """Adjoint of :func:`unstressed_conductance`: (a_gross_b, rd_b, t_leaf_b)."""
    g_a, g_rd, g_t = _unstressed_conductance_partials(a_gross, rd, ca, ci0, t_leaf,
                                                      pressure, g_min)
    return g_a * g_b, g_rd * g_b, g_t * g_b


@kernel
def co2_conductance(g_water: float, t_leaf: float, pressure: float) -> float:
    """CO2 conductance [mol m-2 s-1] of a water-vapour conductance [m s-1]:
    g p / (1.6 R T)."""
    return g_water * pressure / (1.6 * R_GAS * (t_leaf + BETHY_KELVIN))


@kernel
def _co2_conductance_partials(g_water: float, t_leaf: float,
                              pressure: float) -> tuple[float, float]:
    """Partials of the CO2 conductance by ``g_water`` and ``t_leaf`` (-g0 / T_k)."""
    tk = t_leaf + BETHY_KELVIN
    g0_g = pressure / (1.6 * R_GAS * tk)
    return g0_g, -g_water * g0_g / tk


@kernel
def co2_conductance_tl(g_water: float, t_leaf: float, pressure: float,
                       g_water_d: "float[:]", t_leaf_d: "float[:]",
                       g0_d: "float[:]") -> float:
    """Tangent-linear of :func:`co2_conductance`; active inputs ``g_water`` [m s-1] and
    ``t_leaf`` [degC] (``pressure`` forcing).

    Writes the tangents of the CO2 conductance and returns it [mol m-2 s-1].
    """
    g0_g, g0_t = _co2_conductance_partials(g_water, t_leaf, pressure)
    for i in range(g0_d.shape[0]):
        g0_d[i] = g0_g * g_water_d[i] + g0_t * t_leaf_d[i]
    return co2_conductance(g_water, t_leaf, pressure)


@kernel
def co2_conductance_ad(g_water: float, t_leaf: float, pressure: float,
                       g0_b: float) -> tuple[float, float]:
    """Adjoint of :func:`co2_conductance`: (g_water_b, t_leaf_b)."""
    g0_g, g0_t = _co2_conductance_partials(g_water, t_leaf, pressure)
    return g0_g * g0_b, g0_t * g0_b
