"""A learned Arabic-script -> Latin transliteration model for names.

Why our own model: ICU's ``Arabic-Latin`` is a scholarly transliteration (``آرثر`` -> ``ʼārṯr``): it writes
no short vowels and none of the spelling habits of the Latin side (``th``, ``ou``, ``-ey``), so names that are
obviously the same to an analyst look far apart. Neither ``rigour`` nor ``normality`` learns anything. This
module learns, from aligned name pairs, how each Arabic letter *in its context* is written in Latin.

The model is a many-to-many character alignment model (in the spirit of m2m-aligner / Jiampojamarn 2007):
every Arabic letter emits a Latin chunk of 0..4 letters (vowels that Arabic does not write ride along with
a neighbouring consonant). Emission probabilities ``P(chunk | letter, previous letter, next letter)`` are
trained by expectation-maximisation over all segmentations, and interpolated with ``P(chunk | letter)``
so rare contexts back off. Scoring a pair sums over all alignments (forward algorithm), vectorised with
numpy across many Latin candidates at once, so ranking a name against thousands of candidates is cheap.

The trained tables ship as a small CSV (package data, ~0.4 MB): ``avellino/resolve/data/ar2latin.csv``, made by
:func:`build_shipped_model` from the *train* split only (``benchmarks/resolve_translit.py --rebuild`` redoes it).
``load_model()`` reads it on first use; the user's clone needs no shared data.
"""

from __future__ import annotations

import csv
import math
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

MAX_CHUNK = 4
BOUNDARY = "#"
MODEL_PATH = Path(__file__).parent / "data" / "ar2latin.csv"
# Interpolation strength of the context table: weight = n / (n + BACKOFF_K) for a context seen n times.
BACKOFF_K = 3.0
FLOOR = 1e-7

_ARABIC_DIACRITICS = {chr(c) for c in range(0x064B, 0x0660)} | {"\u0670", "\u0640", "\u200c", "\u200d"}
# Persian, Urdu, Pashto and Kurdish letters folded onto the Arabic letters the training pairs use; letters
# with no Arabic twin (پ چ ژ گ) are kept and fall back to ICU's reading of them (see ``_fallback_row``).
_ARABIC_FOLD = str.maketrans(
    {
        "ک": "ك",
        "ی": "ي",
        "ې": "ي",
        "ۍ": "ي",
        "ە": "ه",
        "ہ": "ه",
        "ھ": "ه",
        "ۆ": "و",
        "ۇ": "و",
        "ٱ": "ا",
        "ى": "ي",
    }
)


def is_arabic_script(text: str) -> bool:
    """True when the text holds at least one letter of the Arabic block (Arabic, Persian, Kurdish, Pashto...)."""
    if text.isascii():
        return False
    return any("\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f" for ch in text)


def normalise_arabic(text: str) -> str:
    """Drop vowel marks, tatweel and joiners; fold regional letters onto the ones the model was trained on."""
    text = unicodedata.normalize("NFC", text).translate(_ARABIC_FOLD)
    return "".join(ch for ch in text if ch not in _ARABIC_DIACRITICS and not ch.isspace() and ch.isalpha())


def normalise_latin(text: str) -> str:
    """Lower-case ASCII letters only (``Müller`` -> ``muller``), the alphabet the model writes."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if "a" <= ch <= "z")


def _context(word: str, i: int) -> str:
    prev = word[i - 1] if i > 0 else BOUNDARY
    nxt = word[i + 1] if i + 1 < len(word) else BOUNDARY
    return prev + word[i] + nxt


@dataclass
class TranslitModel:
    """Emission tables ``P(latin chunk | arabic letter [in context])`` plus an index of chunks for numpy."""

    by_letter: dict[str, dict[str, float]]
    by_context: dict[str, dict[str, float]]
    context_counts: dict[str, float]
    chunks: list[str] = field(default_factory=list)
    chunk_index: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.chunks:
            seen = {c for row in self.by_letter.values() for c in row}
            seen |= {c for row in self.by_context.values() for c in row}
            # index 0 is reserved for "no such chunk" (probability FLOOR); "" is a real chunk (silent letter).
            self.chunks = ["\x00"] + sorted(seen)
        self.chunk_index = {c: i for i, c in enumerate(self.chunks)}

    # -- emission ------------------------------------------------------------------------------------------
    def emission(self, word: str, i: int) -> dict[str, float]:
        """``P(chunk | letter i of word)``: context table interpolated with the letter table."""
        letter = word[i]
        base = self.by_letter.get(letter) or _fallback_row(letter)
        ctx = _context(word, i)
        n = self.context_counts.get(ctx, 0.0)
        if n <= 0:
            return base
        lam = n / (n + BACKOFF_K)
        ctx_row = self.by_context[ctx]
        keys = set(base) | set(ctx_row)
        return {k: lam * ctx_row.get(k, 0.0) + (1 - lam) * base.get(k, 0.0) for k in keys}

    def emission_vector(self, word: str, i: int) -> np.ndarray:
        vec = np.full(len(self.chunks), FLOOR)
        for chunk, p in self.emission(word, i).items():
            idx = self.chunk_index.get(chunk)
            if idx is not None:
                vec[idx] = max(p, FLOOR)
        return vec

    # -- decoding and scoring -------------------------------------------------------------------------------
    def decode(self, arabic: str) -> str:
        """The most likely Latin spelling: the best chunk for every letter in its context."""
        word = normalise_arabic(arabic)
        out = []
        for i in range(len(word)):
            row = self.emission(word, i)
            out.append(max(row.items(), key=lambda kv: kv[1])[0] if row else "")
        return "".join(out)

    def score(self, arabic: str, candidates: Sequence[str]) -> np.ndarray:
        """``log P(latin | arabic)`` for every candidate, summed over all alignments (forward algorithm)."""
        return self.score_prepared(normalise_arabic(arabic), prepare_candidates(self, candidates))

    def score_prepared(self, word: str, prepared: PreparedCandidates) -> np.ndarray:
        units, lengths = prepared.units, prepared.lengths
        n_cand, max_len = lengths.shape[0], units.shape[1] - 1
        if not word:
            return np.where(lengths == 0, 0.0, -np.inf)
        alpha = np.zeros((n_cand, max_len + 1))
        alpha[:, 0] = 1.0
        log_scale = np.zeros(n_cand)
        for i in range(len(word)):
            emit = self.emission_vector(word, i)
            nxt = np.zeros_like(alpha)
            for k in range(MAX_CHUNK + 1):
                probs = emit[units[:, :, k]]  # (n_cand, max_len): chunk starting at j of length k
                nxt[:, k:] += alpha[:, : max_len + 1 - k] * probs[:, : max_len + 1 - k]
            # rescale each row so long names do not underflow; remember the scale in log space
            scale = nxt.max(axis=1)
            scale[scale == 0] = 1.0
            alpha = nxt / scale[:, None]
            log_scale += np.log(scale)
        final = alpha[np.arange(n_cand), lengths]
        with np.errstate(divide="ignore"):
            return np.log(final) + log_scale


@dataclass(frozen=True)
class PreparedCandidates:
    """Chunk ids of every substring of every candidate: ``units[c, j, k]`` = id of ``latin[j:j+k]``."""

    names: list[str]
    units: np.ndarray
    lengths: np.ndarray


def prepare_candidates(model: TranslitModel, candidates: Sequence[str]) -> PreparedCandidates:
    latin = [normalise_latin(c) for c in candidates]
    max_len = max((len(s) for s in latin), default=0)
    units = np.zeros((len(latin), max_len + 1, MAX_CHUNK + 1), dtype=np.int64)
    empty = model.chunk_index.get("", 0)
    for c, s in enumerate(latin):
        for j in range(len(s) + 1):
            units[c, j, 0] = empty
            for k in range(1, MAX_CHUNK + 1):
                if j + k <= len(s):
                    units[c, j, k] = model.chunk_index.get(s[j : j + k], 0)
    return PreparedCandidates(latin, units, np.array([len(s) for s in latin], dtype=np.int64))


@lru_cache(maxsize=512)
def _fallback_row(letter: str) -> dict[str, float]:
    """For a letter the training pairs never showed (e.g. Persian ``پ``): ICU's reading, else silence."""
    from avellino.resolve.names import icu_latin

    latin = normalise_latin(icu_latin(letter))[:MAX_CHUNK]
    return {latin: 0.9, "": 0.1} if latin else {"": 1.0}


# ---------------------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------------------


def _forward_backward(
    word: str, latin: str, emissions: list[dict[str, float]]
) -> tuple[float, list[list[float]], list[list[float]]]:
    n, m = len(word), len(latin)
    alpha = [[0.0] * (m + 1) for _ in range(n + 1)]
    beta = [[0.0] * (m + 1) for _ in range(n + 1)]
    alpha[0][0] = 1.0
    for i in range(n):
        row = emissions[i]
        for j in range(m + 1):
            a = alpha[i][j]
            if a == 0.0:
                continue
            for k in range(min(MAX_CHUNK, m - j) + 1):
                p = row.get(latin[j : j + k], 0.0)
                if p:
                    alpha[i + 1][j + k] += a * p
    beta[n][m] = 1.0
    for i in range(n - 1, -1, -1):
        row = emissions[i]
        for j in range(m + 1):
            total = 0.0
            for k in range(min(MAX_CHUNK, m - j) + 1):
                b = beta[i + 1][j + k]
                if b:
                    total += row.get(latin[j : j + k], 0.0) * b
            beta[i][j] = total
    return alpha[n][m], alpha, beta


def _uniform_start(pairs: Sequence[tuple[str, str]]) -> dict[str, dict[str, float]]:
    """Every chunk a letter could align to in some pair, equally likely: EM's starting point."""
    rows: dict[str, dict[str, float]] = defaultdict(dict)
    for word, latin in pairs:
        for ch in set(word):
            for j in range(len(latin) + 1):
                for k in range(MAX_CHUNK + 1):
                    if j + k <= len(latin):
                        rows[ch][latin[j : j + k]] = 1.0
    # a short prior preference for 1-2 letter chunks, so EM does not start by gluing whole names to a letter
    for row in rows.values():
        for chunk in row:
            row[chunk] = {0: 0.5, 1: 2.0, 2: 1.5, 3: 0.6, 4: 0.3}[len(chunk)]
    return {ch: _normalised(row) for ch, row in rows.items()}


def _normalised(row: dict[str, float], min_p: float = 0.0) -> dict[str, float]:
    total = sum(row.values())
    out = {k: v / total for k, v in row.items() if total and v / total > min_p}
    kept = sum(out.values())
    return {k: v / kept for k, v in out.items()} if kept else {}


def train_model(pairs: Iterable[tuple[str, str]], iterations: int = 8, log: bool = False) -> TranslitModel:
    """EM over aligned (Arabic, Latin) name pairs; returns the interpolated context model."""
    clean = [(normalise_arabic(a), normalise_latin(b)) for a, b in pairs]
    clean = [(a, b) for a, b in clean if a and b and len(b) <= MAX_CHUNK * len(a)]
    model = TranslitModel(by_letter=_uniform_start(clean), by_context={}, context_counts={})
    for it in range(iterations):
        letter_counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        ctx_counts: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        loglik = 0.0
        for word, latin in clean:
            emissions = [model.emission(word, i) for i in range(len(word))]
            z, alpha, beta = _forward_backward(word, latin, emissions)
            if z <= 0.0:
                continue
            loglik += math.log(z)
            _accumulate(word, latin, emissions, alpha, beta, z, letter_counts, ctx_counts)
        by_letter = {ch: _normalised(dict(row), 1e-5) for ch, row in letter_counts.items()}
        by_context = {ctx: _normalised(dict(row), 1e-4) for ctx, row in ctx_counts.items()}
        context_n = {ctx: sum(row.values()) for ctx, row in ctx_counts.items()}
        # the context table joins only after the letter table has settled, as in staged IBM-model training
        use_ctx = it >= 2
        model = TranslitModel(
            by_letter=by_letter,
            by_context=by_context if use_ctx else {},
            context_counts=context_n if use_ctx else {},
        )
        if log:
            print(f"EM iteration {it + 1}: log-likelihood {loglik:.1f}")
    return model


def _accumulate(
    word: str,
    latin: str,
    emissions: list[dict[str, float]],
    alpha: list[list[float]],
    beta: list[list[float]],
    z: float,
    letter_counts: dict[str, dict[str, float]],
    ctx_counts: dict[str, dict[str, float]],
) -> None:
    m = len(latin)
    for i in range(len(word)):
        row = emissions[i]
        ctx = _context(word, i)
        for j in range(m + 1):
            a = alpha[i][j]
            if a == 0.0:
                continue
            for k in range(min(MAX_CHUNK, m - j) + 1):
                chunk = latin[j : j + k]
                p = row.get(chunk, 0.0)
                b = beta[i + 1][j + k]
                if p and b:
                    post = a * p * b / z
                    letter_counts[word[i]][chunk] += post
                    ctx_counts[ctx][chunk] += post


# ---------------------------------------------------------------------------------------------------------
# Persistence: one CSV ``kind,key,chunk,value``: L = P(chunk|letter), C = P(chunk|context), N = context count.
# CSV (not gzip) because pyproject's package-data ships *.csv files.
# ---------------------------------------------------------------------------------------------------------


def save_model(model: TranslitModel, path: Path = MODEL_PATH, min_p: float = 1e-3) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, str, str, str]] = []
    for kind, table in (("L", model.by_letter), ("C", model.by_context)):
        for key in sorted(table):
            rows.extend((kind, key, c, f"{p:.4g}") for c, p in sorted(table[key].items()) if p >= min_p)
    rows.extend(("N", ctx, "", f"{n:.4g}") for ctx, n in sorted(model.context_counts.items()))
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(("kind", "key", "chunk", "value"))
        writer.writerows(rows)


def read_model(path: Path) -> TranslitModel:
    by_letter: dict[str, dict[str, float]] = defaultdict(dict)
    by_context: dict[str, dict[str, float]] = defaultdict(dict)
    counts: dict[str, float] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        rows = csv.reader(fh)
        next(rows, None)  # header
        for kind, key, chunk, value in rows:
            if kind == "L":
                by_letter[key][chunk] = float(value)
            elif kind == "C":
                by_context[key][chunk] = float(value)
            else:
                counts[key] = float(value)
    return TranslitModel(
        by_letter={k: _normalised(v) for k, v in by_letter.items()},
        by_context={k: _normalised(v) for k, v in by_context.items()},
        context_counts=counts,
    )


@lru_cache(maxsize=1)
def load_model() -> TranslitModel:
    """The model shipped with the package (loaded once, on first use: never at import time)."""
    return read_model(MODEL_PATH)


def read_pairs(path: Path) -> list[tuple[str, str]]:
    """``arabic<TAB>latin`` lines, the format of google/transliteration's ``ar2en-*.txt``."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            arabic, latin = line.split("\t", 1)
            pairs.append((arabic.strip(), latin.strip()))
    return pairs


def build_shipped_model(train_file: Path, out: Path = MODEL_PATH, iterations: int = 6) -> TranslitModel:
    """How ``data/ar2latin.tsv.gz`` was made: EM on the *train* split only (never the eval split).

    ``python -c "from pathlib import Path; from avellino.resolve.translit import build_shipped_model;
    build_shipped_model(Path('../shared/data/entity_resolution/google_ar2en_transliteration/ar2en-train.txt'))"``
    """
    model = train_model(read_pairs(train_file), iterations=iterations)
    save_model(model, out)
    return read_model(out)
