"""Loaders: the CSV mapping on fixtures, the public loaders on ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from avellino.errors import ConfigError, InputRejected
from avellino.flows import data


def test_csv_mapping_builds_hierarchy(fixtures: Path) -> None:
    flow = data.load_csv(fixtures / "flows" / "monthly_routes.csv", "month", "people", ["route", "nationality"], "M")
    assert flow.levels == ["global", "route", "nationality"]
    bottom = flow.bottom()
    assert set(bottom["unique_id"]) == {
        "global/Sea A/AAA",
        "global/Sea A/BBB",
        "global/Land B/AAA",
        "global/Land B/CCC",
    }
    routes = flow.at_level("route")
    total = routes.groupby("ds")["y"].sum()
    assert (total == flow.at_level("global").set_index("ds")["y"]).all()


def test_daily_rows_sum_into_complete_weeks(fixtures: Path) -> None:
    path = fixtures / "flows" / "daily_crossings.csv"
    raw = pd.read_csv(path)
    weekly = data.load_csv(path, "Date", "Migrants arrived", freq="W").bottom()
    assert (weekly["ds"].dt.dayofweek == 6).all()  # weeks end on Sunday
    # 2023-01-01 is a Sunday: its week is covered by one day only and is dropped, not shown as a collapse;
    # 2023-12-31 is a Sunday too, so the last week is complete and kept.
    assert weekly["ds"].min() == pd.Timestamp("2023-01-08") and weekly["ds"].max() == pd.Timestamp("2023-12-31")
    kept = raw[pd.to_datetime(raw["Date"]) >= "2023-01-02"]["Migrants arrived"].sum()
    assert weekly["y"].sum() == kept


def test_bad_rows_are_reported_with_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("date,value\n2024-01-01,3\nnot a date,4\n2024-01-03,many\n")
    with pytest.raises(InputRejected) as caught:
        data.load_csv(path, "date", "value", freq="D")
    assert "row 3" in str(caught.value) and "'date'" in str(caught.value)
    path.write_text("date,value\n2024-01-01,3\n2024-01-03,many\n")
    with pytest.raises(InputRejected, match="row 3, column 'value'"):
        data.load_csv(path, "date", "value", freq="D")


def test_missing_column_names_the_file_and_columns(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("day,n\n2024-01-01,1\n")
    with pytest.raises(ConfigError, match="no column"):
        data.load_csv(path, "date", "n")


def test_dash_means_missing_not_zero(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("date,value\n2024-01-01,5\n2024-01-02,-\n2024-01-03,7\n")
    flow = data.load_csv(path, "date", "value", freq="D")
    # The dashed day is dropped, then the gap inside the span counts as zero.
    assert flow.bottom()["y"].tolist() == [5, 0, 7]


@pytest.mark.shared
def test_frontex_matches_the_provenance_check(shared_data: Path) -> None:
    flow = data.frontex(shared_data)
    routes = flow.at_level("route")
    east = routes[
        (routes["unique_id"] == "global/Mediterranean/Eastern Mediterranean Route") & (routes["ds"].dt.year == 2015)
    ]
    assert east["y"].sum() == 885_386
    assert flow.levels == data.FLOW_LEVELS


@pytest.mark.shared
@pytest.mark.parametrize("name", list(data.SOURCES))
def test_every_public_source_loads(shared_data: Path, name: str) -> None:
    flow = data.load_source(name, shared_data)
    bottom = flow.bottom()
    assert len(bottom) > 0 and bottom["y"].ge(0).all()
    assert bottom["ds"].max() <= pd.Timestamp("2024-12-31")
    assert not bottom.duplicated(["unique_id", "ds"]).any()


@pytest.mark.shared
def test_uk_weekly_prevented_starts_in_may_2024(shared_data: Path) -> None:
    flow = data.uk_small_boats(shared_data, "W", "prevented")
    assert flow.bottom()["ds"].min() == pd.Timestamp("2024-05-05")
