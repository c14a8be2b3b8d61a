"""Tests of tccas.operators.footprint: overlap weights, ellipses, dateline, tiles, errors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod
from scipy import sparse

from tccas.catalog.grid import laea_grid, latlon_grid
from tccas.model.errors import TccasInputError
from tccas.operators.footprint import (
    ELLIPSE_VERTICES,
    FootprintWeights,
    _boundary_overlaps,
    aggregate_to_tiles,
    cell_tile_matrix,
    ellipse_vertices,
    ellipse_weights,
    quad_weights,
    quad_weights_xy,
)

MAJADAS = (-5.77, 39.94)


@pytest.fixture(scope="module")
def fine_grid():
    """100 m EPSG:3035 grid of about 50 x 40 km around Majadas."""
    return laea_grid(-6.1, 39.75, -5.45, 40.15, 100.0)


@pytest.fixture(scope="module")
def coarse_grid():
    """0.25 degree lat/lon grid around Majadas."""
    return latlon_grid(-8.0, 38.0, -3.5, 42.0, 0.25)


def row_dict(weights: FootprintWeights, row: int = 0) -> dict[int, float]:
    matrix = weights.weights
    start, stop = matrix.indptr[row], matrix.indptr[row + 1]
    return dict(zip(matrix.indices[start:stop].tolist(), matrix.data[start:stop].tolist(),
                    strict=True))


def grid_corners(grid, x_low, y_low, x_high, y_high):
    """(1, 4) corners of a grid-aligned rectangle, in grid coordinates."""
    return (np.array([[x_low, x_high, x_high, x_low]]),
            np.array([[y_low, y_low, y_high, y_high]]))


# ------------------------------------------------------------------ quadrilaterals
def test_axis_aligned_pixel_on_laea_grid_is_exact(fine_grid):
    x0, dx, _, y0, _, _ = fine_grid.transform
    # 1.5 x 1 cells: half of cell (row 3, col 2) and all of cell (3, 3).
    x, y = grid_corners(fine_grid, x0 + 2.5 * dx, y0 - 4 * dx, x0 + 4 * dx, y0 - 3 * dx)
    result = quad_weights_xy(fine_grid, x, y)
    weights = row_dict(result)
    assert set(weights) == {fine_grid.cell_id(3, 2), fine_grid.cell_id(3, 3)}
    assert weights[fine_grid.cell_id(3, 2)] == pytest.approx(1 / 3, abs=1e-9)
    assert weights[fine_grid.cell_id(3, 3)] == pytest.approx(2 / 3, abs=1e-9)
    assert result.footprint_area_m2[0] == pytest.approx(1.5e4, rel=1e-12)
    # Through lon/lat the PROJ 9.5 LAEA round trip moves corners by up to 1 mm.
    lon, lat = fine_grid.xy_to_lonlat(x, y)
    via_lonlat = row_dict(quad_weights(fine_grid, lon, lat))
    assert via_lonlat[fine_grid.cell_id(3, 2)] == pytest.approx(1 / 3, abs=2e-5)
    assert via_lonlat[fine_grid.cell_id(3, 3)] == pytest.approx(2 / 3, abs=2e-5)


def test_axis_aligned_pixel_on_latlon_grid_is_exact(coarse_grid):
    lon = np.array([[-5.875, -5.5, -5.5, -5.875]])
    lat = np.array([[40.0, 40.0, 40.25, 40.25]])
    weights = row_dict(quad_weights(coarse_grid, lon, lat))
    west, east = coarse_grid.cell_of([-5.8, -5.6], [40.1, 40.1])
    assert set(weights) == {int(west), int(east)}
    assert weights[int(west)] == pytest.approx(1 / 3, abs=1e-12)
    assert weights[int(east)] == pytest.approx(2 / 3, abs=1e-12)


def test_pixel_straddling_four_cells(fine_grid, coarse_grid):
    x0, dx, _, y0, _, _ = fine_grid.transform
    x, y = grid_corners(fine_grid, x0 + 9.5 * dx, y0 - 20.5 * dx, x0 + 10.5 * dx,
                        y0 - 19.5 * dx)
    weights = row_dict(quad_weights_xy(fine_grid, x, y))
    assert len(weights) == 4
    np.testing.assert_allclose(list(weights.values()), 0.25, atol=1e-12)
    # On the lat/lon grid the northern cells are smaller, so they get less.
    lon = np.array([[-5.6, -5.4, -5.4, -5.6]])
    lat = np.array([[39.9, 39.9, 40.1, 40.1]])
    result = quad_weights(coarse_grid, lon, lat)
    weights = row_dict(result)
    assert len(weights) == 4 and sum(weights.values()) == pytest.approx(1.0, abs=1e-12)
    geod = Geod(ellps="WGS84")
    t = np.linspace(0.0, 1.0, 200)

    def area(west, south, east, north):
        lons = np.concatenate([west + (east - west) * t, np.full(200, east),
                               east - (east - west) * t, np.full(200, west)])
        lats = np.concatenate([np.full(200, south), south + (north - south) * t,
                               np.full(200, north), north - (north - south) * t])
        return abs(geod.polygon_area_perimeter(lons, lats)[0])

    total = area(-5.6, 39.9, -5.4, 40.1)
    for cell, (lon_c, lat_c, box) in {
        "sw": (-5.55, 39.95, (-5.6, 39.9, -5.5, 40.0)),
        "ne": (-5.45, 40.05, (-5.5, 40.0, -5.4, 40.1)),
    }.items():
        cell_id = int(coarse_grid.cell_of([lon_c], [lat_c])[0])
        assert weights[cell_id] == pytest.approx(area(*box) / total, abs=1e-7), cell
    assert result.footprint_area_m2[0] == pytest.approx(total, rel=1e-7)


def test_rows_sum_to_one_inside_and_less_at_the_edge(fine_grid):
    x0, _, _, y0, _, _ = fine_grid.transform
    inside = grid_corners(fine_grid, x0 + 1000.3, y0 - 3000.0, x0 + 4500.0, y0 - 2000.7)
    edge = grid_corners(fine_grid, x0 - 1750.0, y0 - 9000.0, x0 + 1750.0, y0 - 3500.0)
    outside = grid_corners(fine_grid, x0 - 9000.0, y0 - 9000.0, x0 - 5000.0, y0 - 3500.0)
    x = np.concatenate([inside[0], edge[0], outside[0]])
    y = np.concatenate([inside[1], edge[1], outside[1]])
    result = quad_weights_xy(fine_grid, x, y)
    sums = np.asarray(result.weights.sum(axis=1)).ravel()
    np.testing.assert_allclose(sums, result.inside_fraction, atol=1e-14)
    np.testing.assert_allclose(result.inside_fraction, [1.0, 0.5, 0.0], atol=1e-12)
    coverage = result.cell_coverage(fine_grid)
    assert coverage.max() <= 1.0 + 1e-12
    # x 1000.3..4500 m, y 2000.7..3000 m below the corner: whole cells in cols 11-44 and
    # rows 21-29, partial ones in col 10 and row 20.
    assert np.sum(np.isclose(coverage[0].data, 1.0, rtol=0, atol=1e-12)) == 34 * 9
    assert coverage[0].nnz == 35 * 10


def tropomi_like_corners(lon, lat, heading_deg, across_m=3500.0, along_m=5500.0):
    geod = Geod(ellps="WGS84")
    corners = []
    for east, north in ((-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)):
        e, n = east * across_m, north * along_m
        azimuth = heading_deg + math.degrees(math.atan2(e, n))
        clon, clat, _ = geod.fwd(lon, lat, azimuth, math.hypot(e, n))
        corners.append((clon, clat))
    return np.array([[c[0] for c in corners]]), np.array([[c[1] for c in corners]])


@pytest.mark.parametrize("grid_name", ["fine_grid", "coarse_grid"])
def test_corner_order_does_not_matter(grid_name, request):
    grid = request.getfixturevalue(grid_name)
    lon, lat = tropomi_like_corners(-5.5, 40.0, -13.0)
    orders = list(itertools.permutations(range(4)))
    result = quad_weights(grid, lon[:, orders][0], lat[:, orders][0])
    assert result.n_obs == 24
    dense = result.weights.toarray() if grid.n_cells < 1000 else None
    reference = row_dict(result, 0)
    for row in range(24):
        weights = row_dict(result, row)
        assert weights.keys() == reference.keys()
        np.testing.assert_allclose(list(weights.values()), list(reference.values()),
                                   rtol=0, atol=1e-13)
    if dense is not None:
        np.testing.assert_allclose(dense, dense[:1].repeat(24, axis=0), atol=1e-13)
    np.testing.assert_allclose(result.inside_fraction, 1.0, atol=1e-12)


def sorted_polygon(x, y):
    angle = np.arctan2(y - y.mean(), x - x.mean())
    order = np.argsort(angle)
    return shapely.Polygon(np.column_stack([x[order], y[order]]))


def shapely_reference(grid, polygon):
    """Exact overlap fractions from shapely against every cell of the polygon's bbox."""
    x_min, y_min, x_max, y_max = polygon.bounds
    x0, dx, _, y0, _, _ = grid.transform
    cols = np.arange(max(0, math.floor((x_min - x0) / dx)),
                     min(grid.nx, math.floor((x_max - x0) / dx) + 1))
    rows = np.arange(max(0, math.floor((y0 - y_max) / dx)),
                     min(grid.ny, math.floor((y0 - y_min) / dx) + 1))
    row, col = (a.ravel() for a in np.meshgrid(rows, cols, indexing="ij"))
    boxes = shapely.box(x0 + col * dx, y0 - (row + 1) * dx, x0 + (col + 1) * dx, y0 - row * dx)
    area = shapely.area(shapely.intersection(polygon, boxes)) / polygon.area
    keep = area > 0
    return dict(zip((row * grid.nx + col)[keep].tolist(), area[keep].tolist(), strict=True))


SMALL_GRID = laea_grid(-5.9, 39.9, -5.8, 40.0, 100.0)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    centre=st.tuples(st.floats(-0.1, 1.1), st.floats(-0.1, 1.1)),
    size=st.tuples(st.floats(40.0, 3000.0), st.floats(40.0, 3000.0)),
    rotation=st.one_of(st.just(0.0), st.just(90.0), st.floats(0.0, 180.0)),
    shear=st.floats(-0.6, 0.6),
    order=st.permutations(range(4)),
)
def test_quad_weights_match_shapely_overlaps(centre, size, rotation, shear, order):
    """Property: weights equal exact shapely overlaps (convex quads of any shape/position)."""
    grid = SMALL_GRID
    x_west, y_south, x_east, y_north = grid.bounds
    cx = x_west + centre[0] * (x_east - x_west)
    cy = y_south + centre[1] * (y_north - y_south)
    u = np.array([-0.5, 0.5, 0.5, -0.5]) * size[0]
    v = np.array([-0.5, -0.5, 0.5, 0.5]) * size[1]
    u = u + shear * v
    angle = math.radians(rotation)
    x = cx + u * math.cos(angle) - v * math.sin(angle)
    y = cy + u * math.sin(angle) + v * math.cos(angle)
    x, y = x[list(order)], y[list(order)]
    result = quad_weights_xy(grid, x[None], y[None])
    polygon = sorted_polygon(x, y)
    reference = shapely_reference(grid, polygon)
    weights = row_dict(result)
    for cell in set(weights) | set(reference):
        assert weights.get(cell, 0.0) == pytest.approx(reference.get(cell, 0.0), abs=1e-9)
    assert result.inside_fraction[0] == pytest.approx(sum(reference.values()), abs=1e-9)
    assert result.footprint_area_m2[0] == pytest.approx(polygon.area, rel=1e-9)


def test_non_convex_quad_is_exact():
    grid = SMALL_GRID
    x0, _, _, y0, _, _ = grid.transform
    x = x0 + np.array([1000.0, 2600.0, 1000.0, 1400.0])
    y = y0 - np.array([1000.0, 1800.0, 2600.0, 1800.0])
    result = quad_weights_xy(grid, x[None], y[None])
    reference = shapely_reference(grid, sorted_polygon(x, y))
    weights = row_dict(result)
    assert weights.keys() == reference.keys()
    for cell, value in reference.items():
        assert weights[cell] == pytest.approx(value, abs=1e-12)


def test_ellipse_polygon_weights_match_shapely_overlaps():
    """The 128-gon of an ellipse (convex, many edges per boundary cell) gets exactly the
    shapely overlaps of the same polygon in every cell, partial cells included."""
    grid = SMALL_GRID
    lon, lat = ellipse_vertices([-5.8512], [39.9473], 1.3, 0.7, 28.0)
    x, y = grid.to_equal_area(lon[0], lat[0])
    polygon = sorted_polygon(x, y)
    result = ellipse_weights(grid, [-5.8512], [39.9473], 1.3, 0.7, 28.0, method="polygon")
    reference = shapely_reference(grid, polygon)
    weights = row_dict(result)
    assert weights.keys() == reference.keys()
    partial = [cell for cell, value in reference.items() if value < 1e4 / polygon.area - 1e-9]
    assert len(partial) > 50
    for cell, value in reference.items():
        assert weights[cell] == pytest.approx(value, abs=1e-13)
    assert result.footprint_area_m2[0] == pytest.approx(polygon.area, rel=1e-12)


def test_boundary_overlaps_of_a_non_convex_star_equal_shapely():
    """Green's theorem per cell holds for any simple counter-clockwise polygon: a
    12-pointed star against cells inside, outside, on its tips and in its notches."""
    angle = np.linspace(0.0, 2.0 * np.pi, 24, endpoint=False)
    radius = np.where(np.arange(24) % 2 == 0, 1000.0, 350.0)
    vertices = np.stack([5.0e5 + radius * np.cos(angle), 2.0e6 + radius * np.sin(angle)],
                        axis=-1)[None]
    x0, y0 = np.meshgrid(5.0e5 + np.arange(-1300.0, 1200.0, 170.0),
                         2.0e6 + np.arange(-1250.0, 1200.0, 230.0))
    x0, y0 = x0.ravel(), y0.ravel()
    x1, y1 = x0 + 170.0, y0 + 230.0
    area = _boundary_overlaps(vertices, np.zeros(x0.size, dtype=np.int64), x0, x1, y0, y1)
    star = shapely.Polygon(vertices[0])
    expected = shapely.area(shapely.intersection(star, shapely.box(x0, y0, x1, y1)))
    np.testing.assert_allclose(area, expected, rtol=0, atol=1e-9 * 170.0 * 230.0)
    # 165 cells: 93 outside, 5 inside the star's core, 67 cut by its boundary.
    assert (x0.size, np.sum(expected == 0.0), np.sum(expected == 170.0 * 230.0)) == (165, 93, 5)
    assert area.sum() == pytest.approx(star.area, rel=1e-12)


def test_quad_with_a_repeated_corner_is_a_triangle():
    grid = SMALL_GRID
    x0, _, _, y0, _, _ = grid.transform
    x = x0 + np.array([1020.0, 2630.0, 2630.0, 1310.0])
    y = y0 - np.array([1040.0, 1870.0, 1870.0, 2550.0])
    result = quad_weights_xy(grid, x[None], y[None])
    reference = shapely_reference(grid, shapely.Polygon(np.column_stack([x, y])[[0, 1, 3]]))
    weights = row_dict(result)
    assert weights.keys() == reference.keys()
    for cell, value in reference.items():
        assert weights[cell] == pytest.approx(value, abs=1e-12)


def test_dateline_pixel_equals_shifted_pixel():
    lon = np.array([[179.99, -179.99, -179.97, 179.97]])
    lat = np.array([[0.02, 0.01, 0.06, 0.07]])
    across = quad_weights(latlon_grid(179.0, -1.0, 181.0, 1.0, 0.25), lon, lat)
    shifted = quad_weights(latlon_grid(169.0, -1.0, 171.0, 1.0, 0.25),
                           np.array([[169.99, 170.01, 170.03, 169.97]]), lat)
    assert across.weights.nnz == 2
    np.testing.assert_array_equal(across.weights.indices, shifted.weights.indices)
    np.testing.assert_allclose(across.weights.data, shifted.weights.data, atol=1e-9)
    np.testing.assert_allclose(across.inside_fraction, 1.0, atol=1e-12)


def test_dateline_pixel_on_a_global_grid_wraps_around():
    grid = latlon_grid(-180.0, -2.0, 180.0, 2.0, 0.5)
    lat = np.array([[0.1, 0.1, 0.3, 0.3]])
    across = quad_weights(grid, np.array([[179.9, -179.9, -179.9, 179.9]]), lat)
    centred = quad_weights(grid, np.array([[-0.1, 0.1, 0.1, -0.1]]), lat)
    row = grid.cell_of([0.0], [0.2])[0] // grid.nx
    assert sorted(row_dict(across)) == [row * grid.nx, row * grid.nx + grid.nx - 1]
    np.testing.assert_allclose(sorted(row_dict(across).values()),
                               sorted(row_dict(centred).values()), atol=1e-12)
    np.testing.assert_allclose(across.inside_fraction, 1.0, atol=1e-12)
    circle = ellipse_weights(grid, [180.0], [0.0], 30.0, 30.0, 0.0)
    assert circle.inside_fraction[0] == pytest.approx(1.0, abs=1e-12)
    cols = circle.weights.indices % grid.nx
    assert set(cols) == {0, grid.nx - 1}
    gaussian = ellipse_weights(grid, [-179.9], [0.0], 30.0, 30.0, 0.0, model="gaussian")
    assert gaussian.inside_fraction[0] == pytest.approx(1.0, abs=1e-12)


# ------------------------------------------------------------------------ ellipses
def test_ellipse_vertices_are_area_corrected():
    geod = Geod(ellps="WGS84")
    a, b = 25.0, 18.0
    target = math.pi * a * b * 1e6
    lon, lat = ellipse_vertices([MAJADAS[0]], [MAJADAS[1]], a, b, 30.0)
    assert lon.shape == (1, ELLIPSE_VERTICES)
    area = abs(geod.polygon_area_perimeter(lon[0], lat[0])[0])
    assert area == pytest.approx(target, rel=1e-4)
    lon, lat = ellipse_vertices([MAJADAS[0]], [MAJADAS[1]], a, b, 30.0, n_vertices=48,
                                area_corrected=False)
    deficit = 1.0 - abs(geod.polygon_area_perimeter(lon[0], lat[0])[0]) / target
    assert deficit == pytest.approx(1.0 - 24.0 / math.pi * math.sin(2.0 * math.pi / 48),
                                    abs=1e-4)


@pytest.mark.parametrize(("grid_name", "method"),
                         [("coarse_grid", "polygon"), ("fine_grid", "raster")])
def test_uniform_ellipse_area_is_pi_a_b(grid_name, method, request):
    grid = request.getfixturevalue(grid_name)
    a, b = 20.0, 15.0
    result = ellipse_weights(grid, [MAJADAS[0]], [MAJADAS[1]], a, b, 35.0)
    assert result.weights.nnz > 0
    coverage = result.cell_coverage(grid)
    area = (coverage @ grid.cell_area(np.arange(grid.n_cells)))[0]
    assert area == pytest.approx(math.pi * a * b * 1e6, rel=5e-3)
    assert area == pytest.approx(math.pi * a * b * 1e6, rel=2e-4)
    assert coverage.max() <= 1.0 + 1e-9
    assert result.inside_fraction[0] == pytest.approx(1.0, abs=1e-12)
    # method="auto" picks the polygon on 0.25 degree and the raster on 100 m.
    forced = ellipse_weights(grid, [MAJADAS[0]], [MAJADAS[1]], a, b, 35.0, method=method)
    assert abs(forced.weights - result.weights).max() == 0.0


def test_raster_matches_polygon_on_the_fine_grid(fine_grid):
    args = (fine_grid, [-5.7712], [39.9413], 3.0, 2.0, 63.0)
    polygon = ellipse_weights(*args, method="polygon")
    raster = ellipse_weights(*args, method="raster")
    polygon_cover = polygon.cell_coverage(fine_grid).toarray().ravel()
    raster_cover = raster.cell_coverage(fine_grid).toarray().ravel()
    difference = np.abs(polygon_cover - raster_cover)
    # Sub-sampling 16 x 16 bounds the per-cell error by about 1/16; it averages out.
    assert difference.max() < 0.07
    assert difference[difference > 0].mean() < 0.01
    assert raster.footprint_area_m2[0] == pytest.approx(polygon.footprint_area_m2[0], rel=5e-4)
    assert np.sum((raster_cover == 1.0) & (polygon_cover < 1.0 - 1e-9)) == 0


def test_orientation_is_the_azimuth_of_the_major_axis():
    grid = laea_grid(9.9, 51.9, 10.1, 52.1, 100.0)  # at the EPSG:3035 origin: north = +y
    extents = {}
    for orientation in (0.0, 90.0, 45.0):
        result = ellipse_weights(grid, [10.0], [52.0], 5.0, 2.0, orientation)
        rows, cols = grid.row_col(result.weights.indices)
        extents[orientation] = (np.ptp(rows) + 1, np.ptp(cols) + 1)
    assert extents[0.0][0] == pytest.approx(100, abs=2) and extents[0.0][1] == pytest.approx(
        40, abs=2)
    assert extents[90.0][0] == pytest.approx(40, abs=2)
    assert extents[90.0][1] == pytest.approx(100, abs=2)
    result = ellipse_weights(grid, [10.0], [52.0], 5.0, 2.0, 45.0)
    rows, cols = grid.row_col(result.weights.indices)
    # Clockwise from north: the major axis runs north-east, so rows fall as cols grow.
    assert np.corrcoef(rows, cols)[0, 1] < -0.5


def test_circle_does_not_depend_on_orientation(fine_grid):
    first = ellipse_weights(fine_grid, [MAJADAS[0]], [MAJADAS[1]], 23.8, 23.8, 0.0)
    second = ellipse_weights(fine_grid, [MAJADAS[0]], [MAJADAS[1]], 23.8, 23.8, 77.0)
    assert abs(first.weights - second.weights).max() < 1e-12


def test_ellipse_on_the_grid_edge_is_half_inside(fine_grid):
    x_west, _, _, y_north = fine_grid.bounds
    lon, lat = fine_grid.xy_to_lonlat([x_west], [y_north - 20e3])
    raster = ellipse_weights(fine_grid, lon, lat, 8.0, 8.0, 0.0)
    assert raster.inside_fraction[0] == pytest.approx(0.5, abs=2e-3)
    polygon = ellipse_weights(fine_grid, lon, lat, 8.0, 8.0, 0.0, method="polygon")
    assert polygon.inside_fraction[0] == pytest.approx(0.5, abs=2e-3)
    sums = np.asarray(raster.weights.sum(axis=1)).ravel()
    np.testing.assert_allclose(sums, raster.inside_fraction, atol=1e-12)


def test_gaussian_peaks_in_the_centre_and_is_peaked_within_the_3db_ellipse(fine_grid):
    a, b, truncation = 3.0, 2.0, 0.01
    args = (fine_grid, [MAJADAS[0]], [MAJADAS[1]], a, b, 20.0)
    uniform = ellipse_weights(*args)
    gaussian = ellipse_weights(*args, model="gaussian", truncation=truncation)
    centre = int(fine_grid.cell_of([MAJADAS[0]], [MAJADAS[1]])[0])
    g = gaussian.weights.toarray().ravel()
    u = uniform.weights.toarray().ravel()
    assert int(np.argmax(g)) == centre
    assert gaussian.inside_fraction[0] == pytest.approx(1.0, abs=1e-12)
    # Gain 1 at the centre and 1/2 on the 3 dB ellipse: weights inside it span a factor 2.
    cover = uniform.cell_coverage(fine_grid).toarray().ravel()
    core = cover == 1.0
    assert g[core].max() / g[core].min() == pytest.approx(2.0, abs=0.1)
    assert u[core].max() / u[core].min() == pytest.approx(1.0, abs=1e-12)
    # Within the 3 dB ellipse the Gaussian puts more of its weight on the centre cell.
    inside_mass = np.sum(g * cover)
    assert g[centre] / inside_mass > 1.3 * u[centre]
    # Mass beyond the gain-t contour of a 2-D Gaussian is t: half lies outside the 3 dB
    # ellipse, and the renormalised inside share is 0.5 / (1 - t).
    assert inside_mass == pytest.approx(0.5 / (1.0 - truncation), rel=1e-2)
    expected_area = math.pi * a * b * 1e6 * (1.0 - truncation) / math.log(2.0)
    assert gaussian.footprint_area_m2[0] == pytest.approx(expected_area, rel=2e-3)
    # The truncated support is the 3 dB ellipse scaled by sqrt(log2(1/t)) = 2.58.
    support_cells = math.pi * a * b * 1e6 * math.log2(1.0 / truncation) / 1e4
    assert gaussian.weights.nnz == pytest.approx(support_cells, rel=0.02)


def test_gaussian_on_the_latlon_grid_is_subsampled(coarse_grid):
    result = ellipse_weights(coarse_grid, [MAJADAS[0]], [MAJADAS[1]], 20.0, 16.0, 10.0,
                             model="gaussian")
    expected_area = math.pi * 20e3 * 16e3 * 0.99 / math.log(2.0)
    assert result.footprint_area_m2[0] == pytest.approx(expected_area, rel=5e-3)
    assert result.inside_fraction[0] == pytest.approx(1.0, abs=1e-12)
    centre = int(coarse_grid.cell_of([MAJADAS[0]], [MAJADAS[1]])[0])
    assert int(np.argmax(result.weights.toarray())) == centre


# ------------------------------------------------------------------------- tiles
def test_aggregation_to_tiles_preserves_row_sums(fine_grid):
    lons, lats = zip(*(tropomi_like_corners(-5.8 + 0.05 * i, 39.95, -10.0 + 3 * i)
                       for i in range(5)), strict=True)
    pixels = quad_weights(fine_grid, np.concatenate(lons), np.concatenate(lats))
    circle = ellipse_weights(fine_grid, [-5.75], [39.95], 8.0, 8.0, 0.0)
    matrix = sparse.vstack([pixels.weights, circle.weights], format="csr")
    touched = np.unique(matrix.indices)
    rows, cols = fine_grid.row_col(touched)
    meteo = (rows // 250) * 100 + cols // 250  # 25 km meteorology cells
    tree = 0.2 + 0.6 * ((rows * 7 + cols * 3) % 11) / 10.0
    cell_index = np.repeat(np.arange(touched.size), 2)
    tile_index = np.column_stack([2 * meteo, 2 * meteo + 1]).ravel()
    fraction = np.column_stack([tree, 1.0 - tree]).ravel()
    n_tiles = int(tile_index.max()) + 1
    compact = cell_tile_matrix(cell_index, tile_index, fraction, touched.size, n_tiles)
    tiles = aggregate_to_tiles(matrix, compact, cell_ids=touched)
    assert tiles.shape == (6, n_tiles)
    np.testing.assert_allclose(np.asarray(tiles.sum(axis=1)).ravel(),
                               np.asarray(matrix.sum(axis=1)).ravel(), atol=1e-12)
    assert tiles.nnz < matrix.nnz / 100
    full = cell_tile_matrix(touched[cell_index], tile_index, fraction, fine_grid.n_cells,
                            n_tiles)
    assert abs(aggregate_to_tiles(matrix, full) - tiles).max() < 1e-15
    single = aggregate_to_tiles(circle, full)
    assert single.sum() == pytest.approx(1.0, abs=1e-12)
    # Cells with 20 % open water keep 80 % of the footprint on modelled tiles.
    partial = cell_tile_matrix(np.arange(touched.size), 2 * meteo, np.full(touched.size, 0.8),
                               touched.size, n_tiles)
    np.testing.assert_allclose(
        np.asarray(aggregate_to_tiles(matrix, partial, touched).sum(axis=1)).ravel(),
        0.8 * np.asarray(matrix.sum(axis=1)).ravel(), atol=1e-12)
    with pytest.raises(TccasInputError, match="not in cell_ids"):
        aggregate_to_tiles(matrix, compact[1:], cell_ids=touched[1:])


# -------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    ("lon", "lat", "fragment"),
    [
        (np.zeros((2, 3)), np.zeros((2, 3)), "shape"),
        (np.array([[0.0, 0.1, 0.1, np.nan]]), np.array([[40.0, 40.0, 40.1, 40.1]]),
         "not finite"),
        (np.array([[0.0, 0.1, 0.1, 0.0]]), np.array([[89.9, 89.9, 95.0, 95.0]]), "latitude"),
        (np.array([[-5.0, -4.9, -4.8, -4.7]]), np.full((1, 4), 40.0), "zero area"),
        (np.array([[-5.0, -4.9, -4.9, -5.0]]), np.array([[40.0, 40.0, 40.0, 40.0]]), "zero area"),
    ],
)
def test_quad_weights_rejects_bad_corners(coarse_grid, lon, lat, fragment):
    with pytest.raises(TccasInputError, match=fragment):
        quad_weights(coarse_grid, lon, lat)


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"semi_minor_km": 30.0}, "semi_major_km must be >= semi_minor_km"),
        ({"semi_minor_km": 0.0}, "semi_minor_km must be > 0"),
        ({"orientation_deg": float("nan")}, "orientation_deg"),
        ({"model": "cosine"}, "model"),
        ({"method": "exact"}, "method"),
        ({"truncation": 0.7}, "truncation"),
        ({"semi_major_km": [20.0, 21.0, 22.0]}, "shape"),
        ({"lat": [95.0]}, "latitude"),
    ],
)
def test_ellipse_weights_rejects_bad_input(coarse_grid, kwargs, fragment):
    args = {"lon": [MAJADAS[0]], "lat": [MAJADAS[1]], "semi_major_km": 20.0,
            "semi_minor_km": 15.0, "orientation_deg": 0.0}
    args.update(kwargs)
    with pytest.raises(TccasInputError, match=fragment):
        ellipse_weights(coarse_grid, **args)


def test_other_bad_input(coarse_grid, fine_grid):
    with pytest.raises(TccasInputError, match="sum to"):
        cell_tile_matrix([0, 0], [0, 1], [0.7, 0.5], 3, 2)
    with pytest.raises(TccasInputError, match="cover_fraction"):
        cell_tile_matrix([0], [0], [1.5], 3, 2)
    with pytest.raises(TccasInputError, match="tile_index"):
        cell_tile_matrix([0], [5], [0.5], 3, 2)
    weights = ellipse_weights(coarse_grid, [MAJADAS[0]], [MAJADAS[1]], 20.0, 15.0, 0.0)
    with pytest.raises(TccasInputError, match="cells"):
        weights.cell_coverage(fine_grid)
    with pytest.raises(TccasInputError, match="rows"):
        aggregate_to_tiles(weights, sparse.csr_matrix((5, 2)))
    with pytest.raises(TccasInputError, match="n_vertices"):
        ellipse_vertices([0.0], [0.0], 2.0, 1.0, 0.0, n_vertices=12)
    # The antipode of the EPSG:3035 centre (10 E, 52 N) has no LAEA coordinates.
    for semi_axis in (20.0, 1.0):
        with pytest.raises(TccasInputError, match="footprint 1 cannot be projected"):
            ellipse_weights(fine_grid, [-5.8, -170.0], [40.0, -52.0], semi_axis, semi_axis, 0.0)
    with pytest.raises(TccasInputError, match="cannot be projected"):
        quad_weights(fine_grid, [[-170.01, -169.99, -169.99, -170.01]],
                     [[-52.01, -52.01, -51.99, -51.99]])


def test_empty_input_gives_empty_weights(coarse_grid):
    result = quad_weights(coarse_grid, np.zeros((0, 4)), np.zeros((0, 4)))
    assert result.weights.shape == (0, coarse_grid.n_cells)
    assert ellipse_weights(coarse_grid, [], [], 20.0, 15.0, 0.0).n_obs == 0
