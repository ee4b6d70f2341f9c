"""Keyed Bloom-filter encodings of persons (cryptographic long-term keys, after Schnell, Bachteler and Reiher 2009).

A person becomes one record-level filter of ``BITS`` bits made of three fields:

* **name** (``NAME_BITS``, ``K_NAME`` bits per element): the bigrams of every name part of every name the record
  has (the main name and its aliases), twice over: as the Latin spelling (``_m``, ``mo``, ``oh``... of
  ``mohammed``) and as the romanisation-insensitive skeleton of :func:`avellino.resolve.names.skeleton`
  (``mhmt``). Parts come from :func:`avellino.resolve.names.parse_name`, so ``SURNAME, Given``, particles
  (``al-``, ``bin``), glued articles (``ALHASSAN``) and Arabic script (through the learned Arabic->Latin model)
  give the same parts as ``Mohammed Al-Hassan``. Bigrams are order-free, so ``given surname`` and
  ``surname given`` encode alike; similar spellings share most bigrams, which the Dice coefficient measures.
* **date of birth** (``DOB_BITS``): whole-value elements ``ymd``, ``ym``, ``y`` and ``md`` of each date; a
  ``01/01`` placeholder counts as the year only.
* **documents** (``DOC_BITS``): each passport or identity-card number, normalised
  (:func:`avellino.resolve.identifiers.normalise_document`), and each phone number (E.164), as one element; and
  a "has a document" / "has a phone" element when the record has any.

Every element is hashed with HMAC-SHA256 under the field's sub-key of the pair (``keys.PairKeys``); each of its
``k`` positions is its own 16-bit slice of the MAC ("random hashing"), never the double-hashing scheme that
Niedermeyer et al. (2014) exploited. The three fields are then interleaved by a secret permutation of the pair
(a record-level filter as in Durham et al. 2013), so that without the key nobody can even tell which bits belong
to names.

The answering side knows the key, so it compares name fields by the Dice coefficient and checks its own record's
date and document elements for membership in the query's fields (``match.py``).
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from avellino.hitcheck.keys import PairKeys
from avellino.hitcheck.persons import PersonValues
from avellino.resolve.features import parse_dob
from avellino.resolve.identifiers import normalise_document, normalise_phone, region_code
from avellino.resolve.names import _skel, parse_name

NAME_BITS = 1024
DOB_BITS = 256
DOC_BITS = 256
BITS = NAME_BITS + DOB_BITS + DOC_BITS
K_NAME = 12
K_DOB = 16
K_DOC = 16
NAME_WORDS = NAME_BITS // 64
_DOB_AT = NAME_BITS
_DOC_AT = NAME_BITS + DOB_BITS


# -- elements -----------------------------------------------------------------------------------------------


@lru_cache(maxsize=200_000)
def _name_parts(name: str) -> tuple[str, ...]:
    parsed = parse_name(name)
    return tuple(dict.fromkeys([*parsed.tokens, *parsed.alternates]))


def _bigrams(word: str) -> list[str]:
    padded = f"_{word}_"
    return [padded[i : i + 2] for i in range(len(padded) - 1)]


@lru_cache(maxsize=200_000)
def _part_elements(part: str) -> tuple[str, ...]:
    skel = _skel(part)
    return tuple(dict.fromkeys([f"t{g}" for g in _bigrams(part)] + ([f"s{g}" for g in _bigrams(skel)] if skel else [])))


def name_elements(names: Iterable[str]) -> set[str]:
    """The name field's elements: Latin and skeleton bigrams of every part of every name."""
    out: set[str] = set()
    for name in names:
        for part in _name_parts(name):
            out.update(_part_elements(part))
    return out


@lru_cache(maxsize=200_000)
def _date(value: str) -> tuple[int, int, int] | None:
    parsed = parse_dob(value)
    if parsed is None:
        return None
    year, month, day = parsed
    if (month, day) == (1, 1):  # the placeholder partners type for "born some time that year"
        return (year, 0, 0)
    return parsed


def dates(dobs: Iterable[str]) -> list[tuple[int, int, int]]:
    """Parsed birth dates ``(y, m, d)``; month/day 0 where unknown."""
    return list(dict.fromkeys(d for d in (_date(v) for v in dobs) if d is not None))


def date_elements(date: tuple[int, int, int]) -> list[str]:
    """``y``, ``ym``, ``ymd`` and ``md`` elements of a date, and ``pd`` when the day is known (so that the answering
    side can tell "born in 1987" from "born on another day of 1987")."""
    year, month, day = date
    out = [f"y{year:04d}"]
    if month:
        out.append(f"ym{year:04d}{month:02d}")
        if day:
            out += [f"ymd{year:04d}{month:02d}{day:02d}", f"md{month:02d}{day:02d}", DAY_KNOWN]
    return out


#: The date element that says a date has its day (not the year or month alone).
DAY_KNOWN = "pd"


def documents(person: PersonValues) -> list[str]:
    """The record's strong identifiers as elements: document numbers and phone numbers (E.164; a number without
    country code is read in the originator's country)."""
    docs = [f"doc{d}" for d in (normalise_document(v) for v in person.documents) if d]
    region = _region(person.originator)
    phones = [f"tel{p}" for p in (normalise_phone(v, region) for v in person.phones) if p]
    return list(dict.fromkeys(docs + phones))


#: Document-field elements that say the record has a document number / a phone number at all, so that the
#: answering side can tell "none in common" (evidence against) from "none on one side" (no evidence).
HAS_DOCUMENT, HAS_PHONE = "has:doc", "has:tel"


def id_markers(ids: list[str]) -> list[str]:
    return ([HAS_DOCUMENT] if any(i.startswith("doc") for i in ids) else []) + (
        [HAS_PHONE] if any(i.startswith("tel") for i in ids) else []
    )


def _region(originator: str | None) -> str | None:
    """``UK-NCA`` -> ``GB``: the country of a node named with a leading ISO code (the sample's partners are)."""
    if not originator or len(originator) < 3 or originator[2] != "-":
        return None
    return region_code(originator[:2])


# -- hashing ------------------------------------------------------------------------------------------------


class Hasher:
    """Element -> bit positions under one pair's keys (HMAC-SHA256, random hashing), cached per element."""

    def __init__(self, keys: PairKeys):
        self.keys = keys
        self._cache: dict[tuple[int, str], np.ndarray] = {}
        self._tokens: dict[str, int] = {}
        self._fields = {
            0: (keys.name, K_NAME, NAME_BITS, 0),
            1: (keys.dob, K_DOB, DOB_BITS, _DOB_AT),
            2: (keys.document, K_DOC, DOC_BITS, _DOC_AT),
        }

    def token(self, value: str) -> int:
        """A 48-bit keyed blocking token."""
        found = self._tokens.get(value)
        if found is None:
            found = self._tokens[value] = int.from_bytes(
                hmac.digest(self.keys.blocking, value.encode("utf-8"), "sha256")[:6], "big"
            )
        return found

    def positions(self, fld: int, element: str) -> np.ndarray:
        """The ``k`` positions (in the unpermuted record filter) of one element of field 0 (name), 1 (dob) or
        2 (document)."""
        found = self._cache.get((fld, element))
        if found is None:
            key, k, bits, offset = self._fields[fld]
            digest = b""
            counter = 0
            while len(digest) < 2 * k:
                digest += hmac.digest(key, counter.to_bytes(1, "big") + element.encode("utf-8"), "sha256")
                counter += 1
            raw = np.frombuffer(digest[: 2 * k], dtype=">u2").astype(np.int64)
            found = offset + (raw % bits)
            self._cache[(fld, element)] = found
        return found


# -- encoded persons ----------------------------------------------------------------------------------------


@dataclass
class Encoded:
    """Encodings of many persons: ``bits`` (n x BITS, bool, unpermuted) and blocking tokens, ids in the same
    order. ``tokens`` is (m, 2): person index, token."""

    ids: list[str]
    bits: np.ndarray
    tokens: np.ndarray
    tail: np.ndarray | None = None  #: the date and document fields packed (match.py fills it once)

    def __len__(self) -> int:
        return len(self.ids)

    def name_words(self) -> np.ndarray:
        """The name field packed into uint64 words (n x NAME_WORDS), for Dice by popcount."""
        packed = np.packbits(self.bits[:, :NAME_BITS], axis=1)
        return np.ascontiguousarray(packed).view(np.uint64)

    def dob_present(self) -> np.ndarray:
        return np.asarray(self.bits[:, _DOB_AT:_DOC_AT].any(axis=1))

    def doc_present(self) -> np.ndarray:
        return np.asarray(self.bits[:, _DOC_AT:].any(axis=1))


def blocking_tokens(person: PersonValues, hasher: Hasher) -> list[int]:
    """Keyed blocking tokens (after the P-Sig signatures of blocklib, Zhang et al. 2018): every pair of name
    parts by skeleton, every part's skeleton alone and with each birth year, the initial of each part with each
    birth year, every document and phone number. Two records of one person nearly always
    share one; two records of different people rarely do, so the answering side compares only those pairs."""
    skels = sorted({s for name in person.names for s in (_skel(p) for p in _name_parts(name)) if len(s) > 1})
    years = sorted({y for y, _, _ in dates(person.dobs)})
    values = [f"p{a}|{b}" for i, a in enumerate(skels) for b in skels[i + 1 :]][:MAX_PAIR_TOKENS]
    values += [f"y{a}|{y}" for a in skels for y in years]
    values += [f"s{a}" for a in skels if len(a) > 2]
    values += [f"i{i}|{y}" for i in sorted({a[0] for a in skels}) for y in years]
    values += [f"d{d}" for d in documents(person)]
    return [hasher.token(v) for v in values]


MAX_PAIR_TOKENS = 15


def encode(persons: Sequence[PersonValues], hasher: Hasher) -> Encoded:
    """The record-level filters of ``persons`` (unpermuted; ``to_wire`` permutes and packs them)."""
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    tokens: list[tuple[int, int]] = []
    for i, person in enumerate(persons):
        tokens += [(i, t) for t in blocking_tokens(person, hasher)]
        positions = [hasher.positions(0, e) for e in sorted(name_elements(person.names))]
        for date in dates(person.dobs):
            positions += [hasher.positions(1, e) for e in date_elements(date)]
        ids = documents(person)
        positions += [hasher.positions(2, d) for d in ids + id_markers(ids)]
        if positions:
            flat = np.concatenate(positions)
            cols.append(flat)
            rows.append(np.full(flat.shape, i, dtype=np.int64))
    bits = np.zeros((len(persons), BITS), dtype=bool)
    if rows:
        bits[np.concatenate(rows), np.concatenate(cols)] = True
    table = np.array(tokens, dtype=np.int64).reshape(-1, 2)
    return Encoded([p.id for p in persons], bits, table)


# -- the wire form ------------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def permutation(key: bytes) -> np.ndarray:
    """The pair's secret order of the record filter's bits (interleaves name, date and document fields)."""
    seed = int.from_bytes(hmac.digest(key, b"permutation", "sha256"), "big")
    return np.random.default_rng(seed).permutation(BITS)


def to_wire(encoded: Encoded, keys: PairKeys) -> list[str]:
    """One base64 string per person: the permuted filter, packed (192 bytes)."""
    perm = permutation(keys.permutation)
    packed = np.packbits(encoded.bits[:, perm], axis=1)
    return [base64.b64encode(row.tobytes()).decode("ascii") for row in packed]


def from_wire(ids: list[str], filters: list[str], keys: PairKeys) -> Encoded:
    """The unpermuted filters of a query (the inverse of ``to_wire``); ValueError on a malformed filter."""
    raw = b"".join(_unb64(f, BITS // 8) for f in filters)
    packed = np.frombuffer(raw, dtype=np.uint8).reshape(len(filters), BITS // 8)
    permuted = np.unpackbits(packed, axis=1).astype(bool)
    bits = np.empty_like(permuted)
    bits[:, permutation(keys.permutation)] = permuted
    return Encoded(list(ids), bits, np.empty((0, 2), dtype=np.int64))


def _unb64(text: str, size: int) -> bytes:
    data = base64.b64decode(text.encode("ascii"), validate=True)
    if len(data) != size:
        raise ValueError(f"an encoding must be {size} bytes, not {len(data)}")
    return data
