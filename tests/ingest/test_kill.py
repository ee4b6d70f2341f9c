"""SIGKILL during ``avellino ingest`` of a large file leaves the store as it was before that file."""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from avellino.store import open_store

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "ingest"
ROWS = 120_000


def _big_csv(path: Path, prefix: str = "B") -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["ref", "originator", "full_name", "forename", "surname", "dob", "mobile", "nationality",
                    "handling", "category", "aliases"])  # fmt: skip
        for i in range(ROWS):
            w.writerow([f"{prefix}{i}", "UK-NCA", f"Person {i} Al-Test", "Person", f"Test{i % 977}",
                        f"{1 + i % 28:02d}/{1 + i % 12:02d}/{1960 + i % 40}", f"+44 7911 {i % 1000000:06d}",
                        "Syria", "H2", "suspect", ""])  # fmt: skip


def _avellino() -> list[str]:
    exe = Path(sys.executable).parent / "avellino"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "avellino.cli"]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_mid_ingest_leaves_store_unchanged(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    big = tmp_path / "big.csv"
    _big_csv(big)
    env = {**os.environ, "AVELLINO_WORKSPACE": str(ws)}
    env.pop("AVELLINO_STORE_URL", None)
    subprocess.run([*_avellino(), "init"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*_avellino(), "ingest", str(FIX / "persons.csv"), "-m", str(FIX / "persons.yml")],
        env=env,
        check=True,
        capture_output=True,
    )
    with open_store(ws) as store:
        before = store.counts()
    start = time.perf_counter()
    full = subprocess.run(
        [*_avellino(), "ingest", str(big), "-m", str(FIX / "persons.yml")], env={**env}, capture_output=True
    )
    assert full.returncode == 0, full.stderr
    duration = time.perf_counter() - start
    with open_store(ws) as store:
        complete = store.counts()
    # start again from the state before the big file, then kill at points spread over a whole import
    shutil.rmtree(ws)
    subprocess.run([*_avellino(), "init"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*_avellino(), "ingest", str(FIX / "persons.csv"), "-m", str(FIX / "persons.yml")],
        env=env,
        check=True,
        capture_output=True,
    )
    killed_alive = 0
    for fraction in (0.35, 0.6, 0.8, 0.92):
        proc = subprocess.Popen(
            [*_avellino(), "ingest", str(big), "-m", str(FIX / "persons.yml")],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(duration * fraction)
        if proc.poll() is None:
            killed_alive += 1
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        if proc.returncode == 0:
            break  # it finished before the kill: nothing more to prove with later fractions
        with open_store(ws) as store:
            now = store.counts()
        # all or nothing: killed before COMMIT the store is as before; killed after COMMIT (while exiting) the
        # file is there whole. Anything in between is a torn batch.
        assert now in (before, complete), f"torn batch after SIGKILL at {fraction:.0%} of an import: {now}"
        if now == complete:
            break
    assert killed_alive >= 2, "the import finished before any kill; the test proved nothing"


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_of_a_parallel_import_leaves_whole_batches_and_nothing_behind(tmp_path: Path) -> None:
    """Killed after its first file is written, while others are being prepared: the written file is there whole,
    the others not at all, and no helper process or temporary file outlives the import."""
    from collections import Counter

    import psutil

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    files = []
    for i in range(3):
        files.append(tmp_path / f"big{i}.csv")
        _big_csv(files[-1], prefix=f"B{i}-")
    env = {**os.environ, "AVELLINO_WORKSPACE": str(tmp_path / "ws"), "TMPDIR": str(tmp)}
    env.pop("AVELLINO_STORE_URL", None)
    subprocess.run([*_avellino(), "init"], env=env, check=True, capture_output=True)
    proc = subprocess.Popen(
        [*_avellino(), "ingest", *map(str, files), "-m", str(FIX / "persons.yml"), "-j", "2"],
        env={**env, "COLUMNS": "400"},  # one line per file on stderr
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if "imported" in line:
            break
    assert proc.poll() is None, "the import ended before the kill; the test proved nothing"
    helpers = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _gone, alive = psutil.wait_procs(helpers, timeout=15)
    assert not alive, f"processes outlived the killed import: {alive}"
    assert not list(tmp.iterdir()), f"temporary files were left behind: {list(tmp.iterdir())}"
    with open_store(tmp_path / "ws") as store:
        batches = store.batches()
        stored = Counter(store.read_statements(columns=["batch_id"]).column("batch_id").to_pylist())
    assert 1 <= len(batches) < len(files), [b.source for b in batches]
    assert {b.batch_id: b.statements for b in batches} == dict(stored), "a torn batch"
