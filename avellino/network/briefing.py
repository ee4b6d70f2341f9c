"""The network section of the analyst briefing: communities, key players with evidence, roles, routes and the
safeguarding note. Every value interpolated into the HTML is escaped here (the section contract).

Every table of people carries their entity ids (so ``avellino resolve explain A B`` can be run on them) and
passes through the network's protection: no victim, witness, informant or migrant boat pilot is shown as a
target, operator, central member or role holder; they are counted in the safeguarding note. The section's
``entity_ids`` are the people it lists and the route legs and crossings its routes aggregate.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

import pandas as pd

from avellino.report.sections import DemoContext, Section

if TYPE_CHECKING:
    import igraph as ig

    from avellino.network.build import StoreGraph
    from avellino.network.roles import RoleInference
    from avellino.network.targets import TargetReport

#: Seconds the key-player search may spend in the briefing (the whole section must stay well under 30 s).
BRIEFING_EFFORT = 4.0
K = 10


def briefing_section(ctx: DemoContext) -> Section | None:
    """Build the network from the store and describe it for the analyst (None when there are no parties)."""
    from avellino.network.build import build_graph, read_statements
    from avellino.network.roles import infer_roles
    from avellino.network.routes import route_stages, routes_of
    from avellino.network.targets import key_players

    statements = read_statements(ctx.store)
    sg = build_graph(ctx.store, statements)
    if not (sg.nodes["kind"] == "party").any():
        return None
    graph = sg.analysis_graph()
    inference = infer_roles(sg, graph)
    report = key_players(ctx.store, sg, inference, k=K, effort_seconds=BRIEFING_EFFORT, graph=graph)
    stages = route_stages(statements)
    routes = routes_of(sg, statements, stages)
    shown: set[str] = set()
    parts = [
        _overview(sg, graph, report),
        _targets_html(report, shown),
        _communities_html(graph, inference, shown),
        _roles_html(sg, inference, ctx, shown),
        _routes_html(routes, shown),
        _safeguarding_html(report, sg),
    ]
    shown.update(str(e) for e in stages["event"])
    # counts over the whole network (communities, roles, protected people by reason) summarise every record
    return Section("Network and disruption", "".join(parts), "network", frozenset(shown), all_records=True)


def _table(headers: list[str], rows: list[list[object]]) -> str:
    from avellino.report.briefing import table_html

    return table_html(headers, rows)


def _overview(sg: StoreGraph, graph: ig.Graph, report: TargetReport) -> str:
    kinds = ", ".join(f"{n:,} {k}" for k, n in sg.nodes["kind"].value_counts().items())
    ties = ", ".join(f"{int(n):,} {k}" for k, n in sg.edges.groupby("kind")["events"].sum().items())
    sizes = sorted(graph.connected_components().sizes(), reverse=True)
    return (
        f"<p>Nodes: {html.escape(kinds)}. Ties (events): {html.escape(ties)}. The analysis graph (identifiers held "
        f"by one person merged into them) has {graph.vcount():,} vertices in {len(sizes):,} components; the "
        f"largest holds {sizes[0] if sizes else 0:,}.</p>"
    )


def _targets_html(report: TargetReport, shown: set[str]) -> str:
    rows: list[list[object]] = [[t.rank, t.label, t.id, t.kind, t.role, t.lcc_drop, t.evidence] for t in report.targets]
    shown.update(t.id for t in report.targets)
    base = ", ".join(f"{n} {v:.3f}" for n, v in report.baselines.items())
    frac = report.lcc_after / report.lcc0 if report.lcc0 else 0.0
    return (
        f"<h3>Top {report.k} targets</h3><p>Stopping these {report.k} leaves the largest connected group at "
        f"{report.lcc_after:,} of {report.lcc0:,} ({frac:.1%}); adaptive baselines leave {html.escape(base)} "
        "(fractions). <i>LCC drop</i>: what stopping that one alone removes from the largest group.</p>"
        + _table(["#", "name", "entity id", "kind", "inferred role", "LCC drop", "evidence"], rows)
    )


def _communities_html(graph: ig.Graph, inference: RoleInference, shown: set[str], top: int = 8) -> str:
    from avellino.network.structure import leiden_communities

    membership = leiden_communities(graph)
    frame = pd.DataFrame(
        {
            "community": membership,
            "name": graph.vs["name"],
            "label": graph.vs["label"],
            "nationality": [str(n).split(";")[0] for n in graph.vs["nationality"]],
            "protected": graph.vs["protected"],
            "pagerank": graph.pagerank(weights="weight"),
        }
    )
    frame["role"] = frame["name"].map(inference.role).fillna("identifier")
    rows: list[list[object]] = []
    for cid, members in sorted(frame.groupby("community"), key=lambda kv: -len(kv[1]))[:top]:
        nats = members["nationality"][members["nationality"] != ""].value_counts().head(3)
        offenders = members[~members["protected"].astype(bool)]
        roles = offenders["role"][~offenders["role"].isin(["none", "identifier"])].value_counts()
        leaders = offenders.nlargest(3, "pagerank")
        shown.update(str(n) for n in leaders["name"])
        rows.append(
            [
                int(cid),
                len(members),
                ", ".join(f"{k} {v}" for k, v in nats.items()),
                ", ".join(f"{k} {v}" for k, v in roles.items()),
                ", ".join(f"{label} [{node}]" for label, node in zip(leaders["label"], leaders["name"], strict=True)),
                int(members["protected"].sum()),
            ]
        )
    count = len(set(membership))
    return (
        f"<h3>Communities</h3><p>{count:,} Leiden communities; the {min(top, count)} largest. <i>Most central</i>: "
        "name [entity id], never a protected person.</p>"
    ) + _table(["community", "members", "nationalities", "inferred roles", "most central", "protected"], rows)


def _roles_html(sg: StoreGraph, inference: RoleInference, ctx: DemoContext, shown: set[str], per_role: int = 4) -> str:
    labels = sg.nodes.set_index("id")["label"]
    strength = inference.scores.max(axis=1)
    rows: list[list[object]] = []
    flagged_total = 0
    for role, members in inference.role.groupby(inference.role):
        if role == "none":
            continue
        listed, flagged = sg.protection.screen(strength[members.index].sort_values(ascending=False).index)
        flagged_total += len(flagged)
        for node in listed[:per_role]:
            shown.add(str(node))
            rows.append([str(role), int(len(listed)), str(labels[node]), str(node), str(inference.evidence[node])])
    text = (
        "<h3>Roles</h3><p>Inferred from evidence (crossings piloted or organised, equipment sold, adverts, legs, "
        "payments, contacts with migrants) and position in the network; the strongest few per role. "
        f"{flagged_total:,} protected people with evidence of a role (mostly migrants made to steer a boat) are "
        "not listed or counted here: see Safeguarding.</p>"
        + _table(["role", "people with it", "name", "entity id", "evidence"], rows)
    )
    if ctx.truth_dir is not None and (ctx.truth_dir / "persons.csv").is_file():
        from avellino.network.evaluate import canonical_map, read_truth, score_roles, truth_labels

        scored = score_roles(inference.role, truth_labels(read_truth(ctx.truth_dir), canonical_map(ctx.store)))
        ctx.notes["network_roles"] = scored
        per = scored["per_role"]
        assert isinstance(per, dict)
        text += (
            f"<p>Against the sample's truth (this store's resolution): accuracy {scored['accuracy']}, "
            f"macro F1 {scored['macro_f1']} over {scored['persons']} persons.</p>"
            + _table(
                ["role", "precision", "recall", "F1", "support"],
                [[r, v["precision"], v["recall"], v["f1"], v["support"]] for r, v in per.items()],
            )
        )
    return text


def _routes_html(routes: pd.DataFrame, shown: set[str], top: int = 25) -> str:
    if routes.empty:
        return "<h3>Routes</h3><p>No route legs, crossings or trips in the store.</p>"
    from avellino.network.routes import sankey_html

    head = routes.head(top)
    shown.update(i for ids in head["operator_ids"] for i in str(ids).split(";") if i)
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
        + _table(
            ["from", "to", "stage", "transport", "legs", "people", "first", "last", "operators", "operator ids",
             "protected"],
            rows,
        )
    )  # fmt: skip


def _safeguarding_html(report: TargetReport, sg: StoreGraph) -> str:
    reasons = sg.nodes[sg.nodes["protected"].astype(bool)]["safeguarding"].value_counts()
    listed = "".join(f"<li>{html.escape(str(r))}: {n:,}</li>" for r, n in reasons.items())
    return (
        "<h3>Safeguarding</h3><p class='safeguard'>"
        f"{int(reasons.sum()):,} people in this network ({len(report.protected):,} of them in the analysis graph) "
        "are protected: never considered as targets, never listed as operators or with an offender role: "
        "victims, witnesses and informants (from the data-subject category of any record merged into them) "
        "and boat pilots with no other evidence of a smuggling role, who are often migrants made to steer. "
        "Every target list passes a check that refuses to release a protected person.</p>"
        f"<ul>{listed}</ul>"
    )
