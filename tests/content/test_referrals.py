"""Referrals: a DSA notice per platform through the one screening path; never a victim's advert, whatever the
purpose; each referred advert kept as a Referral entity with its status history; times in UTC with Z."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from avellino.content.referrals import parse_utc, utc_iso
from avellino.errors import ConfigError
from avellino.store import open_store
from tests.content.conftest import run_cli

UTC_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ARGS = ["--agency", "UK-NCA", "--contact", "referrals@nca.example", "--ground", "Immigration Act 1971 s.25",
        "--explanation", "Offers illegal Channel crossings"]  # fmt: skip
BOAT = {"text": "Boat to UK every day, WhatsApp +44 7911 123456", "platform": "TikTok", "account": "trip_uk"}


def _posts(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _ingest(ws: Path, path: Path, *extra: str) -> None:
    done = run_cli("content", "ingest", str(path), "-o", "UK-NCA", *extra, ws=ws)
    assert done.returncode == 0, done.stderr


def test_refer_only_what_the_screen_and_the_victim_rule_allow(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run_cli("init", ws=ws).returncode == 0
    warning = {
        "text": "Warning: smugglers lie. Report adverts to the police on 101",
        "url": "https://tiktok.com/@gov/5",
    }
    public = _posts(tmp_path / "public.jsonl", [{**BOAT, "url": "https://tiktok.com/@trip_uk/1"}, {**BOAT, **warning}])
    amber = _posts(tmp_path / "amber.jsonl", [{**BOAT, "url": "https://tiktok.com/@trip_uk/2"}])
    # a victim forwarding the advert she answered, from her own account: harmful text, but her record is protected
    victim = _posts(tmp_path / "victim.jsonl", [{**BOAT, "account": "her_account", "url": "https://tiktok.com/@v/3"}])
    other = _posts(tmp_path / "other.jsonl", [{**BOAT, "platform": "Facebook", "url": "https://facebook.com/p/4"}])
    _ingest(ws, public, "--tlp", "CLEAR")
    _ingest(ws, amber, "--tlp", "AMBER")
    _ingest(ws, victim, "--tlp", "CLEAR", "--subject-category", "victim")
    _ingest(ws, other, "--tlp", "CLEAR")
    out = tmp_path / "refs"
    done = run_cli("content", "refer", "--platform", "TikTok", *ARGS, "--purpose", "platform referral", "-o", str(out),
                   ws=ws)  # fmt: skip
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
    assert UTC_Z.match(notice["sent_at"])
    text = notice_file.read_text(encoding="utf-8")
    assert "@v/3" not in text and "7911" not in text and "Boat to UK" not in text and "@gov" not in text
    assert "her_account" not in text
    audit = run_cli("audit", "show", ws=ws)
    assert reference in audit.stdout + audit.stderr

    # the referral is a Referral entity of the notifying agency, linked to the Advert
    with open_store(ws, read_only=True) as store:
        rows = store.read_statements(schemata=["Referral"]).to_pylist()
        adverts = store.read_statements(schemata=["Advert"]).to_pylist()
    (referral_id,) = {r["entity_id"] for r in rows}
    assert referral_id.startswith("uk-nca--")
    props = {r["prop"]: r["value"] for r in rows}
    (advert_id,) = {a["entity_id"] for a in adverts if a["prop"] == "url" and a["value"].endswith("@trip_uk/1")}
    assert props["advert"] == advert_id and props["recordId"] == reference and props["status"] == "sent"
    assert {r["originator"] for r in rows} == {"UK-NCA"} and {r["tlp"] for r in rows} == {"AMBER"}

    assert run_cli("content", "referral-status", reference, "--status", "acknowledged", "--at",
                   "2099-01-01T09:00:00+01:00", ws=ws).returncode == 0  # fmt: skip
    assert run_cli("content", "referral-status", reference, "--status", "removed", "--at", "2099-01-01T10:00:00Z",
                   "--note", "gone", ws=ws).returncode == 0  # fmt: skip
    listed = run_cli("content", "referrals", "--json", ws=ws)
    assert listed.returncode == 0, listed.stderr
    (row,) = [json.loads(line) for line in listed.stdout.splitlines()]
    assert row["status"] == "removed" and row["hours_to_removal"] > 0 and row["advert_id"] == advert_id
    assert [e["status"] for e in row["history"]] == ["sent", "acknowledged", "removed"]
    assert row["history"][1]["at"] == "2099-01-01T08:00:00Z" and row["history"][2]["note"] == "gone"
    assert UTC_Z.match(row["sent"]) and row["removed"] == "2099-01-01T10:00:00Z"
    table = run_cli("content", "referrals", ws=ws)
    assert table.returncode == 0 and reference in table.stdout
    bad = run_cli("content", "referral-status", reference, "--status", "deleted", ws=ws)
    assert bad.returncode == 2 and "use one of" in bad.stderr
    bad_time = run_cli("content", "referral-status", reference, "--status", "removed", "--at", "tomorrow", ws=ws)
    assert bad_time.returncode == 2 and "ISO 8601" in bad_time.stderr


def test_a_victims_advert_is_never_referred_even_for_safeguarding(tmp_path: Path) -> None:
    """The screen lifts the protected rule for a safeguarding purpose; a referral never does: not the victim's own
    advert, nor an advert whose author account is a protected record."""
    ws = tmp_path / "ws"
    assert run_cli("init", ws=ws).returncode == 0
    _ingest(ws, _posts(tmp_path / "v.jsonl", [{**BOAT, "account": "w1", "url": "https://tiktok.com/@w1/9"}]),
            "--tlp", "CLEAR", "--subject-category", "witness")  # fmt: skip
    # another file's advert posted by the same (protected) account: it names the witness
    _ingest(ws, _posts(tmp_path / "o.jsonl", [{**BOAT, "account": "w1", "url": "https://tiktok.com/@w1/10"}]),
            "--tlp", "CLEAR")  # fmt: skip
    out = tmp_path / "refs"
    done = run_cli("content", "refer", "--platform", "TikTok", *ARGS, "--purpose", "safeguarding referral",
                   "-o", str(out), ws=ws)  # fmt: skip
    assert done.returncode == 2
    assert "2 advert holds data about a protected person" in done.stderr
    assert not out.exists() or not list(out.iterdir())
    listed = run_cli("content", "referrals", "--json", ws=ws)
    assert listed.stdout.strip() == ""


def test_times_are_utc_with_z() -> None:
    assert utc_iso(parse_utc("2026-12-04T10:30:00+01:30")) == "2026-12-04T09:00:00Z"
    assert utc_iso(parse_utc("2026-12-04T09:00:00")) == "2026-12-04T09:00:00Z"
    with pytest.raises(ConfigError, match="ISO 8601"):
        parse_utc("04/12/2026")
