"""Generic record fields, computed per chunk of a partner's records and written in the partner's own words.

Each ``*_fields`` function returns text columns (pyarrow arrays) keyed by a generic field name; layouts.py says
which header each partner gives them. Local vocabularies (outcomes, item kinds, nationalities...) come from the
partner's ``Locale``; the mapping files translate them back with ``map:``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from avellino.ingest.ids import entity_id
from avellino.sample import render
from avellino.sample.names import ARABIC_GROUP, VARIANT_WEIGHTS, NameTables
from avellino.sample.observe import OUTCOMES, ROUTES, Seen
from avellino.sample.world import CULTURE_LIST, NATIONS, ROLES, R, World

Cols = dict[str, pa.Array]
DEPARTURES = (
    "Gravelines",
    "Dunkerque",
    "Loon-Plage",
    "Calais",
    "Sangatte",
    "Wissant",
    "Audresselles",
    "Ambleteuse",
    "Wimereux",
    "Boulogne-sur-Mer",
    "Le Portel",
    "Equihen-Plage",
    "Hardelot",
    "Le Touquet",
    "Berck",
    "Etaples",
)
ARRIVALS = ("Dover", "Dungeness", "Folkestone", "Deal", "Hythe", "Lydd", "Camber")
ENGINES = (
    "Yamaha 40 hp",
    "Yamaha 60 hp",
    "Tohatsu 40 hp",
    "Tohatsu 60 hp",
    "Suzuki 40 hp",
    "Mercury 60 hp",
    "Parsun 40 hp",
    "Hidea 40 hp",
)
ITEMS = ("inflatable_hull", "outboard_engine", "life_jackets", "fuel", "pump")
PAY_METHODS = ("hawala", "mto", "cash")
MTO_PROVIDERS = ("Western Union", "MoneyGram", "Ria", "WorldRemit", "Small World")
CURRENCIES = ("EUR", "GBP", "USD")
PLATFORMS = ("Facebook", "TikTok", "Telegram", "Instagram", "Snapchat")
TRANSPORT = ("car", "van", "truck", "bus", "boat", "on foot")
VEHICLE_MODELS = (
    "Ford Transit",
    "Renault Master",
    "Mercedes Sprinter",
    "Peugeot Boxer",
    "VW Golf",
    "BMW 320d",
    "Toyota Corolla",
    "Fiat Ducato",
    "Citroen Jumpy",
    "Audi A4",
)
PURCHASE_PLACES = ("Hamburg", "Bremen", "Duisburg", "Essen", "Lille", "Dunkerque", "Amsterdam", "Antwerpen")
BIRTHPLACES = {
    "af": ("Kabul", "Jalalabad", "Kunduz", "Herat"),
    "ir": ("Tehran", "Mashhad", "Sanandaj", "Urmia"),
    "iq": ("Erbil", "Sulaymaniyah", "Ranya", "Duhok", "Baghdad"),
    "sy": ("Aleppo", "Qamishli", "Damascus", "Homs"),
    "tr": ("Diyarbakir", "Van", "Hakkari", "Istanbul"),
    "er": ("Asmara", "Keren", "Mendefera"),
    "sd": ("Khartoum", "El Fasher", "Nyala", "Kassala"),
    "eg": ("Cairo", "Alexandria", "Minya"),
    "al": ("Tirana", "Durres", "Elbasan", "Kukes"),
    "vn": ("Nghe An", "Ha Tinh", "Hai Phong", "Quang Binh"),
    "gb": ("London", "Birmingham", "Leeds"),
    "fr": ("Lille", "Calais", "Paris"),
    "de": ("Hamburg", "Essen", "Berlin"),
}


@dataclass
class Locale:
    """A partner's habits: date patterns, how it writes nationalities, sexes, outcomes and the like."""

    style: str
    date_fmt: str
    datetime_fmt: str
    nationality: dict[str, str] = field(default_factory=dict)  # iso2 -> partner word (identity when empty)
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)  # vocabulary -> partner words, model order
    prefix: dict[str, str] = field(default_factory=dict)  # kind -> record id prefix
    decimal_comma: bool = False
    upper_surname: bool = False  # French files write the family name in capitals
    dob_noise: tuple[float, float, float] = (0.03, 0.05, 0.01)  # day/month swap, 01/01 placeholder, year typo
    missing: float = 0.05

    def word(self, vocab: str, model_values: tuple[str, ...], idx: np.ndarray) -> pa.Array:
        return render.choose(self.words.get(vocab, model_values), idx)


@dataclass
class Ctx:
    """Everything a chunk needs: the world, the partner's view, its record ids and its way of writing."""

    world: World
    seen: Seen
    names: NameTables
    locale: Locale
    originator: str
    person_ids: pa.Array  # record id of each person record
    ref_ids: pa.Array  # what events write to refer to a person record (the record id, or the FtM id)
    categories: np.ndarray  # data-subject category of each person record
    seed: int
    _phones: dict[int, str] = field(default_factory=dict)

    def rng(self, kind: str, chunk: int) -> np.random.Generator:
        return np.random.default_rng([self.seed, 3, hash_text(self.originator), hash_text(kind), chunk])

    def ref(self, person: np.ndarray) -> pa.Array:
        """The partner's person record id for true people (empty where it has none)."""
        return render.pick_refs(self.ref_ids, self.seen.primary[person])

    def category(self, person: np.ndarray) -> pa.Array:
        """The category under which the partner holds each referenced person (empty where it holds none)."""
        rec = self.seen.primary[person]
        cats = pa.array(self.categories[np.maximum(rec, 0)], pa.string()) if len(rec) else pa.array([], pa.string())
        return render.blank(cats, rec < 0)

    def phones(self, idx: np.ndarray) -> pa.Array:
        """Phones as this partner writes them; each distinct phone is formatted once and then reused."""
        need = np.unique(idx)
        missing = np.array([i for i in need.tolist() if i not in self._phones], dtype=np.int64)
        if len(missing):
            habit = render.habits(missing, hash_text(f"{self.seed}:{self.originator}"))
            w = self.world
            plan, local = w.phone_plan[missing], w.phone_local[missing]
            text = render.phones_as_written(self.locale.style, plan, local, habit)
            self._phones.update(zip(missing.tolist(), text, strict=True))
        return pa.array([self._phones[i] for i in idx.tolist()], type=pa.string())


def hash_text(text: str) -> int:
    import zlib

    return zlib.crc32(text.encode("utf-8"))


def _amount(values: np.ndarray, comma: bool) -> pa.Array:
    text = pc.cast(pa.array(values.round(2)), pa.string())
    return pc.replace_substring(text, ".", ",") if comma else text


def _markings(
    rng: np.random.Generator,
    n: int,
    base: tuple[float, float, float, float],
    tlp_red: np.ndarray | None,
    evaluation: tuple[str, ...],
    eval_p: tuple[float, ...],
) -> Cols:
    hcode = rng.choice(4, n, p=np.array(base))
    if tlp_red is not None:
        hcode = np.where(tlp_red, 3, hcode)
    notes = (
        "not to be shared with non-EU partners",
        "source protection: do not disclose origin",
        "not for use in asylum proceedings",
        "consult originator before any arrest",
    )
    note = render.blank(render.choose(notes, rng.integers(0, len(notes), n)), hcode != 3)
    tlp = rng.choice(3, n, p=[0.15, 0.65, 0.20])
    if tlp_red is not None:
        tlp = np.where(tlp_red, 4, tlp)
    return {
        "hcode": render.choose(("H0", "H1", "H2", "H3"), hcode),
        "hnote": note,
        "tlp": render.choose(("GREEN", "AMBER", "AMBER+STRICT", "RED", "RED"), tlp + (tlp == 2)),
        "evaluation": render.choose(evaluation, rng.choice(len(evaluation), n, p=np.array(eval_p))),
    }


def event_markings(ctx: Ctx, rng: np.random.Generator, n: int) -> Cols:
    return _markings(rng, n, (0.3, 0.4, 0.25, 0.05), None, ("A1", "B2", "B3", "C3"), (0.2, 0.5, 0.2, 0.1))


def _spell(ctx: Ctx, tokens: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    table = ctx.names.variants[ctx.locale.style]
    choice = rng.choice(4, len(tokens), p=VARIANT_WEIGHTS)
    out = table[np.maximum(tokens, 0), choice]
    out[tokens < 0] = ""
    return out


def person_fields(ctx: Ctx, sl: slice, chunk: int) -> Cols:
    """Names in the partner's romanisation, noisy birth dates, phones, documents and markings."""
    rng = ctx.rng("persons", chunk)
    w, loc = ctx.world, ctx.locale
    who = ctx.seen.rec_person[sl]
    n = len(who)
    p = w.people
    given, father, family = p.given[who], p.father[who], p.family[who]
    culture = np.array(CULTURE_LIST)[p.culture[who]]
    first = _spell(ctx, given, rng)
    last = np.where(family >= 0, _spell(ctx, family, rng), _spell(ctx, father, rng))
    with_father = (family >= 0) & np.isin(culture, list(ARABIC_GROUP)) & (rng.random(n) < 0.25)
    first = np.where(with_father, first + " " + _spell(ctx, father, rng), first)
    swapped = rng.random(n) < 0.05  # name parts in the wrong boxes
    first, last = np.where(swapped, last, first), np.where(swapped, first, last)
    vietnamese = culture == "vietnamese"
    full = np.where(vietnamese & (rng.random(n) < 0.7), last + " " + first, first + " " + last)
    if loc.style == "eu":
        script = np.isin(culture, list(ARABIC_GROUP)) & (rng.random(n) < 0.25)
        ar = ctx.names.arabic
        arabic_full = ar[given] + " " + ar[np.where(family >= 0, family, father)]
        full = np.where(script, arabic_full, full)
    alias = np.where(
        (p.role[who] != R["migrant"]) & (rng.random(n) < 0.3),
        np.where(np.isin(culture, ["sorani", "kurmanji"]), "Kaka ", "Abu ") + _spell(ctx, _son(ctx, who, culture), rng),
        "",
    )
    dob = render.noisy_dob(p.dob[who], rng, *loc.dob_noise)
    nat_codes = np.array(NATIONS)[p.nation[who]]
    nat_words = np.array([loc.nationality.get(c, c.upper()) for c in NATIONS], dtype=object)[p.nation[who]]
    # Which of a person's phones a partner holds first differs by partner (seized handsets differ).
    count = p.phone_count[who]
    pick = (render.habits(who, hash_text(ctx.originator)) * count).astype(np.int64)
    phones_first = p.phone_start[who] + pick
    second = np.where((count > 1) & (rng.random(n) < 0.6), p.phone_start[who] + (pick + 1) % count, -1)
    has_passport = rng.random(n) < np.where(p.role[who] == R["migrant"], 0.35, 0.55)
    passport = [f"{c.upper()[:1]}{(x * 7919 + 1_000_003) % 10**8:08d}" for c, x in zip(nat_codes, who, strict=True)]
    cat = ctx.categories[sl]
    red = np.isin(cat, ["informant"])
    marks = _markings(
        rng, n, (0.25, 0.45, 0.25, 0.05), red, ("A2", "B2", "B3", "C3", "X4"), (0.1, 0.45, 0.25, 0.1, 0.1)
    )
    place = [BIRTHPLACES[c][x % len(BIRTHPLACES[c])] for c, x in zip(nat_codes, who, strict=True)]
    missing = rng.random((4, n)) < loc.missing
    return {
        "id": ctx.person_ids.slice(sl.start, n),
        "first": pa.array(first, pa.string()),
        "last": pc.utf8_upper(pa.array(last, pa.string())) if loc.upper_surname else pa.array(last, pa.string()),
        "full": pa.array(full, pa.string()),
        "alias": render.blank(pa.array(alias, pa.string()), alias == ""),
        "dob": render.fmt_dates(dob, loc.date_fmt, missing[0]),
        "dob_iso": render.fmt_dates(dob, "%Y-%m-%d", missing[0]),
        "birthplace": render.blank(pa.array(place, pa.string()), missing[1]),
        "nationality": render.blank(pa.array(nat_words, pa.string()), missing[2]),
        "nation_iso": pa.array(np.char.upper(nat_codes.astype(str)).astype(object), pa.string()),
        "gender": loc.word("gender", ("male", "female"), p.female[who].astype(np.int64)),
        "phone1": ctx.phones(phones_first),
        "phone2": render.blank(ctx.phones(np.maximum(second, 0)), second < 0),
        "passport": render.blank(pa.array(passport, pa.string()), ~has_passport | missing[3]),
        "category": pa.array(cat, pa.string()),
        **marks,
    }


def _son(ctx: Ctx, who: np.ndarray, culture: np.ndarray) -> np.ndarray:
    """A son's name for a kunya (Abu X, Kaka X): a male name of the person's culture."""
    out = np.empty(len(who), dtype=np.int32)
    for c in np.unique(culture).tolist():
        pool = ctx.names.pools[c][0]
        sel = culture == c
        out[sel] = pool[(who[sel] * 13 + 5) % len(pool)]
    return out


def call_fields(ctx: Ctx, sl: slice, chunk: int) -> Cols:
    ev = {k: v[sl] for k, v in ctx.seen.events["calls"].items()}
    rng = ctx.rng("calls", chunk)
    n = len(ev["caller"])
    return {
        "id": render.ids(ctx.locale.prefix["calls"], np.arange(sl.start, sl.start + n) + 1, 8),
        "caller_ref": ctx.ref(ev["caller"]),
        "caller_cat": ctx.category(ev["caller"]),
        "receiver_cat": ctx.category(ev["receiver"]),
        "caller_phone": ctx.phones(ev["caller_phone"]),
        "receiver_ref": ctx.ref(ev["receiver"]),
        "receiver_phone": ctx.phones(ev["receiver_phone"]),
        "at": render.fmt_times(ev["at"], ctx.locale.datetime_fmt),
        "duration": pc.cast(pa.array(ev["duration"]), pa.string()),
        **event_markings(ctx, rng, n),
    }


def payment_fields(ctx: Ctx, sl: slice, chunk: int) -> Cols:
    ev = {k: v[sl] for k, v in ctx.seen.events["payments"].items()}
    rng = ctx.rng("payments", chunk)
    n = len(ev["payer"])
    provider = render.choose(MTO_PROVIDERS, rng.integers(0, len(MTO_PROVIDERS), n))
    return {
        "id": render.ids(ctx.locale.prefix["payments"], np.arange(sl.start, sl.start + n) + 1, 8),
        "payer_ref": ctx.ref(ev["payer"]),
        "payee_ref": ctx.ref(ev["payee"]),
        "payer_cat": ctx.category(ev["payer"]),
        "payee_cat": ctx.category(ev["payee"]),
        "amount": _amount(ev["amount"], ctx.locale.decimal_comma),
        "currency": render.choose(CURRENCIES, ev["currency"]),
        "date": render.fmt_dates(ev["day"] + _day0(), ctx.locale.date_fmt),
        "method": ctx.locale.word("pay_method", PAY_METHODS, ev["method"]),
        "provider": render.blank(provider, ev["method"] != 1),
        **event_markings(ctx, rng, n),
    }


def _day0() -> int:
    return int((np.datetime64("2023-01-01") - np.datetime64("1970-01-01")).astype(int))


def crossing_fields(ctx: Ctx, sl: slice, chunk: int) -> Cols:
    """Crossings with their boat: the hull number is the same wherever the boat is recorded."""
    idx = ctx.seen.events["crossings"]["crossing"][sl]
    cr = {k: v[idx] for k, v in ctx.world.crossings.items()}
    rng = ctx.rng("crossings", chunk)
    n = len(idx)
    loc = ctx.locale
    hull = [f"XHB{h:05d}{bl:02d}" for h, bl in zip(cr["hull"].tolist(), cr["boat_len"].tolist(), strict=True)]
    boat_word = loc.words.get("boat", ("inflatable boat",))[0]
    names = [f"{boat_word} {bl} m" for bl in cr["boat_len"].tolist()]
    organiser = np.where(rng.random(n) < 0.4, cr["organiser"], -1)
    return {
        "id": render.ids(loc.prefix["crossings"], idx + 1, 6),
        "date": render.fmt_dates(cr["day"] + _day0(), loc.date_fmt),
        "departure": render.choose(DEPARTURES, cr["departure"]),
        "arrival": render.blank(render.choose(ARRIVALS, cr["arrival"]), cr["outcome"] >= 2),
        "vessel_id": pa.array(hull, pa.string()),
        "vessel_name": pa.array(names, pa.string()),
        "engine": render.choose(ENGINES, cr["engine"]),
        "people": pc.cast(pa.array(cr["people"]), pa.string()),
        "outcome": loc.word("outcome", OUTCOMES, cr["outcome"]),
        "deaths": render.blank(pc.cast(pa.array(cr["deaths"]), pa.string()), cr["deaths"] == 0),
        "pilot_ref": ctx.ref(cr["pilot"]),
        "pilot_cat": ctx.category(cr["pilot"]),
        "organiser_ref": _ref_or_blank(ctx, organiser),
        **event_markings(ctx, rng, n),
    }


def _ref_or_blank(ctx: Ctx, person: np.ndarray) -> pa.Array:
    safe = np.maximum(person, 0)
    return render.blank(ctx.ref(safe), person < 0)


def purchase_fields(ctx: Ctx, sl: slice, chunk: int) -> Cols:
    ev = {k: v[sl] for k, v in ctx.seen.events["purchases"].items()}
    rng = ctx.rng("purchases", chunk)
    n = len(ev["buyer"])
    return {
        "id": render.ids(ctx.locale.prefix["purchases"], np.arange(sl.start, sl.start + n) + 1, 6),
        "item": ctx.locale.word("item", ITEMS, ev["kind"]),
        "quantity": pc.cast(pa.array(ev["quantity"]), pa.string()),
        "buyer_ref": ctx.ref(ev["buyer"]),
        "seller_ref": _ref_or_blank(ctx, ev["seller"]),
        "place": render.choose(PURCHASE_PLACES, ev["place"]),
        "date": render.fmt_dates(ev["day"] + _day0(), ctx.locale.date_fmt),
        "method": ctx.locale.word("pay_method", PAY_METHODS, np.array([2, 1, 0])[ev["method"]]),
        "amount": _amount(ev["amount"], ctx.locale.decimal_comma),
        "currency": pa.array(["EUR"] * n, pa.string()),
        **event_markings(ctx, rng, n),
    }


ADVERT_TEXT = {
    "en": (
        "Trip to UK by boat, safe and fast, {price} {cur}. Contact WhatsApp {phone}",
        "Jobs in UK car wash and restaurants, visa and travel arranged. WhatsApp {phone}",
    ),
    "ar": (
        "رحلة إلى بريطانيا بالقارب، آمنة وسريعة، السعر {price} {cur}. واتساب {phone}",
        "فرص عمل في بريطانيا، الفيزا والسفر مضمونة. واتساب {phone}",
    ),
    "ckb": (
        "گەشت بۆ بەریتانیا بە بەلەم، {price} {cur}، پەیوەندی واتساپ {phone}",
        "کار لە بەریتانیا، ڤیزا و گەشت ئامادەیە. واتساپ {phone}",
    ),
    "fa": (
        "سفر به انگلیس با قایق، امن و سریع، {price} {cur}. واتساپ {phone}",
        "کار در انگلیس، ویزا و سفر تضمینی. واتساپ {phone}",
    ),
    "sq": (
        "Udhëtim për në Angli me varkë, {price} {cur}. WhatsApp {phone}",
        "Punë në Angli, lavazh makinash, viza e garantuar. WhatsApp {phone}",
    ),
    "vi": (
        "Đi Anh bằng thuyền, an toàn, giá {price} {cur}. WhatsApp {phone}",
        "Việc làm tại Anh, tiệm nail, lo visa. WhatsApp {phone}",
    ),
}
LANG_CODES = tuple(ADVERT_TEXT)
LANG_ISO3 = ("eng", "ara", "ckb", "fas", "sqi", "vie")


def advert_fields(ctx: Ctx, sl: slice, chunk: int) -> Cols:
    """Adverts with the author's WhatsApp number in the text; the account belongs to the recruiter (truth)."""
    ev = {k: v[sl] for k, v in ctx.seen.events["adverts"].items()}
    rng = ctx.rng("adverts", chunk)
    n = len(ev["author"])
    w = ctx.world
    phone = render.e164(w.phone_plan[ev["phone"]], w.phone_local[ev["phone"]])
    platform = np.array(PLATFORMS, dtype=object)[ev["platform"]]
    handle = [
        f"{ctx.names.tokens[g].split('_')[-1]}_{'travel' if k == 0 else 'jobs'}{(a * 31 + acc) % 997}"
        for g, k, a, acc in zip(
            w.people.given[ev["author"]].tolist(),
            ev["kind"].tolist(),
            ev["author"].tolist(),
            ev["account"].tolist(),
            strict=True,
        )
    ]
    hosts = {
        "Facebook": "facebook.com",
        "TikTok": "tiktok.com/@",
        "Telegram": "t.me",
        "Instagram": "instagram.com",
        "Snapchat": "snapchat.com/add",
    }
    url = [
        f"https://{hosts[pf]}{'' if hosts[pf].endswith('@') else '/'}{h}/{post}"
        for pf, h, post in zip(platform.tolist(), handle, ev["post"].tolist(), strict=True)
    ]
    cur = np.where(ev["lang"] == 0, "GBP", "EUR")
    text = [
        ADVERT_TEXT[LANG_CODES[lg]][k].format(price=int(pr), cur=c, phone=ph)
        for lg, k, pr, c, ph in zip(
            ev["lang"].tolist(), ev["kind"].tolist(), ev["price"].tolist(), cur.tolist(), phone, strict=True
        )
    ]
    marks = _markings(rng, n, (0.5, 0.3, 0.2, 0.0), None, ("B2", "B3", "C3"), (0.4, 0.4, 0.2))
    return {
        "id": render.ids(ctx.locale.prefix["adverts"], np.arange(sl.start, sl.start + n) + 1, 7),
        "platform": pa.array(platform, pa.string()),
        "url": pa.array(url, pa.string()),
        "account": pa.array(handle, pa.string()),
        "author_ref": ctx.ref(ev["author"]),
        "text": pa.array(text, pa.string()),
        "language": render.choose(LANG_ISO3, ev["lang"]),
        "posted_at": render.fmt_times(ev["at"], ctx.locale.datetime_fmt),
        "phone": pa.array(phone, pa.string()),
        "price": pc.cast(pa.array(ev["price"].astype(np.int64)), pa.string()),
        "currency": pa.array(cur, pa.string()),
        "kind": render.choose(("smuggling_offer", "fake_job"), ev["kind"]),
        **marks,
    }


PLATE_FORMATS = {"fr": "{L}{L}-{d}{d}{d}-{L}{L}", "de": "HH-{L}{L} {d}{d}{d}{d}", "uk": "{L}{L}{d}{d} {L}{L}{L}"}


def plate(vehicle: int, country: str) -> str:
    """A registration plate derived from the vehicle number, so every partner sees the same plate."""
    x = vehicle * 2_654_435_761 % 10**12
    out = []
    for part in PLATE_FORMATS[country].replace("{L}", "L").replace("{d}", "d"):
        if part == "L":
            out.append("ABCDEFGHJKLMNPRSTVWXYZ"[x % 22])
            x //= 22
        elif part == "d":
            out.append(str(x % 10))
            x //= 10
        else:
            out.append(part)
    return "".join(out)


def vehicle_fields(ctx: Ctx, sl: slice, chunk: int) -> Cols:
    ev = {k: v[sl] for k, v in ctx.seen.events["vehicles"].items()}
    rng = ctx.rng("vehicles", chunk)
    n = len(ev["owner"])
    countries = ("fr", "de", "uk")
    ctry = [countries[v % 3] for v in ev["vehicle"].tolist()]
    return {
        "id": render.ids(ctx.locale.prefix["vehicles"], np.arange(sl.start, sl.start + n) + 1, 6),
        "plate": pa.array([plate(v, c) for v, c in zip(ev["vehicle"].tolist(), ctry, strict=True)], pa.string()),
        "model": render.choose(VEHICLE_MODELS, ev["model"]),
        "owner_ref": ctx.ref(ev["owner"]),
        **event_markings(ctx, rng, n),
    }


def leg_fields(ctx: Ctx, sl: slice, chunk: int) -> Cols:
    ev = {k: v[sl] for k, v in ctx.seen.events["legs"].items()}
    rng = ctx.rng("legs", chunk)
    n = len(ev["route"])
    stops = [ROUTES[r][1] for r in ev["route"].tolist()]
    origin = [s[i] for s, i in zip(stops, ev["stop"].tolist(), strict=True)]
    dest = [s[i + 1] for s, i in zip(stops, ev["stop"].tolist(), strict=True)]
    traveller = np.where(rng.random(n) < 0.5, ev["traveller"], -1)
    return {
        "id": render.ids(ctx.locale.prefix["legs"], np.arange(sl.start, sl.start + n) + 1, 7),
        "origin": pa.array(origin, pa.string()),
        "destination": pa.array(dest, pa.string()),
        "transport": ctx.locale.word("transport", TRANSPORT, ev["transport"]),
        "operator_ref": _ref_or_blank(ctx, np.where(ctx.seen.primary[ev["operator"]] >= 0, ev["operator"], -1)),
        "traveller_ref": _ref_or_blank(ctx, np.where(ctx.seen.primary[np.maximum(traveller, 0)] >= 0, traveller, -1)),
        "start": render.fmt_dates(ev["start"] + _day0(), ctx.locale.date_fmt),
        "end": render.fmt_dates(ev["end"] + _day0(), ctx.locale.date_fmt),
        "route": render.choose(tuple(r[0] for r in ROUTES), ev["route"]),
        "people": pc.cast(pa.array(ev["people"]), pa.string()),
        **event_markings(ctx, rng, n),
    }


FIELDS = {
    "persons": person_fields,
    "calls": call_fields,
    "payments": payment_fields,
    "crossings": crossing_fields,
    "purchases": purchase_fields,
    "adverts": advert_fields,
    "vehicles": vehicle_fields,
    "legs": leg_fields,
}
__all__ = ["FIELDS", "ROLES", "Ctx", "Locale", "entity_id"]
