"""ESA CCI Land Cover class map (LCCS legend): reader, companion lookup and format writer.

Product (EO_FORMATS.md section 6.1; ESA Land Cover CCI Product User Guide v2.0, 2017, and
the C3S ICDR Land Cover Product User Guide v2.1.1): the yearly class map
``ESACCI-LC-L4-LCCS-Map-300m-P1Y-<YYYY>-v2.0.7cds.nc`` (1992-2015) and its Copernicus
Climate Change Service continuation ``C3S-LC-L4-LCCS-Map-300m-P1Y-<YYYY>-v2.1.1.nc``
(2016 on), global 1/360 degree (64800 x 129600 cells), dimensions ``(time, lat, lon)`` with
``time`` = 1, on the grid of the CCI LC PFT product (:mod:`tccas.catalog.cci_landcover`).
The variable ``lccs_class`` holds one class code of the 38-class legend per 300 m cell
(:data:`LCCS_LEGEND`), described by the CF attributes ``flag_values`` and
``flag_meanings`` (plus ``flag_colors``, ``valid_min`` = 1, ``valid_max`` = 220,
``standard_name`` = ``land_cover_lccs``); 0 is ``no_data``. Four quality layers
(``processed_flag``, ``current_pixel_state``, ``observation_count``, ``change_count``)
are its ``ancillary_variables``; they describe the whole time series and are not read.

Two storage layouts exist and both are read: ``lccs_class`` as ``ubyte`` with unsigned
``flag_values`` (v2.0.7cds, v2.1.1), and the original v2.0.7 ``byte`` with
``_Unsigned = "true"`` and ``flag_values`` stored as signed bytes (130 as -126, Brockmann
Consult lc-cci-toolbox ``fixNetCDF`` script). Codes are therefore compared modulo 256.

The map itself is not a PFT map: :func:`tccas.catalog.cci_landcover.read_cci_landcover`
uses it to recognise flooded vegetation (classes 160, 170, 180) and lichens and mosses
(140), which the PFT product cannot express (see :data:`CLASSES_USED`).

The writer follows the v2.0.7cds layout; the attribute set of the four quality layers is
PROPOSED (L: only their names and meanings are published in the user guide).

References
----------
ESA (2017): Land Cover CCI Product User Guide, version 2.0, UCL-Geomatics, CCI-LC-PUGV2.
Copernicus Climate Change Service (2021): ICDR Land Cover 2016-2020, Product User Guide
and Specification (class map v2.1.1).
"""

from __future__ import annotations

import re
from pathlib import Path

import netCDF4
import numpy as np
import xarray as xr

from tccas.catalog.gridded import (
    BBox,
    annual_map_summary,
    axis_window,
    check_bbox,
    decode_floats,
    regular_spacing,
    row_blocks,
    write_annual_latlon_frame,
)
from tccas.catalog.observations import open_product
from tccas.model.errors import TccasInputError

PRODUCT = "ESA CCI Land Cover LCCS class map"
VARIABLE = "lccs_class"
RESOLUTION_DEG = 1.0 / 360.0
NO_DATA = 0

#: The legend of the class map, code -> ``flag_meanings`` word (PUG v2.0 table 3-2).
LCCS_LEGEND: dict[int, str] = {
    0: "no_data",
    10: "cropland_rainfed",
    11: "cropland_rainfed_herbaceous_cover",
    12: "cropland_rainfed_tree_or_shrub_cover",
    20: "cropland_irrigated",
    30: "mosaic_cropland",
    40: "mosaic_natural_vegetation",
    50: "tree_broadleaved_evergreen_closed_to_open",
    60: "tree_broadleaved_deciduous_closed_to_open",
    61: "tree_broadleaved_deciduous_closed",
    62: "tree_broadleaved_deciduous_open",
    70: "tree_needleleaved_evergreen_closed_to_open",
    71: "tree_needleleaved_evergreen_closed",
    72: "tree_needleleaved_evergreen_open",
    80: "tree_needleleaved_deciduous_closed_to_open",
    81: "tree_needleleaved_deciduous_closed",
    82: "tree_needleleaved_deciduous_open",
    90: "tree_mixed",
    100: "mosaic_tree_and_shrub",
    110: "mosaic_herbaceous",
    120: "shrubland",
    121: "shrubland_evergreen",
    122: "shrubland_deciduous",
    130: "grassland",
    140: "lichens_and_mosses",
    150: "sparse_vegetation",
    151: "sparse_tree",
    152: "sparse_shrub",
    153: "sparse_herbaceous",
    160: "tree_cover_flooded_fresh_or_brakish_water",
    170: "tree_cover_flooded_saline_water",
    180: "shrub_or_herbaceous_cover_flooded_fresh_saline_brakish_water",
    190: "urban",
    200: "bare_areas",
    201: "bare_areas_consolidated",
    202: "bare_areas_unconsolidated",
    210: "water",
    220: "snow_and_ice",
}

#: Codes the PFT mapping relies on, with the start of the meaning a file must give them
#: (the v2.0.7 and v2.1.1 files shorten 180 to ``shrub_or_herbaceous_cover_flooded``).
CLASSES_USED: dict[int, str] = {
    140: "lichens_and_mosses",
    160: "tree_cover_flooded",
    170: "tree_cover_flooded",
    180: "shrub_or_herbaceous_cover_flooded",
}

_COMPANION = re.compile(r"^(ESACCI|C3S)-LC-L4-LCCS-Map-300m-P1Y-(\d{4})-v[0-9][\w.]*\.nc$",
                        re.IGNORECASE)
_PFT_YEAR = re.compile(r"-P1Y-(\d{4})-", re.IGNORECASE)


def lccs_file_name(year: int) -> str:
    """The class-map file name of a year: ``ESACCI-...-v2.0.7cds.nc`` up to 2015, the C3S
    continuation ``C3S-...-v2.1.1.nc`` from 2016."""
    if year <= 2015:
        return f"ESACCI-LC-L4-LCCS-Map-300m-P1Y-{year:04d}-v2.0.7cds.nc"
    return f"C3S-LC-L4-LCCS-Map-300m-P1Y-{year:04d}-v2.1.1.nc"


def find_lccs_companion(pft_path: str | Path) -> Path | None:
    """The class map of the same year next to a CCI LC PFT file, or None.

    The year is the ``P1Y-<YYYY>`` of the PFT file's name; a file of that year named as
    :func:`lccs_file_name` (either prefix, any version, any case) in the same folder is the
    companion. Several versions: the last in case-insensitive name order (the newest version). The
    multi-year stack ``...-P1Y-1992_2015-v2.0.7b.nc`` is not a companion (one map per file).
    """
    pft_path = Path(pft_path)
    year = _PFT_YEAR.search(pft_path.name)
    if year is None or not pft_path.parent.is_dir():
        return None
    found = sorted((p for p in pft_path.parent.iterdir()
                    if (m := _COMPANION.match(p.name)) and m.group(2) == year.group(1)),
                   key=lambda p: p.name.lower())
    return found[-1] if found else None


def read_lccs_map(path: str | Path, bbox: BBox | None = None) -> xr.DataArray:
    """Read the class codes of a CCI LC class map.

    Parameters
    ----------
    path : an ``ESACCI-LC-L4-LCCS-Map-300m-P1Y-<YYYY>-*.nc`` or ``C3S-LC-L4-LCCS-Map-*``
        file (global or a subset).
    bbox : (west, south, east, north) [degree]: read only cells whose centre lies inside.

    Returns
    -------
    xarray.DataArray
        ``lccs_class`` (lat, lon), uint8 codes of :data:`LCCS_LEGEND`, 0 (``no_data``)
        where the file has no data or fill; coordinates ``lat``, ``lon`` (cell centres
        [degree], as stored); attributes ``source``, ``product``, ``year`` and
        ``resolution_deg`` (the absolute lat/lon spacing).

    Raises
    ------
    TccasInputError
        If the file cannot be read, lacks ``lat``, ``lon`` or ``lccs_class``, holds more
        than one map, lacks or has inconsistent ``flag_values``/``flag_meanings``, gives
        one of :data:`CLASSES_USED` another meaning, holds a code outside its
        ``flag_values``, or has irregular coordinates; the message names the file, the
        variable and the value.
    """
    path = Path(path)
    window = check_bbox(bbox, str(path))
    with open_product(path) as nc:
        lat, lon, variable, legend = _map_layout(nc, path)
        lat_index, lon_index = ((slice(None), slice(None)) if window is None else
                                (axis_window(lat, window[1], window[3]),
                                 axis_window(lon, window[0], window[2])))
        decoded = decode_floats(variable, (0, lat_index, lon_index))
        year = map_year(nc)
    codes = _codes(decoded, legend, path)
    lat, lon = lat[lat_index], lon[lon_index]
    spacing = abs(regular_spacing(lat, "lat", str(path), RESOLUTION_DEG))
    regular_spacing(lon, "lon", str(path), RESOLUTION_DEG)
    return xr.DataArray(
        codes.astype(np.uint8), dims=("lat", "lon"), name=VARIABLE,
        coords={"lat": ("lat", lat, {"units": "degrees_north"}),
                "lon": ("lon", lon, {"units": "degrees_east"})},
        attrs={"source": path.name, "product": PRODUCT, "year": year,
               "resolution_deg": spacing, "long_name": "Land cover class defined in LCCS"},
    )


def write_lccs_map(path: str | Path, lccs_class: np.ndarray, lat: np.ndarray,
                   lon: np.ndarray, year: int) -> Path:
    """Write a CCI LC class map in the v2.0.7cds layout (module docstring).

    Parameters
    ----------
    path : the file to create (overwritten); see :func:`lccs_file_name`.
    lccs_class : (lat, lon) class codes of :data:`LCCS_LEGEND` (0 = no data).
    lat, lon : (n_lat,), (n_lon,) cell centres [degree], regular (north to south as
        written).
    year : the map year (``time`` = 1 January of it).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    TccasInputError
        If ``lccs_class`` has the wrong shape or holds a code outside the legend.
    """
    path = Path(path)
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    codes = np.asarray(lccs_class)
    if codes.shape != (lat.size, lon.size):
        raise TccasInputError(f"CCI LC class-map writer ({path}): '{VARIABLE}' has shape "
                              f"{codes.shape}, expected {(lat.size, lon.size)} (lat, lon)")
    unknown = ~np.isin(codes, list(LCCS_LEGEND))
    if unknown.any():
        raise TccasInputError(f"CCI LC class-map writer ({path}): '{VARIABLE}' holds the "
                              f"code {codes[unknown][0]}, not in the LCCS legend")
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        nc.setncatts({
            "title": "ESA CCI Land Cover Map (TCCAS format writer)",
            "product_version": "2.0.7cds",
            "spatial_resolution": "300m",
            "type": "ESACCI-LC-L4-LCCS-Map-300m-P1Y",
            "time_coverage_start": f"{year:04d}0101",
            "time_coverage_end": f"{year:04d}1231",
        })
        write_annual_latlon_frame(nc, lat, lon, year, "i4")
        dims = ("time", "lat", "lon")
        classes = nc.createVariable(VARIABLE, "u1", dims, zlib=True)
        classes.setncatts({
            "long_name": "Land cover class defined in LCCS",
            "standard_name": "land_cover_lccs",
            "flag_values": np.array(list(LCCS_LEGEND), dtype=np.uint8),
            "flag_meanings": " ".join(LCCS_LEGEND.values()),
            "valid_min": np.uint8(1), "valid_max": np.uint8(220),
            "ancillary_variables": "processed_flag current_pixel_state observation_count "
                                   "change_count",
            "grid_mapping": "crs",
        })
        classes[0] = codes.astype(np.uint8)
        processed = codes != NO_DATA
        for name, dtype, values, attrs in (
            ("processed_flag", "i1", processed.astype(np.int8),
             {"long_name": "LC map processed area flag", "flag_values": np.array([0, 1], "i1"),
              "flag_meanings": "not_processed processed"}),
            ("current_pixel_state", "i1", np.where(codes == 210, 2, np.where(
                codes == 220, 3, processed.astype(np.int8))).astype(np.int8),
             {"long_name": "LC pixel type mask", "flag_values": np.arange(6, dtype="i1"),
              "flag_meanings": "invalid clear_land clear_water clear_snow_ice cloud "
                               "cloud_shadow"}),
            ("observation_count", "i2", np.where(processed, 100, 0).astype(np.int16),
             {"long_name": "number of valid observations"}),
            ("change_count", "i1", np.zeros(codes.shape, np.int8),
             {"long_name": "number of class changes"}),
        ):
            layer = nc.createVariable(name, dtype, dims, zlib=True)
            layer.setncatts({**attrs, "grid_mapping": "crs"})
            layer[0] = values
    return path


def inspect_lccs_map(path: str | Path) -> dict:
    """Summarise a CCI LC class map, scanning it block by block (a global map has 8.4e9
    cells).

    Returns
    -------
    dict
        As :func:`tccas.catalog.gridded.annual_map_summary`, with ``streams``:
        ``{"lccs_class": {"n_valid": cells with a class (not 0, no_data, nor fill),
        "n_after_qc": the same}}`` (codes outside the legend are an error, as in
        :func:`read_lccs_map`) and ``classes``: the number of cells of each class used by
        the PFT refinement (:data:`CLASSES_USED`).

    Raises
    ------
    TccasInputError
        As :func:`read_lccs_map`.
    """
    path = Path(path)
    n_valid = 0
    used = dict.fromkeys(CLASSES_USED, 0)
    with open_product(path) as nc:
        lat, lon, variable, legend = _map_layout(nc, path)
        for rows in row_blocks(lat.size, lon.size):
            codes = _codes(decode_floats(variable, (0, rows, slice(None))), legend, path)
            n_valid += int(np.count_nonzero(codes != NO_DATA))
            for code in used:
                used[code] += int(np.count_nonzero(codes == code))
        year = map_year(nc)
    summary = annual_map_summary(path, PRODUCT, year, (lat.size, lon.size),
                                 {VARIABLE: {"n_valid": n_valid, "n_after_qc": n_valid}})
    return {**summary, "classes": {LCCS_LEGEND[code]: n for code, n in used.items()}}


def _map_layout(nc: netCDF4.Dataset, path: Path
                ) -> tuple[np.ndarray, np.ndarray, netCDF4.Variable, dict[int, str]]:
    """``lat``, ``lon`` [degree], the ``lccs_class`` variable and its legend, checked."""
    missing = [name for name in ("lat", "lon", VARIABLE) if name not in nc.variables]
    if missing:
        raise TccasInputError(f"{path}: not a CCI LC class map: variable(s) "
                              f"{', '.join(missing)} missing")
    lat = nc["lat"][:].astype(np.float64)
    lon = nc["lon"][:].astype(np.float64)
    variable = nc[VARIABLE]
    if len(variable.shape) != 3 or variable.shape[1:] != (lat.size, lon.size):
        raise TccasInputError(f"{path}: variable '{VARIABLE}' has shape {variable.shape}, "
                              f"expected (1, {lat.size}, {lon.size}) (time, lat, lon)")
    if variable.shape[0] != 1:
        raise TccasInputError(f"{path}: variable '{VARIABLE}' holds {variable.shape[0]} "
                              "maps; expected one map per file (time = 1)")
    return lat, lon, variable, _legend(variable, path)


def _codes(decoded: np.ndarray, legend: dict[int, str], path: Path) -> np.ndarray:
    """Class codes (int64, 0 for fill) of decoded values, each checked against the
    legend."""
    codes = np.where(np.isfinite(decoded), decoded, NO_DATA).astype(np.int64) % 256
    unknown = ~np.isin(codes, list(legend))
    if unknown.any():
        raise TccasInputError(f"{path}: variable '{VARIABLE}' holds the code "
                              f"{int(codes[unknown][0])}, which is not in its flag_values")
    return codes


def _legend(variable: netCDF4.Variable, path: Path) -> dict[int, str]:
    """Code -> meaning from ``flag_values``/``flag_meanings``, checked against
    :data:`CLASSES_USED`."""
    attrs = variable.ncattrs()
    if "flag_values" not in attrs or "flag_meanings" not in attrs:
        raise TccasInputError(f"{path}: variable '{VARIABLE}' lacks flag_values or "
                              "flag_meanings (the class legend)")
    values = np.atleast_1d(variable.getncattr("flag_values")).astype(np.int64) % 256
    meanings = str(variable.getncattr("flag_meanings")).split()
    if values.size != len(meanings):
        raise TccasInputError(f"{path}: variable '{VARIABLE}' has {values.size} flag_values "
                              f"but {len(meanings)} flag_meanings")
    legend = dict(zip(values.tolist(), meanings, strict=True))
    for code, start in CLASSES_USED.items():
        if code in legend and not legend[code].startswith(start):
            raise TccasInputError(f"{path}: variable '{VARIABLE}' calls class {code} "
                                  f"'{legend[code]}', expected '{start}...'")
    return legend


def map_year(nc: netCDF4.Dataset) -> int | None:
    """The year of a CCI LC map (class map or PFT file) from its ``time`` (CF units), None
    when it cannot be decoded."""
    if "time" not in nc.variables or "units" not in nc["time"].ncattrs():
        return None
    try:
        first = netCDF4.num2date(nc["time"][0], nc["time"].units,
                                 only_use_cftime_datetimes=False)
    except (ValueError, TypeError):
        return None
    return int(first.year)
