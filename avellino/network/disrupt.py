"""Key players: which k people, phones or accounts to stop so the network falls apart most.

The objective is the size of the largest connected component (LCC) left after removing k vertices.
``plan_disruption`` runs the three adaptive baselines and Avellino's method, and every list it returns passes
through :meth:`Protection.release`.

Avellino's method answers each k separately (the best set of 5 need not contain the best set of 4):

1. **Seeds**: the prefixes of every baseline order, of an adaptive greedy on the true objective, and the
   best (k-1)-set plus one vertex. The best seed is kept, so the method is never worse than any baseline.
2. **Quick proofs**: a short branch and bound (``exact.py``) per k; on small networks it settles most k.
3. **Local search** on the k still open: iterated 1-swap descent on (LCC, pairwise connectivity) with
   kicks, and exact 2- and 3-exchanges (the branch and bound re-choosing 2 or 3 of the k, the rest kept).
4. **Exact improvement**: the branch and bound on all k vertices, in rounds of doubling slices per open k
   (also seeded from the answers at k-1 and k+1), pushes the LCC lower still until each k is proven
   optimal or the budget is spent.

Steps 2-4 share an effort budget in seconds; on networks too large for them, the seeds alone are used
(see ``scale.py`` for graphs with millions of vertices).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from avellino.network.baselines import BASELINES, adaptive_order
from avellino.network.exact import improve_exact
from avellino.network.fragment import Adjacency, components, score
from avellino.network.protect import Protection
from avellino.network.search import exchange_descent, greedy_order, iterated_search, pad_greedy

if TYPE_CHECKING:
    import igraph as ig

METHOD_NAME = "avellino"
EXACT_MAX_VERTICES = 3000
SEARCH_MAX_VERTICES = 20000


@dataclass(frozen=True)
class Step:
    """The set removed at one k and what it leaves."""

    k: int
    removed: list[str]
    lcc: int
    lcc_fraction: float
    proven_optimal: bool = False

    def as_json(self) -> dict[str, object]:
        return {"k": self.k, "removed": self.removed, "lcc_fraction": self.lcc_fraction}


@dataclass
class DisruptionPlan:
    nodes: int
    edges: int
    lcc0: int
    methods: dict[str, list[Step]]
    flagged: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "nodes": self.nodes,
            "edges": self.edges,
            "lcc0": self.lcc0,
            "methods": {name: [s.as_json() for s in steps] for name, steps in self.methods.items()},
        }
        if self.flagged:
            out["protected"] = self.flagged
        return out


def plan_disruption(
    graph: ig.Graph,
    k_max: int,
    protection: Protection | None = None,
    effort_seconds: float = 20.0,
    baselines: bool = True,
) -> DisruptionPlan:
    """Targets for k = 1..k_max by each method; protected vertices are never removed nor listed."""
    protection = protection or Protection()
    mask = protection.removable_mask(graph)
    adj = Adjacency.from_graph(graph, mask)
    names = [str(n) for n in graph.vs["name"]] if "name" in graph.vs.attributes() else None
    lcc0 = max(components(adj, bytearray(adj.n))[1], default=0)
    orders = {name: adaptive_order(graph, k_max, scorer, mask) for name, scorer in BASELINES.items()}
    sets = avellino_sets(adj, k_max, list(orders.values()), effort_seconds)
    methods: dict[str, list[tuple[list[int], bool]]] = {METHOD_NAME: sets}
    if baselines:
        methods.update({name: [(order[:k], False) for k in range(1, k_max + 1)] for name, order in orders.items()})
    plan = DisruptionPlan(graph.vcount(), graph.ecount(), lcc0, {}, protection.flags(graph))
    for name, per_k in methods.items():
        plan.methods[name] = [
            _step(adj, k, chosen, proven, lcc0, names, protection) for k, (chosen, proven) in enumerate(per_k, start=1)
        ]
    return plan


def _step(
    adj: Adjacency,
    k: int,
    chosen: list[int],
    proven: bool,
    lcc0: int,
    names: list[str] | None,
    protection: Protection,
) -> Step:
    lcc = score(adj, chosen)[0]
    labels = [names[v] if names else str(v) for v in chosen]
    return Step(k, protection.release(labels), lcc, lcc / lcc0 if lcc0 else 0.0, proven)


def avellino_sets(
    adj: Adjacency, k_max: int, seed_orders: list[list[int]], effort_seconds: float
) -> list[tuple[list[int], bool]]:
    """Avellino's answer per k (index k-1): (vertex ids, proven optimal)."""
    start = time.monotonic()
    orders = [*seed_orders]
    if adj.n <= SEARCH_MAX_VERTICES:
        orders.append(greedy_order(adj, k_max))
    best: list[list[int]] = []
    for k in range(1, k_max + 1):
        seeds = [o[:k] for o in orders if len(o) >= k]
        if best:
            seeds.append(_pad(adj, best[-1], k))
        seeds = seeds or [_pad(adj, [], k)]
        best.append(min(seeds, key=lambda s: score(adj, s)))
    proven = [False] * k_max
    if adj.n > SEARCH_MAX_VERTICES or effort_seconds <= 0:
        return list(zip(best, proven, strict=True))
    end = start + effort_seconds
    exact = adj.n <= EXACT_MAX_VERTICES
    if exact:  # cheap proofs first: on small networks most k are settled here and need no local search
        _exact_rounds(adj, best, proven, min(end, time.monotonic() + 0.1 * effort_seconds), first_slice=0.05)
    search_end = time.monotonic() + 0.5 * max(end - time.monotonic(), 0.0)
    open_ks = [k for k in range(1, k_max + 1) if not proven[k - 1]]
    for i, k in enumerate(open_ks):
        slice_end = min(search_end, time.monotonic() + (search_end - time.monotonic()) / (len(open_ks) - i))
        if k > 1:
            best[k - 1] = min(best[k - 1], _pad(adj, best[k - 2], k), key=lambda s: score(adj, s))
        best[k - 1] = _local_search(adj, best[k - 1], slice_end, seed=k, exchanges=exact)
    if exact:
        _exact_rounds(adj, best, proven, end, first_slice=0.2)
    return list(zip(best, proven, strict=True))


def _local_search(adj: Adjacency, chosen: list[int], deadline: float, seed: int, exchanges: bool) -> list[int]:
    """Iterated 1-swap search, then exact 2- and 3-exchanges, repeated while they improve.

    The two kinds of move find different things: swaps follow pairwise connectivity across plateaus of the
    largest component, exchanges find sets of people who only cut the network together. Time left over when
    neither improves passes to the next k.
    """
    current = score(adj, chosen)
    while time.monotonic() < deadline:
        before = current
        chosen, current = iterated_search(adj, chosen, rounds=10**6, deadline=deadline, seed=seed, patience=40)
        for size in (2, 3) if exchanges else ():
            if len(chosen) > size:  # all k at once is the exact phase's job
                chosen, current = exchange_descent(adj, chosen, deadline, size)
        if current >= before:
            break
        seed += 1000
    return chosen


def _exact_rounds(adj: Adjacency, best: list[list[int]], proven: list[bool], end: float, first_slice: float) -> None:
    """Branch and bound on every unsettled k in turn, doubling the per-k slice each round until ``end``.

    Rounds with growing slices settle the easy k before the hard ones take the rest of the budget, whatever
    the machine's speed; a restarted search begins from the best answer so far, so little work is repeated.
    """
    k_max = len(best)
    slice_seconds = first_slice
    while not all(proven):
        for k in range(1, k_max + 1):
            remaining = end - time.monotonic()
            if remaining <= 0:
                return
            if proven[k - 1]:
                continue
            seeds = [best[k - 1], *([_pad(adj, best[k - 2], k)] if k > 1 else [])]
            seeds += [_drop(adj, best[k], k)] if k < k_max else []
            best[k - 1] = min(seeds, key=lambda s: score(adj, s))
            lcc = score(adj, best[k - 1])[0]
            result = improve_exact(adj, k, best[k - 1], lcc, min(slice_seconds, remaining))
            best[k - 1], proven[k - 1] = _pad(adj, result.chosen, k), result.proven
        _settle_by_monotony(adj, best, proven)
        slice_seconds *= 2


def _settle_by_monotony(adj: Adjacency, best: list[list[int]], proven: list[bool]) -> None:
    """More removals never leave a larger optimum: an answer equal to a proven optimum at k+1 is optimal."""
    for k in range(len(best) - 1, 0, -1):
        if proven[k] and not proven[k - 1] and score(adj, best[k - 1])[0] == score(adj, best[k])[0]:
            proven[k - 1] = True


def _pad(adj: Adjacency, chosen: list[int], k: int) -> list[int]:
    return pad_greedy(adj, chosen, k)


def _drop(adj: Adjacency, chosen: list[int], k: int) -> list[int]:
    """``chosen`` cut down to k vertices, each time putting back the one whose return costs least."""
    out = list(chosen)
    while len(out) > k:
        out.remove(min(out, key=lambda v: score(adj, [w for w in out if w != v])))
    return out
