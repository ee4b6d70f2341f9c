"""What the audit log costs: one entry per audited command, and `audit verify` over a long log.

    .venv/bin/python benchmarks/audit_log.py [--entries 300] [--chain 100000] [--pg postgresql://...]

Appends ``--entries`` entries through ``audit.record`` to a fresh DuckDB workspace (each append opens the workspace's
audit file, as each command does) and, with ``--pg``, to a fresh schema of that server; then times ``verify`` on
what was written, and the chain check alone on a synthetic log of ``--chain`` entries. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
import uuid
from pathlib import Path

from avellino.share import audit
from avellino.share.audit_sql import GENESIS
from avellino.store.base import Store


def _appends(store: Store, n: int) -> dict[str, float]:
    begun = time.perf_counter()
    for i in range(n):
        audit.record(store, user="bench", purpose="benchmark", action="read", touched=[f"uk-nca--p{i}", "fr--x"])
    appended = time.perf_counter() - begun
    begun = time.perf_counter()
    assert audit.verify(store) == n
    verified = time.perf_counter() - begun
    return {
        "entries": n,
        "append_ms_per_entry": round(1000 * appended / n, 3),
        "verify_s": round(verified, 3),
    }


def _chain(n: int) -> dict[str, float]:
    rows, prev = [], GENESIS
    for seq in range(1, n + 1):
        text = audit.canonical_json(
            {"seq": seq, "time": "2026-12-03T10:00:00.000000Z", "user": "bench", "purpose": "benchmark",
             "action": "export ftm", "touched": {"count": 2, "ids": ["uk-nca--p1", "fr--x"]}, "prev": prev}
        )  # fmt: skip
        prev = audit.entry_hash(text)
        rows.append((seq, text, prev))
    begun = time.perf_counter()
    audit.check_chain(rows, (n, prev))
    took = time.perf_counter() - begun
    return {"entries": n, "check_s": round(took, 3), "entries_per_s": round(n / took)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=300)
    parser.add_argument("--chain", type=int, default=100_000)
    parser.add_argument("--pg", help="a PostgreSQL URL whose role may create schemas")
    args = parser.parse_args()
    from avellino.store.duckdb_store import DuckDBStore

    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp, DuckDBStore(Path(tmp) / "ws", create=True) as store:
        out["duckdb"] = _appends(store, args.entries)
    if args.pg:
        import psycopg

        from avellino.store.postgres_schema import migrate
        from avellino.store.postgres_store import PostgresStore

        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.pg, autocommit=True) as con:
            con.execute(f"CREATE SCHEMA {schema}")  # type: ignore[arg-type]
        url = f"{args.pg}?options=-csearch_path%3D{schema}"
        try:
            with psycopg.connect(url, autocommit=True) as con:
                migrate(con, schema)
            with PostgresStore(url) as pg:
                out["postgres"] = _appends(pg, args.entries)
        finally:
            with psycopg.connect(args.pg, autocommit=True) as con:
                con.execute(f"DROP SCHEMA {schema} CASCADE")  # type: ignore[arg-type]
    out["chain_check"] = _chain(args.chain)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
