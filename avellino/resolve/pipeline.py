"""Avellino's resolution run over a plain table: features -> trained Splink model -> scored pairs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from avellino.resolve import model as resolve_model
from avellino.resolve.features import build_features


def scored_pairs(
    linker: Any, compared_ids: list[pd.DataFrame] | None = None, keep_from: float = 0.01
) -> tuple[pd.DataFrame, int]:
    """Every blocked pair with its match probability (``unique_id_l``, ``unique_id_r``, ...), and their count.

    Pairs under ``keep_from`` (1%) are counted but not returned: they never matter for a decision and would
    fill memory (the baseline keeps them all, for its label-optimal threshold).
    ``compared_ids``, when given, receives the ids of every compared pair (``evaluate``'s blocking recall).
    """
    result = linker.inference.predict()
    rel = result.as_duckdbpyrelation() if hasattr(result, "as_duckdbpyrelation") else None
    if rel is not None:
        compared = int(rel.aggregate("count(*)").fetchall()[0][0])
        kept = rel.filter(f"match_probability >= {float(keep_from)}").df()
        if compared_ids is not None:
            compared_ids.append(rel.project("unique_id_l, unique_id_r").df())
        return kept, compared
    frame = result.as_pandas_dataframe()
    if compared_ids is not None:
        compared_ids.append(frame[["unique_id_l", "unique_id_r"]])
    return frame[frame["match_probability"] >= keep_from], len(frame)


def score_table(
    df: pd.DataFrame,
    roles: Mapping[str, str],
    id_column: str,
    source_column: str | None = None,
    threshold: float | None = None,
    labels: pd.DataFrame | None = None,
    default_country: str | None = None,
) -> tuple[pd.DataFrame, int, float]:
    """Features, unsupervised training and scoring of ``df``; returns (pairs, pairs compared, threshold)."""
    features = build_features(df, roles, id_column, source_column, default_country=default_country)
    return _score(features, source_column is not None, threshold, labels)


def _score(
    features: pd.DataFrame,
    link_only: bool,
    threshold: float | None,
    labels: pd.DataFrame | None = None,
    compared_ids: list[pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, int, float]:
    trained = resolve_model.train(features, link_only=link_only, labels=labels, explainable=False)
    pairs, compared = scored_pairs(trained.linker, compared_ids)
    if threshold is None:
        threshold = resolve_model.decision_threshold(trained, features, pairs)
    return pairs, compared, threshold


def score_and_cluster(
    df: pd.DataFrame,
    roles: Mapping[str, str],
    id_column: str,
    source_column: str | None = None,
    threshold: float | None = None,
    compared_ids: list[pd.DataFrame] | None = None,
) -> tuple[pd.DataFrame, int, float, pd.DataFrame]:
    """``score_table``, then the clusters ``resolve run`` would make of the pairs (``entity_id, cluster_id``):
    joined strongest first, never across a conflict (``conflicts.py``)."""
    from avellino.resolve.clusters import cluster
    from avellino.resolve.conflicts import evidence_from_features

    features = build_features(df, roles, id_column, source_column)
    pairs, compared, threshold = _score(features, source_column is not None, threshold, None, compared_ids)
    edges = pairs.rename(columns={"unique_id_l": "id_l", "unique_id_r": "id_r"})[["id_l", "id_r", "match_probability"]]
    comps = cluster(features["unique_id"], edges, pd.DataFrame(), threshold, evidence_from_features(features))
    return pairs, compared, threshold, comps.rename(columns={"component": "cluster_id"})


def train_on(df: pd.DataFrame, roles: Mapping[str, str], id_column: str, **kw: Any) -> resolve_model.TrainedModel:
    source = kw.pop("source_column", None)
    features = build_features(df, roles, id_column, source, default_country=kw.pop("default_country", None))
    return resolve_model.train(features, link_only=source is not None, **kw)
