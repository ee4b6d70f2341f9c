"""Fuzz the readers and mappings: generated CSV, XLSX, JSON, JSONL and FtM files, valid and corrupted, each imported
into a real DuckDB workspace. Every outcome is an import or one of Avellino's own errors (never a library's
exception, never the words of the readers' catch-all), and a rejected file leaves the store exactly as it was:
its statement and batch counts are those of the imports alone.

AVELLINO_FUZZ_EXAMPLES sets the number of generated files (default 300, a few seconds); the issue 14 run used
100,000. AVELLINO_FUZZ_REPORT names a JSON file for the run's figures.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from avellino.errors import AvellinoError, ConfigError, InputRejected, UnreadableFile
from avellino.ingest.readers import UNEXPECTED
from avellino.ingest.run import ingest_file
from avellino.store.duckdb_store import DuckDBStore
from tests.ingest.fuzz_files import Case, cases

EXAMPLES = int(os.environ.get("AVELLINO_FUZZ_EXAMPLES", "300"))
# The store's counts are compared with the imports' own after every file in short runs; counting takes ~15 ms, so
# long runs compare every 20th file (any trace a rejected file left would still show there: writes only add).
CHECK_EVERY = 1 if EXAMPLES <= 5000 else 20


def test_fuzzed_files_import_or_fail_cleanly_and_never_write_half(tmp_path: Path) -> None:
    store = DuckDBStore(tmp_path / "ws", create=True)
    tally: Counter[str] = Counter()
    expected = store.counts()
    started = time.perf_counter()
    work = tmp_path / "files"
    work.mkdir()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(cases())
    def one(case: Case) -> None:
        tally["files"] += 1
        tally[f"format:{case.fmt}"] += 1
        path = work / case.name
        path.write_bytes(case.data)
        mapping = work / "m.yml"
        mapping.write_text(case.mapping)
        try:
            result = ingest_file(store, path, mapping)
        except AvellinoError as exc:
            tally[f"outcome:{type(exc).__name__}"] += 1
            message = str(exc)
            assert UNEXPECTED not in message, (case, message)
            if isinstance(exc, UnreadableFile):
                assert "\n" not in message and message.startswith(str(path)), (case, message)
            elif isinstance(exc, InputRejected):
                assert exc.problems and all(p.file == str(path) for p in exc.problems), (case, message)
            else:
                assert isinstance(exc, ConfigError) and str(mapping) in message, (case, message)
        else:
            tally["outcome:imported" if not result.skipped else "outcome:unchanged"] += 1
            expected["batches"] += 0 if result.skipped else 1
            expected["statements"] += result.added
        if tally["files"] % CHECK_EVERY == 0:
            # nothing written but the imports' own statements and batches: a rejected file left no trace
            assert store.counts() == expected, case
        if report and tally["files"] % 1000 == 0:  # progress of a long run
            write_report()

    report = os.environ.get("AVELLINO_FUZZ_REPORT")

    def write_report() -> dict[str, object]:
        figures = {"seconds": round(time.perf_counter() - started, 1), **dict(sorted(tally.items()))}
        if report:
            Path(report).write_text(json.dumps(figures, indent=1))
        return figures

    one()
    assert store.counts() == expected
    store.close()
    print(json.dumps(write_report()))
    assert tally["files"] >= min(EXAMPLES, 100)
    # the generator reaches every format and both kinds of outcome
    assert all(tally[f"format:{f}"] for f in ("csv", "xlsx", "json", "jsonl", "ftm"))
    assert tally["outcome:imported"] and tally["outcome:UnreadableFile"]
