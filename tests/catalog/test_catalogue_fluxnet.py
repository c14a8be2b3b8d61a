"""Tower fluxes as catalogue observations: FLUXNET2015 FULLSET HH and PLUMBER2 Flux files
(real fixtures) read by :func:`tccas.catalog.fluxnet.read_tower_fluxes` into canonical
tables in UTC and gC m-2 d-1, recognised as product ``fluxnet`` and weighted onto a grid
as a point footprint."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tccas.catalog.catalogue_sources import (
    PRODUCTS,
    Region,
    classify,
    observation_parts,
    screening_for,
)
from tccas.catalog.fluxnet import (
    DEFAULT_SIGMA_BASE,
    DEFAULT_SIGMA_RELATIVE,
    NO_QC_FLAG,
    TOWERS,
    UMOL_CO2_M2_S_TO_GC_M2_D,
    TowerFluxScreening,
    read_tower_fluxes,
)
from tccas.catalog.grid import latlon_grid
from tccas.catalog.observations import OBS_DIM, validate_observations
from tccas.model.errors import TccasInputError

HH = ("fluxnet/exampledata_FLUXNET-FULLSET-HH-CSV-30MIN_FLX_CH-Cha_FLUXNET2015_FULLSET_HH_"
      "2005-2020_beta-3.csv")
HH_NAME = "FLX_CH-Cha_FLUXNET2015_FULLSET_HH_2005-2020_beta-3.csv"
DD = "fluxnet/FLX_US-Wi7_FLUXNET2015_FULLSET_DD_2005-2005_1-4.csv"
ERAI = "fluxnet/FLX_US-Wi7_FLUXNET2015_ERAI_HH_1989-2014_1-4.csv"
FLUX = "fluxnet/DK-Fou_2005-2005_FLUXNET2015_Flux.nc"
MET = "fluxnet/DK-Fou_2005-2005_FLUXNET2015_Met.nc"
C = UMOL_CO2_M2_S_TO_GC_M2_D
CH_CHA = (47.210222, 8.410444)


@pytest.fixture
def hh(fixture_file, tmp_path) -> Path:
    """The CH-Cha HH head under its FLUXNET2015 product name."""
    path = tmp_path / HH_NAME
    shutil.copy(fixture_file(HH), path)
    return path


def _row(table, utc: str) -> int:
    rows = np.flatnonzero(table["time"].values == np.datetime64(utc, "ns"))
    assert rows.size == 1
    return int(rows[0])


def test_fullset_hh_rows_are_utc_centres_in_gc_per_day(hh):
    nee = read_tower_fluxes(hh, "nee")
    gpp = read_tower_fluxes(hh, "gpp")
    validate_observations(nee, hh.name)
    assert nee.sizes[OBS_DIM] == gpp.sizes[OBS_DIM] == 99
    assert nee.attrs["units"] == "gC m-2 d-1" and nee.attrs["footprint_model"] == "corners"
    assert nee.attrs["site_id"] == "CH-Cha" and nee.attrs["utc_offset"] == 1.0
    assert nee.attrs["product"] == "FLUXNET2015 FULLSET HH"
    assert nee.attrs["averaging_minutes"] == 30
    # First record 2005-01-01 00:00-00:30 CET = 2004-12-31 23:00-23:30 UTC, centre 23:15.
    assert nee["time"].values[0] == np.datetime64("2004-12-31T23:15", "ns")
    assert nee["time"].values[-1] == np.datetime64("2005-01-03T00:15", "ns")
    assert np.all(np.diff(nee["time"].values) == np.timedelta64(30, "m"))
    assert nee["value"].values[0] == pytest.approx(11.5578 * C)
    assert nee["value"].values[0] == pytest.approx(11.99411157, rel=1e-8)
    # CSV row 200501021200 (local noon): NEE_VUT_REF -0.674490, GPP_NT_VUT_REF 8.785450,
    # GPP_NT_VUT_SE 0.264960, no RANDUNC/JOINTUNC (-9999), QC 3.
    k = _row(nee, "2005-01-02T11:15")
    assert nee["value"].values[k] == pytest.approx(-0.674490 * C)
    assert gpp["value"].values[k] == pytest.approx(8.785450 * C)
    default = DEFAULT_SIGMA_BASE + DEFAULT_SIGMA_RELATIVE * 0.674490
    assert nee["sigma"].values[k] == pytest.approx(default * C)
    assert gpp["sigma"].values[k] == pytest.approx(np.hypot(default, 0.264960) * C)
    assert nee["fluxnet_qc"].values[k] == 3
    np.testing.assert_allclose(nee["latitude"].values, CH_CHA[0])
    np.testing.assert_allclose(nee["longitude"].values, CH_CHA[1])
    assert set(np.unique(nee["source"].values)) == {HH_NAME}


def test_fullset_qc_screening_counts(hh):
    # Every record of these two days is a poor-quality gap fill (QC 3).
    default = read_tower_fluxes(hh, "nee")
    assert np.all(default["qc"].values == 1) and np.all(default["fluxnet_qc"].values == 3)
    assert json.loads(default.attrs["qc_thresholds"]) == {"max_qc": 1}
    assert np.all(default["qc"].attrs["flag_meanings"].split() ==
                  np.array(["GAP_FILL_QUALITY", "NO_QC_FLAG"]))
    assert int((read_tower_fluxes(hh, "gpp", TowerFluxScreening(2))["qc"] == 0).sum()) == 0
    assert int((read_tower_fluxes(hh, "nee", TowerFluxScreening(3))["qc"] == 0).sum()) == 99


def test_missing_values_are_dropped_and_missing_flags_marked(hh, tmp_path):
    frame = pd.read_csv(hh, dtype={"NEE_VUT_REF_JOINTUNC": float, "NEE_VUT_REF_RANDUNC": float})
    frame.loc[[0, 5, 6], "NEE_VUT_REF"] = -9999
    frame.loc[[10], "GPP_NT_VUT_REF"] = -9999
    frame.loc[[20, 21], "NEE_VUT_REF_QC"] = -9999
    frame.loc[[30, 31, 32, 33], "NEE_VUT_REF_QC"] = [0, 1, 2, 0]
    frame.loc[[30], "NEE_VUT_REF_JOINTUNC"] = 1.25
    frame.loc[[31], "NEE_VUT_REF_RANDUNC"] = 0.75
    edited = tmp_path / "gaps" / HH_NAME
    edited.parent.mkdir()
    frame.to_csv(edited, index=False)
    nee = read_tower_fluxes(edited, "nee")
    gpp = read_tower_fluxes(edited, "gpp")
    assert nee.sizes[OBS_DIM] == 96 and gpp.sizes[OBS_DIM] == 98
    assert np.datetime64("2004-12-31T23:15", "ns") not in nee["time"].values
    assert np.datetime64("2005-01-01T01:45", "ns") not in nee["time"].values  # row 5
    assert np.datetime64("2005-01-01T01:45", "ns") in gpp["time"].values
    no_flag = nee["qc"].values == 2
    assert int(no_flag.sum()) == 2 and np.all(nee["fluxnet_qc"].values[no_flag] == NO_QC_FLAG)
    assert int((nee["qc"].values == 0).sum()) == 3  # rows 30, 31 and 33
    # Row 30 (2005-01-01 15:00 CET): JOINTUNC; row 31: RANDUNC; row 32: the default.
    assert nee["sigma"].values[_row(nee, "2005-01-01T14:15")] == pytest.approx(1.25 * C)
    assert nee["sigma"].values[_row(nee, "2005-01-01T14:45")] == pytest.approx(0.75 * C)
    k = _row(nee, "2005-01-01T15:15")
    assert nee["sigma"].values[k] == pytest.approx(
        (DEFAULT_SIGMA_BASE + DEFAULT_SIGMA_RELATIVE * 1.58098) * C)
    k = _row(gpp, "2005-01-01T14:15")
    assert gpp["sigma"].values[k] == pytest.approx(np.hypot(1.25, 0.298774) * C)


def test_plumber_flux_file(fixture_file):
    path = fixture_file(FLUX)
    nee = read_tower_fluxes(path, "nee")
    gpp = read_tower_fluxes(path, "gpp")
    assert nee.sizes[OBS_DIM] == gpp.sizes[OBS_DIM] == 17520
    assert nee.attrs["product"] == "PLUMBER2 Flux" and nee.attrs["site_id"] == "DK-Fou"
    assert nee.attrs["utc_offset"] == 1.0
    assert nee.attrs["utc_offset_source"] == "inferred from the diurnal cycle of Rnet"
    np.testing.assert_allclose(nee["latitude"].values, 56.4842, atol=1e-4)
    np.testing.assert_allclose(nee["longitude"].values, 9.58722, atol=1e-4)
    # Record 2005-07-01 12:00-12:30 local standard time: NEE -12.1428, NEE_qc 0,
    # NEE_uc 1.72094, GPP 15.3171, GPP_se 0.0341313 [umol m-2 s-1].
    k = _row(nee, "2005-07-01T11:15")
    assert nee["value"].values[k] == pytest.approx(-12.1428 * C, rel=1e-5)
    assert nee["sigma"].values[k] == pytest.approx(1.72094 * C, rel=1e-5)
    assert gpp["value"].values[k] == pytest.approx(15.3171 * C, rel=1e-5)
    assert gpp["sigma"].values[k] == pytest.approx(np.hypot(1.72094, 0.0341313) * C, rel=1e-5)
    assert nee["qc"].values[k] == 0
    # NEE_qc counts 0: 4694, 1: 6537, 2: 3010, 3: 3279.
    assert int((nee["qc"].values == 0).sum()) == 4694 + 6537
    assert int((gpp["qc"].values == 0).sum()) == 4694 + 6537
    loose = read_tower_fluxes(path, "nee", TowerFluxScreening(max_qc=2))
    assert int((loose["qc"].values == 0).sum()) == 4694 + 6537 + 3010
    np.testing.assert_array_equal(np.bincount(nee["fluxnet_qc"].values), [4694, 6537, 3010, 3279])


def test_refused_files_name_the_file_and_the_value(fixture_file, hh, tmp_path):
    with pytest.raises(TccasInputError, match="resolution DD"):
        read_tower_fluxes(fixture_file(DD), "nee")
    with pytest.raises(TccasInputError, match="stream 'sif743'"):
        read_tower_fluxes(hh, "sif743")
    unknown = tmp_path / "FLX_XX-Abc_FLUXNET2015_FULLSET_HH_2005-2005_1-1.csv"
    shutil.copy(hh, unknown)
    with pytest.raises(TccasInputError, match=r"FLX_XX-Abc.*site id 'XX-Abc'.*ES-LM1"):
        read_tower_fluxes(unknown, "nee")
    anonymous = tmp_path / "tower.csv"
    shutil.copy(hh, anonymous)
    with pytest.raises(TccasInputError, match=r"tower\.csv: file name is not FLX_"):
        read_tower_fluxes(anonymous, "nee")
    no_qc = tmp_path / "noqc" / HH_NAME
    no_qc.parent.mkdir()
    pd.read_csv(hh).drop(columns="NEE_VUT_REF_QC").to_csv(no_qc, index=False)
    with pytest.raises(TccasInputError,
                       match=rf"{re.escape(HH_NAME)}: missing variable.*NEE_VUT_REF_QC"):
        read_tower_fluxes(no_qc, "gpp")
    with pytest.raises(TccasInputError, match=r"missing variable.*NEE"):
        read_tower_fluxes(fixture_file(MET), "nee")


def test_tower_files_are_product_fluxnet_and_daily_files_are_not(fixture_file):
    fluxnet = PRODUCTS["fluxnet"]
    assert fluxnet.kind == "observations" and fluxnet.streams == ("nee", "gpp")
    for name in (HH_NAME, "FLX_ES-LM1_FLUXNET2015_FULLSET_HR_2015-2015_1-4.csv",
                 "FLX_ES-LM1_FLUXNET2015_SUBSET_HH_2015-2016_1-4.csv",
                 "DK-Fou_2005-2005_FLUXNET2015_Flux.nc"):
        assert classify(Path(name)) is fluxnet, name
    for name in (Path(DD).name, Path(ERAI).name, Path(MET).name, Path(HH).name):
        assert classify(Path(name)) is None, name
    assert screening_for(fluxnet, "nee", {"max_qc": 2}) == TowerFluxScreening(2)
    with pytest.raises(TccasInputError, match="unknown threshold 'max_cloud'"):
        screening_for(fluxnet, "gpp", {"max_qc": 2, "max_cloud": 1})
    assert {"es-lm1", "fi-sod", "nl-reu", "ch-cha"} <= set(TOWERS)


def _region(grid) -> Region:
    return Region(grid=grid, block_cells=2, first_ns=int(np.datetime64("2004-12-31", "ns")
                                                         .astype(np.int64)),
                  stop_ns=int(np.datetime64("2005-01-04", "ns").astype(np.int64)),
                  min_coverage=0.5, keep_failed_qc=True)


def test_the_tower_weighs_fully_on_its_cell(hh, tmp_path):
    grid = latlon_grid(8.0, 47.0, 9.0, 47.5, 0.25)
    region = _region(grid)
    screenings = {"nee": TowerFluxScreening(), "gpp": TowerFluxScreening(3)}
    parts = observation_parts(hh, PRODUCTS["fluxnet"], screenings, region, tmp_path / "parts",
                              "chcha")
    assert [p.stream for p in parts] == ["nee", "gpp"]
    assert [p.n_rows for p in parts] == [99, 99] and [p.n_entries for p in parts] == [99, 99]
    cell = int(grid.cell_of(CH_CHA[1], CH_CHA[0]))
    assert cell == grid.cell_id(1, 1) == 5  # 47.0-47.25 N, 8.25-8.5 E (row 0 is north)
    with np.load(parts[0].path) as part:
        np.testing.assert_array_equal(part["w_cell"], cell)
        np.testing.assert_allclose(part["w_weight"], 1.0, rtol=1e-9)
        np.testing.assert_allclose(part["col_coverage"], 1.0, rtol=1e-9)
        np.testing.assert_array_equal(part["col_qc"], 1)
        assert part["col_time"][0] == np.datetime64("2004-12-31T23:15", "ns").astype(np.int64)
    with np.load(parts[1].path) as part:
        np.testing.assert_array_equal(part["col_qc"], 0)
    elsewhere = _region(latlon_grid(-6.0, 39.5, -5.5, 40.0, 0.25))
    away = observation_parts(hh, PRODUCTS["fluxnet"], screenings, elsewhere,
                             tmp_path / "away", "chcha")
    assert [(p.n_read, p.n_rows, p.path) for p in away] == [(99, 0, None), (99, 0, None)]


def test_hourly_files_are_centred_on_the_half_hour(hh, tmp_path):
    frame = pd.read_csv(hh).iloc[::2].copy()
    start = pd.to_datetime(frame["TIMESTAMP_START"].astype(str), format="%Y%m%d%H%M")
    frame["TIMESTAMP_END"] = (start + pd.Timedelta(hours=1)).dt.strftime("%Y%m%d%H%M")
    hourly = tmp_path / "hr" / HH_NAME.replace("_HH_", "_HR_")
    hourly.parent.mkdir()
    frame.to_csv(hourly, index=False)
    nee = read_tower_fluxes(hourly, "nee")
    assert classify(hourly) is PRODUCTS["fluxnet"]
    assert nee.sizes[OBS_DIM] == 50 and nee.attrs["averaging_minutes"] == 60
    assert nee.attrs["product"] == "FLUXNET2015 FULLSET HR"
    assert nee["time"].values[0] == np.datetime64("2004-12-31T23:30", "ns")
    assert np.all(np.diff(nee["time"].values) == np.timedelta64(1, "h"))
    assert nee["value"].values[1] == pytest.approx(10.6226 * C)  # 01:00-02:00 CET
