"""Entity ids of a workspace ingested before ids were namespaced, rewritten in place (``workspace migrate-ids``).

Before issue 17 an id was ``{originator-slug}-{local}`` (``uk-nca-3f2a…`` or, for an FtM file's own id ``p1``,
``uk-nca-p1``), so the agency ``UK``'s record ``nca-p1`` and ``UK-NCA``'s record ``p1`` were one entity. Now it is
``{slug}--{local}`` (``ingest/ids.py``), and a bundle's facts must lie in their originator's namespace, so an old
workspace cannot share until its ids are rewritten. Rewriting is done per statement, by its originator (what a
re-ingest would do): ``slug-local`` becomes ``slug--local``, an id outside the slug becomes ``slug--id``, an id
already in the namespace stays. So an old id that several originators wrote is split into one entity per
originator, and an old id whose new form already exists (something ingested after the upgrade) joins it.

Everything keyed by entity id follows, in the same transaction: every statement's entity, entity-valued property
values (references, rewritten by the referring statement's originator, as ingest namespaces them), the canonical
table (both columns), and the derived tables that hold record ids (``DERIVED_IDS``: resolution's judgements,
features, scored pairs and clusters, the network's nodes and edges, hit/no-hit references). A split id's derived
rows and cluster go to the part its own prefix names (``uk-nca-p1`` -> ``uk-nca--p1``); the other parts start
unresolved (``resolve run`` scores them). Statements that become equal are stored once. The audit log is never
rewritten: it records what was done, with the old ids.

Running it again changes nothing: every id is then in its statement's namespace. The same SQL runs on both
backends, over each one's physical layout (DuckDB: the ``entities`` table behind integer keys; PostgreSQL: the
string columns of ``stmt``, rows deleted and re-inserted because a writer role may not UPDATE them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from avellino.ingest.ids import NAMESPACE_SEP, originator_slug
from avellino.store.base import Store
from avellino.store.schema import BASE_PROP

#: Derived tables (without the backend's ``x_`` prefix) -> their columns that hold record (or unresolved canonical)
#: ids; tables of scored pairs keep ``id_l < id_r``.
DERIVED_IDS: dict[str, tuple[str, ...]] = {
    "resolve_judgements": ("left_id", "right_id"),
    "resolve_features": ("unique_id",),
    "resolve_edges": ("id_l", "id_r"),
    "resolve_clusters": ("entity_id", "cluster_id"),
    "resolve_thing_edges": ("id_l", "id_r"),
    "resolve_thing_clusters": ("entity_id", "cluster_id"),
    "network_nodes": ("id",),
    "network_edges": ("source", "target"),
    "network_metrics": ("id", "component"),
    "hitcheck_references": ("entity_id",),
}
ORDERED_PAIRS = {"resolve_edges", "resolve_thing_edges"}

Progress = Callable[[str], None]


@dataclass
class Outcome:
    """What a migration changed (all zero when the workspace was already namespaced)."""

    ids: int = 0  #: old entity ids rewritten
    split: int = 0  #: old ids several originators wrote, now one entity per originator
    joined: int = 0  #: old ids whose new form already existed, now one entity with it
    statements: int = 0  #: statements whose entity changed
    references: int = 0  #: entity-valued statements whose value changed
    duplicates: int = 0  #: statements that became equal to another and are stored once
    canonical: int = 0  #: rows of the canonical table
    derived: dict[str, int] = field(default_factory=dict)  #: rows changed per derived table

    @property
    def changed(self) -> bool:
        return bool(self.ids or self.references or self.statements)

    def as_counts(self) -> dict[str, int]:
        out = {k: v for k, v in self.__dict__.items() if isinstance(v, int)}
        out.update({f"derived {k}": v for k, v in self.derived.items()})
        return out


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def slug_case(originators: list[str], column: str) -> str:
    """SQL giving each originator's slug (``ids.originator_slug``, computed here once per originator)."""
    if not originators:
        return "CAST(NULL AS VARCHAR)"
    whens = " ".join(f"WHEN {_quote(o)} THEN {_quote(originator_slug(o))}" for o in originators)
    return f"CASE {column} {whens} END"


def namespaced_sql(slug: str, value: str) -> str:
    """SQL for the namespaced form of an id (see the module docstring), given SQL for its slug and the id."""
    sep = _quote(NAMESPACE_SEP)
    return (
        f"CASE WHEN starts_with({value}, {slug} || {sep}) THEN {value} "
        f"WHEN starts_with({value}, {slug} || '-') THEN {slug} || {sep} || substr({value}, length({slug}) + 2) "
        f"ELSE {slug} || {sep} || {value} END"
    )


def _originators(store: Store) -> list[str]:
    table = store.aggregate(["originator"])
    return sorted(str(o) for o in table.column("originator").to_pylist() if o is not None)


def outside_namespace(store: Store) -> tuple[int, int]:
    """(statements whose entity id, references whose value) lies outside their originator's namespace: non-zero
    in a workspace ingested before ids were namespaced. One read of the statements view (either backend)."""
    slug = slug_case(_originators(store), "originator")
    sep = _quote(NAMESPACE_SEP)
    sql = (
        f"SELECT count(*) FILTER (WHERE NOT starts_with(entity_id, {slug} || {sep})) AS ids, "
        f"count(*) FILTER (WHERE prop_type = 'entity' AND value IS NOT NULL AND NOT starts_with(value, {slug} || "
        f"{sep})) AS refs FROM statements"
    )
    schema = pa.schema([("ids", pa.int64()), ("refs", pa.int64())])
    got = next(iter(store.stream_query(sql, schema)), None)
    if got is None or not got.num_rows:
        return 0, 0
    return int(got.column(0)[0].as_py() or 0), int(got.column(1)[0].as_py() or 0)


def unmigrated_message(workspace: object, ids: int) -> str:
    return (
        f"{ids:,} statements of this workspace have entity ids outside their originator's namespace: it was "
        "ingested before ids were namespaced (uk-nca-p1 instead of uk-nca--p1), and every partner would refuse "
        f"them. Rewrite them in place first: avellino workspace migrate-ids -w {workspace}"
    )


# -- the migration -------------------------------------------------------------------------------------------------


class _Sql:
    """The SQL both backends share, with what differs between them (temporary tables, the cursor)."""

    def __init__(self, store: Store, postgres: bool):
        self.postgres = postgres
        self.con: Any = store.con  # type: ignore[attr-defined]
        self.cur: Any = self.con.cursor() if postgres else self.con

    def run(self, sql: str, params: list[object] | None = None) -> int:
        """Execute; the rows a DML statement changed."""
        if self.postgres:
            self.cur.execute(sql, params)
            return int(self.cur.rowcount or 0)
        result = self.con.execute(sql, params).fetchall()
        return int(result[0][0]) if result and result[0] and isinstance(result[0][0], int) else 0

    def one(self, sql: str) -> int:
        """The first column of the first row, as an int (0 for NULL)."""
        if self.postgres:
            self.cur.execute(sql)
            row = self.cur.fetchone()
        else:
            row = self.con.execute(sql).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def temp(self, name: str, sql: str) -> None:
        if self.postgres:
            self.run(f"DROP TABLE IF EXISTS {name}")
            self.run(f"CREATE TEMP TABLE {name} ON COMMIT DROP AS {sql}")
        else:
            self.run(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")

    def derived_columns(self, table: str) -> set[str]:
        sql = "SELECT column_name FROM information_schema.columns WHERE table_name = " + _quote(table)
        if self.postgres:
            self.cur.execute(sql + " AND table_schema = current_schema()")
            return {str(r[0]) for r in self.cur.fetchall()}
        return {str(r[0]) for r in self.con.execute(sql).fetchall()}


def migrate(store: Store, progress: Progress = lambda _line: None) -> Outcome:
    """Rewrite every un-namespaced id of the workspace and everything keyed by it, as ONE transaction (see the
    module docstring); nothing is written when every id is already namespaced."""
    from avellino.store.duckdb_store import DuckDBStore

    ids, refs = outside_namespace(store)
    progress(f"{ids:,} statements with an old entity id, {refs:,} references to one")
    if not ids and not refs:
        return Outcome()
    postgres = not isinstance(store, DuckDBStore)
    sql = _Sql(store, postgres)
    if postgres:
        with store.con.transaction():  # type: ignore[attr-defined]
            return _migrate(sql, _originators(store), progress)
    sql.con.begin()
    try:
        done = _migrate(sql, _originators(store), progress)
        sql.con.commit()
    except BaseException:
        sql.con.rollback()
        raise
    return done


def _migrate(sql: _Sql, originators: list[str], progress: Progress) -> Outcome:
    out = Outcome()
    key = "marking_id" if sql.postgres else "marking_key"
    sql.temp("_ms", f"SELECT {key}, {slug_case(originators, 'originator')} AS slug FROM markings")
    if sql.postgres:
        entity, stmt_from = "s.entity_id", "stmt s JOIN _ms ms USING (marking_id)"
    else:
        entity = "e.entity_id"
        stmt_from = "stmt s JOIN entities e USING (entity_key) JOIN _ms ms USING (marking_key)"
    ek = "s.entity_id" if sql.postgres else "s.entity_key"
    sql.temp(
        "_pairs",
        f"SELECT {ek} AS ekey, {entity} AS old_id, ms.slug, count(*) AS n, {namespaced_sql('ms.slug', entity)} "
        f"AS new_id FROM {stmt_from} GROUP BY {ek}, {entity}, ms.slug",
    )
    # the part of an old id that keeps its derived rows and cluster: already namespaced, else the longest slug its
    # old prefix names, else the most statements
    rank = (
        "row_number() OVER (PARTITION BY ekey ORDER BY CASE WHEN new_id = old_id THEN 1 ELSE 0 END DESC, "
        "CASE WHEN starts_with(old_id, slug || '-') THEN length(slug) ELSE 0 END DESC, n DESC, slug)"
    )
    sql.temp("_ranked", f"SELECT *, {rank} AS r FROM _pairs")
    sql.temp("_idmap", "SELECT old_id, new_id FROM _ranked WHERE r = 1 AND new_id <> old_id")
    out.ids = sql.one("SELECT count(DISTINCT old_id) FROM _ranked WHERE new_id <> old_id")
    out.split = sql.one("SELECT count(*) FROM (SELECT ekey FROM _pairs GROUP BY ekey HAVING count(*) > 1) x")
    out.joined = sql.one(
        "SELECT count(*) FROM (SELECT new_id FROM _ranked GROUP BY new_id HAVING count(DISTINCT ekey) > 1) x"
    )
    progress(f"{out.ids:,} ids to rewrite ({out.split:,} split by originator, {out.joined:,} joining an existing id)")
    if sql.postgres:
        _statements_postgres(sql, out)
    else:
        _statements_duckdb(sql, out)
    progress(f"statements: {out.statements:,} moved, {out.references:,} references rewritten, "
             f"{out.duplicates:,} duplicates stored once")  # fmt: skip
    _canonical(sql, out)
    progress(f"canonical table: {out.canonical:,} rows")
    for table, columns in DERIVED_IDS.items():
        name = f"x_{table}"
        present = sql.derived_columns(name)
        changed = 0
        for column in columns:
            if column in present:
                changed += sql.run(
                    f'UPDATE {name} SET "{column}" = m.new_id FROM _idmap m WHERE {name}."{column}" = m.old_id'
                )
        if table in ORDERED_PAIRS and {"id_l", "id_r"} <= present:
            sql.run(f"UPDATE {name} SET id_l = id_r, id_r = id_l WHERE id_l > id_r")
        if changed:
            out.derived[table] = changed
            progress(f"{table}: {changed:,} ids")
    return out


def _statements_duckdb(sql: _Sql, out: Outcome) -> None:
    """Entities behind integer keys: a key keeps its row (renamed) when it is the first to claim its new id; the
    parts of a split id and the ids joining an existing one move their statements to that id's key."""
    sql.temp(
        "_keeps",
        "SELECT new_id, min(ekey) AS k FROM _ranked WHERE r = 1 GROUP BY new_id",
    )
    sql.temp(
        "_target",
        "SELECT t.new_id, coalesce(k.k, (SELECT max(entity_key) FROM entities) + row_number() OVER (ORDER BY "
        "t.new_id)) AS k, k.k IS NULL AS fresh FROM (SELECT DISTINCT new_id FROM _ranked) t "
        "LEFT JOIN _keeps k USING (new_id)",
    )
    # keys that give up their row: renamed last, so that no two rows ever hold one id
    sql.run("DELETE FROM entities WHERE entity_key IN (SELECT ekey FROM _ranked WHERE r = 1) "
            "AND entity_key NOT IN (SELECT k FROM _target)")  # fmt: skip
    sql.run(
        "UPDATE entities SET entity_id = t.new_id FROM _target t WHERE entities.entity_key = t.k "
        "AND NOT t.fresh AND entities.entity_id <> t.new_id"
    )
    sql.run("INSERT INTO entities SELECT k, new_id FROM _target WHERE fresh")
    # the (old key, originator) parts whose statements change key: few, so only their statements are joined
    sql.temp("_remap", "SELECT p.ekey, p.slug, t.k FROM _ranked p JOIN _target t USING (new_id) WHERE t.k <> p.ekey")
    moved = (
        "SELECT s.rowid AS rid, r.k FROM stmt s JOIN _remap r ON r.ekey = s.entity_key JOIN _ms ms "
        "ON ms.marking_key = s.marking_key AND ms.slug = r.slug"
    )
    out.statements = sql.one(f"SELECT count(*) FROM ({moved}) m")
    if out.statements:
        sql.run(f"UPDATE stmt SET entity_key = m.k FROM ({moved}) m WHERE stmt.rowid = m.rid")
    refs = "SELECT prop_key FROM props WHERE prop_type = 'entity'"
    value = namespaced_sql("ms.slug", "stmt.value")
    out.references = sql.one(
        f"SELECT count(*) FROM stmt JOIN _ms ms USING (marking_key) WHERE stmt.prop_key IN ({refs}) "
        f"AND stmt.value IS NOT NULL AND {value} <> stmt.value"
    )
    sql.run(
        f"UPDATE stmt SET value = {value} FROM _ms ms WHERE stmt.marking_key = ms.marking_key "
        f"AND stmt.prop_key IN ({refs}) AND stmt.value IS NOT NULL AND {value} <> stmt.value"
    )
    dupes = (
        "SELECT rowid FROM (SELECT rowid, row_number() OVER (PARTITION BY entity_key, prop_key, value, marking_key "
        "ORDER BY batch_key, rowid) AS n FROM stmt) x WHERE n > 1"
    )
    out.duplicates = sql.one(f"SELECT count(*) FROM ({dupes}) d")
    if out.duplicates:
        sql.run(f"DELETE FROM stmt WHERE rowid IN ({dupes})")


def _statements_postgres(sql: _Sql, out: Outcome) -> None:
    """String ids in ``stmt``: the statements that change are deleted and inserted rewritten, in one go, so the
    unique key stores statements that became equal once (a writer role may INSERT and DELETE, not UPDATE)."""
    new_entity = namespaced_sql("ms.slug", "s.entity_id")
    new_value = namespaced_sql("ms.slug", "s.value")
    is_ref = "t.prop_type = 'entity' AND s.value IS NOT NULL"
    value = f"CASE WHEN s.prop = '{BASE_PROP}' THEN {new_entity} WHEN {is_ref} THEN {new_value} ELSE s.value END"
    sql.temp(
        "_moved",
        f"SELECT s.ctid AS tid, {new_entity} AS entity_id, s.schema, s.prop, {value} AS value, s.original_value, "
        f"s.source_row, s.marking_id, s.batch_id, {new_entity} <> s.entity_id AS moved, "
        f"({is_ref} AND {new_value} <> s.value) AS ref FROM stmt s JOIN _ms ms USING (marking_id) "
        "LEFT JOIN prop_types t ON t.schema = s.schema AND t.prop = s.prop "
        f"WHERE {new_entity} <> s.entity_id OR ({is_ref} AND {new_value} <> s.value)",
    )
    out.statements = sql.one("SELECT count(*) FROM _moved WHERE moved")
    out.references = sql.one("SELECT count(*) FROM _moved WHERE ref")
    gone = sql.run("DELETE FROM stmt WHERE ctid IN (SELECT tid FROM _moved)")
    cols = "entity_id, schema, prop, value, original_value, source_row, marking_id, batch_id"
    added = sql.run(
        f"INSERT INTO stmt ({cols}) SELECT {cols} FROM _moved ORDER BY entity_id, prop, marking_id, md5(value) "
        "ON CONFLICT (entity_id, prop, marking_id, md5(value)) DO NOTHING"
    )
    out.duplicates = gone - added


def _canonical(sql: _Sql, out: Outcome) -> None:
    """Both columns through the old -> new map (a split id's other parts start unresolved); one row per id."""
    sql.temp(
        "_canon",
        "SELECT coalesce(a.new_id, c.entity_id) AS entity_id, min(coalesce(b.new_id, c.canonical_id)) AS canonical_id "
        "FROM canon c LEFT JOIN _idmap a ON a.old_id = c.entity_id LEFT JOIN _idmap b ON b.old_id = c.canonical_id "
        "GROUP BY 1",
    )
    sql.run("DELETE FROM canon")
    sql.run("INSERT INTO canon SELECT entity_id, canonical_id FROM _canon WHERE canonical_id <> entity_id")
    out.canonical = sql.one("SELECT count(*) FROM canon")
