"""The briefing's resolution section: resolve persons across partners, then say what was merged and, on the
sample operation, how well (pairwise precision and recall against the truth file)."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import pandas as pd

from avellino.report.sections import DemoContext, Section
from avellino.resolve.listing import merged_examples


def _pairs(groups: pd.Series) -> set[tuple[str, str]]:
    """All record pairs that share a group, as sorted tuples."""
    out: set[tuple[str, str]] = set()
    for members in groups.groupby(groups).groups.values():
        ids = sorted(str(m) for m in members)
        out.update(combinations(ids, 2))
    return out


def truth_scores(clusters: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """Pairwise precision, recall and F1 of ``clusters`` (entity_id, cluster_id) against truth (entity_id,
    person_id), over the records both know."""
    both = clusters.merge(truth[["entity_id", "person_id"]], on="entity_id")
    predicted = _pairs(both.set_index("entity_id")["cluster_id"])
    actual = _pairs(both.set_index("entity_id")["person_id"])
    hits = len(predicted & actual)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / len(actual) if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_pairs": len(actual)}


def briefing_section(ctx: DemoContext) -> Section | None:
    from avellino.report.briefing import table_html
    from avellino.resolve.store_io import CLUSTERS, run

    summary = run(ctx.store)
    if not summary.get("records"):
        return None
    table = ctx.store.read_table(CLUSTERS)
    clusters = table.to_pandas() if table is not None else pd.DataFrame(columns=["entity_id", "cluster_id"])
    sizes = Counter(clusters["cluster_id"].value_counts().tolist())
    merged = sum(n for size, n in sizes.items() if size > 1)
    rows = "".join(f"<tr><td>{size}</td><td class='n'>{n:,}</td></tr>" for size, n in sorted(sizes.items()))
    examples = merged_examples(clusters, ctx.store.protected_entity_ids())
    parts = [
        f"<p>{summary['records']:,} person records from all partners resolved into {summary['clusters']:,} people; "
        f"{merged:,} people are known to more than one record. Analysts' judgements applied: "
        f"{summary.get('judgements_applied', 0)}.</p>",
        f"<table><thead><tr><th>records per person</th><th>people</th></tr></thead><tbody>{rows}</tbody></table>",
    ]
    if examples:
        parts.append(
            "<p>The people most partners know (ids only). Explain a merge with "
            "<code>avellino resolve explain A B -w WORKSPACE</code> on the pair shown; confirm or reject it with "
            "<code>avellino resolve judge A B --verdict same|different</code>. People flagged for safeguarding "
            "have a record marked victim, witness or informant.</p>"
        )
        parts.append(table_html(["person (cluster id)", "partners", "records", "explain A B", "flag"], examples))
    things = summary.get("things") or {}
    if things.get("records"):
        kinds = ", ".join(f"{n:,} {k.replace('_', ' ')}" for k, n in things["by_kind"].items())
        rules = ", ".join(f"{r} {n:,}" for r, n in things["pairs_joined_by_rule"].items()) or "none"
        parts.append(
            f"<p>Other entities ({kinds}) resolved by shared identifiers into {things['clusters']:,} clusters "
            f"({things['merged_clusters']:,} with more than one record); pairs joined by rule: {rules}; "
            f"pairs kept apart by a conflicting identifier: {things['pairs_blocked_by_conflict']:,}.</p>"
        )
    truth_file = ctx.truth_dir / "persons.csv" if ctx.truth_dir else None
    if truth_file is not None and truth_file.exists():
        scores = truth_scores(clusters, pd.read_csv(truth_file, dtype=str))
        parts.append(
            "<p>Against the sample operation's truth (pairwise): "
            f"precision {scores['precision']:.3f}, recall {scores['recall']:.3f}, F1 {scores['f1']:.3f} "
            f"over {int(scores['true_pairs']):,} true pairs.</p>"
        )
    shown = {str(r[0]) for r in examples} | {i for r in examples for i in str(r[3]).split()}
    # the counts of records per person summarise every person record, so the section is marked as the store is
    return Section(
        "Who is who across partners", "".join(parts), "resolve", entity_ids=frozenset(shown), all_records=True
    )


__all__ = ["briefing_section", "truth_scores"]
