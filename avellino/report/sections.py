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
    title: str
    html: str
    anchor: str = ""


@dataclass
class DemoContext:
    """What a briefing section may read: the store, output folder, sample truth and public data."""

    store: Store
    out_dir: Path
    truth_dir: Path | None = None
    shared_data: Path | None = None
    notes: dict[str, object] = field(default_factory=dict)
