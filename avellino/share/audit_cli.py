"""``avellino audit`` (show and verify the tamper-evident log) and ``avellino retention`` (facts past review)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

WORKSPACE_HELP = "Workspace folder (default: $AVELLINO_WORKSPACE or ./workspace)."
WorkspaceOpt = typer.Option(None, "--workspace", "-w", help=WORKSPACE_HELP)

audit_app = typer.Typer(
    help="The audit log: every read or export of facts that leaves the workspace, hash-chained so that any "
    "change to it shows.",
    no_args_is_help=True,
)
retention_app = typer.Typer(
    help="Facts past their retention review date: list them, and purge them with an audit entry.",
    no_args_is_help=True,
)


def _head(value: str | None) -> tuple[int, str] | None:
    from avellino.errors import ConfigError

    if value is None:
        return None
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise ConfigError(f"--head {value!r} is not SEQ:HASH as `avellino audit show` prints it")
    return int(seq), digest.lower()


@audit_app.command()
def verify(
    workspace: Path | None = WorkspaceOpt,
    head: str | None = typer.Option(
        None, "--head", help="SEQ:HASH written down earlier (from `audit show`): the log must still contain it."
    ),
) -> None:
    """Check every entry of the audit log: exit 0 when intact, else name the first bad entry and exit 4.

    Example:  avellino audit verify -w ws
    """
    from rich.console import Console

    from avellino.share import audit
    from avellino.store import open_store

    with open_store(workspace, read_only=True) as store:
        count = audit.verify(store, _head(head))
        seq, digest = audit.head(store)
    Console(stderr=True).print(f"audit log intact: {count:,} entries; head {seq}:{digest}")


@audit_app.command()
def show(
    workspace: Path | None = WorkspaceOpt,
    limit: int = typer.Option(20, "--limit", "-n", min=0, help="The last N entries (0: all)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line (entry and hash)."),
) -> None:
    """Show the last entries of the audit log (who, when, why, what) and its head.

    Example:  avellino audit show -w ws --limit 5
    """
    from rich.console import Console
    from rich.table import Table

    from avellino.share import audit
    from avellino.store import open_store

    with open_store(workspace, read_only=True) as store:
        entries = audit.entries(store)
        seq, digest = audit.head(store)
    shown = entries[-limit:] if limit else entries
    if as_json:
        for e in shown:
            typer.echo(json.dumps({**e.fields, "hash": e.hash}, ensure_ascii=False))
        return
    table = Table("seq", "time", "user", "action", "purpose", "touched", title=f"audit log ({len(entries):,} entries)")
    for e in shown:
        f = e.fields
        touched = f["touched"]
        what = f"{touched.get('count', '')}" + (f" {touched['counts']}" if touched.get("counts") else "")
        table.add_row(str(e.seq), f["time"], f["user"], f["action"], f["purpose"], what.strip())
    console = Console()
    console.print(table)
    console.print(f"head {seq}:{digest}  (write it down elsewhere; `audit verify --head` checks the log still has it)")


@retention_app.command()
def due(
    workspace: Path | None = WorkspaceOpt,
    on: str | None = typer.Option(None, "--on", help="The day to judge by, YYYY-MM-DD (default: today)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object (counts and every statement id)."),
) -> None:
    """List facts past their retention review date: counts by originator and category, and their ids.

    Example:  avellino retention due -w ws
    """
    from rich.console import Console
    from rich.table import Table

    from avellino.share import retention
    from avellino.store import open_store

    day = _date(on, "--on") if on else date.today()
    with open_store(workspace, read_only=True) as store:
        found = retention.due(store, day)
    groups = found.by_originator_and_category()
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "before": str(day),
                    "statements": found.statements.num_rows,
                    "groups": groups,
                    "entity_ids": found.entity_ids,
                    "statement_ids": found.statements.column("id").to_pylist(),
                },
                default=str,
            )
        )
        return
    console = Console()
    table = Table("originator", "category", "statements", "entities", "oldest review", title=f"past review on {day}")
    for g in groups:
        table.add_row(
            *(str(g[k]) for k in ("originator", "subject_category", "statements", "entities", "oldest_review"))
        )
    console.print(table)
    ids = found.entity_ids
    console.print(f"{found.statements.num_rows:,} statements of {len(ids):,} entities are past review")
    if ids:
        console.print(
            "entities: "
            + ", ".join(ids[:50])
            + (f" … and {len(ids) - 50:,} more (--json lists all)" if len(ids) > 50 else "")
        )


@retention_app.command()
def purge(
    before: str = typer.Option(..., "--before", help="Delete facts whose review date is before this day (YYYY-MM-DD)."),
    user: str = typer.Option(..., "--user", help="Who decided the purge (recorded in the audit log)."),
    reason: str = typer.Option(..., "--reason", help="Why (recorded in the audit log)."),
    workspace: Path | None = WorkspaceOpt,
    node_dir: Path | None = typer.Option(
        None,
        "--node-dir",
        help="This node's folder (default: $AVELLINO_NODE_DIR, else WORKSPACE/node): where the withdrawals of "
        "purged facts that were shared are left for the partners that received them.",
    ),
) -> None:
    """Delete the facts past review before a day, with an audit entry naming who, why and every statement.

    When this workspace is a node that shared some of them, a withdrawal signed by this node is left in the
    outbox of every partner that received them (send it with `avellino share push`, or partners fetch it).

    Example:  avellino retention purge --before 2026-01-01 --user j.smith --reason "annual review" -w ws
    """
    from rich.console import Console

    from avellino.errors import ConfigError
    from avellino.share import retention
    from avellino.share.node import load_node
    from avellino.share.node import node_dir as where
    from avellino.share.withdraw import withdraw_purged
    from avellino.store import open_store

    console = Console(stderr=True)
    day = _date(before, "--before")
    with open_store(workspace) as store:
        purged = retention.purge(store, day, user=user, reason=reason)
    console.print(f"purged {purged.deleted:,} statements past review before {day} (audit entry {purged.audit_seq})")
    try:
        folder: Path | None = where(workspace, node_dir)
    except ConfigError:
        folder = None  # a PostgreSQL workspace with no node folder named: it shares nothing through a node
    if folder is None or not (folder / "node.json").is_file():
        console.print("no node set up here: nothing was shared, so no withdrawal is needed")
        return
    written = withdraw_purged(load_node(folder), purged.targets, reason=f"retention review passed: {reason}")
    for partner, path in sorted(written.items()):
        console.print(f"withdrawal for {partner}: {path}")
    if not written:
        console.print("none of the purged facts had been shared: no withdrawal needed")


def _date(value: str, option: str) -> date:
    from avellino.errors import ConfigError

    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None
