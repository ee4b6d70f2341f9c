"""Originator namespaces: no partner's ids can collide with another's, in Python, in SQL and through ingest."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from avellino.ingest.ids import entity_id, entity_id_sql, namespace_of, namespaced, originator_slug
from avellino.ingest.run import ingest_file
from avellino.store.base import Store


@pytest.mark.parametrize(
    ("a", "b"),
    [(("UK", "nca-p1"), ("UK-NCA", "p1")), (("UK", "nca--p1"), ("UK-NCA", "p1")), (("A B", "c"), ("A", "b-c"))],
)
def test_prefixes_are_a_namespace(a: tuple[str, str], b: tuple[str, str]) -> None:
    assert namespaced(*a) != namespaced(*b)
    assert namespace_of(namespaced(*a)) == originator_slug(a[0])
    assert namespace_of(namespaced(*b)) == originator_slug(b[0])


def test_an_id_already_in_its_namespace_is_kept() -> None:
    assert namespaced("UK-NCA", "uk-nca--p1") == "uk-nca--p1"
    assert namespaced("UK", "uk-nca--p1") == "uk--uk-nca--p1"  # another agency's id is never taken over


def test_sql_and_python_ids_agree() -> None:
    sql = entity_id_sql("o", "Person", ["k1", "k2"])
    for originator, k1, k2 in [("UK-NCA", "P1", None), (" Europol / EMSC ", " x ", ""), ("UK", "nca", "p1")]:
        got = duckdb.sql(f"SELECT {sql} FROM (SELECT ? AS o, ? AS k1, ? AS k2)", params=[originator, k1, k2])
        assert got.fetchall()[0][0] == entity_id(originator, "Person", [k1, k2])


def test_two_agencies_files_with_clashing_ids_stay_apart(store: Store, tmp_path: Path) -> None:
    """An FtM file from UK with id nca-p1 no longer lands on UK-NCA's record p1 (a victim)."""
    for originator, eid, name, category in (("UK-NCA", "p1", "Samira Tesfay", "victim"),
                                            ("UK", "nca-p1", "Samir Tefay", "suspect")):  # fmt: skip
        data = tmp_path / f"{originator}.jsonl"
        data.write_text(json.dumps({"id": eid, "schema": "Person", "properties": {"name": [name]}}) + "\n")
        mapping = tmp_path / f"{originator}.yml"
        mapping.write_text(
            f"originator: {originator}\nsource: {{format: ftm}}\n"
            f"markings: {{handling_code: H0, tlp: AMBER, evaluation: B2, subject_category: {category}}}\n"
        )
        ingest_file(store, data, mapping)
    rows = store.read_statements(columns=["entity_id", "value", "subject_category"]).to_pylist()
    by_id = {(r["entity_id"], r["subject_category"]) for r in rows}
    assert by_id == {("uk-nca--p1", "victim"), ("uk--nca-p1", "suspect")}
