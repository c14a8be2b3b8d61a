"""Daily output variables of a forward run: names, units, long names and how each is
aggregated from the hourly step. The block driver writes them in this order."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OutputVariable:
    name: str
    unit: str
    long_name: str
    aggregation: str  # "rate_mean", "sum", "mean", "par_weighted", "end_of_day"
    standard_name: str = ""


DAILY_OUTPUTS: tuple[OutputVariable, ...] = (
    OutputVariable("gpp", "gC m-2 d-1", "gross primary production", "rate_mean",
                   "gross_primary_productivity_of_biomass_expressed_as_carbon"),
    OutputVariable("ra", "gC m-2 d-1", "autotrophic respiration", "rate_mean",
                   "plant_respiration_carbon_flux"),
    OutputVariable("rh", "gC m-2 d-1", "heterotrophic respiration", "rate_mean",
                   "heterotrophic_respiration_carbon_flux"),
    OutputVariable("nee", "gC m-2 d-1", "net ecosystem exchange (positive: source)",
                   "rate_mean"),
    OutputVariable("et", "kg m-2 d-1", "evapotranspiration", "sum"),
    OutputVariable("transpiration", "kg m-2 d-1", "transpiration", "sum"),
    OutputVariable("soil_evaporation", "kg m-2 d-1", "evaporation from the soil", "sum"),
    OutputVariable("interception_evaporation", "kg m-2 d-1",
                   "evaporation of intercepted water", "sum"),
    OutputVariable("snow_sublimation", "kg m-2 d-1", "sublimation of snow", "sum"),
    OutputVariable("runoff", "kg m-2 d-1", "total runoff", "sum"),
    OutputVariable("precipitation", "kg m-2 d-1", "precipitation", "sum"),
    OutputVariable("snowmelt", "kg m-2 d-1", "snow melt", "sum"),
    OutputVariable("snow_water", "kg m-2", "snow water equivalent at the end of the day",
                   "end_of_day", "surface_snow_amount"),
    OutputVariable("canopy_water", "kg m-2", "intercepted water at the end of the day",
                   "end_of_day"),
    OutputVariable("soil_water_surface", "kg m-2",
                   "water of the 5 cm surface layer above residual content", "end_of_day"),
    OutputVariable("soil_water_root", "kg m-2", "plant-available root-zone water",
                   "end_of_day"),
    OutputVariable("sm_surface", "m3 m-3", "volumetric soil moisture of the surface layer",
                   "mean"),
    OutputVariable("lai", "m2 m-2", "leaf area index", "mean", "leaf_area_index"),
    OutputVariable("fapar", "1", "fraction of absorbed PAR (PAR-weighted daily mean)",
                   "par_weighted"),
    OutputVariable("fpasm", "1", "plant-available soil moisture fraction (0 when frozen)",
                   "mean"),
    OutputVariable("t_canopy", "degC", "canopy temperature", "mean"),
    OutputVariable("c_labile", "gC m-2", "labile carbon", "end_of_day"),
    OutputVariable("c_foliage", "gC m-2", "foliage carbon", "end_of_day"),
    OutputVariable("c_root", "gC m-2", "fine-root carbon", "end_of_day"),
    OutputVariable("c_wood", "gC m-2", "wood carbon", "end_of_day"),
    OutputVariable("c_litter", "gC m-2", "litter carbon", "end_of_day"),
    OutputVariable("c_som", "gC m-2", "soil organic carbon", "end_of_day"),
)
OUTPUT_NAMES = tuple(v.name for v in DAILY_OUTPUTS)
N_OUTPUT = len(DAILY_OUTPUTS)
OUTPUT_INDEX = {name: i for i, name in enumerate(OUTPUT_NAMES)}
