"""Several commands on one DuckDB workspace, as analysts run them: real `avellino` processes on a real file.

DuckDB lets one process write a file or many read it. Read commands open the workspace read-only and run side by
side; a writer waits (AVELLINO_LOCK_WAIT) while others hold it, then fails with a message that names the
workspace."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from avellino.errors import StoreError
from avellino.store import open_store
from avellino.store.duckdb_store import DB_FILE, DuckDBStore


def _avellino() -> list[str]:
    exe = Path(sys.executable).parent / "avellino"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "avellino.cli"]


def _env(ws: Path, **extra: str) -> dict[str, str]:
    env = {**os.environ, "AVELLINO_WORKSPACE": str(ws), "COLUMNS": "200", **extra}
    env.pop("AVELLINO_STORE_URL", None)
    return env


def _run(ws: Path, *args: str) -> None:
    done = subprocess.run([*_avellino(), *args], env=_env(ws), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small sample operation, ingested and resolved by the CLI (about 20 s)."""
    root = tmp_path_factory.mktemp("concurrent")
    ws = root / "ws"
    _run(ws, "sample", "--out", str(root / "op"), "--scale", "2000")
    _run(ws, "init")
    _run(ws, "ingest", "--manifest", str(root / "op" / "manifest.json"))
    _run(ws, "resolve", "run")
    return ws


@pytest.fixture()
def held_by_reader(workspace: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """Another process's view of the file: while this read-only connection is open, no process can write it
    (and before read commands opened read-only, none of them could open it either)."""
    con = duckdb.connect(str(workspace / DB_FILE), read_only=True)
    yield con
    con.close()


def _digest(ws: Path) -> str:
    return hashlib.sha256((ws / DB_FILE).read_bytes()).hexdigest()


def test_two_stats_and_network_targets_at_once(workspace: Path, held_by_reader: duckdb.DuckDBPyConnection) -> None:
    before = _digest(workspace)
    commands = [["stats"], ["stats", "--by", "tlp"], ["network", "targets", "--k", "3", "--effort", "1"]]
    procs = [
        subprocess.Popen([*_avellino(), *c], env=_env(workspace), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for c in commands
    ]
    results = [(c, p.wait(), p.communicate()) for c, p in zip(commands, procs, strict=True)]
    for command, code, (stdout, stderr) in results:
        assert code == 0, f"{command}: {stderr.decode()}"
        assert stdout.strip(), command
        assert b"in use by another command" not in stderr, command
    assert _digest(workspace) == before  # readers wrote nothing, not even the view or the property catalogue
    assert not (workspace / f"{DB_FILE}.wal").exists()


def test_a_writer_waits_for_readers_then_runs(workspace: Path, held_by_reader: duckdb.DuckDBPyConnection) -> None:
    proc = subprocess.Popen(
        [*_avellino(), "network", "build", "--json"],
        env=_env(workspace, AVELLINO_LOCK_WAIT="600"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    first = proc.stderr.readline()  # blocks until the writer says it waits (or exits, giving '' and failing)
    assert f"workspace {workspace} is in use by another command; waiting" in first
    held_by_reader.close()  # the other reader finishes
    stdout, stderr = proc.communicate()
    assert proc.returncode == 0, stderr
    assert "waiting" not in stderr  # said once
    with open_store(workspace, read_only=True) as store:
        assert store.read_table("network_nodes") is not None


def test_a_writer_gives_up_with_a_clear_message(workspace: Path, held_by_reader: duckdb.DuckDBPyConnection) -> None:
    done = subprocess.run(
        [*_avellino(), "init"], env=_env(workspace, AVELLINO_LOCK_WAIT="0.2"), capture_output=True, text=True
    )
    assert done.returncode == 1
    message = " ".join(done.stderr.split())
    assert "in use by another command; waiting" in message
    assert str(workspace) in message
    assert "PostgreSQL" in message and "AVELLINO_STORE_URL" in message


def test_a_reader_waits_for_a_writer(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    DuckDBStore(ws, create=True).close()
    writer = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('open', flush=True); "
         "sys.stdin.read()", str(ws / DB_FILE)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert writer.stdout is not None and writer.stdin is not None
    assert writer.stdout.readline().strip() == "open"
    reader = subprocess.Popen(
        [*_avellino(), "stats"], env=_env(ws, AVELLINO_LOCK_WAIT="600"), stderr=subprocess.PIPE, text=True
    )
    assert reader.stderr is not None
    assert "is in use by another command; waiting" in reader.stderr.readline()
    writer.stdin.close()  # the writer finishes
    writer.wait()
    _, stderr = reader.communicate()
    assert reader.returncode == 0, stderr


def test_read_only_open_checks_the_layout_and_never_upgrades(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    DuckDBStore(ws, create=True).close()
    con = duckdb.connect(str(ws / DB_FILE))
    con.execute("UPDATE layout SET version = 2")  # as an older Avellino left it
    con.close()
    before = _digest(ws)
    with pytest.raises(StoreError, match="avellino init"):
        DuckDBStore(ws, read_only=True)
    assert _digest(ws) == before
    DuckDBStore(ws).close()  # any writer upgrades it
    with DuckDBStore(ws, read_only=True) as store:
        assert store.aggregate(["schema"]).num_rows == 0


def test_read_only_needs_an_existing_workspace(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="No Avellino workspace"):
        DuckDBStore(tmp_path / "none", read_only=True)
    assert not (tmp_path / "none").exists()
