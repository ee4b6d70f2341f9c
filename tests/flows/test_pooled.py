"""The autoregression pooled across series (avellino.flows.pooled)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from avellino.flows import models, pooled

PATTERN = np.array([1.0, 2.0, 4.0, 2.0])


def _frame(series: dict[str, np.ndarray]) -> pd.DataFrame:
    parts = []
    for uid, values in series.items():
        ds = pd.date_range("2015-01-01", periods=len(values), freq="MS")
        parts.append(pd.DataFrame({"unique_id": uid, "ds": ds, "y": values}))
    return pd.concat(parts, ignore_index=True)


def _forecast_frame(df: pd.DataFrame, cutoff: pd.Timestamp, horizon: int) -> pd.DataFrame:
    """Rows a back-test would have at ``cutoff``: one per series and horizon step."""
    ds = pd.date_range(cutoff + pd.offsets.MonthBegin(1), periods=horizon, freq="MS")
    ids = df["unique_id"].unique()
    return pd.DataFrame([(uid, cutoff, d) for uid in ids for d in ds], columns=["unique_id", "cutoff", "ds"])


def test_a_pattern_shared_by_series_of_different_size_is_learned_for_both() -> None:
    n = 64
    df = _frame({"small": 100.0 * np.resize(PATTERN, n), "large": 50_000.0 * np.resize(PATTERN, n)})
    cutoff = df["ds"].iloc[59]  # the last value is a 2; next come 1, 2, 4
    rows = pooled.add_pooled(_forecast_frame(df, cutoff, 3), df[df["ds"] <= cutoff], "M")
    for uid, scale in (("small", 100.0), ("large", 50_000.0)):
        got = rows[rows["unique_id"] == uid].sort_values("ds")[pooled.NAME].to_numpy()
        assert np.allclose(got / scale, [1.0, 2.0, 4.0], rtol=0.05)


def test_forecasts_read_only_data_up_to_their_origin() -> None:
    rng = np.random.default_rng(7)
    df = _frame({"a": rng.poisson(200, 80).astype(float), "b": rng.poisson(30, 80).astype(float)})
    cutoff = df["ds"].iloc[59]
    frame = _forecast_frame(df, cutoff, 3)
    before = pooled.add_pooled(frame, df, "M")
    later = df["ds"] > cutoff
    changed = df.assign(y=np.where(later, df["y"] * 50.0, df["y"]))
    assert np.array_equal(pooled.add_pooled(frame, changed, "M")[pooled.NAME], before[pooled.NAME])
    earlier = df.assign(y=np.where(df["ds"] == cutoff, df["y"] * 3.0, df["y"]))
    assert not np.array_equal(pooled.add_pooled(frame, earlier, "M")[pooled.NAME], before[pooled.NAME])


def test_short_series_get_no_forecast_and_negative_data_no_column() -> None:
    long = np.resize(PATTERN, 100) * 10.0
    df = _frame({"long": long, "short": long[:10]})
    cutoff = df["ds"].max()
    frame = _forecast_frame(df, cutoff, 2)
    out = pooled.add_pooled(frame, df, "M")
    assert out.loc[out["unique_id"] == "long", pooled.NAME].notna().all()
    assert out.loc[out["unique_id"] == "short", pooled.NAME].isna().all()
    negative = df.assign(y=df["y"] - 25.0)
    assert pooled.NAME not in pooled.add_pooled(frame, negative, "M").columns


def test_each_origin_is_fitted_on_its_own_past() -> None:
    rng = np.random.default_rng(11)
    df = _frame({"a": rng.poisson(200, 90).astype(float), "b": rng.poisson(30, 90).astype(float)})
    early, late = df["ds"].iloc[59], df["ds"].iloc[80]
    both = pd.concat([_forecast_frame(df, early, 3), _forecast_frame(df, late, 3)], ignore_index=True)
    together = pooled.add_pooled(both, df, "M")
    alone = pooled.add_pooled(_forecast_frame(df, early, 3), df, "M")
    assert np.array_equal(together.loc[together["cutoff"] == early, pooled.NAME], alone[pooled.NAME])
    # The window whose last target is the origin itself is used: another series' value there matters.
    at_origin = df.assign(y=np.where((df["unique_id"] == "b") & (df["ds"] == early), 300.0, df["y"]))
    moved = pooled.add_pooled(_forecast_frame(df, early, 3), at_origin, "M")
    assert not np.array_equal(
        moved.loc[moved["unique_id"] == "a", pooled.NAME], alone.loc[alone["unique_id"] == "a", pooled.NAME]
    )


def test_a_missing_value_spoils_only_the_windows_that_hold_it() -> None:
    rng = np.random.default_rng(5)
    df = _frame({"a": rng.poisson(200, 90).astype(float), "b": rng.poisson(30, 90).astype(float)})
    gap = df.assign(y=np.where((df["unique_id"] == "b") & (df["ds"] == df["ds"].iloc[10]), np.nan, df["y"]))
    out = pooled.add_pooled(_forecast_frame(df, df["ds"].iloc[70], 3), gap, "M")
    assert np.isfinite(out[pooled.NAME]).all()


def test_pooled_forecasts_are_capped_with_the_log_space_ones() -> None:
    # pooled_forecasts returns expm1 of a log forecast, uncapped: the pipeline's one guard must include it.
    assert pooled.NAME in models.CAPPED
