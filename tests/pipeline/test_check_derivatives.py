"""``tccas check-derivatives``: the report, the JSON fields and the exit status."""

import json

import numpy as np

from tccas.model.adjoint import run_adjoint
from tccas.model.driver import SpinUp
from tccas.pipeline.cli import main
from tccas.pipeline.simulate import site_simulation


def test_check_derivatives_one_year(capsys):
    code = main(["check-derivatives", "--site", "majadas", "--years", "1", "--seed", "3",
                 "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    for group in ("photosynthesis", "water", "allocation", "turnover", "phenology",
                  "initial pools", "dot product"):
        assert group in out
    report = json.loads(out.strip().splitlines()[-1])
    assert report["passed"] and report["seed"] == 3
    assert report["taylor_min_rel_error"] < 1e-6
    assert report["dot_product_rel_error"] < 1e-12
    for key in ("forward_seconds", "adjoint_seconds", "tangent_seconds_per_direction"):
        assert report[key] > 0.0


def test_check_derivatives_rejects_other_sites(capsys):
    assert main(["check-derivatives", "--site", "reusel"]) == 2
    assert "majadas or sodankyla" in capsys.readouterr().err


def test_gradients_finite_through_polar_night_and_snow_onset():
    """October to January at Sodankyla: snow onset, freezing root zone, polar night."""
    simulation = site_simulation("sodankyla", "2015-10-01", "2016-01-31")
    seeds = np.ones((2, simulation.forcing.n_hour // 24, 3))
    gradient = run_adjoint(simulation.tiles, simulation.parameters, simulation.forcing,
                           SpinUp(0, 0), outputs=("nee", "snow_water", "fapar"),
                           daily_b=seeds).parameters_b
    assert np.all(np.isfinite(gradient))
    assert np.any(gradient != 0.0)
