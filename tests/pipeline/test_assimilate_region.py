"""A regional twin (``lapland-0.25deg`` reduced for the test suite) assimilated in one
process and on a LocalCluster of 2 workers: the same optimum.

Reduced: 60 km x 60 km instead of 500 (about 3 x 5 cells of 0.25 degree at 67 N in blocks
of 3 x 3 cells, SMOS footprints spanning blocks), January-June 2015 without spin-up
(the spin-up recycles whole calendar years, so a period starts on 1 January), TROPOSIF and
SMOS L2 only, and the leaf parameters of the Lapland PFTs.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from tccas.pipeline.bench_twin import NO_MODEL_ERROR
from tccas.pipeline.cli import main

REDUCED = ["--set", "region.size_km=60", "--set", "region.block_cells=3",
           "--set", "period.end=2015-06-30",
           "--set", "period.spinup_years=0",
           "--set", "synth.products=[troposif, smos_l2]",
           "--set", "streams.fapar.assimilate=false",
           "--set", "control.parameters=[vcmax25, lma]",
           "--set", "control.initial_pools=[c_foliage_init]",
           "--set", "control.operator_parameters=[]",
           "--set", "optimiser.max_iterations=15",
           # the synthetic products carry product noise only (tccas.pipeline.bench_twin)
           *NO_MODEL_ERROR]


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lapland")
    assert main(["synth", "lapland-0.25deg", "--out", str(folder / "raw"), *REDUCED]) == 0
    assert main(["ingest", "lapland-0.25deg", "--raw", str(folder / "raw"), "--out",
                 str(folder / "cat.zarr"), *REDUCED]) == 0
    return folder


def test_two_workers_reach_the_single_process_optimum(catalogue, capsys):
    common = ["assimilate", "lapland-0.25deg", "--catalogue", str(catalogue / "cat.zarr"),
              *REDUCED]
    assert main([*common, "--out", str(catalogue / "single.zarr"), "--in-process"]) == 0
    single_log = capsys.readouterr().out
    assert main([*common, "--out", str(catalogue / "dask.zarr"),
                 "--set", "cluster.kind=local", "--set", "cluster.workers=2"]) == 0
    dask_log = capsys.readouterr().out
    blocks = int(single_log.split(" blocks from")[0].rsplit(" over ", 1)[1])
    assert blocks >= 3, single_log
    assert f"over {blocks} blocks" in dask_log
    single, dask = xr.open_zarr(catalogue / "single.zarr"), xr.open_zarr(catalogue / "dask.zarr")
    assert single.attrs["n_obs"] == dask.attrs["n_obs"] > 500
    total = single["cost"].sel(term="total").values
    assert np.all(np.diff(total) < 0.0) and single.attrs["converged"]
    # half a year of Lapland winter and spring constrains the leaves weakly (reductions of
    # 5-35 %): the cost falls little, but the misfit is the noise's
    assert 0.95 < single.attrs["chi2_per_obs"] < 1.05
    assert single.attrs["truth_within_2sigma_fraction"] >= 0.7
    # the evaluations are bitwise equal (tests/pipeline/test_cost.py); L-BFGS-B then takes
    # the same steps, so the optimum agrees far inside its tolerance
    np.testing.assert_allclose(dask["cost"].values, single["cost"].values, rtol=1e-10)
    z_single = (single["x_post"] - single["x_prior"]) / single["sigma_prior"]
    z_dask = (dask["x_post"] - dask["x_prior"]) / dask["sigma_prior"]
    np.testing.assert_allclose(z_dask.values, z_single.values, rtol=0.0, atol=1e-6)
    np.testing.assert_allclose(dask["sigma_post"].values, single["sigma_post"].values,
                               rtol=1e-8)
    assert np.isclose(dask.attrs["chi2_per_obs"], single.attrs["chi2_per_obs"], rtol=1e-10)
