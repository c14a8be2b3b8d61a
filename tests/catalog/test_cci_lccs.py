"""CCI LC class map (LCCS legend): the writer's layout, both storage layouts read back,
subsets, companion lookup and bad files."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest

from tccas.catalog.cci_landcover import cci_landcover_file_name
from tccas.catalog.cci_lccs import (
    LCCS_LEGEND,
    find_lccs_companion,
    lccs_file_name,
    read_lccs_map,
    write_lccs_map,
)
from tccas.model.errors import TccasInputError

RES = 1.0 / 360.0
LAT = 67.5 - RES * (np.arange(4) + 0.5)
LON = 26.0 + RES * (np.arange(10) + 0.5)
CODES = np.array(list(LCCS_LEGEND)[:40], dtype=np.uint8)
#: the v2.0.7 flag_meanings shorten class 180 (Brockmann Consult lc-cci-toolbox)
V207_MEANINGS = " ".join(LCCS_LEGEND.values()).replace(
    "shrub_or_herbaceous_cover_flooded_fresh_saline_brakish_water",
    "shrub_or_herbaceous_cover_flooded")


def every_code(shape=(4, 10)):
    """Every legend code once (38 of the 40 cells), then 180 twice."""
    flat = np.full(shape[0] * shape[1], 180, dtype=np.uint8)
    flat[:CODES.size] = CODES
    return flat.reshape(shape)


def write_v207_byte_map(path, codes, lat=LAT, lon=LON, meanings=V207_MEANINGS,
                        flag_values=None, n_time=1):
    """A class map in the original v2.0.7 layout: signed byte with ``_Unsigned``, signed
    flag_values, _FillValue 0."""
    values = np.array(list(LCCS_LEGEND), dtype=np.uint8) if flag_values is None else (
        np.asarray(flag_values, dtype=np.uint8))
    with netCDF4.Dataset(path, "w") as nc:
        nc.createDimension("time", n_time)
        nc.createDimension("lat", lat.size)
        nc.createDimension("lon", lon.size)
        time = nc.createVariable("time", "i4", ("time",))
        time.units = "days since 1970-01-01"
        time[:] = np.arange(n_time) + 16436  # 2015-01-01
        for name, axis in (("lat", lat), ("lon", lon)):
            nc.createVariable(name, "f8", (name,))[:] = axis
        classes = nc.createVariable("lccs_class", "i1", ("time", "lat", "lon"), fill_value=0)
        classes.set_auto_maskandscale(False)
        classes.setncatts({"_Unsigned": "true", "flag_values": values.view(np.int8),
                           "flag_meanings": meanings,
                           "long_name": "Land cover class defined in LCCS"})
        classes[:] = np.broadcast_to(np.asarray(codes, dtype=np.uint8).view(np.int8),
                                     (n_time, lat.size, lon.size))
    return path


def test_writer_layout_and_round_trip(tmp_path):
    codes = every_code()
    path = write_lccs_map(tmp_path / lccs_file_name(2015), codes, LAT, LON, 2015)
    with netCDF4.Dataset(path) as nc:
        variable = nc["lccs_class"]
        assert variable.dtype == np.uint8 and variable.shape == (1, 4, 10)
        assert variable.flag_values.dtype == np.uint8
        assert variable.flag_values.tolist() == list(LCCS_LEGEND) and len(LCCS_LEGEND) == 38
        assert variable.flag_meanings.split()[23:25] == ["grassland", "lichens_and_mosses"]
        assert (variable.valid_min, variable.valid_max) == (1, 220)
        assert variable.ancillary_variables.split() == [
            "processed_flag", "current_pixel_state", "observation_count", "change_count"]
        assert int(nc["processed_flag"][0, 0, 0]) == 0  # code 0 is no data
        assert int(nc["current_pixel_state"][0, 3, 9]) == 1
    classes = read_lccs_map(path)
    assert classes.dtype == np.uint8 and classes.dims == ("lat", "lon")
    np.testing.assert_array_equal(classes.values, codes)
    np.testing.assert_array_equal(classes["lat"].values, LAT)
    assert classes.attrs["year"] == 2015 and classes.attrs["source"] == path.name
    assert classes.attrs["resolution_deg"] == pytest.approx(RES)


def test_signed_byte_v207_layout_reads_as_unsigned_codes(tmp_path):
    codes = every_code()
    classes = read_lccs_map(write_v207_byte_map(tmp_path / "m.nc", codes))
    np.testing.assert_array_equal(classes.values, codes)  # 130..220 stored as -126..-36
    assert int(classes.values[3, 9]) == 180 and int(classes.values[0, 0]) == 0


def test_bbox_reads_a_window(tmp_path):
    path = write_lccs_map(tmp_path / "m.nc", every_code(), LAT, LON, 2015)
    window = read_lccs_map(path, bbox=(26.004, 67.492, 26.02, 67.5))
    np.testing.assert_array_equal(window["lon"].values, LON[1:7])
    np.testing.assert_array_equal(window["lat"].values, LAT[:3])
    np.testing.assert_array_equal(window.values, every_code()[:3, 1:7])


@pytest.mark.parametrize(("change", "message"), [
    ({"meanings": "no_data water"}, "has 38 flag_values but 2 flag_meanings"),
    ({"meanings": V207_MEANINGS.replace("lichens_and_mosses", "moss_heath")},
     "calls class 140 'moss_heath', expected 'lichens_and_mosses...'"),
    ({"flag_values": [code for code in LCCS_LEGEND if code != 180],
      "meanings": " ".join(m for c, m in LCCS_LEGEND.items() if c != 180)},
     "holds the code 180, which is not in its flag_values"),
    ({"n_time": 2}, "holds 2 maps; expected one map per file"),
])
def test_bad_class_maps_name_file_variable_and_value(tmp_path, change, message):
    path = write_v207_byte_map(tmp_path / "bad.nc", every_code(), **change)
    with pytest.raises(TccasInputError) as err:
        read_lccs_map(path)
    assert str(err.value).startswith(f"{path}: variable 'lccs_class' ")
    assert message in str(err.value)


def test_missing_legend_or_variable_is_named(tmp_path):
    path = write_lccs_map(tmp_path / "m.nc", every_code(), LAT, LON, 2015)
    with netCDF4.Dataset(path, "a") as nc:
        nc["lccs_class"].delncattr("flag_meanings")
    with pytest.raises(TccasInputError, match="'lccs_class' lacks flag_values or flag_meanings"):
        read_lccs_map(path)
    with netCDF4.Dataset(path, "a") as nc:
        nc.renameVariable("lccs_class", "classes")
    with pytest.raises(TccasInputError, match=r"m\.nc: not a CCI LC class map: variable\(s\) "
                                              "lccs_class missing"):
        read_lccs_map(path)
    with pytest.raises(TccasInputError, match="file not found"):
        read_lccs_map(tmp_path / "absent.nc")


def test_writer_rejects_codes_outside_the_legend(tmp_path):
    with pytest.raises(TccasInputError, match="holds the code 99, not in the LCCS legend"):
        write_lccs_map(tmp_path / "m.nc", np.full((4, 10), 99), LAT, LON, 2015)
    with pytest.raises(TccasInputError, match=r"has shape \(4, 9\), expected \(4, 10\)"):
        write_lccs_map(tmp_path / "m.nc", every_code()[:, :9], LAT, LON, 2015)


def test_file_names_and_companion_lookup(tmp_path):
    assert lccs_file_name(2015) == "ESACCI-LC-L4-LCCS-Map-300m-P1Y-2015-v2.0.7cds.nc"
    assert lccs_file_name(2018) == "C3S-LC-L4-LCCS-Map-300m-P1Y-2018-v2.1.1.nc"
    pft_2015 = tmp_path / cci_landcover_file_name(2015)
    pft_2018 = tmp_path / cci_landcover_file_name(2018)
    assert find_lccs_companion(pft_2015) is None  # absent: the caller keeps the zone table
    for name in ("ESACCI-LC-L4-LCCS-Map-300m-P1Y-2014-v2.0.7cds.nc",
                 "ESACCI-LC-L4-LCCS-Map-300m-P1Y-1992_2015-v2.0.7b.nc",
                 "esacci-lc-l4-lccs-map-300m-p1y-2015-v2.0.7.nc",
                 lccs_file_name(2015), lccs_file_name(2018)):
        (tmp_path / name).touch()
    assert find_lccs_companion(pft_2015) == tmp_path / lccs_file_name(2015)  # newest version
    assert find_lccs_companion(pft_2018) == tmp_path / lccs_file_name(2018)
    assert find_lccs_companion(tmp_path / cci_landcover_file_name(2016)) is None
    assert find_lccs_companion(tmp_path / "landcover.nc") is None
