"""Name variants: partners spell the same people differently, by rule and not by a fixed list."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import phonenumbers
import pytest

from avellino.sample import generate
from avellino.sample.names import PARTNER_STYLES, apply_rules, build_tables, token_variants
from avellino.sample.render import PHONE_PLANS, habits, phones_as_written


def test_known_families_differ_across_partners() -> None:
    usual = {s: token_variants("muhammad", "arabic", s, 7)[0] for s in PARTNER_STYLES}
    assert len(set(usual.values())) >= 3, usual
    assert usual["eu"] == "Muhammad" and usual["fr"] == "Mohamed"
    abd = {s: token_variants("abd_al-rahman", "arabic", s, 7)[0] for s in PARTNER_STYLES}
    assert abd["fr"] == "Abderrahmane" and len(set(abd.values())) >= 3


def test_rules_apply_to_names_outside_the_families() -> None:
    # 'shakir' and 'jalal' are in no family: the spellings come from correspondence rules alone.
    assert apply_rules("shakir", "arabic", "fr", None).startswith("ch")
    assert apply_rules("shakir", "arabic", "de", None).startswith("sch")
    assert apply_rules("jalal", "arabic", "fr", None).startswith("dj")
    assert apply_rules("şivan", "kurmanji", "de", None) == "schivan"
    assert apply_rules("gëzim", "albanian", "uk", None) == "gezim"


def test_most_tokens_have_several_spellings() -> None:
    tables = build_tables(7)
    differing = 0
    for i, culture in enumerate(tables.cultures):
        if culture in ("english", "french", "german"):
            continue
        spellings = {tables.variants[s][i][0] for s in PARTNER_STYLES}
        differing += len(spellings) > 1
    assert differing >= 0.4 * sum(c not in ("english", "french", "german") for c in tables.cultures)


def test_partner_files_spell_the_same_person_differently(tmp_path: Path) -> None:
    m = generate(tmp_path, scale=3000, seed=11)
    uk = _names(tmp_path / "partners/uk-nca/uk-nca_persons.csv", ",", "person_ref", "forenames", "surname")
    fr = _names(tmp_path / "partners/fr-ocriest/fr-ocriest_persons.csv", ";", "ID_PERSONNE", "PRENOM", "NOM")
    with (tmp_path / "truth/persons.csv").open(encoding="utf-8") as fh:
        truth = list(csv.DictReader(fh))
    uk_by_person = {t["person_id"]: uk[t["record_id"]] for t in truth if t["partner"] == "UK-NCA"}
    pairs = [(uk_by_person[t["person_id"]], fr[t["record_id"]]) for t in truth
             if t["partner"] == "FR-OCRIEST" and t["person_id"] in uk_by_person]  # fmt: skip
    assert len(pairs) >= 30 and m.records > 0
    differ = sum(a.lower() != b.lower() for a, b in pairs)
    assert differ / len(pairs) >= 0.3, pairs[:10]
    assert any(b == b.upper() for _, b in [(a, fr_name.split(" ", 1)[-1]) for a, fr_name in pairs])


def _names(path: Path, delimiter: str, key: str, first: str, last: str) -> dict[str, str]:
    with path.open(encoding="utf-8") as fh:
        return {r[key]: f"{r[first]} {r[last]}" for r in csv.DictReader(fh, delimiter=delimiter)}


@pytest.mark.parametrize("plan", range(len(PHONE_PLANS)))
def test_phone_ranges_are_valid_numbers(plan: int) -> None:
    _, cc, prefix, digits = PHONE_PLANS[plan]
    rng = np.random.default_rng(plan)
    for local in rng.integers(0, 10**digits, 200).tolist():
        assert phonenumbers.is_valid_number(phonenumbers.parse(f"+{cc}{prefix}{local:0{digits}d}"))


def test_national_formats_parse_back_with_the_partner_country() -> None:
    plans = np.array([0, 2, 5, 8])
    local = np.array([12345678, 1234567, 12345678, 12345678])
    for salt, (style, region) in enumerate((("uk", "GB"), ("fr", "FR"), ("de", "DE"), ("it", "IT"))):
        for text, p, loc in zip(
            phones_as_written(style, plans, local, habits(np.arange(4), salt)), plans, local, strict=True
        ):
            _, cc, prefix, digits = PHONE_PLANS[p]
            parsed = phonenumbers.parse(text, region)
            assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == (
                f"+{cc}{prefix}{loc:0{digits}d}"
            ), (style, text)
