"""The network area: two tools behind ``avellino network`` (docs/network.md).

* ``keyplayer/``: the key-player solver, which needs no store: a network file or an igraph graph in, the k
  vertices whose removal fragments it most out, and the file-mode commands (``disrupt``, ``simulate``,
  ``describe``, ``export``).
* The workspace analyses here: ``build.py`` (the network from the store's statements, read once) ->
  ``roles.py`` (roles with their evidence; ``evaluate.py`` scores them against a sample's truth),
  ``targets.py`` (the solver's targets with evidence), ``routes.py`` -> ``sankey.py``; their commands are in
  ``cli.py``, which mounts the solver's.

Shared by both: ``protect.py`` (who is never a target or listed as an offender), ``structure.py``
(components, communities, centrality, brokers) and ``export.py`` (GraphML, GEXF).
"""
