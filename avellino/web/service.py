"""What the workbench's requests share: the workspace, this node, the read models per view, and the audit writer.

* Views. The agency's own staff read one view of the whole workspace; a partner's liaison officer reads the view
  the sharing policy gives that partner for the session's purpose (``share/screen.py``, the same path bundles
  take). Views are built from one scan of the store and rebuilt when the workspace changes (checked at most every
  ``FRESH_SECONDS``); requests keep reading the previous view while a new one is built.
* Audit. Every read is recorded before its answer is released. Requests put their entry on a queue and wait; one
  thread appends everything queued in one transaction (``audit.record_many``), so 200 analysts reading at once cost
  a few appends a second, not 200.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from avellino.errors import AvellinoError, ConfigError
from avellino.share.audit import AuditError
from avellino.store import open_store
from avellino.web.readmodel import COLUMNS, ReadModel

if TYPE_CHECKING:
    from avellino.share.audit import TouchedLike
    from avellino.share.node import Node
    from avellino.store.base import Store

FRESH_SECONDS = 5.0
AUDIT_BATCH = 500
#: seconds without a read after which the audit log is closed for other processes
IDLE_CLOSE = 0.5
#: the least time between two commits of the audit log (a read waits at most this long for its group)
COMMIT_GAP = 0.05


@dataclass(frozen=True)
class ViewKey:
    agency: str  #: "" for this agency's own staff
    purpose_kind: str  #: the policy's purpose kind (only partner views depend on it)


#: a read waiting for its audit entry: a thread's future, or (a request handler's) its event loop's own
Waiter = Future[int] | asyncio.Future[int]
TIMEOUT = 120.0


class QueuedAuditor:
    """An auditor whose entries queue for one thread that writes (or sends) them in groups: what
    :class:`AuditWriter` and a worker's ``workers.RemoteAudit`` share. A request handler's read waits on a future
    of its own event loop, settled with the rest of its group in one call into the loop (:func:`settle`)."""

    def __init__(self, run: Callable[[], None], name: str):
        self._queue: queue.Queue[tuple[Any, Waiter]] = queue.Queue()
        self._thread = threading.Thread(target=run, name=name, daemon=True)
        self._thread.start()

    def _entry(self, user: str, purpose: str, action: str, touched: TouchedLike) -> Any:
        return (user, purpose, action, touched)

    def close(self) -> None:
        """Write what is queued and stop (the server is shutting down)."""
        if self._thread.is_alive():
            self._queue.put(STOP)
            self._thread.join(timeout=30)

    def submit(self, user: str, purpose: str, action: str, touched: TouchedLike) -> Future[int]:
        """Queue an entry; the future gives its sequence number once it is in the log."""
        done: Future[int] = Future()
        self._queue.put((self._entry(user, purpose, action, touched), done))
        return done

    def record(self, user: str, purpose: str, action: str, touched: TouchedLike) -> int:
        return self.submit(user, purpose, action, touched).result(timeout=TIMEOUT)

    async def record_async(self, user: str, purpose: str, action: str, touched: TouchedLike) -> int:
        """:meth:`record` for a request handler: waits for the group without holding a worker thread."""
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queue.put((self._entry(user, purpose, action, touched), done))
        return await asyncio.wait_for(done, TIMEOUT)


class AuditWriter(QueuedAuditor):
    """Group commit of audit entries: ``record`` blocks until its entry is in the log (or raises AuditError)."""

    def __init__(self, opener: Callable[[], Store]):
        self._open = opener
        super().__init__(self._run, "avellino-audit")

    def _run(self) -> None:
        from avellino.share.audit import Appender

        log = Appender(self._open)
        last = 0.0
        while True:
            try:
                first = self._queue.get(timeout=IDLE_CLOSE)
            except queue.Empty:  # idle: let other processes (audit verify, the CLI) open the log
                log.close()
                first = self._queue.get()
            # a commit costs ~4 ms of CPU however few entries it holds: under load, gather COMMIT_GAP's worth
            wait = COMMIT_GAP - (time.monotonic() - last)
            if wait > 0:
                time.sleep(wait)
            last = time.monotonic()
            group, stop = drain(self._queue, first, AUDIT_BATCH)
            try:
                entries = log.append([item for item, _ in group])
            except BaseException as exc:  # every waiting request fails: nothing unaudited is released
                settle([done for _, done in group], None, exc)
            else:
                settle([done for _, done in group], [e.seq for e in entries], None)
            if stop:
                log.close()
                return


def _freeze() -> None:
    """Keep the garbage collector off the views: a view holds millions of Python objects that live until the next
    view replaces them, and a full collection walking them all stalls every request for a fraction of a second.
    ``gc.freeze`` moves what exists now out of the collector's reach (an old view, once dropped, is freed by
    reference counting as usual)."""
    import gc

    gc.collect()
    gc.freeze()


#: put on a writer's queue to make it write what is queued and stop
STOP: Any = object()


def settle(waiting: list[Waiter], seqs: list[int] | None, error: BaseException | None) -> None:
    """Give each waiting read its sequence number, or ``error`` (nothing unaudited is released). Futures of an
    event loop are settled inside that loop, all of a loop's in one call (one wake-up per group, not per read)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[int, asyncio.Future[int]]]] = {}

    def give(i: int, done: Waiter) -> None:
        if done.done():  # its request timed out or was cancelled
            return
        if seqs is not None:
            done.set_result(seqs[i])
        else:
            done.set_exception(error or AuditError("the read could not be audited, so it is withheld"))

    for i, done in enumerate(waiting):
        if isinstance(done, asyncio.Future):
            by_loop.setdefault(done.get_loop(), []).append((i, done))
        else:
            give(i, done)

    def give_all(items: list[tuple[int, asyncio.Future[int]]]) -> None:
        for i, done in items:
            give(i, done)

    for loop, items in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop has closed: the process is stopping
            loop.call_soon_threadsafe(give_all, items)


def drain(waiting: queue.Queue[Any], first: Any, limit: int) -> tuple[list[Any], bool]:
    """``first`` and what else is queued now (up to ``limit`` in all), and whether a stop was among them: one
    group to write at once."""
    group = [first]
    while len(group) < limit:
        try:
            group.append(waiting.get_nowait())
        except queue.Empty:
            break
    return [g for g in group if g is not STOP], any(g is STOP for g in group)


_FREE = threading.Lock()


class Workbench:
    """The state one server process keeps for the workbench."""

    def __init__(self, workspace: Path | None, node: Node | None, users_dir: Path, audit: QueuedAuditor | None = None):
        self.workspace = workspace
        self.node = node
        self.users_dir = users_dir
        self.audit: QueuedAuditor = (
            audit if audit is not None else AuditWriter(lambda: open_store(workspace, read_only=True))
        )
        self._views: dict[ViewKey, tuple[object, ReadModel]] = {}
        self._cache: dict[str, tuple[object, dict[str, object]]] = {}
        self._building: dict[ViewKey, threading.Lock] = {}
        self._lock = threading.Lock()
        self._version: object = None
        self._checked = 0.0
        self.write_lock = threading.Lock()

    def close(self) -> None:
        self.audit.close()

    @property
    def node_name(self) -> str:
        return self.node.name if self.node is not None else "this node"

    def open_store(self, read_only: bool = True) -> Store:
        return open_store(self.workspace, read_only=read_only)

    # -- freshness -------------------------------------------------------------------------------------------
    def _current_version(self) -> object:
        """Something that changes whenever the workspace does: the DuckDB file's size and time, or the
        PostgreSQL store's counts and derived-table state."""
        from avellino.settings import url_of_workspace, workspace_path

        if url_of_workspace(self.workspace) is None and not os.environ.get("AVELLINO_STORE_URL"):
            path = workspace_path(self.workspace) / "avellino.duckdb"
            try:
                st = path.stat()
                wal = path.with_suffix(".duckdb.wal")
                return (st.st_mtime_ns, st.st_size, wal.stat().st_mtime_ns if wal.exists() else 0)
            except FileNotFoundError:
                return None
        with self.open_store() as store:
            clusters = store.read_table("resolve_clusters")
            return (tuple(sorted(store.counts().items())), clusters.num_rows if clusters is not None else 0)

    def version(self) -> object:
        now = time.monotonic()
        if now - self._checked >= FRESH_SECONDS:
            self._version = self._current_version()
            self._checked = now
        return self._version

    def changed(self) -> None:
        """Called after this process wrote to the workspace: the next read sees it."""
        self._checked = 0.0

    # -- views -------------------------------------------------------------------------------------------------
    def fresh_view(self, agency: str, purpose: str) -> ReadModel | None:
        """The view when it is built and current (no waiting: what a request handler checks before handing the
        build to a worker thread)."""
        from avellino.share.policy import purpose_kind

        if time.monotonic() - self._checked >= FRESH_SECONDS:
            return None  # time to look at the workspace again: that may open the store, so not on the event loop
        key = ViewKey(agency, purpose_kind(purpose) if agency else "")
        held = self._views.get(key)
        if held is not None and (held[0] == self._version or self._building.get(key, _FREE).locked()):
            return held[1]
        return None

    def view(self, agency: str, purpose: str) -> ReadModel:
        from avellino.share.policy import purpose_kind

        key = ViewKey(agency, purpose_kind(purpose) if agency else "")
        version = self.version()
        with self._lock:
            held = self._views.get(key)
            building = self._building.setdefault(key, threading.Lock())
        if held is not None and held[0] == version:
            return held[1]
        if held is not None and not building.acquire(blocking=False):
            return held[1]  # another request is building the fresh view: keep answering from this one
        if held is None:
            building.acquire()
        try:
            with self._lock:
                again = self._views.get(key)
            if again is not None and again[0] == version:
                return again[1]
            model = self._build(key, purpose)
            with self._lock:
                self._views[key] = (version, model)
            _freeze()
            return model
        finally:
            building.release()

    def _build(self, key: ViewKey, purpose: str) -> ReadModel:
        with self.open_store() as store:
            table = store.read_statements(columns=COLUMNS)
        if not key.agency:
            return ReadModel(table, "workspace")
        from avellino.share.screen import Screen, protected_clusters, request_for

        if self.node is None:
            raise ConfigError("partner accounts need this node's keys and partners (avellino node init)")
        partner = self.node.partners().get(key.agency)
        if partner is None:
            raise AvellinoError(f"{key.agency} is no longer a registered partner of {self.node.name}")
        req = request_for(self.node, [partner], purpose, dt.date.today())
        allowed = Screen(self.node, req, protected_clusters(table)).allowed(table)
        return ReadModel(allowed, f"as shared with {key.agency}")

    # -- answers computed once per workspace version ------------------------------------------------------------
    def cached(self, name: str, compute: Callable[[], dict[str, object]]) -> dict[str, object]:
        version = self.version()
        with self._lock:
            held = self._cache.get(name)
        if held is not None and held[0] == version:
            return held[1]
        value = compute()
        with self._lock:
            self._cache[name] = (version, value)
        return value

    # -- sharing, audit, retention ------------------------------------------------------------------------------
    def sharing(self) -> dict[str, Any]:
        """Partners, the sent log (recipients, purpose, statements, withheld by reason) and the bundles received
        (their audit entries)."""
        from avellino.share.audit import entries
        from avellino.share.node import short
        from avellino.share.send import sent_log

        partners: list[dict[str, object]] = []
        sent: list[dict[str, object]] = []
        if self.node is not None:
            for p in self.node.partners().values():
                c = p.card
                partners.append({"name": c.name, "country": c.country, "law_enforcement": c.law_enforcement,
                                 "community": p.community, "teams": sorted(p.teams), "url": p.url or "",
                                 "fingerprint": short(c.fingerprint)})  # fmt: skip
            sent = [{k: v for k, v in line.items() if k != "file"} for line in sent_log(self.node)]
        with self.open_store() as store:
            received = []
            for e in entries(store):
                body = json.loads(e.text)
                if str(body.get("action", "")).startswith("share receive"):
                    received.append({"seq": e.seq, "time": body["time"], "action": body["action"],
                                     "purpose": body["purpose"], "touched": body["touched"]})  # fmt: skip
        withheld: dict[str, int] = {}
        for line in sent:
            for reason, n in dict(line.get("withheld") or {}).items():  # type: ignore[call-overload]
                withheld[reason] = withheld.get(reason, 0) + int(n)
        return {"node": self.node_name, "partners": partners, "sent": sent[::-1], "received": received[::-1],
                "withheld_total": withheld}  # fmt: skip

    def audit_log(self, limit: int) -> dict[str, Any]:
        from avellino.share.audit import AuditBroken, entries, verify

        with self.open_store() as store:
            listed = entries(store)
            try:
                verified = {"intact": True, "entries": verify(store), "problem": ""}
            except AuditBroken as exc:
                verified = {"intact": False, "entries": len(listed), "problem": str(exc)}
        newest = [{"seq": e.seq, "hash": e.hash, **e.fields} for e in listed[-limit:]][::-1]
        return {"verify": verified, "entries": newest}

    def retention_due(self, before: dt.date) -> dict[str, Any]:
        from avellino.share.retention import due

        with self.open_store() as store:
            found = due(store, before)
        groups = [{k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in g.items()}
                  for g in found.by_originator_and_category()]  # fmt: skip
        return {"before": before.isoformat(), "statements": found.statements.num_rows,
                "entities": len(found.entity_ids), "groups": groups}  # fmt: skip
