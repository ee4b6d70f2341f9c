"""The contract between analysis areas and the briefing.

Each area offers ``briefing_section(ctx: DemoContext) -> Section | None``; the briefing calls them in order.
A section's ``html`` is a trusted fragment: its author escapes every value it interpolates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from avellino.store.base import Store


@dataclass
class Section:
    """One part of the briefing.

    ``entity_ids`` names every entity (record or resolved cluster id) whose facts the section shows, so that the
    briefing can carry the strictest TLP and handling code of what it shows, and an analyst can follow each row
    back with ``resolve explain`` or ``stats``. ``all_records`` says the section summarises every record in
    the store (the holdings counts), so its marking is the strictest of the whole store.
    """

    title: str
    html: str
    anchor: str = ""
    entity_ids: frozenset[str] = frozenset()
    all_records: bool = False


@dataclass
class DemoContext:
    """What a briefing section may read: the store, output folder, sample truth and public data."""

    store: Store
    out_dir: Path
    truth_dir: Path | None = None
    shared_data: Path | None = None
    notes: dict[str, object] = field(default_factory=dict)
