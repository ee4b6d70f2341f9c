"""Storage of marked statements. ``open_store`` picks the backend from the settings."""

from __future__ import annotations

from pathlib import Path

from avellino.settings import store_url, url_of_workspace, workspace_path
from avellino.store.base import Store
from avellino.store.schema import BatchInfo

__all__ = ["BatchInfo", "Store", "open_store"]


def open_store(
    workspace: Path | None = None, url: str | None = None, create: bool = False, read_only: bool = False
) -> Store:
    """The store for a workspace folder (DuckDB file) or, with a postgresql:// URL, a shared server. The URL may be
    given as ``url``, as the workspace itself (``--workspace postgresql://...``) or as ``AVELLINO_STORE_URL``.

    ``read_only``: the command only reads, so on DuckDB it runs side by side with other readers and writes
    nothing at open; a writer (the default) waits while others hold the file (``AVELLINO_LOCK_WAIT``). PostgreSQL
    serves many readers and writers at once and ignores the flag (no open runs DDL there: ``avellino init`` sets
    the schema up, see ``postgres_schema.py``)."""
    url = url or url_of_workspace(workspace) or store_url()
    if url:
        from avellino.store.postgres_store import PostgresStore

        return PostgresStore(url)
    from avellino.store.duckdb_store import DuckDBStore

    return DuckDBStore(workspace_path(workspace), create=create, read_only=read_only)
