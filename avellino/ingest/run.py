"""Import one partner file as one atomic batch: read, check every row, map, clean, write — or reject whole."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import multiprocessing
import multiprocessing.context
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import forkserver
from pathlib import Path

import duckdb
import pyarrow as pa

from avellino.errors import AvellinoError, ConfigError, InputRejected, RowProblem
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

    def spool(self, folder: Path) -> Spooled:
        """This file with its statements moved to an Arrow file in ``folder`` (see :class:`Spooled`)."""
        target = folder / f"{uuid.uuid4().hex}.arrow"
        with pa.OSFile(str(target), "wb") as sink, pa.ipc.new_file(sink, self.statements.schema) as writer:
            writer.write_table(self.statements)
        return Spooled(dataclasses.replace(self, statements=self.statements.schema.empty_table()), target)


@dataclass
class Spooled:
    """A prepared file whose statements wait in an Arrow file: what a worker sends back to the writer. Why: the
    result pipe pickles and unpickles every buffer, which cost the writer process (the bottleneck) 3 CPU-s for
    the 683 MB of statements of the 1M-record sample; a memory-mapped Arrow file is read without a copy."""

    prepared: Prepared
    file: Path

    def load(self) -> Prepared:
        table = pa.ipc.open_file(pa.memory_map(str(self.file))).read_all()
        return dataclasses.replace(self.prepared, statements=table)


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
    con = _engine(threads).cursor()
    try:
        con.execute("SET enable_progress_bar = false")  # it prints to stdout, which may carry --json output
        if fmt == "ftm":
            from avellino.ingest.ftm import ftm_raw_statements

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


_engines: dict[int | None, duckdb.DuckDBPyConnection] = {}
_engines_lock = threading.Lock()


def _engine(threads: int | None) -> duckdb.DuckDBPyConnection:
    """This process's in-memory database for preparing files (one per thread cap, made on first use). Each
    file gets its own connection to it (``cursor()``), whose temp tables and registered tables no other file
    sees and which go when it closes. Why not a database per file: opening one costs ~25 ms of CPU, a connection
    ~0.1 ms, and the 1M-record sample prepares 26 files in each of three processes."""
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
    if workers > 1 and len(jobs) > 1:
        _pool_context()  # the fork server imports Avellino while the files are checked below
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


def _pool_context() -> multiprocessing.context.BaseContext:
    """The worker processes' context: the fork server (started now, if not yet running) where there is one."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    # pandas too: Arrow imports it on a process's first pa.array (to ask whether the values are a pandas
    # object), ~0.3 CPU-s that each worker would otherwise pay again after the fork
    context.set_forkserver_preload([__name__, "pandas"])
    forkserver.ensure_running()
    return context


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
    # DuckDB's threads do not survive a plain fork, so workers come from a fork server where there is one: a
    # fresh process that imports Avellino (and FtM's model, ~2.3 CPU-s) once, before any DuckDB thread exists,
    # then forks each worker. Elsewhere (Windows) each worker is spawned and imports on its own.
    context = _pool_context()
    with tempfile.TemporaryDirectory(prefix="avellino-ingest-") as spool:
        pool = ProcessPoolExecutor(workers, context, initializer=_watch_writer, initargs=(os.getpid(), spool))
        try:
            # workers share the cores: DuckDB threads beyond a worker's share only add contention (measured:
            # 23% more CPU for the 1M-record sample with 2 threads per worker on 2 cores)
            threads = max(1, (os.cpu_count() or 2) // workers)
            # biggest files first: the small ones then fill the gaps at the end instead of one big file alone
            ordered = deque(sorted(todo, key=lambda job: -job[0].stat().st_size))
            feeder = _Feeder(pool, ordered, threads, Path(spool))
            feeder.start()
            try:
                # until a worker's first file is ready (the fork server first imports Avellino, ~2 s on one core,
                # then the first big files take seconds), the smallest files are prepared and written here, on
                # the core that would otherwise wait (measured: about 1 s of the 1M-record sample's wall time)
                while (job := feeder.take_smallest()) is not None:
                    yield _prepare_here(store, job, threads)
            except BaseException:  # an error here, or the caller stopped early: submit no more
                feeder.stop.set()
                feeder.join()
                raise
            futures = feeder.finish()
            for future in as_completed(futures):
                yield futures[future][0], _write_spooled(store, futures[future][0], future)
        finally:
            # on an error, or when the caller stops early, the files not yet started are not prepared at all
            pool.shutdown(wait=True, cancel_futures=True)


class _Feeder(threading.Thread):
    """Submits ``jobs`` to ``pool`` in order, from a thread of its own, because the first submit blocks until the
    pool's fork server has started. Until a worker's first file is ready, the caller may take the smallest jobs
    not yet started (:meth:`take_smallest`)."""

    def __init__(
        self,
        pool: ProcessPoolExecutor,
        jobs: deque[tuple[Path, Path]],
        threads: int,
        spool: Path,
    ):
        super().__init__(name="avellino-ingest-feeder", daemon=True)
        self.pool, self.jobs, self.threads, self.spool = pool, jobs, threads, spool
        self.lock = threading.Lock()
        self.futures: dict[Future[Spooled], tuple[Path, Path]] = {}
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                with self.lock:
                    if not self.jobs:
                        return
                    job = self.jobs.popleft()
                future = self.pool.submit(_prepare_spooled, *job, self.threads, self.spool)
                with self.lock:
                    self.futures[future] = job
        except BaseException as exc:  # handed to the caller by finish()
            self.error = exc

    def take_smallest(self) -> tuple[Path, Path] | None:
        """The smallest job no worker has started, while no worker's file is ready; else None. A job already
        submitted is taken back by cancelling it (the pool hands a few jobs to its workers ahead)."""
        with self.lock:
            if any(f.done() for f in self.futures):
                return None
            if self.jobs:
                return self.jobs.pop()
            last = next(reversed(self.futures), None)  # submitted in order: the smallest is last
            return self.futures.pop(last) if last is not None and last.cancel() else None

    def finish(self) -> dict[Future[Spooled], tuple[Path, Path]]:
        """Every job's future left to the pool, once all are submitted; re-raises a submit's error."""
        self.join()
        if self.error is not None:
            raise self.error
        return self.futures


def _prepare_here(store: Store, job: tuple[Path, Path], threads: int) -> tuple[Path, IngestResult | InputRejected]:
    path, mapping_path = job
    try:
        return path, write_prepared(store, prepare_file(path, mapping_path, threads=threads))
    except InputRejected as exc:
        return path, exc


def _write_spooled(store: Store, path: Path, future: Future[Spooled]) -> IngestResult | InputRejected:
    try:
        spooled = future.result()
    except InputRejected as exc:
        return exc
    except BrokenProcessPool as exc:
        raise AvellinoError(
            f"{path}: the worker preparing this file stopped (out of memory?); it and the files after it were not "
            "imported. Run the import again, with fewer jobs (-j 1) if it happens again."
        ) from exc
    try:
        return write_prepared(store, spooled.load())
    finally:
        spooled.file.unlink(missing_ok=True)


def _prepare_spooled(path: Path, mapping_path: Path, threads: int, spool: Path) -> Spooled:
    """:func:`prepare_file` in a worker process, its statements handed back through ``spool``."""
    return prepare_file(path, mapping_path, None, None, threads).spool(spool)


def _watch_writer(writer: int, spool: str) -> None:
    """Worker start-up: if the writing process dies (even by SIGKILL, which runs no clean-up), remove the
    spooled statements and stop, instead of preparing files nobody will write."""

    def watch() -> None:
        while True:
            time.sleep(0.5)
            try:
                os.kill(writer, 0)
            except ProcessLookupError:
                shutil.rmtree(spool, ignore_errors=True)
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


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
