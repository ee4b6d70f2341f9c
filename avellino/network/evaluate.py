"""Scoring role inference against a sample operation's truth (``truth/persons.csv``).

Truth is per partner record (``entity_id``); the network is per canonical id. A canonical entity takes the most
frequent true role among its records, so the same scoring serves an unresolved workspace (one record each),
the truth-based resolution (every record of a person merged: the upper bound) and ``avellino resolve``'s.
Migrants, witnesses and informants have no smuggling role: their truth label is ``none``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from avellino.errors import ConfigError
from avellino.network.roles import NONE, ROLES

if TYPE_CHECKING:
    from avellino.store.base import Store


def read_truth(truth_dir: Path) -> pd.DataFrame:
    """``persons.csv`` of a sample operation's truth folder (entity_id, person_id, role, is_victim...)."""
    path = Path(truth_dir) / "persons.csv"
    if not path.is_file():
        raise ConfigError(f"No truth file at {path} (expected the truth folder of `avellino sample`).")
    truth = pd.read_csv(path, dtype=str)
    missing = {"entity_id", "person_id", "role"} - set(truth.columns)
    if missing:
        raise ConfigError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
    return truth


def truth_labels(truth: pd.DataFrame, canonical: dict[str, str]) -> pd.Series:
    """True label per canonical id: the most frequent role among its records (``none`` for non-offenders).

    ``canonical``: entity_id -> canonical_id, as the network read it (``StoreGraph.canonical``)."""
    t = truth.assign(
        canonical=truth["entity_id"].map(canonical).fillna(truth["entity_id"]),
        label=truth["role"].where(truth["role"].isin(ROLES), NONE),
    )
    counts = t.groupby(["canonical", "label"]).size().rename("n").reset_index()
    best = counts.sort_values(["canonical", "n", "label"], ascending=[True, False, True]).drop_duplicates("canonical")
    return pd.Series(best["label"].values, index=best["canonical"].values, name="truth")


def apply_truth_resolution(store: Store, truth: pd.DataFrame) -> None:
    """Set canonical ids so every record of one true person is one entity (the upper bound of resolution)."""
    import pyarrow as pa

    store.set_canonical(
        pa.table({"entity_id": truth["entity_id"].tolist(), "canonical_id": ("person-" + truth["person_id"]).tolist()})
    )


def score_roles(predicted: pd.Series, truth: pd.Series) -> dict[str, object]:
    """Accuracy over all persons with a truth label, and precision / recall / F1 / support per role."""
    both = pd.DataFrame({"pred": predicted, "truth": truth}).dropna(subset=["truth"])
    both["pred"] = both["pred"].fillna(NONE)
    per_role: dict[str, dict[str, float | int]] = {}
    for role in (*ROLES, NONE):
        tp = int(((both["pred"] == role) & (both["truth"] == role)).sum())
        predicted_n = int((both["pred"] == role).sum())
        support = int((both["truth"] == role).sum())
        precision = tp / predicted_n if predicted_n else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_role[role] = {
            "precision": round(precision, 3),
            "recall": round(recall, 3),
            "f1": round(f1, 3),
            "accuracy": round(float(((both["pred"] == role) == (both["truth"] == role)).mean()), 3),
            "support": support,
            "predicted": predicted_n,
        }
    offenders = both[both["truth"] != NONE]
    return {
        "persons": len(both),
        "accuracy": round(float((both["pred"] == both["truth"]).mean()), 3),
        "offender_accuracy": round(float((offenders["pred"] == offenders["truth"]).mean()), 3)
        if len(offenders)
        else 0.0,
        "macro_f1": round(sum(float(per_role[r]["f1"]) for r in ROLES) / len(ROLES), 3),
        "per_role": per_role,
    }
