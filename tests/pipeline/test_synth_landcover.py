"""Land cover of a regional twin, from the synthetic landscape to the catalogue's tiles:
``lapland-0.25deg`` reduced to 100 km x 100 km and three January days. The synth writes
the CCI LC PFT file and its LCCS class map; the ingest maps them to the same tiles as the
synth's truth, with the four Lapland PFTs EvCn, EShr, TunV and WetV."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from tccas.catalog.catalogue import open_catalogue
from tccas.catalog.cci_landcover import cci_landcover_file_name
from tccas.catalog.cci_lccs import lccs_file_name, read_lccs_map
from tccas.catalog.era5 import open_era5_geopotential
from tccas.catalog.soil_texture import soil_texture_file_name
from tccas.model.parameters import PFTS
from tccas.pipeline.config import load_config
from tccas.pipeline.ingest import run_ingest
from tccas.pipeline.synth import synthesize

REDUCED = ["region.size_km=100", "period.end=2015-01-03", "period.spinup_years=0",
           "synth.products=[troposif]"]
PFT_NAME = {pft.code: pft.short for pft in PFTS}


def catalogue_tiles(path: Path) -> list[tuple[int, str, float]]:
    """(grid cell, PFT, cover fraction) of every tile of a catalogue, sorted."""
    catalogue = open_catalogue(path)
    tiles = []
    for block in catalogue.blocks:
        block_tiles, cells = catalogue.block_tiles(block)
        tiles += [(int(cells[c]), PFT_NAME[int(p)], float(f)) for c, p, f in zip(
            block_tiles.cell, block_tiles.pft, block_tiles.cover_fraction, strict=True)]
    return sorted(tiles)


@pytest.fixture(scope="module")
def lapland(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    folder = tmp_path_factory.mktemp("lapland-landcover")
    config = load_config("lapland-0.25deg", REDUCED)
    synthesize(config, folder / "raw", log=lambda message: None)
    report = run_ingest(config, folder / "raw", folder / "cat.zarr", show_progress=False)
    return folder, report


def test_synth_writes_the_pft_file_and_its_class_map(lapland) -> None:
    folder, _ = lapland
    assert sorted(p.name for p in (folder / "raw" / "landcover").iterdir()) == [
        lccs_file_name(2015), cci_landcover_file_name(2015)]
    classes = read_lccs_map(folder / "raw" / "landcover" / lccs_file_name(2015))
    assert {70, 140, 180} <= set(np.unique(classes.values).tolist())


def test_ingested_tiles_are_the_truth_tiles_with_the_four_lapland_pfts(lapland) -> None:
    folder, report = lapland
    ingested = catalogue_tiles(folder / "cat.zarr")
    truth = xr.open_zarr(folder / "raw" / "truth.zarr", consolidated=True)
    expected = sorted(zip(truth["tile_cell"].values.tolist(),
                          [str(name) for name in truth["tile_pft_name"].values],
                          truth["tile_fraction"].values.tolist(), strict=True))
    assert {pft for _, pft, _ in ingested} == {"EvCn", "EShr", "TunV", "WetV"}
    assert [tile[:2] for tile in ingested] == [tile[:2] for tile in expected]
    # equal far inside the 0.005 of the percent encoding: the same file, the same mapping
    np.testing.assert_allclose([f for *_, f in ingested], [f for *_, f in expected],
                               rtol=0.0, atol=1e-9)
    counts = {pft: sum(1 for _, name, _ in ingested if name == pft)
              for pft in ("EvCn", "EShr", "TunV", "WetV")}
    assert counts["EvCn"] == 55 and counts["EShr"] > 45  # of the 55 cells (5 x 11)
    assert counts["WetV"] > 20 and counts["TunV"] >= 3
    static = open_catalogue(folder / "cat.zarr").static()
    assert static.attrs["source"] == (f"{cci_landcover_file_name(2015)} with "
                                      f"{lccs_file_name(2015)}")
    assert not [note for note in report.notes if "LCCS" in note]


def test_without_the_class_map_the_ingest_says_so_and_maps_no_wetland(
        lapland, tmp_path: Path) -> None:
    folder, _ = lapland
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(folder / "raw" / "landcover" / cci_landcover_file_name(2015), raw)
    config = load_config("lapland-0.25deg", REDUCED)
    report = run_ingest(config, raw, tmp_path / "cat.zarr", show_progress=False)
    assert (f"{cci_landcover_file_name(2015)}: no LCCS class map of its year beside it: no "
            "wetland (WetV) cover, tundra (TunV) only in the polar zone") in report.notes
    tiles = catalogue_tiles(tmp_path / "cat.zarr")
    assert {pft for _, pft, _ in tiles} == {"EvCn", "EShr", "C3Gr"}
    # the class map only re-assigns shrubs and grass: per cell, the static maps (float32)
    # agree
    plain = open_catalogue(tmp_path / "cat.zarr").static()["pft_fraction"]
    refined = open_catalogue(folder / "cat.zarr").static()["pft_fraction"]
    code = {pft.short: pft.code for pft in PFTS}
    np.testing.assert_allclose(
        plain.sel(pft=[code["EShr"], code["C3Gr"]]).sum("pft").values,
        refined.sel(pft=[code["EShr"], code["TunV"], code["WetV"]]).sum("pft").values,
        rtol=0.0, atol=2e-7)
    np.testing.assert_array_equal(plain.sel(pft=code["EvCn"]).values,
                                  refined.sel(pft=code["EvCn"]).values)
    # the class map arriving later counts in the PFT file's checksum: the file is
    # ingested again with it, and then once is enough
    shutil.copy(folder / "raw" / "landcover" / lccs_file_name(2015), raw)
    again = run_ingest(config, raw, tmp_path / "cat.zarr", show_progress=False)
    assert again.changed
    assert [f.product for f in again.of_status("ingested")] == ["cci_landcover"]
    assert catalogue_tiles(tmp_path / "cat.zarr") == catalogue_tiles(folder / "cat.zarr")
    assert not run_ingest(config, raw, tmp_path / "cat.zarr", show_progress=False).changed


def test_ingested_soils_and_elevation_are_those_of_the_truth(lapland) -> None:
    folder, report = lapland
    assert {"soil_texture", "era5_geopotential"} <= {
        f.product for f in report.of_status("ingested")}
    catalogue = open_catalogue(folder / "cat.zarr")
    truth = xr.open_zarr(folder / "raw" / "truth.zarr", consolidated=True)
    soils = {}
    for block in catalogue.blocks:
        block_tiles, cells = catalogue.block_tiles(block)
        for cell, pft, soil in zip(cells[block_tiles.cell], block_tiles.pft, block_tiles.soil,
                                   strict=True):
            soils[int(cell), PFT_NAME[int(pft)]] = soil
    expected = {(int(c), str(p)): str(s) for c, p, s in zip(
        truth["tile_cell"].values, truth["tile_pft_name"].values, truth["tile_soil"].values,
        strict=True)}
    assert soils == expected
    assert {"sand", "loamy_sand"} <= set(soils.values())
    static = catalogue.static()
    assert static.attrs["soil"].startswith(soil_texture_file_name())
    assert static["soil_class"].attrs["n_fallback_cells"] == 0
    # the ERA5 relief at the 0.25 degree cell centres: the mean of the four corners
    relief = open_era5_geopotential(folder / "raw" / "era5" / "ERA5_geopotential.nc")
    grid = catalogue.grid
    corners = relief.interp(latitude=xr.DataArray(grid.y, dims="y"),
                            longitude=xr.DataArray(grid.x, dims="x"))
    np.testing.assert_allclose(static["elevation"].values, corners.values, rtol=1e-6)
    assert 40.0 <= float(static["elevation"].min()) < float(static["elevation"].max()) < 900.0
