"""Operators for in-situ and validation data: surface soil moisture, tower fluxes and
above-ground biomass. All are linear in the model quantities, so their tangent is the same
map and their adjoint its transpose (the ``*_factor`` functions give the coefficients).
"""

from tccas.model.kernels import kernel

WATER_DENSITY = 1000.0  # kg m-3
UMOL_PER_GC = 1.0e6 / 12.011  # umol CO2 per gC
SECONDS_PER_DAY = 86400.0
# Dry-matter carbon fraction 0.47 (IPCC 2006 Guidelines, vol. 4, table 4.3) and the
# above-ground share of DALEC's wood pool 0.8 (PROPOSED: coarse roots ~ 20-25 % of woody
# biomass, root:shoot ratios of Mokany et al. 2006, Glob. Change Biol. 12:84,
# doi:10.1111/j.1365-2486.2005.001043.x).
CARBON_FRACTION = 0.47
ABOVE_GROUND_WOOD = 0.8
GC_M2_TO_MG_HA = 0.01  # 1 gC m-2 = 0.01 MgC ha-1


@kernel
def surface_soil_moisture(w_surface: float, theta_residual: float,
                          surface_depth: float) -> float:
    """Volumetric moisture of the surface layer [m3 m-3]:
    theta_res + w_s / (rho_w z_s), w_s [kg m-2] above residual content, z_s [m]
    (MODEL_SPEC 6.5, PROPOSED)."""
    return theta_residual + w_surface / (WATER_DENSITY * surface_depth)


@kernel
def surface_soil_moisture_factor(surface_depth: float) -> float:
    """d theta / d w_s [m3 m-3 per kg m-2]."""
    return 1.0 / (WATER_DENSITY * surface_depth)


@kernel
def flux_to_umol(flux_gc_per_day: float) -> float:
    """A carbon flux [gC m-2 d-1] in tower units [umol CO2 m-2 s-1]."""
    return flux_gc_per_day * UMOL_PER_GC / SECONDS_PER_DAY


@kernel
def latent_heat_flux(evapotranspiration_per_hour: float, latent_heat: float) -> float:
    """Latent heat flux [W m-2] of an hour's evapotranspiration [kg m-2 h-1] with the
    latent heat of vaporisation [J kg-1]."""
    return evapotranspiration_per_hour * latent_heat / 3600.0


@kernel
def above_ground_biomass(c_wood: float, c_foliage: float) -> float:
    """Above-ground biomass [Mg dry matter ha-1] from wood and foliage carbon [gC m-2]:
    0.01 (0.8 C_wood + C_fol) / 0.47."""
    return GC_M2_TO_MG_HA * (ABOVE_GROUND_WOOD * c_wood + c_foliage) / CARBON_FRACTION
