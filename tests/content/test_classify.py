"""The classifier: shipped model, CLI output, calibrated scores equal scikit-learn's, real-data smoke tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from avellino.content import evaluate
from avellino.content.classify import classify_texts, load_model, uncertainty
from avellino.content.generate import LABELS, generate, iter_jsonl
from avellino.content.model import fit_sklearn, from_sklearn, load
from tests.content.conftest import run_cli


def _posts(path: Path, n: int, seed: int, held_out: bool = False) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for rec in iter_jsonl(generate(n, seed=seed, held_out=held_out)):
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path


def test_saved_model_scores_as_scikit_learn_does(tmp_path: Path) -> None:
    train = generate(1500, seed=3)
    vec, sk = fit_sklearn([p.text for p in train], [p.label for p in train], patterns=False)
    ours = from_sklearn(vec, sk, {"patterns": False})
    ours.save(tmp_path / "m.npz")
    back = load(tmp_path / "m.npz")
    texts = [p.text for p in generate(200, seed=4, held_out=True)]
    expected = sk.predict_proba(vec.transform(texts))
    assert np.allclose(back.proba(back.features(texts)), expected, atol=1e-5)


def test_shipped_model_labels_and_evidence() -> None:
    model = load_model()
    assert set(model.classes) == set(LABELS)
    texts = [
        "Trip to England every day with b0at 🚤 4000 pounds WhatsApp +44 7700 900123",
        "Warning: smugglers sell crossings to the UK on social media. Report adverts to the police on 101",
        "We make passports and ID cards, original quality, passes airport control. Telegram @docs_fast",
    ]
    out = classify_texts(model, ["a", "b", "c"], texts)
    assert [v.label for v in out] == ["smuggling_offer", "benign", "document_forgery"]
    assert out[0].p_harmful > 0.8 > 0.2 > out[1].p_harmful
    assert abs(sum(out[0].scores.values()) - 1) < 1e-3
    assert {p["name"] for p in out[0].evidence["patterns"]} >= {"boat_word", "every_day"}
    assert out[0].evidence["ngrams"], "the n-grams that drove the decision"


def test_held_out_phrasings_of_a_new_seed(tmp_path: Path) -> None:
    """Trained without the held-out phrasings, scored on them: the generator's own hardest test."""
    result = evaluate.generated(n_train=3000, n_eval=600, seed=11)
    unseen = result["with_patterns"]["held_out_phrasings"]
    assert unseen["harmful_vs_benign"]["f1"] >= 0.8
    assert 0 <= unseen["calibration"]["brier"] < 0.15
    assert result["ngrams_only"]["held_out_phrasings"]["harmful_vs_benign"]["f1"] < unseen["harmful_vs_benign"]["f1"]


def test_classify_cli_json_lines(tmp_path: Path) -> None:
    posts = _posts(tmp_path / "posts.jsonl", 40, seed=5)
    done = run_cli("content", "classify", "--input", str(posts), "--text-field", "text", "--id-field", "id", "--json")
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["id"] for r in lines] == [f"g5-{i}" for i in range(40)]
    for r in lines:
        assert set(r) == {"id", "label", "p_harmful", "scores", "evidence"}
        assert r["label"] in LABELS and 0 <= r["p_harmful"] <= 1


def test_bad_row_named_and_nothing_printed(tmp_path: Path) -> None:
    posts = _posts(tmp_path / "posts.jsonl", 5, seed=6)
    with posts.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "x", "body": "no text field"}) + "\n")
    done = run_cli("content", "classify", "--input", str(posts), "--id-field", "id", "--json")
    assert done.returncode == 3
    assert "posts.jsonl: row 6, column 'text': missing" in done.stderr
    assert done.stdout == ""


def test_review_lists_the_least_certain_first(tmp_path: Path) -> None:
    scores = np.array([[0.9, 0.05, 0.05], [0.5, 0.45, 0.05], [0.7, 0.3, 0.0]])
    assert list(np.argsort(-uncertainty(scores))) == [1, 2, 0]
    posts = _posts(tmp_path / "posts.jsonl", 60, seed=7, held_out=True)
    done = run_cli("content", "review", "--input", str(posts), "--id-field", "id", "-n", "5", "--json")
    assert done.returncode == 0, done.stderr
    got = [json.loads(line)["uncertainty"] for line in done.stdout.splitlines()]
    assert len(got) == 5 and got == sorted(got, reverse=True)


def test_train_from_agency_labels(tmp_path: Path) -> None:
    labels = tmp_path / "labels.jsonl"
    rows = [{"text": p.text, "label": p.label} for p in generate(300, seed=8)]
    rows.append({"text": "Boat to UK every day, pay after arrival", "label": ""})  # weak label from patterns
    labels.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "ours.npz"
    done = run_cli("content", "train", "--labels", str(labels), "--generated", "0", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "1 weak labels" in done.stderr
    assert load(out).info["from_file"] == 301
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nhello,benign\nboat,smuggling\n", encoding="utf-8")
    done = run_cli("content", "train", "--labels", str(bad), "--generated", "0", "--out", str(tmp_path / "x.npz"))
    assert done.returncode == 3 and "bad.csv: row 3, column 'label'" in done.stderr
    assert not (tmp_path / "x.npz").exists()


def test_sms_spam_smoke_test(shared_data: Path) -> None:
    """The pipeline on real text it was built for nothing about: the SMS set's own split, F1 >= 0.95."""
    result = evaluate.sms(shared_data / "text" / "sms_spam_collection" / "SMSSpamCollection.tsv")
    assert result["split"]["test"] == 1673
    assert result["spam_f1"] >= 0.95


def test_emscad_scored_by_the_shipped_model(shared_data: Path) -> None:
    result = evaluate.emscad(shared_data / "text" / "emscad_small" / "fj_small.csv", load_model())
    assert (result["postings"], result["fraudulent"]) == (358, 11)
    assert 0 <= result["fake_job_lure"]["roc_auc"] <= 1


@pytest.mark.parametrize("field", ["text", "body"])
def test_csv_input_with_its_text_column(tmp_path: Path, field: str) -> None:
    csv = tmp_path / "posts.csv"
    csv.write_text(f"id,{field}\n1,Passports for sale\n2,Happy birthday\n", encoding="utf-8")
    done = run_cli("content", "classify", "-i", str(csv), "--text-field", field, "--id-field", "id", "--json")
    assert done.returncode == 0, done.stderr
    assert [json.loads(x)["id"] for x in done.stdout.splitlines()] == ["1", "2"]


def test_weak_labels_measured() -> None:
    result = evaluate.weak(n=400, seed=5)
    assert 0 < result["coverage"] <= 1 and 0 < result["precision"] <= 1
    assert result["per_label"]["benign"]["precision"] >= 0.9  # benign patterns alone: warnings, reporting, news


def test_shipped_model_is_what_train_builds(tmp_path: Path) -> None:
    """The shipped model is rebuilt by `avellino content train` from the generator alone: editing phrases.py,
    patterns.py or the model without retraining fails here (about 35 s)."""
    from avellino.content.classify import shipped_model_path
    from avellino.content.train import train

    rebuilt, _data = train(tmp_path / "model.npz")
    shipped = load(shipped_model_path())
    assert rebuilt.vocabulary == shipped.vocabulary and rebuilt.classes == shipped.classes
    assert np.allclose(rebuilt.coef, shipped.coef, atol=1e-4) and np.allclose(rebuilt.cal_a, shipped.cal_a, atol=1e-4)
