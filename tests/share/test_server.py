"""Two real nodes on loopback: two workspaces, two `avellino serve` processes on free ports. A bundle and then a
withdrawal travel over HTTP, every request signed with the node keys; the withdrawn facts are gone at the
receiver. Unsigned, replayed and strangers' requests are refused."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from avellino.share.http_auth import sign_request
from avellino.share.node import load_node
from avellino.store import open_store
from tests.share.nodes import avellino, env, held

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "ingest"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*avellino(), *args], cwd=cwd, env=env(), capture_output=True, text=True)
    assert done.returncode == 0, f"avellino {' '.join(args)}\n{done.stderr}"
    return done


def _serve(ws: str, port: int, cwd: Path) -> subprocess.Popen[bytes]:
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


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int, int]]:
    tmp_path = tmp_path_factory.mktemp("loopback")
    uk_port, fr_port = _free_port(), _free_port()
    for ws, name, cc in (("uk", "UK-NCA", "GB"), ("fr", "FR-OCRIEST", "FR")):
        _run("init", "-w", ws, cwd=tmp_path)
        _run("node", "init", "--name", name, "--country", cc, "-w", ws, cwd=tmp_path)
        _run("node", "card", "-o", f"{ws}.json", "-w", ws, cwd=tmp_path)
    _run("partner", "add", "fr.json", "--url", f"http://127.0.0.1:{fr_port}", "-w", "uk", cwd=tmp_path)
    _run("partner", "add", "uk.json", "--url", f"http://127.0.0.1:{uk_port}", "-w", "fr", cwd=tmp_path)
    _run("ingest", str(FIX / "persons.csv"), "-m", str(FIX / "persons.yml"), "-w", "uk", cwd=tmp_path)
    servers = [_serve("uk", uk_port, tmp_path), _serve("fr", fr_port, tmp_path)]
    try:
        yield tmp_path, uk_port, fr_port
    finally:
        for proc in servers:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_send_receive_and_withdraw_between_two_servers(two_nodes: tuple[Path, int, int]) -> None:
    root, _uk_port, fr_port = two_nodes
    _run("share", "send", "--to", "FR-OCRIEST", "--purpose", "investigation", "--all", "-o", "to-fr.avb",
         "--outbox", "-w", "uk", cwd=root)  # fmt: skip
    pushed = _run("share", "push", "to-fr.avb", "--to", "FR-OCRIEST", "-w", "uk", cwd=root)
    assert "23 new" in pushed.stderr
    at_fr = held(root / "fr")
    assert {(r[2], r[3], r[4]) for r in at_fr if r[1] == "name"} == {
        ("Muhammad Al-Hassan", "UK-NCA", "H2"),
        ("Dilan Ahmed", "UK-NCA", "H1"),
        ("Arben Hoxha", "UK-NCA", "H2"),
    }  # the victim stayed home (purpose is not safeguarding)
    dilan = next(r[0] for r in at_fr if r[2] == "Dilan Ahmed")
    _run("share", "withdraw", "--entities", dilan, "--reason", "source retracted", "-o", "w.avb", "-w", "uk",
         cwd=root)  # fmt: skip
    answer = _run("share", "push", "w.avb", "--to", "FR-OCRIEST", "-w", "uk", cwd=root)
    assert "7 withdrawn" in answer.stderr
    after = held(root / "fr")
    assert not [r for r in after if r[0] == dilan], "the withdrawn facts are still at the receiver"
    assert after == {r for r in at_fr if r[0] != dilan}
    # FR reads its outbox at UK: the bundle left there is fetched, and recognised as already received
    fetched = _run("share", "fetch", "--from", "UK-NCA", "-w", "fr", cwd=root)
    assert "fetched 1 bundle" in fetched.stderr and "already received" in fetched.stderr
    with open_store(root / "fr", read_only=True) as store:
        assert store.count_statements() == len(after)


def test_requests_not_signed_by_a_partner_are_refused(two_nodes: tuple[Path, int, int], tmp_path: Path) -> None:
    root, _uk_port, fr_port = two_nodes
    before = held(root / "fr")
    base = f"http://127.0.0.1:{fr_port}"
    assert httpx.get(f"{base}/v1/outbox").status_code == 401
    assert httpx.post(f"{base}/v1/bundles", content=b"x").status_code == 401
    uk = load_node(root / "uk" / "node")
    headers = sign_request(uk, "GET", "/v1/outbox")
    assert httpx.get(f"{base}/v1/outbox", headers=headers).status_code == 200
    replay = httpx.get(f"{base}/v1/outbox", headers=headers)
    assert replay.status_code == 401 and "replayed" in replay.json()["detail"]
    # signed for another path, or a body changed after signing
    moved = httpx.get(f"{base}/v1/outbox/x.avb", headers=sign_request(uk, "GET", "/v1/outbox"))
    assert moved.status_code == 401
    body_swap = httpx.post(
        f"{base}/v1/bundles", content=b"other", headers=sign_request(uk, "POST", "/v1/bundles", b"one")
    )
    assert body_swap.status_code == 401
    # a node FR never registered, even one using UK's name
    from avellino.share.node import init_node

    stranger = init_node(tmp_path / "stranger", "UK-NCA", "GB")
    refused = httpx.get(f"{base}/v1/outbox", headers=sign_request(stranger, "GET", "/v1/outbox"))
    assert refused.status_code == 401 and "registered key" in refused.json()["detail"]
    # a garbage bundle from a real partner: refused with the reason, nothing written
    junk = httpx.post(f"{base}/v1/bundles", content=b"junk", headers=sign_request(uk, "POST", "/v1/bundles", b"junk"))
    assert junk.status_code == 422 and "not an Avellino bundle" in junk.json()["detail"]
    assert held(root / "fr") == before
