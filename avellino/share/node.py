"""This node's identity (name, country, keys) and the partners it knows, kept as files beside the workspace.

A node is one agency. It has two key pairs made with ``cryptography``: Ed25519 to sign what it sends (bundles,
withdrawals, API requests) and X25519 so that others can encrypt to it. The private keys never enter the
database: a DuckDB workspace keeps them in ``WORKSPACE/node/``; a PostgreSQL workspace (one database shared by
many analysts) names a folder with ``--node-dir`` or ``AVELLINO_NODE_DIR``, because a server URL has no folder
of its own. The folder is readable by its owner only (0700, private keys 0600): whoever reads the keys can speak
for the agency.

A node's public *card* (name, country, law-enforcement flag, both public keys, fingerprint, self-signature) is
what partners exchange out of band and register with ``avellino partner add``; the fingerprint is what two
agencies read to each other over the phone before trusting a card.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from avellino.errors import ConfigError
from avellino.settings import store_url, workspace_path
from avellino.share.policy import Recipient

NODE_DIR_ENV = "AVELLINO_NODE_DIR"
CARD_VERSION = 1
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
TEAM_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise ValueError(f"{what} is not base64 text")
    return base64.b64decode(text.encode("ascii"), validate=True)


def canonical_json(data: object) -> bytes:
    """The one byte form of a JSON value that is signed (sorted keys, no spaces)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def node_dir(workspace: Path | None = None, explicit: Path | None = None, url: str | None = None) -> Path:
    """Where this node's keys and partners live: ``--node-dir``, else $AVELLINO_NODE_DIR, else WORKSPACE/node for
    a workspace folder. A PostgreSQL workspace must name one (its URL has no folder)."""
    if explicit is not None:
        return explicit
    env = os.environ.get(NODE_DIR_ENV)
    if env:
        return Path(env)
    if store_url(url):
        raise ConfigError(
            "This workspace is a PostgreSQL server (AVELLINO_STORE_URL), which has no folder for the node's keys: "
            f"give --node-dir DIR or set {NODE_DIR_ENV} (a folder only the node's operator can read)."
        )
    return workspace_path(workspace) / "node"


def fingerprint(signing_key: bytes, encryption_key: bytes) -> str:
    """SHA-256 of both public keys, in hex: what two agencies compare before trusting a card."""
    return hashlib.sha256(b"avellino-node-v1" + signing_key + encryption_key).hexdigest()


def short(fp: str) -> str:
    """A fingerprint as people read it aloud: the first 80 bits in groups of four."""
    return " ".join(fp[i : i + 4] for i in range(0, 20, 4))


@dataclass(frozen=True)
class Card:
    """A node's public identity."""

    name: str
    country: str
    law_enforcement: bool
    signing_key: bytes  #: Ed25519 public key, raw 32 bytes
    encryption_key: bytes  #: X25519 public key, raw 32 bytes
    signature: bytes | None = field(default=None, compare=False)  #: self-signature, as read from a card file

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.signing_key, self.encryption_key)

    def body(self) -> dict[str, Any]:
        return {
            "avellino_node_card": CARD_VERSION,
            "name": self.name,
            "country": self.country,
            "law_enforcement": self.law_enforcement,
            "signing_key": b64(self.signing_key),
            "encryption_key": b64(self.encryption_key),
            "fingerprint": self.fingerprint,
        }

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.signing_key).verify(signature, message)
        except (InvalidSignature, ValueError):
            return False
        return True

    def public_encryption_key(self) -> X25519PublicKey:
        return X25519PublicKey.from_public_bytes(self.encryption_key)

    @classmethod
    def from_json(cls, data: object, source: str) -> Card:
        """A card read from a file, checked: every field present, keys well formed, the fingerprint and the
        card's self-signature right (a card edited after it was written is refused)."""
        if not isinstance(data, dict) or data.get("avellino_node_card") != CARD_VERSION:
            raise ConfigError(f"{source} is not an Avellino node card (written by `avellino node card`)")
        try:
            card = cls(
                name=check_name(str(data["name"])),
                country=check_country(str(data["country"])),
                law_enforcement=_bool(data["law_enforcement"], "law_enforcement"),
                signing_key=unb64(data["signing_key"], "signing_key"),
                encryption_key=unb64(data["encryption_key"], "encryption_key"),
                signature=unb64(data["signature"], "signature"),
            )
            signature = card.signature or b""
            Ed25519PublicKey.from_public_bytes(card.signing_key)
            X25519PublicKey.from_public_bytes(card.encryption_key)
        except KeyError as exc:
            raise ConfigError(f"{source}: the card has no field {exc.args[0]!r}") from exc
        except ValueError as exc:
            raise ConfigError(f"{source}: the card is damaged ({exc})") from exc
        if data.get("fingerprint") != card.fingerprint:
            raise ConfigError(f"{source}: the card's fingerprint does not match its keys (the card was altered)")
        if not card.verify(canonical_json(card.body()), signature):
            raise ConfigError(f"{source}: the card's signature is not valid (the card was altered)")
        return card


def _bool(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{what} must be true or false")
    return value


def check_name(name: str) -> str:
    if not NAME_RE.match(name):
        raise ConfigError(f"Node name {name!r}: use letters, digits, '.', '_' or '-' (e.g. UK-NCA), at most 64")
    return name


def check_country(country: str) -> str:
    if not COUNTRY_RE.match(country):
        raise ConfigError(f"Country {country!r}: give the ISO 3166 two-letter code in capitals (e.g. GB, FR)")
    return country


def check_team(team: str) -> str:
    if not TEAM_RE.match(team):
        raise ConfigError(f"Team {team!r}: use letters, digits, '.', '_' or '-' (e.g. JIT-CHANNEL)")
    return team


@dataclass(frozen=True)
class Partner:
    """A registered partner: its card and how this node registered it."""

    card: Card
    community: bool = False  #: part of this node's TLP:GREEN community (matters for non-law-enforcement)
    teams: frozenset[str] = frozenset()  #: joint investigation teams this node shares with it
    url: str | None = None  #: its node server, for `share push` / `share fetch`

    @property
    def name(self) -> str:
        return self.card.name

    def recipient(self) -> Recipient:
        c = self.card
        return Recipient(c.name, c.country, c.law_enforcement, community=self.community, teams=self.teams)


@dataclass
class Node:
    """This node: its folder, card and private keys."""

    dir: Path
    card: Card
    teams: frozenset[str] = field(default_factory=frozenset)

    @property
    def name(self) -> str:
        return self.card.name

    # -- keys -------------------------------------------------------------------------------------------
    def _signing(self) -> Ed25519PrivateKey:
        key = serialization.load_pem_private_key((self.dir / "signing.pem").read_bytes(), password=None)
        assert isinstance(key, Ed25519PrivateKey)
        return key

    def _decryption(self) -> X25519PrivateKey:
        key = serialization.load_pem_private_key((self.dir / "encryption.pem").read_bytes(), password=None)
        assert isinstance(key, X25519PrivateKey)
        return key

    def sign(self, message: bytes) -> bytes:
        return self._signing().sign(message)

    def exchange(self, peer: bytes) -> bytes:
        """The X25519 shared secret with a peer's public key (unwrapping a bundle's content key)."""
        return self._decryption().exchange(X25519PublicKey.from_public_bytes(peer))

    def card_json(self) -> dict[str, Any]:
        """The public card, self-signed."""
        body = self.card.body()
        return {**body, "signature": b64(self.sign(canonical_json(body)))}

    # -- partners ---------------------------------------------------------------------------------------
    @property
    def partners_dir(self) -> Path:
        return self.dir / "partners"

    def partners(self) -> dict[str, Partner]:
        out: dict[str, Partner] = {}
        if not self.partners_dir.is_dir():
            return out
        for path in sorted(self.partners_dir.glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            card = Card.from_json(data["card"], str(path))
            out[card.name] = Partner(
                card, bool(data.get("community")), frozenset(data.get("teams", [])), data.get("url")
            )
        return out

    def partner(self, name: str) -> Partner:
        found = self.partners().get(name)
        if found is None:
            known = ", ".join(self.partners()) or "none yet"
            raise ConfigError(
                f"{name!r} is not a registered partner of {self.name} (known: {known}). "
                f"Register its card first: avellino partner add CARD.json"
            )
        return found

    def card_of(self, name: str) -> Card | None:
        """The card of a node by name: this node's own, or a registered partner's."""
        if name == self.name:
            return self.card
        found = self.partners().get(name)
        return found.card if found else None

    def add_partner(self, partner: Partner) -> Partner:
        """Register (or update) a partner. A name already registered with other keys is refused: a changed key
        is either a new installation or an impostor, and a person must decide which (remove the old file)."""
        if partner.name == self.name:
            raise ConfigError(f"{partner.name} is this node itself; register the cards of other agencies")
        old = self.partners().get(partner.name)
        if old is not None and old.card.fingerprint != partner.card.fingerprint:
            raise ConfigError(
                f"{partner.name} is already registered with other keys (fingerprint {short(old.card.fingerprint)}, "
                f"new card {short(partner.card.fingerprint)}). If the agency really changed its keys, delete "
                f"{self.partners_dir / (partner.name + '.json')} and add the new card."
            )
        if old is not None:
            partner = replace(partner, teams=partner.teams | old.teams, url=partner.url or old.url)
        if partner.card.signature is None:
            raise ConfigError(f"the card of {partner.name} carries no signature")
        self.partners_dir.mkdir(mode=0o700, exist_ok=True)
        data = {
            "card": {**partner.card.body(), "signature": b64(partner.card.signature)},
            "community": partner.community,
            "teams": sorted(partner.teams),
            "url": partner.url,
        }
        path = self.partners_dir / f"{partner.name}.json"
        _write_private(path, json.dumps(data, indent=2).encode("utf-8"), mode=0o600)
        if partner.teams - self.teams:  # sharing a joint team with a partner makes this node a member too
            self.teams = self.teams | partner.teams
            self.save_identity()
        return partner

    # -- storage ----------------------------------------------------------------------------------------
    def save_identity(self) -> None:
        data = {
            "name": self.card.name,
            "country": self.card.country,
            "law_enforcement": self.card.law_enforcement,
            "teams": sorted(self.teams),
        }
        _write_private(self.dir / "node.json", json.dumps(data, indent=2).encode("utf-8"), mode=0o600)


def _write_private(path: Path, data: bytes, mode: int) -> None:
    """Write a file created with ``mode`` from the start (never readable by others, not even for an instant)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, mode)
    tmp.replace(path)


def init_node(directory: Path, name: str, country: str, law_enforcement: bool = True) -> Node:
    """Create a node: its folder (0700), key pairs (private keys 0600) and identity. Refuses to overwrite."""
    check_name(name)
    check_country(country)
    if (directory / "signing.pem").exists():
        existing = load_node(directory)
        raise ConfigError(
            f"{directory} already holds node {existing.name} (fingerprint {short(existing.card.fingerprint)}); "
            "a node's keys are never replaced by init (partners trust them)"
        )
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    signing = Ed25519PrivateKey.generate()
    encryption = X25519PrivateKey.generate()
    pem = serialization.Encoding.PEM
    pkcs8 = serialization.PrivateFormat.PKCS8
    none = serialization.NoEncryption()
    _write_private(directory / "signing.pem", signing.private_bytes(pem, pkcs8, none), 0o600)
    _write_private(directory / "encryption.pem", encryption.private_bytes(pem, pkcs8, none), 0o600)
    raw = serialization.Encoding.Raw
    pub = serialization.PublicFormat.Raw
    card = Card(
        name,
        country,
        law_enforcement,
        signing.public_key().public_bytes(raw, pub),
        encryption.public_key().public_bytes(raw, pub),
    )
    node = Node(directory, card)
    node.save_identity()
    return node


def load_node(directory: Path) -> Node:
    """This node, from its folder; a clear error when there is none or its keys are readable by others."""
    ident = directory / "node.json"
    if not ident.is_file():
        raise ConfigError(
            f"No Avellino node at {directory}. Create one with: avellino node init --name NAME --country CC"
        )
    for key in ("signing.pem", "encryption.pem"):
        path = directory / key
        if not path.is_file():
            raise ConfigError(f"{path} is missing: the node's keys are incomplete")
        if path.stat().st_mode & 0o077:
            raise ConfigError(
                f"{path} is readable by others than its owner: run chmod 600 {path} (and check who read it)"
            )
    data = json.loads(ident.read_text(encoding="utf-8"))
    signing = serialization.load_pem_private_key((directory / "signing.pem").read_bytes(), password=None)
    encryption = serialization.load_pem_private_key((directory / "encryption.pem").read_bytes(), password=None)
    if not isinstance(signing, Ed25519PrivateKey) or not isinstance(encryption, X25519PrivateKey):
        raise ConfigError(f"{directory}: the key files are not an Ed25519 and an X25519 key")
    raw = serialization.Encoding.Raw
    pub = serialization.PublicFormat.Raw
    card = Card(
        str(data["name"]),
        str(data["country"]),
        bool(data["law_enforcement"]),
        signing.public_key().public_bytes(raw, pub),
        encryption.public_key().public_bytes(raw, pub),
    )
    return Node(directory, card, frozenset(data.get("teams", [])))


def read_card(path: Path) -> Card:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"Cannot read card {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise ConfigError(f"{path} is not JSON: {exc}") from exc
    return Card.from_json(data, str(path))
