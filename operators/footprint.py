"""Footprint geometry: sparse weights of observation footprints on a model grid.

This module owns the step from an observation's footprint (a TROPOMI quadrilateral, a SMOS
3 dB ellipse, its Gaussian antenna response, or an AFP circle) to a sparse matrix W
(observations x grid cells) whose row i holds the fraction of footprint i's response that
falls in each cell (EO_FORMATS.md section 8). The simulated observation is then
``W @ x_cells``, and its adjoint is ``W.T``. :func:`aggregate_to_tiles` collapses W onto the
model tiles (cell x PFT cover) so that the model never runs per 100 m cell
(ARCHITECTURE.md section 8).

Geometry, and why it is exact where it matters:

* Everything is measured in the grid's equal-area plane (:meth:`Grid.to_equal_area`): the
  grid CRS for EPSG:3035, the Lambert cylindrical equal-area projection for lat/lon grids.
  In both, grid cells are axis-parallel rectangles with their true areas, so overlap areas
  are true areas on the ellipsoid.
* Footprint polygons (TROPOMI corners; ellipses as area-corrected 128-gons built with exact
  geodesics, i.e. in the local azimuthal-equidistant frame) are intersected with cells:
  cells fully inside a convex footprint get their whole area, the cells the footprint's
  boundary crosses get the closed-form overlap of Green's theorem on the cell (each edge's
  clamped trapezoid, vectorised over all boundary cells and edges at once; no polygon
  clipping). Candidate cells come from index arithmetic on the rectilinear plane edges
  (what an STRtree query would return, without materialising cell polygons).
* Ellipses on grids whose cells are much smaller than the ellipse (SMOS on 100 m) are
  rasterised analytically: the ellipse inequality or the Gaussian is evaluated at cell
  corners, centres or sub-samples (vectorised numpy), per footprint bounding box.

Longitudes are handled dateline-safe: each footprint is made continuous around its centre
(delta lon wrapped to [-180, 180)) and moved as a whole into the grid's longitude frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import Geod
from scipy import sparse

from tccas.model.errors import TccasInputError

if TYPE_CHECKING:
    from tccas.catalog.grid import Grid

GEOD = Geod(ellps="WGS84")

#: Vertices of the polygon standing for an ellipse (area-corrected, see ellipse_vertices).
ELLIPSE_VERTICES = 128
#: Sub-samples per side of a cell cut by the ellipse in the raster method (uniform model).
BOUNDARY_SUBSAMPLES = 16
#: Gaussian model: sub-sample spacing is at most semi-minor axis / this number.
GAUSSIAN_SAMPLES_PER_SEMI_MINOR = 8
#: method="auto" rasterises an ellipse when its semi-minor axis spans this many cells.
RASTER_CELLS_PER_SEMI_MINOR = 10.0
#: Default Gaussian truncation: drop the response below this fraction of its peak.
GAUSSIAN_TRUNCATION = 0.01
#: Overlaps below this fraction of a cell's area are rounding slivers and are dropped.
SLIVER_FRACTION = 1e-12
#: Upper bound on candidate cells handled at once (bounds temporary memory).
CHUNK_CELLS = 2_000_000
#: Upper bound on (boundary cell, polygon edge) pairs evaluated at once (8 MB per array).
CHUNK_EDGES = 1_000_000
#: [m per degree] upper bound of the length of one degree of latitude or longitude.
_METRES_PER_DEGREE_MAX = 111_700.0

EllipseModel = Literal["uniform", "gaussian"]
EllipseMethod = Literal["auto", "polygon", "raster"]


@dataclass(frozen=True, eq=False)
class FootprintWeights:
    """Sparse footprint weights of n_obs footprints on a grid of n_cells cells.

    Attributes
    ----------
    weights : (n_obs, n_cells) CSR matrix [-]. ``weights[i, j]`` is the fraction of
        footprint i's response (its area for polygons and uniform ellipses, its integrated
        antenna gain for the Gaussian model) that falls in cell j. Column j is the grid's
        row-major cell id.
    inside_fraction : (n_obs,) [-] fraction of each footprint's response inside the grid;
        equals the row sums of ``weights`` (1 for footprints fully inside).
    footprint_area_m2 : (n_obs,) [m2] integral of the response normalised to a peak of 1
        over the whole footprint (inside and outside the grid): the polygon or ellipse area
        for area weights, about ``pi a b (1 - t) / ln 2`` for a Gaussian truncated at t.
    model : "polygon", "uniform" or "gaussian".
    """

    weights: sparse.csr_matrix
    inside_fraction: NDArray[np.float64]
    footprint_area_m2: NDArray[np.float64]
    model: str

    @property
    def n_obs(self) -> int:
        """Number of footprints (rows)."""
        return self.weights.shape[0]

    @property
    def n_cells(self) -> int:
        """Number of grid cells (columns)."""
        return self.weights.shape[1]

    def cell_coverage(self, grid: Grid) -> sparse.csr_matrix:
        """Fraction of each cell's area covered by each footprint [-].

        ``coverage[i, j] = weights[i, j] * footprint_area_m2[i] / cell_area[j]``: for area
        weights the covered fraction of cell j (1 inside the footprint), for the Gaussian
        model the cell's mean response relative to the peak.
        """
        _check_grid_match(grid, self.n_cells)
        coverage = sparse.csr_matrix(self.weights, copy=True)
        rows = np.repeat(np.arange(self.n_obs), np.diff(coverage.indptr))
        coverage.data *= self.footprint_area_m2[rows] / grid.cell_area(coverage.indices)
        return coverage


# --------------------------------------------------------------------------- public API
def quad_weights(grid: Grid, corner_lon: ArrayLike, corner_lat: ArrayLike) -> FootprintWeights:
    """Area-overlap weights of quadrilateral footprints (TROPOMI pixels) on a grid.

    Parameters
    ----------
    grid : the model grid (lat/lon or equal-area projected).
    corner_lon, corner_lat : (n, 4) [degree] WGS84 corners of each pixel, in any order
        (they are sorted counter-clockwise around the pixel centre) and dateline-safe
        (longitudes are taken relative to the centre, wrapped to [-180, 180)).

    Returns
    -------
    FootprintWeights with model "polygon": row i holds area(pixel_i & cell_j) / area(pixel_i),
    areas true on the ellipsoid. Pixel edges are straight lines in the grid's equal-area
    plane: a 5.5 km edge lies within 0.5 m (40 N) to 2 m (67 N) of the geodesic on a
    lat/lon grid, which moves weights by about 1e-4; on EPSG:3035 far less.

    Raises
    ------
    TccasInputError for shapes other than (n, 4), non-finite values, latitudes outside
    [-90, 90] or pixels of zero area.

    References
    ----------
    EO_FORMATS.md sections 1.3 (corner order, dateline) and 8 (overlap weights).
    cfranken/SatelliteGridding (GitHub), README: counter-clockwise corner sorting.
    """
    lon, lat = _check_corners(corner_lon, corner_lat)
    if not grid.is_geographic:
        centre_x, centre_y = grid.lonlat_to_xy(
            _continuous_lon(grid, lon).mean(axis=1), lat.mean(axis=1)
        )
        lon, lat = grid.lonlat_to_xy(lon, lat)
        _check_projected(grid, lon + centre_x[:, None], lat + centre_y[:, None])
    return quad_weights_xy(grid, lon, lat)


def quad_weights_xy(grid: Grid, corner_x: ArrayLike, corner_y: ArrayLike) -> FootprintWeights:
    """Area-overlap weights of quadrilaterals given in the grid's own coordinates.

    As :func:`quad_weights`, for corners already in the grid CRS: [m] for projected grids,
    lon/lat [degree] in the grid's longitude frame for lat/lon grids (each footprint's
    longitudes are made continuous around its centre). Use it for footprints defined in
    grid coordinates; it avoids a lon/lat round trip, which costs up to a millimetre with
    PROJ 9.5's inverse LAEA.

    Parameters
    ----------
    grid : the model grid.
    corner_x, corner_y : (n, 4) corners in grid coordinates, any order.

    Returns
    -------
    FootprintWeights with model "polygon".
    """
    x, y = _check_corners(corner_x, corner_y, geographic=grid.is_geographic)
    if x.shape[0] == 0:
        return _empty_weights(grid, "polygon")
    if grid.is_geographic:
        x = _continuous_lon(grid, x)
        px, py = grid.to_equal_area(x, y, in_grid_frame=True)
    else:
        px, py = x, y
    vertices = _sort_counter_clockwise(np.stack([px, py], axis=-1))
    area = _shoelace_area(vertices)
    scale = np.ptp(vertices[..., 0], axis=1) * np.ptp(vertices[..., 1], axis=1)
    degenerate = ~(area > 1e-9 * scale)
    if np.any(degenerate):
        index = int(np.flatnonzero(degenerate)[0])
        raise TccasInputError(
            f"footprint {index} has zero area (corners collinear or repeated): "
            f"x={x[index].tolist()}, y={y[index].tolist()}"
        )
    matrix, inside = _polygon_weights(grid, vertices, area)
    return FootprintWeights(matrix, inside, area, "polygon")


def ellipse_weights(
    grid: Grid,
    lon: ArrayLike,
    lat: ArrayLike,
    semi_major_km: ArrayLike,
    semi_minor_km: ArrayLike,
    orientation_deg: ArrayLike,
    model: EllipseModel = "uniform",
    *,
    truncation: float = GAUSSIAN_TRUNCATION,
    method: EllipseMethod = "auto",
) -> FootprintWeights:
    """Weights of elliptical footprints (SMOS 3 dB ellipses, AFP circles) on a grid.

    Parameters
    ----------
    grid : the model grid (lat/lon or equal-area projected).
    lon, lat : (n,) [degree] WGS84 footprint centres.
    semi_major_km, semi_minor_km : scalar or (n,) [km] semi-axes a >= b > 0 of the 3 dB
        (half-power) ellipse on the ground; a circle of radius r (the SMOS L2 ``AFP``) is
        a = b = r.
    orientation_deg : scalar or (n,) [degree] azimuth of the major axis, clockwise from
        true north at the centre (0 = north-south, 90 = east-west); irrelevant for circles.
    model : "uniform": the 3 dB ellipse with area-fraction weights. "gaussian": antenna
        gain ``w = exp(-ln2 ((u/a)**2 + (v/b)**2))`` with u, v the ground distances along
        the major and minor axes (w = 1/2 on the 3 dB ellipse), integrated over each cell.
    truncation : Gaussian model only: the response is cut where w < truncation (the
        ellipse scaled by sqrt(log2(1/truncation)), 2.58 a for the default 0.01) and the
        weights renormalised. For a 2-D Gaussian the mass beyond the level-t contour is
        exactly t, so the cut discards a fraction ``truncation`` of the response.
    method : "polygon": overlap with an area-corrected 128-gon (exact per cell up to the
        polygon's deviation from the ellipse, below 0.03 % of a). "raster": analytic
        evaluation per cell: uniform cells with all four corners inside count fully,
        cells crossed by the ellipse are sub-sampled 16 x 16 at sub-cell centres (the
        per-cell error is at most about 1/16 and averages out; the total area is within
        1e-4 of pi a b), Gaussian cells are sub-sampled with a spacing of at most b/8.
        "auto": "raster" when the semi-minor axis spans at least 10 cell diagonals
        (e.g. SMOS on 100 m), "polygon" otherwise (e.g. on 0.25 degree). The Gaussian model
        is always rasterised.

    Returns
    -------
    FootprintWeights with model "uniform" or "gaussian".

    Notes
    -----
    The ellipse lives in the local azimuthal-equidistant frame of its centre (exact
    geodesic distances and azimuths, pyproj.Geod). Raster evaluation on projected grids
    maps grid offsets to that frame with the projection's Jacobian at the centre (whose
    determinant is 1 on an equal-area grid, so areas are kept). The position error grows
    with the square of the distance: on EPSG:3035 about 7 m at 20 km and 40 m at 50 km from
    a centre at Majadas, up to 80 m at 50 km at the edges of Europe; less than a 100 m
    cell even at the Gaussian truncation radius.

    References
    ----------
    EO_FORMATS.md sections 2.3 (AFP), 2.4 (3 dB ellipse, Gaussian weights) and 8.
    Kerr, Y. H. et al. (2010): The SMOS mission: new tool for monitoring key elements of
    the global water cycle. Proc. IEEE 98(5), 666-687,
    https://doi.org/10.1109/JPROC.2010.2043032
    """
    lon, lat, a_m, b_m, theta = _check_ellipses(
        lon, lat, semi_major_km, semi_minor_km, orientation_deg
    )
    if model not in ("uniform", "gaussian"):
        raise TccasInputError(f"ellipse model {model!r} must be 'uniform' or 'gaussian'")
    if method not in ("auto", "polygon", "raster"):
        raise TccasInputError(f"ellipse method {method!r} must be 'auto', 'polygon' or 'raster'")
    if not 0.0 < truncation < 0.5:
        raise TccasInputError(f"Gaussian truncation {truncation} must lie in (0, 0.5)")
    if lon.size == 0:
        return _empty_weights(grid, model)
    _check_projected(grid, *grid.lonlat_to_xy(lon, lat))
    if model == "gaussian":
        rasterise = np.ones(lon.size, dtype=bool)
    elif method == "auto":
        rasterise = b_m >= RASTER_CELLS_PER_SEMI_MINOR * _cell_diagonal_m(grid, lat)
    else:
        rasterise = np.full(lon.size, method == "raster")

    parts = []
    areas = np.empty(lon.size)
    if np.any(~rasterise):
        index = np.flatnonzero(~rasterise)
        vertex_lon, vertex_lat = ellipse_vertices(
            lon[index], lat[index], a_m[index] / 1e3, b_m[index] / 1e3,
            np.degrees(theta[index]),
        )
        px, py = grid.to_equal_area(_continuous_lon(grid, vertex_lon), vertex_lat,
                                    in_grid_frame=True)
        _check_projected(grid, px, py, first=index)
        vertices = _sort_counter_clockwise(np.stack([px, py], axis=-1))
        areas[index] = _shoelace_area(vertices)
        matrix, _ = _polygon_weights(grid, vertices, areas[index])
        parts.append((index, matrix))
    if np.any(rasterise):
        index = np.flatnonzero(rasterise)
        matrix, areas[index] = _raster_ellipses(
            grid, lon[index], lat[index], a_m[index], b_m[index], theta[index], model,
            truncation,
        )
        parts.append((index, matrix))
    matrix = _stack_rows(parts, lon.size, grid.n_cells)
    inside = np.asarray(matrix.sum(axis=1)).ravel()
    return FootprintWeights(matrix, inside, areas, model)


def ellipse_vertices(
    lon: ArrayLike,
    lat: ArrayLike,
    semi_major_km: ArrayLike,
    semi_minor_km: ArrayLike,
    orientation_deg: ArrayLike,
    n_vertices: int = ELLIPSE_VERTICES,
    area_corrected: bool = True,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Vertices of the polygons standing for ground ellipses.

    The vertex for parameter t is ``e = a cos t sin(theta) + b sin t cos(theta)`` east and
    ``n = a cos t cos(theta) - b sin t sin(theta)`` north of the centre [m], placed with an
    exact geodesic (distance and azimuth from the centre: the local azimuthal-equidistant
    frame). With ``area_corrected`` the radii are scaled by
    ``sqrt(2 pi / (N sin(2 pi / N)))`` so that the polygon's area equals pi a b (a plain
    inscribed N-gon falls short by 0.04 % for N = 128).

    Parameters
    ----------
    lon, lat : (n,) [degree] centres.
    semi_major_km, semi_minor_km : scalar or (n,) [km] semi-axes.
    orientation_deg : scalar or (n,) [degree] azimuth of the major axis clockwise from north.
    n_vertices : vertices per polygon (>= 48).
    area_corrected : scale the polygon to the ellipse's area.

    Returns
    -------
    (n, n_vertices) [degree] lon (continuous around each centre, not wrapped) and lat.
    """
    lon, lat, a_m, b_m, theta = _check_ellipses(
        lon, lat, semi_major_km, semi_minor_km, orientation_deg
    )
    if int(n_vertices) != n_vertices or n_vertices < 48:
        raise TccasInputError(f"n_vertices={n_vertices} must be an integer >= 48")
    t = 2.0 * np.pi * np.arange(n_vertices) / n_vertices
    scale = (
        math.sqrt(2.0 * math.pi / (n_vertices * math.sin(2.0 * math.pi / n_vertices)))
        if area_corrected else 1.0
    )
    cos_t, sin_t = np.cos(t)[None, :], np.sin(t)[None, :]
    sin_th, cos_th = np.sin(theta)[:, None], np.cos(theta)[:, None]
    east = scale * (a_m[:, None] * cos_t * sin_th + b_m[:, None] * sin_t * cos_th)
    north = scale * (a_m[:, None] * cos_t * cos_th - b_m[:, None] * sin_t * sin_th)
    shape = east.shape
    vertex_lon, vertex_lat, _ = GEOD.fwd(
        np.broadcast_to(lon[:, None], shape).ravel(),
        np.broadcast_to(lat[:, None], shape).ravel(),
        np.degrees(np.arctan2(east, north)).ravel(),
        np.hypot(east, north).ravel(),
    )
    vertex_lon = lon[:, None] + _wrap(np.reshape(vertex_lon, shape) - lon[:, None])
    return vertex_lon, np.reshape(vertex_lat, shape)


def cell_tile_matrix(
    cell_index: ArrayLike,
    tile_index: ArrayLike,
    cover_fraction: ArrayLike,
    n_cells: int,
    n_tiles: int,
) -> sparse.csr_matrix:
    """Sparse (cells x tiles) matrix of PFT cover fractions from COO triples.

    Parameters
    ----------
    cell_index : (m,) row of each entry: a grid cell id, or a position in a list of cells.
    tile_index : (m,) model tile (meteorology cell x PFT x soil class) of each entry.
    cover_fraction : (m,) [-] cover fraction of the tile's PFT in the cell, in [0, 1];
        the fractions of one cell sum to at most 1 (the rest is not modelled, e.g. water).
    n_cells, n_tiles : matrix shape.

    Returns
    -------
    (n_cells, n_tiles) CSR matrix; duplicate (cell, tile) entries are summed.

    References
    ----------
    ARCHITECTURE.md section 8 (a 100 m cell is sum_p frac_p x tile(meteo cell, PFT, soil)).
    """
    cells = np.asarray(cell_index, dtype=np.int64)
    tiles = np.asarray(tile_index, dtype=np.int64)
    fraction = np.asarray(cover_fraction, dtype=float)
    if not cells.shape == tiles.shape == fraction.shape or cells.ndim != 1:
        raise TccasInputError(
            f"cell_index {cells.shape}, tile_index {tiles.shape} and cover_fraction "
            f"{fraction.shape} must be 1-D of one length"
        )
    if cells.size and (cells.min() < 0 or cells.max() >= n_cells):
        raise TccasInputError(f"cell_index outside 0..{n_cells - 1}")
    if tiles.size and (tiles.min() < 0 or tiles.max() >= n_tiles):
        raise TccasInputError(f"tile_index outside 0..{n_tiles - 1}")
    if not np.all((fraction >= 0.0) & (fraction <= 1.0)):
        raise TccasInputError("cover_fraction must lie in [0, 1]")
    matrix = sparse.csr_matrix((fraction, (cells, tiles)), shape=(n_cells, n_tiles))
    matrix.sum_duplicates()
    per_cell = np.asarray(matrix.sum(axis=1)).ravel()
    if np.any(per_cell > 1.0 + 1e-9):
        cell = int(np.flatnonzero(per_cell > 1.0 + 1e-9)[0])
        raise TccasInputError(
            f"cover fractions of cell {cell} sum to {per_cell[cell]:.6f} > 1"
        )
    return matrix


def touched_cells(weights: FootprintWeights | sparse.spmatrix | sparse.sparray
                  ) -> NDArray[np.int64]:
    """Sorted unique ids of the cells with a nonzero weight (the rows of the static PFT map
    that :func:`aggregate_to_tiles` needs, as its ``cell_ids``).

    Uses a mask over all cells (one byte per cell), which is much faster than sorting the
    column indices of large weight matrices.
    """
    matrix = sparse.csr_matrix(weights.weights if isinstance(weights, FootprintWeights)
                               else weights)
    mask = np.zeros(matrix.shape[1], dtype=bool)
    mask[matrix.indices[matrix.data != 0]] = True
    return np.flatnonzero(mask)


def aggregate_to_tiles(
    weights: FootprintWeights | sparse.spmatrix | sparse.sparray,
    cell_tile: sparse.spmatrix | sparse.sparray,
    cell_ids: ArrayLike | None = None,
) -> sparse.csr_matrix:
    """Collapse footprint weights on grid cells onto model tiles.

    ``W_tiles = W_cells @ F`` with F[j, k] the cover fraction of tile k in cell j, so a
    simulated observation is ``W_tiles @ x_tiles``: one model run per tile, none per 100 m
    cell. Row sums are preserved wherever the fractions of each touched cell sum to 1.

    Parameters
    ----------
    weights : (n_obs, n_cells) footprint weights (or their :class:`FootprintWeights`).
    cell_tile : (n_cells, n_tiles) sparse cover fractions (:func:`cell_tile_matrix`), or
        (len(cell_ids), n_tiles) for the listed cells only.
    cell_ids : sorted unique grid cell ids of the rows of ``cell_tile`` when it covers only
        some cells (e.g. those the footprints touch, read from the static PFT map); every
        cell with a nonzero weight must be among them.

    Returns
    -------
    (n_obs, n_tiles) CSR matrix of tile weights [-].

    References
    ----------
    ARCHITECTURE.md section 8.
    """
    matrix = weights.weights if isinstance(weights, FootprintWeights) else weights
    matrix = sparse.csr_matrix(matrix)
    cell_tile = sparse.csr_matrix(cell_tile)
    if cell_ids is not None:
        ids = np.asarray(cell_ids, dtype=np.int64)
        if ids.ndim != 1 or ids.size != cell_tile.shape[0]:
            raise TccasInputError(
                f"cell_ids has {ids.size} entries but cell_tile has {cell_tile.shape[0]} rows"
            )
        if ids.size > 1 and np.any(np.diff(ids) <= 0):
            raise TccasInputError("cell_ids must be sorted and unique")
        # Searching in the dtype of the indices (int32 for up to 2**31 cells) halves the
        # memory traffic of the binary search.
        searched = ids
        if ids.size == 0 or ids[-1] <= np.iinfo(matrix.indices.dtype).max:
            searched = ids.astype(matrix.indices.dtype)
        position = np.searchsorted(searched, matrix.indices)
        found = position < ids.size
        found[found] = ids[position[found]] == matrix.indices[found]
        if not np.all(found):
            missing = int(matrix.indices[np.flatnonzero(~found)[0]])
            raise TccasInputError(f"footprint weights touch cell {missing}, not in cell_ids")
        matrix = sparse.csr_matrix(
            (matrix.data, position, matrix.indptr), shape=(matrix.shape[0], ids.size)
        )
    if matrix.shape[1] != cell_tile.shape[0]:
        raise TccasInputError(
            f"weights have {matrix.shape[1]} cell columns but cell_tile has "
            f"{cell_tile.shape[0]} rows"
        )
    tiles = sparse.csr_matrix(matrix @ cell_tile)
    tiles.sort_indices()
    return tiles


# ------------------------------------------------------------------------ validation
def _check_corners(
    corner_x: ArrayLike, corner_y: ArrayLike, geographic: bool = True
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    x = np.asarray(corner_x, dtype=float)
    y = np.asarray(corner_y, dtype=float)
    if x.ndim != 2 or x.shape[1:] != (4,) or y.shape != x.shape:
        raise TccasInputError(
            f"footprint corners x {x.shape} and y {y.shape} must both have shape (n, 4)"
        )
    if geographic:
        _check_lonlat(x, y, "corner")
    elif not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        index = int(np.flatnonzero(~(np.isfinite(x) & np.isfinite(y)).all(axis=1))[0])
        raise TccasInputError(f"footprint {index} has a non-finite corner")
    return x, y


def _check_lonlat(lon: NDArray[np.float64], lat: NDArray[np.float64], what: str) -> None:
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    if np.any(bad):
        index = np.unravel_index(np.flatnonzero(bad)[0], lon.shape)
        raise TccasInputError(f"footprint {what} {tuple(map(int, index))} is not finite")
    if np.any(np.abs(lat) > 90.0):
        index = np.unravel_index(np.flatnonzero(np.abs(lat) > 90.0)[0], lat.shape)
        raise TccasInputError(
            f"footprint {what} {tuple(map(int, index))} latitude {lat[index]} outside [-90, 90]"
        )


def _check_ellipses(
    lon: ArrayLike,
    lat: ArrayLike,
    semi_major_km: ArrayLike,
    semi_minor_km: ArrayLike,
    orientation_deg: ArrayLike,
) -> tuple[NDArray[np.float64], ...]:
    lon = np.atleast_1d(np.asarray(lon, dtype=float))
    lat = np.atleast_1d(np.asarray(lat, dtype=float))
    if lon.ndim != 1 or lat.shape != lon.shape:
        raise TccasInputError(f"lon {lon.shape} and lat {lat.shape} must be 1-D of one length")
    _check_lonlat(lon, lat, "centre")
    try:
        a_km, b_km, orientation = (
            np.broadcast_to(np.asarray(v, dtype=float), lon.shape)
            for v in (semi_major_km, semi_minor_km, orientation_deg)
        )
    except ValueError as err:
        raise TccasInputError(
            f"semi-axes and orientation must be scalars or have the shape {lon.shape}"
        ) from err
    checks = (
        (~np.isfinite(orientation), "orientation_deg is not finite"),
        (~(b_km > 0.0), "semi_minor_km must be > 0"),
        (~(a_km >= b_km) | ~np.isfinite(a_km), "semi_major_km must be >= semi_minor_km"),
    )
    for bad, message in checks:
        if np.any(bad):
            index = int(np.flatnonzero(bad)[0])
            raise TccasInputError(
                f"ellipse {index}: {message} (semi_major_km={a_km[index]}, "
                f"semi_minor_km={b_km[index]}, orientation_deg={orientation[index]})"
            )
    return lon, lat, a_km * 1e3, b_km * 1e3, np.radians(orientation)


def _check_projected(grid: Grid, x: NDArray[np.float64], y: NDArray[np.float64],
                     first: NDArray[np.int64] | None = None) -> None:
    """Raise for footprints whose coordinates the grid CRS cannot represent."""
    finite = np.isfinite(x) & np.isfinite(y)
    if finite.ndim > 1:
        finite = finite.all(axis=tuple(range(1, finite.ndim)))
    if not np.all(finite):
        index = int(np.flatnonzero(~finite)[0])
        if first is not None:
            index = int(first[index])
        raise TccasInputError(f"footprint {index} cannot be projected to {grid.crs.name}")


def _check_grid_match(grid: Grid, n_cells: int) -> None:
    if grid.n_cells != n_cells:
        raise TccasInputError(f"grid has {grid.n_cells} cells but the weights {n_cells}")


# --------------------------------------------------------------------------- helpers
def _wrap(delta_deg: NDArray[np.float64]) -> NDArray[np.float64]:
    return (delta_deg + 180.0) % 360.0 - 180.0


def _empty_weights(grid: Grid, model: str) -> FootprintWeights:
    return FootprintWeights(
        sparse.csr_matrix((0, grid.n_cells)), np.zeros(0), np.zeros(0), model
    )


def _continuous_lon(grid: Grid, lon: NDArray[np.float64]) -> NDArray[np.float64]:
    """Longitudes of each footprint (a row) made continuous around its centre and moved,
    as a whole, into the grid's longitude frame."""
    reference = lon[:, :1]
    centre = reference + _wrap(lon - reference).mean(axis=1, keepdims=True)
    relative = _wrap(lon - centre)
    if grid.is_geographic:
        centre, _ = grid.lonlat_to_xy(centre, np.zeros_like(centre))
    return centre + relative


def _sort_counter_clockwise(vertices: NDArray[np.float64]) -> NDArray[np.float64]:
    centre = vertices.mean(axis=1, keepdims=True)
    angle = np.arctan2(vertices[..., 1] - centre[..., 1], vertices[..., 0] - centre[..., 0])
    order = np.argsort(angle, axis=1)
    return np.take_along_axis(vertices, order[..., None], axis=1)


def _shoelace_area(vertices: NDArray[np.float64]) -> NDArray[np.float64]:
    local = vertices - vertices.mean(axis=1, keepdims=True)
    x, y = local[..., 0], local[..., 1]
    return 0.5 * np.sum(x * np.roll(y, -1, axis=1) - np.roll(x, -1, axis=1) * y, axis=1)


def _is_convex(vertices: NDArray[np.float64]) -> NDArray[np.bool_]:
    edge = np.roll(vertices, -1, axis=1) - vertices
    following = np.roll(edge, -1, axis=1)
    cross = edge[..., 0] * following[..., 1] - edge[..., 1] * following[..., 0]
    tolerance = 1e-12 * np.hypot(*np.moveaxis(edge, -1, 0)) * np.hypot(
        *np.moveaxis(following, -1, 0)
    )
    return np.all(cross >= -tolerance, axis=1)


def _cell_diagonal_m(grid: Grid, lat: NDArray[np.float64]) -> NDArray[np.float64]:
    """Upper bound of a cell's ground diagonal near each latitude [m]."""
    if grid.is_geographic:
        width = grid.dx * np.cos(np.radians(np.minimum(np.abs(lat), 89.0)))
        return np.hypot(width, grid.dy) * _METRES_PER_DEGREE_MAX
    # Equal-area projections distort lengths by a few per cent over their domain.
    return np.full(lat.shape, 1.05 * math.hypot(grid.dx, grid.dy))


def _index_range(
    edges: NDArray[np.float64], low: NDArray[np.float64], high: NDArray[np.float64], n: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """First and last cell (edges increasing) whose interval meets (low, high), clipped."""
    first = np.maximum(np.searchsorted(edges, low, side="right") - 1, 0)
    last = np.minimum(np.searchsorted(edges, high, side="left") - 1, n - 1)
    return first, last


def _expand_runs(
    start: NDArray[np.int64], length: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Flatten runs ``start[j] .. start[j] + length[j] - 1``: (run index, value) per item."""
    run = np.repeat(np.arange(length.size), length)
    offset = np.cumsum(length) - length
    return run, start[run] + np.arange(run.size) - offset[run]


def _stack_rows(
    parts: list[tuple[NDArray[np.int64], sparse.csr_matrix]], n_obs: int, n_cells: int
) -> sparse.csr_matrix:
    """Place the rows of several CSR matrices at the given row positions."""
    if len(parts) == 1 and np.array_equal(parts[0][0], np.arange(n_obs)):
        return parts[0][1]
    order = np.concatenate([index for index, _ in parts])
    stacked = sparse.vstack([matrix for _, matrix in parts], format="csr")
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    result = sparse.csr_matrix(stacked[inverse])
    result.resize((n_obs, n_cells))
    return result


class _RowCollector:
    """Collects per-footprint (cell, weight) pieces into a CSR matrix.

    With ``ordered`` the pieces arrive grouped by ascending footprint, each with ascending
    unique cells, and the CSR arrays are concatenated directly; otherwise (wrapped copies on
    global lat/lon grids) duplicates are summed through COO.
    """

    def __init__(self, n_obs: int, n_cells: int, ordered: bool) -> None:
        self.shape = (n_obs, n_cells)
        self.ordered = ordered
        self.rows: list[NDArray[np.int32]] = []
        self.cells: list[NDArray[np.int32]] = []
        self.values: list[NDArray[np.float64]] = []

    def add(self, row: NDArray[np.int64], cell: NDArray[np.int64],
            value: NDArray[np.float64]) -> None:
        self.rows.append(np.asarray(row, dtype=np.int32))
        self.cells.append(np.asarray(cell, dtype=np.int32))
        self.values.append(np.asarray(value, dtype=float))

    def matrix(self) -> sparse.csr_matrix:
        if not self.rows:
            return sparse.csr_matrix(self.shape)
        rows = np.concatenate(self.rows)
        cells = np.concatenate(self.cells)
        values = np.concatenate(self.values)
        self.rows, self.cells, self.values = [], [], []
        if self.ordered:
            indptr = np.zeros(self.shape[0] + 1, dtype=np.int64)
            np.cumsum(np.bincount(rows, minlength=self.shape[0]), out=indptr[1:])
            return sparse.csr_matrix((values, cells, indptr), shape=self.shape)
        matrix = sparse.csr_matrix(sparse.coo_matrix((values, (rows, cells)), shape=self.shape))
        matrix.sum_duplicates()
        return matrix


# ------------------------------------------------------------------- polygon overlaps
def _polygon_weights(
    grid: Grid, vertices: NDArray[np.float64], area: NDArray[np.float64]
) -> tuple[sparse.csr_matrix, NDArray[np.float64]]:
    """Overlap weights of counter-clockwise polygons (n, k, 2) in the equal-area plane."""
    n_obs = vertices.shape[0]
    owner = np.arange(n_obs)
    if grid.is_global_in_longitude:
        # Copies shifted by one turn catch the parts beyond the grid's east or west edge.
        x_edges, _ = grid.equal_area_edges()
        turn = x_edges[-1] - x_edges[0]
        east = np.flatnonzero(vertices[..., 0].max(axis=1) > x_edges[-1])
        west = np.flatnonzero(vertices[..., 0].min(axis=1) < x_edges[0])
        shifted = [vertices[east] - [turn, 0.0], vertices[west] + [turn, 0.0]]
        vertices = np.concatenate([vertices, *shifted])
        owner = np.concatenate([owner, east, west])
    collector = _RowCollector(n_obs, grid.n_cells, ordered=owner.size == n_obs)
    for chunk in _polygon_chunks(grid, vertices):
        cell, overlap, poly = _polygon_overlaps(grid, vertices[chunk])
        collector.add(owner[chunk][poly], cell, overlap / area[owner[chunk][poly]])
    matrix = collector.matrix()
    return matrix, np.asarray(matrix.sum(axis=1)).ravel()


def _polygon_chunks(grid: Grid, vertices: NDArray[np.float64]) -> list[NDArray[np.int64]]:
    """Split polygons into groups of at most about CHUNK_CELLS candidate cells."""
    x_edges, y_edges = grid.equal_area_edges()
    width = np.ptp(vertices[..., 0], axis=1) / (x_edges[1] - x_edges[0]) + 2.0
    height = np.ptp(vertices[..., 1], axis=1) / np.min(np.abs(np.diff(y_edges))) + 2.0
    cumulative = np.cumsum(width * height)
    group = (cumulative // CHUNK_CELLS).astype(np.int64)
    boundaries = np.flatnonzero(np.diff(group)) + 1
    return np.split(np.arange(vertices.shape[0]), boundaries)


def _chord(
    px: NDArray[np.float64], py: NDArray[np.float64], qx: NDArray[np.float64],
    qy: NDArray[np.float64], y: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """x-extent of the polygon edges (p -> q, shape (m, k)) crossing the lines y (m,)."""
    y = y[:, None]
    dy = qy - py
    crossing = (np.minimum(py, qy) <= y) & (y <= np.maximum(py, qy)) & (dy != 0.0)
    t = np.clip((y - py) / np.where(crossing, dy, 1.0), 0.0, 1.0)
    x = px + t * (qx - px)
    low = np.where(crossing, x, np.inf).min(axis=1)
    high = np.where(crossing, x, -np.inf).max(axis=1)
    return low, high


def _polygon_overlaps(
    grid: Grid, vertices: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """Overlap areas [m2] of polygons (m, k, 2) with grid cells: (cell id, area, polygon).

    Cells are visited row by row. In each row the polygon's x-extent bounds the candidate
    cells and, for convex polygons, the x-range where the whole row height lies inside
    gives the fully covered cells. The remaining candidates get their exact overlap from
    :func:`_boundary_overlaps`.
    """
    x_edges, y_edges = grid.equal_area_edges()
    ny, nx = grid.shape
    px, py = vertices[..., 0], vertices[..., 1]
    qx, qy = np.roll(px, -1, axis=1), np.roll(py, -1, axis=1)
    convex = _is_convex(vertices)
    x_min, x_max = px.min(axis=1), px.max(axis=1)
    y_min, y_max = py.min(axis=1), py.max(axis=1)

    # Rows (plane y edges decrease with the row number) and columns met by each bbox.
    y_increasing = y_edges[::-1]
    j_first, j_last = _index_range(y_increasing, y_min, y_max, ny)
    c_first, c_last = _index_range(x_edges, x_min, x_max, nx)
    n_rows = np.where(c_first <= c_last, np.maximum(j_last - j_first + 1, 0), 0)
    pair_poly, row = _expand_runs(ny - 1 - j_last, n_rows)
    y_low, y_high = y_edges[row + 1], y_edges[row]

    # Polygon x-extent inside the row strip: chords at the clamped strip edges and the
    # vertices inside the strip.
    args = (px[pair_poly], py[pair_poly], qx[pair_poly], qy[pair_poly])
    strip_low = np.maximum(y_low, y_min[pair_poly])
    strip_high = np.minimum(y_high, y_max[pair_poly])
    low_a, high_a = _chord(*args, strip_low)
    low_b, high_b = _chord(*args, strip_high)
    in_strip = (args[1] >= strip_low[:, None]) & (args[1] <= strip_high[:, None])
    outer_low = np.minimum(np.minimum(low_a, low_b),
                           np.where(in_strip, args[0], np.inf).min(axis=1))
    outer_high = np.maximum(np.maximum(high_a, high_b),
                            np.where(in_strip, args[0], -np.inf).max(axis=1))
    pad = 1e-9 * (x_max - x_min)[pair_poly]
    is_convex = convex[pair_poly]
    outer_low = np.where(is_convex, outer_low - pad, x_min[pair_poly])
    outer_high = np.where(is_convex, outer_high + pad, x_max[pair_poly])
    # Columns fully covered over the whole strip height (convex: chord(y_low) & chord(y_high)).
    whole = is_convex & (y_low >= y_min[pair_poly]) & (y_high <= y_max[pair_poly])
    full_low = np.where(whole, np.maximum(low_a, low_b), np.inf)
    full_high = np.where(whole, np.minimum(high_a, high_b), -np.inf)

    col_first, col_last = _index_range(x_edges, outer_low, outer_high, nx)
    run_length = np.maximum(col_last - col_first + 1, 0)
    interior_first = np.searchsorted(x_edges, full_low, side="left")
    interior_stop = np.searchsorted(x_edges, full_high, side="right") - 1

    pair, col = _expand_runs(col_first, run_length)
    poly = pair_poly[pair]
    row = row[pair]
    width = x_edges[col + 1] - x_edges[col]
    height = y_edges[row] - y_edges[row + 1]
    area = width * height
    interior = (col >= interior_first[pair]) & (col < interior_stop[pair])
    boundary = np.flatnonzero(~interior)
    area[boundary] = _boundary_overlaps(
        vertices, poly[boundary], x_edges[col[boundary]], x_edges[col[boundary] + 1],
        y_edges[row[boundary] + 1], y_edges[row[boundary]],
    )
    keep = area > SLIVER_FRACTION * width * height
    return (row * nx + col)[keep], area[keep], poly[keep]


def _boundary_overlaps(
    vertices: NDArray[np.float64], poly: NDArray[np.int64], x0: NDArray[np.float64],
    x1: NDArray[np.float64], y0: NDArray[np.float64], y1: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Overlap areas [m2] of cells [x0, x1] x [y0, y1] with their polygons.

    Green's theorem on the cell: the overlap of a simple counter-clockwise polygon P with
    an axis-parallel rectangle is ``-sum_edges integral clamp(y(x), y0, y1) - y0 dx`` with x
    restricted to [x0, x1] (on every vertical line, upper boundary edges run westwards and
    lower ones eastwards, so the sum is the length of P's section inside [y0, y1]). Each
    edge contributes the integral of a clamped linear function: closed form, no clipping,
    any simple polygon (convex or not), exact up to rounding. Against GEOS clipping
    (shapely.clip_by_rect, used before) the areas differ by at most about 6e-16 of the cell
    area on the TROPOMI and SMOS footprints of a Lapland half-year; it is 12 (128-gons) to
    19 (quadrilaterals) times faster. Coordinates are taken relative to the cell's corner,
    so the rounding scales with the footprint's size, not with the plane coordinates.
    """
    area = np.empty(poly.size)
    step = max(1, CHUNK_EDGES // vertices.shape[1])
    for first in range(0, poly.size, step):
        part = slice(first, first + step)
        chosen = poly[part]
        ax = vertices[chosen, :, 0] - x0[part, None]
        ay = vertices[chosen, :, 1] - y0[part, None]
        bx, by = np.roll(ax, -1, axis=1), np.roll(ay, -1, axis=1)
        width = (x1[part] - x0[part])[:, None]
        height = (y1[part] - y0[part])[:, None]
        # The edge's section over the cell's columns, its ends interpolated from the nearer
        # vertex (exact where the vertex lies inside the column range).
        start, stop = np.clip(ax, 0.0, width), np.clip(bx, 0.0, width)
        run = bx - ax
        slope = (by - ay) / np.where(run != 0.0, run, 1.0)
        y_start = ay + (start - ax) * slope
        y_stop = by + (stop - bx) * slope
        inside_mean = (_positive_mean(y_start, y_stop)
                       - _positive_mean(y_start - height, y_stop - height))
        area[part] = -np.sum((stop - start) * inside_mean, axis=1)
    return area


def _positive_mean(start: NDArray[np.float64], stop: NDArray[np.float64]
                   ) -> NDArray[np.float64]:
    """Mean of max(0, y) over a segment where y runs linearly from ``start`` to ``stop``.

    Both ends >= 0: the trapezoid mean; opposite signs: the triangle above zero,
    ``high**2 / (2 (high - low))`` (no cancellation: high - low adds magnitudes); else 0.
    """
    high = np.maximum(start, stop)
    low = np.minimum(start, stop)
    mixed = (high > 0.0) & (low < 0.0)
    crossing = high * high / (2.0 * np.where(mixed, high - low, 1.0))
    return np.where(low >= 0.0, 0.5 * (start + stop), np.where(mixed, crossing, 0.0))


# -------------------------------------------------------------------- raster ellipses
@dataclass(frozen=True)
class _LocalEllipse:
    """One ellipse, with the map from grid coordinates to its normalised radius q.

    On projected grids q is the quadratic form ``d' A d`` of the grid offset d from the
    centre, ``A = K' R' diag(1/a**2, 1/b**2) R K`` with K the inverse Jacobian of the
    projection at the centre (grid offsets to ground east/north) and R the rotation onto
    the ellipse axes. On lat/lon grids ground offsets are exact geodesics (pyproj.Geod).
    """

    grid: Grid
    lon: float
    lat: float
    a: float
    b: float
    theta: float
    centre_x: float
    centre_y: float
    jacobian_inverse: NDArray[np.float64] | None

    @cached_property
    def metric(self) -> NDArray[np.float64]:
        """(2, 2) quadratic form A of q in grid offsets (projected grids)."""
        sin_t, cos_t = math.sin(self.theta), math.cos(self.theta)
        axes = np.array([[sin_t, cos_t], [cos_t, -sin_t]])
        ground_metric = axes.T @ np.diag([1.0 / self.a**2, 1.0 / self.b**2]) @ axes
        k = self.jacobian_inverse
        return k.T @ ground_metric @ k

    def q(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
        """Normalised squared radius (u/a)**2 + (v/b)**2 at grid points (broadcast); it is 1
        on the ellipse, u and v being ground distances along the major and minor axes."""
        if self.jacobian_inverse is not None:
            metric = self.metric
            dx, dy = x - self.centre_x, y - self.centre_y
            return metric[0, 0] * dx**2 + (2.0 * metric[0, 1] * dy) * dx + metric[1, 1] * dy**2
        lon, lat = np.broadcast_arrays(x, y)
        azimuth, _, distance = GEOD.inv(
            np.full(lon.size, self.lon), np.full(lon.size, self.lat), lon.ravel(), lat.ravel()
        )
        azimuth = np.radians(np.reshape(azimuth, lon.shape))
        distance = np.reshape(distance, lon.shape)
        relative = azimuth - self.theta
        along, across = distance * np.cos(relative), distance * np.sin(relative)
        return (along / self.a) ** 2 + (across / self.b) ** 2

    def ground_cell_size(self) -> tuple[float, float]:
        """(largest side, half diagonal) of a cell on the ground [m], upper bounds."""
        grid = self.grid
        if self.jacobian_inverse is None:
            side = max(grid.dx, grid.dy) * _METRES_PER_DEGREE_MAX
            return side, 0.5 * math.hypot(grid.dx, grid.dy) * _METRES_PER_DEGREE_MAX
        k = self.jacobian_inverse
        sides = (np.hypot(*(k @ [grid.dx, 0.0])), np.hypot(*(k @ [0.0, grid.dy])))
        diagonals = (np.hypot(*(k @ [grid.dx, grid.dy])), np.hypot(*(k @ [grid.dx, -grid.dy])))
        return float(max(sides)), 0.5 * float(max(diagonals))

    def bounding_box(self, q_limit: float) -> tuple[float, float, float, float]:
        """(x_min, y_min, x_max, y_max) in grid coordinates of the region q <= q_limit."""
        if self.jacobian_inverse is not None:
            # Offsets d with d' A d <= q_limit satisfy |d_x| <= sqrt(q_limit (A^-1)_xx).
            inverse = np.linalg.inv(self.metric)
            half_x = math.sqrt(q_limit * inverse[0, 0])
            half_y = math.sqrt(q_limit * inverse[1, 1])
            return (self.centre_x - half_x, self.centre_y - half_y,
                    self.centre_x + half_x, self.centre_y + half_y)
        radius = 1.01 * self.a * math.sqrt(q_limit)
        if abs(self.lat) + math.degrees(radius / 6.3e6) >= 90.0:
            return (self.centre_x - 180.0, -90.0, self.centre_x + 180.0, 90.0)
        azimuth = np.arange(0.0, 360.0, 5.0)
        lon, lat, _ = GEOD.fwd(np.full(azimuth.size, self.lon), np.full(azimuth.size, self.lat),
                               azimuth, np.full(azimuth.size, radius))
        lon = self.centre_x + _wrap(np.asarray(lon) - self.lon)
        return (lon.min(), max(-90.0, np.min(lat)), lon.max(), min(90.0, np.max(lat)))


def _local_ellipses(
    grid: Grid, lon: NDArray[np.float64], lat: NDArray[np.float64], a: NDArray[np.float64],
    b: NDArray[np.float64], theta: NDArray[np.float64]
) -> list[_LocalEllipse]:
    centre_x, centre_y = grid.lonlat_to_xy(lon, lat)
    if grid.is_geographic:
        inverses = [None] * lon.size
    else:
        # Next to the projection's singular point (the antipode of the LAEA centre) the
        # differences may be inf - inf; such footprints are rejected just below.
        with np.errstate(invalid="ignore"):
            jacobian = _ground_jacobian(grid, lon, lat)
        _check_projected(grid, jacobian[:, 0, 0] * jacobian[:, 1, 1],
                         jacobian[:, 0, 1] * jacobian[:, 1, 0])
        inverses = list(np.linalg.inv(jacobian))
    return [
        _LocalEllipse(grid, float(lon[i]), float(lat[i]), float(a[i]), float(b[i]),
                      float(theta[i]), float(centre_x[i]), float(centre_y[i]), inverses[i])
        for i in range(lon.size)
    ]


def _ground_jacobian(
    grid: Grid, lon: NDArray[np.float64], lat: NDArray[np.float64], step: float = 50.0
) -> NDArray[np.float64]:
    """(n, 2, 2) d(grid x, y) / d(east, north) at each point, by central differences [-]."""
    columns = []
    for azimuth in (90.0, 0.0):
        ahead = GEOD.fwd(lon, lat, np.full(lon.size, azimuth), np.full(lon.size, step))
        behind = GEOD.fwd(lon, lat, np.full(lon.size, azimuth + 180.0),
                          np.full(lon.size, step))
        x_ahead, y_ahead = grid.lonlat_to_xy(ahead[0], ahead[1])
        x_behind, y_behind = grid.lonlat_to_xy(behind[0], behind[1])
        columns.append(np.stack([x_ahead - x_behind, y_ahead - y_behind], -1) / (2 * step))
    return np.stack(columns, axis=-1)


def _raster_ellipses(
    grid: Grid, lon: NDArray[np.float64], lat: NDArray[np.float64], a: NDArray[np.float64],
    b: NDArray[np.float64], theta: NDArray[np.float64], model: EllipseModel,
    truncation: float,
) -> tuple[sparse.csr_matrix, NDArray[np.float64]]:
    """Analytic raster weights of ellipses; returns the matrix and the response areas."""
    wrap_columns = grid.is_global_in_longitude
    collector = _RowCollector(lon.size, grid.n_cells, ordered=not wrap_columns)
    areas = np.empty(lon.size)
    for i, ellipse in enumerate(_local_ellipses(grid, lon, lat, a, b, theta)):
        rows, cols, response = (
            _raster_uniform(ellipse) if model == "uniform"
            else _raster_gaussian(ellipse, truncation)
        )
        areas[i] = response.sum()
        if wrap_columns:
            cols = cols % grid.nx
        row_in = np.flatnonzero((rows >= 0) & (rows < grid.ny))
        col_in = np.flatnonzero((cols >= 0) & (cols < grid.nx))
        if row_in.size == 0 or col_in.size == 0:
            continue
        row_slice = slice(row_in[0], row_in[-1] + 1)
        col_slice = slice(col_in[0], col_in[-1] + 1)
        window = response[row_slice, col_slice]
        r, c = np.nonzero(window)
        cell = rows[row_slice][r] * grid.nx + cols[col_slice][c]
        collector.add(np.full(cell.size, i), cell, window[r, c] / areas[i])
    return collector.matrix(), areas


def _raster_window(
    ellipse: _LocalEllipse, q_limit: float
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]:
    """Rows, columns (possibly beyond the grid) and their edges covering q <= q_limit."""
    grid = ellipse.grid
    x_low, y_low, x_high, y_high = ellipse.bounding_box(q_limit)
    x_west, _, _, y_north = grid.bounds
    col0 = math.floor((x_low - x_west) / grid.dx) - 1
    col1 = math.floor((x_high - x_west) / grid.dx) + 1
    row0 = math.floor((y_north - y_high) / grid.dy) - 1
    row1 = math.floor((y_north - y_low) / grid.dy) + 1
    if grid.is_geographic:
        # Virtual rows beyond the poles hold no area.
        row0 = max(row0, math.floor((y_north - 90.0) / grid.dy))
        row1 = min(row1, math.ceil((y_north + 90.0) / grid.dy) - 1)
    rows = np.arange(row0, row1 + 1)
    cols = np.arange(col0, col1 + 1)
    x_edges = x_west + grid.dx * np.arange(col0, col1 + 2)
    y_edges = y_north - grid.dy * np.arange(row0, row1 + 2)
    if grid.is_geographic:
        y_edges = np.clip(y_edges, -90.0, 90.0)
    return rows, cols, x_edges, y_edges


def _sub_centres(edges: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """(len(edges) - 1, n) centres of n equal sub-intervals of each interval."""
    fraction = (np.arange(n) + 0.5) / n
    return edges[:-1, None] + fraction[None, :] * np.diff(edges)[:, None]


def _sub_edges(edges: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """Edges of n equal sub-intervals of each interval, (n * (len(edges) - 1) + 1,)."""
    fraction = np.arange(n) / n
    inner = edges[:-1, None] + np.diff(edges)[:, None] * fraction[None, :]
    return np.append(inner.ravel(), edges[-1])


def _strip_areas(grid: Grid, y_edges: NDArray[np.float64], x_step: float
                 ) -> NDArray[np.float64]:
    """True area [m2] of a cell x_step wide between consecutive y edges, per strip."""
    if not grid.is_geographic:
        return np.abs(np.diff(y_edges)) * x_step
    plane_x, _ = grid.to_equal_area(np.array([0.0, x_step]), np.zeros(2), in_grid_frame=True)
    _, plane_y = grid.to_equal_area(np.zeros(y_edges.size), y_edges, in_grid_frame=True)
    return np.abs(np.diff(plane_y)) * (plane_x[1] - plane_x[0])


def _raster_uniform(
    ellipse: _LocalEllipse,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Covered area [m2] of each cell of the window by the ellipse q <= 1."""
    grid = ellipse.grid
    rows, cols, x_edges, y_edges = _raster_window(ellipse, 1.0)
    q_nodes = ellipse.q(x_edges[None, :], y_edges[:, None])
    q_rows_max = np.maximum(q_nodes[:-1], q_nodes[1:])
    q_rows_min = np.minimum(q_nodes[:-1], q_nodes[1:])
    corner_max = np.maximum(q_rows_max[:, :-1], q_rows_max[:, 1:])
    corner_min = np.minimum(q_rows_min[:, :-1], q_rows_min[:, 1:])
    # The ellipse is convex: a cell with its four corners inside lies inside. sqrt(q) is
    # Lipschitz with constant 1/b in ground distance, so a cell none of whose corners has
    # sqrt(q) <= 1 + diagonal / b cannot touch the ellipse.
    coverage = (corner_max <= 1.0).astype(float)
    _, half_diagonal = ellipse.ground_cell_size()
    reach = (1.0 + 2.02 * half_diagonal / ellipse.b) ** 2
    cut_row, cut_col = np.nonzero((corner_max > 1.0) & (corner_min <= reach))
    n = BOUNDARY_SUBSAMPLES
    sub_x = _sub_centres(x_edges, n)[cut_col]
    sub_y_edges = _sub_edges(y_edges, n)
    sub_y = (0.5 * (sub_y_edges[:-1] + sub_y_edges[1:])).reshape(-1, n)[cut_row]
    strip = _strip_areas(grid, sub_y_edges, 1.0).reshape(-1, n)
    row_weight = (strip / strip.sum(axis=1, keepdims=True))[cut_row]
    inside = ellipse.q(sub_x[:, None, :], sub_y[:, :, None]) <= 1.0
    coverage[cut_row, cut_col] = np.sum(row_weight * inside.mean(axis=2), axis=1)
    return rows, cols, coverage * _strip_areas(grid, y_edges, grid.dx)[:, None]


def _raster_gaussian(
    ellipse: _LocalEllipse, truncation: float
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Integrated peak-normalised Gaussian gain [m2] of each cell of the window."""
    grid = ellipse.grid
    q_limit = math.log2(1.0 / truncation)
    rows, cols, x_edges, y_edges = _raster_window(ellipse, q_limit)
    side, _ = ellipse.ground_cell_size()
    n = max(1, math.ceil(GAUSSIAN_SAMPLES_PER_SEMI_MINOR * side / ellipse.b))
    sub_x = _sub_centres(x_edges, n).ravel()
    sub_y_edges = _sub_edges(y_edges, n)
    sub_y = 0.5 * (sub_y_edges[:-1] + sub_y_edges[1:])
    q = ellipse.q(sub_x[None, :], sub_y[:, None])
    gain = np.exp(-math.log(2.0) * np.minimum(q, q_limit))
    gain[q > q_limit] = 0.0
    gain *= _strip_areas(grid, sub_y_edges, grid.dx / n)[:, None]
    if n == 1:
        return rows, cols, gain
    return rows, cols, gain.reshape(rows.size, n, cols.size, n).sum(axis=(1, 3))
