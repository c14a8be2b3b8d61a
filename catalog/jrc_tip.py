"""JRC-TIP FAPAR (Two-stream Inversion Package, MODIS-based): reader and format writer.

JRC-TIP inverts a two-stream canopy model against MODIS broadband white-sky albedos in
the visible and near-infrared and returns the mean and standard deviation of the posterior
of, among others, effective LAI and FAPAR (the absorbed fraction of visible radiation)
(Pinty et al. 2006, 2011). The baseline product is on a 0.01 degree lat/lon grid, one
16-day composite (the MCD43 albedo window) posted every 8 days (EO_FORMATS.md section 3.1:
H for 0.01 degree and 16 days, M for the 8-day posting).

Layout. The netCDF variable names of the 0.01 degree files could not be found in public
code or documentation (EO_FORMATS.md section 3.2, L), so the reader is driven by a
variable-name mapping, :class:`TipVariables`, whose defaults are the CF-style names that
EO_FORMATS.md recommends for the synthetic generator: ``fapar``, ``fapar_uncertainty``,
``lai_effective``, ``lai_effective_uncertainty`` over ``(time, lat, lon)``, 1-D ``lat``
(north to south) and ``lon`` cell centres [degree], ``time`` with CF units and
``time_bnds`` (time, 2) covering the 16-day window. The writer produces exactly that, with
``time`` at the window centre. Everything else (dtypes, ``_FillValue`` = -1 for the
float32 fields) is PROPOSED (L).

Reader conventions:

* Stream ``"fapar"`` [1]: value = FAPAR mean, sigma = its posterior standard deviation.
  Rows are the (composite, cell) pairs with a finite value and sigma > 0.
* Time = local solar noon (UTC 12 h - longitude / 15 h) of the day of the composite centre:
  the midpoint of ``time_bnds`` (for a 16-day window, start + 8 days); if the mapping has
  ``time_bounds=None`` the ``time`` coordinate itself is taken to be the centre. The
  composite describes daytime canopy absorption (TIP inverts daytime MODIS albedos), so the
  model's FAPAR at local noon of the central day is compared with it (PROPOSED; midnight
  of that day, where the model's instantaneous FAPAR is 0, would not be).
* Footprint: the 0.01 degree cell (``footprint_model = "corners"``), centre +- half the
  coordinate spacing (regular spacing is checked; TIP's 1 km MODIS input is resampled on
  this grid, so the cell is the product's support).
* Screening (:class:`TipScreening`) sets ``qc`` bits: FAPAR outside [0, 1], sigma too
  large (snow or bright backgrounds inflate it, EO_FORMATS.md 3.2), and, when the mapping
  names a flag variable, any flag bit in ``flags_mask``.

References
----------
Pinty, B. et al. (2006): Simplifying the interaction of land surfaces with radiation for
relating remote sensing products to climate models. J. Geophys. Res. 111, D02116,
doi:10.1029/2005JD005952.
Pinty, B. et al. (2011): Exploiting the MODIS albedos with the Two-stream Inversion Package
(JRC-TIP): 1. Effective leaf area index, vegetation, and soil properties. J. Geophys. Res.
116, D09105, doi:10.1029/2010JD015372.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import netCDF4
import numpy as np
import xarray as xr

from tccas.catalog.gridded import (
    BBox,
    axis_window,
    check_bbox,
    decode_floats,
    iso_time,
    latlon_cell_corners,
    qc_bit_field,
    regular_spacing,
    row_blocks,
    write_latlon_coordinates,
)
from tccas.catalog.observations import FOOTPRINT_CORNERS, build_observations, open_product
from tccas.model.errors import TccasInputError

PRODUCT = "JRC-TIP"
STREAM = "fapar"
RESOLUTION_DEG = 0.01
COMPOSITE_DAYS = 16
POSTING_DAYS = 8
TIME_UNITS = "days since 2000-01-01 00:00:00"
FLOAT_FILL = -1.0


@dataclass(frozen=True)
class TipVariables:
    """Names of the product variables (EO_FORMATS.md section 3.2 defaults).

    Attributes
    ----------
    fapar, fapar_sigma : FAPAR mean and standard deviation [1], dims (time, lat, lon).
    lai, lai_sigma : effective LAI mean and standard deviation [m2 m-2] (written by the
        writer to complete the layout; not read).
    latitude, longitude, time : coordinate variables.
    time_bounds : (time, 2) bounds of the composite window; None when the file has none
        and ``time`` is the composite centre.
    flags : an integer quality-flag variable (time, lat, lon), or None (the default: no
        flag variable is documented for the product).
    """

    fapar: str = "fapar"
    fapar_sigma: str = "fapar_uncertainty"
    lai: str = "lai_effective"
    lai_sigma: str = "lai_effective_uncertainty"
    latitude: str = "lat"
    longitude: str = "lon"
    time: str = "time"
    time_bounds: str | None = "time_bnds"
    flags: str | None = None


@dataclass(frozen=True)
class TipScreening:
    """Quality-screening thresholds for JRC-TIP FAPAR.

    Attributes
    ----------
    value_min, value_max : FAPAR must lie in ``[value_min, value_max]`` [1]; [0, 1].
    max_sigma : the standard deviation must be ``<= max_sigma`` [1]; 0.1 (PROPOSED: the
        upper end of the typical 0.02-0.1 of EO_FORMATS.md 3.2; larger values come from
        snow or bright backgrounds where FAPAR is poorly constrained).
    flags_mask : with a flag variable in :class:`TipVariables`, ``flags & flags_mask``
        must be 0; 0 (no bit rejects) by default.
    """

    value_min: float = 0.0
    value_max: float = 1.0
    max_sigma: float = 0.1
    flags_mask: int = 0


QC_MEANINGS = ("VALUE_RANGE", "SIGMA_TOO_LARGE", "FLAGS")


def composite_starts(year: int) -> np.ndarray:
    """First days of the JRC-TIP composites of a year: every 8 days from 1 January.

    MCD43 phasing: 16-day windows starting on day of year 1, 9, ..., 361 (46 windows;
    EO_FORMATS.md section 3.1, source [T6]).

    Returns
    -------
    numpy.ndarray
        datetime64[D] start days.
    """
    first = np.datetime64(f"{year:04d}-01-01")
    starts = first + np.arange(0, 366, POSTING_DAYS).astype("timedelta64[D]")
    return starts[starts < np.datetime64(f"{year + 1:04d}-01-01")]


# ------------------------------------------------------------------------------ reader
def read_jrc_tip(
    path: str | Path,
    variables: TipVariables | None = None,
    screening: TipScreening | None = None,
    bbox: BBox | None = None,
) -> xr.Dataset:
    """Read a JRC-TIP FAPAR file into a canonical observation table (stream ``"fapar"``).

    Parameters
    ----------
    path : the netCDF file (one or more composites).
    variables : the variable-name mapping; default :class:`TipVariables` ().
    screening : quality thresholds; default :class:`TipScreening` ().
    bbox : (west, south, east, north) [degree]: read only cells whose centre lies inside.

    Returns
    -------
    xarray.Dataset
        The canonical table (:mod:`tccas.catalog.observations`), units ``"1"``,
        ``footprint_model = "corners"``, with extra variables ``composite_start`` and
        ``composite_end`` (datetime64, the window; equal to ``time`` without bounds).
        Attributes add ``product`` and ``variables`` (the mapping as JSON).

    Raises
    ------
    TccasInputError
        If the file cannot be read, lacks a mapped variable, has a field of the wrong
        shape, an irregular coordinate or unreadable time units, or (read without
        ``bbox``) holds no FAPAR value at all; the message names the file and the
        variable.
    """
    names = TipVariables() if variables is None else variables
    rules = TipScreening() if screening is None else screening
    path = Path(path)
    window = check_bbox(bbox, str(path))
    with open_product(path) as nc:
        lat, lon, centre, start, end = _coordinates(nc, path, names)
        lat_index, lon_index = ((slice(None), slice(None)) if window is None else
                                (axis_window(lat, window[1], window[3]),
                                 axis_window(lon, window[0], window[2])))
        index = (slice(None), lat_index, lon_index)
        value = decode_floats(nc[names.fapar], index)
        sigma = decode_floats(nc[names.fapar_sigma], index)
        flags = (None if names.flags is None
                 else np.asarray(nc[names.flags][index]).astype(np.int64))
    dlat = regular_spacing(lat, names.latitude, str(path), RESOLUTION_DEG)
    dlon = regular_spacing(lon, names.longitude, str(path), RESOLUTION_DEG)
    if window is None and not np.isfinite(value).any():
        raise TccasInputError(f"{path}: variable '{names.fapar}' holds only fill values")
    rows = np.flatnonzero(np.isfinite(value) & (sigma > 0))
    t_index, i_lat, i_lon = np.unravel_index(rows, value.shape)
    cell_lat = lat[lat_index][i_lat]
    cell_lon = lon[lon_index][i_lon]
    value, sigma = value.ravel()[rows], sigma.ravel()[rows]
    qc = _qc(rules, value, sigma, None if flags is None else flags.ravel()[rows])
    corner_lat, corner_lon = latlon_cell_corners(cell_lat, cell_lon, abs(dlat) / 2,
                                                 abs(dlon) / 2)
    return build_observations(
        stream=STREAM,
        units="1",
        source=path.name,
        time=_local_noon(centre[t_index], cell_lon),
        value=value,
        sigma=sigma,
        qc=qc,
        qc_meanings=QC_MEANINGS,
        latitude=cell_lat,
        longitude=cell_lon,
        footprint_model=FOOTPRINT_CORNERS,
        footprint={"corner_latitude": corner_lat, "corner_longitude": corner_lon},
        reader=f"{__name__}.read_jrc_tip",
        qc_thresholds=asdict(rules),
        extra={"composite_start": (start[t_index], None),
               "composite_end": (end[t_index], None)},
        attrs={"product": PRODUCT, "variables": _json(asdict(names))},
    )


def inspect_jrc_tip(path: str | Path, variables: TipVariables | None = None) -> dict:
    """Summarise a JRC-TIP file: composites, grid and FAPAR counts, scanned block-wise.

    Parameters
    ----------
    path : a JRC-TIP netCDF file.
    variables : the variable-name mapping; default :class:`TipVariables` ().

    Returns
    -------
    dict
        ``file``, ``product`` (``"JRC-TIP"``), ``n_composites``, ``grid_shape``
        ((n_lat, n_lon)), ``n_records`` (composites x cells), ``time_start``/``time_end``
        (ISO UTC of the first and last composite centre) and ``streams``:
        ``{"fapar": {"n_valid": ..., "n_after_qc": ...}}`` under the default screening.

    Raises
    ------
    TccasInputError
        As :func:`read_jrc_tip`.
    """
    names = TipVariables() if variables is None else variables
    rules = TipScreening()
    path = Path(path)
    n_valid = n_after_qc = 0
    with open_product(path) as nc:
        lat, lon, centre, _, _ = _coordinates(nc, path, names)
        for t in range(centre.size):
            for rows in row_blocks(lat.size, lon.size):
                index = (t, rows, slice(None))
                value = decode_floats(nc[names.fapar], index)
                sigma = decode_floats(nc[names.fapar_sigma], index)
                valid = np.isfinite(value) & (sigma > 0)
                flags = (None if names.flags is None
                         else np.asarray(nc[names.flags][index]).astype(np.int64)[valid])
                n_valid += int(valid.sum())
                n_after_qc += int((_qc(rules, value[valid], sigma[valid], flags) == 0).sum())
    return {
        "file": path.name,
        "product": PRODUCT,
        "n_composites": int(centre.size),
        "grid_shape": (int(lat.size), int(lon.size)),
        "n_records": int(centre.size * lat.size * lon.size),
        "time_start": iso_time(centre.min()) if centre.size else None,
        "time_end": iso_time(centre.max()) if centre.size else None,
        "streams": {STREAM: {"n_valid": n_valid, "n_after_qc": n_after_qc}},
    }


# ------------------------------------------------------------------------------ writer
def write_jrc_tip(
    path: str | Path,
    fapar: np.ndarray,
    fapar_sigma: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    composite_start: Sequence[dt.date] | np.ndarray,
    *,
    lai: np.ndarray | None = None,
    lai_sigma: np.ndarray | None = None,
    flags: np.ndarray | None = None,
    variables: TipVariables | None = None,
) -> Path:
    """Write a JRC-TIP-style FAPAR file (the layout of the module docstring).

    Parameters
    ----------
    path : the file to create (overwritten).
    fapar, fapar_sigma : (time, lat, lon) FAPAR mean and standard deviation [1]; NaN is
        written as the fill value.
    lat, lon : (n_lat,), (n_lon,) cell centres [degree], regularly spaced (0.01 degree for
        the real product; north to south is the usual order).
    composite_start : (time,) first day of each 16-day window (:func:`composite_starts`).
    lai, lai_sigma : (time, lat, lon) effective LAI and its standard deviation [m2 m-2];
        written as fill when not given, so the layout is complete.
    flags : (time, lat, lon) integer flags, written only when ``variables.flags`` names
        a variable.
    variables : the variable names to write; default :class:`TipVariables` ().

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    TccasInputError
        If a field has the wrong shape, a coordinate is irregular, or flags are given
        without a flag variable name (or the reverse).
    """
    names = TipVariables() if variables is None else variables
    path = Path(path)
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    starts = np.asarray(composite_start, dtype="datetime64[D]").reshape(-1)
    shape = (starts.size, lat.size, lon.size)
    regular_spacing(lat, "lat", f"JRC-TIP writer ({path})", RESOLUTION_DEG)
    regular_spacing(lon, "lon", f"JRC-TIP writer ({path})", RESOLUTION_DEG)
    if (flags is None) != (names.flags is None):
        raise TccasInputError(f"JRC-TIP writer ({path}): give flags together with a flag "
                              "variable name (TipVariables.flags)")
    fields = {names.fapar: fapar, names.fapar_sigma: fapar_sigma, names.lai: lai,
              names.lai_sigma: lai_sigma}
    for name, values in {**fields, names.flags: flags}.items():
        if values is not None and np.shape(values) != shape:
            raise TccasInputError(f"JRC-TIP writer ({path}): '{name}' has shape "
                                  f"{np.shape(values)}, expected {shape} (time, lat, lon)")
    epoch = np.datetime64("2000-01-01", "D")
    first_day = (starts - epoch).astype(np.float64)
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        nc.setncatts({
            "title": "JRC-TIP FAPAR and effective LAI (TCCAS format writer)",
            "Conventions": "CF-1.8",
            "composite_days": np.int32(COMPOSITE_DAYS),
        })
        nc.createDimension(names.time, None)
        nc.createDimension(names.latitude, lat.size)
        nc.createDimension(names.longitude, lon.size)
        nc.createDimension("nv", 2)
        time = nc.createVariable(names.time, "f8", (names.time,))
        time.setncatts({"units": TIME_UNITS, "calendar": "standard",
                        "long_name": "centre of the composite window"})
        time[:] = first_day + COMPOSITE_DAYS / 2
        if names.time_bounds is not None:
            time.bounds = names.time_bounds
            bounds = nc.createVariable(names.time_bounds, "f8", (names.time, "nv"))
            bounds.units = TIME_UNITS
            bounds[:] = np.stack([first_day, first_day + COMPOSITE_DAYS], axis=1)
        write_latlon_coordinates(nc, lat, lon, (names.latitude, names.longitude))
        dims = (names.time, names.latitude, names.longitude)
        attributes = {
            names.fapar: ("fraction_of_surface_downwelling_photosynthetic_radiative_flux_"
                          "absorbed_by_vegetation", "1", "FAPAR, posterior mean"),
            names.fapar_sigma: (None, "1", "FAPAR, posterior standard deviation"),
            names.lai: ("leaf_area_index", "m2 m-2", "effective LAI, posterior mean"),
            names.lai_sigma: (None, "m2 m-2", "effective LAI, posterior standard deviation"),
        }
        for name, values in fields.items():
            standard_name, units, long_name = attributes[name]
            variable = nc.createVariable(name, "f4", dims, zlib=True, fill_value=FLOAT_FILL)
            variable.setncatts({"units": units, "long_name": long_name,
                                **({"standard_name": standard_name} if standard_name else {})})
            data = np.full(shape, np.nan) if values is None else np.asarray(values, float)
            variable[:] = np.where(np.isfinite(data), data, FLOAT_FILL)
        if names.flags is not None:
            variable = nc.createVariable(names.flags, "u2", dims, zlib=True)
            variable.long_name = "quality flags"
            variable[:] = np.asarray(flags)
    return path


# ---------------------------------------------------------------------------- helpers
def _qc(rules: TipScreening, value: np.ndarray, sigma: np.ndarray,
        flags: np.ndarray | None) -> np.ndarray:
    """The qc bit field of rows with a value and a positive sigma."""
    failed = (
        ~((value >= rules.value_min) & (value <= rules.value_max)),
        ~(sigma <= rules.max_sigma),
        np.zeros(value.size, dtype=bool) if flags is None else (flags & rules.flags_mask) != 0,
    )
    return qc_bit_field(failed, value.size)


def _coordinates(
    nc: netCDF4.Dataset, path: Path, names: TipVariables
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Check the mapped variables; return lat, lon, and composite centre, start, end."""
    wanted = [names.fapar, names.fapar_sigma, names.latitude, names.longitude, names.time]
    wanted += [name for name in (names.time_bounds, names.flags) if name is not None]
    missing = [name for name in wanted if name not in nc.variables]
    if missing:
        raise TccasInputError(f"{path}: not a JRC-TIP file under the variable mapping "
                              f"{_json(asdict(names))}: variable(s) {', '.join(missing)} "
                              "missing")
    lat = nc[names.latitude][:].astype(np.float64)
    lon = nc[names.longitude][:].astype(np.float64)
    time = nc[names.time]
    shape = (len(time), lat.size, lon.size)
    for name in (names.fapar, names.fapar_sigma, names.flags):
        if name is not None and nc[name].shape != shape:
            raise TccasInputError(f"{path}: variable '{name}' has shape {nc[name].shape}, "
                                  f"expected {shape} (time, lat, lon)")
    centre = _decode_time(time, time[:], path, time.name)
    if names.time_bounds is None:
        return lat, lon, centre, centre, centre
    bounds_variable = nc[names.time_bounds]
    if bounds_variable.shape != (shape[0], 2):
        raise TccasInputError(f"{path}: variable '{names.time_bounds}' has shape "
                              f"{bounds_variable.shape}, expected ({shape[0]}, 2)")
    bounds = _decode_time(bounds_variable, bounds_variable[:], path, names.time_bounds,
                          units_from=time)
    start, end = bounds[:, 0], bounds[:, 1]
    return lat, lon, start + (end - start) / 2, start, end


def _decode_time(variable: netCDF4.Variable, values: np.ndarray, path: Path, name: str,
                 units_from: netCDF4.Variable | None = None) -> np.ndarray:
    """CF time values as datetime64[ns] (units and calendar of ``variable``, or of
    ``units_from`` when the bounds variable has none)."""
    holder = variable if "units" in variable.ncattrs() or units_from is None else units_from
    attrs = holder.ncattrs()
    units = str(holder.getncattr("units")) if "units" in attrs else ""
    calendar = str(holder.getncattr("calendar")) if "calendar" in attrs else "standard"
    try:
        dates = netCDF4.num2date(np.asarray(values, dtype=np.float64), units, calendar,
                                 only_use_cftime_datetimes=False,
                                 only_use_python_datetimes=True)
    except (ValueError, TypeError) as err:
        raise TccasInputError(f"{path}: variable '{name}' has time units {units!r} "
                              f"(calendar {calendar!r}) that cannot be decoded ({err})") from err
    return np.asarray(dates, dtype="datetime64[ns]")


def _json(mapping: dict) -> str:
    """Compact JSON text of a small mapping (for attributes and messages)."""
    return json.dumps(mapping, sort_keys=True)


def _local_noon(centre: np.ndarray, longitude: np.ndarray) -> np.ndarray:
    """UTC time of local solar noon on the day of each composite centre."""
    day = np.asarray(centre).astype("datetime64[D]").astype("datetime64[ns]")
    offset_s = np.round((12.0 - np.asarray(longitude) / 15.0) * 3600.0).astype(np.int64)
    return day + offset_s.astype("timedelta64[s]")
