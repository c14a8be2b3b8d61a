"""Writing the catalogue (layout in :mod:`tccas.catalog.catalogue`).

* Atomicity: an ingest builds the new catalogue in a hidden sibling folder (a hard-linked
  clone of the previous catalogue when there is one) and swaps it into place with one
  ``renameat2(RENAME_EXCHANGE)`` call, so the path always holds either the complete old or
  the complete new catalogue; the old one is deleted afterwards. A hard-linked clone never
  changes the old catalogue: whole groups that are rewritten are unlinked first, and Zarr's
  local store replaces a chunk file by writing a new file and renaming it over the old name
  (zarr-python 3, ``LocalStore`` atomic writes), which leaves the old inode untouched.
* Static maps are written through xarray (CF attributes, GDAL georeferencing); tiles,
  meteorology and observations through zarr-python in whole chunks.
* Observations: :func:`merge_stream` merges the new parts and the previous table into one
  table sorted by time while holding only one *cluster* of parts in memory (parts whose
  time spans overlap; normally one file), and sorts the weights by block through spill
  files holding groups of blocks of bounded size (an external counting sort), so memory
  does not grow with the number of files.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
import zarr
from numpy.typing import NDArray
from scipy import sparse

from tccas.catalog.catalogue import (
    DIMENSIONS,
    HOUR_UNITS,
    METEO,
    OBS,
    SOIL_NAMES,
    STATIC,
    TILES,
    TIME_UNITS,
    TRUTH,
    WEIGHTS,
    block_of_cells,
)
from tccas.catalog.catalogue_meteo import (
    GRIDDED_FORCING,
    HOURS_PER_CHUNK,
    HOURS_PER_PIECE,
    Era5File,
    Interpolation,
    forcing_on_lattice_rows,
    lattice_forcing,
    met_cells_of,
)
from tccas.catalog.catalogue_sources import PartSummary, Region, load_part, part_block_counts
from tccas.catalog.grid import Grid
from tccas.model.errors import TccasInputError
from tccas.model.forcing import FORCING_VARIABLES
from tccas.model.parameters import PFTS, SOIL_CLASSES

STAGING_MARK = ".ingest-"
#: Rows per chunk of an observation table.
OBS_CHUNK = 1 << 15
#: Entries per chunk of the weight arrays (and per read when re-indexing old weights).
WEIGHT_CHUNK = 1 << 18
#: Weight entries per spill group of the block sort: about 32 MB of memory while a group is
#: sorted (24 bytes a record, its block, the sort order and one gathered column).
SPILL_GROUP_ENTRIES = 1 << 19
#: Tiles per chunk of the tiles arrays.
TILE_CHUNK = 1 << 16
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_SPILL = np.dtype([("obs", "<i8"), ("cell", "<i8"), ("weight", "<f8")])


# ------------------------------------------------------------------ store lifecycle
def staging_path(target: Path) -> Path:
    """A fresh hidden sibling of ``target`` to build a catalogue in (named with this
    process id, so that a later ingest can tell an abandoned one)."""
    return target.with_name(f".{target.name}{STAGING_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}")


def remove_abandoned_staging(target: Path) -> list[Path]:
    """Delete the staging folders of ``target`` left by ingests that no longer run (killed
    or crashed); returns them."""
    removed = []
    prefix = f".{target.name}{STAGING_MARK}"
    for path in target.parent.glob(f"{prefix}*"):
        pid_text = path.name[len(prefix):].split("-")[0]
        if pid_text.isdigit() and not _process_alive(int(pid_text)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clone_store(source: Path, staging: Path) -> None:
    """Hard-link every file of the store ``source`` into the new folder ``staging``."""
    for folder, _, files in os.walk(source):
        relative = Path(folder).relative_to(source)
        (staging / relative).mkdir(parents=True, exist_ok=True)
        for name in files:
            os.link(Path(folder) / name, staging / relative / name)


def swap_into_place(staging: Path, target: Path) -> None:
    """Make the complete store ``staging`` appear at ``target`` atomically and delete the
    previous store.

    With a previous store the two folders are exchanged in one ``renameat2`` call (Linux
    3.15+); where the call is unavailable the previous store is renamed aside first, which
    leaves an instant with no store at ``target``.
    """
    if not target.exists():
        os.rename(staging, target)
        return
    if _exchange(staging, target):
        shutil.rmtree(staging)
        return
    retired = target.with_name(f".{target.name}.retired-{uuid.uuid4().hex[:8]}")
    os.rename(target, retired)
    os.rename(staging, target)
    shutil.rmtree(retired)


def _exchange(first: Path, second: Path) -> bool:
    """Atomically exchange two paths; False when the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second),
                       _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))


def remove_group(root: Path, name: str) -> None:
    """Unlink a group of the staging store (its files may be shared with the old store)."""
    shutil.rmtree(root / name, ignore_errors=True)


def write_root_attributes(root: Path, attrs: dict[str, Any]) -> None:
    """Replace the root attributes of the store and consolidate its metadata."""
    group = zarr.open_group(str(root), mode="a", zarr_format=2)
    group.attrs.put(attrs)
    zarr.consolidate_metadata(str(root))


def copy_truth(source: Path, root: Path) -> None:
    """Copy a synthetic truth store (Zarr format 2) into the catalogue's ``truth/``."""
    if not (source / ".zgroup").is_file():
        raise TccasInputError(f"{source}: not a Zarr format 2 store (no .zgroup)")
    remove_group(root, TRUTH)
    shutil.copytree(source, root / TRUTH,
                    ignore=shutil.ignore_patterns(".zmetadata", "zarr.json"))


# ------------------------------------------------------------------------ arrays
def _create(group: zarr.Group, name: str, shape: tuple[int, ...], chunks: tuple[int, ...],
            dtype: Any, dims: Sequence[str], attrs: dict[str, Any] | None = None,
            fill_value: Any = None) -> zarr.Array:
    """A Zarr array with xarray's dimension names; floats are filled with NaN, integers
    have no fill value (so that xarray keeps them integers; unwritten reads as 0)."""
    dtype = np.dtype(dtype)
    if fill_value is None and dtype.kind == "f":
        fill_value = np.nan
    return group.create_array(
        name, shape=shape, chunks=chunks, dtype=dtype, fill_value=fill_value,
        attributes={DIMENSIONS: list(dims), **(attrs or {})}, overwrite=True)


class ArrayAppender:
    """Appends along the first axis of a Zarr array, writing whole chunks only.

    Rows are queued until they complete a chunk; full chunks of a long append are written
    straight from the given array, so the queue never holds more than one chunk.
    """

    def __init__(self, array: zarr.Array) -> None:
        self.array = array
        self.length = array.shape[0]
        self._pending: list[NDArray[Any]] = []
        self._n_pending = 0

    def append(self, values: NDArray[Any]) -> None:
        """Queue rows; every completed chunk is written."""
        values = np.asarray(values)
        if len(values) == 0:
            return
        chunk = self.array.chunks[0]
        to_boundary = chunk - (self.length + self._n_pending) % chunk
        if len(values) < to_boundary:
            self._pending.append(values)
            self._n_pending += len(values)
            return
        head = np.concatenate([*self._pending, values[:to_boundary]])
        full = (len(values) - to_boundary) // chunk * chunk
        self._write(head, values[to_boundary:to_boundary + full])
        tail = values[to_boundary + full:]
        self._pending = [tail] if len(tail) else []
        self._n_pending = len(tail)

    def close(self) -> None:
        """Write what is queued."""
        if self._n_pending:
            self._write(np.concatenate(self._pending), self._pending[0][:0])
            self._pending, self._n_pending = [], 0

    def _write(self, head: NDArray[Any], body: NDArray[Any]) -> None:
        start = self.length
        self.length += len(head) + len(body)
        self.array.resize((self.length, *self.array.shape[1:]))
        self.array[start:start + len(head)] = head
        if len(body):
            self.array[start + len(head):self.length] = body


# ------------------------------------------------------------------ static, tiles
def _spatial_ref(grid: Grid) -> xr.DataArray:
    """The CF grid mapping variable (rioxarray's ``spatial_ref``, EO_FORMATS.md 7.1)."""
    wkt = grid.crs.to_wkt()
    attrs = {**grid.crs.to_cf(), "crs_wkt": wkt, "spatial_ref": wkt,
             "GeoTransform": " ".join(repr(v) for v in grid.transform)}
    return xr.DataArray(np.int32(0), attrs=attrs)


def _xy_coords(grid: Grid) -> dict[str, xr.DataArray]:
    if grid.is_geographic:
        x_attrs = {"standard_name": "longitude", "units": "degrees_east", "axis": "X"}
        y_attrs = {"standard_name": "latitude", "units": "degrees_north", "axis": "Y"}
    else:
        x_attrs = {"standard_name": "projection_x_coordinate", "units": "m", "axis": "X"}
        y_attrs = {"standard_name": "projection_y_coordinate", "units": "m", "axis": "Y"}
    return {"x": xr.DataArray(grid.x, dims="x", attrs=x_attrs),
            "y": xr.DataArray(grid.y, dims="y", attrs=y_attrs)}


def uniform_soil_class(grid: Grid, soil: str) -> xr.DataArray:
    """One soil class in every cell, as :func:`write_static` takes the soil map (the
    fallback when no soil map is ingested)."""
    if soil not in SOIL_NAMES:
        raise TccasInputError(f"unknown soil class '{soil}'; known: {', '.join(SOIL_NAMES)}")
    return xr.DataArray(np.full(grid.shape, SOIL_NAMES.index(soil), np.int8), dims=("y", "x"),
                        attrs={"source": f"{soil} everywhere (no soil map ingested)"})


def unknown_elevation(grid: Grid) -> xr.DataArray:
    """NaN elevation in every cell, as :func:`write_static` takes it when no geopotential
    file is ingested."""
    return xr.DataArray(np.full(grid.shape, np.nan, np.float32), dims=("y", "x"),
                        attrs={"source": "unknown: no ERA5 geopotential file ingested"})


def write_static(root: Path, grid: Grid, block_cells: int, pft_fraction: xr.DataArray | None,
                 non_vegetated: xr.DataArray | None, soil_class: xr.DataArray,
                 elevation: xr.DataArray, min_tile_fraction: float, lattice: Grid
                 ) -> int | None:
    """Write ``static/`` and, from PFT cover fractions on the model grid, ``tiles/``.

    The soil albedo maps are the dry and wet albedo of each cell's soil class in
    :data:`tccas.model.parameters.SOIL_CLASSES` (the model's own values).

    Parameters
    ----------
    root : the staging store.
    grid : the model grid.
    block_cells : side of a square block (the chunks of the maps).
    pft_fraction : (pft, y, x) [1] cover fraction of each PFT (coordinate ``pft``: BETHY
        codes, ascending) on ``grid``'s cells, north row first, NaN where unknown (no
        tile); may be Dask-backed (it is read one block at a time). None: no land cover
        yet, so only the soil and elevation maps are written and no tiles.
    non_vegetated : (y, x) [1] cover without vegetation; None = 1 - sum of the PFTs.
    soil_class : (y, x) int index into ``SOIL_CLASSES`` of every cell (a soil map, or
        :func:`uniform_soil_class`); its attributes (``source``, ...) are kept.
    elevation : (y, x) [m] above the geoid, NaN where unknown
        (:func:`unknown_elevation`); its attributes are kept.
    min_tile_fraction : [1] covers below this make no tile.
    lattice : the meteorology lattice (tiles record their lattice cell).

    Returns
    -------
    int or None
        The number of tiles (None without land cover).
    """
    for name, field in (("soil_class", soil_class), ("elevation", elevation)):
        if field.shape != grid.shape:
            raise TccasInputError(f"{name} map has shape {field.shape}, expected "
                                  f"{grid.shape} (the grid)")
    classes = np.asarray(soil_class.values, dtype=np.int8)
    if classes.min() < 0 or classes.max() >= len(SOIL_NAMES):
        raise TccasInputError(f"soil_class map holds the index {int(classes.min())} .. "
                              f"{int(classes.max())}; soil classes are 0 .. "
                              f"{len(SOIL_NAMES) - 1} ({', '.join(SOIL_NAMES)})")
    codes = np.zeros(0, np.int64)
    if pft_fraction is not None:
        codes = np.asarray(pft_fraction["pft"].values, dtype=np.int64)
        if pft_fraction.shape != (codes.size, grid.ny, grid.nx) or np.any(np.diff(codes) <= 0):
            raise TccasInputError(f"PFT fractions have shape {pft_fraction.shape} and PFT "
                                  f"codes {codes.tolist()}; expected ({codes.size}, "
                                  f"{grid.ny}, {grid.nx}) and ascending codes")
    remove_group(root, STATIC)
    remove_group(root, TILES)
    map_attrs = {"grid_mapping": "spatial_ref", "_CRS": {"wkt": grid.crs.to_wkt()}}
    albedo = {kind: np.array([getattr(SOIL_CLASSES[name], f"albedo_{kind}")
                              for name in SOIL_NAMES], np.float32)[classes]
              for kind in ("dry", "wet")}
    maps = {
        "soil_class": (("y", "x"), classes, {
            **soil_class.attrs, "long_name": "soil class",
            "flag_values": list(range(len(SOIL_NAMES))), "flag_meanings": " ".join(SOIL_NAMES),
            **map_attrs}),
        **{f"soil_albedo_{kind}": (("y", "x"), albedo[kind], {
            "units": "1", "long_name": f"broadband albedo of {kind} soil",
            "source": f"albedo_{kind} of the cell's soil_class in "
                      "tccas.model.parameters.SOIL_CLASSES (the values the model uses)",
            **map_attrs}) for kind in ("dry", "wet")},
        "elevation": (("y", "x"), np.asarray(elevation.values, np.float32), {
            **elevation.attrs, "units": "m", "standard_name": "surface_altitude",
            "long_name": "surface elevation above the geoid", **map_attrs}),
        "spatial_ref": _spatial_ref(grid),
    }
    coords = _xy_coords(grid)
    side = min(block_cells, grid.ny), min(block_cells, grid.nx)
    encoding = {name: {"chunks": side} for name in maps if name != "spatial_ref"}
    if pft_fraction is not None:
        fraction = pft_fraction.drop_encoding().astype(np.float32).transpose("pft", "y", "x")
        fraction = fraction.assign_coords(pft=codes, y=grid.y, x=grid.x)
        if non_vegetated is None:
            non_vegetated = (1.0 - fraction.sum("pft", skipna=False)).clip(0.0, 1.0)
        non_vegetated = non_vegetated.drop_encoding().astype(np.float32).assign_coords(
            y=grid.y, x=grid.x)
        maps["pft_fraction"] = fraction.assign_attrs(
            units="1", long_name="cover fraction of the plant functional type", **map_attrs)
        maps["non_vegetated"] = non_vegetated.assign_attrs(
            units="1", long_name="cover fraction of bare soil, water, snow and built-up "
            "land (1 - sum of PFT fractions)", **map_attrs)
        coords.update({"pft": ("pft", codes, {"long_name": "BETHY plant functional type code"}),
                       "pft_name": ("pft", np.array([PFTS[c - 1].short for c in codes]))})
        encoding.update({"pft_fraction": {"chunks": (codes.size, *side)},
                         "non_vegetated": {"chunks": side}})
    xr.Dataset(maps, coords=coords).to_zarr(root, group=STATIC, mode="w", zarr_format=2,
                                            consolidated=False, encoding=encoding)
    if pft_fraction is None:
        return None
    group = zarr.open_group(str(root), mode="a", zarr_format=2).require_group(TILES)
    columns = {"cell": np.int64, "pft": np.int8, "fraction": np.float64, "met_cell": np.int64,
               "block": np.int32, "soil": np.int8}
    appenders = {name: ArrayAppender(_create(group, name, (0,), (TILE_CHUNK,), dtype, ["tile"]))
                 for name, dtype in columns.items()}
    blocks = grid.blocks((block_cells, block_cells))
    starts = [0]
    for block in blocks:
        window = np.asarray(pft_fraction.isel(y=block.rows, x=block.cols).values, np.float64)
        per_cell = window.reshape(codes.size, -1).T
        local, pft_index = np.nonzero((per_cell >= min_tile_fraction) & (per_cell > 0.0))
        cells = block.cell_ids()[local]
        appenders["cell"].append(cells)
        appenders["pft"].append(codes[pft_index].astype(np.int8))
        appenders["fraction"].append(per_cell[local, pft_index])
        appenders["met_cell"].append(met_cells_of(grid, lattice, block)[local])
        appenders["block"].append(np.full(local.size, block.index, np.int32))
        appenders["soil"].append(classes[block.rows, block.cols].ravel()[local])
        starts.append(starts[-1] + local.size)
    for appender in appenders.values():
        appender.close()
    _create(group, "block_start", (len(starts),), (len(starts),), np.int64, ["block_edge"],
            {"long_name": "first tile of each block; the last value is the number of tiles"}
            )[:] = np.asarray(starts)
    group.attrs.put({"min_tile_fraction": min_tile_fraction, "sorted_by": "block, cell, pft"})
    return starts[-1]


# ------------------------------------------------------------------------ meteo
def create_meteo(root: Path, grid: Grid, block_cells: int, lattice: Grid,
                 first_hour: np.datetime64, n_hours: int, attrs: dict[str, Any]) -> None:
    """Create ``meteo/`` (all NaN) unless it exists; update its attributes."""
    group = zarr.open_group(str(root), mode="a", zarr_format=2).require_group(METEO)
    group.attrs.update(attrs)
    if "time" in group:
        return
    block = grid.blocks((block_cells, block_cells))[0]
    met = met_cells_of(grid, lattice, block)
    side = (int(np.ptp(met // lattice.nx)) + 1, int(np.ptp(met % lattice.nx)) + 1)
    chunks = (*side, min(HOURS_PER_CHUNK, n_hours))
    dims = ("met_y", "met_x", "time")
    for name in GRIDDED_FORCING:
        _create(group, name, (lattice.ny, lattice.nx, n_hours), chunks, np.float32, dims,
                {"units": FORCING_VARIABLES[name][0]})
    _create(group, "co2", (n_hours,), (chunks[2],), np.float64, ["time"],
            {"units": FORCING_VARIABLES["co2"][0]})
    hours = np.datetime64(first_hour, "h").astype(np.int64) + np.arange(n_hours)
    _create(group, "time", (n_hours,), (chunks[2],), np.int64, ["time"],
            {"units": HOUR_UNITS, "calendar": "proleptic_gregorian",
             "long_name": "UTC start of the model hour"})[:] = hours
    _create(group, "met_latitude", (lattice.ny,), (lattice.ny,), np.float64, ["met_y"],
            {"units": "degrees_north"})[:] = lattice.y
    _create(group, "met_longitude", (lattice.nx,), (lattice.nx,), np.float64, ["met_x"],
            {"units": "degrees_east"})[:] = lattice.x


def fill_meteo_chunk(chunk: int, root: Path, files: Sequence[Era5File], lattice: Grid,
                     first_hour: np.datetime64, n_hours: int, product: str,
                     method: Interpolation) -> int:
    """Convert ERA5 into the hours of one time chunk of ``meteo/``; returns the hours
    filled. Different chunks may be filled concurrently (they share no Zarr chunk)."""
    group = zarr.open_group(str(root), mode="r+", zarr_format=2)[METEO]
    begin = chunk * HOURS_PER_CHUNK
    end = min(begin + HOURS_PER_CHUNK, n_hours)
    filled = 0
    for piece in range(begin, end, HOURS_PER_PIECE):
        length = min(HOURS_PER_PIECE, end - piece)
        start = np.datetime64(first_hour, "h") + np.timedelta64(piece, "h")
        for offset, forcing in lattice_forcing(files, lattice, start, length, product, method):
            arrays = forcing_on_lattice_rows(forcing, lattice)
            first = piece + offset
            stop = first + forcing.n_hour
            for name, values in arrays.items():
                if name == "co2":
                    group[name][first:stop] = values
                else:
                    group[name][:, :, first:stop] = values.astype(np.float32)
            filled += forcing.n_hour
    return filled


# ------------------------------------------------------------------ observations
@dataclass
class _Run:
    """A time-sorted run of rows to merge: a new part, or a slice of the previous table."""

    first: int
    last: int
    part: PartSummary | None = None
    file_id: int = -1
    old_range: tuple[int, int] | None = None


class _TableWriter:
    """Appends rows to the arrays of ``obs/<stream>``, creating arrays as columns appear
    (rows written before a column existed read as its fill value)."""

    def __init__(self, group: zarr.Group, specs: dict[str, tuple[tuple[str, ...], dict]]):
        self.group = group
        self.specs = specs
        self.appenders: dict[str, ArrayAppender] = {}
        self.n_rows = 0

    def append(self, columns: dict[str, NDArray[Any]]) -> None:
        n = len(columns["time"])
        for name, values in columns.items():
            if name not in self.appenders:
                dims, attrs = self.specs[name]
                chunks = (OBS_CHUNK, *values.shape[1:])
                array = _create(self.group, name, (self.n_rows, *values.shape[1:]), chunks,
                                values.dtype, dims, attrs)
                self.appenders[name] = ArrayAppender(array)
            self.appenders[name].append(values)
        for name, appender in self.appenders.items():
            if name not in columns:
                array = appender.array
                appender.append(np.full((n, *array.shape[1:]), _fill_of(array.dtype),
                                        array.dtype))
        self.n_rows += n

    def close(self) -> None:
        for appender in self.appenders.values():
            appender.close()


class _BlockSorter:
    """External counting sort of weight entries by (block, obs).

    Entries arrive in increasing obs order per source; they are spilled into files holding
    contiguous ranges of blocks of at most :data:`SPILL_GROUP_ENTRIES` entries (a block
    larger than that is a group of its own), then each group is loaded, sorted and
    appended.
    """

    def __init__(self, work_dir: Path, region: Region, block_totals: NDArray[np.int64]):
        self.region = region
        self.block_totals = block_totals
        cumulative = np.cumsum(block_totals)
        group_of_block = np.zeros(block_totals.size, np.int64)
        group, used = 0, 0
        for block, count in enumerate(block_totals):
            if used and used + count > SPILL_GROUP_ENTRIES:
                group, used = group + 1, 0
            group_of_block[block] = group
            used += int(count)
        self.group_of_block = group_of_block
        self.n_groups = int(group_of_block[-1]) + 1 if block_totals.size else 0
        self.paths = [work_dir / f"spill-{uuid.uuid4().hex[:8]}-{g}.bin"
                      for g in range(self.n_groups)]
        self.total = int(cumulative[-1]) if cumulative.size else 0

    def add(self, obs: NDArray[np.int64], cells: NDArray[np.int64],
            weights: NDArray[np.float64]) -> None:
        if obs.size == 0:
            return
        groups = self.group_of_block[block_of_cells(self.region.grid, self.region.block_cells,
                                                    cells)]
        order = np.argsort(groups, kind="stable")
        records = np.empty(obs.size, _SPILL)
        records["obs"], records["cell"], records["weight"] = obs[order], cells[order], \
            weights[order]
        bounds = np.searchsorted(groups[order], np.arange(self.n_groups + 1))
        for group in np.flatnonzero(np.diff(bounds)):
            with self.paths[group].open("ab") as spill:
                records[bounds[group]:bounds[group + 1]].tofile(spill)

    def write(self, group: zarr.Group) -> None:
        weights = group.require_group(WEIGHTS)
        appenders = {
            "obs": ArrayAppender(_create(weights, "obs", (0,), (WEIGHT_CHUNK,), np.int64,
                                         ["entry"], {"long_name": "row of obs/<stream>"})),
            "cell": ArrayAppender(_create(weights, "cell", (0,), (WEIGHT_CHUNK,), np.int32,
                                          ["entry"], {"long_name": "grid cell id (row-major)"})),
            "weight": ArrayAppender(_create(weights, "weight", (0,), (WEIGHT_CHUNK,),
                                            np.float64, ["entry"], {
                                                "units": "1", "long_name": "fraction of the "
                                                "footprint response in the cell"})),
        }
        written = 0
        for path in self.paths:
            if not path.exists():
                continue
            records = np.fromfile(path, dtype=_SPILL)
            path.unlink()
            blocks = block_of_cells(self.region.grid, self.region.block_cells, records["cell"])
            order = np.lexsort((records["obs"], blocks))
            del blocks
            for name, appender in appenders.items():
                appender.append(records[name][order])
            written += records.size
            del records, order
        for appender in appenders.values():
            appender.close()
        if written != self.total:
            raise RuntimeError(f"weight sort wrote {written} entries, expected {self.total}")
        starts = np.concatenate([[0], np.cumsum(self.block_totals)])
        _create(weights, "block_start", (starts.size,), (starts.size,), np.int64,
                ["block_edge"], {"long_name": "first entry of each block; the last value is "
                                 "the number of entries"})[:] = starts
        weights.attrs.put({"sorted_by": "block, obs"})


def merge_stream(root: Path, stream: str, parts: Sequence[tuple[PartSummary, int]],
                 old: zarr.Group | None, region: Region, work_dir: Path,
                 stream_attrs: dict[str, Any],
                 progress: Callable[[int], None] | None = None) -> int:
    """Write ``obs/<stream>`` of the staging store from new parts and the previous table.

    Parameters
    ----------
    root : the staging store (its ``obs/<stream>`` is replaced).
    stream : the stream name.
    parts : the new parts with rows, each with the provenance index of its file.
    old : ``obs/<stream>`` of the previous catalogue (read-only), or None.
    region : the catalogue's region.
    work_dir : folder for spill files.
    stream_attrs : attributes of the stream's group (units, footprint model, ...).
    progress : called with the number of parts merged after each cluster.

    Returns
    -------
    int
        Rows of the merged table.
    """
    runs = [_Run(p.first_ns, p.last_ns, part=p, file_id=file_id) for p, file_id in parts]
    specs: dict[str, tuple[tuple[str, ...], dict]] = {}
    for part, _ in parts:
        specs.update(part.columns)
    totals = np.zeros(region.n_blocks, np.int64)
    for part, _ in parts:
        totals += part_block_counts(part.path)
    old_weights = None
    if old is not None:
        specs.update(_old_specs(old))
        runs.extend(_old_runs(old))
        old_weights = old[WEIGHTS]
        totals += np.diff(old_weights["block_start"][:])
    specs["source"] = (("obs",), {"long_name": "index of the source file in the catalogue's "
                                  "provenance attribute"})
    remove_group(root, f"{OBS}/{stream}")
    group = zarr.open_group(str(root), mode="a", zarr_format=2).require_group(
        f"{OBS}/{stream}")
    writer = _TableWriter(group, specs)
    sorter = _BlockSorter(work_dir, region, totals)
    breakpoints: list[tuple[int, int]] = []
    runs.sort(key=lambda run: (run.first, run.last))
    cluster: list[_Run] = []
    cluster_end = 0
    for run in [*runs, None]:
        if run is None or (cluster and run.first >= cluster_end):
            _merge_cluster(cluster, old, writer, sorter, breakpoints)
            if progress is not None:
                progress(sum(1 for r in cluster if r.part is not None))
            cluster = []
        if run is not None:
            cluster.append(run)
            cluster_end = max(cluster_end, run.last) if len(cluster) > 1 else run.last
    writer.close()
    if old_weights is not None:
        _reindex_old_weights(old_weights, breakpoints, sorter)
    sorter.write(group)
    group.attrs.put({**stream_attrs, "n_obs": writer.n_rows, "sorted_by": "time"})
    return writer.n_rows


def _old_specs(old: zarr.Group) -> dict[str, tuple[tuple[str, ...], dict]]:
    specs = {}
    for name, array in old.arrays():
        attrs = array.attrs.asdict()
        specs[name] = (tuple(attrs.pop(DIMENSIONS)), attrs)
    return specs


def _old_runs(old: zarr.Group) -> list[_Run]:
    """The previous table as runs of one chunk each (time-sorted, so disjoint)."""
    times = old["time"]
    runs = []
    for start in range(0, times.shape[0], OBS_CHUNK):
        values = times[start:start + OBS_CHUNK]
        runs.append(_Run(int(values[0]), int(values[-1]),
                         old_range=(start, start + values.size)))
    return runs


def _merge_cluster(cluster: list[_Run], old: zarr.Group | None, writer: _TableWriter,
                   sorter: _BlockSorter, breakpoints: list[tuple[int, int]]) -> None:
    """Sort the rows of runs with overlapping time spans and append them."""
    if not cluster:
        return
    pieces: list[dict[str, NDArray[Any]]] = []
    matrices: list[sparse.csr_matrix | None] = []
    for run in cluster:
        if run.part is not None:
            columns, matrix, _ = load_part(run.part.path)
            columns["source"] = np.full(len(columns["time"]), run.file_id, np.int32)
            pieces.append(columns)
            matrices.append(matrix)
        else:
            assert old is not None and run.old_range is not None
            start, stop = run.old_range
            pieces.append({name: array[start:stop] for name, array in old.arrays()})
            matrices.append(None)
    names = {name for piece in pieces for name in piece}
    sizes = [len(piece["time"]) for piece in pieces]
    columns = {}
    for name in names:
        template = next(piece[name] for piece in pieces if name in piece)
        columns[name] = np.concatenate([
            piece[name] if name in piece else np.full((size, *template.shape[1:]),
                                                      _fill_of(template.dtype), template.dtype)
            for piece, size in zip(pieces, sizes, strict=True)])
    order = np.argsort(columns["time"], kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    new_index = writer.n_rows + rank
    writer.append({name: values[order] for name, values in columns.items()})
    offset = 0
    for run, matrix, size in zip(cluster, matrices, sizes, strict=True):
        indices = new_index[offset:offset + size]
        offset += size
        if matrix is not None:
            rows = np.repeat(indices, np.diff(matrix.indptr))
            sorter.add(rows, matrix.indices.astype(np.int64), matrix.data)
        else:
            assert run.old_range is not None
            shift = indices - np.arange(*run.old_range)
            changes = np.flatnonzero(np.diff(shift)) + 1
            for position in np.concatenate([[0], changes]):
                breakpoints.append((run.old_range[0] + int(position), int(shift[position])))


def _reindex_old_weights(weights: zarr.Group, breakpoints: list[tuple[int, int]],
                         sorter: _BlockSorter) -> None:
    """Feed the previous weights to the sorter with their rows renumbered."""
    table = np.array(sorted(breakpoints), dtype=np.int64).reshape(-1, 2)
    n = weights["obs"].shape[0]
    for start in range(0, n, WEIGHT_CHUNK):
        obs = weights["obs"][start:start + WEIGHT_CHUNK]
        shift = table[np.searchsorted(table[:, 0], obs, side="right") - 1, 1]
        sorter.add(obs + shift, weights["cell"][start:start + WEIGHT_CHUNK].astype(np.int64),
                   weights["weight"][start:start + WEIGHT_CHUNK])


def _fill_of(dtype: np.dtype) -> Any:
    return np.nan if dtype.kind == "f" else 0


def stream_attributes(stream: str, summaries: Sequence[PartSummary],
                      old_attrs: dict[str, Any] | None, long_name: str, ingest: dict[str, Any]
                      ) -> dict[str, Any]:
    """Attributes of ``obs/<stream>``, checking that every part agrees on units and
    footprint model with each other and with the previous table."""
    attrs = dict(old_attrs or {})
    for summary in summaries:
        for key in ("units", "footprint_model"):
            value = summary.attrs.get(key)
            if key in attrs and attrs[key] != value:
                raise TccasInputError(
                    f"stream '{stream}': {summary.path}: {key} {value!r} differs from "
                    f"{attrs[key]!r} of the other files")
            attrs[key] = value
        for key in ("reader", "qc_thresholds", "product"):
            if key in summary.attrs:
                attrs[key] = summary.attrs[key]
    attrs.update({"stream": stream, "long_name": long_name, "time_units": TIME_UNITS,
                  "ingest": json.dumps(ingest, sort_keys=True)})
    return attrs
