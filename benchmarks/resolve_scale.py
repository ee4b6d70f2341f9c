"""Resolve N synthetic person records (default 1,000,000) from five partners; print wall time and peak memory.

The records are generated here (seeded, vectorised): people with Arabic, Persian, Kurdish, Pashto, Tigrinya,
Albanian and Vietnamese names, each seen by 1-5 partners who romanise names differently, swap name order,
write some names in Arabic script, swap day and month, type 01/01 for unknown birth days, and write phones
with or without the country code. Generation time is reported apart from resolution time.

Usage: ``python benchmarks/resolve_scale.py [--records 1000000] [--seed 3]``. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from avellino.resolve.evaluate import PeakMemory, count_true_pairs, score_pairs
from avellino.resolve.features import build_features
from avellino.resolve.model import DEFAULT_THRESHOLD, train
from avellino.resolve.pipeline import scored_pairs

# Each group: spellings of one name as different partners write them (first = Arabic script where common).
GIVEN = [
    "محمد|Mohammed|Muhammad|Mohamed|Mohamad",
    "أحمد|Ahmed|Ahmad|Ahmet",
    "علي|Ali|Aly",
    "حسين|Hussein|Husain|Hossein|Husayn",
    "حسن|Hassan|Hasan",
    "عمر|Omar|Umar|Omer",
    "يوسف|Youssef|Yusuf|Yousef|Yousif",
    "إبراهيم|Ibrahim|Ebrahim|Ibraheem",
    "خالد|Khaled|Khalid|Halid",
    "عبد الرحمن|Abdulrahman|Abderrahmane|Abdel Rahman|Abdurrahman",
    "عبد الله|Abdullah|Abdallah|Abdulla",
    "مصطفى|Mustafa|Moustafa|Mostafa",
    "جمال|Jamal|Djamel|Gamal",
    "كريم|Karim|Kareem|Kerim",
    "سعيد|Said|Saeed|Sayed",
    "رضا|Reza|Rida|Ridha",
    "مهدي|Mehdi|Mahdi",
    "جواد|Javad|Jawad",
    "فرهاد|Farhad|Farhod",
    "دلشاد|Dilshad|Delshad",
    "آراس|Aras|Araz",
    "كاوه|Kawa|Kaveh|Kaweh",
    "شيركو|Shirko|Sherko",
    "رحيم الله|Rahimullah|Rahimulla",
    "گل|Gul|Gol",
    "نور|Noor|Nur|Nour",
    "Haile|Hayle|Haila",
    "Tesfay|Tesfaye|Tesfai",
    "Mehari|Mihret|Mehary",
    "Yonas|Yohannes|Johannes",
    "Dawit|Dawitt|Davit",
    "Arben|Arbeni",
    "Besnik|Besniku",
    "Ilir|Iliri",
    "Gëzim|Gezim",
    "Thanh|Thành",
    "Minh|Mình",
    "Tuấn|Tuan",
    "Hùng|Hung",
    "فاطمة|Fatima|Fatemeh|Fatma",
    "زينب|Zainab|Zeynab|Zaynab",
    "مريم|Maryam|Mariam|Meryem",
    "Semhar|Semher",
    "Luljeta|Luljete",
    "Lan|Lân",
]
SURNAME = [
    "الحسن|Al-Hassan|Alhassan|El Hassan|Hassan",
    "الأحمد|Al-Ahmad|Alahmad|Al Ahmed",
    "الخطيب|Al-Khatib|Alkhatib|El Khatib|Khatib",
    "النجار|Al-Najjar|Najjar|Alnajjar",
    "الشامي|Al-Shami|Alshami|Chami|El Chami",
    "حداد|Haddad|Hadad",
    "منصور|Mansour|Mansur|Mansoor",
    "سليمان|Suleiman|Sulaiman|Soliman|Suleyman",
    "عثمان|Othman|Osman|Uthman",
    "الرشيد|Al-Rashid|Ar-Rashid|Rashid",
    "حسيني|Hosseini|Husseini|Hoseini",
    "رضائي|Rezaei|Rezai|Rezaee",
    "محمدي|Mohammadi|Mohamadi|Muhammadi",
    "کریمی|Karimi|Kerimi",
    "عزيزي|Azizi|Asisi",
    "أحمدزاي|Ahmadzai|Ahmedzai",
    "ستانكزاي|Stanekzai|Stanikzai",
    "يوسفزاي|Yousafzai|Yusufzai",
    "بارزاني|Barzani|Barazani",
    "طالباني|Talabani|Talebani",
    "Gebremichael|Gebremikael|Ghebremichael",
    "Tesfamariam|Tesfamaryam",
    "Haile|Hayle",
    "Berhane|Berhe|Berhani",
    "Kidane|Kidan",
    "Hoxha|Hodja|Hoxhaj",
    "Krasniqi|Krasniqui|Krasnici",
    "Berisha|Berishaj",
    "Gashi|Gashaj",
    "Shehu|Sheu",
    "Nguyễn|Nguyen|Nguyen",
    "Trần|Tran",
    "Lê|Le",
    "Phạm|Pham",
    "Hoàng|Hoang|Huynh",
    "Đặng|Dang",
    "عبد الله|Abdullah|Abdallah",
    "إبراهيم|Ibrahim|Ebrahim",
    "يوسف|Youssef|Yusuf",
    "قاسم|Qasim|Kassem|Kasim|Qassem",
]
SOURCES = [
    ("uk-nca", "GB", "44"),
    ("fr-ocriest", "FR", "33"),
    ("de-bpol", "DE", "49"),
    ("it-sco", "IT", "39"),
    ("europol", "NL", "31"),
]


def _pick(
    groups: list[list[str]], group: np.ndarray, rng: np.random.Generator, arabic: np.ndarray, bias: np.ndarray
) -> np.ndarray:
    """One spelling per record: Arabic script when asked and available, else a partner-biased Latin variant."""
    out = np.empty(len(group), dtype=object)
    for g, spellings in enumerate(groups):
        rows = np.flatnonzero(group == g)
        if not len(rows):
            continue
        script = spellings[0] if any("\u0600" <= c <= "\u06ff" for c in spellings[0]) else None
        latin = [s for s in spellings if s != script]
        idx = (bias[rows] + rng.integers(0, 2, len(rows))) % len(latin)
        names = np.array(latin, dtype=object)[idx]
        if script is not None:
            names = np.where(arabic[rows], script, names)
        out[rows] = names
    return out


def generate(n_records: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    given = [g.split("|") for g in GIVEN]
    surname = [s.split("|") for s in SURNAME]
    copies = rng.choice([1, 2, 3, 4, 5], p=[0.2, 0.3, 0.25, 0.15, 0.1], size=int(n_records / 2.5) + 10)
    ent = np.repeat(np.arange(len(copies)), copies)[:n_records]
    n_ent = int(ent.max()) + 1
    # the people
    g1 = rng.integers(0, len(given), n_ent)
    g2 = rng.integers(0, len(given), n_ent)  # father's name, used as a middle name by some partners
    sn = rng.integers(0, len(surname), n_ent)
    birth = np.datetime64("1960-01-01") + rng.integers(0, 45 * 365, n_ent).astype("timedelta64[D]")
    nat = rng.choice(["SY", "IQ", "IR", "AF", "ER", "AL", "VN"], n_ent)
    home = rng.integers(0, len(SOURCES), n_ent)
    has_phone = rng.random(n_ent) < 0.6
    phone_cc = np.array([s[2] for s in SOURCES])[home]
    phone_num = rng.integers(600_000_000, 799_999_999, n_ent)
    # the records: each copy seen by a different partner, partners' habits as biases
    src = (home[ent] + np.concatenate([np.arange(c) for c in copies])[:n_records]) % len(SOURCES)
    bias = src.copy()
    arabic = rng.random(n_records) < 0.05
    given_s = _pick(given, g1[ent], rng, arabic, bias)
    father_s = _pick(given, g2[ent], rng, arabic, bias)
    sur_s = _pick(surname, sn[ent], rng, arabic, bias)
    with_father = rng.random(n_records) < 0.3
    swap = rng.random(n_records) < 0.2
    first = np.where(with_father, given_s + " " + father_s, given_s)
    full = np.where(swap, sur_s + " " + first, first + " " + sur_s)
    dob = pd.Series(birth[ent]).dt
    y, m, d = dob.year.to_numpy(), dob.month.to_numpy(), dob.day.to_numpy()
    r = rng.random(n_records)
    swap_dm = (r < 0.05) & (d <= 12)
    m2, d2 = np.where(swap_dm, d, m), np.where(swap_dm, m, d)
    placeholder = (r >= 0.05) & (r < 0.10)
    m2, d2 = np.where(placeholder, 1, m2), np.where(placeholder, 1, d2)
    typo = (r >= 0.10) & (r < 0.14)
    d2 = np.where(typo & (d2 < 28), d2 + 1, d2)
    dob_s = pd.Series([f"{a:02d}/{b:02d}/{c}" for a, b, c in zip(d2, m2, y, strict=True)], dtype=object)
    dob_s[r >= 0.96] = None
    pr = rng.random(n_records)
    num = phone_num[ent].astype(str)
    cc = phone_cc[ent]
    local = np.array(["0" + x for x in num], dtype=object)
    phone = np.where(pr < 0.4, "+" + cc + " " + num, np.where(pr < 0.7, "00" + cc + num, local))
    # a local number is only right if the partner is in the person's phone country: otherwise write it in full
    phone = np.where((pr >= 0.7) & (np.array([s[2] for s in SOURCES])[src] != cc), "+" + cc + num, phone)
    phone = np.where(has_phone[ent] & (rng.random(n_records) < 0.7), phone, None)
    return pd.DataFrame(
        {
            "record_id": [f"r{i}" for i in range(n_records)],
            "source": np.array([s[0] for s in SOURCES])[src],
            "country": np.array([s[1] for s in SOURCES])[src],
            "full_name": full,
            "dob": dob_s,
            "nationality": nat[ent],
            "phone": phone,
            "person": ent.astype(str),
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    t0 = time.perf_counter()
    df = generate(args.records, args.seed)
    gen_s = time.perf_counter() - t0
    roles = {
        "full_name": "full_name",
        "dob": "dob",
        "nationality": "nationality",
        "phone": "phone",
        "country": "country",
    }
    meter = PeakMemory()
    stages: dict[str, float] = {}
    with meter.watch():
        t = time.perf_counter()
        features = build_features(df, roles, "record_id")
        stages["features_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        trained = train(features, explainable=False)
        stages["train_s"] = round(time.perf_counter() - t, 1)
        t = time.perf_counter()
        pairs, compared = scored_pairs(trained.linker)
        stages["predict_s"] = round(time.perf_counter() - t, 1)
    wall = sum(stages.values())
    truth = df.set_index("record_id")["person"]
    true_pairs = count_true_pairs(df["person"], None)
    p, rc, f1, n = score_pairs(pairs, truth.to_dict(), true_pairs, DEFAULT_THRESHOLD)
    print(
        json.dumps(
            {
                "records": len(df),
                "people": int(df["person"].nunique()),
                "generate_s": round(gen_s, 1),
                "wall_s": round(wall, 1),
                **stages,
                "peak_mb": round(meter.peak, 1),
                "pairs_compared": compared,
                "precision": round(p, 4),
                "recall": round(rc, 4),
                "f1": round(f1, 4),
                "blocks": trained.blocks,
            }
        )
    )


if __name__ == "__main__":
    main()
