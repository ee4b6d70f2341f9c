"""Each detector on hand-made ledgers: it fires on the pattern and stays silent just below its rule."""

from __future__ import annotations

import pandas as pd

from avellino.network.protect import Protection
from avellino.trace import patterns
from avellino.trace.findings import release


def ledger(rows: list[tuple[str, str, float, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tx": [f"t{i}" for i in range(len(rows))],
            "src": [r[0] for r in rows],
            "dst": [r[1] for r in rows],
            "amount": [r[2] for r in rows],
            "date": pd.to_datetime([r[3] for r in rows]),
            "method": "",
            "markings": "UK-NCA/H0/TLP:AMBER/B2",
        }
    )


def test_fan_in_needs_five_payers_in_thirty_days() -> None:
    five = ledger([(f"m{i}", "boss", 2000.0, f"2024-03-{i + 1:02d}") for i in range(5)])
    found = patterns.detect(five, patterns=("fan_in",))
    assert [(f.subject, len(f.transactions)) for f in found] == [("boss", 5)]
    assert found[0].markings == ("UK-NCA/H0/TLP:AMBER/B2",)
    spread = ledger([(f"m{i}", "boss", 2000.0, f"2024-{i + 1:02d}-01") for i in range(5)])
    assert patterns.detect(spread, patterns=("fan_in",)) == []
    four = ledger([(f"m{i}", "boss", 2000.0, f"2024-03-{i + 1:02d}") for i in range(4)])
    assert patterns.detect(four, patterns=("fan_in",)) == []


def test_fan_out() -> None:
    found = patterns.detect(ledger([("boss", f"d{i}", 500.0, "2024-05-02") for i in range(6)]), patterns=("fan_out",))
    assert [f.subject for f in found] == ["boss"]


def test_cycle_respects_time_and_amounts() -> None:
    rows = [("a", "b", 10000.0, "2024-01-01"), ("b", "c", 9500.0, "2024-01-03"), ("c", "a", 9000.0, "2024-01-05")]
    found = patterns.detect(ledger(rows), patterns=("cycle",))
    assert len(found) == 1 and set(found[0].accused) == {"a", "b", "c"}
    backwards = [("a", "b", 10000.0, "2024-01-05"), ("b", "c", 9500.0, "2024-01-03"), ("c", "a", 9000.0, "2024-01-01")]
    assert patterns.detect(ledger(backwards), patterns=("cycle",)) == []
    shrinking = [("a", "b", 10000.0, "2024-01-01"), ("b", "c", 5000.0, "2024-01-03"), ("c", "a", 4000.0, "2024-01-05")]
    assert patterns.detect(ledger(shrinking), patterns=("cycle",)) == []


def test_layering_chain_through_distinct_accounts() -> None:
    rows = [("a", "b", 8000.0, "2024-02-01"), ("b", "c", 7800.0, "2024-02-02"), ("c", "d", 7600.0, "2024-02-04"),
            ("d", "e", 7500.0, "2024-02-06")]  # fmt: skip
    found = patterns.detect(ledger(rows), patterns=("layering",))
    assert len(found) == 1
    assert found[0].subject == "a" and found[0].accused == ("a", "b", "c", "d", "e")
    assert len(found[0].transactions) == 4


def test_pass_through_needs_repetition() -> None:
    rows = []
    for k in range(3):
        rows += [
            (f"p{k}", "mule", 3000.0, f"2024-04-{10 * k + 1:02d}"),
            ("mule", "boss", 2900.0, f"2024-04-{10 * k + 2:02d}"),
        ]
    found = patterns.detect(ledger(rows), patterns=("pass_through",))
    assert [f.subject for f in found] == ["mule"]
    assert patterns.detect(ledger(rows[:4]), patterns=("pass_through",)) == []


def test_structuring_just_under_the_threshold() -> None:
    rows = [("s", f"b{i}", 9600.0, f"2024-06-{i * 5 + 1:02d}") for i in range(3)]
    found = patterns.detect(ledger(rows), patterns=("structuring",))
    assert ("s", "sender") in {(f.subject, f.role) for f in found}
    over = [("s", f"b{i}", 10500.0, f"2024-06-{i * 5 + 1:02d}") for i in range(3)]
    assert patterns.detect(ledger(over), patterns=("structuring",)) == []


def test_release_withholds_findings_accusing_a_protected_person() -> None:
    five = ledger([(f"m{i}", "boss", 2000.0, f"2024-03-{i + 1:02d}") for i in range(5)])
    found = patterns.detect(five, patterns=("fan_in",))
    shown = release(found, Protection.of(["m0", "m1"], "victim"))
    assert [f.subject for f in shown.shown] == ["boss"]
    assert shown.shown[0].flagged_payers == ("m0", "m1")
    withheld = release(patterns.detect(five, patterns=("fan_in",)), Protection.of(["boss"], "victim"))
    assert withheld.shown == [] and withheld.withheld == [{"node": "boss", "reason": "victim", "pattern": "fan_in"}]


def test_hawala_settlement_needs_matched_opposite_flows() -> None:
    rows = [("h1", "h2", 20000.0, "2024-01-10"), ("h2", "h1", 19000.0, "2024-02-20")]
    found = patterns.detect(ledger(rows), patterns=("hawala_settlement",))
    assert [(f.subject, f.accused) for f in found] == [("h1", ("h1", "h2"))]
    unmatched = [("h1", "h2", 20000.0, "2024-01-10"), ("h2", "h1", 9000.0, "2024-02-20")]
    assert patterns.detect(ledger(unmatched), patterns=("hawala_settlement",)) == []
    late = [("h1", "h2", 20000.0, "2024-01-10"), ("h2", "h1", 19000.0, "2024-06-20")]
    assert patterns.detect(ledger(late), patterns=("hawala_settlement",)) == []


def test_settlement_across_countries_only() -> None:
    rows = [("h1", "h2", 20000.0, "2024-01-10"), ("h2", "h1", 19000.0, "2024-02-20")]
    abroad = {"h1": frozenset({"GB"}), "h2": frozenset({"IQ"})}
    found = patterns.detect(ledger(rows), patterns=("hawala_settlement",), countries=abroad)
    assert len(found) == 1 and "GB <-> IQ" in found[0].note
    home = {"h1": frozenset({"GB"}), "h2": frozenset({"GB"})}
    assert patterns.detect(ledger(rows), patterns=("hawala_settlement",), countries=home) == []
    (unknown,) = patterns.detect(ledger(rows), patterns=("hawala_settlement",), countries={"h1": frozenset({"GB"})})
    assert "countries not recorded" in unknown.note


def test_cash_courier_carries_cash_on_twice() -> None:
    def cash(rows: list[tuple[str, str, float, str]], method: str = "cash") -> pd.DataFrame:
        return ledger(rows).assign(method=method)

    runs = [("boss", "runner", 9000.0, "2024-05-01"), ("runner", "broker", 8800.0, "2024-05-12"),
            ("boss", "runner", 7000.0, "2024-06-01"), ("runner", "broker", 6900.0, "2024-06-09")]  # fmt: skip
    found = patterns.detect(cash(runs), patterns=("cash_courier",))
    assert [(f.subject, f.role, len(f.transactions)) for f in found] == [("runner", "courier", 4)]
    assert "travelled" not in found[0].note
    (seen,) = patterns.detect(cash(runs), patterns=("cash_courier",), travels={"runner": ["2024-05-05", "2025-01-01"]})
    assert "travelled 1 time(s)" in seen.note  # the leg inside the period, not the one after it
    assert patterns.detect(cash(runs[:2]), patterns=("cash_courier",)) == []  # once is not a courier
    assert patterns.detect(cash(runs, "mto"), patterns=("cash_courier",)) == []  # a bank trail is not carried
    late = [r if i % 2 == 0 else (r[0], r[1], r[2], r[3][:8] + "28") for i, r in enumerate(runs)]
    assert patterns.detect(cash(late), patterns=("cash_courier",)) == []  # more than 14 days later
