"""Building full-width statement tables for tests that write to a Store directly (one place for the shape)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from avellino.store.schema import STATEMENT_SCHEMA, BatchInfo

NOW = dt.datetime(2025, 1, 1)


def statement_row(
    entity_id: str,
    prop: str,
    value: str,
    *,
    schema: str = "Person",
    originator: str = "UK-NCA",
    source_record: str = "f.csv:2",
    category: str = "suspect",
    handling: str = "H0",
    row_id: str | None = None,
) -> dict[str, object]:
    return {
        "id": row_id or f"{entity_id}-{prop}",
        "entity_id": entity_id,
        "canonical_id": entity_id,
        "schema": schema,
        "prop": prop,
        "prop_type": prop,
        "value": value,
        "original_value": None,
        "lang": None,
        "dataset": originator,
        "origin": "fixture",
        "first_seen": NOW,
        "last_seen": NOW,
        "originator": originator,
        "source_record": source_record,
        "handling_code": handling,
        "handling_note": None,
        "tlp": "AMBER",
        "evaluation": "B2",
        "subject_category": category,
        "retention_review": dt.date(2030, 1, 1),
        "batch_id": "b",
    }


def statement_table(rows: list[dict[str, object]]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=STATEMENT_SCHEMA)


def batch(name: str, sha: str | None = None) -> BatchInfo:
    return BatchInfo(name, f"{name}.csv", sha or name, "m", 1, 1, dt.datetime(2025, 1, 1, 12))
