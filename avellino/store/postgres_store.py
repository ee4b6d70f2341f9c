"""The shared-server backend: PostgreSQL, for agencies that run one node for many analysts.

Same contract as the DuckDB store (the behavioural suite in tests/store runs against both). Batches are written
with COPY inside one transaction, so a failure or a killed client leaves the server as it was.

Many writers run at once: statements and batches have unique keys (``postgres_migrations.py``), so a writer
inserts ``ON CONFLICT DO NOTHING`` and two writers of overlapping files store each statement once; a file two
writers import at the same time is written by the first, and the second gets ``BatchExists``. Opening a store
runs no DDL: ``avellino init`` sets the schema up (``postgres_schema.py``) and an open only checks its version.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.csv as pacsv

from avellino.errors import BatchExists, StoreError
from avellino.store import postgres_schema
from avellino.store.base import Store, aggregate_query, check_table_name, statements_query
from avellino.store.proofs_sql import KEYS as PROOF_KEYS
from avellino.store.schema import (
    BASE_PROP,
    DELETE_SCHEMA,
    MARKING_SCHEMA,
    PROOF_MANIFEST_SCHEMA,
    PROOF_PAGE_SCHEMA,
    PROOF_SALT_SCHEMA,
    STATEMENT_COLUMNS,
    STATEMENT_SCHEMA,
    STORED_COLUMNS,
    STORED_SCHEMA,
    BatchInfo,
    Proofs,
    lean_from_full_sql,
    markings_from_full_sql,
)

T = TypeVar("T")

_PG_TYPES = {
    pa.string(): "TEXT",
    pa.timestamp("us"): "TIMESTAMP",
    pa.date32(): "DATE",
    pa.int64(): "BIGINT",
    pa.int32(): "INTEGER",
    pa.float64(): "DOUBLE PRECISION",
    pa.bool_(): "BOOLEAN",
}


def _pg_type(dtype: pa.DataType) -> str:
    if dtype in _PG_TYPES:
        return _PG_TYPES[dtype]
    if pa.types.is_timestamp(dtype):
        return "TIMESTAMP"
    if pa.types.is_integer(dtype):
        return "BIGINT"
    if pa.types.is_floating(dtype):
        return "DOUBLE PRECISION"
    if (pa.types.is_list(dtype) or pa.types.is_large_list(dtype)) and pa.types.is_string(dtype.value_type):
        return "TEXT[]"  # identifiers and name parts of resolution's features: read back as lists
    return "TEXT"


#: How ``format_type`` names each type of ``_pg_type``: a derived table whose columns already have these types
#: has its rows replaced, not the table.
_FORMAT_TYPES = {"TIMESTAMP": "timestamp without time zone"}

#: The one key every statement insert conflicts on (``stmt_unique`` of migration 2); rows go in this order so
#: that writers of overlapping batches wait on each other in one order and never deadlock.
STMT_KEY = "entity_id, prop, marking_id, md5(value)"

#: Times a write is tried again when the server picked it to break a deadlock (it was rolled back whole).
DEADLOCK_RETRIES = 3


class PostgresStore(Store):
    def __init__(self, url: str):
        import psycopg

        self.where = postgres_schema.redact(url)
        try:
            self.con = psycopg.connect(url, autocommit=True)
        except psycopg.OperationalError as exc:
            raise StoreError(f"Cannot connect to PostgreSQL at {self.where}: {exc}") from exc
        try:
            postgres_schema.check(self.con, self.where)
        except BaseException:
            self.con.close()
            raise

    @contextmanager
    def _writing(self, what: str) -> Iterator[None]:
        """A write that a read-only role may not make: say so in the analyst's terms."""
        import psycopg

        try:
            yield
        except psycopg.errors.InsufficientPrivilege as exc:
            raise StoreError(
                f"Cannot {what} in the PostgreSQL workspace at {self.where}: this database role may only read it "
                f"({exc.diag.message_primary}). An administrator lets a role write with: avellino init "
                f"--grant-writer ROLE --workspace {self.where}"
            ) from exc

    def _retrying(self, write: Callable[[], T]) -> T:
        import psycopg

        for attempt in range(DEADLOCK_RETRIES + 1):
            try:
                return write()
            except psycopg.errors.DeadlockDetected:
                if attempt == DEADLOCK_RETRIES:
                    raise
        raise AssertionError("unreachable")

    def _copy(self, cur: Any, table: str, data: pa.Table) -> None:
        cols = ", ".join(f'"{c}"' for c in data.column_names)
        if all(_csv_safe(f.type) for f in data.schema):
            # Arrow writes CSV in C++ (~20x faster than adapting row by row); every valid value is quoted, so an
            # unquoted empty field is NULL and "" an empty string, as COPY's CSV format reads them.
            options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
            with cur.copy(f"COPY {table} ({cols}) FROM STDIN (FORMAT csv)") as copy:
                for batch in data.to_batches(max_chunksize=100_000):
                    buf = io.BytesIO()
                    pacsv.write_csv(pa.Table.from_batches([batch], data.schema), buf, options)
                    copy.write(buf.getvalue())
            return
        with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for batch in data.to_batches(max_chunksize=50_000):
                for row in zip(*(col.to_pylist() for col in batch.columns), strict=True):
                    copy.write_row(row)

    def write_batch(
        self, batch: BatchInfo, statements: pa.Table, markings: pa.Table | None = None, proofs: Proofs | None = None
    ) -> int:
        with self._writing("import a file"):
            return self._retrying(lambda: self._write_batch(batch, statements, markings, proofs))

    def _write_batch(
        self, batch: BatchInfo, statements: pa.Table, markings: pa.Table | None, proofs: Proofs | None
    ) -> int:
        with self.con.transaction(), self.con.cursor() as cur:
            self._claim_batch(cur, batch)
            added = self._write_in_tx(cur, batch, statements, markings)
            if proofs is not None:
                self._write_proofs(cur, proofs)
            return added

    def _write_proofs(self, cur: Any, proofs: Proofs) -> None:
        """Proof rows not stored yet, inside the caller's transaction."""
        for table, data in (("proof_manifests", proofs.manifests), ("proof_pages", proofs.pages),
                            ("proof_salts", proofs.salts)):  # fmt: skip
            if not data.num_rows:
                continue
            cur.execute(f"CREATE TEMP TABLE incoming_{table} (LIKE {table}) ON COMMIT DROP")
            self._copy(cur, f"incoming_{table}", data)
            keys = ", ".join(PROOF_KEYS[table])
            cur.execute(
                f"INSERT INTO {table} SELECT * FROM incoming_{table} ORDER BY {keys} ON CONFLICT ({keys}) DO NOTHING"
            )

    def read_proofs(self, originators: Sequence[str] | None = None) -> Proofs:
        ids = "SELECT manifest_id FROM proof_manifests WHERE %s OR originator = ANY(%s)"
        out = []
        for table, schema in (("proof_manifests", PROOF_MANIFEST_SCHEMA), ("proof_pages", PROOF_PAGE_SCHEMA),
                              ("proof_salts", PROOF_SALT_SCHEMA)):  # fmt: skip
            cols = ", ".join(schema.names)
            params = (originators is None, list(originators or []))
            out.append(self._arrow(f"SELECT {cols} FROM {table} WHERE manifest_id IN ({ids})", params, schema))
        return Proofs(*out)

    def replace_statements(
        self,
        targets: pa.Table,
        batch: BatchInfo,
        statements: pa.Table,
        markings: pa.Table | None = None,
        proofs: Proofs | None = None,
    ) -> tuple[int, int]:
        def replace() -> tuple[int, int]:
            with self.con.transaction(), self.con.cursor() as cur:
                self._claim_batch(cur, batch)  # a second copy of this correction waits here, then does nothing
                deleted = self._delete_in_tx(cur, targets)
                added = self._write_in_tx(cur, batch, statements, markings)
                if proofs is not None:
                    self._write_proofs(cur, proofs)
                return deleted, added

        with self._writing("apply a correction"):
            return self._retrying(replace)

    def _claim_batch(self, cur: Any, batch: BatchInfo) -> None:
        """Insert the batch record first: a writer of the same file waits here until this one commits, then finds
        the key taken and raises ``BatchExists`` (its transaction rolls back whole)."""
        cur.execute(
            "INSERT INTO batches VALUES (%s, %s, %s, %s, %s, 0, %s) "
            "ON CONFLICT (file_sha256, mapping_sha256) DO NOTHING",
            (batch.batch_id, batch.source, batch.file_sha256, batch.mapping_sha256, batch.rows, batch.imported_at),
        )
        if cur.rowcount == 0:
            cur.execute(
                "SELECT batch_id, rows FROM batches WHERE file_sha256 = %s AND mapping_sha256 = %s",
                (batch.file_sha256, batch.mapping_sha256),
            )
            row = cur.fetchone()
            earlier, rows = (row[0], int(row[1])) if row else ("?", 0)
            raise BatchExists(batch.source, earlier, rows)

    def _write_in_tx(self, cur: Any, batch: BatchInfo, statements: pa.Table, markings: pa.Table | None) -> int:
        """The claimed batch's statements, inside the caller's transaction."""
        if markings is None:
            statements = statements.select(STATEMENT_COLUMNS).cast(STATEMENT_SCHEMA)
            cur.execute("CREATE TEMP TABLE incoming_full (LIKE statements) ON COMMIT DROP")
            self._copy(cur, "incoming_full", statements)
            cur.execute(f"CREATE TEMP TABLE incoming ON COMMIT DROP AS {lean_from_full_sql('incoming_full')}")
            cur.execute(f"CREATE TEMP TABLE marks ON COMMIT DROP AS {markings_from_full_sql('incoming_full')}")
        else:
            cur.execute("CREATE TEMP TABLE incoming (LIKE stmt) ON COMMIT DROP")
            self._copy(cur, "incoming", statements.select(STORED_COLUMNS).cast(STORED_SCHEMA))
            cur.execute(f"UPDATE incoming SET value = entity_id WHERE value IS NULL AND prop = '{BASE_PROP}'")
            cur.execute("CREATE TEMP TABLE marks (LIKE markings) ON COMMIT DROP")
            self._copy(cur, "marks", markings.select(MARKING_SCHEMA.names).cast(MARKING_SCHEMA))
        cur.execute(
            "INSERT INTO markings SELECT DISTINCT * FROM marks ORDER BY marking_id ON CONFLICT (marking_id) DO NOTHING"
        )
        cols = ", ".join(STORED_COLUMNS)
        picks = ", ".join(c if c != "batch_id" else "%s" for c in STORED_COLUMNS)
        cur.execute(
            f"INSERT INTO stmt ({cols}) SELECT {picks} FROM incoming ORDER BY {STMT_KEY} "
            f"ON CONFLICT ({STMT_KEY}) DO NOTHING",
            (batch.batch_id,),
        )
        added = cur.rowcount
        cur.execute("UPDATE batches SET statements = %s WHERE batch_id = %s", (added, batch.batch_id))
        return int(added)

    def find_batch(self, file_sha256: str, mapping_sha256: str) -> BatchInfo | None:
        with self.con.transaction(), self.con.cursor() as cur:
            cur.execute(
                "SELECT * FROM batches WHERE file_sha256 = %s AND mapping_sha256 = %s ORDER BY imported_at LIMIT 1",
                (file_sha256, mapping_sha256),
            )
            row = cur.fetchone()
        return BatchInfo(*row) if row else None

    def batches(self) -> list[BatchInfo]:
        with self.con.transaction(), self.con.cursor() as cur:
            cur.execute("SELECT * FROM batches ORDER BY imported_at")
            return [BatchInfo(*r) for r in cur.fetchall()]

    def _arrow(self, sql: str, params: Sequence[Any] = (), schema: pa.Schema | None = None) -> pa.Table:
        with self.con.transaction(), self.con.cursor() as cur:
            cur.execute(sql, params)
            names = [d.name for d in cur.description or []]
            rows = cur.fetchall()
        columns = {n: [r[i] for r in rows] for i, n in enumerate(names)}
        if schema is not None:
            return pa.table({n: pa.array(columns[n], type=schema.field(n).type) for n in names})
        return pa.table({n: pa.array(v) for n, v in columns.items()}) if names else pa.table({})

    def read_statements(
        self,
        schemata: Sequence[str] | None = None,
        entity_ids: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
    ) -> pa.Table:
        sql, params = statements_query(schemata, entity_ids, columns, "{} = ANY(%s)")
        schema = pa.schema([STATEMENT_SCHEMA.field(c) for c in (columns or STATEMENT_COLUMNS)])
        return self._arrow(sql, params, schema)

    def scan_statements(
        self, columns: Sequence[str] | None = None, batch_rows: int = 65_536
    ) -> Iterator[pa.RecordBatch]:
        names = list(columns or STATEMENT_COLUMNS)
        schema = pa.schema([STATEMENT_SCHEMA.field(c) for c in names])
        cols = ", ".join(f'"{c}"' for c in names)
        # a server-side (named) cursor: rows arrive batch by batch instead of all at once
        with self.con.transaction(), self.con.cursor(name="avellino_scan") as cur:
            cur.execute(f"SELECT {cols} FROM statements")
            while rows := cur.fetchmany(batch_rows):
                yield pa.RecordBatch.from_arrays(
                    [pa.array([r[i] for r in rows], type=schema.field(i).type) for i in range(len(names))],
                    schema=schema,
                )

    def stream_query(
        self, sql: str, schema: pa.Schema, batch_rows: int = 65_536, memory_limit: str | None = None
    ) -> Iterator[pa.RecordBatch]:
        # a server-side (named) cursor: rows arrive batch by batch, in the query's order
        with self.con.transaction(), self.con.cursor(name="avellino_stream") as cur:
            cur.execute(sql)
            while rows := cur.fetchmany(batch_rows):
                yield pa.RecordBatch.from_arrays(
                    [pa.array([r[i] for r in rows], type=schema.field(i).type) for i in range(len(schema))],
                    schema=schema,
                )

    def aggregate(self, group_by: Sequence[str]) -> pa.Table:
        sql = aggregate_query(group_by)
        fields = [STATEMENT_SCHEMA.field(c) for c in group_by]
        schema = pa.schema([*fields, ("statements", pa.int64()), ("entities", pa.int64())])
        return self._arrow(sql, (), schema)

    def write_table(self, name: str, table: pa.Table, mode: str = "replace") -> None:
        name = check_table_name(name)
        if mode not in {"replace", "append"}:
            raise ValueError("mode must be 'replace' or 'append'")
        target = f"x_{name}"
        with self._writing(f"keep the {name} table"), self.con.transaction(), self.con.cursor() as cur:
            # writers of one derived table queue here; readers never wait, as its rows change, not the table
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('avellino table ' || current_schema() || %s))", (name,))
            cur.execute(
                "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
                "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                (target,),
            )
            columns = [tuple(r) for r in cur.fetchall()]
            wanted = [(f.name, _format_type(f.type)) for f in table.schema]
            if columns and mode == "replace" and columns == wanted:
                cur.execute(f"DELETE FROM {target}")
            elif not columns or mode == "replace":
                # made (or remade with other columns) by the workspace owner's function, granted to the recorded
                # roles: a writer role needs no DDL right (migration 5)
                cur.execute(
                    "SELECT avellino_derived_table(%s, %s, %s)",
                    (target, table.schema.names, [_pg_type(f.type) for f in table.schema]),
                )
            self._copy(cur, target, table)

    def read_table(self, name: str) -> pa.Table | None:
        name = check_table_name(name)
        with self.con.transaction(), self.con.cursor() as cur:
            cur.execute("SELECT to_regclass(%s)", (f"x_{name}",))
            row = cur.fetchone()
        if not row or row[0] is None:
            return None
        return self._arrow(f"SELECT * FROM x_{name}")

    def set_canonical(self, mapping: pa.Table) -> None:
        with self._writing("record resolved identities"), self.con.transaction(), self.con.cursor() as cur:
            # two resolutions at once would each empty the table and then clash on the keys the other inserted
            cur.execute("SELECT pg_advisory_xact_lock(hashtext('avellino canon ' || current_schema()))")
            cur.execute("CREATE TEMP TABLE new_canon (entity_id TEXT, canonical_id TEXT) ON COMMIT DROP")
            self._copy(cur, "new_canon", mapping.select(["entity_id", "canonical_id"]))
            cur.execute("DELETE FROM canon")
            cur.execute(
                "INSERT INTO canon SELECT DISTINCT ON (entity_id) entity_id, canonical_id FROM new_canon "
                "WHERE canonical_id IS NOT NULL AND canonical_id <> entity_id"
            )

    def delete_statements(self, targets: pa.Table) -> int:
        with self.con.transaction(), self.con.cursor() as cur:
            return self._delete_in_tx(cur, targets)

    def _delete_in_tx(self, cur: Any, targets: pa.Table) -> int:
        """Delete what ``targets`` (DELETE_SCHEMA) names, inside the caller's transaction."""
        targets = targets.select(DELETE_SCHEMA.names).cast(DELETE_SCHEMA)
        stmt_id = "md5(concat_ws('|', s.entity_id, s.prop, s.value, s.marking_id))"
        cur.execute("CREATE TEMP TABLE doomed (originator TEXT, entity_id TEXT, statement_id TEXT) ON COMMIT DROP")
        self._copy(cur, "doomed", targets)
        cur.execute(
            "DELETE FROM stmt s USING markings m, doomed t WHERE m.marking_id = s.marking_id "
            "AND t.originator = m.originator AND t.statement_id IS NULL AND t.entity_id = s.entity_id"
        )
        gone = cur.rowcount
        cur.execute(
            "DELETE FROM stmt s USING markings m, doomed t WHERE m.marking_id = s.marking_id "
            f"AND t.originator = m.originator AND t.statement_id = {stmt_id}"
        )
        return int(gone + cur.rowcount)

    def close(self) -> None:
        self.con.close()


def _format_type(dtype: pa.DataType) -> str:
    name = _pg_type(dtype)
    return _FORMAT_TYPES.get(name, name.lower())


def _csv_safe(dtype: pa.DataType) -> bool:
    """Types whose Arrow CSV text PostgreSQL reads back unchanged."""
    return bool(
        pa.types.is_string(dtype)
        or pa.types.is_integer(dtype)
        or pa.types.is_floating(dtype)
        or pa.types.is_boolean(dtype)
        or pa.types.is_date(dtype)
        or (pa.types.is_timestamp(dtype) and dtype.tz is None)
    )
