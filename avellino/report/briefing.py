"""The analyst briefing: one self-contained HTML file with counts by partner, schema, handling code and
data-subject category, followed by the sections each analysis area contributes (``briefing_section(ctx)`` in
``avellino.<area>.briefing``). The document carries, at its top and bottom, the strictest TLP and handling code of
what its sections show (``report/markings.py``); each section heading carries its own.
"""

from __future__ import annotations

import datetime as dt
import html
import importlib
from collections.abc import Callable

from avellino.report.markings import Marking, store_marking
from avellino.report.sections import DemoContext, Section

#: Areas in pipeline order: resolution first, since the network reads resolved entities.
SECTION_MODULES = ("avellino.resolve.briefing", "avellino.network.briefing", "avellino.flows.briefing")

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


def table_html(headers: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(f'<td class="n">{v:,}</td>' if isinstance(v, int) else f"<td>{html.escape(str(v))}</td>" for v in row)
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def counts_section(ctx: DemoContext) -> Section:
    parts = []
    for title, column in (
        ("By partner (originator)", "originator"),
        ("By schema", "schema"),
        ("By handling code", "handling_code"),
        ("By TLP", "tlp"),
        ("By data-subject category", "subject_category"),
    ):
        rows = ctx.store.aggregate([column]).to_pylist()
        parts.append(f"<h3>{title}</h3>")
        parts.append(
            table_html(
                [column, "entities", "statements"],
                [[r[column], r["entities"], r["statements"]] for r in rows],
            )
        )
    cats = {r["subject_category"]: r["entities"] for r in ctx.store.aggregate(["subject_category"]).to_pylist()}
    protected = sum(cats.get(c, 0) for c in ("victim", "witness", "informant"))
    banner = (
        f'<p class="safeguard"><b>Safeguarding:</b> {protected:,} records describe victims, witnesses or informants. '
        "They are never ranked as disruption targets and are kept under stricter retention.</p>"
    )
    return Section("Holdings", banner + "".join(parts), "holdings", all_records=True)


def build_briefing(ctx: DemoContext, log: Callable[[str], None] | None = None) -> str:
    """Run each area's section (in pipeline order) and return the whole HTML page."""
    say = log or (lambda _m: None)
    sections = [counts_section(ctx)]
    for name in SECTION_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        say(f"{name.split('.')[1]}: working")
        section = module.briefing_section(ctx)
        if section is not None:
            sections.append(section)
    return render(sections, ctx)


def section_marking(section: Section, ctx: DemoContext) -> Marking:
    """The strictest marking of the facts a section shows (public statistics alone are TLP:CLEAR)."""
    if section.all_records:
        return store_marking(ctx.store)
    return store_marking(ctx.store, section.entity_ids) if section.entity_ids else Marking()


def render(sections: list[Section], ctx: DemoContext) -> str:
    batches = ctx.store.batches()
    marks = [section_marking(s, ctx) for s in sections]
    document = Marking()
    for mark in marks:
        document = document.stricter(mark)
    banner = f"<p class='doc-marking'>{document.html()}</p>"
    nav = "".join(f'<a href="#{s.anchor or i}">{html.escape(s.title)}</a>' for i, s in enumerate(sections))
    body = "".join(
        f'<section id="{s.anchor or i}"><h2>{html.escape(s.title)}{mark.html()}</h2>{s.html}</section>'
        for i, (s, mark) in enumerate(zip(sections, marks, strict=True))
    )
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>Avellino briefing ({html.escape(document.label())})</title>"
        f"<style>{CSS}</style></head><body>{banner}<h1>Avellino briefing</h1>"
        f"<p class='meta'>Generated {stamp} from {len(batches)} imported file(s). "
        f"This document is marked {html.escape(document.label())}, the strictest TLP and handling code of the "
        "facts it shows; each section carries its own. Each fact keeps its own markings in the workspace.</p>"
        + ("<p class='banner'>Synthetic sample operation: every person in it is invented.</p>" if ctx.truth_dir else "")
        + f"<nav>{nav}</nav>{body}{banner}</body></html>"
    )
