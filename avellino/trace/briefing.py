"""The money and supply-chain section of the briefing: a pure renderer of ``trace.report.TraceFindings``.

The money diagram is the network area's inline-SVG Sankey (``network/sankey.py``: no script, prints, opens
offline), its band widths the amounts paid; the purchases-before-crossings timeline is an inlined PNG drawn with
matplotlib like the flows section's charts, so the briefing stays one self-contained file with no CDN.
"""

from __future__ import annotations

import base64
import html
import io

from avellino.report.sections import Section, nothing_to_show, table_html
from avellino.trace.report import TraceFindings

TITLE, ANCHOR = "Money and supply chain", "money"


def trace_section(found: TraceFindings | None) -> Section:
    if found is None:
        return nothing_to_show(TITLE, ANCHOR, "No payments or purchases in this workspace: ingest payment, "
                               "money-transfer, hawala or dealer files to follow the money.")  # fmt: skip
    from avellino.network.sankey import sankey_svg

    counts = ", ".join(f"{p.replace('_', ' ')} {n}" for p, n in found.patterns.items() if n) or "none"
    parts = [
        f"<p>{found.payments:,} payments between resolved parties. Findings: {html.escape(counts)}. "
        f"{found.withheld} finding(s) withheld because they would accuse a protected person.</p>",
        "<h3>Where migrants' money goes</h3>",
        sankey_svg(found.money, title="Money from migrants to collectors and onwards (amounts)")
        if not found.money.empty
        else "<p class='meta'>No fee collector found (3 or more migrants paying one person).</p>",
        "<h3>Fee collectors</h3>",
        table_html(["collector", "migrants who paid", "amount"],
                   [[label, n, f"{amount:,.0f}"] for _i, label, n, amount in found.collectors]),  # fmt: skip
        "<h3>Asset candidates</h3>",
        table_html(["asset", "kind", "score", "holders"],
                   [[label, schema, f"{score:g}", holders] for _i, label, schema, score, holders in found.assets]),
        "<h3>Suspicious buyers of boats, engines and kit</h3>",
        table_html(["buyer", "score", "points", "signs"],
                   [[label, f"{score:.2f}", points, feats] for _i, label, score, points, feats in found.buyers]),
        "<h3>Purchases before crossings</h3>",
        _timeline(found),
    ]  # fmt: skip
    return Section(TITLE, "".join(parts), ANCHOR, frozenset(found.entity_ids))


def _timeline(found: TraceFindings) -> str:
    if found.purchases.empty:
        return "<p class='meta'>No purchases of boats, engines or kit.</p>"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3))
    for when in found.crossings:
        ax.axvline(when, color="#9ecae1", lw=0.8, zorder=0)
    sus = found.purchases[found.purchases["suspicious"]]
    other = found.purchases[~found.purchases["suspicious"]]
    ax.scatter(other["date"], [0] * len(other), s=10, color="#8c8c8c", label="other buyers", marker="|")
    ax.scatter(sus["date"], [1] * len(sus), s=14, color="#cf222e", label="suspicious buyers", marker="o")
    ax.set_yticks([0, 1], ["other", "suspicious"])
    ax.set_ylim(-0.6, 1.6)
    ax.set_title("Purchases (dots) and recorded crossings (blue lines)", fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    sus_share, other_share = found.before_share
    return (
        f'<img alt="Timeline of purchases and crossings" style="max-width:100%" src="data:image/png;base64,{data}">'
        f"<p class='meta'>{sus_share:.0%} of suspicious buyers' purchases and {other_share:.0%} of the others' "
        "fall in the 14 days before a recorded crossing.</p>"
    )
