"""One hour of D&B for one tile: the composition of all process kernels.

Order of operations (MODEL_SPEC 1.2; BETHY order, DALEC last):

1. astronomy, PAR and its direct fraction, LAI = C_fol / LMA;
2. three-layer two-stream PAR absorption and FAPAR, long-wave transmissivity;
3. photosynthesis pass 1 (fixed Ci, air temperature) -> unstressed conductance g_c0;
4. energy balance: Penman-Monteith demand vs. root-zone supply -> water limitation,
   interception, canopy temperature;
5. photosynthesis pass 2 (stressed conductance, canopy temperature) -> GPP, leaf
   respiration, electron transport; autotrophic respiration (BETHY, MODEL_SPEC 2.6);
6. water: snow pack, surface layer, root zone, root-zone temperature;
7. DALEC carbon step (dt = 1/24 d).

The aerodynamic conductance uses D&B's constant wind speed of 3 m s-1 (checked against D&B
output, MODEL_SPEC 3.1), so the forcing's wind speed is not used by v1.0 physics.
"""

import math

from tccas.model.kernels import kernel
from tccas.model.kernels.astronomy import hour_cos_zenith
from tccas.model.kernels.dalec import carbon_step, loss_factor, phenology_constants
from tccas.model.kernels.hydrology import (
    interception,
    snow_cover_fraction,
    snow_pack,
    snowfall_fraction,
    soil_water,
)
from tccas.model.kernels.micromet import (
    aerodynamic_conductance,
    air_density,
    canopy_temperature,
    latent_heat,
    net_longwave,
    net_radiation,
    penman_monteith,
    psychrometric_constant,
    saturation_vapour_pressure,
    water_limitation,
)
from tccas.model.kernels.photosynthesis import (
    c3_assimilation_coupled,
    c3_assimilation_fixed_ci,
    c3_capacities,
    c4_assimilation_coupled,
    c4_assimilation_fixed_ci,
    c4_capacities,
    co2_conductance,
    heat_inhibition,
    temperature_factors,
    unstressed_conductance,
)
from tccas.model.kernels.radiation import (
    background_par_albedo,
    canopy_par_absorption,
    longwave_transmissivity,
    nitrogen_scaling,
    par_partition,
)
from tccas.model.kernels.smooth import logistic, maxx, minx
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
    N_STATE,
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
    T_HEIGHT,
    T_IS_C4,
    T_LATITUDE,
    T_LONGITUDE,
    T_NSCALE,
    T_ROOTING_DEPTH,
    T_THETA_FC,
    T_THETA_RES,
    T_THETA_SAT,
    T_THETA_WP,
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
    constant,
)

T_ZERO = constant("T_ZERO")
CP_AIR = constant("CP_AIR")
E_PAR = constant("E_PAR")
G_MIN = constant("G_MIN")
F_CI_C3 = constant("F_CI_C3")
F_CI_C4 = constant("F_CI_C4")
F_AUTLEAF = constant("F_AUTLEAF")
C_COST = constant("C_COST")
ETA = constant("ETA_COLIMIT")
C_W = constant("C_W")
W_CANOPY_PER_LAI = constant("W_CANOPY_PER_LAI")
WIND_SPEED = constant("WIND_SPEED")
SURFACE_DEPTH = constant("SURFACE_DEPTH")
SOIL_T_TIMESCALE = constant("SOIL_T_TIMESCALE")
FROZEN_WIDTH = constant("FROZEN_WIDTH")
# mol CO2 m-2 s-1 -> gC m-2 d-1
MOL_S_TO_GC_DAY = constant("M_CARBON") * 1.0e3 * 86400.0
DT_DAY = 1.0 / 24.0
SECONDS_PER_HOUR = 3600.0
N_LAYER = 3
LAI_FLOOR = 1e-4


@kernel
def tile_constants(params: "float[:]", tile: "float[:]", derived: "float[:]") -> None:
    """Fill ``derived`` with the time-invariant quantities of a tile (layout ``V_*``).

    Water capacities [kg m-2]: surface layer 1000 z_s (theta_sat - theta_res) above the
    residual content with field capacity 1000 z_s (theta_fc - theta_res) (MODEL_SPEC 3.4,
    6.5); root zone plant-available water 1000 z_r (theta_fc - theta_wp) times the
    water-capacity factor. Aerodynamic conductance [m s-1], DALEC phenology pulse shapes
    and the loss factors of the constant-rate wood and root turnover [d-1].
    """
    phi = math.radians(tile[T_LATITUDE])
    derived[V_SIN_LATITUDE] = math.sin(phi)
    derived[V_COS_LATITUDE] = math.cos(phi)
    derived[V_AERODYNAMIC_CONDUCTANCE] = aerodynamic_conductance(tile[T_HEIGHT], WIND_SPEED)
    derived[V_SURFACE_CAPACITY] = 1000.0 * SURFACE_DEPTH * (tile[T_THETA_SAT]
                                                            - tile[T_THETA_RES])
    derived[V_SURFACE_FIELD_CAPACITY] = 1000.0 * SURFACE_DEPTH * (tile[T_THETA_FC]
                                                                  - tile[T_THETA_RES])
    derived[V_ROOT_CAPACITY] = (1000.0 * tile[T_ROOTING_DEPTH]
                                * (tile[T_THETA_FC] - tile[T_THETA_WP])
                                * params[P_WATER_CAPACITY_FACTOR])
    width, offset, peak = phenology_constants(1.001, params[P_CR_ONSET])
    derived[V_ONSET_WIDTH] = width
    derived[V_ONSET_OFFSET] = offset
    derived[V_ONSET_PEAK] = peak
    width, offset, peak = phenology_constants(params[P_CLSPAN], params[P_CR_FALL])
    derived[V_FALL_WIDTH] = width
    derived[V_FALL_OFFSET] = offset
    derived[V_FALL_PEAK] = peak
    derived[V_WOOD_LOSS] = loss_factor(params[P_THETA_WOO], DT_DAY)
    derived[V_ROOT_LOSS] = loss_factor(params[P_THETA_ROO], DT_DAY)


# The tape of one hour, recorded by ``tile_hour`` for the reverse sweep of
# :func:`tccas.model.kernels.tile_hour_ad.tile_hour_ad`: the state before the hour, the
# forcing the reverse needs, the hour's intermediate values, then per layer (3 slots each)
# the values of photosynthesis pass 1 (R1_*) and pass 2 (R2_*) and the reverse sweep's
# workspace (RB_*: adjoints of unstressed conductance, nitrogen scaling and leaf PAR). A
# slot is written only where the forward computes it (pass-1 values and the C3 pass-2 je in
# daylight, C3 or C4 capacities); the reverse uses exactly those.
R_STATE = 0
R_T_C = 13
R_SHORTWAVE = 14
R_PRESSURE = 15
R_CO2 = 16
R_DAY_OF_YEAR = 17
R_LEAF_RATIO = 18
R_LAI = 19
R_MU = 20
R_MU_NOON = 21
R_PAR = 22
R_F_DIR = 23
R_SNOW_COVER = 24
R_SOIL_ALBEDO = 25
R_ALBEDO_BG = 26
R_RHO_PAR = 27
R_ABSORBED = 28  # 3 layers
R_FAPAR = 31
R_TL = 32
R_FACTORS_AIR = 33  # temperature_factors at air temperature (6), in daylight
R_HEAT_AIR = 39
R_G_C0 = 40
R_SLOPE = 41
R_LAM = 42
R_GAMMA = 43
R_L_NET = 44
R_RN_CANOPY = 45
R_GROUND_HEAT = 46
R_A_V = 47
R_AERO_TERM = 48
R_AVAILABLE_ENERGY = 49
R_DEMAND = 50
R_WET_RAW = 51
R_WET_POTENTIAL = 52
R_SOIL_RAW = 53
R_SOIL_POTENTIAL = 54
R_SIGMA = 55
R_SUPPLY = 56
R_TRANSPIRATION_FULL = 57
R_STRESS = 58
R_RAIN = 59
R_SNOWFALL = 60
R_W_CANOPY = 61
R_WET_RATIO = 62
R_WET_FRACTION = 63
R_TRANSPIRATION = 64
R_LATENT = 65
R_RHO_CP_GA = 66
R_T_CANOPY = 67
R_FACTORS_CANOPY = 68  # temperature_factors at canopy temperature (6)
R_HEAT_CANOPY = 74
R_GPP = 75
R_RA = 76
R_WATER_INPUT = 77
R_SOIL_DEMAND = 78
R_SUBLIMATION_DEMAND = 79
R_W_ROOT = 80
R_RELAX = 81
R1_PAR_LEAF = 82
R1_NSCALE = 85
R1_GS0 = 88
R1_VCMAX = 91
R1_J = 94
R1_JE = 97
R1_K = 100
R1_RD = 103
R1_A_GROSS = 106
R2_G_CO2 = 109
R2_VCMAX = 112
R2_J = 115
R2_JE = 118
R2_K = 121
R2_RD = 124
R2_A_GROSS = 127
RB_GS0 = 130
RB_NSCALE = 133
RB_PAR = 136
N_TAPE = 139


@kernel
def tile_hour(state: "float[:]", params: "float[:]", tile: "float[:]", derived: "float[:]",
              t_air_k: float,
              shortwave: float, longwave: float, precipitation: float, vpd: float,
              pressure: float, co2: float, day_of_year: float, utc_hour: float,
              sin_declination: float, cos_declination: float, equation_of_time_h: float,
              distance_factor: float, diag: "float[:]", tape: "float[:]") -> None:
    """Advance ``state`` by one hour in place and write the hour's diagnostics to ``diag``.

    Forcing in SI (K, W m-2, kg m-2 s-1, Pa, mol mol-1); ``day_of_year`` fractional (1 at
    00 UTC on 1 January), ``utc_hour`` the start of the hour; the solar calendar of the
    hour (sine and cosine of the declination, equation of time [h], Earth-Sun distance
    factor) comes from :func:`tccas.model.kernels.astronomy.solar_calendar`, the tile's
    time-invariant quantities from :func:`tile_constants`. Diagnostics: carbon fluxes
    [gC m-2 d-1], water fluxes [kg m-2 h-1], PAR and APAR [W m-2], electron transport
    [mol m-2 s-1] (see :mod:`tccas.model.layout`).

    ``tape`` (N_TAPE values, overwritten) receives the record of the hour that the adjoint
    :func:`tccas.model.kernels.tile_hour_ad.tile_hour_ad` reads (slots ``R_*``); a forward
    run passes one workspace and ignores it. Recording costs about 130 stores and no
    arithmetic (no measurable time, BENCHMARKS.md). It is part of the one compiled
    forward: a compilation without the stores would contract multiply-adds differently
    (fast-math ``contract``) and round differently, whereas now the forward run and the
    adjoint's checkpoint and recording sweeps advance the state bit for bit alike.
    """
    for s in range(N_STATE):
        tape[R_STATE + s] = state[s]
    t_c = t_air_k - T_ZERO
    cover = tile[T_COVER]
    leaf_ratio = state[S_C_FOL] / params[P_LMA]
    lai = maxx(leaf_ratio, LAI_FLOOR, LAI_FLOOR)
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
    snow_cover = snow_cover_fraction(state[S_SNOW], state[S_SNOW_DENSITY])
    soil_albedo = tile[T_ALBEDO_DRY] - (tile[T_ALBEDO_DRY] - tile[T_ALBEDO_WET]) * (
        state[S_W_SURFACE] / surface_capacity)
    albedo_bg = snow_cover * state[S_SNOW_ALBEDO] + (1.0 - snow_cover) * soil_albedo
    rho_par = background_par_albedo(albedo_bg)
    a1, a2, a3, fapar = canopy_par_absorption(lai, cover, mu, f_dir, rho_par)
    tl = longwave_transmissivity(lai, cover)
    par_mol = par / E_PAR
    lai_layer = lai / N_LAYER
    is_c4 = tile[T_IS_C4] > 0.5
    scaled = tile[T_NSCALE] > 0.5
    vcmax25 = params[P_VCMAX25]
    a_jv = params[P_A_JV]
    daylight = par_mol > 0.0

    # 3 photosynthesis pass 1 at air temperature and fixed Ci
    ci0 = (F_CI_C4 if is_c4 else F_CI_C3) * co2
    g_c0 = 0.0
    gs0_1 = gs0_2 = gs0_3 = G_MIN
    par_1 = par_2 = par_3 = 0.0
    if daylight:
        par_1 = a1 * par_mol / lai_layer
        par_2 = a2 * par_mol / lai_layer
        par_3 = a3 * par_mol / lai_layer
        f_vcmax, f_rd, f_k4, jmax_t, gamma_star, k2 = temperature_factors(t_c)
        heat = heat_inhibition(t_c)
        tape[R_FACTORS_AIR] = f_vcmax
        tape[R_FACTORS_AIR + 1] = f_rd
        tape[R_FACTORS_AIR + 2] = f_k4
        tape[R_FACTORS_AIR + 3] = jmax_t
        tape[R_FACTORS_AIR + 4] = gamma_star
        tape[R_FACTORS_AIR + 5] = k2
        tape[R_HEAT_AIR] = heat
        for layer in range(N_LAYER):
            par_leaf = par_1 if layer == 0 else (par_2 if layer == 1 else par_3)
            nscale = nitrogen_scaling(layer * lai_layer, mu_noon, scaled)
            if is_c4:
                je, rd, k = c4_capacities(vcmax25, nscale, f_vcmax, f_rd, f_k4, par_leaf)
                a_gross = c4_assimilation_fixed_ci(je, k, ci0, heat)
                tape[R1_JE + layer] = je
                tape[R1_K + layer] = k
            else:
                vcmax, j, rd = c3_capacities(vcmax25, a_jv, nscale, f_vcmax, f_rd, jmax_t,
                                             par_leaf)
                a_gross = c3_assimilation_fixed_ci(vcmax, j, gamma_star, k2, ci0, heat)
                tape[R1_VCMAX + layer] = vcmax
                tape[R1_J + layer] = j
            gs0 = unstressed_conductance(a_gross, rd, co2, ci0, t_c, pressure, G_MIN)
            tape[R1_RD + layer] = rd
            tape[R1_A_GROSS + layer] = a_gross
            if layer == 0:
                gs0_1 = gs0
            elif layer == 1:
                gs0_2 = gs0
            else:
                gs0_3 = gs0
    g_c0 = (gs0_1 + gs0_2 + gs0_3) * lai_layer

    # 4 energy balance, water limitation, interception
    _, slope = saturation_vapour_pressure(t_c)
    lam = latent_heat(t_c)
    gamma = psychrometric_constant(pressure, lam)
    rho = air_density(t_c, pressure)
    g_a = derived[V_AERODYNAMIC_CONDUCTANCE]
    l_net = net_longwave(longwave, t_c)
    rn_canopy, rn_soil, ground_heat, a_v = net_radiation(shortwave, l_net, fapar, albedo_bg, tl)
    aero_term = rho * CP_AIR * vpd * g_a
    available_energy = slope * rn_canopy + aero_term
    demand = penman_monteith(slope, gamma, rn_canopy, aero_term, g_a, g_c0, lam)
    wet_raw = penman_monteith(slope, gamma, rn_canopy, aero_term, g_a, 0.0, lam)
    wet_potential = maxx(wet_raw, 0.0, 1e-9)
    soil_raw = slope * rn_soil / (slope + gamma) / lam
    soil_potential = maxx(soil_raw, 0.0, 1e-9)
    sigma = logistic(state[S_T_SOIL], FROZEN_WIDTH)
    fpasm = state[S_W_ROOT] / root_capacity * sigma
    supply = C_W * fpasm / SECONDS_PER_HOUR
    transpiration_full, stress = water_limitation(demand, supply, available_energy, slope,
                                                  gamma, g_a, g_c0, lam, ETA)
    snow_share = snowfall_fraction(t_c)
    rain = precipitation * SECONDS_PER_HOUR * (1.0 - snow_share)
    snowfall = precipitation * SECONDS_PER_HOUR * snow_share
    canopy_capacity = W_CANOPY_PER_LAI * lai
    w_canopy, throughfall, e_interception = interception(
        state[S_W_CANOPY], rain, lai, cover, wet_potential * SECONDS_PER_HOUR)
    wet_ratio = w_canopy / (canopy_capacity + 1e-9)
    wet_fraction = minx(wet_ratio, 1.0, 0.01)
    transpiration = transpiration_full * SECONDS_PER_HOUR * (1.0 - wet_fraction)
    latent = lam * (transpiration + e_interception) / SECONDS_PER_HOUR
    rho_cp_ga = rho * CP_AIR * g_a
    t_canopy = canopy_temperature(t_c, l_net, ground_heat, a_v, tl, shortwave, latent,
                                  rho_cp_ga)

    # 5 photosynthesis pass 2 at canopy temperature and stressed conductance
    gpp_mol = 0.0
    rd_canopy = 0.0
    j_layer_1 = j_layer_2 = j_layer_3 = 0.0
    f_vcmax, f_rd, f_k4, jmax_t, gamma_star, k2 = temperature_factors(t_canopy)
    heat = heat_inhibition(t_canopy)
    for layer in range(N_LAYER):
        par_leaf = par_1 if layer == 0 else (par_2 if layer == 1 else par_3)
        gs0 = gs0_1 if layer == 0 else (gs0_2 if layer == 1 else gs0_3)
        nscale = nitrogen_scaling(layer * lai_layer, mu_noon, scaled)
        g_co2 = co2_conductance(gs0 * stress, t_canopy, pressure)
        if is_c4:
            je, rd, k = c4_capacities(vcmax25, nscale, f_vcmax, f_rd, f_k4, par_leaf)
            a_gross = c4_assimilation_coupled(je, k, rd, g_co2, co2, heat) if daylight \
                else 0.0
            # PROPOSED (MODEL_SPEC 2.7): four electrons per CO2 fixed in the bundle sheath
            j_actual = 4.0 * a_gross
            tape[R2_JE + layer] = je
            tape[R2_K + layer] = k
        else:
            vcmax, j, rd = c3_capacities(vcmax25, a_jv, nscale, f_vcmax, f_rd, jmax_t,
                                         par_leaf)
            if daylight:
                a_gross, je = c3_assimilation_coupled(vcmax, j, rd, gamma_star, k2, g_co2,
                                                      co2, heat)
                j_actual = j * a_gross / je if je > 0.0 else 0.0
                tape[R2_JE + layer] = je
            else:
                a_gross = 0.0
                j_actual = 0.0
            tape[R2_VCMAX + layer] = vcmax
            tape[R2_J + layer] = j
        tape[R1_PAR_LEAF + layer] = par_leaf
        tape[R1_NSCALE + layer] = nscale
        tape[R1_GS0 + layer] = gs0
        tape[R2_G_CO2 + layer] = g_co2
        tape[R2_RD + layer] = rd
        tape[R2_A_GROSS + layer] = a_gross
        gpp_mol += a_gross * lai_layer
        rd_canopy += rd * lai_layer
        if layer == 0:
            j_layer_1 = j_actual * lai_layer
        elif layer == 1:
            j_layer_2 = j_actual * lai_layer
        else:
            j_layer_3 = j_actual * lai_layer
    electron_transport = j_layer_1 + j_layer_2 + j_layer_3
    gpp = gpp_mol * MOL_S_TO_GC_DAY
    r_maint = rd_canopy / F_AUTLEAF * MOL_S_TO_GC_DAY
    ra = r_maint + C_COST * (gpp - r_maint)

    # 6 water: snow, soil layers, root-zone temperature
    sublimation_demand = soil_potential * SECONDS_PER_HOUR * snow_cover
    snow, density, snow_albedo, melt, sublimation = snow_pack(
        state[S_SNOW], state[S_SNOW_DENSITY], state[S_SNOW_ALBEDO], snowfall, t_c,
        sublimation_demand)
    water_input = throughfall + melt
    soil_demand = soil_potential * SECONDS_PER_HOUR * (1.0 - snow_cover)
    w_surface, w_root, e_soil, runoff = soil_water(
        state[S_W_SURFACE], state[S_W_ROOT], water_input, soil_demand, transpiration,
        surface_capacity, surface_fc, root_capacity)
    relax = 1.0 / (SOIL_T_TIMESCALE * 24.0 * (1.0 + 4.0 * snow_cover))
    state[S_T_SOIL] += (t_c - state[S_T_SOIL]) * relax
    state[S_W_CANOPY] = w_canopy
    state[S_SNOW] = snow
    state[S_SNOW_DENSITY] = density
    state[S_SNOW_ALBEDO] = snow_albedo
    state[S_W_SURFACE] = w_surface
    state[S_W_ROOT] = w_root

    # 7 DALEC
    rh = carbon_step(state, params, derived, gpp, ra, t_c, day_of_year, DT_DAY)

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
    diag[D_ELECTRON_TRANSPORT] = electron_transport
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

    # the record of the hour for the adjoint (per-layer values are recorded above)
    tape[R_T_C] = t_c
    tape[R_SHORTWAVE] = shortwave
    tape[R_PRESSURE] = pressure
    tape[R_CO2] = co2
    tape[R_DAY_OF_YEAR] = day_of_year
    tape[R_LEAF_RATIO] = leaf_ratio
    tape[R_LAI] = lai
    tape[R_MU] = mu
    tape[R_MU_NOON] = mu_noon
    tape[R_PAR] = par
    tape[R_F_DIR] = f_dir
    tape[R_SNOW_COVER] = snow_cover
    tape[R_SOIL_ALBEDO] = soil_albedo
    tape[R_ALBEDO_BG] = albedo_bg
    tape[R_RHO_PAR] = rho_par
    tape[R_ABSORBED] = a1
    tape[R_ABSORBED + 1] = a2
    tape[R_ABSORBED + 2] = a3
    tape[R_FAPAR] = fapar
    tape[R_TL] = tl
    tape[R_G_C0] = g_c0
    tape[R_SLOPE] = slope
    tape[R_LAM] = lam
    tape[R_GAMMA] = gamma
    tape[R_L_NET] = l_net
    tape[R_RN_CANOPY] = rn_canopy
    tape[R_GROUND_HEAT] = ground_heat
    tape[R_A_V] = a_v
    tape[R_AERO_TERM] = aero_term
    tape[R_AVAILABLE_ENERGY] = available_energy
    tape[R_DEMAND] = demand
    tape[R_WET_RAW] = wet_raw
    tape[R_WET_POTENTIAL] = wet_potential
    tape[R_SOIL_RAW] = soil_raw
    tape[R_SOIL_POTENTIAL] = soil_potential
    tape[R_SIGMA] = sigma
    tape[R_SUPPLY] = supply
    tape[R_TRANSPIRATION_FULL] = transpiration_full
    tape[R_STRESS] = stress
    tape[R_RAIN] = rain
    tape[R_SNOWFALL] = snowfall
    tape[R_W_CANOPY] = w_canopy
    tape[R_WET_RATIO] = wet_ratio
    tape[R_WET_FRACTION] = wet_fraction
    tape[R_TRANSPIRATION] = transpiration
    tape[R_LATENT] = latent
    tape[R_RHO_CP_GA] = rho_cp_ga
    tape[R_T_CANOPY] = t_canopy
    tape[R_FACTORS_CANOPY] = f_vcmax
    tape[R_FACTORS_CANOPY + 1] = f_rd
    tape[R_FACTORS_CANOPY + 2] = f_k4
    tape[R_FACTORS_CANOPY + 3] = jmax_t
    tape[R_FACTORS_CANOPY + 4] = gamma_star
    tape[R_FACTORS_CANOPY + 5] = k2
    tape[R_HEAT_CANOPY] = heat
    tape[R_GPP] = gpp
    tape[R_RA] = ra
    tape[R_WATER_INPUT] = water_input
    tape[R_SOIL_DEMAND] = soil_demand
    tape[R_SUBLIMATION_DEMAND] = sublimation_demand
    tape[R_W_ROOT] = w_root
    tape[R_RELAX] = relax
