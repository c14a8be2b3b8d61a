"""Tests of tccas.catalog.grid: geometry, true cell areas, blocks and input validation."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from pyproj import CRS, Geod, Transformer

from tccas.catalog.grid import (
    LAEA_EUROPE,
    Grid,
    authalic_q,
    laea_grid,
    latlon_grid,
    wrap_longitude,
)
from tccas.model.errors import TccasInputError

WGS84_A = 6378137.0
WGS84_F = 1.0 / 298.257223563
WGS84_E = math.sqrt(WGS84_F * (2.0 - WGS84_F))
AUTHALIC_RADIUS = WGS84_A * math.sqrt(float(authalic_q(90.0, WGS84_E)) / 2.0)


def geodesic_rectangle_area(west: float, south: float, east: float, north: float) -> float:
    """Area of a lon/lat rectangle from pyproj.Geod, edges densified along the parallels."""
    t = np.linspace(0.0, 1.0, 400)
    lon = np.concatenate([west + (east - west) * t, np.full(t.size, east),
                          east - (east - west) * t, np.full(t.size, west)])
    lat = np.concatenate([np.full(t.size, south), south + (north - south) * t,
                          np.full(t.size, north), north - (north - south) * t])
    area, _ = Geod(ellps="WGS84").polygon_area_perimeter(lon, lat)
    return abs(area)


def test_latlon_grid_layout():
    grid = latlon_grid(-10.0, 35.0, 5.0, 45.0, 0.25)
    assert grid.shape == (40, 60)
    assert grid.transform == (-10.0, 0.25, 0.0, 45.0, 0.0, -0.25)
    assert grid.crs == CRS.from_epsg(4326)
    np.testing.assert_allclose(grid.x[[0, -1]], [-9.875, 4.875])
    np.testing.assert_allclose(grid.y[[0, -1]], [44.875, 35.125])
    assert grid.x_edges.shape == (61,) and grid.y_edges.shape == (41,)
    np.testing.assert_allclose(grid.x_bounds[3], [-9.25, -9.0])
    np.testing.assert_allclose(grid.y_bounds[0], [45.0, 44.75])
    assert grid.bounds == (-10.0, 35.0, 5.0, 45.0)
    ids = grid.cell_ids
    assert ids.shape == grid.shape and ids[1, 2] == 62 and ids.ravel()[-1] == grid.n_cells - 1
    row, col = grid.row_col([0, 62, grid.n_cells - 1])
    assert row.tolist() == [0, 1, 39] and col.tolist() == [0, 2, 59]
    np.testing.assert_allclose(grid.cell_bounds(62), [-9.5, 44.5, -9.25, 44.75])


def test_latlon_cell_area_at_40n_matches_spherical_and_geodesic_areas():
    grid = latlon_grid(0.0, 40.0, 0.25, 40.25, 0.25)
    area = grid.cell_area(0)
    spherical = AUTHALIC_RADIUS**2 * math.radians(0.25) * (
        math.sin(math.radians(40.25)) - math.sin(math.radians(40.0))
    )
    # The authalic sphere differs from the ellipsoid by 0.11 % at 40N (its latitudes are
    # geodetic, not authalic); the ellipsoidal formula agrees with pyproj.Geod to 1e-9.
    assert area == pytest.approx(spherical, rel=2e-3)
    assert area == pytest.approx(geodesic_rectangle_area(0.0, 40.0, 0.25, 40.25), rel=1e-9)
    assert area == pytest.approx(5.91535e8, rel=1e-5)


def test_global_grid_area_is_the_ellipsoid_surface():
    grid = latlon_grid(-180.0, -90.0, 180.0, 90.0, 1.0)
    assert grid.is_global_in_longitude
    assert grid.cell_area().sum() == pytest.approx(4.0 * math.pi * AUTHALIC_RADIUS**2, rel=1e-12)
    assert grid.cell_area().shape == grid.shape


def test_equal_area_plane_of_latlon_grid_is_pyproj_cea():
    grid = latlon_grid(-10.0, 35.0, 5.0, 45.0, 0.25)
    lon = np.array([-9.3, -2.5, 4.9])
    lat = np.array([35.2, 40.0, 44.9])
    x, y = grid.to_equal_area(lon, lat)
    cea = CRS.from_proj4(f"+proj=cea +lon_0={grid.central_longitude} +lat_ts=0 +ellps=WGS84")
    x_ref, y_ref = Transformer.from_crs(4326, cea, always_xy=True).transform(lon, lat)
    np.testing.assert_allclose(x, x_ref, atol=1e-6)
    np.testing.assert_allclose(y, y_ref, atol=1e-6)
    x_edges, y_edges = grid.equal_area_edges()
    plane_area = np.diff(x_edges)[0] * (y_edges[:-1] - y_edges[1:])
    np.testing.assert_allclose(plane_area, grid.row_area(), rtol=1e-12)


def test_laea_grid_covers_the_box_on_snapped_edges():
    grid = laea_grid(-6.0, 39.5, -5.5, 40.0, 100.0)
    assert grid.crs == LAEA_EUROPE
    x_west, y_south, x_east, y_north = grid.bounds
    for edge in (x_west, y_south, x_east, y_north):
        assert edge % 100.0 == 0.0
    t = np.linspace(0.0, 1.0, 1001)
    lon = np.concatenate([-6.0 + 0.5 * t, np.full(t.size, -5.5), -6.0 + 0.5 * t,
                          np.full(t.size, -6.0)])
    lat = np.concatenate([np.full(t.size, 39.5), 39.5 + 0.5 * t, np.full(t.size, 40.0),
                          39.5 + 0.5 * t])
    x, y = Transformer.from_crs(4326, 3035, always_xy=True).transform(lon, lat)
    # The projected box lies inside the grid, less than one cell from each snapped edge.
    assert x_west <= x.min() < x_west + 100.0 and x_east - 100.0 < x.max() <= x_east
    assert y_south <= y.min() < y_south + 100.0 and y_north - 100.0 < y.max() <= y_north
    assert np.all(grid.cell_of(lon, lat) >= 0)
    np.testing.assert_array_equal(grid.cell_area([0, 5]), [1e4, 1e4])
    assert grid.row_area().shape == (grid.ny,)


def test_lonlat_round_trip_and_cell_lookup():
    grid = laea_grid(-6.0, 39.5, -5.5, 40.0, 100.0)
    lon, lat = np.array([-5.77, -5.9]), np.array([39.94, 39.6])
    x, y = grid.lonlat_to_xy(lon, lat)
    lon_back, lat_back = grid.xy_to_lonlat(x, y)
    np.testing.assert_allclose(lon_back, lon, atol=1e-9)
    np.testing.assert_allclose(lat_back, lat, atol=1e-9)
    ids = grid.cell_of(lon, lat)
    bounds = grid.cell_bounds(ids)
    assert np.all((bounds[:, 0] <= x) & (x < bounds[:, 2]))
    assert np.all((bounds[:, 1] < y) & (y <= bounds[:, 3]))
    assert grid.cell_of([20.0], [60.0])[0] == -1


def test_grid_across_the_antimeridian_uses_continuous_longitudes():
    grid = latlon_grid(179.0, -1.0, 181.0, 1.0, 0.25)
    assert grid.shape == (8, 8)
    assert grid.cell_of([-179.9], [0.1])[0] == grid.cell_id(3, 4)
    assert grid.cell_of([179.1], [0.1])[0] == grid.cell_id(3, 0)
    x, _ = grid.lonlat_to_xy([-179.5, 179.5], [0.0, 0.0])
    np.testing.assert_allclose(x, [180.5, 179.5])
    np.testing.assert_allclose(wrap_longitude([180.0, -180.0, 359.0]), [-180.0, -180.0, -1.0])


@pytest.mark.parametrize("block_shape", [(7, 11), (40, 60), (1, 1), (100, 3)])
def test_blocks_cover_every_cell_exactly_once(block_shape):
    grid = latlon_grid(-10.0, 35.0, 5.0, 45.0, 0.25)
    blocks = grid.blocks(block_shape)
    ids = np.concatenate([block.cell_ids() for block in blocks])
    np.testing.assert_array_equal(np.sort(ids), np.arange(grid.n_cells))
    assert [block.index for block in blocks] == list(range(len(blocks)))
    assert all(block.shape[0] <= block_shape[0] and block.shape[1] <= block_shape[1]
               for block in blocks)
    first = blocks[0]
    assert first.cell_ids().size == first.shape[0] * first.shape[1]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((5.0, 35.0, -10.0, 45.0, 0.25), "west=5.0"),
        ((-10.0, 45.0, 5.0, 35.0, 0.25), "south=45.0"),
        ((-10.0, 35.0, 5.0, 45.0, 0.0), "res_deg=0.0"),
        ((-10.0, 35.0, 5.0, 45.0, -1.0), "res_deg=-1.0"),
        ((-10.0, 35.0, 5.0, 95.0, 0.25), "north=95.0"),
        ((float("nan"), 35.0, 5.0, 45.0, 0.25), "west=nan"),
        ((-10.0, 35.0, 5.0, 45.0, 0.3), "not a multiple"),
        ((-200.0, 35.0, 5.0, 45.0, 0.25), "west=-200.0"),
        ((-10.0, 35.0, 355.0, 45.0, 0.25), "east=355.0"),
    ],
)
def test_latlon_grid_rejects_bad_input(args, fragment):
    with pytest.raises(TccasInputError, match=re.escape(fragment)):
        latlon_grid(*args)


def test_laea_grid_rejects_bad_input():
    with pytest.raises(TccasInputError, match="res_m=0"):
        laea_grid(-6.0, 39.5, -5.5, 40.0, 0)
    with pytest.raises(TccasInputError, match=re.escape("west=-5.0")):
        laea_grid(-5.0, 39.5, -5.5, 40.0, 100.0)
    with pytest.raises(TccasInputError, match="cells"):
        laea_grid(-30.0, 30.0, 40.0, 70.0, 1.0)


def test_grid_rejects_bad_construction():
    with pytest.raises(TccasInputError, match="not equal-area"):
        Grid(CRS.from_epsg(32630), (0.0, 100.0, 0.0, 0.0, 0.0, -100.0), (10, 10))
    with pytest.raises(TccasInputError, match="not a valid CRS"):
        Grid("EPSG:999999", (0.0, 100.0, 0.0, 0.0, 0.0, -100.0), (10, 10))
    with pytest.raises(TccasInputError, match="north-up"):
        Grid(LAEA_EUROPE, (0.0, 100.0, 0.0, 0.0, 0.0, 100.0), (10, 10))
    with pytest.raises(TccasInputError, match="shape"):
        Grid(LAEA_EUROPE, (0.0, 100.0, 0.0, 0.0, 0.0, -100.0), (0, 10))
    grid = latlon_grid(-10.0, 35.0, 5.0, 45.0, 0.25)
    with pytest.raises(TccasInputError, match="block_shape"):
        grid.blocks((0, 5))
    with pytest.raises(TccasInputError, match="cell id"):
        grid.cell_area([grid.n_cells])
    with pytest.raises(TccasInputError, match="row/col"):
        grid.cell_id(40, 0)
