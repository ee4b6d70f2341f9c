"""Shared fixtures. Tests that need ../shared/data skip with a clear reason where it is absent."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from avellino.settings import shared_data_dir
from avellino.store.base import Store

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


PG_URL = os.environ.get("AVELLINO_TEST_PG_URL")


def pg_schema_url(init: bool = True) -> str:
    """The URL of a new, empty schema of the test database (set up by ``avellino init``'s migrations unless
    ``init`` is false): each test gets a workspace of its own."""
    import psycopg

    from avellino.store.postgres_schema import migrate

    schema = f"t_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(str(PG_URL), autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {schema}")
    url = f"{PG_URL}?options=-csearch_path%3D{schema}"
    if init:
        with psycopg.connect(url, autocommit=True) as con:
            migrate(con, schema)
    return url


def _pg_store() -> Store:
    from avellino.store.postgres_store import PostgresStore

    return PostgresStore(pg_schema_url())


@pytest.fixture(params=["duckdb", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "duckdb":
        from avellino.store.duckdb_store import DuckDBStore

        s: Store = DuckDBStore(tmp_path / "ws", create=True)
    else:
        if not PG_URL:
            pytest.skip("AVELLINO_TEST_PG_URL is not set (CI starts PostgreSQL and sets it)")
        s = _pg_store()
    yield s
    s.close()
