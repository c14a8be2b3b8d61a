"""Synthetic generator, catalogue level: fields, weather, orbits, landscapes, error models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from pyproj import Geod

from tccas.catalog.cci_biomass import read_cci_biomass
from tccas.catalog.cci_landcover import read_cci_landcover, write_cci_landcover
from tccas.catalog.cci_lccs import write_lccs_map
from tccas.catalog.era5 import (
    STANDARD_GRAVITY,
    era5_to_forcing,
    open_era5,
    open_era5_geopotential,
)
from tccas.catalog.fluxnet import read_fullset
from tccas.catalog.jrc_tip import composite_starts, read_jrc_tip
from tccas.catalog.sites import get_site
from tccas.catalog.smos import read_smos_l2sm
from tccas.catalog.soil_texture import (
    USDA_TO_SOIL,
    read_soil_texture,
    soil_texture_file_name,
    write_soil_texture,
)
from tccas.catalog.synth import (
    BiomassErrorModel,
    FluxErrorModel,
    Raster,
    SifErrorModel,
    SmosErrorModel,
    TipErrorModel,
    bounded_noise,
    pixel_raster,
    troposif_soundings,
    write_biomass_year,
    write_fluxnet,
    write_smos_pass,
    write_tip_year,
    write_troposif_day,
)
from tccas.catalog.synth_fields import SmoothField, elevation, plane_km
from tccas.catalog.synth_landscape import (
    CLASSES,
    TREE_LINE_DESCENT_M_PER_DEGREE,
    TREE_LINE_LATITUDE,
    TREE_LINE_M,
    landscape_step,
    lccs_classes,
    synthetic_landscape,
)
from tccas.catalog.synth_orbits import (
    DGG_BLOCK,
    SENTINEL_5P,
    SMOS,
    dgg_lattice,
    smos_passes,
    tropomi_passes,
    unit_vector,
)
from tccas.catalog.synth_soil import SOIL_SEQUENCES, synthetic_soil_texture
from tccas.catalog.synth_weather import (
    WeatherGenerator,
    bilinear_matrix,
    era5_file_name,
    era5_geopotential_dataset,
    era5_geopotential_file_name,
    era5_lattice,
    era5_month_datasets,
    forcing_hours,
    write_netcdf_atomic,
)
from tccas.catalog.troposif import read_troposif
from tccas.catalog.weather import DRY_AIR_GAS_CONSTANT

MAJADAS = get_site("majadas")
SODANKYLA = get_site("sodankyla")
GEOD = Geod(ellps="WGS84")
BOX = (-6.0, 39.75, -5.75, 40.0)


def _local_solar_hour(time: np.ndarray, lon: np.ndarray) -> np.ndarray:
    utc = (time.astype("datetime64[us]") - time.astype("datetime64[D]")).astype(float) / 3.6e9
    return (utc + lon / 15.0) % 24.0


# ---------------------------------------------------------------------------- fields
def test_smooth_field_raster_equals_points_and_is_correlated() -> None:
    field = SmoothField.create(7, "test", 30.0, 26.6, 67.4)
    lat = np.linspace(68.0, 66.8, 40)
    lon = np.linspace(25.0, 28.0, 50)
    raster = field.raster(lat, lon)
    grid_lon, grid_lat = np.meshgrid(lon, lat)
    np.testing.assert_allclose(raster, field.at(grid_lon, grid_lat), atol=1e-10)
    big = field.raster(np.linspace(60, 75, 300), np.linspace(0, 60, 300))
    assert abs(big.mean()) < 0.3 and 0.7 < big.std() < 1.3
    # neighbours 3 km apart are strongly correlated, 150 km apart nearly independent
    east, _ = plane_km(lon, np.full(lon.size, 67.4), 26.6, 67.4)
    assert np.diff(east).mean() < 3.0
    near = np.corrcoef(raster[:, :-1].ravel(), raster[:, 1:].ravel())[0, 1]
    assert near > 0.95
    assert SmoothField.create(7, "test", 30.0, 26.6, 67.4).at(26.0, 67.0) == \
        field.at(26.0, 67.0)


def test_elevation_is_the_site_elevation_at_the_site() -> None:
    assert elevation(MAJADAS, 3, MAJADAS.longitude, MAJADAS.latitude) == MAJADAS.elevation
    z = elevation(SODANKYLA, 3, np.linspace(21, 32, 200), np.full(200, 67.0))
    assert z.min() >= 40.0 and 50.0 < z.std() < 250.0


# --------------------------------------------------------------------------- weather
def test_lattice_and_bilinear_weights() -> None:
    lattice = era5_lattice(*BOX)
    np.testing.assert_array_equal(lattice.latitude, [40.25, 40.0, 39.75, 39.5])
    np.testing.assert_array_equal(lattice.longitude, [-6.25, -6.0, -5.75, -5.5])
    lon, lat = np.array([-5.875, -6.0, -5.6]), np.array([39.875, 40.0, 39.6])
    weights = bilinear_matrix(lattice, lon, lat)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)
    point_lon, point_lat = lattice.points()
    np.testing.assert_allclose(weights @ (2.0 * point_lon - 3.0 * point_lat),
                               2.0 * lon - 3.0 * lat, atol=1e-12)
    assert weights[0].nnz == 4 and np.allclose(weights[0].data, 0.25)


@pytest.fixture(scope="module")
def weather(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, WeatherGenerator, dict]:
    folder = tmp_path_factory.mktemp("era5")
    lattice = era5_lattice(-6.5, 39.5, -5.0, 40.5)
    generator = WeatherGenerator.create(MAJADAS, lattice, np.datetime64("2015-06-29"),
                                        np.datetime64("2015-07-02"), seed=11)
    chunks = list(generator.month_chunks(np.datetime64("2015-07-02")))
    fields = {}
    for index, _ in chunks:
        chunk, _ = generator.fields(index)
        month = generator.valid_time[index[0]].astype("datetime64[M]")
        for step, ds in era5_month_datasets(generator, index, chunk, 11).items():
            write_netcdf_atomic(ds, folder / era5_file_name(month, step))
        for name, values in chunk.items():
            fields[name] = np.concatenate([fields[name], values], 1) if name in fields \
                else values
    return folder, generator, fields


def test_weather_files_are_monthly_and_read_by_the_era5_reader(weather) -> None:
    folder, generator, fields = weather
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["ERA5_201506_stepType-accum.nc", "ERA5_201506_stepType-instant.nc",
                     "ERA5_201507_stepType-accum.nc", "ERA5_201507_stepType-instant.nc"]
    ds = open_era5(sorted(folder.iterdir()))
    assert ds.sizes["valid_time"] == 4 * 24 + 1
    assert ds["valid_time"].values[0] == np.datetime64("2015-06-29T00:00")
    assert ds["valid_time"].values[-1] == np.datetime64("2015-07-03T00:00")
    t2m = ds["t2m"].transpose("valid_time", "latitude", "longitude").values
    np.testing.assert_array_equal(
        t2m[:, ::-1].reshape(t2m.shape[0], -1).T, fields["t2m"])
    assert np.all(fields["d2m"] <= fields["t2m"])
    assert np.all(fields["ssrd"] >= 0) and np.all(fields["tp"] >= 0)
    assert np.all(fields["ssrd"][:, ds["valid_time"].dt.hour.values == 0] == 0)
    # spatial structure: colder with elevation, not the same series everywhere
    slope = np.polyfit(generator.elevation, fields["t2m"].mean(axis=1), 1)[0]
    assert -0.009 < slope < -0.003
    assert fields["t2m"].std(axis=0).mean() > 0.3


def test_forcing_equals_the_reader_on_the_written_files(weather) -> None:
    folder, generator, fields = weather
    met_lon, met_lat = np.array([-5.875, -6.125]), np.array([39.875, 40.125])
    interpolation = bilinear_matrix(generator.lattice, met_lon, met_lat)
    n_valid = fields["t2m"].shape[1]
    ours = forcing_hours(fields, interpolation,
                         generator.valid_time[generator.first:generator.first + n_valid])
    ds = open_era5(sorted(folder.iterdir())).sortby("latitude", ascending=False)
    for i in range(met_lon.size):
        point = ds.isel(latitude=0, longitude=0, drop=True)
        for name in fields:
            values = ds[name].transpose("valid_time", "latitude", "longitude").values
            weights = interpolation[i].toarray().ravel()
            point[name] = ("valid_time", values.reshape(n_valid, -1).astype(float) @ weights,
                           ds[name].attrs)
        forcing = era5_to_forcing(point, "test")
        for key, array in forcing.arrays().items():
            np.testing.assert_allclose(ours[key][i], array[0], rtol=1e-12, atol=1e-12)


def test_geopotential_file_is_the_relief_of_the_pressure(weather, tmp_path: Path) -> None:
    _, generator, fields = weather
    path = write_netcdf_atomic(era5_geopotential_dataset(generator, 11),
                               tmp_path / era5_geopotential_file_name())
    with xr.open_dataset(path) as ds:  # the new CDS layout
        assert ds["z"].dims == ("valid_time", "latitude", "longitude")
        assert ds.sizes["valid_time"] == 1 and "number" in ds.coords and "expver" in ds.coords
        assert ds["z"].attrs["units"] == "m**2 s**-2" and ds["latitude"].values[0] > 40.0
        assert ds["valid_time"].values[0] == np.datetime64("2015-06-29T00", "ns")
    elevation = open_era5_geopotential(path)
    # g0 z in float32, divided by g0 again: the relief within a millimetre
    np.testing.assert_allclose(elevation.values[::-1].ravel(), generator.elevation, rtol=0,
                               atol=1e-3)
    # BETHY's barometric form p = p0 (1 + G dz / T)^(-g0 / (R G)) (MODEL_SPEC 3.1) gives
    # back the height above the site from the pressure ratio and the point's temperature,
    # to within the temperature's departure from the 6.5 K km-1 profile (1 % of dz).
    n_valid = fields["sp"].shape[1]
    sp_site = generator.site_fields["sp"][generator.first:generator.first + n_valid]
    lapse = 6.5e-3
    t2m, sp = fields["t2m"].astype(np.float64), fields["sp"].astype(np.float64)
    dz = t2m / lapse * ((sp / sp_site) ** (-DRY_AIR_GAS_CONSTANT * lapse / STANDARD_GRAVITY)
                        - 1.0)
    above_site = elevation.values[::-1].ravel() - MAJADAS.elevation
    assert np.ptp(above_site) > 500.0
    np.testing.assert_allclose(dz, np.broadcast_to(above_site[:, None], dz.shape), rtol=0.01,
                               atol=0.5)


# ---------------------------------------------------------------------------- orbits
@pytest.mark.parametrize(("orbit", "ltan", "minutes"), [(SENTINEL_5P, 13.5, 101.4),
                                                        (SMOS, 6.0, 100.0)])
def test_ascending_nodes_keep_their_local_time(orbit, ltan: float, minutes: float) -> None:
    numbers = orbit.orbits_between(np.datetime64("2018-07-01"), np.datetime64("2018-07-03"))
    assert 28 <= numbers.size <= 30  # about 14.3 orbits a day
    for number in numbers:
        node = orbit.node_time(np.array([number]))
        local = _local_solar_hour(node, np.array(orbit.node_longitude(int(number))))
        assert abs(local[0] - ltan) < 1e-6
    assert abs(orbit.period_s / 60 - minutes) < 0.5


@pytest.mark.parametrize(("day", "along_km"), [("2019-09-01", 5.5), ("2018-07-01", 7.0)])
def test_tropomi_pixels_grow_across_the_swath(day: str, along_km: float) -> None:
    box = (-8.5, 37.5, -3.0, 42.5)
    swaths = [s for offset in range(5) for s in tropomi_passes(
        np.datetime64(day) + np.timedelta64(offset, "D"), box)]
    assert len(swaths) >= 5
    near_nadir = 0
    for swath in swaths:
        lon, lat = swath.corner_longitude, swath.corner_latitude
        _, _, across = GEOD.inv(lon[:, 0], lat[:, 0], lon[:, 1], lat[:, 1])
        _, _, along = GEOD.inv(lon[:, 1], lat[:, 1], lon[:, 2], lat[:, 2])
        nadir = swath.viewing_zenith < 0.5
        if nadir.any():
            near_nadir += 1
            np.testing.assert_allclose(across[nadir] / 1e3, 3.5, atol=0.05)
            np.testing.assert_allclose(along[nadir] / 1e3, along_km, atol=0.3)
            edge = swath.viewing_zenith > 55.0
            if edge.any():
                assert across[edge].mean() > 2.5 * across[nadir].mean()
        area = np.array([abs(GEOD.polygon_area_perimeter(o, a)[0]) for o, a in
                         zip(lon[::50], lat[::50], strict=True)])
        root = np.sqrt(area) / 1e3
        assert root.min() > 0.95 * np.sqrt(3.5 * along_km) and root.max() < 10.0
        assert swath.viewing_zenith.max() <= 60.0
        local = _local_solar_hour(swath.time, swath.longitude)
        assert np.all((local > 11.5) & (local < 15.0))
        if nadir.any():
            assert abs(np.median(local[nadir]) - 13.0) < 0.3
    assert near_nadir >= 1


def test_smos_passes_at_dawn_and_dusk_on_a_15_km_lattice() -> None:
    lattice = dgg_lattice((-7.0, 39.0, -4.5, 41.0))
    area = (2.5 * 111.2 * np.cos(np.radians(40.0))) * (2.0 * 111.2)
    assert abs(lattice.grid_point_id.size * 195.0 / area - 1.0) < 0.1  # ISEA 4H9 cells
    ids = lattice.grid_point_id.astype(np.int64)
    assert np.all((ids - 1) % 1_000_000 < DGG_BLOCK) and ids.max() < 10_000_000
    assert np.unique(ids).size == ids.size
    vectors = unit_vector(lattice.longitude, lattice.latitude) * 6371.0
    from scipy.spatial import cKDTree

    spacing = cKDTree(vectors).query(vectors, k=2)[0][:, 1]
    assert 12.5 < np.median(spacing) < 15.5
    hours = {True: [], False: []}
    for day in ("2018-07-01", "2018-07-02", "2018-07-03"):
        for smos_pass in smos_passes(np.datetime64(day), lattice):
            assert np.all(np.abs(smos_pass.x_swath_km) <= 650.0)
            assert smos_pass.sensing_start <= smos_pass.time.min()
            assert smos_pass.time.max() <= smos_pass.sensing_stop
            hours[smos_pass.ascending].append(
                _local_solar_hour(smos_pass.time, lattice.longitude[smos_pass.points]))
    ascending, descending = np.concatenate(hours[True]), np.concatenate(hours[False])
    assert np.all(np.abs(ascending - 6.0) < 1.0) and np.all(np.abs(descending - 18.0) < 1.2)


# ------------------------------------------------------------------------ landscapes
def test_landscape_is_structured_and_reads_as_the_site_pfts(tmp_path: Path) -> None:
    box = (24.0, 66.5, 29.0, 68.2)
    landscape = synthetic_landscape(SODANKYLA, 20150104, *box)  # lapland-0.25deg seed
    total = sum(landscape.percentages[name].astype(int) for name in CLASSES)
    assert np.all(total == 100)
    pine = landscape.percentages["TREES-NE"].astype(float)
    white = np.random.default_rng(0).permutation(pine.ravel()).reshape(pine.shape)
    assert np.corrcoef(pine[:, :-1].ravel(), pine[:, 1:].ravel())[0, 1] > 0.7
    assert abs(np.corrcoef(white[:, :-1].ravel(), white[:, 1:].ravel())[0, 1]) < 0.05
    path = write_cci_landcover(tmp_path / "lc.nc", landscape.percentages, landscape.lat,
                               landscape.lon, 2015)
    classes = write_lccs_map(tmp_path / "lccs.nc", landscape.lccs_class, landscape.lat,
                             landscape.lon, 2015)
    fractions = read_cci_landcover(path, lccs_path=classes)
    mean = fractions["pft_fraction"].mean(("lat", "lon"))
    present = {str(p) for p, v in zip(fractions["pft"].values, mean.values, strict=True)
               if v > 0}
    assert present == {"EvCn", "EShr", "TunV", "WetV"}
    assert 0.05 < float(mean.sel(pft="WetV")) < 0.4 and float(mean.sel(pft="TunV")) > 0.001
    # the units: mires (160, 180), fells (140), pine heath (70), lakes (210)
    assert set(np.unique(landscape.lccs_class)) == {70, 140, 160, 180, 210}
    mire = np.isin(landscape.lccs_class, (160, 180))
    assert 0.2 < mire.mean() < 0.5  # about a third of the land is mire
    fell = landscape.lccs_class == 140
    tree_line = (TREE_LINE_M - TREE_LINE_DESCENT_M_PER_DEGREE
                 * (landscape.lat[:, None] - TREE_LINE_LATITUDE))
    above = np.broadcast_to(landscape.elevation > tree_line, fell.shape)
    # every fell pixel lies above the tree line; all land above it is fell but near the
    # tower, where the landscape gives way to the site's pine heath
    assert np.all(above[fell])
    assert fell.sum() > 0.99 * (above & (landscape.lccs_class != 210)).sum()
    # without the class map the shrubs and grass of mires and fells stay EShr and C3Gr
    plain = read_cci_landcover(path)["pft_fraction"]
    np.testing.assert_allclose(
        plain.sel(pft=["EShr", "C3Gr"]).sum("pft").values,
        fractions["pft_fraction"].sel(pft=["EShr", "WetV", "TunV"]).sum("pft").values,
        atol=1e-12)
    row = np.argmin(np.abs(landscape.lat - SODANKYLA.latitude))
    col = np.argmin(np.abs(landscape.lon - SODANKYLA.longitude))
    at_tower = fractions["pft_fraction"].isel(lat=row, lon=col)
    assert abs(float(at_tower.sel(pft="EvCn")) - 0.67) < 0.05
    assert abs(float(at_tower.sel(pft="EShr")) - 0.33) < 0.05
    assert landscape.lccs_class[row, col] == 70


def test_soil_texture_map_is_structured_and_round_trips(tmp_path: Path) -> None:
    box = (24.0, 66.5, 29.0, 68.2)
    texture = synthetic_soil_texture(SODANKYLA, 20150104, *box)
    assert texture.lat[0] > texture.lat[-1]
    assert landscape_step(*box, finest=1.0 / 480.0) == pytest.approx(
        texture.lon[1] - texture.lon[0])
    codes = texture.classes
    assert set(np.unique(codes).tolist()) == set(SOIL_SEQUENCES["sodankyla"][0])
    white = np.random.default_rng(0).permutation(codes.ravel()).reshape(codes.shape)
    # neighbours share their class far more often than in a shuffled map (0.65)
    same = (codes[:, :-1] == codes[:, 1:]).mean()
    assert same > 0.95 and same - (white[:, :-1] == white[:, 1:]).mean() > 0.25
    row = np.argmin(np.abs(texture.lat - SODANKYLA.latitude))
    col = np.argmin(np.abs(texture.lon - SODANKYLA.longitude))
    assert USDA_TO_SOIL[int(codes[row, col])] == SODANKYLA.soil == "sand"
    np.testing.assert_array_equal(
        synthetic_soil_texture(SODANKYLA, 20150104, *box).classes, codes)
    assert not np.array_equal(synthetic_soil_texture(SODANKYLA, 7, *box).classes, codes)
    path = write_soil_texture(tmp_path / soil_texture_file_name(), codes, texture.lat,
                              texture.lon)
    read = read_soil_texture(path)
    np.testing.assert_array_equal(read.values, codes)
    np.testing.assert_allclose(read["y"].values, texture.lat, rtol=0, atol=1e-9)
    np.testing.assert_allclose(read["x"].values, texture.lon, rtol=0, atol=1e-9)
    majadas = synthetic_soil_texture(MAJADAS, 3, -7.0, 39.0, -4.5, 41.0)
    row = np.argmin(np.abs(majadas.lat - MAJADAS.latitude))
    col = np.argmin(np.abs(majadas.lon - MAJADAS.longitude))
    assert USDA_TO_SOIL[int(majadas.classes[row, col])] == MAJADAS.soil == "sandy_loam"
    assert len(np.unique(majadas.classes)) >= 4


@pytest.mark.parametrize(("cover", "wetland", "tundra", "code"), [
    ({"WATER_INLAND": 60, "TREES-NE": 40}, False, False, 210),
    ({"SNOWICE": 70, "BARE": 30}, False, False, 220),
    ({"BUILT": 55, "GRASS-NAT": 45}, True, False, 190),
    ({"TREES-NE": 20, "GRASS-NAT": 50, "SHRUBS-BE": 30}, True, False, 160),
    ({"TREES-NE": 10, "GRASS-NAT": 60, "SHRUBS-BE": 30}, True, True, 180),
    ({"SHRUBS-BE": 50, "GRASS-NAT": 30, "BARE": 20}, False, True, 140),
    ({"GRASS-NAT": 3, "BARE": 97}, False, False, 200),
    ({"SHRUBS-BD": 10, "BARE": 90}, False, False, 150),
    ({"GRASS-MAN": 60, "GRASS-NAT": 40}, False, False, 10),
    ({"GRASS-MAN": 30, "TREES-BE": 40, "GRASS-NAT": 30}, False, False, 40),
    ({"TREES-BE": 20, "GRASS-NAT": 80}, False, False, 50),
    ({"TREES-BD": 50, "TREES-NE": 30, "GRASS-NAT": 20}, False, False, 60),
    ({"TREES-NE": 60, "SHRUBS-BE": 40}, False, False, 70),
    ({"TREES-ND": 60, "SHRUBS-BD": 40}, False, False, 80),
    ({"SHRUBS-BE": 40, "SHRUBS-BD": 10, "GRASS-NAT": 50}, False, False, 121),
    ({"SHRUBS-BD": 50, "GRASS-NAT": 50}, False, False, 122),
    ({"SHRUBS-BD": 10, "GRASS-NAT": 90}, False, False, 130),
])
def test_lccs_class_of_a_pixel_follows_the_legend_thresholds(cover, wetland, tundra, code):
    percentages = {name: np.array([cover.get(name, 0)]) for name in CLASSES}
    classes = lccs_classes(percentages, np.array([wetland]), np.array([tundra]))
    assert classes.dtype == np.uint8 and classes.tolist() == [code]


# ---------------------------------------------------------------------- error models
def _standardised(residual: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    return residual / sigma


def test_troposif_noise_follows_the_error_model(tmp_path: Path) -> None:
    model = SifErrorModel()
    rng = np.random.default_rng(1)
    soundings = troposif_soundings(np.datetime64("2019-07-01"), (-8.0, 38.0, -3.5, 42.0),
                                   lambda lon, lat, t: np.full(lon.size, 0.4), rng)
    n = soundings["time"].size
    assert n > 2500
    assert soundings["cloud_fraction_L2"].max() <= 0.8
    assert soundings["solar_zenith_angle"].max() <= 70.0
    truth = np.linspace(0.0, 2.0, n)
    path = write_troposif_day(tmp_path, np.datetime64("2019-07-01"), soundings, truth, rng)
    assert path.name.startswith("S5P_PAL__L2B_SIF____20190701T000000_20190702T000000")
    table = read_troposif(path)
    assert table.sizes["obs"] == n
    cos_sza = np.cos(np.radians(soundings["solar_zenith_angle"]))
    sigma = model.sigma_743(model.radiance(cos_sza, soundings["cloud_fraction_L2"]))
    np.testing.assert_allclose(table["sigma"].values, sigma.astype(np.float32), rtol=1e-7)
    z = _standardised(table["value"].values - truth, table["sigma"].values)
    assert abs(z.mean()) < 0.06 and abs(z.std() - 1.0) < 0.045
    assert 0.3 < np.median(sigma) < 0.6
    corners = table["corner_latitude"].values
    assert np.all(np.abs(corners - table["latitude"].values[:, None]) < 0.1)
    table735 = read_troposif(path, "sif735")
    filled = np.zeros(n, dtype=bool)  # the writer's undeclared fill on 0.3 % of rows
    filled[np.linspace(0, n - 1, round(0.003 * n)).round().astype(int)] = True
    assert table735.sizes["obs"] == n - filled.sum()
    z735 = (table735["value"].values - truth[~filled]) / table735["sigma"].values
    np.testing.assert_allclose(table735["sigma"].values,
                               (model.ratio_735 * sigma[~filled]).astype(np.float32), rtol=1e-6)
    assert abs(z735.std() - 1.0) < 0.045


def test_smos_noise_follows_the_dqx(tmp_path: Path) -> None:
    lattice = dgg_lattice((-8.0, 38.0, -3.5, 42.0))
    model = SmosErrorModel()
    z_sm, z_tau, afp = [], [], []
    for smos_pass in smos_passes(np.datetime64("2018-07-01"), lattice):
        n = smos_pass.points.size
        retrieved = np.abs(smos_pass.x_swath_km) <= 600.0
        sm_true = np.full(retrieved.sum(), 0.2)
        tau_true = np.full(retrieved.sum(), 0.35)
        ancillary = {"rfi_prob": np.full(n, 0.1), "surface_temperature": np.full(n, 290.0),
                     "altitude": np.full(n, 300.0), "snow": np.zeros(n, bool),
                     "frost": np.zeros(n, bool), "forest": np.zeros(n, bool)}
        path = write_smos_pass(tmp_path, smos_pass, lattice, retrieved, sm_true, tau_true,
                               ancillary, np.random.default_rng(smos_pass.orbit))
        sm = read_smos_l2sm(path, "sm_surface")
        tau = read_smos_l2sm(path, "vod")
        assert sm.sizes["obs"] == retrieved.sum()
        z_sm.append((sm["value"].values - 0.2) / sm["sigma"].values)
        z_tau.append((tau["value"].values - 0.35) / tau["sigma"].values)
        afp.append(sm["footprint_semi_major_km"].values)
        expected = (model.sm_base + model.sm_per_tau * 0.35) * model.gain(
            sm["x_swath_km"].values, 0.1)
        np.testing.assert_allclose(sm["sigma"].values, expected, rtol=1e-3)
    for z in (np.concatenate(z_sm), np.concatenate(z_tau)):
        assert z.size > 800
        assert abs(z.mean()) < 0.1 and abs(z.std() - 1.0) < 0.08
    afp = np.concatenate(afp)
    assert 20.0 <= afp.min() and afp.max() <= 30.0


def test_tip_and_biomass_noise(tmp_path: Path) -> None:
    raster = pixel_raster((-6.0, 39.75, -5.75, 40.0), (0.01,), 10_000)
    assert isinstance(raster, Raster) and raster.shape == (25, 25)
    starts = composite_starts(2015)[:4]
    shape = (starts.size, *raster.shape)
    fapar_true = np.full(shape, 0.4)
    path = write_tip_year(tmp_path, 2015, raster, starts, fapar_true, np.full(shape, 1.5),
                          np.zeros(shape), np.full(shape, 30.0), np.random.default_rng(2))
    table = read_jrc_tip(path)
    assert table.sizes["obs"] == fapar_true.size
    sigma = TipErrorModel().fapar_sigma(np.array(0.4), np.array(0.0))
    np.testing.assert_allclose(table["sigma"].values, sigma, rtol=1e-6)
    z = (table["value"].values - 0.4) / table["sigma"].values
    assert abs(z.mean()) < 0.05 and abs(z.std() - 1.0) < 0.05
    raster = pixel_raster((-6.0, 39.75, -5.75, 40.0), (1.0 / 1125.0,), 100_000)
    agb_true = np.full(raster.shape, 150.0)
    path = write_biomass_year(tmp_path, 2017, raster, agb_true, np.random.default_rng(3))
    table = read_cci_biomass(path)
    sd = BiomassErrorModel().sd(np.array(150.0))
    assert np.all(table["sigma"].values == np.round(sd))
    z = (table["value"].values - 150.0) / sd
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1.0) < 0.03


def test_bounded_noise_keeps_the_range_and_zero_mean() -> None:
    rng = np.random.default_rng(5)
    n = 100_000
    for truth, sigma in ((0.97, 0.027), (0.01, 0.06), (0.5, 0.03)):
        values = bounded_noise(np.full(n, truth), np.full(n, sigma), 0.0, 1.0, rng)
        noise = values - truth
        assert 0.0 <= values.min() and values.max() <= 1.0
        distance = min(truth, 1.0 - truth)
        assert np.abs(noise).max() <= distance + 1e-12
        # zero mean to within 4 standard errors of the mean of n deviates
        assert abs(noise.mean()) < 4.0 * noise.std() / np.sqrt(n)
        if distance / sigma > 6.0:      # far from the bounds: the plain Gaussian
            assert abs(noise.std() / sigma - 1.0) < 0.01
        else:                           # truncated: smaller than the stated sigma
            assert noise.std() < sigma
    edge = bounded_noise(np.array([np.nan, 0.0, 1.0]), np.full(3, 0.05), 0.0, 1.0, rng)
    assert np.isnan(edge[0]) and edge[1] == 0.0 and edge[2] == 1.0


def test_fluxnet_noise_is_laplace_with_the_stated_sigma(tmp_path: Path, tower_hours) -> None:
    n_hour = 24 * 60
    hourly = tower_hours(n_hour)
    hh, dd = write_fluxnet(tmp_path, "ES-LM1", 1.0, np.datetime64("2015-01-01T00", "h"),
                           hourly, np.random.default_rng(4))
    frame = read_fullset(hh)
    assert frame.index[0] == pd.Timestamp("2015-01-01 00:00")
    assert frame["NEE_VUT_REF"].iloc[:2].isna().all()  # 00:00-01:00 local = before the run
    truth = np.full(frame.shape[0], np.nan)
    truth[2:2 + 2 * n_hour] = np.repeat(hourly["nee"], 2) / (12.011e-6 * 86400.0)
    measured = (frame["NEE_VUT_REF_QC"] == 0).to_numpy() & np.isfinite(truth)
    z = ((frame["NEE_VUT_REF"].to_numpy() - truth) / frame["NEE_VUT_REF_RANDUNC"].to_numpy()
         )[measured]
    model = FluxErrorModel()
    expected = model.nee_base + model.nee_relative * np.abs(truth[measured])
    np.testing.assert_allclose(frame["NEE_VUT_REF_RANDUNC"].to_numpy()[measured], expected,
                               rtol=1e-5)
    assert z.size > 1000 and abs(z.std() - 1.0) < 0.08
    kurtosis = np.mean((z - z.mean()) ** 4) / z.var() ** 2
    assert 4.5 < kurtosis < 8.0  # Laplace: 6; Gaussian: 3
    daily = read_fullset(dd)
    assert daily.attrs["resolution"] == "DD"
    quality = daily["NEE_VUT_REF_QC"].dropna()
    assert np.all((quality >= 0) & (quality <= 1))
    np.testing.assert_allclose(daily["RECO_NT_VUT_REF"].dropna() - daily["GPP_NT_VUT_REF"]
                               .dropna(), daily["NEE_VUT_REF"].dropna(), atol=1e-4)
