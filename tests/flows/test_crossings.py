"""Crossings in a workspace as a flow: one crossing per boat and day, weeks or months, complete periods."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from avellino.flows.crossings import HORIZON, choose_freq, crossings_flow, read_crossings
from avellino.flows.findings import BRIEFING_WINDOWS
from avellino.flows.forecast import forecast_flow
from tests.flows.stores import Report, crossings_store


def _daily(start: str, days: int, per_day: float, seed: int) -> list[Report]:
    """Crossings on random days (``per_day`` on average), 40-70 people each, each reported by the UK."""
    rng = np.random.default_rng(seed)
    reports = []
    for d, n in enumerate(rng.poisson(per_day, days)):
        day = (pd.Timestamp(start) + pd.Timedelta(days=d)).date().isoformat()
        for k in range(n):
            hull = f"XHB{d:04d}{k:02d}"
            reports.append(Report(f"uk-nca-{day}-{k}", day, int(rng.integers(40, 71)), hull))
    return reports


def test_a_boat_two_partners_report_the_same_day_counts_once(tmp_path: Path) -> None:
    reports = [
        Report("uk-nca-1", "2024-11-30", 45, "XHB1124611"),
        Report("fr-ocriest-1", "2024-11-30", 47, "xhb1124611 ", originator="fr-ocriest"),  # same boat and day
        Report("uk-nca-2", "2024-12-01", 50, "XHB1124611"),  # the same boat another day: another crossing
        Report("uk-nca-3", "2024-11-30", 30),  # no boat: never merged
        Report("uk-nca-4", "2024-11-30", None, "XHB0000001"),  # no head count
    ]
    with crossings_store(tmp_path / "ws", reports) as store:
        crossings = read_crossings(store)
    assert crossings.reports == 5 and crossings.duplicates == 1 and crossings.without_people == 1
    assert crossings.entity_ids == frozenset(r.eid for r in reports)
    frame = crossings.frame
    merged = frame[(frame["boat"] == "XHB1124611") & (frame["date"] == "2024-11-30")]
    assert merged["people"].tolist() == [47.0]  # the larger head count reported
    assert frame["people"].sum() == 47 + 50 + 30


def test_weeks_when_most_weeks_have_a_crossing_else_months() -> None:
    busy = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=300, freq="D")})
    assert choose_freq(busy) == "W"
    sparse = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=30, freq="17D")})
    assert choose_freq(sparse) == "M"


def test_partly_covered_last_week_is_dropped(tmp_path: Path) -> None:
    # Daily crossings from Monday 2024-01-01 to Wednesday 2024-05-01: the week ending Sunday 5 May has 3 days.
    reports = [
        Report(f"uk-{d}", day.date().isoformat(), 50) for d, day in enumerate(pd.date_range("2024-01-01", "2024-05-01"))
    ]
    with crossings_store(tmp_path / "ws", reports) as store:
        flow = crossings_flow(read_crossings(store), "W")
    assert flow is not None
    totals = flow.frame.groupby("ds")["y"].sum()
    assert totals.index.max() == pd.Timestamp("2024-04-28")
    assert (totals == 350).all()  # every week complete: 7 days x 50 people


def test_too_few_periods_give_no_flow(tmp_path: Path) -> None:
    with crossings_store(tmp_path / "ws", _daily("2024-01-01", 60, 1.0, seed=1)) as store:
        assert crossings_flow(read_crossings(store)) is None


@pytest.mark.parametrize("per_day", [0.06, 1.5])
def test_forecast_is_on_the_scale_of_recent_periods(tmp_path: Path, per_day: float) -> None:
    """A few boats a month (most weeks empty) or several a week: the forecast is near the recent level.

    A weekly series of an operation's few boats is mostly zeros; forecasting it weekly gave 0-1 people a week
    while the latest weeks had 90 and 69 (the briefing's bug)."""
    with crossings_store(tmp_path / "ws", _daily("2023-01-02", 700, per_day, seed=5)) as store:
        flow = crossings_flow(read_crossings(store))
    assert flow is not None and flow.freq == ("M" if per_day < 0.5 else "W")
    horizon = HORIZON[flow.freq]
    result = forecast_flow(flow, horizon, fast=True, windows=BRIEFING_WINDOWS)
    forecast = result.forecast[result.forecast["unique_id"] == "global"][result.point]
    totals = flow.frame.groupby("ds")["y"].sum().sort_index()
    recent = float(totals.tail(6 if flow.freq == "M" else 8).mean())
    expected = per_day * 55 * (30.4 if flow.freq == "M" else 7)  # the rate the crossings were drawn at
    assert 0.5 * recent < forecast.mean() < 2 * recent
    assert 0.5 * expected < forecast.mean() < 2 * expected
