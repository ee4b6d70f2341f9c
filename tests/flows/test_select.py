"""Choosing between the best single candidate and the trimmed combination on their out-of-sample records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from avellino.flows import combine, select


def _series(errors: dict[str, np.ndarray], h: int = 2, level: float = 100.0) -> select.Series:
    n = len(next(iter(errors.values())))
    y = np.full((n, h), level)
    f = np.stack([np.stack([level + e] * h, axis=1) for e in errors.values()], axis=2)
    return select.Series(f, y, list(errors))


def test_independent_good_candidates_are_averaged_when_it_pays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(select, "DEFAULT", select.BEST)  # the combination must earn its place
    rng = np.random.default_rng(1)
    n = 160
    # Three candidates with independent errors of the same size: their mean has about 1/sqrt(3) of the error.
    s = _series({name: rng.normal(0, 10, n) for name in ("a", "b", "c")})
    issued = select.strategy_forecasts(s, windows=52)
    assert select.choose(s, issued, n - 1, windows=52) == select.TRIMMED
    # The strategies' forecasts at an origin only use rows known then: the first origins have none.
    assert np.isnan(issued[select.BEST][:5]).all()


def test_the_default_is_left_only_when_the_gain_is_significant(monkeypatch: pytest.MonkeyPatch) -> None:
    assert select.DEFAULT == select.TRIMMED
    monkeypatch.setattr(select, "DEFAULT", select.BEST)
    rng = np.random.default_rng(2)
    n = 80
    common = rng.normal(0, 10, n)
    # "b" makes the same errors as "a", a quarter larger: close enough to be kept in the combination, and
    # averaging it in always makes the error larger than "a"'s alone.
    s = _series({"a": common, "b": 1.25 * common, "c": common + 50})
    issued = select.strategy_forecasts(s, windows=20)
    assert select.choose(s, issued, n - 1, windows=20) == select.BEST
    # With no record yet, the default is used.
    assert select.choose(s, issued, 10, windows=20) == select.BEST
    # The shipped default, the combination, gives way here: averaging "b" in only adds to the error.
    monkeypatch.setattr(select, "DEFAULT", select.TRIMMED)
    assert select.choose(s, issued, n - 1, windows=20) == select.BEST
    assert select.choose(s, issued, 10, windows=20) == select.TRIMMED


def test_known_rows_never_reach_past_the_origin() -> None:
    s = _series({"a": np.zeros(30), "b": np.ones(30)}, h=3)
    tested, mask = select.past(s, 10, windows=4)
    assert list(tested) == [4, 5, 6, 7, 8, 9]  # windows + h - 1 = 6 origins
    # Origin 9's first step (period 10) is known at 10, its second and third are not.
    assert mask[-1].tolist() == [True, False, False] and mask[0].all()
    s.f[:, :, 0][10:] = 1e9  # what happens from origin 10 on cannot change the choice at 10
    mae, complete = select.calibration_mae(s, 10, windows=4)
    assert complete == 4 and mae[0] == pytest.approx(0.0)


def test_combine_reports_the_strategy_and_covers_its_own_errors() -> None:
    rng = np.random.default_rng(3)
    n, h = 90, 2
    cutoffs = pd.date_range("2015-01-01", periods=n, freq="MS")
    rows = []
    truth = 100 + rng.normal(0, 10, n + h)
    for i, c in enumerate(cutoffs):
        for k in (1, 2):
            rows.append({"unique_id": "s", "cutoff": c, "ds": c + pd.DateOffset(months=k), "y": truth[i + k]})
    cv = pd.DataFrame(rows)
    cv["good"], cv["bad"] = 100.0, 160.0
    cv["AutoETS"] = 100.0
    for level in (80, 95):
        cv[f"AutoETS-lo-{level}"], cv[f"AutoETS-hi-{level}"] = 0.0, 200.0
    current = cv[cv["cutoff"] >= cutoffs[60]]
    frame, choices = combine.combine(current.drop(columns="y"), cv, windows=24, intermittent=set())
    assert {c.strategy for c in choices} <= {select.BEST, select.TRIMMED}
    assert all("bad" not in c.models for c in choices)
    merged = frame.merge(current[["unique_id", "ds", "cutoff", "y"]], on=["unique_id", "ds", "cutoff"])
    inside = ((merged["y"] >= merged["avellino-lo-80"]) & (merged["y"] <= merged["avellino-hi-80"])).mean()
    assert 0.65 <= inside <= 0.95
