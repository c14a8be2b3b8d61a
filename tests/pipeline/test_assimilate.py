"""tccas synth -> ingest -> assimilate -> uncertainty on a short Majadas twin: the command
line end to end, the posterior store, the twin scores and --resume."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from tccas.pipeline.bench_twin import NO_MODEL_ERROR, posterior_scores
from tccas.pipeline.cli import main

PERIOD = ["--set", "period.end=2015-05-31", "--set", "period.spinup_years=0",
          "--set", "optimiser.max_iterations=60"]
# The synthetic observations carry the products' noise only, no model error: the twin's
# total sigma is the observation sigma, and chi-square per observation should be near 1.


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory):
    folder = tmp_path_factory.mktemp("twin")
    assert main(["synth", "majadas-site", "--out", str(folder / "raw"), *PERIOD]) == 0
    assert main(["ingest", "majadas-site", "--raw", str(folder / "raw"), "--out",
                 str(folder / "cat.zarr"), *PERIOD]) == 0
    return folder


def test_twin_assimilation_end_to_end(catalogue, capsys):
    out = catalogue / "posterior.zarr"
    assert main(["assimilate", "majadas-site", "--catalogue", str(catalogue / "cat.zarr"),
                 "--out", str(out), "--in-process", *PERIOD, *NO_MODEL_ERROR]) == 0
    printed = capsys.readouterr().out
    assert "iteration   0" in printed and "twin: truth within 2 sigma" in printed
    ds = xr.open_zarr(out)
    total = ds["cost"].sel(term="total").values
    assert total[-1] < 0.5 * total[0]
    assert ds.attrs["status"] == "complete"
    # the misfit at the optimum is consistent with the noise: 2 J_obs is chi-square with
    # about n_obs - n_control degrees of freedom, std sqrt(2 n_obs) (a few percent of n_obs
    # here); the band also allows the synthetic products' noise models (TIP composites,
    # DQX) to differ slightly from their stated sigmas
    assert 0.7 < ds.attrs["chi2_per_obs"] < 1.3
    assert ds.attrs["truth_within_2sigma_fraction"] >= 0.7
    assert np.all(ds["uncertainty_reduction"].values >= -1e-12)
    assert "C3Gr.vcmax25" in list(ds["name"].values)
    scores = posterior_scores(ds)
    assert scores["twin_n_obs"] == ds.attrs["n_obs"] > 100
    assert scores["twin_chi2_per_obs"] == ds.attrs["chi2_per_obs"]
    assert scores["twin_cost_reduction"] > 0.5
    assert scores["twin_max_sigma_ratio"] <= 1.0 + 1e-12
    halved = ds["uncertainty_reduction"].values >= 0.5
    assert scores["twin_n_reduced_half"] == ds.attrs["n_halved"] == halved.sum() >= 1
    assert 0.0 <= scores["twin_truth_within_2sigma_fraction_halved"] <= 1.0
    # 2 J_min at the optimum ~ chi-square(n_obs): the standardised statistic is modest
    assert abs(scores["twin_chi2_z"]) < 10.0
    assert main(["uncertainty", str(out), "--out", str(catalogue / "report"),
                 "--leave-one-out"]) == 0
    assert (catalogue / "report" / "leave_one_out.png").stat().st_size > 10_000


def test_resume_continues_to_the_same_optimum(catalogue):
    common = ["assimilate", "majadas-site", "--catalogue", str(catalogue / "cat.zarr"),
              "--in-process", *PERIOD, *NO_MODEL_ERROR]
    short = catalogue / "short.zarr"
    assert main([*common, "--out", str(short), "--set", "optimiser.max_iterations=3"]) == 0
    assert xr.open_zarr(short)["cost"].sizes["iteration"] == 4
    assert main([*common, "--out", str(short), "--resume"]) == 0
    resumed = xr.open_zarr(short)
    whole = xr.open_zarr(catalogue / "posterior.zarr")
    np.testing.assert_array_equal(resumed["x_post"].values, whole["x_post"].values)
    np.testing.assert_array_equal(resumed["cost"].values, whole["cost"].values)


def test_existing_output_without_resume_is_refused(catalogue, capsys):
    code = main(["assimilate", "majadas-site", "--catalogue", str(catalogue / "cat.zarr"),
                 "--out", str(catalogue / "posterior.zarr"), "--in-process", *PERIOD])
    assert code == 2
    assert "exists; give --resume" in capsys.readouterr().err
