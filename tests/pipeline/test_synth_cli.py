"""``tccas synth``: the synthetic world end to end, read back by the product readers."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from scipy import sparse

from tccas.catalog.catalogue import SOIL_NAMES
from tccas.catalog.cci_biomass import read_cci_biomass
from tccas.catalog.era5 import era5_to_forcing, open_era5, open_era5_geopotential
from tccas.catalog.fluxnet import daily_observed_fluxes, read_fullset
from tccas.catalog.jrc_tip import read_jrc_tip
from tccas.catalog.smos import read_smos_l2sm
from tccas.catalog.soil_texture import soil_class_on_grid, soil_texture_file_name
from tccas.catalog.synth_fields import elevation
from tccas.catalog.synth_weather import bilinear_matrix, era5_lattice
from tccas.catalog.troposif import read_troposif
from tccas.model.driver import SpinUp, run_forward
from tccas.model.forcing import make_forcing
from tccas.model.tiles import make_tiles
from tccas.operators.footprint import ellipse_weights, quad_weights
from tccas.operators.observe import (
    FootprintObservations,
    PartialSums,
    complete,
    partial_sums,
    sample_observations,
)
from tccas.pipeline.cli import main
from tccas.pipeline.config import load_config

SITE_ARGS = ["--set", "period.end=2015-01-10", "--set", "period.spinup_years=0", "--quiet"]


def _synth(out: Path, config: str = "majadas-site", extra: tuple[str, ...] = ()) -> None:
    assert main(["synth", config, "--out", str(out), *SITE_ARGS, *extra]) == 0


@pytest.fixture(scope="module")
def site_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "raw"
    _synth(out)
    return out


def _truth(out: Path, group: str | None = None) -> xr.Dataset:
    return xr.open_zarr(out / "truth.zarr", group=group, consolidated=True).load()


def test_writes_every_product_and_the_truth(site_world: Path) -> None:
    folders = sorted(p.name for p in site_world.iterdir())
    assert folders == ["era5", "fluxnet", "jrc_tip", "landcover", "smos_l2", "troposif",
                       "truth.zarr"]
    assert sorted(p.name for p in (site_world / "era5").iterdir()) == [
        "ERA5_201501_stepType-accum.nc", "ERA5_201501_stepType-instant.nc",
        "ERA5_geopotential.nc"]
    assert [p.name for p in (site_world / "landcover").iterdir()] == [
        "ESACCI-LC-L4-PFT-Map-300m-P1Y-2015-v2.0.8.nc"]
    assert sorted(p.name for p in (site_world / "fluxnet").iterdir()) == [
        "FLX_ES-LM1_FLUXNET2015_FULLSET_DD_2015-2015_1-4.csv",
        "FLX_ES-LM1_FLUXNET2015_FULLSET_HH_2015-2015_1-4.csv"]
    assert all(p.name.startswith("S5P_PAL__L2B_SIF____2015") for p in
               (site_world / "troposif").iterdir())
    assert (site_world / "truth.zarr" / ".zmetadata").is_file()
    assert not any(p.name.startswith(".") for p in site_world.parent.iterdir())
    truth = _truth(site_world)
    assert truth.attrs["seed"] == 20150101
    assert truth.sizes["tile"] == 2 and truth.sizes["time"] == 10
    assert list(truth["tile_pft_name"].values) == ["TmEv", "C3Gr"]
    np.testing.assert_allclose(truth["tile_fraction"].values, [0.25, 0.75])
    assert "name: majadas-site" in truth.attrs["config_yaml"]


def test_true_parameters_are_drawn_from_the_prior_within_bounds(site_world: Path) -> None:
    truth = _truth(site_world)
    x, lower, upper = truth["x_true"].values, truth["lower"].values, truth["upper"].values
    assert np.all((x > lower) & (x < upper))
    config = load_config("majadas-site")
    from tccas.pipeline.control import control_space

    space = control_space(config.control, [3, 9], [3, 9])
    assert list(truth["control"].values) == list(space.names)
    np.testing.assert_array_equal(truth["x_prior"].values, space.x0)
    np.testing.assert_allclose(space.x_from_z(truth["z_true"].values), x, rtol=1e-12)
    z = truth["z_true"].values
    assert 0.5 < z.std() < 1.6 and np.abs(z).max() < 5.0  # truth_spread 1
    assert not np.allclose(x, space.x0)
    tmev = np.flatnonzero(truth["tile_pft_name"].values == "TmEv")[0]
    column = list(truth["parameter_name"].values).index("vcmax25")
    element = list(truth["control"].values).index("TmEv.vcmax25")
    assert truth["parameter_true"].values[tmev, column] == x[element]


def test_observation_files_match_the_truth_tables(site_world: Path) -> None:
    for stream, folder, read in (("sif743", "troposif", read_troposif),
                                 ("sm_surface", "smos_l2", read_smos_l2sm),
                                 ("vod", "smos_l2", read_smos_l2sm)):
        table = _truth(site_world, f"obs/{stream}")
        assert table.sizes["obs"] > 5
        residuals = []
        sources = table["source_file"].values[table["source"].values]
        assert np.all(table["row"].values >= 0)
        for source in np.unique(sources):
            rows = sources == source
            observed = read(site_world / folder / source, stream)
            assert observed.sizes["obs"] == rows.sum()
            np.testing.assert_array_equal(observed["latitude"].values,
                                          table["latitude"].values[rows].astype(np.float32))
            hours = observed["time"].values.astype("datetime64[h]")
            np.testing.assert_array_equal(hours, table["time"].values[rows])
            residuals.append((observed["value"].values - table["value_true"].values[rows])
                             / observed["sigma"].values)
        z = np.concatenate(residuals)
        assert np.all(np.abs(z) < 6.0)
        assert 0.5 < z.std() < 1.6  # few soundings here; the error models are tested alone
        assert np.all(table["coverage"].values > 0) and np.all(table["coverage"].values
                                                               <= 1 + 1e-9)


def _forcing_from_files(out: Path, truth: xr.Dataset):
    ds = open_era5(sorted((out / "era5").iterdir())).sortby("latitude", ascending=False)
    lattice = era5_lattice(*_met_bounds(truth))
    assert np.array_equal(ds["latitude"].values, lattice.latitude)
    weights = bilinear_matrix(lattice, truth["met_longitude"].values,
                              truth["met_latitude"].values).toarray()[0]
    point = ds.isel(latitude=0, longitude=0, drop=True)
    n = ds.sizes["valid_time"]
    for name in ("t2m", "d2m", "sp", "u10", "v10", "ssrd", "strd", "tp"):
        values = ds[name].transpose("valid_time", "latitude", "longitude").values
        point[name] = ("valid_time", values.reshape(n, -1).astype(float) @ weights,
                       ds[name].attrs)
    forcing = era5_to_forcing(point, "test")
    rounded = {k: v.astype(np.float32).astype(np.float64) for k, v in forcing.arrays().items()}
    return make_forcing(forcing.start, **rounded)


def _met_bounds(truth: xr.Dataset) -> tuple[float, float, float, float]:
    import json

    west, res, _, north, _, _ = json.loads(truth.attrs["met_lattice_transform"])
    ny, nx = json.loads(truth.attrs["met_lattice_shape"])
    return west, north - ny * res, west + nx * res, north


def test_truth_is_reproduced_from_the_written_files(site_world: Path) -> None:
    """ERA5 files + truth tiles and parameters -> the same daily truth and, through the
    footprint operators on the read-back footprints, the same noise-free observations."""
    truth = _truth(site_world)
    forcing = _forcing_from_files(site_world, truth)
    tiles = make_tiles(truth["tile_pft_name"].values.tolist(), truth["tile_fraction"].values,
                       truth["tile_latitude"].values, truth["tile_longitude"].values,
                       "sandy_loam", cell=truth["tile_cell"].values, full_cover=False)
    parameters = truth["parameter_true"].values
    operator = truth["operator_parameter_true"].values
    config = load_config("majadas-site")
    grid = config.region.model_grid()
    fractions = sparse.csr_matrix(
        (truth["tile_fraction"].values, (truth["tile_cell"].values, np.arange(2))),
        shape=(1, 2))
    observations = []
    for stream, folder, read in (("sif743", "troposif", read_troposif),
                                 ("sm_surface", "smos_l2", read_smos_l2sm),
                                 ("vod", "smos_l2", read_smos_l2sm)):
        table = _truth(site_world, f"obs/{stream}")
        cells = []
        names = table["source_file"].values[table["source"].values]
        sources = list(dict.fromkeys(names))
        assert sources == sorted(sources)  # chronological file names, written in order
        for source in sources:
            observed = read(site_world / folder / source, stream)
            if stream == "sif743":
                weights = quad_weights(grid, observed["corner_longitude"].values,
                                       observed["corner_latitude"].values)
            else:
                radius = observed["footprint_semi_major_km"].values
                weights = ellipse_weights(grid, observed["longitude"].values,
                                          observed["latitude"].values, radius, radius, 0.0)
            cells.append(weights.weights)
        cell_weights = sparse.vstack(cells, format="csr")
        hours = ((table["time"].values - np.datetime64("2015-01-01T00:00"))
                 // np.timedelta64(1, "h")).astype(np.int64)
        observations.append((stream, table, FootprintObservations(
            stream, hours, cell_weights @ fractions, np.zeros(hours.size))))
    sampled = sample_observations(2, forcing.n_hour, [o for _, _, o in observations])
    result = run_forward(tiles, parameters, forcing, SpinUp(years=0), samples=sampled.samples)
    np.testing.assert_allclose(result.daily[:, :, 0], truth["gpp"].values, rtol=2e-6,
                               atol=1e-6)
    parts = partial_sums(sampled, result.snapshots, operator)
    for (stream, table, _), part in zip(observations, parts, strict=True):
        assert part.stream == stream
        simulated = complete(PartialSums(stream, part.sums, part.weights))
        np.testing.assert_allclose(simulated, table["value_true"].values, rtol=1e-5,
                                   atol=1e-7)


def test_same_seed_gives_identical_files_other_seed_differs(site_world: Path,
                                                             tmp_path: Path) -> None:
    again = tmp_path / "again"
    _synth(again)

    def digests(root: Path) -> dict[str, str]:
        return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(root.rglob("*")) if p.is_file()}

    first, second = digests(site_world), digests(again)
    assert first.keys() == second.keys() and len(first) > 40
    assert first == second
    other = tmp_path / "other"
    _synth(other, extra=("--set", "synth.seed=7"))
    third = digests(other)
    products = [k for k in first.keys() & third.keys() if not k.startswith("truth.zarr")]
    assert len(products) > 20
    assert sorted(k for k in products if first[k] == third[k]) == []


def test_gridded_products_and_the_tower_over_half_a_year(tmp_path: Path) -> None:
    out = tmp_path / "half"
    assert main(["synth", "majadas-site", "--out", str(out), "--set", "period.end=2015-07-02",
                 "--set", "period.spinup_years=0", "--set",
                 "synth.products=[jrc_tip,cci_biomass,fluxnet]", "--quiet"]) == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "cci_biomass", "era5", "fluxnet", "jrc_tip", "landcover", "truth.zarr"]
    agb = read_cci_biomass(out / "cci_biomass" / "ESACCI-BIOMASS-L4-AGB-MERGED-100m-2015-"
                                                 "fv4.0.nc")
    truth_agb = _truth(out, "agb")["value_true"].values[0]
    assert agb.sizes["obs"] == truth_agb.size  # 1/1125 degree pixels of the site cell
    z = (agb["value"].values - truth_agb.ravel()) / agb["agb_sd_product"].values
    assert abs(z.std() - 1.0) < 0.1 and 0.0 < truth_agb.mean() < 300.0
    tip = read_jrc_tip(out / "jrc_tip" / "JRC-TIP_FAPAR_2015.nc")
    truth_tip = _truth(out, "fapar")
    assert truth_tip.sizes["epoch"] == 22  # composites with their middle in the period
    assert tip.sizes["obs"] == 22 * 25 * 25
    z = (tip["value"].values - truth_tip["value_true"].values.ravel()) / tip["sigma"].values
    assert abs(z.std() - 1.0) < 0.05
    hh = read_fullset(out / "fluxnet" / "FLX_ES-LM1_FLUXNET2015_FULLSET_HH_2015-2015_1-4.csv")
    tower = _truth(out, "tower")
    nee_true = np.repeat(tower["nee"].values, 2) / (12.011e-6 * 86400.0)
    measured = hh["NEE_VUT_REF_QC"].to_numpy()[2:2 + nee_true.size] == 0
    z = ((hh["NEE_VUT_REF"].to_numpy()[2:2 + nee_true.size] - nee_true)
         / hh["NEE_VUT_REF_RANDUNC"].to_numpy()[2:2 + nee_true.size])[measured]
    assert z.size > 3000 and abs(z.std() - 1.0) < 0.06
    daily = daily_observed_fluxes(out / "fluxnet" /
                                  "FLX_ES-LM1_FLUXNET2015_FULLSET_DD_2015-2015_1-4.csv")
    truth = _truth(out)
    cell_gpp = (truth["gpp"] * truth["tile_fraction"]).sum("tile").values
    observed = daily["gpp"].values[1:-1]
    assert np.nanmean(np.abs(observed - cell_gpp[1:observed.size + 1])) < \
        0.5 * np.mean(cell_gpp) + 0.5


def test_a_small_lapland_box_has_land_cover_tiles(tmp_path: Path) -> None:
    out = tmp_path / "lapland"
    _synth(out, "lapland-0.25deg", ("--set", "region.size_km=60", "--set",
                                    "period.end=2015-01-04", "--set",
                                    "synth.products=[smos_l2]"))
    truth = _truth(out)
    assert set(truth["tile_pft_name"].values) <= {"EvCn", "EShr", "TunV", "WetV"}
    assert {"EvCn", "EShr"} <= set(truth["tile_pft_name"].values)
    assert np.unique(truth["tile_cell"].values).size > 20
    assert truth.sizes["met"] == np.unique(truth["tile_cell"].values).size
    per_cell = np.bincount(truth["tile_cell"].values, truth["tile_fraction"].values)
    present = per_cell[np.unique(truth["tile_cell"].values)]
    assert np.all(present <= 1 + 1e-12) and present.mean() > 0.8
    vod = _truth(out, "obs/vod")
    assert vod.sizes["obs"] > 100
    assert 0.05 < float(vod["value_true"].mean()) < 1.5
    t2m = open_era5(sorted((out / "era5").iterdir()))["t2m"]
    assert float(t2m.std(("latitude", "longitude")).mean()) > 0.3
    # the invariant geopotential is the relief the weather was made on
    config = load_config("lapland-0.25deg")
    relief = open_era5_geopotential(out / "era5" / "ERA5_geopotential.nc")
    lon, lat = np.meshgrid(relief["longitude"].values, relief["latitude"].values)
    np.testing.assert_allclose(relief.values, elevation(config.region.site_info,
                                                        config.synth.seed, lon, lat),
                               rtol=0, atol=1e-3)
    # the tiles' soils are the majority classes of the written soil map
    soil_map = out / "soil" / soil_texture_file_name()
    grid = load_config("lapland-0.25deg", ["region.size_km=60"]).region.model_grid()
    classes = soil_class_on_grid(soil_map, grid, "sand").values.ravel()
    assert list(truth["tile_soil"].values) == [SOIL_NAMES[c] for c in
                                               classes[truth["tile_cell"].values]]
    assert len(set(truth["tile_soil"].values)) > 1


@pytest.mark.parametrize(("argv", "message"), [
    (["synth", "no-such-config", "--out", "{tmp}/x"], "configuration 'no-such-config'"),
    (["synth", "majadas-site", "--out", "{tmp}/x", "--set", "period.end=notadate"],
     "period.end"),
    (["synth", "majadas-site", "--out", "{tmp}/x", "--set", "synth.truth_spread=9"],
     "synth.truth_spread"),
    (["synth", "majadas-site", "--out", "{tmp}/x", "--set", "synth.seed"], "--set"),
    (["synth", "majadas-site", "--out", "{tmp}/file.txt/raw"], "cannot write"),
    (["synth", "majadas-site", "--out", "{tmp}/data"], "not an earlier 'tccas synth'"),
])
def test_bad_input_is_one_line_and_status_2(argv: list[str], message: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file.txt").write_text("not a folder")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "precious.csv").write_text("1,2,3")
    status = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    captured = capsys.readouterr()
    assert status == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tccas: error: ")
    assert message in lines[0]
    assert (tmp_path / "data" / "precious.csv").read_text() == "1,2,3"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "file.txt"]


def test_batched_partial_sums_equal_one_call(monkeypatch: pytest.MonkeyPatch) -> None:
    import tccas.pipeline.synth as synth

    rng = np.random.default_rng(5)
    n_tile, n_hour = 3, 48
    weights = sparse.random(40, n_tile, density=0.6, random_state=3, format="csr")
    weights.data += 0.1
    observations = [FootprintObservations(stream, rng.integers(0, n_hour, 40), weights,
                                          rng.uniform(0, 0.2, 40))
                    for stream in ("sif743", "vod")]
    sampled = sample_observations(n_tile, n_hour, observations)
    snapshots = np.abs(rng.normal(1.0, 0.3, (sampled.samples.hours.size, 41)))
    operator = np.array([2e-4, 1.2, 2e-4, 2.0, 0.4, 1.0])
    whole = partial_sums(sampled, snapshots, operator)
    monkeypatch.setattr(synth, "MAX_ENTRIES", 3)
    batched = synth._partial_sums(sampled, snapshots, operator)
    for one, many in zip(whole, batched, strict=True):
        assert one.stream == many.stream
        np.testing.assert_allclose(many.sums, one.sums, rtol=1e-14)
        np.testing.assert_allclose(many.weights, one.weights, rtol=1e-14)
