"""Statements are kept once per file, whether or not their entity skips the grouping (``run.finish_sql``)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

import avellino.ingest.compile as compile_sql
import avellino.ingest.run as run

MAPPING = """
originator: UK-NCA
source: {format: csv}
markings: {handling_code: H1, tlp: AMBER, evaluation: B2, subject_category: suspect}
entities:
  caller: {schema: Person, keys: [caller], key_literal: Person}
  receiver: {schema: Person, keys: [receiver], key_literal: Person}
  call:
    schema: Call
    keys: [ref]
    properties:
      caller: {entity: caller}
      receiver: {entity: receiver}
      duration: {column: secs}
      summary: {columns: [note_a, note_b]}
"""
Row = tuple[str, str, str, str, int]


def _prepare(tmp_path: Path, rows: list[str]) -> list[Row]:
    (tmp_path / "m.yml").write_text(MAPPING)
    (tmp_path / "calls.csv").write_text("ref,caller,receiver,secs,note_a,note_b\n" + "\n".join(rows) + "\n")
    table = run.prepare_file(tmp_path / "calls.csv", tmp_path / "m.yml").statements.to_pylist()
    return sorted((r["entity_id"], r["prop"], r["value"], r["marking_id"], r["source_row"]) for r in table)


def test_each_statement_once_with_its_first_row(tmp_path: Path) -> None:
    # calls are on one row each (they skip the grouping); people repeat across rows and as caller and receiver
    got = _prepare(tmp_path, ["C1,P1,P2,10,x,x", "C2,P2,P1,20,y,", "C3,P1,P1,30,,"])
    assert max(Counter(g[:4] for g in got).values()) == 1
    assert sorted(g[4] for g in got if g[1] == "duration") == [2, 3, 4]
    assert len([g for g in got if g[1] == "summary"]) == 2  # x in both note columns of row 2 is one statement
    person_ids = [g for g in got if g[1] == "id" and g[0] not in {h[0] for h in got if h[1] == "duration"}]
    assert sorted(g[4] for g in person_ids) == [2, 2]  # P1 and P2, each first seen on row 2


@pytest.mark.parametrize(
    "rows",
    [
        ["C1,P1,P2,10,x,x", "C2,P2,P1,20,y,", "C3,P1,P1,30,,"],
        ["C1,P1,P2,10,x,x", "C2,P2,P1,20,y,", "C1,P1,P2,10,z,", "C4,P3,,40,,w"],  # C1 twice: grouped
    ],
)
def test_same_as_grouping_everything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: list[str]) -> None:
    fast = _prepare(tmp_path, rows)
    monkeypatch.setattr(run, "single_row_entities_sql", lambda _mapping: None)
    assert _prepare(tmp_path, rows) == fast


def test_code_collisions_fall_back_to_exact_numbering(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a hash that gives every value the same code: ids and marking sets must be numbered exactly instead
    rows = ["C1,P1,P2,10,x,x", "C2,P2,P1,20,y,", "C1,P1,P2,10,z,", "C4,P3,,40,,w"]
    expected = _prepare(tmp_path, rows)
    monkeypatch.setattr(compile_sql, "code_sql", lambda _exprs: "CAST(7 AS UBIGINT)")
    assert _prepare(tmp_path, rows) == expected
