"""What the briefing shows of the money and the supply chain: the money's path from migrants onwards, the
pattern counts, asset candidates, suspicious buyers and their purchases before crossings.

``trace_findings`` reads the store once (``ledger.from_store``) and writes nothing; ``trace/briefing.py``
renders the result. Every list goes through the same exits as the CLI (``findings.release``, ``buyers.score``,
``assets.candidates``), so no protected person is ever a collector, holder, buyer or a named box of the money
diagram: migrants appear only as one aggregate box ("Migrants (N)"), and money reaching another protected person
is left out of the diagram.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from avellino.store.base import Store

TOP = 10
#: Money diagram: at most this many collectors, and this many payees of each stage.
SANKEY_COLLECTORS, SANKEY_NEXT = 12, 12


@dataclass
class TraceFindings:
    """The money and supply-chain results the briefing shows (all lists already screened)."""

    payments: int
    patterns: dict[str, int]
    withheld: int  # findings withheld because they would accuse a protected person
    collectors: list[tuple[str, str, int, float]]  # (id, label, migrants, amount)
    money: pd.DataFrame  # from, to, people (= amount): the diagram's flows, labels already resolved
    assets: list[tuple[str, str, str, float, str]]  # (asset id, label, schema, score, holders' labels)
    buyers: list[tuple[str, str, float, int, str]]  # (id, label, score, points, features)
    purchases: pd.DataFrame  # date, suspicious (bool): purchases of boats, engines and kit
    crossings: pd.Series  # dates of recorded crossings
    before_share: tuple[float, float] = (0.0, 0.0)  # share within 14 days before a crossing: suspicious, others
    entity_ids: set[str] = field(default_factory=set)


def trace_findings(store: Store) -> TraceFindings | None:
    """The workspace's money and supply-chain findings; None when it holds no payment and no purchase."""
    from avellino.trace import assets, buyers, follow, patterns
    from avellino.trace.findings import release
    from avellino.trace.ledger import from_store

    if not store.read_statements(schemata=["Payment", "Purchase"], columns=["entity_id"]).num_rows:
        return None
    ledger = from_store(store)
    sg, st = ledger.graph, ledger.statements
    if sg is None or st is None:
        return None
    buys = buyers.purchases(sg, st)
    if ledger.tx.empty and buys.empty:
        return None
    collectors = follow.fee_collectors(ledger)
    rel = release(
        patterns.detect(ledger.tx, countries=ledger.countries, travels=ledger.travels) + collectors, ledger.protection
    )
    shown_collectors = sorted((f for f in rel.shown if f.pattern == "fee_collection"),
                              key=lambda f: (-len(f.flagged_payers), -f.amount, f.subject))  # fmt: skip
    reached = follow.trace(ledger)
    found_assets = assets.candidates(ledger, st, reached, collectors)
    ranked = buyers.score(sg, st)
    out = TraceFindings(
        payments=len(ledger),
        patterns={p: sum(f.pattern == p for f in rel.shown) for p in (*patterns.PATTERNS, "fee_collection")},
        withheld=len(rel.withheld),
        collectors=[
            (f.subject, ledger.label(f.subject), len(f.flagged_payers), f.amount) for f in shown_collectors[:TOP]
        ],  # fmt: skip
        money=_money(ledger, [f.subject for f in shown_collectors[:SANKEY_COLLECTORS]]),
        assets=[
            (a.asset, a.label, a.schema, a.score, ", ".join(ledger.label(h) for h in a.holders))
            for a in found_assets[:TOP]
        ],  # fmt: skip
        buyers=[
            (b.buyer, b.label, b.score, b.points, ", ".join(k for k, v in b.features.items() if v))
            for b in ranked[:TOP]
        ],  # fmt: skip
        purchases=pd.DataFrame(),
        crossings=pd.to_datetime(sg.events[sg.events["schema"] == "Crossing"]["date"], errors="coerce").dropna(),
    )
    bad = {b.buyer for b in ranked if b.points >= buyers.SUSPICIOUS_SCORE}
    known = {b.buyer for b in ranked}  # protected buyers are not in the ranking, so not in the timeline
    buys = buys[buys["buyer"].isin(known)].dropna(subset=["date"])
    out.purchases = pd.DataFrame({"date": buys["date"], "suspicious": buys["buyer"].isin(bad)})
    out.before_share = _before_share(out.purchases, out.crossings)
    out.entity_ids = (
        {c[0] for c in out.collectors} | {a[0] for a in out.assets} | {b[0] for b in out.buyers}
        | {h for a in found_assets[:TOP] for h in a.holders} | set(out.money.attrs.get("ids", ()))
    )  # fmt: skip
    return out


def _money(ledger: object, collectors: list[str]) -> pd.DataFrame:
    """Migrants -> collectors -> whom the collectors pay -> whom those pay: the diagram's flows (amounts)."""
    from avellino.trace.ledger import Ledger

    assert isinstance(ledger, Ledger)
    tx, prot = ledger.tx, ledger.protection
    from_migrants = tx[tx["src"].isin(list(prot.reasons)) & tx["dst"].isin(collectors)]
    migrants = from_migrants["src"].nunique()
    box = f"Migrants ({migrants})"
    rows = [(box, str(d), float(a)) for d, a in from_migrants.groupby("dst")["amount"].sum().items()]
    stage, ids = set(collectors), set(collectors)
    for _ in range(2):
        onward = tx[tx["src"].isin(stage) & ~tx["dst"].isin(list(prot.reasons))]
        sums = onward.groupby(["src", "dst"], as_index=False)["amount"].sum().nlargest(SANKEY_NEXT * 3, "amount")
        rows += [(str(a), str(b), float(n)) for a, b, n in sums.itertuples(index=False)]
        stage = set(sums["dst"]) - ids
        ids |= stage
    frame = pd.DataFrame(rows, columns=["from", "to", "people"])
    # the diagram's boxes are keyed by their text: two people with one name get their ids' ends added
    names = {n: ledger.label(n) for n in ids}
    twice = {v for v in names.values() if list(names.values()).count(v) > 1}
    shown = {n: f"{v} ({n[-6:]})" if v in twice else v for n, v in names.items()}
    frame["from"] = frame["from"].map(lambda n: n if n == box else shown.get(n, ledger.label(n)))
    frame["to"] = frame["to"].map(lambda n: shown.get(n, ledger.label(n)))
    frame.attrs["ids"] = sorted(ids)
    return frame


def _before_share(purchases: pd.DataFrame, crossings: pd.Series, days: int = 14) -> tuple[float, float]:
    """Share of suspicious buyers' purchases, and of the others', made within ``days`` before a crossing."""
    import numpy as np

    if purchases.empty or crossings.empty:
        return (0.0, 0.0)
    cross = np.sort(crossings.to_numpy().astype("datetime64[D]").astype(np.int64))
    day = purchases["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    nxt = np.searchsorted(cross, day, side="left")
    gap = cross[np.minimum(nxt, len(cross) - 1)] - day
    before = (nxt < len(cross)) & (gap <= days)
    sus = purchases["suspicious"].to_numpy()
    return (float(before[sus].mean()) if sus.any() else 0.0, float(before[~sus].mean()) if (~sus).any() else 0.0)
