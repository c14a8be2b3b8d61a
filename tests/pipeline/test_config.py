"""Experiment configuration: built-in names, YAML files, overrides and validation."""

from __future__ import annotations

import datetime as dt
import math

import pytest
import yaml

from tccas.model.errors import TccasInputError
from tccas.pipeline.config import (
    DEFAULT_SIGMA_MODEL,
    EARTH_RADIUS_KM,
    builtin_names,
    load_config,
    resolved_yaml,
)

BUILTIN = ["iberia-0.25deg", "lapland-0.25deg", "majadas-100m", "majadas-site",
           "reusel-site", "sodankyla-site"]


def test_builtin_configurations_are_all_there_and_valid():
    assert builtin_names() == BUILTIN
    for name in BUILTIN:
        config = load_config(name)
        assert config.name == name
        assert config.period.start == dt.date(2015, 1, 1)
        assert config.period.end == dt.date(2021, 12, 31)
        assert config.period.assimilation_start == dt.date(2017, 1, 1)
        assert config.assimilated_streams == ["sif743", "vod", "sm_surface", "fapar"]


def test_site_configuration_is_the_one_cell_holding_the_site():
    grid = load_config("majadas-site").region.model_grid()
    assert grid.shape == (1, 1)
    west, dx, _, north, _, _ = grid.transform
    assert (west, dx, north) == (-6.0, 0.25, 40.0)   # Majadas 39.94 N, 5.78 W


def test_regional_box_is_500_km_on_a_side():
    config = load_config("lapland-0.25deg")
    grid = config.region.model_grid()
    _, lat = config.region.centre_lonlat
    ny, nx = grid.shape
    # Snapped outward to whole cells: at most one cell more than 500 km on each side.
    height_km = math.radians(ny * 0.25) * EARTH_RADIUS_KM
    width_km = math.radians(nx * 0.25) * EARTH_RADIUS_KM * math.cos(math.radians(lat))
    assert 500.0 <= height_km <= 500.0 + 2 * 27.8
    assert 500.0 <= width_km <= 500.0 + 2 * 11.0
    assert (ny, nx) == (19, 47)
    assert len(grid.blocks((8, 8))) == 3 * 6


def test_100m_window_is_in_laea_europe_and_overridable():
    config = load_config("majadas-100m")
    grid = config.region.model_grid()
    assert grid.crs.to_epsg() == 3035
    assert grid.shape == (51, 51)   # 5 km snapped outward to 100 m cells
    full = load_config("majadas-100m", ["region.size_km=500"]).region.model_grid()
    assert full.shape == (5001, 5001)


def test_overrides_are_parsed_as_yaml_and_applied_in_order():
    config = load_config("majadas-site", [
        "period.end=2016-12-31", "period.spinup_years=1", "streams.vod.assimilate=false",
        "streams.sif743.qc.max_cloud_fraction=0.3", "control.pfts=[C3Gr]",
        "streams.vod.assimilate=true", "cluster.workers=2"])
    assert config.period.end == dt.date(2016, 12, 31)
    assert config.period.assimilation_start == dt.date(2016, 1, 1)
    assert config.streams["vod"].assimilate is True
    assert config.streams["sif743"].qc == {"max_cloud_fraction": 0.3}
    assert config.streams["sif743"].sigma_model == DEFAULT_SIGMA_MODEL["sif743"]
    assert config.control.pfts == ["C3Gr"]
    assert config.cluster.workers == 2


def test_yaml_file_merges_streams_over_the_defaults(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump({
        "name": "mine", "region": {"kind": "box", "centre": [10.0, 50.0], "size_km": 100},
        "streams": {"vod": {"sigma_model": 0.5}}}))
    config = load_config(str(path))
    assert config.streams["vod"].sigma_model == 0.5
    assert config.streams["vod"].product == "smos_l2"
    assert config.streams["fapar"].sigma_model == DEFAULT_SIGMA_MODEL["fapar"]
    # The resolved YAML reads back to the same configuration.
    again = tmp_path / "resolved.yaml"
    again.write_text(resolved_yaml(config))
    assert load_config(str(again)) == config


@pytest.mark.parametrize(("overrides", "message"), [
    (["period.end=2014-12-31"], "period.end 2014-12-31 is before period.start 2015-01-01"),
    (["period.end=2016-06-30"], "leaves no assimilation window"),
    (["period.start=2015-03-01"], "must be a 1 January"),
    (["region.foo=1"], "region.foo: unknown key (got 1)"),
    (["region.site=atlantis"], "unknown site 'atlantis'"),
    (["streams.vod.sigma_model=-1"], "streams.vod.sigma_model: Input should be greater than "
                                     "or equal to 0 (got -1)"),
    (["streams.co2.product=x"], "unknown stream(s) ['co2']"),
    (["control.pfts=[XX]"], "control.pfts: unknown PFT(s) ['XX']"),
    (["control.parameters=[vcmax]"], "unknown parameter(s) ['vcmax']"),
    (["cluster.kind=address"], "needs cluster.address"),
    (["period.end"], "expected dotted.key=value"),
    (["period.end=[1"], "value is not valid YAML"),
    (["name.x=1"], "'name' is not a mapping"),
])
def test_bad_configuration_is_a_clear_user_error(overrides, message):
    with pytest.raises(TccasInputError) as err:
        load_config("majadas-site", overrides)
    assert message in str(err.value)


def test_unknown_configuration_and_bad_yaml_name_the_file(tmp_path):
    with pytest.raises(TccasInputError, match="neither a file nor a built-in name"):
        load_config("no-such-experiment")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    with pytest.raises(TccasInputError, match=f"{bad}: not valid YAML"):
        load_config(str(bad))
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("42\n")
    with pytest.raises(TccasInputError, match="must be a YAML mapping"):
        load_config(str(scalar))
    missing = tmp_path / "missing.yaml"
    missing.write_text("name: x\n")
    with pytest.raises(TccasInputError, match="region: Field required"):
        load_config(str(missing))
