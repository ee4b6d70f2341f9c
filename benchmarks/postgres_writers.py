"""Many writers on one PostgreSQL workspace: N `avellino ingest` processes import the same sample operation at
once, each starting at a different file, against one serial import. Prints one JSON object: the wall times, the
statements each left and whether they are the same (they must be: unique keys, ON CONFLICT DO NOTHING).

    .venv/bin/python benchmarks/postgres_writers.py --url postgresql://avellino:avellino@127.0.0.1/avellino_test
    .venv/bin/python benchmarks/postgres_writers.py --writers 8 --scale 20000

The URL defaults to $AVELLINO_TEST_PG_URL; each run makes two schemas of its own there (dropped at the end).
Without a server it prints {"skipped": ...} and exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

AVELLINO = str(Path(sys.executable).with_name("avellino"))
STATEMENTS = "SELECT count(*), count(DISTINCT id), md5(string_agg(id, ',' ORDER BY id)) FROM statements"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([AVELLINO, *args], capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})
    if done.returncode:
        sys.exit(f"avellino {' '.join(args[:2])} failed: {done.stderr}")
    return done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("AVELLINO_TEST_PG_URL"), help="PostgreSQL database URL")
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--scale", type=int, default=2000, help="records of the sample operation")
    args = parser.parse_args()
    if not args.url:
        print(json.dumps({"skipped": "no PostgreSQL URL (--url or AVELLINO_TEST_PG_URL)"}))
        return
    import psycopg

    schemas = [f"bench_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    with psycopg.connect(args.url, autocommit=True) as con:
        for schema in schemas:
            con.execute(f"CREATE SCHEMA {schema}")  # type: ignore[arg-type]
    serial, shared = (f"{args.url}?options=-csearch_path%3D{s}" for s in schemas)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            op = Path(tmp) / "op"
            run("sample", "--out", str(op), "--scale", str(args.scale))
            manifest = json.loads((op / "manifest.json").read_text())
            files = manifest["files"]
            for w in range(args.writers):  # each writer starts at a different file
                step = w * len(files) // args.writers
                rotated = {**manifest, "files": files[step:] + files[:step]}
                (op / f"manifest_{w}.json").write_text(json.dumps(rotated))
            for url in (serial, shared):
                run("init", "--workspace", url)

            started = time.monotonic()
            run("ingest", "--workspace", serial, "--manifest", str(op / "manifest.json"), "--jobs", "1")
            serial_s = time.monotonic() - started

            started = time.monotonic()
            procs = [
                subprocess.Popen(
                    [AVELLINO, "ingest", "--workspace", shared, "--manifest", str(op / f"manifest_{w}.json"),
                     "--jobs", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                )
                for w in range(args.writers)
            ]  # fmt: skip
            errors = [p.communicate()[1] for p in procs if p.wait()]
            concurrent_s = time.monotonic() - started
        with psycopg.connect(serial, autocommit=True) as a, psycopg.connect(shared, autocommit=True) as b:
            one, many = (c.execute(STATEMENTS).fetchone() for c in (a, b))  # type: ignore[arg-type]
            batches = [c.execute("SELECT count(*) FROM batches").fetchone()[0] for c in (a, b)]  # type: ignore
    finally:
        with psycopg.connect(args.url, autocommit=True) as con:
            for schema in schemas:
                con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")  # type: ignore[arg-type]
    print(
        json.dumps(
            {
                "writers": args.writers,
                "files": len(files),
                "scale": args.scale,
                "serial_s": round(serial_s, 1),
                "concurrent_s": round(concurrent_s, 1),
                "failed_writers": len(errors),
                "statements_serial": one[0] if one else None,
                "statements_concurrent": many[0] if many else None,
                "batches": batches,
                "same_statements": one == many,
                "cpus": os.cpu_count(),
                "load_average": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
