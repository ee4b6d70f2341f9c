"""Withdrawals and corrections: notices signed by a fact's originator that reach every node that received it.

A *notice* names an originator's entities and/or statements (statement ids as in the ``statements`` view, equal
at every node because they hash the fact and its markings) and is signed by the originator's node key. A
*correction* also carries the facts that replace the entities' old statements. Notices travel in ``notices``
bundles (signed by whoever sends them on, encrypted to the recipients, as any bundle).

A receiving node checks the notice's own signature against the originator's card (it must know that card: a
direct partner, or one registered with ``partner add`` for this purpose), deletes only statements whose
originator is the notice's originator (``Store.delete_statements``; a correction goes through
``Store.replace_statements``, which deletes the old facts and writes the new ones in one transaction), and
forwards the notice, unchanged and still signed by the originator, to every partner its sent log says received
any of those facts (into ``outbox/PARTNER/``, from where ``share push`` or the partner's ``share fetch`` takes it).
Only the originator can withdraw: a notice signed by anyone else is refused, and a notice can only ever touch
the signer's own facts.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from avellino.errors import BatchExists, ConfigError
from avellino.model.markings import PROTECTED_VALUES
from avellino.share.bundle import BundleReader, BundleRefused, BundleWriter, Header
from avellino.share.jit import batch_jits, note_received
from avellino.share.node import Node, Partner, b64, canonical_json, unb64
from avellino.share.policy import decide, markings_of_row
from avellino.share.proofs import ProofRefused, manifest_json, manifest_of_notice
from avellino.share.receive import NOTICES, ReceiveResult, check_facts, in_namespace, lean_tables, record_receipt
from avellino.share.send import PAYLOAD_COLUMNS, PAYLOAD_SCHEMA, log_sent, protected_rule_applies, request_for
from avellino.store.base import Store
from avellino.store.schema import DELETE_SCHEMA, BatchInfo, Proofs

NOTICE_CONTEXT = b"avellino-notice-v1"
WITHDRAWAL = "withdrawal"
CORRECTION = "correction"
#: The mapping checksum of a correction's batch (file checksum: the notice id).
CORRECTION_MAPPING = "avellino-correction-v1"


@dataclass(frozen=True)
class Notice:
    """A signed notice as it travels: its body and the originator's signature over it."""

    body: dict[str, Any]
    signature: bytes

    @property
    def notice_id(self) -> str:
        return str(self.body["notice_id"])

    @property
    def originator(self) -> str:
        return str(self.body["originator"])

    @property
    def entities(self) -> list[str]:
        return [str(e) for e in self.body.get("entities", [])]

    @property
    def statements(self) -> list[str]:
        return [str(s) for s in self.body.get("statements", [])]

    def line(self) -> bytes:
        return json.dumps({"notice": self.body, "signature": b64(self.signature)}, sort_keys=True).encode() + b"\n"


def make_notice(
    node: Node,
    kind: str,
    entities: Sequence[str] = (),
    statements: Sequence[str] = (),
    facts: list[dict[str, Any]] | None = None,
    reason: str = "",
) -> Notice:
    """A notice signed by this node, about its own facts only."""
    if not entities and not statements:
        raise ConfigError("Name what to withdraw: --entities IDS and/or --statements IDS")
    foreign = [e for e in entities if not in_namespace(node.name, e)]
    if foreign:
        raise ConfigError(
            f"{foreign[0]} is not an id of {node.name} (only the originator can withdraw or correct a fact; "
            f"ask the originator of {foreign[0]})"
        )
    body = {
        "avellino_notice": 1,
        "notice_id": uuid.uuid4().hex,
        "kind": kind,
        "originator": node.name,
        "originator_fingerprint": node.card.fingerprint,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "entities": sorted(set(entities)),
        "statements": sorted(set(statements)),
        "reason": reason,
    }
    if facts is not None:
        body["facts"] = facts
        if facts:  # the corrected facts' manifest: a node that receives them may pass them on with this proof
            body["manifest"] = manifest_json(node, _rows_table(facts))
    return Notice(body, node.sign(NOTICE_CONTEXT + canonical_json(body)))


def _rows_table(rows: Sequence[dict[str, Any]]) -> pa.Table:
    """Facts as JSON rows (dates as text) -> a payload table."""
    out = [dict(r) for r in rows]
    for row in out:
        if row.get("retention_review"):
            row["retention_review"] = dt.date.fromisoformat(str(row["retention_review"]))
    return pa.Table.from_pylist(out, schema=PAYLOAD_SCHEMA)


def correction_facts(
    store: Store, node: Node, partners: Sequence[Partner], purpose: str, entities: Sequence[str], today: dt.date
) -> list[dict[str, Any]]:
    """This node's current statements of ``entities`` that every partner may have, as JSON-ready rows."""
    req = request_for(node, partners, purpose, today)
    rows = store.read_statements(entity_ids=list(entities)).to_pylist()
    mine = [r for r in rows if r["originator"] == node.name and r["entity_id"] in set(entities)]
    if protected_rule_applies(req):
        held = {r["entity_id"] for r in rows if r["subject_category"] in PROTECTED_VALUES}
        mine = [r for r in mine if r["entity_id"] not in held]
    out = []
    for r in mine:
        m = markings_of_row(r)
        if m is None or not decide(m, req).allowed:
            continue
        row = {c: r[c] for c in PAYLOAD_COLUMNS}
        if isinstance(row["retention_review"], dt.date):
            row["retention_review"] = row["retention_review"].isoformat()
        out.append(row)
    return out


def write_notices(node: Node, partners: Sequence[Partner], notices: Sequence[Notice], out: Path, purpose: str) -> str:
    """A ``notices`` bundle for ``partners``, logged as sent; returns its id."""
    recipients = [(p.card, {"community": p.community, "teams": sorted(p.teams)}) for p in partners]
    writer = BundleWriter(out, node, NOTICES, recipients, {"purpose": purpose, "payload": "notices-jsonl"})
    try:
        for notice in notices:
            writer.write(notice.line())
        writer.finish()
    except BaseException:
        writer.abort()
        raise
    log_sent(node, writer.bundle_id, NOTICES, [p.name for p in partners], purpose, 0, {}, out)
    return writer.bundle_id


def outbox(node: Node, partner: str) -> Path:
    """The folder of bundles waiting for ``partner`` (served to it by ``avellino serve``)."""
    path = node.dir / "outbox" / partner
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def to_outbox(node: Node, partner: str, bundle: Path, bundle_id: str) -> Path:
    target = outbox(node, partner) / f"{bundle_id}.avb"
    if bundle.resolve() != target.resolve():
        shutil.copyfile(bundle, target)
    return target


# -- receiving ---------------------------------------------------------------------------------------------


def _parse(path: Path, line: bytes, node: Node) -> Notice:
    try:
        data = json.loads(line)
        notice = Notice(data["notice"], unb64(data["signature"], "signature"))
        notice.notice_id, notice.originator, notice.entities, notice.statements  # noqa: B018 (fields present)
        kind = notice.body["kind"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BundleRefused(str(path), f"a notice is not readable ({exc})") from exc
    card = node.card_of(notice.originator)
    if card is None:
        raise BundleRefused(
            str(path),
            f"a {kind} is signed as {notice.originator}, whose card this node does not know "
            f"(register it: avellino partner add CARD.json)",
        )
    if notice.body.get("originator_fingerprint") != card.fingerprint or not card.verify(
        NOTICE_CONTEXT + canonical_json(notice.body), notice.signature
    ):
        raise BundleRefused(str(path), f"a {kind} is not signed by its originator {notice.originator}")
    if kind not in {WITHDRAWAL, CORRECTION}:
        raise BundleRefused(str(path), f"unknown notice kind {kind!r}")
    return notice


def _applied(node: Node) -> set[str]:
    path = node.dir / "notices" / "applied.jsonl"
    if not path.is_file():
        return set()
    return {json.loads(line)["notice_id"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def _mark_applied(node: Node, notice: Notice, deleted: int) -> None:
    path = node.dir / "notices" / "applied.jsonl"
    path.parent.mkdir(mode=0o700, exist_ok=True)
    line = {"notice_id": notice.notice_id, "originator": notice.originator, "kind": notice.body["kind"],
            "deleted": deleted, "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}  # fmt: skip
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line) + "\n")


def _facts_table(path: Path, notice: Notice) -> pa.Table:
    rows = list(notice.body.get("facts") or [])
    try:
        table = _rows_table(rows)  # copies: the notice travels on unchanged
    except (ValueError, TypeError, AttributeError, pa.ArrowException) as exc:
        raise BundleRefused(str(path), f"a correction's facts are not readable ({exc})") from exc
    others = {str(r.get("originator")) for r in rows} - {notice.originator}
    if others:
        raise BundleRefused(str(path), f"a correction by {notice.originator} carries facts of {', '.join(others)}")
    return table


def apply_notices(
    open_store: Callable[[], Store], node: Node, path: Path, header: Header, reader: BundleReader, today: dt.date
) -> ReceiveResult:
    """Check every notice, then apply each (a withdrawal's delete, or a correction's delete and write as one
    transaction) and forward it onward."""
    data = reader.read_all()
    result = ReceiveResult(path, header.bundle_id, header.kind, header.sender)
    notices = [_parse(path, line, node) for line in data.splitlines() if line.strip()]
    sender = node.partner(header.sender)
    facts = {n.notice_id: _facts_table(path, n) for n in notices if n.body["kind"] == CORRECTION}
    proofs: dict[str, Proofs] = {}
    for notice_id, table in facts.items():
        if table.num_rows:
            check_facts(path, table.select(PAYLOAD_COLUMNS), node, header, sender, today)
            notice = next(n for n in notices if n.notice_id == notice_id)
            if "manifest" in notice.body:  # (notices made before corrections carried one have none)
                try:
                    proofs[notice_id] = manifest_of_notice(notice.body["manifest"], table, notice.originator,
                                                           node.card_of)  # fmt: skip
                except ProofRefused as exc:
                    raise BundleRefused(str(path), str(exc)) from exc
    done = _applied(node)
    todo = [n for n in notices if n.notice_id not in done]
    if not todo:
        result.skipped = True
        return result
    with open_store() as store:
        for notice in todo:
            if store.find_batch(notice.notice_id, CORRECTION_MAPPING) is not None:
                # a correction deleted and wrote before a crash, then was not noted as applied: it is done
                _mark_applied(node, notice, 0)
                continue
            targets: list[tuple[str, str | None, str | None]] = [(notice.originator, e, None) for e in notice.entities]
            targets += [(notice.originator, None, s) for s in notice.statements]
            table = pa.Table.from_pylist(
                [dict(zip(DELETE_SCHEMA.names, t, strict=True)) for t in targets], schema=DELETE_SCHEMA
            )
            fresh = facts.get(notice.notice_id)
            inside = _jits_of(store, node, notice) if fresh is not None and fresh.num_rows else set()
            if fresh is not None and fresh.num_rows:
                batch_id = uuid.uuid4().hex
                for name in sorted(inside):  # a correction of a JIT's contribution stays inside the JIT
                    note_received(node, name, notice.notice_id, batch_id, header.sender, fresh.num_rows)
                statements, markings = lean_tables(fresh, batch_id)
                source = f"correction-{notice.notice_id}-from-{notice.originator}"
                batch = BatchInfo(batch_id, source, notice.notice_id, CORRECTION_MAPPING, fresh.num_rows,
                                  fresh.num_rows, dt.datetime.now())  # fmt: skip
                try:  # one transaction: a crash leaves the old facts or the corrected ones, never neither
                    deleted, added = store.replace_statements(
                        table, batch, statements, markings, proofs.get(notice.notice_id)
                    )
                except BatchExists:  # another writer of a shared store applied this correction meanwhile
                    _mark_applied(node, notice, 0)
                    continue
                result.added += added
                result.statements += fresh.num_rows
            else:
                deleted = store.delete_statements(table)
            result.withdrawn += deleted
            _mark_applied(node, notice, deleted)
        record_receipt(store, header, result.statements, {"withdrawn": result.withdrawn, "added": result.added})
    result.forwarded = forward(node, todo, skip={header.sender})
    return result


def _jits_of(store: Store, node: Node, notice: Notice) -> set[str]:
    """The JITs whose contributions a correction replaces (its entities' statements of the originator came in a
    JIT's bundle here)."""
    by_batch = batch_jits(node)
    if not by_batch or not notice.entities:
        return set()
    rows = store.read_statements(entity_ids=notice.entities).to_pylist()
    return {by_batch[r["batch_id"]] for r in rows if r["originator"] == notice.originator and r["batch_id"] in by_batch}


def forward(node: Node, notices: Sequence[Notice], skip: set[str]) -> dict[str, Path]:
    """Send each notice on to the partners this node passed any of its facts to (one bundle per partner, in
    that partner's outbox)."""
    from avellino.share.send import who_received

    onward: dict[str, list[Notice]] = {}
    for notice in notices:
        reached = who_received(node, notice.originator, notice.entities, notice.statements)
        for name in reached:
            if name not in skip and name != notice.originator:
                onward.setdefault(name, []).append(notice)
    written: dict[str, Path] = {}
    partners = node.partners()
    for name, items in onward.items():
        partner = partners.get(name)
        if partner is None:
            continue
        target = outbox(node, name) / f"forward-{uuid.uuid4().hex}.avb"
        write_notices(node, [partner], items, target, purpose=f"forwarded {items[0].body['kind']}")
        written[name] = target
    return written


def withdraw_purged(node: Node, targets: pa.Table, reason: str = "retention review passed") -> dict[str, Path]:
    """After a retention purge (``retention.Purged.targets``, DELETE_SCHEMA rows): a withdrawal of this node's
    own purged statements, left in the outbox of every partner the sent log says received any of them. Facts
    other agencies originated are theirs to withdraw. Returns the bundles written, by partner."""
    mine = targets.filter(pc.equal(targets.column("originator"), node.name))
    statements = [str(s) for s in mine.column("statement_id").to_pylist() if s]
    if not statements:
        return {}
    from avellino.share.send import who_received

    reached = who_received(node, node.name, [], statements)
    partners = node.partners()
    written: dict[str, Path] = {}
    if not reached:
        return written
    notice = make_notice(node, WITHDRAWAL, statements=statements, reason=reason)
    for name in reached:
        if name in partners:
            target = outbox(node, name) / f"withdrawal-{notice.notice_id}.avb"
            write_notices(node, [partners[name]], [notice], target, purpose=f"withdrawal: {reason}")
            written[name] = target
    return written
