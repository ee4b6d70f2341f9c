"""Import one partner file as one atomic batch: read, check every row, map, clean, write — or reject whole."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from avellino.errors import BatchExists, ConfigError, InputRejected, RowProblem, UnreadableFile
from avellino.ingest.compile import (
    MACROS,
    branches_table,
    code_collisions_sql,
    codes_sql,
    exact_codes_sql,
    frame_sql,
    markings_sql,
    single_row_entities_sql,
    statements_sql,
    value_checks_sql,
)
from avellino.ingest.finish import clean_soft_types, lean_statements
from avellino.ingest.mapping import Mapping, load_mapping
from avellino.ingest.readers import ROW, read_table, unreadable_as
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
    if not path.is_file():
        raise UnreadableFile(str(path), "file not found")
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class Prepared:
    """A file checked and mapped, ready to be written as one batch (made in any thread, written in one)."""

    path: Path
    checksum: str
    mapping_sha256: str
    rows: int
    statements: pa.Table
    markings: pa.Table
    unnormalised: int


def file_mapping(path: Path, mapping_path: Path | None) -> Mapping:
    """The mapping a file is read with: its own, or for a STIX, GraphML or GEXF export (``mapping_path`` None)
    the built-in one that keeps the markings each statement carries (``exchange.py``)."""
    if mapping_path is not None:
        return load_mapping(mapping_path)
    from avellino.ingest.exchange import detect, exchange_mapping

    fmt = detect(path)
    if fmt is None:
        raise ConfigError(
            f"{path}: give --mapping MAPPING.yml (docs/mappings.md); only STIX bundles (.stix.json, or a .json "
            "STIX bundle), GraphML and GEXF files written by `avellino export` import without one"
        )
    return exchange_mapping(path, fmt)


def prepare_file(
    path: Path,
    mapping_path: Path | None,
    progress: Progress | None = None,
    today: dt.date | None = None,
    threads: int | None = None,
) -> Prepared:
    """Read, check, map and clean one file; raise InputRejected listing every bad row. Touches no store.
    ``threads`` caps DuckDB's threads (workers running side by side share the cores). ``mapping_path`` None:
    a STIX, GraphML or GEXF export, read with the markings of its statements (``exchange.py``)."""
    say = progress or (lambda _msg: None)
    mapping = file_mapping(path, mapping_path)
    today = today or dt.date.today()
    say(f"reading {path.name}")
    fmt = mapping.resolved_format(path)
    con = _engine(threads).cursor()
    try:
        con.execute("SET enable_progress_bar = false")  # it prints to stdout, which may carry --json output
        if mapping_path is None:
            if not path.is_file():
                raise UnreadableFile(str(path), "file not found")
            rows, free = _exchange_raw_statements(con, path, mapping, today)
        elif fmt == "ftm":
            from avellino.ingest.ftm import ftm_raw_statements

            if not path.is_file():
                raise UnreadableFile(str(path), "file not found")
            with unreadable_as(path, fmt):
                rows, free = ftm_raw_statements(con, path, mapping, today)
        else:
            src = read_table(path, fmt, mapping.options)
            rows = src.num_rows
            free = map_table(con, path, mapping, src, today, say, multi=fmt in {"json", "jsonl"})
        say("cleaning values")
        unnormalised = clean_soft_types(con, mapping.country)
        table = lean_statements(con, free)
        markings = con.sql("SELECT * FROM file_markings").to_arrow_table()
    finally:
        con.close()
    return Prepared(path, file_sha256(path), mapping.sha256, rows, table, markings, unnormalised)


def _exchange_raw_statements(
    con: duckdb.DuckDBPyConnection, path: Path, mapping: Mapping, today: dt.date
) -> tuple[int, list[int]]:
    """A STIX, GraphML or GEXF export's statements, through FtM lines in a temporary folder and the FtM reader in
    strict mode; its problems named by object or node (``exchange.translated``)."""
    import tempfile

    from avellino.ingest.exchange import detect, translated, write_lines
    from avellino.ingest.ftm import ftm_raw_statements

    fmt = detect(path) or "stix"
    with tempfile.TemporaryDirectory(prefix="avellino-exchange-") as tmp:
        lines, where = Path(tmp) / "lines.ftm.json", Path(tmp) / "where.tsv"
        with lines.open("w", encoding="utf-8") as out, where.open("w", encoding="utf-8") as origin:
            write_lines(path, fmt, out, origin)
        try:
            return ftm_raw_statements(con, lines, mapping, today, strict=True)
        except InputRejected as exc:
            raise InputRejected(str(path), translated(path, exc.problems, where), exc.total_rows) from None


_engines: dict[int | None, duckdb.DuckDBPyConnection] = {}
_engines_lock = threading.Lock()


def _engine(threads: int | None) -> duckdb.DuckDBPyConnection:
    """This process's in-memory database for preparing files (one per thread cap, made on first use). Each
    file gets its own connection to it (``cursor()``), whose temp tables and registered tables no other file
    sees and which go when it closes. Why not a database per file: opening one costs ~25-70 ms of CPU, a
    connection ~0.1 ms. Settings here are the database's, shared by every file prepared at the same time."""
    with _engines_lock:
        engine = _engines.get(threads)
        if engine is None:
            engine = duckdb.connect()
            # rows carry their own numbers (_row), so DuckDB may build the temp tables in parallel, out of order
            engine.execute("SET preserve_insertion_order = false")
            if threads:
                engine.execute(f"SET threads = {int(threads)}")
            for macro in MACROS:
                engine.execute(macro)
            _engines[threads] = engine
        return engine


def write_prepared(store: Store, prepared: Prepared) -> IngestResult:
    """Write a prepared file as one atomic batch."""
    batch_id = uuid.uuid4().hex
    table = prepared.statements
    batch = BatchInfo(
        batch_id, str(prepared.path), prepared.checksum, prepared.mapping_sha256, prepared.rows, table.num_rows,
        dt.datetime.now(),
    )  # fmt: skip
    try:
        added = store.write_batch(batch, table, prepared.markings)
    except BatchExists as exc:  # another writer of a shared server imported the same file meanwhile
        return IngestResult(str(prepared.path), exc.batch_id, exc.rows, 0, 0, skipped=True)
    return IngestResult(
        str(prepared.path), batch_id, prepared.rows, table.num_rows, added, False, prepared.unnormalised
    )


def already_imported(store: Store, path: Path, mapping_path: Path | None) -> IngestResult | None:
    """The earlier import of this exact file with this exact mapping, if any."""
    mapping_sha256 = file_mapping(path, mapping_path).sha256
    previous = store.find_batch(file_sha256(path), mapping_sha256)
    if previous is None:
        return None
    return IngestResult(str(path), previous.batch_id, previous.rows, 0, 0, skipped=True)


def ingest_file(
    store: Store,
    path: Path,
    mapping_path: Path | None,
    progress: Progress | None = None,
    today: dt.date | None = None,
) -> IngestResult:
    """Import ``path`` with ``mapping_path`` (None: a STIX, GraphML or GEXF export, see ``exchange.py``).
    Re-importing the same file with the same mapping does nothing."""
    previous = already_imported(store, path, mapping_path)
    if previous is not None:
        return previous
    prepared = prepare_file(path, mapping_path, progress, today)
    if progress:
        progress(f"writing {prepared.statements.num_rows:,} statements")
    return write_prepared(store, prepared)


def ingest_files(
    store: Store, jobs: Sequence[tuple[Path, Path | None]], workers: int = 2
) -> Iterator[tuple[Path, IngestResult | InputRejected]]:
    """Import many files: ``workers`` threads prepare files side by side and this thread writes each one as one
    atomic batch as soon as it is ready. A file already imported yields its earlier result; a rejected or unreadable
    file yields its InputRejected (UnreadableFile); the others go on. A mapping that is wrong raises ConfigError
    (check them first with ``load_mapping`` to go on without their files)."""
    if workers <= 1 or len(jobs) <= 1:
        with store.bulk():
            for path, mapping_path in jobs:
                try:
                    yield path, ingest_file(store, path, mapping_path)
                except InputRejected as exc:
                    yield path, exc
        return
    with store.bulk(busy_cores=min(workers, len(jobs))):
        yield from _prepare_and_write(store, jobs, workers)


def _prepare_and_write(
    store: Store, jobs: Sequence[tuple[Path, Path | None]], workers: int
) -> Iterator[tuple[Path, IngestResult | InputRejected]]:
    # Threads, not processes: preparing a file is nearly all DuckDB and Arrow work, done outside Python's GIL, and
    # threads need no fork server or spooled statements (faster and cheaper, measured: see the CHANGELOG).
    # Workers share the cores: DuckDB threads beyond a worker's share only add contention.
    threads = max(1, (os.cpu_count() or 2) // workers)
    # biggest files first: the small ones then fill the gaps at the end instead of one big file alone (a missing
    # file sorts last, and the check below words its error)
    unchecked = sorted(jobs, key=lambda job: -job[0].stat().st_size if job[0].is_file() else 0)
    ordered: deque[tuple[Path, Path | None]] = deque()  # checked, not imported before, not yet started
    pending: dict[Future[Prepared], Path] = {}
    with ThreadPoolExecutor(workers, thread_name_prefix="avellino-prepare") as pool:

        def fill() -> None:
            # one file per worker at most is prepared ahead: memory stays bounded if writing is the slower part
            while ordered and len(pending) < workers:
                path, mapping_path = ordered.popleft()
                pending[pool.submit(prepare_file, path, mapping_path, None, None, threads)] = path

        try:
            # the first files are being prepared while the others are checked (hashed and looked up)
            for path, mapping_path in unchecked:
                try:
                    previous = already_imported(store, path, mapping_path)
                except InputRejected as exc:  # a missing file: the others go on
                    yield path, exc
                    continue
                if previous is not None:
                    yield path, previous
                else:
                    ordered.append((path, mapping_path))
                    fill()
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                ready = [(pending.pop(future), future) for future in done]
                fill()  # the workers go on while this thread writes
                for path, future in ready:
                    yield path, _write_ready(store, future)
        finally:
            # on an error, or when the caller stops early, files not yet started are not prepared at all
            for future in pending:
                future.cancel()


def _write_ready(store: Store, future: Future[Prepared]) -> IngestResult | InputRejected:
    try:
        prepared = future.result()
    except InputRejected as exc:
        return exc
    return write_prepared(store, prepared)


def map_table(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    mapping: Mapping,
    src: pa.Table,
    today: dt.date,
    say: Progress,
    multi: bool = False,
) -> list[int]:
    """Check and map a source table into ``raw_st`` (with ``branches``, ``ents`` and ``marks``, see
    ``finish.py``) and ``file_markings``; raise InputRejected listing every bad row. Returns the branches whose
    statements cannot repeat (see ``finish.finish_sql``)."""
    missing = sorted(mapping.columns_used() - set(src.column_names))
    if missing:
        problems = [RowProblem(str(path), 1, c, "column named in the mapping is not in the file") for c in missing]
        raise InputRejected(str(path), problems)
    con.register("src", src)
    checks, select, branches = statements_sql(mapping, today, multi)
    con.register("branches", branches_table(branches))
    say(f"checking {src.num_rows:,} rows")
    con.execute(f"CREATE TEMP TABLE frame AS {frame_sql(mapping, today)}")
    for sql in codes_sql(mapping, today):
        con.execute(sql)
    if con.execute(code_collisions_sql()).fetchall()[0][0]:
        for sql in exact_codes_sql(mapping, today):
            con.execute(sql)
    problems = _problems(con, path, checks)
    con.execute(f"CREATE TEMP TABLE raw_st AS {select}")
    problems += _problems(con, path, [value_checks_sql()])
    if problems:
        uniq = sorted(set(problems), key=lambda p: (p.row, p.column, p.reason))
        raise InputRejected(str(path), uniq, src.num_rows)
    con.execute(f"CREATE TEMP TABLE file_markings AS {markings_sql()}")
    unique = single_row_entities_sql(mapping)
    flags = con.execute(unique).fetchall()[0] if unique else ()
    alone = {i for i, flag in enumerate(flags) if flag}
    return [b for b, branch in enumerate(branches) if branch.single and branch.entity in alone]


def _problems(con: duckdb.DuckDBPyConnection, path: Path, checks: list[str]) -> list[RowProblem]:
    if not checks:
        return []
    sql = "\nUNION ALL\n".join(f"({c})" for c in checks)
    rows = con.execute(f"SELECT DISTINCT * FROM ({sql}) ORDER BY 1, 2 LIMIT {MAX_PROBLEMS}").fetchall()
    return [RowProblem(str(path), int(r[0]), str(r[1]), str(r[2])) for r in rows]


__all__ = ["ROW", "IngestResult", "ingest_file"]
