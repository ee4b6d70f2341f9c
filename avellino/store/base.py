"""The Store interface every backend implements (DuckDB embedded by default; PostgreSQL for a shared server).

Backends implement a few abstract primitives; everything built on them (entity assembly, counts, derived
tables) lives once in the concrete methods of this base class, so callers never depend on a backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from types import TracebackType

import pyarrow as pa
from followthemoney.dataset import Dataset
from followthemoney.statement import Statement, StatementEntity

from avellino.model import model
from avellino.model.markings import PROTECTED_CATEGORIES
from avellino.store.schema import BASE_PROP, STATEMENT_COLUMNS, BatchInfo, Proofs

#: Derived tables that areas may keep in the store (clusters, judgements, forecasts...). Names are checked so
#: a typo cannot create a stray table and so SQL identifiers are always safe.
TABLE_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_")


def check_table_name(name: str) -> str:
    if not name or not set(name) <= TABLE_NAME_CHARS or name[0].isdigit() or name in {"statements", "batches"}:
        raise ValueError(f"invalid derived table name {name!r}: use lower-case letters, digits and _")
    return name


def statements_query(
    schemata: Sequence[str] | None,
    entity_ids: Sequence[str] | None,
    columns: Sequence[str] | None,
    member: str,
) -> tuple[str, list[object]]:
    """The statement query both backends run. ``member`` is the dialect's list test, e.g. ``{} = ANY(%s)``."""
    cols = ", ".join(f'"{c}"' for c in (columns or STATEMENT_COLUMNS))
    where: list[str] = []
    params: list[object] = []
    if schemata:
        where.append(member.format("schema"))
        params.append(list(schemata))
    if entity_ids:
        where.append(f"({member.format('entity_id')} OR {member.format('canonical_id')})")
        params.extend([list(entity_ids), list(entity_ids)])
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    order = "ORDER BY canonical_id, entity_id, prop" if not columns else ""
    return f"SELECT {cols} FROM statements {clause} {order}", params


def aggregate_query(group_by: Sequence[str]) -> str:
    """Counts of statements and entities grouped by statement columns (checked against the schema)."""
    for col in group_by:
        if col not in STATEMENT_COLUMNS:
            raise ValueError(f"cannot group by {col!r}")
    keys = ", ".join(f'"{c}"' for c in group_by)
    select = f"{keys}, " if keys else ""
    group = f"GROUP BY {keys} ORDER BY {keys}" if keys else ""
    return f"SELECT {select}count(*) AS statements, count(DISTINCT entity_id) AS entities FROM statements {group}"


class Store(ABC):
    """Statements with markings, grouped into atomic batches, plus named derived tables."""

    # -- primitives each backend implements -------------------------------------------------------------
    @abstractmethod
    def write_batch(
        self, batch: BatchInfo, statements: pa.Table, markings: pa.Table | None = None, proofs: Proofs | None = None
    ) -> int:
        """Write one batch atomically: all statements and the batch record (and ``proofs``, the originator proofs
        that came with a received bundle, a row already stored kept once), or nothing. A statement already
        stored (same entity, property, value and markings) is skipped. Returns the number of statements added.
        Where writers run at once (PostgreSQL), a batch whose file and mapping checksums are already stored, as
        when another writer imported the same file meanwhile, is not written: ``BatchExists`` names the earlier
        one. (Callers check ``find_batch`` first; a DuckDB workspace has one writer, so the check suffices there.)

        ``statements`` is either full width (STATEMENT_SCHEMA, markings inline) with ``markings`` None, or lean
        (STORED_SCHEMA, with ``marking_id``) with ``markings`` the marking sets it refers to (MARKING_SCHEMA). In
        a lean table an ``id`` statement's value may be NULL: it is the entity id (ingest sends it so)."""

    @abstractmethod
    def read_proofs(self, originators: Sequence[str] | None = None) -> Proofs:
        """The originator proofs kept for ``originators``' facts (None: every originator's; ``share/proofs.py``):
        their manifests, pages and salts. A workspace that never received any has none."""

    @abstractmethod
    def find_batch(self, file_sha256: str, mapping_sha256: str) -> BatchInfo | None:
        """The batch that imported this exact file with this exact mapping, if any."""

    @abstractmethod
    def batches(self) -> list[BatchInfo]:
        """All batches, oldest first."""

    @abstractmethod
    def read_statements(
        self,
        schemata: Sequence[str] | None = None,
        entity_ids: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
    ) -> pa.Table:
        """Statements, optionally only of the given schemata or entities, ordered by canonical_id, entity_id."""

    @abstractmethod
    def aggregate(self, group_by: Sequence[str]) -> pa.Table:
        """Counts of statements and distinct entities grouped by statement columns (``statements``,
        ``entities`` columns)."""

    @abstractmethod
    def write_table(self, name: str, table: pa.Table, mode: str = "replace") -> None:
        """Keep a derived table (mode ``replace`` or ``append``), atomically."""

    @abstractmethod
    def read_table(self, name: str) -> pa.Table | None:
        """A derived table, or None when it was never written."""

    @abstractmethod
    def set_canonical(self, mapping: pa.Table) -> None:
        """Set ``canonical_id`` from a table (entity_id, canonical_id); entities not listed map to themselves."""

    @abstractmethod
    def delete_statements(self, targets: pa.Table) -> int:
        """Delete statements atomically (an originator's withdrawal, a retention purge); returns how many went.

        ``targets`` has columns ``originator``, ``entity_id`` and ``statement_id`` (DELETE_SCHEMA). A row with a
        ``statement_id`` deletes that statement (the ``id`` of the statements view) when its originator matches;
        a row without one deletes every statement of ``entity_id`` whose originator is ``originator``. Only the
        named originator's facts are touched, so a withdrawal can never remove what another partner supplied."""

    @abstractmethod
    def replace_statements(
        self,
        targets: pa.Table,
        batch: BatchInfo,
        statements: pa.Table,
        markings: pa.Table | None = None,
        proofs: Proofs | None = None,
    ) -> tuple[int, int]:
        """Delete ``targets`` (as ``delete_statements``: only the named originator's facts) and write ``batch`` (as
        ``write_batch``, with its ``proofs``) in ONE transaction; returns (deleted, added). Why one: an originator's
        correction replaces facts, and a crash between a delete and a write of their own would leave the node with
        neither the old facts nor the corrected ones until the notice came again. A batch whose file and mapping
        checksums are already stored changes nothing (the correction was applied before): ``BatchExists`` names it,
        on both backends, and the deletion is rolled back with it."""

    @abstractmethod
    def close(self) -> None: ...

    # -- built on the primitives ------------------------------------------------------------------------
    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def bulk(self, busy_cores: int = 0) -> Iterator[None]:
        """Wrap many ``write_batch`` calls in a row (a multi-file import) so a backend can defer housekeeping
        to the end. ``busy_cores``: cores that other threads (ingest workers) keep busy meanwhile. Each batch
        stays atomic on its own."""
        yield

    def scan_statements(
        self, columns: Sequence[str] | None = None, batch_rows: int = 65_536
    ) -> Iterator[pa.RecordBatch]:
        """Every statement (or only ``columns``) in record batches of at most ``batch_rows``, in no set order: what
        a writer that streams (a bundle, an export) reads so that memory does not grow with the workspace.
        Backends override this to stream; this fallback reads the whole table first."""
        yield from self.read_statements(columns=columns or STATEMENT_COLUMNS).to_batches(max_chunksize=batch_rows)

    def stream_query(
        self, sql: str, schema: pa.Schema, batch_rows: int = 65_536, memory_limit: str | None = None
    ) -> Iterator[pa.RecordBatch]:
        """Record batches of a read-only query over the ``statements`` view and the ``canon`` table (which both
        backends have under those names), in the query's order. Why a query and not more read_statements
        options: an export orders, groups and rewrites references in one pass the database can spill to disk,
        where Python would hold the workspace. ``schema`` types the columns the query selects. ``memory_limit``
        (e.g. ``"1GB"``): what an embedded database may hold before spilling (a server manages its own)."""
        raise NotImplementedError(f"{type(self).__name__} does not stream queries")

    def count_statements(self) -> int:
        table = self.aggregate([])
        return int(table.column("statements")[0].as_py() or 0) if table.num_rows else 0

    def counts(self) -> dict[str, int]:
        """Row counts that change whenever anything is written (used to prove atomicity)."""
        return {"statements": self.count_statements(), "batches": len(self.batches())}

    def entities(self, schemata: Sequence[str] | None = None, canonical: bool = True) -> Iterator[StatementEntity]:
        """FtM entities assembled from statements (merged by canonical id when ``canonical``)."""
        table = self.read_statements(schemata=schemata)
        yield from assemble_entities(table.to_pylist(), canonical=canonical)

    def protected_entity_ids(self) -> set[str]:
        """Entities (and their canonical ids) that any statement marks as victim, witness or informant."""
        table = self.read_statements(columns=["entity_id", "canonical_id", "subject_category"])
        protected: set[str] = set()
        cats = {c.value for c in PROTECTED_CATEGORIES}
        for row in table.to_pylist():
            if row["subject_category"] in cats:
                protected.add(row["entity_id"])
                protected.add(row["canonical_id"])
        return protected


def assemble_entities(rows: Iterable[dict[str, object]], canonical: bool = True) -> Iterator[StatementEntity]:
    """Group statement rows (ordered by canonical_id) into FtM StatementEntity objects."""
    key = "canonical_id" if canonical else "entity_id"
    current: str | None = None
    bucket: list[Statement] = []
    schemata: dict[str, set[str]] = defaultdict(set)

    def flush() -> StatementEntity | None:
        if not bucket:
            return None
        names = schemata[current or ""]
        schema = model.common_schema(*names) if len(names) > 1 else next(iter(names))
        ent = StatementEntity(_dataset(), {"schema": schema, "id": current})
        for stmt in bucket:
            if stmt.prop != BASE_PROP:
                ent.add_statement(stmt)
        return ent

    for row in rows:
        cid = str(row[key])
        if cid != current:
            done = flush()
            if done is not None:
                yield done
            current, bucket = cid, []
        schemata[cid].add(str(row["schema"]))
        bucket.append(_statement(row))
    done = flush()
    if done is not None:
        yield done


@lru_cache(maxsize=1)
def _dataset() -> Dataset:
    return Dataset.make({"name": "avellino", "title": "Avellino workspace"})


def _statement(row: dict[str, object]) -> Statement:
    return Statement(
        entity_id=str(row["entity_id"]),
        canonical_id=str(row["canonical_id"]),
        prop=str(row["prop"]),
        schema=str(row["schema"]),
        value=str(row["value"]),
        dataset=str(row.get("dataset") or row.get("originator") or "avellino"),
        original_value=row.get("original_value"),  # type: ignore[arg-type]
        origin=row.get("origin"),  # type: ignore[arg-type]
        id=row.get("id"),  # type: ignore[arg-type]
    )
