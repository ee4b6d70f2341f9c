"""Every flows test writes its cached forecasts into a temporary folder, never into the user's cache."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path_factory.mktemp("flows-cache")
    monkeypatch.setenv("AVELLINO_CACHE", str(folder))
    return folder
