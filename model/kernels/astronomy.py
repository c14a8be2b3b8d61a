"""Solar geometry: declination, equation of time and hour-mean cosine of the zenith angle.

Spencer (1971) Fourier series, "Fourier series representation of the position of the sun",
Search 2(5):172. The hour mean of the cosine of the solar zenith angle is integrated
analytically over the sunlit part of the hour (Iqbal 1983, An Introduction to Solar
Radiation, Academic Press, ch. 1).

The Spencer series use ``np.sin``/``np.cos`` so that Numba compiles them for scalars (the
model's hourly loop) and for arrays (the weather generator): one source for both.
"""

import math

import numpy as np

from tccas.model.kernels import kernel
from tccas.model.parameters import constant

SOLAR_CONSTANT = constant("SOLAR_CONSTANT")
TWO_PI = 2.0 * math.pi


@kernel
def declination(day_of_year: float) -> float:
    """Solar declination [rad] for a (fractional) day of year (Spencer 1971)."""
    g = TWO_PI * (day_of_year - 1.0) / 365.0
    return (
        0.006918 - 0.399912 * np.cos(g) + 0.070257 * np.sin(g)
        - 0.006758 * np.cos(2 * g) + 0.000907 * np.sin(2 * g)
        - 0.002697 * np.cos(3 * g) + 0.00148 * np.sin(3 * g)
    )


@kernel
def equation_of_time(day_of_year: float) -> float:
    """Equation of time [h] (apparent minus mean solar time; Spencer 1971)."""
    g = TWO_PI * (day_of_year - 1.0) / 365.0
    minutes = 229.18 * (
        0.000075 + 0.001868 * np.cos(g) - 0.032077 * np.sin(g)
        - 0.014615 * np.cos(2 * g) - 0.040849 * np.sin(2 * g)
    )
    return minutes / 60.0


@kernel
def earth_sun_distance_factor(day_of_year: float) -> float:
    """(r0 / r)^2, the eccentricity correction of extraterrestrial irradiance [-]."""
    g = TWO_PI * (day_of_year - 1.0) / 365.0
    return (
        1.000110 + 0.034221 * np.cos(g) + 0.001280 * np.sin(g)
        + 0.000719 * np.cos(2 * g) + 0.000077 * np.sin(2 * g)
    )


@kernel
def _integral_cos_zenith(a: float, b: float, h1: float, h2: float) -> float:
    """Integral of a + b cos(h) dh over [h1, h2]."""
    return a * (h2 - h1) + b * (math.sin(h2) - math.sin(h1))


@kernel
def hour_cos_zenith(sin_latitude: float, cos_latitude: float, longitude_deg: float,
                    sin_declination: float, cos_declination: float,
                    equation_of_time_h: float, utc_hour: float) -> tuple[float, float, float]:
    """Sun over the hour ``[utc_hour, utc_hour + 1)``.

    Returns
    -------
    mu_hour : [-] mean of max(cos zenith, 0) over the whole hour.
    sunlit_fraction : [-] fraction of the hour with the sun above the horizon.
    mu_noon : [-] cos zenith at local solar noon (for canopy nitrogen scaling).
    """
    a = sin_latitude * sin_declination
    b = cos_latitude * cos_declination
    mu_noon = a + b
    solar_time = utc_hour + 0.5 + longitude_deg / 15.0 + equation_of_time_h
    h_mid = (solar_time - 12.0) * math.pi / 12.0
    h_mid = (h_mid + math.pi) % TWO_PI - math.pi
    half = math.pi / 24.0
    h1 = h_mid - half
    h2 = h_mid + half
    if b <= 1e-12 or -a / b <= -1.0:
        h_set = math.pi  # polar day: sun up all day
    elif -a / b >= 1.0:
        return 0.0, 0.0, mu_noon  # polar night
    else:
        h_set = math.acos(-a / b)
    total = 0.0
    lit = 0.0
    for shift in (-TWO_PI, 0.0, TWO_PI):
        lo = max(h1, -h_set + shift)
        hi = min(h2, h_set + shift)
        if hi > lo:
            total += _integral_cos_zenith(a, b, lo - shift, hi - shift)
            lit += hi - lo
    width = h2 - h1
    return max(total / width, 0.0), lit / width, mu_noon


@kernel
def solar_calendar(day_of_year: "float[:]", sin_declination: "float[:]",
                   cos_declination: "float[:]", equation_of_time_h: "float[:]",
                   distance_factor: "float[:]") -> None:
    """Fill the per-hour solar series for fractional days of year (computed once per run
    and shared by all tiles)."""
    for h in range(day_of_year.shape[0]):
        delta = declination(day_of_year[h])
        sin_declination[h] = math.sin(delta)
        cos_declination[h] = math.cos(delta)
        equation_of_time_h[h] = equation_of_time(day_of_year[h])
        distance_factor[h] = earth_sun_distance_factor(day_of_year[h])


@kernel
def hour_cos_zenith_series(latitude_deg: float, longitude_deg: float,
                           day_of_year: "float[:]", utc_hour: "float[:]",
                           mu_hour: "float[:]", sunlit_fraction: "float[:]") -> None:
    """:func:`hour_cos_zenith` for a series of hours at one place (``day_of_year`` at the
    middle of each hour, ``utc_hour`` its start); fills ``mu_hour`` and
    ``sunlit_fraction``."""
    sin_lat = math.sin(math.radians(latitude_deg))
    cos_lat = math.cos(math.radians(latitude_deg))
    for h in range(day_of_year.shape[0]):
        delta = declination(day_of_year[h])
        mu, lit, _ = hour_cos_zenith(sin_lat, cos_lat, longitude_deg, math.sin(delta),
                                     math.cos(delta), equation_of_time(day_of_year[h]),
                                     utc_hour[h])
        mu_hour[h] = mu
        sunlit_fraction[h] = lit
