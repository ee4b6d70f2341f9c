"""The flows section of the briefing: forecasts with intervals and early warnings.

It forecasts the people crossing in the workspace's own ``Crossing`` records (:mod:`avellino.flows.crossings`:
weekly, or monthly when most weeks are empty) when they span enough periods, and, with the public data beside
the clone, UK small-boat arrivals (weekly) and Frontex detections on the three busiest routes of the last year
(monthly). The briefing path uses the fast model set (no AutoARIMA, no recent-history refits) and 6 calibration
windows to stay quick; ``avellino flows forecast`` is the full method. Charts are inlined PNGs, so the briefing
stays one self-contained file.
"""

from __future__ import annotations

import base64
import html

import pandas as pd

from avellino.flows.alerts import Alert, all_alerts
from avellino.flows.charts import png_bytes
from avellino.flows.crossings import HORIZON, crossings_flow, read_crossings
from avellino.flows.data import frontex, uk_small_boats
from avellino.flows.forecast import FlowForecast, forecast_flow
from avellino.report.sections import DemoContext, Section

BRIEFING_WINDOWS = 6
TOP_ROUTES = 3
MAX_ALERTS = 12
PERIOD_WORDS = {"W": "weeks", "M": "months"}


def _img(result: FlowForecast, uid: str) -> str:
    data = base64.b64encode(png_bytes(result, uid)).decode("ascii")
    alt = html.escape(f"{uid}: history and forecast")
    return f'<img alt="{alt}" style="max-width:100%" src="data:image/png;base64,{data}">'


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
    items = "".join(f"<li><b>{html.escape(a.kind)}</b>: {html.escape(a.message())}</li>" for a in found[:MAX_ALERTS])
    more = f"<p class='meta'>{len(found) - MAX_ALERTS:,} more not shown.</p>" if len(found) > MAX_ALERTS else ""
    return f"<ul>{items}</ul>{more}"


def _observed(result: FlowForecast, uid: str, periods: int = 4) -> str:
    hist = result.history[result.history["unique_id"] == uid].sort_values("ds").tail(periods)
    values = ", ".join(f"{pd.Timestamp(d).date()}: {y:,.0f}" for d, y in zip(hist["ds"], hist["y"], strict=True))
    return f"<p>Latest observed ({html.escape(uid)}, {html.escape(result.flow.unit)}): {html.escape(values)}.</p>"


def _block(title: str, result: FlowForecast, ids: list[str]) -> str:
    notes = " ".join(html.escape(n) for n in result.flow.notes)
    return (
        f"<h3>{html.escape(title)}</h3><p class='meta'>{notes}</p>{_img(result, ids[0])}{_observed(result, ids[0])}"
        f"{_forecast_table(result, ids)}<h4>Early warnings</h4>{_alerts_html(all_alerts(result))}"
    )


def workspace_block(ctx: DemoContext) -> tuple[str, frozenset[str]] | None:
    """The workspace's crossings, forecast, and the ids of the Crossing entities summarised; None when they
    span too few periods."""
    crossings = read_crossings(ctx.store)
    flow = crossings_flow(crossings)
    if flow is None:
        return None
    horizon = HORIZON[flow.freq]
    result = forecast_flow(flow, horizon, fast=True, windows=BRIEFING_WINDOWS)
    title = f"Crossings recorded in this workspace, next {horizon} {PERIOD_WORDS[flow.freq]}"
    return _block(title, result, ["global"]), crossings.entity_ids


def public_blocks(ctx: DemoContext) -> list[str]:
    """UK weekly arrivals and the busiest Frontex routes, when the public data are beside the clone."""
    if ctx.shared_data is None or not (ctx.shared_data / "migration").is_dir():
        return []
    uk = forecast_flow(uk_small_boats(ctx.shared_data, "W"), 4, fast=True, windows=BRIEFING_WINDOWS)
    fx = frontex(ctx.shared_data)
    recent = fx.at_level("route")
    recent = recent[recent["ds"] > recent["ds"].max() - pd.DateOffset(years=1)]
    top = recent.groupby("unique_id")["y"].sum().nlargest(TOP_ROUTES).index.tolist()
    routes = forecast_flow(fx, 3, levels=["route"], fast=True, windows=BRIEFING_WINDOWS, series=top)
    return [
        _block("UK small-boat arrivals (public statistics), next 4 weeks", uk, ["global"]),
        _block("Frontex detections by route (public statistics), next 3 months", routes, top),
    ]


def briefing_section(ctx: DemoContext) -> Section | None:
    """The workspace's crossings (when there are enough) and the public statistics (when present), else None."""
    blocks: list[str] = []
    ids: frozenset[str] = frozenset()
    workspace = workspace_block(ctx)
    if workspace is not None:
        blocks.append(workspace[0])
        ids = workspace[1]
    blocks += public_blocks(ctx)
    if not blocks:
        return None
    intro = (
        "<p>Forecasts combine statsforecast models chosen by rolling-origin back-tests; intervals are conformal "
        "(calibrated on past forecast errors). Alerts flag observations above their forecast's upper bound and "
        "forecasts well above the seasonal norm; a series repeated at several levels of its hierarchy alerts "
        "once. Public statistics are TLP:CLEAR; the workspace's crossings carry their records' markings.</p>"
    )
    return Section("Irregular migration flows", intro + "".join(blocks), "flows", entity_ids=ids)
