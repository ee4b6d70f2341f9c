import itertools
import random
import time

import igraph as ig

from avellino.network.keyplayer.disrupt import plan_disruption
from avellino.network.keyplayer.exact import improve_exact
from avellino.network.keyplayer.fragment import Adjacency, components, cut_pieces, largest_component, mask_of
from avellino.network.keyplayer.io import read_network
from avellino.network.keyplayer.search import exchange_descent

BASELINES = ("degree", "betweenness", "collective_influence")


def _brute_force(adj: Adjacency, k: int) -> int:
    return min(largest_component(adj, c) for c in itertools.combinations(range(adj.n), k))


def test_plan_shape_and_never_worse_than_baselines(fixtures):
    g = read_network(fixtures / "network" / "cells.txt")
    plan = plan_disruption(g, 6, effort_seconds=3)
    data = plan.as_json()
    assert data["nodes"] == 39 and data["lcc0"] == 39
    assert set(data["methods"]) == {"avellino", *BASELINES}
    for name, steps in plan.methods.items():
        assert [s.k for s in steps] == list(range(1, 7)), name
        assert all(len(s.removed) == s.k for s in steps)
    for i in range(6):
        best = min(plan.methods[b][i].lcc_fraction for b in BASELINES)
        assert plan.methods["avellino"][i].lcc_fraction <= best


def test_method_reaches_brute_force_optimum_on_small_graph(fixtures):
    g = read_network(fixtures / "network" / "cells.txt")
    adj = Adjacency.from_graph(g)
    plan = plan_disruption(g, 3, effort_seconds=5, baselines=False)
    for step in plan.methods["avellino"]:
        assert step.lcc == _brute_force(adj, step.k)


def test_exact_search_proves_optimum_on_random_graphs():
    for seed in range(3):
        g = ig.Graph.Erdos_Renyi(n=18, m=30)
        g.vs["name"] = [str(i) for i in range(18)]
        adj = Adjacency.from_graph(g)
        for k in (1, 2, 3):
            start = list(range(k))
            result = improve_exact(adj, k, start, largest_component(adj, start), seconds=20)
            assert result.proven, (seed, k)
            assert result.lcc == _brute_force(adj, k), (seed, k)


def _twin_rich_graph(seed: int) -> tuple[ig.Graph, list[bool]]:
    """A random graph plus cell members who all know the same two people (twins) and pendant contacts."""
    rng = random.Random(seed)
    n = rng.randint(8, 13)
    g = ig.Graph.Erdos_Renyi(n=n, m=rng.randint(n - 1, 2 * n))
    a, b = rng.sample(range(n), 2)
    g.add_vertices(4)
    g.add_edges([(n, a), (n, b), (n + 1, a), (n + 1, b), (n + 2, a), (n + 2, n + 1), (n + 3, b)])
    removable = [rng.random() > 0.15 for _ in range(g.vcount())]
    return g, removable


def test_cut_pieces_match_removing_each_vertex():
    for seed in range(20):
        g, _ = _twin_rich_graph(seed)
        adj = Adjacency.from_graph(g)
        removed = mask_of(adj.n, [seed % adj.n])
        root = (seed + 1) % adj.n
        label, _ = components(adj, removed)
        seen, pieces = cut_pieces(adj, removed, root)
        assert sorted(seen) == [v for v in range(adj.n) if label[v] == label[root]]
        for v in seen:
            removed[v] = 1
            lab, sizes = components(adj, removed)
            removed[v] = 0
            expected = sorted(sizes[c] for c in {lab[w] for w in seen if w != v})
            assert sorted(pieces.get(v, [len(seen) - 1] if len(seen) > 1 else [])) == expected, (seed, v)


def test_exact_search_with_twins_and_protected_vertices_matches_brute_force():
    for seed in range(25):
        g, removable = _twin_rich_graph(seed)
        adj = Adjacency.from_graph(g, removable)
        allowed = [v for v in range(adj.n) if removable[v]]
        for k in (1, 2, 3, 4):
            optimum = min(largest_component(adj, c) for c in itertools.combinations(allowed, k))
            start = allowed[:k]
            result = improve_exact(adj, k, start, largest_component(adj, start), seconds=20)
            assert result.proven and result.lcc == optimum, (seed, k)
            assert largest_component(adj, result.chosen) == optimum and all(removable[v] for v in result.chosen)


def test_exchange_descent_leaves_no_improving_pair():
    for seed in range(6):
        g, _ = _twin_rich_graph(seed)
        adj = Adjacency.from_graph(g)
        start = list(range(3))
        chosen, (lcc, _) = exchange_descent(adj, start, time.monotonic() + 20, size=2)
        assert len(set(chosen)) == 3 and lcc == largest_component(adj, chosen) <= largest_component(adj, start)
        for kept in chosen:
            others = [v for v in range(adj.n) if v != kept]
            best_pair = min(largest_component(adj, [kept, *pair]) for pair in itertools.combinations(others, 2))
            assert best_pair >= lcc, (seed, kept)
