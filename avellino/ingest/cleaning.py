"""Value cleaning with FollowTheMoney's own property types, applied once per distinct value.

Partner files repeat the same phone numbers, nationalities and languages thousands of times; cleaning each
distinct value once in Python (FtM's types wrap phonenumbers, rigour's territory names...) and joining the
result back in SQL keeps FtM's semantics at columnar speed.
"""

from __future__ import annotations

from followthemoney import registry
from followthemoney.exc import InvalidData

#: Types cleaned in SQL (see compile.py) rather than through FtM's Python cleaners.
SQL_TYPES = {"date", "number", "entity", "name", "string", "text", "address"}
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
