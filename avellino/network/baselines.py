"""The standard adaptive key-player baselines: degree, betweenness and collective influence.

Each baseline removes one vertex at a time and recomputes its score on what is left ("adaptive"), which is the
strong form used in the dismantling literature. Ties go to the vertex listed first in the input, so results are
reproducible. Vertices that may not be removed (protected persons) stay in the graph and are never chosen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import igraph as ig

Scorer = Callable[["ig.Graph"], list[float]]


def degree_scores(graph: ig.Graph) -> list[float]:
    return [float(d) for d in graph.degree()]


def betweenness_scores(graph: ig.Graph) -> list[float]:
    return [float(b) for b in graph.betweenness(directed=False)]


def collective_influence_scores(graph: ig.Graph, radius: int = 2) -> list[float]:
    """CI_l(i) = (k_i - 1) * sum over the ball frontier at distance l of (k_j - 1) (Morone & Makse, Nature 2015)."""
    deg = graph.degree()
    frontier = graph.neighborhood(order=radius, mindist=radius)
    return [float((deg[i] - 1) * sum(deg[j] - 1 for j in frontier[i])) if deg[i] else 0.0 for i in range(len(deg))]


BASELINES: dict[str, Scorer] = {
    "degree": degree_scores,
    "betweenness": betweenness_scores,
    "collective_influence": collective_influence_scores,
}


def adaptive_order(graph: ig.Graph, k: int, scorer: Scorer, removable: list[bool]) -> list[int]:
    """Remove the best-scoring removable vertex, recompute on the rest, k times; return the original ids."""
    alive = list(range(graph.vcount()))
    chosen: list[int] = []
    while len(chosen) < k:
        sub = graph.induced_subgraph(alive, implementation="create_from_scratch")
        scores = scorer(sub)
        best = -1
        for i, v in enumerate(alive):
            if removable[v] and (best < 0 or scores[i] > scores[best]):
                best = i
        if best < 0:
            break
        chosen.append(alive.pop(best))
    return chosen
