"""Choosing between the best single candidate and the trimmed combination on their own honest records.

Why: a combination of candidates can lose to the single candidate its back-test ranks first, and a single
"best" candidate chosen on noisy windows can lose to the combination; which one wins differs by series (UK weeks
are weather noise around a level, Frontex routes break regime). So both *strategies* are run at every past origin
exactly as they would have been run then (each from the calibration windows known at that origin), which gives
each an out-of-sample record; at a new origin the default strategy, the trimmed combination (the better one on
every back-test before 2024), is left for the best single candidate only when that one's record is better with
a one-sided paired t statistic on the per-origin errors below ``-T_STAT``: a switch between close strategies is
mostly noise and costs accuracy, so it is made only on strong evidence.

The conformal intervals are calibrated on the *chosen* strategy's out-of-sample errors (not on the in-sample fit
of the kept candidates), so the bounds describe the forecasts actually issued.

Everything works on one series at a time as arrays ``(origins, steps, candidates)``: origins are consecutive
periods (a statsforecast cross-validation with ``step_size=1``), so the row of origin ``j`` and step ``k`` is
known at origin ``i`` exactly when ``j + k <= i`` (steps counted from 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# Fewer calibration windows than this and a strategy is not run at an origin (no forecast, no record there).
MIN_WINDOWS = 6
# The default strategy is left only when the other's record is better with t below -T_STAT.
T_STAT = 2.0
# Candidates within TRIM x the best calibration MAE form the combination (see :mod:`avellino.flows.combine`).
TRIM = 1.3
BEST, TRIMMED = "best", "trimmed"
STRATEGIES = (BEST, TRIMMED)
# The strategy used unless the other one's record is significantly better. The trimmed combination: on the
# back-tests before 2024 it beat the best single candidate chosen the same way (UK weekly, origins 2021-06..2023-12:
# MASE 2.250 against 2.333, and against 2.312 for the best baseline, AutoTheta; benchmarks/flows_selection.py).
DEFAULT = TRIMMED


@dataclass
class Series:
    """One series' back-test as arrays: ``f`` (origins, h, candidates) forecasts, ``y`` (origins, h) actuals."""

    f: np.ndarray
    y: np.ndarray
    names: list[str]


@dataclass
class Picked:
    """At one origin: the strategy used, the candidates it averaged and every complete candidate's MAE."""

    strategy: str
    models: tuple[str, ...]
    mae: dict[str, float]


def past(s: Series, i: int, windows: int) -> tuple[np.ndarray, np.ndarray]:
    """The last ``windows + h - 1`` back-tested origins before ``i`` (positions) and the (origins, h) mask of
    their rows whose targets are known at ``i``. Origins without actuals (forecast from the last observation)
    are not back-tested and are skipped."""
    h = s.y.shape[1]
    tested = np.flatnonzero(np.isfinite(s.y[:i]).any(axis=1))[-(windows + h - 1) :]
    k = np.arange(1, h + 1)[None, :]
    return tested, np.asarray((tested[:, None] + k) <= i)


def calibration_mae(s: Series, i: int, windows: int) -> tuple[np.ndarray, int]:
    """MAE of every candidate at origin ``i`` over the rows known then, from the last ``windows + h - 1``
    back-tested origins (NaN for a candidate missing a forecast in any of them), and how many of those origins
    have every row known."""
    tested, mask = past(s, i, windows)
    if not len(tested):
        return np.full(s.f.shape[2], np.nan), 0
    f, y = s.f[tested][mask], s.y[tested][mask]  # (rows, candidates), (rows,)
    err = np.abs(f - y[:, None])
    mae = err.mean(axis=0)  # NaN wherever a candidate misses a row
    complete = int(mask.all(axis=1).sum())
    return mae, complete


def weights(mae: np.ndarray, strategy: str, trim: float = TRIM) -> np.ndarray:
    """Weights over candidates: one-hot on the lowest MAE (``best``) or equal over those within ``trim`` x it."""
    w = np.zeros(len(mae))
    ok = np.isfinite(mae)
    if not ok.any():
        return w
    lowest = float(np.nanmin(mae))
    if strategy == BEST:
        w[int(np.nanargmin(mae))] = 1.0
    else:
        kept = ok & (mae <= trim * lowest + 1e-12)
        w[kept] = 1.0 / kept.sum()
    return w


def strategy_forecasts(s: Series, windows: int) -> dict[str, np.ndarray]:
    """Each strategy's forecast (origins, h) at every origin, as it would have been issued then (NaN where too
    few calibration windows were known)."""
    n, h, _ = s.f.shape
    out = {name: np.full((n, h), np.nan) for name in STRATEGIES}
    for i in range(n):
        mae, complete = calibration_mae(s, i, windows)
        if complete < min(MIN_WINDOWS, windows):
            continue
        for name in STRATEGIES:
            w = weights(mae, name)
            if w.sum() == 0:
                continue
            used = w > 0
            out[name][i] = s.f[i][:, used] @ w[used]
    return out


def paired_t(diff: np.ndarray) -> float:
    """t statistic of the mean of ``diff`` (0 when it cannot be computed)."""
    diff = diff[np.isfinite(diff)]
    if len(diff) < 3:
        return 0.0
    sd = float(diff.std(ddof=1))
    if sd == 0:
        return 0.0 if float(diff.mean()) == 0 else math.copysign(math.inf, float(diff.mean()))
    return float(diff.mean() / (sd / math.sqrt(len(diff))))


def record(s: Series, issued: dict[str, np.ndarray], i: int, windows: int) -> dict[str, np.ndarray]:
    """Per strategy, its mean absolute error per past origin known at ``i`` (last ``windows + h - 1`` origins;
    only origins that every strategy forecast and whose rows are all known count, so they are compared on the
    same periods)."""
    tested, mask = past(s, i, windows)
    whole = mask.all(axis=1)
    losses = {name: np.abs(f[tested] - s.y[tested]).mean(axis=1) for name, f in issued.items()}
    both = whole & np.logical_and.reduce([np.isfinite(v) for v in losses.values()])
    return {name: v[both] for name, v in losses.items()}


def choose(s: Series, issued: dict[str, np.ndarray], i: int, windows: int, t_stat: float | None = None) -> str:
    """The strategy used at origin ``i``: ``DEFAULT`` unless the other one's record beats it with t < -t_stat
    (default ``T_STAT``)."""
    t_stat = T_STAT if t_stat is None else t_stat
    other = BEST if DEFAULT == TRIMMED else TRIMMED
    rec = record(s, issued, i, windows)
    if len(rec[BEST]) < min(MIN_WINDOWS, windows):
        return DEFAULT
    return other if paired_t(rec[other] - rec[DEFAULT]) < -t_stat else DEFAULT


def past_errors(s: Series, issued: np.ndarray, i: int, windows: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Out-of-sample rows of one strategy known at ``i``: forecast, actual and horizon step (1..h)."""
    tested, mask = past(s, i, windows)
    mask = mask & np.isfinite(issued[tested])
    steps = np.broadcast_to(np.arange(1, s.y.shape[1] + 1), mask.shape)
    return issued[tested][mask], s.y[tested][mask], steps[mask]
