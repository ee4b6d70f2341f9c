"""A Sankey diagram of people moved between places, as one inline SVG: no JavaScript, no file beside it.

The briefing and ``network routes --html`` must be single self-contained files that open offline and print,
so the diagram is drawn here rather than by a charting library that needs a 4.8 MB script beside the page.

Layout: places are placed in columns by the longest chain of flows that reaches them (flows that would close a
loop are left out of the drawing and counted in the caption); each column stacks its places, tallest first,
with heights proportional to the people passing through; each flow is a band whose width is the people it
moved. Long chains of transit places widen the drawing (it scrolls sideways) rather than crowd the labels.
Every label and tooltip is escaped here.
"""

from __future__ import annotations

import html

import pandas as pd

WIDTH, HEIGHT, MARGIN, NODE_WIDTH, PAD = 960, 560, 10, 12, 10
LABEL_ROOM, MIN_STEP, MAX_LABEL = 150, 150, 20


def sankey_svg(table: pd.DataFrame, max_links: int = 60, title: str = "People moved between places") -> str:
    """The ``max_links`` largest flows of a route table (columns from, to, people) as an inline ``<svg>``."""
    flows = table.groupby(["from", "to"], as_index=False)["people"].sum()
    flows["people"] = flows["people"].clip(lower=1)
    flows = flows.nlargest(max_links, "people")
    links = [(str(a), str(b), float(n)) for a, b, n in flows.itertuples(index=False) if a != b]
    drawn, looped = _acyclic(links)
    if not drawn:
        return f"<p>{html.escape(title)}: no flows between places to draw.</p>"
    layer = _layers(drawn)
    value: dict[str, float] = {}
    for a, b, _ in drawn:
        value[a] = value.get(a, 0.0)
        value[b] = value.get(b, 0.0)
    inflow = {p: sum(n for _, b, n in drawn if b == p) for p in value}
    outflow = {p: sum(n for a, _, n in drawn if a == p) for p in value}
    value = {p: max(inflow[p], outflow[p]) for p in value}
    columns: dict[int, list[str]] = {}
    for p in sorted(value, key=lambda q: (-value[q], q)):
        columns.setdefault(layer[p], []).append(p)
    usable = HEIGHT - 2 * MARGIN - 30
    pad = {c: min(PAD, 0.4 * usable / max(len(ps) - 1, 1)) for c, ps in columns.items()}
    scale = min((usable - pad[c] * (len(ps) - 1)) / sum(value[p] for p in ps) for c, ps in columns.items())
    last = max(columns)
    # Long chains of transit places get more columns than fit: then the diagram grows wider and scrolls,
    # rather than squeezing labels on top of each other.
    step = max((WIDTH - 2 * MARGIN - NODE_WIDTH - LABEL_ROOM) / max(last, 1), MIN_STEP)
    width = round(2 * MARGIN + NODE_WIDTH + LABEL_ROOM + step * last)
    x = {p: MARGIN + layer[p] * step for p in value}
    y: dict[str, float] = {}
    for c, ps in columns.items():
        top = MARGIN + 30.0
        for p in ps:
            y[p] = top
            top += value[p] * scale + pad[c]
    parts = [
        "<div style='overflow-x:auto'>",
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {HEIGHT}" width="{width}" '
        f'height="{HEIGHT}" role="img" aria-label="{html.escape(title)}" style="font:12px sans-serif">',
        f'<text x="{MARGIN}" y="{MARGIN + 14}" font-weight="bold">{html.escape(title)}</text>',
    ]
    out_offset = dict.fromkeys(value, 0.0)
    in_offset = dict.fromkeys(value, 0.0)
    for a, b, n in sorted(drawn, key=lambda link: (y[link[0]], y[link[1]])):
        band = n * scale
        y0 = y[a] + out_offset[a] + band / 2
        y1 = y[b] + in_offset[b] + band / 2
        out_offset[a] += band
        in_offset[b] += band
        x0, x1 = x[a] + NODE_WIDTH, x[b]
        mid = (x0 + x1) / 2
        tip = html.escape(f"{a} -> {b}: {n:,.0f} people")
        parts.append(
            f'<path d="M{x0:.1f},{y0:.1f} C{mid:.1f},{y0:.1f} {mid:.1f},{y1:.1f} {x1:.1f},{y1:.1f}" fill="none" '
            f'stroke="#4682b4" stroke-opacity="0.35" stroke-width="{max(band, 1):.1f}"><title>{tip}</title></path>'
        )
    for p in value:
        height = max(value[p] * scale, 1.0)
        label = html.escape(p)
        short = html.escape(p if len(p) <= MAX_LABEL else p[: MAX_LABEL - 1] + "…")
        parts.append(
            f'<rect x="{x[p]:.1f}" y="{y[p]:.1f}" width="{NODE_WIDTH}" height="{height:.1f}" fill="#34495e">'
            f"<title>{label}: {value[p]:,.0f} people</title></rect>"
        )
        tx, ty = x[p] + NODE_WIDTH + 4, y[p] + height / 2 + 4
        parts.append(f'<text x="{tx:.1f}" y="{ty:.1f}">{short}<title>{label}</title></text>')
    parts.append("</svg></div>")
    caption = f"{len(drawn)} largest flows"
    if looped:
        caption += f"; {len(looped)} flow(s) that lead back to an earlier place are not drawn"
    return "".join(parts) + f"<p class='meta'>{html.escape(caption)}.</p>"


def _acyclic(links: list[tuple[str, str, float]]) -> tuple[list[tuple[str, str, float]], list[tuple[str, str, float]]]:
    """Links kept in order of size unless they would close a loop with the links already kept."""
    kept: list[tuple[str, str, float]] = []
    dropped: list[tuple[str, str, float]] = []
    succ: dict[str, set[str]] = {}
    for a, b, n in links:
        if _reaches(succ, b, a):
            dropped.append((a, b, n))
            continue
        succ.setdefault(a, set()).add(b)
        kept.append((a, b, n))
    return kept, dropped


def _reaches(succ: dict[str, set[str]], start: str, goal: str) -> bool:
    stack, seen = [start], {start}
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        for nxt in succ.get(node, ()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def _layers(links: list[tuple[str, str, float]]) -> dict[str, int]:
    """Column per place: the longest chain of flows that reaches it (the links form no loop)."""
    layer: dict[str, int] = {}
    for a, b, _ in links:
        layer.setdefault(a, 0)
        layer.setdefault(b, 0)
    for _ in range(len(layer)):
        changed = False
        for a, b, _ in links:
            if layer[b] < layer[a] + 1:
                layer[b] = layer[a] + 1
                changed = True
        if not changed:
            break
    return layer
