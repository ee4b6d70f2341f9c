"""Peak memory and time of `avellino export` per format on an existing workspace (issue 17: the 1M sample must
export within 2 GB).

    .venv/bin/python benchmarks/export_memory.py -w WORKSPACE [--format ftm --format stix ...] [--out DIR]
        [--import-back]

Each format runs in a child process of its own, which reports its own peak resident set (``ru_maxrss``), so each
peak is that export's alone. The workspace is opened read-only and nothing is written to it (no audit entry:
this measures the export, not the command). Prints one JSON object: per format, seconds, peak RSS in MB, the
entities, lines or objects and links written, and the file's size. ``--import-back`` also imports each file
into a fresh workspace (`avellino ingest`'s path, in a child process of its own) and adds its seconds, peak RSS
and the statements it gave back (``import``).
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

IMPORT = """
import json, resource, sys, time
from pathlib import Path
from avellino.ingest.run import ingest_file
from avellino.store import open_store
path, ws = Path(sys.argv[1]), Path(sys.argv[2])
mapping = Path(sys.argv[3]) if len(sys.argv) > 3 else None
t0 = time.perf_counter()
with open_store(ws, create=True) as store:
    r = ingest_file(store, path, mapping)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": round(time.perf_counter() - t0, 1), "peak_rss_mb": round(peak / 1024),
                  "statements": r.added}))
"""
#: The mapping docs/exports.md gives for an FtM export (lines keep their own markings); other formats need none.
FTM_MAPPING = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "share" / "avellino-export.yml"
SUFFIX = {"ftm": ".ftm.json", "stix": ".stix.json", "graphml": ".graphml", "gexf": ".gexf"}


def import_back(path: Path, fmt: str) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="avellino-import-bench-") as tmp:
        args = [sys.executable, "-c", IMPORT, str(path), str(Path(tmp) / "ws")]
        done = subprocess.run(args + ([str(FTM_MAPPING)] if fmt == "ftm" else []), capture_output=True, text=True)
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1]}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workspace", "-w", type=Path, required=True)
    parser.add_argument("--format", "-f", action="append", dest="formats")
    parser.add_argument("--out", type=Path, default=None, help="Folder for the files (default: a temp folder)")
    parser.add_argument("--import-back", action="store_true", help="Import each file into a fresh workspace too")
    args = parser.parse_args()
    formats = args.formats or ["ftm", "stix", "graphml", "gexf"]
    out = args.out or Path(tempfile.mkdtemp(prefix="avellino-export-bench-"))
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, object] = {"workspace": str(args.workspace), "formats": {}}
    for fmt in formats:
        target = out / f"export{SUFFIX.get(fmt, '.' + fmt)}"
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
        if args.import_back:
            results["formats"][fmt]["import"] = import_back(target, fmt)  # type: ignore[index]
        target.unlink(missing_ok=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
