"""FLUXNET2015 and PLUMBER2 tower data: site meteorology as model forcing, fluxes for validation.

Readers (EO_FORMATS.md 5, gotcha 8):

* :func:`read_erai_forcing`: the FLUXNET2015 ``ERAI`` auxiliary CSV (downscaled
  ERA-Interim, half-hourly, local standard time).
* :func:`read_plumber_forcing`: a PLUMBER2 (ALMA) ``*_Met.nc`` file.
* :func:`read_fullset`: a FLUXNET2015 FULLSET/SUBSET CSV at any resolution (HH, HR, DD,
  WW, MM, YY), ``-9999`` as NaN, QC columns kept.
* :func:`daily_observed_fluxes`: daily GPP and NEE [gC m-2 d-1] from a FULLSET DD/HH/HR
  CSV or a PLUMBER2 ``*_Flux.nc`` file.
* :func:`read_tower_fluxes`: half-hourly or hourly NEE or GPP [gC m-2 d-1] of a FULLSET/
  SUBSET HH/HR CSV or a PLUMBER2 ``*_Flux.nc`` file as a canonical observation table
  (:mod:`tccas.catalog.observations`; UTC times, QC screening, the tower as a point
  footprint), the reader of the catalogue's ``nee`` and ``gpp`` streams (product
  ``fluxnet`` of :data:`tccas.catalog.catalogue_sources.PRODUCTS`).

Time conventions:

* FLUXNET CSV time stamps (``TIMESTAMP_START``/``TIMESTAMP_END``, ``YYYYMMDDHHMM``) are
  local *standard* time with no daylight saving; the caller gives the site's UTC offset.
* PLUMBER2 files (FluxnetLSM, Ukkola et al. 2022) carry the same local standard time in
  ``time`` (``seconds since <year>-01-01 00:00:00``, no time zone attribute), stamped at
  the *start* of each half hour. Measured on DK-Fou 2005 (9.59 E, UTC+1): the
  shortwave-weighted mean time of day of the record centres is 12:21 in file time, the
  local standard solar noon is 12:22 and the UTC solar noon 11:22. The files hold no UTC
  offset, so :func:`infer_utc_offset` derives it from that same diurnal shortwave cycle
  unless the caller gives one.

Forcing from tower files: records are shifted to UTC, short gaps (up to
:data:`MAX_GAP` = 6 h, measured inside the requested period) are filled by linear
interpolation (or by holding the nearest value at the edge of the file, which is what
turns a local-time calendar-year file into a full UTC year), longer gaps raise
:class:`~tccas.model.errors.TccasInputError` naming the file, the variable and the time.
Half hours are then averaged to UTC hours ``[t, t + 1h)``; precipitation amounts are
summed over the hour and converted to a rate.

References
----------
Pastorello, G. et al. (2020): The FLUXNET2015 dataset and the ONEFlux processing pipeline
for eddy covariance data. Sci. Data 7, 225, doi:10.1038/s41597-020-0534-3.
Ukkola, A. M., Abramowitz, G. and De Kauwe, M. G. (2022): A flux tower dataset tailored
for land model evaluation. Earth Syst. Sci. Data 14, 449-461,
doi:10.5194/essd-14-449-2022 (PLUMBER2 data: doi:10.25914/5fdb0902607e1).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from tccas.catalog.co2 import co2_mole_fraction
from tccas.catalog.era5 import SECONDS_PER_HOUR, DateLike, utc_day_hours
from tccas.catalog.observations import CORNER_VARIABLES, FOOTPRINT_CORNERS, build_observations
from tccas.catalog.sites import SITES
from tccas.model.errors import TccasInputError
from tccas.model.forcing import Forcing, make_forcing

MISSING_VALUE = -9999
MAX_GAP = np.timedelta64(6, "h")
"""Longest run of missing records that is filled; longer gaps are an error."""

UMOL_CO2_M2_S_TO_GC_M2_D = 12.011e-6 * 86400.0
"""[gC m-2 d-1 per umol CO2 m-2 s-1] molar mass of carbon 12.011 g mol-1 times 86400 s."""

# unit text -> (SI unit, scale, offset): SI = scale * value + offset.
UNIT_CONVERSIONS: dict[str, tuple[str, float, float]] = {
    "K": ("K", 1.0, 0.0),
    "degC": ("K", 1.0, 273.15),
    "deg C": ("K", 1.0, 273.15),
    "W/m2": ("W m-2", 1.0, 0.0),
    "W m-2": ("W m-2", 1.0, 0.0),
    "Pa": ("Pa", 1.0, 0.0),
    "hPa": ("Pa", 100.0, 0.0),
    "kPa": ("Pa", 1000.0, 0.0),
    "kg/m2/s": ("kg m-2 s-1", 1.0, 0.0),
    "kg m-2 s-1": ("kg m-2 s-1", 1.0, 0.0),
    "mm/s": ("kg m-2 s-1", 1.0, 0.0),
    "mm": ("kg m-2", 1.0, 0.0),
    "m/s": ("m s-1", 1.0, 0.0),
    "m s-1": ("m s-1", 1.0, 0.0),
    "ppm": ("mol mol-1", 1.0e-6, 0.0),
    "umol/mol": ("mol mol-1", 1.0e-6, 0.0),
    "umol/m2/s": ("umol m-2 s-1", 1.0, 0.0),
    "umol m-2 s-1": ("umol m-2 s-1", 1.0, 0.0),
}

# FLUXNET2015 ERAI column -> (forcing variable, unit of the column; FLUXNET2015 variable list).
ERAI_COLUMNS: dict[str, tuple[str, str]] = {
    "TA_ERA": ("air_temperature", "degC"),
    "SW_IN_ERA": ("shortwave_down", "W m-2"),
    "LW_IN_ERA": ("longwave_down", "W m-2"),
    "VPD_ERA": ("vapour_pressure_deficit", "hPa"),
    "PA_ERA": ("surface_pressure", "kPa"),
    "P_ERA": ("precipitation", "mm"),
    "WS_ERA": ("wind_speed", "m s-1"),
}

# PLUMBER2 Met variable -> forcing variable (units are read from the file).
PLUMBER_MET_VARIABLES: dict[str, str] = {
    "Tair": "air_temperature",
    "SWdown": "shortwave_down",
    "LWdown": "longwave_down",
    "VPD": "vapour_pressure_deficit",
    "Psurf": "surface_pressure",
    "Precip": "precipitation",
    "Wind": "wind_speed",
    "CO2air": "co2",
}

# Daily validation fluxes: output name -> (FULLSET column, PLUMBER2 variable).
FLUX_VARIABLES: dict[str, tuple[str, str]] = {
    "gpp": ("GPP_NT_VUT_REF", "GPP"),
    "nee": ("NEE_VUT_REF", "NEE"),
}
NEE_QC = ("NEE_VUT_REF_QC", "NEE_qc")
GOOD_QC_MAX = 1
"""Half-hourly QC 0 (measured) and 1 (good-quality gap fill) count as good (FLUXNET2015)."""


def to_si(values: np.ndarray, units: str, source: str, variable: str) -> np.ndarray:
    """Convert values from a tower-file unit to SI with :data:`UNIT_CONVERSIONS`.

    Parameters
    ----------
    values : data in ``units``.
    units : the unit text of the file (e.g. ``"hPa"``, ``"W/m2"``, ``"ppm"``).
    source, variable : file and variable name for the error message.

    Returns
    -------
    numpy.ndarray
        float64 values in the SI unit of the table (``degC`` -> K, ``hPa``/``kPa`` -> Pa,
        ``ppm`` -> mol mol-1, ...).

    Raises
    ------
    TccasInputError
        ``units`` is not in the table.
    """
    try:
        _, scale, offset = UNIT_CONVERSIONS[units.strip()]
    except KeyError:
        raise TccasInputError(
            f"{source}: variable '{variable}' has units {units!r}, which this reader does "
            f"not know ({', '.join(sorted(UNIT_CONVERSIONS))})"
        ) from None
    return np.asarray(values, dtype=np.float64) * scale + offset


def precipitation_amount_to_rate(amount_per_hour: np.ndarray) -> np.ndarray:
    """Precipitation rate [kg m-2 s-1] from the amount fallen in one hour [kg m-2] (= mm)."""
    return np.asarray(amount_per_hour, dtype=np.float64) / SECONDS_PER_HOUR


def umol_co2_to_gc_per_day(flux: np.ndarray) -> np.ndarray:
    """Daily carbon flux [gC m-2 d-1] from a mean CO2 flux [umol CO2 m-2 s-1]."""
    return np.asarray(flux, dtype=np.float64) * UMOL_CO2_M2_S_TO_GC_M2_D


@dataclass(frozen=True)
class PlumberSite:
    """Site description read from a PLUMBER2 file.

    Attributes
    ----------
    code : FLUXNET site id (``site_code``), e.g. ``"DK-Fou"``.
    name : site name.
    latitude, longitude : [degree] tower position.
    elevation : [m] above sea level.
    canopy_height : [m] canopy height.
    reference_height : [m] measurement height of the tower.
    igbp : IGBP vegetation class (short), e.g. ``"CRO"``.
    utc_offset : [h] local standard time minus UTC used for the file's time axis.
    utc_offset_inferred : whether ``utc_offset`` came from :func:`infer_utc_offset`.
    """

    code: str
    name: str
    latitude: float
    longitude: float
    elevation: float
    canopy_height: float
    reference_height: float
    igbp: str
    utc_offset: float
    utc_offset_inferred: bool


def _stamp_digits(values: pd.Series, source: str, column: str) -> int:
    """Number of digits of the first time stamp (12: YYYYMMDDHHMM, 8: YYYYMMDD, ...)."""
    stamps = values.dropna()
    try:
        return len(str(int(stamps.iloc[0])))
    except (IndexError, TypeError, ValueError) as exc:
        raise TccasInputError(f"{source}: column '{column}' holds no time stamps") from exc


# strftime format of integer time stamps -> their fields, most significant first.
_STAMP_FIELDS = {"%Y%m%d%H%M": ("year", "month", "day", "hour", "minute"),
                 "%Y%m%d": ("year", "month", "day"), "%Y%m": ("year", "month"), "%Y": ("year",)}


def _parse_timestamps(values: pd.Series, fmt: str, source: str, column: str) -> pd.DatetimeIndex:
    """Integer stamps (``YYYYMMDDHHMM`` and shorter) split into their fields by integer
    division, then assembled by :func:`pandas.to_datetime` (ten times faster than parsing
    them as text, which dominated the reading of a year of half hours)."""
    fields = _STAMP_FIELDS[fmt]
    digits = 2 * len(fields) + 2
    try:
        exact = values.to_numpy(np.float64)
        if not np.all(np.isfinite(exact) & (exact == np.round(exact))):
            raise ValueError("a stamp is missing or not an integer")
        stamps = exact.astype(np.int64)
        wrong = (stamps < 10 ** (digits - 1)) | (stamps >= 10**digits)
        if np.any(wrong):
            raise ValueError(f"stamp {stamps[np.argmax(wrong)]} has not {digits} digits")
        parts = {"month": 1, "day": 1}
        for position, name in enumerate(reversed(fields)):
            parts[name] = stamps // 100**position % (10**4 if name == "year" else 100)
        return pd.DatetimeIndex(pd.to_datetime(pd.DataFrame(parts, index=values.index))
                                ).as_unit("ns")
    except (TypeError, ValueError) as exc:
        raise TccasInputError(
            f"{source}: column '{column}' does not hold {fmt} time stamps ({exc})"
        ) from exc


def _read_csv(path: Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    if not path.exists():
        raise TccasInputError(f"{path}: file not found")
    wanted = None if columns is None else {*columns, *_STAMP_COLUMNS}
    try:
        frame = pd.read_csv(path, na_values=[MISSING_VALUE, str(MISSING_VALUE)],
                            usecols=None if wanted is None else lambda name: name in wanted)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise TccasInputError(f"{path}: not a FLUXNET CSV file ({exc})") from exc
    return frame


# digits of a time stamp -> (format, resolution) for files with one TIMESTAMP column.
_SINGLE_STAMP = {8: ("%Y%m%d", "DD"), 6: ("%Y%m", "MM"), 4: ("%Y", "YY")}
_STAMP_COLUMNS = ("TIMESTAMP_START", "TIMESTAMP_END", "TIMESTAMP")


def read_fullset(path: str | Path, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """Read a FLUXNET2015 FULLSET/SUBSET (or ONEFlux, ICOS) CSV at any resolution.

    Parameters
    ----------
    path : a ``FLX_<SITE>_FLUXNET2015_<SET>_<RES>_...csv`` file.
    columns : read only these columns (besides the time stamps; names the file lacks are
        simply absent from the result); None reads all (a multi-year FULLSET HH file has
        about 270 columns, so a reader of a few saves most of the parsing).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``time``, the start of each period in local standard time (naive); every
        other column as in the file (QC columns included) with ``-9999`` as NaN. The time
        stamp columns are removed. ``attrs``: ``resolution`` (``"HH"``, ``"HR"``, ``"DD"``,
        ``"WW"``, ``"MM"`` or ``"YY"``), ``source`` (file name), ``time_zone``.

    Raises
    ------
    TccasInputError
        The file is missing, not a CSV, or has no FLUXNET time stamp columns.
    """
    path = Path(path)
    frame = _read_csv(path, columns)
    source = path.name
    if {"TIMESTAMP_START", "TIMESTAMP_END"} <= set(frame.columns):
        digits = _stamp_digits(frame["TIMESTAMP_START"], source, "TIMESTAMP_START")
        fmt = "%Y%m%d%H%M" if digits == 12 else "%Y%m%d"
        start = _parse_timestamps(frame["TIMESTAMP_START"], fmt, source, "TIMESTAMP_START")
        end = _parse_timestamps(frame["TIMESTAMP_END"], fmt, source, "TIMESTAMP_END")
        if digits == 12:
            minutes = int((end[0] - start[0]) / pd.Timedelta(minutes=1))
            resolution = {30: "HH", 60: "HR"}.get(minutes)
            if resolution is None:
                raise TccasInputError(f"{source}: records of {minutes} min are neither HH nor HR")
        else:
            resolution = "WW"
        frame = frame.drop(columns=["TIMESTAMP_START", "TIMESTAMP_END"])
    elif "TIMESTAMP" in frame.columns:
        digits = _stamp_digits(frame["TIMESTAMP"], source, "TIMESTAMP")
        if digits not in _SINGLE_STAMP:
            raise TccasInputError(f"{source}: TIMESTAMP values have {digits} digits")
        fmt, resolution = _SINGLE_STAMP[digits]
        start = _parse_timestamps(frame["TIMESTAMP"], fmt, source, "TIMESTAMP")
        frame = frame.drop(columns=["TIMESTAMP"])
    else:
        raise TccasInputError(
            f"{source}: not a FLUXNET file: no TIMESTAMP_START/TIMESTAMP_END or TIMESTAMP "
            f"column (columns: {', '.join(map(str, frame.columns[:8]))}...)"
        )
    frame.index = start.rename("time")
    frame.attrs = {"resolution": resolution, "source": source, "time_zone": "local standard time"}
    return frame


def _require(available: Sequence[str], required: Sequence[str], source: str) -> None:
    missing = [name for name in required if name not in available]
    if missing:
        raise TccasInputError(
            f"{source}: missing variable(s) {', '.join(repr(m) for m in missing)}"
        )


def _fill_gaps(
    values: np.ndarray, inside: slice, step: np.timedelta64, times_utc: np.ndarray,
    utc_offset: float, source: str, variable: str,
) -> np.ndarray:
    """Fill runs of NaN inside ``inside`` that are at most :data:`MAX_GAP` long."""
    missing = np.isnan(values[inside])
    if not missing.any():
        return values
    edges = np.diff(np.concatenate(([0], missing.astype(np.int8), [0])))
    starts = np.flatnonzero(edges == 1)
    lengths = np.flatnonzero(edges == -1) - starts
    too_long = lengths * step > MAX_GAP
    if too_long.any():
        first = int(np.argmax(too_long))
        utc = times_utc[inside][starts[first]]
        local = utc + np.timedelta64(round(utc_offset * 60), "m")
        hours = lengths[first] * step / np.timedelta64(1, "h")
        raise TccasInputError(
            f"{source}: variable '{variable}' is missing for {hours:g} h (more than "
            f"{MAX_GAP / np.timedelta64(1, 'h'):g} h) from {np.datetime_as_string(local, 'm')} "
            f"local standard time ({np.datetime_as_string(utc, 'm')} UTC)"
        )
    valid = ~np.isnan(values)
    position = np.arange(values.size, dtype=np.float64)
    return np.interp(position, position[valid], values[valid])


def _hourly_utc(
    frame: pd.DataFrame, utc_offset: float, start: DateLike, end: DateLike, source: str,
    summed: Sequence[str] = (),
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """UTC model hours of ``[start, end]`` and each column aggregated onto them.

    ``frame`` is indexed by the local standard start time of regular records of 30 or 60
    min. Columns in ``summed`` are summed over the hour, all others averaged.
    """
    if frame.empty:
        raise TccasInputError(f"{source}: the file holds no records")
    if not frame.index.is_monotonic_increasing or frame.index.has_duplicates:
        raise TccasInputError(f"{source}: time stamps are not strictly increasing")
    steps = np.unique(np.diff(frame.index.values))
    step = steps.min().astype("timedelta64[m]") if steps.size else np.timedelta64(30, "m")
    if np.timedelta64(1, "h") % step != np.timedelta64(0, "m"):
        raise TccasInputError(f"{source}: record length {step} does not divide an hour")
    hours = utc_day_hours(start, end)
    offset = np.timedelta64(round(utc_offset * 60), "m")
    times_utc = frame.index.values.astype("datetime64[m]") - offset
    if np.any((times_utc - hours[0]) % step != np.timedelta64(0, "m")):
        raise TccasInputError(
            f"{source}: with a UTC offset of {utc_offset:g} h the records do not start on "
            f"UTC {step} boundaries"
        )
    per_hour = int(np.timedelta64(1, "h") // step)
    margin = int(MAX_GAP // step) + 1
    grid = hours[0].astype("datetime64[m]") + step * np.arange(
        -margin, hours.size * per_hour + margin
    )
    inside = slice(margin, margin + hours.size * per_hour)
    covered = (times_utc[0] <= grid[inside][-1]) and (times_utc[-1] >= grid[inside][0])
    if not covered:
        local = frame.index
        raise TccasInputError(
            f"{source}: the file covers {local[0]} .. {local[-1]} local standard time, "
            f"which does not overlap the requested {hours[0]} .. {hours[-1]} UTC"
        )
    positions = pd.Index(times_utc).get_indexer(pd.Index(grid))
    aggregated = {}
    for column in frame.columns:
        on_grid = np.where(positions >= 0, frame[column].to_numpy(np.float64)[positions], np.nan)
        filled = _fill_gaps(on_grid, inside, step, grid, utc_offset, source, str(column))
        per_record = filled[inside].reshape(hours.size, per_hour)
        aggregated[column] = per_record.sum(1) if column in summed else per_record.mean(1)
    return hours, aggregated


def read_erai_forcing(
    path: str | Path, utc_offset: float, start: DateLike, end: DateLike
) -> Forcing:
    """Hourly UTC forcing from a FLUXNET2015 ERAI auxiliary CSV (downscaled ERA-Interim).

    Parameters
    ----------
    path : ``FLX_<SITE>_FLUXNET2015_ERAI_HH_<Y1>-<Y2>_<ver>.csv`` (or HR).
    utc_offset : [h] local standard time minus UTC of the site (``UTC_OFFSET`` in the
        FLUXNET site metadata; e.g. -6 for US-Wi7, +1 for ES-LM1, +2 for FI-Sod).
    start, end : first and last UTC day (inclusive, whole days).

    Returns
    -------
    Forcing
        One cell, ``24 * n_days`` hours from ``start`` 00:00 UTC: ``TA_ERA`` [degC] -> K,
        ``SW_IN_ERA``, ``LW_IN_ERA`` [W m-2], ``VPD_ERA`` [hPa] -> Pa, ``PA_ERA`` [kPa]
        -> Pa, ``P_ERA`` [mm per record] summed per hour -> kg m-2 s-1, ``WS_ERA``
        [m s-1]; half hours averaged; CO2 from the NOAA global annual mean.

    Raises
    ------
    TccasInputError
        Missing file or column, a gap longer than 6 h, a period outside the file, or an
        implausible value (naming the file, the column and the time).
    """
    path = Path(path)
    source = path.name
    frame = _read_csv(path)
    _require(list(frame.columns), ["TIMESTAMP_START", "TIMESTAMP_END", *ERAI_COLUMNS], source)
    frame.index = _parse_timestamps(
        frame["TIMESTAMP_START"], "%Y%m%d%H%M", source, "TIMESTAMP_START"
    )
    hours, hourly = _hourly_utc(
        frame[list(ERAI_COLUMNS)], utc_offset, start, end, source, summed=("P_ERA",)
    )
    arrays = {
        target: to_si(hourly[column], units, source, column)
        for column, (target, units) in ERAI_COLUMNS.items()
    }
    arrays["precipitation"] = precipitation_amount_to_rate(arrays["precipitation"])
    arrays["co2"] = co2_mole_fraction(hours.astype("datetime64[m]") + np.timedelta64(30, "m"))
    return make_forcing(hours[0], **arrays).validate(source)


def _open_netcdf(path: Path) -> xr.Dataset:
    if not path.exists():
        raise TccasInputError(f"{path}: file not found")
    try:
        with xr.open_dataset(path) as ds:
            return ds.load()
    except (OSError, ValueError) as exc:
        raise TccasInputError(f"{path}: cannot be read as NetCDF ({exc})") from exc


def _plumber_series(ds: xr.Dataset, name: str, source: str) -> np.ndarray:
    """One (time,) series of a PLUMBER2 variable stored as (time, y, x) with one cell."""
    variable = ds[name]
    if "time" not in variable.dims or variable.size != ds.sizes["time"]:
        raise TccasInputError(
            f"{source}: variable '{name}' has dimensions {variable.dims}; expected one site "
            "cell along 'time'"
        )
    return variable.values.reshape(-1).astype(np.float64)


def _scalar(ds: xr.Dataset, name: str) -> float:
    return float(ds[name].values.reshape(-1)[0]) if name in ds.variables else float("nan")


def _text(ds: xr.Dataset, name: str) -> str:
    if name not in ds.variables:
        return ""
    value = ds[name].values.reshape(-1)[0]
    return (value.decode() if isinstance(value, bytes) else str(value)).strip()


def infer_utc_offset(
    local_times: np.ndarray, shortwave: np.ndarray, longitude: float
) -> float:
    """UTC offset [h] of a local-standard-time axis from its diurnal shortwave cycle.

    The shortwave-weighted circular mean time of day of the record centres is the local
    solar noon in file time; the solar noon in UTC is ``12 - longitude / 15`` h (the
    equation of time averages out over a year). Their difference, rounded to whole hours,
    is the offset.

    Parameters
    ----------
    local_times : datetime64 start times of regular records (30 or 60 min).
    shortwave : [W m-2] incoming shortwave of the records.
    longitude : [degree_east] site longitude.

    Returns
    -------
    float
        [h] local standard time minus UTC, a whole number in [-12, 12).
    """
    times = np.asarray(local_times, dtype="datetime64[s]")
    step = np.median(np.diff(times)).astype(np.float64) if times.size > 1 else 1800.0
    seconds = (times - times.astype("datetime64[D]")).astype(np.float64) + step / 2.0
    angle = 2.0 * np.pi * seconds / 86400.0
    weight = np.nan_to_num(np.maximum(np.asarray(shortwave, dtype=np.float64), 0.0))
    noon = np.arctan2(np.sum(weight * np.sin(angle)), np.sum(weight * np.cos(angle)))
    local_noon = np.mod(noon * 24.0 / (2.0 * np.pi), 24.0)
    offset = float(np.round(local_noon - (12.0 - longitude / 15.0)))
    return (offset + 12.0) % 24.0 - 12.0


def read_plumber_forcing(
    path: str | Path, start: DateLike, end: DateLike, utc_offset: float | None = None
) -> tuple[Forcing, PlumberSite]:
    """Hourly UTC forcing and site description from a PLUMBER2 ``*_Met.nc`` file.

    Parameters
    ----------
    path : PLUMBER2/FluxnetLSM Met file (ALMA names ``Tair``, ``SWdown``, ``LWdown``,
        ``VPD``, ``Psurf``, ``Precip``, ``Wind``, ``CO2air``).
    start, end : first and last UTC day (inclusive, whole days).
    utc_offset : [h] local standard time minus UTC of the file's time axis; ``None``
        infers it from the shortwave cycle (:func:`infer_utc_offset`).

    Returns
    -------
    forcing : Forcing
        One cell, ``24 * n_days`` UTC hours; every variable converted from the units
        attribute of the file (e.g. VPD hPa -> Pa, CO2air ppm -> mol mol-1), half hours
        averaged (Precip is a rate, so its hourly mean is the hour's total / 3600 s).
    site : PlumberSite
        Coordinates, elevation, canopy height, IGBP class and the UTC offset used.

    Raises
    ------
    TccasInputError
        Not a PLUMBER2 Met file, a missing variable, unknown units, a gap longer than 6 h
        or a period outside the file.
    """
    path = Path(path)
    source = path.name
    ds = _open_netcdf(path)
    if "time" not in ds.dims:
        raise TccasInputError(f"{source}: not a PLUMBER2 file: no 'time' dimension")
    required = [*PLUMBER_MET_VARIABLES, "latitude", "longitude"]
    _require(list(map(str, ds.variables)), required, source)
    series = {name: _plumber_series(ds, name, source) for name in PLUMBER_MET_VARIABLES}
    local_times = ds["time"].values.astype("datetime64[s]")
    longitude = _scalar(ds, "longitude")
    inferred = utc_offset is None
    offset = infer_utc_offset(local_times, series["SWdown"], longitude) if inferred else utc_offset
    site = PlumberSite(
        code=str(ds.attrs.get("site_code", path.stem.split("_")[0])),
        name=str(ds.attrs.get("site_name", "")),
        latitude=_scalar(ds, "latitude"),
        longitude=longitude,
        elevation=_scalar(ds, "elevation"),
        canopy_height=_scalar(ds, "canopy_height"),
        reference_height=_scalar(ds, "reference_height"),
        igbp=_text(ds, "IGBP_veg_short"),
        utc_offset=float(offset),
        utc_offset_inferred=inferred,
    )
    frame = pd.DataFrame(
        {
            name: to_si(values, str(ds[name].attrs.get("units", "")), source, name)
            for name, values in series.items()
        },
        index=pd.DatetimeIndex(local_times),
    )
    hours, hourly = _hourly_utc(frame, site.utc_offset, start, end, source)
    arrays = {PLUMBER_MET_VARIABLES[name]: values for name, values in hourly.items()}
    return make_forcing(hours[0], **arrays).validate(source), site


def _daily_dataset(
    dates: np.ndarray, values: dict[str, np.ndarray], qc: np.ndarray, source: str, origin: str
) -> xr.Dataset:
    attrs = {"units": "gC m-2 d-1"}
    return xr.Dataset(
        {
            "gpp": ("date", values["gpp"], {
                **attrs, "long_name": "gross primary production (night-time partitioning, "
                "variable u* threshold, reference)"}),
            "nee": ("date", values["nee"], {
                **attrs, "long_name": "net ecosystem exchange (positive: carbon to the "
                "atmosphere)"}),
            "nee_qc": ("date", qc, {
                "units": "1", "long_name": "fraction of the day's NEE records measured or "
                "good-quality gap-filled"}),
        },
        coords={"date": ("date", dates.astype("datetime64[ns]"), {
            "long_name": "local standard date"})},
        attrs={"source": source, "origin": origin, "time_zone": "local standard time"},
    )


def _daily_from_subdaily(
    times: pd.DatetimeIndex, fluxes: dict[str, np.ndarray], qc: np.ndarray, per_day: int
) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Daily means of sub-daily fluxes [umol m-2 s-1] -> [gC m-2 d-1]; incomplete days NaN."""
    frame = pd.DataFrame({**fluxes, "good": (qc <= GOOD_QC_MAX).astype(np.float64)}, index=times)
    frame.loc[np.isnan(qc), "good"] = np.nan
    groups = frame.groupby(frame.index.normalize())
    complete = groups.count() == per_day
    means = groups.mean().where(complete)
    daily = {name: umol_co2_to_gc_per_day(means[name].to_numpy()) for name in fluxes}
    return means.index.values, daily, means["good"].to_numpy()


def daily_observed_fluxes(path: str | Path) -> xr.Dataset:
    """Daily observed GPP and NEE [gC m-2 d-1] for model validation.

    Parameters
    ----------
    path : a FLUXNET2015 FULLSET CSV at DD, HH or HR resolution (columns
        ``GPP_NT_VUT_REF``, ``NEE_VUT_REF``, ``NEE_VUT_REF_QC``), or a PLUMBER2
        ``*_Flux.nc`` file (``GPP``, ``NEE`` [umol m-2 s-1], ``NEE_qc``).

    Returns
    -------
    xarray.Dataset
        Dimension ``date`` (local standard date, midnight), variables ``gpp``, ``nee``
        [gC m-2 d-1] and ``nee_qc`` [1] (fraction of records measured or good-quality
        gap-filled: the DD ``NEE_VUT_REF_QC`` as published, otherwise the fraction of
        half hours with QC <= 1). Sub-daily fluxes are averaged over complete days and
        converted with 12.011e-6 x 86400; days with a missing record are NaN.

    Raises
    ------
    TccasInputError
        The file is not of one of these structures (naming the path and the reason).
    """
    path = Path(path)
    source = path.name
    if path.suffix == ".nc":
        ds = _open_netcdf(path)
        if "time" not in ds.dims:
            raise TccasInputError(f"{source}: not a PLUMBER2 Flux file: no 'time' dimension")
        names = [plumber for _, plumber in FLUX_VARIABLES.values()]
        _require(list(map(str, ds.variables)), [*names, NEE_QC[1]], source)
        fluxes = {}
        for output, (_, name) in FLUX_VARIABLES.items():
            units = str(ds[name].attrs.get("units", ""))
            if UNIT_CONVERSIONS.get(units, ("",))[0] != "umol m-2 s-1":
                raise TccasInputError(
                    f"{source}: variable '{name}' has units {units!r}; expected umol/m2/s"
                )
            fluxes[output] = _plumber_series(ds, name, source)
        times = pd.DatetimeIndex(ds["time"].values)
        step = np.median(np.diff(times.values).astype("timedelta64[s]").astype(np.float64))
        per_day = round(86400.0 / step)
        dates, daily, qc = _daily_from_subdaily(
            times, fluxes, _plumber_series(ds, NEE_QC[1], source), per_day
        )
        return _daily_dataset(dates, daily, qc, source, "PLUMBER2 Flux")
    frame = read_fullset(path)
    resolution = frame.attrs["resolution"]
    columns = [column for column, _ in FLUX_VARIABLES.values()]
    _require(list(frame.columns), [*columns, NEE_QC[0]], source)
    if resolution == "DD":
        daily = {output: frame[column].to_numpy(np.float64)
                 for output, (column, _) in FLUX_VARIABLES.items()}
        return _daily_dataset(
            frame.index.values, daily, frame[NEE_QC[0]].to_numpy(np.float64), source,
            "FLUXNET2015 FULLSET DD",
        )
    if resolution in ("HH", "HR"):
        fluxes = {output: frame[column].to_numpy(np.float64)
                  for output, (column, _) in FLUX_VARIABLES.items()}
        dates, daily, qc = _daily_from_subdaily(
            frame.index, fluxes, frame[NEE_QC[0]].to_numpy(np.float64),
            48 if resolution == "HH" else 24,
        )
        return _daily_dataset(dates, daily, qc, source, f"FLUXNET2015 FULLSET {resolution}")
    raise TccasInputError(
        f"{source}: resolution {resolution} is coarser than daily; give a DD, HH or HR file"
    )


# ------------------------------------------------------------ tower fluxes as observations
@dataclass(frozen=True)
class Tower:
    """Position and clock of a flux tower.

    Attributes
    ----------
    site_id : FLUXNET site id, e.g. ``"ES-LM1"``.
    latitude, longitude : [degree] WGS84 tower position.
    utc_offset : [h] local standard time minus UTC of the site's time stamps.
    source : where the numbers come from.
    """

    site_id: str
    latitude: float
    longitude: float
    utc_offset: float
    source: str


#: Towers whose FLUXNET CSV files can be ingested (the CSV files hold no coordinates): the
#: built-in study sites (:data:`tccas.catalog.sites.SITES`) and the site of the real HH
#: fixture. Add a tower here to ingest its files.
TOWERS: dict[str, Tower] = {
    tower.site_id.casefold(): tower
    for tower in (
        *(Tower(site.fluxnet_id, site.latitude, site.longitude, site.utc_offset,
                f"tccas.catalog.sites ({site.name})") for site in SITES.values()),
        Tower("CH-Cha", 47.210222, 8.410444, 1.0,
              "Swiss FluxNet site information CH-CHA (tower WGS84 47.210222 N, 8.410444 E); "
              "Central European standard time, UTC+1"),
    )
}

#: Streams a tower flux file feeds.
TOWER_STREAMS = ("nee", "gpp")
#: NEE uncertainty columns in order of preference: FULLSET (joint random and u*
#: uncertainty, else random only), PLUMBER2 (``NEE_uc`` is ``NEE_VUT_REF_JOINTUNC``).
NEE_SIGMA = (("NEE_VUT_REF_JOINTUNC", "NEE_VUT_REF_RANDUNC"), ("NEE_uc",))
#: Standard error of the night-time GPP over the u* ensemble (FULLSET, PLUMBER2).
GPP_SE = ("GPP_NT_VUT_SE", "GPP_se")
#: [umol CO2 m-2 s-1] and [1]: PROPOSED random error of a record without an uncertainty
#: column, ``base + relative * |flux|``: the linear growth of the eddy-covariance random
#: error with the flux magnitude (Richardson et al. 2006) with the coefficients of the
#: synthetic tower's error model (:class:`tccas.catalog.synth.FluxErrorModel`), so that real
#: and synthetic records are weighted alike.
DEFAULT_SIGMA_BASE = 0.6
DEFAULT_SIGMA_RELATIVE = 0.15
#: [degree] half side of the square that stands for the tower point in the ``corners``
#: footprint model (PROPOSED: the canonical schema has no point footprint; about 0.1 m,
#: so the square lies in the one grid cell holding the tower unless the tower is within
#: 0.1 m of a cell edge, where the weight is split by area).
TOWER_HALF_SIDE_DEG = 1.0e-6
TOWER_QC_MEANINGS = ("GAP_FILL_QUALITY", "NO_QC_FLAG")
#: Value of the ``fluxnet_qc`` column where the record has no QC flag.
NO_QC_FLAG = -1

_FULLSET_NAME = re.compile(r"FLX_([A-Z]{2}-[A-Z0-9]{3})_FLUXNET2015_(FULLSET|SUBSET)_",
                           re.IGNORECASE)
_MINUTES_PER_RESOLUTION = {"HH": 30, "HR": 60}


@dataclass(frozen=True)
class TowerFluxScreening:
    """Screening of tower NEE and GPP records by the FLUXNET2015 NEE quality flag.

    Attributes
    ----------
    max_qc : largest ``NEE_VUT_REF_QC`` (PLUMBER2 ``NEE_qc``) that passes: 0 measured,
        1 good-quality gap fill, 2 medium, 3 poor (PLUMBER2 adds 4 ERA-Interim and 5
        statistical gap fill). Default :data:`GOOD_QC_MAX` = 1, measured and good-quality
        gap-filled records (EO_FORMATS.md 5.2). GPP has no flag of its own: it is
        partitioned from the NEE record, whose flag it takes.
    """

    max_qc: int = GOOD_QC_MAX


@dataclass(frozen=True)
class _FluxRecords:
    """The records of one stream of a tower file, in the file's units and clock.

    Attributes
    ----------
    local_start : datetime64 start of each averaging period, local standard time.
    minutes : [min] length of the averaging period (30 or 60).
    value : [umol CO2 m-2 s-1] the flux, NaN where missing.
    sigma : [umol CO2 m-2 s-1] its uncertainty (:func:`_tower_sigma`).
    qc : NEE QC flag of the record, NaN where missing.
    tower : position and UTC offset.
    origin : the product, e.g. ``"FLUXNET2015 FULLSET HH"``.
    utc_offset_source : where the UTC offset comes from.
    """

    local_start: np.ndarray
    minutes: int
    value: np.ndarray
    sigma: np.ndarray
    qc: np.ndarray
    tower: Tower
    origin: str
    utc_offset_source: str


def tower_of(site_id: str, source: str) -> Tower:
    """The tower of a FLUXNET site id (case-insensitive) from :data:`TOWERS`.

    Raises
    ------
    TccasInputError
        Naming the file and the unknown site id, and the known ones.
    """
    try:
        return TOWERS[site_id.casefold()]
    except KeyError:
        raise TccasInputError(
            f"{source}: FLUXNET site id '{site_id}' has no tower position in "
            f"tccas.catalog.fluxnet.TOWERS (known: "
            f"{', '.join(sorted(t.site_id for t in TOWERS.values()))})") from None


def read_tower_fluxes(path: str | Path, stream: str,
                      screening: TowerFluxScreening | None = None) -> xr.Dataset:
    """Half-hourly (or hourly) tower NEE or GPP as a canonical observation table.

    Sources: FLUXNET2015 FULLSET/SUBSET HH or HR CSV (Pastorello et al. 2020; EO_FORMATS.md
    5), or a PLUMBER2 ``*_Flux.nc`` file (Ukkola et al. 2022). DD and coarser files are
    refused: the streams ``nee`` and ``gpp`` are sampled at an hour of the model
    (:data:`tccas.operators.streams.STREAMS`), which a daily mean is not.

    * One row per record holding a value (``-9999`` and NaN records are dropped).
    * ``time``: UTC centre of the averaging period, ``TIMESTAMP_START`` (local standard
      time) + 15 min (HH) or 30 min (HR) - the site's UTC offset, so that the row falls in
      the model hour whose mean it samples. FULLSET CSV files hold no position nor offset:
      both come from :data:`TOWERS` by the site id of the file name. PLUMBER2 files carry
      the position; the offset comes from :data:`TOWERS` when the site is listed, else it
      is inferred from the diurnal cycle of the file's net radiation ``Rnet``
      (:func:`infer_utc_offset`, attribute ``utc_offset_source``).
    * ``value`` [gC m-2 d-1]: ``NEE_VUT_REF`` / ``GPP_NT_VUT_REF`` (PLUMBER2 ``NEE`` /
      ``GPP``, the same FLUXNET variables) [umol CO2 m-2 s-1] x 12.011e-6 x 86400, the
      model's hourly diagnostics D_NEE / D_GPP as rates (NEE positive to the atmosphere).
    * ``sigma`` [gC m-2 d-1]: NEE: ``NEE_VUT_REF_JOINTUNC``, else ``NEE_VUT_REF_RANDUNC``
      (PLUMBER2 ``NEE_uc``), the first finite and positive one of the record, else the
      PROPOSED :data:`DEFAULT_SIGMA_BASE` + :data:`DEFAULT_SIGMA_RELATIVE` x |NEE|. GPP
      (PROPOSED): ``GPP_NT_VUT_REF`` = ``RECO_NT`` - ``NEE``, so the NEE record's sigma
      (the default from |GPP| where NEE is missing) combined in quadrature with the u*
      ensemble standard error ``GPP_NT_VUT_SE`` (PLUMBER2 ``GPP_se``) when given.
    * ``qc``: bit 0 ``GAP_FILL_QUALITY`` (NEE QC flag > ``screening.max_qc``), bit 1
      ``NO_QC_FLAG`` (the record has no flag); the flag itself in the ``fluxnet_qc``
      column (:data:`NO_QC_FLAG` where missing).
    * Footprint: the tower point, a ``corners`` square of :data:`TOWER_HALF_SIDE_DEG`
      around the tower, whose whole weight falls on the grid cell holding the tower.

    Parameters
    ----------
    path : the tower file.
    stream : ``"nee"`` or ``"gpp"``.
    screening : quality thresholds; default :class:`TowerFluxScreening`.

    Returns
    -------
    xarray.Dataset
        The table of :mod:`tccas.catalog.observations`, attributes ``product`` (the
        file's kind), ``site_id``, ``utc_offset`` [h], ``utc_offset_source`` and
        ``averaging_minutes``.

    Raises
    ------
    TccasInputError
        Unknown stream, a file that is not a FULLSET/SUBSET HH/HR CSV or PLUMBER2 Flux
        file, a missing column or variable, flux units other than umol m-2 s-1, or a site
        without tower position; naming the file and the variable or value.
    """
    path = Path(path)
    screening = TowerFluxScreening() if screening is None else screening
    if stream not in TOWER_STREAMS:
        raise TccasInputError(f"{path.name}: stream '{stream}' is not read from tower "
                              f"files (they feed {', '.join(TOWER_STREAMS)})")
    records = (_plumber_records(path, stream) if path.suffix.lower() == ".nc"
               else _fullset_records(path, stream))
    keep = np.isfinite(records.value)
    half = np.timedelta64(records.minutes * 30, "s")
    offset = np.timedelta64(round(records.tower.utc_offset * 3600), "s")
    time = records.local_start[keep].astype("datetime64[s]") + half - offset
    qc_flag = records.qc[keep]
    missing = np.isnan(qc_flag)
    bits = (np.where(~missing & (qc_flag > screening.max_qc), 1, 0)
            | np.where(missing, 2, 0)).astype(np.uint16)
    n = int(keep.sum())
    tower = records.tower
    lat, lon = np.full(n, tower.latitude), np.full(n, tower.longitude)
    h = TOWER_HALF_SIDE_DEG
    return build_observations(
        stream=stream, units="gC m-2 d-1", source=path.name, time=time,
        value=umol_co2_to_gc_per_day(records.value[keep]),
        sigma=umol_co2_to_gc_per_day(records.sigma[keep]), qc=bits,
        qc_meanings=TOWER_QC_MEANINGS, latitude=lat, longitude=lon,
        footprint_model=FOOTPRINT_CORNERS,
        footprint={CORNER_VARIABLES[0]: lat[:, None] + np.array([-h, -h, h, h]),
                   CORNER_VARIABLES[1]: lon[:, None] + np.array([-h, h, h, -h])},
        reader="tccas.catalog.fluxnet.read_tower_fluxes",
        qc_thresholds=asdict(screening),
        extra={"fluxnet_qc": (np.where(missing, NO_QC_FLAG, np.nan_to_num(qc_flag))
                              .astype(np.int16), "1")},
        attrs={"product": records.origin, "site_id": tower.site_id,
               "utc_offset": tower.utc_offset, "utc_offset_source": records.utc_offset_source,
               "averaging_minutes": records.minutes},
    )


def _tower_sigma(stream: str, value: np.ndarray, nee: np.ndarray,
                 nee_uncertainties: Sequence[np.ndarray], gpp_se: np.ndarray | None
                 ) -> np.ndarray:
    """[umol m-2 s-1] sigma of the records (:func:`read_tower_fluxes`)."""
    sigma = np.full(value.shape, np.nan)
    for candidate in nee_uncertainties:
        usable = np.isnan(sigma) & np.isfinite(candidate) & (candidate > 0.0)
        sigma[usable] = candidate[usable]
    default = np.isnan(sigma)
    magnitude = np.where(np.isfinite(nee), np.abs(nee), np.abs(value))
    sigma[default] = DEFAULT_SIGMA_BASE + DEFAULT_SIGMA_RELATIVE * magnitude[default]
    if stream == "gpp" and gpp_se is not None:
        sigma = np.hypot(sigma, np.nan_to_num(gpp_se))
    return sigma


def _fullset_records(path: Path, stream: str) -> _FluxRecords:
    column = FLUX_VARIABLES[stream][0]
    nee_column = FLUX_VARIABLES["nee"][0]
    frame = read_fullset(path, [column, nee_column, NEE_QC[0], *NEE_SIGMA[0], GPP_SE[0]])
    resolution = frame.attrs["resolution"]
    if resolution not in _MINUTES_PER_RESOLUTION:
        raise TccasInputError(
            f"{path}: resolution {resolution}: only half-hourly (HH) and hourly (HR) files "
            f"feed the hourly streams {', '.join(TOWER_STREAMS)}")
    _require(list(frame.columns), [column, NEE_QC[0]], str(path))
    match = _FULLSET_NAME.search(path.name)
    if match is None:
        raise TccasInputError(f"{path}: file name is not FLX_<SITE>_FLUXNET2015_"
                              "<FULLSET|SUBSET>_<RES>_...csv, so the tower is unknown")
    tower = tower_of(match.group(1), str(path))
    series = {name: frame[name].to_numpy(np.float64) if name in frame.columns else None
              for name in (nee_column, *NEE_SIGMA[0], GPP_SE[0])}
    value = frame[column].to_numpy(np.float64)
    nee = series[nee_column]
    sigma = _tower_sigma(stream, value, value if nee is None else nee,
                         [s for name in NEE_SIGMA[0] if (s := series[name]) is not None],
                         series[GPP_SE[0]])
    return _FluxRecords(frame.index.values, _MINUTES_PER_RESOLUTION[resolution], value,
                        sigma, frame[NEE_QC[0]].to_numpy(np.float64), tower,
                        f"FLUXNET2015 {match.group(2).upper()} {resolution}", tower.source)


def _plumber_records(path: Path, stream: str) -> _FluxRecords:
    source = str(path)
    ds = _open_netcdf(path)
    if "time" not in ds.dims:
        raise TccasInputError(f"{path}: not a PLUMBER2 Flux file: no 'time' dimension")
    name = FLUX_VARIABLES[stream][1]
    nee_name = FLUX_VARIABLES["nee"][1]
    _require(list(map(str, ds.variables)), [name, NEE_QC[1], "latitude", "longitude"],
             source)
    fluxes = {}
    for variable in dict.fromkeys((name, nee_name, *NEE_SIGMA[1], GPP_SE[1])):
        if variable not in ds.variables:
            continue
        units = str(ds[variable].attrs.get("units", ""))
        if UNIT_CONVERSIONS.get(units.strip(), ("",))[0] != "umol m-2 s-1":
            raise TccasInputError(f"{path}: variable '{variable}' has units {units!r}; "
                                  "expected umol/m2/s")
        fluxes[variable] = _plumber_series(ds, variable, source)
    times = ds["time"].values.astype("datetime64[s]")
    steps = np.unique(np.diff(times)).astype(np.int64)
    if steps.size != 1 or steps[0] not in (1800, 3600):
        raise TccasInputError(f"{path}: variable 'time' steps by {steps.tolist()} s; "
                              "expected a regular 1800 s or 3600 s axis")
    site_id = str(ds.attrs.get("site_code", path.name.split("_")[0]))
    known = TOWERS.get(site_id.casefold())
    if known is not None:
        offset, offset_source = known.utc_offset, known.source
    else:
        _require(list(map(str, ds.variables)), ["Rnet"], source)
        offset = infer_utc_offset(times, _plumber_series(ds, "Rnet", source),
                                  _scalar(ds, "longitude"))
        offset_source = "inferred from the diurnal cycle of Rnet"
    tower = Tower(site_id, _scalar(ds, "latitude"), _scalar(ds, "longitude"), offset,
                  f"{path.name} (latitude, longitude)")
    value = fluxes[name]
    sigma = _tower_sigma(stream, value, fluxes.get(nee_name, value),
                         [fluxes[v] for v in NEE_SIGMA[1] if v in fluxes], fluxes.get(GPP_SE[1]))
    return _FluxRecords(times, int(steps[0]) // 60, value, sigma,
                        _plumber_series(ds, NEE_QC[1], source), tower, "PLUMBER2 Flux",
                        offset_source)
