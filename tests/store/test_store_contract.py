"""The behavioural suite every Store backend must pass. DuckDB always runs; PostgreSQL runs where
AVELLINO_TEST_PG_URL points at a server (CI starts one) and skips with that reason elsewhere."""

from __future__ import annotations

import pyarrow as pa
import pytest

from avellino.store.base import Store
from avellino.store.schema import BatchInfo
from tests.statements import batch as make_batch
from tests.statements import statement_row, statement_table


def statements(n: int, entity: str = "e1", category: str = "suspect", prop: str = "name") -> pa.Table:
    return statement_table(
        [
            statement_row(entity, prop, f"Name {i}", category=category, handling="H2", source_record=f"f.csv:{i + 2}",
                          row_id=f"{entity}-{prop}-{i}")
            for i in range(n)
        ]
    )  # fmt: skip


def batch(name: str, sha: str = "f") -> BatchInfo:
    return make_batch(name, sha)


def test_write_batch_and_read_back(store: Store) -> None:
    assert store.write_batch(batch("b1"), statements(3)) == 3
    table = store.read_statements()
    assert table.num_rows == 3
    assert set(table.column("handling_code").to_pylist()) == {"H2"}
    assert store.find_batch("f", "m") is not None
    assert store.find_batch("other", "m") is None
    assert [b.batch_id for b in store.batches()] == ["b1"]


def test_duplicate_statements_are_skipped(store: Store) -> None:
    store.write_batch(batch("b1"), statements(3))
    assert store.write_batch(batch("b2", "g"), statements(5)) == 2
    assert store.count_statements() == 5


def test_failed_batch_leaves_nothing(store: Store) -> None:
    store.write_batch(batch("b1"), statements(2))
    before = store.counts()
    broken = statements(3, entity="e2").set_column(1, "entity_id", pa.array([None, None, None], pa.string()))
    broken = broken.drop_columns(["schema"])  # not a statement table: the write must fail and roll back
    with pytest.raises(Exception):  # noqa: B017 - any backend error is fine, the point is what is left
        store.write_batch(batch("b2", "g"), broken)
    assert store.counts() == before


def test_filters_and_aggregates(store: Store) -> None:
    store.write_batch(batch("b1"), statements(2, "e1"))
    store.write_batch(batch("b2", "g"), statements(1, "e2", category="victim"))
    assert store.read_statements(entity_ids=["e2"]).num_rows == 1
    assert store.read_statements(schemata=["Vessel"]).num_rows == 0
    agg = {r["subject_category"]: r for r in store.aggregate(["subject_category"]).to_pylist()}
    assert agg["suspect"]["statements"] == 2 and agg["victim"]["entities"] == 1
    assert store.protected_entity_ids() == {"e2"}
    with pytest.raises(ValueError):
        store.aggregate(["drop table statements"])


def test_entities_merge_by_canonical_id(store: Store) -> None:
    store.write_batch(batch("b1"), statements(2, "e1"))
    store.write_batch(batch("b2", "g"), statements(1, "e2", prop="alias"))
    store.set_canonical(pa.table({"entity_id": ["e1", "e2"], "canonical_id": ["c1", "c1"]}))
    ents = list(store.entities())
    assert len(ents) == 1 and ents[0].id == "c1"
    assert sorted(ents[0].get("alias")) == ["Name 0"]
    store.set_canonical(pa.table({"entity_id": pa.array([], pa.string()), "canonical_id": pa.array([], pa.string())}))
    assert len(list(store.entities())) == 2


def test_derived_tables(store: Store) -> None:
    assert store.read_table("judgements") is None
    row = {"left_id": "a", "right_id": "b", "judgement": "positive"}
    store.write_table("judgements", pa.Table.from_pylist([row]), mode="append")
    store.write_table("judgements", pa.Table.from_pylist([{**row, "right_id": "c"}]), mode="append")
    table = store.read_table("judgements")
    assert table is not None and table.num_rows == 2
    store.write_table("judgements", pa.Table.from_pylist([row]), mode="replace")
    again = store.read_table("judgements")
    assert again is not None and again.num_rows == 1
    with pytest.raises(ValueError):
        store.write_table("statements", pa.Table.from_pylist([row]))


def test_derived_tables_keep_lists_of_text(store: Store) -> None:
    # resolution's features carry identifiers and name parts as lists; `resolve explain` shows them
    rows = [{"unique_id": "a", "passports": ["0123", "X9"]}, {"unique_id": "b", "passports": None}]
    store.write_table("features", pa.Table.from_pylist(rows))
    table = store.read_table("features")
    assert table is not None
    assert table.sort_by("unique_id").column("passports").to_pylist() == [["0123", "X9"], None]


def test_derived_table_appends_values_to_a_column_that_started_all_null(store: Store) -> None:
    """The judgement log's ``retracts`` is null in every judgement and set in a retraction."""
    first = {"judgement_id": "j1", "verdict": "positive", "retracts": None}
    store.write_table("log", pa.Table.from_pylist([first]), mode="append")
    store.write_table("log", pa.Table.from_pylist([{**first, "judgement_id": "j2", "retracts": "j1"}]), mode="append")
    table = store.read_table("log")
    assert table is not None
    assert sorted(table.to_pylist(), key=lambda r: r["judgement_id"]) == [
        {"judgement_id": "j1", "verdict": "positive", "retracts": None},
        {"judgement_id": "j2", "verdict": "positive", "retracts": "j1"},
    ]


def test_resolve_judge_and_retract_on_the_store(store: Store) -> None:
    """`resolve judge` then `resolve retract` through the store: the log keeps both, the pair has no live verdict."""
    from avellino.resolve import clusters as cl
    from avellino.resolve import store_io

    judged = cl.judgement_row("a", "b", "negative", "ana", "twins")
    store_io.add_judgements(store, [judged])
    store_io.add_judgements(store, [cl.retraction_row(judged, "ben", "wrong record")])
    log = store_io.judgements(store)
    assert sorted(log["verdict"]) == ["negative", "retract"]
    assert set(log["retracts"].dropna()) == {judged["judgement_id"]}
    assert cl.effective_judgements(log).empty


def test_empty_batch_adds_nothing(store: Store) -> None:
    assert store.write_batch(batch("b0"), statements(0)) == 0
    assert store.write_batch(batch("b1", "g"), statements(2)) == 2
    assert store.read_statements().num_rows == 2
