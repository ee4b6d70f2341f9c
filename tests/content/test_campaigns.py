"""Near-duplicate clustering: one campaign reposted by many accounts is one case (purity, completeness >= 0.9)."""

from __future__ import annotations

import json
from pathlib import Path

from avellino.content.campaigns import Campaign, cluster, purity_completeness
from avellino.content.generate import campaigns
from tests.content.conftest import run_cli


def test_generated_campaigns_purity_and_completeness() -> None:
    posts = campaigns(150, seed=21)
    found = cluster([p.text for p in posts])
    scores = purity_completeness([p.campaign for p in posts], found)
    assert scores["purity"] >= 0.9 and scores["completeness"] >= 0.9, scores


def test_edits_keep_a_repost_in_its_campaign() -> None:
    base = "Trip to England this week, big boat, every day, 4000 pounds, WhatsApp +44 7911 123456"
    texts = [
        base,
        base.upper() + " 🚤🚤",
        base.replace("+44 7911 123456", "0️⃣7️⃣9️⃣1️⃣1️⃣1️⃣2️⃣3️⃣4️⃣5️⃣6️⃣"),
        base.replace("big boat, ", ""),
        "Warning: smugglers sell crossings to the UK on social media. Report adverts to the police",
    ]
    found = cluster(texts)
    assert [c.members for c in found] == [[0, 1, 2, 3]]


def test_scores_can_fail() -> None:
    truth = ["a", "a", "b", "b", None]
    assert purity_completeness(truth, [Campaign("x", [0, 1, 2, 3])])["purity"] == 0.5
    assert purity_completeness(truth, [Campaign("x", [0, 1])])["completeness"] == 0.75  # b: two posts found alone


def test_campaigns_cli_lists_accounts(tmp_path: Path) -> None:
    posts = tmp_path / "camp.jsonl"
    assert run_cli("content", "generate", "-n", "20", "--campaigns", "--seed", "2", "-o", str(posts)).returncode == 0
    done = run_cli("content", "campaigns", "-i", str(posts), "--id-field", "id", "--truth-field", "campaign", "--json")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert rows and all(len(r["posts"]) >= 2 and r["accounts"] for r in rows if r["posts"][0].startswith("c"))
    scores = json.loads(done.stderr.splitlines()[0])
    assert scores["purity"] >= 0.9 and scores["completeness"] >= 0.9
