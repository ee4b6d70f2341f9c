"""Crossings recorded in a workspace, as a flow of people per week or month.

The one path from the store's ``Crossing`` entities to a :class:`FlowData`, used by the briefing and by
``avellino flows forecast --source workspace``:

* a crossing that several partners report (the same boat on the same day: the UK and France both record a
  boat that left France and landed in England) is counted once, with the largest head count reported;
* weeks are used when most weeks have a crossing; when most are empty (an operation's own few boats) the
  counts are monthly, since a weekly series of mostly zeros has a median of zero and a forecast of "0 people a
  week" says nothing about the boats that do cross;
* a first or last period that the records only partly cover (the last crossing on a Wednesday) is dropped, as
  for a CSV (:func:`avellino.flows.data.partial_ends`), so that it does not read as a collapse.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from avellino.flows.data import FREQ_ALIASES, FlowData, complete_periods, partial_ends
from avellino.flows.models import ZERO_SHARE
from avellino.store.base import Store

LEVELS = ["global", "outcome"]
#: Periods a workspace's crossings must span to be forecast (the back-test needs some windows).
MIN_PERIODS = {"W": 16, "M": 12}
#: Periods ahead the briefing forecasts.
HORIZON = {"W": 4, "M": 3}
#: Weeks (the latest) whose share of empty weeks decides between weekly and monthly counts.
RECENT_WEEKS = 52
COLUMNS = ["date", "departure", "outcome", "people", "boat", "entity_id"]


@dataclass
class WorkspaceCrossings:
    """One row per crossing (``date, departure, outcome, people, boat, entity_id``) and what was read."""

    frame: pd.DataFrame
    entity_ids: frozenset[str]  # every Crossing entity read, duplicates included: the facts a summary shows
    reports: int  # Crossing entities with a date
    undated: int  # Crossing entities without a readable date (left out)

    @property
    def duplicates(self) -> int:
        return self.reports - len(self.frame)

    @property
    def without_people(self) -> int:
        return int(self.frame["people"].isna().sum())


def _number(values: list[str]) -> float:
    for value in values:
        try:
            return float(value)
        except ValueError:
            continue
    return float("nan")


def _boat_keys(store: Store) -> dict[str, str]:
    """Vessel record id -> a key shared by every record of that boat: its registration (hull) number, else its
    resolved (canonical) id."""
    keys: dict[str, str] = {}
    for vessel in store.entities(schemata=["Vessel"], canonical=False):
        numbers = sorted(v.strip().upper() for v in vessel.get("registrationNumber") if v.strip())
        canonical = {str(s.canonical_id) for s in vessel.statements if s.canonical_id}
        key = numbers[0] if numbers else (min(canonical) if canonical else str(vessel.id))
        keys[str(vessel.id)] = key
    return keys


def read_crossings(store: Store) -> WorkspaceCrossings:
    """The store's crossings, one row per crossing (reports of the same boat on the same day merged)."""
    boats = _boat_keys(store)
    rows = []
    ids: set[str] = set()
    undated = 0
    for entity in store.entities(schemata=["Crossing"]):
        ids.add(str(entity.id))
        date = pd.to_datetime((entity.get("date") or [""])[0][:10], errors="coerce")
        if pd.isna(date):
            undated += 1
            continue
        vessels = sorted({boats.get(v, v) for v in entity.get("vessel")})
        rows.append(
            {
                "date": date,
                "departure": (entity.get("departurePlace") or ["unknown"])[0],
                "outcome": (entity.get("outcome") or ["unknown"])[0],
                "people": _number(entity.get("peopleOnBoard")),
                "boat": vessels[0] if vessels else None,
                "entity_id": str(entity.id),
            }
        )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    reports = len(frame)
    if reports:
        # Same boat, same day: one crossing. Keep the report with the largest head count (then the first id).
        frame = frame.sort_values(["people", "entity_id"], ascending=[False, True], na_position="last")
        boat = frame["boat"].notna()
        merged = frame[boat].drop_duplicates(["date", "boat"])
        frame = pd.concat([merged, frame[~boat]]).sort_values(["date", "entity_id"]).reset_index(drop=True)
    return WorkspaceCrossings(frame, frozenset(ids), reports, undated)


def choose_freq(crossings: pd.DataFrame) -> str:
    """W when fewer than ZERO_SHARE of the latest weeks (up to a year) had no crossing, else M."""
    weekly = crossings.set_index("date").resample(FREQ_ALIASES["W"]).size().tail(RECENT_WEEKS)
    return "W" if len(weekly) and float((weekly == 0).mean()) < ZERO_SHARE else "M"


def crossings_flow(crossings: WorkspaceCrossings, freq: str | None = None) -> FlowData | None:
    """People per period (``freq`` W or M; chosen by :func:`choose_freq` when None) and outcome; None when the
    crossings span fewer than ``MIN_PERIODS`` complete periods."""
    frame = crossings.frame
    if frame.empty:
        return None
    freq = freq or choose_freq(frame)
    if freq not in MIN_PERIODS:
        raise ValueError(f"crossings are counted per week (W) or month (M), not {freq!r}")
    periods = frame["date"].dt.to_period("W-SUN" if freq == "W" else "M")
    keep = ~partial_ends(frame["date"], periods, freq)
    frame, periods = frame[keep], periods[keep]
    if frame.empty:
        return None
    ds = periods.dt.end_time.dt.normalize() if freq == "W" else periods.dt.start_time
    counts = (
        frame.assign(ds=ds, y=frame["people"].fillna(0.0), **{"global": "global"})
        .groupby(LEVELS + ["ds"], as_index=False)["y"]
        .sum()
    )
    counts = complete_periods(counts, LEVELS, freq)
    if counts["ds"].nunique() < MIN_PERIODS[freq]:
        return None
    unit = "week" if freq == "W" else "month"
    notes = [
        f"People on board per {unit} and outcome, from {crossings.reports:,} crossing report(s) in this workspace"
        + (
            f"; {crossings.duplicates:,} report(s) of a boat another partner reported the same day counted once"
            if crossings.duplicates
            else ""
        )
        + (f"; {crossings.without_people:,} crossing(s) without a head count add 0" if crossings.without_people else "")
        + (f"; {crossings.undated:,} undated report(s) left out" if crossings.undated else "")
        + "."
    ]
    if freq == "M":
        notes.append("Monthly: most weeks had no crossing, and a weekly forecast of mostly empty weeks is zero.")
    return FlowData("workspace-crossings", counts, list(LEVELS), freq, "people", notes)
