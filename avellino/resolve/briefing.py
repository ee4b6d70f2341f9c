"""The briefing's resolution section: what was merged and, on the sample operation, how well.

A pure renderer of :class:`avellino.resolve.summary.ResolutionSummary` (``report/pipeline.py`` reads it from the
store); it runs nothing and reads nothing. People are shown by ids only, never by name, and flagged when any of
their records is marked victim, witness or informant.
"""

from __future__ import annotations

from avellino.report.sections import Section, nothing_to_show, table_html
from avellino.resolve.summary import ResolutionSummary

TITLE, ANCHOR = "Who is who across partners", "resolve"


def resolution_section(summary: ResolutionSummary | None) -> Section:
    """The section; when the workspace was never resolved it says so and how to resolve it."""
    if summary is None:
        return nothing_to_show(
            TITLE, ANCHOR, "Not resolved: no person records, or `avellino resolve run` has not been run on them."
        )
    rows = "".join(f"<tr><td>{size}</td><td class='n'>{n:,}</td></tr>" for size, n in sorted(summary.sizes.items()))
    parts = [
        f"<p>{summary.records:,} person records from all partners resolved into {summary.clusters:,} people; "
        f"{summary.merged:,} people are known to more than one record. Analysts' judgements applied: "
        f"{summary.judgements_applied}.</p>",
        f"<table><thead><tr><th>records per person</th><th>people</th></tr></thead><tbody>{rows}</tbody></table>",
    ]
    if summary.examples:
        parts.append(
            "<p>The people most partners know (ids only). Explain a merge with "
            "<code>avellino resolve explain A B -w WORKSPACE</code> on the pair shown; confirm or reject it with "
            "<code>avellino resolve judge A B --verdict same|different</code>. People flagged for safeguarding "
            "have a record marked victim, witness or informant.</p>"
        )
        parts.append(
            table_html(["person (cluster id)", "partners", "records", "explain A B", "flag"], summary.examples)
        )
    things = summary.things
    if things is not None and things.records:
        kinds = ", ".join(f"{n:,} {k.replace('_', ' ')}" for k, n in things.by_kind.items())
        rules = ", ".join(f"{r} {n:,}" for r, n in things.pairs_joined_by_rule.items()) or "none"
        parts.append(
            f"<p>Other entities ({kinds}) resolved by shared identifiers into {things.clusters:,} clusters "
            f"({things.merged_clusters:,} with more than one record); pairs joined by rule: {rules}; "
            f"pairs kept apart by a conflicting identifier: {things.pairs_blocked_by_conflict:,}.</p>"
        )
    if summary.truth is not None:
        scores = summary.truth
        parts.append(
            "<p>Against the sample operation's truth (pairwise): "
            f"precision {scores['precision']:.3f}, recall {scores['recall']:.3f}, F1 {scores['f1']:.3f} "
            f"over {int(scores['true_pairs']):,} true pairs.</p>"
        )
    shown = {str(r[0]) for r in summary.examples} | {i for r in summary.examples for i in str(r[3]).split()}
    # the counts of records per person summarise every person record, so the section is marked as the store is
    return Section(TITLE, "".join(parts), ANCHOR, entity_ids=frozenset(shown), all_records=True)
