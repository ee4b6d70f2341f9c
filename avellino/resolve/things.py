"""Resolution of everything that is not a person: organisations, vehicles, vessels, bank accounts, user accounts.

These entities carry identifiers that were made to be unique (an IMO number, an IBAN, a number plate), so a
probabilistic model would add little: a few explainable rules decide instead, and every edge records the rule
and the value that joined the pair, for ``resolve explain``.

* **Decisive** (``strong``): an exact normalised identifier shared by both records (``imo:9074729``).
* **Conflict**: both records know an identifier of the same type (or a ``conflict_only`` attribute such as a
  vehicle's country or a company's jurisdiction) and share none of its values: no edge, whatever else agrees.
* **Names** (organisations and vessels only): normalised names (organisation types removed with
  ``rigour.names``, folded to ASCII, tokens sorted) with Jaro-Winkler >= ``NAME_ALONE`` and no conflict, or >=
  ``NAME_SUPPORTED`` with a shared supporting value (an organisation's phone, e-mail or address; a vessel's call
  sign). Phones and addresses alone never join: front companies share them on purpose.

Clustering and stable ids reuse ``clusters.py``, so analysts' judgements (``resolve judge``) apply here too.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import pandas as pd

from avellino.resolve import identifiers as ids

NAME_ALONE = 0.95  # Jaro-Winkler on normalised names needed when nothing else supports the pair
NAME_SUPPORTED = 0.85  # ... when a phone, e-mail, address or call sign is shared
# name keys (words and pairs of words) are taken from the rarest up while the pairs they make stay within this many
# per record of the kind, at least NAME_PAIRS_FLOOR: a cost bound (as model.PAIRS_PER_RECORD_BUDGET), not a
# quality parameter, so blocking grows with the data instead of dropping words above a fixed block size
NAME_PAIRS_PER_RECORD = 10
NAME_PAIRS_FLOOR = 200_000
RARE_TOKEN = 5  # a name joins alone only if one of its words is held by at most this many records of its kind

Normaliser = Callable[[str, str | None], str | None]


def _doc(value: str, country: str | None) -> str | None:
    return ids.normalise_document(value)


def _plate(value: str, country: str | None) -> str | None:
    # no country prefix here: partners often omit the country; a known, different country is a conflict instead
    return ids.normalise_document(value)


def _phone(value: str, country: str | None) -> str | None:
    return ids.normalise_phone(value, country)


def _lower(value: str, country: str | None) -> str | None:
    text = re.sub(r"\s+", " ", str(value)).strip().lower()
    return text or None


def _country(value: str, country: str | None) -> str | None:
    return ids.region_code(value)


def _bank(value: str, country: str | None) -> str | None:
    """A BIC's bank + country code (first six characters): the branch suffix differs between partners."""
    text = ids.normalise_document(value)
    return text[:6] if text and len(text) >= 6 else None


def _one(fn: Callable[[str | None], str | None]) -> Normaliser:
    return lambda value, country: fn(value)


@dataclass(frozen=True)
class Kind:
    """How one family of schemata is matched: identifier types are ``{type: (props, normaliser)}``."""

    name: str
    schemata: tuple[str, ...]
    strong: dict[str, tuple[tuple[str, ...], Normaliser]]
    conflict_only: dict[str, tuple[tuple[str, ...], Normaliser]] = field(default_factory=dict)
    supporting: dict[str, tuple[tuple[str, ...], Normaliser]] = field(default_factory=dict)
    names: bool = False


KINDS = (
    Kind(
        "organisation",
        ("Organization", "Company", "LegalEntity", "PublicBody"),
        strong={
            "registration": (("registrationNumber", "idNumber"), _doc),
            "tax": (("taxNumber", "vatCode", "innCode"), _doc),
            "lei": (("leiCode",), _doc),
            "ogrn": (("ogrnCode",), _doc),
            "imo": (("imoNumber",), _one(ids.normalise_imo)),
        },
        conflict_only={"jurisdiction": (("jurisdiction",), _country)},
        supporting={
            "phone": (("phone",), _phone),
            "email": (("email",), _one(ids.normalise_email)),
            "address": (("address",), _lower),
        },
        names=True,
    ),
    Kind(
        "vehicle",
        ("Vehicle", "Airplane"),
        strong={"plate": (("registrationNumber",), _plate)},
        conflict_only={"country": (("country",), _country)},
    ),
    Kind(
        "vessel",
        ("Vessel",),
        strong={
            "imo": (("imoNumber",), _one(ids.normalise_imo)),
            "mmsi": (("mmsi",), _one(ids.normalise_mmsi)),
            "registration": (("registrationNumber",), _doc),  # national registry / hull number
        },
        supporting={"call_sign": (("callSign",), _doc)},  # a flag is shared by thousands: no support
        names=True,
    ),
    Kind(
        "bank_account",
        ("BankAccount",),
        strong={"iban": (("iban",), _one(ids.normalise_iban)), "account": (("accountNumber",), _doc)},
        conflict_only={"bank": (("bic",), _bank)},
    ),
    Kind("user_account", ("UserAccount",), strong={"account": (("service", "username"), _doc)}),
)
SCHEMATA = tuple(s for kind in KINDS for s in kind.schemata)
EDGE_COLUMNS = ["id_l", "id_r", "match_probability", "kind", "rule", "evidence"]


@lru_cache(maxsize=100_000)
def normalise_name(name: str) -> str:
    """``ACME Trading Limited`` and ``Acme trading Ltd.`` -> ``acme trading``: org types out, ASCII, sorted."""
    from normality import ascii_text
    from rigour.names import remove_org_types

    text = ascii_text(remove_org_types(name.casefold())) or ""
    return " ".join(sorted(re.findall(r"[a-z0-9]+", text.lower())))


def _name_similarity(a: Iterable[str], b: Iterable[str]) -> float:
    from rigour.text.distance import jaro_winkler

    return max((1.0 if x == y else jaro_winkler(x, y) for x in a for y in b), default=0.0)


def records(statements: pd.DataFrame) -> pd.DataFrame:
    """One row per entity: ``entity_id, kind, names`` and one set column per identifier type."""
    kind_of = {s: kind for kind in KINDS for s in kind.schemata}
    rows = []
    for (entity_id, schema), group in statements.groupby(["entity_id", "schema"], sort=True):
        kind = kind_of[schema]
        values = group.groupby("prop")["value"].agg(list).to_dict()
        country = next(iter(values.get("country", []) + values.get("jurisdiction", []) + [None]))
        region = _country(country, None) if country else None
        if region is None:
            region = _originator_region(group["originator"].iloc[0])
        row: dict[str, Any] = {"entity_id": entity_id, "kind": kind.name}
        for family in (kind.strong, kind.conflict_only, kind.supporting):
            for id_type, (props, fn) in family.items():
                row[id_type] = _values(values, props, fn, region, joined=kind.name == "user_account")
        names = {normalise_name(v) for v in values.get("name", []) + values.get("alias", [])} if kind.names else set()
        row["names"] = frozenset(n for n in names if n)
        rows.append(row)
    return pd.DataFrame(rows)


def _values(
    values: dict[str, list[str]], props: tuple[str, ...], fn: Normaliser, region: str | None, joined: bool
) -> frozenset[str]:
    if joined:  # a user account is its service and username together: "bob" on Telegram is not "bob" on Signal
        service = next(iter(values.get(props[0], [])), "")
        accounts = {f"{_lower(service, None) or '?'}:{u.strip().lstrip('@').lower()}" for u in values.get(props[1], [])}
        return frozenset(v for v in accounts if not v.endswith(":"))
    out = {fn(v, region) for p in props for v in values.get(p, [])}
    return frozenset(v for v in out if v)


def _originator_region(originator: Any) -> str | None:
    if not isinstance(originator, str) or len(originator) < 3 or originator[2] != "-":
        return None
    return ids.region_code(originator[:2])


def _name_keys(names: Iterable[str]) -> set[str]:
    """Block keys of a record's names: each word, and each pair of words of one name (``inflatable`` and ``boat``
    are common, ``boat|nordwind`` is not)."""
    keys: set[str] = set()
    for name in names:
        words = sorted(set(name.split()))
        keys.update("token:" + w for w in words)
        keys.update(f"tokens:{a}|{b}" for i, a in enumerate(words) for b in words[i + 1 :])
    return keys


def _within_budget(groups: Mapping[str, list[str]], budget: float) -> list[list[str]]:
    """Groups taken from the smallest up while the pairs they make (k(k-1)/2 each) stay within ``budget``."""
    ordered = sorted((len(set(m)), key) for key, m in groups.items() if len(set(m)) > 1)
    kept: list[list[str]] = []
    used = 0.0
    for size, key in ordered:
        cost = size * (size - 1) / 2
        if used + cost > budget:
            break
        used += cost
        kept.append(sorted(set(groups[key])))
    return kept


def name_pair_budget(records: int) -> float:
    return float(max(NAME_PAIRS_FLOOR, NAME_PAIRS_PER_RECORD * records))


def candidate_pairs(recs: pd.DataFrame, kind: Kind) -> set[tuple[str, str]]:
    """Pairs sharing a strong or supporting value (always), or (named kinds) a name key within the budget.

    Name keys (words, pairs of words) are taken from the rarest up while their pairs stay within
    ``name_pair_budget``: a rare word always blocks (a name joins alone only with a word held by at most
    ``RARE_TOKEN`` records), a common word blocks while the data can afford it, and paired with another word
    otherwise. Identifier and supporting values are never dropped: every pair that a decisive identifier or a
    name with support would join is compared, at any size."""
    id_keys: dict[str, list[str]] = {}
    name_keys: dict[str, list[str]] = {}
    for row in recs.itertuples(index=False):
        for id_type in [*kind.strong, *kind.supporting]:
            for value in getattr(row, id_type):
                id_keys.setdefault(f"{id_type}:{value}", []).append(row.entity_id)
        if kind.names:
            for key in _name_keys(row.names):
                name_keys.setdefault(key, []).append(row.entity_id)
    pairs: set[tuple[str, str]] = set()
    groups = [sorted(set(m)) for m in id_keys.values()] + _within_budget(name_keys, name_pair_budget(len(recs)))
    for members in groups:
        pairs.update(itertools.combinations(members, 2))
    return pairs


def closure_pairs(found: pd.DataFrame, budget: float) -> set[tuple[str, str]]:
    """Pairs inside each group of records the rules joined (directly or through a chain) that were not compared.

    A conflict matters only between records a chain could put in one cluster, so those pairs are compared
    whatever the blocking reached (smallest groups first, within ``budget``): the clustering then gets every
    conflict it needs as a cannot-link."""
    joined = found[found["match_probability"] >= 0.5]
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(joined["id_l"], joined["id_r"], strict=True):
        parent[root(a)] = root(b)
    groups: dict[str, list[str]] = {}
    for x in list(parent):
        groups.setdefault(root(x), []).append(x)
    seen = set(zip(found["id_l"], found["id_r"], strict=True))
    return {pair for members in _within_budget(groups, budget) for pair in itertools.combinations(members, 2)} - seen


def compare(left: Any, right: Any, kind: Kind, token_counts: Mapping[str, int] | None = None) -> dict[str, Any]:
    """The rule deciding one pair: ``rule`` (``imo``, ``name``, ``name+phone``, ``conflict:imo``, ``none``).

    ``token_counts`` (records per name word, within the kind) keeps descriptions out of name-only joins: nine
    partners' "inflatable boat 10 m" are nine boats, and no word of that name is rare."""
    for id_type in [*kind.strong, *kind.conflict_only]:
        a, b = getattr(left, id_type), getattr(right, id_type)
        if a and b and not a & b:
            return {"match_probability": 0.0, "rule": f"conflict:{id_type}", "evidence": _show(a, b)}
    for id_type in kind.strong:
        shared = getattr(left, id_type) & getattr(right, id_type)
        if shared:
            return {"match_probability": 1.0, "rule": id_type, "evidence": ", ".join(sorted(shared))}
    if kind.names and left.names and right.names:
        sim = _name_similarity(left.names, right.names)
        support = [t for t in kind.supporting if getattr(left, t) & getattr(right, t)]
        evidence = f"names {sorted(left.names)} vs {sorted(right.names)}: jaro-winkler {sim:.3f}"
        if _digits(left.names) != _digits(right.names):  # "Sea Star II" is not "Sea Star III", nor 10 m 11 m
            return {"match_probability": 0.0, "rule": "none", "evidence": f"{evidence}; numbers differ"}
        words = [t for n in left.names for t in n.split() if not t.isdigit()]
        rarest = min((token_counts or {}).get(t, 1) for t in words) if words else RARE_TOKEN + 1
        if sim >= NAME_ALONE and rarest <= RARE_TOKEN:
            return {"match_probability": 1.0, "rule": "name", "evidence": evidence}
        if sim >= NAME_ALONE:
            evidence += f"; name too common alone (rarest word in {rarest} records)"
        if sim >= NAME_SUPPORTED and support:
            shared = "; ".join(f"{t} {', '.join(sorted(getattr(left, t) & getattr(right, t)))}" for t in support)
            return {"match_probability": 1.0, "rule": "name+" + "+".join(support), "evidence": f"{evidence}; {shared}"}
        return {"match_probability": 0.0, "rule": "none", "evidence": evidence}
    return {"match_probability": 0.0, "rule": "none", "evidence": ""}


def _digits(names: Iterable[str]) -> set[str]:
    return {t for n in names for t in n.split() if t.isdigit()}


def _show(a: frozenset[str], b: frozenset[str]) -> str:
    return ", ".join(sorted(a)) + " vs " + ", ".join(sorted(b))


def edges(recs: pd.DataFrame) -> pd.DataFrame:
    """Every candidate pair of every kind with its deciding rule (probability 1 = join, 0 = not)."""
    out = []
    for kind in KINDS:
        sub = recs[recs["kind"] == kind.name]
        if len(sub) < 2:
            continue
        by_id = {row.entity_id: row for row in sub.itertuples(index=False)}
        counts = Counter(t for names in sub["names"] for t in {t for n in names for t in n.split()})
        rows = [
            {"id_l": a, "id_r": b, "kind": kind.name, **compare(by_id[a], by_id[b], kind, counts)}
            for a, b in sorted(candidate_pairs(sub, kind))
        ]
        found = pd.DataFrame(rows, columns=EDGE_COLUMNS)
        rows += [
            {"id_l": a, "id_r": b, "kind": kind.name, **compare(by_id[a], by_id[b], kind, counts)}
            for a, b in sorted(closure_pairs(found, name_pair_budget(len(sub))))
        ]
        out += rows
    return mark_ambiguous(pd.DataFrame(out, columns=EDGE_COLUMNS))


def mark_ambiguous(found: pd.DataFrame) -> pd.DataFrame:
    """A record that would join both sides of a conflict (``Acme Logistics`` with no jurisdiction, next to a
    British and a German one) joins neither: which one it is cannot be told, and guessing by order is arbitrary."""
    joins = found[found["match_probability"] >= 0.5]
    neighbours: dict[str, set[str]] = {}
    for a, b in zip(joins["id_l"], joins["id_r"], strict=True):
        neighbours.setdefault(a, set()).add(b)
        neighbours.setdefault(b, set()).add(a)
    conflicts = found[found["rule"].str.startswith("conflict:")]
    ambiguous: set[tuple[str, str]] = set()
    for a, b in zip(conflicts["id_l"], conflicts["id_r"], strict=True):
        for x in neighbours.get(a, set()) & neighbours.get(b, set()):
            ambiguous.update({tuple(sorted((x, a))), tuple(sorted((x, b)))})  # type: ignore[arg-type]
    if not ambiguous:
        return found
    hit = [(a, b) in ambiguous for a, b in zip(found["id_l"], found["id_r"], strict=True)]
    found = found.copy()
    found.loc[hit, "rule"] = "ambiguous:" + found.loc[hit, "rule"]
    found.loc[hit, "match_probability"] = 0.0
    return found


THING_EDGES, THING_CLUSTERS = "resolve_thing_edges", "resolve_thing_clusters"


def run(store: Any, log: pd.DataFrame) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """Resolve every non-person entity; returns the summary and ``entity_id, cluster_id`` (None if none).

    Rules are cheap, so every run rescores all pairs (no incremental edges): a changed rule or a new record
    is always reflected; stable ids come from the previous clusters as for persons.
    """
    import pyarrow as pa

    from avellino.resolve import clusters as cl

    table = store.read_statements(
        schemata=list(SCHEMATA), columns=["entity_id", "schema", "prop", "value", "originator"]
    )
    statements = table.to_pandas()
    if statements.empty:
        return {"records": 0, "clusters": 0}, None
    recs = records(statements)
    found = edges(recs)
    previous_table = store.read_table(THING_CLUSTERS)
    previous = previous_table.to_pandas() if previous_table is not None and previous_table.num_rows else None
    result = cl.resolve_clusters(recs["entity_id"], found, with_conflicts(log, found), previous, 0.5)
    kinds = recs.set_index("entity_id")["kind"]
    result["kind"] = result["entity_id"].map(kinds)
    store.write_table(THING_EDGES, pa.Table.from_pandas(found, preserve_index=False))
    store.write_table(THING_CLUSTERS, pa.Table.from_pandas(result, preserve_index=False))
    joined = found[found["match_probability"] >= 0.5]
    sizes = result.groupby("cluster_id").size()
    summary = {
        "records": len(recs),
        "by_kind": {k: int(n) for k, n in kinds.value_counts().sort_index().items()},
        "pairs_compared": len(found),
        "pairs_joined_by_rule": {k: int(n) for k, n in joined["rule"].value_counts().sort_index().items()},
        "pairs_blocked_by_conflict": int(found["rule"].str.startswith("conflict:").sum()),
        "clusters": int(len(sizes)),
        "merged_clusters": int((sizes > 1).sum()),
    }
    return summary, result[["entity_id", "cluster_id"]]


def with_conflicts(log: pd.DataFrame, found: pd.DataFrame) -> pd.DataFrame:
    """The judgement log plus a ``negative`` row per conflicting pair, so that no chain joins them either
    (A~C~B with A, B holding different IMO numbers); a pair an analyst judged keeps the analyst's verdict."""
    from avellino.resolve.clusters import JUDGEMENT_COLUMNS, effective_judgements

    conflicts = found[found["rule"].str.startswith("conflict:")]
    judged = set(zip(*(effective_judgements(log)[c] for c in ("left_id", "right_id")), strict=True))
    rows = [
        dict.fromkeys(JUDGEMENT_COLUMNS, "")
        | {"judgement_id": f"rule:{a}:{b}", "left_id": a, "right_id": b, "verdict": "negative", "retracts": None}
        for a, b in zip(conflicts["id_l"], conflicts["id_r"], strict=True)
        if (a, b) not in judged
    ]
    return pd.concat([log, pd.DataFrame(rows, columns=JUDGEMENT_COLUMNS)], ignore_index=True) if rows else log


def explain(store: Any, a: str, b: str, log: pd.DataFrame) -> dict[str, Any] | None:
    """The rule that decided ``a``/``b`` when both are non-person entities, else None."""
    from avellino.resolve.clusters import effective_judgements

    clusters_table = store.read_table(THING_CLUSTERS)
    if clusters_table is None:
        return None
    clusters = clusters_table.to_pandas().set_index("entity_id")
    if a not in clusters.index or b not in clusters.index:
        return None
    lo, hi = sorted((a, b))
    edge_table = store.read_table(THING_EDGES)
    found = edge_table.to_pandas() if edge_table is not None else pd.DataFrame(columns=EDGE_COLUMNS)
    hit = found[(found["id_l"] == lo) & (found["id_r"] == hi)]
    eff = effective_judgements(log)
    applied = eff[(eff["left_id"] == lo) & (eff["right_id"] == hi)]
    history = log[(log["left_id"] == lo) & (log["right_id"] == hi)].to_dict("records") if not log.empty else []
    rule = hit.iloc[0].to_dict() if len(hit) else None
    left_cluster, right_cluster = clusters.loc[a, "cluster_id"], clusters.loc[b, "cluster_id"]
    return {
        "left": a,
        "right": b,
        "kind": clusters.loc[a, "kind"],
        "compared_by_model": False,
        "compared_by_rule": rule is not None,
        "rule": rule["rule"] if rule else None,
        "evidence": rule["evidence"] if rule else None,
        "steps": [],
        "match_weight": None,
        "match_probability": float(rule["match_probability"]) if rule else None,
        "identifiers": {},
        "judgement": applied["verdict"].iloc[0] if len(applied) else None,
        "judgement_history": history,
        "cluster_left": left_cluster,
        "cluster_right": right_cluster,
        "same_cluster": bool(left_cluster == right_cluster),
    }
