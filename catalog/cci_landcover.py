"""ESA CCI Land Cover PFT fractions: reader, mapping to the 13 model PFTs, aggregation onto
a model grid, and a format writer.

Product (EO_FORMATS.md section 6.1; variable list and metadata as published in the CCI
Open Data Portal entry ``esacci.LC.yr.L4.PFT.Unspecified.Unspecified.Map.2-0-8.r1``, H):
``ESACCI-LC-L4-PFT-Map-300m-P1Y-<YYYY>-v2.0.8.nc``, one file per year, global 1/360 degree
(64800 x 129600 cells), dimensions ``(time, lat, lon)`` with ``time`` = 1. One uint8
variable per class holds the *percentage cover* (0-100) of the 300 m cell; the names
contain hyphens (gotcha 9): ``TREES-BE``, ``TREES-BD``, ``TREES-NE``, ``TREES-ND``,
``SHRUBS-BE``, ``SHRUBS-BD``, ``SHRUBS-NE``, ``SHRUBS-ND``, ``GRASS-NAT``, ``GRASS-MAN``,
``BARE``, ``BUILT``, ``SNOWICE``, ``WATER_INLAND``, ``WATER_OCEAN`` and the aggregates
``WATER`` (inland + ocean) and ``LAND``. Per cell the classes add up to 100. The writer
follows this layout; the fill value 255, latitudes stored north to south and ``LAND`` =
100 - ``WATER_OCEAN`` are PROPOSED (L).

Mapping to the model PFTs (:data:`PFT_MAPPING` and :data:`LCCS_REFINEMENTS`, the one
place of the rules): the CCI classes carry life form, leaf type and phenology but no
climate, which the 13 BETHY PFTs (:data:`tccas.model.parameters.PFTS`) need. A climate
zone per cell decides, following the climate-stratified cross-walking of Poulter et al.
(2011, 2015):

========== =========== ============= ================= ========
CCI class  tropical    subtropical   temperate/boreal  polar
========== =========== ============= ================= ========
TREES-BE   TrEv        TmEv          TmEv              TmEv
TREES-BD   TrDD        TmSg          TmSg              TmSg
TREES-NE   EvCn        EvCn          EvCn              EvCn
TREES-ND   SgCn        SgCn          SgCn              SgCn
SHRUBS-BE  EShr        EShr          EShr              TunV
SHRUBS-NE  EShr        EShr          EShr              TunV
SHRUBS-BD  DShr        DShr          DShr              TunV
SHRUBS-ND  DShr        DShr          DShr              TunV
GRASS-NAT  C4Gr        C4Gr          C3Gr              TunV
GRASS-MAN  ArbC        ArbC          ArbC              ArbC
========== =========== ============= ================= ========

* BETHY has no boreal broadleaf or boreal-only PFTs: boreal broadleaf deciduous trees
  (birch, aspen) are TmSg; EvCn and SgCn are not zone-specific (Knorr 2000).
* Natural grass is C4 where it is warm (tropics and subtropics), C3 elsewhere: C4 grasses
  dominate grasslands below about 30 degrees of latitude (Still et al. 2003).
* Shrubs and natural grass in the polar zone are tundra vegetation (TunV).
* ``GRASS-MAN`` (managed grass) comes from the cropland classes of the CCI LCCS map
  (Harper et al. 2023, M), so it is arable crop (ArbC).
* ``BARE``, ``BUILT``, ``SNOWICE`` and ``WATER`` are not vegetation: they are kept as
  ``non_vegetated``, so the 13 PFT fractions of a cell add up to ``1 - non_vegetated``.

Wetland and tundra from the class map (:data:`LCCS_REFINEMENTS`, PROPOSED): the PFT
product is made from the CCI LCCS class map by a cross-walking table that splits every
class into the tree, shrub, grass and non-vegetated variables above (Poulter et al. 2015;
Harper et al. 2023), so it has no wetland class: a flooded shrub or herbaceous cell
becomes plain ``SHRUBS-*`` and ``GRASS-NAT``, and so does a lichen and moss cell. The
companion class map of the same year (:mod:`tccas.catalog.cci_lccs`, ``lccs_path=`` of
:func:`read_cci_landcover`) keeps that information per 300 m cell, and the shrub and
natural-grass share (:data:`REFINED_CLASSES`) of a cell is re-assigned by its class:

* **WetV** in the flooded classes 160 and 170 (tree cover, flooded, fresh or brackish /
  saline water) and 180 (shrub or herbaceous cover, flooded): BETHY's wetland/swamp
  vegetation is a herbaceous PFT (grass phenology, 0.3 m; Knorr 2000), the flooded
  ground layer of a mire or swamp. Trees of a flooded cell keep their tree PFT (a pine
  mire's pines are EvCn), managed grass stays ArbC.
* **TunV** in class 140 (lichens and mosses), in every climate zone: the class is the
  cryptogam-dominated ground cover of the arctic and alpine tundra (ESA 2017, PUG v2.0,
  legend), the dwarf-shrub, lichen and moss vegetation that BETHY's tundra PFT stands
  for. So fell tundra above the tree line is tundra in the boreal zone too, which the
  latitude zones cannot give.
* Sparse vegetation (150-153) is not re-assigned: below the polar zone it is also the
  vegetation of hot and cold deserts and dry steppes, which is not tundra.

Without a class map the zone table alone applies: WetV gets no cover and TunV only in
the polar zone (:func:`tccas.catalog.catalogue_sources.landcover_on_grid` looks for the
companion next to the PFT file; the ingest notes its absence). A 300 m cell that the class
map does not cover, or marks ``no_data``, also keeps the zone table.

Climate zones (:class:`ClimateZoneRules`, PROPOSED) come from the absolute latitude by
default: tropical below 23.44 degrees (the tropics), subtropical to 30 degrees (the C4
grass limit above), polar from 70 degrees (the Eurasian tree line, so that Sodankyla at
67.4 N keeps the evergreen shrubs of the TCCAS FI-Sod set-up), temperate/boreal between.
Latitude is a coarse proxy: a caller with a climate map passes zones per cell instead
(``zones=`` of :func:`read_cci_landcover`), e.g. polar where the Koppen climate is ET or EF
(warmest-month mean 2 m temperature below 10 C, which the polar tree line follows).

Fractions are the class percentages / 100, renormalised per cell by the cell's total (the
rounding of 15 integer percentages makes totals of 99-101); a total further than
:data:`TOTAL_TOLERANCE_PERCENT` from 100 is an error (not percentages, or a class missing).

References
----------
Harper, K. L. et al. (2023): A 29-year time series of annual 300 m resolution
plant-functional-type maps for climate models. Earth Syst. Sci. Data 15, 1465-1499,
doi:10.5194/essd-15-1465-2023.
Poulter, B. et al. (2011): Plant functional type mapping for earth system models. Geosci.
Model Dev. 4, 993-1010, doi:10.5194/gmd-4-993-2011.
Poulter, B. et al. (2015): Plant functional type classification for earth system models:
results from the European Space Agency's Land Cover Climate Change Initiative. Geosci.
Model Dev. 8, 2315-2328, doi:10.5194/gmd-8-2315-2015.
Still, C. J. et al. (2003): Global distribution of C3 and C4 vegetation: carbon cycle
implications. Global Biogeochem. Cycles 17, 1006, doi:10.1029/2001GB001807.
Knorr, W. (2000): Annual and interannual CO2 exchanges of the terrestrial biosphere.
Glob. Ecol. Biogeogr. 9, 225-252, doi:10.1046/j.1365-2699.2000.00159.x.
ESA (2017): Land Cover CCI Product User Guide, version 2.0, UCL-Geomatics, CCI-LC-PUGV2.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import netCDF4
import numpy as np
import xarray as xr

from tccas.catalog.cci_lccs import NO_DATA, map_year, read_lccs_map
from tccas.catalog.grid import Grid
from tccas.catalog.gridded import (
    BBox,
    annual_map_summary,
    axis_window,
    check_bbox,
    decode_floats,
    latlon_cell_corners,
    regular_spacing,
    row_blocks,
    write_annual_latlon_frame,
)
from tccas.catalog.observations import open_product
from tccas.model.errors import TccasInputError
from tccas.model.parameters import PFTS
from tccas.operators.footprint import quad_weights

PRODUCT = "ESA CCI Land Cover PFT"
RESOLUTION_DEG = 1.0 / 360.0
PERCENT_FILL = 255
TOTAL_TOLERANCE_PERCENT = 5.0
"""Largest accepted |sum of class percentages - 100| of a valid cell (PROPOSED)."""

VEGETATION_CLASSES = (
    "TREES-BE", "TREES-BD", "TREES-NE", "TREES-ND",
    "SHRUBS-BE", "SHRUBS-BD", "SHRUBS-NE", "SHRUBS-ND",
    "GRASS-NAT", "GRASS-MAN",
)
NON_VEGETATED_CLASSES = ("BARE", "BUILT", "SNOWICE")
WATER_PARTS = ("WATER_INLAND", "WATER_OCEAN")
CLASS_LONG_NAMES = {
    "TREES-BE": "Broadleaved evergreen trees", "TREES-BD": "Broadleaved deciduous trees",
    "TREES-NE": "Needleleaved evergreen trees", "TREES-ND": "Needleleaved deciduous trees",
    "SHRUBS-BE": "Broadleaved evergreen shrubs", "SHRUBS-BD": "Broadleaved deciduous shrubs",
    "SHRUBS-NE": "Needleleaved evergreen shrubs",
    "SHRUBS-ND": "Needleleaved deciduous shrubs", "GRASS-NAT": "Natural grasses",
    "GRASS-MAN": "Managed grasses", "BARE": "Bare", "BUILT": "Built",
    "SNOWICE": "Permanent snow and ice", "WATER_INLAND": "Inland Water",
    "WATER_OCEAN": "Oceanic water", "WATER": "Water", "LAND": "Land",
}

CLIMATE_ZONES = ("tropical", "subtropical", "temperate_boreal", "polar")
MODEL_PFTS = tuple(pft.short for pft in PFTS)

# CCI class -> model PFT in each climate zone, in CLIMATE_ZONES order (see the table in
# the module docstring, which gives the reasons and sources).
PFT_MAPPING: dict[str, tuple[str, str, str, str]] = {
    "TREES-BE": ("TrEv", "TmEv", "TmEv", "TmEv"),
    "TREES-BD": ("TrDD", "TmSg", "TmSg", "TmSg"),
    "TREES-NE": ("EvCn", "EvCn", "EvCn", "EvCn"),
    "TREES-ND": ("SgCn", "SgCn", "SgCn", "SgCn"),
    "SHRUBS-BE": ("EShr", "EShr", "EShr", "TunV"),
    "SHRUBS-NE": ("EShr", "EShr", "EShr", "TunV"),
    "SHRUBS-BD": ("DShr", "DShr", "DShr", "TunV"),
    "SHRUBS-ND": ("DShr", "DShr", "DShr", "TunV"),
    "GRASS-NAT": ("C4Gr", "C4Gr", "C3Gr", "TunV"),
    "GRASS-MAN": ("ArbC", "ArbC", "ArbC", "ArbC"),
}

#: The CCI classes whose share the class map re-assigns (shrubs and natural grass).
REFINED_CLASSES = ("SHRUBS-BE", "SHRUBS-BD", "SHRUBS-NE", "SHRUBS-ND", "GRASS-NAT")
#: Class-map refinement -> (LCCS codes, model PFT of the :data:`REFINED_CLASSES` share
#: there), in every climate zone (see the module docstring, which gives the reasons).
LCCS_REFINEMENTS: dict[str, tuple[tuple[int, ...], str]] = {
    "flooded": ((160, 170, 180), "WetV"),
    "lichens_and_mosses": ((140,), "TunV"),
}


@dataclass(frozen=True)
class ClimateZoneRules:
    """Latitude limits of the climate zones [degree of absolute latitude] (PROPOSED).

    Attributes
    ----------
    tropical_max_abs_latitude : tropical below this; 23.44 (the tropics).
    subtropical_max_abs_latitude : subtropical from the above to this; 30 (limit of C4
        grass dominance, Still et al. 2003).
    polar_min_abs_latitude : polar from this; 70 (the Eurasian tree line).
    """

    tropical_max_abs_latitude: float = 23.44
    subtropical_max_abs_latitude: float = 30.0
    polar_min_abs_latitude: float = 70.0


def climate_zone(lat: np.ndarray, rules: ClimateZoneRules | None = None) -> np.ndarray:
    """Climate-zone code (index into :data:`CLIMATE_ZONES`) of each latitude [degree]."""
    rules = ClimateZoneRules() if rules is None else rules
    absolute = np.abs(np.asarray(lat, dtype=np.float64))
    limits = [rules.tropical_max_abs_latitude, rules.subtropical_max_abs_latitude,
              rules.polar_min_abs_latitude]
    return np.searchsorted(limits, absolute, side="right").astype(np.int8)


def class_to_pft_matrix(refinement: str | None = None) -> np.ndarray:
    """(zone, CCI vegetation class, model PFT) 0/1 matrix of :data:`PFT_MAPPING`; with a
    ``refinement`` of :data:`LCCS_REFINEMENTS`, the :data:`REFINED_CLASSES` rows point to
    its PFT instead (the mapping in cells of its LCCS classes)."""
    matrix = np.zeros((len(CLIMATE_ZONES), len(VEGETATION_CLASSES), len(MODEL_PFTS)))
    for c, name in enumerate(VEGETATION_CLASSES):
        for zone, pft in enumerate(PFT_MAPPING[name]):
            target = (LCCS_REFINEMENTS[refinement][1]
                      if refinement is not None and name in REFINED_CLASSES else pft)
            matrix[zone, c, MODEL_PFTS.index(target)] = 1.0
    return matrix


# ------------------------------------------------------------------------------ reader
def read_cci_landcover(
    path: str | Path,
    bbox: BBox | None = None,
    zones: xr.DataArray | None = None,
    rules: ClimateZoneRules | None = None,
    lccs_path: str | Path | None = None,
) -> xr.Dataset:
    """Read a CCI Land Cover PFT file into model-PFT cover fractions.

    Parameters
    ----------
    path : an ``ESACCI-LC-L4-PFT-Map-300m-P1Y-*.nc`` file (global or a subset).
    bbox : (west, south, east, north) [degree]: read only cells whose centre lies inside
        (needed for the real global file: one class is 8.4 GB).
    zones : climate-zone codes (index into :data:`CLIMATE_ZONES`) over ``(lat, lon)``,
        taken at the nearest of its coordinates for each cell; default from latitude with
        ``rules``.
    rules : latitude limits of the default zones; default :class:`ClimateZoneRules` ().
    lccs_path : the companion CCI LC class map (same grid spacing; see
        :func:`tccas.catalog.cci_lccs.find_lccs_companion`), which refines the mapping by
        :data:`LCCS_REFINEMENTS`; each PFT cell takes the class of the class-map cell
        whose centre is nearest (within a quarter cell). None: the zone table alone.

    Returns
    -------
    xarray.Dataset
        ``pft_fraction`` (pft, lat, lon) [1] with ``pft`` = the 13 model PFT short names
        (BETHY code order), ``non_vegetated`` (lat, lon) [1] (bare, built, snow and ice,
        water), ``climate_zone`` (lat, lon); NaN where the cell has fill. Per valid cell
        ``pft_fraction.sum("pft") + non_vegetated == 1``. Coordinates ``lat``, ``lon``
        (cell centres) with ``lat_bounds``/``lon_bounds``; attributes ``source``,
        ``product``, ``year``, ``pft_mapping``,
        ``climate_rules`` (JSON) and ``lccs_source`` (the class map's file name, ``""``
        without one).

    Raises
    ------
    TccasInputError
        If the file cannot be read, lacks a class variable, has a variable of the wrong
        shape, irregular coordinates, percentages above 100, cells whose classes do not
        add up to 100, all cells fill, or bad ``zones``, or if the class map is bad
        (:func:`tccas.catalog.cci_lccs.read_lccs_map`) or has another grid spacing; the
        message names the file and the variable.
    """
    path = Path(path)
    window = check_bbox(bbox, str(path))
    with open_product(path) as nc:
        lat, lon, water = _layout(nc, path)
        lat_index, lon_index = ((slice(None), slice(None)) if window is None else
                                (axis_window(lat, window[1], window[3]),
                                 axis_window(lon, window[0], window[2])))
        percent = _percentages(nc, path, water, (0, lat_index, lon_index))
        year = map_year(nc)
    lat, lon = lat[lat_index], lon[lon_index]
    dlat = abs(regular_spacing(lat, "lat", str(path), RESOLUTION_DEG))
    dlon = abs(regular_spacing(lon, "lon", str(path), RESOLUTION_DEG))
    valid = np.all(np.isfinite(percent), axis=0)
    if not valid.any() and window is None:
        raise TccasInputError(f"{path}: every cell of '{VEGETATION_CLASSES[0]}' and the "
                              "other classes is fill")
    total = percent.sum(axis=0)
    _check_totals(path, total, valid, lat, lon)
    share = np.where(valid, percent / np.where(valid, total, 1.0), np.nan)
    zone = _zones(zones, lat, lon, rules, path)
    refinement = _refinements(lccs_path, window, lat, lon, dlat, path)
    n_veg = len(VEGETATION_CLASSES)
    vegetation = np.nan_to_num(share[:n_veg])
    fraction = np.zeros((len(MODEL_PFTS), lat.size, lon.size))
    for index, name in enumerate((None, *LCCS_REFINEMENTS)):
        for code, class_to_pft in enumerate(class_to_pft_matrix(name)):
            cells = (zone == code) & (refinement == index)
            if cells.any():
                fraction += np.einsum("cyx,cp->pyx", vegetation * cells, class_to_pft)
    fraction[:, ~valid] = np.nan
    non_vegetated = share[n_veg:].sum(axis=0)
    rules_used = ClimateZoneRules() if rules is None else rules
    return xr.Dataset(
        {
            "pft_fraction": (("pft", "lat", "lon"), fraction, {
                "units": "1", "long_name": "cover fraction of the model PFT in the cell"}),
            "non_vegetated": (("lat", "lon"), non_vegetated, {
                "units": "1", "long_name": "cover fraction of bare soil, built-up, "
                "permanent snow and ice, and water"}),
            "climate_zone": (("lat", "lon"), zone, {
                "flag_values": np.arange(len(CLIMATE_ZONES), dtype=np.int8),
                "flag_meanings": " ".join(CLIMATE_ZONES)}),
            "lat_bounds": (("lat", "bounds"), np.stack([lat - dlat / 2, lat + dlat / 2], 1)),
            "lon_bounds": (("lon", "bounds"), np.stack([lon - dlon / 2, lon + dlon / 2], 1)),
        },
        coords={
            "pft": ("pft", list(MODEL_PFTS)),
            "lat": ("lat", lat, {"units": "degrees_north", "bounds": "lat_bounds"}),
            "lon": ("lon", lon, {"units": "degrees_east", "bounds": "lon_bounds"}),
        },
        attrs={
            "source": path.name,
            "product": PRODUCT,
            "year": year,
            "reader": f"{__name__}.read_cci_landcover",
            "pft_mapping": json.dumps({"zones": CLIMATE_ZONES, "classes": PFT_MAPPING,
                                       "lccs_refinements": LCCS_REFINEMENTS,
                                       "refined_classes": REFINED_CLASSES}),
            "climate_rules": ("zones given by the caller" if zones is not None
                              else json.dumps(asdict(rules_used), sort_keys=True)),
            "lccs_source": "" if lccs_path is None else Path(lccs_path).name,
        },
    )


def aggregate_pft_fractions(fractions: xr.Dataset, grid: Grid) -> xr.Dataset:
    """Area-weighted mean of PFT fractions over the cells of a model grid.

    Every valid source cell (a lat/lon rectangle from ``lat_bounds``/``lon_bounds``) is
    intersected with the grid cells by exact area overlap on the ellipsoid
    (:func:`tccas.operators.footprint.quad_weights`); a grid cell's fraction is
    ``sum_i f_i A_ij / sum_i A_ij`` over the valid source cells i, A_ij the overlap area.
    So area-weighted totals are conserved: ``sum_j F_j sum_i A_ij = sum_i f_i A_i`` for
    source cells inside the grid.

    Parameters
    ----------
    fractions : the output of :func:`read_cci_landcover`.
    grid : the model grid (:func:`tccas.catalog.grid.latlon_grid` or ``laea_grid``).

    Returns
    -------
    xarray.Dataset
        ``pft_fraction`` (pft, y, x) and ``non_vegetated`` (y, x) [1], NaN in grid cells
        no valid source cell touches; ``coverage`` (y, x) [1], the fraction of each grid
        cell's area covered by valid source cells. Coordinates ``y``, ``x`` (grid cell
        centres, grid CRS units); attributes ``crs_wkt``, ``GeoTransform`` and ``source``.
    """
    lat = fractions["lat"].values
    lon = fractions["lon"].values
    lat_grid, lon_grid = np.meshgrid(lat, lon, indexing="ij")
    values = np.concatenate([fractions["pft_fraction"].values,
                             fractions["non_vegetated"].values[None]], axis=0)
    valid = np.all(np.isfinite(values), axis=0).ravel()
    half_dlat = 0.5 * np.abs(np.diff(fractions["lat_bounds"].values, axis=1)).ravel()
    half_dlon = 0.5 * np.abs(np.diff(fractions["lon_bounds"].values, axis=1)).ravel()
    corner_lat, corner_lon = latlon_cell_corners(
        lat_grid.ravel()[valid], lon_grid.ravel()[valid],
        np.broadcast_to(half_dlat[:, None], lat_grid.shape).ravel()[valid],
        np.broadcast_to(half_dlon[None, :], lat_grid.shape).ravel()[valid],
    )
    weights = quad_weights(grid, corner_lon, corner_lat)
    overlap = weights.weights.multiply(weights.footprint_area_m2[:, None]).tocsc()
    covered = np.asarray(overlap.sum(axis=0)).ravel()
    sums = overlap.T @ values.reshape(values.shape[0], -1)[:, valid].T
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(covered[:, None] > 0, sums / covered[:, None], np.nan)
    mean = mean.T.reshape(values.shape[0], *grid.shape)
    return xr.Dataset(
        {
            "pft_fraction": (("pft", "y", "x"), mean[:-1], {"units": "1"}),
            "non_vegetated": (("y", "x"), mean[-1], {"units": "1"}),
            "coverage": (("y", "x"), (covered / grid.cell_area().ravel()).reshape(grid.shape),
                         {"units": "1", "long_name": "fraction of the cell area covered "
                          "by valid land-cover cells"}),
        },
        coords={"pft": fractions["pft"].values, "y": grid.y, "x": grid.x},
        attrs={
            "crs_wkt": grid.crs.to_wkt(),
            "GeoTransform": " ".join(repr(v) for v in grid.transform),
            "source": fractions.attrs.get("source", ""),
            "aggregation": "area-weighted mean over valid source cells",
        },
    )


def inspect_cci_landcover(path: str | Path) -> dict:
    """Summarise a CCI Land Cover PFT file, scanning it block by block.

    Parameters
    ----------
    path : an ``ESACCI-LC-L4-PFT-Map-300m-P1Y-*.nc`` file.

    Returns
    -------
    dict
        ``file``, ``product``, ``year``, ``grid_shape`` ((n_lat, n_lon)), ``n_records``
        (cells), ``time_start``/``time_end`` (1 January and 31 December of the year) and
        ``streams``: ``{"pft_fraction": {"n_valid": cells without fill, "n_after_qc":
        valid cells whose classes add up to 100 within the tolerance}}``.

    Raises
    ------
    TccasInputError
        If the file cannot be read or lacks a class variable.
    """
    path = Path(path)
    n_valid = n_after_qc = 0
    with open_product(path) as nc:
        lat, lon, water = _layout(nc, path)
        for rows in row_blocks(lat.size, lon.size):
            percent = _percentages(nc, path, water, (0, rows, slice(None)))
            valid = np.all(np.isfinite(percent), axis=0)
            n_valid += int(valid.sum())
            off = np.abs(percent.sum(axis=0) - 100.0) > TOTAL_TOLERANCE_PERCENT
            n_after_qc += int((valid & ~off).sum())
        year = map_year(nc)
    return annual_map_summary(path, PRODUCT, year, (lat.size, lon.size),
                              {"pft_fraction": {"n_valid": n_valid, "n_after_qc": n_after_qc}})


# ------------------------------------------------------------------------------ writer
def cci_landcover_file_name(year: int, version: str = "2.0.8") -> str:
    """The CCI LC PFT file name of a year, e.g. ``ESACCI-LC-L4-PFT-Map-300m-P1Y-2018-v2.0.8.nc``."""
    return f"ESACCI-LC-L4-PFT-Map-300m-P1Y-{year:04d}-v{version}.nc"


def write_cci_landcover(
    path: str | Path,
    percentages: Mapping[str, np.ndarray],
    lat: np.ndarray,
    lon: np.ndarray,
    year: int,
) -> Path:
    """Write a CCI Land Cover PFT file (the layout of the module docstring).

    Parameters
    ----------
    path : the file to create (overwritten); see :func:`cci_landcover_file_name`.
    percentages : (lat, lon) percentage cover [0-100] of each class of
        :data:`VEGETATION_CLASSES`, :data:`NON_VEGETATED_CLASSES` and ``WATER_INLAND``,
        ``WATER_OCEAN`` (rounded to integers on writing, as uint8); NaN is written as the
        fill 255. ``WATER`` and ``LAND`` are derived.
    lat, lon : (n_lat,), (n_lon,) cell centres [degree], regular (1/360 degree in the real
        product; north to south as written).
    year : the map year (``time`` = 1 January of it).

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    TccasInputError
        If a class is missing, a field has the wrong shape or a value lies outside 0-100.
    """
    path = Path(path)
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    shape = (lat.size, lon.size)
    names = (*VEGETATION_CLASSES, *NON_VEGETATED_CLASSES, *WATER_PARTS)
    missing = [name for name in names if name not in percentages]
    if missing:
        raise TccasInputError(f"CCI LC writer ({path}): percentages lack {', '.join(missing)}")
    fields = {}
    for name in names:
        values = np.asarray(percentages[name], dtype=np.float64)
        if values.shape != shape:
            raise TccasInputError(f"CCI LC writer ({path}): '{name}' has shape "
                                  f"{values.shape}, expected {shape} (lat, lon)")
        if np.any((values < 0) | (values > 100)):
            raise TccasInputError(f"CCI LC writer ({path}): '{name}' holds values outside "
                                  "0-100 percent")
        fields[name] = values
    fields["WATER"] = fields["WATER_INLAND"] + fields["WATER_OCEAN"]
    fields["LAND"] = 100.0 - fields["WATER_OCEAN"]
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        nc.setncatts({
            "title": "ESA CCI Land Cover PFT map (TCCAS format writer)",
            "product_version": "2.0.8",
            "spatial_resolution": "300m",
            "time_coverage_start": f"{year:04d}0101",
            "time_coverage_end": f"{year:04d}1231",
        })
        write_annual_latlon_frame(nc, lat, lon, year, "i4")
        for name, values in fields.items():
            variable = nc.createVariable(name, "u1", ("time", "lat", "lon"), zlib=True,
                                         fill_value=PERCENT_FILL)
            variable.setncatts({"long_name": CLASS_LONG_NAMES[name], "units": "percent",
                                "grid_mapping": "crs",
                                "description": f"Percentage cover of {CLASS_LONG_NAMES[name]}"
                                               " in the 300 m pixel."})
            variable[0] = np.where(np.isfinite(values), np.round(values), PERCENT_FILL)
    return path


# ---------------------------------------------------------------------------- helpers
def _layout(nc: netCDF4.Dataset, path: Path) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Check the class variables; return lat, lon and the water variable name(s) to use."""
    water = ("WATER",) if "WATER" in nc.variables else WATER_PARTS
    wanted = ("lat", "lon", *VEGETATION_CLASSES, *NON_VEGETATED_CLASSES, *water)
    missing = [name for name in wanted if name not in nc.variables]
    if missing:
        raise TccasInputError(f"{path}: not a CCI Land Cover PFT file: variable(s) "
                              f"{', '.join(missing)} missing")
    lat = nc["lat"][:].astype(np.float64)
    lon = nc["lon"][:].astype(np.float64)
    for name in wanted[2:]:
        shape = nc[name].shape
        if len(shape) != 3 or shape[1:] != (lat.size, lon.size) or shape[0] < 1:
            raise TccasInputError(f"{path}: variable '{name}' has shape {shape}, expected "
                                  f"(1, {lat.size}, {lon.size}) (time, lat, lon)")
    return lat, lon, water


def _percentages(nc: netCDF4.Dataset, path: Path, water: tuple[str, ...],
                 index: tuple) -> np.ndarray:
    """(class, lat, lon) percentages: vegetation classes, bare, built, snow/ice, water."""
    classes = [decode_floats(nc[name], index)
               for name in (*VEGETATION_CLASSES, *NON_VEGETATED_CLASSES)]
    classes.append(sum(decode_floats(nc[name], index) for name in water))
    percent = np.stack(classes)
    above = np.nan_to_num(percent, nan=0.0) > 100.0
    if above.any():
        name = (*VEGETATION_CLASSES, *NON_VEGETATED_CLASSES, "+".join(water))[
            int(np.argwhere(above)[0][0])]
        raise TccasInputError(f"{path}: variable '{name}' holds "
                              f"{np.nanmax(percent[above]):g} percent, above 100")
    return percent


def _check_totals(path: Path, total: np.ndarray, valid: np.ndarray, lat: np.ndarray,
                  lon: np.ndarray) -> None:
    """Raise naming the first valid cell whose class percentages do not add up to 100."""
    off = valid & (np.abs(total - 100.0) > TOTAL_TOLERANCE_PERCENT)
    if off.any():
        i, j = np.argwhere(off)[0]
        raise TccasInputError(
            f"{path}: the class percentages of the cell at lat {lat[i]:.5f}, lon "
            f"{lon[j]:.5f} add up to {total[i, j]:g}, not 100 (+-{TOTAL_TOLERANCE_PERCENT})"
        )


def _refinements(lccs_path: str | Path | None, window: BBox | None, lat: np.ndarray,
                 lon: np.ndarray, spacing: float, path: Path) -> np.ndarray:
    """(lat, lon) index into ``(None, *LCCS_REFINEMENTS)`` of each cell: 0 where the class
    map is absent, does not cover the cell, or gives a class without refinement."""
    index = np.zeros((lat.size, lon.size), dtype=np.int8)
    if lccs_path is None:
        return index
    classes = read_lccs_map(lccs_path, bbox=window)
    if abs(classes.attrs["resolution_deg"] - spacing) > 1e-3 * spacing:
        raise TccasInputError(
            f"{lccs_path}: variable 'lccs_class' has a {classes.attrs['resolution_deg']:.6g} "
            f"degree grid, the PFT file {path.name} {spacing:.6g} degree; the class map "
            "must be on the grid of the PFT file")
    on_cells = classes.reindex(lat=lat, lon=lon, method="nearest", tolerance=0.25 * spacing,
                               fill_value=NO_DATA).values
    for number, (codes, _) in enumerate(LCCS_REFINEMENTS.values(), start=1):
        index[np.isin(on_cells, codes)] = number
    return index


def _zones(zones: xr.DataArray | None, lat: np.ndarray, lon: np.ndarray,
           rules: ClimateZoneRules | None, path: Path) -> np.ndarray:
    """(lat, lon) climate-zone codes: from the caller's map or from latitude."""
    if zones is None:
        return np.broadcast_to(climate_zone(lat, rules)[:, None], (lat.size, lon.size)).copy()
    if set(zones.dims) != {"lat", "lon"}:
        raise TccasInputError(f"{path}: zones must have dimensions (lat, lon), got "
                              f"{zones.dims}")
    picked = zones.sel(lat=xr.DataArray(lat, dims="lat"), lon=xr.DataArray(lon, dims="lon"),
                       method="nearest").transpose("lat", "lon").values
    if not np.all(np.isin(picked, np.arange(len(CLIMATE_ZONES)))):
        raise TccasInputError(f"{path}: zones hold codes outside 0..{len(CLIMATE_ZONES) - 1} "
                              f"({', '.join(CLIMATE_ZONES)})")
    return picked.astype(np.int8)
