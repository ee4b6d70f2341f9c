"""Asset candidates for seizure: what the people the money leads to hold, ranked by the money behind them.

The people are those ``follow.trace`` reaches with migrants' money and the fee collectors
(``follow.fee_collectors``); each gets a money score (migrants whose money reaches them + migrants who paid them
directly). Their assets are read from the statements: bank accounts, crypto wallets, vehicles and vessels they
hold (``holder``/``owner``), what an ``Ownership`` gives them, the accounts a payment says they paid from or
into, vessels of crossings they organised, vehicles of trips they organised, and companies they own. An
asset's score is the sum of its holders' money scores; its justification is their evidence (the migrants, the
example path's transactions).

An asset held by any protected person (a victim's account, a migrant pilot's phone) is never listed, whoever
else holds it; protected people are never holders in this list (``Protection.release``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from avellino.trace.findings import Finding
from avellino.trace.follow import Reached
from avellino.trace.ledger import Ledger

ASSET_SCHEMATA = ("BankAccount", "CryptoWallet", "Vehicle", "Vessel", "Airplane", "Company", "Organization",
                  "RealEstate")  # fmt: skip
#: (event or asset schema, holder property, asset property or '' for the entity itself, how it links).
LINKS = (
    ("BankAccount", "holder", "", "holds the account"),
    ("CryptoWallet", "holder", "", "holds the wallet"),
    ("Vehicle", "owner", "", "owns the vehicle"),
    ("Vessel", "owner", "", "owns the vessel"),
    ("Ownership", "owner", "asset", "owns (ownership record)"),
    ("Payment", "payer", "payerAccount", "paid from the account"),
    ("Payment", "beneficiary", "beneficiaryAccount", "was paid into the account"),
    ("Crossing", "organiser", "vessel", "organised a crossing with the vessel"),
    ("Trip", "organizer", "vehicle", "organised a trip with the vehicle"),
)


@dataclass
class Asset:
    asset: str
    schema: str
    label: str
    score: float
    holders: list[str]
    links: list[str]
    evidence: list[str] = field(default_factory=list)  # transaction ids behind the holders' money score

    def to_json(self, labels: dict[str, str] | None = None) -> dict[str, Any]:
        lab = labels or {}
        return {
            "asset": self.asset,
            "schema": self.schema,
            "label": self.label,
            "score": round(self.score, 2),
            "holders": [{"id": h, "label": lab.get(h, h)} for h in self.holders],
            "links": self.links,
            "evidence": self.evidence,
        }


def money_scores(reached: list[Reached], collectors: list[Finding]) -> dict[str, tuple[float, list[str]]]:
    """Per person: migrants whose money reaches them plus migrants who paid them, and the evidence tx ids."""
    out: dict[str, tuple[float, list[str]]] = {r.node: (float(r.migrants), list(r.path)) for r in reached}
    for f in collectors:
        score, ev = out.get(f.subject, (0.0, []))
        out[f.subject] = (score + len(f.payers), ev + list(f.transactions))
    return out


def holdings(statements: pd.DataFrame) -> pd.DataFrame:
    """(holder, asset, schema, link) rows from the statements (canonical ids on both sides)."""
    st = statements
    canon = dict(zip(st["entity_id"], st["canonical_id"], strict=False))
    ent = st[st["prop_type"] == "entity"][["canonical_id", "schema", "prop", "value"]]
    ent = ent.assign(value=ent["value"].map(lambda v: canon.get(v, v)))
    schema_of = dict(zip(st["canonical_id"], st["schema"], strict=False))
    rows = []
    for schema, holder_prop, asset_prop, link in LINKS:
        on = ent[ent["schema"] == schema]
        h = on[on["prop"] == holder_prop][["canonical_id", "value"]].rename(columns={"value": "holder"})
        if asset_prop:
            a = on[on["prop"] == asset_prop][["canonical_id", "value"]].rename(columns={"value": "asset"})
            pairs = h.merge(a, on="canonical_id")[["holder", "asset"]]
        else:
            pairs = h.rename(columns={"canonical_id": "asset"})[["holder", "asset"]]
        rows.append(pairs.assign(link=link))
    out = pd.concat(rows, ignore_index=True).drop_duplicates()
    out["schema"] = out["asset"].map(schema_of).fillna("")
    return out[out["schema"].isin(ASSET_SCHEMATA)].reset_index(drop=True)


def candidates(
    ledger: Ledger, statements: pd.DataFrame, reached: list[Reached], collectors: list[Finding]
) -> list[Asset]:
    """Assets of the people the money leads to, best first; none held by a protected person."""
    scores = money_scores(reached, collectors)
    held = holdings(statements)
    prot = ledger.protection
    tainted = set(held[held["holder"].map(lambda h: h in prot).astype(bool)]["asset"])
    held = held[~held["asset"].isin(tainted) & held["holder"].isin(scores)]
    labels = {**ledger.labels, **_asset_labels(statements, set(held["asset"]))}
    out = []
    for asset, g in held.groupby("asset"):
        holders = prot.release(sorted(set(g["holder"])))
        evidence = sorted({t for h in holders for t in scores[h][1]})
        out.append(
            Asset(
                asset=str(asset),
                schema=str(g["schema"].iloc[0]),
                label=labels.get(str(asset), str(asset)),
                score=sum(scores[h][0] for h in holders),
                holders=holders,
                links=sorted(set(g["link"])),
                evidence=evidence,
            )
        )
    return sorted(out, key=lambda a: (-a.score, a.asset))


def _asset_labels(statements: pd.DataFrame, assets: set[str]) -> dict[str, str]:
    """A display label per asset (registration or account number, else name): assets contracted into their
    holder by the network have no node label of their own."""
    props = ("registrationNumber", "accountNumber", "imoNumber", "name")
    on = statements[statements["canonical_id"].isin(assets) & statements["prop"].isin(props)]
    on = on.assign(rank=on["prop"].map({p: i for i, p in enumerate(props)})).sort_values(["canonical_id", "rank"])
    first = on.drop_duplicates("canonical_id")
    return dict(zip(first["canonical_id"].astype(str), first["value"].astype(str), strict=True))
