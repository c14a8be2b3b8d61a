"""Site simulations as Zarr stores: variables, units, coordinates, cover weighting,
atomic writes."""

import numpy as np
import pytest
import xarray as xr

from tccas.model.errors import TccasInputError
from tccas.model.outputs import DAILY_OUTPUTS
from tccas.pipeline.cli import main
from tccas.pipeline.simulate import (
    annual_summary,
    forward_dataset,
    replace_folder,
    run,
    site_simulation,
    tower_pfts,
    write_zarr_atomic,
)

REQUIRED = ("gpp", "ra", "rh", "nee", "et", "transpiration", "soil_evaporation",
            "interception_evaporation", "runoff", "precipitation", "snow_water",
            "canopy_water", "soil_water_surface", "soil_water_root", "sm_surface", "lai",
            "fapar", "c_labile", "c_foliage", "c_root", "c_wood", "c_litter", "c_som")


@pytest.fixture(scope="module")
def majadas_store(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim") / "majadas.zarr"
    assert main(["simulate", "--site", "majadas", "--start", "2015-01-01", "--end",
                 "2016-12-31", "--out", str(out), "--spinup-years", "1"]) == 0
    return out


def test_store_has_every_variable_with_units(majadas_store):
    with xr.open_zarr(majadas_store) as ds:
        for name in REQUIRED:
            assert ds[name].dims == ("tile", "time"), name
            assert ds[name].attrs["units"] and ds[name].attrs["long_name"]
            assert ds[f"{name}_cell"].dims == ("cell", "time")
        assert ds["gpp"].attrs["units"] == "gC m-2 d-1"
        assert ds["et"].attrs["units"] == "kg m-2 d-1"
        assert ds["sm_surface"].attrs["units"] == "m3 m-3"
        assert ds["pft"].values.tolist() == ["TmEv", "C3Gr"]
        np.testing.assert_allclose(ds["cover_fraction"].values, [0.25, 0.75])
        assert ds.sizes["time"] == 731
        assert int(ds["spinup"].sum()) == 365
        assert ds["parameter"].shape == (2, 26)
        assert ds.attrs["site"] == "majadas"


def test_cell_values_are_cover_weighted(majadas_store):
    with xr.open_zarr(majadas_store) as ds:
        for name in ("gpp", "nee", "lai", "sm_surface"):
            weighted = (ds[name] * ds["cover_fraction"]).sum("tile")
            np.testing.assert_allclose(ds[f"{name}_cell"].isel(cell=0), weighted, rtol=1e-12)


def test_overwrite_is_atomic_and_refuses_non_zarr(tmp_path):
    simulation = site_simulation("reusel", "2015-01-01", "2015-01-10")
    dataset = forward_dataset(simulation, run(simulation))
    target = tmp_path / "r.zarr"
    write_zarr_atomic(dataset, target)
    write_zarr_atomic(dataset.isel(time=slice(0, 5)), target)
    with xr.open_zarr(target) as ds:
        assert ds.sizes["time"] == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.zarr"]
    not_a_store = tmp_path / "notes"
    not_a_store.mkdir()
    with pytest.raises(TccasInputError, match="not a Zarr store"):
        write_zarr_atomic(dataset, not_a_store)


def test_replace_folder_swaps_in_the_new_folder_and_leaves_nothing_behind(tmp_path):
    target = tmp_path / "out"
    first = tmp_path / ".out.tmp-1"
    first.mkdir()
    (first / "a.txt").write_text("first")
    replace_folder(first, target)
    assert (target / "a.txt").read_text() == "first" and not first.exists()
    second = tmp_path / ".out.tmp-2"
    second.mkdir()
    (second / "b.txt").write_text("second")
    replace_folder(second, target)
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_annual_summary_totals():
    simulation = site_simulation("majadas", "2015-01-01", "2015-12-31")
    dataset = forward_dataset(simulation, run(simulation))
    summary = annual_summary(dataset)
    row = summary["gpp"][2015]
    assert row["cover-weighted"] == pytest.approx(0.25 * row["TmEv"] + 0.75 * row["C3Gr"])
    assert row["TmEv"] == pytest.approx(float(dataset["gpp"].isel(tile=0).sum()))


def test_tower_pft_options():
    assert tower_pfts(["EvCn:0.6", "C3Gr"]) == (["EvCn", "C3Gr"], [0.6, pytest.approx(0.4)])
    assert tower_pfts(["ArbC"]) == (["ArbC"], [1.0])
    with pytest.raises(TccasInputError, match="not a number"):
        tower_pfts(["EvCn:half"])


def test_output_registry_is_unique():
    names = [v.name for v in DAILY_OUTPUTS]
    assert len(names) == len(set(names))


def test_store_has_observation_equivalents_group(majadas_store):
    with xr.open_zarr(majadas_store, group="observation_equivalents") as ds:
        for name, units in (("sif743", "mW m-2 sr-1 nm-1"), ("vod", "1"),
                            ("sm_surface", "m3 m-3"), ("fapar", "1")):
            assert ds[name].dims == ("tile", "time")
            assert ds[f"{name}_cell"].dims == ("cell", "time")
            assert ds[name].attrs["units"] == units
        assert ds["vod"].attrs["footprint_mixing"] == "transmissivity"
        assert ds["sif743"].attrs["overpass_local_solar_hour"] == 13.5
        summer = ds["sif743_cell"].sel(time=slice("2016-04-01", "2016-05-31"))
        assert float(summer.mean()) > 0.0
