"""An optional stage of the sample: legitimate buyers of boats and engines, and their payments, with truth.

Without it every purchase in a sample operation is made by the smuggling network, so spotting suspicious
buyers is trivial. This stage adds a dealer sales register (as the French partner would obtain it from marine
dealers): fishermen, sailing and diving clubs, boat dealers and rental firms buying hulls, outboard engines,
life jackets, fuel and pumps, partly in cash and partly on the coast the crossings leave from (fishing ports
are there), some of them repeatedly and in bulk (dealers), and the bank or card payments that go with the
sales (legitimate money flows, fan-in to the dealers included).

It is additive and seed-stable: it draws from its own generator (``[seed, 21]``), writes new files next to
the operation's and appends them to ``manifest.json``; the partner files ``generate`` wrote are unchanged.
``truth/buyers.csv`` lists the legitimate buyers' entity ids; the network's buyers are the non-victim persons
of ``truth/persons.csv``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import yaml

from avellino.ingest.ids import entity_id
from avellino.sample.fields import DEPARTURES, ITEMS, PURCHASE_PLACES

PARTNER = "FR-OCRIEST"
SLUG = "fr-ocriest_dealer_sales"
#: Buyer kind -> (share of buyers, purchases per buyer (low, high), item weights, quantity scale, cash share,
#: share of purchases on the departure coast).
KINDS = {
    "fisherman": (0.45, (1, 4), (0.10, 0.45, 0.15, 0.25, 0.05), 1, 0.35, 0.7),
    "club": (0.20, (1, 3), (0.35, 0.25, 0.35, 0.00, 0.05), 3, 0.10, 0.5),
    "dealer": (0.15, (3, 8), (0.45, 0.45, 0.10, 0.00, 0.00), 8, 0.05, 0.3),
    "rental": (0.20, (1, 4), (0.30, 0.30, 0.30, 0.05, 0.05), 2, 0.20, 0.6),
}
DEALERS = ("Nautic Opale SARL", "Marine Service Côte", "Bootshandel Nord GmbH", "Hors-Bord Diffusion",
           "Watersport Antwerpen NV", "Pêche & Plaisance")  # fmt: skip
FIRST = ("Jean", "Pierre", "Luc", "Marc", "Hans", "Pieter", "Yann", "Thomas", "Eric", "Paul", "Klaus", "Bart")
LAST = ("Leroy", "Caron", "Dubois", "Lefebvre", "Schmidt", "Peeters", "Janssens", "Baert", "Vasseur", "Deltour")
CLUBS = ("Club Nautique", "Yacht Club", "Cercle de Voile", "Club de Plongée", "Segelverein", "Kayak Club")
UNIT = (2200.0, 3100.0, 18.0, 1.9, 35.0)
QTY = ((1, 2), (1, 2), (2, 12), (20, 120), (1, 3))
DAY0 = np.datetime64("2023-01-01")


TRUTH_NOTE = """
- `buyers.csv` (added by the legitimate-buyer stage): the {buyers} legitimate buyers of the dealer sales register
  (`partners/fr-ocriest_dealer_sales/`), with the entity id the store gives each; every buyer not listed here is
  one of the network's (a person of `persons.csv`).
"""


def buyers_count(scale: int) -> int:
    """About twice as many legitimate buyers as the network has (the network's are ~1 % of records)."""
    return max(20, round(scale * 0.02))


def add_legitimate(out_dir: Path, seed: int, scale: int) -> dict[str, int]:
    """Write the dealer register, its payments, their mappings and ``truth/buyers.csv`` into a sample folder
    made by ``generate``; append them to ``manifest.json`` when there is one. Returns the row counts."""
    out_dir = Path(out_dir)
    rng = np.random.default_rng([seed, 21])
    n = buyers_count(scale)
    kinds = list(KINDS)
    kind = rng.choice(len(kinds), n, p=[KINDS[k][0] for k in kinds])
    sales: list[dict[str, str]] = []
    payments: list[dict[str, str]] = []
    truth: list[dict[str, str]] = []
    coast = DEPARTURES[:10]
    for b in range(n):
        k = kinds[kind[b]]
        _, (lo, hi), weights, scale_q, cash, on_coast = KINDS[k]
        bid = f"CLI-{b + 1:05d}"
        name = _name(rng, k)
        truth.append({"entity_id": entity_id(PARTNER, "Buyer", [bid]), "buyer_id": bid, "kind": k, "name": name})
        for _ in range(int(rng.integers(lo, hi + 1))):
            item = int(rng.choice(len(ITEMS), p=np.array(weights) / sum(weights)))
            qty = int(rng.integers(QTY[item][0], QTY[item][1] + 1)) * scale_q
            amount = round(qty * UNIT[item] * float(rng.uniform(0.8, 1.3)))
            day = str(DAY0 + int(rng.integers(0, 730)))
            pays_cash = rng.random() < cash
            place = coast[rng.integers(len(coast))] if rng.random() < on_coast else PURCHASE_PLACES[rng.integers(8)]
            dealer = int(rng.integers(len(DEALERS)))
            sid = f"VTE-{len(sales) + 1:06d}"
            sales.append({
                "sale_id": sid, "buyer_id": bid, "buyer_name": name, "seller_id": f"DLR-{dealer + 1:02d}",
                "seller_name": DEALERS[dealer], "item": ITEMS[item], "quantity": str(qty), "place": place,
                "date": day, "method": "cash" if pays_cash else "mto", "amount": str(amount), "currency": "EUR",
                "handling_code": "H0", "tlp": "AMBER", "evaluation": "A2",
            })  # fmt: skip
            if not pays_cash:
                payments.append({
                    "payment_id": f"VIR-{len(payments) + 1:06d}", "payer_id": bid, "payer_name": name,
                    "payee_id": f"DLR-{dealer + 1:02d}", "payee_name": DEALERS[dealer], "amount": str(amount),
                    "currency": "EUR", "date": day, "method": "mto", "handling_code": "H0", "tlp": "AMBER",
                    "evaluation": "A2",
                })  # fmt: skip
    folder = out_dir / "partners" / SLUG
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for kind_name, rows, mapping in (("sales", sales, _sales_mapping()), ("payments", payments, _pay_mapping())):
        data = folder / f"{SLUG}_{kind_name}.csv"
        _write(data, rows)
        mp = out_dir / "mappings" / f"{SLUG}_{kind_name}.yml"
        mp.parent.mkdir(parents=True, exist_ok=True)
        header = f"# Mapping for {data.name} ({PARTNER}, legitimate {kind_name}); generated by avellino.\n"
        mp.write_text(header + yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True), encoding="utf-8")
        files.append((kind_name, data, mp, len(rows)))
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    _write(out_dir / "truth" / "buyers.csv", truth)
    readme = out_dir / "truth" / "README.md"
    if readme.exists() and "buyers.csv" not in readme.read_text():
        with readme.open("a", encoding="utf-8") as fh:
            fh.write(TRUTH_NOTE.format(buyers=n))
    _append_manifest(out_dir, files)
    return {"buyers": n, "sales": len(sales), "payments": len(payments)}


def _name(rng: np.random.Generator, kind: str) -> str:
    person = f"{FIRST[rng.integers(len(FIRST))]} {LAST[rng.integers(len(LAST))]}"
    if kind == "club":
        return f"{CLUBS[rng.integers(len(CLUBS))]} {DEPARTURES[rng.integers(len(DEPARTURES))]}"
    if kind == "dealer":
        return f"{LAST[rng.integers(len(LAST))]} Marine {rng.integers(1, 99)}"
    if kind == "rental":
        return f"Location {LAST[rng.integers(len(LAST))]} {DEPARTURES[rng.integers(len(DEPARTURES))]}"
    return person


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]) if rows else ["empty"])
        writer.writeheader()
        writer.writerows(rows)


MARKINGS = {
    "handling_code": {"column": "handling_code"},
    "tlp": {"column": "tlp"},
    "evaluation": {"column": "evaluation"},
    "subject_category": "other",
}


def _party(schema: str, literal: str, key: str, name: str) -> dict[str, object]:
    return {"schema": schema, "keys": [key], "key_literal": literal, "properties": {"name": {"column": name}}}


def _sales_mapping() -> dict[str, object]:
    return {
        "originator": PARTNER,
        "country": "FR",
        "source": {"format": "csv"},
        "markings": MARKINGS,
        "entities": {
            "buyer": _party("LegalEntity", "Buyer", "buyer_id", "buyer_name"),
            "seller": _party("Company", "Dealer", "seller_id", "seller_name"),
            "purchase": {
                "schema": "Purchase",
                "keys": ["sale_id"],
                "properties": {
                    "itemKind": {"column": "item"},
                    "quantity": {"column": "quantity"},
                    "buyer": {"entity": "buyer"},
                    "seller": {"entity": "seller"},
                    "place": {"column": "place"},
                    "date": {"column": "date", "format": "%Y-%m-%d"},
                    "paymentMethod": {"column": "method"},
                    "amount": {"column": "amount"},
                    "currency": {"column": "currency"},
                },
            },
        },
    }


def _pay_mapping() -> dict[str, object]:
    return {
        "originator": PARTNER,
        "country": "FR",
        "source": {"format": "csv"},
        "markings": MARKINGS,
        "entities": {
            "payer": _party("LegalEntity", "Buyer", "payer_id", "payer_name"),
            "payee": _party("Company", "Dealer", "payee_id", "payee_name"),
            "payment": {
                "schema": "Payment",
                "keys": ["payment_id"],
                "properties": {
                    "payer": {"entity": "payer"},
                    "beneficiary": {"entity": "payee"},
                    "amount": {"column": "amount"},
                    "currency": {"column": "currency"},
                    "date": {"column": "date", "format": "%Y-%m-%d"},
                    "purpose": {"column": "method"},
                },
            },
        },
    }


def _append_manifest(out_dir: Path, files: list[tuple[str, Path, Path, int]]) -> None:
    path = out_dir / "manifest.json"
    if not path.exists():
        return
    data = json.loads(path.read_text())
    known = {f["path"] for f in data.get("files", [])}
    for kind, data_path, mapping, rows in files:
        rel = str(data_path.relative_to(out_dir))
        if rel in known:
            continue
        data["files"].append({"partner": PARTNER, "originator": PARTNER, "kind": f"dealer_{kind}", "format": "csv",
                              "path": rel, "mapping": str(mapping.relative_to(out_dir)), "rows": rows})  # fmt: skip
    data.setdefault("truth", {})["buyers.csv"] = "truth/buyers.csv"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
