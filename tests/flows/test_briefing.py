"""The briefing section: from the store's Crossing entities (real DuckDB store) and from the public data."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from avellino.flows.briefing import briefing_section, crossings_frame, store_flow
from avellino.report.sections import DemoContext
from avellino.store import BatchInfo, open_store
from avellino.store.schema import STATEMENT_COLUMNS


def _statements(n_weeks: int) -> pa.Table:
    """Two crossings a week for ``n_weeks`` weeks, marked as one partner's H0 / TLP AMBER records."""
    rng = np.random.default_rng(3)
    rows = []
    start = pd.Timestamp("2024-01-01")
    for i in range(2 * n_weeks):
        eid = f"partner-crossing-{i:04d}"
        day = (start + pd.Timedelta(days=int(3.5 * i))).date().isoformat()
        outcome = "arrived" if i % 3 else "intercepted"
        values = {"id": eid, "date": day, "departurePlace": "Gravelines", "outcome": outcome}
        values["peopleOnBoard"] = str(int(rng.integers(20, 70)))
        for prop, value in values.items():
            row = dict.fromkeys(STATEMENT_COLUMNS)
            row.update(
                id=f"{eid}-{prop}",
                entity_id=eid,
                canonical_id=eid,
                schema="Crossing",
                prop=prop,
                value=value,
                dataset="test",
                originator="partner",
                handling_code="H0",
                tlp="AMBER",
                batch_id="b1",
            )
            rows.append(row)
    return pa.Table.from_pylist(rows)


@pytest.fixture
def store(tmp_path: Path):
    store = open_store(tmp_path / "ws", create=True)
    batch = BatchInfo("b1", "crossings.csv", "f" * 64, "m" * 64, 40, 0, datetime(2024, 6, 1))
    store.write_batch(batch, _statements(20))
    yield store
    store.close()


def test_crossings_frame_reads_the_store(store) -> None:
    ctx = DemoContext(store=store, out_dir=Path("."))
    frame = crossings_frame(ctx)
    assert len(frame) == 40
    assert set(frame.columns) == {"date", "departure", "outcome", "people"}
    assert set(frame["outcome"]) == {"arrived", "intercepted"}
    flow = store_flow(frame)
    assert flow is not None and flow.freq == "W"
    assert flow.frame["y"].sum() == frame["people"].sum()


def test_section_from_the_store_without_public_data(store, tmp_path: Path) -> None:
    ctx = DemoContext(store=store, out_dir=tmp_path)
    section = briefing_section(ctx)
    assert section is not None and section.anchor == "flows"
    assert "Crossings recorded in this workspace" in section.html and "80% interval" in section.html
    assert "data:image/png;base64," in section.html


def test_too_few_weeks_gives_no_section(tmp_path: Path) -> None:
    few = pd.DataFrame(
        {
            "date": pd.to_datetime(["2024-01-01", "2024-01-09"]),
            "departure": "x",
            "outcome": "arrived",
            "people": [10.0, 20.0],
        }
    )
    assert store_flow(few) is None


@pytest.mark.shared
def test_section_from_public_data(shared_data: Path, store, tmp_path: Path) -> None:
    start = time.perf_counter()
    section = briefing_section(DemoContext(store=store, out_dir=tmp_path, shared_data=shared_data))
    assert section is not None
    assert "UK small-boat arrivals" in section.html and "Frontex detections by route" in section.html
    print(f"flows briefing section: {time.perf_counter() - start:.1f} s")  # reported, not asserted
