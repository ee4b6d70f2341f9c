"""Retention: facts past their review date are listed for review and, when an officer decides, purged.

Every statement's markings may carry a ``retention_review`` date (DOMAIN.md: after it the fact must be reviewed
or deleted; protected people are kept under stricter retention, which originators express as earlier dates). The
sharing policy already withholds such facts (row 1 of docs/sharing.md); this module lists them (:func:`due`) and
deletes them (:func:`purge`), recording the purge in the audit log *before* deleting, so the log may say a purge
was attempted that then failed, never the reverse. :func:`purge` returns what it deleted (originator, entity id,
statement id) so the facts can be withdrawn from partners that received them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from avellino.errors import ConfigError
from avellino.share import audit
from avellino.store.base import Store
from avellino.store.schema import DELETE_SCHEMA, STATEMENT_SCHEMA

COLUMNS = ["id", "entity_id", "originator", "subject_category", "retention_review"]


@dataclass(frozen=True)
class Due:
    """Facts whose review date is before ``before``."""

    before: date
    statements: pa.Table  #: id, entity_id, originator, subject_category, retention_review

    def by_originator_and_category(self) -> list[dict[str, object]]:
        """Statements and entities per (originator, category), most statements first."""
        if self.statements.num_rows == 0:
            return []
        grouped = self.statements.group_by(["originator", "subject_category"]).aggregate(
            [("id", "count"), ("entity_id", "count_distinct"), ("retention_review", "min")]
        )
        rows = [
            {
                "originator": r["originator"],
                "subject_category": r["subject_category"],
                "statements": r["id_count"],
                "entities": r["entity_id_count_distinct"],
                "oldest_review": r["retention_review_min"],
            }
            for r in grouped.to_pylist()
        ]
        return sorted(rows, key=lambda r: (-int(str(r["statements"])), str(r["originator"])))

    @property
    def entity_ids(self) -> list[str]:
        return sorted(set(self.statements.column("entity_id").to_pylist()))


def due(store: Store, before: date) -> Due:
    """The statements whose retention review date is before ``before`` (usually today)."""
    cutoff = pa.scalar(before, pa.date32())
    parts = [
        batch.filter(pc.fill_null(pc.less(batch.column("retention_review"), cutoff), False))
        for batch in store.scan_statements(columns=COLUMNS)  # streamed: only what is due is kept
    ]
    schema = pa.schema([STATEMENT_SCHEMA.field(c) for c in COLUMNS])
    table = pa.Table.from_batches([p for p in parts if p.num_rows], schema=schema)
    return Due(before, table.sort_by([("originator", "ascending"), ("id", "ascending")]))


@dataclass(frozen=True)
class Purged:
    """What a purge deleted: one row per statement (originator, entity_id, statement_id: DELETE_SCHEMA), for
    withdrawals to the partners that received them."""

    targets: pa.Table
    deleted: int
    audit_seq: int

    @property
    def statement_ids(self) -> list[str]:
        return [str(i) for i in self.targets.column("statement_id").to_pylist()]


def purge(store: Store, before: date, *, user: str, reason: str, today: date | None = None) -> Purged:
    """Delete every statement whose review date is before ``before``, after recording who, why and what in the
    audit log. ``before`` may not be later than ``today``: facts not yet due are never purged."""
    today = today or date.today()
    if before > today:
        raise ConfigError(
            f"--before {before} is after today ({today}): facts not yet due for review would be deleted. "
            "Use today's date or an earlier one."
        )
    if not reason.strip():
        raise ConfigError("a purge needs a --reason (it is recorded in the audit log)")
    found = due(store, before).statements
    targets = pa.table(
        {
            "originator": found.column("originator"),
            "entity_id": found.column("entity_id"),
            "statement_id": found.column("id"),
        },
        schema=DELETE_SCHEMA,
    )
    touched = audit.Touched().update(targets.column("statement_id").to_pylist())
    touched.counts = {"entities": len(set(found.column("entity_id").to_pylist()))}
    entry = audit.record(
        store,
        user=user,
        purpose=f"retention: {reason.strip()}",
        action=f"retention purge before {before}",
        touched=touched,
    )
    deleted = store.delete_statements(targets) if targets.num_rows else 0
    return Purged(targets, deleted, entry.seq)
