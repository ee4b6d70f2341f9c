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


MARKED = """
originator: UK-NCA
source: {format: csv}
markings: {handling_code: {column: hc}, tlp: AMBER, evaluation: B2, subject_category: suspect}
entities:
  caller: {schema: Person, keys: [caller], key_literal: Person, markings: {subject_category: {column: caller_cat}}}
  receiver: {schema: Person, keys: [receiver], key_literal: Person, markings: {subject_category: {column: recv_cat}}}
  call: {schema: Call, keys: [ref], properties: {caller: {entity: caller}, receiver: {entity: receiver}}}
"""


def _marked(tmp_path: Path, rows: list[str]) -> list[tuple[str, str, str, str, int]]:
    """(schema, entity id, handling code, category, source row) of each id statement."""
    (tmp_path / "m.yml").write_text(MARKED)
    (tmp_path / "calls.csv").write_text("ref,caller,receiver,hc,caller_cat,recv_cat\n" + "\n".join(rows) + "\n")
    prepared = run.prepare_file(tmp_path / "calls.csv", tmp_path / "m.yml")
    sets = {r["marking_id"]: (r["handling_code"], r["subject_category"]) for r in prepared.markings.to_pylist()}
    return sorted(
        (r["schema"], r["entity_id"], *sets[r["marking_id"]], r["source_row"])
        for r in prepared.statements.to_pylist()
        if r["prop"] == "id"
    )


@pytest.mark.parametrize("collide", [False, True])
def test_marking_sets_from_different_cells_are_one_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, collide: bool
) -> None:
    """A person who is caller on one row and receiver on another, with the same markings written in other
    columns and other case, gets one id statement per marking set."""
    if collide:  # every value the same code: numbered exactly instead
        monkeypatch.setattr(compile_sql, "code_sql", lambda _exprs: "CAST(7 AS UBIGINT)")
    rows = ["C1,P1,P2,h1,suspect,Suspect", "C2,P2,P1, H1 ,SUSPECT,suspect", "C3,P1,P3,H2,suspect,victim"]
    got = _marked(tmp_path, rows)
    people = [g[1:] for g in got if g[0] == "Person"]
    assert sorted(p[1:] for p in people) == [("H1", "suspect", 2), ("H1", "suspect", 2), ("H2", "suspect", 4),
                                             ("H2", "victim", 4)]  # fmt: skip
    assert len({p[:3] for p in people}) == 4  # P1 twice (H1, H2), P2 and P3 once: no set stored twice
    assert sorted(g[2:] for g in got if g[0] == "Call") == [("H1", "suspect", 2), ("H1", "suspect", 3),
                                                           ("H2", "suspect", 4)]  # fmt: skip


def test_bad_marking_cells_are_reported_on_every_row(tmp_path: Path) -> None:
    from avellino.errors import InputRejected

    rows = ["C1,P1,P2,H9,suspect,suspect", "C2,P2,P1,H1,suspect,nobody", "C3,P3,P4,H9,suspect,suspect"]
    with pytest.raises(InputRejected) as err:
        _marked(tmp_path, rows)
    found = sorted({(p.row, p.column, p.reason.split(" is ")[0]) for p in err.value.problems})
    assert found == [(2, "hc", "handling code 'H9'"), (3, "recv_cat", "subject category 'nobody'"),
                     (4, "hc", "handling code 'H9'")]  # fmt: skip
