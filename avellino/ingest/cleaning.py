"""Value cleaning with FollowTheMoney's own property types, applied once per distinct value.

Partner files repeat the same phone numbers, nationalities and languages thousands of times; cleaning each
distinct value once in Python (FtM's types wrap phonenumbers, rigour's territory names...) and joining the
result back in SQL keeps FtM's semantics at columnar speed.
"""

from __future__ import annotations

from followthemoney import registry
from followthemoney.exc import InvalidData

from avellino.ingest.sql import q

#: Types cleaned in SQL (see compile.py) rather than through FtM's Python cleaners.
SQL_TYPES = {"date", "number", "entity", "name", "string", "text", "address", "phone"}
#: SQL tests (over ``value``) for values FtM's cleaner provably returns unchanged, so they skip the Python
#: round trip. Why: URLs go through rigour's ``clean_url`` at ~40 us each (2.4 of the 42 CPU-seconds of preparing
#: the 1M-record sample, where every advert URL is distinct). Both tests are deliberately narrow: a value
#: outside them is cleaned by FtM exactly as before (tests/ingest/test_cleaning.py checks the claim).
UNCHANGED_SQL = {
    # sanitize_text only: NFC, unsafe characters, outer whitespace; printable ASCII has none of these
    "identifier": "regexp_full_match(value, '[!-~]([ -~]*[!-~])?')",
    # scheme, ASCII host name (labels, a letters-only suffix), then a path of letters, marks, digits and URL
    # punctuation (no query, fragment, params, escapes or spaces): urlparse/geturl give it back as it is
    "url": (
        "regexp_full_match(value, 'https?://([A-Za-z0-9][A-Za-z0-9-]{0,62}\\.)+[A-Za-z]{2,63}"
        "/[\\p{L}\\p{M}\\p{N}._~!$&()*+,=:@/-]*') AND nfc_normalize(value) = value"
    ),
}
#: Types whose values must parse; a value that does not is a row error. Others fall back to the trimmed text.
STRICT_TYPES = {"date", "number"}


def clean_value(type_name: str, raw: str, country: str | None) -> str | None:
    """FtM's cleaned form of ``raw``, or None when FtM cannot read it."""
    ptype = registry.get(type_name)
    if ptype is None:
        return raw
    try:
        if type_name == "phone":
            return ptype.clean(raw, format=country.lower() if country else None)
        return ptype.clean(raw)
    except InvalidData:
        return None


def clean_distinct(pairs: list[tuple[str, str, str | None]]) -> list[tuple[str, str, str | None, str | None]]:
    """For (type, raw, country) triples return (type, raw, country, cleaned)."""
    return [(t, raw, c, clean_value(t, raw, c)) for t, raw, c in pairs]


def phone_sql(raw: str, country: str | None, digits: str | None = None, e164: str | None = None) -> str:
    """E.164 normalisation in SQL, using phonenumbers' own metadata (country calling code, national trunk
    prefix, international prefix of the mapping's country).

    Why not FtM's phone cleaner: it runs phonenumbers' full parse-and-validate at ~5,000 numbers/s, which alone
    would cap ingest far below 50,000 records/s on partner files where most numbers are distinct. This keeps the
    same E.164 result for well-formed numbers; number-range validity is checked later, in resolution, where
    each distinct number is examined once. A value that cannot be put in E.164 form is kept as written.

    ``digits`` and ``e164`` name columns already holding :func:`phone_digits_sql` and :func:`phone_e164_sql` of
    ``raw`` (DuckDB does not share a repeated sub-expression between the branches of a CASE, so the one
    expression computes the digits up to eight times)."""
    e164 = e164 or phone_e164_sql(raw, country, digits)
    return f"(CASE WHEN length({e164}) BETWEEN 9 AND 16 THEN {e164} ELSE {raw} END)"


def phone_digits_sql(raw: str) -> str:
    """A phone number's digits."""
    return f"regexp_replace({raw}, '[^0-9]', '', 'g')"


def phone_e164_sql(raw: str, country: str | None, digits: str | None = None) -> str:
    """``+`` and the international digits of a phone number (before the length check of :func:`phone_sql`)."""
    d = digits or phone_digits_sql(raw)
    intl = "00"
    national = "NULL"
    if country:
        from phonenumbers.phonemetadata import PhoneMetadata

        meta = PhoneMetadata.metadata_for_region(country.upper())
        if meta is not None:
            intl = str(meta.international_prefix) if (meta.international_prefix or "").isdigit() else "00"
            trunk = meta.national_prefix or ""
            rest = f"substr({d}, {len(trunk) + 1})" if trunk else d
            test = f"starts_with({d}, {q(trunk)})" if trunk else "true"
            national = f"'+{meta.country_code}' || (CASE WHEN {test} THEN {rest} ELSE {d} END)"
    return (
        f"(CASE WHEN starts_with(ltrim({raw}), '+') THEN '+' || {d} "
        f"WHEN starts_with({d}, {q(intl)}) THEN '+' || substr({d}, {len(intl) + 1}) ELSE {national} END)"
    )
