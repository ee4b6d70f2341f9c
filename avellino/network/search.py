"""Heuristic search for the k vertices whose removal leaves the smallest largest component.

Three pieces, all on :class:`~avellino.network.fragment.Adjacency`:

* ``greedy_order``: adaptive greedy on the true objective (remove the vertex that shrinks the largest
  component most, pairwise connectivity breaking ties) — the natural "look one step ahead" method;
* ``swap_descent``: best-improvement 1-swap local search (take one vertex back, remove another). One pass costs
  one traversal per candidate vertex, not one per (in, out) pair, because taking a vertex back only merges the
  components it touches;
* ``pair_descent``: exact 2-exchange: for each pair of chosen vertices, the branch and bound finds the best
  two to put in their place with the others kept. It finds the pairs that only work together (two people
  who between them link a cell to the rest), which 1-swaps cannot see; the search makes it cheap, because
  with one or two removals left it needs one articulation pass per candidate, not one per pair;
* ``iterated_search``: perturb-and-descend restarts (iterated local search) under an effort budget, seeded
  with the best set found by any other method so it can only improve on it.
"""

from __future__ import annotations

import itertools
import random
import time

from avellino.network.exact import improve_exact
from avellino.network.fragment import Adjacency, components, mask_of, score

Score = tuple[int, int]


def greedy_order(adj: Adjacency, k: int, pool: int = 400) -> list[int]:
    """Adaptive greedy on (largest component, pairwise connectivity); candidates are the LCC's vertices.

    On big components only the ``pool`` highest-degree vertices of the LCC are tried per step, to bound cost.
    """
    chosen: list[int] = []
    removed = bytearray(adj.n)
    for _ in range(k):
        label, sizes = components(adj, removed)
        if not sizes:
            break
        big = max(range(len(sizes)), key=sizes.__getitem__)
        cands = [v for v in range(adj.n) if label[v] == big and adj.removable[v]]
        if not cands:
            cands = [v for v in range(adj.n) if not removed[v] and adj.removable[v]]
        if not cands:
            break
        if len(cands) > pool:
            cands = sorted(cands, key=lambda v: -len(adj.neighbours[v]))[:pool]
        best_v, best_s = cands[0], (adj.n + 1, 0)
        for v in cands:
            removed[v] = 1
            _, sz = components(adj, removed)
            removed[v] = 0
            s = (max(sz, default=0), sum(x * x for x in sz))
            if s < best_s:
                best_v, best_s = v, s
        chosen.append(best_v)
        removed[best_v] = 1
    return chosen


def _best_swap(adj: Adjacency, chosen: list[int], current: Score) -> tuple[Score, int, int] | None:
    """The best (score, out, in) 1-swap strictly better than ``current``, or None."""
    removed = mask_of(adj.n, chosen)
    label, sizes = components(adj, removed)
    # Only vertices in components that could matter are worth removing: those of size >= 2.
    cands = [v for v in range(adj.n) if not removed[v] and adj.removable[v] and sizes[label[v]] >= 2]
    best: tuple[Score, int, int] | None = None
    nb = adj.neighbours
    for v in cands:
        removed[v] = 1
        lab, sz = components(adj, removed)
        pc = sum(x * x for x in sz)
        order = sorted(range(len(sz)), key=lambda c: -sz[c])
        for s in chosen:
            touched = {lab[w] for w in nb[s] if lab[w] >= 0}
            merged = 1 + sum(sz[c] for c in touched)
            rest = next((sz[c] for c in order if c not in touched), 0)
            new = (max(merged, rest), pc - sum(sz[c] * sz[c] for c in touched) + merged * merged)
            if new < current and (best is None or new < best[0]):
                best = (new, s, v)
        removed[v] = 0
    return best


def swap_descent(adj: Adjacency, chosen: list[int], deadline: float) -> tuple[list[int], Score]:
    """Apply best-improvement swaps until none improves (or the deadline passes)."""
    current = score(adj, chosen)
    chosen = list(chosen)
    while time.monotonic() < deadline:
        move = _best_swap(adj, chosen, current)
        if move is None:
            break
        current, out, into = move
        chosen[chosen.index(out)] = into
    return chosen, current


def iterated_search(
    adj: Adjacency, start: list[int], rounds: int, deadline: float, seed: int = 0, patience: int | None = None
) -> tuple[list[int], Score]:
    """Iterated local search: descend, then repeatedly kick 1-2 vertices out at random and descend again.

    Stops after ``rounds`` kicks, at the deadline, or after ``patience`` kicks in a row that found nothing.
    """
    rng = random.Random(seed)
    best, best_s = swap_descent(adj, start, deadline)
    if not best:
        return best, best_s
    stale = 0
    for _ in range(rounds):
        if time.monotonic() >= deadline or (patience is not None and stale >= patience):
            break
        stale += 1
        trial = list(best)
        removed = mask_of(adj.n, trial)
        label, sizes = components(adj, removed)
        top = max(range(len(sizes)), key=sizes.__getitem__) if sizes else -1
        pool = [v for v in range(adj.n) if label[v] == top and adj.removable[v]]
        if not pool:
            break
        for _ in range(rng.choice((1, 1, 2)) if len(trial) > 1 else 1):
            trial[rng.randrange(len(trial))] = rng.choice(pool)
        if len(set(trial)) < len(trial):
            continue
        cand, cand_s = swap_descent(adj, trial, deadline)
        if cand_s < best_s:
            best, best_s, stale = cand, cand_s, 0
    return best, best_s


def exchange_descent(adj: Adjacency, chosen: list[int], deadline: float, size: int = 2) -> tuple[list[int], Score]:
    """Replace ``size`` chosen vertices at once by the best ones (given the rest) while that lowers the LCC."""
    best, best_s = list(chosen), score(adj, chosen)
    improved = len(best) >= size
    while improved:
        improved = False
        for freed in itertools.combinations(range(len(best)), size):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return best, best_s
            keep = [v for p, v in enumerate(best) if p not in freed]
            result = improve_exact(adj, len(best), best, best_s[0], remaining, keep=keep)
            if result.lcc < best_s[0]:
                best = pad_greedy(adj, result.chosen, len(best))
                best_s = score(adj, best)
                improved = True
                break
    return best, best_s


def pad_greedy(adj: Adjacency, chosen: list[int], k: int, pool: int = 200) -> list[int]:
    """``chosen`` grown to k vertices by the greedy best next removal (never increases the LCC)."""
    out = list(chosen)
    while len(out) < k:
        removed = mask_of(adj.n, out)
        label, sizes = components(adj, removed)
        cands = [v for v in range(adj.n) if not removed[v] and adj.removable[v]]
        if not cands:
            break
        big = max(range(len(sizes)), key=sizes.__getitem__)
        in_big = [v for v in cands if label[v] == big] or cands
        if len(in_big) > pool:
            in_big = sorted(in_big, key=lambda v: -len(adj.neighbours[v]))[:pool]
        out.append(min(in_big, key=lambda v: score(adj, [*out, v])))
    return out
