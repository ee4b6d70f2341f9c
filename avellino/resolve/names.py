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


def name_tokens(name: str | None, learned: bool = True) -> list[str]:
    """Latin name parts in written order, particles dropped and compound parts glued."""
    if not name:
        return []
    raw = [t for t in _SPLIT.split(name.strip()) if t]
    parts: list[str] = []
    for tok in raw:
        if is_arabic_script(tok):
            word = normalise_arabic(tok)
            if word in _ARABIC_PARTICLES:
                parts.append(_ARABIC_PARTICLES[word])
                continue
            if word in _ARABIC_GLUE:
                parts.append(_ARABIC_GLUE[word])
                continue
        latin = latin_token(tok, learned)
        if latin:
            parts.append(latin)
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
    tokens: list[str]
    skeletons: list[str]
    first: str | None  # first token in written order (given name where the partner wrote given first)


def name_features(name: str | None, learned: bool = True) -> NameFeatures:
    toks = name_tokens(name, learned)
    # the article written joined (alhassan, elsayed) is dropped for the skeleton only; the exact key keeps it
    skels = [s for s in (skeleton(_strip_article(t) if len(t) >= 7 else t) for t in toks) if s]
    if not toks:
        return NameFeatures(None, None, [], [], None)
    return NameFeatures(
        key=" ".join(sorted(toks)),
        skel=" ".join(sorted(skels)) or None,
        tokens=sorted(set(toks)),
        skeletons=sorted(set(skels)),
        first=toks[0],
    )


def join_name(parts: Iterable[str | None]) -> str:
    """Given + middle + surname as one string, skipping blanks."""
    return " ".join(p.strip() for p in parts if p and str(p).strip() and str(p).lower() != "nan")
