"""Shared fixtures. Tests that need ../shared/data skip with a clear reason where it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def shared_data_dir() -> Path | None:
    """../shared/data beside the clone, or $AVELLINO_SHARED_DATA; None when neither exists."""
    env = os.environ.get("AVELLINO_SHARED_DATA")
    for candidate in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data"]:
        if candidate.is_dir():
            return candidate
    return None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if path is None:
        pytest.skip("../shared/data is not beside this clone (public data sets are not shipped in the repo)")
    return path


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES
