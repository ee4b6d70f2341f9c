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

The effort budget in seconds bounds the whole search. The seed orders run cheapest first, each until its
share of the budget (``ORDER_DEADLINES``: adaptive degree 10%, collective influence 20%, the greedy order 35%,
adaptive betweenness 55%); past its deadline a baseline takes its remaining removals in the order of its
current scores and the greedy order stops, and the plan says so in ``notes``. The (k-1)-plus-one seeds run
until 60% and steps 2-4 share the rest, less the time kept for scoring the final sets (one traversal per k).
On networks too large for the search, the seeds alone are used (see ``scale.py`` for graphs with millions
of vertices).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from avellino.network.keyplayer.baselines import BASELINES, adaptive_order
from avellino.network.keyplayer.exact import improve_exact
from avellino.network.keyplayer.fragment import Adjacency, components, prefix_scores, score
from avellino.network.keyplayer.search import exchange_descent, greedy_order, iterated_search, pad_greedy
from avellino.network.protect import Protection

if TYPE_CHECKING:
    import igraph as ig

METHOD_NAME = "avellino"
EXACT_MAX_VERTICES = 3000
SEARCH_MAX_VERTICES = 20000
#: Fraction of the effort budget by which each seed order must be done, cheapest first: adaptive degree and
#: collective influence (linear-time scores; CI is often the strongest seed at large k), the greedy order, then
#: adaptive betweenness (a betweenness pass per removal), then the (k-1)-plus-one seeds.
ORDER_DEADLINES = {"degree": 0.1, "collective_influence": 0.2, "greedy": 0.35, "betweenness": 0.55}
SEEDS_SHARE = 0.6


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
    #: What the effort budget cut short (a baseline no longer adaptive, a seed not computed).
    notes: list[str] = field(default_factory=list)
    search_seconds: float = 0.0

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "nodes": self.nodes,
            "edges": self.edges,
            "lcc0": self.lcc0,
            "methods": {name: [s.as_json() for s in steps] for name, steps in self.methods.items()},
            "search_seconds": round(self.search_seconds, 2),
        }
        if self.flagged:
            out["protected"] = self.flagged
        if self.notes:
            out["notes"] = self.notes
        return out


def plan_disruption(
    graph: ig.Graph,
    k_max: int,
    protection: Protection | None = None,
    effort_seconds: float = 20.0,
    baselines: bool = True,
) -> DisruptionPlan:
    """Targets for k = 1..k_max by each method; protected vertices are never removed nor listed.

    ``effort_seconds`` bounds the whole search (baselines included, see the module docstring)."""
    start = time.monotonic()
    protection = protection or Protection()
    mask = protection.removable_mask(graph)
    adj = Adjacency.from_graph(graph, mask)
    names = [str(n) for n in graph.vs["name"]] if "name" in graph.vs.attributes() else None
    lcc0 = max(components(adj, bytearray(adj.n))[1], default=0)
    notes: list[str] = []
    greedy: list[int] = []
    orders: dict[str, list[int]] = {}
    for name in sorted(ORDER_DEADLINES, key=ORDER_DEADLINES.__getitem__):
        deadline = start + ORDER_DEADLINES[name] * effort_seconds
        if name == "greedy":
            if adj.n <= SEARCH_MAX_VERTICES:
                greedy = greedy_order(adj, k_max, deadline=deadline)
                if len(greedy) < k_max:
                    notes.append(f"greedy seed: {len(greedy)} of {k_max} removals (effort budget)")
            continue
        order, adaptive = adaptive_order(graph, k_max, BASELINES[name], mask, deadline, notes)
        orders[name] = order
        if adaptive < len(order):
            notes.append(
                f"{name}: adaptive for the first {adaptive} of {len(order)} removals, then in the order of its "
                "current scores (effort budget)"
            )
    orders = {name: orders[name] for name in BASELINES}
    sets = avellino_sets(adj, k_max, [*orders.values(), greedy], effort_seconds, start, notes)
    methods: dict[str, list[tuple[list[int], bool]]] = {METHOD_NAME: sets}
    if baselines:
        methods.update({name: [(order[:k], False) for k in range(1, k_max + 1)] for name, order in orders.items()})
    plan = DisruptionPlan(graph.vcount(), graph.ecount(), lcc0, {}, protection.flags(graph), notes)
    for name, per_k in methods.items():
        lccs = [lcc for lcc, _ in prefix_scores(adj, orders[name][:k_max])] if name in orders else []
        lccs += [score(adj, chosen)[0] for chosen, _ in per_k[len(lccs) :]]
        plan.methods[name] = [
            _step(k, chosen, proven, lcc, lcc0, names, protection)
            for k, ((chosen, proven), lcc) in enumerate(zip(per_k, lccs, strict=True), start=1)
        ]
    plan.search_seconds = time.monotonic() - start
    return plan


def _step(
    k: int,
    chosen: list[int],
    proven: bool,
    lcc: int,
    lcc0: int,
    names: list[str] | None,
    protection: Protection,
) -> Step:
    labels = [names[v] if names else str(v) for v in chosen]
    return Step(k, protection.release(labels), lcc, lcc / lcc0 if lcc0 else 0.0, proven)


def avellino_sets(
    adj: Adjacency,
    k_max: int,
    seed_orders: list[list[int]],
    effort_seconds: float,
    start: float | None = None,
    notes: list[str] | None = None,
) -> list[tuple[list[int], bool]]:
    """Avellino's answer per k (index k-1): (vertex ids, proven optimal), from ``seed_orders`` (the baselines'
    and the greedy order). The budget runs from ``start`` (default: now); what it cuts short is appended to
    ``notes``."""
    start = time.monotonic() if start is None else start
    notes = [] if notes is None else notes
    orders = [o for o in seed_orders if o]
    prefix = [prefix_scores(adj, o[:k_max]) for o in orders]
    best: list[list[int]] = []
    padded_until = 0
    for k in range(1, k_max + 1):
        seeds = [(p[k - 1], o[:k]) for o, p in zip(orders, prefix, strict=True) if len(o) >= k]
        if best and (not seeds or time.monotonic() < start + SEEDS_SHARE * effort_seconds):
            padded = _pad(adj, best[-1], k)
            seeds.append((score(adj, padded), padded))
            padded_until = k
        if not seeds:
            padded = _pad(adj, [], k)
            seeds = [(score(adj, padded), padded)]
        chosen = min(seeds, key=lambda pair: pair[0])[1]
        best.append(chosen)
    if padded_until < k_max and k_max > 1:
        notes.append(f"best (k-1)-set plus one: seeded up to k = {max(padded_until, 1)} (effort budget)")
    proven = [False] * k_max
    if adj.n > SEARCH_MAX_VERTICES or effort_seconds <= 0:
        return list(zip(best, proven, strict=True))
    # Scoring the final sets (one traversal per k) comes after the search: keep time for it.
    began = time.monotonic()
    score(adj, best[-1])
    end = start + effort_seconds - min(0.3 * effort_seconds, (time.monotonic() - began) * (k_max + 1))
    exact = adj.n <= EXACT_MAX_VERTICES
    if exact:  # cheap proofs first: on small networks most k are settled here and need no local search
        _exact_rounds(adj, best, proven, min(end, time.monotonic() + 0.1 * effort_seconds), first_slice=0.05)
    search_end = time.monotonic() + 0.5 * max(end - time.monotonic(), 0.0)
    open_ks = [k for k in range(1, k_max + 1) if not proven[k - 1]]
    for i, k in enumerate(open_ks):
        slice_end = min(search_end, time.monotonic() + (search_end - time.monotonic()) / (len(open_ks) - i))
        if time.monotonic() >= slice_end:
            continue
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
