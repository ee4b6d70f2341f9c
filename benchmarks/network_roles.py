"""Role inference against the sample operation's truth, on several seeds and scales (one JSON object).

For each (seed, scale): generate the operation, ingest it, then score the inferred roles three ways:

* ``unresolved``: every partner record its own entity (what the network sees before resolution);
* ``truth_resolved``: canonical ids set from the truth (every record of a person merged): the upper bound;
* ``resolved``: ``avellino.resolve``'s own resolution on the store, when that module offers ``store_io.run``.

Also reports, per run, how many protected persons are in the network and that none is among the k = 10 targets.

    .venv/bin/python benchmarks/network_roles.py > roles.json
    .venv/bin/python benchmarks/network_roles.py --runs 41:2000,43:2000,47:2000,53:5000,59:20000

The default seeds are fresh: nothing in ``roles.py`` or ``targets.py`` was fitted on them. The weights were set by
hand on seeds 7, 11 and 23 (scale 2000) and 7 (scales 5000 and 20000), and the brokerage change was chosen on
seeds 3, 13, 29 and 17 (see docs/network.md, "What the fixed numbers were fitted on"); figures on those seeds are
not evidence of how well the roles generalise. Pass ``--runs 7:2000,...`` to reproduce the tuning runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

#: Seeds nothing was fitted on (the tuning seeds were 7, 11, 23; 3, 13, 17, 29 chose the brokerage features).
FRESH_RUNS = "41:2000,43:2000,47:2000,53:5000,59:20000"


def evaluate(store: Any, truth: Any) -> dict[str, Any]:
    from avellino.network.build import build_graph
    from avellino.network.evaluate import score_roles, truth_labels
    from avellino.network.roles import infer_roles
    from avellino.network.targets import key_players

    start = time.perf_counter()
    sg = build_graph(store)
    graph = sg.analysis_graph()
    inference = infer_roles(sg, graph)
    seconds = time.perf_counter() - start
    scored = score_roles(inference.role, truth_labels(truth, sg.canonical))
    report = key_players(store, sg, inference, k=10, effort_seconds=2.0, graph=graph)
    protection = sg.protection
    scored["build_and_infer_s"] = round(seconds, 2)
    scored["network"] = {"vertices": graph.vcount(), "edges": graph.ecount()}
    scored["protected_in_network"] = len(report.protected)
    scored["protected_in_targets"] = sum(1 for t in report.targets if t.id in protection)
    return scored


def run_one(seed: int, scale: int, resolve_max_scale: int) -> dict[str, Any]:
    from avellino.ingest.run import ingest_file
    from avellino.network.evaluate import apply_truth_resolution, read_truth
    from avellino.sample import generate
    from avellino.store.duckdb_store import DuckDBStore

    out: dict[str, Any] = {"seed": seed, "scale": scale}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        manifest = generate(root / "op", scale=scale, seed=seed)
        truth = read_truth(manifest.truth_dir)
        store = DuckDBStore(root / "ws", create=True)
        for f in manifest.files:
            ingest_file(store, f.path, f.mapping)
        out["unresolved"] = evaluate(store, truth)
        if scale <= resolve_max_scale:
            out["resolved"] = resolved(store, truth)
        apply_truth_resolution(store, truth)
        out["truth_resolved"] = evaluate(store, truth)
        store.close()
    return out


def resolved(store: Any, truth: Any) -> dict[str, Any]:
    """With avellino.resolve's resolution, if that module offers a store entry point."""
    try:
        from avellino.resolve import store_io
    except ImportError as exc:
        return {"skipped": f"avellino.resolve.store_io not importable: {exc}"}
    start = time.perf_counter()
    try:
        summary = store_io.run(store)
    except Exception as exc:  # another area's code: report, do not abort the benchmark
        return {"skipped": f"resolve failed: {type(exc).__name__}: {exc}"}
    scored = evaluate(store, truth)
    scored["resolve_s"] = round(time.perf_counter() - start, 1)
    scored["resolve_summary"] = {k: v for k, v in summary.items() if isinstance(v, int | float | str)}
    return scored


def summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean accuracy, macro F1 and per-role F1 over runs, per mode."""
    out: dict[str, Any] = {}
    for mode in ("unresolved", "resolved", "truth_resolved"):
        scored = [r[mode] for r in runs if mode in r and "per_role" in r[mode]]
        if not scored:
            continue
        roles = scored[0]["per_role"]
        out[mode] = {
            "runs": len(scored),
            "accuracy": round(sum(s["accuracy"] for s in scored) / len(scored), 3),
            "macro_f1": round(sum(s["macro_f1"] for s in scored) / len(scored), 3),
            "f1": {r: round(sum(s["per_role"][r]["f1"] for s in scored) / len(scored), 3) for r in roles},
            "protected_in_targets": sum(s["protected_in_targets"] for s in scored),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", default=FRESH_RUNS, help="seed:scale,...")
    parser.add_argument("--resolve-max-scale", type=int, default=5000, help="Run avellino.resolve up to this scale.")
    args = parser.parse_args()
    runs = []
    for item in args.runs.split(","):
        seed, scale = (int(x) for x in item.split(":"))
        print(f"seed {seed} scale {scale}...", file=sys.stderr)
        runs.append(run_one(seed, scale, args.resolve_max_scale))
    print(json.dumps({"summary": summary(runs), "runs": runs}))


if __name__ == "__main__":
    main()
