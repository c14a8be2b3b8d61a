"""CCI Land Cover PFT: the class-to-PFT mapping, climate zones, fractions that add up, area-
conserving aggregation onto model grids, and bad files."""

from __future__ import annotations

import re

import netCDF4
import numpy as np
import pytest
import xarray as xr

from tccas.catalog.cci_landcover import (
    CLIMATE_ZONES,
    LCCS_REFINEMENTS,
    MODEL_PFTS,
    NON_VEGETATED_CLASSES,
    PFT_MAPPING,
    REFINED_CLASSES,
    VEGETATION_CLASSES,
    WATER_PARTS,
    ClimateZoneRules,
    aggregate_pft_fractions,
    cci_landcover_file_name,
    class_to_pft_matrix,
    climate_zone,
    inspect_cci_landcover,
    read_cci_landcover,
    write_cci_landcover,
)
from tccas.catalog.cci_lccs import lccs_file_name, write_lccs_map
from tccas.catalog.grid import laea_grid, latlon_grid
from tccas.catalog.sites import get_site
from tccas.catalog.synth_landscape import synthetic_landscape
from tccas.model.errors import TccasInputError
from tccas.model.parameters import PFT_BY_SHORT

CLASSES = (*VEGETATION_CLASSES, *NON_VEGETATED_CLASSES, *WATER_PARTS)


def random_percentages(shape, seed=0):
    """Integer percentages of every class adding up to exactly 100 per cell."""
    rng = np.random.default_rng(seed)
    share = rng.dirichlet(np.full(len(CLASSES), 0.7), size=shape)
    percent = np.floor(share * 100.0)
    remainder = (100 - percent.sum(-1)).astype(int)
    for k in range(len(CLASSES)):  # hand out the rounding remainder one point at a time
        add = remainder > k
        percent[..., k] += add
    return {name: percent[..., k] for k, name in enumerate(CLASSES)}


def one_class(name, shape, value=100.0):
    fields = {other: np.zeros(shape) for other in CLASSES}
    fields[name] = np.full(shape, value)
    return fields


# ------------------------------------------------------------------------- mapping table
def test_mapping_covers_every_class_and_zone_with_model_pfts():
    assert set(PFT_MAPPING) == set(VEGETATION_CLASSES)
    for targets in PFT_MAPPING.values():
        assert len(targets) == len(CLIMATE_ZONES)
        assert set(targets) <= set(PFT_BY_SHORT)
    matrix = class_to_pft_matrix()
    assert matrix.shape == (4, 10, 13)
    np.testing.assert_array_equal(matrix.sum(axis=2), 1.0)  # each class to exactly one PFT
    assert MODEL_PFTS == tuple(PFT_BY_SHORT)
    # WetV has no source class in the PFT product
    assert matrix[:, :, MODEL_PFTS.index("WetV")].sum() == 0


@pytest.mark.parametrize(("refinement", "pft"), [("flooded", "WetV"),
                                                 ("lichens_and_mosses", "TunV")])
def test_class_map_refinements_redirect_shrubs_and_grass_only(refinement, pft):
    assert LCCS_REFINEMENTS[refinement][1] == pft
    refined = class_to_pft_matrix(refinement)
    plain = class_to_pft_matrix()
    np.testing.assert_array_equal(refined.sum(axis=2), 1.0)
    for c, name in enumerate(VEGETATION_CLASSES):
        if name in REFINED_CLASSES:  # shrubs and natural grass: the refinement's PFT
            np.testing.assert_array_equal(refined[:, c, MODEL_PFTS.index(pft)], 1.0)
        else:  # trees and managed grass: the zone table
            np.testing.assert_array_equal(refined[:, c], plain[:, c])
    assert LCCS_REFINEMENTS["flooded"][0] == (160, 170, 180)
    assert LCCS_REFINEMENTS["lichens_and_mosses"][0] == (140,)


def test_climate_zones_by_latitude():
    lat = np.array([0.0, -23.0, 23.44, 29.9, 30.0, 39.94, 67.36, 69.9, 70.0, -80.0])
    expected = ["tropical", "tropical", "subtropical", "subtropical", "temperate_boreal",
                "temperate_boreal", "temperate_boreal", "temperate_boreal", "polar", "polar"]
    assert [CLIMATE_ZONES[z] for z in climate_zone(lat)] == expected
    tundra_at_60 = ClimateZoneRules(polar_min_abs_latitude=60.0)
    assert CLIMATE_ZONES[climate_zone(np.array([67.36]), tundra_at_60)[0]] == "polar"


# ------------------------------------------------------------------------------- reader
# Three rows: polar (75 N), temperate (40 N, Majadas latitude), tropical (5 N).
LAT3 = np.array([75.0, 40.0, 5.0])
LON2 = np.array([10.0, 20.0])


@pytest.mark.parametrize(("name", "expected"), [
    ("TREES-BE", ("TmEv", "TmEv", "TrEv")),
    ("TREES-BD", ("TmSg", "TmSg", "TrDD")),
    ("TREES-NE", ("EvCn", "EvCn", "EvCn")),
    ("TREES-ND", ("SgCn", "SgCn", "SgCn")),
    ("SHRUBS-BE", ("TunV", "EShr", "EShr")),
    ("SHRUBS-ND", ("TunV", "DShr", "DShr")),
    ("GRASS-NAT", ("TunV", "C3Gr", "C4Gr")),
    ("GRASS-MAN", ("ArbC", "ArbC", "ArbC")),
])
def test_each_class_lands_in_the_zone_pft(tmp_path, name, expected):
    path = write_cci_landcover(tmp_path / cci_landcover_file_name(2018),
                               one_class(name, (3, 2), 60.0) | {"BARE": np.full((3, 2), 40.0)},
                               LAT3, LON2, 2018)
    fractions = read_cci_landcover(path)
    for row, pft in enumerate(expected):
        cell = fractions["pft_fraction"].isel(lat=row, lon=0)
        assert float(cell.sel(pft=pft)) == pytest.approx(0.6)
        assert float(cell.sum()) == pytest.approx(0.6)
        assert float(fractions["non_vegetated"].isel(lat=row, lon=0)) == pytest.approx(0.4)


@pytest.fixture(scope="module")
def lc_file(tmp_path_factory):
    res = 1.0 / 360.0
    lat = 40.1 - res * (np.arange(36) + 0.5)
    lon = -5.9 + res * (np.arange(45) + 0.5)
    return write_cci_landcover(tmp_path_factory.mktemp("lc") / cci_landcover_file_name(2020),
                               random_percentages((36, 45)), lat, lon, 2020)


@pytest.fixture(scope="module")
def fractions(lc_file):
    return read_cci_landcover(lc_file)


def test_fractions_add_up_to_one_with_non_vegetated(fractions):
    total = fractions["pft_fraction"].sum("pft") + fractions["non_vegetated"]
    np.testing.assert_allclose(total.values, 1.0, atol=1e-12)
    assert float(fractions["pft_fraction"].sum("pft").max()) <= 1.0
    assert float(fractions["pft_fraction"].min()) >= 0.0
    assert list(fractions["pft"].values) == list(MODEL_PFTS)
    assert fractions["pft_fraction"].dims == ("pft", "lat", "lon")
    assert fractions.attrs["year"] == 2020


def test_spot_checked_cell_matches_its_percentages(lc_file, fractions):
    percent = random_percentages((36, 45))
    i, j = 7, 11
    assert float(fractions["pft_fraction"].isel(lat=i, lon=j).sel(pft="TmEv")) == (
        pytest.approx(percent["TREES-BE"][i, j] / 100.0))
    assert float(fractions["pft_fraction"].isel(lat=i, lon=j).sel(pft="EShr")) == (
        pytest.approx((percent["SHRUBS-BE"][i, j] + percent["SHRUBS-NE"][i, j]) / 100.0))
    expected_non_veg = sum(percent[name][i, j] for name in (*NON_VEGETATED_CLASSES,
                                                             *WATER_PARTS)) / 100.0
    assert float(fractions["non_vegetated"].isel(lat=i, lon=j)) == pytest.approx(
        expected_non_veg)
    with netCDF4.Dataset(lc_file) as nc:  # written as integer percentages, hyphenated names
        assert nc["TREES-BE"].dtype == np.uint8
        assert int(nc["WATER"][0, i, j]) == percent["WATER_INLAND"][i, j] + percent[
            "WATER_OCEAN"][i, j]


def test_rounded_totals_are_renormalised_and_fill_is_nan(tmp_path):
    fields = one_class("TREES-NE", (3, 2), 51.0) | {"GRASS-NAT": np.full((3, 2), 51.0)}
    fields["BARE"] = np.full((3, 2), np.nan)
    fields["BARE"][0, 0] = 0.0  # only this cell has every class: 102 %
    fractions = read_cci_landcover(write_cci_landcover(tmp_path / "lc.nc", fields, LAT3,
                                                       LON2, 2018))
    assert float(fractions["pft_fraction"].isel(lat=0, lon=0).sel(pft="EvCn")) == 0.5
    assert int(np.isnan(fractions["non_vegetated"].values).sum()) == 5


def test_caller_zones_override_latitude(tmp_path):
    path = write_cci_landcover(tmp_path / "lc.nc", one_class("GRASS-NAT", (3, 2)), LAT3, LON2,
                               2018)
    zones = xr.DataArray(np.full((3, 2), CLIMATE_ZONES.index("subtropical")),
                         coords={"lat": LAT3, "lon": LON2}, dims=("lat", "lon"))
    fractions = read_cci_landcover(path, zones=zones)
    np.testing.assert_array_equal(fractions["pft_fraction"].sel(pft="C4Gr").values, 1.0)
    assert fractions.attrs["climate_rules"] == "zones given by the caller"
    with pytest.raises(TccasInputError, match=r"codes outside 0\.\.3"):
        read_cci_landcover(path, zones=zones + 7)


def test_bbox_and_inspect(lc_file, fractions):
    box = read_cci_landcover(lc_file, bbox=(-5.85, 40.0, -5.8, 40.05))
    assert box.sizes["lat"] == 18 and box.sizes["lon"] == 18
    np.testing.assert_array_equal(
        box["pft_fraction"].values,
        fractions["pft_fraction"].sel(lat=box["lat"], lon=box["lon"]).values)
    summary = inspect_cci_landcover(lc_file)
    assert summary["n_records"] == 36 * 45
    assert summary["streams"]["pft_fraction"] == {"n_valid": 36 * 45, "n_after_qc": 36 * 45}
    assert summary["time_start"] == "2020-01-01T00:00:00"


# ------------------------------------------------------------------ with the class map
RES = 1.0 / 360.0
LAT_FI = 67.5 - RES * (np.arange(2) + 0.5)  # boreal by latitude (Lapland)
LON_FI = 26.0 + RES * (np.arange(3) + 0.5)
#: One mixed 300 m cell of every kind: trees, shrubs, grass, crops and non-vegetated.
MIXED = {"TREES-NE": 30.0, "TREES-BD": 5.0, "SHRUBS-BE": 20.0, "SHRUBS-BD": 10.0,
         "GRASS-NAT": 20.0, "GRASS-MAN": 5.0, "BARE": 5.0, "WATER_INLAND": 5.0}


def mixed_file(folder, lat, lon):
    fields = {name: np.full((lat.size, lon.size), MIXED.get(name, 0.0)) for name in CLASSES}
    return write_cci_landcover(folder / cci_landcover_file_name(2015), fields, lat, lon, 2015)


def test_flooded_and_lichen_cells_are_wetland_and_tundra(tmp_path):
    pft_path = mixed_file(tmp_path, LAT_FI, LON_FI)
    codes = np.array([[180, 160, 170], [140, 70, 0]], dtype=np.uint8)
    map_path = write_lccs_map(tmp_path / lccs_file_name(2015), codes, LAT_FI, LON_FI, 2015)
    fractions = read_cci_landcover(pft_path, lccs_path=map_path)
    cell = fractions["pft_fraction"]
    for i, j in ((0, 0), (0, 1), (0, 2)):  # flooded: shrubs + natural grass -> WetV
        assert float(cell.sel(pft="WetV")[i, j]) == pytest.approx(0.50)
        assert float(cell.sel(pft="TunV")[i, j]) == 0.0
        assert float(cell.sel(pft="EShr")[i, j]) == float(cell.sel(pft="C3Gr")[i, j]) == 0.0
    assert float(cell.sel(pft="TunV")[1, 0]) == pytest.approx(0.50)  # lichens and mosses
    assert float(cell.sel(pft="WetV")[1, 0]) == 0.0
    for i, j in ((1, 1), (1, 2)):  # needleleaved forest and no data: the zone table
        assert float(cell.sel(pft="EShr")[i, j]) == pytest.approx(0.20)
        assert float(cell.sel(pft="DShr")[i, j]) == pytest.approx(0.10)
        assert float(cell.sel(pft="C3Gr")[i, j]) == pytest.approx(0.20)
        assert float(cell.sel(pft=["WetV", "TunV"]).isel(lat=i, lon=j).sum()) == 0.0
    # trees, crops and the non-vegetated part never move
    np.testing.assert_allclose(cell.sel(pft="EvCn").values, 0.30)
    np.testing.assert_allclose(cell.sel(pft="TmSg").values, 0.05)
    np.testing.assert_allclose(cell.sel(pft="ArbC").values, 0.05)
    np.testing.assert_allclose(fractions["non_vegetated"].values, 0.10)
    np.testing.assert_allclose(cell.sum("pft").values, 0.90)
    assert fractions.attrs["lccs_source"] == map_path.name
    assert '"lichens_and_mosses": [[140], "TunV"]' in fractions.attrs["pft_mapping"]


@pytest.mark.parametrize("latitude", [-5.0, 25.0, 45.0, 75.0])
def test_lichen_cells_are_tundra_and_flooded_cells_wetland_in_every_zone(tmp_path, latitude):
    lat = latitude - RES * (np.arange(2) + 0.5)
    pft_path = mixed_file(tmp_path, lat, LON_FI)
    codes = np.array([[140, 140, 140], [180, 180, 180]], dtype=np.uint8)
    map_path = write_lccs_map(tmp_path / "map.nc", codes, lat, LON_FI, 2015)
    fractions = read_cci_landcover(pft_path, lccs_path=map_path)
    np.testing.assert_allclose(fractions["pft_fraction"].sel(pft="TunV")[0].values, 0.5)
    np.testing.assert_allclose(fractions["pft_fraction"].sel(pft="WetV")[1].values, 0.5)


def test_without_class_map_there_is_no_wetland_and_no_boreal_tundra(tmp_path):
    fractions = read_cci_landcover(mixed_file(tmp_path, LAT_FI, LON_FI))
    assert float(fractions["pft_fraction"].sel(pft=["WetV", "TunV"]).sum()) == 0.0
    np.testing.assert_allclose(fractions["pft_fraction"].sel(pft="C3Gr").values, 0.20)
    assert fractions.attrs["lccs_source"] == ""


def test_class_map_subset_and_window(tmp_path):
    """A class map covering only part of the PFT file: the rest keeps the zone table; a
    bbox reads the same window of both."""
    pft_path = mixed_file(tmp_path, LAT_FI, LON_FI)
    map_path = write_lccs_map(tmp_path / "map.nc", np.full((2, 1), 180, np.uint8), LAT_FI,
                              LON_FI[1:2], 2015)
    fractions = read_cci_landcover(pft_path, lccs_path=map_path)
    np.testing.assert_allclose(fractions["pft_fraction"].sel(pft="WetV").values,
                               [[0.0, 0.5, 0.0], [0.0, 0.5, 0.0]])
    window = read_cci_landcover(pft_path, bbox=(LON_FI[1] - RES / 4, 67.0, 26.5, 67.5),
                                lccs_path=map_path)
    np.testing.assert_allclose(window["pft_fraction"].sel(pft="WetV").values,
                               [[0.5, 0.0], [0.5, 0.0]])


def test_class_map_on_another_grid_is_rejected(tmp_path):
    pft_path = mixed_file(tmp_path, LAT_FI, LON_FI)
    coarse_lat = 67.5 - 2 * RES * (np.arange(2) + 0.5)
    map_path = write_lccs_map(tmp_path / "map.nc", np.full((2, 3), 180, np.uint8),
                              coarse_lat, 26.0 + 2 * RES * (np.arange(3) + 0.5), 2015)
    with pytest.raises(TccasInputError, match=r"map\.nc: variable 'lccs_class' has a "
                                              r"0\.00555556 degree grid, the PFT file"):
        read_cci_landcover(pft_path, lccs_path=map_path)


@pytest.mark.parametrize("site", ["majadas", "reusel"])
def test_majadas_and_reusel_fractions_do_not_change_with_their_class_map(tmp_path, site):
    """Their synthetic landscapes have no wetland or lichen pixels: the class map leaves
    the PFT fractions exactly as without it."""
    info = get_site(site)
    box = (info.longitude - 0.15, info.latitude - 0.1, info.longitude + 0.15,
           info.latitude + 0.1)
    landscape = synthetic_landscape(info, 7, *box)
    assert not np.isin(landscape.lccs_class, (140, 160, 170, 180)).any()
    pft_path = write_cci_landcover(tmp_path / cci_landcover_file_name(2015),
                                   landscape.percentages, landscape.lat, landscape.lon, 2015)
    map_path = write_lccs_map(tmp_path / lccs_file_name(2015), landscape.lccs_class,
                              landscape.lat, landscape.lon, 2015)
    with_map = read_cci_landcover(pft_path, lccs_path=map_path)
    without = read_cci_landcover(pft_path)
    np.testing.assert_array_equal(with_map["pft_fraction"].values,
                                  without["pft_fraction"].values)
    assert float(with_map["pft_fraction"].sel(pft=["WetV", "TunV"]).sum()) == 0.0


# ---------------------------------------------------------------------------- aggregation
def source_cell_areas(fractions):
    """True areas of the source cells [m2], from a Grid of the same cells."""
    res = float(np.abs(np.diff(fractions["lat"].values)).mean())
    lat, lon = fractions["lat"].values, fractions["lon"].values
    grid = latlon_grid(lon.min() - res / 2, lat.min() - res / 2, lon.max() + res / 2,
                       lat.max() + res / 2, res)
    return grid.cell_area()  # rows north to south, like the source


def test_aggregation_to_a_misaligned_quarter_degree_grid_conserves_totals(tmp_path):
    # 0.1 degree source cells: the 0.25 degree cell edges at -5.75 and 40.25 cut them
    lat = 40.45 - 0.1 * np.arange(10)
    lon = -5.95 + 0.1 * np.arange(10)
    path = write_cci_landcover(tmp_path / "lc.nc", random_percentages((10, 10), seed=4), lat,
                               lon, 2020)
    fractions = read_cci_landcover(path)
    grid = latlon_grid(-6.0, 39.5, -5.0, 40.5, 0.25)
    aggregated = aggregate_pft_fractions(fractions, grid)
    assert aggregated["pft_fraction"].dims == ("pft", "y", "x")
    assert aggregated["pft_fraction"].shape == (13, 4, 4)
    np.testing.assert_allclose(aggregated["coverage"].values, 1.0, rtol=1e-12)
    areas = source_cell_areas(fractions)
    cell_area = grid.cell_area()
    for pft in ("TmEv", "C3Gr", "ArbC"):
        source_total = float((fractions["pft_fraction"].sel(pft=pft).values * areas).sum())
        grid_total = float((aggregated["pft_fraction"].sel(pft=pft).values * cell_area).sum())
        assert grid_total == pytest.approx(source_total, rel=1e-10)
    total = aggregated["pft_fraction"].sum("pft") + aggregated["non_vegetated"]
    np.testing.assert_allclose(total.values, 1.0, atol=1e-12)


def test_aggregation_of_two_halves_is_their_area_mean(tmp_path):
    # one 0.25 degree cell covered by a west half of trees and an east half of grass
    lat = np.array([40.125])
    lon = np.array([-5.9375, -5.8125])
    fields = {name: np.zeros((1, 2)) for name in CLASSES}
    fields["TREES-BE"] = np.array([[100.0, 0.0]])
    fields["GRASS-NAT"] = np.array([[0.0, 100.0]])
    fractions = read_cci_landcover(write_cci_landcover(tmp_path / "lc.nc", fields, lat, lon,
                                                       2020))
    aggregated = aggregate_pft_fractions(fractions, latlon_grid(-6.0, 40.0, -5.75, 40.25,
                                                                0.25))
    assert float(aggregated["pft_fraction"].sel(pft="TmEv")[0, 0]) == pytest.approx(0.5)
    assert float(aggregated["pft_fraction"].sel(pft="C3Gr")[0, 0]) == pytest.approx(0.5)


def test_aggregation_to_100_m_laea_conserves_totals(lc_file, fractions):
    grid = laea_grid(-5.9, 39.99, -5.775, 40.1, 100.0)
    aggregated = aggregate_pft_fractions(fractions, grid)
    covered = aggregated["coverage"].values * grid.cell_area()
    areas = source_cell_areas(fractions)
    for pft in ("TmEv", "EvCn"):
        source_total = float((fractions["pft_fraction"].sel(pft=pft).values * areas).sum())
        grid_total = float(np.nansum(aggregated["pft_fraction"].sel(pft=pft).values * covered))
        assert grid_total == pytest.approx(source_total, rel=1e-6)
    assert float(covered.sum()) == pytest.approx(float(areas.sum()), rel=1e-6)
    assert np.isnan(aggregated["pft_fraction"].values[:, aggregated["coverage"].values == 0]
                    ).all()


# ------------------------------------------------------------------------------ bad input
def test_missing_class_is_named(lc_file, tmp_path):
    copy = tmp_path / lc_file.name
    copy.write_bytes(lc_file.read_bytes())
    with netCDF4.Dataset(copy, "a") as nc:
        nc.renameVariable("SHRUBS-ND", "SHRUBS_ND")
    with pytest.raises(TccasInputError, match="SHRUBS-ND missing") as error:
        read_cci_landcover(copy)
    assert str(copy) in str(error.value)


def test_wrong_shape_is_named(lc_file, tmp_path):
    copy = tmp_path / lc_file.name
    copy.write_bytes(lc_file.read_bytes())
    with netCDF4.Dataset(copy, "a") as nc:
        nc.renameVariable("BARE", "BARE_OLD")
        nc.createVariable("BARE", "u1", ("lat", "lon"))
    with pytest.raises(TccasInputError, match=r"variable 'BARE' has shape \(36, 45\)"):
        read_cci_landcover(copy)


def test_totals_off_100_and_percent_above_100_are_rejected(tmp_path):
    fields = one_class("TREES-BE", (3, 2), 80.0)
    path = write_cci_landcover(tmp_path / "lc.nc", fields, LAT3, LON2, 2018)
    with pytest.raises(TccasInputError, match=r"lat 75.00000, lon 10.00000 add up to 80"):
        read_cci_landcover(path)
    with netCDF4.Dataset(path, "a") as nc:
        nc["BARE"][0, 0, 0] = 150
    with pytest.raises(TccasInputError, match="'BARE' holds 150 percent"):
        read_cci_landcover(path)


def test_all_fill_is_rejected(tmp_path):
    fields = {name: np.full((3, 2), np.nan) for name in CLASSES}
    path = write_cci_landcover(tmp_path / "lc.nc", fields, LAT3, LON2, 2018)
    with pytest.raises(TccasInputError, match=r"every cell .* is fill"):
        read_cci_landcover(path)


@pytest.mark.parametrize("cut", ["empty", "truncated"])
def test_damaged_file_is_a_user_error_naming_it(lc_file, tmp_path, cut):
    damaged = tmp_path / f"{cut}.nc"
    data = lc_file.read_bytes()
    damaged.write_bytes(b"" if cut == "empty" else data[: len(data) // 2])
    with pytest.raises(TccasInputError, match=re.escape(str(damaged))):
        read_cci_landcover(damaged)


def test_writer_checks_classes_and_range(tmp_path):
    fields = one_class("TREES-BE", (3, 2))
    with pytest.raises(TccasInputError, match="lack WATER_OCEAN"):
        write_cci_landcover(tmp_path / "w.nc",
                            {k: v for k, v in fields.items() if k != "WATER_OCEAN"},
                            LAT3, LON2, 2018)
    fields["BUILT"] = np.full((3, 2), 101.0)
    with pytest.raises(TccasInputError, match="'BUILT' holds values outside 0-100"):
        write_cci_landcover(tmp_path / "w.nc", fields, LAT3, LON2, 2018)
