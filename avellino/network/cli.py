"""``avellino network``: network analysis and disruption."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    import igraph as ig

    from avellino.network.build import StoreGraph
    from avellino.network.protect import Protection
    from avellino.store.base import Store

app = typer.Typer(
    help="Communities, roles, key players and disruption simulation on the resolved network.",
    no_args_is_help=True,
)
err = Console(stderr=True)
out = Console()

EDGES_HELP = (
    "Network file: an edge list 'u v [weight]' (whitespace or CSV), a CSV adjacency matrix, or the GraphML / "
    "GEXF that 'network build --to' and 'network export' write."
)
FORMAT_HELP = "edgelist, matrix, graphml, gexf, or auto (decide from the file)."
PROTECTED_HELP = (
    "Ids never to target (victims, witnesses, informants, migrant boat pilots): a comma-separated list, "
    "or a file with one id per line. They stay in the network but are never removed or listed. People a "
    "GraphML/GEXF file marks protected (as 'network build --to' writes them) are protected as well."
)


def _load(edges: Path, fmt: str) -> ig.Graph:
    from avellino.errors import ConfigError
    from avellino.network.io import FORMATS, read_network

    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}.")
    return read_network(edges, fmt)  # type: ignore[arg-type]


def _check_writable(path: Path, suffixes: tuple[str, ...], option: str = "--to") -> None:
    """Refuse an output path before any work: a wrong extension or a missing folder."""
    from avellino.errors import ConfigError

    if path.suffix.lower() not in suffixes:
        raise ConfigError(f"{option} must end in {' or '.join(suffixes)}, not {path.name!r}.")
    if not path.parent.is_dir():
        raise ConfigError(f"The folder {path.parent} does not exist: create it first, or write elsewhere.")


def _write_graph(graph: ig.Graph, to: Path) -> None:
    from avellino.network.export import write_gexf, write_graphml

    (write_graphml if to.suffix.lower() == ".graphml" else write_gexf)(graph, to)


def _protection(protected: str | None, graph: ig.Graph | None = None) -> Protection:
    """--protected ids, and the people a graph file marks protected."""
    from avellino.network.protect import Protection

    from_file = Protection.from_graph(graph) if graph is not None else Protection()
    if not protected:
        return from_file
    return from_file.merged(_given(protected))


def _given(protected: str) -> Protection:
    from avellino.network.protect import Protection

    path = Path(protected)
    if path.is_file():
        ids = [ln.strip() for ln in path.read_text(encoding="utf-8-sig").splitlines() if ln.strip()]
    else:
        ids = [p.strip() for p in protected.split(",") if p.strip()]
    return Protection.of(ids, reason="protected person (given with --protected)")


@app.command()
def disrupt(
    edges: Path = typer.Option(..., "--edges", help=EDGES_HELP, exists=True, dir_okay=False),
    fmt: str = typer.Option("auto", "--format", help=FORMAT_HELP),
    k: int = typer.Option(10, "--k", min=1, help="Plan for 1..K removals."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (for scripts) instead of a table."),
    protected: str | None = typer.Option(None, "--protected", help=PROTECTED_HELP),
    effort: float = typer.Option(
        20.0, "--effort", min=0.0, help="Seconds the whole search may spend, the three baselines included."
    ),
) -> None:
    """Which k people to stop so the network falls apart most, by Avellino's method and three baselines.

    For every k = 1..K it lists the vertices to remove and the largest connected component left, as a
    fraction of the largest component before (lcc_fraction; lower is better). Baselines: adaptive degree,
    betweenness and collective influence.

    Examples:

      avellino network disrupt --edges calls.csv --k 10

      avellino network disrupt --edges caviar.csv --format matrix --k 5 --json

      avellino network disrupt --edges calls.txt --protected victims.txt
    """
    from avellino.network.disrupt import plan_disruption

    graph = _load(edges, fmt)
    with err.status(f"Searching key players in {graph.vcount()} vertices, {graph.ecount()} ties..."):
        plan = plan_disruption(graph, k, _protection(protected, graph), effort_seconds=effort)
    for note in plan.notes:
        err.print(f"[yellow]Budget:[/] {note}")
    if as_json:
        print(json.dumps(plan.as_json()))
        return
    table = Table(title=f"{edges.name}: {plan.nodes} vertices, {plan.edges} ties, largest component {plan.lcc0}")
    table.add_column("k", justify="right")
    for name in plan.methods:
        table.add_column(name, justify="right")
    table.add_column("Avellino's targets")
    for i in range(len(plan.methods["avellino"])):
        row = [str(i + 1)] + [f"{steps[i].lcc_fraction:.3f}" for steps in plan.methods.values()]
        table.add_row(*row, ", ".join(plan.methods["avellino"][i].removed))
    out.print(table)
    for flag in plan.flagged:
        out.print(f"[yellow]Protected, never targeted:[/] {flag['id']} ({flag['reason']})")


@app.command()
def simulate(
    edges: Path = typer.Option(..., "--edges", help=EDGES_HELP, exists=True, dir_okay=False),
    remove: str = typer.Option(..., "--remove", help="Comma-separated ids to remove."),
    fmt: str = typer.Option("auto", "--format", help=FORMAT_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of text."),
) -> None:
    """What happens if these people are stopped: largest component, number of components, efficiency.

    Example:

      avellino network simulate --edges calls.csv --remove n1,n12
    """
    from dataclasses import asdict

    from avellino.network.structure import simulate_removal

    impact = simulate_removal(_load(edges, fmt), [r.strip() for r in remove.split(",") if r.strip()])
    if as_json:
        print(json.dumps(asdict(impact)))
        return
    out.print(
        f"Largest component {impact.lcc} ({impact.lcc_fraction:.1%} of before), {impact.components} components, "
        f"efficiency {impact.efficiency:.4f} ({impact.efficiency_fraction:.1%} of before)"
    )


@app.command()
def describe(
    edges: Path = typer.Option(..., "--edges", help=EDGES_HELP, exists=True, dir_okay=False),
    fmt: str = typer.Option("auto", "--format", help=FORMAT_HELP),
    top: int = typer.Option(10, "--top", help="How many central vertices and brokers to list."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    protected: str | None = typer.Option(None, "--protected", help=PROTECTED_HELP),
) -> None:
    """Components, Leiden communities, the most central vertices and the brokers between communities.

    Protected people are never listed as central or as brokers; they are counted for safeguarding.

    Example:

      avellino network describe --edges calls.csv --top 5
    """
    from dataclasses import asdict

    from avellino.network.structure import brokerage, centralities, component_summary, leiden_communities

    graph = _load(edges, fmt)
    protection = _protection(protected, graph)
    membership = leiden_communities(graph)
    cent = centralities(graph)
    by_betweenness, flagged = protection.screen(sorted(cent, key=lambda n: -cent[n]["betweenness"]))
    ranked = by_betweenness[:top]
    every_broker = brokerage(graph, list(membership), graph.vcount())
    shown_brokers = set(protection.screen(b.id for b in every_broker)[0])
    brokers_list = [b for b in every_broker if b.id in shown_brokers][:top]
    result = {
        "nodes": graph.vcount(),
        "edges": graph.ecount(),
        **component_summary(graph),
        "communities": len(set(membership)),
        "central": [{"id": n, **cent[n]} for n in ranked],
        "brokers": [asdict(b) for b in brokers_list],
        "protected": [{"id": n, "reason": protection.reason(n)} for n in flagged],
    }
    if as_json:
        print(json.dumps(result))
        return
    out.print(
        f"{result['nodes']} vertices, {result['edges']} ties, {result['components']} components, "
        f"{result['communities']} Leiden communities"
    )
    table = Table(title="Most central (betweenness)")
    for col in ("id", "degree", "betweenness", "pagerank"):
        table.add_column(col)
    for n in ranked:
        table.add_row(n, str(int(cent[n]["degree"])), f"{cent[n]['betweenness']:.3f}", f"{cent[n]['pagerank']:.3f}")
    out.print(table)
    brokers = Table(title="Brokers between communities")
    for col in ("id", "community", "communities reached", "participation"):
        brokers.add_column(col)
    for b in brokers_list:
        brokers.add_row(b.id, b.group, str(b.groups_reached), f"{b.participation:.2f}")
    out.print(brokers)
    if flagged:
        out.print(f"[yellow]{len(flagged)} protected person(s) are never listed here (flag for safeguarding).[/]")


@app.command()
def export(
    edges: Path = typer.Option(..., "--edges", help=EDGES_HELP, exists=True, dir_okay=False),
    to: Path = typer.Option(..., "--to", help="Output file: .graphml or .gexf (Gephi, i2-style tools)."),
    fmt: str = typer.Option("auto", "--format", help=FORMAT_HELP),
) -> None:
    """Write the network as GraphML or GEXF, with Leiden community per vertex.

    Example:

      avellino network export --edges calls.csv --to calls.gexf
    """
    from avellino.network.structure import leiden_communities

    _check_writable(to, GRAPH_SUFFIXES)
    graph = _load(edges, fmt)
    graph.vs["community"] = leiden_communities(graph)
    _write_graph(graph, to)
    err.print(f"Wrote {to} ({graph.vcount()} vertices, {graph.ecount()} ties)")


# -- commands on the workspace store -------------------------------------------------------------------------

GRAPH_SUFFIXES = (".graphml", ".gexf")
WORKSPACE_HELP = "Workspace folder (default: $AVELLINO_WORKSPACE or ./workspace)."


def _open_network(workspace: Path | None, read_only: bool = True) -> tuple[Store, StoreGraph]:
    """The store and its network. Only ``build`` writes (its node and tie tables); the rest open read-only."""
    from avellino.errors import AvellinoError
    from avellino.network.build import build_graph
    from avellino.store import open_store

    store = open_store(workspace, read_only=read_only)
    with err.status("Building the network from the store..."):
        sg = build_graph(store)
    if not (sg.nodes["kind"] == "party").any():
        store.close()
        raise AvellinoError(
            f"The workspace {workspace or 'workspace'} holds no persons or organisations yet: "
            "ingest partner files first (avellino ingest --manifest ...)."
        )
    return store, sg


@app.command()
def build(
    workspace: Path | None = typer.Option(None, "--workspace", "-w", help=WORKSPACE_HELP),
    to: Path | None = typer.Option(None, "--to", help="Also write the network as .graphml or .gexf."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Build the network from the store and summarise it (optionally write GraphML or GEXF).

    Nodes: people and organisations (resolved ids), shared or unknown phones, accounts, vehicles. Ties: calls,
    payments, purchases, legs, crossings, adverts, typed, dated and weighted.

    Keeps the node and tie tables in the store (network_nodes, network_edges) for other tools; like the graph
    files, network_nodes never shows a protected person with an offender category.

    Examples:

      avellino network build --workspace ops/channel

      avellino network build --workspace ops/channel --to channel.gexf --json
    """
    import pyarrow as pa

    from avellino.network.structure import component_summary, leiden_communities

    if to is not None:
        _check_writable(to, GRAPH_SUFFIXES)
    store, sg = _open_network(workspace, read_only=False)
    with store:
        store.write_table("network_nodes", pa.Table.from_pandas(sg.presented_nodes(), preserve_index=False))
        store.write_table("network_edges", pa.Table.from_pandas(sg.edges.astype({"first": str, "last": str})))
    graph = sg.analysis_graph()
    summary = {
        "nodes": {str(k): int(v) for k, v in sg.nodes["kind"].value_counts().items()},
        "ties": {str(k): int(v) for k, v in sg.edges.groupby("kind")["events"].sum().items()},
        "analysis_graph": {"nodes": graph.vcount(), "edges": graph.ecount(), **component_summary(graph)},
        "communities": len(set(leiden_communities(graph))) if graph.vcount() else 0,
        "protected": int(sg.nodes["protected"].sum()),
    }
    if to is not None:
        _write_graph(sg.graph(), to)
        err.print(f"Wrote {to}")
    if as_json:
        print(json.dumps(summary))
        return
    out.print(f"Nodes: {summary['nodes']}\nTies (events): {summary['ties']}")
    a = summary["analysis_graph"]
    out.print(
        f"Analysis graph: {a['nodes']} vertices, {a['edges']} ties, {a['components']} components "  # type: ignore[index]
        f"(largest {a['sizes'][0] if a['sizes'] else 0}), {summary['communities']} communities; "  # type: ignore[index]
        f"{summary['protected']} protected persons"
    )


@app.command()
def roles(
    workspace: Path | None = typer.Option(None, "--workspace", "-w", help=WORKSPACE_HELP),
    top: int = typer.Option(30, "--top", help="How many people to list (strongest evidence first)."),
    truth: Path | None = typer.Option(
        None, "--truth", help="Truth folder of a sample operation: score the inference per role.", file_okay=False
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Infer who is an organiser, recruiter, broker, driver, boat pilot, financier or supplier, with evidence.

    A transparent score per role from evidence in the store (crossings piloted or organised, equipment sold,
    adverts, legs operated, payments, contacts with migrants) and the network (centrality, brokerage across
    nationality groups). People recorded as victims without direct evidence get 'none'. Protected people
    (victims, witnesses, informants, migrant boat pilots) are never listed with an offender role; they are
    counted, and listed under 'safeguarding' with --json.

    Examples:

      avellino network roles --workspace ops/channel --top 20

      avellino network roles --workspace demo-out/workspace --truth demo-out/sample-op/truth --json
    """
    from avellino.network.roles import infer_roles

    store, sg = _open_network(workspace)
    with store:
        inference = infer_roles(sg)
        scored = None
        if truth is not None:
            from avellino.network.evaluate import canonical_map, read_truth, score_roles, truth_labels

            scored = score_roles(inference.role, truth_labels(read_truth(truth), canonical_map(store)))
    labels = sg.nodes.set_index("id")["label"]
    strength = inference.scores.max(axis=1)
    with_role = [n for n in strength.sort_values(ascending=False).index if inference.role[n] != "none"]
    shown, flagged = sg.protection.screen(with_role)
    rows = [
        {"id": n, "label": str(labels[n]), "role": str(inference.role[n]), "score": float(strength[n]),
         "evidence": str(inference.evidence[n])}
        for n in shown[:top]
    ]  # fmt: skip
    safeguarding = [
        {"id": n, "label": str(labels[n]), "reason": sg.protection.reason(n), "evidence": str(inference.evidence[n])}
        for n in flagged[:top]
    ]
    counts = {str(k): int(v) for k, v in inference.role[shown].value_counts().items()}
    if as_json:
        print(
            json.dumps(
                {
                    "counts": counts,
                    "people": rows,
                    "safeguarding": safeguarding,
                    "safeguarding_total": len(flagged),
                    **({"evaluation": scored} if scored else {}),
                }
            )
        )
        return
    table = Table(title=f"Inferred roles ({', '.join(f'{k}: {v}' for k, v in counts.items())})")
    for col in ("name", "id", "role", "score", "evidence"):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r["label"]), str(r["id"]), str(r["role"]), f"{r['score']:.2f}", str(r["evidence"]))
    out.print(table)
    if flagged:
        out.print(
            f"[yellow]{len(flagged)} protected person(s) have evidence of a role but are not listed as offenders: "
            "flag for safeguarding[/] (--json lists them under 'safeguarding')."
        )
    if scored:
        out.print(json.dumps(scored, indent=1))


@app.command()
def targets(
    workspace: Path | None = typer.Option(None, "--workspace", "-w", help=WORKSPACE_HELP),
    k: int = typer.Option(10, "--k", min=1, help="How many people, phones or accounts to stop."),
    effort: float = typer.Option(
        10.0,
        "--effort",
        min=0.0,
        help="Seconds the key-player search may spend, baselines included. Reading the store, building the "
        "network and inferring roles come first and are not counted (their times are printed).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """The k people, phones or accounts whose removal fragments the network most, with the evidence for each.

    Victims, witnesses, informants and possible migrant boat pilots are never targeted; they are listed
    separately for safeguarding. lcc_drop is how many people the largest group loses when that one is
    stopped alone; the set together is scored on the largest connected group left.

    Examples:

      avellino network targets --workspace ops/channel --k 10

      avellino network targets --workspace ops/channel --k 5 --effort 30 --json
    """
    import time

    from avellino.network.roles import infer_roles
    from avellino.network.targets import key_players

    begun = time.monotonic()
    store, sg = _open_network(workspace)
    with store:
        built = time.monotonic()
        with err.status("Inferring roles..."):
            graph = sg.analysis_graph()
            inference = infer_roles(sg, graph)
        inferred = time.monotonic()
        with err.status(f"Searching key players (budget {effort:g} s)..."):
            report = key_players(store, sg, inference, k=k, effort_seconds=effort, graph=graph)
    err.print(
        f"Network built in {built - begun:.1f} s and roles inferred in {inferred - built:.1f} s (before the "
        f"search, not in --effort); key-player search {report.search_seconds:.1f} s (budget {effort:g} s)."
    )
    for note in report.notes:
        err.print(f"[yellow]Budget:[/] {note}")
    if as_json:
        print(json.dumps(report.as_json()))
        return
    table = Table(
        title=f"Key players: largest group {report.lcc0} -> {report.lcc_after} after stopping {report.k} "
        f"(baselines: {', '.join(f'{n} {v:.3f}' for n, v in report.baselines.items())})"
    )
    for col in ("#", "name", "id", "kind", "role", "lcc drop", "evidence"):
        table.add_column(col)
    for t in report.targets:
        table.add_row(str(t.rank), t.label, t.id, t.kind, t.role, str(t.lcc_drop), t.evidence)
    out.print(table)
    out.print(f"[yellow]{len(report.protected)} protected persons in the network are never targeted.[/]")


@app.command()
def routes(
    workspace: Path | None = typer.Option(None, "--workspace", "-w", help=WORKSPACE_HELP),
    html: Path | None = typer.Option(
        None, "--html", help="Write the Sankey and table as one self-contained HTML file."
    ),
    top: int = typer.Option(40, "--top", help="How many route stages to list."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Routes from legs, crossings and trips: origin -> transit -> departure -> arrival, with operators.

    Per stage (from, to): means of transport, number of legs, people moved, first and last date, and who
    operates it (names and entity ids). Victims, witnesses, informants and migrant boat pilots are never
    listed as operators: the 'protected' column counts them, for safeguarding.

    Examples:

      avellino network routes --workspace ops/channel

      avellino network routes --workspace ops/channel --html routes.html
    """
    from avellino.network.build import read_statements
    from avellino.network.routes import routes_of, routes_page

    if html is not None:
        _check_writable(html, (".html", ".htm"), "--html")
    store, sg = _open_network(workspace)
    with store:
        table = routes_of(sg, read_statements(store))
    if html is not None:
        html.write_text(routes_page(table, top), encoding="utf-8")
        err.print(f"Wrote {html} (one self-contained file)")
    if as_json:
        print(json.dumps(table.head(top).to_dict(orient="records"), default=str))
        return
    t = Table(title=f"Route stages ({len(table)}; people moved, operators by name and id)")
    shown = ["from", "to", "stage", "count", "people", "operators", "operator_ids", "protected"]
    for col in shown:
        t.add_column(col)
    for row in table.head(top)[shown].itertuples(index=False):
        t.add_row(*[str(v).replace(";", ", ") for v in row])
    out.print(t)
    if int(table["protected"].sum()):
        out.print(
            "[yellow]'protected' counts victims, witnesses, informants and migrant boat pilots among a stage's "
            "operators: never listed as operators, flag for safeguarding.[/]"
        )
