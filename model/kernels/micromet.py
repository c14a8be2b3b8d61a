"""Micrometeorology and the canopy energy balance of BETHY (``surface.f90``, D&B
``micromet``): saturation vapour pressure, latent heat, aerodynamic conductance,
Penman-Monteith demand and supply, stomatal water limitation and canopy temperature.

Sources: Knorr (2000), doi:10.1046/j.1365-2699.2000.00159.x; Monteith (1965) Symp. Soc.
Exp. Biol. 19:205 (Penman-Monteith); MODEL_SPEC 3.1-3.3. SI units throughout: T in degC
where named ``*_c``, Pa, W m-2, kg m-2 s-1, m s-1. The kernels whose inputs depend on the
state or the parameters have the ``_tl``/``_ad`` pair of the convention in
:mod:`tccas.model.kernels`.
"""

import math

from tccas.model.kernels import kernel
from tccas.model.kernels.smooth import maxx, maxx_partials, mins, mins_partials
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
# smallest transpiration [kg m-2 s-1] the Penman-Monteith inversion of water_limitation
# divides by; PROPOSED guard. After a long drought the root-zone water, and with it the
# soil supply, can underflow to exactly 0, and 1 / E_tr became infinite: the factor was
# still 0, but its derivatives were inf * 0 = NaN (a non-finite gradient). Below the floor
# the factor is about 1e-19 (effectively closed stomata) on either side.
E_TR_FLOOR = 1e-20


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
    x = available_energy / (lam * max(e_tr, E_TR_FLOOR)) - slope
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


# --- derivatives -------------------------------------------------------------------------
# Active inputs follow tile_hour: the saturation vapour pressure, latent heat, air density,
# psychrometric constant and net long-wave depend on the forcing only, the aerodynamic
# conductance on the static vegetation height, so they have no derivative. Each
# ``_*_jacobian`` returns the outputs and their partial derivatives on the primal's branch;
# ``*_tl`` and ``*_ad`` apply it and its transpose. A ``*_tl`` reads all input tangents of a
# direction before it writes the outputs'.


@kernel
def _net_radiation_jacobian(shortwave: float, longwave_net: float, fapar: float,
                            albedo_bg: float, tl: float) -> tuple[float, ...]:
    """Outputs of :func:`net_radiation`, then d(rn_canopy, rn_soil, ground_heat)/d(fapar,
    albedo_bg, tl) row by row (a_v = 0.8 fapar needs no entry)."""
    rn_canopy, rn_soil, ground_heat, a_v = net_radiation(shortwave, longwave_net, fapar,
                                                         albedo_bg, tl)
    a_s_fapar = albedo_bg - 0.95
    a_s_albedo = fapar - 1.0
    g_fapar = G_SOIL_FRACTION * (0.8 + a_s_fapar) * shortwave
    g_albedo = G_SOIL_FRACTION * a_s_albedo * shortwave
    available = longwave_net - ground_heat
    return (rn_canopy, rn_soil, ground_heat, a_v,
            -(1.0 - tl) * g_fapar + 0.8 * shortwave, -(1.0 - tl) * g_albedo, -available,
            -tl * g_fapar + a_s_fapar * shortwave, -tl * g_albedo + a_s_albedo * shortwave,
            available,
            g_fapar, g_albedo)


@kernel
def net_radiation_tl(shortwave: float, longwave_net: float, fapar: float, albedo_bg: float,
                     tl: float, fapar_d: "float[:]", albedo_bg_d: "float[:]",
                     tl_d: "float[:]", rn_canopy_d: "float[:]", rn_soil_d: "float[:]",
                     ground_heat_d: "float[:]",
                     a_v_d: "float[:]") -> tuple[float, float, float, float]:
    """Tangent-linear of :func:`net_radiation`.

    Active inputs: FAPAR, background albedo and long-wave transmissivity (all depend on the
    state through LAI, snow and soil water); shortwave and net long-wave are forcing.

    Parameters
    ----------
    shortwave, longwave_net, fapar, albedo_bg, tl : float
        Primal inputs [W m-2, W m-2, -, -, -].
    fapar_d, albedo_bg_d, tl_d : ndarray (k,)
        Tangents of the active inputs [-].
    rn_canopy_d, rn_soil_d, ground_heat_d, a_v_d : ndarray (k,)
        Overwritten with the tangents of the outputs [W m-2, W m-2, W m-2, -].

    Returns
    -------
    tuple of float
        ``net_radiation(...)``: (rn_canopy, rn_soil, ground_heat, a_v).
    """
    (rn_canopy, rn_soil, ground_heat, a_v, c_f, c_a, c_t, s_f, s_a, s_t, g_f,
     g_a) = _net_radiation_jacobian(shortwave, longwave_net, fapar, albedo_bg, tl)
    for j in range(rn_canopy_d.size):
        f_d = fapar_d[j]
        a_d = albedo_bg_d[j]
        t_d = tl_d[j]
        rn_canopy_d[j] = c_f * f_d + c_a * a_d + c_t * t_d
        rn_soil_d[j] = s_f * f_d + s_a * a_d + s_t * t_d
        ground_heat_d[j] = g_f * f_d + g_a * a_d
        a_v_d[j] = 0.8 * f_d
    return rn_canopy, rn_soil, ground_heat, a_v


@kernel
def net_radiation_ad(shortwave: float, longwave_net: float, fapar: float, albedo_bg: float,
                     tl: float, rn_canopy_b: float, rn_soil_b: float, ground_heat_b: float,
                     a_v_b: float) -> tuple[float, float, float]:
    """Adjoint of :func:`net_radiation`: (fapar_b, albedo_bg_b, tl_b) for the adjoints of
    (rn_canopy, rn_soil, ground_heat, a_v); active inputs as in :func:`net_radiation_tl`."""
    (_, _, _, _, c_f, c_a, c_t, s_f, s_a, s_t, g_f,
     g_a) = _net_radiation_jacobian(shortwave, longwave_net, fapar, albedo_bg, tl)
    return (c_f * rn_canopy_b + s_f * rn_soil_b + g_f * ground_heat_b + 0.8 * a_v_b,
            c_a * rn_canopy_b + s_a * rn_soil_b + g_a * ground_heat_b,
            c_t * rn_canopy_b + s_t * rn_soil_b)


@kernel
def _penman_monteith_jacobian(slope: float, gamma: float, rn: float, rho_cp_d_ga: float,
                              g_a: float, g_c: float, lam: float) -> tuple[float, float, float]:
    """:func:`penman_monteith` and its partial derivatives (d/d rn, d/d g_c)."""
    if g_c <= 0.0:
        denominator = slope + gamma
        return (slope * rn + rho_cp_d_ga) / denominator / lam, slope / denominator / lam, 0.0
    denominator = slope + gamma * (1.0 + g_a / g_c)
    evaporation = (slope * rn + rho_cp_d_ga) / denominator / lam
    return (evaporation, slope / denominator / lam,
            evaporation * gamma * g_a / (denominator * g_c * g_c))


@kernel
def penman_monteith_tl(slope: float, gamma: float, rn: float, rho_cp_d_ga: float, g_a: float,
                       g_c: float, lam: float, rn_d: "float[:]", g_c_d: "float[:]",
                       evaporation_d: "float[:]") -> float:
    """Tangent-linear of :func:`penman_monteith`.

    Active inputs: net radiation ``rn`` [W m-2] and surface conductance ``g_c`` [m s-1]
    (through FAPAR, LAI and photosynthesis); slope, gamma, the aerodynamic term, g_a and
    lambda depend on forcing and static data only. On the wet-surface branch (g_c <= 0)
    the result does not depend on ``g_c``.

    Parameters
    ----------
    slope, gamma, rn, rho_cp_d_ga, g_a, g_c, lam : float
        Primal inputs [Pa K-1, Pa K-1, W m-2, W m-2 Pa K-1, m s-1, m s-1, J kg-1].
    rn_d, g_c_d : ndarray (k,)
        Tangents of ``rn`` [W m-2] and ``g_c`` [m s-1].
    evaporation_d : ndarray (k,)
        Overwritten with the tangents of the evaporation [kg m-2 s-1].

    Returns
    -------
    float
        ``penman_monteith(...)`` [kg m-2 s-1].
    """
    evaporation, d_rn, d_g_c = _penman_monteith_jacobian(slope, gamma, rn, rho_cp_d_ga, g_a,
                                                         g_c, lam)
    for j in range(evaporation_d.size):
        evaporation_d[j] = d_rn * rn_d[j] + d_g_c * g_c_d[j]
    return evaporation


@kernel
def penman_monteith_ad(slope: float, gamma: float, rn: float, rho_cp_d_ga: float, g_a: float,
                       g_c: float, lam: float, evaporation_b: float) -> tuple[float, float]:
    """Adjoint of :func:`penman_monteith`: (rn_b, g_c_b) for the evaporation's adjoint."""
    _, d_rn, d_g_c = _penman_monteith_jacobian(slope, gamma, rn, rho_cp_d_ga, g_a, g_c, lam)
    return d_rn * evaporation_b, d_g_c * evaporation_b


@kernel
def _water_limitation_jacobian(demand: float, supply: float, available_energy: float,
                               slope: float, gamma: float, g_a: float, g_c0: float,
                               lam: float, eta: float) -> tuple[float, ...]:
    """Outputs of :func:`water_limitation`, then the partial derivatives of transpiration
    by (demand, supply) and of the factor by (demand, supply, available_energy, g_c0)."""
    if demand <= 0.0 or available_energy <= 0.0:
        return 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    e_tr, e_demand, e_supply = mins_partials(demand, supply, eta)
    floored = max(e_tr, E_TR_FLOOR)
    x = available_energy / (lam * floored) - slope
    ratio = (x / gamma - 1.0) * g_c0 / g_a
    bounded, d_bounded, _, _ = maxx_partials(ratio, 1.0, 1e-6)
    # d factor / d ratio, with factor = 1 / bounded
    f_ratio = -d_bounded / (bounded * bounded)
    f_x = f_ratio * g_c0 / (gamma * g_a)
    f_e = -f_x * available_energy / (lam * floored * floored) if e_tr > E_TR_FLOOR else 0.0
    return (e_tr, 1.0 / bounded, e_demand, e_supply, f_e * e_demand, f_e * e_supply,
            f_x / (lam * floored), f_ratio * (x / gamma - 1.0) / g_a)


@kernel
def water_limitation_tl(demand: float, supply: float, available_energy: float, slope: float,
                        gamma: float, g_a: float, g_c0: float, lam: float, eta: float,
                        demand_d: "float[:]", supply_d: "float[:]",
                        available_energy_d: "float[:]", g_c0_d: "float[:]",
                        transpiration_d: "float[:]",
                        factor_d: "float[:]") -> tuple[float, float]:
    """Tangent-linear of :func:`water_limitation`.

    Active inputs: Penman-Monteith demand [kg m-2 s-1], soil supply [kg m-2 s-1],
    available energy s Rn_c + rho c_p D g_a [W m-2 Pa K-1] and unstressed conductance
    g_c0 [m s-1]; slope, gamma, g_a, lambda and eta are forcing, static or constant. With
    no positive demand or energy (night) both outputs are constant.

    Parameters
    ----------
    demand, supply, available_energy, slope, gamma, g_a, g_c0, lam, eta : float
        Primal inputs as in :func:`water_limitation`.
    demand_d, supply_d, available_energy_d, g_c0_d : ndarray (k,)
        Tangents of the active inputs.
    transpiration_d, factor_d : ndarray (k,)
        Overwritten with the tangents of transpiration [kg m-2 s-1] and of the
        conductance factor [-].

    Returns
    -------
    tuple of float
        ``water_limitation(...)``: (transpiration, factor).
    """
    (e_tr, factor, t_demand, t_supply, f_demand, f_supply, f_energy,
     f_g_c0) = _water_limitation_jacobian(demand, supply, available_energy, slope, gamma,
                                          g_a, g_c0, lam, eta)
    for j in range(transpiration_d.size):
        d_d = demand_d[j]
        s_d = supply_d[j]
        f_d = (f_demand * d_d + f_supply * s_d + f_energy * available_energy_d[j]
               + f_g_c0 * g_c0_d[j])
        transpiration_d[j] = t_demand * d_d + t_supply * s_d
        factor_d[j] = f_d
    return e_tr, factor


@kernel
def water_limitation_ad(demand: float, supply: float, available_energy: float, slope: float,
                        gamma: float, g_a: float, g_c0: float, lam: float, eta: float,
                        transpiration_b: float,
                        factor_b: float) -> tuple[float, float, float, float]:
    """Adjoint of :func:`water_limitation`: (demand_b, supply_b, available_energy_b,
    g_c0_b) for the adjoints of (transpiration, factor)."""
    (_, _, t_demand, t_supply, f_demand, f_supply, f_energy,
     f_g_c0) = _water_limitation_jacobian(demand, supply, available_energy, slope, gamma,
                                          g_a, g_c0, lam, eta)
    return (t_demand * transpiration_b + f_demand * factor_b,
            t_supply * transpiration_b + f_supply * factor_b,
            f_energy * factor_b, f_g_c0 * factor_b)


@kernel
def _canopy_temperature_jacobian(t_air_c: float, longwave_net: float, ground_heat: float,
                                 a_v: float, tl: float, shortwave: float, latent_flux: float,
                                 rho_cp_ga: float) -> tuple[float, float, float, float, float]:
    """:func:`canopy_temperature` and its partial derivatives by (ground_heat, a_v, tl,
    latent_flux)."""
    open_fraction = 1.0 - tl
    bounded = max(open_fraction, 1e-3)
    excess = (longwave_net - ground_heat + a_v / bounded * shortwave
              - latent_flux) / rho_cp_ga
    damped = math.tanh(excess / DT_CANOPY_MAX)
    # dT/d excess = 1 - tanh^2, per unit of energy flux divided by rho c_p g_a
    t_flux = (1.0 - damped * damped) / rho_cp_ga
    t_tl = t_flux * a_v * shortwave / (bounded * bounded) if open_fraction > 1e-3 else 0.0
    return (t_air_c + DT_CANOPY_MAX * damped, -t_flux, t_flux * shortwave / bounded, t_tl,
            -t_flux)


@kernel
def canopy_temperature_tl(t_air_c: float, longwave_net: float, ground_heat: float, a_v: float,
                          tl: float, shortwave: float, latent_flux: float, rho_cp_ga: float,
                          ground_heat_d: "float[:]", a_v_d: "float[:]", tl_d: "float[:]",
                          latent_flux_d: "float[:]", t_canopy_d: "float[:]") -> float:
    """Tangent-linear of :func:`canopy_temperature`.

    Active inputs: ground heat flux [W m-2], canopy absorptivity a_V [-], long-wave
    transmissivity [-] and latent heat flux [W m-2]; air temperature, net long-wave,
    shortwave and rho c_p g_a are forcing or static. Where 1 - tl is below its floor of
    1e-3 (leaf-off) the result does not depend on tl.

    Parameters
    ----------
    t_air_c, longwave_net, ground_heat, a_v, tl, shortwave, latent_flux, rho_cp_ga : float
        Primal inputs [degC, W m-2, W m-2, -, -, W m-2, W m-2, W m-2 K-1].
    ground_heat_d, a_v_d, tl_d, latent_flux_d : ndarray (k,)
        Tangents of the active inputs.
    t_canopy_d : ndarray (k,)
        Overwritten with the tangents of the canopy temperature [K].

    Returns
    -------
    float
        ``canopy_temperature(...)`` [degC].
    """
    t_canopy, t_ground, t_a_v, t_tl, t_latent = _canopy_temperature_jacobian(
        t_air_c, longwave_net, ground_heat, a_v, tl, shortwave, latent_flux, rho_cp_ga)
    for j in range(t_canopy_d.size):
        t_canopy_d[j] = (t_ground * ground_heat_d[j] + t_a_v * a_v_d[j] + t_tl * tl_d[j]
                         + t_latent * latent_flux_d[j])
    return t_canopy


@kernel
def canopy_temperature_ad(t_air_c: float, longwave_net: float, ground_heat: float,
                          a_v: float, tl: float, shortwave: float, latent_flux: float,
                          rho_cp_ga: float,
                          t_canopy_b: float) -> tuple[float, float, float, float]:
    """Adjoint of :func:`canopy_temperature`: (ground_heat_b, a_v_b, tl_b, latent_flux_b)
    for the canopy temperature's adjoint."""
    _, t_ground, t_a_v, t_tl, t_latent = _canopy_temperature_jacobian(
        t_air_c, longwave_net, ground_heat, a_v, tl, shortwave, latent_flux, rho_cp_ga)
    return (t_ground * t_canopy_b, t_a_v * t_canopy_b, t_tl * t_canopy_b,
            t_latent * t_canopy_b)
