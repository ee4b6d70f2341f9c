"""Store.delete_statements: an originator's withdrawal removes its facts, whole entities or single statements,
atomically, and never a fact another partner supplied (both backends)."""

from __future__ import annotations

import pyarrow as pa

from avellino.store.base import Store
from avellino.store.schema import DELETE_SCHEMA
from tests.statements import batch, statement_row, statement_table


def _targets(rows: list[tuple[str, str | None, str | None]]) -> pa.Table:
    return pa.Table.from_pylist(
        [{"originator": o, "entity_id": e, "statement_id": s} for o, e, s in rows], schema=DELETE_SCHEMA
    )


def test_withdraw_entities_and_statements_of_one_originator_only(store: Store) -> None:
    rows = [
        statement_row("uk-nca-1", "id", "uk-nca-1"),
        statement_row("uk-nca-1", "name", "Ali"),
        statement_row("uk-nca-1", "name", "Ali Hassan", originator="FR-OCRIEST"),  # another partner's fact
        statement_row("uk-nca-2", "id", "uk-nca-2"),
        statement_row("uk-nca-2", "name", "Omar"),
        statement_row("uk-nca-2", "birthDate", "1980-01-02"),
    ]
    store.write_batch(batch("b1"), statement_table(rows))
    before = store.read_statements(columns=["id", "entity_id", "prop", "value", "originator"]).to_pylist()
    dob = next(r["id"] for r in before if r["prop"] == "birthDate")
    assert store.delete_statements(_targets([("UK-NCA", "uk-nca-1", None), ("UK-NCA", None, dob)])) == 3
    left = {(r["entity_id"], r["prop"], r["value"], r["originator"]) for r in store.read_statements().to_pylist()}
    assert left == {
        ("uk-nca-1", "name", "Ali Hassan", "FR-OCRIEST"),
        ("uk-nca-2", "id", "uk-nca-2", "UK-NCA"),
        ("uk-nca-2", "name", "Omar", "UK-NCA"),
    }
    # a statement id under the wrong originator deletes nothing
    name2 = next(r["id"] for r in before if r["value"] == "Omar")
    assert store.delete_statements(_targets([("FR-OCRIEST", None, name2)])) == 0
    assert store.delete_statements(_targets([])) == 0
    assert store.count_statements() == 3


def test_scan_statements_streams_every_statement(store: Store) -> None:
    rows = [statement_row(f"uk-nca-{i}", "name", f"N{i}") for i in range(25)]
    store.write_batch(batch("b1"), statement_table(rows))
    batches = list(store.scan_statements(columns=["entity_id", "value", "originator"], batch_rows=10))
    assert max(b.num_rows for b in batches) <= 10
    assert sorted(v for b in batches for v in b.column("value").to_pylist()) == sorted(f"N{i}" for i in range(25))
    full = list(store.scan_statements())
    assert full[0].schema.names == store.read_statements().schema.names
