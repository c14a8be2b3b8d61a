"""Synthetic EO products from a truth run: observation geometry, error models, files.

The synthetic generator (``tccas synth``, orchestrated by :mod:`tccas.pipeline.synth`)
runs the model with true parameters and writes what the real products would have
recorded, in their real layouts, read by the project's readers exactly like the real
files. This module owns the catalogue-level part: where and when each product observes
(with :mod:`tccas.catalog.synth_orbits`), the noise of each product (the error models
below, all PROPOSED and stated so that tests can check them), and the writing through
the format writers. Files per product (under the output folder):

===================  ==========================================================  =====
folder               files                                                        per
===================  ==========================================================  =====
``era5/``            ``ERA5_<YYYYMM>_stepType-{instant,accum}.nc``                 month
``landcover/``       ``ESACCI-LC-L4-PFT-Map-300m-P1Y-<YYYY>-v2.0.8.nc``            run
``troposif/``        ``S5P_PAL__L2B_SIF____<day>T000000_<day+1>T000000_...nc``   day
``smos_l2/``         ``SM_OPER_MIR_SMUDP2_<start>_<stop>_700_001_1.nc``          half orbit
``jrc_tip/``         ``JRC-TIP_FAPAR_<YYYY>.nc`` (46 16-day composites)            year
``fluxnet/``         ``FLX_<id>_FLUXNET2015_FULLSET_{HH,DD}_<Y1>-<Y2>_1-4.csv``   run
``cci_biomass/``     ``ESACCI-BIOMASS-L4-AGB-MERGED-100m-<YYYY>-fv4.0.nc``         year
===================  ==========================================================  =====

Error models (per observation; N(0, 1) draws are independent unless said otherwise):

* TROPOSIF (:class:`SifErrorModel`): shot-noise-limited retrieval, ``sigma_743 = s0
  sqrt(L / L0)`` with the mean TOA radiance at 743 nm ``L = E0 cos(SZA) rho / pi``
  (``E0`` = 1240 mW m-2 nm-1, ``rho = (1 - cf) 0.28 + cf 0.6`` for cloud fraction
  ``cf``), ``s0`` = 0.45 mW m-2 sr-1 nm-1 at ``L0`` = 100 (single soundings 0.3-0.6,
  EO_FORMATS.md 1.7); the 735 nm window 0.75 times that (less noisy, section 1.1).
  ``SIF_743 = truth + sigma_743 N``, negative values kept. Day-length corrected
  ``SIF_Corr = SIF x mean daily cos(SZA) / cos(SZA)``.
* SMOS L2 (:class:`SmosErrorModel`): ``DQX_SM = (0.02 + 0.06 tau) g``, ``DQX_tau =
  (0.04 + 0.12 tau) g`` with ``g = (1 + 0.5 (X/600 km)^2)(1 + 1.5 RFI_Prob)``; values
  ``truth + DQX N`` (tuned to the land retrievals of the real Iberian granule: SM DQX
  median 0.040, tau DQX 0.086 at tau 0.35, EO_FORMATS.md 2.3). RFI probability from a
  smooth RFI-propensity field of the region (Iberia about 0.14, Lapland 0.03).
* JRC-TIP (:class:`TipErrorModel`): ``sigma = 0.025 + 0.04 (1 - FAPAR) + 0.06 snow``
  (larger over bright snow backgrounds and sparse canopies, section 3.2), effective LAI
  ``0.2 + 0.3 LAI`` (saturation at high LAI); composites without albedo (noon SZA above
  80 degree, polar night) are missing. FAPAR noise is unbiased and keeps the value in
  [0, 1] (:func:`bounded_noise`): TIP is a bounded inversion, and Gaussian noise that the
  reader's [0, 1] screening then cut would bias the composites of dense canopies low.
* FLUXNET (:class:`FluxErrorModel`): half-hourly random error with a Laplace
  (double-exponential) distribution of standard deviation ``0.6 + 0.15 |NEE|`` umol m-2
  s-1 and ``10 + 0.1 |LE|`` W m-2 (Richardson et al. 2006); gap-filled records (QC 1-3)
  carry half that noise.
* CCI Biomass (:class:`BiomassErrorModel`): ``SD = 10 + 0.35 AGB`` Mg ha-1, ``AGB = max(0,
  truth + SD N)`` written as integers (the product's int16 coding).

References
----------
Richardson, A. D. et al. (2006): A multi-site analysis of random error in tower-based
measurements of carbon and energy fluxes. Agric. For. Meteorol. 136, 1-18,
doi:10.1016/j.agrformet.2006.01.007.
Guanter, L. et al. (2021): The TROPOSIF global sun-induced fluorescence dataset from the
Sentinel-5P TROPOMI mission. Earth Syst. Sci. Data 13, 5423-5440,
doi:10.5194/essd-13-5423-2021.
Kerr, Y. H. et al. (2012): The SMOS soil moisture retrieval algorithm. IEEE Trans.
Geosci. Remote Sens. 50, 1384-1403, doi:10.1109/TGRS.2012.2184548.
Pinty, B. et al. (2011): Exploiting the MODIS albedos with the Two-stream Inversion
Package (JRC-TIP). J. Geophys. Res. 116, D09105, doi:10.1029/2010JD015372.
Santoro, M. et al. (2021): Earth Syst. Sci. Data 13, 3927-3950,
doi:10.5194/essd-13-3927-2021 (CCI Biomass).
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from tccas.catalog.cci_biomass import cci_biomass_file_name, write_cci_biomass_netcdf
from tccas.catalog.fluxnet_writer import write_fullset
from tccas.catalog.jrc_tip import write_jrc_tip
from tccas.catalog.smos_writer import (
    CONFIDENCE_FLAGS,
    SCIENCE_FLAGS,
    SmosGranule,
    write_smos_l2sm,
)
from tccas.catalog.synth_orbits import DggLattice, SmosPass, tropomi_passes
from tccas.catalog.troposif_writer import write_troposif_l2b
from tccas.catalog.weather import cos_solar_zenith
from tccas.model.kernels.astronomy import declination

CloudCover = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
"""(lon, lat, time) -> cloud cover [1] at points and UTC times."""

PRODUCT_FOLDERS = {"era5": "era5", "landcover": "landcover", "soil": "soil",
                   "troposif": "troposif", "smos": "smos_l2", "jrc_tip": "jrc_tip",
                   "fluxnet": "fluxnet", "biomass": "cci_biomass"}


def write_atomic(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(staging)`` on a temporary name beside ``path``, then move it there."""
    staging = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex}")
    try:
        write(staging)
        os.replace(staging, path)
    finally:
        if staging.exists():
            staging.unlink()
    return path


# ------------------------------------------------------------------------ TROPOSIF
#: L2B filter thresholds (EO_FORMATS.md gotcha 2): soundings beyond them are not in L2B.
MAX_CLOUD_FRACTION = 0.8
MAX_SOLAR_ZENITH = 70.0
MAX_VIEWING_ZENITH = 60.0


@dataclass(frozen=True)
class SifErrorModel:
    """TROPOSIF single-sounding error (module docstring; PROPOSED).

    Attributes
    ----------
    sigma_reference : [mW m-2 sr-1 nm-1] 1-sigma at the reference radiance.
    radiance_reference : [mW m-2 sr-1 nm-1] reference mean TOA radiance at 743 nm.
    irradiance_743 : [mW m-2 nm-1] solar irradiance at 743 nm at 1 au.
    surface_reflectance : [1] clear-sky TOA reflectance at 743 nm of vegetated land.
    cloud_reflectance : [1] TOA reflectance of a cloud.
    ratio_735 : [1] sigma of the 735 nm window relative to the 743 nm one.
    cloud_exponent, cloud_noise : cloud fraction = clip(n^exponent + noise N, 0, 1) of the
        ERA5-like cloud cover n (the radiometric cloud fraction is below the cover).
    """

    sigma_reference: float = 0.45
    radiance_reference: float = 100.0
    irradiance_743: float = 1240.0
    surface_reflectance: float = 0.28
    cloud_reflectance: float = 0.6
    ratio_735: float = 0.75
    cloud_exponent: float = 1.5
    cloud_noise: float = 0.08

    def radiance(self, cos_sza: np.ndarray, cloud_fraction: np.ndarray) -> np.ndarray:
        """Mean TOA radiance at 743 nm [mW m-2 sr-1 nm-1]."""
        rho = ((1.0 - cloud_fraction) * self.surface_reflectance
               + cloud_fraction * self.cloud_reflectance)
        return self.irradiance_743 * cos_sza * rho / np.pi

    def sigma_743(self, radiance: np.ndarray) -> np.ndarray:
        """1-sigma of SIF_743 [mW m-2 sr-1 nm-1]."""
        return self.sigma_reference * np.sqrt(radiance / self.radiance_reference)


def _day_of_year(time: np.ndarray) -> np.ndarray:
    """Day of year (1 on 1 January) of UTC times."""
    return (np.asarray(time, dtype="datetime64[D]")
            - np.asarray(time, dtype="datetime64[Y]").astype("datetime64[D]")).astype(float) + 1


def daily_mean_cos_zenith(latitude: np.ndarray, time: np.ndarray) -> np.ndarray:
    """Mean of max(cos SZA, 0) over the day [1] (Iqbal 1983, An Introduction to Solar
    Radiation, eq. 1.4.3 integrated over the day), declination of the day's middle."""
    delta = declination(_day_of_year(time) + 0.5)
    phi = np.radians(latitude)
    cos_h = np.clip(-np.tan(phi) * np.tan(delta), -1.0, 1.0)
    h = np.arccos(cos_h)
    return (np.sin(phi) * np.sin(delta) * h + np.cos(phi) * np.cos(delta) * np.sin(h)) / np.pi


def troposif_soundings(day: np.datetime64, bbox: tuple[float, float, float, float],
                       cloud_cover: CloudCover, rng: np.random.Generator,
                       model: SifErrorModel | None = None) -> dict[str, np.ndarray]:
    """Geometry of the L2B soundings of one day over a box (before values).

    Returns the sounding variables of the L2B layout that do not depend on the truth:
    ``time``, ``latitude``, ``longitude``, ``latitude_bounds``, ``longitude_bounds``,
    ``solar_zenith_angle``, ``viewing_zenith_angle``, ``cloud_fraction_L2`` and ``orbit``,
    keeping only soundings that pass the L2B filter (cloud fraction <= 0.8, SZA <= 70,
    VZA <= 60). Geographic variables are rounded to float32 (as written).
    """
    model = SifErrorModel() if model is None else model
    # the sun at local noon at the box's edge nearest the subsolar point
    subsolar = np.degrees(declination(float(_day_of_year(day)) + 0.5))
    nearest = np.clip(subsolar, bbox[1], bbox[3])
    if abs(nearest - subsolar) > MAX_SOLAR_ZENITH:
        return {}
    swaths = tropomi_passes(day, bbox, MAX_VIEWING_ZENITH)
    if not swaths:
        return {}
    lon = np.concatenate([s.longitude for s in swaths])
    lat = np.concatenate([s.latitude for s in swaths])
    time = np.concatenate([s.time for s in swaths]).astype("datetime64[ns]")
    cos_sza = cos_solar_zenith(lat, lon, time)
    cover = cloud_cover(lon, lat, time)
    fraction = np.clip(cover**model.cloud_exponent
                       + model.cloud_noise * rng.standard_normal(lon.size), 0.0, 1.0)
    sza = np.degrees(np.arccos(np.clip(cos_sza, -1.0, 1.0)))
    keep = (fraction <= MAX_CLOUD_FRACTION) & (sza <= MAX_SOLAR_ZENITH)
    f4 = np.float32
    return {
        "time": time[keep],
        "latitude": lat[keep].astype(f4).astype(float),
        "longitude": lon[keep].astype(f4).astype(float),
        "latitude_bounds": np.concatenate([s.corner_latitude for s in swaths])[keep]
        .astype(f4).astype(float),
        "longitude_bounds": np.concatenate([s.corner_longitude for s in swaths])[keep]
        .astype(f4).astype(float),
        "solar_zenith_angle": sza[keep].astype(f4).astype(float),
        "viewing_zenith_angle": np.concatenate([s.viewing_zenith for s in swaths])[keep]
        .astype(f4).astype(float),
        "cloud_fraction_L2": fraction[keep].astype(f4).astype(float),
        "orbit": np.concatenate([np.full(s.time.size, s.orbit) for s in swaths])[keep],
    }


def troposif_file_name(day: np.datetime64) -> str:
    """``S5P_PAL__L2B_SIF____<day>T000000_<day+1>T000000_<production>.nc`` (EO_FORMATS.md
    1.1; the production time is a fixed synthetic one)."""
    first = np.datetime64(day, "D")
    start = str(first).replace("-", "")
    stop = str(first + np.timedelta64(1, "D")).replace("-", "")
    return f"S5P_PAL__L2B_SIF____{start}T000000_{stop}T000000_20240101T000000.nc"


def write_troposif_day(folder: Path, day: np.datetime64, soundings: dict[str, np.ndarray],
                       sif_true: np.ndarray, rng: np.random.Generator,
                       model: SifErrorModel | None = None) -> Path:
    """Add noise (:class:`SifErrorModel`) to the true SIF [mW m-2 sr-1 nm-1] of a day's
    soundings and write the L2B file; returns its path."""
    model = SifErrorModel() if model is None else model
    cos_sza = np.cos(np.radians(soundings["solar_zenith_angle"]))
    radiance = model.radiance(cos_sza, soundings["cloud_fraction_L2"])
    sigma = model.sigma_743(radiance)
    sigma_735 = model.ratio_735 * sigma
    sif743 = sif_true + sigma * rng.standard_normal(sif_true.size)
    sif735 = sif_true + sigma_735 * rng.standard_normal(sif_true.size)
    correction = daily_mean_cos_zenith(soundings["latitude"], soundings["time"]) / cos_sza
    values = {key: soundings[key] for key in soundings if key != "orbit"}
    values.update({"SIF_743": sif743, "SIF_735": sif735, "SIF_ERROR_743": sigma,
                   "SIF_ERROR_735": sigma_735, "SIF_Corr_743": sif743 * correction,
                   "SIF_Corr_735": sif735 * correction, "Mean_TOA_RAD_743": radiance})
    path = folder / troposif_file_name(day)
    return write_atomic(path, lambda staging: write_troposif_l2b(
        staging, values, dt.date.fromisoformat(str(np.datetime64(day, "D")))))


# ---------------------------------------------------------------------------- SMOS
#: RFI propensity of the built-in sites' regions: typical RFI_Prob (the real Iberian
#: granule has a median of 0.14, EO_FORMATS.md 2.3; northern Europe is cleaner).
RFI_LEVEL = {"majadas": 0.14, "sodankyla": 0.03, "reusel": 0.06}


@dataclass(frozen=True)
class SmosErrorModel:
    """SMOS L2 SM retrieval error (module docstring; PROPOSED).

    Attributes
    ----------
    sm_base, sm_per_tau : [m3 m-3] DQX of soil moisture = (base + per_tau tau) g.
    tau_base, tau_per_tau : [1] DQX of tau = (base + per_tau tau) g.
    edge_gain : [1] relative DQX increase at the product's swath limit.
    rfi_gain : [1] relative DQX increase per unit RFI probability.
    swath_limit_km : [km] |X_Swath| of the product limit.
    afp_nadir_km, afp_gain_km : AFP = nadir + gain (X / 500 km)^2 [km] (EO_FORMATS.md 2.8),
        rounded to ``afp_step_km`` (so that footprint weights are shared).
    """

    sm_base: float = 0.02
    sm_per_tau: float = 0.06
    tau_base: float = 0.04
    tau_per_tau: float = 0.12
    edge_gain: float = 0.5
    rfi_gain: float = 1.5
    swath_limit_km: float = 600.0
    afp_nadir_km: float = 20.4
    afp_gain_km: float = 6.5
    afp_step_km: float = 0.25

    def afp(self, x_swath_km: np.ndarray) -> np.ndarray:
        """[km] AFP footprint radius at distances from the ground track."""
        raw = self.afp_nadir_km + self.afp_gain_km * (np.asarray(x_swath_km) / 500.0) ** 2
        return np.round(raw / self.afp_step_km) * self.afp_step_km

    def gain(self, x_swath_km: np.ndarray, rfi_prob: np.ndarray) -> np.ndarray:
        return ((1.0 + self.edge_gain * (np.asarray(x_swath_km) / self.swath_limit_km) ** 2)
                * (1.0 + self.rfi_gain * np.asarray(rfi_prob)))


def smos_granule(smos_pass: SmosPass) -> SmosGranule:
    """The header facts of a pass."""
    return SmosGranule(sensing_start=smos_pass.sensing_start,
                       sensing_stop=smos_pass.sensing_stop, ascending=smos_pass.ascending,
                       absolute_orbit=smos_pass.orbit, utc_at_anx=smos_pass.node_time,
                       longitude_at_anx=smos_pass.node_longitude)


def write_smos_pass(folder: Path, smos_pass: SmosPass, lattice: DggLattice,
                    retrieved: np.ndarray, sm_true: np.ndarray, tau_true: np.ndarray,
                    ancillary: dict[str, np.ndarray], rng: np.random.Generator,
                    model: SmosErrorModel | None = None) -> Path:
    """Write one granule.

    Parameters
    ----------
    folder : the product folder.
    smos_pass : the half orbit (its points index ``lattice``).
    lattice : the DGG-like lattice.
    retrieved : (n,) bool, points of the pass with a retrieval (inside the product swath
        and on modelled land).
    sm_true, tau_true : (n_retrieved,) noise-free soil moisture [m3 m-3] and nadir optical
        depth [1] of the retrieved points.
    ancillary : per point of the pass: ``rfi_prob`` [1], ``surface_temperature`` [K],
        ``altitude`` [m], ``snow`` (bool), ``frost`` (bool), ``forest`` (bool).
    rng : the noise stream.
    model : the error model.
    """
    model = SmosErrorModel() if model is None else model
    n = smos_pass.points.size
    x = smos_pass.x_swath_km
    rfi = np.round(ancillary["rfi_prob"] / 0.005) * 0.005
    gain = model.gain(x, rfi)[retrieved]
    sm_sigma = (model.sm_base + model.sm_per_tau * tau_true) * gain
    tau_sigma = (model.tau_base + model.tau_per_tau * tau_true) * gain
    full = np.full(n, np.nan)

    def spread(values: np.ndarray) -> np.ndarray:
        out = full.copy()
        out[retrieved] = values
        return out

    sm = sm_true + sm_sigma * rng.standard_normal(sm_true.size)
    tau = tau_true + tau_sigma * rng.standard_normal(tau_true.size)
    chi2_p = np.clip(rng.uniform(0.0, 1.0, n), 1.0 / 255.0, 1.0)
    science = np.full(n, SCIENCE_FLAGS["FL_NOMINAL"], dtype=np.int64)
    science |= np.where(ancillary["frost"], SCIENCE_FLAGS["FL_FROST"], 0)
    science |= np.where(ancillary["snow"], SCIENCE_FLAGS["FL_SNOW_DRY"], 0)
    science |= np.where(ancillary["forest"], SCIENCE_FLAGS["FL_FOREST"], 0)
    confidence = np.where(retrieved, 0, CONFIDENCE_FLAGS["FL_NO_PROD"])
    confidence |= np.where(rfi > 0.2, CONFIDENCE_FLAGS["FL_RFI_PRONE_H"]
                           | CONFIDENCE_FLAGS["FL_RFI_PRONE_V"], 0)
    out_of_range = spread(((sm < 0.0) | (sm > 0.6)).astype(float)) == 1.0
    confidence |= np.where(out_of_range, CONFIDENCE_FLAGS["FL_RANGE"], 0)
    confidence |= np.where(spread(sm_sigma) > 0.1, CONFIDENCE_FLAGS["FL_DQX"], 0)
    confidence |= np.where(retrieved & (chi2_p < 0.05), CONFIDENCE_FLAGS["FL_CHI2_P"], 0)
    index = smos_pass.points
    points = {
        "Latitude": lattice.latitude[index], "Longitude": lattice.longitude[index],
        "Grid_Point_ID": lattice.grid_point_id[index], "time": smos_pass.time,
        "Altitude": ancillary["altitude"], "X_Swath": x,
        "AFP": np.where(retrieved, model.afp(x), 0.0),
        "Soil_Moisture": spread(sm), "Soil_Moisture_DQX": spread(sm_sigma),
        "Optical_Thickness_Nad": spread(tau), "Optical_Thickness_Nad_DQX": spread(tau_sigma),
        "Surface_Temperature": np.where(retrieved, ancillary["surface_temperature"], np.nan),
        "RFI_Prob": np.where(retrieved, rfi, np.nan),
        "Chi_2": np.where(retrieved, rng.gamma(8.0, 1.4, n), np.nan),
        "Chi_2_P": np.where(retrieved, chi2_p, np.nan),
        "Science_Flags": science, "Confidence_Flags": confidence,
        "Processing_Flags": np.where(retrieved, 4, 0),
        "N_RFI_X": np.where(retrieved, np.round(20.0 * rfi), 0),
        "N_RFI_Y": np.where(retrieved, np.round(20.0 * rfi), 0),
    }
    return write_smos_l2sm(folder, points, smos_granule(smos_pass))


# ------------------------------------------------------------------------ rasters
@dataclass(frozen=True)
class Raster:
    """A regular lat/lon raster of pixels (north to south).

    Attributes
    ----------
    lat, lon : (n_lat,), (n_lon,) [degree] pixel centres.
    step : [degree] pixel size.
    """

    lat: np.ndarray
    lon: np.ndarray
    step: float

    @property
    def shape(self) -> tuple[int, int]:
        return self.lat.size, self.lon.size

    def corners(self) -> tuple[np.ndarray, np.ndarray]:
        """(n_pixels, 4) corner longitudes and latitudes, latitude-major pixels."""
        lon, lat = np.meshgrid(self.lon, self.lat)
        half = self.step / 2.0
        lon, lat = lon.ravel(), lat.ravel()
        return (np.stack([lon - half, lon + half, lon + half, lon - half], axis=1),
                np.stack([lat - half, lat - half, lat + half, lat + half], axis=1))


def pixel_raster(bbox: tuple[float, float, float, float], steps: tuple[float, ...],
                 max_pixels: int) -> Raster:
    """The finest raster among ``steps`` [degree] covering ``bbox`` with at most
    ``max_pixels`` pixels (the coarsest otherwise); pixel edges on multiples of the step."""
    west, south, east, north = bbox
    for step in steps:
        lat_edges = np.arange(np.floor(south / step), np.ceil(north / step) + 1) * step
        lon_edges = np.arange(np.floor(west / step), np.ceil(east / step) + 1) * step
        if (lat_edges.size - 1) * (lon_edges.size - 1) <= max_pixels or step == steps[-1]:
            lat = np.round(0.5 * (lat_edges[1:] + lat_edges[:-1])[::-1], 9)
            lon = np.round(0.5 * (lon_edges[1:] + lon_edges[:-1]), 9)
            return Raster(lat=lat, lon=lon, step=step)
    raise ValueError("no raster step given")


#: JRC-TIP pixel sizes tried, finest first: the product's 0.01 degree, then 0.05 degree
#: (the QA4ECV TIP grid, EO_FORMATS.md 3.1) for large regions. PROPOSED limit below.
TIP_STEPS = (0.01, 0.05)
#: CCI Biomass pixel sizes: the product's 1/1125 degree, then 0.01 and 0.05 degree (the
#: aggregated versions of section 6.3) for large regions.
BIOMASS_STEPS = (1.0 / 1125.0, 0.01, 0.05)
MAX_RASTER_PIXELS = 250_000
"""Largest raster of a gridded product (PROPOSED: keeps a 500 km region's 7-year FAPAR
truth within 100 MB)."""


# ------------------------------------------------------------------------- JRC-TIP
@dataclass(frozen=True)
class TipErrorModel:
    """JRC-TIP FAPAR and effective-LAI error (module docstring; PROPOSED).

    Attributes
    ----------
    fapar_base, fapar_sparse, fapar_snow : [1] sigma = base + sparse (1 - FAPAR) +
        snow share_of_snow.
    lai_base, lai_relative : sigma of effective LAI = base [m2 m-2] + relative LAI.
    max_noon_sza : [degree] no composite where the sun stays lower at noon.
    """

    fapar_base: float = 0.025
    fapar_sparse: float = 0.04
    fapar_snow: float = 0.06
    lai_base: float = 0.2
    lai_relative: float = 0.3
    max_noon_sza: float = 80.0

    def fapar_sigma(self, fapar: np.ndarray, snow: np.ndarray) -> np.ndarray:
        return (self.fapar_base + self.fapar_sparse * (1.0 - np.clip(fapar, 0.0, 1.0))
                + self.fapar_snow * snow)


#: [1] half-widths (in sigmas) beyond which the truncation of :func:`bounded_noise` is
#: left out: a normal deviate exceeds 6 with probability 2e-9.
UNTRUNCATED_HALF_WIDTH = 6.0


def bounded_noise(truth: np.ndarray, sigma: np.ndarray, lower: float, upper: float,
                  rng: np.random.Generator) -> np.ndarray:
    """``truth + sigma N`` with N truncated symmetrically at the distance to the nearer of
    ``lower``/``upper`` (in units of sigma): the value stays in range and the noise keeps
    zero mean, so a range screening of the product selects nothing (PROPOSED).

    Plain Gaussian noise cut by a [lower, upper] screening shifts the mean of what is left
    by about sigma phi(d) for a truth d sigmas from a bound: for a dense canopy (FAPAR
    0.96, sigma 0.027) 6 % of the pixels were screened and the composite mean of 625
    pixels moved by 0.7 of its standard error, enough to pull a twin experiment's
    posterior off the truth. Near a bound the noise is smaller than ``sigma`` (the stated
    uncertainty is then conservative). Truncated deviates: :data:`scipy.stats.truncnorm`.
    NaN truth gives NaN.
    """
    truth = np.asarray(truth, dtype=np.float64)
    sigma = np.broadcast_to(np.asarray(sigma, dtype=np.float64), truth.shape)
    deviate = rng.standard_normal(truth.shape)
    half_width = np.minimum(truth - lower, upper - truth) / sigma
    near = np.isfinite(half_width) & (half_width < UNTRUNCATED_HALF_WIDTH)
    deviate[near & (half_width <= 0.0)] = 0.0           # truth on (or past) a bound
    inside = near & (half_width > 0.0)
    if inside.any():
        width = half_width[inside]
        deviate[inside] = stats.truncnorm.rvs(-width, width, random_state=rng)
    return truth + sigma * deviate


def tip_file_name(year: int) -> str:
    """``JRC-TIP_FAPAR_<YYYY>.nc`` (the real per-composite names are undocumented,
    EO_FORMATS.md 3.2; one file per year of composites, PROPOSED)."""
    return f"JRC-TIP_FAPAR_{year:04d}.nc"


def write_tip_year(folder: Path, year: int, raster: Raster, starts: np.ndarray,
                   fapar_true: np.ndarray, lai_true: np.ndarray, snow: np.ndarray,
                   noon_sza: np.ndarray, rng: np.random.Generator,
                   model: TipErrorModel | None = None) -> Path:
    """Write the composites of a year: truth (time, lat, lon) plus noise; composites
    whose noon SZA (time, lat, lon) [degree] exceeds ``max_noon_sza`` are missing."""
    model = TipErrorModel() if model is None else model
    sigma = model.fapar_sigma(fapar_true, snow)
    lai_sigma = model.lai_base + model.lai_relative * lai_true
    dark = noon_sza > model.max_noon_sza
    fapar = np.where(dark, np.nan, bounded_noise(fapar_true, sigma, 0.0, 1.0, rng))
    lai = np.where(dark, np.nan, lai_true + lai_sigma * rng.standard_normal(sigma.shape))
    path = folder / tip_file_name(year)
    return write_atomic(path, lambda staging: write_jrc_tip(
        staging, fapar, np.where(dark, np.nan, sigma), raster.lat, raster.lon, starts,
        lai=lai, lai_sigma=np.where(dark, np.nan, lai_sigma)))


# ---------------------------------------------------------------------- CCI Biomass
@dataclass(frozen=True)
class BiomassErrorModel:
    """CCI Biomass AGB error (module docstring; PROPOSED from the large relative
    uncertainty of the product in sparse woodland, EO_FORMATS.md 6.3).

    Attributes
    ----------
    sd_base : [Mg ha-1] SD at zero biomass.
    sd_relative : [1] SD increase per unit AGB.
    """

    sd_base: float = 10.0
    sd_relative: float = 0.35

    def sd(self, agb: np.ndarray) -> np.ndarray:
        return self.sd_base + self.sd_relative * np.maximum(agb, 0.0)


def write_biomass_year(folder: Path, year: int, raster: Raster, agb_true: np.ndarray,
                       rng: np.random.Generator, model: BiomassErrorModel | None = None
                       ) -> Path:
    """Write the AGB map of a year from the true AGB (lat, lon) [Mg ha-1]."""
    model = BiomassErrorModel() if model is None else model
    sd = model.sd(agb_true)
    agb = np.clip(agb_true + sd * rng.standard_normal(sd.shape), 0.0, 10000.0)
    path = folder / cci_biomass_file_name(year)
    return write_atomic(path, lambda staging: write_cci_biomass_netcdf(
        staging, agb, np.minimum(sd, 10000.0), raster.lat, raster.lon, year))


# ------------------------------------------------------------------------- FLUXNET
UMOL_PER_GC_DAY = 1.0 / (12.011e-6 * 86400.0)
"""[umol CO2 m-2 s-1 per gC m-2 d-1]."""
LATENT_HEAT = 2.45e6
"""[J kg-1] latent heat of vaporisation at about 20 degC."""


@dataclass(frozen=True)
class FluxErrorModel:
    """Tower random error and gap filling (module docstring; PROPOSED).

    Attributes
    ----------
    nee_base, nee_relative : NEE sigma = base [umol m-2 s-1] + relative |NEE|.
    le_base, le_relative : LE sigma = base [W m-2] + relative |LE|.
    gap_day, gap_night : fraction of gap-filled half hours by day and by night (low
        turbulence at night).
    filled_noise : [1] noise of gap-filled records relative to measured ones.
    partition_sd : [1] daily log-normal error of the respiration/GPP partitioning.
    """

    nee_base: float = 0.6
    nee_relative: float = 0.15
    le_base: float = 10.0
    le_relative: float = 0.1
    gap_day: float = 0.25
    gap_night: float = 0.55
    filled_noise: float = 0.5
    partition_sd: float = 0.1


def _laplace(rng: np.random.Generator, sigma: np.ndarray) -> np.ndarray:
    """Laplace draws of standard deviation ``sigma`` (scale sigma / sqrt 2)."""
    return rng.laplace(0.0, 1.0, np.shape(sigma)) * np.asarray(sigma) / np.sqrt(2.0)


def write_fluxnet(folder: Path, site_id: str, utc_offset: float, hour_start: np.datetime64,
                  hourly: dict[str, np.ndarray], rng: np.random.Generator,
                  model: FluxErrorModel | None = None) -> tuple[Path, Path]:
    """Write the HH and DD FULLSET files of a tower from true hourly values.

    Parameters
    ----------
    folder : the product folder.
    site_id : FLUXNET id.
    utc_offset : [h] local standard time minus UTC.
    hour_start : UTC start of the first hour.
    hourly : per model hour (UTC): ``nee``, ``gpp``, ``reco`` [gC m-2 d-1], ``et``
        [kg m-2 h-1], ``sw_in`` [W m-2], ``lw_in`` [W m-2], ``ta`` [K], ``vpd`` [Pa],
        ``pa`` [Pa], ``precipitation`` [kg m-2 s-1], ``ws`` [m s-1], ``swc`` [m3 m-3].
    rng, model : noise stream and error model.

    Returns
    -------
    (HH path, DD path). Half hours of the local calendar days not covered by the model
    hours (at the ends of the period, shifted by the UTC offset) are -9999.
    """
    model = FluxErrorModel() if model is None else model
    n_hour = hourly["nee"].size
    offset = np.timedelta64(round(utc_offset * 60), "m")
    utc_half = (np.datetime64(hour_start, "m")
                + np.arange(2 * n_hour) * np.timedelta64(30, "m"))
    local_half = utc_half + offset
    first_day = local_half[0].astype("datetime64[D]")
    last_day = (local_half[-1]).astype("datetime64[D]")
    days = np.arange(first_day, last_day + np.timedelta64(1, "D"))
    index = days[0].astype("datetime64[m]") + np.arange(48 * days.size) * np.timedelta64(30, "m")
    position = ((local_half - index[0]) // np.timedelta64(30, "m")).astype(np.int64)

    def half_hourly(values: np.ndarray) -> np.ndarray:
        out = np.full(index.size, np.nan)
        out[position] = np.repeat(values, 2)
        return out

    nee = half_hourly(hourly["nee"] * UMOL_PER_GC_DAY)
    gpp = half_hourly(hourly["gpp"] * UMOL_PER_GC_DAY)
    reco = half_hourly(hourly["reco"] * UMOL_PER_GC_DAY)
    le = half_hourly(hourly["et"] * LATENT_HEAT / 3600.0)
    sw_in = half_hourly(hourly["sw_in"])
    night = sw_in < 5.0
    gap = rng.uniform(0.0, 1.0, index.size) < np.where(night, model.gap_night, model.gap_day)
    qc = np.where(gap, rng.choice([1.0, 2.0, 3.0], index.size, p=[0.5, 0.3, 0.2]), 0.0)
    scale = np.where(gap, model.filled_noise, 1.0)
    nee_sigma = model.nee_base + model.nee_relative * np.abs(nee)
    nee_obs = nee + scale * _laplace(rng, nee_sigma)
    le_obs = le + scale * _laplace(rng, model.le_base + model.le_relative * np.abs(le))
    day_of = (index - index[0]) // np.timedelta64(1, "D")
    partition = np.exp(model.partition_sd * rng.standard_normal((2, days.size)))[:, day_of]
    reco_nt = reco * partition[0]
    gpp_dt = gpp * partition[1]
    missing = np.isnan(nee)
    qc[missing] = np.nan
    met_qc = np.where(missing, np.nan, 0.0)
    hh = pd.DataFrame({
        "TA_F": half_hourly(hourly["ta"] - 273.15), "TA_F_QC": met_qc,
        "SW_IN_F": sw_in, "SW_IN_F_QC": met_qc,
        "LW_IN_F": half_hourly(hourly["lw_in"]), "LW_IN_F_QC": met_qc,
        "VPD_F": half_hourly(hourly["vpd"] / 100.0), "VPD_F_QC": met_qc,
        "PA_F": half_hourly(hourly["pa"] / 1000.0), "PA_F_QC": met_qc,
        "P_F": half_hourly(hourly["precipitation"] * 1800.0), "P_F_QC": met_qc,
        "WS_F": half_hourly(hourly["ws"]), "WS_F_QC": met_qc,
        "SWC_F_MDS_1": half_hourly(hourly["swc"] * 100.0), "SWC_F_MDS_1_QC": met_qc,
        "LE_F_MDS": le_obs, "LE_F_MDS_QC": qc,
        "NEE_VUT_REF": nee_obs, "NEE_VUT_REF_QC": qc,
        "NEE_VUT_REF_RANDUNC": np.where(missing, np.nan, scale * nee_sigma),
        "RECO_NT_VUT_REF": reco_nt, "GPP_NT_VUT_REF": reco_nt - nee_obs,
        "RECO_DT_VUT_REF": gpp_dt + nee_obs, "GPP_DT_VUT_REF": gpp_dt,
    }, index=pd.DatetimeIndex(index))
    hh_path = write_fullset(folder, site_id, "HH", hh)
    dd_path = write_fullset(folder, site_id, "DD", _daily(hh))
    return hh_path, dd_path


def _daily(hh: pd.DataFrame) -> pd.DataFrame:
    """DD records from HH ones: means (fluxes converted to gC m-2 d-1), precipitation sums,
    QC as the fraction of measured or good gap-filled records; days with a missing record
    are missing."""
    groups = hh.groupby(hh.index.normalize())
    complete = groups["NEE_VUT_REF"].count() == 48
    mean = groups.mean()
    dd = pd.DataFrame(index=mean.index)
    carbon = ("NEE_VUT_REF", "RECO_NT_VUT_REF", "GPP_NT_VUT_REF", "RECO_DT_VUT_REF",
              "GPP_DT_VUT_REF")
    for column in hh.columns:
        if column.endswith("_QC"):
            if column in ("NEE_VUT_REF_QC", "LE_F_MDS_QC"):
                dd[column] = groups[column].apply(lambda q: float((q <= 1).mean()))
            else:
                dd[column] = np.where(complete, 0.0, np.nan)
        elif column == "P_F":
            dd[column] = groups[column].sum(min_count=48)
        elif column == "NEE_VUT_REF_RANDUNC":
            dd[column] = (np.sqrt((hh[column] ** 2).groupby(hh.index.normalize()).sum())
                          / 48.0 / UMOL_PER_GC_DAY)
        elif column in carbon:
            dd[column] = mean[column] / UMOL_PER_GC_DAY
        else:
            dd[column] = mean[column]
    dd.loc[~complete.to_numpy()] = np.nan
    return dd
