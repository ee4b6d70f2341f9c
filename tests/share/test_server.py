"""Two real nodes on loopback: two workspaces, two `avellino serve` processes on free ports. A bundle and then a
withdrawal travel over HTTP, every request signed with the node keys; the withdrawn facts are gone at the
receiver. Unsigned, replayed and strangers' requests are refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from avellino.share.http_auth import sign_request
from avellino.share.node import load_node
from avellino.store import open_store
from tests.share.nodes import held
from tests.share.servers import FIX, free_port, run, serving, uk_and_fr


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int, int]]:
    tmp_path = tmp_path_factory.mktemp("loopback")
    uk_port, fr_port = free_port(), free_port()
    uk_and_fr(tmp_path, fr_port, uk_port)
    run("ingest", str(FIX / "persons.csv"), "-m", str(FIX / "persons.yml"), "-w", "uk", cwd=tmp_path)
    with serving(tmp_path, ("uk", uk_port), ("fr", fr_port)):
        yield tmp_path, uk_port, fr_port


def test_send_receive_and_withdraw_between_two_servers(two_nodes: tuple[Path, int, int]) -> None:
    root, _uk_port, fr_port = two_nodes
    run("share", "send", "--to", "FR-OCRIEST", "--purpose", "investigation", "--all", "-o", "to-fr.avb",
         "--outbox", "-w", "uk", cwd=root)  # fmt: skip
    pushed = run("share", "push", "to-fr.avb", "--to", "FR-OCRIEST", "-w", "uk", cwd=root)
    assert "23 new" in pushed.stderr
    at_fr = held(root / "fr")
    assert {(r[2], r[3], r[4]) for r in at_fr if r[1] == "name"} == {
        ("Muhammad Al-Hassan", "UK-NCA", "H2"),
        ("Dilan Ahmed", "UK-NCA", "H1"),
        ("Arben Hoxha", "UK-NCA", "H2"),
    }  # the victim stayed home (purpose is not safeguarding)
    dilan = next(r[0] for r in at_fr if r[2] == "Dilan Ahmed")
    run("share", "withdraw", "--entities", dilan, "--reason", "source retracted", "-o", "w.avb", "-w", "uk",
         cwd=root)  # fmt: skip
    answer = run("share", "push", "w.avb", "--to", "FR-OCRIEST", "-w", "uk", cwd=root)
    assert "7 withdrawn" in answer.stderr
    after = held(root / "fr")
    assert not [r for r in after if r[0] == dilan], "the withdrawn facts are still at the receiver"
    assert after == {r for r in at_fr if r[0] != dilan}
    # FR reads its outbox at UK: the bundle left there is fetched, and recognised as already received
    fetched = run("share", "fetch", "--from", "UK-NCA", "-w", "fr", cwd=root)
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
