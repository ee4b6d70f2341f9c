"""Fast fragmentation arithmetic on small graphs: components after removing a set of vertices.

The disruption search evaluates hundreds of thousands of removal sets on graphs of tens to a few thousand
vertices. At that size a plain Python traversal over adjacency lists beats building an igraph subgraph per
evaluation (the C call overhead dominates), so this module keeps its own adjacency lists. igraph is still the
source of truth: ``Adjacency.from_graph`` reads it, and the public functions report back in igraph vertex ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import igraph as ig


@dataclass(frozen=True)
class Adjacency:
    """Undirected adjacency lists plus which vertices may be removed (protected persons may not)."""

    neighbours: tuple[tuple[int, ...], ...]
    removable: tuple[bool, ...]

    @property
    def n(self) -> int:
        return len(self.neighbours)

    @classmethod
    def from_graph(cls, graph: ig.Graph, removable: list[bool] | None = None) -> Adjacency:
        simple = graph.as_undirected() if graph.is_directed() else graph
        adj = [tuple(sorted(set(nb) - {v})) for v, nb in enumerate(simple.get_adjlist())]
        mask = removable if removable is not None else [True] * graph.vcount()
        return cls(tuple(adj), tuple(mask))


def components(adj: Adjacency, removed: bytearray) -> tuple[list[int], list[int]]:
    """Component label per vertex (-1 when removed) and the size of each component."""
    nb = adj.neighbours
    label = [-1] * adj.n
    sizes: list[int] = []
    for s in range(adj.n):
        if removed[s] or label[s] >= 0:
            continue
        c = len(sizes)
        label[s] = c
        stack = [s]
        count = 0
        while stack:
            u = stack.pop()
            count += 1
            for w in nb[u]:
                if label[w] < 0 and not removed[w]:
                    label[w] = c
                    stack.append(w)
        sizes.append(count)
    return label, sizes


def mask_of(n: int, vertices: list[int] | set[int] | tuple[int, ...]) -> bytearray:
    removed = bytearray(n)
    for v in vertices:
        removed[v] = 1
    return removed


def score(adj: Adjacency, vertices: list[int] | set[int] | tuple[int, ...]) -> tuple[int, int]:
    """(largest component, sum of squared component sizes) after removing ``vertices``; lower is better.

    The second term (pairwise connectivity) breaks ties between sets with the same largest component: it
    prefers sets that also break up the rest, which guides the local search across plateaus.
    """
    _, sizes = components(adj, mask_of(adj.n, vertices))
    return (max(sizes, default=0), sum(s * s for s in sizes))


def largest_component(adj: Adjacency, vertices: list[int] | set[int] | tuple[int, ...]) -> int:
    return score(adj, vertices)[0]
