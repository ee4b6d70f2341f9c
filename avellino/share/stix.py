"""STIX 2.1 out: one bundle of resolved people and organisations, the links between them, and their markings.

What a bundle carries (and what it does not): every resolved legal entity (Person, Company, Organization...) is an
``identity`` (individual or organization); every link between two of them (an edge schema's ends such as a
Payment's payer and beneficiary, or the parties an entity names, such as a Call's caller and receiver or a
Crossing's organiser and pilot) is a ``related-to`` relationship. Vessels, vehicles, phones and the other things
FtM describes have no STIX object of their own: they appear as the links they make. Each object carries:

* TLP as the official TLP 2.0 marking definitions (their OASIS ids), the strictest of its statements;
* each handling code (with its note) as a marking definition of Avellino's handling extension, declared with an
  ``extension-definition`` object (so tools that do not know it can still see it is a marking);
* ``created``/``modified``: when its first and last statements were imported (not the export's time);
* ``created_by_ref``: the agency that reported it first; every agency whose statements are in the bundle is an
  ``identity``, and each object lists all its originators in Avellino's entity extension, with its FtM id,
  schema, records, data-subject categories, safeguarding flag and FtM properties.

STIX objects carry entity-level markings (the strictest of their statements) for STIX tools; beside them, each
identity, and the first relationship a link entity makes, carries its records' statements each with its own
markings in Avellino's statements extension (also declared by an ``extension-definition``), so ``avellino
ingest`` reads a bundle back statement for statement (``carried.py``, ``avellino/ingest/exchange.py``).
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import uuid
from collections.abc import Iterable
from typing import IO, Any

import pyarrow as pa

from avellino.model.markings import HANDLING_MEANING, HandlingCode
from avellino.share.carried import Carried, Either, encode
from avellino.share.entities import TLP_ORDER, Entity, canonical_entities, is_edge, links
from avellino.share.ftm_out import Written

#: TLP 2.0 marking definitions as published by OASIS (cti-stix-common-objects), with their extension.
TLP2_STIX = {
    "CLEAR": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "GREEN": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "AMBER": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "AMBER+STRICT": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "RED": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP2_CREATED = "2022-10-01T00:00:00.000Z"

#: Avellino's own STIX definitions: the same objects in every bundle, so their ids and dates are constants.
STIX_NAMESPACE = uuid.UUID("6c1d7a32-7a51-4f0a-9d1e-5b7f2f0f1a11")
AVELLINO_IDENTITY = "identity--8d0ec1c4-2b8a-4d3e-9a51-6f0b7c2d1e01"
HANDLING_EXTENSION = "extension-definition--3f5b8a7e-6c1d-4e2f-9a0b-1c2d3e4f5a61"
ENTITY_EXTENSION = "extension-definition--7a9c2e4b-5d6f-4a8b-9c0d-2e3f4a5b6c71"
STATEMENTS_EXTENSION = "extension-definition--b2d4f6a8-1c3e-4a5b-8d7f-9e0a1b2c3d81"
DEFINED = "2026-12-01T00:00:00.000Z"
DOCS = "https://github.com/avellino-osint/avellino/blob/main/docs/exports.md#stix-21"


def stix_time(when: dt.datetime | None) -> str:
    """STIX's timestamp form (UTC, milliseconds); stored times are UTC without a zone."""
    when = when or dt.datetime(1970, 1, 1)
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when.isoformat(timespec="milliseconds") + "Z"


def stix_id(kind: str, key: str) -> str:
    """A deterministic id: the same entity gets the same STIX id in every export (a new version, not a copy).
    Shaped as a UUIDv4 (the 122 bits of a name-based hash), as STIX asks of domain objects."""
    digest = uuid.uuid5(STIX_NAMESPACE, key).bytes
    return f"{kind}--{uuid.UUID(bytes=digest, version=4)}"


def agency_id(name: str) -> str:
    return stix_id("identity", f"agency:{name}")


def handling_id(code: str, note: str | None) -> str:
    return stix_id("marking-definition", f"handling:{code}:{note or ''}")


def definitions() -> list[dict[str, Any]]:
    """Avellino's identity and the two extension definitions every bundle declares."""
    common = {"spec_version": "2.1", "created": DEFINED, "modified": DEFINED, "created_by_ref": AVELLINO_IDENTITY}
    return [
        {"type": "identity", "spec_version": "2.1", "id": AVELLINO_IDENTITY, "created": DEFINED, "modified": DEFINED,
         "name": "Avellino", "identity_class": "system",
         "description": "Open-source intelligence platform for law-enforcement agencies against migrant smuggling"},
        {"type": "extension-definition", "id": HANDLING_EXTENSION, **common,
         "name": "Avellino handling code",
         "description": "Handling codes H0-H3 (with H3's restriction note) that the originating agency attached "
                        "to the facts of the marked objects, as marking definitions.",
         "schema": DOCS, "version": "1.0.0", "extension_types": ["property-extension"]},
        {"type": "extension-definition", "id": ENTITY_EXTENSION, **common,
         "name": "Avellino entity",
         "description": "The FollowTheMoney entity an object stands for: id, schema, records, originators, "
                        "data-subject categories, safeguarding flag and properties.",
         "schema": DOCS, "version": "1.0.0", "extension_types": ["property-extension"]},
        {"type": "extension-definition", "id": STATEMENTS_EXTENSION, **common,
         "name": "Avellino statements",
         "description": "The statements of the records an object stands for, as stored: one entry per record, "
                        "FtM schema and marking set (id, schema, properties, and every marking: originator, "
                        "handling code and note, TLP, evaluation, data-subject category, retention review), "
                        "so that Avellino imports the bundle back statement for statement.",
         "schema": DOCS, "version": "1.0.0", "extension_types": ["property-extension"]},
    ]  # fmt: skip


def tlp_definition(tlp: str) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP2_STIX[tlp],
        "created": TLP2_CREATED,
        "name": f"TLP:{tlp}",
        "extensions": {TLP2_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": tlp.lower()}},
    }


def handling_definition(code: str, note: str | None) -> dict[str, Any]:
    ext: dict[str, Any] = {"extension_type": "property-extension", "handling_code": code,
                           "meaning": HANDLING_MEANING[HandlingCode(code)]}  # fmt: skip
    if note:
        ext["handling_note"] = note
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": handling_id(code, note),
        "created": DEFINED,
        "created_by_ref": AVELLINO_IDENTITY,
        "name": f"Handling {code}" + (f": {note}" if note else ""),
        "extensions": {HANDLING_EXTENSION: ext},
    }


class _Bundle:
    """Writes ``{"type": "bundle", "id": ..., "objects": [...]}`` one object at a time."""

    def __init__(self, out: IO[str]):
        self.out = out
        self.count = 0
        out.write(f'{{"type": "bundle", "id": "bundle--{uuid.uuid4()}", "objects": [\n')

    def add(self, obj: dict[str, Any]) -> None:
        self.out.write((",\n" if self.count else "") + json.dumps(obj, ensure_ascii=False))
        self.count += 1

    def close(self) -> None:
        self.out.write("\n]}\n")


def write_stix(batches: Iterable[pa.RecordBatch], out: IO[str], carried_by: Carried) -> Written:
    """A STIX 2.1 bundle from statements ordered by canonical id (references already canonical).

    Three passes, the last two over a temporary file: the entities arrive (identities known, everything spooled),
    then which link entities make a relationship (both ends identities), then the objects, each carrying the
    statements of its records with references kept only to entities the bundle carries (``carried.py``)."""
    bundle = _Bundle(out)
    done = Written()
    identities: set[str] = set()
    agencies: dict[str, list[dt.datetime | None]] = {}
    tlps: set[str] = set()
    handling: set[tuple[str, str | None]] = set()
    with tempfile.TemporaryFile("w+", encoding="utf-8") as pending:
        for ent in canonical_entities(batches, carried_by.stored):
            for name, seen in ent.originators.items():
                span = agencies.setdefault(name, [seen, seen])
                if seen is not None:
                    span[0] = seen if span[0] is None else min(span[0], seen)
                    span[1] = seen if span[1] is None else max(span[1], seen)
            identity = ent.schema.is_a("LegalEntity")
            found = links(ent)
            if not (identity or found):
                continue  # no STIX object of its own and no link: not in the bundle
            obj = None
            if identity:
                identities.add(ent.id)
                obj = {"type": "identity", "id": stix_id("identity", ent.id), "name": ent.caption,
                       "identity_class": "individual" if ent.schema.is_a("Person") else "organization",
                       **_common(ent, props=True)}  # fmt: skip
            common = _common(ent, props=False)
            pending.write(json.dumps([ent.id, obj, is_edge(ent), found, common, ent.tlp, ent.lines]) + "\n")
        linking: set[str] = set()  # entities that are only links, with a relationship in the bundle
        carried = Either(identities, linking)
        pending.seek(0)
        for line in pending:
            ent_id, obj, edge, found, *_rest = json.loads(line)
            if obj is None and _pairs(ent_id, edge, found, identities):
                linking.add(ent_id)
        pending.seek(0)
        for line in pending:
            ent_id, obj, edge, found, common, tlp, lines = json.loads(line)
            statements, count = encode(lines, carried, carried_by.markings) if ent_id in carried else ([], 0)
            if obj is not None:
                obj["extensions"][STATEMENTS_EXTENSION] = _statements(statements)
                bundle.add(obj)
                done.entities += 1
                done.statements += count
                tlps.add(tlp)
                handling.update((c, n) for c, n in obj["extensions"][ENTITY_EXTENSION]["handling"])
            pairs = _pairs(ent_id, edge, found, identities)
            for i, (src, tgt, label) in enumerate(pairs):
                rel = {"type": "relationship", "id": stix_id("relationship", f"{ent_id}|{src}|{tgt}"),
                       "relationship_type": "related-to", "description": label,
                       "source_ref": stix_id("identity", src), "target_ref": stix_id("identity", tgt),
                       **common}  # fmt: skip
                if i == 0 and obj is None:  # a link entity's statements go with its first relationship
                    rel["extensions"] = {**common["extensions"], STATEMENTS_EXTENSION: _statements(statements)}
                    done.statements += count
                bundle.add(rel)
                done.links += 1
            if pairs:
                tlps.add(tlp)
                handling.update((c, n) for c, n in common["extensions"][ENTITY_EXTENSION]["handling"])
    for obj in definitions():
        bundle.add(obj)
    for name, (first, last) in sorted(agencies.items(), key=lambda a: a[0]):
        bundle.add({"type": "identity", "spec_version": "2.1", "id": agency_id(name), "created": stix_time(first),
                    "modified": stix_time(last or first), "created_by_ref": AVELLINO_IDENTITY, "name": name,
                    "identity_class": "organization", "sectors": ["government-national"]})  # fmt: skip
    for tlp in TLP_ORDER:
        if tlp in tlps:
            bundle.add(tlp_definition(tlp))
    for code, note in sorted(handling, key=lambda h: (h[0], h[1] or "")):
        bundle.add(handling_definition(code, note))
    bundle.close()
    done.items = bundle.count
    return done


def _statements(lines: list[dict[str, Any]]) -> dict[str, Any]:
    return {"extension_type": "property-extension", "statements": lines}


def _pairs(ent_id: str, edge: bool, found: list[list[str]], identities: set[str]) -> list[tuple[str, str, str]]:
    """The relationships of one entity among the identities written: an edge's ends, else its first party to
    each other party (a Call's caller to its receiver), or itself to each when it is an identity."""
    if edge:
        return [(s, t, label) for s, t, label in found if s in identities and t in identities]
    parties = [(t, label) for _s, t, label in found if t in identities]
    if ent_id in identities:
        return [(ent_id, t, label) for t, label in parties]
    if len(parties) < 2:
        return []
    (first, first_label), rest = parties[0], parties[1:]
    return [(first, t, f"{first_label} / {label}") for t, label in rest if t != first]


def _common(ent: Entity, props: bool) -> dict[str, Any]:
    """The properties every object of an entity carries: version times, creator, markings, the extension."""
    ext: dict[str, Any] = {
        "extension_type": "property-extension",
        "ftm_id": ent.id,
        "ftm_schema": ent.schema.name,
        "records": ent.records,
        "originators": sorted(ent.originators),
        "subject_categories": ent.categories,
        "safeguarding": ent.protected,
        "handling": [[c, n] for c, n in ent.handling],
    }
    if ent.evaluations:
        ext["evaluations"] = ent.evaluations
    if props:
        ext["properties"] = {p: sorted(v) for p, v in sorted(ent.props.items())}
    return {
        "spec_version": "2.1",
        "created": stix_time(ent.first_seen),
        "modified": stix_time(ent.last_seen or ent.first_seen),
        "created_by_ref": agency_id(ent.creator),
        "object_marking_refs": [TLP2_STIX[ent.tlp], *(handling_id(c, n) for c, n in ent.handling)],
        "extensions": {ENTITY_EXTENSION: ext},
    }
