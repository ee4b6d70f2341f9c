"""Node-to-node HTTP authentication: every request is signed with the calling node's Ed25519 key.

The signed text is ``avellino-request-v1``, the method, the path, a Unix timestamp, a random nonce and the
SHA-256 of the body, one per line. A server accepts a request only from a registered partner, within
``WINDOW`` seconds of its own clock, with a nonce it has not seen in that window (a replayed request is
refused) and a valid signature. No shared passwords: a partner is who its key says.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time

from avellino.share.node import Node, Partner, b64, unb64

WINDOW = 300
NODE = "X-Avellino-Node"
TIME = "X-Avellino-Time"
NONCE = "X-Avellino-Nonce"
SIGNATURE = "X-Avellino-Signature"


def body_sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def signing_text(method: str, path: str, timestamp: str, nonce: str, digest: str) -> bytes:
    """What a request's signature covers; ``digest`` is the SHA-256 (hex) of its body."""
    return "\n".join(["avellino-request-v1", method.upper(), path, timestamp, nonce, digest]).encode("utf-8")


def sign_request(node: Node, method: str, path: str, body: bytes = b"", digest: str | None = None) -> dict[str, str]:
    """The headers that authenticate one request from ``node`` (``digest``: the body's SHA-256 when the body is
    streamed from a file rather than given)."""
    timestamp = str(int(time.time()))
    nonce = secrets.token_hex(16)
    signature = node.sign(signing_text(method, path, timestamp, nonce, digest or body_sha256(body)))
    return {NODE: node.name, TIME: timestamp, NONCE: nonce, SIGNATURE: b64(signature)}


class Refused(Exception):
    """Why a request is not authenticated (the server answers 401 with this text)."""


class Verifier:
    """Checks signed requests; remembers the nonces of the last ``WINDOW`` seconds."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def check(
        self, headers: dict[str, str], method: str, path: str, digest: str | None, partners: dict[str, Partner]
    ) -> Partner:
        """The partner that signed this request (``digest``: its body's SHA-256; None for no body)."""
        name = headers.get(NODE.lower(), "")
        timestamp = headers.get(TIME.lower(), "")
        nonce = headers.get(NONCE.lower(), "")
        signature = headers.get(SIGNATURE.lower(), "")
        if not (name and timestamp and nonce and signature):
            raise Refused("unsigned request: sign it with your node key (avellino share push/fetch do)")
        partner = partners.get(name)
        if partner is None:
            raise Refused(f"{name} is not a registered partner of this node")
        try:
            when = int(timestamp)
            raw = unb64(signature, "signature")
        except ValueError as exc:
            raise Refused("malformed authentication headers") from exc
        now = time.time()
        if abs(now - when) > WINDOW:
            raise Refused(f"request time is more than {WINDOW} s from this server's clock")
        if not partner.card.verify(signing_text(method, path, timestamp, nonce, digest or body_sha256(b"")), raw):
            raise Refused(f"the request is not signed by {name}'s registered key")
        with self._lock:
            for old, at in list(self._seen.items()):
                if now - at > 2 * WINDOW:
                    del self._seen[old]
            key = f"{name}:{nonce}"
            if key in self._seen:
                raise Refused("replayed request (nonce already used)")
            self._seen[key] = now
        return partner
