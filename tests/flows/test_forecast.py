"""Combination, conformal intervals, reconciliation, alerts and charts on small synthetic series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from avellino.flows import alerts, combine, data, models, pooled
from avellino.flows.charts import write_charts
from avellino.flows.forecast import FlowForecast, forecast_flow
from avellino.flows.hierarchy import RECONCILED, incoherence


@pytest.fixture(scope="module")
def monthly(fixtures: Path) -> data.FlowData:
    path = fixtures / "flows" / "monthly_routes.csv"
    return data.load_csv(path, "month", "people", ["route", "nationality"], "M")


@pytest.fixture(scope="module")
def result(monthly: data.FlowData) -> FlowForecast:
    return forecast_flow(monthly, horizon=3, windows=6, fast=True)


def test_conformal_quantile_is_finite_sample() -> None:
    scores = np.arange(1, 11, dtype=float)  # 10 scores
    assert combine.conformal_quantile(scores, 80) == 9.0  # ceil(11 * 0.8) = 9th smallest
    assert combine.conformal_quantile(scores, 95) == 10.0


def test_combination_drops_a_bad_model_and_covers_calibration() -> None:
    rng = np.random.default_rng(0)
    n = 60
    calib = pd.DataFrame(
        {
            "unique_id": "s",
            "cutoff": pd.date_range("2020-01-01", periods=n, freq="MS"),
            "ds": pd.date_range("2020-02-01", periods=n, freq="MS"),
            "y": 100 + rng.normal(0, 10, n),
        }
    )
    calib["good"], calib["close"], calib["bad"] = 100.0, 102.0, 160.0
    now = pd.DataFrame(
        {"unique_id": "s", "cutoff": pd.Timestamp("2025-01-01"), "ds": [pd.Timestamp("2025-02-01")]}
    ).assign(good=100.0, close=102.0, bad=160.0)
    frame, choice = combine.combine_one(now, calib, ["good", "close", "bad"], nonnegative=True)
    assert set(choice.models) == {"good", "close"}
    assert frame["avellino"].iloc[0] == pytest.approx(101.0)
    lo, hi = frame["avellino-lo-80"].iloc[0], frame["avellino-hi-80"].iloc[0]
    inside = ((calib["y"] >= lo - 1) & (calib["y"] <= hi + 1)).mean()
    assert 0.75 <= inside <= 0.95
    assert frame["avellino-hi-95"].iloc[0] >= hi

    # A candidate without forecasts in some calibration windows does not compete, however good the rest.
    calib["partial"] = np.where(np.arange(n) < 10, np.nan, calib["y"])
    _, choice = combine.combine_one(now.assign(partial=100.0), calib, ["good", "close", "partial"], True)
    assert set(choice.models) == {"good", "close"} and "partial" not in choice.mae


def test_reconciled_forecasts_add_up_across_levels(result: FlowForecast) -> None:
    fc = result.forecast
    assert set(fc["level"]) == {"global", "route", "nationality"}
    assert result.s_df is not None
    assert incoherence(fc, result.s_df) < 1e-6
    # The same, spelled out: routes sum to global, nationalities to their route, for every forecast month.
    wide = fc.pivot(index="unique_id", columns="ds", values=RECONCILED)
    assert np.allclose(wide.loc["global/Sea A"] + wide.loc["global/Land B"], wide.loc["global"])
    assert np.allclose(wide.loc["global/Sea A/AAA"] + wide.loc["global/Sea A/BBB"], wide.loc["global/Sea A"])
    # Unreconciled per-series forecasts generally do not add up: reconciliation had work to do.
    assert incoherence(fc, result.s_df, column="avellino") > 1e-6
    assert (fc[RECONCILED] >= 0).all()
    assert (fc[f"{RECONCILED}-lo-95"] <= fc[f"{RECONCILED}-lo-80"]).all()
    assert (fc[f"{RECONCILED}-hi-80"] <= fc[f"{RECONCILED}-hi-95"]).all()


def test_forecast_tracks_the_seasonal_fixture(result: FlowForecast, monthly: data.FlowData) -> None:
    # Fixture level for global in Jan-Mar is about 540 x season (~0.5..1.0) x trend 1.3: 350..720.
    top = result.forecast[result.forecast["unique_id"] == "global"]
    assert top["ds"].tolist() == list(pd.date_range("2024-01-01", periods=3, freq="MS"))
    assert top[RECONCILED].between(250, 900).all()


def test_exceedance_alert_on_a_spike(monthly: data.FlowData) -> None:
    frame = monthly.frame.copy()
    last = frame["ds"].max()
    spike = (frame["ds"] == last) & (frame["route"] == "Land B") & (frame["nationality"] == "CCC")
    frame.loc[spike, "y"] = 900.0  # about 20x its usual month
    spiked = data.FlowData("spiked", frame, monthly.levels, "M")
    found = alerts.exceedances(
        forecast_flow(spiked, horizon=2, levels=["nationality"], reconcile_levels=False, windows=6, fast=True)
    )
    hit = [a for a in found if a.series == "global/Land B/CCC" and a.ds == last.date().isoformat()]
    assert hit and hit[0].confidence == 95 and hit[0].size > 0 and hit[0].value == 900.0
    assert "confidence 95%" in hit[0].message()


def test_surge_alert_when_forecast_is_far_above_the_norm(result: FlowForecast) -> None:
    fc = result.forecast.copy()
    for column in [c for c in fc.columns if c.startswith(RECONCILED)]:
        fc.loc[fc["unique_id"] == "global/Sea A", column] *= 4
    boosted = FlowForecast(result.flow, result.history, fc, result.recent, result.choices, result.levels, result.s_df)
    found = alerts.surges(boosted)
    assert any(a.series == "global/Sea A" and a.ratio > 2 for a in found)
    assert not [a for a in alerts.surges(result) if a.series == "global/Sea A" and a.ratio > 2]


def test_charts_are_written_offline(result: FlowForecast, tmp_path: Path) -> None:
    written = write_charts(result, tmp_path, ["global", "global/Sea A"])
    assert sorted(p.suffix for p in written) == [".html", ".html", ".png", ".png"]
    page = (tmp_path / "global.html").read_text()
    assert "cdn.plot.ly" not in page and "plotly.min.js" in page
    assert (tmp_path / "plotly.min.js").exists()
    assert (tmp_path / "global.png").read_bytes()[:4] == b"\x89PNG"


def test_window_parts_split_only_few_series_with_enough_origins() -> None:
    assert models.window_parts(1, 40, available=2) == 2
    assert models.window_parts(1, 40, available=4) == 4
    assert models.window_parts(3, 40, available=4) == 2
    assert models.window_parts(1, 12, available=2) == 1  # under 2 x MIN_PART_WINDOWS origins
    assert models.window_parts(9, 40, available=2) == 1  # enough series to share the cores


def test_split_back_test_gives_the_same_forecasts(monthly: data.FlowData, monkeypatch: pytest.MonkeyPatch) -> None:
    # One series: its 17 origins are split in two parts fitted in parallel, with an overlap (sizes 9 and 9).
    monkeypatch.setattr(models, "cores", lambda: 2)  # split even on a one-core machine
    splits: list[int] = []
    real_split = models._split_windows

    def counted(df: pd.DataFrame, n_windows: int, parts: int) -> tuple[pd.DataFrame, int, dict[str, object]]:
        splits.append(parts)
        return real_split(df, n_windows, parts)

    df = monthly.at_level("route")
    df = df[df["unique_id"] == df["unique_id"].iloc[0]]
    setup = models.Setup.for_freq("M", 3, fast=True, min_length=len(df))
    stacked, size, original = models._split_windows(df, 17, 2)
    assert size == 9 and set(original.values()) == set(df["unique_id"])
    whole = models.cross_validate(df, setup, 17, jobs=1)
    monkeypatch.setattr(models, "_split_windows", counted)
    split = models.cross_validate(df, setup, 17, jobs=None)
    assert splits and set(splits) == {2}
    assert whole["cutoff"].nunique() == 17
    key = ["unique_id", "cutoff", "ds"]
    pd.testing.assert_frame_equal(
        whole.sort_values(key).reset_index(drop=True), split.sort_values(key).reset_index(drop=True)
    )


def test_identical_series_are_fitted_once_and_copied(monthly: data.FlowData, monkeypatch: pytest.MonkeyPatch) -> None:
    fitted: set[str] = set()
    real_cv = models._quiet_cv

    def recording(models_: list[object], df: pd.DataFrame, *args: object) -> pd.DataFrame:
        fitted.update(df["unique_id"])
        return real_cv(models_, df, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(models, "_quiet_cv", recording)
    routes = monthly.at_level("route")
    first, other = sorted(routes["unique_id"].unique())[:2]
    a = routes[routes["unique_id"] == first]
    df = pd.concat([a, a.assign(unique_id="zz copy"), routes[routes["unique_id"] == other]], ignore_index=True)
    fit_df, twins = models.distinct_series(df)
    assert twins == {"zz copy": first} and set(fit_df["unique_id"]) == {first, other}
    setup = models.Setup.for_freq("M", 3, fast=True, min_length=len(a))
    for frame in (models.cross_validate(df, setup, 4, jobs=1), models.forecast_now(df, setup, jobs=1)):
        assert set(frame["unique_id"]) == {first, other, "zz copy"}
        assert frame[pooled.NAME].notna().all()  # the pooled candidate is there, for the copy too
        kept = frame[frame["unique_id"] == first].drop(columns="unique_id").reset_index(drop=True)
        copy = frame[frame["unique_id"] == "zz copy"].drop(columns="unique_id").reset_index(drop=True)
        pd.testing.assert_frame_equal(kept, copy)
        assert not frame[frame["unique_id"] == other].drop(columns="unique_id").reset_index(drop=True).equals(kept)
    assert fitted == {first, other}  # the copy was never fitted


def test_categorical_ids_with_an_unused_category(monthly: data.FlowData, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "cores", lambda: 2)  # the split path too
    routes = monthly.at_level("route")
    first = sorted(routes["unique_id"].unique())[0]
    a = routes[routes["unique_id"] == first]
    setup = models.Setup.for_freq("M", 3, fast=True, min_length=len(a))
    for df, ids in ((a, {first}), (pd.concat([a, a.assign(unique_id="zz copy")]), {first, "zz copy"})):
        df = df.assign(unique_id=pd.Categorical(df["unique_id"], categories=[first, "zz copy", "unused"]))
        frame = models.cross_validate(df, setup, 17)
        assert set(frame["unique_id"]) == ids and frame["cutoff"].nunique() == 17
