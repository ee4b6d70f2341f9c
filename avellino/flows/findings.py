"""The forecasts the briefing shows: the workspace's own crossings and, with the public data beside the clone,
UK small-boat arrivals and the busiest Frontex routes.

``flows_findings`` reads the store (nothing is written) and fits the forecasts; ``flows/briefing.py`` renders
them. It forecasts the people crossing in the workspace's ``Crossing`` records (:mod:`avellino.flows.crossings`:
weekly, or monthly when most weeks are empty) when they span enough periods. The briefing uses the fast model
set (no AutoARIMA, no recent-history refits) and 6 calibration windows to stay quick; ``avellino flows
forecast`` is the full method.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from avellino.flows.crossings import HORIZON, crossings_flow, read_crossings
from avellino.flows.data import FlowData, frontex, uk_small_boats
from avellino.flows.forecast import FlowForecast, forecast_flow
from avellino.store.base import Store

BRIEFING_WINDOWS = 6
TOP_ROUTES = 3
PERIOD_WORDS = {"W": "weeks", "M": "months"}


@dataclass(frozen=True)
class ForecastBlock:
    """One forecast shown with its chart, table and alerts: ``series`` are the unique ids shown (the chart is
    of the first); ``entity_ids`` the Crossing entities it summarises (none for public statistics)."""

    title: str
    result: FlowForecast
    series: list[str]
    entity_ids: frozenset[str] = frozenset()
    #: ``flows alerts --evaluate``'s report on the history of the block's source (None: not evaluated).
    evaluation: dict[str, object] | None = None


@dataclass(frozen=True)
class FlowsFindings:
    """The workspace's forecast (None: too few periods of crossings) and the public ones (empty: no data)."""

    workspace: ForecastBlock | None
    public: list[ForecastBlock] = field(default_factory=list)


def flows_findings(store: Store, shared_data: Path | None = None) -> FlowsFindings:
    return FlowsFindings(workspace_forecast(store), public_forecasts(shared_data))


def workspace_forecast(store: Store) -> ForecastBlock | None:
    """The workspace's crossings, forecast; None when they span too few periods."""
    crossings = read_crossings(store)
    flow = crossings_flow(crossings)
    if flow is None:
        return None
    horizon = HORIZON[flow.freq]
    result = forecast_flow(flow, horizon, fast=True, windows=BRIEFING_WINDOWS)
    title = f"Crossings recorded in this workspace, next {horizon} {PERIOD_WORDS[flow.freq]}"
    return ForecastBlock(title, result, ["global"], crossings.entity_ids, evaluation_of(flow))


def evaluation_of(flow: FlowData) -> dict[str, object] | None:
    """The alert evaluation of ``flow``'s history (cached; None when it cannot be computed)."""
    from avellino.errors import AvellinoError
    from avellino.flows.alert_eval import evaluate_flow
    from avellino.flows.cache import cached_evaluation

    try:
        return cached_evaluation(flow, lambda: evaluate_flow(flow))
    except (AvellinoError, ValueError):
        return None


def public_forecasts(shared_data: Path | None) -> list[ForecastBlock]:
    """UK weekly arrivals and the busiest Frontex routes, when the public data are beside the clone."""
    if shared_data is None or not (shared_data / "migration").is_dir():
        return []
    uk_flow = uk_small_boats(shared_data, "W")
    uk = forecast_flow(uk_flow, 4, fast=True, windows=BRIEFING_WINDOWS)
    fx = frontex(shared_data)
    recent = fx.at_level("route")
    recent = recent[recent["ds"] > recent["ds"].max() - pd.DateOffset(years=1)]
    top = recent.groupby("unique_id")["y"].sum().nlargest(TOP_ROUTES).index.tolist()
    routes = forecast_flow(fx, 3, levels=["route"], fast=True, windows=BRIEFING_WINDOWS, series=top)
    return [
        ForecastBlock(
            "UK small-boat arrivals (public statistics), next 4 weeks",
            uk,
            ["global"],
            evaluation=evaluation_of(uk_flow),
        ),
        ForecastBlock(
            "Frontex detections by route (public statistics), next 3 months", routes, top, evaluation=evaluation_of(fx)
        ),
    ]
