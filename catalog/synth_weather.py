"""Regional hourly weather for the synthetic generator, written as ERA5 NetCDF (new CDS
layout) on the 0.25 degree ERA5 lattice, and the model forcing derived from it.

The built-in site weather (:func:`tccas.catalog.weather.generate_era5_weather`, the site
climate of :data:`tccas.catalog.weather.CLIMATES`) drives the whole region; every lattice
point departs from it in physically plausible, spatially structured ways (parameters in
:class:`RegionalWeather`, values PROPOSED):

* **Solar timing:** the instantaneous fields (temperature, dew point, wind) of a point are
  the site's, read at the same *local solar* time (shifted by the longitude difference /
  15 h, linear interpolation between hours), so the diurnal cycle follows the sun.
* **Temperature:** a lapse rate of -6.5 K km-1 (ICAO standard atmosphere) on the synthetic
  relief (:func:`tccas.catalog.synth_fields.elevation`), a meridional gradient of
  -0.6 K per degree of latitude (the mean annual gradient over Europe) and a spatially
  correlated anomaly: ``sd (D(p, t))``, ``D = sum_k (phi_k(p) - phi_k(site)) a_k(t) /
  sqrt(K)`` with smooth patterns ``phi_k`` (correlation length 300 km) and unit AR(1)
  amplitudes ``a_k`` (3 days). ``D`` vanishes at the site and grows with distance, like the
  structure function of real temperature anomalies. The dew point moves with the
  temperature (the dew-point depression is kept), never above it.
* **Clouds and precipitation** arrive with the weather systems: a point east of the site
  sees the site's cloud and rain ``lag = east distance / 40 km h-1`` hours later
  (westerlies), plus a correlated perturbation (patterns of 150 km, 12 h) of the cloud
  cover in probit space and, mean-preserving, of the precipitation amount, which also
  grows with elevation (orographic factor ``exp(0.5 dz / km)``). The site's hourly cloud
  cover is recovered from its shortwave by inverting Kasten and Czeplak (1980); at night
  it is interpolated in time.
* **Radiation** of every point comes from its own solar geometry and elevation with the
  weather generator's clear-sky and cloud models (:func:`~tccas.catalog.weather.
  clear_sky_shortwave`, :func:`~tccas.catalog.weather.cloudy_shortwave`,
  :func:`~tccas.catalog.weather.longwave_down`), so polar night and day length vary
  across the region.
* **Pressure** is the site's, reduced hypsometrically to the point's elevation
  (``sp = sp_site exp(-g0 dz / (R_d T_mean))``, ``T_mean`` the mean of the point's and the
  site's temperature); **wind** grows by 30 % per km of elevation above the site.
* **Orography:** the invariant surface geopotential ``z`` is g0 times the same relief
  (:func:`era5_geopotential_dataset`), so pressure and terrain agree as in ERA5: BETHY's
  barometric form ``p = p0 (1 + G dz / T)^(-g0 / (R_d G))`` (MODEL_SPEC 3.1, lapse rate
  ``G`` = 6.5 K km-1, ``T`` the point's temperature) recovers ``dz`` from ``sp / sp_site``
  to within the share of the temperature off the lapse-rate profile (the latitude
  gradient and the anomaly, a few K of about 280 K: about 1 % of ``dz``).

Files (EO_FORMATS.md 4.1, the new-CDS layout that :func:`tccas.catalog.era5.open_era5`
reads): per calendar month two NetCDF-4 files, ``ERA5_<YYYY><MM>_stepType-instant.nc``
(``t2m``, ``d2m``, ``sp``, ``u10``, ``v10``) and ``ERA5_<YYYY><MM>_stepType-accum.nc``
(``ssrd``, ``strd``, ``tp``, amounts over the hour ending at ``valid_time``), float32 on
``(valid_time, latitude, longitude)``, latitude descending, ``valid_time`` in seconds since
1970, scalar ``number`` and a 4-character ``expver`` along ``valid_time``. A month file
holds the valid times 00 UTC of its first day to 23 UTC of its last; the last file also
holds the valid time at 00 UTC after the period, which the last model hour needs (as one
downloads one extra time step from the CDS). Splitting by month and step type is what a
CDS request of one month returns unzipped (PROPOSED choice: per month keeps each file
small and lets a reader take one year). One more file, ``ERA5_geopotential.nc``
(:func:`era5_geopotential_file_name`), holds the invariant ``z`` [m2 s-2] at the first
valid time of the period, float32 on ``(valid_time, latitude, longitude)`` in the same
layout (what a CDS request of ``geopotential`` for one time step returns).

Forcing: the model forcing of a meteorology point is the ERA5 fields *as written*
(float32) interpolated bilinearly from the four surrounding lattice points to the point,
then converted exactly as :func:`tccas.catalog.era5.era5_to_forcing` converts them
(hour means of instantaneous values, accumulations of the hour's end), so a reader of the
files reproduces the truth's forcing.

References
----------
ICAO (1993): Manual of the ICAO Standard Atmosphere, Doc 7488/3 (lapse rate).
Kasten, F. and Czeplak, G. (1980): Solar Energy 24, 177-189,
doi:10.1016/0038-092X(80)90391-6 (cloud attenuation, inverted here).
Hersbach, H. et al. (2020): The ERA5 global reanalysis. Q. J. R. Meteorol. Soc. 146,
1999-2049, doi:10.1002/qj.3803 (lattice, accumulation convention).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr
from scipy import sparse
from scipy.signal import lfilter
from scipy.special import ndtr, ndtri

from tccas.catalog.catalogue_meteo import MET_RESOLUTION
from tccas.catalog.co2 import co2_mole_fraction
from tccas.catalog.era5 import (
    GEOPOTENTIAL,
    SECONDS_PER_HOUR,
    STANDARD_GRAVITY,
    ZERO_CELSIUS,
    dewpoint_to_vpd,
    era5_precipitation_to_rate,
    era5_radiation_to_flux,
    saturation_vapour_pressure,
    wind_speed,
)
from tccas.catalog.sites import Site
from tccas.catalog.synth_fields import SmoothField, elevation, named_rng, plane_km
from tccas.catalog.weather import (
    DRY_AIR_GAS_CONSTANT,
    KASTEN_CZEPLAK,
    RAINY_HOUR_MIN_CLOUD,
    VARIABLE_ATTRS,
    clear_sky_shortwave,
    cloudy_shortwave,
    generate_era5_weather,
    hourly_mean_cos_zenith,
    longwave_down,
)
from tccas.model.errors import TccasInputError
from tccas.model.forcing import FORCING_VARIABLES
from tccas.model.kernels.astronomy import earth_sun_distance_factor

INSTANT_VARIABLES = ("t2m", "d2m", "sp", "u10", "v10")
ACCUMULATED_VARIABLES = ("ssrd", "strd", "tp")
#: Cloud cover is also kept (uint8 in 1/250 steps) for the cloud fraction of the
#: TROPOSIF soundings.
CLOUD_STEPS = 250.0
#: Attributes of the geopotential as the CDS writes them (ECMWF parameter 129).
GEOPOTENTIAL_ATTRS = {GEOPOTENTIAL: {"units": "m**2 s**-2", "long_name": "Geopotential",
                                     "standard_name": "geopotential", "GRIB_paramId": 129}}
_PAD_DAYS = 1


@dataclass(frozen=True)
class RegionalWeather:
    """Spatial structure of the regional weather (PROPOSED values, module docstring).

    Attributes
    ----------
    lapse_rate : [K m-1] temperature change with elevation.
    latitude_gradient : [K degree-1] temperature change per degree north.
    anomaly_sd : [K] standard deviation of the temperature anomaly far from the site.
    anomaly_length_km, anomaly_timescale_h : correlation length [km] and e-folding time
        [h] of the temperature anomaly patterns.
    cloud_sd : [1] standard deviation of the cloud perturbation in probit space.
    cloud_length_km, cloud_timescale_h : the same for clouds and precipitation.
    precipitation_sd : [1] standard deviation of the log precipitation perturbation.
    orographic_factor : [km-1] log precipitation increase per km of elevation.
    advection_speed_kmh : [km h-1] eastward speed of the weather systems.
    wind_elevation_gain : [km-1] relative wind increase per km of elevation.
    n_modes : number of anomaly patterns K.
    """

    lapse_rate: float = -6.5e-3
    latitude_gradient: float = -0.6
    anomaly_sd: float = 1.5
    anomaly_length_km: float = 300.0
    anomaly_timescale_h: float = 72.0
    cloud_sd: float = 0.8
    cloud_length_km: float = 150.0
    cloud_timescale_h: float = 12.0
    precipitation_sd: float = 0.5
    orographic_factor: float = 0.5
    advection_speed_kmh: float = 40.0
    wind_elevation_gain: float = 0.3
    n_modes: int = 6


@dataclass(frozen=True)
class Era5Lattice:
    """Points of the ERA5 0.25 degree lattice covering a region.

    Attributes
    ----------
    latitude : (n_lat,) [degree_north] descending, as in ERA5 files.
    longitude : (n_lon,) [degree_east] ascending.
    """

    latitude: np.ndarray
    longitude: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.latitude.size, self.longitude.size

    @property
    def n_points(self) -> int:
        return self.latitude.size * self.longitude.size

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """(lon, lat) of every point, latitude-major (the row-major order of the files)."""
        lon, lat = np.meshgrid(self.longitude, self.latitude)
        return lon.ravel(), lat.ravel()


def era5_lattice(west: float, south: float, east: float, north: float) -> Era5Lattice:
    """The lattice points around the box [degree]: every multiple of
    :data:`~tccas.catalog.catalogue_meteo.MET_RESOLUTION` (the ERA5 grid, whose points are
    the corners of the catalogue's meteorology cells) inside it and one more on each side,
    so that bilinear interpolation at any point of the box has its four neighbours."""
    res = MET_RESOLUTION
    lat = np.arange(np.floor(south / res) - 1, np.ceil(north / res) + 2) * res
    lon = np.arange(np.floor(west / res) - 1, np.ceil(east / res) + 2) * res
    if lat.min() < -90.0 or lat.max() > 90.0:
        raise TccasInputError(f"region {south}..{north} degree north is too close to a pole "
                              "for the ERA5 lattice")
    return Era5Lattice(latitude=np.round(lat[::-1], 6), longitude=np.round(lon, 6))


def bilinear_matrix(lattice: Era5Lattice, lon: np.ndarray, lat: np.ndarray
                    ) -> sparse.csr_matrix:
    """(n_points, n_lattice) bilinear interpolation weights from the lattice to points."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    res = MET_RESOLUTION
    fx = (lon - lattice.longitude[0]) / res
    fy = (lattice.latitude[0] - lat) / res
    n_lat, n_lon = lattice.shape
    col = np.clip(np.floor(fx).astype(np.int64), 0, n_lon - 2)
    row = np.clip(np.floor(fy).astype(np.int64), 0, n_lat - 2)
    tx, ty = fx - col, fy - row
    if np.any((tx < -1e-9) | (tx > 1 + 1e-9) | (ty < -1e-9) | (ty > 1 + 1e-9)):
        raise TccasInputError("a meteorology point lies outside the ERA5 lattice")
    index = np.stack([row * n_lon + col, row * n_lon + col + 1, (row + 1) * n_lon + col,
                      (row + 1) * n_lon + col + 1], axis=1)
    weight = np.stack([(1 - tx) * (1 - ty), tx * (1 - ty), (1 - tx) * ty, tx * ty], axis=1)
    rows = np.repeat(np.arange(lon.size), 4)
    return sparse.csr_matrix((weight.ravel(), (rows, index.ravel())),
                             shape=(lon.size, lattice.n_points))


def _ar1(rng: np.random.Generator, shape: tuple[int, int], timescale: float) -> np.ndarray:
    """Rows of stationary unit-variance AR(1) series of e-folding time ``timescale``."""
    rho = np.exp(-1.0 / timescale)
    noise = rng.standard_normal(shape)
    noise[:, 1:] *= np.sqrt(1.0 - rho**2)
    return lfilter([1.0], [1.0, -rho], noise, axis=1)


def _year_fraction(times: np.ndarray) -> np.ndarray:
    seconds = np.asarray(times, dtype="datetime64[s]")
    year = seconds.astype("datetime64[Y]")
    length = ((year + np.timedelta64(1, "Y")).astype("datetime64[s]")
              - year.astype("datetime64[s]")).astype(np.float64)
    return (seconds - year.astype("datetime64[s]")).astype(np.float64) / length


def _clear_sky(lat: float, lon: float, hour_end: np.ndarray, elevation_m: float,
               eccentricity: np.ndarray) -> np.ndarray:
    """Clear-sky shortwave [W m-2] of the hours ending at ``hour_end``."""
    mean_cos, sunlit = hourly_mean_cos_zenith(lat, lon, hour_end)
    return clear_sky_shortwave(mean_cos, sunlit, eccentricity, elevation_m)


def _eccentricity(hour_end: np.ndarray) -> np.ndarray:
    """Sun-Earth distance factor [1] at the middle of the hours ending at ``hour_end``."""
    mid = hour_end.astype("datetime64[m]") - np.timedelta64(30, "m")
    return earth_sun_distance_factor(1.0 + 365.0 * _year_fraction(mid))


def _site_cloud(site: Site, times: np.ndarray, ssrd: np.ndarray) -> np.ndarray:
    """Hourly cloud cover [1] of the site from its shortwave (Kasten-Czeplak inverted;
    interpolated in time through the night)."""
    clear = _clear_sky(site.latitude, site.longitude, times, site.elevation,
                       _eccentricity(times))
    day = clear > 20.0
    reduction, exponent = KASTEN_CZEPLAK
    transmission = np.clip(ssrd[day] / SECONDS_PER_HOUR / clear[day], 1.0 - reduction, 1.0)
    cover = ((1.0 - transmission) / reduction) ** (1.0 / exponent)
    hours = np.arange(times.size, dtype=np.float64)
    if not day.any():
        return np.full(times.size, 0.7)
    return np.interp(hours, hours[day], cover)


@dataclass
class WeatherGenerator:
    """Regional weather of one site's region over a period (see the module docstring).

    Build with :meth:`create`; :meth:`month_chunks` yields the fields month by month.
    """

    site: Site
    lattice: Era5Lattice
    elevation: np.ndarray
    structure: RegionalWeather
    valid_time: np.ndarray
    site_fields: dict[str, np.ndarray]
    site_cloud: np.ndarray
    first: int
    solar_shift: np.ndarray
    lag: np.ndarray
    temperature_offset: np.ndarray
    temperature_patterns: np.ndarray
    temperature_amplitudes: np.ndarray
    cloud_patterns: np.ndarray
    cloud_amplitudes: np.ndarray
    precipitation_factor: np.ndarray
    precipitation_variance: np.ndarray

    @staticmethod
    def create(site: Site, lattice: Era5Lattice, start: np.datetime64, end: np.datetime64,
               seed: int, structure: RegionalWeather | None = None) -> WeatherGenerator:
        """Prepare the generator for the UTC days ``start`` .. ``end`` (inclusive)."""
        structure = RegionalWeather() if structure is None else structure
        pad = np.timedelta64(_PAD_DAYS, "D")
        base = generate_era5_weather(site, np.datetime64(start, "D") - pad,
                                     np.datetime64(end, "D") + pad, seed)
        valid_time = base["valid_time"].values.astype("datetime64[h]")
        fields = {name: base[name].values.astype(np.float64)
                  for name in (*INSTANT_VARIABLES, *ACCUMULATED_VARIABLES)}
        lon, lat = lattice.points()
        z = elevation(site, seed, lon, lat)
        east, _ = plane_km(lon, lat, site.longitude, site.latitude)
        dlon = (lon - site.longitude + 180.0) % 360.0 - 180.0
        offset = (structure.lapse_rate * (z - site.elevation)
                  + structure.latitude_gradient * (lat - site.latitude))
        rng = named_rng(seed, "regional-weather", site.name)
        n_time = valid_time.size
        k = structure.n_modes

        def patterns(name: str, length: float) -> np.ndarray:
            values = []
            for mode in range(k):
                field = SmoothField.create(seed, f"{name}-{site.name}-{mode}", length,
                                           site.longitude, site.latitude)
                values.append(field.at(lon, lat) - field.at(site.longitude, site.latitude))
            return np.array(values).T / np.sqrt(k)

        temperature = patterns("temperature-anomaly", structure.anomaly_length_km)
        cloud = patterns("cloud-anomaly", structure.cloud_length_km)
        climate = SmoothField.create(seed, f"precipitation-climate-{site.name}", 100.0,
                                     site.longitude, site.latitude)
        climate_anomaly = climate.at(lon, lat) - climate.at(site.longitude, site.latitude)
        factor = np.exp(structure.orographic_factor * (z - site.elevation) / 1000.0
                        + 0.15 * climate_anomaly)
        return WeatherGenerator(
            site=site, lattice=lattice, elevation=z, structure=structure,
            valid_time=valid_time, site_fields=fields,
            site_cloud=_site_cloud(site, valid_time, fields["ssrd"]),
            first=int((np.datetime64(start, "h") - valid_time[0]).astype(np.int64)),
            solar_shift=dlon / 15.0,
            lag=np.round(east / structure.advection_speed_kmh).astype(np.int64),
            temperature_offset=offset,
            temperature_patterns=temperature,
            temperature_amplitudes=_ar1(rng, (k, n_time), structure.anomaly_timescale_h),
            cloud_patterns=cloud,
            cloud_amplitudes=_ar1(rng, (k, n_time), structure.cloud_timescale_h),
            precipitation_factor=factor,
            precipitation_variance=(cloud**2).sum(axis=1),
        )

    def _shifted(self, name: str, index: np.ndarray) -> np.ndarray:
        """Site field at the same local solar time as each point (n_points, n_t)."""
        position = index[None, :] + self.solar_shift[:, None]
        low = np.floor(position).astype(np.int64)
        weight = position - low
        values = self.site_fields[name]
        return (1.0 - weight) * values[low] + weight * values[low + 1]

    def fields(self, index: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """ERA5 fields (n_points, n_t) float32 at the valid-time indices ``index`` (into
        the padded series, consecutive) and the instantaneous cloud cover [1]."""
        s = self.structure
        full = np.concatenate([[index[0] - 1], index])
        t_site = self._shifted("t2m", full)
        anomaly = s.anomaly_sd * (self.temperature_patterns
                                  @ self.temperature_amplitudes[:, full])
        t2m = t_site + self.temperature_offset[:, None] + anomaly
        d2m = np.minimum(self._shifted("d2m", full) + (t2m - t_site), t2m)
        lagged = full[None, :] - self.lag[:, None]
        perturbation = self.cloud_patterns @ self.cloud_amplitudes[:, full]
        site_cover = np.clip(self.site_cloud[lagged], 0.005, 0.995)
        tp = self.site_fields["tp"][lagged] * self.precipitation_factor[:, None] * np.exp(
            s.precipitation_sd * perturbation
            - 0.5 * s.precipitation_sd**2 * self.precipitation_variance[:, None])
        cloud = ndtr(ndtri(site_cover) + s.cloud_sd * perturbation)
        cloud = np.where(tp > 0.0, np.maximum(cloud, RAINY_HOUR_MIN_CLOUD), cloud)
        now = slice(1, None)
        sp = self.site_fields["sp"][index][None, :] * np.exp(
            -STANDARD_GRAVITY * (self.elevation - self.site.elevation)[:, None]
            / (DRY_AIR_GAS_CONSTANT * 0.5 * (t2m[:, now] + t_site[:, now])))
        gain = np.clip(1.0 + s.wind_elevation_gain * (self.elevation - self.site.elevation)
                       / 1000.0, 0.5, 2.0)[:, None]
        lon, lat = self.lattice.points()
        hour_end = self.valid_time[index]
        eccentricity = _eccentricity(hour_end)
        clear = np.array([_clear_sky(la, lo, hour_end, z, eccentricity)
                          for lo, la, z in zip(lon, lat, self.elevation, strict=True)])
        longwave = longwave_down(t2m, saturation_vapour_pressure(d2m - ZERO_CELSIUS), cloud)
        values = {
            "t2m": t2m[:, now], "d2m": d2m[:, now], "sp": sp,
            "u10": gain * self._shifted("u10", index), "v10": gain * self._shifted("v10", index),
            "ssrd": cloudy_shortwave(clear, 0.5 * (cloud[:, :-1] + cloud[:, 1:]))
            * SECONDS_PER_HOUR,
            "strd": 0.5 * (longwave[:, :-1] + longwave[:, 1:]) * SECONDS_PER_HOUR,
            "tp": tp[:, now],
        }
        return {k: v.astype(np.float32) for k, v in values.items()}, cloud[:, now]

    def month_chunks(self, last_day: np.datetime64) -> Iterator[tuple[np.ndarray, bool]]:
        """Padded-series indices of the valid times of each calendar month of the period
        (00 UTC of its first day to 23 UTC of its last day; the last chunk adds 00 UTC of
        the day after ``last_day``), and whether the chunk is the last one."""
        first_time = self.valid_time[self.first]
        stop = np.datetime64(last_day, "D") + np.timedelta64(1, "D")
        month = first_time.astype("datetime64[M]")
        while month.astype("datetime64[h]") < stop.astype("datetime64[h]"):
            chunk_start = max(month.astype("datetime64[h]"), first_time)
            chunk_stop = min((month + np.timedelta64(1, "M")).astype("datetime64[h]"),
                             stop.astype("datetime64[h]"))
            last = chunk_stop == stop.astype("datetime64[h]")
            count = int((chunk_stop - chunk_start).astype(np.int64)) + (1 if last else 0)
            offset = int((chunk_start - self.valid_time[0]).astype(np.int64))
            yield offset + np.arange(count), last
            month = month + np.timedelta64(1, "M")


def _cds_dataset(generator: WeatherGenerator, valid_time: np.ndarray,
                 fields: dict[str, np.ndarray], attrs: dict[str, dict[str, object]],
                 step: str, seed: int) -> xr.Dataset:
    """A dataset of the new CDS layout: ``fields`` (n_lattice, n_t) on (valid_time,
    latitude, longitude), float32, compressed."""
    lattice = generator.lattice
    valid_time = np.asarray(valid_time).astype("datetime64[ns]")
    n_lat, n_lon = lattice.shape
    coords = {
        "valid_time": ("valid_time", valid_time, {"standard_name": "time",
                                                  "long_name": "time"}),
        "latitude": ("latitude", lattice.latitude, {
            "units": "degrees_north", "standard_name": "latitude",
            "stored_direction": "decreasing"}),
        "longitude": ("longitude", lattice.longitude, {
            "units": "degrees_east", "standard_name": "longitude"}),
        "number": ((), 0, {"long_name": "ensemble member numerical id"}),
        "expver": ("valid_time", np.full(valid_time.size, "0001")),
    }
    ds = xr.Dataset(
        {name: (("valid_time", "latitude", "longitude"),
                np.asarray(values, dtype=np.float32).T.reshape(valid_time.size, n_lat, n_lon),
                attrs[name]) for name, values in fields.items()},
        coords=coords,
        attrs={"Conventions": "CF-1.7", "GRIB_centre": "ecmf",
               "institution": "tccas synthetic regional weather (tccas.catalog.synth_weather)",
               "site": generator.site.name, "seed": int(seed), "GRIB_stepType": step})
    ds["valid_time"].encoding.update({"units": "seconds since 1970-01-01",
                                      "calendar": "proleptic_gregorian", "dtype": "int64"})
    for name in fields:
        ds[name].encoding.update({"zlib": True, "complevel": 1, "shuffle": True})
    return ds


def era5_month_datasets(generator: WeatherGenerator, index: np.ndarray,
                        fields: dict[str, np.ndarray], seed: int
                        ) -> dict[str, xr.Dataset]:
    """The instant and accum datasets (new CDS layout) of one chunk of valid times."""
    valid_time = generator.valid_time[index]
    return {step: _cds_dataset(generator, valid_time, {name: fields[name] for name in names},
                               VARIABLE_ATTRS, step, seed)
            for step, names in (("instant", INSTANT_VARIABLES),
                                ("accum", ACCUMULATED_VARIABLES))}


def era5_geopotential_dataset(generator: WeatherGenerator, seed: int) -> xr.Dataset:
    """The invariant surface geopotential ``z`` [m2 s-2] of the lattice (new CDS layout,
    the first valid time of the period): g0 (:data:`tccas.catalog.era5.STANDARD_GRAVITY`)
    times the relief the pressure was reduced to (module docstring)."""
    geopotential = STANDARD_GRAVITY * generator.elevation[:, None]
    return _cds_dataset(generator, generator.valid_time[generator.first:generator.first + 1],
                        {GEOPOTENTIAL: geopotential}, GEOPOTENTIAL_ATTRS, "instant", seed)


def era5_file_name(month: np.datetime64, step: str) -> str:
    """``ERA5_<YYYY><MM>_stepType-<step>.nc``."""
    return f"ERA5_{str(np.datetime64(month, 'M')).replace('-', '')}_stepType-{step}.nc"


def era5_geopotential_file_name() -> str:
    """``ERA5_geopotential.nc``: the name the ingest recognises as the invariant
    geopotential (:data:`tccas.catalog.catalogue_sources.PRODUCTS`)."""
    return "ERA5_geopotential.nc"


def write_netcdf_atomic(ds: xr.Dataset, path: Path) -> Path:
    """Write ``ds`` to ``path`` through a temporary file in the same folder."""
    staging = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex}")
    try:
        ds.to_netcdf(staging, format="NETCDF4", engine="netcdf4")
        os.replace(staging, path)
    finally:
        if staging.exists():
            staging.unlink()
    return path


def forcing_hours(fields: dict[str, np.ndarray], interpolation: sparse.csr_matrix,
                  valid_time: np.ndarray) -> dict[str, np.ndarray]:
    """Model forcing (n_met, n_t - 1) [SI] of the hours between consecutive valid times,
    from ERA5 fields (n_lattice, n_t) interpolated to the meteorology points first, with
    the conversions of :func:`tccas.catalog.era5.era5_to_forcing`."""
    at = {name: interpolation @ values.astype(np.float64) for name, values in fields.items()}

    def hour_mean(instantaneous: np.ndarray) -> np.ndarray:
        return 0.5 * (instantaneous[:, :-1] + instantaneous[:, 1:])

    forcing = {
        "air_temperature": hour_mean(at["t2m"]),
        "vapour_pressure_deficit": hour_mean(dewpoint_to_vpd(at["t2m"], at["d2m"])),
        "surface_pressure": hour_mean(at["sp"]),
        "wind_speed": hour_mean(wind_speed(at["u10"], at["v10"])),
        "shortwave_down": era5_radiation_to_flux(at["ssrd"][:, 1:]),
        "longwave_down": era5_radiation_to_flux(at["strd"][:, 1:]),
        "precipitation": era5_precipitation_to_rate(at["tp"][:, 1:]),
    }
    mid_hour = valid_time[:-1].astype("datetime64[m]") + np.timedelta64(30, "m")
    forcing["co2"] = np.broadcast_to(co2_mole_fraction(mid_hour),
                                     forcing["air_temperature"].shape)
    return forcing


@dataclass
class ForcingStore:
    """Hourly forcing of the meteorology points over the whole period, one float64
    memory-mapped array (n_met, n_hour) per variable in a scratch folder."""

    folder: Path
    arrays: dict[str, np.ndarray]

    @staticmethod
    def create(folder: Path, n_met: int, n_hour: int) -> ForcingStore:
        folder.mkdir(parents=True, exist_ok=True)
        arrays = {name: np.lib.format.open_memmap(folder / f"{name}.npy", mode="w+",
                                                  dtype=np.float64, shape=(n_met, n_hour))
                  for name in FORCING_VARIABLES}
        return ForcingStore(folder, arrays)
