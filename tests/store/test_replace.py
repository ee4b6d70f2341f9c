"""Store.replace_statements: an originator's correction deletes its old facts and writes the new ones in ONE
transaction (both backends). A failure anywhere, the delete included, leaves the store exactly as it was, and a
correction whose batch is already stored changes nothing."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest

from avellino.errors import BatchExists
from avellino.share.receive import lean_tables
from avellino.share.send import PAYLOAD_COLUMNS, PAYLOAD_SCHEMA
from avellino.store.base import Store
from avellino.store.schema import DELETE_SCHEMA
from tests.statements import batch, statement_row, statement_table


def _targets(rows: list[tuple[str, str | None, str | None]]) -> pa.Table:
    return pa.Table.from_pylist(
        [{"originator": o, "entity_id": e, "statement_id": s} for o, e, s in rows], schema=DELETE_SCHEMA
    )


def _seed(store: Store) -> None:
    store.write_batch(
        batch("b1"),
        statement_table(
            [
                statement_row("uk-nca-1", "id", "uk-nca-1"),
                statement_row("uk-nca-1", "name", "Ali"),
                statement_row("uk-nca-1", "birthDate", "1980-01-02"),
                statement_row("uk-nca-1", "name", "Ali Hassan", originator="FR-OCRIEST"),  # another partner's fact
                statement_row("uk-nca-2", "id", "uk-nca-2"),
                statement_row("uk-nca-2", "name", "Omar"),
            ]
        ),
    )


def _snapshot(store: Store) -> tuple[list[dict[str, Any]], list[Any]]:
    rows = sorted(store.read_statements().to_pylist(), key=lambda r: (r["id"], r["batch_id"]))
    return rows, store.batches()


def _facts(store: Store) -> set[tuple[str, str, str, str]]:
    return {(r["entity_id"], r["prop"], r["value"], r["originator"]) for r in store.read_statements().to_pylist()}


def _correction() -> pa.Table:
    return statement_table(
        [
            statement_row("uk-nca-1", "id", "uk-nca-1"),  # unchanged: deleted and written again
            statement_row("uk-nca-1", "name", "Ali Al-Sayed"),
            statement_row("uk-nca-1", "nationality", "sy"),
        ]
    )


def test_replace_deletes_the_originators_facts_and_writes_the_new_ones(store: Store) -> None:
    _seed(store)
    # an originator's correction of uk-nca-1 (FR's own fact about it stays) and its name on uk-nca-2
    deleted, added = store.replace_statements(
        _targets([("UK-NCA", "uk-nca-1", None), ("FR-OCRIEST", "uk-nca-2", None)]), batch("fix"), _correction()
    )
    assert (deleted, added) == (3, 3)  # FR's notice cannot touch UK's uk-nca-2
    assert _facts(store) == {
        ("uk-nca-1", "id", "uk-nca-1", "UK-NCA"),
        ("uk-nca-1", "name", "Ali Al-Sayed", "UK-NCA"),
        ("uk-nca-1", "nationality", "sy", "UK-NCA"),
        ("uk-nca-1", "name", "Ali Hassan", "FR-OCRIEST"),
        ("uk-nca-2", "id", "uk-nca-2", "UK-NCA"),
        ("uk-nca-2", "name", "Omar", "UK-NCA"),
    }
    assert [b.batch_id for b in store.batches()] == ["b1", "fix"]
    assert store.batches()[1].statements == 3


def test_replace_takes_lean_statements_as_a_received_correction_has_them(store: Store) -> None:
    _seed(store)
    rows = _correction().select(PAYLOAD_COLUMNS).to_pylist()
    lean, markings = lean_tables(pa.Table.from_pylist(rows, schema=PAYLOAD_SCHEMA), "fix")
    assert store.replace_statements(_targets([("UK-NCA", "uk-nca-1", None)]), batch("fix"), lean, markings) == (3, 3)
    assert {v for e, p, v, o in _facts(store) if e == "uk-nca-1" and p == "name"} == {"Ali Al-Sayed", "Ali Hassan"}


def test_a_correction_already_stored_changes_nothing(store: Store) -> None:
    _seed(store)
    targets = _targets([("UK-NCA", "uk-nca-1", None)])
    store.replace_statements(targets, batch("fix"), _correction())
    # the originator's facts came back meanwhile (say, from an earlier bundle received again)
    store.write_batch(batch("again", "again-sha"), statement_table([statement_row("uk-nca-1", "name", "Ali")]))
    before = _snapshot(store)
    with pytest.raises(BatchExists):
        store.replace_statements(targets, batch("fix-copy", "fix"), _correction())
    assert _snapshot(store) == before


def _bad_tables(store: Store) -> dict[str, tuple[pa.Table, pa.Table | None]]:
    """Batches that fail once the delete has run (the delete comes first in the transaction on both backends)."""
    full = _correction()
    rows = full.select(PAYLOAD_COLUMNS).to_pylist()
    lean, markings = lean_tables(pa.Table.from_pylist(rows, schema=PAYLOAD_SCHEMA), "fix")
    bad: dict[str, tuple[pa.Table, pa.Table | None]] = {
        "a column missing": (full.drop_columns(["prop"]), None),
        "lean rows without their marking ids": (lean.drop_columns(["marking_id"]), markings),
    }
    if type(store).__name__ == "PostgresStore":
        # refused by the server itself while COPY loads the rows: text may not hold a NUL byte
        nul = full.set_column(full.schema.get_field_index("value"), "value", pa.array(["x", "Ali\x00", "sy"]))
        bad["a NUL byte the server refuses"] = (nul, None)
    else:
        empty = full.set_column(full.schema.get_field_index("entity_id"), "entity_id", pa.nulls(3, pa.string()))
        bad["a statement with no entity id, which the store refuses"] = (empty, None)
        unknown = lean.set_column(lean.schema.get_field_index("marking_id"), "marking_id", pa.array(["nowhere"] * 3))
        bad["lean rows naming a marking set the batch does not describe"] = (unknown, markings)
    return bad


def test_a_failure_after_the_delete_leaves_the_store_exactly_as_it_was(store: Store) -> None:
    _seed(store)
    before = _snapshot(store)
    targets = _targets([("UK-NCA", "uk-nca-1", None), ("UK-NCA", "uk-nca-2", None)])
    for what, (statements, markings) in _bad_tables(store).items():
        try:
            store.replace_statements(targets, batch(f"bad-{len(what)}"), statements, markings)
        except Exception:  # noqa: BLE001, S110 (each backend raises its own error; what matters is the state)
            pass
        else:
            pytest.fail(f"{what}: the correction was applied")
        assert _snapshot(store) == before, f"{what}: the store changed"
    # the store still takes the same correction, well formed, and the delete would have removed five facts
    assert store.replace_statements(targets, batch("fix"), _correction()) == (5, 3)
