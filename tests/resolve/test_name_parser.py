"""The one name parser (``names.parse_name``) on the shapes agencies write, month-name dates, token blocking."""

from __future__ import annotations

import pandas as pd
import pytest

from avellino.resolve.evaluate import blocking_recall, oracle_threshold
from avellino.resolve.features import build_features, parse_dob
from avellino.resolve.model import token_keys
from avellino.resolve.names import name_features, parse_name


@pytest.mark.parametrize(
    ("written", "surname", "given"),
    [
        ("RODRIGUEZ OREJUELA, Gilberto Jose", ["rodriguez", "orejuela"], ["gilberto", "jose"]),
        ("Gilberto Jose RODRIGUEZ OREJUELA", ["rodriguez", "orejuela"], ["gilberto", "jose"]),
        ("KNOWLES, JR., Samuel", ["knowles"], ["samuel"]),
        ("HYDE SR., Clive Norman", ["hyde"], ["clive", "norman"]),
        ("Mr. Muhammad bin Salman AL-HASSAN", ["hassan"], ["muhammad", "salman"]),
    ],
)
def test_family_part_from_comma_or_capitals(written, surname, given):
    parsed = parse_name(written)
    assert parsed.surname == surname
    assert parsed.given == given


def test_order_and_case_do_not_change_the_name():
    a, b = name_features("PODLINEV, Roman Leonidovich"), name_features("Roman Leonidovich Podlinev")
    assert a.key == b.key and a.skel == b.skel
    assert parse_name("Roman Leonidovich Podlinev").surname == []  # no cue: the family part is unknown


def test_nicknames_akas_initials_and_apostrophes():
    parsed = parse_name('REJON AGUILAR, Jose (Jesus) Enrique a.k.a. "Chuy" Rejon')
    assert "jesus" in parsed.alternates and "chuy" in parsed.alternates
    assert "jesus" not in parsed.tokens and "jesus" in name_features("REJON, Jose (Jesus)").tokens
    assert parse_name("OGUNGBUYI, Wole A.").initials == ["a"]
    assert "a" not in parse_name("OGUNGBUYI, Wole A.").tokens
    assert name_features("NAWA'EE, Ali").key == name_features("NAWAEE Ali").key


def test_arabic_script_still_parses():
    assert name_features("محمد الحسن").skel == name_features("Mohamed AL-HASAN").skel


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("31 Jan 1939", (1939, 1, 31)),
        ("Feb 1968", (1968, 2, 0)),
        ("circa 1969", (1969, 0, 0)),
        ("1962 to 1965", (1962, 0, 0)),
        ("01 Jan 1961 to 31 Dec 1962", (1961, 1, 1)),
        ("3 juin 1980", (1980, 6, 3)),
        ("30 Feb 1960", None),
    ],
)
def test_dates_with_month_names_and_ranges(text, parsed):
    assert parse_dob(text) == parsed


def test_token_keys_reach_reordered_and_respelled_names_within_budget():
    names = ["IVANOV, Sergei", "Sergey IVANOV", "PETROV, Oleg", "Oleg Petrov", "SMITH, John", "Anna Kowalska"]
    df = pd.DataFrame({"id": [str(i) for i in range(len(names))], "name": names})
    features = build_features(df, {"full_name": "name"}, "id")
    keys, used = token_keys(features, budget=10)
    assert keys is not None and used <= 10
    k = [v if isinstance(v, list) else [] for v in keys]
    shared = [set(k[i]) & set(k[j]) for i, j in [(0, 1), (2, 3), (0, 4), (4, 5)]]
    assert shared[0] and shared[1] and not shared[2] and not shared[3]
    none, _ = token_keys(features, budget=0)  # nothing fits: no keys rather than an over-budget block
    assert none is None


def test_blocking_recall_and_oracle_threshold():
    truth = {"0": "a", "1": "a", "2": "b", "3": "b"}
    compared = [pd.DataFrame({"unique_id_l": ["0", "0"], "unique_id_r": ["1", "2"]})]
    assert blocking_recall(compared, truth, 2) == 0.5
    pairs = pd.DataFrame(
        {"unique_id_l": ["0", "0", "2"], "unique_id_r": ["1", "2", "3"], "match_probability": [0.9, 0.6, 0.3]}
    )
    assert oracle_threshold(pairs, truth, 2) == 0.3  # taking all three: 2 of 3 right, both found
