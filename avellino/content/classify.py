"""Classify posts read from a file: label, calibrated probabilities and the evidence for each decision.

Needs no workspace. Reads JSON lines or CSV (``--text-field``, ``--id-field``); the shipped model is
``data/model.npz`` (``avellino content train`` rebuilds it). Large inputs are scored in chunks, so memory stays
bounded and output starts at once.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from avellino.content.model import TextModel, load
from avellino.content.patterns import matches
from avellino.errors import ConfigError, InputRejected, RowProblem

CHUNK = 5_000


def shipped_model_path() -> Path:
    return Path(str(resources.files("avellino.content").joinpath("data/model.npz")))


def load_model(path: Path | None = None) -> TextModel:
    return load(path or shipped_model_path())


@dataclass(frozen=True)
class Record:
    row: int  # as ingest numbers rows: JSON lines from 1, CSV with the header as row 1
    id: str
    text: str
    fields: dict[str, Any]


def post_rows(path: Path, require: str | None = None) -> Iterator[tuple[int, dict[str, Any] | RowProblem]]:
    """Each row of a JSON lines or CSV/TSV post file as (row number, its fields), or (row, the problem) for a JSON
    line that is not an object; rows are numbered as ingest numbers them (JSON lines from 1, CSV with the header as
    row 1). ``require``: a column a CSV must have (a clear error before any row, else None)."""
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix in {".csv", ".tsv"}:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh, delimiter="\t" if suffix == ".tsv" else ",")
            if require is not None and require not in (reader.fieldnames or []):
                raise ConfigError(
                    f"{path}: no column {require!r} (columns: {', '.join(reader.fieldnames or [])}); set --text-field"
                )
            for i, row in enumerate(reader, start=2):
                yield i, dict(row)
        return
    with path.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except ValueError as exc:
                yield i, RowProblem(str(path), i, "", f"not a JSON object: {exc}")
                continue
            yield i, data if isinstance(data, dict) else RowProblem(str(path), i, "", "not a JSON object")


def read_records(path: Path, text_field: str, id_field: str | None = None) -> Iterator[Record]:
    """The posts of a JSON lines or CSV file. A line that is not JSON, or a post without ``text_field``, stops the
    read with its row and field named (nothing has been printed for a bad file checked first: ``check_file``)."""
    for i, row in post_rows(path, require=text_field):
        if isinstance(row, RowProblem):
            raise InputRejected(str(path), [row])
        yield _record(path, i, row, text_field, id_field)


def _record(path: Path, row: int, data: dict[str, Any], text_field: str, id_field: str | None) -> Record:
    text = data.get(text_field)
    if not isinstance(text, str):
        why = "missing" if text is None else f"not text ({type(text).__name__})"
        raise InputRejected(str(path), [RowProblem(str(path), row, text_field, f"{why}; set --text-field")])
    ident = data.get(id_field) if id_field else None
    if id_field and ident in (None, ""):
        raise InputRejected(str(path), [RowProblem(str(path), row, id_field, "no id; set --id-field")])
    return Record(row, str(ident) if ident is not None else str(row), text, data)


def check_file(path: Path, text_field: str, id_field: str | None) -> int:
    """Read the whole file once before any output: a bad row is reported with nothing printed. Returns rows."""
    return sum(1 for _ in read_records(path, text_field, id_field))


@dataclass(frozen=True)
class Verdict:
    id: str
    label: str
    p_harmful: float
    scores: dict[str, float]
    evidence: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "p_harmful": self.p_harmful,
            "scores": self.scores,
            "evidence": self.evidence,
        }


def evidence_words(text: str, grams: list[str]) -> list[str]:
    """The words of the post that hold the evidence n-grams (in the n-grams' order, each once): what an analyst
    reads, where the n-grams are fragments ("b0a", "🚤")."""
    tokens = text.split()
    lowered = [t.lower() for t in tokens]
    out: list[str] = []
    for gram in grams:
        g = gram.lower()
        for token, low in zip(tokens, lowered, strict=True):
            if g in low:
                word = token.strip(".,;:!?()\"'«»“”")
                if word and word not in out:
                    out.append(word)
                break
    return out


def classify_texts(model: TextModel, ids: list[str], texts: list[str], evidence: bool = True) -> list[Verdict]:
    x = model.features(texts)
    proba = model.proba(x)
    benign = model.classes.index("benign") if "benign" in model.classes else None
    out = []
    for i, (ident, text) in enumerate(zip(ids, texts, strict=True)):
        k = int(proba[i].argmax())
        p_harm = float(1 - proba[i, benign]) if benign is not None else float(proba[i, k])
        ev: dict[str, Any] = {}
        if evidence:
            grams = model.evidence(x, i, k)
            ev = {
                "words": evidence_words(text, grams),
                "ngrams": grams,
                "patterns": [{"name": m.name, "class": m.label, "text": m.text} for m in matches(text)],
            }
        out.append(
            Verdict(
                ident,
                model.classes[k],
                round(p_harm, 4),
                {c: round(float(p), 4) for c, p in zip(model.classes, proba[i], strict=True)},
                ev,
            )
        )
    return out


def classify_file(
    model: TextModel, path: Path, text_field: str, id_field: str | None = None, evidence: bool = True
) -> Iterator[Verdict]:
    batch: list[Record] = []
    for rec in read_records(path, text_field, id_field):
        batch.append(rec)
        if len(batch) == CHUNK:
            yield from classify_texts(model, [r.id for r in batch], [r.text for r in batch], evidence)
            batch = []
    if batch:
        yield from classify_texts(model, [r.id for r in batch], [r.text for r in batch], evidence)


def uncertainty(scores: np.ndarray) -> np.ndarray:
    """How unsure the model is of each post: 1 - (top probability - runner-up), 1 where two classes tie."""
    top2 = np.sort(scores, axis=1)[:, -2:]
    out: np.ndarray = 1.0 - (top2[:, 1] - top2[:, 0])
    return out
