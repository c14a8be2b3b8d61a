"""Synthetic landscapes: ESA CCI Land Cover PFT percentages and LCCS classes around the
built-in sites.

A landscape is a raster of CCI-LC class percentages (the classes of
:mod:`tccas.catalog.cci_landcover`) and of LCCS class codes (the companion class map,
:mod:`tccas.catalog.cci_lccs`) built from the synthetic relief
(:func:`tccas.catalog.synth_fields.elevation_raster`) and smooth random fields
(:class:`tccas.catalog.synth_fields.SmoothField`) of two scales: a landscape scale
(tens of km: woodland vs open land, cropland plains) and a patch scale (a few km: the
mosaic). So it is spatially structured, never white noise. Every rule below is PROPOSED
from the regional land cover, and written so that the cell of the tower has the site's
own mixture (:data:`tccas.catalog.sites.SITES`): around the tower the landscape blends
into the site composition within :data:`SITE_BLEND_KM`.

* **Majadas (dehesa, Iberia):** holm-oak savannah, broadleaved evergreen trees
  (``TREES-BE``, TmEv) at 15-35 % cover over natural grass (``GRASS-NAT``, C3Gr), denser
  woodland patches, managed grass and crops (``GRASS-MAN``, ArbC) on the lowland plains,
  evergreen shrubland (``SHRUBS-BE``, EShr) on the hills, pine (``TREES-NE``, EvCn) above
  900 m and rock above 1800 m (Sierra de Gredos), reservoirs as inland water.
* **Sodankyla (Lapland):** every pixel is one of four landscape units (the pixel is as
  fine as a few hundred metres, the scale of the mosaic of boreal pine heath and mire):
  pine heath (Scots pine, ``TREES-NE`` 45-65 %, with a dwarf-shrub understorey,
  ``SHRUBS-BE``: Vaccinium, Empetrum, Calluna), mires (aapa and pine mires: sedges and
  Sphagnum as ``GRASS-NAT`` 65 %, dwarf shrubs 35 % of the open part, pines at 2-30 %
  cover; LCCS 180 flooded shrub or herbaceous cover, 160 flooded tree cover where the
  pines reach 15 %), treeless fells above the tree line (dwarf shrubs 50 %, lichens,
  mosses and graminoids as ``GRASS-NAT`` 30 %, rock 20 %; LCCS 140 lichens and mosses) and
  lakes. Read with the class map (:data:`tccas.catalog.cci_landcover.LCCS_REFINEMENTS`)
  that gives the mixture EvCn, EShr, TunV and WetV. Mires take about 30 % of the land
  outside the fells, after the third of northern Finland's land that peatlands cover
  (Seppa 2002; Vasander et al. 2003), on low ground more than on high. The tree line
  descends northwards, :data:`TREE_LINE_M` at :data:`TREE_LINE_LATITUDE` and
  :data:`TREE_LINE_DESCENT_M_PER_DEGREE` lower per degree further north (PROPOSED: the
  forest limit of Finnish Lapland lies at roughly 450-550 m on the fells south of 68 N
  and near 300 m towards the Arctic coast at 70 N); on the synthetic relief that makes
  the fells about a third of the 500 km Lapland box, most of its northern part. Birch
  (``TREES-BD``) and grassland are left out: the TCCAS FI-Sod set-up has neither.
* **Reusel (North Brabant):** arable land (``GRASS-MAN``), grassland (``GRASS-NAT``),
  pine and oak woodlots (``TREES-NE``, ``TREES-BD``), villages (``BUILT``).

LCCS classes (:func:`lccs_classes`, PROPOSED): the class of each pixel follows its
percentages by the thresholds of the LCCS legend (ESA 2017, PUG v2.0: tree classes from
15 % tree cover, sparse vegetation below 15 % vegetation cover), with the site rule's
wetland and tundra units marking the flooded (160, 180) and lichen-and-moss (140)
classes. Only Lapland has such units, so the class map changes nothing in the PFT
fractions of Majadas and Reusel.

Resolution: the CCI product's 1/360 degree (300 m) when the box holds at most
:data:`MAX_LANDSCAPE_PIXELS` pixels, else the finest coarser step that divides 0.25
degree (1/180, 1/120, 1/90, ... degree; PROPOSED for speed: a 500 km box at 67 N holds
6.7 million 300 m pixels, whose aggregation would dominate the generator's run time).
Percentages are integers summing to exactly 100 in every pixel (largest-remainder
rounding).

References
----------
Moreno, G. and Pulido, F. J. (2009): The functioning, management and persistence of
dehesas. In: Agroforestry in Europe, Springer, 127-160, doi:10.1007/978-1-4020-8272-6_7.
ESA Land Cover CCI Product User Guide v2.0 (2017) and the PFT dataset of Harper et al.
(2023), Earth Syst. Sci. Data 15, 1465-1499, doi:10.5194/essd-15-1465-2023.
Seppa, H. (2002): Mires of Finland: regional and local controls of vegetation,
landforms, and long-term dynamics. Fennia 180, 43-60.
Vasander, H. et al. (2003): Status and restoration of peatlands in northern Europe.
Wetlands Ecol. Manage. 11, 51-63.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tccas.catalog.cci_landcover import (
    NON_VEGETATED_CLASSES,
    RESOLUTION_DEG,
    VEGETATION_CLASSES,
    WATER_PARTS,
)
from tccas.catalog.sites import Site
from tccas.catalog.synth_fields import SmoothField, elevation_raster, plane_km

CLASSES = (*VEGETATION_CLASSES, *NON_VEGETATED_CLASSES, *WATER_PARTS)
MAX_LANDSCAPE_PIXELS = 1_000_000
#: [km] e-folding distance over which the landscape blends into the site's mixture.
SITE_BLEND_KM = 12.0
#: Lapland tree line (module docstring, PROPOSED): [degree N] reference latitude, [m] the
#: tree line there, [m per degree] its descent northwards.
TREE_LINE_LATITUDE = 67.4
TREE_LINE_M = 540.0
TREE_LINE_DESCENT_M_PER_DEGREE = 80.0
#: [m] width of the logistic transition of a landscape unit across its elevation limit.
_TRANSITION_M = 30.0
_STEPS_PER_QUARTER_DEGREE = (120, 90, 45, 30, 18, 15, 10, 9, 6, 5, 3, 2, 1)

#: Site PFT -> the CCI class that stands for it at the tower (inverse of the reader's
#: mapping in the temperate/boreal zone).
_SITE_CLASS = {"TmEv": "TREES-BE", "C3Gr": "GRASS-NAT", "EvCn": "TREES-NE",
               "EShr": "SHRUBS-BE", "ArbC": "GRASS-MAN", "TmSg": "TREES-BD",
               "DShr": "SHRUBS-BD", "SgCn": "TREES-ND"}


@dataclass(frozen=True)
class Landscape:
    """Class percentages on a lat/lon raster.

    Attributes
    ----------
    lat, lon : (n_lat,), (n_lon,) [degree] pixel centres, latitude north to south.
    percentages : class name -> (n_lat, n_lon) integer percentages (sum 100 per pixel).
    lccs_class : (n_lat, n_lon) uint8 LCCS class codes of the pixels (:func:`lccs_classes`).
    elevation : (n_lat, n_lon) [m] the relief the landscape was built on.
    """

    lat: np.ndarray
    lon: np.ndarray
    percentages: dict[str, np.ndarray]
    lccs_class: np.ndarray
    elevation: np.ndarray


@dataclass(frozen=True)
class _Cover:
    """A site rule's result: class weights (any positive scale per pixel) and the pixels
    of its wetland and tundra units (bool), None where the site has none."""

    weights: dict[str, np.ndarray]
    wetland: np.ndarray | None = None
    tundra: np.ndarray | None = None


def landscape_step(west: float, south: float, east: float, north: float,
                   finest: float = RESOLUTION_DEG) -> float:
    """[degree] pixel size of the landscape of a box (see the module docstring): the
    finest step of at least ``finest`` [degree] (the product's pixel, by default the CCI
    Land Cover 1/360 degree) that divides 0.25 degree and keeps the box within
    :data:`MAX_LANDSCAPE_PIXELS`."""
    for per_quarter in _STEPS_PER_QUARTER_DEGREE:
        step = 0.25 / per_quarter
        n = np.ceil((north - south) / step) * np.ceil((east - west) / step)
        if step >= finest * (1.0 - 1e-9) and n <= MAX_LANDSCAPE_PIXELS:
            return step
    return 0.25


def landscape_raster(west: float, south: float, east: float, north: float,
                     finest: float = RESOLUTION_DEG) -> tuple[np.ndarray, np.ndarray]:
    """Pixel centres (lat north to south, lon) of the landscape covering the box, the
    pixel edges on multiples of the step (:func:`landscape_step`, so pixels nest in 0.25
    degree cells)."""
    step = landscape_step(west, south, east, north, finest)
    lat_edges = np.arange(np.floor(south / step), np.ceil(north / step) + 1) * step
    lon_edges = np.arange(np.floor(west / step), np.ceil(east / step) + 1) * step
    lat = 0.5 * (lat_edges[1:] + lat_edges[:-1])[::-1]
    lon = 0.5 * (lon_edges[1:] + lon_edges[:-1])
    return np.round(lat, 9), np.round(lon, 9)


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _field(seed: int, site: Site, name: str, length_km: float, lat: np.ndarray,
           lon: np.ndarray) -> np.ndarray:
    field = SmoothField.create(seed, f"landscape-{site.name}-{name}", length_km,
                               site.longitude, site.latitude)
    return field.raster(lat, lon)


def _majadas(f: dict[str, np.ndarray], z: np.ndarray, lat: np.ndarray,
             near: np.ndarray) -> _Cover:
    woodland = _logistic(1.5 * f["wood"] + 0.8 * f["patch"])
    crops = _logistic(2.0 * f["plain"] - 1.0 - (z - 400.0) / 250.0)
    shrubs = _logistic(1.5 * f["hill"] + (z - 700.0) / 300.0 - 0.5)
    pine = _logistic((z - 900.0) / 150.0 + 0.8 * f["patch"])
    rock = _logistic((z - 1800.0) / 100.0)
    water = (f["water"] > 2.2).astype(float)
    trees = 0.2 + 0.5 * woodland
    natural = (1.0 - crops) * (1.0 - rock) * (1.0 - water)
    return _Cover({
        "TREES-BE": natural * (1.0 - pine) * (1.0 - shrubs) * trees,
        "TREES-NE": natural * pine * 0.6,
        "SHRUBS-BE": natural * (1.0 - pine) * shrubs * 0.5,
        "GRASS-NAT": natural * ((1.0 - pine) * (1.0 - shrubs) * (1.0 - trees)
                                + (1.0 - pine) * shrubs * 0.5 + pine * 0.4),
        "GRASS-MAN": crops * (1.0 - rock) * (1.0 - water) * 0.97,
        "BUILT": crops * (1.0 - rock) * (1.0 - water) * 0.03,
        "BARE": rock * (1.0 - water),
        "WATER_INLAND": water,
    })


def _sodankyla(f: dict[str, np.ndarray], z: np.ndarray, lat: np.ndarray,
               near: np.ndarray) -> _Cover:
    """Pine heath, mire, fell or lake per pixel (module docstring); the fell and mire
    units give way to pine heath near the tower (``near``, the blend weight)."""
    tree_line = TREE_LINE_M - TREE_LINE_DESCENT_M_PER_DEGREE * (lat - TREE_LINE_LATITUDE)
    water = f["water"] > 2.0
    fell = ~water & (_logistic((z - tree_line) / _TRANSITION_M) * (1.0 - near) > 0.5)
    wet = _logistic(1.5 * f["mire"] - 0.3 + 0.6 * f["patch"] - (z - 300.0) / 300.0)
    mire = ~water & ~fell & (wet * (1.0 - near) > 0.5)
    forest = ~(water | fell | mire)
    pine = 0.45 + 0.2 * _logistic(f["wood"])
    mire_pine = 0.02 + 0.28 * _logistic(2.0 * f["wood"] - 1.5)
    return _Cover({
        "TREES-NE": forest * pine + mire * mire_pine,
        "SHRUBS-BE": forest * (1.0 - pine) + mire * 0.35 * (1.0 - mire_pine) + fell * 0.5,
        "GRASS-NAT": mire * 0.65 * (1.0 - mire_pine) + fell * 0.3,
        "BARE": fell * 0.2,
        "WATER_INLAND": water.astype(float),
    }, wetland=mire, tundra=fell)


def _reusel(f: dict[str, np.ndarray], z: np.ndarray, lat: np.ndarray,
            near: np.ndarray) -> _Cover:
    wood = _logistic(1.5 * f["wood"] + f["patch"] - 0.8)
    town = _logistic(2.0 * f["hill"] - 3.0)
    water = (f["water"] > 2.5).astype(float)
    open_land = (1.0 - wood) * (1.0 - town) * (1.0 - water)
    return _Cover({
        "GRASS-MAN": open_land * 0.6,
        "GRASS-NAT": open_land * 0.4,
        "TREES-NE": wood * (1.0 - town) * (1.0 - water) * 0.55,
        "TREES-BD": wood * (1.0 - town) * (1.0 - water) * 0.45,
        "BUILT": town * (1.0 - water),
        "WATER_INLAND": water,
    })


_RULES = {"majadas": _majadas, "sodankyla": _sodankyla, "reusel": _reusel}


def _largest_remainder(shares: np.ndarray) -> np.ndarray:
    """Integer percentages (class, pixel) summing to 100 from shares summing to 1."""
    scaled = 100.0 * shares
    floor = np.floor(scaled)
    missing = (100 - floor.sum(axis=0)).astype(np.int64)
    order = np.argsort(-(scaled - floor), axis=0, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(shares.shape[0])[:, None], axis=0)
    return (floor + (rank < missing[None, :])).astype(np.int16)


def lccs_classes(percentages: dict[str, np.ndarray], wetland: np.ndarray | None = None,
                 tundra: np.ndarray | None = None) -> np.ndarray:
    """LCCS class codes of pixels from their CCI class percentages (module docstring).

    The first rule that holds decides: water, permanent snow and ice, built-up at 50 %
    or more (210, 220, 190); a wetland pixel: flooded tree cover (160) from 15 % trees,
    else flooded shrub or herbaceous cover (180); a tundra pixel: lichens and mosses
    (140); vegetation below 4 %: bare areas (200), below 15 %: sparse vegetation (150);
    managed grass at 50 % or more: rainfed cropland (10), at 20 %: mosaic natural
    vegetation / cropland (40); trees from 15 %: the tree class of the dominant leaf type
    and phenology (50, 60, 70, 80); shrubs at least as much as grass: evergreen or
    deciduous shrubland (121, 122); else grassland (130).

    Parameters
    ----------
    percentages : class name -> percentages [0-100] of every class of :data:`CLASSES`.
    wetland, tundra : bool masks of the pixels of wetland and tundra units; None: none.

    Returns
    -------
    numpy.ndarray
        uint8 codes of :data:`tccas.catalog.cci_lccs.LCCS_LEGEND`, the pixels' shape.
    """
    p = {name: np.asarray(percentages[name], dtype=np.float64) for name in CLASSES}
    trees = np.stack([p[name] for name in ("TREES-BE", "TREES-BD", "TREES-NE", "TREES-ND")])
    evergreen_shrubs = p["SHRUBS-BE"] + p["SHRUBS-NE"]
    shrubs = evergreen_shrubs + p["SHRUBS-BD"] + p["SHRUBS-ND"]
    vegetation = trees.sum(axis=0) + shrubs + p["GRASS-NAT"] + p["GRASS-MAN"]
    no = np.zeros(vegetation.shape, dtype=bool)
    wet = no if wetland is None else wetland
    cold = no if tundra is None else tundra
    tree_total = trees.sum(axis=0)
    rules = [
        (p["WATER_INLAND"] + p["WATER_OCEAN"] >= 50.0, 210),
        (p["SNOWICE"] >= 50.0, 220),
        (p["BUILT"] >= 50.0, 190),
        (wet & (tree_total >= 15.0), 160),
        (wet, 180),
        (cold, 140),
        (vegetation < 4.0, 200),
        (vegetation < 15.0, 150),
        (p["GRASS-MAN"] >= 50.0, 10),
        (p["GRASS-MAN"] >= 20.0, 40),
        (tree_total >= 15.0, np.array([50, 60, 70, 80])[np.argmax(trees, axis=0)]),
        (shrubs >= p["GRASS-NAT"], np.where(evergreen_shrubs >= shrubs - evergreen_shrubs,
                                            121, 122)),
    ]
    return np.select([condition for condition, _ in rules], [code for _, code in rules],
                     default=130).astype(np.uint8)


def synthetic_landscape(site: Site, seed: int, west: float, south: float, east: float,
                        north: float) -> Landscape:
    """The landscape of ``site``'s region covering the box [degree] (module docstring)."""
    lat, lon = landscape_raster(west, south, east, north)
    z = elevation_raster(site, seed, lat, lon)
    fields = {name: _field(seed, site, name, length, lat, lon)
              for name, length in (("wood", 25.0), ("plain", 40.0), ("hill", 15.0),
                                   ("patch", 2.5), ("water", 3.0), ("mire", 10.0))}
    east_km, north_km = plane_km(*np.meshgrid(lon, lat), site.longitude, site.latitude)
    blend = np.exp(-np.hypot(east_km, north_km) / SITE_BLEND_KM)
    cover = _RULES[site.name](fields, z, lat[:, None], blend)
    stack = np.array([np.maximum(cover.weights.get(name, np.zeros(z.shape)), 0.0)
                      for name in CLASSES])
    tower = np.zeros(len(CLASSES))
    for pft, fraction in site.pfts:
        tower[CLASSES.index(_SITE_CLASS[pft])] += fraction
    total = stack.sum(axis=0)
    shares = ((1.0 - blend) * stack / np.where(total > 0, total, 1.0)
              + blend * tower[:, None, None])
    percent = _largest_remainder(shares.reshape(len(CLASSES), -1)).reshape(stack.shape)
    percentages = {name: percent[i] for i, name in enumerate(CLASSES)}
    return Landscape(lat=lat, lon=lon, percentages=percentages,
                     lccs_class=lccs_classes(percentages, cover.wetland, cover.tundra),
                     elevation=z)
