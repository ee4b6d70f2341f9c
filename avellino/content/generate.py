"""Synthetic labelled posts in fifteen languages: the classifier's training data, which the repo regenerates.

No public labelled set of smuggling posts exists (``../shared/data/text/PROVENANCE.md``), so the shipped model
learns from posts built out of ``phrases.py``: harmful offers (crossings, fake jobs, forged documents) with the
disguises the issue names (misspellings such as "b0at", emoji, euphemisms, English words in other languages, phone
numbers in many scripts), and benign posts that share their vocabulary: official and NGO warnings, news quoting
adverts, real-looking job adverts, everyday posts. Every phrase list's last variant is held out (``held_out=True``
uses only those): the generated evaluation then reads phrasings the model never trained on. That is still the
generator's world; only real posts can say how the model does on real posts (docs/content.md, "What the figures
mean").
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

from avellino.content.phrases import BANKS, FILL, LANGUAGES

LABELS = ("smuggling_offer", "fake_job_lure", "document_forgery", "benign")
HARMFUL = LABELS[:3]
PLATFORMS = ("Facebook", "TikTok", "Telegram", "Instagram", "X")
# per language: a country code and a mobile prefix, so phones look like that community's numbers
PHONE_PLANS = {
    "en": ("44", "7"),
    "fr": ("33", "6"),
    "es": ("34", "6"),
    "it": ("39", "3"),
    "de": ("49", "15"),
    "sq": ("355", "69"),
    "vi": ("84", "9"),
    "ar": ("964", "77"),
    "fa": ("98", "91"),
    "ps": ("93", "70"),
    "ckb": ("964", "750"),
    "kmr": ("90", "53"),
    "ti": ("251", "91"),
    "zh": ("86", "13"),
    "ko": ("82", "10"),
}
ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
KEYCAP = {str(d): f"{d}\ufe0f\u20e3" for d in range(10)}
LEET = str.maketrans({"o": "0", "a": "4", "e": "3", "i": "1", "s": "5"})
HARMFUL_EMOJI = ("🚤", "🇬🇧", "✅", "💯", "🔥", "⛴️", "🚛", "✈️", "🇮🇹", "🇩🇪", "💶", "💷", "🛂", "📞")
BENIGN_EMOJI = ("⚠️", "📢", "🇬🇧", "✅", "🎉", "⚽", "🌅", "❤️", "📞", "💼", "🇪🇺")
CURRENCIES = ("£{n}", "{n} pounds", "{n}€", "€{n}", "{n} euro", "${n}", "{n} USD", "{k}k", "{n} GBP", "{n} EUR")


@dataclass(frozen=True)
class Post:
    id: str
    text: str
    label: str
    language: str
    kind: str  # finer than the label: offer, job, doc, warning, news, realjob, chat
    campaign: str | None = None
    account: str = ""
    platform: str = ""


class Writer:
    """One language's posts; ``held_out`` picks only each phrase list's last variant, else never it."""

    def __init__(self, rng: random.Random, held_out: bool):
        self.rng = rng
        self.held_out = held_out

    def pick(self, lang: str, key: str) -> str:
        options = BANKS[lang][key]
        if len(options) < 2:
            return options[0]
        return options[-1] if self.held_out else self.rng.choice(options[:-1])

    def fill(self, lang: str, key: str) -> str:
        return self.rng.choice(FILL[lang][key])

    def phone(self, lang: str) -> str:
        cc, prefix = PHONE_PLANS[lang]
        rest = "".join(str(self.rng.randrange(10)) for _ in range(9 - len(prefix)))
        national = prefix + rest
        style = self.rng.randrange(8)
        if style == 0:
            return f"+{cc} {national[:3]} {national[3:6]} {national[6:]}"
        if style == 1:
            return f"00{cc}{national}"
        if style == 2:
            return f"0{national}"
        if style == 3:
            return f"+{cc}.{national[:3]}.{national[3:]}"
        if style == 4:
            return "".join(KEYCAP[d] for d in f"0{national}")
        if style == 5 and lang in {"ar", "ckb", "ps"}:
            return f"+{cc}{national}".translate(ARABIC_DIGITS)
        if style == 5 and lang == "fa":
            return f"+{cc}{national}".translate(PERSIAN_DIGITS)
        if style == 6:
            return f"wa.me/{cc}{national}"
        return f"+{cc}{national}"

    def price(self) -> str:
        n = self.rng.choice((1500, 2000, 2500, 3000, 3500, 4000, 4500, 5000, 6000, 8000))
        shown = f"{n:,}" if self.rng.random() < 0.4 else str(n)
        return self.rng.choice(CURRENCIES).format(n=shown, k=n // 1000)

    def slots(self, lang: str, template: str) -> str:
        return template.format(
            dest=self.fill(lang, "dest"),
            job=self.fill(lang, "job"),
            doc=self.fill(lang, "doc"),
            company=self.fill(lang, "company"),
            city=self.fill(lang, "city"),
            phone=self.phone(lang),
            price=self.price(),
            quote="{quote}",
        )

    def parts(self, lang: str, keys: tuple[str, ...]) -> list[str]:
        return [self.slots(lang, self.pick(lang, k)) for k in keys]

    # --- the harmful kinds
    def offer(self, lang: str) -> str:
        middle = self.parts(lang, ("ride",)) + (self.parts(lang, ("promise",)) if self.rng.random() < 0.8 else [])
        if self.rng.random() < 0.7:
            middle.append(self.price())
        self.rng.shuffle(middle)
        return self.join([*self.parts(lang, ("trip",)), *middle, *self.parts(lang, ("contact",))])

    def job(self, lang: str) -> str:
        perks = self.parts(lang, ("perk",) * self.rng.choice((1, 2)))
        return self.join([*self.parts(lang, ("job",)), *perks, *self.parts(lang, ("contact",))])

    def doc(self, lang: str) -> str:
        extra = [self.price()] if self.rng.random() < 0.4 else []
        return self.join([*self.parts(lang, ("doc", "quality")), *extra, *self.parts(lang, ("contact",))])

    # --- the benign kinds
    def warning(self, lang: str) -> str:
        return self.join(self.parts(lang, ("warn", "advice")))

    def news(self, lang: str) -> str:
        quote = self.rng.choice((self.offer, self.job, self.doc))(lang)
        return self.slots(lang, self.pick(lang, "news")).replace("{quote}", quote)

    def realjob(self, lang: str) -> str:
        return self.join(self.parts(lang, ("realjob",)))

    def chat(self, lang: str) -> str:
        return self.join(self.parts(lang, ("chat",)))

    def join(self, parts: list[str]) -> str:
        sep = self.rng.choice((". ", ", ", " - ", "\n", " ✅ ", " "))
        return sep.join(p for p in parts if p)

    def disguise(self, text: str, harmful: bool) -> str:
        """What posters do: misspell, add emoji, shout, write in English words. Benign posts get emoji and
        capitals too, so neither is a giveaway."""
        rng = self.rng
        if harmful and rng.random() < 0.3:
            words = text.split(" ")
            for i in rng.sample(range(len(words)), k=max(1, len(words) // 4)):
                if not words[i].startswith(("+", "0", "wa.me")):
                    words[i] = words[i].translate(LEET)
            text = " ".join(words)
        if harmful and rng.random() < 0.25:
            promises = BANKS["en"]["promise"]
            text = f"{text} {rng.choice(promises[-1:] if self.held_out else promises[:-1])}"
        pool = HARMFUL_EMOJI if harmful else BENIGN_EMOJI
        if rng.random() < (0.7 if harmful else 0.4):
            marks = "".join(rng.choice(pool) for _ in range(rng.randrange(1, 4)))
            text = f"{marks} {text}" if rng.random() < 0.5 else f"{text} {marks}"
        if rng.random() < 0.1:
            text = text.upper()
        return text


KINDS: dict[str, tuple[tuple[str, str, float], ...]] = {
    # label: (kind, Writer method, weight)
    "smuggling_offer": (("offer", "offer", 1.0),),
    "fake_job_lure": (("job", "job", 1.0),),
    "document_forgery": (("doc", "doc", 1.0),),
    "benign": (
        ("warning", "warning", 0.3),
        ("news", "news", 0.25),
        ("realjob", "realjob", 0.25),
        ("chat", "chat", 0.2),
    ),
}
LABEL_WEIGHTS = {"smuggling_offer": 0.2, "fake_job_lure": 0.15, "document_forgery": 0.15, "benign": 0.5}


def generate(n: int, seed: int = 0, held_out: bool = False, languages: tuple[str, ...] = LANGUAGES) -> list[Post]:
    """``n`` labelled posts, the same for the same arguments. ``held_out``: only the held-out phrasings."""
    rng = random.Random(seed)
    writer = Writer(rng, held_out)
    labels = list(LABEL_WEIGHTS)
    weights = list(LABEL_WEIGHTS.values())
    out = []
    for i in range(n):
        label = rng.choices(labels, weights)[0]
        lang = rng.choice(languages)
        kinds = KINDS[label]
        kind, method, _w = rng.choices(kinds, [k[2] for k in kinds])[0]
        text = writer.disguise(getattr(writer, method)(lang), harmful=label != "benign")
        out.append(Post(f"g{seed}-{i}", text, label, lang, kind, platform=rng.choice(PLATFORMS)))
    return out


def campaigns(n_campaigns: int, seed: int = 0, max_reposts: int = 8) -> list[Post]:
    """Harmful campaigns, each one advert reposted by several accounts with small edits (emoji, case, a word
    added or dropped, the phone written another way), mixed with unrelated benign posts (campaign None)."""
    rng = random.Random(seed)
    writer = Writer(rng, held_out=False)
    out: list[Post] = []
    for c in range(n_campaigns):
        lang = rng.choice(LANGUAGES)
        label = rng.choice(HARMFUL)
        base = {"smuggling_offer": writer.offer, "fake_job_lure": writer.job, "document_forgery": writer.doc}[label](
            lang
        )
        for r in range(rng.randint(2, max_reposts)):
            out.append(
                Post(
                    f"c{c}-{r}",
                    _repost(rng, base),
                    label,
                    lang,
                    "repost",
                    f"campaign-{c}",
                    account=f"acct{c}_{r}_{rng.randrange(1000)}",
                    platform=rng.choice(PLATFORMS),
                )
            )
    for i in range(n_campaigns * 2):
        lang = rng.choice(LANGUAGES)
        text = getattr(writer, rng.choice(("warning", "realjob", "chat")))(lang)
        out.append(Post(f"b{i}", text, "benign", lang, "single", None, f"user{i}", rng.choice(PLATFORMS)))
    rng.shuffle(out)
    return out


def _repost(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    edit = rng.randrange(5)
    if edit == 1 and len(words) > 4:
        del words[rng.randrange(len(words))]
    elif edit == 2:
        words.insert(rng.randrange(len(words) + 1), rng.choice(HARMFUL_EMOJI))
    elif edit == 3:
        words.append(rng.choice(("#uk", "#travel", "#jobs", "#europe", "📞", "inbox")))
    out = " ".join(words)
    return out.upper() if rng.random() < 0.1 else out


def iter_jsonl(posts: list[Post]) -> Iterator[dict[str, str]]:
    """Posts as post-file records (``posts.py`` columns plus id and label)."""
    for p in posts:
        yield {
            "id": p.id,
            "text": p.text,
            "label": p.label,
            "language": p.language,
            "platform": p.platform,
            "account": p.account,
            "url": f"https://example.invalid/{p.platform.lower()}/{p.id}",
            **({"campaign": p.campaign} if p.campaign else {}),
        }
