"""``tccas ingest CONFIG --raw RAW_DIR --out CATALOGUE.zarr``: raw products into a catalogue.

Steps (layout and row rules in :mod:`tccas.catalog.catalogue`):

1. Validate the configuration (streams, quality thresholds, consistency with an existing
   catalogue: grid, blocks, period and ingest settings must be the same) before any work.
2. Find the product files under RAW_DIR by name (:data:`tccas.catalog.catalogue_sources.
   PRODUCTS`); a synthetic ``truth.zarr`` is recognised too.
3. On a Dask cluster (:func:`ingest_client`: a LocalCluster of ``ingest.workers`` threads
   by default, or the configuration's cluster), with a progress bar: the SHA-256 of every
   file; files whose checksum the catalogue's provenance already holds are skipped
   (ingesting a file twice adds nothing). Then every new file is read: observation files
   into time-sorted, footprint-weighted parts (one per stream) in a work folder, ERA5 files
   indexed by their valid times. A file that fails (corrupt, truncated, empty, wrongly
   structured) is *rejected* with its path and reason; the others go on. With ``--strict``
   any rejection fails the ingest and nothing is written.
4. Build the new catalogue in a hidden sibling folder (a hard-linked clone of the previous
   one): static maps and tiles (land cover, or the site's PFT table for a site region;
   the soil class map from a soil texture file; the elevation from an ERA5 geopotential
   file; each kept from the previous catalogue until a new file of its kind comes),
   meteorology for the 365-day time chunks the new ERA5 files touch (one Dask task per
   chunk), each stream's table merged with the new parts (sorted by time, weights sorted
   by block), provenance with every new file (ingested or rejected, with the reason).
5. Swap the new catalogue into place atomically. A failure or a kill before the swap
   leaves the previous catalogue as it was; the abandoned folders are removed by the next
   ingest.

Work folders must be visible to the workers (a shared file system on a remote cluster).
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import xarray as xr
import zarr

from tccas.catalog.catalogue import (
    CATALOGUE_FORMAT,
    OBS,
    STATIC,
    Catalogue,
    grid_attributes,
    open_catalogue,
)
from tccas.catalog.catalogue_meteo import (
    HOURS_PER_CHUNK,
    Era5File,
    Interpolation,
    index_era5_file,
    met_lattice,
)
from tccas.catalog.catalogue_sources import (
    PRODUCTS,
    PartSummary,
    Product,
    Region,
    classify,
    elevation_on_grid,
    file_checksum,
    landcover_on_grid,
    observation_parts,
    screening_for,
    soil_on_grid,
)
from tccas.catalog.catalogue_write import (
    clone_store,
    copy_truth,
    create_meteo,
    fill_meteo_chunk,
    merge_stream,
    remove_abandoned_staging,
    staging_path,
    stream_attributes,
    swap_into_place,
    uniform_soil_class,
    unknown_elevation,
    write_root_attributes,
    write_static,
)
from tccas.catalog.soil_texture import soil_texture_depth_cm
from tccas.model.errors import TccasInputError
from tccas.model.parameters import pft_code
from tccas.operators.streams import STREAMS
from tccas.pipeline.config import ExperimentConfig, resolved_yaml

TRUTH_STORE = "truth.zarr"
DEFAULT_WORKERS = 2
#: Ingest settings that must not change between ingests into one catalogue.
FIXED_SETTINGS = ("grid", "block_cells", "period", "min_coverage", "keep_failed_qc",
                  "meteo_interpolation", "era5_product")


@dataclass
class FileResult:
    """What happened to one raw file.

    Attributes
    ----------
    path : the file.
    product : its product name.
    sha256 : its checksum.
    status : ``ingested``, ``rejected``, ``known`` (already in the catalogue) or
        ``duplicate`` (same content as another file of this ingest).
    reason : why it was rejected.
    parts : one summary per stream read (observation products).
    era5 : the valid-time span (ERA5 files).
    landcover : PFT fractions on the model grid (land-cover files).
    elevation : (y, x) [m] surface elevation on the model grid (geopotential files).
    soil : (y, x) soil class index on the model grid (soil texture files).
    reader : dotted name of the function that read it.
    """

    path: Path
    product: str
    sha256: str = ""
    status: str = "ingested"
    reason: str = ""
    parts: list[PartSummary] = field(default_factory=list)
    era5: Era5File | None = None
    landcover: xr.Dataset | None = None
    elevation: xr.DataArray | None = None
    soil: xr.DataArray | None = None
    reader: str = ""


@dataclass
class IngestReport:
    """The outcome of an ingest.

    Attributes
    ----------
    out : the catalogue.
    changed : False when nothing new was found and the catalogue was left untouched.
    files : every product file found under RAW_DIR with its fate.
    ignored : files of no known product, or of a product no configured stream reads.
    rows : rows added per stream.
    total_rows : rows per stream in the catalogue afterwards.
    meteo_hours : hours of meteorology (re)computed.
    n_tiles : tiles written (None when static maps were not (re)built).
    notes : remarks for the user (missing land cover, streams without reader, ...).
    """

    out: Path
    changed: bool = False
    files: list[FileResult] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    total_rows: dict[str, int] = field(default_factory=dict)
    meteo_hours: int = 0
    n_tiles: int | None = None
    notes: list[str] = field(default_factory=list)

    def of_status(self, status: str) -> list[FileResult]:
        """The files with one status."""
        return [f for f in self.files if f.status == status]

    def lines(self) -> list[str]:
        """A human summary, one line each."""
        lines = [f"rejected {f.path}: {f.reason}" for f in self.of_status("rejected")]
        ingested = self.of_status("ingested")
        if not self.changed:
            lines.append(f"{self.out}: nothing new ({len(self.of_status('known'))} files "
                         "already in the catalogue)")
        else:
            rows = ", ".join(f"{s} +{n} rows ({self.total_rows.get(s, n)} in all)"
                             for s, n in sorted(self.rows.items())) or "no observation rows"
            lines.append(f"wrote {self.out}: {len(ingested)} files ingested; {rows}")
            if self.meteo_hours:
                lines.append(f"meteorology: {self.meteo_hours} hours computed")
            if self.n_tiles is not None:
                lines.append(f"static maps and {self.n_tiles} tiles written")
        skipped = len(self.of_status("known")) + len(self.of_status("duplicate"))
        if skipped and self.changed:
            lines.append(f"skipped {skipped} files already in the catalogue or repeated")
        if self.ignored:
            lines.append(f"ignored {len(self.ignored)} files of no configured product")
        return lines + self.notes


class Progress:
    """A text progress bar on standard error (one line rewritten in place on a terminal,
    a line per tenth otherwise)."""

    WIDTH = 30

    def __init__(self, label: str, total: int, enabled: bool = True,
                 stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.stream = stream or sys.stderr
        self.enabled = enabled and total > 0
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last_tenth = -1

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more items done."""
        self.done += n
        if not self.enabled:
            return
        tenth = 10 * self.done // self.total
        if self.interactive or tenth != self._last_tenth:
            filled = self.WIDTH * self.done // self.total
            bar = "#" * filled + "." * (self.WIDTH - filled)
            end = "" if self.interactive and self.done < self.total else "\n"
            prefix = "\r" if self.interactive else ""
            print(f"{prefix}{self.label:<12} [{bar}] {self.done}/{self.total}", end=end,
                  file=self.stream, flush=True)
            self._last_tenth = tenth


# --------------------------------------------------------------------- the cluster
@contextmanager
def ingest_client(config: ExperimentConfig) -> Iterator[Any]:
    """A Dask client for the ingest.

    ``cluster.kind`` ``local``: a LocalCluster of ``ingest.workers`` single-threaded
    workers (``cluster.workers``, else 2), threads of this process unless
    ``ingest.processes``; reading is I/O and GEOS work, so the model's warm-up of
    :func:`tccas.pipeline.cluster.open_cluster` is not wanted here. Any other kind
    (``address``, ``slurm``, ``pbs``, ``kubernetes``): the cluster of
    :func:`~tccas.pipeline.cluster.open_cluster`; the work folder beside the catalogue must
    then be on a file system the workers share.
    """
    from dask.distributed import LocalCluster

    from tccas.pipeline.cluster import cluster_client, open_cluster

    cluster = config.cluster
    if cluster.kind != "local":
        with open_cluster(cluster) as client:
            yield client
        return
    workers = config.ingest.workers or cluster.workers or DEFAULT_WORKERS
    with LocalCluster(n_workers=workers, threads_per_worker=1,
                      processes=config.ingest.processes, dashboard_address=":0",
                      memory_limit=None if cluster.memory_per_worker == "auto"
                      else cluster.memory_per_worker) as local, cluster_client(local) as client:
        yield client


def _map(client: Any, function: Callable[..., Any], items: Sequence[Any], label: str,
         show: bool, **kwargs: Any) -> list[Any]:
    """``function(item, **kwargs)`` for every item on the cluster, in item order, with a
    progress bar."""
    from dask.distributed import as_completed

    if not items:
        return []
    futures = client.map(function, items, pure=False, **kwargs)
    position = {future.key: i for i, future in enumerate(futures)}
    results: list[Any] = [None] * len(items)
    bar = Progress(label, len(items), show)
    for future, result in as_completed(futures, loop=client.loop, with_results=True):
        results[position[future.key]] = result
        bar.advance()
    return results


# ----------------------------------------------------------------- per-file tasks
def _read_file(job: tuple[Path, str, str], screenings: dict[str, dict[str, Any]],
               region: Region, work_dir: Path, era5_product: str,
               interpolation: Interpolation, soil: str) -> FileResult:
    """Read one new raw file on a worker; every failure becomes a rejection."""
    path, product_name, sha256 = job
    product = PRODUCTS[product_name]
    result = FileResult(path, product_name, sha256)
    try:
        if product.kind == "meteorology":
            result.era5 = index_era5_file(path, era5_product)
            result.reader = "tccas.catalog.era5.open_era5"
        elif product.kind == "landcover":
            result.landcover = landcover_on_grid(path, region)
            result.reader = "tccas.catalog.cci_landcover.read_cci_landcover"
        elif product.kind == "elevation":
            result.elevation = elevation_on_grid(path, region, interpolation)
            result.reader = "tccas.catalog.era5.open_era5_geopotential"
        elif product.kind == "soil":
            result.soil = soil_on_grid(path, region, soil)
            result.reader = "tccas.catalog.soil_texture.read_soil_texture"
        else:
            result.parts = observation_parts(path, product, screenings[product_name], region,
                                             work_dir / "parts", sha256[:24])
            result.reader = str(result.parts[0].attrs.get("reader", ""))
    except Exception as err:  # a bad file must never stop the others
        result.status = "rejected"
        result.reason = _reason(err, path)
        result.parts = []
    return result


def _reason(err: Exception, path: Path) -> str:
    """The error message on one line, without the file name that the report adds."""
    text = " ".join(str(err).split())
    for prefix in (f"{path}: ", f"{path.name}: "):
        text = text.removeprefix(prefix)
    return text if isinstance(err, TccasInputError) else f"{type(err).__name__}: {text}"


# ------------------------------------------------------------------ configuration
def fallback_soil(config: ExperimentConfig) -> str:
    """The soil class of cells no soil map gives one: ``ingest.soil``, else the site's
    class, else ``loam``."""
    site = config.region.site_info
    return config.ingest.soil or (site.soil if site is not None else "loam")


def ingest_region(config: ExperimentConfig) -> Region:
    """The region description the readers and writers share."""
    period = config.period
    first = np.datetime64(period.start, "ns")
    stop = np.datetime64(period.end, "ns") + np.timedelta64(1, "D")
    return Region(grid=config.region.model_grid(), block_cells=config.region.block_cells,
                  first_ns=int(first.astype(np.int64)), stop_ns=int(stop.astype(np.int64)),
                  min_coverage=config.ingest.min_coverage,
                  keep_failed_qc=config.ingest.keep_failed_qc)


def stream_screenings(config: ExperimentConfig) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Screening thresholds per product and stream for the configured streams that have a
    reader, and notes on those that have none."""
    screenings: dict[str, dict[str, Any]] = {}
    notes = []
    for stream, settings in config.streams.items():
        product = PRODUCTS.get(settings.product)
        if product is None or product.kind != "observations":
            notes.append(f"stream {stream}: no reader for product '{settings.product}' yet")
            continue
        screenings.setdefault(product.name, {})[stream] = screening_for(
            product, stream, dict(settings.qc))
    return screenings, notes


def _settings(config: ExperimentConfig, region: Region, n_hours: int) -> dict[str, Any]:
    ingest = config.ingest
    return {
        "grid": grid_attributes(region.grid),
        "block_cells": region.block_cells,
        "period": {"first_hour": str(np.datetime64(config.period.start, "h")),
                   "n_hours": n_hours},
        "min_coverage": ingest.min_coverage,
        "keep_failed_qc": ingest.keep_failed_qc,
        "meteo_interpolation": ingest.meteo_interpolation,
        "era5_product": ingest.era5_product,
    }


def _check_compatible(old: Catalogue, settings: dict[str, Any],
                      thresholds: dict[str, dict[str, Any]]) -> None:
    stored = {**old.attrs.get("ingest", {}), "grid": old.attrs.get("grid"),
              "block_cells": old.attrs.get("block_cells"), "period": old.attrs.get("period")}
    for key in FIXED_SETTINGS:
        if stored.get(key) != settings[key]:
            raise TccasInputError(
                f"{old.path}: catalogue was built with {key} = {stored.get(key)!r}, the "
                f"configuration gives {settings[key]!r}; ingest into a new catalogue")
    for stream, values in thresholds.items():
        previous = old.qc_thresholds.get(stream)
        if previous is not None and previous != values:
            raise TccasInputError(
                f"{old.path}: stream {stream} was screened with {previous}, the "
                f"configuration gives {values}; ingest into a new catalogue")


def _discover(raw: Path) -> tuple[list[tuple[Path, Product]], list[Path]]:
    """Product files under ``raw`` (sorted) and the files of no known product."""
    found, ignored = [], []
    for path in sorted(raw.rglob("*")):
        relative = path.relative_to(raw)
        if any(part.startswith(".") for part in relative.parts):
            continue
        if TRUTH_STORE in relative.parts[:-1] or (path.is_dir() and path.name != TRUTH_STORE):
            continue
        if path.name == TRUTH_STORE and path.is_dir():
            found.append((path, Product("truth", "truth", (TRUTH_STORE,))))
            continue
        product = classify(path)
        if product is None:
            ignored.append(path)
        elif product.kind != "companion":
            found.append((path, product))
    return found, ignored


def _site_fractions(config: ExperimentConfig, region: Region) -> xr.DataArray:
    """PFT fractions of a site region: the site's table in every cell."""
    site = config.region.site_info
    assert site is not None
    pairs = sorted((pft_code(name), fraction) for name, fraction in site.pfts)
    codes = np.array([code for code, _ in pairs])
    values = np.array([fraction for _, fraction in pairs])
    shape = (codes.size, *region.grid.shape)
    return xr.DataArray(np.broadcast_to(values[:, None, None], shape).copy(),
                        dims=("pft", "y", "x"), coords={"pft": codes})


# ------------------------------------------------------------------------ ingest
def run_ingest(config: ExperimentConfig, raw_dir: str | Path, out: str | Path, *,
               strict: bool = False, show_progress: bool = True) -> IngestReport:
    """Ingest the product files under ``raw_dir`` into the catalogue ``out``.

    Parameters
    ----------
    config : the experiment configuration.
    raw_dir : folder searched (recursively) for product files.
    out : the catalogue (created, or merged into when it exists).
    strict : fail on the first rejected file instead of ingesting the others; nothing is
        written then.
    show_progress : draw progress bars on standard error.

    Returns
    -------
    IngestReport

    Raises
    ------
    TccasInputError
        Bad configuration, RAW_DIR missing, ``out`` not a catalogue or built with other
        settings, or (``strict``) a rejected file; naming the file, key or value.
    """
    raw, out = Path(raw_dir), Path(out)
    if not raw.is_dir():
        raise TccasInputError(f"{raw}: RAW_DIR is not a folder")
    old = open_catalogue(out) if out.exists() else None
    region = ingest_region(config)
    n_hours = int((region.stop_ns - region.first_ns) // 3_600_000_000_000)
    settings = _settings(config, region, n_hours)
    screenings, notes = stream_screenings(config)
    thresholds = {stream: _plain_thresholds(screening)
                  for by_stream in screenings.values() for stream, screening in by_stream.items()}
    if old is not None:
        _check_compatible(old, settings, thresholds)
    found, ignored = _discover(raw)
    used = [(path, product) for path, product in found
            if product.kind != "observations" or product.name in screenings]
    ignored += [path for path, product in found if (path, product) not in used]
    if old is None and not used and config.region.kind != "site":
        raise TccasInputError(f"{raw}: no product file found (recognised products: "
                              f"{', '.join(PRODUCTS)}, {TRUTH_STORE})")
    report = IngestReport(out=out, ignored=ignored, notes=notes)
    remove_abandoned_staging(out)
    staging = staging_path(out)
    work_dir = staging.with_name(staging.name + ".work")
    try:
        with ingest_client(config) as client:
            _read_new_files(client, used, old, config, region, screenings, work_dir,
                            show_progress, report)
            rejected = report.of_status("rejected")
            if strict and rejected:
                raise TccasInputError("--strict: " + "; ".join(
                    f"{f.path}: {f.reason}" for f in rejected))
            new = report.of_status("ingested") + rejected
            first_static = config.region.kind == "site" and (old is None or not old.has_tiles)
            if not new and not first_static:
                return report
            if old is not None:
                clone_store(out, staging)
            else:
                zarr.open_group(str(staging), mode="w", zarr_format=2)
            _write_static(config, region, staging, old, first_static, report)
            _write_meteo(client, config, region, staging, old, n_hours, settings, report,
                         show_progress)
        provenance = _provenance(old, report, raw)
        _write_observations(config, region, staging, old, provenance, work_dir, report,
                            show_progress)
        _finish(config, staging, old, settings, thresholds, provenance, report, raw)
        swap_into_place(staging, out)
        report.changed = True
        return report
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        shutil.rmtree(work_dir, ignore_errors=True)


def _plain_thresholds(screening: Any) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(screening).items()}


def _read_new_files(client: Any, used: list[tuple[Path, Product]], old: Catalogue | None,
                    config: ExperimentConfig, region: Region,
                    screenings: dict[str, dict[str, Any]], work_dir: Path, show: bool,
                    report: IngestReport) -> None:
    """Checksums, then reading of the new files; fills ``report.files``."""
    checksums = _map(client, file_checksum, [(path, product.name) for path, product in used],
                     "checksums", show)
    known = {entry["sha256"] for entry in (old.provenance if old is not None else [])}
    seen: set[str] = set()
    jobs, results = [], []
    new_era5 = False
    for (path, product), sha256 in zip(used, checksums, strict=True):
        result = FileResult(path, product.name, sha256)
        if sha256 in known:
            result.status = "known"
        elif sha256 in seen:
            result.status = "duplicate"
        seen.add(sha256)
        results.append(result)
        if product.kind == "meteorology" and result.status == "ingested":
            new_era5 = True
    for result in results:
        product = PRODUCTS.get(result.product)
        if product is None:
            if result.product == "truth" and result.status == "ingested":
                result.reader = "shutil.copytree"
            continue
        wanted = result.status == "ingested" or (new_era5 and result.status == "known"
                                                 and product.kind == "meteorology")
        if wanted:
            jobs.append((result.path, result.product, result.sha256))
    read = _map(client, _read_file, jobs, "reading", show, screenings=screenings,
                region=region, work_dir=work_dir, era5_product=config.ingest.era5_product,
                interpolation=config.ingest.meteo_interpolation, soil=fallback_soil(config))
    by_path = {r.path: r for r in read}
    for i, result in enumerate(results):
        done = by_path.get(result.path)
        if done is not None and result.status == "ingested":
            results[i] = done
        elif done is not None:
            result.era5 = done.era5
    report.files = results


def _write_static(config: ExperimentConfig, region: Region, staging: Path,
                  old: Catalogue | None, first_static: bool, report: IngestReport) -> None:
    """Static maps and tiles, rebuilt on the first ingest of a site region and whenever a
    new land-cover, soil texture or geopotential file comes. Each part comes from its new
    file, else from the previous catalogue's static maps, else:

    * cover: the site's PFT table for a site region; for a box region the new land-cover
      file whose year is closest to the period's start (a new one replaces the maps),
      refined by its LCCS class map when one lies beside it (without one the notes say
      that WetV and boreal tundra are not mapped); without any, the soil and elevation
      maps are written without tiles;
    * soil: the shallowest new soil texture map (majority class per cell), else
      :func:`fallback_soil` everywhere, which the attributes say;
    * elevation: NaN, which the attributes say.
    """
    ingested = report.of_status("ingested")
    covers = [f for f in ingested if f.landcover is not None]
    soils = sorted(((f.path, f.soil) for f in ingested if f.soil is not None),
                   key=lambda item: (soil_texture_depth_cm(item[0]) or 0, item[0].name))
    elevations = sorted(((f.path, f.elevation) for f in ingested if f.elevation is not None),
                        key=lambda item: item[0].name)
    site_region = config.region.kind == "site"
    if not (first_static or (covers and not site_region) or soils or elevations):
        if not site_region and (old is None or not old.has_tiles):
            report.notes.append("no land-cover file: static/ and tiles/ not written")
        return
    previous = _previous_static(old)
    fractions, non_vegetated, source = _cover(config, region, previous, first_static, covers,
                                              report)
    for kind, chosen in (("soil texture", soils), ("geopotential", elevations)):
        if len(chosen) > 1:
            report.notes.append(f"several {kind} files: {chosen[0][0].name} used, not "
                                f"{', '.join(path.name for path, _ in chosen[1:])}")
    if soils:
        soil = soils[0][1]
    elif previous is not None and "product" in previous["soil_class"].attrs:
        soil = previous["soil_class"].load()
    else:
        soil = uniform_soil_class(region.grid, fallback_soil(config))
    if elevations:
        elevation = elevations[0][1]
    elif previous is not None and "elevation" in previous and bool(
            previous["elevation"].notnull().any()):
        elevation = previous["elevation"].load()
    else:
        elevation = unknown_elevation(region.grid)
    report.n_tiles = write_static(staging, region.grid, region.block_cells, fractions,
                                  non_vegetated, soil, elevation,
                                  config.region.min_tile_fraction, met_lattice(region.grid))
    soil_text = str(soil.attrs["source"])
    if "aggregation" in soil.attrs:
        soil_text += f": {soil.attrs['aggregation']}"
    zarr.open_group(str(staging), mode="a", zarr_format=2)[STATIC].attrs.update(
        {"source": source, "soil": soil_text, "elevation": str(elevation.attrs["source"])})


def _previous_static(old: Catalogue | None) -> xr.Dataset | None:
    """The static maps of the previous catalogue (lazy), None when it has none."""
    if old is None or not (old.path / STATIC / ".zgroup").is_file():
        return None
    return xr.open_zarr(old.path, group=STATIC, consolidated=False)


def _cover(config: ExperimentConfig, region: Region, previous: xr.Dataset | None,
           first_static: bool, covers: list[FileResult], report: IngestReport
           ) -> tuple[xr.DataArray | None, xr.DataArray | None, str]:
    """PFT fractions, non-vegetated cover (None: 1 - their sum) and their source of the
    static maps being rebuilt (:func:`_write_static`)."""
    if config.region.kind == "site" and first_static:
        return (_site_fractions(config, region), None,
                f"PFT table of site {config.region.site} (tccas.catalog.sites)")
    if covers and config.region.kind != "site":
        start = config.period.start.year
        chosen = min(covers, key=lambda f: abs((f.landcover.attrs.get("year") or start)
                                               - start))
        classes = chosen.landcover.attrs.get("lccs_source", "")
        if not classes:
            report.notes.append(
                f"{chosen.path.name}: no LCCS class map of its year beside it: no wetland "
                "(WetV) cover, tundra (TunV) only in the polar zone")
        return (chosen.landcover["pft_fraction"], chosen.landcover["non_vegetated"],
                f"{chosen.path.name} with {classes}" if classes else chosen.path.name)
    if previous is not None and "pft_fraction" in previous:
        return (previous["pft_fraction"], previous["non_vegetated"],
                str(previous.attrs.get("source", "")))
    report.notes.append("no land-cover file: tiles/ not written (static/ holds the soil "
                        "and elevation maps)")
    return None, None, ""


def _write_meteo(client: Any, config: ExperimentConfig, region: Region, staging: Path,
                 old: Catalogue | None, n_hours: int, settings: dict[str, Any],
                 report: IngestReport, show: bool) -> None:
    """Meteorology for the time chunks that new ERA5 files touch, one task per chunk."""
    files = [f.era5 for f in report.files if f.era5 is not None]
    new = [f.era5 for f in report.of_status("ingested") if f.era5 is not None]
    if not new:
        if old is None or not old.has_meteo:
            report.notes.append("no ERA5 file: meteo/ not written")
        return
    first_hour = np.datetime64(config.period.start, "h")
    lattice = met_lattice(region.grid)
    create_meteo(staging, region.grid, region.block_cells, lattice, first_hour, n_hours,
                 {"interpolation": settings["meteo_interpolation"],
                  "era5_product": settings["era5_product"]})
    chunks: set[int] = set()
    for era5 in new:
        lo = int((era5.first - np.timedelta64(1, "h") - first_hour) / np.timedelta64(1, "h"))
        hi = int((era5.last - first_hour) / np.timedelta64(1, "h"))
        lo, hi = max(lo, 0), min(hi, n_hours)
        if lo < hi:
            chunks.update(range(lo // HOURS_PER_CHUNK, (hi - 1) // HOURS_PER_CHUNK + 1))
    filled = _map(client, fill_meteo_chunk, sorted(chunks), "meteorology", show,
                  root=staging, files=files, lattice=lattice, first_hour=first_hour,
                  n_hours=n_hours, product=settings["era5_product"],
                  method=settings["meteo_interpolation"])
    report.meteo_hours = int(sum(filled))


def _provenance(old: Catalogue | None, report: IngestReport, raw: Path
                ) -> list[dict[str, Any]]:
    """The previous provenance plus an entry per new file (ingested or rejected), named
    by its path relative to RAW_DIR."""
    entries = list(old.provenance) if old is not None else []
    for result in report.files:
        if result.status not in ("ingested", "rejected"):
            continue
        entries.append({
            "name": str(result.path.relative_to(raw)),
            "sha256": result.sha256, "product": result.product, "reader": result.reader,
            "streams": [p.stream for p in result.parts], "status": result.status,
            "reason": result.reason, "rows": {p.stream: p.n_rows for p in result.parts}})
    return entries


def _write_observations(config: ExperimentConfig, region: Region, staging: Path,
                        old: Catalogue | None, provenance: list[dict[str, Any]],
                        work_dir: Path, report: IngestReport, show: bool) -> None:
    """Merge the new parts of every stream into the staging store."""
    file_id = {entry["sha256"]: i for i, entry in enumerate(provenance)}
    by_stream: dict[str, list[tuple[PartSummary, int]]] = {}
    summaries: dict[str, list[PartSummary]] = {}
    for result in report.of_status("ingested"):
        for part in result.parts:
            summaries.setdefault(part.stream, []).append(part)
            if part.n_rows:
                by_stream.setdefault(part.stream, []).append((part, file_id[result.sha256]))
    old_root = zarr.open_group(str(old.path), mode="r", zarr_format=2) if old else None
    ingest = {k: v for k, v in _settings(config, region, 0).items()
              if k in ("min_coverage", "keep_failed_qc")}
    for stream, parts in sorted(by_stream.items()):
        old_group = old_root[f"{OBS}/{stream}"] if old and stream in old.streams else None
        attrs = stream_attributes(
            stream, summaries[stream], dict(old_group.attrs) if old_group is not None else None,
            STREAMS[stream].long_name if stream in STREAMS else stream, ingest)
        bar = Progress(f"merge {stream}", len(parts), show)
        total = merge_stream(staging, stream, parts, old_group, region, work_dir, attrs,
                             progress=bar.advance)
        report.rows[stream] = sum(p.n_rows for p, _ in parts)
        report.total_rows[stream] = total


def _finish(config: ExperimentConfig, staging: Path, old: Catalogue | None,
            settings: dict[str, Any], thresholds: dict[str, dict[str, Any]],
            provenance: list[dict[str, Any]], report: IngestReport, raw: Path) -> None:
    """Copy the truth, write the root attributes and consolidate."""
    for result in report.of_status("ingested"):
        if result.product == "truth":
            copy_truth(result.path, staging)
    root = zarr.open_group(str(staging), mode="r", zarr_format=2)
    streams = sorted(name for name in (root[OBS].group_keys() if OBS in root else ()))
    qc = dict(old.qc_thresholds) if old is not None else {}
    qc.update({stream: thresholds[stream] for stream in report.rows})
    write_root_attributes(staging, {
        "title": f"tccas catalogue of {config.name}",
        "tccas_version": version("tccas"),
        "catalogue_format": CATALOGUE_FORMAT,
        "config_yaml": resolved_yaml(config),
        "grid": settings["grid"],
        "block_cells": settings["block_cells"],
        "n_blocks": len(config.region.model_grid().blocks(
            (settings["block_cells"], settings["block_cells"]))),
        "period": settings["period"],
        "ingest": {k: settings[k] for k in FIXED_SETTINGS
                   if k not in ("grid", "block_cells", "period")},
        "streams": streams,
        "qc_thresholds": qc,
        "provenance": provenance,
        "raw_dir": str(raw),
    })
