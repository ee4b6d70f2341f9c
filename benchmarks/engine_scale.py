"""Person resolution at scale on both engines: wall time, peak memory (this process and its JVM) and F1.

The records come from ``benchmarks/resolve_scale.py``'s generator (five partners, romanisation noise, seeded),
with its truth. Both engines train the same way (DuckDB, on a sample of at most 200,000 records); they differ
in where every blocked pair is scored (``avellino/engine/spark_resolve.py``). Each (size, engine) runs in a
child process of its own, so one run's memory never counts in another's, and prints one JSON object:
``{"engine", "records", "wall_s", "peak_mb", "f1", ...stages}``. ``wall_s`` counts features, training and
scoring, and for Spark the session start too (``session_s``); generating the records is not counted.

Usage: ``python benchmarks/engine_scale.py [--records 1000000 3000000] [--engines duckdb spark]``.
Spark's memory: ``AVELLINO_SPARK_MEMORY`` (default 4g). Figures: docs/scale.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class TreeMemory:
    """Peak resident memory (MB) of this process and all its children (Spark's JVM), sampled every 50 ms."""

    def __init__(self) -> None:
        import psutil

        self._proc = psutil.Process()
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            for proc in [self._proc, *self._proc.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_info().rss
            self.peak = max(self.peak, total / 2**20)
            self._stop.wait(0.05)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_one(engine: str, records: int, seed: int) -> dict[str, object]:
    from avellino.resolve.features import build_features
    from avellino.resolve.metrics import count_true_pairs, score_pairs
    from avellino.resolve.model import DEFAULT_THRESHOLD, train
    from avellino.resolve.pipeline import scored_pairs
    from benchmarks.resolve_scale import generate

    df = generate(records, seed)
    roles = {r: r for r in ("full_name", "dob", "nationality", "phone", "passport", "country")}
    stages: dict[str, float] = {}
    with TreeMemory() as meter:
        if engine == "spark":
            from avellino.engine import spark as spark_engine

            t = time.perf_counter()
            spark_engine.session()
            stages["session_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        features = build_features(df, roles, "record_id")
        stages["features_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        trained = train(features, explainable=False)
        stages["train_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        if engine == "spark":
            from avellino.engine.spark_resolve import spark_linker

            result = spark_linker(trained).inference.predict(threshold_match_probability=0.01)
            pairs = result.as_pandas_dataframe()
            compared = None  # Spark's predict keeps only the pairs over the threshold (see docs/scale.md)
        else:
            pairs, compared = scored_pairs(trained.linker)
        stages["predict_s"] = round(time.perf_counter() - t, 1)
    truth = df.set_index("record_id")["person"].to_dict()
    p, r, f1, _ = score_pairs(pairs, truth, count_true_pairs(df["person"], None), DEFAULT_THRESHOLD)
    return {
        "engine": engine,
        "records": records,
        "wall_s": round(sum(stages.values()), 1),
        "peak_mb": round(meter.peak, 1),
        "f1": round(f1, 4),
        "precision": round(p, 4),
        "recall": round(r, 4),
        "pairs_kept": len(pairs),
        "pairs_compared": compared,
        **stages,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--engines", nargs="+", default=["duckdb", "spark"], choices=["duckdb", "spark"])
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--one", action="store_true", help="Run one engine and size in this process (internal).")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.engines[0], args.records[0], args.seed)), flush=True)
        return
    for records in args.records:
        for engine in args.engines:
            if engine == "spark":
                from avellino.engine.spark import missing

                if missing():
                    print(json.dumps({"engine": engine, "records": records, "skipped": missing()}), flush=True)
                    continue
            cmd = [sys.executable, __file__, "--one", "--engines", engine, "--records", str(records)]
            done = subprocess.run([*cmd, "--seed", str(args.seed)], capture_output=True, text=True)
            lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
            if done.returncode or not lines:
                tail = done.stderr.strip().splitlines()[-3:]
                print(json.dumps({"engine": engine, "records": records, "error": " | ".join(tail)}), flush=True)
            else:
                print(lines[-1], flush=True)


if __name__ == "__main__":
    main()
