"""Sessions of the workbench: a random token in an HttpOnly, SameSite=Strict cookie, a CSRF token per session, the
purpose the user gave at login (every read is audited with it), idle and absolute time-outs, and a brake on
password guessing.

Sessions live in the server's memory: a restart logs everyone out, which is the safe default for a node server.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass, field

from avellino.web.users import Role, User

COOKIE = "avellino_session"
CSRF_HEADER = "X-CSRF-Token"
IDLE_SECONDS = 30 * 60
MAX_SECONDS = 10 * 60 * 60
#: failed logins of one name (or from one address) within WINDOW before further tries wait
MAX_FAILURES = 5
#: failed logins from one address (any names) before that address waits: higher, because an agency's analysts
#: may all reach the server through one proxy, and one of them mistyping must not lock the others out
MAX_FAILURES_PER_ADDRESS = 50
FAILURE_WINDOW = 300


@dataclass
class Session:
    token: str
    user: str
    role: Role
    agency: str
    purpose: str
    csrf: str
    started: float
    seen: float = field(default=0.0)

    def csrf_ok(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(self.csrf, given or "")


class Sessions:
    def __init__(self) -> None:
        self._by_token: dict[str, Session] = {}
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def start(self, user: User, purpose: str) -> Session:
        now = time.time()
        session = Session(
            token=secrets.token_urlsafe(32),
            user=user.name,
            role=user.role,
            agency=user.agency,
            purpose=purpose,
            csrf=secrets.token_urlsafe(32),
            started=now,
            seen=now,
        )
        with self._lock:
            self._by_token[session.token] = session
        return session

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        now = time.time()
        with self._lock:
            session = self._by_token.get(token)
            if session is None:
                return None
            if now - session.seen > IDLE_SECONDS or now - session.started > MAX_SECONDS:
                del self._by_token[token]
                return None
            session.seen = now
            return session

    def end(self, token: str | None) -> None:
        with self._lock:
            self._by_token.pop(token or "", None)

    def end_user(self, name: str) -> None:
        """Log a user out everywhere (account disabled or password reset)."""
        with self._lock:
            for token in [t for t, s in self._by_token.items() if s.user == name]:
                del self._by_token[token]

    # -- password guessing --------------------------------------------------------------------------------
    def throttled(self, *keys: str) -> bool:
        now = time.time()
        with self._lock:
            for key in keys:
                recent = [t for t in self._failures.get(key, []) if now - t < FAILURE_WINDOW]
                self._failures[key] = recent
                if len(recent) >= (MAX_FAILURES_PER_ADDRESS if key.startswith("ip:") else MAX_FAILURES):
                    return True
        return False

    def failed(self, *keys: str) -> None:
        now = time.time()
        with self._lock:
            for key in keys:
                self._failures.setdefault(key, []).append(now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
