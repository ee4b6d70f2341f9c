"""FollowTheMoney JSON lines in and out.

Import: each line ``{"id", "schema", "properties"}`` becomes statements carrying the mapping's markings; ids are
prefixed with the originator's slug so one partner's ids can never collide with (or spoof) another's.
Export lives in ``export.py``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa

from avellino.errors import InputRejected, RowProblem
from avellino.ingest.cleaning import STRICT_TYPES, clean_value
from avellino.ingest.compile import DEFAULT_RETENTION_DAYS, PROTECTED_RETENTION_DAYS
from avellino.ingest.ids import originator_slug
from avellino.ingest.mapping import Mapping
from avellino.model import model
from avellino.model.markings import MarkingError, Markings

COLUMNS = (
    "entity_id",
    "schema",
    "prop",
    "prop_type",
    "value",
    "original_value",
    "originator",
    "handling_code",
    "handling_note",
    "tlp",
    "evaluation",
    "subject_category",
    "retention_review",
    "source_record",
)


def _lines(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open(encoding="utf-8-sig") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    yield number, json.loads(line)
                except json.JSONDecodeError as exc:
                    yield number, exc


def _markings(mapping: Mapping, today: dt.date) -> Markings:
    def lit(field: str) -> str | None:
        spec = mapping.markings.get(field)
        return spec.literal if spec is not None else None

    retention: str | dt.date | None = lit("retention_review")
    spec = mapping.markings.get("retention_review")
    if spec is not None and spec.days is not None:
        retention = today + dt.timedelta(days=spec.days)
    marks = Markings.parse(
        lit("originator"),
        lit("handling_code"),
        lit("tlp"),
        lit("evaluation"),
        lit("subject_category"),
        retention,
        lit("handling_note"),
    )
    if marks.retention_review is None:
        days = PROTECTED_RETENTION_DAYS if marks.protected else DEFAULT_RETENTION_DAYS
        marks = Markings(**{**marks.__dict__, "retention_review": today + dt.timedelta(days=days)})
    return marks


def ftm_statements(path: Path, mapping: Mapping, today: dt.date) -> tuple[pa.Table, int, int]:
    """Read an FtM JSONL file into raw statement columns (see ``run.finish``)."""
    try:
        marks = _markings(mapping, today)
    except MarkingError as exc:
        raise InputRejected(str(path), [RowProblem(str(path), 0, "(markings)", str(exc))]) from exc
    prefix = originator_slug(marks.originator)
    cols: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    problems: list[RowProblem] = []
    rows = unnormalised = 0

    def scoped(eid: str) -> str:
        return eid if eid.startswith(f"{prefix}-") else f"{prefix}-{eid}"

    def add(eid: str, schema: str, prop: str, ptype: str, value: str, original: str | None, row: int) -> None:
        for name, item in zip(
            COLUMNS,
            (eid, schema, prop, ptype, value, original, marks.originator, marks.handling_code.value,
             marks.handling_note, marks.tlp.value, marks.evaluation, marks.subject_category.value,
             marks.retention_review, f"{path.name}:{row}"),
            strict=True,
        ):  # fmt: skip
            cols[name].append(item)

    for number, data in _lines(path):
        rows += 1
        if isinstance(data, Exception) or not isinstance(data, dict):
            problems.append(RowProblem(str(path), number, "", "line is not a JSON object"))
            continue
        schema = model.get(data.get("schema") or "")
        if schema is None:
            problems.append(RowProblem(str(path), number, "schema", f"unknown schema {data.get('schema')!r}"))
            continue
        if not data.get("id"):
            problems.append(RowProblem(str(path), number, "id", "entity has no id"))
            continue
        eid = scoped(str(data["id"]))
        add(eid, schema.name, "id", "id", eid, None, number)
        for pname, values in (data.get("properties") or {}).items():
            prop = schema.get(pname)
            if prop is None:
                problems.append(RowProblem(str(path), number, pname, f"{schema.name} has no property {pname!r}"))
                continue
            for raw in values if isinstance(values, list) else [values]:
                raw = str(raw).strip()
                if not raw:
                    continue
                if prop.type.name == "entity":
                    value: str | None = scoped(raw)
                else:
                    value = clean_value(prop.type.name, raw, mapping.country)
                if value is None and prop.type.name in STRICT_TYPES:
                    problems.append(
                        RowProblem(str(path), number, pname, f"cannot read {raw[:60]!r} as a {prop.type.name}")
                    )
                    continue
                if value is None:
                    unnormalised += 1
                add(eid, schema.name, prop.name, prop.type.name, value or raw, raw, number)
    if problems:
        raise InputRejected(str(path), problems, rows)
    types = {"retention_review": pa.date32()}
    table = pa.table({c: pa.array(v, type=types.get(c, pa.string())) for c, v in cols.items()})
    return table, rows, unnormalised
