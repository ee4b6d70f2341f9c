"""Build the classifier: from the generator alone (the shipped model), or with an agency's own labelled posts.

``avellino content train`` with no labels rebuilds ``data/model.npz`` exactly as shipped (seed 0, all phrasings).
``--labels FILE`` adds the agency's posts (JSON lines or CSV with ``text`` and ``label``); a post with an empty
label gets a weak label from the documented patterns (``patterns.weak_label``) or is left out when they disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from avellino.content.classify import post_rows
from avellino.content.generate import LABELS, generate
from avellino.content.model import TextModel, fit
from avellino.content.patterns import weak_label
from avellino.errors import ConfigError, InputRejected, RowProblem

SHIPPED_N = 20_000
SHIPPED_SEED = 0


@dataclass(frozen=True)
class Labelled:
    texts: list[str]
    labels: list[str]
    from_file: int = 0
    weak: int = 0
    skipped: int = 0


def read_labels(path: Path, text_field: str = "text", label_field: str = "label") -> Labelled:
    """An agency's labelled posts. Every bad row is listed (a label outside the four, a missing text)."""
    rows: list[tuple[int, dict[str, object]]] = []
    problems: list[RowProblem] = []
    for i, row in post_rows(path):
        if isinstance(row, RowProblem):
            problems.append(row)
        else:
            rows.append((i, row))
    texts, labels = [], []
    weak = skipped = 0
    for i, row in rows:
        text, label = row.get(text_field), (row.get(label_field) or "")
        if not isinstance(text, str) or not text.strip():
            problems.append(RowProblem(str(path), i, text_field, "no text"))
            continue
        label = str(label).strip()
        if not label:
            guess = weak_label(text)
            if guess is None:
                skipped += 1
                continue
            label, weak = guess, weak + 1
        elif label not in LABELS:
            problems.append(RowProblem(str(path), i, label_field, f"{label!r} is not one of {', '.join(LABELS)}"))
            continue
        texts.append(text)
        labels.append(label)
    if problems:
        raise InputRejected(str(path), problems, len(rows))
    return Labelled(texts, labels, from_file=len(texts), weak=weak, skipped=skipped)


def training_set(labels: Path | None, generated: int, seed: int) -> Labelled:
    posts = generate(generated, seed=seed) if generated else []
    own = read_labels(labels) if labels is not None else Labelled([], [])
    return Labelled(
        [p.text for p in posts] + own.texts,
        [p.label for p in posts] + own.labels,
        from_file=own.from_file,
        weak=own.weak,
        skipped=own.skipped,
    )


def train(
    out: Path, labels: Path | None = None, generated: int = SHIPPED_N, seed: int = SHIPPED_SEED
) -> tuple[TextModel, Labelled]:
    data = training_set(labels, generated, seed)
    if not data.texts:
        raise ConfigError("Nothing to train on: give --labels FILE or generated posts (--generated N)")
    model = fit(data.texts, data.labels, seed=seed)
    model.info.update(
        {
            "generated": generated,
            "seed": seed,
            "labels_file": labels.name if labels else None,
            "from_file": data.from_file,
            "weak_labels": data.weak,
        }
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part.npz")
    model.save(tmp)
    tmp.replace(out)
    return model, data
