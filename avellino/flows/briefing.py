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


def alert_lines(found: list[Alert]) -> list[str]:
    """One line per alert, where an alert is a kind of warning on one series: its periods (an exceedance in
    two recent weeks, a surge over three forecast months) are listed on that line, not repeated; a series
    repeated at lower levels of the hierarchy is already one alert (``Alert.also_levels``)."""
    grouped: dict[tuple[str, str], list[Alert]] = {}
    for alert in found:
        grouped.setdefault((alert.kind, alert.series), []).append(alert)
    lines = []
    for (kind, series), alerts in grouped.items():
        alerts = sorted(alerts, key=lambda a: a.ds)
        what = (
            "observed above its forecast's upper bound" if kind == "exceedance" else "forecast above the seasonal norm"
        )
        periods = ", ".join(
            f"{a.ds} ({a.value:,.0f} vs {a.reference:,.0f}, x{a.ratio:.2f}, {a.confidence}%)" for a in alerts
        )
        also = alerts[0].also_levels
        copies = f"; the same series at level(s) {', '.join(also)}" if also else ""
        lines.append(f"{kind}: {series} {what} in {periods}{copies}")
    return lines


def _alerts_html(found: list[Alert]) -> str:
    if not found:
        return "<p>No early warnings: recent figures are inside their intervals and no surge is forecast.</p>"
    lines = alert_lines(found)
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines[:MAX_ALERTS])
    more = f"<p class='meta'>{len(lines) - MAX_ALERTS:,} more not shown.</p>" if len(lines) > MAX_ALERTS else ""
    return f"<ul>{items}</ul>{more}"


def _observed(result: FlowForecast, uid: str, periods: int = 4) -> str:
    hist = result.history[result.history["unique_id"] == uid].sort_values("ds").tail(periods)
    values = ", ".join(f"{pd.Timestamp(d).date()}: {y:,.0f}" for d, y in zip(hist["ds"], hist["y"], strict=True))
    return f"<p>Latest observed ({html.escape(uid)}, {html.escape(result.flow.unit)}): {html.escape(values)}.</p>"


def evaluation_line(report: dict[str, object] | None) -> str:
    """How the surge alerts did on the source's history, beside the naive rule (``flows alerts --evaluate``)."""
    if not report:
        return "Alerts not evaluated on this history (too short, or not computed)."
    rules = report.get("rules")
    if not isinstance(rules, dict) or not report.get("series"):
        return "Alerts not evaluated: the history is too short."

    def said(rule: str) -> str:
        m = rules[rule]
        value = lambda key: "-" if m[key] is None else f"{m[key]:.0%}"  # noqa: E731
        lead = "-" if m["mean_lead"] is None else f"{m['mean_lead']:.1f}"
        return (
            f"precision {value('precision')}, recall {value('recall')}, mean lead {lead} periods ({m['alerts']} alerts)"
        )

    first = rules["avellino"]
    return (
        f"Surge alerts on this source's history ({report['series']} series from {report.get('first_origin')}, "
        f"{first['episodes']} surges of at least twice the trailing median): Avellino {said('avellino')}; "
        f"naive rule (the last value already that high) {said('naive')}."
    )


def block_html(block: ForecastBlock) -> str:
    result, ids = block.result, block.series
    notes = " ".join(html.escape(n) for n in result.flow.notes)
    return (
        f"<h3>{html.escape(block.title)}</h3><p class='meta'>{notes}</p>{_img(result, ids[0])}"
        f"{_observed(result, ids[0])}{_forecast_table(result, ids)}<h4>Early warnings</h4>"
        f"{_alerts_html(all_alerts(result))}<p class='meta'>{html.escape(evaluation_line(block.evaluation))}</p>"
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
