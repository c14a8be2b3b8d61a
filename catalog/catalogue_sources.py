"""Source products of the catalogue: recognising raw files, and turning one observation
file into a sorted, weighted, region-clipped *part* ready to be merged into the store.

Products are recognised by file name (case-insensitive shell patterns, the names the
producers use, EO_FORMATS.md): :data:`PRODUCTS`. Observation products name the reader
that builds the canonical table (:mod:`tccas.catalog.observations`) and the screening
dataclass whose field names a stream's ``qc`` mapping in the configuration overrides.

A part (:func:`observation_part`) holds the rows of one stream of one file that the
catalogue keeps (see :mod:`tccas.catalog.catalogue` for the rules: in the period, passed
QC, coverage >= the minimum), sorted by time, with their footprint weights on the model
grid as CSR rows. It is an uncompressed ``.npz`` in the ingest's work folder, so that a
Dask worker hands back only a small :class:`PartSummary` and the client merges parts one
at a time (memory does not grow with the number of files).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import xarray as xr
from numpy.typing import NDArray
from scipy import sparse

from tccas.catalog.catalogue import TIME_UNITS, block_of_cells
from tccas.catalog.catalogue_meteo import NETCDF_LOCK, Interpolation, era5_field_on_grid
from tccas.catalog.cci_biomass import STREAM as BIOMASS_STREAM
from tccas.catalog.cci_biomass import BiomassScreening, read_cci_biomass, sd_tile_path
from tccas.catalog.cci_landcover import aggregate_pft_fractions, read_cci_landcover
from tccas.catalog.cci_lccs import find_lccs_companion
from tccas.catalog.era5 import STANDARD_GRAVITY, open_era5_geopotential
from tccas.catalog.fluxnet import TOWER_STREAMS, TowerFluxScreening, read_tower_fluxes
from tccas.catalog.grid import Grid, wrap_longitude
from tccas.catalog.gridded import BBox
from tccas.catalog.jrc_tip import STREAM as TIP_STREAM
from tccas.catalog.jrc_tip import TipScreening, read_jrc_tip
from tccas.catalog.observations import (
    CORNER_VARIABLES,
    ELLIPSE_VARIABLES,
    FOOTPRINT_CORNERS,
    OBS_DIM,
)
from tccas.catalog.smos import DEFAULT_SCREENING as SMOS_DEFAULT_SCREENING
from tccas.catalog.smos import read_smos_l2sm
from tccas.catalog.smos_ic import DEFAULT_SCREENING as SMOS_IC_DEFAULT_SCREENING
from tccas.catalog.smos_ic import read_smos_ic
from tccas.catalog.soil_texture import soil_class_on_grid
from tccas.catalog.troposif import TroposifScreening, read_troposif
from tccas.model.errors import TccasInputError
from tccas.model.parameters import pft_code
from tccas.operators.footprint import ellipse_weights, quad_weights

#: Footprints weighted at once: quadrilaterals, and ellipses (128-gons or rasters). Measured
#: on the Lapland 0.25 degree grid, these batch sizes are the fastest and keep the
#: temporary memory of the geometry at about 15 MB (1300 ellipses at once: 3x slower and
#: 300 MB).
QUADS_PER_BATCH = 5_000
ELLIPSES_PER_BATCH = 100
#: [km] length of one degree of latitude, for footprint bounding boxes (an upper bound).
KM_PER_DEGREE = 111.7

#: [degree] margin around the region's lon/lat box when a reader subsets a gridded file
#: (more than half the largest pixel read: an EASE-2 25 km cell at high latitude).
BBOX_MARGIN_DEG = 0.5

ProductKind = Literal["observations", "meteorology", "landcover", "elevation", "soil",
                      "companion"]
Reader = Callable[[Path, str, Any, BBox], xr.Dataset]


@dataclass(frozen=True)
class Product:
    """A kind of raw file the ingest recognises.

    Attributes
    ----------
    name : product name, as in a stream's ``product`` in the configuration.
    kind : what it feeds: observation tables, meteorology, static maps (``landcover``:
        PFT fractions and tiles; ``elevation``; ``soil``: the soil class map), or nothing
        by itself (``companion``: read together with another file, e.g. a biomass SD
        tile).
    patterns : case-insensitive shell patterns of its file names.
    streams : observation streams it can feed.
    read : ``read(path, stream, screening, bbox) -> canonical table`` (observation
        products); ``bbox`` = (west, south, east, north) [degree] to subset gridded files.
    default_screening : ``default_screening(stream) -> screening dataclass``.
    companions : ``companions(path) -> paths`` of the ``companion`` files present that the
        reader of ``path`` also reads; they count in the file's checksum
        (:func:`file_checksum`), so a companion added later makes the file new again.
    """

    name: str
    kind: ProductKind
    patterns: tuple[str, ...]
    streams: tuple[str, ...] = ()
    read: Reader | None = None
    default_screening: Callable[[str], Any] | None = None
    companions: Callable[[Path], tuple[Path, ...]] | None = None


def _lccs_companions(path: Path) -> tuple[Path, ...]:
    companion = find_lccs_companion(path)
    return () if companion is None else (companion,)


def _biomass_companions(path: Path) -> tuple[Path, ...]:
    """The AGB_SD tile of a GeoTIFF AGB tile (a netCDF map holds its own SD)."""
    if path.suffix.lower() not in (".tif", ".tiff"):
        return ()
    try:
        twin = sd_tile_path(path)
    except TccasInputError:          # the reader reports the name; no companion here
        return ()
    return (twin,) if twin.is_file() else ()


PRODUCTS: dict[str, Product] = {
    p.name: p
    for p in (
        Product("troposif", "observations",
                ("s5p_*l2b_sif*.nc", "s5p_*l2__sif*.nc", "troposif_*.nc"),
                streams=("sif743",),
                read=lambda path, stream, rules, _: read_troposif(path, stream, rules),
                default_screening=lambda stream: TroposifScreening()),
        Product("smos_l2", "observations", ("sm_*_mir_smudp2_*.nc",),
                streams=("sm_surface", "vod"),
                read=lambda path, stream, rules, _: read_smos_l2sm(path, stream, rules),
                default_screening=lambda stream: SMOS_DEFAULT_SCREENING[stream]),
        Product("smos_ic", "observations", ("sm_*_mir_cdf3s[ad]_*.nc",),
                streams=("sm_surface", "vod"),
                read=lambda path, stream, rules, bbox: read_smos_ic(path, stream, rules, bbox),
                default_screening=lambda stream: SMOS_IC_DEFAULT_SCREENING[stream]),
        Product("jrc_tip", "observations", ("jrc-tip*.nc", "*tip_fapar*.nc"),
                streams=(TIP_STREAM,),
                read=lambda path, _, rules, bbox: read_jrc_tip(path, None, rules, bbox),
                default_screening=lambda stream: TipScreening()),
        Product("fluxnet", "observations",
                ("flx_*_fluxnet2015_fullset_hh_*.csv", "flx_*_fluxnet2015_fullset_hr_*.csv",
                 "flx_*_fluxnet2015_subset_hh_*.csv", "flx_*_fluxnet2015_subset_hr_*.csv",
                 "??-???_*_flux.nc"),
                streams=TOWER_STREAMS,
                read=lambda path, stream, rules, _: read_tower_fluxes(path, stream, rules),
                default_screening=lambda stream: TowerFluxScreening()),
        Product("cci_biomass", "observations",
                ("*esacci-biomass-l4-agb-merged-*.nc", "*esacci-biomass-l4-agb-merged-*.tif",
                 "*esacci-biomass-l4-agb-merged-*.tiff"),
                streams=(BIOMASS_STREAM,),
                read=lambda path, _, rules, bbox: read_cci_biomass(
                    path, bbox=bbox, screening=rules),
                default_screening=lambda stream: BiomassScreening(),
                companions=_biomass_companions),
        Product("cci_biomass_sd", "companion", ("*esacci-biomass-l4-agb_sd-merged-*",)),
        Product("cci_landcover", "landcover", ("esacci-lc-l4-pft-map-*.nc",),
                companions=_lccs_companions),
        # before "era5", whose patterns match these names too
        Product("era5_geopotential", "elevation",
                ("*era5*geopotential*.nc", "*era5*geopotential*.zip", "*era5*orography*.nc",
                 "geo_1279l4_0.1x0.1*.nc")),
        Product("soil_texture", "soil", ("*texture.class_usda*.tif",
                                         "*texture.class_usda*.tiff")),
        Product("era5", "meteorology",
                ("*era5*.nc", "*era5*.zip", "data_stream-*.nc", "reanalysis-era5*")),
        Product("cci_lccs", "companion",
                ("esacci-lc-l4-lccs-map-*.nc", "c3s-lc-l4-lccs-map-*.nc")),
    )
}


def classify(path: Path) -> Product | None:
    """The product whose file-name patterns match ``path``, or None."""
    name = path.name.lower()
    for product in PRODUCTS.values():
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in product.patterns):
            return product
    return None


def screening_for(product: Product, stream: str, qc: dict[str, Any]) -> Any:
    """The screening dataclass of ``stream`` read by ``product``, ``qc`` overriding defaults.

    Raises
    ------
    TccasInputError
        A key of ``qc`` is not a field of the product's screening, or its value has the
        wrong type; the message names the stream, the key and the known fields.
    """
    if product.default_screening is None or stream not in product.streams:
        raise TccasInputError(f"stream '{stream}': product '{product.name}' does not feed "
                              f"it (it feeds {', '.join(product.streams) or 'no stream'})")
    default = product.default_screening(stream)
    fields = {f.name: f for f in dataclasses.fields(default)}
    for key, value in qc.items():
        if key not in fields:
            raise TccasInputError(
                f"streams.{stream}.qc: unknown threshold '{key}' for product "
                f"'{product.name}'; known: {', '.join(fields)}")
        current = getattr(default, key)
        numeric = isinstance(current, int | float) and not isinstance(current, bool)
        if numeric and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise TccasInputError(f"streams.{stream}.qc.{key}: expected a number, got "
                                  f"{value!r}")
    return dataclasses.replace(default, **qc)


def file_checksum(job: tuple[Path, str]) -> str:
    """The identity of a raw file ``(path, product name)`` in the catalogue's provenance:
    :func:`sha256_of` the file, or, when the product reads companions with it (an LCCS
    class map beside a CCI LC PFT file, the AGB_SD tile of an AGB tile), the SHA-256 of the
    file's and then each companion's name and contents."""
    path, product_name = job
    product = PRODUCTS.get(product_name)      # the truth store is no product file
    companions = None if product is None else product.companions
    present = () if companions is None else companions(path)
    if not present:
        return sha256_of(path)
    digest = hashlib.sha256()
    for file in (path, *present):
        digest.update(file.name.encode())
        _update(digest, file)
    return digest.hexdigest()


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, or of a folder (a Zarr store): its files' relative paths and
    contents in sorted order."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode())
        _update(digest, file)
    return digest.hexdigest()


def _update(digest: Any, file: Path, block_size: int = 1 << 22) -> None:
    with file.open("rb") as handle:
        while chunk := handle.read(block_size):
            digest.update(chunk)


@dataclass(frozen=True)
class Region:
    """What a part needs to know about the catalogue's region.

    Attributes
    ----------
    grid : the model grid.
    block_cells : side of a square block.
    first_ns, stop_ns : [ns since 1970] the period [first, stop) of kept rows.
    min_coverage : [1] smallest fraction of a footprint inside the grid that is kept.
    keep_failed_qc : keep rows that failed screening (with their qc bits).
    """

    grid: Grid
    block_cells: int
    first_ns: int
    stop_ns: int
    min_coverage: float
    keep_failed_qc: bool

    @property
    def n_blocks(self) -> int:
        """Number of blocks."""
        return (math.ceil(self.grid.ny / self.block_cells)
                * math.ceil(self.grid.nx / self.block_cells))

    def bbox(self) -> BBox:
        """(west, south, east, north) [degree] around the grid, with
        :data:`BBOX_MARGIN_DEG`, for readers that subset gridded files."""
        centre, west, east, south, north = self.lonlat_box()
        margin = BBOX_MARGIN_DEG
        return (centre + west - margin, max(south - margin, -90.0), centre + east + margin,
                min(north + margin, 90.0))

    def lonlat_box(self) -> tuple[float, float, float, float, float]:
        """(centre longitude, west, east, south, north) [degree] bounding the grid, the
        longitudes relative to the centre one (dateline-safe)."""
        grid = self.grid
        if grid.is_geographic:
            west, south, east, north = grid.bounds
            centre = 0.5 * (west + east)
            return centre, west - centre, east - centre, south, north
        edge = np.linspace(0.0, 1.0, 101)
        x0, y0, x1, y1 = grid.bounds
        x = np.concatenate([x0 + (x1 - x0) * edge, np.full(101, x1), x0 + (x1 - x0) * edge,
                            np.full(101, x0)])
        y = np.concatenate([np.full(101, y0), y0 + (y1 - y0) * edge, np.full(101, y1),
                            y0 + (y1 - y0) * edge])
        lon, lat = grid.xy_to_lonlat(x, y)
        centre = float(lon[0])
        relative = wrap_longitude(lon - centre)
        return centre, float(relative.min()), float(relative.max()), float(lat.min()), \
            float(lat.max())


@dataclass(frozen=True)
class PartSummary:
    """What a worker returns for one stream of one observation file.

    Attributes
    ----------
    stream : the stream.
    path : the part file (None when no row was kept).
    n_read : rows of the reader's table.
    n_rows : rows kept.
    n_entries : nonzero weights of the kept rows.
    first_ns, last_ns : [ns since 1970] time of the first and last kept row.
    attrs : the table's attributes (units, footprint_model, reader, qc_thresholds, ...).
    columns : name -> (dims, attrs) of the stored per-row variables.
    """

    stream: str
    path: Path | None
    n_read: int
    n_rows: int
    n_entries: int
    first_ns: int
    last_ns: int
    attrs: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = field(default_factory=dict)


def observation_parts(path: Path, product: Product, screenings: dict[str, Any],
                      region: Region, part_dir: Path, key: str) -> list[PartSummary]:
    """Read every wanted stream of one file, keep the rows the catalogue stores, weight them.

    Streams of one file often share footprints (SMOS soil moisture and VOD come from the
    same grid points): the weights of each distinct footprint are computed once.

    Parameters
    ----------
    path : the raw file.
    product : its product (an observation product).
    screenings : stream -> the reader's screening thresholds (:func:`screening_for`).
    region : the catalogue's region.
    part_dir : folder of the parts; stream ``s`` goes to ``part_dir / s / f"{key}.npz"``,
        nothing is written for a stream without rows.
    key : file name stem of the parts (unique per raw file, e.g. its checksum).

    Returns
    -------
    list of PartSummary, one per stream, in the order of ``screenings``.

    Raises
    ------
    TccasInputError
        From the reader (unreadable or wrongly structured file) or the footprint
        geometry, naming the file.
    """
    if product.read is None:
        raise TccasInputError(f"{path}: product '{product.name}' has no observation reader")
    tables, n_read = {}, {}
    for stream, screening in screenings.items():
        with NETCDF_LOCK:
            table = product.read(path, stream, screening, region.bbox())
        n_read[stream] = table.sizes[OBS_DIM]
        time_ns = _stored(table, "time")
        keep = (time_ns >= region.first_ns) & (time_ns < region.stop_ns)
        if not region.keep_failed_qc:
            keep &= table["qc"].values == 0
        keep &= _may_touch(table, region)
        tables[stream] = table.isel({OBS_DIM: np.flatnonzero(keep)})
    shapes = [_footprint_keys(table) for table in tables.values()]
    unique, inverse = np.unique(np.concatenate(shapes), axis=0, return_inverse=True)
    model = next(iter(tables.values())).attrs["footprint_model"] if tables else ""
    matrix, coverage = _weights(model, unique, region, path)
    summaries, offset = [], 0
    for (stream, table), shape in zip(tables.items(), shapes, strict=True):
        rows = inverse.ravel()[offset:offset + len(shape)]
        offset += len(shape)
        summaries.append(_write_part(stream, table, n_read[stream], matrix[rows],
                                     coverage[rows], region, part_dir / stream / f"{key}.npz"))
    return summaries


def _write_part(stream: str, table: xr.Dataset, n_read: int, matrix: sparse.csr_matrix,
                coverage: NDArray[np.float64], region: Region, part_path: Path) -> PartSummary:
    """Keep the rows covering enough of the region, sort them by time, write the part."""
    kept = np.flatnonzero((coverage >= region.min_coverage) & (coverage > 0.0))
    order = kept[np.argsort(_stored(table, "time")[kept], kind="stable")]
    table = table.isel({OBS_DIM: order})
    matrix = sparse.csr_matrix(matrix[order])
    attrs = {key: _plain(value) for key, value in table.attrs.items()}
    columns = _columns(table)
    if order.size == 0:
        return PartSummary(stream, None, n_read, 0, 0, 0, 0, attrs, columns)
    arrays = {name: _stored(table, name) for name in columns if name != "coverage"}
    arrays["coverage"] = coverage[order]
    blocks = block_of_cells(region.grid, region.block_cells, matrix.indices)
    part_path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(part_path, **{f"col_{k}": v for k, v in arrays.items()},
             w_indptr=matrix.indptr.astype(np.int64), w_cell=matrix.indices.astype(np.int64),
             w_weight=matrix.data.astype(np.float64),
             block_counts=np.bincount(blocks, minlength=region.n_blocks).astype(np.int64))
    times = arrays["time"]
    return PartSummary(stream, part_path, n_read, int(order.size), int(matrix.nnz),
                       int(times[0]), int(times[-1]), attrs, columns)


def landcover_on_grid(path: Path, region: Region) -> xr.Dataset:
    """PFT cover fractions of a CCI Land Cover PFT file on the region's grid.

    The companion LCCS class map of the same year next to the file
    (:func:`tccas.catalog.cci_lccs.find_lccs_companion`), when there is one, refines the
    mapping with wetland and tundra (:data:`tccas.catalog.cci_landcover.LCCS_REFINEMENTS`).

    Returns
    -------
    xarray.Dataset
        ``pft_fraction`` (pft, y, x) with ``pft`` the BETHY codes (ascending) and
        ``non_vegetated`` (y, x) [1], area-weighted means of the 300 m cells
        (:func:`tccas.catalog.cci_landcover.aggregate_pft_fractions`), NaN where no valid
        land-cover cell falls; attributes ``year`` of the map (None when the file has none)
        and ``lccs_source``, the class map's file name (``""`` without one).
    """
    classes = find_lccs_companion(path)
    with NETCDF_LOCK:
        fractions = read_cci_landcover(path, bbox=region.bbox(), lccs_path=classes)
    on_grid = aggregate_pft_fractions(fractions, region.grid)
    codes = [pft_code(str(name)) for name in on_grid["pft"].values]
    on_grid = on_grid.assign_coords(pft=codes).sortby("pft")
    on_grid.attrs["year"] = fractions.attrs.get("year")
    on_grid.attrs["lccs_source"] = fractions.attrs["lccs_source"]
    return on_grid[["pft_fraction", "non_vegetated"]]


def elevation_on_grid(path: Path, region: Region, method: Interpolation) -> xr.DataArray:
    """Surface elevation of every model cell from an ERA5 geopotential file.

    The invariant geopotential divided by g0 (:func:`tccas.catalog.era5.
    open_era5_geopotential`), interpolated to the cell centres as the meteorology is
    (:func:`tccas.catalog.catalogue_meteo.era5_field_on_grid`, ``method`` =
    ``ingest.meteo_interpolation``).

    Returns
    -------
    xarray.DataArray
        (y, x) [m] above the geoid, north row first; attributes ``source`` (what and how).
    """
    with NETCDF_LOCK:
        field = open_era5_geopotential(path)
    values = era5_field_on_grid(field, region.grid, region.block_cells, method, str(path))
    return xr.DataArray(values, dims=("y", "x"), attrs={
        "source": f"{path.name}: ERA5 surface geopotential z / {STANDARD_GRAVITY} m s-2, "
                  f"{method} interpolation to the cell centres"})


def soil_on_grid(path: Path, region: Region, fallback: str) -> xr.DataArray:
    """Soil class of every model cell from a soil texture GeoTIFF: the majority class
    (:func:`tccas.catalog.soil_texture.soil_class_on_grid`), ``fallback`` where the
    product has no data."""
    return soil_class_on_grid(path, region.grid, fallback, region.bbox())


def load_part(path: Path) -> tuple[dict[str, NDArray[Any]], sparse.csr_matrix,
                                   NDArray[np.int64]]:
    """The columns, CSR weights (rows x grid cells, column count unknown: the largest cell
    id + 1) and per-block entry counts of a part written by :func:`observation_part`."""
    with np.load(path) as part:
        columns = {k.removeprefix("col_"): part[k] for k in part.files if k.startswith("col_")}
        indptr, cells, weights = part["w_indptr"], part["w_cell"], part["w_weight"]
        counts = part["block_counts"]
    n_cells = int(cells.max()) + 1 if cells.size else 0
    matrix = sparse.csr_matrix((weights, cells, indptr), shape=(indptr.size - 1, n_cells))
    return columns, matrix, counts


def part_block_counts(path: Path) -> NDArray[np.int64]:
    """Per-block weight entry counts of a part (reads that array only)."""
    with np.load(path) as part:
        return part["block_counts"]


def _columns(table: xr.Dataset) -> dict[str, tuple[tuple[str, ...], dict[str, Any]]]:
    """Stored per-row variables: the schema's, the footprint's and numeric reader extras."""
    columns = {}
    for name, variable in table.data_vars.items():
        if variable.dims[:1] != (OBS_DIM,) or name == "source":
            continue
        if name != "time" and variable.dtype.kind not in "iuf":
            continue
        attrs = {k: _plain(v) for k, v in variable.attrs.items()}
        if name == "time":
            attrs = {"units": TIME_UNITS, "calendar": "proleptic_gregorian",
                     "long_name": "acquisition time (UTC)"}
        columns[str(name)] = (tuple(map(str, variable.dims)), attrs)
    columns["coverage"] = ((OBS_DIM,), {
        "units": "1", "long_name": "fraction of the footprint response inside the region "
        "(row sum of the weights)"})
    return columns


def _stored(table: xr.Dataset, name: str) -> NDArray[Any]:
    values = table[name].values
    if name == "time":
        return values.astype("datetime64[ns]").astype(np.int64)
    return values


def _may_touch(table: xr.Dataset, region: Region) -> NDArray[np.bool_]:
    """Rows whose footprint bounding box meets the region's lon/lat box (a cheap filter
    before the exact weights; false positives are removed by the weights)."""
    centre, west, east, south, north = region.lonlat_box()
    lat = table["latitude"].values
    lon = wrap_longitude(table["longitude"].values - centre)
    if table.attrs["footprint_model"] == FOOTPRINT_CORNERS:
        offset = table[CORNER_VARIABLES[1]].values - table["longitude"].values[:, None]
        corner_lon = lon[:, None] + offset
        corner_lat = table[CORNER_VARIABLES[0]].values
        lon_lo, lon_hi = corner_lon.min(axis=1), corner_lon.max(axis=1)
        lat_lo, lat_hi = corner_lat.min(axis=1), corner_lat.max(axis=1)
    else:
        radius = 1.05 * table[ELLIPSE_VARIABLES[0]].values / KM_PER_DEGREE
        lat_lo, lat_hi = lat - radius, lat + radius
        widest = np.cos(np.radians(np.minimum(np.abs(lat) + radius, 89.9)))
        lon_lo, lon_hi = lon - radius / widest, lon + radius / widest
    return (lon_hi >= west) & (lon_lo <= east) & (lat_hi >= south) & (lat_lo <= north)


def _footprint_keys(table: xr.Dataset) -> NDArray[np.float64]:
    """(n, k) the numbers that define each row's footprint: the corners, or the centre,
    semi-axes and orientation of an ellipse (the layout :func:`_weights` takes)."""
    if table.attrs["footprint_model"] == FOOTPRINT_CORNERS:
        return np.concatenate([table[CORNER_VARIABLES[1]].values,
                               table[CORNER_VARIABLES[0]].values], axis=1).reshape(-1, 8)
    return np.column_stack([table["longitude"].values, table["latitude"].values,
                            *(table[name].values for name in ELLIPSE_VARIABLES)])


def _weights(model: str, keys: NDArray[np.float64], region: Region, path: Path
             ) -> tuple[sparse.csr_matrix, NDArray[np.float64]]:
    """Footprint weights (rows x grid cells) and coverage of footprints given by
    :func:`_footprint_keys`, in batches."""
    grid = region.grid
    pieces = []
    batch = QUADS_PER_BATCH if model == FOOTPRINT_CORNERS else ELLIPSES_PER_BATCH
    for start in range(0, len(keys), batch):
        rows = keys[start:start + batch]
        try:
            if model == FOOTPRINT_CORNERS:
                weights = quad_weights(grid, rows[:, :4], rows[:, 4:])
            else:
                weights = ellipse_weights(grid, rows[:, 0], rows[:, 1], rows[:, 2],
                                          rows[:, 3], rows[:, 4], model="uniform")
        except TccasInputError as err:
            raise TccasInputError(f"{path}: footprint weights: {err}") from err
        pieces.append(weights.weights)
    if not pieces:
        return sparse.csr_matrix((0, grid.n_cells)), np.zeros(0)
    matrix = sparse.csr_matrix(sparse.vstack(pieces, format="csr"))
    return matrix, np.asarray(matrix.sum(axis=1)).ravel()


def _plain(value: Any) -> Any:
    """A JSON-serialisable copy of an attribute value (numpy scalars and arrays)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
