"""SMOS-IC (INRAE/CESBIO) daily soil moisture and L-band VOD: reader and format writer.

SMOS-IC retrieves soil moisture and nadir vegetation optical depth (L-VOD) from SMOS
multi-angular brightness temperatures, independently of auxiliary vegetation data
(Fernandez-Moran et al. 2017; Wigneron et al. 2021). One file holds one UTC day of
ascending (``CDF3SA``) or descending (``CDF3SD``) overpasses on the global EASE-Grid 2.0
25 km grid.

Layout (what the writer produces and the reader expects; EO_FORMATS.md section 2.5 and the
TUW-GEO ``smos`` package [M7], whose reader and tests were read for this module):

* file name ``SM_RE06_MIR_CDF3S<A|D>_<YYYYMMDD>T000000_<YYYYMMDD>T235959_105_001_8.DBL.nc``
  (H [M7]; :func:`smos_ic_file_name`);
* flat netCDF-4, dimensions ``lat`` = 584 and ``lon`` = 1388 on the global grid (H [M7]);
  1-D ``lat`` and ``lon`` (float64, the EASE-2 cell centres); ``lat`` *ascending*, i.e.
  the rows are stored south-up and ``numpy.flipud`` gives north-up images (H: the TUW
  reader flips both data and latitudes, and its test finds 0.198517 m3 m-3 at north-up row
  355, column 458, latitude -12.55398, longitude -61.08069, which this module's EASE-2
  geometry reproduces to 1e-5 degree). A regional subset keeps the same layout with fewer
  rows and columns (as the TUW subset writer does);
* variables (lat, lon), names, long names and units from TUW ``docs/varnames.rst`` (H) and
  the SMOS-IC v2 list [M8] (H): ``Soil_Moisture``, ``Soil_Moisture_StdError`` [m3 m-3],
  ``Optical_Thickness_Nad``, ``Optical_Thickness_Nad_StdError`` [1], ``RMSE`` (TB fit)
  [K], ``Soil_Temperature_Level1`` (ECMWF) [K], ``Quality_Flag`` (0 data OK, 1 not
  recommended, 2 missing), ``Scene_Flags``, ``Processing_Flags``, ``Days`` (since
  2000-01-01), ``UTC_Seconds``, ``UTC_Microseconds``;
* dtypes and fill values are not documented in the sources we found (L, PROPOSED): float32
  with ``_FillValue = -999`` (as the SMOS L2 and CATDS products), int32 times with
  ``_FillValue = -999``, uint8 flags with ``_FillValue = 255``; the reader honours any
  declared ``_FillValue``/``missing_value`` and NaN, so it does not depend on this choice.

Reader conventions:

* Streams ``"sm_surface"`` (``Soil_Moisture`` [m3 m-3]) and ``"vod"``
  (``Optical_Thickness_Nad``, nepers, dimensionless: units ``"1"``). Rows are the cells
  with ``Quality_Flag != 2``, a value, and an acquisition time.
* Time = 2000-01-01T00:00 UTC + ``Days`` + ``UTC_Seconds`` + ``UTC_Microseconds``, checked
  against the day in the file name.
* Sigma = the product's ``*_StdError`` where it is present and positive. Where it is
  missing (fill, <= 0, or the variable absent as in SMOS-IC v1, whose variable list has no
  VOD error) a fixed PROPOSED sigma is used, :data:`FALLBACK_SIGMA`: 0.04 m3 m-3 for soil
  moisture, the SMOS mission accuracy target (Kerr et al. 2010), and 0.1 for VOD, about the
  median SMOS L2 VOD DQX (0.086) rounded up. Each row says which in ``sigma_from_product``.
* Footprint: the EASE-2 cell itself (``footprint_model = "corners"``). SMOS-IC values are
  per cell, and an EASE-2 cell is a 25.025 km square in EPSG:6933 (cylindrical equal area),
  so its corners, projected back to lon/lat with pyproj, are exact lon/lat rectangle
  corners. The antenna footprint (30-50 km) is wider than the cell; that smoothing is
  already in the product's values, so it is not modelled again (a circle of the L2 AFP
  radius would be the alternative).
* Screening (:class:`SmosIcScreening`) sets ``qc`` bits, never removes rows.

References
----------
Fernandez-Moran, R. et al. (2017): SMOS-IC: an alternative SMOS soil moisture and vegetation
optical depth product. Remote Sens. 9, 457, doi:10.3390/rs9050457.
Wigneron, J.-P. et al. (2021): SMOS-IC data record of soil moisture and L-VOD: historical
development, applications and perspectives. Remote Sens. Environ. 254, 112238,
doi:10.1016/j.rse.2020.112238.
Kerr, Y. H. et al. (2010): The SMOS mission: new tool for monitoring key elements of the
global water cycle. Proc. IEEE 98, 666-687, doi:10.1109/JPROC.2010.2043032.
Brodzik, M. J. et al. (2012): EASE-Grid 2.0. ISPRS Int. J. Geo-Inf. 1, 32-45,
doi:10.3390/ijgi1010032 (EPSG:6933; 25 km cell = 25025.2600081 m, 1388 x 584 cells).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import netCDF4
import numpy as np
import xarray as xr
from pyproj import CRS

from tccas.catalog.grid import WGS84_LONLAT, transformer, wrap_longitude
from tccas.catalog.gridded import (
    BBox,
    axis_window,
    check_bbox,
    decode_floats,
    iso_time,
    screened_table,
)
from tccas.catalog.observations import (
    FOOTPRINT_CORNERS,
    open_product,
    passed_qc,
)
from tccas.catalog.smos import SMOS_EPOCH
from tccas.model.errors import TccasInputError

PRODUCT = "SMOS-IC"
EASE2_GLOBAL = CRS.from_epsg(6933)
EASE2_CELL_M = 25025.2600081
EASE2_SHAPE = (584, 1388)
_X_WEST = -EASE2_SHAPE[1] * EASE2_CELL_M / 2.0
_Y_NORTH = EASE2_SHAPE[0] * EASE2_CELL_M / 2.0
# A file coordinate must lie this close to an EASE-2 cell centre [fraction of a cell].
CENTRE_TOLERANCE = 1e-3

# Retrieval times may lie this far outside the file's UTC day.
DAY_TOLERANCE = np.timedelta64(60, "s")
FILE_NAME = re.compile(
    r"^SM_(?P<mode>\w{4})_MIR_CDF3S(?P<direction>[AD])_(?P<start>\d{8})T\d{6}_"
    r"(?P<stop>\d{8})T\d{6}_\d{3}_\d{3}_\d\.DBL\.nc$"
)

FLOAT_FILL = -999.0
INT_FILL = -999
FLAG_FILL = 255
QUALITY_MISSING = 2


@dataclass(frozen=True)
class SmosIcStream:
    """Which product variables make one observation stream, and its fallback sigma."""

    variable: str
    sigma_variable: str
    units: str
    fallback_sigma: float


SMOS_IC_STREAMS: dict[str, SmosIcStream] = {
    "sm_surface": SmosIcStream("Soil_Moisture", "Soil_Moisture_StdError", "m3 m-3", 0.04),
    "vod": SmosIcStream("Optical_Thickness_Nad", "Optical_Thickness_Nad_StdError", "1", 0.1),
}
FALLBACK_SIGMA = {name: spec.fallback_sigma for name, spec in SMOS_IC_STREAMS.items()}
"""PROPOSED sigma where the product gives no StdError (see the module docstring)."""


@dataclass(frozen=True)
class SmosIcScreening:
    """Quality-screening thresholds for one SMOS-IC stream.

    Each failed test sets its bit of ``qc`` (``QC_MEANINGS``, in this order); a missing
    (NaN) RMSE or soil temperature counts as failed. Defaults: :data:`DEFAULT_SCREENING`.

    Attributes
    ----------
    value_min, value_max : value must lie in ``[value_min, value_max]`` [stream units]:
        soil moisture [0, 0.6] m3 m-3 and VOD [0, 1.5], as for SMOS L2
        (:class:`tccas.catalog.smos.SmosScreening`).
    max_sigma : the product StdError must be ``< max_sigma``; 0.06 m3 m-3 and 0.2 for VOD,
        the SMOS L2 thresholds (PROPOSED). Rows on the fallback sigma are not tested.
    max_quality_flag : ``Quality_Flag`` must be ``<= max_quality_flag``; 0 keeps only
        "data OK" (product definition [M7]); 1 also keeps "not recommended".
    max_rmse_k : [K] the brightness-temperature fit ``RMSE`` must be ``< max_rmse_k``;
        8 K (PROPOSED: a fit worse than about twice the SMOS radiometric noise points to
        RFI or an unmodelled scene).
    min_soil_temperature_k : [K] ``Soil_Temperature_Level1`` must be ``>=`` this; 273.15
        (frozen soil has the dielectric constant of dry soil at L-band, so the retrieval
        is meaningless).
    scene_flags_mask : ``Scene_Flags & scene_flags_mask`` must be 0; 0 (PROPOSED: the bit
        meanings of ``Scene_Flags`` are not documented in the sources we found, so no bit
        rejects by default; the raw flags are kept per row as ``scene_flags``).
    """

    value_min: float
    value_max: float
    max_sigma: float
    max_quality_flag: int = 0
    max_rmse_k: float = 8.0
    min_soil_temperature_k: float = 273.15
    scene_flags_mask: int = 0


DEFAULT_SCREENING: dict[str, SmosIcScreening] = {
    "sm_surface": SmosIcScreening(value_min=0.0, value_max=0.6, max_sigma=0.06),
    "vod": SmosIcScreening(value_min=0.0, value_max=1.5, max_sigma=0.2),
}

QC_MEANINGS = (
    "QUALITY_FLAG", "VALUE_RANGE", "SIGMA_TOO_LARGE", "TB_FIT_RMSE", "FROZEN_SOIL",
    "SCENE_FLAGS",
)


@dataclass(frozen=True)
class _Field:
    """One (lat, lon) variable of the layout."""

    name: str
    long_name: str
    units: str
    dtype: str
    fill: float | int


_FIELDS = (
    _Field("Soil_Moisture", "Soil Moisture", "m3 m-3", "f4", FLOAT_FILL),
    _Field("Soil_Moisture_StdError", "Soil Moisture standard error", "m3 m-3", "f4",
           FLOAT_FILL),
    _Field("Optical_Thickness_Nad", "Nadir optical thickness (L-VOD)", "1", "f4", FLOAT_FILL),
    _Field("Optical_Thickness_Nad_StdError", "Nadir optical thickness standard error", "1",
           "f4", FLOAT_FILL),
    _Field("RMSE", "RMSE TBmeas. TB modeled", "K", "f4", FLOAT_FILL),
    _Field("Soil_Temperature_Level1", "ECMWF Soil Temperature at surface level 1", "K", "f4",
           FLOAT_FILL),
    _Field("Quality_Flag", "0: data OK, 1: data not recommended, 2: missing data", "1", "u1",
           FLAG_FILL),
    _Field("Scene_Flags", "Scene Flags", "1", "u1", FLAG_FILL),
    _Field("Processing_Flags", "Processing Flags", "1", "u1", FLAG_FILL),
    _Field("Days", "Number of Days since 1/1/2000", "days", "i4", INT_FILL),
    _Field("UTC_Seconds", "Number of Seconds", "s", "i4", INT_FILL),
    _Field("UTC_Microseconds", "Microseconds", "micros.", "i4", INT_FILL),
)
_TIME_FIELDS = ("Days", "UTC_Seconds", "UTC_Microseconds")
_REQUIRED = ("lat", "lon", "Quality_Flag", "RMSE", "Soil_Temperature_Level1", "Scene_Flags",
             *_TIME_FIELDS)


# ------------------------------------------------------------------------- EASE-2 grid
def ease2_centres() -> tuple[np.ndarray, np.ndarray]:
    """Cell centres of the global EASE-Grid 2.0 25 km grid.

    Returns
    -------
    tuple of numpy.ndarray
        (584,) latitudes north to south and (1388,) longitudes west to east [degree].
    """
    rows = np.arange(EASE2_SHAPE[0])
    cols = np.arange(EASE2_SHAPE[1])
    _, lat = _ease2_to_lonlat(np.zeros(rows.size), _Y_NORTH - (rows + 0.5) * EASE2_CELL_M)
    lon, _ = _ease2_to_lonlat(_X_WEST + (cols + 0.5) * EASE2_CELL_M, np.zeros(cols.size))
    return lat, lon


def ease2_cell_of(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """North-up (row, column) of the EASE-2 25 km cell holding each lon/lat point.

    Points outside the grid's latitude range (beyond about 84 degrees) get -1.
    """
    x, y = transformer(WGS84_LONLAT, EASE2_GLOBAL).transform(
        np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64))
    col = np.floor((np.asarray(x) - _X_WEST) / EASE2_CELL_M).astype(np.int64)
    row = np.floor((_Y_NORTH - np.asarray(y)) / EASE2_CELL_M).astype(np.int64)
    inside = (row >= 0) & (row < EASE2_SHAPE[0]) & (col >= 0) & (col < EASE2_SHAPE[1])
    return np.where(inside, row, -1), np.where(inside, col, -1)


def ease2_cell_corners(row: np.ndarray, col: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Corners of EASE-2 25 km cells, counter-clockwise from the south-west.

    Parameters
    ----------
    row, col : (n,) north-up row and column indices.

    Returns
    -------
    tuple of numpy.ndarray
        (n, 4) corner latitudes and longitudes [degree]: the cell is a rectangle in
        EPSG:6933, and so a lon/lat rectangle; longitudes continuous around the centre
        (the cells of the first and last columns reach exactly -180 and 180).
    """
    row = np.asarray(row, dtype=np.int64)
    col = np.asarray(col, dtype=np.int64)
    west, south = _ease2_to_lonlat(_X_WEST + col * EASE2_CELL_M,
                                   _Y_NORTH - (row + 1) * EASE2_CELL_M)
    east, north = _ease2_to_lonlat(_X_WEST + (col + 1) * EASE2_CELL_M,
                                   _Y_NORTH - row * EASE2_CELL_M)
    centre, _ = _ease2_to_lonlat(_X_WEST + (col + 0.5) * EASE2_CELL_M, np.zeros(col.size))
    # the outer edges of the first and last columns are +-180: keep each cell continuous
    west = centre + wrap_longitude(west - centre)
    east = centre + wrap_longitude(east - centre)
    return (np.stack([south, south, north, north], axis=1),
            np.stack([west, east, east, west], axis=1))


def smos_ic_file_name(day: dt.date, orbit_direction: str) -> str:
    """The SMOS-IC v2 file name of one day and orbit direction (``"A"`` or ``"D"``)."""
    if orbit_direction not in ("A", "D"):
        raise TccasInputError(f"SMOS-IC orbit direction {orbit_direction!r} must be 'A' "
                              "(ascending) or 'D' (descending)")
    stamp = f"{day:%Y%m%d}"
    return f"SM_RE06_MIR_CDF3S{orbit_direction}_{stamp}T000000_{stamp}T235959_105_001_8.DBL.nc"


# ------------------------------------------------------------------------------ reader
def read_smos_ic(
    path: str | Path,
    stream: str,
    screening: SmosIcScreening | None = None,
    bbox: BBox | None = None,
) -> xr.Dataset:
    """Read one SMOS-IC daily file into a canonical observation table.

    Parameters
    ----------
    path : a ``SM_*_MIR_CDF3S[AD]_*.DBL.nc`` file (global or a regional subset).
    stream : ``"sm_surface"`` or ``"vod"`` (see :data:`SMOS_IC_STREAMS`).
    screening : quality thresholds; default ``DEFAULT_SCREENING[stream]``.
    bbox : (west, south, east, north) [degree]: read only cells whose centre lies inside.

    Returns
    -------
    xarray.Dataset
        The canonical table (:mod:`tccas.catalog.observations`), ``footprint_model =
        "corners"`` (the EASE-2 cell), with extra variables ``ease2_row``, ``ease2_col``
        (north-up indices on the global grid), ``quality_flag``, ``scene_flags``,
        ``rmse_tb`` [K], ``soil_temperature`` [K] and ``sigma_from_product`` (bool).
        Attributes add ``product``, ``orbit_direction`` (``"A"``/``"D"``/``""``) and
        ``sigma_source``.

    Raises
    ------
    TccasInputError
        If the file cannot be read, lacks a variable, has a variable of the wrong shape,
        coordinates off the EASE-2 25 km grid, times outside the day of its name, or the
        stream's variable is fill in every cell that ``Quality_Flag`` marks as holding
        data; the message names the file and the variable. (A file or ``bbox`` without
        any retrieval, a day without overpass, gives an empty table.)
    """
    if stream not in SMOS_IC_STREAMS:
        raise TccasInputError(f"SMOS-IC stream {stream!r} is unknown; expected one of "
                              f"{', '.join(SMOS_IC_STREAMS)}")
    spec = SMOS_IC_STREAMS[stream]
    rules = DEFAULT_SCREENING[stream] if screening is None else screening
    path = Path(path)
    window = check_bbox(bbox, str(path))
    with open_product(path) as nc:
        rows, cols = _check_layout(nc, path, spec)
        lat_index, lon_index = _window(nc, window)
        index = (lat_index, lon_index)
        value = decode_floats(nc[spec.variable], index)
        has_sigma = spec.sigma_variable in nc.variables
        sigma = (decode_floats(nc[spec.sigma_variable], index) if has_sigma
                 else np.full(value.shape, np.nan))
        quality = decode_floats(nc["Quality_Flag"], index)
        time = _acquisition_time(nc, index)
        fields = {
            "rmse_tb": decode_floats(nc["RMSE"], index),
            "soil_temperature": decode_floats(nc["Soil_Temperature_Level1"], index),
            "scene_flags": nc["Scene_Flags"][index],
        }
    row_grid, col_grid = np.meshgrid(rows[lat_index], cols[lon_index], indexing="ij")
    flagged = np.nan_to_num(quality, nan=QUALITY_MISSING) != QUALITY_MISSING
    if flagged.any() and not np.isfinite(value[flagged]).any():
        raise TccasInputError(f"{path}: variable '{spec.variable}' is fill in all "
                              f"{int(flagged.sum())} cells whose Quality_Flag says data")
    selected = np.flatnonzero(flagged & np.isfinite(value) & ~np.isnat(time))
    value, sigma, quality, time = (a.ravel()[selected] for a in (value, sigma, quality, time))
    fields = {key: np.asarray(a).ravel()[selected] for key, a in fields.items()}
    row_index, col_index = row_grid.ravel()[selected], col_grid.ravel()[selected]
    _check_day(path, time)
    from_product = np.isfinite(sigma) & (sigma > 0)
    sigma = np.where(from_product, sigma, spec.fallback_sigma)
    scene = fields["scene_flags"].astype(np.int64)
    failed = (
        ~(quality <= rules.max_quality_flag),
        ~((value >= rules.value_min) & (value <= rules.value_max)),
        from_product & ~(sigma < rules.max_sigma),
        ~(fields["rmse_tb"] < rules.max_rmse_k),
        ~(fields["soil_temperature"] >= rules.min_soil_temperature_k),
        (scene & rules.scene_flags_mask) != 0,
    )
    corner_lat, corner_lon = ease2_cell_corners(row_index, col_index)
    lat_all, lon_all = ease2_centres()
    match = FILE_NAME.match(path.name)
    return screened_table(
        path, stream=stream, units=spec.units, failed=failed, qc_meanings=QC_MEANINGS,
        rules=rules, reader=f"{__name__}.read_smos_ic",
        time=time,
        value=value,
        sigma=sigma,
        latitude=lat_all[row_index],
        longitude=lon_all[col_index],
        footprint_model=FOOTPRINT_CORNERS,
        footprint={"corner_latitude": corner_lat, "corner_longitude": corner_lon},
        extra={
            "ease2_row": (row_index.astype(np.int32), None),
            "ease2_col": (col_index.astype(np.int32), None),
            "quality_flag": (quality.astype(np.uint8), None),
            "scene_flags": (scene.astype(np.int32), None),
            "rmse_tb": (fields["rmse_tb"], "K"),
            "soil_temperature": (fields["soil_temperature"], "K"),
            "sigma_from_product": (from_product, None),
        },
        attrs={
            "product": PRODUCT,
            "orbit_direction": match["direction"] if match else "",
            "sigma_source": (f"{spec.sigma_variable} where present and > 0, otherwise "
                             f"{spec.fallback_sigma} {spec.units} (PROPOSED fallback)"),
        },
    )


def inspect_smos_ic(path: str | Path) -> dict:
    """Summarise a SMOS-IC file: day, orbit direction, grid size and rows per stream.

    Parameters
    ----------
    path : a SMOS-IC daily netCDF file.

    Returns
    -------
    dict
        ``file``, ``product`` (``"SMOS-IC"``), ``orbit_direction``, ``grid_shape``
        ((n_lat, n_lon) of the file), ``n_records`` (cells in the file),
        ``time_start``/``time_end`` (ISO UTC of the retrievals, None without any) and
        ``streams``: per stream ``n_valid`` (rows read) and ``n_after_qc`` (rows with
        ``qc == 0`` under the default screening).

    Raises
    ------
    TccasInputError
        As :func:`read_smos_ic`.
    """
    path = Path(path)
    tables = {stream: read_smos_ic(path, stream) for stream in SMOS_IC_STREAMS}
    times = np.concatenate([table["time"].values for table in tables.values()])
    with open_product(path) as nc:
        shape = (len(nc["lat"]), len(nc["lon"]))
    return {
        "file": path.name,
        "product": PRODUCT,
        "orbit_direction": tables["sm_surface"].attrs["orbit_direction"],
        "grid_shape": shape,
        "n_records": shape[0] * shape[1],
        "time_start": iso_time(times.min()) if times.size else None,
        "time_end": iso_time(times.max()) if times.size else None,
        "streams": {
            stream: {"n_valid": table.sizes["obs"],
                     "n_after_qc": passed_qc(table).sizes["obs"]}
            for stream, table in tables.items()
        },
    }


# ------------------------------------------------------------------------------ writer
def write_smos_ic(
    path: str | Path,
    retrievals: Mapping[str, np.ndarray] | xr.Dataset,
    *,
    bbox: BBox | None = None,
) -> Path:
    """Write a SMOS-IC daily file (the layout of the module docstring).

    Parameters
    ----------
    path : the file to create (overwritten); name it with :func:`smos_ic_file_name` so
        that readers find the day and the orbit direction.
    retrievals : per-retrieval (n,) arrays: ``latitude``, ``longitude`` [degree] (any
        point inside the EASE-2 cell, snapped to it), ``time`` (datetime64, UTC), and the
        product variables by name (``Soil_Moisture``, ``Soil_Moisture_StdError``,
        ``Optical_Thickness_Nad``, ``Optical_Thickness_Nad_StdError``, ``RMSE``,
        ``Soil_Temperature_Level1``, ``Quality_Flag`` (default 0), ``Scene_Flags``,
        ``Processing_Flags`` (default 0)); NaN is written as the fill value. Cells without
        a retrieval get ``Quality_Flag`` 2 and fill everywhere.
    bbox : (west, south, east, north) [degree] of a regional subset (the cells whose
        centre lies inside); None writes the global 584 x 1388 grid.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    TccasInputError
        If ``latitude``, ``longitude`` or ``time`` is missing, arrays differ in length,
        a retrieval lies outside the written extent or two share a cell.
    """
    path = Path(path)
    arrays = {name: np.asarray(retrievals[name]) for name in retrievals}
    missing = [name for name in ("latitude", "longitude", "time") if name not in arrays]
    if missing:
        raise TccasInputError(f"SMOS-IC writer ({path}): retrievals lack {', '.join(missing)}")
    n = arrays["latitude"].size
    for name, values in arrays.items():
        if values.shape != (n,):
            raise TccasInputError(f"SMOS-IC writer ({path}): '{name}' has shape "
                                  f"{values.shape}, expected ({n},)")
    time = arrays["time"]
    if time.dtype.kind != "M" or np.isnat(time).any():
        raise TccasInputError(f"SMOS-IC writer ({path}): 'time' must hold one datetime64 "
                              "(UTC) per retrieval")
    lat_all, lon_all = ease2_centres()
    window = check_bbox(bbox, str(path))
    if window is None:
        north_rows, cols = np.arange(EASE2_SHAPE[0]), np.arange(EASE2_SHAPE[1])
    else:
        west, south, east, north = window
        lat_slice = axis_window(lat_all, south, north)
        lon_slice = axis_window(lon_all, west, east)
        north_rows = np.arange(EASE2_SHAPE[0])[lat_slice]
        cols = np.arange(EASE2_SHAPE[1])[lon_slice]
        if north_rows.size == 0 or cols.size == 0:
            raise TccasInputError(f"SMOS-IC writer ({path}): bbox {bbox} holds no EASE-2 "
                                  "cell centre")
    row, col = ease2_cell_of(arrays["longitude"], arrays["latitude"])
    # file rows are stored south-up: file row 0 is the southernmost written row
    file_row = north_rows[-1] - row
    file_col = col - cols[0]
    outside = ((row < north_rows[0]) | (row > north_rows[-1]) | (col < cols[0])
               | (col > cols[-1]))
    if np.any(outside):
        first = int(np.flatnonzero(outside)[0])
        raise TccasInputError(f"SMOS-IC writer ({path}): retrieval {first} at lat "
                              f"{arrays['latitude'][first]}, lon {arrays['longitude'][first]} "
                              "lies outside the written extent")
    flat = file_row * cols.size + file_col
    if np.unique(flat).size != n:
        raise TccasInputError(f"SMOS-IC writer ({path}): two retrievals share one EASE-2 cell")
    since_epoch = (time.astype("datetime64[ns]") - SMOS_EPOCH).astype(np.int64)
    days, rest = np.divmod(since_epoch, 86_400 * 10**9)
    seconds, nanoseconds = np.divmod(rest, 10**9)
    arrays.update({"Days": days, "UTC_Seconds": seconds,
                   "UTC_Microseconds": nanoseconds // 1000})
    arrays.setdefault("Quality_Flag", np.zeros(n))
    arrays.setdefault("Processing_Flags", np.zeros(n))
    shape = (north_rows.size, cols.size)
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        nc.setncatts({
            "title": "SMOS-IC soil moisture and L-VOD (TCCAS format writer)",
            "institution": "INRAE / CESBIO layout, written by tccas",
            "grid": "EASE-Grid 2.0 global 25 km (EPSG:6933), rows stored south-up",
        })
        nc.createDimension("lat", shape[0])
        nc.createDimension("lon", shape[1])
        lat_var = nc.createVariable("lat", "f8", ("lat",))
        lat_var.setncatts({"long_name": "latitude", "units": "degrees_north"})
        lat_var[:] = lat_all[north_rows][::-1]
        lon_var = nc.createVariable("lon", "f8", ("lon",))
        lon_var.setncatts({"long_name": "longitude", "units": "degrees_east"})
        lon_var[:] = lon_all[cols]
        for field in _FIELDS:
            variable = nc.createVariable(field.name, field.dtype, ("lat", "lon"), zlib=True,
                                         fill_value=field.fill)
            variable.setncatts({"long_name": field.long_name, "units": field.units})
            grid = np.full(shape[0] * shape[1], field.fill, dtype=field.dtype)
            if field.name == "Quality_Flag":
                grid[:] = QUALITY_MISSING
            if field.name in arrays:
                values = np.asarray(arrays[field.name], dtype=np.float64)
                grid[flat] = np.where(np.isfinite(values), values, field.fill)
            variable[:] = grid.reshape(shape)
    return path


# ---------------------------------------------------------------------------- helpers
def _ease2_to_lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:6933 metres to WGS84 lon/lat [degree]."""
    lon, lat = transformer(EASE2_GLOBAL, WGS84_LONLAT).transform(x, y)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _check_layout(nc: netCDF4.Dataset, path: Path, spec: SmosIcStream
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Check variables and shapes; return the north-up EASE-2 rows of the file's ``lat``
    values and the columns of its ``lon`` values."""
    missing = [name for name in (*_REQUIRED, spec.variable) if name not in nc.variables]
    if missing:
        raise TccasInputError(f"{path}: not a SMOS-IC file: variable(s) {', '.join(missing)} "
                              "missing")
    lat = nc["lat"][:].astype(np.float64)
    lon = nc["lon"][:].astype(np.float64)
    shape = (lat.size, lon.size)
    names = [*_REQUIRED[2:], spec.variable]
    names += [spec.sigma_variable] if spec.sigma_variable in nc.variables else []
    for name in names:
        if nc[name].shape != shape:
            raise TccasInputError(f"{path}: variable '{name}' has shape {nc[name].shape}, "
                                  f"expected {shape} (lat, lon)")
    lat_all, lon_all = ease2_centres()
    rows = _nearest_centre(lat, lat_all, "lat", path)
    cols = _nearest_centre(lon, lon_all, "lon", path)
    return rows, cols


def _nearest_centre(values: np.ndarray, centres: np.ndarray, name: str, path: Path
                    ) -> np.ndarray:
    """Indices of the EASE-2 centres equal (within tolerance) to ``values``."""
    ascending = centres[::-1] if centres[0] > centres[-1] else centres
    position = np.clip(np.searchsorted(ascending, values), 1, ascending.size - 1)
    nearer = np.where(np.abs(ascending[position - 1] - values)
                      <= np.abs(ascending[position] - values), position - 1, position)
    step = np.abs(np.diff(ascending)).min()
    off = np.abs(ascending[nearer] - values) > CENTRE_TOLERANCE * step
    if np.any(off) or not np.all(np.isfinite(values)):
        bad = values[np.flatnonzero(off | ~np.isfinite(values))[0]]
        raise TccasInputError(f"{path}: coordinate '{name}' value {bad!r} is not a cell "
                              "centre of the EASE-Grid 2.0 25 km grid")
    return (centres.size - 1 - nearer) if centres[0] > centres[-1] else nearer


def _window(nc: netCDF4.Dataset, window: BBox | None) -> tuple[slice, slice]:
    """Index slices of the file's (lat, lon) cells whose centres lie in ``window``."""
    if window is None:
        return slice(None), slice(None)
    west, south, east, north = window
    return (axis_window(nc["lat"][:], south, north), axis_window(nc["lon"][:], west, east))


def _acquisition_time(nc: netCDF4.Dataset, index: tuple[slice, slice]) -> np.ndarray:
    """UTC acquisition time of each cell (NaT where any time field is fill)."""
    parts = [decode_floats(nc[name], index) for name in _TIME_FIELDS]
    valid = np.all([np.isfinite(p) for p in parts], axis=0)
    days, seconds, microseconds = (np.where(valid, p, 0).astype(np.int64) for p in parts)
    nanoseconds = ((days * 86_400 + seconds) * 1_000_000 + microseconds) * 1_000
    time = SMOS_EPOCH + nanoseconds.astype("timedelta64[ns]")
    return np.where(valid, time, np.datetime64("NaT"))


def _check_day(path: Path, time: np.ndarray) -> None:
    """Raise if retrieval times fall outside the UTC day(s) of the file name."""
    match = FILE_NAME.match(path.name)
    if match is None or time.size == 0:
        return
    start = np.datetime64(dt.datetime.strptime(match["start"], "%Y%m%d"), "ns")
    stop = np.datetime64(dt.datetime.strptime(match["stop"], "%Y%m%d"), "ns")
    lower = start - DAY_TOLERANCE
    upper = stop + np.timedelta64(1, "D") + DAY_TOLERANCE
    if time.min() < lower or time.max() > upper:
        raise TccasInputError(
            f"{path}: variables 'Days'/'UTC_Seconds'/'UTC_Microseconds' decode (epoch "
            f"{SMOS_EPOCH}) to {time.min()} .. {time.max()}, outside the day(s) "
            f"{match['start']}..{match['stop']} of the file name"
        )
