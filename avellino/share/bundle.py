"""The bundle file: a payload encrypted to named recipients and signed by its sender, written and read as a stream.

Layout (all integers big-endian)::

    MAGIC (16 bytes) | header length (u32) | header (canonical JSON) | chunk* | signature (64 bytes)
    chunk = length (u32) | AES-256-GCM ciphertext of at most CHUNK plaintext bytes (+ 16-byte tag)

* A fresh 256-bit content key encrypts the payload in chunks (AES-256-GCM). Chunk ``i``'s nonce is the
  header's 7-byte prefix, ``i`` (4 bytes) and a last-chunk flag, and its associated data is the SHA-256 of
  the header, so chunks cannot be reordered, dropped, cut short or moved to another bundle (the STREAM
  construction of Hoang, Reyhanitabar, Rogaway and Vizár).
* The content key is wrapped for each recipient: X25519 between a one-bundle ephemeral key and the
  recipient's card key, HKDF-SHA256 (salt: the bundle id; info: both public keys), AES-256-GCM.
* The sender signs with Ed25519 the SHA-512 of everything before the signature (magic, header and every
  ciphertext byte). A reader checks the signature against the sender's registered card *before* decrypting
  anything, then, while decrypting, hashes the bytes again and refuses the bundle at the end if they differ
  from what was verified (a file changed between the two reads).

Why chunks: a bundle of a million-record workspace is hundreds of megabytes; neither side ever holds more than
one chunk of ciphertext.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import struct
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from avellino.errors import AvellinoError
from avellino.share.node import Card, Node, b64, canonical_json, unb64

MAGIC = b"AVELLINO-BUNDLE\x01"
VERSION = 1
CHUNK = 1 << 20
MAX_HEADER = 1 << 20
SIGNATURE_BYTES = 64
TAG = 16
SIGN_CONTEXT = b"avellino-bundle-v1"
_U32 = struct.Struct(">I")


class BundleRefused(AvellinoError):
    """A bundle failed a check (signature, encryption, sender, recipient, content). Nothing was imported."""

    exit_code = 4

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: bundle refused: {reason}; nothing was imported")


@dataclass(frozen=True)
class Header:
    """What a bundle says about itself (signed with it, readable before decryption)."""

    data: dict[str, Any]
    raw: bytes

    @property
    def bundle_id(self) -> str:
        return str(self.data["bundle_id"])

    @property
    def kind(self) -> str:
        return str(self.data["kind"])

    @property
    def sender(self) -> str:
        return str(self.data["sender"]["name"])

    @property
    def sender_fingerprint(self) -> str:
        return str(self.data["sender"]["fingerprint"])

    @property
    def purpose(self) -> str:
        return str(self.data.get("purpose") or "")

    @property
    def recipients(self) -> list[dict[str, Any]]:
        return list(self.data["recipients"])

    @property
    def created(self) -> str:
        return str(self.data["created"])


def _kek(shared: bytes, bundle_id: str, ephemeral: bytes, recipient: bytes) -> bytes:
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=bundle_id.encode("ascii"),
        info=b"avellino bundle key v1|" + ephemeral + recipient,
    )
    return hkdf.derive(shared)


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + _U32.pack(index) + (b"\x01" if last else b"\x00")


class BundleWriter(io.RawIOBase):
    """A writable stream: bytes written are encrypted in chunks into ``path`` (via a ``.partial`` file renamed
    at ``finish``). ``recipients``: (card, extra header fields) per recipient."""

    def __init__(
        self,
        path: Path,
        sender: Node,
        kind: str,
        recipients: Iterable[tuple[Card, dict[str, Any]]],
        fields: dict[str, Any] | None = None,
    ):
        super().__init__()
        self.path = path
        self.sender = sender
        self.bundle_id = uuid.uuid4().hex
        key = AESGCM.generate_key(bit_length=256)
        ephemeral = X25519PrivateKey.generate()
        eph_pub = ephemeral.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        wrapped = []
        for card, extra in recipients:
            kek = _kek(ephemeral.exchange(card.public_encryption_key()), self.bundle_id, eph_pub, card.encryption_key)
            sealed = AESGCM(kek).encrypt(b"\x00" * 12, key, card.fingerprint.encode("ascii"))
            wrapped.append({**extra, "name": card.name, "fingerprint": card.fingerprint, "key": b64(sealed)})
        if not wrapped:
            raise AvellinoError("a bundle needs at least one recipient")
        self._prefix = os.urandom(7)
        header = {
            "avellino_bundle": VERSION,
            "bundle_id": self.bundle_id,
            "kind": kind,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "sender": {"name": sender.name, "fingerprint": sender.card.fingerprint},
            "recipients": wrapped,
            "ephemeral_key": b64(eph_pub),
            "nonce_prefix": b64(self._prefix),
            "cipher": "AES-256-GCM",
            "chunk": CHUNK,
            **(fields or {}),
        }
        self.header = Header(header, canonical_json(header))
        self._aad = hashlib.sha256(self.header.raw).digest()
        self._aead = AESGCM(key)
        self._hash = hashlib.sha512()
        self._index = 0
        self._buffer = bytearray()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = path.with_name(path.name + ".partial")
        self._out: IO[bytes] = self._tmp.open("wb")
        self._emit(MAGIC + _U32.pack(len(self.header.raw)) + self.header.raw)

    def _emit(self, data: bytes) -> None:
        self._hash.update(data)
        self._out.write(data)

    def _seal(self, plain: bytes, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._prefix, self._index, last), plain, self._aad)
        self._emit(_U32.pack(len(sealed)) + sealed)
        self._index += 1

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self._buffer += view
        while len(self._buffer) > CHUNK:
            self._seal(bytes(self._buffer[:CHUNK]), last=False)
            del self._buffer[:CHUNK]
        return len(view)

    def finish(self) -> Path:
        """Seal the last chunk, sign, and put the bundle in place."""
        self._seal(bytes(self._buffer), last=True)
        self._buffer = bytearray()
        signature = self.sender.sign(SIGN_CONTEXT + self._hash.digest())
        self._out.write(signature)
        self._out.close()
        self._tmp.replace(self.path)
        return self.path

    def abort(self) -> None:
        self._out.close()
        self._tmp.unlink(missing_ok=True)


def read_header(path: Path) -> Header:
    """The header, parsed but NOT yet trusted (check the signature with :func:`verify`)."""
    try:
        with path.open("rb") as fh:
            magic = fh.read(len(MAGIC))
            if magic != MAGIC:
                raise BundleRefused(str(path), "not an Avellino bundle (wrong magic bytes)")
            size_raw = fh.read(4)
            if len(size_raw) != 4:
                raise BundleRefused(str(path), "the file is cut short")
            (size,) = _U32.unpack(size_raw)
            if size > MAX_HEADER:
                raise BundleRefused(str(path), "the header is too large")
            raw = fh.read(size)
    except OSError as exc:
        raise BundleRefused(str(path), f"cannot read the file ({exc.strerror})") from exc
    if len(raw) != size:
        raise BundleRefused(str(path), "the file is cut short")
    try:
        data = json.loads(raw.decode("utf-8"))
        header = Header(data, raw)
        if data.get("avellino_bundle") != VERSION:
            raise ValueError("unknown bundle version")
        for prop in ("bundle_id", "kind", "sender", "sender_fingerprint", "recipients", "created"):
            getattr(header, prop)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BundleRefused(str(path), f"the header is not readable ({exc})") from exc
    return header


def _digest(path: Path) -> tuple[bytes, bytes]:
    """SHA-512 of everything before the signature, and the signature."""
    size = path.stat().st_size
    if size < len(MAGIC) + 4 + SIGNATURE_BYTES:
        raise BundleRefused(str(path), "the file is cut short")
    digest = hashlib.sha512()
    left = size - SIGNATURE_BYTES
    with path.open("rb") as fh:
        while left:
            block = fh.read(min(left, 1 << 20))
            if not block:
                raise BundleRefused(str(path), "the file changed while it was read")
            digest.update(block)
            left -= len(block)
        signature = fh.read(SIGNATURE_BYTES)
    return digest.digest(), signature


def verify(path: Path, header: Header, sender: Card) -> bytes:
    """Check the sender's signature over the whole bundle; return the verified digest."""
    if header.sender_fingerprint != sender.fingerprint:
        raise BundleRefused(
            str(path), f"signed with keys that are not {sender.name}'s registered card (fingerprint differs)"
        )
    digest, signature = _digest(path)
    if not sender.verify(SIGN_CONTEXT + digest, signature):
        raise BundleRefused(str(path), f"the signature is not {sender.name}'s: the bundle was altered or forged")
    return digest


def content_key(path: Path, header: Header, me: Node) -> bytes:
    """Unwrap the content key addressed to this node."""
    mine = [r for r in header.recipients if r.get("fingerprint") == me.card.fingerprint]
    if not mine:
        names = ", ".join(str(r.get("name")) for r in header.recipients)
        raise BundleRefused(str(path), f"it is not addressed to {me.name} (recipients: {names})")
    try:
        eph = unb64(header.data["ephemeral_key"], "ephemeral_key")
        kek = _kek(me.exchange(eph), header.bundle_id, eph, me.card.encryption_key)
        return AESGCM(kek).decrypt(b"\x00" * 12, unb64(mine[0]["key"], "key"), me.card.fingerprint.encode("ascii"))
    except (InvalidTag, ValueError, KeyError) as exc:
        raise BundleRefused(str(path), "the content key cannot be unwrapped with this node's key") from exc


class BundleReader(io.RawIOBase):
    """A readable stream of the decrypted payload. Refuses (raises BundleRefused) on any chunk that does not
    authenticate, and at the end when the bytes read differ from those whose signature was verified."""

    def __init__(self, path: Path, header: Header, key: bytes, verified: bytes):
        super().__init__()
        self.path = path
        self._size = path.stat().st_size
        self._fh: IO[bytes] = path.open("rb")
        self._verified = verified
        self._hash = hashlib.sha512()
        start = len(MAGIC) + 4 + len(header.raw)
        self._hash.update(self._fh.read(start))
        self._aad = hashlib.sha256(header.raw).digest()
        try:
            self._prefix = unb64(header.data["nonce_prefix"], "nonce_prefix")
        except (KeyError, ValueError) as exc:
            raise BundleRefused(str(path), "the header has no valid nonce prefix") from exc
        self._aead = AESGCM(key)
        self._index = 0
        self._pending = b""
        self._done = False

    def readable(self) -> bool:
        return True

    def _next(self) -> bytes:
        end = self._size - SIGNATURE_BYTES
        raw = self._fh.read(4)
        if len(raw) != 4:
            raise BundleRefused(str(self.path), "the payload is cut short")
        (length,) = _U32.unpack(raw)
        if length < TAG or length > CHUNK + TAG:
            raise BundleRefused(str(self.path), f"chunk {self._index} has an impossible length")
        sealed = self._fh.read(length)
        if len(sealed) != length:
            raise BundleRefused(str(self.path), "the payload is cut short")
        self._hash.update(raw + sealed)
        last = self._fh.tell() == end
        if self._fh.tell() > end:
            raise BundleRefused(str(self.path), "the payload runs into the signature")
        try:
            plain = self._aead.decrypt(_nonce(self._prefix, self._index, last), sealed, self._aad)
        except InvalidTag as exc:
            raise BundleRefused(str(self.path), f"chunk {self._index} does not decrypt (altered)") from exc
        self._index += 1
        if last:
            self._done = True
            if self._hash.digest() != self._verified:
                raise BundleRefused(str(self.path), "the file changed after its signature was checked")
        return plain

    def readinto(self, buffer: Any) -> int:
        """Fill ``buffer`` across chunks (short only at the end): Arrow's reader takes one short read as the
        end of the stream."""
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view):
            if not self._pending:
                if self._done:
                    break
                self._pending = self._next()
                continue
            n = min(len(view) - filled, len(self._pending))
            view[filled : filled + n] = self._pending[:n]
            self._pending = self._pending[n:]
            filled += n
        return filled

    def read_all(self) -> bytes:
        out = bytearray()
        while chunk := self.read(CHUNK):
            out += chunk
        return bytes(out)

    def close(self) -> None:
        self._fh.close()
        super().close()


def open_verified(path: Path, me: Node, sender_card_of: Any) -> tuple[Header, BundleReader]:
    """Header, sender check, signature check, then a decrypting reader. ``sender_card_of(name)`` gives the card
    of a registered partner or None."""
    header = read_header(path)
    card: Card | None = sender_card_of(header.sender)
    if card is None:
        raise BundleRefused(
            str(path), f"the sender {header.sender!r} is not a registered partner (avellino partner add CARD.json)"
        )
    digest = verify(path, header, card)
    return header, BundleReader(path, header, content_key(path, header, me), digest)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def as_public_key(raw: bytes) -> X25519PublicKey:
    return X25519PublicKey.from_public_bytes(raw)
