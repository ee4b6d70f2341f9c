"""Charts of history, forecast and intervals: PNG (matplotlib, Agg) and interactive HTML (plotly, offline).

The HTML files load ``plotly.min.js`` from the same folder (written once), never from a CDN: installations
run without internet.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from avellino.flows.forecast import FlowForecast

HISTORY_PERIODS = {"D": 180, "W": 104, "M": 60, "Y": 20}


def slug(uid: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", uid).strip("-").lower() or "series"


def _parts(result: FlowForecast, uid: str) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    keep = HISTORY_PERIODS.get(result.flow.freq, 104)
    hist = result.history[result.history["unique_id"] == uid].sort_values("ds").tail(keep)
    fc = result.forecast[result.forecast["unique_id"] == uid].sort_values("ds")
    return hist, fc, result.point


def png(result: FlowForecast, uid: str, path: Path) -> Path:
    path.write_bytes(png_bytes(result, uid))
    return path


def png_bytes(result: FlowForecast, uid: str) -> bytes:
    """The PNG chart of one series, as bytes (the briefing inlines it)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hist, fc, point = _parts(result, uid)
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(hist["ds"], hist["y"], color="#333333", lw=1, label="observed")
    ax.fill_between(fc["ds"], fc[f"{point}-lo-95"], fc[f"{point}-hi-95"], color="#9ecae1", alpha=0.5, label="95%")
    ax.fill_between(fc["ds"], fc[f"{point}-lo-80"], fc[f"{point}-hi-80"], color="#4292c6", alpha=0.5, label="80%")
    ax.plot(fc["ds"], fc[point], color="#08306b", lw=2, marker="o", ms=3, label="forecast")
    ax.set_title(f"{uid} ({result.flow.unit})", fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return buffer.getvalue()


def html(result: FlowForecast, uid: str, path: Path) -> Path:
    import plotly.graph_objects as go

    hist, fc, point = _parts(result, uid)
    fig = go.Figure()
    fig.add_scatter(x=hist["ds"], y=hist["y"], name="observed", line={"color": "#333333"})
    for level, colour in ((95, "rgba(158,202,225,0.5)"), (80, "rgba(66,146,198,0.5)")):
        band_x = list(fc["ds"]) + list(fc["ds"][::-1])
        band_y = list(fc[f"{point}-hi-{level}"]) + list(fc[f"{point}-lo-{level}"][::-1])
        fig.add_scatter(x=band_x, y=band_y, fill="toself", fillcolor=colour, line={"width": 0}, name=f"{level}%")
    fig.add_scatter(x=fc["ds"], y=fc[point], name="forecast", line={"color": "#08306b", "width": 3})
    fig.update_layout(title=f"{uid} ({result.flow.unit})", template="plotly_white", height=420)
    fig.write_html(str(path), include_plotlyjs="directory", full_html=True)
    return path


def write_charts(result: FlowForecast, out_dir: Path, series: list[str] | None = None) -> list[Path]:
    """One PNG and one HTML per series (all forecast series unless ``series`` names some)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    ids = series or sorted(result.forecast["unique_id"].unique())
    written = []
    for uid in ids:
        base = out_dir / slug(uid)
        written += [png(result, uid, base.with_suffix(".png")), html(result, uid, base.with_suffix(".html"))]
    return written
