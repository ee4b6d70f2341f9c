"""The real quoted posts: a well-formed, cited fixture that the classifier is scored on and never trained on."""

from __future__ import annotations

import csv
import inspect
import json
from pathlib import Path

import pytest

from avellino.content import evaluate, train
from avellino.content.classify import load_model
from avellino.errors import ConfigError
from tests.content.conftest import run_cli


def test_fixture_is_small_cited_and_labelled() -> None:
    rows = evaluate.read_real(evaluate.real_posts_path())
    assert 20 <= len(rows) <= 80 and len({r["id"] for r in rows}) == len(rows)
    labels = {r["label"] for r in rows}
    assert "benign" in labels and "smuggling_offer" in labels
    assert all(r["source_url"].startswith("http") and r["retrieved"] for r in rows)
    assert (evaluate.real_posts_path().parent / "REAL_POSTS.md").is_file()


def test_never_trained_on() -> None:
    assert "real_posts" not in inspect.getsource(train)


def test_evaluate_real_prints_figures_and_every_verdict() -> None:
    done = run_cli("content", "evaluate", "--set", "real")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["trained_on_it"] is False and result["posts"] == len(result["posts_scored"])
    hb = result["harmful_vs_benign"]
    assert set(hb) >= {"f1", "precision", "recall", "roc_auc"}
    assert {"benign", "smuggling_offer"} <= set(result["per_class"])
    assert sum(b["posts"] for b in result["calibration"]["bins"]) == result["posts"]


def test_a_bad_label_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "real.csv"
    with bad.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(evaluate.REAL_COLUMNS))
        w.writeheader()
        w.writerow({c: "x" for c in evaluate.REAL_COLUMNS} | {"label": "spam", "source_url": "https://a.example"})
    with pytest.raises(ConfigError, match="row 2, label"):
        evaluate.real(bad, load_model())
