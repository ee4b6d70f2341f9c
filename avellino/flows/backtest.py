"""Rolling-origin back-test: Avellino's combination against the statsforecast baselines.

Origins are every period from the cutoff (the last period on or before ``--cutoff``) to the last period that
still has ``horizon`` actuals after it; at each one every model is fitted on the data up to the origin only and
forecasts ``horizon`` periods. Avellino's choice of models and its conformal intervals at an origin use only
forecasts whose targets are known at that origin, so nothing from the future leaks in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from avellino.errors import ConfigError
from avellino.flows.combine import LEVELS, NAME, Choice, combine
from avellino.flows.models import (
    BASELINES,
    CALIBRATION,
    Setup,
    cross_validate,
    intermittent_ids,
    seasonal_scale,
)

REPORTED = [NAME, *BASELINES]
MIN_TRAIN = 8


@dataclass
class BacktestResult:
    origins: int
    forecasts: pd.DataFrame  # unique_id, ds, cutoff, y, scale, <model>, <model>-lo/hi-*
    choices: list[Choice]
    skipped: list[str]

    def metrics(self, frame: pd.DataFrame | None = None) -> dict[str, dict[str, float | None]]:
        frame = self.forecasts if frame is None else frame
        return {model: model_metrics(frame, model) for model in REPORTED if model in frame.columns}

    def to_json(self, per_series: bool = False) -> dict[str, object]:
        out: dict[str, object] = {"origins": self.origins, "models": self.metrics()}
        if per_series:
            out["series"] = {str(uid): self.metrics(g) for uid, g in self.forecasts.groupby("unique_id")}
        if self.skipped:
            out["skipped_series"] = self.skipped
        return out


def _num(value: float) -> float | None:
    return round(float(value), 4) if np.isfinite(value) else None


def model_metrics(frame: pd.DataFrame, model: str) -> dict[str, float | None]:
    """MASE (mean over series x origins of horizon MAE / in-sample seasonal-naive MAE), MAE, coverage."""
    err = (frame[model] - frame["y"]).abs()
    per_window = (err / frame["scale"]).groupby([frame["unique_id"], frame["cutoff"]]).mean()
    per_window = per_window[np.isfinite(per_window)]
    out = {"mase": _num(per_window.mean()) if len(per_window) else None, "mae": _num(err.mean())}
    for level in LEVELS:
        lo, hi = frame.get(f"{model}-lo-{level}"), frame.get(f"{model}-hi-{level}")
        inside = (frame["y"] >= lo) & (frame["y"] <= hi) if lo is not None and hi is not None else None
        out[f"coverage_{level}"] = _num(inside.mean()) if inside is not None else None
    return out


def _origins(df: pd.DataFrame, setup: Setup, cutoff: pd.Timestamp) -> tuple[pd.Timestamp, int]:
    """First origin and the number of origins (every period from the cutoff to the last one with h actuals)."""
    dates = np.sort(df["ds"].unique())
    before = dates[dates <= cutoff]
    if len(before) == 0:
        raise ConfigError(f"--cutoff {cutoff.date()} is before the first date in the data ({dates[0]}).")
    first = pd.Timestamp(before[-1])
    last = dates[-1 - setup.horizon] if len(dates) > setup.horizon else dates[0] - np.timedelta64(1, "D")
    n = int(np.sum((dates >= first) & (dates <= last)))
    if n <= 0:
        raise ConfigError(
            f"--cutoff {cutoff.date()} leaves no origin with {setup.horizon} later periods "
            f"(the data end on {pd.Timestamp(dates[-1]).date()})."
        )
    return first, n


def _scales(df: pd.DataFrame, season: int, cutoffs: np.ndarray) -> pd.DataFrame:
    rows = []
    for uid, g in df.groupby("unique_id"):
        g = g.sort_values("ds")
        ds, y = g["ds"].to_numpy(), g["y"].to_numpy(dtype=float)
        for c in cutoffs:
            rows.append((uid, pd.Timestamp(c), seasonal_scale(y[ds <= c], season)))
    return pd.DataFrame(rows, columns=["unique_id", "cutoff", "scale"])


@dataclass
class Candidates:
    """Every candidate's rolling-origin forecasts of a back-test (``cv``), before any choice is made."""

    df: pd.DataFrame
    setup: Setup
    cv: pd.DataFrame
    first: pd.Timestamp
    origins: int
    windows: int
    skipped: list[str]


def candidates(
    df: pd.DataFrame,
    freq: str,
    horizon: int,
    cutoff: pd.Timestamp,
    progress: Callable[[str], None] | None = None,
    windows: int | None = None,
    fast: bool = False,
    refit: bool | int = True,
) -> Candidates:
    """Fit every candidate at every origin from ``cutoff`` (and at the earlier origins that calibrate them).

    ``fast`` and ``refit`` as in :class:`avellino.flows.models.Setup` (the reported back-test refits every model
    at every origin)."""
    if horizon < 1:
        raise ConfigError("--horizon must be at least 1.")
    setup = Setup.for_freq(freq, horizon, fast, int(df.groupby("unique_id").size().min()), refit)
    first, n_origins = _origins(df, setup, cutoff)
    windows = windows or CALIBRATION[freq]
    lengths = df.groupby("unique_id").size()
    # Each series needs its calibration windows plus some training before them; shorter series lose
    # calibration windows first and are skipped only if they cannot cover the origins themselves.
    # Before the first origin: the calibration windows of the strategies' records and those of the candidates
    # at each record origin (:mod:`avellino.flows.select`).
    wanted = n_origins + 2 * (windows + horizon - 1)
    room = int((lengths - horizon - MIN_TRAIN).clip(lower=0).min())
    skipped = sorted(lengths.index[lengths - horizon - MIN_TRAIN < n_origins + horizon - 1].astype(str))
    if skipped:
        df = df[~df["unique_id"].isin(skipped)]
        if df.empty:
            raise ConfigError("Every series is too short for this cutoff and horizon.")
        lengths = df.groupby("unique_id").size()
        room = int((lengths - horizon - MIN_TRAIN).min())
    n_windows = max(min(wanted, room + 1), n_origins + horizon - 1)
    cv = cross_validate(df, setup, n_windows, progress=progress)
    return Candidates(df, setup, cv, first, n_origins, windows, skipped)


def evaluate(found: Candidates) -> BacktestResult:
    """Avellino's choice at every origin from the candidates' forecasts, with the MASE scale of each origin."""
    current = found.cv[found.cv["cutoff"] >= found.first]
    intermittent = intermittent_ids(found.df, found.setup.season)
    combined, choices = combine(current, found.cv, found.windows, intermittent)
    frame = current.merge(combined, on=["unique_id", "ds", "cutoff"])
    cutoffs = np.sort(frame["cutoff"].unique())
    frame = frame.merge(_scales(found.df, found.setup.season, cutoffs), on=["unique_id", "cutoff"])
    return BacktestResult(found.origins, frame, choices, found.skipped)


def backtest(
    df: pd.DataFrame,
    freq: str,
    horizon: int,
    cutoff: pd.Timestamp,
    progress: Callable[[str], None] | None = None,
    windows: int | None = None,
) -> BacktestResult:
    """Back-test ``df`` (``unique_id, ds, y``, regular periods of ``freq``) from ``cutoff``.

    ``windows``: calibration origins before each origin (default per frequency, see ``CALIBRATION``)."""
    return evaluate(candidates(df, freq, horizon, cutoff, progress, windows))
