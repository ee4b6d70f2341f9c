"""Heuristic search for the k vertices whose removal leaves the smallest largest component.

Three pieces, all on :class:`~avellino.network.keyplayer.fragment.Adjacency`:

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

from avellino.network.keyplayer.exact import improve_exact
from avellino.network.keyplayer.fragment import Adjacency, components, cut_pieces, mask_of, score

Score = tuple[int, int]


def greedy_order(adj: Adjacency, k: int, pool: int = 400, deadline: float | None = None) -> list[int]:
    """Adaptive greedy on (largest component, pairwise connectivity); candidates are the LCC's vertices.

    Every vertex of the LCC is scored at once by one articulation-point pass (``greedy_step``); when the LCC
    holds no removable vertex, the ``pool`` highest-degree removable vertices elsewhere are tried one by one.
    Stops early (a shorter order) once ``deadline`` (``time.monotonic()``) has passed.
    """
    return pad_greedy(adj, [], k, pool, deadline)


def greedy_step(adj: Adjacency, removed: bytearray, pool: int = 400) -> int | None:
    """The removable vertex whose removal leaves the lowest (largest component, pairwise connectivity).

    Removing a vertex of the largest component changes only that component, and one depth-first search with
    low-links (``cut_pieces``) gives the pieces every one of its vertices would leave, so all candidates cost
    one traversal of the LCC instead of one of the whole graph each. Ties go to the lowest vertex id."""
    label, sizes = components(adj, removed)
    if not sizes:
        return None
    big = max(range(len(sizes)), key=sizes.__getitem__)
    rest = max((sz for c, sz in enumerate(sizes) if c != big), default=0)
    pc = sum(x * x for x in sizes) - sizes[big] * sizes[big]
    seen, pieces = cut_pieces(adj, removed, label.index(big))
    best: tuple[tuple[int, int], int] | None = None
    for v in sorted(seen):
        if not adj.removable[v]:
            continue
        parts = pieces.get(v) or ([sizes[big] - 1] if sizes[big] > 1 else [])
        s = (max(max(parts, default=0), rest), pc + sum(p * p for p in parts))
        if best is None or s < best[0]:
            best = (s, v)
    if best is not None:
        return best[1]
    cands = [v for v in range(adj.n) if not removed[v] and adj.removable[v]]
    if not cands:
        return None
    cands = sorted(cands, key=lambda v: -len(adj.neighbours[v]))[:pool]
    chosen = [v for v in range(adj.n) if removed[v]]
    return min(sorted(cands), key=lambda v: score(adj, [*chosen, v]))


def _best_swap(
    adj: Adjacency, chosen: list[int], current: Score, deadline: float | None = None
) -> tuple[Score, int, int] | None:
    """The best (score, out, in) 1-swap strictly better than ``current``, or None; past ``deadline`` the best
    found so far (a pass costs one traversal per candidate, which is long on big graphs)."""
    removed = mask_of(adj.n, chosen)
    label, sizes = components(adj, removed)
    # Only vertices in components that could matter are worth removing: those of size >= 2.
    cands = [v for v in range(adj.n) if not removed[v] and adj.removable[v] and sizes[label[v]] >= 2]
    best: tuple[Score, int, int] | None = None
    nb = adj.neighbours
    for v in cands:
        if deadline is not None and time.monotonic() > deadline:
            break
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
        move = _best_swap(adj, chosen, current, deadline)
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


def pad_greedy(adj: Adjacency, chosen: list[int], k: int, pool: int = 200, deadline: float | None = None) -> list[int]:
    """``chosen`` grown to k vertices by the greedy best next removal (never increases the LCC); shorter when
    ``deadline`` (``time.monotonic()``) passes first."""
    out = list(chosen)
    removed = mask_of(adj.n, out)
    while len(out) < k:
        if deadline is not None and time.monotonic() > deadline:
            break
        v = greedy_step(adj, removed, pool)
        if v is None:
            break
        out.append(v)
        removed[v] = 1
    return out
