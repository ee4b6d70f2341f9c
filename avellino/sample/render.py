"""Vectorised formatting of values the way each partner writes them: phones, dates, ids, names, plates.

Work is done on whole columns with numpy and pyarrow.compute; Python loops run only over small tables (distinct
phones of a partner, name spellings), which keeps ten million rows within minutes on two cores.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: (country, calling code, national prefix of a mobile range, number of free subscriber digits).
#: Ranges are valid mobile ranges for phonenumbers (tests check a sample), never the Ofcom drama range.
PHONE_PLANS: tuple[tuple[str, str, str, int], ...] = (
    ("gb", "44", "75", 8), ("gb", "44", "795", 7), ("fr", "33", "66", 7), ("fr", "33", "76", 7),
    ("be", "32", "47", 7), ("de", "49", "151", 8), ("de", "49", "176", 8), ("nl", "31", "61", 7),
    ("it", "39", "33", 8), ("iq", "964", "750", 7), ("iq", "964", "770", 7), ("ir", "98", "912", 7),
    ("af", "93", "70", 7), ("sy", "963", "944", 6), ("tr", "90", "532", 7), ("er", "291", "7", 6),
    ("sd", "249", "91", 7), ("eg", "20", "10", 8), ("al", "355", "69", 7), ("vn", "84", "91", 7),
)  # fmt: skip
LOCAL_SIMS = {"gb": 0.4, "fr": 0.3, "be": 0.15, "de": 0.1, "nl": 0.05}


def plan_for(rng: np.random.Generator, nation: np.ndarray, local_sim: np.ndarray) -> np.ndarray:
    """Pick a numbering plan per phone: a European SIM where ``local_sim``, else one from the owner's country."""
    from avellino.sample.world import NATIONS

    plan = np.empty(len(nation), dtype=np.int8)
    by_country: dict[str, list[int]] = {}
    for i, p in enumerate(PHONE_PLANS):
        by_country.setdefault(p[0], []).append(i)
    for ni, nat in enumerate(NATIONS):
        sel = np.flatnonzero(nation == ni)
        home = by_country[nat]
        plan[sel] = np.array(home)[rng.integers(0, len(home), len(sel))]
    sims = np.flatnonzero(local_sim)
    countries = list(LOCAL_SIMS)
    pick = rng.choice(len(countries), size=len(sims), p=np.array(list(LOCAL_SIMS.values())))
    for ci, country in enumerate(countries):
        sel = sims[pick == ci]
        home = by_country[country]
        plan[sel] = np.array(home)[rng.integers(0, len(home), len(sel))]
    return plan


def e164(plan: np.ndarray, local: np.ndarray) -> list[str]:
    """International form (+CC NSN) of phones; the truth and the Europol export use it."""
    return [f"+{cc}{nsn}" for cc, nsn in _parts(plan, local)]


def _parts(plan: np.ndarray, local: np.ndarray) -> list[tuple[str, str]]:
    out = []
    for p, loc in zip(plan.tolist(), local.tolist(), strict=True):
        _, cc, prefix, digits = PHONE_PLANS[p]
        out.append((cc, f"{prefix}{loc:0{digits}d}"))
    return out


def phones_as_written(style: str, plan: np.ndarray, local: np.ndarray, habit: np.ndarray) -> list[str]:
    """Phones as a partner's officers write them: national format for their own country (several habits),
    international with + or 00 for foreign numbers, now and then a foreign number with its code but no +."""
    home = {"uk": "44", "fr": "33", "de": "49", "it": "39"}.get(style)
    # habit: a number in [0, 1) per phone choosing among the partner's ways of writing it.
    out = []
    for (cc, nsn), h in zip(_parts(plan, local), habit.tolist(), strict=True):
        if style == "eu":
            out.append(f"+{cc}{nsn}")
        elif cc == home:
            out.append(_national(style, nsn, h))
        elif h < 0.03 and style == "uk":
            out.append(f"{cc}{nsn}")
        elif h < 0.5:
            out.append(f"+{cc} {nsn}")
        else:
            out.append(f"00{cc}{nsn}")
    return out


def habits(index: np.ndarray, salt: int) -> np.ndarray:
    """A stable number in [0, 1) per phone and partner (a multiplicative hash), so a phone is written the same way
    whichever file or process formats it first."""
    x = (index.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(salt)) & np.uint64(0xFFFFFFFFFFFF)
    x ^= x >> np.uint64(21)
    return (x & np.uint64(0xFFFFFF)).astype(np.float64) / float(0x1000000)


def _national(style: str, nsn: str, h: float) -> str:
    if style == "uk":
        if h < 0.6:
            return f"0{nsn[:4]} {nsn[4:]}"
        return f"0{nsn}" if h < 0.85 else f"+44 {nsn}"
    if style == "fr":
        pairs = " ".join(nsn[i : i + 2] for i in range(1, len(nsn), 2))
        if h < 0.5:
            return f"0{nsn[0]} {pairs}"
        if h < 0.7:
            return f"0{nsn}"
        return f"+33 {nsn[0]} {pairs}" if h < 0.85 else f"0033{nsn}"
    if style == "de":
        if h < 0.5:
            return f"0{nsn[:3]} {nsn[3:]}"
        return f"0{nsn[:3]}/{nsn[3:]}" if h < 0.7 else f"+49 {nsn[:3]} {nsn[3:]}"
    # Italian mobiles have no trunk zero.
    if h < 0.5:
        return f"{nsn[:3]} {nsn[3:]}"
    return f"+39 {nsn[:3]} {nsn[3:]}" if h < 0.8 else f"0039 {nsn}"


def days_to_ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = days.astype("datetime64[D]")
    y = d.astype("datetime64[Y]")
    m = d.astype("datetime64[M]")
    return (
        y.astype(int) + 1970,
        (m - y.astype("datetime64[M]")).astype(int) + 1,
        (d - m.astype("datetime64[D]")).astype(int) + 1,
    )


def noisy_dob(days: np.ndarray, rng: np.random.Generator, swap: float, placeholder: float, typo: float) -> np.ndarray:
    """Birth dates as recorded: day and month swapped (when both fit), 01/01 for an unknown day, a year off."""
    y, m, d = days_to_ymd(days)
    u = rng.random(len(days))
    sw = (u < swap) & (d <= 12) & (d != m)
    m2, d2 = np.where(sw, d, m), np.where(sw, m, d)
    ph = (u >= swap) & (u < swap + placeholder)
    m2, d2 = np.where(ph, 1, m2), np.where(ph, 1, d2)
    ty = (u >= swap + placeholder) & (u < swap + placeholder + typo)
    y2 = y + np.where(ty, rng.choice([-1, 1], len(days)), 0)
    months = (y2 - 1970) * 12 + (m2 - 1)
    return (months.astype("datetime64[M]").astype("datetime64[D]") + (d2 - 1)).astype(np.int64)


def fmt_dates(days: np.ndarray, fmt: str, missing: np.ndarray | None = None) -> pa.Array:
    """Format day numbers (since 1970-01-01) with a strftime pattern; ``missing`` rows become empty."""
    ts = pa.array(days.astype("datetime64[D]").astype("datetime64[s]"))
    out = pc.strftime(ts, format=fmt)
    if missing is not None:
        out = pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), out)
    return out


def fmt_times(seconds: np.ndarray, fmt: str) -> pa.Array:
    """Format timestamps (seconds since 1970-01-01)."""
    return pc.strftime(pa.array(seconds.astype("datetime64[s]")), format=fmt)


def ids(prefix: str, numbers: np.ndarray, width: int = 7) -> pa.Array:
    """``prefix`` + zero-padded number, e.g. NCA-P-0000042."""
    padded = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(pa.scalar(prefix), padded, "")


def pick_refs(refs: pa.Array | Sequence[str | None], index: np.ndarray) -> pa.Array:
    """Values of ``refs`` at ``index``; index -1 gives an empty cell."""
    arr = refs if isinstance(refs, pa.Array) else pa.array(refs, type=pa.string())
    mask = index < 0
    taken = arr.take(pa.array(np.where(mask, 0, index)))
    return pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), taken)


def join_words(*parts: pa.Array, sep: str = " ") -> pa.Array:
    """Join text columns, skipping empty parts (no double spaces)."""
    cleaned = [pc.if_else(pc.equal(p, ""), pa.scalar(None, pa.string()), p) for p in parts]
    return pc.binary_join_element_wise(*cleaned, sep, null_handling="skip")


def blank(values: pa.Array, mask: np.ndarray) -> pa.Array:
    """Empty the cells where ``mask`` is true (a value the partner did not record)."""
    return pc.if_else(pa.array(mask), pa.scalar(None, values.type), values)


def choose(options: Sequence[str], idx: np.ndarray) -> pa.Array:
    """Strings from a small vocabulary by index (dictionary-encoded, then decoded)."""
    return pa.DictionaryArray.from_arrays(pa.array(idx.astype(np.int32)), pa.array(list(options))).cast(pa.string())
