"""Experiment configuration: one YAML file per experiment, validated into typed objects.

A configuration names the region and its grid, the period (with spin-up and the
assimilation window), the observation streams (quality thresholds, model-error sigmas,
whether assimilated), the synthetic-data generator, the ingestion, the control vector,
the optimiser and the Dask cluster (ARCHITECTURE.md sections 10 and 11).

Built-in configurations ship with the package (``pipeline/configs/<name>.yaml``) and are
usable by name wherever a CONFIG is expected; any other value is read as a YAML file.
Every entry can be overridden on the command line with ``--set dotted.key=value``; the
value is parsed as YAML (``--set period.end=2016-12-31``, ``--set streams.vod.assimilate=
false``, ``--set control.pfts=[C3Gr]``). Unknown keys, wrong types and inconsistent values
are user errors (:class:`TccasInputError`) naming the file, the key and the value, raised
before any work starts.

Every output store carries :func:`resolved_yaml` of its configuration.
"""

from __future__ import annotations

import datetime as dt
import math
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tccas.catalog.grid import LAEA_EUROPE, WGS84_LONLAT, Grid, latlon_grid, transformer
from tccas.catalog.sites import SITES, Site, get_site
from tccas.model.driver import SpinUp
from tccas.model.errors import TccasInputError
from tccas.model.parameters import (
    OPERATOR_PARAMETERS,
    PARAMETER_BY_NAME,
    PFT_BY_SHORT,
    SOIL_CLASSES,
)
from tccas.operators.streams import STREAMS

#: [km] mean radius of the WGS84 authalic sphere, for converting region sizes to degrees.
EARTH_RADIUS_KM = 6371.0072

#: Assimilated streams with their PROPOSED model-error sigma (MODEL_SPEC 6.1): sigma_tot^2 =
#: sigma_obs^2 + sigma_model^2 with sigma_model chosen to reproduce the TCCAS ratios of
#: total to observational uncertainty at ES-LM1 (SIF 51 -> 55 %, L-VOD 15 -> 101 %, SM
#: 10 -> 61 %, FAPAR 58 -> 61 % of the mean): sigma_model / mean = 0.21, 1.0, 0.60, 0.19,
#: times typical means at Majadas (SIF 0.3 mW m-2 sr-1 nm-1, L-VOD 0.3, SM 0.15 m3 m-3,
#: FAPAR 0.35).
DEFAULT_SIGMA_MODEL = {"sif743": 0.06, "vod": 0.3, "sm_surface": 0.09, "fapar": 0.07}

#: Default product of each stream (the reader that ingests it).
DEFAULT_PRODUCT = {
    "sif743": "troposif", "vod": "smos_l2", "sm_surface": "smos_l2", "fapar": "jrc_tip",
    "nee": "fluxnet", "gpp": "fluxnet", "agb": "cci_biomass",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegionConfig(_Strict):
    """Where: a single site cell or a square region on a model grid.

    ``kind: site`` is the one grid cell holding the built-in site, with the site's own PFT
    mixture (the TCCAS site set-up). ``kind: box`` is a square of ``size_km`` around the
    site (or ``centre``), whose PFT mixture comes from land cover. ``grid: latlon`` is the
    regular lat/lon grid of ``resolution`` degrees (0.25 by default); ``grid: laea`` is LAEA
    Europe (EPSG:3035) with ``resolution`` in metres (100), the box taken in the projected
    plane so that it is exactly ``size_km`` on a side (snapped outward to whole cells).
    """

    kind: Literal["site", "box"] = "site"
    site: str | None = None
    centre: tuple[float, float] | None = Field(
        default=None, description="(longitude, latitude) [degree], when no site is named")
    grid: Literal["latlon", "laea"] = "latlon"
    resolution: float = Field(default=0.25, gt=0.0,
                              description="[degree] for latlon, [m] for laea")
    size_km: float = Field(default=500.0, gt=0.0, le=5000.0)
    block_cells: int = Field(default=8, ge=1,
                             description="side of a square block of cells (one Dask task)")
    min_tile_fraction: float = Field(default=0.01, ge=0.0, lt=1.0,
                                     description="PFT cover below this makes no tile")

    @field_validator("site")
    @classmethod
    def _known_site(cls, value: str | None) -> str | None:
        if value is not None and value.lower() not in SITES:
            raise ValueError(f"unknown site '{value}'; built-in sites: {', '.join(SITES)}")
        return None if value is None else value.lower()

    @model_validator(mode="after")
    def _consistent(self) -> RegionConfig:
        if self.site is None and self.centre is None:
            raise ValueError("give region.site or region.centre")
        if self.kind == "site" and self.site is None:
            raise ValueError("region.kind 'site' needs region.site")
        if self.centre is not None:
            lon, lat = self.centre
            if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
                raise ValueError(f"region.centre {self.centre} is not (lon, lat) in degrees")
        if self.grid == "latlon" and self.resolution > 5.0:
            raise ValueError(f"region.resolution {self.resolution} degree is too coarse")
        if self.grid == "laea" and self.resolution < 10.0:
            raise ValueError(f"region.resolution {self.resolution} m is too fine for laea "
                             "(it is given in metres)")
        return self

    @property
    def site_info(self) -> Site | None:
        """The built-in site, if one is named."""
        return None if self.site is None else get_site(self.site)

    @property
    def centre_lonlat(self) -> tuple[float, float]:
        """(longitude, latitude) [degree] of the region's centre."""
        if self.centre is not None:
            return self.centre
        site = get_site(str(self.site))
        return site.longitude, site.latitude

    def model_grid(self) -> Grid:
        """The model grid of the region (:mod:`tccas.catalog.grid`)."""
        lon, lat = self.centre_lonlat
        res = self.resolution
        if self.grid == "laea":
            x, y = transformer(WGS84_LONLAT, LAEA_EUROPE).transform(lon, lat)
            half = 500.0 * (0.0 if self.kind == "site" else self.size_km)
            x_min = math.floor((x - half) / res) * res
            y_max = math.ceil((y + half) / res) * res
            nx = max(1, math.ceil((x + half) / res) - math.floor((x - half) / res))
            ny = max(1, math.ceil((y + half) / res) - math.floor((y - half) / res))
            return Grid(crs=LAEA_EUROPE, transform=(x_min, res, 0.0, y_max, 0.0, -res),
                        shape=(ny, nx))
        if self.kind == "site":
            west = math.floor(lon / res) * res
            south = math.floor(lat / res) * res
            return latlon_grid(west, south, west + res, south + res, res)
        half_lat = math.degrees(0.5 * self.size_km / EARTH_RADIUS_KM)
        half_lon = half_lat / max(math.cos(math.radians(lat)), 1e-6)
        west = math.floor((lon - half_lon) / res) * res
        east = math.ceil((lon + half_lon) / res) * res
        south = max(-90.0, math.floor((lat - half_lat) / res) * res)
        north = min(90.0, math.ceil((lat + half_lat) / res) * res)
        return latlon_grid(west, south, east, north, res)


class PeriodConfig(_Strict):
    """When: the simulated period (whole days, both ends included), its first
    ``spinup_years`` calendar years recycled ``spinup_cycles`` times before the main run
    (TCCAS spin-up, :class:`tccas.model.driver.SpinUp`), and the assimilation window: the
    main run after those years (SCIENCE.md: 2015-2021, spin-up 2015-2016, window
    2017-2021)."""

    start: dt.date = dt.date(2015, 1, 1)
    end: dt.date = dt.date(2021, 12, 31)
    spinup_years: int = Field(default=2, ge=0)
    spinup_cycles: int = Field(default=1, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> PeriodConfig:
        if self.end < self.start:
            raise ValueError(f"period.end {self.end} is before period.start {self.start}")
        if self.start.month != 1 or self.start.day != 1:
            raise ValueError(f"period.start {self.start} must be a 1 January (the spin-up "
                             "recycles calendar years)")
        if self.assimilation_start > self.end:
            raise ValueError(f"period.end {self.end} leaves no assimilation window after "
                             f"{self.spinup_years} spin-up years")
        return self

    @property
    def assimilation_start(self) -> dt.date:
        """First day of the assimilation window."""
        return dt.date(self.start.year + self.spinup_years, 1, 1)

    @property
    def spinup(self) -> SpinUp:
        """The model's spin-up configuration."""
        return SpinUp(years=self.spinup_years, cycles=self.spinup_cycles)


class StreamConfig(_Strict):
    """One observation stream: which product feeds it, whether it is assimilated (else
    used for validation only), its model-error sigma (in the stream's units, MODEL_SPEC
    6.1: sigma_tot^2 = sigma_obs^2 + sigma_model^2) and the reader's quality thresholds
    (names as in the reader's screening dataclass; empty = the reader's defaults from
    EO_FORMATS.md)."""

    product: str
    assimilate: bool = True
    sigma_model: float = Field(default=0.0, ge=0.0)
    qc: dict[str, float | int | bool | str] = Field(default_factory=dict)


def _default_streams() -> dict[str, StreamConfig]:
    streams = {name: StreamConfig(product=DEFAULT_PRODUCT[name], sigma_model=sigma)
               for name, sigma in DEFAULT_SIGMA_MODEL.items()}
    for name in ("nee", "gpp", "agb"):
        streams[name] = StreamConfig(product=DEFAULT_PRODUCT[name], assimilate=False)
    return streams


SYNTH_PRODUCTS = ("troposif", "smos_l2", "jrc_tip", "fluxnet", "cci_biomass")
"""Observation products ``tccas synth`` can write (ERA5 and the land cover always are)."""


class SynthConfig(_Strict):
    """The synthetic-data generator (``tccas synth``, :mod:`tccas.pipeline.synth`).

    Attributes
    ----------
    seed : non-negative seed of every random draw (weather, landscape, true parameters,
        orbits' cloud screening, product noise); the same configuration and seed give
        byte-identical files.
    truth_spread : true control elements are drawn from the prior with their whitened
        deviations scaled by this many prior sigmas (0: the truth is the prior), kept
        inside the bounds.
    products : the observation products to simulate and write (names of
        :data:`SYNTH_PRODUCTS`); a product left out is neither observed in the truth nor
        written, which makes quick runs quicker. ERA5 and the CCI land cover are always
        written: the truth run needs them.
    workers : processes for the per-day satellite geometry and the per-file product
        writing (forked, results in a fixed order, so they do not change any file);
        0 = one per core, 1 = everything in this process.
    """

    seed: int = Field(default=20150101, ge=0)
    truth_spread: float = Field(default=1.0, ge=0.0, le=3.0)
    products: list[Literal["troposif", "smos_l2", "jrc_tip", "fluxnet", "cci_biomass"]] = \
        Field(default_factory=lambda: list(SYNTH_PRODUCTS))
    workers: int = Field(default=0, ge=0)


class IngestConfig(_Strict):
    """Ingestion into the catalogue (``tccas ingest``, :mod:`tccas.pipeline.ingest`).

    Attributes
    ----------
    meteo_interpolation : ERA5 to the centres of the 0.25 degree meteorology cells:
        ``bilinear`` (the four surrounding ERA5 points) or ``nearest``
        (:mod:`tccas.catalog.catalogue_meteo`).
    era5_product : ``era5`` (accumulations over the previous hour) or ``era5-land``
        (running sums since 00 UTC, differenced on reading).
    min_coverage : [1] an observation is kept when at least this fraction of its footprint
        response lies inside the region's grid; its simulated value is then the mean over
        the covered part. PROPOSED 0.5: the footprint centre is about inside the region.
    keep_failed_qc : store rows that failed the quality screening too (with their ``qc``
        bits) instead of only those that passed.
    soil : soil class of the cells a soil texture map gives none (no soil texture file
        ingested, or no product data in the cell; :mod:`tccas.catalog.soil_texture`);
        empty = the site's class, else ``loam``.
    workers : files processed in parallel on a local cluster; 0 = ``cluster.workers``,
        or 2 when that is 0 too (the ingest is I/O bound).
    processes : local workers as processes (True) or threads of this process (False,
        PROPOSED default: the readers serialise on the netCDF library anyway, and the
        footprint geometry releases the GIL in numpy and GEOS).
    """

    meteo_interpolation: Literal["bilinear", "nearest"] = "bilinear"
    era5_product: Literal["era5", "era5-land"] = "era5"
    min_coverage: float = Field(default=0.5, gt=0.0, le=1.0)
    keep_failed_qc: bool = False
    soil: str = ""
    workers: int = Field(default=0, ge=0, description="parallel files; 0 = the cluster's")
    processes: bool = False

    @field_validator("soil")
    @classmethod
    def _known_soil(cls, value: str) -> str:
        if value and value not in SOIL_CLASSES:
            raise ValueError(f"unknown soil class '{value}'; known: {', '.join(SOIL_CLASSES)}")
        return value


class ControlConfig(_Strict):
    """What is optimised (ARCHITECTURE.md section 4, MODEL_SPEC 5): per-PFT process
    parameters and initial carbon pools of the PFTs present, shared over the region
    (``sharing: pft``) or per tile, and global operator parameters. ``pfts`` empty = every
    PFT present in the region. ``fixed`` holds control names (``C3Gr.vcmax25``,
    ``vod_l_0``) kept at the prior."""

    parameters: list[str] = Field(default_factory=lambda: [
        "vcmax25", "a_jv", "water_capacity_factor", "f_auto", "f_fol", "f_roo", "theta_woo",
        "theta_roo", "theta_lit", "theta_som", "temp_sensitivity", "c_eff", "d_onset",
        "lma"])
    initial_pools: list[str] = Field(default_factory=lambda: [
        "c_foliage_init", "c_wood_init", "c_som_init"])
    operator_parameters: list[str] = Field(
        default_factory=lambda: [p.name for p in OPERATOR_PARAMETERS])
    pfts: list[str] = Field(default_factory=list)
    sharing: Literal["pft", "tile"] = "pft"
    fixed: list[str] = Field(default_factory=list)

    @field_validator("parameters", "initial_pools")
    @classmethod
    def _known_parameters(cls, names: list[str]) -> list[str]:
        unknown = [n for n in names if n not in PARAMETER_BY_NAME]
        if unknown:
            raise ValueError(f"unknown parameter(s) {unknown}; known: "
                             f"{', '.join(PARAMETER_BY_NAME)}")
        return names

    @field_validator("operator_parameters")
    @classmethod
    def _known_operator_parameters(cls, names: list[str]) -> list[str]:
        known = [p.name for p in OPERATOR_PARAMETERS]
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ValueError(f"unknown operator parameter(s) {unknown}; known: "
                             f"{', '.join(known)}")
        return names

    @field_validator("pfts")
    @classmethod
    def _known_pfts(cls, names: list[str]) -> list[str]:
        unknown = [n for n in names if n not in PFT_BY_SHORT]
        if unknown:
            raise ValueError(f"unknown PFT(s) {unknown}; known: {', '.join(PFT_BY_SHORT)}")
        return names


class OptimiserConfig(_Strict):
    """scipy L-BFGS-B settings (in whitened control space)."""

    max_iterations: int = Field(default=200, ge=1, description=(
        "L-BFGS-B iterations at most; the Majadas 2015-2021 twin (40 control elements) "
        "converges in about 140, and a run that converges earlier stops there"))
    gradient_tolerance: float = Field(default=1e-5, gt=0.0)
    cost_tolerance: float = Field(default=1e-7, gt=0.0, description=(
        "stop when J falls by less than this fraction of J in an iteration (1e-7 of a "
        "chi-square near the number of observations is far below its noise)"))
    memory: int = Field(default=10, ge=1, description="L-BFGS correction pairs")


class ClusterConfig(_Strict):
    """The Dask cluster (ARCHITECTURE.md section 11, :func:`tccas.pipeline.cluster.open_cluster`).

    ``local``: a LocalCluster sized to the machine; ``address``: connect to the running
    scheduler at ``address``; ``slurm``/``pbs``: dask-jobqueue, the scheduler in this
    process and ``workers`` worker processes in batch jobs of ``processes_per_job``
    workers each; ``kubernetes``: a DaskCluster of the dask-kubernetes operator running
    ``image``. Options of dask-jobqueue that tccas does not set (account, network
    interface, extra directives, PBS resource spec, log directory) come from dask-jobqueue's
    own configuration (``~/.config/dask/jobqueue.yaml``, deploy/README.md).

    Attributes
    ----------
    workers : worker processes; 0 (local only) = one per core.
    threads_per_worker : threads of each worker (1: one block task per core, the model's
        tile loop single-threaded).
    memory_per_worker : memory limit of each worker (a Dask size such as ``4GiB``);
        ``auto`` = the machine's memory split over the workers (local) or no limit
        (kubernetes); slurm and pbs need a size.
    address : scheduler address for ``address`` (``tcp://host:8786``).
    connect_timeout : [s] how long ``address`` waits for the scheduler to answer.
    queue, walltime : batch queue (partition) and walltime of each worker job,
        ``HH:MM:SS`` (slurm also ``D-HH:MM:SS``).
    processes_per_job : worker processes per batch job (slurm, pbs); ``workers`` is
        rounded up to whole jobs.
    worker_lifetime : dask time (``110m``) after which a batch worker retires gracefully
        and is replaced by a fresh job, so that runs longer than the walltime survive;
        None = the walltime less twice ``lifetime_stagger``.
    lifetime_stagger : dask time by which worker lifetimes are spread, so that workers
        do not all retire at once.
    prologue : shell lines run in each worker job before the worker starts (``module
        load ...``, ``source venv/bin/activate``); empty = activate this process's
        virtual environment when it is one.
    local_directory : node-local scratch of each worker (``/tmp``, ``$TMPDIR``;
        environment variables are expanded on the worker) for spilled data and the
        Numba cache; None = Dask's default and ``~/.cache/tccas/numba``.
    image : container image of scheduler and workers (kubernetes).
    namespace : Kubernetes namespace; None = the current context's.
    volume_claims : Kubernetes PersistentVolumeClaims (ReadWriteMany) mounted in every
        worker pod, ``{claim name: mount path}``: the catalogue the block loaders read
        must be at the same path on the workers as in the client.
    dashboard : serve the scheduler's dashboard on port 8787.
    """

    kind: Literal["local", "address", "slurm", "pbs", "kubernetes"] = "local"
    workers: int = Field(default=0, ge=0)
    threads_per_worker: int = Field(default=1, ge=1)
    memory_per_worker: str = "auto"
    address: str | None = None
    connect_timeout: float = Field(default=30.0, gt=0.0)
    queue: str | None = None
    walltime: str = "02:00:00"
    processes_per_job: int = Field(default=1, ge=1)
    worker_lifetime: str | None = None
    lifetime_stagger: str = "5m"
    prologue: list[str] = Field(default_factory=list)
    local_directory: str | None = None
    image: str | None = None
    namespace: str | None = None
    volume_claims: dict[str, str] = Field(default_factory=dict)
    dashboard: bool = False

    @model_validator(mode="after")
    def _consistent(self) -> ClusterConfig:
        from dask.utils import parse_bytes

        if self.kind == "address" and not self.address:
            raise ValueError("cluster.kind 'address' needs cluster.address "
                             "(e.g. tcp://scheduler:8786)")
        if self.memory_per_worker != "auto":
            try:
                parse_bytes(self.memory_per_worker)
            except ValueError:
                raise ValueError(f"cluster.memory_per_worker '{self.memory_per_worker}' is "
                                 "not a size (e.g. 4GiB) or auto") from None
        if self.kind in ("slurm", "pbs", "kubernetes") and self.workers == 0:
            raise ValueError(f"cluster.kind '{self.kind}' needs cluster.workers >= 1 (the "
                             "number of worker processes)")
        if self.kind == "kubernetes" and not self.image:
            raise ValueError("cluster.kind 'kubernetes' needs cluster.image (the tccas "
                             "image, deploy/Dockerfile)")
        if self.kind in ("slurm", "pbs"):
            if self.memory_per_worker == "auto":
                raise ValueError(f"cluster.kind '{self.kind}' needs cluster.memory_per_worker "
                                 "as a size (e.g. 4GiB), not auto")
            if self.lifetime_seconds <= 0:
                raise ValueError(f"cluster.walltime '{self.walltime}' leaves no worker "
                                 "lifetime after twice cluster.lifetime_stagger "
                                 f"'{self.lifetime_stagger}'")
            if self.lifetime_seconds + self.stagger_seconds >= self.walltime_seconds:
                raise ValueError(f"cluster.worker_lifetime '{self.worker_lifetime}' plus "
                                 f"cluster.lifetime_stagger '{self.lifetime_stagger}' must be "
                                 f"shorter than cluster.walltime '{self.walltime}'")
        return self

    @property
    def walltime_seconds(self) -> int:
        """[s] the walltime ``[D-]HH:MM:SS`` (days only for slurm)."""
        days, _, clock = self.walltime.rpartition("-")
        parts = clock.split(":")
        if len(parts) != 3 or not all(p.isdigit() for p in parts) or \
                (days and (not days.isdigit() or self.kind == "pbs")):
            form = "HH:MM:SS" if self.kind == "pbs" else "HH:MM:SS or D-HH:MM:SS"
            raise ValueError(f"cluster.walltime '{self.walltime}' is not {form}")
        hours, minutes, seconds = (int(p) for p in parts)
        return ((int(days or 0) * 24 + hours) * 60 + minutes) * 60 + seconds

    @property
    def stagger_seconds(self) -> int:
        """[s] ``lifetime_stagger``."""
        return self._seconds("lifetime_stagger", self.lifetime_stagger)

    @property
    def lifetime_seconds(self) -> int:
        """[s] the lifetime of a batch worker: ``worker_lifetime``, or the walltime less
        twice the stagger."""
        if self.worker_lifetime is not None:
            return self._seconds("worker_lifetime", self.worker_lifetime)
        return self.walltime_seconds - 2 * self.stagger_seconds

    @staticmethod
    def _seconds(key: str, value: str) -> int:
        from dask.utils import parse_timedelta

        try:
            return int(parse_timedelta(value))
        except (ValueError, KeyError):
            raise ValueError(f"cluster.{key} '{value}' is not a time (e.g. 5m, 110m, "
                             "2h)") from None


class ExperimentConfig(_Strict):
    """A whole experiment."""

    name: str
    description: str = ""
    region: RegionConfig
    period: PeriodConfig = PeriodConfig()
    streams: dict[str, StreamConfig] = Field(default_factory=_default_streams)
    synth: SynthConfig = SynthConfig()
    ingest: IngestConfig = IngestConfig()
    control: ControlConfig = ControlConfig()
    optimiser: OptimiserConfig = OptimiserConfig()
    cluster: ClusterConfig = ClusterConfig()

    @field_validator("streams")
    @classmethod
    def _known_streams(cls, streams: dict[str, StreamConfig]) -> dict[str, StreamConfig]:
        unknown = sorted(set(streams) - set(STREAMS))
        if unknown:
            raise ValueError(f"unknown stream(s) {unknown}; known: {', '.join(STREAMS)}")
        return streams

    @property
    def assimilated_streams(self) -> list[str]:
        """Names of the streams that enter the cost function."""
        return [name for name, s in self.streams.items() if s.assimilate]


def builtin_names() -> list[str]:
    """Names of the configurations shipped with the package."""
    folder = resources.files("tccas.pipeline") / "configs"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir()
                  if p.name.endswith(".yaml"))


def _read_yaml(config: str) -> tuple[dict[str, Any], str]:
    folder = resources.files("tccas.pipeline") / "configs"
    builtin = folder / f"{config}.yaml"
    if builtin.is_file():
        text, source = builtin.read_text(), f"built-in configuration '{config}'"
    else:
        path = Path(config)
        if not path.is_file():
            raise TccasInputError(
                f"configuration '{config}' is neither a file nor a built-in name "
                f"({', '.join(builtin_names())})")
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as err:
            raise TccasInputError(f"{path}: cannot read the configuration: {err}") from err
        source = str(path)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise TccasInputError(f"{source}: not valid YAML: {err}") from err
    if not isinstance(raw, dict):
        raise TccasInputError(f"{source}: a configuration must be a YAML mapping")
    return raw, source


def apply_override(raw: dict[str, Any], assignment: str) -> None:
    """Apply one ``dotted.key=value`` override (value parsed as YAML) to a raw mapping.

    Intermediate mappings are created when missing so that, for example, a stream's
    ``qc`` entry can be set on a configuration that leaves it to the defaults; whether the
    key exists is checked by the validation that follows.
    """
    key, sep, text = assignment.partition("=")
    if not sep or not key.strip():
        raise TccasInputError(f"--set '{assignment}': expected dotted.key=value")
    try:
        value = yaml.safe_load(text) if text.strip() else ""
    except yaml.YAMLError as err:
        raise TccasInputError(f"--set '{assignment}': value is not valid YAML: {err}") from err
    parts = key.strip().split(".")
    node = raw
    for depth, part in enumerate(parts[:-1]):
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise TccasInputError(f"--set '{assignment}': "
                                  f"'{'.'.join(parts[:depth + 1])}' is not a mapping")
        node = child
    node[parts[-1]] = value


def _format_errors(err: ValidationError) -> str:
    messages = []
    for item in err.errors():
        where = ".".join(str(p) for p in item["loc"]) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        shown = item.get("input")
        value = "" if isinstance(shown, dict) or item["type"] == "missing" else \
            f" (got {shown!r})"
        messages.append(f"{where}: {message}{value}")
    return "; ".join(messages)


def load_config(config: str, overrides: list[str] | tuple[str, ...] = ()) -> ExperimentConfig:
    """The validated configuration from a built-in name or a YAML file, with
    ``dotted.key=value`` overrides applied in order."""
    raw, source = _read_yaml(config)
    given = raw.get("streams", {})
    if not isinstance(given, dict):
        raise TccasInputError(f"{source}: streams must be a mapping of stream names")
    streams = {name: entry.model_dump() for name, entry in _default_streams().items()}
    for name, entry in given.items():
        streams[name] = {**streams.get(name, {}), **entry} if isinstance(entry, dict) \
            else entry
    raw["streams"] = streams
    for assignment in overrides:
        apply_override(raw, assignment)
    try:
        return ExperimentConfig.model_validate(raw)
    except ValidationError as err:
        raise TccasInputError(f"{source}: {_format_errors(err)}") from None


def resolved_yaml(config: ExperimentConfig) -> str:
    """The full configuration, every default filled in, as YAML text (stored with every
    output so that a result can be reproduced)."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)
