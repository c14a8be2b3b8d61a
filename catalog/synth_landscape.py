"""Synthetic landscapes: ESA CCI Land Cover PFT percentages around the built-in sites.

A landscape is a raster of CCI-LC class percentages (the classes of
:mod:`tccas.catalog.cci_landcover`) built from the synthetic relief
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
* **Sodankyla (Lapland):** Scots pine forest (``TREES-NE``, EvCn) with an evergreen dwarf
  shrub understorey (``SHRUBS-BE``, EShr), birch (``TREES-BD``, TmSg), open mires
  (``GRASS-NAT``) and treeless fells above about 400 m with dwarf shrubs, grass and
  rock, lakes.
* **Reusel (North Brabant):** arable land (``GRASS-MAN``), grassland (``GRASS-NAT``),
  pine and oak woodlots (``TREES-NE``, ``TREES-BD``), villages (``BUILT``).

The class-to-PFT mapping is the CCI-LC reader's (:data:`tccas.catalog.cci_landcover.
PFT_MAPPING`, climate zones by latitude): Lapland's shrubs and mire grass become EShr and
C3Gr there; the tundra (TunV) and wetland (WetV) PFTs are not reachable from the CCI PFT
classes with the latitude zones of that reader.

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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tccas.catalog.cci_landcover import NON_VEGETATED_CLASSES, VEGETATION_CLASSES, WATER_PARTS
from tccas.catalog.sites import Site
from tccas.catalog.synth_fields import SmoothField, elevation_raster, plane_km

CLASSES = (*VEGETATION_CLASSES, *NON_VEGETATED_CLASSES, *WATER_PARTS)
MAX_LANDSCAPE_PIXELS = 1_000_000
#: [km] e-folding distance over which the landscape blends into the site's mixture.
SITE_BLEND_KM = 12.0
_STEPS_PER_QUARTER_DEGREE = (90, 45, 30, 18, 15, 10, 9, 6, 5, 3, 2, 1)

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
    elevation : (n_lat, n_lon) [m] the relief the landscape was built on.
    """

    lat: np.ndarray
    lon: np.ndarray
    percentages: dict[str, np.ndarray]
    elevation: np.ndarray


def landscape_step(west: float, south: float, east: float, north: float) -> float:
    """[degree] pixel size of the landscape of a box (see the module docstring)."""
    for per_quarter in _STEPS_PER_QUARTER_DEGREE:
        step = 0.25 / per_quarter
        n = np.ceil((north - south) / step) * np.ceil((east - west) / step)
        if n <= MAX_LANDSCAPE_PIXELS:
            return step
    return 0.25


def landscape_raster(west: float, south: float, east: float, north: float
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Pixel centres (lat north to south, lon) of the landscape covering the box, the
    pixel edges on multiples of the step (so pixels nest in 0.25 degree cells)."""
    step = landscape_step(west, south, east, north)
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


def _majadas(f: dict[str, np.ndarray], z: np.ndarray) -> dict[str, np.ndarray]:
    woodland = _logistic(1.5 * f["wood"] + 0.8 * f["patch"])
    crops = _logistic(2.0 * f["plain"] - 1.0 - (z - 400.0) / 250.0)
    shrubs = _logistic(1.5 * f["hill"] + (z - 700.0) / 300.0 - 0.5)
    pine = _logistic((z - 900.0) / 150.0 + 0.8 * f["patch"])
    rock = _logistic((z - 1800.0) / 100.0)
    water = (f["water"] > 2.2).astype(float)
    trees = 0.2 + 0.5 * woodland
    natural = (1.0 - crops) * (1.0 - rock) * (1.0 - water)
    return {
        "TREES-BE": natural * (1.0 - pine) * (1.0 - shrubs) * trees,
        "TREES-NE": natural * pine * 0.6,
        "SHRUBS-BE": natural * (1.0 - pine) * shrubs * 0.5,
        "GRASS-NAT": natural * ((1.0 - pine) * (1.0 - shrubs) * (1.0 - trees)
                                + (1.0 - pine) * shrubs * 0.5 + pine * 0.4),
        "GRASS-MAN": crops * (1.0 - rock) * (1.0 - water) * 0.97,
        "BUILT": crops * (1.0 - rock) * (1.0 - water) * 0.03,
        "BARE": rock * (1.0 - water),
        "WATER_INLAND": water,
    }


def _sodankyla(f: dict[str, np.ndarray], z: np.ndarray) -> dict[str, np.ndarray]:
    fell = _logistic((z - 400.0) / 40.0)
    mire = _logistic(1.8 * f["plain"] - 1.2 + 0.6 * f["patch"]) * (1.0 - fell)
    water = (f["water"] > 2.0).astype(float)
    forest = (1.0 - fell) * (1.0 - mire) * (1.0 - water)
    pine = 0.45 + 0.2 * _logistic(f["wood"])
    return {
        "TREES-NE": forest * pine,
        "TREES-BD": forest * 0.05 + mire * 0.03,
        "SHRUBS-BE": forest * (0.95 - pine) * 0.7 + fell * 0.5 + mire * 0.3,
        "GRASS-NAT": forest * (0.95 - pine) * 0.3 + fell * 0.3 + mire * 0.67,
        "BARE": fell * 0.2,
        "WATER_INLAND": water,
    }


def _reusel(f: dict[str, np.ndarray], z: np.ndarray) -> dict[str, np.ndarray]:
    wood = _logistic(1.5 * f["wood"] + f["patch"] - 0.8)
    town = _logistic(2.0 * f["hill"] - 3.0)
    water = (f["water"] > 2.5).astype(float)
    open_land = (1.0 - wood) * (1.0 - town) * (1.0 - water)
    return {
        "GRASS-MAN": open_land * 0.6,
        "GRASS-NAT": open_land * 0.4,
        "TREES-NE": wood * (1.0 - town) * (1.0 - water) * 0.55,
        "TREES-BD": wood * (1.0 - town) * (1.0 - water) * 0.45,
        "BUILT": town * (1.0 - water),
        "WATER_INLAND": water,
    }


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


def synthetic_landscape(site: Site, seed: int, west: float, south: float, east: float,
                        north: float) -> Landscape:
    """The landscape of ``site``'s region covering the box [degree] (module docstring)."""
    lat, lon = landscape_raster(west, south, east, north)
    z = elevation_raster(site, seed, lat, lon)
    fields = {name: _field(seed, site, name, length, lat, lon)
              for name, length in (("wood", 25.0), ("plain", 40.0), ("hill", 15.0),
                                   ("patch", 2.5), ("water", 3.0))}
    weights = _RULES[site.name](fields, z)
    stack = np.array([np.maximum(weights.get(name, np.zeros(z.shape)), 0.0)
                      for name in CLASSES])
    east_km, north_km = plane_km(*np.meshgrid(lon, lat), site.longitude, site.latitude)
    blend = np.exp(-np.hypot(east_km, north_km) / SITE_BLEND_KM)
    tower = np.zeros(len(CLASSES))
    for pft, fraction in site.pfts:
        tower[CLASSES.index(_SITE_CLASS[pft])] += fraction
    total = stack.sum(axis=0)
    shares = ((1.0 - blend) * stack / np.where(total > 0, total, 1.0)
              + blend * tower[:, None, None])
    percent = _largest_remainder(shares.reshape(len(CLASSES), -1)).reshape(stack.shape)
    return Landscape(lat=lat, lon=lon,
                     percentages={name: percent[i] for i, name in enumerate(CLASSES)},
                     elevation=z)
