"""How the DuckDB backend lays statements out on disk: integer keys instead of repeated strings.

A statement row on disk is ``(entity_key, prop_key, value, original_value, source_row, marking_key,
batch_key)``; entity ids, (schema, property) pairs, marking sets and batches each live once in their own table
and are referred to by integer keys. The ``statements`` view joins them back into full FtM statements, so no
caller sees the keys.

Why: DuckDB compresses every column of every row group it writes, and for strings that work (dictionary and
FSST analysis) is most of the cost of a bulk import. Measured on the 1M-record sample operation (8.7M
statements): inserting keyed rows takes half the CPU of inserting the same rows with string ids; with the cost
of assigning keys, a whole batch write takes ~30% less CPU and the file is ~15% smaller. PostgreSQL, which does
not compress rows, keeps the plain lean layout (``schema.STORED_SCHEMA``).

An entity's ``id`` statement (FtM's base property) is stored without its value, which is always the entity id
itself (already in ``entities``); the view puts it back. Why: those values are a third of all statement text
(53 of 150 MB on the 1M-record sample) and nearly all distinct, so compressing them was a fifth of the insert
CPU. String columns name their compression (``dict_fsst``) instead of DuckDB trying every method on every row
group: 6% less insert CPU and a 3% smaller file, measured on the same sample.

Keys are assigned inside the batch's transaction (``max + row_number``); the workspace has one writer at a time
(DuckDB's own file lock), so keys cannot clash. Keys are never reused or renumbered.
"""

from __future__ import annotations

import duckdb

from avellino.errors import StoreError
from avellino.store.duckdb_tx import registered, transaction
from avellino.store.proofs_sql import DUCKDB_TABLES as PROOF_TABLES
from avellino.store.schema import BASE_PROP, MARKING_SCHEMA, prop_types_table

#: Bump when the on-disk layout changes; ``open`` upgrades older workspaces in place.
LAYOUT_VERSION = 3

TABLES = [
    "CREATE TABLE IF NOT EXISTS entities (entity_key BIGINT, entity_id VARCHAR)",
    "CREATE TABLE IF NOT EXISTS props (prop_key INTEGER, schema VARCHAR, prop VARCHAR, prop_type VARCHAR)",
    # integer columns always bit-pack well; naming the method spares DuckDB trying the others on every row group
    # of a bulk import (measured: 14% less CPU to insert the 8.7M statements of the 1M-record sample, same size)
    "CREATE TABLE IF NOT EXISTS stmt (entity_key BIGINT USING COMPRESSION bitpacking, "
    "prop_key INTEGER USING COMPRESSION bitpacking, value VARCHAR USING COMPRESSION dict_fsst, "
    "original_value VARCHAR USING COMPRESSION dict_fsst, "
    "source_row BIGINT USING COMPRESSION bitpacking, marking_key INTEGER USING COMPRESSION bitpacking, "
    "batch_key INTEGER USING COMPRESSION rle)",
    "CREATE TABLE IF NOT EXISTS markings (marking_key INTEGER, marking_id VARCHAR, originator VARCHAR, "
    "handling_code VARCHAR, handling_note VARCHAR, tlp VARCHAR, evaluation VARCHAR, subject_category VARCHAR, "
    "retention_review DATE)",
    "CREATE TABLE IF NOT EXISTS batches (batch_key INTEGER, batch_id VARCHAR, source VARCHAR, file_sha256 VARCHAR, "
    "mapping_sha256 VARCHAR, rows BIGINT, statements BIGINT, imported_at TIMESTAMP)",
    "CREATE TABLE IF NOT EXISTS canon (entity_id VARCHAR, canonical_id VARCHAR)",
    "CREATE TABLE IF NOT EXISTS layout (version INTEGER)",
]

BATCH_COLUMNS = "batch_id, source, file_sha256, mapping_sha256, rows, statements, imported_at"
MARKING_COLUMNS = ", ".join(f.name for f in MARKING_SCHEMA)

#: An ``id`` statement's value (stored as NULL, see above).
VALUE = "coalesce(s.value, e.entity_id)"

VIEW = (
    f"SELECT md5(concat_ws('|', e.entity_id, p.prop, {VALUE}, m.marking_id)) AS id, e.entity_id, "
    "coalesce(c.canonical_id, e.entity_id) AS canonical_id, p.schema, p.prop, "
    f"coalesce(p.prop_type, 'string') AS prop_type, {VALUE} AS value, s.original_value, "
    "CAST(NULL AS VARCHAR) AS lang, "
    "m.originator AS dataset, b.source AS origin, b.imported_at AS first_seen, b.imported_at AS last_seen, "
    "m.originator, regexp_replace(b.source, '^.*/', '') || ':' || CAST(s.source_row AS VARCHAR) AS source_record, "
    "m.handling_code, m.handling_note, m.tlp, m.evaluation, m.subject_category, m.retention_review, b.batch_id "
    "FROM stmt s JOIN entities e ON e.entity_key = s.entity_key JOIN props p ON p.prop_key = s.prop_key "
    "JOIN markings m ON m.marking_key = s.marking_key JOIN batches b ON b.batch_key = s.batch_key "
    "LEFT JOIN canon c ON c.entity_id = e.entity_id"
)


def next_key(table: str, column: str) -> str:
    """SQL for the first free key of ``table`` (keys start at 1)."""
    return f"(SELECT coalesce(max({column}), 0) FROM {table})"


def create(con: duckdb.DuckDBPyConnection) -> None:
    """Create the tables (upgrading a version-1 workspace first) and refresh the property catalogue."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    with transaction(con, _model_props=prop_types_table()):
        if "stmt" in tables and "layout" not in tables:
            _upgrade_from_v1(con)
        for sql in TABLES + PROOF_TABLES:  # proof tables: not required of a workspace read (see proofs_sql.py)
            con.execute(sql)
        version = con.execute("SELECT max(version) FROM layout").fetchall()[0][0]
        if version is None:
            con.execute("INSERT INTO layout VALUES (?)", [LAYOUT_VERSION])
        elif version < 3:
            # version 2 stored the id statements' values; from 3 they are NULL (see the module docstring), and
            # a batch's repeats are recognised only if stored rows follow the same rule
            base = f"SELECT prop_key FROM props WHERE prop = '{BASE_PROP}'"
            con.execute(f"UPDATE stmt SET value = NULL WHERE prop_key IN ({base})")
            con.execute("UPDATE layout SET version = ?", [LAYOUT_VERSION])
        elif version > LAYOUT_VERSION:
            raise StoreError(
                f"This workspace was written by a newer Avellino (layout {version}, this one reads up to "
                f"{LAYOUT_VERSION}); upgrade Avellino to open it."
            )
        _sync_props(con)
        con.execute(f"CREATE OR REPLACE VIEW statements AS {VIEW}")


def _sync_props(con: duckdb.DuckDBPyConnection) -> None:
    """Add the model's (schema, property) pairs not yet known, and keep their types current. Existing keys
    never change, so stored statements keep pointing at the same property after a model upgrade. Reads the
    model's catalogue as ``_model_props`` (registered by :func:`create`)."""
    con.execute(
        f"INSERT INTO props SELECT {next_key('props', 'prop_key')} + "
        "row_number() OVER (ORDER BY n.schema, n.prop), n.schema, n.prop, n.prop_type FROM _model_props n "
        "WHERE NOT EXISTS (SELECT 1 FROM props p WHERE p.schema = n.schema AND p.prop = n.prop)"
    )
    con.execute(
        "UPDATE props SET prop_type = n.prop_type FROM _model_props n "
        "WHERE props.schema = n.schema AND props.prop = n.prop AND props.prop_type IS DISTINCT FROM n.prop_type"
    )


def _upgrade_from_v1(con: duckdb.DuckDBPyConnection) -> None:
    """Rewrite a workspace with string-keyed statements (Avellino 0.1 layout) into the keyed layout."""
    con.execute("DROP VIEW IF EXISTS statements")
    for old in ("stmt", "markings", "batches", "prop_types"):
        con.execute(f"ALTER TABLE {old} RENAME TO {old}_v1")
    for sql in TABLES:
        con.execute(sql)
    con.execute(
        f"INSERT INTO batches SELECT row_number() OVER (ORDER BY imported_at, batch_id), {BATCH_COLUMNS} "
        "FROM batches_v1"
    )
    con.execute(
        f"INSERT INTO markings SELECT row_number() OVER (ORDER BY marking_id), {MARKING_COLUMNS} FROM markings_v1"
    )
    con.execute(
        "INSERT INTO entities SELECT row_number() OVER (ORDER BY entity_id), entity_id "
        "FROM (SELECT DISTINCT entity_id FROM stmt_v1)"
    )
    con.execute(
        "INSERT INTO props SELECT row_number() OVER (ORDER BY schema, prop), schema, prop, NULL "
        "FROM (SELECT DISTINCT schema, prop FROM stmt_v1)"
    )
    con.execute(
        f"INSERT INTO stmt SELECT e.entity_key, p.prop_key, CASE WHEN s.prop <> '{BASE_PROP}' THEN s.value END, "
        "s.original_value, s.source_row, m.marking_key, "
        "b.batch_key FROM stmt_v1 s JOIN entities e USING (entity_id) JOIN props p USING (schema, prop) "
        "JOIN markings m USING (marking_id) JOIN batches b USING (batch_id)"
    )
    for old in ("stmt", "markings", "batches", "prop_types"):
        con.execute(f"DROP TABLE {old}_v1")


def stale(con: duckdb.DuckDBPyConnection) -> str | None:
    """Why a workspace opened read-only cannot be read as it is (None when it can): what :func:`create` would
    change at a writer's open, checked without writing anything (a read-only file takes only temporary objects)."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}
    if "stmt" in tables and "layout" not in tables:
        return "was written by an older Avellino (layout 1)"
    missing = {sql.split()[5] for sql in TABLES} - tables
    if missing:
        return f"is not fully created (no {', '.join(sorted(missing))} table)"
    version = con.execute("SELECT max(version) FROM layout").fetchall()[0][0]
    if version is None or version < LAYOUT_VERSION:
        return f"has an older layout ({version}, this Avellino writes {LAYOUT_VERSION})"
    if version > LAYOUT_VERSION:
        raise StoreError(
            f"This workspace was written by a newer Avellino (layout {version}, this one reads up to "
            f"{LAYOUT_VERSION}); upgrade Avellino to open it."
        )
    with registered(con, _model_props=prop_types_table()):
        changed = con.execute(
            "SELECT count(*) FROM props p JOIN _model_props n ON p.schema = n.schema AND p.prop = n.prop "
            "WHERE p.prop_type IS DISTINCT FROM n.prop_type"
        ).fetchall()[0][0]
    if changed:
        return f"records {changed} property type(s) of an older model"
    con.execute(f"CREATE OR REPLACE TEMP VIEW _statements_now AS {VIEW}")
    try:
        views = dict(
            con.execute(
                "SELECT view_name, regexp_replace(sql, '^CREATE (TEMP |TEMPORARY )?VIEW \\S+ AS ', '') "
                "FROM duckdb_views() WHERE view_name IN ('statements', '_statements_now')"
            ).fetchall()
        )
    finally:
        con.execute("DROP VIEW IF EXISTS temp._statements_now")
    if views.get("statements") != views.get("_statements_now"):
        return "has an older statements view"
    return None
