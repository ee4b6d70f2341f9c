import itertools
import random
import xml.etree.ElementTree as ET

import igraph as ig

from avellino.network.export import write_gexf, write_graphml
from avellino.network.structure import (
    brokerage,
    brokerage_across,
    centralities,
    leiden_communities,
    simulate_removal,
)


def _two_cliques() -> ig.Graph:
    g = ig.Graph.Full(5) + ig.Graph.Full(5)
    g.add_vertices(1)
    g.add_edges([(10, 0), (10, 5)])  # vertex 10 is the only bridge
    g.vs["name"] = [f"v{i}" for i in range(11)]
    g.vs["nationality"] = ["AL"] * 5 + ["IQ"] * 5 + ["AL"]
    return g


def test_leiden_finds_the_two_cliques():
    membership = leiden_communities(_two_cliques())
    assert len(set(membership[:5])) == 1 and len(set(membership[5:10])) == 1
    assert membership[0] != membership[5]


def test_bridge_is_the_top_broker_by_nationality_and_centrality():
    g = _two_cliques()
    brokers = brokerage(g, g.vs["nationality"])
    assert brokers[0].id == "v10" and brokers[0].groups_reached == 1
    cent = centralities(g)
    assert max(cent, key=lambda n: cent[n]["betweenness"]) == "v10"


def test_brokerage_across_counts_open_pairs_between_groups():
    g = _two_cliques()
    counts = brokerage_across(g, g.vs["nationality"])
    # v10 alone links an AL to an IQ; v5 links its 4 IQ clique-mates to the AL bridge; v0 sees only AL contacts
    assert counts[10] == 1 and counts[5] == 4 and counts[0] == 0
    for seed in range(10):
        rng = random.Random(seed)
        h = ig.Graph.Erdos_Renyi(n=14, m=30)
        groups = [rng.choice([None, "a", "b", "c"]) for _ in range(14)]
        nb = [set(x) for x in h.get_adjlist()]
        expected = [
            sum(
                1
                for a, b in itertools.combinations(sorted(nb[v]), 2)
                if b not in nb[a] and None not in (groups[a], groups[b]) and groups[a] != groups[b]
            )
            for v in range(14)
        ]
        assert brokerage_across(h, groups) == expected


def test_simulate_removal_of_the_bridge():
    impact = simulate_removal(_two_cliques(), ["v10"])
    assert impact.lcc == 5 and impact.components == 2
    assert 0 < impact.efficiency_fraction < 1


def test_gexf_and_graphml_round_trip(tmp_path):
    g = _two_cliques()
    g.es["weight"] = [1.5] * g.ecount()
    root = ET.parse(write_gexf(g, tmp_path / "g.gexf")).getroot()
    ns = {"g": "http://gexf.net/1.3"}
    assert len(root.findall(".//g:node", ns)) == 11 and len(root.findall(".//g:edge", ns)) == g.ecount()
    assert root.find(".//g:node", ns).get("label") == "v0"
    back = ig.Graph.Read_GraphML(str(write_graphml(g, tmp_path / "g.graphml")))
    assert back.vcount() == 11 and back.ecount() == g.ecount()
