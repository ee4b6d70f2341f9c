"""``avellino resolve evaluate``: Avellino's model and a plain Splink baseline on any labelled file.

Two sets of figures over *all* true pairs (a true pair that blocking never compared is a miss), see
metrics.py: pairwise (``precision``, ``recall``, ``f1``: the scored pairs above the threshold, before any
chaining) and cluster-level (``cluster_precision``, ``cluster_recall``, ``cluster_f1``: every pair of records
put in one cluster, what an analyst is given; Avellino clusters as ``resolve run`` does, the baseline chains
its pairs into connected components). For a two-file (or n-file) linkage (``--source-column``) only pairs
across different sources count, as in the task.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from avellino.errors import ConfigError
from avellino.resolve.metrics import cluster_scores, clusters_from_pairs, count_true_pairs, score_pairs

__all__ = ["Scores", "count_true_pairs", "evaluate", "read_table", "score_pairs"]


@dataclass
class Scores:
    precision: float
    recall: float
    f1: float
    threshold: float
    pairs_compared: int
    true_pairs: int
    predicted_pairs: int
    cluster_precision: float
    cluster_recall: float
    cluster_f1: float
    clusters: int
    largest_cluster_records: int
    wall_s: float
    peak_mb: float
    blocking_recall: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_table(path: Path) -> pd.DataFrame:
    """CSV (any delimiter sniffed, ``, `` spacing tolerated) or Parquet, all columns as text."""
    if not path.exists():
        raise ConfigError(f"--input {path} does not exist")
    if path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path).reset_index(drop=True).astype("string")
    if path.suffix.lower() not in (".csv", ".tsv", ".txt"):
        raise ConfigError(f"--input {path}: expected a .csv or .parquet file")
    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    df = pd.read_csv(path, dtype=str, sep=sep, skipinitialspace=True, keep_default_na=False)
    df.columns = [c.strip() for c in df.columns]
    return df


class PeakMemory:
    """Peak resident memory (MB) of this process while a block runs, sampled every 20 ms."""

    def __init__(self) -> None:
        import psutil

        self._proc = psutil.Process()
        self.peak = 0.0
        self._stop = threading.Event()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss / 2**20)
            self._stop.wait(0.02)

    @contextmanager
    def watch(self) -> Iterator[PeakMemory]:
        thread = threading.Thread(target=self._sample, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()


def truth_labels(df: pd.DataFrame, truth_column: str, regex: str | None) -> pd.Series:
    if truth_column not in df.columns:
        raise ConfigError(f"--truth-column {truth_column!r} is not in the input; it has {list(df.columns)}")
    truth = df[truth_column].astype("string")
    if regex:
        pattern = re.compile(regex)
        if pattern.groups < 1:
            raise ConfigError("--truth-regex needs one capturing group, e.g. 'rec-(\\d+)-'")
        truth = truth.str.extract(pattern, expand=False)
    return truth


Scored = tuple[pd.DataFrame, int, float, pd.DataFrame]


def blocking_recall(compared_ids: list[pd.DataFrame], truth_by_id: Mapping[str, Any], true_pairs: int) -> float:
    """True pairs that blocking reached (compared at all, whatever their score) / all true pairs."""
    if not true_pairs or not compared_ids:
        return 0.0
    ids = compared_ids[0]
    left = ids["unique_id_l"].map(truth_by_id)
    right = ids["unique_id_r"].map(truth_by_id)
    return round(int(((left == right) & left.notna()).sum()) / true_pairs, 5)


def run_scored(
    fn: Callable[[list[pd.DataFrame]], Scored],
    truth_by_id: Mapping[str, Any],
    true_pairs: int,
    source_by_id: Mapping[str, Any] | None,
) -> tuple[Scores, pd.DataFrame]:
    """Time and memory-watch one model; ``fn`` returns (scored pairs, pairs compared, threshold, clusters) and
    puts the ids of every compared pair in the list it is given. Returns the scores and the scored pairs."""
    meter = PeakMemory()
    compared_ids: list[pd.DataFrame] = []
    start = time.perf_counter()
    with meter.watch():
        pairs, compared, threshold, clusters = fn(compared_ids)
    wall = time.perf_counter() - start
    p, r, f, n = score_pairs(pairs, truth_by_id, true_pairs, threshold)
    c = cluster_scores(clusters, truth_by_id, source_by_id)
    scores = Scores(
        round(p, 5), round(r, 5), round(f, 5), threshold, compared, true_pairs, n,
        c["cluster_precision"], c["cluster_recall"], c["cluster_f1"], c["clusters"], c["largest_cluster_records"],
        round(wall, 2), round(meter.peak, 1), blocking_recall(compared_ids, truth_by_id, true_pairs),
    )  # fmt: skip
    return scores, pairs


def oracle_threshold(pairs: pd.DataFrame, truth_by_id: Mapping[str, Any], true_pairs: int) -> float:
    """The threshold with the best pairwise F1 against the labels (an upper bound: it uses the labels)."""
    if pairs.empty or not true_pairs:
        return 1.0
    ordered = pairs.sort_values("match_probability", ascending=False)
    left = ordered["unique_id_l"].map(truth_by_id)
    hit = ((left == ordered["unique_id_r"].map(truth_by_id)) & left.notna()).to_numpy().cumsum()
    f1 = 2 * hit / (pd.RangeIndex(1, len(ordered) + 1).to_numpy() + true_pairs)
    return float(ordered["match_probability"].iloc[int(f1.argmax())])


def evaluate(
    df: pd.DataFrame,
    id_column: str,
    truth_column: str,
    roles: Mapping[str, str],
    source_column: str | None = None,
    truth_regex: str | None = None,
    threshold: float | None = None,
) -> dict[str, Any]:
    """Both models on ``df``; returns ``{"avellino": {...}, "baseline": {...}}``."""
    from avellino.resolve import baseline, pipeline

    df = df.reset_index(drop=True)
    truth = truth_labels(df, truth_column, truth_regex)
    if id_column not in df.columns:
        raise ConfigError(f"--id-column {id_column!r} is not in the input; it has {list(df.columns)}")
    source = df[source_column].astype("string") if source_column and source_column in df.columns else None
    true_pairs = count_true_pairs(truth, source)
    ids = df[id_column].astype("string")
    truth_by_id = dict(zip(ids, truth, strict=True))
    source_by_id = dict(zip(ids, source, strict=True)) if source is not None else None

    def ours(ids: list[pd.DataFrame]) -> Scored:
        return pipeline.score_and_cluster(df, roles, id_column, source_column, threshold=threshold, compared_ids=ids)

    def base(ids: list[pd.DataFrame]) -> Scored:
        pairs, compared, cut = baseline.score_table(df, roles, id_column, source_column, threshold, ids)
        return pairs, compared, cut, clusters_from_pairs(list(truth_by_id), pairs, cut)

    avellino, _ = run_scored(ours, truth_by_id, true_pairs, source_by_id)
    base_scores, base_pairs = run_scored(base, truth_by_id, true_pairs, source_by_id)
    # the same baseline pairs at the threshold the labels like best: an upper bound, not a model
    cut = oracle_threshold(base_pairs, truth_by_id, true_pairs)
    p, r, f, n = score_pairs(base_pairs, truth_by_id, true_pairs, cut)
    clusters = cluster_scores(clusters_from_pairs(list(truth_by_id), base_pairs, cut), truth_by_id, source_by_id)
    oracle = {
        "note": "upper bound: the baseline's pairs at the threshold with the best F1 against the labels",
        "precision": round(p, 5), "recall": round(r, 5), "f1": round(f, 5), "threshold": cut,
        "predicted_pairs": n, "cluster_precision": clusters["cluster_precision"],
        "cluster_recall": clusters["cluster_recall"], "cluster_f1": clusters["cluster_f1"],
    }  # fmt: skip
    return {"avellino": avellino.as_dict(), "baseline": base_scores.as_dict(), "baseline_oracle": oracle}
