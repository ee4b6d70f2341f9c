"""Retention: facts past review are listed, and purged with an audit entry, on both backends."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from avellino.errors import ConfigError
from avellino.share import audit, retention
from avellino.store.base import Store
from tests.statements import batch, statement_row, statement_table

TODAY = dt.date(2026, 7, 1)


def rows(today: dt.date = TODAY) -> pa.Table:
    """e1 (UK suspect) past review, e2 (FR victim) past review on one statement only, e3 not due, e4 no date."""
    out = []
    for entity, originator, category, review in [
        ("e1", "UK-NCA", "suspect", today - dt.timedelta(days=181)),
        ("e2", "FR-OCRIEST", "victim", today - dt.timedelta(days=1)),
        ("e3", "UK-NCA", "suspect", today),
        ("e4", "UK-NCA", "suspect", None),
    ]:
        for prop in ("name", "birthDate"):
            row = statement_row(entity, prop, f"{entity} {prop}", originator=originator, category=category)
            later = today + dt.timedelta(days=184)
            row["retention_review"] = review if not (entity == "e2" and prop == "birthDate") else later
            out.append(row)
    return statement_table(out)


def test_due_counts_by_originator_and_category(store: Store) -> None:
    store.write_batch(batch("b1"), rows())
    found = retention.due(store, TODAY)
    assert found.entity_ids == ["e1", "e2"]
    assert found.statements.num_rows == 3
    groups = {(g["originator"], g["subject_category"]): g for g in found.by_originator_and_category()}
    assert groups[("UK-NCA", "suspect")]["statements"] == 2
    assert groups[("FR-OCRIEST", "victim")]["statements"] == 1
    assert groups[("FR-OCRIEST", "victim")]["oldest_review"] == dt.date(2026, 6, 30)
    assert retention.due(store, dt.date(2025, 1, 1)).statements.num_rows == 0


def test_purge_deletes_only_what_is_due_and_records_it(store: Store) -> None:
    store.write_batch(batch("b1"), rows())
    before = store.count_statements()
    purged = retention.purge(store, TODAY, user="j.smith", reason="annual review", today=TODAY)
    assert purged.deleted == 3 and len(purged.statement_ids) == 3
    assert sorted(purged.targets.column("entity_id").to_pylist()) == ["e1", "e1", "e2"]
    assert store.count_statements() == before - 3
    assert retention.due(store, TODAY).statements.num_rows == 0
    left = store.read_statements(columns=["entity_id", "prop"]).to_pylist()
    assert {"entity_id": "e2", "prop": "birthDate"} in left and not any(r["entity_id"] == "e1" for r in left)
    entry = audit.entries(store)[-1]
    assert entry.seq == purged.audit_seq and audit.verify(store) == 1
    fields = entry.fields
    assert fields["user"] == "j.smith" and fields["purpose"] == "retention: annual review"
    assert sorted(fields["touched"]["ids"]) == sorted(purged.statement_ids)
    assert fields["touched"]["counts"] == {"entities": 2}


def test_purge_never_reaches_facts_not_yet_due(store: Store) -> None:
    store.write_batch(batch("b1"), rows())
    with pytest.raises(ConfigError, match="after today"):
        retention.purge(store, dt.date(2026, 7, 2), user="j.smith", reason="x", today=TODAY)
    with pytest.raises(ConfigError, match="reason"):
        retention.purge(store, TODAY, user="j.smith", reason=" ", today=TODAY)
    assert audit.entries(store) == [] and retention.due(store, TODAY).statements.num_rows == 3


def test_retention_commands(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from avellino.cli import app
    from avellino.store.duckdb_store import DuckDBStore

    today = dt.date.today()  # the command judges by the real day
    ws = tmp_path / "ws"
    with DuckDBStore(ws, create=True) as store:
        store.write_batch(batch("b1"), rows(today))
    runner = CliRunner()
    due = runner.invoke(app, ["retention", "due", "-w", str(ws), "--on", str(today), "--json"])
    assert due.exit_code == 0, due.output
    listed = json.loads(due.stdout)
    assert listed["entity_ids"] == ["e1", "e2"] and listed["statements"] == 3
    table = runner.invoke(app, ["retention", "due", "-w", str(ws), "--on", str(today)])
    assert "UK-NCA" in table.stdout and "3 statements of 2 entities are past review" in table.stdout
    tomorrow = str(today + dt.timedelta(days=1))
    refused = runner.invoke(app, ["retention", "purge", "--before", tomorrow, "--user", "u", "--reason", "r",
                                  "-w", str(ws)])  # fmt: skip
    assert isinstance(refused.exception, ConfigError)
    done = runner.invoke(app, ["retention", "purge", "--before", str(today), "--user", "j.smith", "--reason",
                               "annual review", "-w", str(ws)])  # fmt: skip
    assert done.exit_code == 0, done.output
    with DuckDBStore(ws, read_only=True) as store:
        assert retention.due(store, today).statements.num_rows == 0
        assert audit.entries(store)[-1].fields["action"] == f"retention purge before {today}"
