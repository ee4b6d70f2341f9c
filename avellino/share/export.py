"""Exports: FtM JSON lines, STIX 2.1, GraphML and GEXF, streamed from the store, under the sharing policy.

Two levels, chosen per format (docs/sharing.md, "Exports"):

* **FtM JSON lines are record level**: the statements exactly as stored, one line per record and marking set,
  references unchanged (they name records, all in the file), each line's markings carried with it, and the
  resolved id a record belongs to in ``avellino:canonical``. Ingesting the file gives back the same statements
  with the same markings (``ftm_out.py``).
* **STIX, GraphML and GEXF are resolved (canonical) level**: one object or node per resolved entity, and every
  reference rewritten through the canonical map, so the links between people survive ``resolve run``; each
  object lists the records it merges and carries the strictest markings of its statements. Each object or node
  also carries its records' statements, each with its own markings (``carried.py``), so these files import back
  into a workspace as exactly as FtM JSON lines do (``avellino/ingest/exchange.py``).

Either way a reference is written only when the entity it names is in the same file (left out by ``--schema``
or withheld for a partner, the link goes with it), so no export points at an id it does not hold.

Everything streams: the database orders, filters and rewrites the statements (spilling to disk if it must) and
hands them over in Arrow record batches, one entity after another; writers keep one entity in memory, plus,
for links, the ids written (see ``graph.py`` and ``stix.py``). The statements STIX and graph files carry come
from a second query, spooled to a compressed temporary Arrow file first and read beside the entity rows.

With no recipient an export is an internal copy: every statement, markings kept. For a registered partner
(``--for``) every statement goes through ``avellino.share.policy`` (decided once per distinct marking set),
protected people are left out whole unless the policy lets them go (a safeguarding purpose or a joint team),
graph files sent out never hold them, and what was withheld is counted by reason.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import IO

import pyarrow as pa

from avellino.errors import ConfigError
from avellino.model import model
from avellino.model.markings import TLP, HandlingCode, Markings, SubjectCategory
from avellino.network.protect import Protection
from avellino.share.carried import STATEMENT_FIELDS, Carried, MarkingTable, marking_table
from avellino.share.entities import PROTECTED
from avellino.share.ftm_out import LINE_KEY, Written, model_folder, write_ftm, write_model
from avellino.store.base import Store
from avellino.store.schema import BASE_PROP, MARKING_FIELDS, STATEMENT_SCHEMA, marking_id_sql

#: Format -> what it is, for help texts and errors.
FORMATS = {
    "ftm": "FtM JSON lines (record level, markings per statement)",
    "stix": "STIX 2.1 bundle",
    "graphml": "GraphML",
    "gexf": "GEXF 1.3",
}
RECORD_LEVEL = frozenset({"ftm"})
GRAPH_FORMATS = frozenset({"graphml", "gexf"})
COLUMNS = ("entity_id", "canonical_id", "schema", "prop", "prop_type", "value", *MARKING_FIELDS, "first_seen",
           "last_seen")  # fmt: skip
TEXTS = pa.list_(pa.string())
#: Record level (FtM): one row per line, a record's statements of one schema and marking set.
LINE_GROUP = ("entity_id", "canonical_id", "schema", *MARKING_FIELDS)
LINE_SCHEMA = pa.schema(
    [*(STATEMENT_SCHEMA.field(c) for c in LINE_GROUP), ("props", TEXTS), ("vals", TEXTS), ("n", pa.int64()),
     ("refs", pa.int64())]
)  # fmt: skip
#: Resolved level (STIX, graphs): one row per entity, its records, distinct values and distinct marking sets.
MARK_LISTS = {"originator": "originators", "handling_code": "handling_codes", "handling_note": "handling_notes",
              "tlp": "tlps", "subject_category": "categories", "evaluation": "evaluations"}  # fmt: skip
ENTITY_SCHEMA = pa.schema(
    [("canonical_id", pa.string()), ("records", TEXTS), ("schemata", TEXTS), ("props", TEXTS), ("vals", TEXTS),
     *((name, TEXTS) for name in MARK_LISTS.values()), ("first_seens", pa.list_(pa.timestamp("us"))),
     ("last_seens", pa.list_(pa.timestamp("us")))]
)  # fmt: skip
#: Resolved level, what the objects carry (``stored_sql``): one row per statement, ordered by canonical id.
STORED_SCHEMA = pa.schema([("canonical_id", pa.string()), *((name, pa.string()) for name in STATEMENT_FIELDS)])
MARKING_TABLE_SCHEMA = pa.schema(
    [("marking_id", pa.string()), *(STATEMENT_SCHEMA.field(f) for f in MARKING_FIELDS), ("n", pa.int64())]
)
BATCH_ROWS = 10_000
#: What the embedded database may hold while it orders and groups an export (``AVELLINO_EXPORT_MEMORY``); the
#: rest spills to disk. With the writers' own needs, the 1M sample exports within 2 GB (benchmarks/export_memory.py).
DEFAULT_DATABASE_MEMORY = "1GB"


def database_memory() -> str:
    raw = os.environ.get("AVELLINO_EXPORT_MEMORY", "").strip() or DEFAULT_DATABASE_MEMORY
    if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", raw, re.IGNORECASE):
        raise ConfigError(f"AVELLINO_EXPORT_MEMORY must be a size such as 1GB or 500MB, not {raw!r}")
    return raw


@dataclass
class Outcome:
    """What an export wrote and what it withheld (statements, by the policy's reason)."""

    fmt: str
    written: Written
    withheld: Counter[str] = field(default_factory=Counter)
    model: Path | None = None


def _quoted(values: Iterable[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values) or "NULL"


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r}: use {', '.join(FORMATS)}")
    return fmt


def check_schemata(schemata: Sequence[str] | None) -> list[str]:
    names = list(schemata or [])
    unknown = [n for n in names if model.get(n) is None]
    if unknown:
        raise ConfigError(
            f"unknown schema {', '.join(map(repr, unknown))} for --schema (FtM schema names, e.g. Person)"
        )
    return names


def _where(schemata: Sequence[str], plan: Plan) -> str:
    clauses = []
    if schemata:
        clauses.append(f"schema IN ({_quoted(schemata)})")
    if plan.allowed is not None:
        clauses.append(f"{marking_id_sql()} IN ({_quoted(sorted(plan.allowed))})")
    if plan.withhold_protected:
        clauses.append(f"canonical_id NOT IN ({_protected_sql()})")
    if plan.jit_batches:
        clauses.append(_outside_jit_sql(plan))
    return f" WHERE {' AND '.join(clauses)}" if clauses else ""


def _outside_jit_sql(plan: Plan) -> str:
    """Facts this node received inside a JIT (other originators' facts in those batches) stay inside it: an
    export is never made inside a JIT, so they never go."""
    return f"NOT (batch_id IN ({_quoted(sorted(plan.jit_batches))}) AND originator <> {_quoted([plan.sender or ''])})"


def _protected_sql() -> str:
    """Resolved ids (or record ids, where unresolved) any statement marks as victim, witness or informant."""
    return f"SELECT canonical_id FROM statements WHERE subject_category IN ({_quoted(sorted(PROTECTED))})"


def export_sql(fmt: str, schemata: Sequence[str] = (), plan: Plan | None = None) -> str:
    """The one query an export reads (valid on DuckDB and PostgreSQL): the statements it may write, grouped by
    the database into one row per FtM line (record level) or per resolved entity (with references rewritten to
    canonical ids), ordered for the writer; references to entities not in the export are left out.

    Written so that DuckDB can spill every step to disk under its memory limit: no common table expression is
    read twice (DuckDB would materialise it in memory) and no aggregate is ordered (ordered aggregates hold their
    groups in memory; the 1M sample's FtM export ran out of 1 GB with them and needs 1.26 GB without). Lists
    built by aggregates of one GROUP BY line up (props[i] is the property of vals[i]): each aggregate is fed the
    group's rows in the same order."""
    where = _where(schemata, plan or INTERNAL)
    picked = f"SELECT {{cols}} FROM statements{where}"
    if fmt in RECORD_LEVEL:
        group = ", ".join(LINE_GROUP)
        order = ", ".join(LINE_KEY)
        targets = picked.format(cols="entity_id")
        kept = f"{where} {'AND' if where else 'WHERE'} (prop_type <> 'entity' OR value IN ({targets}))"
        return (
            f"SELECT {group}, {_agg('prop')} AS props, {_agg('value')} AS vals, count(*) AS n, "
            f"count(*) FILTER (WHERE prop_type = 'entity') AS refs FROM statements{kept} "
            f"GROUP BY {group} ORDER BY {order}"
        )
    marks = ("originator", "handling_code", "handling_note", "tlp", "subject_category", "evaluation")
    records = (
        "SELECT canonical_id, array_agg(entity_id) AS records, array_agg(schema) AS schemata "
        f"FROM (SELECT DISTINCT canonical_id, entity_id, schema FROM statements{where}) x GROUP BY canonical_id"
    )
    rewritten = "CASE WHEN s.prop_type = 'entity' THEN coalesce(c.canonical_id, s.value) ELSE s.value END"
    values = (
        f"SELECT canonical_id, array_agg(prop) AS props, array_agg(value) AS vals FROM (SELECT DISTINCT "
        f"s.canonical_id, s.prop, {rewritten} AS value FROM ({picked.format(cols='*')}) s LEFT JOIN canon c "
        f"ON s.prop_type = 'entity' AND c.entity_id = s.value WHERE s.prop <> '{BASE_PROP}' AND "
        f"(s.prop_type <> 'entity' OR coalesce(c.canonical_id, s.value) IN ({picked.format(cols='canonical_id')}))"
        ") x GROUP BY canonical_id"
    )
    aggs = ", ".join(f"array_agg({m}) AS {MARK_LISTS[m]}" for m in marks)
    sets = (
        f"SELECT canonical_id, {aggs}, array_agg(first_seen) AS first_seens, array_agg(last_seen) AS last_seens "
        f"FROM (SELECT canonical_id, {', '.join(marks)}, min(first_seen) AS first_seen, max(last_seen) AS last_seen "
        f"FROM statements{where} GROUP BY canonical_id, {', '.join(marks)}) x GROUP BY canonical_id"
    )
    cols = ", ".join(f"m.{c}" if c not in {"canonical_id", "records", "schemata", "props", "vals"} else c
                     for c in ENTITY_SCHEMA.names)  # fmt: skip
    return (
        f"SELECT {cols} FROM ({records}) e JOIN ({sets}) m USING (canonical_id) "
        f"LEFT JOIN ({values}) v USING (canonical_id) ORDER BY canonical_id"
    )


def stored_sql(schemata: Sequence[str] = (), plan: Plan | None = None) -> str:
    """The statements a resolved export (STIX, graphs) carries besides its entities (``carried.py``): each as
    stored, references as record ids with the resolved id each names, ordered by canonical id like
    :func:`export_sql`'s entities. Rows, not lists grouped per entity: grouping the 1M sample's 8.7M statements
    into lists ran out of the 1 GB limit, while sorting rows spills to disk."""
    picked = f"SELECT * FROM statements{_where(schemata, plan or INTERNAL)}"
    target = "CASE WHEN s.prop_type = 'entity' THEN coalesce(c.canonical_id, s.value) END"
    mark = marking_id_sql({f: f"s.{f}" for f in MARKING_FIELDS})
    return (
        f"SELECT s.canonical_id, s.entity_id AS st_record, s.schema AS st_schema, s.prop AS st_prop, "
        f"s.value AS st_value, {target} AS st_target, {mark} AS st_mark FROM ({picked}) s LEFT JOIN canon c "
        "ON s.prop_type = 'entity' AND c.entity_id = s.value ORDER BY s.canonical_id"
    )


@contextmanager
def spooled_statements(
    store: Store, schemata: Sequence[str] = (), plan: Plan | None = None, batch_rows: int = BATCH_ROWS
) -> Iterator[Iterator[pa.RecordBatch]]:
    """:func:`stored_sql`'s rows, read once into a compressed temporary Arrow file and handed back batch by batch:
    the writers read them alongside the entity rows, and two queries streaming at once would share the one
    memory limit (and a PostgreSQL connection's one cursor)."""
    sql = stored_sql(check_schemata(schemata), plan)
    with tempfile.TemporaryFile() as spool:
        options = pa.ipc.IpcWriteOptions(compression="zstd")
        with pa.ipc.new_stream(spool, STORED_SCHEMA, options=options) as writer:
            for batch in store.stream_query(sql, STORED_SCHEMA, batch_rows, memory_limit=database_memory()):
                writer.write_batch(batch)
        spool.seek(0)
        yield iter(pa.ipc.open_stream(spool))


def _agg(column: str) -> str:
    """array_agg of a column without the entity's id statement (which FtM lines do not list)."""
    return f"array_agg({column}) FILTER (WHERE prop <> '{BASE_PROP}')"


def statement_batches(
    store: Store,
    fmt: str,
    schemata: Sequence[str] = (),
    plan: Plan | None = None,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[pa.RecordBatch]:
    """What an export writes, in record batches for ``write_statements``: one row per FtM line (``LINE_SCHEMA``)
    or per resolved entity (``ENTITY_SCHEMA``)."""
    sql = export_sql(check_format(fmt), check_schemata(schemata), plan)
    schema = LINE_SCHEMA if fmt in RECORD_LEVEL else ENTITY_SCHEMA
    yield from store.stream_query(sql, schema, batch_rows, memory_limit=database_memory())


def write_statements(
    batches: Iterable[pa.RecordBatch],
    fmt: str,
    out: IO[str],
    *,
    sent_out: bool = False,
    protection: Protection | None = None,
    markings: MarkingTable | None = None,
    stored: Iterable[pa.RecordBatch] | None = None,
) -> Written:
    """Write the batches :func:`statement_batches` gives (of any store, filtered by any policy) in one format, as
    they arrive: bundles and other writers reuse it for their payload. ``sent_out``: a graph file for a partner
    (protected people left out). STIX and graph files also need what they carry: ``stored``, the batches of
    :func:`spooled_statements` for the same schemata and plan, and ``markings``, the fields of each marking id
    (:func:`marking_sets`)."""
    check_format(fmt)
    if fmt == "ftm":
        return write_ftm(batches, out)
    if markings is None or stored is None:
        raise ValueError(f"a {fmt} export needs its statements and marking table (export.spooled_statements)")
    carried = Carried(markings, stored)
    if fmt == "stix":
        from avellino.share.stix import write_stix

        return write_stix(batches, out, carried)
    from avellino.share.graph import write_graph

    return write_graph(batches, fmt, out, carried, protection, sent_out)


def marking_sets(store: Store, schemata: Sequence[str] = ()) -> pa.Table:
    """The distinct marking sets of the statements an export may read, with their statement counts: what the
    policy decides on (a few thousand rows, whatever the workspace's size)."""
    fields = ", ".join(MARKING_FIELDS)
    groups = ", ".join(str(i) for i in range(2, len(MARKING_FIELDS) + 2))
    sql = (
        f"SELECT {marking_id_sql()} AS marking_id, {fields}, count(*) AS n FROM statements"
        f"{_where(schemata, INTERNAL)} GROUP BY {groups}"
    )
    return pa.Table.from_batches(list(store.stream_query(sql, MARKING_TABLE_SCHEMA)), MARKING_TABLE_SCHEMA)


@dataclass(frozen=True)
class Plan:
    """Which statements a partner may have: marking sets allowed (None: all), and whether protected people are
    left out whole; with the statements withheld, by reason."""

    allowed: set[str] | None
    withhold_protected: bool
    withheld: Counter[str]
    #: this node, and the batches it received inside a JIT (``share.jit.batch_jits``): their facts stay inside
    sender: str | None = None
    jit_batches: frozenset[str] = frozenset()


INTERNAL = Plan(None, False, Counter())


def plan_for(
    store: Store, request: object, fmt: str, schemata: Sequence[str] = (), jit_batches: Iterable[str] = ()
) -> Plan:
    """Ask the policy about every marking set once; protected people go whole unless the policy would let a
    victim's fact go to these recipients for this purpose (and never in a graph file); facts received inside a
    JIT (``jit_batches``) never go."""
    from avellino.share import policy

    assert isinstance(request, policy.Request)
    table = marking_sets(store, schemata)
    weights = {str(m): int(n) for m, n in zip(table["marking_id"].to_pylist(), table["n"].to_pylist(), strict=True)}
    allowed, withheld = policy.allowed_marking_ids(table, request, weights)
    probe = Markings(request.sender, HandlingCode.H0, TLP.CLEAR, "A1", SubjectCategory.VICTIM)
    protected = fmt in GRAPH_FORMATS or not policy.decide(probe, request).allowed
    jit = Plan(allowed, False, Counter(), request.sender, frozenset(jit_batches))
    if jit.jit_batches:
        within = Plan(allowed, False, Counter())
        extra = _count(
            store, f"SELECT count(*) AS n FROM statements{_where(schemata, within)} AND NOT ({_outside_jit_sql(jit)})"
        )
        if extra:
            withheld[policy.Reason.JIT_OUTSIDE.value] += extra
    if protected:
        extra = _count(
            store,
            f"SELECT count(*) AS n FROM statements{_where(schemata, jit)} AND canonical_id IN ({_protected_sql()})",
        )
        if extra:
            withheld[policy.Reason.PROTECTED.value] += extra
    return Plan(allowed, protected, withheld, request.sender, jit.jit_batches)


def _count(store: Store, sql: str) -> int:
    n = next(iter(store.stream_query(sql, pa.schema([("n", pa.int64())]))), None)
    return int(n.column(0)[0].as_py() or 0) if n is not None and n.num_rows else 0


def export(
    store: Store,
    out: IO[str],
    fmt: str,
    schemata: Sequence[str] = (),
    request: object = None,
    model_beside: Path | None = None,
    jit_batches: Iterable[str] = (),
) -> Outcome:
    """Export the workspace to ``out``: an internal copy when ``request`` is None, else only what the policy lets
    go to its recipients. ``model_beside``: the export's path, to write FtM's model folder beside it."""
    check_format(fmt)
    names = check_schemata(schemata)
    plan = INTERNAL if request is None else plan_for(store, request, fmt, names, jit_batches)
    protection = _network_protection(store) if fmt in GRAPH_FORMATS else None
    if fmt in RECORD_LEVEL:
        written = write_statements(statement_batches(store, fmt, names, plan), fmt, out)
    else:
        marks = marking_table(marking_sets(store, names))
        with spooled_statements(store, names, plan) as stored:
            batches = statement_batches(store, fmt, names, plan)
            written = write_statements(batches, fmt, out, sent_out=request is not None, protection=protection,
                                       markings=marks, stored=stored)  # fmt: skip
    folder = write_model(model_folder(model_beside)) if fmt == "ftm" and model_beside is not None else None
    return Outcome(fmt, written, plan.withheld, folder)


def _network_protection(store: Store) -> Protection:
    """Who ``network build`` found protected beyond data-subject categories (migrant boat pilots), by node id:
    graph files mark them and never send them out. Empty when the network was never built."""
    nodes = store.read_table("network_nodes")
    if nodes is None or not {"id", "protected"} <= set(nodes.column_names):
        return Protection()
    reasons = nodes.column("safeguarding").to_pylist() if "safeguarding" in nodes.column_names else None
    found: dict[str, str] = {}
    for i, (node, flag) in enumerate(zip(nodes["id"].to_pylist(), nodes["protected"].to_pylist(), strict=True)):
        if flag is True or str(flag).lower() == "true":
            found[str(node)] = str(reasons[i]) if reasons and reasons[i] else "protected person (network build)"
    return Protection(MappingProxyType(found))
