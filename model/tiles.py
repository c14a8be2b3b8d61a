"""Tiles: the unit of computation, one (grid cell, PFT) pair with its cover fraction.

A struct of arrays over tiles (ARCHITECTURE.md section 4). Many tiles can share one
meteorology cell (``met_cell``), e.g. all PFTs of a cell, or all 100 m cells inside one
0.25 degree meteorology cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tccas.model.errors import TccasInputError
from tccas.model.layout import (
    N_TILE_STATIC,
    T_ALBEDO_DRY,
    T_ALBEDO_WET,
    T_COVER,
    T_HEIGHT,
    T_IS_C4,
    T_LATITUDE,
    T_LONGITUDE,
    T_NSCALE,
    T_ROOTING_DEPTH,
    T_THETA_FC,
    T_THETA_RES,
    T_THETA_SAT,
    T_THETA_WP,
)
from tccas.model.parameters import PFTS, pft_code, soil_class

COVER_SUM_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Tiles:
    """Struct of arrays over ``n_tile`` tiles.

    Attributes
    ----------
    pft : int64 (n_tile,) BETHY PFT code 1..13.
    cover_fraction : float64 (n_tile,) [-] fraction of the cell covered by the tile.
    cell : int64 (n_tile,) grid-cell index of the tile.
    met_cell : int64 (n_tile,) index of the tile's meteorology cell in the forcing.
    soil : tuple of soil-class names, one per tile.
    static : float64 (n_tile, N_TILE_STATIC) position, PFT and soil constants read by the
        kernels (see :mod:`tccas.model.layout`).
    """

    pft: np.ndarray
    cover_fraction: np.ndarray
    cell: np.ndarray
    met_cell: np.ndarray
    soil: tuple[str, ...]
    static: np.ndarray

    @property
    def n_tile(self) -> int:
        return int(self.pft.shape[0])

    @property
    def pft_names(self) -> list[str]:
        return [PFTS[code - 1].short for code in self.pft]

    def subset(self, indices: np.ndarray) -> Tiles:
        """The tiles at ``indices`` (in that order), e.g. one block's tiles."""
        indices = np.asarray(indices, dtype=np.int64)
        return Tiles(pft=self.pft[indices], cover_fraction=self.cover_fraction[indices],
                     cell=self.cell[indices], met_cell=self.met_cell[indices],
                     soil=tuple(self.soil[i] for i in indices),
                     static=np.ascontiguousarray(self.static[indices]))


def make_tiles(pfts: Sequence[str | int], cover_fractions: Sequence[float],
               latitude: Sequence[float] | float, longitude: Sequence[float] | float,
               soil: Sequence[str] | str, cell: Sequence[int] | None = None,
               met_cell: Sequence[int] | None = None, full_cover: bool = True) -> Tiles:
    """Build tiles, validating PFTs, soils and the cover of every cell.

    ``pfts`` are short names (``"C3Gr"``) or codes; scalars for latitude, longitude and
    soil apply to all tiles; ``cell`` and ``met_cell`` default to one cell (index 0).
    With ``full_cover`` (a site or tower) the cover of every cell must sum to 1; without
    it (cells from a land-cover map) to at most 1, the rest being ground without
    vegetation tiles.
    """
    codes = np.array([pft_code(p) if isinstance(p, str) else int(p) for p in pfts],
                     dtype=np.int64)
    n = codes.size
    if n == 0:
        raise TccasInputError("tiles: at least one PFT is needed")
    if codes.min() < 1 or codes.max() > len(PFTS):
        raise TccasInputError(f"tiles: unknown PFT code {codes[(codes < 1) | (codes > 13)][0]}")
    cover = np.asarray(cover_fractions, dtype=np.float64)
    if cover.shape != (n,):
        raise TccasInputError(f"tiles: {cover.size} cover fractions for {n} PFTs")
    if np.any(~np.isfinite(cover)) or np.any(cover <= 0.0) or np.any(cover > 1.0):
        raise TccasInputError(f"tiles: cover fractions must be in (0, 1], got {cover.tolist()}")
    cells = np.zeros(n, np.int64) if cell is None else np.asarray(cell, dtype=np.int64)
    mets = np.zeros(n, np.int64) if met_cell is None else np.asarray(met_cell, dtype=np.int64)
    for c in np.unique(cells):
        total = cover[cells == c].sum()
        if total > 1.0 + COVER_SUM_TOLERANCE or (full_cover
                                                 and total < 1.0 - COVER_SUM_TOLERANCE):
            raise TccasInputError(f"tiles: cover fractions of cell {c} sum to {total:.6g}, "
                                  f"{'not 1' if full_cover else 'more than 1'}")
    soils = (soil,) * n if isinstance(soil, str) else tuple(soil)
    lat = np.broadcast_to(np.asarray(latitude, dtype=np.float64), (n,))
    lon = np.broadcast_to(np.asarray(longitude, dtype=np.float64), (n,))
    if np.any(np.abs(lat) > 90.0) or np.any(np.abs(lon) > 360.0):
        raise TccasInputError(f"tiles: latitude/longitude out of range: {lat[0]}, {lon[0]}")
    static = np.zeros((n, N_TILE_STATIC))
    for i, code in enumerate(codes):
        pft = PFTS[code - 1]
        s = soil_class(soils[i])
        static[i, T_LATITUDE] = lat[i]
        static[i, T_LONGITUDE] = lon[i]
        static[i, T_IS_C4] = float(pft.is_c4)
        static[i, T_HEIGHT] = pft.vegetation_height
        static[i, T_NSCALE] = float(pft.canopy_nitrogen_scaling)
        static[i, T_ROOTING_DEPTH] = pft.rooting_depth
        static[i, T_THETA_SAT] = s.theta_sat
        static[i, T_THETA_FC] = s.theta_fc
        static[i, T_THETA_WP] = s.theta_wp
        static[i, T_THETA_RES] = s.theta_res
        static[i, T_ALBEDO_DRY] = s.albedo_dry
        static[i, T_ALBEDO_WET] = s.albedo_wet
        static[i, T_COVER] = 1.0  # canopy clumping off, as in D&B output (MODEL_SPEC 2.1)
    return Tiles(pft=codes, cover_fraction=cover, cell=cells, met_cell=mets, soil=soils,
                 static=static)
