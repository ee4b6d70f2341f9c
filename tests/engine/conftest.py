"""Spark tests run only where pyspark and Java are installed (`.ci/run` installs both); elsewhere they skip with
the reason. One local session per test module: starting Spark costs seconds."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


def _skip_without_spark() -> None:
    from avellino.engine.spark import missing

    reason = missing()
    if reason:
        pytest.skip(f"Spark tests need pyspark and Java: {reason}")


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    _skip_without_spark()
    from avellino.engine import spark as engine

    session = engine.session(master="local[2]", memory="2g")
    yield session
    engine.stop()
