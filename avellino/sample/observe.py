"""What each partner agency has seen of the true world: which people it holds records on, which calls it
intercepted, which payments, crossings, purchases, adverts, vehicles and route legs it recorded.

Only indices into the world are produced here (numpy arrays); partners.py turns them into each agency's files.
A partner's events refer to people through its own person records, so every reference in its files resolves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from avellino.sample.world import CULTURE_LIST, DAYS, KIND_SHARE, ROLES, R, World

PARTNERS = ("UK-NCA", "FR-OCRIEST", "DE-BPOL", "IT-SCO", "EUROPOL-EMSC")
STYLE = {"UK-NCA": "uk", "FR-OCRIEST": "fr", "DE-BPOL": "de", "IT-SCO": "it", "EUROPOL-EMSC": "eu"}
#: Probability that a partner holds a record on a person, by role (order of world.ROLES).
OBSERVE = {
    "UK-NCA": (0.60, 0.55, 0.50, 0.45, 0.50, 0.55, 0.30, 0.40, 0.50, 0.50),
    "FR-OCRIEST": (0.60, 0.50, 0.50, 0.60, 0.55, 0.40, 0.55, 0.30, 0.50, 0.50),
    "DE-BPOL": (0.40, 0.25, 0.35, 0.35, 0.15, 0.35, 0.60, 0.10, 0.10, 0.0),
    "IT-SCO": (0.35, 0.30, 0.40, 0.30, 0.20, 0.45, 0.20, 0.20, 0.10, 0.0),
    "EUROPOL-EMSC": (0.75, 0.50, 0.60, 0.30, 0.25, 0.70, 0.35, 0.05, 0.0, 0.0),
}
#: Each partner's share of the records of a kind (crossings follow outcomes instead).
SHARES = {
    "calls": {"UK-NCA": 0.35, "FR-OCRIEST": 0.35, "IT-SCO": 0.10, "EUROPOL-EMSC": 0.20},
    "payments": {"UK-NCA": 0.30, "IT-SCO": 0.30, "EUROPOL-EMSC": 0.25, "DE-BPOL": 0.15},
    "purchases": {"DE-BPOL": 0.55, "FR-OCRIEST": 0.45},
    "adverts": {"UK-NCA": 0.5, "EUROPOL-EMSC": 0.5},
    "vehicles": {"FR-OCRIEST": 0.40, "DE-BPOL": 0.35, "UK-NCA": 0.25},
    "legs": {"IT-SCO": 0.55, "DE-BPOL": 0.45},
}
OUTCOMES = ("arrived", "intercepted", "prevented", "capsized", "fatal")
#: Which crossings each side of the Channel records, by outcome (order of OUTCOMES).
CROSSING_SEEN = {"UK-NCA": (0.95, 0.95, 0.0, 0.4, 0.3), "FR-OCRIEST": (0.25, 0.2, 0.95, 0.9, 1.0)}
DUPLICATE_RATE = 0.04  # the same person recorded twice by one agency (two arrests, two aliases)


@dataclass
class Seen:
    """One partner's view. ``rec_person[i]`` is the true person behind person record ``i``; ``primary[p]`` is
    the record events use for person ``p`` (-1 when the partner has none)."""

    partner: str
    rec_person: np.ndarray
    primary: np.ndarray
    events: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)

    def count(self, kind: str) -> int:
        if kind == "persons":
            return len(self.rec_person)
        ev = self.events.get(kind)
        return 0 if not ev else len(next(iter(ev.values())))


def _n(scale: int, kind: str, partner: str) -> int:
    share = SHARES[kind].get(partner, 0.0)
    return round(KIND_SHARE[kind] * scale * share)


def observe(world: World, partner: str, seed: int) -> Seen:
    """Draw one partner's records from the world with the partner's own generator."""
    rng = np.random.default_rng([seed, 2, PARTNERS.index(partner)])
    p = world.people
    prob = np.array(OBSERVE[partner])[p.role]
    # Coerced pilots are first of all migrants to the agencies that meet them.
    coerced = (p.role == R["boat_pilot"]) & p.victim
    prob = np.where(coerced, OBSERVE[partner][R["migrant"]], prob)
    known = rng.random(p.n) < prob
    events: dict[str, dict[str, np.ndarray]] = {}
    if partner in CROSSING_SEEN:
        cr = world.crossings
        seen = rng.random(len(cr["day"])) < np.array(CROSSING_SEEN[partner])[cr["outcome"]]
        idx = np.flatnonzero(seen)
        events["crossings"] = {"crossing": idx}
        # Pilots are arrested on arrival or identified on the beach; most end up on file.
        known[cr["pilot"][idx][rng.random(len(idx)) < 0.8]] = True
    people = np.flatnonzero(known)
    dup = people[rng.random(len(people)) < DUPLICATE_RATE]
    rec_person = rng.permutation(np.concatenate([people, dup]))
    primary = np.full(p.n, -1, dtype=np.int64)
    # Events use the first record of a person; reversed assignment keeps the lowest record number.
    primary[rec_person[::-1]] = np.arange(len(rec_person))[::-1]
    s = Seen(partner, rec_person, primary, events)
    scale = world.scale
    for kind, fn in (
        ("calls", _calls),
        ("payments", _payments),
        ("purchases", _purchases),
        ("adverts", _adverts),
        ("vehicles", _vehicles),
        ("legs", _legs),
    ):
        n = _n(scale, kind, partner)
        if n:
            s.events[kind] = fn(world, s, rng, n)
    return s


def _phone_of(world: World, person: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    p = world.people
    return p.phone_start[person] + (rng.random(len(person)) * p.phone_count[person]).astype(np.int64)


def _instants(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds since 1970: a day of the operation and a time of day leaning to the evening."""
    start = (np.datetime64("2023-01-01") - np.datetime64("1970-01-01")).astype(int) * 86400
    hour = (rng.normal(17, 4.5, n) % 24).astype(np.int64)
    return start + rng.integers(0, DAYS, n) * 86400 + hour * 3600 + rng.integers(0, 3600, n)


def _calls(world: World, s: Seen, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Intercepted calls: on lines of people the partner targets; the other party may be unknown to it."""
    a, b, w = world.edge_a, world.edge_b, world.edge_w
    ok = (s.primary[a] >= 0) | (s.primary[b] >= 0)
    cand = np.flatnonzero(ok)
    pick = cand[rng.choice(len(cand), size=n, p=w[cand] / w[cand].sum())]
    flip = rng.random(n) < 0.5
    caller = np.where(flip, b[pick], a[pick])
    receiver = np.where(flip, a[pick], b[pick])
    swap = s.primary[caller] < 0
    caller, receiver = np.where(swap, receiver, caller), np.where(swap, caller, receiver)
    return {
        "caller": caller,
        "receiver": receiver,
        "caller_phone": _phone_of(world, caller, rng),
        "receiver_phone": _phone_of(world, receiver, rng),
        "at": _instants(rng, n),
        "duration": rng.lognormal(4.2, 1.0, n).astype(np.int64) + 3,
    }


def _payments(world: World, s: Seen, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Payments between two people the partner has on file (a payment names both parties)."""
    ok = np.flatnonzero((s.primary[world.pay_from] >= 0) & (s.primary[world.pay_to] >= 0))
    if not len(ok):
        return {}
    pick = ok[rng.integers(0, len(ok), n)]
    payer, payee = world.pay_from[pick], world.pay_to[pick]
    migrant_pays = world.people.role[payer] == R["migrant"]
    # Fees are paid by hawala or MTO, settlements by hawala, wages and equipment in cash.
    method = np.where(migrant_pays, rng.choice(3, n, p=[0.55, 0.35, 0.10]), rng.choice(3, n, p=[0.5, 0.15, 0.35]))
    return {
        "payer": payer,
        "payee": payee,
        "amount": (world.pay_amount[pick] * rng.uniform(0.8, 1.2, n)).round(-1),
        "method": method,
        "day": rng.integers(0, DAYS, n),
        "currency": rng.choice(3, n, p=[0.55, 0.35, 0.10]),
    }


def _by_role(s: Seen, world: World, roles: tuple[str, ...]) -> np.ndarray:
    p = world.people
    return np.flatnonzero(np.isin(p.role, [R[r] for r in roles]) & (s.primary >= 0))


def _purchases(world: World, s: Seen, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Bulk purchases of boats, engines, life jackets, fuel and pumps: buyers are organisers and suppliers,
    sellers are suppliers (often of another organisation)."""
    buyers = _by_role(s, world, ("organiser", "supplier", "broker"))
    sellers = _by_role(s, world, ("supplier",))
    if not len(buyers):
        return {}
    kind = rng.choice(5, n, p=[0.25, 0.25, 0.25, 0.15, 0.10])
    qty = np.choose(
        kind,
        [
            rng.integers(1, 6, n),
            rng.integers(1, 5, n),
            rng.integers(20, 200, n),
            rng.integers(40, 400, n),
            rng.integers(2, 12, n),
        ],
    )
    unit = np.array([2200.0, 3100.0, 18.0, 1.9, 35.0])[kind]
    return {
        "buyer": buyers[rng.integers(0, len(buyers), n)],
        "seller": sellers[rng.integers(0, len(sellers), n)] if len(sellers) else np.full(n, -1),
        "kind": kind,
        "quantity": qty,
        "amount": (qty * unit * rng.uniform(0.8, 1.3, n)).round(0),
        "day": rng.integers(0, DAYS, n),
        "place": rng.integers(0, 8, n),
        "method": rng.choice(3, n, p=[0.7, 0.2, 0.1]),
    }


#: Language of adverts by the author's culture (index into fields.LANG_CODES: en, ar, ckb, fa, sq, vi).
AD_LANGUAGE = np.array([{"arabic": 1, "sorani": 2, "kurmanji": 2, "persian": 3, "pashto": 3, "albanian": 4,
                         "vietnamese": 5}.get(c, 0) for c in CULTURE_LIST])  # fmt: skip


def _adverts(world: World, s: Seen, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Online adverts by recruiters (all of them, known to the partner or not): trips and fake jobs."""
    p = world.people
    recruiters = np.flatnonzero(p.role == R["recruiter"])
    author = recruiters[rng.integers(0, len(recruiters), n)]
    return {
        "author": author,
        "account": rng.integers(0, 2, n),
        "platform": (author + rng.integers(0, 2, n)) % 5,
        "phone": p.phone_start[author],
        "at": _instants(rng, n),
        "kind": rng.choice(2, n, p=[0.75, 0.25]),
        "price": (rng.normal(1800, 500, n).clip(500, 5000)).round(-2),
        "lang": np.where(rng.random(n) < 0.3, 0, AD_LANGUAGE[p.culture[author]]),
        "post": rng.integers(10**9, 10**10, n),
    }


def _vehicles(world: World, s: Seen, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Cars and vans of drivers, organisers and suppliers on file, with the plate country of the sighting."""
    owners = _by_role(s, world, ("driver", "organiser", "supplier", "broker"))
    if not len(owners):
        return {}
    owner = owners[rng.integers(0, len(owners), n)]
    # The vehicle number is a property of the owner, so two partners can sight the same van.
    return {"owner": owner, "vehicle": owner * 2 + rng.integers(0, 2, n), "model": rng.integers(0, 10, n)}


ROUTES = (
    (
        "Western Balkans",
        (
            "Kabul",
            "Herat",
            "Tehran",
            "Van",
            "Istanbul",
            "Edirne",
            "Sofia",
            "Belgrade",
            "Subotica",
            "Budapest",
            "Vienna",
            "Munich",
            "Paris",
            "Dunkerque",
        ),
    ),
    (
        "Eastern Mediterranean",
        (
            "Erbil",
            "Istanbul",
            "Izmir",
            "Samos",
            "Athens",
            "Thessaloniki",
            "Skopje",
            "Belgrade",
            "Zagreb",
            "Ljubljana",
            "Milan",
            "Ventimiglia",
            "Paris",
            "Calais",
        ),
    ),
    (
        "Central Mediterranean",
        (
            "Khartoum",
            "Kufra",
            "Tripoli",
            "Zuwara",
            "Lampedusa",
            "Agrigento",
            "Rome",
            "Milan",
            "Ventimiglia",
            "Lyon",
            "Paris",
            "Calais",
        ),
    ),
    ("Eastern land route", ("Hanoi", "Moscow", "Minsk", "Warsaw", "Berlin", "Hamburg", "Brussels", "Calais")),
    ("Channel", ("Tirana", "Durres", "Bari", "Milan", "Paris", "Lille", "Gravelines")),
)


def _legs(world: World, s: Seen, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Route legs of migrant groups: consecutive stops of a route, run by a driver or broker."""
    p = world.people
    operators = np.flatnonzero(np.isin(p.role, [R["driver"], R["broker"]]))
    migrants = np.flatnonzero(p.role == R["migrant"])
    route = rng.integers(0, len(ROUTES), n)
    lengths = np.array([len(r[1]) for r in ROUTES])
    stop = (rng.random(n) * (lengths[route] - 1)).astype(np.int64)
    operator = operators[rng.integers(0, len(operators), n)]
    traveller = migrants[rng.integers(0, len(migrants), n)]
    start = rng.integers(0, DAYS - 5, n)
    return {
        "route": route,
        "stop": stop,
        "operator": operator,
        "traveller": traveller,
        "start": start,
        "end": start + rng.integers(0, 4, n),
        "transport": rng.integers(0, 6, n),
        "people": rng.integers(3, 45, n),
    }


def subject_category(world: World, s: Seen, rng: np.random.Generator) -> np.ndarray:
    """The data-subject category each person record carries at this partner (object array of strings).

    Offenders are suspects (some potential offenders or contacts); migrants victims; coerced pilots are often
    recorded as suspects by the agency that arrested them, which is exactly what the truth file corrects."""
    role = world.people.role[s.rec_person]
    victim = world.people.victim[s.rec_person]
    u = rng.random(len(role))
    off = np.where(u < 0.8, "suspect", np.where(u < 0.93, "potential_offender", "contact"))
    cat = np.where(victim, "victim", off)
    cat = np.where(role == R["witness"], "witness", cat)
    cat = np.where(role == R["informant"], "informant", cat)
    arrested = (role == R["boat_pilot"]) & victim & (u < 0.7) & (s.partner in ("UK-NCA", "FR-OCRIEST"))
    return np.where(arrested, "suspect", cat).astype(object)


__all__ = ["OUTCOMES", "PARTNERS", "ROLES", "ROUTES", "STYLE", "Seen", "observe", "subject_category"]
