"""Benchmarks of footprint geometry: TROPOMI pixels and SMOS ellipses around Majadas.

A 500 x 500 km region around Majadas (39.94 N, 5.77 W) on the 0.25 degree lat/lon grid and
on the 100 m EPSG:3035 grid (about 35 million cells, never materialised: footprints are
handled per bounding box). Synthetic footprints:

* 20,000 TROPOMI pixels of 3.5 km across x 5.5 km along track, headings around -12 degrees
  (the along-track direction over Iberia), corners in shuffled order;
* 300 SMOS 3 dB ellipses with semi-major axes of 19-23 km (about 40 km across), axis ratio
  0.8-1 and random orientation, weighted on 100 m cells and aggregated to model tiles. The
  tiles are (meteorology cell, PFT) pairs with two PFTs (trees and grass) per 100 m cell;
  25 x 25 km blocks of the 100 m grid stand in for the meteorology cells, and the tree cover
  is a synthetic patchwork of 1 km patches; both are evaluated only for the cells the
  footprints touch (as a reader of the static PFT map would).

Run ``python -m tccas.pipeline.bench_footprint`` to print the figures as JSON.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import psutil
from numpy.typing import NDArray
from pyproj import Geod
from scipy import sparse

from tccas.catalog.grid import Grid, laea_grid, latlon_grid
from tccas.operators.footprint import (
    aggregate_to_tiles,
    ellipse_weights,
    quad_weights,
    touched_cells,
)

MAJADAS_LON, MAJADAS_LAT = -5.77, 39.94
#: [m] side of the benchmark region.
REGION_SIDE_M = 500e3
#: [km] nominal TROPOMI pixel since August 2019 (EO_FORMATS.md gotcha 4).
TROPOMI_ACROSS_KM, TROPOMI_ALONG_KM = 3.5, 5.5
#: 100 m cells per side of the 25 km blocks standing in for meteorology cells.
METEO_BLOCK_CELLS = 250
#: SMOS ellipses weighted and aggregated at once (bounds memory).
SMOS_CHUNK = 50


def majadas_region(side_m: float = REGION_SIDE_M, snap_deg: float = 0.25
                   ) -> tuple[float, float, float, float]:
    """(west, south, east, north) [degree] of a side_m square around Majadas, snapped
    outward to multiples of snap_deg."""
    half_lat = 0.5 * side_m / 111_200.0
    half_lon = 0.5 * side_m / (111_320.0 * math.cos(math.radians(MAJADAS_LAT)))
    return (
        math.floor((MAJADAS_LON - half_lon) / snap_deg) * snap_deg,
        math.floor((MAJADAS_LAT - half_lat) / snap_deg) * snap_deg,
        math.ceil((MAJADAS_LON + half_lon) / snap_deg) * snap_deg,
        math.ceil((MAJADAS_LAT + half_lat) / snap_deg) * snap_deg,
    )


def synthetic_tropomi_corners(
    n: int, bounds: tuple[float, float, float, float], rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(n, 4) corner lon/lat [degree] of TROPOMI-like pixels inside bounds, corner order
    shuffled per pixel."""
    west, south, east, north = bounds
    lon = rng.uniform(west + 0.1, east - 0.1, n)
    lat = rng.uniform(south + 0.1, north - 0.1, n)
    heading = rng.normal(-12.0, 3.0, n)
    geod = Geod(ellps="WGS84")
    corner_lon, corner_lat = np.empty((n, 4)), np.empty((n, 4))
    for k, (across, along) in enumerate(((-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5))):
        east_m, north_m = across * TROPOMI_ACROSS_KM * 1e3, along * TROPOMI_ALONG_KM * 1e3
        azimuth = heading + math.degrees(math.atan2(east_m, north_m))
        corner_lon[:, k], corner_lat[:, k], _ = geod.fwd(
            lon, lat, azimuth, np.full(n, math.hypot(east_m, north_m))
        )
    order = rng.permuted(np.tile(np.arange(4), (n, 1)), axis=1)
    return (np.take_along_axis(corner_lon, order, axis=1),
            np.take_along_axis(corner_lat, order, axis=1))


def synthetic_smos_ellipses(
    n: int, bounds: tuple[float, float, float, float], rng: np.random.Generator
) -> tuple[NDArray[np.float64], ...]:
    """Centres lon/lat [degree], semi-axes [km] and orientation [degree] of SMOS-like
    3 dB ellipses inside bounds."""
    west, south, east, north = bounds
    lon = rng.uniform(west + 0.3, east - 0.3, n)
    lat = rng.uniform(south + 0.3, north - 0.3, n)
    semi_major = rng.uniform(19.0, 23.0, n)
    semi_minor = semi_major * rng.uniform(0.8, 1.0, n)
    return lon, lat, semi_major, semi_minor, rng.uniform(0.0, 180.0, n)


def synthetic_cell_tiles(grid: Grid, cell_ids: NDArray[np.int64]
                         ) -> tuple[sparse.csr_matrix, int]:
    """(len(cell_ids), n_tiles) cover fractions of two PFTs per cell, and n_tiles.

    Built directly in CSR form (two entries per cell), as a reader of the static PFT map
    would deliver it; :func:`cell_tile_matrix` does the same from arbitrary COO triples.
    """
    rows, cols = grid.row_col(cell_ids)
    blocks_per_row = -(-grid.nx // METEO_BLOCK_CELLS)
    meteo = (rows // METEO_BLOCK_CELLS) * blocks_per_row + cols // METEO_BLOCK_CELLS
    tree = 0.1 + 0.1 * ((rows // 10 + cols // 10) % 5)  # 1 km patches of 10-50 % trees
    n_tiles = 2 * blocks_per_row * -(-grid.ny // METEO_BLOCK_CELLS)
    tiles = np.empty(2 * cell_ids.size, dtype=np.int32)
    tiles[0::2], tiles[1::2] = 2 * meteo, 2 * meteo + 1
    fractions = np.empty(2 * cell_ids.size)
    fractions[0::2], fractions[1::2] = tree, 1.0 - tree
    indptr = np.arange(0, 2 * cell_ids.size + 1, 2)
    matrix = sparse.csr_matrix((fractions, tiles, indptr), shape=(cell_ids.size, n_tiles))
    return matrix, n_tiles


def smos_tile_weights(grid: Grid, ellipses: tuple[NDArray[np.float64], ...],
                      model: str = "uniform", chunk: int = SMOS_CHUNK) -> sparse.csr_matrix:
    """SMOS ellipse weights on grid cells, aggregated chunk by chunk to tiles."""
    pieces = []
    n = ellipses[0].size
    for start in range(0, n, chunk):
        part = [values[start:start + chunk] for values in ellipses]
        weights = ellipse_weights(grid, *part, model=model)
        touched = touched_cells(weights)
        cover, _ = synthetic_cell_tiles(grid, touched)
        pieces.append(aggregate_to_tiles(weights, cover, cell_ids=touched))
    return sparse.vstack(pieces, format="csr")


@contextmanager
def peak_rss_increase(interval_s: float = 0.002) -> Iterator[dict[str, float]]:
    """Sample this process's resident set size in a thread; yields a dict whose
    ``"peak_mb"`` holds the peak increase over the start [MiB] after the block."""
    process = psutil.Process()
    baseline = process.memory_info().rss
    state = {"peak": baseline, "running": True}

    def sample() -> None:
        while state["running"]:
            state["peak"] = max(state["peak"], process.memory_info().rss)
            time.sleep(interval_s)

    result: dict[str, float] = {}
    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield result
    finally:
        state["running"] = False
        thread.join()
        state["peak"] = max(state["peak"], process.memory_info().rss)
        result["peak_mb"] = (state["peak"] - baseline) / 2**20


def footprint_benchmarks(seed: int = 0, n_tropomi: int = 20_000, n_smos: int = 300
                         ) -> dict[str, float]:
    """Time the footprint weights of the Majadas benchmark region.

    Returns
    -------
    dict of floats: ``tropomi_weights_s_0p25deg`` and ``tropomi_weights_s_100m`` [s] for
    n_tropomi pixels, ``smos_weights_s_100m`` [s] for n_smos uniform ellipses on 100 m
    cells aggregated to tiles, ``smos_weights_peak_memory_mb`` [MiB] peak RSS increase
    during that step, ``smos_gaussian_weights_s_100m`` [s] the same with the Gaussian
    model (a fifth as many ellipses per chunk: its support has 6.6 times the cells), and
    sizes: ``grid_100m_cells``, ``tropomi_nnz_100m``, ``smos_cell_nnz_per_obs``,
    ``smos_tiles_per_obs``.
    """
    rng = np.random.default_rng(seed)
    bounds = majadas_region()
    coarse = latlon_grid(*bounds, 0.25)
    fine = laea_grid(*bounds, 100.0)
    corner_lon, corner_lat = synthetic_tropomi_corners(n_tropomi, bounds, rng)
    ellipses = synthetic_smos_ellipses(n_smos, bounds, rng)
    figures: dict[str, float] = {"grid_100m_cells": float(fine.n_cells)}

    # SMOS first, so that the memory baseline holds no earlier results.
    with peak_rss_increase() as memory:
        start = time.perf_counter()
        tiles = smos_tile_weights(fine, ellipses)
        figures["smos_weights_s_100m"] = time.perf_counter() - start
    figures["smos_weights_peak_memory_mb"] = memory["peak_mb"]
    figures["smos_tiles_per_obs"] = tiles.nnz / n_smos
    sample = ellipse_weights(fine, *(values[:10] for values in ellipses))
    figures["smos_cell_nnz_per_obs"] = sample.weights.nnz / 10
    del tiles, sample

    start = time.perf_counter()
    smos_tile_weights(fine, ellipses, model="gaussian", chunk=SMOS_CHUNK // 5)
    figures["smos_gaussian_weights_s_100m"] = time.perf_counter() - start

    start = time.perf_counter()
    quad_weights(coarse, corner_lon, corner_lat)
    figures["tropomi_weights_s_0p25deg"] = time.perf_counter() - start

    start = time.perf_counter()
    weights = quad_weights(fine, corner_lon, corner_lat)
    figures["tropomi_weights_s_100m"] = time.perf_counter() - start
    figures["tropomi_nnz_100m"] = float(weights.weights.nnz)
    return figures


if __name__ == "__main__":
    print(json.dumps(footprint_benchmarks(), indent=2))
