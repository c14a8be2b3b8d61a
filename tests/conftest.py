"""Shared test helpers: where the real product fixtures live, and a synthetic tower's
hourly fluxes and weather."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

FIXTURES_ENV = "TCCAS_FIXTURES"
REQUIRE_ENV = "TCCAS_REQUIRE_FIXTURES"


def fixtures_dir() -> Path:
    """The folder of real product files (env TCCAS_FIXTURES, default ../shared/fixtures)."""
    default = Path(__file__).resolve().parents[1].parent / "shared" / "fixtures"
    return Path(os.environ.get(FIXTURES_ENV, default))


@pytest.fixture(scope="session")
def fixture_file():
    """Return a function ``fixture_file("smos/SM_...nc") -> Path``.

    A missing file skips the test with the reason, unless TCCAS_REQUIRE_FIXTURES=1 (as in
    CI), where it fails instead.
    """

    def find(relative: str) -> Path:
        path = fixtures_dir() / relative
        if not path.exists():
            message = f"real fixture {path} not found (set {FIXTURES_ENV})"
            if os.environ.get(REQUIRE_ENV) == "1":
                pytest.fail(message)
            pytest.skip(message)
        return path

    return find


@pytest.fixture(scope="session")
def tower_hours():
    """Return a function ``tower_hours(n_hour) -> dict`` of the hourly truth the FLUXNET
    writer (:func:`tccas.catalog.synth.write_fluxnet`) takes: a clear-sky daily cycle of
    NEE/GPP [gC m-2 d-1] and ET, steady respiration and weather."""

    def hours(n_hour: int) -> dict[str, np.ndarray]:
        hour = np.arange(n_hour)
        daylight = np.clip(np.sin(2 * np.pi * (hour % 24 - 6) / 24), 0, None)
        steady = {"reco": 2.0, "lw_in": 300.0, "ta": 288.0, "vpd": 800.0, "pa": 98000.0,
                  "precipitation": 0.0, "ws": 2.0, "swc": 0.2}
        return {"nee": -8.0 * daylight + 2.0, "gpp": 10.0 * daylight,
                "et": 0.2 * daylight, "sw_in": 600.0 * daylight,
                **{name: np.full(n_hour, value) for name, value in steady.items()}}

    return hours
