"""Sessions of the workbench: a random token in an HttpOnly, SameSite=Strict cookie, a CSRF token per session, the
purpose the user gave at login (every read is audited with it), idle and absolute time-outs, and a brake on
password guessing.

Sessions live in a small SQLite file next to the accounts (``sessions.sqlite3``), so that every worker process of
one server sees the same sessions and the same failed logins (``avellino serve --workers N``), and so that
``avellino user disable`` ends a user's sessions at once. The file holds only a SHA-256 of each token, never the
token itself. ``avellino serve`` empties it when it starts: a restart logs everyone out, the safe default for a
node server. SQLite (the standard library's) is the right tool here: a few hundred bytes per session, reads in
microseconds, and safe between processes; a session server would be one more service for an agency to run.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from avellino.web.users import Role, User

COOKIE = "avellino_session"
CSRF_HEADER = "X-CSRF-Token"
FILE = "sessions.sqlite3"
IDLE_SECONDS = 30 * 60
MAX_SECONDS = 10 * 60 * 60
#: a session's last-seen time is written at most this often (each request would otherwise be a write)
SEEN_EVERY = 30.0
#: failed logins of one name (or from one address) within WINDOW before further tries wait
MAX_FAILURES = 5
#: failed logins from one address (any names) before that address waits: higher, because an agency's analysts
#: may all reach the server through one proxy, and one of them mistyping must not lock the others out
MAX_FAILURES_PER_ADDRESS = 50
FAILURE_WINDOW = 300

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    token_sha256 TEXT PRIMARY KEY, user TEXT NOT NULL, role TEXT NOT NULL, agency TEXT NOT NULL,
    purpose TEXT NOT NULL, csrf TEXT NOT NULL, started REAL NOT NULL, seen REAL NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user);
CREATE TABLE IF NOT EXISTS failures (key TEXT NOT NULL, at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS failures_key ON failures(key);
"""


@dataclass
class Session:
    token: str
    user: str
    role: Role
    agency: str
    purpose: str
    csrf: str
    started: float
    seen: float = 0.0

    def csrf_ok(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(self.csrf, given or "")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Sessions:
    """The sessions of the server whose accounts are in ``folder``."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / FILE
        fresh = not self.path.exists()
        # one connection per process, used under a lock: requests come from the event loop and worker threads
        self._con = sqlite3.connect(self.path, timeout=10, check_same_thread=False, isolation_level=None)
        if fresh:
            os.chmod(self.path, 0o600)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=NORMAL")
        self._con.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def clear(self) -> None:
        """Everyone logged out and the brake released (the server is starting)."""
        with self._lock:
            self._con.execute("DELETE FROM sessions")
            self._con.execute("DELETE FROM failures")

    def start(self, user: User, purpose: str) -> Session:
        now = time.time()
        session = Session(token=secrets.token_urlsafe(32), user=user.name, role=user.role, agency=user.agency,
                          purpose=purpose, csrf=secrets.token_urlsafe(32), started=now, seen=now)  # fmt: skip
        with self._lock:
            self._con.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    _digest(session.token),
                    session.user,
                    session.role.value,
                    session.agency,
                    session.purpose,
                    session.csrf,
                    now,
                    now,
                ),  # fmt: skip
            )
        return session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        key = _digest(token)
        now = time.time()
        with self._lock:
            row = self._con.execute(
                "SELECT user, role, agency, purpose, csrf, started, seen FROM sessions WHERE token_sha256 = ?", (key,)
            ).fetchone()
            if row is None:
                return None
            user, role, agency, purpose, csrf, started, seen = row
            if now - seen > IDLE_SECONDS or now - started > MAX_SECONDS:
                self._con.execute("DELETE FROM sessions WHERE token_sha256 = ?", (key,))
                return None
            if now - seen > SEEN_EVERY:
                self._con.execute("UPDATE sessions SET seen = ? WHERE token_sha256 = ?", (now, key))
                seen = now
        return Session(token, user, Role(role), agency, purpose, csrf, started, seen)

    def end(self, token: str | None) -> None:
        with self._lock:
            self._con.execute("DELETE FROM sessions WHERE token_sha256 = ?", (_digest(token or ""),))

    def end_user(self, name: str) -> int:
        """Log a user out everywhere (account disabled or password reset); how many sessions ended."""
        with self._lock:
            return self._con.execute("DELETE FROM sessions WHERE user = ?", (name,)).rowcount

    # -- password guessing --------------------------------------------------------------------------------
    def throttled(self, *keys: str) -> bool:
        now = time.time()
        with self._lock:
            self._con.execute("DELETE FROM failures WHERE at < ?", (now - FAILURE_WINDOW,))
            for key in keys:
                (n,) = self._con.execute("SELECT count(*) FROM failures WHERE key = ?", (key,)).fetchone()
                if n >= (MAX_FAILURES_PER_ADDRESS if key.startswith("ip:") else MAX_FAILURES):
                    return True
        return False

    def failed(self, *keys: str) -> None:
        now = time.time()
        with self._lock:
            self._con.executemany("INSERT INTO failures VALUES (?, ?)", [(key, now) for key in keys])

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            self._con.executemany("DELETE FROM failures WHERE key = ?", [(key,) for key in keys])
