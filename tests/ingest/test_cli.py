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
