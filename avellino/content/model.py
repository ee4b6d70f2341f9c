"""The post classifier: character n-gram TF-IDF, a linear model, calibrated probabilities, evidence.

Character n-grams (2-4, within words) read any script and survive misspellings ("b0at" shares "b0", "at"), emoji
and missing spaces, with no tokeniser per language. Training is scikit-learn's: ``TfidfVectorizer`` ->
``LogisticRegression`` wrapped in ``CalibratedClassifierCV`` (sigmoid, 3-fold, one model: ``ensemble=False``), so
the probabilities are calibrated on folds the model did not fit. The fitted model is saved as plain arrays
(``.npz``: vocabulary, idf, weights, calibration), not a pickle: loading runs no code, the file is small (about
1 MB) and does not depend on the scikit-learn version that wrote it. Scoring is done here from those arrays (the
same arithmetic scikit-learn does; a test checks they agree).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from avellino.errors import ConfigError

PATTERN_PREFIX = "pattern:"


def pattern_features(texts: Sequence[str]) -> sp.csr_matrix:
    """One column per documented pattern (``patterns.py``): 1 where it fires. The model weighs them like n-grams,
    so a pattern helps only as far as the training data bears it out."""
    from avellino.content.patterns import PATTERNS

    rows, cols = [], []
    for j, p in enumerate(PATTERNS):
        search = p.regex.search
        for i, text in enumerate(texts):
            if search(text):
                rows.append(i)
                cols.append(j)
    data = np.ones(len(rows), dtype=np.float32)
    return sp.csr_matrix((data, (rows, cols)), shape=(len(texts), len(PATTERNS)), dtype=np.float32)


VECTORIZER = {"analyzer": "char_wb", "ngram_range": (2, 4), "min_df": 2, "max_features": 60_000, "sublinear_tf": True}


@dataclass
class TextModel:
    classes: tuple[str, ...]
    vocabulary: list[str]
    idf: np.ndarray  # (features,)
    coef: np.ndarray  # (classes or 1, features)
    intercept: np.ndarray  # (classes or 1,)
    cal_a: np.ndarray  # sigmoid calibration per decision column: p = 1 / (1 + exp(a * d + b))
    cal_b: np.ndarray
    info: dict[str, Any]

    def __post_init__(self) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        params = {**VECTORIZER, **self.info.get("vectorizer", {})}
        params["ngram_range"] = tuple(params["ngram_range"])
        ngrams = [t for t in self.vocabulary if not t.startswith(PATTERN_PREFIX)]
        vec = TfidfVectorizer(**params, dtype=np.float32, vocabulary={t: i for i, t in enumerate(ngrams)})
        vec.idf_ = self.idf[: len(ngrams)]  # with a fixed vocabulary and idf the vectorizer is fitted: no data needed
        self._vec = vec

    def features(self, texts: Sequence[str]) -> sp.csr_matrix:
        x = self._vec.transform(texts)
        if not self.info.get("patterns"):
            return x
        return sp.hstack([x, pattern_features(texts)], format="csr", dtype=np.float32)

    def decision(self, x: sp.csr_matrix) -> np.ndarray:
        return np.asarray(x @ self.coef.T) + self.intercept

    def proba(self, x: sp.csr_matrix) -> np.ndarray:
        """Calibrated class probabilities, rows summing to 1 (as CalibratedClassifierCV computes them)."""
        d = self.decision(x)
        p = 1.0 / (1.0 + np.exp(self.cal_a * d + self.cal_b))
        if len(self.classes) == 2:
            p1 = p[:, 0]
            return np.column_stack([1 - p1, p1])
        total = p.sum(axis=1, keepdims=True)
        out: np.ndarray = np.where(total == 0, 1.0 / len(self.classes), p / np.where(total == 0, 1, total))
        return out

    def evidence(self, x: sp.csr_matrix, row: int, label: int, k: int = 6) -> list[str]:
        """The n-grams of one post that pushed it most towards ``label`` (weights relative to the other classes),
        longest first among overlapping ones."""
        start, end = x.indptr[row], x.indptr[row + 1]
        idx = x.indices[start:end]
        if len(idx) == 0:
            return []
        if self.coef.shape[0] == 1:
            w = self.coef[0, idx] * (1 if label == 1 else -1)
        else:
            w = self.coef[label, idx] - self.coef[:, idx].mean(axis=0)
        push = x.data[start:end] * w
        order = np.argsort(-push)[: k * 3]
        grams: list[str] = []
        for j in order:
            if push[j] <= 0:
                break
            gram = self.vocabulary[idx[j]].strip()
            if gram.startswith(PATTERN_PREFIX) or len(gram) < 2 or any(gram in g for g in grams):
                continue
            grams = [g for g in grams if g not in gram]
            grams.append(gram)
            if len(grams) == k:
                break
        return grams

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            vocabulary=np.array(self.vocabulary, dtype=object).astype(str),
            idf=self.idf.astype(np.float32),
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float64),
            cal_a=self.cal_a.astype(np.float64),
            cal_b=self.cal_b.astype(np.float64),
            meta=np.array(json.dumps({"classes": list(self.classes), "info": self.info})),
        )


def load(path: Path) -> TextModel:
    if not path.is_file():
        raise ConfigError(f"No classifier model at {path}; build one with `avellino content train --out {path}`")
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            return TextModel(
                classes=tuple(meta["classes"]),
                vocabulary=z["vocabulary"].tolist(),
                idf=z["idf"],
                coef=z["coef"],
                intercept=z["intercept"],
                cal_a=z["cal_a"],
                cal_b=z["cal_b"],
                info=meta["info"],
            )
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"{path} is not a classifier model written by `avellino content train`: {exc}") from exc


def fit_sklearn(
    texts: Sequence[str],
    labels: Sequence[str],
    c: float = 10.0,
    seed: int = 0,
    patterns: bool = True,
    **vectorizer: Any,
) -> Any:
    """The scikit-learn objects: (fitted TfidfVectorizer, fitted CalibratedClassifierCV)."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ConfigError(f"Training needs posts of at least two labels; got {classes}")
    vec = TfidfVectorizer(**{**VECTORIZER, **vectorizer}, dtype=np.float32)
    x = vec.fit_transform(texts)
    if patterns:
        x = sp.hstack([x, pattern_features(texts)], format="csr", dtype=np.float32)
    base = LogisticRegression(C=c, max_iter=2000, class_weight="balanced", random_state=seed)
    model = CalibratedClassifierCV(base, method="sigmoid", cv=3, ensemble=False)
    model.fit(x, list(labels))
    return vec, model


def fit(
    texts: Sequence[str],
    labels: Sequence[str],
    c: float = 10.0,
    seed: int = 0,
    patterns: bool = True,
    **vectorizer: Any,
) -> TextModel:
    """Train on labelled texts; the probabilities are calibrated on held-out folds (CalibratedClassifierCV).
    ``patterns``: add the documented patterns as features (off for data they were not written for, such as SMS)."""
    vec, model = fit_sklearn(texts, labels, c, seed, patterns, **vectorizer)
    return from_sklearn(vec, model, {"C": c, "n_train": len(texts), "patterns": patterns})


def from_sklearn(vec: Any, model: Any, info: dict[str, Any]) -> TextModel:
    calibrated = model.calibrated_classifiers_[0]
    lr = calibrated.estimator
    vocab = [""] * len(vec.vocabulary_)
    for term, i in vec.vocabulary_.items():
        vocab[i] = term
    params = {k: vec.get_params()[k] for k in VECTORIZER}
    idf = vec.idf_.astype(np.float32)
    if info.get("patterns"):
        from avellino.content.patterns import PATTERNS

        vocab += [PATTERN_PREFIX + p.name for p in PATTERNS]
        idf = np.concatenate([idf, np.ones(len(PATTERNS), dtype=np.float32)])
    return TextModel(
        classes=tuple(str(c) for c in model.classes_),
        vocabulary=vocab,
        idf=idf,
        coef=lr.coef_.astype(np.float32),
        intercept=lr.intercept_,
        cal_a=np.array([cal.a_ for cal in calibrated.calibrators]),
        cal_b=np.array([cal.b_ for cal in calibrated.calibrators]),
        info={"vectorizer": {**params, "ngram_range": list(params["ngram_range"])}, **info},
    )
