"""Non-person resolution (things.py) on a real DuckDB store: identifiers join, conflicts and judgements split."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from avellino.resolve import clusters as cl
from avellino.resolve import store_io, things
from avellino.store import open_store
from tests.statements import batch, statement_row, statement_table

ENTITIES = {
    # two partners' records of one van, plates typed differently
    "uk-nca-v1": ("Vehicle", "uk-nca", {"registrationNumber": "AB12 CDE", "country": "gb"}),
    "fr-ocriest-v2": ("Vehicle", "fr-ocriest", {"registrationNumber": "ab-12-cde", "country": "United Kingdom"}),
    "fr-ocriest-v3": ("Vehicle", "fr-ocriest", {"registrationNumber": "AB12 CDE", "country": "fr"}),  # French plate
    # same IMO (9074729, valid check digit) twice; a third with the same name but another IMO (9176187)
    "uk-nca-s1": ("Vessel", "uk-nca", {"name": "Sea Star", "imoNumber": "IMO 9074729"}),
    "it-sco-s2": ("Vessel", "it-sco", {"name": "SEA STAR I", "imoNumber": "9074729", "flag": "pa"}),
    "de-bpol-s3": ("Vessel", "de-bpol", {"name": "Sea Star", "imoNumber": "9176187"}),
    "de-bpol-s4": ("Vessel", "de-bpol", {"name": "Nordwind", "mmsi": "211234567"}),
    "nl-europol-s5": ("Vessel", "nl-europol", {"name": "Nordwind", "mmsi": "211234567"}),
    # organisations: legal form spelled differently, and a namesake in another jurisdiction
    "uk-nca-o1": ("Company", "uk-nca", {"name": "Acme Logistics Limited", "jurisdiction": "gb"}),
    "fr-ocriest-o2": ("Company", "fr-ocriest", {"name": "ACME LOGISTICS LTD.", "jurisdiction": "uk"}),
    "de-bpol-o3": ("Company", "de-bpol", {"name": "Acme Logistics GmbH", "jurisdiction": "de"}),
    "nl-europol-o6": ("Company", "nl-europol", {"name": "Acme Logistics"}),  # which of the two? neither
    "uk-nca-o4": ("Company", "uk-nca", {"name": "Blue Horizon Travel", "registrationNumber": "0123 4567"}),
    "it-sco-o5": ("Organization", "it-sco", {"name": "Horizon Blue Tours", "registrationNumber": "01234567"}),
    "uk-nca-b1": ("BankAccount", "uk-nca", {"iban": "GB82 WEST 1234 5698 7654 32"}),
    "fr-ocriest-b2": ("BankAccount", "fr-ocriest", {"iban": "gb82west12345698765432"}),
    "uk-nca-u1": ("UserAccount", "uk-nca", {"service": "Telegram", "username": "@Capt_Ali"}),
    "fr-ocriest-u2": ("UserAccount", "fr-ocriest", {"service": "telegram", "username": "capt_ali"}),
    "de-bpol-u3": ("UserAccount", "de-bpol", {"service": "Signal", "username": "capt_ali"}),
}


def statements(entities: dict[str, tuple[str, str, dict[str, str]]]) -> pa.Table:
    return statement_table(
        [
            statement_row(eid, prop, value, schema=schema, originator=originator, source_record="things.csv:2")
            for eid, (schema, originator, props) in entities.items()
            for prop, value in props.items()
        ]
    )


def cluster_of(store) -> pd.Series:
    return store.read_table(things.THING_CLUSTERS).to_pandas().set_index("entity_id")["cluster_id"]


@pytest.fixture()
def store(tmp_path):
    with open_store(tmp_path / "ws", create=True) as opened:
        opened.write_batch(batch("things"), statements(ENTITIES))
        yield opened


def test_identifiers_join_and_conflicts_split(store):
    summary = store_io.run(store)
    assert summary["records"] == 0  # no person: the person model did not run
    assert summary["things"]["records"] == len(ENTITIES)
    c = cluster_of(store)
    assert c["uk-nca-v1"] == c["fr-ocriest-v2"]  # "AB12 CDE" == "ab-12-cde"
    assert c["fr-ocriest-v3"] != c["uk-nca-v1"]  # same plate, known different country
    assert c["uk-nca-s1"] == c["it-sco-s2"]  # same IMO, names differ
    assert c["de-bpol-s3"] != c["uk-nca-s1"]  # same name, conflicting IMO
    assert c["de-bpol-s4"] == c["nl-europol-s5"]  # MMSI
    assert c["uk-nca-o1"] == c["fr-ocriest-o2"]  # Limited == Ltd.
    assert c["de-bpol-o3"] != c["uk-nca-o1"]  # jurisdictions differ
    assert c["nl-europol-o6"] not in {c["uk-nca-o1"], c["de-bpol-o3"]}  # ambiguous
    assert c["uk-nca-o4"] == c["it-sco-o5"]  # registration number, names differ
    assert c["uk-nca-b1"] == c["fr-ocriest-b2"]
    assert c["uk-nca-u1"] == c["fr-ocriest-u2"]
    assert c["de-bpol-u3"] != c["uk-nca-u1"]  # same username, other service
    canonical = store.read_statements(entity_ids=["fr-ocriest-v2"], columns=["canonical_id"]).to_pandas()
    assert set(canonical["canonical_id"]) == {c["uk-nca-v1"]}

    explanation = store_io.explain(store, "uk-nca-s1", "de-bpol-s3")
    assert explanation["rule"] == "conflict:imo" and not explanation["same_cluster"]
    assert "9074729" in explanation["evidence"] and "9176187" in explanation["evidence"]
    assert store_io.explain(store, "it-sco-s2", "uk-nca-s1")["rule"] == "imo"
    assert store_io.explain(store, "nl-europol-o6", "uk-nca-o1")["rule"] == "ambiguous:name"


def test_rejected_judgement_keeps_apart_and_ids_stay(store):
    store_io.run(store)
    before = cluster_of(store)
    store_io.add_judgements(store, [cl.judgement_row("uk-nca-s1", "it-sco-s2", "negative", "ana", "two hulls")])
    store_io.run(store)
    after = cluster_of(store)
    assert after["uk-nca-s1"] != after["it-sco-s2"]
    untouched = [e for e in ENTITIES if e not in ("uk-nca-s1", "it-sco-s2")]
    assert (after[untouched] == before[untouched]).all()  # stable ids where nothing changed
    assert store_io.explain(store, "uk-nca-s1", "it-sco-s2")["judgement"] == "negative"


def test_person_results_unchanged(tmp_path, fixtures):
    from tests.resolve.test_store_flow import statements as person_statements

    people = pd.read_csv(fixtures / "resolve" / "people.csv", dtype=str).head(120)
    results = []
    for name, extra in (("alone", None), ("with-things", ENTITIES)):
        with open_store(tmp_path / name, create=True) as s:
            s.write_batch(batch("people"), person_statements(people))
            if extra:
                s.write_batch(batch("things"), statements(extra))
            summary = store_io.run(s)
            results.append((summary, s.read_table(store_io.CLUSTERS).to_pandas().sort_values("entity_id")))
    (alone, alone_clusters), (mixed, mixed_clusters) = results
    assert {k: v for k, v in mixed.items() if k != "things"} == {k: v for k, v in alone.items() if k != "things"}
    pd.testing.assert_frame_equal(alone_clusters.reset_index(drop=True), mixed_clusters.reset_index(drop=True))
    assert mixed["things"]["records"] == len(ENTITIES) and alone["things"]["records"] == 0


def test_normalise_name_removes_org_types():
    assert things.normalise_name("ACME Logistics Limited") == things.normalise_name("Acme logistics Ltd.")
    assert things.normalise_name("Société Générale SA") == "generale societe"


def test_descriptions_and_numbered_names_do_not_join():
    rows = [("Vessel", "it-sco", {"name": "inflatable boat 10 m"}) for _ in range(7)]
    rows += [("Vessel", "it-sco", {"name": "Sea Star II"}), ("Vessel", "de-bpol", {"name": "Sea Star III"})]
    rows += [("Vessel", "it-sco", {"name": "Nordlicht"}), ("Vessel", "de-bpol", {"name": "NORDLICHT"})]
    table = statements({f"e{i:02d}": row for i, row in enumerate(rows)}).to_pandas()
    found = things.edges(things.records(table))
    joined = found[found["match_probability"] >= 0.5]
    assert list(zip(joined["id_l"], joined["id_r"], joined["rule"], strict=True)) == [("e09", "e10", "name")]
    assert found["evidence"].str.contains("too common alone").any()


def test_a_common_word_still_blocks_while_the_budget_allows():
    # "explorer" is held by 302 vessels (the earlier blocking dropped words held by more than 200), the rare word
    # is misspelled: only the common word brings the two records of the Nordwind Explorer together
    rows = {f"x{i:03d}": ("Vessel", "it-sco", {"name": f"Explorer {w}"}) for i, w in enumerate(_words(300))}
    rows["a1"] = ("Vessel", "it-sco", {"name": "Nordwind Explorer"})
    rows["a2"] = ("Vessel", "de-bpol", {"name": "NORDVIND EXPLORER"})
    found = things.edges(things.records(statements(rows).to_pandas()))
    pair = found[(found["id_l"] == "a1") & (found["id_r"] == "a2")]
    assert pair["rule"].tolist() == ["name"] and pair["match_probability"].tolist() == [1.0]


def test_a_budget_takes_rare_name_keys_first():
    groups = {"token:common": [f"r{i}" for i in range(50)], "token:rare": ["r1", "r2"], "tokens:a|b": ["r3", "r4"]}
    assert things._within_budget(groups, budget=10) == [["r1", "r2"], ["r3", "r4"]]
    assert len(things._within_budget(groups, budget=50 * 49 / 2 + 2)) == 3


def test_records_a_chain_would_join_are_checked_for_conflicts():
    # a1 and c share an IMO, c and b an MMSI; a1 and b share nothing blocking would pair, but their registrations
    # differ: the chain must not put them together
    rows = {
        "a1": ("Vessel", "uk-nca", {"imoNumber": "9074729", "registrationNumber": "GB-1001"}),
        "c": ("Vessel", "it-sco", {"imoNumber": "9074729", "mmsi": "211234567"}),
        "b": ("Vessel", "de-bpol", {"mmsi": "211234567", "registrationNumber": "DE-2002"}),
    }
    found = things.edges(things.records(statements(rows).to_pandas()))
    rules = dict(zip(zip(found["id_l"], found["id_r"], strict=True), found["rule"], strict=True))
    assert rules[("a1", "b")] == "conflict:registration"
    log = things.with_conflicts(pd.DataFrame(columns=cl.JUDGEMENT_COLUMNS), found)
    result = cl.resolve_clusters(pd.Series(["a1", "b", "c"]), found, log, None, 0.5).set_index("entity_id")
    assert result.loc["a1", "cluster_id"] != result.loc["b", "cluster_id"]


def _words(n: int) -> list[str]:
    """n distinct made-up words of 8 random letters (no digits: digits in vessel names must agree)."""
    import random

    rng = random.Random(7)
    return list(dict.fromkeys("".join(rng.choices("abcdefghijklmnoprstuvwz", k=8)) for _ in range(2 * n)))[:n]
