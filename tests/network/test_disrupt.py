import itertools

import igraph as ig

from avellino.network.disrupt import plan_disruption
from avellino.network.exact import improve_exact
from avellino.network.fragment import Adjacency, largest_component
from avellino.network.io import read_network

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
