"""Post files import as Advert entities through the ordinary ingest path: marked, row-checked, atomic."""

from __future__ import annotations

import json
from pathlib import Path

from avellino.store import open_store
from tests.content.conftest import run_cli

POSTS = [
    {
        "text": "Boat to UK every day 4000 pounds WhatsApp 0️⃣7️⃣9️⃣1️⃣1️⃣1️⃣2️⃣3️⃣4️⃣5️⃣6️⃣",
        "platform": "TikTok",
        "url": "https://tiktok.com/@trip_uk/1",
        "account": "trip_uk",
        "time": "2026-03-01T10:22:00",
        "language": "en",
        "caption": "🚤🇬🇧",
    },
    {
        "text": "Travail en Angleterre, visa garanti",
        "platform": "Facebook",
        "url": "https://facebook.com/x/2",
        "account": "jobs99",
        "time": "2026-03-02",
        "language": "fr",
    },
]


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_posts_become_marked_adverts_with_their_accounts(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run_cli("init", ws=ws).returncode == 0
    posts = _write(tmp_path / "posts.jsonl", POSTS)
    done = run_cli("content", "ingest", str(posts), "--originator", "UK-NCA", "--tlp", "RED", ws=ws)
    assert done.returncode == 0, done.stderr
    with open_store(ws, read_only=True) as store:
        adverts = {e.first("url"): e for e in store.entities(["Advert"])}
        accounts = {e.id: e for e in store.entities(["UserAccount"])}
        rows = store.read_statements(columns=["entity_id", "tlp", "originator"]).to_pylist()
    boat = adverts["https://tiktok.com/@trip_uk/1"]
    assert boat.first("bodyText", quiet=True).startswith("Boat to UK")
    assert boat.first("description") == "🚤🇬🇧"
    assert boat.first("language") == "eng"
    assert accounts[boat.first("authorAccount")].first("username") == "trip_uk"
    assert boat.get("phone") == ["+447911123456"]  # read from the text (keycap digits), a second batch
    assert "posts.phones.jsonl" in done.stderr
    assert {r["tlp"] for r in rows} == {"RED"} and {r["originator"] for r in rows} == {"UK-NCA"}
    again = run_cli("content", "ingest", str(posts), "--originator", "UK-NCA", "--tlp", "RED", ws=ws)
    assert again.returncode == 0 and "unchanged" in again.stderr


def test_bad_row_named_and_nothing_written(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run_cli("init", ws=ws).returncode == 0
    bad = [*POSTS, {**POSTS[0], "url": "https://t.me/c/3", "time": "yesterday"}]
    done = run_cli("content", "ingest", str(_write(tmp_path / "bad.jsonl", bad)), "-o", "UK-NCA", ws=ws)
    assert done.returncode == 3
    assert "bad.jsonl: row 3, column 'time'" in done.stderr
    with open_store(ws, read_only=True) as store:
        assert store.read_statements().num_rows == 0


def test_csv_without_optional_columns_and_missing_text(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run_cli("init", ws=ws).returncode == 0
    csv = tmp_path / "posts.csv"
    csv.write_text("url,text\nhttps://t.me/x/1,Visa and passport for sale\n", encoding="utf-8")
    assert run_cli("content", "ingest", str(csv), "-o", "FR-OCRIEST", ws=ws).returncode == 0
    no_text = tmp_path / "no_text.csv"
    no_text.write_text("url,body\nhttps://t.me/x/2,hello\n", encoding="utf-8")
    done = run_cli("content", "ingest", str(no_text), "-o", "FR-OCRIEST", ws=ws)
    assert done.returncode == 2 and "needs the column(s) text" in done.stderr
