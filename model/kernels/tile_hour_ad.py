"""Adjoint of one hour of D&B for one tile (:mod:`tccas.model.kernels.tile_hour`).

The forward half is ``tile_hour`` itself: called with a ``tape`` it records the state
before the hour, the forcing the reverse needs and every intermediate value of the hour
(``R_*`` slots, N_TAPE values). :func:`tile_hour_ad` is the reverse half only: it reads the
tape and runs through the kernels' ``_ad`` functions in exactly the reverse order of
``tile_hour``, without recomputing the hour:

* in: ``state_b (N_STATE,)`` the adjoint of the state after the hour, ``diag_b (N_DIAG,)``
  the adjoint of the hour's diagnostics;
* out: ``state_b`` overwritten with the adjoint of the state before the hour;
  ``params_b (N_PARAMETER,)`` and ``derived_b (N_DERIVED,)`` accumulated.

The forcing is passive. :func:`tile_constants_ad` back-propagates ``derived_b`` to the
parameters once per run. Cost: the reverse sweep only (the kernels' ``_ad`` functions
evaluate their local partial derivatives); the forward half costs one ``tile_hour`` plus
about 130 stores.
"""

from tccas.model.kernels import kernel
from tccas.model.kernels.dalec import carbon_step_ad, loss_factor_ad, phenology_constants_ad
from tccas.model.kernels.hydrology import (
    interception_ad,
    snow_cover_fraction_ad,
    snow_pack_ad,
    soil_water_ad,
)
from tccas.model.kernels.micromet import (
    canopy_temperature_ad,
    net_radiation_ad,
    penman_monteith_ad,
    water_limitation_ad,
)
from tccas.model.kernels.photosynthesis import (
    c3_assimilation_coupled_ad,
    c3_assimilation_fixed_ci_ad,
    c3_capacities_ad,
    c4_assimilation_coupled_ad,
    c4_assimilation_fixed_ci_ad,
    c4_capacities_ad,
    co2_conductance_ad,
    heat_inhibition_ad,
    temperature_factors_ad,
    unstressed_conductance_ad,
)
from tccas.model.kernels.radiation import (
    background_par_albedo_ad,
    canopy_par_absorption_ad,
    longwave_transmissivity_ad,
    nitrogen_scaling_ad,
)
from tccas.model.kernels.smooth import logistic_ad, maxx_ad, minx_ad
from tccas.model.kernels.tile_hour import (
    C_COST,
    C_W,
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
    R1_A_GROSS,
    R1_GS0,
    R1_J,
    R1_JE,
    R1_K,
    R1_NSCALE,
    R1_PAR_LEAF,
    R1_RD,
    R1_VCMAX,
    R2_A_GROSS,
    R2_G_CO2,
    R2_J,
    R2_JE,
    R2_K,
    R2_RD,
    R2_VCMAX,
    R_A_V,
    R_ABSORBED,
    R_AERO_TERM,
    R_ALBEDO_BG,
    R_AVAILABLE_ENERGY,
    R_CO2,
    R_DAY_OF_YEAR,
    R_DEMAND,
    R_F_DIR,
    R_FACTORS_AIR,
    R_FACTORS_CANOPY,
    R_FAPAR,
    R_G_C0,
    R_GAMMA,
    R_GPP,
    R_GROUND_HEAT,
    R_HEAT_AIR,
    R_HEAT_CANOPY,
    R_L_NET,
    R_LAI,
    R_LAM,
    R_LATENT,
    R_LEAF_RATIO,
    R_MU,
    R_MU_NOON,
    R_PAR,
    R_PRESSURE,
    R_RA,
    R_RAIN,
    R_RELAX,
    R_RHO_CP_GA,
    R_RHO_PAR,
    R_RN_CANOPY,
    R_SHORTWAVE,
    R_SIGMA,
    R_SLOPE,
    R_SNOW_COVER,
    R_SNOWFALL,
    R_SOIL_ALBEDO,
    R_SOIL_DEMAND,
    R_SOIL_POTENTIAL,
    R_SOIL_RAW,
    R_STATE,
    R_STRESS,
    R_SUBLIMATION_DEMAND,
    R_SUPPLY,
    R_T_C,
    R_T_CANOPY,
    R_TL,
    R_TRANSPIRATION,
    R_TRANSPIRATION_FULL,
    R_W_CANOPY,
    R_W_ROOT,
    R_WATER_INPUT,
    R_WET_FRACTION,
    R_WET_POTENTIAL,
    R_WET_RATIO,
    R_WET_RAW,
    RB_GS0,
    RB_NSCALE,
    RB_PAR,
    SECONDS_PER_HOUR,
    SURFACE_DEPTH,
    W_CANOPY_PER_LAI,
    tile_constants,
)
from tccas.model.layout import (
    D_ALBEDO_BG,
    D_APAR,
    D_ELECTRON_TRANSPORT,
    D_ELECTRON_TRANSPORT_1,
    D_FAPAR,
    D_FPASM,
    D_GPP,
    D_INTERCEPTION_EVAPORATION,
    D_LAI,
    D_MELT,
    D_NEE,
    D_PLANT_WATER_STATUS,
    D_RA,
    D_RH,
    D_RUNOFF,
    D_SM_SURFACE,
    D_SOIL_EVAPORATION,
    D_SOIL_WATER_INDEX,
    D_SUBLIMATION,
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
    T_IS_C4,
    T_NSCALE,
    V_AERODYNAMIC_CONDUCTANCE,
    V_FALL_OFFSET,
    V_FALL_PEAK,
    V_FALL_WIDTH,
    V_ONSET_OFFSET,
    V_ONSET_PEAK,
    V_ONSET_WIDTH,
    V_ROOT_CAPACITY,
    V_ROOT_LOSS,
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


@kernel
def tile_constants_ad(params: "float[:]", tile: "float[:]", derived_b: "float[:]",
                      params_b: "float[:]") -> None:
    """Adjoint of :func:`tccas.model.kernels.tile_hour.tile_constants`: accumulate into
    ``params_b`` the parameter adjoint of ``derived_b``."""
    derived = derived_b.copy()
    tile_constants(params, tile, derived)
    params_b[P_WATER_CAPACITY_FACTOR] += (derived[V_ROOT_CAPACITY]
                                          / params[P_WATER_CAPACITY_FACTOR]
                                          * derived_b[V_ROOT_CAPACITY])
    _, duration_b = phenology_constants_ad(1.001, params[P_CR_ONSET],
                                           derived_b[V_ONSET_WIDTH],
                                           derived_b[V_ONSET_OFFSET],
                                           derived_b[V_ONSET_PEAK])
    params_b[P_CR_ONSET] += duration_b
    lifespan_b, duration_b = phenology_constants_ad(params[P_CLSPAN], params[P_CR_FALL],
                                                    derived_b[V_FALL_WIDTH],
                                                    derived_b[V_FALL_OFFSET],
                                                    derived_b[V_FALL_PEAK])
    params_b[P_CLSPAN] += lifespan_b
    params_b[P_CR_FALL] += duration_b
    params_b[P_THETA_WOO] += loss_factor_ad(params[P_THETA_WOO], DT_DAY,
                                            derived_b[V_WOOD_LOSS])
    params_b[P_THETA_ROO] += loss_factor_ad(params[P_THETA_ROO], DT_DAY,
                                            derived_b[V_ROOT_LOSS])


@kernel
def tile_hour_ad(tape: "float[:]", params: "float[:]", tile: "float[:]",
                 derived: "float[:]", state_b: "float[:]", params_b: "float[:]",
                 derived_b: "float[:]", diag_b: "float[:]") -> None:
    """Adjoint of one hour (see the module docstring) from the ``tape`` that
    ``tile_hour(..., tape)`` recorded for that hour; the slots ``RB_*`` of the tape are the
    reverse sweep's workspace (overwritten)."""
    state = tape[R_STATE:R_STATE + N_STATE]
    t_c = tape[R_T_C]
    shortwave = tape[R_SHORTWAVE]
    pressure = tape[R_PRESSURE]
    co2 = tape[R_CO2]
    cover = tile[T_COVER]
    lma = params[P_LMA]
    leaf_ratio = tape[R_LEAF_RATIO]
    lai = tape[R_LAI]
    surface_capacity = derived[V_SURFACE_CAPACITY]
    surface_fc = derived[V_SURFACE_FIELD_CAPACITY]
    root_capacity = derived[V_ROOT_CAPACITY]
    mu = tape[R_MU]
    mu_noon = tape[R_MU_NOON]
    par = tape[R_PAR]
    f_dir = tape[R_F_DIR]
    snow_cover = tape[R_SNOW_COVER]
    albedo_span = tile[T_ALBEDO_DRY] - tile[T_ALBEDO_WET]
    soil_albedo = tape[R_SOIL_ALBEDO]
    snow_albedo = state[S_SNOW_ALBEDO]
    albedo_bg = tape[R_ALBEDO_BG]
    rho_par = tape[R_RHO_PAR]
    a1 = tape[R_ABSORBED]
    a2 = tape[R_ABSORBED + 1]
    a3 = tape[R_ABSORBED + 2]
    fapar = tape[R_FAPAR]
    tl = tape[R_TL]
    par_mol = par / E_PAR
    lai_layer = lai / 3.0
    is_c4 = tile[T_IS_C4] > 0.5
    scaled = tile[T_NSCALE] > 0.5
    vcmax25 = params[P_VCMAX25]
    a_jv = params[P_A_JV]
    daylight = par_mol > 0.0
    ci0 = (F_CI_C4 if is_c4 else F_CI_C3) * co2
    gs0_sum = tape[R1_GS0] + tape[R1_GS0 + 1] + tape[R1_GS0 + 2]
    g_c0 = tape[R_G_C0]
    slope = tape[R_SLOPE]
    lam = tape[R_LAM]
    gamma = tape[R_GAMMA]
    g_a = derived[V_AERODYNAMIC_CONDUCTANCE]
    l_net = tape[R_L_NET]
    rn_canopy = tape[R_RN_CANOPY]
    ground_heat = tape[R_GROUND_HEAT]
    a_v = tape[R_A_V]
    aero_term = tape[R_AERO_TERM]
    available_energy = tape[R_AVAILABLE_ENERGY]
    demand = tape[R_DEMAND]
    wet_raw = tape[R_WET_RAW]
    wet_potential = tape[R_WET_POTENTIAL]
    soil_raw = tape[R_SOIL_RAW]
    soil_potential = tape[R_SOIL_POTENTIAL]
    sigma = tape[R_SIGMA]
    supply = tape[R_SUPPLY]
    transpiration_full = tape[R_TRANSPIRATION_FULL]
    stress = tape[R_STRESS]
    rain = tape[R_RAIN]
    snowfall = tape[R_SNOWFALL]
    w_canopy = tape[R_W_CANOPY]
    wet_denominator = W_CANOPY_PER_LAI * lai + 1e-9
    wet_ratio = tape[R_WET_RATIO]
    wet_fraction = tape[R_WET_FRACTION]
    transpiration = tape[R_TRANSPIRATION]
    latent = tape[R_LATENT]
    rho_cp_ga = tape[R_RHO_CP_GA]
    t_canopy = tape[R_T_CANOPY]
    f_vcmax = tape[R_FACTORS_CANOPY]
    f_rd = tape[R_FACTORS_CANOPY + 1]
    f_k4 = tape[R_FACTORS_CANOPY + 2]
    jmax_t = tape[R_FACTORS_CANOPY + 3]
    gamma_star = tape[R_FACTORS_CANOPY + 4]
    k2 = tape[R_FACTORS_CANOPY + 5]
    heat = tape[R_HEAT_CANOPY]
    gpp = tape[R_GPP]
    ra = tape[R_RA]
    water_input = tape[R_WATER_INPUT]
    soil_demand = tape[R_SOIL_DEMAND]
    sublimation_demand = tape[R_SUBLIMATION_DEMAND]
    w_root = tape[R_W_ROOT]
    relax = tape[R_RELAX]

    # ---------------- reverse sweep ----------------
    # diagnostics
    gpp_b = diag_b[D_GPP] - diag_b[D_NEE]
    ra_b = diag_b[D_RA] + diag_b[D_NEE]
    rh_b = diag_b[D_RH] + diag_b[D_NEE]
    transpiration_b = diag_b[D_TRANSPIRATION]
    e_soil_b = diag_b[D_SOIL_EVAPORATION]
    e_interception_b = diag_b[D_INTERCEPTION_EVAPORATION]
    sublimation_b = diag_b[D_SUBLIMATION]
    runoff_b = diag_b[D_RUNOFF]
    melt_b = diag_b[D_MELT]
    fapar_b = diag_b[D_FAPAR] + diag_b[D_APAR] * par
    lai_b = diag_b[D_LAI]
    w_surface_b = state_b[S_W_SURFACE] + diag_b[D_SM_SURFACE] / (1000.0 * SURFACE_DEPTH)
    t_canopy_b = diag_b[D_T_CANOPY]
    fpasm_b = diag_b[D_FPASM]
    albedo_bg_b = diag_b[D_ALBEDO_BG]
    w_root_b = state_b[S_W_ROOT] + diag_b[D_SOIL_WATER_INDEX] / root_capacity
    root_capacity_b = -diag_b[D_SOIL_WATER_INDEX] * w_root / (root_capacity * root_capacity)
    transpiration_full_b = 0.0
    demand_b = 0.0
    if demand > 0.0:
        transpiration_full_b += diag_b[D_PLANT_WATER_STATUS] / demand
        demand_b -= diag_b[D_PLANT_WATER_STATUS] * transpiration_full / (demand * demand)
    # electron transport per layer (per ground area) = j_actual * lai_layer
    j_ground_b = (diag_b[D_ELECTRON_TRANSPORT_1] + diag_b[D_ELECTRON_TRANSPORT],
                  diag_b[D_ELECTRON_TRANSPORT_1 + 1] + diag_b[D_ELECTRON_TRANSPORT],
                  diag_b[D_ELECTRON_TRANSPORT_1 + 2] + diag_b[D_ELECTRON_TRANSPORT])

    # 7 DALEC (the carbon rows of ``state`` are those before the hour)
    gpp_add, ra_add = carbon_step_ad(state, params, derived, gpp, ra, t_c, tape[R_DAY_OF_YEAR],
                                     DT_DAY, state_b, params_b, derived_b, rh_b)
    gpp_b += gpp_add
    ra_b += ra_add

    # 6 root-zone temperature, soil water, snow
    t_soil_after_b = state_b[S_T_SOIL]
    state_b[S_T_SOIL] = t_soil_after_b * (1.0 - relax)
    relax_b = t_soil_after_b * (t_c - state[S_T_SOIL])
    snow_cover_b = relax_b * (-relax * 4.0 / (1.0 + 4.0 * snow_cover))
    (surface_in_b, root_in_b, water_input_b, soil_demand_b, transpiration_add,
     capacity_add) = soil_water_ad(state[S_W_SURFACE], state[S_W_ROOT], water_input,
                                   soil_demand, transpiration, surface_capacity, surface_fc,
                                   root_capacity, w_surface_b, w_root_b, e_soil_b, runoff_b)
    transpiration_b += transpiration_add
    root_capacity_b += capacity_add
    throughfall_b = water_input_b
    melt_b += water_input_b
    soil_potential_b = soil_demand_b * SECONDS_PER_HOUR * (1.0 - snow_cover)
    snow_cover_b -= soil_demand_b * SECONDS_PER_HOUR * soil_potential
    snow_in_b, density_in_b, albedo_in_b, sublimation_demand_b = snow_pack_ad(
        state[S_SNOW], state[S_SNOW_DENSITY], snow_albedo, snowfall, t_c, sublimation_demand,
        state_b[S_SNOW], state_b[S_SNOW_DENSITY], state_b[S_SNOW_ALBEDO], melt_b,
        sublimation_b)
    soil_potential_b += sublimation_demand_b * SECONDS_PER_HOUR * snow_cover
    snow_cover_b += sublimation_demand_b * SECONDS_PER_HOUR * soil_potential

    # 5 pass 2 and autotrophic respiration
    gpp_b += C_COST * ra_b
    rd_canopy_b = (1.0 - C_COST) * ra_b / F_AUTLEAF * MOL_S_TO_GC_DAY
    gpp_mol_b = gpp_b * MOL_S_TO_GC_DAY
    f_vcmax_b = f_rd_b = f_k4_b = jmax_t_b = gamma_star_b = k2_b = heat_b = 0.0
    stress_b = 0.0
    lai_layer_b = 0.0
    for layer in range(3):
        tape[RB_GS0 + layer] = 0.0
        tape[RB_NSCALE + layer] = 0.0
        tape[RB_PAR + layer] = 0.0
    vcmax25_b = 0.0
    a_jv_b = 0.0
    for layer in range(2, -1, -1):
        a_gross = tape[R2_A_GROSS + layer]
        rd = tape[R2_RD + layer]
        je = tape[R2_JE + layer]
        g_co2 = tape[R2_G_CO2 + layer]
        par_leaf = tape[R1_PAR_LEAF + layer]
        nscale = tape[R1_NSCALE + layer]
        a_gross_b = gpp_mol_b * lai_layer
        rd_b = rd_canopy_b * lai_layer
        lai_layer_b += gpp_mol_b * a_gross + rd_canopy_b * rd
        g_co2_b = 0.0
        if is_c4:
            j_actual = 4.0 * a_gross
            lai_layer_b += j_ground_b[layer] * j_actual
            a_gross_b += 4.0 * j_ground_b[layer] * lai_layer
            je_b = 0.0
            k_b = 0.0
            if daylight:
                je_add, k_add, rd_add, g0_add, heat_add = c4_assimilation_coupled_ad(
                    je, tape[R2_K + layer], rd, g_co2, co2, heat, a_gross_b)
                je_b += je_add
                k_b += k_add
                rd_b += rd_add
                g_co2_b += g0_add
                heat_b += heat_add
            v_b, n_b, fv_b, frd_b, fk_b, p_b = c4_capacities_ad(
                vcmax25, nscale, f_vcmax, f_rd, f_k4, par_leaf, je_b, rd_b, k_b)
            vcmax25_b += v_b
            tape[RB_NSCALE + layer] += n_b
            f_vcmax_b += fv_b
            f_rd_b += frd_b
            f_k4_b += fk_b
            tape[RB_PAR + layer] += p_b
        else:
            vcmax = tape[R2_VCMAX + layer]
            j = tape[R2_J + layer]
            vcmax_b = 0.0
            j_b = 0.0
            if daylight:
                je_b = 0.0
                if je > 0.0:
                    j_actual = j * a_gross / je
                    lai_layer_b += j_ground_b[layer] * j_actual
                    j_actual_b = j_ground_b[layer] * lai_layer
                    j_b += j_actual_b * a_gross / je
                    a_gross_b += j_actual_b * j / je
                    je_b -= j_actual_b * j * a_gross / (je * je)
                v_add, j_add, rd_add, gs_add, k2_add, g0_add, heat_add = \
                    c3_assimilation_coupled_ad(vcmax, j, rd, gamma_star, k2, g_co2, co2,
                                               heat, a_gross_b, je_b)
                vcmax_b += v_add
                j_b += j_add
                rd_b += rd_add
                gamma_star_b += gs_add
                k2_b += k2_add
                g_co2_b += g0_add
                heat_b += heat_add
            v_b, ajv_b, n_b, fv_b, frd_b, jt_b, p_b = c3_capacities_ad(
                vcmax25, a_jv, nscale, f_vcmax, f_rd, jmax_t, par_leaf, vcmax_b, j_b, rd_b)
            vcmax25_b += v_b
            a_jv_b += ajv_b
            tape[RB_NSCALE + layer] += n_b
            f_vcmax_b += fv_b
            f_rd_b += frd_b
            jmax_t_b += jt_b
            tape[RB_PAR + layer] += p_b
        g_water_b, t_leaf_add = co2_conductance_ad(tape[R1_GS0 + layer] * stress, t_canopy,
                                                   pressure, g_co2_b)
        t_canopy_b += t_leaf_add
        tape[RB_GS0 + layer] += g_water_b * stress
        stress_b += g_water_b * tape[R1_GS0 + layer]
    t_canopy_b += heat_inhibition_ad(t_canopy, heat_b)
    t_canopy_b += temperature_factors_ad(t_canopy, f_vcmax_b, f_rd_b, f_k4_b, jmax_t_b,
                                         gamma_star_b, k2_b)

    # 4 energy balance, interception, water limitation
    ground_heat_b, a_v_b, tl_b, latent_b = canopy_temperature_ad(
        t_c, l_net, ground_heat, a_v, tl, shortwave, latent, rho_cp_ga, t_canopy_b)
    transpiration_b += latent_b * lam / SECONDS_PER_HOUR
    e_interception_b += latent_b * lam / SECONDS_PER_HOUR
    transpiration_full_b += transpiration_b * SECONDS_PER_HOUR * (1.0 - wet_fraction)
    wet_fraction_b = -transpiration_b * SECONDS_PER_HOUR * transpiration_full
    wet_ratio_b, _ = minx_ad(wet_ratio, 1.0, 0.01, wet_fraction_b)
    w_canopy_b = state_b[S_W_CANOPY] + wet_ratio_b / wet_denominator
    lai_b -= wet_ratio_b * w_canopy / (wet_denominator * wet_denominator) * W_CANOPY_PER_LAI
    canopy_in_b, lai_add, wet_hour_b = interception_ad(
        state[S_W_CANOPY], rain, lai, cover, wet_potential * SECONDS_PER_HOUR, w_canopy_b,
        throughfall_b, e_interception_b)
    lai_b += lai_add
    wet_potential_b = wet_hour_b * SECONDS_PER_HOUR
    demand_add, supply_b, available_b, g_c0_b = water_limitation_ad(
        demand, supply, available_energy, slope, gamma, g_a, g_c0, lam, ETA,
        transpiration_full_b, stress_b)
    demand_b += demand_add
    fpasm_b += supply_b * C_W / SECONDS_PER_HOUR
    w_root_in_b = root_in_b + fpasm_b * sigma / root_capacity
    root_capacity_b -= fpasm_b * sigma * state[S_W_ROOT] / (root_capacity * root_capacity)
    sigma_b = fpasm_b * state[S_W_ROOT] / root_capacity
    t_soil_b = state_b[S_T_SOIL] + logistic_ad(state[S_T_SOIL], FROZEN_WIDTH, sigma_b)
    soil_raw_b, _ = maxx_ad(soil_raw, 0.0, 1e-9, soil_potential_b)
    rn_soil_b = soil_raw_b * slope / (slope + gamma) / lam
    wet_raw_b, _ = maxx_ad(wet_raw, 0.0, 1e-9, wet_potential_b)
    rn_canopy_b, _ = penman_monteith_ad(slope, gamma, rn_canopy, aero_term, g_a, 0.0, lam,
                                        wet_raw_b)
    rn_add, g_c_add = penman_monteith_ad(slope, gamma, rn_canopy, aero_term, g_a, g_c0, lam,
                                         demand_b)
    rn_canopy_b += rn_add + available_b * slope
    g_c0_b += g_c_add
    fapar_add, albedo_add, tl_add = net_radiation_ad(shortwave, l_net, fapar, albedo_bg, tl,
                                                     rn_canopy_b, rn_soil_b, ground_heat_b,
                                                     a_v_b)
    fapar_b += fapar_add
    albedo_bg_b += albedo_add
    tl_b += tl_add

    # 3 pass 1
    lai_layer_b += g_c0_b * gs0_sum
    for layer in range(3):
        tape[RB_GS0 + layer] += g_c0_b * lai_layer
    if daylight:
        f_vcmax0 = tape[R_FACTORS_AIR]
        f_rd0 = tape[R_FACTORS_AIR + 1]
        f_k40 = tape[R_FACTORS_AIR + 2]
        jmax_t0 = tape[R_FACTORS_AIR + 3]
        gamma_star0 = tape[R_FACTORS_AIR + 4]
        k20 = tape[R_FACTORS_AIR + 5]
        heat0 = tape[R_HEAT_AIR]
        for layer in range(2, -1, -1):
            par_leaf = tape[R1_PAR_LEAF + layer]
            nscale = tape[R1_NSCALE + layer]
            a_gross_b, rd_b, _ = unstressed_conductance_ad(
                tape[R1_A_GROSS + layer], tape[R1_RD + layer], co2, ci0, t_c, pressure,
                G_MIN, tape[RB_GS0 + layer])
            if is_c4:
                je_b, k_b, _ = c4_assimilation_fixed_ci_ad(tape[R1_JE + layer],
                                                           tape[R1_K + layer], ci0, heat0,
                                                           a_gross_b)
                v_b, n_b, _, _, _, p_b = c4_capacities_ad(vcmax25, nscale, f_vcmax0, f_rd0,
                                                          f_k40, par_leaf, je_b, rd_b, k_b)
            else:
                vcmax_b, j_b, _, _, _ = c3_assimilation_fixed_ci_ad(
                    tape[R1_VCMAX + layer], tape[R1_J + layer], gamma_star0, k20, ci0, heat0,
                    a_gross_b)
                v_b, ajv_b, n_b, _, _, _, p_b = c3_capacities_ad(
                    vcmax25, a_jv, nscale, f_vcmax0, f_rd0, jmax_t0, par_leaf, vcmax_b, j_b,
                    rd_b)
                a_jv_b += ajv_b
            vcmax25_b += v_b
            tape[RB_NSCALE + layer] += n_b
            tape[RB_PAR + layer] += p_b
    a1_b = a2_b = a3_b = 0.0
    if daylight:
        a1_b = tape[RB_PAR] * par_mol / lai_layer
        a2_b = tape[RB_PAR + 1] * par_mol / lai_layer
        a3_b = tape[RB_PAR + 2] * par_mol / lai_layer
        lai_layer_b -= (tape[RB_PAR] * a1 + tape[RB_PAR + 1] * a2 + tape[RB_PAR + 2] * a3) \
            * par_mol / (lai_layer * lai_layer)
    for layer in range(3):
        lai_above_b = nitrogen_scaling_ad(layer * lai_layer, mu_noon, scaled,
                                          tape[RB_NSCALE + layer])
        lai_layer_b += lai_above_b * layer
    params_b[P_VCMAX25] += vcmax25_b
    params_b[P_A_JV] += a_jv_b

    # 1-2 radiation and LAI
    lai_b += lai_layer_b / 3.0
    lai_b += longwave_transmissivity_ad(lai, cover, tl_b)
    lai_add, rho_par_b = canopy_par_absorption_ad(lai, cover, mu, f_dir, rho_par, a1_b, a2_b,
                                                  a3_b, fapar_b)
    lai_b += lai_add
    albedo_bg_b += background_par_albedo_ad(albedo_bg, rho_par_b)
    snow_cover_b += albedo_bg_b * (snow_albedo - soil_albedo)
    snow_albedo_b = albedo_bg_b * snow_cover
    soil_albedo_b = albedo_bg_b * (1.0 - snow_cover)
    surface_b = surface_in_b - soil_albedo_b * albedo_span / surface_capacity
    snow_add, density_add = snow_cover_fraction_ad(state[S_SNOW], state[S_SNOW_DENSITY],
                                                   snow_cover_b)
    ratio_b, _ = maxx_ad(leaf_ratio, LAI_FLOOR, LAI_FLOOR, lai_b)
    foliage_b = ratio_b / lma
    params_b[P_LMA] -= ratio_b * state[S_C_FOL] / (lma * lma)
    derived_b[V_ROOT_CAPACITY] += root_capacity_b

    # adjoint of the state before the hour (carbon rows set by carbon_step_ad)
    state_b[S_C_FOL] += foliage_b
    state_b[S_W_CANOPY] = canopy_in_b
    state_b[S_W_SURFACE] = surface_b
    state_b[S_W_ROOT] = w_root_in_b
    state_b[S_SNOW] = snow_in_b + snow_add
    state_b[S_SNOW_DENSITY] = density_in_b + density_add
    state_b[S_SNOW_ALBEDO] = albedo_in_b + snow_albedo_b
    state_b[S_T_SOIL] = t_soil_b
