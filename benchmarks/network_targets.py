"""Time ``avellino network targets`` on a workspace, phase by phase (one JSON object).

The ``--effort`` budget bounds the key-player search (baselines, seeds, local search and exact search);
building the graph and inferring roles come before it and are timed separately here (``search_s`` is the
part the budget bounds, ``total_s`` the whole command without start-up).

    .venv/bin/python benchmarks/network_targets.py --workspace ws20k --k 300 --effort 10
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--effort", type=float, default=10.0)
    args = parser.parse_args()

    from avellino.network.build import build_graph
    from avellino.network.roles import infer_roles
    from avellino.network.targets import key_players
    from avellino.store import open_store

    times: dict[str, float] = {}
    start = time.perf_counter()
    with open_store(args.workspace) as store:
        sg = build_graph(store)
        graph = sg.analysis_graph()
        times["build_s"] = time.perf_counter() - start
        mark = time.perf_counter()
        inference = infer_roles(sg, graph)
        times["roles_s"] = time.perf_counter() - mark
        mark = time.perf_counter()
        report = key_players(store, sg, inference, k=args.k, effort_seconds=args.effort, graph=graph)
        times["search_s"] = time.perf_counter() - mark
    times["total_s"] = time.perf_counter() - start
    result = {
        "workspace": str(args.workspace),
        "k": args.k,
        "effort": args.effort,
        "vertices": graph.vcount(),
        "edges": graph.ecount(),
        "lcc0": report.lcc0,
        "lcc_after": report.lcc_after,
        "search_seconds_reported": round(report.search_seconds, 2),
        "budget_notes": report.notes,
        **{name: round(value, 1) for name, value in times.items()},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
