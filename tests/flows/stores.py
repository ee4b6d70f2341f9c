"""Workspaces of crossings for the flows tests: real DuckDB stores written through ``write_batch``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyarrow as pa

from avellino.store import BatchInfo, open_store
from avellino.store.base import Store
from avellino.store.schema import STATEMENT_COLUMNS


@dataclass(frozen=True)
class Report:
    """One partner's record of a crossing: its boat (hull number), day, head count and markings."""

    eid: str
    day: str
    people: int | None
    hull: str | None = None
    outcome: str = "arrived"
    originator: str = "uk-nca"
    handling_code: str = "H0"
    tlp: str = "AMBER"


def _row(eid: str, schema: str, prop: str, value: str, report: Report) -> dict[str, object]:
    row = dict.fromkeys(STATEMENT_COLUMNS)
    row.update(
        id=f"{eid}-{prop}-{value}",
        entity_id=eid,
        canonical_id=eid,
        schema=schema,
        prop=prop,
        value=value,
        dataset="test",
        originator=report.originator,
        handling_code=report.handling_code,
        tlp=report.tlp,
        batch_id="b1",
    )
    return row


def statements(reports: list[Report]) -> pa.Table:
    rows = []
    for r in reports:
        values = {"id": r.eid, "date": r.day, "departurePlace": "Gravelines", "outcome": r.outcome}
        if r.people is not None:
            values["peopleOnBoard"] = str(r.people)
        if r.hull is not None:
            # Each partner has its own record of the boat; the hull number is what they share.
            vessel = f"{r.originator}-vessel-{r.hull}"
            values["vessel"] = vessel
            rows.append(_row(vessel, "Vessel", "id", vessel, r))
            rows.append(_row(vessel, "Vessel", "registrationNumber", r.hull, r))
        rows += [_row(r.eid, "Crossing", prop, value, r) for prop, value in values.items()]
    return pa.Table.from_pylist(rows)


def crossings_store(path: Path, reports: list[Report]) -> Store:
    store = open_store(path, create=True)
    batch = BatchInfo("b1", "crossings.csv", "f" * 64, "m" * 64, len(reports), 0, datetime(2025, 1, 1))
    store.write_batch(batch, statements(reports))
    return store
