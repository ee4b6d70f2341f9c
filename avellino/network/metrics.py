"""Per-vertex metrics of the analysis graph on either engine: component, degree, PageRank.

``network build`` keeps them as the store's ``network_metrics`` table (``id, component, degree, pagerank``),
computed by igraph in this process (the default) or by Spark SQL (``--engine spark``,
``avellino/engine/spark_graph.py``); both give the same table (tests/engine/test_spark_graph.py). A component
is named by its smallest vertex id, so the label does not depend on the engine's numbering.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import igraph as ig

METRICS_TABLE = "network_metrics"


def igraph_metrics(graph: ig.Graph) -> pd.DataFrame:
    names = [str(n) for n in graph.vs["name"]] if graph.vcount() else []
    membership = graph.connected_components().membership if graph.vcount() else []
    component = pd.Series(names, dtype=object).groupby(membership).transform("min") if names else pd.Series([])
    frame = pd.DataFrame(
        {
            "id": names,
            "component": component.to_numpy(dtype=object),
            "degree": graph.degree(),
            "pagerank": graph.pagerank(directed=False) if graph.vcount() else [],
        }
    )
    return frame.astype({"degree": "int64", "pagerank": "float64"}).sort_values("id").reset_index(drop=True)


def spark_metrics(graph: ig.Graph) -> pd.DataFrame:
    from avellino.engine import spark as engine
    from avellino.engine.spark_graph import graph_metrics

    names = [str(n) for n in graph.vs["name"]]
    pairs = graph.get_edgelist()
    edges = pd.DataFrame({"src": [names[a] for a, _ in pairs], "dst": [names[b] for _, b in pairs]})
    frame = graph_metrics(engine.session(), pd.DataFrame({"id": names}), edges)
    return frame.astype({"degree": "int64", "pagerank": "float64"})


def metrics(graph: ig.Graph, engine: str = "duckdb") -> pd.DataFrame:
    """``id, component, degree, pagerank`` per vertex of ``graph`` (unweighted PageRank, as ``centralities``)."""
    return spark_metrics(graph) if engine == "spark" else igraph_metrics(graph)


def component_summary(frame: pd.DataFrame) -> dict[str, object]:
    """The same summary as ``structure.component_summary``, from the metrics table."""
    sizes = sorted(frame["component"].value_counts().tolist(), reverse=True)
    return {"components": len(sizes), "sizes": sizes[:20], "isolated": sum(1 for s in sizes if s == 1)}
