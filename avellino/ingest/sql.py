"""SQL text: the one place that quotes a literal or an identifier for the SQL ingest generates (DuckDB; the
same quoting holds in PostgreSQL)."""

from __future__ import annotations


def q(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier (a column named as the partner's file names it)."""
    return '"' + name.replace('"', '""') + '"'
