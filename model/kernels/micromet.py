"""Micrometeorology and the canopy energy balance of BETHY (``surface.f90``, D&B
``micromet``): saturation vapour pressure, latent heat, aerodynamic conductance,
Penman-Monteith demand and supply, stomatal water limitation and canopy temperature.

Sources: Knorr (2000), doi:10.1046/j.1365-2699.2000.00159.x; Monteith (1965) Symp. Soc.
Exp. Biol. 19:205 (Penman-Monteith); MODEL_SPEC 3.1-3.3. SI units throughout: T in degC
where named ``*_c``, Pa, W m-2, kg m-2 s-1, m s-1.
"""

import math

from tccas.model.kernels import kernel
from tccas.model.kernels.smooth import maxx, mins
from tccas.model.parameters import constant

CP_AIR = constant("CP_AIR")
EPSILON_RATIO = constant("EPSILON_RATIO")
M_AIR = constant("M_AIR")
R_GAS = constant("R_GAS")
T_ZERO = constant("T_ZERO")
KARMAN = constant("KARMAN")
Z_REF = constant("Z_REF")
Z0_RATIO = constant("Z0_RATIO")
A_Z0 = constant("A_Z0")
STEFAN_BOLTZMANN = constant("STEFAN_BOLTZMANN")
MAGNUS_E0 = constant("MAGNUS_E0")
MAGNUS_A_WATER = constant("MAGNUS_A_WATER")
MAGNUS_B_WATER = constant("MAGNUS_B_WATER")
MAGNUS_A_ICE = constant("MAGNUS_A_ICE")
MAGNUS_B_ICE = constant("MAGNUS_B_ICE")
EMISSIVITY = constant("EMISSIVITY")
G_SOIL_FRACTION = constant("G_SOIL_FRACTION")
# largest canopy-air temperature difference [K]; PROPOSED guard for nearly closed
# stomata under strong sun with a small aerodynamic conductance
DT_CANOPY_MAX = 20.0


@kernel
def saturation_vapour_pressure(t_c: float) -> tuple[float, float]:
    """Saturation vapour pressure [Pa] over water (T > 0) or ice, and its slope
    [Pa K-1]: e_s = 610.78 exp(a T / (b + T))."""
    if t_c > 0.0:
        a, b = MAGNUS_A_WATER, MAGNUS_B_WATER
    else:
        a, b = MAGNUS_A_ICE, MAGNUS_B_ICE
    es = MAGNUS_E0 * math.exp(a * t_c / (b + t_c))
    return es, a * b * es / ((b + t_c) * (b + t_c))


@kernel
def latent_heat(t_c: float) -> float:
    """Latent heat of vaporisation (T > 0) or sublimation [J kg-1].

    MODEL_SPEC 3.1 prints 3.834e6 for T <= 0; the latent heat of sublimation is
    2.834e6 J kg-1, which we use (a typo in the transcription, PROPOSED correction).
    """
    if t_c > 0.0:
        return 3.1512e6 - 2.38e3 * (t_c + T_ZERO)
    return 2.834e6


@kernel
def air_density(t_c: float, pressure: float) -> float:
    """Density of dry air [kg m-3]."""
    return M_AIR / R_GAS * pressure / (t_c + T_ZERO)


@kernel
def aerodynamic_conductance(vegetation_height: float, wind_speed: float) -> float:
    """kappa^2 u / ln(z_ref / (z0r h) + a_z0)^2 [m s-1] (BETHY; 0.16681 for h = 15 m,
    u = 3 m s-1 as in D&B output, MODEL_SPEC 8.3)."""
    log_term = math.log(Z_REF / (Z0_RATIO * vegetation_height) + A_Z0)
    return KARMAN * KARMAN * wind_speed / (log_term * log_term)


@kernel
def net_longwave(longwave_down: float, t_air_c: float) -> float:
    """Net long-wave radiation eps (L_down - sigma T_air^4) [W m-2]."""
    tk = t_air_c + T_ZERO
    return EMISSIVITY * (longwave_down - STEFAN_BOLTZMANN * tk * tk * tk * tk)


@kernel
def net_radiation(shortwave: float, longwave_net: float, fapar: float, albedo_bg: float,
                  tl: float) -> tuple[float, float, float, float]:
    """Split of net radiation between canopy and soil (BETHY).

    a_V = 0.8 FAPAR, a_S = 1 - rho - (0.95 - rho) FAPAR, G = 0.036 Rn,
    Rn_c = (1 - tl)(L_net - G) + a_V SW, Rn_s = tl (L_net - G) + a_S SW.
    Returns (rn_canopy, rn_soil, ground_heat, a_v) [W m-2, -].
    """
    a_v = 0.8 * fapar
    a_s = 1.0 - albedo_bg - (1.0 - albedo_bg - 0.05) * fapar
    ground_heat = G_SOIL_FRACTION * (longwave_net + (a_v + a_s) * shortwave)
    rn_canopy = (1.0 - tl) * (longwave_net - ground_heat) + a_v * shortwave
    rn_soil = tl * (longwave_net - ground_heat) + a_s * shortwave
    return rn_canopy, rn_soil, ground_heat, a_v


@kernel
def psychrometric_constant(pressure: float, lam: float) -> float:
    """gamma = p c_p / (eps lambda) [Pa K-1]."""
    return pressure * CP_AIR / (EPSILON_RATIO * lam)


@kernel
def penman_monteith(slope: float, gamma: float, rn: float, rho_cp_d_ga: float,
                    g_a: float, g_c: float, lam: float) -> float:
    """Penman-Monteith evaporation [kg m-2 s-1]; ``g_c`` <= 0 means a wet surface."""
    if g_c <= 0.0:
        return (slope * rn + rho_cp_d_ga) / (slope + gamma) / lam
    return (slope * rn + rho_cp_d_ga) / (slope + gamma * (1.0 + g_a / g_c)) / lam


@kernel
def water_limitation(demand: float, supply: float, available_energy: float, slope: float,
                     gamma: float, g_a: float, g_c0: float, lam: float,
                     eta: float) -> tuple[float, float]:
    """Stomatal water limitation from the demand/supply balance (BETHY, MODEL_SPEC 3.3).

    Transpiration is the co-limited minimum of the Penman-Monteith demand at the
    unstressed conductance and the soil supply; the Penman-Monteith equation is inverted
    for the conductance that gives it. ``available_energy`` = s Rn_c + rho c_p D g_a.

    Returns (transpiration [kg m-2 s-1], conductance factor g_c / g_c0 [-]). With no
    positive demand (night, dew) transpiration is 0 and the factor 1.
    """
    if demand <= 0.0 or available_energy <= 0.0:
        return 0.0, 1.0
    e_tr = mins(demand, supply, eta)
    x = available_energy / (lam * e_tr) - slope
    ratio = (x / gamma - 1.0) * g_c0 / g_a
    return e_tr, 1.0 / maxx(ratio, 1.0, 1e-6)


@kernel
def canopy_temperature(t_air_c: float, longwave_net: float, ground_heat: float, a_v: float,
                       tl: float, shortwave: float, latent_flux: float,
                       rho_cp_ga: float) -> float:
    """Canopy temperature from the energy balance [degC] (BETHY):
    T_v = T_a + [L_net - G + a_V SW / (1 - tl) - lambda E] / (rho c_p g_a), the excess
    bounded smoothly by +-20 K (PROPOSED guard, inactive in normal conditions)."""
    excess = (longwave_net - ground_heat + a_v / max(1.0 - tl, 1e-3) * shortwave
              - latent_flux) / rho_cp_ga
    return t_air_c + DT_CANOPY_MAX * math.tanh(excess / DT_CANOPY_MAX)
