"""The embedded default: one workspace folder holding one DuckDB file.

Atomicity comes from DuckDB transactions: a batch is inserted inside BEGIN ... COMMIT, so a crash or SIGKILL
before COMMIT leaves the file as it was (DuckDB replays only committed WAL entries on the next open).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from avellino.errors import StoreError
from avellino.store.base import Store, aggregate_query, check_table_name, statements_query
from avellino.store.schema import (
    BATCH_SCHEMA,
    MARKING_SCHEMA,
    STORED_COLUMNS,
    STORED_SCHEMA,
    BatchInfo,
    lean_from_full_sql,
    markings_from_full_sql,
    prop_types_table,
    statement_view_sql,
)

DB_FILE = "avellino.duckdb"

_DUCK_TYPES = {
    pa.string(): "VARCHAR",
    pa.timestamp("us"): "TIMESTAMP",
    pa.date32(): "DATE",
    pa.int64(): "BIGINT",
}


def ddl(name: str, schema: pa.Schema) -> str:
    cols = ", ".join(f'"{f.name}" {_DUCK_TYPES[f.type]}' for f in schema)
    return f"CREATE TABLE IF NOT EXISTS {name} ({cols})"


class DuckDBStore(Store):
    def __init__(self, workspace: Path, create: bool = False, read_only: bool = False):
        self.workspace = workspace
        self.path = workspace / DB_FILE
        if not self.path.exists() and not create:
            raise StoreError(
                f"No Avellino workspace at {workspace} (missing {DB_FILE}). "
                f"Create one with: avellino init --workspace {workspace}"
            )
        workspace.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as exc:
            raise StoreError(f"Cannot open {self.path}: {exc} (is another avellino command using it?)") from exc
        if not read_only:
            self._create()

    def _create(self) -> None:
        self.con.execute(ddl("stmt", STORED_SCHEMA))
        self.con.execute(ddl("markings", MARKING_SCHEMA))
        self.con.execute(ddl("batches", BATCH_SCHEMA))
        self.con.execute("CREATE TABLE IF NOT EXISTS canon (entity_id VARCHAR, canonical_id VARCHAR)")
        types = prop_types_table()
        self.con.register("_types", types)
        self.con.execute("CREATE OR REPLACE TABLE prop_types AS SELECT * FROM _types")
        self.con.unregister("_types")
        self.con.execute(f"CREATE OR REPLACE VIEW statements AS {statement_view_sql()}")

    def write_batch(self, batch: BatchInfo, statements: pa.Table, markings: pa.Table | None = None) -> int:
        self.con.register("_incoming", statements)
        if markings is not None:
            self.con.register("_marks", markings)
        try:
            self.con.begin()
            if markings is None:
                self.con.execute(f"CREATE OR REPLACE TEMP TABLE _lean AS {lean_from_full_sql('_incoming')}")
                self.con.execute(f"CREATE OR REPLACE TEMP VIEW _marks AS {markings_from_full_sql('_incoming')}")
                source = "_lean"
            else:
                source = "_incoming"
            cols = ", ".join(STORED_COLUMNS)
            # every statement belongs to this batch, whatever batch_id the incoming table carries
            picks = ", ".join(c if c != "batch_id" else "$batch AS batch_id" for c in STORED_COLUMNS)
            self.con.execute(
                "INSERT INTO markings SELECT DISTINCT * FROM _marks n "
                "WHERE NOT EXISTS (SELECT 1 FROM markings m WHERE m.marking_id = n.marking_id)"
            )
            before = self._statement_total()
            # Only entities already in the store can repeat a stored statement: look those up with a one-column
            # semi-join, insert everything else straight away, and anti-join the rest against their rows only.
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE _known AS SELECT DISTINCT entity_id FROM stmt "
                f"WHERE entity_id IN (SELECT entity_id FROM {source})"
            )
            self.con.execute(
                f"INSERT INTO stmt ({cols}) SELECT {picks} FROM {source} i "
                "WHERE i.entity_id NOT IN (SELECT entity_id FROM _known)",
                {"batch": batch.batch_id},
            )
            self.con.execute(
                f"INSERT INTO stmt ({cols}) SELECT {picks} FROM {source} i "
                "WHERE i.entity_id IN (SELECT entity_id FROM _known) AND NOT EXISTS (SELECT 1 FROM "
                "(SELECT * FROM stmt WHERE entity_id IN (SELECT entity_id FROM _known) AND batch_id <> $batch) s "
                "WHERE s.entity_id = i.entity_id AND s.prop = i.prop AND s.value = i.value "
                "AND s.marking_id = i.marking_id)",
                {"batch": batch.batch_id},
            )
            added = self._statement_total() - before
            self.con.execute(
                "INSERT INTO batches VALUES (?, ?, ?, ?, ?, ?, ?)",
                [batch.batch_id, batch.source, batch.file_sha256, batch.mapping_sha256, batch.rows, added,
                 batch.imported_at],
            )  # fmt: skip
            self.con.commit()
        except Exception:
            self.con.rollback()
            raise
        finally:
            self.con.unregister("_incoming")
            if markings is not None:
                self.con.unregister("_marks")
        return added

    def _statement_total(self) -> int:
        return int(self.con.execute("SELECT count(*) FROM stmt").fetchall()[0][0])

    def find_batch(self, file_sha256: str, mapping_sha256: str) -> BatchInfo | None:
        rows = self.con.execute(
            "SELECT * FROM batches WHERE file_sha256 = ? AND mapping_sha256 = ? ORDER BY imported_at LIMIT 1",
            [file_sha256, mapping_sha256],
        ).fetchall()
        return BatchInfo(*rows[0]) if rows else None

    def batches(self) -> list[BatchInfo]:
        return [BatchInfo(*r) for r in self.con.execute("SELECT * FROM batches ORDER BY imported_at").fetchall()]

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

    def write_table(self, name: str, table: pa.Table, mode: str = "replace") -> None:
        name = check_table_name(name)
        if mode not in {"replace", "append"}:
            raise ValueError("mode must be 'replace' or 'append'")
        self.con.register("_derived", table)
        try:
            self.con.begin()
            if mode == "replace":
                self.con.execute(f"CREATE OR REPLACE TABLE x_{name} AS SELECT * FROM _derived")
            else:
                self.con.execute(f"CREATE TABLE IF NOT EXISTS x_{name} AS SELECT * FROM _derived LIMIT 0")
                self.con.execute(f"INSERT INTO x_{name} BY NAME SELECT * FROM _derived")
            self.con.commit()
        except Exception:
            self.con.rollback()
            raise
        finally:
            self.con.unregister("_derived")

    def read_table(self, name: str) -> pa.Table | None:
        name = check_table_name(name)
        exists = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [f"x_{name}"]
        ).fetchall()[0][0]
        if not exists:
            return None
        return self.con.sql(f"SELECT * FROM x_{name}").to_arrow_table()

    def set_canonical(self, mapping: pa.Table) -> None:
        self.con.register("_canon", mapping.select(["entity_id", "canonical_id"]))
        try:
            self.con.begin()
            self.con.execute("DELETE FROM canon")
            self.con.execute(
                "INSERT INTO canon SELECT DISTINCT entity_id, canonical_id FROM _canon "
                "WHERE canonical_id IS NOT NULL AND canonical_id <> entity_id"
            )
            self.con.commit()
        except Exception:
            self.con.rollback()
            raise
        finally:
            self.con.unregister("_canon")

    def close(self) -> None:
        self.con.close()
