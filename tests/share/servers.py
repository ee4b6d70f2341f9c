"""Real nodes on loopback for tests: `avellino` run as a user runs it, node servers started and stopped."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.share.nodes import avellino, env

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "ingest"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*avellino(), *args], cwd=cwd, env=env(), capture_output=True, text=True)
    assert done.returncode == 0, f"avellino {' '.join(args)}\n{done.stderr}"
    return done


def uk_and_fr(root: Path, fr_port: int, uk_port: int | None = None, uk: str = "UK-NCA", fr: str = "FR-OCRIEST") -> None:
    """Workspaces ``uk`` and ``fr`` under ``root``, each a node knowing the other (UK reaches FR's server at
    ``fr_port``; FR reaches UK's at ``uk_port`` when given)."""
    for ws, name, cc in (("uk", uk, "GB"), ("fr", fr, "FR")):
        run("init", "-w", ws, cwd=root)
        run("node", "init", "--name", name, "--country", cc, "-w", ws, cwd=root)
        run("node", "card", "-o", f"{ws}.json", "-w", ws, cwd=root)
    run("partner", "add", "fr.json", "--url", f"http://127.0.0.1:{fr_port}", "-w", "uk", cwd=root)
    back = ["--url", f"http://127.0.0.1:{uk_port}"] if uk_port is not None else []
    run("partner", "add", "uk.json", *back, "-w", "fr", cwd=root)


def serve(ws: str, port: int, cwd: Path) -> subprocess.Popen[bytes]:
    log = (cwd / f"serve-{ws}.log").open("wb")
    proc = subprocess.Popen(
        [*avellino(), "serve", "-w", ws, "--port", str(port)], cwd=cwd, env=env(), stdout=log, stderr=log
    )
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/node", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"the server of {ws} did not start: {(cwd / f'serve-{ws}.log').read_text()}")


@contextmanager
def serving(cwd: Path, *servers: tuple[str, int]) -> Iterator[None]:
    """The node servers of these (workspace, port) pairs, running for the block and stopped after it."""
    procs = [serve(ws, port, cwd) for ws, port in servers]
    try:
        yield
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
