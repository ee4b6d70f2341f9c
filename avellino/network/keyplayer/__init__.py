"""The key-player solver: a network in, the k vertices whose removal fragments it most out. It needs no store.

Two tools share ``avellino network``. This subpackage is the one that works on any network: an analyst's edge
list, a CSV adjacency matrix, the GraphML or GEXF a workspace wrote, or an igraph graph handed over in Python.
The workspace analyses one level up (``build``, ``roles``, ``targets``, ``routes``) read the store, build the
network from it, and call this solver for their targets; nothing here imports them or the store (a test says
so), so the solver can be read, tested and benchmarked on the published covert networks alone.

* ``io.py``: network files in (edge lists, matrices, GraphML, GEXF) as an undirected weighted igraph graph;
* ``fragment.py``: components after removing a set of vertices, on plain adjacency lists (the hot loop);
* ``baselines.py``: adaptive degree, betweenness and collective influence;
* ``search.py``: adaptive greedy, swap descent, exchanges and iterated search;
* ``exact.py``: the effort-bounded branch and bound that proves or improves an answer;
* ``disrupt.py``: ``plan_disruption``, the method that combines them for k = 1..K under one time budget;
* ``scale.py``: CoreHD and adaptive degree for graphs with millions of vertices;
* ``cli.py``: the file-mode commands ``disrupt``, ``simulate``, ``describe`` and ``export``.

Shared with the workspace analyses, and kept one level up for that reason: ``protect.py`` (who is never a
target, and the one exit of every target list), ``structure.py`` (components, communities, centrality, brokers)
and ``export.py`` (GraphML and GEXF out).
"""
