"""Query and answer files: what travels between the two partners, sealed under their pair key.

A file is one JSON object: a readable header (kind, query id, from, to, the pair key's public id, time, purpose,
count) and a payload encrypted with AES-256-GCM under the pair's file key (the header is the associated data,
so it cannot be changed either). Only the two partners of the pair can open it; anyone else holding the file
learns the header and nothing else. When the sender has node keys the whole object is signed with its Ed25519
key and the receiver checks the signature against the sender's registered card.

The *query* payload holds, per person, the asker's own id, the record-level filter and the blocking tokens.
The *answer* payload holds, per queried id, only ``hit`` and, on a hit, an opaque ``reference`` (random, kept
by the answering node in its ``hitcheck_references`` table so that the asker can ask for the record through
the normal sharing channel) and ``safeguarding`` when the record is a victim or witness. Never a name, a date
or a number.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from avellino.errors import AvellinoError
from avellino.hitcheck.encode import Encoded, from_wire, to_wire
from avellino.hitcheck.keys import PairKeys

FORMAT = "avellino-hitcheck"
VERSION = 1


class ExchangeRefused(AvellinoError):
    """A query or answer file failed a check (format, key, signature, decryption). Nothing was answered."""

    exit_code = 4

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: refused: {reason}")


@dataclass(frozen=True)
class Sealed:
    """An opened file: its header and its payload."""

    header: dict[str, Any]
    payload: dict[str, Any]


def _canonical(data: object) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def seal(header: dict[str, Any], payload: dict[str, Any], keys: PairKeys, signer: Any | None = None) -> dict[str, Any]:
    """The file object: header, encrypted payload, and the sender's signature when ``signer`` (a node) is given."""
    head = {"format": FORMAT, "version": VERSION, "key_id": keys.key_id, **header}
    nonce = os.urandom(12)
    box = AESGCM(keys.file).encrypt(nonce, _canonical(payload), _canonical(head))
    body = {**head, "nonce": _b64(nonce), "payload": _b64(box)}
    if signer is not None:
        body["signature"] = _b64(signer.sign(_canonical(body)))
    return body


def open_sealed(path: Path, keys: PairKeys, kind: str, verify: Any | None = None) -> Sealed:
    """Read and check a file: format, kind, pair key, signature (against ``verify``, a partner Card, when given)
    and decryption. Any failure raises ExchangeRefused naming the file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ExchangeRefused(str(path), f"cannot be read ({exc.strerror})") from exc
    except ValueError as exc:
        raise ExchangeRefused(str(path), f"not a hit/no-hit file (not JSON: {exc})") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ExchangeRefused(str(path), "not a hit/no-hit file (written by `avellino hitcheck`)")
    if data.get("kind") != kind:
        raise ExchangeRefused(str(path), f"it is a {data.get('kind')!r} file, not a {kind}")
    if data.get("key_id") != keys.key_id:
        raise ExchangeRefused(
            str(path), "made with another pair key (another pair of partners, or a node whose keys changed)"
        )
    signature = data.pop("signature", None)
    if verify is not None and not _signed_by(verify, data, signature):
        raise ExchangeRefused(str(path), f"the signature is missing or not {verify.name}'s")
    head = {k: v for k, v in data.items() if k not in ("nonce", "payload")}
    try:
        plain = AESGCM(keys.file).decrypt(_unb64(data["nonce"]), _unb64(data["payload"]), _canonical(head))
        payload = json.loads(plain)
    except (KeyError, ValueError, InvalidTag) as exc:
        raise ExchangeRefused(
            str(path), "the payload does not decrypt under the pair key (altered or damaged)"
        ) from exc
    return Sealed(head, payload)


def _signed_by(card: Any, data: dict[str, Any], signature: object) -> bool:
    try:
        return isinstance(signature, str) and bool(card.verify(_canonical(data), _unb64(signature)))
    except ValueError:
        return False


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object) -> bytes:
    if not isinstance(text, str):
        raise ValueError("not base64 text")
    return base64.b64decode(text.encode("ascii"), validate=True)


def query_object(
    encoded: Encoded, keys: PairKeys, sender: str, recipient: str, purpose: str, signer: Any | None = None
) -> dict[str, Any]:
    tokens: list[list[int]] = [[] for _ in encoded.ids]
    for i, t in encoded.tokens.tolist():
        tokens[i].append(t)
    header = {
        "kind": "query",
        "query_id": str(uuid.uuid4()),
        "from": sender,
        "to": recipient,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "purpose": purpose,
        "count": len(encoded.ids),
    }
    payload = {"ids": encoded.ids, "filters": to_wire(encoded, keys), "tokens": tokens}
    return seal(header, payload, keys, signer)


def read_query(sealed: Sealed, keys: PairKeys, source: str) -> Encoded:
    """The queried persons' encodings, checked."""
    p = sealed.payload
    try:
        ids, filters, tokens = list(p["ids"]), list(p["filters"]), list(p["tokens"])
        if not (len(ids) == len(filters) == len(tokens)) or len(set(ids)) != len(ids):
            raise ValueError("ids, filters and tokens do not line up")
        encoded = from_wire([str(i) for i in ids], [str(f) for f in filters], keys)
        pairs = [(i, int(t)) for i, ts in enumerate(tokens) for t in ts]
    except (KeyError, TypeError, ValueError) as exc:
        raise ExchangeRefused(source, f"the query's content is malformed ({exc})") from exc
    encoded.tokens = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    return encoded


def new_reference() -> str:
    """An opaque reference: random, so it says nothing about the record (the answering node keeps the map)."""
    return "HC-" + secrets.token_hex(8).upper()


def answer_object(
    query: Sealed, results: list[dict[str, Any]], keys: PairKeys, sender: str, signer: Any | None = None
) -> dict[str, Any]:
    header = {
        "kind": "answer",
        "query_id": query.header.get("query_id"),
        "from": sender,
        "to": query.header.get("from"),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "count": len(results),
        "hits": sum(1 for r in results if r["hit"]),
    }
    return seal(header, {"results": results}, keys, signer)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write atomically (a temporary file renamed), so a failed run leaves nothing half-written."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
