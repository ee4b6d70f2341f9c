"""Turn a mapping into DuckDB SQL over the source table ``src``: row checks and raw statements.

Everything row-wise happens in SQL so a million-row file is checked and mapped in seconds; Python only
builds the query text. Each check returns (_row, _column, _reason) so that every bad row is reported at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import pyarrow as pa

from avellino.ingest.cleaning import phone_digits_sql, phone_e164_sql, phone_sql
from avellino.ingest.ids import entity_id_sql
from avellino.ingest.mapping import EntitySpec, Mapping, PropertySpec, ValueSpec
from avellino.ingest.readers import MULTI
from avellino.ingest.sql import ident, q
from avellino.model import model
from avellino.model.markings import VOCABULARIES, protected_sql
from avellino.store.schema import BASE_PROP, MARKING_FIELDS, marking_id_sql

#: Default review periods when a mapping sets none: protected people are kept under stricter retention.
DEFAULT_RETENTION_DAYS = 3 * 365
PROTECTED_RETENTION_DAYS = 365
ISO_DATE = r"^\d{4}(-\d{2}(-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?)?)?$"
#: a time with its zone (``Z`` or an offset), as platform and telecom exports write them: kept in UTC, because
#: FtM's dates carry no zone
ISO_ZONED = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$"


def col(name: str) -> str:
    return f"NULLIF(TRIM({ident(name)}), '')"


def trimmed(name: str) -> str:
    """:func:`col` for a cell read once per row: most cells begin and end with a printable ASCII character,
    which TRIM would leave as it is, so only the others pay for TRIM's copy (measured: 40% less CPU per cell;
    longer SQL, so not for cells read several times in one row)."""
    c = ident(name)
    printable = f"ascii({c}) BETWEEN 33 AND 126 AND ascii({c}[-1]) BETWEEN 33 AND 126"
    return f"(CASE WHEN {printable} THEN {c} ELSE NULLIF(TRIM({c}), '') END)"


def vocab_expr(field: str, raw: str, cell: str | None = None) -> str:
    """The canonical form of a marking ``field`` (NULL when not in its vocabulary). ``cell``: the source column
    as written, whose usual values (already canonical: "H0", "AMBER", "B2") are recognised before trimming and
    lower-casing it, two string copies per row and field (tests/ingest/test_cleaning.py checks they agree)."""
    key = f"lower(replace({raw}, ' ', ''))" if field == "evaluation" else f"lower({raw})"
    cases = " ".join(f"WHEN {q(k)} THEN {q(v)}" for k, v in VOCABULARIES[field].items())
    full = f"(CASE {key} {cases} END)"
    if cell is None:
        return full
    usual = " ".join(f"WHEN {q(v)} THEN {q(v)}" for v in sorted(set(VOCABULARIES[field].values())))
    return f"(CASE {cell} {usual} ELSE {full} END)"


class EntitySQL:
    """The SQL pieces for one mapped entity: its id, its markings, its presence on a row.

    Ids and markings are computed once per row into the ``frame`` table (columns ``_id_N`` and ``_mN_FIELD``),
    then every property's statements read them from there instead of recomputing a SHA-1 per value.
    """

    def __init__(self, mapping: Mapping, entity: EntitySpec, index: int, today: dt.date):
        self.mapping = mapping
        self.entity = entity
        self.index = index
        self.today = today
        self.specs = {**mapping.markings, **entity.markings}
        self.originator = self.raw("originator")
        self.present = " OR ".join(f"{col(k)} IS NOT NULL" for k in entity.keys)
        self.id_expr = entity_id_sql(self.originator, entity.key_literal, [col(k) for k in entity.keys])
        self.id = f"_id_{index}"

    def m(self, field: str) -> str:
        """This entity's marking ``field`` as read from the frame: a frame column when it depends on the row,
        else the constant expression itself (so constant markings cost nothing per row)."""
        expr = self.marking(field)
        if '"' not in expr:
            return expr
        # entities of a file usually share most markings (the same handling-code column...): one frame column
        # per distinct expression, named after the first entity that uses it
        for j, other in enumerate(self.mapping.entities[: self.index]):
            if EntitySQL(self.mapping, other, j, self.today).marking(field) == expr:
                return f"_m{j}_{field}"
        return f"_m{self.index}_{field}"

    @property
    def code(self) -> str:
        """The frame column holding this entity's id as a number (see :func:`codes_sql`)."""
        return f"_c_{self.index}"

    @property
    def kcode(self) -> str:
        """The frame column holding this entity's marking set as a number."""
        return f"_k_{self.index}"

    def marking_id(self) -> str:
        return marking_id_sql({f: self.m(f) for f in MARKING_FIELDS})

    def raw(self, field: str) -> str:
        spec = self.specs.get(field, ValueSpec())
        if spec.column:
            return col(spec.column)
        if spec.literal is not None:
            return q(spec.literal.strip())
        return "NULL"

    def column_of(self, field: str) -> str:
        spec = self.specs.get(field, ValueSpec())
        return spec.column or f"(markings.{field})"

    def marking(self, field: str) -> str:
        if field in VOCABULARIES:
            spec = self.specs.get(field, ValueSpec())
            return vocab_expr(field, self.raw(field), ident(spec.column) if spec.column else None)
        if field == "retention_review":
            spec = self.specs.get(field, ValueSpec())
            if spec.days is not None:
                return f"DATE {q((self.today + dt.timedelta(days=spec.days)).isoformat())}"
            if spec.column or spec.literal is not None:
                return f"TRY_CAST({self.raw(field)} AS DATE)"
            cat = self.marking("subject_category")
            short = (self.today + dt.timedelta(days=PROTECTED_RETENTION_DAYS)).isoformat()
            long = (self.today + dt.timedelta(days=DEFAULT_RETENTION_DAYS)).isoformat()
            return f"(CASE WHEN {protected_sql(cat)} THEN DATE {q(short)} ELSE DATE {q(long)} END)"
        return self.raw(field)

    def frame_columns(self) -> list[str]:
        # coalesce: a row with no originator still "has" the entity, so its checks run and report it
        cols = [f"CASE WHEN {self.present} THEN coalesce({self.id_expr}, '') END AS {self.id}"]
        cols += [f"{self.marking(f)} AS {self.m(f)}" for f in MARKING_FIELDS if self.m(f) == f"_m{self.index}_{f}"]
        return cols

    def frame_codes(self) -> str:
        """This entity's id and marking set as 64-bit hashes (see :func:`codes_sql`)."""
        marks = code_sql([self.m(f) for f in MARKING_FIELDS])
        return f"{code_sql([self.id])} AS {self.code}, {marks} AS {self.kcode}"

    def marks_select(self) -> str:
        """Distinct (marking code, marking fields) of this entity's rows."""
        fields = ", ".join(f"{self.m(f)} AS {f}" for f in MARKING_FIELDS)
        return f"SELECT DISTINCT {self.kcode} AS h, {fields} FROM frame WHERE {self.id} IS NOT NULL"

    def checks(self) -> list[str]:
        """SELECTs over ``frame`` returning (_row, _column, _reason) for every bad marking."""
        where = f"{self.id} IS NOT NULL"
        out = [
            f"SELECT _row, {q(self.column_of('originator'))}, 'originator is missing (every fact must say "
            f"which agency supplied it)' FROM frame WHERE {where} AND {self.m('originator')} IS NULL"
        ]
        for field in VOCABULARIES:
            raw = self.raw(field)
            allowed = ", ".join(sorted(set(VOCABULARIES[field].values())))
            label = field.replace("_", " ")
            out.append(
                f"SELECT _row, {q(self.column_of(field))}, CASE WHEN {raw} IS NULL THEN {q(label + ' is missing')} "
                f"ELSE {q(label + ' ')} || quote_value({raw}) || {q(' is not one of: ' + allowed)} END "
                f"FROM frame WHERE {where} AND {self.m(field)} IS NULL"
            )
        out.append(
            f"SELECT _row, {q(self.column_of('handling_note'))}, 'handling code H3 needs a handling note' "
            f"FROM frame WHERE {where} AND {self.m('handling_code')} = 'H3' AND {self.m('handling_note')} IS NULL"
        )
        spec = self.specs.get("retention_review", ValueSpec())
        if spec.column or spec.literal is not None:
            raw = self.raw("retention_review")
            out.append(
                f"SELECT _row, {q(self.column_of('retention_review'))}, 'retention review date ' || "
                f"quote_value({raw}) || ' is not a date (YYYY-MM-DD)' FROM frame "
                f"WHERE {where} AND {raw} IS NOT NULL AND {self.m('retention_review')} IS NULL"
            )
        return out


def _value_sources(prop: PropertySpec, entities: dict[str, EntitySQL]) -> list[tuple[str, str]]:
    """(column label, raw SQL expression over ``frame``) for each place a property's values come from. The
    frame's source columns are already trimmed, empty as NULL (see :func:`frame_sql`)."""
    if prop.literal is not None:
        return [("(literal)", q(prop.literal))]
    if prop.entity:
        return [(prop.entity, entities[prop.entity].id)]
    if prop.join is not None:
        joined = f"NULLIF(concat_ws({q(prop.join)}, {', '.join(ident(c) for c in prop.columns)}), '')"
        return [("+".join(prop.columns), joined)]
    return [(c, ident(c)) for c in prop.columns]


def _typed(prop: PropertySpec, type_name: str, raw: str, country: str | None) -> str:
    """SQL that cleans a raw value for its FtM type (NULL when it cannot be read)."""
    if type_name == "date":
        if prop.format:
            out = "%Y-%m-%dT%H:%M:%S" if any(t in prop.format for t in ("%H", "%M")) else "%Y-%m-%d"
            return f"strftime(try_strptime({raw}, {q(prop.format)}), {q(out)})"
        return (
            f"(CASE WHEN regexp_full_match({raw}, {q(ISO_DATE)}) AND (length({raw}) < 10 OR "
            f"TRY_CAST(substr({raw}, 1, 10) AS DATE) IS NOT NULL) THEN replace({raw}, ' ', 'T') "
            f"WHEN regexp_full_match({raw}, {q(ISO_ZONED)}) THEN strftime(timezone('UTC', "
            f"TRY_CAST(replace({raw}, ' ', 'T') AS TIMESTAMPTZ)), '%Y-%m-%dT%H:%M:%S') END)"
        )
    if type_name == "number":
        return f"(CASE WHEN TRY_CAST(replace({raw}, ',', '.') AS DOUBLE) IS NOT NULL THEN {raw} END)"
    if type_name == "phone":
        return phone_sql(raw, country)
    if type_name in {"name", "string", "text", "address"}:
        # runs of whitespace become one space; the regex only runs on the few values that need it
        odd = " OR ".join(f"contains({raw}, {w})" for w in ("'  '", "chr(9)", "chr(10)", "chr(12)", "chr(13)"))
        return f"(CASE WHEN {odd} THEN regexp_replace({raw}, '\\s+', ' ', 'g') ELSE {raw} END)"
    return raw


def code_sql(exprs: list[str]) -> str:
    """A 64-bit code for a value (or a tuple of values): DuckDB's hash. Codes are only trusted after
    :func:`code_collisions_sql` finds no two distinct values sharing one."""
    return f"hash({', '.join(exprs)})"


def frame_sql(mapping: Mapping, today: dt.date) -> str:
    """One row per source row: its columns, then each entity's id, markings and their codes."""
    entities = [EntitySQL(mapping, e, i, today) for i, e in enumerate(mapping.entities)]
    cols = [c for ent in entities for c in ent.frame_columns()]
    codes = [ent.frame_codes() for ent in entities]
    # the property columns, trimmed and empty as NULL once here: statements read them several times each
    # (a filter, the value, the value as written), and trimming in every place cost ~1 CPU-s per 1M records
    props = sorted({c for e in mapping.entities for p in e.properties for c in p.columns})
    replace = f" REPLACE ({', '.join(f'{trimmed(c)} AS {ident(c)}' for c in props)})" if props else ""
    # only the columns the mapping reads are copied into the frame
    used = ", ".join(ident(c) for c in sorted(mapping.columns_used()))
    return f"SELECT *{replace}, {', '.join(codes)} FROM (SELECT _row, {used}, {', '.join(cols)} FROM src)"


def markings_sql() -> str:
    """The distinct marking sets used by a file (rows of the store's markings table), from ``marks``."""
    return f"SELECT DISTINCT marking_id, {', '.join(MARKING_FIELDS)} FROM marks"


@dataclass(frozen=True)
class Branch:
    """One place statements come from: a mapped entity's id, or one value source of one of its properties.
    ``single`` when the branch gives at most one value per row (no split, the property's only source)."""

    column: str
    schema: str
    prop: str
    prop_type: str
    entity: int
    single: bool
    pair: int = 0  # numbers the (schema, property) pair: branches filling one property share it


def branches_table(branches: list[Branch]) -> pa.Table:
    """The ``branches`` table raw statements refer to by ``_b``, with ``_p`` numbering (schema, property)
    pairs (several branches may fill the same property, and their statements must be merged)."""
    return pa.table(
        {
            "_b": pa.array(range(len(branches)), pa.int16()),
            "_column": [b.column for b in branches],
            "schema": [b.schema for b in branches],
            "prop": [b.prop for b in branches],
            "prop_type": [b.prop_type for b in branches],
            "_p": pa.array([b.pair for b in branches], pa.int16()),
            "entity": pa.array([b.entity for b in branches], pa.int16()),
            "single": [b.single for b in branches],
        }
    )


def statements_sql(mapping: Mapping, today: dt.date, multi: bool = False) -> tuple[list[str], str, list[Branch]]:
    """(check SELECTs, raw statements SELECT, branches), over ``frame`` (see :func:`frame_sql` and
    :func:`codes_sql`). A raw statement is ``(_row, _b, _p, _c, value, original_value, _k)``: its row, branch,
    (schema, property) pair, entity code and marking code (see ``codes_sql``), its cleaned value and the value
    as written (NULL when the same). ``multi``: cells may hold JSON lists (joined with MULTI) to split into
    several values; only JSON sources do, and unnest is costly, so it is off otherwise."""
    entities = {e.name: EntitySQL(mapping, e, i, today) for i, e in enumerate(mapping.entities)}
    checks: list[str] = []
    branches: list[Branch] = []
    pairs: dict[tuple[str, str], int] = {}
    parts: list[str] = []

    def head(branch: Branch, ent: EntitySQL) -> str:
        b = len(branches)
        branch = dataclasses.replace(branch, pair=pairs.setdefault((branch.schema, branch.prop), len(pairs)))
        branches.append(branch)
        return f"SELECT _row, CAST({b} AS SMALLINT) AS _b, CAST({branch.pair} AS SMALLINT) AS _p, {ent.code} AS _c, "

    for name, ent in entities.items():
        spec = ent.entity
        schema = model[spec.schema]
        checks.extend(ent.checks())
        keyed = f"{ent.code}, {ent.kcode}"
        parts.append(
            head(Branch(name, schema.name, BASE_PROP, "id", ent.index, True), ent)
            # an id statement's value is the entity id: '' stands for it (see finish.py), which spares copying
            # and grouping a 40-character string per entity and row
            + f"'' AS value, NULL AS original_value, {ent.kcode} AS _k FROM frame WHERE {ent.id} IS NOT NULL"
        )
        for prop in spec.properties:
            ptype = schema.properties[prop.prop].type.name
            sources = _value_sources(prop, entities)
            splits = bool(prop.split or (prop.columns and multi))
            for label, raw in sources:
                value = raw
                if splits:
                    sep = prop.split or MULTI
                    value = f"NULLIF(TRIM(unnest(string_split({raw}, {q(sep)}))), '')"
                inner = (
                    f"SELECT _row, {keyed}, {value} AS v FROM frame WHERE {ent.id} IS NOT NULL AND {raw} IS NOT NULL"
                )
                mapped = "v"
                if prop.mapping:
                    cases = " ".join(f"WHEN {q(k)} THEN {q(v)}" for k, v in prop.mapping.items())
                    mapped = f"(CASE lower(v) {cases} ELSE v END)"
                # at most one value per row and entity: if the entity is also on one row only, none can repeat
                branch = Branch(label, schema.name, prop.prop, ptype, ent.index, len(sources) == 1 and not splits)
                # the value as written is kept only where cleaning changed it (NULL is cheaper to carry)
                if ptype == "phone":  # digits, then E.164, each computed once per value (see phone_sql)
                    inner = f"SELECT *, {phone_digits_sql(mapped)} AS _d FROM ({inner})"
                    inner = f"SELECT *, {phone_e164_sql(mapped, mapping.country, '_d')} AS _e FROM ({inner})"
                    cleaned = phone_sql(mapped, mapping.country, e164="_e")
                else:
                    cleaned = _typed(prop, ptype, mapped, mapping.country)
                typed = f"SELECT _row, {keyed}, v, {cleaned} AS value FROM ({inner})"
                parts.append(
                    head(branch, ent) + "value, CASE WHEN value IS DISTINCT FROM v THEN v END AS original_value, "
                    f"{ent.kcode} AS _k FROM ({typed} WHERE v IS NOT NULL)"
                )
    return checks, "\nUNION ALL\n".join(parts), branches


def codes_sql(mapping: Mapping, today: dt.date) -> list[str]:
    """Statements that list the file's distinct entity ids (table ``ents(h, id)``) and marking sets (``marks(h,
    marking_id, fields...)``) with the codes the frame gives them (columns ``_c_N`` and ``_k_N``).

    Why codes: raw statements then carry two integers instead of a 40-character id and a 32-character marking
    id, which made building, grouping and dictionary-encoding the 8.7M statements of the 1M-record sample about
    a third cheaper. Why hashes: computed row by row while the frame is built, they need no second pass over
    it (joining the frame to numbered ids cost 3 of the 33 CPU-seconds of preparing that sample). A collision
    is checked for (:func:`code_collisions_sql`) and then :func:`exact_codes_sql` numbers the values instead."""
    entities = [EntitySQL(mapping, e, i, today) for i, e in enumerate(mapping.entities)]
    ids = " UNION ALL ".join(
        f"SELECT {e.code} AS h, {e.id} AS id FROM frame WHERE {e.id} IS NOT NULL" for e in entities
    )
    marks = " UNION ".join(e.marks_select() for e in entities)
    fields = ", ".join(MARKING_FIELDS)
    return [
        f"CREATE TEMP TABLE ents AS SELECT DISTINCT h, id FROM ({ids})",
        f"CREATE TEMP TABLE marks AS SELECT h, {marking_id_sql()} AS marking_id, {fields} FROM ({marks})",
    ]


def code_collisions_sql() -> str:
    """How many codes stand for more than one value (0 but for a 64-bit hash collision)."""
    return "SELECT (SELECT count(*) - count(DISTINCT h) FROM ents) + (SELECT count(*) - count(DISTINCT h) FROM marks)"


def exact_codes_sql(mapping: Mapping, today: dt.date) -> list[str]:
    """After a collision: number the distinct ids and marking sets instead, and put those numbers in the frame."""
    entities = [EntitySQL(mapping, e, i, today) for i, e in enumerate(mapping.entities)]
    fields = ", ".join(MARKING_FIELDS)
    joins = " ".join(
        f"LEFT JOIN ents e{e.index} ON e{e.index}.id = f.{e.id} "
        f"LEFT JOIN marks k{e.index} ON k{e.index}.marking_id = {e.marking_id()}"
        for e in entities
    )
    codes = ", ".join(f"e{e.index}.h AS {e.code}, k{e.index}.h AS {e.kcode}" for e in entities)
    return [
        "CREATE OR REPLACE TEMP TABLE ents AS SELECT CAST(row_number() OVER () AS UBIGINT) AS h, id "
        "FROM (SELECT DISTINCT id FROM ents)",
        f"CREATE OR REPLACE TEMP TABLE marks AS SELECT CAST(row_number() OVER () AS UBIGINT) AS h, marking_id, "
        f"{fields} FROM (SELECT DISTINCT marking_id, {fields} FROM marks)",
        f"CREATE OR REPLACE TEMP TABLE frame AS SELECT f.* REPLACE ({codes}) FROM frame f {joins}",
    ]


def single_row_entities_sql(mapping: Mapping) -> str | None:
    """SQL over ``frame`` giving, for each mapped entity, whether each of its ids occurs on one row only (then
    none of its statements can repeat within the file, and the costly de-duplication can skip them). An entity
    sharing its key literal with another mapped entity may share ids with it, so it never counts."""
    literals = [e.key_literal for e in mapping.entities]
    tests = [
        f"count(_c_{i}) = count(DISTINCT _c_{i})" if literals.count(e.key_literal) == 1 else "false"
        for i, e in enumerate(mapping.entities)
    ]
    return f"SELECT {', '.join(tests)} FROM frame" if tests else None


def value_checks_sql() -> str:
    """Strict-typed values that did not parse, from the ``raw_st`` table (with its ``branches``)."""
    return (
        "SELECT r._row, b._column, 'cannot read ' || quote_value(r.original_value) || ' as a ' || b.prop_type || "
        "' for ' || b.schema || '.' || b.prop FROM raw_st r JOIN branches b USING (_b) "
        "WHERE r.value IS NULL AND b.prop_type IN ('date', 'number')"
    )


MACROS = [
    "CREATE OR REPLACE MACRO quote_value(v) AS '''' || left(v, 60) || ''''",
]
