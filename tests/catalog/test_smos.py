"""SMOS L2 SM reader on the two real granules of 2023-04-01 (shared/fixtures/smos) [M1]."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil

import netCDF4
import numpy as np
import pytest

from tccas.catalog.observations import passed_qc, validate_observations
from tccas.catalog.smos import (
    DEFAULT_SCREENING,
    QC_MEANINGS,
    SmosScreening,
    inspect_smos,
    read_smos_l2sm,
)
from tccas.model.errors import TccasInputError

DESCENDING = "smos/SM_OPER_MIR_SMUDP2_20230401T191629_20230401T200942_700_001_1.nc"
ASCENDING = "smos/SM_OPER_MIR_SMUDP2_20230401T150613_20230401T155931_700_001_1.nc"
CH4 = ("tropomi_s5p/S5P_OFFL_L2__CH4____20200303T013547_20200303T031717_12367_01_010302_"
       "20200306T053811.nc")
PORTO_GRID_POINT = 1080872  # land retrieval nearest Majadas in the descending swath
NO_SCREENING = SmosScreening(value_min=-1.0, value_max=2.0, max_sigma=10.0, max_rfi_prob=2.0,
                             min_chi2_p=-1.0, science_flags=(), confidence_flags=())


@pytest.fixture(scope="module")
def descending(fixture_file):
    return fixture_file(DESCENDING)


@pytest.fixture(scope="module")
def soil_moisture(descending):
    return read_smos_l2sm(descending, "sm_surface")


@pytest.fixture(scope="module")
def vod(descending):
    return read_smos_l2sm(descending, "vod")


def qc_bit_counts(table):
    return {name: int(((table["qc"].values >> bit) & 1).sum())
            for bit, name in enumerate(table["qc"].attrs["flag_meanings"].split())}


def test_descending_granule_has_1650_land_soil_moisture_retrievals(soil_moisture):
    assert soil_moisture.sizes["obs"] == 1650
    assert soil_moisture.attrs["stream"] == "sm_surface"
    assert soil_moisture.attrs["units"] == "m3 m-3"
    assert soil_moisture.attrs["orbit_direction"] == "D"
    assert set(soil_moisture["source"].values) == {DESCENDING.split("/")[1]}
    assert soil_moisture["time"].values.min() == np.datetime64("2023-04-01T19:27:17.825357")
    assert soil_moisture["time"].values.max() == np.datetime64("2023-04-01T19:39:50.140044")
    assert soil_moisture["value"].min() == pytest.approx(0.00021936525, rel=1e-6)
    assert soil_moisture["value"].max() == pytest.approx(0.77959585, rel=1e-6)
    # Iberia, the UK and Ireland, plus the Canaries and Cape Verde in the same swath.
    assert float(soil_moisture["latitude"].min()) == pytest.approx(14.77)
    assert float(soil_moisture["latitude"].max()) == pytest.approx(58.561)
    assert float(soil_moisture["longitude"].max()) == pytest.approx(-0.887)


def test_grid_point_matches_an_independent_netcdf4_read(descending, soil_moisture):
    with netCDF4.Dataset(descending) as nc:  # default masking and scaling
        index = int(np.flatnonzero(nc["Grid_Point_ID"][:] == PORTO_GRID_POINT)[0])
        expected = {name: nc[name][index] for name in
                    ("Soil_Moisture", "Soil_Moisture_DQX", "Latitude", "Longitude", "AFP",
                     "X_Swath", "Days", "Seconds", "Microseconds")}
    row = soil_moisture.isel(obs=int(np.flatnonzero(
        soil_moisture["grid_point_id"].values == PORTO_GRID_POINT)[0]))
    acquired = dt.datetime(2000, 1, 1) + dt.timedelta(
        days=int(expected["Days"]), seconds=int(expected["Seconds"]),
        microseconds=int(expected["Microseconds"]))
    assert acquired == dt.datetime(2023, 4, 1, 19, 32, 8, 829494)
    assert row["time"].values == np.datetime64(acquired, "ns")
    assert float(row["value"]) == pytest.approx(0.25714374, rel=1e-7)
    assert float(row["value"]) == pytest.approx(float(expected["Soil_Moisture"]), rel=1e-7)
    assert float(row["sigma"]) == pytest.approx(float(expected["Soil_Moisture_DQX"]), rel=1e-7)
    assert float(row["latitude"]) == pytest.approx(41.387, abs=1e-5)
    assert float(row["longitude"]) == pytest.approx(-8.347, abs=1e-5)
    assert float(row["footprint_semi_major_km"]) == pytest.approx(float(expected["AFP"]))
    assert float(row["x_swath_km"]) == pytest.approx(float(expected["X_Swath"]), abs=1e-6)
    assert int(row["qc"]) == 0


def test_screening_counts_follow_the_documented_defaults(soil_moisture, vod):
    assert soil_moisture["qc"].attrs["flag_meanings"].split() == list(QC_MEANINGS)
    assert qc_bit_counts(soil_moisture) == {
        "VALUE_RANGE": 4, "SIGMA_TOO_LARGE": 539, "RFI_PROBABILITY": 353,
        "CHI2_PROBABILITY": 223, "SCIENCE_FLAGS": 832, "CONFIDENCE_FLAGS": 0,
    }
    assert passed_qc(soil_moisture).sizes["obs"] == 497
    assert passed_qc(vod).sizes["obs"] == 219
    thresholds = json.loads(soil_moisture.attrs["qc_thresholds"])
    assert thresholds["max_sigma"] == DEFAULT_SCREENING["sm_surface"].max_sigma == 0.06
    assert "FL_FROST" in thresholds["science_flags"]


def test_screening_is_configurable_and_never_drops_rows(descending):
    relaxed = read_smos_l2sm(descending, "sm_surface", NO_SCREENING)
    assert relaxed.sizes["obs"] == passed_qc(relaxed).sizes["obs"] == 1650


def test_science_flags_above_bit_15_decode_by_meaning_index(descending):
    # flag_masks of Science_Flags is int16 and lists bit 29 as 0; every land retrieval of
    # this granule has FL_DUAL_RETR_FNO_FFO (bit 29) and FL_NOMINAL (bit 10) set.
    for flag in ("FL_DUAL_RETR_FNO_FFO", "FL_NOMINAL"):
        rules = SmosScreening(value_min=-1.0, value_max=2.0, max_sigma=10.0,
                              max_rfi_prob=2.0, min_chi2_p=-1.0, science_flags=(flag,),
                              confidence_flags=())
        table = read_smos_l2sm(descending, "sm_surface", rules)
        assert qc_bit_counts(table)["SCIENCE_FLAGS"] == 1650


def test_unknown_flag_name_is_a_user_error(descending):
    rules = SmosScreening(value_min=0.0, value_max=0.6, max_sigma=0.06,
                          science_flags=("FL_NOT_A_FLAG",))
    with pytest.raises(TccasInputError, match=r"Science_Flags.*FL_NOT_A_FLAG") as error:
        read_smos_l2sm(descending, "sm_surface", rules)
    assert DESCENDING.split("/")[1] in str(error.value)


def test_footprint_is_the_afp_circle(soil_moisture):
    assert soil_moisture.attrs["footprint_model"] == "circle_afp"
    major = soil_moisture["footprint_semi_major_km"].values
    np.testing.assert_array_equal(major, soil_moisture["footprint_semi_minor_km"].values)
    np.testing.assert_array_equal(soil_moisture["footprint_orientation_deg"].values, 0.0)
    assert major.min() == pytest.approx(19.357178) and major.max() == pytest.approx(27.379211)
    assert np.abs(soil_moisture["x_swath_km"].values).max() < 728.0


def test_vod_stream_values_are_plausible(vod, soil_moisture):
    # optical depth where soil moisture was retrieved with it (not the open-water branch)
    assert vod.sizes["obs"] == 1190
    assert vod.attrs["units"] == "1"
    assert 0.0 <= float(vod["value"].min()) < 0.02
    assert float(vod["value"].max()) == pytest.approx(0.78832066, rel=1e-6)
    assert set(vod["grid_point_id"].values) <= set(soil_moisture["grid_point_id"].values)
    assert float(vod["sigma"].min()) > 0.0


def test_ascending_granule_reads(fixture_file):
    path = fixture_file(ASCENDING)
    table = read_smos_l2sm(path, "sm_surface")
    assert table.sizes["obs"] == 192
    assert table.attrs["orbit_direction"] == "A"
    assert float(table["latitude"].min()) == pytest.approx(65.584)
    assert float(table["longitude"].min()) == pytest.approx(-179.458)
    assert passed_qc(table).sizes["obs"] == 0  # frozen Chukotka: frost/snow flags
    empty = read_smos_l2sm(path, "vod")
    assert empty.sizes["obs"] == 0
    validate_observations(empty, ASCENDING)


def test_inspect_reports_header_and_stream_counts(descending):
    summary = inspect_smos(descending)
    assert summary["file_type"] == "MIR_SMUDP2"
    assert summary["orbit_direction"] == "D"
    assert summary["absolute_orbit"] == 70489
    assert summary["validity_start"] == "2023-04-01T19:16:29"
    assert summary["n_grid_points"] == 50638
    assert summary["sm_surface"]["n_retrievals"] == 1650
    assert summary["sm_surface"]["n_passed_qc"] == 497
    assert summary["vod"]["n_retrievals"] == 1190
    assert summary["sm_surface"]["time_min"] == "2023-04-01T19:27:17.825357"


def test_unknown_stream_is_a_user_error(descending):
    with pytest.raises(TccasInputError, match="'lai'"):
        read_smos_l2sm(descending, "lai")


@pytest.mark.parametrize("cut", ["empty", "truncated", "corrupt"])
def test_damaged_file_is_a_user_error_naming_it(descending, tmp_path, cut):
    data = descending.read_bytes()
    damaged = tmp_path / f"{cut}.nc"
    if cut == "corrupt":
        middle = len(data) // 2
        data = data[:middle] + b"\xff" * 200_000 + data[middle + 200_000:]
    damaged.write_bytes({"empty": b"", "truncated": data[: len(data) // 2]}.get(cut, data))
    with pytest.raises(TccasInputError, match=re.escape(str(damaged))):
        read_smos_l2sm(damaged, "sm_surface")


def test_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(TccasInputError, match="file not found"):
        read_smos_l2sm(tmp_path / "absent.nc", "sm_surface")


def test_wrong_structure_is_a_user_error(fixture_file):
    path = fixture_file(CH4)
    with pytest.raises(TccasInputError, match=r"not a SMOS L2 SM.*Soil_Moisture"):
        read_smos_l2sm(path, "sm_surface")


@pytest.fixture
def editable_copy(descending, tmp_path):
    copy = tmp_path / descending.name
    shutil.copyfile(descending, copy)
    return copy


def test_missing_sigma_variable_is_named(editable_copy):
    with netCDF4.Dataset(editable_copy, "a") as nc:
        nc.renameVariable("Soil_Moisture_DQX", "Soil_Moisture_Error")
    with pytest.raises(TccasInputError, match="Soil_Moisture_DQX missing") as error:
        read_smos_l2sm(editable_copy, "sm_surface")
    assert str(editable_copy) in str(error.value)


def test_times_outside_the_validity_period_are_rejected(editable_copy):
    # as if the epoch were wrong: the decoded times no longer match the header
    with netCDF4.Dataset(editable_copy, "a") as nc:
        nc.setncattr("FH:Validity_Period:Validity_Start", "UTC=2023-04-02T19:16:29")
        nc.setncattr("FH:Validity_Period:Validity_Stop", "UTC=2023-04-02T20:09:42")
    with pytest.raises(TccasInputError, match=r"Days.*outside the validity period"):
        read_smos_l2sm(editable_copy, "sm_surface")


def test_other_product_type_is_rejected(editable_copy):
    with netCDF4.Dataset(editable_copy, "a") as nc:
        nc.setncattr("FH:File_Type", "MIR_OSUDP2")
    with pytest.raises(TccasInputError, match=r"FH:File_Type.*MIR_OSUDP2"):
        read_smos_l2sm(editable_copy, "sm_surface")
