"""Hierarchy (nationality -> route -> region -> global) and reconciliation with hierarchicalforecast.

Forecasts made series by series do not add up: the route forecasts need not sum to the regional one. MinTrace
with structural weights (``wls_struct``) makes them coherent without needing in-sample residuals, and its
non-negative variant keeps counts >= 0. Interval bounds are not additive, so each reconciled interval keeps its
series' conformal width, moved by the shift reconciliation applied to the point forecast.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from avellino.flows.combine import LEVELS, NAME
from avellino.flows.data import FREQ_ALIASES, FlowData

RECONCILED = "reconciled"


def balanced(flow: FlowData) -> pd.DataFrame:
    """Bottom series on one common date range (absent periods are zero counts), as aggregate() expects."""
    frame = flow.frame
    span = pd.date_range(frame["ds"].min(), frame["ds"].max(), freq=FREQ_ALIASES[flow.freq])
    keys = frame[flow.levels].drop_duplicates()
    grid = keys.merge(pd.DataFrame({"ds": span}), how="cross")
    out = grid.merge(frame[[*flow.levels, "ds", "y"]], on=[*flow.levels, "ds"], how="left")
    return out.fillna({"y": 0.0})


def aggregate(flow: FlowData) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, np.ndarray]]:
    """``Y_df`` (every level's ``unique_id, ds, y``), summing matrix ``S_df`` and ``tags`` per level."""
    from hierarchicalforecast.utils import aggregate as hf_aggregate

    spec = [flow.levels[: i + 1] for i in range(len(flow.levels))]
    y_df, s_df, tags = hf_aggregate(balanced(flow), spec)
    # Name each level by its own column (``route``) rather than the joined spec (``global/region/route``).
    named = {flow.levels[len(key.split("/")) - 1]: ids for key, ids in tags.items()}
    return y_df, s_df, named


def level_of(tags: dict[str, np.ndarray]) -> dict[str, str]:
    return {str(uid): level for level, ids in tags.items() for uid in ids}


def reconcile(forecast: pd.DataFrame, s_df: pd.DataFrame, tags: dict[str, np.ndarray]) -> pd.DataFrame:
    """Add ``reconciled`` (+ ``reconciled-lo/hi-*``) columns to Avellino's forecasts of every hierarchy node."""
    from hierarchicalforecast.core import HierarchicalReconciliation
    from hierarchicalforecast.methods import MinTrace

    hat = forecast[["unique_id", "ds", NAME]]
    reconciler: Any = HierarchicalReconciliation(reconcilers=[MinTrace(method="wls_struct", nonnegative=True)])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = reconciler.reconcile(Y_hat_df=hat, S_df=s_df, tags=tags)
    column = next(c for c in out.columns if c.startswith(f"{NAME}/"))
    merged = forecast.merge(out[["unique_id", "ds", column]], on=["unique_id", "ds"], how="left")
    merged = merged.rename(columns={column: RECONCILED})
    shift = merged[RECONCILED] - merged[NAME]
    for level in LEVELS:
        merged[f"{RECONCILED}-lo-{level}"] = (merged[f"{NAME}-lo-{level}"] + shift).clip(lower=0)
        merged[f"{RECONCILED}-hi-{level}"] = merged[f"{NAME}-hi-{level}"] + shift
    return merged


def incoherence(forecast: pd.DataFrame, s_df: pd.DataFrame, column: str = RECONCILED) -> float:
    """Largest absolute gap between any node's forecast and the sum of its bottom series (0 when coherent)."""
    s = s_df.set_index("unique_id")
    bottom = list(s.columns)
    wide = forecast.pivot(index="unique_id", columns="ds", values=column)
    summed = s.to_numpy() @ wide.loc[bottom].to_numpy()
    return float(np.max(np.abs(wide.loc[s.index].to_numpy() - summed)))
