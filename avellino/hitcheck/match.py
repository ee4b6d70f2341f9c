"""The answering side: which held record, if any, is the queried person? Blocking, scores and the hit rule.

**Blocking** (so 10,000 queries against 100,000 records compare a few thousand pairs each, not 10^9): a pair
is compared when (a) the two records share a keyed blocking token (``encode.blocking_tokens``: pairs of name
parts, a part with the birth year, a part alone, the initial of a part with the birth year), or (b) their
date-of-birth fields are equal, or (c) their document fields are equal. Buckets larger than ``MAX_BUCKET`` are
skipped (a token that a thousand records share says nothing; such records share rarer tokens too). Hamming LSH
on the name filters (Karapiperis and Verykios 2015) was tried first: with a quarter of the bits set, the
sampled bits of unrelated names agreed so often that 8% of all pairs became candidates.

**Scores**: the Dice coefficient of the two name fields; the date level, from testing the held record's own
date elements against the query's date field (``exact`` also when day and month are swapped, ``partial`` when
year and month agree, ``daymonth``, ``year`` when one side has the year only, ``missing`` when either side has no
date, else ``conflict``); and whether one of the held record's document or phone numbers is in the query's
document field, or both have some and none is shared.

**Hit rule** (``Rule``): a document or phone number in common with a name similarity of at least ``document``,
or a name similarity of at least the threshold of the date level, raised when both records have document
numbers (or phone numbers) and none is shared. The thresholds were chosen on training sample operations of
another seed (``benchmarks/hitcheck.py tune``), never on the samples and public sets the figures are reported on
(docs/hitcheck.md says how).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from avellino.hitcheck.encode import (
    DAY_KNOWN,
    HAS_DOCUMENT,
    HAS_PHONE,
    Encoded,
    Hasher,
    date_elements,
    dates,
    documents,
)
from avellino.hitcheck.keys import PairKeys
from avellino.hitcheck.persons import PersonValues

MAX_BUCKET = 1_000

LEVELS = ("exact", "partial", "daymonth", "year", "missing", "conflict")
EXACT, PARTIAL, DAYMONTH, YEAR, MISSING, CONFLICT = range(6)
#: test kinds besides the levels: the year of a held full date (a year level only when the query has no day)
#: and a document number
YEAR_OF_FULL, DOCUMENT, PHONE = 10, -1, -2


def _element_level(element: str, held_day: bool) -> int:
    if element.startswith("ymd"):
        return EXACT
    if element.startswith("ym"):
        return PARTIAL
    if element.startswith("md"):
        return DAYMONTH
    return YEAR_OF_FULL if held_day else YEAR


@dataclass(frozen=True)
class Rule:
    """Name-Dice thresholds: with a shared document, and per date level (above 1 = never a hit)."""

    document: float = 0.30
    exact: float = 0.60
    partial: float = 1.01
    daymonth: float = 0.95
    year: float = 0.90
    missing: float = 1.01
    conflict: float = 1.01
    blend: float = 0.25  #: weight of the overlap coefficient against the Dice coefficient in the name similarity
    document_conflict: float = 0.10  #: added to a date level's threshold when both have documents, none shared
    phone_conflict: float = 0.10  #: ... when both have phone numbers, none shared

    def thresholds(self) -> np.ndarray:
        return np.array([self.exact, self.partial, self.daymonth, self.year, self.missing, self.conflict])


DEFAULT_RULE = Rule()


@dataclass
class Held:
    """The answering node's records, encoded under one pair's key and indexed for matching."""

    persons: list[PersonValues]
    encoded: Encoded
    words: np.ndarray  #: name field, uint64 words
    ones: np.ndarray  #: set bits of the name field
    dob_code: np.ndarray  #: a code of the whole date field (0 = empty)
    doc_code: np.ndarray
    masks: np.ndarray  #: (t, words) each held record's own date/document elements as masks of the fields
    test_level: np.ndarray  #: (t,) date level a match gives, or -1 for a document
    test_first: np.ndarray  #: (n,) each held record's first test (its documents, then its dates)
    test_docs: np.ndarray  #: (n,) how many document tests it has
    test_count: np.ndarray  #: (n,) how many tests in all
    day_known: np.ndarray  #: positions of the day-known element
    has_date: np.ndarray  #: (n,) whether each held record has a birth date
    has_doc: np.ndarray  #: (n,) ... a document number
    has_tel: np.ndarray  #: (n,) ... a phone number
    markers: np.ndarray  #: masks of the has-document and has-phone elements


def _field_code(bits: np.ndarray) -> np.ndarray:
    """A 63-bit code of a field's bits (0 when the field is empty)."""
    packed = np.packbits(bits, axis=1)
    pad = (-packed.shape[1]) % 8
    if pad:
        packed = np.pad(packed, ((0, 0), (0, pad)))
    words = np.ascontiguousarray(packed).view(np.uint64)
    mult = np.array([0x9E3779B97F4A7C15 * (i * 2 + 1) % (1 << 64) for i in range(words.shape[1])], np.uint64)
    with np.errstate(over="ignore"):
        code = np.bitwise_xor.reduce(words * mult[None, :], axis=1) >> np.uint64(1)
    code = code.astype(np.int64)
    code[~bits.any(axis=1)] = 0
    code[(code == 0) & bits.any(axis=1)] = 1
    return code


def index(persons: Sequence[PersonValues], encoded: Encoded, hasher: Hasher) -> Held:
    """Prepare the held records for answering one partner's queries."""
    from avellino.hitcheck.encode import _DOB_AT, _DOC_AT

    words = encoded.name_words()
    tests: list[np.ndarray] = []
    rec: list[int] = []
    lvl: list[int] = []
    for i, person in enumerate(persons):
        for doc in documents(person):  # documents first: a pair that needs no date tests reads only these
            tests.append(hasher.positions(2, doc))
            rec.append(i)
            lvl.append(DOCUMENT if doc.startswith("doc") else PHONE)
        for y, m, d in dates(person.dobs):
            own = [(y, m, d)] + ([(y, d, m)] if m and d and d <= 12 and d != m else [])
            for date in own:
                for element in date_elements(date):
                    if element == DAY_KNOWN:
                        continue
                    tests.append(hasher.positions(1, element))
                    rec.append(i)
                    lvl.append(_element_level(element, bool(d)))
    masks = _test_masks(tests)
    rec_arr, lvl_arr = np.array(rec, dtype=np.int64), np.array(lvl, dtype=np.int64)
    n = len(persons)
    first = np.searchsorted(rec_arr, np.arange(n), "left")
    n_all = np.searchsorted(rec_arr, np.arange(n), "right") - first
    n_doc = np.bincount(rec_arr[lvl_arr < 0], minlength=n).astype(np.int64)
    kinds = [set(d[:3] for d in documents(p)) for p in persons]
    return Held(
        list(persons),
        encoded,
        words,
        np.bitwise_count(words).sum(axis=1).astype(np.int64),
        _field_code(encoded.bits[:, _DOB_AT:_DOC_AT]),
        _field_code(encoded.bits[:, _DOC_AT:]),
        masks,
        lvl_arr,
        first,
        n_doc,
        n_all,
        hasher.positions(1, DAY_KNOWN),
        np.array([bool(dates(p.dobs)) for p in persons], dtype=bool),
        np.array(["doc" in k for k in kinds], dtype=bool),
        np.array(["tel" in k for k in kinds], dtype=bool),
        _test_masks([hasher.positions(2, HAS_DOCUMENT), hasher.positions(2, HAS_PHONE)]),
    )


def _join(query_codes: np.ndarray, held_codes: np.ndarray, skip_zero: bool) -> tuple[np.ndarray, np.ndarray]:
    """(query, held) index pairs whose codes are equal, buckets above MAX_BUCKET skipped."""
    order = np.argsort(held_codes, kind="stable")
    sorted_codes = held_codes[order]
    lo = np.searchsorted(sorted_codes, query_codes, "left")
    hi = np.searchsorted(sorted_codes, query_codes, "right")
    size = hi - lo
    size[size > MAX_BUCKET] = 0
    if skip_zero:
        size[query_codes == 0] = 0
    total = int(size.sum())
    if total == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    q = np.repeat(np.arange(len(query_codes), dtype=np.int64), size)
    starts = np.repeat(lo - np.cumsum(size) + size, size)
    r = order[starts + np.arange(total, dtype=np.int64)]
    return q, r


def candidates(query: Encoded, held: Held) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (query, held) pairs that blocking lets through."""
    from avellino.hitcheck.encode import _DOB_AT, _DOC_AT

    qs: list[np.ndarray] = []
    n = max(len(held.persons), 1)
    if len(query.tokens) and len(held.encoded.tokens):
        qt, ht = query.tokens, held.encoded.tokens
        i, r = _join(qt[:, 1], ht[:, 1], skip_zero=False)
        qs.append(qt[i, 0] * n + ht[r, 0])
    for qc, hc in (
        (_field_code(query.bits[:, _DOB_AT:_DOC_AT]), held.dob_code),
        (_field_code(query.bits[:, _DOC_AT:]), held.doc_code),
    ):
        q, r = _join(qc, hc, skip_zero=True)
        qs.append(q * n + r)
    if not qs:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    pairs = np.sort(np.concatenate(qs))  # sort-based distinct: numpy's hashing unique is slower here
    pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))] if len(pairs) else pairs
    return pairs // n, pairs % n


@dataclass
class Scores:
    """Scored candidate pairs."""

    query: np.ndarray
    held: np.ndarray
    dice: np.ndarray  #: the name similarity (see ``score``)
    level: np.ndarray
    document: np.ndarray  #: a document or phone number in common
    doc_conflict: np.ndarray  #: both have document numbers, none in common
    tel_conflict: np.ndarray  #: both have phone numbers, none in common


def score(
    query: Encoded,
    held: Held,
    q: np.ndarray,
    r: np.ndarray,
    floor: float,
    blend: float,
    date_floor: float | None = None,
) -> Scores:
    """Name similarity of every pair (Dice blended with the overlap coefficient, which forgives the extra
    parts and aliases of the fuller record), then documents of the pairs that reach ``floor`` and date levels of
    those that reach ``date_floor`` (default ``floor``; below it no date level can make a hit, and the level is
    left ``conflict``). Works through the pairs in chunks, so memory stays flat however many pairs blocking lets
    through."""
    date_floor = floor if date_floor is None else date_floor
    qwords = query.name_words()
    qones = np.bitwise_count(qwords).sum(axis=1).astype(np.int64)
    query_day = np.asarray(query.bits[:, held.day_known].all(axis=1))
    query_date = query.dob_present()
    tail = _tail_words(query)
    query_doc, query_tel = (((tail & m) == m).all(axis=1) for m in held.markers)
    parts: list[Scores] = []
    step = 500_000
    for s in range(0, len(q), step):
        qq, rr = q[s : s + step], r[s : s + step]
        common = np.bitwise_count(qwords[qq] & held.words[rr]).sum(axis=1)
        dice = 2.0 * common / np.maximum(qones[qq] + held.ones[rr], 1)
        overlap = common / np.maximum(np.minimum(qones[qq], held.ones[rr]), 1)
        sim = (1 - blend) * dice + blend * overlap
        keep = sim >= floor
        qq, rr, sim = qq[keep], rr[keep], sim[keep]
        level, doc, tel = _levels(query, held, qq, rr, query_day, query_date, sim >= date_floor)
        doc_conflict = held.has_doc[rr] & query_doc[qq] & ~doc
        tel_conflict = held.has_tel[rr] & query_tel[qq] & ~tel
        parts.append(Scores(qq, rr, sim, level, doc | tel, doc_conflict, tel_conflict))
    if not parts:
        empty, no = np.empty(0, np.int64), np.empty(0, bool)
        return Scores(empty, empty, np.empty(0), empty, no, no, no)
    fields = ("query", "held", "dice", "level", "document", "doc_conflict", "tel_conflict")
    return Scores(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))


def _levels(
    query: Encoded,
    held: Held,
    q: np.ndarray,
    r: np.ndarray,
    query_day: np.ndarray,
    query_date: np.ndarray,
    dates_needed: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Date level and shared document of each pair, by testing the held record's elements in the query (the
    date elements only for the pairs in ``dates_needed``)."""
    npairs = len(q)
    level = np.full(npairs, CONFLICT, dtype=np.int64)
    document = np.zeros(npairs, dtype=bool)
    phone = np.zeros(npairs, dtype=bool)
    if npairs == 0:
        return level, document, phone
    lo = held.test_first[r]
    size = np.where(dates_needed, held.test_count[r], held.test_docs[r])
    total = int(size.sum())
    pair = np.repeat(np.arange(npairs, dtype=np.int64), size)
    starts = np.repeat(lo - np.cumsum(size) + size, size)
    test = starts + np.arange(total, dtype=np.int64)
    masks = held.masks[test]
    found = ((_tail_words(query)[q[pair]] & masks) == masks).all(axis=1)
    tl = held.test_level[test].copy()
    of_full = tl == YEAR_OF_FULL
    tl[of_full] = np.where(query_day[q[pair[of_full]]], CONFLICT, YEAR)
    document[pair[found & (tl == DOCUMENT)]] = True
    phone[pair[found & (tl == PHONE)]] = True
    date_hit = found & (tl >= 0)
    best = np.full(npairs, CONFLICT, dtype=np.int64)
    np.minimum.at(best, pair[date_hit], tl[date_hit])
    level = best
    level[~held.has_date[r] | ~query_date[q]] = MISSING
    return level, document, phone


def _test_masks(tests: list[np.ndarray], chunk: int = 50_000) -> np.ndarray:
    """Each test's positions as a mask of the date and document fields (uint64 words), built in chunks."""
    from avellino.hitcheck.encode import BITS

    out: list[np.ndarray] = []
    for s in range(0, len(tests), chunk):
        part = tests[s : s + chunk]
        table = np.zeros((len(part), BITS), dtype=bool)
        table[np.repeat(np.arange(len(part)), [len(t) for t in part]), np.concatenate(part)] = True
        out.append(_pack_tail(table))
    return np.concatenate(out) if out else np.zeros((0, 8), dtype=np.uint64)


def _tail_words(query: Encoded) -> np.ndarray:
    """The query's date and document fields as uint64 words (computed once per query set)."""
    if query.tail is None:
        query.tail = _pack_tail(query.bits)
    return query.tail


def _pack_tail(bits: np.ndarray) -> np.ndarray:
    from avellino.hitcheck.encode import _DOB_AT

    return np.ascontiguousarray(np.packbits(bits[:, _DOB_AT:], axis=1)).view(np.uint64)


def hits(scores: Scores, rule: Rule) -> np.ndarray:
    """Which scored pairs are hits under ``rule``."""
    by_level = (
        rule.thresholds()[scores.level]
        + rule.document_conflict * scores.doc_conflict
        + rule.phone_conflict * scores.tel_conflict
    )
    return (scores.dice >= by_level) | (scores.document & (scores.dice >= rule.document))


@dataclass(frozen=True)
class Answer:
    """One queried person: hit or not, and the held record it hit (index into Held.persons)."""

    query: str
    hit: bool
    record: int | None = None


def answer(query: Encoded, held: Held, keys: PairKeys, rule: Rule = DEFAULT_RULE) -> list[Answer]:
    """Hit or no-hit for every queried person; on a hit, the best held record (document first, then the date
    level, then the name Dice)."""
    q, r = candidates(query, held)
    date_floor = float(rule.thresholds().min())
    s = score(query, held, q, r, min(rule.document, date_floor), rule.blend, date_floor)
    ok = hits(s, rule)
    best: dict[int, tuple[tuple[float, float, float], int]] = {}
    for qi, ri, dice, lv, doc in zip(
        s.query[ok].tolist(),
        s.held[ok].tolist(),
        s.dice[ok].tolist(),
        s.level[ok].tolist(),
        s.document[ok].tolist(),
        strict=True,
    ):
        rank = (float(doc), -float(lv), dice)
        if qi not in best or rank > best[qi][0]:
            best[qi] = (rank, ri)
    return [Answer(qid, i in best, best[i][1] if i in best else None) for i, qid in enumerate(query.ids)]
