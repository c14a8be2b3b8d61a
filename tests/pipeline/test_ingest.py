"""``tccas ingest``: a catalogue from TROPOSIF (format writer), the real SMOS granules and
ERA5 files of the new CDS layout; chunks match blocks, idempotence, merging, bad files,
--strict, a killed ingest, and the reading API's numbers against direct computation."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import rasterio
import xarray as xr

from tccas.catalog.catalogue import (
    METEO,
    OBS,
    SOIL_NAMES,
    STATIC,
    WEIGHTS,
    block_of_cells,
    open_catalogue,
)
from tccas.catalog.catalogue_write import STAGING_MARK
from tccas.catalog.cci_landcover import (
    NON_VEGETATED_CLASSES,
    VEGETATION_CLASSES,
    WATER_PARTS,
    cci_landcover_file_name,
    write_cci_landcover,
)
from tccas.catalog.era5 import STANDARD_GRAVITY, era5_to_forcing
from tccas.catalog.soil_texture import (
    NO_DATA,
    USDA_TO_SOIL,
    read_soil_texture,
    soil_texture_file_name,
    write_soil_texture,
)
from tccas.catalog.troposif_writer import write_troposif_l2b
from tccas.catalog.weather import generate_era5_weather
from tccas.model.errors import TccasInputError
from tccas.model.parameters import SOIL_CLASSES
from tccas.operators.footprint import quad_weights
from tccas.pipeline.cli import main
from tccas.pipeline.config import load_config
from tccas.pipeline.ingest import run_ingest

CONFIG = "iberia-0.25deg"
OVERRIDES = ["period.start=2023-01-01", "period.end=2023-12-31", "period.spinup_years=0"]
SMOS = ("smos/SM_OPER_MIR_SMUDP2_20230401T191629_20230401T200942_700_001_1.nc",
        "smos/SM_OPER_MIR_SMUDP2_20230401T150613_20230401T155931_700_001_1.nc")
CH4 = ("tropomi_s5p/S5P_OFFL_L2__CH4____20200303T013547_20200303T031717_12367_01_010302_"
       "20200306T053811.nc")
# Linear spatial gradient added to the generated air and dew-point temperature [K degree-1].
T_PER_LAT, T_PER_LON = -0.6, 0.15


def config(*extra: str):
    return load_config(CONFIG, [*OVERRIDES, *extra])


def troposif_name(day: dt.date) -> str:
    nxt = day + dt.timedelta(days=1)
    return (f"S5P_PAL__L2B_SIF____{day:%Y%m%d}T002400_{nxt:%Y%m%d}T000500_"
            f"{day:%Y%m%d}T120000.nc")


def write_troposif_day(folder: Path, day: dt.date, n: int = 400, seed: int = 0) -> Path:
    """L2B soundings over the Iberia region around 13 UTC (a tenth too cloudy)."""
    rng = np.random.default_rng(seed + day.toordinal())
    lat = rng.uniform(37.2, 42.8, n)
    lon = rng.uniform(-9.0, -2.5, n)
    time = (np.datetime64(day, "ns") + np.timedelta64(13, "h")
            + np.sort(rng.integers(0, 600_000, n)).astype("timedelta64[ms]"))
    half_lat, half_lon = 0.025, 0.035
    return write_troposif_l2b(folder / troposif_name(day), {
        "time": time, "latitude": lat, "longitude": lon,
        "latitude_bounds": np.stack([lat - half_lat, lat - half_lat, lat + half_lat,
                                     lat + half_lat], 1),
        "longitude_bounds": np.stack([lon - half_lon, lon + half_lon, lon + half_lon,
                                      lon - half_lon], 1),
        "SIF_743": rng.normal(0.5, 0.3, n), "SIF_735": rng.normal(0.5, 0.3, n),
        "SIF_ERROR_743": rng.uniform(0.2, 0.4, n), "SIF_ERROR_735": rng.uniform(0.2, 0.4, n),
        "solar_zenith_angle": rng.uniform(20.0, 40.0, n),
        "viewing_zenith_angle": rng.uniform(0.0, 50.0, n),
        "cloud_fraction_L2": np.where(np.arange(n) % 10 == 0, 0.9, 0.2)}, day)


def write_era5_month(folder: Path, first: str, last: str) -> list[Path]:
    """ERA5 instant and accum files over Iberia (new CDS layout, latitude north first):
    the generated Majadas weather everywhere, temperatures with a linear gradient."""
    point = generate_era5_weather("majadas", first, last, seed=3)
    lats = np.arange(43.0, 36.99, -0.25)
    lons = np.arange(-9.5, -1.99, 0.25)
    offset = (T_PER_LAT * lats[:, None] + T_PER_LON * lons[None, :]).astype(np.float64)
    paths = []
    for step, names in (("instant", ("t2m", "d2m", "sp", "u10", "v10")),
                        ("accum", ("ssrd", "strd", "tp"))):
        fields = {}
        for name in names:
            values = point[name].values.astype(np.float64)[:, None, None] + np.zeros(
                (1, lats.size, lons.size))
            if name in ("t2m", "d2m"):
                values = values + offset
            fields[name] = (("valid_time", "latitude", "longitude"), values,
                            point[name].attrs)
        ds = xr.Dataset(fields, coords={"valid_time": point["valid_time"].values,
                                        "latitude": lats, "longitude": lons})
        path = folder / f"ERA5_{first[:7].replace('-', '')}_stepType-{step}.nc"
        ds.to_netcdf(path)
        paths.append(path)
    return paths


def write_landcover(folder: Path) -> Path:
    """A CCI LC PFT map of Iberia at 0.05 degree: broadleaf evergreen trees 30 % and
    natural grass 60 % (north of 41 N: 10 % and 80 %), bare soil 6 %, inland water 4 %."""
    lat = np.arange(42.975, 36.99, -0.05)
    lon = np.arange(-9.475, -2.0, 0.05)
    north = np.broadcast_to((lat > 41.0)[:, None], (lat.size, lon.size))
    classes = {name: np.zeros(north.shape) for name in (
        *VEGETATION_CLASSES, *NON_VEGETATED_CLASSES, *WATER_PARTS)}
    classes["TREES-BE"] = np.where(north, 10.0, 30.0)
    classes["GRASS-NAT"] = np.where(north, 80.0, 60.0)
    classes["BARE"] += 6.0
    classes["WATER_INLAND"] += 4.0
    return write_cci_landcover(folder / cci_landcover_file_name(2020), classes, lat, lon, 2020)


def elevation_m(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """[m] the constructed relief: linear, so bilinear interpolation is exact."""
    return 500.0 + 100.0 * (lat - 37.0) - 20.0 * lon


def write_geopotential(folder: Path) -> Path:
    """The invariant ERA5 geopotential of the relief over Iberia (new CDS layout)."""
    lats = np.arange(43.0, 36.99, -0.25)
    lons = np.arange(-9.5, -1.99, 0.25)
    z = STANDARD_GRAVITY * elevation_m(lats[:, None], lons[None, :])
    ds = xr.Dataset({"z": (("valid_time", "latitude", "longitude"), z[None],
                           {"units": "m**2 s**-2", "long_name": "Geopotential"})},
                    coords={"valid_time": [np.datetime64("2023-01-01T00", "ns")],
                            "latitude": lats, "longitude": lons, "number": 0,
                            "expver": ("valid_time", ["0001"])})
    path = folder / "ERA5_geopotential.nc"
    ds.to_netcdf(path)
    return path


#: USDA classes of the soil map: each 0.25 degree cell is 10 pixels of its majority class
#: and 6 of the next one; the cells of the northern row have no data.
SOIL_CYCLE = np.array([12, 11, 9, 7, 8, 4, 1])


def soil_majority(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """The USDA majority class of the cells (row, col) of the Iberia grid."""
    return SOIL_CYCLE[(rows + 2 * cols) % SOIL_CYCLE.size]


def write_soil_map(folder: Path, name: str = soil_texture_file_name()) -> Path:
    """A soil texture GeoTIFF of the Iberia grid, 1/16 degree pixels (4 x 4 per cell)."""
    grid = config().region.model_grid()
    per_cell = 4
    rows, cols = np.divmod(np.arange(grid.n_cells), grid.nx)
    majority = soil_majority(rows, cols).reshape(grid.shape)
    minority = SOIL_CYCLE[(rows + 2 * cols + 3) % SOIL_CYCLE.size].reshape(grid.shape)
    pattern = np.arange(per_cell * per_cell).reshape(per_cell, per_cell) < 6  # minority
    codes = np.where(np.tile(pattern, grid.shape),
                     np.repeat(np.repeat(minority, per_cell, 0), per_cell, 1),
                     np.repeat(np.repeat(majority, per_cell, 0), per_cell, 1))
    codes[:per_cell] = NO_DATA
    west, _, _, north = grid.bounds
    step = grid.dx / per_cell
    lat = north - step * (np.arange(codes.shape[0]) + 0.5)
    lon = west + step * (np.arange(codes.shape[1]) + 0.5)
    return write_soil_texture(folder / name, codes, lat, lon)


def tree_digest(path: Path) -> dict[str, str]:
    """SHA-256 of every file under a folder, by relative path."""
    return {str(p.relative_to(path)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def raw(tmp_path_factory, fixture_file) -> Path:
    folder = tmp_path_factory.mktemp("raw")
    for k in range(3):
        write_troposif_day(folder, dt.date(2023, 4, 1 + k))
    for name in SMOS:
        shutil.copy(fixture_file(name), folder)
    write_era5_month(folder, "2023-04-01", "2023-04-03")
    write_landcover(folder)
    (folder / "README.txt").write_text("not a product\n")
    return folder


@pytest.fixture(scope="module")
def built(raw, tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("cat") / "iberia.zarr"
    report = run_ingest(config(), raw, out, show_progress=False)
    return out, report


def test_ingest_reports_every_file_and_writes_provenance(built, raw):
    out, report = built
    assert report.changed and not report.of_status("rejected")
    assert len(report.of_status("ingested")) == 8
    assert [p.name for p in report.ignored] == ["README.txt"]
    catalogue = open_catalogue(out)
    names = [entry["name"] for entry in catalogue.provenance]
    assert names == sorted(p.name for p in raw.iterdir() if p.name != "README.txt")
    entry = catalogue.provenance[names.index(troposif_name(dt.date(2023, 4, 2)))]
    assert entry["status"] == "ingested" and entry["product"] == "troposif"
    assert entry["reader"] == "tccas.catalog.troposif.read_troposif"
    path = raw / entry["name"]
    assert entry["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert catalogue.streams == ["sif743", "sm_surface", "vod"]
    assert catalogue.qc_thresholds["sif743"]["max_cloud_fraction"] == 0.8
    assert "name: iberia-0.25deg" in catalogue.config_yaml


def test_rows_passed_qc_are_time_sorted_and_weights_sum_to_coverage(built):
    out, report = built
    catalogue = open_catalogue(out)
    table = catalogue.observation_table("sif743").load()
    assert table.sizes["obs"] == report.total_rows["sif743"] > 500
    assert np.all(np.diff(table["time"].values.astype(np.int64)) >= 0)
    assert np.all(table["qc"].values == 0)
    assert np.all(table["cloud_fraction"].values <= 0.8)
    weights = xr.open_zarr(out, group=f"{OBS}/sif743/{WEIGHTS}").load()
    row_sums = np.bincount(weights["obs"].values, weights=weights["weight"].values,
                           minlength=table.sizes["obs"])
    np.testing.assert_allclose(row_sums, table["coverage"].values, rtol=1e-12)
    assert table["coverage"].values.min() >= 0.5
    assert table["coverage"].values.max() == pytest.approx(1.0)
    blocks = block_of_cells(catalogue.grid, 8, weights["cell"].values)
    np.testing.assert_array_equal(np.diff(weights["block_start"].values),
                                  np.bincount(blocks, minlength=len(catalogue.blocks)))
    assert np.all(np.diff(blocks) >= 0)


def test_observations_of_a_block_match_the_footprint_weights(built):
    catalogue = open_catalogue(built[0])
    block = catalogue.blocks[4]
    seen = catalogue.observations("sif743", block, start="2023-04-01", end="2023-04-03")
    assert seen.n_obs > 20
    table = seen.table
    direct = quad_weights(catalogue.grid, table["corner_longitude"].values,
                          table["corner_latitude"].values).weights[:, block.cell_ids()]
    np.testing.assert_allclose(seen.cell_weights.toarray(), direct.toarray(), atol=1e-12)
    hours = (table["time"].values - np.datetime64("2023-04-01T00", "ns")) // np.timedelta64(
        1, "h")
    np.testing.assert_array_equal(seen.hour, hours)
    assert set(seen.hour // 24) <= {0, 1, 2} and set(seen.hour % 24) == {13}
    # Every cell: 90 % vegetation tiles (TmEv + C3Gr), 10 % bare soil and water.
    on_block = np.asarray(seen.cell_weights.sum(axis=1)).ravel()
    np.testing.assert_allclose(np.asarray(seen.tile_weights.sum(axis=1)).ravel(),
                               0.9 * on_block, rtol=1e-6)
    np.testing.assert_allclose(seen.non_vegetated, 0.1 * on_block, rtol=1e-5, atol=1e-12)


def test_static_maps_and_tiles_come_from_the_land_cover(built):
    out, report = built
    catalogue = open_catalogue(out)
    assert report.n_tiles == 2 * catalogue.grid.n_cells
    zarray = json.loads((out / STATIC / "pft_fraction" / ".zarray").read_text())
    assert zarray["chunks"] == [13, 8, 8] and zarray["shape"] == [13, 19, 24]
    static = catalogue.static()
    assert static.attrs["source"] == cci_landcover_file_name(2020)
    np.testing.assert_allclose(static["non_vegetated"].values, 0.1, rtol=1e-6)
    tiles, cells = catalogue.block_tiles(0)  # rows 0..7: 42.25 N to 40.25 N
    assert tiles.n_tile == 2 * cells.size and set(tiles.pft_names) == {"TmEv", "C3Gr"}
    row = cells[tiles.cell] // catalogue.grid.nx
    trees = np.where(catalogue.grid.y[row] > 41.0, 0.1, 0.3)
    np.testing.assert_allclose(tiles.cover_fraction[tiles.pft == 3], trees[tiles.pft == 3],
                               rtol=1e-6)
    np.testing.assert_allclose(tiles.cover_fraction[tiles.pft == 9],
                               0.9 - trees[tiles.pft == 9], rtol=1e-6)
    np.testing.assert_array_equal(tiles.met_cell, tiles.cell)
    assert set(tiles.soil) == {"sandy_loam"}
    # no soil map and no geopotential file: the configured class and no elevation
    assert static.attrs["soil"] == "sandy_loam everywhere (no soil map ingested)"
    assert np.all(static["soil_class"].values == SOIL_NAMES.index("sandy_loam"))
    assert np.all(static["soil_albedo_dry"].values == np.float32(0.28))
    assert np.all(np.isnan(static["elevation"].values))
    assert "no ERA5 geopotential file" in static.attrs["elevation"]


def test_meteorology_is_chunked_by_block_and_interpolated_exactly(built):
    out, report = built
    assert report.meteo_hours == 3 * 24
    zarray = json.loads((out / METEO / "air_temperature" / ".zarray").read_text())
    assert zarray["chunks"] == [8, 8, 8760] and zarray["shape"] == [19, 24, 8760]
    catalogue = open_catalogue(out)
    block = catalogue.blocks[4]
    forcing = catalogue.block_forcing(block, "2023-04-01", "2023-04-03")
    assert forcing.n_met == 64 and forcing.n_hour == 72
    assert forcing.start == np.datetime64("2023-04-01T00", "h")
    site = era5_to_forcing(generate_era5_weather("majadas", "2023-04-01", "2023-04-03", seed=3),
                           "generated")
    cells = block.cell_ids()
    lat = catalogue.grid.y[cells // catalogue.grid.nx]
    lon = catalogue.grid.x[cells % catalogue.grid.nx]
    expected = site.air_temperature + (T_PER_LAT * lat + T_PER_LON * lon)[:, None]
    np.testing.assert_allclose(forcing.air_temperature, expected, rtol=2e-7)
    np.testing.assert_allclose(forcing.shortwave_down, np.broadcast_to(
        site.shortwave_down, forcing.shortwave_down.shape), rtol=2e-7, atol=1e-4)
    np.testing.assert_allclose(forcing.co2, np.broadcast_to(site.co2[0], forcing.co2.shape))
    with pytest.raises(TccasInputError, match="missing at 2023-04-04T00"):
        catalogue.block_forcing(block, "2023-04-01", "2023-04-04")


def test_ingesting_the_same_files_again_changes_nothing(built, raw):
    out, _ = built
    before = tree_digest(out)
    report = run_ingest(config(), raw, out, show_progress=False)
    assert not report.changed and len(report.of_status("known")) == 8
    assert tree_digest(out) == before


def test_new_files_merge_into_the_catalogue_as_one_ingest_would(raw, tmp_path):
    first, second = tmp_path / "first", tmp_path / "all"
    first.mkdir()
    for path in raw.iterdir():
        if path.name != troposif_name(dt.date(2023, 4, 3)):
            shutil.copy(path, first / path.name)
    out = tmp_path / "merged.zarr"
    run_ingest(config(), first, out, show_progress=False)
    shutil.copytree(raw, second)
    report = run_ingest(config(), second, out, show_progress=False)
    assert [f.path.name for f in report.of_status("ingested")] == [troposif_name(
        dt.date(2023, 4, 3))]
    once = tmp_path / "once.zarr"
    run_ingest(config(), raw, once, show_progress=False)
    merged, direct = open_catalogue(out), open_catalogue(once)
    for name in ("time", "value", "coverage"):
        np.testing.assert_array_equal(merged.observation_table("sif743")[name].values,
                                      direct.observation_table("sif743")[name].values)
    for name in ("obs", "cell", "weight", "block_start"):
        np.testing.assert_array_equal(
            xr.open_zarr(out, group=f"{OBS}/sif743/{WEIGHTS}")[name].values,
            xr.open_zarr(once, group=f"{OBS}/sif743/{WEIGHTS}")[name].values)
    assert sorted(e["sha256"] for e in merged.provenance) == sorted(
        e["sha256"] for e in direct.provenance)


@pytest.fixture(scope="module")
def static_raw(tmp_path_factory) -> Path:
    """Land cover, the ERA5 geopotential and a soil texture map of Iberia."""
    folder = tmp_path_factory.mktemp("static-raw")
    write_landcover(folder)
    write_geopotential(folder)
    write_soil_map(folder)
    return folder


def test_elevation_soil_classes_and_albedos_come_from_their_files(static_raw, tmp_path):
    out = tmp_path / "static.zarr"
    report = run_ingest(config(), static_raw, out, show_progress=False)
    assert sorted(f.product for f in report.of_status("ingested")) == [
        "cci_landcover", "era5_geopotential", "soil_texture"]
    catalogue = open_catalogue(out)
    readers = {e["product"]: e["reader"] for e in catalogue.provenance}
    assert readers["era5_geopotential"] == "tccas.catalog.era5.open_era5_geopotential"
    assert readers["soil_texture"] == "tccas.catalog.soil_texture.read_soil_texture"
    grid = catalogue.grid
    static = catalogue.static()
    np.testing.assert_allclose(static["elevation"].values,
                               elevation_m(grid.y[:, None], grid.x[None, :]), rtol=1e-6)
    assert "ERA5_geopotential.nc" in static.attrs["elevation"]
    assert "9.80665" in static.attrs["elevation"] and static["elevation"].attrs["units"] == "m"
    rows, cols = np.divmod(np.arange(grid.n_cells), grid.nx)
    expected = np.array([SOIL_NAMES.index(USDA_TO_SOIL[int(code)])
                         for code in soil_majority(rows, cols)]).reshape(grid.shape)
    expected[0] = SOIL_NAMES.index("sandy_loam")  # no data: the configured class
    np.testing.assert_array_equal(static["soil_class"].values, expected)
    assert static["soil_class"].attrs["n_fallback_cells"] == grid.nx
    assert static.attrs["soil"].startswith(soil_texture_file_name() + ": majority")
    for kind in ("dry", "wet"):
        albedo = np.array([getattr(SOIL_CLASSES[n], f"albedo_{kind}") for n in SOIL_NAMES])
        np.testing.assert_array_equal(static[f"soil_albedo_{kind}"].values,
                                      albedo[expected].astype(np.float32))
    for name in ("elevation", "soil_class", "soil_albedo_dry", "soil_albedo_wet"):
        zarray = json.loads((out / STATIC / name / ".zarray").read_text())
        assert zarray["chunks"] == [8, 8] and zarray["shape"] == [19, 24]
        assert static[name].attrs["grid_mapping"] == "spatial_ref"
    for block in catalogue.blocks:
        tiles, cells = catalogue.block_tiles(block)
        cell = cells[tiles.cell]
        assert tiles.soil == tuple(SOIL_NAMES[i] for i in expected.ravel()[cell])
    before = tree_digest(out)
    assert not run_ingest(config(), static_raw, out, show_progress=False).changed
    assert tree_digest(out) == before


def test_soil_and_elevation_before_the_land_cover_are_kept_for_its_tiles(static_raw, tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    for path in static_raw.iterdir():
        if not path.name.startswith("ESACCI-LC"):
            shutil.copy(path, folder)
    out = tmp_path / "cat.zarr"
    report = run_ingest(config(), folder, out, show_progress=False)
    assert report.n_tiles is None and any("tiles/ not written" in n for n in report.notes)
    soil_only = xr.open_zarr(out, group=STATIC, consolidated=False)
    assert "pft_fraction" not in soil_only and not open_catalogue(out).has_tiles
    soil = soil_only["soil_class"].values
    assert len(np.unique(soil)) > 3
    shutil.copy(next(static_raw.glob("ESACCI-LC*")), folder)
    report = run_ingest(config(), folder, out, show_progress=False)
    assert [f.product for f in report.of_status("ingested")] == ["cci_landcover"]
    catalogue = open_catalogue(out)
    static = catalogue.static()
    np.testing.assert_array_equal(static["soil_class"].values, soil)
    assert static.attrs["source"] == cci_landcover_file_name(2020)
    assert not np.isnan(static["elevation"].values).any()
    tiles, cells = catalogue.block_tiles(5)
    assert tiles.soil == tuple(SOIL_NAMES[i] for i in soil.ravel()[cells[tiles.cell]])
    # later soil maps replace the classes and keep the cover; of two depths the shallower
    # (here all sand where it has data) is used
    newer = tmp_path / "newer"
    newer.mkdir()
    texture = read_soil_texture(write_soil_map(newer, soil_texture_file_name(100)))
    for depth, code in ((100, 7), (10, 12)):  # loam at 100 cm, sand at 10 cm
        write_soil_texture(newer / soil_texture_file_name(depth),
                           np.where(texture.values > 0, code, 0), texture["y"].values,
                           texture["x"].values)
    report = run_ingest(config(), newer, out, show_progress=False)
    assert (f"several soil texture files: {soil_texture_file_name(10)} used, not "
            f"{soil_texture_file_name(100)}") in report.notes
    static = open_catalogue(out).static()
    classes = static["soil_class"].values
    assert np.all(classes[0] == SOIL_NAMES.index("sandy_loam"))  # no data: fallback
    assert np.all(classes[1:] == SOIL_NAMES.index("sand"))
    assert report.n_tiles == 2 * catalogue.grid.n_cells
    assert static.attrs["source"] == cci_landcover_file_name(2020)


def test_bad_soil_and_geopotential_files_are_rejected_with_their_reason(tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    write_landcover(folder)
    soil = write_soil_map(folder)
    with rasterio.open(soil, "r+") as tif:  # one pixel of an unknown class
        values = tif.read(1)
        values[30, 40] = 13
        tif.write(values, 1)
    geopotential = write_geopotential(folder)
    with xr.open_dataset(geopotential) as opened:
        ds = opened.load()
    ds["z"].attrs["units"] = "m"
    ds.to_netcdf(folder / "ERA5_geopotential_m.nc")
    geopotential.unlink()
    out = tmp_path / "cat.zarr"
    report = run_ingest(config(), folder, out, show_progress=False)
    reasons = {f.path.name: f.reason for f in report.of_status("rejected")}
    assert reasons == {
        soil.name: "variable 'soil_texture_class' (band 1) holds the value 13, which is "
                   "neither a USDA texture class (1-12) nor the nodata value 255",
        "ERA5_geopotential_m.nc": "variable 'z' has units 'm'; expected 'm**2 s**-2' "
                                  "(geopotential)"}
    status = {e["name"]: e["status"] for e in open_catalogue(out).provenance}
    assert status[soil.name] == status["ERA5_geopotential_m.nc"] == "rejected"
    static = open_catalogue(out).static()
    assert static.attrs["soil"] == "sandy_loam everywhere (no soil map ingested)"
    assert np.all(np.isnan(static["elevation"].values))
    with pytest.raises(TccasInputError, match=r"--strict: .*units 'm'.*holds the value 13"):
        run_ingest(config(), folder, tmp_path / "strict.zarr", strict=True,
                   show_progress=False)


@pytest.fixture
def bad_raw(tmp_path, raw, fixture_file) -> Path:
    folder = tmp_path / "bad"
    folder.mkdir()
    good = raw / troposif_name(dt.date(2023, 4, 1))
    shutil.copy(good, folder)
    (folder / troposif_name(dt.date(2023, 4, 5))).write_bytes(b"")
    data = good.read_bytes()
    (folder / troposif_name(dt.date(2023, 4, 6))).write_bytes(data[: len(data) // 2])
    (folder / troposif_name(dt.date(2023, 4, 7))).write_bytes(
        np.random.default_rng(0).bytes(4096))
    shutil.copy(fixture_file(CH4), folder / troposif_name(dt.date(2023, 4, 8)))
    (folder / "ERA5_202304_stepType-accum.nc").write_text("temperature,12\n")
    return folder


def test_bad_files_are_rejected_with_their_reason_and_the_others_ingested(bad_raw, tmp_path):
    out = tmp_path / "bad.zarr"
    report = run_ingest(config(), bad_raw, out, show_progress=False)
    reasons = {f.path.name: f.reason for f in report.of_status("rejected")}
    assert set(reasons) == {troposif_name(dt.date(2023, 4, d)) for d in (5, 6, 7, 8)} | {
        "ERA5_202304_stepType-accum.nc"}
    assert "empty, truncated or not netCDF (0 bytes)" in reasons[troposif_name(
        dt.date(2023, 4, 5))]
    assert "cannot be opened as netCDF-4" in reasons[troposif_name(dt.date(2023, 4, 6))]
    assert "cannot be opened as netCDF-4" in reasons[troposif_name(dt.date(2023, 4, 7))]
    assert "SIF_743" in reasons[troposif_name(dt.date(2023, 4, 8))]
    assert "cannot be read as NetCDF" in reasons["ERA5_202304_stepType-accum.nc"]
    rejected = [line for line in report.lines() if line.startswith("rejected ")]
    assert len(rejected) == 5
    assert any(line.startswith(f"rejected {bad_raw / troposif_name(dt.date(2023, 4, 5))}: ")
               for line in rejected)
    catalogue = open_catalogue(out)
    status = {e["name"]: (e["status"], e["reason"]) for e in catalogue.provenance}
    assert status[troposif_name(dt.date(2023, 4, 1))] == ("ingested", "")
    assert status[troposif_name(dt.date(2023, 4, 7))][0] == "rejected"
    assert catalogue.observation_table("sif743").sizes["obs"] > 100
    # Rejected files are known too: a second ingest adds nothing.
    assert not run_ingest(config(), bad_raw, out, show_progress=False).changed


def test_strict_fails_on_a_bad_file_and_writes_nothing(bad_raw, tmp_path, capsys):
    out = tmp_path / "strict.zarr"
    with pytest.raises(TccasInputError, match=r"--strict: .*20230405.*empty, truncated"):
        run_ingest(config(), bad_raw, out, strict=True, show_progress=False)
    assert not out.exists()
    assert not list(tmp_path.glob(f".strict.zarr{STAGING_MARK}*"))
    status = main(["ingest", CONFIG, "--raw", str(bad_raw), "--out", str(out), "--strict",
                   "--quiet", *[a for o in OVERRIDES for a in ("--set", o)]])
    error = capsys.readouterr().err.strip().splitlines()
    assert status == 2 and len(error) == 1 and error[0].startswith("tccas: error: --strict: ")


def test_configuration_errors_stop_before_any_work(raw, built, tmp_path):
    with pytest.raises(TccasInputError, match=r"streams.sif743.qc: unknown threshold "
                                              r"'max_cloud'.*known: min_qa"):
        run_ingest(config("streams.sif743.qc.max_cloud=0.3"), raw, tmp_path / "x.zarr")
    with pytest.raises(TccasInputError, match="block_cells = 8, the configuration gives 4"):
        run_ingest(config("region.block_cells=4"), raw, built[0])
    with pytest.raises(TccasInputError, match=r"stream sif743 was screened with"):
        run_ingest(config("streams.sif743.qc.max_cloud_fraction=0.3"), raw, built[0])
    with pytest.raises(TccasInputError, match="RAW_DIR is not a folder"):
        run_ingest(config(), tmp_path / "missing", tmp_path / "x.zarr")
    assert not (tmp_path / "x.zarr").exists()


def test_a_killed_ingest_leaves_the_previous_catalogue_intact(raw, tmp_path):
    folder = tmp_path / "raw"
    shutil.copytree(raw, folder)
    out = tmp_path / "cat.zarr"
    run_ingest(config(), folder, out, show_progress=False)
    before = tree_digest(out)
    for k in range(6):
        write_troposif_day(folder, dt.date(2023, 5, 1 + k), n=1000)
    write_era5_month(folder, "2023-05-01", "2023-05-10")
    command = [sys.executable, "-m", "tccas.pipeline.cli", "ingest", CONFIG, "--raw",
               str(folder), "--out", str(out), "--quiet",
               *[a for o in OVERRIDES for a in ("--set", o)]]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    staging_store = None
    deadline = time.monotonic() + 300
    while process.poll() is None and time.monotonic() < deadline and staging_store is None:
        candidates = [p for p in tmp_path.glob(f".cat.zarr{STAGING_MARK}*")
                      if not p.name.endswith(".work")]
        staging_store = candidates[0] if candidates else None
        time.sleep(0.005)
    assert staging_store is not None, "the ingest finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert staging_store.exists()
    assert tree_digest(out) == before
    catalogue = open_catalogue(out)
    assert catalogue.observation_table("sif743").sizes["obs"] > 0
    report = run_ingest(config(), folder, out, show_progress=False)
    assert len(report.of_status("ingested")) == 8
    assert not list(tmp_path.glob(f".cat.zarr{STAGING_MARK}*"))
    assert open_catalogue(out).block_forcing(0, "2023-05-01", "2023-05-10").n_hour == 240
    assert set(os.listdir(tmp_path)) == {"raw", "cat.zarr"}


def test_a_100m_grid_shares_meteorology_cells_between_fine_cells(raw, tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    for path in raw.iterdir():
        if path.name.startswith(("ERA5_", "ESACCI-LC")):
            shutil.copy(path, folder)
    out = tmp_path / "fine.zarr"
    run_ingest(load_config("majadas-100m", OVERRIDES), folder, out, show_progress=False)
    catalogue = open_catalogue(out)
    assert catalogue.grid.shape == (51, 51) and len(catalogue.blocks) == 4
    # The 5 km box lies across the -5.75 meridian: two 0.25 degree meteorology cells.
    lattice = catalogue.met_lattice
    assert lattice.transform == (-6.0, 0.25, 0.0, 40.0, 0.0, -0.25) and lattice.shape == (1, 2)
    site = era5_to_forcing(generate_era5_weather("majadas", "2023-04-01", "2023-04-03", seed=3),
                           "generated").slice_hours(0, 24)
    for block in catalogue.blocks:
        tiles, cells = catalogue.block_tiles(block)
        forcing = catalogue.block_forcing(block, "2023-04-01", "2023-04-01")
        assert tiles.n_tile == 2 * cells.size
        lon, _ = catalogue.grid.xy_to_lonlat(catalogue.grid.x[cells % 51],
                                             catalogue.grid.y[cells // 51])
        met_lon = np.unique(np.floor(lon / 0.25) * 0.25 + 0.125)
        assert forcing.n_met == met_lon.size == np.unique(tiles.met_cell).size
        expected = site.air_temperature + (T_PER_LAT * 39.875 + T_PER_LON * met_lon)[:, None]
        np.testing.assert_allclose(forcing.air_temperature, expected, rtol=2e-7)
        tile_lon = lon[tiles.cell]
        np.testing.assert_array_equal(met_lon[tiles.met_cell],
                                      np.floor(tile_lon / 0.25) * 0.25 + 0.125)


def test_a_synthetic_truth_store_is_copied_once(raw, tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    shutil.copy(raw / troposif_name(dt.date(2023, 4, 1)), folder)
    truth = xr.Dataset({"gpp": (("tile", "time"), np.arange(6.0).reshape(2, 3))},
                       attrs={"title": "tccas synth truth"})
    truth.to_zarr(folder / "truth.zarr", zarr_format=2, consolidated=True)
    out = tmp_path / "cat.zarr"
    report = run_ingest(config(), folder, out, show_progress=False)
    assert sorted(f.product for f in report.of_status("ingested")) == ["troposif", "truth"]
    copied = open_catalogue(out).truth()
    np.testing.assert_array_equal(copied["gpp"].values, np.arange(6.0).reshape(2, 3))
    assert copied.attrs["title"] == "tccas synth truth"
    entry = next(e for e in open_catalogue(out).provenance if e["name"] == "truth.zarr")
    assert entry["status"] == "ingested" and entry["reader"] == "shutil.copytree"
    assert not run_ingest(config(), folder, out, show_progress=False).changed


def test_the_benchmark_files_are_ingested(tmp_path):
    from tccas.pipeline.bench_ingest import CONFIG as BENCH_CONFIG
    from tccas.pipeline.bench_ingest import write_days

    bench = load_config(BENCH_CONFIG)
    box = bench.region.model_grid().bounds
    files = {**write_days(tmp_path / "raw", box, dt.date(2019, 1, 1), 1),
             **write_days(tmp_path / "raw", box, dt.date(2019, 6, 1), 1)}
    assert [len(paths) for paths in files.values()] == [3, 3]
    report = run_ingest(bench, tmp_path / "raw", tmp_path / "bench.zarr", show_progress=False)
    assert len(report.of_status("ingested")) == 6
    rows: dict[tuple[int, str], int] = {}
    for result in report.files:
        month = 1 if result.path in files[dt.date(2019, 1, 1)] else 6
        for part in result.parts:
            rows[month, part.stream] = rows.get((month, part.stream), 0) + part.n_rows
    # January: no sun for TROPOSIF, frozen soil for SMOS.
    assert rows[1, "sif743"] == rows[1, "sm_surface"] == rows[1, "vod"] == 0
    assert rows[6, "sif743"] > 5000 and rows[6, "sm_surface"] == rows[6, "vod"] > 1000


# ------------------------------------------------------------------ FLUXNET tower fluxes
TOWER_OVERRIDES = ["period.end=2015-01-31", "period.spinup_years=0", "synth.products=[fluxnet]"]


@pytest.fixture(scope="module")
def tower_raw(tmp_path_factory) -> Path:
    """A month of the Majadas site written by ``tccas synth`` with the tower only."""
    raw = tmp_path_factory.mktemp("tower") / "raw"
    args = [item for override in TOWER_OVERRIDES for item in ("--set", override)]
    assert main(["synth", "majadas-site", "--out", str(raw), *args, "--quiet"]) == 0
    return raw


def test_synthetic_tower_fluxes_fill_the_nee_and_gpp_tables(tower_raw, tmp_path):
    from tccas.catalog.fluxnet import UMOL_CO2_M2_S_TO_GC_M2_D, read_fullset
    from tccas.pipeline.ingest import stream_screenings

    tower_config = load_config("majadas-site", TOWER_OVERRIDES)
    screenings, notes = stream_screenings(tower_config)
    assert set(screenings["fluxnet"]) == {"nee", "gpp"}
    assert not [note for note in notes if "fluxnet" in note]
    out = tmp_path / "majadas.zarr"
    report = run_ingest(tower_config, tower_raw, out, show_progress=False)
    hh = next((tower_raw / "fluxnet").glob("FLX_ES-LM1_*_HH_*.csv"))
    (tower,) = [f for f in report.of_status("ingested") if f.product == "fluxnet"]
    assert tower.path == hh and tower.reader == "tccas.catalog.fluxnet.read_tower_fluxes"
    assert [p.name for p in report.ignored] == [hh.name.replace("_HH_", "_DD_")]
    # Expected rows: the HH records with a value and NEE QC <= 1, at UTC half-hour centres
    # (ES-LM1 is UTC+1), in gC m-2 d-1.
    frame = read_fullset(hh)
    good = frame[frame["NEE_VUT_REF"].notna() & (frame["NEE_VUT_REF_QC"] <= 1)]
    utc = good.index.values + np.timedelta64(15, "m") - np.timedelta64(1, "h")
    assert report.rows == {"nee": len(good), "gpp": len(good)} and 1000 < len(good) < 1488
    catalogue = open_catalogue(out)
    assert catalogue.streams == ["gpp", "nee"]
    assert catalogue.qc_thresholds["nee"] == {"max_qc": 1}
    truth = xr.open_zarr(tower_raw / "truth.zarr", group="tower")
    for stream, column in (("nee", "NEE_VUT_REF"), ("gpp", "GPP_NT_VUT_REF")):
        observed = catalogue.observations(stream, 0)
        table = observed.table
        np.testing.assert_array_equal(table["time"].values, utc)
        np.testing.assert_allclose(table["value"].values,
                                   good[column].to_numpy() * UMOL_CO2_M2_S_TO_GC_M2_D)
        np.testing.assert_allclose(table["sigma"].values, good["NEE_VUT_REF_RANDUNC"].to_numpy()
                                   * UMOL_CO2_M2_S_TO_GC_M2_D)
        hours = (utc - np.datetime64("2015-01-01T00", "ns")) // np.timedelta64(1, "h")
        np.testing.assert_array_equal(observed.hour, hours)
        np.testing.assert_allclose(observed.cell_weights.toarray(), 1.0)
        np.testing.assert_allclose(observed.tile_weights.toarray(), [[0.25, 0.75]] * len(good))
        # The writer's noise: Laplace of the RANDUNC sigma on NEE, plus the daily
        # respiration-partitioning error on GPP.
        z = (table["value"].values - truth[stream].values[observed.hour]) / table["sigma"].values
        assert abs(z.mean()) < 0.1
        assert 0.9 < z.std() < (1.1 if stream == "nee" else 1.25)
        assert np.corrcoef(table["value"].values, truth[stream].values[observed.hour])[0, 1] > 0.9
    before = tree_digest(out)
    again = run_ingest(tower_config, tower_raw, out, show_progress=False)
    assert not again.changed and tree_digest(out) == before
