"""What a workspace holds, counted for the briefing's first section: entities and statements by partner, schema,
handling code, TLP and data-subject category, and how many records describe protected people.

``read_holdings`` reads the store (read-only); ``holdings_section`` renders the counts and reads nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from avellino.model.markings import PROTECTED_CATEGORIES
from avellino.report.sections import Section, table_html
from avellino.store.base import Store

#: (heading, statement column), in the order the briefing shows them.
BREAKDOWNS = (
    ("By partner (originator)", "originator"),
    ("By schema", "schema"),
    ("By handling code", "handling_code"),
    ("By TLP", "tlp"),
    ("By data-subject category", "subject_category"),
)


@dataclass(frozen=True)
class Count:
    value: str
    entities: int
    statements: int


@dataclass(frozen=True)
class Holdings:
    """Counts per statement column (``BREAKDOWNS``) and the number of imported files."""

    counts: dict[str, list[Count]]
    files: int

    @property
    def protected(self) -> int:
        """Entities any statement marks victim, witness or informant."""
        cats = {c.value for c in PROTECTED_CATEGORIES}
        return sum(c.entities for c in self.counts.get("subject_category", []) if c.value in cats)


def read_holdings(store: Store) -> Holdings:
    counts = {
        column: [
            Count(str(r[column]), int(r["entities"]), int(r["statements"]))
            for r in store.aggregate([column]).to_pylist()
        ]
        for _, column in BREAKDOWNS
    }
    return Holdings(counts, len(store.batches()))


def holdings_section(holdings: Holdings) -> Section:
    """The counts, with the safeguarding banner; marked as strictly as the whole store (``all_records``)."""
    if not holdings.files:
        body = "<p class='meta'>Nothing imported yet: add partner files with <code>avellino ingest</code>.</p>"
        return Section("Holdings", body, "holdings", all_records=True)
    parts = [
        f'<p class="safeguard"><b>Safeguarding:</b> {holdings.protected:,} records describe victims, witnesses or '
        "informants. They are never ranked as disruption targets and are kept under stricter retention.</p>"
    ]
    for title, column in BREAKDOWNS:
        rows = holdings.counts.get(column, [])
        parts.append(f"<h3>{title}</h3>")
        parts.append(
            table_html([column, "entities", "statements"], [[c.value, c.entities, c.statements] for c in rows])
        )
    return Section("Holdings", "".join(parts), "holdings", all_records=True)
