"""FollowTheMoney JSON lines in and out.

Import: each line ``{"id", "schema", "properties"}`` becomes statements carrying the mapping's markings, or the
line's own when it has an ``avellino:markings`` object (as ``avellino export --format ftm`` writes one line per
entity and marking set: originator, handling code and note, TLP, evaluation, category, retention review). Fields a
line's markings leave out come from the mapping. Ids are put in the namespace of the line's originator
(``ids.namespaced``: ``{slug}--{id}``, an id already in it kept), so one partner's ids can never collide with
(or spoof) another's, and re-importing an export keeps its ids. Export lives in ``avellino/share/export.py``.
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
from avellino.ingest.compile import DEFAULT_RETENTION_DAYS, PROTECTED_RETENTION_DAYS, _typed, value_checks_sql
from avellino.ingest.ids import NAMESPACE_SEP, namespaced_sql, originator_slug
from avellino.ingest.mapping import Mapping, PropertySpec, did_you_mean
from avellino.ingest.readers import LONE_SURROGATE, lone_surrogates
from avellino.ingest.sql import q
from avellino.model import model
from avellino.model.markings import MarkingError, Markings
from avellino.store.duckdb_tx import registered
from avellino.store.schema import BASE_PROP, MARKING_FIELDS, marking_id_sql, prop_types_table

#: The top-level key of a line that carries the markings of its statements (see ``avellino/share/ftm_out.py``).
MARKINGS_KEY = "avellino:markings"
#: One column per marking field for each line (NULL where the line does not say): ``m_originator``...
LINE_MARKS = tuple(f"m_{f}" for f in MARKING_FIELDS)
VALUE_COLUMNS = ("_row", "schema", "prop", "raw")


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
    return _with_retention(
        Markings.parse(
            lit("originator"),
            lit("handling_code"),
            lit("tlp"),
            lit("evaluation"),
            lit("subject_category"),
            retention,
            lit("handling_note"),
        ),
        today,
    )


def _with_retention(marks: Markings, today: dt.date) -> Markings:
    """The markings with a review date: the default for their category where none is given."""
    if marks.retention_review is not None:
        return marks
    days = PROTECTED_RETENTION_DAYS if marks.protected else DEFAULT_RETENTION_DAYS
    return Markings(**{**marks.__dict__, "retention_review": today + dt.timedelta(days=days)})


def _fields(marks: Markings) -> dict[str, str | None]:
    return {
        "originator": marks.originator,
        "handling_code": marks.handling_code.value,
        "handling_note": marks.handling_note,
        "tlp": marks.tlp.value,
        "evaluation": marks.evaluation,
        "subject_category": marks.subject_category.value,
        "retention_review": marks.retention_review.isoformat() if marks.retention_review else None,
    }


def ftm_raw_statements(
    con: duckdb.DuckDBPyConnection, path: Path, mapping: Mapping, today: dt.date, strict: bool = False
) -> tuple[int, list[int]]:
    """Read an FtM JSONL file into the ``raw_st`` and ``file_markings`` tables of ``con`` (see ``run.py``);
    values are cleaned by the same SQL as mapped files. Returns the number of lines and the branches whose
    statements cannot repeat (see ``finish.finish_sql``). ``strict``: every line gives its own markings and
    nothing is filled in, not even a retention review (the lines of a STIX or graph export, ``exchange.py``)."""
    defaults: Markings | None = None
    if not strict:
        try:
            defaults = _markings(mapping, today)
        except MarkingError as exc:
            raise InputRejected(str(path), [RowProblem(str(path), 0, "(markings)", str(exc))]) from exc
    read = _read_with_duckdb(con, path)
    rows, single = read if read is not None else (_read_with_python(con, path), False)
    single_set = _line_markings(con, path, defaults, today, rows)
    # one marking set (a partner's own file): its code and namespace are constants; else each line's (ftm_lines)
    prefix, code = (q(single_set), "CAST(0 AS UBIGINT)") if single_set is not None else ("l.prefix", "l._k")
    scoped = namespaced_sql(prefix, "{v}")
    con.execute(
        "CREATE TEMP TABLE ftm_raw AS "
        "SELECT l._row, 'id' AS _column, "
        f"{scoped.format(v='l.id')} AS entity_id, l.schema, 'id' AS prop, 'id' AS prop_type, '' AS original_value, "
        f"{code} AS _k FROM ftm_lines l UNION ALL "
        f"SELECT v._row, v.prop, {scoped.format(v='l.id')}, v.schema, v.prop, c.prop_type, "
        f"CASE WHEN c.prop_type = 'entity' THEN {scoped.format(v='v.raw')} ELSE v.raw END, {code} "
        "FROM ftm_values v JOIN ftm_lines l USING (_row) "
        "JOIN ftm_catalogue c ON c.schema = v.schema AND c.prop = v.prop WHERE v.raw <> ''"
    )
    typed = " ".join(
        f"WHEN prop_type = {q(t)} THEN {_typed(PropertySpec(prop=''), t, 'original_value', mapping.country)}"
        for t in ("date", "number", "phone", "name", "string", "text", "address")
    )
    # the coded layout finish.py reads: one branch per (property, type) found, entity ids and the file's
    # marking sets numbered
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
    con.execute(
        f"CREATE TEMP TABLE raw_st AS SELECT _row, _b, _p, _c, CASE {typed} ELSE original_value END AS value, "
        "original_value, _k FROM (SELECT r._row, r.prop_type, r.original_value, b._b, b._p, "
        "e.h AS _c, r._k FROM ftm_raw r JOIN branches b ON b._column = r._column AND b.schema = r.schema "
        "AND b.prop = r.prop AND b.prop_type = r.prop_type JOIN ents e ON e.id = r.entity_id)"
    )
    bad = con.execute(f"SELECT * FROM ({value_checks_sql()}) ORDER BY 1 LIMIT 10000").fetchall()
    if bad:
        raise InputRejected(str(path), [RowProblem(str(path), int(r[0]), str(r[1]), str(r[2])) for r in bad], rows)
    return rows, _free_branches(con) if single else []


def _line_markings(
    con: duckdb.DuckDBPyConnection, path: Path, defaults: Markings | None, today: dt.date, rows: int
) -> str | None:
    """The file's marking sets: ``marks(h, marking_id)`` and ``file_markings`` (the sets used, as the store's
    markings table holds them). Returns the namespace prefix when every line has the same set (code 0); else each
    line of ``ftm_lines`` gets its set's code ``_k`` and ``prefix``. Lines without ``avellino:markings`` take the
    mapping's; a line's markings are checked against the vocabularies like a mapping's, every bad set named by its
    first line. Why per distinct set: an export has few (2,070 in the 200k sample), lines hundreds of thousands."""
    cols = ", ".join(LINE_MARKS)
    found = con.execute(f"SELECT {cols}, min(_row) FROM ftm_lines GROUP BY ALL ORDER BY min(_row)").fetchall()
    found = found or [(*(None for _ in LINE_MARKS), 0)]  # no line at all: the mapping's set, used by none
    sets: list[Markings] = []
    problems: list[RowProblem] = []
    for row in found:
        given = dict(zip(MARKING_FIELDS, row[:-1], strict=True))
        if defaults is None:  # strict: the line's own markings, nothing filled in
            merged = given
        elif all(v is None for v in given.values()):
            sets.append(defaults)
            continue
        else:
            merged = {**_fields(defaults), **{k: v for k, v in given.items() if v is not None}}
            merged["handling_note"] = given["handling_note"]  # a note belongs to the line's own handling code
            if given["retention_review"] is None:
                merged["retention_review"] = None  # the default for the line's own category, not the mapping's
        try:
            marks = Markings.parse(
                merged["originator"],
                merged["handling_code"],
                merged["tlp"],
                merged["evaluation"],
                merged["subject_category"],
                merged["retention_review"],
                merged["handling_note"],
            )
        except MarkingError as exc:
            problems.append(RowProblem(str(path), int(row[-1]), MARKINGS_KEY, str(exc)))
            continue
        sets.append(_with_retention(marks, today) if defaults is not None else marks)
    if problems:
        raise InputRejected(str(path), problems, rows)
    distinct = list(dict.fromkeys(sets))
    code = {m: i for i, m in enumerate(distinct)}
    key_cols = {c: pa.array([r[i] for r in found], pa.string()) for i, c in enumerate(LINE_MARKS)}
    keys = pa.table(
        {
            **key_cols,
            "h": pa.array([code[m] for m in sets], pa.uint64()),
            "prefix": [originator_slug(m.originator) + NAMESPACE_SEP for m in sets],
        }
    )
    values = {f: [_fields(m)[f] for m in distinct] for f in MARKING_FIELDS}
    table = pa.table(
        {"h": pa.array(range(len(distinct)), pa.uint64()), **{f: pa.array(v, pa.string()) for f, v in values.items()}}
    )
    same = " AND ".join(f"l.{c} IS NOT DISTINCT FROM s.{c}" for c in LINE_MARKS)
    with registered(con, line_sets=keys, mark_sets=table):
        if len(found) > 1:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE ftm_lines AS SELECT l.*, s.h AS _k, s.prefix FROM ftm_lines l "
                f"JOIN line_sets s ON {same}"
            )
        exprs = {f: f for f in MARKING_FIELDS}
        exprs["retention_review"] = "CAST(retention_review AS DATE)"
        selects = ", ".join(f"{e} AS {f}" for f, e in exprs.items())
        con.execute(
            f"CREATE TEMP TABLE file_markings AS SELECT h, {marking_id_sql(exprs)} AS marking_id, {selects} "
            "FROM mark_sets"
        )
    con.execute("CREATE TEMP TABLE marks AS SELECT h, marking_id FROM file_markings")
    con.execute("ALTER TABLE file_markings DROP COLUMN h")
    return str(keys["prefix"][0]) if len(found) == 1 else None


def _free_branches(con: duckdb.DuckDBPyConnection) -> list[int]:
    """For a file whose properties hold one value at most: every branch when each entity is also on one line
    only (then no statement can repeat), else none. Why: grouping the statements of the 1M sample's FtM files to
    drop repeats cost about 0.2 CPU-s, and such exports rarely have any."""
    unique = con.execute("SELECT count(*) = count(DISTINCT entity_id) FROM ftm_raw WHERE prop = 'id'").fetchall()
    if not unique[0][0]:
        return []
    return [int(b) for (b,) in con.execute("SELECT _b FROM branches").fetchall()]


def _catalogue(con: duckdb.DuckDBPyConnection) -> None:
    types = prop_types_table()
    con.register("ftm_catalogue", types.filter(pc.not_equal(types["prop"], BASE_PROP)))  # the id is no property


def _read_with_python(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Line by line in Python: slower, but names every bad line, property and reason (InputRejected)."""
    lines: dict[str, list[Any]] = {c: [] for c in ("_row", "id", "schema", *LINE_MARKS)}
    values: dict[str, list[Any]] = {c: [] for c in VALUE_COLUMNS}
    problems: list[RowProblem] = []
    rows = 0
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
        marks = data.get(MARKINGS_KEY) or {}
        if not isinstance(marks, dict) or any(isinstance(v, dict | list) for v in marks.values()):
            problems.append(RowProblem(str(path), number, MARKINGS_KEY, "markings must be an object of texts"))
            continue
        for name_, item in (("_row", number), ("id", str(data["id"])), ("schema", schema.name)):
            lines[name_].append(item)
        for field, column in zip(MARKING_FIELDS, LINE_MARKS, strict=True):
            given = marks.get(field)
            lines[column].append(None if given is None or str(given).strip() == "" else str(given))
        for pname, raw_values in properties.items():
            prop = schema.get(pname)
            if prop is None:
                hint = did_you_mean(pname, schema.properties)
                problems.append(RowProblem(str(path), number, pname, f"{schema.name} has no property {pname!r}{hint}"))
                continue
            for raw in raw_values if isinstance(raw_values, list) else [raw_values]:
                text = str(raw).strip()
                if text:
                    for column, cell in zip(VALUE_COLUMNS, (number, schema.name, prop.name, text), strict=True):
                        values[column].append(cell)
    if problems:
        raise InputRejected(str(path), problems, rows)
    _catalogue(con)
    text = pa.string()
    line_table = pa.table({c: pa.array(v, pa.int64() if c == "_row" else text) for c, v in lines.items()})
    value_table = pa.table({c: pa.array(v, pa.int64() if c == "_row" else text) for c, v in values.items()})
    with registered(con, py_lines=line_table, py_values=value_table):
        con.execute("CREATE TEMP TABLE ftm_lines AS SELECT * FROM py_lines")
        con.execute("CREATE TEMP TABLE ftm_values AS SELECT * FROM py_values")
    return rows


def _read_with_duckdb(con: duckdb.DuckDBPyConnection, path: Path) -> tuple[int, bool] | None:
    """A fast reader (Arrow's, else DuckDB's) for a well-formed file, about 3x less CPU than the Python loop:
    (lines, whether every property holds one value at most, as far as Arrow's reader found). None when the file
    has anything the fast path does not vouch for (blank lines shift line numbers, a byte-order mark, JSON that
    does not parse, unknown schemata or properties, missing ids), so the Python path can report it precisely."""
    if not _plain_lines(path):
        return None
    _catalogue(con)
    single = _lines_with_arrow(con, path)
    if single is None:
        if not _lines_with_duckdb(con, path):
            return None
        single = False
    bad = con.execute(
        "SELECT (SELECT count(*) FROM ftm_lines l WHERE coalesce(l.id, '') = '' OR NOT EXISTS "
        "(SELECT 1 FROM ftm_catalogue c WHERE c.schema = l.schema)) + (SELECT count(*) FROM ftm_values v "
        "WHERE NOT EXISTS (SELECT 1 FROM ftm_catalogue c WHERE c.schema = v.schema AND c.prop = v.prop))"
    ).fetchall()[0][0]
    if bad:
        for table in ("ftm_lines", "ftm_values"):
            con.execute(f"DROP TABLE {table}")
        return None
    return int(con.execute("SELECT count(*) FROM ftm_lines").fetchall()[0][0]), single


_ORDERED_SCAN = threading.Lock()

#: Characters trimmed around each value (as Python's ``str.strip`` does for the usual ones).
_TRIM = "' \t\n\r'"
#: How a line's markings are declared to the fast readers: every field text (a date stays text).
_MARKS_TYPE = pa.struct([(f, pa.string()) for f in MARKING_FIELDS])


def _mark_columns(source: str) -> str:
    """``m_originator``... from the markings struct column ``source``; blank texts are NULL (not given)."""
    return ", ".join(f"NULLIF(trim(CAST({source}.{f} AS VARCHAR)), '') AS m_{f}" for f in MARKING_FIELDS)


def _lines_with_arrow(con: duckdb.DuckDBPyConnection, path: Path) -> bool | None:
    """``ftm_lines(_row, id, schema, m_...)`` and ``ftm_values(_row, schema, prop, raw)`` from Arrow's JSON
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
                (MARKINGS_KEY, _MARKS_TYPE),
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
    if MARKINGS_KEY in names and table[MARKINGS_KEY].type != _MARKS_TYPE:
        return None
    props = table["properties"].type if "properties" in names else pa.struct([])
    if not pa.types.is_struct(props) or not all(pa.types.is_list(f.type) and f.type.value_type in text for f in props):
        return None
    marks = table[MARKINGS_KEY] if MARKINGS_KEY in names else pa.nulls(table.num_rows, _MARKS_TYPE)
    lines = pa.table(
        {
            "_row": pa.array(range(1, table.num_rows + 1), pa.int64()),
            "id": table["id"].cast(pa.string()),
            "schema": table["schema"].cast(pa.string()),
            "marks": marks,
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
    prop_names = pa.array([f.name for f in props] or [""], pa.string())
    values = pa.table(
        {
            "_row": pa.concat_arrays(parents) if parents else pa.array([], pa.int64()),
            "prop": pa.DictionaryArray.from_arrays(np.concatenate(which or [np.zeros(0, np.int32)]), prop_names),
            "raw": pa.concat_arrays(raws) if raws else pa.array([], pa.string()),
        }
    )
    single = all(
        (pc.max(pc.list_value_length(pc.struct_field(table["properties"], [i]))).as_py() or 0) <= 1
        for i in range(props.num_fields)
    )
    with registered(con, ftm_arrow=lines, ftm_flat=values):
        con.execute(f"CREATE TEMP TABLE ftm_lines AS SELECT _row, id, schema, {_mark_columns('marks')} FROM ftm_arrow")
        con.execute(
            "CREATE TEMP TABLE ftm_values AS SELECT v._row, l.schema, CAST(v.prop AS VARCHAR) AS prop, v.raw "
            "FROM ftm_flat v JOIN ftm_lines l USING (_row) WHERE l.id IS NOT NULL AND v.raw IS NOT NULL"
        )
    return single


def _lines_with_duckdb(con: duckdb.DuckDBPyConnection, path: Path) -> bool:
    """``ftm_lines`` and ``ftm_values`` (as :func:`_lines_with_arrow`) from DuckDB's JSON reader."""
    # Ordered scan, so row_number() is the line number (there are no blank lines, checked above). The setting
    # is the database's, shared by every file being prepared in this process: one file at a time turns it on
    # and back off, or one could turn it off under another's scan (the others only run slower meanwhile).
    struct = ", ".join(f"{f} VARCHAR" for f in MARKING_FIELDS)
    with _ORDERED_SCAN:
        try:
            con.execute("SET preserve_insertion_order = true")
            con.execute(
                "CREATE TEMP TABLE ftm_read AS SELECT row_number() OVER () AS _row, id, schema, properties, "
                f"\"{MARKINGS_KEY}\" AS marks FROM read_json(?, format = 'newline_delimited', "
                "maximum_object_size = 67108864, columns = {id: 'VARCHAR', schema: 'VARCHAR', "
                f"properties: 'MAP(VARCHAR, VARCHAR[])', \"{MARKINGS_KEY}\": 'STRUCT({struct})'}})",
                [str(path)],
            )
        except (duckdb.Error, UnicodeDecodeError):  # the error's own text may hold bytes that are not UTF-8
            return False
        finally:
            con.execute("SET preserve_insertion_order = false")
    con.execute(f"CREATE TEMP TABLE ftm_lines AS SELECT _row, id, schema, {_mark_columns('marks')} FROM ftm_read")
    con.execute(
        "CREATE TEMP TABLE ftm_values AS SELECT _row, schema, e.key AS prop, "
        f"trim(unnest(e.value), {_TRIM}) AS raw FROM (SELECT _row, schema, unnest(map_entries(properties)) AS e "
        "FROM ftm_read WHERE id IS NOT NULL)"
    )
    con.execute("DROP TABLE ftm_read")
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
