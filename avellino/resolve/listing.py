"""The resolved people an analyst looks at first: those most partners know, by cluster and record ids.

Used by ``avellino resolve clusters`` and the briefing. Rows carry ids only, never names, and flag people with a
record marked victim, witness or informant for safeguarding.
"""

from __future__ import annotations

import pandas as pd

#: How many people the briefing lists, so its ``explain`` advice can be followed.
EXAMPLES = 10


def merged_examples(clusters: pd.DataFrame, protected: set[str], limit: int = EXAMPLES) -> list[list[object]]:
    """The people known to the most partners (ties: most records, then id), one row each: cluster id, partners,
    records, the first two record ids (the pair ``resolve explain`` takes) and a safeguarding flag when any record
    of the person is marked victim, witness or informant. Rows show ids only, never names."""
    multi = clusters[clusters.groupby("cluster_id")["entity_id"].transform("size") > 1]
    if multi.empty:
        return []
    frame = multi.assign(partner=multi["entity_id"].map(_partner))
    summary = (
        frame.groupby("cluster_id")
        .agg(partners=("partner", "nunique"), records=("entity_id", "size"), ids=("entity_id", lambda x: sorted(x)))
        .reset_index()
        .sort_values(["partners", "records", "cluster_id"], ascending=[False, False, True])
        .head(limit)
    )
    rows: list[list[object]] = []
    for r in summary.itertuples(index=False):
        ids = list(r.ids)
        flag = "safeguarding" if protected & {r.cluster_id, *ids} else ""
        rows.append([r.cluster_id, int(r.partners), int(r.records), f"{ids[0]} {ids[1]}", flag])
    return rows


def _partner(entity_id: str) -> str:
    """The agency whose namespace a record id is in (``ingest/ids.py``); for ids written before namespaces
    (``uk-nca-<hash>``), everything before the last dash."""
    from avellino.ingest.ids import namespace_of

    return namespace_of(entity_id) or entity_id.rsplit("-", 1)[0]
