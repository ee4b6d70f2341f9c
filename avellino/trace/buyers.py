"""Suspicious buyers of boats, engines and kit: documented features and a transparent additive score.

Features per buyer (a resolved party named as ``Purchase.buyer``), each 0 or 1, with the weight it adds:

=================  ======  =================================================================================
feature            weight  rule
=================  ======  =================================================================================
linked             3       the buyer has a non-purchase tie in the network (a call, payment, crossing,
                           advert, leg, associate) to someone other than its own sellers (paying a dealer for
                           what one bought is part of the purchase): independent intelligence, the strongest
hawala             2       a purchase paid through hawala
boat_kit           1       bought hulls *and* engines *and* life jackets or fuel (what one crossing needs)
bulk               1       three or more hulls and engines in all
cash               1       at least half of the purchases paid in cash (or hawala)
coast              1       delivered at a place crossings leave from (the store's ``Crossing.departurePlace``)
repeat             1       three or more purchases
before_crossing    1       a purchase in the ``BEFORE_DAYS`` = 14 days before a recorded crossing
=================  ======  =================================================================================

The weights were written down before any measurement and are not fitted; their sum is a buyer's ``points``.

**Ranking: each sign weighed by what it says in this workspace.** A sign that nearly every buyer shows tells
nothing about any one of them: when crossings leave every few days, almost any purchase falls in the 14 days
before one; when the register is a coastal dealer's, most buyers take delivery on the departure coast. So the
ranking ``score`` multiplies each sign's weight by its *information* among this workspace's buyers,
``-log2(share of buyers showing it)`` (the share smoothed as ``(k + 1) / (n + 2)``, so that one buyer or a sign
nobody shows stays finite), as inverse document frequency does for words. It uses no labels: only how common
each sign is among the buyers being ranked. Ties keep more points, then more purchases first. ``points`` (the
plain sum of weights) stays the documented threshold of supplier profiles (``SUSPICIOUS_SCORE``).

A protected person is never listed as a buyer (``Protection.release``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from avellino.network.build import StoreGraph

WEIGHTS = {"linked": 3, "hawala": 2, "boat_kit": 1, "bulk": 1, "cash": 1, "coast": 1, "repeat": 1,
           "before_crossing": 1}  # fmt: skip
BEFORE_DAYS = 14
BOAT = ("inflatable_hull", "outboard_engine")


@dataclass
class BuyerScore:
    buyer: str
    label: str
    score: float  # the ranking: weights times each sign's information in this workspace
    features: dict[str, int]
    purchases: list[str]
    points: int = 0  # the plain sum of the documented weights

    def to_json(self) -> dict[str, Any]:
        return {"buyer": self.buyer, "label": self.label, "score": round(self.score, 3), "points": self.points,
                "features": self.features, "purchases": self.purchases}  # fmt: skip


def information(features: list[dict[str, int]]) -> dict[str, float]:
    """Per sign, ``-log2`` of the (smoothed) share of buyers showing it: what seeing it says about a buyer."""
    n = len(features)
    return {k: -float(np.log2((sum(f[k] for f in features) + 1) / (n + 2))) for k in WEIGHTS}


def purchases(sg: StoreGraph, statements: pd.DataFrame) -> pd.DataFrame:
    """One row per purchase: event, buyer (resolved node), item, quantity, method, place, date."""
    part = sg.participation[(sg.participation["schema"] == "Purchase") & (sg.participation["prop"] == "buyer")]
    st = statements[statements["schema"] == "Purchase"]
    wide = st[st["prop"].isin(["itemKind", "quantity", "paymentMethod", "place"])]
    wide = wide.drop_duplicates(["canonical_id", "prop"]).pivot(index="canonical_id", columns="prop", values="value")
    out = part[["event", "node", "date"]].rename(columns={"node": "buyer"}).set_index("event")
    out = out.join(wide.reindex(columns=["itemKind", "quantity", "paymentMethod", "place"]))
    out["quantity"] = pd.to_numeric(out["quantity"], errors="coerce").fillna(1)
    out["date"] = pd.to_datetime(out["date"], errors="coerce")
    return out.reset_index()


def score(sg: StoreGraph, statements: pd.DataFrame) -> list[BuyerScore]:
    """Every buyer with its features and score, highest first (ties: more purchases, then id)."""
    buys = purchases(sg, statements)
    if buys.empty:
        return []
    departures = {
        str(v).strip().lower()
        for v in statements[(statements["schema"] == "Crossing") & (statements["prop"] == "departurePlace")]["value"]
    }
    crossing_days = np.sort(
        pd.to_datetime(sg.events[sg.events["schema"] == "Crossing"]["date"], errors="coerce")
        .dropna()
        .to_numpy()
        .astype("datetime64[D]")
        .astype(np.int64)
    )
    ties = sg.edges[sg.edges["kind"] != "purchase"]
    others = pd.concat([ties[["source", "target"]], ties[["target", "source"]].set_axis(["source", "target"], axis=1)])
    sellers = sg.edges[sg.edges["kind"] == "purchase"][["source", "target"]]
    others = others.merge(sellers, how="left", indicator=True)
    linked = set(others[others["_merge"] == "left_only"]["source"])
    labels = dict(zip(sg.nodes["id"], sg.nodes["label"].astype(str), strict=True))
    out: list[BuyerScore] = []
    for buyer, g in buys.groupby("buyer"):
        items = set(g["itemKind"].dropna())
        method = g["paymentMethod"].fillna("")
        days = g["date"].dropna().to_numpy().astype("datetime64[D]").astype(np.int64)
        feats = {
            "linked": int(buyer in linked),
            "hawala": int((method == "hawala").any()),
            "boat_kit": int(set(BOAT) <= items and bool(items & {"life_jackets", "fuel"})),
            "bulk": int(g[g["itemKind"].isin(BOAT)]["quantity"].sum() >= 3),
            "cash": int(method.isin(["cash", "hawala"]).mean() >= 0.5),
            "coast": int(g["place"].fillna("").str.strip().str.lower().isin(departures).any()),
            "repeat": int(len(g) >= 3),
            "before_crossing": int(_before(days, crossing_days)),
        }
        out.append(
            BuyerScore(
                buyer=str(buyer),
                label=labels.get(str(buyer), str(buyer)),
                score=0.0,
                features=feats,
                purchases=sorted(str(e) for e in g["event"]),
                points=sum(WEIGHTS[k] * v for k, v in feats.items()),
            )
        )
    info = information([b.features for b in out])
    for b in out:
        b.score = sum(WEIGHTS[k] * info[k] * v for k, v in b.features.items())
    ranked = sorted(out, key=lambda b: (-round(b.score, 9), -b.points, -len(b.purchases), b.buyer))
    shown = set(sg.protection.release([b.buyer for b in ranked if b.buyer not in sg.protection]))
    return [b for b in ranked if b.buyer in shown]


def _before(days: np.ndarray, crossings: np.ndarray) -> bool:
    """Some purchase day lies within BEFORE_DAYS before some crossing day."""
    if not len(days) or not len(crossings):
        return False
    nxt = np.searchsorted(crossings, days, side="left")
    ok = nxt < len(crossings)
    gap = crossings[np.minimum(nxt, len(crossings) - 1)] - days
    return bool((ok & (gap <= BEFORE_DAYS)).any())


@dataclass
class SupplierProfile:
    """Who a seller sells to: buyers, purchases, items, and how much of it goes to high-scoring buyers."""

    seller: str
    label: str
    buyers: int
    purchases: int
    items: dict[str, float]
    suspicious_buyers: int  # buyers with at least ``SUSPICIOUS_SCORE`` points
    suspicious_share: float  # share of the seller's purchases made by them

    def to_json(self) -> dict[str, Any]:
        return {"seller": self.seller, "label": self.label, "buyers": self.buyers, "purchases": self.purchases,
                "items": self.items, "suspicious_buyers": self.suspicious_buyers,
                "suspicious_share": round(self.suspicious_share, 3)}  # fmt: skip


#: A buyer with at least these points counts as suspicious in supplier profiles (linked plus two more signs).
SUSPICIOUS_SCORE = 6


def suppliers(sg: StoreGraph, statements: pd.DataFrame, ranked: list[BuyerScore]) -> list[SupplierProfile]:
    """Per seller, its buyers and the share of its sales to suspicious buyers, most exposed first. A protected
    seller is never profiled (it would name a victim as a supplier)."""
    part = sg.participation[(sg.participation["schema"] == "Purchase") & (sg.participation["prop"] == "seller")]
    buys = purchases(sg, statements).merge(part[["event", "node"]].rename(columns={"node": "seller"}), on="event")
    score_of = {b.buyer: b.points for b in ranked}
    labels = dict(zip(sg.nodes["id"], sg.nodes["label"].astype(str), strict=True))
    out = []
    for seller, g in buys.groupby("seller"):
        if seller in sg.protection:
            continue
        bad = g["buyer"].map(lambda b: score_of.get(b, 0) >= SUSPICIOUS_SCORE).astype(bool)
        out.append(
            SupplierProfile(
                seller=str(seller),
                label=labels.get(str(seller), str(seller)),
                buyers=int(g["buyer"].nunique()),
                purchases=len(g),
                items={str(k): float(v) for k, v in g.groupby("itemKind")["quantity"].sum().items()},
                suspicious_buyers=int(g[bad]["buyer"].nunique()),
                suspicious_share=float(bad.mean()) if len(g) else 0.0,
            )
        )
    return sorted(out, key=lambda s: (-s.suspicious_share, -s.purchases, s.seller))
