"""Scale benchmark: a synthetic 1M-vertex, 10M-edge network with community structure and hubs.

Times each stage (generate, build, components, PageRank, Leiden, k=20 key players with the scalable method)
and prints one JSON object with wall seconds per stage and peak resident memory.

    .venv/bin/python benchmarks/network_scale.py [--nodes 1000000] [--edges 10000000] [--k 20]

The graph: blocks of 1,000 vertices ("cells"); 90% of edges inside a block, 10% between random vertices; edge
ends are drawn with Pareto weights so each block has hubs, like call networks.
"""

from __future__ import annotations

import argparse
import json
import resource
import time

import igraph as ig
import numpy as np
import psutil

from avellino.network.keyplayer.scale import key_players_scalable
from avellino.network.structure import leiden_communities


def synthetic_edges(n: int, m: int, block: int = 1000, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    weights = rng.pareto(2.1, size=block) + 1.0
    cdf = np.cumsum(weights) / weights.sum()
    want = int(m * 1.04)
    u_block = rng.integers(0, n // block, size=want)
    u = u_block * block + np.searchsorted(cdf, rng.random(want))
    inside = rng.random(want) < 0.9
    v_block = np.where(inside, u_block, rng.integers(0, n // block, size=want))
    v = v_block * block + np.searchsorted(cdf, rng.random(want))
    lo, hi = np.minimum(u, v), np.maximum(u, v)
    keep = lo != hi
    keys = np.unique(lo[keep].astype(np.int64) * n + hi[keep])
    keys = rng.permutation(keys)[:m]
    return np.stack([keys // n, keys % n], axis=1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=1_000_000)
    parser.add_argument("--edges", type=int, default=10_000_000)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--leiden-iterations", type=int, default=2)
    args = parser.parse_args()
    proc = psutil.Process()
    times: dict[str, float] = {}
    cpu: dict[str, float] = {}
    t0 = time.perf_counter()
    c0 = [time.process_time()]

    def lap(name: str, start: float) -> float:
        # CPU seconds too: the shared 2-core machine is often loaded by other work, inflating wall time.
        now, cnow = time.perf_counter(), time.process_time()
        times[name], cpu[name] = round(now - start, 2), round(cnow - c0[0], 2)
        c0[0] = cnow
        return now

    t = time.perf_counter()
    edges = synthetic_edges(args.nodes, args.edges)
    t = lap("generate", t)
    graph = ig.Graph(n=args.nodes, edges=edges, directed=False)
    t = lap("build", t)
    comps = graph.connected_components()
    lcc0 = max(comps.sizes())
    t = lap("components", t)
    pagerank = graph.pagerank(directed=False)
    t = lap("pagerank", t)
    membership = leiden_communities(graph, resolution=1.0, iterations=args.leiden_iterations)
    modularity = graph.modularity(membership)
    t = lap("leiden", t)
    targets, lcc = key_players_scalable(graph, args.k, edges=edges)
    t = lap("key_players", t)
    result = {
        "nodes": graph.vcount(),
        "edges": graph.ecount(),
        "cores": psutil.cpu_count(),
        "seconds": times,
        "cpu_seconds": cpu,
        "total_seconds_excluding_generate": round(sum(v for n, v in times.items() if n != "generate"), 2),
        "total_seconds": round(time.perf_counter() - t0, 2),
        "total_cpu_seconds_excluding_generate": round(sum(v for n, v in cpu.items() if n != "generate"), 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_now_mb": round(proc.memory_info().rss / 2**20, 1),
        "components": len(comps),
        "lcc0": lcc0,
        "leiden_communities": len(set(membership)),
        "modularity": round(modularity, 4),
        "pagerank_max": round(max(pagerank), 8),
        "k": args.k,
        "lcc_after_k": lcc,
        "lcc_fraction": round(lcc / lcc0, 6),
        "targets_head": targets[:5],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
