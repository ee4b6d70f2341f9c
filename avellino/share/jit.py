"""Joint investigation teams: a signed agreement between a few nodes, held in each member's node folder.

A JIT agreement names its members, its term (from the day it was created to ``until``), the purposes members may
share for inside it, whether H1 facts may serve as evidence inside it, and what happens to contributions when a
member's access ends (``return``, ``keep`` or ``delete``). Its *body* never changes once created; each member
signs the body with its node key (Ed25519, ``jit sign``), and the agreement is in force only when every member's
signature verifies against the card this node holds for it (its own card, or a registered partner's). Members
exchange the agreement as a file (``jit create``/``jit sign`` write it; ``jit import`` merges a member's copy:
signatures and events are added, never removed, and the body must be the same byte for byte).

Ending is an *event* signed by the member who acts: ``leave`` (that member's access ends) or ``end`` (the JIT ends
for all). Events travel in the same file. The sharing policy reads an agreement as :class:`avellino.share.policy.Jit`
(members still in it, signed or not, ended or not); bundles sent inside a JIT name it in their signed header, and
the receiver records the batch each such bundle became (``jits/NAME.received.jsonl``), so that facts contributed
to a JIT stay inside it and can be purged when access ends.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from avellino.errors import ConfigError
from avellino.share.node import Node, Partner, b64, canonical_json, check_name, check_team, unb64
from avellino.share.policy import Jit, purpose_kind
from avellino.store.base import Store
from avellino.store.schema import DELETE_SCHEMA

if TYPE_CHECKING:
    from avellino.share.bundle import BundleReader, Header
    from avellino.share.receive import ReceiveResult

AGREEMENT_CONTEXT = b"avellino-jit-v1"
EVENT_CONTEXT = b"avellino-jit-event-v1"
ON_END = ("return", "keep", "delete")
LEAVE = "leave"
END = "end"


@dataclass
class Agreement:
    """One JIT agreement: the signed body, the members' signatures and the end events."""

    body: dict[str, Any]
    signatures: dict[str, bytes] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)  #: {"event": {...}, "signature": b64}

    # -- the body -----------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return str(self.body["name"])

    @property
    def members(self) -> tuple[str, ...]:
        return tuple(str(m) for m in self.body["members"])

    @property
    def start(self) -> dt.date:
        return dt.date.fromisoformat(str(self.body["start"]))

    @property
    def until(self) -> dt.date:
        return dt.date.fromisoformat(str(self.body["until"]))

    @property
    def purposes(self) -> tuple[str, ...]:
        return tuple(str(p) for p in self.body["purposes"])

    @property
    def h1_evidence(self) -> bool:
        return bool(self.body["h1_evidence"])

    @property
    def on_end(self) -> str:
        return str(self.body["on_end"])

    @property
    def agreement_id(self) -> str:
        """sha256 of the canonical body: what signatures and events refer to."""
        return hashlib.sha256(canonical_json(self.body)).hexdigest()

    # -- signatures and events ----------------------------------------------------------------------------
    def verified_signers(self, node: Node) -> set[str]:
        """Members whose signature verifies against the card this node holds for them."""
        message = AGREEMENT_CONTEXT + canonical_json(self.body)
        out = set()
        for member, signature in self.signatures.items():
            card = node.card_of(member)
            if member in self.members and card is not None and card.verify(message, signature):
                out.add(member)
        return out

    def verified_events(self, node: Node) -> list[dict[str, Any]]:
        """The end events signed by the member they name (others are ignored)."""
        out = []
        for item in self.events:
            event = item["event"]
            card = node.card_of(str(event.get("member")))
            if (
                card is not None
                and event.get("agreement") == self.agreement_id
                and event.get("member") in self.members
                and card.verify(EVENT_CONTEXT + canonical_json(event), unb64(item["signature"], "signature"))
            ):
                out.append(event)
        return out

    def left(self, node: Node) -> set[str]:
        return {str(e["member"]) for e in self.verified_events(node) if e["kind"] == LEAVE}

    def ended(self, node: Node) -> dt.date | None:
        days = [dt.date.fromisoformat(str(e["on"])) for e in self.verified_events(node) if e["kind"] == END]
        return min(days) if days else None

    def policy_view(self, node: Node) -> Jit:
        """The agreement as the sharing policy reads it, judged with this node's cards."""
        left = self.left(node)
        return Jit(
            name=self.name,
            members=frozenset(self.members) - left,
            purposes=frozenset(purpose_kind(p) for p in self.purposes),
            start=self.start,
            until=self.until,
            signed=self.verified_signers(node) == set(self.members),
            ended=self.ended(node),
            h1_evidence=self.h1_evidence,
        )

    def state(self, node: Node, today: dt.date) -> str:
        """In words: draft (waiting for signatures), active, not yet started, expired, ended, left."""
        view = self.policy_view(node)
        if view.ended is not None:
            return f"ended on {view.ended}"
        if node.name not in view.members:
            return "left (this node)"
        missing = sorted(set(self.members) - self.verified_signers(node))
        if missing:
            return f"draft: waiting for the signature of {', '.join(missing)}"
        if today < view.start:
            return "not yet started"
        if today > view.until:
            return f"expired on {view.until}"
        return "active"

    def to_json(self) -> dict[str, Any]:
        return {
            "avellino_jit": 1,
            "agreement": self.body,
            "agreement_id": self.agreement_id,
            "signatures": {m: b64(s) for m, s in sorted(self.signatures.items())},
            "events": self.events,
        }


def create(
    node: Node,
    name: str,
    members: Sequence[str],
    until: dt.date,
    purposes: Sequence[str],
    h1_evidence: bool = False,
    on_end: str = "delete",
    today: dt.date | None = None,
) -> Agreement:
    """A new agreement, signed by this node (which must be a member), saved in the node folder."""
    check_team(name)
    today = today or dt.date.today()
    members = sorted({check_name(m.strip()) for m in members if m.strip()})
    if node.name not in members:
        raise ConfigError(f"{node.name} is not among --members {', '.join(members)}: a node creates only JITs it is in")
    if len(members) < 2:
        raise ConfigError("A JIT needs at least two members (--members UK-NCA,FR-OCRIEST)")
    unknown = [m for m in members if node.card_of(m) is None]
    if unknown:
        raise ConfigError(f"{', '.join(unknown)}: not a registered partner; add its card first (avellino partner add)")
    if until < today:
        raise ConfigError(f"--until {until} is before today ({today}): a JIT's term cannot end before it begins")
    kinds = [p.strip() for p in purposes if p.strip()]
    if not kinds:
        raise ConfigError("Give at least one --purpose (what members may share for inside the JIT)")
    if on_end not in ON_END:
        raise ConfigError(f"--on-end {on_end!r}: choose one of {', '.join(ON_END)}")
    if path_of(node, name).exists():
        raise ConfigError(f"{path_of(node, name)} already holds a JIT named {name}; choose another name")
    body = {
        "avellino_jit": 1,
        "name": name,
        "members": members,
        "start": today.isoformat(),
        "until": until.isoformat(),
        "purposes": kinds,
        "h1_evidence": h1_evidence,
        "on_end": on_end,
        "created_by": node.name,
    }
    agreement = Agreement(body)
    sign(node, agreement)
    return agreement


def sign(node: Node, agreement: Agreement) -> Agreement:
    """Add this node's signature (a member only) and save."""
    if node.name not in agreement.members:
        raise ConfigError(f"{node.name} is not a member of {agreement.name} ({', '.join(agreement.members)})")
    agreement.signatures[node.name] = node.sign(AGREEMENT_CONTEXT + canonical_json(agreement.body))
    save(node, agreement)
    return agreement


def add_event(node: Node, agreement: Agreement, kind: str, today: dt.date) -> dict[str, Any]:
    """A ``leave`` or ``end`` event signed by this node, added and saved."""
    if node.name not in agreement.members:
        raise ConfigError(f"{node.name} is not a member of {agreement.name}")
    event = {"agreement": agreement.agreement_id, "kind": kind, "member": node.name, "on": today.isoformat()}
    agreement.events.append({"event": event, "signature": b64(node.sign(EVENT_CONTEXT + canonical_json(event)))})
    save(node, agreement)
    return event


# -- files ---------------------------------------------------------------------------------------------------


def jits_dir(node: Node) -> Path:
    return node.dir / "jits"


def path_of(node: Node, name: str) -> Path:
    return jits_dir(node) / f"{check_team(name)}.json"


def save(node: Node, agreement: Agreement) -> Path:
    folder = jits_dir(node)
    folder.mkdir(mode=0o700, exist_ok=True)
    path = path_of(node, agreement.name)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(agreement.to_json(), indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def parse(data: object, source: str) -> Agreement:
    """An agreement file, checked for shape (signatures are judged against cards when used)."""
    if not isinstance(data, dict) or data.get("avellino_jit") != 1 or not isinstance(data.get("agreement"), dict):
        raise ConfigError(f"{source} is not an Avellino JIT agreement (written by `avellino jit create` or `jit sign`)")
    try:
        agreement = Agreement(
            dict(data["agreement"]),
            {str(m): unb64(s, f"signature of {m}") for m, s in dict(data.get("signatures") or {}).items()},
            [dict(e) for e in data.get("events") or []],
        )
        agreement.name, agreement.members, agreement.start, agreement.until, agreement.purposes  # noqa: B018
        if agreement.on_end not in ON_END:
            raise ValueError(f"on_end {agreement.on_end!r}")
        for item in agreement.events:
            if item["event"]["kind"] not in (LEAVE, END):
                raise ValueError(f"event kind {item['event']['kind']!r}")
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: the agreement is damaged ({exc})") from exc
    if data.get("agreement_id") not in (None, agreement.agreement_id):
        raise ConfigError(f"{source}: the agreement's id does not match its text (the agreement was altered)")
    return agreement


def read_file(path: Path) -> Agreement:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"Cannot read JIT agreement {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise ConfigError(f"{path} is not JSON: {exc}") from exc
    return parse(data, str(path))


def load(node: Node, name: str) -> Agreement:
    path = path_of(node, name)
    if not path.is_file():
        known = ", ".join(a.name for a in load_all(node)) or "none"
        raise ConfigError(f"No JIT named {name} at {node.name} (known: {known}). Create or import it first")
    return read_file(path)


def load_all(node: Node) -> list[Agreement]:
    folder = jits_dir(node)
    if not folder.is_dir():
        return []
    return [read_file(p) for p in sorted(folder.glob("*.json"))]


def policy_jits(node: Node) -> tuple[Jit, ...]:
    """Every agreement this node holds, as the policy reads them."""
    return tuple(a.policy_view(node) for a in load_all(node))


def merge(node: Node, incoming: Agreement, source: str) -> Agreement:
    """Take a member's copy: the body must equal ours (or we have none yet and are a member); its signatures and
    events that verify are added. A signature or event that does not verify is refused, naming the member."""
    if node.name not in incoming.members:
        raise ConfigError(f"{source}: {node.name} is not a member of {incoming.name}")
    path = path_of(node, incoming.name)
    ours = read_file(path) if path.exists() else Agreement(incoming.body)
    if ours.agreement_id != incoming.agreement_id:
        raise ConfigError(
            f"{source}: JIT {incoming.name} differs from the agreement this node holds (another text under the same "
            "name); nothing was changed"
        )
    message = AGREEMENT_CONTEXT + canonical_json(incoming.body)
    for member, signature in incoming.signatures.items():
        card = node.card_of(member)
        if card is None:
            raise ConfigError(f"{source}: signed by {member}, whose card this node does not know (partner add)")
        if member not in incoming.members or not card.verify(message, signature):
            raise ConfigError(f"{source}: the signature of {member} does not verify; nothing was changed")
        ours.signatures.setdefault(member, signature)
    probe = Agreement(incoming.body, {}, incoming.events)
    if len(probe.verified_events(node)) != len(incoming.events):
        raise ConfigError(f"{source}: an end or leave event is not signed by the member it names; nothing was changed")
    seen = {canonical_json(e["event"]) for e in ours.events}
    ours.events += [e for e in incoming.events if canonical_json(e["event"]) not in seen]
    save(node, ours)
    return ours


# -- contributions -------------------------------------------------------------------------------------------


def received_log(node: Node, name: str) -> Path:
    return jits_dir(node) / f"{check_team(name)}.received.jsonl"


def note_received(node: Node, name: str, bundle_id: str, batch_id: str, sender: str, statements: int) -> None:
    """Record, before the import, that a bundle received inside a JIT becomes this batch."""
    path = received_log(node, name)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    line = {"bundle_id": bundle_id, "batch_id": batch_id, "sender": sender, "statements": statements}
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line) + "\n")


def received_batches(node: Node, name: str) -> dict[str, str]:
    """{batch id: sender} of the bundles received inside a JIT."""
    path = received_log(node, name)
    if not path.is_file():
        return {}
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return {str(line["batch_id"]): str(line["sender"]) for line in lines}


def batch_jits(node: Node) -> dict[str, str]:
    """{batch id: JIT name} of every batch received inside any JIT this node holds."""
    out: dict[str, str] = {}
    for agreement in load_all(node):
        for batch in received_batches(node, agreement.name):
            out[batch] = agreement.name
    return out


def purge(store: Store, node: Node, agreement: Agreement, senders: set[str] | None = None) -> int:
    """Delete the statements this node received inside the JIT (from ``senders`` only, when given), through the
    store's withdrawal path (``Store.delete_statements``, one transaction); returns how many went."""
    batches = {b for b, s in received_batches(node, agreement.name).items() if senders is None or s in senders}
    if not batches:
        return 0
    wanted = pa.array(sorted(batches), pa.string())
    parts = []
    for batch in store.scan_statements(columns=["id", "originator", "entity_id", "batch_id"]):
        table = pa.Table.from_batches([batch])
        hit = table.filter(pc.is_in(table.column("batch_id"), value_set=wanted))
        if hit.num_rows:
            parts.append(
                pa.table(
                    {
                        "originator": hit.column("originator"),
                        "entity_id": hit.column("entity_id"),
                        "statement_id": hit.column("id"),
                    }
                ).cast(DELETE_SCHEMA)
            )
    if not parts:
        return 0
    return store.delete_statements(pa.concat_tables(parts))


def follow_agreement(store: Store, node: Node, agreement: Agreement, today: dt.date | None = None) -> int:
    """Apply the agreement's ``on_end`` to what has ended: when the JIT ended, its term passed (``today`` after
    ``until``) or this node left, ``delete`` and
    ``return`` purge everything this node received inside it; when another member left, ``return`` purges that
    member's contributions (they go back to it). ``keep`` keeps them, sealed: the policy lets nothing received
    inside a JIT leave once the JIT is no longer in force."""
    if agreement.on_end == "keep":
        return 0
    left = agreement.left(node)
    expired = (today or dt.date.today()) > agreement.until
    if agreement.ended(node) is not None or expired or node.name in left:
        return purge(store, node, agreement)
    if agreement.on_end == "return" and left:
        return purge(store, node, agreement, senders=left)
    return 0


# -- the JIT view --------------------------------------------------------------------------------------------


@dataclass
class Contribution:
    originator: str
    entities: int
    statements: int


def contributions(store: Store, node: Node, agreement: Agreement) -> tuple[list[Contribution], list[str]]:
    """Statements and entities received in the JIT's bundles, by originator, plus what this node sent inside it;
    and the resolved persons across members: canonical ids with records of at least two members among those
    facts and this node's own (ids only)."""
    import pyarrow.parquet as pq

    from avellino.share.send import sent_log

    batches = pa.array(sorted(received_batches(node, agreement.name)), pa.string())
    members = set(agreement.members)
    stmts: dict[str, int] = {}
    ents: dict[str, set[str]] = {}
    clusters: dict[str, set[str]] = {}
    for batch in store.scan_statements(columns=["entity_id", "canonical_id", "schema", "originator", "batch_id"]):
        table = pa.Table.from_batches([batch])
        inside = pc.is_in(table.column("batch_id"), value_set=batches)
        got = table.filter(inside)
        for row in got.select(["entity_id", "originator"]).to_pylist():
            stmts[row["originator"]] = stmts.get(row["originator"], 0) + 1
            ents.setdefault(row["originator"], set()).add(row["entity_id"])
        mine = pc.or_(inside, pc.equal(table.column("originator"), node.name))
        people = table.filter(pc.and_(mine, pc.equal(table.column("schema"), "Person")))
        for row in people.select(["canonical_id", "originator"]).to_pylist():
            if row["originator"] in members:
                clusters.setdefault(row["canonical_id"], set()).add(row["originator"])
    for line in sent_log(node):
        if line.get("jit") != agreement.name:
            continue
        path = node.dir / "sent" / f"{line['bundle_id']}.parquet"
        if path.is_file():
            sent = pq.read_table(path, columns=["entity_id"])
            key = f"{node.name} (sent)"
            stmts[key] = stmts.get(key, 0) + sent.num_rows
            ents.setdefault(key, set()).update(pc.unique(sent.column("entity_id")).to_pylist())
    out = [Contribution(o, len(ents[o]), stmts[o]) for o in sorted(stmts)]
    resolved = sorted(cid for cid, who in clusters.items() if len(who) >= 2)
    return out, resolved


# -- agreements as bundles (over the node server) ------------------------------------------------------------

#: The bundle kind that carries a JIT agreement (signed, encrypted, served from the outbox like any bundle).
JIT_KIND = "jit"


def write_bundle(node: Node, agreement: Agreement, partners: Sequence[Partner], out: Path) -> str:
    """The agreement (with every signature and event this node holds) as a bundle to ``partners``, all members;
    returns the bundle id."""
    from avellino.share.bundle import BundleWriter
    from avellino.share.send import log_sent

    outside = [p.name for p in partners if p.name not in agreement.members]
    if outside:
        raise ConfigError(f"{', '.join(outside)}: not a member of {agreement.name}; an agreement goes to members only")
    recipients = [(p.card, {"community": p.community, "teams": sorted(p.teams)}) for p in partners]
    purpose = f"JIT agreement {agreement.name}"
    writer = BundleWriter(out, node, JIT_KIND, recipients, {"purpose": purpose, "payload": "jit-agreement-json"})
    try:
        writer.write(json.dumps(agreement.to_json()).encode("utf-8"))
        writer.finish()
    except BaseException:
        writer.abort()
        raise
    log_sent(node, writer.bundle_id, JIT_KIND, [p.name for p in partners], purpose, 0, {}, out)
    return writer.bundle_id


def receive_agreement(
    open_store: Callable[[], Store], node: Node, path: Path, header: Header, reader: BundleReader, today: dt.date
) -> ReceiveResult:
    """A member's copy of an agreement received as a bundle: merged (``merge``), then applied to what this node
    received inside the JIT when it has ended for this node, with an audit entry."""
    from avellino.share.bundle import BundleRefused
    from avellino.share.receive import ReceiveResult, record_receipt

    try:
        incoming = parse(json.loads(reader.read_all()), str(path))
        if header.sender not in incoming.members:
            raise ConfigError(f"{header.sender} is not a member of {incoming.name}")
        held = merge(node, incoming, str(path))
    except (ConfigError, ValueError) as exc:
        raise BundleRefused(str(path), str(exc)) from exc
    result = ReceiveResult(path, header.bundle_id, header.kind, header.sender)
    with open_store() as store:
        result.withdrawn = follow_agreement(store, node, held, today)
        record_receipt(store, header, result.withdrawn, {"deleted": result.withdrawn})
    return result
