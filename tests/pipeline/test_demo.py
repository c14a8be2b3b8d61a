"""``tccas demo``: the main job runs and writes its store, figure and summary."""

import pytest
import xarray as xr
from PIL import Image

from tccas.pipeline.cli import main


@pytest.mark.slow
def test_demo_writes_store_figure_and_summary(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "annual GPP [gC m-2 yr-1]" in out and "annual NEE" in out and "annual ET" in out
    for year in range(2015, 2022):
        assert f"  {year} " in out
    with xr.open_zarr(tmp_path / "majadas_forward.zarr") as ds:
        assert ds.sizes["time"] == 2557
        assert int(ds["spinup"].sum()) == 731
    with Image.open(tmp_path / "majadas_daily.png") as image:
        assert image.size[0] > 800 and image.size[1] > 800
