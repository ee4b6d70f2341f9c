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

import pytest
from hypothesis import HealthCheck, given, settings

from avellino.errors import AvellinoError, ConfigError, InputRejected, UnreadableFile
from avellino.ingest.mapping import load_mapping
from avellino.ingest.readers import UNEXPECTED, read_table
from avellino.ingest.run import ingest_file, prepare_file
from avellino.store.duckdb_store import DuckDBStore
from tests.ingest.fuzz_files import FORMATS, Case, cases

EXAMPLES = int(os.environ.get("AVELLINO_FUZZ_EXAMPLES", "300"))
# The store's counts are compared with the imports' own after every file in short runs; counting takes ~15 ms, so
# long runs compare every 20th file (any trace a rejected file left would still show there: writes only add).
CHECK_EVERY = 1 if EXAMPLES <= 5000 else 20
# Long runs read every file and its mapping but import only every FULL_EVERY-th file into the store (an import
# takes ~30-100 ms, reading a few): AVELLINO_FUZZ_FULL_EVERY, default 1 (every file is imported).
FULL_EVERY = int(os.environ.get("AVELLINO_FUZZ_FULL_EVERY", "1"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_fuzzed_files_import_or_fail_cleanly_and_never_write_half(tmp_path: Path, fmt: str) -> None:
    store = DuckDBStore(tmp_path / "ws", create=True)
    tally: Counter[str] = Counter()
    expected = store.counts()
    started = time.perf_counter()
    work = tmp_path / "files"
    work.mkdir()

    @settings(
        max_examples=max(1, EXAMPLES // len(FORMATS)),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )
    @given(cases(fmt))
    def one(case: Case) -> None:
        tally["files"] += 1
        tally[f"format:{case.fmt}"] += 1
        path = work / case.name
        path.write_bytes(case.data)
        mapping = work / "m.yml"
        mapping.write_text(case.mapping)
        full = tally["files"] % FULL_EVERY == 0
        tally["imports tried" if full else "reads only"] += 1
        try:
            if not full:
                _read_only(path, mapping, case.fmt)
                tally["outcome:read"] += 1
                return
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
        if full and tally["files"] % CHECK_EVERY == 0:
            # nothing written but the imports' own statements and batches: a rejected file left no trace
            assert store.counts() == expected, case
        if report and tally["files"] % 500 == 0:  # progress of a long run
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
    assert tally["files"] >= min(EXAMPLES // len(FORMATS), 100)
    # the generator makes both files that import and files that cannot be read
    assert tally["outcome:imported"] + tally["outcome:read"]
    assert tally["outcome:UnreadableFile"] + tally["outcome:InputRejected"]


def _read_only(path: Path, mapping_path: Path, fmt: str) -> None:
    """The readers and the mapping alone (long runs: most files stop here, a few milliseconds each); FtM files,
    whose reader is part of preparing them, are prepared (that touches no store)."""
    if fmt == "ftm":
        prepare_file(path, mapping_path)
        return
    mapping = load_mapping(mapping_path)
    read_table(path, mapping.resolved_format(path), mapping.options)
