"""How good are the early warnings? Precision, recall and lead time of surge alerts on each source's history.

A **surge** is a period whose count is at least ``SURGE_FACTOR`` (2) times the median of the ``TRAILING`` periods
before it (8 weeks, 6 months, 4 weeks of days, 3 years) and at least ``MIN_COUNT`` (a jump from 2 to 5 is not a
surge); consecutive surge periods form one *episode*, which starts at its first period (the onset). The rules
were fixed before any evaluation and nothing is tuned on it.

A rule raises an **alert** at an origin ``t`` (using only data up to ``t``) when its forecast of any of the next
``h`` periods reaches the surge threshold known at ``t`` (twice the median of the last ``TRAILING`` periods):

- ``avellino``: Avellino's point forecast (the same rolling-origin candidates and choice as ``flows backtest``,
  the fast model set refitted yearly, as in the briefing);
- ``avellino-80``: the upper bound of Avellino's 80% interval (more sensitive, less precise);
- ``naive``: the last observed value (the naive rule: "it is already surging").

An alert at ``t`` is **correct** when a surge period follows within ``t+1..t+h`` (precision = correct / alerts).
An episode is **caught** when an alert was raised at one of the ``h`` origins before its onset (recall = caught /
episodes); its **lead time** is the onset minus the earliest such alert, in periods (1..h). The naive rule can
only catch an episode that continues a surge already visible, so its recall on new episodes is a floor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from avellino.flows.backtest import candidates, evaluate
from avellino.flows.combine import NAME
from avellino.flows.data import FlowData
from avellino.flows.hierarchy import aggregate, level_of
from avellino.flows.models import CALIBRATION, REFIT, distinct_series, plain_ids

SURGE_FACTOR = 2.0
TRAILING = {"D": 28, "W": 8, "M": 6, "Y": 3}
MIN_COUNT = 10.0
HORIZON = {"D": 7, "W": 4, "M": 3, "Y": 1}
# Origins start once this many seasons of history are known (the candidates need two for a seasonal fit).
START_SEASONS = {"D": 8, "W": 2, "M": 2, "Y": 0}
DEEPEST = {"frontex": "route", "americas": "route"}  # nationality series are left out (many, small and noisy)
RULES = ("avellino", "avellino-80", "naive")


def surge_flags(y: np.ndarray, freq: str) -> tuple[np.ndarray, np.ndarray]:
    """Per period: whether it is a surge, and the threshold known at that period for the next one
    (``SURGE_FACTOR`` x the median of the last ``TRAILING`` values including it; NaN before enough history)."""
    n, w = len(y), TRAILING[freq]
    flags = np.zeros(n, dtype=bool)
    ahead = np.full(n, np.nan)
    for t in range(w - 1, n):
        median = float(np.median(y[t - w + 1 : t + 1]))
        ahead[t] = SURGE_FACTOR * median if median > 0 else np.nan
    prior = np.concatenate([[np.nan], ahead[:-1]])  # threshold for period t: from the w values before it
    flags = np.isfinite(prior) & (y >= prior) & (y >= MIN_COUNT)
    return flags, ahead


def onsets(flags: np.ndarray) -> np.ndarray:
    """Positions where an episode of consecutive surge periods starts."""
    before = np.concatenate([[False], flags[:-1]])
    return np.flatnonzero(flags & ~before)


@dataclass
class Score:
    alerts: int = 0
    correct: int = 0
    episodes: int = 0
    caught: int = 0
    leads: list[int] | None = None

    def add(self, other: Score) -> None:
        self.alerts += other.alerts
        self.correct += other.correct
        self.episodes += other.episodes
        self.caught += other.caught
        self.leads = (self.leads or []) + (other.leads or [])

    def to_dict(self) -> dict[str, float | int | None]:
        leads = self.leads or []
        return {
            "alerts": self.alerts,
            "precision": round(self.correct / self.alerts, 3) if self.alerts else None,
            "episodes": self.episodes,
            "recall": round(self.caught / self.episodes, 3) if self.episodes else None,
            "mean_lead": round(float(np.mean(leads)), 2) if leads else None,
        }


def score(alert: np.ndarray, flags: np.ndarray, h: int, valid: np.ndarray) -> Score:
    """Precision, recall and leads of ``alert`` (per origin) against ``flags`` (per period), counting only origins
    in ``valid`` (those the rule could be evaluated at, with ``h`` periods after them)."""
    n = len(flags)
    out = Score(leads=[])
    for t in np.flatnonzero(alert & valid):
        out.alerts += 1
        out.correct += bool(flags[t + 1 : min(n, t + 1 + h)].any())
    for onset in onsets(flags):
        window = np.arange(max(0, onset - h), onset)
        if not len(window) or not valid[window].all():
            continue  # the origins before this onset were not all forecast: it cannot be scored
        out.episodes += 1
        raised = window[alert[window]]
        if len(raised):
            out.caught += 1
            assert out.leads is not None
            out.leads.append(int(onset - raised.min()))
    return out


def series_alerts(
    y: np.ndarray, ds: pd.DatetimeIndex, forecasts: pd.DataFrame, freq: str, h: int
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Each rule's alerts per period of one series (origin = that period), the surge flags and which origins
    were forecast."""
    flags, threshold = surge_flags(y, freq)
    n = len(y)
    pos = ds.get_indexer(pd.DatetimeIndex(forecasts["cutoff"]))
    top = forecasts.assign(pos=pos).groupby("pos")[[NAME, f"{NAME}-hi-80"]].max()
    point = np.full(n, np.nan)
    upper = np.full(n, np.nan)
    point[top.index.to_numpy()] = top[NAME].to_numpy()
    upper[top.index.to_numpy()] = top[f"{NAME}-hi-80"].to_numpy()
    valid = np.isfinite(point) & np.isfinite(threshold) & (np.arange(n) + h < n)
    with np.errstate(invalid="ignore"):
        alerts = {
            "avellino": point >= np.maximum(threshold, MIN_COUNT),
            "avellino-80": upper >= np.maximum(threshold, MIN_COUNT),
            "naive": y >= np.maximum(threshold, MIN_COUNT),
        }
    return {k: v & valid for k, v in alerts.items()}, flags, valid


def evaluate_flow(flow: FlowData, progress: Callable[[str], None] | None = None) -> dict[str, object]:
    """The three rules' scores on every series of ``flow`` down to its route level (all levels for sources
    without routes), over every origin with enough history. Series too short for that are listed."""
    y_df, _, tags = aggregate(flow)
    levels = level_of(tags)
    y_df, _ = distinct_series(plain_ids(y_df))  # a series repeated at several levels is scored once
    deepest = DEEPEST.get(flow.name)
    if deepest and deepest in flow.levels:
        keep = set(flow.levels[: flow.levels.index(deepest) + 1])
        y_df = y_df[y_df["unique_id"].map(levels).isin(keep)]
    freq, h = flow.freq, HORIZON[flow.freq]
    season = {"D": 7, "W": 52, "M": 12, "Y": 1}[freq]
    start = max(START_SEASONS[freq] * season, TRAILING[freq]) + h + 8
    lengths = y_df.groupby("unique_id").size()
    short = sorted(str(u) for u in lengths.index[lengths < start + 2 * h])
    y_df = y_df[~y_df["unique_id"].isin(short)]
    totals = {rule: Score(leads=[]) for rule in RULES}
    out: dict[str, object] = {"source": flow.name, "freq": freq, "horizon": h}
    if y_df.empty:
        return {**out, "too_short": short, "series": 0, "rules": {r: s.to_dict() for r, s in totals.items()}}
    dates = np.sort(y_df["ds"].unique())
    cutoff = pd.Timestamp(dates[min(start, len(dates) - h - 1)])
    windows = min(CALIBRATION[freq], max(4, (len(dates) - start) // 4))
    say = (lambda msg: progress(f"{flow.name}: {msg}")) if progress else None
    found = candidates(y_df, freq, h, cutoff, say, windows, fast=True, refit=REFIT[freq])
    forecasts = evaluate(found).forecasts
    for uid, g in y_df.groupby("unique_id"):
        g = g.sort_values("ds")
        fc = forecasts[forecasts["unique_id"] == uid]
        alerts, flags, valid = series_alerts(g["y"].to_numpy(dtype=float), pd.DatetimeIndex(g["ds"]), fc, freq, h)
        for rule in RULES:
            totals[rule].add(score(alerts[rule], flags, h, valid))
    return {
        **out,
        "series": int(y_df["unique_id"].nunique()),
        "first_origin": str(found.first.date()),
        "too_short": short,
        "rules": {rule: s.to_dict() for rule, s in totals.items()},
    }
