"""The briefing's money and supply-chain section on the sample: the Sankey, the timeline, no victim anywhere."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from avellino.store.duckdb_store import DuckDBStore
from avellino.trace.briefing import trace_section
from avellino.trace.report import trace_findings
from tests.trace.conftest import TraceOp


def test_section_draws_money_and_purchases_and_names_no_victim(trace_op: TraceOp) -> None:
    with DuckDBStore(trace_op.workspace, read_only=True) as store:
        found = trace_findings(store)
    assert found is not None and found.collectors and found.buyers and not found.money.empty
    section = trace_section(found)
    assert "<svg" in section.html and "data:image/png;base64," in section.html
    assert found.money["from"].str.startswith("Migrants (").any()  # migrants only as one aggregate box
    truth = pd.read_csv(trace_op.truth_dir / "persons.csv", dtype=str)
    victims = truth[truth["is_victim"] == "true"]
    with DuckDBStore(trace_op.workspace, read_only=True) as store:
        canon = dict(zip(*store.read_statements(columns=["entity_id", "canonical_id"]).to_pydict().values(),
                         strict=True))  # fmt: skip
    victim_ids = {canon.get(e, e) for e in victims["entity_id"]}
    assert not victim_ids & found.entity_ids
    assert section.entity_ids == frozenset(found.entity_ids) and found.entity_ids


def test_an_empty_workspace_has_nothing_to_show(tmp_path: Path) -> None:
    DuckDBStore(tmp_path / "ws", create=True).close()
    with DuckDBStore(tmp_path / "ws", read_only=True) as store:
        assert trace_findings(store) is None
    assert "No payments or purchases" in trace_section(None).html
