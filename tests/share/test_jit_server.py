"""A JIT between two nodes on loopback, through the command line: the agreement goes between members as files
to be signed, the bundle inside it over FR's node server (`share push`), the view shows the contribution; the UK
ends the JIT and sends the ended agreement over the server, after which FR's copy of the JIT's facts is gone and the
server refuses the same bundle again."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.share.nodes import avellino, env, held
from tests.share.servers import FIX, free_port, run, serving, uk_and_fr


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("jit-loopback")
    fr_port = free_port()
    uk_and_fr(root, fr_port)
    run("ingest", str(FIX / "persons.csv"), "-m", str(FIX / "persons.yml"), "-w", "uk", cwd=root)
    with serving(root, ("fr", fr_port)):
        yield root


def _fails(*args: str, cwd: Path) -> str:
    done = subprocess.run([*avellino(), *args], cwd=cwd, env=env(), capture_output=True, text=True)
    assert done.returncode != 0, f"avellino {' '.join(args)} should have failed"
    return done.stderr


def test_a_jit_over_the_node_server(two_nodes: Path) -> None:
    root = two_nodes
    until = (dt.date.today() + dt.timedelta(days=90)).isoformat()
    run("jit", "create", "JIT-CHANNEL", "--members", "UK-NCA,FR-OCRIEST", "--until", until, "--purpose",
         "investigation", "-o", "jit.json", "-w", "uk", cwd=root)  # fmt: skip
    assert "draft: waiting" in _fails("share", "send", "--to", "FR-OCRIEST", "--jit", "JIT-CHANNEL", "--purpose",
                                     "investigation", "--all", "-o", "x.avb", "-w", "uk", cwd=root)  # fmt: skip
    run("jit", "sign", "jit.json", "-o", "signed.json", "-w", "fr", cwd=root)
    run("jit", "import", "signed.json", "-w", "uk", cwd=root)
    sent = run("share", "send", "--to", "FR-OCRIEST", "--jit", "JIT-CHANNEL", "--purpose", "investigation: boat 12",
                "--all", "-o", "in.avb", "-w", "uk", cwd=root)  # fmt: skip
    assert "29 statements of 4 entities" in sent.stderr  # the victim too: FR is in a JIT in force with the UK
    pushed = run("share", "push", "in.avb", "--to", "FR-OCRIEST", "-w", "uk", cwd=root)
    assert "29 new" in pushed.stderr
    view = json.loads(run("jit", "show", "JIT-CHANNEL", "--json", "-w", "fr", cwd=root).stdout)
    assert view["state"] == "active" and view["members"] == {"FR-OCRIEST": "signed", "UK-NCA": "signed"}
    assert view["contributions"] == [{"originator": "UK-NCA", "entities": 4, "statements": 29}]

    # the end travels over the server too: the agreement as a bundle, taken by FR's server like `jit import`
    run("jit", "end", "JIT-CHANNEL", "-w", "uk", cwd=root)
    run("jit", "send", "JIT-CHANNEL", "-o", "ended.avb", "-w", "uk", cwd=root)
    done = run("share", "push", "ended.avb", "--to", "FR-OCRIEST", "-w", "uk", cwd=root)
    assert "29 withdrawn" in done.stderr + done.stdout
    assert json.loads(run("jit", "show", "JIT-CHANNEL", "--json", "-w", "fr", cwd=root).stdout)["state"].startswith(
        "ended on"
    )
    assert not [r for r in held(root / "fr") if r[3] == "UK-NCA"], "the former member still holds the JIT's facts"
    assert "ended" in _fails("share", "push", "in.avb", "--to", "FR-OCRIEST", "-w", "uk", cwd=root)
    assert not held(root / "fr")
    assert "ended on" in _fails("share", "send", "--to", "FR-OCRIEST", "--jit", "JIT-CHANNEL", "--purpose",
                                "investigation", "--all", "-o", "late.avb", "-w", "uk", cwd=root)  # fmt: skip
    audit = run("audit", "show", "-w", "fr", cwd=root).stdout
    assert "share receive jit" in audit  # the agreement that deleted them, recorded at FR
