"""OpenLandMap USDA soil texture classes: the class mapping, majority aggregation on a
GeoTIFF written with rioxarray, the format writer, inspection and bad files."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import rioxarray  # noqa: F401  (registers the .rio accessor)
import xarray as xr
from rasterio.transform import Affine

from tccas.catalog.catalogue import SOIL_NAMES
from tccas.catalog.grid import laea_grid, latlon_grid
from tccas.catalog.soil_texture import (
    USDA_CLASSES,
    USDA_TO_SOIL,
    inspect_soil_texture,
    majority_soil_class,
    model_soil_class,
    read_soil_texture,
    soil_class_on_grid,
    soil_texture_depth_cm,
    soil_texture_file_name,
    write_soil_texture,
)
from tccas.model.errors import TccasInputError
from tccas.model.parameters import SOIL_CLASSES

# 2 x 2 cells of 0.25 degree; product pixels of 1/16 degree: 4 x 4 pixels per cell.
GRID = latlon_grid(-6.0, 39.5, -5.5, 40.0, 0.25)
STEP = 1.0 / 16.0
NODATA = 255
CODES = np.full((8, 8), 12, np.uint8)  # north-west cell: sand
# North-east: 4 Cl + 3 SiCl = 7 clay pixels beat 5 Lo (the USDA mode) and 4 SaLo.
CODES[:4, 4:] = [[1, 1, 7, 9], [1, 2, 7, 9], [1, 2, 7, 9], [2, 7, 7, 9]]
CODES[4:, :4] = [[9, 9, 11, 11]] * 4  # south-west: 8 SaLo, 8 LoSa: a tie
CODES[4:, 4:] = NODATA  # south-east: no data


def write_with_rioxarray(path: Path, codes: np.ndarray, west: float, north: float,
                         step: float, nodata: int | None = NODATA, crs: str | None = "EPSG:4326",
                         bands: int = 1) -> Path:
    """A GeoTIFF as another tool would write it (rioxarray, not the module's writer)."""
    data = np.broadcast_to(codes, (bands, *codes.shape)).copy()
    band = xr.DataArray(data, dims=("band", "y", "x"))
    band = band.rio.write_transform(Affine(step, 0.0, west, 0.0, -step, north))
    if crs is not None:
        band = band.rio.write_crs(crs)
    if nodata is not None:
        band = band.rio.write_nodata(nodata)
    with warnings.catch_warnings():  # rioxarray's own Affine arithmetic is deprecated
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        band.rio.to_raster(path, compress="deflate")
    return path


@pytest.fixture
def constructed(tmp_path) -> Path:
    return write_with_rioxarray(tmp_path / soil_texture_file_name(30), CODES, -6.0, 40.0, STEP)


def test_usda_classes_map_to_the_model_soil_classes():
    assert {code: abbreviation for code, (abbreviation, _) in USDA_CLASSES.items()} == {
        1: "Cl", 2: "SiCl", 3: "SaCl", 4: "ClLo", 5: "SiClLo", 6: "SaClLo", 7: "Lo",
        8: "SiLo", 9: "SaLo", 10: "Si", 11: "LoSa", 12: "Sa"}
    assert USDA_TO_SOIL == {1: "clay", 2: "clay", 3: "clay_loam", 4: "clay_loam",
                            5: "clay_loam", 6: "loam", 7: "loam", 8: "silt_loam",
                            9: "sandy_loam", 10: "silt_loam", 11: "loamy_sand", 12: "sand"}
    assert set(USDA_TO_SOIL.values()) == set(SOIL_CLASSES)
    # Classes the model has map to themselves (by name).
    for code, (_, name) in USDA_CLASSES.items():
        if name.replace(" ", "_") in SOIL_CLASSES:
            assert USDA_TO_SOIL[code] == name.replace(" ", "_")
    # The others: nearest model class in Rawls et al. (1982) field capacity and wilting
    # point [m3 m-3] (the model's constants are those class means).
    rawls = {6: (0.255, 0.148), 5: (0.366, 0.208), 3: (0.339, 0.239), 2: (0.387, 0.250)}
    for code, (fc, wp) in rawls.items():
        nearest = min(SOIL_CLASSES.values(),
                      key=lambda s: np.hypot(s.theta_fc - fc, s.theta_wp - wp))
        assert USDA_TO_SOIL[code] == nearest.name
    np.testing.assert_array_equal(model_soil_class(np.array([0, 1, 12, 13, 255])),
                                  [-1, 6, 0, -1, -1])


def test_a_cell_takes_the_majority_model_class_of_its_pixels(constructed):
    texture = read_soil_texture(constructed)
    assert texture.dims == ("y", "x") and texture.shape == (8, 8)
    np.testing.assert_array_equal(texture["x"].values, -6.0 + STEP * (np.arange(8) + 0.5))
    np.testing.assert_array_equal(texture["y"].values, 40.0 - STEP * (np.arange(8) + 0.5))
    np.testing.assert_array_equal(texture.values, np.where(CODES == NODATA, 0, CODES))
    assert texture.attrs["depth_cm"] == 30 and texture.attrs["source"] == constructed.name
    classes = majority_soil_class(texture, GRID)
    index = {name: i for i, name in enumerate(SOIL_NAMES)}
    np.testing.assert_array_equal(classes, [[index["sand"], index["clay"]],
                                            [index["loamy_sand"], -1]])
    on_grid = soil_class_on_grid(constructed, GRID, "silt_loam", bbox=(-6.0, 39.5, -5.5, 40.0))
    np.testing.assert_array_equal(on_grid.values, [[index["sand"], index["clay"]],
                                                   [index["loamy_sand"], index["silt_loam"]]])
    assert on_grid.attrs["n_fallback_cells"] == 1 and on_grid.attrs["depth_cm"] == 30
    assert "majority" in on_grid.attrs["aggregation"]


def test_a_window_reads_only_the_pixels_of_the_region(constructed):
    window = read_soil_texture(constructed, bbox=(-5.75, 39.75, -5.5, 40.0))
    np.testing.assert_array_equal(window.values, CODES[:4, 4:])
    assert window["x"].values[0] == -5.75 + STEP / 2
    with pytest.raises(TccasInputError, match="no pixel of soil_texture_class lies in"):
        read_soil_texture(constructed, bbox=(10.0, 50.0, 11.0, 51.0))


def test_cells_finer_than_the_pixels_take_the_pixel_at_their_centre(constructed):
    grid = laea_grid(-5.95, 39.55, -5.55, 39.95, 2000.0)
    classes = majority_soil_class(read_soil_texture(constructed), grid)
    x = np.broadcast_to(grid.x[None, :], grid.shape).ravel()
    y = np.broadcast_to(grid.y[:, None], grid.shape).ravel()
    lon, lat = grid.xy_to_lonlat(x, y)
    row, col = np.floor((40.0 - lat) / STEP).astype(int), np.floor((lon + 6.0) / STEP).astype(int)
    inside = (row >= 0) & (row < 8) & (col >= 0) & (col < 8)
    expected = np.full(grid.n_cells, -1)
    expected[inside] = model_soil_class(CODES[row[inside], col[inside]])
    np.testing.assert_array_equal(classes.ravel(), expected)
    assert {0, 1, 2, 6} <= set(np.unique(classes).tolist())


def test_the_writer_writes_what_the_reader_reads(tmp_path):
    lat = 67.5 - (np.arange(6) + 0.5) / 480.0
    lon = 26.0 + (np.arange(10) + 0.5) / 480.0
    codes = (np.arange(60).reshape(6, 10) % 13).astype(np.uint8)  # 0 = no data
    path = write_soil_texture(tmp_path / soil_texture_file_name(), codes, lat, lon)
    texture = read_soil_texture(path)
    np.testing.assert_array_equal(texture.values, codes)
    np.testing.assert_allclose(texture["y"].values, lat, rtol=0, atol=1e-12)
    np.testing.assert_allclose(texture["x"].values, lon, rtol=0, atol=1e-12)
    assert soil_texture_depth_cm(path) == 0
    assert soil_texture_depth_cm("texture.class_usda.tt_m_250m_b30cm_19500101_20171231_go_"
                                 "epsg.4326_v0.2.tif") == 30
    summary = inspect_soil_texture(path)
    assert summary["n_records"] == 60 and summary["grid_shape"] == (6, 10)
    assert summary["streams"]["soil_texture_class"]["n_valid"] == 60 - 5
    assert summary["classes"]["Sa"] == 4 and summary["classes"]["Cl"] == 5
    assert (summary["time_start"], summary["time_end"]) == ("1950-01-01T00:00:00",
                                                            "2017-12-31T23:59:59")
    with pytest.raises(TccasInputError, match=r"holds the value 14, which is no USDA"):
        write_soil_texture(tmp_path / "bad.tif", np.full((6, 10), 14), lat, lon)
    with pytest.raises(TccasInputError, match="shape"):
        write_soil_texture(tmp_path / "bad.tif", codes[:, :4], lat, lon)


def test_bad_files_name_the_file_variable_and_value(tmp_path):
    wrong = CODES.copy()
    wrong[2, 3] = 13
    path = write_with_rioxarray(tmp_path / "wrong.tif", wrong, -6.0, 40.0, STEP)
    message = (r"wrong\.tif: variable 'soil_texture_class' \(band 1\) holds the value 13, "
               r"which is neither a USDA texture class \(1-12\) nor the nodata value 255")
    with pytest.raises(TccasInputError, match=message):
        read_soil_texture(path)
    with pytest.raises(TccasInputError, match=message):
        inspect_soil_texture(path)
    with pytest.raises(TccasInputError, match=r"two\.tif: has 2 bands"):
        read_soil_texture(write_with_rioxarray(tmp_path / "two.tif", CODES, -6.0, 40.0, STEP,
                                               bands=2))
    with pytest.raises(TccasInputError, match=r"nocrs\.tif: GeoTIFF has no CRS"):
        read_soil_texture(write_with_rioxarray(tmp_path / "nocrs.tif", CODES, -6.0, 40.0,
                                               STEP, crs=None))
    corrupt = tmp_path / "corrupt.tif"
    corrupt.write_bytes(np.random.default_rng(0).bytes(2048))
    with pytest.raises(TccasInputError, match=r"corrupt\.tif: cannot be opened as GeoTIFF"):
        read_soil_texture(corrupt)
    with pytest.raises(TccasInputError, match=r"missing\.tif: file not found"):
        read_soil_texture(tmp_path / "missing.tif")
    with pytest.raises(TccasInputError, match="unknown soil class 'peat'"):
        soil_class_on_grid(path, GRID, "peat")
