"""The analyst briefing: one self-contained HTML file with counts by partner, schema, handling code and
data-subject category, followed by one section per analysis area, each rendered from that area's result
(``report/pipeline.py`` makes the results). The document carries, at its top and bottom, the strictest TLP and
handling code of what its sections show (``report/markings.py``); each section heading carries its own.

``sections`` and ``render`` are pure; ``briefing_html`` reads the markings of what the sections show from the
store (read-only) and puts the page together.
"""

from __future__ import annotations

import datetime as dt
import html

from avellino.content.briefing import content_section
from avellino.flows.briefing import flows_section
from avellino.network.briefing import network_section
from avellino.report.holdings import holdings_section
from avellino.report.markings import Marking, store_marking
from avellino.report.pipeline import Findings
from avellino.report.sections import Section
from avellino.resolve.briefing import resolution_section
from avellino.store.base import Store
from avellino.trace.briefing import trace_section

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:72rem;color:#1b1f24;
line-height:1.45;padding:0 1rem}h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:2px solid #d0d7de;
padding-bottom:.2rem;margin-top:2.2rem}table{border-collapse:collapse;margin:.6rem 0 1.2rem;font-size:.92rem}
th,td{border:1px solid #d0d7de;padding:.25rem .6rem;text-align:left}th{background:#f6f8fa}
td.n{text-align:right;font-variant-numeric:tabular-nums}.meta{color:#57606a}.banner{background:#fff8c5;
border:1px solid #d4a72c;padding:.5rem .8rem;border-radius:4px}.safeguard{background:#ffebe9;border:1px solid #cf222e;
padding:.5rem .8rem;border-radius:4px}nav a{margin-right:1rem}.marking{font-weight:700;font-family:monospace;
padding:.1rem .45rem;border-radius:3px;font-size:.85rem;vertical-align:middle}h2 .marking{margin-left:.6rem}
p.doc-marking{text-align:center;margin:.4rem 0}
"""


def sections(findings: Findings) -> list[Section]:
    """Holdings, then each area in pipeline order (resolution before the network, which reads resolved ids)."""
    return [
        holdings_section(findings.holdings),
        resolution_section(findings.resolution),
        network_section(findings.network),
        flows_section(findings.flows),
        content_section(findings.content),
        trace_section(findings.trace),
    ]


def section_marking(section: Section, store: Store) -> Marking:
    """The strictest marking of the facts a section shows (public statistics alone are TLP:CLEAR)."""
    if section.all_records:
        return store_marking(store)
    return store_marking(store, section.entity_ids) if section.entity_ids else Marking()


def briefing_html(store: Store, findings: Findings) -> str:
    """The whole page for ``findings`` of ``store``, each section marked from the store's statements."""
    parts = sections(findings)
    return render(parts, [section_marking(s, store) for s in parts], findings.holdings.files, findings.synthetic)


def render(parts: list[Section], marks: list[Marking], files: int, synthetic: bool = False) -> str:
    """The page: the document's marking (the strictest of its sections') at top and bottom, then the sections,
    each with its own marking."""
    document = Marking()
    for mark in marks:
        document = document.stricter(mark)
    banner = f"<p class='doc-marking'>{document.html()}</p>"
    nav = "".join(f'<a href="#{s.anchor or i}">{html.escape(s.title)}</a>' for i, s in enumerate(parts))
    body = "".join(
        f'<section id="{s.anchor or i}"><h2>{html.escape(s.title)}{mark.html()}</h2>{s.html}</section>'
        for i, (s, mark) in enumerate(zip(parts, marks, strict=True))
    )
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Avellino briefing ({html.escape(document.label())})</title>"
        f"<style>{CSS}</style></head><body>{banner}<h1>Avellino briefing</h1>"
        f"<p class='meta'>Generated {stamp} from {files} imported file(s). "
        f"This document is marked {html.escape(document.label())}, the strictest TLP and handling code of the "
        "facts it shows; each section carries its own. Each fact keeps its own markings in the workspace.</p>"
        + ("<p class='banner'>Synthetic sample operation: every person in it is invented.</p>" if synthetic else "")
        + f"<nav>{nav}</nav>{body}{banner}</body></html>"
    )
