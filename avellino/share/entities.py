"""Statement batches -> one summary per entity, as the exports read them.

Exports stream: the database groups each resolved entity's statements into one row (its records, distinct values
and distinct marking sets, see ``export.py``) and hands the rows over in Arrow record batches, ordered by
canonical id; :func:`canonical_entities` turns each row into an :class:`Entity`: its values per property
(references already rewritten to canonical ids by the export query), its records, and its markings — the
strictest TLP, every handling code with its note, every originator (with the first time each reported it), its
data-subject categories and the first and last time it was seen; and its records' statements as stored
(``carried.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pyarrow as pa
from followthemoney.exc import InvalidData
from followthemoney.schema import Schema

from avellino.model import model
from avellino.model.markings import PROTECTED_VALUES, TLP_ORDER
from avellino.share.carried import STATEMENT_FIELDS, RawLine, StatementRow, raw_lines

PROTECTED = frozenset(PROTECTED_VALUES)

Row = dict[str, Any]


def rows(batches: Iterable[pa.RecordBatch]) -> Iterator[Row]:
    """Each statement as a dict, converted a column at a time (far cheaper than per row)."""
    for batch in batches:
        names = batch.schema.names
        columns = [c.to_pylist() for c in batch.columns]
        for values in zip(*columns, strict=True):
            yield dict(zip(names, values, strict=True))


@dataclass
class Entity:
    """A resolved entity with the markings of all its statements."""

    id: str
    schema: Schema
    records: list[str]
    props: dict[str, list[str]]
    tlp: str
    handling: list[tuple[str, str | None]]  #: every (handling code, note), sorted
    originators: dict[str, dt.datetime | None]  #: originator -> first seen
    categories: list[str]
    evaluations: list[str]
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None
    extra: dict[str, Any] = field(default_factory=dict)
    #: its records' statements, one line per record, schema and marking set (``carried.raw_lines``)
    lines: list[RawLine] = field(default_factory=list)

    @property
    def protected(self) -> bool:
        """A victim, witness or informant in any partner's statement (a wrong merge errs on the side of care)."""
        return bool(PROTECTED & set(self.categories))

    @property
    def creator(self) -> str:
        """The originator that reported the entity first (ties: by name)."""
        far = dt.datetime.max
        return min(self.originators, key=lambda o: (self.originators[o] or far, o))

    @property
    def handling_codes(self) -> list[str]:
        return sorted({code for code, _note in self.handling})

    @property
    def caption(self) -> str:
        for prop in self.schema.caption:
            values = self.props.get(prop)
            if values:
                return sorted(values)[0]
        return self.id

    def values(self, prop: str) -> list[str]:
        return self.props.get(prop, [])


def _schema(names: Iterable[str]) -> Schema:
    found = [model.get(n) for n in sorted(set(names))]
    schemata = [s for s in found if s is not None]
    if len(schemata) == 1:
        return schemata[0]
    try:
        return model.common_schema(*schemata)
    except InvalidData:  # records of kinds FtM cannot merge: the most specific one, by name
        return sorted(schemata, key=lambda s: (-len(s.schemata), s.name))[0]


def entity(row: Row) -> Entity:
    """One entity from its row of the canonical export query (``export.ENTITY_SCHEMA``): its records and their
    schemata, its distinct values, and its distinct marking sets with when each was first and last seen."""
    props: dict[str, list[str]] = {}
    for prop, value in zip(row["props"] or [], row["vals"] or [], strict=True):
        if value is not None:
            props.setdefault(prop, []).append(value)
    originators: dict[str, dt.datetime | None] = {}
    for origin, seen in zip(row["originators"], row["first_seens"], strict=True):
        known = originators.get(origin)
        if origin not in originators or (seen is not None and (known is None or seen < known)):
            originators[origin] = seen
    tlp = max((TLP_ORDER.index(t) if t in TLP_ORDER else len(TLP_ORDER) - 1) for t in row["tlps"])
    firsts = [t for t in row["first_seens"] if t is not None]
    lasts = [t for t in row["last_seens"] if t is not None]
    return Entity(
        id=str(row["canonical_id"]),
        schema=_schema(row["schemata"]),
        records=sorted(set(row["records"])),
        props=props,
        tlp=TLP_ORDER[tlp],
        handling=sorted(set(zip(row["handling_codes"], row["handling_notes"], strict=True)),
                        key=lambda h: (h[0], h[1] or "")),
        originators=originators,
        categories=sorted(set(row["categories"])),
        evaluations=sorted({e for e in row["evaluations"] if e}),
        first_seen=min(firsts, default=None),
        last_seen=max(lasts, default=None) or min(firsts, default=None),
    )  # fmt: skip


def canonical_entities(
    batches: Iterable[pa.RecordBatch], stored: Iterable[pa.RecordBatch] | None = None
) -> Iterator[Entity]:
    """Entities of a stream of the canonical export query's rows (one row per resolved entity); with ``stored``
    (``export.spooled_statements``: statement rows in the same order), each entity's statements become its
    ``lines``. Holds one entity's statements at a time."""
    statements = _stored_rows(stored) if stored is not None else None
    head: tuple[Any, StatementRow] | None = next(statements, None) if statements is not None else None
    for row in rows(batches):
        ent = entity(row)
        if statements is not None:
            mine: list[StatementRow] = []
            while head is not None and head[0] == ent.id:  # same order on both sides: equality is enough
                mine.append(head[1])
                head = next(statements, None)
            ent.lines = raw_lines(mine)
        yield ent


def _stored_rows(batches: Iterable[pa.RecordBatch]) -> Iterator[tuple[Any, StatementRow]]:
    """(canonical id, statement row) for each row of ``export.STORED_SCHEMA`` batches."""
    for batch in batches:
        canon = batch.column("canonical_id").to_pylist()
        fields = [batch.column(f).to_pylist() for f in STATEMENT_FIELDS]
        yield from zip(canon, zip(*fields, strict=True), strict=True)


def links(ent: Entity) -> list[tuple[str, str, str]]:
    """(source, target, label) for each link an entity makes: an edge schema's ends (Payment, Leg, Purchase...),
    else the entity to each entity it names (a Call to its caller and receiver, a Crossing to its vessel)."""
    schema = ent.schema
    if is_edge(ent) and schema.source_prop is not None and schema.target_prop is not None:
        label = schema.edge_label or schema.label
        return [
            (s, t, label)
            for s in ent.values(schema.source_prop.name)
            for t in ent.values(schema.target_prop.name)
            if s != t
        ]
    out: list[tuple[str, str, str]] = []
    for name, label in _entity_props(schema.name):
        out.extend((ent.id, v, label) for v in ent.values(name) if v != ent.id)
    return out


@cache
def _entity_props(schema: str) -> tuple[tuple[str, str], ...]:
    """A schema's entity-typed properties (name, label) in FtM's display order (sorting them costs more than
    everything else a link needs, so once per schema)."""
    found = model.get(schema)
    if found is None:
        return ()
    return tuple((p.name, p.label) for p in found.sorted_properties if p.type.name == "entity")


def is_edge(ent: Entity) -> bool:
    """Entities drawn as edges rather than nodes: FtM's edge schemata with both ends given (a Payment without
    its beneficiary is a node, linked to the payer it names)."""
    s = ent.schema
    if not (s.edge and s.source_prop is not None and s.target_prop is not None):
        return False
    return bool(ent.values(s.source_prop.name) and ent.values(s.target_prop.name))
