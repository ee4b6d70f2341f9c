"""Benchmark: generate a sample operation (default 1M partner records) and print records/s and peak memory.

Usage: .venv/bin/python benchmarks/sample_generate.py [--scale 1000000] [--seed 7] [--out DIR]
Peak memory is the resident set high-water mark (ru_maxrss) of the main process and of the largest writer process
(the writers are forked and share the world's arrays copy-on-write). cpu_seconds is user+system time of both.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

from avellino.sample import generate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="keep the files here (default: a temp folder)")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="avellino-sample-"))
    start = time.perf_counter()
    cpu0 = sum(
        u.ru_utime + u.ru_stime for u in map(resource.getrusage, (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    )
    manifest = generate(out, scale=args.scale, seed=args.seed)
    seconds = time.perf_counter() - start
    # CPU time of this process and its writer processes: comparable across runs on a busy shared machine.
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    cpu = sum(u.ru_utime + u.ru_stime for u in usage) - cpu0
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    result = {
        "benchmark": "sample_generate",
        "scale": args.scale,
        "records": manifest.records,
        "files": len(manifest.files),
        "seconds": round(seconds, 2),
        "records_per_s": round(manifest.records / seconds),
        "cpu_seconds": round(cpu, 2),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_mb_worker": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
        "output_mb": round(size / 2**20, 1),
        "true_persons": manifest.counts["true_persons"],
    }
    if args.out is None:
        shutil.rmtree(out, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
