"""Peak memory and time of `avellino export` per format on an existing workspace (issue 17: the 1M sample must
export within 2 GB).

    .venv/bin/python benchmarks/export_memory.py -w WORKSPACE [--format ftm --format stix ...] [--out DIR]

Each format runs in a child process of its own, which reports its own peak resident set (``ru_maxrss``), so each
peak is that export's alone. The workspace is opened read-only and nothing is written to it (no audit entry:
this measures the export, not the command). Prints one JSON object: per format, seconds, peak RSS in MB, the
entities, lines or objects and links written, and the file's size.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import json, resource, sys, time
from pathlib import Path
from avellino.store import open_store
from avellino.share.export import export
ws, fmt, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
t0 = time.perf_counter()
with open_store(ws, read_only=True) as store, out.open("w", encoding="utf-8") as fh:
    o = export(store, fh, fmt)
w = o.written
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KB on Linux: this process's own peak
print(json.dumps({"seconds": round(time.perf_counter() - t0, 1), "peak_rss_mb": round(peak / 1024),
                  "entities": w.entities, "items": w.items, "links": w.links}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workspace", "-w", type=Path, required=True)
    parser.add_argument("--format", "-f", action="append", dest="formats")
    parser.add_argument("--out", type=Path, default=None, help="Folder for the files (default: a temp folder)")
    args = parser.parse_args()
    formats = args.formats or ["ftm", "stix", "graphml", "gexf"]
    out = args.out or Path(tempfile.mkdtemp(prefix="avellino-export-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, object] = {"workspace": str(args.workspace), "formats": {}}
    for fmt in formats:
        target = out / f"export.{fmt}"
        t0 = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", CHILD, str(args.workspace), fmt, str(target)],
                              capture_output=True, text=True)  # fmt: skip
        wall = time.perf_counter() - t0
        if done.returncode != 0:  # e.g. out of the database's memory limit: say so, measure the others
            results["formats"][fmt] = {"error": done.stderr.strip().splitlines()[-1], "wall_seconds": round(wall, 1)}  # type: ignore[index]
            continue
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        results["formats"][fmt] = {  # type: ignore[index]
            **figures,
            "wall_seconds": round(wall, 1),
            "file_mb": round(target.stat().st_size / 1e6, 1),
        }
        target.unlink(missing_ok=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
