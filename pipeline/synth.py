"""``tccas synth CONFIG --out RAW_DIR``: a synthetic twin world with its EO products.

For the configuration's region and period, seeded by ``synth.seed`` and reproducible
(the same configuration gives byte-identical files):

1. **Land cover:** a spatially structured landscape around the site written as an ESA
   CCI Land Cover PFT file (:mod:`tccas.catalog.synth_landscape`) and, for a regional
   configuration, its companion LCCS class map (:mod:`tccas.catalog.cci_lccs`, which
   marks the wetland and tundra pixels); the model tiles follow from them as the
   catalogue builds them (:mod:`tccas.catalog.synth_region`; a ``site`` region takes the
   site's PFT table, so it gets no class map: PROPOSED, the map would only refine a
   mapping that a site region does not use). For a regional configuration also a soil
   texture map (:mod:`tccas.catalog.synth_soil`, written as the OpenLandMap GeoTIFF of
   :mod:`tccas.catalog.soil_texture`); the tiles take the soil class the catalogue will
   give their cell, read back from that file with the ingest's own aggregation (a
   ``site`` region: the ingest's fallback class, ``ingest.soil`` or the site's soil,
   everywhere, and no soil file).
2. **Weather:** hourly ERA5 files on the 0.25 degree lattice around the region and the
   invariant geopotential of the relief they were made on
   (:mod:`tccas.catalog.synth_weather`), and from them the forcing of every meteorology
   cell, interpolated and converted as the catalogue does and rounded to float32 as the
   catalogue stores it.
3. **Truth:** control elements (:func:`tccas.pipeline.control.control_space` of the
   configuration over the PFTs present) drawn from the prior with ``synth.truth_spread``
   prior sigmas (``ControlSpace.draw``, kept inside the bounds); one forward run of every
   tile with those parameters and the configured spin-up, block by block, sampling the
   hours the observations need (:mod:`tccas.operators.observe`).
4. **Observations** on their own footprints, noise-free from the truth, then with the
   products' noise (:mod:`tccas.catalog.synth`): TROPOSIF L2B (stream ``sif743``), SMOS L2
   SM (``sm_surface``, ``vod``), JRC-TIP FAPAR (``fapar``, the model's two-stream FAPAR at
   local solar noon of the composite's middle day), FLUXNET FULLSET at the tower
   (hourly ``nee``, ``gpp``, with respiration, evapotranspiration and surface soil
   moisture), CCI Biomass AGB (``agb``, 1 July 00 UTC of each year in the period).
5. ``truth.zarr`` (Zarr format 2, consolidated, written atomically): everything needed to
   score a twin experiment (:func:`truth_dataset`).

The whole output folder is built under a temporary name beside ``RAW_DIR`` and moved into
place at the end, so ``RAW_DIR`` is either the previous complete output or the new one.

Cost: the satellite geometry (one task per day) and the product files (one task per
file) run on ``synth.workers`` forked processes; every random draw comes from a stream
named after its day, pass or year, so the files do not depend on the number of workers.
The truth runs tile blocks of at most :data:`MAX_RUN_TILES` tiles in turn, each with
the model's own thread parallelism, sampling only the hours its observations need.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import multiprocessing
import os
import shutil
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import numpy as np
import xarray as xr
from scipy import sparse

from tccas.catalog.catalogue_write import uniform_soil_class
from tccas.catalog.cci_landcover import (
    aggregate_pft_fractions,
    cci_landcover_file_name,
    read_cci_landcover,
    write_cci_landcover,
)
from tccas.catalog.cci_lccs import lccs_file_name, write_lccs_map
from tccas.catalog.jrc_tip import COMPOSITE_DAYS, composite_starts
from tccas.catalog.soil_texture import (
    soil_class_on_grid,
    soil_texture_file_name,
    write_soil_texture,
)
from tccas.catalog.synth import (
    BIOMASS_STEPS,
    MAX_RASTER_PIXELS,
    PRODUCT_FOLDERS,
    RFI_LEVEL,
    TIP_STEPS,
    Raster,
    SmosErrorModel,
    pixel_raster,
    troposif_soundings,
    write_atomic,
    write_biomass_year,
    write_fluxnet,
    write_smos_pass,
    write_tip_year,
    write_troposif_day,
)
from tccas.catalog.synth_fields import SmoothField, elevation, named_rng
from tccas.catalog.synth_landscape import synthetic_landscape
from tccas.catalog.synth_orbits import SMOS_PRODUCT_HALF_WIDTH_KM, dgg_lattice, smos_passes
from tccas.catalog.synth_region import (
    Region,
    build_region,
    cell_centres,
    grid_bbox,
    site_pft_fraction,
)
from tccas.catalog.synth_soil import synthetic_soil_texture
from tccas.catalog.synth_weather import (
    CLOUD_STEPS,
    ForcingStore,
    WeatherGenerator,
    bilinear_matrix,
    era5_file_name,
    era5_geopotential_dataset,
    era5_geopotential_file_name,
    era5_lattice,
    era5_month_datasets,
    forcing_hours,
    write_netcdf_atomic,
)
from tccas.catalog.weather import cos_solar_zenith
from tccas.model.driver import run_forward
from tccas.model.errors import TccasInputError
from tccas.model.forcing import FORCING_VARIABLES, make_forcing
from tccas.model.layout import (
    D_INTERCEPTION_EVAPORATION,
    D_RA,
    D_RH,
    D_SM_SURFACE,
    D_SOIL_EVAPORATION,
    D_SUBLIMATION,
    D_TRANSPIRATION,
    N_STATE,
)
from tccas.model.outputs import DAILY_OUTPUTS, OUTPUT_INDEX
from tccas.model.parameters import OPERATOR_PARAMETERS, PARAMETERS, PFTS
from tccas.operators.footprint import ellipse_weights, quad_weights
from tccas.operators.observe import (
    FootprintObservations,
    PartialSums,
    SampledObservations,
    complete,
    partial_sums,
    sample_observations,
)
from tccas.operators.streams import STREAMS
from tccas.pipeline.config import ExperimentConfig, resolved_yaml
from tccas.pipeline.control import ControlSpace, control_space
from tccas.pipeline.ingest import fallback_soil
from tccas.pipeline.simulate import replace_folder, write_zarr_atomic

TRUTH_STORE = "truth.zarr"
#: Daily outputs of the truth kept per tile in ``truth.zarr``.
TRUTH_DAILY = ("gpp", "nee", "ra", "rh", "et", "lai", "fapar", "sm_surface", "snow_water",
               "c_labile", "c_foliage", "c_root", "c_wood", "c_litter", "c_som")
#: Most tiles run at once (bounds the memory of the sampled snapshots).
MAX_RUN_TILES = 96
#: Most footprint weight entries whose snapshot rows are gathered at once.
MAX_ENTRIES = 200_000
#: Snow water equivalent [kg m-2] above which a tile counts as snow covered.
SNOW_COVERED = 1.0
#: Streams with a footprint table in ``truth.zarr`` (``obs/<stream>``).
TABLE_STREAMS = ("sif743", "sm_surface", "vod")
TABLE_COLUMNS = ("source", "row", "index", "longitude", "latitude")
Log = Callable[[str], None]


@dataclass
class ObservationSet:
    """Observations of one stream: hour index (into the period) and footprint weights on
    the grid cells, plus where each lands in the products."""

    stream: str
    hours: list[np.ndarray] = field(default_factory=list)
    weights: list[sparse.csr_matrix] = field(default_factory=list)

    def add(self, hours: np.ndarray, weights: sparse.spmatrix) -> None:
        self.hours.append(np.asarray(hours, dtype=np.int64))
        self.weights.append(sparse.csr_matrix(weights))

    def stacked(self, n_cells: int) -> tuple[np.ndarray, sparse.csc_matrix]:
        hours = np.concatenate(self.hours) if self.hours else np.zeros(0, np.int64)
        weights = (sparse.vstack(self.weights, format="csc") if self.weights
                   else sparse.csc_matrix((0, n_cells)))
        return hours, weights


@dataclass
class World:
    """Everything built so far for one synthetic run."""

    config: ExperimentConfig
    staging: Path
    scratch: Path
    region: Region
    start: np.datetime64
    n_day: int
    forcing: ForcingStore | None = None
    cloud: np.ndarray | None = None
    weather: WeatherGenerator | None = None
    space: ControlSpace | None = None
    x_true: np.ndarray | None = None
    parameters: np.ndarray | None = None
    operator: np.ndarray | None = None
    observations: dict[str, ObservationSet] = field(default_factory=dict)
    meta: dict[str, object] = field(default_factory=dict)

    @property
    def n_hour(self) -> int:
        return 24 * self.n_day

    def rng(self, *names: str) -> np.random.Generator:
        return named_rng(self.config.synth.seed, *names)

    def folder(self, product: str) -> Path:
        path = self.staging / PRODUCT_FOLDERS[product]
        path.mkdir(parents=True, exist_ok=True)
        return path

    def hour_of(self, time: np.ndarray) -> np.ndarray:
        """Index of the period hour holding each UTC time."""
        offset = np.asarray(time, dtype="datetime64[us]") - self.start.astype("datetime64[us]")
        return (offset // np.timedelta64(1, "h")).astype(np.int64)


def synthesize(config: ExperimentConfig, out: str | os.PathLike, log: Log = print) -> Path:
    """Write the synthetic world of ``config`` into the folder ``out`` (module docstring).

    Raises
    ------
    TccasInputError
        The region has no built-in site, ``out`` cannot be written or is an existing
        folder that is not a previous synth output.
    """
    target = Path(out)
    if config.region.site_info is None:
        raise TccasInputError(f"{config.name}: region.site must name a built-in site (the "
                              "synthetic world takes its climate and landscape)")
    if target.exists() and (not target.is_dir() or (any(target.iterdir()) and not (
            target / TRUTH_STORE).exists())):
        raise TccasInputError(f"{target}: exists and is not an earlier 'tccas synth' output; "
                              "not overwriting")
    staging = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex}")
    try:
        staging.mkdir(parents=True)
    except OSError as err:
        raise TccasInputError(f"{target}: cannot write there ({err.strerror or err})") from None
    try:
        world = _world(config, staging, log)
        _weather(world, log)
        _truth_parameters(world)
        _observations(world, log)
        results = _truth_run(world, log)
        _products(world, results, log)
        shutil.rmtree(world.scratch)
        dataset, groups = truth_dataset(world, results)
        write_zarr_atomic(dataset, staging / TRUTH_STORE, groups)
        replace_folder(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    log(f"wrote {target}")
    return target


def run_synth(config: ExperimentConfig, out: str | os.PathLike, quiet: bool = False) -> int:
    """``tccas synth``: :func:`synthesize` with progress lines (elapsed seconds) on
    standard output unless ``quiet``; returns the exit status 0."""
    started = time.perf_counter()

    def log(message: str) -> None:
        if not quiet:
            print(f"[{time.perf_counter() - started:7.1f} s] {message}", flush=True)

    synthesize(config, out, log)
    return 0


# ------------------------------------------------------------------ land and region
def _world(config: ExperimentConfig, staging: Path, log: Log) -> World:
    site = config.region.site_info
    assert site is not None
    grid = config.region.model_grid()
    period = config.period
    start = np.datetime64(period.start, "D")
    n_day = int((np.datetime64(period.end, "D") - start).astype(np.int64)) + 1
    seed = config.synth.seed
    west, south, east, north = grid_bbox(grid)
    landscape = synthetic_landscape(site, seed, west, south, east, north)
    folder = staging / PRODUCT_FOLDERS["landcover"]
    folder.mkdir(parents=True)
    path = folder / cci_landcover_file_name(period.start.year)
    write_atomic(path, lambda p: write_cci_landcover(p, landscape.percentages, landscape.lat,
                                                     landscape.lon, period.start.year))
    soil = fallback_soil(config)
    if config.region.kind == "site":
        fraction = site_pft_fraction(site, grid)
        soil_class = uniform_soil_class(grid, soil).values
    else:
        classes = write_atomic(folder / lccs_file_name(period.start.year), lambda p: (
            write_lccs_map(p, landscape.lccs_class, landscape.lat, landscape.lon,
                           period.start.year)))
        aggregated = aggregate_pft_fractions(read_cci_landcover(path, lccs_path=classes), grid)
        fraction = aggregated["pft_fraction"].values
        soil_folder = staging / PRODUCT_FOLDERS["soil"]
        soil_folder.mkdir()
        texture = synthetic_soil_texture(site, seed, west, south, east, north)
        soil_path = write_atomic(soil_folder / soil_texture_file_name(), lambda p: (
            write_soil_texture(p, texture.classes, texture.lat, texture.lon)))
        soil_class = soil_class_on_grid(soil_path, grid, soil).values
    region = build_region(site, grid, fraction, soil_class, config.region.block_cells,
                          config.region.min_tile_fraction)
    log(f"region: {grid.ny} x {grid.nx} cells, {region.n_tile} tiles, "
        f"{region.met_cells.size} meteorology cells, {n_day} days")
    scratch = staging / ".scratch"
    scratch.mkdir()
    return World(config=config, staging=staging, scratch=scratch, region=region, start=start,
                 n_day=n_day)


# ------------------------------------------------------------------------- weather
def _weather(world: World, log: Log) -> None:
    region = world.region
    seed = world.config.synth.seed
    lattice = era5_lattice(*region.met_lattice.bounds)
    end = world.start + np.timedelta64(world.n_day - 1, "D")
    generator = WeatherGenerator.create(region.site, lattice, world.start, end, seed)
    met_lon, met_lat = region.met_points()
    interpolation = bilinear_matrix(lattice, met_lon, met_lat)
    store = ForcingStore.create(world.scratch / "forcing", met_lon.size, world.n_hour)
    cloud = np.empty((lattice.n_points, world.n_hour + 1), dtype=np.uint8)
    folder = world.folder("era5")
    write_netcdf_atomic(era5_geopotential_dataset(generator, seed),
                        folder / era5_geopotential_file_name())
    carry: dict[str, np.ndarray] | None = None
    hour = 0
    position = 0
    for index, _ in generator.month_chunks(end):
        fields, cover = generator.fields(index)
        cloud[:, position:position + index.size] = np.round(cover * CLOUD_STEPS)
        position += index.size
        month = generator.valid_time[index[0]].astype("datetime64[M]")
        for step, ds in era5_month_datasets(generator, index, fields, seed).items():
            write_netcdf_atomic(ds, folder / era5_file_name(month, step))
        times = generator.valid_time[index]
        if carry is not None:
            fields = {k: np.concatenate([carry[k], v], axis=1) for k, v in fields.items()}
            times = np.concatenate([[generator.valid_time[index[0] - 1]], times])
        converted = forcing_hours(fields, interpolation, times)
        n = times.size - 1
        for name, values in converted.items():
            store.arrays[name][:, hour:hour + n] = values.astype(np.float32)
        hour += n
        carry = {k: v[:, -1:] for k, v in fields.items()}
    for array in store.arrays.values():
        array.flush()
    world.forcing, world.cloud, world.weather = store, cloud, generator
    world.meta["era5_lattice"] = lattice
    log(f"weather: ERA5 lattice {lattice.shape[0]} x {lattice.shape[1]} points, "
        f"{len(list(folder.iterdir()))} files")


def _cloud_cover(world: World) -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """Cloud cover [1] at points and times: bilinear in space, nearest valid time."""
    lattice = world.meta["era5_lattice"]
    cloud = world.cloud
    assert cloud is not None

    def cover(lon: np.ndarray, lat: np.ndarray, time: np.ndarray) -> np.ndarray:
        weights = bilinear_matrix(lattice, lon, lat)
        offset = (np.asarray(time, dtype="datetime64[s]") - world.start.astype("datetime64[s]"))
        column = np.clip(np.round(offset.astype(np.float64) / 3600.0).astype(np.int64), 0,
                         cloud.shape[1] - 1)
        rows = weights.tocoo()
        values = np.zeros(lon.size)
        np.add.at(values, rows.row, rows.data * cloud[rows.col, column[rows.row]])
        return values / CLOUD_STEPS

    return cover


# ------------------------------------------------------------------------- control
def _truth_parameters(world: World) -> None:
    tiles = world.region.tiles
    space = control_space(world.config.control, world.region.pfts_present, tiles.pft)
    x_true = space.draw(world.rng("truth-parameters"), world.config.synth.truth_spread)
    world.space, world.x_true = space, x_true
    world.parameters = space.tile_parameters(x_true, tiles.pft, np.arange(tiles.n_tile))
    world.operator = space.operator_parameters(x_true)


# -------------------------------------------------------------------- observations
def _coverage(world: World, weights: sparse.spmatrix) -> tuple[np.ndarray, np.ndarray]:
    """(share on tiles, share inside the grid) of each footprint."""
    tile_share = 1.0 - world.region.non_vegetated
    return np.asarray(weights @ tile_share).ravel(), np.asarray(weights.sum(axis=1)).ravel()


def _observations(world: World, log: Log) -> None:
    for stream in ("sif743", "sm_surface", "fapar", "agb", "nee", "gpp"):
        world.observations[stream] = ObservationSet(stream)
    soil_moisture = world.observations["sm_surface"]  # L-VOD shares its footprints
    world.observations["vod"] = ObservationSet("vod", soil_moisture.hours, soil_moisture.weights)
    products = world.config.synth.products
    world.meta.update(sif_days=[], smos_passes=[], tip_starts=np.zeros(0, "datetime64[D]"),
                      agb_years=[], tower_cell=None)
    if "troposif" in products:
        _sif_geometry(world)
    if "smos_l2" in products:
        _smos_geometry(world)
    _cell_observations(world, products)
    counts = {s: int(sum(h.size for h in o.hours)) for s, o in world.observations.items()}
    log("observations: " + ", ".join(f"{s} {n}" for s, n in counts.items()))


def _days(world: World) -> np.ndarray:
    return world.start + np.arange(world.n_day).astype("timedelta64[D]")


def _parallel_map(function: Callable, items: list, workers: int) -> list:
    """``[function(item) for item in items]``, in order, on ``workers`` forked processes
    when that pays (more than one worker and several items). Workers read the large
    shared inputs from :data:`_SHARED`, which they inherit when forked."""
    if workers <= 1 or len(items) < 4:
        return [function(item) for item in items]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(function, items, chunksize=max(1, len(items) // (8 * workers))))


#: Inputs of the parallel steps, set by the parent before it forks its workers.
_SHARED: dict[str, object] = {}


def _workers(world: World) -> int:
    return world.config.synth.workers or os.cpu_count() or 1


def _sif_day(day: np.datetime64) -> tuple[np.datetime64, np.ndarray, sparse.csr_matrix] | None:
    """One day of TROPOSIF geometry: the kept soundings go to the scratch folder; returns
    (day, hours, weights on the grid) or None when the day has no sounding."""
    world: World = _SHARED["world"]
    soundings = troposif_soundings(day, world.region.bbox, _cloud_cover(world),
                                   world.rng("troposif-geometry", str(day)))
    if not soundings:
        return None
    hours = world.hour_of(soundings["time"])
    inside = (hours >= 0) & (hours < world.n_hour)
    weights = quad_weights(world.region.grid, soundings["longitude_bounds"][inside],
                           soundings["latitude_bounds"][inside]).weights
    tile_share, _ = _coverage(world, weights)
    keep = np.flatnonzero(inside)[tile_share > 0.0]
    if keep.size == 0:
        return None
    np.savez(world.scratch / "troposif" / f"{day}.npz",
             **{k: v[keep] for k, v in soundings.items()})
    return day, hours[keep], sparse.csr_matrix(weights[tile_share > 0.0])


def _sif_geometry(world: World) -> None:
    (world.scratch / "troposif").mkdir()
    _SHARED["world"] = world
    days = []
    for result in _parallel_map(_sif_day, list(_days(world)), _workers(world)):
        if result is not None:
            day, hours, weights = result
            world.observations["sif743"].add(hours, weights)
            days.append((day, hours.size))
    world.meta["sif_days"] = days


def _smos_day(day: np.datetime64) -> list:
    world: World = _SHARED["world"]
    return smos_passes(day, world.meta["smos_lattice"])


def _smos_weights(keys: np.ndarray) -> sparse.csr_matrix:
    """Footprint weights of (lattice point, AFP [km]) pairs (uniform AFP circles)."""
    world: World = _SHARED["world"]
    lattice = world.meta["smos_lattice"]
    points = keys[:, 0].astype(np.int64)
    return ellipse_weights(world.region.grid, lattice.longitude[points],
                           lattice.latitude[points], keys[:, 1], keys[:, 1], 0.0).weights


def _smos_geometry(world: World) -> None:
    """SMOS passes over the region, and the weights of every retrieval's AFP circle: the
    AFP is rounded (:class:`SmosErrorModel`), so weights are computed once per (grid
    point, AFP) and shared by all passes."""
    region = world.region
    model = SmosErrorModel()
    reach = model.afp(SMOS_PRODUCT_HALF_WIDTH_KM) / 111.0
    west, south, east, north = region.bbox
    widen = reach / max(np.cos(np.radians(max(abs(south), abs(north)))), 0.1)
    lattice = dgg_lattice((west - widen, south - reach, east + widen, north + reach))
    world.meta["smos_lattice"] = lattice
    _SHARED["world"] = world
    workers = _workers(world)
    passes = [p for day in _parallel_map(_smos_day, list(_days(world)), workers) for p in day]
    selected = []
    for smos_pass in passes:
        hours = world.hour_of(smos_pass.time)
        in_swath = ((np.abs(smos_pass.x_swath_km) <= SMOS_PRODUCT_HALF_WIDTH_KM)
                    & (hours >= 0) & (hours < world.n_hour))
        if in_swath.any():
            selected.append((smos_pass, hours, in_swath))
    if not selected:
        world.meta["smos_passes"] = []
        return
    keys = np.concatenate([np.stack([p.points[s], model.afp(p.x_swath_km[s])], axis=1)
                           for p, _, s in selected])
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    batches = np.array_split(np.arange(unique.shape[0]), max(1, 4 * workers))
    bank = sparse.vstack(_parallel_map(_smos_weights, [unique[b] for b in batches if b.size],
                                       workers), format="csr")
    tile_share = np.asarray(bank @ (1.0 - region.non_vegetated)).ravel()
    kept, offset = [], 0
    for smos_pass, hours, in_swath in selected:
        rows = inverse.ravel()[offset:offset + int(in_swath.sum())]
        offset += rows.size
        used = tile_share[rows] > 0.0
        if not used.any():
            continue
        retrieved = np.zeros(smos_pass.points.size, dtype=bool)
        retrieved[np.flatnonzero(in_swath)[used]] = True
        world.observations["sm_surface"].add(hours[retrieved], bank[rows[used]])
        kept.append((smos_pass, retrieved))
    world.meta["smos_passes"] = kept


def _cell_identity(world: World, cells: np.ndarray) -> sparse.csr_matrix:
    return sparse.csr_matrix((np.ones(cells.size), (np.arange(cells.size), cells)),
                             shape=(cells.size, world.region.grid.n_cells))


def _cell_observations(world: World, products: list[str]) -> None:
    """FAPAR composites and AGB maps per grid cell (pixels are mixed from cells
    afterwards), and the tower's hourly fluxes, for the products asked for."""
    region = world.region
    grid = region.grid
    cells = np.arange(grid.n_cells)
    lon, _ = cell_centres(grid)
    noon = np.round(12.0 - lon / 15.0).astype(np.int64)
    last_day = world.start + np.timedelta64(world.n_day - 1, "D")
    starts = np.concatenate([composite_starts(year) for year in
                             range(int(str(world.start)[:4]), int(str(last_day)[:4]) + 1)])
    middle = starts + np.timedelta64(COMPOSITE_DAYS // 2, "D")
    starts = starts[(middle >= world.start) & (middle <= last_day)]
    if "jrc_tip" not in products:
        starts = starts[:0]
    identity = _cell_identity(world, cells)
    for first in starts:
        day_hour = world.hour_of(np.array([first + np.timedelta64(COMPOSITE_DAYS // 2, "D")]))
        world.observations["fapar"].add(np.clip(day_hour + noon, 0, world.n_hour - 1),
                                        identity)
    world.meta["tip_starts"] = starts
    epochs = [year for year in range(int(str(world.start)[:4]), int(str(last_day)[:4]) + 1)
              if world.start <= np.datetime64(f"{year:04d}-07-01") <= last_day
              and "cci_biomass" in products]
    for year in epochs:
        hour = world.hour_of(np.array([np.datetime64(f"{year:04d}-07-01T00:00")]))
        world.observations["agb"].add(np.full(cells.size, hour[0]), identity)
    world.meta["agb_years"] = epochs
    tower = np.atleast_1d(grid.cell_of(region.site.longitude, region.site.latitude))
    if "fluxnet" not in products or tower[0] < 0 or not np.any(region.tiles.cell == tower[0]):
        return
    one_hot = _cell_identity(world, tower)
    all_hours = np.arange(world.n_hour)
    for stream in ("nee", "gpp"):
        world.observations[stream].add(all_hours, sparse.vstack([one_hot] * world.n_hour))
    world.meta["tower_cell"] = int(tower[0])


# ----------------------------------------------------------------------- truth run
@dataclass
class TruthResults:
    """Noise-free observations per stream and the daily truth per tile."""

    simulated: dict[str, np.ndarray]
    daily: np.ndarray
    tower: dict[str, np.ndarray]
    hours: dict[str, np.ndarray]
    weights: dict[str, sparse.csc_matrix]


def _chunks(world: World) -> list[np.ndarray]:
    """Consecutive tiles in block order, whole cells, at most MAX_RUN_TILES when a cell
    allows it."""
    cell = world.region.tiles.cell
    chunks, current = [], []
    for tile in range(cell.size):
        if len(current) >= MAX_RUN_TILES and cell[tile] != cell[current[-1]]:
            chunks.append(np.array(current))
            current = []
        current.append(tile)
    if current:
        chunks.append(np.array(current))
    return chunks


def _compact_rows(weights: sparse.csc_matrix, columns: np.ndarray
                  ) -> tuple[np.ndarray, sparse.csc_matrix]:
    """The rows with a nonzero weight in ``columns`` and the compacted sub-matrix.

    The rows come from a mask over all rows and their new positions from its running
    count (as :func:`tccas.operators.footprint.touched_cells` does): linear in the number
    of rows instead of sorting the entries, the same result as ``np.unique`` and
    ``np.searchsorted``.
    """
    sub = weights[:, columns]
    used = np.zeros(weights.shape[0], dtype=bool)
    used[sub.indices] = True
    rows = np.flatnonzero(used)
    position = np.cumsum(used, dtype=np.int64) - 1
    compact = sparse.csc_matrix((sub.data, position[sub.indices], sub.indptr),
                                shape=(rows.size, columns.size))
    return rows, compact


def _non_vegetated_part(stream: str, shares: np.ndarray) -> PartialSums:
    spec = STREAMS[stream]
    if spec.non_vegetated is None:
        return PartialSums(stream, np.zeros(shares.size), np.zeros(shares.size))
    value = float(spec.non_vegetated)
    term = value if spec.mixing == "linear" else float(np.exp(-value))
    return PartialSums(stream, shares * term, shares.copy())


def _truth_run(world: World, log: Log) -> TruthResults:
    region = world.region
    tiles = region.tiles
    cell_tile = region.cell_tile().tocsr()
    stacked: dict[str, tuple[np.ndarray, sparse.csc_matrix]] = {}
    shared: dict[int, tuple[np.ndarray, sparse.csc_matrix]] = {}
    for stream, observations_of in world.observations.items():
        key = id(observations_of.weights)
        if key not in shared:
            shared[key] = observations_of.stacked(region.grid.n_cells)
        stacked[stream] = shared[key]
    totals = {}
    for stream, (_, weights) in stacked.items():
        totals[stream] = _non_vegetated_part(stream, np.asarray(
            weights @ region.non_vegetated).ravel())
    daily_index = [OUTPUT_INDEX[name] for name in TRUTH_DAILY]
    daily = np.lib.format.open_memmap(world.scratch / "daily.npy", mode="w+",
                                      dtype=np.float32,
                                      shape=(tiles.n_tile, world.n_day, len(daily_index)))
    tower = {name: np.zeros(world.n_hour) for name in ("reco", "et", "sm_surface", "weight")}
    store = world.forcing
    assert store is not None and world.parameters is not None
    started = time.perf_counter()
    chunks = _chunks(world)
    reported = 0
    for number, chunk in enumerate(chunks):
        cells = np.unique(tiles.cell[chunk])
        fractions = cell_tile[cells][:, chunk]
        observations, rows_of = [], []
        for stream, (hours, weights) in stacked.items():
            rows, compact = _compact_rows(weights, cells)
            if rows.size == 0:
                continue
            tile_weights = sparse.csr_matrix(compact @ fractions)
            observations.append(FootprintObservations(stream, hours[rows], tile_weights,
                                                      np.zeros(rows.size)))
            rows_of.append(rows)
        met_rows, met_local = np.unique(tiles.met_cell[chunk], return_inverse=True)
        forcing = make_forcing(world.start, **{
            name: np.asarray(store.arrays[name][met_rows], dtype=np.float64)
            for name in FORCING_VARIABLES}).validate("synthetic forcing")
        block_tiles = dataclasses.replace(tiles.subset(chunk), met_cell=met_local)
        sampled = sample_observations(chunk.size, world.n_hour, observations)
        result = run_forward(block_tiles, world.parameters[chunk], forcing,
                             world.config.period.spinup, samples=sampled.samples)
        for part, rows in zip(_partial_sums(sampled, result.snapshots, world.operator),
                              rows_of, strict=True):
            total = totals[part.stream]
            total.sums[rows] += part.sums
            total.weights[rows] += part.weights
        for obs, snapshot_rows in zip(observations, sampled.rows, strict=True):
            if obs.stream == "nee":
                _tower_extras(tower, obs, result.snapshots[snapshot_rows])
        daily[chunk] = result.daily[:, :, daily_index]
        if 10 * (number + 1) // len(chunks) > reported or number + 1 == len(chunks):
            reported = 10 * (number + 1) // len(chunks)
            log(f"truth run: {chunk[-1] + 1} of {tiles.n_tile} tiles "
                f"({time.perf_counter() - started:.0f} s)")
    daily.flush()
    simulated = {stream: complete(part) for stream, part in totals.items()
                 if part.weights.size}
    cell = world.meta.get("tower_cell")
    if cell is not None:
        on_tiles = tower.pop("weight")
        with_bare = on_tiles + world.region.non_vegetated[cell]
        tower = {"reco": tower["reco"] / with_bare, "et": tower["et"] / with_bare,
                 "sm_surface": tower["sm_surface"] / on_tiles}
    return TruthResults(simulated=simulated, daily=daily, tower=tower,
                        hours={s: h for s, (h, _) in stacked.items()},
                        weights={s: w for s, (_, w) in stacked.items()})


def _partial_sums(sampled: SampledObservations, snapshots: np.ndarray,
                  operator: np.ndarray) -> list[PartialSums]:
    """:func:`tccas.operators.observe.partial_sums` in batches of at most
    :data:`MAX_ENTRIES` weight entries per call, which bounds the memory of the snapshot
    rows gathered per entry (a year of SMOS over a block holds millions of entries)."""
    out = []
    for obs, rows in zip(sampled.observations, sampled.rows, strict=True):
        pointer = obs.weights.indptr
        bounds = [0]
        while bounds[-1] < obs.n_obs:
            bounds.append(max(bounds[-1] + 1, int(np.searchsorted(
                pointer, pointer[bounds[-1]] + MAX_ENTRIES, side="right")) - 1))
            bounds[-1] = min(bounds[-1], obs.n_obs)
        sums, weights = [], []
        for first, last in itertools.pairwise(bounds):
            part = FootprintObservations(obs.stream, obs.hours[first:last],
                                         obs.weights[first:last],
                                         obs.non_vegetated[first:last])
            batch = SampledObservations((part,), sampled.samples,
                                        (rows[pointer[first]:pointer[last]],))
            (result,) = partial_sums(batch, snapshots, operator)
            sums.append(result.sums)
            weights.append(result.weights)
        out.append(PartialSums(obs.stream, np.concatenate(sums) if sums else np.zeros(0),
                               np.concatenate(weights) if weights else np.zeros(0)))
    return out


def _tower_extras(tower: dict[str, np.ndarray], obs: FootprintObservations,
                  snapshots: np.ndarray) -> None:
    """Sums of respiration, evapotranspiration and surface soil moisture of the tower
    cell's tiles, weighted like NEE, from the snapshots of its hourly NEE observations
    (bare ground adds 0 to respiration and evapotranspiration; soil moisture is the mean
    over the tiles, as the ``sm_surface`` stream)."""
    row, _, weight = obs.entries()
    diag = snapshots[:, N_STATE:]
    hours = obs.hours[row]
    values = {
        "reco": diag[:, D_RA] + diag[:, D_RH],
        "et": (diag[:, D_TRANSPIRATION] + diag[:, D_SOIL_EVAPORATION]
               + diag[:, D_INTERCEPTION_EVAPORATION] + diag[:, D_SUBLIMATION]),
        "sm_surface": diag[:, D_SM_SURFACE],
    }
    for name, value in values.items():
        np.add.at(tower[name], hours, weight * value)
    np.add.at(tower["weight"], hours, weight)


# ------------------------------------------------------------------------ products
def _products(world: World, results: TruthResults, log: Log) -> None:
    world.meta["tables"] = {}
    if world.meta["sif_days"]:
        _write_troposif(world, results)
    if world.meta["smos_passes"]:
        _write_smos(world, results)
    _write_gridded(world, results)
    _write_tower(world, results)
    log("products: " + ", ".join(
        f"{folder} {len(list((world.staging / folder).iterdir()))}"
        for folder in PRODUCT_FOLDERS.values() if (world.staging / folder).exists()))


def _sif_file(task: tuple[np.datetime64, int, int]) -> tuple[str, np.ndarray, np.ndarray]:
    """Write one TROPOSIF day; returns (file name, longitudes, latitudes) of its rows."""
    day, offset, count = task
    world: World = _SHARED["world"]
    values: np.ndarray = _SHARED["sif743"]
    soundings = dict(np.load(world.scratch / "troposif" / f"{day}.npz"))
    path = write_troposif_day(world.folder("troposif"), day, soundings,
                              values[offset:offset + count],
                              world.rng("troposif-noise", str(day)))
    return path.name, soundings["longitude"], soundings["latitude"]


def _write_troposif(world: World, results: TruthResults) -> None:
    _SHARED.update(world=world, sif743=results.simulated.get("sif743", np.zeros(0)))
    offsets = np.cumsum([0] + [count for _, count in world.meta["sif_days"]])
    tasks = [(day, int(offsets[i]), count)
             for i, (day, count) in enumerate(world.meta["sif_days"])]
    table: dict[str, list[np.ndarray]] = {key: [] for key in TABLE_COLUMNS}
    world.folder("troposif")
    for (_, offset, count), (name, lon, lat) in zip(
            tasks, _parallel_map(_sif_file, tasks, _workers(world)), strict=True):
        table["source"].append(np.full(count, name, dtype=object))
        table["row"].append(np.arange(count))
        table["index"].append(offset + np.arange(count))
        table["longitude"].append(lon)
        table["latitude"].append(lat)
    world.meta["tables"]["sif743"] = table


def _smos_file(task: tuple[int, int]) -> str:
    """Write the granule of one pass (index into the passes, offset of its retrievals in
    the stream's observations); returns the file name."""
    index, offset = task
    world: World = _SHARED["world"]
    shared: dict[str, np.ndarray] = _SHARED["smos"]
    simulated: dict[str, np.ndarray] = _SHARED["simulated"]
    smos_pass, retrieved = world.meta["smos_passes"][index]
    count = int(retrieved.sum())
    rng = world.rng("smos-noise", str(smos_pass.orbit), str(smos_pass.ascending))
    points = smos_pass.points
    hours = np.clip(world.hour_of(smos_pass.time), 0, world.n_hour - 1)
    met = shared["point_met"][points]
    store = world.forcing
    assert store is not None
    temperature = np.where(met >= 0, store.arrays["air_temperature"][np.maximum(met, 0),
                                                                     hours], 280.0)
    cell = shared["point_cell"][points]
    snow = np.where(cell >= 0, shared["snow"][np.maximum(cell, 0), hours // 24], False)
    forest = np.where(cell >= 0, shared["forest"][np.maximum(cell, 0)], False)
    ancillary = {"rfi_prob": np.clip(shared["rfi_level"][points]
                                     * rng.uniform(0.5, 1.5, points.size), 0.0, 1.0),
                 "surface_temperature": temperature, "altitude": shared["altitude"][points],
                 "snow": snow, "frost": temperature < 273.15, "forest": forest}
    path = write_smos_pass(world.folder("smos"), smos_pass, world.meta["smos_lattice"],
                           retrieved, simulated["sm_surface"][offset:offset + count],
                           simulated["vod"][offset:offset + count], ancillary, rng)
    return path.name


def _write_smos(world: World, results: TruthResults) -> None:
    region = world.region
    lattice = world.meta["smos_lattice"]
    site = region.site
    seed = world.config.synth.seed
    rfi_field = SmoothField.create(seed, f"rfi-{site.name}", 80.0, site.longitude,
                                   site.latitude)
    met_index = {cell: i for i, cell in enumerate(region.met_cells)}
    lattice_met = region.met_lattice.cell_of(lattice.longitude, lattice.latitude)
    snow, forest = _cell_snow_forest(world, results)
    _SHARED.update(world=world, simulated=results.simulated, smos={
        "altitude": elevation(site, seed, lattice.longitude, lattice.latitude),
        "rfi_level": RFI_LEVEL[site.name] * np.exp(0.6 * rfi_field.at(lattice.longitude,
                                                                      lattice.latitude)),
        "point_met": np.array([met_index.get(int(c), -1) for c in lattice_met]),
        "point_cell": region.grid.cell_of(lattice.longitude, lattice.latitude),
        "snow": snow, "forest": forest})
    counts = [int(retrieved.sum()) for _, retrieved in world.meta["smos_passes"]]
    offsets = np.cumsum([0, *counts])
    tasks = [(i, int(offsets[i])) for i in range(len(counts))]
    world.folder("smos")
    names = _parallel_map(_smos_file, tasks, _workers(world))
    table: dict[str, list[np.ndarray]] = {key: [] for key in TABLE_COLUMNS}
    for (smos_pass, retrieved), name, offset, count in zip(
            world.meta["smos_passes"], names, offsets[:-1], counts, strict=True):
        table["source"].append(np.full(count, name, dtype=object))
        table["row"].append(np.flatnonzero(retrieved))
        table["index"].append(offset + np.arange(count))
        table["longitude"].append(lattice.longitude[smos_pass.points[retrieved]])
        table["latitude"].append(lattice.latitude[smos_pass.points[retrieved]])
    for stream in ("sm_surface", "vod"):
        world.meta["tables"][stream] = table


def _cell_snow_forest(world: World, results: TruthResults) -> tuple[np.ndarray, np.ndarray]:
    """(n_cells, n_day) snow-covered share > 0.5, and (n_cells,) tree cover > 0.5."""
    region = world.region
    tiles = region.tiles
    snow_index = TRUTH_DAILY.index("snow_water")
    covered = np.asarray(results.daily[:, :, snow_index] > SNOW_COVERED, dtype=np.float64)
    cell_tile = region.cell_tile()
    snow = np.asarray(cell_tile @ covered) > 0.5
    trees = np.isin(tiles.pft, [p.code for p in PFTS if p.vegetation_height >= 10.0])
    forest = np.asarray(cell_tile @ trees.astype(float)).ravel() > 0.5
    return snow, forest


def _pixel_weights(world: World, raster: Raster) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Normalised (n_pixels, n_cells) weights of raster pixels on the grid and the mask of
    pixels inside the grid."""
    corner_lon, corner_lat = raster.corners()
    weights = quad_weights(world.region.grid, corner_lon, corner_lat).weights
    inside = np.asarray(weights.sum(axis=1)).ravel()
    scale = np.where(inside > 0.0, 1.0 / np.where(inside > 0.0, inside, 1.0), 0.0)
    return sparse.csr_matrix(sparse.diags(scale) @ weights), inside > 0.0


def _write_gridded(world: World, results: TruthResults) -> None:
    region = world.region
    n_cells = region.grid.n_cells
    cell_tile = region.cell_tile()
    starts = world.meta["tip_starts"]
    if starts.size:
        raster = pixel_raster(region.bbox, TIP_STEPS, MAX_RASTER_PIXELS)
        weights, inside = _pixel_weights(world, raster)
        cell_fapar = results.simulated["fapar"].reshape(starts.size, n_cells)
        lai = results.daily[:, :, TRUTH_DAILY.index("lai")]
        swe = results.daily[:, :, TRUTH_DAILY.index("snow_water")]
        days = ((starts + np.timedelta64(COMPOSITE_DAYS // 2, "D") - world.start)
                .astype(np.int64))
        cell_lai = np.asarray(cell_tile @ lai[:, days]).T
        cell_snow = np.asarray(cell_tile @ (swe[:, days] > SNOW_COVERED)).T
        shape = (starts.size, *raster.shape)
        fapar = np.where(inside, (weights @ cell_fapar.T).T, np.nan).reshape(shape)
        pixel_lai = np.where(inside, (weights @ cell_lai.T).T, np.nan).reshape(shape)
        snow = (weights @ cell_snow.T).T.reshape(shape)
        pixel_lon, pixel_lat = np.meshgrid(raster.lon, raster.lat)
        noon = np.stack([_noon_zenith(pixel_lat, pixel_lon, first) for first in starts])
        folder = world.folder("jrc_tip")
        years = starts.astype("datetime64[Y]").astype(np.int64) + 1970
        for year in np.unique(years):
            chosen = years == year
            write_tip_year(folder, int(year), raster, starts[chosen], fapar[chosen],
                           pixel_lai[chosen], snow[chosen], noon[chosen],
                           world.rng("jrc-tip-noise", str(year)))
        world.meta["tip_truth"] = (raster, starts, fapar)
    years = world.meta["agb_years"]
    if years:
        raster = pixel_raster(region.bbox, BIOMASS_STEPS, MAX_RASTER_PIXELS)
        weights, inside = _pixel_weights(world, raster)
        cell_agb = results.simulated["agb"].reshape(len(years), n_cells)
        agb = np.where(inside, (weights @ cell_agb.T).T, np.nan).reshape(
            len(years), *raster.shape)
        folder = world.folder("biomass")
        for i, year in enumerate(years):
            write_biomass_year(folder, year, raster, agb[i],
                               world.rng("biomass-noise", str(year)))
        world.meta["agb_truth"] = (raster, np.array(years), agb)


def _noon_zenith(lat: np.ndarray, lon: np.ndarray, first: np.datetime64) -> np.ndarray:
    """[degree] solar zenith angle at local solar noon of a composite's middle day."""
    day = np.datetime64(first, "D") + np.timedelta64(COMPOSITE_DAYS // 2, "D")
    noon = (day.astype("datetime64[m]")
            + np.round((12.0 - lon / 15.0) * 60.0).astype("timedelta64[m]"))
    return np.degrees(np.arccos(np.clip(cos_solar_zenith(lat, lon, noon), -1.0, 1.0)))


def _write_tower(world: World, results: TruthResults) -> None:
    cell = world.meta.get("tower_cell")
    if cell is None:
        return
    region = world.region
    store = world.forcing
    assert store is not None
    lon, lat = cell_centres(region.grid)
    met = int(np.searchsorted(region.met_cells,
                              region.met_lattice.cell_of(lon[cell], lat[cell])))
    forcing = {name: np.asarray(store.arrays[name][met], dtype=np.float64)
               for name in FORCING_VARIABLES}
    hourly = {
        "nee": results.simulated["nee"], "gpp": results.simulated["gpp"],
        "reco": results.tower["reco"], "et": results.tower["et"],
        "swc": results.tower["sm_surface"],
        "sw_in": forcing["shortwave_down"], "lw_in": forcing["longwave_down"],
        "ta": forcing["air_temperature"], "vpd": forcing["vapour_pressure_deficit"],
        "pa": forcing["surface_pressure"], "precipitation": forcing["precipitation"],
        "ws": forcing["wind_speed"],
    }
    site = region.site
    write_fluxnet(world.folder("fluxnet"), site.fluxnet_id, site.utc_offset,
                  world.start.astype("datetime64[h]"), hourly, world.rng("fluxnet-noise"))
    world.meta["tower_hourly"] = hourly


# ---------------------------------------------------------------------------- truth
def truth_dataset(world: World, results: TruthResults
                  ) -> tuple[xr.Dataset, dict[str, xr.Dataset]]:
    """The content of ``truth.zarr``: the root dataset and its groups.

    Root: the resolved configuration (attribute ``config_yaml``), the control vector
    (``control_name``, ``x_prior``, ``sigma_prior``, ``x_true``, ``z_true``, ``lower``,
    ``upper``, ``log_normal``), the true operator parameters, the tiles (``tile_cell``,
    ``tile_pft``, ``tile_pft_name``, ``tile_fraction``, ``tile_met_cell``, ``tile_block``,
    ``tile_soil`` (soil class name), ``tile_latitude``, ``tile_longitude``), the meteorology
    cells (``met_cell``: lattice id, ``met_latitude``, ``met_longitude``), the per-tile true
    parameters and the daily truth per tile (:data:`TRUTH_DAILY` on ``(tile, time)``,
    float32). Groups: ``obs/<stream>`` for TROPOSIF and SMOS (per observation: ``time`` of
    its model hour, ``value_true``, ``latitude``, ``longitude``, ``source`` (index into
    ``source_file``, the file names) and ``row`` in that file, ``coverage`` of its footprint
    by the grid), ``fapar`` (noise-free JRC-TIP pixels), ``agb`` (noise-free AGB pixels),
    ``tower`` (hourly noise-free NEE and GPP [gC m-2 d-1], respiration, evapotranspiration
    and surface soil moisture of the tower cell).
    """
    region = world.region
    tiles = region.tiles
    space = world.space
    assert space is not None and world.x_true is not None and world.parameters is not None
    met_lon, met_lat = region.met_points()
    time = (world.start + np.arange(world.n_day).astype("timedelta64[D]")).astype(
        "datetime64[ns]")
    units = {v.name: v.unit for v in DAILY_OUTPUTS}
    data = {
        "x_prior": ("control", space.x0), "sigma_prior": ("control", space.sigma_prior),
        "x_true": ("control", world.x_true), "z_true": ("control", space.z_from_x(world.x_true)),
        "lower": ("control", space.lower), "upper": ("control", space.upper),
        "log_normal": ("control", space.log),
        "operator_parameter_true": ("operator_parameter", world.operator),
        "tile_cell": ("tile", tiles.cell), "tile_pft": ("tile", tiles.pft),
        "tile_pft_name": ("tile", np.array(tiles.pft_names, dtype=object)),
        "tile_fraction": ("tile", tiles.cover_fraction),
        "tile_met_cell": ("tile", region.met_cells[tiles.met_cell]),
        "tile_block": ("tile", region.tile_block),
        "tile_soil": ("tile", np.array(tiles.soil, dtype=object)),
        "tile_latitude": ("tile", tiles.static[:, 0]),
        "tile_longitude": ("tile", tiles.static[:, 1]),
        "met_cell": ("met", region.met_cells), "met_latitude": ("met", met_lat),
        "met_longitude": ("met", met_lon),
        "non_vegetated": ("cell", region.non_vegetated),
        "parameter_true": (("tile", "parameter_name"), world.parameters),
    }
    dataset = xr.Dataset({name: xr.DataArray(values[1], dims=values[0])
                          for name, values in data.items()})
    for i, name in enumerate(TRUTH_DAILY):
        dataset[name] = xr.DataArray(np.asarray(results.daily[:, :, i]), dims=("tile", "time"),
                                     attrs={"units": units[name]})
    dataset = dataset.assign_coords(
        control=("control", np.array(space.names, dtype=object)),
        control_units=("control", np.array(space.units, dtype=object)),
        operator_parameter=("operator_parameter", np.array(
            [p.name for p in OPERATOR_PARAMETERS], dtype=object)),
        parameter_name=("parameter_name", np.array([p.name for p in PARAMETERS], dtype=object)),
        time=("time", time))
    grid = region.grid
    dataset.attrs = {
        "title": "tccas synth truth of a twin experiment",
        "tccas_version": version("tccas"),
        "config_yaml": resolved_yaml(world.config),
        "seed": int(world.config.synth.seed),
        "truth_spread": float(world.config.synth.truth_spread),
        "grid_crs_wkt": grid.crs.to_wkt(),
        "grid_transform": json.dumps(list(grid.transform)),
        "grid_shape": json.dumps(list(grid.shape)),
        "met_lattice_transform": json.dumps(list(region.met_lattice.transform)),
        "met_lattice_shape": json.dumps(list(region.met_lattice.shape)),
        "tower_cell": -1 if world.meta.get("tower_cell") is None
        else int(world.meta["tower_cell"]),
        "forcing": "ERA5 files bilinearly interpolated to the meteorology cell centres, "
                   "converted as tccas.catalog.era5.era5_to_forcing, rounded to float32",
        "non_vegetated_mixing": "footprint share on the cells' non-vegetated ground mixed "
                                "with the stream's non_vegetated value",
    }
    groups = {}
    for stream in TABLE_STREAMS:
        table = world.meta["tables"].get(stream)
        if not table or not table["index"]:
            continue
        index = np.concatenate(table["index"])
        hours = results.hours[stream][index]
        weights = results.weights[stream]
        files = np.array([names[0] for names in table["source"] if names.size], dtype=object)
        source = np.repeat(np.arange(files.size, dtype=np.int32),
                           [names.size for names in table["source"] if names.size])
        groups[f"obs/{stream}"] = xr.Dataset({
            "time": ("obs", (world.start.astype("datetime64[h]") + hours).astype(
                "datetime64[ns]")),
            "value_true": ("obs", results.simulated[stream][index],
                           {"units": STREAMS[stream].units}),
            "latitude": ("obs", np.concatenate(table["latitude"])),
            "longitude": ("obs", np.concatenate(table["longitude"])),
            "source": ("obs", source, {"long_name": "index into source_file"}),
            "source_file": ("file", files),
            "row": ("obs", np.concatenate(table["row"]).astype(np.int32),
                    {"long_name": "row of the observation in its file (n_elem or "
                                  "n_grid_points)"}),
            "coverage": ("obs", np.asarray(weights[index].sum(axis=1)).ravel(),
                         {"long_name": "share of the footprint inside the model grid"}),
        }, attrs={"stream": stream, "time": "start of the model hour of the observation"})
    for name in ("tip_truth", "agb_truth"):
        if name in world.meta:
            raster, when, values = world.meta[name]
            key = "fapar" if name == "tip_truth" else "agb"
            groups[key] = xr.Dataset(
                {"value_true": (("epoch", "lat", "lon"), values.astype(np.float32),
                                {"units": STREAMS[key].units})},
                coords={"epoch": ("epoch", np.asarray(when)), "lat": ("lat", raster.lat),
                        "lon": ("lon", raster.lon)})
    if "tower_hourly" in world.meta:
        hourly = world.meta["tower_hourly"]
        groups["tower"] = xr.Dataset(
            {name: ("hour", np.asarray(hourly[name])) for name in
             ("nee", "gpp", "reco", "et", "swc")},
            coords={"hour": ("hour", (world.start.astype("datetime64[h]")
                                      + np.arange(world.n_hour)).astype("datetime64[ns]"))},
            attrs={"units": "nee, gpp, reco: gC m-2 d-1; et: kg m-2 h-1; swc: m3 m-3",
                   "fluxnet_id": region.site.fluxnet_id})
    return dataset, groups
