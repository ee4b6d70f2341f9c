"""What a partner may see of a batch of statements: the policy's reason per statement (null: allowed).

The one screening path for every output addressed to a partner: a bundle (``send.py``) and the workbench's answers
to a partner's liaison officer (``web/views.py``) ask it, so the rules of ``policy.py`` (per marking set), the
originator namespace, the protected-person rule and the JIT rule are applied the same way everywhere.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb
import numpy as np
import pyarrow as pa

from avellino.errors import ConfigError
from avellino.ingest import ids
from avellino.model.markings import PROTECTED_VALUES
from avellino.share.node import Node, Partner
from avellino.share.policy import SAFEGUARDING, Reason, Request, decide_table, purpose_kind
from avellino.store.base import Store
from avellino.store.schema import MARKING_FIELDS, marking_id_sql

OUTSIDE_NAMESPACE = "id outside the originator namespace"
_SEP = getattr(ids, "NAMESPACE_SEP", "-")
_SLUG_SQL = "trim(regexp_replace(lower(trim(b.originator)), '[^a-z0-9]+', '-', 'g'), '-')"  # ids.originator_slug


def request_for(
    node: Node, partners: Sequence[Partner], purpose: str, today: dt.date, jit: str | None = None
) -> Request:
    """The policy's request for this node's share: with every JIT agreement it holds (judged with its cards) and
    the JIT the share is made inside, if any."""
    from avellino.share.jit import policy_jits

    if not purpose.strip():
        raise ConfigError("Give --purpose: why these facts are shared (it is logged and checked by H3 notes)")
    recipients = tuple(p.recipient() for p in partners)
    return Request(node.name, recipients, purpose, today, node.teams, jits=policy_jits(node), jit=jit)


def protected_rule_applies(req: Request) -> bool:
    """Whether the protected-category rule withholds victims, witnesses and informants from this request."""
    if purpose_kind(req.purpose) == SAFEGUARDING:
        return False
    return any(not req.shares_jit(r.name) for r in req.recipients)


class Decisions:
    """The policy's answer per marking set, decided the first time a set is met in the stream (a workspace has a
    few thousand sets; reading them up front with ``Store.aggregate`` cost more memory than the whole send)."""

    def __init__(self, req: Request):
        self.req = req
        self.reasons: dict[str, str | None] = {}

    def table(self, con: duckdb.DuckDBPyConnection) -> pa.Table:
        """(marking_key, reason) for every marking set of the registered ``batch``."""
        import pyarrow.compute as pc

        sets = con.sql(f"SELECT DISTINCT {marking_id_sql()} AS marking_id, {', '.join(MARKING_FIELDS)} FROM batch")
        new = sets.to_arrow_table()
        new = new.filter(pc.invert(pc.is_in(new.column("marking_id"), pa.array(list(self.reasons), pa.string()))))
        for marking_id, decision in decide_table(new, self.req).items():
            self.reasons[marking_id] = None if decision.allowed else str(decision.reason or Reason.INVALID)
        return pa.table(
            {
                "marking_key": pa.array(list(self.reasons), pa.string()),
                "reason": pa.array(list(self.reasons.values()), pa.string()),
            }
        )


def protected_clusters(statements: pa.Table) -> set[str]:
    """Canonical ids of the clusters any of ``statements`` marks as a victim, witness or informant, and the record
    ids merged into them (a reference to any of those records names the protected person)."""
    import pyarrow.compute as pc

    marked = statements.filter(pc.is_in(statements.column("subject_category"), pa.array(sorted(PROTECTED_VALUES))))
    clusters = pc.unique(marked.column("canonical_id"))
    members = statements.filter(pc.is_in(statements.column("canonical_id"), clusters)).column("entity_id")
    return set(clusters.to_pylist()) | set(pc.unique(members).to_pylist())


def protected_ids(store: Store) -> set[str]:
    """:func:`protected_clusters` of a whole workspace, read as a stream of three columns (twice: the clusters,
    then the records merged into them)."""
    import pyarrow.compute as pc

    marked = pa.array(sorted(PROTECTED_VALUES), pa.string())
    clusters: set[str] = set()
    for batch in store.scan_statements(columns=["canonical_id", "subject_category"]):
        mask = pc.is_in(batch.column("subject_category"), value_set=marked)
        clusters.update(pc.unique(pc.filter(batch.column("canonical_id"), mask)).to_pylist())
    found = set(clusters)
    if clusters:
        wanted = pa.array(sorted(clusters), pa.string())
        for batch in store.scan_statements(columns=["entity_id", "canonical_id"]):
            mask = pc.is_in(batch.column("canonical_id"), value_set=wanted)
            found.update(pc.unique(pc.filter(batch.column("entity_id"), mask)).to_pylist())
    return found


class Screen:
    """The policy applied to batches of statements for one request: ``run`` gives, per statement, why it is
    withheld (null: it may go). ``protected``: canonical and record ids of protected clusters
    (:func:`protected_clusters`): unless the purpose is safeguarding or every recipient shares a JIT with this
    node, every statement of such a cluster is withheld, and so is every statement naming one (a call's
    ``receiver``, a crossing's ``passenger``): a tie to a victim is a fact about the victim."""

    def __init__(self, node: Node, req: Request, protected: set[str], jit: str | None = None):
        from avellino.share.jit import batch_jits

        self.node = node
        self.req = req
        self.jit = jit
        self.decisions = Decisions(req)
        prot = sorted(protected) if protected_rule_applies(req) else []
        self.prot = pa.table({"cid": pa.array(prot, pa.string())})
        jit_batches = batch_jits(node)  # facts received inside a JIT leave this node only inside that JIT
        self.jb = pa.table(
            {
                "batch_id": pa.array(list(jit_batches), pa.string()),
                "jit": pa.array(list(jit_batches.values()), pa.string()),
            }
        )

    def sql(self, select: str, where: str = "") -> str:
        """A query over the registered ``batch`` (alias ``b``) selecting ``select`` and the ``reason`` column."""
        key = marking_id_sql({f: f"b.{f}" for f in MARKING_FIELDS})
        return (
            f"SELECT {select}, "
            f"CASE WHEN d.marking_key IS NULL THEN '{Reason.INVALID.value}' "
            f"WHEN NOT starts_with(b.entity_id, {_SLUG_SQL} || '{_SEP}') THEN '{OUTSIDE_NAMESPACE}' "
            f"WHEN p.cid IS NOT NULL OR pv.cid IS NOT NULL THEN '{Reason.PROTECTED.value}' "
            "WHEN d.reason IS NOT NULL THEN d.reason "
            f"WHEN j.jit IS NOT NULL AND b.originator <> $sender AND j.jit IS DISTINCT FROM $jit "
            f"THEN '{Reason.JIT_OUTSIDE.value}' ELSE NULL END AS reason "
            f"FROM batch b LEFT JOIN decisions d ON d.marking_key = {key} LEFT JOIN prot p ON p.cid = b.canonical_id "
            "LEFT JOIN prot pv ON b.prop_type = 'entity' AND pv.cid = b.value "
            f"LEFT JOIN jb j ON j.batch_id = b.batch_id {where}"
        )

    def register(self, con: duckdb.DuckDBPyConnection) -> None:
        con.register("prot", self.prot)
        con.register("jb", self.jb)

    def run(
        self, con: duckdb.DuckDBPyConnection, batch: pa.Table | pa.RecordBatch, select: str, where: str = ""
    ) -> pa.Table:
        """The screened rows of ``batch`` (``select`` columns and ``reason``) on a connection set up by
        :meth:`register`."""
        con.register("batch", batch)
        try:
            con.register("decisions", self.decisions.table(con))
            return con.sql(self.sql(select, where), params={"sender": self.node.name, "jit": self.jit}).to_arrow_table()
        finally:
            con.unregister("batch")

    def reasons(self, table: pa.Table) -> dict[str, str | None]:
        """{statement id: why it is withheld, None when it may go} for the statements of ``table`` (with an
        ``id`` column): what a notice that lists each withheld fact's reason reads."""
        if not table.num_rows:
            return {}
        con = duckdb.connect()
        try:
            con.execute("SET threads = 2")
            self.register(con)
            out = self.run(con, table, "b.id AS sid")
        finally:
            con.close()
        return dict(zip(out.column("sid").to_pylist(), out.column("reason").to_pylist(), strict=True))

    def allowed(self, table: pa.Table) -> pa.Table:
        """The rows of ``table`` (statements with the marking columns, ``entity_id``, ``canonical_id``,
        ``batch_id``) this request may see, in their order."""
        import pyarrow.compute as pc

        con = duckdb.connect()
        try:
            con.execute("SET threads = 2")
            self.register(con)
            rows = self.run(con, table.append_column("_row", pa.array(range(table.num_rows), pa.int64())),
                            "b._row")  # fmt: skip
        finally:
            con.close()
        keep = np.sort(rows.filter(pc.is_null(rows.column("reason"))).column("_row").to_numpy())
        return table.take(pa.array(keep)) if len(keep) else table.slice(0, 0)
