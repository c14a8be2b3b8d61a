"""Model grids: regular lat/lon (EPSG:4326) and LAEA Europe (EPSG:3035), and their blocks.

A :class:`Grid` is a north-up raster: a CRS, a GDAL GeoTransform and a shape ``(ny, nx)``.
Cells are numbered row-major from the north-west corner (``cell_id = row * nx + col``), the
numbering used by the footprint weights and the Zarr catalogue (ARCHITECTURE.md sections 4
and 5). Cell areas are true areas on the grid's ellipsoid.

Footprint geometry needs an equal-area plane in which the grid cells are rectangles. For an
equal-area projected grid (EPSG:3035) that plane is the grid CRS itself. For a lat/lon grid
it is the Lambert cylindrical equal-area projection on the grid's ellipsoid, centred on the
grid's central meridian (:meth:`Grid.to_equal_area`): parallels and meridians stay straight,
so lat/lon cells are exact rectangles there and their plane areas are their true areas.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from tccas.model.errors import TccasInputError

LAEA_EUROPE = CRS.from_epsg(3035)
WGS84_LONLAT = CRS.from_epsg(4326)

# Cell ids travel as int32 in the sparse footprint matrices.
MAX_CELLS = 2**31 - 1

_THREAD_LOCAL = threading.local()


def transformer(source: CRS, target: CRS) -> Transformer:
    """A cached ``always_xy`` :class:`pyproj.Transformer`, one per thread.

    pyproj transformers must not be shared between threads (Dask's threaded scheduler runs
    several at once), so the cache is thread-local.

    Parameters
    ----------
    source, target : CRS of the input and output coordinates.

    Returns
    -------
    Transformer taking (x, y) = (lon, lat) or (easting, northing) in that order.
    """
    cache = getattr(_THREAD_LOCAL, "transformers", None)
    if cache is None:
        cache = _THREAD_LOCAL.transformers = {}
    key = (source.to_wkt(), target.to_wkt())
    if key not in cache:
        cache[key] = Transformer.from_crs(source, target, always_xy=True)
    return cache[key]


def wrap_longitude(delta_deg: ArrayLike) -> NDArray[np.float64]:
    """Wrap a longitude difference into [-180, 180).

    Parameters
    ----------
    delta_deg : [degree] longitude or longitude difference.

    Returns
    -------
    [degree] the same angle in [-180, 180).
    """
    return (np.asarray(delta_deg, dtype=float) + 180.0) % 360.0 - 180.0


def authalic_q(lat_deg: ArrayLike, eccentricity: float) -> NDArray[np.float64]:
    """The function q(phi) of the authalic latitude on an ellipsoid of revolution.

    The area of the band between latitudes phi1 < phi2 spanning dlon radians is
    ``a**2 / 2 * dlon * (q(phi2) - q(phi1))``; on a sphere q = 2 sin(phi).

    Parameters
    ----------
    lat_deg : [degree] geodetic latitude.
    eccentricity : [-] first eccentricity e of the ellipsoid (0 for a sphere).

    Returns
    -------
    [-] q(phi).

    References
    ----------
    Snyder, J. P. (1987): Map projections, a working manual. USGS Professional Paper 1395,
    eq. 3-12, https://doi.org/10.3133/pp1395
    """
    sin_lat = np.sin(np.radians(np.asarray(lat_deg, dtype=float)))
    if eccentricity == 0.0:
        return 2.0 * sin_lat
    e = eccentricity
    e2 = e * e
    return (1.0 - e2) * (
        sin_lat / (1.0 - e2 * sin_lat**2)
        - np.log((1.0 - e * sin_lat) / (1.0 + e * sin_lat)) / (2.0 * e)
    )


@dataclass(frozen=True)
class GridBlock:
    """A rectangular block of grid cells: the unit of one Dask task.

    Attributes
    ----------
    index : block number, row-major over the block layout.
    rows, cols : slices of grid rows and columns (step 1).
    grid_shape : (ny, nx) of the parent grid.
    """

    index: int
    rows: slice
    cols: slice
    grid_shape: tuple[int, int]

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of the block."""
        return (self.rows.stop - self.rows.start, self.cols.stop - self.cols.start)

    def cell_ids(self) -> NDArray[np.int64]:
        """Row-major ids (in the parent grid) of the block's cells, ascending."""
        rows = np.arange(self.rows.start, self.rows.stop, dtype=np.int64)
        cols = np.arange(self.cols.start, self.cols.stop, dtype=np.int64)
        return (rows[:, None] * self.grid_shape[1] + cols[None, :]).ravel()


@dataclass(frozen=True)
class Grid:
    """A north-up regular grid.

    Attributes
    ----------
    crs : the grid CRS: geographic lon/lat (x = longitude, y = latitude, whatever the CRS's
        formal axis order) or an equal-area projection (e.g. EPSG:3035).
    transform : GDAL GeoTransform ``(x_west, dx, 0, y_north, 0, -dy)`` of the outer cell
        edges, in CRS units ([degree] or [m]).
    shape : (ny, nx) cells.

    Notes
    -----
    Lat/lon grids across the antimeridian keep continuous longitudes: a grid from 179 E to
    179 W has ``x_west = 179`` and ``x_east = 181``.
    """

    crs: CRS
    transform: tuple[float, float, float, float, float, float]
    shape: tuple[int, int]

    def __post_init__(self) -> None:
        try:
            crs = CRS.from_user_input(self.crs)
        except CRSError as err:
            raise TccasInputError(f"grid crs {self.crs!r} is not a valid CRS: {err}") from err
        object.__setattr__(self, "crs", crs)
        if len(self.transform) != 6:
            raise TccasInputError(f"grid transform {self.transform!r} must have 6 numbers")
        transform = tuple(float(v) for v in self.transform)
        object.__setattr__(self, "transform", transform)
        x_west, dx, row_rot, y_north, col_rot, neg_dy = transform
        if not all(math.isfinite(v) for v in transform):
            raise TccasInputError(f"grid transform {transform!r} has a non-finite value")
        if row_rot != 0.0 or col_rot != 0.0 or dx <= 0.0 or neg_dy >= 0.0:
            raise TccasInputError(
                f"grid transform {transform!r} must be north-up: (x0, dx>0, 0, y0, 0, -dy<0)"
            )
        if len(self.shape) != 2 or any(int(n) != n or n < 1 for n in self.shape):
            raise TccasInputError(f"grid shape {self.shape!r} must be two positive integers")
        object.__setattr__(self, "shape", (int(self.shape[0]), int(self.shape[1])))
        if self.shape[0] * self.shape[1] > MAX_CELLS:
            raise TccasInputError(
                f"grid of {self.shape[0]} x {self.shape[1]} cells exceeds {MAX_CELLS} cells"
            )
        if crs.is_geographic:
            if x_west < -180.0 or x_west >= 180.0:
                raise TccasInputError(f"grid west edge {x_west} must lie in [-180, 180)")
            if self.shape[1] * dx > 360.0 * (1.0 + 1e-12):
                raise TccasInputError(f"grid spans {self.shape[1] * dx} degrees of longitude")
            south = y_north + self.shape[0] * neg_dy
            if y_north > 90.0 + 1e-9 or south < -90.0 - 1e-9:
                raise TccasInputError(f"grid latitudes {south}..{y_north} leave [-90, 90]")
        else:
            operation = crs.coordinate_operation
            method = operation.method_name if operation is not None else ""
            if "equal area" not in method.lower():
                raise TccasInputError(
                    f"grid CRS {crs.name!r} is not equal-area (method {method!r}); footprint "
                    "areas need an equal-area projection such as EPSG:3035"
                )

    # ----------------------------------------------------------------- layout
    @property
    def ny(self) -> int:
        """Number of rows."""
        return self.shape[0]

    @property
    def nx(self) -> int:
        """Number of columns."""
        return self.shape[1]

    @property
    def n_cells(self) -> int:
        """Number of cells, ny * nx."""
        return self.shape[0] * self.shape[1]

    @property
    def dx(self) -> float:
        """Cell width in CRS units ([degree] or [m])."""
        return self.transform[1]

    @property
    def dy(self) -> float:
        """Cell height in CRS units ([degree] or [m]), positive."""
        return -self.transform[5]

    @property
    def is_geographic(self) -> bool:
        """True for a lon/lat grid."""
        return bool(self.crs.is_geographic)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Outer edges (x_west, y_south, x_east, y_north) in CRS units."""
        x_west, _, _, y_north, _, _ = self.transform
        return (x_west, y_north - self.ny * self.dy, x_west + self.nx * self.dx, y_north)

    @property
    def is_global_in_longitude(self) -> bool:
        """True for a lat/lon grid whose columns close around the globe."""
        return self.is_geographic and abs(self.nx * self.dx - 360.0) < 1e-9

    @cached_property
    def x_edges(self) -> NDArray[np.float64]:
        """(nx + 1,) cell edges along x, increasing."""
        return self.transform[0] + self.dx * np.arange(self.nx + 1)

    @cached_property
    def y_edges(self) -> NDArray[np.float64]:
        """(ny + 1,) cell edges along y, decreasing (north first)."""
        return self.transform[3] - self.dy * np.arange(self.ny + 1)

    @property
    def x(self) -> NDArray[np.float64]:
        """(nx,) cell centre x (longitude [degree] or easting [m])."""
        return self.transform[0] + self.dx * (np.arange(self.nx) + 0.5)

    @property
    def y(self) -> NDArray[np.float64]:
        """(ny,) cell centre y (latitude [degree] or northing [m]), decreasing."""
        return self.transform[3] - self.dy * (np.arange(self.ny) + 0.5)

    @property
    def x_bounds(self) -> NDArray[np.float64]:
        """(nx, 2) CF-style cell bounds along x."""
        edges = self.x_edges
        return np.stack([edges[:-1], edges[1:]], axis=1)

    @property
    def y_bounds(self) -> NDArray[np.float64]:
        """(ny, 2) CF-style cell bounds along y (north edge first)."""
        edges = self.y_edges
        return np.stack([edges[:-1], edges[1:]], axis=1)

    # --------------------------------------------------------------- cell ids
    @property
    def cell_ids(self) -> NDArray[np.int64]:
        """(ny, nx) row-major cell ids. Allocates n_cells int64: prefer :meth:`cell_id`."""
        return np.arange(self.n_cells, dtype=np.int64).reshape(self.shape)

    def cell_id(self, row: ArrayLike, col: ArrayLike) -> NDArray[np.int64]:
        """Row-major id of the cell at (row, col); both must lie inside the grid."""
        row = np.asarray(row, dtype=np.int64)
        col = np.asarray(col, dtype=np.int64)
        if np.any((row < 0) | (row >= self.ny) | (col < 0) | (col >= self.nx)):
            raise TccasInputError(f"cell row/col outside the grid of shape {self.shape}")
        return row * self.nx + col

    def row_col(self, cell_id: ArrayLike) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(row, col) of row-major cell ids."""
        ids = self._checked_ids(cell_id)
        return ids // self.nx, ids % self.nx

    def cell_bounds(self, cell_id: ArrayLike) -> NDArray[np.float64]:
        """(..., 4) bounds (x_min, y_min, x_max, y_max) of cells in CRS units."""
        row, col = self.row_col(cell_id)
        x_edges, y_edges = self.x_edges, self.y_edges
        return np.stack([x_edges[col], y_edges[row + 1], x_edges[col + 1], y_edges[row]], -1)

    def cell_area(self, cell_id: ArrayLike | None = None) -> NDArray[np.float64]:
        """True area of cells on the ellipsoid [m2].

        Parameters
        ----------
        cell_id : row-major ids; None for the whole (ny, nx) field.

        Returns
        -------
        [m2] cell areas. Lat/lon cells: ``a**2 / 2 * dlon * (q(lat_n) - q(lat_s))``
        (exact on the ellipsoid, :func:`authalic_q`); equal-area projected cells: dx * dy.
        """
        if cell_id is None:
            return np.broadcast_to(self.row_area()[:, None], self.shape).copy()
        row, _ = self.row_col(cell_id)
        return self.row_area()[row]

    def row_area(self) -> NDArray[np.float64]:
        """(ny,) true area [m2] of one cell in each row (cells of a row are equal)."""
        if not self.is_geographic:
            return np.full(self.ny, self.dx * self.dy)
        x_edges, y_edges = self.equal_area_edges()
        return (x_edges[1] - x_edges[0]) * (y_edges[:-1] - y_edges[1:])

    def _checked_ids(self, cell_id: ArrayLike) -> NDArray[np.int64]:
        ids = np.asarray(cell_id, dtype=np.int64)
        if np.any((ids < 0) | (ids >= self.n_cells)):
            raise TccasInputError(f"cell id outside 0..{self.n_cells - 1}")
        return ids

    # ------------------------------------------------------- coordinates
    @property
    def central_longitude(self) -> float:
        """[degree] longitude of the grid's centre, in [-180, 180) (lat/lon grids)."""
        x_west, _, x_east, _ = self.bounds
        return float(wrap_longitude(0.5 * (x_west + x_east)))

    def lonlat_to_xy(
        self, lon: ArrayLike, lat: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Convert WGS84 lon/lat [degree] to grid coordinates.

        For lat/lon grids longitudes are shifted by multiples of 360 into the grid's frame
        (within 180 degrees of its centre), so a grid across the antimeridian sees
        continuous longitudes.
        """
        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        if self.is_geographic:
            x_west, _, x_east, _ = self.bounds
            centre = 0.5 * (x_west + x_east)
            return centre + wrap_longitude(lon - centre), lat.copy()
        x, y = transformer(WGS84_LONLAT, self.crs).transform(lon, lat)
        return np.asarray(x, dtype=float), np.asarray(y, dtype=float)

    def xy_to_lonlat(
        self, x: ArrayLike, y: ArrayLike
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Convert grid coordinates to WGS84 lon [-180, 180) and lat [degree]."""
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        if self.is_geographic:
            return wrap_longitude(x), y.copy()
        lon, lat = transformer(self.crs, WGS84_LONLAT).transform(x, y)
        return wrap_longitude(lon), np.asarray(lat, dtype=float)

    def cell_of(self, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.int64]:
        """Id of the cell holding each lon/lat point [degree]; -1 outside the grid."""
        x, y = self.lonlat_to_xy(lon, lat)
        col = np.floor((x - self.transform[0]) / self.dx)
        row = np.floor((self.transform[3] - y) / self.dy)
        if self.is_global_in_longitude:
            col = col % self.nx
        inside = (row >= 0) & (row < self.ny) & (col >= 0) & (col < self.nx)
        return np.where(inside, row * self.nx + col, -1).astype(np.int64)

    @cached_property
    def _ellipsoid(self) -> tuple[float, float]:
        ellipsoid = self.crs.ellipsoid
        a = float(ellipsoid.semi_major_metre)
        b = float(ellipsoid.semi_minor_metre)
        return a, math.sqrt(max(0.0, 1.0 - (b / a) ** 2))

    def to_equal_area(
        self, lon: ArrayLike, lat: ArrayLike, *, in_grid_frame: bool = False
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Map WGS84 lon/lat [degree] into the grid's equal-area plane [m].

        Projected equal-area grids: the grid CRS. Lat/lon grids: Lambert cylindrical
        equal-area on the grid's ellipsoid, ``x = a * (lon - lon_c)``,
        ``y = a * q(lat) / 2``, with lon_c the grid centre; in this plane the grid's cells
        are rectangles whose areas are their true areas.

        Parameters
        ----------
        lon, lat : [degree] WGS84 coordinates.
        in_grid_frame : lat/lon grids only. False: each longitude is shifted into the
            grid's frame on its own (:meth:`lonlat_to_xy`). True: longitudes are already
            continuous in the grid's frame and are used as given, so that the vertices of
            one footprint stay together even beyond the grid's edges.

        References
        ----------
        Snyder, J. P. (1987): Map projections, a working manual, eqs. 10-15 and 10-16,
        https://doi.org/10.3133/pp1395
        """
        if self.is_geographic and in_grid_frame:
            return self._geographic_to_plane(
                np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
            )
        x, y = self.lonlat_to_xy(lon, lat)
        if not self.is_geographic:
            return x, y
        return self._geographic_to_plane(x, y)

    def _geographic_to_plane(
        self, lon: NDArray[np.float64], lat: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        a, e = self._ellipsoid
        x_west, _, x_east, _ = self.bounds
        centre = 0.5 * (x_west + x_east)
        return a * np.radians(lon - centre), 0.5 * a * authalic_q(lat, e)

    def equal_area_edges(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Cell edges in the equal-area plane [m]: (nx + 1,) increasing x, (ny + 1,) y.

        The y edges decrease (north first), like :attr:`y_edges`.
        """
        if not self.is_geographic:
            return self.x_edges, self.y_edges
        x, _ = self._geographic_to_plane(self.x_edges, np.zeros(self.nx + 1))
        _, y = self._geographic_to_plane(np.zeros(self.ny + 1), self.y_edges)
        return x, y

    # ------------------------------------------------------------- blocks
    def blocks(self, block_shape: tuple[int, int]) -> list[GridBlock]:
        """Split the grid into rectangular blocks (the last row/column of blocks may be
        smaller), row-major; every cell belongs to exactly one block.

        Parameters
        ----------
        block_shape : (rows, columns) of a full block.
        """
        if len(block_shape) != 2 or any(int(n) != n or n < 1 for n in block_shape):
            raise TccasInputError(f"block_shape {block_shape!r} must be two positive integers")
        by, bx = int(block_shape[0]), int(block_shape[1])
        blocks = []
        for row0 in range(0, self.ny, by):
            for col0 in range(0, self.nx, bx):
                blocks.append(
                    GridBlock(
                        index=len(blocks),
                        rows=slice(row0, min(row0 + by, self.ny)),
                        cols=slice(col0, min(col0 + bx, self.nx)),
                        grid_shape=self.shape,
                    )
                )
        return blocks


def _check_box(west: float, south: float, east: float, north: float, res: float,
               res_name: str) -> None:
    values = {"west": west, "south": south, "east": east, "north": north, res_name: res}
    for name, value in values.items():
        if not isinstance(value, int | float | np.number) or not math.isfinite(value):
            raise TccasInputError(f"grid {name}={value!r} must be a finite number")
    if res <= 0:
        raise TccasInputError(f"grid {res_name}={res} must be > 0")
    if not west < east:
        raise TccasInputError(
            f"grid west={west} must be < east={east} (across the antimeridian give east + 360)"
        )
    if not south < north:
        raise TccasInputError(f"grid south={south} must be < north={north}")
    if south < -90.0 or north > 90.0:
        raise TccasInputError(f"grid latitudes south={south}, north={north} leave [-90, 90]")
    if west < -180.0 or west >= 180.0:
        raise TccasInputError(f"grid west={west} must lie in [-180, 180)")
    if east - west > 360.0:
        raise TccasInputError(f"grid east={east} is more than 360 degrees east of west={west}")


def _cell_count(extent: float, res: float, what: str) -> int:
    count = extent / res
    rounded = round(count)
    if rounded < 1 or abs(count - rounded) > 1e-6 * max(1.0, count):
        raise TccasInputError(f"grid {what} extent {extent} is not a multiple of res {res}")
    return int(rounded)


def latlon_grid(west: float, south: float, east: float, north: float, res_deg: float) -> Grid:
    """A regular lat/lon grid in EPSG:4326 (x = longitude, y = latitude).

    Parameters
    ----------
    west, south, east, north : [degree] outer cell edges; ``east - west`` and
        ``north - south`` must be multiples of res_deg. A grid across the antimeridian is
        given with east > 180 (179 .. 181 for 179 E .. 179 W).
    res_deg : [degree] cell size, e.g. 0.25.

    Returns
    -------
    Grid with cell areas exact on the WGS84 ellipsoid.
    """
    _check_box(west, south, east, north, res_deg, "res_deg")
    nx = _cell_count(east - west, res_deg, "longitude")
    ny = _cell_count(north - south, res_deg, "latitude")
    return Grid(
        crs=WGS84_LONLAT,
        transform=(float(west), float(res_deg), 0.0, float(north), 0.0, -float(res_deg)),
        shape=(ny, nx),
    )


def laea_grid(west: float, south: float, east: float, north: float, res_m: float) -> Grid:
    """A grid in LAEA Europe (EPSG:3035) covering a lon/lat box.

    Parameters
    ----------
    west, south, east, north : [degree] WGS84 box to cover.
    res_m : [m] cell size, e.g. 100.

    Returns
    -------
    Grid whose extent is the projected bounding box of the lon/lat box (its edges densified
    to 200 points) snapped outward to multiples of res_m, so that grids of one resolution
    share cell edges.
    """
    _check_box(west, south, east, north, res_m, "res_m")
    edge = np.linspace(0.0, 1.0, 201)
    lon = np.concatenate([west + (east - west) * edge, np.full(201, east),
                          west + (east - west) * edge, np.full(201, west)])
    lat = np.concatenate([np.full(201, south), south + (north - south) * edge,
                          np.full(201, north), south + (north - south) * edge])
    x, y = transformer(WGS84_LONLAT, LAEA_EUROPE).transform(lon, lat)
    x, y = np.asarray(x), np.asarray(y)
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise TccasInputError(
            f"box west={west}, south={south}, east={east}, north={north} cannot be projected "
            "to EPSG:3035"
        )
    x_min = math.floor(x.min() / res_m) * res_m
    x_max = math.ceil(x.max() / res_m) * res_m
    y_min = math.floor(y.min() / res_m) * res_m
    y_max = math.ceil(y.max() / res_m) * res_m
    nx = round((x_max - x_min) / res_m)
    ny = round((y_max - y_min) / res_m)
    if nx * ny > MAX_CELLS:
        raise TccasInputError(
            f"grid at res_m={res_m} would have {nx} x {ny} cells, more than {MAX_CELLS}"
        )
    return Grid(
        crs=LAEA_EUROPE,
        transform=(float(x_min), float(res_m), 0.0, float(y_max), 0.0, -float(res_m)),
        shape=(ny, nx),
    )
