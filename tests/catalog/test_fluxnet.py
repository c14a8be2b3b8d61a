"""FLUXNET2015 ERAI / FULLSET CSV and PLUMBER2 netCDF readers on the real fixtures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from tccas.catalog.co2 import co2_mole_fraction
from tccas.catalog.fluxnet import (
    UMOL_CO2_M2_S_TO_GC_M2_D,
    daily_observed_fluxes,
    infer_utc_offset,
    read_erai_forcing,
    read_fullset,
    read_plumber_forcing,
    to_si,
)
from tccas.catalog.sites import SITES
from tccas.catalog.weather import site_forcing
from tccas.model.errors import TccasInputError

ERAI = "fluxnet/FLX_US-Wi7_FLUXNET2015_ERAI_HH_1989-2014_1-4.csv"
DD = "fluxnet/FLX_US-Wi7_FLUXNET2015_FULLSET_DD_2005-2005_1-4.csv"
MM = "fluxnet/FLX_FR-Pue_FLUXNET2015_FULLSET_MM_2007-2014_2-3.csv"
HH = ("fluxnet/exampledata_FLUXNET-FULLSET-HH-CSV-30MIN_FLX_CH-Cha_FLUXNET2015_FULLSET_HH_"
      "2005-2020_beta-3.csv")
MET = "fluxnet/DK-Fou_2005-2005_FLUXNET2015_Met.nc"
FLUX = "fluxnet/DK-Fou_2005-2005_FLUXNET2015_Flux.nc"
US_WI7_UTC_OFFSET = -6.0  # Wisconsin, US Central Standard Time


def _hour_index(forcing, utc_hour: str) -> int:
    return int((np.datetime64(utc_hour, "h") - forcing.start) / np.timedelta64(1, "h"))


@pytest.fixture(scope="module")
def erai_2005(fixture_file):
    return read_erai_forcing(fixture_file(ERAI), US_WI7_UTC_OFFSET, "2005-01-01", "2005-12-31")


@pytest.fixture
def erai_january(fixture_file, tmp_path):
    """A small copy of the ERAI file (late December 2004 to early February 2005)."""
    frame = pd.read_csv(fixture_file(ERAI))
    keep = (frame["TIMESTAMP_START"] >= 200412250000) & (frame["TIMESTAMP_START"] < 200502050000)
    return frame[keep].reset_index(drop=True), tmp_path / "FLX_US-Wi7_FLUXNET2015_ERAI_HH_test.csv"


def test_erai_us_wi7_year_2005(erai_2005):
    forcing = erai_2005
    assert forcing.n_met == 1 and forcing.n_hour == 8760
    assert forcing.start == np.datetime64("2005-01-01T00", "h")
    # 2005-07-01 18-19 UTC is 12:00-13:00 CST, the CSV rows 200507011200 and 200507011230:
    # TA_ERA 14.037, 14.692; SW_IN_ERA 798.983, 792.043; LW_IN_ERA 282.531 (both);
    # VPD_ERA 7.915, 8.655; PA_ERA 97.918, 97.911; P_ERA 0, 0; WS_ERA 1.282, 1.211.
    k = _hour_index(forcing, "2005-07-01T18")
    assert forcing.air_temperature[0, k] == pytest.approx((14.037 + 14.692) / 2 + 273.15)
    assert forcing.shortwave_down[0, k] == pytest.approx((798.983 + 792.043) / 2)
    assert forcing.longwave_down[0, k] == pytest.approx(282.531)
    assert forcing.vapour_pressure_deficit[0, k] == pytest.approx((7.915 + 8.655) / 2 * 100)
    assert forcing.surface_pressure[0, k] == pytest.approx((97.918 + 97.911) / 2 * 1000)
    assert forcing.wind_speed[0, k] == pytest.approx((1.282 + 1.211) / 2)
    assert forcing.precipitation[0, k] == 0.0
    # 2005-01-02 00 UTC = 2005-01-01 18:00-19:00 CST: P_ERA 1.784 mm in each half hour.
    wet = _hour_index(forcing, "2005-01-02T00")
    assert forcing.precipitation[0, wet] == pytest.approx(2 * 1.784 / 3600.0)
    assert forcing.co2[0, k] == pytest.approx(378.98e-6, abs=0.05e-6)


def test_erai_us_wi7_plausible_ranges(erai_2005):
    forcing = erai_2005
    celsius = forcing.air_temperature[0] - 273.15
    assert -40.0 < celsius.min() < -20.0 and 25.0 < celsius.max() < 40.0
    assert 0.0 < celsius.mean() < 10.0
    assert forcing.shortwave_down.min() == 0.0 and 700.0 < forcing.shortwave_down.max() < 1000.0
    assert 600.0 < forcing.precipitation.sum() * 3600.0 < 1200.0  # mm in 2005
    assert 90_000.0 < forcing.surface_pressure.mean() < 101_000.0
    # Night (0 W m-2) at local midnight, day at local noon.
    days = forcing.shortwave_down[0].reshape(365, 24)
    assert np.all(days[:, 6] == 0.0)  # 00-01 CST
    assert np.all(days[:, 18] > 0.0)  # 12-13 CST


def test_erai_short_gap_is_interpolated(erai_january):
    frame, path = erai_january
    original = frame.copy()
    rows = frame.index[frame["TIMESTAMP_START"] == 200501101200][0] + np.arange(8)
    frame.loc[rows, "TA_ERA"] = -9999  # 4 h missing: 12:00-16:00 CST
    frame.to_csv(path, index=False)
    forcing = read_erai_forcing(path, US_WI7_UTC_OFFSET, "2005-01-05", "2005-01-15")
    before = original.loc[rows[0] - 1, "TA_ERA"]
    after = original.loc[rows[-1] + 1, "TA_ERA"]
    filled = before + (after - before) * np.arange(1, 9) / 9.0
    expected = 0.5 * (filled[0::2] + filled[1::2]) + 273.15
    k = _hour_index(forcing, "2005-01-10T18")
    np.testing.assert_allclose(forcing.air_temperature[0, k:k + 4], expected, rtol=1e-12)


def test_erai_long_gap_names_file_variable_and_time(erai_january):
    frame, path = erai_january
    rows = frame.index[frame["TIMESTAMP_START"] == 200501101200][0] + np.arange(16)
    frame.loc[rows, "LW_IN_ERA"] = -9999  # 8 h missing
    frame.to_csv(path, index=False)
    with pytest.raises(TccasInputError, match=(
        r"FLX_US-Wi7_FLUXNET2015_ERAI_HH_test\.csv: variable 'LW_IN_ERA' is missing for 8 h "
        r".*2005-01-10T12:00 local standard time \(2005-01-10T18:00 UTC\)"
    )):
        read_erai_forcing(path, US_WI7_UTC_OFFSET, "2005-01-05", "2005-01-15")


def test_erai_missing_column_and_period(erai_january):
    frame, path = erai_january
    frame.drop(columns=["VPD_ERA"]).to_csv(path, index=False)
    with pytest.raises(TccasInputError, match=r"ERAI_HH_test\.csv: missing variable.*'VPD_ERA'"):
        read_erai_forcing(path, US_WI7_UTC_OFFSET, "2005-01-05", "2005-01-15")
    frame.to_csv(path, index=False)
    with pytest.raises(TccasInputError, match=r"ERAI_HH_test\.csv: the file covers"):
        read_erai_forcing(path, US_WI7_UTC_OFFSET, "2010-01-01", "2010-01-31")


def test_plumber_dk_fou_year_2005(fixture_file):
    path = fixture_file(MET)
    forcing, site = read_plumber_forcing(path, "2005-01-01", "2005-12-31")
    assert forcing.n_hour == 8760 and forcing.start == np.datetime64("2005-01-01T00", "h")
    assert site.code == "DK-Fou" and site.igbp == "CRO"
    assert site.latitude == pytest.approx(56.4842) and site.longitude == pytest.approx(9.58722)
    assert site.elevation == 51.0 and site.canopy_height == 1.0
    assert site.utc_offset == 1.0 and site.utc_offset_inferred
    raw = xr.open_dataset(path)
    local = raw.sel(time=slice("2005-07-01T12:00", "2005-07-01T12:30"))
    k = _hour_index(forcing, "2005-07-01T11")  # 12:00-13:00 local standard time (UTC+1)
    for name, values, scale, offset in (
        ("Tair", forcing.air_temperature, 1.0, 0.0),
        ("VPD", forcing.vapour_pressure_deficit, 100.0, 0.0),  # hPa
        ("CO2air", forcing.co2, 1e-6, 0.0),  # ppm
        ("Precip", forcing.precipitation, 1.0, 0.0),  # kg m-2 s-1
    ):
        expected = local[name].values.astype(np.float64).mean() * scale + offset
        assert values[0, k] == pytest.approx(expected, rel=1e-12), name
    # The last UTC hour (2006-01-01 00-01 local) is past the file: the last record held.
    assert forcing.air_temperature[0, -1] == float(raw["Tair"].values[-1, 0, 0])
    celsius = forcing.air_temperature[0] - 273.15
    assert -10.0 < celsius.min() and celsius.max() < 30.0 and 5.0 < celsius.mean() < 11.0


def test_plumber_explicit_offset_shifts_hours(fixture_file):
    path = fixture_file(MET)
    inferred, _ = read_plumber_forcing(path, "2005-03-01", "2005-03-10")
    explicit, site = read_plumber_forcing(path, "2005-03-01", "2005-03-10", utc_offset=1.0)
    as_utc, _ = read_plumber_forcing(path, "2005-03-01", "2005-03-10", utc_offset=0.0)
    assert not site.utc_offset_inferred
    np.testing.assert_array_equal(inferred.shortwave_down, explicit.shortwave_down)
    # With offset 1 the UTC hour h holds local hour h + 1.
    np.testing.assert_array_equal(explicit.air_temperature[0, :-1], as_utc.air_temperature[0, 1:])


@pytest.mark.parametrize(("name", "utc_offset"), [("majadas", 1.0), ("sodankyla", 2.0)])
def test_infer_utc_offset_from_shortwave_cycle(name, utc_offset):
    forcing = site_forcing(name, "2019-01-01", "2019-12-31", seed=2)
    local_start = forcing.times + np.timedelta64(int(utc_offset), "h")
    site = SITES[name]
    assert infer_utc_offset(local_start, forcing.shortwave_down[0], site.longitude) == utc_offset
    assert infer_utc_offset(forcing.times, forcing.shortwave_down[0], site.longitude) == 0.0


def test_plumber_wrong_structure(fixture_file):
    with pytest.raises(TccasInputError, match=r"DK-Fou_2005-2005_FLUXNET2015_Flux\.nc: missing "
                                              r"variable.*'Tair'"):
        read_plumber_forcing(fixture_file(FLUX), "2005-01-01", "2005-12-31")


def test_read_fullset_daily_monthly_halfhourly(fixture_file):
    daily = read_fullset(fixture_file(DD))
    assert daily.attrs["resolution"] == "DD" and daily.shape == (365, 200)
    assert daily.index[0] == pd.Timestamp("2005-01-01") and daily.index[-1] == pd.Timestamp(
        "2005-12-31")
    assert np.isnan(daily.loc["2005-01-01", "TA_F_MDS"])  # -9999 in the file
    assert daily.loc["2005-01-01", "TA_ERA"] == -13.113
    assert "NEE_VUT_REF_QC" in daily.columns
    monthly = read_fullset(fixture_file(MM))
    assert monthly.attrs["resolution"] == "MM" and len(monthly) == 96
    assert monthly.index[0] == pd.Timestamp("2007-01-01")
    assert monthly.index[-1] == pd.Timestamp("2014-12-01")
    half_hourly = read_fullset(fixture_file(HH))
    assert half_hourly.attrs["resolution"] == "HH" and len(half_hourly) == 99
    assert half_hourly.index[1] - half_hourly.index[0] == pd.Timedelta(minutes=30)
    assert half_hourly.index[-1] == pd.Timestamp("2005-01-03 01:00")
    assert half_hourly["TA_F_MDS"].isna().all()


def test_daily_fluxes_from_fullset_dd(fixture_file):
    ds = daily_observed_fluxes(fixture_file(DD))
    assert ds.sizes == {"date": 365}
    # CSV line 197: 20050715, GPP_NT_VUT_REF 4.79113, NEE_VUT_REF -0.934445.
    july = ds.sel(date="2005-07-15")
    assert float(july["gpp"]) == pytest.approx(4.79113)
    assert float(july["nee"]) == pytest.approx(-0.934445)
    assert float(july["nee_qc"]) == pytest.approx(0.916667)
    assert ds["gpp"].attrs["units"] == "gC m-2 d-1"
    assert float(ds["nee"].sum()) == pytest.approx(-280.79878386)


def test_daily_fluxes_from_halfhourly_fullset(fixture_file):
    path = fixture_file(HH)
    ds = daily_observed_fluxes(path)
    assert ds.sizes == {"date": 3}
    raw = pd.read_csv(path, na_values=[-9999])
    first_day = raw["GPP_NT_VUT_REF"].iloc[:48].mean() * 12.011e-6 * 86400.0
    assert float(ds["gpp"][0]) == pytest.approx(first_day, rel=1e-12)
    nee = raw["NEE_VUT_REF"].iloc[48:96].mean() * 12.011e-6 * 86400.0
    assert float(ds["nee"][1]) == pytest.approx(nee, rel=1e-12)
    assert np.isnan(ds["gpp"][2])  # 2005-01-03 has only 3 half hours in the file
    good = (raw["NEE_VUT_REF_QC"].iloc[:48] <= 1).mean()
    assert float(ds["nee_qc"][0]) == pytest.approx(good)


def test_daily_fluxes_from_plumber_flux(fixture_file):
    path = fixture_file(FLUX)
    ds = daily_observed_fluxes(path)
    assert ds.sizes == {"date": 365}
    assert ds["date"].values[0] == np.datetime64("2005-01-01", "ns")
    raw = xr.open_dataset(path)
    assert raw["GPP"].attrs["units"] == "umol/m2/s"
    first_day = raw["GPP"].values[:48, 0, 0].astype(np.float64).mean() * UMOL_CO2_M2_S_TO_GC_M2_D
    assert float(ds["gpp"][0]) == pytest.approx(first_day, rel=1e-12)
    july = raw["NEE"].sel(time="2005-07-01").values.astype(np.float64).mean()
    assert float(ds["nee"].sel(date="2005-07-01")) == pytest.approx(july * 12.011e-6 * 86400)
    assert 500.0 < float(ds["gpp"].sum()) < 2500.0  # gC m-2 yr-1, a cropland


def test_daily_fluxes_wrong_structure(fixture_file, tmp_path):
    with pytest.raises(TccasInputError, match=r"ERAI_HH_1989-2014_1-4\.csv: missing "
                                              r"variable.*'GPP_NT_VUT_REF'"):
        daily_observed_fluxes(fixture_file(ERAI))
    with pytest.raises(TccasInputError, match=r"FR-Pue.*resolution MM is coarser than daily"):
        daily_observed_fluxes(fixture_file(MM))
    with pytest.raises(TccasInputError, match=r"DK-Fou_2005-2005_FLUXNET2015_Met\.nc: missing "
                                              r"variable.*'GPP'"):
        daily_observed_fluxes(fixture_file(MET))
    table = tmp_path / "table.csv"
    table.write_text("site,value\nUS-Wi7,1\n")
    with pytest.raises(TccasInputError, match=r"table\.csv: not a FLUXNET file: no "
                                              r"TIMESTAMP_START"):
        daily_observed_fluxes(table)
    with pytest.raises(TccasInputError, match=r"table\.csv: not a FLUXNET file"):
        read_fullset(table)
    broken = tmp_path / "broken_Flux.nc"
    broken.write_bytes(b"\x89HDF\r\n\x1a\n not really")
    with pytest.raises(TccasInputError, match=r"broken_Flux\.nc: cannot be read as NetCDF"):
        daily_observed_fluxes(broken)


def test_unit_conversion_table():
    np.testing.assert_array_equal(to_si(np.array([20.0]), "degC", "f", "TA"), [293.15])
    np.testing.assert_array_equal(to_si(np.array([10.0]), "hPa", "f", "VPD"), [1000.0])
    np.testing.assert_allclose(to_si(np.array([400.0]), "ppm", "f", "CO2"), [400e-6], rtol=1e-15)
    with pytest.raises(TccasInputError, match=r"f: variable 'Tair' has units 'degF'"):
        to_si(np.array([1.0]), "degF", "f", "Tair")


def test_erai_forcing_co2_is_the_global_mean(erai_2005):
    mid_hour = erai_2005.times.astype("datetime64[m]") + np.timedelta64(30, "m")
    np.testing.assert_array_equal(erai_2005.co2[0], co2_mole_fraction(mid_hour))


def test_fullset_reads_only_the_columns_asked_for(fixture_file):
    path = fixture_file(HH)
    full = read_fullset(path)
    some = read_fullset(path, ["NEE_VUT_REF", "NEE_VUT_REF_QC", "NOT_A_COLUMN"])
    assert list(some.columns) == ["NEE_VUT_REF", "NEE_VUT_REF_QC"]
    assert full.shape == (99, 265) and some.shape == (99, 2)
    pd.testing.assert_frame_equal(some, full[["NEE_VUT_REF", "NEE_VUT_REF_QC"]])
    assert some.attrs == full.attrs == {"resolution": "HH", "source": path.name,
                                        "time_zone": "local standard time"}
