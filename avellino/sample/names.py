"""How each partner agency romanises the same names.

Officers in different countries write the same Arabic, Persian, Kurdish, Pashto, Tigrinya, Albanian or Vietnamese
name differently: French ears write ``ou`` for ``u`` and ``ch`` for ``sh``, German ones ``sch`` and ``dsch``,
English ones ``ee`` and ``oo``; particles (al-, bin, abu) are joined, split or dropped; diacritics are kept or
folded. Rather than a fixed list of spellings, every canonical token goes through the partner's correspondence
rules (below) and the result is pulled to the nearest attested spelling of its family (namedata.FAMILIES).

The output is a small table per partner: for each token, four spellings with weights (the partner's usual
spelling, two less usual ones, a typo). Rendering a million names is then an array lookup (see render.py).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from normality import ascii_text
from rigour.text import levenshtein

from avellino.sample.namedata import ARABIC_SCRIPT, FAMILIES, POOLS

PARTNER_STYLES = ("uk", "fr", "de", "it", "eu")
#: Weights of the four spellings kept per token: usual, less usual (rules), less usual (family), typo.
VARIANT_WEIGHTS = np.array([0.72, 0.12, 0.10, 0.06])
ARABIC_GROUP = frozenset({"arabic", "sorani", "persian", "pashto"})


@dataclass(frozen=True)
class Rule:
    """One correspondence: a pattern in the canonical token and, per partner style, weighted replacements."""

    cultures: frozenset[str]
    pattern: re.Pattern[str]
    options: dict[str, tuple[tuple[str, float], ...]]
    count: int = 0  # 0: every match; 1: the first only (doubling a consonant happens once per name)


def _rule(cultures: frozenset[str] | set[str], pattern: str, count: int = 0, **styles: str) -> Rule:
    """``_rule(group, "sh", fr="ch:4|sh:1")``: replacements separated by |, each with an optional weight."""
    options: dict[str, tuple[tuple[str, float], ...]] = {}
    for style, spec in styles.items():
        parsed = []
        for part in spec.split("|"):
            repl, _, weight = part.rpartition(":") if re.search(r":\d+$", part) else (part, "", "1")
            parsed.append((repl, float(weight)))
        options[style] = tuple(parsed)
    return Rule(frozenset(cultures), re.compile(pattern), options, count)


AR = ARABIC_GROUP
KU = {"kurmanji"}
SQ = {"albanian"}
TI = {"tigrinya"}
ALL = {"arabic", "sorani", "persian", "pashto", "kurmanji", "albanian", "tigrinya", "vietnamese"}

# Order matters: particles first, then vowels, then consonants. Styles not named keep the pattern unchanged.
RULES: tuple[Rule, ...] = (
    _rule(
        AR,
        r"^abd_al-([tdrzsn])",
        uk=r"abdu\1\1:1|abdul\1:4",
        fr=r"abde\1\1:3|abdel \1:1",
        de=r"abdul\1:2|abdel \1:1",
        it=r"abdel\1:2|abdul \1:1",
        eu=r"abd al-\1:4|abdul\1:1",
    ),
    _rule(
        AR,
        r"^abd_al-",
        uk="abdul:4|abdul :2",
        fr="abdel:3|abd el-:1",
        de="abdul:3|abdel:1",
        it="abdel:2|abdul:1",
        eu="abd al-:4|abdul:1",
    ),
    _rule(
        AR,
        r"(^|_)al-",
        uk=r"\1al-:4|\1al :2|\1al:2|\1:1",
        fr=r"\1el-:2|\1al-:2|\1el :1|\1:1",
        de=r"\1al-:3|\1al :2|\1el-:1",
        it=r"\1al :2|\1el :2|\1al-:2",
        eu=r"\1al-:6|\1:1",
    ),
    _rule(AR, r"^bin_", uk="bin :3|bin:1|ben :1", fr="ben :4|ben:1", de="bin :3|ben :1", it="ben :2|bin :2"),
    _rule(AR, r"^abu_", uk="abu :3|abu:1", fr="abou :3|bou:1", de="abu :3|abou :1", it="abu :3|abou :1"),
    _rule(AR, r"_", uk=" :4|:1", fr=" :3|-:1", de=" :4|:1", it=" :3|:1", eu=" :1"),
    _rule(
        AR,
        r"^([^aeiou ]*)u(?=[^aeiou])",
        uk=r"\1o:3|\1u:2",
        fr=r"\1o:3|\1ou:2",
        de=r"\1o:2|\1u:2",
        it=r"\1o:4|\1u:1",
        eu=r"\1u:5|\1o:1",
    ),
    _rule(AR, r"ay", uk="ay:1|ai:2|ei:2", fr="aï:1|ai:2|ei:2|ay:1", de="ai:3|ei:2", it="ai:3|ay:1", eu="ay:5|ai:1"),
    _rule(AR, r"aw", uk="aw:3|ow:1", fr="aou:2|aw:1", de="au:2|aw:2", it="au:2|aw:1"),
    _rule(AR, r"(?<=[^aeiou ])ad$", uk="ed:3|ad:2", fr="ed:3|ad:1", de="ed:2|ad:2", it="ed:3|ad:1", eu="ad:6|ed:1"),
    _rule(AR, r"(?<=[aeiou])([bdfjklmnrstz])(?=[aeiou])", 1, fr=r"\1:3|\1\1:1", it=r"\1:3|\1\1:1", uk=r"\1:5|\1\1:1"),
    _rule(AR, r"(?<=[aeiou])s(?=[aeiou])", fr="ss:3|s:1", it="ss:2|s:1"),
    _rule(AR, r"mm", fr="m:3|mm:2", it="m:3|mm:1", uk="mm:4|m:1"),
    _rule(AR, r"(?<=[^o ])u", fr="ou:3|u:1", uk="u:4|oo:1", it="u:4|o:1"),
    _rule(AR, r"i(?=[^aeiou]$)", uk="ee:1|i:3", de="i:4|ie:1"),
    _rule(AR, r"an$", fr="ane:1|an:3"),
    _rule(AR | TI | SQ, r"sh", fr="ch:4|sh:1", de="sch:4|sh:1", it="sc:1|sh:3"),
    _rule(AR, r"kh", fr="kh:3|k:1", de="ch:2|kh:2", it="kh:2|k:1"),
    _rule(AR | TI, r"gh", uk="gh:3|g:1", fr="gh:3|g:1", de="gh:2|g:1", it="gh:2|g:1"),
    _rule(AR, r"dh", uk="dh:2|d:1|z:1", fr="dh:1|d:2|z:1", de="dh:2|d:1", it="d:2|dh:1"),
    _rule(AR, r"th", uk="th:2|t:1", fr="th:1|t:2", de="th:2|t:1", it="t:2|th:1"),
    _rule(AR, r"q", uk="q:3|k:1", fr="k:2|q:2", de="k:3|q:1", it="q:2|k:1"),
    _rule(AR, r"j", fr="dj:3|j:1", de="dsch:1|j:3", it="gi:1|j:3"),
    _rule(AR | TI, r"^y", de="j:3|y:1", it="i:1|y:3"),
    _rule(AR, r"^w(?=[aeiou])", fr="ou:3|w:1", de="w:3|v:1"),
    _rule(KU, r"ş", uk="sh", fr="ch", de="sch", it="s", eu="ş:3|sh:1"),
    _rule(KU | SQ, r"ç", uk="ch:3|c:1", fr="tch", de="tsch", it="c", eu="ç"),
    _rule(KU, r"ê", uk="e", fr="e:3|é:1", de="e", it="e", eu="ê:3|e:1"),
    _rule(KU, r"î", uk="i", fr="i", de="i:3|ie:1", it="i", eu="î:3|i:1"),
    _rule(KU, r"û", uk="u", fr="ou", de="u", it="u", eu="û:3|u:1"),
    _rule(KU, r"x", uk="kh:3|x:1", fr="kh:2|x:1", de="ch:3|x:1", it="h:1|x:2"),
    _rule(KU, r"c", uk="j", fr="dj", de="dsch:1|c:2", it="c"),
    _rule(KU, r"ı", uk="i", fr="i", de="i", it="i"),
    _rule(KU, r"ğ", uk="g:2|:1", fr=":2|g:1", de="g:2|:1", it="g"),
    _rule(KU, r"ö", uk="o", fr="o", de="ö:2|oe:1", it="o"),
    _rule(KU, r"ü", uk="u", fr="u", de="ü:2|ue:1", it="u"),
    _rule(SQ, r"ë$", uk=":3|e:1", fr=":2|e:1", de="e:1|:1", it=":2|e:1", eu="ë:4|e:1"),
    _rule(SQ, r"ë", uk="e", fr="e:3|ë:1", de="e:2|ë:1", it="e", eu="ë:4|e:1"),
    _rule(SQ, r"xh", fr="dj:3|xh:1", de="dsch:2|xh:2", it="g:1|xh:3"),
    _rule(SQ, r"q", uk="q:3|ch:1", fr="q:2|tch:1", de="q:2|tsch:1", it="q:2|c:1"),
    _rule(TI, r"ts", uk="ts:3|tz:1", fr="ts:2|tz:1|s:1", de="ts:2|tz:2", it="z:1|ts:3"),
    _rule(TI, r"ay$", uk="ay:2|ai:1|aye:1", fr="aï:1|ai:2|ay:1", de="ai:2|ay:1", it="ai:3|ay:1"),
    _rule(TI, r"w", fr="ou:2|w:1", de="w:2|u:1"),
    _rule({"vietnamese"}, r"_", uk=" ", fr=" ", de=" ", it=" ", eu=" "),
)


def _stable_rng(*parts: object) -> np.random.Generator:
    """A generator seeded from the parts' text: stable across runs and Python processes (no hash salting)."""
    return np.random.default_rng(zlib.crc32("\x1f".join(map(str, parts)).encode("utf-8")))


def apply_rules(token: str, culture: str, style: str, rng: np.random.Generator | None) -> str:
    """Romanise one canonical token in a partner's style. ``rng=None`` takes the style's usual choice."""
    out = token
    for rule in RULES:
        if culture not in rule.cultures or style not in rule.options or not rule.pattern.search(out):
            continue
        opts = rule.options[style]
        if rng is None:
            repl = max(opts, key=lambda o: o[1])[0]
        else:
            weights = np.array([w for _, w in opts])
            repl = opts[int(rng.choice(len(opts), p=weights / weights.sum()))][0]
        out = rule.pattern.sub(repl, out, count=rule.count)
    out = out.replace("_", " ")
    return _fold(out, style, culture)


def _fold(text: str, style: str, culture: str) -> str:
    """Diacritics: Europol keeps them, French and German officers keep their own letters, others fold."""
    if style == "eu":
        return text
    keep = {"fr": "éèêëïçô", "de": "äöüß"}.get(style, "")
    if culture == "vietnamese" and style == "fr":
        keep = ""
    return "".join(ch if ch in keep else ascii_text(ch) or ch for ch in text)


_KEYBOARD = "qwertyuiop asdfghjkl zxcvbnm"


def typo(text: str, rng: np.random.Generator) -> str:
    """One keying error: a swap, a dropped or doubled letter, or a neighbouring key."""
    letters = [i for i, ch in enumerate(text) if ch.isalpha()]
    if len(letters) < 4:
        return text + text[-1]
    i = int(rng.choice(letters[1:-1]))
    kind = int(rng.integers(4))
    if kind == 0 and text[i + 1].isalpha():
        return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
    if kind == 1:
        return text[:i] + text[i + 1 :]
    if kind == 2:
        return text[:i] + text[i] + text[i:]
    pos = _KEYBOARD.find(text[i])
    near = _KEYBOARD[pos + 1] if 0 <= pos < len(_KEYBOARD) - 1 and _KEYBOARD[pos + 1] != " " else "e"
    return text[:i] + near + text[i + 1 :]


def _nearest(candidate: str, family: Sequence[str]) -> str:
    return min(family, key=lambda f: (levenshtein(candidate, f), family.index(f)))


def display(text: str) -> str:
    """Title case per word and hyphen part, keeping lower-case Arabic particles as scholarly spellings do."""
    words = []
    for word in text.split(" "):
        parts = [p[:1].upper() + p[1:] for p in word.split("-")]
        if len(parts) > 1 and parts[0] in {"Al", "El"} and word[:1].islower():
            parts[0] = parts[0].lower()
        words.append("-".join(parts))
    return " ".join(w for w in words if w)


def token_variants(token: str, culture: str, style: str, seed: int) -> list[str]:
    """The four spellings a partner uses for one token, in VARIANT_WEIGHTS order."""
    rng = _stable_rng(seed, style, token)
    usual = apply_rules(token, culture, style, None)
    other = apply_rules(token, culture, style, rng)
    family = FAMILIES.get(token)
    if family:
        usual = _fold(_nearest(usual, family), style, culture)
        other = _fold(_nearest(other, family), style, culture)
        third = _fold(family[int(rng.integers(len(family)))], style, culture)
    else:
        third = apply_rules(token, culture, style, rng)
    return [display(v) for v in (usual, other, third, typo(usual, rng))]


def arabic_script(token: str) -> str:
    """The Arabic-script spelling of a token: attested where known, else a consonant-skeleton transcription."""
    if token in ARABIC_SCRIPT:
        return ARABIC_SCRIPT[token]
    out = token.replace("_", " ").replace("al-", "ال")
    for latin, arabic in _AR_DIGRAPHS:
        out = out.replace(latin, arabic)
    chars = []
    for i, ch in enumerate(out):
        if ch == "a":
            chars.append("ا" if i == 0 or out[i - 1] == " " else "")
        else:
            chars.append(_AR_LETTERS.get(ch, ch if not ch.isascii() or ch == " " else ""))
    return "".join(chars)


_AR_DIGRAPHS = (("sh", "ش"), ("kh", "خ"), ("gh", "غ"), ("th", "ث"), ("dh", "ذ"), ("ch", "چ"), ("zh", "ژ"))
_AR_LETTERS = dict(zip("bptjhdrzsfqkglmnwyviueo", "بپتجهدرزسفقکگلمنويويوو", strict=False))


@dataclass
class NameTables:
    """All tokens (index = token id), their culture, per-style spellings and the per-culture pools."""

    tokens: list[str]
    cultures: list[str]
    variants: dict[str, np.ndarray]  # style -> object array (n_tokens, 4)
    arabic: np.ndarray  # object array (n_tokens,): Arabic-script spelling or ""
    pools: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]  # culture -> (male, female, family) token ids


def build_tables(seed: int) -> NameTables:
    """Index every pool token and spell it in every partner style (a few thousand spellings: fast)."""
    index: dict[tuple[str, str], int] = {}
    tokens: list[str] = []
    cultures: list[str] = []
    pools: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for culture, lists in POOLS.items():
        ids = []
        for words in lists:
            row = []
            for tok in words.split():
                key = (culture, tok)
                if key not in index:
                    index[key] = len(tokens)
                    tokens.append(tok)
                    cultures.append(culture)
                row.append(index[key])
            ids.append(np.array(row, dtype=np.int32))
        pools[culture] = (ids[0], ids[1], ids[2])
    variants = {
        style: np.array(
            [token_variants(t, c, style, seed) for t, c in zip(tokens, cultures, strict=True)], dtype=object
        )
        for style in PARTNER_STYLES
    }
    arabic = np.array([arabic_script(t) if c in ARABIC_GROUP else "" for t, c in zip(tokens, cultures, strict=True)],
                      dtype=object)  # fmt: skip
    return NameTables(tokens, cultures, variants, arabic, pools)
