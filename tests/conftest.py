"""Shared fixtures. Tests that need ../shared/data skip with a clear reason where it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from avellino.settings import shared_data_dir

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if path is None:
        pytest.skip("../shared/data is not beside this clone (public data sets are not shipped in the repo)")
    return path


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES
