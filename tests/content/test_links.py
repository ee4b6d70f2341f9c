"""A post's phone leads to the person in the workspace who carries it; a protected person is never named."""

from __future__ import annotations

import json
from pathlib import Path

from tests.content.conftest import run_cli

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "ingest"


def test_post_phone_leads_to_the_person(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run_cli("init", ws=ws).returncode == 0
    people = tmp_path / "people.csv"
    people.write_text(
        "ref,originator,full_name,forename,surname,dob,mobile,nationality,handling,category,aliases\n"
        "P1,UK-NCA,Muhammad Al-Hassan,Muhammad,Al-Hassan,14/03/1987,+44 7911 123456,Syria,H2,suspect,\n"
        "P9,UK-NCA,Sara Example,Sara,Example,01/01/1999,07911 123499,Eritrea,H2,victim,\n",
        encoding="utf-8",
    )
    assert run_cli("ingest", str(people), "-m", str(FIX / "persons.yml"), ws=ws).returncode == 0
    posts = tmp_path / "posts.jsonl"
    rows = [
        {"id": "a", "text": "Boat to UK every day, WhatsApp 0️⃣7️⃣9️⃣1️⃣1️⃣1️⃣2️⃣3️⃣4️⃣5️⃣6️⃣"},
        {"id": "b", "text": "call +44 7911 123 499"},
        {"id": "c", "text": "Happy birthday"},
    ]
    posts.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    done = run_cli("content", "selectors", "-i", str(posts), "--id-field", "id", "-w", str(ws), "--json")
    assert done.returncode == 0, done.stderr
    out = {r["id"]: r["selectors"] for r in map(json.loads, done.stdout.splitlines())}
    phone_a = next(s for s in out["a"] if s["kind"] == "phone")
    assert phone_a["value"] == "+447911123456"
    assert [(ln["schema"], ln["name"]) for ln in phone_a["links"]] == [("Person", "Muhammad Al-Hassan")]
    phone_b = next(s for s in out["b"] if s["kind"] == "phone")
    assert phone_b["links"] == [{"protected": True, "schema": "Person"}]
    assert "Sara" not in done.stdout
    assert out["c"] == []
