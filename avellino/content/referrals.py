"""Referrals to platforms: a Digital Services Act notice per platform, sent as a file, with its status over time.

A notice (DSA Art. 16(2); Art. 22 when the agency is a trusted flagger) holds only what the Act asks for: the exact
URLs, a substantiated explanation and the legal ground, the notifier's name and contact, and the statement of good
faith. No post text, no selector, no person. Which URLs may go is decided by the one sharing policy
(``share/policy.py``): the platform is a recipient outside law enforcement, so only URLs whose statements are
TLP:CLEAR (or GREEN for a platform registered as community) leave, and H2/H3 conditions hold as everywhere. On top
of the policy, an advert with any statement about a victim, witness or informant is never referred, whatever the
purpose: a referral never includes data about victims. The audit entry is written before the file.

Status events (sent, acknowledged, removed, refused, reappeared) are kept in the derived table
``content_referral_events``; ``referrals`` reads the latest status per URL and the time from sending to removal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from avellino.errors import ConfigError
from avellino.model.markings import PROTECTED_CATEGORIES, TLP_ORDER
from avellino.share import policy
from avellino.store.base import Store

EVENTS = "content_referral_events"
STATUSES = ("sent", "acknowledged", "removed", "refused", "reappeared")
EVENT_SCHEMA = pa.schema(
    [("reference", pa.string()), ("platform", pa.string()), ("advert_id", pa.string()), ("url", pa.string()),
     ("status", pa.string()), ("at", pa.string()), ("note", pa.string())]
)  # fmt: skip
GOOD_FAITH = (
    "The notifier confirms its bona fide belief that the information and allegations contained in this notice are "
    "accurate and complete (Regulation (EU) 2022/2065, Art. 16(2)(d))."
)
WITHHELD_PROTECTED = "advert holds data about a protected person"


@dataclass
class Notifier:
    agency: str  # the sending node's name: the policy's sender
    contact: str
    trusted_flagger: bool = False


@dataclass
class Referral:
    reference: str
    platform: str
    notice: dict[str, Any]
    items: list[tuple[str, str]]  # (advert id, url)
    withheld: Counter[str] = field(default_factory=Counter)


def _adverts(store: Store) -> dict[str, list[dict[str, Any]]]:
    cols = ["entity_id", "prop", "value", "originator", "handling_code", "handling_note", "tlp", "evaluation",
            "subject_category", "retention_review"]  # fmt: skip
    rows = store.read_statements(schemata=["Advert"], columns=cols).to_pylist()
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row["entity_id"], []).append(row)
    return out


def _harmful(
    adverts: dict[str, list[dict[str, Any]]], min_p: float, model_path: Path | None, skipped: Counter[str]
) -> dict[str, list[dict[str, Any]]]:
    """The adverts whose text the classifier scores p_harmful >= min_p (the others are counted, not referred)."""
    from avellino.content.classify import classify_texts, load_model

    texts = {a: " ".join(str(r["value"]) for r in rows if r["prop"] in {"bodyText", "description"}) for a, rows in
             adverts.items()}  # fmt: skip
    if not texts:
        return {}
    ids = list(texts)
    verdicts = classify_texts(load_model(model_path), ids, [texts[a] for a in ids], evidence=False)
    keep = {}
    for v in verdicts:
        if v.p_harmful >= min_p:
            keep[v.id] = adverts[v.id]
        else:
            skipped[f"classified benign (p_harmful < {min_p})"] += 1
    return keep


def build(
    store: Store,
    platform: str,
    notifier: Notifier,
    ground: str,
    explanation: str,
    purpose: str,
    advert_ids: list[str] | None = None,
    community: bool = False,
    today: dt.date | None = None,
    min_p: float = 0.8,
    model_path: Path | None = None,
) -> Referral:
    """The notice for one platform: its adverts that the classifier finds harmful (``p_harmful >= min_p``; the
    adverts named in ``advert_ids`` are taken as the analyst chose them) and the policy lets go."""
    today = today or dt.date.today()
    if not ground.strip() or not explanation.strip():
        raise ConfigError("A DSA notice needs a legal ground (--ground) and an explanation (--explanation)")
    recipient = policy.Recipient(name=platform, country="", law_enforcement=False, community=community)
    request = policy.Request(sender=notifier.agency, recipients=(recipient,), purpose=purpose, today=today)
    adverts = _adverts(store)
    if advert_ids:
        unknown = [a for a in advert_ids if a not in adverts]
        if unknown:
            raise ConfigError(f"Not adverts of this workspace: {', '.join(unknown[:5])}")
        adverts = {a: adverts[a] for a in advert_ids}
    items: list[tuple[str, str]] = []
    tlps = []
    withheld: Counter[str] = Counter()
    on_platform = {
        a: rows
        for a, rows in sorted(adverts.items())
        if platform.lower() in {str(r["value"]).lower() for r in rows if r["prop"] == "platform"}
    }
    if not advert_ids:
        on_platform = _harmful(on_platform, min_p, model_path, withheld)
    for advert_id, rows in on_platform.items():
        if any(r["subject_category"] in PROTECTED_CATEGORIES for r in rows):
            withheld[WITHHELD_PROTECTED] += 1
            continue
        for row in (r for r in rows if r["prop"] == "url"):
            marks = policy.markings_of_row(row)
            decision = policy.Decision(False, policy.Reason.INVALID) if marks is None else policy.decide(marks, request)
            if not decision.allowed:
                withheld[str(decision.reason)] += 1
                continue
            items.append((advert_id, str(row["value"])))
            tlps.append(str(row["tlp"]))
    digest = hashlib.sha1(json.dumps([platform, items, today.isoformat()]).encode()).hexdigest()[:10].upper()
    reference = f"REF-{today:%Y%m%d}-{digest}"
    article = "Art. 16 notice by a trusted flagger (Art. 22)" if notifier.trusted_flagger else "Art. 16 notice"
    notice = {
        "type": f"Regulation (EU) 2022/2065 (Digital Services Act) {article}",
        "reference": reference,
        "date": today.isoformat(),
        "provider": platform,
        "notifier": {"name": notifier.agency, "contact": notifier.contact, "trusted_flagger": notifier.trusted_flagger},
        "legal_ground": ground,
        "explanation": explanation,  # Art. 16(2)(a)
        "items": [{"url": url} for _a, url in items],  # Art. 16(2)(b)
        "good_faith_statement": GOOD_FAITH,  # Art. 16(2)(d)
        "tlp": max(tlps, key=TLP_ORDER.index) if tlps else "CLEAR",
    }
    return Referral(reference, platform, notice, items, withheld)


def send(store: Store, referral: Referral, out_dir: Path, purpose: str, now: dt.datetime | None = None) -> Path:
    """Audit, then write the notice file, then record a ``sent`` event per URL."""
    from avellino.share.audit import Touched, record

    if not referral.items:
        raise ConfigError(
            f"Nothing to refer to {referral.platform}: no advert on it may go "
            f"({', '.join(f'{n} {r}' for r, n in referral.withheld.items()) or 'none found'})"
        )
    now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    touched = Touched(counts={f"withheld: {r}": n for r, n in referral.withheld.items()})
    touched.update(a for a, _u in referral.items)
    record(store, purpose=purpose, action=f"content refer {referral.reference} to {referral.platform}", touched=touched)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{referral.reference}-{referral.platform.lower().replace(' ', '-')}.json"
    tmp = path.with_suffix(".part")
    tmp.write_text(json.dumps(referral.notice, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    at = now.isoformat()
    rows = [
        {"reference": referral.reference, "platform": referral.platform, "advert_id": a, "url": u, "status": "sent",
         "at": at, "note": path.name}
        for a, u in referral.items
    ]  # fmt: skip
    store.write_table(EVENTS, pa.Table.from_pylist(rows, schema=EVENT_SCHEMA), mode="append")
    return path


def events(store: Store) -> list[dict[str, Any]]:
    table = store.read_table(EVENTS)
    return [] if table is None else table.to_pylist()


def update(store: Store, reference: str, status: str, url: str | None, note: str, at: dt.datetime) -> int:
    """Append a status event for a referral's URLs (or one of them); returns how many."""
    if status not in STATUSES[1:]:
        raise ConfigError(f"--status {status!r}: use one of {', '.join(STATUSES[1:])}")
    sent = [e for e in events(store) if e["reference"] == reference and e["status"] == "sent"]
    if not sent:
        raise ConfigError(f"No referral {reference} in this workspace (see `avellino content referrals`)")
    if url is not None:
        sent = [e for e in sent if e["url"] == url]
        if not sent:
            raise ConfigError(f"{url} is not in referral {reference}")
    rows = [{**e, "status": status, "at": at.isoformat(), "note": note} for e in sent]
    store.write_table(EVENTS, pa.Table.from_pylist(rows, schema=EVENT_SCHEMA), mode="append")
    return len(rows)


def summary(store: Store) -> list[dict[str, Any]]:
    """Per referred URL: its referral, platform, latest status, when sent, and hours from sending to removal."""
    per: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for e in events(store):
        per.setdefault((e["reference"], e["url"]), []).append(e)
    out = []
    for (reference, url), evs in sorted(per.items()):
        evs.sort(key=lambda e: e["at"])
        sent = next(e["at"] for e in evs if e["status"] == "sent")
        removed = next((e["at"] for e in evs if e["status"] == "removed"), None)
        hours = None
        if removed is not None:
            hours = round(
                (dt.datetime.fromisoformat(removed) - dt.datetime.fromisoformat(sent)).total_seconds() / 3600, 1
            )
        out.append({"reference": reference, "platform": evs[0]["platform"], "url": url, "status": evs[-1]["status"],
                    "sent": sent, "hours_to_removal": hours})  # fmt: skip
    return out
