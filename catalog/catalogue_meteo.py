"""Meteorology of the catalogue: ERA5 on the 0.25 degree lattice of meteorology cells.

The model reads hourly forcing per *meteorology cell* (ARCHITECTURE.md sections 4 and 8).
The meteorology cells of a region are the cells of the regular 0.25 degree lat/lon lattice
whose edges lie on multiples of 0.25 degree (:func:`met_lattice`); every model grid cell
takes the meteorology cell holding its centre (:func:`met_cells_of`). On a 0.25 degree
model grid (edges on multiples of 0.25 degree, as :meth:`RegionConfig.model_grid` builds
it) the lattice *is* the model grid and every model cell is its own meteorology cell; on
the 100 m LAEA grid about 60,000 fine cells share one meteorology cell.

ERA5 values sit on the points of the ERA5 grid (0.25 degree, at multiples of 0.25 degree;
ERA5-Land 0.1 degree), i.e. at the *corners* of the meteorology cells. The forcing of a
meteorology cell is ERA5 interpolated to its centre (:func:`interpolation_matrix`):

* ``bilinear`` (default): bilinear in latitude and longitude between the four surrounding
  ERA5 points; on the 0.25 degree lattice the mean of the four corner points. Exact for
  fields linear in latitude and longitude.
* ``nearest``: the ERA5 point nearest in latitude and in longitude (index space); a
  centre half-way between two points (every 0.25 degree lattice centre) takes the point
  to the north and to the east. PROPOSED tie rule.

The raw ERA5 fields (``t2m``, ``d2m``, ``sp``, ``u10``, ``v10``, the accumulations) are
interpolated first and converted afterwards with
:func:`tccas.catalog.era5.era5_to_forcing`, which owns the unit conversions and the time
convention (model hour ``[t, t + 1h)`` from the accumulations valid at ``t + 1h`` and the
mean of the instantaneous values at ``t`` and ``t + 1h``). Accumulations are linear, so
interpolating before dividing by 3600 s changes nothing; VPD and wind speed are derived
from interpolated dew point and wind components.

Static ERA5 fields (the surface elevation from the invariant geopotential) are
interpolated with the same weights to the centre of every *model* cell
(:func:`era5_field_on_grid`); on a 0.25 degree model grid that is the centre of the
cell's meteorology cell, so a cell's elevation is the reference height of its pressure.

References
----------
Hersbach, H. et al. (2020): The ERA5 global reanalysis. Q. J. R. Meteorol. Soc. 146,
1999-2049, doi:10.1002/qj.3803 (grid, accumulation convention).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import xarray as xr
from numpy.typing import NDArray

from tccas.catalog.era5 import (
    ERA5_VARIABLES,
    GEOPOTENTIAL,
    LONGWAVE_CANDIDATES,
    PRECIPITATION_CANDIDATES,
    SHORTWAVE_CANDIDATES,
    era5_to_forcing,
    open_era5,
)
from tccas.catalog.grid import Grid, GridBlock, latlon_grid, wrap_longitude
from tccas.model.errors import TccasInputError
from tccas.model.forcing import Forcing

#: [degree] spacing of the meteorology lattice (the ERA5 grid).
MET_RESOLUTION = 0.25
#: Hours per Zarr chunk along time: 365 days. Chunk boundaries drift one day per leap year
#: from calendar years; a block's forcing for a year touches at most two chunks.
HOURS_PER_CHUNK = 24 * 365
#: Hours converted at once inside a chunk (31 days): bounds the memory of one conversion.
HOURS_PER_PIECE = 24 * 31

#: Serialises netCDF/HDF5 reads between the threads of one process: the netCDF-C and HDF5
#: libraries are not thread-safe, and the product readers call netCDF4 directly.
NETCDF_LOCK = threading.RLock()

Interpolation = Literal["bilinear", "nearest"]

#: Forcing variables stored on the lattice (CO2 is one global series, stored per hour).
GRIDDED_FORCING = (
    "air_temperature", "shortwave_down", "longwave_down", "precipitation",
    "vapour_pressure_deficit", "surface_pressure", "wind_speed",
)
_INSTANT_NEEDED = ("t2m", "d2m", "sp", "u10", "v10")


def met_lattice(grid: Grid) -> Grid:
    """The 0.25 degree lattice of meteorology cells covering a model grid.

    Parameters
    ----------
    grid : the model grid (lat/lon or projected).

    Returns
    -------
    Grid
        EPSG:4326, cell edges on multiples of :data:`MET_RESOLUTION`, the smallest such
        rectangle holding the centres of every model cell. Equal to ``grid`` for a 0.25
        degree model grid on the same edges.
    """
    if grid.is_geographic:
        lon, lat = grid.x, grid.y
    else:
        # Longitude and latitude have no interior extrema on a small projected rectangle,
        # so the centres of its boundary cells bound those of all cells.
        rows = np.concatenate([np.zeros(grid.nx, int), np.full(grid.nx, grid.ny - 1),
                               np.arange(grid.ny), np.arange(grid.ny)])
        cols = np.concatenate([np.arange(grid.nx), np.arange(grid.nx),
                               np.zeros(grid.ny, int), np.full(grid.ny, grid.nx - 1)])
        lon, lat = grid.xy_to_lonlat(grid.x[cols], grid.y[rows])
        if np.ptp(lon) > 180.0:
            raise TccasInputError("the model grid spans the antimeridian; its meteorology "
                                  "lattice is not supported")
    res = MET_RESOLUTION
    west = math.floor(float(np.min(lon)) / res) * res
    east = math.floor(float(np.max(lon)) / res) * res + res
    south = math.floor(float(np.min(lat)) / res) * res
    north = math.floor(float(np.max(lat)) / res) * res + res
    return latlon_grid(west, south, east, north, res)


def met_cells_of(grid: Grid, lattice: Grid, block: GridBlock) -> NDArray[np.int64]:
    """Lattice cell id (row-major) of the meteorology cell of every cell of a block.

    Parameters
    ----------
    grid : the model grid.
    lattice : :func:`met_lattice` of ``grid``.
    block : a block of ``grid``.

    Returns
    -------
    (n_block_cells,) int64, in the order of ``block.cell_ids()``.
    """
    rows = np.arange(block.rows.start, block.rows.stop)
    cols = np.arange(block.cols.start, block.cols.stop)
    x = np.broadcast_to(grid.x[cols][None, :], (rows.size, cols.size)).ravel()
    y = np.broadcast_to(grid.y[rows][:, None], (rows.size, cols.size)).ravel()
    if grid.is_geographic:
        cells = lattice.cell_of(x, y)
    else:
        cells = lattice.cell_of(*grid.xy_to_lonlat(x, y))
    if np.any(cells < 0):
        raise TccasInputError(f"block {block.index}: a cell centre lies outside the "
                              "meteorology lattice")
    return cells


def interpolation_matrix(
    source: NDArray[np.float64], target: NDArray[np.float64], method: Interpolation,
    what: str,
) -> NDArray[np.float64]:
    """Weights of 1-D linear or nearest interpolation from ``source`` to ``target`` points.

    Applied along latitude and along longitude in turn it gives bilinear (or nearest)
    interpolation on a rectilinear grid.

    Parameters
    ----------
    source : (n_source,) increasing coordinates of the data points [degree].
    target : (n_target,) coordinates to interpolate to [degree].
    method : ``"bilinear"`` (linear along this axis) or ``"nearest"`` (ties go to the
        larger coordinate).
    what : name of the axis and the data for error messages.

    Returns
    -------
    (n_target, n_source) matrix whose rows sum to 1.

    A single source point (a site file) stands for every target within
    :data:`MET_RESOLUTION` of it.

    Raises
    ------
    TccasInputError
        A target lies outside ``[source[0], source[-1]]`` (more than
        :data:`MET_RESOLUTION` from a single point).
    """
    source = np.asarray(source, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    tolerance = MET_RESOLUTION if source.size == 1 else 1e-9
    outside = (target < source[0] - tolerance) | (target > source[-1] + tolerance)
    if np.any(outside):
        bad = float(target[np.flatnonzero(outside)[0]])
        raise TccasInputError(f"{what} covers {source[0]} .. {source[-1]} degree, but the "
                              f"region needs {bad} degree")
    matrix = np.zeros((target.size, source.size))
    rows = np.arange(target.size)
    if source.size == 1:
        matrix[:, 0] = 1.0
        return matrix
    left = np.clip(np.searchsorted(source, target, side="right") - 1, 0, source.size - 2)
    fraction = np.clip((target - source[left]) / (source[left + 1] - source[left]), 0.0, 1.0)
    if method == "nearest":
        nearest = left + (fraction >= 0.5)
        matrix[rows, nearest] = 1.0
    else:
        matrix[rows, left] += 1.0 - fraction
        matrix[rows, left + 1] += fraction
    return matrix


@dataclass(frozen=True)
class Era5File:
    """An ERA5 file with the span of its valid times (UTC)."""

    path: Path
    first: np.datetime64
    last: np.datetime64


def index_era5_file(path: str | Path, product: str) -> Era5File:
    """Open an ERA5 or ERA5-Land file (NetCDF or new-CDS zip) and record its valid times.

    Raises
    ------
    TccasInputError
        The file cannot be read as ERA5 (see :func:`tccas.catalog.era5.open_era5`) or
        holds none of the variables of the forcing.
    """
    path = Path(path)
    with NETCDF_LOCK:
        ds = open_era5([path], product)
    if not any(name in ds.data_vars for name in ERA5_VARIABLES):
        hint = (f"; a file of the invariant geopotential '{GEOPOTENTIAL}' is read when its "
                "name holds 'era5' and 'geopotential' (e.g. ERA5_geopotential.nc)"
                if GEOPOTENTIAL in ds.data_vars else "")
        raise TccasInputError(f"{path}: no ERA5 forcing variable; expected some of "
                              f"{', '.join(ERA5_VARIABLES)}, found "
                              f"{', '.join(map(str, ds.data_vars)) or 'none'}{hint}")
    times = ds["valid_time"].values.astype("datetime64[h]")
    return Era5File(path, times.min(), times.max())


def lattice_forcing(
    files: Sequence[Era5File],
    lattice: Grid,
    first_hour: np.datetime64,
    n_hours: int,
    product: str,
    method: Interpolation,
) -> list[tuple[int, Forcing]]:
    """Hourly forcing on every lattice cell for the model hours ``first_hour + [0, n)``.

    Parameters
    ----------
    files : indexed ERA5 files; those whose valid times overlap the hours are read.
    lattice : the meteorology lattice (:func:`met_lattice`).
    first_hour : UTC start of the first model hour.
    n_hours : number of model hours.
    product : ``"era5"`` or ``"era5-land"``.
    method : interpolation of ERA5 to the lattice cell centres.

    Returns
    -------
    list of (offset, Forcing)
        One Forcing per contiguous run of covered hours: ``offset`` hours after
        ``first_hour``, ``n_met = lattice.n_cells`` in lattice row-major order (north row
        first). Hours without ERA5 data on both sides are in no run.

    Raises
    ------
    TccasInputError
        A file is unreadable, lacks a variable, does not cover the lattice, or a converted
        value is implausible (the message names the files, the variable and the time).
    """
    start = np.datetime64(first_hour, "h")
    stop = start + np.timedelta64(n_hours, "h")
    overlapping = [f for f in files if f.first <= stop and f.last >= start]
    if not overlapping:
        return []
    with NETCDF_LOCK:
        ds = open_era5([f.path for f in overlapping], product)
    source = ", ".join(f.path.name for f in overlapping)
    ds = ds.sel(valid_time=slice(start.astype("datetime64[ns]"), stop.astype("datetime64[ns]")))
    missing = [name for name in _INSTANT_NEEDED if name not in ds.data_vars]
    if missing:
        raise TccasInputError(f"{source}: missing variable(s) {', '.join(missing)}")
    on_lattice = _interpolate(ds, lattice, method, source)
    times = on_lattice["valid_time"].values.astype("datetime64[h]")
    runs = []
    breaks = np.flatnonzero(np.diff(times) != np.timedelta64(1, "h")) + 1
    for run in np.split(np.arange(times.size), breaks):
        if run.size < 2:
            continue
        forcing = era5_to_forcing(on_lattice.isel(valid_time=run), source)
        runs.append((int((times[run[0]] - start) / np.timedelta64(1, "h")), forcing))
    return runs


def _interpolate(ds: xr.Dataset, lattice: Grid, method: Interpolation, source: str
                 ) -> xr.Dataset:
    """ERA5 fields interpolated to the lattice cell centres: dims (valid_time, latitude,
    longitude) with latitude ascending (what era5_to_forcing stacks latitude-major)."""
    for name in ("latitude", "longitude"):
        if name not in ds.coords:
            raise TccasInputError(f"{source}: no '{name}' coordinate")
    latitudes = lattice.y[::-1]
    longitudes = wrap_longitude(lattice.x)
    lat_src = np.atleast_1d(ds["latitude"].values.astype(np.float64))
    lon_src = np.atleast_1d(ds["longitude"].values.astype(np.float64))
    w_lat = interpolation_matrix(lat_src, latitudes, method, f"{source}: latitude")
    w_lon = interpolation_matrix(lon_src, longitudes, method, f"{source}: longitude")
    names = [n for n in ds.data_vars if n in ERA5_VARIABLES and n in (
        *_INSTANT_NEEDED, *SHORTWAVE_CANDIDATES, *LONGWAVE_CANDIDATES,
        *PRECIPITATION_CANDIDATES)]
    fields = {}
    for name in names:
        variable = ds[name]
        dims = [d for d in ("valid_time", "latitude", "longitude") if d in variable.dims]
        values = variable.transpose(*dims).values.astype(np.float64)
        values = values.reshape(values.shape[0], lat_src.size, lon_src.size)
        on_lattice = np.einsum("ij,tjk,lk->til", w_lat, values, w_lon, optimize=True)
        fields[name] = (("valid_time", "latitude", "longitude"), on_lattice,
                        dict(variable.attrs))
    return xr.Dataset(
        fields,
        coords={"valid_time": ds["valid_time"].values, "latitude": latitudes,
                "longitude": longitudes},
        attrs=dict(ds.attrs),
    )


def era5_field_on_grid(field: xr.DataArray, grid: Grid, block_cells: int,
                       method: Interpolation, source: str) -> NDArray[np.float64]:
    """A static ERA5 field interpolated to the centre of every model cell.

    The weights are those of the meteorology (:func:`interpolation_matrix` along latitude
    and along longitude: bilinear or nearest), applied at each cell centre; the grid is
    done a block at a time and the field cut to the points around the grid first, so
    memory stays small for a global field.

    Parameters
    ----------
    field : (latitude, longitude) values, latitude ascending, longitude in [-180, 180)
        (a canonical ERA5 field, e.g. :func:`tccas.catalog.era5.open_era5_geopotential`).
    grid : the model grid (lat/lon or projected).
    block_cells : side of the square blocks the grid is done in.
    method : ``"bilinear"`` or ``"nearest"`` (``ingest.meteo_interpolation``).
    source : the file, for error messages.

    Returns
    -------
    (ny, nx) values at the cell centres, north row first, in the field's units.

    Raises
    ------
    TccasInputError
        The field does not cover the cell centres (naming the file, axis and position).
    """
    lat_src = np.atleast_1d(field["latitude"].values.astype(np.float64))
    lon_src = np.atleast_1d(field["longitude"].values.astype(np.float64))
    values = field.transpose("latitude", "longitude").values.astype(np.float64)
    west, south, east, north = met_lattice(grid).bounds
    rows = _bracket(lat_src, south, north)
    cols = _bracket(lon_src, wrap_longitude(west), wrap_longitude(east))
    lat_src, lon_src, values = lat_src[rows], lon_src[cols], values[rows, cols]
    out = np.empty(grid.shape)
    for block in grid.blocks((block_cells, block_cells)):
        y, x = np.meshgrid(grid.y[block.rows], grid.x[block.cols], indexing="ij")
        lon, lat = grid.xy_to_lonlat(x.ravel(), y.ravel())
        w_lat = interpolation_matrix(lat_src, lat, method, f"{source}: latitude")
        w_lon = interpolation_matrix(lon_src, lon, method, f"{source}: longitude")
        out[block.rows, block.cols] = np.einsum(
            "pj,jk,pk->p", w_lat, values, w_lon, optimize=True).reshape(block.shape)
    return out


def _bracket(source: NDArray[np.float64], low: float, high: float) -> slice:
    """The points of increasing ``source`` from the last at or below ``low`` to the first
    at or above ``high`` (all that interpolation inside [low, high] can touch)."""
    first = max(int(np.searchsorted(source, low, side="right")) - 1, 0)
    stop = min(int(np.searchsorted(source, high, side="left")) + 1, source.size)
    return slice(first, max(stop, first + 1))


def forcing_on_lattice_rows(forcing: Forcing, lattice: Grid) -> dict[str, NDArray[np.float64]]:
    """The gridded forcing variables of a lattice Forcing as (ny, nx, n_hour) arrays in
    lattice row order (north row first), plus ``co2`` as (n_hour,).

    :func:`lattice_forcing` returns cells latitude-ascending; this flips them to the
    north-up row order of the lattice.
    """
    shape = (lattice.ny, lattice.nx, forcing.n_hour)
    arrays = {name: getattr(forcing, name).reshape(shape)[::-1] for name in GRIDDED_FORCING}
    arrays["co2"] = forcing.co2[0]
    return arrays
