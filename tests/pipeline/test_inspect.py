"""``tccas inspect``: product detection and record counts on the real fixtures and on
synthetic files of every written product; one error line for bad files."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import netCDF4
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from tccas.catalog.cci_biomass import write_cci_biomass_geotiff
from tccas.catalog.cci_landcover import (
    NON_VEGETATED_CLASSES,
    VEGETATION_CLASSES,
    WATER_PARTS,
    cci_landcover_file_name,
    write_cci_landcover,
)
from tccas.catalog.cci_lccs import LCCS_LEGEND, lccs_file_name, write_lccs_map
from tccas.catalog.jrc_tip import composite_starts, write_jrc_tip
from tccas.catalog.smos_ic import ease2_centres, smos_ic_file_name, write_smos_ic
from tccas.catalog.soil_texture import soil_texture_file_name, write_soil_texture
from tccas.catalog.troposif_writer import write_troposif_l2b
from tccas.model.errors import TccasInputError
from tccas.pipeline.cli import main
from tccas.pipeline.inspect import AGGREGATED_GOOD_FRACTION, detect_product, inspect_file

SMOS_DESCENDING = "smos/SM_OPER_MIR_SMUDP2_20230401T191629_20230401T200942_700_001_1.nc"
SMOS_ASCENDING = "smos/SM_OPER_MIR_SMUDP2_20230401T150613_20230401T155931_700_001_1.nc"
ERA5_YEAR = "era5/era5_testfile.nc"
ERA5_GRID = "era5/era5_2t_1.nc"
FLUXNET_MM = "fluxnet/FLX_FR-Pue_FLUXNET2015_FULLSET_MM_2007-2014_2-3.csv"
FLUXNET_DD = "fluxnet/FLX_US-Wi7_FLUXNET2015_FULLSET_DD_2005-2005_1-4.csv"
FLUXNET_ERAI = "fluxnet/FLX_US-Wi7_FLUXNET2015_ERAI_HH_1989-2014_1-4.csv"
FLUXNET_HH = ("fluxnet/exampledata_FLUXNET-FULLSET-HH-CSV-30MIN_FLX_CH-Cha_FLUXNET2015_"
              "FULLSET_HH_2005-2020_beta-3.csv")
PLUMBER_FLUX = "fluxnet/DK-Fou_2005-2005_FLUXNET2015_Flux.nc"
PLUMBER_MET = "fluxnet/DK-Fou_2005-2005_FLUXNET2015_Met.nc"
S5P = {
    "CH4": ("tropomi_s5p/S5P_OFFL_L2__CH4____20200303T013547_20200303T031717_12367_01_"
            "010302_20200306T053811.nc"),
    "NO2": ("tropomi_s5p/S5P_OFFL_L2__NO2____20200303T013547_20200303T031717_12367_01_"
            "010302_20200306T053815.nc"),
}


def run_cli(capsys, *args):
    code = main(["inspect", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_error_line(code, err, *fragments):
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("tccas: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


# ------------------------------------------------------------------------- real fixtures
def test_smos_l2_granules(fixture_file):
    summary = inspect_file(fixture_file(SMOS_DESCENDING))
    assert summary["product"] == "SMOS L2 SM (MIR_SMUDP2)"
    assert summary["n_records"] == 50638
    assert summary["streams"] == {"sm_surface": {"n_valid": 1650, "n_after_qc": 497},
                                  "vod": {"n_valid": 1190, "n_after_qc": 219}}
    assert summary["time_start"] == "2023-04-01T19:27:17.825357"
    assert summary["time_end"] == "2023-04-01T19:39:50.140044"
    ascending = inspect_file(fixture_file(SMOS_ASCENDING))
    assert ascending["n_records"] == 42949
    assert ascending["streams"]["sm_surface"] == {"n_valid": 192, "n_after_qc": 0}
    assert ascending["streams"]["vod"] == {"n_valid": 0, "n_after_qc": 0}


def test_era5_files_by_content(fixture_file):
    year = inspect_file(fixture_file(ERA5_YEAR))
    assert year["product"].startswith("ERA5")
    assert year["n_records"] == 8784  # 2020 is a leap year, one grid point
    assert year["time_start"] == "2020-01-01T00:00:00"
    assert year["time_end"] == "2020-12-31T23:00:00"
    assert set(year["streams"]) == {"t2m", "u10", "v10", "sp", "msdwswrf", "msdwswrfcs",
                                    "msdrswrf", "msdrswrfcs"}
    assert year["streams"]["t2m"] == {"n_valid": 8784, "n_after_qc": 8784}
    grid = inspect_file(fixture_file(ERA5_GRID))
    assert grid["n_records"] == 9 * 18
    assert grid["streams"] == {"t2m": {"n_valid": 162, "n_after_qc": 162}}


def test_fluxnet_aggregated_csv_counts_match_pandas(fixture_file):
    path = fixture_file(FLUXNET_MM)
    summary = inspect_file(path)
    frame = pd.read_csv(path, na_values=[-9999])
    assert summary["product"] == "FLUXNET2015 CSV"
    assert summary["n_records"] == len(frame) == 96
    good = frame["NEE_VUT_REF"].notna() & (frame["NEE_VUT_REF_QC"] >= AGGREGATED_GOOD_FRACTION)
    assert summary["streams"]["nee"] == {"n_valid": 96, "n_after_qc": int(good.sum())}
    assert summary["streams"]["nee"]["n_after_qc"] == 93
    assert summary["details"]["resolution"] == "MM"
    assert summary["time_start"] == "2007-01-01T00:00:00"
    daily = inspect_file(fixture_file(FLUXNET_DD))
    assert daily["n_records"] == 365
    assert daily["streams"]["gpp"] == {"n_valid": 365, "n_after_qc": 169}


def test_fluxnet_half_hourly_files(fixture_file):
    erai = inspect_file(fixture_file(FLUXNET_ERAI))
    assert erai["n_records"] == 41780
    assert set(erai["streams"]) == {"ta", "sw_in", "lw_in", "vpd", "pa", "p", "ws"}
    assert erai["streams"]["ta"] == {"n_valid": 41780, "n_after_qc": 41780}  # no QC column
    assert erai["details"]["columns"]["ta"] == "TA_ERA"
    path = fixture_file(FLUXNET_HH)
    head = inspect_file(path)
    frame = pd.read_csv(path, na_values=[-9999])
    good = frame["NEE_VUT_REF"].notna() & (frame["NEE_VUT_REF_QC"] <= 1)
    assert head["n_records"] == 99
    assert head["streams"]["nee"] == {"n_valid": 99, "n_after_qc": int(good.sum())}
    assert head["time_end"] == "2005-01-03T01:00:00"


def test_plumber_files_count_good_qc(fixture_file):
    path = fixture_file(PLUMBER_FLUX)
    summary = inspect_file(path)
    with xr.open_dataset(path) as flux:
        good = int((np.isfinite(flux["NEE"].values) & (flux["NEE_qc"].values <= 1)).sum())
    assert summary["product"] == "PLUMBER2 tower netCDF"
    assert summary["n_records"] == 17520
    assert summary["streams"]["nee"] == {"n_valid": 17520, "n_after_qc": good}
    assert good == 11231
    met = inspect_file(fixture_file(PLUMBER_MET))
    assert met["streams"]["ta"]["n_valid"] == 17520
    assert "nee" not in met["streams"]


@pytest.mark.parametrize("product", ["CH4", "NO2"])
def test_other_sentinel5p_products_are_rejected(capsys, fixture_file, product):
    path = fixture_file(S5P[product])
    code, out, err = run_cli(capsys, path)
    assert_one_error_line(code, err, path.name, f"L2__{product}___", "not supported")
    assert out == ""


def test_sentinel5p_content_is_recognised_without_its_name(fixture_file, tmp_path):
    renamed = tmp_path / "granule.nc"
    shutil.copyfile(fixture_file(S5P["CH4"]), renamed)
    with pytest.raises(TccasInputError, match="'L2__CH4___' is not supported"):
        detect_product(renamed)


# ---------------------------------------------------------------------- synthetic files
@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("products")
    files = {}
    lat_all, lon_all = ease2_centres()
    rows = np.flatnonzero((lat_all > 39.0) & (lat_all < 41.0))
    cols = np.flatnonzero((lon_all > -7.0) & (lon_all < -5.0))
    row, col = (a.ravel() for a in np.meshgrid(rows, cols, indexing="ij"))
    n = row.size
    files["smos_ic"] = write_smos_ic(folder / smos_ic_file_name(dt.date(2020, 7, 1), "D"), {
        "latitude": lat_all[row], "longitude": lon_all[col],
        "time": np.full(n, np.datetime64("2020-07-01T18:10:00", "ns")),
        "Soil_Moisture": np.linspace(0.1, 0.7, n), "Soil_Moisture_StdError": np.full(n, 0.02),
        "Optical_Thickness_Nad": np.full(n, 0.3),
        "Optical_Thickness_Nad_StdError": np.full(n, 0.05), "RMSE": np.full(n, 2.0),
        "Soil_Temperature_Level1": np.full(n, 295.0), "Scene_Flags": np.zeros(n),
    }, bbox=(-8.0, 38.0, -4.0, 42.0))
    lat = np.round(40.0 - 0.005 - 0.01 * np.arange(5), 3)
    lon = np.round(-5.8 + 0.005 + 0.01 * np.arange(4), 3)
    fapar = np.full((2, 5, 4), 0.4)
    fapar[1, 0, 0] = np.nan
    files["jrc_tip"] = write_jrc_tip(folder / "fapar_tip_2020.nc", fapar,
                                     np.full(fapar.shape, 0.05), lat, lon,
                                     composite_starts(2020)[:2])
    classes = (*VEGETATION_CLASSES, *NON_VEGETATED_CLASSES, *WATER_PARTS)
    percent = {name: np.zeros((3, 4)) for name in classes} | {"TREES-BE": np.full((3, 4),
                                                                                 100.0)}
    files["cci_landcover"] = write_cci_landcover(
        folder / cci_landcover_file_name(2020), percent, 40.0 - (np.arange(3) + 0.5) / 360,
        -5.8 + (np.arange(4) + 0.5) / 360, 2020)
    lccs = np.array([[160, 160, 140, 0], [70, 70, 180, 210], [10, 130, 170, 0]], np.uint8)
    files["cci_lccs"] = write_lccs_map(
        folder / lccs_file_name(2020), lccs, 40.0 - (np.arange(3) + 0.5) / 360,
        -5.8 + (np.arange(4) + 0.5) / 360, 2020)
    agb = np.arange(12.0).reshape(3, 4)
    files["cci_biomass"] = write_cci_biomass_geotiff(folder, agb, agb / 2, -5.8, 40.0, 2020)[0]
    m = 8
    times = np.datetime64("2023-07-01T12:00", "ns") + np.arange(m) * np.timedelta64(1, "m")
    base = np.linspace(38.0, 40.0, m)
    files["troposif"] = write_troposif_l2b(folder / "S5P_PAL__L2B_SIF____20230701.nc", {
        "time": times, "latitude": base, "longitude": base - 45.0,
        "SIF_743": np.full(m, 0.5), "SIF_735": np.full(m, 0.4),
        "SIF_ERROR_743": np.full(m, 0.3), "SIF_ERROR_735": np.full(m, 0.3),
        "latitude_bounds": base[:, None] + np.array([0.02, 0.02, -0.02, -0.02]),
        "longitude_bounds": base[:, None] - 45.0 + np.array([-0.02, 0.02, 0.02, -0.02]),
        "solar_zenith_angle": np.full(m, 30.0), "viewing_zenith_angle": np.full(m, 10.0),
        "cloud_fraction_L2": np.linspace(0.0, 0.9, m),
    }, dt.date(2023, 7, 1), sif735_fill_fraction=0.0)
    soil = np.array([[12, 12, 9, 0], [1, 7, 7, 11], [0, 0, 8, 8]], np.uint8)  # 0: no data
    files["soil_texture"] = write_soil_texture(
        folder / soil_texture_file_name(30), soil, 40.0 - (np.arange(3) + 0.5) / 480,
        -5.8 + (np.arange(4) + 0.5) / 480)
    files["era5_geopotential"] = folder / "ERA5_geopotential.nc"
    xr.Dataset({"z": (("valid_time", "latitude", "longitude"),
                      np.array([[[9806.65, 0.0], [980.665, 19613.3]]]),
                      {"units": "m**2 s**-2"})},
               coords={"valid_time": [np.datetime64("2023-01-01", "ns")],
                       "latitude": [40.25, 40.0], "longitude": [-6.0, -5.75]}).to_netcdf(
        files["era5_geopotential"])
    return files, n


def test_synthetic_products_are_recognised_and_counted(synthetic):
    files, n_ic = synthetic
    expected = {
        "smos_ic": ("SMOS-IC soil moisture and L-VOD",
                    {"sm_surface": {"n_valid": n_ic, "n_after_qc": int(
                        (np.linspace(0.1, 0.7, n_ic) <= 0.6).sum())},
                     "vod": {"n_valid": n_ic, "n_after_qc": n_ic}}),
        "jrc_tip": ("JRC-TIP FAPAR", {"fapar": {"n_valid": 39, "n_after_qc": 39}}),
        "cci_landcover": ("ESA CCI Land Cover PFT",
                          {"pft_fraction": {"n_valid": 12, "n_after_qc": 12}}),
        "cci_biomass": ("ESA CCI Biomass AGB", {"agb": {"n_valid": 12, "n_after_qc": 12}}),
        "troposif": ("TROPOSIF SIF (TROPOMI L2/L2B)",
                     {"sif743": {"n_valid": 8, "n_after_qc": 7},
                      "sif735": {"n_valid": 8, "n_after_qc": 7}}),
        "cci_lccs": ("ESA CCI Land Cover LCCS class map",
                     {"lccs_class": {"n_valid": 10, "n_after_qc": 10}}),
        "soil_texture": ("OpenLandMap soil texture class (USDA system)",
                         {"soil_texture_class": {"n_valid": 9, "n_after_qc": 9}}),
        "era5_geopotential": ("ERA5 / ERA5-Land surface geopotential (invariant)",
                              {"z": {"n_valid": 4, "n_after_qc": 4}}),
    }
    for key, (label, streams) in expected.items():
        assert detect_product(files[key]) == key
        summary = inspect_file(files[key])
        assert summary["product"] == label
        assert summary["streams"] == streams, key
    assert inspect_file(files["troposif"])["time_end"] == "2023-07-01T12:07:00"
    assert inspect_file(files["jrc_tip"])["n_records"] == 2 * 5 * 4
    classes = inspect_file(files["cci_lccs"])
    assert classes["details"]["classes"] == {LCCS_LEGEND[code]: n for code, n in
                                             ((140, 1), (160, 2), (170, 1), (180, 1))}
    assert (classes["time_start"], classes["n_records"]) == ("2020-01-01T00:00:00", 12)
    soil = inspect_file(files["soil_texture"])
    assert soil["n_records"] == 12 and soil["details"]["depth_cm"] == 30
    assert soil["details"]["classes"] == {"Cl": 1, "SiCl": 0, "SaCl": 0, "ClLo": 0,
                                          "SiClLo": 0, "SaClLo": 0, "Lo": 2, "SiLo": 2,
                                          "SaLo": 1, "Si": 0, "LoSa": 1, "Sa": 2}
    assert (soil["time_start"], soil["time_end"]) == ("1950-01-01T00:00:00",
                                                      "2017-12-31T23:59:59")
    relief = inspect_file(files["era5_geopotential"])["details"]
    assert (relief["elevation_min_m"], relief["elevation_max_m"]) == (0.0, 2000.0)
    assert relief["elevation_mean_m"] == pytest.approx(775.0)


def test_gridded_products_are_recognised_by_content(synthetic, tmp_path):
    files, _ = synthetic
    for key in ("smos_ic", "jrc_tip", "cci_landcover", "cci_lccs", "era5_geopotential"):
        anonymous = tmp_path / f"{key}_renamed.nc"
        shutil.copyfile(files[key], anonymous)
        assert detect_product(anonymous) == key


# ------------------------------------------------------------------------------ the CLI
def test_cli_text_and_json(capsys, fixture_file):
    path = fixture_file(SMOS_DESCENDING)
    code, out, err = run_cli(capsys, path)
    assert code == 0 and err == ""
    assert "SMOS L2 SM (MIR_SMUDP2)" in out
    assert any(line.split() == ["sm_surface", "1650", "497"] for line in out.splitlines())
    code, out, _ = run_cli(capsys, path, "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["streams"]["vod"] == {"n_valid": 1190, "n_after_qc": 219}
    assert summary["n_records"] == 50638


@pytest.mark.parametrize("cut", ["empty", "truncated", "garbage"])
def test_damaged_files_give_one_error_line(capsys, fixture_file, tmp_path, cut):
    source = fixture_file(SMOS_DESCENDING)
    data = source.read_bytes()
    damaged = tmp_path / (source.name if cut != "garbage" else "unknown.nc")
    damaged.write_bytes({"empty": b"", "truncated": data[: len(data) // 2],
                         "garbage": b"not a netCDF file\n" * 100}[cut])
    code, out, err = run_cli(capsys, damaged)
    assert_one_error_line(code, err, str(damaged))
    assert out == ""


def test_unrecognised_and_missing_files(capsys, tmp_path):
    other = tmp_path / "other.nc"
    with netCDF4.Dataset(other, "w") as nc:
        nc.createDimension("n", 2)
        nc.createVariable("foo", "f4", ("n",))
    code, _, err = run_cli(capsys, other)
    assert_one_error_line(code, err, "other.nc", "not a product tccas inspect recognises",
                          "foo")
    code, _, err = run_cli(capsys, tmp_path / "absent.nc")
    assert_one_error_line(code, err, "absent.nc", "file not found")
    tif = tmp_path / "map.tif"
    tif.write_bytes(b"II*\x00")
    code, _, err = run_cli(capsys, tif)
    assert_one_error_line(code, err, "map.tif", "GeoTIFF not recognised")


def test_corrupt_tower_csv_gives_one_error_line(capsys, tmp_path):
    broken = tmp_path / "FLX_XX-Bad_FLUXNET2015_FULLSET_HH_2005-2005_1-1.csv"
    broken.write_text("a,b\n1,2\n")
    code, _, err = run_cli(capsys, broken)
    assert_one_error_line(code, err, broken.name, "not a FLUXNET file")


def test_tower_counts_are_the_rows_the_ingest_reader_keeps(fixture_file, tmp_path,
                                                           tower_hours):
    from tccas.catalog.fluxnet import read_tower_fluxes
    from tccas.catalog.synth import write_fluxnet

    n_hour = 24 * 20
    hourly = tower_hours(n_hour)
    synthetic, _ = write_fluxnet(tmp_path, "ES-LM1", 1.0, np.datetime64("2015-06-01T00", "h"),
                                 hourly, np.random.default_rng(5))
    head = tmp_path / "FLX_CH-Cha_FLUXNET2015_FULLSET_HH_2005-2020_beta-3.csv"
    shutil.copy(fixture_file(FLUXNET_HH), head)
    for path in (synthetic, head, fixture_file(PLUMBER_FLUX)):
        summary = inspect_file(path)
        for stream in ("nee", "gpp"):
            table = read_tower_fluxes(path, stream)
            assert summary["streams"][stream] == {
                "n_valid": table.sizes["obs"],
                "n_after_qc": int((table["qc"].values == 0).sum())}, (path.name, stream)
    counts = inspect_file(synthetic)["streams"]["nee"]
    assert counts["n_valid"] == 2 * n_hour and 0 < counts["n_after_qc"] < 2 * n_hour
