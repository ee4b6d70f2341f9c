"""The online-adverts section of the briefing, on the sample operation (a real DuckDB workspace made by
``avellino demo``): it renders, counts what the sample holds, follows selectors into the network, shows referral
outcomes, and names no victim, witness or informant."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from avellino.content.briefing import content_section
from avellino.content.findings import content_findings
from avellino.share.screen import protected_ids
from avellino.store import open_store
from tests.content.conftest import run_cli


@pytest.fixture(scope="module")
def sample_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("content-demo") / "out"
    done = run_cli("demo", "--out", str(out), "--scale", "500")
    assert done.returncode == 0, done.stderr
    yield out / "workspace"


def _protected_names(ws: Path) -> tuple[set[str], set[str]]:
    """Ids, full names, usernames, phones and URLs of every protected record and cluster (a surname alone may
    be shared with someone else)."""
    with open_store(ws, read_only=True) as store:
        ids = protected_ids(store)
        rows = store.read_statements(entity_ids=sorted(ids), columns=["entity_id", "prop", "value"]).to_pylist()
    values = {r["value"] for r in rows if r["prop"] in {"name", "username", "phone", "url"}}
    return ids, {v for v in values if v and len(v) > 3}


def test_section_renders_on_the_sample_and_names_no_protected_person(sample_ws: Path, tmp_path: Path) -> None:
    ids, names = _protected_names(sample_ws)
    assert ids and names  # the sample has victims: the test can fail
    # refer the GREEN adverts of one platform (to a platform registered in the community), one removed
    with open_store(sample_ws, read_only=True) as store:
        rows = store.read_statements(schemata=["Advert"], columns=["entity_id", "prop", "value", "tlp"]).to_pylist()
    green = {r["entity_id"] for r in rows if r["tlp"] == "GREEN" and r["entity_id"].startswith("uk-nca--")}
    platform = sorted(r["value"] for r in rows if r["entity_id"] in green and r["prop"] == "platform")[0]
    args = ["--agency", "UK-NCA", "--contact", "r@nca.example", "--ground", "s.25", "--explanation", "Offers",
            "--purpose", "platform referral", "--community", "--min-p", "0", "-o", str(tmp_path / "refs")]  # fmt: skip
    done = run_cli("content", "refer", "--platform", platform, *args, ws=sample_ws)
    assert done.returncode == 0, done.stderr
    ref = done.stdout.strip()
    done = run_cli(
        "content", "referral-status", ref, "--status", "removed", "--at", "2099-01-02T00:00:00Z", ws=sample_ws
    )
    assert done.returncode == 0, done.stderr

    with open_store(sample_ws, read_only=True) as store:
        findings = content_findings(store)
    assert findings is not None and findings.adverts >= 20 and findings.harmful > 0
    section = content_section(findings)
    page = section.html
    assert section.anchor == "content" and "Harmful posts by platform" in page and "By language" in page
    assert findings.campaigns and "Campaigns" in page
    assert findings.hits and any(h.named for h in findings.hits)  # a post's phone leads to a person
    assert findings.outcomes["referred"] >= 1 and findings.outcomes["by_status"].get("removed", 0) >= 1
    assert "median time to removal" in page
    leaked = sorted(n for n in names if n in page) + sorted(i for i in ids if i in page)
    assert not leaked, f"protected records in the section: {leaked[:5]}"
    assert not ids & section.entity_ids
    text = re.sub(r"<[^>]+>", " ", page)
    assert "not named" in text or not any(h.protected for h in findings.hits)


def test_whole_briefing_carries_the_section(sample_ws: Path) -> None:
    page = (sample_ws.parent / "briefing.html").read_text(encoding="utf-8")
    assert '<section id="content">' in page and "Online adverts" in page
    _ids, names = _protected_names(sample_ws)
    found = re.search(r'<section id="content">.*?</section>', page, re.S)
    assert found and not [n for n in names if n in found.group(0)]


def test_no_adverts_says_so() -> None:
    section = content_section(None)
    assert "No adverts" in section.html and not section.entity_ids
