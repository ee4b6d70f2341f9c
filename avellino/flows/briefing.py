"""The flows section of the briefing: forecasts with intervals and early warnings, in under ~30 seconds.

With the public data beside the clone it forecasts UK small-boat arrivals (weekly) and Frontex detections per
route (monthly). Without it (a user's clone), it builds weekly series from the Crossing entities in the store.
The briefing path uses the fast model set (no AutoARIMA, no recent-history refits), 6 calibration windows
and the three busiest Frontex routes of the last year to stay quick; ``avellino flows forecast`` is the full
method.
"""

from __future__ import annotations

import base64
import html
import logging
from pathlib import Path

import pandas as pd

from avellino.flows.alerts import Alert, all_alerts
from avellino.flows.charts import png
from avellino.flows.data import FlowData, complete_periods, frontex, uk_small_boats
from avellino.flows.forecast import FlowForecast, forecast_flow
from avellino.report.sections import DemoContext, Section

log = logging.getLogger(__name__)
BRIEFING_WINDOWS = 6
TOP_ROUTES = 3
MIN_WEEKS = 16


def crossings_frame(ctx: DemoContext) -> pd.DataFrame:
    """Crossing entities in the store as rows ``date, departure, outcome, people`` (one per crossing)."""
    rows = []
    for entity in ctx.store.entities(schemata=["Crossing"]):
        dates = entity.get("date")
        if not dates:
            continue
        people = [float(p) for p in entity.get("peopleOnBoard") if _is_number(p)]
        rows.append(
            {
                "date": dates[0][:10],
                "departure": (entity.get("departurePlace") or ["unknown"])[0],
                "outcome": (entity.get("outcome") or ["unknown"])[0],
                "people": people[0] if people else 0.0,
            }
        )
    frame = pd.DataFrame(rows, columns=["date", "departure", "outcome", "people"])
    frame["date"] = pd.to_datetime(frame["date"], errors="coerce")
    return frame.dropna(subset=["date"])


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def store_flow(crossings: pd.DataFrame) -> FlowData | None:
    """Weekly people per outcome from crossings; None when there are too few weeks to forecast."""
    if crossings.empty:
        return None
    weeks = crossings["date"].dt.to_period("W-SUN").dt.end_time.dt.normalize()
    frame = (
        crossings.assign(ds=weeks, y=crossings["people"], route="reported crossings", nationality="all")
        .assign(**{"global": "global", "region": crossings["outcome"].astype(str)})
        .groupby(["global", "region", "route", "nationality", "ds"], as_index=False)["y"]
        .sum()
    )
    levels = ["global", "region", "route", "nationality"]
    frame = complete_periods(frame, levels, "W")
    if frame["ds"].nunique() < MIN_WEEKS:
        return None
    return FlowData("store_crossings", frame, levels, "W", "people", ["Crossings recorded in this workspace."])


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" style="max-width:100%" src="data:image/png;base64,{data}">'


def _forecast_table(result: FlowForecast, ids: list[str]) -> str:
    point = result.point
    rows = []
    for uid in ids:
        fc = result.forecast[result.forecast["unique_id"] == uid].sort_values("ds")
        for rec in fc.to_dict("records"):
            rows.append(
                f"<tr><td>{html.escape(uid)}</td><td>{pd.Timestamp(rec['ds']).date()}</td>"
                f'<td class="n">{rec[point]:,.0f}</td>'
                f'<td class="n">{rec[f"{point}-lo-80"]:,.0f} - {rec[f"{point}-hi-80"]:,.0f}</td>'
                f'<td class="n">{rec[f"{point}-lo-95"]:,.0f} - {rec[f"{point}-hi-95"]:,.0f}</td></tr>'
            )
    head = "<tr><th>series</th><th>period</th><th>forecast</th><th>80% interval</th><th>95% interval</th></tr>"
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def _alerts_html(found: list[Alert]) -> str:
    if not found:
        return "<p>No early warnings: recent figures are inside their intervals and no surge is forecast.</p>"
    items = "".join(f"<li><b>{html.escape(a.kind)}</b>: {html.escape(a.message())}</li>" for a in found[:12])
    return f"<ul>{items}</ul>"


def _block(title: str, result: FlowForecast, ids: list[str], out_dir: Path) -> str:
    charts = out_dir / "flows"
    charts.mkdir(parents=True, exist_ok=True)
    picture = _img(png(result, ids[0], charts / f"{result.flow.name}.png"))
    notes = " ".join(html.escape(n) for n in result.flow.notes)
    return (
        f"<h3>{html.escape(title)}</h3><p class='meta'>{notes}</p>{picture}"
        f"{_forecast_table(result, ids)}<h4>Early warnings</h4>{_alerts_html(all_alerts(result))}"
    )


def briefing_section(ctx: DemoContext) -> Section | None:
    """Forecasts and alerts from the public statistics, else from the store's crossings, else nothing."""
    blocks = []
    if ctx.shared_data is not None and (ctx.shared_data / "migration").is_dir():
        uk = forecast_flow(uk_small_boats(ctx.shared_data, "W"), 4, fast=True, windows=BRIEFING_WINDOWS)
        blocks.append(_block("UK small-boat arrivals, next 4 weeks", uk, ["global"], ctx.out_dir))
        fx = frontex(ctx.shared_data)
        recent = fx.at_level("route")
        recent = recent[recent["ds"] > recent["ds"].max() - pd.DateOffset(years=1)]
        top = recent.groupby("unique_id")["y"].sum().nlargest(TOP_ROUTES).index.tolist()
        routes = forecast_flow(fx, 3, levels=["route"], fast=True, windows=BRIEFING_WINDOWS, series=top)
        blocks.append(_block("Frontex detections by route, next 3 months", routes, top, ctx.out_dir))
    else:
        flow = store_flow(crossings_frame(ctx))
        if flow is not None:
            result = forecast_flow(flow, 4, fast=True, windows=BRIEFING_WINDOWS)
            blocks.append(_block("Crossings recorded in this workspace, next 4 weeks", result, ["global"], ctx.out_dir))
    if not blocks:
        return None
    intro = (
        "<p>Forecasts combine statsforecast models chosen by rolling-origin back-tests; intervals are conformal "
        "(calibrated on past forecast errors). Alerts flag observations above their forecast's upper bound and "
        "forecasts well above the seasonal norm.</p>"
    )
    return Section("Irregular migration flows", intro + "".join(blocks), "flows")
