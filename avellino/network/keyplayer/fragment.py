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


def prefix_scores(adj: Adjacency, order: list[int]) -> list[tuple[int, int]]:
    """``score(adj, order[:i])`` for i = 1..len(order), all in one pass.

    Remove the whole order, then put its vertices back last first with a union-find, noting the largest
    component and pairwise connectivity before each return: near-linear for all prefixes together, where
    scoring each prefix costs a traversal of the graph."""
    parent = list(range(adj.n))
    size = [1] * adj.n
    removed = mask_of(adj.n, order)

    def find(v: int) -> int:
        while parent[v] != v:
            parent[v] = parent[parent[v]]
            v = parent[v]
        return v

    largest, pc = 0, 0
    nb = adj.neighbours

    def join(a: int, b: int) -> None:
        nonlocal largest, pc
        ra, rb = find(a), find(b)
        if ra == rb:
            return
        if size[ra] < size[rb]:
            ra, rb = rb, ra
        pc += 2 * size[ra] * size[rb]
        parent[rb] = ra
        size[ra] += size[rb]
        largest = max(largest, size[ra])

    for v in range(adj.n):
        if not removed[v]:
            pc += 1
            largest = max(largest, 1)
    for v in range(adj.n):
        if not removed[v]:
            for w in nb[v]:
                if w > v and not removed[w]:
                    join(v, w)
    out: list[tuple[int, int]] = []
    for v in reversed(order):
        out.append((largest, pc))
        removed[v] = 0
        pc += 1
        largest = max(largest, 1)
        for w in nb[v]:
            if not removed[w]:
                join(v, w)
    return out[::-1]


def largest_component(adj: Adjacency, vertices: list[int] | set[int] | tuple[int, ...]) -> int:
    return score(adj, vertices)[0]


def cut_pieces(adj: Adjacency, removed: bytearray, root: int) -> tuple[list[int], dict[int, list[int]]]:
    """The vertices of ``root``'s component and, for each, the pieces its removal leaves of that component.

    One depth-first search with low-links (Hopcroft-Tarjan articulation points) answers "what happens if v
    goes?" for every v of the component at once, where removing each in turn would cost one traversal per v.
    A vertex absent from the dict splits nothing off: its removal leaves one piece of size (component - 1).
    """
    nb = adj.neighbours
    disc = [-1] * adj.n
    low = [0] * adj.n
    size = [1] * adj.n
    pieces: dict[int, list[int]] = {}
    seen = [root]
    disc[root] = 0
    stack = [(root, -1, iter(nb[root]))]
    while stack:
        u, parent, it = stack[-1]
        for w in it:
            if removed[w]:
                continue
            if disc[w] < 0:
                disc[w] = low[w] = len(seen)
                seen.append(w)
                stack.append((w, u, iter(nb[w])))
                break
            if w != parent and disc[w] < low[u]:
                low[u] = disc[w]
        else:
            stack.pop()
            if parent >= 0:
                size[parent] += size[u]
                low[parent] = min(low[parent], low[u])
                if low[u] >= disc[parent]:  # u's subtree has no edge above parent: a separate piece
                    pieces.setdefault(parent, []).append(size[u])
    total = len(seen)
    for sep in pieces.values():
        rest = total - 1 - sum(sep)
        if rest:
            sep.append(rest)
    return seen, pieces
