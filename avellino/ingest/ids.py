"""Deterministic entity ids in a namespace per originator, so no partner's ids can collide with another's.

An id is ``{originator-slug}--{local}``: the slug holds only ``a-z``, ``0-9`` and single dashes (runs of anything
else become one dash, none at either end), so ``--`` never occurs inside a slug and the namespace is everything
before the first ``--``. ``UK`` + ``nca-p1`` is ``uk--nca-p1`` and ``UK-NCA`` + ``p1`` is ``uk-nca--p1``: they
cannot meet. Why ``--`` and not ``:`` or ``.``: FtM ids allow only letters, digits, ``-`` and ``.``, and FtM's
namespaces read everything after a ``.`` as a signature and strip it (``ftm aggregate`` would fold a partner's
entities into one).

The same function is used in SQL (``entity_id_sql``) during ingest and in Python (``entity_id``) by the sample
generator's truth file and by tests, so both always agree. Key values are trimmed; empty keys are skipped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from avellino.ingest.sql import q

SEP = "\x1f"
#: Between an originator's slug and the id inside its namespace; never part of a slug.
NAMESPACE_SEP = "--"
_SLUG = re.compile(r"[^a-z0-9]+")


def originator_slug(originator: str) -> str:
    return _SLUG.sub("-", originator.strip().lower()).strip("-")


def namespaced(originator: str, local_id: str) -> str:
    """``local_id`` in the originator's namespace; an id already in it is returned unchanged (re-imports of an
    originator's own export keep their ids)."""
    prefix = originator_slug(originator) + NAMESPACE_SEP
    return local_id if local_id.startswith(prefix) else prefix + local_id


def namespace_of(entity_id: str) -> str | None:
    """The originator slug an id belongs to, or None for an id outside every namespace (a resolved cluster's)."""
    slug, sep, _rest = entity_id.partition(NAMESPACE_SEP)
    return slug if sep else None


def entity_id(originator: str, key_literal: str, keys: Sequence[str | None]) -> str:
    """``{originator-slug}--{sha1(key_literal, keys...)[:24]}``; key_literal defaults to the schema name."""
    parts = [key_literal] + [k.strip(" ") for k in keys if k is not None and k.strip(" ") != ""]
    digest = hashlib.sha1(SEP.join(parts).encode("utf-8")).hexdigest()[:24]
    return f"{originator_slug(originator)}{NAMESPACE_SEP}{digest}"


def slug_sql(originator_expr: str) -> str:
    """The DuckDB expression equal to :func:`originator_slug`."""
    return f"trim(regexp_replace(lower(trim({originator_expr})), '[^a-z0-9]+', '-', 'g'), '-')"


def namespaced_sql(prefix_expr: str, id_expr: str) -> str:
    """The DuckDB expression equal to :func:`namespaced`, given ``prefix_expr`` = slug || '--'."""
    return f"CASE WHEN starts_with({id_expr}, {prefix_expr}) THEN {id_expr} ELSE {prefix_expr} || {id_expr} END"


def entity_id_sql(originator_expr: str, key_literal: str, key_exprs: Sequence[str]) -> str:
    """The DuckDB expression equal to :func:`entity_id` for the given column expressions."""
    lit = q(key_literal)
    trimmed = [f"NULLIF(TRIM({k}), '')" for k in key_exprs]
    joined = f"concat_ws(chr(31), {lit}, {', '.join(trimmed)})" if trimmed else lit
    return f"({slug_sql(originator_expr)} || '{NAMESPACE_SEP}' || substr(sha1({joined}), 1, 24))"
