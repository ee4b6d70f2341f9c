"""The statements a STIX, GraphML or GEXF export carries beside its friendly objects, so it imports back exactly.

STIX objects and graph nodes show a resolved entity with the strictest markings of its statements: good for
analysts' tools, but lossy. So each object or node also carries its records' statements as they are stored, in
the shape of the FtM export's lines (``ftm_out.py``): one line per record, schema and marking set,
``{"id", "schema", "properties", "markings"}``, every marking field given (``null`` where the statement has
none: a handling note, a retention review), references naming records. ``avellino ingest`` reads them back
(``avellino/ingest/exchange.py``) and gets the same statements with the same markings.

A reference is carried only when the entity it names is carried in the same file (an identity or relationship
of the STIX bundle, a node or edge of the graph): a vessel that STIX does not show, or a protected person left
out of a graph file sent to a partner, takes the references to it along, so an import never points at a record
it was not given. The export query gives each reference's resolved id (``st_target``) for that check.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from avellino.store.schema import BASE_PROP, MARKING_FIELDS

#: An export's statement rows (``export.ENTITY_SCHEMA``): each statement as stored, beside the entity rows.
STATEMENT_FIELDS = ("st_record", "st_schema", "st_prop", "st_value", "st_target", "st_mark")
#: One statement row: record, schema, property, value, the resolved id a reference names (else None), marking id.
StatementRow = tuple[Any, ...]
#: A line's markings, by marking id (``export.marking_sets``): every field, None where the set has none.
MarkingTable = Mapping[str, dict[str, str | None]]
#: One line before references are checked: id, schema, marking id, and per property [value, target or None].
RawLine = list[Any]


def marking_table(table: pa.Table) -> dict[str, dict[str, str | None]]:
    """Marking id -> its fields as text (the retention review as ``YYYY-MM-DD``), from ``export.marking_sets``."""
    out: dict[str, dict[str, str | None]] = {}
    for row in table.to_pylist():
        fields: dict[str, str | None] = {}
        for name in MARKING_FIELDS:
            value = row[name]
            fields[name] = value.isoformat() if isinstance(value, dt.date) else (None if value is None else str(value))
        out[str(row["marking_id"])] = fields
    return out


def raw_lines(statements: Iterable[StatementRow]) -> list[RawLine]:
    """An entity's statements grouped into lines: ``[record, schema, marking id, {prop: [[value, target]]}]``,
    ordered by record, schema and marking id."""
    lines: dict[tuple[str, str, str], RawLine] = {}
    for record, schema, prop, value, target, mark in statements:
        key = (record, schema, mark)
        line = lines.get(key)
        if line is None:
            line = lines[key] = [record, schema, mark, {}]
        if prop != BASE_PROP and value is not None:
            line[3].setdefault(prop, []).append([value, target])
    return [lines[k] for k in sorted(lines)]


@dataclass
class Carried:
    """What a STIX or graph writer needs for the statements it carries: the fields of each marking id, and the
    statement rows (``export.STORED_SCHEMA``), ordered by canonical id like the entity rows."""

    markings: MarkingTable
    stored: Iterable[pa.RecordBatch]


class Either:
    """Ids in either of two sets, without copying them into a third (a million ids is ~100 MB)."""

    def __init__(self, first: Container[str], second: Container[str]):
        self.first, self.second = first, second

    def __contains__(self, item: object) -> bool:
        return item in self.first or item in self.second


def encode(
    lines: Iterable[RawLine], carried: Container[str], markings: MarkingTable
) -> tuple[list[dict[str, Any]], int]:
    """The lines as written into a file, with the statements they hold: a reference whose resolved target is not
    ``carried`` is left out (its line stays: the record's other statements are still there)."""
    out: list[dict[str, Any]] = []
    count = 0
    for record, schema, mark, props in lines:
        properties: dict[str, list[str]] = {}
        for prop, values in props.items():
            kept = [v for v, target in values if target is None or target in carried]
            if kept:
                properties[prop] = sorted(kept)
                count += len(kept)
        out.append({"id": record, "schema": schema, "properties": properties, "markings": dict(markings[mark])})
        count += 1  # the record's id statement
    return out, count


def compact(lines: list[dict[str, Any]]) -> str:
    """Lines as one compact JSON text (a graph attribute)."""
    return json.dumps(lines, ensure_ascii=False, separators=(",", ":"))
