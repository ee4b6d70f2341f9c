"""Money, assets and buyers on a real DuckDB workspace: the sample operation, and hand-written facts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from avellino.store.duckdb_store import DuckDBStore
from avellino.trace import assets, buyers, evaluate, follow, ledger, patterns
from avellino.trace.findings import release
from tests.share.nodes import fact, person, write
from tests.trace.conftest import TraceOp


def _ledger(ws: Path) -> ledger.Ledger:
    store = DuckDBStore(ws)
    try:
        return ledger.from_store(store)
    finally:
        store.close()


def test_sample_payments_become_a_ledger_with_markings(trace_op: TraceOp) -> None:
    led = _ledger(trace_op.workspace)
    assert len(led) > 100
    assert led.tx["markings"].str.contains("TLP:").all()
    assert led.graph is not None
    nodes = set(led.graph.nodes["id"])
    assert set(led.tx["src"]) <= nodes and set(led.tx["dst"]) <= nodes


def test_sample_figures_and_no_victim_anywhere(trace_op: TraceOp) -> None:
    scored = evaluate.score_sample(_ledger(trace_op.workspace), trace_op.truth_dir)
    assert scored["victims_listed"] == 0
    assert scored["buyers"]["legitimate"] > 0 and scored["buyers"]["suspicious"] > 0
    # better than chance by a wide margin (chance AP = share of suspicious buyers)
    share = scored["buyers"]["suspicious"] / (scored["buyers"]["suspicious"] + scored["buyers"]["legitimate"])
    assert scored["buyers"]["average_precision"] > share + 0.3
    assert scored["organisers_traced"] is not None and scored["organisers_traced"] > 0.5
    assert scored["findings"]["fee_collection"] > 0


def test_truth_victims_are_never_accused_held_or_buyers(trace_op: TraceOp) -> None:
    led = _ledger(trace_op.workspace)
    assert led.graph is not None and led.statements is not None
    truth = pd.read_csv(trace_op.truth_dir / "persons.csv", dtype=str)
    victims = {led.graph.canonical.get(e, e) for e in truth[truth["is_victim"] == "true"]["entity_id"]}
    reached = follow.trace(led)
    collectors = follow.fee_collectors(led)
    shown = release(patterns.detect(led.tx) + collectors, led.protection).shown
    found = assets.candidates(led, led.statements, reached, collectors)
    ranked = buyers.score(led.graph, led.statements)
    assert found and ranked and shown
    assert not victims & {a for f in shown for a in f.accused}
    assert not victims & {h for a in found for h in a.holders}
    assert not victims & {b.buyer for b in ranked}
    assert not victims & {r.node for r in reached}
    profiles = buyers.suppliers(led.graph, led.statements, ranked)
    assert profiles and not victims & {p.seller for p in profiles}
    legit = set(pd.read_csv(trace_op.truth_dir / "buyers.csv", dtype=str)["entity_id"])
    dealers = [p for p in profiles if p.label.endswith(("SARL", "GmbH", "NV", "Côte", "Diffusion", "Plaisance"))]
    assert dealers and legit  # the legitimate dealers sell mostly to legitimate buyers
    assert max(p.suspicious_share for p in dealers) < min(p.suspicious_share for p in profiles[:3])
    # migrants do appear, but only as flagged payers
    assert any(f.flagged_payers for f in shown if f.pattern == "fee_collection")


def _pay(
    pid: str, payer: str, payee: str, amount: str, date: str, account: str | None = None
) -> list[dict[str, object]]:
    rows = [
        fact(pid, "payer", payer, "UK-NCA", schema="Payment"),
        fact(pid, "beneficiary", payee, "UK-NCA", schema="Payment"),
        fact(pid, "amount", amount, "UK-NCA", schema="Payment"),
        fact(pid, "date", date, "UK-NCA", schema="Payment"),
    ]
    if account:
        rows.append(fact(pid, "beneficiaryAccount", account, "UK-NCA", schema="Payment"))
    for r in rows[:2] + rows[4:]:
        r["prop_type"] = "entity"
    return rows


def test_a_victim_collector_and_a_victims_account_are_never_listed(tmp_path: Path) -> None:
    """Three migrants pay a victim (forced to collect) into an account she shares with a suspect: the
    collector finding is withheld, the account is never an asset candidate, the suspect's own account is."""
    ws = tmp_path / "ws"
    DuckDBStore(ws, create=True).close()
    rows = person("boss", "Suspect One", "UK-NCA") + person("forced", "Victim Collector", "UK-NCA", category="victim")
    rows += person("boss2", "Suspect Two", "UK-NCA")
    for i in range(3):
        rows += person(f"m{i}", f"Migrant {i}", "UK-NCA", category="victim")
        rows += _pay(f"p{i}", f"m{i}", "forced", "2000", f"2024-01-0{i + 1}", account="acc-shared")
        rows += _pay(f"q{i}", f"m{i}", "boss2", "2500", f"2024-01-0{i + 1}", account="acc-boss2")
    rows += _pay("s1", "boss2", "boss", "7000", "2024-01-09", account="acc-shared")
    for acc, holder in (("acc-shared", "forced"), ("acc-boss2", "boss2")):
        rows += [fact(acc, "id", acc, "UK-NCA", schema="BankAccount"),
                 fact(acc, "accountNumber", acc.upper(), "UK-NCA", schema="BankAccount")]  # fmt: skip
        holder_fact = fact(acc, "holder", holder, "UK-NCA", schema="BankAccount")
        holder_fact["prop_type"] = "entity"
        rows.append(holder_fact)
    rows += [fact("acc-shared", "holder", "boss", "UK-NCA", schema="BankAccount") | {"prop_type": "entity"}]
    write(ws, rows)
    led = _ledger(ws)
    assert led.statements is not None
    collectors = follow.fee_collectors(led)
    rel = release(collectors, led.protection)
    assert [f.subject for f in rel.shown] == ["boss2"]
    assert rel.withheld and {w["node"] for w in rel.withheld} == {"forced"}
    found = assets.candidates(led, led.statements, follow.trace(led), collectors)
    assert [a.asset for a in found] == ["acc-boss2"]
    assert found[0].holders == ["boss2"] and found[0].evidence
