"""Tower validation figures (VALIDATION.md) must not regress.

The figures were measured with the default PFT priors; the thresholds sit a little below
the recorded values so that a model change that degrades the seasonal cycle fails here.
"""

from pathlib import Path

import pytest

from tccas.pipeline.validation import TOWER_CASES, validate_tower

# recorded in VALIDATION.md: correlation of daily GPP and NEE with the tower
FLOORS = {"US-Wi7": {"gpp": 0.75, "nee": 0.40}, "DK-Fou": {"gpp": 0.45, "nee": 0.45}}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(TOWER_CASES))
def test_tower_validation_does_not_regress(name, fixture_file):
    case = TOWER_CASES[name]
    fixture_file(case.forcing)
    fixtures = Path(str(fixture_file(case.observations))).parents[1]
    figures = validate_tower(case, fixtures)
    for flux in ("gpp", "nee"):
        assert figures[flux]["n_days"] == 365
        assert figures[flux]["correlation"] >= FLOORS[name][flux], (flux, figures[flux])
    # the model's annual GPP lies within a factor of 2.5 of the tower's
    ratio = figures["gpp"]["model_total"] / figures["gpp"]["observed_total"]
    assert 0.4 <= ratio <= 2.5
