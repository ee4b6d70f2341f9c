"""Ask and answer on a workspace: who is asked about, which records answer, what is kept and audited.

* The asking side encodes only what the sharing policy lets go to the partner (``share.policy.decide_for`` per
  marking set, for the query's purpose): a query is decodable by the partner that holds the pair key, so it is a
  disclosure to that partner and goes through the one policy like any other. Victims, witnesses and informants
  are therefore asked about only for a safeguarding purpose or inside a joint investigation team in force with
  that partner (``share/jit.py``).
* The answering side answers only for records it originated (what it received from others it may not vouch for
  or pass on; the asker should ask their originator). Informants never take part: a hit would tell a partner that
  the agency knows the person, which can endanger an informant, and a separate "withheld" answer would say the
  same. Victims and witnesses do: a hit says ``hit`` with ``safeguarding: true``, so the asker treats the person as
  someone to protect (a coerced boat pilot asked about as a suspect) and asks for the record through the
  safeguarding channel, where the policy releases it.
* Both sides record the exchange in the audit log (``share.audit.record``, when that module is present) and the
  answering side keeps every reference it gave in ``hitcheck_references``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from avellino.errors import ConfigError
from avellino.hitcheck import match
from avellino.hitcheck.encode import Hasher, encode
from avellino.hitcheck.exchange import (
    Sealed,
    answer_object,
    new_reference,
    open_sealed,
    query_object,
    read_query,
)
from avellino.hitcheck.keys import PairKeys, pair_keys
from avellino.hitcheck.persons import PersonValues, read_persons
from avellino.model.markings import SubjectCategory
from avellino.store.base import Store

REFERENCES = "hitcheck_references"
REFERENCE_SCHEMA = pa.schema(
    [
        ("reference", pa.string()),
        ("entity_id", pa.string()),
        ("partner", pa.string()),
        ("query_id", pa.string()),
        ("safeguarding", pa.bool_()),
        ("created", pa.string()),
    ]
)


@dataclass
class Identity:
    """Who this side is and the pair key: from node keys (``node``), or a key agreed out of band."""

    name: str
    keys: PairKeys
    node: Any | None = None  #: share.node.Node when the node has keys (signs, checks signatures, policy)

    def partner_card(self, partner: str) -> Any | None:
        return self.node.partner(partner).card if self.node is not None else None


def identity(partner: str, node_dir: Path | None, key_file: Path | None, name: str | None) -> Identity:
    """Node keys when the workspace has a node (the pair key is derived, never sent); else ``--key-file`` and
    ``--as``."""
    if key_file is not None:
        if not name:
            raise ConfigError("--key-file needs --as NAME (this agency's node name)")
        try:
            raw = key_file.read_bytes().strip()
        except OSError as exc:
            raise ConfigError(f"--key-file {key_file}: cannot be read ({exc.strerror})") from exc
        master = bytes.fromhex(raw.decode("ascii", "replace")) if _is_hex(raw) else raw
        if len(master) < 32:
            raise ConfigError(f"--key-file {key_file}: a pair key needs at least 32 bytes (64 hex digits)")
        return Identity(name, PairKeys.from_master(master, name, partner))
    if node_dir is None:
        raise ConfigError("No node keys: give --node-dir (or create them: avellino node init) or --key-file")
    from avellino.share.node import load_node

    node = load_node(node_dir)
    if name and name != node.name:
        raise ConfigError(f"--as {name}: this workspace's node is {node.name}")
    return Identity(node.name, pair_keys(node, partner), node)


def _is_hex(raw: bytes) -> bool:
    try:
        bytes.fromhex(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return False
    return True


def audit(store: Store, purpose: str, action: str, touched: Sequence[str]) -> None:
    """Append an entry to the workspace's hash-chained audit log (share/audit.py)."""
    from avellino.share.audit import record

    record(store, purpose=purpose, action=action, touched=list(touched))


def policy_filter(me: Identity, partner: str, purpose: str) -> Any:
    """The sharing policy's decision for one marking set, for this partner and purpose."""
    from avellino.share.policy import Recipient, Request, decide_for, markings_of_row

    if me.node is not None:
        from avellino.share.jit import policy_jits

        recipient = me.node.partner(partner).recipient()
        request = Request(
            me.name, (recipient,), purpose, date.today(), frozenset(me.node.teams), jits=policy_jits(me.node)
        )
    else:
        recipient = Recipient(partner, "", True)
        request = Request(me.name, (recipient,), purpose, date.today())

    def keep(row: dict[str, object]) -> bool:
        m = markings_of_row(row)
        return m is not None and decide_for(m, request, recipient).allowed

    return keep


def ask(
    store: Store | None,
    me: Identity,
    partner: str,
    purpose: str,
    persons: list[PersonValues] | None = None,
    entity_ids: Sequence[str] | None = None,
) -> tuple[dict[str, Any], int]:
    """The query object for ``partner`` and how many persons the policy left out. ``persons`` (from a file)
    or the workspace's persons (``entity_ids`` or all)."""
    left_out = 0
    if persons is None:
        assert store is not None
        everyone = read_persons(store, entity_ids=entity_ids)
        sealed = None
        if me.node is not None:
            from avellino.share.jit import batch_jits

            sealed = (me.name, frozenset(batch_jits(me.node)))
        persons = read_persons(store, entity_ids=entity_ids, keep=policy_filter(me, partner, purpose), sealed=sealed)
        persons = [p for p in persons if p.names]
        left_out = len(everyone) - len(persons)
        if entity_ids is not None:
            missing = sorted(set(entity_ids) - {p.id for p in everyone})
            if missing:
                raise ConfigError(f"--entities: no Person with id {', '.join(missing[:5])} in the workspace")
    if not persons:
        raise ConfigError("Nothing to ask about: no person the policy lets go to " + partner)
    hasher = Hasher(me.keys)
    obj = query_object(encode(persons, hasher), me.keys, me.name, partner, purpose, me.node)
    if store is not None:
        audit(store, purpose, f"hitcheck ask {partner} {obj['query_id']}", [p.id for p in persons])
    return obj, left_out


def open_query(path: Path, me: Identity, partner: str | None = None) -> Sealed:
    """Open a query addressed to this node (signature checked when the sender's card is registered)."""
    import json

    try:
        sender = str(json.loads(path.read_text(encoding="utf-8")).get("from"))
    except (OSError, ValueError, AttributeError):
        sender = partner or ""
    card = me.partner_card(sender) if me.node is not None else None
    sealed = open_sealed(path, me.keys, "query", card)
    if sealed.header.get("to") != me.name:
        from avellino.hitcheck.exchange import ExchangeRefused

        raise ExchangeRefused(str(path), f"addressed to {sealed.header.get('to')}, not to {me.name}")
    return sealed


def answer(
    store: Store, me: Identity, sealed: Sealed, source: str, rule: match.Rule = match.DEFAULT_RULE
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Answer a query: the answer object and its results (query, hit, reference, safeguarding)."""
    query = read_query(sealed, me.keys, source)
    held = [
        p for p in read_persons(store, originator=me.name) if p.names and p.protected != SubjectCategory.INFORMANT.value
    ]
    hasher = Hasher(me.keys)
    answers = match.answer(query, match.index(held, encode(held, hasher), hasher), me.keys, rule) if held else []
    partner = str(sealed.header.get("from"))
    query_id = str(sealed.header.get("query_id"))
    now = datetime.now(UTC).isoformat(timespec="seconds")
    results: list[dict[str, Any]] = []
    kept: list[dict[str, Any]] = []
    by_id = {a.query: a for a in answers}
    for qid in query.ids:
        a = by_id.get(qid)
        if a is None or not a.hit or a.record is None:
            results.append({"query": qid, "hit": False, "reference": None})
            continue
        person = held[a.record]
        ref = new_reference()
        safeguarding = person.protected is not None
        results.append({"query": qid, "hit": True, "reference": ref, "safeguarding": safeguarding})
        kept.append(
            {
                "reference": ref,
                "entity_id": person.id,
                "partner": partner,
                "query_id": query_id,
                "safeguarding": safeguarding,
                "created": now,
            }
        )
    if kept:
        store.write_table(REFERENCES, pa.Table.from_pylist(kept, schema=REFERENCE_SCHEMA), mode="append")
    audit(
        store,
        str(sealed.header.get("purpose") or "hit/no-hit"),
        f"hitcheck answer {partner} {query_id}: {len(kept)} hit(s) of {len(results)}",
        [k["entity_id"] for k in kept],
    )
    return answer_object(sealed, results, me.keys, me.name, me.node), results
