"""The shared-server backend: PostgreSQL, for agencies that run one node for many analysts.

Same contract as the DuckDB store (the behavioural suite in tests/store runs against both). Batches are written
with COPY inside one transaction, so a failure or a killed client leaves the server as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from avellino.errors import StoreError
from avellino.store.base import Store, check_table_name
from avellino.store.schema import BATCH_SCHEMA, STATEMENT_COLUMNS, STATEMENT_SCHEMA, BatchInfo

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
    return "TEXT"


def _ddl(name: str, schema: pa.Schema) -> str:
    return f"CREATE TABLE IF NOT EXISTS {name} (" + ", ".join(f'"{f.name}" {_pg_type(f.type)}' for f in schema) + ")"


class PostgresStore(Store):
    def __init__(self, url: str):
        import psycopg

        try:
            self.con = psycopg.connect(url, autocommit=True)
        except psycopg.OperationalError as exc:
            raise StoreError(f"Cannot connect to PostgreSQL at {_redact(url)}: {exc}") from exc
        with self.con.transaction(), self.con.cursor() as cur:
            cur.execute(_ddl("statements", STATEMENT_SCHEMA))
            cur.execute(_ddl("batches", BATCH_SCHEMA))
            cur.execute("CREATE UNIQUE INDEX IF NOT EXISTS statements_id ON statements (id)")
            cur.execute("CREATE INDEX IF NOT EXISTS statements_canonical ON statements (canonical_id, entity_id)")
            cur.execute("CREATE INDEX IF NOT EXISTS batches_checksum ON batches (file_sha256, mapping_sha256)")

    def _copy(self, cur: Any, table: str, data: pa.Table) -> None:
        cols = ", ".join(f'"{c}"' for c in data.column_names)
        with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
            for batch in data.to_batches(max_chunksize=50_000):
                for row in zip(*(col.to_pylist() for col in batch.columns), strict=True):
                    copy.write_row(row)

    def write_batch(self, batch: BatchInfo, statements: pa.Table) -> int:
        statements = statements.select(STATEMENT_COLUMNS).cast(STATEMENT_SCHEMA)
        cols = ", ".join(f'"{c}"' for c in STATEMENT_COLUMNS)
        with self.con.transaction(), self.con.cursor() as cur:
            cur.execute("CREATE TEMP TABLE incoming (LIKE statements) ON COMMIT DROP")
            self._copy(cur, "incoming", statements)
            cur.execute(
                f"INSERT INTO statements ({cols}) SELECT DISTINCT ON (id) {cols} FROM incoming "
                "ON CONFLICT (id) DO NOTHING"
            )
            added = cur.rowcount
            cur.execute(
                "INSERT INTO batches VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (batch.batch_id, batch.source, batch.file_sha256, batch.mapping_sha256, batch.rows, added,
                 batch.imported_at),
            )  # fmt: skip
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
        cols = list(columns or STATEMENT_COLUMNS)
        where, params = [], []
        if schemata:
            where.append("schema = ANY(%s)")
            params.append(list(schemata))
        if entity_ids:
            where.append("(entity_id = ANY(%s) OR canonical_id = ANY(%s))")
            params.extend([list(entity_ids), list(entity_ids)])
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        order = "ORDER BY canonical_id, entity_id, prop" if not columns else ""
        select = ", ".join(f'"{c}"' for c in cols)
        schema = pa.schema([STATEMENT_SCHEMA.field(c) for c in cols])
        return self._arrow(f"SELECT {select} FROM statements {clause} {order}", params, schema)

    def aggregate(self, group_by: Sequence[str]) -> pa.Table:
        for col in group_by:
            if col not in STATEMENT_COLUMNS:
                raise ValueError(f"cannot group by {col!r}")
        keys = ", ".join(f'"{c}"' for c in group_by)
        select = f"{keys}, " if keys else ""
        group = f"GROUP BY {keys} ORDER BY {keys}" if keys else ""
        fields = [STATEMENT_SCHEMA.field(c) for c in group_by]
        schema = pa.schema([*fields, ("statements", pa.int64()), ("entities", pa.int64())])
        sql = f"SELECT {select}count(*) AS statements, count(DISTINCT entity_id) AS entities FROM statements {group}"
        return self._arrow(sql, (), schema)

    def write_table(self, name: str, table: pa.Table, mode: str = "replace") -> None:
        name = check_table_name(name)
        if mode not in {"replace", "append"}:
            raise ValueError("mode must be 'replace' or 'append'")
        with self.con.transaction(), self.con.cursor() as cur:
            if mode == "replace":
                cur.execute(f"DROP TABLE IF EXISTS x_{name}")
            cur.execute(_ddl(f"x_{name}", table.schema))
            self._copy(cur, f"x_{name}", table)

    def read_table(self, name: str) -> pa.Table | None:
        name = check_table_name(name)
        with self.con.transaction(), self.con.cursor() as cur:
            cur.execute("SELECT to_regclass(%s)", (f"x_{name}",))
            row = cur.fetchone()
        if not row or row[0] is None:
            return None
        return self._arrow(f"SELECT * FROM x_{name}")

    def set_canonical(self, mapping: pa.Table) -> None:
        with self.con.transaction(), self.con.cursor() as cur:
            cur.execute("CREATE TEMP TABLE canon (entity_id TEXT, canonical_id TEXT) ON COMMIT DROP")
            self._copy(cur, "canon", mapping.select(["entity_id", "canonical_id"]))
            cur.execute("UPDATE statements SET canonical_id = entity_id WHERE canonical_id <> entity_id")
            cur.execute(
                "UPDATE statements s SET canonical_id = c.canonical_id FROM canon c WHERE s.entity_id = c.entity_id"
            )

    def close(self) -> None:
        self.con.close()


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
