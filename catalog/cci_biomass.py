"""ESA CCI Biomass above-ground biomass (AGB) maps: reader and format writers.

AGB is the oven-dry mass of the live woody parts of trees (stem, bark, branches, twigs;
no stump, no roots) per area, in Mg ha-1, with a per-pixel standard deviation in the same
units (ESA CCI Biomass Product User Guide; Santoro et al. 2021; EO_FORMATS.md 6.3, H).
Two distributions are read (EO_FORMATS.md 6.3, gotcha 9):

* **netCDF**, one global file per epoch ``ESACCI-BIOMASS-L4-AGB-MERGED-100m-<YYYY>-fv<X>.nc``,
  dimensions ``(time, lat, lon)`` on a 1/1125 degree grid (80 N to 60 S), variables
  ``agb`` and its uncertainty ``agb_se`` (v2, CCI ODP metadata: int16, ``_FillValue``
  -32768, valid 0-10000, ``ancillary_variables = "agb_se"``, H) or ``agb_sd`` (accepted
  too), a ``crs`` grid mapping;
* **GeoTIFF** 10 x 10 degree tiles ``<TILE>_ESACCI-BIOMASS-L4-AGB-MERGED-100m-<YYYY>-fv<X>.tif``
  with the standard deviation in the twin ``<TILE>_ESACCI-BIOMASS-L4-AGB_SD-MERGED-100m-...``
  file; ``<TILE>`` names the upper-left corner, e.g. ``N40W010`` for Majadas (H for the
  pattern). GeoTIFFs are read with rioxarray (georeferencing from the file's transform and
  CRS, which must be geographic); their dtype and nodata value are taken from the file.

The writers produce these layouts. Not documented in the sources we found, hence PROPOSED
(L): the netCDF ``time`` value (1 January of the epoch, days since 1970-01-01) and the
GeoTIFF encoding (uint16, nodata 65535, deflate; the GlobBiomass tiles of the same team
use uint16 with 65535 as no data, M).

Reader conventions:

* Stream ``"agb"`` in Mg ha-1, the units of the model's AGB operator
  (:func:`tccas.operators.insitu.above_ground_biomass` returns Mg dry matter ha-1), so no
  conversion is needed for the product's own units; other units found in the file are
  converted with :data:`AGB_UNIT_FACTORS` (1 kg m-2 = 10 Mg ha-1), unknown ones rejected.
* Rows are pixels with an AGB value and a standard deviation (no data dropped).
* Sigma = ``max(SD, sigma_floor)``: the product gives SD = 0 where AGB = 0 (no trees), which
  means "below the product's quantisation", not "exact"; the PROPOSED floor
  :data:`SIGMA_FLOOR` = 1 Mg ha-1 is the quantum of the integer-coded product. The
  product's own SD is kept per row as ``agb_sd_product``.
* Time = 1 July 00:00 UTC of the epoch year (PROPOSED: a map describes its year, and the
  middle of it is the fairest single time to compare a model state with).
* Footprint: the pixel (``footprint_model = "corners"``), 1/1125 degree (about 99 m N-S).

References
----------
Santoro, M. et al. (2021): The global forest above-ground biomass pool for 2010 estimated
from high-resolution satellite observations. Earth Syst. Sci. Data 13, 3927-3950,
doi:10.5194/essd-13-3927-2021.
Santoro, M. and Cartus, O. (2024): ESA Biomass Climate Change Initiative (Biomass_cci):
Global datasets of forest above-ground biomass for the years 2010, 2015, 2016, 2017, 2018,
2019, 2020 and 2021, v5.01. NERC EDS Centre for Environmental Data Analysis,
doi:10.5285/bf535053562141c6bb7ad831f5998d77.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import netCDF4
import numpy as np
import rasterio
import xarray as xr
from rasterio.transform import Affine

from tccas.catalog.gridded import (
    BBox,
    axis_window,
    check_bbox,
    decode_floats,
    iso_time,
    latlon_cell_corners,
    open_geotiff,
    qc_bit_field,
    regular_spacing,
    row_blocks,
    write_annual_latlon_frame,
)
from tccas.catalog.observations import FOOTPRINT_CORNERS, build_observations, open_product
from tccas.model.errors import TccasInputError

PRODUCT = "ESA CCI Biomass AGB"
STREAM = "agb"
AGB_UNITS = "Mg ha-1"
AGB_UNIT_FACTORS: dict[str, float] = {
    "Mg ha-1": 1.0, "Mg/ha": 1.0, "Mg ha^-1": 1.0, "Mg.ha-1": 1.0, "t ha-1": 1.0,
    "t/ha": 1.0, "kg m-2": 10.0, "kg/m2": 10.0,
}
"""Factor from a file's AGB units to Mg ha-1 (1 kg m-2 = 10 000 kg ha-1 = 10 Mg ha-1)."""
RESOLUTION_DEG = 1.0 / 1125.0
TILE_DEG = 10
SIGMA_FLOOR = 1.0
"""[Mg ha-1] smallest sigma given to a row (PROPOSED, see the module docstring)."""
NETCDF_FILL = -32768
NETCDF_VALID_RANGE = (0, 10000)
GEOTIFF_NODATA = 65535
SIGMA_VARIABLES = ("agb_se", "agb_sd")
FILE_NAME = re.compile(
    r"^(?:(?P<tile>[NS]\d{2}[EW]\d{3})_)?ESACCI-BIOMASS-L4-(?P<kind>AGB|AGB_SD)-MERGED-"
    r"100m-(?P<year>\d{4})-(?P<version>fv[\w.]+?)\.(?P<ext>nc|tif|tiff)$"
)


@dataclass(frozen=True)
class BiomassScreening:
    """Quality-screening thresholds for CCI Biomass AGB.

    Attributes
    ----------
    value_min, value_max : AGB must lie in ``[value_min, value_max]`` [Mg ha-1]; 0 and
        1500 (PROPOSED: above the densest forests measured, so only corrupt values fail).
    max_relative_sigma : if set, ``SD / AGB`` must be ``<= max_relative_sigma`` (sparse
        savanna such as the Majadas dehesa has SD above 50 % of AGB, EO_FORMATS.md 6.3);
        None (off) by default.
    """

    value_min: float = 0.0
    value_max: float = 1500.0
    max_relative_sigma: float | None = None


QC_MEANINGS = ("VALUE_RANGE", "RELATIVE_SIGMA")


@dataclass(frozen=True)
class _Raster:
    """An opened AGB product: geometry, epochs and a reader of (AGB, SD) windows."""

    source: str
    lat: np.ndarray
    lon: np.ndarray
    half_dlat: float
    half_dlon: float
    years: tuple[int, ...]
    read: Callable[[int, slice, slice], tuple[np.ndarray, np.ndarray]]


# ------------------------------------------------------------------------------ reader
def read_cci_biomass(
    path: str | Path,
    *,
    sd_path: str | Path | None = None,
    bbox: BBox | None = None,
    screening: BiomassScreening | None = None,
    sigma_floor: float = SIGMA_FLOOR,
) -> xr.Dataset:
    """Read a CCI Biomass AGB map (netCDF, or a GeoTIFF tile pair) into an observation table.

    Parameters
    ----------
    path : the netCDF file, or the AGB GeoTIFF tile.
    sd_path : GeoTIFF only: the ``AGB_SD`` tile; default the twin file named by the
        product pattern next to ``path``.
    bbox : (west, south, east, north) [degree]: read only pixels whose centre lies inside
        (a real tile has 11250 x 11250 pixels).
    screening : quality thresholds; default :class:`BiomassScreening` ().
    sigma_floor : [Mg ha-1] smallest sigma (see the module docstring).

    Returns
    -------
    xarray.Dataset
        The canonical table (:mod:`tccas.catalog.observations`), stream ``"agb"``, units
        ``"Mg ha-1"``, ``footprint_model = "corners"``, with extra variable
        ``agb_sd_product`` [Mg ha-1]. Attributes add ``product`` and ``epoch_year``.

    Raises
    ------
    TccasInputError
        If a file cannot be read, lacks the AGB or SD variable or twin tile, the two
        rasters differ in shape, georeferencing is not a north-up geographic grid, units
        are unknown, the epoch year cannot be found, or (read without ``bbox``) every
        pixel is no data; the message names the file and the variable.
    """
    rules = BiomassScreening() if screening is None else screening
    path = Path(path)
    window = check_bbox(bbox, str(path))
    with _open_raster(path, sd_path) as raster:
        lat_index, lon_index = ((slice(None), slice(None)) if window is None else
                                (axis_window(raster.lat, window[1], window[3]),
                                 axis_window(raster.lon, window[0], window[2])))
        pieces = [(t, *raster.read(t, lat_index, lon_index)) for t in range(len(raster.years))]
    lat = raster.lat[lat_index]
    lon = raster.lon[lon_index]
    times, values, sds, lats, lons = [], [], [], [], []
    for t, agb, sd in pieces:
        rows = np.flatnonzero(np.isfinite(agb) & np.isfinite(sd))
        i_lat, i_lon = np.unravel_index(rows, agb.shape)
        times.append(np.full(rows.size, _epoch_time(raster.years[t])))
        values.append(agb.ravel()[rows])
        sds.append(sd.ravel()[rows])
        lats.append(lat[i_lat])
        lons.append(lon[i_lon])
    value, sd = np.concatenate(values), np.concatenate(sds)
    if window is None and value.size == 0:
        raise TccasInputError(f"{raster.source}: variable 'agb' holds no data in any pixel")
    lat, lon = np.concatenate(lats), np.concatenate(lons)
    corner_lat, corner_lon = latlon_cell_corners(lat, lon, raster.half_dlat, raster.half_dlon)
    return build_observations(
        stream=STREAM,
        units=AGB_UNITS,
        source=path.name,
        time=np.concatenate(times),
        value=value,
        sigma=np.maximum(sd, sigma_floor),
        qc=_qc(rules, value, sd),
        qc_meanings=QC_MEANINGS,
        latitude=lat,
        longitude=lon,
        footprint_model=FOOTPRINT_CORNERS,
        footprint={"corner_latitude": corner_lat, "corner_longitude": corner_lon},
        reader=f"{__name__}.read_cci_biomass",
        qc_thresholds={**asdict(rules), "sigma_floor": sigma_floor},
        extra={"agb_sd_product": (sd, AGB_UNITS)},
        attrs={"product": PRODUCT,
               "epoch_year": ",".join(str(year) for year in raster.years)},
    )


def inspect_cci_biomass(path: str | Path, *, sd_path: str | Path | None = None) -> dict:
    """Summarise a CCI Biomass AGB map, scanning it block by block.

    Parameters
    ----------
    path : the netCDF file or the AGB GeoTIFF tile.
    sd_path : GeoTIFF only: the ``AGB_SD`` tile (default: the twin next to ``path``).

    Returns
    -------
    dict
        ``file``, ``product``, ``format`` (``"netCDF"`` or ``"GeoTIFF"``), ``epoch_years``,
        ``grid_shape`` ((n_lat, n_lon)), ``n_records`` (pixels x epochs),
        ``time_start``/``time_end`` (the epochs' observation times, 1 July) and
        ``streams``: ``{"agb": {"n_valid": pixels with AGB and SD, "n_after_qc": ...}}``
        under the default screening.

    Raises
    ------
    TccasInputError
        As :func:`read_cci_biomass`.
    """
    path = Path(path)
    rules = BiomassScreening()
    n_valid = n_after_qc = 0
    with _open_raster(path, sd_path) as raster:
        for t in range(len(raster.years)):
            for rows in row_blocks(raster.lat.size, raster.lon.size):
                agb, sd = raster.read(t, rows, slice(None))
                valid = np.isfinite(agb) & np.isfinite(sd)
                n_valid += int(valid.sum())
                n_after_qc += int((_qc(rules, agb[valid], sd[valid]) == 0).sum())
    times = [_epoch_time(year) for year in raster.years]
    return {
        "file": path.name,
        "product": PRODUCT,
        "format": "netCDF" if _is_netcdf(path) else "GeoTIFF",
        "epoch_years": list(raster.years),
        "grid_shape": (int(raster.lat.size), int(raster.lon.size)),
        "n_records": int(raster.lat.size * raster.lon.size * len(raster.years)),
        "time_start": iso_time(min(times)),
        "time_end": iso_time(max(times)),
        "streams": {STREAM: {"n_valid": n_valid, "n_after_qc": n_after_qc}},
    }


# ----------------------------------------------------------------------------- writers
def cci_biomass_tile(lat: float, lon: float) -> str:
    """Name of the 10 x 10 degree tile holding a point: its upper-left corner.

    E.g. Majadas (39.94 N, 5.77 W) -> ``"N40W010"``, Sodankyla (67.36 N, 26.64 E) ->
    ``"N70E020"``, Reusel (51.4 N, 5.2 E) -> ``"N60E000"`` (EO_FORMATS.md 6.3).
    """
    top = int(np.floor(lat / TILE_DEG) + 1) * TILE_DEG
    left = int(np.floor(lon / TILE_DEG)) * TILE_DEG
    return f"{'N' if top >= 0 else 'S'}{abs(top):02d}{'E' if left >= 0 else 'W'}{abs(left):03d}"


def cci_biomass_file_name(year: int, *, kind: str = "AGB", tile: str | None = None,
                          version: str = "fv4.0") -> str:
    """A product file name: netCDF without ``tile``, a GeoTIFF tile with it.

    Parameters
    ----------
    year : the epoch.
    kind : ``"AGB"`` or ``"AGB_SD"`` (GeoTIFF only).
    tile : upper-left tile name (:func:`cci_biomass_tile`), or None for the netCDF.
    version : product version tag, e.g. ``"fv4.0"``.
    """
    stem = f"ESACCI-BIOMASS-L4-{kind}-MERGED-100m-{year:04d}-{version}"
    return f"{stem}.nc" if tile is None else f"{tile}_{stem}.tif"


def write_cci_biomass_netcdf(
    path: str | Path,
    agb: np.ndarray,
    agb_sd: np.ndarray,
    lat: np.ndarray,
    lon: np.ndarray,
    year: int,
    *,
    sd_variable: str = "agb_se",
) -> Path:
    """Write a CCI Biomass netCDF map (v2 layout: int16 ``agb`` and ``agb_se``).

    Parameters
    ----------
    path : the file to create (overwritten); see :func:`cci_biomass_file_name`.
    agb, agb_sd : (lat, lon) AGB and its standard deviation [Mg ha-1], rounded to integers
        on writing; NaN is written as the fill -32768.
    lat, lon : (n_lat,), (n_lon,) pixel centres [degree], regular (1/1125 degree in the
        real product; north to south as written).
    year : the epoch (``time`` = 1 January of it).
    sd_variable : ``"agb_se"`` (v2) or ``"agb_sd"``.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    TccasInputError
        If shapes disagree, a coordinate is irregular, a value lies outside 0-10000 or
        ``sd_variable`` is not one of :data:`SIGMA_VARIABLES`.
    """
    path = Path(path)
    source = f"CCI Biomass writer ({path})"
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    if sd_variable not in SIGMA_VARIABLES:
        raise TccasInputError(f"{source}: sd_variable {sd_variable!r} must be one of "
                              f"{', '.join(SIGMA_VARIABLES)}")
    fields = _checked_fields(source, agb, agb_sd, (lat.size, lon.size), NETCDF_VALID_RANGE[1])
    regular_spacing(lat, "lat", source, RESOLUTION_DEG)
    regular_spacing(lon, "lon", source, RESOLUTION_DEG)
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        nc.setncatts({"title": "ESA CCI above-ground biomass (TCCAS format writer)",
                      "Conventions": "CF-1.7", "product_version": "TCCAS synthetic"})
        write_annual_latlon_frame(nc, lat, lon, year, "f8")
        long_names = {"agb": "above-ground biomass",
                      sd_variable: "above-ground biomass standard deviation"}
        for name, values in zip(("agb", sd_variable), fields, strict=True):
            variable = nc.createVariable(name, "i2", ("time", "lat", "lon"), zlib=True,
                                         fill_value=NETCDF_FILL)
            variable.setncatts({"units": "Mg/ha", "long_name": long_names[name],
                                "valid_range": np.array(NETCDF_VALID_RANGE, dtype=np.int16),
                                "grid_mapping": "crs"})
            if name == "agb":
                variable.ancillary_variables = sd_variable
            variable[0] = np.where(np.isfinite(values), np.round(values), NETCDF_FILL)
    return path


def write_cci_biomass_geotiff(
    folder: str | Path,
    agb: np.ndarray,
    agb_sd: np.ndarray,
    west: float,
    north: float,
    year: int,
    *,
    version: str = "fv4.0",
) -> tuple[Path, Path]:
    """Write an AGB and AGB_SD GeoTIFF tile pair (or a window of one tile).

    Parameters
    ----------
    folder : the folder to write into; the names follow the product pattern, with the
        tile of the window's upper-left pixel (:func:`cci_biomass_tile`).
    agb, agb_sd : (rows, cols) AGB and its standard deviation [Mg ha-1], north row first,
        rounded to integers (uint16); NaN is written as nodata 65535.
    west, north : [degree] outer edges of the upper-left pixel, on the 1/1125 degree
        lattice of the product.
    year : the epoch.
    version : product version tag in the names.

    Returns
    -------
    tuple of pathlib.Path
        The AGB and the AGB_SD file.

    Raises
    ------
    TccasInputError
        If shapes disagree, the corner is off the lattice, the window leaves its tile, or
        a value lies outside 0-65534.
    """
    folder = Path(folder)
    source = f"CCI Biomass writer ({folder})"
    shape = np.shape(agb)
    fields = _checked_fields(source, agb, agb_sd, shape, GEOTIFF_NODATA - 1)
    if len(shape) != 2:
        raise TccasInputError(f"{source}: 'agb' must be 2-D (rows, cols), got shape {shape}")
    for name, edge in (("west", west), ("north", north)):
        if abs(edge / RESOLUTION_DEG - round(edge / RESOLUTION_DEG)) > 1e-6:
            raise TccasInputError(f"{source}: {name} edge {edge} is not on the 1/1125 "
                                  "degree pixel lattice")
    tile = cci_biomass_tile(north - RESOLUTION_DEG / 2, west + RESOLUTION_DEG / 2)
    top = int(tile[1:3]) * (1 if tile[0] == "N" else -1)
    left = int(tile[4:7]) * (1 if tile[3] == "E" else -1)
    south = north - shape[0] * RESOLUTION_DEG
    east = west + shape[1] * RESOLUTION_DEG
    if south < top - TILE_DEG - 1e-9 or east > left + TILE_DEG + 1e-9:
        raise TccasInputError(f"{source}: the window {west}..{east} E, {south}..{north} N "
                              f"leaves tile {tile}")
    transform = Affine(RESOLUTION_DEG, 0.0, west, 0.0, -RESOLUTION_DEG, north)
    paths = []
    for kind, values in zip(("AGB", "AGB_SD"), fields, strict=True):
        target = folder / cci_biomass_file_name(year, kind=kind, tile=tile, version=version)
        with rasterio.open(target, "w", driver="GTiff", height=shape[0], width=shape[1],
                           count=1, dtype="uint16", crs="EPSG:4326", transform=transform,
                           nodata=GEOTIFF_NODATA, compress="deflate") as tif:
            tif.write(np.where(np.isfinite(values), np.round(values), GEOTIFF_NODATA)
                      .astype(np.uint16), 1)
            tif.update_tags(1, units="Mg/ha")
        paths.append(target)
    return paths[0], paths[1]


# ---------------------------------------------------------------------------- helpers
def _qc(rules: BiomassScreening, agb: np.ndarray, sd: np.ndarray) -> np.ndarray:
    """The qc bit field of rows with AGB and SD."""
    with np.errstate(divide="ignore", invalid="ignore"):
        relative = np.where(sd > 0, sd / agb, 0.0)
    failed = (
        ~((agb >= rules.value_min) & (agb <= rules.value_max)),
        (np.zeros(agb.size, dtype=bool) if rules.max_relative_sigma is None
         else ~(relative <= rules.max_relative_sigma)),
    )
    return qc_bit_field(failed, agb.size)


def _epoch_time(year: int) -> np.datetime64:
    """Observation time of an epoch map: 1 July 00:00 UTC of its year."""
    return np.datetime64(f"{year:04d}-07-01T00:00:00", "ns")


def _checked_fields(source: str, agb: np.ndarray, sd: np.ndarray, shape: tuple,
                    maximum: float) -> tuple[np.ndarray, np.ndarray]:
    """AGB and SD as float arrays of ``shape`` with values in [0, maximum] or NaN."""
    fields = []
    for name, values in (("agb", agb), ("agb_sd", sd)):
        values = np.asarray(values, dtype=np.float64)
        if values.shape != tuple(shape):
            raise TccasInputError(f"{source}: '{name}' has shape {values.shape}, expected "
                                  f"{tuple(shape)}")
        if np.any((values < 0) | (values > maximum)):
            raise TccasInputError(f"{source}: '{name}' holds values outside 0-{maximum:g} "
                                  "Mg ha-1")
        fields.append(values)
    return fields[0], fields[1]


def _is_netcdf(path: Path) -> bool:
    """True unless the file name ends in .tif/.tiff."""
    return path.suffix.lower() not in (".tif", ".tiff")


def _unit_factor(units: str, source: str, name: str) -> float:
    """Factor to Mg ha-1 of a units text (missing units: the product's Mg ha-1)."""
    if not units:
        return 1.0
    if units.strip() not in AGB_UNIT_FACTORS:
        raise TccasInputError(f"{source}: variable '{name}' has units {units!r}; expected "
                              f"one of {', '.join(AGB_UNIT_FACTORS)}")
    return AGB_UNIT_FACTORS[units.strip()]


@contextmanager
def _open_raster(path: Path, sd_path: str | Path | None) -> Iterator[_Raster]:
    """Open the product as a :class:`_Raster` (netCDF or GeoTIFF pair)."""
    if _is_netcdf(path):
        if sd_path is not None:
            raise TccasInputError(f"{path}: sd_path is for GeoTIFF tiles; a netCDF map "
                                  "holds its own uncertainty variable")
        with open_product(path) as nc:
            yield _netcdf_raster(nc, path)
        return
    sd_file = Path(sd_path) if sd_path is not None else sd_tile_path(path)
    with open_geotiff(path) as agb, open_geotiff(sd_file) as sd:
        yield _geotiff_raster(agb, sd, path, sd_file)


def _netcdf_raster(nc: netCDF4.Dataset, path: Path) -> _Raster:
    """A :class:`_Raster` over an open netCDF map."""
    sigma_name = next((name for name in SIGMA_VARIABLES if name in nc.variables), None)
    missing = [name for name in ("agb", "lat", "lon") if name not in nc.variables]
    missing += [] if sigma_name else [" or ".join(SIGMA_VARIABLES)]
    if missing:
        raise TccasInputError(f"{path}: not a CCI Biomass AGB file: variable(s) "
                              f"{', '.join(missing)} missing")
    lat = nc["lat"][:].astype(np.float64)
    lon = nc["lon"][:].astype(np.float64)
    agb_variable, sd_variable = nc["agb"], nc[sigma_name]
    for variable in (agb_variable, sd_variable):
        shape = variable.shape
        if len(shape) != 3 or shape[1:] != (lat.size, lon.size):
            raise TccasInputError(f"{path}: variable '{variable.name}' has shape {shape}, "
                                  f"expected (time, {lat.size}, {lon.size})")
    if agb_variable.shape != sd_variable.shape:
        raise TccasInputError(f"{path}: variables 'agb' {agb_variable.shape} and "
                              f"'{sigma_name}' {sd_variable.shape} differ in shape")
    factors = [_unit_factor(str(getattr(v, "units", "")), str(path), v.name)
               for v in (agb_variable, sd_variable)]
    years = _netcdf_years(nc, path, agb_variable.shape[0])
    dlat = regular_spacing(lat, "lat", str(path), RESOLUTION_DEG)
    dlon = regular_spacing(lon, "lon", str(path), RESOLUTION_DEG)

    def read(t: int, rows: slice, cols: slice) -> tuple[np.ndarray, np.ndarray]:
        return (decode_floats(agb_variable, (t, rows, cols)) * factors[0],
                decode_floats(sd_variable, (t, rows, cols)) * factors[1])

    return _Raster(str(path), lat, lon, abs(dlat) / 2, abs(dlon) / 2, years, read)


def _netcdf_years(nc: netCDF4.Dataset, path: Path, n_time: int) -> tuple[int, ...]:
    """Epoch years from the ``time`` coordinate, else from the file name."""
    if "time" in nc.variables and "units" in nc["time"].ncattrs():
        time = nc["time"]
        calendar = str(getattr(time, "calendar", "standard"))
        try:
            dates = netCDF4.num2date(np.asarray(time[:], dtype=np.float64), time.units,
                                     calendar, only_use_cftime_datetimes=False)
        except (ValueError, TypeError) as err:
            raise TccasInputError(f"{path}: variable 'time' has units {time.units!r} that "
                                  f"cannot be decoded ({err})") from err
        years = tuple(int(date.year) for date in np.atleast_1d(dates))
        if len(years) == n_time:
            return years
    match = FILE_NAME.match(path.name)
    if match is None or n_time != 1:
        raise TccasInputError(f"{path}: the epoch year is neither in a decodable 'time' "
                              "variable nor in the file name")
    return (int(match["year"]),)


def _geotiff_raster(agb: xr.DataArray, sd: xr.DataArray, path: Path, sd_path: Path
                    ) -> _Raster:
    """A :class:`_Raster` over an AGB and an AGB_SD tile."""
    for band, file in ((agb, path), (sd, sd_path)):
        crs = band.rio.crs
        if crs is None or not crs.is_geographic:
            raise TccasInputError(f"{file}: CRS {crs} is not geographic (EPSG:4326 "
                                  "expected for CCI Biomass tiles)")
        if band.sizes.get("band", 1) != 1:
            raise TccasInputError(f"{file}: has {band.sizes['band']} bands, expected 1")
    # the transforms from rasterio itself: rioxarray's rio.transform() recomputes them
    # through deprecated Affine arithmetic
    with rasterio.open(path) as agb_file, rasterio.open(sd_path) as sd_file:
        transform, sd_transform = agb_file.transform, sd_file.transform
    if agb.shape != sd.shape or not np.allclose(tuple(transform), tuple(sd_transform)):
        raise TccasInputError(f"{path} and {sd_path}: AGB {agb.shape} and AGB_SD {sd.shape} "
                              "tiles differ in shape or georeferencing")
    if transform.b != 0 or transform.d != 0 or transform.a <= 0 or transform.e >= 0:
        raise TccasInputError(f"{path}: GeoTIFF transform {tuple(transform)} is not "
                              "north-up")
    match = FILE_NAME.match(path.name)
    if match is None:
        raise TccasInputError(f"{path}: the epoch year cannot be found: the name does not "
                              "follow <TILE>_ESACCI-BIOMASS-L4-AGB-MERGED-100m-<YYYY>-<fv>.tif")
    factors = [_unit_factor(str(band.attrs.get("units", "")), str(file), name)
               for band, file, name in ((agb, path, "AGB"), (sd, sd_path, "AGB_SD"))]
    ny, nx = agb.shape[-2:]
    lat = transform.f + transform.e * (np.arange(ny) + 0.5)
    lon = transform.c + transform.a * (np.arange(nx) + 0.5)

    def read(_: int, rows: slice, cols: slice) -> tuple[np.ndarray, np.ndarray]:
        return (agb[0, rows, cols].values.astype(np.float64) * factors[0],
                sd[0, rows, cols].values.astype(np.float64) * factors[1])

    return _Raster(str(path), lat, lon, abs(transform.e) / 2, transform.a / 2,
                   (int(match["year"]),), read)


def sd_tile_path(path: Path) -> Path:
    """The AGB_SD tile next to an AGB GeoTIFF tile, by the product's naming pattern
    (it need not exist); a :class:`TccasInputError` for the SD tile itself or a name
    outside the pattern."""
    match = FILE_NAME.match(path.name)
    if match is not None and match["kind"] == "AGB_SD":
        agb = path.name.replace("-AGB_SD-MERGED-", "-AGB-MERGED-")
        raise TccasInputError(f"{path}: is the standard-deviation tile; read its AGB tile "
                              f"{agb}, which names this one as its twin")
    if match is None:
        raise TccasInputError(f"{path}: cannot name the AGB_SD twin of this file; give "
                              "sd_path (names follow <TILE>_ESACCI-BIOMASS-L4-AGB-MERGED-...)")
    return path.with_name(path.name.replace("-AGB-MERGED-", "-AGB_SD-MERGED-"))
