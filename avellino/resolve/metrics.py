"""Scores against a known truth: pairs as the model scored them, and the clusters analysts are given.

Pairwise scores (``score_pairs``) count each scored pair above the threshold once; they say nothing about
what chaining does (A~B and B~C put A and C together even when nobody scored A~C). Cluster-level scores
(``cluster_scores``) count every pair of records put in the same cluster, which is what an analyst sees:
precision = pairs of co-clustered records that are the same person / all co-clustered pairs; recall = the same
over all true pairs (a true pair split across clusters is a miss). With ``source`` only pairs across different
sources count (two-file linkage).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd


def _pairs_within(groups: pd.DataFrame, keys: list[str], source: str | None) -> int:
    """Pairs of rows sharing ``keys`` (across different ``source`` values only, when given)."""
    if groups.empty:
        return 0
    if source is None:
        sizes = groups.groupby(keys, dropna=True).size()
        return int((sizes * (sizes - 1) // 2).sum())
    per_source = groups.groupby([*keys, source], dropna=True).size()
    totals = per_source.groupby(level=list(range(len(keys)))).sum()
    squares = (per_source**2).groupby(level=list(range(len(keys)))).sum()
    return int(((totals**2 - squares) // 2).sum())


def count_true_pairs(truth: pd.Series, source: pd.Series | None) -> int:
    frame = pd.DataFrame({"truth": truth.to_numpy()})
    if source is not None:
        frame["source"] = source.to_numpy()
    return _pairs_within(frame.dropna(subset=["truth"]), ["truth"], "source" if source is not None else None)


def score_pairs(
    pairs: pd.DataFrame, truth_by_id: Mapping[str, Any], true_pairs: int, threshold: float
) -> tuple[float, float, float, int]:
    """precision, recall, f1 and the number of predicted pairs at ``threshold`` (pairs as scored)."""
    chosen = pairs[pairs["match_probability"] >= threshold]
    left = chosen["unique_id_l"].map(truth_by_id)
    right = chosen["unique_id_r"].map(truth_by_id)
    tp = int(((left == right) & left.notna()).sum())
    n = len(chosen)
    return (*_prf(tp, n, true_pairs), n)


def _prf(tp: int, predicted: int, true_pairs: int) -> tuple[float, float, float]:
    precision = tp / predicted if predicted else 0.0
    recall = tp / true_pairs if true_pairs else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def cluster_scores(
    clusters: pd.DataFrame,
    truth_by_id: Mapping[str, Any],
    source_by_id: Mapping[str, Any] | None = None,
    protected_by_id: Mapping[str, bool] | None = None,
) -> dict[str, Any]:
    """``cluster_precision``, ``cluster_recall``, ``cluster_f1`` over ``clusters`` (``entity_id, cluster_id``).

    Records missing from ``clusters`` count as singletons. With ``protected_by_id`` (True for a victim, False
    for an offender, missing for neither) ``mixed_clusters`` counts clusters holding both a true victim and a
    true offender. Also: number of clusters, the largest cluster (records, true people in it) and how many
    clusters hold more than one true person.
    """
    ids = list(truth_by_id)
    assigned = clusters.drop_duplicates("entity_id").set_index("entity_id")["cluster_id"]
    frame = pd.DataFrame({"entity_id": ids, "truth": [truth_by_id[i] for i in ids]})
    frame["cluster_id"] = frame["entity_id"].map(assigned).fillna(frame["entity_id"].map(lambda i: f"single:{i}"))
    source = None
    if source_by_id is not None:
        frame["source"] = frame["entity_id"].map(source_by_id)
        source = "source"
    true_pairs = _pairs_within(frame.dropna(subset=["truth"]), ["truth"], source)
    predicted = _pairs_within(frame, ["cluster_id"], source)
    tp = _pairs_within(frame.dropna(subset=["truth"]), ["cluster_id", "truth"], source)
    precision, recall, f1 = _prf(tp, predicted, true_pairs)
    sizes = frame.groupby("cluster_id").agg(records=("entity_id", "size"), people=("truth", "nunique"))
    largest = sizes.sort_values(["records", "people"], ascending=False).iloc[0] if len(sizes) else None
    out: dict[str, Any] = {
        "cluster_precision": round(precision, 5),
        "cluster_recall": round(recall, 5),
        "cluster_f1": round(f1, 5),
        "clusters": len(sizes),
        "impure_clusters": int((sizes["people"] > 1).sum()),
        "largest_cluster_records": int(largest["records"]) if largest is not None else 0,
        "largest_cluster_people": int(largest["people"]) if largest is not None else 0,
        "cluster_true_pairs": true_pairs,
        "cluster_predicted_pairs": predicted,
    }
    if protected_by_id is not None:
        flags = frame["entity_id"].map(protected_by_id)
        kinds = pd.DataFrame({"cluster_id": frame["cluster_id"], "victim": flags.eq(True), "offender": flags.eq(False)})
        per = kinds.groupby("cluster_id")[["victim", "offender"]].any()
        out["mixed_clusters"] = int((per["victim"] & per["offender"]).sum())
    return out


def clusters_from_pairs(ids: list[str], pairs: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Connected components over the pairs at ``threshold`` (``unique_id_l``/``unique_id_r``): chaining only,
    no judgements or conflicts; for scoring a baseline's pairs as clusters."""
    from avellino.resolve.clusters import cluster

    edges = pairs.rename(columns={"unique_id_l": "id_l", "unique_id_r": "id_r"})[["id_l", "id_r", "match_probability"]]
    comps = cluster(ids, edges, pd.DataFrame(), threshold)
    return comps.rename(columns={"component": "cluster_id"})
