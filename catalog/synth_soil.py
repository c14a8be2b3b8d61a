"""Synthetic soil texture maps around the built-in sites, as USDA texture classes of the
OpenLandMap product (:mod:`tccas.catalog.soil_texture`, which writes and reads them).

Every pixel takes a class from its site's sequence of regional textures, ordered from
coarse to fine (:data:`SOIL_SEQUENCES`), stepped from the tower's own class by a texture
index (PROPOSED)::

    g = (1 - b) (F_region + 0.6 F_patch - (z - median z) / (2 sd_relief))
    class = sequence[clip(tower position + round(g / STEP), 0, len - 1)]

with smooth random fields ``F_region`` (correlation length 40 km: the parent material)
and ``F_patch`` (4 km: the local mosaic) of :class:`tccas.catalog.synth_fields.SmoothField`
and the synthetic relief ``z`` (:func:`tccas.catalog.synth_fields.elevation_raster`, its
standard deviation ``sd_relief`` of :data:`tccas.catalog.synth_fields.RELIEF`): finer
soils on low ground (alluvium, lake and river sediments), coarser ones on the hills,
never white noise. ``b = exp(-d / SITE_BLEND_KM)`` (``d`` the distance from the tower,
:data:`tccas.catalog.synth_landscape.SITE_BLEND_KM`) blends the map into the tower's own
class, the ``soil`` of :data:`tccas.catalog.sites.SITES`, as the land cover blends into
the site's PFTs.

Sequences (PROPOSED from the regional soil maps):

* **Majadas:** arkosic sediments of the Tietar basin and the Gredos granite: loamy sand
  on the granite, sandy-loam Cambisols (the tower), sandy clay loam, loam and clay loam
  on the terraces and the valley floors.
* **Sodankyla:** glacial till and glaciofluvial deposits: sand (the tower's sandy
  podzol), loamy sand, sandy loam, silt loam of the river and lake sediments.
* **Reusel:** the cover-sand plain: sand (the tower), loamy sand, sandy loam and loam in
  the brook valleys.

Resolution: the product's 1/480 degree when the box holds at most
:data:`tccas.catalog.synth_landscape.MAX_LANDSCAPE_PIXELS` pixels, else the finest coarser
step that divides 0.25 degree (:func:`tccas.catalog.synth_landscape.landscape_raster`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tccas.catalog.sites import Site
from tccas.catalog.soil_texture import RESOLUTION_DEG
from tccas.catalog.synth_fields import RELIEF, SmoothField, elevation_raster, plane_km
from tccas.catalog.synth_landscape import SITE_BLEND_KM, landscape_raster

#: USDA class codes (:data:`tccas.catalog.soil_texture.USDA_CLASSES`) of each site's
#: region from coarse to fine, and the position of the tower's class.
SOIL_SEQUENCES: dict[str, tuple[tuple[int, ...], int]] = {
    "majadas": ((12, 11, 9, 6, 7), 2),
    "sodankyla": ((12, 11, 9, 8), 0),
    "reusel": ((12, 11, 9, 7), 0),
}
#: Texture index per step along the sequence.
STEP = 1.0


@dataclass(frozen=True)
class SoilTextureMap:
    """USDA texture classes on a lat/lon raster.

    Attributes
    ----------
    lat, lon : (n_lat,), (n_lon,) [degree] pixel centres, latitude north to south.
    classes : (n_lat, n_lon) uint8 USDA class codes.
    """

    lat: np.ndarray
    lon: np.ndarray
    classes: np.ndarray


def synthetic_soil_texture(site: Site, seed: int, west: float, south: float, east: float,
                           north: float) -> SoilTextureMap:
    """The soil texture classes of ``site``'s region covering the box [degree] (module
    docstring); the same seed gives the same map."""
    sequence, tower = SOIL_SEQUENCES[site.name]
    lat, lon = landscape_raster(west, south, east, north, RESOLUTION_DEG)
    relief = RELIEF[site.name]

    def field(name: str, length_km: float) -> np.ndarray:
        return SmoothField.create(seed, f"soil-{site.name}-{name}", length_km,
                                  site.longitude, site.latitude).raster(lat, lon)

    z = elevation_raster(site, seed, lat, lon)
    east_km, north_km = plane_km(*np.meshgrid(lon, lat), site.longitude, site.latitude)
    blend = np.exp(-np.hypot(east_km, north_km) / SITE_BLEND_KM)
    index = (1.0 - blend) * (field("region", 40.0) + 0.6 * field("patch", 4.0)
                             - (z - np.median(z)) / (2.0 * relief.sd_m))
    position = np.clip(tower + np.round(index / STEP).astype(np.int64), 0, len(sequence) - 1)
    return SoilTextureMap(lat=lat, lon=lon, classes=np.asarray(sequence, np.uint8)[position])

