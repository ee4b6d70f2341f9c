"""Referrals to platforms: a Digital Services Act notice per platform, sent as a file, kept as ``Referral`` entities.

A notice (DSA Art. 16(2); Art. 22 when the agency is a trusted flagger) holds only what the Act asks for: the exact
URLs, a substantiated explanation and the legal ground, the notifier's name and contact, and the statement of good
faith. No post text, no selector, no person. Which URLs may go is decided by the one screening path
(``share/screen.py``, the path bundles and partner views take): the platform is a recipient outside law
enforcement, so only URLs whose statements are TLP:CLEAR (or GREEN for a platform registered as community) leave,
H2/H3 conditions hold, ids must lie in their originator's namespace, and facts received inside a JIT stay in it.
On top of the screen, an advert that is (or names, or is merged with) a victim, witness or informant is never
referred, whatever the purpose (the screen lifts that rule for safeguarding; a referral never does), and an advert
another agency collected is left to that agency to refer. The audit entry is written before the file.

Each referred advert becomes one ``Referral`` entity (the model's smuggling extension), imported like any partner
file (FtM JSON lines through ``ingest/run.py``), originated and marked by the notifying agency: ``advert`` links
it to the Advert, ``recordId`` is the notice reference, ``status`` every status it reached, ``startDate`` when it
was sent, ``endDate`` when it was first removed, and one ``description`` per status event
(``2026-12-04T09:00:00Z removed: note``): its history, from which ``summary`` reads the latest status and the
time to removal. Every time written or printed is ISO 8601 in UTC with ``Z``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import yaml

from avellino.errors import ConfigError
from avellino.ingest.ids import namespace_of, originator_slug
from avellino.model.markings import PROTECTED_VALUES, TLP_ORDER
from avellino.store.base import Store

STATUSES = ("sent", "acknowledged", "removed", "refused", "reappeared")
GOOD_FAITH = (
    "The notifier confirms its bona fide belief that the information and allegations contained in this notice are "
    "accurate and complete (Regulation (EU) 2022/2065, Art. 16(2)(d))."
)
WITHHELD_PROTECTED = "advert holds data about a protected person"
WITHHELD_FOREIGN = "advert collected by another agency (it refers its own)"
#: How the notifying agency marks its own record of a referral (an operational record, not for release).
RECORD_MARKINGS = {"handling_code": "H1", "tlp": "AMBER", "evaluation": "A1", "subject_category": "other"}
_EVENT = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) (" + "|".join(STATUSES) + r")(?:: (.*))?$", re.S)


def utc_iso(when: dt.datetime) -> str:
    """``when`` as ISO 8601 in UTC with ``Z`` (a naive time is taken to be UTC): how every referral time is
    written, in notices, entities and JSON output alike."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_utc(text: str, what: str = "--at") -> dt.datetime:
    """An ISO 8601 date-time (``Z``, an offset, or none: UTC) as an aware UTC time; a clear error otherwise."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ConfigError(f"{what} {text!r}: not an ISO 8601 date-time (2026-12-04T09:00:00Z)") from exc
    return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)


@dataclass
class Notifier:
    agency: str  # the sending node's name: the policy's sender and the Referral entities' originator
    contact: str
    trusted_flagger: bool = False


@dataclass
class Package:
    """One notice for one platform, ready to send: the notice as written and the (advert id, url) it refers."""

    reference: str
    platform: str
    notice: dict[str, Any]
    items: list[tuple[str, str]]  # (advert id, url)
    withheld: Counter[str] = field(default_factory=Counter)
    basis: str = "dsa_art16"


def sender_node(workspace: Path | None, agency: str) -> Any:
    """The workspace's node when it has one (its name must be the agency: JIT agreements and received batches are
    its own); otherwise a node with no keys and no agreements named after the agency, which is all the screen
    needs from a workspace that never received a bundle."""
    from avellino.share.node import Card, Node, load_node, node_dir

    try:
        folder = node_dir(workspace)
    except ConfigError:
        folder = None
    if folder is not None and (folder / "node.json").is_file():
        node = load_node(folder)
        if node.name != agency:
            raise ConfigError(f"--agency {agency!r}: this workspace's node is {node.name!r}; refer as {node.name}")
        return node
    return Node(Path(tempfile.gettempdir()) / "avellino-no-node", Card(agency, "", True, b"", b""))


def _adverts(store: Store) -> pa.Table:
    return store.read_statements(schemata=["Advert"])


def _harmful(texts: dict[str, str], min_p: float, model_path: Path | None, skipped: Counter[str]) -> set[str]:
    """The adverts whose text the classifier scores p_harmful >= min_p (the others are counted, not referred)."""
    from avellino.content.classify import classify_texts, load_model

    if not texts:
        return set()
    ids = sorted(texts)
    verdicts = classify_texts(load_model(model_path), ids, [texts[a] for a in ids], evidence=False)
    keep = set()
    for v in verdicts:
        if v.p_harmful >= min_p:
            keep.add(v.id)
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
    node: Any = None,
) -> Package:
    """The notice for one platform: its adverts that the classifier finds harmful (``p_harmful >= min_p``; the
    adverts named in ``advert_ids`` are taken as the analyst chose them) and the screen lets go."""
    from avellino.share.node import Card, Partner
    from avellino.share.policy import Reason
    from avellino.share.screen import Screen, protected_ids, request_for

    today = today or dt.date.today()
    if not ground.strip() or not explanation.strip():
        raise ConfigError("A DSA notice needs a legal ground (--ground) and an explanation (--explanation)")
    node = node if node is not None else sender_node(None, notifier.agency)
    platform_card = Card(platform, "", False, b"", b"")
    req = request_for(node, [Partner(platform_card, community=community)], purpose, today)
    protected = protected_ids(store)  # always: a referral never carries a victim, even for safeguarding
    screen = Screen(node, req, protected)
    table = _adverts(store)
    if advert_ids:
        known = set(table.column("entity_id").to_pylist())
        unknown = [a for a in advert_ids if a not in known]
        if unknown:
            raise ConfigError(f"Not adverts of this workspace: {', '.join(unknown[:5])}")
        table = table.filter(pc.is_in(table.column("entity_id"), pa.array(sorted(set(advert_ids)), pa.string())))
    rows = table.to_pylist()
    by_advert: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_advert.setdefault(row["entity_id"], []).append(row)
    on_platform = {
        a: rs
        for a, rs in sorted(by_advert.items())
        if platform.lower() in {str(r["value"]).lower() for r in rs if r["prop"] == "platform"}
    }
    withheld: Counter[str] = Counter()
    if not advert_ids:
        texts = {a: " ".join(str(r["value"]) for r in rs if r["prop"] in {"bodyText", "description"})
                 for a, rs in on_platform.items()}  # fmt: skip
        harmful = _harmful(texts, min_p, model_path, withheld)
        on_platform = {a: rs for a, rs in on_platform.items() if a in harmful}
    reasons = _screened(screen, table, set(on_platform))
    own = originator_slug(notifier.agency)
    items: list[tuple[str, str]] = []
    tlps = []
    for advert_id, rs in on_platform.items():
        if names_protected(rs, protected) or any(reasons.get(r["id"]) == Reason.PROTECTED.value for r in rs):
            withheld[WITHHELD_PROTECTED] += 1
            continue
        if namespace_of(advert_id) != own:
            withheld[WITHHELD_FOREIGN] += 1
            continue
        for row in (r for r in rs if r["prop"] == "url"):
            reason = reasons.get(row["id"])
            if reason is not None:
                withheld[reason] += 1
                continue
            items.append((advert_id, str(row["value"])))
            tlps.append(str(row["tlp"]))
    sent_on = today.isoformat()
    digest = hashlib.sha1(json.dumps([platform, items, sent_on]).encode()).hexdigest()[:10].upper()
    reference = f"REF-{today:%Y%m%d}-{digest}"
    article = "Art. 16 notice by a trusted flagger (Art. 22)" if notifier.trusted_flagger else "Art. 16 notice"
    notice = {
        "type": f"Regulation (EU) 2022/2065 (Digital Services Act) {article}",
        "reference": reference,
        "date": sent_on,
        "provider": platform,
        "notifier": {"name": notifier.agency, "contact": notifier.contact, "trusted_flagger": notifier.trusted_flagger},
        "legal_ground": ground,
        "explanation": explanation,  # Art. 16(2)(a)
        "items": [{"url": url} for _a, url in items],  # Art. 16(2)(b)
        "good_faith_statement": GOOD_FAITH,  # Art. 16(2)(d)
        "tlp": max(tlps, key=TLP_ORDER.index) if tlps else "CLEAR",
    }
    basis = "dsa_art22" if notifier.trusted_flagger else "dsa_art16"
    return Package(reference, platform, notice, items, withheld, basis)


def names_protected(rows: list[dict[str, Any]], protected: set[str]) -> bool:
    """Whether an advert's statements are about a protected person, belong to (or are merged with) a protected
    record, or name one (its author account, a mentioned entity)."""
    for r in rows:
        if r["subject_category"] in PROTECTED_VALUES:
            return True
        if r["entity_id"] in protected or r["canonical_id"] in protected:
            return True
        if r["prop_type"] == "entity" and r["value"] in protected:
            return True
    return False


def _screened(screen: Any, table: pa.Table, adverts: set[str]) -> dict[str, str | None]:
    """{statement id: the screen's reason, None when it may go} for the statements of ``adverts``."""
    wanted = table.filter(pc.is_in(table.column("entity_id"), pa.array(sorted(adverts), pa.string())))
    return dict(screen.reasons(wanted))


def _referral_id(reference: str, advert_id: str) -> str:
    return f"referral-{reference.lower()}-{hashlib.sha1(advert_id.encode()).hexdigest()[:12]}"


def _event(at: dt.datetime, status: str, note: str = "") -> str:
    text = f"{utc_iso(at)} {status}"
    return f"{text}: {note}" if note.strip() else text


def ftm_time(when: dt.datetime) -> str:
    """A time as an FtM date property holds it: ISO 8601 to the second, in UTC, without the zone (FtM dates are
    UTC by convention; ``utc_iso`` adds the ``Z`` back on output)."""
    return utc_iso(when)[:-1]


def _prepare_records(originator: str, lines: list[dict[str, Any]]) -> Any:
    """``lines`` (FtM entities) checked and mapped as one batch originated and marked by ``originator``, through
    the ordinary ingest (``prepare_file``: a bad value is an error and nothing is written); written with
    ``ingest.run.write_prepared``."""
    from avellino.ingest.run import prepare_file

    with tempfile.TemporaryDirectory(prefix="avellino-referrals-") as tmp:
        data = Path(tmp) / "referrals.ftm.jsonl"
        data.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
        mapping = Path(tmp) / "referrals.yml"
        spec = {"originator": originator, "source": {"format": "ftm"}, "markings": dict(RECORD_MARKINGS)}
        mapping.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
        return prepare_file(data, mapping)


def send(
    store: Store, package: Package, out_dir: Path, purpose: str, now: dt.datetime | None = None, agency: str = ""
) -> Path:
    """Check the ``Referral`` entities (one per referred advert, status sent), audit, write the notice file, then
    write the entities as one batch: nothing is audited or written when the records cannot be made."""
    from avellino.ingest.run import write_prepared
    from avellino.share.audit import Touched, record

    if not package.items:
        raise ConfigError(
            f"Nothing to refer to {package.platform}: no advert on it may go "
            f"({', '.join(f'{n} {r}' for r, n in package.withheld.items()) or 'none found'})"
        )
    now = now or dt.datetime.now(dt.UTC)
    agency = agency or str(package.notice["notifier"]["name"])
    package.notice["sent_at"] = utc_iso(now)
    path = out_dir / f"{package.reference}-{package.platform.lower().replace(' ', '-')}.json"
    lines = [
        {
            "id": _referral_id(package.reference, advert),
            "schema": "Referral",
            "properties": {
                "advert": [advert], "platform": [package.platform], "basis": [package.basis], "sentBy": [agency],
                "recordId": [package.reference], "sourceUrl": [url], "startDate": [ftm_time(now)],
                "status": ["sent"], "summary": [path.name], "description": [_event(now, "sent")],
            },
        }
        for advert, url in package.items
    ]  # fmt: skip
    prepared = _prepare_records(agency, lines)
    touched = Touched(counts={f"withheld: {r}": n for r, n in package.withheld.items()})
    touched.update(a for a, _u in package.items)
    record(store, purpose=purpose, action=f"content refer {package.reference} to {package.platform}", touched=touched)
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part")
    tmp.write_text(json.dumps(package.notice, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    write_prepared(store, prepared)
    return path


def _referrals(store: Store) -> dict[str, dict[str, Any]]:
    """Per Referral entity: its originator, properties (lists of values) and history ((time, status, note), in
    time order)."""
    cols = ["entity_id", "prop", "value", "originator"]
    out: dict[str, dict[str, Any]] = {}
    for row in store.read_statements(schemata=["Referral"], columns=cols).to_pylist():
        ent = out.setdefault(row["entity_id"], {"id": row["entity_id"], "originator": row["originator"], "props": {}})
        ent["props"].setdefault(row["prop"], []).append(str(row["value"]))
    for ent in out.values():
        history = []
        for text in ent["props"].get("description", []):
            m = _EVENT.match(text)
            if m:
                history.append((m.group(1), m.group(2), m.group(3) or ""))
        order = {s: i for i, s in enumerate(STATUSES)}
        ent["history"] = sorted(history, key=lambda e: (e[0], order[e[1]]))
    return out


def update(store: Store, reference: str, status: str, url: str | None, note: str, at: dt.datetime) -> int:
    """Record a status event on a referral's Referral entities (or the one of ``url``); returns how many."""
    if status not in STATUSES[1:]:
        raise ConfigError(f"--status {status!r}: use one of {', '.join(STATUSES[1:])}")
    found = [e for e in _referrals(store).values() if reference in e["props"].get("recordId", [])]
    if not found:
        raise ConfigError(f"No referral {reference} in this workspace (see `avellino content referrals`)")
    if url is not None:
        found = [e for e in found if url in e["props"].get("sourceUrl", [])]
        if not found:
            raise ConfigError(f"{url} is not in referral {reference}")
    by_originator: dict[str, list[dict[str, Any]]] = {}
    for e in found:
        props: dict[str, list[str]] = {"status": [status], "modifiedAt": [ftm_time(at)],
                                       "description": [_event(at, status, note)]}  # fmt: skip
        if status == "removed" and not e["props"].get("endDate"):
            props["endDate"] = [ftm_time(at)]
        line = {"id": e["id"], "schema": "Referral", "properties": props}
        by_originator.setdefault(e["originator"], []).append(line)
    prepared = [_prepare_records(originator, lines) for originator, lines in by_originator.items()]
    from avellino.ingest.run import write_prepared

    for batch in prepared:
        write_prepared(store, batch)
    return len(found)


def _hours(start: str, end: str) -> float:
    return round((parse_utc(end) - parse_utc(start)).total_seconds() / 3600, 1)


def summary(store: Store) -> list[dict[str, Any]]:
    """Per Referral entity: its reference, platform, URL and advert, latest status, when it was sent, the hours from
    sending to the first removal, and its history; times ISO 8601 UTC with ``Z``."""
    out = []
    for ent in _referrals(store).values():
        p, history = ent["props"], ent["history"]
        if not history:
            continue
        sent = next((t for t, s, _n in history if s == "sent"), history[0][0])
        removed = next((t for t, s, _n in history if s == "removed"), None)
        out.append(
            {
                "reference": p.get("recordId", [""])[0],
                "referral_id": ent["id"],
                "platform": p.get("platform", [""])[0],
                "url": p.get("sourceUrl", [""])[0],
                "advert_id": p.get("advert", [""])[0],
                "basis": p.get("basis", [""])[0],
                "status": history[-1][1],
                "sent": sent,
                "removed": removed,
                "hours_to_removal": None if removed is None else _hours(sent, removed),
                "history": [{"at": t, "status": s, "note": n} for t, s, n in history],
            }
        )
    return sorted(out, key=lambda r: (r["sent"], r["reference"], r["url"]))


def outcomes(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts of referred URLs by latest status, and the median hours to removal (for the briefing)."""
    import statistics

    hours = [r["hours_to_removal"] for r in rows if r["hours_to_removal"] is not None]
    return {
        "referred": len(rows),
        "by_status": dict(Counter(r["status"] for r in rows)),
        "by_platform": dict(Counter(r["platform"] for r in rows)),
        "median_hours_to_removal": statistics.median(hours) if hours else None,
    }
