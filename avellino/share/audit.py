"""The tamper-evident audit log: who read or sent which facts, when and why (issue 17, point 6).

Every read or export of facts that leaves a workspace (``export``, ``share send``/``receive``, ``network targets``,
``resolve explain``, API reads, retention purges) calls :func:`record` before it releases its output. Entries form a
hash chain: each entry is canonical JSON (sorted keys, no spaces) of ``seq``, ``time``, ``user``, ``purpose``,
``action``, ``touched`` (what was touched: ids, or a count and a digest of the ids when there are many) and
``prev`` (the previous entry's hash), and its ``hash`` is the sha256 of that text. ``audit_head`` keeps the last
seq and hash. :func:`verify` recomputes everything, so any edit, deletion or reordering of entries, or a deleted
last entry, is found and the first bad entry named. (Someone who can rewrite the log *and* the head from the first
changed entry onwards could forge a consistent chain: ``audit show`` prints the head hash, and ``audit verify
--head SEQ:HASH`` checks the log against a head written down earlier, somewhere else.)

Where the log lives: on PostgreSQL, in the workspace's schema (migration 4; appended to only through the
``audit_append`` function, see ``audit_sql.py``). On DuckDB, in a file of its own beside the workspace's
(``WORKSPACE/audit.duckdb``): read commands open the workspace read-only and run side by side, and a DuckDB file
takes one writer or many readers, so an entry written into the workspace's own file would make every audited read
a writer that waits for all other readers. Appending to ``audit.duckdb`` takes that small file's write lock for
milliseconds, waiting like any writer (``AVELLINO_LOCK_WAIT``) while another command appends or reads the log. If
the entry cannot be written the command fails with :class:`AuditError` and its output is not released: an entry
is never silently lost.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from avellino.errors import StoreError
from avellino.share.audit_sql import GENESIS, TABLES_SQL
from avellino.store.base import Store

#: Ids listed in an entry; beyond this an entry keeps the count and the sha256 of the ids (in the order touched).
MAX_LISTED_IDS = 1000
#: Times an append is built again when another writer appended first.
APPEND_RETRIES = 20


class AuditError(StoreError):
    """An audit entry could not be written: the command's output was not released."""


class AuditBroken(StoreError):
    """``audit verify`` found the log changed; ``seq`` is the first bad entry."""

    exit_code = 4

    def __init__(self, seq: int, problem: str):
        self.seq = seq
        self.problem = problem
        super().__init__(f"audit entry {seq}: {problem}")


def canonical_json(value: object) -> str:
    """The one serialisation hashed: sorted keys, no spaces, UTF-8 text kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def default_user() -> str:
    """``$AVELLINO_USER``, else the operating-system user."""
    return os.environ.get("AVELLINO_USER", "").strip() or getpass.getuser()


@dataclass
class Touched:
    """What a command touched, gathered as it goes (exports add ids while they stream): up to
    ``MAX_LISTED_IDS`` ids are listed, beyond that the entry keeps a running sha256 of them; each id adds to
    ``count``, which may also be given directly (``Touched(count=n)``) when no ids are kept. ``counts`` holds
    other figures (e.g. statements withheld by reason)."""

    count: int = 0
    ids: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    _digest: Any = field(default_factory=hashlib.sha256, repr=False)
    _added: int = field(default=0, repr=False)  #: ids given (``count`` may also be set directly)

    def add(self, id_: str) -> None:
        self.count += 1
        self._added += 1
        if len(self.ids) <= MAX_LISTED_IDS:
            self.ids.append(id_)
        self._digest.update(id_.encode("utf-8") + b"\n")

    def update(self, ids: Iterable[str]) -> Touched:
        for id_ in ids:
            self.add(id_)
        return self

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {"count": self.count}
        if 0 < self._added <= MAX_LISTED_IDS:
            out["ids"] = self.ids[: self._added]
        elif self._added:
            out["ids_sha256"] = self._digest.hexdigest()
        if self.counts:
            out["counts"] = dict(sorted(self.counts.items()))
        return out


@dataclass(frozen=True)
class TouchedSummary:
    """What was touched, already summarised (the form :meth:`Touched.as_json` gives): how a server's worker
    process hands its entries to the one process that writes the log."""

    value: Mapping[str, object]


TouchedLike = Touched | TouchedSummary | Iterable[str] | int | Mapping[str, int]


def touched_json(touched: TouchedLike) -> dict[str, object]:
    """The summary an entry keeps of what was touched."""
    if isinstance(touched, TouchedSummary):
        return dict(touched.value)
    if isinstance(touched, Touched):
        return touched.as_json()
    if isinstance(touched, int):
        return {"count": touched}
    if isinstance(touched, Mapping):
        return {"counts": {str(k): int(v) for k, v in sorted(touched.items())}}
    return Touched().update(touched).as_json()


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    text: str  #: the canonical JSON that was hashed
    hash: str

    @property
    def fields(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.text)
        return value


# -- backends --------------------------------------------------------------------------------------------------


#: The DuckDB backend's audit log, beside the workspace's own file (see the module docstring).
AUDIT_FILE = "audit.duckdb"


def _audit_file(store: Store) -> Path | None:
    """The audit file of a DuckDB workspace; None on PostgreSQL (the log is in the workspace's schema)."""
    from avellino.store.duckdb_store import DuckDBStore

    return store.workspace / AUDIT_FILE if isinstance(store, DuckDBStore) else None


def fetch_log(cur: Any) -> tuple[list[tuple[int, str, str]], tuple[int, str] | None]:
    """The entries and head as :func:`verify` reads them, from a DuckDB connection or a PostgreSQL cursor."""
    entries = cur.execute("SELECT seq, entry, hash FROM audit_log ORDER BY seq").fetchall()
    head = cur.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
    return [(int(s), str(e), str(h)) for s, e, h in entries], (int(head[0]), str(head[1])) if head else None


def _rows(store: Store) -> tuple[list[tuple[int, str, str]], tuple[int, str] | None]:
    """Every entry (seq, entry text, hash) ordered by seq, and the head (None where the log was never written)."""
    path = _audit_file(store)
    if path is not None:
        from avellino.store.duckdb_store import connect

        if not path.exists():
            return [], None
        duck = connect(path, path.parent, read_only=True)
        try:
            names = {r[0] for r in duck.execute("SELECT table_name FROM information_schema.tables").fetchall()}
            if "audit_log" not in names:
                return [], None
            if "audit_head" not in names:
                return _fetch_entries_only(duck), None
            return fetch_log(duck)
        finally:
            duck.close()
    con: Any = getattr(store, "con")  # noqa: B009 (PostgresStore's connection; Store declares none)
    with con.transaction(), con.cursor() as cur:
        if not cur.execute("SELECT to_regclass('audit_log') IS NOT NULL").fetchone()[0]:
            return [], None
        if not cur.execute("SELECT to_regclass('audit_head') IS NOT NULL").fetchone()[0]:
            return _fetch_entries_only(cur), None
        return fetch_log(cur)


def _fetch_entries_only(cur: Any) -> list[tuple[int, str, str]]:
    rows = cur.execute("SELECT seq, entry, hash FROM audit_log ORDER BY seq").fetchall()
    return [(int(s), str(e), str(h)) for s, e, h in rows]


def _build(seq: int, prev: str, user: str, purpose: str, action: str, touched: dict[str, object]) -> str:
    return canonical_json(
        {
            "seq": seq,
            "time": datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
            "user": user,
            "purpose": purpose,
            "action": action,
            "touched": touched,
            "prev": prev,
        }
    )


def _append_duckdb(con: Any, user: str, purpose: str, action: str, touched: dict[str, object]) -> AuditEntry:
    return _append_many_duckdb(con, [(user, purpose, action, touched)])[0]


def _append_many_duckdb(
    con: Any, items: list[tuple[str, str, str, dict[str, object]]], made: bool = False
) -> list[AuditEntry]:
    """``made``: the log's tables are known to exist on this connection (asking the catalogue costs more than
    the rest of a small group's append)."""
    import duckdb

    for _ in range(APPEND_RETRIES):
        con.begin()
        try:
            if (
                not made
                and not con.execute(
                    "SELECT count(*) FROM information_schema.tables WHERE table_name = 'audit_head'"
                ).fetchall()[0][0]
            ):  # the first entry of this workspace
                for sql in TABLES_SQL.split(";\n"):
                    if sql.strip():
                        con.execute(sql)
            seq, prev = con.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchall()[0]
            seq, prev = int(seq), str(prev)
            written: list[AuditEntry] = []
            for user, purpose, action, touched in items:
                seq += 1
                text = _build(seq, prev, user, purpose, action, touched)
                prev = entry_hash(text)
                written.append(AuditEntry(seq, text, prev))
            # one INSERT for the group (a statement per entry cost 0.4 ms each: most of a group's time)
            rows = pa.table({"seq": pa.array([e.seq for e in written], pa.int64()),
                             "entry": [e.text for e in written], "hash": [e.hash for e in written]})  # fmt: skip
            con.register("_audit_rows", rows)
            try:
                con.execute("INSERT INTO audit_log SELECT seq, entry, hash FROM _audit_rows ORDER BY seq")
            finally:
                con.unregister("_audit_rows")
            con.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", [seq, prev])
            con.commit()
            return written
        except duckdb.TransactionException:  # another connection of this process appended first
            con.rollback()
        except duckdb.Error as exc:
            con.rollback()
            raise AuditError(f"cannot append to the audit log: {exc}") from exc
        except BaseException:
            con.rollback()
            raise
    raise AuditError("the audit log is being appended to by too many commands at once; nothing was released")


def _append_postgres(con: Any, user: str, purpose: str, action: str, touched: dict[str, object]) -> AuditEntry:
    return _append_many_postgres(con, [(user, purpose, action, touched)])[0]


def _append_many_postgres(con: Any, items: list[tuple[str, str, str, dict[str, object]]]) -> list[AuditEntry]:
    import psycopg

    for _ in range(APPEND_RETRIES):
        written: list[AuditEntry] = []
        try:
            with con.transaction(), con.cursor() as cur:
                # appenders queue here (any role may take an advisory lock; the function re-checks the head)
                cur.execute("SELECT pg_advisory_xact_lock(hashtext('avellino audit ' || current_schema()))")
                seq, prev = cur.execute("SELECT seq, hash FROM audit_head WHERE id = 1").fetchone()
                seq, prev = int(seq), str(prev)
                for user, purpose, action, touched in items:
                    seq += 1
                    text = _build(seq, prev, user, purpose, action, touched)
                    digest = cur.execute("SELECT audit_append(%s)", (text,)).fetchone()[0]
                    if digest is None:  # the head moved under us: build the whole group again
                        raise _Moved
                    prev = str(digest)
                    written.append(AuditEntry(seq, text, prev))
        except _Moved:
            continue
        except psycopg.Error as exc:
            raise AuditError(f"cannot append to the audit log: {exc}") from exc
        return written
    raise AuditError("the audit log is being appended to by too many commands at once; nothing was released")


class _Moved(Exception):
    """Another writer appended between reading the head and appending (PostgreSQL): roll back and retry."""


def _checked(user: str | None, purpose: str, action: str) -> tuple[str, str]:
    who = (user or default_user()).strip()
    if not who:
        raise AuditError("an audit entry needs a user (set AVELLINO_USER)")
    if not purpose or not purpose.strip():
        raise AuditError(f"{action}: a purpose is required (it is recorded in the audit log)")
    return who, purpose.strip()


def _entry_rows(items: Iterable[tuple[str, str, str, TouchedLike]]) -> list[tuple[str, str, str, dict[str, object]]]:
    """Each ``(user, purpose, action, touched)`` checked (a user and a purpose are required) and made ready to
    append."""
    rows = []
    for user, purpose, action, touched in items:
        who, why = _checked(user, purpose, action)
        rows.append((who, why, action, touched_json(touched)))
    return rows


def record_many(store: Store, items: Iterable[tuple[str, str, str, TouchedLike]]) -> list[AuditEntry]:
    """Append several entries, each ``(user, purpose, action, touched)``, in ONE transaction, in order: what a
    server that audits every read uses to write the reads of many requests at once (group commit); each request's
    answer is released only after this returns. All or none are written."""
    rows = _entry_rows(items)
    if not rows:
        return []
    try:
        path = _audit_file(store)
        if path is not None:
            from avellino.store.duckdb_store import connect

            con = connect(path, path.parent, read_only=False)
            try:
                return _append_many_duckdb(con, rows)
            finally:
                con.close()
        return _append_many_postgres(getattr(store, "con"), rows)  # noqa: B009
    except AuditError:
        raise
    except StoreError as exc:
        raise AuditError(f"the audit entries could not be written, so nothing was released: {exc}") from exc


def record(
    store: Store,
    *,
    purpose: str,
    action: str,
    touched: TouchedLike,
    user: str | None = None,
) -> AuditEntry:
    """Append one entry: ``user`` (default :func:`default_user`) did ``action`` for ``purpose``, touching
    ``touched``. Call it before the command's output is released; it raises :class:`AuditError` when the entry
    cannot be written. ``store`` may be open read-only; it stays open."""
    return record_many(store, [(user or "", purpose, action, touched)])[0]


class Appender:
    """Appends groups of entries over a connection it keeps open: what a server that audits every read uses (its
    requests' entries are written together, and opening the log for each group would cost more than writing it).
    On DuckDB it holds only the log's own file (``audit.duckdb``), never the workspace's, so the server can still
    write judgements; :meth:`close` it when idle so that ``audit verify`` and other commands can open the log."""

    def __init__(self, opener: Any):
        self._open = opener
        self._store: Store | None = None
        self._con: Any = None
        self._path: Path | None = None  #: the log's own file, once known (reopening it skips the workspace)
        self._made = False  #: the log's tables exist (once one group is written)

    def append(self, items: Iterable[tuple[str, str, str, TouchedLike]]) -> list[AuditEntry]:
        rows = _entry_rows(items)
        if not rows:
            return []
        try:
            if self._con is None and self._store is None and self._path is not None:
                from avellino.store.duckdb_store import connect

                self._con = connect(self._path, self._path.parent, read_only=False)
            if self._con is None and self._store is None:
                store = self._open()
                path = _audit_file(store)
                if path is None:
                    self._store = store  # PostgreSQL: keep the connection
                else:
                    store.close()
                    from avellino.store.duckdb_store import connect

                    self._path = path
                    self._con = connect(path, path.parent, read_only=False)
            if self._con is not None:
                written = _append_many_duckdb(self._con, rows, made=self._made)
                self._made = True
                return written
            return _append_many_postgres(getattr(self._store, "con"), rows)  # noqa: B009
        except AuditError:
            self.close()
            raise
        except StoreError as exc:
            self.close()
            raise AuditError(f"the audit entries could not be written, so nothing was released: {exc}") from exc

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None
        if self._store is not None:
            self._store.close()
            self._store = None


# -- reading and checking ------------------------------------------------------------------------------------------


def entries(store: Store) -> list[AuditEntry]:
    """Every entry, oldest first (as stored: :func:`verify` says whether they can be trusted)."""
    rows, _ = _rows(store)
    return [AuditEntry(seq, text, digest) for seq, text, digest in rows]


def head(store: Store) -> tuple[int, str]:
    """(seq, hash) of the last entry as ``audit_head`` records it; (0, GENESIS) for an empty log."""
    _, stored = _rows(store)
    return stored or (0, GENESIS)


ENTRY_KEYS = {"seq", "time", "user", "purpose", "action", "touched", "prev"}


def check_chain(
    rows: list[tuple[int, str, str]], stored_head: tuple[int, str] | None, expect: tuple[int, str] | None = None
) -> int:
    """Raise :class:`AuditBroken` at the first entry that is not what the chain says it must be; return the
    number of entries. ``expect``: a head written down earlier (seq, hash) that the log must still contain."""
    prev, expected_seq = GENESIS, 1
    for seq, text, digest in rows:
        if seq != expected_seq:
            what = "missing (deleted)" if seq > expected_seq else "duplicated or out of order"
            raise AuditBroken(expected_seq, f"{what}: the next stored entry is {seq}")
        try:
            fields = json.loads(text)
        except ValueError:
            raise AuditBroken(seq, "not valid JSON (edited)") from None
        if not isinstance(fields, dict) or set(fields) != ENTRY_KEYS or canonical_json(fields) != text:
            raise AuditBroken(seq, "not in the canonical form it was written in (edited)")
        if fields["seq"] != seq:
            raise AuditBroken(seq, f"says it is entry {fields['seq']} (moved)")
        if fields["prev"] != prev:
            raise AuditBroken(seq, "does not follow the entry before it (an entry was changed, removed or moved)")
        if entry_hash(text) != digest:
            raise AuditBroken(seq, "its hash does not match its contents (edited)")
        if expect is not None and seq == expect[0] and digest != expect[1]:
            raise AuditBroken(seq, "differs from the head written down earlier (the log was rewritten)")
        prev, expected_seq = digest, expected_seq + 1
    last = expected_seq - 1
    if stored_head is None:
        if rows:
            raise AuditBroken(last + 1, "the log's head record is missing")
    elif stored_head != (last, prev):
        if stored_head[0] > last:
            raise AuditBroken(last + 1, f"missing (deleted): the log's head says {stored_head[0]} entries")
        raise AuditBroken(last, "the log's head record does not match the last entry")
    if expect is not None and expect[0] > last:
        raise AuditBroken(last + 1, f"missing (deleted): a head written down earlier says {expect[0]} entries")
    return last


def verify(store: Store, expect: tuple[int, str] | None = None) -> int:
    """Check the whole log; return its number of entries or raise :class:`AuditBroken` naming the first bad one."""
    rows, stored_head = _rows(store)
    return check_chain(rows, stored_head, expect)
