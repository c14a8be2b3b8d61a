"""Atmospheric CO2 mole fraction for forcing that carries none (ERA5, FLUXNET ERAI).

The model's CO2 input (MODEL_SPEC 4.1, PROPOSED: an annual global mean) comes from the
NOAA GML globally averaged marine-surface annual means. Each annual mean is placed at the
middle of its year and the series is interpolated linearly in time; before the first and
after the last tabulated year it is extrapolated linearly with the least-squares trend of
the nearest :data:`EXTRAPOLATION_YEARS` years.

References
----------
Lan, X., Tans, P. and Thoning, K. W.: Trends in globally-averaged CO2 determined from NOAA
Global Monitoring Laboratory measurements, version of 2025-08-05,
https://gml.noaa.gov/ccgg/trends/gl_data.html, doi:10.15138/9N0H-ZH07.
"""

from __future__ import annotations

import numpy as np

# year -> [ppm] NOAA GML global annual mean (file co2_annmean_gl, created 2025-08-05).
# NOAA revises earlier years slightly between releases (e.g. 2015 was 399.4 ppm in older
# files); the differences, < 0.3 ppm, are far below what photosynthesis can resolve.
NOAA_GLOBAL_ANNUAL_MEAN_PPM: dict[int, float] = {
    1979: 336.85, 1980: 338.91, 1981: 340.11, 1982: 340.86, 1983: 342.53, 1984: 344.07,
    1985: 345.54, 1986: 346.97, 1987: 348.68, 1988: 351.16, 1989: 352.79, 1990: 354.06,
    1991: 355.39, 1992: 356.09, 1993: 356.83, 1994: 358.33, 1995: 360.17, 1996: 361.93,
    1997: 363.04, 1998: 365.70, 1999: 367.79, 2000: 368.96, 2001: 370.56, 2002: 372.58,
    2003: 375.14, 2004: 376.95, 2005: 378.98, 2006: 381.15, 2007: 382.90, 2008: 385.02,
    2009: 386.50, 2010: 388.75, 2011: 390.62, 2012: 392.65, 2013: 395.40, 2014: 397.34,
    2015: 399.65, 2016: 403.06, 2017: 405.22, 2018: 407.61, 2019: 410.07, 2020: 412.44,
    2021: 414.70, 2022: 417.08, 2023: 419.36, 2024: 422.80,
}

EXTRAPOLATION_YEARS = 10
"""Number of table years whose linear trend extends the series beyond either end."""


def _decimal_year(times: np.ndarray) -> np.ndarray:
    """Calendar year plus the elapsed fraction of it, from ``datetime64`` values."""
    times = np.asarray(times, dtype="datetime64[s]")
    year_start = times.astype("datetime64[Y]")
    next_year = year_start + np.timedelta64(1, "Y")
    elapsed = (times - year_start.astype("datetime64[s]")).astype(np.float64)
    length = (next_year.astype("datetime64[s]") - year_start.astype("datetime64[s]")).astype(
        np.float64
    )
    return year_start.astype(np.int64) + 1970 + elapsed / length


def co2_ppm(decimal_year: np.ndarray | float) -> np.ndarray:
    """Global-mean CO2 [ppm] at decimal years (annual means at mid-year, linear between).

    Parameters
    ----------
    decimal_year : [year] e.g. 2015.5 for the middle of 2015.

    Returns
    -------
    numpy.ndarray
        [ppm] (umol mol-1) CO2 dry-air mole fraction, same shape as ``decimal_year``.
    """
    x = np.asarray(decimal_year, dtype=np.float64)
    years = np.array(sorted(NOAA_GLOBAL_ANNUAL_MEAN_PPM), dtype=np.float64)
    centres = years + 0.5
    values = np.array([NOAA_GLOBAL_ANNUAL_MEAN_PPM[int(y)] for y in years])
    result = np.interp(x, centres, values)
    n = EXTRAPOLATION_YEARS
    early_slope = np.polyfit(centres[:n], values[:n], 1)[0]
    late_slope = np.polyfit(centres[-n:], values[-n:], 1)[0]
    # Shift the fitted lines so that they join the table continuously at either end.
    early = values[0] + early_slope * (x - centres[0])
    late = values[-1] + late_slope * (x - centres[-1])
    result = np.where(x < centres[0], early, result)
    return np.where(x > centres[-1], late, result)


def co2_mole_fraction(times: np.ndarray) -> np.ndarray:
    """Global-mean atmospheric CO2 mole fraction [mol mol-1] at the given times.

    Parameters
    ----------
    times : numpy.ndarray of datetime64
        UTC times (any datetime64 unit).

    Returns
    -------
    numpy.ndarray
        [mol mol-1] CO2 dry-air mole fraction (ppm x 1e-6), float64, same shape as ``times``.

    References
    ----------
    NOAA GML global annual means, doi:10.15138/9N0H-ZH07 (see the module docstring).
    """
    return co2_ppm(_decimal_year(np.asarray(times))) * 1.0e-6
