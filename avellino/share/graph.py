"""GraphML and GEXF out: the resolved entities as nodes, the links between them as edges, each with markings.

Nodes are resolved entities (one per canonical id; references were rewritten through the canonical map by the
export query, so links survive ``resolve run``); FtM's edge schemata (Payment, Leg, Purchase, Ownership...) are
edges between their ends, and every other entity links to the entities it names (a Call to its caller and
receiver, a Crossing to its vessel and pilot). Every node and edge carries its markings: the strictest TLP, its
handling codes (and notes), originators, records; nodes also carry their data-subject categories as
``network/protect.py`` presents them (a protected person is never written with an offender category),
``protected`` and the ``safeguarding`` reason, which ``avellino network`` reads back from the file.

A graph file for a partner (``sent_out``) never holds a protected person: victims, witnesses, informants and
the migrant pilots ``network build`` flagged are left out with every edge that touches them.

Every node, and the first edge of each edge entity, also carries its records' statements as stored, each with
its own markings, as compact JSON in its ``statements`` attribute (``carried.py``): Gephi and yEd show it as one
more text column, and ``avellino ingest`` reads the file back statement for statement
(``avellino/ingest/exchange.py``).

Both writers stream: the entities arrive ordered by canonical id and are spooled to a temporary file, which is
read again to learn which edges have both ends written, then to write nodes and edges (GEXF lists all nodes
before any edge); memory holds the ids of the nodes and carried entities, not the entities.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

import pyarrow as pa

from avellino.network.protect import CATEGORY_REASON, Protection, presented_categories
from avellino.share.carried import Carried, Either, compact, encode
from avellino.share.entities import Entity, canonical_entities, is_edge, links
from avellino.share.ftm_out import Written

NODE_KEYS = ("label", "schema", "categories", "protected", "safeguarding", "tlp", "handling_code", "handling_note",
             "originators", "records", "first_seen", "last_seen", "statements")  # fmt: skip
EDGE_KEYS = ("label", "schema", "entity", "tlp", "handling_code", "handling_note", "originators", "statements")
BOOLEAN = {"protected"}


def _marks(ent: Entity) -> dict[str, Any]:
    return {
        "tlp": ent.tlp,
        "handling_code": ";".join(ent.handling_codes),
        "handling_note": ";".join(sorted({n for _c, n in ent.handling if n})),
        "originators": ";".join(sorted(ent.originators)),
    }


def node_data(ent: Entity, protection: Protection) -> dict[str, Any]:
    reason = protection.reason(ent.id) or (CATEGORY_REASON if ent.protected else "")
    return {
        "label": ent.caption,
        "schema": ent.schema.name,
        "categories": presented_categories(";".join(ent.categories), bool(reason)),
        "protected": bool(reason),
        "safeguarding": reason,
        **_marks(ent),
        "records": ";".join(ent.records),
        "first_seen": ent.first_seen.isoformat() if ent.first_seen else "",
        "last_seen": ent.last_seen.isoformat() if ent.last_seen else "",
    }


class _Writer:
    """What GraphML and GEXF share: which entities become nodes and edges, and the statements each carries.

    Three passes, the last two over a temporary file: the entities arrive (nodes known, everything spooled), then
    which edge entities have an edge whose two ends are nodes, then the nodes and edges, each node carrying its
    records' statements and each edge entity's first edge its own, references kept only to what the file
    carries (``carried.py``)."""

    def __init__(self, out: IO[str], carried: Carried, protection: Protection, sent_out: bool):
        self.out = out
        self.markings = carried.markings
        self.stored = carried.stored
        self.protection = protection
        self.sent_out = sent_out
        self.nodes: set[str] = set()
        self.done = Written()

    def run(self, batches: Iterable[pa.RecordBatch]) -> Written:
        with tempfile.TemporaryFile("w+", encoding="utf-8") as pending:
            for ent in canonical_entities(batches, self.stored):
                edge = is_edge(ent)
                if not edge:
                    data = node_data(ent, self.protection)
                    if self.sent_out and data["protected"]:
                        continue  # never in a graph file sent out; its edges go with it
                    self.nodes.add(ent.id)
                    pending.write(json.dumps(["n", ent.id, data, ent.lines]) + "\n")
                for i, (src, tgt, label) in enumerate(links(ent)):
                    data = {"label": label, "schema": ent.schema.name, "entity": ent.id, **_marks(ent)}
                    pending.write(json.dumps(["e", src, tgt, data, ent.lines if edge and i == 0 else None]) + "\n")
            edges: set[str] = set()
            carried = Either(self.nodes, edges)
            pending.seek(0)
            for line in pending:
                kind, src, tgt, data, *_more = json.loads(line)  # a node's: kind, id, data, lines
                if kind == "e" and src in self.nodes and tgt in self.nodes:
                    edges.add(data["entity"])  # an edge entity whose edge is written (a node's is there already)
            self.head()
            pending.seek(0)
            for line in pending:
                record = json.loads(line)
                if record[0] == "n":
                    _kind, node_id, data, lines = record
                    statements, count = encode(lines, carried, self.markings)
                    self.node(node_id, {**data, "statements": compact(statements)})
                    self.done.entities += 1
                    self.done.statements += count
            self.between()
            pending.seek(0)
            held: tuple[str, Any] | None = None  # an edge entity's statements, until its first edge is written
            for line in pending:
                kind, src, tgt, data, *more = json.loads(line)
                if kind != "e":
                    continue
                if more[0] is not None:
                    held = (data["entity"], more[0])
                if not (src in self.nodes and tgt in self.nodes):
                    continue
                if held is not None and held[0] == data["entity"]:
                    statements, count = encode(held[1], carried, self.markings)
                    data = {**data, "statements": compact(statements)}
                    self.done.statements += count
                    held = None
                self.edge(self.done.links, src, tgt, data)
                self.done.links += 1
        self.tail()
        self.done.items = self.done.entities + self.done.links
        return self.done

    def head(self) -> None: ...
    def node(self, node_id: str, data: dict[str, Any]) -> None: ...
    def between(self) -> None: ...
    def edge(self, index: int, src: str, tgt: str, data: dict[str, Any]) -> None: ...
    def tail(self) -> None: ...


def _text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


class GraphML(_Writer):
    def head(self) -> None:
        w = self.out.write
        w('<?xml version="1.0" encoding="UTF-8"?>\n<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n')
        for key in NODE_KEYS:
            kind = "boolean" if key in BOOLEAN else "string"
            w(f'  <key id="n_{key}" for="node" attr.name="{key}" attr.type="{kind}"/>\n')
        for key in EDGE_KEYS:
            w(f'  <key id="e_{key}" for="edge" attr.name="{key}" attr.type="string"/>\n')
        w('  <graph id="avellino" edgedefault="directed">\n')

    def node(self, node_id: str, data: dict[str, Any]) -> None:
        cells = "".join(f'<data key="n_{k}">{escape(_text(v))}</data>' for k, v in data.items() if v != "")
        self.out.write(f"    <node id={quoteattr(node_id)}>{cells}</node>\n")

    def edge(self, index: int, src: str, tgt: str, data: dict[str, Any]) -> None:
        cells = "".join(f'<data key="e_{k}">{escape(_text(v))}</data>' for k, v in data.items() if v != "")
        self.out.write(f'    <edge id="e{index}" source={quoteattr(src)} target={quoteattr(tgt)}>{cells}</edge>\n')

    def tail(self) -> None:
        self.out.write("  </graph>\n</graphml>\n")


class GEXF(_Writer):
    """GEXF 1.3 (Gephi): node ids are the canonical ids, the caption the label."""

    def head(self) -> None:
        w = self.out.write
        w('<?xml version="1.0" encoding="UTF-8"?>\n<gexf xmlns="http://gexf.net/1.3" version="1.3">\n')
        w('  <meta><creator>Avellino</creator></meta>\n  <graph defaultedgetype="directed" mode="static">\n')
        w('    <attributes class="node" mode="static">\n')
        for i, key in enumerate(k for k in NODE_KEYS if k != "label"):
            kind = "boolean" if key in BOOLEAN else "string"
            w(f'      <attribute id="{i}" title="{key}" type="{kind}"/>\n')
        w('    </attributes>\n    <attributes class="edge" mode="static">\n')
        for i, key in enumerate(EDGE_KEYS):
            w(f'      <attribute id="{i}" title="{key}" type="string"/>\n')
        w("    </attributes>\n    <nodes>\n")

    def node(self, node_id: str, data: dict[str, Any]) -> None:
        keys = [k for k in NODE_KEYS if k != "label"]
        values = "".join(
            f'<attvalue for="{i}" value={quoteattr(_text(data[k]))}/>'
            for i, k in enumerate(keys)
            if data.get(k, "") != ""
        )
        label = quoteattr(str(data["label"]))
        self.out.write(f"      <node id={quoteattr(node_id)} label={label}><attvalues>{values}</attvalues></node>\n")

    def between(self) -> None:
        self.out.write("    </nodes>\n    <edges>\n")

    def edge(self, index: int, src: str, tgt: str, data: dict[str, Any]) -> None:
        values = "".join(
            f'<attvalue for="{i}" value={quoteattr(_text(data[k]))}/>'
            for i, k in enumerate(EDGE_KEYS)
            if data.get(k, "") != ""
        )
        ends = f"source={quoteattr(src)} target={quoteattr(tgt)} label={quoteattr(data['label'])}"
        self.out.write(f'      <edge id="{index}" {ends}><attvalues>{values}</attvalues></edge>\n')

    def tail(self) -> None:
        self.out.write("    </edges>\n  </graph>\n</gexf>\n")


def write_graph(
    batches: Iterable[pa.RecordBatch], fmt: str, out: IO[str], carried: Carried,
    protection: Protection | None = None, sent_out: bool = False,
) -> Written:  # fmt: skip
    """GraphML (``fmt="graphml"``) or GEXF (``"gexf"``) from statements ordered by canonical id."""
    writer = GraphML if fmt == "graphml" else GEXF
    return writer(out, carried, protection or Protection(), sent_out).run(batches)
