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


def test_emscad_cv_scores_only_held_out_folds(tmp_path: Path) -> None:
    """A hand-made file in EMSCAD's columns where fraud is written plainly: held-out models find it, and the weak
    rule (no logo, no profile) scores without training."""
    path = tmp_path / "fj.csv"
    cols = ["job_id", "title", "company_profile", "description", "requirements", "benefits", "salary_range",
            "telecommuting", "has_company_logo", "has_questions", "fraudulent"]  # fmt: skip
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        for i in range(60):
            fraud = i % 6 == 0
            w.writerow({"job_id": i, "title": "Data entry from home, earn fast" if fraud else f"Engineer grade {i}",
                        "company_profile": "" if fraud else "We build bridges", "description": "wire the fee today"
                        if fraud else "design and review structures", "requirements": "", "benefits": "",
                        "salary_range": "", "telecommuting": "0", "has_company_logo": "0" if fraud else "1",
                        "has_questions": "0", "fraudulent": int(fraud)})  # fmt: skip
    result = evaluate.emscad_cv(path, folds=5, repeats=2)
    assert result["fraudulent"] == 10 and result["weak_rule"]["roc_auc"] == 1.0
    assert result["emscad_models"]["text"]["roc_auc_mean"] > 0.9
    assert "shipped_pipeline_retrained" not in result
    bad = tmp_path / "bad.csv"
    bad.write_text("job_id,fraudulent\n1,maybe\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="row 2, fraudulent"):
        evaluate.emscad_cv(bad)
