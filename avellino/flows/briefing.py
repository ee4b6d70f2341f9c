"""The flows section of the briefing: forecasts with intervals and early warnings.

A pure renderer of :class:`avellino.flows.findings.FlowsFindings` (the forecasts are fitted there): each block
gets its latest observed periods, a chart, a table with 80% and 95% intervals and its alerts. Charts are inlined
PNGs, so the briefing stays one self-contained file.
"""

from __future__ import annotations

import base64
import html

import pandas as pd

from avellino.flows.alerts import Alert, all_alerts
from avellino.flows.charts import png_bytes
from avellino.flows.findings import FlowsFindings, ForecastBlock
from avellino.flows.forecast import FlowForecast
from avellino.report.sections import Section, nothing_to_show

TITLE, ANCHOR = "Irregular migration flows", "flows"
MAX_ALERTS = 12


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


def block_html(block: ForecastBlock) -> str:
    result, ids = block.result, block.series
    notes = " ".join(html.escape(n) for n in result.flow.notes)
    return (
        f"<h3>{html.escape(block.title)}</h3><p class='meta'>{notes}</p>{_img(result, ids[0])}"
        f"{_observed(result, ids[0])}{_forecast_table(result, ids)}<h4>Early warnings</h4>"
        f"{_alerts_html(all_alerts(result))}"
    )


def flows_section(findings: FlowsFindings) -> Section:
    """The workspace's crossings (when there are enough) and the public statistics (when present); a note
    saying what is missing when there is neither."""
    blocks = ([findings.workspace] if findings.workspace is not None else []) + findings.public
    if not blocks:
        return nothing_to_show(
            TITLE,
            ANCHOR,
            "No forecast: the workspace's crossings span too few weeks or months, and the public statistics "
            "(../shared/data or AVELLINO_SHARED_DATA) are not present.",
        )
    intro = (
        "<p>Forecasts combine statsforecast models chosen by rolling-origin back-tests; intervals are conformal "
        "(calibrated on past forecast errors). Alerts flag observations above their forecast's upper bound and "
        "forecasts well above the seasonal norm; a series repeated at several levels of its hierarchy alerts "
        "once. Public statistics are TLP:CLEAR; the workspace's crossings carry their records' markings.</p>"
    )
    ids = findings.workspace.entity_ids if findings.workspace is not None else frozenset()
    return Section(TITLE, intro + "".join(block_html(b) for b in blocks), ANCHOR, entity_ids=ids)
