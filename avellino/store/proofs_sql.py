"""The tables of originator proofs (``share/proofs.py``), for both backends: defined in one place.

``proof_manifests`` holds one row per signed manifest a node received (a few per bundle), ``proof_pages`` one row
per page of 256 leaf hashes (8 KiB), ``proof_salts`` one row per fact received *onward* (the salt its sender
passed on with it). None holds a fact's value: leaves are salted hashes. On DuckDB the tables are made when a
writer opens the workspace (a workspace made before them reads as holding no proofs); on PostgreSQL by migration 6.
"""

from __future__ import annotations

DUCKDB_TABLES = [
    "CREATE TABLE IF NOT EXISTS proof_manifests (manifest_id VARCHAR, originator VARCHAR, body VARCHAR, "
    "signature BLOB, page_hashes BLOB, salt_key VARCHAR)",
    "CREATE TABLE IF NOT EXISTS proof_pages (manifest_id VARCHAR, page_no INTEGER, leaves BLOB)",
    "CREATE TABLE IF NOT EXISTS proof_salts (manifest_id VARCHAR, fact_hash VARCHAR, salt VARCHAR)",
]

#: Migration 6 of the PostgreSQL backend: the keys make a proof stored twice (two writers, a re-sent page) one row.
POSTGRES_MIGRATION_SQL = """
CREATE TABLE proof_manifests (manifest_id TEXT PRIMARY KEY, originator TEXT NOT NULL, body TEXT NOT NULL,
    signature BYTEA NOT NULL, page_hashes BYTEA NOT NULL, salt_key TEXT);
CREATE INDEX proof_manifests_originator ON proof_manifests (originator);
CREATE TABLE proof_pages (manifest_id TEXT NOT NULL, page_no INTEGER NOT NULL, leaves BYTEA NOT NULL,
    PRIMARY KEY (manifest_id, page_no));
CREATE TABLE proof_salts (manifest_id TEXT NOT NULL, fact_hash TEXT NOT NULL, salt TEXT NOT NULL,
    PRIMARY KEY (manifest_id, fact_hash));
"""

#: (table, key columns): a row whose key is stored already is not stored again.
KEYS = {
    "proof_manifests": ("manifest_id",),
    "proof_pages": ("manifest_id", "page_no"),
    "proof_salts": ("manifest_id", "fact_hash"),
}
