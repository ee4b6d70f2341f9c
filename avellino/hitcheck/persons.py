"""The persons a hit/no-hit check is about, reduced to what the encodings carry: names, birth dates, documents.

Both sides read persons the same way, from a workspace (Person entities, one record per entity id, with every
name, alias and birth date its statements give) or, for the asking side, from a file of persons typed by an
analyst (``--persons FILE``: CSV or JSON lines with ``id``, ``name``/``given_name``/``surname``, ``aliases``,
``dob``, ``passport``, ``id_number``).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from avellino.errors import ConfigError
from avellino.model.markings import PROTECTED_CATEGORIES
from avellino.resolve.names import join_name
from avellino.store.base import Store

#: FtM Person properties that carry a name; ``firstName``/``middleName``/``lastName`` are joined into one name.
NAME_PROPS = ("name", "alias", "weakAlias", "previousName")
PART_PROPS = ("firstName", "middleName", "fatherName", "lastName")
DOB_PROPS = ("birthDate",)
DOC_PROPS = ("passportNumber", "idNumber")
PHONE_PROPS = ("phone",)
PROPS = NAME_PROPS + PART_PROPS + DOB_PROPS + DOC_PROPS + PHONE_PROPS
#: Columns a persons file may have (any others are ignored).
FILE_COLUMNS = ("id", "name", "given_name", "middle_name", "surname", "aliases", "dob", "passport", "id_number")


@dataclass
class PersonValues:
    """One person record as the encodings see it. ``protected`` names a victim/witness/informant category."""

    id: str
    names: list[str] = field(default_factory=list)
    dobs: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    protected: str | None = None
    originator: str | None = None

    def values(self) -> list[str]:
        """Every personal value of the record (what an answer must never contain)."""
        return [*self.names, *self.dobs, *self.documents, *self.phones]


#: The statement columns that make up a fact's markings (what the sharing policy decides on).
MARKING_COLUMNS = ("originator", "handling_code", "handling_note", "tlp", "evaluation", "subject_category")
MARKING_COLUMNS_ALL = (*MARKING_COLUMNS, "retention_review")


def read_persons(
    store: Store,
    entity_ids: Sequence[str] | None = None,
    originator: str | None = None,
    keep: Callable[[dict[str, object]], bool] | None = None,
    sealed: tuple[str, frozenset[str]] | None = None,
) -> list[PersonValues]:
    """Person records of a workspace (one per entity id, ordered by id).

    ``originator``: only the statements that agency supplied (a node answers only for what it holds itself).
    ``keep``: called once per distinct marking set (a dict of MARKING_COLUMNS_ALL); statements whose markings it
    refuses are left out (the asking side passes the sharing policy's decision for the partner).
    ``sealed``: (this node, the batches it received inside a JIT): other originators' facts in them stay inside
    the JIT, so a question to a partner never carries them (``share.jit.batch_jits``)."""
    columns = ["entity_id", "prop", "value", "batch_id", *MARKING_COLUMNS_ALL]
    table = store.read_statements(schemata=["Person"], entity_ids=entity_ids, columns=columns)
    if table.num_rows == 0:
        return []
    table = table.filter(pc.is_in(table.column("prop"), pa.array([*PROPS, "id"], pa.string())))
    if originator is not None:
        table = table.filter(pc.equal(table.column("originator"), originator))
    if keep is not None and table.num_rows:
        table = _kept(table, keep)
    if sealed is not None and sealed[1] and table.num_rows:
        inside = pc.is_in(table.column("batch_id"), pa.array(sorted(sealed[1]), pa.string()))
        theirs = pc.not_equal(table.column("originator"), sealed[0])
        table = table.filter(pc.invert(pc.and_(inside, theirs)))
    return _assemble(table.to_pylist())


def _kept(table: pa.Table, keep: Callable[[dict[str, object]], bool]) -> pa.Table:
    """The statements whose marking set ``keep`` allows, deciding once per distinct set (few per workspace)."""
    parts = [pc.fill_null(pc.cast(table.column(c), pa.string()), "") for c in MARKING_COLUMNS_ALL]
    key = pc.binary_join_element_wise(*parts, "\x1f")
    first = pc.index_in(pc.unique(key), key)  # one row per distinct marking set
    allowed = [
        k
        for k, row in zip(pc.unique(key).to_pylist(), first.to_pylist(), strict=True)
        if keep({c: table.column(c)[row].as_py() for c in MARKING_COLUMNS_ALL})
    ]
    return table.filter(pc.is_in(key, pa.array(allowed, pa.string())))


def _assemble(rows: Iterable[dict[str, object]]) -> list[PersonValues]:
    persons: dict[str, PersonValues] = {}
    parts: dict[str, dict[str, list[str]]] = {}
    protected_values = {c.value for c in PROTECTED_CATEGORIES}
    for row in rows:
        eid = str(row["entity_id"])
        person = persons.get(eid)
        if person is None:
            person = persons[eid] = PersonValues(eid, originator=_text(row.get("originator")))
        category = _text(row.get("subject_category"))
        if category in protected_values and person.protected is None:
            person.protected = category
        value = _text(row.get("value"))
        prop = row.get("prop")
        if value is None:
            continue
        if prop in NAME_PROPS:
            _add(person.names, value)
        elif prop in PART_PROPS:
            parts.setdefault(eid, {}).setdefault(str(prop), []).append(value)
        elif prop in DOB_PROPS:
            _add(person.dobs, value)
        elif prop in DOC_PROPS:
            _add(person.documents, value)
        elif prop in PHONE_PROPS:
            _add(person.phones, value)
    for eid, by_prop in parts.items():
        first = [by_prop.get(p, [None])[0] for p in PART_PROPS]
        joined = join_name(first)
        if joined:
            _add(persons[eid].names, joined)
    return [persons[k] for k in sorted(persons)]


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _add(values: list[str], value: str) -> None:
    if value not in values:
        values.append(value)


def read_persons_file(path: Path) -> list[PersonValues]:
    """Persons typed by an analyst: CSV (header row) or JSON lines (``.jsonl``), columns as FILE_COLUMNS.

    ``aliases``, ``passport`` and ``id_number`` may hold several values separated by ``;``. Every row needs an
    ``id`` (the asker's own reference, returned in the answer) and a name."""
    if not path.is_file():
        raise ConfigError(f"--persons {path}: no such file")
    rows: list[tuple[int, dict[str, object]]] = []
    try:
        if path.suffix.lower() in (".jsonl", ".json", ".ndjson"):
            with path.open(encoding="utf-8") as fh:
                for n, line in enumerate(fh, start=1):
                    if line.strip():
                        data = json.loads(line)
                        if not isinstance(data, dict):
                            raise ConfigError(f"{path}: line {n}: each line must be a JSON object")
                        rows.append((n, data))
        else:
            with path.open(encoding="utf-8-sig", newline="") as fh:
                rows = [(n, dict(r)) for n, r in enumerate(csv.DictReader(fh), start=2)]
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read as {'JSON lines' if path.suffix else 'CSV'}: {exc}") from exc
    persons: list[PersonValues] = []
    seen: set[str] = set()
    for n, row in rows:
        ident = _text(row.get("id"))
        if ident is None:
            raise ConfigError(f"{path}: row {n}, field 'id': every person needs an id (your own reference)")
        if ident in seen:
            raise ConfigError(f"{path}: row {n}, field 'id': {ident!r} is used twice")
        seen.add(ident)
        names = [n for n in [_text(row.get("name"))] if n]
        parts = join_name([_text(row.get(c)) for c in ("given_name", "middle_name", "surname")])
        if parts:
            names.append(parts)
        names += _split(row.get("aliases"))
        if not names:
            raise ConfigError(f"{path}: row {n}, field 'name': person {ident!r} has no name (name or surname)")
        dob = _text(row.get("dob"))
        documents = _split(row.get("passport")) + _split(row.get("id_number"))
        persons.append(PersonValues(ident, names, [dob] if dob else [], documents))
    if not persons:
        raise ConfigError(f"{path}: no persons in the file")
    return persons


def _split(value: object) -> list[str]:
    if isinstance(value, list):
        return [t for t in (_text(v) for v in value) if t]
    text = _text(value)
    return [t for t in (s.strip() for s in text.split(";")) if t] if text else []
