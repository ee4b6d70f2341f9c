"""The embedded default: one workspace folder holding one DuckDB file.

The on-disk layout (integer keys, see ``duckdb_layout.py``) is this backend's own; callers read the
``statements`` view. Atomicity comes from DuckDB transactions: a batch is inserted inside BEGIN ... COMMIT, so
a crash or SIGKILL before COMMIT leaves the file as it was (DuckDB replays only committed WAL entries on the next open).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from avellino.errors import BatchExists, ConfigError, StoreError
from avellino.store import duckdb_layout as layout
from avellino.store.base import Store, aggregate_query, check_table_name, statements_query
from avellino.store.duckdb_keys import Keyed, key_statements
from avellino.store.duckdb_tx import registered, transaction
from avellino.store.proofs_sql import KEYS as PROOF_KEYS
from avellino.store.schema import (
    DELETE_SCHEMA,
    PROOF_MANIFEST_SCHEMA,
    PROOF_PAGE_SCHEMA,
    PROOF_SALT_SCHEMA,
    STATEMENT_COLUMNS,
    BatchInfo,
    Proofs,
    lean_from_full_sql,
    markings_from_full_sql,
)

DB_FILE = "avellino.duckdb"


class DuckDBStore(Store):
    """A workspace's DuckDB file. DuckDB lets one process write a file, or any number of processes read it.

    ``read_only`` opens it for reading, side by side with other readers: nothing is written at open (the layout
    is checked, not upgraded). A writer creates or upgrades the tables and the ``statements`` view. Either waits
    up to ``AVELLINO_LOCK_WAIT`` seconds (default 60) while another process holds the file the other way."""

    def __init__(self, workspace: Path, create: bool = False, read_only: bool = False):
        self.workspace = workspace
        self.path = workspace / DB_FILE
        self.read_only = read_only
        self._spill: tempfile.TemporaryDirectory[str] | None = None
        if not self.path.exists() and not create:
            raise StoreError(
                f"No Avellino workspace at {workspace} (missing {DB_FILE}). "
                f"Create one with: avellino init --workspace {workspace}"
            )
        if read_only and not self.path.exists():
            raise StoreError(f"No Avellino workspace at {workspace} (missing {DB_FILE}) to read.")
        workspace.mkdir(parents=True, exist_ok=True)
        self.con = connect(self.path, workspace, read_only)
        self.con.execute("SET enable_progress_bar = false")  # it prints to stdout, which may carry --json output
        if read_only:
            problem = layout.stale(self.con)
            if problem:
                self.con.close()
                raise StoreError(
                    f"The workspace {workspace} {problem}: run any write command (or `avellino init --workspace "
                    f"{workspace}`) to upgrade it, then read it again."
                )
        else:
            self._create()

    def _create(self) -> None:
        layout.create(self.con)

    def write_batch(
        self, batch: BatchInfo, statements: pa.Table, markings: pa.Table | None = None, proofs: Proofs | None = None
    ) -> int:
        with transaction(self.con, _incoming=statements):
            added = self._write_in_tx(batch, statements, markings)
            if proofs is not None:
                self._write_proofs(proofs)
            return added

    def _write_proofs(self, proofs: Proofs) -> None:
        """Proof rows not stored yet, inside the caller's transaction."""
        for table, data in (("proof_manifests", proofs.manifests), ("proof_pages", proofs.pages),
                            ("proof_salts", proofs.salts)):  # fmt: skip
            if not data.num_rows:
                continue
            on = " AND ".join(f"p.{k} = n.{k}" for k in PROOF_KEYS[table])
            with registered(self.con, _proofs=data):
                self.con.execute(
                    f"INSERT INTO {table} SELECT DISTINCT ON ({', '.join(PROOF_KEYS[table])}) * FROM _proofs n "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {table} p WHERE {on})"
                )

    def read_proofs(self, originators: Sequence[str] | None = None) -> Proofs:
        # a cursor of its own: a send reads proofs while it scans statements on another
        cur = self.con.cursor()
        try:
            exists = cur.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'proof_manifests'")
            if not exists.fetchall()[0][0] or (originators is not None and not originators):
                return Proofs(PROOF_MANIFEST_SCHEMA.empty_table(), PROOF_PAGE_SCHEMA.empty_table(),
                              PROOF_SALT_SCHEMA.empty_table())  # fmt: skip
            ids = "SELECT manifest_id FROM proof_manifests WHERE $every OR originator IN (SELECT unnest($o))"
            params: dict[str, object] = {"o": list(originators or []), "every": originators is None}
            tables = [
                cur.sql(f"SELECT {', '.join(schema.names)} FROM {name} WHERE manifest_id IN ({ids})", params=params)
                .to_arrow_table()
                .cast(schema)
                for name, schema in (("proof_manifests", PROOF_MANIFEST_SCHEMA), ("proof_pages", PROOF_PAGE_SCHEMA),
                                     ("proof_salts", PROOF_SALT_SCHEMA))
            ]  # fmt: skip
        finally:
            cur.close()
        return Proofs(*tables)

    def _write_in_tx(self, batch: BatchInfo, statements: pa.Table, markings: pa.Table | None) -> int:
        """The batch's rows (``statements``, registered as ``_incoming``) and record, inside the caller's
        transaction."""
        if markings is None:
            markings = self.con.sql(markings_from_full_sql("_incoming")).to_arrow_table()
            statements = self.con.sql(lean_from_full_sql("_incoming")).to_arrow_table()
        key = self._one(f"SELECT {layout.next_key('batches', 'batch_key')} + 1")
        self.con.execute(
            f"INSERT INTO batches ({layout.BATCH_COLUMNS}, batch_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [batch.batch_id, batch.source, batch.file_sha256, batch.mapping_sha256, batch.rows, 0,
             batch.imported_at, key],
        )  # fmt: skip
        added = self._insert_statements(key_statements(self.con, statements, markings), key)
        self.con.execute("UPDATE batches SET statements = ? WHERE batch_key = ?", [added, key])
        return added

    def _insert_statements(self, keyed: Keyed, batch_key: int) -> int:
        """Insert the batch's keyed rows; a statement already stored (same entity, property, value and markings)
        is skipped. Only entities stored before can repeat one, so only their rows are checked."""
        cols = "entity_key, prop_key, value, original_value, source_row, marking_key"
        insert = f"INSERT INTO stmt SELECT {cols}, $batch FROM "
        if not keyed.known.any():
            with registered(self.con, _keyed=keyed.rows):
                return self._one(insert + "_keyed", {"batch": batch_key})
        fresh = keyed.rows.filter(pa.array(~keyed.known))
        repeat = keyed.rows.filter(pa.array(keyed.known))
        with registered(self.con, _fresh=fresh, _repeat=repeat):
            added = self._one(insert + "_fresh", {"batch": batch_key}) if fresh.num_rows else 0
            # rows just inserted belong to new entities, so they can never match a known entity's row here
            added += self._one(
                f"{insert} _repeat n ANTI JOIN (SELECT entity_key, prop_key, value, marking_key FROM stmt "
                "WHERE entity_key IN (SELECT DISTINCT entity_key FROM _repeat)) s "
                "ON n.entity_key = s.entity_key AND n.prop_key = s.prop_key AND n.marking_key = s.marking_key "
                "AND n.value IS NOT DISTINCT FROM s.value",  # id statements are stored without value
                {"batch": batch_key},
            )
        return added

    def _one(self, sql: str, params: dict[str, object] | None = None) -> int:
        row = self.con.execute(sql, params).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    @contextmanager
    def bulk(self, busy_cores: int = 0) -> Iterator[None]:
        """Many batches in a row: checkpoint once at the end instead of after every few batches (each batch
        stays atomic and durable through the write-ahead log). While workers keep the other cores busy, one
        writer thread is faster than several fighting them (measured: 10% less wall time on 2 cores, and fuller
        row groups make a 23% smaller file)."""
        self.con.execute("SET checkpoint_threshold = '4GB'")
        spare = (os.cpu_count() or 1) - busy_cores
        if busy_cores:
            self.con.execute(f"SET threads = {max(1, spare)}")
        try:
            yield
        finally:
            self.con.execute("RESET checkpoint_threshold")
            if busy_cores:
                self.con.execute("RESET threads")
            self.con.execute("CHECKPOINT")

    def find_batch(self, file_sha256: str, mapping_sha256: str) -> BatchInfo | None:
        rows = self.con.execute(
            f"SELECT {layout.BATCH_COLUMNS} FROM batches WHERE file_sha256 = ? AND mapping_sha256 = ? "
            "ORDER BY imported_at LIMIT 1",
            [file_sha256, mapping_sha256],
        ).fetchall()
        return BatchInfo(*rows[0]) if rows else None

    def batches(self) -> list[BatchInfo]:
        rows = self.con.execute(f"SELECT {layout.BATCH_COLUMNS} FROM batches ORDER BY imported_at").fetchall()
        return [BatchInfo(*r) for r in rows]

    def read_statements(
        self,
        schemata: Sequence[str] | None = None,
        entity_ids: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
    ) -> pa.Table:
        sql, params = statements_query(schemata, entity_ids, columns, "{} IN (SELECT unnest(?))")
        return self.con.sql(sql, params=params).to_arrow_table()

    def aggregate(self, group_by: Sequence[str]) -> pa.Table:
        return self.con.sql(aggregate_query(group_by)).to_arrow_table()

    def scan_statements(
        self, columns: Sequence[str] | None = None, batch_rows: int = 65_536
    ) -> Iterator[pa.RecordBatch]:
        cols = ", ".join(f'"{c}"' for c in (columns or STATEMENT_COLUMNS))
        # a cursor of its own, so that the caller may run other queries on the store while it reads
        cursor = self.con.cursor()
        try:
            yield from cursor.sql(f"SELECT {cols} FROM statements").to_arrow_reader(batch_rows)
        finally:
            cursor.close()

    def stream_query(
        self, sql: str, schema: pa.Schema, batch_rows: int = 65_536, memory_limit: str | None = None
    ) -> Iterator[pa.RecordBatch]:
        # its own cursor, so the caller may query the store meanwhile. Under a memory limit DuckDB sorts and groups
        # within it and spills the rest to a temp folder of its own (the workspace may be read-only, and DuckDB's
        # default, beside the file, would be written into it); without a limit a big export's sort holds it all
        cursor = self.con.cursor()
        try:
            if memory_limit:
                self._spill_here()
                cursor.execute(f"SET memory_limit = '{memory_limit}'")
            yield from (b.cast(schema) for b in cursor.sql(sql).to_arrow_reader(batch_rows))
        except duckdb.OutOfMemoryException as exc:
            raise StoreError(
                f"The query needed more than the {memory_limit or 'default'} memory limit it ran under "
                "(for exports: AVELLINO_EXPORT_MEMORY); raise it and run again."
            ) from exc
        finally:
            cursor.close()
            if memory_limit:
                self.con.execute("RESET memory_limit")

    def _spill_here(self) -> None:
        """Spill to a temp folder of this store's own, made once (DuckDB cannot switch it once used) and removed
        at close; if this connection already spilled elsewhere, that folder stays."""
        if self._spill is not None:
            return
        self._spill = tempfile.TemporaryDirectory(prefix="avellino-spill-")
        with suppress(duckdb.NotImplementedException):
            self.con.execute(f"SET temp_directory = '{self._spill.name}'")

    def write_table(self, name: str, table: pa.Table, mode: str = "replace") -> None:
        name = check_table_name(name)
        if mode not in {"replace", "append"}:
            raise ValueError("mode must be 'replace' or 'append'")
        table = _text_for_nulls(table)
        with transaction(self.con, _derived=table):
            if mode == "replace":
                self.con.execute(f"CREATE OR REPLACE TABLE x_{name} AS SELECT * FROM _derived")
            else:
                self.con.execute(f"CREATE TABLE IF NOT EXISTS x_{name} AS SELECT * FROM _derived LIMIT 0")
                untyped = self.con.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = ? AND trim(data_type, '\"') = 'NULL'",
                    [f"x_{name}"],
                ).fetchall()
                for (column,) in untyped:  # written by an earlier version from an all-null first batch
                    self.con.execute(f'ALTER TABLE x_{name} ALTER COLUMN "{column}" TYPE VARCHAR')
                self.con.execute(f"INSERT INTO x_{name} BY NAME SELECT * FROM _derived")

    def read_table(self, name: str) -> pa.Table | None:
        name = check_table_name(name)
        exists = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [f"x_{name}"]
        ).fetchall()[0][0]
        if not exists:
            return None
        return self.con.sql(f"SELECT * FROM x_{name}").to_arrow_table()

    def set_canonical(self, mapping: pa.Table) -> None:
        with transaction(self.con, _canon=mapping.select(["entity_id", "canonical_id"])):
            self.con.execute("DELETE FROM canon")
            self.con.execute(
                "INSERT INTO canon SELECT DISTINCT entity_id, canonical_id FROM _canon "
                "WHERE canonical_id IS NOT NULL AND canonical_id <> entity_id"
            )

    def delete_statements(self, targets: pa.Table) -> int:
        with transaction(self.con):
            return self._delete_in_tx(targets)

    def replace_statements(
        self,
        targets: pa.Table,
        batch: BatchInfo,
        statements: pa.Table,
        markings: pa.Table | None = None,
        proofs: Proofs | None = None,
    ) -> tuple[int, int]:
        with transaction(self.con, _incoming=statements):
            earlier = self.find_batch(batch.file_sha256, batch.mapping_sha256)
            if earlier is not None:  # raised inside the block: rolled back (nothing was changed yet anyway)
                raise BatchExists(batch.source, earlier.batch_id, earlier.rows)
            deleted = self._delete_in_tx(targets)
            added = self._write_in_tx(batch, statements, markings)
            if proofs is not None:
                self._write_proofs(proofs)
            return deleted, added

    def _delete_in_tx(self, targets: pa.Table) -> int:
        """Delete what ``targets`` (DELETE_SCHEMA) names, inside the caller's transaction. Rows naming whole
        entities and rows naming statements go in two deletes, each joined on keys that are never NULL: one join
        of both kinds on ``statement_id = md5(...)`` was planned as a nested loop (7 s for 2,000 entities whose
        statement ids were all NULL, and growing with entities x statements)."""
        targets = targets.select(DELETE_SCHEMA.names).cast(DELETE_SCHEMA)
        by_id = pc.is_valid(targets.column("statement_id"))
        whole, single = targets.filter(pc.invert(by_id)), targets.filter(by_id)
        stmt_id = f"md5(concat_ws('|', e.entity_id, p.prop, {layout.VALUE}, m.marking_id))"
        joined = (
            "FROM stmt s JOIN entities e ON e.entity_key = s.entity_key JOIN props p ON p.prop_key = s.prop_key "
            "JOIN markings m ON m.marking_key = s.marking_key"
        )
        gone = 0
        with registered(self.con, _whole=whole, _single=single):
            if whole.num_rows:
                gone += self._one(
                    f"DELETE FROM stmt WHERE rowid IN (SELECT s.rowid {joined} JOIN _whole t "
                    "ON t.entity_id = e.entity_id AND t.originator = m.originator)"
                )
            if single.num_rows:
                gone += self._one(
                    f"DELETE FROM stmt WHERE rowid IN (SELECT s.rowid {joined} JOIN _single t "
                    f"ON t.statement_id = {stmt_id} AND t.originator = m.originator)"
                )
        return gone

    def close(self) -> None:
        self.con.close()
        if self._spill is not None:
            self._spill.cleanup()
            self._spill = None


#: Seconds a command waits for a workspace another process holds (``AVELLINO_LOCK_WAIT``).
DEFAULT_LOCK_WAIT = 60.0


def lock_wait() -> float:
    raw = os.environ.get("AVELLINO_LOCK_WAIT", "")
    try:
        return max(0.0, float(raw)) if raw.strip() else DEFAULT_LOCK_WAIT
    except ValueError as exc:
        raise ConfigError(f"AVELLINO_LOCK_WAIT must be a number of seconds, not {raw!r}") from exc


def _is_lock_conflict(exc: duckdb.Error) -> bool:
    text = str(exc)
    return "Could not set lock" in text or "Conflicting lock" in text


def connect(path: Path, workspace: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Connect to the file, waiting (with backoff) while another process holds a conflicting lock: a writer
    while others read or write, a reader while another process writes."""
    wait = lock_wait()
    deadline = time.monotonic() + wait
    delay, told = 0.05, False
    holder = "writing it" if read_only else "reading or writing it"
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.ConnectionException as exc:
            # this process already holds the file with the other setting (a command run inside another, or a
            # test): a reader shares the writer's database instead of failing
            if read_only and "different configuration" in str(exc):
                return duckdb.connect(str(path))
            raise StoreError(f"Cannot open {path}: {exc}") from exc
        except duckdb.IOException as exc:
            if not _is_lock_conflict(exc):
                raise StoreError(f"Cannot open {path}: {exc}") from exc
            if time.monotonic() + delay > deadline:
                raise StoreError(
                    f"The workspace {workspace} is in use by another command ({holder}), still after {wait:g} s. "
                    "A DuckDB workspace has one writer at a time (readers run "
                    "side by side): try again when it finishes, set AVELLINO_LOCK_WAIT to wait longer, or, for many "
                    "analysts writing at once, move to the PostgreSQL backend (AVELLINO_STORE_URL, see "
                    "docs/workspaces.md)."
                ) from exc
            if not told:
                print(f"workspace {workspace} is in use by another command; waiting…", file=sys.stderr, flush=True)
                told = True
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def _text_for_nulls(table: pa.Table) -> pa.Table:
    """A column that is null in every row has no type: store it as text (as PostgreSQL does), so later appends
    with values fit."""
    for i, f in enumerate(table.schema):
        if pa.types.is_null(f.type):
            table = table.set_column(i, pa.field(f.name, pa.string()), pa.nulls(table.num_rows, pa.string()))
    return table
