"""``share receive``: verify, decrypt, check every fact, then import the bundle as ONE atomic batch.

Nothing touches the store until every check has passed: the sender is a registered partner and signed the whole
bundle; it is addressed to this node; every chunk authenticates; every fact has readable markings, a schema and
property of the model, an id in its originator's namespace, and is a fact the sender was allowed to send to this
node (its own, or one the policy lets it pass on). Then the statements are written through ``Store.write_batch``
(one transaction, as ingest writes a file), keeping originator and markings. A bundle received before is not
imported twice (its checksum is the batch's).

Facts of other originators are taken only with their originator's proof (``proofs.py``): a manifest signed by
that originator's registered card that covers exactly those facts; the sender's own facts must match the
manifest it signed. The proofs are kept with the batch, so that this node can pass the facts on in turn.

A ``notices`` bundle carries withdrawals and corrections signed by the facts' originator (``withdraw.py``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

from avellino.ingest import ids
from avellino.model import model
from avellino.share.bundle import BundleReader, BundleRefused, Header, file_sha256, open_verified
from avellino.share.node import Node, Partner
from avellino.share.policy import Recipient, Request, decide_for, markings_of_row
from avellino.share.proofs import Check, ProofRefused, read_proofs, unknown_originators
from avellino.share.send import FACTS, PAYLOAD_SCHEMA
from avellino.store.base import Store
from avellino.store.schema import (
    BASE_PROP,
    MARKING_FIELDS,
    MARKING_SCHEMA,
    STORED_SCHEMA,
    BatchInfo,
    Proofs,
    marking_id_sql,
)

#: The mapping checksum of batches imported from bundles (file checksum = the bundle's SHA-256).
BUNDLE_MAPPING = "avellino-bundle-v1"
NOTICES = "notices"


@dataclass
class ReceiveResult:
    path: Path
    bundle_id: str
    kind: str
    sender: str
    statements: int = 0
    added: int = 0
    skipped: bool = False
    withdrawn: int = 0
    forwarded: dict[str, Path] = field(default_factory=dict)


def in_namespace(originator: str, entity_id: str) -> bool:
    """Whether an id lies in the originator's namespace (``ingest/ids.py``)."""
    return entity_id.startswith(ids.originator_slug(originator) + getattr(ids, "NAMESPACE_SEP", "-"))


def me_as_recipient(node: Node, header: Header, sender: Partner) -> tuple[Recipient, frozenset[str]]:
    """This node as the sender saw it (community flag from the signed header) and the teams both share
    (as THIS node registered the sender: a team the sender claims alone does not count)."""
    mine = next((r for r in header.recipients if r.get("fingerprint") == node.card.fingerprint), {})
    teams = sender.teams
    card = node.card
    return Recipient(card.name, card.country, card.law_enforcement, bool(mine.get("community")), teams), teams


def check_facts(path: Path, table: pa.Table, node: Node, header: Header, sender: Partner, today: dt.date) -> None:
    """Refuse (BundleRefused) a payload with any fact this node must not take from this sender."""
    where = str(path)
    if table.schema.names != PAYLOAD_SCHEMA.names:
        raise BundleRefused(where, f"the payload columns are not a bundle's ({', '.join(table.schema.names)})")
    for col in ("entity_id", "schema", "prop", "originator"):
        if table.column(col).null_count:
            raise BundleRefused(where, f"a statement has no {col}")
    pairs = table.group_by(["schema", "prop"]).aggregate([]).to_pylist()
    for pair in pairs:
        schema = model.get(str(pair["schema"]))
        if schema is None or (pair["prop"] != BASE_PROP and schema.get(str(pair["prop"])) is None):
            raise BundleRefused(where, f"unknown schema or property {pair['schema']}.{pair['prop']}")
    from avellino.share.jit import policy_jits

    me, teams = me_as_recipient(node, header, sender)
    jit = header.data.get("jit")
    req = Request(header.sender, (me,), header.purpose or "unstated", today, teams, policy_jits(node),
                  str(jit) if jit is not None else None)  # fmt: skip
    sets = table.group_by(MARKING_FIELDS).aggregate([]).to_pylist()
    for row in sets:
        markings = markings_of_row(row)
        if markings is None or not markings.originator.strip():
            raise BundleRefused(where, f"a fact has markings outside the vocabularies: {_show(row)}")
        if markings.handling_code == "H3" and not (markings.handling_note or "").strip():
            raise BundleRefused(where, f"an H3 fact has no handling note: {_show(row)}")
        decision = decide_for(markings, req, me)
        if not decision.allowed:
            whose = "its own" if markings.originator == header.sender else f"{markings.originator}'s"
            raise BundleRefused(
                where,
                f"{header.sender} may not send {node.name} this fact of {whose} ({decision.reason}): {_show(row)}",
            )
    for originator in pc.unique(table.column("originator")).to_pylist():
        prefix = ids.originator_slug(str(originator)) + getattr(ids, "NAMESPACE_SEP", "-")
        of = table.filter(pc.equal(table.column("originator"), originator)).column("entity_id")
        outside = pc.filter(of, pc.invert(pc.starts_with(of, prefix)))
        if len(outside):
            raise BundleRefused(
                where,
                f"entity id {outside[0].as_py()!r} is not in the namespace of its originator {originator} "
                f"(ids of {originator} start with {prefix!r}); {len(outside)} such statement(s)",
            )


def check_jit(path: Path, node: Node, header: Header, today: dt.date) -> str | None:
    """The JIT a bundle was sent inside (None: outside any), refused unless this node holds that agreement, in
    force, the same text as the sender's, with the sender and this node among its members and the purpose allowed."""
    name = header.data.get("jit")
    if name is None:
        return None
    from avellino.share.jit import load

    try:
        agreement = load(node, str(name))
    except Exception as exc:  # ConfigError: no such agreement here
        raise BundleRefused(str(path), f"sent inside JIT {name}, which this node does not hold") from exc
    if header.data.get("jit_agreement") != agreement.agreement_id:
        raise BundleRefused(str(path), f"sent inside JIT {name} under another agreement text than this node's")
    view = agreement.policy_view(node)
    if not view.admits(header.sender, node.name, header.purpose, today):
        raise BundleRefused(
            str(path),
            f"sent inside JIT {name}, which does not let {header.sender} share with {node.name} for "
            f"{header.purpose!r} today ({agreement.state(node, today)})",
        )
    return str(name)


def _show(row: dict[str, object]) -> str:
    return ", ".join(f"{k}={row.get(k)}" for k in MARKING_FIELDS)


def lean_tables(
    table: pa.Table, batch_id: str, engine: duckdb.DuckDBPyConnection | None = None
) -> tuple[pa.Table, pa.Table]:
    """The payload as the store's lean statements and marking sets (the path ingest writes by). ``engine``: an
    in-memory DuckDB to reuse (a bundle read batch by batch uses one)."""
    con = (engine or duckdb.connect()).cursor()
    try:
        con.register("t", table)
        mid = marking_id_sql()
        statements = con.sql(
            f"SELECT entity_id, schema, prop, CASE WHEN prop = '{BASE_PROP}' THEN NULL ELSE value END AS value, "
            "original_value, TRY_CAST(regexp_extract(source_record, ':([0-9]+)$', 1) AS BIGINT) AS source_row, "
            f"{mid} AS marking_id, '{batch_id}' AS batch_id FROM t"
        ).to_arrow_table()
        fields = ", ".join(MARKING_FIELDS)
        markings = con.sql(f"SELECT DISTINCT {mid} AS marking_id, {fields} FROM t").to_arrow_table()
    finally:
        con.close()
    return statements.cast(STORED_SCHEMA), markings.cast(MARKING_SCHEMA)


#: Columns of a bundle's lean statements kept dictionary-encoded while a bundle is read (few distinct values).
_ENCODED = ("entity_id", "schema", "prop", "marking_id", "batch_id")


def read_checked(
    path: Path, reader: BundleReader, check: Callable[[pa.Table], None], batch_id: str, proofs: Check | None = None
) -> tuple[pa.Table, pa.Table, int, Proofs | None]:
    """Read the payload batch by batch to its very end (where the second hash is checked), checking each batch
    and keeping it only as lean, dictionary-encoded statements: memory grows with what the store will hold, not
    with the payload's full-width text (a 2.8M-statement bundle: 1.75 GB peak read whole, see docs/nodes.md).
    With ``proofs``, every fact is hashed as it passes and the proof streams that follow the facts are read
    (returned unchecked: ``Check.verify`` checks them)."""
    parts: list[pa.Table] = []
    carried: Proofs | None = None
    marks: dict[str, dict[str, object]] = {}
    rows = 0
    engine = duckdb.connect()
    engine.execute("SET threads = 1")  # small batches; threads only add buffers
    try:
        stream = ipc.open_stream(reader)
        for batch in stream:
            table = pa.Table.from_batches([batch])
            check(table)
            if proofs is not None:
                proofs.add(engine, table)
            statements, markings = lean_tables(table, batch_id, engine)
            # copied into Arrow's own memory (DuckDB's result buffers are far larger than their rows)
            parts.append(
                pa.table(
                    {
                        name: pc.dictionary_encode(col) if name in _ENCODED else pa.concat_arrays(col.chunks)
                        for name, col in zip(statements.schema.names, statements.columns, strict=True)
                    }
                )
            )
            del statements
            for m in markings.to_pylist():
                marks.setdefault(str(m["marking_id"]), m)
            rows += table.num_rows
        if proofs is not None:
            carried = read_proofs(reader)
    except BundleRefused:
        raise
    except (pa.ArrowInvalid, pa.ArrowException, OSError, ValueError) as exc:
        cause = exc.__context__ if isinstance(exc.__context__, BundleRefused) else None
        if cause is not None:
            raise cause from exc
        raise BundleRefused(str(path), f"the payload is not readable ({exc})") from exc
    finally:
        engine.close()
    if reader.read(1):
        raise BundleRefused(str(path), "data follows the end of the payload")
    if not parts:
        empty = lean_tables(pa.Table.from_pylist([], schema=PAYLOAD_SCHEMA), batch_id)
        return empty[0], empty[1], 0, carried
    statements = pa.concat_tables(parts).unify_dictionaries()
    markings = pa.Table.from_pylist(list(marks.values()), schema=MARKING_SCHEMA)
    return statements, markings, rows, carried


def receive_bundle(
    open_store: Callable[[], Store],
    node: Node,
    path: Path,
    today: dt.date | None = None,
) -> ReceiveResult:
    """Verify and import a bundle. ``open_store`` is called only once every check has passed."""
    partners = node.partners()

    def card_of(name: str) -> object:
        found = partners.get(name)
        return found.card if found else None

    header, reader = open_verified(path, node, card_of)
    sender = partners[header.sender]
    today = today or dt.date.today()
    try:
        if header.kind == FACTS:
            batch_id = uuid.uuid4().hex

            def check(table: pa.Table) -> None:
                check_facts(path, table, node, header, sender, today)
                stranger = unknown_originators(table, header.sender, node.card_of)
                if stranger is not None:
                    raise BundleRefused(
                        str(path),
                        f"the fact of entity {stranger[1]} is passed on as {stranger[0]}'s, which is not a registered "
                        f"partner of {node.name}: its originator's signature cannot be checked",
                    )

            jit = check_jit(path, node, header, today)
            proofs = Check(header.sender)
            statements, markings, rows, carried = read_checked(path, reader, check, batch_id, proofs)
            try:
                if carried is None:
                    raise ProofRefused("the bundle carries no originator proofs")
                kept = proofs.verify(carried, node.card_of)
            except ProofRefused as exc:
                raise BundleRefused(str(path), str(exc)) from exc
            if jit is not None:  # noted before the import: a JIT's facts are never held unmarked as such
                from avellino.share.jit import note_received

                note_received(node, jit, header.bundle_id, batch_id, header.sender, rows)
            return _import(open_store, path, header, batch_id, statements, markings, rows, kept)
        if header.kind == NOTICES:
            from avellino.share.withdraw import apply_notices

            return apply_notices(open_store, node, path, header, reader, today)
        from avellino.share.jit import JIT_KIND, receive_agreement

        if header.kind == JIT_KIND:
            return receive_agreement(open_store, node, path, header, reader, today)
        raise BundleRefused(str(path), f"unknown bundle kind {header.kind!r}")
    finally:
        reader.close()


def _import(
    open_store: Callable[[], Store],
    path: Path,
    header: Header,
    batch_id: str,
    statements: pa.Table,
    markings: pa.Table,
    rows: int,
    proofs: Proofs | None = None,
) -> ReceiveResult:
    result = ReceiveResult(path, header.bundle_id, header.kind, header.sender, statements=rows)
    checksum = file_sha256(path)
    with open_store() as store:
        if store.find_batch(checksum, BUNDLE_MAPPING) is not None:
            result.skipped = True
            return result
        source = f"bundle-{header.bundle_id}-from-{header.sender}"
        batch = BatchInfo(batch_id, source, checksum, BUNDLE_MAPPING, rows, rows, dt.datetime.now())
        # the audit entry goes first: a receipt the log cannot record is not imported (the log may name an
        # import that then failed, never miss one that happened)
        record_receipt(store, header, result.statements, {"statements": rows})
        result.added = store.write_batch(batch, statements, markings, proofs)
    return result


def record_receipt(store: Store, header: Header, statements: int, counts: dict[str, int]) -> None:
    """The audit entry of a received bundle (who sent it, why, what it touched)."""
    from avellino.share.audit import Touched, record

    purpose = f"received from {header.sender}: {header.purpose or header.kind}"
    action = f"share receive {header.kind} {header.bundle_id}"
    record(store, purpose=purpose, action=action, touched=Touched(count=statements, counts=counts))
