"""The Zarr catalogue of a region: layout and the reading API used by the assimilation.

One store per region and grid (ARCHITECTURE.md section 5), Zarr format 2 with consolidated
metadata so that xarray and GDAL open it; every array carries ``_ARRAY_DIMENSIONS``. It is
written by ``tccas ingest`` (:mod:`tccas.pipeline.ingest`, writing helpers in
:mod:`tccas.catalog.catalogue_write`) and read here, lazily: a block reads only its own
slices.

Layout::

    catalogue.zarr/
      attrs      tccas_version, catalogue_format, config_yaml (resolved), grid (crs_wkt,
                 transform, shape), block_cells, n_blocks, period (first hour, n_hours),
                 ingest settings, streams, qc_thresholds {stream: {...}}, provenance (list of
                 {name, sha256, product, reader, streams, status ingested|rejected, reason,
                 rows})
      static/    pft_fraction(pft, y, x) [1], non_vegetated(y, x) [1], soil_class(y, x)
                 (index into attribute flag_meanings: the majority class of a soil
                 texture map, tccas.catalog.soil_texture, else ingest.soil everywhere),
                 soil_albedo_dry(y, x), soil_albedo_wet(y, x) [1] (the albedos of the
                 cell's class in tccas.model.parameters.SOIL_CLASSES), elevation(y, x)
                 [m above the geoid] (ERA5 geopotential / 9.80665 m s-2 at the cell
                 centre, NaN without a geopotential file), coordinates x, y, pft (BETHY
                 code), pft_name, and the CF grid mapping spatial_ref (crs_wkt,
                 GeoTransform); attributes source (land cover), soil and elevation (where
                 each map comes from); chunks = one block; GDAL's Zarr driver reads the
                 georeferencing. Without land cover only the soil, albedo and elevation
                 maps (and no tiles)
      tiles/     cell(tile) grid cell id, pft(tile) PFT code, fraction(tile) [1],
                 met_cell(tile) lattice id, block(tile), soil(tile) index; the (cell, PFT)
                 pairs with cover >= region.min_tile_fraction, sorted by block, cell, PFT;
                 block_start(block + 1): the tiles of block b are [block_start[b],
                 block_start[b + 1])
      meteo/     <forcing variable>(met_y, met_x, time) float32 in model SI units on the
                 0.25 degree meteorology lattice (tccas.catalog.catalogue_meteo), co2(time),
                 time(time) hour starts, met_latitude(met_y), met_longitude(met_x); chunks:
                 365 days in time, the lattice cells of one block in space; NaN = no ERA5
      obs/<stream>/   one row per observation, sorted by time: time, value, sigma, qc,
                 latitude, longitude, footprint variables, coverage, source (index into
                 provenance), reader extras; weights/ obs, cell, weight (COO on grid cell
                 ids, sorted by block then obs) and block_start(block + 1)
      truth/     the synthetic truth of a twin experiment, copied as is (when ingested)

Observation rows (PROPOSED rules, applied by the ingest and recorded in the ``ingest``
attribute): a row is stored when its time lies in the configured period, it passed the
reader's quality screening (``qc == 0``; with ``ingest.keep_failed_qc`` every screened row
is kept with its bits) and its *coverage*, the fraction of its footprint response inside
the region's grid (row sum of its weights), is at least ``ingest.min_coverage``. A
footprint only partly inside keeps its weights on the cells inside (they sum to the
coverage); the simulated observation is then ``weights @ x / coverage``, the mean over the
covered part. Weights are those of :mod:`tccas.operators.footprint` (area overlap for
TROPOMI quadrilaterals, uniform 3 dB ellipse or AFP circle for SMOS).

Meteorology is kept on the 2-D lattice (PROPOSED, rather than a flat ``met`` axis): the
meteorology cell id is the lattice's row-major cell id, a block's cells are one
rectangular window (exactly one chunk on a 0.25 degree grid, where lattice and grid
coincide) with no padding or copies of cells shared by blocks (100 m grids), and with time
last a cell's year is contiguous in its chunk, so a block reads straight into the
``(n_met, n_hour)`` layout of :class:`~tccas.model.forcing.Forcing`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
import zarr
from numpy.typing import NDArray
from pyproj import CRS
from scipy import sparse

from tccas.catalog.catalogue_meteo import GRIDDED_FORCING, met_cells_of, met_lattice
from tccas.catalog.era5 import DateLike
from tccas.catalog.grid import Grid, GridBlock
from tccas.model.errors import TccasInputError
from tccas.model.forcing import Forcing, make_forcing
from tccas.model.layout import N_TILE_STATIC
from tccas.model.parameters import SOIL_CLASSES
from tccas.model.tiles import Tiles, make_tiles
from tccas.operators.footprint import cell_tile_matrix
from tccas.operators.observe import FootprintObservations

CATALOGUE_FORMAT = 1
STATIC = "static"
TILES = "tiles"
METEO = "meteo"
OBS = "obs"
WEIGHTS = "weights"
TRUTH = "truth"
DIMENSIONS = "_ARRAY_DIMENSIONS"
#: Soil classes in the order of the stored indices (static/soil_class, tiles/soil).
SOIL_NAMES = tuple(SOIL_CLASSES)
TIME_UNITS = "nanoseconds since 1970-01-01"
HOUR_UNITS = "hours since 1970-01-01"
#: Variables of an observation table that are not per-row reader extras.
TABLE_CORE = ("time", "value", "sigma", "qc", "latitude", "longitude", "coverage", "source")


def grid_attributes(grid: Grid) -> dict[str, Any]:
    """The JSON description of a grid stored in the catalogue attributes."""
    return {"crs_wkt": grid.crs.to_wkt(), "transform": list(grid.transform),
            "shape": list(grid.shape)}


def grid_from_attributes(attrs: dict[str, Any]) -> Grid:
    """Inverse of :func:`grid_attributes`."""
    return Grid(crs=CRS.from_wkt(attrs["crs_wkt"]), transform=tuple(attrs["transform"]),
                shape=tuple(attrs["shape"]))


def block_of_cells(grid: Grid, block_cells: int, cells: NDArray[np.int64]) -> NDArray[np.int64]:
    """Block index of grid cell ids for square blocks of ``block_cells`` cells a side
    (the row-major numbering of :meth:`Grid.blocks`)."""
    cells = np.asarray(cells, dtype=np.int64)
    blocks_per_row = math.ceil(grid.nx / block_cells)
    return (cells // grid.nx // block_cells) * blocks_per_row + (cells % grid.nx) // block_cells


def local_cell_index(block: GridBlock, cells: NDArray[np.int64]) -> NDArray[np.int64]:
    """Position of grid cell ids of ``block`` in ``block.cell_ids()``."""
    nx = block.grid_shape[1]
    rows = cells // nx - block.rows.start
    cols = cells % nx - block.cols.start
    return rows * block.shape[1] + cols


@dataclass(frozen=True)
class BlockObservations:
    """The observations of one stream that touch one block, ready for a block's cost.

    Attributes
    ----------
    stream : the stream name.
    block : the block index.
    obs : (n,) int64 global row numbers in ``obs/<stream>`` (ascending, i.e. by time); the
        key under which the partial contributions of several blocks to one observation
        are summed.
    hour : (n,) int64 index of the model hour ``[start + h, start + h + 1)`` holding each
        observation time, ``start`` being the first hour asked for.
    table : the rows (dimension ``obs``): time, value, sigma, qc, latitude, longitude,
        footprint variables, coverage, source and reader extras, with the stream's
        attributes (units, footprint_model, qc flag meanings).
    cell_weights : (n, n_block_cells) CSR: fraction of each footprint's response falling
        in each cell of the block; columns follow ``block.cell_ids()`` (row-major inside
        the block). Summed over all blocks a row gives ``coverage``.
    tile_weights : (n, n_block_tiles) CSR ``cell_weights @ F``, F[j, k] the cover fraction
        of tile k in cell j (tiles as :meth:`Catalogue.block_tiles`); None when the
        catalogue has no tiles. The linear mixing of tile values into the block's share of
        an observation is ``tile_weights @ x_tiles``.
    non_vegetated : (n,) [1] share of each footprint on the block's ground without a
        tile (``cell_weights`` row sums minus ``tile_weights`` row sums); None without
        tiles.
    """

    stream: str
    block: int
    obs: NDArray[np.int64]
    hour: NDArray[np.int64]
    table: xr.Dataset
    cell_weights: sparse.csr_matrix
    tile_weights: sparse.csr_matrix | None
    non_vegetated: NDArray[np.float64] | None

    @property
    def n_obs(self) -> int:
        """Number of observations touching the block."""
        return int(self.obs.size)

    @property
    def coverage(self) -> NDArray[np.float64]:
        """(n,) [1] fraction of each footprint inside the region (over all blocks)."""
        return self.table["coverage"].values

    def footprint_observations(self) -> FootprintObservations:
        """The block's share of the observations as the operators take it
        (:class:`tccas.operators.observe.FootprintObservations`: hours, tile weights and
        the share on ground without tiles)."""
        if self.tile_weights is None or self.non_vegetated is None:
            raise TccasInputError(f"stream {self.stream}, block {self.block}: the catalogue "
                                  "has no tiles; ingest a land-cover file")
        return FootprintObservations(self.stream, self.hour, self.tile_weights,
                                     self.non_vegetated)


class Catalogue:
    """A catalogue store opened for reading (:func:`open_catalogue`).

    Nothing but the consolidated metadata is read on opening; every accessor reads the
    slices it needs. Instances are cheap to pickle (the open Zarr group is not carried), so
    one can be sent to every Dask worker.
    """

    def __init__(self, path: Path, attrs: dict[str, Any]) -> None:
        self.path = path
        self.attrs = attrs

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "attrs": self.attrs}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    @cached_property
    def _root(self) -> zarr.Group:
        return zarr.open_group(str(self.path), mode="r", zarr_format=2, use_consolidated=True)

    def _array(self, name: str) -> zarr.Array:
        try:
            return self._root[name]
        except KeyError:
            raise TccasInputError(f"{self.path}: catalogue has no '{name}'") from None

    # ----------------------------------------------------------------- description
    @property
    def config_yaml(self) -> str:
        """The resolved configuration (YAML text) of the latest ingest."""
        return str(self.attrs["config_yaml"])

    @cached_property
    def grid(self) -> Grid:
        """The model grid."""
        return grid_from_attributes(self.attrs["grid"])

    @property
    def block_cells(self) -> int:
        """Side of a square block of cells."""
        return int(self.attrs["block_cells"])

    @cached_property
    def blocks(self) -> list[GridBlock]:
        """The grid's blocks (one Dask task each), row-major."""
        return self.grid.blocks((self.block_cells, self.block_cells))

    @property
    def streams(self) -> list[str]:
        """Observation streams present in ``obs/``."""
        return list(self.attrs.get("streams", []))

    @property
    def provenance(self) -> list[dict[str, Any]]:
        """Every source file seen: name, sha256, product, reader, streams, status
        (``ingested``/``rejected``), reason and rows per stream. ``source`` in an
        observation table indexes this list."""
        return list(self.attrs.get("provenance", []))

    @property
    def qc_thresholds(self) -> dict[str, dict[str, Any]]:
        """The screening thresholds applied to each stream."""
        return dict(self.attrs.get("qc_thresholds", {}))

    @property
    def period_start(self) -> np.datetime64:
        """UTC start of the first hour of the catalogue's period."""
        return np.datetime64(self.attrs["period"]["first_hour"], "h")

    @property
    def n_hours(self) -> int:
        """Hours in the catalogue's period."""
        return int(self.attrs["period"]["n_hours"])

    @property
    def has_tiles(self) -> bool:
        """True when static maps and tiles were ingested (from land cover)."""
        return f"{TILES}/block_start" in self._root

    @property
    def has_meteo(self) -> bool:
        """True when meteorology was ingested."""
        return f"{METEO}/time" in self._root

    def block(self, block: int | GridBlock) -> GridBlock:
        """The :class:`GridBlock` of an index (or the block itself)."""
        if isinstance(block, GridBlock):
            return block
        if not 0 <= int(block) < len(self.blocks):
            raise TccasInputError(f"{self.path}: block {block} outside 0..{len(self.blocks) - 1}")
        return self.blocks[int(block)]

    # ---------------------------------------------------------------- static, tiles
    def static(self) -> xr.Dataset:
        """The static maps (lazy, Dask-backed): pft_fraction, non_vegetated, soil_class,
        soil_albedo_dry, soil_albedo_wet, elevation."""
        if not self.has_tiles:
            raise TccasInputError(f"{self.path}: catalogue has no static maps; ingest a "
                                  "land-cover file")
        return xr.open_zarr(self.path, group=STATIC, consolidated=False)

    def block_tiles(self, block: int | GridBlock) -> tuple[Tiles, NDArray[np.int64]]:
        """The tiles of one block and the grid cell ids of the block.

        Parameters
        ----------
        block : block index or :class:`GridBlock`.

        Returns
        -------
        (Tiles, cell_ids)
            ``cell_ids`` = ``block.cell_ids()`` (every cell of the block, ascending).
            ``Tiles.cell`` indexes ``cell_ids`` (the columns of
            :attr:`BlockObservations.cell_weights`), ``Tiles.met_cell`` indexes the
            meteorology cells of :meth:`block_forcing`, ``cover_fraction`` is the PFT cover
            of the cell [1] (the cover of one cell sums to 1 minus its non-vegetated part
            and the tiles below ``region.min_tile_fraction``), latitude/longitude are the
            cell centre, soil the cell's class. Tiles are sorted by cell, then PFT code.
        """
        grid_block = self.block(block)
        if not self.has_tiles:
            raise TccasInputError(f"{self.path}: catalogue has no tiles; ingest a land-cover "
                                  "file")
        start, stop = (int(v) for v in
                       self._array(f"{TILES}/block_start")[grid_block.index:grid_block.index + 2])
        cells = self._array(f"{TILES}/cell")[start:stop]
        pft = self._array(f"{TILES}/pft")[start:stop].astype(np.int64)
        fraction = self._array(f"{TILES}/fraction")[start:stop].astype(np.float64)
        met = self._array(f"{TILES}/met_cell")[start:stop].astype(np.int64)
        soil = self._array(f"{TILES}/soil")[start:stop]
        met_ids = self._block_met_ids(grid_block)
        return (
            _make_block_tiles(self.grid, grid_block, cells, pft, fraction,
                              np.searchsorted(met_ids, met), soil),
            grid_block.cell_ids(),
        )

    # ------------------------------------------------------------------ forcing
    @cached_property
    def met_lattice(self) -> Grid:
        """The 0.25 degree lattice of meteorology cells (:func:`met_lattice` of the grid)."""
        return met_lattice(self.grid)

    def _block_met_ids(self, block: GridBlock) -> NDArray[np.int64]:
        return np.unique(met_cells_of(self.grid, self.met_lattice, block))

    def block_forcing(self, block: int | GridBlock, start: DateLike | None = None,
                      end: DateLike | None = None) -> Forcing:
        """Hourly forcing of the meteorology cells of one block.

        Parameters
        ----------
        block : block index or :class:`GridBlock`.
        start, end : first and last UTC day (both included); default the whole period.

        Returns
        -------
        Forcing
            ``n_met`` = the block's distinct meteorology cells in ascending lattice id
            (the rows ``Tiles.met_cell`` of :meth:`block_tiles` index), SI units.

        Raises
        ------
        TccasInputError
            The days leave the period, or an hour has no meteorology (no ERA5 file
            covered it); the message names the first such hour.
        """
        grid_block = self.block(block)
        if not self.has_meteo:
            raise TccasInputError(f"{self.path}: catalogue has no meteorology; ingest ERA5 "
                                  "files")
        first, stop = self._hour_range(start, end)
        lattice = self.met_lattice
        met_ids = self._block_met_ids(grid_block)
        rows, cols = met_ids // lattice.nx, met_ids % lattice.nx
        row_slice = slice(int(rows.min()), int(rows.max()) + 1)
        col_slice = slice(int(cols.min()), int(cols.max()) + 1)
        arrays = {}
        for name in GRIDDED_FORCING:
            window = self._array(f"{METEO}/{name}")[row_slice, col_slice, first:stop]
            arrays[name] = window[rows - row_slice.start, cols - col_slice.start].astype(
                np.float64)
        co2 = self._array(f"{METEO}/co2")[first:stop].astype(np.float64)
        arrays["co2"] = np.broadcast_to(co2, (met_ids.size, stop - first))
        start_hour = self.period_start + np.timedelta64(first, "h")
        for name, values in arrays.items():
            missing = ~np.isfinite(values)
            if missing.any():
                hour = int(np.nonzero(missing)[-1].min())
                raise TccasInputError(
                    f"{self.path}: meteorology '{name}' missing at "
                    f"{start_hour + np.timedelta64(hour, 'h')} (no ERA5 file covered it)")
        return make_forcing(start_hour, **arrays).validate(str(self.path))

    def _hour_range(self, start: DateLike | None, end: DateLike | None) -> tuple[int, int]:
        """Hour indices [first, stop) of the whole days start .. end in the period."""
        first = 0 if start is None else _hours_between(self.period_start, start)
        stop = self.n_hours if end is None else _hours_between(self.period_start, end) + 24
        if not 0 <= first < stop <= self.n_hours:
            last = self.period_start + np.timedelta64(self.n_hours - 1, "h")
            raise TccasInputError(f"days {start} .. {end} leave the catalogue's period "
                                  f"{self.period_start} .. {last}")
        return first, stop

    # -------------------------------------------------------------- observations
    def observation_table(self, stream: str) -> xr.Dataset:
        """The whole table of a stream, lazily (Dask-backed, no data read)."""
        self._check_stream(stream)
        return xr.open_zarr(self.path, group=f"{OBS}/{stream}", consolidated=False)

    def _check_stream(self, stream: str) -> None:
        if stream not in self.streams:
            raise TccasInputError(f"{self.path}: no observations of stream '{stream}'; "
                                  f"streams: {', '.join(self.streams) or 'none'}")

    def observations(self, stream: str, block: int | GridBlock, start: DateLike | None = None,
                     end: DateLike | None = None, passed_only: bool = True
                     ) -> BlockObservations:
        """The observations of ``stream`` whose footprints touch ``block``.

        Reads the block's slice of ``obs/<stream>/weights`` (contiguous, sorted by block)
        and the table rows it names; nothing else.

        Parameters
        ----------
        stream : stream name (see :attr:`streams`).
        block : block index or :class:`GridBlock`.
        start, end : first and last UTC day (both included) of the forcing period the
            hours count from; default the catalogue's whole period. Rows outside are left
            out.
        passed_only : keep only rows with ``qc == 0`` (matters when the catalogue was
            ingested with ``ingest.keep_failed_qc``).

        Returns
        -------
        BlockObservations
        """
        self._check_stream(stream)
        grid_block = self.block(block)
        first, stop = self._hour_range(start, end)
        prefix = f"{OBS}/{stream}"
        pointer = self._array(f"{prefix}/{WEIGHTS}/block_start")
        lo, hi = (int(v) for v in pointer[grid_block.index:grid_block.index + 2])
        obs = self._array(f"{prefix}/{WEIGHTS}/obs")[lo:hi]
        cells = self._array(f"{prefix}/{WEIGHTS}/cell")[lo:hi]
        weights = self._array(f"{prefix}/{WEIGHTS}/weight")[lo:hi]
        rows, row_of_entry = np.unique(obs, return_inverse=True)
        table = self._rows(stream, rows)
        hour = ((table["time"].values - (self.period_start + np.timedelta64(first, "h")))
                // np.timedelta64(1, "h")).astype(np.int64)
        keep = (hour >= 0) & (hour < stop - first)
        if passed_only:
            keep &= table["qc"].values == 0
        matrix = sparse.csr_matrix(
            (weights, (row_of_entry, local_cell_index(grid_block, cells))),
            shape=(rows.size, grid_block.shape[0] * grid_block.shape[1]),
        )
        matrix.sum_duplicates()
        kept = np.flatnonzero(keep)
        matrix = sparse.csr_matrix(matrix[kept])
        tile_weights = non_vegetated = None
        if self.has_tiles:
            tiles, cell_ids = self.block_tiles(grid_block)
            cover = cell_tile_matrix(tiles.cell, np.arange(tiles.n_tile), tiles.cover_fraction,
                                     cell_ids.size, tiles.n_tile)
            tile_weights = sparse.csr_matrix(matrix @ cover)
            on_block = np.asarray(matrix.sum(axis=1)).ravel()
            on_tiles = np.asarray(tile_weights.sum(axis=1)).ravel()
            non_vegetated = np.maximum(on_block - on_tiles, 0.0)
        return BlockObservations(
            stream=stream, block=grid_block.index, obs=rows[kept], hour=hour[kept],
            table=table.isel(obs=kept), cell_weights=matrix, tile_weights=tile_weights,
            non_vegetated=non_vegetated)

    def _rows(self, stream: str, rows: NDArray[np.int64]) -> xr.Dataset:
        """Rows ``rows`` (sorted) of a stream's table, reading only their chunks."""
        group = self._root[f"{OBS}/{stream}"]
        data_vars = {}
        for name, array in group.arrays():
            dims = tuple(array.attrs[DIMENSIONS])
            if dims[0] != "obs":
                continue
            values = array.oindex[(rows,) + (slice(None),) * (array.ndim - 1)]
            attrs = {k: v for k, v in array.attrs.asdict().items() if k != DIMENSIONS}
            if name == "time":
                values = values.astype("datetime64[ns]")
                attrs = {}
            data_vars[name] = (dims, values, attrs)
        attrs = {k: v for k, v in group.attrs.asdict().items()}
        return xr.Dataset(data_vars, coords={"obs": rows}, attrs=attrs)

    # -------------------------------------------------------------------- truth
    def truth(self) -> xr.Dataset | None:
        """The twin experiment's truth (lazy), or None when none was ingested."""
        if TRUTH not in self._root:
            return None
        return xr.open_zarr(self.path, group=TRUTH, consolidated=False)


def open_catalogue(path: str | Path) -> Catalogue:
    """Open a catalogue written by ``tccas ingest``.

    Raises
    ------
    TccasInputError
        ``path`` is missing, not a Zarr store or not a tccas catalogue.
    """
    path = Path(path)
    if not (path / ".zmetadata").is_file():
        raise TccasInputError(f"{path}: not a catalogue (no consolidated Zarr metadata)")
    try:
        attrs = json.loads((path / ".zattrs").read_text())
    except (OSError, ValueError) as err:
        raise TccasInputError(f"{path}: catalogue attributes unreadable ({err})") from err
    if attrs.get("catalogue_format") != CATALOGUE_FORMAT:
        raise TccasInputError(f"{path}: not a tccas catalogue of format {CATALOGUE_FORMAT} "
                              f"(catalogue_format = {attrs.get('catalogue_format')!r})")
    return Catalogue(path, attrs)


def _hours_between(first_hour: np.datetime64, day: DateLike) -> int:
    try:
        day_start = np.datetime64(np.datetime64(str(day)[:10], "D"), "h")
    except ValueError:
        raise TccasInputError(f"'{day}' is not a date (YYYY-MM-DD)") from None
    return int((day_start - first_hour) / np.timedelta64(1, "h"))


def _make_block_tiles(grid: Grid, block: GridBlock, cells: NDArray[np.int64],
                      pft: NDArray[np.int64], fraction: NDArray[np.float64],
                      met: NDArray[np.int64], soil: NDArray[np.integer]) -> Tiles:
    """Tiles of a block from the stored columns (cells as positions in the block)."""
    if cells.size == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Tiles(pft=empty, cover_fraction=np.zeros(0), cell=empty, met_cell=empty,
                     soil=(), static=np.zeros((0, N_TILE_STATIC)))
    rows, cols = cells // grid.nx, cells % grid.nx
    x, y = grid.x[cols], grid.y[rows]
    lon, lat = (x, y) if grid.is_geographic else grid.xy_to_lonlat(x, y)
    return make_tiles(pft, fraction, lat, lon, [SOIL_NAMES[int(s)] for s in soil],
                      cell=local_cell_index(block, cells), met_cell=met, full_cover=False)
