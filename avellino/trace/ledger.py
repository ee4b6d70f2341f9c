"""The transaction table every money detector reads: one row per payment, between resolved entities.

Payments come from the store's ``Payment`` entities (payer/payerAccount -> beneficiary/beneficiaryAccount, as
``network.build.EVENT_LINKS`` reads them), already contracted to the party holding an account and keyed on
``canonical_id`` by ``network.build.build_graph``: this module does not build a second graph, it takes the
network's participation table and adds each payment's amount, date, method and the markings of the
statements it rests on. ``amlsim.load`` makes the same table from an AMLSim export, without a workspace.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from avellino.network.protect import Protection

if TYPE_CHECKING:
    from avellino.network.build import StoreGraph
    from avellino.store.base import Store

#: Columns of ``Ledger.tx``.
TX_COLUMNS = ["tx", "src", "dst", "amount", "date", "method", "markings"]
MARKING_COLUMNS = ["originator", "handling_code", "tlp", "evaluation"]
PAYER_PROPS = ("payer", "payerAccount")
PAYEE_PROPS = ("beneficiary", "beneficiaryAccount")


@dataclass
class Ledger:
    """Transactions (``tx``: tx, src, dst, amount, date as datetime64, method, markings) and who is protected.

    ``labels`` gives a display name per entity; ``protection`` says who may never be named as a collector,
    organiser or asset holder (a victim may only appear as a flagged payer)."""

    tx: pd.DataFrame
    protection: Protection = field(default_factory=Protection)
    labels: dict[str, str] = field(default_factory=dict)
    graph: StoreGraph | None = None
    #: The statements the ledger was read from (with marking columns), for assets and buyers.
    statements: pd.DataFrame | None = None
    #: Where each party is, as recorded (``country``/``jurisdiction``, upper case): for settlements across borders.
    countries: dict[str, frozenset[str]] = field(default_factory=dict)
    #: The days each party travelled or drove (``Leg``/``Trip`` travellers, operators, drivers), ISO dates.
    travels: dict[str, list[str]] = field(default_factory=dict)

    def label(self, node: str) -> str:
        return self.labels.get(node) or node

    def __len__(self) -> int:
        return len(self.tx)


def from_store(store: Store) -> Ledger:
    """The ledger of a workspace: its payments over resolved entities, with their markings."""
    from avellino.network.build import STATEMENT_COLUMNS, build_graph

    st = store.read_statements(columns=[*STATEMENT_COLUMNS, *MARKING_COLUMNS]).to_pandas()
    sg = build_graph(store, st[STATEMENT_COLUMNS])
    return from_graph(sg, st)


def from_graph(sg: StoreGraph, st: pd.DataFrame) -> Ledger:
    """The ledger from a built network and the statements (with marking columns) it was built from."""
    part = sg.participation[sg.participation["schema"] == "Payment"]
    src = _first_side(part, PAYER_PROPS).rename(columns={"node": "src"})
    dst = _first_side(part, PAYEE_PROPS).rename(columns={"node": "dst"})
    tx = src.merge(dst, on="event")
    tx = tx[tx["src"] != tx["dst"]]
    ev = sg.events.set_index("event")
    pay = st[st["schema"] == "Payment"]
    method = pay[pay["prop"] == "purpose"].drop_duplicates("canonical_id").set_index("canonical_id")["value"]
    out = pd.DataFrame(
        {
            "tx": tx["event"].to_numpy(),
            "src": tx["src"].to_numpy(),
            "dst": tx["dst"].to_numpy(),
            "amount": ev["amount"].reindex(tx["event"]).fillna(0.0).to_numpy(dtype=float),
            "date": pd.to_datetime(ev["date"].reindex(tx["event"]), errors="coerce").to_numpy(),
            "method": method.reindex(tx["event"]).fillna("").to_numpy(),
            "markings": _markings(pay).reindex(tx["event"]).fillna("").to_numpy(),
        }
    )
    out = out.dropna(subset=["date"]).sort_values(["date", "tx"]).reset_index(drop=True)
    labels = dict(zip(sg.nodes["id"], sg.nodes["label"].astype(str), strict=True))
    return Ledger(out, sg.protection, labels, sg, st, countries(st), travels(sg.participation))


#: Who moves on a journey: what a cash courier's travel between two cash payments is read from.
TRAVEL = {"Leg": ("traveller", "operator"), "Trip": ("traveller", "organizer", "driver", "passenger")}


def travels(part: pd.DataFrame) -> dict[str, list[str]]:
    """Per party, the sorted days of the legs and trips it travelled on or drove."""
    keep = pd.Series(False, index=part.index)
    for schema, props in TRAVEL.items():
        keep |= (part["schema"] == schema) & part["prop"].isin(props)
    on = part[keep].assign(day=pd.to_datetime(part["date"], errors="coerce")).dropna(subset=["day"])
    on = on.assign(day=on["day"].dt.strftime("%Y-%m-%d"))
    return {str(k): sorted(set(g)) for k, g in on.groupby("node")["day"]}


def countries(st: pd.DataFrame) -> dict[str, frozenset[str]]:
    """Per entity (canonical id), the countries its ``country`` and ``jurisdiction`` statements give."""
    on = st[st["prop"].isin(["country", "jurisdiction"])]
    values = on["value"].astype(str).str.strip().str.upper()
    on = on.assign(value=values)[values != ""]
    return {str(k): frozenset(g) for k, g in on.groupby("canonical_id")["value"]}


def _first_side(part: pd.DataFrame, props: tuple[str, ...]) -> pd.DataFrame:
    """Per payment, the node of the first present property of ``props`` (a named payer before an account)."""
    rank = {p: i for i, p in enumerate(props)}
    on = part[part["prop"].isin(rank)].copy()
    on["rank"] = on["prop"].map(rank)
    on = on.sort_values(["event", "rank"]).drop_duplicates("event")
    return on[["event", "node"]]


def _markings(st: pd.DataFrame) -> pd.Series:
    """Per payment, the distinct markings of its statements: 'originator/handling/TLP/evaluation', ';'-joined."""
    cols = st[["canonical_id", *MARKING_COLUMNS]].fillna("").drop_duplicates()
    text = cols["originator"] + "/" + cols["handling_code"] + "/TLP:" + cols["tlp"] + "/" + cols["evaluation"]
    return text.groupby(cols["canonical_id"].to_numpy()).agg(lambda s: ";".join(sorted(set(s))))
