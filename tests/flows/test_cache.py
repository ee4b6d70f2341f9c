"""The shared forecast cache and the calibration back-test's yearly refits, on the monthly fixture."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from avellino.cli import app
from avellino.flows import cache, data, models
from avellino.flows.forecast import FlowForecast, forecast_flow

runner = CliRunner()


@pytest.fixture(scope="module")
def monthly(fixtures: Path) -> data.FlowData:
    return data.load_csv(fixtures / "flows" / "monthly_routes.csv", "month", "people", ["route"], "M")


def test_refit_every_n_origins_matches_full_refits_where_it_refits(monthly: data.FlowData) -> None:
    df = monthly.at_level("route")
    df = df[df["unique_id"] == df["unique_id"].iloc[0]]
    full = models.Setup.for_freq("M", 2, fast=True, min_length=len(df))
    yearly = models.Setup.for_freq("M", 2, fast=True, min_length=len(df), refit=4)
    a = models.cross_validate(df, full, 9, jobs=1).sort_values(["cutoff", "ds"]).reset_index(drop=True)
    b = models.cross_validate(df, yearly, 9, jobs=1).sort_values(["cutoff", "ds"]).reset_index(drop=True)
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    cutoffs = sorted(a["cutoff"].unique())
    refitted = a["cutoff"].isin([cutoffs[i] for i in (0, 4, 8)])
    pd.testing.assert_frame_equal(a[refitted], b[refitted])
    # In between, the fitted models were only run forward: ETS forecasts differ (slightly), naive ones never.
    assert not a.loc[~refitted, "AutoETS"].equals(b.loc[~refitted, "AutoETS"])
    assert a.loc[~refitted, "Naive"].equals(b.loc[~refitted, "Naive"])
    assert ((a["AutoETS"] - b["AutoETS"]).abs() / a["y"].abs().clip(lower=1)).mean() < 0.1


def test_cached_forecast_is_reused_only_for_the_same_data_and_settings(monthly: data.FlowData, tmp_path: Path) -> None:
    calls: list[int] = []

    def compute(flow: data.FlowData) -> FlowForecast:
        calls.append(1)
        return forecast_flow(flow, horizon=2, windows=4, fast=True)

    settings = {"horizon": 2, "windows": 4, "fast": True}
    first, hit = cache.cached_forecast(monthly, settings, lambda: compute(monthly), tmp_path)
    assert not hit and len(calls) == 1
    again, hit = cache.cached_forecast(monthly, settings, lambda: compute(monthly), tmp_path)
    assert hit and len(calls) == 1
    pd.testing.assert_frame_equal(first.forecast, again.forecast)
    # Another horizon, or one changed count, is another forecast.
    cache.cached_forecast(monthly, {**settings, "horizon": 3}, lambda: compute(monthly), tmp_path)
    frame = monthly.frame.copy()
    frame.loc[frame.index[-1], "y"] += 1
    changed = data.FlowData(monthly.name, frame, monthly.levels, monthly.freq)
    _, hit = cache.cached_forecast(changed, settings, lambda: compute(changed), tmp_path)
    assert not hit and len(calls) == 3
    # A damaged file is recomputed, not an error.
    for path in tmp_path.glob("*.pickle"):
        path.write_bytes(b"not a pickle")
    _, hit = cache.cached_forecast(monthly, settings, lambda: compute(monthly), tmp_path)
    assert not hit and len(calls) == 4


def test_forecast_alerts_and_charts_share_one_computed_forecast(fixtures: Path, tmp_path: Path) -> None:
    path = fixtures / "flows" / "monthly_routes.csv"
    common = ["-i", str(path), "--date-column", "month", "--value-column", "people", "--series-column", "route"]
    common += ["--freq", "M", "--horizon", "2", "--calibration-windows", "4", "--fast"]
    first = runner.invoke(app, ["flows", "forecast", *common, "--out", str(tmp_path / "f"), "--no-charts"])
    assert first.exit_code == 0, first.output
    assert "read from the cache" not in first.output
    alerts = runner.invoke(app, ["flows", "alerts", *common, "--json"])
    assert alerts.exit_code == 0 and "read from the cache" in alerts.output
    charts = runner.invoke(app, ["flows", "charts", *common, "--out", str(tmp_path / "c")])
    assert charts.exit_code == 0 and "read from the cache" in charts.output
    fresh = runner.invoke(app, ["flows", "alerts", *common, "--json", "--no-cache"])
    assert fresh.exit_code == 0 and "read from the cache" not in fresh.output
    listed = [line for line in fresh.stdout.splitlines() if line.startswith("[")]
    assert isinstance(json.loads(listed[-1]), list)
