"""Early warnings: an observation above its forecast's upper bound, or a forecast surge above the seasonal norm.

Each alert names the series, the period, its size (absolute and as a ratio) and a confidence: 95 when the 95%
bound is crossed, 80 when only the 80% one is. With well-calibrated intervals an 80% exceedance happens by chance
about one period in ten, a 95% one about one in forty: that is what "confidence" means here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

import numpy as np
import pandas as pd

from avellino.flows.combine import LEVELS, NAME
from avellino.flows.forecast import FlowForecast
from avellino.flows.models import distinct_series, plain_ids

# A surge must also be material: at least this much above the seasonal norm, so that tiny series do not alert.
SURGE_RATIO = 1.25
NORM_YEARS = 3


@dataclass(frozen=True)
class Alert:
    kind: str  # "exceedance" or "surge"
    series: str
    level: str
    ds: str
    value: float  # the observation (exceedance) or the forecast (surge)
    reference: float  # the upper bound crossed, or the seasonal norm
    size: float  # value - reference
    ratio: float  # value / reference
    confidence: int  # 80 or 95
    #: Levels below ``level`` whose series is an identical copy of this one (a region with one route): the
    #: alert stands for them too and is not repeated for each.
    also_levels: tuple[str, ...] = ()

    def message(self) -> str:
        what = "observed" if self.kind == "exceedance" else "forecast"
        ref = "its forecast's upper bound" if self.kind == "exceedance" else "the seasonal norm"
        plural = "s" if len(self.also_levels) > 1 else ""
        copies = f" (the same series at level{plural} {', '.join(self.also_levels)})" if self.also_levels else ""
        return (
            f"{self.series} ({self.ds}): {what} {self.value:,.0f} is {self.size:,.0f} above {ref} "
            f"{self.reference:,.0f} (x{self.ratio:.2f}); confidence {self.confidence}%{copies}"
        )

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "message": self.message()}


def _confidence(value: float, bounds: dict[int, float]) -> int | None:
    for level in sorted(LEVELS, reverse=True):
        if value > bounds[level]:
            return level
    return None


def exceedances(result: FlowForecast) -> list[Alert]:
    """Recent observations above the upper bound of the forecast made one period before them."""
    alerts = []
    for rec in result.recent.to_dict("records"):
        bounds = {level: float(rec[f"{NAME}-hi-{level}"]) for level in LEVELS}
        value = float(rec["y"])
        conf = _confidence(value, bounds)
        if conf is None:
            continue
        ref = bounds[conf]
        alerts.append(
            Alert(
                "exceedance",
                str(rec["unique_id"]),
                result.levels.get(str(rec["unique_id"]), ""),
                pd.Timestamp(rec["ds"]).date().isoformat(),
                value,
                ref,
                value - ref,
                value / ref if ref > 0 else float("inf"),
                conf,
            )
        )
    return alerts


def seasonal_norm(history: pd.DataFrame, uid: str, ds: pd.Timestamp, freq: str, years: int = NORM_YEARS) -> float:
    """Mean of the same period in the previous ``years`` years (NaN when none is in the history)."""
    past = history[history["unique_id"] == uid].set_index("ds")["y"]
    if freq == "W":
        # Weeks do not repeat on the same date: take the week nearest to the same date each year.
        idx = past.index
        picks = [idx[np.argmin(np.abs((idx - (ds - pd.DateOffset(years=k))).days))] for k in range(1, years + 1)]
        picks = [
            p
            for p, k in zip(picks, range(1, years + 1), strict=True)
            if abs((p - (ds - pd.DateOffset(years=k))).days) <= 3
        ]
    else:
        picks = [ds - pd.DateOffset(years=k) for k in range(1, years + 1)]
    values = past.reindex(picks).dropna()
    return float(values.mean()) if len(values) else float("nan")


def surges(result: FlowForecast, ratio: float = SURGE_RATIO) -> list[Alert]:
    """Forecast periods whose lower bound is above the seasonal norm and whose point is ``ratio`` x above it."""
    point = result.point
    alerts = []
    for rec in result.forecast.to_dict("records"):
        uid, ds = str(rec["unique_id"]), pd.Timestamp(rec["ds"])
        norm = seasonal_norm(result.history, uid, ds, result.flow.freq)
        value = float(rec[point])
        if not np.isfinite(norm) or norm <= 0 or value < ratio * norm:
            continue
        lows = {level: float(rec[f"{point}-lo-{level}"]) for level in LEVELS}
        conf = next((lv for lv in sorted(LEVELS, reverse=True) if lows[lv] > norm), None)
        if conf is None:
            continue
        alerts.append(
            Alert(
                "surge",
                uid,
                result.levels.get(uid, ""),
                ds.date().isoformat(),
                value,
                norm,
                value - norm,
                value / norm,
                conf,
            )
        )
    return alerts


def copies_of_ancestors(result: FlowForecast) -> dict[str, str]:
    """Each series that is an identical copy (same periods, same values) of one of its ancestors -> the highest
    such ancestor. A hierarchy repeats a series at every level where it has a single child (UK arrivals:
    global = region = route), and their forecasts and alerts are then identical too."""
    _, twins = distinct_series(plain_ids(result.history))
    # distinct_series keeps the first id in sorted order, and an ancestor's id is a prefix of its descendants'.
    return {str(t): str(k) for t, k in twins.items() if str(t).startswith(f"{k}/")}


def _merge_copies(found: list[Alert], copies: dict[str, str], levels: dict[str, str]) -> list[Alert]:
    also: dict[str, list[str]] = {}
    for copy, kept in sorted(copies.items()):
        also.setdefault(kept, []).append(levels.get(copy, copy))
    return [
        replace(a, also_levels=tuple(also.get(a.series, ()))) if a.series in also else a
        for a in found
        if a.series not in copies
    ]


def all_alerts(result: FlowForecast) -> list[Alert]:
    """Exceedances then surges, each sorted by confidence then size; one alert for a series and its identical
    copies at lower levels (``also_levels`` names them)."""
    key = lambda a: (-a.confidence, -a.size)  # noqa: E731
    found = sorted(exceedances(result), key=key) + sorted(surges(result), key=key)
    return _merge_copies(found, copies_of_ancestors(result), result.levels)
