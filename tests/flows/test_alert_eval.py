"""Surge definition, alert scoring and ``flows alerts --evaluate`` on the monthly fixture."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from avellino.cli import app
from avellino.flows import alert_eval

runner = CliRunner()


def test_a_surge_is_twice_the_trailing_median_and_material() -> None:
    y = np.array([10, 10, 10, 10, 10, 10, 25, 30, 10, 10, 10, 10, 10, 10, 12], dtype=float)
    flags, ahead = alert_eval.surge_flags(y, "M")  # 6 months trailing
    assert flags.tolist() == [False] * 6 + [True, True] + [False] * 7
    assert np.isnan(ahead[:5]).all() and ahead[5] == 20.0
    assert alert_eval.onsets(flags).tolist() == [6]
    small = np.array([1, 1, 1, 1, 1, 1, 5, 1], dtype=float)  # 5x, but under MIN_COUNT
    assert not alert_eval.surge_flags(small, "M")[0].any()


def test_scores_count_precision_recall_and_lead() -> None:
    flags = np.zeros(20, dtype=bool)
    flags[[8, 9, 15]] = True  # episodes starting at 8 and 15
    alert = np.zeros(20, dtype=bool)
    alert[[6, 7, 12]] = True  # 6 and 7 precede the onset at 8 (lead 2); 12 is followed by 15 (h=3)
    valid = np.ones(20, dtype=bool)
    valid[-3:] = False
    got = alert_eval.score(alert, flags, 3, valid)
    assert (got.alerts, got.correct, got.episodes, got.caught, got.leads) == (3, 3, 2, 2, [2, 3])
    alert[12] = False
    alert[2] = True  # nothing within 3 periods of 2
    got = alert_eval.score(alert, flags, 3, valid)
    assert (got.alerts, got.correct, got.caught) == (3, 2, 1)
    assert got.to_dict()["precision"] == round(2 / 3, 3) and got.to_dict()["recall"] == 0.5


def test_evaluate_command_reports_every_rule(fixtures: Path) -> None:
    path = fixtures / "flows" / "monthly_routes.csv"
    args = ["flows", "alerts", "--evaluate", "-i", str(path), "--date-column", "month", "--value-column", "people"]
    result = runner.invoke(app, [*args, "--series-column", "route", "--json"])
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["series"] == 3 and set(report["rules"]) == set(alert_eval.RULES)
    for rule in report["rules"].values():
        assert set(rule) == {"alerts", "precision", "episodes", "recall", "mean_lead"}
    table = runner.invoke(app, [*args, "--series-column", "route"])
    assert table.exit_code == 0 and "Surge alerts" in table.output
