"""Exports: FtM JSON lines, STIX 2.1 bundles (with TLP 2.0 markings) and GraphML, all carrying markings.

An exported entity carries the most restrictive markings of its statements: the highest handling code, the
strictest TLP, every originator, and a safeguarding flag when any statement marks it as a protected person.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from followthemoney import registry
from followthemoney.graph import Graph
from followthemoney.statement import StatementEntity

from avellino.errors import ConfigError
from avellino.model.markings import PROTECTED_CATEGORIES
from avellino.store.base import Store, assemble_entities

HANDLING_ORDER = ["H0", "H1", "H2", "H3"]
TLP_ORDER = ["CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED"]
#: TLP 2.0 marking definitions as published with the OASIS TLP 2.0 STIX extension.
TLP2_STIX = {
    "CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
STIX_NAMESPACE = uuid.UUID("6c1d7a32-7a51-4f0a-9d1e-5b7f2f0f1a11")


def entity_markings(rows: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per canonical id: originators, strictest handling code and TLP, categories, safeguarding flag."""
    acc: dict[str, dict[str, Any]] = defaultdict(
        lambda: {"originators": set(), "handling": "H0", "tlp": "CLEAR", "categories": set(), "notes": set()}
    )
    for row in rows:
        m = acc[str(row["canonical_id"])]
        m["originators"].add(row["originator"])
        if HANDLING_ORDER.index(row["handling_code"]) > HANDLING_ORDER.index(m["handling"]):
            m["handling"] = row["handling_code"]
        if TLP_ORDER.index(row["tlp"]) > TLP_ORDER.index(m["tlp"]):
            m["tlp"] = row["tlp"]
        m["categories"].add(row["subject_category"])
        if row.get("handling_note"):
            m["notes"].add(row["handling_note"])
    protected = {c.value for c in PROTECTED_CATEGORIES}
    return {
        cid: {
            "originators": sorted(m["originators"]),
            "handling_code": m["handling"],
            "handling_notes": sorted(m["notes"]),
            "tlp": m["tlp"],
            "subject_categories": sorted(m["categories"]),
            "safeguarding": bool(m["categories"] & protected),
        }
        for cid, m in acc.items()
    }


def export_entities(store: Store, out: IO[str], fmt: str, schemata: list[str] | None, markings: bool) -> int:
    table = store.read_statements(schemata=schemata)
    rows = table.to_pylist()
    marks = entity_markings(rows) if markings else {}
    entities = list(assemble_entities(rows))
    if fmt == "ftm":
        return write_ftm(entities, marks, out)
    if fmt == "stix":
        return write_stix(entities, marks, out)
    if fmt == "graphml":
        return write_graphml(entities, marks, out)
    raise ConfigError(f"unknown export format {fmt!r}: use ftm, stix or graphml")


def write_ftm(entities: list[StatementEntity], marks: dict[str, dict[str, Any]], out: IO[str]) -> int:
    for ent in entities:
        data = {"id": ent.id, "schema": ent.schema.name, "properties": ent.properties}
        if ent.id in marks:
            data["avellino:markings"] = marks[ent.id]
        out.write(json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n")
    return len(entities)


def _stix_id(kind: str, entity_id: str) -> str:
    return f"{kind}--{uuid.uuid5(STIX_NAMESPACE, entity_id)}"


def write_stix(entities: list[StatementEntity], marks: dict[str, dict[str, Any]], out: IO[str]) -> int:
    """A STIX 2.1 bundle: legal entities as ``identity``, edges (calls, payments...) as ``relationship``."""
    now = "2026-01-01T00:00:00.000Z"
    objects: list[dict[str, Any]] = []
    used_tlp: set[str] = set()
    agencies: dict[str, str] = {}
    ids: dict[str, str] = {}

    def common(ent: StatementEntity) -> dict[str, Any]:
        m = marks.get(str(ent.id), {})
        tlp = m.get("tlp", "AMBER")
        used_tlp.add(tlp)
        orig = (m.get("originators") or ["unknown"])[0]
        agencies.setdefault(orig, _stix_id("identity", f"agency:{orig}"))
        return {
            "spec_version": "2.1",
            "created": now,
            "modified": now,
            "created_by_ref": agencies[orig],
            "object_marking_refs": [TLP2_STIX[tlp]],
            "x_avellino_handling_code": m.get("handling_code"),
            "x_avellino_safeguarding": m.get("safeguarding", False),
            "x_avellino_ftm_schema": ent.schema.name,
            "x_avellino_ftm_id": ent.id,
        }

    for ent in entities:
        if ent.schema.is_a("LegalEntity"):
            sid = _stix_id("identity", str(ent.id))
            ids[str(ent.id)] = sid
            cls = "individual" if ent.schema.is_a("Person") else "organization"
            objects.append({"type": "identity", "id": sid, "name": ent.caption, "identity_class": cls, **common(ent)})
    for ent in entities:
        for src, tgt in _links(ent, ids):
            objects.append(
                {
                    "type": "relationship",
                    "id": _stix_id("relationship", f"{ent.id}:{src}:{tgt}"),
                    "relationship_type": "related-to",
                    "description": ent.schema.edge_label or ent.schema.label,
                    "source_ref": ids[src],
                    "target_ref": ids[tgt],
                    **common(ent),
                }
            )
    head: list[dict[str, Any]] = [
        {
            "type": "identity",
            "spec_version": "2.1",
            "id": sid,
            "created": now,
            "modified": now,
            "name": name,
            "identity_class": "organization",
        }
        for name, sid in sorted(agencies.items())
    ]
    head += [
        {
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": TLP2_STIX[t],
            "created": "2022-10-01T00:00:00.000Z",
            "name": f"TLP:{t}",
            "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": t.lower()}},
        }
        for t in TLP_ORDER
        if t in used_tlp
    ]
    bundle = {"type": "bundle", "id": _stix_id("bundle", "avellino"), "objects": head + objects}
    json.dump(bundle, out, ensure_ascii=False, indent=1)
    out.write("\n")
    return len(objects)


def _links(ent: StatementEntity, ids: dict[str, str]) -> list[tuple[str, str]]:
    """Pairs of legal entities an entity links: its edge ends (Payment, Purchase...), else its first party to each
    other party (a Call's caller to its receiver, a Crossing's organiser to its pilot)."""
    if ent.schema.is_a("LegalEntity"):
        return []
    if ent.schema.edge and ent.schema.source_prop and ent.schema.target_prop:
        return [
            (s, t)
            for s in ent.get(ent.schema.source_prop)
            for t in ent.get(ent.schema.target_prop)
            if s in ids and t in ids
        ]
    refs: list[str] = []
    for prop in ent.schema.sorted_properties:
        if prop.type == registry.entity:
            refs.extend(v for v in ent.get(prop) if v in ids and v not in refs)
    return [(refs[0], other) for other in refs[1:]]


def write_graphml(entities: list[StatementEntity], marks: dict[str, dict[str, Any]], out: IO[str]) -> int:
    """GraphML for Gephi/yEd/i2-style tools: entities as nodes, edge schemata and entity links as edges."""
    graph = Graph(edge_types=[registry.entity])
    for ent in entities:
        graph.add(ent)
    keys = [("label", "node"), ("schema", "node"), ("handling_code", "node"), ("tlp", "node"),
            ("safeguarding", "node"), ("label", "edge"), ("schema", "edge")]  # fmt: skip
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write('<graphml xmlns="http://graphml.graphdrawing.org/xmlns">\n')
    for name, target in keys:
        out.write(f'  <key id="{target[0]}_{name}" for="{target}" attr.name="{name}" attr.type="string"/>\n')
    out.write('  <graph id="avellino" edgedefault="directed">\n')
    nodes = 0
    for node in graph.iternodes():
        if node.proxy is None:
            continue
        m = marks.get(str(node.id), {})
        data = {"label": node.caption, "schema": node.schema.name if node.schema else "",
                "handling_code": m.get("handling_code", ""), "tlp": m.get("tlp", ""),
                "safeguarding": str(m.get("safeguarding", False)).lower()}  # fmt: skip
        cells = "".join(f'<data key="n_{k}">{escape(str(v))}</data>' for k, v in data.items())
        out.write(f"    <node id={quoteattr(str(node.id))}>{cells}</node>\n")
        nodes += 1
    for idx, edge in enumerate(graph.iteredges()):
        if edge.source is None or edge.target is None or edge.source.proxy is None or edge.target.proxy is None:
            continue
        label = edge.type_name
        schema = edge.proxy.schema.name if edge.proxy is not None else edge.prop.schema.name if edge.prop else ""
        out.write(
            f'    <edge id="e{idx}" source={quoteattr(str(edge.source_id))} target={quoteattr(str(edge.target_id))}>'
            f'<data key="e_label">{escape(label)}</data><data key="e_schema">{escape(schema)}</data></edge>\n'
        )
    out.write("  </graph>\n</graphml>\n")
    return nodes
