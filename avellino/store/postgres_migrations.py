"""The PostgreSQL backend's schema, as numbered migrations: the one place its tables, keys and view are defined.

``avellino init`` applies the migrations a database has not had yet, in order, in one transaction, and records
each in ``schema_version`` (``postgres_schema.py`` runs them; opening a store only checks the version). A
migration's SQL is frozen once released: a later change is a new migration, never an edit of an old one, so
every server reaches the same schema whatever version it started from.

To add one (an audit log, partner tables...), append one line to ``MIGRATIONS`` with the next number::

    Migration(4, "audit log", AUDIT_SQL, writer={"audit": "INSERT"}),

``writer`` names the tables the migration creates that a writer role (``avellino init --grant-writer``) may
change, and how; analyst roles may read every table. ``avellino init --upgrade`` then applies it on each server
and grants the roles already recorded. Statements run one by one, separated by ``;`` at the end of a line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from avellino.share.audit_sql import POSTGRES_MIGRATION_SQL

#: Version 1: the layout the first PostgreSQL backend created on every connection (un-versioned). A database
#: that has these tables and no ``schema_version`` is taken to be at version 1.
INITIAL_SQL = """
CREATE TABLE IF NOT EXISTS stmt (entity_id TEXT, schema TEXT, prop TEXT, value TEXT, original_value TEXT,
    source_row BIGINT, marking_id TEXT, batch_id TEXT);
CREATE TABLE IF NOT EXISTS markings (marking_id TEXT, originator TEXT, handling_code TEXT, handling_note TEXT,
    tlp TEXT, evaluation TEXT, subject_category TEXT, retention_review DATE);
CREATE TABLE IF NOT EXISTS batches (batch_id TEXT, source TEXT, file_sha256 TEXT, mapping_sha256 TEXT, rows BIGINT,
    statements BIGINT, imported_at TIMESTAMP);
CREATE TABLE IF NOT EXISTS canon (entity_id TEXT PRIMARY KEY, canonical_id TEXT);
CREATE UNIQUE INDEX IF NOT EXISTS markings_id ON markings (marking_id);
CREATE INDEX IF NOT EXISTS stmt_key ON stmt (entity_id, prop, marking_id);
CREATE INDEX IF NOT EXISTS batches_checksum ON batches (file_sha256, mapping_sha256);
CREATE TABLE IF NOT EXISTS prop_types (schema TEXT, prop TEXT, prop_type TEXT, PRIMARY KEY (schema, prop));
CREATE OR REPLACE VIEW statements AS SELECT md5(concat_ws('|', s.entity_id, s.prop, s.value, s.marking_id)) AS id,
    s.entity_id, coalesce(c.canonical_id, s.entity_id) AS canonical_id, s.schema, s.prop,
    coalesce(t.prop_type, 'string') AS prop_type, s.value, s.original_value, CAST(NULL AS VARCHAR) AS lang,
    m.originator AS dataset, b.source AS origin, b.imported_at AS first_seen, b.imported_at AS last_seen,
    m.originator, regexp_replace(b.source, '^.*/', '') || ':' || CAST(s.source_row AS VARCHAR) AS source_record,
    m.handling_code, m.handling_note, m.tlp, m.evaluation, m.subject_category, m.retention_review, s.batch_id
    FROM stmt s JOIN markings m ON m.marking_id = s.marking_id JOIN batches b ON b.batch_id = s.batch_id
    LEFT JOIN canon c ON c.entity_id = s.entity_id
    LEFT JOIN prop_types t ON t.schema = s.schema AND t.prop = s.prop;
"""

#: Version 2: keys that let writers run at once. A statement is unique by entity, property, markings and value
#: (md5 of the value, so a long value still fits an index entry) and a batch by its file and mapping checksums:
#: writers insert ``ON CONFLICT DO NOTHING`` instead of checking first. Rows that concurrent writers of version 1
#: could duplicate are merged first: a file imported twice keeps its earliest batch (the later one's statements
#: move to it), and of equal statements the one of the earliest batch stays.
UNIQUE_KEYS_SQL = """
CREATE TEMP TABLE _dup_batches ON COMMIT DROP AS SELECT batch_id, first_value(batch_id) OVER (
    PARTITION BY file_sha256, mapping_sha256 ORDER BY imported_at, batch_id) AS keep FROM batches;
DELETE FROM _dup_batches WHERE batch_id = keep;
UPDATE stmt s SET batch_id = d.keep FROM _dup_batches d WHERE s.batch_id = d.batch_id;
DELETE FROM batches b USING _dup_batches d WHERE b.batch_id = d.batch_id;
DELETE FROM stmt WHERE ctid IN (SELECT ctid FROM (SELECT s.ctid, row_number() OVER (
    PARTITION BY s.entity_id, s.prop, s.marking_id, md5(s.value) ORDER BY b.imported_at, s.batch_id, s.ctid) AS n
    FROM stmt s LEFT JOIN batches b ON b.batch_id = s.batch_id WHERE s.value IS NOT NULL) d WHERE d.n > 1);
ALTER TABLE batches ADD CONSTRAINT batches_pkey PRIMARY KEY (batch_id);
ALTER TABLE batches ADD CONSTRAINT batches_file_key UNIQUE (file_sha256, mapping_sha256);
DROP INDEX IF EXISTS batches_checksum;
CREATE UNIQUE INDEX stmt_unique ON stmt (entity_id, prop, marking_id, md5(value));
DROP INDEX IF EXISTS stmt_key;
"""

#: Version 3: the roles ``avellino init --grant-analyst/--grant-writer`` granted, so that tables made later (by a
#: migration, or a derived table a writer keeps) are granted to them too.
ROLES_SQL = """
CREATE TABLE role_grants (role TEXT PRIMARY KEY, kind TEXT NOT NULL CHECK (kind IN ('analyst', 'writer')),
    granted_at TIMESTAMP NOT NULL DEFAULT now());
"""


@dataclass(frozen=True)
class Migration:
    """One numbered step of the schema. ``writer``: table -> privileges a writer role gets on it."""

    version: int
    name: str
    sql: str
    writer: dict[str, str] = field(default_factory=dict)

    def statements(self) -> list[str]:
        return [s.strip() for s in self.sql.split(";\n") if s.strip()]


MIGRATIONS: list[Migration] = [
    Migration(1, "initial", INITIAL_SQL,
              writer={"stmt": "INSERT, DELETE", "markings": "INSERT", "batches": "INSERT, UPDATE",
                      "canon": "INSERT, DELETE"}),
    Migration(2, "unique keys for statements and batches", UNIQUE_KEYS_SQL),
    Migration(3, "recorded role grants", ROLES_SQL),
    # share/audit_sql.py: appended to only through its audit_append function, so no role gets to change it
    Migration(4, "audit log", POSTGRES_MIGRATION_SQL),
]  # fmt: skip

#: The schema version this Avellino reads and writes.
SCHEMA_VERSION = MIGRATIONS[-1].version


def writer_tables() -> dict[str, str]:
    """Every table a writer role may change, with its privileges (later migrations may add to earlier ones)."""
    tables: dict[str, str] = {}
    for migration in MIGRATIONS:
        tables.update(migration.writer)
    return tables
