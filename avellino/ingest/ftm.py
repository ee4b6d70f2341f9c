"""FollowTheMoney JSON lines in and out.

Import: each line ``{"id", "schema", "properties"}`` becomes statements carrying the mapping's markings; ids are
prefixed with the originator's slug so one partner's ids can never collide with (or spoof) another's.
Export lives in ``export.py``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from avellino.errors import InputRejected, RowProblem
from avellino.ingest.compile import DEFAULT_RETENTION_DAYS, PROTECTED_RETENTION_DAYS, _typed, q, value_checks_sql
from avellino.ingest.ids import originator_slug
from avellino.ingest.mapping import Mapping, PropertySpec, did_you_mean
from avellino.ingest.readers import LONE_SURROGATE, lone_surrogates
from avellino.model import model
from avellino.model.markings import MarkingError, Markings
from avellino.store.duckdb_tx import registered
from avellino.store.schema import BASE_PROP, marking_id_sql, prop_types_table

COLUMNS = ("_row", "_column", "entity_id", "schema", "prop", "prop_type", "original_value")


def _lines(path: Path) -> Iterator[tuple[int, Any]]:
    """(line number, parsed JSON) for each line that is not blank; a problem's wording instead of the JSON for a
    line that is not UTF-8 or not JSON."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                yield number, BadLine("line holds bytes that are not UTF-8")
                continue
            if line.strip():
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield number, BadLine(f"line is not JSON ({exc.msg}, column {exc.colno})")
                except RecursionError:
                    yield number, BadLine("line is JSON nested too deeply")
                else:
                    bad = "\\ud" in line.lower() and lone_surrogates(data)
                    yield number, BadLine(f"line {LONE_SURROGATE}") if bad else data


@dataclass(frozen=True)
class BadLine:
    reason: str


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


def ftm_raw_statements(
    con: duckdb.DuckDBPyConnection, path: Path, mapping: Mapping, today: dt.date
) -> tuple[int, list[int]]:
    """Read an FtM JSONL file into the ``raw_st`` and ``file_markings`` tables of ``con`` (see ``run.py``);
    values are cleaned by the same SQL as mapped files. Returns the number of lines and the branches whose
    statements cannot repeat (see ``finish.finish_sql``)."""
    try:
        marks = _markings(mapping, today)
    except MarkingError as exc:
        raise InputRejected(str(path), [RowProblem(str(path), 0, "(markings)", str(exc))]) from exc
    prefix = originator_slug(marks.originator)
    read = _read_with_duckdb(con, path, prefix)
    rows, single = read if read is not None else (_read_with_python(con, path, prefix), False)
    fields = {
        "originator": marks.originator,
        "handling_code": marks.handling_code.value,
        "handling_note": marks.handling_note,
        "tlp": marks.tlp.value,
        "evaluation": marks.evaluation,
        "subject_category": marks.subject_category.value,
        "retention_review": marks.retention_review.isoformat() if marks.retention_review else None,
    }
    exprs = {k: ("NULL" if v is None else q(v)) for k, v in fields.items()}
    exprs["retention_review"] = f"CAST({exprs['retention_review']} AS DATE)"
    mid = marking_id_sql(exprs)
    selects = ", ".join(f"{e} AS {k}" for k, e in exprs.items())
    con.execute(f"CREATE TEMP TABLE file_markings AS SELECT {mid} AS marking_id, {selects}")
    typed = " ".join(
        f"WHEN prop_type = {q(t)} THEN {_typed(PropertySpec(prop=''), t, 'original_value', mapping.country)}"
        for t in ("date", "number", "phone", "name", "string", "text", "address")
    )
    # the coded layout finish.py reads: one branch per (property, type) found, entity ids and the file's one
    # marking set numbered
    con.execute(
        "CREATE TEMP TABLE branches AS SELECT CAST(row_number() OVER () - 1 AS SMALLINT) AS _b, _column, schema, "
        "prop, prop_type, CAST(dense_rank() OVER (ORDER BY schema, prop) - 1 AS SMALLINT) AS _p, "
        "CAST(NULL AS SMALLINT) AS entity, false AS single "
        "FROM (SELECT DISTINCT _column, schema, prop, prop_type FROM ftm_raw)"
    )
    con.execute(
        "CREATE TEMP TABLE ents AS SELECT CAST(row_number() OVER () AS UBIGINT) AS h, id "
        "FROM (SELECT DISTINCT entity_id AS id FROM ftm_raw)"
    )
    con.execute("CREATE TEMP TABLE marks AS SELECT CAST(0 AS UBIGINT) AS h, marking_id FROM file_markings")
    con.execute(
        f"CREATE TEMP TABLE raw_st AS SELECT _row, _b, _p, _c, CASE {typed} ELSE original_value END AS value, "
        "original_value, CAST(0 AS UBIGINT) AS _k FROM (SELECT r._row, r.prop_type, r.original_value, b._b, b._p, "
        "e.h AS _c FROM ftm_raw r JOIN branches b ON b._column = r._column AND b.schema = r.schema "
        "AND b.prop = r.prop AND b.prop_type = r.prop_type JOIN ents e ON e.id = r.entity_id)"
    )
    bad = con.execute(f"SELECT * FROM ({value_checks_sql()}) ORDER BY 1 LIMIT 10000").fetchall()
    if bad:
        raise InputRejected(str(path), [RowProblem(str(path), int(r[0]), str(r[1]), str(r[2])) for r in bad], rows)
    return rows, _free_branches(con) if single else []


def _free_branches(con: duckdb.DuckDBPyConnection) -> list[int]:
    """For a file whose properties hold one value at most: every branch when each entity is also on one line
    only (then no statement can repeat), else none. Why: grouping the statements of the 1M sample's FtM files to
    drop repeats cost about 0.2 CPU-s, and such exports rarely have any."""
    unique = con.execute("SELECT count(*) = count(DISTINCT entity_id) FROM ftm_raw WHERE prop = 'id'").fetchall()
    if not unique[0][0]:
        return []
    return [int(b) for (b,) in con.execute("SELECT _b FROM branches").fetchall()]


def _read_with_python(con: duckdb.DuckDBPyConnection, path: Path, prefix: str) -> int:
    """Line by line in Python: slower, but names every bad line, property and reason (InputRejected)."""
    cols: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    problems: list[RowProblem] = []
    rows = 0

    def scoped(eid: str) -> str:
        return eid if eid.startswith(f"{prefix}-") else f"{prefix}-{eid}"

    def add(row: int, column: str, eid: str, schema: str, prop: str, ptype: str, raw: str) -> None:
        for name, item in zip(COLUMNS, (row, column, eid, schema, prop, ptype, raw), strict=True):
            cols[name].append(item)

    for number, data in _lines(path):
        rows += 1
        if isinstance(data, BadLine) or not isinstance(data, dict):
            reason = data.reason if isinstance(data, BadLine) else "line is not a JSON object"
            problems.append(RowProblem(str(path), number, "", reason))
            continue
        name = data.get("schema")
        schema = model.get(name) if isinstance(name, str) and name else None
        if schema is None:
            hint = did_you_mean(name, model.schemata) if isinstance(name, str) else ""
            problems.append(RowProblem(str(path), number, "schema", f"unknown schema {name!r}{hint}"))
            continue
        if not data.get("id") or not isinstance(data["id"], str | int):
            problems.append(RowProblem(str(path), number, "id", "entity has no id (text)"))
            continue
        properties = data.get("properties") or {}
        if not isinstance(properties, dict):
            problems.append(RowProblem(str(path), number, "properties", "properties must be a JSON object"))
            continue
        eid = scoped(str(data["id"]))
        add(number, "id", eid, schema.name, "id", "id", "")  # '': the entity id (see finish.py)
        for pname, values in properties.items():
            prop = schema.get(pname)
            if prop is None:
                hint = did_you_mean(pname, schema.properties)
                problems.append(RowProblem(str(path), number, pname, f"{schema.name} has no property {pname!r}{hint}"))
                continue
            for raw in values if isinstance(values, list) else [values]:
                text = str(raw).strip()
                if text:
                    value = scoped(text) if prop.type.name == "entity" else text
                    add(number, pname, eid, schema.name, prop.name, prop.type.name, value)
    if problems:
        raise InputRejected(str(path), problems, rows)
    con.register("ftm_raw", pa.table({c: pa.array(v) for c, v in cols.items()}))
    return rows


def _read_with_duckdb(con: duckdb.DuckDBPyConnection, path: Path, prefix: str) -> tuple[int, bool] | None:
    """A fast reader (Arrow's, else DuckDB's) for a well-formed file, about 3x less CPU than the Python loop:
    (lines, whether every property holds one value at most, as far as Arrow's reader found). None when the file
    has anything the fast path does not vouch for (blank lines shift line numbers, a byte-order mark, JSON that
    does not parse, unknown schemata or properties, missing ids), so the Python path can report it precisely."""
    if not _plain_lines(path):
        return None
    types = prop_types_table()
    catalogue = types.filter(pc.not_equal(types["prop"], BASE_PROP))  # the id is not a property of FtM JSON
    con.register("ftm_catalogue", catalogue)
    scoped = f"CASE WHEN starts_with({{v}}, {q(prefix + '-')}) THEN {{v}} ELSE {q(prefix + '-')} || {{v}} END"
    single = _lines_with_arrow(con, path, scoped)
    if single is None:
        if not _lines_with_duckdb(con, path, scoped):
            return None
        single = False
    bad = con.execute(
        "SELECT (SELECT count(*) FROM ftm_lines l WHERE coalesce(l.id, '') = '' OR NOT EXISTS "
        "(SELECT 1 FROM ftm_catalogue c WHERE c.schema = l.schema)) + (SELECT count(*) FROM ftm_values v "
        "WHERE NOT EXISTS (SELECT 1 FROM ftm_catalogue c WHERE c.schema = v.schema AND c.prop = v.prop))"
    ).fetchall()[0][0]
    if bad:
        return None
    con.execute(
        "CREATE TEMP TABLE ftm_raw AS "
        "SELECT _row, 'id' AS _column, entity_id, schema, 'id' AS prop, 'id' AS prop_type, '' AS original_value "
        f"FROM (SELECT _row, {scoped.format(v='id')} AS entity_id, schema FROM ftm_lines) UNION ALL "
        "SELECT v._row, v.prop, v.entity_id, v.schema, v.prop, c.prop_type, "
        f"CASE WHEN c.prop_type = 'entity' THEN {scoped.format(v='v.raw')} ELSE v.raw END "
        "FROM ftm_values v JOIN ftm_catalogue c ON c.schema = v.schema AND c.prop = v.prop WHERE v.raw <> ''"
    )
    return int(con.execute("SELECT count(*) FROM ftm_lines").fetchall()[0][0]), single


_ORDERED_SCAN = threading.Lock()

#: Characters trimmed around each value (as Python's ``str.strip`` does for the usual ones).
_TRIM = "' \t\n\r'"


def _lines_with_arrow(con: duckdb.DuckDBPyConnection, path: Path, scoped: str) -> bool | None:
    """``ftm_lines(_row, id, schema)`` and ``ftm_values(_row, entity_id, schema, prop, raw)`` from Arrow's JSON
    reader, unpivoted in Arrow (each property's lists flattened). Why: it takes about half the CPU of DuckDB's
    reader with a ``MAP`` column, which builds every line's map and then unnests it. Only when ids and schemata
    are strings and every property holds lists of strings (the FtM form): other values would be written as text
    differently from Python's ``str``, so those files go to DuckDB's reader. Returns whether every property
    holds one value at most, or None when not used."""
    import pyarrow.json as pj

    # Arrow infers types (dates become timestamps), so the properties of the file's first lines are declared
    # text; a property first seen later is inferred, and anything but text sends the file to DuckDB's reader
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    head = head[: head.rfind(b"\n") + 1] or head
    options = pj.ReadOptions(block_size=1 << 24)
    try:
        first = pj.read_json(io.BytesIO(head), read_options=options)
        seen = first.schema.field("properties").type if "properties" in first.column_names else pa.struct([])
        declared = pa.schema(
            [
                ("id", pa.string()),
                ("schema", pa.string()),
                ("properties", pa.struct([(f.name, pa.list_(pa.string())) for f in seen])),
            ]
        )
        parse = pj.ParseOptions(explicit_schema=declared, unexpected_field_behavior="infer")
        table = pj.read_json(path, read_options=options, parse_options=parse)
        table.validate(full=True)  # Arrow's JSON reader passes bytes that are not UTF-8 on, unchecked
    except (pa.ArrowException, KeyError, UnicodeDecodeError):  # a field name that is not UTF-8
        return None  # lines Arrow cannot type alike, or not JSON objects
    text = {pa.string(), pa.null()}
    names = set(table.column_names)
    if not {"id", "schema"} <= names or table["id"].type not in text or table["schema"].type not in text:
        return None
    props = table["properties"].type if "properties" in names else pa.struct([])
    if not pa.types.is_struct(props) or not all(pa.types.is_list(f.type) and f.type.value_type in text for f in props):
        return None
    ids = table["id"].cast(pa.string())
    lines = pa.table(
        {
            "_row": pa.array(range(1, table.num_rows + 1), pa.int64()),
            "id": ids,
            "schema": table["schema"].cast(pa.string()),
        }
    )
    # the values, one row each, unpivoted in Arrow: each property's lists flattened, with their lines' numbers
    parents, raws, which = [], [], []
    for i in range(props.num_fields):
        lists = pc.struct_field(table["properties"], [i]).cast(pa.list_(pa.string()))
        for chunk, start in zip(lists.chunks, np.cumsum([0] + [len(c) for c in lists.chunks]), strict=False):
            parents.append(pc.add(pc.list_parent_indices(chunk).cast(pa.int64()), int(start) + 1))
            raws.append(pc.utf8_trim(pc.list_flatten(chunk), " \t\n\r"))
            which.append(np.full(len(raws[-1]), i, np.int32))
    names = pa.array([f.name for f in props] or [""], pa.string())
    values = pa.table(
        {
            "_row": pa.concat_arrays(parents) if parents else pa.array([], pa.int64()),
            "prop": pa.DictionaryArray.from_arrays(np.concatenate(which or [np.zeros(0, np.int32)]), names),
            "raw": pa.concat_arrays(raws) if raws else pa.array([], pa.string()),
        }
    )
    single = all(
        (pc.max(pc.list_value_length(pc.struct_field(table["properties"], [i]))).as_py() or 0) <= 1
        for i in range(props.num_fields)
    )
    with registered(con, ftm_arrow=lines, ftm_flat=values):
        con.execute("CREATE TEMP TABLE ftm_lines AS SELECT _row, id, schema FROM ftm_arrow")
        con.execute(
            f"CREATE TEMP TABLE ftm_values AS SELECT v._row, {scoped.format(v='l.id')} AS entity_id, l.schema, "
            "CAST(v.prop AS VARCHAR) AS prop, v.raw FROM ftm_flat v JOIN ftm_lines l USING (_row) "
            "WHERE l.id IS NOT NULL AND v.raw IS NOT NULL"
        )
    return single


def _lines_with_duckdb(con: duckdb.DuckDBPyConnection, path: Path, scoped: str) -> bool:
    """``ftm_lines`` and ``ftm_values`` (as :func:`_lines_with_arrow`) from DuckDB's JSON reader."""
    # Ordered scan, so row_number() is the line number (there are no blank lines, checked above). The setting
    # is the database's, shared by every file being prepared in this process: one file at a time turns it on
    # and back off, or one could turn it off under another's scan (the others only run slower meanwhile).
    with _ORDERED_SCAN:
        try:
            con.execute("SET preserve_insertion_order = true")
            con.execute(
                "CREATE TEMP TABLE ftm_lines AS SELECT row_number() OVER () AS _row, id, schema, properties "
                "FROM read_json(?, format = 'newline_delimited', maximum_object_size = 67108864, "
                "columns = {id: 'VARCHAR', schema: 'VARCHAR', properties: 'MAP(VARCHAR, VARCHAR[])'})",
                [str(path)],
            )
        except (duckdb.Error, UnicodeDecodeError):  # the error's own text may hold bytes that are not UTF-8
            return False
        finally:
            con.execute("SET preserve_insertion_order = false")
    con.execute(
        "CREATE TEMP TABLE ftm_values AS SELECT _row, entity_id, schema, e.key AS prop, "
        f"trim(unnest(e.value), {_TRIM}) AS raw FROM (SELECT _row, {scoped.format(v='id')} AS entity_id, "
        "schema, unnest(map_entries(properties)) AS e FROM ftm_lines WHERE id IS NOT NULL)"
    )
    return True


def _plain_lines(path: Path) -> bool:
    """True when every line is a JSON object (starts with ``{``: none blank, no byte-order mark), so the n-th
    record DuckDB reads is on line n. Reads line by line, so memory stays flat on a multi-gigabyte export.

    The fast readers only ever see such files: pyarrow 26's JSON reader crashes the process (a segmentation
    fault, found by the fuzz test) on a file whose first line is ``null``; the Python reader names such lines."""
    with path.open("rb") as fh:
        for line in fh:
            if not line.lstrip(b" \t").startswith(b"{"):
                return False
        return fh.tell() > 0
