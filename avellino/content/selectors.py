"""Selectors in a post: phone numbers, messenger handles and links, prices, places and routes, dates.

Phones are read by ``phonenumbers`` (E.164 out) after the disguises posters use are undone: digits in other
scripts (Arabic-Indic, Persian, Devanagari...: any Unicode decimal digit), emoji keycaps (0️⃣-9️⃣), digits written
as words ("zero seven seven..."; English, French, German, Italian, Spanish), and separators (spaces, dots, dashes,
brackets). wa.me and api.whatsapp.com links carry the number too. Places are the sample operation's gazetteer
(departures, arrivals and route stops, ``avellino/sample``) plus destination countries; a route is two places
joined by "to", "->", "→" or "-".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import phonenumbers


@dataclass(frozen=True)
class Selector:
    kind: str  # phone | whatsapp | telegram | signal | price | place | route | date
    value: str  # normalised: E.164, handle, "4000 GBP", place name, "Calais -> Dover", ISO date or as written
    text: str  # as found (after digit normalisation)


KEYCAP = re.compile("([0-9])\ufe0f?\u20e3")
NUMBER_WORDS = {
    # en
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9",
    # fr
    "zéro": "0", "un": "1", "deux": "2", "trois": "3", "quatre": "4", "cinq": "5", "sept": "7", "huit": "8",
    "neuf": "9",
    # de
    "null": "0", "eins": "1", "zwei": "2", "drei": "3", "vier": "4", "fünf": "5", "sechs": "6", "sieben": "7",
    "acht": "8", "neun": "9",
    # it / es
    "uno": "1", "due": "2", "tre": "3", "quattro": "4", "cinque": "5", "sei": "6", "sette": "7", "otto": "8",
    "nove": "9", "cero": "0", "dos": "2", "tres": "3", "cuatro": "4", "cinco": "5", "seis": "6", "siete": "7",
    "ocho": "8", "nueve": "9",
}  # fmt: skip
_WORD = "|".join(sorted(map(re.escape, NUMBER_WORDS), key=len, reverse=True))
WORD_RUN = re.compile(rf"\b(?:(?:{_WORD})[\s,.-]*){{4,}}\b", re.IGNORECASE)


def normalise_digits(text: str) -> str:
    """Every Unicode decimal digit as ASCII, emoji keycaps as digits, runs of four or more digit words as digits."""
    text = KEYCAP.sub(r"\1", text)
    text = "".join(str(unicodedata.digit(ch)) if ch.isdigit() and not ch.isascii() else ch for ch in text)

    def words(m: re.Match[str]) -> str:
        tokens = re.findall(_WORD, m.group(0), flags=re.IGNORECASE)
        return "".join(NUMBER_WORDS[t.lower()] for t in tokens) + " "

    return WORD_RUN.sub(words, text)


WA_LINK = re.compile(r"(?:wa\.me/|api\.whatsapp\.com/send\?phone=)\+?(\d{7,15})", re.IGNORECASE)
TG_LINK = re.compile(r"(?:t\.me|telegram\.me)/(?!c/|joinchat/|\+)([A-Za-z][A-Za-z0-9_]{3,31})", re.IGNORECASE)
TG_HANDLE = re.compile(r"(?:telegram|tg|تلگرام|تلغرام|ټلګرام|تێلێگرام)\s*[:：]?\s*@([A-Za-z][A-Za-z0-9_]{3,31})", re.I)
SIGNAL_LINK = re.compile(r"signal\.me/#p/(\+\d{7,15})", re.IGNORECASE)
SERVICE_BEFORE = re.compile(
    r"(whats\s?app|واتساب|واتساپ|واټساپ|واتسپ|telegram|tg|تلگرام|تلغرام|ټلګرام|تێلێگرام|signal|viber|imo)\W{0,3}$", re.I
)
SERVICES = {"whatsapp": "whatsapp", "whats app": "whatsapp", "واتساب": "whatsapp", "واتساپ": "whatsapp",
            "واټساپ": "whatsapp", "واتسپ": "whatsapp", "telegram": "telegram", "tg": "telegram",
            "تلگرام": "telegram", "تلغرام": "telegram", "ټلګرام": "telegram", "تێلێگرام": "telegram",
            "signal": "signal", "viber": "viber", "imo": "imo"}  # fmt: skip

CURRENCY_WORDS = {
    "£": "GBP", "gbp": "GBP", "pounds": "GBP", "pound": "GBP", "livres": "GBP", "sterline": "GBP", "pfund": "GBP",
    "پوند": "GBP", "باوند": "GBP", "€": "EUR", "eur": "EUR", "euro": "EUR", "euros": "EUR", "يورو": "EUR",
    "یورو": "EUR", "$": "USD", "usd": "USD", "dollars": "USD", "dollar": "USD", "دولار": "USD", "دلار": "USD",
}  # fmt: skip
_CUR = "|".join(sorted(map(re.escape, CURRENCY_WORDS), key=len, reverse=True))
_AMOUNT = r"\d{1,3}(?:[,.\s]\d{3})+|\d+(?:[.,]\d+)?\s?[kK]\b|\d+"
PRICE = re.compile(rf"(?P<c1>{_CUR})\s?(?P<a1>{_AMOUNT})|(?P<a2>{_AMOUNT})\s?(?P<c2>{_CUR})(?![A-Za-z])", re.IGNORECASE)

MONTHS = {
    "jan": 1, "january": 1, "janvier": 1, "januar": 1, "gennaio": 1, "enero": 1, "feb": 2, "february": 2,
    "février": 2, "februar": 2, "febbraio": 2, "febrero": 2, "mar": 3, "march": 3, "mars": 3, "märz": 3,
    "marzo": 3, "apr": 4, "april": 4, "avril": 4, "aprile": 4, "abril": 4, "may": 5, "mai": 5, "maggio": 5,
    "mayo": 5, "jun": 6, "june": 6, "juin": 6, "juni": 6, "giugno": 6, "junio": 6, "jul": 7, "july": 7,
    "juillet": 7, "juli": 7, "luglio": 7, "julio": 7, "aug": 8, "august": 8, "août": 8, "agosto": 8, "sep": 9,
    "sept": 9, "september": 9, "septembre": 9, "settembre": 9, "septiembre": 9, "oct": 10, "october": 10,
    "octobre": 10, "oktober": 10, "ottobre": 10, "octubre": 10, "nov": 11, "november": 11, "novembre": 11,
    "noviembre": 11, "dec": 12, "december": 12, "décembre": 12, "dezember": 12, "dicembre": 12, "diciembre": 12,
}  # fmt: skip
_MON = "|".join(sorted(map(re.escape, MONTHS), key=len, reverse=True))
DATE_ISO = re.compile(r"\b(20\d\d)-(\d\d)-(\d\d)\b")
DATE_DMY = re.compile(r"\b(\d{1,2})[/.](\d{1,2})[/.](20\d\d|\d\d)\b")
DATE_DM = re.compile(r"\b(\d{1,2})/(\d{1,2})\b(?![/.]\d)")
DATE_WORDS = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th|er|\.)?\s+({_MON})\b\.?(?:\s+(20\d\d))?", re.IGNORECASE)


def _gazetteer() -> dict[str, str]:
    from avellino.sample.fields import ARRIVALS, DEPARTURES
    from avellino.sample.observe import ROUTES

    names = {*DEPARTURES, *ARRIVALS, *(stop for _route, stops in ROUTES for stop in stops)}
    countries = (
        "London", "Manchester", "Birmingham",
        "UK", "England", "Britain", "Italy", "Germany", "France", "Belgium", "Europe", "Angleterre",
                 "Inghilterra", "Inglaterra", "Angli", "Italie", "Italien", "Italia", "Allemagne", "Germania",
                 "Alemania", "Deutschland", "Libya", "Turkey", "Greece")  # fmt: skip
    return {n.lower(): n for n in (*names, *countries)}


GAZETTEER = _gazetteer()
_PLACE = "|".join(sorted(map(re.escape, GAZETTEER.values()), key=len, reverse=True))
PLACE = re.compile(rf"(?<!\w)({_PLACE})(?!\w)", re.IGNORECASE)
ROUTE = re.compile(rf"(?<!\w)({_PLACE})\s*(?:to|->|→|-|>|vers|nach|a|per|para)\s*({_PLACE})(?!\w)", re.IGNORECASE)


def phones(text: str, region: str = "GB") -> list[Selector]:
    """E.164 numbers of a post (already digit-normalised), with the messenger named before each, if any."""
    out: dict[str, Selector] = {}
    for m in WA_LINK.finditer(text):
        try:
            num = phonenumbers.parse("+" + m.group(1), None)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(num):
            e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
            out.setdefault(e164, Selector("phone", e164, m.group(0)))
            out.setdefault("whatsapp:" + e164, Selector("whatsapp", e164, m.group(0)))
    for m in SIGNAL_LINK.finditer(text):
        out.setdefault("signal:" + m.group(1), Selector("signal", m.group(1), m.group(0)))
    # dots between digit groups read as separators: "+33.6.12.34.56.78"
    dotted = re.sub(r"(?<=\d)\.(?=\d)", " ", text)
    for match in phonenumbers.PhoneNumberMatcher(dotted, region, leniency=phonenumbers.Leniency.VALID):
        e164 = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        out.setdefault(e164, Selector("phone", e164, match.raw_string))
        service = SERVICE_BEFORE.search(dotted[: match.start].rstrip())
        if service:
            name = SERVICES.get(service.group(1).lower().replace("  ", " "), "whatsapp")
            out.setdefault(f"{name}:{e164}", Selector(name, e164, service.group(0) + match.raw_string))
    return list(out.values())


def _amount(raw: str) -> float | None:
    raw = raw.strip().replace(" ", "")
    if raw[-1:] in {"k", "K"}:
        try:
            return float(raw[:-1].replace(",", ".")) * 1000
        except ValueError:
            return None
    if re.fullmatch(r"\d{1,3}(?:[,.]\d{3})+", raw):
        return float(re.sub(r"[,.]", "", raw))
    try:
        return float(raw.replace(",", "."))
    except ValueError:
        return None


def prices(text: str) -> list[Selector]:
    out = []
    for m in PRICE.finditer(text):
        cur = CURRENCY_WORDS[(m.group("c1") or m.group("c2")).lower()]
        amount = _amount(m.group("a1") or m.group("a2"))
        if amount is None or amount < 10:
            continue
        out.append(Selector("price", f"{amount:g} {cur}", m.group(0).strip()))
    return out


def places(text: str) -> list[Selector]:
    out = {}
    for m in ROUTE.finditer(text):
        a, b = GAZETTEER[m.group(1).lower()], GAZETTEER[m.group(2).lower()]
        if a != b:
            out[f"route:{a}:{b}"] = Selector("route", f"{a} -> {b}", m.group(0))
    for m in PLACE.finditer(text):
        name = GAZETTEER[m.group(1).lower()]
        out.setdefault(f"place:{name}", Selector("place", name, m.group(0)))
    return list(out.values())


def dates(text: str) -> list[Selector]:
    out: dict[str, Selector] = {}
    for m in DATE_ISO.finditer(text):
        out.setdefault(m.group(0), Selector("date", m.group(0), m.group(0)))
    for m in DATE_DMY.finditer(text):
        d, mo, y = int(m.group(1)), int(m.group(2)), m.group(3)
        year = int(y) + (2000 if len(y) == 2 else 0)
        if 1 <= d <= 31 and 1 <= mo <= 12:
            value = f"{year:04d}-{mo:02d}-{d:02d}"
            out.setdefault(value, Selector("date", value, m.group(0)))
    for m in DATE_WORDS.finditer(text):
        d, mo = int(m.group(1)), MONTHS[m.group(2).lower()]
        if 1 <= d <= 31:
            value = f"{m.group(3)}-{mo:02d}-{d:02d}" if m.group(3) else f"--{mo:02d}-{d:02d}"
            out.setdefault(value, Selector("date", value, m.group(0)))
    for m in DATE_DM.finditer(text):
        if m.group(0) == "24/7":  # "open 24/7", not the 24th of July
            continue
        d, mo = int(m.group(1)), int(m.group(2))
        if 1 <= d <= 31 and 1 <= mo <= 12:
            value = f"--{mo:02d}-{d:02d}"
            out.setdefault(value, Selector("date", value, m.group(0)))
    return list(out.values())


def handles(text: str) -> list[Selector]:
    out = {}
    for m in TG_LINK.finditer(text):
        out["telegram:" + m.group(1).lower()] = Selector("telegram", "@" + m.group(1), m.group(0))
    for m in TG_HANDLE.finditer(text):
        out.setdefault("telegram:" + m.group(1).lower(), Selector("telegram", "@" + m.group(1), m.group(0)))
    return list(out.values())


def extract(text: str, region: str = "GB") -> list[Selector]:
    """Every selector of one post; ``region`` reads numbers written without a country code."""
    norm = normalise_digits(text)
    found = phones(norm, region) + handles(norm)
    # a phone's digits are not also a price or a date
    masked = norm
    for s in found:
        if s.kind == "phone":
            masked = masked.replace(s.text, " " * len(s.text))
    masked = WA_LINK.sub(lambda m: " " * len(m.group(0)), masked)
    return found + prices(masked) + places(norm) + dates(masked)
