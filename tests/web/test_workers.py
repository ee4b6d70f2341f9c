"""``avellino serve --workers 2``: the real command, two worker processes on one port. Every read made through
either worker is in the one audit log (one unbroken chain, no read lost), a session started on one worker works on
the other, logging out ends it everywhere, and ``avellino user disable`` ends a running user's sessions at once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil
import pytest

from avellino.share import audit
from avellino.store import open_store
from tests.web.bench import PASSWORD, SUSPECT, free_port, make_workspace

AVELLINO = [sys.executable, "-m", "avellino.cli"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The served workspace; two worker processes answer (the parent writes the audit log)."""
    ws = make_workspace(tmp_path_factory.mktemp("workers"))
    port = free_port()
    env = {**os.environ, "COLUMNS": "200"}
    env.pop("AVELLINO_STORE_URL", None)
    log = (ws.parent / "serve.log").open("w")
    proc = subprocess.Popen([*AVELLINO, "serve", "-w", str(ws), "--port", str(port), "--workers", "2"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{url}/login", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            pytest.fail((ws.parent / "serve.log").read_text())
        time.sleep(0.1)
    try:
        assert _workers(proc) >= 2, "two worker processes and uvicorn's helper"
        yield url, ws
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        log.close()


def _login(url: str, user: str = "analyst") -> tuple[str, str]:
    r = httpx.post(f"{url}/api/login", json={"user": user, "password": PASSWORD, "purpose": "OP-TEST workers"})
    assert r.status_code == 200, r.text
    return r.cookies["avellino_session"], r.json()["csrf"]


def _search(url: str, cookie: str, q: str) -> httpx.Response:
    """One request on a fresh connection: the kernel hands new connections to either worker."""
    with httpx.Client(base_url=url, cookies={"avellino_session": cookie}, timeout=60) as c:
        return c.get("/api/search", params={"q": q})


def _workers(proc: subprocess.Popen[bytes]) -> int:
    return len(psutil.Process(proc.pid).children())


def test_every_read_through_either_worker_is_in_one_unbroken_audit_chain(server: tuple[str, Path]) -> None:
    url, ws = server
    cookie, _ = _login(url)
    queries = [f"Mohamed al Hasan {i}" for i in range(40)]
    with ThreadPoolExecutor(8) as pool:  # concurrent reads: both workers append at once
        answers = list(pool.map(lambda q: _search(url, cookie, q), queries))
    assert all(r.status_code == 200 for r in answers)
    assert any(h["id"] == SUSPECT for h in answers[0].json()["hits"])
    with open_store(ws, read_only=True) as store:
        entries = [e.fields for e in audit.entries(store)]
        assert audit.verify(store) == len(entries)  # one chain: every seq once, every hash links
    searched = sorted(e["action"] for e in entries if e["action"].startswith("api search"))
    assert searched == sorted(f"api search {q!r}" for q in queries)
    assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))


def test_a_session_works_on_every_worker_and_logging_out_ends_it_everywhere(server: tuple[str, Path]) -> None:
    url, _ = server
    cookie, csrf = _login(url)
    assert all(_search(url, cookie, "Karim Benali").status_code == 200 for _ in range(12))
    with httpx.Client(base_url=url, cookies={"avellino_session": cookie}, timeout=60) as c:
        assert c.post("/api/logout", headers={"X-CSRF-Token": csrf}).status_code == 200
    assert {_search(url, cookie, "Karim Benali").status_code for _ in range(12)} == {401}


def test_disabling_a_user_ends_their_running_sessions(server: tuple[str, Path]) -> None:
    url, ws = server
    cookie, _ = _login(url, "supervisor")
    assert _search(url, cookie, "Karim Benali").status_code == 200
    done = subprocess.run([*AVELLINO, "user", "disable", "supervisor", "-w", str(ws)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "1 open session(s) of supervisor ended" in done.stderr
    assert {_search(url, cookie, "Karim Benali").status_code for _ in range(6)} == {401}
