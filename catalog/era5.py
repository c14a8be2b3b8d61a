"""ERA5 and ERA5-Land hourly single-level NetCDF: reading, normalising, conversion to Forcing.

Two file layouts are read (EO_FORMATS.md 4.1, gotcha 7):

* the legacy CDS layout (``grib_to_netcdf``, before 2024): NetCDF3, coordinate ``time``,
  int16 packed with ``scale_factor``/``add_offset``, and in the mixed ERA5/ERA5T period a
  dimension ``expver``;
* the new CDS layout (since autumn 2024): NetCDF4, coordinate ``valid_time``, a scalar
  coordinate ``number`` and a string coordinate ``expver`` along ``valid_time``; requests
  that mix instantaneous and accumulated variables arrive as a zip of one file per
  ``stepType``.

Both are normalised to one canonical dataset: dimension ``valid_time`` (UTC), ``latitude``
ascending, ``longitude`` in [-180, 180), no ``number``/``expver``, and every accumulated
variable in the ERA5 convention, i.e. the amount over the hour *ending* at ``valid_time``
(ERA5-Land running sums are differenced on reading, :func:`era5land_deaccumulate`).

:func:`era5_to_forcing` turns a canonical dataset into :class:`~tccas.model.forcing.Forcing`.
Time convention: model hour ``[t, t + 1h)`` takes the accumulations and mean rates valid at
``t + 1h`` (they cover exactly that hour) and the mean of the instantaneous values at its
two ends ``t`` and ``t + 1h`` (the trapezoidal hour mean). ``n`` valid times therefore give
``n - 1`` model hours starting at the first valid time.

The invariant surface geopotential ``z`` [m2 s-2] of an ERA5 single-levels request (the
orography of the model that made the fields) is read by :func:`open_era5_geopotential`
and turned into elevation [m above the geoid] by dividing by g0 = 9.80665 m s-2
(:data:`STANDARD_GRAVITY`, the value ECMWF divides by: ERA5 documentation, parameter
"Geopotential", https://codes.ecmwf.int/grib/param-db/129).

References
----------
Hersbach, H. et al. (2020): The ERA5 global reanalysis. Q. J. R. Meteorol. Soc. 146,
1999-2049, doi:10.1002/qj.3803.
Munoz-Sabater, J. et al. (2021): ERA5-Land: a state-of-the-art global reanalysis dataset
for land applications. Earth Syst. Sci. Data 13, 4349-4383, doi:10.5194/essd-13-4349-2021.
"""

from __future__ import annotations

import datetime
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from tccas.catalog.co2 import co2_mole_fraction
from tccas.model.errors import TccasInputError
from tccas.model.forcing import Forcing, make_forcing
from tccas.model.parameters import constant

DateLike = str | datetime.date | np.datetime64 | pd.Timestamp
"""A calendar day: ISO text, ``datetime.date``/``datetime``, ``numpy.datetime64`` or Timestamp."""

SECONDS_PER_HOUR = 3600.0
STANDARD_GRAVITY = 9.80665
"""[m s-2] g0: ECMWF's geopotential [m2 s-2] / g0 = geopotential height [m]."""
GEOPOTENTIAL = "z"
"""ERA5 short name of the (surface) geopotential [m2 s-2]."""
#: [m] surface elevations accepted from a geopotential file (Dead Sea shore to above
#: Everest); anything outside is a wrong or corrupt field.
ELEVATION_RANGE = (-500.0, 9000.0)
#: [m2 s-2] largest change in time of an invariant geopotential (about 1 cm).
INVARIANT_TOLERANCE = 0.1
WATER_DENSITY = 1000.0
"""[kg m-3] converts ERA5 precipitation depth [m] into mass per area [kg m-2]."""

PRODUCTS = ("era5", "era5-land")

INSTANTANEOUS = "instantaneous"
ACCUMULATED = "accumulated"
MEAN_RATE = "mean rate"

# short name -> (kind, accepted units after normalisation, see _normalise_units).
ERA5_VARIABLES: dict[str, tuple[str, frozenset[str]]] = {
    "t2m": (INSTANTANEOUS, frozenset({"K"})),
    "d2m": (INSTANTANEOUS, frozenset({"K"})),
    "sp": (INSTANTANEOUS, frozenset({"Pa"})),
    "u10": (INSTANTANEOUS, frozenset({"m s-1", "m/s"})),
    "v10": (INSTANTANEOUS, frozenset({"m s-1", "m/s"})),
    "ssrd": (ACCUMULATED, frozenset({"J m-2"})),
    "strd": (ACCUMULATED, frozenset({"J m-2"})),
    "tp": (ACCUMULATED, frozenset({"m", "m of water equivalent"})),
    "msdwswrf": (MEAN_RATE, frozenset({"W m-2"})),
    "msdwlwrf": (MEAN_RATE, frozenset({"W m-2"})),
    "mtpr": (MEAN_RATE, frozenset({"kg m-2 s-1"})),
    "avg_sdswrf": (MEAN_RATE, frozenset({"W m-2"})),
    "avg_sdlwrf": (MEAN_RATE, frozenset({"W m-2"})),
    "avg_tprate": (MEAN_RATE, frozenset({"kg m-2 s-1"})),
}

# Forcing flux -> ERA5 candidates, preferred first: the accumulation, then the legacy and
# the new-CDS name of the mean rate over the same hour.
SHORTWAVE_CANDIDATES = ("ssrd", "msdwswrf", "avg_sdswrf")
LONGWAVE_CANDIDATES = ("strd", "msdwlwrf", "avg_sdlwrf")
PRECIPITATION_CANDIDATES = ("tp", "mtpr", "avg_tprate")

# Small negative fluxes come from GRIB packing and the accumulation arithmetic; values
# above these bounds are set to zero, anything more negative is reported by validate().
NEGATIVE_TOLERANCE = {"shortwave_down": 1.0, "longwave_down": 1.0, "precipitation": 1.0e-6}

# MODEL_SPEC 3.1: Magnus coefficients (a, b) over water (T > 0 degC) and ice (T <= 0 degC),
# from the model's constant table (one source for the reader and the kernels).
MAGNUS_E0 = constant("MAGNUS_E0")
MAGNUS_WATER = (constant("MAGNUS_A_WATER"), constant("MAGNUS_B_WATER"))
MAGNUS_ICE = (constant("MAGNUS_A_ICE"), constant("MAGNUS_B_ICE"))
ZERO_CELSIUS = constant("T_ZERO")


def saturation_vapour_pressure(temperature: np.ndarray | float) -> np.ndarray:
    """Saturation vapour pressure [Pa] over water (T > 0 degC) or ice (T <= 0 degC).

    ``e_s(T) = 610.78 exp(a T / (b + T))`` with ``(a, b) = (17.269, 237.3)`` over water and
    ``(22.33, 271.15)`` over ice (MODEL_SPEC 3.1, the BETHY ``surface`` formulation); the
    two branches meet at 610.78 Pa at 0 degC.

    Parameters
    ----------
    temperature : [degC] air or dew-point temperature.

    Returns
    -------
    numpy.ndarray
        [Pa] saturation vapour pressure.

    References
    ----------
    Murray, F. W. (1967): On the computation of saturation vapor pressure. J. Appl.
    Meteorol. 6, 203-204, doi:10.1175/1520-0450(1967)006<0203:OTCOSV>2.0.CO;2 (the water
    coefficients); the ice pair is BETHY's (Knorr 2000, Global Ecol. Biogeogr. 9, 225-252).
    """
    t = np.asarray(temperature, dtype=np.float64)
    a = np.where(t > 0.0, MAGNUS_WATER[0], MAGNUS_ICE[0])
    b = np.where(t > 0.0, MAGNUS_WATER[1], MAGNUS_ICE[1])
    return MAGNUS_E0 * np.exp(a * t / (b + t))


def dewpoint_to_vpd(air_temperature: np.ndarray, dewpoint: np.ndarray) -> np.ndarray:
    """Vapour pressure deficit [Pa] from air and dew-point temperature [K].

    ``VPD = e_s(T) - e_s(T_d)`` with :func:`saturation_vapour_pressure`; a dew point above
    the air temperature (supersaturation, which ERA5 shows in fog) gives ``VPD = 0``.

    Parameters
    ----------
    air_temperature : [K] 2 m air temperature (ERA5 ``t2m``).
    dewpoint : [K] 2 m dew-point temperature (ERA5 ``d2m``).

    Returns
    -------
    numpy.ndarray
        [Pa] vapour pressure deficit, >= 0.
    """
    t = np.asarray(air_temperature, dtype=np.float64) - ZERO_CELSIUS
    td = np.asarray(dewpoint, dtype=np.float64) - ZERO_CELSIUS
    return np.maximum(saturation_vapour_pressure(t) - saturation_vapour_pressure(td), 0.0)


def wind_speed(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Wind speed [m s-1] from the eastward and northward components [m s-1]."""
    return np.hypot(np.asarray(u, dtype=np.float64), np.asarray(v, dtype=np.float64))


def era5_radiation_to_flux(accumulated: np.ndarray) -> np.ndarray:
    """Mean flux [W m-2] from an ERA5 hourly radiation accumulation [J m-2].

    ERA5 ``ssrd``/``strd`` at valid time ``t`` is the energy received over ``(t - 1h, t]``
    (Hersbach et al. 2020, doi:10.1002/qj.3803), so the mean flux over that hour is the
    accumulation divided by 3600 s.
    """
    return np.asarray(accumulated, dtype=np.float64) / SECONDS_PER_HOUR


def era5_precipitation_to_rate(accumulated: np.ndarray) -> np.ndarray:
    """Mean precipitation rate [kg m-2 s-1] from an ERA5 hourly ``tp`` accumulation [m].

    ``tp`` at valid time ``t`` is the water depth fallen over ``(t - 1h, t]``; times the
    density of water (1000 kg m-3) and divided by 3600 s it is the mean mass flux.
    """
    return np.asarray(accumulated, dtype=np.float64) * WATER_DENSITY / SECONDS_PER_HOUR


def era5land_deaccumulate(
    accumulated: np.ndarray, times: np.ndarray, axis: int = 0
) -> np.ndarray:
    """Hourly amounts (ERA5 convention) from ERA5-Land running accumulations.

    ERA5-Land accumulates from 00 UTC of each day: the value at 01 UTC is the first hour,
    the value at 23 UTC the sum of 23 hours and the value at 00 UTC the whole *previous*
    day. The amount over the hour ending at ``T`` is therefore

    * ``acc[T]`` where ``T`` is 01 UTC,
    * ``acc[T] - acc[T - 1h]`` at every other hour, 00 UTC included (the previous day's
      total minus its 23 UTC value is the hour 23-24 UTC).

    Where the previous hour is not in ``times`` (the first value unless it is at 01 UTC, or
    after a gap) the hourly amount is unknown and returned as NaN.

    Parameters
    ----------
    accumulated : running sums since 00 UTC, in the product unit ([J m-2] or [m]).
    times : datetime64 valid times, increasing, along ``axis`` of ``accumulated``.
    axis : the time axis of ``accumulated``.

    Returns
    -------
    numpy.ndarray
        Amount over the hour ending at each valid time, same unit and shape, float64.

    References
    ----------
    Munoz-Sabater et al. (2021), doi:10.5194/essd-13-4349-2021; ECMWF, "ERA5-Land: data
    documentation", section "Accumulations".
    """
    acc = np.moveaxis(np.asarray(accumulated, dtype=np.float64), axis, 0)
    hours = np.asarray(times, dtype="datetime64[h]")
    hourly = np.full_like(acc, np.nan)
    hourly[1:] = acc[1:] - acc[:-1]
    follows_previous = np.concatenate(([False], np.diff(hours) == np.timedelta64(1, "h")))
    hourly[~follows_previous] = np.nan
    first_hour_of_day = (hours - hours.astype("datetime64[D]")) == np.timedelta64(1, "h")
    hourly[first_hour_of_day] = acc[first_hour_of_day]
    return np.moveaxis(hourly, 0, axis)


def utc_day_hours(start: DateLike, end: DateLike) -> np.ndarray:
    """Start times of the model hours of the whole UTC days ``start`` .. ``end`` (inclusive).

    Parameters
    ----------
    start, end : first and last day (``"2015-01-01"``, ``datetime.date``, ``datetime64``);
        a time of day is ignored.

    Returns
    -------
    numpy.ndarray
        ``datetime64[h]`` from ``start`` 00:00 to ``end`` 23:00 UTC, ``24 * n_days`` values.
    """
    try:
        first = np.datetime64(pd.Timestamp(start).date(), "D")
        last = np.datetime64(pd.Timestamp(end).date(), "D")
    except (TypeError, ValueError) as exc:
        raise TccasInputError(f"cannot read the dates {start!r} .. {end!r} ({exc})") from exc
    if last < first:
        raise TccasInputError(f"end date {last} is before start date {first}")
    n_hours = 24 * int((last - first).astype(np.int64) + 1)
    return first.astype("datetime64[h]") + np.arange(n_hours).astype("timedelta64[h]")


def _normalise_units(units: str) -> str:
    """ECMWF writes ``m s**-1``; CF and our tables write ``m s-1``."""
    return " ".join(units.replace("**", "").split())


def _normalise_layout(ds: xr.Dataset, source: str) -> xr.Dataset:
    """Legacy or new CDS layout -> ``valid_time``, ascending latitude, lon in [-180, 180)."""
    if "valid_time" not in ds.variables:
        if "time" not in ds.variables:
            raise TccasInputError(
                f"{source}: no time coordinate: expected 'valid_time' (new CDS) or 'time' "
                f"(legacy CDS); variables are {sorted(map(str, ds.variables))}"
            )
        ds = ds.rename({"time": "valid_time"})
    if "number" in ds.dims:
        if ds.sizes["number"] != 1:
            raise TccasInputError(
                f"{source}: {ds.sizes['number']} ensemble members ('number'); only "
                "single-member (reanalysis) files are supported"
            )
        ds = ds.isel(number=0)
    if "expver" in ds.dims:
        # Legacy mixed ERA5/ERA5T files: each time is valid in exactly one expver slice.
        slices = [ds.isel(expver=i, drop=True) for i in range(ds.sizes["expver"])]
        ds = slices[0]
        for later in slices[1:]:
            ds = ds.combine_first(later)
    ds = ds.drop_vars([n for n in ("number", "expver") if n in ds.variables])
    if "valid_time" not in ds.dims:
        ds = ds.expand_dims("valid_time")
    if "longitude" in ds.coords:
        ds = ds.assign_coords(longitude=((ds["longitude"] + 180.0) % 360.0) - 180.0)
        if "longitude" in ds.dims:
            ds = ds.sortby("longitude")
    if "latitude" in ds.dims:
        ds = ds.sortby("latitude")
    ds = ds.sortby("valid_time")
    times = ds["valid_time"].values
    if np.any(times[1:] == times[:-1]):
        duplicate = times[1:][times[1:] == times[:-1]][0]
        raise TccasInputError(f"{source}: valid_time {duplicate} occurs more than once")
    return ds


def _deaccumulate_product(ds: xr.Dataset, product: str, source: str) -> xr.Dataset:
    if product not in PRODUCTS:
        raise TccasInputError(f"{source}: unknown ERA5 product '{product}'; use one of {PRODUCTS}")
    ds = ds.copy()
    if product == "era5-land":
        for name in ds.data_vars:
            if ERA5_VARIABLES.get(str(name), ("", None))[0] == ACCUMULATED:
                variable = ds[name]
                axis = variable.dims.index("valid_time")
                hourly = era5land_deaccumulate(variable.values, ds["valid_time"].values, axis)
                ds[name] = variable.copy(data=hourly)
    ds.attrs["era5_product"] = product
    ds.attrs["accumulation_convention"] = "amount over the hour ending at valid_time"
    return ds


def normalise_era5(
    ds: xr.Dataset, product: str = "era5", source: str = "ERA5 dataset"
) -> xr.Dataset:
    """Normalise an opened ERA5 or ERA5-Land dataset to the canonical layout.

    Parameters
    ----------
    ds : a dataset in the legacy (``time``) or new CDS (``valid_time``, ``number``,
        ``expver``) layout.
    product : ``"era5"`` (accumulations over the previous hour) or ``"era5-land"``
        (running sums since 00 UTC, differenced here with :func:`era5land_deaccumulate`).
    source : name used in error messages (the file name).

    Returns
    -------
    xarray.Dataset
        Dimension ``valid_time`` (UTC, increasing, unique), ascending ``latitude``,
        ``longitude`` in [-180, 180), accumulations over the hour ending at ``valid_time``;
        attribute ``era5_product``.
    """
    return _deaccumulate_product(_normalise_layout(ds, source), product, source)


def _open_one(path: Path) -> list[xr.Dataset]:
    """The datasets in one NetCDF file, or in each ``.nc`` member of a new-CDS zip."""
    if not path.exists():
        raise TccasInputError(f"{path}: file not found")
    try:
        if zipfile.is_zipfile(path):
            datasets = []
            with zipfile.ZipFile(path) as archive, tempfile.TemporaryDirectory() as folder:
                for member in sorted(archive.namelist()):
                    if member.endswith(".nc"):
                        with xr.open_dataset(archive.extract(member, folder)) as ds:
                            datasets.append(ds.load())
            if not datasets:
                raise TccasInputError(f"{path}: zip archive holds no .nc file")
            return datasets
        with xr.open_dataset(path) as ds:
            return [ds.load()]
    except TccasInputError:
        raise
    except (OSError, ValueError) as exc:
        raise TccasInputError(f"{path}: cannot be read as NetCDF ({exc})") from exc


def open_era5(paths: str | Path | Sequence[str | Path], product: str = "era5") -> xr.Dataset:
    """Read ERA5 or ERA5-Land hourly single-level files into one canonical dataset.

    Parameters
    ----------
    paths : one path or several: NetCDF files in either CDS layout, or new-CDS zip
        archives (one ``data_stream-*_stepType-*.nc`` member per step type). Files split
        by variable or by time are merged.
    product : ``"era5"`` or ``"era5-land"`` (selects the accumulation convention).

    Returns
    -------
    xarray.Dataset
        The canonical dataset of :func:`normalise_era5` (loaded into memory), with the
        attribute ``source_files``.

    Raises
    ------
    TccasInputError
        A file is missing or unreadable, has no time coordinate, holds several ensemble
        members or repeats a valid time.
    """
    path_list = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    if not path_list:
        raise TccasInputError("open_era5: no file given")
    parts = [
        _normalise_layout(ds, str(path)) for path in path_list for ds in _open_one(path)
    ]
    source = ", ".join(p.name for p in path_list)
    try:
        merged = xr.merge(
            parts, join="outer", compat="no_conflicts", combine_attrs="drop_conflicts"
        )
    except (ValueError, xr.MergeError) as exc:
        raise TccasInputError(f"{source}: files cannot be merged ({exc})") from exc
    merged.attrs["source_files"] = source
    return _deaccumulate_product(merged, product, source)


def era5_geopotential_to_elevation(geopotential: np.ndarray | float) -> np.ndarray:
    """Elevation [m above the geoid] from the ERA5 surface geopotential [m2 s-2].

    ``h = z / g0`` with g0 = :data:`STANDARD_GRAVITY` = 9.80665 m s-2, ECMWF's convention
    for geopotential height (https://codes.ecmwf.int/grib/param-db/129); the geopotential
    is relative to mean sea level, so ``h`` is the height above the geoid.
    """
    return np.asarray(geopotential, dtype=np.float64) / STANDARD_GRAVITY


def open_era5_geopotential(path: str | Path) -> xr.DataArray:
    """Read the invariant surface geopotential of an ERA5 or ERA5-Land file as elevation.

    Parameters
    ----------
    path : a NetCDF file (or new-CDS zip) of the single-levels parameter ``z``
        [m2 s-2] in either CDS layout: ``valid_time`` (new, with ``number``/``expver``) or
        ``time`` (legacy, int16 packed), one or more time steps (the field is invariant),
        the ERA5 0.25 degree or the ERA5-Land 0.1 degree grid (longitudes 0..360 or
        -180..180).

    Returns
    -------
    xarray.DataArray
        ``elevation`` (latitude, longitude) [m] = ``z`` / g0
        (:func:`era5_geopotential_to_elevation`), float64, latitude ascending, longitude
        in [-180, 180); attributes ``units``, ``long_name`` and ``source`` (the file name).

    Raises
    ------
    TccasInputError
        The file is missing or unreadable, has no time coordinate or no ``z`` on
        latitude/longitude, ``z`` has other units, a value is not finite or gives an
        elevation outside :data:`ELEVATION_RANGE`, or ``z`` changes in time; the message
        names the file, the variable and the value.
    """
    path = Path(path)
    datasets = [_normalise_layout(ds, str(path)) for ds in _open_one(path)]
    found = [ds for ds in datasets if GEOPOTENTIAL in ds.data_vars]
    if not found:
        names = sorted(str(n) for ds in datasets for n in ds.data_vars)
        raise TccasInputError(f"{path}: no variable '{GEOPOTENTIAL}' (surface geopotential); "
                              f"variables are {', '.join(names) or 'none'}")
    variable = found[0][GEOPOTENTIAL]
    units = variable.attrs.get("units")
    if units is None or _normalise_units(str(units)) != "m2 s-2":
        raise TccasInputError(f"{path}: variable '{GEOPOTENTIAL}' has units {units!r}; "
                              "expected 'm**2 s**-2' (geopotential)")
    dims = ("valid_time", "latitude", "longitude")
    if set(variable.dims) != set(dims):
        raise TccasInputError(f"{path}: variable '{GEOPOTENTIAL}' has dimensions "
                              f"{variable.dims}; expected {dims}")
    values = variable.transpose(*dims).values.astype(np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        _, row, col = (int(i[0]) for i in np.nonzero(bad))
        raise TccasInputError(
            f"{path}: variable '{GEOPOTENTIAL}' value {float(values[bad][0])!r} at latitude "
            f"{float(variable['latitude'][row])}, longitude "
            f"{float(variable['longitude'][col])} is not finite")
    change = np.abs(values - values[:1]).max()
    if change > INVARIANT_TOLERANCE:
        raise TccasInputError(f"{path}: variable '{GEOPOTENTIAL}' changes by {change:.6g} "
                              "m2 s-2 between its valid times; the surface geopotential is "
                              "invariant")
    elevation = era5_geopotential_to_elevation(values[0])
    low, high = ELEVATION_RANGE
    outside = (elevation < low) | (elevation > high)
    if outside.any():
        raise TccasInputError(
            f"{path}: variable '{GEOPOTENTIAL}' value {float(values[0][outside][0])!r} m2 s-2 "
            f"is an elevation of {float(elevation[outside][0]):.6g} m, outside {low:g} .. "
            f"{high:g} m")
    return xr.DataArray(
        elevation, dims=dims[1:], name="elevation",
        coords={"latitude": variable["latitude"].values,
                "longitude": variable["longitude"].values},
        attrs={"units": "m", "long_name": "surface elevation above the geoid (ERA5 "
               "geopotential / 9.80665 m s-2)", "source": path.name})


def _cell_table(ds: xr.Dataset, points: Sequence[tuple[float, float]] | None) -> xr.Dataset:
    """``ds`` with dimensions ``(valid_time, cell)``: the nearest cells or every cell."""
    gridded = [d for d in ("latitude", "longitude") if d in ds.dims]
    if points is not None and gridded:
        lats = xr.DataArray([p[0] for p in points], dims="cell")
        lons = xr.DataArray([((p[1] + 180.0) % 360.0) - 180.0 for p in points], dims="cell")
        return ds.sel(
            {d: (lats if d == "latitude" else lons) for d in gridded}, method="nearest"
        )
    if gridded:
        return ds.stack(cell=gridded)
    return ds.expand_dims("cell")


def _variable(cells: xr.Dataset, name: str, source: str, used_from: int) -> np.ndarray:
    """Values ``(valid_time, cell)`` of ``name`` after checking units and finiteness."""
    variable = cells[name]
    expected = ERA5_VARIABLES[name][1]
    units = variable.attrs.get("units")
    if units is None or _normalise_units(str(units)) not in expected:
        raise TccasInputError(
            f"{source}: variable '{name}' has units {units!r}; expected one of "
            f"{sorted(expected)}"
        )
    values = variable.transpose("valid_time", "cell").values.astype(np.float64)
    bad = ~np.isfinite(values[used_from:])
    if bad.any():
        step, cell = (int(i[0]) for i in np.nonzero(bad))
        time = cells["valid_time"].values[used_from + step]
        raise TccasInputError(
            f"{source}: variable '{name}' value {float(values[used_from + step, cell])!r} at "
            f"valid_time {np.datetime_as_string(time, unit='h')} (cell {cell}) is not finite"
        )
    return values


def _first_present(ds: xr.Dataset, candidates: Sequence[str], source: str) -> str:
    for name in candidates:
        if name in ds.data_vars:
            return name
    raise TccasInputError(
        f"{source}: missing variable '{candidates[0]}' (or any of "
        f"{', '.join(repr(c) for c in candidates[1:])})"
    )


def _hourly_flux(cells: xr.Dataset, name: str, source: str) -> np.ndarray:
    """Mean flux over each model hour from the value valid at the hour's end (SI units)."""
    values = _variable(cells, name, source, used_from=1)[1:]
    if name in ("ssrd", "strd"):
        return era5_radiation_to_flux(values)
    if name == "tp":
        return era5_precipitation_to_rate(values)
    return values


def _clip_small_negative(values: np.ndarray, tolerance: float) -> np.ndarray:
    return np.where((values < 0.0) & (values > -tolerance), 0.0, values)


def era5_to_forcing(
    ds: xr.Dataset,
    source: str,
    co2: float | np.ndarray | None = None,
    points: Sequence[tuple[float, float]] | None = None,
) -> Forcing:
    """Convert an ERA5 dataset into hourly model forcing in SI units.

    Model hour ``[t, t + 1h)`` takes the shortwave, longwave and precipitation valid at
    ``t + 1h`` (ERA5 accumulations and mean rates cover the hour ending at the valid
    time) and the mean of the instantaneous values (temperature, VPD, pressure, wind
    speed, each derived first) at ``t`` and ``t + 1h``. ``n`` hourly valid times give
    ``n - 1`` model hours starting at the first valid time.

    Parameters
    ----------
    ds : canonical dataset (:func:`open_era5`); a dataset without the ``era5_product``
        attribute is normalised here as ERA5 (not ERA5-Land). Needs ``t2m``, ``d2m``
        [K], ``sp`` [Pa], ``u10``, ``v10`` [m s-1], shortwave (``ssrd`` [J m-2] or the
        mean rate ``msdwswrf``/``avg_sdswrf`` [W m-2]), longwave (``strd`` or
        ``msdwlwrf``/``avg_sdlwrf``) and precipitation (``tp`` [m] or
        ``mtpr``/``avg_tprate`` [kg m-2 s-1]).
    source : name of the file(s) for error messages.
    co2 : [mol mol-1] constant CO2, or an array broadcastable to ``(n_met, n_hour)``;
        ``None`` takes the NOAA global annual mean (:func:`tccas.catalog.co2.co2_mole_fraction`)
        at the middle of each hour.
    points : ``(latitude, longitude)`` [degree] pairs; each picks its nearest grid cell.
        ``None`` takes every cell (latitude-major order). A dataset with scalar
        coordinates is one cell, whatever ``points`` says.

    Returns
    -------
    Forcing
        Validated forcing, ``n_met`` = number of cells.

    Raises
    ------
    TccasInputError
        A variable is missing, has other units, or a value is NaN (the message names
        ``source``, the variable, the value and the valid time); the times are not a
        regular hourly series; a converted value is implausible (``Forcing.validate``).
    """
    if "era5_product" not in ds.attrs:
        ds = normalise_era5(ds, "era5", source)
    times = ds["valid_time"].values.astype("datetime64[h]")
    if times.size < 2:
        raise TccasInputError(f"{source}: needs at least two hourly valid times")
    steps = np.diff(times)
    if np.any(steps != np.timedelta64(1, "h")):
        at = int(np.flatnonzero(steps != np.timedelta64(1, "h"))[0])
        raise TccasInputError(
            f"{source}: valid_time is not hourly: {times[at]} is followed by {times[at + 1]}"
        )
    cells = _cell_table(ds, points)

    def hour_mean(instantaneous: np.ndarray) -> np.ndarray:
        return 0.5 * (instantaneous[:-1] + instantaneous[1:])

    def instantaneous(name: str) -> np.ndarray:
        if name not in cells.data_vars:
            raise TccasInputError(f"{source}: missing variable '{name}'")
        return _variable(cells, name, source, used_from=0)

    t2m = instantaneous("t2m")
    d2m = instantaneous("d2m")
    arrays = {
        "air_temperature": hour_mean(t2m),
        "vapour_pressure_deficit": hour_mean(dewpoint_to_vpd(t2m, d2m)),
        "surface_pressure": hour_mean(instantaneous("sp")),
        "wind_speed": hour_mean(wind_speed(instantaneous("u10"), instantaneous("v10"))),
    }
    for target, candidates in (
        ("shortwave_down", SHORTWAVE_CANDIDATES),
        ("longwave_down", LONGWAVE_CANDIDATES),
        ("precipitation", PRECIPITATION_CANDIDATES),
    ):
        flux = _hourly_flux(cells, _first_present(cells, candidates, source), source)
        arrays[target] = _clip_small_negative(flux, NEGATIVE_TOLERANCE[target])
    n_hour, n_met = arrays["air_temperature"].shape
    if co2 is None:
        mid_hour = times[:-1].astype("datetime64[m]") + np.timedelta64(30, "m")
        co2 = co2_mole_fraction(mid_hour)
    arrays = {k: v.T for k, v in arrays.items()}
    arrays["co2"] = np.broadcast_to(np.asarray(co2, dtype=np.float64), (n_met, n_hour))
    return make_forcing(times[0], **arrays).validate(source)
