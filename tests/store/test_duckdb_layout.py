"""The DuckDB backend's keyed layout: workspaces written by the first (string-keyed) layout are upgraded in place,
and keys stay stable as batches are added."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from avellino.errors import StoreError
from avellino.store.duckdb_store import DB_FILE, DuckDBStore
from tests.statements import batch, statement_row, statement_table

V1_TABLES = [
    "CREATE TABLE stmt (entity_id VARCHAR, schema VARCHAR, prop VARCHAR, value VARCHAR, original_value VARCHAR, "
    "source_row BIGINT, marking_id VARCHAR, batch_id VARCHAR)",
    "CREATE TABLE markings (marking_id VARCHAR, originator VARCHAR, handling_code VARCHAR, handling_note VARCHAR, "
    "tlp VARCHAR, evaluation VARCHAR, subject_category VARCHAR, retention_review DATE)",
    "CREATE TABLE batches (batch_id VARCHAR, source VARCHAR, file_sha256 VARCHAR, mapping_sha256 VARCHAR, "
    "rows BIGINT, statements BIGINT, imported_at TIMESTAMP)",
    "CREATE TABLE canon (entity_id VARCHAR, canonical_id VARCHAR)",
    "CREATE TABLE prop_types (schema VARCHAR, prop VARCHAR, prop_type VARCHAR)",
    "INSERT INTO markings VALUES ('m1', 'UK-NCA', 'H2', NULL, 'AMBER', 'B2', 'victim', DATE '2027-01-01')",
    "INSERT INTO batches VALUES ('b1', 'data/uk.csv', 'f', 'm', 2, 3, TIMESTAMP '2026-01-01 10:00:00')",
    "INSERT INTO stmt VALUES ('uk-1', 'Person', 'id', 'uk-1', NULL, 2, 'm1', 'b1'), "
    "('uk-1', 'Person', 'name', 'Mohamed Ali', 'MOHAMED  ALI', 2, 'm1', 'b1'), "
    "('uk-2', 'Person', 'name', 'Ahmad Zia', NULL, 3, 'm1', 'b1')",
    "INSERT INTO canon VALUES ('uk-2', 'uk-1')",
]


def test_first_layout_is_upgraded_in_place(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / DB_FILE))
    for sql in V1_TABLES:
        con.execute(sql)
    con.close()
    with DuckDBStore(tmp_path) as store:
        rows = store.read_statements(columns=["entity_id", "canonical_id", "prop", "value", "original_value",
                                              "source_record", "subject_category", "batch_id"]).to_pylist()  # fmt: skip
        assert sorted((r["entity_id"], r["prop"], r["value"]) for r in rows) == [
            ("uk-1", "id", "uk-1"),
            ("uk-1", "name", "Mohamed Ali"),
            ("uk-2", "name", "Ahmad Zia"),
        ]
        assert {r["canonical_id"] for r in rows} == {"uk-1"}
        assert {r["source_record"] for r in rows} == {"uk.csv:2", "uk.csv:3"}
        assert {r["subject_category"] for r in rows} == {"victim"}
        assert {r["batch_id"] for r in rows} == {"b1"}
        assert [b.batch_id for b in store.batches()] == ["b1"]
        # the upgraded workspace takes new batches (other markings make a new fact), and recognises repeats
        again = statement_table([statement_row("uk-2", "name", "Ahmad Zia", category="victim", handling="H2")])
        assert store.write_batch(batch("b2", "g"), again) == 1
        assert store.write_batch(batch("b3", "h"), again) == 0
        assert store.count_statements() == 4


def test_keys_are_stable_when_batches_are_added(tmp_path: Path) -> None:
    with DuckDBStore(tmp_path, create=True) as store:
        store.write_batch(batch("b1", "f"), statement_table([statement_row("e1", "name", "A")]))
        first = store.con.execute("SELECT entity_key FROM entities WHERE entity_id = 'e1'").fetchall()
        store.write_batch(batch("b2", "g"), statement_table([statement_row("e2", "name", "B"),
                                                             statement_row("e1", "name", "A")]))  # fmt: skip
        assert store.con.execute("SELECT entity_key FROM entities WHERE entity_id = 'e1'").fetchall() == first
        keys = store.con.execute("SELECT entity_key FROM entities ORDER BY entity_key").fetchall()
        assert len(keys) == len(set(keys)) == 2
        assert store.count_statements() == 2  # e1's name was stored already


def test_second_layout_is_upgraded_and_repeats_still_recognised(tmp_path: Path) -> None:
    rows = [statement_row("e1", "id", "e1"), statement_row("e1", "name", "A")]
    with DuckDBStore(tmp_path, create=True) as store:
        store.write_batch(batch("b1", "f"), statement_table(rows))
        # the id statement's value is not stored (the entity id is), yet reads give it back
        stored = store.con.execute("SELECT count(*) FROM stmt WHERE value IS NULL").fetchall()[0][0]
        assert stored == 1
        # turn the workspace back into layout 2, which stored id values
        store.con.execute(
            "UPDATE stmt SET value = (SELECT entity_id FROM entities e WHERE e.entity_key = stmt.entity_key) "
            "WHERE value IS NULL"
        )
        store.con.execute("UPDATE layout SET version = 2")
    with DuckDBStore(tmp_path) as store:
        assert store.con.execute("SELECT version FROM layout").fetchall() == [(3,)]
        assert store.con.execute("SELECT count(*) FROM stmt WHERE value IS NULL").fetchall()[0][0] == 1
        got = store.read_statements(columns=["entity_id", "prop", "value"]).to_pylist()
        assert sorted((r["prop"], r["value"]) for r in got) == [("id", "e1"), ("name", "A")]
        # the same facts again, from another file: nothing new (the id statement is recognised too)
        assert store.write_batch(batch("b2", "g"), statement_table(rows)) == 0
        assert store.count_statements() == 2


def test_newer_layout_is_refused(tmp_path: Path) -> None:
    with DuckDBStore(tmp_path, create=True) as store:
        store.con.execute("UPDATE layout SET version = 99")
    with pytest.raises(StoreError, match="newer Avellino"):
        DuckDBStore(tmp_path)
