"""FLUXNET2015 FULLSET writer: files read back by the FLUXNET readers with exact values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tccas.catalog.fluxnet import daily_observed_fluxes, read_fullset
from tccas.catalog.fluxnet_writer import (
    FULLSET_COLUMNS,
    as_written,
    fullset_filename,
    write_fullset,
)
from tccas.model.errors import TccasInputError


def _half_hours(days: int = 2) -> pd.DataFrame:
    index = pd.date_range("2016-12-31", periods=48 * days, freq="30min")
    rng = np.random.default_rng(3)
    n = index.size
    frame = pd.DataFrame({
        "GPP_NT_VUT_REF": rng.gamma(2.0, 2.0, n),
        "NEE_VUT_REF": rng.normal(-1.0, 3.0, n),
        "NEE_VUT_REF_QC": rng.integers(0, 4, n).astype(float),
        "TA_F": rng.normal(5.0, 4.0, n),
        "P_F": rng.exponential(0.1, n),
    }, index=index)
    frame.iloc[5, 1] = np.nan
    return frame


def test_half_hourly_round_trip(tmp_path: Path) -> None:
    records = _half_hours()
    path = write_fullset(tmp_path, "ES-LM1", "HH", records)
    assert path.name == "FLX_ES-LM1_FLUXNET2015_FULLSET_HH_2016-2017_1-4.csv"
    header = path.read_text().splitlines()[0].split(",")
    assert header == ["TIMESTAMP_START", "TIMESTAMP_END", "TA_F", "P_F", "NEE_VUT_REF",
                      "NEE_VUT_REF_QC", "GPP_NT_VUT_REF"]
    first = path.read_text().splitlines()[1].split(",")
    assert first[:2] == ["201612310000", "201612310030"]
    assert path.read_text().splitlines()[6].split(",")[4] == "-9999"
    frame = read_fullset(path)
    assert frame.attrs["resolution"] == "HH"
    assert frame.index.equals(pd.DatetimeIndex(records.index, name="time"))
    for column in records.columns:
        np.testing.assert_array_equal(frame[column].to_numpy(np.float64),
                                      as_written(records[column].to_numpy()))
    np.testing.assert_array_equal(frame["NEE_VUT_REF_QC"].to_numpy(np.float64),
                                  records["NEE_VUT_REF_QC"].to_numpy())


def test_daily_round_trip_and_daily_fluxes(tmp_path: Path) -> None:
    records = _half_hours(3)
    days = pd.date_range("2016-12-31", periods=3, freq="D")
    daily = pd.DataFrame({"NEE_VUT_REF": [-1.25, 0.5, np.nan],
                          "NEE_VUT_REF_QC": [0.75, 1.0, 0.0],
                          "GPP_NT_VUT_REF": [3.0, 2.125, 4.0]}, index=days)
    path = write_fullset(tmp_path, "ES-LM1", "DD", daily)
    assert path.read_text().splitlines()[1].startswith("20161231,")
    flux = daily_observed_fluxes(path)
    np.testing.assert_array_equal(flux["nee"].values, [-1.25, 0.5, np.nan])
    np.testing.assert_array_equal(flux["gpp"].values, [3.0, 2.125, 4.0])
    np.testing.assert_array_equal(flux["nee_qc"].values, [0.75, 1.0, 0.0])
    half_hourly = daily_observed_fluxes(write_fullset(tmp_path, "ES-LM1", "HH", records))
    nee = as_written(records["NEE_VUT_REF"].to_numpy()).reshape(3, 48)
    expected = nee.mean(axis=1) * 12.011e-6 * 86400.0
    np.testing.assert_allclose(half_hourly["nee"].values, expected, rtol=1e-12)
    assert np.isnan(half_hourly["nee"].values[0])


def test_file_name_and_known_columns() -> None:
    assert fullset_filename("FI-Sod", "DD", 2015, 2021) == \
        "FLX_FI-Sod_FLUXNET2015_FULLSET_DD_2015-2021_1-4.csv"
    assert FULLSET_COLUMNS.index("NEE_VUT_REF") < FULLSET_COLUMNS.index("GPP_NT_VUT_REF")


@pytest.mark.parametrize(("resolution", "records", "message"), [
    ("MM", _half_hours(), "resolution"),
    ("HH", _half_hours().rename(columns={"TA_F": "TA"}), "unknown column"),
    ("HH", _half_hours().iloc[[0, 1, 3]], "every"),
    ("DD", _half_hours(), "every"),
    ("HH", _half_hours().iloc[:0], "no records"),
])
def test_bad_records_are_refused(tmp_path: Path, resolution: str, records: pd.DataFrame,
                                 message: str) -> None:
    with pytest.raises(TccasInputError, match=message):
        write_fullset(tmp_path, "ES-LM1", resolution, records)
    assert list(tmp_path.iterdir()) == []
