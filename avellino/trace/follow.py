"""Follow migrants' money: who collects the fees, and where the money goes next, respecting time.

*Migrants' payments* are payments whose payer is protected (victim, witness, informant: ``Ledger.protection``);
in the sample operation these are the migrants paying their trip. Two views:

* **fee collection** (a pattern): a person paid by at least ``FEE_MIN`` = 3 distinct protected payers, at any
  time. A fixed rule: three unrelated migrants paying the same person is already what a recruiter's or a
  collector's ledger looks like, and a fan-in in a time window (``patterns.fan``) misses collectors whose
  payments are spread over the year.
* **time-respecting paths**: from each migrant, money can move along a payment only if that payment is made on
  or after the day the money reached its payer (earliest-arrival, one pass over the payments in date order).
  Every account reached is ranked by how many migrants' money reaches it, with one example path as evidence.
  Protected people are never ranked as receivers: money reaching one stops there and is flagged.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from avellino.trace.findings import Finding, make
from avellino.trace.ledger import Ledger

FEE_MIN = 3
MAX_HOPS = 4


def fee_collectors(ledger: Ledger, minimum: int = FEE_MIN) -> list[Finding]:
    """People paid by at least ``minimum`` distinct protected payers (the migrants' fee collectors)."""
    tx = ledger.tx
    paid = tx[tx["src"].map(lambda s: s in ledger.protection).astype(bool)]
    out = []
    for node, rows in paid.groupby("dst"):
        if rows["src"].nunique() >= minimum:
            out.append(
                make("fee_collection", str(node), "collector", rows, note=f"{rows['src'].nunique()} migrants paid")
            )
    return out


@dataclass
class Reached:
    """An account migrants' money reaches: how many migrants, the fewest hops, one evidence path (tx ids)."""

    node: str
    migrants: int
    hops: int
    amount_in: float
    path: list[str] = field(default_factory=list)

    def to_json(self, labels: dict[str, str] | None = None) -> dict[str, Any]:
        return {
            "node": self.node,
            "label": (labels or {}).get(self.node, self.node),
            "migrants": self.migrants,
            "hops": self.hops,
            "amount_in": round(self.amount_in, 2),
            "path": self.path,
        }


def trace(ledger: Ledger, max_hops: int = MAX_HOPS) -> list[Reached]:
    """Every unprotected account that protected payers' money reaches by a time-respecting path, most
    migrants first. One pass over the payments in date order per migrant (earliest arrival)."""
    tx = ledger.tx.sort_values(["date", "tx"])
    prot = ledger.protection
    src = tx["src"].astype(str).to_numpy()
    dst = tx["dst"].astype(str).to_numpy()
    day = tx["date"].to_numpy().astype("datetime64[D]").astype(np.int64)
    ids = tx["tx"].astype(str).to_numpy()
    amount = tx["amount"].to_numpy(dtype=float)
    migrants = sorted({s for s in src if s in prot})
    count: dict[str, int] = defaultdict(int)
    best_hops: dict[str, int] = {}
    best_path: dict[str, list[str]] = {}
    first_rows = defaultdict(list)
    for i, s in enumerate(src):
        if s in prot:
            first_rows[s].append(i)
    for m in migrants:
        start = first_rows[m][0]
        arrival: dict[str, int] = {m: -(10**9)}
        hops: dict[str, int] = {m: 0}
        via: dict[str, int] = {}
        for i in range(start, len(src)):
            a, b = src[i], dst[i]
            if a in arrival and day[i] >= arrival[a] and hops[a] < max_hops and b not in arrival:
                if a != m and a in prot:
                    continue  # money does not flow on through another protected person
                arrival[b], hops[b], via[b] = int(day[i]), hops[a] + 1, i
        for node in arrival:
            if node == m or node in prot:
                continue
            count[node] += 1
            if node not in best_hops or hops[node] < best_hops[node]:
                best_hops[node] = hops[node]
                path, cur = [], node
                while cur in via:
                    path.append(str(ids[via[cur]]))
                    cur = src[via[cur]]
                best_path[node] = path[::-1]
    inflow = pd.Series(amount).groupby(dst).sum()
    out = [Reached(n, c, best_hops[n], float(inflow.get(n, 0.0)), best_path[n]) for n, c in count.items()]
    return sorted(out, key=lambda r: (-r.migrants, r.hops, -r.amount_in, r.node))
