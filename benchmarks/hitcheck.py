"""Hit/no-hit figures: recall and false-hit rate on a sample operation, speed against a 100,000-person node, and
name-only figures on real public names (Arabic->Latin pairs, OFAC SDN aliases). Prints one JSON object.

    python benchmarks/hitcheck.py sample --workspace WS --truth SAMPLE/truth/persons.csv
    python benchmarks/hitcheck.py speed --workspace WS200K [--queries 10000 --node 100000]
    python benchmarks/hitcheck.py names --data ../shared/data/entity_resolution
    python benchmarks/hitcheck.py tune --workspace WS_TRAIN --truth TRAIN/truth/persons.csv

*sample*: every partner (originator) of the workspace asks every other about all the persons it recorded; a
queried record is truly held when the other partner has a record of the same true person. Recall is over the
truly held, the false-hit rate over the rest; a hit whose reference is a record of another person counts in
``wrong_reference``. *speed*: queries are the persons of one half of the workspace, the node the rest
(replicated with a fresh id, a shifted date and a changed name letter until it has ``--node`` persons, so the
copies are other people). *tune*: the grid search that chose ``match.DEFAULT_RULE``, run on training samples
made with another seed (``avellino sample --seed 11``), never on the sets above.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import sys
import time
from dataclasses import asdict, replace
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd

from avellino.hitcheck import match
from avellino.hitcheck.encode import Hasher, encode
from avellino.hitcheck.keys import PairKeys
from avellino.hitcheck.persons import PersonValues, read_persons
from avellino.store import open_store

KEY = PairKeys.from_master(b"benchmark-pair-key-0123456789abcdef", "ASKER", "ANSWERER")


def _by_partner(workspace: Path) -> dict[str, list[PersonValues]]:
    with open_store(workspace, read_only=True) as store:
        persons = read_persons(store)
    by: dict[str, list[PersonValues]] = collections.defaultdict(list)
    for p in persons:
        by[p.originator or "?"].append(p)
    return dict(by)


def _pairs(workspace: Path, truth: Path) -> list[tuple[str, str, list[PersonValues], list[PersonValues]]]:
    by = _by_partner(workspace)
    return [(a, b, by[a], by[b]) for a in sorted(by) for b in sorted(by) if a != b]


def _truth(truth: Path) -> dict[str, str]:
    table = pd.read_csv(truth, dtype=str)
    return dict(zip(table["entity_id"], table["person_id"], strict=True))


def _scored(
    asker: list[PersonValues], held: list[PersonValues], floor: float, blend: float
) -> tuple[match.Scores, int]:
    hasher = Hasher(KEY)
    h = match.index(held, encode(held, hasher), hasher)
    query = encode(asker, hasher)
    q, r = match.candidates(query, h)
    return match.score(query, h, q, r, floor, blend), len(q)


def sample(workspace: Path, truth_file: Path, rule: match.Rule = match.DEFAULT_RULE) -> dict[str, object]:
    truth = _truth(truth_file)
    held_true = failed = false_hits = negatives = positives = wrong = queries = 0
    per_pair = {}
    start = time.perf_counter()
    hasher = Hasher(KEY)
    for a, b, asker, held in _pairs(workspace, truth_file):
        h = match.index(held, encode(held, hasher), hasher)
        answers = match.answer(encode(asker, hasher), h, KEY, rule)
        ids_b = {truth.get(p.id) for p in held}
        tp = fn = fp = tn = wr = 0
        for ans, person in zip(answers, asker, strict=True):
            true = truth.get(person.id) in ids_b
            if true and ans.hit:
                tp += 1
                assert ans.record is not None
                wr += truth.get(held[ans.record].id) != truth.get(person.id)
            elif true:
                fn += 1
            elif ans.hit:
                fp += 1
            else:
                tn += 1
        per_pair[f"{a}->{b}"] = {"recall": _ratio(tp, tp + fn), "false_hit_rate": _ratio(fp, fp + tn)}
        positives += tp + fn
        held_true += tp
        failed += fn
        false_hits += fp
        negatives += fp + tn
        wrong += wr
        queries += len(asker)
    return {
        "workspace": str(workspace),
        "queries": queries,
        "truly_held": positives,
        "recall": _ratio(held_true, positives),
        "false_hit_rate": _ratio(false_hits, negatives),
        "false_hits": false_hits,
        "wrong_reference": wrong,
        "seconds": round(time.perf_counter() - start, 2),
        "rule": asdict(rule),
        "per_pair": per_pair,
    }


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def _variant(p: PersonValues, n: int) -> PersonValues:
    """Another person made from ``p``: a name letter changed and the birth year moved, fresh id."""
    rng = np.random.default_rng(n)
    names = []
    for name in p.names:
        chars = list(name)
        letters = [i for i, c in enumerate(chars) if c.isalpha()]
        if letters:
            i = int(rng.choice(letters))
            chars[i] = "aeiourstnlkm"[int(rng.integers(12))]
        names.append("".join(chars))
    dobs = [f"{1950 + (n * 7 + i) % 55}-{1 + n % 12:02d}-{1 + n % 28:02d}" for i, _ in enumerate(p.dobs)]
    return PersonValues(f"{p.id}~{n}", names, dobs, [f"X{n:08d}{d[-3:]}" for d in p.documents], protected=p.protected)


def speed(workspace: Path, n_queries: int, n_node: int) -> dict[str, object]:
    with open_store(workspace, read_only=True) as store:
        persons = read_persons(store)
    rng = np.random.default_rng(1)
    order = rng.permutation(len(persons))
    asked = [persons[i] for i in order[:n_queries]]
    base = [persons[i] for i in order[n_queries:]] or persons
    node = list(base)
    n = 0
    while len(node) < n_node:
        node.append(_variant(base[n % len(base)], n))
        n += 1
    node = node[:n_node]
    t0, c0 = time.perf_counter(), time.process_time()
    hasher = Hasher(KEY)
    held = match.index(node, encode(node, hasher), hasher)
    t1, c1 = time.perf_counter(), time.process_time()
    hasher_q = Hasher(KEY)
    query = encode(asked, hasher_q)
    t2, c2 = time.perf_counter(), time.process_time()
    answers = match.answer(query, held, KEY)
    t3, c3 = time.perf_counter(), time.process_time()
    q, _r = match.candidates(query, held)
    return {
        "queries": len(asked),
        "node_persons": len(node),
        "seconds_index_node": round(t1 - t0, 2),
        "seconds_encode_queries": round(t2 - t1, 2),
        "seconds_answer": round(t3 - t2, 2),
        "seconds_per_10000_queries": round((t3 - t1) * 10_000 / len(asked), 2),
        "seconds_per_10000_with_node_index": round((t3 - t0) * 10_000 / len(asked), 2),
        "cpu_seconds_index_node": round(c1 - c0, 2),
        "cpu_seconds_encode_queries": round(c2 - c1, 2),
        "cpu_seconds_answer": round(c3 - c2, 2),
        "cpu_seconds_per_10000_queries": round((c3 - c1) * 10_000 / len(asked), 2),
        "candidate_pairs_per_query": round(len(q) / len(asked), 1),
        "hits": sum(a.hit for a in answers),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cpus": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def names(data: Path, rule: match.Rule = match.DEFAULT_RULE) -> dict[str, object]:
    """Name-only figures on real names: with no date or document, a hit needs the ``missing`` threshold."""
    out: dict[str, object] = {}
    ar = data / "google_ar2en_transliteration" / "ar2en-eval.txt"
    if ar.is_file():
        pairs = [line.rstrip("\n").split("\t") for line in ar.read_text(encoding="utf-8").splitlines() if line]
        left = [PersonValues(f"a{i}", [p[0]]) for i, p in enumerate(pairs)]
        right = [PersonValues(f"l{i}", [p[1]]) for i, p in enumerate(pairs)]
        out["ar2en_eval"] = {
            f"at_{t}": _name_pairs(left, right, [(i, i) for i in range(len(pairs))], t, rule.blend)
            for t in (rule.exact, rule.year)
        }
    sdn = data / "ofac_sdn_2022" / "sdn_individuals_names_flat.csv"
    if sdn.is_file():
        table = pd.read_csv(sdn, dtype=str)
        recs = [PersonValues(f"s{i}", [n]) for i, n in enumerate(table["name"])]
        groups: dict[str, list[int]] = collections.defaultdict(list)
        for i, d in enumerate(table["dataid"]):
            groups[d].append(i)
        true = [(i, j) for g in groups.values() for i in g for j in g if i < j]
        out["sdn_primary_asks_aliases"] = _sdn_hits(table, rule)
        out["sdn_aliases"] = {
            f"at_{t}": _name_pairs(recs, recs, true, t, rule.blend, same=True) for t in (rule.exact, rule.year)
        }
    return out


def _sdn_hits(table: pd.DataFrame, rule: match.Rule) -> dict[str, object]:
    """The hit rule on real people: each SDN individual's primary name (with its birth date) asks a node that
    holds every alias (with the same birth date, as the list gives it). Truly held: the person has an alias."""
    primary = table[table["name_type"] == "primary"]
    aliases = table[table["name_type"] != "primary"]
    asked = [PersonValues(f"p{i}", [n], [d] if isinstance(d, str) else []) for i, n, d in
             zip(primary["dataid"], primary["name"], primary["dob"], strict=True)]  # fmt: skip
    node = [PersonValues(f"a{k}", [n], [d] if isinstance(d, str) else []) for k, n, d in
            zip(range(len(aliases)), aliases["name"], aliases["dob"], strict=True)]  # fmt: skip
    owner = [str(i) for i in aliases["dataid"]]
    hasher = Hasher(KEY)
    held = match.index(node, encode(node, hasher), hasher)
    answers = match.answer(encode(asked, hasher), held, KEY, rule)
    have = set(owner)
    tp = fn = fp = tn = wrong = 0
    for a, pid in zip(answers, primary["dataid"], strict=True):
        true = str(pid) in have
        tp += true and a.hit
        fn += true and not a.hit
        fp += (not true) and a.hit
        tn += (not true) and not a.hit
        wrong += bool(true and a.hit and a.record is not None and owner[a.record] != str(pid))
    return {
        "queries": len(asked),
        "node": len(node),
        "truly_held": tp + fn,
        "recall": _ratio(tp, tp + fn),
        "false_hit_rate": _ratio(fp, fp + tn),
        "wrong_reference": wrong,
    }


def _name_pairs(
    left: list[PersonValues],
    right: list[PersonValues],
    true: list[tuple[int, int]],
    t: float,
    blend: float,
    same: bool = False,
) -> dict[str, object]:
    """Recall of true name pairs at a name similarity >= t and the rate of false pairs at or above t (every pair
    compared, no blocking)."""
    hasher = Hasher(KEY)
    lw = encode(left, hasher).name_words()
    rw = lw if same else encode(right, hasher).name_words()
    lones = np.bitwise_count(lw).sum(axis=1)
    rones = np.bitwise_count(rw).sum(axis=1)
    above = 0
    total = 0
    true_set = set(true)
    true_above = 0
    for i in range(len(left)):
        common = np.bitwise_count(lw[i][None, :] & rw).sum(axis=1)
        dice = 2 * common / np.maximum(lones[i] + rones, 1)
        overlap = common / np.maximum(np.minimum(lones[i], rones), 1)
        js = np.nonzero((1 - blend) * dice + blend * overlap >= t)[0]
        mask = np.ones(len(right), dtype=bool)
        if same:
            mask[: i + 1] = False
        total += int(mask.sum())
        for j in js.tolist():
            if not mask[j]:
                continue
            if (i, j) in true_set:
                true_above += 1
            else:
                above += 1
    negatives = total - len(true)
    return {
        "true_pairs": len(true),
        "recall": _ratio(true_above, len(true)),
        "false_pairs_compared": negatives,
        "false_match_rate": float(f"{above / negatives:.3g}") if negatives else None,
        "false_matches": above,
    }


def tune(workspace: Path, truth_file: Path, budget: float) -> dict[str, object]:
    """The grid search behind DEFAULT_RULE: the highest recall whose false-hit rate stays within ``budget``.

    Run on a 200,000-record training sample of seed 11. The document threshold (0.30), the day-and-month one (0.95)
    and the blend (0.25) come from an earlier search of the same kind on a 20,000-record sample of seed 11 and are
    kept fixed here (see docs/hitcheck.md)."""
    truth = _truth(truth_file)
    grid = {
        "exact": [0.55, 0.6, 0.65, 0.7],
        "partial": [0.8, 0.85, 0.9, 1.01],
        "year": [0.8, 0.85, 0.9, 1.01],
        "document_conflict": [0.0, 0.1, 0.2, 1.0],
        "phone_conflict": [0.0, 0.05, 0.1, 0.2],
    }
    best: tuple[float, float, match.Rule] | None = None
    pairs = _pairs(workspace, truth_file)
    for blend in (0.25,):
        rows = []
        positives = negatives = 0
        for _a, _b, asker, held in pairs:
            s, _ = _scored(asker, held, 0.3, blend)
            keep = (s.document & (s.dice >= 0.3)) | (s.dice >= 0.55)  # nothing looser is in the grid
            s = match.Scores(*(getattr(s, f)[keep] for f in s.__dataclass_fields__))
            ids_b = {truth.get(p.id) for p in held}
            true_q = np.array([truth.get(p.id) in ids_b for p in asker])
            positives += int(true_q.sum())
            negatives += int((~true_q).sum())
            rows.append((s, true_q))
        for values in product(*grid.values()):
            rule = replace(match.DEFAULT_RULE, blend=blend, **dict(zip(grid, values, strict=True)))
            tp = fp = 0
            for s, true_q in rows:
                ok = match.hits(s, rule)
                hit_q = np.zeros(len(true_q), dtype=bool)
                hit_q[s.query[ok]] = True
                tp += int((hit_q & true_q).sum())
                fp += int((hit_q & ~true_q).sum())
            recall, fhr = tp / positives, fp / negatives
            if fhr <= budget and (best is None or recall > best[0]):
                best = (recall, fhr, rule)
    assert best is not None
    return {"recall": round(best[0], 4), "false_hit_rate": round(best[1], 4), "budget": budget, "rule": asdict(best[2])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    p = sub.add_parser("sample")
    p.add_argument("--workspace", type=Path, required=True)
    p.add_argument("--truth", type=Path, required=True)
    p = sub.add_parser("speed")
    p.add_argument("--workspace", type=Path, required=True)
    p.add_argument("--queries", type=int, default=10_000)
    p.add_argument("--node", type=int, default=100_000)
    p = sub.add_parser("names")
    p.add_argument("--data", type=Path, required=True)
    p = sub.add_parser("tune")
    p.add_argument("--workspace", type=Path, required=True)
    p.add_argument("--truth", type=Path, required=True)
    p.add_argument("--budget", type=float, default=0.005)
    args = parser.parse_args()
    if args.what == "sample":
        result = sample(args.workspace, args.truth)
    elif args.what == "speed":
        result = speed(args.workspace, args.queries, args.node)
    elif args.what == "names":
        result = names(args.data)
    else:
        result = tune(args.workspace, args.truth, args.budget)
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
