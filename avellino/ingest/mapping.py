"""Mapping files (docs/mappings.md): parsed and checked against the model before any row is read.

Every problem in a mapping is collected and reported together, as Splink does for settings.
"""

from __future__ import annotations

import codecs
import datetime as dt
import difflib
import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from avellino.errors import ConfigError
from avellino.model import model
from avellino.model.markings import VOCABULARIES, canonical

MARKING_FIELDS = (
    "originator",
    "handling_code",
    "handling_note",
    "tlp",
    "evaluation",
    "subject_category",
    "retention_review",
)
REQUIRED_MARKINGS = ("originator", "handling_code", "tlp", "evaluation", "subject_category")
FORMATS = {"csv", "xlsx", "json", "jsonl", "ftm"}
EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}


@dataclass(frozen=True)
class ValueSpec:
    """Where a value comes from: a constant, one column, a number of days after import (retention only)."""

    literal: str | None = None
    column: str | None = None
    days: int | None = None


@dataclass(frozen=True)
class PropertySpec:
    prop: str
    columns: tuple[str, ...] = ()
    literal: str | None = None
    entity: str | None = None
    split: str | None = None
    join: str | None = None
    format: str | None = None
    mapping: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EntitySpec:
    name: str
    schema: str
    keys: tuple[str, ...]
    key_literal: str
    properties: tuple[PropertySpec, ...]
    markings: dict[str, ValueSpec]


@dataclass(frozen=True)
class Mapping:
    path: Path
    sha256: str
    format: str | None
    options: dict[str, Any]
    country: str | None
    markings: dict[str, ValueSpec]
    entities: tuple[EntitySpec, ...]

    def resolved_format(self, data_path: Path) -> str:
        fmt = self.format or EXTENSIONS.get(data_path.suffix.lower())
        if fmt is None:
            raise ConfigError(f"{self.path}: cannot tell the format of {data_path.name}; set source.format")
        return fmt

    def columns_used(self) -> set[str]:
        cols = {v.column for v in self.markings.values() if v.column}
        for ent in self.entities:
            cols.update(ent.keys)
            cols.update(v.column for v in ent.markings.values() if v.column)
            for p in ent.properties:
                cols.update(p.columns)
        return {c for c in cols if c}


# Every key a mapping may use, by where it stands (docs/mappings.md); any other key is an error.
TOP_KEYS = ("originator", "country", "source", "markings", "entities")
SOURCE_KEYS = ("format", "delimiter", "encoding", "sheet", "records")
ENTITY_KEYS = ("schema", "keys", "key", "key_literal", "markings", "properties")
PROPERTY_KEYS = ("column", "columns", "literal", "entity", "split", "join", "format", "map")
VALUE_KEYS = ("column", "days")
MAX_RETENTION_DAYS = 36_500  # a hundred years


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """ " (did you mean 'x'?)" for the closest of ``choices``, else the list of them (or nothing when long)."""
    options = sorted(set(choices))
    close = difflib.get_close_matches(str(word), options, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (known: {', '.join(options)})" if len(options) <= 12 else ""


def _section(raw: Any, where: str, known: tuple[str, ...], problems: list[str]) -> dict[Any, Any]:
    """``raw`` as a dict with only ``known`` keys (each other key is a problem); {} for a missing section."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected a mapping of keys ({', '.join(known)}), not {_kind(raw)}")
        return {}
    for key in raw:
        if key not in known:
            problems.append(f"{where}: unknown key {key!r}{did_you_mean(key, known)}")
    return raw


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"{value!r}"


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool | dt.date)


def _text(raw: Any, key: str, where: str, problems: list[str], one_char: bool = False) -> str | None:
    """An optional text option; a list, mapping or blank text is a problem."""
    value = raw.get(key)
    if value is None:
        return None
    if not _scalar(value) or not str(value):
        problems.append(f"{where}.{key}: expected text, not {_kind(value)}")
        return None
    if one_char and len(str(value)) != 1:
        problems.append(f"{where}.{key}: expected one character, not {value!r}")
        return None
    return str(value)


def _value_spec(raw: Any, where: str, problems: list[str]) -> ValueSpec:
    if isinstance(raw, dict):
        _section(raw, where, VALUE_KEYS, problems)
        if "column" in raw and "days" in raw:
            problems.append(f"{where}: give column or days, not both")
            return ValueSpec()
        if "column" in raw:
            if not _scalar(raw["column"]) or not str(raw["column"]).strip():
                problems.append(f"{where}.column: expected a column name, not {_kind(raw['column'])}")
                return ValueSpec()
            return ValueSpec(column=str(raw["column"]))
        if "days" in raw:
            days = raw["days"]
            if type(days) is not int or not 0 <= days <= MAX_RETENTION_DAYS:
                problems.append(f"{where}.days: expected a whole number of days from 0 to {MAX_RETENTION_DAYS}")
                return ValueSpec()
            return ValueSpec(days=days)
        problems.append(f"{where}: expected a constant, {{column: COL}} or {{days: N}}")
        return ValueSpec()
    if raw is None or (_scalar(raw) and not str(raw).strip()):
        return ValueSpec()  # a blank constant is no value (a blank originator is a missing one, not '')
    if not _scalar(raw):
        problems.append(f"{where}: expected a constant or {{column: COL}}, not {_kind(raw)}")
        return ValueSpec()
    return ValueSpec(literal=str(raw))


def _markings(raw: Any, where: str, problems: list[str]) -> dict[str, ValueSpec]:
    out: dict[str, ValueSpec] = {}
    for key, value in _section(raw, where, MARKING_FIELDS, problems).items():
        if key not in MARKING_FIELDS:
            continue  # reported by _section
        spec = _value_spec(value, f"{where}.{key}", problems)
        if spec.literal is not None and key in VOCABULARIES and canonical(key, spec.literal) is None:
            allowed = sorted(set(VOCABULARIES[key].values()))
            problems.append(
                f"{where}.{key}: {spec.literal!r} is not a valid {key}{did_you_mean(spec.literal, allowed)}"
            )
        if spec.literal is not None and key == "retention_review" and not _iso_date(spec.literal.strip()):
            problems.append(
                f"{where}.{key}: {spec.literal!r} is not a date (YYYY-MM-DD), {{column: COL}} or {{days: N}}"
            )
        if spec.days is not None and key != "retention_review":
            problems.append(f"{where}.{key}: days is only for retention_review")
        out[key] = spec
    return out


def _iso_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _columns(raw: Any, where: str, problems: list[str]) -> tuple[str, ...]:
    if "column" in raw and "columns" in raw:
        problems.append(f"{where}: give column or columns, not both")
    if "column" in raw:
        value = raw["column"]
        if not _scalar(value) or not str(value).strip():
            problems.append(f"{where}.column: expected a column name, not {_kind(value)}")
            return ()
        return (str(value),)
    if "columns" in raw:
        values = raw["columns"]
        if not isinstance(values, list) or not values or not all(_scalar(v) and str(v).strip() for v in values):
            problems.append(f"{where}.columns: expected a list of column names")
            return ()
        return tuple(str(v) for v in values)
    return ()


def _property(name: str, prop: Any, raw: Any, schema: str, problems: list[str]) -> PropertySpec | None:
    where = f"entities.{name}.properties.{prop}"
    if not isinstance(prop, str) or (model.get_qname(f"{schema}:{prop}") is None and model[schema].get(prop) is None):
        known = model[schema].properties
        problems.append(f"{where}: schema {schema} has no property {prop!r}{did_you_mean(prop, known)}")
        return None
    if isinstance(raw, str):
        raw = {"column": raw}
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected a mapping such as {{column: COL}}")
        return None
    _section(raw, where, PROPERTY_KEYS, problems)
    literal = raw.get("literal")
    if literal is not None and not _scalar(literal):
        problems.append(f"{where}.literal: expected a constant, not {_kind(literal)}")
        literal = None
    codes = raw.get("map")
    if codes is not None and (not isinstance(codes, dict) or not all(_scalar(v) for v in codes.values())):
        problems.append(f"{where}.map: expected a mapping of partner codes to values, such as {{M: male}}")
        codes = None
    fmt = _text(raw, "format", where, problems)
    if fmt is not None and (problem := strptime_problem(fmt)):
        problems.append(f"{where}.format: {fmt!r} is not a date format ({problem})")
    spec = PropertySpec(
        prop=prop,
        columns=_columns(raw, where, problems),
        literal=None if literal is None else str(literal),
        entity=_text(raw, "entity", where, problems),
        split=_text(raw, "split", where, problems),
        join=_text(raw, "join", where, problems),
        format=fmt,
        mapping={str(k).strip().lower(): str(v) for k, v in (codes or {}).items()},
    )
    sources = sum(bool(x) for x in (spec.columns, spec.literal is not None, spec.entity))
    if sources != 1:
        problems.append(f"{where}: give exactly one of column, columns, literal or entity")
    if spec.entity and model[schema].get(prop) is not None and model[schema].get(prop).type.name != "entity":  # type: ignore[union-attr]
        problems.append(f"{where}: {prop} is not an entity property, so it cannot take entity: {spec.entity}")
    return spec


_strptime_lock = threading.Lock()
_strptime_con: list[duckdb.DuckDBPyConnection] = []


def strptime_problem(fmt: str) -> str | None:
    """Why DuckDB's strptime, which reads the dates, cannot use ``fmt``; None when it can."""
    with _strptime_lock:
        if not _strptime_con:
            _strptime_con.append(duckdb.connect())
        try:
            _strptime_con[0].execute("SELECT try_strptime('', ?)", [fmt]).fetchall()
        except duckdb.Error as exc:
            return str(exc).split("\n")[0].removeprefix("Invalid Input Error: ")
    return None


def _source(raw: Any, problems: list[str]) -> dict[Any, Any]:
    source = _section(raw, "source", SOURCE_KEYS, problems)
    fmt = source.get("format")
    if fmt is not None and fmt not in FORMATS:
        problems.append(f"source.format {fmt!r} is not one of {', '.join(sorted(FORMATS))}{did_you_mean(fmt, FORMATS)}")
    _text(source, "delimiter", "source", problems, one_char=True)
    encoding = _text(source, "encoding", "source", problems)
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            problems.append(f"source.encoding: {encoding!r} is not an encoding Python knows (utf-8, cp1252, ...)")
    if source.get("sheet") is not None and not isinstance(source.get("sheet"), str):
        problems.append("source.sheet: expected a sheet name (text)")
    _text(source, "records", "source", problems)
    return {k: v for k, v in source.items() if k in SOURCE_KEYS}


def load_mapping(path: Path) -> Mapping:
    """Parse and check a mapping file; raise ConfigError listing every problem."""
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"Cannot read mapping {path}: {exc.strerror}") from exc
    try:
        # libyaml's loader where PyYAML has it: ~10x faster than the pure-Python one, same safe subset
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (yaml.YAMLError, ValueError, RecursionError) as exc:  # ValueError: a date such as 2024-02-30
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a mapping file must be a YAML mapping (see docs/mappings.md)")
    problems: list[str] = []
    _section(data, "(top level)", TOP_KEYS, problems)
    source = _source(data.get("source"), problems)
    fmt = source.get("format") if source.get("format") in FORMATS else None
    markings = _markings(data.get("markings"), "markings", problems)
    if "originator" in data:
        markings["originator"] = _value_spec(data["originator"], "originator", problems)
    country = data.get("country")
    if country is not None and not (isinstance(country, str) and len(country) == 2 and country.isalpha()):
        problems.append(f"country: expected a two-letter country code such as GB, not {_kind(country)}")
        country = None
    entities: list[EntitySpec] = []
    raw_entities = data.get("entities")
    if raw_entities is not None and not isinstance(raw_entities, dict):
        problems.append(f"entities: expected a mapping of entity names to entities, not {_kind(raw_entities)}")
        raw_entities = None
    raw_entities = raw_entities or {}
    if source.get("format") != "ftm" and not raw_entities:
        problems.append("entities: a mapping needs at least one entity (or source.format: ftm)")
    for name, raw in raw_entities.items():
        where = f"entities.{name}"
        if not isinstance(raw, dict):
            problems.append(f"{where}: expected a mapping with schema, keys and properties, not {_kind(raw)}")
            continue
        _section(raw, where, ENTITY_KEYS, problems)
        schema = raw.get("schema")
        if not isinstance(schema, str) or model.get(schema) is None:
            problems.append(f"{where}.schema: unknown schema {schema!r}{did_you_mean(schema, model.schemata)}")
            continue
        if model[schema].abstract:
            problems.append(f"{where}.schema: {schema} is abstract; use a concrete schema")
        raw_keys = raw.get("keys") if "keys" in raw else ([raw["key"]] if raw.get("key") is not None else None)
        if isinstance(raw_keys, str):
            raw_keys = [raw_keys]
        if not isinstance(raw_keys, list) or not raw_keys or not all(_scalar(k) and str(k).strip() for k in raw_keys):
            problems.append(f"{where}.keys: list the columns that identify a {schema} record")
            raw_keys = []
        key_literal = raw.get("key_literal")
        if key_literal is not None and not _scalar(key_literal):
            problems.append(f"{where}.key_literal: expected text, not {_kind(key_literal)}")
            key_literal = None
        props = []
        raw_props = raw.get("properties")
        if raw_props is not None and not isinstance(raw_props, dict):
            problems.append(f"{where}.properties: expected a mapping of property names, not {_kind(raw_props)}")
            raw_props = None
        for prop, praw in (raw_props or {}).items():
            spec = _property(name, prop, praw, schema, problems)
            if spec is not None:
                props.append(spec)
        entities.append(
            EntitySpec(
                name=str(name),
                schema=schema,
                keys=tuple(str(k) for k in raw_keys),
                key_literal=str(key_literal or schema),
                properties=tuple(props),
                markings=_markings(raw.get("markings"), f"{where}.markings", problems),
            )
        )
    names = {e.name for e in entities}
    for ent in entities:
        for p in ent.properties:
            if p.entity and p.entity not in names:
                hint = did_you_mean(p.entity, names)
                problems.append(f"entities.{ent.name}.properties.{p.prop}: no entity named {p.entity!r}{hint}")
        merged = {**markings, **ent.markings}
        missing = [m for m in REQUIRED_MARKINGS if m not in merged]
        if missing:
            problems.append(f"entities.{ent.name}: no {', '.join(missing)} (set them under markings)")
    if fmt == "ftm":
        if raw_entities:
            problems.append("entities: an FtM file brings its own entities; remove entities (or the format: ftm)")
        missing = [m for m in REQUIRED_MARKINGS if m not in markings]
        if missing:
            problems.append(f"markings: no {', '.join(missing)}")
    if problems:
        raise ConfigError(f"{path} has {len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems))
    return Mapping(
        path=path,
        sha256=hashlib.sha256(text).hexdigest(),
        format=fmt,
        options={k: v for k, v in source.items() if k != "format"},
        country=country.upper() if country else None,
        markings=markings,
        entities=tuple(entities),
    )
