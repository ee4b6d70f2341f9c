"""Setting up, checking and granting a PostgreSQL workspace: the only code that changes its schema (writes make
only temporary tables, and derived tables through the owner's function of migration 5).

``avellino init`` calls :func:`migrate` (and :func:`grant`); opening a store calls :func:`check`, which reads two
small tables and changes nothing, so an analyst's role needs no right beyond SELECT and a long read never waits
behind schema changes. Objects are created in the connection's current schema (the first of its
``search_path``), so one database can hold several workspaces, one per schema.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from avellino.errors import ConfigError, StoreError
from avellino.store.postgres_migrations import MIGRATIONS, SCHEMA_VERSION, writer_functions, writer_tables
from avellino.store.schema import prop_types_table

#: The command messages give for an upgrade; ``where`` is the redacted URL.
UPGRADE = "avellino init --upgrade --workspace {where}"

KINDS = ("analyst", "writer")


def redact(url: str) -> str:
    """The URL without its user and password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def init_workspace(
    url: str, upgrade: bool = False, analysts: Sequence[str] = (), writers: Sequence[str] = ()
) -> tuple[int, int]:
    """What ``avellino init`` does on PostgreSQL: migrate (see :func:`migrate`), then grant the roles. Returns the
    schema versions before and after."""
    import psycopg

    where = redact(url)
    try:
        con = psycopg.connect(url, autocommit=True)
    except psycopg.OperationalError as exc:
        raise StoreError(f"Cannot connect to PostgreSQL at {where}: {exc}") from exc
    with con:
        try:
            versions = migrate(con, where, upgrade)
            for role in analysts:
                grant(con, role, "analyst")
            for role in writers:
                grant(con, role, "writer")
        except psycopg.errors.InsufficientPrivilege as exc:
            raise StoreError(
                f"Cannot set up the PostgreSQL workspace at {where}: {exc.diag.message_primary}. Run `avellino init` "
                "as the role that owns the database (or its schema); analysts and writers need no such right."
            ) from exc
    return versions


def _one(cur: Any, sql: str, params: tuple[object, ...] = ()) -> Any:
    cur.execute(sql, params)
    row = cur.fetchone()
    return row[0] if row else None


def current_schema(cur: Any, where: str) -> str:
    """The schema the workspace lives in: the first of the search_path that exists and this role may use."""
    schema = _one(cur, "SELECT current_schema()")
    if schema is None:
        raise StoreError(
            f"The PostgreSQL database at {where} has no schema on the search_path "
            f"({_one(cur, 'SHOW search_path')}) that exists and that this role may use: create the schema, or "
            "ask its owner to grant this role (avellino init --grant-analyst ROLE, docs/postgres.md)."
        )
    return str(schema)


def current_version(cur: Any) -> int:
    """The schema version of the current schema: 0 when empty, 1 for the un-versioned first layout."""
    if _one(cur, "SELECT to_regclass('schema_version')") is not None:
        return int(_one(cur, "SELECT coalesce(max(version), 0) FROM schema_version"))
    return 1 if _one(cur, "SELECT to_regclass('stmt')") is not None else 0


def check(con: Any, where: str) -> None:
    """Raise StoreError unless the workspace is at this Avellino's schema version with this model's property
    catalogue. Reads only (no DDL, no writes): what every store open runs."""
    with con.transaction(), con.cursor() as cur:
        schema = current_schema(cur, where)
        version = current_version(cur)
        if version == 0:
            raise StoreError(
                f"No Avellino workspace in the PostgreSQL database at {where} (schema {schema}). Create it with: "
                f"avellino init --workspace {where} (as a role that may create tables)."
            )
        _check_not_newer(version)
        if version < SCHEMA_VERSION:
            raise StoreError(
                f"The PostgreSQL workspace at {where} has schema version {version}; this Avellino needs "
                f"{SCHEMA_VERSION}. An administrator upgrades it with: {UPGRADE.format(where=where)}"
            )
        stored = _one(
            cur,
            "SELECT md5(coalesce(string_agg(schema || '.' || prop || ':' || prop_type, ',' "
            'ORDER BY schema COLLATE "C", prop COLLATE "C"), \'\')) FROM prop_types',
        )
    if stored != catalogue_fingerprint():
        raise StoreError(
            f"The PostgreSQL workspace at {where} records the property types of another version of the model. "
            f"An administrator refreshes them with: {UPGRADE.format(where=where)}"
        )


def _check_not_newer(version: int) -> None:
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"This PostgreSQL workspace was set up by a newer Avellino (schema version {version}, this one knows "
            f"up to {SCHEMA_VERSION}); upgrade Avellino to use it."
        )


@lru_cache(maxsize=1)
def catalogue_fingerprint() -> str:
    """md5 of the model's (schema, property, type) catalogue, as :func:`check` computes it in SQL."""
    rows = sorted(
        zip(*(prop_types_table().column(c).to_pylist() for c in ("schema", "prop", "prop_type")), strict=True)
    )
    text = ",".join(f"{s}.{p}:{t}" for s, p, t in rows)
    return hashlib.md5(text.encode()).hexdigest()


def migrate(con: Any, where: str, upgrade: bool = False) -> tuple[int, int]:
    """Bring the current schema to this Avellino's version, all in one transaction; return (before, after).

    An empty schema gets every migration. An existing workspace at an older version is upgraded only with
    ``upgrade`` (an administrator's decision: the upgrade may rewrite tables while analysts wait). At any version,
    the model's property catalogue is refreshed and the recorded roles are granted every table."""
    with con.transaction(), con.cursor() as cur:
        # two inits at once (two administrators, a compose restart) queue here instead of racing
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('avellino init ' || %s))", (current_schema(cur, where),))
        before = current_version(cur)
        _check_not_newer(before)
        if 0 < before < SCHEMA_VERSION and not upgrade:
            raise StoreError(
                f"The PostgreSQL workspace at {where} has schema version {before}; this Avellino needs "
                f"{SCHEMA_VERSION}. Nothing was changed. Upgrade it with: {UPGRADE.format(where=where)}"
            )
        cur.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at TIMESTAMP NOT NULL DEFAULT now())"
        )
        if before >= 1:  # the first layout had no version table: record that it was there
            cur.execute(
                "INSERT INTO schema_version (version, name) VALUES (1, %s) ON CONFLICT DO NOTHING",
                (MIGRATIONS[0].name,),
            )
        for migration in MIGRATIONS:
            if migration.version > before:
                for sql in migration.statements():
                    cur.execute(sql)
                cur.execute(
                    "INSERT INTO schema_version (version, name) VALUES (%s, %s)", (migration.version, migration.name)
                )
        _refresh_prop_types(cur)
        for role, kind in recorded_roles(cur):
            _apply_grant(cur, role, kind)
    return before, SCHEMA_VERSION


def _refresh_prop_types(cur: Any) -> None:
    """Make ``prop_types`` the model's catalogue (rows, not the table, change: readers never wait on it)."""
    table = prop_types_table()
    cur.execute("CREATE TEMP TABLE _model_props (schema TEXT, prop TEXT, prop_type TEXT) ON COMMIT DROP")
    with cur.copy("COPY _model_props (schema, prop, prop_type) FROM STDIN") as copy:
        for row in zip(*(table.column(c).to_pylist() for c in ("schema", "prop", "prop_type")), strict=True):
            copy.write_row(row)
    cur.execute(
        "DELETE FROM prop_types t WHERE NOT EXISTS "
        "(SELECT 1 FROM _model_props n WHERE n.schema = t.schema AND n.prop = t.prop)"
    )
    cur.execute(
        "INSERT INTO prop_types SELECT schema, prop, prop_type FROM _model_props ON CONFLICT (schema, prop) "
        "DO UPDATE SET prop_type = EXCLUDED.prop_type WHERE prop_types.prop_type IS DISTINCT FROM EXCLUDED.prop_type"
    )


def grant(con: Any, role: str, kind: str) -> None:
    """Let an existing database role read (``analyst``) or also write (``writer``) this workspace, now and after
    later migrations. Neither kind may change the workspace's tables (no ALTER, DROP or TRUNCATE)."""
    if kind not in KINDS:
        raise ConfigError(f"unknown kind of role {kind!r}: analyst or writer")
    with con.transaction(), con.cursor() as cur:
        if _one(cur, "SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)) is None:
            raise ConfigError(
                f"There is no PostgreSQL role {role!r}. A database administrator creates it first, e.g. "
                f"CREATE ROLE {role} LOGIN PASSWORD '...'; (see docs/postgres.md)"
            )
        cur.execute(
            "INSERT INTO role_grants (role, kind) VALUES (%s, %s) "
            "ON CONFLICT (role) DO UPDATE SET kind = EXCLUDED.kind",
            (role, kind),
        )
        _apply_grant(cur, role, kind)


def _apply_grant(cur: Any, role: str, kind: str) -> None:
    from psycopg import sql

    who = sql.Identifier(role)
    schema = sql.Identifier(_one(cur, "SELECT current_schema()"))
    cur.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, who))
    if kind == "writer":
        # derived tables (x_...: clusters, judgements, the network) are made through the owner's function
        # (migration 5): a writer changes rows, never a table
        for function in writer_functions():
            cur.execute(sql.SQL(f"GRANT EXECUTE ON FUNCTION {function} TO {{}}").format(who))
    writes = writer_tables() if kind == "writer" else {}
    # the tables and views this role may grant (a derived table made by an earlier Avellino belongs to whoever
    # made it, who granted it then)
    owned = cur.execute(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace "
        "AND c.relkind IN ('r', 'v', 'p') AND pg_has_role(current_user, c.relowner, 'MEMBER') ORDER BY 1"
    ).fetchall()
    for (table,) in owned:
        if table.startswith("x_"):
            grant_derived(cur, table, [(role, kind)])
            continue
        privileges = ", ".join(["SELECT", *filter(None, [writes.get(table)])])
        cur.execute(sql.SQL(f"GRANT {privileges} ON {{}} TO {{}}").format(sql.Identifier(table), who))


def grant_derived(cur: Any, table: str, roles: list[tuple[str, str]]) -> None:
    """Grant a derived table to the recorded roles: analysts read it, writers also replace and append rows."""
    from psycopg import sql

    for role, kind in roles:
        privileges = "SELECT, INSERT, UPDATE, DELETE" if kind == "writer" else "SELECT"
        cur.execute(sql.SQL(f"GRANT {privileges} ON {{}} TO {{}}").format(sql.Identifier(table), sql.Identifier(role)))


def recorded_roles(cur: Any) -> list[tuple[str, str]]:
    """The roles granted by ``avellino init``, less those dropped from the server since."""
    return [
        (r, k)
        for r, k in cur.execute(
            "SELECT role, kind FROM role_grants g WHERE EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = g.role) "
            "ORDER BY role"
        ).fetchall()
    ]
