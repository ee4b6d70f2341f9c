"""Keys are looked up once per distinct value, however the batch's id columns are encoded."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from avellino.store.duckdb_keys import codes
from avellino.store.duckdb_store import DuckDBStore
from tests.statements import batch, statement_row, statement_table


def _decoded(found: object) -> list[str]:
    assert hasattr(found, "values") and hasattr(found, "index")
    return [found.values[i].as_py() for i in found.index]


def test_codes_of_plain_empty_and_chunked_columns() -> None:
    assert _decoded(codes(pa.chunked_array([["a", "b"], ["b", "c"]]))) == ["a", "b", "b", "c"]
    empty = codes(pa.chunked_array([], type=pa.dictionary(pa.int32(), pa.string())))
    assert len(empty.values) == 0 and len(empty.index) == 0
    # chunks with different dictionaries are unified
    mixed = pa.chunked_array([pc.dictionary_encode(pa.array(["x", "y"])), pc.dictionary_encode(pa.array(["y", "z"]))])
    found = codes(mixed)
    assert _decoded(found) == ["x", "y", "y", "z"] and len(found.values) == 3


def test_a_repeated_dictionary_value_gets_one_code() -> None:
    repeated = pa.DictionaryArray.from_arrays(pa.array([0, 1, 2], pa.int32()), pa.array(["E1", "E2", "E1"]))
    found = codes(repeated)
    assert _decoded(found) == ["E1", "E2", "E1"]
    assert sorted(found.values.to_pylist()) == ["E1", "E2"]


def test_repeated_ids_in_a_dictionary_make_one_entity(tmp_path: Path) -> None:
    table = statement_table([statement_row("E1", "name", "A"), statement_row("E2", "name", "B"),
                             statement_row("E1", "alias", "C")])  # fmt: skip
    ids = pa.DictionaryArray.from_arrays(pa.array([0, 1, 2], pa.int32()), pa.array(["E1", "E2", "E1"]))
    table = table.set_column(table.schema.get_field_index("entity_id"), "entity_id", ids)
    store = DuckDBStore(tmp_path / "ws", create=True)
    try:
        assert store.write_batch(batch("b1"), table) == 3
        assert store.con.execute("SELECT count(*), count(DISTINCT entity_id) FROM entities").fetchall() == [(2, 2)]
        assert sorted(store.read_statements(entity_ids=["E1"]).column("value").to_pylist()) == ["A", "C"]
    finally:
        store.close()
