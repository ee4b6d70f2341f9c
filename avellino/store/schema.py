"""The statement table: one row per value of one property of one entity, with its markings.

Columns follow FtM's ``Statement`` (entity_id, canonical_id, schema, prop, prop_type, value, original_value,
lang, dataset, origin, first_seen, last_seen) plus the markings of DOMAIN.md. Defined once here as an Arrow
schema; each backend derives its DDL from it.
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
