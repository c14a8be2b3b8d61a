"""Water stores of a tile: interception, snow pack, surface soil layer and root zone.

BETHY heritage (Knorr 2000, doi:10.1046/j.1365-2699.2000.00159.x, ``mo_hydro.f90``),
applied hourly (MODEL_SPEC 3.4, 3.5). Where D&B's exact coupling is unknown we follow the
PROPOSED choices of MODEL_SPEC: a 5 cm surface layer (the SMOS sensing depth) above a
root-zone bucket, drainage from the surface layer above field capacity, saturation-excess
runoff, and a snow albedo scheme after Douville, Royer & Mahfouf (1995) Clim. Dyn. 12:21,
doi:10.1007/BF00208760.

All amounts are per hour: stores in kg m-2, fluxes in kg m-2 h-1, temperatures in degC.
Every change to a store is a named flux, so the water balance closes to rounding.
"""

import math

from tccas.model.kernels import kernel
from tccas.model.kernels.smooth import excess, limited_loss, maxx, minx
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
