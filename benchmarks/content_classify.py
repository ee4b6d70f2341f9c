"""How fast `avellino content classify` scores posts: 100,000 generated posts by default (target: under 60 s).

    .venv/bin/python benchmarks/content_classify.py                 # 100,000 posts, evidence on
    .venv/bin/python benchmarks/content_classify.py --posts 20000 --no-evidence

Prints one JSON object: posts, seconds (reading, features, scoring and evidence; generating the file is not
timed), posts per second, CPU seconds and peak memory. The posts are the generator's held-out phrasings in 15
languages (mean length about 90 characters).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

from avellino.content.classify import classify_file, load_model
from avellino.content.generate import generate, iter_jsonl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--no-evidence", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "posts.jsonl"
        print(f"generating {args.posts:,} posts", file=sys.stderr)
        with path.open("w", encoding="utf-8") as fh:
            for rec in iter_jsonl(generate(args.posts, seed=99, held_out=True)):
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        model = load_model()
        harmful = sum(v.label != "benign" for v in classify_file(model, path, "text", "id", not args.no_evidence))
        seconds = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
    print(
        json.dumps(
            {
                "benchmark": "content_classify",
                "posts": args.posts,
                "evidence": not args.no_evidence,
                "seconds": round(seconds, 2),
                "posts_per_s": round(args.posts / seconds),
                "cpu_s": round(cpu, 2),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "flagged_harmful": harmful,
                "target_s": 60,
            }
        )
    )


if __name__ == "__main__":
    main()
