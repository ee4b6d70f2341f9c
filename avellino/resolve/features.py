"""From any table of person records to the feature table Splink compares.

Callers say which of their columns plays which *role* (``given_name=prenom,dob=date_naissance``); every role is
optional, and the model only compares the roles it was given. Work is done once per distinct value (names,
dates, phones repeat a lot across partners), so a million records cost seconds, not minutes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from avellino.errors import ConfigError
from avellino.resolve.identifiers import (
    normalise_document,
    normalise_email,
    normalise_iban,
    normalise_imo,
    normalise_mmsi,
    normalise_phone,
    normalise_plate,
    region_code,
)
from avellino.resolve.names import fold_ascii, name_features

NAME_ROLES = ("given_name", "middle_name", "surname", "full_name")
TEXT_ROLES = ("place_of_birth", "address", "city", "postcode")
CODE_ROLES = ("nationality", "sex")
ID_ROLES = ("phone", "passport", "id_number", "iban", "imo", "mmsi", "plate", "email")
OTHER_ROLES = ("dob", "country")
ROLES = NAME_ROLES + TEXT_ROLES + CODE_ROLES + ID_ROLES + OTHER_ROLES
_MULTI = re.compile(r"\s*[;|,]\s*")


def parse_roles(spec: str) -> dict[str, str]:
    """``given_name=first,dob=birth_date`` -> ``{"given_name": "first", "dob": "birth_date"}``."""
    roles: dict[str, str] = {}
    for item in filter(None, (s.strip() for s in spec.split(","))):
        if "=" not in item:
            raise ConfigError(f"--columns: {item!r} is not ROLE=COLUMN (e.g. given_name=first_name)")
        role, col = (s.strip() for s in item.split("=", 1))
        if role not in ROLES:
            raise ConfigError(f"--columns: unknown role {role!r}; known roles: {', '.join(ROLES)}")
        roles[role] = col
    if not any(r in roles for r in NAME_ROLES):
        raise ConfigError("--columns needs at least one name role: full_name, given_name or surname")
    return roles


# month names and abbreviations (first three letters) in the languages partners write dates in
_MONTHS = {
    **{
        m: i + 1
        for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])
    },
    **{"fev": 2, "fév": 2, "avr": 4, "mai": 5, "jui": 7, "aoû": 8, "aou": 8, "déc": 12},  # French (juin: jun)
    **{"ene": 1, "abr": 4, "ago": 8, "dic": 12, "set": 9},  # Spanish, Italian
    **{"mär": 3, "mrz": 3, "okt": 10, "dez": 12},  # German
}


@lru_cache(maxsize=500_000)
def parse_dob(value: str) -> tuple[int, int, int] | None:
    """(year, month, day) from the spellings partners use; day-first when ambiguous (European partners).

    Accepts ``1987-03-04``, ``19870304``, ``04/03/1987``, ``4.3.1987``, ``1987`` (gives month=day=0, which the
    model treats as "year only"), month names in English, French, Spanish or German (``31 Jan 1939``,
    ``Feb 1968``: month only gives day=0), ``circa 1969``. A range (``1962 to 1965``, ``1962-1965``) or several
    dates (``1970; 1971``) give the first. Impossible dates give ``None`` rather than a guess.
    """
    text = value.strip().lower()
    text = re.split(r"\s*(?:;|\bto\b|\bor\b|\balt\b)\s*", text)[0]
    m = re.fullmatch(r"(?:circa|ca\.?|c\.|approx\.?|about)?\s*(?:(\d{1,2})\s+)?([a-zé]{3,})\.?\s+(\d{4})", text)
    if m and m.group(2)[:3] in _MONTHS:
        month = 6 if m.group(2).startswith("juin") else _MONTHS[m.group(2)[:3]]
        day = int(m.group(1)) if m.group(1) else 0
        year = int(m.group(3))
        if day:
            try:
                date(year, month, day)
            except ValueError:
                return None
        return (year, month, day)
    text = re.sub(r"^(?:circa|ca\.?|c\.|approx\.?|about)\s*", "", text)
    if re.fullmatch(r"\d{4}\s*-\s*\d{4}", text):  # a span of years
        text = text[:4]
    if text.endswith(".0"):  # numeric columns read by pandas as float
        text = text[:-2]
    digits = re.findall(r"\d+", text)
    parts: list[int]
    if len(digits) == 1 and len(digits[0]) == 8:
        d = digits[0]
        parts = [int(d[:4]), int(d[4:6]), int(d[6:])]
    elif len(digits) == 1 and len(digits[0]) == 4:
        return (int(digits[0]), 0, 0)
    elif len(digits) >= 3:
        a, b, c = (int(x) for x in digits[:3])
        parts = [a, b, c] if len(digits[0]) == 4 else [c, b, a]
    else:
        return None
    year, month, day = parts
    if year < 100:
        year += 1900 if year > date.today().year % 100 else 2000
    try:
        date(year, month, day)
    except ValueError:
        try:  # month-first writing (US style): 03/25/1987
            date(year, day, month)
            month, day = day, month
        except ValueError:
            return None
    return (year, month, day)


# how partners write sex, folded to ASCII (English, French, German, Spanish, Italian; French forms use H/F, German
# ones M/W); a trailing full stop is dropped by the folding
_SEX = {
    **dict.fromkeys(("m", "male", "man", "h", "homme", "masculin", "mannlich", "maennlich"), "M"),
    **dict.fromkeys(("masculino", "hombre", "varon", "maschio", "maschile"), "M"),
    **dict.fromkeys(("f", "female", "woman", "femme", "feminin", "w", "weiblich"), "F"),
    **dict.fromkeys(("femenino", "mujer", "femmina", "femminile"), "F"),
}


def normalise_sex(value: str) -> str | None:
    """``M``, ``F`` or None: ``Male``/``man``/``M.``/``homme``/``masculin``/``männlich`` -> ``M``; ``female``/
    ``woman``/``femme``/``weiblich`` -> ``F``; anything else (``unknown``, ``X``, blank) gives no evidence."""
    return _SEX.get(fold_ascii(value))


def _column(df: pd.DataFrame, roles: Mapping[str, str], role: str) -> pd.Series | None:
    col = roles.get(role)
    if col is None:
        return None
    if col not in df.columns:
        raise ConfigError(f"--columns: column {col!r} (role {role}) is not in the input; it has {list(df.columns)}")
    return df[col].astype("string").str.strip().replace("", pd.NA)


def _map_unique(series: pd.Series, fn: Callable[[str], Any]) -> pd.Series:
    """Apply ``fn`` once per distinct non-null value."""
    codes, values = _per_unique(series, fn)
    return _spread(codes, values, series.index)


def _per_unique(series: pd.Series, fn: Callable[[str], Any]) -> tuple[np.ndarray, list[Any]]:
    """``fn`` once per distinct non-null value: (code per row, -1 where null; results by code)."""
    codes, uniques = pd.factorize(series.astype("object"), use_na_sentinel=True)
    return codes, [fn(u) if isinstance(u, str) else None for u in uniques]


def _spread(codes: np.ndarray, values: list[Any], index: pd.Index) -> pd.Series:
    """Per-distinct ``values`` back to one per row (None where the code is -1), by one numpy take."""
    table = np.empty(len(values) + 1, dtype=object)
    table[: len(values)] = values
    table[len(values)] = None
    return pd.Series(table[codes], index=index, dtype="object")  # code -1 reads the trailing None


def _names(df: pd.DataFrame, roles: Mapping[str, str], learned: bool) -> pd.DataFrame:
    parts = [_column(df, roles, r) for r in ("given_name", "middle_name", "surname")]
    joined = pd.Series([None] * len(df), index=df.index, dtype="object")
    if any(p is not None for p in parts):
        frame = pd.concat([p for p in parts if p is not None], axis=1)
        # vectorised join (given middle surname), blanks skipped: a million rows in about a second
        text = frame.fillna("").astype(str).agg(" ".join, axis=1).str.split().str.join(" ")
        joined = text.where(text != "", None).astype("object")
    full = _column(df, roles, "full_name")
    if full is not None:
        joined = full.where(full.notna(), joined)
    codes, feats = _per_unique(joined, lambda s: name_features(s, learned))
    columns: dict[str, list[Any]] = {
        "name_key": [f.key if f else None for f in feats],
        "name_skel": [f.skel if f else None for f in feats],
        "name_tokens": [f.tokens if f and f.tokens else None for f in feats],
        "name_skels": [f.skeletons if f and f.skeletons else None for f in feats],
        "skel_min": [f.skeletons[0] if f and f.skeletons else None for f in feats],
        "skel_max": [f.skeletons[-1] if f and f.skeletons else None for f in feats],
        "name_first": [f.first if f else None for f in feats],
        "name_phon": [f.phonetic if f and f.phonetic else None for f in feats],
    }
    out = pd.DataFrame({"name": joined}, index=df.index)
    for column, values in columns.items():
        out[column] = _spread(codes, values, df.index)
    return out


def _dob(df: pd.DataFrame, roles: Mapping[str, str]) -> pd.DataFrame:
    out = pd.DataFrame(index=df.index)
    col = _column(df, roles, "dob")
    if col is None:
        return out
    codes, parsed = _per_unique(col, parse_dob)
    out["dob_y"] = _spread(codes, [str(p[0]) if p else None for p in parsed], df.index)
    out["dob_m"] = _spread(codes, [f"{p[1]:02d}" if p and p[1] else None for p in parsed], df.index)
    out["dob_d"] = _spread(codes, [f"{p[2]:02d}" if p and p[2] else None for p in parsed], df.index)
    out["dob"] = _spread(codes, [f"{p[0]:04d}-{p[1]:02d}-{p[2]:02d}" if p and p[1] else None for p in parsed], df.index)
    return out


def _multi(series: pd.Series, fn: Callable[[str], str | None]) -> pd.Series:
    """A cell may hold several values (``+44..; +33..``): a sorted list of the usable normalised ones."""
    return _map_unique(series, lambda s: sorted({v for v in (fn(x) for x in _MULTI.split(s)) if v}) or None)


def build_features(
    df: pd.DataFrame,
    roles: Mapping[str, str],
    id_column: str,
    source_column: str | None = None,
    default_country: str | None = None,
    learned_names: bool = True,
) -> pd.DataFrame:
    """The Splink input table: ``unique_id``, optional ``source_dataset`` and one set of columns per role."""
    df = df.reset_index(drop=True)  # callers may hand us concatenated frames with repeated index labels
    if id_column not in df.columns:
        raise ConfigError(f"--id-column {id_column!r} is not in the input; it has {list(df.columns)}")
    out = pd.DataFrame({"unique_id": df[id_column].astype("string")})
    if out["unique_id"].isna().any() or out["unique_id"].duplicated().any():
        dup = out["unique_id"][out["unique_id"].duplicated()].head(3).tolist()
        raise ConfigError(f"--id-column {id_column!r} must be unique and non-empty (repeated: {dup})")
    if source_column:
        if source_column not in df.columns:
            raise ConfigError(f"--source-column {source_column!r} is not in the input")
        out["source_dataset"] = df[source_column].astype("string").fillna("unknown")
    out = pd.concat([out, _names(df, roles, learned_names), _dob(df, roles)], axis=1)
    for role in TEXT_ROLES:
        col = _column(df, roles, role)
        if col is not None:
            out[role] = _map_unique(col, lambda s: " ".join(fold_ascii(t) for t in s.split()) or None)
    nationality, sex = _column(df, roles, "nationality"), _column(df, roles, "sex")
    if nationality is not None:
        out["nationality"] = _map_unique(
            nationality, lambda s: (region_code(s) if len(s) > 1 else s.upper()) or s.upper()
        )
    if sex is not None:
        out["sex"] = _map_unique(sex, normalise_sex)
    country = _column(df, roles, "country")
    for role in ID_ROLES:
        col = _column(df, roles, role)
        if col is None:
            continue
        if role == "phone":
            out["phones"] = _phones(col, country, default_country)
        elif role == "plate":
            out["plates"] = _multi(col, normalise_plate)
        else:
            fn = {"iban": normalise_iban, "imo": normalise_imo, "mmsi": normalise_mmsi, "email": normalise_email}
            out[f"{role}s"] = _multi(col, fn.get(role, normalise_document))
    return out.reset_index(drop=True)


def _phones(col: pd.Series, country: pd.Series | None, default_country: str | None) -> pd.Series:
    """E.164 phone lists; a number without country code is read in the record's (or originator's) country."""
    values = col.astype("object").to_numpy()
    regions = country.astype("object").to_numpy() if country is not None else [default_country] * len(values)
    lookup: dict[tuple[Any, Any], list[str] | None] = {}
    result: list[list[str] | None] = []
    for value, region in zip(values, regions, strict=True):
        key = (value, region)
        if key not in lookup:
            reg = region if isinstance(region, str) else default_country
            phones = (
                {p for p in (normalise_phone(x, reg) for x in _MULTI.split(value)) if p}
                if isinstance(value, str)
                else set()
            )
            lookup[key] = sorted(phones) or None
        result.append(lookup[key])
    return pd.Series(result, index=col.index, dtype="object")
