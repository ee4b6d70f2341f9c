"""Strong identifiers: normalised equal when the same, None when unusable."""

from __future__ import annotations

from avellino.resolve.identifiers import (
    normalise_document,
    normalise_iban,
    normalise_imo,
    normalise_mmsi,
    normalise_phone,
    normalise_plate,
)


def test_phone_variants_meet_in_e164_with_originator_country():
    uk = "+447700900123"
    assert normalise_phone("07700 900123", "GB") == uk
    assert normalise_phone("+44 7700900123", "FR") == uk
    assert normalise_phone("0044 7700 900 123", None) == uk
    assert normalise_phone("07700 900123", "France") != uk  # read as a French number
    assert normalise_phone("not a phone", "GB") is None


def test_checksummed_identifiers():
    assert normalise_iban("gb82 west 1234 5698 7654 32") == "GB82WEST12345698765432"
    assert normalise_iban("GB82 WEST 1234 5698 7654 33") is None
    assert normalise_imo("IMO 9074729") == "9074729"
    assert normalise_imo("9074728") is None
    assert normalise_mmsi("235 009 802") == "235009802"
    assert normalise_mmsi("123") is None


def test_documents_and_plates():
    assert normalise_document("ab-123 456") == normalise_document("AB123456") == "AB123456"
    assert normalise_document("unknown") is None
    assert normalise_document("00000000") is None
    assert normalise_plate("ab12 cde", "United Kingdom") == "GB:AB12CDE"


def test_sex_is_read_as_sex_not_as_a_country():
    import pandas as pd

    from avellino.resolve.features import build_features, normalise_sex

    # "Male" once went through the country normaliser and came out "MV" (Malé is the capital of the Maldives)
    written = ["Male", "m", "M.", "man", "homme", "Masculin", "männlich", "F", "female", "Woman", "femme", "Weiblich"]
    assert [normalise_sex(s) for s in written] == ["M"] * 7 + ["F"] * 5
    assert [normalise_sex(s) for s in ("unknown", "X", "Mali", "")] == [None] * 4
    df = pd.DataFrame({"id": ["a", "b", "c"], "name": ["Ali Hassan"] * 3, "gender": ["Male", "M", "unknown"]})
    features = build_features(df, {"full_name": "name", "sex": "gender"}, "id")
    assert features["sex"].tolist() == ["M", "M", None]
