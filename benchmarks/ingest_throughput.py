"""Ingest throughput and peak memory on a synthetic sample operation.

    .venv/bin/python benchmarks/ingest_throughput.py --scale 1000000 [--keep DIR]

Generates the operation in a child process (so its memory does not count), then ingests every partner file
into a fresh DuckDB workspace in this process and prints one JSON object. Target (issue 2): >= 50,000 records/s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _cpu_s() -> float:
    """CPU seconds of this process so far."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=2, help="Files prepared at the same time (as `ingest -j`)")
    parser.add_argument("--keep", type=Path, default=None, help="Work folder to keep (default: a temp folder)")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="avellino-bench-"))
    sample_dir = work / "sample-op"
    if not (sample_dir / "manifest.json").exists():
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "avellino.cli", "sample", "--out", str(sample_dir), "--scale", str(args.scale),
             "--seed", str(args.seed)],
            check=True,
        )  # fmt: skip
        gen_s = time.perf_counter() - t0
    else:
        gen_s = 0.0
    from avellino.errors import InputRejected
    from avellino.ingest.run import ingest_files
    from avellino.store import open_store

    manifest = json.loads((sample_dir / "manifest.json").read_text())
    ws = work / "workspace"
    shutil.rmtree(ws, ignore_errors=True)
    per_file = []
    rows = statements = 0
    cpu0 = _cpu_s()
    start = time.perf_counter()
    with open_store(ws, create=True) as store:
        jobs = [(sample_dir / f["path"], sample_dir / f["mapping"]) for f in manifest["files"]]
        for path, res in ingest_files(store, jobs, workers=args.jobs):
            if isinstance(res, InputRejected):
                raise res
            per_file.append({"file": path.name, "rows": res.rows, "statements": res.statements,
                             "done_at_s": round(time.perf_counter() - start, 2)})  # fmt: skip
            rows += res.rows
            statements += res.statements
    wall = time.perf_counter() - start
    cpu_s = _cpu_s() - cpu0  # every thread of this process: the writer and the threads preparing files
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "benchmark": "ingest_throughput",
                "scale": args.scale,
                "files": len(per_file),
                "jobs": args.jobs,
                "records": rows,
                "statements": statements,
                "ingest_wall_s": round(wall, 2),
                "records_per_s": round(rows / wall),
                "statements_per_s": round(statements / wall),
                "cpu_s": round(cpu_s, 1),
                "load_avg_1m": round(os.getloadavg()[0], 2),
                "peak_mb": round(peak_mb),
                "generate_wall_s": round(gen_s, 2),
                "target_records_per_s": 50_000,
                "per_file": per_file,
            },
            indent=1,
        )
    )
    if args.keep is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
