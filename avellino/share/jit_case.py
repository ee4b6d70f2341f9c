"""The case a JIT member sees: members, contributions by originator, persons resolved across members, and the case
network, as plain data (``CaseView``) that the CLI prints and a web page can serve as it is.

**What is in the case.** At the viewing node: the facts it received inside the JIT (its bundles' batches), its
own facts about the entities it sent inside the JIT (the sent log), and its own records that resolution merged
into one of those entities (so a person both members hold is one node, and each member's links meet there). The
node's other facts are not the case's.

**What the member may see** is asked of the one sharing policy (``policy.decide``), once per marking set, as if
each fact's originator shared it with the viewing node inside the JIT today, for a purpose the agreement allows:
the JIT must be in force (signed by every member, within its term, not ended), its originator and the viewer
members, and the fact's own markings must allow it (retention review, H2/H3, TLP). So a JIT that ended, or that
the viewer or the originator left, shows nothing of what was contributed, even where the agreement let the
contributions be kept (``--on-end keep``); what was withheld is counted by reason.

**The network** is the network area's own (``network/build.py``: the same ties, contraction and canonical
nodes) built from those facts alone, so no second graph builder exists. Who is protected is the network's rule
(``network/protect.py``), widened by every statement of the whole workspace that marks a victim, witness or
informant (a fact of the case withheld by the policy must not make a victim look like anybody else): protected
people are shown as such, never with an offender category, and never ranked (the top links leave them out; they
are listed as safeguarding flags). A graph file of the case goes through the export writers
(``share/export.py``'s canonical query and ``share/graph.py``), with every node's markings.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from avellino.errors import ConfigError
from avellino.model.markings import PROTECTED_VALUES
from avellino.network.protect import CATEGORY_REASON, Protection
from avellino.share.node import Node
from avellino.share.policy import Reason, Recipient, Request, decide, markings_of_row, purpose_kind
from avellino.store.base import Store
from avellino.store.schema import MARKING_FIELDS, STATEMENT_SCHEMA

if TYPE_CHECKING:
    import pandas as pd

    from avellino.network.build import StoreGraph
    from avellino.share.jit import Agreement

#: What the case reads of each statement: the network's columns, the markings the policy decides on, and what the
#: export writers carry into a graph file.
COLUMNS = ["entity_id", "canonical_id", "schema", "prop", "prop_type", "value", *MARKING_FIELDS, "batch_id",
           "first_seen", "last_seen"]  # fmt: skip
CASE_SCHEMA = pa.schema([STATEMENT_SCHEMA.field(c) for c in COLUMNS])
#: Links listed per originator in the summary.
TOP_LINKS = 5


@dataclass
class CaseNode:
    """A resolved entity (or a shared identifier) of the case network."""

    id: str
    label: str
    schema: str
    kind: str  #: party, phone, account, vehicle, address, object
    categories: str  #: as the network presents them (a protected person never with an offender category)
    protected: bool
    safeguarding: str  #: why protected ('' when not)
    records: int
    originators: list[str]


@dataclass
class CaseLink:
    """A tie of the case network (aggregated per source, target and kind, as the network area does)."""

    source: str
    target: str
    kind: str
    directed: bool
    events: int
    first: str | None
    last: str | None
    originators: list[str]  #: whose events make the tie
    cross_member: bool  #: the tie and its two ends hold facts of at least two members


@dataclass
class CaseNetwork:
    nodes: list[CaseNode] = field(default_factory=list)
    links: list[CaseLink] = field(default_factory=list)
    components: int = 0
    largest_component: int = 0
    statements: int = 0  #: statements of the case the member may see (what the network was built from)
    withheld: dict[str, int] = field(default_factory=dict)  #: statements of the case withheld, by reason

    def node(self, node_id: str) -> CaseNode | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    def cross_member_links(self) -> list[CaseLink]:
        return [link for link in self.links if link.cross_member]

    def safeguarding(self) -> list[dict[str, Any]]:
        """Protected people in the case: a flag with the reason and how many links touch them, never a rank."""
        degree: Counter[str] = Counter()
        for link in self.links:
            degree[link.source] += 1
            degree[link.target] += 1
        return [
            {"id": n.id, "label": n.label, "reason": n.safeguarding, "links": degree[n.id]}
            for n in self.nodes
            if n.protected
        ]

    def top_links(self, n: int = TOP_LINKS) -> dict[str, list[CaseLink]]:
        """Per originator, its links with the most events; a link touching a protected person is never ranked
        (``network/protect.py``'s screen decides who may be listed)."""
        protection = Protection.of(x.id for x in self.nodes if x.protected)
        out: dict[str, list[CaseLink]] = {}
        for originator in sorted({o for link in self.links for o in link.originators}):
            mine = [link for link in self.links if originator in link.originators]
            listed = [link for link in mine if not protection.screen([link.source, link.target])[1]]
            listed.sort(key=lambda x: (-x.events, x.source, x.target, x.kind))
            out[originator] = listed[:n]
        return out


@dataclass
class CaseView:
    """What ``jit show`` prints (and ``--json`` writes) for one JIT at one member."""

    name: str
    agreement_id: str
    state: str
    members: dict[str, str]  #: member -> signed / not signed / left
    term: list[str]
    purposes: list[str]
    purpose: str  #: the purpose the case was read for (checked by the policy, recorded in the audit log)
    h1_evidence: bool
    on_end: str
    contributions: list[dict[str, Any]]
    resolved_persons: list[str]
    network: CaseNetwork

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: nodes and links as dicts, top links and safeguarding flags included."""
        data = asdict(self)
        data["network"]["cross_member_links"] = len(self.network.cross_member_links())
        data["network"]["top_links"] = {
            o: [asdict(link) for link in links] for o, links in self.network.top_links().items()
        }
        data["network"]["safeguarding"] = self.network.safeguarding()
        return data


# -- the case's facts --------------------------------------------------------------------------------------------


def check_purpose(agreement: Agreement, purpose: str | None) -> str:
    """The purpose the case is read for: the one given, which the agreement must allow, or its first."""
    if purpose is None or not purpose.strip():
        return agreement.purposes[0]
    if purpose_kind(purpose) not in {purpose_kind(p) for p in agreement.purposes}:
        raise ConfigError(f"--purpose {purpose!r}: JIT {agreement.name} allows only {', '.join(agreement.purposes)}")
    return purpose


def _sent_entities(node: Node, name: str) -> set[str]:
    """The entity ids this node sent inside the JIT (``sent/BUNDLE.parquet`` of each bundle logged with it)."""
    import pyarrow.parquet as pq

    from avellino.share.send import sent_log

    out: set[str] = set()
    for line in sent_log(node):
        path = node.dir / "sent" / f"{line.get('bundle_id')}.parquet"
        if line.get("jit") == name and path.is_file():
            out.update(pc.unique(pq.read_table(path, columns=["entity_id"]).column("entity_id")).to_pylist())
    return out


def case_scope(store: Store, node: Node, agreement: Agreement) -> tuple[pa.Table, set[str]]:
    """The statements of the case (before the policy; see the module docstring) and the canonical ids any
    statement of the whole workspace marks as victim, witness or informant. One read of the statements."""
    from avellino.share.jit import received_batches

    batches = pa.array(sorted(received_batches(node, agreement.name)), pa.string())
    sent = pa.array(sorted(_sent_entities(node, agreement.name)), pa.string())
    protected_values = pa.array(PROTECTED_VALUES, pa.string())
    inside: list[pa.Table] = []
    own_resolved: list[pa.Table] = []
    protected: set[str] = set()
    for batch in store.scan_statements(columns=COLUMNS):
        table = pa.Table.from_batches([batch]).cast(CASE_SCHEMA)
        marked = pc.is_in(table.column("subject_category"), value_set=protected_values)
        protected.update(pc.unique(table.column("canonical_id").filter(marked)).to_pylist())
        own = pc.equal(table.column("originator"), node.name)
        received = pc.is_in(table.column("batch_id"), value_set=batches)
        mine_sent = pc.and_(own, pc.is_in(table.column("entity_id"), value_set=sent))
        take = pc.or_(received, mine_sent)
        inside.append(table.filter(take))
        resolved = pc.and_(pc.and_(own, pc.invert(take)), pc.not_equal(table["canonical_id"], table["entity_id"]))
        own_resolved.append(table.filter(resolved))
    scope = pa.concat_tables(inside) if inside else CASE_SCHEMA.empty_table()
    canonical = pc.unique(scope.column("canonical_id"))
    extra = pa.concat_tables(own_resolved) if own_resolved else CASE_SCHEMA.empty_table()
    extra = extra.filter(pc.is_in(extra.column("canonical_id"), value_set=canonical))
    return pa.concat_tables([scope, extra]), protected


def visible(
    scope: pa.Table, node: Node, agreement: Agreement, purpose: str, today: dt.date
) -> tuple[pa.Table, Counter[str]]:
    """The statements of the case the policy lets this member see, and what it withheld (statements by reason):
    each marking set decided once, as its originator sharing it with this node inside the JIT."""
    view = agreement.policy_view(node)
    me = Recipient(node.name, node.card.country, node.card.law_enforcement)
    sets = scope.group_by(MARKING_FIELDS).aggregate([([], "count_all")])
    allowed: list[bool] = []
    withheld: Counter[str] = Counter()
    for row in sets.to_pylist():
        marks = markings_of_row(row)
        if marks is None:
            reason: Reason | None = Reason.INVALID
        else:
            req = Request(marks.originator, (me,), purpose, today, jits=(view,), jit=agreement.name)
            within = None if marks.originator == node.name else agreement.name
            reason = decide(marks, req, within).reason
        allowed.append(reason is None)
        if reason is not None:
            withheld[reason.value] += int(row["count_all"])
    if not sets.num_rows:
        return scope, withheld
    keys = pa.array(_marking_keys(sets), pa.string())
    go = keys.filter(pa.array(allowed, pa.bool_()))
    return scope.filter(pc.is_in(pa.array(_marking_keys(scope), pa.string()), value_set=go)), withheld


def _marking_keys(table: pa.Table) -> pa.ChunkedArray:
    """One text key per row's marking set (NULLs kept apart from empty text, which Arrow's joins would drop)."""
    parts = [
        pc.if_else(pc.is_null(table.column(f)), "\x00", pc.cast(table.column(f), pa.string())) for f in MARKING_FIELDS
    ]
    return pc.binary_join_element_wise(*parts, "\x1f")


# -- the network -------------------------------------------------------------------------------------------------


def _graph(seen: pa.Table, protected: set[str]) -> StoreGraph:
    """The network area's graph of the facts seen, its protection widened by ``protected`` (canonical ids)."""
    from avellino.network.build import STATEMENT_COLUMNS, build_graph

    frame = seen.select(STATEMENT_COLUMNS).to_pandas()
    sg = build_graph(_NoStore(), frame)  # type: ignore[arg-type]
    extra = Protection.of((i for i in sg.nodes["id"] if i in protected and i not in sg.protection), CATEGORY_REASON)
    if extra.reasons:
        sg.protection = sg.protection.merged(extra)
        sg.nodes["protected"] = sg.nodes["id"].map(lambda i: i in sg.protection)
        sg.nodes["safeguarding"] = sg.nodes["id"].map(sg.protection.reason)
    return sg


class _NoStore:
    """``build_graph`` reads the store only when not handed the statements; the case always hands them."""

    def read_statements(self, *args: object, **kwargs: object) -> pa.Table:
        raise AssertionError("the case network is built from the case's statements only")


def _originators_by_id(frame: pd.DataFrame, key: str) -> dict[str, set[str]]:
    pairs = frame[[key, "originator"]].drop_duplicates()
    out: dict[str, set[str]] = {}
    for k, o in zip(pairs[key], pairs["originator"], strict=True):
        out.setdefault(str(k), set()).add(str(o))
    return out


def _link_kinds(schema: str) -> set[str]:
    from avellino.network.build import EVENT_LINKS

    links = EVENT_LINKS.get(schema)
    return {link.kind for link in links} if links else {schema.lower()}


def network(seen: pa.Table, protected: set[str], members: set[str], withheld: Counter[str]) -> CaseNetwork:
    """The case network of the statements seen (see the module docstring)."""
    out = CaseNetwork(statements=seen.num_rows, withheld=dict(withheld))
    if not seen.num_rows:
        return out
    sg = _graph(seen, protected)
    frame = seen.select(["entity_id", "canonical_id", "originator"]).to_pandas()
    by_entity = _originators_by_id(frame, "canonical_id")  # events and parties, by canonical id
    part = sg.participation[["node", "schema", "event"]].drop_duplicates()
    event_orig = {e: by_entity.get(str(e), set()) for e in part["event"].unique()}
    node_orig: dict[str, set[str]] = {}
    for node_id, event in zip(part["node"], part["event"], strict=True):
        node_orig.setdefault(str(node_id), set()).update(event_orig.get(event, set()))
    for node_id, who in by_entity.items():
        node_orig.setdefault(node_id, set()).update(who)
    pairs = part.merge(part, on=["event", "schema"], suffixes=("_a", "_b"))
    pairs = pairs[pairs["node_a"] != pairs["node_b"]]
    edge_orig: dict[tuple[str, str, str], set[str]] = {}
    for a, b, schema, event in zip(pairs["node_a"], pairs["node_b"], pairs["schema"], pairs["event"], strict=True):
        for kind in _link_kinds(str(schema)):
            edge_orig.setdefault((str(a), str(b), kind), set()).update(event_orig.get(event, set()))
    presented = sg.presented_nodes()
    for row in presented.to_dict("records"):
        out.nodes.append(
            CaseNode(
                id=str(row["id"]), label=str(row["label"]), schema=str(row["schema"]), kind=str(row["kind"]),
                categories=str(row["categories"]), protected=bool(row["protected"]),
                safeguarding=str(row["safeguarding"] or ""), records=int(row["records"]),
                originators=sorted(node_orig.get(str(row["id"]), set())),
            )
        )  # fmt: skip
    for row in sg.edges.to_dict("records"):
        s, t, kind = str(row["source"]), str(row["target"]), str(row["kind"])
        who = edge_orig.get((s, t, kind), set()) | edge_orig.get((t, s, kind), set())
        around = who | node_orig.get(s, set()) | node_orig.get(t, set())
        out.links.append(
            CaseLink(
                source=s, target=t, kind=kind, directed=bool(row["directed"]), events=int(row["events"]),
                first=_day(row["first"]), last=_day(row["last"]), originators=sorted(who),
                cross_member=len(around & members) >= 2,
            )
        )  # fmt: skip
    components = sg.graph().connected_components(mode="weak")
    out.components = len(components)
    out.largest_component = max((len(c) for c in components), default=0)
    return out


def _day(value: object) -> str | None:
    return None if value is None or value != value else str(value)  # NaN is not equal to itself


# -- the view ----------------------------------------------------------------------------------------------------


@dataclass
class Case:
    """The view and what it was built from (a graph file of the case is written from the same facts)."""

    view: CaseView
    seen: pa.Table
    protection: Protection


def case(
    store: Store, node: Node, agreement: Agreement, purpose: str | None = None, today: dt.date | None = None
) -> Case:
    """Everything ``jit show`` shows, read once, restricted by the sharing policy (see the module docstring)."""
    from avellino.share.jit import contributions

    today = today or dt.date.today()
    why = check_purpose(agreement, purpose)
    scope, protected = case_scope(store, node, agreement)
    seen, withheld = visible(scope, node, agreement, why, today)
    net = network(seen, protected, set(agreement.members), withheld)
    contributed, resolved = contributions(store, node, agreement)
    signed, left = agreement.verified_signers(node), agreement.left(node)
    view = CaseView(
        name=agreement.name,
        agreement_id=agreement.agreement_id,
        state=agreement.state(node, today),
        members={m: ("left" if m in left else "signed" if m in signed else "not signed") for m in agreement.members},
        term=[str(agreement.start), str(agreement.until)],
        purposes=list(agreement.purposes),
        purpose=why,
        h1_evidence=agreement.h1_evidence,
        on_end=agreement.on_end,
        contributions=[asdict(c) for c in contributed],
        resolved_persons=resolved,
        network=net,
    )
    reasons = {n.id: n.safeguarding or CATEGORY_REASON for n in net.nodes if n.protected}
    return Case(view, seen, Protection(MappingProxyType(reasons)))


def case_view(
    store: Store, node: Node, agreement: Agreement, purpose: str | None = None, today: dt.date | None = None
) -> CaseView:
    """The case as plain data (what the web UI serves)."""
    return case(store, node, agreement, purpose, today).view


def write_graph_file(found: Case, path: Path) -> int:
    """The case network as GraphML or GEXF (by ``path``'s extension), through the export path itself
    (``share/export.py``'s ``export``, as ``avellino export`` writes an internal copy) run over the case's facts
    only, with the case's protection (protected people marked, never with an offender category). Returns the
    nodes and links written."""
    from avellino.share.export import export

    fmt = path.suffix.lower().lstrip(".")
    tmp = path.with_name(path.name + ".tmp")
    with _CaseStore(found) as store, tmp.open("w", encoding="utf-8") as out:
        done = export(store, out, fmt)  # type: ignore[arg-type]
    tmp.replace(path)
    return int(done.written.items)


class _CaseStore:
    """The case's facts seen as the export path reads a store: its ``statements`` and ``canon`` in an in-memory
    DuckDB (``stream_query``), and the protection as the ``network_nodes`` table that ``network build`` writes."""

    def __init__(self, found: Case):
        import duckdb

        self.found = found
        self.con = duckdb.connect()
        canon = found.seen.select(["entity_id", "canonical_id"]).group_by(["entity_id", "canonical_id"]).aggregate([])
        for name, table in (("statements", found.seen), ("canon", canon)):  # tables: every cursor sees them
            self.con.register("_in", table)
            self.con.execute(f"CREATE TABLE {name} AS SELECT * FROM _in")
            self.con.unregister("_in")

    def __enter__(self) -> _CaseStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.con.close()

    def stream_query(
        self, sql: str, schema: pa.Schema, batch_rows: int = 65_536, memory_limit: str | None = None
    ) -> Iterator[pa.RecordBatch]:
        yield from (b.cast(schema) for b in self.con.cursor().sql(sql).to_arrow_reader(batch_rows))

    def read_table(self, name: str) -> pa.Table | None:
        if name != "network_nodes":
            return None
        reasons = self.found.protection.reasons
        return pa.table(
            {
                "id": pa.array(list(reasons), pa.string()),
                "protected": pa.array([True] * len(reasons), pa.bool_()),
                "safeguarding": pa.array(list(reasons.values()), pa.string()),
            }
        )
