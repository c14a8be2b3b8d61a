"""The Zarr catalogue: meteorology lattice and ERA5 conversion, static maps and tiles,
merging observation parts (time order, block-sorted weights, merges equal one-shot
builds), the atomic swap, GDAL georeferencing and the reading API's numbers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr
import zarr

from tccas.catalog import catalogue_write
from tccas.catalog.catalogue import (
    CATALOGUE_FORMAT,
    OBS,
    SOIL_NAMES,
    STATIC,
    TILES,
    WEIGHTS,
    block_of_cells,
    grid_attributes,
    open_catalogue,
)
from tccas.catalog.catalogue_meteo import (
    era5_field_on_grid,
    forcing_on_lattice_rows,
    index_era5_file,
    interpolation_matrix,
    lattice_forcing,
    met_cells_of,
    met_lattice,
)
from tccas.catalog.catalogue_sources import (
    Product,
    Region,
    file_checksum,
    observation_parts,
    sha256_of,
)
from tccas.catalog.catalogue_write import (
    clone_store,
    merge_stream,
    swap_into_place,
    uniform_soil_class,
    unknown_elevation,
    write_root_attributes,
    write_static,
)
from tccas.catalog.cci_biomass import sd_tile_path, write_cci_biomass_geotiff
from tccas.catalog.grid import laea_grid, latlon_grid
from tccas.catalog.observations import FOOTPRINT_CORNERS, build_observations
from tccas.catalog.troposif import TroposifScreening
from tccas.model.errors import TccasInputError
from tccas.model.parameters import SOIL_CLASSES

# 8 x 12 cells of 0.25 degree in Lapland, blocks of 4 x 4 cells: 2 x 3 blocks.
GRID = latlon_grid(20.0, 66.0, 23.0, 68.0, 0.25)
BLOCK_CELLS = 4
DAY = np.datetime64("2021-06-01T00", "ns")
REGION = Region(grid=GRID, block_cells=BLOCK_CELLS,
                first_ns=int(DAY.astype(np.int64)),
                stop_ns=int((DAY + np.timedelta64(30, "D")).astype(np.int64)),
                min_coverage=0.5, keep_failed_qc=False)
PFT_CODES = np.array([5, 7, 11])  # EvCn, EShr, TunV


# ----------------------------------------------------------------- meteorology
def test_lattice_of_a_quarter_degree_grid_is_the_grid_and_met_cells_are_cells():
    lattice = met_lattice(GRID)
    assert lattice.transform == GRID.transform and lattice.shape == GRID.shape
    for block in GRID.blocks((BLOCK_CELLS, BLOCK_CELLS)):
        np.testing.assert_array_equal(met_cells_of(GRID, lattice, block), block.cell_ids())


def test_lattice_of_a_100m_grid_holds_every_cell_centre():
    grid = laea_grid(-5.85, 39.9, -5.7, 40.0, 100.0)
    lattice = met_lattice(grid)
    assert lattice.dx == 0.25 and lattice.transform[0] % 0.25 == 0.0
    cells = np.concatenate([met_cells_of(grid, lattice, block)
                            for block in grid.blocks((50, 50))])
    assert cells.size == grid.n_cells and cells.min() >= 0
    # The box lies across the 40 N line and the -5.75 meridian: four meteorology cells.
    assert np.unique(cells).size == 4


def test_interpolation_matrix_is_exact_on_linear_data_and_breaks_ties_north_east():
    source = np.array([66.0, 66.25, 66.5])
    target = np.array([66.125, 66.4, 66.5])
    linear = interpolation_matrix(source, target, "bilinear", "lat")
    np.testing.assert_allclose(linear @ (3.0 * source - 1.0), 3.0 * target - 1.0, rtol=1e-15)
    nearest = interpolation_matrix(source, target, "nearest", "lat")
    np.testing.assert_array_equal(nearest @ source, [66.25, 66.5, 66.5])
    with pytest.raises(TccasInputError, match=r"era5.nc: latitude covers 66.0 .. 66.5 "
                                              r"degree, but the region needs 66.6 degree"):
        interpolation_matrix(source, np.array([66.6]), "bilinear", "era5.nc: latitude")


HOURS = 48
LATS = np.arange(68.25, 65.75 - 0.01, -0.25)  # ERA5 stores latitude north to south
LONS = np.arange(19.75, 23.25 + 0.01, 0.25)


def _fields(lat: np.ndarray, lon: np.ndarray, hour: np.ndarray) -> dict[str, np.ndarray]:
    """ERA5 fields linear in latitude and longitude (hour along the first axis)."""
    h, y, x = np.meshgrid(hour, lat, lon, indexing="ij")
    return {
        "t2m": 250.0 + 0.5 * y + 0.2 * x + 0.01 * h,
        "d2m": 245.0 + 0.5 * y + 0.2 * x + 0.01 * h,
        "sp": 1.0e5 - 40.0 * y + 8.0 * x,
        "u10": 3.0 + 0.0 * h,
        "v10": 4.0 + 0.0 * h,
        "ssrd": 3600.0 * (100.0 + 4.0 * y - 2.0 * x + h),
        "strd": 3600.0 * (250.0 + x),
        "tp": 1.0e-4 * (1.0 + 0.0 * h),
    }


def _era5_files(folder: Path, land: bool = False) -> list[Path]:
    """An instant and an accum file in the new CDS layout over the test grid."""
    times = DAY + np.arange(HOURS + 1).astype("timedelta64[h]")
    fields = _fields(LATS, LONS, np.arange(HOURS + 1, dtype=float))
    if land:
        # ERA5-Land: running sums since 00 UTC (the 00 UTC value is the previous day).
        for name in ("ssrd", "strd", "tp"):
            hourly, running = fields[name], np.zeros_like(fields[name])
            for k, time in enumerate(times):
                start_of_day = (time - time.astype("datetime64[D]")) == np.timedelta64(1, "h")
                previous = 0.0 if start_of_day or k == 0 else running[k - 1]
                running[k] = previous + hourly[k]
            fields[name] = running
    units = {"t2m": "K", "d2m": "K", "sp": "Pa", "u10": "m s**-1", "v10": "m s**-1",
             "ssrd": "J m**-2", "strd": "J m**-2", "tp": "m"}
    paths = []
    for step, names in (("instant", ("t2m", "d2m", "sp", "u10", "v10")),
                        ("accum", ("ssrd", "strd", "tp"))):
        ds = xr.Dataset(
            {n: (("valid_time", "latitude", "longitude"), fields[n], {"units": units[n]})
             for n in names},
            coords={"valid_time": times, "latitude": LATS, "longitude": LONS,
                    "number": 0, "expver": ("valid_time", np.full(times.size, "0001"))})
        path = folder / f"ERA5_202106_stepType-{step}.nc"
        ds.to_netcdf(path)
        paths.append(path)
    return paths


@pytest.mark.parametrize("product", ["era5", "era5-land"])
def test_lattice_forcing_converts_accumulations_and_interpolates_linear_fields_exactly(
        tmp_path, product):
    lattice = met_lattice(GRID)
    files = [index_era5_file(p, product) for p in _era5_files(tmp_path, product == "era5-land")]
    assert files[0].first == np.datetime64("2021-06-01T00", "h")
    assert files[0].last == np.datetime64("2021-06-03T00", "h")
    runs = lattice_forcing(files, lattice, np.datetime64(DAY, "h"), HOURS, product, "bilinear")
    assert [offset for offset, _ in runs] == [0]
    forcing = forcing_on_lattice_rows(runs[0][1], lattice)
    # Model hour h: instants at h and h + 1 averaged, accumulations valid at h + 1.
    mid = _fields(GRID.y, GRID.x, np.arange(HOURS) + 0.5)
    end = _fields(GRID.y, GRID.x, np.arange(HOURS) + 1.0)
    as_lattice = {k: np.moveaxis(v, 0, -1) for k, v in {**mid, **{
        f"end_{k}": v for k, v in end.items()}}.items()}
    np.testing.assert_allclose(forcing["air_temperature"], as_lattice["t2m"], rtol=1e-13)
    np.testing.assert_allclose(forcing["surface_pressure"], as_lattice["sp"], rtol=1e-13)
    np.testing.assert_allclose(forcing["wind_speed"], 5.0, rtol=1e-13)
    np.testing.assert_allclose(forcing["shortwave_down"], as_lattice["end_ssrd"] / 3600.0,
                               rtol=1e-12)
    np.testing.assert_allclose(forcing["longwave_down"], as_lattice["end_strd"] / 3600.0,
                               rtol=1e-12)
    np.testing.assert_allclose(forcing["precipitation"], 1.0e-4 * 1000.0 / 3600.0, rtol=1e-12)
    assert forcing["air_temperature"].shape == (GRID.ny, GRID.nx, HOURS)


def test_lattice_forcing_nearest_takes_the_north_east_point(tmp_path):
    lattice = met_lattice(GRID)
    files = [index_era5_file(p, "era5") for p in _era5_files(tmp_path)]
    runs = lattice_forcing(files, lattice, np.datetime64(DAY, "h"), 4, "era5", "nearest")
    forcing = forcing_on_lattice_rows(runs[0][1], lattice)
    north_east = _fields(GRID.y + 0.125, GRID.x + 0.125, np.arange(4) + 0.5)["t2m"]
    np.testing.assert_allclose(forcing["air_temperature"], np.moveaxis(north_east, 0, -1),
                               rtol=1e-13)


def test_lattice_forcing_reports_hours_it_cannot_cover(tmp_path):
    lattice = met_lattice(GRID)
    files = [index_era5_file(p, "era5") for p in _era5_files(tmp_path)]
    start = np.datetime64(DAY, "h") + np.timedelta64(40, "h")
    runs = lattice_forcing(files, lattice, start, 20, "era5", "bilinear")
    # Valid times end at hour 48 of the files: hours 40..47 only.
    assert [(offset, f.n_hour) for offset, f in runs] == [(0, 8)]
    assert lattice_forcing(files, lattice, start + np.timedelta64(100, "h"), 5, "era5",
                           "bilinear") == []


def test_a_static_era5_field_is_interpolated_to_the_cell_centres():
    # A field linear in latitude and longitude on the ERA5 points (every 0.25 degree):
    # bilinear interpolation is exact at every cell centre.
    lat, lon = np.arange(65.0, 69.01, 0.25), np.arange(19.0, 24.01, 0.25)
    field = xr.DataArray(100.0 + 30.0 * lat[:, None] - 7.0 * lon[None, :],
                         dims=("latitude", "longitude"), coords={"latitude": lat,
                                                                 "longitude": lon})
    values = era5_field_on_grid(field, GRID, BLOCK_CELLS, "bilinear", "z.nc")
    np.testing.assert_allclose(values, 100.0 + 30.0 * GRID.y[:, None] - 7.0 * GRID.x[None, :],
                               rtol=1e-13)
    # nearest: ties at the 0.25 degree cell centres go to the point north and east
    nearest = era5_field_on_grid(field, GRID, BLOCK_CELLS, "nearest", "z.nc")
    np.testing.assert_allclose(nearest, values + (30.0 - 7.0) * 0.125, rtol=1e-13)
    fine = laea_grid(20.5, 66.5, 21.0, 66.8, 1000.0)
    on_fine = era5_field_on_grid(field, fine, 16, "bilinear", "z.nc")
    x = np.broadcast_to(fine.x[None, :], fine.shape).ravel()
    y = np.broadcast_to(fine.y[:, None], fine.shape).ravel()
    centre_lon, centre_lat = fine.xy_to_lonlat(x, y)
    np.testing.assert_allclose(on_fine.ravel(), 100.0 + 30.0 * centre_lat - 7.0 * centre_lon,
                               rtol=1e-12)
    with pytest.raises(TccasInputError, match=r"z\.nc: latitude covers 66\.5 \.\. 68\.0 "
                                              r"degree, but the region needs 66\.375 degree"):
        era5_field_on_grid(field.sel(latitude=slice(66.5, None)), GRID, BLOCK_CELLS,
                           "bilinear", "z.nc")


def test_a_geopotential_file_read_as_meteorology_says_how_to_name_it(tmp_path):
    path = tmp_path / "data_stream-oper_stepType-instant.nc"
    xr.Dataset({"z": (("valid_time", "latitude", "longitude"), np.zeros((1, 2, 2)),
                      {"units": "m**2 s**-2"})},
               coords={"valid_time": [DAY], "latitude": [66.0, 66.25],
                       "longitude": [20.0, 20.25]}).to_netcdf(path)
    with pytest.raises(TccasInputError, match=r"no ERA5 forcing variable.*found z; a file of "
                                              r"the invariant geopotential 'z' is read when "
                                              r"its name holds 'era5' and 'geopotential'"):
        index_era5_file(path, "era5")


# ------------------------------------------------------------- static and tiles
def _fractions() -> xr.DataArray:
    """Three PFT covers per cell, varying with the cell; a few covers below 0.01."""
    rows, cols = np.meshgrid(np.arange(GRID.ny), np.arange(GRID.nx), indexing="ij")
    evcn = 0.2 + 0.05 * (cols % 5)
    eshr = np.where((rows + cols) % 3 == 0, 0.005, 0.3)
    tunv = 0.1 + 0.02 * rows
    return xr.DataArray(np.stack([evcn, eshr, tunv]), dims=("pft", "y", "x"),
                        coords={"pft": PFT_CODES})


def _root_attributes(store: Path, streams: list[str] | None = None) -> None:
    write_root_attributes(store, {
        "catalogue_format": CATALOGUE_FORMAT, "config_yaml": "name: test\n",
        "grid": grid_attributes(GRID), "block_cells": BLOCK_CELLS,
        "period": {"first_hour": str(np.datetime64(DAY, "h")), "n_hours": 30 * 24},
        "streams": streams or [], "provenance": [], "qc_thresholds": {}})


def _soil_map() -> xr.DataArray:
    """Soil class index = column mod 7 (sand .. clay across the grid)."""
    cols = np.broadcast_to(np.arange(GRID.nx) % len(SOIL_NAMES), GRID.shape)
    return xr.DataArray(cols.astype(np.int8), dims=("y", "x"),
                        attrs={"source": "test map", "product": "test"})


def _elevation() -> xr.DataArray:
    """[m] 100 m per row southwards plus 10 m per column eastwards."""
    rows, cols = np.meshgrid(np.arange(GRID.ny), np.arange(GRID.nx), indexing="ij")
    return xr.DataArray(100.0 * rows + 10.0 * cols, dims=("y", "x"),
                        attrs={"source": "test relief"})


@pytest.fixture
def static_store(tmp_path) -> Path:
    store = tmp_path / "static.zarr"
    zarr.open_group(str(store), mode="w", zarr_format=2)
    n_tiles = write_static(store, GRID, BLOCK_CELLS, _fractions(), None, _soil_map(),
                           _elevation(), 0.01, met_lattice(GRID))
    assert n_tiles == 3 * GRID.n_cells - int(np.sum(_fractions().values[1] < 0.01))
    _root_attributes(store)
    return store


def test_static_maps_are_chunked_by_block_and_tiles_sorted_by_block_cell_pft(static_store):
    fraction = json.loads((static_store / STATIC / "pft_fraction" / ".zarray").read_text())
    assert fraction["chunks"] == [3, BLOCK_CELLS, BLOCK_CELLS]
    assert fraction["shape"] == [3, GRID.ny, GRID.nx]
    static = xr.open_zarr(static_store, group=STATIC)
    np.testing.assert_allclose(static["non_vegetated"].values,
                               1.0 - _fractions().values.sum(axis=0), atol=1e-6)
    assert list(static["pft_name"].values) == ["EvCn", "EShr", "TunV"]
    tiles = zarr.open_group(str(static_store / TILES), mode="r")
    cell, block, pft = tiles["cell"][:], tiles["block"][:], tiles["pft"][:]
    key = np.stack([block, cell, pft])
    assert np.all(np.diff(np.ravel_multi_index(key, (6, GRID.n_cells, 14))) > 0)
    np.testing.assert_array_equal(block, block_of_cells(GRID, BLOCK_CELLS, cell))
    starts = tiles["block_start"][:]
    assert starts[0] == 0 and starts[-1] == cell.size
    np.testing.assert_array_equal(np.diff(starts), np.bincount(block, minlength=6))


def test_block_tiles_return_the_cells_covers_and_meteorology_cells_of_the_block(static_store):
    catalogue = open_catalogue(static_store)
    block = catalogue.blocks[4]  # rows 4..7, columns 4..7
    tiles, cell_ids = catalogue.block_tiles(4)
    np.testing.assert_array_equal(cell_ids, block.cell_ids())
    fractions = _fractions().values[:, 4:8, 4:8].reshape(3, -1).T
    expected = [(c, PFT_CODES[p], fractions[c, p]) for c in range(16) for p in range(3)
                if fractions[c, p] >= 0.01]
    assert tiles.n_tile == len(expected)
    np.testing.assert_array_equal(tiles.cell, [e[0] for e in expected])
    np.testing.assert_array_equal(tiles.pft, [e[1] for e in expected])
    np.testing.assert_allclose(tiles.cover_fraction, [e[2] for e in expected])
    # 0.25 degree: one meteorology cell per grid cell, in the block's cell order.
    np.testing.assert_array_equal(tiles.met_cell, tiles.cell)
    col = cell_ids[tiles.cell] % GRID.nx
    assert tiles.soil == tuple(SOIL_NAMES[c % len(SOIL_NAMES)] for c in col)
    row = cell_ids[tiles.cell] // GRID.nx
    np.testing.assert_allclose(tiles.static[:, 0], GRID.y[row])


def test_soil_albedo_and_elevation_maps_are_the_soil_classes_values(static_store):
    static = xr.open_zarr(static_store, group=STATIC)
    classes = static["soil_class"].values
    np.testing.assert_array_equal(classes, _soil_map().values)
    assert static["soil_class"].attrs["source"] == "test map"
    assert static["soil_class"].attrs["flag_meanings"].split() == list(SOIL_NAMES)
    # The model's own albedos, one per class: sand 0.35/0.20 ... clay 0.18/0.09.
    dry = [SOIL_CLASSES[name].albedo_dry for name in SOIL_NAMES]
    wet = [SOIL_CLASSES[name].albedo_wet for name in SOIL_NAMES]
    assert (dry[0], wet[0], dry[-1], wet[-1]) == (0.35, 0.20, 0.18, 0.09)
    np.testing.assert_array_equal(static["soil_albedo_dry"].values,
                                  np.float32(dry)[classes])
    np.testing.assert_array_equal(static["soil_albedo_wet"].values,
                                  np.float32(wet)[classes])
    assert "SOIL_CLASSES" in static["soil_albedo_dry"].attrs["source"]
    np.testing.assert_array_equal(static["elevation"].values, _elevation().values)
    assert static["elevation"].attrs["units"] == "m"
    assert static["elevation"].attrs["standard_name"] == "surface_altitude"
    for name in ("soil_class", "soil_albedo_dry", "soil_albedo_wet", "elevation"):
        zarray = json.loads((static_store / STATIC / name / ".zarray").read_text())
        assert zarray["chunks"] == [BLOCK_CELLS, BLOCK_CELLS]
        assert static[name].attrs["grid_mapping"] == "spatial_ref"


def test_static_maps_without_land_cover_have_no_tiles(tmp_path):
    store = tmp_path / "soil-only.zarr"
    zarr.open_group(str(store), mode="w", zarr_format=2)
    assert write_static(store, GRID, BLOCK_CELLS, None, None, uniform_soil_class(GRID, "loam"),
                        unknown_elevation(GRID), 0.01, met_lattice(GRID)) is None
    static = xr.open_zarr(store, group=STATIC, consolidated=False)
    assert "pft_fraction" not in static and not (store / TILES).exists()
    assert np.all(static["soil_class"].values == SOIL_NAMES.index("loam"))
    assert static["soil_class"].attrs["source"] == "loam everywhere (no soil map ingested)"
    assert np.all(np.isnan(static["elevation"].values))
    assert "no ERA5 geopotential file" in static["elevation"].attrs["source"]
    with pytest.raises(TccasInputError, match=r"soil_class map holds the index 7 \.\. 7"):
        write_static(store, GRID, BLOCK_CELLS, None, None,
                     uniform_soil_class(GRID, "loam").copy(data=np.full(GRID.shape, 7)),
                     unknown_elevation(GRID), 0.01, met_lattice(GRID))


def test_gdal_reads_the_static_maps_georeferenced(static_store):
    with rasterio.open(f'ZARR:"{static_store}":/{STATIC}/non_vegetated') as raster:
        assert raster.crs.to_epsg() == 4326
        assert raster.transform.to_gdal() == pytest.approx(GRID.transform)
        assert raster.shape == GRID.shape
    with rasterio.open(f'ZARR:"{static_store}":/{STATIC}/elevation') as raster:
        assert raster.crs.to_epsg() == 4326
        assert raster.transform.to_gdal() == pytest.approx(GRID.transform)
        np.testing.assert_array_equal(raster.read(1), _elevation().values)


# -------------------------------------------------------------------- observations
def _pixel(west: float, north: float, width: float = 0.25, height: float = 0.25
           ) -> tuple[list[float], list[float]]:
    """Corner (lat, lon) of an axis-parallel pixel, counter-clockwise from south-west."""
    lats = [north - height, north - height, north, north]
    lons = [west, west + width, west + width, west]
    return lats, lons


def _table(name: str, pixels: list[tuple[float, float, float]], hours: list[float],
           qc: list[int] | None = None) -> xr.Dataset:
    corners = [_pixel(west, north, width) for west, north, width in pixels]
    corner_lat = np.array([c[0] for c in corners])
    corner_lon = np.array([c[1] for c in corners])
    n = len(pixels)
    return build_observations(
        stream="sif743", units="mW m-2 sr-1 nm-1", source=name,
        time=DAY + (np.array(hours) * 3600e9).astype("timedelta64[ns]"),
        value=np.arange(n) + 10.0 * len(name), sigma=np.full(n, 0.3),
        qc=np.array(qc or [0] * n, dtype=np.uint16), qc_meanings=("CLOUD_FRACTION",),
        latitude=corner_lat.mean(axis=1), longitude=corner_lon.mean(axis=1),
        footprint_model=FOOTPRINT_CORNERS,
        footprint={"corner_latitude": corner_lat, "corner_longitude": corner_lon},
        reader="tests.catalog.test_catalogue", qc_thresholds={},
        extra={"cloud_fraction": (np.full(n, 0.1), "1")})


#: Rows of three files: a pixel on one cell, one across the edge of blocks 0 and 1 (columns
#: 3 and 4), one half outside the grid (kept), one 3/4 outside (dropped), one failing QC.
TABLES = {
    "a.fake": _table("a.fake", [(20.0, 68.0, 0.25), (20.875, 67.5, 0.25),
                                (19.875, 67.0, 0.25), (19.8125, 66.5, 0.25)],
                     [10.2, 10.1, 10.3, 10.4]),
    "b.fake": _table("b.fake", [(21.5, 66.5, 0.25), (22.0, 67.0, 0.25)], [35.0, 36.0],
                     qc=[0, 1]),
    "c.fake": _table("c.fake", [(20.25, 67.75, 0.25)], [10.25]),
}
FAKE = Product("fake", "observations", ("*.fake",), streams=("sif743",),
               read=lambda path, stream, screening, bbox: TABLES[path.name],
               default_screening=lambda stream: TroposifScreening())


def _parts(folder: Path, names: list[str], first_id: int = 0):
    parts = []
    for i, name in enumerate(names):
        [summary] = observation_parts(Path(name), FAKE, {"sif743": TroposifScreening()},
                                      REGION, folder, name)
        parts.append((summary, first_id + i))
    return parts


def test_parts_keep_rows_inside_the_period_passing_qc_and_covering_half(tmp_path):
    (a, _), (b, _), (c, _) = _parts(tmp_path, ["a.fake", "b.fake", "c.fake"])
    assert (a.n_read, a.n_rows, b.n_rows, c.n_rows) == (4, 3, 1, 1)
    # Sorted by time: 10.1 h, 10.2 h, 10.3 h.
    assert a.first_ns == int((DAY + np.timedelta64(36360, "s")).astype(np.int64))
    assert a.last_ns == int((DAY + np.timedelta64(37080, "s")).astype(np.int64))
    assert a.n_entries == 2 + 1 + 1


def _merged(root: Path, parts, old=None) -> zarr.Group:
    zarr.open_group(str(root), mode="a", zarr_format=2)
    work = root.with_name(root.name + ".work")
    work.mkdir(exist_ok=True)
    merge_stream(root, "sif743", parts, old, REGION, work, {"units": "mW m-2 sr-1 nm-1"})
    return zarr.open_group(str(root / OBS / "sif743"), mode="r")


def _weight_triples(group: zarr.Group) -> np.ndarray:
    weights = group[WEIGHTS]
    return np.stack([weights["obs"][:], weights["cell"][:], weights["weight"][:]], axis=1)


def test_merge_sorts_rows_by_time_and_weights_by_block_then_obs(tmp_path, monkeypatch):
    monkeypatch.setattr(catalogue_write, "SPILL_GROUP_ENTRIES", 2)  # several spill files
    group = _merged(tmp_path / "all.zarr", _parts(tmp_path, ["a.fake", "b.fake", "c.fake"]))
    time = group["time"][:]
    assert np.all(np.diff(time) >= 0) and time.size == 5
    hours = (time - DAY.astype(np.int64)) / 3600e9
    np.testing.assert_allclose(hours, [10.1, 10.2, 10.25, 10.3, 35.0])
    np.testing.assert_array_equal(group["source"][:], [0, 0, 2, 0, 1])
    np.testing.assert_allclose(group["cloud_fraction"][:], 0.1)
    triples = _weight_triples(group)
    blocks = block_of_cells(GRID, BLOCK_CELLS, triples[:, 1].astype(np.int64))
    order = np.lexsort((triples[:, 0], blocks))
    np.testing.assert_array_equal(order, np.arange(order.size))
    starts = group[WEIGHTS]["block_start"][:]
    np.testing.assert_array_equal(np.diff(starts), np.bincount(blocks, minlength=6))
    row_sums = np.bincount(triples[:, 0].astype(int), weights=triples[:, 2], minlength=5)
    np.testing.assert_allclose(row_sums, group["coverage"][:], rtol=1e-12)
    np.testing.assert_allclose(group["coverage"][:], [1.0, 1.0, 1.0, 0.5, 1.0], rtol=1e-9)


def test_merging_into_a_previous_table_equals_building_at_once(tmp_path):
    at_once = _merged(tmp_path / "all.zarr", _parts(tmp_path, ["a.fake", "b.fake", "c.fake"]))
    first = _merged(tmp_path / "first.zarr", _parts(tmp_path, ["a.fake", "b.fake"]))
    merged = _merged(tmp_path / "merged.zarr", _parts(tmp_path, ["c.fake"], first_id=2),
                     old=first)
    for name in ("time", "value", "coverage", "source", "corner_latitude"):
        np.testing.assert_array_equal(merged[name][:], at_once[name][:])
    np.testing.assert_array_equal(_weight_triples(merged), _weight_triples(at_once))
    np.testing.assert_array_equal(merged[WEIGHTS]["block_start"][:],
                                  at_once[WEIGHTS]["block_start"][:])


def test_observations_of_a_block_carry_hours_cell_and_tile_weights(static_store, tmp_path):
    _merged(static_store, _parts(tmp_path, ["a.fake", "b.fake", "c.fake"]))
    _root_attributes(static_store, ["sif743"])
    catalogue = open_catalogue(static_store)
    left = catalogue.observations("sif743", 0)
    right = catalogue.observations("sif743", 1)
    # The pixel across columns 3 | 4 of row 2 (table row 0) is half in each block.
    assert list(left.obs) == [0, 1, 2] and list(right.obs) == [0]
    np.testing.assert_array_equal(left.hour, [10, 10, 10])
    np.testing.assert_allclose(left.cell_weights[0].toarray().ravel()[2 * 4 + 3], 0.5,
                               rtol=1e-9)
    np.testing.assert_allclose(right.cell_weights[0].toarray().ravel()[2 * 4 + 0], 0.5,
                               rtol=1e-9)
    np.testing.assert_allclose(left.coverage, 1.0, rtol=1e-9)
    np.testing.assert_allclose(np.asarray(left.cell_weights.sum(axis=1)).ravel(),
                               [0.5, 1.0, 1.0], rtol=1e-9)
    tiles, _ = catalogue.block_tiles(1)
    # Cell (2, 4): EvCn 0.4 and TunV 0.14 make tiles, EShr 0.005 is below 0.01.
    cover = _fractions().values[:, 2, 4]
    np.testing.assert_allclose(cover, [0.4, 0.005, 0.14])
    np.testing.assert_allclose(right.tile_weights.toarray()[0][tiles.cell == 8],
                               [0.2, 0.07], rtol=1e-6)
    np.testing.assert_allclose(right.non_vegetated, 0.5 - 0.27, rtol=1e-6)
    footprint = right.footprint_observations()
    assert footprint.n_obs == 1 and footprint.weights.shape == (1, tiles.n_tile)
    # The pixel half outside the grid lies in block 3 with coverage 0.5.
    edge = catalogue.observations("sif743", 3)
    assert list(edge.obs) == [3]
    np.testing.assert_allclose(edge.coverage, 0.5, rtol=1e-9)
    later = catalogue.observations("sif743", 4, start="2021-06-02")
    assert list(later.obs) == [4] and list(later.hour) == [11]
    assert float(later.table["value"][0]) == 60.0
    assert catalogue.observations("sif743", 4, end="2021-06-01").n_obs == 0


def test_appender_writes_every_row_once_in_order(tmp_path):
    group = zarr.open_group(str(tmp_path / "a.zarr"), mode="w", zarr_format=2)
    array = group.create_array("x", shape=(3,), chunks=(4,), dtype="i8", fill_value=None)
    array[:] = [-1, -2, -3]
    appender = catalogue_write.ArrayAppender(array)
    pieces = [np.arange(a, b) for a, b in ((0, 1), (1, 2), (2, 13), (13, 13), (13, 15),
                                           (15, 24))]
    for piece in pieces:
        appender.append(piece)
    assert array.shape == (24,)  # written up to the last chunk boundary; 3 rows queued
    appender.close()
    np.testing.assert_array_equal(array[:], np.concatenate([[-1, -2, -3], np.arange(24)]))


# ----------------------------------------------------------------- atomic swap
def test_clone_then_write_leaves_the_original_and_swap_replaces_it(tmp_path):
    original = tmp_path / "cat.zarr"
    group = zarr.open_group(str(original), mode="w", zarr_format=2)
    group.create_array("x", shape=(4,), chunks=(2,), dtype="f8")[:] = [1.0, 2.0, 3.0, 4.0]
    zarr.consolidate_metadata(str(original))
    inode = os.stat(original / "x" / "0").st_ino
    staging = catalogue_write.staging_path(original)
    clone_store(original, staging)
    zarr.open_group(str(staging), mode="a")["x"][0:2] = [10.0, 20.0]
    np.testing.assert_array_equal(zarr.open_group(str(original), mode="r")["x"][:],
                                  [1.0, 2.0, 3.0, 4.0])
    assert os.stat(original / "x" / "0").st_ino == inode
    swap_into_place(staging, original)
    assert not staging.exists()
    np.testing.assert_array_equal(zarr.open_group(str(original), mode="r")["x"][:],
                                  [10.0, 20.0, 3.0, 4.0])


def test_abandoned_staging_folders_are_removed(tmp_path):
    target = tmp_path / "cat.zarr"
    dead = tmp_path / f".cat.zarr{catalogue_write.STAGING_MARK}999999999-abcd"
    alive = catalogue_write.staging_path(target)
    dead.mkdir()
    alive.mkdir()
    assert catalogue_write.remove_abandoned_staging(target) == [dead]
    assert alive.exists() and not dead.exists()


def test_open_catalogue_rejects_what_is_not_a_catalogue(tmp_path):
    with pytest.raises(TccasInputError, match="no consolidated Zarr metadata"):
        open_catalogue(tmp_path)
    zarr.open_group(str(tmp_path / "other.zarr"), mode="w", zarr_format=2)
    zarr.consolidate_metadata(str(tmp_path / "other.zarr"))
    with pytest.raises(TccasInputError, match="not a tccas catalogue"):
        open_catalogue(tmp_path / "other.zarr")


def test_a_geotiff_agb_tile_checksum_covers_its_sd_tile(tmp_path):
    agb = np.arange(12.0).reshape(3, 4)
    tile = write_cci_biomass_geotiff(tmp_path, agb, agb / 2, -5.8, 40.0, 2020)[0]
    twin = sd_tile_path(tile)
    assert twin.is_file() and twin != tile
    with_sd = file_checksum((tile, "cci_biomass"))
    assert with_sd != sha256_of(tile)                # the SD tile counts
    assert file_checksum((tile, "cci_biomass")) == with_sd
    twin.write_bytes(twin.read_bytes() + b"\0")      # a changed SD tile: a new identity
    assert file_checksum((tile, "cci_biomass")) != with_sd
    twin.unlink()                                     # without it: the tile alone
    assert file_checksum((tile, "cci_biomass")) == sha256_of(tile)
    # products without companions keep the plain file checksum
    assert file_checksum((tile, "jrc_tip")) == sha256_of(tile)
