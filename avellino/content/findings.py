"""What the briefing shows of online adverts: harmful posts by platform, language and route, campaigns, the
selectors that lead into the network, and what became of the referrals.

``content_findings`` reads the store (nothing is written): every ``Advert``'s text is scored by the shipped
classifier, the harmful ones (``p_harmful >= HARMFUL_AT``) are counted by platform, language and the routes their
text names, grouped into campaigns (``campaigns.py``), and their phones and handles are looked up among the
workspace's entities (``links.py``); ``referrals.summary`` gives the outcomes. Protected people never appear: an
advert that is, names or is merged with a victim, witness or informant (``share/screen.protected_ids``) is left
out and only counted, and a selector held by a protected record is shown as "a protected record", never by name.
``content/briefing.py`` renders the result.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from avellino.store.base import Store

HARMFUL_AT = 0.5
TOP = 12


@dataclass(frozen=True)
class SelectorHit:
    """A phone or handle in harmful adverts that other entities of the workspace also carry."""

    kind: str
    value: str
    adverts: int
    named: tuple[str, ...]  # "Person Name" of the non-protected entities carrying it (resolved names)
    protected: int  # how many protected records carry it (never named)


@dataclass(frozen=True)
class CampaignRow:
    size: int
    accounts: int
    platforms: tuple[str, ...]
    label: str
    example: str  # an advert id: follow it with `avellino stats` / the workbench


@dataclass
class ContentFindings:
    adverts: int
    harmful: int
    left_out_protected: int
    by_label: dict[str, int]
    by_platform: list[tuple[str, int, int]]  # (platform, harmful, all)
    by_language: list[tuple[str, int, int]]
    by_route: list[tuple[str, int]]
    campaigns: list[CampaignRow]
    hits: list[SelectorHit]
    referrals: list[dict[str, Any]]
    outcomes: dict[str, Any]
    entity_ids: frozenset[str] = field(default_factory=frozenset)


def _read_adverts(store: Store) -> dict[str, dict[str, Any]]:
    cols = ["entity_id", "canonical_id", "prop", "prop_type", "value", "subject_category"]
    out: dict[str, dict[str, Any]] = {}
    for r in store.read_statements(schemata=["Advert"], columns=cols).to_pylist():
        ad = out.setdefault(r["entity_id"], {"canonical": r["canonical_id"], "props": {}, "rows": []})
        ad["props"].setdefault(r["prop"], []).append(str(r["value"]))
        ad["rows"].append(r)
    return out


def content_findings(store: Store, model_path: Any = None) -> ContentFindings | None:
    """The adverts' findings; None when the workspace holds no Advert."""
    from avellino.content.campaigns import cluster
    from avellino.content.classify import classify_texts, load_model
    from avellino.content.links import build_index
    from avellino.content.referrals import names_protected, outcomes, summary
    from avellino.content.selectors import extract
    from avellino.share.screen import protected_ids

    adverts = _read_adverts(store)
    if not adverts:
        return None
    protected = protected_ids(store)
    shown = {a: ad for a, ad in adverts.items() if not names_protected(ad["rows"], protected)}
    ids = sorted(shown)
    texts = [" ".join(shown[a]["props"].get("bodyText", []) + shown[a]["props"].get("description", [])) for a in ids]
    verdicts = classify_texts(load_model(model_path), ids, texts, evidence=False) if ids else []
    harmful = [(v, t) for v, t in zip(verdicts, texts, strict=True) if v.p_harmful >= HARMFUL_AT]
    first = {a: (shown[a]["props"].get("platform") or ["(not given)"])[0] for a in ids}
    lang = {a: (shown[a]["props"].get("language") or ["(not given)"])[0] for a in ids}
    bad = {v.id for v, _t in harmful}
    by_platform = Counter(first[a] for a in ids)
    by_language = Counter(lang[a] for a in ids)
    routes: Counter[str] = Counter()
    index = build_index(store)
    index.protected |= protected
    hits: dict[tuple[str, str], set[str]] = {}
    for v, text in harmful:
        sels = extract(text)
        for route in {s.value for s in sels if s.kind == "route"}:
            routes[route] += 1
        for s in sels:
            if s.kind in {"phone", "whatsapp", "signal", "telegram"}:
                hits.setdefault(("phone" if s.kind != "telegram" else "telegram", s.value), set()).add(v.id)
        for phone in shown[v.id]["props"].get("phone", []):
            hits.setdefault(("phone", phone), set()).add(v.id)
    from avellino.content.selectors import Selector

    hit_rows = []
    linked: set[str] = set()
    for (kind, value), ads in hits.items():
        links = [ln for ln in index.links(Selector(kind, value, value)) if ln.get("entity_id") not in adverts]
        others = [ln for ln in links if not ln.get("protected") and ln.get("schema") != "Advert"]
        n_protected = sum(1 for ln in links if ln.get("protected"))
        if not others and not n_protected:
            continue
        names = sorted({f"{ln['schema']} {ln['name'] or ln['canonical_id']}" for ln in others})
        linked.update(str(ln["canonical_id"]) for ln in others)
        hit_rows.append(SelectorHit(kind, value, len(ads), tuple(names), n_protected))
    hit_rows.sort(key=lambda h: (-h.adverts, h.value))
    found = cluster([t for _v, t in harmful]) if harmful else []
    campaign_rows = []
    for c in found[:TOP]:
        members = [harmful[i][0].id for i in c.members]
        accounts = {x for a in members for x in shown[a]["props"].get("authorAccount", [])}
        labels = Counter(harmful[i][0].label for i in c.members)
        platforms = tuple(sorted({first[a] for a in members}))
        campaign_rows.append(
            CampaignRow(len(members), len(accounts), platforms, labels.most_common(1)[0][0], members[0])
        )
    refs = summary(store)
    shown_ids = bad | linked | {r["referral_id"] for r in refs}
    return ContentFindings(
        adverts=len(adverts),
        harmful=len(harmful),
        left_out_protected=len(adverts) - len(shown),
        by_label=dict(Counter(v.label for v, _t in harmful)),
        by_platform=sorted(
            ((p, sum(1 for a in bad if first[a] == p), n) for p, n in by_platform.items()), key=lambda r: (-r[1], r[0])
        ),  # fmt: skip
        by_language=sorted(
            ((g, sum(1 for a in bad if lang[a] == g), n) for g, n in by_language.items()), key=lambda r: (-r[1], r[0])
        ),  # fmt: skip
        by_route=routes.most_common(TOP),
        campaigns=campaign_rows,
        hits=hit_rows[:TOP],
        referrals=refs,
        outcomes=outcomes(refs),
        entity_ids=frozenset(shown_ids),
    )
