"""Deterministic entity ids, signed by originator so that one partner's ids cannot collide with another's.

The same function is used in SQL (``entity_id_sql``) during ingest and in Python (``entity_id``) by the sample
generator's truth file and by tests, so both always agree. Key values are trimmed; empty keys are skipped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

SEP = "\x1f"
_SLUG = re.compile(r"[^a-z0-9]+")


def originator_slug(originator: str) -> str:
    return _SLUG.sub("-", originator.strip().lower()).strip("-")


def entity_id(originator: str, key_literal: str, keys: Sequence[str | None]) -> str:
    """``{originator-slug}-{sha1(key_literal, keys...)[:24]}``; key_literal defaults to the schema name."""
    parts = [key_literal] + [k.strip(" ") for k in keys if k is not None and k.strip(" ") != ""]
    digest = hashlib.sha1(SEP.join(parts).encode("utf-8")).hexdigest()[:24]
    return f"{originator_slug(originator)}-{digest}"


def entity_id_sql(originator_expr: str, key_literal: str, key_exprs: Sequence[str]) -> str:
    """The DuckDB expression equal to :func:`entity_id` for the given column expressions."""
    lit = key_literal.replace("'", "''")
    trimmed = [f"NULLIF(TRIM({k}), '')" for k in key_exprs]
    joined = f"concat_ws(chr(31), '{lit}', {', '.join(trimmed)})" if trimmed else f"'{lit}'"
    slug = f"trim(regexp_replace(lower(trim({originator_expr})), '[^a-z0-9]+', '-', 'g'), '-')"
    return f"({slug} || '-' || substr(sha1({joined}), 1, 24))"
