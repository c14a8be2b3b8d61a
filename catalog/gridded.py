"""Shared pieces of the readers and writers of gridded products (SMOS-IC, JRC-TIP, CCI Land
Cover, CCI Biomass, soil texture): raw variable decoding, latitude/longitude windows, cell
corners, the qc bit field of the screens, the latitude/longitude frame the format writers
lay out, and opening a GeoTIFF.

The products are read raw (netCDF4 with automatic masking and scaling off, see
:func:`tccas.catalog.observations.open_product`), so the CF decoding is done here once:
``_FillValue``/``missing_value``, ``valid_min``/``valid_max``/``valid_range`` (compared in
the stored, packed units as CF prescribes), ``_Unsigned`` and ``scale_factor``/
``add_offset``.

A grid cell of a regular latitude/longitude raster becomes an observation footprint with
the ``"corners"`` model of :mod:`tccas.catalog.observations`: its four corners
counter-clockwise from the south-west, ``(south, west), (south, east), (north, east),
(north, west)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

import netCDF4
import numpy as np
import rioxarray
import xarray as xr
from numpy.typing import NDArray
from rasterio.errors import RasterioError

from tccas.catalog.observations import build_observations
from tccas.model.errors import TccasInputError

BBox = tuple[float, float, float, float]
"""(west, south, east, north) [degree] of a region to read; cells whose centre lies inside
(edges included) are read."""

# Largest number of cells decoded at once when a whole product is scanned block by block.
BLOCK_CELLS = 4_000_000
# Relative tolerance of a regular coordinate spacing (float32 coordinates of 1/1125 degree
# or 0.01 degree steps round to about 1e-5 of a step).
SPACING_TOLERANCE = 1e-3
#: CF grid mapping of WGS84 latitude/longitude, as the ESA CCI products write their
#: ``crs`` variable.
WGS84_GRID_MAPPING = {"grid_mapping_name": "latitude_longitude",
                      "semi_major_axis": 6378137.0, "inverse_flattening": 298.257223563}
#: Time units of the annual ESA CCI maps (``time`` = 1 January of the map's year).
ANNUAL_TIME_UNITS = "days since 1970-01-01 00:00:00"


def check_bbox(bbox: BBox | None, source: str) -> BBox | None:
    """Return ``bbox`` as four floats after checking it, or None.

    Raises
    ------
    TccasInputError
        If it is not four finite numbers with west < east, south < north inside
        [-180, 180] x [-90, 90].
    """
    if bbox is None:
        return None
    try:
        west, south, east, north = (float(v) for v in bbox)
    except (TypeError, ValueError) as err:
        raise TccasInputError(f"{source}: bbox {bbox!r} must be (west, south, east, "
                              "north) in degrees") from err
    ok = (all(math.isfinite(v) for v in (west, south, east, north))
          and -180.0 <= west < east <= 180.0 and -90.0 <= south < north <= 90.0)
    if not ok:
        raise TccasInputError(f"{source}: bbox {bbox!r} must satisfy -180 <= west < east "
                              "<= 180 and -90 <= south < north <= 90")
    return west, south, east, north


def axis_window(centres: np.ndarray, low: float, high: float) -> slice:
    """The index slice of the monotonic ``centres`` lying in ``[low, high]``.

    Works for ascending and descending axes; an empty slice when none lies inside.
    """
    inside = np.flatnonzero((centres >= low) & (centres <= high))
    if inside.size == 0:
        return slice(0, 0)
    return slice(int(inside.min()), int(inside.max()) + 1)


def regular_spacing(centres: np.ndarray, name: str, source: str,
                    nominal: float | None = None) -> float:
    """The constant spacing [degree] of a 1-D coordinate (signed: negative if descending).

    Parameters
    ----------
    centres : the coordinate values.
    name, source : variable and file named in errors.
    nominal : spacing to return for a single-value axis; None makes that an error.

    Raises
    ------
    TccasInputError
        If the axis is not strictly monotonic with one spacing (within
        :data:`SPACING_TOLERANCE` of a step), or has one value and no ``nominal``.
    """
    if centres.size < 2:
        if nominal is None or centres.size == 0:
            raise TccasInputError(f"{source}: coordinate '{name}' has {centres.size} "
                                  "value(s); its spacing cannot be determined")
        return float(nominal)
    steps = np.diff(centres.astype(np.float64))
    step = float(np.median(steps))
    if step == 0.0 or np.max(np.abs(steps - step)) > SPACING_TOLERANCE * abs(step):
        raise TccasInputError(f"{source}: coordinate '{name}' is not regularly spaced "
                              f"(steps from {steps.min()!r} to {steps.max()!r})")
    return step


def latlon_cell_corners(
    lat: np.ndarray, lon: np.ndarray, half_dlat: float | np.ndarray,
    half_dlon: float | np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Corners of lat/lon cells, counter-clockwise from the south-west.

    Parameters
    ----------
    lat, lon : (n,) [degree] cell centres.
    half_dlat, half_dlon : [degree] half the cell size (positive), scalars or (n,).

    Returns
    -------
    tuple of numpy.ndarray
        (n, 4) corner latitudes (clipped to [-90, 90]) and longitudes [degree].
    """
    south = np.clip(lat - half_dlat, -90.0, 90.0)
    north = np.clip(lat + half_dlat, -90.0, 90.0)
    west = lon - half_dlon
    east = lon + half_dlon
    return (np.stack([south, south, north, north], axis=1),
            np.stack([west, east, east, west], axis=1))


def decode_floats(variable: netCDF4.Variable, index: tuple = ()) -> np.ndarray:
    """Read ``variable[index]`` raw and decode it as CF prescribes, as float64 with NaN.

    Values equal to ``_FillValue`` or ``missing_value``, or outside ``valid_range`` /
    ``valid_min`` / ``valid_max`` (packed units), become NaN; ``_Unsigned = "true"`` on a
    signed integer type reinterprets the bytes as unsigned; then ``scale_factor`` and
    ``add_offset`` are applied.
    """
    raw = np.asarray(variable[index] if index else variable[:])
    attrs = variable.ncattrs()
    if (raw.dtype.kind == "i" and "_Unsigned" in attrs
            and str(variable.getncattr("_Unsigned")).lower() == "true"):
        raw = raw.view(raw.dtype.str.replace("i", "u"))
    values = raw.astype(np.float64)
    invalid = ~np.isfinite(values)
    for key in ("_FillValue", "missing_value"):
        if key in attrs:
            invalid |= np.isin(raw, np.atleast_1d(variable.getncattr(key)).astype(raw.dtype))
    low, high = _valid_limits(variable)
    if low is not None:
        invalid |= values < low
    if high is not None:
        invalid |= values > high
    values[invalid] = np.nan
    if "scale_factor" in attrs:
        values *= float(variable.getncattr("scale_factor"))
    if "add_offset" in attrs:
        values += float(variable.getncattr("add_offset"))
    return values


def row_blocks(n_rows: int, n_cols: int, max_cells: int = BLOCK_CELLS) -> Iterator[slice]:
    """Consecutive row slices of a raster, each of at most ``max_cells`` cells (>= 1 row)."""
    step = max(1, max_cells // max(1, n_cols))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


def qc_bit_field(failed: Sequence[NDArray[np.bool_]], n: int) -> NDArray[np.uint16]:
    """The ``qc`` column of a canonical table (:mod:`tccas.catalog.observations`): bit i
    set where ``failed[i]`` (the i-th screen, in the order of the reader's
    ``QC_MEANINGS``) is true, over ``n`` rows; 0 = passed every screen."""
    qc = np.zeros(n, dtype=np.uint16)
    for bit, fails in enumerate(failed):
        qc[fails] |= np.uint16(1 << bit)
    return qc


def screened_table(path: Path, *, stream: str, units: str,
                   failed: Sequence[NDArray[np.bool_]], qc_meanings: Sequence[str],
                   rules: Any, reader: str, **columns: Any) -> xr.Dataset:
    """The canonical observation table of one product file after its reader's screens
    (shared by the SMOS L2 and SMOS-IC readers).

    Parameters
    ----------
    path : the product file; its name is every row's ``source``.
    stream, units : the stream and the units of ``value`` and ``sigma``.
    failed : one boolean row mask per screen, in the order of ``qc_meanings``
        (:func:`qc_bit_field`).
    rules : the screening thresholds (a dataclass), stored as ``qc_thresholds``.
    reader : dotted name of the reader function.
    columns : the other keyword arguments of
        :func:`tccas.catalog.observations.build_observations` (``time``, ``value``,
        ``sigma``, ``latitude``, ``longitude``, ``footprint_model``, ``footprint``,
        ``extra``, ``attrs``).
    """
    return build_observations(
        stream=stream, units=units, source=path.name,
        qc=qc_bit_field(failed, np.size(columns["value"])), qc_meanings=qc_meanings,
        reader=reader, qc_thresholds=asdict(rules), **columns)


def write_latlon_coordinates(nc: netCDF4.Dataset, lat: NDArray[np.float64],
                             lon: NDArray[np.float64],
                             names: tuple[str, str] = ("lat", "lon")) -> None:
    """Write the float64 coordinate variables of a lat/lon product writer: ``names[0]``
    = ``lat`` [degrees_north] and ``names[1]`` = ``lon`` [degrees_east], on dimensions of
    the same names that the writer has created."""
    for name, values, units in ((names[0], lat, "degrees_north"),
                                (names[1], lon, "degrees_east")):
        coordinate = nc.createVariable(name, "f8", (name,))
        coordinate.units = units
        coordinate[:] = values


def write_annual_latlon_frame(nc: netCDF4.Dataset, lat: NDArray[np.float64],
                              lon: NDArray[np.float64], year: int, time_dtype: str) -> None:
    """Lay out the frame of an annual ESA CCI lat/lon map (CCI Land Cover, CCI Biomass):
    dimensions ``time`` (1), ``lat``, ``lon``; ``time`` = 1 January of ``year`` in
    :data:`ANNUAL_TIME_UNITS` (standard calendar) stored as ``time_dtype`` (``"i4"`` in the
    land-cover maps, ``"f8"`` in the biomass maps); the coordinates
    (:func:`write_latlon_coordinates`, [degree]); the scalar ``crs`` variable with
    :data:`WGS84_GRID_MAPPING`, which the data variables name as ``grid_mapping``."""
    nc.createDimension("time", 1)
    nc.createDimension("lat", lat.size)
    nc.createDimension("lon", lon.size)
    time = nc.createVariable("time", time_dtype, ("time",))
    time.setncatts({"units": ANNUAL_TIME_UNITS, "calendar": "standard"})
    time[:] = (np.datetime64(f"{year:04d}-01-01") - np.datetime64("1970-01-01")).astype(int)
    write_latlon_coordinates(nc, lat, lon)
    crs = nc.createVariable("crs", "i4")
    crs.setncatts(WGS84_GRID_MAPPING)


def annual_map_summary(path: Path, product: str, year: int | None, shape: tuple[int, int],
                       streams: dict[str, dict[str, int]]) -> dict:
    """The ``inspect`` summary of an annual lat/lon map (CCI Land Cover PFT and class
    maps): ``file``, ``product``, ``year``, ``grid_shape`` (n_lat, n_lon), ``n_records``
    (cells), ``time_start``/``time_end`` (1 January and 31 December of the year, None
    when it is unknown) and ``streams``."""
    return {
        "file": path.name,
        "product": product,
        "year": year,
        "grid_shape": (int(shape[0]), int(shape[1])),
        "n_records": int(shape[0] * shape[1]),
        "time_start": None if year is None else f"{year:04d}-01-01T00:00:00",
        "time_end": None if year is None else f"{year:04d}-12-31T23:59:59",
        "streams": streams,
    }


def iso_time(time: np.datetime64) -> str:
    """ISO 8601 text of a UTC time to the second (to the microsecond if it has them)."""
    unit = "s" if time.astype("datetime64[us]").astype(np.int64) % 1_000_000 == 0 else "us"
    return str(np.datetime_as_string(time, unit=unit))


def _valid_limits(variable: netCDF4.Variable) -> tuple[float | None, float | None]:
    """(low, high) of ``valid_range`` or ``valid_min``/``valid_max``, None where absent."""
    attrs = variable.ncattrs()
    if "valid_range" in attrs:
        low, high = np.asarray(variable.getncattr("valid_range"), dtype=np.float64)[:2]
        return float(low), float(high)
    low = float(variable.getncattr("valid_min")) if "valid_min" in attrs else None
    high = float(variable.getncattr("valid_max")) if "valid_max" in attrs else None
    return low, high


@contextmanager
def open_geotiff(path: Path, mask_and_scale: bool = True) -> Iterator[xr.DataArray]:
    """Open a GeoTIFF lazily with rioxarray, turning GDAL failures into user errors.

    Parameters
    ----------
    path : the file.
    mask_and_scale : decode nodata to NaN and apply scale/offset (floats); False keeps the
        stored values (class codes).

    Raises
    ------
    TccasInputError
        The file is missing, cannot be opened as a raster, or reading it fails (corrupt).
    """
    if not path.is_file():
        raise TccasInputError(f"{path}: file not found")
    try:
        band = rioxarray.open_rasterio(path, mask_and_scale=mask_and_scale,
                                       parse_coordinates=False)
    except (RasterioError, OSError) as err:
        raise TccasInputError(f"{path}: cannot be opened as GeoTIFF ({err}); the file is "
                              f"empty, truncated or not a raster ({path.stat().st_size} "
                              "bytes)") from err
    try:
        yield band
    except (RasterioError, OSError, RuntimeError) as err:
        raise TccasInputError(f"{path}: reading failed ({err}); the file is corrupt") from err
    finally:
        band.close()
