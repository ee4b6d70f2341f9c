"""``avellino workspace``: housekeeping of a workspace itself (not of its facts): ``migrate-ids``."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from avellino.commands import WorkspaceOpt, err, out

workspace_app = typer.Typer(help="Workspace housekeeping: rewrite an older workspace in place.", no_args_is_help=True)


@workspace_app.command("migrate-ids")
def migrate_ids(
    purpose: str = typer.Option(
        "namespace entity ids", "--purpose", help="Recorded in the audit log with what was rewritten."
    ),
    workspace: Path = WorkspaceOpt,
) -> None:
    """Rewrite, in place and as one transaction, the entity ids of a workspace ingested before ids were
    namespaced per originator (uk-nca-p1 -> uk-nca--p1; see docs/workspaces.md): every statement's entity,
    references, the canonical table and the derived tables keyed by id (resolution, network, hit/no-hit). An old
    id that several originators wrote becomes one entity per originator. Running it again changes nothing. Needed
    before `share send` on such a workspace. Audited.

    Example:  avellino workspace migrate-ids -w ops/channel
    """
    from avellino.share.audit import Touched, record
    from avellino.store import open_store
    from avellino.store.id_migration import migrate

    started = time.monotonic()

    def progress(line: str) -> None:
        err.print(f"[dim]{time.monotonic() - started:6.1f} s[/]  {line}")

    with open_store(workspace) as store:
        done = migrate(store, progress)
        if not done.changed:
            out.print("every entity id is already in its originator's namespace: nothing to do")
            return
        record(store, purpose=purpose, action="workspace migrate-ids", touched=Touched(counts=done.as_counts()))
    out.print(
        f"[green]rewrote {done.ids:,} entity ids[/] ({done.split:,} split by originator, {done.joined:,} joined an "
        f"existing id), {done.statements:,} statements moved, {done.references:,} references, "
        f"{done.duplicates:,} duplicates stored once, in {time.monotonic() - started:.1f} s"
    )
    if done.split:
        out.print("ids written by several originators were split: run `avellino resolve run` to score the new parts")
