"""Satellite geometry for the synthetic generator: sun-synchronous orbits, the TROPOMI swath
of pixels with corners, and the SMOS DGG-like lattice seen by each half orbit.

Orbits (:class:`SunSynchronousOrbit`) are circular on a spherical Earth (radius
6371 km): the sub-satellite point after an ascending-node crossing at ``t_n`` has latitude
``asin(sin i sin u)`` and longitude ``lambda_n + atan2(cos i sin u, cos u) - omega_E
(t - t_n)`` with the argument of latitude ``u = 2 pi (t - t_n) / P`` and Earth's sidereal
rotation ``omega_E``; the node longitude follows from the constant local *mean* solar
time of the ascending node (LTAN): ``lambda_n = 15 (LTAN - UTC hour of t_n)``. Nodes
come every period from a fixed epoch, so orbit numbers and tracks are continuous over
the years. Positions are placed on the sphere and used as WGS84 latitude and longitude
(PROPOSED: the geocentric/geodetic difference, up to 0.19 degree, only moves synthetic
footprints, whose shapes stay consistent).

* Sentinel-5P (TROPOMI): altitude 824 km, inclination 98.74 degree, LTAN 13:30 (ESA
  Sentinel-5P mission pages [S10]). The swath is 2600 km (108 degree field of view) of 450
  pixels equally spaced in scan angle, 3.5 km across track at nadir and growing toward
  the edges with the viewing geometry; along track a scanline every 0.84 s (5.5 km) from
  2019-08-06, 1.08 s (7 km) before ([S9]). Pixel corners are the midpoints between
  scanlines and scan angles, so pixels tile the swath.
* SMOS: altitude 758 km, inclination 98.44 degree, LTAN 06:00 (ascending at dawn,
  descending at 18:00 local solar time; EO_FORMATS.md 2.1). Grid points lie on a
  hexagonal lattice of 15 km spacing (the ISEA 4H9 cell of 195 km2: 2.6 million points,
  which the DGG ids number; EO_FORMATS.md 2.2), rows of constant latitude
  ``15 sqrt(3) / 2`` km apart, odd rows offset by half a spacing. ``Grid_Point_ID`` is
  the point's sequence number counted from the south pole row by row, mapped into the
  10 blocks of 262,144 ids of the real DGG (``id = (seq - 1) // 262144 * 1_000_000 +
  (seq - 1) % 262144 + 1``, the inverse of the seqnum rule of [M2]).

References
----------
ESA Sentinel-5P mission: https://sentinel.esa.int/web/sentinel/missions/sentinel-5p
(orbit, swath); Kerr, Y. H. et al. (2010), Proc. IEEE 98(5), 666-687,
doi:10.1109/JPROC.2010.2043032 (SMOS orbit and field of view); EO_FORMATS.md sections 1.3,
2.1, 2.2 and sources [S9], [S10], [M2].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EARTH_RADIUS_KM = 6371.0
EARTH_MU_KM3_S2 = 398600.4418
"""[km3 s-2] standard gravitational parameter of the Earth."""
SIDEREAL_DAY_S = 86164.0905
ORBIT_EPOCH = np.datetime64("2010-01-01T00:00:00", "us")


@dataclass(frozen=True)
class SunSynchronousOrbit:
    """A circular sun-synchronous orbit.

    Attributes
    ----------
    altitude_km : [km] height above the spherical Earth.
    inclination_deg : [degree] orbit inclination (> 90: retrograde).
    ltan_hours : [h] local mean solar time of the ascending node.
    node_offset_s : [s] time of the first ascending node after :data:`ORBIT_EPOCH`.
    """

    altitude_km: float
    inclination_deg: float
    ltan_hours: float
    node_offset_s: float = 0.0

    @property
    def period_s(self) -> float:
        """[s] orbital period (Kepler's third law)."""
        return 2.0 * np.pi * np.sqrt((EARTH_RADIUS_KM + self.altitude_km) ** 3
                                     / EARTH_MU_KM3_S2)

    @property
    def ground_speed_kms(self) -> float:
        """[km s-1] speed of the sub-satellite point (Earth rotation neglected)."""
        return 2.0 * np.pi * EARTH_RADIUS_KM / self.period_s

    def node_time(self, orbit: np.ndarray) -> np.ndarray:
        """UTC (datetime64[us]) of the ascending node of orbit numbers ``orbit``."""
        seconds = self.node_offset_s + np.asarray(orbit, dtype=np.float64) * self.period_s
        return ORBIT_EPOCH + np.round(seconds * 1e6).astype("timedelta64[us]")

    def orbits_between(self, start: np.datetime64, stop: np.datetime64) -> np.ndarray:
        """Orbit numbers whose ascending node lies in ``[start, stop)``."""
        first = (np.datetime64(start, "us") - ORBIT_EPOCH).astype(np.float64) / 1e6
        last = (np.datetime64(stop, "us") - ORBIT_EPOCH).astype(np.float64) / 1e6
        low = int(np.ceil((first - self.node_offset_s) / self.period_s))
        high = int(np.ceil((last - self.node_offset_s) / self.period_s))
        return np.arange(low, high)

    def node_longitude(self, orbit: int) -> float:
        """[degree_east] longitude of the ascending node of ``orbit`` (mean solar time)."""
        node = self.node_time(np.array([orbit]))[0]
        utc_hours = (node - node.astype("datetime64[D]")).astype(np.float64) / 3.6e9
        return float((15.0 * (self.ltan_hours - utc_hours) + 180.0) % 360.0 - 180.0)

    def position(self, orbit: int, seconds: np.ndarray) -> np.ndarray:
        """Unit vectors (..., 3) of the sub-satellite point, Earth-fixed, ``seconds`` after
        the ascending node of ``orbit``."""
        seconds = np.asarray(seconds, dtype=np.float64)
        u = 2.0 * np.pi * seconds / self.period_s
        inc = np.radians(self.inclination_deg)
        lat = np.arcsin(np.sin(inc) * np.sin(u))
        lon = (np.radians(self.node_longitude(orbit))
               + np.arctan2(np.cos(inc) * np.sin(u), np.cos(u))
               - 2.0 * np.pi * seconds / SIDEREAL_DAY_S)
        return unit_vector(np.degrees(lon), np.degrees(lat))

    def cross_track_axis(self, orbit: int, seconds: np.ndarray) -> np.ndarray:
        """Unit vectors (..., 3) pointing to the right of the flight direction, in the
        local horizontal plane of the sub-satellite point."""
        step = 0.5
        here = self.position(orbit, seconds)
        ahead = self.position(orbit, np.asarray(seconds) + step)
        behind = self.position(orbit, np.asarray(seconds) - step)
        along = ahead - behind
        right = np.cross(along, here)
        return right / np.linalg.norm(right, axis=-1, keepdims=True)


#: Sentinel-5P: 824 km, 98.74 degree, LTAN 13:30.
SENTINEL_5P = SunSynchronousOrbit(altitude_km=824.0, inclination_deg=98.74,
                                  ltan_hours=13.5, node_offset_s=1234.0)
#: SMOS: 758 km, 98.44 degree, LTAN 06:00.
SMOS = SunSynchronousOrbit(altitude_km=758.0, inclination_deg=98.44, ltan_hours=6.0,
                           node_offset_s=2345.0)


def unit_vector(lon_deg: np.ndarray, lat_deg: np.ndarray) -> np.ndarray:
    """Earth-fixed unit vectors (..., 3) of points [degree]."""
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)],
                    axis=-1)


def lonlat(vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lon [-180, 180), lat) [degree] of Earth-fixed vectors (..., 3)."""
    v = vector / np.linalg.norm(vector, axis=-1, keepdims=True)
    lat = np.degrees(np.arcsin(np.clip(v[..., 2], -1.0, 1.0)))
    lon = np.degrees(np.arctan2(v[..., 1], v[..., 0]))
    return (lon + 180.0) % 360.0 - 180.0, lat


def _rotate(point: np.ndarray, axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotate unit vectors about unit axes by ``angle`` [rad] (Rodrigues)."""
    cos, sin = np.cos(angle)[..., None], np.sin(angle)[..., None]
    return (point * cos + np.cross(axis, point) * sin
            + axis * np.sum(axis * point, axis=-1, keepdims=True) * (1.0 - cos))


def ground_angle(altitude_km: float, scan_angle_rad: np.ndarray) -> np.ndarray:
    """Earth-central angle [rad] between nadir and the ground point seen at a scan angle."""
    ratio = (EARTH_RADIUS_KM + altitude_km) / EARTH_RADIUS_KM
    return np.arcsin(np.clip(ratio * np.sin(scan_angle_rad), -1.0, 1.0)) - scan_angle_rad


def viewing_zenith(altitude_km: float, scan_angle_rad: np.ndarray) -> np.ndarray:
    """Viewing zenith angle [degree] at the ground point of a scan angle."""
    ratio = (EARTH_RADIUS_KM + altitude_km) / EARTH_RADIUS_KM
    return np.degrees(np.arcsin(np.clip(ratio * np.abs(np.sin(scan_angle_rad)), 0.0, 1.0)))


# ------------------------------------------------------------------------- TROPOMI
TROPOMI_PIXELS = 450
TROPOMI_NADIR_ACROSS_KM = 3.5
TROPOMI_SCANLINE_S_BEFORE = 1.08
TROPOMI_SCANLINE_S_AFTER = 0.84
TROPOMI_SPATIAL_ZOOM = np.datetime64("2019-08-06T00:00:00", "us")
"""Along-track pixels shrank from 7 km to 5.5 km on 2019-08-06 ([S9])."""


def tropomi_scanline_seconds(time: np.datetime64) -> float:
    """[s] scanline repeat (along-track pixel length / ground speed) at ``time``."""
    return (TROPOMI_SCANLINE_S_AFTER if np.datetime64(time, "us") >= TROPOMI_SPATIAL_ZOOM
            else TROPOMI_SCANLINE_S_BEFORE)


@dataclass(frozen=True)
class Swath:
    """TROPOMI pixels of one pass over a region.

    Attributes
    ----------
    orbit : absolute orbit number.
    time : (n,) datetime64[us] UTC of each pixel's scanline.
    longitude, latitude : (n,) [degree] pixel centres.
    corner_longitude, corner_latitude : (n, 4) [degree] corners (counter-clockwise seen
        from above on an ascending pass).
    viewing_zenith : (n,) [degree].
    """

    orbit: int
    time: np.ndarray
    longitude: np.ndarray
    latitude: np.ndarray
    corner_longitude: np.ndarray
    corner_latitude: np.ndarray
    viewing_zenith: np.ndarray


def _swath_points(orbit: SunSynchronousOrbit, number: int, seconds: np.ndarray,
                  scan: np.ndarray) -> np.ndarray:
    """Ground points (n_time, n_scan, 3) of scan angles [rad] at scanline times."""
    nadir = orbit.position(number, seconds)
    right = orbit.cross_track_axis(number, seconds)
    axis = np.cross(nadir, right)
    angle = ground_angle(orbit.altitude_km, scan)
    shape = (seconds.size, scan.size, 3)
    return _rotate(np.broadcast_to(nadir[:, None, :], shape),
                   np.broadcast_to(axis[:, None, :], shape),
                   np.broadcast_to(angle[None, :], shape[:2]))


def tropomi_passes(day: np.datetime64, bbox: tuple[float, float, float, float],
                   max_viewing_zenith: float = 60.0,
                   orbit: SunSynchronousOrbit = SENTINEL_5P) -> list[Swath]:
    """TROPOMI pixels of the daytime (ascending) passes of ``day`` whose centre lies in
    ``bbox`` = (west, south, east, north) [degree] and whose viewing zenith angle is at
    most ``max_viewing_zenith`` (the L2B filter); passes whose node falls on ``day`` UTC.

    A coarse pass (every 10 s, every 45th scan edge) finds the scanlines and scan columns
    that can reach the box; only those are computed at full resolution.
    """
    west, south, east, north = bbox
    day_start = np.datetime64(day, "D").astype("datetime64[us]")
    numbers = orbit.orbits_between(day_start, day_start + np.timedelta64(1, "D"))
    period = orbit.period_s
    half_fov = np.radians(54.0)
    scan_edges = np.linspace(-half_fov, half_fov, TROPOMI_PIXELS + 1)
    coarse_step = 45
    coarse = np.arange(-0.25 * period, 0.25 * period, 10.0)
    out = []
    for number in numbers:
        edges = _swath_points(orbit, int(number), coarse, scan_edges[::coarse_step])
        lon, lat = lonlat(edges)
        inside = ((lat >= south - 0.5) & (lat <= north + 0.5)
                  & (_lon_offset(lon, west, east) <= 0.5))
        hits = np.flatnonzero(inside.any(axis=1))
        if hits.size == 0:
            continue
        columns = np.flatnonzero(inside.any(axis=0))
        first_edge = max(columns[0] - 1, 0) * coarse_step
        last_edge = min((columns[-1] + 1) * coarse_step, TROPOMI_PIXELS)
        edges_used = scan_edges[first_edge:last_edge + 1]
        centres_used = 0.5 * (edges_used[1:] + edges_used[:-1])
        node = orbit.node_time(np.array([number]))[0]
        step = tropomi_scanline_seconds(node)
        first = coarse[max(hits[0] - 1, 0)]
        last = coarse[min(hits[-1] + 1, coarse.size - 1)]
        centres = np.arange(first, last, step)
        middle = _swath_points(orbit, int(number), centres, centres_used)
        lon_c, lat_c = lonlat(middle)
        vza = np.broadcast_to(viewing_zenith(orbit.altitude_km, centres_used), lon_c.shape)
        keep = ((lat_c >= south) & (lat_c <= north) & (_lon_offset(lon_c, west, east) == 0)
                & (vza <= max_viewing_zenith))
        k, j = np.nonzero(keep)
        if k.size == 0:
            continue
        rows = np.unique(np.concatenate([k, k + 1]))
        boundary = _swath_points(orbit, int(number),
                                 np.append(centres - step / 2, centres[-1] + step / 2)[rows],
                                 edges_used)
        at = np.searchsorted(rows, k)
        after = np.searchsorted(rows, k + 1)
        corners = np.stack([boundary[at, j], boundary[at, j + 1], boundary[after, j + 1],
                            boundary[after, j]], axis=1)
        corner_lon, corner_lat = lonlat(corners)
        times = node + np.round(centres[k] * 1e6).astype("timedelta64[us]")
        out.append(Swath(orbit=int(number), time=times, longitude=lon_c[k, j],
                         latitude=lat_c[k, j], corner_longitude=corner_lon,
                         corner_latitude=corner_lat, viewing_zenith=vza[k, j]))
    return out


def _lon_offset(lon: np.ndarray, west: float, east: float) -> np.ndarray:
    """[degree] how far longitudes lie outside [west, east] (0 inside)."""
    centre = 0.5 * (west + east)
    half = 0.5 * (east - west)
    distance = np.abs((lon - centre + 180.0) % 360.0 - 180.0)
    return np.maximum(distance - half, 0.0)


# ---------------------------------------------------------------------------- SMOS
DGG_SPACING_KM = 15.0
DGG_BLOCK = 262_144
SMOS_PRODUCT_HALF_WIDTH_KM = 600.0
"""Retrievals are made out to this distance from the ground track (PROPOSED: the 95th
percentile of |X_Swath| of the land retrievals of the real descending granule is 567 km,
EO_FORMATS.md 2.3)."""
SMOS_GRANULE_HALF_WIDTH_KM = 650.0
"""Grid points out to this distance are in the granule, beyond the product limit without
a retrieval (``FL_NO_PROD``, AFP 0)."""


@dataclass(frozen=True)
class DggLattice:
    """The DGG-like hexagonal lattice points inside a box.

    Attributes
    ----------
    grid_point_id : (n,) uint32 DGG-style ids.
    longitude, latitude : (n,) [degree].
    """

    grid_point_id: np.ndarray
    longitude: np.ndarray
    latitude: np.ndarray


def dgg_lattice(bbox: tuple[float, float, float, float]) -> DggLattice:
    """Lattice points (see the module docstring) with centres inside ``bbox`` =
    (west, south, east, north) [degree]."""
    west, south, east, north = bbox
    row_step = DGG_SPACING_KM * np.sqrt(3.0) / 2.0 / (np.pi * EARTH_RADIUS_KM / 180.0)
    n_rows = int(np.floor(180.0 / row_step))
    rows = np.arange(n_rows + 1)
    row_lat = -90.0 + rows * row_step
    circumference = 2.0 * np.pi * EARTH_RADIUS_KM * np.cos(np.radians(row_lat))
    per_row = np.maximum(np.floor(circumference / DGG_SPACING_KM), 1).astype(np.int64)
    first_seq = np.concatenate([[1], 1 + np.cumsum(per_row)[:-1]])
    ids, lons, lats = [], [], []
    for r in np.flatnonzero((row_lat >= south) & (row_lat <= north)):
        step = 360.0 / per_row[r]
        offset = 0.5 * step * (r % 2)
        k = np.arange(per_row[r])
        lon = (-180.0 + offset + k * step + 180.0) % 360.0 - 180.0
        inside = _lon_offset(lon, west, east) == 0
        seq = first_seq[r] + k[inside]
        ids.append((seq - 1) // DGG_BLOCK * 1_000_000 + (seq - 1) % DGG_BLOCK + 1)
        lons.append(lon[inside])
        lats.append(np.full(int(inside.sum()), row_lat[r]))
    return DggLattice(grid_point_id=np.concatenate(ids).astype(np.uint32),
                      longitude=np.concatenate(lons), latitude=np.concatenate(lats))


@dataclass(frozen=True)
class SmosPass:
    """One half orbit of SMOS over the lattice points it sees.

    Attributes
    ----------
    orbit : absolute orbit number (of the ascending node the half orbit belongs to).
    ascending : ascending (dawn) or descending (dusk) half orbit.
    sensing_start, sensing_stop : datetime64[us] UTC of the half orbit (pole to pole).
    node_time, node_longitude : the ascending node (datetime64[us], degree_east).
    points : indices into the lattice of the points within the granule half width.
    time : (n,) datetime64[us] closest approach of each point.
    x_swath_km : (n,) [km] signed distance from the ground track (positive to the right
        of the flight direction).
    """

    orbit: int
    ascending: bool
    sensing_start: np.datetime64
    sensing_stop: np.datetime64
    node_time: np.datetime64
    node_longitude: float
    points: np.ndarray
    time: np.ndarray
    x_swath_km: np.ndarray


def smos_passes(day: np.datetime64, lattice: DggLattice,
                orbit: SunSynchronousOrbit = SMOS) -> list[SmosPass]:
    """The SMOS half orbits whose ascending node falls on ``day`` (UTC) and which see at
    least one lattice point within :data:`SMOS_GRANULE_HALF_WIDTH_KM`.

    A coarse track (every 60 s) discards the half orbits passing far from every lattice
    point and gives each point its nearest sample; the time of closest approach then
    follows from three along-track projections (converged to well below a millisecond),
    and ``X_Swath`` from the cross-track projection at that time.
    """
    day_start = np.datetime64(day, "D").astype("datetime64[us]")
    numbers = orbit.orbits_between(day_start, day_start + np.timedelta64(1, "D"))
    period = orbit.period_s
    targets = unit_vector(lattice.longitude, lattice.latitude)
    centre = targets.mean(axis=0)
    centre /= np.linalg.norm(centre)
    radius = np.arccos(np.clip(targets @ centre, -1.0, 1.0)).max()
    reach = radius + (SMOS_GRANULE_HALF_WIDTH_KM + 30.0 * orbit.ground_speed_kms) \
        / EARTH_RADIUS_KM
    out = []
    for number in numbers:
        node = orbit.node_time(np.array([number]))[0]
        for ascending, (first, last) in ((True, (-0.25, 0.25)), (False, (0.25, 0.75))):
            seconds = np.arange(first * period, last * period, 60.0)
            track = orbit.position(int(number), seconds)
            if np.arccos(np.clip(track @ centre, -1.0, 1.0)).min() > reach:
                continue
            at = seconds[np.argmax(targets @ track.T, axis=1)]
            for _ in range(3):  # closest approach: along-track projection, refined
                here = orbit.position(int(number), at)
                right = orbit.cross_track_axis(int(number), at)
                along = np.cross(here, right)
                at = at + (EARTH_RADIUS_KM * np.arcsin(np.clip(
                    np.sum(targets * along, axis=1), -1.0, 1.0)) / orbit.ground_speed_kms)
            right = orbit.cross_track_axis(int(number), at)
            x_km = EARTH_RADIUS_KM * np.arcsin(np.clip(np.sum(targets * right, axis=1),
                                                       -1.0, 1.0))
            # abeam inside this half orbit, not past either pole end of it
            seen = ((np.abs(x_km) <= SMOS_GRANULE_HALF_WIDTH_KM) & (at > first * period)
                    & (at < last * period))
            if not seen.any():
                continue
            index = np.flatnonzero(seen)
            out.append(SmosPass(
                orbit=int(number), ascending=ascending,
                sensing_start=node + np.round(first * period * 1e6).astype("timedelta64[us]"),
                sensing_stop=node + np.round(last * period * 1e6).astype("timedelta64[us]"),
                node_time=node, node_longitude=orbit.node_longitude(int(number)),
                points=index, time=node + np.round(at[index] * 1e6).astype("timedelta64[us]"),
                x_swath_km=x_km[index]))
    return out
