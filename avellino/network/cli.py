"""``avellino network``: the two tools, and the workspace commands.

The app mounts the file-mode commands of the key-player solver (``keyplayer/cli.py``: ``disrupt``,
``simulate``, ``describe``, ``export``, on a network file) and holds the commands on the workspace store
(``build``, ``roles``, ``targets``, ``routes``). Each workspace command reads the store's statements once:
the network, its canonical map and who is protected all come from that read (``build.build_graph``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from avellino.commands import WorkspaceOpt, err, out
from avellino.network.keyplayer.cli import app as file_app

if TYPE_CHECKING:
    import pandas as pd

    from avellino.network.build import StoreGraph
    from avellino.store.base import Store

PANEL = "On the workspace store"
app = typer.Typer(
    help="Communities, roles, key players and disruption simulation: on a network file (the key-player solver, "
    "no workspace needed) or on the workspace's resolved network.",
    no_args_is_help=True,
)
app.add_typer(file_app)


def _network(store: Store, workspace: Path | None, statements: pd.DataFrame | None = None) -> StoreGraph:
    """The store's network, from one read of its statements (``statements`` when the command has read them)."""
    from avellino.errors import AvellinoError
    from avellino.network.build import build_graph

    with err.status("Building the network from the store..."):
        sg = build_graph(store, statements)
    if not (sg.nodes["kind"] == "party").any():
        raise AvellinoError(
            f"The workspace {workspace or 'workspace'} holds no persons or organisations yet: "
            "ingest partner files first (avellino ingest --manifest ...)."
        )
    return sg


@app.command(rich_help_panel=PANEL)
def build(
    workspace: Path | None = WorkspaceOpt,
    to: Path | None = typer.Option(None, "--to", help="Also write the network as .graphml or .gexf."),
    engine: str | None = typer.Option(
        None,
        "--engine",
        help="Where components and PageRank are computed: duckdb (default: igraph in this process) or spark "
        "(Spark SQL; $AVELLINO_SPARK_MASTER). Default: $AVELLINO_ENGINE, else duckdb. See docs/scale.md.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Build the network from the store and summarise it (optionally write GraphML or GEXF).

    Nodes: people and organisations (resolved ids), shared or unknown phones, accounts, vehicles. Ties: calls,
    payments, purchases, legs, crossings, adverts, typed, dated and weighted.

    Keeps the node and tie tables in the store (network_nodes, network_edges) for other tools, and each analysis
    vertex's component, degree and PageRank (network_metrics); like the graph files, network_nodes never shows a
    protected person with an offender category.

    Examples:

      avellino network build --workspace ops/channel

      avellino network build --workspace ops/channel --to channel.gexf --json

      avellino network build --workspace ops/channel --engine spark
    """
    import pyarrow as pa

    from avellino import settings
    from avellino.network.export import GRAPH_SUFFIXES, check_output_path, write_graph
    from avellino.network.metrics import METRICS_TABLE, component_summary, metrics
    from avellino.network.structure import leiden_communities
    from avellino.store import open_store

    chosen = settings.engine(engine)
    if chosen == "spark":
        from avellino.engine import spark as spark_engine

        spark_engine.require()
    if to is not None:
        check_output_path(to, GRAPH_SUFFIXES)
    with open_store(workspace) as store:  # the one writer: it keeps the node and tie tables
        sg = _network(store, workspace)
        store.write_table("network_nodes", pa.Table.from_pandas(sg.presented_nodes(), preserve_index=False))
        store.write_table("network_edges", pa.Table.from_pandas(sg.edges.astype({"first": str, "last": str})))
    graph = sg.analysis_graph()
    with err.status(f"Components and PageRank ({chosen})..."):  # the workspace is not held meanwhile
        per_vertex = metrics(graph, chosen)
    with open_store(workspace) as store:
        store.write_table(METRICS_TABLE, pa.Table.from_pandas(per_vertex, preserve_index=False))
    summary = {
        "nodes": {str(k): int(v) for k, v in sg.nodes["kind"].value_counts().items()},
        "ties": {str(k): int(v) for k, v in sg.edges.groupby("kind")["events"].sum().items()},
        "analysis_graph": {"nodes": graph.vcount(), "edges": graph.ecount(), **component_summary(per_vertex)},
        "communities": len(set(leiden_communities(graph))) if graph.vcount() else 0,
        "protected": int(sg.nodes["protected"].sum()),
    }
    if to is not None:
        write_graph(sg.graph(), to)
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


@app.command(rich_help_panel=PANEL)
def roles(
    workspace: Path | None = WorkspaceOpt,
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
    from avellino.store import open_store

    with open_store(workspace, read_only=True) as store:
        sg = _network(store, workspace)
    inference = infer_roles(sg)
    scored = None
    if truth is not None:
        from avellino.network.evaluate import read_truth, score_roles, truth_labels

        scored = score_roles(inference.role, truth_labels(read_truth(truth), sg.canonical))
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


@app.command(rich_help_panel=PANEL)
def targets(
    workspace: Path | None = WorkspaceOpt,
    k: int = typer.Option(10, "--k", min=1, help="How many people, phones or accounts to stop."),
    effort: float = typer.Option(
        10.0,
        "--effort",
        min=0.0,
        help="Seconds the key-player search may spend, baselines included. Reading the store, building the "
        "network and inferring roles come first and are not counted (their times are printed).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    purpose: str = typer.Option(
        "analysis", "--purpose", envvar="AVELLINO_PURPOSE", help="Why you read it (recorded in the audit log)."
    ),
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
    from avellino.share import audit
    from avellino.store import open_store

    begun = time.monotonic()
    with open_store(workspace, read_only=True) as store:
        sg = _network(store, workspace)
        built = time.monotonic()
        with err.status("Inferring roles..."):
            graph = sg.analysis_graph()
            inference = infer_roles(sg, graph)
        inferred = time.monotonic()
        with err.status(f"Searching key players (budget {effort:g} s)..."):
            report = key_players(store, sg, inference, k=k, effort_seconds=effort, graph=graph)
        # before anything is shown: no entry, no output (share/audit.py)
        touched = audit.Touched(counts={"protected_not_targeted": len(report.protected)})
        audit.record(
            store,
            purpose=purpose,
            action=f"network targets k={k}",
            touched=touched.update(t.id for t in report.targets),
        )
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


@app.command(rich_help_panel=PANEL)
def routes(
    workspace: Path | None = WorkspaceOpt,
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
    from avellino.network.export import check_output_path
    from avellino.network.routes import routes_of, routes_page
    from avellino.store import open_store

    if html is not None:
        check_output_path(html, (".html", ".htm"), "--html")
    with open_store(workspace, read_only=True) as store:
        statements = read_statements(store)
        sg = _network(store, workspace, statements)
    table = routes_of(sg, statements)
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
