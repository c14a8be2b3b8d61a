"""Shared test helpers: where the real product fixtures live."""

from __future__ import annotations

import os
from pathlib import Path

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
