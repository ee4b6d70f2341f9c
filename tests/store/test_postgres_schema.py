"""The PostgreSQL schema: set up and upgraded by `avellino init` (numbered migrations), only checked when a store
opens, with unique keys for statements and batches. Runs against the real server of AVELLINO_TEST_PG_URL."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pytest

from avellino.errors import BatchExists, StoreError
from avellino.store.postgres_migrations import MIGRATIONS, SCHEMA_VERSION
from avellino.store.postgres_schema import migrate
from avellino.store.postgres_store import PostgresStore
from tests.conftest import FIXTURES, PG_URL, pg_schema_url
from tests.statements import batch, statement_row, statement_table

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not PG_URL, reason="AVELLINO_TEST_PG_URL is not set (CI starts PostgreSQL and sets it)"),
]

#: The batch the v1 fixture holds twice, as two concurrent writers of the old code could leave it.
DUPLICATE_BATCH = "dup0concurrent0writer0of0persons"


def avellino(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "avellino"
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "avellino.cli"]
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("AVELLINO_STORE_URL", None)
    return subprocess.run([*command, *args], env=env, capture_output=True, text=True)


def query(url: str, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(url, autocommit=True) as con:
        cur = con.execute(sql, params)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []


@pytest.fixture()
def v1_url() -> str:
    """A schema holding a workspace in the un-versioned layout the first backend created (a SQL fixture)."""
    url = pg_schema_url(init=False)
    with psycopg.connect(url, autocommit=True) as con:
        con.execute((FIXTURES / "store" / "postgres_v1.sql").read_text(encoding="utf-8"))  # type: ignore[arg-type]
    return url


def test_migrations_are_numbered_in_order() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))
    assert len({m.name for m in MIGRATIONS}) == len(MIGRATIONS)


def test_a_v1_workspace_is_upgraded_by_init_and_reads_back_the_same(v1_url: str) -> None:
    before = query(v1_url, f"SELECT * FROM statements WHERE batch_id <> '{DUPLICATE_BATCH}' ORDER BY id")
    assert len(before) == 58 and len(query(v1_url, "SELECT * FROM stmt")) == 58 + 29  # the copy is there
    columns = [c for (c,) in query(v1_url, "SELECT attname FROM pg_attribute WHERE attrelid = 'statements'::regclass "
                                           "AND attnum > 0 ORDER BY attnum")]  # fmt: skip

    with pytest.raises(StoreError, match="schema version 1; this Avellino needs .*init --upgrade"):
        PostgresStore(v1_url)
    refused = avellino("init", "--workspace", v1_url)
    assert refused.returncode == 1 and "--upgrade" in refused.stderr and "Nothing was changed" in refused.stderr
    assert query(v1_url, "SELECT to_regclass('schema_version')") == [(None,)]

    done = avellino("init", "--upgrade", "--workspace", v1_url)
    assert done.returncode == 0, done.stderr
    assert f"schema version {SCHEMA_VERSION} (upgraded from 1)" in " ".join(done.stderr.split())
    assert "avellino:avellino@" not in done.stderr  # the password is never printed

    with PostgresStore(v1_url) as store:
        after = store.read_statements().to_pylist()
        assert sorted(after, key=lambda r: r["id"]) == [dict(zip(columns, row, strict=True)) for row in before]
        assert [b.batch_id for b in store.batches()] != [] and DUPLICATE_BATCH not in {
            b.batch_id for b in store.batches()
        }
        assert len(store.batches()) == 3
        judgements = store.read_table("judgements")
        assert judgements is not None and judgements.num_rows == 1
        merged = {r["canonical_id"] for r in after if r["schema"] == "Person"}
        assert len(merged) == 5  # two of the six persons were resolved into one, and still are
    assert [v for (v,) in query(v1_url, "SELECT version FROM schema_version ORDER BY 1")] == list(
        range(1, SCHEMA_VERSION + 1)
    )
    again = avellino("init", "--workspace", v1_url)
    assert again.returncode == 0 and "(already current)" in again.stderr


def test_opening_runs_no_ddl_and_writes_nothing() -> None:
    url = pg_schema_url()
    oids = "SELECT 'prop_types'::regclass::oid, 'statements'::regclass::oid"
    first = query(url, oids)
    # every transaction of this connection is read-only: any DDL or write at open would fail
    with PostgresStore(f"{url}%20-cdefault_transaction_read_only%3Don") as store:
        assert store.count_statements() == 0
    assert query(url, oids) == first


def test_an_empty_schema_asks_for_init() -> None:
    with pytest.raises(StoreError, match="No Avellino workspace.*avellino init --workspace"):
        PostgresStore(pg_schema_url(init=False))
    nowhere = f"{PG_URL}?options=-csearch_path%3Dno_such_schema"
    with pytest.raises(StoreError, match="no schema on the search_path \\(no_such_schema\\)"):
        PostgresStore(nowhere)
    with psycopg.connect(nowhere, autocommit=True) as con, pytest.raises(StoreError, match="no schema"):
        migrate(con, "test")


def test_a_newer_or_stale_schema_is_refused() -> None:
    url = pg_schema_url()
    query(url, "UPDATE prop_types SET prop_type = 'text' WHERE schema = 'Person' AND prop = 'birthDate'")
    with pytest.raises(StoreError, match="property types of another version.*init --upgrade"):
        PostgresStore(url)
    with psycopg.connect(url, autocommit=True) as con:
        assert migrate(con, "test") == (SCHEMA_VERSION, SCHEMA_VERSION)  # refreshes the catalogue
    PostgresStore(url).close()
    query(url, "INSERT INTO schema_version (version, name) VALUES (%s, 'from the future')", (SCHEMA_VERSION + 1,))
    with pytest.raises(StoreError, match="newer Avellino"):
        PostgresStore(url)
    with psycopg.connect(url, autocommit=True) as con, pytest.raises(StoreError, match="newer Avellino"):
        migrate(con, "test", upgrade=True)


def _rows(n: int) -> pa.Table:
    return statement_table([statement_row(f"e{i}", "name", f"Name {i}") for i in range(n)])


def test_a_file_written_by_two_writers_at_once_is_one_batch() -> None:
    url = pg_schema_url()
    stores = [PostgresStore(url) for _ in range(8)]
    start = threading.Barrier(len(stores))
    outcomes: list[object] = []

    def write(i: int) -> None:
        start.wait()
        try:
            outcomes.append(stores[i].write_batch(batch(f"b{i}", sha="same-file"), _rows(200)))
        except BatchExists as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(len(stores))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(o for o in outcomes if isinstance(o, int)) == [200]
    refused = [o for o in outcomes if isinstance(o, BatchExists)]
    assert len(refused) == 7 and len({e.batch_id for e in refused}) == 1
    assert stores[0].counts() == {"statements": 200, "batches": 1}
    for s in stores:
        s.close()


def test_a_derived_table_keeps_its_table_while_its_rows_are_replaced() -> None:
    url = pg_schema_url()
    with PostgresStore(url) as store:
        store.write_table("clusters", pa.table({"entity_id": ["a", "b"], "cluster": [1, 1]}))
        oid = query(url, "SELECT 'x_clusters'::regclass::oid")
        store.write_table("clusters", pa.table({"entity_id": ["c"], "cluster": [2]}))
        assert query(url, "SELECT 'x_clusters'::regclass::oid") == oid  # no DROP: readers never waited
        assert store.read_table("clusters") == pa.table({"entity_id": ["c"], "cluster": [2]})
        store.write_table("clusters", pa.table({"entity_id": ["d"], "size": [1.5]}))  # new columns: a new table
        assert store.read_table("clusters") == pa.table({"entity_id": ["d"], "size": [1.5]})
