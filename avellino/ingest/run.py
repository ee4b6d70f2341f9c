"""Import one partner file as one atomic batch: read, check every row, map, clean, write — or reject whole."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from avellino.errors import InputRejected, RowProblem
from avellino.ingest.cleaning import SQL_TYPES, clean_distinct
from avellino.ingest.compile import MACROS, frame_sql, statements_sql, value_checks_sql
from avellino.ingest.mapping import Mapping, load_mapping
from avellino.ingest.readers import ROW, read_table
from avellino.store.base import Store
from avellino.store.schema import BatchInfo

Progress = Callable[[str], None]
MAX_PROBLEMS = 10_000


@dataclass(frozen=True)
class IngestResult:
    source: str
    batch_id: str
    rows: int
    statements: int
    added: int
    skipped: bool
    unnormalised: int = 0


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ingest_file(
    store: Store,
    path: Path,
    mapping_path: Path,
    progress: Progress | None = None,
    today: dt.date | None = None,
) -> IngestResult:
    """Import ``path`` with ``mapping_path``. Re-importing the same file with the same mapping does nothing."""
    say = progress or (lambda _msg: None)
    mapping = load_mapping(mapping_path)
    checksum = file_sha256(path)
    previous = store.find_batch(checksum, mapping.sha256)
    if previous is not None:
        return IngestResult(str(path), previous.batch_id, previous.rows, 0, 0, skipped=True)
    today = today or dt.date.today()
    say(f"reading {path.name}")
    fmt = mapping.resolved_format(path)
    batch_id = uuid.uuid4().hex
    if fmt == "ftm":
        from avellino.ingest.ftm import ftm_statements

        raw, rows, unnormalised = ftm_statements(path, mapping, today)
        con = duckdb.connect()
        try:
            con.register("raw", raw)
            table = finish(con, "raw", batch_id, path.name)
        finally:
            con.close()
    else:
        src = read_table(path, fmt, mapping.options)
        multi = fmt in {"json", "jsonl"}
        table, rows, unnormalised = map_table(path, mapping, src, today, say, batch_id, multi)
    say(f"writing {table.num_rows:,} statements")
    batch = BatchInfo(batch_id, str(path), checksum, mapping.sha256, rows, table.num_rows, dt.datetime.now())
    added = store.write_batch(batch, table)
    return IngestResult(str(path), batch_id, rows, table.num_rows, added, False, unnormalised)


def map_table(
    path: Path,
    mapping: Mapping,
    src: pa.Table,
    today: dt.date,
    say: Progress,
    batch_id: str,
    multi: bool = False,
) -> tuple[pa.Table, int, int]:
    """Check and map a source table; raise InputRejected listing every bad row."""
    missing = sorted(mapping.columns_used() - set(src.column_names))
    if missing:
        problems = [RowProblem(str(path), 1, c, "column named in the mapping is not in the file") for c in missing]
        raise InputRejected(str(path), problems)
    con = duckdb.connect()
    try:
        for macro in MACROS:
            con.execute(macro)
        con.register("src", src)
        checks, select = statements_sql(mapping, today, multi)
        say(f"checking {src.num_rows:,} rows")
        con.execute(f"CREATE TEMP TABLE frame AS {frame_sql(mapping, today)}")
        problems = _problems(con, path, checks)
        con.execute(f"CREATE TEMP TABLE raw_st AS {select}")
        problems += _problems(con, path, [value_checks_sql()])
        if problems:
            uniq = sorted(set(problems), key=lambda p: (p.row, p.column, p.reason))
            raise InputRejected(str(path), uniq, src.num_rows)
        say("cleaning values")
        unnormalised = _clean_soft_types(con, mapping.country)
        con.execute(
            "CREATE TEMP VIEW final AS SELECT * EXCLUDE (_row, _column), "
            f"{_q(str(path.name))} || ':' || _row AS source_record FROM raw_st WHERE value IS NOT NULL"
        )
        table = finish(con, "final", batch_id, path.name)
    finally:
        con.close()
    return table, src.num_rows, unnormalised


def _q(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _problems(con: duckdb.DuckDBPyConnection, path: Path, checks: list[str]) -> list[RowProblem]:
    if not checks:
        return []
    sql = "\nUNION ALL\n".join(f"({c})" for c in checks)
    rows = con.execute(f"SELECT DISTINCT * FROM ({sql}) ORDER BY 1, 2 LIMIT {MAX_PROBLEMS}").fetchall()
    return [RowProblem(str(path), int(r[0]), str(r[1]), str(r[2])) for r in rows]


def _clean_soft_types(con: duckdb.DuckDBPyConnection, country: str | None) -> int:
    """Clean phones, countries, languages... once per distinct value with FtM's types; keep raw on failure."""
    sql_types = ", ".join(_q(t) for t in sorted(SQL_TYPES | {"id"}))
    distinct = con.execute(
        f"SELECT DISTINCT prop_type, value FROM raw_st WHERE prop_type NOT IN ({sql_types}) AND value IS NOT NULL"
    ).fetchall()
    if not distinct:
        return 0
    cleaned = clean_distinct([(str(t), str(v), country) for t, v in distinct])
    lookup = pa.table(
        {
            "prop_type": [c[0] for c in cleaned],
            "raw": [c[1] for c in cleaned],
            "clean": [c[3] for c in cleaned],
        }
    )
    con.register("lookup", lookup)
    con.execute(
        "UPDATE raw_st SET value = coalesce(l.clean, raw_st.value) FROM lookup l "
        "WHERE raw_st.prop_type = l.prop_type AND raw_st.value = l.raw"
    )
    return sum(1 for c in cleaned if c[3] is None)


FINISH_SQL = """
SELECT id, entity_id, entity_id AS canonical_id, schema, prop, prop_type, value,
  CASE WHEN original_value IS DISTINCT FROM value THEN original_value END AS original_value,
  NULL::VARCHAR AS lang, originator AS dataset, $origin AS origin, $now::TIMESTAMP AS first_seen,
  $now::TIMESTAMP AS last_seen, originator, source_record, handling_code, handling_note, tlp, evaluation,
  subject_category, retention_review, $batch AS batch_id
FROM (SELECT sha1(concat_ws(chr(31), entity_id, prop, value, originator)) AS id, * FROM {source})
QUALIFY row_number() OVER (PARTITION BY id ORDER BY source_record) = 1
"""


def finish(con: duckdb.DuckDBPyConnection, source: str, batch_id: str, origin: str) -> pa.Table:
    """Statement ids (SHA-1 of entity, property, value and originator, as FtM keys statements), canonical ids
    and provenance; duplicate statements within the batch are kept once (first row wins)."""
    now = dt.datetime.now().replace(microsecond=0)
    params = {"origin": origin, "now": now, "batch": batch_id}
    return con.sql(FINISH_SQL.format(source=source), params=params).to_arrow_table()


__all__ = ["ROW", "IngestResult", "ingest_file"]
