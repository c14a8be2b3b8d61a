"""OpenLandMap soil texture classes (USDA system): reader, mapping to the model's soil
classes, majority aggregation onto the model grid, and a writer of the same format.

Product: Hengl, T. (2018): Soil texture classes (USDA system) for 6 soil depths (0, 10,
30, 60, 100 and 200 cm) at 250 m, version v02, Zenodo, doi:10.5281/zenodo.1475451
(OpenLandMap / LandGIS, https://openlandmap.org; Google Earth Engine asset
``OpenLandMap/SOL/SOL_TEXTURE-CLASS_USDA-TT_M/v02``). The classes come from the predicted
clay, silt and sand fractions through the USDA texture triangle (R package soiltexture).
One file per depth, ``sol_texture.class_usda.tt_m_250m_b<D>..<D>cm_1950..2017_v0.2.tif``
(:func:`soil_texture_file_name`; the cloud-optimised copies are named
``texture.class_usda.tt_m_250m_b<D>cm_19500101_20171231_go_epsg.4326_v0.2.tif``): a
one-band GeoTIFF, EPSG:4326, 1/480 degree (about 250 m) pixels, byte class codes 1-12
[1] of :data:`USDA_CLASSES` (Cl, SiCl, SaCl, ClLo, SiClLo, SaClLo, Lo, SiLo, SaLo, Si, LoSa,
Sa), 255 where there is no data (sea, Antarctica).

Reading (:func:`read_soil_texture`) takes the file's own CRS, transform and nodata value
(through rioxarray, lazily, only the window around the region), so a cut or re-projected
copy and the synthetic file of :func:`write_soil_texture` read exactly as the product.

Model classes (:data:`USDA_TO_SOIL`, PROPOSED): the model has seven of the eleven texture
classes of Rawls et al. (1982), :data:`tccas.model.parameters.SOIL_CLASSES`, whose
hydraulic constants are those class means. A USDA class the model has maps to itself;
each other one maps to the model class whose Rawls et al. (1982) means of field capacity
and wilting point [m3 m-3] are nearest (Euclidean distance): sandy clay loam (0.255,
0.148) -> loam (0.270, 0.117); silty clay loam (0.366, 0.208) -> clay loam (0.318,
0.197); sandy clay (0.339, 0.239) -> clay loam; silty clay (0.387, 0.250) -> clay (0.396,
0.272). Silt, for which Rawls et al. give no mean, -> silt loam, its neighbour in the
texture triangle.

Aggregation (:func:`majority_soil_class`, PROPOSED): a model cell takes the *majority*
(mode) model class of the product pixels whose centre lies in it, counted after the
mapping, so that USDA classes sharing a model class add up (a cell of 30 % clay, 25 %
silty clay and 45 % loam pixels is clay). A class is categorical: a mean of codes has no
meaning, and the majority is the texture of most of the cell's ground. Ties go to the
coarser class (the first in ``SOIL_CLASSES`` order, sand to clay). A cell that holds no
pixel centre (a grid finer than the product, e.g. 100 m) takes the pixel holding its
centre. Pixels without data are not counted; a cell without any valid pixel takes the
caller's fallback class (the configuration's ``ingest.soil``; :func:`soil_class_on_grid`
counts those cells).

References
----------
Hengl, T. (2018): doi:10.5281/zenodo.1475451.
Rawls, W. J., Brakensiek, D. L. and Saxton, K. E. (1982): Estimation of soil water
properties. Trans. ASAE 25, 1316-1320, doi:10.13031/2013.33720.
Soil Science Division Staff (2017): Soil Survey Manual, USDA Handbook 18 (texture
triangle).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import rasterio
import xarray as xr
from numpy.typing import NDArray
from pyproj import CRS
from rasterio.transform import Affine

from tccas.catalog.catalogue import SOIL_NAMES
from tccas.catalog.grid import WGS84_LONLAT, Grid, transformer
from tccas.catalog.gridded import BBox, check_bbox, open_geotiff, regular_spacing
from tccas.model.errors import TccasInputError
from tccas.model.parameters import SOIL_CLASSES

PRODUCT = "OpenLandMap soil texture class (USDA system)"
VARIABLE = "soil_texture_class"
#: [degree] pixel size of the product.
RESOLUTION_DEG = 1.0 / 480.0
#: The product's nodata value (written by :func:`write_soil_texture`).
NODATA = 255
#: Code of pixels without data in what :func:`read_soil_texture` returns.
NO_DATA = 0

#: USDA texture classes of the product: code -> (abbreviation of the legend, name).
USDA_CLASSES: dict[int, tuple[str, str]] = {
    1: ("Cl", "clay"),
    2: ("SiCl", "silty clay"),
    3: ("SaCl", "sandy clay"),
    4: ("ClLo", "clay loam"),
    5: ("SiClLo", "silty clay loam"),
    6: ("SaClLo", "sandy clay loam"),
    7: ("Lo", "loam"),
    8: ("SiLo", "silt loam"),
    9: ("SaLo", "sandy loam"),
    10: ("Si", "silt"),
    11: ("LoSa", "loamy sand"),
    12: ("Sa", "sand"),
}

#: USDA class code -> model soil class (:data:`tccas.model.parameters.SOIL_CLASSES`); the
#: rule is in the module docstring.
USDA_TO_SOIL: dict[int, str] = {
    1: "clay",
    2: "clay",
    3: "clay_loam",
    4: "clay_loam",
    5: "clay_loam",
    6: "loam",
    7: "loam",
    8: "silt_loam",
    9: "sandy_loam",
    10: "silt_loam",
    11: "loamy_sand",
    12: "sand",
}

#: Model class index (into ``SOIL_CLASSES``) of every byte value; -1 = no class.
_CLASS_OF_CODE = np.full(256, -1, dtype=np.int8)
for _code, _soil in USDA_TO_SOIL.items():
    _CLASS_OF_CODE[_code] = SOIL_NAMES.index(_soil)
#: Pixels handled at once when pixels are counted per cell.
_PIXELS_PER_PIECE = 1 << 22
#: The depth and the period in the product's names: ``_b30..30cm_`` or ``_b30cm_``;
#: ``_1950..2017`` or ``_19500101_20171231``.
_DEPTH = re.compile(r"_b(\d+)(?:\.\.\d+)?cm_", re.IGNORECASE)
_PERIOD = re.compile(r"_(\d{4})(?:\.\.|\d{4}_)(\d{4})", re.IGNORECASE)


def soil_texture_file_name(depth_cm: int = 0) -> str:
    """The product's file name of one depth,
    ``sol_texture.class_usda.tt_m_250m_b<D>..<D>cm_1950..2017_v0.2.tif``."""
    return f"sol_texture.class_usda.tt_m_250m_b{depth_cm}..{depth_cm}cm_1950..2017_v0.2.tif"


def soil_texture_depth_cm(path: str | Path) -> int | None:
    """[cm] the depth of a product file from its name (``_b30..30cm_`` or ``_b30cm_``),
    None when the name does not give one."""
    match = _DEPTH.search(Path(path).name)
    return None if match is None else int(match.group(1))


def _layout(band: xr.DataArray, path: Path) -> tuple[CRS, Affine]:
    """The CRS and the transform of a one-band, north-up product raster."""
    # the transform from rasterio itself: rioxarray's rio.transform() recomputes it
    # through deprecated Affine arithmetic
    with rasterio.open(path) as raster:
        transform = raster.transform
    if band.sizes.get("band", 1) != 1:
        raise TccasInputError(f"{path}: has {band.sizes['band']} bands, expected one "
                              f"({VARIABLE})")
    if band.rio.crs is None:
        raise TccasInputError(f"{path}: GeoTIFF has no CRS (EPSG:4326 expected)")
    if transform.b != 0 or transform.d != 0 or transform.a <= 0 or transform.e >= 0:
        raise TccasInputError(f"{path}: GeoTIFF transform {tuple(transform)} is not north-up")
    return CRS.from_wkt(band.rio.crs.to_wkt()), transform


def _window(transform: Affine, shape: tuple[int, int], crs: CRS, bbox: BBox
            ) -> tuple[slice, slice]:
    """Rows and columns of the pixels whose centre may lie in the lon/lat box."""
    west, south, east, north = bbox
    lon = np.concatenate([np.linspace(west, east, 65), np.full(65, east),
                          np.linspace(west, east, 65), np.full(65, west)])
    lat = np.concatenate([np.full(65, south), np.linspace(south, north, 65),
                          np.full(65, north), np.linspace(south, north, 65)])
    x, y = (lon, lat) if crs.is_geographic else transformer(WGS84_LONLAT, crs).transform(
        lon, lat)
    cols = (np.asarray(x) - transform.c) / transform.a - 0.5
    rows = (np.asarray(y) - transform.f) / transform.e - 0.5
    col_range = (max(int(np.ceil(cols.min())), 0), min(int(np.floor(cols.max())) + 1,
                                                       shape[1]))
    row_range = (max(int(np.ceil(rows.min())), 0), min(int(np.floor(rows.max())) + 1,
                                                       shape[0]))
    return slice(*row_range), slice(*col_range)


def read_soil_texture(path: str | Path, bbox: BBox | None = None) -> xr.DataArray:
    """Read the USDA texture classes of an OpenLandMap soil texture GeoTIFF.

    Parameters
    ----------
    path : a ``sol_texture.class_usda.tt_m_250m_b<D>..<D>cm_*.tif`` file (global, a cut
        or the synthetic file of :func:`write_soil_texture`).
    bbox : (west, south, east, north) [degree]: read only the pixels whose centre lies
        inside (the window is found in the file's CRS).

    Returns
    -------
    xarray.DataArray
        ``soil_texture_class`` (y, x), uint8 codes of :data:`USDA_CLASSES` [1],
        :data:`NO_DATA` (0) where the file has no data; coordinates ``x``, ``y`` (pixel
        centres in the file's CRS); attributes ``source``, ``product``, ``crs_wkt``,
        ``pixel_size`` ([x step, y step] in CRS units, y negative) and, when the file
        name gives it, ``depth_cm``.

    Raises
    ------
    TccasInputError
        The file cannot be read as GeoTIFF, has several bands, no CRS or a rotated
        transform, holds no pixel in ``bbox``, or holds a value that is neither a USDA
        class (1-12) nor its nodata value; the message names the file, the variable and
        the value.
    """
    path = Path(path)
    window = check_bbox(bbox, str(path))
    with open_geotiff(path, mask_and_scale=False) as band:
        crs, transform = _layout(band, path)
        shape = (band.sizes["y"], band.sizes["x"])
        rows, cols = (slice(0, shape[0]), slice(0, shape[1])) if window is None else \
            _window(transform, shape, crs, window)
        if rows.stop <= rows.start or cols.stop <= cols.start:
            raise TccasInputError(f"{path}: no pixel of {VARIABLE} lies in the region "
                                  f"{window} (degree west, south, east, north)")
        codes = np.asarray(band.isel(band=0, y=rows, x=cols).values)
        nodata = band.rio.nodata
    codes = codes.astype(np.int64)
    missing = (codes == int(nodata)) if nodata is not None else np.zeros(codes.shape, bool)
    unknown = ~missing & ~np.isin(codes, list(USDA_CLASSES))
    if unknown.any():
        raise TccasInputError(f"{path}: variable '{VARIABLE}' (band 1) holds the value "
                              f"{int(codes[unknown][0])}, which is neither a USDA texture "
                              f"class (1-12) nor the nodata value {_text(nodata)}")
    x = transform.c + transform.a * (np.arange(cols.start, cols.stop) + 0.5)
    y = transform.f + transform.e * (np.arange(rows.start, rows.stop) + 0.5)
    depth = soil_texture_depth_cm(path)
    return xr.DataArray(
        np.where(missing, NO_DATA, codes).astype(np.uint8), dims=("y", "x"), name=VARIABLE,
        coords={"y": y, "x": x},
        attrs={"source": path.name, "product": PRODUCT, "crs_wkt": crs.to_wkt(),
               "pixel_size": [float(transform.a), float(transform.e)],
               **({} if depth is None else {"depth_cm": depth})},
    )


def model_soil_class(codes: NDArray[np.integer]) -> NDArray[np.int8]:
    """Model class index (into ``SOIL_CLASSES``) of USDA codes (:data:`USDA_TO_SOIL`);
    -1 for :data:`NO_DATA` and any other code."""
    return _CLASS_OF_CODE[np.asarray(codes, dtype=np.uint8)]


def majority_soil_class(texture: xr.DataArray, grid: Grid) -> NDArray[np.int8]:
    """The majority model soil class of every model cell (module docstring).

    Parameters
    ----------
    texture : USDA codes as :func:`read_soil_texture` returns them.
    grid : the model grid (lat/lon or projected).

    Returns
    -------
    (ny, nx) int8 index into ``SOIL_CLASSES``, north row first; -1 where the cell holds
    no valid pixel (and its centre lies on none).
    """
    classes = model_soil_class(texture.values)
    crs = CRS.from_wkt(texture.attrs["crs_wkt"])
    x, y = texture["x"].values, texture["y"].values
    n_class = len(SOIL_NAMES)
    keys, counts = [], []
    rows_per_piece = max(1, _PIXELS_PER_PIECE // max(x.size, 1))
    for start in range(0, y.size, rows_per_piece):
        piece = classes[start:start + rows_per_piece]
        px, py = np.meshgrid(x, y[start:start + rows_per_piece])
        cells = grid.cell_of(*_to_lonlat(px.ravel(), py.ravel(), crs))
        valid = (cells >= 0) & (piece.ravel() >= 0)
        key, count = np.unique(cells[valid] * n_class + piece.ravel()[valid],
                               return_counts=True)
        keys.append(key)
        counts.append(count)
    key, inverse = np.unique(np.concatenate(keys), return_inverse=True)
    count = np.bincount(inverse, weights=np.concatenate(counts))
    cell, klass = key // n_class, key % n_class
    order = np.lexsort((klass, -count, cell))
    first = np.concatenate([[True], cell[order][1:] != cell[order][:-1]])
    result = np.full(grid.n_cells, -1, dtype=np.int8)
    result[cell[order][first]] = klass[order][first]
    empty = np.flatnonzero(np.bincount(cell, minlength=grid.n_cells) == 0)
    if empty.size:
        result[empty] = _class_at_centres(classes, x, y, texture.attrs["pixel_size"], crs,
                                          grid, empty)
    return result.reshape(grid.shape)


def _to_lonlat(x: NDArray[np.float64], y: NDArray[np.float64], crs: CRS
               ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    if crs.is_geographic:
        return x, y
    lon, lat = transformer(crs, WGS84_LONLAT).transform(x, y)
    return np.asarray(lon), np.asarray(lat)


def _class_at_centres(classes: NDArray[np.int8], x: NDArray[np.float64],
                      y: NDArray[np.float64], pixel_size: list[float], crs: CRS, grid: Grid,
                      cells: NDArray[np.int64]) -> NDArray[np.int8]:
    """Class of the pixel holding the centre of each of ``cells`` (-1 outside)."""
    rows, cols = grid.row_col(cells)
    lon, lat = grid.xy_to_lonlat(grid.x[cols], grid.y[rows])
    if crs.is_geographic:
        px, py = lon, lat
    else:
        px, py = transformer(WGS84_LONLAT, crs).transform(lon, lat)
    step_x, step_y = pixel_size
    col = np.floor((np.asarray(px) - x[0]) / step_x + 0.5).astype(np.int64)
    row = np.floor((np.asarray(py) - y[0]) / step_y + 0.5).astype(np.int64)
    inside = (row >= 0) & (row < y.size) & (col >= 0) & (col < x.size)
    found = np.full(cells.size, -1, dtype=np.int8)
    found[inside] = classes[row[inside], col[inside]]
    return found


def soil_class_on_grid(path: str | Path, grid: Grid, fallback: str,
                       bbox: BBox | None = None) -> xr.DataArray:
    """The model soil class of every cell of a grid from a soil texture GeoTIFF.

    Parameters
    ----------
    path : the GeoTIFF (:func:`read_soil_texture`).
    grid : the model grid.
    fallback : model soil class of cells without product data.
    bbox : (west, south, east, north) [degree] holding the grid (read window).

    Returns
    -------
    xarray.DataArray
        (y, x) int8 index into ``SOIL_CLASSES``, north row first
        (:func:`majority_soil_class`, ``fallback`` where the product has no data);
        attributes ``source`` (file name), ``product``, ``depth_cm`` (when the name gives
        it), ``aggregation`` and ``n_fallback_cells``.

    Raises
    ------
    TccasInputError
        From the reader, or ``fallback`` is not a model soil class.
    """
    if fallback not in SOIL_CLASSES:
        raise TccasInputError(f"unknown soil class '{fallback}'; known: "
                              f"{', '.join(SOIL_NAMES)}")
    texture = read_soil_texture(path, bbox)
    classes = majority_soil_class(texture, grid)
    without = classes < 0
    classes[without] = SOIL_NAMES.index(fallback)
    depth = texture.attrs.get("depth_cm")
    return xr.DataArray(classes, dims=("y", "x"), attrs={
        "source": texture.attrs["source"], "product": PRODUCT,
        **({} if depth is None else {"depth_cm": depth}),
        "aggregation": "majority model class of the product pixels centred in the cell "
                       "(USDA classes mapped by tccas.catalog.soil_texture.USDA_TO_SOIL, "
                       "ties to the coarser class; a cell holding no pixel centre takes "
                       f"the pixel at its centre); {fallback} where the product has no data",
        "n_fallback_cells": int(without.sum())})


def write_soil_texture(path: str | Path, classes: NDArray[np.integer], lat: NDArray[np.float64],
                       lon: NDArray[np.float64]) -> Path:
    """Write a soil texture class GeoTIFF in the product's format (module docstring).

    Parameters
    ----------
    path : the file to create (overwritten); see :func:`soil_texture_file_name`.
    classes : (n_lat, n_lon) USDA codes of :data:`USDA_CLASSES`, :data:`NO_DATA` (0)
        where there is no data (written as :data:`NODATA`).
    lat, lon : (n_lat,), (n_lon,) [degree] pixel centres, regular, latitude north to
        south.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    TccasInputError
        ``classes`` has the wrong shape or holds a value that is no USDA class, or the
        coordinates are not regular and north-up.
    """
    path = Path(path)
    source = f"soil texture writer ({path})"
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    codes = np.asarray(classes)
    if codes.shape != (lat.size, lon.size):
        raise TccasInputError(f"{source}: '{VARIABLE}' has shape {codes.shape}, expected "
                              f"{(lat.size, lon.size)} (lat, lon)")
    unknown = ~np.isin(codes, [NO_DATA, *USDA_CLASSES])
    if unknown.any():
        raise TccasInputError(f"{source}: '{VARIABLE}' holds the value {codes[unknown][0]}, "
                              "which is no USDA texture class (1-12)")
    dlat = _mean_step(lat, "lat", source, -RESOLUTION_DEG)
    dlon = _mean_step(lon, "lon", source, RESOLUTION_DEG)
    if dlat >= 0 or dlon <= 0:
        raise TccasInputError(f"{source}: latitude must run north to south and longitude "
                              "west to east")
    transform = Affine(dlon, 0.0, lon[0] - dlon / 2, 0.0, dlat, lat[0] - dlat / 2)
    with rasterio.open(path, "w", driver="GTiff", height=lat.size, width=lon.size, count=1,
                       dtype="uint8", crs="EPSG:4326", transform=transform, nodata=NODATA,
                       compress="deflate") as tif:
        tif.write(np.where(codes == NO_DATA, NODATA, codes).astype(np.uint8), 1)
        tif.update_tags(1, name=VARIABLE, legend=" ".join(
            f"{code}={abbreviation}" for code, (abbreviation, _) in USDA_CLASSES.items()))
    return path


def _text(nodata: float | None) -> str:
    """A nodata value as the product states it (255, not 255.0)."""
    return "none" if nodata is None else f"{nodata:g}"


def _mean_step(centres: NDArray[np.float64], name: str, source: str, nominal: float) -> float:
    """[degree] the spacing of regular pixel centres (checked by
    :func:`tccas.catalog.gridded.regular_spacing`), as the mean step, so that centres
    rounded to a few decimals leave no drift across the raster."""
    step = regular_spacing(centres, name, source, nominal)
    return step if centres.size < 2 else float(centres[-1] - centres[0]) / (centres.size - 1)


def inspect_soil_texture(path: str | Path) -> dict:
    """Summarise a soil texture GeoTIFF, reading it a strip of rows at a time.

    Returns
    -------
    dict
        ``file``, ``product``, ``grid_shape`` ((rows, columns)), ``n_records`` (pixels),
        ``time_start``/``time_end`` (the product's period from the file name, e.g.
        1950-01-01 .. 2017-12-31, else None), ``streams``: ``{"soil_texture_class":
        {"n_valid": pixels with a class, "n_after_qc": the same}}``, ``classes`` (USDA
        abbreviation -> pixels), ``depth_cm`` and ``crs``.

    Raises
    ------
    TccasInputError
        As :func:`read_soil_texture`, for the whole file.
    """
    path = Path(path)
    counts: dict[int, int] = {}
    with open_geotiff(path, mask_and_scale=False) as band:
        crs, _ = _layout(band, path)
        ny, nx = band.sizes["y"], band.sizes["x"]
        nodata = band.rio.nodata
        rows_per_piece = max(1, _PIXELS_PER_PIECE // max(nx, 1))
        for start in range(0, ny, rows_per_piece):
            piece = band.isel(band=0, y=slice(start, start + rows_per_piece)).values
            for value, count in zip(*np.unique(piece, return_counts=True), strict=True):
                counts[int(value)] = counts.get(int(value), 0) + int(count)
    if nodata is not None:
        counts.pop(int(nodata), None)
    unknown = sorted(set(counts) - set(USDA_CLASSES))
    if unknown:
        raise TccasInputError(f"{path}: variable '{VARIABLE}' (band 1) holds the value "
                              f"{unknown[0]}, which is neither a USDA texture class (1-12) "
                              f"nor the nodata value {_text(nodata)}")
    period = _PERIOD.search(path.name)
    n_valid = sum(counts.values())
    return {
        "file": path.name,
        "product": PRODUCT,
        "grid_shape": (int(ny), int(nx)),
        "n_records": int(ny * nx),
        "time_start": None if period is None else f"{period.group(1)}-01-01T00:00:00",
        "time_end": None if period is None else f"{period.group(2)}-12-31T23:59:59",
        "streams": {VARIABLE: {"n_valid": n_valid, "n_after_qc": n_valid}},
        "classes": {abbreviation: counts.get(code, 0)
                    for code, (abbreviation, _) in USDA_CLASSES.items()},
        "depth_cm": soil_texture_depth_cm(path),
        "crs": crs.to_string(),
    }
