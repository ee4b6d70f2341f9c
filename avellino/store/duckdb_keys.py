"""Give a batch's lean statements the DuckDB backend's integer keys (see ``duckdb_layout.py``).

Keys are looked up once per *distinct* entity id, (schema, property) pair and marking set, never once per
statement: the batch's string columns are dictionary-encoded (ingest workers send them that way already), the
few distinct strings are matched against the key tables in SQL, and every statement then gets its keys by array
indexing. Why: joining 8.7M statement rows to the key tables on their strings was ~12 of the writer's ~29
CPU-seconds on the 1M-record sample; indexing takes well under one.

Runs inside the caller's transaction; new keys continue from the current maximum (one writer at a time, by
DuckDB's file lock), so they never clash and never change.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from avellino.errors import StoreError
from avellino.store import duckdb_layout as layout
from avellino.store.duckdb_tx import registered
from avellino.store.schema import BASE_PROP


@dataclass(frozen=True)
class Codes:
    """A string column as its distinct values and, for each row, the index of its value."""

    values: pa.Array
    index: np.ndarray

    def used(self) -> np.ndarray:
        """The codes some row uses (a dictionary may hold values no row refers to)."""
        return np.flatnonzero(np.bincount(self.index, minlength=len(self.values)))


def codes(column: pa.ChunkedArray | pa.Array) -> Codes:
    """Split ``column`` (dictionary-encoded or plain strings, no nulls) into distinct values and row indices."""
    if column.null_count:
        raise StoreError("statements have an empty entity id, schema, property or marking set")
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    if isinstance(column, pa.ChunkedArray):
        chunks = column.chunks
        if chunks and all(c.dictionary.equals(chunks[0].dictionary) for c in chunks[1:]):
            # batches read back from an Arrow file share their dictionary: no need to unify (hash) it again
            index = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in chunks])
            found = Codes(chunks[0].dictionary, index.astype(np.int64))
        else:
            column = column.combine_chunks()  # also right for no chunks at all
    if not isinstance(column, pa.ChunkedArray):
        assert isinstance(column, pa.DictionaryArray)
        found = Codes(column.dictionary, column.indices.to_numpy(zero_copy_only=False).astype(np.int64))
    if found.values.null_count or pc.count_distinct(found.values).as_py() < len(found.values):
        # Arrow lets a dictionary repeat a value (or hold a null); keys must be one per distinct value
        return codes(pc.dictionary_encode(found.values.take(found.index)))
    return found


@dataclass(frozen=True)
class Keyed:
    """The batch's statements as stored rows (``stmt`` columns but ``batch_key``), and which belong to entities
    that were stored before this batch (only those can repeat a stored statement)."""

    rows: pa.Table
    known: np.ndarray


def key_statements(con: duckdb.DuckDBPyConnection, lean: pa.Table, markings: pa.Table) -> Keyed:
    """Assign keys to the batch's new marking sets, properties and entities, and return its keyed rows."""
    marking_key = _marking_keys(con, lean.column("marking_id"), markings)
    prop = codes(lean.column("prop"))
    prop_key = _prop_keys(con, codes(lean.column("schema")), prop)
    entity_key, known = _entity_keys(con, codes(lean.column("entity_id")))
    rows = pa.table(
        {
            "entity_key": entity_key,
            "prop_key": prop_key,
            "value": _stored_values(lean.column("value"), prop),
            "original_value": lean.column("original_value"),
            "source_row": lean.column("source_row"),
            "marking_key": marking_key,
        }
    )
    return Keyed(rows, known)


def _stored_values(value: pa.ChunkedArray, prop: Codes) -> pa.ChunkedArray | pa.Array:
    """The batch's values as stored: NULL for ``id`` statements (their value is the entity id, see
    ``duckdb_layout``)."""
    base = np.flatnonzero(pc.equal(prop.values, BASE_PROP).to_numpy(zero_copy_only=False))
    if not len(base):
        return value
    is_id = prop.index == base[0]
    if not pc.any(pc.is_valid(value.filter(pa.array(is_id)))).as_py():
        return value  # ingest sends them NULL already: no copy of the whole column
    return pc.if_else(pa.array(is_id), pa.scalar(None, pa.string()), value)


def _marking_keys(con: duckdb.DuckDBPyConnection, column: pa.ChunkedArray, markings: pa.Table) -> np.ndarray:
    c = codes(column)
    used = c.used()
    with registered(con, _marks=markings, _used=pa.table({"i": used, "marking_id": c.values.take(used)})):
        con.execute(
            f"INSERT INTO markings SELECT {layout.next_key('markings', 'marking_key')} + row_number() OVER (), n.* "
            # one row per marking id, even if the batch describes one set twice (e.g. a blank and a missing note)
            f"FROM (SELECT DISTINCT ON (marking_id) {layout.MARKING_COLUMNS} FROM _marks ORDER BY ALL) n "
            "WHERE NOT EXISTS (SELECT 1 FROM markings m WHERE m.marking_id = n.marking_id)"
        )
        found = con.execute(
            "SELECT u.i, m.marking_key, u.marking_id FROM _used u LEFT JOIN markings m USING (marking_id)"
        ).fetchall()
    missing = [r[2] for r in found if r[1] is None]
    if missing:
        raise StoreError(f"statements refer to marking sets the batch does not describe: {', '.join(missing[:3])}")
    by_code = np.zeros(len(c.values), dtype=np.int32)
    for i, key, _marking_id in found:
        by_code[i] = key
    return by_code[c.index]


def _prop_keys(con: duckdb.DuckDBPyConnection, s: Codes, p: Codes) -> np.ndarray:
    pair = s.index * len(p.values) + p.index  # one code per (schema, property) pair
    used = np.flatnonzero(np.bincount(pair, minlength=len(s.values) * len(p.values)))
    width = len(p.values)
    pairs = pa.table({"code": used, "schema": s.values.take(used // width), "prop": p.values.take(used % width)})
    with registered(con, _pairs=pairs):
        con.execute(
            f"INSERT INTO props SELECT {layout.next_key('props', 'prop_key')} + row_number() OVER (), n.schema, "
            "n.prop, NULL FROM _pairs n "
            "WHERE NOT EXISTS (SELECT 1 FROM props p WHERE p.schema = n.schema AND p.prop = n.prop)"
        )
        found = con.execute("SELECT n.code, p.prop_key FROM _pairs n JOIN props p USING (schema, prop)").fetchall()
    by_code = np.zeros(len(s.values) * len(p.values), dtype=np.int32)
    for code, key in found:
        by_code[code] = key
    return by_code[pair]


def _entity_keys(con: duckdb.DuckDBPyConnection, ids: Codes) -> tuple[np.ndarray, np.ndarray]:
    """(entity key of each row, whether each row's entity was stored before); stores the new entities."""
    used = ids.used()
    wanted = pa.table({"i": used, "entity_id": ids.values.take(used)})
    with registered(con, _wanted=wanted):
        stored = con.sql("SELECT w.i, e.entity_key FROM _wanted w JOIN entities e USING (entity_id)").to_arrow_table()
    key_by_code = np.zeros(len(ids.values), dtype=np.int64)
    known_by_code = np.zeros(len(ids.values), dtype=bool)
    old = stored.column("i").to_numpy()
    key_by_code[old] = stored.column("entity_key").to_numpy()
    known_by_code[old] = True
    new = used[~known_by_code[used]]
    base = con.execute(f"SELECT {layout.next_key('entities', 'entity_key')}").fetchall()[0][0]
    key_by_code[new] = np.arange(base + 1, base + 1 + len(new), dtype=np.int64)
    fresh = pa.table({"entity_key": key_by_code[new], "entity_id": ids.values.take(new)})
    with registered(con, _fresh=fresh):
        con.execute("INSERT INTO entities SELECT entity_key, entity_id FROM _fresh")
    return key_by_code[ids.index], known_by_code[ids.index]
