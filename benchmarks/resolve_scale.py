"""Resolve N synthetic person records (default 1,000,000) from five partners; print wall time and peak memory.

The records are generated here (seeded, vectorised) with the sample operation's name machinery
(:mod:`avellino.sample.names`, :mod:`avellino.sample.namedata`): people of the migrant nationality mix, names
drawn per culture with Zipf popularity (a few names very common, a long tail), spelled by each partner in its
own romanisation (usual spelling, less usual ones, typos), Arabic script for some Europol records. So that name
collisions resemble a real population rather than a handful of fixed name groups, a person has a given name, a
father's and a grandfather's name, and a family name drawn from the culture's family names, patronymic
surnames (a forebear's given name used as a surname) and *nisba* forms (``Karimi``, ``al-Hashimi``); cultures
without family names (Tigrinya) carry the father's name instead. Partners record the father's name now and
then, day and month swapped, 01/01 for unknown birth days, a year off, phones with or without country code,
passports for some people (with a keying error now and then). Generation time is reported apart.

Usage: ``python benchmarks/resolve_scale.py [--records 1000000] [--seed 3]``. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from avellino.resolve.evaluate import PeakMemory, count_true_pairs, score_pairs
from avellino.resolve.features import build_features
from avellino.resolve.model import DEFAULT_THRESHOLD, train
from avellino.resolve.pipeline import scored_pairs
from avellino.sample import render
from avellino.sample.namedata import CULTURES, MIGRANT_NATIONALITIES
from avellino.sample.names import ARABIC_GROUP, VARIANT_WEIGHTS, arabic_script, build_tables, token_variants

# (partner, country, calling code, romanisation style, date format), in the sample operation's partner styles
SOURCES = [
    ("uk-nca", "GB", "44", "uk", "%d/%m/%Y"),
    ("fr-ocriest", "FR", "33", "fr", "%d/%m/%Y"),
    ("de-bpol", "DE", "49", "de", "%d.%m.%Y"),
    ("it-sco", "IT", "39", "it", "%d-%m-%Y"),
    ("europol", "NL", "31", "eu", "%Y-%m-%d"),
]
NISBA_CULTURES = {"arabic": "al-{}i", "persian": "{}i", "sorani": "{}i", "pashto": "{}i"}


@dataclass
class Vocab:
    """Name tokens (index = id) with per-style spellings, Arabic script, and per-culture Zipf-ordered pools."""

    variants: dict[str, np.ndarray]  # style -> object array (n_tokens, 4), VARIANT_WEIGHTS order
    arabic: np.ndarray  # object array (n_tokens,): Arabic-script spelling or ""
    cultures: list[str]
    pools: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # culture -> (male, female, surname) ids


def build_vocab(seed: int) -> Vocab:
    """The sample operation's tables, with surname pools widened the way real surnames arise.

    Besides the culture's family names: patronymic surnames (a forebear's given name, ``Hasan``, ``Yonas``) and
    nisba forms (``Karimi``, ``al-Hashimi``), each spelled by every partner through the same romanisation rules.
    Vietnamese keeps its few family names: that collision (Nguyễn for ~40% of people) is real.
    """
    tables = build_tables(seed)
    tokens, cultures = list(tables.tokens), list(tables.cultures)
    index = {(c, t): i for i, (t, c) in enumerate(zip(tokens, cultures, strict=True))}
    n_base = len(tokens)
    pools = {}
    for culture in sorted({c for nat in MIGRANT_NATIONALITIES for c, _ in CULTURES[nat]}):  # stable order
        male, female, family = tables.pools[culture]
        surnames = list(family)
        if culture != "vietnamese":
            surnames += [t for t in male.tolist() if t not in surnames]
        if culture in NISBA_CULTURES:
            for tid in male.tolist():
                word = tokens[tid]
                if "_" in word or word.endswith(("i", "y")):
                    continue
                nisba = NISBA_CULTURES[culture].format(word)
                if (culture, nisba) not in index:
                    index[(culture, nisba)] = len(tokens)
                    tokens.append(nisba)
                    cultures.append(culture)
                surnames.append(index[(culture, nisba)])
        pools[culture] = (male, female, np.array(surnames, dtype=np.int32))
    new = list(zip(tokens[n_base:], cultures[n_base:], strict=True))
    variants = {
        style: np.concatenate(
            [tables.variants[style], np.array([token_variants(t, c, style, seed) for t, c in new], dtype=object)]
        )
        if new
        else tables.variants[style]
        for style in tables.variants
    }
    arabic = np.concatenate(
        [tables.arabic, np.array([arabic_script(t) if c in ARABIC_GROUP else "" for t, c in new], dtype=object)]
    )
    return Vocab(variants, arabic, cultures, pools)


def _zipf(rng: np.random.Generator, pool: np.ndarray, n: int, exponent: float = 0.8) -> np.ndarray:
    """Draws from ``pool`` with popularity falling as rank**-exponent (as the sample operation does)."""
    weights = 1.0 / np.arange(1, len(pool) + 1) ** exponent
    return pool[rng.choice(len(pool), size=int(n), p=weights / weights.sum())]


@dataclass
class People:
    culture: np.ndarray  # object array of culture names
    nation: np.ndarray  # ISO codes, upper case
    female: np.ndarray
    given: np.ndarray
    father: np.ndarray
    grandfather: np.ndarray
    family: np.ndarray  # -1 where the culture has no family names
    dob: np.ndarray  # days since 1970-01-01
    phone: np.ndarray  # object array: E.164 digits without '+', or None
    passport: np.ndarray  # object array or None


def make_people(n: int, vocab: Vocab, rng: np.random.Generator) -> People:
    nats = list(MIGRANT_NATIONALITIES)
    p = np.array(list(MIGRANT_NATIONALITIES.values()))
    nation = np.array(nats, dtype=object)[rng.choice(len(nats), size=n, p=p / p.sum())]
    culture = np.empty(n, dtype=object)
    for nat in nats:
        sel = np.flatnonzero(nation == nat)
        names, w = zip(*CULTURES[nat], strict=True)
        culture[sel] = np.array(names, dtype=object)[rng.choice(len(names), size=len(sel), p=np.array(w) / sum(w))]
    female = rng.random(n) < 0.18
    given, father, grandfather = (np.empty(n, dtype=np.int32) for _ in range(3))
    family = np.full(n, -1, dtype=np.int32)
    for cname, (male, fem, surnames) in vocab.pools.items():
        sel = np.flatnonzero(culture == cname)
        k = len(sel)
        given[sel] = np.where(female[sel], _zipf(rng, fem, k), _zipf(rng, male, k))
        father[sel] = _zipf(rng, male, k)
        grandfather[sel] = _zipf(rng, male, k)
        if cname != "tigrinya":  # Eritreans carry the father's name, not a family name
            family[sel] = _zipf(rng, surnames, k)
    age = rng.integers(16, 50, n)
    dob = ((np.datetime64("2023-06-01") - np.datetime64("1970-01-01")).astype(int) - age * 365.25).astype(np.int64)
    dob -= rng.integers(0, 365, n)
    cc = np.array([s[2] for s in SOURCES], dtype=object)[rng.integers(0, len(SOURCES), n)]
    digits = rng.integers(600_000_000, 799_999_999, n).astype(str).astype(object)
    phone = np.where(rng.random(n) < 0.6, cc + digits, None)
    passport_no = rng.integers(10**7, 10**8, n).astype(str).astype(object)
    passport = np.where(rng.random(n) < 0.35, np.char.upper(nation.astype(str)).astype(object) + passport_no, None)
    return People(culture, np.char.upper(nation.astype(str)).astype(object), female, given, father, grandfather,
                  family, dob, phone, passport)  # fmt: skip


def _spell(vocab: Vocab, style: str, tokens: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each token in a partner's style: its usual spelling mostly, a less usual one or a typo sometimes."""
    choice = rng.choice(4, len(tokens), p=VARIANT_WEIGHTS)
    return vocab.variants[style][np.maximum(tokens, 0), choice]


def _names(vocab: Vocab, people: People, who: np.ndarray, style: str, rng: np.random.Generator) -> np.ndarray:
    """Full names as one partner writes them (order, father's name, script)."""
    n = len(who)
    culture = people.culture[who]
    family = people.family[who]
    first = _spell(vocab, style, people.given[who], rng)
    last = np.where(family >= 0, _spell(vocab, style, family, rng), _spell(vocab, style, people.father[who], rng))
    arabic_group = np.isin(culture, list(ARABIC_GROUP))
    with_father = (family >= 0) & arabic_group & (rng.random(n) < 0.25)
    first = np.where(with_father, first + " " + _spell(vocab, style, people.father[who], rng), first)
    grand = (culture == "tigrinya") & (rng.random(n) < 0.3)
    last = np.where(grand, last + " " + _spell(vocab, style, people.grandfather[who], rng), last)
    surname_first = ((culture == "vietnamese") & (rng.random(n) < 0.7)) | (rng.random(n) < 0.15)
    full = np.where(surname_first, last + " " + first, first + " " + last)
    if style == "eu":
        ar = vocab.arabic
        arabic_full = ar[people.given[who]] + " " + ar[np.where(family >= 0, family, people.father[who])]
        full = np.where(arabic_group & (rng.random(n) < 0.25), arabic_full, full)
    return full


def _passports(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Passport numbers as keyed: one digit wrong in 2% of the recorded ones."""
    out = values.copy()
    bad = np.flatnonzero(pd.notna(out) & (rng.random(len(out)) < 0.02))
    for i in bad:  # a few thousand rows at 1M records
        s = out[i]
        j = int(rng.integers(2, len(s)))
        out[i] = s[:j] + str((int(s[j]) + 1) % 10) + s[j + 1 :]
    return out


def _phones(people: People, who: np.ndarray, src: int, rng: np.random.Generator) -> np.ndarray:
    """The person's phone as a partner writes it: +CC, 00CC, or national (own country only); 70% recorded."""
    full = people.phone[who]
    has = pd.notna(full)
    cc = np.where(has, np.array([str(x)[:2] for x in full], dtype=object), "")
    num = np.array([str(x)[2:] for x in full], dtype=object)
    pr = rng.random(len(who))
    own = cc == SOURCES[src][2]
    written = np.where(pr < 0.4, "+" + cc + " " + num, np.where(pr < 0.7, "00" + cc + num, "+" + cc + num))
    written = np.where(own & (pr >= 0.7), "0" + num, written)
    return np.where(has & (rng.random(len(who)) < 0.7), written, None)


def generate(n_records: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    vocab = build_vocab(seed)
    copies = rng.choice([1, 2, 3, 4, 5], p=[0.2, 0.3, 0.25, 0.15, 0.1], size=int(n_records / 2.5) + 10)
    ent = np.repeat(np.arange(len(copies)), copies)[:n_records]
    people = make_people(int(ent.max()) + 1, vocab, rng)
    home = rng.integers(0, len(SOURCES), len(copies))
    # each copy is seen by a different partner
    src = (home[ent] + np.concatenate([np.arange(c) for c in copies])[:n_records]) % len(SOURCES)
    full = np.empty(n_records, dtype=object)
    dob = np.empty(n_records, dtype=object)
    phone = np.empty(n_records, dtype=object)
    for s, (_, _, _, style, fmt) in enumerate(SOURCES):
        rows = np.flatnonzero(src == s)
        who = ent[rows]
        full[rows] = _names(vocab, people, who, style, rng)
        days = render.noisy_dob(people.dob[who], rng, swap=0.04, placeholder=0.08, typo=0.01)
        dob[rows] = render.fmt_dates(days, fmt, rng.random(len(rows)) < 0.04).to_numpy(zero_copy_only=False)
        phone[rows] = _phones(people, who, s, rng)
    passport = np.where(rng.random(n_records) < 0.6, people.passport[ent], None)
    nationality = np.where(rng.random(n_records) < 0.95, people.nation[ent], None)
    return pd.DataFrame(
        {
            "record_id": [f"r{i}" for i in range(n_records)],
            "source": np.array([s[0] for s in SOURCES])[src],
            "country": np.array([s[1] for s in SOURCES])[src],
            "full_name": full,
            "dob": dob,
            "nationality": nationality,
            "phone": phone,
            "passport": _passports(passport, rng),
            "person": ent.astype(str),
        }
    )


def name_collisions(df: pd.DataFrame) -> dict[str, float]:
    """How many people share a (true) name: the collision profile the blocking has to live with."""
    from avellino.resolve.names import name_features

    first = df.drop_duplicates("person")
    latin = first[~first["full_name"].str.contains("[\u0600-\u06ff]", regex=True)]
    keys = latin["full_name"].map(lambda s: name_features(s, False).skel)
    per = keys.value_counts()
    shared = per[keys].to_numpy()
    return {
        "distinct_name_skeletons": int(len(per)),
        "people_per_name_median": float(np.median(shared)),
        "people_per_name_p90": float(np.percentile(shared, 90)),
        "largest_name_group": int(per.max()),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    t0 = time.perf_counter()
    df = generate(args.records, args.seed)
    gen_s = time.perf_counter() - t0
    roles = {r: r for r in ("full_name", "dob", "nationality", "phone", "passport", "country")}
    meter = PeakMemory()
    stages: dict[str, float] = {}
    with meter.watch():
        t = time.perf_counter()
        features = build_features(df, roles, "record_id")
        stages["features_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        trained = train(features, explainable=False)
        stages["train_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        pairs, compared = scored_pairs(trained.linker)
        stages["predict_s"] = round(time.perf_counter() - t, 1)
    wall = sum(stages.values())
    truth = df.set_index("record_id")["person"]
    true_pairs = count_true_pairs(df["person"], None)
    p, rc, f1, n = score_pairs(pairs, truth.to_dict(), true_pairs, DEFAULT_THRESHOLD)
    print(
        json.dumps(
            {
                "records": len(df),
                "people": int(df["person"].nunique()),
                "generate_s": round(gen_s, 1),
                "wall_s": round(wall, 1),
                **stages,
                "peak_mb": round(meter.peak, 1),
                "pairs_compared": compared,
                "true_pairs": true_pairs,
                "precision": round(p, 4),
                "recall": round(rc, 4),
                "f1": round(f1, 4),
                "blocks": trained.blocks,
                "names": name_collisions(df),
            }
        )
    )


if __name__ == "__main__":
    main()
