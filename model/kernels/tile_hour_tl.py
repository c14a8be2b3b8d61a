"""Tangent-linear of one hour of D&B for one tile (:mod:`tccas.model.kernels.tile_hour`).

The composition of the kernels' ``_tl`` functions in the order of ``tile_hour``: the
primal is advanced exactly as ``tile_hour`` does (the ``_tl`` kernels return the primal
values), and the tangents of ``k`` directions are carried at once. Active quantities: the
13 state variables, the 26 per-tile parameters and the derived tile constants
(:func:`tile_constants_tl`); the forcing is passive.

Tangent arrays: ``state_d (N_STATE, k)`` (updated in place), ``params_d (N_PARAMETER, k)``,
``derived_d (N_DERIVED, k)``, ``diag_d (N_DIAG, k)`` (written), and a workspace
``work (N_WORK, k)`` whose rows hold the tangents of the intermediate quantities (no
allocation in the hourly loop).
"""

from tccas.model.kernels import kernel
from tccas.model.kernels.astronomy import hour_cos_zenith
from tccas.model.kernels.dalec import carbon_step_tl, loss_factor_tl, phenology_constants_tl
from tccas.model.kernels.hydrology import (
    interception_tl,
    snow_cover_fraction_tl,
    snow_pack_tl,
    snowfall_fraction,
    soil_water_tl,
)
from tccas.model.kernels.micromet import (
    air_density,
    canopy_temperature_tl,
    latent_heat,
    net_longwave,
    net_radiation_tl,
    penman_monteith_tl,
    psychrometric_constant,
    saturation_vapour_pressure,
    water_limitation_tl,
)
from tccas.model.kernels.photosynthesis import (
    c3_assimilation_coupled_tl,
    c3_assimilation_fixed_ci_tl,
    c3_capacities_tl,
    c4_assimilation_coupled_tl,
    c4_assimilation_fixed_ci_tl,
    c4_capacities_tl,
    co2_conductance_tl,
    heat_inhibition,
    heat_inhibition_tl,
    temperature_factors,
    temperature_factors_tl,
    unstressed_conductance_tl,
)
from tccas.model.kernels.radiation import (
    background_par_albedo_tl,
    canopy_par_absorption_tl,
    longwave_transmissivity_tl,
    nitrogen_scaling_tl,
    par_partition,
)
from tccas.model.kernels.smooth import logistic_tl, maxx_tl, minx_tl
from tccas.model.kernels.tile_hour import (
    C_COST,
    C_W,
    CP_AIR,
    DT_DAY,
    E_PAR,
    ETA,
    F_AUTLEAF,
    F_CI_C3,
    F_CI_C4,
    FROZEN_WIDTH,
    G_MIN,
    LAI_FLOOR,
    MOL_S_TO_GC_DAY,
    SECONDS_PER_HOUR,
    SOIL_T_TIMESCALE,
    SURFACE_DEPTH,
    T_ZERO,
    W_CANOPY_PER_LAI,
    tile_constants,
)
from tccas.model.layout import (
    D_ALBEDO_BG,
    D_APAR,
    D_ELECTRON_TRANSPORT,
    D_ELECTRON_TRANSPORT_1,
    D_ELECTRON_TRANSPORT_2,
    D_ELECTRON_TRANSPORT_3,
    D_F_DIR,
    D_FAPAR,
    D_FPASM,
    D_GPP,
    D_INTERCEPTION_EVAPORATION,
    D_LAI,
    D_MELT,
    D_MU,
    D_NEE,
    D_PAR,
    D_PLANT_WATER_STATUS,
    D_PRECIPITATION,
    D_RA,
    D_RH,
    D_RUNOFF,
    D_SM_SURFACE,
    D_SOIL_EVAPORATION,
    D_SOIL_WATER_INDEX,
    D_SUBLIMATION,
    D_T_AIR,
    D_T_CANOPY,
    D_TRANSPIRATION,
    S_C_FOL,
    S_SNOW,
    S_SNOW_ALBEDO,
    S_SNOW_DENSITY,
    S_T_SOIL,
    S_W_CANOPY,
    S_W_ROOT,
    S_W_SURFACE,
    T_ALBEDO_DRY,
    T_ALBEDO_WET,
    T_COVER,
    T_IS_C4,
    T_LONGITUDE,
    T_NSCALE,
    T_THETA_RES,
    V_AERODYNAMIC_CONDUCTANCE,
    V_COS_LATITUDE,
    V_FALL_OFFSET,
    V_FALL_PEAK,
    V_FALL_WIDTH,
    V_ONSET_OFFSET,
    V_ONSET_PEAK,
    V_ONSET_WIDTH,
    V_ROOT_CAPACITY,
    V_ROOT_LOSS,
    V_SIN_LATITUDE,
    V_SURFACE_CAPACITY,
    V_SURFACE_FIELD_CAPACITY,
    V_WOOD_LOSS,
)
from tccas.model.parameters import (
    P_A_JV,
    P_CLSPAN,
    P_CR_FALL,
    P_CR_ONSET,
    P_LMA,
    P_THETA_ROO,
    P_THETA_WOO,
    P_VCMAX25,
    P_WATER_CAPACITY_FACTOR,
)

# rows of the workspace (tangents of intermediate quantities)
W_ZERO = 0
W_X = 1
W_LAI = 2
W_SNOW_COVER = 3
W_SOIL_ALBEDO = 4
W_ALBEDO_BG = 5
W_RHO_PAR = 6
W_A1 = 7
W_A2 = 8
W_A3 = 9
W_FAPAR = 10
W_TL = 11
W_PAR1 = 12
W_PAR2 = 13
W_PAR3 = 14
W_NSCALE = 15
W_VCMAX = 16
W_J = 17
W_RD = 18
W_A_GROSS = 19
W_GS0_1 = 20
W_GS0_2 = 21
W_GS0_3 = 22
W_RN_CANOPY = 23
W_RN_SOIL = 24
W_GROUND_HEAT = 25
W_A_V = 26
W_AVAILABLE = 27
W_G_C0 = 28
W_DEMAND = 29
W_WET_RAW = 30
W_WET_POTENTIAL = 31
W_SOIL_RAW = 32
W_SOIL_POTENTIAL = 33
W_SIGMA = 34
W_FPASM = 35
W_SUPPLY = 36
W_TRANSPIRATION_FULL = 37
W_STRESS = 38
W_WET_POTENTIAL_HOUR = 39
W_CANOPY_WATER = 40
W_THROUGHFALL = 41
W_INTERCEPTION = 42
W_WET_RATIO = 43
W_WET_FRACTION = 44
W_TRANSPIRATION = 45
W_LATENT = 46
W_T_CANOPY = 47
W_F_VCMAX = 48
W_F_RD = 49
W_F_K4 = 50
W_JMAX_T = 51
W_GAMMA_STAR = 52
W_K2 = 53
W_HEAT = 54
W_G_WATER = 55
W_G_CO2 = 56
W_JE = 57
W_K = 58
W_J1 = 59
W_J2 = 60
W_J3 = 61
W_GPP = 62
W_RA = 63
W_RH = 64
W_SUBLIMATION_DEMAND = 65
W_SNOW = 66
W_DENSITY = 67
W_SNOW_ALBEDO = 68
W_MELT = 69
W_SUBLIMATION = 70
W_WATER_INPUT = 71
W_SOIL_DEMAND = 72
W_SURFACE = 73
W_ROOT = 74
W_SOIL_EVAPORATION = 75
W_RUNOFF = 76
W_RD_CANOPY = 77
W_GPP_MOL = 78
W_LAYER_LAI = 79
N_WORK = 80


@kernel
def tile_constants_tl(params: "float[:]", tile: "float[:]", derived: "float[:]",
                      params_d: "float[:, :]", derived_d: "float[:, :]") -> None:
    """Tangent of :func:`tccas.model.kernels.tile_hour.tile_constants`: fills ``derived``
    and ``derived_d (N_DERIVED, k)`` from ``params_d (N_PARAMETER, k)`` (the position,
    aerodynamic and surface-layer constants have zero tangent)."""
    tile_constants(params, tile, derived)
    derived_d[:, :] = 0.0
    k = derived_d.shape[1]
    for i in range(k):
        derived_d[V_ROOT_CAPACITY, i] = (derived[V_ROOT_CAPACITY]
                                         / params[P_WATER_CAPACITY_FACTOR]
                                         * params_d[P_WATER_CAPACITY_FACTOR, i])
    zero = params_d[P_CR_ONSET] * 0.0
    phenology_constants_tl(1.001, params[P_CR_ONSET], zero, params_d[P_CR_ONSET],
                           derived_d[V_ONSET_WIDTH], derived_d[V_ONSET_OFFSET],
                           derived_d[V_ONSET_PEAK])
    phenology_constants_tl(params[P_CLSPAN], params[P_CR_FALL], params_d[P_CLSPAN],
                           params_d[P_CR_FALL], derived_d[V_FALL_WIDTH],
                           derived_d[V_FALL_OFFSET], derived_d[V_FALL_PEAK])
    loss_factor_tl(params[P_THETA_WOO], DT_DAY, params_d[P_THETA_WOO], derived_d[V_WOOD_LOSS])
    loss_factor_tl(params[P_THETA_ROO], DT_DAY, params_d[P_THETA_ROO], derived_d[V_ROOT_LOSS])


@kernel
def tile_hour_tl(state: "float[:]", params: "float[:]", tile: "float[:]",
                 derived: "float[:]", t_air_k: float, shortwave: float, longwave: float,
                 precipitation: float, vpd: float, pressure: float, co2: float,
                 day_of_year: float, utc_hour: float, sin_declination: float,
                 cos_declination: float, equation_of_time_h: float, distance_factor: float,
                 diag: "float[:]", state_d: "float[:, :]", params_d: "float[:, :]",
                 derived_d: "float[:, :]", diag_d: "float[:, :]",
                 work: "float[:, :]") -> None:
    """One hour of :func:`tccas.model.kernels.tile_hour.tile_hour` and its tangent for k
    directions (see the module docstring for the arrays)."""
    k = state_d.shape[1]
    w = work
    w[W_ZERO, :] = 0.0
    zero = w[W_ZERO]
    t_c = t_air_k - T_ZERO
    cover = tile[T_COVER]
    lma = params[P_LMA]
    leaf_ratio = state[S_C_FOL] / lma
    for i in range(k):
        w[W_X, i] = state_d[S_C_FOL, i] / lma - state[S_C_FOL] * params_d[P_LMA, i] / (
            lma * lma)
    lai = maxx_tl(leaf_ratio, LAI_FLOOR, LAI_FLOOR, w[W_X], zero, w[W_LAI])
    surface_capacity = derived[V_SURFACE_CAPACITY]
    surface_fc = derived[V_SURFACE_FIELD_CAPACITY]
    root_capacity = derived[V_ROOT_CAPACITY]

    # 1-2 radiation
    mu_hour, sunlit, mu_noon = hour_cos_zenith(derived[V_SIN_LATITUDE],
                                               derived[V_COS_LATITUDE], tile[T_LONGITUDE],
                                               sin_declination, cos_declination,
                                               equation_of_time_h, utc_hour)
    mu = mu_hour / sunlit if sunlit > 0.0 else 0.0
    par, f_dir = par_partition(shortwave, mu, mu_hour, distance_factor, pressure)
    snow_cover = snow_cover_fraction_tl(state[S_SNOW], state[S_SNOW_DENSITY],
                                        state_d[S_SNOW], state_d[S_SNOW_DENSITY],
                                        w[W_SNOW_COVER])
    albedo_span = tile[T_ALBEDO_DRY] - tile[T_ALBEDO_WET]
    soil_albedo = tile[T_ALBEDO_DRY] - albedo_span * (state[S_W_SURFACE] / surface_capacity)
    snow_albedo = state[S_SNOW_ALBEDO]
    albedo_bg = snow_cover * snow_albedo + (1.0 - snow_cover) * soil_albedo
    for i in range(k):
        w[W_SOIL_ALBEDO, i] = -albedo_span * state_d[S_W_SURFACE, i] / surface_capacity
        w[W_ALBEDO_BG, i] = (w[W_SNOW_COVER, i] * (snow_albedo - soil_albedo)
                             + snow_cover * state_d[S_SNOW_ALBEDO, i]
                             + (1.0 - snow_cover) * w[W_SOIL_ALBEDO, i])
    rho_par = background_par_albedo_tl(albedo_bg, w[W_ALBEDO_BG], w[W_RHO_PAR])
    a1, a2, a3, fapar = canopy_par_absorption_tl(lai, cover, mu, f_dir, rho_par, w[W_LAI],
                                                 w[W_RHO_PAR], w[W_A1], w[W_A2], w[W_A3],
                                                 w[W_FAPAR])
    tl = longwave_transmissivity_tl(lai, cover, w[W_LAI], w[W_TL])
    par_mol = par / E_PAR
    lai_layer = lai / 3.0
    is_c4 = tile[T_IS_C4] > 0.5
    scaled = tile[T_NSCALE] > 0.5
    vcmax25 = params[P_VCMAX25]
    a_jv = params[P_A_JV]
    daylight = par_mol > 0.0
    for i in range(k):
        w[W_LAYER_LAI, i] = w[W_LAI, i] / 3.0

    # 3 photosynthesis pass 1 at air temperature and fixed Ci
    ci0 = (F_CI_C4 if is_c4 else F_CI_C3) * co2
    gs0_1 = gs0_2 = gs0_3 = G_MIN
    par_1 = par_2 = par_3 = 0.0
    w[W_GS0_1, :] = 0.0
    w[W_GS0_2, :] = 0.0
    w[W_GS0_3, :] = 0.0
    w[W_PAR1, :] = 0.0
    w[W_PAR2, :] = 0.0
    w[W_PAR3, :] = 0.0
    if daylight:
        par_1 = a1 * par_mol / lai_layer
        par_2 = a2 * par_mol / lai_layer
        par_3 = a3 * par_mol / lai_layer
        for i in range(k):
            w[W_PAR1, i] = par_mol * (w[W_A1, i] - a1 * w[W_LAYER_LAI, i] / lai_layer) \
                / lai_layer
            w[W_PAR2, i] = par_mol * (w[W_A2, i] - a2 * w[W_LAYER_LAI, i] / lai_layer) \
                / lai_layer
            w[W_PAR3, i] = par_mol * (w[W_A3, i] - a3 * w[W_LAYER_LAI, i] / lai_layer) \
                / lai_layer
        f_vcmax, f_rd, f_k4, jmax_t, gamma_star, k2 = temperature_factors(t_c)
        heat = heat_inhibition(t_c)
        for layer in range(3):
            par_row = W_PAR1 + layer
            par_leaf = par_1 if layer == 0 else (par_2 if layer == 1 else par_3)
            for i in range(k):
                w[W_X, i] = layer * w[W_LAYER_LAI, i]
            nscale = nitrogen_scaling_tl(layer * lai_layer, mu_noon, scaled, w[W_X],
                                         w[W_NSCALE])
            if is_c4:
                je, rd, k4 = c4_capacities_tl(vcmax25, nscale, f_vcmax, f_rd, f_k4, par_leaf,
                                              params_d[P_VCMAX25], w[W_NSCALE], zero, zero,
                                              zero, w[par_row], w[W_JE], w[W_RD], w[W_K])
                a_gross = c4_assimilation_fixed_ci_tl(je, k4, ci0, heat, w[W_JE], w[W_K],
                                                      zero, w[W_A_GROSS])
            else:
                vcmax, j, rd = c3_capacities_tl(vcmax25, a_jv, nscale, f_vcmax, f_rd, jmax_t,
                                                par_leaf, params_d[P_VCMAX25],
                                                params_d[P_A_JV], w[W_NSCALE], zero, zero,
                                                zero, w[par_row], w[W_VCMAX], w[W_J],
                                                w[W_RD])
                a_gross = c3_assimilation_fixed_ci_tl(vcmax, j, gamma_star, k2, ci0, heat,
                                                      w[W_VCMAX], w[W_J], zero, zero, zero,
                                                      w[W_A_GROSS])
            gs0 = unstressed_conductance_tl(a_gross, rd, co2, ci0, t_c, pressure, G_MIN,
                                            w[W_A_GROSS], w[W_RD], zero, w[W_GS0_1 + layer])
            if layer == 0:
                gs0_1 = gs0
            elif layer == 1:
                gs0_2 = gs0
            else:
                gs0_3 = gs0
    g_c0 = (gs0_1 + gs0_2 + gs0_3) * lai_layer
    for i in range(k):
        w[W_G_C0, i] = ((w[W_GS0_1, i] + w[W_GS0_2, i] + w[W_GS0_3, i]) * lai_layer
                        + (gs0_1 + gs0_2 + gs0_3) * w[W_LAYER_LAI, i])

    # 4 energy balance, water limitation, interception
    _, slope = saturation_vapour_pressure(t_c)
    lam = latent_heat(t_c)
    gamma = psychrometric_constant(pressure, lam)
    rho = air_density(t_c, pressure)
    g_a = derived[V_AERODYNAMIC_CONDUCTANCE]
    l_net = net_longwave(longwave, t_c)
    rn_canopy, rn_soil, ground_heat, a_v = net_radiation_tl(
        shortwave, l_net, fapar, albedo_bg, tl, w[W_FAPAR], w[W_ALBEDO_BG], w[W_TL],
        w[W_RN_CANOPY], w[W_RN_SOIL], w[W_GROUND_HEAT], w[W_A_V])
    aero_term = rho * CP_AIR * vpd * g_a
    available_energy = slope * rn_canopy + aero_term
    for i in range(k):
        w[W_AVAILABLE, i] = slope * w[W_RN_CANOPY, i]
    demand = penman_monteith_tl(slope, gamma, rn_canopy, aero_term, g_a, g_c0, lam,
                                w[W_RN_CANOPY], w[W_G_C0], w[W_DEMAND])
    wet_raw = penman_monteith_tl(slope, gamma, rn_canopy, aero_term, g_a, 0.0, lam,
                                 w[W_RN_CANOPY], zero, w[W_WET_RAW])
    wet_potential = maxx_tl(wet_raw, 0.0, 1e-9, w[W_WET_RAW], zero, w[W_WET_POTENTIAL])
    soil_raw = slope * rn_soil / (slope + gamma) / lam
    for i in range(k):
        w[W_SOIL_RAW, i] = slope * w[W_RN_SOIL, i] / (slope + gamma) / lam
    soil_potential = maxx_tl(soil_raw, 0.0, 1e-9, w[W_SOIL_RAW], zero, w[W_SOIL_POTENTIAL])
    sigma = logistic_tl(state[S_T_SOIL], FROZEN_WIDTH, state_d[S_T_SOIL], w[W_SIGMA])
    fpasm = state[S_W_ROOT] / root_capacity * sigma
    for i in range(k):
        w[W_FPASM, i] = ((state_d[S_W_ROOT, i] / root_capacity
                          - state[S_W_ROOT] * derived_d[V_ROOT_CAPACITY, i]
                          / (root_capacity * root_capacity)) * sigma
                         + state[S_W_ROOT] / root_capacity * w[W_SIGMA, i])
        w[W_SUPPLY, i] = C_W * w[W_FPASM, i] / SECONDS_PER_HOUR
    supply = C_W * fpasm / SECONDS_PER_HOUR
    transpiration_full, stress = water_limitation_tl(
        demand, supply, available_energy, slope, gamma, g_a, g_c0, lam, ETA, w[W_DEMAND],
        w[W_SUPPLY], w[W_AVAILABLE], w[W_G_C0], w[W_TRANSPIRATION_FULL], w[W_STRESS])
    snow_share = snowfall_fraction(t_c)
    rain = precipitation * SECONDS_PER_HOUR * (1.0 - snow_share)
    snowfall = precipitation * SECONDS_PER_HOUR * snow_share
    canopy_capacity = W_CANOPY_PER_LAI * lai
    for i in range(k):
        w[W_WET_POTENTIAL_HOUR, i] = w[W_WET_POTENTIAL, i] * SECONDS_PER_HOUR
    w_canopy, throughfall, e_interception = interception_tl(
        state[S_W_CANOPY], rain, lai, cover, wet_potential * SECONDS_PER_HOUR,
        state_d[S_W_CANOPY], w[W_LAI], w[W_WET_POTENTIAL_HOUR], w[W_CANOPY_WATER],
        w[W_THROUGHFALL], w[W_INTERCEPTION])
    wet_denominator = canopy_capacity + 1e-9
    for i in range(k):
        w[W_WET_RATIO, i] = (w[W_CANOPY_WATER, i] - w_canopy * W_CANOPY_PER_LAI * w[W_LAI, i]
                             / wet_denominator) / wet_denominator
    wet_fraction = minx_tl(w_canopy / wet_denominator, 1.0, 0.01, w[W_WET_RATIO], zero,
                           w[W_WET_FRACTION])
    transpiration = transpiration_full * SECONDS_PER_HOUR * (1.0 - wet_fraction)
    for i in range(k):
        w[W_TRANSPIRATION, i] = SECONDS_PER_HOUR * (
            w[W_TRANSPIRATION_FULL, i] * (1.0 - wet_fraction)
            - transpiration_full * w[W_WET_FRACTION, i])
        w[W_LATENT, i] = lam * (w[W_TRANSPIRATION, i] + w[W_INTERCEPTION, i]) \
            / SECONDS_PER_HOUR
    t_canopy = canopy_temperature_tl(
        t_c, l_net, ground_heat, a_v, tl, shortwave,
        lam * (transpiration + e_interception) / SECONDS_PER_HOUR, rho * CP_AIR * g_a,
        w[W_GROUND_HEAT], w[W_A_V], w[W_TL], w[W_LATENT], w[W_T_CANOPY])

    # 5 photosynthesis pass 2 at canopy temperature and stressed conductance
    gpp_mol = 0.0
    rd_canopy = 0.0
    j_layer_1 = j_layer_2 = j_layer_3 = 0.0
    w[W_GPP_MOL, :] = 0.0
    w[W_RD_CANOPY, :] = 0.0
    w[W_J1, :] = 0.0
    w[W_J2, :] = 0.0
    w[W_J3, :] = 0.0
    f_vcmax, f_rd, f_k4, jmax_t, gamma_star, k2 = temperature_factors_tl(
        t_canopy, w[W_T_CANOPY], w[W_F_VCMAX], w[W_F_RD], w[W_F_K4], w[W_JMAX_T],
        w[W_GAMMA_STAR], w[W_K2])
    heat = heat_inhibition_tl(t_canopy, w[W_T_CANOPY], w[W_HEAT])
    for layer in range(3):
        par_row = W_PAR1 + layer
        par_leaf = par_1 if layer == 0 else (par_2 if layer == 1 else par_3)
        gs0 = gs0_1 if layer == 0 else (gs0_2 if layer == 1 else gs0_3)
        for i in range(k):
            w[W_X, i] = layer * w[W_LAYER_LAI, i]
        nscale = nitrogen_scaling_tl(layer * lai_layer, mu_noon, scaled, w[W_X], w[W_NSCALE])
        for i in range(k):
            w[W_G_WATER, i] = w[W_GS0_1 + layer, i] * stress + gs0 * w[W_STRESS, i]
        g_co2 = co2_conductance_tl(gs0 * stress, t_canopy, pressure, w[W_G_WATER],
                                   w[W_T_CANOPY], w[W_G_CO2])
        if is_c4:
            je, rd, k4 = c4_capacities_tl(vcmax25, nscale, f_vcmax, f_rd, f_k4, par_leaf,
                                          params_d[P_VCMAX25], w[W_NSCALE], w[W_F_VCMAX],
                                          w[W_F_RD], w[W_F_K4], w[par_row], w[W_JE],
                                          w[W_RD], w[W_K])
            if daylight:
                a_gross = c4_assimilation_coupled_tl(je, k4, rd, g_co2, co2, heat, w[W_JE],
                                                     w[W_K], w[W_RD], w[W_G_CO2], w[W_HEAT],
                                                     w[W_A_GROSS])
            else:
                a_gross = 0.0
                w[W_A_GROSS, :] = 0.0
            j_actual = 4.0 * a_gross
            for i in range(k):
                w[W_X, i] = 4.0 * w[W_A_GROSS, i]
        else:
            vcmax, j, rd = c3_capacities_tl(vcmax25, a_jv, nscale, f_vcmax, f_rd, jmax_t,
                                            par_leaf, params_d[P_VCMAX25], params_d[P_A_JV],
                                            w[W_NSCALE], w[W_F_VCMAX], w[W_F_RD],
                                            w[W_JMAX_T], w[par_row], w[W_VCMAX], w[W_J],
                                            w[W_RD])
            j_actual = 0.0
            w[W_X, :] = 0.0
            if daylight:
                a_gross, je = c3_assimilation_coupled_tl(
                    vcmax, j, rd, gamma_star, k2, g_co2, co2, heat, w[W_VCMAX], w[W_J],
                    w[W_RD], w[W_GAMMA_STAR], w[W_K2], w[W_G_CO2], w[W_HEAT], w[W_A_GROSS],
                    w[W_JE])
                if je > 0.0:
                    j_actual = j * a_gross / je
                    for i in range(k):
                        w[W_X, i] = (w[W_J, i] * a_gross / je + j * w[W_A_GROSS, i] / je
                                     - j * a_gross * w[W_JE, i] / (je * je))
            else:
                a_gross = 0.0
                w[W_A_GROSS, :] = 0.0
        gpp_mol += a_gross * lai_layer
        rd_canopy += rd * lai_layer
        j_ground = j_actual * lai_layer
        for i in range(k):
            w[W_GPP_MOL, i] += w[W_A_GROSS, i] * lai_layer + a_gross * w[W_LAYER_LAI, i]
            w[W_RD_CANOPY, i] += w[W_RD, i] * lai_layer + rd * w[W_LAYER_LAI, i]
            w[W_J1 + layer, i] = w[W_X, i] * lai_layer + j_actual * w[W_LAYER_LAI, i]
        if layer == 0:
            j_layer_1 = j_ground
        elif layer == 1:
            j_layer_2 = j_ground
        else:
            j_layer_3 = j_ground
    gpp = gpp_mol * MOL_S_TO_GC_DAY
    r_maint = rd_canopy / F_AUTLEAF * MOL_S_TO_GC_DAY
    ra = r_maint + C_COST * (gpp - r_maint)
    for i in range(k):
        w[W_GPP, i] = w[W_GPP_MOL, i] * MOL_S_TO_GC_DAY
        w[W_RA, i] = ((1.0 - C_COST) * w[W_RD_CANOPY, i] / F_AUTLEAF * MOL_S_TO_GC_DAY
                      + C_COST * w[W_GPP, i])

    # 6 water: snow, soil layers, root-zone temperature
    for i in range(k):
        w[W_SUBLIMATION_DEMAND, i] = SECONDS_PER_HOUR * (
            w[W_SOIL_POTENTIAL, i] * snow_cover + soil_potential * w[W_SNOW_COVER, i])
        w[W_SOIL_DEMAND, i] = SECONDS_PER_HOUR * (
            w[W_SOIL_POTENTIAL, i] * (1.0 - snow_cover) - soil_potential * w[W_SNOW_COVER, i])
    snow, density, snow_albedo_new, melt, sublimation = snow_pack_tl(
        state[S_SNOW], state[S_SNOW_DENSITY], state[S_SNOW_ALBEDO], snowfall, t_c,
        soil_potential * SECONDS_PER_HOUR * snow_cover, state_d[S_SNOW],
        state_d[S_SNOW_DENSITY], state_d[S_SNOW_ALBEDO], w[W_SUBLIMATION_DEMAND], w[W_SNOW],
        w[W_DENSITY], w[W_SNOW_ALBEDO], w[W_MELT], w[W_SUBLIMATION])
    for i in range(k):
        w[W_WATER_INPUT, i] = w[W_THROUGHFALL, i] + w[W_MELT, i]
    w_surface, w_root, e_soil, runoff = soil_water_tl(
        state[S_W_SURFACE], state[S_W_ROOT], throughfall + melt,
        soil_potential * SECONDS_PER_HOUR * (1.0 - snow_cover), transpiration,
        surface_capacity, surface_fc, root_capacity, state_d[S_W_SURFACE],
        state_d[S_W_ROOT], w[W_WATER_INPUT], w[W_SOIL_DEMAND], w[W_TRANSPIRATION],
        derived_d[V_ROOT_CAPACITY], w[W_SURFACE], w[W_ROOT], w[W_SOIL_EVAPORATION],
        w[W_RUNOFF])
    relax_base = SOIL_T_TIMESCALE * 24.0
    relax = 1.0 / (relax_base * (1.0 + 4.0 * snow_cover))
    t_soil = state[S_T_SOIL]
    for i in range(k):
        d_relax = -relax * 4.0 * w[W_SNOW_COVER, i] / (1.0 + 4.0 * snow_cover)
        state_d[S_T_SOIL, i] += -state_d[S_T_SOIL, i] * relax + (t_c - t_soil) * d_relax
    state[S_T_SOIL] += (t_c - t_soil) * relax
    state[S_W_CANOPY] = w_canopy
    state[S_SNOW] = snow
    state[S_SNOW_DENSITY] = density
    state[S_SNOW_ALBEDO] = snow_albedo_new
    state[S_W_SURFACE] = w_surface
    state[S_W_ROOT] = w_root
    for i in range(k):
        state_d[S_W_CANOPY, i] = w[W_CANOPY_WATER, i]
        state_d[S_SNOW, i] = w[W_SNOW, i]
        state_d[S_SNOW_DENSITY, i] = w[W_DENSITY, i]
        state_d[S_SNOW_ALBEDO, i] = w[W_SNOW_ALBEDO, i]
        state_d[S_W_SURFACE, i] = w[W_SURFACE, i]
        state_d[S_W_ROOT, i] = w[W_ROOT, i]

    # 7 DALEC
    rh = carbon_step_tl(state, state_d, params, params_d, derived, derived_d, gpp, w[W_GPP],
                        ra, w[W_RA], t_c, day_of_year, DT_DAY, w[W_RH])

    diag[D_GPP] = gpp
    diag[D_RA] = ra
    diag[D_RH] = rh
    diag[D_NEE] = ra + rh - gpp
    diag[D_TRANSPIRATION] = transpiration
    diag[D_SOIL_EVAPORATION] = e_soil
    diag[D_INTERCEPTION_EVAPORATION] = e_interception
    diag[D_SUBLIMATION] = sublimation
    diag[D_RUNOFF] = runoff
    diag[D_PRECIPITATION] = precipitation * SECONDS_PER_HOUR
    diag[D_MELT] = melt
    diag[D_PAR] = par
    diag[D_APAR] = fapar * par
    diag[D_LAI] = lai
    diag[D_SM_SURFACE] = tile[T_THETA_RES] + w_surface / (1000.0 * SURFACE_DEPTH)
    diag[D_T_CANOPY] = t_canopy
    diag[D_FPASM] = fpasm
    diag[D_ELECTRON_TRANSPORT] = j_layer_1 + j_layer_2 + j_layer_3
    diag[D_ELECTRON_TRANSPORT_1] = j_layer_1
    diag[D_ELECTRON_TRANSPORT_2] = j_layer_2
    diag[D_ELECTRON_TRANSPORT_3] = j_layer_3
    diag[D_FAPAR] = fapar
    diag[D_MU] = mu
    diag[D_F_DIR] = f_dir
    diag[D_ALBEDO_BG] = albedo_bg
    diag[D_T_AIR] = t_c
    diag[D_SOIL_WATER_INDEX] = w_root / root_capacity
    diag[D_PLANT_WATER_STATUS] = transpiration_full / demand if demand > 0.0 else 0.0
    diag_d[:, :] = 0.0
    for i in range(k):
        diag_d[D_GPP, i] = w[W_GPP, i]
        diag_d[D_RA, i] = w[W_RA, i]
        diag_d[D_RH, i] = w[W_RH, i]
        diag_d[D_NEE, i] = w[W_RA, i] + w[W_RH, i] - w[W_GPP, i]
        diag_d[D_TRANSPIRATION, i] = w[W_TRANSPIRATION, i]
        diag_d[D_SOIL_EVAPORATION, i] = w[W_SOIL_EVAPORATION, i]
        diag_d[D_INTERCEPTION_EVAPORATION, i] = w[W_INTERCEPTION, i]
        diag_d[D_SUBLIMATION, i] = w[W_SUBLIMATION, i]
        diag_d[D_RUNOFF, i] = w[W_RUNOFF, i]
        diag_d[D_MELT, i] = w[W_MELT, i]
        diag_d[D_APAR, i] = w[W_FAPAR, i] * par
        diag_d[D_LAI, i] = w[W_LAI, i]
        diag_d[D_SM_SURFACE, i] = w[W_SURFACE, i] / (1000.0 * SURFACE_DEPTH)
        diag_d[D_T_CANOPY, i] = w[W_T_CANOPY, i]
        diag_d[D_FPASM, i] = w[W_FPASM, i]
        diag_d[D_ELECTRON_TRANSPORT_1, i] = w[W_J1, i]
        diag_d[D_ELECTRON_TRANSPORT_2, i] = w[W_J2, i]
        diag_d[D_ELECTRON_TRANSPORT_3, i] = w[W_J3, i]
        diag_d[D_ELECTRON_TRANSPORT, i] = w[W_J1, i] + w[W_J2, i] + w[W_J3, i]
        diag_d[D_FAPAR, i] = w[W_FAPAR, i]
        diag_d[D_ALBEDO_BG, i] = w[W_ALBEDO_BG, i]
        diag_d[D_SOIL_WATER_INDEX, i] = (w[W_ROOT, i] / root_capacity
                                         - w_root * derived_d[V_ROOT_CAPACITY, i]
                                         / (root_capacity * root_capacity))
        if demand > 0.0:
            diag_d[D_PLANT_WATER_STATUS, i] = (w[W_TRANSPIRATION_FULL, i] / demand
                                               - transpiration_full * w[W_DEMAND, i]
                                               / (demand * demand))

