"""The statement table: one row per value of one property of one entity, with its markings.

Columns follow FtM's ``Statement`` (entity_id, canonical_id, schema, prop, prop_type, value, original_value,
lang, dataset, origin, first_seen, last_seen) plus the markings of DOMAIN.md. ``STATEMENT_SCHEMA`` is what
readers get.

Physically, backends keep statements lean (``STORED_SCHEMA``): markings are stored once per distinct set in a
markings table and referenced by ``marking_id``; provenance that is constant per batch (origin, first/last seen)
lives on the batch; canonical ids live in their own table so that resolution rewrites a mapping, not every
statement. A view puts the full statement back together (each backend defines its own: ``duckdb_layout.py``,
``postgres_migrations.py``). This is what lets ingest write hundreds of thousands of
statements a second: most statements of a file share one set of markings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa

STATEMENT_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("entity_id", pa.string()),
        ("canonical_id", pa.string()),
        ("schema", pa.string()),
        ("prop", pa.string()),
        ("prop_type", pa.string()),
        ("value", pa.string()),
        ("original_value", pa.string()),
        ("lang", pa.string()),
        ("dataset", pa.string()),
        ("origin", pa.string()),
        ("first_seen", pa.timestamp("us")),
        ("last_seen", pa.timestamp("us")),
        ("originator", pa.string()),
        ("source_record", pa.string()),
        ("handling_code", pa.string()),
        ("handling_note", pa.string()),
        ("tlp", pa.string()),
        ("evaluation", pa.string()),
        ("subject_category", pa.string()),
        ("retention_review", pa.date32()),
        ("batch_id", pa.string()),
    ]
)
STATEMENT_COLUMNS = [f.name for f in STATEMENT_SCHEMA]

#: What backends store per statement (see the module docstring).
STORED_SCHEMA = pa.schema(
    [
        ("entity_id", pa.string()),
        ("schema", pa.string()),
        ("prop", pa.string()),
        ("value", pa.string()),
        ("original_value", pa.string()),
        ("source_row", pa.int64()),
        ("marking_id", pa.string()),
        ("batch_id", pa.string()),
    ]
)
STORED_COLUMNS = [f.name for f in STORED_SCHEMA]
MARKING_SCHEMA = pa.schema(
    [
        ("marking_id", pa.string()),
        ("originator", pa.string()),
        ("handling_code", pa.string()),
        ("handling_note", pa.string()),
        ("tlp", pa.string()),
        ("evaluation", pa.string()),
        ("subject_category", pa.string()),
        ("retention_review", pa.date32()),
    ]
)
MARKING_FIELDS = [f.name for f in MARKING_SCHEMA][1:]


def marking_id_sql(exprs: dict[str, str] | None = None) -> str:
    """SQL for a marking set's id: md5 of its fields (same in DuckDB and PostgreSQL). ``exprs`` gives the SQL
    for each field when they are not plain columns of those names."""
    exprs = exprs or {}
    parts = ", ".join(f"coalesce(CAST({exprs.get(f, f)} AS VARCHAR), '')" for f in MARKING_FIELDS)
    return f"md5(concat_ws('|', {parts}))"


def prop_types_table() -> pa.Table:
    """(schema, prop, prop_type) for every property of the model, plus the base 'id' statement."""
    from avellino.model import model

    rows = [(s.name, p.name, p.type.name) for s in model.schemata.values() for p in s.properties.values()]
    rows += [(s.name, BASE_PROP, "id") for s in model.schemata.values()]
    return pa.table({"schema": [r[0] for r in rows], "prop": [r[1] for r in rows], "prop_type": [r[2] for r in rows]})


#: What ``Store.delete_statements`` takes: whole entities of an originator, or single statements by id.
DELETE_SCHEMA = pa.schema([("originator", pa.string()), ("entity_id", pa.string()), ("statement_id", pa.string())])

#: The statement that makes an entity exist and carries its markings even when it has no other value (FtM's BASE).
BASE_PROP = "id"


@dataclass(frozen=True)
class BatchInfo:
    """One imported file: the unit of atomicity and of idempotence (file checksum + mapping checksum)."""

    batch_id: str
    source: str
    file_sha256: str
    mapping_sha256: str
    rows: int
    statements: int
    imported_at: datetime


BATCH_SCHEMA = pa.schema(
    [
        ("batch_id", pa.string()),
        ("source", pa.string()),
        ("file_sha256", pa.string()),
        ("mapping_sha256", pa.string()),
        ("rows", pa.int64()),
        ("statements", pa.int64()),
        ("imported_at", pa.timestamp("us")),
    ]
)


def lean_from_full_sql(source: str) -> str:
    """Lean statement rows from a full-width statement table (the compatibility path of ``write_batch``)."""
    return (
        "SELECT entity_id, schema, prop, value, original_value, "
        "CAST(NULLIF(regexp_replace(coalesce(source_record, ''), '^.*:', ''), '') AS BIGINT) AS source_row, "
        f"{marking_id_sql()} AS marking_id, batch_id FROM {source}"
    )


def markings_from_full_sql(source: str) -> str:
    fields = ", ".join(MARKING_FIELDS)
    return f"SELECT DISTINCT {marking_id_sql()} AS marking_id, {fields} FROM {source}"


#: Originator proofs a node keeps so that it can pass other originators' facts on (``share/proofs.py``): signed
#: manifests (``salt_key`` only for manifests received from their originator), pages of leaf hashes, and the salts
#: of facts received onward.
PROOF_MANIFEST_SCHEMA = pa.schema(
    [
        ("manifest_id", pa.string()),
        ("originator", pa.string()),
        ("body", pa.string()),
        ("signature", pa.binary()),
        ("page_hashes", pa.binary()),
        ("salt_key", pa.string()),
    ]
)
PROOF_PAGE_SCHEMA = pa.schema([("manifest_id", pa.string()), ("page_no", pa.int32()), ("leaves", pa.binary())])
PROOF_SALT_SCHEMA = pa.schema([("manifest_id", pa.string()), ("fact_hash", pa.string()), ("salt", pa.string())])


@dataclass(frozen=True)
class Proofs:
    """Originator proofs written with a batch (``Store.write_batch``) or read back (``Store.read_proofs``)."""

    manifests: pa.Table
    pages: pa.Table
    salts: pa.Table
