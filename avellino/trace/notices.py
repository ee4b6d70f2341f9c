"""Warnings to suppliers: a notice per seller of boats, engines and kit, through the one screening path.

A supplier is a recipient outside law enforcement, like a platform receiving a referral, so what its notice may
carry is decided by ``share/screen.py`` (the path bundles, partner views and DSA notices take): only statements
whose markings let them go to such a recipient (TLP:CLEAR, or GREEN for a supplier registered as community; H2/H3
conditions), ids in their originator's namespace, JIT facts kept inside their JIT. On top of the screen, a
purchase that is about, belongs to or names a protected person (victim, witness, informant) is never in a notice,
whatever the purpose: the screen lifts that rule for safeguarding, a warning never does.

A notice holds: the issuing agency and contact, the signs that make a purchase suspicious (the documented
features of ``buyers.py``, as plain advice), and the seller's own sales that buyers with at least
``buyers.SUSPICIOUS_SCORE`` points made, each reduced to what the supplier already holds in its register (its
sale reference, date, item, quantity, place) and only as far as the screen lets each statement go. It never
names the buyer: telling a private company that a person is suspected is not a warning's job (the seller
recognises its own sale by the reference). Withheld statements are counted by reason. The audit entry is
written before the file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from avellino.errors import ConfigError
from avellino.model.markings import PROTECTED_VALUES, TLP_ORDER
from avellino.trace.buyers import SUSPICIOUS_SCORE, WEIGHTS, BuyerScore, purchases

if TYPE_CHECKING:
    from avellino.network.build import StoreGraph
    from avellino.store.base import Store

#: What a supplier is told to look for: the buyer features, as advice (the ``buyers.py`` rules).
SIGNS = {
    "hawala": "payment through a hawala broker or an informal money-transfer agent",
    "boat_kit": "hulls and outboard engines bought together with life jackets or fuel (what one crossing needs)",
    "bulk": "three or more inflatable hulls or outboard engines",
    "cash": "most purchases paid in cash",
    "coast": "delivery to a beach or place on the coast that small boats leave from",
    "repeat": "the same buyer coming back three times or more",
    "before_crossing": "purchases shortly before the season's crossings, or urgent delivery",
}
#: The sale facts a notice may carry (the supplier holds them in its own register); never the buyer.
SALE_PROPS = ("recordId", "date", "itemKind", "quantity", "place")
WITHHELD_PROTECTED = "purchase about or naming a protected person"


@dataclass
class Warning:
    """One supplier's notice, and what the screen withheld from it (reason -> statements)."""

    reference: str
    seller: str
    notice: dict[str, Any]
    withheld: Counter[str] = field(default_factory=Counter)
    purchases: list[str] = field(default_factory=list)  #: the purchase ids the notice speaks of


def build(
    store: Store,
    sg: StoreGraph,
    statements: Any,
    ranked: list[BuyerScore],
    seller: str,
    agency: str,
    contact: str,
    purpose: str,
    community: bool = False,
    today: dt.date | None = None,
    node: Any = None,
) -> Warning:
    """The notice for ``seller`` (a resolved id from ``supply sellers``): its sales to suspicious buyers, screened."""
    from avellino.content.referrals import sender_node
    from avellino.share.node import Card, Partner
    from avellino.share.policy import Reason
    from avellino.share.screen import Screen, protected_ids, request_for

    today = today or dt.date.today()
    if not agency.strip() or not contact.strip():
        raise ConfigError("A warning needs the issuing agency (--agency) and a contact (--contact)")
    if seller in sg.protection:
        raise ConfigError(f"{seller}: a protected person is never sent a supplier warning")
    part = sg.participation[(sg.participation["schema"] == "Purchase") & (sg.participation["prop"] == "seller")]
    sold = set(part[part["node"] == seller]["event"])
    if not sold:
        raise ConfigError(f"{seller}: sold nothing in this workspace (see `avellino supply sellers` for ids)")
    label = str(sg.nodes.set_index("id")["label"].get(seller, seller))
    bad = {b.buyer for b in ranked if b.points >= SUSPICIOUS_SCORE}
    buys = purchases(sg, statements)
    events = sorted(set(buys[buys["event"].isin(sold) & buys["buyer"].isin(bad)]["event"].astype(str)))

    node = node if node is not None else sender_node(None, agency)
    req = request_for(node, [Partner(Card(label, "", False, b"", b""), community=community)], purpose, today)
    protected = protected_ids(store)  # always: a warning never carries a victim, even for safeguarding
    table = store.read_statements(schemata=["Purchase"])
    table = table.filter(pc.is_in(table.column("canonical_id"), pa.array(events, pa.string())))
    reasons = Screen(node, req, protected).reasons(table)
    withheld: Counter[str] = Counter()
    sales: dict[str, dict[str, str]] = {}
    tlps: list[str] = []
    for event, rows in _by(table.to_pylist(), "canonical_id").items():
        if _names_protected(rows, protected) or any(reasons.get(r["id"]) == Reason.PROTECTED.value for r in rows):
            withheld[WITHHELD_PROTECTED] += len(rows)
            continue
        sale: dict[str, str] = {}
        for r in rows:
            if r["prop"] not in SALE_PROPS:
                continue
            reason = reasons.get(r["id"])
            if reason is not None:
                withheld[reason] += 1
                continue
            sale.setdefault(r["prop"], str(r["value"]))
            tlps.append(str(r["tlp"]))
        if sale:
            sales[event] = sale
    digest = hashlib.sha1(json.dumps([seller, sorted(sales), today.isoformat()]).encode()).hexdigest()[:10]
    reference = f"WARN-{today:%Y%m%d}-{digest.upper()}"
    notice = {
        "type": "Warning to a supplier of boats, outboard engines and marine equipment",
        "reference": reference,
        "date": today.isoformat(),
        "supplier": label,
        "issued_by": {"agency": agency, "contact": contact},
        "advice": (
            "Inflatable boats, outboard engines, life jackets and fuel are bought by migrant-smuggling networks "
            "for dangerous sea crossings. Please report to the contact above, without alerting the customer, "
            "sales that show several of the signs below."
        ),
        "signs": [SIGNS[k] for k in WEIGHTS if k in SIGNS],
        "sales": [sales[e] for e in sorted(sales)],
        "tlp": max(tlps, key=TLP_ORDER.index) if tlps else "CLEAR",
    }
    return Warning(reference, seller, notice, withheld, sorted(sales))


def _by(rows: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(str(r[key]), []).append(r)
    return out


def _names_protected(rows: list[dict[str, Any]], protected: set[str]) -> bool:
    for r in rows:
        if r["subject_category"] in PROTECTED_VALUES or r["entity_id"] in protected:
            return True
        if r["canonical_id"] in protected or (r["prop_type"] == "entity" and r["value"] in protected):
            return True
    return False


def write(store: Store, warning: Warning, out_dir: Path, purpose: str) -> Path:
    """Audit (the supplier, the purchases spoken of, the withheld counts), then write the notice as JSON."""
    from avellino.share.audit import Touched, record

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{warning.reference}.json"
    touched = Touched(counts=dict(warning.withheld)).update([warning.seller, *warning.purchases])
    record(store, purpose=purpose, action=f"supply warn {warning.reference}", touched=touched)
    tmp = path.with_suffix(".json.part")
    tmp.write_text(json.dumps(warning.notice, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
