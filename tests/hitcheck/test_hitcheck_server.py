"""Hit/no-hit over the node servers: two workspaces, two real `avellino serve` processes on loopback. The UK asks
France about two persons (France holds one), pushes the query to France's server, France finds it in its hit/no-hit
inbox, answers, and pushes the answer to the UK's server, where the UK reads hit for the first and no-hit for the
second. The answer holds no personal value; every file taken is audited; files that are not whole, not for the
node or not from the partner who signed the request are refused with nothing kept."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from avellino.hitcheck.exchange import open_sealed
from avellino.hitcheck.keys import pair_keys
from avellino.share.audit import entries
from avellino.share.http_auth import sign_request
from avellino.share.node import load_node
from avellino.store import open_store
from tests.hitcheck.test_hitcheck import _readable
from tests.share.nodes import avellino, env
from tests.share.servers import FIX, free_port, run, serving, uk_and_fr

UK, FR = "UK-NCA", "FR-OCRIEST"
#: France's own records: the UK's "Muhammad Al-Hassan" as France spells him, and a man the UK does not ask about
FR_CSV = """ref,originator,full_name,forename,surname,dob,mobile,nationality,handling,category,aliases
F1,FR-OCRIEST,"ALHASSAN, Mohamed",Mohamed,ALHASSAN,14/03/1987,,Syria,H2,suspect,
F2,FR-OCRIEST,Karim Benali,Karim,Benali,02/02/1985,+33612345678,Algeria,H2,suspect,
"""
#: whom the UK asks about (ids that say nothing, as an entity id would not): France holds the first, not the second
WANTED = "id,name,dob,passport\nq1,Muhammad Al-Hassan,1987-03-14,\nq2,Arben Hoxha,1979-07-05,X1234567\n"
PERSONAL = ["Muhammad", "Mohamed", "Hassan", "Hoxha", "Arben", "Benali", "Karim", "1987", "14/03", "03-14", "1979",
            "X1234567", "33612345678"]  # fmt: skip


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int, int]]:
    root = tmp_path_factory.mktemp("hitcheck-loopback")
    uk_port, fr_port = free_port(), free_port()
    uk_and_fr(root, fr_port, uk_port, uk=UK, fr=FR)
    (root / "fr.csv").write_text(FR_CSV, encoding="utf-8")
    run("ingest", "fr.csv", "-m", str(FIX / "persons.yml"), "-w", "fr", cwd=root)
    (root / "wanted.csv").write_text(WANTED, encoding="utf-8")
    with serving(root, ("uk", uk_port), ("fr", fr_port)):
        yield root, uk_port, fr_port


def _inbox(root: Path, ws: str, kind: str) -> list[dict[str, object]]:
    out = run("hitcheck", "inbox", "--kind", kind, "--json", "-w", ws, cwd=root).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def _actions(ws: Path) -> list[str]:
    with open_store(ws, read_only=True) as store:
        return [str(e.fields["action"]) for e in entries(store)]


def test_uk_asks_france_over_the_servers_and_reads_hit_and_no_hit(two_nodes: tuple[Path, int, int]) -> None:
    root = two_nodes[0]
    run("hitcheck", "ask", "--to", FR, "--persons", "wanted.csv", "-o", "uk-to-fr.query", "-w", "uk", cwd=root)
    query_id = json.loads((root / "uk-to-fr.query").read_text())["query_id"]
    pushed = run("share", "push", "uk-to-fr.query", "--to", FR, "-w", "uk", cwd=root)
    assert f"hit/no-hit query {query_id[:8]} (2 person(s)) kept as" in pushed.stderr

    # France finds it in its inbox, answers it as any query, and pushes the answer to the UK's server
    [arrived] = _inbox(root, "fr", "query")
    assert (arrived["from"], arrived["to"], arrived["query_id"], arrived["count"]) == (UK, FR, query_id, 2)
    answered = run("hitcheck", "answer", str(arrived["path"]), "-o", "fr-to-uk.answer", "-w", "fr", "--json",
                    cwd=root)  # fmt: skip
    assert "2 queried, 1 hit(s)" in answered.stderr
    back = run("share", "push", "fr-to-uk.answer", "--to", UK, "-w", "fr", cwd=root)
    assert f"hit/no-hit answer {query_id[:8]}" in back.stderr

    # the UK reads it where its server kept it
    [reply] = _inbox(root, "uk", "answer")
    assert (reply["from"], reply["query_id"], reply["hits"]) == (FR, query_id, 1)
    shown = run("hitcheck", "show", str(reply["path"]), "-w", "uk", cwd=root).stdout
    results = {r["query"]: r for r in (json.loads(line) for line in shown.splitlines() if line.startswith("{"))}
    assert results["q1"]["hit"] is True and str(results["q1"]["reference"]).startswith("HC-")
    assert results["q2"]["hit"] is False and results["q2"]["reference"] is None
    # France can resolve the reference it gave: its own record F1
    with open_store(root / "fr", read_only=True) as store:
        refs = store.read_table("hitcheck_references")
    assert refs is not None and refs.column("reference").to_pylist() == [results["q1"]["reference"]]

    # the answer as it arrived, and as the UK reads it, holds no personal value of either side
    kept = root / str(reply["path"])
    opened = open_sealed(kept, pair_keys(load_node(root / "uk" / "node"), FR), "answer")
    texts = {"file": _readable(kept), "payload": json.dumps(opened.payload), "show": shown}
    for where, text in texts.items():
        leaked = [v for v in PERSONAL if v.lower() in text.lower()]
        assert not leaked, f"the answer's {where} holds {leaked}"
    for r in results.values():
        assert set(r) <= {"query", "hit", "reference", "safeguarding"}

    # both servers recorded what they took, beside the ask and the answer of the CLI
    fr_log, uk_log = _actions(root / "fr"), _actions(root / "uk")
    assert f"api hitcheck query {query_id} received (2 person(s))" in fr_log
    assert any(a.startswith(f"hitcheck answer {UK} {query_id}: 1 hit(s) of 2") for a in fr_log)
    assert f"api hitcheck answer {query_id} received (2 person(s))" in uk_log
    assert any(a.startswith(f"hitcheck ask {FR} {query_id}") for a in uk_log)

    # the same query pushed again is kept once
    again = run("share", "push", "uk-to-fr.query", "--to", FR, "-w", "uk", cwd=root)
    assert "already received" in again.stderr
    assert len(_inbox(root, "fr", "query")) == 1


def _files(root: Path, ws: str) -> set[str]:
    box = root / ws / "node" / "hitcheck"
    return {p.name for p in box.iterdir()} if box.is_dir() else set()


def test_files_not_whole_not_for_this_node_or_not_from_the_signer_are_refused(
    two_nodes: tuple[Path, int, int],
) -> None:
    root, uk_port, fr_port = two_nodes
    run("hitcheck", "ask", "--to", FR, "--persons", "wanted.csv", "-o", "q2.query", "-w", "uk", cwd=root)
    before = _files(root, "fr"), _files(root, "uk")
    uk, fr = load_node(root / "uk" / "node"), load_node(root / "fr" / "node")
    base = f"http://127.0.0.1:{fr_port}"

    def post(node: object, body: bytes, port: int = fr_port) -> httpx.Response:
        headers = sign_request(node, "POST", "/v1/hitcheck", body)  # type: ignore[arg-type]
        return httpx.post(f"http://127.0.0.1:{port}/v1/hitcheck", content=body, headers=headers)

    good = (root / "q2.query").read_bytes()
    assert httpx.post(f"{base}/v1/hitcheck", content=good).status_code == 401  # unsigned
    # one byte of the payload changed: the sender's signature over the whole file breaks (and the seal would)
    data = json.loads(good)
    data["payload"] = ("A" if data["payload"][0] != "A" else "B") + data["payload"][1:]
    altered = post(uk, json.dumps(data).encode())
    assert altered.status_code == 422 and "signature is missing or not UK-NCA's" in altered.json()["detail"]
    # the count in the readable header changed: the header is the seal's associated data, and it is signed
    data = json.loads(good)
    data["count"] = 1
    relabelled = post(uk, json.dumps(data).encode())
    assert relabelled.status_code == 422 and "signature" in relabelled.json()["detail"]
    # France relaying the UK's query to the UK's own server: it is not from France, and not for the UK
    relayed = post(fr, good, uk_port)
    assert relayed.status_code == 422 and "says it is from UK-NCA" in relayed.json()["detail"]
    junk = post(uk, b'{"not": "a query"}')
    assert junk.status_code == 422 and "not a hit/no-hit file" in junk.json()["detail"]
    assert (_files(root, "fr"), _files(root, "uk")) == before  # nothing kept, no spooled leftovers
    # the client refuses to push a file to a partner it is not addressed to
    done = subprocess.run([*avellino(), "share", "push", "q2.query", "--to", UK, "-w", "fr"], cwd=root, env=env(),
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode != 0 and "addressed to FR-OCRIEST, not to UK-NCA" in done.stderr


def test_a_query_and_its_answer_left_in_the_outboxes_are_fetched(two_nodes: tuple[Path, int, int]) -> None:
    """Pull instead of push: each side leaves its file in its outbox (`--outbox`), the other fetches it from the
    sender's server (`share fetch`), which audits the read, and keeps it after the same checks."""
    root = two_nodes[0]
    run("hitcheck", "ask", "--to", FR, "--persons", "wanted.csv", "-o", "pulled.query", "--outbox", "-w", "uk",
         cwd=root)  # fmt: skip
    query_id = json.loads((root / "pulled.query").read_text())["query_id"]
    got = run("share", "fetch", "--from", UK, "-w", "fr", cwd=root)
    assert "fetched 0 bundle(s) from UK-NCA, 1 hit/no-hit file(s)" in got.stderr
    [arrived] = [r for r in _inbox(root, "fr", "query") if r["query_id"] == query_id]
    run("hitcheck", "answer", str(arrived["path"]), "-o", "pulled.answer", "--outbox", "-w", "fr", cwd=root)
    assert "1 hit/no-hit file(s)" in run("share", "fetch", "--from", FR, "-w", "uk", cwd=root).stderr
    [reply] = [r for r in _inbox(root, "uk", "answer") if r["query_id"] == query_id]
    shown = run("hitcheck", "show", str(reply["path"]), "-w", "uk", cwd=root).stdout
    hits = {r["query"]: r["hit"] for r in (json.loads(line) for line in shown.splitlines() if line.startswith("{"))}
    assert hits == {"q1": True, "q2": False}
    # fetched once: a second fetch finds nothing new
    assert "fetched 0 bundle(s) from FR-OCRIEST\n" in run("share", "fetch", "--from", FR, "-w", "uk", cwd=root).stderr
    assert "api read bundle" in "\n".join(_actions(root / "fr"))
