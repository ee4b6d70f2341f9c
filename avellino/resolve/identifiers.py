"""Strong identifiers, normalised so that an exact match means "same thing" and a conflict means "different".

Each function returns ``None`` when the value is not a usable identifier (blank, placeholder, wrong checksum),
so a bad value never counts as evidence either way. Phones go through Google's ``phonenumbers``; IBANs and
IMO numbers are checked with their published checksums; everything else is upper-cased and stripped of
separators, which is what partners' differing formats (``AB 123 456``, ``ab-123456``) differ in.
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

_NON_ALNUM = re.compile(r"[^0-9A-Za-z]+")
# Values partners type when they do not know the identifier.
_PLACEHOLDERS = frozenset({"", "UNKNOWN", "NONE", "NULL", "NA", "N/A", "NIL", "0", "00000000", "XXXXXXXX", "-"})

_COUNTRY_ALIASES = {"UK": "GB", "EL": "GR"}


def region_code(country: str | None) -> str | None:
    """An ISO 3166-1 alpha-2 region for phonenumbers from a country code or name (``uk``, ``France``, ``FRA``)."""
    if not country:
        return None
    text = country.strip()
    up = text.upper()
    if len(up) == 2 and up.isalpha():
        return _COUNTRY_ALIASES.get(up, up)
    return _country_from_name(text)


@lru_cache(maxsize=2048)
def _country_from_name(text: str) -> str | None:
    from followthemoney import registry

    code = registry.country.clean(text)
    if not code:
        return None
    code = str(code).upper()
    return code if len(code) == 2 else None


_PHONE_JUNK = re.compile(r"[\s\-./()]+")


def normalise_phone(value: str | None, default_country: str | None = None) -> str | None:
    """E.164 (``+447700900123``). A number without country code is read as from ``default_country``.

    ``default_country`` should be the originator's country (a UK police record of ``07700 900123`` is a UK
    number). Numbers that phonenumbers cannot parse, or that are not possible numbers, give ``None``.
    """
    if not value or not str(value).strip():
        return None
    text = _PHONE_JUNK.sub("", str(value).strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    # the region only matters for numbers written without a country code: keep it out of the cache key otherwise
    return _parse_phone(text, None if text.startswith("+") else default_country)


@lru_cache(maxsize=1_000_000)
def _parse_phone(text: str, default_country: str | None) -> str | None:
    region = region_code(default_country) if default_country else None
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_document(value: str | None) -> str | None:
    """Passport / ID-card / licence numbers: upper-case letters and digits only; placeholders dropped."""
    if value is None:
        return None
    text = _NON_ALNUM.sub("", str(value)).upper()
    if text in _PLACEHOLDERS or len(text) < 4 or len(set(text)) == 1:
        return None
    return text


def normalise_iban(value: str | None) -> str | None:
    """IBAN without spaces, only when the ISO 13616 mod-97 checksum holds."""
    if not value:
        return None
    text = _NON_ALNUM.sub("", str(value)).upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", text):
        return None
    rearranged = text[4:] + text[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return text if int(digits) % 97 == 1 else None


def normalise_imo(value: str | None) -> str | None:
    """``IMO 9074729`` -> ``9074729`` when the IMO check digit holds (weights 7..2 on the first six digits)."""
    if not value:
        return None
    digits = re.sub(r"\D", "", str(value))
    if len(digits) != 7:
        return None
    check = sum(int(d) * w for d, w in zip(digits[:6], range(7, 1, -1), strict=True)) % 10
    return digits if check == int(digits[6]) else None


def normalise_mmsi(value: str | None) -> str | None:
    """Nine-digit MMSI whose first digit is a valid maritime identification start (2-7)."""
    if not value:
        return None
    digits = re.sub(r"\D", "", str(value))
    return digits if len(digits) == 9 and digits[0] in "234567" else None


def normalise_plate(value: str | None, country: str | None = None) -> str | None:
    """Vehicle plates: letters and digits only, upper-case, prefixed with the country when known.

    The country prefix keeps ``AB12CDE`` in the UK apart from the same string in another country.
    """
    text = normalise_document(value)
    if text is None:
        return None
    region = region_code(country) if country else None
    return f"{region}:{text}" if region else text


def normalise_email(value: str | None) -> str | None:
    """Lower-case e-mail address; ``None`` when it has no ``@``."""
    if not value or "@" not in str(value):
        return None
    return str(value).strip().lower()


NORMALISERS = {
    "passport": normalise_document,
    "id_number": normalise_document,
    "iban": normalise_iban,
    "imo": normalise_imo,
    "mmsi": normalise_mmsi,
    "email": normalise_email,
}
