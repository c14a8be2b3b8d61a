"""The model region of a synthetic experiment: grid, PFT cover, tiles and meteorology cells.

The tiles follow the rules of the catalogue's tile table (``tiles/`` of
:mod:`tccas.catalog.catalogue`, written by ``tccas ingest``), so that the twin
experiment's truth runs on the tiles the assimilation will see:

* a tile is a (grid cell, PFT) pair whose cover is at least ``region.min_tile_fraction``;
  tiles are sorted by block (``region.block_cells``), then cell, then PFT code;
* cover: for a ``box`` region the CCI Land Cover PFT fractions aggregated onto the model
  grid (:func:`tccas.catalog.cci_landcover.read_cci_landcover` and
  :func:`~tccas.catalog.cci_landcover.aggregate_pft_fractions` of the written
  landscape); for a ``site`` region the site's PFT table in its one cell;
* latitude and longitude of a tile are its cell's centre, its soil the class of the
  cell's soil map (the majority class of the synthetic soil texture file for a ``box``
  region, :func:`tccas.catalog.soil_texture.soil_class_on_grid`; one class for a
  ``site`` region);
* the meteorology cell of a grid cell is the 0.25 degree lattice cell holding the cell's
  centre, whose forcing is ERA5 interpolated bilinearly to the lattice cell's centre; the
  lattice is the catalogue's own (:func:`tccas.catalog.catalogue_meteo.met_lattice`).

The ground of a cell not covered by its tiles (bare, built, water, snow, and PFT cover
below the tile cut-off) is the cell's *non-vegetated* share, which footprints mix in with
the stream's value for bare ground (:mod:`tccas.operators.observe`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from tccas.catalog.catalogue import SOIL_NAMES
from tccas.catalog.catalogue_meteo import met_lattice
from tccas.catalog.grid import Grid
from tccas.catalog.sites import Site
from tccas.model.errors import TccasInputError
from tccas.model.parameters import PFTS, pft_code
from tccas.model.tiles import Tiles, make_tiles


@dataclass(frozen=True)
class Region:
    """A model region with its tiles.

    Attributes
    ----------
    site : the built-in site whose climate and landscape the region takes.
    grid : the model grid.
    bbox : (west, south, east, north) [degree] lon/lat box around the grid.
    pft_fraction : (13, ny, nx) [1] cover of the BETHY PFTs (code order).
    soil_class : (ny, nx) index into ``SOIL_CLASSES`` of every cell.
    tiles : all tiles (see the module docstring); ``cell`` = grid cell id,
        ``met_cell`` = index into ``met_cells``.
    tile_block : (n_tile,) block of each tile.
    met_lattice : the 0.25 degree lattice of meteorology cells.
    met_cells : (n_met,) lattice cell ids used by tiles, ascending.
    non_vegetated : (n_cells,) [1] share of each grid cell without tiles.
    """

    site: Site
    grid: Grid
    bbox: tuple[float, float, float, float]
    pft_fraction: np.ndarray
    soil_class: np.ndarray
    tiles: Tiles
    tile_block: np.ndarray
    met_lattice: Grid
    met_cells: np.ndarray
    non_vegetated: np.ndarray

    @property
    def n_tile(self) -> int:
        return self.tiles.n_tile

    def cell_tile(self) -> sparse.csr_matrix:
        """(n_cells, n_tile) cover fraction of each tile in its cell."""
        return sparse.csr_matrix(
            (self.tiles.cover_fraction, (self.tiles.cell, np.arange(self.n_tile))),
            shape=(self.grid.n_cells, self.n_tile))

    def met_points(self) -> tuple[np.ndarray, np.ndarray]:
        """(lon, lat) [degree] of the centres of the used meteorology cells."""
        row, col = self.met_lattice.row_col(self.met_cells)
        return self.met_lattice.x[col], self.met_lattice.y[row]

    @property
    def pfts_present(self) -> np.ndarray:
        """PFT codes with at least one tile."""
        return np.unique(self.tiles.pft)


def grid_bbox(grid: Grid) -> tuple[float, float, float, float]:
    """(west, south, east, north) [degree] lon/lat box holding the whole grid."""
    if grid.is_geographic:
        return grid.bounds
    x_edges, y_edges = grid.x_edges, grid.y_edges
    x = np.concatenate([x_edges, x_edges, np.full(y_edges.size, x_edges[0]),
                        np.full(y_edges.size, x_edges[-1])])
    y = np.concatenate([np.full(x_edges.size, y_edges[0]), np.full(x_edges.size, y_edges[-1]),
                        y_edges, y_edges])
    lon, lat = grid.xy_to_lonlat(x, y)
    return float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max())


def cell_centres(grid: Grid) -> tuple[np.ndarray, np.ndarray]:
    """(lon, lat) [degree] of every grid cell centre, row-major."""
    x = np.broadcast_to(grid.x[None, :], grid.shape).ravel()
    y = np.broadcast_to(grid.y[:, None], grid.shape).ravel()
    if grid.is_geographic:
        return x.copy(), y.copy()
    return grid.xy_to_lonlat(x, y)


def site_pft_fraction(site: Site, grid: Grid) -> np.ndarray:
    """(13, ny, nx) the site's PFT table in every cell."""
    fraction = np.zeros((len(PFTS), *grid.shape))
    for name, cover in site.pfts:
        fraction[pft_code(name) - 1] = cover
    return fraction


def build_region(site: Site, grid: Grid, pft_fraction: np.ndarray, soil_class: np.ndarray,
                 block_cells: int, min_tile_fraction: float) -> Region:
    """The region on ``grid`` with PFT cover ``pft_fraction`` (13, ny, nx) [1], soil
    classes ``soil_class`` (ny, nx) (index into ``SOIL_CLASSES``), blocks of
    ``block_cells`` x ``block_cells`` cells and tiles of cover >= ``min_tile_fraction``."""
    if pft_fraction.shape != (len(PFTS), *grid.shape):
        raise TccasInputError(f"PFT fractions have shape {pft_fraction.shape}, expected "
                              f"({len(PFTS)}, {grid.ny}, {grid.nx})")
    if soil_class.shape != grid.shape:
        raise TccasInputError(f"soil classes have shape {soil_class.shape}, expected "
                              f"{grid.shape}")
    lattice = met_lattice(grid)
    lon, lat = cell_centres(grid)
    cell_met = lattice.cell_of(lon, lat)
    cells, codes, covers, blocks = [], [], [], []
    per_cell = np.nan_to_num(pft_fraction.reshape(len(PFTS), -1).T)
    for block in grid.blocks((block_cells, block_cells)):
        ids = block.cell_ids()
        local, pft_index = np.nonzero((per_cell[ids] >= min_tile_fraction)
                                      & (per_cell[ids] > 0.0))
        cells.append(ids[local])
        codes.append(pft_index + 1)
        covers.append(per_cell[ids[local], pft_index])
        blocks.append(np.full(local.size, block.index))
    cell = np.concatenate(cells).astype(np.int64)
    if cell.size == 0:
        raise TccasInputError(f"region around {site.name}: no PFT covers "
                              f"{min_tile_fraction} of any cell")
    cover = np.concatenate(covers)
    met_cells, met_index = np.unique(cell_met[cell], return_inverse=True)
    tiles = make_tiles(np.concatenate(codes), cover, lat[cell], lon[cell],
                       [SOIL_NAMES[s] for s in soil_class.ravel()[cell]],
                       cell=cell, met_cell=met_index, full_cover=False)
    non_vegetated = 1.0 - np.bincount(cell, cover, minlength=grid.n_cells)
    return Region(site=site, grid=grid, bbox=grid_bbox(grid), pft_fraction=pft_fraction,
                  soil_class=soil_class, tiles=tiles,
                  tile_block=np.concatenate(blocks).astype(np.int64),
                  met_lattice=lattice, met_cells=met_cells.astype(np.int64),
                  non_vegetated=np.clip(non_vegetated, 0.0, 1.0))
