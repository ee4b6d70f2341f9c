"""Time building the network from a workspace, and count how often the statements are read (one JSON object).

``build_graph`` reads the statements once: the ties, the canonical map and the ids any statement marks
protected all come from that read (it was three reads before issue 16). ``--repeat`` builds several times and
reports each, since a shared machine's load moves wall time; CPU time moves less.

    .venv/bin/python benchmarks/network_build.py --workspace ws20k --repeat 3
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from avellino.network.build import build_graph
    from avellino.store.duckdb_store import DuckDBStore

    class CountingStore(DuckDBStore):
        """The workspace's own store, counting the statement reads (rows, seconds) of each build."""

        reads: list[tuple[int, float]] = []

        def read_statements(self, *a: Any, **kw: Any) -> Any:
            start = time.perf_counter()
            table = super().read_statements(*a, **kw)
            self.reads.append((table.num_rows, round(time.perf_counter() - start, 3)))
            return table

    runs = []
    store = CountingStore(args.workspace, read_only=True)
    with store:
        for _ in range(args.repeat):
            store.reads = []
            wall, cpu = time.perf_counter(), time.process_time()
            sg = build_graph(store)
            runs.append(
                {
                    "seconds": round(time.perf_counter() - wall, 2),
                    "cpu_seconds": round(time.process_time() - cpu, 2),
                    "statement_reads": len(store.reads),
                    "rows_read": sum(rows for rows, _ in store.reads),
                }
            )
    result = {
        "workspace": str(args.workspace),
        "nodes": len(sg.nodes),
        "ties": len(sg.edges),
        "runs": runs,
        "min_seconds": min(r["seconds"] for r in runs),
        "min_cpu_seconds": min(r["cpu_seconds"] for r in runs),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
