"""Graph analytics in Spark SQL: connected components and PageRank, iterated until nothing changes.

GraphFrames would bring these, but its Python package does not bring its JVM library (that comes from Maven,
which an agency's cluster may not reach), so they are written here as plain DataFrame iterations: a few
dozen lines each, any Spark 3.5+/4 cluster runs them, and each iteration's result is checkpointed so the
query plan does not grow with the number of iterations.

Both take undirected edges ``src, dst`` (and an optional ``weight``) and the vertices ``id`` (vertices without
edges count: they are components of their own and hold PageRank). They answer what igraph answers on the same
graph (``connected_components``, ``pagerank(directed=False)``): tests/engine/test_spark_graph.py.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

# PageRank stops when no vertex's rank moves more than this in one step (igraph solves exactly; the remaining
# error is at most about d/(1-d) times the last step, 6e-9 here, far inside the 1e-6 the tests ask)
PAGERANK_TOL = 1e-9
MAX_ITERATIONS = 500


def _undirected(edges: Any) -> Any:
    """Both directions of every edge, self-loops dropped, parallel edges merged (weights summed)."""
    from pyspark.sql import functions as F

    weighted = edges if "weight" in edges.columns else edges.withColumn("weight", F.lit(1.0))
    both = weighted.select("src", "dst", "weight").unionByName(
        weighted.select(F.col("dst").alias("src"), F.col("src").alias("dst"), "weight")
    )
    return both.where(F.col("src") != F.col("dst")).groupBy("src", "dst").agg(F.sum("weight").alias("weight"))


def connected_components(vertices: Any, edges: Any) -> Any:
    """``id, component``: each vertex labelled with the smallest id in its component.

    Labels flow to neighbours (the smallest seen so far), then jump along labels (a vertex takes its label's
    label), which halves long paths each round: rounds grow with the log of the diameter, not the diameter.
    """
    from pyspark.sql import functions as F

    links = _undirected(edges).select("src", "dst").localCheckpoint()
    labels = vertices.select("id", F.col("id").alias("c")).localCheckpoint()
    for _ in range(MAX_ITERATIONS):
        seen = links.join(labels, links.src == labels.id).groupBy("dst").agg(F.min("c").alias("m"))
        step = (
            labels.join(seen, labels.id == seen.dst, "left")
            .select("id", F.least("c", F.coalesce("m", "c")).alias("c"))
            .alias("a")
        )
        target = step.select(F.col("id").alias("t"), F.col("c").alias("tc"))
        jumped = (
            step.join(target, F.col("a.c") == target.t, "left")
            .select("id", F.least("c", F.coalesce("tc", "c")).alias("c"))
            .localCheckpoint()
        )
        changed = jumped.alias("n").join(labels.alias("o"), "id").where(F.col("n.c") != F.col("o.c")).count()
        labels = jumped
        if changed == 0:
            break
    return labels.select("id", F.col("c").alias("component"))


def pagerank(vertices: Any, edges: Any, damping: float = 0.85, weighted: bool = False) -> Any:
    """``id, pagerank`` of the undirected graph, summing to 1, as igraph's ``pagerank(directed=False)``.

    A step: every vertex keeps ``(1 - d) / n``, passes ``d`` times its rank to its neighbours in proportion to
    the tie weights (1 each unless ``weighted``), and a vertex without ties passes it to every vertex alike.
    Each step is one checkpointed table and one aggregate (the largest move, the rank of vertices without ties).
    """
    from pyspark.sql import functions as F

    links = _undirected(edges)
    if not weighted:
        links = links.withColumn("weight", F.lit(1.0))
    out = links.groupBy("src").agg(F.sum("weight").alias("out_w"))
    links = links.join(out, "src").select("src", "dst", (F.col("weight") / F.col("out_w")).alias("share"))
    links = links.localCheckpoint()
    ids = vertices.select("id").distinct()
    n = ids.count()
    if n == 0:
        return ids.withColumn("pagerank", F.lit(0.0))
    has_ties = out.select(F.col("src").alias("id"), F.lit(False).alias("dangling"))
    ranks = (
        ids.join(has_ties, "id", "left")
        .select("id", F.lit(1.0 / n).alias("r"), F.coalesce("dangling", F.lit(True)).alias("dangling"))
        .localCheckpoint()
    )
    lost = ranks.where("dangling").agg(F.sum("r")).first()[0] or 0.0
    for _ in range(MAX_ITERATIONS):
        base = (1 - damping) / n + damping * lost / n
        passed = links.join(ranks.select("id", "r"), links.src == ranks.id).groupBy("dst")
        passed = passed.agg(F.sum(F.col("r") * F.col("share")).alias("p")).withColumnRenamed("dst", "id")
        new = (
            ranks.join(passed, "id", "left")
            .select(
                "id",
                (F.lit(base) + F.lit(damping) * F.coalesce("p", F.lit(0.0))).alias("r"),
                "dangling",
                F.col("r").alias("old"),
            )
            .localCheckpoint()
        )
        stats = new.agg(
            F.max(F.abs(F.col("r") - F.col("old"))).alias("moved"),
            F.sum(F.when(F.col("dangling"), F.col("r")).otherwise(0.0)).alias("lost"),
        ).first()
        ranks = new.drop("old")
        lost = stats["lost"] or 0.0
        if stats["moved"] is None or stats["moved"] <= PAGERANK_TOL:
            break
    total = ranks.agg(F.sum("r")).first()[0]
    return ranks.select("id", (F.col("r") / F.lit(total)).alias("pagerank"))


def graph_metrics(spark: Any, vertices: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
    """``id, component, degree, pagerank`` of a graph given as pandas (``id``; ``src, dst[, weight]``)."""
    from pyspark.sql import functions as F

    v = spark.createDataFrame(vertices[["id"]].astype({"id": str}))
    cols = ["src", "dst"] + (["weight"] if "weight" in edges.columns else [])
    e = spark.createDataFrame(edges[cols].astype({"src": str, "dst": str}), schema=_edge_schema("weight" in cols))
    degree = _undirected(e).groupBy("src").agg(F.count("*").alias("degree")).withColumnRenamed("src", "id")
    frame = (
        connected_components(v, e)
        .join(pagerank(v, e), "id")
        .join(degree, "id", "left")
        .fillna({"degree": 0})
        .toPandas()
    )
    return frame[["id", "component", "degree", "pagerank"]].sort_values("id").reset_index(drop=True)


def _edge_schema(weighted: bool) -> Any:
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType

    fields = [StructField("src", StringType()), StructField("dst", StringType())]
    return StructType(fields + ([StructField("weight", DoubleType())] if weighted else []))
