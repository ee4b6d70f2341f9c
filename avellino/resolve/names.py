"""Names across spellings and scripts: the features that the Splink name comparisons read.

A partner writes ``Muhammad Al-Hassan``, another ``ALHASSAN Mohamed``, a third ``محمد الحسن``. We turn every name
into three things, once per distinct token (cached, so a million records cost a few thousand look-ups):

* ``tokens``: Latin, lower-case ASCII name parts, with particles dealt with (``al-``/``el-``/``bin``/``ibn``
  dropped, ``abd al``/``abdul``/``abdel`` and ``abu``/``abou`` glued to the part they belong to), in sorted
  order so that ``surname given`` and ``given surname`` agree;
* ``skeletons``: a romanisation-insensitive key per part (:func:`skeleton`): ``Mohammed``, ``Muhammad``,
  ``Mohamad`` and ``Mehmed`` share ``mhmt``; ``Abderrahmane`` and ``Abdulrahman`` share ``abtrhmn``;
* the Latin reading of non-Latin scripts: Arabic-script names (Arabic, Persian, Kurdish Sorani, Pashto)
  through the learned model in :mod:`avellino.resolve.translit`, every other script (Cyrillic, Ge'ez for
  Tigrinya, Greek...) through ICU's ``Any-Latin``. ``normality`` folds Vietnamese and Albanian diacritics.

The skeleton rules are written by hand because they encode how *officers* romanise, which no library holds;
each rule is a spelling habit seen across the languages in DOMAIN.md, not a rule fitted to one data set.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from avellino.resolve.translit import is_arabic_script, load_model, normalise_arabic

# Articles and connectors that carry no identity: ``al-Hassan`` is ``Hassan``, ``bin Laden`` is ``Laden``.
PARTICLES = frozenset(
    {"al", "el", "ul", "ad", "ar", "as", "at", "az", "ash", "an", "bin", "ben", "ibn", "bint", "binti"}
    | {"ould", "wuld", "walad", "bn", "b", "di", "da", "de", "del", "della", "von", "der", "den", "le"}
)
# Parts that are the first half of a compound name and must be glued to the next part.
_ABD = re.compile(r"^(abd|abdul|abdel|abdal|abdol|abdou|abdur|abder|abdu|abdi|abdoul)$")
_ABU = frozenset({"abu", "abou", "abo", "bou", "abi"})
_ARABIC_PARTICLES = {"بن": "bin", "ابن": "ibn", "بنت": "bint", "ال": "al"}
_ARABIC_GLUE = {"عبد": "abd", "ابو": "abu", "أبو": "abu", "ابي": "abu"}
_SPLIT = re.compile(r"[\s\-‐‑_.,;:/()'’`\"]+")
# Letters ICU's Latin-ASCII leaves alone (Ge'ez schwa, hamza/ayn marks).
_EXTRA_FOLD = str.maketrans({"ǝ": "e", "ə": "e", "ɨ": "i", "ʾ": "", "ʿ": "", "ʼ": "", "ʻ": "", "ı": "i"})


@lru_cache(maxsize=1)
def _icu_any_latin():  # type: ignore[no-untyped-def]
    import icu

    return icu.Transliterator.createInstance("Any-Latin; Latin-ASCII")


@lru_cache(maxsize=200_000)
def icu_latin(text: str) -> str:
    """ICU's ``Any-Latin; Latin-ASCII`` reading of any script (Arabic, Cyrillic, Ge'ez...)."""
    return str(_icu_any_latin().transliterate(text))


def fold_ascii(text: str) -> str:
    """Lower-case a-z only: ``Nguyễn`` -> ``nguyen``, ``Çela`` -> ``cela``, ``hayǝla`` -> ``hayela``."""
    text = unicodedata.normalize("NFKD", text.lower().translate(_EXTRA_FOLD))
    return "".join(ch for ch in text if "a" <= ch <= "z")


@lru_cache(maxsize=500_000)
def latin_token(token: str, learned: bool = True) -> str:
    """One name part in Latin letters. Arabic script goes through the learned model unless ``learned=False``."""
    if token.isascii():
        return fold_ascii(token)
    if is_arabic_script(token):
        word = normalise_arabic(token)
        if word.startswith("ال") and len(word) > 3:  # the article written joined: الحسن -> حسن
            word = word[2:]
        return load_model().decode(word) if learned else fold_ascii(icu_latin(word))
    return fold_ascii(icu_latin(token))


def _strip_article(token: str) -> str:
    """``alhassan`` -> ``hassan``, ``elsayed`` -> ``sayed``, ``arrashid`` -> ``rashid`` (assimilated article)."""
    for art in ("al", "el", "ul"):
        rest = token[len(art) :]
        if token.startswith(art) and len(rest) >= 4 and rest[0] not in "aeiouy":
            return rest
    m = re.match(r"^[ae]([tdrszn])\1(.{3,})$", token)  # ad-din written add-din, ar-rashid as arrashid
    return m.group(1) + m.group(2) if m else token


@lru_cache(maxsize=500_000)
def _token_part(tok: str, learned: bool) -> str:
    """One written word as a Latin part (Arabic particles and glue words as their Latin form); '' if none."""
    if not tok.isascii() and is_arabic_script(tok):
        word = normalise_arabic(tok)
        if word in _ARABIC_PARTICLES:
            return _ARABIC_PARTICLES[word]
        if word in _ARABIC_GLUE:
            return _ARABIC_GLUE[word]
    return latin_token(tok, learned)


def name_tokens(name: str | None, learned: bool = True) -> list[str]:
    """Latin name parts in written order, particles dropped and compound parts glued."""
    if not name:
        return []
    raw = [t for t in _SPLIT.split(_INNER_APOSTROPHE.sub("", name.strip())) if t]
    parts = [p for p in (_token_part(tok, learned) for tok in raw) if p]
    out: list[str] = []
    glue = ""
    for part in parts:
        if _ABD.match(part) or part in _ABU:
            glue += "abd" if _ABD.match(part) else "abu"
            continue
        if part in PARTICLES:
            continue
        out.append(glue + (_strip_article(part) if glue else part))
        glue = ""
    if glue:
        out.append(glue)
    return out


# Generational suffixes: ``KNOWLES, JR., Samuel``, ``HYDE SR., Clive``.
SUFFIXES = frozenset({"jr", "jnr", "sr", "snr", "ii", "iii", "iv"})
# ``a.k.a.``, ``alias``, ``also known as``, ``f.k.a.``, ``n.k.a.``, ``@`` introduce another name of the person.
_AKA = re.compile(
    r"(?:^|\s)(?:a\.?\s?k\.?\s?a\.?|f\.?\s?k\.?\s?a\.?|n\.?\s?k\.?\s?a\.?|alias|also known as)(?=\s|:|$)|\s@\s?",
    re.IGNORECASE,
)
# a nickname or another form in brackets or quotes: ``Jose (Jesus) Enrique``, ``Joaquin "El Chapo" Guzman``
_BRACKETED = re.compile(r"\(([^)]*)\)|\[([^\]]*)\]|\"([^\"]*)\"|“([^”]*)”|«([^»]*)»")
# an apostrophe inside a word is no boundary: ``NAWA'EE``, ``DELL'AQUILA``, ``Sa'id``
_INNER_APOSTROPHE = re.compile(r"(?<=\w)['’`ʼʻ](?=\w)")


@lru_cache(maxsize=200_000)
def _is_upper_word(word: str) -> bool:
    letters = [c for c in word if c.isalpha()]
    return len(letters) > 1 and all(c.isupper() for c in letters)


@dataclass(frozen=True)
class ParsedName:
    """One person name as agencies write it (see :func:`parse_name`)."""

    tokens: list[str]  # the main name's parts, given names first where that is known, particles handled
    surname: list[str]  # the family part when the writing says which it is (``SURNAME, Given``; upper case)
    given: list[str]  # the rest of the main name when the family part is known
    alternates: list[str]  # parts of nicknames and a.k.a. fragments (``(Jesus)``, ``a.k.a. El Chapo``)
    initials: list[str]  # single letters (``Wole A.``): kept apart, too weak to compare as parts


_LEAD = re.compile(r"(\W*)(\w*)")


@lru_cache(maxsize=1)
def _honorific_heads() -> frozenset[str] | None:
    """The first word of each of rigour's honorifics (``his`` of ``His Excellency``), lower-case; None if unknown."""
    try:
        from rigour._core import person_name_prefixes_list
    except ImportError:  # a rigour without the list: every name goes through its regex
        return None
    heads = (re.match(r"\w+", p) for p in person_name_prefixes_list())
    return frozenset(m.group(0).lower() for m in heads if m)


def _drop_honorifics(text: str) -> str:
    """``rigour.names.remove_person_prefixes`` (honorifics at the head, and leading non-word characters), with
    its regex (a 135-way alternation, ~30 us a name) run only when the first word can start an honorific: a
    match needs the honorific's first word to be the text's first word, followed by a non-word character."""
    from rigour.names import remove_person_prefixes

    heads = _honorific_heads()
    lead = _LEAD.match(text)
    if heads is not None and lead is not None and lead.group(2).isascii() and lead.group(2).lower() not in heads:
        return text[lead.end(1) :]
    return remove_person_prefixes(text)


def _parts(text: str, learned: bool) -> tuple[list[str], list[str]]:
    """(name parts, initials) of a fragment: Latin tokens, particles dropped, compounds glued, suffixes dropped."""
    text = _drop_honorifics(_INNER_APOSTROPHE.sub("", text.strip()))
    tokens = name_tokens(text, learned)
    words = [t for t in tokens if t not in SUFFIXES]
    return [t for t in words if len(t) > 1], [t for t in words if len(t) == 1]


def parse_name(name: str | None, learned: bool = True) -> ParsedName:
    """Parse a person name the way agencies write them, into parts a comparison can use in any order.

    * ``SURNAME, Given Names`` (sanctions lists, many exports): the part before the comma is the family part;
      ``Given SURNAME`` / ``SURNAME Given`` with the family part in capitals (mixed case only) likewise; else
      the family part is unknown (``surname`` empty) and the comparisons use the parts in any order;
    * double surnames (``RODRIGUEZ OREJUELA``) and patronymics (``Roman Leonidovich``, ``bin``/``ibn``/``ould``
      chains) stay parts of their own: a record that drops one still has all its parts in the other;
    * particles (``al-``, ``bin``, ``de``, ``von``) and honorifics at the head (``Mr``, ``Dr``, ``General``: the
      list of ``rigour.names.remove_person_prefixes``) and generational suffixes (``Jr``, ``III``) are dropped;
      ``abd al``/``abu`` are glued to the next part;
    * nicknames in brackets or quotes and fragments after ``a.k.a.``/``alias``/``@`` become ``alternates``;
    * single letters are ``initials``; an apostrophe inside a word joins it (``NAWA'EE`` = ``nawaee``);
    * any script: Arabic through the learned model, others through ICU (see :func:`latin_token`).
    """
    if not name or not name.strip():
        return ParsedName([], [], [], [], [])
    text = name.strip()
    alt_texts = [next(g for g in m.groups() if g is not None) for m in _BRACKETED.finditer(text)]
    text = _BRACKETED.sub(" ", text)
    main, *akas = _AKA.split(text)
    alt_texts += akas
    alternates: list[str] = []
    initials: list[str] = []
    for frag in alt_texts:
        parts, inits = _parts(frag, learned)
        alternates += parts
    segments = [seg for seg in main.split(",") if seg.strip()]
    if len(segments) > 1:  # a segment of suffixes only is no name part (``KNOWLES, JR., Samuel``)
        segments = [seg for seg in segments if any(p not in SUFFIXES for p in name_tokens(seg, learned))]
    surname: list[str] = []
    given: list[str] = []
    if len(segments) >= 2:
        surname, inits = _parts(segments[0], learned)
        initials += inits
        given, inits = _parts(" ".join(segments[1:]), learned)
        initials += inits
    else:
        words = " ".join(segments).split()
        upper = [w for w in words if _is_upper_word(w)]
        if upper and len(upper) < len([w for w in words if any(c.isalpha() for c in w)]):
            surname, inits = _parts(" ".join(upper), learned)
            initials += inits
            given, inits = _parts(" ".join(w for w in words if not _is_upper_word(w)), learned)
        else:
            given, inits = _parts(" ".join(words), learned)
        initials += inits
    if not surname:
        return ParsedName(given, [], [], alternates, initials)
    return ParsedName(given + surname, surname, given, alternates, initials)


# Ordered (pattern, replacement) rules of the skeleton; see the module docstring for why they are hand-written.
_SKELETON_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), r)
    for p, r in [
        (r"^abd(?:u|e|a|o|ou)?l?", "abd"),  # abdul/abdel/abdal -> abd
        (r"^abd([tdrszn])\1", r"abd\1"),  # abderrahmane -> abdrahmane (assimilated article)
        (r"tch|tsch|tsh|ch|ç", "C"),  # che (Persian/Kurdish/Pashto): chaudhry, tchad; C = placeholder
        (r"sch|sh|sj|ş", "s"),  # shin: shah/schah/şah; officers often drop the h
        (r"kh|gh|q|ck|c|k|x", "k"),  # qaf/kaf/kha/ghain, Albanian/Kurmanji x
        (r"dj|dzh|zh|j", "j"),  # jim: djamel/jamal; zhe in Pashto/Persian
        (r"th|dh", "t"),  # tha/dhal: othman/uthman
        (r"ph|v|w", "f"),  # fa/waw as v/w/f: wali/vali
        (r"z", "s"),  # zay/sad/sin collapse: aziz/asis
        (r"(?<=[aeiouy])h$", ""),  # silent final h: fatimah/fatima, shah/sha
        (r"y", "i"),
    ]
]


@lru_cache(maxsize=500_000)
def skeleton(token: str) -> str:
    """A romanisation-insensitive key: consonants in a shared alphabet, vowels dropped except a leading one.

    ``mohammed``/``muhammad``/``mohamad``/``mehmet`` -> ``mhmt``; ``hussein``/``husain``/``hossein`` -> ``hsn``;
    ``ibrahim``/``ebrahim`` -> ``abrhm``. Final ``d`` is written ``t`` (Turkish/Persian devoicing).
    """
    word = token
    for pattern, repl in _SKELETON_RULES:
        word = pattern.sub(repl, word)
    if not word:
        return ""
    head = "a" if word[0] in "aeiouy" else word[0]
    body = re.sub(r"[aeiouy]", "", word[1:])
    key = re.sub(r"(.)\1+", r"\1", head + body)
    return key[:-1] + "t" if key.endswith("d") and len(key) > 2 else key


@dataclass(frozen=True)
class NameFeatures:
    """The columns a name contributes to the Splink input table."""

    key: str | None  # sorted tokens, space-joined: exact "same name, any order"
    skel: str | None  # sorted skeletons, space-joined: "same name, any romanisation"
    tokens: list[str]  # the main name's parts and the alternates' (nicknames, a.k.a.), sorted, distinct
    skeletons: list[str]
    first: str | None  # first token in written order (given name where the partner wrote given first)
    surname: str | None = None  # sorted skeletons of the family part, where the writing says which it is
    phonetic: list[str] | None = None  # metaphone code of each part (blocking: ``Sergei``/``Serhiy``)


@lru_cache(maxsize=200_000)
def _metaphone(token: str) -> str:
    from rigour.text import metaphone

    return str(metaphone(token))


@lru_cache(maxsize=500_000)
def _skel(token: str) -> str:
    # the article written joined (alhassan, elsayed) is dropped for the skeleton only; the exact key keeps it
    return skeleton(_strip_article(token) if len(token) >= 7 else token)


def name_features(name: str | None, learned: bool = True) -> NameFeatures:
    parsed = parse_name(name, learned)
    toks = parsed.tokens or parsed.alternates
    if not toks:
        return NameFeatures(None, None, [], [], None)
    every = sorted(set(toks) | set(parsed.alternates))
    skels = [s for s in (_skel(t) for t in toks) if s]
    sur = sorted({s for s in (_skel(t) for t in parsed.surname) if s})
    return NameFeatures(
        key=" ".join(sorted(toks)),
        skel=" ".join(sorted(skels)) or None,
        tokens=every,
        skeletons=sorted({s for s in (_skel(t) for t in every) if s}),
        first=toks[0],
        surname=" ".join(sur) or None,
        phonetic=sorted({m for m in (_metaphone(t) for t in every) if m}),
    )


def join_name(parts: Iterable[str | None]) -> str:
    """Given + middle + surname as one string, skipping blanks."""
    return " ".join(p.strip() for p in parts if p and str(p).strip() and str(p).lower() != "nan")
