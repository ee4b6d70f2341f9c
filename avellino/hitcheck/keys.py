"""The key of a pair of partners: both sides compute it, nobody sends it.

Each node holds an X25519 key pair (``share/node.py``). For a pair of nodes A and B, X25519(A's private key, B's
public key) equals X25519(B's private key, A's public key); HKDF-SHA256 over that shared secret, bound to both
node names and both public keys (sorted, so the two sides agree), gives the pair's master key. Every use gets its
own sub-key (HKDF-Expand with a label): the HMAC keys of the name, birth-date and document encodings, the secret
permutation of the bits, the encryption of query and answer files.

Why per pair: an encoding made for FR-OCRIEST cannot be compared with one made for IT-SCO (different HMAC keys
set different bits), so a partner cannot match another pair's queries against its own, and a query that leaks
can be tested only by the one partner that holds that pair's key.

``PairKeys.from_master`` takes a key from anywhere (tests, a key agreed out of band); ``pair_keys`` is the one
place that derives it from node keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand

VERSION = b"avellino-hitcheck-v1"
_LABELS = ("name", "dob", "document", "permutation", "file", "blocking")


@dataclass(frozen=True)
class PairKeys:
    """The sub-keys of one pair of partners (32 bytes each)."""

    pair: tuple[str, str]  #: the two node names, sorted
    name: bytes
    dob: bytes
    document: bytes
    permutation: bytes
    file: bytes
    blocking: bytes

    @property
    def key_id(self) -> str:
        """A short public id of the pair key (HMAC of a fixed label): both files name it, so a query made with
        another key (another pair, a rotated node key) is refused before any matching."""
        import hmac

        return hmac.new(self.file, b"key-id", "sha256").hexdigest()[:16]

    @classmethod
    def from_master(cls, master: bytes, a: str, b: str) -> PairKeys:
        """Sub-keys from a 32-byte master key of the pair (a, b) (the order of a and b does not matter)."""
        if len(master) < 32:
            raise ValueError("a pair key needs at least 32 bytes")
        pair = tuple(sorted((a, b)))
        subs = {label: _expand(master, label.encode() + b"|" + "|".join(pair).encode()) for label in _LABELS}
        return cls((pair[0], pair[1]), **subs)


def _expand(master: bytes, info: bytes) -> bytes:
    return HKDFExpand(algorithm=hashes.SHA256(), length=32, info=VERSION + b"|" + info).derive(master)


def master_from_secret(shared_secret: bytes, a: tuple[str, bytes], b: tuple[str, bytes]) -> bytes:
    """HKDF-SHA256 of an X25519 shared secret, bound to both (node name, X25519 public key), sorted."""
    first, second = sorted((a, b))
    info = VERSION + b"|" + first[0].encode() + b"|" + first[1] + b"|" + second[0].encode() + b"|" + second[1]
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=VERSION, info=info).derive(shared_secret)


def pair_keys(node: object, partner: str) -> PairKeys:
    """The pair key of this node (``share.node.Node``) and a registered partner, from their X25519 keys."""
    from avellino.share.node import Node

    assert isinstance(node, Node)
    card = node.partner(partner).card
    secret = node.exchange(card.encryption_key)
    master = master_from_secret(secret, (node.name, node.card.encryption_key), (card.name, card.encryption_key))
    return PairKeys.from_master(master, node.name, card.name)
