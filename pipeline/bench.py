"""``tccas bench``: performance figures of the system (BENCHMARKS.md records them).

forward: microseconds per tile-hour of the D&B forward run on one core, for a block of
1000 tiles (the four PFTs of the TCCAS sites, one meteorology cell) over one year of
built-in Majadas weather, best of ``repeats`` runs after a warm-up; and the peak resident
memory of the process [MB].

footprint: seconds to weight 20,000 TROPOMI pixels on the 0.25 degree and 100 m grids of a
500 x 500 km region and 300 SMOS ellipses on the 100 m grid (aggregated to tiles), and the
peak memory increase of the SMOS case [MB].

derivatives: cost of the tangent-linear run per direction relative to a forward run when
56 directions (the TCCAS control length for two PFTs) run together.

assimilation: one cost-and-gradient evaluation over blocks per tile-hour, the Dask
overhead per evaluation and the strong scaling from 1 to 2 workers.

ingest: seconds and peak memory of ``tccas ingest`` for one year of synthetic TROPOSIF and
SMOS over the 500 x 500 km Lapland region, and for June alone (memory must not grow with
the number of files).
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable

import numpy as np

from tccas.catalog.sites import get_site
from tccas.catalog.weather import site_forcing
from tccas.model.adjoint import run_adjoint
from tccas.model.driver import SpinUp, run_forward
from tccas.model.parameters import prior_table
from tccas.model.tangent import run_tangent
from tccas.model.tiles import make_tiles

N_TILE = 1000
BENCH_PFTS = ("TmEv", "C3Gr", "EvCn", "EShr")


def peak_memory_mb() -> float:
    """Peak resident set size of this process so far [MB] (Linux ru_maxrss is in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def forward_benchmark(n_tile: int = N_TILE, repeats: int = 3) -> dict[str, float]:
    site = get_site("majadas")
    forcing = site_forcing(site, "2015-01-01", "2015-12-31", seed=0)
    pfts = [BENCH_PFTS[i % len(BENCH_PFTS)] for i in range(n_tile)]
    cells = np.arange(n_tile) // len(BENCH_PFTS)
    tiles = make_tiles(pfts, [1.0 / len(BENCH_PFTS)] * n_tile, site.latitude, site.longitude,
                       site.soil, cell=cells)
    parameters = prior_table(tiles.pft)
    no_spinup = SpinUp(years=0, cycles=0)
    run_forward(tiles, parameters, forcing, no_spinup, threads=1)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        run_forward(tiles, parameters, forcing, no_spinup, threads=1)
        best = min(best, time.perf_counter() - start)
    tile_hours = n_tile * forcing.n_hour
    return {
        "forward_us_per_tile_hour": best / tile_hours * 1e6,
        "forward_seconds_1000_tiles_1_year": best,
        "forward_peak_memory_mb": peak_memory_mb(),
    }


def derivative_benchmark(n_tile: int = 100, n_direction: int = 56) -> dict[str, float]:
    """Cost of the tangent-linear run per direction relative to a forward run, with
    ``n_direction`` directions carried together (one core, one year, best of 2)."""
    site = get_site("majadas")
    forcing = site_forcing(site, "2015-01-01", "2015-12-31", seed=0)
    pfts = [BENCH_PFTS[i % len(BENCH_PFTS)] for i in range(n_tile)]
    tiles = make_tiles(pfts, [1.0 / len(BENCH_PFTS)] * n_tile, site.latitude, site.longitude,
                       site.soil, cell=np.arange(n_tile) // len(BENCH_PFTS))
    parameters = prior_table(tiles.pft)
    directions = np.random.default_rng(0).standard_normal(
        (n_tile, parameters.shape[1], n_direction)) * parameters[:, :, None] * 0.01
    no_spinup = SpinUp(years=0, cycles=0)

    def best(run: Callable[[], object]) -> float:
        run()
        times = []
        for _ in range(2):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return min(times)

    forward = best(lambda: run_forward(tiles, parameters, forcing, no_spinup, threads=1))
    tangent = best(lambda: run_tangent(tiles, parameters, forcing, directions, no_spinup,
                                       threads=1))
    n_day = forcing.n_hour // 24
    seeds = np.ones((n_tile, n_day, 2))
    adjoint = best(lambda: run_adjoint(tiles, parameters, forcing, no_spinup,
                                       outputs=("gpp", "nee"), daily_b=seeds, threads=1))
    return {"tangent_direction_over_forward": tangent / n_direction / forward,
            "tangent_seconds_56_directions_100_tiles_1_year": tangent,
            "adjoint_over_forward": adjoint / forward,
            "adjoint_peak_memory_mb": adjoint_memory_benchmark()}


def adjoint_memory_benchmark(n_tile: int = 1000) -> float:
    """Peak resident memory [MB] of the process after the adjoint of 1000 tiles over 7
    years (2015-2021, two-year spin-up recycled once): interpreter, libraries, compiled
    kernels, forcing, seeds (1000 x 2557 daily values) and the per-tile checkpoints."""
    site = get_site("majadas")
    forcing = site_forcing(site, "2015-01-01", "2021-12-31", seed=0)
    pfts = [BENCH_PFTS[i % len(BENCH_PFTS)] for i in range(n_tile)]
    tiles = make_tiles(pfts, [1.0 / len(BENCH_PFTS)] * n_tile, site.latitude, site.longitude,
                       site.soil, cell=np.arange(n_tile) // len(BENCH_PFTS))
    parameters = prior_table(tiles.pft)
    seeds = np.ones((n_tile, forcing.n_hour // 24, 1))
    run_adjoint(tiles, parameters, forcing, SpinUp(), outputs=("nee",), daily_b=seeds)
    return peak_memory_mb()


def footprint_benchmark() -> dict[str, float]:
    """TROPOMI and SMOS footprint weights around Majadas (``tccas.pipeline.bench_footprint``)."""
    from tccas.pipeline.bench_footprint import footprint_benchmarks

    return footprint_benchmarks()


def ingest_benchmark() -> dict[str, float]:
    """``tccas ingest`` of a year of TROPOSIF and SMOS over Lapland
    (``tccas.pipeline.bench_ingest``)."""
    from tccas.pipeline.bench_ingest import ingest_benchmarks

    return ingest_benchmarks()


def assimilation_benchmark() -> dict[str, float]:
    """One cost-and-gradient evaluation over blocks, in process and on 1 and 2 Dask
    workers (``tccas.pipeline.bench_assimilation``)."""
    from tccas.pipeline.bench_assimilation import assimilation_benchmark as run

    return run()


def lapland_gradient_benchmark() -> dict[str, float]:
    """One gradient at the size of the full ``lapland-0.25deg`` experiment on 2 Dask
    workers (``tccas.pipeline.bench_assimilation``); about 12 minutes."""
    from tccas.pipeline.bench_assimilation import lapland_gradient_benchmark as run

    return run()


def majadas_twin_benchmark() -> dict[str, float]:
    """The Majadas 2015-2021 twin experiment end to end, scored
    (``tccas.pipeline.bench_twin``)."""
    from tccas.pipeline.bench_twin import twin_benchmark

    return twin_benchmark()


def suites() -> dict[str, Callable[[], dict[str, float]]]:
    return {"forward": forward_benchmark, "derivatives": derivative_benchmark,
            "footprint": footprint_benchmark, "ingest": ingest_benchmark,
            "assimilation": assimilation_benchmark}


def named_only_suites() -> dict[str, Callable[[], dict[str, float]]]:
    """Suites too long for the default run; ``--suite NAME`` runs them."""
    return {"lapland-gradient": lapland_gradient_benchmark,
            "majadas-twin": majadas_twin_benchmark}


def run_benchmarks(selected: list[str] | None = None) -> dict[str, float]:
    """Run the selected suites (default all but the named-only ones) and merge their
    figures."""
    available = suites() | named_only_suites()
    names = list(suites()) if not selected else selected
    figures: dict[str, float] = {}
    for name in names:
        figures.update(available[name]())
    return figures
