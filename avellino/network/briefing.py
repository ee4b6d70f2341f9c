"""The network section of the analyst briefing: communities, key players with evidence, roles, routes and the
safeguarding note. A pure renderer of :class:`avellino.network.findings.NetworkFindings`: it reads no store and
runs no analysis. Every value interpolated into the HTML is escaped here (the section contract).

Every table of people carries their entity ids (so ``avellino resolve explain A B`` can be run on them). The
findings were made through the network's protection; each list passes it once more here (targets by
``Protection.release``, the others by ``Protection.screen``), and a list naming a protected person is refused
(an error, never a page), so no victim, witness, informant or migrant boat pilot is shown as a target, operator,
central member or role holder; they are counted in the safeguarding note. The section's ``entity_ids`` are the
people it lists and the route legs and crossings its routes aggregate.
"""

from __future__ import annotations

import html

import pandas as pd

from avellino.network.findings import NetworkFindings
from avellino.network.protect import ProtectedTargetError, Protection
from avellino.network.routes import sankey_html
from avellino.report.sections import Section, nothing_to_show, table_html

TITLE, ANCHOR = "Network and disruption", "network"


def network_section(findings: NetworkFindings | None) -> Section:
    """The section (its own note when the store holds no people or organisations)."""
    if findings is None:
        return nothing_to_show(TITLE, ANCHOR, "No network: the workspace holds no people or organisations.")
    shown: set[str] = set()
    parts = [
        _overview(findings),
        _targets_html(findings, shown),
        _communities_html(findings, shown),
        _roles_html(findings, shown),
        _routes_html(findings.routes, findings.protection, shown),
        _safeguarding_html(findings),
    ]
    shown.update(findings.route_events)
    # counts over the whole network (communities, roles, protected people by reason) summarise every record
    return Section(TITLE, "".join(parts), ANCHOR, frozenset(shown), all_records=True)


def _overview(f: NetworkFindings) -> str:
    kinds = ", ".join(f"{n:,} {k}" for k, n in f.node_kinds.items())
    ties = ", ".join(f"{n:,} {k}" for k, n in f.tie_events.items())
    sizes = f.component_sizes
    return (
        f"<p>Nodes: {html.escape(kinds)}. Ties (events): {html.escape(ties)}. The analysis graph (identifiers held "
        f"by one person merged into them) has {f.vertices:,} vertices in {len(sizes):,} components; the "
        f"largest holds {sizes[0] if sizes else 0:,}.</p>"
    )


def _listable(protection: Protection, people: list[str]) -> list[str]:
    """``people`` unchanged when ``Protection.screen`` lets every one of them be shown; otherwise the findings
    were not made through the protection (a bug), and the briefing is refused rather than show one."""
    _, flagged = protection.screen(people)
    if flagged:
        raise ProtectedTargetError(
            f"Refusing to render a briefing listing protected person(s) {sorted(set(flagged))}: victims, "
            "witnesses, informants and migrant boat pilots are never listed as offenders."
        )
    return people


def _targets_html(f: NetworkFindings, shown: set[str]) -> str:
    report = f.targets
    f.protection.release([t.id for t in report.targets])  # refuses a list naming a protected person
    rows: list[list[object]] = [[t.rank, t.label, t.id, t.kind, t.role, t.lcc_drop, t.evidence] for t in report.targets]
    shown.update(t.id for t in report.targets)
    base = ", ".join(f"{n} {v:.3f}" for n, v in report.baselines.items())
    frac = report.lcc_after / report.lcc0 if report.lcc0 else 0.0
    return (
        f"<h3>Top {report.k} targets</h3><p>Stopping these {report.k} leaves the largest connected group at "
        f"{report.lcc_after:,} of {report.lcc0:,} ({frac:.1%}); adaptive baselines leave {html.escape(base)} "
        "(fractions). <i>LCC drop</i>: what stopping that one alone removes from the largest group.</p>"
        + table_html(["#", "name", "entity id", "kind", "inferred role", "LCC drop", "evidence"], rows)
    )


def _communities_html(f: NetworkFindings, shown: set[str]) -> str:
    rows: list[list[object]] = []
    for c in f.communities:
        central = c.central
        shown.update(_listable(f.protection, [node for _, node in central]))
        rows.append(
            [
                c.id,
                c.members,
                ", ".join(f"{k} {v}" for k, v in c.nationalities.items()),
                ", ".join(f"{k} {v}" for k, v in c.roles.items()),
                ", ".join(f"{label} [{node}]" for label, node in central),
                c.protected,
            ]
        )
    return (
        f"<h3>Communities</h3><p>{f.community_count:,} Leiden communities; the {len(f.communities)} largest. "
        "<i>Most central</i>: name [entity id], never a protected person.</p>"
    ) + table_html(["community", "members", "nationalities", "inferred roles", "most central", "protected"], rows)


def _roles_html(f: NetworkFindings, shown: set[str]) -> str:
    shown.update(_listable(f.protection, [r.id for r in f.roles]))
    rows: list[list[object]] = [[r.role, r.holders, r.label, r.id, r.evidence] for r in f.roles]
    text = (
        "<h3>Roles</h3><p>Inferred from evidence (crossings piloted or organised, equipment sold, adverts, legs, "
        "payments, contacts with migrants) and position in the network; the strongest few per role. "
        f"{f.roles_withheld:,} protected people with evidence of a role (mostly migrants made to steer a boat) are "
        "not listed or counted here: see Safeguarding.</p>"
        + table_html(["role", "people with it", "name", "entity id", "evidence"], rows)
    )
    scored = f.role_scores
    if scored is not None:
        per = scored["per_role"]
        assert isinstance(per, dict)
        text += (
            f"<p>Against the sample's truth (this store's resolution): accuracy {scored['accuracy']}, "
            f"macro F1 {scored['macro_f1']} over {scored['persons']} persons.</p>"
            + table_html(
                ["role", "precision", "recall", "F1", "support"],
                [[r, v["precision"], v["recall"], v["f1"], v["support"]] for r, v in per.items()],
            )
        )
    return text


def _routes_html(routes: pd.DataFrame, protection: Protection, shown: set[str], top: int = 25) -> str:
    if routes.empty:
        return "<h3>Routes</h3><p>No route legs, crossings or trips in the store.</p>"
    head = routes.head(top)
    shown.update(_listable(protection, [i for ids in head["operator_ids"] for i in str(ids).split(";") if i]))
    rows = [
        [r["from"], r["to"], r["stage"], r["transport"], int(r["count"]), int(r["people"]), r["first"], r["last"],
         r["operators"], str(r["operator_ids"]).replace(";", ", "), int(r["protected"])]
        for r in head.to_dict(orient="records")
    ]  # fmt: skip
    return (
        f"<h3>Routes</h3><p>{len(routes):,} route stages from legs and crossings; the diagram shows people moved. "
        "Operators are listed by name and entity id; <i>protected</i> counts the victims, witnesses, informants "
        "and migrant boat pilots among a stage's operators, who are never listed as operators.</p>"
        + sankey_html(routes)
        + table_html(
            ["from", "to", "stage", "transport", "legs", "people", "first", "last", "operators", "operator ids",
             "protected"],
            rows,
        )
    )  # fmt: skip


def _safeguarding_html(f: NetworkFindings) -> str:
    listed = "".join(f"<li>{html.escape(r)}: {n:,}</li>" for r, n in f.protected_by_reason.items())
    return (
        "<h3>Safeguarding</h3><p class='safeguard'>"
        f"{sum(f.protected_by_reason.values()):,} people in this network ({len(f.targets.protected):,} of them in "
        "the analysis graph) are protected: never considered as targets, never listed as operators or with an "
        "offender role: victims, witnesses and informants (from the data-subject category of any record merged "
        "into them) and boat pilots with no other evidence of a smuggling role, who are often migrants made to "
        "steer. Every target list passes a check that refuses to release a protected person.</p>"
        f"<ul>{listed}</ul>"
    )
