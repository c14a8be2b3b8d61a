"""CCI Biomass AGB reader and writers: netCDF and GeoTIFF tiles give the same table, tile
naming, units, the sigma floor, screening and bad files."""

from __future__ import annotations

import re

import netCDF4
import numpy as np
import pytest
import rasterio
from rasterio.transform import Affine

from tccas.catalog.cci_biomass import (
    AGB_UNIT_FACTORS,
    QC_MEANINGS,
    RESOLUTION_DEG,
    SIGMA_FLOOR,
    BiomassScreening,
    cci_biomass_file_name,
    cci_biomass_tile,
    inspect_cci_biomass,
    read_cci_biomass,
    write_cci_biomass_geotiff,
    write_cci_biomass_netcdf,
)
from tccas.catalog.observations import passed_qc
from tccas.model.errors import TccasInputError

YEAR = 2020
ROWS, COLS = 30, 40
# upper-left pixel corner on the 1/1125 degree lattice, just north-west of Majadas
NORTH = 40000 / 1000 - 45 * RESOLUTION_DEG
WEST = -round(5.8 / RESOLUTION_DEG) * RESOLUTION_DEG
LAT = NORTH - RESOLUTION_DEG * (np.arange(ROWS) + 0.5)
LON = WEST + RESOLUTION_DEG * (np.arange(COLS) + 0.5)


def make_maps():
    rng = np.random.default_rng(11)
    agb = np.round(rng.gamma(2.0, 20.0, (ROWS, COLS)))
    sd = np.round(0.4 * agb + rng.uniform(0, 5, (ROWS, COLS)))
    agb[0, :3] = 0.0  # open land: no trees ...
    sd[0, :3] = 0.0  # ... and SD 0
    agb[5, 5] = np.nan  # no data
    sd[5, 5] = np.nan
    agb[6, 6] = 2000.0  # above the plausible range
    return agb, sd


@pytest.fixture(scope="module")
def maps():
    return make_maps()


@pytest.fixture(scope="module")
def netcdf_file(maps, tmp_path_factory):
    path = tmp_path_factory.mktemp("agb_nc") / cci_biomass_file_name(YEAR)
    return write_cci_biomass_netcdf(path, *maps, LAT, LON, YEAR)


@pytest.fixture(scope="module")
def tiles(maps, tmp_path_factory):
    return write_cci_biomass_geotiff(tmp_path_factory.mktemp("agb_tif"), *maps, WEST, NORTH,
                                     YEAR)


@pytest.fixture(scope="module")
def agb_table(netcdf_file):
    return read_cci_biomass(netcdf_file)


def test_tile_names_are_the_upper_left_corner():
    assert cci_biomass_tile(39.94, -5.77) == "N40W010"  # Majadas
    assert cci_biomass_tile(67.36, 26.64) == "N70E020"  # Sodankyla
    assert cci_biomass_tile(51.4, 5.2) == "N60E000"  # Reusel
    assert cci_biomass_tile(-5.0, -60.0) == "N00W060"
    assert cci_biomass_tile(-15.0, 20.5) == "S10E020"
    assert cci_biomass_file_name(2018, kind="AGB_SD", tile="N40W010", version="fv5.01") == (
        "N40W010_ESACCI-BIOMASS-L4-AGB_SD-MERGED-100m-2018-fv5.01.tif")


def test_netcdf_round_trip_keeps_values_and_pixels(maps, agb_table):
    agb, sd = maps
    valid = np.isfinite(agb)
    assert agb_table.sizes["obs"] == int(valid.sum()) == ROWS * COLS - 1
    assert agb_table.attrs["stream"] == "agb"
    assert agb_table.attrs["units"] == "Mg ha-1"
    assert agb_table.attrs["epoch_year"] == "2020"
    np.testing.assert_array_equal(agb_table["value"].values, agb[valid])
    np.testing.assert_array_equal(agb_table["agb_sd_product"].values, sd[valid])
    i, j = np.nonzero(valid)
    np.testing.assert_array_equal(agb_table["latitude"].values, LAT[i])
    np.testing.assert_array_equal(agb_table["longitude"].values, LON[j])
    assert np.all(agb_table["time"].values == np.datetime64("2020-07-01T00:00:00"))
    height = agb_table["corner_latitude"].values[:, 2] - agb_table["corner_latitude"].values[:, 0]
    np.testing.assert_allclose(height, 1.0 / 1125.0, rtol=1e-9)


def test_sigma_floor_applies_where_the_product_sd_is_zero(agb_table):
    zero = agb_table["agb_sd_product"].values == 0
    assert int(zero.sum()) == 3
    np.testing.assert_array_equal(agb_table["sigma"].values[zero], SIGMA_FLOOR)
    np.testing.assert_array_equal(agb_table["sigma"].values[~zero],
                                  agb_table["agb_sd_product"].values[~zero])


def test_geotiff_tiles_give_the_same_table(tiles, agb_table):
    agb_path, sd_path = tiles
    assert agb_path.name == "N40W010_ESACCI-BIOMASS-L4-AGB-MERGED-100m-2020-fv4.0.tif"
    assert sd_path.name == "N40W010_ESACCI-BIOMASS-L4-AGB_SD-MERGED-100m-2020-fv4.0.tif"
    with rasterio.open(agb_path) as tif:
        assert tif.crs.to_epsg() == 4326 and tif.nodata == 65535 and tif.dtypes[0] == "uint16"
        assert tif.transform.a == pytest.approx(1.0 / 1125.0, rel=1e-12)
    table = read_cci_biomass(agb_path)
    for name in ("value", "sigma", "time", "qc"):
        np.testing.assert_array_equal(table[name].values, agb_table[name].values)
    np.testing.assert_allclose(table["latitude"].values, agb_table["latitude"].values,
                               atol=1e-10)
    np.testing.assert_allclose(table["corner_longitude"].values,
                               agb_table["corner_longitude"].values, atol=1e-10)


def test_screening_value_range_and_relative_sigma(agb_table, netcdf_file):
    assert agb_table["qc"].attrs["flag_meanings"].split() == list(QC_MEANINGS)
    assert passed_qc(agb_table).sizes["obs"] == agb_table.sizes["obs"] - 1  # the 2000
    strict = read_cci_biomass(netcdf_file, screening=BiomassScreening(max_relative_sigma=0.5))
    relative_bit = 1 << QC_MEANINGS.index("RELATIVE_SIGMA")
    product_sd = strict["agb_sd_product"].values
    value = strict["value"].values
    with np.errstate(divide="ignore", invalid="ignore"):
        expected = (product_sd > 0) & ~(product_sd / value <= 0.5)
    np.testing.assert_array_equal((strict["qc"].values & relative_bit) != 0, expected)
    assert int(expected.sum()) > 0


def test_units_are_converted_to_mg_per_ha(maps, tmp_path):
    path = write_cci_biomass_netcdf(tmp_path / cci_biomass_file_name(YEAR), *maps, LAT, LON,
                                    YEAR, sd_variable="agb_sd")
    with netCDF4.Dataset(path, "a") as nc:
        nc["agb"].units = "kg m-2"
    table = read_cci_biomass(path)
    valid = np.isfinite(maps[0])
    np.testing.assert_array_equal(table["value"].values, maps[0][valid] * 10.0)
    assert AGB_UNIT_FACTORS["kg m-2"] == 10.0
    with netCDF4.Dataset(path, "a") as nc:
        nc["agb"].units = "g"
    with pytest.raises(TccasInputError, match=r"'agb' has units 'g'"):
        read_cci_biomass(path)


def test_bbox_and_inspect(netcdf_file, tiles, agb_table):
    box = read_cci_biomass(netcdf_file, bbox=(LON[10], LAT[19], LON[19], LAT[10]))
    assert box.sizes["obs"] == 100
    assert read_cci_biomass(tiles[0], bbox=(LON[10], LAT[19], LON[19], LAT[10])).sizes[
        "obs"] == 100
    for path, kind in ((netcdf_file, "netCDF"), (tiles[0], "GeoTIFF")):
        summary = inspect_cci_biomass(path)
        assert summary["format"] == kind
        assert summary["n_records"] == ROWS * COLS
        assert summary["streams"]["agb"] == {"n_valid": agb_table.sizes["obs"],
                                             "n_after_qc": agb_table.sizes["obs"] - 1}
        assert summary["time_start"] == "2020-07-01T00:00:00"


# ------------------------------------------------------------------------------ bad input
def test_missing_uncertainty_variable_is_named(netcdf_file, tmp_path):
    copy = tmp_path / netcdf_file.name
    copy.write_bytes(netcdf_file.read_bytes())
    with netCDF4.Dataset(copy, "a") as nc:
        nc.renameVariable("agb_se", "agb_error")
    with pytest.raises(TccasInputError, match="agb_se or agb_sd missing") as error:
        read_cci_biomass(copy)
    assert str(copy) in str(error.value)


def test_wrong_shape_is_named(netcdf_file, tmp_path):
    copy = tmp_path / netcdf_file.name
    copy.write_bytes(netcdf_file.read_bytes())
    with netCDF4.Dataset(copy, "a") as nc:
        nc.renameVariable("agb_se", "old")
        nc.createVariable("agb_se", "i2", ("lat", "lon"))
    with pytest.raises(TccasInputError, match=r"'agb_se' has shape \(30, 40\)"):
        read_cci_biomass(copy)


def test_all_no_data_is_rejected(maps, tmp_path):
    empty = np.full(maps[0].shape, np.nan)
    path = write_cci_biomass_netcdf(tmp_path / "empty.nc", empty, empty, LAT, LON, YEAR)
    with pytest.raises(TccasInputError, match="'agb' holds no data in any pixel"):
        read_cci_biomass(path)


def test_missing_twin_tile_and_sd_tile_alone(tiles, tmp_path):
    lonely = tmp_path / tiles[0].name
    lonely.write_bytes(tiles[0].read_bytes())
    with pytest.raises(TccasInputError, match=r"AGB_SD-MERGED.*file not found"):
        read_cci_biomass(lonely)
    with pytest.raises(TccasInputError, match="is the standard-deviation tile"):
        read_cci_biomass(tiles[1])


def test_projected_tile_is_rejected(maps, tmp_path):
    paths = []
    for kind in ("AGB", "AGB_SD"):
        path = tmp_path / cci_biomass_file_name(YEAR, kind=kind, tile="N40W010")
        with rasterio.open(path, "w", driver="GTiff", height=ROWS, width=COLS, count=1,
                           dtype="uint16", crs="EPSG:3035",
                           transform=Affine(100.0, 0.0, 3.0e6, 0.0, -100.0, 2.0e6)) as tif:
            tif.write(np.zeros((ROWS, COLS), dtype=np.uint16), 1)
        paths.append(path)
    with pytest.raises(TccasInputError, match="is not geographic"):
        read_cci_biomass(paths[0])


@pytest.mark.parametrize("cut", ["empty", "truncated"])
def test_damaged_files_are_user_errors_naming_them(netcdf_file, tiles, tmp_path, cut):
    for source in (netcdf_file, *tiles):
        damaged = tmp_path / source.name
        data = source.read_bytes()
        damaged.write_bytes(b"" if cut == "empty" else data[: len(data) // 2])
    for name in (netcdf_file.name, tiles[0].name):
        path = tmp_path / name
        with pytest.raises(TccasInputError, match=re.escape(str(path))):
            read_cci_biomass(path)


def test_writers_check_input(maps, tmp_path):
    with pytest.raises(TccasInputError, match="'agb_sd' has shape"):
        write_cci_biomass_netcdf(tmp_path / "w.nc", maps[0], maps[1][:, :-1], LAT, LON, YEAR)
    with pytest.raises(TccasInputError, match="not on the 1/1125 degree pixel lattice"):
        write_cci_biomass_geotiff(tmp_path, *maps, WEST + 0.0001, NORTH, YEAR)
    with pytest.raises(TccasInputError, match="leaves tile N40W010"):
        write_cci_biomass_geotiff(tmp_path, *maps, -10.0 + 10 * RESOLUTION_DEG,
                                  30.0 + 10 * RESOLUTION_DEG, YEAR)
    with pytest.raises(TccasInputError, match="holds values outside 0-10000"):
        write_cci_biomass_netcdf(tmp_path / "w.nc", maps[0] * 100, maps[1], LAT, LON, YEAR)
