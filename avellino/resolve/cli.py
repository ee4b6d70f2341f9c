"""``avellino resolve``: cross-agency entity resolution."""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(
    help="Find the records that describe the same person, company, phone or vessel across partners.",
    no_args_is_help=True,
)


@app.command()
def evaluate(
    input: Path = typer.Option(..., "--input", help="A .csv or .parquet file of records with a truth column."),
    id_column: str | None = typer.Option(
        None, "--id-column", help="Column with a unique record id (default: the row number, from 0)."
    ),
    truth_column: str = typer.Option(..., "--truth-column", help="Column saying which real entity a row is."),
    columns: str = typer.Option(
        ...,
        "--columns",
        help="ROLE=COLUMN pairs, comma-separated. Roles: given_name, middle_name, surname, full_name, dob, "
        "nationality, sex, place_of_birth, address, city, postcode, country, phone, passport, id_number, iban, "
        "imo, mmsi, plate, email. Only names are required.",
    ),
    source_column: str | None = typer.Option(
        None, "--source-column", help="Column naming the file/partner: link across sources only."
    ),
    truth_regex: str | None = typer.Option(
        None, "--truth-regex", help="Regex with one group that extracts the entity from the truth column."
    ),
    threshold: float | None = typer.Option(
        None,
        "--threshold",
        help="Match probability threshold (default: the model's decision point, 0.5; with names alone, "
        "the threshold that maximises the model's own expected F1).",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Score Avellino's matching and a plain Splink baseline on a file whose true matches are known.

    Metrics are over every true pair, so pairs that blocking never compared count as misses: pairwise
    (precision, recall, F1 of the scored pairs, before chaining) and cluster-level (cluster_precision,
    cluster_recall, cluster_f1: every pair of records put in one cluster, as `resolve run` clusters them).

    Examples:

      avellino resolve evaluate --input people.csv --id-column id --truth-column person \\
          --columns given_name=first,surname=last,dob=birth_date --json

      avellino resolve evaluate --input febrl4.csv --id-column rec_id --truth-column rec_id \\
          --truth-regex 'rec-(\\d+)-' --source-column file \\
          --columns given_name=given_name,surname=surname,dob=date_of_birth,postcode=postcode --json
    """
    from rich.console import Console

    from avellino.resolve.evaluate import evaluate as run_evaluate
    from avellino.resolve.evaluate import read_table
    from avellino.resolve.features import parse_roles

    roles = parse_roles(columns)
    df = read_table(input)
    if id_column is None:
        id_column = "_row"
        df = df.assign(_row=[str(i) for i in range(len(df))])
    err = Console(stderr=True)
    with err.status("Training and scoring both models..."):
        result = run_evaluate(df, id_column, truth_column, roles, source_column, truth_regex, threshold)
    if as_json:
        typer.echo(json.dumps(result))
        return
    from rich.table import Table

    # pairwise (scored pairs), then cluster-level (every pair inside a cluster)
    table = Table("model", "P", "R", "F1", "cluster P", "cluster R", "cluster F1", "pairs compared", "s", "peak MB")
    for name, s in result.items():
        table.add_row(
            name,
            f"{s['precision']:.4f}",
            f"{s['recall']:.4f}",
            f"{s['f1']:.4f}",
            f"{s['cluster_precision']:.4f}",
            f"{s['cluster_recall']:.4f}",
            f"{s['cluster_f1']:.4f}",
            str(s.get("pairs_compared", "")),
            str(s.get("wall_s", "")),
            str(s.get("peak_mb", "")),
        )
    Console().print(table)


WorkspaceOpt = typer.Option(
    None, "--workspace", "-w", help="Workspace folder (default: $AVELLINO_WORKSPACE or ./workspace)."
)


@app.command()
def run(
    workspace: Path | None = WorkspaceOpt,
    threshold: float = typer.Option(0.5, "--threshold", help="Match probability to join two records."),
    full: bool = typer.Option(False, "--full", help="Rescore every pair instead of only pairs with new records."),
    engine: str | None = typer.Option(
        None,
        "--engine",
        help="Where pairs are scored: duckdb (default, this process) or spark (pyspark and Java; "
        "$AVELLINO_SPARK_MASTER, default local[2]). Default: $AVELLINO_ENGINE, else duckdb. See docs/scale.md.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Resolve the people, organisations, vehicles, vessels, bank and user accounts in the workspace into
    clusters (stable ids, judgements honoured).

    People: a trained model, incremental by default: after a new partner file is ingested, only pairs that
    involve its records are scored; clusters it does not touch keep their ids. Everything else: shared
    normalised identifiers (plate, IMO, MMSI, IBAN, registration number...) join, a conflicting one keeps
    apart, organisation and vessel names join only when near-identical (summary under "things").

    Examples:

      avellino resolve run --workspace ops/channel-2025

      avellino resolve run --workspace ops/channel-2025 --engine spark   (the same clusters, scored on Spark)
    """
    from rich.console import Console

    from avellino import settings
    from avellino.resolve import store_io
    from avellino.store import open_store

    chosen = settings.engine(engine)
    if chosen == "spark":
        from avellino.engine import spark as spark_engine

        spark_engine.require()
    with open_store(workspace) as store, Console(stderr=True).status("Resolving..."):
        summary = store_io.run(store, threshold=threshold, full=full, engine=chosen)
    typer.echo(json.dumps(summary) if as_json else "\n".join(f"{k}: {v}" for k, v in summary.items()))


@app.command()
def clusters(
    limit: int = typer.Option(20, "--limit", "-n", help="How many people to list."),
    pairs: bool = typer.Option(
        False, "--pairs", help="Print only the pair of record ids per person, 'A B' (for explain and judge)."
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per person."),
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """List the people known to the most partners, with their record ids (never names) and a safeguarding flag.

    Each row gives the pair of records to look at with `resolve explain A B` and to confirm or reject with
    `resolve judge A B`. Run `avellino resolve run` first.

    Examples:

      avellino resolve clusters -w ws --limit 5

      read -r A B < <(avellino resolve clusters -w ws --limit 1 --pairs); avellino resolve explain "$A" "$B" -w ws
    """
    from rich.console import Console
    from rich.table import Table

    from avellino.errors import ConfigError
    from avellino.resolve.listing import merged_examples
    from avellino.resolve.store_io import CLUSTERS
    from avellino.store import open_store

    with open_store(workspace, read_only=True) as store:
        table = store.read_table(CLUSTERS)
        if table is None:
            raise ConfigError("no clusters yet in this workspace: run `avellino resolve run` first")
        rows = merged_examples(table.to_pandas(), store.protected_entity_ids(), limit)
    if pairs:
        for row in rows:
            typer.echo(row[3])
        return
    keys = ("cluster_id", "partners", "records", "pair", "flag")
    if as_json:
        for row in rows:
            typer.echo(json.dumps(dict(zip(keys, row, strict=True))))
        return
    view = Table()
    for header in ("person (cluster id)", "partners", "records", "record A", "record B", "flag"):
        view.add_column(header, overflow="fold")  # ids are copied into other commands: never cut them short
    for cluster_id, partners, records, pair, flag in rows:
        view.add_row(str(cluster_id), str(partners), str(records), *str(pair).split(), str(flag))
    Console().print(view)


@app.command()
def judge(
    left: str = typer.Argument(..., help="Entity id (or cluster id with --cluster)."),
    right: str | None = typer.Argument(None, help="The other entity id (omit with --cluster)."),
    verdict: str = typer.Option(..., "--verdict", help="same | different | unsure"),
    user: str = typer.Option(..., "--user", help="Who decides (kept in the log)."),
    reason: str = typer.Option("", "--reason", help="Why (kept in the log)."),
    cluster: bool = typer.Option(False, "--cluster", help="LEFT is a cluster id: judge all its members."),
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """Record an analyst's decision; every later `resolve run` honours it.

    Examples:

      avellino resolve judge uk-nca-1a2b fr-ocriest-9c8d --verdict different --user j.smith --reason "twins"

      avellino resolve judge cl-4f1e2d3c4b5a6978 --cluster --verdict same --user j.smith --reason "passport scans"
    """
    from avellino.errors import ConfigError
    from avellino.resolve import clusters as cl
    from avellino.resolve import store_io
    from avellino.store import open_store

    mapped = {"same": "positive", "different": "negative", "unsure": "unsure"}.get(verdict)
    if mapped is None:
        raise ConfigError(f"--verdict must be same, different or unsure (not {verdict!r})")
    with open_store(workspace) as store:
        if cluster:
            members = store_io.cluster_members(store, left)
            if len(members) < 2:
                raise ConfigError(f"cluster {left!r} has fewer than two members (run `avellino resolve run` first?)")
            if mapped == "negative":
                raise ConfigError("a whole cluster cannot be 'different'; judge the member pairs to split it")
            rows = cl.cluster_judgement_rows(members, mapped, user, reason)
        else:
            if right is None:
                raise ConfigError("give two entity ids, or one cluster id with --cluster")
            if left == right:
                raise ConfigError("a judgement needs two different records")
            unknown = store_io.unknown_entities(store, [left, right])
            if unknown:
                raise ConfigError(
                    f"no record with id {', '.join(map(repr, unknown))} in this workspace; nothing was recorded "
                    "(ids are entity ids such as uk-nca-0a1b2c3d..., see `avellino resolve explain`; "
                    "a cluster id needs --cluster)"
                )
            rows = [cl.judgement_row(left, right, mapped, user, reason)]
        store_io.add_judgements(store, rows)
    typer.echo(f"{len(rows)} judgement(s) recorded: " + ", ".join(str(r["judgement_id"]) for r in rows))


@app.command()
def retract(
    judgement_id: str = typer.Argument(..., help="The id printed by `resolve judge` (see `resolve explain`)."),
    user: str = typer.Option(..., "--user"),
    reason: str = typer.Option("", "--reason"),
    workspace: Path | None = WorkspaceOpt,
) -> None:
    """Undo a judgement. The log keeps both entries; the next `resolve run` follows the model again.

    Example:  avellino resolve retract 3f2a9c0d1e2b3a4c --user j.smith --reason "wrong record"
    """
    from avellino.errors import ConfigError
    from avellino.resolve import clusters as cl
    from avellino.resolve import store_io
    from avellino.store import open_store

    with open_store(workspace) as store:
        log = store_io.judgements(store)
        hit = log[log["judgement_id"] == judgement_id]
        if hit.empty:
            raise ConfigError(f"no judgement with id {judgement_id!r}")
        store_io.add_judgements(store, [cl.retraction_row(hit.iloc[0].to_dict(), user, reason)])
    typer.echo(f"judgement {judgement_id} retracted")


@app.command()
def explain(
    left: str = typer.Argument(..., help="Entity id."),
    right: str = typer.Argument(..., help="The other entity id."),
    workspace: Path | None = WorkspaceOpt,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    purpose: str = typer.Option(
        "analysis", "--purpose", envvar="AVELLINO_PURPOSE", help="Why you read it (recorded in the audit log)."
    ),
) -> None:
    """Show why two records were (not) joined: each comparison's level and match weight, shared
    identifiers, and the analysts' judgements.

    Example:  avellino resolve explain uk-nca-1a2b fr-ocriest-9c8d
    """
    from avellino.resolve import store_io
    from avellino.share import audit
    from avellino.store import open_store

    with open_store(workspace, read_only=True) as store:
        result = store_io.explain(store, left, right)
        # before anything is shown: no entry, no output (share/audit.py)
        audit.record(store, purpose=purpose, action="resolve explain", touched=[left, right])
    if as_json:
        typer.echo(json.dumps(result, default=str))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table("comparison", "level", "left", "right", "match weight", title=f"{left} vs {right}")
    for step in result["steps"]:
        table.add_row(
            step["comparison"],
            str(step["level"]),
            str(step.get("left", "")),
            str(step.get("right", "")),
            f"{step['match_weight']:+.2f}",
        )
    console.print(table)
    if result.get("compared_by_rule"):
        console.print(f"{result['kind']}: rule {result['rule']} ({result['evidence']})")
    elif "compared_by_rule" in result:
        console.print(f"{result['kind']}: no identifier or name in common, never compared")
    elif not result["compared_by_model"]:
        console.print("The model never compared these records (no blocking key in common).")
    else:
        console.print(f"total match weight {result['match_weight']:+.2f}, probability {result['match_probability']}")
    console.print(f"identifiers: {result['identifiers'] or 'none in common'}")
    console.print(f"judgement: {result['judgement'] or 'none'}; same cluster: {result['same_cluster']}")
