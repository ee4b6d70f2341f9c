"""The PostgreSQL backend's schema, as numbered migrations: the one place its tables, keys and view are defined.

``avellino init`` applies the migrations a database has not had yet, in order, in one transaction, and records
each in ``schema_version`` (``postgres_schema.py`` runs them; opening a store only checks the version). A
migration's SQL is frozen once released: a later change is a new migration, never an edit of an old one, so
every server reaches the same schema whatever version it started from.

To add one (partner tables...), append one line to ``MIGRATIONS`` with the next number::

    Migration(6, "partner nodes", PARTNERS_SQL, writer={"partners": "INSERT, UPDATE"}),

``writer`` names the tables the migration creates that a writer role (``avellino init --grant-writer``) may
change, and how (``writer_functions``: the functions it may run); analyst roles may read every table. ``avellino
init --upgrade`` then applies it on each server and grants the roles already recorded. Statements run one by one,
separated by ``;`` at the end of a line. tests/store/test_postgres_schema.py upgrades a version-1 workspace through
every migration.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from avellino.share.audit_sql import POSTGRES_MIGRATION_SQL
from avellino.store.proofs_sql import POSTGRES_MIGRATION_SQL as PROOFS_SQL

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


#: Version 5: derived tables (x_...: clusters, judgements, the network) are made and remade through one function
#: that runs as the workspace's owner, so that writer roles need no DDL right at all, every derived table belongs
#: to the owner whoever made it (any writer may remake it later), and each is granted to the recorded roles when
#: made. It accepts only an x_ name and the column types the backend writes. No ';' ends a line inside it:
#: migrations are split into statements there.
DERIVED_TABLES_SQL = (
    "CREATE OR REPLACE FUNCTION avellino_derived_table(name TEXT, col_names TEXT[], col_types TEXT[]) "
    "RETURNS VOID LANGUAGE plpgsql SECURITY DEFINER AS $$ DECLARE cols TEXT; g RECORD; BEGIN "
    "IF name !~ '^x_[a-z][a-z0-9_]*$' THEN RAISE EXCEPTION 'invalid derived table name %', name; END IF; "
    "IF coalesce(array_length(col_names, 1), 0) <> coalesce(array_length(col_types, 1), 0) "
    "OR EXISTS (SELECT 1 FROM unnest(col_types) t WHERE t NOT IN ('TEXT', 'TIMESTAMP', 'DATE', 'BIGINT', "
    "'INTEGER', 'DOUBLE PRECISION', 'BOOLEAN', 'TEXT[]')) THEN RAISE EXCEPTION 'invalid columns for %', name; END IF; "
    "SELECT string_agg(format('%I %s', n, t), ', ') INTO cols FROM unnest(col_names, col_types) AS u(n, t); "
    "EXECUTE format('DROP TABLE IF EXISTS %I', name); "
    "EXECUTE format('CREATE TABLE %I (%s)', name, coalesce(cols, '')); "
    "FOR g IN SELECT r.role, r.kind FROM role_grants r JOIN pg_roles p ON p.rolname = r.role LOOP "
    "EXECUTE format('GRANT %s ON %I TO %I', CASE WHEN g.kind = 'writer' THEN 'SELECT, INSERT, UPDATE, DELETE' "
    "ELSE 'SELECT' END, name, g.role); END LOOP; END $$;\n"
    "DO $$ BEGIN EXECUTE format('ALTER FUNCTION avellino_derived_table(TEXT, TEXT[], TEXT[]) "
    "SET search_path = %I, pg_temp', current_schema()); END $$;\n"
    "REVOKE EXECUTE ON FUNCTION avellino_derived_table(TEXT, TEXT[], TEXT[]) FROM PUBLIC;\n"
)


@dataclass(frozen=True)
class Migration:
    """One numbered step of the schema. ``writer``: table -> privileges a writer role gets on it;
    ``writer_functions``: functions (with their argument types) a writer role may execute."""

    version: int
    name: str
    sql: str
    writer: dict[str, str] = field(default_factory=dict)
    writer_functions: tuple[str, ...] = ()

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
    Migration(5, "derived tables made by the owner's function", DERIVED_TABLES_SQL,
              writer_functions=("avellino_derived_table(TEXT, TEXT[], TEXT[])",)),
    # store/proofs_sql.py: originator proofs kept with received bundles (share/proofs.py)
    Migration(6, "originator proofs", PROOFS_SQL,
              writer={"proof_manifests": "INSERT", "proof_pages": "INSERT", "proof_salts": "INSERT"}),
]  # fmt: skip

#: The schema version this Avellino reads and writes.
SCHEMA_VERSION = MIGRATIONS[-1].version


def writer_functions() -> list[str]:
    """Every function a writer role may execute (the others are the owner's, or everyone's)."""
    return [f for migration in MIGRATIONS for f in migration.writer_functions]


def writer_tables() -> dict[str, str]:
    """Every table a writer role may change, with its privileges (later migrations may add to earlier ones)."""
    tables: dict[str, str] = {}
    for migration in MIGRATIONS:
        tables.update(migration.writer)
    return tables
