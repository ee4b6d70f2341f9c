"""Follow migrants' money: who collects the fees, and where the money goes next, respecting time.

*Migrants' payments* are payments whose payer is protected (victim, witness, informant: ``Ledger.protection``);
in the sample operation these are the migrants paying their trip. Two views:

* **fee collection** (a pattern): a person paid by at least ``FEE_MIN`` = 3 distinct protected payers, at any
  time. A fixed rule: three unrelated migrants paying the same person is already what a recruiter's or a
  collector's ledger looks like, and a fan-in in a time window (``patterns.fan``) misses collectors whose
  payments are spread over the year.
* **time-respecting paths**: from each migrant, money can move along a payment only if that payment is made
  after the money reached its payer (one pass over the payments in date order, at most ``MAX_HOPS`` = 4).
  Every account reached is ranked by how many migrants' money reaches it, with one example path as evidence.
  Protected people are never ranked as receivers: money reaching one stops there and is flagged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from avellino.trace.findings import Finding, make_many
from avellino.trace.ledger import Ledger

FEE_MIN = 3
MAX_HOPS = 4


def fee_collectors(ledger: Ledger, minimum: int = FEE_MIN) -> list[Finding]:
    """People paid by at least ``minimum`` distinct protected payers (the migrants' fee collectors)."""
    tx = ledger.tx
    paid = tx[tx["src"].isin(list(ledger.protection.reasons))]
    payers = paid.groupby("dst")["src"].nunique()
    payers = payers[payers >= minimum]
    rows = paid[paid["dst"].isin(payers.index)].assign(subject=lambda d: d["dst"].astype(str))
    return make_many("fee_collection", "collector", rows, {str(k): f"{v} migrants paid" for k, v in payers.items()})


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
    """Every unprotected account that protected payers' money reaches by a time-respecting path of at most
    ``max_hops`` payments, most migrants first.

    One pass over the payments in date order carries, per account and per hop count, the set of migrants whose
    money has reached it so far (a bitset: a Python integer); a payment passes its payer's sets on, one hop
    further. Money does not flow on through another protected person (a migrant passes on only their own
    money). The first payment that brought each account its money at each hop count is kept, so one
    time-respecting path can be read back as evidence."""
    tx = ledger.tx.sort_values(["date", "tx"], kind="stable")
    prot = ledger.protection
    src = tx["src"].astype(str).tolist()
    dst = tx["dst"].astype(str).tolist()
    ids = tx["tx"].astype(str).tolist()
    paid_by_protected = tx["src"].isin(list(prot.reasons)).to_numpy().tolist()
    migrants = sorted({s for s, p in zip(src, paid_by_protected, strict=True) if p})
    # bits[h][node]: the migrants whose money reached node in exactly h payments; via[h][node]: the first
    # payment that brought it there; live: every node holding some migrant's money (a payment from any other
    # node carries nothing and is skipped at once).
    bits: list[dict[str, int]] = [{m: 1 << i for i, m in enumerate(migrants)}] + [{} for _ in range(max_hops)]
    via: list[dict[str, int]] = [{} for _ in range(max_hops + 1)]
    live = set(migrants)
    for i, (a, b, from_protected) in enumerate(zip(src, dst, paid_by_protected, strict=True)):
        if a not in live:
            continue
        levels = 1 if from_protected else max_hops
        for h in range(levels):
            carried = bits[h].get(a)
            if not carried:
                continue
            have = bits[h + 1].get(b, 0)
            if carried & ~have:
                bits[h + 1][b] = have | carried
                via[h + 1].setdefault(b, i)
                live.add(b)
    amount = ledger.tx.groupby("dst")["amount"].sum()
    reached: dict[str, int] = {}
    hops: dict[str, int] = {}
    for h in range(1, max_hops + 1):
        for node, b in bits[h].items():
            if node in prot:
                continue
            reached[node] = reached.get(node, 0) | b
            hops.setdefault(node, h)
    out = []
    for node, b in reached.items():
        path, cur = [], node
        for h in range(hops[node], 0, -1):
            i = via[h][cur]
            path.append(ids[i])
            cur = src[i]
        out.append(Reached(node, b.bit_count(), hops[node], float(amount.get(node, 0.0)), path[::-1]))
    return sorted(out, key=lambda r: (-r.migrants, r.hops, -r.amount_in, r.node))
