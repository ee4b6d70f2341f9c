"""The contract between analysis areas and the briefing: a ``Section`` and the HTML helpers renderers share.

Each area renders its own result object into a ``Section`` with a pure function (``resolve.briefing``,
``network.briefing``, ``flows.briefing``): no store, no files, nothing run. The pipeline that produces the result
objects is ``report/pipeline.py``. A section's ``html`` is a trusted fragment: its author escapes every value it
interpolates (``table_html`` and ``nothing_to_show`` escape theirs).

This module imports no area, so any area may import it without a cycle.
"""

from __future__ import annotations

import html
from dataclasses import dataclass


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


def table_html(headers: list[str], rows: list[list[object]]) -> str:
    """An HTML table; integers right-aligned with thousands separators, every other value escaped."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="n">{v:,}</td>' if isinstance(v, int) else f"<td>{html.escape(str(v))}</td>" for v in row)
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def nothing_to_show(title: str, anchor: str, why: str) -> Section:
    """The section of an area with nothing to show: the briefing says so (and what would fill it) rather than
    leaving the area out, so a reader can tell "nothing found" from "not run"."""
    return Section(title, f"<p class='meta'>{html.escape(why)}</p>", anchor)
