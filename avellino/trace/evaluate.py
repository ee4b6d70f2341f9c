"""Score the money detectors against labels: AMLSim's alerts, or a sample operation's truth.

Per pattern, at two levels: **accounts** (the subject and every counterparty in a finding's evidence, against
the accounts of the generator's alerts) and **transactions** (the evidence against the alert transactions).
Precision is measured against the accounts/transactions of *any* alert (a detector that flags a labelled
fan-in account as pass-through found laundering too); recall only against the alerts of the pattern's own
typology, and is ``None`` when the labels hold no alert of that typology.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from avellino.trace.amlsim import Labels
from avellino.trace.findings import Finding


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
