"""Referrals: a DSA notice per platform through the one sharing policy; never a victim's advert; status tracked."""

from __future__ import annotations

import json
from pathlib import Path

from tests.content.conftest import run_cli


def _posts(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_refer_only_what_the_policy_and_the_victim_rule_allow(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run_cli("init", ws=ws).returncode == 0
    boat = {"text": "Boat to UK every day, WhatsApp +44 7911 123456", "platform": "TikTok", "account": "trip_uk"}
    warning = {
        "text": "Warning: smugglers lie. Report adverts to the police on 101",
        "url": "https://tiktok.com/@gov/5",
    }
    public = _posts(tmp_path / "public.jsonl", [{**boat, "url": "https://tiktok.com/@trip_uk/1"}, {**boat, **warning}])
    amber = _posts(tmp_path / "amber.jsonl", [{**boat, "url": "https://tiktok.com/@trip_uk/2"}])
    # a victim forwarding the advert she answered: harmful text, but her record is protected
    victim = _posts(tmp_path / "victim.jsonl", [{**boat, "url": "https://tiktok.com/@v/3"}])
    other = _posts(tmp_path / "other.jsonl", [{**boat, "platform": "Facebook", "url": "https://facebook.com/p/4"}])
    for path, extra in (
        (public, ["--tlp", "CLEAR"]),
        (amber, ["--tlp", "AMBER"]),
        (victim, ["--tlp", "CLEAR", "--subject-category", "victim"]),
        (other, ["--tlp", "CLEAR"]),
    ):
        done = run_cli("content", "ingest", str(path), "-o", "UK-NCA", *extra, ws=ws)
        assert done.returncode == 0, done.stderr
    out = tmp_path / "refs"
    args = ["--agency", "UK-NCA", "--contact", "referrals@nca.example", "--ground", "Immigration Act 1971 s.25",
            "--explanation", "Offers illegal Channel crossings", "--purpose", "platform referral"]  # fmt: skip
    done = run_cli("content", "refer", "--platform", "TikTok", *args, "-o", str(out), ws=ws)
    assert done.returncode == 0, done.stderr
    reference = done.stdout.strip()
    assert (
        "withheld: 1 TLP outside law enforcement, 1 advert holds data about a protected person, "
        "1 classified benign (p_harmful < 0.8)"
    ) in done.stderr
    (notice_file,) = out.glob("REF-*.json")
    notice = json.loads(notice_file.read_text(encoding="utf-8"))
    assert [i["url"] for i in notice["items"]] == ["https://tiktok.com/@trip_uk/1"]
    assert notice["notifier"] == {"name": "UK-NCA", "contact": "referrals@nca.example", "trusted_flagger": False}
    assert "Art. 16" in notice["type"] and notice["good_faith_statement"]
    text = notice_file.read_text(encoding="utf-8")
    assert "@v/3" not in text and "7911" not in text and "Boat to UK" not in text and "@gov" not in text
    audit = run_cli("audit", "show", ws=ws)
    assert reference in audit.stdout + audit.stderr

    assert run_cli("content", "referral-status", reference, "--status", "removed", "--at", "2099-01-01T10:00:00",
                   ws=ws).returncode == 0  # fmt: skip
    listed = run_cli("content", "referrals", "--json", ws=ws)
    assert listed.returncode == 0, listed.stderr
    (row,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert row["status"] == "removed" and row["hours_to_removal"] > 0
    bad = run_cli("content", "referral-status", reference, "--status", "deleted", ws=ws)
    assert bad.returncode == 2 and "use one of" in bad.stderr
