"""What the last ``resolve run`` decided, read back from the tables it keeps in the store (never re-run).

The briefing's resolution section renders this (``resolve/briefing.py``). Reading rather than running is what
lets ``avellino brief`` describe any workspace without writing to it: the demo runs ``store_io.run`` first, then
reads this like any other workspace. On the sample operation, the clusters are also scored against the truth
file (pairwise precision and recall).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from avellino.resolve.clusters import effective_judgements
from avellino.resolve.listing import merged_examples
from avellino.resolve.store_io import CLUSTERS, judgements
from avellino.resolve.things import THING_CLUSTERS, THING_EDGES
from avellino.store.base import Store


@dataclass(frozen=True)
class ThingsSummary:
    """Organisations, vehicles, vessels and accounts resolved by rules."""

    records: int
    by_kind: dict[str, int]
    clusters: int
    merged_clusters: int
    pairs_joined_by_rule: dict[str, int]
    pairs_blocked_by_conflict: int


@dataclass(frozen=True)
class ResolutionSummary:
    """Person records and the people they resolved into, the most-known people (ids only, flagged for
    safeguarding), and, on the sample operation, pairwise scores against the truth."""

    records: int
    clusters: int
    #: records per person -> people with that many records
    sizes: dict[int, int]
    judgements_applied: int
    #: rows of ``listing.merged_examples``: cluster id, partners, records, "A B" to explain, flag
    examples: list[list[object]] = field(default_factory=list)
    things: ThingsSummary | None = None
    truth: dict[str, float] | None = None

    @property
    def merged(self) -> int:
        """People known to more than one record."""
        return sum(n for size, n in self.sizes.items() if size > 1)


def read_resolution(store: Store, truth_dir: Path | None = None) -> ResolutionSummary | None:
    """The stored resolution of ``store`` (None when ``resolve run`` never ran on it)."""
    table = store.read_table(CLUSTERS)
    if table is None or not table.num_rows:
        return None
    clusters = table.to_pandas()[["entity_id", "cluster_id"]]
    sizes = Counter(clusters["cluster_id"].value_counts().tolist())
    truth_file = truth_dir / "persons.csv" if truth_dir is not None else None
    scores = None
    if truth_file is not None and truth_file.is_file():
        scores = truth_scores(clusters, pd.read_csv(truth_file, dtype=str))
    return ResolutionSummary(
        records=len(clusters),
        clusters=int(clusters["cluster_id"].nunique()),
        sizes=dict(sorted(sizes.items())),
        judgements_applied=len(effective_judgements(judgements(store))),
        examples=merged_examples(clusters, store.protected_entity_ids()),
        things=_things(store),
        truth=scores,
    )


def _things(store: Store) -> ThingsSummary | None:
    table = store.read_table(THING_CLUSTERS)
    if table is None or not table.num_rows:
        return None
    result = table.to_pandas()
    edges_table = store.read_table(THING_EDGES)
    found = edges_table.to_pandas() if edges_table is not None else pd.DataFrame(columns=["rule", "match_probability"])
    joined = found[found["match_probability"] >= 0.5]
    sizes = result.groupby("cluster_id").size()
    kinds = result["kind"] if "kind" in result.columns else pd.Series(dtype=object)
    return ThingsSummary(
        records=len(result),
        by_kind={str(k): int(n) for k, n in kinds.value_counts().sort_index().items()},
        clusters=int(len(sizes)),
        merged_clusters=int((sizes > 1).sum()),
        pairs_joined_by_rule={str(k): int(n) for k, n in joined["rule"].value_counts().sort_index().items()},
        pairs_blocked_by_conflict=int(found["rule"].astype(str).str.startswith("conflict:").sum()),
    )


def truth_scores(clusters: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """Pairwise precision, recall and F1 of ``clusters`` (entity_id, cluster_id) against truth (entity_id,
    person_id), over the records both know."""
    from avellino.resolve.metrics import cluster_scores

    both = clusters.merge(truth[["entity_id", "person_id"]], on="entity_id")
    s = cluster_scores(both, dict(zip(both["entity_id"], both["person_id"], strict=True)))
    return {
        "precision": s["cluster_precision"],
        "recall": s["cluster_recall"],
        "f1": s["cluster_f1"],
        "true_pairs": s["cluster_true_pairs"],
    }
