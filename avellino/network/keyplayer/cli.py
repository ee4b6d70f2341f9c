"""``avellino network`` on a network file: key players, removals, structure, and GraphML / GEXF out.

The file-mode half of ``avellino network`` (``network/cli.py`` mounts it beside the workspace commands): every
command reads one network file through ``io.py`` and needs no workspace.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    import igraph as ig

    from avellino.network.keyplayer.disrupt import DisruptionPlan
    from avellino.network.protect import Protection

PANEL = "On a network file (no workspace)"
app = typer.Typer()
err = Console(stderr=True)
out = Console()

EdgesOpt = typer.Option(
    ...,
    "--edges",
    exists=True,
    dir_okay=False,
    help="Network file: an edge list 'u v [weight]' (whitespace or CSV), a CSV adjacency matrix, or the GraphML / "
    "GEXF that 'network build --to' and 'network export' write.",
)
FormatOpt = typer.Option("auto", "--format", help="edgelist, matrix, graphml, gexf, or auto (decide from the file).")
ProtectedOpt = typer.Option(
    None,
    "--protected",
    help="Ids never to target (victims, witnesses, informants, migrant boat pilots): a comma-separated list, "
    "or a file with one id per line. They stay in the network but are never removed or listed. People a "
    "GraphML/GEXF file marks protected (as 'network build --to' writes them) are protected as well.",
)


def _load(edges: Path, fmt: str) -> ig.Graph:
    from avellino.errors import ConfigError
    from avellino.network.keyplayer.io import FORMATS, read_network

    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}.")
    return read_network(edges, fmt)  # type: ignore[arg-type]


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


@app.command(rich_help_panel=PANEL)
def disrupt(
    edges: Path = EdgesOpt,
    fmt: str = FormatOpt,
    k: int = typer.Option(10, "--k", min=1, help="Plan for 1..K removals."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (for scripts) instead of a table."),
    protected: str | None = ProtectedOpt,
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
    from avellino.network.keyplayer.disrupt import plan_disruption

    graph = _load(edges, fmt)
    with err.status(f"Searching key players in {graph.vcount()} vertices, {graph.ecount()} ties..."):
        plan = plan_disruption(graph, k, _protection(protected, graph), effort_seconds=effort)
    for note in plan.notes:
        err.print(f"[yellow]Budget:[/] {note}")
    if as_json:
        print(json.dumps(plan.as_json()))
        return
    _print_plan(plan, edges.name)


@app.command(rich_help_panel=PANEL)
def simulate(
    edges: Path = EdgesOpt,
    fmt: str = FormatOpt,
    remove: str = typer.Option(..., "--remove", help="Comma-separated ids to remove."),
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


@app.command(rich_help_panel=PANEL)
def describe(
    edges: Path = EdgesOpt,
    fmt: str = FormatOpt,
    top: int = typer.Option(10, "--top", help="How many central vertices and brokers to list."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
    protected: str | None = ProtectedOpt,
) -> None:
    """Components, Leiden communities, the most central vertices and the brokers between communities.

    Protected people are never listed as central or as brokers; they are counted for safeguarding.

    Example:

      avellino network describe --edges calls.csv --top 5
    """
    graph = _load(edges, fmt)
    result = _description(graph, _protection(protected, graph), top)
    if as_json:
        print(json.dumps(result))
        return
    _print_description(result)


@app.command(rich_help_panel=PANEL)
def export(
    edges: Path = EdgesOpt,
    fmt: str = FormatOpt,
    to: Path = typer.Option(..., "--to", help="Output file: .graphml or .gexf (Gephi, i2-style tools)."),
) -> None:
    """Write the network as GraphML or GEXF, with Leiden community per vertex.

    Example:

      avellino network export --edges calls.csv --to calls.gexf
    """
    from avellino.network.export import GRAPH_SUFFIXES, check_output_path, write_graph
    from avellino.network.structure import leiden_communities

    check_output_path(to, GRAPH_SUFFIXES)
    graph = _load(edges, fmt)
    graph.vs["community"] = leiden_communities(graph)
    write_graph(graph, to)
    err.print(f"Wrote {to} ({graph.vcount()} vertices, {graph.ecount()} ties)")


def _print_plan(plan: DisruptionPlan, file_name: str) -> None:
    """Per k, every method's lcc_fraction and Avellino's targets; then the protected people, never targeted."""
    table = Table(title=f"{file_name}: {plan.nodes} vertices, {plan.edges} ties, largest component {plan.lcc0}")
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


def _description(graph: ig.Graph, protection: Protection, top: int) -> dict[str, Any]:
    """What ``describe`` prints: sizes, communities, the most central and the brokers (both screened by the
    protection), and the protected people left out of those lists."""
    from dataclasses import asdict

    from avellino.network.structure import brokerage, centralities, component_summary, leiden_communities

    membership = leiden_communities(graph)
    cent = centralities(graph)
    by_betweenness, flagged = protection.screen(sorted(cent, key=lambda n: -cent[n]["betweenness"]))
    every_broker = brokerage(graph, list(membership), graph.vcount())
    shown_brokers = set(protection.screen(b.id for b in every_broker)[0])
    return {
        "nodes": graph.vcount(),
        "edges": graph.ecount(),
        **component_summary(graph),
        "communities": len(set(membership)),
        "central": [{"id": n, **cent[n]} for n in by_betweenness[:top]],
        "brokers": [asdict(b) for b in every_broker if b.id in shown_brokers][:top],
        "protected": [{"id": n, "reason": protection.reason(n)} for n in flagged],
    }


def _print_description(result: dict[str, Any]) -> None:
    out.print(
        f"{result['nodes']} vertices, {result['edges']} ties, {result['components']} components, "
        f"{result['communities']} Leiden communities"
    )
    table = Table(title="Most central (betweenness)")
    for col in ("id", "degree", "betweenness", "pagerank"):
        table.add_column(col)
    for c in result["central"]:
        table.add_row(c["id"], str(int(c["degree"])), f"{c['betweenness']:.3f}", f"{c['pagerank']:.3f}")
    out.print(table)
    brokers = Table(title="Brokers between communities")
    for col in ("id", "community", "communities reached", "participation"):
        brokers.add_column(col)
    for b in result["brokers"]:
        brokers.add_row(b["id"], str(b["group"]), str(b["groups_reached"]), f"{b['participation']:.2f}")
    out.print(brokers)
    if result["protected"]:
        out.print(
            f"[yellow]{len(result['protected'])} protected person(s) are never listed here (flag for safeguarding).[/]"
        )
