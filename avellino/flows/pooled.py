"""A global candidate: one autoregression in log space fitted on the windows of *every* series together.

Why: the local models (ETS, ARIMA, Theta) each learn from one series' own past, so a route that breaks out of
its regime (the 2020 closures, a route that opens) is forecast from dynamics it has never shown. A model
pooled across series learns how flows in general move after such a change: each window is made scale-free by
subtracting its recent log level, so a route of 50 and a route of 50,000 a month share one set of
coefficients. This is the "global model" of Montero-Manso & Hyndman (2021, *Principles and algorithms for
forecasting groups of time series: locality and globality*), which showed that a pooled linear autoregression
with long lags is competitive with local models on sets of unrelated series. It is a few lines of least
squares (ridge), so it is written here rather than pulling in a machine-learning forecasting framework; it is
one more candidate, and the per-series back-test in :mod:`avellino.flows.combine` decides where to use it.

Measured before 2024 only (Frontex, 9 routes, origins 2020-10..2023-09): on its own MASE 1.378, against
1.695 for the best local statsforecast model and 1.393 for Avellino's combination without it; as a candidate,
the combination's ratio to the best single model goes 0.822 -> 0.816. UK weekly (one series, so "pooled" is a
local log autoregression), origins 2021-06..2023-12: 0.977 -> 0.973 (docs/flows.md).

Every forecast at an origin is fitted only on windows whose targets are all on or before that origin. Like the
log-space candidates it is capped at 10x the largest count seen (by :func:`avellino.flows.robust.add_robust`,
the one guard for every log-space forecast); it is also fitted in ``fast`` mode (it is cheap: a fraction of a
second for the 66-series Frontex hierarchy over 31 origins).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from avellino.flows.data import horizon_steps

NAME = "PooledAR"
# Lags per frequency: two years of monthly data (so annual seasonality is learned), a quarter of weekly data
# (52+ weekly lags over-fit a lone series: UK weekly before 2024, MASE 4.20 with 53 lags, 2.34 with 13), four
# weeks of daily data, five years of yearly data.
LAGS = {"D": 28, "W": 13, "M": 25, "Y": 5}
# The level a window is measured from: the mean of its last few log values.
LEVEL = 3
RIDGE = 1.0


def _windows(log_y: np.ndarray, lags: int, horizon: int) -> tuple[np.ndarray, np.ndarray]:
    """Every window of one series: lags relative to their level (rows of ``lags``), targets likewise
    (rows of ``horizon``). Window ``i`` ends at position ``lags - 1 + i``."""
    n = len(log_y) - lags - horizon + 1
    if n <= 0:
        return np.empty((0, lags)), np.empty((0, horizon))
    view = np.lib.stride_tricks.sliding_window_view(log_y, lags + horizon)[:n]
    level = view[:, lags - LEVEL : lags].mean(axis=1, keepdims=True)
    return view[:, :lags] - level, view[:, lags:] - level


def _fit(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Ridge coefficients (the intercept, last, is not penalised)."""
    design = np.hstack([x, np.ones((len(x), 1))])
    penalty = np.diag([RIDGE] * x.shape[1] + [0.0])
    return np.linalg.solve(design.T @ design + penalty, design.T @ y)


def pooled_forecasts(train: pd.DataFrame, origins: pd.DataFrame, freq: str, horizon: int) -> pd.DataFrame:
    """``PooledAR`` forecasts: one row per (``unique_id``, ``cutoff``) in ``origins`` and horizon ``step``.

    ``train`` (``unique_id, ds, y``, regular periods, no negative values) gives the windows the model is fitted
    on (every series in it); the forecast of a series in ``origins`` starts from its last ``LAGS`` values in
    ``train``. Series shorter than that, or origins with too few windows behind them, get no row. Forecasts are
    ``expm1`` of the log forecast, not yet capped.
    """
    lags = LAGS[freq]
    columns = ["unique_id", "cutoff", "step", NAME]
    wins_x, wins_y, ends, series = [], [], [], {}
    for uid, g in train.sort_values(["unique_id", "ds"]).groupby("unique_id", sort=False, observed=True):
        ds, log_y = g["ds"].to_numpy(), np.log1p(g["y"].to_numpy(dtype=float))
        series[uid] = (ds, log_y)
        x, y = _windows(log_y, lags, horizon)
        end = ds[lags - 1 + horizon : lags - 1 + horizon + len(x)]  # date of each window's last target
        whole = np.isfinite(x).all(axis=1) & np.isfinite(y).all(axis=1)  # a missing value spoils its windows only
        wins_x.append(x[whole])
        wins_y.append(y[whole])
        ends.append(end[whole])
    if not wins_x:
        return pd.DataFrame(columns=columns).astype({"step": int, NAME: float})
    x_all, y_all, end_all = np.vstack(wins_x), np.vstack(wins_y), np.concatenate(ends)
    rows: list[tuple[object, pd.Timestamp, int, float]] = []
    for cutoff, group in origins.groupby("cutoff", sort=True):
        at = np.datetime64(pd.Timestamp(cutoff))
        known = end_all <= at
        if known.sum() < 2 * (lags + 1):
            continue
        coef = _fit(x_all[known], y_all[known])
        for uid in group["unique_id"].unique():
            if uid not in series:
                continue
            ds, log_y = series[uid]
            past = log_y[ds <= at]
            if len(past) < lags or not np.isfinite(past[-lags:]).all():
                continue
            level = past[-LEVEL:].mean()
            step_logs = np.append(past[-lags:] - level, 1.0) @ coef + level
            for step, value in enumerate(np.expm1(step_logs), start=1):
                rows.append((uid, pd.Timestamp(cutoff), step, float(value)))
    return pd.DataFrame(rows, columns=columns).astype({"step": int, NAME: float})


def add_pooled(frame: pd.DataFrame, train: pd.DataFrame, freq: str) -> pd.DataFrame:
    """``frame`` (forecasts by ``unique_id, ds, cutoff``) with the ``PooledAR`` column (NaN where it has no
    forecast; uncapped, see :func:`pooled_forecasts`). Nothing is added when any series in ``train`` has a
    negative value (the model works on log counts) or ``train`` is empty.

    Pass every series as ``train``, identical copies included (a hierarchy repeats a series at several
    levels): whether two series are copies depends on their whole history, so dropping copies would let data
    after an origin decide which windows the model at that origin is fitted on."""
    if train.empty or frame.empty or bool((train["y"] < 0).any()):
        return frame
    step = horizon_steps(frame)
    horizon = int(step.max())
    origins = frame[["unique_id", "cutoff"]].drop_duplicates()
    pooled = pooled_forecasts(train, origins, freq, horizon)
    keyed = frame.assign(step=step.to_numpy())
    return keyed.merge(pooled, on=["unique_id", "cutoff", "step"], how="left").drop(columns="step")
