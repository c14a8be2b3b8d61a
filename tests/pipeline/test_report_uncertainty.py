"""Posterior store of the twin problem and the tables and figures of tccas uncertainty."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.image import imread

from tccas.model.errors import TccasInputError
from tccas.pipeline.assimilate import jacobian_from_store, posterior_dataset
from tccas.pipeline.config import OptimiserConfig, load_config
from tccas.pipeline.cost import CostFunction
from tccas.pipeline.optimise import minimise
from tccas.pipeline.report_uncertainty import write_report
from tccas.pipeline.simulate import write_zarr_atomic
from tccas.pipeline.uncertainty import jacobian, posterior_covariance_z


@pytest.fixture(scope="module")
def posterior(twin, tmp_path_factory):
    control, streams, loaders, _ = twin
    cost = CostFunction(control, streams, loaders)
    result = minimise(cost, OptimiserConfig(max_iterations=100, gradient_tolerance=1e-4),
                      log=lambda _line: None)
    jac = jacobian(cost, result.z, window_start_day=0)
    root, groups = posterior_dataset(load_config("majadas-site"), control, result.record,
                                     "twin", "complete", result, jac)
    path = tmp_path_factory.mktemp("posterior") / "posterior.zarr"
    write_zarr_atomic(root, path, groups)
    return path, control, result, jac


def test_posterior_store_layout(posterior):
    path, control, result, _ = posterior
    ds = xr.open_zarr(path)
    assert list(ds["name"].values) == list(control.names)
    assert ds["A"].shape == (control.n, control.n)
    assert list(ds["term"].values) == ["prior", "sif743", "vod", "sm_surface", "fapar",
                                       "total"]
    assert ds["cost"].shape == (len(result.record.iterations), 6)
    np.testing.assert_allclose(ds["cost"].values[:, -1],
                               [result.record.cost[i] for i in result.record.iterations])
    np.testing.assert_allclose(ds["x_post"].values, control.x_from_z(result.z))
    assert ds.attrs["status"] == "complete" and "name: majadas-site" in ds.attrs["config_yaml"]
    assert np.all(ds["sigma_post"].values <= ds["sigma_prior"].values
                  * np.exp(control.spread * np.abs(result.z)) * (1 + 1e-12))
    jac, _ = jacobian_from_store(path)
    np.testing.assert_array_equal(jac.z, result.z)


def test_tables_and_figures(posterior, tmp_path):
    path, control, _, jac = posterior
    written = write_report(path, tmp_path, leave_one_out=True)
    assert {p.name for p in written} == {
        "controls.csv", "targets.csv", "correlation.csv", "correlation.png",
        "uncertainty_reduction.png", "leave_one_out.csv", "leave_one_out.png"}
    controls = pd.read_csv(tmp_path / "controls.csv")
    ds = xr.open_zarr(path)
    np.testing.assert_allclose(controls["uncertainty_reduction"],
                               ds["uncertainty_reduction"].values, rtol=1e-9)
    loo = pd.read_csv(tmp_path / "leave_one_out.csv").set_index("experiment")
    assert list(loo.index) == ["all", "without_sif743", "without_vod", "without_sm_surface",
                               "without_fapar"]
    without_vod = 1.0 - np.sqrt(np.diag(posterior_covariance_z(
        jac, ["sif743", "sm_surface", "fapar"])))
    np.testing.assert_allclose(loo.loc["without_vod", list(control.names)], without_vod,
                               rtol=1e-9, atol=1e-12)
    # leaving VOD out loses what only VOD sees: its operator coefficients
    assert loo.loc["without_vod", "vod_l_wd"] < 0.5 * loo.loc["all", "vod_l_wd"]
    for name in ("correlation.png", "leave_one_out.png"):
        image = imread(tmp_path / name)
        assert image.ndim == 3 and image.shape[0] > 300


def test_unfinished_or_missing_store_is_a_clear_error(tmp_path, posterior):
    with pytest.raises(TccasInputError, match="not a complete posterior store"):
        write_report(tmp_path / "nothing.zarr", tmp_path / "out")
