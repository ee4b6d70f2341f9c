"""The briefing section: from the store's Crossing entities (real DuckDB store) and from the public data."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from avellino.flows.alerts import all_alerts
from avellino.flows.briefing import flows_section
from avellino.flows.crossings import crossings_flow, read_crossings
from avellino.flows.findings import BRIEFING_WINDOWS, flows_findings
from avellino.flows.forecast import forecast_flow
from avellino.store.base import Store
from tests.flows.stores import Report, crossings_store


def _reports(n_weeks: int) -> list[Report]:
    """Two crossings a week for ``n_weeks`` weeks, each reported by the UK and (the same boat) by France."""
    rng = np.random.default_rng(3)
    reports = []
    for i in range(2 * n_weeks):
        day = (pd.Timestamp("2024-01-01") + pd.Timedelta(days=int(3.5 * i))).date().isoformat()
        people, hull = int(rng.integers(20, 70)), f"XHB{i:05d}"
        outcome = "arrived" if i % 3 else "intercepted"
        reports.append(Report(f"uk-nca-crossing-{i:04d}", day, people, hull, outcome))
        reports.append(Report(f"fr-crossing-{i:04d}", day, people, hull, outcome, "fr-ocriest", "H2", "RED"))
    return reports


@pytest.fixture
def store(tmp_path: Path):
    store = crossings_store(tmp_path / "ws", _reports(20))
    yield store
    store.close()


def test_section_from_the_store_without_public_data(store: Store, tmp_path: Path) -> None:
    section = flows_section(flows_findings(store))
    assert section.anchor == "flows"
    assert "Crossings recorded in this workspace, next 4 weeks" in section.html and "80% interval" in section.html
    assert (
        "from 80 crossing report(s) in this workspace; 40 report(s) of a boat another partner reported" in section.html
    )
    assert "data:image/png;base64," in section.html
    assert "Surge alerts on this source's history" in section.html or "Alerts not evaluated" in section.html
    assert all(src.startswith("data:") for src in re.findall(r'src="([^"]*)"', section.html))  # self-contained
    assert len(section.entity_ids) == 80 and "fr-crossing-0000" in section.entity_ids
    assert list(tmp_path.iterdir()) == [tmp_path / "ws"]  # nothing written beside the briefing


def test_an_alert_is_shown_once_for_a_series_repeated_at_several_levels(tmp_path: Path) -> None:
    # Every crossing arrived, so the outcome level repeats the total; the last weeks jump from ~2 to 8 boats.
    reports = [r for r in _reports(30) if r.originator == "uk-nca"]
    reports = [Report(r.eid, r.day, r.people, r.hull, "arrived") for r in reports]
    last = pd.Timestamp(reports[-1].day)
    for i in range(24):
        day = (last - pd.Timedelta(days=i % 12)).date().isoformat()
        reports.append(Report(f"uk-nca-surge-{i}", day, 60, f"XHS{i:04d}", "arrived"))
    with crossings_store(tmp_path / "ws", reports) as store:
        flow = crossings_flow(read_crossings(store), "W")
    assert flow is not None
    found = all_alerts(forecast_flow(flow, 4, fast=True, windows=BRIEFING_WINDOWS))
    assert found and {a.series for a in found} == {"global"}
    assert all(a.also_levels == ("outcome",) and "at level outcome" in a.message() for a in found)
    exceeded = [a.ds for a in found if a.kind == "exceedance"]
    assert len(exceeded) == len(set(exceeded))


def test_no_crossings_and_no_public_data_give_a_section_that_says_so(tmp_path: Path) -> None:
    with crossings_store(tmp_path / "ws", _reports(20)[:4]) as store:
        findings = flows_findings(store)
    assert findings.workspace is None and findings.public == []
    section = flows_section(findings)
    assert "No forecast" in section.html and not section.entity_ids


@pytest.mark.shared
def test_section_from_public_data(shared_data: Path, store: Store, tmp_path: Path) -> None:
    section = flows_section(flows_findings(store, shared_data))
    assert "UK small-boat arrivals" in section.html and "Frontex detections by route" in section.html
    assert "Crossings recorded in this workspace" in section.html


def test_one_line_per_alert_with_its_periods() -> None:
    from avellino.flows.alerts import Alert
    from avellino.flows.briefing import alert_lines

    found = [
        Alert("surge", "global/A", "route", "2025-02-01", 300.0, 100.0, 200.0, 3.0, 95, ("nationality",)),
        Alert("surge", "global/A", "route", "2025-01-01", 250.0, 100.0, 150.0, 2.5, 80, ("nationality",)),
        Alert("exceedance", "global/A", "route", "2024-12-01", 400.0, 200.0, 200.0, 2.0, 95),
        Alert("surge", "global/B", "route", "2025-01-01", 50.0, 20.0, 30.0, 2.5, 80),
    ]
    lines = alert_lines(found)
    assert len(lines) == 3
    assert lines[0].startswith("surge: global/A forecast above the seasonal norm in 2025-01-01")
    assert "2025-02-01 (300 vs 100, x3.00, 95%)" in lines[0] and lines[0].endswith("level(s) nationality")
    assert lines[1].startswith("exceedance: global/A observed") and lines[2].startswith("surge: global/B")
