"""``share send``: the facts the policy lets go to ALL the named partners, as one signed, encrypted bundle.

The workspace is read as a stream (``Store.scan_statements``) and filtered batch by batch: the policy decides
once per distinct marking set (a workspace has a few thousand, against millions of statements), each batch is
joined to those decisions in an in-memory DuckDB, and the allowed statements go, with their full markings, into
an Arrow IPC stream (zstd) that :class:`BundleWriter` encrypts chunk by chunk. Memory stays at a few batches
whatever the workspace's size.

Each batch passes ``screen.py``, the one screening path bundles and the workbench's partner views share: besides the
per-fact rules of ``policy.py``, a whole entity is held back when any of its statements (or of its resolved cluster)
marks a protected person and the protected-category rule applies (otherwise another partner's statement about a
victim, a name or a phone, would leave without the victim's safeguarding), and so is every statement naming such a
person (a call's ``receiver``, a crossing's ``passenger``): a tie to a victim is a fact about the victim.

The facts this node originated go with a manifest it signs once per bundle (``proofs.py``); facts of other
originators go only with the proofs this node received with them, and are withheld (``no originator proof``)
where it has none, since every receiver would refuse them.

Every bundle sent is logged (``sent/log.jsonl`` and, per bundle, the statement ids in ``sent/BUNDLE.parquet``)
so that withdrawals and corrections reach every node that received a fact.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from avellino.errors import ConfigError
from avellino.share.bundle import BundleWriter
from avellino.share.node import Node, Partner
from avellino.share.proofs import NO_PROOF, Onward, OwnManifest, own_leaves, write_proofs
from avellino.share.screen import (  # noqa: F401  (OUTSIDE_NAMESPACE, protected_rule_applies: callers' names)
    OUTSIDE_NAMESPACE,
    Screen,
    protected_ids,
    protected_rule_applies,
    request_for,
)
from avellino.store.base import Store
from avellino.store.schema import (
    PROOF_MANIFEST_SCHEMA,
    PROOF_PAGE_SCHEMA,
    PROOF_SALT_SCHEMA,
    STATEMENT_SCHEMA,
    Proofs,
)

#: The statement columns a bundle carries: the fact and its full markings.
PAYLOAD_COLUMNS = [
    "entity_id",
    "schema",
    "prop",
    "value",
    "original_value",
    "lang",
    "originator",
    "source_record",
    "handling_code",
    "handling_note",
    "tlp",
    "evaluation",
    "subject_category",
    "retention_review",
]
PAYLOAD_SCHEMA = pa.schema([STATEMENT_SCHEMA.field(c) for c in PAYLOAD_COLUMNS])
SENT_SCHEMA = pa.schema([("statement_id", pa.string()), ("entity_id", pa.string()), ("originator", pa.string())])
FACTS = "facts"
BATCH_ROWS = 65_536


@dataclass(frozen=True)
class SendResult:
    path: Path
    bundle_id: str
    recipients: tuple[str, ...]
    statements: int
    entities: int
    withheld: dict[str, int]


def send_bundle(
    store: Store,
    node: Node,
    partners: Sequence[Partner],
    purpose: str,
    out: Path,
    entity_ids: Sequence[str] | None = None,
    today: dt.date | None = None,
    jit: str | None = None,
) -> SendResult:
    """Write the bundle for ``partners`` (all of them may have every fact in it) and log it as sent. ``jit``: the
    JIT the bundle is sent inside (its receivers keep the facts inside it)."""
    from avellino.share.jit import load

    if not partners:
        raise ConfigError("Give at least one --to PARTNER (see: avellino partner list)")
    req = request_for(node, partners, purpose, today or dt.date.today(), jit)
    fields: dict[str, Any] = {"purpose": purpose, "payload": "arrow-ipc-stream"}
    if jit is not None:
        agreement = load(node, jit)
        view = agreement.policy_view(node)
        outside = [p.name for p in partners if not view.admits(node.name, p.name, purpose, req.today)]
        if outside:
            raise ConfigError(
                f"JIT {jit} ({agreement.state(node, req.today)}) does not let {node.name} share with "
                f"{', '.join(outside)} for {purpose!r} (members: {', '.join(sorted(view.members))}; purposes: "
                f"{', '.join(agreement.purposes)}); nothing was written"
            )
        fields |= {"jit": jit, "jit_agreement": agreement.agreement_id}
    # the one screening path (share/screen.py): the policy per marking set, the namespace, protected people and
    # every reference to them, and facts received inside a JIT
    screen = Screen(node, req, protected_ids(store) if protected_rule_applies(req) else set(), jit)
    wanted = pa.table({"eid": pa.array(sorted(set(entity_ids or [])), pa.string())})
    where = "WHERE b.entity_id IN (SELECT eid FROM wanted) OR b.canonical_id IN (SELECT eid FROM wanted)"
    select = f"{', '.join('b.' + c for c in PAYLOAD_COLUMNS)}, b.id AS statement_id"
    sent_dir = node.dir / "sent"
    sent_dir.mkdir(mode=0o700, exist_ok=True)
    recipients = [(p.card, {"community": p.community, "teams": sorted(p.teams)}) for p in partners]
    writer = BundleWriter(out, node, FACTS, recipients, fields)
    sent_path = sent_dir / f"{writer.bundle_id}.parquet"
    withheld: Counter[str] = Counter()
    statements = 0
    entities: set[str] = set()
    con = duckdb.connect()
    con.execute("SET threads = 2")
    own = OwnManifest(node, [p.card.fingerprint for p in partners])
    onward: Onward | None = None
    try:
        screen.register(con)
        con.register("wanted", wanted)
        options = ipc.IpcWriteOptions(compression="zstd")
        with (
            ipc.new_stream(writer, PAYLOAD_SCHEMA, options=options) as stream,
            pq.ParquetWriter(sent_path, SENT_SCHEMA, compression="zstd") as sent,
        ):
            for batch in store.scan_statements(batch_rows=BATCH_ROWS):
                rows = screen.run(con, batch, select, where if entity_ids else "")
                reasons = rows.column("reason")
                go = pc.is_null(reasons)
                for reason, n in Counter(pc.drop_null(reasons).to_pylist()).items():
                    withheld[reason] += n
                kept = rows.filter(go)
                kept = kept.append_column("_row", pa.array(range(kept.num_rows), pa.int64()))
                mine = pc.equal(kept.column("originator"), node.name)
                if not pc.all(mine).as_py() and kept.num_rows:
                    if onward is None:  # the proofs this node holds of others' facts, read once when first needed
                        onward = Onward(con, store.read_proofs(None), node.name)
                    con.register("_others", kept.filter(pc.invert(mine)))
                    found = onward.find("_others")
                    con.unregister("_others")
                    proven = pc.or_(mine, pc.is_in(kept.column("_row"), value_set=found.column("_row")))
                    unproven = kept.num_rows - int(pc.sum(proven.cast(pa.int64())).as_py() or 0)
                    if unproven:
                        withheld[NO_PROOF] += unproven
                    onward.use(found)
                    kept = kept.filter(proven)
                    mine = pc.equal(kept.column("originator"), node.name)
                if kept.num_rows:
                    con.register("_mine", kept.filter(mine))
                    own.add(own_leaves(con, "_mine", own.key))
                    con.unregister("_mine")
                    stream.write_table(kept.select(PAYLOAD_COLUMNS).cast(PAYLOAD_SCHEMA))
                    sent.write_table(kept.select(["statement_id", "entity_id", "originator"]).cast(SENT_SCHEMA))
                    statements += kept.num_rows
                    entities.update(pc.unique(kept.column("entity_id")).to_pylist())
        # after the facts: this node's manifest of its own facts, and the proofs of others' facts passed on
        manifest = pa.Table.from_pylist([own.row()], schema=PROOF_MANIFEST_SCHEMA)
        if onward is None:
            carried = Proofs(manifest, PROOF_PAGE_SCHEMA.empty_table(), PROOF_SALT_SCHEMA.empty_table())
        else:
            others = onward.proofs()
            carried = Proofs(pa.concat_tables([manifest, others.manifests]), others.pages, others.salts)
        write_proofs(writer, carried, own.pages())
        writer.finish()
    except BaseException:
        writer.abort()
        sent_path.unlink(missing_ok=True)
        raise
    finally:
        con.close()
        own.close()
    result = SendResult(
        out, writer.bundle_id, tuple(p.name for p in partners), statements, len(entities), dict(withheld)
    )
    log_sent(node, writer.bundle_id, FACTS, result.recipients, purpose, statements, dict(withheld), out, jit)
    return result


def log_sent(
    node: Node,
    bundle_id: str,
    kind: str,
    recipients: Sequence[str],
    purpose: str,
    statements: int,
    withheld: dict[str, int],
    path: Path,
    jit: str | None = None,
) -> None:
    """One line of the sent log (what went to whom; the statement ids are in ``sent/BUNDLE.parquet``)."""
    line = {
        "bundle_id": bundle_id,
        "kind": kind,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "recipients": list(recipients),
        "purpose": purpose,
        "statements": statements,
        "withheld": withheld,
        "file": str(path),
    }
    if jit is not None:
        line["jit"] = jit
    log = node.dir / "sent" / "log.jsonl"
    log.parent.mkdir(mode=0o700, exist_ok=True)
    with log.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(line) + "\n")


def sent_log(node: Node) -> list[dict[str, Any]]:
    log = node.dir / "sent" / "log.jsonl"
    if not log.is_file():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


def who_received(
    node: Node, originator: str, entity_ids: Sequence[str], statement_ids: Sequence[str]
) -> dict[str, str]:
    """Partners this node sent any of these facts of ``originator`` to: {partner: the first bundle id}."""
    ents = pa.array(list(entity_ids), pa.string())
    stmts = pa.array(list(statement_ids), pa.string())
    found: dict[str, str] = {}
    for line in sent_log(node):
        if line["kind"] != FACTS:
            continue
        path = node.dir / "sent" / f"{line['bundle_id']}.parquet"
        if not path.is_file():
            continue
        table = pq.read_table(path, filters=[("originator", "=", originator)])
        hit = pc.any(pc.or_(pc.is_in(table.column("entity_id"), ents), pc.is_in(table.column("statement_id"), stmts)))
        if hit.as_py():
            for name in line["recipients"]:
                found.setdefault(name, line["bundle_id"])
    return found
