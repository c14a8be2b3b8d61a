"""Benchmark of one cost-and-gradient evaluation over blocks (issue 6): its cost per
tile-hour, the Dask overhead per evaluation and the strong scaling from 1 to 2 workers.

The region is a Lapland-like set of blocks: ``n_block`` blocks of 16 cells x 4 PFTs
(EvCn, EShr, TunV, WetV; 64 tiles), each cell with its own meteorology series from the
Sodankyla weather generator (seed = cell), TROPOMI-like SIF every second day and SMOS-like
L-VOD daily on footprints spanning 4 cells, over ``years`` years without spin-up. The
blocks are built by loaders on the workers, as from a catalogue.

Figures:

* ``gradient_s_single``: one J + dJ/dz in this process, one thread;
* ``gradient_us_per_tile_hour``: the same per tile-hour;
* ``gradient_s_dask_1worker``, ``gradient_s_dask_2workers``: on a LocalCluster of 1 and 2
  single-thread workers (warm: the first evaluation, which builds the blocks and compiles
  nothing new, is not timed);
* ``dask_overhead_fraction``: (1-worker Dask time - single-process time) / single time;
* ``strong_scaling_1_to_2``: 1-worker time / 2-worker time (target >= 1.7);
* ``tccas_reference_us_per_tile_hour``: the Fortran TCCAS figure (SCIENCE.md: 432 cells
  with up to 6 PFTs, 13 years, 300 s forward + 1700 s adjoint on one core), normalised
  with 6 PFTs per cell, i.e. a lower bound of its per-tile-hour cost.
"""

from __future__ import annotations

import functools
import time

import numpy as np
import scipy.sparse as sp
from distributed import Client, LocalCluster

from tccas.catalog.sites import get_site
from tccas.catalog.weather import site_forcing
from tccas.model.driver import SpinUp
from tccas.model.forcing import Forcing
from tccas.model.parameters import pft_code
from tccas.model.tiles import make_tiles
from tccas.operators.observe import FootprintObservations
from tccas.operators.streams import overpass_hours
from tccas.pipeline.config import load_config
from tccas.pipeline.control import control_space
from tccas.pipeline.cost import BlockProblem, CostFunction, StreamData

PFTS = ("EvCn", "EShr", "TunV", "WetV")
FRACTIONS = (0.45, 0.25, 0.15, 0.10)
CELLS_PER_BLOCK = 16
TCCAS_TILE_HOURS = 432 * 6 * 13 * 8766
TCCAS_SECONDS = 300.0 + 1700.0


def _block_forcing(block: int, years: int) -> Forcing:
    """Per-cell weather of one block (the generator's site climate with cell seeds)."""
    site = get_site("sodankyla")
    end = f"{2015 + years - 1}-12-31"
    cells = [site_forcing(site, "2015-01-01", end, seed=block * CELLS_PER_BLOCK + c)
             for c in range(CELLS_PER_BLOCK)]
    arrays = {name: np.concatenate([getattr(f, name) for f in cells]) for name in
              ("air_temperature", "shortwave_down", "longwave_down", "precipitation",
               "vapour_pressure_deficit", "surface_pressure", "wind_speed", "co2")}
    return Forcing(start=cells[0].start, **arrays)


def load_bench_block(block: int, years: int) -> BlockProblem:
    """Block ``block`` of the benchmark region (a loader run on a worker)."""
    site = get_site("sodankyla")
    n_tile = CELLS_PER_BLOCK * len(PFTS)
    cell = np.repeat(np.arange(CELLS_PER_BLOCK), len(PFTS))
    tiles = make_tiles([PFTS[i % 4] for i in range(n_tile)],
                       [FRACTIONS[i % 4] for i in range(n_tile)], site.latitude,
                       site.longitude, site.soil, cell=cell, met_cell=cell, full_cover=False)
    forcing = _block_forcing(block, years)
    n_day = forcing.n_hour // 24
    observations, ids = [], []
    for name, local, step in (("sif743", 13.5, 2), ("vod", 6.0, 1)):
        hours = overpass_hours(site.longitude, local, n_day)[::step]
        n_obs = hours.size * (CELLS_PER_BLOCK // 4)
        footprint_cells = (np.arange(n_obs) % (CELLS_PER_BLOCK // 4))[:, None] * 4 + \
            np.arange(4)[None, :]
        rows = np.repeat(np.arange(n_obs), 4 * len(PFTS))
        columns = (footprint_cells[:, :, None] * len(PFTS) + np.arange(len(PFTS))).ravel()
        weights = 0.25 * np.tile(FRACTIONS, 4 * n_obs)
        matrix = sp.csr_matrix((weights, (rows, columns)), shape=(n_obs, n_tile))
        observations.append(FootprintObservations(
            name, np.repeat(hours, CELLS_PER_BLOCK // 4), matrix,
            np.full(n_obs, 1.0 - sum(FRACTIONS))))
        ids.append(np.arange(n_obs) + block * n_obs)
    return BlockProblem(index=block, tiles=tiles,
                        tile_ids=block * n_tile + np.arange(n_tile), forcing=forcing,
                        spinup=SpinUp(0, 0), observations=tuple(observations),
                        observation_ids=tuple(ids))


def _problem(n_block: int, years: int):
    config = load_config("lapland-0.25deg", ["control.initial_pools=[c_foliage_init]"])
    space = control_space(config.control, [pft_code(p) for p in PFTS])
    loaders = [functools.partial(load_bench_block, b, years) for b in range(n_block)]
    first = loaders[0]()
    streams = [StreamData(o.stream, np.full(o.n_obs * n_block, 0.5),
                          np.full(o.n_obs * n_block, 0.1)) for o in first.observations]
    tile_hours = n_block * first.tiles.n_tile * first.forcing.n_hour
    return space, streams, loaders, tile_hours


def _timed(cost: CostFunction, z: np.ndarray, repeats: int) -> float:
    cost(z)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        cost(z)
        best = min(best, time.perf_counter() - start)
    return best


def assimilation_benchmark(n_block: int = 4, years: int = 1, repeats: int = 2
                           ) -> dict[str, float]:
    """The figures of the module docstring."""
    space, streams, loaders, tile_hours = _problem(n_block, years)
    z = np.random.default_rng(0).standard_normal(space.n) * 0.3
    single = _timed(CostFunction(space, streams, loaders, threads=1), z, repeats)
    figures = {"gradient_s_single": single,
               "gradient_us_per_tile_hour": single / tile_hours * 1e6,
               "tccas_reference_us_per_tile_hour": TCCAS_SECONDS / TCCAS_TILE_HOURS * 1e6}
    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            figures[f"gradient_s_dask_{workers}worker{'s' if workers > 1 else ''}"] = \
                _timed(CostFunction(space, streams, loaders, client=client), z, repeats)
    figures["dask_overhead_fraction"] = figures["gradient_s_dask_1worker"] / single - 1.0
    figures["strong_scaling_1_to_2"] = (figures["gradient_s_dask_1worker"]
                                        / figures["gradient_s_dask_2workers"])
    return figures
