"""The ingest command as an analyst runs it: a bad file exits non-zero, lists every bad row, writes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from avellino.store import open_store

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "ingest"


def _run(*args: str, ws: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "avellino"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "avellino.cli"]
    env = {**os.environ, "AVELLINO_WORKSPACE": str(ws), "COLUMNS": "200"}
    env.pop("AVELLINO_STORE_URL", None)
    return subprocess.run([*cmd, *args], env=env, capture_output=True, text=True)


def test_bad_csv_rejected_with_every_row(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert _run("init", ws=ws).returncode == 0
    assert _run("ingest", str(FIX / "persons.csv"), "-m", str(FIX / "persons.yml"), ws=ws).returncode == 0
    with open_store(ws) as store:
        before = store.counts()
    bad = _run("ingest", str(FIX / "persons_bad.csv"), "-m", str(FIX / "persons.yml"), ws=ws)
    assert bad.returncode == 3
    for row, column in (("row 2", "'dob'"), ("row 4", "'handling'"), ("row 5", "'originator'")):
        assert f"persons_bad.csv: {row}, column {column}" in bad.stderr
    with open_store(ws) as store:
        assert store.counts() == before


def test_broken_files_each_get_one_line_and_the_others_import(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert _run("init", ws=ws).returncode == 0
    (tmp_path / "ragged.csv").write_text("ref,originator\nP9,UK-NCA\nP8,UK-NCA,extra\n")
    (tmp_path / "quote.csv").write_text('ref,originator\nP7,"UK-NCA\n')
    (tmp_path / "fake.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    mapping = tmp_path / "m.yml"
    mapping.write_text(
        "originator: {column: originator}\n"
        "markings: {handling_code: H1, tlp: AMBER, evaluation: B2, subject_category: suspect}\n"
        "entities: {p: {schema: Person, keys: [ref], properties: {name: {column: ref}}}}\n"
    )
    files = [str(tmp_path / n) for n in ("ragged.csv", "quote.csv", "fake.xlsx")]
    for jobs in ("1", "2"):
        run = _run("ingest", "-j", jobs, *files, str(FIX / "persons.csv"), "-m", str(mapping), ws=ws)
        assert run.returncode == 3, run.stderr
        assert "Traceback" not in run.stderr
        lines = run.stderr.splitlines()
        assert (
            f"rejected {tmp_path / 'ragged.csv'}: row 3: has 3 value(s) where the header has 2; nothing was imported"
            in lines
        )
        assert (
            f"rejected {tmp_path / 'quote.csv'}: row 2: a quoted value is never closed (a quote is missing); "
            "nothing was imported" in lines
        )
        assert any(line.startswith(f"rejected {tmp_path / 'fake.xlsx'}: not an XLSX workbook") for line in lines)
        assert "Error: 3 of 4 file(s) not imported; the other files are in the store" in lines
    with open_store(ws) as store:
        assert store.counts()["batches"] == 1  # persons.csv, once
    # a wrong mapping costs only its own files
    bad = tmp_path / "bad.yml"
    bad.write_text(mapping.read_text().replace("properties", "propertes"))
    manifest = tmp_path / "manifest.json"
    manifest.write_text(
        '{"files": [{"path": "ragged.csv", "mapping": "bad.yml"}, {"path": "quote.csv", "mapping": "m.yml"}]}'
    )
    run = _run("ingest", "--manifest", str(manifest), ws=ws)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "not read 1 file(s) whose mapping is wrong" in run.stderr and "did you mean 'properties'" in run.stderr
    assert "2 files: 0 imported, 0 unchanged, 1 rejected, 1 not read (mapping has problems)" in run.stderr
