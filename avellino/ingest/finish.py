"""From one file's raw statements to the lean statement table a store writes: clean, de-duplicate, encode.

Input (temp tables of one DuckDB connection, made by ``compile.py`` for mapped files or ``ftm.py``):

- ``raw_st(_row, _b, _p, _c, value, original_value, _k)``: one row per value found, with its branch (``_b``),
  (schema, property) pair (``_p``), entity code (``_c``) and marking-set code (``_k``); ``original_value`` is
  the value as written, or NULL where it equals ``value``;
- ``branches(_b, _column, schema, prop, prop_type, _p, entity, single)``: where each branch's values come from;
- ``ents(h, id)`` and ``marks(h, marking_id, ...)``: the file's distinct entity ids and marking sets, each
  with its (unique) code.

Output: a lean statement table (``STORED_SCHEMA``) whose id columns are dictionary-encoded, built from the codes
without hashing a string per statement. An ``id`` statement's value is NULL (it is the entity id, which stores
know): raw statements carry ``''`` for it, since no other value is ever empty.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from avellino.ingest.cleaning import SQL_TYPES, UNCHANGED_SQL, clean_distinct
from avellino.ingest.sql import q
from avellino.store.duckdb_tx import registered

#: Statements kept once per (entity, property, value, markings); the first row wins.
GROUPED_SQL = """
SELECT _c, _p, NULLIF(value, '') AS value,
  CASE WHEN min(coalesce(original_value, value)) IS DISTINCT FROM value
    THEN min(coalesce(original_value, value)) END AS original_value,
  min(_row) AS source_row, _k
FROM raw_st WHERE value IS NOT NULL AND {where}
GROUP BY _c, _p, value, _k
"""
#: Statements that cannot repeat, passed through as they are.
PASSED_SQL = """
SELECT _c, _p, NULLIF(value, ''), CASE WHEN original_value IS DISTINCT FROM value THEN original_value END, _row, _k
FROM raw_st WHERE value IS NOT NULL AND {where}
"""


def finish_sql(free: list[int]) -> str:
    """The file's statements, each kept once. Branches in ``free`` skip the grouping: their entity is on one row
    only and the branch gives that row's only value of its property, so their statements cannot repeat.
    Grouping every statement cost a sixth of preparing the 1M-record sample; most statements are of such
    entities (one call, payment or crossing per row)."""
    if not free:
        return GROUPED_SQL.format(where="true")
    listed = ", ".join(str(int(b)) for b in free)
    grouped = GROUPED_SQL.format(where=f"_b NOT IN ({listed})")
    return f"{grouped} UNION ALL {PASSED_SQL.format(where=f'_b IN ({listed})')}"


def lean_statements(con: duckdb.DuckDBPyConnection, free: list[int]) -> pa.Table:
    """The de-duplicated statements as a lean table, ids dictionary-encoded straight from their codes."""
    coded = con.sql(finish_sql(free)).to_arrow_table()
    ents = con.sql("SELECT h, id FROM ents").to_arrow_table()
    marks = con.sql("SELECT h, marking_id FROM marks").to_arrow_table()
    pairs = con.execute("SELECT DISTINCT _p, schema, prop FROM branches ORDER BY _p").fetchall()
    pair = coded.column("_p").to_numpy(zero_copy_only=False).astype(np.int64)
    schema = _from_pairs(pair, [r[1] for r in pairs], [r[0] for r in pairs])
    prop = _from_pairs(pair, [r[2] for r in pairs], [r[0] for r in pairs])
    n = coded.num_rows
    return pa.table(
        {
            "entity_id": _decode(coded.column("_c"), ents),
            "schema": schema,
            "prop": prop,
            "value": coded.column("value"),
            "original_value": coded.column("original_value"),
            "source_row": coded.column("source_row").cast(pa.int64()),
            "marking_id": _decode(coded.column("_k"), marks),
            "batch_id": pa.nulls(n, pa.string()),
        }
    )


def _decode(codes: pa.ChunkedArray, values: pa.Table) -> pa.ChunkedArray:
    """Codes looked up in ``values`` (code ``h``, value) as a dictionary-encoded column: each distinct value
    once, an index per statement (codes are unique in ``values``, see ``compile.code_collisions_sql``)."""
    index = pc.index_in(codes.combine_chunks(), value_set=values.column("h").combine_chunks())
    dictionary = values.column(1).combine_chunks().cast(pa.string())
    # one chunk, so every record batch of the column shares one dictionary (as Arrow IPC files require)
    return pa.chunked_array([pa.DictionaryArray.from_arrays(index.cast(pa.int32()), dictionary)])


def _from_pairs(pair: np.ndarray, names: list[str], codes: list[int]) -> pa.DictionaryArray:
    """A schema (or property) column from each statement's pair code."""
    distinct = sorted(set(names))
    index = {name: i for i, name in enumerate(distinct)}
    by_pair = np.zeros(max(codes, default=-1) + 1, dtype=np.int32)
    for code, name in zip(codes, names, strict=True):
        by_pair[code] = index[name]
    return pa.DictionaryArray.from_arrays(pa.array(by_pair[pair], pa.int32()), pa.array(distinct, pa.string()))


def clean_soft_types(con: duckdb.DuckDBPyConnection, country: str | None) -> int:
    """Clean countries, languages, URLs... once per distinct value with FtM's types; keep raw on failure.
    Returns how many distinct values FtM could not read."""
    sql_types = ", ".join(q(t) for t in sorted(SQL_TYPES | {"id"}))
    soft = con.execute(f"SELECT _b, prop_type FROM branches WHERE prop_type NOT IN ({sql_types})").fetchall()
    if not soft:
        return 0
    kind = {int(b): str(t) for b, t in soft}
    listed = ", ".join(str(b) for b in kind)
    unchanged = [
        f"(_b IN ({', '.join(str(b) for b, t in kind.items() if t == name)}) AND {test})"
        for name, test in UNCHANGED_SQL.items()
        if name in kind.values()
    ]
    skip = f"AND NOT ({' OR '.join(unchanged)})" if unchanged else ""
    found = con.execute(
        f"SELECT DISTINCT _b, value FROM raw_st WHERE _b IN ({listed}) AND value IS NOT NULL {skip}"
    ).fetchall()
    if not found:
        return 0
    distinct = sorted({(kind[int(b)], str(v)) for b, v in found})
    cleaned = {(t, raw): clean for t, raw, _country, clean in clean_distinct([(t, v, country) for t, v in distinct])}
    lookup = pa.table(
        {
            "_b": pa.array([b for b, _ in found], pa.int16()),
            "raw": [v for _, v in found],
            "clean": [cleaned[(kind[int(b)], str(v))] for b, v in found],
        }
    )
    with registered(con, lookup=lookup):
        con.execute(
            "UPDATE raw_st SET value = coalesce(l.clean, raw_st.value), "
            "original_value = coalesce(raw_st.original_value, raw_st.value) FROM lookup l "
            "WHERE raw_st._b = l._b AND raw_st.value = l.raw"
        )
    return sum(1 for clean in cleaned.values() if clean is None)
