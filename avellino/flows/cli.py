"""``avellino flows``: monitor and forecast irregular migration flows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from avellino.flows.data import FlowData
    from avellino.flows.forecast import FlowForecast

app = typer.Typer(
    help="Load flow statistics, forecast them with honest intervals, back-test, and raise early warnings.",
    no_args_is_help=True,
)
err = Console(stderr=True)
out = Console()

SOURCE_HELP = (
    "workspace (the Crossing records of --workspace: people per week, or per month when most weeks are empty), "
    "or public series: uk-weekly, uk-daily, uk-weekly-prevented, frontex, iom-missing, americas, unhcr-returns."
)
InputOpt = typer.Option(None, "--input", "-i", help="A CSV file of counts (instead of --source).")
SourceOpt = typer.Option(None, "--source", "-s", help=SOURCE_HELP)
DataOpt = typer.Option(
    None, "--data", help="Folder holding migration/ (default: $AVELLINO_SHARED_DATA or ../shared/data)."
)
DateOpt = typer.Option("date", "--date-column", help="CSV column with the date.")
ValueOpt = typer.Option("value", "--value-column", help="CSV column with the count.")
SeriesOpt = typer.Option([], "--series-column", help="CSV column(s) naming the series, highest level first.")
FreqOpt = typer.Option(
    None,
    "--freq",
    help="D, W (weeks ending Sunday) or M; rows are summed into these periods "
    "(default M for --input; W or M for the workspace, chosen by how many weeks have a crossing).",
)
WorkspaceOpt = typer.Option(
    None,
    "--workspace",
    "-w",
    help="Forecast this workspace's crossings (same as --source workspace; default folder: $AVELLINO_WORKSPACE "
    "or ./workspace).",
)
HorizonOpt = typer.Option(3, "--horizon", help="Periods ahead to forecast.")
LevelOpt = typer.Option([], "--level", help="Only these hierarchy levels (e.g. route); skips reconciliation.")
FastOpt = typer.Option(False, "--fast", help="Leave AutoARIMA out: several times quicker, slightly less accurate.")
WindowsOpt = typer.Option(
    None,
    "--calibration-windows",
    help="Earlier origins used to choose models and calibrate intervals "
    "(default: 56 daily, 52 weekly, 24 monthly; fewer is faster, with rougher intervals).",
)


def _workspace_flow(workspace: Path | None, freq: str | None) -> FlowData:
    from avellino.errors import ConfigError
    from avellino.flows.crossings import MIN_PERIODS, crossings_flow, read_crossings
    from avellino.store import open_store

    if freq is not None and freq.upper() not in MIN_PERIODS:
        raise ConfigError(f"A workspace's crossings are counted per week (W) or month (M), not {freq!r}.")
    with open_store(workspace, read_only=True) as store:
        crossings = read_crossings(store)
    flow = crossings_flow(crossings, freq.upper() if freq else None)
    if flow is None:
        raise ConfigError(
            f"The workspace {workspace or 'workspace'} holds {crossings.reports:,} dated crossing report(s), "
            f"{len(crossings.frame):,} crossing(s) once reports of the same boat and day are merged: too few to "
            f"forecast ({MIN_PERIODS['W']} complete weeks or {MIN_PERIODS['M']} months are needed)."
        )
    return flow


def _load(
    source: str | None,
    input_file: Path | None,
    data: Path | None,
    date_column: str,
    value_column: str,
    series_columns: list[str],
    freq: str | None,
    workspace: Path | None = None,
) -> FlowData:
    from avellino.errors import ConfigError
    from avellino.flows.data import load_csv, load_source
    from avellino.settings import shared_data_dir

    if workspace is not None:
        if input_file is not None or source not in (None, "workspace"):
            raise ConfigError("--workspace reads the workspace's crossings: give it without --input or --source.")
        source = "workspace"
    if (source is None) == (input_file is None):
        raise ConfigError(
            "Give exactly one of --source NAME (public data, or 'workspace' for the workspace's crossings), "
            "--workspace DIR or --input FILE (a CSV)."
        )
    if input_file is not None:
        return load_csv(input_file, date_column, value_column, series_columns, (freq or "M").upper())
    if source == "workspace":
        return _workspace_flow(workspace, freq)
    root = data or shared_data_dir()
    if root is None:
        raise ConfigError("No public data folder: pass --data DIR or set AVELLINO_SHARED_DATA.")
    return load_source(str(source), root)


CacheOpt = typer.Option(
    True,
    "--cache/--no-cache",
    help="Reuse the forecast computed earlier for the same data, settings and method (forecast, alerts and charts "
    "share it; files in $AVELLINO_CACHE/flows, default ~/.cache/avellino/flows).",
)


def _run_forecast(
    flow: FlowData, horizon: int, levels: list[str], windows: int | None, fast: bool, cache: bool = True
) -> FlowForecast:
    from avellino.flows.cache import cached_forecast
    from avellino.flows.forecast import forecast_flow

    with err.status("Forecasting...") as status:
        say = lambda msg: status.update(msg)  # noqa: E731

        def compute() -> FlowForecast:
            return forecast_flow(flow, horizon, levels or None, progress=say, windows=windows, fast=fast)

        if not cache:
            return compute()
        settings = {"horizon": horizon, "levels": sorted(levels), "windows": windows, "fast": fast}
        result, hit = cached_forecast(flow, settings, compute)
    if hit:
        err.print(f"{flow.name}: forecast read from the cache (--no-cache recomputes it).")
    return result


@app.command()
def backtest(
    input_file: Path = typer.Option(..., "--input", "-i", help="CSV file of counts."),
    date_column: str = typer.Option(..., "--date-column", help="CSV column with the date."),
    value_column: str = typer.Option(..., "--value-column", help="CSV column with the count."),
    series_column: list[str] = SeriesOpt,
    freq: str = typer.Option(..., "--freq", help="D, W (weeks ending Sunday) or M."),
    horizon: int = typer.Option(..., "--horizon", help="Periods ahead to forecast at each origin."),
    cutoff: str = typer.Option(..., "--cutoff", help="Last date of the first training set (YYYY-MM-DD)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    per_series: bool = typer.Option(False, "--per-series", help="Add metrics for each series under 'series'."),
    calibration: int | None = WindowsOpt,
) -> None:
    """Rolling-origin back-test of Avellino's forecast against Naive, SeasonalNaive, AutoETS, AutoARIMA, AutoTheta.

    Every period from the cutoff to the last one with HORIZON actuals after it is an origin: models are fitted
    on the data up to it and forecast HORIZON periods. MASE is scaled by the in-sample seasonal naive MAE;
    coverage_80/95 are the shares of actuals inside the 80%/95% intervals.

    Example (UK small boats, weekly):

      avellino flows backtest --input homeoffice_SB_02_weekly.csv --date-column "Week ending"
      --value-column "Migrants arrived" --freq W --horizon 4 --cutoff 2023-12-31 --json

    Example (Frontex monthly, per route):

      avellino flows backtest -i frontex.csv --date-column t --value-column n --series-column route
      --freq M --horizon 3 --cutoff 2023-12-31 --json --per-series
    """
    import pandas as pd

    from avellino.errors import ConfigError
    from avellino.flows.backtest import backtest as run_backtest
    from avellino.flows.data import load_csv

    flow = load_csv(input_file, date_column, value_column, series_column, freq.upper())
    try:
        when = pd.Timestamp(cutoff)
    except ValueError as exc:
        raise ConfigError(f"--cutoff {cutoff!r} is not a date (use YYYY-MM-DD).") from exc
    df = flow.bottom()
    with err.status("Back-testing...") as status:
        result = run_backtest(df, flow.freq, horizon, when, lambda msg: status.update(msg), calibration)
    report = result.to_json(per_series=per_series)
    if as_json:
        print(json.dumps(report))
        return
    from rich.table import Table

    table = Table(title=f"{input_file.name}: {result.origins} origins, horizon {horizon}")
    for column in ("model", "MASE", "MAE", "cover 80", "cover 95"):
        table.add_column(column)
    for model, m in result.metrics().items():
        table.add_row(model, *(str(m[k]) for k in ("mase", "mae", "coverage_80", "coverage_95")))
    out.print(table)


@app.command()
def forecast(
    source: str | None = SourceOpt,
    input_file: Path | None = InputOpt,
    data: Path | None = DataOpt,
    workspace: Path | None = WorkspaceOpt,
    date_column: str = DateOpt,
    value_column: str = ValueOpt,
    series_column: list[str] = SeriesOpt,
    freq: str | None = FreqOpt,
    horizon: int = HorizonOpt,
    level: list[str] = LevelOpt,
    windows: int | None = WindowsOpt,
    fast: bool = FastOpt,
    cache: bool = CacheOpt,
    out_dir: Path = typer.Option(Path("flows-out"), "--out", "-o", help="Folder for forecast.csv and charts/."),
    charts: bool = typer.Option(True, "--charts/--no-charts", help="Write a PNG and an HTML chart per series."),
) -> None:
    """Forecast every series (and every hierarchy level, reconciled so they add up) with 80%/95% intervals.

    Writes OUT/forecast.csv (unique_id, level, ds, avellino, reconciled, bounds, models used),
    OUT/alerts.json and OUT/charts/*.png|html.

    Examples:

      avellino flows forecast --source frontex --horizon 3 --out flows-frontex

      avellino flows forecast --source uk-weekly --horizon 4 --out flows-uk

      avellino flows forecast --workspace ops/channel --horizon 4 --out flows-channel

      avellino flows forecast --input my.csv --date-column day --value-column people
      --series-column route --freq W --horizon 4
    """
    from avellino.flows.alerts import all_alerts
    from avellino.flows.charts import write_charts

    flow = _load(source, input_file, data, date_column, value_column, series_column, freq, workspace)
    result = _run_forecast(flow, horizon, level, windows, fast, cache)
    out_dir.mkdir(parents=True, exist_ok=True)
    chosen = {(c.unique_id): "+".join(c.models) for c in result.choices}
    table = result.forecast.assign(models=result.forecast["unique_id"].map(chosen))
    table.to_csv(out_dir / "forecast.csv", index=False)
    alerts = [a.to_dict() for a in all_alerts(result)]
    (out_dir / "alerts.json").write_text(json.dumps(alerts, indent=2))
    written = write_charts(result, out_dir / "charts") if charts else []
    err.print(
        f"Wrote {out_dir / 'forecast.csv'} ({len(table)} rows), {len(alerts)} alert(s), {len(written)} chart file(s)."
    )


@app.command()
def alerts(
    source: str | None = SourceOpt,
    input_file: Path | None = InputOpt,
    data: Path | None = DataOpt,
    workspace: Path | None = WorkspaceOpt,
    date_column: str = DateOpt,
    value_column: str = ValueOpt,
    series_column: list[str] = SeriesOpt,
    freq: str | None = FreqOpt,
    horizon: int = HorizonOpt,
    level: list[str] = LevelOpt,
    windows: int | None = WindowsOpt,
    fast: bool = FastOpt,
    cache: bool = CacheOpt,
    as_json: bool = typer.Option(False, "--json", help="Print the alerts as a JSON list."),
    evaluate: bool = typer.Option(
        False,
        "--evaluate",
        help="Score surge alerts on the history instead (precision, recall, lead time against a naive rule); "
        "every public source unless --source, --input or --workspace names one.",
    ),
) -> None:
    """Early warnings: recent observations above their forecast's upper bound, and forecast surges above the
    seasonal norm (mean of the same period in the last three years). Each gives series, size and confidence.

    With --evaluate: a surge is a period at least twice the median of the periods before it (8 weeks, 6 months);
    at every past origin an alert is raised when the forecast of the next periods reaches that threshold, and
    the alerts' precision, recall and lead time are reported beside the naive rule (the last value already there).

    Examples:

      avellino flows alerts --source frontex --level route --json

      avellino flows alerts --source uk-weekly --horizon 4

      avellino flows alerts --source workspace --workspace ops/channel --json

      avellino flows alerts --evaluate --source frontex --json
    """
    from avellino.flows.alerts import all_alerts

    if evaluate:
        _evaluate_alerts(source, input_file, data, date_column, value_column, series_column, freq, workspace, as_json)
        return
    flow = _load(source, input_file, data, date_column, value_column, series_column, freq, workspace)
    found = all_alerts(_run_forecast(flow, horizon, level, windows, fast, cache))
    if as_json:
        print(json.dumps([a.to_dict() for a in found]))
        return
    if not found:
        out.print("No alerts.")
    for alert in found:
        out.print(f"[bold]{alert.kind}[/] {alert.message()}", markup=True, highlight=False)


def _evaluate_alerts(
    source: str | None,
    input_file: Path | None,
    data: Path | None,
    date_column: str,
    value_column: str,
    series_columns: list[str],
    freq: str | None,
    workspace: Path | None,
    as_json: bool,
) -> None:
    from rich.table import Table

    from avellino.flows.alert_eval import RULES, evaluate_flow
    from avellino.flows.cache import cached_evaluation
    from avellino.flows.data import SOURCES

    if source is None and input_file is None and workspace is None:
        names: list[str | None] = list(SOURCES)
    else:
        names = [source]
    reports = []
    with err.status("Evaluating alerts...") as status:
        for name in names:
            flow = _load(name, input_file, data, date_column, value_column, series_columns, freq, workspace)
            say = lambda msg: status.update(msg)  # noqa: E731
            reports.append(cached_evaluation(flow, lambda: evaluate_flow(flow, progress=say)))  # noqa: B023
    if as_json:
        print(json.dumps(reports))
        return
    table = Table(title="Surge alerts on each source's history (surge: a period >= 2 x its trailing median)")
    for column in ("source", "series", "rule", "alerts", "precision", "episodes", "recall", "mean lead"):
        table.add_column(column)
    for report in reports:
        rules = report["rules"]
        assert isinstance(rules, dict)
        for rule in RULES:
            m = rules[rule]
            cells = [m["alerts"], m["precision"], m["episodes"], m["recall"], m["mean_lead"]]
            table.add_row(
                str(report["source"]), str(report["series"]), rule, *("-" if c is None else str(c) for c in cells)
            )
        short = report.get("too_short")
        if isinstance(short, list) and short:
            err.print(f"{report['source']}: too short to evaluate: {', '.join(str(s) for s in short)}")
    out.print(table)


@app.command()
def charts(
    source: str | None = SourceOpt,
    input_file: Path | None = InputOpt,
    data: Path | None = DataOpt,
    workspace: Path | None = WorkspaceOpt,
    date_column: str = DateOpt,
    value_column: str = ValueOpt,
    series_column: list[str] = SeriesOpt,
    freq: str | None = FreqOpt,
    horizon: int = HorizonOpt,
    level: list[str] = LevelOpt,
    windows: int | None = WindowsOpt,
    fast: bool = FastOpt,
    cache: bool = CacheOpt,
    out_dir: Path = typer.Option(Path("flows-charts"), "--out", "-o", help="Folder for the chart files."),
) -> None:
    """PNG and interactive HTML charts (history, forecast, 80%/95% intervals), one pair per series.

    The HTML works offline: plotly.min.js is written once beside the charts.

    Examples:

      avellino flows charts --source frontex --level route --out charts-frontex

      avellino flows charts --source uk-weekly --horizon 8 --out charts-uk
    """
    from avellino.flows.charts import write_charts

    flow = _load(source, input_file, data, date_column, value_column, series_column, freq, workspace)
    written = write_charts(_run_forecast(flow, horizon, level, windows, fast, cache), out_dir)
    err.print(f"Wrote {len(written)} chart file(s) to {out_dir}.")
