"""One DuckDB transaction with Arrow tables in view: the pattern every write of the DuckDB backend follows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import pyarrow as pa


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, **tables: pa.Table) -> Iterator[None]:
    """Arrow ``tables`` readable by name in SQL for the duration of the block."""
    for name, table in tables.items():
        con.register(name, table)
    try:
        yield
    finally:
        for name in tables:
            con.unregister(name)


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection, **tables: pa.Table) -> Iterator[None]:
    """BEGIN ... COMMIT, rolled back on any error, with ``tables`` registered: all of the block or nothing."""
    with registered(con, **tables):
        con.begin()
        try:
            yield
            con.commit()
        except BaseException:
            con.rollback()
            raise
