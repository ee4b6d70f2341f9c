"""The network section of the analyst briefing: communities, key players with evidence, roles, routes and the
safeguarding note. Every value interpolated into the HTML is escaped here (the section contract)."""

from __future__ import annotations

import html
import time
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
    from avellino.network.routes import routes_of
    from avellino.network.targets import key_players

    start = time.perf_counter()
    statements = read_statements(ctx.store)
    sg = build_graph(ctx.store, statements)
    if not (sg.nodes["kind"] == "party").any():
        return None
    graph = sg.analysis_graph()
    inference = infer_roles(sg, graph)
    report = key_players(ctx.store, sg, inference, k=K, effort_seconds=BRIEFING_EFFORT, graph=graph)
    routes = routes_of(sg, statements)
    parts = [
        _overview(sg, graph, report),
        _targets_html(report),
        _communities_html(graph, inference),
        _roles_html(sg, inference, ctx),
        _routes_html(routes, ctx),
        _safeguarding_html(report),
    ]
    ctx.notes["network_seconds"] = round(time.perf_counter() - start, 2)
    parts.append(f"<p class='meta'>Network analysis took {ctx.notes['network_seconds']} s.</p>")
    return Section("Network and disruption", "".join(parts), "network")


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


def _targets_html(report: TargetReport) -> str:
    rows: list[list[object]] = [[t.rank, t.label, t.kind, t.role, t.lcc_drop, t.evidence] for t in report.targets]
    base = ", ".join(f"{n} {v:.3f}" for n, v in report.baselines.items())
    frac = report.lcc_after / report.lcc0 if report.lcc0 else 0.0
    return (
        f"<h3>Top {report.k} targets</h3><p>Stopping these {report.k} leaves the largest connected group at "
        f"{report.lcc_after:,} of {report.lcc0:,} ({frac:.1%}); adaptive baselines leave {html.escape(base)} "
        "(fractions). <i>LCC drop</i>: what stopping that one alone removes from the largest group.</p>"
        + _table(["#", "name", "kind", "inferred role", "LCC drop", "evidence"], rows)
    )


def _communities_html(graph: ig.Graph, inference: RoleInference, top: int = 8) -> str:
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
        roles = members["role"][~members["role"].isin(["none", "identifier"])].value_counts()
        leaders = members[~members["protected"]].nlargest(3, "pagerank")["label"]
        rows.append(
            [
                int(cid),
                len(members),
                ", ".join(f"{k} {v}" for k, v in nats.items()),
                ", ".join(f"{k} {v}" for k, v in roles.items()),
                ", ".join(map(str, leaders)),
                int(members["protected"].sum()),
            ]
        )
    count = len(set(membership))
    return f"<h3>Communities</h3><p>{count:,} Leiden communities; the {min(top, count)} largest:</p>" + _table(
        ["community", "members", "nationalities", "inferred roles", "most central", "protected"], rows
    )


def _roles_html(sg: StoreGraph, inference: RoleInference, ctx: DemoContext, per_role: int = 4) -> str:
    labels = sg.nodes.set_index("id")["label"]
    strength = inference.scores.max(axis=1)
    rows: list[list[object]] = []
    for role, members in inference.role.groupby(inference.role):
        if role == "none":
            continue
        best = strength[members.index].nlargest(per_role).index
        for node in best:
            rows.append([str(role), int(len(members)), str(labels[node]), str(inference.evidence[node])])
    text = (
        "<h3>Roles</h3><p>Inferred from evidence (crossings piloted or organised, equipment sold, adverts, legs, "
        "payments, contacts with migrants) and position in the network; the strongest few per role:</p>"
        + _table(["role", "people with it", "name", "evidence"], rows)
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


def _routes_html(routes: pd.DataFrame, ctx: DemoContext, top: int = 25) -> str:
    if routes.empty:
        return "<h3>Routes</h3><p>No route legs, crossings or trips in the store.</p>"
    from avellino.network.routes import sankey_html, write_plotly_js

    write_plotly_js(ctx.out_dir)
    rows = [[*r[:4], int(r[4]), int(r[5]), *r[6:]] for r in routes.head(top).itertuples(index=False)]
    return (
        f"<h3>Routes</h3><p>{len(routes):,} route stages from legs and crossings; the Sankey shows people moved "
        "(plotly.min.js is written beside this page, no CDN).</p>"
        + sankey_html(routes)
        + _table(["from", "to", "stage", "transport", "legs", "people", "first", "last", "operators"], rows)
    )


def _safeguarding_html(report: TargetReport) -> str:
    reasons = pd.Series([p["reason"] for p in report.protected], dtype=object).value_counts()
    listed = "".join(f"<li>{html.escape(str(r))}: {n:,}</li>" for r, n in reasons.items())
    return (
        "<h3>Safeguarding</h3><p class='safeguard'>"
        f"{len(report.protected):,} people in this network are protected and were never considered as targets: "
        "victims, witnesses and informants (from the data-subject category of any record merged into them) "
        "and boat pilots with no other evidence of a smuggling role, who are often migrants made to steer. "
        "Every target list passes a check that refuses to release a protected person.</p>"
        f"<ul>{listed}</ul>"
    )
