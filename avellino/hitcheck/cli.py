"""``avellino hitcheck``: ask a partner whether it holds a person, without sending the person's details."""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(
    help="Hit/no-hit checks: ask a partner 'do you hold this person?' with keyed Bloom-filter encodings "
    "(see docs/hitcheck.md for what a query reveals).",
    no_args_is_help=True,
)

WorkspaceOpt = typer.Option(
    None, "--workspace", "-w", help="Workspace folder (default: $AVELLINO_WORKSPACE or ./workspace)."
)
NodeDirOpt = typer.Option(
    None, "--node-dir", help="The node's key folder (default: $AVELLINO_NODE_DIR or WORKSPACE/node)."
)
KeyFileOpt = typer.Option(
    None,
    "--key-file",
    help="A pair key agreed out of band (64 hex digits), for partners without node keys; needs --as.",
)
AsOpt = typer.Option(None, "--as", help="This agency's node name (with --key-file).")


def _node_dir(workspace: Path | None, node_dir: Path | None, key_file: Path | None) -> Path | None:
    if key_file is not None:
        return None
    from avellino.share.node import node_dir as default_dir

    return default_dir(workspace, node_dir)


@app.command()
def ask(
    to: str = typer.Option(..., "--to", help="The partner asked (a registered partner's node name)."),
    persons: Path | None = typer.Option(
        None,
        "--persons",
        help="CSV or JSON lines of persons: id, name (or given_name, surname), aliases, dob, passport, id_number.",
    ),
    entities: str | None = typer.Option(None, "--entities", help="Comma-separated Person entity ids of the workspace."),
    all_persons: bool = typer.Option(False, "--all", help="Every person of the workspace the policy lets go."),
    out: Path = typer.Option(..., "--out", "-o", help="The query file to write (give it to the partner)."),
    purpose: str = typer.Option(
        "hit/no-hit check",
        "--purpose",
        help="Why you ask ('safeguarding' lets the policy include victims and witnesses).",
    ),
    outbox: bool = typer.Option(
        False, "--outbox", help="Also leave it in this node's outbox, for the partner's `avellino share fetch`."
    ),
    workspace: Path | None = WorkspaceOpt,
    node_dir: Path | None = NodeDirOpt,
    key_file: Path | None = KeyFileOpt,
    name: str | None = AsOpt,
) -> None:
    """Write a query for one partner: keyed encodings of the persons, sealed under the pair's key and signed.

    The partner learns only what its key lets it test (docs/hitcheck.md); the persons the sharing policy may not
    send it are left out and counted.

    Example:  avellino hitcheck ask --to FR-OCRIEST --all -o to-fr.query -w ops/uk
    """
    from rich.console import Console

    from avellino.errors import ConfigError
    from avellino.hitcheck import run
    from avellino.hitcheck.exchange import write_json
    from avellino.hitcheck.persons import read_persons_file
    from avellino.store import open_store

    if sum(x is not None and x is not False for x in (persons, entities, all_persons or None)) != 1:
        raise ConfigError("Say whom to ask about: exactly one of --persons FILE, --entities IDS or --all")
    me = run.identity(to, _node_dir(workspace, node_dir, key_file), key_file, name)
    if outbox and me.node is None:
        raise ConfigError("--outbox needs node keys: a partner without them has no node server to fetch from")
    with open_store(workspace) as store:
        if persons is not None:
            obj, left_out = run.ask(store, me, to, purpose, persons=read_persons_file(persons))
        else:
            ids = [i.strip() for i in entities.split(",") if i.strip()] if entities else None
            obj, left_out = run.ask(store, me, to, purpose, entity_ids=ids)
    write_json(out, obj)
    console = Console(stderr=True)
    console.print(f"Query {obj['query_id']} for {to}: {obj['count']} person(s) -> {out}")
    if outbox and me.node is not None:  # checked above
        from avellino.hitcheck.mailbox import leave

        console.print(f"left for {to} in {leave(me.node.dir, to, out)}")
    if left_out:
        console.print(f"{left_out} person(s) left out by the sharing policy (purpose {purpose!r})")


@app.command()
def answer(
    query: Path = typer.Argument(..., help="The query file a partner sent."),
    out: Path = typer.Option(..., "--out", "-o", help="The answer file to write (give it back to the partner)."),
    as_json: bool = typer.Option(False, "--json", help="Also print one JSON line per queried person."),
    outbox: bool = typer.Option(
        False, "--outbox", help="Also leave it in this node's outbox, for the partner's `avellino share fetch`."
    ),
    workspace: Path | None = WorkspaceOpt,
    node_dir: Path | None = NodeDirOpt,
    key_file: Path | None = KeyFileOpt,
    name: str | None = AsOpt,
    partner: str | None = typer.Option(None, "--from", help="The asking partner (with --key-file)."),
) -> None:
    """Answer a partner's query: for each queried person only hit or no-hit, and on a hit an opaque reference to
    ask this agency for. No name, date or number leaves.

    Example:  avellino hitcheck answer to-fr.query -o to-uk.answer -w ops/fr --json
    """
    from rich.console import Console

    from avellino.errors import ConfigError
    from avellino.hitcheck import run
    from avellino.hitcheck.exchange import write_json
    from avellino.store import open_store

    sender = partner or _sender(query)
    if not sender:
        raise ConfigError(f"{query}: the query names no sender; give --from PARTNER")
    me = run.identity(sender, _node_dir(workspace, node_dir, key_file), key_file, name)
    if outbox and me.node is None:
        raise ConfigError("--outbox needs node keys: a partner without them has no node server to fetch from")
    sealed = run.open_query(query, me, sender)
    with open_store(workspace) as store:
        obj, results = run.answer(store, me, sealed, str(query))
    write_json(out, obj)
    if as_json:
        for r in results:
            typer.echo(json.dumps(r))
    hits = sum(1 for r in results if r["hit"])
    Console(stderr=True).print(f"{len(results)} queried, {hits} hit(s) -> {out}")
    if outbox and me.node is not None:  # checked above
        from avellino.hitcheck.mailbox import leave

        Console(stderr=True).print(f"left for {sender} in {leave(me.node.dir, sender, out)}")


@app.command()
def show(
    answer_file: Path = typer.Argument(..., help="An answer file a partner sent back."),
    workspace: Path | None = WorkspaceOpt,
    node_dir: Path | None = NodeDirOpt,
    key_file: Path | None = KeyFileOpt,
    name: str | None = AsOpt,
) -> None:
    """Read a partner's answer: one JSON line per person you asked about (query, hit, reference).

    Example:  avellino hitcheck show to-uk.answer -w ops/uk
    """
    from avellino.errors import ConfigError
    from avellino.hitcheck import run
    from avellino.hitcheck.exchange import open_sealed

    sender = _sender(answer_file)
    if not sender:
        raise ConfigError(f"{answer_file}: the answer names no sender")
    me = run.identity(sender, _node_dir(workspace, node_dir, key_file), key_file, name)
    sealed = open_sealed(answer_file, me.keys, "answer", me.partner_card(sender))
    for r in sealed.payload.get("results", []):
        typer.echo(json.dumps({"query": r.get("query"), "hit": r.get("hit"), "reference": r.get("reference"), **r}))


@app.command()
def inbox(
    kind: str | None = typer.Option(None, "--kind", help="Only 'query' or only 'answer' files."),
    as_json: bool = typer.Option(False, "--json", help="One JSON line per file (header fields and path)."),
    workspace: Path | None = WorkspaceOpt,
    node_dir: Path | None = NodeDirOpt,
) -> None:
    """List the queries and answers partners delivered to this node's server (`avellino share push FILE --to
    THIS-NODE`) or this node fetched from theirs (`avellino share fetch`), oldest first, with the path to give
    `hitcheck answer` or `hitcheck show`.

    Example:  avellino hitcheck inbox --kind query -w ops/fr
    """
    from rich.console import Console
    from rich.table import Table

    from avellino.errors import ConfigError
    from avellino.hitcheck.mailbox import KINDS, listing

    if kind is not None and kind not in KINDS:
        raise ConfigError(f"--kind {kind}: say 'query' or 'answer'")
    rows = listing(_node_dir(workspace, node_dir, None) or Path("node"), kind)
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row))
        return
    table = Table("kind", "from", "query id", "created", "purpose", "persons", "hits", "path")
    for r in rows:
        table.add_row(str(r.get("kind")), str(r.get("from", r.get("error", ""))), str(r.get("query_id", "")),
                      str(r.get("created", "")), str(r.get("purpose", "")), str(r.get("count", "")),
                      str(r.get("hits", "")), str(r["path"]))  # fmt: skip
    Console().print(table if rows else "Nothing delivered yet (partners: avellino share push FILE --to THIS-NODE).")


def _sender(path: Path) -> str | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return str(data["from"]) if isinstance(data, dict) and data.get("from") else None
