"""Documented multilingual patterns: evidence beside the model's n-grams, and weak labels for unlabelled posts.

Each pattern names where its wording comes from. None is learned from real posts we could cite: the sources are
the phrasing issue 20 quotes from reporting on smuggling adverts ("to England. 4,000 pounds. With boats. Every day",
the euphemisms "b0at", "game", "trip", "VIP", boat emoji), the sample operation's adverts
(``avellino/sample/fields.py`` ``ADVERT_TEXT``), and our own reading of how fake job offers and document sellers
advertise (marked "our judgement": an agency should check them against its own cases). Benign patterns (warnings,
reporting, news framing) count against harm: they are why a warning that quotes an advert is not an advert.

Weak supervision (``train --labels``): an unlabelled post gets a label only when the patterns of exactly one class
fire and no benign pattern does (``weak_label``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Pattern:
    name: str
    label: str  # smuggling_offer | fake_job_lure | document_forgery | benign
    regex: re.Pattern[str]
    source: str


ISSUE = "issue 20: phrasing quoted from reporting on smuggling adverts"
SAMPLE = "avellino/sample/fields.py ADVERT_TEXT (the sample operation's adverts)"
JUDGEMENT = "our judgement of how such adverts are worded; to be checked against agency cases"


DOC_WORDS = (
    r"passports?|id cards?|residence permits?|driving licen[cs]es?|visas?|certificates?|passeports?|cartes? d'identité|"
    r"titres? de séjour|pasaportes?|dni|permisos?|passaport[oi]|carte d'identità|permessi|pässe|ausweise|"
    r"aufenthaltstitel|pasaporta|letërnjoftime|leje qëndrimi|hộ chiếu|căn cước|thẻ cư trú|جوازات?|هويات|إقامات|پاسپورت|"
    r"کارت شناسایی|اقامت|پاسپورټ|تذکره|پاسپۆرت|ناسنامە|pasaport|nasname|ፓስፖርት|护照|身份证|居留卡|여권|신분증|체류증"
)
SALE_WORDS = (
    r"for sale|we make|we have|à vendre|on fait|se venden|hacemos|vendo|facciamo|zu verkaufen|wir machen|shesim|bëjmë|"
    r"bán|làm .{0,10}mọi nước|للبيع|نعمل|فروش|می‌سازیم|د پلور|جوړوو|بۆ فرۆشتن|دروست دەکەین|ji bo firotinê|çêdikin|"
    r"ንመሸጣ|出售|办理|판매|제작"
)


def _p(name: str, label: str, pattern: str, source: str) -> Pattern:
    return Pattern(name, label, re.compile(pattern, re.IGNORECASE | re.UNICODE), source)


PATTERNS: tuple[Pattern, ...] = (
    # crossings
    _p(
        "boat_word",
        "smuggling_offer",
        r"\b(b[o0]{1,2}at|b[o0]te|bateau|barco|barca|barcone|gommone|zodiac|patera|varkë|gomone|thuyền|xuồng)\b|"
        r"بلم|قارب|قایق|کشتۍ|بەلەم|\bbelem|ጃልባ|坐船|배로|🚤|⛴",
        ISSUE,
    ),
    _p(
        "crossing_word",
        "smuggling_offer",
        r"\b(crossing|travers[ée]e|cruce|traversata|überfahrt|kalim|derbasbûn)\b|"
        r"عبور|رد شدن|تېرېدل|پەڕینەوە|偷渡|밀입국",
        JUDGEMENT,
    ),
    _p(
        "euphemism",
        "smuggling_offer",
        r"\b(vip (car|trip)|game by sea|the game|taxi to (uk|england)|trip to (uk|england))\b",
        ISSUE,
    ),
    _p(
        "every_day",
        "smuggling_offer",
        r"\b(every ?day|tous les jours|todos los días|ogni giorno|jeden tag|çdo ditë|hàng ngày|"
        r"her roj)\b|كل يوم|هر روز|هره ورځ|هەموو ڕۆژێک|每天",
        ISSUE,
    ),
    _p(
        "pay_on_arrival",
        "smuggling_offer",
        r"pay after arrival|payer à l'arrivée|pagas al llegar|paghi all'arrivo|zahlung nach ankunft|paguan kur arrin|"
        r"tới nơi mới trả|الدفع بعد الوصول|پرداخت بعد از رسیدن|وروسته له رسېدو|"
        r"دوای گەیشتن|piştî gihîştinê|到了再付款|도착 후 지불",
        SAMPLE,
    ),
    _p(
        "no_police",
        "smuggling_offer",
        r"no police|pas de police|sin policía|niente polizia|keine polizei|pa polici|không lo công an|بدون شرطة|"
        r"بدون پلیس|پولیس نشته|پۆلیس نییە|polîs tune|不怕警察|경찰 걱정",
        JUDGEMENT,
    ),
    # fake jobs
    _p(
        "visa_included",
        "fake_job_lure",
        r"visa (and|&) (flight|ticket)|visa et billet|visado y vuelo|visto e volo|"
        r"visum und flug|viza dhe bileta|lo visa|"
        r"الفيزا والتذكرة|ویزا و بلیط|ویزه او ټکټ|ڤیزا و بلیت|vîze û bilêt|包签证|비자와 항공권",
        SAMPLE,
    ),
    _p(
        "no_papers",
        "fake_job_lure",
        r"no (experience|papers)|sans (expérience|papiers)|sin (experiencia|papeles)|senza (esperienza|documenti)|"
        r"keine (erfahrung|papiere)|pa (eksperiencë|dokumente)|không cần (kinh nghiệm|giấy tờ)|بدون خبرة|بدون تجربه|"
        r"بێ ئەزموون|bê tecrûbe|无需经验|경험 서류",
        JUDGEMENT,
    ),
    _p(
        "agency_fee",
        "fake_job_lure",
        r"agency fee|frais de dossier|cuota de la agencia|quota dell'agenzia|"
        r"vermittlungsgebühr|tarifën e agjencisë|đóng phí|"
        r"رسوم المكتب|هزینه دفتر|د دفتر فیس|کرێی نووسینگە|heqê ofîsê",
        JUDGEMENT,
    ),
    _p(
        "job_abroad",
        "fake_job_lure",
        r"jobs? abroad|emploi à l'étranger|empleo en el extranjero|lavoro all'estero|job im ausland|punë jashtë|"
        r"xuất khẩu lao động|فرص عمل بالخارج|کار در خارج|بهر کې کار|کار لە دەرەوە|karê li derve|出国劳务|해외 취업",
        SAMPLE,
    ),
    # documents
    _p(
        "docs_for_sale",
        "document_forgery",
        rf"({DOC_WORDS}).{{0,30}}({SALE_WORDS})|({SALE_WORDS}).{{0,30}}({DOC_WORDS})",
        JUDGEMENT,
    ),
    _p(
        "passes_control",
        "document_forgery",
        r"passes? (airport )?control|passe le contrôle|pasa el control|"
        r"passa il controllo|durch jede kontrolle|kalon kontrollin|"
        r"qua được kiểm tra|تمر من التفتيش|از بازرسی رد|له تلاشۍ تېرېږي|لە پشکنین|ji kontrolê|过海关|검사 통과|"
        r"registered in the system|enregistré dans le système",
        JUDGEMENT,
    ),
    # benign framing: warnings, reporting, news
    _p(
        "warning",
        "benign",
        r"\b(warning|warns?|attention|aviso|alerta|attenzione|avverte|warnung|warnt|"
        r"kujdes|paralajmëron|cảnh báo|hişyarî)\b|"
        r"تحذير|يحذر|هشدار|خبرتیا|ئاگاداری|警告|提醒|경고|መጠንቀቕታ",
        JUDGEMENT,
    ),
    _p(
        "report_it",
        "benign",
        r"\breport\b|signalez|denuncia|segnala|melden sie|raportoni|báo cho công an|بلغ الشرطة|گزارش دهید|راپور کړئ|"
        r"ڕابگەیەنە|ragihîne|举报|신고",
        JUDGEMENT,
    ),
    _p(
        "news_frame",
        "benign",
        r"police said|court heard|investigators|selon la police|tribunal|"
        r"según la policía|secondo la polizia|laut polizei|"
        r"ermittler|sipas policisë|theo công an|قالت الشرطة|المحكمة|به گفته پلیس|دادگاه|د پولیسو په وینا|بەپێی پۆلیس|"
        r"li gorî polîs|警方称|法庭|경찰에 따르면|법정",
        JUDGEMENT,
    ),
    _p(
        "apply_online",
        "benign",
        r"apply (online|on our website)|postulez|inscríbete|candidati|"
        r"online bewerben|aplikoni|nộp hồ sơ|قدم عبر موقعنا|"
        r"از سایت درخواست|غوښتنه وکړئ|داوا بکە|serlêdan bike|官网申请|홈페이지에서 지원|send your cv|envoyez votre cv",
        JUDGEMENT,
    ),
)
HARMFUL_LABELS = ("smuggling_offer", "fake_job_lure", "document_forgery")


@dataclass(frozen=True)
class Match:
    name: str
    label: str
    text: str


def matches(text: str) -> list[Match]:
    """Every pattern that fires in ``text``, with the words it matched."""
    out = []
    for p in PATTERNS:
        m = p.regex.search(text)
        if m:
            out.append(Match(p.name, p.label, m.group(0)))
    return out


def weak_label(text: str) -> str | None:
    """A label from the patterns alone: the one harmful class whose patterns fire when no benign pattern does,
    ``benign`` when only benign ones fire; None when they disagree or none fires."""
    found = matches(text)
    labels = {m.label for m in found}
    if labels == {"benign"}:
        return "benign"
    harmful = labels & set(HARMFUL_LABELS)
    if "benign" in labels or len(harmful) != 1:
        return None
    return harmful.pop()
