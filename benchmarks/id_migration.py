"""How long ``workspace migrate-ids`` takes, and its peak memory, on a workspace written with the ids of before
issue 17 (``uk-nca-p1``). Prints one JSON object.

    .venv/bin/python benchmarks/id_migration.py                           # a synthetic old workspace, 20,000 persons
    .venv/bin/python benchmarks/id_migration.py --persons 200000
    .venv/bin/python benchmarks/id_migration.py --copy-of /data/ws20k      # a real old workspace, COPIED first

With ``--copy-of`` the workspace is copied to a temporary folder and only the copy is migrated (the original is
never opened for writing). The second run's time (nothing to do) is printed too.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa

from avellino.store.duckdb_store import DuckDBStore
from avellino.store.id_migration import migrate
from avellino.store.schema import STATEMENT_SCHEMA, BatchInfo

ORIGINATORS = ("UK-NCA", "FR-OCRIEST", "IT-SCO", "DE-BPOL")


def synthetic(workspace: Path, persons: int) -> None:
    """Persons (id, name) and one call between consecutive persons of each originator, with old-style ids."""
    cols: dict[str, list[object]] = {f.name: [] for f in STATEMENT_SCHEMA}

    def add(entity: str, schema: str, prop: str, value: str, originator: str) -> None:
        row = {f.name: None for f in STATEMENT_SCHEMA}
        row |= {"entity_id": entity, "canonical_id": entity, "schema": schema, "prop": prop, "value": value,
                "originator": originator, "dataset": originator, "handling_code": "H0", "tlp": "AMBER",
                "evaluation": "B2", "subject_category": "suspect", "retention_review": dt.date(2099, 1, 1)}  # fmt: skip
        for k, v in row.items():
            cols[k].append(v)

    for i in range(persons):
        originator = ORIGINATORS[i % len(ORIGINATORS)]
        slug = originator.lower()
        person = f"{slug}-{i:024x}"
        add(person, "Person", "id", person, originator)
        add(person, "Person", "name", f"Person {i}", originator)
        if i >= len(ORIGINATORS):
            call = f"{slug}-c{i:023x}"
            add(call, "Call", "id", call, originator)
            add(call, "Call", "caller", person, originator)
            add(call, "Call", "receiver", f"{slug}-{i - len(ORIGINATORS):024x}", originator)
    table = pa.table({k: pa.array(v, STATEMENT_SCHEMA.field(k).type) for k, v in cols.items()})
    with DuckDBStore(workspace, create=True) as store:
        info = BatchInfo("old", "old.csv", "old", "m", persons, table.num_rows, dt.datetime.now())
        store.write_batch(info, table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=20_000)
    parser.add_argument("--copy-of", type=Path, default=None, help="An old workspace folder to copy and migrate.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="avellino-idmig-") as tmp:
        workspace = Path(tmp) / "ws"
        if args.copy_of is not None:
            shutil.copytree(args.copy_of, workspace)
        else:
            synthetic(workspace, args.persons)
        with DuckDBStore(workspace) as store:
            statements = store.count_statements()
            started = time.perf_counter()
            done = migrate(store, lambda line: print(line, file=sys.stderr))
            first = time.perf_counter() - started
            started = time.perf_counter()
            again = migrate(store)
            second = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "workspace": str(args.copy_of) if args.copy_of else f"synthetic, {args.persons} persons",
                "workspace_statements": statements,
                "seconds": round(first, 2),
                "statements_per_second": round(statements / first) if first else None,
                "second_run_seconds": round(second, 2),
                "second_run_changed": again.changed,
                "peak_rss_mb": round(peak),
                **done.as_counts(),
            }
        )
    )


if __name__ == "__main__":
    main()
