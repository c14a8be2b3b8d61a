"""Twin-experiment benchmark (issue 6): the Majadas site experiment of SCIENCE.md run end to
end on synthetic data with a known truth, scored as a twin experiment.

``tccas synth majadas-site`` draws the true parameters and initial pools from the prior and
writes the products (TROPOSIF, SMOS L2, JRC-TIP, ...) for 2015-2021; ``tccas ingest``
builds the catalogue; ``tccas assimilate`` assimilates SIF, L-VOD, surface soil moisture
and FAPAR over 2017-2021 after the 2015-2016 spin-up, on the configured cluster. The
synthetic products carry their stated product noise and no model error, so the per-stream
model-error sigmas are set to 0 (``streams.<s>.sigma_model=0``): the observation error is
then exactly what generated the noise.

Scores (suite ``majadas-twin`` of ``tccas bench``, run only when named):

* ``twin_cost_reduction``: 1 - J(optimum) / J(prior);
* ``twin_converged``: 1 if L-BFGS-B met its tolerance;
* ``twin_chi2_per_obs``: 2 J_obs / n_obs at the optimum;
* ``twin_chi2_z``: the chi-square test. At the optimum of a linear(ised) Gaussian problem
  2 J_min (prior term included) is chi-square distributed with n_obs degrees of freedom
  (Tarantola 2005, doi:10.1137/1.9780898717921, section 6.22; Desroziers et al. 2005,
  doi:10.1256/qj.05.108), so (2 J_min - n_obs) / sqrt(2 n_obs) is about standard normal;
  |z| < 3 passes;
* ``twin_truth_within_2sigma_fraction``: fraction of the well-constrained control elements
  (uncertainty reduction above 10 %) whose truth lies within 2 posterior sigmas (target
  >= 0.9), and ``twin_n_constrained``;
* ``twin_max_sigma_ratio``: max over the control of sigma_post / sigma_prior in whitened
  space, sqrt((A_z)_ii) (<= 1 by construction); ``twin_max_sigma_ratio_physical``: the same
  in physical units, which can exceed 1 for log-normal elements moved up by the data
  (:mod:`tccas.pipeline.uncertainty`); ``twin_n_reduced_half``: elements whose sigma the
  streams at least halve; ``twin_truth_within_2sigma_fraction_halved``: the truth score over
  those;
* wall times of the three steps.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
from pathlib import Path

import numpy as np
import xarray as xr

from tccas.pipeline.cli import main

STREAMS = ("sif743", "vod", "sm_surface", "fapar")
#: The product noise is the only error of synthetic observations (module docstring).
NO_MODEL_ERROR = [arg for stream in STREAMS
                  for arg in ("--set", f"streams.{stream}.sigma_model=0")]


def _step(args: list[str]) -> float:
    """Run one ``tccas`` command quietly; its wall time [s]."""
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(args)
    if code != 0:
        raise RuntimeError(f"tccas {' '.join(args)} exited with {code}")
    return time.perf_counter() - start


def posterior_scores(posterior: xr.Dataset) -> dict[str, float]:
    """The scores of the module docstring from a posterior store."""
    total = posterior["cost"].sel(term="total").values
    j_min = float(np.nanmin(total))
    n_obs = int(posterior.attrs["n_obs"])
    reduction = posterior["uncertainty_reduction"].values
    physical = posterior["sigma_post"].values / posterior["sigma_prior"].values
    return {"twin_cost_reduction": 1.0 - j_min / float(total[0]),
            "twin_converged": float(bool(posterior.attrs["converged"])),
            "twin_iterations": float(total.size - 1),
            "twin_n_obs": float(n_obs),
            "twin_n_control": float(posterior.sizes["control"]),
            "twin_chi2_per_obs": float(posterior.attrs["chi2_per_obs"]),
            "twin_chi2_z": (2.0 * j_min - n_obs) / np.sqrt(2.0 * n_obs),
            "twin_truth_within_2sigma_fraction":
                float(posterior.attrs["truth_within_2sigma_fraction"]),
            "twin_n_constrained": float(posterior.attrs["n_constrained"]),
            "twin_truth_within_2sigma_fraction_halved":
                float(posterior.attrs["truth_within_2sigma_fraction_halved"]),
            "twin_max_sigma_ratio": float(1.0 - reduction.min()),
            "twin_max_sigma_ratio_physical": float(physical.max()),
            "twin_n_reduced_half": float(posterior.attrs["n_halved"])}


def twin_benchmark(config: str = "majadas-site", overrides: tuple[str, ...] = ()
                   ) -> dict[str, float]:
    """Synth, ingest and assimilate ``config`` in a temporary folder; its scores and
    step times."""
    settings = [arg for item in overrides for arg in ("--set", item)]
    with tempfile.TemporaryDirectory(prefix="tccas-twin-") as folder:
        work = Path(folder)
        figures = {
            "twin_synth_s": _step(["synth", config, "--out", str(work / "raw"), *settings]),
            "twin_ingest_s": _step(["ingest", config, "--raw", str(work / "raw"), "--out",
                                    str(work / "catalogue.zarr"), *settings]),
            "twin_assimilate_s": _step(["assimilate", config, "--catalogue",
                                        str(work / "catalogue.zarr"), "--out",
                                        str(work / "posterior.zarr"), *settings,
                                        *NO_MODEL_ERROR])}
        with xr.open_zarr(work / "posterior.zarr") as posterior:
            figures |= posterior_scores(posterior.load())
    return figures
