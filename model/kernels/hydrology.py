"""Water stores of a tile: interception, snow pack, surface soil layer and root zone.

BETHY heritage (Knorr 2000, doi:10.1046/j.1365-2699.2000.00159.x, ``mo_hydro.f90``),
applied hourly (MODEL_SPEC 3.4, 3.5). Where D&B's exact coupling is unknown we follow the
PROPOSED choices of MODEL_SPEC: a 5 cm surface layer (the SMOS sensing depth) above a
root-zone bucket, drainage from the surface layer above field capacity, saturation-excess
runoff, and a snow albedo scheme after Douville, Royer & Mahfouf (1995) Clim. Dyn. 12:21,
doi:10.1007/BF00208760.

All amounts are per hour: stores in kg m-2, fluxes in kg m-2 h-1, temperatures in degC.
Every change to a store is a named flux, so the water balance closes to rounding. The
kernels that depend on the state have the ``_tl``/``_ad`` pair of the convention in
:mod:`tccas.model.kernels`.
"""

import math

from tccas.model.kernels import kernel
from tccas.model.kernels.smooth import (
    excess,
    excess_partials,
    limited_loss,
    limited_loss_partials,
    maxx,
    maxx_partials,
    minx,
    minx_partials,
)
from tccas.model.parameters import constant

W_CANOPY_PER_LAI = constant("W_CANOPY_PER_LAI")
MELT_RATE = constant("MELT_RATE")
T_SNOW_ALL = constant("T_SNOW_ALL")
T_RAIN_ALL = constant("T_RAIN_ALL")
K_DRAIN = constant("K_DRAIN")
INFILTRATION_MAX = constant("INFILTRATION_MAX")
SNOW_MASKING_DEPTH = constant("SNOW_MASKING_DEPTH")
SNOW_DENSITY_MIN = 30.0
SNOW_ALBEDO_FRESH = 0.85
SNOW_ALBEDO_MIN = 0.50
SNOW_FRESH_RESET = 10.0  # kg m-2 of snowfall that fully refreshes the albedo


@kernel
def snowfall_fraction(t_air_c: float) -> float:
    """Fraction of precipitation falling as snow, clamp((3.3 - T) / 4.4, 0, 1) [-]."""
    return min(max((T_RAIN_ALL - t_air_c) / (T_RAIN_ALL - T_SNOW_ALL), 0.0), 1.0)


@kernel
def fresh_snow_density(t_air_c: float) -> float:
    """Density of new snow [kg m-3] (BETHY): 10 + 2.667 (T + 30) below -15 C,
    50 + 1.7 (T + 15)^1.5 above, at least 30."""
    if t_air_c < -15.0:
        return max(10.0 + 2.667 * (t_air_c + 30.0), SNOW_DENSITY_MIN)
    return 50.0 + 1.7 * (min(t_air_c, 2.0) + 15.0) ** 1.5


@kernel
def snow_cover_fraction(snow: float, density: float) -> float:
    """Fraction of the ground covered by snow, depth / (depth + 0.05 m) [-] (PROPOSED)."""
    depth = snow / density
    return depth / (depth + SNOW_MASKING_DEPTH)


@kernel
def interception(canopy_water: float, rain: float, lai: float, cover: float,
                 potential_evaporation: float) -> tuple[float, float, float]:
    """Canopy interception store (BETHY, intercepted fraction PROPOSED as
    fc (1 - exp(-0.5 LAI / fc)), capacity 0.1 kg m-2 per unit LAI).

    Parameters: store [kg m-2], rain [kg m-2 h-1], LAI [m2 m-2], cover [-], wet-canopy
    potential evaporation [kg m-2 h-1].
    Returns (new store, throughfall, evaporation) [kg m-2, kg m-2 h-1, kg m-2 h-1].
    """
    capacity = W_CANOPY_PER_LAI * lai
    intercepted = cover * (1.0 - math.exp(-0.5 * lai / cover)) * rain
    store = canopy_water + intercepted
    wet_fraction = minx(store / (capacity + 1e-9), 1.0, 0.01)
    evaporation = limited_loss(potential_evaporation * wet_fraction, store)
    store -= evaporation
    overflow = excess(store, capacity)
    return store - overflow, rain - intercepted + overflow, evaporation


@kernel
def snow_pack(snow: float, density: float, albedo: float, snowfall: float, t_air_c: float,
              potential_sublimation: float) -> tuple[float, float, float, float, float]:
    """Snow pack: accumulation, degree-day melt (3.22 kg m-2 K-1 d-1), sublimation,
    compaction (BETHY) and albedo ageing (Douville et al. 1995).

    Returns (snow, density, albedo, melt, sublimation): store [kg m-2], [kg m-3], [-],
    fluxes [kg m-2 h-1].
    """
    if snowfall > 0.0:
        new_density = fresh_snow_density(t_air_c)
        depth = snow / density + snowfall / new_density
        density = (snow + snowfall) / depth if depth > 1e-12 else new_density
        albedo += (SNOW_ALBEDO_FRESH - albedo) * min(snowfall / SNOW_FRESH_RESET, 1.0)
    snow += snowfall
    melt = limited_loss(MELT_RATE * max(t_air_c, 0.0) / 24.0, snow)
    snow -= melt
    sublimation = limited_loss(potential_sublimation, snow)
    snow -= sublimation
    compaction = 0.0229 * math.exp(-0.021 * density + 0.08 * min(t_air_c, 0.0)) * snow / 2.0
    density = max(density * (1.0 + compaction / 24.0), SNOW_DENSITY_MIN)
    if t_air_c > 0.0:
        albedo = SNOW_ALBEDO_MIN + (albedo - SNOW_ALBEDO_MIN) * math.exp(-0.24 / 24.0)
    else:
        albedo = max(albedo - 0.008 / 24.0, SNOW_ALBEDO_MIN)
    return snow, density, albedo, melt, sublimation


@kernel
def soil_water(surface: float, root: float, water_input: float, soil_evaporation_demand: float,
               transpiration: float, surface_capacity: float, surface_field_capacity: float,
               root_capacity: float) -> tuple[float, float, float, float]:
    """Surface layer and root zone (PROPOSED coupling, MODEL_SPEC 3.4).

    Input (throughfall + melt) infiltrates up to 20 kg m-2 h-1 (the rest runs off) into the
    surface layer; water above the surface layer's capacity passes to the root zone, and
    the layer drains at 0.1 h-1 above field capacity. Soil evaporation comes from the
    surface layer, transpiration from the root zone; the root zone overflows above its
    capacity (saturation-excess runoff, no deep drainage, as in BETHY).

    Returns (surface, root, soil evaporation, runoff) [kg m-2, kg m-2, kg m-2 h-1, kg m-2 h-1].
    """
    infiltration_excess = maxx(water_input - INFILTRATION_MAX, 0.0, 0.1)
    surface += water_input - infiltration_excess
    evaporation = limited_loss(soil_evaporation_demand * surface / surface_capacity, surface)
    surface -= evaporation
    overflow = excess(surface, surface_capacity)
    surface -= overflow
    drainage = K_DRAIN * maxx(surface - surface_field_capacity, 0.0,
                              0.01 * surface_field_capacity)
    surface -= drainage
    root += overflow + drainage - transpiration
    runoff_root = excess(root, root_capacity)
    return surface, root - runoff_root, evaporation, infiltration_excess + runoff_root


# --- derivatives -------------------------------------------------------------------------
# Active inputs follow tile_hour: stores and the fluxes that depend on the state (LAI,
# potential evaporation, transpiration, the root-zone capacity through the water-capacity
# factor). Rain, snowfall, air temperature, canopy cover and the surface-layer capacities
# are forcing or static. snowfall_fraction and fresh_snow_density depend on air temperature
# only and have no derivative. Each ``_*_jacobian`` returns the outputs and their partial
# derivatives on the primal's branches; ``*_tl`` and ``*_ad`` apply it and its transpose.
# A ``*_tl`` reads all input tangents of a direction before it writes the outputs', so an
# output array may be the input array of the same store (in-place update).


@kernel
def _snow_cover_fraction_jacobian(snow: float, density: float) -> tuple[float, float, float]:
    """:func:`snow_cover_fraction` and its partial derivatives (d/d snow, d/d density)."""
    depth = snow / density
    total = depth + SNOW_MASKING_DEPTH
    d_depth = SNOW_MASKING_DEPTH / (total * total)
    return depth / total, d_depth / density, -d_depth * depth / density


@kernel
def snow_cover_fraction_tl(snow: float, density: float, snow_d: "float[:]",
                           density_d: "float[:]", cover_d: "float[:]") -> float:
    """Tangent-linear of :func:`snow_cover_fraction`; active inputs snow [kg m-2] and
    density [kg m-3] (state).

    Parameters
    ----------
    snow, density : float
        Snow water [kg m-2] and density [kg m-3].
    snow_d, density_d : ndarray (k,)
        Their tangents.
    cover_d : ndarray (k,)
        Overwritten with the tangents of the snow-covered fraction [-].

    Returns
    -------
    float
        ``snow_cover_fraction(snow, density)`` [-].
    """
    cover, c_snow, c_density = _snow_cover_fraction_jacobian(snow, density)
    for j in range(cover_d.size):
        cover_d[j] = c_snow * snow_d[j] + c_density * density_d[j]
    return cover


@kernel
def snow_cover_fraction_ad(snow: float, density: float, cover_b: float) -> tuple[float, float]:
    """Adjoint of :func:`snow_cover_fraction`: (snow_b, density_b) for ``cover_b``."""
    _, c_snow, c_density = _snow_cover_fraction_jacobian(snow, density)
    return c_snow * cover_b, c_density * cover_b


@kernel
def _interception_jacobian(canopy_water: float, rain: float, lai: float, cover: float,
                           potential_evaporation: float) -> tuple[float, ...]:
    """Outputs of :func:`interception` (store, throughfall, evaporation), then the partial
    derivatives of store, throughfall and evaporation (rows) by canopy_water, lai and
    potential_evaporation (columns)."""
    capacity = W_CANOPY_PER_LAI * lai
    shielded = math.exp(-0.5 * lai / cover)
    intercepted = cover * (1.0 - shielded) * rain
    i_lai = 0.5 * shielded * rain
    store = canopy_water + intercepted
    wet_fraction, wet_x, _, _ = minx_partials(store / (capacity + 1e-9), 1.0, 0.01)
    # suffixes _w, _l, _p: partial derivatives by canopy water, LAI, potential evaporation
    # d wet_fraction / d store and / d lai (through the store and the capacity)
    wet_store = wet_x / (capacity + 1e-9)
    wet_lai = wet_store * (i_lai - store * W_CANOPY_PER_LAI / (capacity + 1e-9))
    evaporation, e_demand, e_store = limited_loss_partials(potential_evaporation * wet_fraction,
                                                           store)
    ev_w = e_demand * potential_evaporation * wet_store + e_store
    ev_l = e_demand * potential_evaporation * wet_lai + e_store * i_lai
    ev_p = e_demand * wet_fraction
    store -= evaporation
    overflow, o_store, o_capacity = excess_partials(store, capacity)
    of_w = o_store * (1.0 - ev_w)
    of_l = o_store * (i_lai - ev_l) + o_capacity * W_CANOPY_PER_LAI
    of_p = -o_store * ev_p
    return (store - overflow, rain - intercepted + overflow, evaporation,
            1.0 - ev_w - of_w, i_lai - ev_l - of_l, -ev_p - of_p,
            of_w, of_l - i_lai, of_p,
            ev_w, ev_l, ev_p)


@kernel
def interception_tl(canopy_water: float, rain: float, lai: float, cover: float,
                    potential_evaporation: float, canopy_water_d: "float[:]",
                    lai_d: "float[:]", potential_evaporation_d: "float[:]",
                    store_d: "float[:]", throughfall_d: "float[:]",
                    evaporation_d: "float[:]") -> tuple[float, float, float]:
    """Tangent-linear of :func:`interception`.

    Active inputs: canopy store [kg m-2] (state), LAI [m2 m-2] (state) and wet-canopy
    potential evaporation [kg m-2 h-1] (through the canopy net radiation); rain and cover
    are forcing and static.

    Parameters
    ----------
    canopy_water, rain, lai, cover, potential_evaporation : float
        Primal inputs as in :func:`interception`.
    canopy_water_d, lai_d, potential_evaporation_d : ndarray (k,)
        Tangents of the active inputs.
    store_d, throughfall_d, evaporation_d : ndarray (k,)
        Overwritten with the tangents of the outputs [kg m-2, kg m-2 h-1, kg m-2 h-1].

    Returns
    -------
    tuple of float
        ``interception(...)``: (store, throughfall, evaporation).
    """
    (store, throughfall, evaporation, s_w, s_l, s_p, t_w, t_l, t_p, e_w, e_l,
     e_p) = _interception_jacobian(canopy_water, rain, lai, cover, potential_evaporation)
    for j in range(store_d.size):
        w_d = canopy_water_d[j]
        l_d = lai_d[j]
        p_d = potential_evaporation_d[j]
        store_d[j] = s_w * w_d + s_l * l_d + s_p * p_d
        throughfall_d[j] = t_w * w_d + t_l * l_d + t_p * p_d
        evaporation_d[j] = e_w * w_d + e_l * l_d + e_p * p_d
    return store, throughfall, evaporation


@kernel
def interception_ad(canopy_water: float, rain: float, lai: float, cover: float,
                    potential_evaporation: float, store_b: float, throughfall_b: float,
                    evaporation_b: float) -> tuple[float, float, float]:
    """Adjoint of :func:`interception`: (canopy_water_b, lai_b, potential_evaporation_b)
    for the adjoints of (store, throughfall, evaporation)."""
    (_, _, _, s_w, s_l, s_p, t_w, t_l, t_p, e_w, e_l,
     e_p) = _interception_jacobian(canopy_water, rain, lai, cover, potential_evaporation)
    return (s_w * store_b + t_w * throughfall_b + e_w * evaporation_b,
            s_l * store_b + t_l * throughfall_b + e_l * evaporation_b,
            s_p * store_b + t_p * throughfall_b + e_p * evaporation_b)


@kernel
def _snow_pack_jacobian(snow: float, density: float, albedo: float, snowfall: float,
                        t_air_c: float, potential_sublimation: float) -> tuple[float, ...]:
    """Outputs of :func:`snow_pack` (snow, density, albedo, melt, sublimation), then the
    non-zero partial derivatives: snow, melt and sublimation by (snow, potential
    sublimation); density by (snow, density, potential sublimation); albedo by albedo."""
    # derivatives of the density and albedo after fresh snow by the old snow and density
    density_snow = 0.0
    density_density = 1.0
    albedo_albedo = 1.0
    if snowfall > 0.0:
        new_density = fresh_snow_density(t_air_c)
        depth = snow / density + snowfall / new_density
        if depth > 1e-12:
            mixed = (snow + snowfall) / depth
            density_snow = (1.0 - mixed / density) / depth
            density_density = mixed * snow / (density * density * depth)
            density = mixed
        else:
            density_density = 0.0
            density = new_density
        refresh = min(snowfall / SNOW_FRESH_RESET, 1.0)
        albedo += (SNOW_ALBEDO_FRESH - albedo) * refresh
        albedo_albedo = 1.0 - refresh
    snow += snowfall
    melt, _, m_snow = limited_loss_partials(MELT_RATE * max(t_air_c, 0.0) / 24.0, snow)
    snow -= melt
    sublimation, u_potential, u_snow = limited_loss_partials(potential_sublimation, snow)
    # snow after melt by the snow before the step, sublimation by it and by the potential
    after_melt = 1.0 - m_snow
    u_s = u_snow * after_melt
    snow -= sublimation
    rate = 0.0229 * math.exp(-0.021 * density + 0.08 * min(t_air_c, 0.0)) / 2.0
    compaction = rate * snow
    compacted = density * (1.0 + compaction / 24.0)
    # d compacted / d density (after fresh snow) and / d snow (after sublimation)
    c_density = 1.0 + compaction / 24.0 - 0.021 * density * compaction / 24.0
    c_snow = density * rate / 24.0
    if compacted > SNOW_DENSITY_MIN:
        d_s = c_density * density_snow + c_snow * (after_melt - u_s)
        d_d = c_density * density_density
        d_p = -c_snow * u_potential
    else:
        d_s = 0.0
        d_d = 0.0
        d_p = 0.0
    density = max(compacted, SNOW_DENSITY_MIN)
    if t_air_c > 0.0:
        albedo = SNOW_ALBEDO_MIN + (albedo - SNOW_ALBEDO_MIN) * math.exp(-0.24 / 24.0)
        albedo_albedo *= math.exp(-0.24 / 24.0)
    elif albedo - 0.008 / 24.0 > SNOW_ALBEDO_MIN:
        albedo = albedo - 0.008 / 24.0
    else:
        albedo = SNOW_ALBEDO_MIN
        albedo_albedo = 0.0
    return (snow, density, albedo, melt, sublimation,
            after_melt - u_s, -u_potential,
            d_s, d_d, d_p,
            albedo_albedo,
            m_snow,
            u_s, u_potential)


@kernel
def snow_pack_tl(snow: float, density: float, albedo: float, snowfall: float, t_air_c: float,
                 potential_sublimation: float, snow_d: "float[:]", density_d: "float[:]",
                 albedo_d: "float[:]", potential_sublimation_d: "float[:]",
                 snow_out_d: "float[:]", density_out_d: "float[:]",
                 albedo_out_d: "float[:]", melt_d: "float[:]",
                 sublimation_d: "float[:]") -> tuple[float, float, float, float, float]:
    """Tangent-linear of :func:`snow_pack`.

    Active inputs: snow water [kg m-2], density [kg m-3], albedo [-] (state) and potential
    sublimation [kg m-2 h-1] (through soil net radiation and snow cover); snowfall and air
    temperature are forcing. On the floors of density (30 kg m-3) and albedo (0.5) the
    corresponding output is constant; melt depends on the snow only through the amount
    available.

    Parameters
    ----------
    snow, density, albedo, snowfall, t_air_c, potential_sublimation : float
        Primal inputs as in :func:`snow_pack`.
    snow_d, density_d, albedo_d, potential_sublimation_d : ndarray (k,)
        Tangents of the active inputs.
    snow_out_d, density_out_d, albedo_out_d, melt_d, sublimation_d : ndarray (k,)
        Overwritten with the tangents of the outputs (snow, density, albedo, melt,
        sublimation) [kg m-2, kg m-3, -, kg m-2 h-1, kg m-2 h-1].

    Returns
    -------
    tuple of float
        ``snow_pack(...)``: (snow, density, albedo, melt, sublimation).
    """
    (snow_out, density_out, albedo_out, melt, sublimation, s_s, s_p, d_s, d_d, d_p, a_a, m_s,
     u_s, u_p) = _snow_pack_jacobian(snow, density, albedo, snowfall, t_air_c,
                                     potential_sublimation)
    for j in range(snow_out_d.size):
        w_d = snow_d[j]
        p_d = potential_sublimation_d[j]
        density_out_d[j] = d_s * w_d + d_d * density_d[j] + d_p * p_d
        albedo_out_d[j] = a_a * albedo_d[j]
        snow_out_d[j] = s_s * w_d + s_p * p_d
        melt_d[j] = m_s * w_d
        sublimation_d[j] = u_s * w_d + u_p * p_d
    return snow_out, density_out, albedo_out, melt, sublimation


@kernel
def snow_pack_ad(snow: float, density: float, albedo: float, snowfall: float, t_air_c: float,
                 potential_sublimation: float, snow_out_b: float, density_out_b: float,
                 albedo_out_b: float, melt_b: float,
                 sublimation_b: float) -> tuple[float, float, float, float]:
    """Adjoint of :func:`snow_pack`: (snow_b, density_b, albedo_b, potential_sublimation_b)
    for the adjoints of (snow, density, albedo, melt, sublimation) after the step."""
    (_, _, _, _, _, s_s, s_p, d_s, d_d, d_p, a_a, m_s, u_s,
     u_p) = _snow_pack_jacobian(snow, density, albedo, snowfall, t_air_c,
                                potential_sublimation)
    return (s_s * snow_out_b + d_s * density_out_b + m_s * melt_b + u_s * sublimation_b,
            d_d * density_out_b, a_a * albedo_out_b,
            s_p * snow_out_b + d_p * density_out_b + u_p * sublimation_b)


@kernel
def _soil_water_jacobian(surface: float, root: float, water_input: float,
                         soil_evaporation_demand: float, transpiration: float,
                         surface_capacity: float, surface_field_capacity: float,
                         root_capacity: float) -> tuple[float, ...]:
    """Outputs of :func:`soil_water` (surface, root, evaporation, runoff), then the partial
    derivatives needed by the tangent-linear and adjoint (see there)."""
    infiltration_excess, i_input, _, _ = maxx_partials(water_input - INFILTRATION_MAX, 0.0, 0.1)
    surface += water_input - infiltration_excess
    evaporation, e_demand, e_store = limited_loss_partials(
        soil_evaporation_demand * surface / surface_capacity, surface)
    # d evaporation / d surface (after infiltration) and / d demand
    e_surface = e_demand * soil_evaporation_demand / surface_capacity + e_store
    e_q = e_demand * surface / surface_capacity
    surface -= evaporation
    overflow, o_surface, _ = excess_partials(surface, surface_capacity)
    surface -= overflow
    drained, r_surface, _, _ = maxx_partials(surface - surface_field_capacity, 0.0,
                                             0.01 * surface_field_capacity)
    drainage = K_DRAIN * drained
    surface -= drainage
    root += overflow + drainage - transpiration
    runoff_root, x_root, x_capacity = excess_partials(root, root_capacity)
    # chain along the surface layer: after evaporation -> after overflow -> after drainage
    keep_overflow = 1.0 - o_surface
    to_root = o_surface + K_DRAIN * r_surface * keep_overflow
    keep_surface = keep_overflow * (1.0 - K_DRAIN * r_surface)
    return (surface, root - runoff_root, evaporation, infiltration_excess + runoff_root,
            1.0 - i_input, e_surface, e_q, keep_surface, to_root, i_input, x_root,
            x_capacity)


@kernel
def soil_water_tl(surface: float, root: float, water_input: float,
                  soil_evaporation_demand: float, transpiration: float,
                  surface_capacity: float, surface_field_capacity: float, root_capacity: float,
                  surface_d: "float[:]", root_d: "float[:]", water_input_d: "float[:]",
                  soil_evaporation_demand_d: "float[:]", transpiration_d: "float[:]",
                  root_capacity_d: "float[:]", surface_out_d: "float[:]",
                  root_out_d: "float[:]", evaporation_d: "float[:]",
                  runoff_d: "float[:]") -> tuple[float, float, float, float]:
    """Tangent-linear of :func:`soil_water`.

    Active inputs: surface and root-zone water [kg m-2] (state), water input (throughfall
    + melt) [kg m-2 h-1], soil evaporation demand [kg m-2 h-1], transpiration
    [kg m-2 h-1] and the root-zone capacity [kg m-2] (through the water-capacity factor);
    the surface-layer capacity and field capacity are static.

    Parameters
    ----------
    surface, root, water_input, soil_evaporation_demand, transpiration, surface_capacity,
    surface_field_capacity, root_capacity : float
        Primal inputs as in :func:`soil_water`.
    surface_d, root_d, water_input_d, soil_evaporation_demand_d, transpiration_d,
    root_capacity_d : ndarray (k,)
        Tangents of the active inputs.
    surface_out_d, root_out_d, evaporation_d, runoff_d : ndarray (k,)
        Overwritten with the tangents of the outputs (surface, root, soil evaporation,
        runoff) [kg m-2, kg m-2, kg m-2 h-1, kg m-2 h-1].

    Returns
    -------
    tuple of float
        ``soil_water(...)``: (surface, root, evaporation, runoff).
    """
    (surface_out, root_out, evaporation, runoff, infiltrated, e_surface, e_q, keep_surface,
     to_root, i_input, x_root, x_capacity) = _soil_water_jacobian(
        surface, root, water_input, soil_evaporation_demand, transpiration, surface_capacity,
        surface_field_capacity, root_capacity)
    for j in range(surface_out_d.size):
        input_d = water_input_d[j]
        # surface layer after infiltration, then after evaporation; root zone before runoff
        wet_d = surface_d[j] + infiltrated * input_d
        e_d = e_surface * wet_d + e_q * soil_evaporation_demand_d[j]
        left_d = wet_d - e_d
        filled_d = root_d[j] + to_root * left_d - transpiration_d[j]
        runoff_root_d = x_root * filled_d + x_capacity * root_capacity_d[j]
        surface_out_d[j] = keep_surface * left_d
        root_out_d[j] = filled_d - runoff_root_d
        evaporation_d[j] = e_d
        runoff_d[j] = i_input * input_d + runoff_root_d
    return surface_out, root_out, evaporation, runoff


@kernel
def soil_water_ad(surface: float, root: float, water_input: float,
                  soil_evaporation_demand: float, transpiration: float,
                  surface_capacity: float, surface_field_capacity: float, root_capacity: float,
                  surface_out_b: float, root_out_b: float, evaporation_b: float,
                  runoff_b: float) -> tuple[float, float, float, float, float, float]:
    """Adjoint of :func:`soil_water`: (surface_b, root_b, water_input_b,
    soil_evaporation_demand_b, transpiration_b, root_capacity_b) for the adjoints of
    (surface, root, evaporation, runoff) after the step."""
    (_, _, _, _, infiltrated, e_surface, e_q, keep_surface, to_root, i_input, x_root,
     x_capacity) = _soil_water_jacobian(surface, root, water_input, soil_evaporation_demand,
                                        transpiration, surface_capacity,
                                        surface_field_capacity, root_capacity)
    runoff_root_b = runoff_b - root_out_b
    filled_b = root_out_b + x_root * runoff_root_b
    left_b = keep_surface * surface_out_b + to_root * filled_b
    evaporation_total_b = evaporation_b - left_b
    wet_b = left_b + e_surface * evaporation_total_b
    return (wet_b, filled_b, infiltrated * wet_b + i_input * runoff_b,
            e_q * evaporation_total_b, -filled_b, x_capacity * runoff_root_b)
