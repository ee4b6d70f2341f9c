"""Exact search: can k removals leave no component larger than T? (branch and bound, effort-bounded).

Why it works: if some component of G - S has more than T vertices, then any connected set W of T + 1 of its
vertices must lose at least one vertex to the answer. Branching over W (the i-th branch removes W[i] and promises
never to remove W[0..i-1]) enumerates every answer once, with branching factor at most T + 1 and depth k
(the classical bounded-search-tree for "component order connectivity"). What keeps it small:

* **packing bound**: greedily carve vertex-disjoint connected (T+1)-sets out of G - S; each needs its own
  removal, so more sets than removals left means no answer below this node. The carved set with the fewest
  still-removable vertices is the one we branch on;
* **degree bound**: r more removals split the big components into at most (#big + sum of the r largest
  degree - 1) pieces of at most T vertices each;
* **one removal left**: answered exactly by one articulation-point pass (``cut_pieces``) instead of one
  traversal per candidate; with several big components, one that no single removal can break counts twice;
* **leaf dominance**: removing a leaf is never better than removing its (removable) neighbour;
* **twins**: vertices with the same remaining neighbours (members of a cell who all know the same two
  people) are interchangeable, so when removing one fails, removing any of its twins fails too;
* **ordering**: candidates that split their component most are tried first, so improving answers come early.

Used by the shipped method (to improve a heuristic answer within a budget) and by the benchmark (to prove
optimality for k <= 5).
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass, field

from avellino.network.keyplayer.fragment import Adjacency, components, cut_pieces


class Budget(Exception):
    """Raised inside the search when its node or time budget is spent."""


@dataclass
class _Search:
    adj: Adjacency
    threshold: int
    deadline: float
    max_nodes: int
    nodes: int = 0
    removed: bytearray = field(default_factory=bytearray)
    banned: bytearray = field(default_factory=bytearray)
    nbset: list[frozenset[int]] = field(default_factory=list)

    def run(self, k: int, keep: list[int]) -> list[int] | None:
        """Up to k removals in all, ``keep`` among them, leaving no component above the threshold."""
        self.removed = _mask(self.adj.n, keep)
        self.banned = bytearray(0 if r else 1 for r in self.adj.removable)
        self.nbset = [frozenset(nb) for nb in self.adj.neighbours]
        return self._branch(list(keep), k - len(keep))

    def _branch(self, chosen: list[int], budget: int) -> list[int] | None:
        self.nodes += 1
        if self.nodes > self.max_nodes or time.monotonic() > self.deadline:
            raise Budget
        label, sizes = components(self.adj, self.removed)
        big = [c for c, s in enumerate(sizes) if s > self.threshold]
        if not big:
            return list(chosen)
        if len(big) > budget:
            return None
        if budget == 1:
            v = self._best_cut(label.index(big[0]))
            return [*chosen, v] if v is not None else None
        if not self._degree_bound_ok(label, sizes, budget) or not self._cut_bound_ok(label, big, budget):
            return None
        witness = self._packing_witness(label, sizes, budget)
        if witness is None:
            return None
        newly_banned: list[int] = []
        result: list[int] | None = None
        scores = self._cut_scores(witness[0])  # the witness is connected: one component, one pass
        for v in self._ordered(witness, scores):
            if self.banned[v]:
                continue
            if self._leaf_dominated(v):
                self.banned[v] = 1
                newly_banned.append(v)
                continue
            # look-ahead: each component left above T needs its own removal, so skip v when too many remain
            if len(big) - 1 + scores[v][2] < budget:
                self.removed[v] = 1
                chosen.append(v)
                result = self._branch(chosen, budget - 1)
                chosen.pop()
                self.removed[v] = 0
                if result is not None:
                    break
            # v failed, and so does each twin of v: the swap maps one subtree onto the other
            for u in [v, *self._twins(v)]:
                self.banned[u] = 1
                newly_banned.append(u)
        for v in newly_banned:
            self.banned[v] = 0
        return result

    def _cut_scores(self, root: int) -> dict[int, tuple[int, int, int]]:
        """For each allowed vertex of root's component, what its removal leaves of that component:
        (largest piece, sum of squared pieces, number of pieces above T)."""
        seen, pieces = cut_pieces(self.adj, self.removed, root)
        whole = [len(seen) - 1] if len(seen) > 1 else []
        t = self.threshold
        out: dict[int, tuple[int, int, int]] = {}
        for v in seen:
            if not self.banned[v]:
                p = pieces.get(v, whole)
                out[v] = (max(p, default=0), sum(x * x for x in p), sum(1 for x in p if x > t))
        return out

    def _best_cut(self, root: int) -> int | None:
        """The allowed vertex whose removal leaves root's component in pieces of at most T, best first."""
        scores = self._cut_scores(root)
        if not scores:
            return None
        v = min(scores, key=scores.__getitem__)
        return v if scores[v][0] <= self.threshold else None

    def _cut_bound_ok(self, label: list[int], big: list[int], budget: int) -> bool:
        """Each big component needs one removal, or two when no single allowed vertex breaks it."""
        if 2 * len(big) <= budget:
            return True
        need = sum(1 if self._best_cut(label.index(c)) is not None else 2 for c in big)
        return need <= budget

    def _ordered(self, witness: list[int], scores: dict[int, tuple[int, int, int]]) -> list[int]:
        """Witness vertices, those that split their component most first (then by remaining degree)."""
        nb, removed = self.adj.neighbours, self.removed
        worst = (self.adj.n, 0, 0)
        return sorted(witness, key=lambda v: (scores.get(v, worst)[:2], -sum(1 for w in nb[v] if not removed[w])))

    def _leaf_dominated(self, u: int) -> bool:
        """A leaf is never worth removing while its neighbour may be: that neighbour cuts it off and more."""
        alive = [w for w in self.adj.neighbours[u] if not self.removed[w]]
        return len(alive) == 1 and not self.banned[alive[0]]

    def _twins(self, v: int) -> list[int]:
        """Allowed vertices with v's remaining neighbourhood (v itself aside): swapping them is a symmetry."""
        removed, banned, nbset = self.removed, self.banned, self.nbset
        alive = {w for w in self.adj.neighbours[v] if not removed[w]}
        if not alive:
            return []
        pivot = min(alive, key=lambda w: len(nbset[w]))
        out = []
        for u in nbset[pivot] | alive:
            if u == v or removed[u] or banned[u] or len(nbset[u]) < len(alive) - 1:
                continue
            mine = {w for w in nbset[u] if not removed[w]}
            if mine - {v} == alive - {u}:
                out.append(u)
        return out

    def _degree_bound_ok(self, label: list[int], sizes: list[int], budget: int) -> bool:
        big = {c for c, s in enumerate(sizes) if s > self.threshold}
        total = sum(sizes[c] for c in big)
        degs = sorted(
            (
                sum(1 for w in self.adj.neighbours[v] if not self.removed[w])
                for v in range(self.adj.n)
                if label[v] in big and not self.banned[v]
            ),
            reverse=True,
        )[:budget]
        pieces = len(big) + sum(max(d - 1, 0) for d in degs)
        return total - len(degs) <= self.threshold * pieces

    def _packing_witness(self, label: list[int], sizes: list[int], budget: int) -> list[int] | None:
        """Carve disjoint connected (T+1)-sets; None when they prove this node hopeless, else the best one."""
        used = bytearray(self.removed)
        need = self.threshold + 1
        best: list[int] | None = None
        best_free = need + 1
        count = 0
        while True:
            lab, sz = components(self.adj, used) if count else (label, sizes)
            starts = [v for v in range(self.adj.n) if lab[v] >= 0 and sz[lab[v]] >= need]
            if not starts:
                break
            carved = self._grow(starts, used, need)
            count += 1
            free = sum(1 for v in carved if not self.banned[v])
            if free == 0 or count > budget:
                return None
            if free < best_free:
                best, best_free = carved, free
            for v in carved:
                used[v] = 1
        return best

    def _grow(self, starts: list[int], used: bytearray, need: int) -> list[int]:
        """A connected set of ``need`` vertices grown from a low-degree start, preferring banned vertices."""
        nb = self.adj.neighbours

        def key(v: int) -> tuple[int, int]:
            return (0 if self.banned[v] else 1, sum(1 for w in nb[v] if not used[w]))

        start = min(starts, key=key)
        heap = [(key(start), start)]
        seen = {start}
        taken: list[int] = []
        while heap and len(taken) < need:
            _, u = heapq.heappop(heap)
            taken.append(u)
            for w in nb[u]:
                if not used[w] and w not in seen:
                    seen.add(w)
                    heapq.heappush(heap, (key(w), w))
        return taken


@dataclass(frozen=True)
class ExactResult:
    """``chosen`` meets the threshold; ``proven`` says no answer smaller than ``lcc`` exists for this k."""

    chosen: list[int]
    lcc: int
    proven: bool
    nodes: int


def improve_exact(
    adj: Adjacency,
    k: int,
    start: list[int],
    start_lcc: int,
    seconds: float,
    max_nodes: int = 10**9,
    keep: list[int] | None = None,
) -> ExactResult:
    """Lower the largest component below ``start_lcc`` one step at a time until proven optimal or out of budget.

    With ``keep``, those vertices stay removed and only the other k - len(keep) are searched: "proven" then
    means optimal given ``keep`` (the exact neighbourhood that ``search.pair_descent`` explores).
    """
    deadline = time.monotonic() + seconds
    chosen, lcc, total = list(start), start_lcc, 0
    while lcc > 0:
        search = _Search(adj, lcc - 1, deadline, max_nodes - total)
        try:
            found = search.run(k, keep or [])
        except Budget:
            return ExactResult(chosen, lcc, False, total + search.nodes)
        total += search.nodes
        if found is None:
            return ExactResult(chosen, lcc, True, total)
        _, sizes = components(adj, _mask(adj.n, found))
        chosen, lcc = found, max(sizes, default=0)
    return ExactResult(chosen, lcc, True, total)


def _mask(n: int, vertices: list[int]) -> bytearray:
    m = bytearray(n)
    for v in vertices:
        m[v] = 1
    return m
