"""From a :class:`FlowData` to coherent forecasts of every hierarchy node, ready for alerts and charts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from avellino.errors import ConfigError
from avellino.flows.combine import NAME, Choice, combine
from avellino.flows.data import FlowData
from avellino.flows.hierarchy import aggregate, level_of, reconcile
from avellino.flows.models import CALIBRATION, REFIT, Setup, cross_validate, forecast_now, intermittent_ids

MIN_LENGTH = 12


@dataclass
class FlowForecast:
    """History, forecasts (``avellino`` and ``reconciled`` with intervals) and recent one-step checks."""

    flow: FlowData
    history: pd.DataFrame
    forecast: pd.DataFrame
    recent: pd.DataFrame
    choices: list[Choice]
    levels: dict[str, str] = field(default_factory=dict)
    s_df: pd.DataFrame | None = None

    @property
    def point(self) -> str:
        return "reconciled" if "reconciled" in self.forecast.columns else NAME


def _select_levels(y_df: pd.DataFrame, levels: dict[str, str], keep: list[str] | None) -> pd.DataFrame:
    if not keep:
        return y_df
    unknown = set(keep) - set(levels.values())
    if unknown:
        raise ConfigError(f"Unknown level(s) {sorted(unknown)}; this data has {sorted(set(levels.values()))}.")
    return y_df[y_df["unique_id"].map(levels).isin(keep)]


def forecast_flow(
    flow: FlowData,
    horizon: int,
    levels: list[str] | None = None,
    reconcile_levels: bool = True,
    progress: Callable[[str], None] | None = None,
    windows: int | None = None,
    fast: bool = False,
    series: list[str] | None = None,
) -> FlowForecast:
    """Forecast every node of ``flow``'s hierarchy (or only ``levels``) ``horizon`` periods ahead.

    Reconciliation needs every level, so it is skipped when ``levels`` leaves some out. ``recent`` holds, for
    the last ``horizon`` periods, the forecast issued just before them (same method, same conformal
    calibration): the input of exceedance alerts. ``windows`` overrides the calibration windows (fewer is
    faster and gives rougher intervals); ``fast`` leaves out AutoARIMA and the recent-history refits;
    ``series`` keeps only those ids.
    """
    y_df, s_df, tags = aggregate(flow)
    node_level = level_of(tags)
    y_df = _select_levels(y_df, node_level, levels)
    if series:
        y_df = y_df[y_df["unique_id"].isin(series)]
        if y_df.empty:
            raise ConfigError(f"{flow.name}: none of the series {series} exists.")
    lengths = y_df.groupby("unique_id").size()
    if int(lengths.min()) < MIN_LENGTH:
        raise ConfigError(f"{flow.name}: a series has only {int(lengths.min())} periods; {MIN_LENGTH} are needed.")
    setup = Setup.for_freq(flow.freq, horizon, fast, int(lengths.min()), refit=REFIT[flow.freq])
    windows = windows or CALIBRATION[flow.freq]
    # Calibration windows for the candidates at each origin, as many again for the strategies' records
    # (:mod:`avellino.flows.select`), and ``horizon`` more for the recent one-step checks.
    n_windows = int(min(2 * (windows + horizon - 1) + horizon, lengths.min() - horizon - 8))
    say = (lambda msg: progress(f"{flow.name}: back-testing, {msg}")) if progress else None
    cv = cross_validate(y_df, setup, max(n_windows, 1), progress=say)
    intermittent = intermittent_ids(y_df, setup.season)
    if progress:
        progress(f"{flow.name}: forecasting {horizon} periods ahead")
    now = forecast_now(y_df, setup)
    forecast, choices = combine(now, cv, windows, intermittent)
    full = reconcile_levels and not levels and not series
    if full:
        forecast = reconcile(forecast, s_df, tags)
    # The forecast issued at the last origin with ``horizon`` known targets covers the latest observations.
    recent_now = cv[cv["cutoff"] == cv["cutoff"].max()]
    recent, _ = combine(recent_now.drop(columns="y"), cv, windows, intermittent)
    recent = recent.merge(recent_now[["unique_id", "ds", "cutoff", "y"]], on=["unique_id", "ds", "cutoff"])
    forecast["level"] = forecast["unique_id"].map(node_level)
    return FlowForecast(flow, y_df, forecast, recent, choices, node_level, s_df if full else None)
