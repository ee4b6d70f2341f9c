"""Does blocking of organisations, vehicles, vessels and accounts keep its pairs as data grows?

The sample operation has no truth for things, so the reference is what the rules themselves would join with
unbounded blocking: every pair sharing a decisive or supporting identifier (exact equality, never capped) and
every pair whose names are similar enough to join alone (Jaro-Winkler >= ``NAME_ALONE`` between any of their
normalised names, found over the distinct names, not by blocking). For each workspace it prints, per kind, the
records, the pairs compared, the joins the rules make, the reference joins, and how many of them were reached:
by ``things.edges`` now, and by the earlier blocking (a name word held by more than 200 records did not block),
kept here only for comparison. Conflicts inside joined groups (the cannot-links the clustering needs) are
counted too.

    python benchmarks/resolve_things.py --workspace ws20k --workspace ws200k

Read-only on the workspaces (statements only).
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from avellino.resolve import things
from avellino.store import open_store

OLD_MAX_BLOCK = 200  # the earlier blocking: a name word held by more records than this did not block


def old_candidates(recs: pd.DataFrame, kind: things.Kind) -> set[tuple[str, str]]:
    keys: dict[str, list[str]] = {}
    for row in recs.itertuples(index=False):
        for id_type in [*kind.strong, *kind.supporting]:
            for value in getattr(row, id_type):
                keys.setdefault(f"{id_type}:{value}", []).append(row.entity_id)
        for token in {t for n in row.names for t in n.split()}:
            keys.setdefault(f"token:{token}", []).append(row.entity_id)
    pairs: set[tuple[str, str]] = set()
    for key, members in keys.items():
        if key.startswith("token:") and len(members) > OLD_MAX_BLOCK:
            continue
        pairs.update(itertools.combinations(sorted(set(members)), 2))
    return pairs


def reference_candidates(recs: pd.DataFrame, kind: things.Kind) -> set[tuple[str, str]]:
    """Every pair a rule could join, without blocking: shared identifier or supporting value, or names similar
    enough to join alone (compared over distinct names, all pairs)."""
    from rigour.text.distance import jaro_winkler

    keys: dict[str, list[str]] = {}
    by_name: dict[str, list[str]] = {}
    for row in recs.itertuples(index=False):
        for id_type in [*kind.strong, *kind.supporting]:
            for value in getattr(row, id_type):
                keys.setdefault(f"{id_type}:{value}", []).append(row.entity_id)
        for name in row.names:
            by_name.setdefault(name, []).append(row.entity_id)
    pairs: set[tuple[str, str]] = set()
    for members in keys.values():
        pairs.update(itertools.combinations(sorted(set(members)), 2))
    if kind.names:
        # a name joins alone only if the first record's name has a word held by at most RARE_TOKEN records; other
        # name pairs cannot join without a supporting value (whose pairs are above), so they are not listed
        counts = Counter(t for names in recs["names"] for t in {t for n in names for t in n.split()})
        every = sorted(by_name)
        rare = [n for n in every if any(counts[t] <= things.RARE_TOKEN for t in n.split() if not t.isdigit())]
        for a in rare:
            for b in every:
                if a == b:
                    pairs.update(itertools.combinations(sorted(set(by_name[a])), 2))
                elif jaro_winkler(a, b, cutoff=0.0) >= things.NAME_ALONE:
                    pairs.update(_pair(x, y) for x in set(by_name[a]) for y in set(by_name[b]) if x != y)
    return pairs


def _pair(x: str, y: str) -> tuple[str, str]:
    return (x, y) if x < y else (y, x)


def joins(recs: pd.DataFrame, kind: things.Kind, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    by_id = {row.entity_id: row for row in recs.itertuples(index=False)}
    counts = Counter(t for names in recs["names"] for t in {t for n in names for t in n.split()})
    return {p for p in pairs if things.compare(by_id[p[0]], by_id[p[1]], kind, counts)["match_probability"] >= 0.5}


def measure(workspace: str) -> dict[str, Any]:
    with open_store(Path(workspace)) as store:
        table = store.read_statements(
            schemata=list(things.SCHEMATA), columns=["entity_id", "schema", "prop", "value", "originator"]
        )
    statements = table.to_pandas()
    if statements.empty:
        return {"workspace": workspace, "records": 0, "kinds": {}}
    recs = things.records(statements)
    t = time.perf_counter()
    found = things.edges(recs)
    edges_s = time.perf_counter() - t
    out: dict[str, Any] = {"workspace": workspace, "records": len(recs), "edges_s": round(edges_s, 1), "kinds": {}}
    for kind in things.KINDS:
        sub = recs[recs["kind"] == kind.name]
        if len(sub) < 2:
            continue
        mine = found[found["kind"] == kind.name]
        now = set(zip(mine["id_l"], mine["id_r"], strict=True))
        now_joins = joins(sub, kind, now)
        old = old_candidates(sub, kind)
        reference = joins(sub, kind, reference_candidates(sub, kind))
        out["kinds"][kind.name] = {
            "records": len(sub),
            "reference_joins": len(reference),
            "pairs_compared": len(now),
            "joins_reached": len(reference & now_joins),
            "join_recall": round(len(reference & now_joins) / len(reference), 4) if reference else None,
            "conflicts_found": int(mine["rule"].str.startswith("conflict:").sum()),
            "before_pairs_compared": len(old),
            "before_joins_reached": len(reference & joins(sub, kind, old)),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workspace", action="append", required=True, help="a workspace with ingested partner files")
    args = ap.parse_args()
    print(json.dumps({"workspaces": [measure(w) for w in args.workspace]}))


if __name__ == "__main__":
    main()
