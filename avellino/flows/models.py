"""The statsforecast models Avellino fits, and rolling-origin cross-validation over them.

Three groups are fitted: the *baselines* that every back-test reports (with statsforecast's own prediction
intervals), the *extra candidates* that only feed Avellino's combination (their intervals come from conformal
calibration, so they are fitted without ``level``, which several of them do not support), and *log-space*
candidates: AutoETS and AutoTheta fitted on ``log1p(y)`` and mapped back with ``expm1``. Why: counts vary
multiplicatively (a summer peak is a multiple of the winter level, not a fixed number more) and the log
stabilises their variance; the back-transformed forecast is a median, which is what MAE rewards. Weighted-median
levels (:mod:`avellino.flows.robust`) and an autoregression pooled across all series (:mod:`avellino.flows.pooled`)
are added after fitting.
"""

from __future__ import annotations

import hashlib
import math
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from avellino.flows.data import FREQ_ALIASES, SEASON
from avellino.flows.pooled import NAME as POOLED
from avellino.flows.pooled import add_pooled
from avellino.flows.robust import add_robust

BASELINES = ["Naive", "SeasonalNaive", "AutoETS", "AutoARIMA", "AutoTheta"]
INTERMITTENT = ["CrostonSBA", "ADIDA"]
# A series is treated as intermittent when at least this share of its recent periods are zero (e.g. Channel
# crossings in bad-weather weeks, small routes in quiet months).
ZERO_SHARE = 0.3
# Calibration windows (rolling origins before the one forecast) per frequency: about one year of weekly data,
# two of monthly data, eight weeks of daily data. Enough residuals per horizon step for a 95% quantile.
CALIBRATION = {"D": 56, "W": 52, "M": 24, "Y": 6}
# Window of the moving-average candidate: about two months of data.
WINDOW = {"D": 56, "W": 8, "M": 2, "Y": 1}
# ``forecast``'s calibration back-test re-estimates each model about once a year (every REFIT origins) and, in
# between, runs the fitted model forward over the new observations (statsforecast's ``refit``): same model
# form and parameters, state updated with every new period. Fitting is most of the cost (AutoARIMA and AutoETS
# search their model forms at every fit), so this makes the whole Frontex hierarchy ~6x cheaper; the forecasts
# issued from the last period are still fitted afresh on all the data. ``backtest`` refits at every origin, so
# the baselines it reports are the textbook ones.
REFIT: dict[str, bool | int] = {"D": 28, "W": 13, "M": 12, "Y": 1}


@dataclass(frozen=True)
class Setup:
    """What to fit: frequency (D, W, M, Y), horizon, season length and history kept at each origin."""

    freq: str
    horizon: int
    season: int
    max_history: int | None = None
    fast: bool = False
    #: True: every model is refitted at every origin; n: every n origins, run forward in between.
    refit: bool | int = True

    @classmethod
    def for_freq(
        cls, freq: str, horizon: int, fast: bool = False, min_length: int | None = None, refit: bool | int = True
    ) -> Setup:
        # Four seasons of history (six for monthly data) for the "-recent" candidates: old regimes
        # (pre-2019 Channel numbers, the 2015 Aegean surge) age out of them -- a defence against breaks.
        season = SEASON[freq]
        if min_length is not None and min_length < 2 * season + horizon:
            season = 1  # under two seasons of data a seasonal pattern cannot be estimated (nor MSTL fitted)
        history = {"D": 730, "W": 4 * 52, "M": 6 * 12, "Y": None}[freq]
        return cls(freq, horizon, season, history, fast, refit)

    @property
    def sf_freq(self) -> str:
        return FREQ_ALIASES[self.freq]


def baseline_models(setup: Setup) -> list[Any]:
    """The five reported baselines. Seasonal ARIMA is limited to monthly data: with period 52 one fit takes
    ~15 s and rarely keeps seasonal terms, so weekly and daily ARIMA are non-seasonal (ETS and Theta carry the
    seasonality there). ``Setup.fast`` (briefings, quick looks) leaves AutoARIMA out: it is the slowest fit."""
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta, Naive, SeasonalNaive

    m = setup.season
    models = [Naive(), SeasonalNaive(season_length=m), AutoETS(season_length=m), AutoTheta(season_length=m)]
    if not setup.fast:
        # approximation=True (CSS during the order search, as R's auto.arima does for long series): about
        # 5x faster on monthly data with near-identical forecasts.
        models.insert(3, AutoARIMA(season_length=m if m <= 12 else 1, approximation=True))
    return models


def extra_models(setup: Setup, intermittent: bool) -> list[Any]:
    """Candidates that only enter Avellino's combination; they are fitted on the recent history only
    (``Setup.max_history``), so after a structural break they follow the new regime while the full-history
    baselines remember the old one, and the back-test decides which to trust."""
    from statsforecast.models import ADIDA, MSTL, AutoETS, AutoTheta, CrostonSBA, WindowAverage

    m = setup.season
    extra: list[Any] = [WindowAverage(window_size=WINDOW[setup.freq], alias="WindowAverage")]
    if not setup.fast:
        extra += [
            AutoETS(season_length=m, alias="AutoETS-recent"),
            AutoTheta(season_length=m, alias="AutoTheta-recent"),
        ]
    if setup.season > 1:
        trend = AutoETS(model="ZZN")
        extra.append(MSTL(season_length=setup.season, trend_forecaster=trend, alias="MSTL"))
    if intermittent:
        extra += [CrostonSBA(), ADIDA()]
    return extra


def log_models(setup: Setup) -> list[Any]:
    """Candidates fitted on ``log1p(y)`` (only for series without negative values; not in ``fast`` mode)."""
    from statsforecast.models import AutoETS, AutoTheta

    m = setup.season
    return [AutoETS(season_length=m, alias="AutoETS-log"), AutoTheta(season_length=m, alias="AutoTheta-log")]


LOG_CANDIDATES = ["AutoETS-log", "AutoTheta-log"]
# Forecasts mapped back from log space, which ``add_robust`` caps (see ``robust.LOG_CAP``).
CAPPED = [*LOG_CANDIDATES, POOLED]


def _log_ready(df: pd.DataFrame, setup: Setup) -> pd.DataFrame | None:
    """``df`` in log1p space, or None when log candidates are off (fast mode, negative values)."""
    if setup.fast or bool((df["y"] < 0).any()):
        return None
    return df.assign(y=np.log1p(df["y"]))


def _from_log(frame: pd.DataFrame) -> pd.DataFrame:
    for column in LOG_CANDIDATES:
        frame[column] = np.expm1(frame[column].astype(float))
    return frame


def intermittent_ids(df: pd.DataFrame, season: int) -> set[str]:
    """Series whose last two seasons (at least 24 periods) are at least ``ZERO_SHARE`` zeros."""
    recent = df.groupby("unique_id").tail(max(2 * season, 24))
    share = recent["y"].eq(0).groupby(recent["unique_id"]).mean()
    return set(share.index[share >= ZERO_SHARE])


def cores() -> int:
    """Worker processes for statsforecast: one per core, at most four."""
    return max(1, min(4, os.cpu_count() or 1))


def n_jobs(n_series: int) -> int:
    """Parallel series fits. statsforecast spawns worker processes: worth it only for many series."""
    return 1 if n_series < 8 else cores()


# Each part of a split back-test keeps at least this many origins (fewer: the fork is not worth it).
MIN_PART_WINDOWS = 8


def window_parts(n_series: int, n_windows: int, available: int | None = None) -> int:
    """How many parts to split each series' back-test origins into, so that a back-test of one or a few long
    series uses every core (statsforecast only runs *series* in parallel). 1 = no split."""
    available = cores() if available is None else available
    if n_series >= available:
        return 1
    return max(1, min(math.ceil(available / n_series), n_windows // MIN_PART_WINDOWS))


def _split_windows(df: pd.DataFrame, n_windows: int, parts: int) -> tuple[pd.DataFrame, int, dict[str, Any]]:
    """Copies of every series, each ending ``offset`` periods early, such that the last ``size`` origins of
    the copies together are the last ``n_windows`` origins of the series. A fit at an origin only reads data
    up to it, so every origin's forecast is the same as in one back-test over the whole series.
    Returns the stacked copies (new ``unique_id`` per copy), ``size`` and the map back to the original ids."""
    size = math.ceil(n_windows / parts)
    df = df.sort_values(["unique_id", "ds"])
    offsets = sorted({min(j * size, n_windows - size) for j in range(parts)})
    from_end = df.groupby("unique_id", sort=False).cumcount(ascending=False)
    copies, original = [], {}
    number = {uid: i for i, uid in enumerate(df["unique_id"].unique())}  # ids as text could collide (1, "1")
    for offset in offsets:
        part = df[from_end >= offset]
        keys = {uid: f"{offset:06d}:{number[uid]:06d}" for uid in part["unique_id"].unique()}
        original.update({key: uid for uid, key in keys.items()})
        copies.append(part.assign(unique_id=part["unique_id"].map(keys)))
    return pd.concat(copies, ignore_index=True), size, original


def _quiet_cv(
    models: list[Any],
    df: pd.DataFrame,
    setup: Setup,
    n_windows: int,
    level: list[int] | None,
    history: int | None,
    jobs: int | None,
) -> pd.DataFrame:
    """statsforecast's rolling-origin cross-validation of ``models``, without its warnings. Series are fitted
    in parallel (``jobs`` worker processes; by default one per core unless there are only a few fits); with
    fewer series than cores, each series' origins are also split into parts (:func:`_split_windows`). The
    forecasts are the same either way."""
    from statsforecast import StatsForecast

    n_series = int(df["unique_id"].nunique())
    parts = window_parts(n_series, n_windows) if jobs is None else 1
    original: dict[str, Any] = {}
    if parts > 1:
        df, n_windows, original = _split_windows(df, n_windows, parts)
    if jobs is None:
        # One fit per series and origin: with as many fits as this, worker processes pay for themselves.
        enough = n_series * n_windows >= 2 * MIN_PART_WINDOWS
        jobs = min(n_series * parts, cores()) if enough else 1
    # Models without a ``forward`` method (the cheap moving averages) are refitted at every origin regardless.
    forward = [m for m in models if hasattr(m, "forward")] if setup.refit is not True else []
    groups = [(forward, setup.refit), ([m for m in models if m not in forward], True)]
    frames = []
    for group, refit in groups:
        if not group:
            continue
        sf = StatsForecast(models=group, freq=setup.sf_freq, n_jobs=jobs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frames.append(
                sf.cross_validation(
                    df=df,
                    h=setup.horizon,
                    n_windows=n_windows,
                    step_size=1,
                    level=level,
                    input_size=history,
                    refit=refit,
                )
            )
    out: pd.DataFrame = frames[0]
    for more in frames[1:]:
        out = out.merge(more.drop(columns="y"), on=["unique_id", "ds", "cutoff"], how="left")
    if len(frames) > 1:  # columns in the models' order, as one cross-validation would give them
        names = [repr(m) for m in models]
        rank = {
            c: names.index(c.split("-lo-")[0].split("-hi-")[0])
            for c in out.columns
            if c.split("-lo-")[0].split("-hi-")[0] in names
        }
        keys = [c for c in out.columns if c not in rank]
        out = out[keys + sorted(rank, key=lambda c: rank[c])]
    if original:
        out["unique_id"] = out["unique_id"].map(original)
        # Overlapping parts forecast some origins twice, identically: keep one.
        out = out.drop_duplicates(["unique_id", "ds", "cutoff"]).sort_values(["unique_id", "cutoff", "ds"])
        out = out.reset_index(drop=True)
    return out


def distinct_series(df: pd.DataFrame) -> tuple[pd.DataFrame, dict[Any, Any]]:
    """``df`` with each set of identical series (same dates, same values) kept once, and ``twins``: each dropped
    id -> the id kept in its place. A hierarchy often repeats a series at several levels (UK arrivals are one
    route in one region: global = region = route), and fitting it once per level only costs time."""
    kept: dict[bytes, Any] = {}
    twins: dict[Any, Any] = {}
    for uid, g in df.sort_values(["unique_id", "ds"]).groupby("unique_id", sort=True, observed=True):
        key = hashlib.sha1(pd.util.hash_pandas_object(g[["ds", "y"]], index=False).to_numpy().tobytes()).digest()
        if key in kept:
            twins[uid] = kept[key]
        else:
            kept[key] = uid
    return (df[~df["unique_id"].isin(list(twins))] if twins else df), twins


def plain_ids(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with categorical series ids made plain: copies and split parts are re-labelled with plain ids, and
    unused categories would come back as empty series."""
    if isinstance(df["unique_id"].dtype, pd.CategoricalDtype):
        return df.assign(unique_id=df["unique_id"].astype(object))
    return df


def with_twins(frame: pd.DataFrame, twins: dict[Any, Any]) -> pd.DataFrame:
    """``frame`` (rows by ``unique_id``) with each twin given a copy of the rows of the series kept for it."""
    if not twins:
        return frame
    copies = [frame[frame["unique_id"] == kept].assign(unique_id=twin) for twin, kept in twins.items()]
    return pd.concat([frame, *copies], ignore_index=True)


def cross_validate(
    df: pd.DataFrame,
    setup: Setup,
    n_windows: int,
    jobs: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Rolling-origin forecasts of every model: one row per (series, origin ``cutoff``, target ``ds``).

    Baselines carry ``<model>-lo-80`` ... ``-hi-95`` columns; extra candidates carry point forecasts only.
    ``jobs``: worker processes (default: one per core when there is enough work, see :func:`window_parts`).
    ``progress`` is told which group of models is being fitted.
    """
    full = plain_ids(df)
    df, twins = distinct_series(full)
    intermittent = bool(intermittent_ids(df, setup.season))
    logged = _log_ready(df, setup)
    groups = 3 if logged is not None else 2
    what = f"{df['unique_id'].nunique()} series x {n_windows} origins"

    def say(step: int, name: str) -> None:
        if progress:
            progress(f"fitting {name} ({step}/{groups}): {what}")

    say(1, "baselines")
    cv = _quiet_cv(baseline_models(setup), df, setup, n_windows, [80, 95], None, jobs)
    say(2, "extra candidates")
    more = _quiet_cv(extra_models(setup, intermittent), df, setup, n_windows, None, setup.max_history, jobs)
    merged = cv.merge(more.drop(columns="y"), on=["unique_id", "ds", "cutoff"], how="left")
    if logged is not None:
        say(3, "log-space candidates")
        in_log = _from_log(_quiet_cv(log_models(setup), logged, setup, n_windows, None, None, jobs).drop(columns="y"))
        merged = merged.merge(in_log, on=["unique_id", "ds", "cutoff"], how="left")
    merged = add_pooled(merged, full, setup.freq)
    merged = add_robust(with_twins(merged, twins), full, setup.freq, CAPPED)
    return merged.reset_index(drop=True)


def forecast_now(df: pd.DataFrame, setup: Setup, jobs: int | None = None) -> pd.DataFrame:
    """Forecasts of every model from the end of each series (``cutoff`` = its last date)."""
    from statsforecast import StatsForecast

    full = plain_ids(df)
    df, twins = distinct_series(full)
    jobs = jobs or n_jobs(df["unique_id"].nunique())
    intermittent = bool(intermittent_ids(df, setup.season))
    frames = []
    recent = df.groupby("unique_id").tail(setup.max_history) if setup.max_history else df
    groups = ((baseline_models(setup), [80, 95], df), (extra_models(setup, intermittent), None, recent))
    for models, level, train in groups:
        sf = StatsForecast(models=models, freq=setup.sf_freq, n_jobs=jobs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frames.append(sf.forecast(df=train, h=setup.horizon, level=level))
    logged = _log_ready(df, setup)
    if logged is not None:
        sf = StatsForecast(models=log_models(setup), freq=setup.sf_freq, n_jobs=jobs)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            frames.append(_from_log(sf.forecast(df=logged, h=setup.horizon)))
    out = frames[0]
    for more in frames[1:]:
        out = out.merge(more, on=["unique_id", "ds"], how="left")
    last = df.groupby("unique_id")["ds"].max().rename("cutoff")
    out = add_pooled(out.merge(last, left_on="unique_id", right_index=True), full, setup.freq)
    return add_robust(with_twins(out, twins), full, setup.freq, CAPPED)


def candidate_columns(frame: pd.DataFrame) -> list[str]:
    """Point-forecast columns present in a cross-validation or forecast frame."""
    skip = {"unique_id", "ds", "cutoff", "y"}
    return [c for c in frame.columns if c not in skip and "-lo-" not in c and "-hi-" not in c]


def seasonal_scale(y: np.ndarray, season: int) -> float:
    """In-sample MAE of the seasonal naive forecast: the MASE denominator (falls back to naive, lag 1)."""
    lag = season if len(y) > season else 1
    if len(y) <= lag:
        return float("nan")
    return float(np.mean(np.abs(y[lag:] - y[:-lag])))
