"""Leaf photosynthesis of BETHY: Farquhar C3 and Collatz C4, two-pass stomatal scheme.

Sources: Farquhar, von Caemmerer & Berry (1980) Planta 149:78, doi:10.1007/BF00386231;
Collatz, Ribas-Carbo & Berry (1992) Aust. J. Plant Physiol. 19:519, doi:10.1071/PP9920519;
BETHY forms and constants after Knorr (2000), doi:10.1046/j.1365-2699.2000.00159.x, code
``mo_carbon.f90`` (MODEL_SPEC 2.3-2.5, 5.3).

Units: rates per unit leaf area in mol m-2 s-1; Ci, Ca, Gamma*, Kc, Ko in mol mol-1;
temperatures in degC; conductances for water vapour in m s-1; pressure in Pa.
"""

import math

from tccas.model.kernels import kernel
from tccas.model.kernels.smooth import maxx, mins
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
def heat_inhibition(t_leaf: float) -> float:
    """High-temperature inhibition 1 / (1 + exp(1.3 (T - 55))) [-]."""
    return 1.0 / (1.0 + math.exp(1.3 * (t_leaf - 55.0)))


@kernel
def dark_inhibition(par_leaf: float) -> float:
    """Light inhibition of leaf respiration 0.5 + exp(-ln 2 - 1e5 I), I [mol m-2 s-1]."""
    return 0.5 + math.exp(-math.log(2.0) - 1e5 * par_leaf)


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
def c3_assimilation_fixed_ci(vcmax: float, j: float, gamma_star: float, k2: float,
                             ci: float, heat: float) -> float:
    """Gross C3 assimilation at a given Ci (pass 1) [mol m-2 s-1]; ``heat`` is the
    high-temperature inhibition factor."""
    je = j * (ci - gamma_star) / (4.0 * (ci + 2.0 * gamma_star))
    jc = vcmax * (ci - gamma_star) / (ci + k2)
    return mins(je, jc, ETA) * heat


@kernel
def c4_assimilation_fixed_ci(je: float, k: float, ci: float, heat: float) -> float:
    """Gross C4 assimilation at a given Ci (pass 1) [mol m-2 s-1]."""
    return mins(je, k * ci, ETA) * heat


@kernel
def _smaller_root(b: float, c: float) -> float:
    """Smaller root of z^2 - b z + c = 0."""
    return 0.5 * b - math.sqrt(max(0.25 * b * b - c, 0.0))


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
def c4_assimilation_coupled(je: float, k: float, rd: float, g0: float, ca: float,
                            heat: float) -> float:
    """Gross C4 assimilation with diffusion-limited Ci (pass 2) [mol m-2 s-1]:
    JC = (g0 Ca + Rd) / (1 + g0 / K)."""
    jc = (g0 * ca + rd) / (1.0 + g0 / k)
    return mins(je, jc, ETA) * heat


@kernel
def unstressed_conductance(a_gross: float, rd: float, ca: float, ci0: float,
                           t_leaf: float, pressure: float, g_min: float) -> float:
    """Stomatal conductance for water vapour at fixed Ci0 (pass 1) [m s-1]:
    1.6 (A - Rd) R T / (p (Ca - Ci0)), bounded smoothly below by the cuticular g_min."""
    tk = t_leaf + BETHY_KELVIN
    g = 1.6 * (a_gross - rd) * R_GAS * tk / (pressure * (ca - ci0))
    return maxx(g, g_min, 0.1 * g_min)


@kernel
def co2_conductance(g_water: float, t_leaf: float, pressure: float) -> float:
    """CO2 conductance [mol m-2 s-1] of a water-vapour conductance [m s-1]:
    g p / (1.6 R T)."""
    return g_water * pressure / (1.6 * R_GAS * (t_leaf + BETHY_KELVIN))
