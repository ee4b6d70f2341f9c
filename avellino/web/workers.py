"""The workbench on several processes (``avellino serve --workers N``): Python runs one request at a time per
process, so a server that many analysts use at once needs one process per core.

What the processes share, and how:
* The audit log has ONE writer, the parent process: its entries form one hash chain, and a DuckDB file takes one
  writing process. Workers hand their entries to it over a local socket (``multiprocessing.connection``: a Unix
  socket in a private folder, authenticated with a random key that only the server's processes know) and release an
  answer only once the parent says its entry is in the log, exactly as in one process (``service.AuditWriter``).
  Each worker sends what its requests queued meanwhile in one message, and the parent writes what all workers sent
  meanwhile in one transaction: group commit across processes.
* Sessions and the login brake are in the accounts folder's SQLite file (``sessions.py``).
* Each worker builds its own read model of the workspace (``readmodel.py``) and follows the workspace's changes
  itself; writes (judgements, confirmations, bundles received) take the store's lock, which waits for the others.

The workers are uvicorn's (``uvicorn.run(..., workers=N)``): it starts them, restarts one that dies, and stops them
on Ctrl-C; each builds its application with :func:`worker_app` from what the parent put in its environment.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import threading
from dataclasses import dataclass
from multiprocessing.connection import Client, Connection, Listener
from pathlib import Path
from typing import TYPE_CHECKING, Any

from avellino.share.audit import AuditError, TouchedSummary, touched_json
from avellino.web.service import TIMEOUT, QueuedAuditor, drain, settle

if TYPE_CHECKING:
    from fastapi import FastAPI

    from avellino.share.audit import TouchedLike
    from avellino.web.service import AuditWriter

#: what the parent puts in each worker's environment (internal to one server: not settings)
ENV_WORKSPACE = "AVELLINO_SERVE_WORKSPACE"
ENV_USERS = "AVELLINO_SERVE_USERS"
ENV_NODE = "AVELLINO_SERVE_NODE"
ENV_AUDIT = "AVELLINO_SERVE_AUDIT"
ENV_KEY = "AVELLINO_SERVE_AUDIT_KEY"
BATCH = 500

Item = tuple[str, str, str, dict[str, object]]


class AuditService:
    """In the parent: receives the workers' entries and writes them with the parent's :class:`AuditWriter`."""

    def __init__(self, writer: AuditWriter):
        self.writer = writer
        self._folder = Path(tempfile.mkdtemp(prefix="avellino-audit-"))  # private (0700) folder for the socket
        self.address = str(self._folder / "audit.sock")
        self.key = secrets.token_bytes(32)
        self._listener = Listener(self.address, family="AF_UNIX", authkey=self.key)
        self._closed = False
        threading.Thread(target=self._accept, name="avellino-audit-accept", daemon=True).start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn = self._listener.accept()
            except (OSError, EOFError):
                if self._closed:
                    return
                continue  # a connection that failed authentication: keep serving the others
            threading.Thread(target=self._serve, args=(conn,), name="avellino-audit-worker", daemon=True).start()

    def _serve(self, conn: Connection) -> None:
        with conn:
            while True:
                try:
                    items: list[Item] = conn.recv()
                except (EOFError, OSError):
                    return  # the worker stopped
                futures = [self.writer.submit(u, p, a, TouchedSummary(t)) for u, p, a, t in items]
                try:
                    answer: tuple[str, Any] = ("ok", [f.result(timeout=TIMEOUT) for f in futures])
                except BaseException as exc:  # noqa: BLE001 - every request of the batch fails, nothing is released
                    answer = ("error", str(exc) or type(exc).__name__)
                try:
                    conn.send(answer)
                except OSError:
                    return

    def environment(self) -> dict[str, str]:
        return {ENV_AUDIT: self.address, ENV_KEY: self.key.hex()}

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        self.writer.close()
        for p in self._folder.iterdir():
            p.unlink(missing_ok=True)
        self._folder.rmdir()


class RemoteAudit(QueuedAuditor):
    """In a worker: the :class:`service.QueuedAuditor` that sends this process's entries to the parent's writer."""

    def __init__(self, address: str, key: bytes):
        self._conn = Client(address, family="AF_UNIX", authkey=key)
        super().__init__(self._run, "avellino-audit-link")

    def _entry(self, user: str, purpose: str, action: str, touched: TouchedLike) -> Item:
        return (user, purpose, action, touched_json(touched))  # plain data, to send

    def close(self) -> None:
        super().close()
        self._conn.close()

    def _run(self) -> None:
        while True:
            group, stop = drain(self._queue, self._queue.get(), BATCH)
            if group:
                try:
                    self._conn.send([item for item, _ in group])
                    status, value = self._conn.recv()
                except (EOFError, OSError) as exc:
                    status, value = "error", f"the server's audit writer cannot be reached ({exc})"
                if status == "ok":
                    settle([done for _, done in group], [int(v) for v in value], None)
                else:
                    error = AuditError(f"the read could not be audited, so it is withheld: {value}")
                    settle([done for _, done in group], None, error)
            if stop:
                return


@dataclass(frozen=True)
class WorkerConfig:
    workspace: str  #: "" for the default workspace
    users: str
    node: bool

    def environment(self) -> dict[str, str]:
        return {ENV_WORKSPACE: self.workspace, ENV_USERS: self.users, ENV_NODE: "1" if self.node else ""}


def worker_app() -> FastAPI:
    """The application of one worker process (uvicorn's factory): built from the environment the parent set."""
    from avellino.share.node import load_node
    from avellino.web.app import create_workbench

    env = os.environ
    workspace = Path(env[ENV_WORKSPACE]) if env.get(ENV_WORKSPACE) else None
    folder = Path(env[ENV_USERS])
    node = load_node(folder) if env.get(ENV_NODE) else None
    audit = RemoteAudit(env[ENV_AUDIT], bytes.fromhex(env[ENV_KEY]))
    return create_workbench(workspace, folder, node, audit=audit, warm=True)
