"""The online-adverts section of the briefing: a pure renderer of ``content.findings.ContentFindings``."""

from __future__ import annotations

import html

from avellino.content.findings import HARMFUL_AT, ContentFindings
from avellino.report.sections import Section, nothing_to_show, table_html

TITLE, ANCHOR = "Online adverts", "content"


def content_section(findings: ContentFindings | None) -> Section:
    """Harmful posts by platform, language and route; campaigns; selectors that lead into the network; referral
    outcomes. A note saying what would fill it when the workspace holds no Advert."""
    if findings is None:
        return nothing_to_show(
            TITLE, ANCHOR, "No adverts: import collected posts with `avellino content ingest` to see them here."
        )
    f = findings
    labels = ", ".join(f"{n:,} {html.escape(k)}" for k, n in sorted(f.by_label.items())) or "none"
    parts = [
        f"<p>{f.adverts:,} advert(s) in the workspace; the shipped classifier scores {f.harmful:,} of them harmful "
        f"(p_harmful &ge; {HARMFUL_AT}): {labels}. Its figures on real posts are modest (docs/content.md, "
        '"What the figures mean"): read each post before acting on it.</p>',
    ]
    if f.left_out_protected:
        parts.append(
            f"<p class='safeguard'>{f.left_out_protected:,} advert(s) held about or naming a victim, witness or "
            "informant are left out of this section.</p>"
        )
    parts.append("<h3>Harmful posts by platform</h3>")
    parts.append(table_html(["platform", "harmful", "all adverts"], [list(r) for r in f.by_platform]))
    parts.append("<h3>By language</h3>")
    parts.append(table_html(["language", "harmful", "all adverts"], [list(r) for r in f.by_language]))
    parts.append("<h3>Routes named in harmful posts</h3>")
    parts.append(
        table_html(["route", "posts"], [list(r) for r in f.by_route])
        if f.by_route
        else "<p class='meta'>No route between two known places is named.</p>"
    )
    parts.append("<h3>Campaigns (near-duplicate harmful posts)</h3>")
    parts.append(
        table_html(
            ["posts", "accounts", "platforms", "label", "example advert"],
            [[c.size, c.accounts, ", ".join(c.platforms), c.label, c.example] for c in f.campaigns],
        )
        if f.campaigns
        else "<p class='meta'>No harmful post is reposted.</p>"
    )
    parts.append("<h3>Selectors that lead into the network</h3>")
    parts.append(
        table_html(
            ["selector", "value", "harmful adverts", "also carried by"],
            [
                [h.kind, h.value, h.adverts, "; ".join(h.named[:4]) + _protected_note(h.protected, bool(h.named))]
                for h in f.hits
            ],
        )
        if f.hits
        else "<p class='meta'>No phone or handle of a harmful post is carried by another entity.</p>"
    )
    parts.append("<h3>Referrals to platforms</h3>")
    o = f.outcomes
    if o["referred"]:
        median = o["median_hours_to_removal"]
        parts.append(
            f"<p>{o['referred']:,} URL(s) referred; median time to removal "
            f"{'not yet known' if median is None else f'{median:,.1f} h'}.</p>"
        )
        parts.append(table_html(["latest status", "URLs"], [[k, n] for k, n in sorted(o["by_status"].items())]))
        parts.append(table_html(["platform", "URLs"], [[k, n] for k, n in sorted(o["by_platform"].items())]))
    else:
        parts.append("<p class='meta'>No referral sent yet (`avellino content refer`).</p>")
    return Section(TITLE, "".join(parts), ANCHOR, entity_ids=f.entity_ids)


def _protected_note(n: int, after: bool) -> str:
    if not n:
        return ""
    return f"{'; ' if after else ''}{n} protected record(s), not named"
