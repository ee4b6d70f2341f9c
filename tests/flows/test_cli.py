"""The ``avellino flows`` commands on the fixtures (small, so each runs in seconds)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from avellino.cli import app

runner = CliRunner()


def test_backtest_prints_the_specified_json(fixtures: Path) -> None:
    path = fixtures / "flows" / "monthly_routes.csv"
    args = ["flows", "backtest", "--input", str(path), "--date-column", "month", "--value-column", "people"]
    args += ["--freq", "M", "--horizon", "2", "--cutoff", "2023-09-30", "--json", "--calibration-windows", "3"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    # Origins: Sep (forecasts Oct, Nov) and Oct 2023 (Nov, Dec); Nov has only one later month.
    assert report["origins"] == 2
    assert set(report["models"]) == {"avellino", "Naive", "SeasonalNaive", "AutoETS", "AutoARIMA", "AutoTheta"}
    for metrics in report["models"].values():
        assert set(metrics) == {"mase", "mae", "coverage_80", "coverage_95"}
        assert metrics["mase"] > 0 and 0 <= metrics["coverage_80"] <= metrics["coverage_95"] <= 1


def test_backtest_reports_a_bad_cutoff(fixtures: Path) -> None:
    path = fixtures / "flows" / "monthly_routes.csv"
    args = ["flows", "backtest", "-i", str(path), "--date-column", "month", "--value-column", "people"]
    result = runner.invoke(app, [*args, "--freq", "M", "--horizon", "3", "--cutoff", "2030-01-01", "--json"])
    assert result.exit_code != 0
    assert "leaves no origin" in str(result.exception)


def test_forecast_writes_csv_alerts_and_charts(fixtures: Path, tmp_path: Path) -> None:
    path = fixtures / "flows" / "monthly_routes.csv"
    args = ["flows", "forecast", "-i", str(path), "--date-column", "month", "--value-column", "people"]
    args += ["--series-column", "route", "--freq", "M", "--horizon", "2", "--out", str(tmp_path)]
    args += ["--calibration-windows", "6", "--fast"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    table = (tmp_path / "forecast.csv").read_text().splitlines()
    assert table[0].startswith("unique_id,ds,cutoff,avellino") and "reconciled" in table[0]
    assert len(table) == 1 + 3 * 2  # global + 2 routes, 2 months each
    assert isinstance(json.loads((tmp_path / "alerts.json").read_text()), list)
    assert (tmp_path / "charts" / "global.png").exists() and (tmp_path / "charts" / "global-sea-a.html").exists()


def test_help_teaches_with_examples() -> None:
    result = runner.invoke(app, ["flows", "backtest", "--help"])
    assert result.exit_code == 0 and "--cutoff" in result.output and "Example" in result.output


def test_dash_h_is_help_on_every_flows_command() -> None:
    for command in ("backtest", "forecast", "alerts", "charts"):
        result = runner.invoke(app, ["flows", command, "-h"])
        assert result.exit_code == 0, result.output
        assert "Usage:" in result.output and "--horizon" in result.output


def _workspace(path: Path) -> Path:
    from tests.flows.stores import Report, crossings_store

    days = pd.date_range("2024-01-01", periods=300, freq="D")
    reports = [Report(f"uk-nca-{i}", d.date().isoformat(), 40 + i % 30, f"XHB{i:05d}") for i, d in enumerate(days)]
    crossings_store(path, reports).close()
    return path


def test_forecast_reads_a_workspace_s_crossings(tmp_path: Path) -> None:
    ws = _workspace(tmp_path / "ws")
    args = ["flows", "forecast", "--workspace", str(ws), "--horizon", "2", "--out", str(tmp_path / "out")]
    result = runner.invoke(app, [*args, "--calibration-windows", "3", "--fast", "--no-charts"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "out" / "forecast.csv")
    assert set(table["unique_id"]) == {"global", "global/arrived"} and len(table) == 4
    # 7 crossings a week of 40-69 people: the forecast is on that scale.
    assert table.loc[table["unique_id"] == "global", "reconciled"].between(7 * 40, 7 * 70).all()


def test_source_workspace_and_its_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    runner.invoke(app, ["init", "--workspace", str(empty)])
    result = runner.invoke(app, ["flows", "alerts", "--source", "workspace", "--workspace", str(empty), "--json"])
    assert result.exit_code != 0 and "too few to forecast" in str(result.exception)
    result = runner.invoke(app, ["flows", "alerts", "--source", "frontex", "--workspace", str(empty)])
    assert result.exit_code != 0 and "without --input or --source" in str(result.exception)
