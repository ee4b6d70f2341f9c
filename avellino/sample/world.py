"""The true world behind the sample: who exists, who does what, who talks to and pays whom.

Everything is a numpy array indexed by true person / crossing / vessel number, drawn from one seeded generator, so
a million-person world is built in seconds and is identical for the same seed. Partners (partners.py) only observe
slices of it and write them in their own formats; the truth files are read straight from here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from avellino.sample.namedata import CULTURES, MIGRANT_NATIONALITIES, OFFENDER_NATIONALITIES
from avellino.sample.names import NameTables

ROLES = (
    "organiser", "recruiter", "broker", "driver", "boat_pilot", "financier", "supplier", "migrant", "witness",
    "informant",
)  # fmt: skip
R = {name: i for i, name in enumerate(ROLES)}
#: Share of each role among the non-migrant people of an organisation.
OFFENDER_MIX = {
    "organiser": 0.04, "financier": 0.07, "recruiter": 0.18, "broker": 0.10, "driver": 0.30, "boat_pilot": 0.12,
    "supplier": 0.10, "witness": 0.05, "informant": 0.04,
}  # fmt: skip
#: How central each role is: weight when drawing contacts, calls and payments.
HUB_WEIGHT = np.array([8.0, 3.0, 5.0, 1.5, 1.0, 6.0, 2.0, 0.3, 0.3, 0.5])
NATIONS = tuple(dict.fromkeys([*MIGRANT_NATIONALITIES, *OFFENDER_NATIONALITIES]))
START = np.datetime64("2023-01-01")
DAYS = 730  # the operation covers 2023-2024

#: Record budget per kind as a share of ``scale``; persons calibrate the population size.
KIND_SHARE = {
    "persons": 0.22, "calls": 0.38, "payments": 0.14, "crossings": 0.04, "purchases": 0.04, "adverts": 0.06,
    "vehicles": 0.03, "legs": 0.09,
}  # fmt: skip


@dataclass
class People:
    role: np.ndarray  # int8 index into ROLES
    org: np.ndarray  # int32
    nation: np.ndarray  # int8 index into NATIONS
    culture: np.ndarray  # int8 index into NameTables cultures order (CULTURE_LIST)
    female: np.ndarray  # bool
    given: np.ndarray  # int32 token ids
    father: np.ndarray
    family: np.ndarray  # -1: the culture has no family names (the father's name serves)
    dob: np.ndarray  # int32 days since 1970-01-01
    victim: np.ndarray  # bool: migrants and coerced boat pilots
    phone_start: np.ndarray  # int64 into phones
    phone_count: np.ndarray

    @property
    def n(self) -> int:
        return len(self.role)


@dataclass
class World:
    seed: int
    scale: int
    orgs: int
    people: People
    phone_owner: np.ndarray
    phone_plan: np.ndarray  # int8 index into render.PHONE_PLANS
    phone_local: np.ndarray  # int64: the subscriber digits after the plan's prefix
    edge_a: np.ndarray  # contacts (undirected), weight = call intensity
    edge_b: np.ndarray
    edge_w: np.ndarray
    pay_from: np.ndarray  # money relationships (directed), with a typical amount
    pay_to: np.ndarray
    pay_amount: np.ndarray
    crossings: dict[str, np.ndarray]


CULTURE_LIST = tuple(sorted({c for mix in CULTURES.values() for c, _ in mix}))


def population_sizes(scale: int) -> tuple[int, int, int]:
    """(offenders, migrants, organisations) so that partner person records come to about 22 % of ``scale``.

    Offenders are seen by ~2.2 partners on average, migrants by ~1.05 (see partners.OBSERVE); at 2,000 records this
    gives one organisation of ~110 people around ~250 migrants. Larger operations hold more organisations.
    """
    budget = KIND_SHARE["persons"] * scale
    offenders = max(30, round(budget / (2.2 + 2.3 * 1.05)))
    migrants = max(60, round(offenders * 2.3))
    orgs = max(1, round(math.sqrt(scale / 2000)))
    return offenders, migrants, orgs


def _pick(rng: np.random.Generator, weights: dict[str, float], n: int, keys: tuple[str, ...]) -> np.ndarray:
    p = np.array([weights.get(k, 0.0) for k in keys])
    return rng.choice(len(keys), size=n, p=p / p.sum()).astype(np.int8)


def _people(rng: np.random.Generator, n_off: int, n_mig: int, n_orgs: int, names: NameTables) -> People:
    n = n_off + n_mig
    role = np.empty(n, dtype=np.int8)
    role[:n_off] = _pick(rng, OFFENDER_MIX, n_off, ROLES)
    role[n_off:] = R["migrant"]
    org = np.concatenate([np.arange(n_off) % n_orgs, rng.integers(0, n_orgs, n_mig)]).astype(np.int32)
    # Every organisation has its head, its money man and its supplier.
    for k, forced in enumerate(("organiser", "financier", "supplier", "recruiter", "broker")):
        role[k * n_orgs : (k + 1) * n_orgs][: max(0, min(n_orgs, n_off - k * n_orgs))] = R[forced]
    nation = np.empty(n, dtype=np.int8)
    nation[:n_off] = _pick(rng, OFFENDER_NATIONALITIES, n_off, NATIONS)
    nation[n_off:] = _pick(rng, MIGRANT_NATIONALITIES, n_mig, NATIONS)
    culture = np.empty(n, dtype=np.int8)
    for i, nat in enumerate(NATIONS):
        sel = np.flatnonzero(nation == i)
        mix = dict(CULTURES[nat])
        culture[sel] = _pick(rng, mix, len(sel), CULTURE_LIST)
    female = rng.random(n) < np.where(role == R["migrant"], 0.18, 0.08)
    given = np.empty(n, dtype=np.int32)
    father = np.empty(n, dtype=np.int32)
    family = np.full(n, -1, dtype=np.int32)
    for ci, cname in enumerate(CULTURE_LIST):
        sel = culture == ci
        male_pool, female_pool, family_pool = names.pools[cname]
        # Zipf-like popularity: a few names (Muhammad, Ahmad...) are very common, as in real files.
        given[sel] = np.where(female[sel], _zipf(rng, female_pool, sel.sum()), _zipf(rng, male_pool, sel.sum()))
        father[sel] = _zipf(rng, male_pool, sel.sum())
        if len(family_pool):
            family[sel] = _zipf(rng, family_pool, sel.sum())
    age = np.where(role == R["migrant"], rng.integers(16, 45, n), rng.integers(22, 58, n))
    dob = ((np.datetime64("2024-01-01") - START).astype(int) - age * 365.25 - rng.integers(0, 365, n)).astype(np.int32)
    dob = dob + (START - np.datetime64("1970-01-01")).astype(int)
    victim = role == R["migrant"]
    phone_count = np.where(role == R["migrant"], rng.integers(1, 3, n), rng.integers(1, 4, n)).astype(np.int64)
    phone_start = np.concatenate([[0], np.cumsum(phone_count)[:-1]]).astype(np.int64)
    return People(role, org, nation, culture, female, given, father, family, dob.astype(np.int32), victim,
                  phone_start, phone_count)  # fmt: skip


def _zipf(rng: np.random.Generator, pool: np.ndarray, n: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, len(pool) + 1) ** 0.8
    return pool[rng.choice(len(pool), size=int(n), p=weights / weights.sum())]


def _within_org(rng: np.random.Generator, org: np.ndarray, weight: np.ndarray, src_org: np.ndarray) -> np.ndarray:
    """For each entry of ``src_org``, a person of that organisation drawn with probability ∝ ``weight``.

    Vectorised: people are sorted by organisation, each organisation owns a slice of the cumulative weight, and a
    uniform draw inside that slice is found with searchsorted.
    """
    order = np.argsort(org, kind="stable")
    cum = np.cumsum(weight[order])
    org_sorted = org[order]
    ends = np.searchsorted(org_sorted, np.arange(org.max() + 2), side="left")
    lo = np.where(ends[src_org] > 0, cum[np.maximum(ends[src_org] - 1, 0)], 0.0)
    lo = np.where(ends[src_org] == 0, 0.0, lo)
    hi = cum[np.maximum(ends[src_org + 1] - 1, 0)]
    u = lo + rng.random(len(src_org)) * (hi - lo)
    return order[np.minimum(np.searchsorted(cum, u, side="right"), len(cum) - 1)]


def _edges(rng: np.random.Generator, p: People) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contacts: each offender knows a few people of their organisation (hubs preferred), brokers bridge
    organisations, every migrant knows the recruiter and the driver that handle them."""
    off = np.flatnonzero(p.role != R["migrant"])
    w_off = np.where(p.role == R["migrant"], 0.0, HUB_WEIGHT[p.role])
    deg = 1 + rng.poisson(2.5, len(off))
    src = np.repeat(off, deg)
    dst = _within_org(rng, p.org, w_off, p.org[src])
    brokers = np.flatnonzero(p.role == R["broker"])
    n_bridge = max(1, len(brokers) // 2)
    bridge_a = rng.choice(brokers, n_bridge) if len(brokers) else np.zeros(0, dtype=np.int64)
    bridge_b = rng.choice(brokers, n_bridge) if len(brokers) else np.zeros(0, dtype=np.int64)
    mig = np.flatnonzero(p.role == R["migrant"])
    rec_w = np.where(p.role == R["recruiter"], 1.0, 0.0) + 1e-9
    drv_w = np.where(p.role == R["driver"], 1.0, 0.0) + 1e-9
    recruiter = _within_org(rng, p.org, rec_w, p.org[mig])
    driver = _within_org(rng, p.org, drv_w, p.org[mig])
    a = np.concatenate([src, bridge_a, mig, mig])
    b = np.concatenate([dst, bridge_b, recruiter, driver])
    keep = a != b
    a, b = a[keep], b[keep]
    w = HUB_WEIGHT[p.role[a]] * HUB_WEIGHT[p.role[b]] * rng.lognormal(0.0, 0.7, len(a))
    w[p.role[a] == R["migrant"]] *= 0.05
    return a.astype(np.int64), b.astype(np.int64), w


def _money(rng: np.random.Generator, p: People) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Who pays whom: migrants pay recruiters or financiers (the trip fee), financiers settle with each other
    through hawala, organisers pay suppliers, drivers and pilots."""
    mig = np.flatnonzero(p.role == R["migrant"])
    payee_role = np.where(rng.random(len(mig)) < 0.6, R["recruiter"], R["financier"])
    payee = np.empty(len(mig), dtype=np.int64)
    for r in (R["recruiter"], R["financier"]):
        sel = payee_role == r
        payee[sel] = _within_org(rng, p.org, (p.role == r) + 1e-9, p.org[mig[sel]])
    fee = rng.normal(2200, 600, len(mig)).clip(600, 6000).round(-1)
    parts = [(mig, payee, fee)]
    for payer_role, payee_roles, mean in (
        ("financier", ("financier",), 25000), ("organiser", ("supplier", "driver", "boat_pilot"), 3000),
        ("financier", ("organiser",), 12000), ("recruiter", ("financier",), 6000),
    ):  # fmt: skip
        payers = np.flatnonzero(p.role == R[payer_role])
        if not len(payers):
            continue
        payers = np.repeat(payers, 3)
        w = np.isin(p.role, [R[x] for x in payee_roles]) + 1e-9
        payees = _within_org(rng, p.org, w, p.org[payers])
        if payer_role == "financier" and payee_roles == ("financier",):
            payees = rng.choice(np.flatnonzero(p.role == R["financier"]), len(payers))  # hawala crosses orgs
        parts.append((payers, payees, rng.lognormal(np.log(mean), 0.5, len(payers)).round(-1)))
    a = np.concatenate([x[0] for x in parts])
    b = np.concatenate([x[1] for x in parts])
    amt = np.concatenate([x[2] for x in parts])
    keep = a != b
    return a[keep], b[keep], amt[keep]


def _crossings(rng: np.random.Generator, p: People, scale: int) -> dict[str, np.ndarray]:
    """Small-boat crossings: seasonal dates, 40-70 aboard, a pilot who is often a coerced migrant."""
    n = max(10, round(KIND_SHARE["crossings"] * scale / 1.35))
    org = rng.integers(0, p.org.max() + 1, n)
    season = 1.0 + 0.8 * np.sin((np.arange(DAYS) / 365.25 * 2 * np.pi) - 1.6)
    day = rng.choice(DAYS, size=n, p=season / season.sum())
    coerced = rng.random(n) < 0.6
    mig_w = (p.role == R["migrant"]) + 1e-9
    pil_w = (p.role == R["boat_pilot"]) + 1e-9
    pilot = np.where(coerced, _within_org(rng, p.org, mig_w, org), _within_org(rng, p.org, pil_w, org))
    # Coerced pilots are migrants who steered: the truth gives them the boat_pilot role, still victims.
    p.role[pilot[coerced]] = R["boat_pilot"]
    p.victim[pilot[coerced]] = True
    org_w = np.isin(p.role, [R["organiser"], R["broker"]]) + 1e-9
    outcome = rng.choice(5, size=n, p=[0.55, 0.08, 0.30, 0.05, 0.02])
    return {
        "org": org, "day": day, "departure": rng.integers(0, 16, n), "arrival": rng.integers(0, 7, n),
        "engine": rng.integers(0, 8, n), "people": (40 + rng.gamma(4, 4, n)).astype(np.int32).clip(8, 90),
        "pilot": pilot, "organiser": _within_org(rng, p.org, org_w, org), "outcome": outcome,
        "hull": rng.integers(10_000, 99_999, n), "boat_len": rng.integers(7, 13, n),
        "deaths": np.where(outcome == 4, rng.integers(1, 9, n), 0),
    }  # fmt: skip


def build_world(scale: int, seed: int, names: NameTables) -> World:
    """Draw the whole operation. Phones are unique: an affine permutation of the subscriber space avoids
    collisions without keeping a set of numbers drawn so far."""
    from avellino.sample.render import PHONE_PLANS, plan_for

    rng = np.random.default_rng([seed, 1])
    n_off, n_mig, n_orgs = population_sizes(scale)
    people = _people(rng, n_off, n_mig, n_orgs, names)
    owner = np.repeat(np.arange(people.n), people.phone_count)
    nat_of_phone = people.nation[owner]
    # A first phone from home for migrants; offenders mostly run UK / French / Belgian / German SIMs.
    local_sim = rng.random(len(owner)) < np.where(people.role[owner] == R["migrant"], 0.3, 0.75)
    plan = plan_for(rng, nat_of_phone, local_sim)
    local = np.empty(len(owner), dtype=np.int64)
    for i, (_, _, _, digits) in enumerate(PHONE_PLANS):
        sel = np.flatnonzero(plan == i)
        space = 10**digits
        mult = 2_654_435_761 % space or 7
        while math.gcd(mult, space) != 1:
            mult += 1
        local[sel] = (int(rng.integers(space)) + np.arange(len(sel), dtype=np.int64) * mult) % space
    ea, eb, ew = _edges(rng, people)
    pa, pb, pm = _money(rng, people)
    cross = _crossings(rng, people, scale)
    return World(seed, scale, n_orgs, people, owner, plan, local, ea, eb, ew, pa, pb, pm, cross)
