"""Validation of forward runs against flux-tower observations (VALIDATION.md).

Each case runs the model with the default PFT priors on the tower's own meteorology and
compares daily GPP and NEE with the tower's partitioned fluxes: Pearson correlation, mean
bias (model - tower) [gC m-2 d-1], and annual totals [gC m-2 yr-1] over the days where both
exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from tccas.catalog.fluxnet import daily_observed_fluxes
from tccas.pipeline.simulate import forward_dataset, run, tower_simulation


@dataclass(frozen=True)
class TowerCase:
    """A validation case: tower files (relative to the fixtures folder) and the model
    set-up (PFT mixture and soil chosen from the site description)."""

    name: str
    forcing: str
    observations: str
    latitude: float
    longitude: float
    pfts: tuple[str, ...]
    soil: str
    utc_offset: float | None
    start: str
    end: str
    description: str


TOWER_CASES: dict[str, TowerCase] = {
    "US-Wi7": TowerCase(
        name="US-Wi7", forcing="fluxnet/FLX_US-Wi7_FLUXNET2015_ERAI_HH_1989-2014_1-4.csv",
        observations="fluxnet/FLX_US-Wi7_FLUXNET2015_FULLSET_DD_2005-2005_1-4.csv",
        latitude=46.649, longitude=-91.069, pfts=("EvCn:0.5", "C3Gr:0.5"),
        soil="loamy_sand", utc_offset=-6.0, start="2005-01-01", end="2005-12-31",
        description="Wisconsin red pine clearcut (young pines over grass and shrubs), "
                    "ERA-Interim downscaled forcing"),
    "DK-Fou": TowerCase(
        name="DK-Fou", forcing="fluxnet/DK-Fou_2005-2005_FLUXNET2015_Met.nc",
        observations="fluxnet/DK-Fou_2005-2005_FLUXNET2015_Flux.nc",
        latitude=56.4842, longitude=9.58722, pfts=("ArbC:1.0",), soil="loamy_sand",
        utc_offset=None, start="2005-01-01", end="2005-12-31",
        description="Foulum cropland, Denmark, PLUMBER2 tower forcing"),
}


def _statistics(model: np.ndarray, observed: np.ndarray) -> dict[str, float]:
    both = np.isfinite(model) & np.isfinite(observed)
    m = model[both]
    o = observed[both]
    return {
        "n_days": int(both.sum()),
        "correlation": float(np.corrcoef(m, o)[0, 1]),
        "bias": float(np.mean(m - o)),
        "model_total": float(m.sum() * 365.0 / both.sum()),
        "observed_total": float(o.sum() * 365.0 / both.sum()),
    }


def validate_tower(case: TowerCase, fixtures: Path) -> dict[str, dict[str, float]]:
    """Run ``case`` and compare daily GPP and NEE with the tower; totals are scaled to
    365 days of the common record."""
    simulation = tower_simulation(str(fixtures / case.forcing), case.latitude, case.longitude,
                                  list(case.pfts), case.start, case.end, soil=case.soil,
                                  utc_offset=case.utc_offset)
    dataset = forward_dataset(simulation, run(simulation))
    observed = daily_observed_fluxes(fixtures / case.observations)
    observed = observed.rename({"date": "time"}) if "date" in observed.dims else observed
    observed["time"] = observed["time"].astype("datetime64[ns]")
    model = dataset[["gpp_cell", "nee_cell"]].isel(cell=0)
    model, observed = xr.align(model, observed, join="inner")
    return {
        "gpp": _statistics(model["gpp_cell"].values, observed["gpp"].values),
        "nee": _statistics(model["nee_cell"].values, observed["nee"].values),
    }
