"""Score the money detectors against labels: AMLSim's alerts, or a sample operation's truth.

Per pattern, at two levels: **accounts** (the subject and every counterparty in a finding's evidence, against
the accounts of the generator's alerts) and **transactions** (the evidence against the alert transactions).
Precision is measured against the accounts/transactions of *any* alert (a detector that flags a labelled
fan-in account as pass-through found laundering too); recall only against the alerts of the pattern's own
typology, and is ``None`` when the labels hold no alert of that typology.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from avellino.trace.amlsim import Labels
from avellino.trace.findings import Finding
from avellino.trace.ledger import Ledger


def _pr(found: set[str], relevant: set[str], own: set[str] | None) -> dict[str, float | int | None]:
    hit = len(found & relevant)
    return {
        "found": len(found),
        "precision": round(hit / len(found), 3) if found else None,
        "recall": round(len(found & own) / len(own), 3) if own else None,
    }


def score_amlsim(
    tx: pd.DataFrame, findings: list[Finding], labels: Labels, patterns: tuple[str, ...]
) -> dict[str, Any]:
    """Per pattern: precision/recall on accounts and on transactions, and which fan-in alerts were recovered."""
    all_accts = set().union(*labels.accounts.values()) if labels.accounts else set()
    all_tx = set().union(*labels.transactions.values()) if labels.transactions else set()
    by_id = tx.set_index(tx["tx"].astype(str))
    out: dict[str, Any] = {}
    for pattern in patterns:
        mine = [f for f in findings if f.pattern == pattern]
        txs = {t for f in mine for t in f.transactions}
        rows = by_id.loc[sorted(txs)] if txs else by_id.iloc[:0]
        accts = set(rows["src"]) | set(rows["dst"]) | {f.subject for f in mine}
        out[pattern] = {
            "findings": len(mine),
            "accounts": _pr(accts, all_accts, labels.accounts.get(pattern)),
            "transactions": _pr(txs, all_tx, labels.transactions.get(pattern)),
        }
        acc = out[pattern]["accounts"]
        out[pattern]["precision"], out[pattern]["recall"] = acc["precision"], acc["recall"]
    out["alerts_recovered"] = alerts_recovered(tx, findings, labels)
    return out


def alerts_recovered(tx: pd.DataFrame, findings: list[Finding], labels: Labels) -> dict[str, Any]:
    """Per labelled alert: its hub (the account most alert transactions meet at) and whether a finding of the
    alert's typology names that hub as its subject."""
    at = labels.alerts
    subjects = {(f.pattern, f.subject) for f in findings}
    alerts = []
    for (alert_id, typ), group in at.groupby(["alert_id", "alert_type"]):
        accts = set(group["acct_id"])
        inner = tx[tx["src"].isin(accts) & tx["dst"].isin(accts)]
        side = "dst" if typ == "fan_in" else "src"
        hub = str(inner[side].value_counts().idxmax()) if len(inner) else ""
        alerts.append({"alert": str(alert_id), "typology": str(typ), "hub": hub, "recovered": (typ, hub) in subjects})
    return {"recovered": sum(a["recovered"] for a in alerts), "alerts": len(alerts), "detail": alerts}


def _truth_sets(canonical: dict[str, str], truth_dir: Path) -> tuple[dict[str, set[str]], set[str], set[str]]:
    """(role -> resolved nodes, true victims' nodes, legitimate buyers' nodes) from a sample's truth files."""
    persons = pd.read_csv(truth_dir / "persons.csv", dtype=str)
    roles: dict[str, set[str]] = {}
    for eid, role in zip(persons["entity_id"], persons["role"], strict=True):
        roles.setdefault(role, set()).add(canonical.get(eid, eid))
    victims = {canonical.get(e, e) for e in persons[persons["is_victim"] == "true"]["entity_id"]}
    legit_path = truth_dir / "buyers.csv"
    legit = (
        {canonical.get(e, e) for e in pd.read_csv(legit_path, dtype=str)["entity_id"]} if legit_path.exists() else set()
    )
    return roles, victims, legit


def ranking_scores(ranked: list[str], positives: set[str], negatives: set[str], k: int = 20) -> dict[str, Any]:
    """Precision at ``k`` and average precision of a ranking (items in neither set are left out)."""
    labelled = [r for r in ranked if r in positives or r in negatives]
    hits = [r in positives for r in labelled]
    total = sum(hits)
    ap, seen = 0.0, 0
    for i, h in enumerate(hits, start=1):
        if h:
            seen += 1
            ap += seen / i
    return {
        "precision_at_20" if k == 20 else f"precision_at_{k}": round(sum(hits[:k]) / k, 3) if labelled else None,
        "average_precision": round(ap / total, 3) if total else None,
        "r_precision": round(sum(hits[:total]) / total, 3) if total else None,
        # the best precision at k any ranking could reach: below 1 when fewer than k buyers are suspicious
        f"precision_at_{k}_ceiling": round(min(total, k) / k, 3) if labelled else None,
        "suspicious": total,
        "legitimate": len(labelled) - total,
    }


def score_sample(ledger: Ledger, truth_dir: Path) -> dict[str, Any]:
    """The sample operation's figures: buyers ranking, organisers traced, victims listed anywhere."""
    from avellino.trace import assets, buyers, follow, patterns
    from avellino.trace.findings import release

    assert ledger.graph is not None and ledger.statements is not None
    sg, st = ledger.graph, ledger.statements
    roles, victims, legit = _truth_sets(sg.canonical, truth_dir)
    offenders = set().union(*(v for k, v in roles.items() if k != "migrant")) - victims
    ranked = buyers.score(sg, st)
    buyer_nodes = {b.buyer for b in ranked}
    reached = follow.trace(ledger)
    collectors = follow.fee_collectors(ledger)
    shown = release(
        patterns.detect(ledger.tx, countries=ledger.countries, travels=ledger.travels) + collectors, ledger.protection
    ).shown
    found_assets = assets.candidates(ledger, st, reached, collectors)
    organisers = roles.get("organiser", set()) & set(sg.nodes["id"])
    traced = organisers & {r.node for r in reached}
    paid = organisers & set(ledger.tx["dst"])  # organisers any recorded payment reaches at all
    listed = (
        {b.buyer for b in ranked}
        | {r.node for r in reached}
        | {a for f in shown for a in f.accused}
        | {h for a in found_assets for h in a.holders}
    )
    return {
        "buyers": ranking_scores([b.buyer for b in ranked], offenders & buyer_nodes, legit & buyer_nodes),
        "organisers_traced": round(len(traced) / len(organisers), 3) if organisers else None,
        "organisers": len(organisers),
        "organisers_paid": len(paid),
        "organisers_traced_of_paid": round(len(traced & paid) / len(paid), 3) if paid else None,
        "victims_listed": len(listed & (victims | {n for n in listed if n in ledger.protection})),
        "findings": {p: sum(f.pattern == p for f in shown) for p in (*patterns.PATTERNS, "fee_collection")},
        "assets": len(found_assets),
    }
