"""Judgements, clustering and stable ids, on hand-made tables (no store, no model)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd

from avellino.resolve.clusters import (
    cluster,
    cluster_judgement_rows,
    effective_judgements,
    judgement_row,
    merge_edges,
    resolve_clusters,
    retraction_row,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def edges(*rows: tuple[str, str, float]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["id_l", "id_r", "match_probability"])


def log(*rows: dict) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def by_cluster(result: pd.DataFrame) -> dict[str, set[str]]:
    return {k: set(v) for k, v in result.groupby("cluster_id")["entity_id"]}


def id_of(result: pd.DataFrame, entity: str) -> str:
    return result.set_index("entity_id").loc[entity, "cluster_id"]


BASE_IDS = ["a1", "a2", "b1", "b2", "c1"]
BASE_EDGES = edges(("a1", "a2", 0.99), ("b1", "b2", 0.95), ("a2", "c1", 0.2))


def test_clusters_follow_model_edges_above_threshold():
    res = resolve_clusters(BASE_IDS, BASE_EDGES, log(), None, 0.5)
    assert sorted(map(sorted, by_cluster(res).values())) == [["a1", "a2"], ["b1", "b2"], ["c1"]]


def test_negative_judgement_splits_even_through_a_chain():
    e = edges(("x", "y", 0.9), ("y", "z", 0.8))
    j = log(judgement_row("x", "z", "negative", "ana", "different fathers", T0))
    comps = cluster(["x", "y", "z"], e, j, 0.5).set_index("entity_id")["component"]
    assert comps["x"] != comps["z"]
    assert comps["x"] == comps["y"]  # the stronger edge wins, the weaker one is refused


def test_positive_judgement_joins_below_threshold_and_retraction_undoes_it():
    first = judgement_row("a2", "c1", "positive", "ana", "same passport seen on scan", T0)
    res = resolve_clusters(BASE_IDS, BASE_EDGES, log(first), None, 0.5)
    assert id_of(res, "c1") == id_of(res, "a1")
    undone = log(first, retraction_row(first, "ben", "scan was of another person"))
    res2 = resolve_clusters(BASE_IDS, BASE_EDGES, undone, None, 0.5)
    assert id_of(res2, "c1") != id_of(res2, "a1")


def test_latest_live_judgement_wins():
    j = log(
        judgement_row("a1", "a2", "negative", "ana", "", T0),
        judgement_row("a2", "a1", "positive", "ben", "checked fingerprints", T0 + timedelta(hours=1)),
    )
    eff = effective_judgements(j)
    assert len(eff) == 1 and eff.loc[0, "verdict"] == "positive"


def test_cluster_judgement_expands_to_pairs():
    rows = cluster_judgement_rows(["b2", "b1", "c1"], "positive", "ana", "one smuggler, three aliases")
    assert {(r["left_id"], r["right_id"]) for r in rows} == {("b1", "b2"), ("b1", "c1")}


def test_ids_stable_after_rerun_and_incremental_add_with_judgements():
    judgements = log(judgement_row("b1", "b2", "negative", "ana", "twins", T0))
    first = resolve_clusters(BASE_IDS, BASE_EDGES, judgements, None, 0.5)
    assert id_of(first, "b1") != id_of(first, "b2")  # the judgement overrides a 0.95 edge

    rerun = resolve_clusters(BASE_IDS, BASE_EDGES, judgements, first, 0.5)
    pd.testing.assert_frame_equal(first.sort_values("entity_id"), rerun.sort_values("entity_id"))

    # a new partner file: d1 joins the a-cluster, e1 and e2 are new people, b/c untouched
    new_ids = BASE_IDS + ["d1", "e1", "e2"]
    new_edges = merge_edges(BASE_EDGES, edges(("a1", "d1", 0.97), ("e1", "e2", 0.9), ("b2", "e1", 0.1)))
    after = resolve_clusters(new_ids, new_edges, judgements, first, 0.5)
    for entity in BASE_IDS:  # every old record keeps its cluster id
        assert id_of(after, entity) == id_of(first, entity)
    assert id_of(after, "d1") == id_of(first, "a1")
    assert id_of(after, "e1") == id_of(after, "e2")
    assert id_of(after, "e1") not in set(first["cluster_id"])
    assert id_of(after, "b1") != id_of(after, "b2")  # the judgement survived the incremental add


def test_split_keeps_id_for_larger_part():
    e = edges(("p1", "p2", 0.9), ("p2", "p3", 0.9))
    first = resolve_clusters(["p1", "p2", "p3"], e, log(), None, 0.5)
    j = log(judgement_row("p2", "p3", "negative", "ana", "", T0))
    after = resolve_clusters(["p1", "p2", "p3"], e, j, first, 0.5)
    assert id_of(after, "p1") == id_of(first, "p1") == id_of(after, "p2")
    assert id_of(after, "p3") != id_of(first, "p1")


def _evidence(dobs: dict[str, str], passports: dict[str, list[str]] | None = None, phones=None, categories=None):
    from avellino.resolve.conflicts import evidence_from_features

    ids = sorted(set(dobs) | set(passports or {}) | set(phones or {}) | set(categories or {}))
    parts = {i: dobs[i].split("-") if dobs.get(i) else [None, None, None] for i in ids}
    features = pd.DataFrame(
        {
            "unique_id": ids,
            "dob_y": [parts[i][0] for i in ids],
            "dob_m": [parts[i][1] for i in ids],
            "dob_d": [parts[i][2] for i in ids],
            "passports": [(passports or {}).get(i) for i in ids],
            "phones": [(phones or {}).get(i) for i in ids],
        }
    )
    cats = pd.DataFrame(list((categories or {}).items()), columns=["entity_id", "subject_category"])
    return evidence_from_features(features, cats)


def test_weak_links_do_not_chain_people_whose_dates_of_birth_conflict():
    # b has no date: it may join a or c, but a and c (born 15 years apart) never end up together through b
    e = edges(("a", "b", 0.9), ("b", "c", 0.8), ("c", "d", 0.7))
    ev = _evidence({"a": "1990-03-12", "b": "", "c": "1975-06-07", "d": "1975-07-06"})
    comps = cluster(["a", "b", "c", "d"], e, log(), 0.5, ev).set_index("entity_id")["component"]
    assert comps["a"] == comps["b"]
    assert comps["c"] != comps["a"]
    assert comps["c"] == comps["d"]  # day and month swapped: a recording error, not a conflict
    plain = cluster(["a", "b", "c", "d"], e, log(), 0.5).set_index("entity_id")["component"]
    assert plain.nunique() == 1  # without evidence every edge chains


def test_passport_conflict_splits_and_shared_passport_outweighs_a_date_typo():
    e = edges(("a", "b", 0.9), ("b", "c", 0.9))
    ev = _evidence(
        {"a": "1990-03-12", "b": "1990-03-12", "c": "1991-04-12"}, passports={"a": ["X1"], "b": ["X1"], "c": ["X1"]}
    )
    assert cluster(["a", "b", "c"], e, log(), 0.5, ev)["component"].nunique() == 1
    ev2 = _evidence({"a": "1990-03-12", "b": "", "c": "1990-03-12"}, passports={"a": ["X1"], "c": ["Y9"]})
    comps = cluster(["a", "b", "c"], e, log(), 0.5, ev2).set_index("entity_id")["component"]
    assert comps["a"] != comps["c"]


def test_victim_and_offender_join_only_on_more_than_a_name():
    cats = {"v": "victim", "s": "suspect", "s2": "suspect"}
    e = edges(("v", "s", 0.99), ("v", "s2", 0.97))
    ev = _evidence({"v": "", "s": "", "s2": ""}, phones={"v": ["+441"], "s2": ["+441"]}, categories=cats)
    comps = cluster(["v", "s", "s2"], e, log(), 0.5, ev).set_index("entity_id")["component"]
    assert comps["v"] != comps["s"]  # name evidence alone (no phone, no date in common)
    assert comps["v"] == comps["s2"]  # a shared phone corroborates
    # ... but only a near-certain pair: a phone shared by a victim and a suspect scored 0.9 is not enough
    unsure = cluster(["v", "s2"], edges(("v", "s2", 0.9)), log(), 0.5, ev)
    assert unsure["component"].nunique() == 2
    # an analyst's `same` still decides
    j = log(judgement_row("v", "s", "positive", "ana", "fingerprints", T0))
    assert cluster(["v", "s"], edges(), j, 0.5, ev)["component"].nunique() == 1


def test_dob_relation():
    from avellino.resolve.conflicts import dob_relation

    assert dob_relation(("1990", "03", "12"), ("1990", "12", "03")) == "agree"
    assert dob_relation(("1990", "03", "12"), ("1990", "03", "13")) == "agree"
    assert dob_relation(("1990", "03", "12"), ("1909", "03", "12")) == "agree"  # transposed digits
    assert dob_relation(("1990", "01", "01"), ("1990", "07", "21")) == "compatible"
    assert dob_relation(("1990", None, None), ("1990", "07", "21")) == "compatible"
    assert dob_relation(("1990", "03", "12"), ("1990", "07", "21")) == "conflict"
    assert dob_relation(("1990", "03", "12"), ("1985", "03", "12")) == "conflict"
    assert dob_relation(None, ("1985", "03", "12")) == "unknown"


def test_a_pair_the_model_itself_links_is_no_conflict():
    # a and c differ by two digits in the date, but the model scored a~c as a match on the rest of its evidence
    ev = _evidence({"a": "1990-03-12", "b": "", "c": "1990-08-17"})
    together = cluster(["a", "b", "c"], edges(("a", "b", 0.9), ("b", "c", 0.8), ("a", "c", 0.6)), log(), 0.5, ev)
    assert together["component"].nunique() == 1
    apart = cluster(["a", "b", "c"], edges(("a", "b", 0.9), ("b", "c", 0.8), ("a", "c", 0.4)), log(), 0.5, ev)
    assert apart["component"].nunique() == 2


def test_clusters_join_only_if_their_scored_pairs_agree_on_average():
    # names alone: "Ali Hassan" (a) and "Ali Hussein" (c) both list the alias "Abu Ali" (b); a and c were scored
    # against each other and are no match, so b joins one of them and the namesakes stay apart
    e = edges(("a", "b", 0.9), ("b", "c", 0.85), ("a", "c", 0.05), ("c", "d", 0.8))
    comps = cluster(["a", "b", "c", "d"], e, log(), 0.5, _evidence({})).set_index("entity_id")["component"]
    assert comps["a"] == comps["b"] and comps["c"] == comps["d"] and comps["a"] != comps["c"]
    # where the other pairs were not scored, or agree, chaining is as before
    agree = edges(("a", "b", 0.9), ("b", "c", 0.85), ("a", "c", 0.6))
    assert cluster(["a", "b", "c"], agree, log(), 0.5, _evidence({}))["component"].nunique() == 1
    unscored = edges(("a", "b", 0.9), ("b", "c", 0.85))
    assert cluster(["a", "b", "c"], unscored, log(), 0.5, _evidence({}))["component"].nunique() == 1


def test_a_placeholder_date_does_not_corroborate_a_victim_offender_join():
    # 01/01 means "day and month unknown": two such dates in one year say nothing about the person
    cats = {"v": "victim", "s": "suspect", "s2": "suspect"}
    e = edges(("v", "s", 0.99), ("v", "s2", 0.98))
    ev = _evidence({"v": "1984-01-01", "s": "1984-01-01", "s2": "1984-01-01"}, categories=cats)
    assert cluster(["v", "s", "s2"], e, log(), 0.5, ev)["component"].nunique() == 3
    real = _evidence({"v": "1984-05-26", "s": "1984-05-26"}, categories=cats)
    assert cluster(["v", "s"], e, log(), 0.5, real)["component"].nunique() == 1


def test_a_date_one_digit_away_does_not_corroborate_a_victim_offender_join():
    # near dates are no evidence that a victim and a suspect are one person (a recording error is possible, but
    # so are two people born months apart); the same date, or day and month swapped, is
    cats = {"v": "victim", "s": "suspect"}
    e = edges(("v", "s", 0.99))
    near = _evidence({"v": "2001-01-19", "s": "2001-04-19"}, categories=cats)
    assert cluster(["v", "s"], e, log(), 0.5, near)["component"].nunique() == 2
    swapped = _evidence({"v": "2001-04-09", "s": "2001-09-04"}, categories=cats)
    assert cluster(["v", "s"], e, log(), 0.5, swapped)["component"].nunique() == 1


def test_a_record_that_only_piloted_a_boat_joins_a_suspect_only_on_more_than_a_name():
    # a coerced migrant pilot is recorded as a suspect; a namesake recruiter is a suspect too. Name evidence
    # alone never puts the pilot's record into the recruiter's cluster; a shared phone does.
    from avellino.resolve.conflicts import evidence_from_features, migrant_pilots

    refs = pd.DataFrame(
        [
            ("Crossing", "pilot", "pilot1"),
            ("Crossing", "pilot", "pilot2"),
            ("Crossing", "pilot", "smuggler"),
            ("Leg", "operator", "smuggler"),  # pilots and drives: not a migrant pilot
            ("Advert", "author", "recruiter"),
        ],
        columns=["schema", "prop", "value"],
    )
    assert migrant_pilots(refs) == {"pilot1", "pilot2"}
    ids = ["pilot1", "pilot2", "recruiter"]
    features = pd.DataFrame({"unique_id": ids, "phones": [None, ["+4479"], ["+4479"]]})
    cats = pd.DataFrame([(i, "suspect") for i in ids], columns=["entity_id", "subject_category"])
    ev = evidence_from_features(features, cats, migrant_pilots(refs))
    e = edges(("pilot1", "recruiter", 0.9))
    assert cluster(["pilot1", "recruiter"], e, log(), 0.5, ev)["component"].nunique() == 2
    assert (
        cluster(["pilot1", "recruiter"], e, log(), 0.5, evidence_from_features(features, cats))["component"].nunique()
        == 1
    )  # without the pilot evidence the name alone would join them
    e2 = edges(("pilot2", "recruiter", 0.99))
    assert cluster(["pilot2", "recruiter"], e2, log(), 0.5, ev)["component"].nunique() == 1
