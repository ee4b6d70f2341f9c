"""The standard adaptive key-player baselines: degree, betweenness and collective influence.

Each baseline removes one vertex at a time and recomputes its score on what is left ("adaptive"), which is the
strong form used in the dismantling literature. Ties go to the vertex listed first in the input, so results are
reproducible. Vertices that may not be removed (protected persons) stay in the graph and are never chosen.
"""

from __future__ import annotations

import random
import time
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


def adaptive_order(
    graph: ig.Graph,
    k: int,
    scorer: Scorer,
    removable: list[bool],
    deadline: float | None = None,
    notes: list[str] | None = None,
) -> tuple[list[int], int]:
    """Remove the best-scoring removable vertex, recompute on the rest, k times; return the original ids and
    how many removals were adaptive.

    The scores are local to a component (degree, betweenness and collective influence count nothing across
    components), so after a removal only the component it was in is rescored: the same order as rescoring
    the whole graph, at a fraction of the cost once the network has started to fall apart. Past ``deadline``
    (``time.monotonic()``), the remaining removals are taken in the order of the current scores (the
    baseline is no longer adaptive from there), so a budget bounds every baseline; the first removal is
    always scored, by betweenness estimated from sampled sources when a full pass would not fit (said in
    ``notes``)."""
    n = graph.vcount()
    neighbours = graph.get_adjlist()
    sampled: list[int] = []
    scores = _scores(graph, scorer, deadline, sampled)
    alive = [True] * n
    chosen: list[int] = []
    while len(chosen) < k:
        ranked = [v for v in range(n) if alive[v] and removable[v]]
        if not ranked:
            break
        if deadline is not None and time.monotonic() > deadline and chosen:
            adaptive = len(chosen)
            ranked.sort(key=lambda v: (-scores[v], v))
            return chosen + ranked[: k - len(chosen)], adaptive
        best = min(ranked, key=lambda v: (-scores[v], v))
        chosen.append(best)
        alive[best] = False
        touched = _component_of(neighbours, alive, [w for w in neighbours[best] if alive[w]])
        if touched:
            sub = graph.induced_subgraph(touched, implementation="create_from_scratch")
            for v, value in zip(touched, _scores(sub, scorer, deadline, sampled), strict=True):
                scores[v] = float(value)
    if sampled and notes is not None:
        notes.append(
            f"betweenness estimated from sampled sources ({min(sampled)}-{max(sampled)} per pass) on the "
            "larger components (effort budget)"
        )
    return chosen, len(chosen)


#: Sources timed to estimate what a full betweenness pass would cost.
PROBE_SOURCES = 8


def _scores(graph: ig.Graph, scorer: Scorer, deadline: float | None, sampled: list[int]) -> list[float]:
    """``scorer(graph)``; for betweenness, when a full pass (one traversal per source) would run past the
    deadline, an estimate from as many random sources as half the time left allows (at least the probe's),
    appending their number to ``sampled``. Degree and collective influence are linear and always exact."""
    n = graph.vcount()
    if scorer is not betweenness_scores or deadline is None or n <= PROBE_SOURCES:
        return [float(x) for x in scorer(graph)]
    rng = random.Random(n)
    probe = rng.sample(range(n), PROBE_SOURCES)
    began = time.monotonic()
    graph.betweenness(directed=False, sources=probe)
    per_source = (time.monotonic() - began) / PROBE_SOURCES
    left = deadline - time.monotonic()
    if per_source * n <= left:
        return [float(x) for x in scorer(graph)]
    count = min(n, max(PROBE_SOURCES, int(0.5 * max(left, 0.0) / max(per_source, 1e-9))))
    sampled.append(count)
    return [float(b) for b in graph.betweenness(directed=False, sources=rng.sample(range(n), count))]


def _component_of(neighbours: list[list[int]], alive: list[bool], starts: list[int]) -> list[int]:
    """The alive vertices reachable from ``starts``, sorted (the pieces a removed vertex's component left)."""
    seen = set(starts)
    stack = list(starts)
    while stack:
        u = stack.pop()
        for w in neighbours[u]:
            if alive[w] and w not in seen:
                seen.add(w)
                stack.append(w)
    return sorted(seen)
