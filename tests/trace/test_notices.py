"""Supplier warnings through the one screening path, on a real DuckDB workspace of hand-written facts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from avellino.share import audit
from avellino.store.duckdb_store import DuckDBStore
from avellino.trace import buyers, ledger, notices
from tests.share.nodes import fact, person, write

FR = "FR-OCRIEST"


def _entity(row: dict[str, object]) -> dict[str, object]:
    return row | {"prop_type": "entity"}


def _purchase(pid: str, day: str, item: str, qty: str, *, tlp: str = "CLEAR", category: str = "suspect",
              method: str = "hawala") -> list[dict[str, object]]:  # fmt: skip
    def f(prop: str, value: str) -> dict[str, object]:
        return fact(pid, prop, value, FR, schema="Purchase", tlp=tlp, category=category)

    return [
        f("recordId", pid.upper()), f("date", day), f("itemKind", item), f("quantity", qty),
        f("paymentMethod", method), f("place", "Gravelines"),
        _entity(f("buyer", "fr-ocriest--boss")), _entity(f("seller", "fr-ocriest--shop")),
    ]  # fmt: skip


def test_a_warning_holds_only_screened_sale_facts_never_the_buyer_or_a_victim(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    DuckDBStore(ws, create=True).close()
    rows = person("fr-ocriest--boss", "Karim Boss", FR) + person("fr-ocriest--mate", "Other Man", FR)
    rows += [fact("fr-ocriest--shop", "name", "Nautic Shop", FR, schema="Company")]
    call = [fact("fr-ocriest--c1", "date", "2024-01-01", FR, schema="Call")]
    call += [_entity(fact("fr-ocriest--c1", "caller", "fr-ocriest--boss", FR, schema="Call")),
             _entity(fact("fr-ocriest--c1", "receiver", "fr-ocriest--mate", FR, schema="Call"))]  # fmt: skip
    rows += call
    rows += _purchase("fr-ocriest--p1", "2024-03-01", "inflatable_hull", "3")
    rows += _purchase("fr-ocriest--p2", "2024-03-05", "outboard_engine", "3", tlp="AMBER")
    rows += _purchase("fr-ocriest--p3", "2024-03-09", "fuel", "200", category="victim")  # told by a victim
    write(ws, rows)
    with DuckDBStore(ws, read_only=True) as store:
        led = ledger.from_store(store)
        assert led.graph is not None and led.statements is not None
        ranked = buyers.score(led.graph, led.statements)
        assert [b.buyer for b in ranked] == ["fr-ocriest--boss"] and ranked[0].points >= buyers.SUSPICIOUS_SCORE
        warning = notices.build(store, led.graph, led.statements, ranked, "fr-ocriest--shop", FR, "ocriest@example.org",
                                "supplier warning", today=dt.date(2024, 4, 1))  # fmt: skip
        path = notices.write(store, warning, tmp_path / "out", "supplier warning")
        last = audit.entries(store)[-1].fields
    notice = json.loads(path.read_text())
    assert notice["sales"] == [{"recordId": "FR-OCRIEST--P1", "date": "2024-03-01", "itemKind": "inflatable_hull",
                                "quantity": "3", "place": "Gravelines"}]  # fmt: skip
    assert notice["tlp"] == "CLEAR" and notice["supplier"] == "Nautic Shop" and notice["signs"]
    text = path.read_text()
    assert "boss" not in text.lower() and "Karim" not in text and "p3" not in text.lower()
    assert warning.withheld[notices.WITHHELD_PROTECTED] > 0
    assert any("TLP" in reason for reason in warning.withheld)  # p2 is AMBER: a supplier is not law enforcement
    assert last["action"] == f"supply warn {warning.reference}" and "fr-ocriest--shop" in last["touched"]["ids"]
