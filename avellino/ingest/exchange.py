"""STIX 2.1 bundles, GraphML and GEXF written by ``avellino export``, read back into FtM lines for ingest.

Those exports show resolved entities with the strictest markings of their statements, and beside that carry the
statements themselves (``avellino/share/carried.py``): STIX objects in Avellino's statements extension, graph
nodes and edges in their ``statements`` attribute, as ``{"id", "schema", "properties", "markings"}`` lines.
This module finds those lines and writes them as FtM JSON lines with their markings, which the FtM reader
(``ftm.py``, strict: no mapping, no default) imports as one atomic batch; the friendly objects are not read.

The policy is not weakened on the way in: every line must give every marking field (``null`` only for a handling
note or a retention review the statement does not have); a line without them is an error naming the file, the
object or node and the field, and nothing is imported. Ids keep their originators' namespaces (``ids.py``).

Streaming: GraphML and GEXF are read with ``iterparse``, each node or edge dropped once read; a STIX bundle is one
JSON document, read object by object with ``ijson``. Memory holds one object (or node) at a time, whatever the
file's size; the FtM lines go to a temporary file, and a second one keeps where each line came from, so that a
problem the FtM reader finds is named by object id and field.
"""

from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from avellino.errors import InputRejected, RowProblem, UnreadableFile
from avellino.ingest.ftm import MARKINGS_KEY
from avellino.ingest.mapping import Mapping
from avellino.store.schema import MARKING_FIELDS

#: Format -> what it is, for messages.
FORMATS = {"stix": "STIX 2.1 bundle", "graphml": "GraphML file", "gexf": "GEXF file"}
#: The STIX extension that carries the statements (``avellino/share/stix.py`` declares it).
STATEMENTS_EXTENSION = "extension-definition--b2d4f6a8-1c3e-4a5b-8d7f-9e0a1b2c3d81"
#: The graph attribute that carries them.
STATEMENTS_ATTRIBUTE = "statements"
#: Marking fields a line may give as null: a statement without a note or a review date has none.
OPTIONAL_MARKS = frozenset({"handling_note", "retention_review"})
#: What identifies this way of reading in a batch (file checksum + this): re-importing a file does nothing.
READER_VERSION = "avellino exchange import 1"
MAX_PROBLEMS = 10_000
_BUNDLE = re.compile(rb'^\s*\{[^\[]*?"type"\s*:\s*"bundle"', re.DOTALL)
_GRAPHML = "http://graphml.graphdrawing.org/xmlns"


def detect(path: Path, sniff_json: bool = True) -> str | None:
    """``stix``, ``graphml`` or ``gexf`` when the file is one of these by its name (``.stix.json``, ``.graphml``,
    ``.gexf``), or, for a ``.json`` file when ``sniff_json``, by its start (a JSON object whose ``type`` is
    ``bundle`` before any list); else None."""
    name = path.name.lower()
    if name.endswith(".graphml"):
        return "graphml"
    if name.endswith(".gexf"):
        return "gexf"
    if name.endswith(".stix.json"):
        return "stix"
    if sniff_json and name.endswith(".json") and path.is_file():
        with path.open("rb") as fh:
            head = fh.read(4096)
        return "stix" if _BUNDLE.match(head.removeprefix(b"\xef\xbb\xbf")) else None
    return None


def exchange_mapping(path: Path, fmt: str) -> Mapping:
    """The mapping such a file is read with: FtM lines, no markings of its own (nothing to fill in)."""
    digest = hashlib.sha256(f"{READER_VERSION}:{fmt}".encode()).hexdigest()
    return Mapping(path=path, sha256=digest, format="ftm", options={}, country=None, markings={}, entities=())


@dataclass(frozen=True)
class Carrier:
    """An object, node or edge that carries statements: its place in the file (1-based), its name, the value."""

    ordinal: int
    name: str
    value: Any


def carriers(path: Path, fmt: str) -> Iterator[Carrier]:
    """Each object, node or edge of the file that carries statements, in file order; UnreadableFile for a file
    that is not well-formed JSON or XML."""
    if fmt == "stix":
        yield from _stix(path)
    else:
        yield from _graph(path, fmt)


def _stix(path: Path) -> Iterator[Carrier]:
    import ijson

    with path.open("rb") as fh:
        try:
            for i, obj in enumerate(ijson.items(fh, "objects.item", use_float=True), start=1):
                if not isinstance(obj, dict):
                    raise UnreadableFile(str(path), f"object {i} of the bundle is not a JSON object")
                ext = (obj.get("extensions") or {}) if isinstance(obj.get("extensions"), dict) else {}
                if STATEMENTS_EXTENSION in ext:
                    name = f"{obj.get('type', '?')} {obj.get('id', '(no id)')}"
                    carried = ext[STATEMENTS_EXTENSION]
                    value = carried.get("statements") if isinstance(carried, dict) else carried
                    yield Carrier(i, name, value)
        except ijson.JSONError as exc:
            raise UnreadableFile(str(path), f"not a readable STIX bundle (JSON: {exc})") from exc


def _graph(path: Path, fmt: str) -> Iterator[Carrier]:
    """Nodes and edges of a GraphML or GEXF file with their ``statements`` value (JSON text), read with
    ``iterparse``; each is removed from the tree once read, so memory stays flat."""
    keys: dict[str, str] = {}  # GraphML key id / GEXF attribute id (per class) -> attribute name
    stack: list[ET.Element] = []
    ordinal = 0
    try:
        for event, elem in ET.iterparse(path, events=("start", "end")):
            if event == "start":
                stack.append(elem)
                continue
            stack.pop()
            tag = elem.tag.rpartition("}")[2]
            if tag == "key" and fmt == "graphml":
                keys[f"{elem.get('for')}:{elem.get('id')}"] = str(elem.get("attr.name"))
            elif tag == "attribute" and fmt == "gexf" and stack:
                keys[f"{stack[-1].get('class')}:{elem.get('id')}"] = str(elem.get("title"))
            elif tag in {"node", "edge"}:
                ordinal += 1
                value = _graph_value(elem, tag, fmt, keys)
                if value is not None:
                    yield Carrier(ordinal, f"{tag} {elem.get('id')}", value)
                if stack:
                    stack[-1].remove(elem)
    except ET.ParseError as exc:
        line, column = exc.position
        raise UnreadableFile(str(path), f"not well-formed XML ({fmt}: line {line}, column {column})") from exc


def _graph_value(elem: ET.Element, tag: str, fmt: str, keys: dict[str, str]) -> str | None:
    if fmt == "graphml":
        for data in elem.findall(f"{{{_GRAPHML}}}data") + elem.findall("data"):
            if keys.get(f"{tag}:{data.get('key')}") == STATEMENTS_ATTRIBUTE:
                return data.text or ""
        return None
    for value in elem.iter():
        if value.tag.rpartition("}")[2] == "attvalue" and keys.get(f"{tag}:{value.get('for')}") == STATEMENTS_ATTRIBUTE:
            return value.get("value") or ""
    return None


def write_lines(path: Path, fmt: str, lines: IO[str], where: IO[str]) -> int:
    """Write the file's statements as FtM JSON lines to ``lines`` (and each line's origin, ``ordinal<TAB>name
    <TAB>index``, to ``where``); return how many. Raises InputRejected listing every line that is not a whole
    statement with every marking, and UnreadableFile for a file that carries none."""
    count = 0
    problems: list[RowProblem] = []
    for carrier in carriers(path, fmt):
        found = _parsed(path, carrier, problems)
        for index, item in enumerate(found):
            line = _line(path, carrier, index, item, problems)
            if line is not None and not problems:
                lines.write(json.dumps(line, ensure_ascii=False) + "\n")
                where.write(f"{carrier.ordinal}\t{carrier.name}\t{index}\n")
                count += 1
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise InputRejected(str(path), problems[:MAX_PROBLEMS])
    if not count:
        place = "objects with Avellino's statements extension" if fmt == "stix" else "statements attribute"
        raise UnreadableFile(
            str(path),
            f"{FORMATS[fmt]} holds no statements ({place}): only files written by `avellino export` import back; "
            "import a partner's own files with a mapping (docs/mappings.md)",
        )
    return count


def _parsed(path: Path, carrier: Carrier, problems: list[RowProblem]) -> list[Any]:
    value = carrier.value
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (json.JSONDecodeError, RecursionError) as exc:
            reason = f"is not JSON ({exc.msg}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
            problems.append(_problem(path, carrier, None, "", f"statements {reason or 'are nested too deeply'}"))
            return []
    if not isinstance(value, list):
        problems.append(_problem(path, carrier, None, "", "statements must be a list of statement lines"))
        return []
    return value


def _line(path: Path, carrier: Carrier, index: int, item: Any, problems: list[RowProblem]) -> dict[str, Any] | None:
    """One carried line as an FtM line with its markings, or None (its problems added)."""
    before = len(problems)
    if not isinstance(item, dict):
        problems.append(_problem(path, carrier, index, "", "a statement line must be a JSON object"))
        return None
    for field in ("id", "schema"):
        if not isinstance(item.get(field), str) or not item[field].strip():
            problems.append(_problem(path, carrier, index, field, f"{field} is missing (text)"))
    props = item.get("properties", {})
    if not isinstance(props, dict) or not all(
        isinstance(v, list) and all(isinstance(x, str) for x in v) for v in props.values()
    ):
        problems.append(_problem(path, carrier, index, "properties", "properties must map names to lists of texts"))
    marks = item.get("markings")
    if not isinstance(marks, dict):
        problems.append(
            _problem(path, carrier, index, "markings", "no markings: every statement must carry its own (none is "
                     "filled in)")
        )  # fmt: skip
        return None
    for field in MARKING_FIELDS:
        value = marks.get(field)
        if field not in marks or (value is None and field not in OPTIONAL_MARKS):
            problems.append(
                _problem(path, carrier, index, f"markings.{field}", f"{field} is missing: every statement must "
                         "carry all its markings (none is filled in)")
            )  # fmt: skip
        elif value is not None and (not isinstance(value, str) or not value.strip()):
            problems.append(_problem(path, carrier, index, f"markings.{field}", f"{field} must be a non-empty text"))
    unknown = sorted(set(marks) - set(MARKING_FIELDS))
    if unknown:
        problems.append(_problem(path, carrier, index, "markings", f"unknown marking field(s): {', '.join(unknown)}"))
    if len(problems) > before:
        return None
    given = {f: marks[f] for f in MARKING_FIELDS if marks[f] is not None}
    return {"id": item["id"], "schema": item["schema"], "properties": props, MARKINGS_KEY: given}


def _problem(path: Path, carrier: Carrier, index: int | None, field: str, reason: str) -> RowProblem:
    return RowProblem(str(path), carrier.ordinal, located(carrier.name, index, field), reason)


def located(name: str, index: int | None, field: str) -> str:
    """``identity--… statements[2].markings.tlp``: an object or node, one of its lines, a field."""
    where = name if index is None else f"{name} statements[{index}]"
    return f"{where}.{field}" if field else where


def translated(path: Path, problems: list[RowProblem], where: Path) -> list[RowProblem]:
    """Problems the FtM reader found in the temporary lines (row = line), named by object or node and field."""
    wanted = {p.row for p in problems}
    origin: dict[int, tuple[int, str, int]] = {}
    with where.open(encoding="utf-8") as fh:
        for number, text in enumerate(fh, start=1):
            if number in wanted:
                ordinal, name, index = text.rstrip("\n").split("\t")
                origin[number] = (int(ordinal), name, int(index))
                if len(origin) == len(wanted):
                    break
    out = []
    for p in problems:
        place, carrier, line = origin.get(p.row, (0, "(file)", -1))
        field = "markings" if p.column == MARKINGS_KEY else (p.column if p.column in {"id", "schema", ""} else
                                                             f"properties.{p.column}")  # fmt: skip
        out.append(RowProblem(str(path), place, located(carrier, line if line >= 0 else None, field), p.reason))
    return out
