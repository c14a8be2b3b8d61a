"""Smooth random fields for the synthetic-data generator: relief, weather anomaly patterns,
landscape patterns.

A field is a stationary Gaussian random field of zero mean, unit variance and Gaussian
covariance ``exp(-r^2 / (2 L^2))`` with correlation length ``L`` [km], built by spectral
synthesis (random Fourier features, Rahimi and Recht 2007): ``f(x) = sqrt(2 / M) sum_m
cos(k_m . x + phi_m)`` with wave vectors ``k_m ~ N(0, I / L^2)`` and phases ``phi_m ~
U(0, 2 pi)``. The plane coordinates ``x`` are east and north distances [km] from the
field's origin on an equirectangular projection with the scale of the origin's latitude
(PROPOSED: over a 500 km region at 67 N the east-west scale is off by up to 10 % at the
region's edges, which only stretches the synthetic patterns). Because the phase is
separable in ``(lon, lat)`` on that projection, a whole lat/lon raster is two matrix
products (:meth:`SmoothField.raster`), and single points give exactly the same values
(:meth:`SmoothField.at`).

Every field is seeded by ``(seed, name)``: the same seed and name give the same field.

References
----------
Rahimi, A. and Recht, B. (2007): Random features for large-scale kernel machines. Advances
in Neural Information Processing Systems 20, 1177-1184.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from tccas.catalog.sites import Site

#: [km] mean Earth radius for the equirectangular plane.
EARTH_RADIUS_KM = 6371.0
#: Number of Fourier modes of a field (enough for a visually smooth, near-Gaussian field).
N_MODES = 192


def named_rng(seed: int, *names: str) -> np.random.Generator:
    """A generator seeded by ``seed`` and stable hashes of ``names`` (independent streams
    for each product, field and site, reproducible across runs and platforms)."""
    return np.random.default_rng([int(seed), *(zlib.crc32(n.encode()) for n in names)])


def plane_km(lon: ArrayLike, lat: ArrayLike, lon0: float, lat0: float
             ) -> tuple[np.ndarray, np.ndarray]:
    """East and north distances [km] of points from ``(lon0, lat0)`` on the equirectangular
    plane of the field (longitude differences wrapped to [-180, 180))."""
    dlon = (np.asarray(lon, dtype=np.float64) - lon0 + 180.0) % 360.0 - 180.0
    scale = np.radians(1.0) * EARTH_RADIUS_KM
    return (dlon * scale * np.cos(np.radians(lat0)),
            (np.asarray(lat, dtype=np.float64) - lat0) * scale)


@dataclass(frozen=True)
class SmoothField:
    """A seeded Gaussian random field (see the module docstring).

    Attributes
    ----------
    length_km : [km] correlation length L.
    lon0, lat0 : [degree] origin of the plane coordinates.
    wave_east, wave_north : (M,) [rad km-1] wave vectors.
    phase : (M,) [rad] phases.
    """

    length_km: float
    lon0: float
    lat0: float
    wave_east: np.ndarray
    wave_north: np.ndarray
    phase: np.ndarray

    @staticmethod
    def create(seed: int, name: str, length_km: float, lon0: float, lat0: float,
               n_modes: int = N_MODES) -> SmoothField:
        """The field called ``name`` of ``seed``, correlation length ``length_km``."""
        rng = named_rng(seed, "field", name)
        waves = rng.standard_normal((2, n_modes)) / length_km
        return SmoothField(length_km, lon0, lat0, waves[0], waves[1],
                           rng.uniform(0.0, 2.0 * np.pi, n_modes))

    def at(self, lon: ArrayLike, lat: ArrayLike) -> np.ndarray:
        """Field values [1] at points (any matching shapes)."""
        east, north = plane_km(lon, lat, self.lon0, self.lat0)
        angle = (east[..., None] * self.wave_east + north[..., None] * self.wave_north
                 + self.phase)
        return np.sqrt(2.0 / self.phase.size) * np.cos(angle).sum(axis=-1)

    def raster(self, lat: ArrayLike, lon: ArrayLike) -> np.ndarray:
        """Field values (n_lat, n_lon) [1] on the raster of 1-D ``lat`` and ``lon``."""
        east, _ = plane_km(lon, np.full(np.shape(lon), self.lat0), self.lon0, self.lat0)
        _, north = plane_km(np.full(np.shape(lat), self.lon0), lat, self.lon0, self.lat0)
        along_east = east[:, None] * self.wave_east + self.phase
        along_north = north[:, None] * self.wave_north
        values = (np.cos(along_north) @ np.cos(along_east).T
                  - np.sin(along_north) @ np.sin(along_east).T)
        return np.sqrt(2.0 / self.phase.size) * values


@dataclass(frozen=True)
class Relief:
    """Synthetic relief around a site (PROPOSED, from the regional topography).

    Attributes
    ----------
    sd_m : [m] standard deviation of the elevation around the site's own elevation.
    length_km : [km] correlation length of the relief.
    floor_m : [m] lowest elevation allowed (valley floors, the coast).
    """

    sd_m: float
    length_km: float
    floor_m: float


#: Relief of the built-in sites. Majadas: the Tietar valley (265 m) between the Sierra de
#: Gredos (to 2592 m) and the Extremaduran plains, 200-1500 m over most of the 500 km box;
#: Sodankyla: the low Lapland plateau (150-300 m) with fells to 500-700 m; Reusel: the
#: flat cover-sand plain of North Brabant (10-40 m).
RELIEF: dict[str, Relief] = {
    "majadas": Relief(sd_m=350.0, length_km=60.0, floor_m=20.0),
    "sodankyla": Relief(sd_m=110.0, length_km=40.0, floor_m=40.0),
    "reusel": Relief(sd_m=8.0, length_km=40.0, floor_m=0.0),
}


def elevation(site: Site, seed: int, lon: ArrayLike, lat: ArrayLike) -> np.ndarray:
    """Synthetic elevation [m] at points: the site's own elevation at the site plus
    ``sd_m`` times the difference of a smooth field from its value at the site (so the
    relief grows with distance from the tower), clipped at ``floor_m``."""
    relief = RELIEF[site.name]
    field = SmoothField.create(seed, f"relief-{site.name}", relief.length_km,
                               site.longitude, site.latitude)
    anomaly = field.at(lon, lat) - field.at(site.longitude, site.latitude)
    return np.maximum(site.elevation + relief.sd_m * anomaly, relief.floor_m)


def elevation_raster(site: Site, seed: int, lat: ArrayLike, lon: ArrayLike) -> np.ndarray:
    """:func:`elevation` on a lat/lon raster, (n_lat, n_lon) [m]."""
    relief = RELIEF[site.name]
    field = SmoothField.create(seed, f"relief-{site.name}", relief.length_km,
                               site.longitude, site.latitude)
    anomaly = field.raster(lat, lon) - field.at(site.longitude, site.latitude)
    return np.maximum(site.elevation + relief.sd_m * anomaly, relief.floor_m)
