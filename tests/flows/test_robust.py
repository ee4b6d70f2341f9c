"""Weighted-median level candidates and the log-forecast guard (avellino.flows.robust)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from avellino.flows import robust


def _series(values: list[float]) -> pd.DataFrame:
    ds = pd.date_range("2023-01-01", periods=len(values), freq="MS")
    return pd.DataFrame({"unique_id": "s", "ds": ds, "y": values})


def test_half_lives_are_calendar_time_for_every_frequency() -> None:
    assert robust.half_lives("M") == [2, 3, 4, 6, 12]
    assert robust.half_lives("W") == [9, 13, 17, 26, 52]
    assert robust.half_lives("D")[-1] == 365
    assert robust.half_lives("Y") == [1]


def test_weighted_median_ignores_a_burst_but_follows_a_lasting_shift() -> None:
    burst = _series([100.0] * 11 + [5000.0])
    shift = _series([100.0] * 9 + [300.0] * 3)
    origin = pd.DataFrame({"unique_id": ["s"], "cutoff": [burst["ds"].iloc[-1]]})
    at_burst = robust.robust_levels(burst, origin, "M")
    at_shift = robust.robust_levels(shift, origin, "M")
    assert (at_burst.filter(like=robust.PREFIX).to_numpy() == 100.0).all()
    # Three months at the new level: over half the weight with a two-month half-life, not with a year's.
    assert at_shift["EWMedian2"].iloc[0] == 300.0 and at_shift["EWMedian12"].iloc[0] == 100.0


def test_levels_read_only_data_up_to_each_cutoff() -> None:
    df = _series([10.0] * 6 + [900.0] * 6)
    origins = pd.DataFrame({"unique_id": "s", "cutoff": df["ds"].iloc[[5, 11]].to_numpy()})
    levels = robust.robust_levels(df, origins, "M").sort_values("cutoff")
    assert (levels.filter(like=robust.PREFIX).iloc[0] == 10.0).all()
    assert levels["cap"].iloc[0] == robust.LOG_CAP * 11.0


def test_add_robust_caps_exploding_log_forecasts() -> None:
    df = _series([10.0, 12.0, 11.0, 9.0])
    cutoff = df["ds"].iloc[-1]
    frame = pd.DataFrame(
        {"unique_id": "s", "cutoff": cutoff, "ds": [cutoff + pd.offsets.MonthBegin(1)], "AutoETS-log": [1e12]}
    )
    out = robust.add_robust(frame, df, "M", ["AutoETS-log"])
    assert out["AutoETS-log"].iloc[0] == robust.LOG_CAP * 13.0
    assert "cap" not in out.columns and np.isfinite(out.filter(like=robust.PREFIX).to_numpy()).all()
