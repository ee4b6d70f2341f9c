"""Key-player benchmark on every real criminal/covert network in ../shared/data/networks.

For each network: Avellino's method and the three adaptive baselines for k = 1..10 (as the CLI runs them),
then the true optimum for k <= 5 by exhaustive branch and bound (exact.py), bounded per (network, k).
Prints a table to stderr and one JSON object to stdout.

    .venv/bin/python benchmarks/network_disruption.py [--effort 20] [--exact-seconds 60] [--only caviar]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from avellino.network.keyplayer.disrupt import plan_disruption
from avellino.network.keyplayer.exact import improve_exact
from avellino.network.keyplayer.fragment import Adjacency
from avellino.network.keyplayer.io import read_network

BASELINES = ("degree", "betweenness", "collective_influence")
ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "networks"


def network_files(root: Path) -> list[Path]:
    """Every network file: matrices and JJATT relation tables; attribute and node tables are not networks."""
    files = [p for p in root.rglob("*.csv") if "ATTR" not in p.name.upper() and "_Nodes_" not in p.name]
    return sorted(files, key=lambda p: str(p.relative_to(root)))


def run_one(path: Path, root: Path, k_max: int, effort: float, exact_seconds: float, exact_k: int) -> dict:
    graph = read_network(path)
    started = time.monotonic()
    plan = plan_disruption(graph, k_max, effort_seconds=effort)
    seconds = time.monotonic() - started
    av = [s.lcc for s in plan.methods["avellino"]]
    base = {b: [s.lcc for s in plan.methods[b]] for b in BASELINES}
    best = [min(base[b][i] for b in BASELINES) for i in range(k_max)]
    adj = Adjacency.from_graph(graph)
    index = {str(n): i for i, n in enumerate(graph.vs["name"])}
    optimum: list[int | None] = []
    for i in range(min(exact_k, k_max)):
        step = plan.methods["avellino"][i]
        if step.proven_optimal:
            optimum.append(step.lcc)
            continue
        chosen = [index[n] for n in step.removed]
        result = improve_exact(adj, i + 1, chosen, step.lcc, exact_seconds)
        optimum.append(result.lcc if result.proven else None)
    return {
        "network": str(path.relative_to(root).with_suffix("")),
        "nodes": plan.nodes,
        "edges": plan.edges,
        "lcc0": plan.lcc0,
        "seconds": round(seconds, 2),
        "avellino": av,
        "best_baseline": best,
        "baselines": base,
        "optimum_k1_5": optimum,
        "never_worse": all(a <= b for a, b in zip(av, best, strict=True)),
        "strictly_better_k5": av[4] < best[4] if k_max >= 5 else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--effort", type=float, default=20.0, help="Avellino's search budget (CLI default 20 s)")
    parser.add_argument("--exact-seconds", type=float, default=60.0, help="bound per (network, k) for the optimum")
    parser.add_argument("--only", default="", help="substring filter on network paths")
    args = parser.parse_args()
    rows = []
    for path in network_files(args.root):
        if args.only and args.only not in str(path):
            continue
        row = run_one(path, args.root, 10, args.effort, args.exact_seconds, 5)
        rows.append(row)
        opt = ["?" if o is None else o for o in row["optimum_k1_5"]]
        print(
            f"{row['network'][:48]:48s} n={row['nodes']:3d} L0={row['lcc0']:3d} {row['seconds']:5.1f}s "
            f"avellino={row['avellino']} best_baseline={row['best_baseline']} optimum(k<=5)={opt}",
            file=sys.stderr,
            flush=True,
        )
    k5_better = sum(1 for r in rows if r["strictly_better_k5"])
    known = [(r, i) for r in rows for i, o in enumerate(r["optimum_k1_5"]) if o is not None]
    at_opt = sum(1 for r, i in known if r["avellino"][i] == r["optimum_k1_5"][i])
    k5_base_at_opt = sum(
        1 for r in rows if r["optimum_k1_5"][4] is not None and r["best_baseline"][4] == r["optimum_k1_5"][4]
    )
    summary = {
        "networks": len(rows),
        "never_worse_all_k": sum(1 for r in rows if r["never_worse"]),
        "strictly_better_at_k5": k5_better,
        "k5_baseline_already_optimal": k5_base_at_opt,
        "optimum_cells_proven": len(known),
        "optimum_cells_total": 5 * len(rows),
        "avellino_at_optimum": at_opt,
        "max_gap_to_optimum": max((r["avellino"][i] - r["optimum_k1_5"][i] for r, i in known), default=0),
    }
    print(json.dumps({"summary": summary, "rows": rows}))


if __name__ == "__main__":
    main()
