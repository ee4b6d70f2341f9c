"""The clusters `resolve run` gives analysts, scored against a sample operation's truth.

Reads the ``resolve_clusters`` table of a workspace where the sample operation was ingested (optionally running
``resolve run --full`` first) and scores it pairwise over the members of each cluster (``metrics.cluster_scores``)
against ``truth/persons.csv``; also the pairs as scored (``resolve_edges`` at the threshold, before chaining),
and the clusters that mix a true victim with a true offender (``is_victim``; witnesses and informants are
neither). Prints one JSON object.

Usage: ``python benchmarks/resolve_clusters.py --workspace WS --truth SAMPLE/truth [--run]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd

from avellino.resolve import store_io
from avellino.resolve.metrics import cluster_scores, count_true_pairs, score_pairs
from avellino.store import open_store

NEITHER = {"informant", "witness"}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workspace", type=Path, required=True)
    ap.add_argument("--truth", type=Path, required=True, help="the sample operation's truth/ folder")
    ap.add_argument("--run", action="store_true", help="run `resolve run --full` first")
    ap.add_argument("--threshold", type=float, default=0.5)
    args = ap.parse_args()
    out: dict[str, object] = {}
    with open_store(args.workspace) as store:
        if args.run:
            t = time.perf_counter()
            out["run"] = store_io.run(store, threshold=args.threshold, full=True)
            out["run_s"] = round(time.perf_counter() - t, 1)
        clusters = store.read_table(store_io.CLUSTERS)
        edges = store.read_table(store_io.EDGES)
    if clusters is None or edges is None:
        raise SystemExit("nothing resolved in this workspace: pass --run")
    truth = pd.read_csv(args.truth / "persons.csv", dtype=str).drop_duplicates("entity_id")
    truth_by_id = dict(zip(truth["entity_id"], truth["person_id"], strict=True))
    victim = truth["is_victim"].eq("true")
    offender = ~victim & ~truth["role"].isin(NEITHER)
    protected = {e: True for e in truth.loc[victim, "entity_id"]} | {e: False for e in truth.loc[offender, "entity_id"]}
    scored = clusters.to_pandas()
    scored = scored[scored["entity_id"].isin(truth_by_id.keys())]
    out.update(cluster_scores(scored, truth_by_id, protected_by_id=protected))
    pairs = edges.to_pandas().rename(columns={"id_l": "unique_id_l", "id_r": "unique_id_r"})
    true_pairs = count_true_pairs(truth["person_id"], None)
    p, r, f, n = score_pairs(pairs, truth_by_id, true_pairs, args.threshold)
    out.update({"pair_precision": round(p, 5), "pair_recall": round(r, 5), "pair_f1": round(f, 5)})
    out.update({"records": len(truth), "people": int(truth["person_id"].nunique())})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
