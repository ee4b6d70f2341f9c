"""Avellino's forecast: a trimmed combination of candidate models with conformal intervals.

Candidates: statsforecast models, log-space refits, weighted-median levels and a pooled autoregression
(:mod:`avellino.flows.models`).

At each origin and for each series, the candidates are scored on the rolling-origin windows whose targets are
already known (the *calibration* windows). Every candidate within ``TRIM`` x the best back-test MAE is kept and
the kept forecasts are averaged. Why not pick the single best? On noisy flow data (weather-driven Channel
weeks) the ranking of close models is mostly noise, and an equal-weight average of the good ones is the robust
choice (the forecast-combination literature's "forecast combination puzzle"); trimming drops the clearly bad.

Intervals are split-conformal: the same combination's calibration errors, divided by a local scale (the
forecast itself plus a quarter of the series' recent mean, so that a summer peak gets wider bounds than a
winter trough), give per-horizon-step quantiles. No distributional assumption; zeros and bursts are fine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from avellino.flows import select
from avellino.flows.data import horizon_steps
from avellino.flows.models import INTERMITTENT, candidate_columns

# 1.3 rather than 1.2: in back-tests before 2024 (UK weekly, Frontex monthly) the wider band was as good or
# better on both, keeping a few more models in the average (benchmarks/flows_backtest.py, docs/flows.md).
TRIM = select.TRIM
LEVELS = (80, 95)
MIN_PER_STEP = 10
NAME = "avellino"


@dataclass(frozen=True)
class Choice:
    """Which models a series' combination kept at one origin, and their calibration MAE."""

    unique_id: str
    cutoff: pd.Timestamp
    models: tuple[str, ...]
    mae: dict[str, float]
    #: ``best`` (the candidate with the lowest calibration MAE) or ``trimmed`` (see :mod:`avellino.flows.select`);
    #: empty for the AutoETS fallback or :func:`combine_one`'s plain trimmed mean.
    strategy: str = ""


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """Finite-sample split-conformal quantile: the ceil((n+1) * level)-th smallest score."""
    scores = np.sort(scores[np.isfinite(scores)])
    n = len(scores)
    if n == 0:
        return float("nan")
    k = math.ceil((n + 1) * level / 100.0)
    return float(scores[min(k, n) - 1])


def _choose(calib: pd.DataFrame, candidates: list[str]) -> tuple[list[str], dict[str, float]]:
    # Only candidates with a forecast in every calibration window compete: one scored on fewer (the pooled
    # model has none while too few windows are known) would be compared on different weeks than the rest.
    mae = {m: float((calib[m] - calib["y"]).abs().mean()) for m in candidates if calib[m].notna().all()}
    mae = {m: v for m, v in mae.items() if np.isfinite(v)}
    if not mae:
        return [], {}
    best = min(mae.values())
    return [m for m, v in mae.items() if v <= TRIM * best + 1e-12], mae


def combine_one(
    current: pd.DataFrame, calib: pd.DataFrame, candidates: list[str], nonnegative: bool
) -> tuple[pd.DataFrame, Choice]:
    """Combined forecast and conformal bounds for one series at one origin.

    ``current``: candidate forecasts from the origin (one row per horizon step); ``calib``: earlier windows with
    known ``y``. Without calibration data the combination falls back to AutoETS and its own intervals.
    """
    out = current[["unique_id", "ds", "cutoff"]].copy()
    chosen, mae = _choose(calib, candidates) if len(calib) else ([], {})
    if not chosen:
        out[NAME] = current["AutoETS"].to_numpy()
        for level in LEVELS:
            out[f"{NAME}-lo-{level}"] = current[f"AutoETS-lo-{level}"].to_numpy()
            out[f"{NAME}-hi-{level}"] = current[f"AutoETS-hi-{level}"].to_numpy()
        chosen = ["AutoETS"]
    else:
        point = current[chosen].mean(axis=1).to_numpy()
        past = calib[chosen].mean(axis=1).to_numpy()
        if nonnegative:
            point, past = np.clip(point, 0, None), np.clip(past, 0, None)
        floor = max(0.25 * float(calib["y"].abs().mean()), 1.0)
        scores = np.abs(calib["y"].to_numpy() - past) / (np.abs(past) + floor)
        steps, now_steps = horizon_steps(calib).to_numpy(), horizon_steps(current).to_numpy()
        out[NAME] = point
        for level in LEVELS:
            half = np.empty(len(point))
            for i, step in enumerate(now_steps):
                own = scores[steps == step]
                q = conformal_quantile(own if len(own) >= MIN_PER_STEP else scores, level)
                half[i] = q * (abs(point[i]) + floor)
            lo = point - half
            out[f"{NAME}-lo-{level}"] = np.clip(lo, 0, None) if nonnegative else lo
            out[f"{NAME}-hi-{level}"] = point + half
    cutoff = pd.Timestamp(current["cutoff"].iloc[0])
    return out, Choice(str(current["unique_id"].iloc[0]), cutoff, tuple(chosen), mae)


def calibration_rows(cv_series: pd.DataFrame, origin: pd.Timestamp, windows: int) -> pd.DataFrame:
    """Rows of one series' back-test whose targets are known at ``origin``, from its last ``windows`` cutoffs."""
    known = cv_series[(cv_series["cutoff"] < origin) & (cv_series["ds"] <= origin)]
    cutoffs = np.sort(known["cutoff"].unique())[-windows:]
    return known[known["cutoff"].isin(cutoffs)]


def _grid(history: pd.DataFrame, now: pd.DataFrame) -> pd.DatetimeIndex:
    """Every period from a series' first back-test origin to its last origin (cv origins are consecutive
    periods; their targets fill the periods up to the last observation, which is the next origin)."""
    dates = pd.concat([history["cutoff"], history["ds"], now["cutoff"]]) if len(history) else now["cutoff"]
    first = now["cutoff"].min() if not len(history) else min(history["cutoff"].min(), now["cutoff"].min())
    return pd.DatetimeIndex(np.sort(dates[dates >= first].unique()))


def _arrays(frame: pd.DataFrame, grid: pd.DatetimeIndex, h: int, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Forecasts (origins, h, candidates) and actuals (origins, h) of ``frame`` placed on ``grid``."""
    f = np.full((len(grid), h, len(names)), np.nan)
    y = np.full((len(grid), h), np.nan)
    if len(frame):
        pos = grid.get_indexer(pd.DatetimeIndex(frame["cutoff"]))
        step = horizon_steps(frame).to_numpy() - 1
        ok = (pos >= 0) & (step < h)
        f[pos[ok], step[ok]] = frame[names].to_numpy(dtype=float)[ok]
        if "y" in frame.columns:
            y[pos[ok], step[ok]] = frame["y"].to_numpy(dtype=float)[ok]
    return f, y


def _intervals(
    point: np.ndarray, past: np.ndarray, actual: np.ndarray, steps: np.ndarray, nonnegative: bool
) -> dict[str, np.ndarray]:
    """Split-conformal bounds around ``point`` (one value per horizon step) from out-of-sample rows."""
    floor = max(0.25 * float(np.abs(actual).mean()), 1.0) if len(actual) else 1.0
    if nonnegative:
        past = np.clip(past, 0, None)
    scores = np.abs(actual - past) / (np.abs(past) + floor)
    out: dict[str, np.ndarray] = {}
    for level in LEVELS:
        half = np.empty(len(point))
        for i in range(len(point)):
            own = scores[steps == i + 1]
            q = conformal_quantile(own if len(own) >= MIN_PER_STEP else scores, level)
            half[i] = q * (abs(point[i]) + floor)
        lo = point - half
        out[f"{NAME}-lo-{level}"] = np.clip(lo, 0, None) if nonnegative else lo
        out[f"{NAME}-hi-{level}"] = point + half
    return out


def combine(
    current: pd.DataFrame,
    cv: pd.DataFrame,
    windows: int,
    intermittent: set[str],
    nonnegative: bool = True,
) -> tuple[pd.DataFrame, list[Choice]]:
    """Avellino's forecast for every (series, origin) in ``current``, chosen and calibrated on ``cv``.

    At each origin the best single candidate or the trimmed combination is used, whichever has the
    significantly better out-of-sample record over the last ``windows`` origins (:mod:`avellino.flows.select`);
    the intervals are calibrated on that strategy's out-of-sample errors. Intermittent-demand models are
    candidates only for the series in ``intermittent``. Origins with too few calibration windows fall back to
    AutoETS and its own intervals.
    """
    all_candidates = candidate_columns(current)
    parts, choices = [], []
    by_series = dict(tuple(cv.groupby("unique_id"))) if len(cv) else {}
    for uid, now in current.groupby("unique_id", sort=True):
        names = [c for c in all_candidates if uid in intermittent or c not in INTERMITTENT]
        history = by_series.get(uid, cv.iloc[0:0])
        h = int(horizon_steps(now).max())
        grid = _grid(history, now)
        f, y = _arrays(history, grid, h, names)
        f_now, _ = _arrays(now, grid, h, names)
        fresh = ~np.isnan(f_now).all(axis=(1, 2))
        f[fresh] = f_now[fresh]  # the origins forecast now (not in the back-test, or the same rows)
        series = select.Series(f, y, names)
        issued = select.strategy_forecasts(series, windows)
        for origin, rows in now.groupby("cutoff", sort=True):
            rows = rows.sort_values("ds")
            i = int(grid.get_loc(pd.Timestamp(origin)))
            out = rows[["unique_id", "ds", "cutoff"]].copy()
            strategy = select.choose(series, issued, i, windows)
            point = issued[strategy][i][: len(rows)]
            mae, _ = select.calibration_mae(series, i, windows)
            scored = {n: float(v) for n, v in zip(names, mae, strict=True) if np.isfinite(v)}
            if not np.isfinite(point).all():
                out[NAME] = rows["AutoETS"].to_numpy()
                for level in LEVELS:
                    out[f"{NAME}-lo-{level}"] = rows[f"AutoETS-lo-{level}"].to_numpy()
                    out[f"{NAME}-hi-{level}"] = rows[f"AutoETS-hi-{level}"].to_numpy()
                choices.append(Choice(str(uid), pd.Timestamp(origin), ("AutoETS",), scored))
                parts.append(out)
                continue
            if nonnegative:
                point = np.clip(point, 0, None)
            past, actual, steps = select.past_errors(series, issued[strategy], i, windows)
            out[NAME] = point
            for column, values in _intervals(point, past, actual, steps, nonnegative).items():
                out[column] = values
            used = select.weights(mae, strategy) > 0
            kept = tuple(n for n, u in zip(names, used, strict=True) if u)
            choices.append(Choice(str(uid), pd.Timestamp(origin), kept, scored, strategy))
            parts.append(out)
    return pd.concat(parts, ignore_index=True), choices
