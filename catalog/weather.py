"""Built-in hourly weather generator for the TCCAS sites, written in the ERA5 (new CDS) layout.

The generator gives every built-in site (:data:`tccas.catalog.sites.SITES`) a seeded,
reproducible, physically consistent hourly weather series, so that the model, the
assimilation and the tests run without downloading ERA5. Its output is an ERA5 dataset
(coordinate ``valid_time``, scalar ``number`` and a string ``expver``, variables ``t2m``,
``d2m``, ``sp``, ``u10``, ``v10`` instantaneous at ``valid_time`` and ``ssrd``, ``strd``,
``tp`` accumulated over the hour *ending* at ``valid_time``), so it goes through the same
reader conversion (:func:`tccas.catalog.era5.era5_to_forcing`) as real ERA5.

How the weather is built (all vectorised; stochastic parts are unit-variance AR(1)
processes, :func:`_ar1`):

* **Seasonal cycle:** monthly climatologies (:class:`SiteClimate`, values PROPOSED from the
  regional station normals: AEMET Navalmoral de la Mata/Plasencia for Majadas, FMI
  Sodankyla Tahtela 1981-2010, KNMI Eindhoven 1991-2020 for Reusel) evaluated as a smooth
  three-harmonic Fourier series whose annual mean equals the table mean.
* **Day-to-day weather:** a temperature anomaly AR(1) (time scale 3 days, seasonal
  standard deviation) and a cloud latent variable made of a synoptic AR(1) (2 days) and a
  fast one (4 h). The synoptic part also lowers the pressure, cools summer days and warms
  winter days, shrinks the diurnal range and moistens the air.
* **Cloud cover** ``n = Phi(a z + m)`` of the latent ``z`` with ``m`` chosen so that the
  mean cover equals the climatology.
* **Precipitation** falls in the hours where a rain variable, correlated (0.8) with the
  cloud latent and persistent over a few hours, exceeds a seasonal threshold set so that
  the wet-hour frequency times the mean intensity (rising with temperature, roughly
  Clausius-Clapeyron) gives the monthly climatology; intensities are gamma distributed.
  Wet hours are overcast (n >= 0.9).
* **Diurnal cycle** of temperature: a cosine peaking at 15 h local solar time with the
  monthly diurnal range. **Dew point** follows the daily minimum temperature less a
  seasonal depression (Kimball et al. 1997), so afternoon VPD is high in dry summers.
* **Shortwave:** exact hourly mean of the cosine of the solar zenith angle over the hour
  (:func:`hourly_mean_cos_zenith`, solar position from Spencer 1971), a clear-sky model
  (Meinel and Meinel 1976 with the altitude term of Laue 1970, Kasten and Young 1989 air
  mass, diffuse as 10 % of the beam) and the cloud attenuation of Kasten and Czeplak (1980).
  Polar night and midnight sun follow from the geometry.
* **Longwave:** clear-sky emissivity of Brutsaert (1975) with the cloud correction of
  Crawford and Duchon (1999), ``eps = n + (1 - n) eps_clear``.

The stream depends on ``(seed, site name, start, end)`` only: the same arguments give
bit-identical output and different sites draw from different streams.

References
----------
Spencer, J. W. (1971): Fourier series representation of the position of the sun.
Search 2(5), 172.
Meinel, A. B. and Meinel, M. P. (1976): Applied Solar Energy. Addison-Wesley.
Laue, E. G. (1970): The measurement of solar spectral irradiance at different terrestrial
elevations. Solar Energy 13, 43-57.
Kasten, F. and Young, A. T. (1989): Revised optical air mass tables and approximation
formula. Appl. Opt. 28, 4735-4738, doi:10.1364/AO.28.004735.
Kasten, F. and Czeplak, G. (1980): Solar and terrestrial radiation dependent on the
amount and type of cloud. Solar Energy 24, 177-189, doi:10.1016/0038-092X(80)90391-6.
Brutsaert, W. (1975): On a derivable formula for long-wave radiation from clear skies.
Water Resour. Res. 11, 742-744, doi:10.1029/WR011i005p00742.
Crawford, T. M. and Duchon, C. E. (1999): An improved parameterization for estimating
effective atmospheric emissivity for use in calculating daytime downwelling longwave
radiation. J. Appl. Meteorol. 38, 474-480,
doi:10.1175/1520-0450(1999)038<0474:AIPFEE>2.0.CO;2.
Kimball, J. S., Running, S. W. and Nemani, R. (1997): An improved method for estimating
surface humidity from daily minimum temperature. Agric. For. Meteorol. 85, 87-98,
doi:10.1016/S0168-1923(96)02366-0.
Kopp, G. and Lean, J. L. (2011): A new, lower value of total solar irradiance. Geophys.
Res. Lett. 38, L01706, doi:10.1029/2010GL045777.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy.signal import lfilter
from scipy.special import ndtr, ndtri

from tccas.catalog.era5 import (
    SECONDS_PER_HOUR,
    STANDARD_GRAVITY,
    ZERO_CELSIUS,
    DateLike,
    era5_to_forcing,
    saturation_vapour_pressure,
    utc_day_hours,
)
from tccas.catalog.sites import Site, get_site
from tccas.model.errors import TccasInputError
from tccas.model.forcing import Forcing
from tccas.model.kernels.astronomy import (
    declination,
    earth_sun_distance_factor,
    equation_of_time,
    hour_cos_zenith_series,
)

Monthly = tuple[float, float, float, float, float, float, float, float, float, float, float, float]


@dataclass(frozen=True)
class SiteClimate:
    """Climatology and variability of one site for the weather generator (PROPOSED values).

    Monthly tables run January to December.

    Attributes
    ----------
    temperature : [degC] monthly mean of the daily mean 2 m temperature.
    diurnal_range : [K] mean daily temperature range driven by the sun (small in the
        polar night, where synoptic changes dominate and come from the anomaly process).
    precipitation : [mm month-1] monthly precipitation total (rain and snow).
    cloud_cover : [1] mean total cloud fraction.
    dewpoint_depression : [K] daily minimum temperature minus dew point under average
        cloud (Kimball et al. 1997).
    temperature_sd : [K] standard deviation of the day-to-day anomaly, (winter, summer).
    cloud_temperature_effect : [K] temperature change per standard deviation of the
        synoptic cloud latent, (winter, summer): clouds warm winters, cool summers.
    rain_intensity : [mm h-1] mean intensity of a wet hour at a climatological 10 degC.
    pressure_sd : [Pa] standard deviation of the synoptic surface pressure anomaly.
    wind_mean : [m s-1] mean (u10, v10), the prevailing wind.
    wind_sd : [m s-1] standard deviation of each wind component.
    """

    temperature: Monthly
    diurnal_range: Monthly
    precipitation: Monthly
    cloud_cover: Monthly
    dewpoint_depression: Monthly
    temperature_sd: tuple[float, float]
    cloud_temperature_effect: tuple[float, float]
    rain_intensity: float
    pressure_sd: float
    wind_mean: tuple[float, float]
    wind_sd: float


CLIMATES: dict[str, SiteClimate] = {
    # Mediterranean dehesa: hot dry summers, rain October-May in discrete events.
    "majadas": SiteClimate(
        temperature=(7.8, 9.4, 12.4, 14.3, 18.2, 23.3, 26.4, 26.0, 22.2, 16.9, 11.4, 8.4),
        diurnal_range=(11.0, 12.0, 14.0, 14.0, 15.0, 17.0, 18.0, 18.0, 16.0, 13.0, 11.0, 10.0),
        precipitation=(70.0, 60.0, 45.0, 55.0, 45.0, 20.0, 5.0, 7.0, 30.0, 75.0, 85.0, 100.0),
        cloud_cover=(0.5, 0.5, 0.45, 0.5, 0.4, 0.25, 0.12, 0.15, 0.3, 0.5, 0.55, 0.55),
        dewpoint_depression=(1.0, 1.5, 2.5, 2.5, 3.5, 5.0, 6.0, 6.0, 5.0, 2.5, 1.5, 1.0),
        temperature_sd=(2.5, 2.0),
        cloud_temperature_effect=(0.5, -1.5),
        rain_intensity=1.5,
        pressure_sd=600.0,
        wind_mean=(0.5, 0.3),
        wind_sd=2.0,
    ),
    # Boreal: long cold winters with snow, polar night and midnight sun.
    "sodankyla": SiteClimate(
        temperature=(-13.0, -12.0, -7.6, -1.9, 5.0, 11.2, 14.5, 11.7, 6.4, -0.2, -7.5, -11.5),
        diurnal_range=(1.5, 4.0, 8.0, 9.0, 9.0, 10.0, 10.0, 9.0, 7.0, 4.0, 2.0, 1.0),
        precipitation=(35.0, 27.0, 27.0, 28.0, 38.0, 58.0, 75.0, 68.0, 50.0, 48.0, 40.0, 35.0),
        cloud_cover=(0.75, 0.7, 0.65, 0.65, 0.65, 0.62, 0.62, 0.68, 0.72, 0.8, 0.82, 0.8),
        dewpoint_depression=(0.5, 0.5, 0.8, 1.0, 1.5, 2.0, 1.5, 1.0, 0.5, 0.3, 0.3, 0.3),
        temperature_sd=(5.5, 2.5),
        cloud_temperature_effect=(2.5, -1.0),
        rain_intensity=1.0,
        pressure_sd=1100.0,
        wind_mean=(0.8, 0.2),
        wind_sd=2.3,
    ),
    # Temperate maritime: mild, precipitation spread evenly over the year.
    "reusel": SiteClimate(
        temperature=(3.3, 3.7, 6.5, 9.9, 13.5, 16.4, 18.4, 18.0, 14.8, 10.9, 6.9, 3.9),
        diurnal_range=(5.0, 6.0, 8.0, 10.0, 10.0, 10.0, 10.0, 10.0, 9.0, 8.0, 6.0, 5.0),
        precipitation=(70.0, 58.0, 62.0, 48.0, 60.0, 68.0, 75.0, 75.0, 70.0, 72.0, 72.0, 72.0),
        cloud_cover=(0.75, 0.7, 0.68, 0.6, 0.6, 0.62, 0.62, 0.6, 0.62, 0.68, 0.75, 0.78),
        dewpoint_depression=(0.3, 0.5, 1.0, 1.8, 2.0, 2.0, 2.0, 1.5, 1.0, 0.5, 0.3, 0.3),
        temperature_sd=(3.0, 2.2),
        cloud_temperature_effect=(1.5, -1.5),
        rain_intensity=1.0,
        pressure_sd=1000.0,
        wind_mean=(1.8, 0.8),
        wind_sd=3.0,
    ),
}

SOLAR_CONSTANT = 1361.0
"""[W m-2] total solar irradiance at 1 au (Kopp and Lean 2011, doi:10.1029/2010GL045777)."""
STEFAN_BOLTZMANN = 5.670374419e-8
"""[W m-2 K-4] Stefan-Boltzmann constant (CODATA 2018)."""
DRY_AIR_GAS_CONSTANT = 287.05
"""[J kg-1 K-1] specific gas constant of dry air."""
SEA_LEVEL_PRESSURE = 101325.0
"""[Pa] mean sea-level pressure."""

# Time scales [h] of the AR(1) processes and how they combine.
TEMPERATURE_TIMESCALE = 72.0
SYNOPTIC_TIMESCALE = 48.0
FAST_CLOUD_TIMESCALE = 4.0
RAIN_TIMESCALE = 3.0
DEWPOINT_NOISE_TIMESCALE = 6.0
WIND_TIMESCALE = 12.0
SYNOPTIC_CLOUD_SHARE = 0.6
"""Fraction of the cloud latent variance that is synoptic (the rest is the fast part)."""
CLOUD_SPREAD = 1.5
"""Slope ``a`` of the cloud cover ``Phi(a z + m)``: larger gives more clear/overcast hours."""
RAIN_CLOUD_CORRELATION = 0.8
RAIN_INTENSITY_SHAPE = 0.75
"""Shape of the gamma distribution of wet-hour intensities (mean kept)."""
RAIN_INTENSITY_TEMPERATURE_SCALING = 0.05
"""[K-1] relative change of the wet-hour intensity with climatological temperature."""
RAINY_HOUR_MIN_CLOUD = 0.9
TEMPERATURE_MAX_HOUR = 15.0
"""[h] local solar time of the daily temperature maximum."""
DEWPOINT_NOISE_SD = 0.5
"""[K] standard deviation of the hourly dew-point noise."""
DAYTIME_WIND_GAIN = 0.4
"""Relative increase of the wind speed with the sine of the solar elevation (mixing)."""
STORM_WIND_GAIN = 0.15
"""Relative wind increase per standard deviation of low pressure."""
PRESSURE_CLOUD_LOADING = -0.6
"""Correlation of the pressure anomaly with the synoptic cloud latent (clouds: low)."""
DIURNAL_RANGE_CLOUD_SENSITIVITY = 0.3
"""Relative shrinking of the diurnal temperature range per synoptic cloud sd."""
DEPRESSION_CLOUD_SENSITIVITY = 0.5
"""Relative shrinking of the dew-point depression per synoptic cloud sd (moist cloudy air)."""

# Meinel/Laue clear-sky beam and the diffuse share added to it.
CLEAR_SKY_BEAM_TRANSMITTANCE = 0.7
CLEAR_SKY_AIR_MASS_EXPONENT = 0.678
LAUE_ALTITUDE_COEFFICIENT = 0.14
"""[km-1] increase of the clear-sky beam fraction with site altitude (Laue 1970)."""
DIFFUSE_FACTOR = 1.1
# Kasten and Czeplak (1980): G = G_clear (1 - 0.75 n^3.4).
KASTEN_CZEPLAK = (0.75, 3.4)
# Brutsaert (1975): eps_clear = 1.24 (e_a [hPa] / T [K])^(1/7).
BRUTSAERT = (1.24, 1.0 / 7.0)


def _year_fraction(times: np.ndarray) -> np.ndarray:
    """Elapsed fraction [0, 1) of the calendar year at each ``datetime64`` time."""
    seconds = np.asarray(times, dtype="datetime64[s]")
    year = seconds.astype("datetime64[Y]")
    year_start = year.astype("datetime64[s]")
    year_length = (year + np.timedelta64(1, "Y")).astype("datetime64[s]") - year_start
    return (seconds - year_start).astype(np.float64) / year_length.astype(np.float64)


def _seasonal(monthly: Monthly, year_fraction: np.ndarray) -> np.ndarray:
    """Smooth seasonal curve through 12 monthly means: Fourier series to the 3rd harmonic.

    Month ``m`` (0 = January) is centred at year fraction ``(m + 0.5) / 12``; the annual
    mean of the curve equals the mean of the table.
    """
    values = np.asarray(monthly, dtype=np.float64)
    centres = 2.0 * np.pi * (np.arange(12) + 0.5) / 12.0
    angle = 2.0 * np.pi * year_fraction
    curve = np.full_like(angle, values.mean())
    for k in (1, 2, 3):
        a_k = 2.0 / 12.0 * np.sum(values * np.cos(k * centres))
        b_k = 2.0 / 12.0 * np.sum(values * np.sin(k * centres))
        curve += a_k * np.cos(k * angle) + b_k * np.sin(k * angle)
    return curve


def _winter_summer(pair: tuple[float, float], year_fraction: np.ndarray) -> np.ndarray:
    """Cosine blend of a (mid-January, mid-July) pair of values (Northern Hemisphere)."""
    summer_weight = 0.5 * (1.0 - np.cos(2.0 * np.pi * (year_fraction - 15.0 / 365.0)))
    return pair[0] + (pair[1] - pair[0]) * summer_weight


def _ar1(rng: np.random.Generator, n: int, timescale: float) -> np.ndarray:
    """Stationary AR(1) series of unit variance and e-folding time ``timescale`` [steps]."""
    rho = np.exp(-1.0 / timescale)
    noise = rng.standard_normal(n)
    innovation = np.sqrt(1.0 - rho**2) * noise
    innovation[0] = noise[0]
    return lfilter([1.0], [1.0, -rho], innovation)


def _solar_position(times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Declination [rad], equation of time [min] and eccentricity factor [1] (Spencer 1971,
    the model's own series in :mod:`tccas.model.kernels.astronomy`)."""
    day_of_year = 1.0 + 365.0 * _year_fraction(times)
    return (declination(day_of_year), 60.0 * equation_of_time(day_of_year),
            earth_sun_distance_factor(day_of_year))


def _hour_angle(times: np.ndarray, longitude: float) -> np.ndarray:
    """Solar hour angle [rad] in [-pi, pi) at ``datetime64`` UTC times (0 at solar noon)."""
    _, equation_of_time, _ = _solar_position(times)
    seconds = np.asarray(times, dtype="datetime64[s]")
    utc_hours = (seconds - seconds.astype("datetime64[D]")).astype(np.float64) / SECONDS_PER_HOUR
    solar_hours = utc_hours + longitude / 15.0 + equation_of_time / 60.0
    return np.mod(np.pi * (solar_hours - 12.0) / 12.0 + np.pi, 2.0 * np.pi) - np.pi


def cos_solar_zenith(latitude: float, longitude: float, times: np.ndarray) -> np.ndarray:
    """Cosine of the solar zenith angle [1] at instants (negative with the sun down).

    Parameters
    ----------
    latitude : [degree_north] site latitude.
    longitude : [degree_east] site longitude.
    times : datetime64 UTC instants.

    References
    ----------
    Spencer (1971), Search 2(5), 172 (declination, equation of time).
    """
    declination = _solar_position(times)[0]
    phi = np.deg2rad(latitude)
    return np.sin(phi) * np.sin(declination) + np.cos(phi) * np.cos(declination) * np.cos(
        _hour_angle(times, longitude)
    )


def hourly_mean_cos_zenith(
    latitude: float, longitude: float, hour_end: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Exact mean of max(cos zenith, 0) over each hour ``(hour_end - 1h, hour_end]``.

    The model's own analytic hour integral
    (:func:`tccas.model.kernels.astronomy.hour_cos_zenith`): with the declination at its
    mid-hour value, cos Z is integrated over the part of the hour with the sun up, so
    sunrise and sunset inside an hour, polar night and midnight sun are exact.

    Parameters
    ----------
    latitude : [degree_north] site latitude.
    longitude : [degree_east] site longitude.
    hour_end : datetime64 UTC ends of the hours.

    Returns
    -------
    mean_cos_zenith : [1] hourly mean of ``max(cos Z, 0)``.
    sunlit_fraction : [1] fraction of the hour with the sun above the horizon.

    References
    ----------
    Spencer (1971), Search 2(5), 172 (declination, equation of time).
    """
    end = np.asarray(hour_end, dtype="datetime64[s]")
    start = end - np.timedelta64(3600, "s")
    day_of_year = 1.0 + 365.0 * _year_fraction(end - np.timedelta64(1800, "s"))
    utc_hour = (start - start.astype("datetime64[D]")).astype(np.float64) / SECONDS_PER_HOUR
    mean_cos = np.empty(day_of_year.shape)
    sunlit = np.empty(day_of_year.shape)
    hour_cos_zenith_series(latitude, longitude, day_of_year, utc_hour, mean_cos, sunlit)
    return mean_cos, sunlit


def clear_sky_shortwave(
    mean_cos_zenith: np.ndarray,
    sunlit_fraction: np.ndarray,
    eccentricity: np.ndarray,
    elevation: float,
) -> np.ndarray:
    """Hourly mean clear-sky global shortwave irradiance [W m-2] on a horizontal surface.

    ``G = 1.1 S0 E0 mu [(1 - 0.14 z) 0.7^(AM^0.678) + 0.14 z]`` (Meinel and Meinel 1976
    with Laue's 1970 altitude term, 10 % diffuse added to the beam), the air mass AM of
    Kasten and Young (1989) taken at the mean zenith angle of the sunlit part of the hour.

    Parameters
    ----------
    mean_cos_zenith : [1] hourly mean of max(cos Z, 0) (:func:`hourly_mean_cos_zenith`).
    sunlit_fraction : [1] fraction of the hour with the sun up.
    eccentricity : [1] (mean / actual Sun-Earth distance)^2.
    elevation : [m] site altitude.

    Returns
    -------
    numpy.ndarray
        [W m-2] clear-sky global irradiance, 0 where the sun stays below the horizon.

    References
    ----------
    Meinel and Meinel (1976), Applied Solar Energy; Laue (1970), Solar Energy 13, 43-57;
    Kasten and Young (1989), doi:10.1364/AO.28.004735.
    """
    sunlit_cos = np.where(
        sunlit_fraction > 0.0, mean_cos_zenith / np.maximum(sunlit_fraction, 1e-12), 0.0
    )
    zenith_deg = np.rad2deg(np.arccos(np.clip(sunlit_cos, 0.0, 1.0)))
    air_mass = 1.0 / (
        sunlit_cos + 0.50572 * np.power(np.maximum(96.07995 - zenith_deg, 1e-3), -1.6364)
    )
    altitude_share = LAUE_ALTITUDE_COEFFICIENT * elevation / 1000.0
    beam = (1.0 - altitude_share) * CLEAR_SKY_BEAM_TRANSMITTANCE ** (
        air_mass**CLEAR_SKY_AIR_MASS_EXPONENT
    ) + altitude_share
    return DIFFUSE_FACTOR * SOLAR_CONSTANT * eccentricity * mean_cos_zenith * beam


def cloudy_shortwave(clear_sky: np.ndarray, cloud_cover: np.ndarray) -> np.ndarray:
    """All-sky shortwave [W m-2] from clear-sky shortwave [W m-2] and cloud cover [1].

    ``G = G_clear (1 - 0.75 n^3.4)`` (Kasten and Czeplak 1980,
    doi:10.1016/0038-092X(80)90391-6).
    """
    reduction, exponent = KASTEN_CZEPLAK
    return clear_sky * (1.0 - reduction * np.power(cloud_cover, exponent))


def longwave_down(
    air_temperature: np.ndarray, vapour_pressure: np.ndarray, cloud_cover: np.ndarray
) -> np.ndarray:
    """Downward longwave irradiance [W m-2] from the Brutsaert clear-sky emissivity and cloud.

    ``eps_clear = 1.24 (e_a / T)^(1/7)`` with ``e_a`` in hPa (Brutsaert 1975,
    doi:10.1029/WR011i005p00742), ``eps = n + (1 - n) eps_clear`` (Crawford and Duchon
    1999, doi:10.1175/1520-0450(1999)038<0474:AIPFEE>2.0.CO;2), ``L = eps sigma T^4``.

    Parameters
    ----------
    air_temperature : [K] screen-level air temperature.
    vapour_pressure : [Pa] actual vapour pressure.
    cloud_cover : [1] cloud fraction.
    """
    coefficient, exponent = BRUTSAERT
    clear = coefficient * np.power(vapour_pressure / 100.0 / air_temperature, exponent)
    emissivity = cloud_cover + (1.0 - cloud_cover) * clear
    return emissivity * STEFAN_BOLTZMANN * air_temperature**4


def _climate(site: Site) -> SiteClimate:
    try:
        return CLIMATES[site.name]
    except KeyError:
        raise TccasInputError(
            f"the weather generator has no climate for site '{site.name}'; it knows "
            f"{', '.join(sorted(CLIMATES))}"
        ) from None


def _stream(seed: int, site: Site) -> np.random.Generator:
    """Generator seeded by ``seed`` and a stable hash of the site name."""
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise TccasInputError(
            f"weather generator seed must be a non-negative integer, got {seed!r}"
        )
    return np.random.default_rng([int(seed), zlib.crc32(site.name.encode())])


VARIABLE_ATTRS: dict[str, dict[str, str]] = {
    "t2m": {"units": "K", "long_name": "2 metre temperature"},
    "d2m": {"units": "K", "long_name": "2 metre dewpoint temperature"},
    "sp": {"units": "Pa", "long_name": "Surface pressure", "standard_name": "surface_air_pressure"},
    "u10": {"units": "m s**-1", "long_name": "10 metre U wind component"},
    "v10": {"units": "m s**-1", "long_name": "10 metre V wind component"},
    "ssrd": {"units": "J m**-2", "long_name": "Surface short-wave (solar) radiation downwards"},
    "strd": {"units": "J m**-2", "long_name": "Surface long-wave (thermal) radiation downwards"},
    "tp": {"units": "m", "long_name": "Total precipitation"},
}


def generate_era5_weather(
    site: Site | str, start: DateLike, end: DateLike, seed: int = 0
) -> xr.Dataset:
    """Generate hourly weather for a built-in site as an ERA5 dataset (new CDS layout).

    Parameters
    ----------
    site : a :class:`~tccas.catalog.sites.Site` or the name of a built-in site.
    start, end : first and last UTC day (inclusive, whole days).
    seed : non-negative integer; the same seed gives identical output.

    Returns
    -------
    xarray.Dataset
        Coordinate ``valid_time`` (hourly UTC, from ``start`` 00:00 to the day after
        ``end`` 00:00, so that :func:`~tccas.catalog.era5.era5_to_forcing` yields exactly
        ``24 * n_days`` model hours), scalar ``latitude``, ``longitude``, ``number`` and a
        string ``expver`` along ``valid_time``. Float32 variables: ``t2m``, ``d2m`` [K],
        ``sp`` [Pa], ``u10``, ``v10`` [m s-1] at ``valid_time``; ``ssrd``, ``strd``
        [J m-2] and ``tp`` [m] accumulated over the hour ending at ``valid_time``.

    Raises
    ------
    TccasInputError
        Unknown site, a site without climate table, bad dates or seed.
    """
    site = get_site(site) if isinstance(site, str) else site
    climate = _climate(site)
    rng = _stream(seed, site)
    model_hours = utc_day_hours(start, end)
    # Instants t_-1 .. t_N: the valid times plus the instant before the first, so that the
    # first accumulation (hour ending at start 00:00) has both of its ends.
    instants = (model_hours[0] - np.timedelta64(1, "h")) + np.arange(
        model_hours.size + 2
    ).astype("timedelta64[h]")
    n = instants.size
    season = _year_fraction(instants)

    synoptic = _ar1(rng, n, SYNOPTIC_TIMESCALE)
    cloud_latent = np.sqrt(SYNOPTIC_CLOUD_SHARE) * synoptic + np.sqrt(
        1.0 - SYNOPTIC_CLOUD_SHARE
    ) * _ar1(rng, n, FAST_CLOUD_TIMESCALE)
    mean_cloud = _seasonal(climate.cloud_cover, season)
    cloud_offset = np.sqrt(1.0 + CLOUD_SPREAD**2) * ndtri(mean_cloud)
    cloud = ndtr(CLOUD_SPREAD * cloud_latent + cloud_offset)

    # Precipitation of the hour ending at each instant.
    climate_temperature = _seasonal(climate.temperature, season)
    intensity = climate.rain_intensity * np.exp(
        RAIN_INTENSITY_TEMPERATURE_SCALING * (climate_temperature - 10.0)
    )
    mean_rate = np.maximum(_seasonal(climate.precipitation, season), 0.0) * 12.0 / (365.2425 * 24.0)
    wet_frequency = np.clip(mean_rate / intensity, 1.0e-5, 0.5)
    rain_latent = RAIN_CLOUD_CORRELATION * cloud_latent + np.sqrt(
        1.0 - RAIN_CLOUD_CORRELATION**2
    ) * _ar1(rng, n, RAIN_TIMESCALE)
    wet = rain_latent > ndtri(1.0 - wet_frequency)
    amount = intensity * rng.gamma(RAIN_INTENSITY_SHAPE, 1.0 / RAIN_INTENSITY_SHAPE, n)
    precipitation_mm = np.where(wet, amount, 0.0)
    cloud = np.where(wet, np.maximum(cloud, RAINY_HOUR_MIN_CLOUD), cloud)

    # Temperature and humidity at each instant.
    anomaly = _winter_summer(climate.temperature_sd, season) * _ar1(
        rng, n, TEMPERATURE_TIMESCALE
    ) + _winter_summer(climate.cloud_temperature_effect, season) * synoptic
    daily_mean = climate_temperature + anomaly
    diurnal_range = _seasonal(climate.diurnal_range, season) * np.clip(
        1.0 - DIURNAL_RANGE_CLOUD_SENSITIVITY * synoptic, 0.3, 1.6
    )
    hour_angle = _hour_angle(instants, site.longitude)
    solar_hour = 12.0 + 12.0 * hour_angle / np.pi
    temperature = daily_mean + 0.5 * diurnal_range * np.cos(
        2.0 * np.pi * (solar_hour - TEMPERATURE_MAX_HOUR) / 24.0
    )
    depression = _seasonal(climate.dewpoint_depression, season) * np.clip(
        1.0 - DEPRESSION_CLOUD_SENSITIVITY * synoptic, 0.0, 2.0
    )
    dewpoint = np.minimum(
        daily_mean - 0.5 * diurnal_range - depression
        + DEWPOINT_NOISE_SD * _ar1(rng, n, DEWPOINT_NOISE_TIMESCALE),
        temperature,
    )
    t_kelvin = temperature + ZERO_CELSIUS

    # Pressure: hypsometric mean at the site plus a synoptic anomaly (low with clouds).
    pressure_anomaly = PRESSURE_CLOUD_LOADING * synoptic + np.sqrt(
        1.0 - PRESSURE_CLOUD_LOADING**2
    ) * _ar1(rng, n, SYNOPTIC_TIMESCALE)
    mean_pressure = SEA_LEVEL_PRESSURE * np.exp(
        -STANDARD_GRAVITY * site.elevation
        / (DRY_AIR_GAS_CONSTANT * (climate_temperature + ZERO_CELSIUS))
    )
    pressure = mean_pressure + climate.pressure_sd * pressure_anomaly

    # Wind: prevailing + turbulent components, stronger by day and in low pressure.
    cos_zenith = cos_solar_zenith(site.latitude, site.longitude, instants)
    gain = (1.0 + DAYTIME_WIND_GAIN * np.maximum(cos_zenith, 0.0)) * np.exp(
        -STORM_WIND_GAIN * pressure_anomaly
    )
    u10 = gain * (climate.wind_mean[0] + climate.wind_sd * _ar1(rng, n, WIND_TIMESCALE))
    v10 = gain * (climate.wind_mean[1] + climate.wind_sd * _ar1(rng, n, WIND_TIMESCALE))

    # Hour means over (instant[k-1], instant[k]] for the radiation accumulations.
    mean_cos, sunlit = hourly_mean_cos_zenith(site.latitude, site.longitude, instants[1:])
    _, _, eccentricity_mid = _solar_position(
        instants[1:].astype("datetime64[m]") - np.timedelta64(30, "m")
    )
    hour_cloud = 0.5 * (cloud[:-1] + cloud[1:])
    shortwave = cloudy_shortwave(
        clear_sky_shortwave(mean_cos, sunlit, eccentricity_mid, site.elevation), hour_cloud
    )
    longwave_instant = longwave_down(t_kelvin, saturation_vapour_pressure(dewpoint), cloud)
    longwave = 0.5 * (longwave_instant[:-1] + longwave_instant[1:])

    valid_time = instants[1:].astype("datetime64[ns]")
    values = {
        "t2m": t_kelvin[1:],
        "d2m": dewpoint[1:] + ZERO_CELSIUS,
        "sp": pressure[1:],
        "u10": u10[1:],
        "v10": v10[1:],
        "ssrd": shortwave * SECONDS_PER_HOUR,
        "strd": longwave * SECONDS_PER_HOUR,
        "tp": precipitation_mm[1:] / 1000.0,
    }
    ds = xr.Dataset(
        {
            name: ("valid_time", data.astype(np.float32), VARIABLE_ATTRS[name])
            for name, data in values.items()
        },
        coords={
            "valid_time": ("valid_time", valid_time, {"standard_name": "time"}),
            "latitude": ((), site.latitude, {"units": "degrees_north"}),
            "longitude": ((), site.longitude, {"units": "degrees_east"}),
            "number": ((), 0, {"long_name": "ensemble member numerical id"}),
            "expver": ("valid_time", np.full(valid_time.size, "0001")),
        },
        attrs={
            "Conventions": "CF-1.7",
            "institution": "tccas synthetic weather generator (tccas.catalog.weather)",
            "site": site.name,
            "seed": int(seed),
            "accumulation_convention": "ssrd, strd, tp: amount over the hour ending at valid_time",
        },
    )
    ds["valid_time"].encoding.update(
        {"units": "seconds since 1970-01-01", "calendar": "proleptic_gregorian"}
    )
    return ds


def site_forcing(site: Site | str, start: DateLike, end: DateLike, seed: int = 0) -> Forcing:
    """Generated hourly forcing for a built-in site: :func:`generate_era5_weather` converted.

    Parameters
    ----------
    site : a :class:`~tccas.catalog.sites.Site` or the name of a built-in site.
    start, end : first and last UTC day (inclusive, whole days).
    seed : non-negative integer.

    Returns
    -------
    Forcing
        One cell, ``24 * n_days`` hours from ``start`` 00:00 UTC, SI units, CO2 from the
        NOAA global annual mean (:func:`tccas.catalog.co2.co2_mole_fraction`).
    """
    site = get_site(site) if isinstance(site, str) else site
    weather = generate_era5_weather(site, start, end, seed)
    return era5_to_forcing(weather, source=f"weather generator (site {site.name}, seed {seed})")
