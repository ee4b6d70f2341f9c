"""The audit log's tables, for both backends: kept here so the log's layout is defined in one place.

``audit_log`` holds one row per entry: its ``seq``, the entry itself as canonical JSON text (``entry``: seq, time,
user, purpose, action, touched and the previous entry's hash) and ``hash``, the sha256 of that text. ``audit_head``
holds the last entry's seq and hash, so a deleted last entry is noticed too.

On PostgreSQL the tables are created by migration 4 (``store/postgres_migrations.py``) and appended to only through
``audit_append``, a SECURITY DEFINER function that checks the entry continues the chain and computes its hash on the
server: analysts and writers get SELECT on the tables and no right to change them, so even a writer's role cannot
edit or delete an entry (only the role that owns the workspace can, and ``audit verify`` notices). On DuckDB the
tables are created by the first append (a write); a workspace never audited reads as an empty log.
"""

from __future__ import annotations

#: The previous hash of the first entry.
GENESIS = "0" * 64

TABLES_SQL = (
    "CREATE TABLE IF NOT EXISTS audit_log (seq BIGINT PRIMARY KEY, entry TEXT NOT NULL, hash TEXT NOT NULL);\n"
    "CREATE TABLE IF NOT EXISTS audit_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, "
    "hash TEXT NOT NULL);\n"
    f"INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '{GENESIS}') ON CONFLICT DO NOTHING;\n"
)

#: PostgreSQL: append one entry (canonical JSON text) if it continues the chain; returns its hash, or NULL when
#: another writer appended first (the caller builds the entry again). Written without a ';' at the end of a line:
#: migrations are split into statements there.
POSTGRES_APPEND_SQL = (
    "CREATE OR REPLACE FUNCTION audit_append(entry TEXT) RETURNS TEXT LANGUAGE plpgsql SECURITY DEFINER AS $$ "
    "DECLARE head_seq BIGINT; head_hash TEXT; e JSONB; h TEXT; BEGIN "
    "SELECT a.seq, a.hash INTO head_seq, head_hash FROM audit_head a WHERE a.id = 1 FOR UPDATE; "
    "e := entry::jsonb; "
    "IF (e->>'seq')::BIGINT IS DISTINCT FROM head_seq + 1 OR e->>'prev' IS DISTINCT FROM head_hash THEN "
    "RETURN NULL; END IF; "
    "h := encode(sha256(convert_to(entry, 'UTF8')), 'hex'); "
    "INSERT INTO audit_log (seq, entry, hash) VALUES (head_seq + 1, entry, h); "
    "UPDATE audit_head SET seq = head_seq + 1, hash = h WHERE id = 1; "
    "RETURN h; END $$;\n"
    # the function finds its tables in the workspace's own schema, never in another one first (nor pg_temp)
    "DO $$ BEGIN EXECUTE format('ALTER FUNCTION audit_append(TEXT) SET search_path = %I, pg_temp', "
    "current_schema()); END $$;\n"
)

#: Migration 4 of the PostgreSQL backend.
POSTGRES_MIGRATION_SQL = TABLES_SQL + POSTGRES_APPEND_SQL
