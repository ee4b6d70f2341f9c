"""Import one partner file as one atomic batch: read, check every row, map, clean, write — or reject whole."""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from avellino.errors import ConfigError, InputRejected, RowProblem
from avellino.ingest.cleaning import SQL_TYPES, UNCHANGED_SQL, clean_distinct
from avellino.ingest.compile import (
    MACROS,
    frame_sql,
    markings_sql,
    single_row_entities_sql,
    statements_sql,
    value_checks_sql,
)
from avellino.ingest.mapping import Mapping, load_mapping
from avellino.ingest.readers import ROW, read_table
from avellino.store.base import Store
from avellino.store.schema import BatchInfo, dictionary_encode_ids

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
    if not path.is_file():
        raise ConfigError(f"File not found: {path}")
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class Prepared:
    """A file checked and mapped, ready to be written as one batch (made in any process, written in one)."""

    path: Path
    checksum: str
    mapping_sha256: str
    rows: int
    statements: pa.Table
    markings: pa.Table
    unnormalised: int


def prepare_file(
    path: Path,
    mapping_path: Path,
    progress: Progress | None = None,
    today: dt.date | None = None,
    threads: int | None = None,
) -> Prepared:
    """Read, check, map and clean one file; raise InputRejected listing every bad row. Touches no store.
    ``threads`` caps DuckDB's threads (workers running side by side share the cores)."""
    say = progress or (lambda _msg: None)
    mapping = load_mapping(mapping_path)
    today = today or dt.date.today()
    say(f"reading {path.name}")
    fmt = mapping.resolved_format(path)
    con = duckdb.connect()
    try:
        # rows carry their own numbers (_row), so DuckDB may build the temp tables in parallel, out of order
        con.execute("SET preserve_insertion_order = false")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        for macro in MACROS:
            con.execute(macro)
        if fmt == "ftm":
            from avellino.ingest.ftm import ftm_raw_statements

            rows = ftm_raw_statements(con, path, mapping, today)
            single: list[int] = []
        else:
            src = read_table(path, fmt, mapping.options)
            rows = src.num_rows
            single = map_table(con, path, mapping, src, today, say, multi=fmt in {"json", "jsonl"})
        say("cleaning values")
        unnormalised = _clean_soft_types(con, mapping.country)
        table = dictionary_encode_ids(con.sql(finish_sql(single)).to_arrow_table())
        markings = con.sql("SELECT * FROM file_markings").to_arrow_table()
    finally:
        con.close()
    return Prepared(path, file_sha256(path), mapping.sha256, rows, table, markings, unnormalised)


def write_prepared(store: Store, prepared: Prepared) -> IngestResult:
    """Write a prepared file as one atomic batch."""
    batch_id = uuid.uuid4().hex
    table = prepared.statements
    batch = BatchInfo(
        batch_id, str(prepared.path), prepared.checksum, prepared.mapping_sha256, prepared.rows, table.num_rows,
        dt.datetime.now(),
    )  # fmt: skip
    added = store.write_batch(batch, table, prepared.markings)
    return IngestResult(
        str(prepared.path), batch_id, prepared.rows, table.num_rows, added, False, prepared.unnormalised
    )


def already_imported(store: Store, path: Path, mapping_path: Path) -> IngestResult | None:
    """The earlier import of this exact file with this exact mapping, if any."""
    mapping_sha256 = load_mapping(mapping_path).sha256
    previous = store.find_batch(file_sha256(path), mapping_sha256)
    if previous is None:
        return None
    return IngestResult(str(path), previous.batch_id, previous.rows, 0, 0, skipped=True)


def ingest_file(
    store: Store,
    path: Path,
    mapping_path: Path,
    progress: Progress | None = None,
    today: dt.date | None = None,
) -> IngestResult:
    """Import ``path`` with ``mapping_path``. Re-importing the same file with the same mapping does nothing."""
    previous = already_imported(store, path, mapping_path)
    if previous is not None:
        return previous
    prepared = prepare_file(path, mapping_path, progress, today)
    if progress:
        progress(f"writing {prepared.statements.num_rows:,} statements")
    return write_prepared(store, prepared)


def ingest_files(
    store: Store, jobs: list[tuple[Path, Path]], workers: int = 2
) -> Iterator[tuple[Path, IngestResult | InputRejected]]:
    """Import many files: each is prepared in a worker process and written here, one atomic batch per file, as
    they finish. A rejected file yields its InputRejected; the others go on."""
    todo: list[tuple[Path, Path]] = []
    for path, mapping_path in jobs:
        previous = already_imported(store, path, mapping_path)
        if previous is not None:
            yield path, previous
        else:
            todo.append((path, mapping_path))
    if not todo:
        return
    parallel = workers > 1 and len(todo) > 1
    with store.bulk(busy_cores=min(workers, len(todo)) if parallel else 0):
        yield from _prepare_and_write(store, todo, workers)


def _prepare_and_write(
    store: Store, todo: list[tuple[Path, Path]], workers: int
) -> Iterator[tuple[Path, IngestResult | InputRejected]]:
    if workers <= 1 or len(todo) <= 1:
        for path, mapping_path in todo:
            try:
                yield path, write_prepared(store, prepare_file(path, mapping_path))
            except InputRejected as exc:
                yield path, exc
        return
    # DuckDB's threads do not survive a plain fork, so workers come from a fork server: a fresh process that
    # imports Avellino (and FtM's model, ~2.3 CPU-s) once, before any DuckDB thread exists, then forks each worker
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        # workers share the cores: DuckDB threads beyond a worker's share only add contention (measured: 23%
        # more CPU for the 1M-record sample with 2 threads per worker on 2 cores)
        threads = max(1, (os.cpu_count() or 2) // workers)
        # biggest files first: the small ones then fill the gaps at the end instead of one big file running alone
        ordered = sorted(todo, key=lambda job: -job[0].stat().st_size)
        futures = {
            pool.submit(prepare_file, path, mapping_path, None, None, threads): path for path, mapping_path in ordered
        }
        for future in as_completed(futures):
            try:
                prepared = future.result()
            except InputRejected as exc:
                yield futures[future], exc
                continue
            yield futures[future], write_prepared(store, prepared)


def map_table(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    mapping: Mapping,
    src: pa.Table,
    today: dt.date,
    say: Progress,
    multi: bool = False,
) -> list[int]:
    """Check and map a source table into ``raw_st`` and ``file_markings``; raise InputRejected listing every
    bad row. Returns the mapped entities whose ids each occur on one row only (see ``finish_sql``)."""
    missing = sorted(mapping.columns_used() - set(src.column_names))
    if missing:
        problems = [RowProblem(str(path), 1, c, "column named in the mapping is not in the file") for c in missing]
        raise InputRejected(str(path), problems)
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
    con.execute(f"CREATE TEMP TABLE file_markings AS {markings_sql(mapping, today)}")
    unique = single_row_entities_sql(mapping)
    flags = con.execute(unique).fetchall()[0] if unique else ()
    return [i for i, flag in enumerate(flags) if flag]


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
    unchanged = " ".join(f"AND NOT (prop_type = {_q(t)} AND {test})" for t, test in UNCHANGED_SQL.items())
    distinct = con.execute(
        f"SELECT DISTINCT prop_type, value FROM raw_st WHERE prop_type NOT IN ({sql_types}) AND value IS NOT NULL "
        f"{unchanged}"
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


#: Statements of the batch, each kept once (first row wins): the lean rows the store keeps (STORED_SCHEMA).
GROUPED_SQL = """
SELECT entity_id, schema, prop, value,
  CASE WHEN min(original_value) IS DISTINCT FROM value THEN min(original_value) END AS original_value,
  min(_row) AS source_row, marking_id, CAST(NULL AS VARCHAR) AS batch_id
FROM raw_st WHERE value IS NOT NULL AND {where}
GROUP BY entity_id, schema, prop, value, marking_id
"""
PASSED_SQL = """
SELECT entity_id, schema, prop, value, CASE WHEN original_value IS DISTINCT FROM value THEN original_value END,
  _row, marking_id, CAST(NULL AS VARCHAR)
FROM raw_st WHERE value IS NOT NULL AND {where}
"""


def finish_sql(single: list[int]) -> str:
    """The batch's statements, each kept once. Statements tagged (``_e``) with an entity in ``single`` skip the
    grouping: their entity is on one row and they are that row's only value of their property, so they cannot
    repeat. Grouping all 8.7M statements of the 1M-record sample on five strings cost a sixth of preparing it,
    and most statements are of such entities (one call, payment or crossing per row)."""
    if not single:
        return GROUPED_SQL.format(where="true")
    listed = ", ".join(str(int(i)) for i in single)
    grouped = GROUPED_SQL.format(where=f"(_e IS NULL OR _e NOT IN ({listed}))")
    return f"{grouped} UNION ALL {PASSED_SQL.format(where=f'_e IN ({listed})')}"


__all__ = ["ROW", "IngestResult", "ingest_file"]
