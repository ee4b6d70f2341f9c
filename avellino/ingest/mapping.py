"""Mapping files (docs/mappings.md): parsed and checked against the model before any row is read.

Every problem in a mapping is collected and reported together, as Splink does for settings.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from avellino.errors import ConfigError
from avellino.model import model
from avellino.model.markings import canonical

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


def _value_spec(raw: Any, where: str, problems: list[str]) -> ValueSpec:
    if isinstance(raw, dict):
        if "column" in raw:
            return ValueSpec(column=str(raw["column"]))
        if "days" in raw:
            try:
                return ValueSpec(days=int(raw["days"]))
            except (TypeError, ValueError):
                problems.append(f"{where}: days must be a whole number")
                return ValueSpec()
        problems.append(f"{where}: expected a constant, {{column: COL}} or {{days: N}}")
        return ValueSpec()
    if raw is None or not str(raw).strip():
        return ValueSpec()  # a blank constant is no value (a blank originator is a missing one, not '')
    return ValueSpec(literal=str(raw))


def _markings(raw: Any, where: str, problems: list[str]) -> dict[str, ValueSpec]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(f"{where}: markings must be a mapping")
        return {}
    out: dict[str, ValueSpec] = {}
    for key, value in raw.items():
        if key not in MARKING_FIELDS:
            problems.append(f"{where}: unknown marking {key!r} (known: {', '.join(MARKING_FIELDS)})")
            continue
        spec = _value_spec(value, f"{where}.{key}", problems)
        vocab = key in {"handling_code", "tlp", "evaluation", "subject_category"}
        if spec.literal is not None and vocab and canonical(key, spec.literal) is None:
            problems.append(f"{where}.{key}: {spec.literal!r} is not a valid {key}")
        out[key] = spec
    return out


def _property(name: str, prop: str, raw: Any, schema: str, problems: list[str]) -> PropertySpec | None:
    where = f"entities.{name}.properties.{prop}"
    if model.get_qname(f"{schema}:{prop}") is None and model[schema].get(prop) is None:
        problems.append(f"{where}: schema {schema} has no property {prop!r}")
        return None
    if isinstance(raw, str):
        raw = {"column": raw}
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected a mapping such as {{column: COL}}")
        return None
    columns: tuple[str, ...] = ()
    if "column" in raw:
        columns = (str(raw["column"]),)
    elif "columns" in raw:
        columns = tuple(str(c) for c in raw["columns"])
    spec = PropertySpec(
        prop=prop,
        columns=columns,
        literal=None if raw.get("literal") is None else str(raw["literal"]),
        entity=raw.get("entity"),
        split=raw.get("split"),
        join=raw.get("join"),
        format=raw.get("format"),
        mapping={str(k).strip().lower(): str(v) for k, v in (raw.get("map") or {}).items()},
    )
    sources = sum(bool(x) for x in (spec.columns, spec.literal is not None, spec.entity))
    if sources != 1:
        problems.append(f"{where}: give exactly one of column, columns, literal or entity")
    if spec.entity and model[schema].get(prop) is not None and model[schema].get(prop).type.name != "entity":  # type: ignore[union-attr]
        problems.append(f"{where}: {prop} is not an entity property, so it cannot take entity: {spec.entity}")
    return spec


def load_mapping(path: Path) -> Mapping:
    """Parse and check a mapping file; raise ConfigError listing every problem."""
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"Cannot read mapping {path}: {exc.strerror}") from exc
    try:
        # libyaml's loader where PyYAML has it: ~10x faster than the pure-Python one, same safe subset
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a mapping file must be a YAML mapping (see docs/mappings.md)")
    problems: list[str] = []
    source = data.get("source") or {}
    fmt = source.get("format")
    if fmt is not None and fmt not in FORMATS:
        problems.append(f"source.format {fmt!r} is not one of {', '.join(sorted(FORMATS))}")
    markings = _markings(data.get("markings"), "markings", problems)
    if "originator" in data:
        markings["originator"] = _value_spec(data["originator"], "originator", problems)
    entities: list[EntitySpec] = []
    raw_entities = data.get("entities") or {}
    if fmt != "ftm" and not raw_entities:
        problems.append("entities: a mapping needs at least one entity (or source.format: ftm)")
    for name, raw in raw_entities.items():
        schema = (raw or {}).get("schema")
        if not schema or model.get(schema) is None:
            problems.append(f"entities.{name}.schema: unknown schema {schema!r}")
            continue
        if model[schema].abstract:
            problems.append(f"entities.{name}.schema: {schema} is abstract; use a concrete schema")
        keys = tuple(str(k) for k in (raw.get("keys") or ([raw["key"]] if raw.get("key") else [])))
        if not keys:
            problems.append(f"entities.{name}.keys: list the columns that identify a {schema} record")
        props = []
        for prop, praw in (raw.get("properties") or {}).items():
            spec = _property(name, prop, praw, schema, problems)
            if spec is not None:
                props.append(spec)
        entities.append(
            EntitySpec(
                name=name,
                schema=schema,
                keys=keys,
                key_literal=str(raw.get("key_literal") or schema),
                properties=tuple(props),
                markings=_markings(raw.get("markings"), f"entities.{name}.markings", problems),
            )
        )
    names = {e.name for e in entities}
    for ent in entities:
        for p in ent.properties:
            if p.entity and p.entity not in names:
                problems.append(f"entities.{ent.name}.properties.{p.prop}: no entity named {p.entity!r}")
        merged = {**markings, **ent.markings}
        missing = [m for m in REQUIRED_MARKINGS if m not in merged]
        if missing:
            problems.append(f"entities.{ent.name}: no {', '.join(missing)} (set them under markings)")
    if fmt == "ftm":
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
        country=(str(data["country"]).upper() if data.get("country") else None),
        markings=markings,
        entities=tuple(entities),
    )
