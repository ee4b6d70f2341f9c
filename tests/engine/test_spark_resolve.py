"""`resolve run --engine spark` gives the clusters DuckDB gives, on a generated multi-partner sample."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from avellino.resolve import store_io
from avellino.store.duckdb_store import DuckDBStore

SCALE, SEED = 1000, 3


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from avellino.ingest.run import ingest_file
    from avellino.sample import generate

    root = tmp_path_factory.mktemp("enginesample")
    manifest = generate(root / "op", scale=SCALE, seed=SEED)
    store = DuckDBStore(root / "ws", create=True)
    for f in manifest.files:
        ingest_file(store, f.path, f.mapping)
    store.close()
    return root / "ws"


def _run(workspace: Path, dest: Path, engine: str) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    shutil.copytree(workspace, dest)
    store = DuckDBStore(dest)
    try:
        summary = store_io.run(store, engine=engine)
        clusters = store.read_table(store_io.CLUSTERS).to_pandas()
        edges = store.read_table(store_io.EDGES).to_pandas()
        canonical = store.read_statements(schemata=["Person"], columns=["entity_id", "canonical_id"]).to_pandas()
    finally:
        store.close()
    return summary, clusters.merge(canonical.drop_duplicates(), on="entity_id"), edges


def test_spark_gives_the_duckdb_clusters_and_scores(spark, workspace, tmp_path):
    duck_summary, duck, duck_edges = _run(workspace, tmp_path / "duck", "duckdb")
    spark_summary, sparked, spark_edges = _run(workspace, tmp_path / "spark", "spark")
    assert spark_summary["engine"] == "spark" and duck_summary["records"] == spark_summary["records"] > 100
    assert duck_summary["clusters"] < duck_summary["records"]  # the sample holds people several partners know

    # the same pairs, with the same probabilities (the same trained parameters, scored by another engine)
    key = ["id_l", "id_r"]
    both = duck_edges.merge(spark_edges, on=key, how="outer", suffixes=("_duck", "_spark"), indicator=True)
    assert (both["_merge"] == "both").all(), both[both["_merge"] != "both"][key].head()
    diff = (both["match_probability_duck"] - both["match_probability_spark"]).abs()
    assert diff.max() < 1e-9
    gammas = [c for c in duck_edges.columns if c.startswith("gamma_")]
    assert gammas and all((both[f"{g}_duck"] == both[f"{g}_spark"]).all() for g in gammas)

    # identical clusters, stable ids included, written to the same tables and canonical ids
    d = duck.set_index("entity_id").sort_index()
    s = sparked.set_index("entity_id").sort_index()
    pd.testing.assert_frame_equal(d, s)
    assert (s["cluster_id"] == s["canonical_id"]).all()


def test_an_unknown_engine_is_named():
    from avellino import settings
    from avellino.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown engine 'flink'"):
        settings.engine("flink")


def test_missing_java_is_one_clear_error(monkeypatch):
    from avellino.engine import spark as engine
    from avellino.errors import ConfigError

    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("JAVA_HOME", raising=False)
    reason = engine.missing()
    assert reason is not None
    with pytest.raises(ConfigError, match="--engine spark cannot run"):
        engine.require()
