"""``avellino user`` (the workbench's accounts) and ``avellino serve`` (the workbench and this node's server)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from avellino.commands import WorkspaceOpt, err, out
from avellino.errors import ConfigError
from avellino.share.cli import NodeDirOpt

user_app = typer.Typer(help="Accounts of the web workbench: who may log in, with which role.", no_args_is_help=True)


def _users(workspace: Path | None, node_dir: Path | None):  # type: ignore[no-untyped-def]
    from avellino.share.node import node_dir as where
    from avellino.web.users import Users

    return Users(where(workspace, node_dir))


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return str(typer.prompt("Password (12 characters or more)", hide_input=True, confirmation_prompt=True))


@user_app.command("add")
def user_add(
    name: str = typer.Argument(..., help="Log-in name, e.g. j.smith"),
    role: str = typer.Option(..., "--role", help="analyst | supervisor | dpo | admin"),
    agency: str = typer.Option(
        "",
        "--agency",
        help="A registered partner's node name: the account is that partner's liaison officer and "
        "sees only what the sharing policy lets the partner have.",
    ),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
    replace: bool = typer.Option(False, "--replace", help="Reset the password and role of an existing account."),
    workspace: Path = WorkspaceOpt,
    node_dir: Path = NodeDirOpt,
) -> None:
    """Create a workbench account (Argon2id password hash, kept beside the node's keys).

    Roles: analyst (search, read, judge), supervisor (also confirms targets), dpo (audit log and retention queue
    only), admin (accounts only).

    Example:  avellino user add j.smith --role analyst -w uk-ws
    """
    from avellino.web.users import ROLE_HELP, check_role

    users = _users(workspace, node_dir)
    if agency:
        from avellino.share.node import load_node

        node = load_node(users.folder)
        if agency not in node.partners():
            raise ConfigError(f"{agency} is not a registered partner of {node.name} (see: avellino partner list)")
        if check_role(role).value != "analyst":
            raise ConfigError("a partner's liaison officer can only be an analyst")
    user = users.add(name, role, _password(password_stdin), agency=agency, replace=replace)
    err.print(f"[green]user {user.name}[/] ({user.role.value}: {ROLE_HELP[user.role]}) saved in {users.path}")
    if replace:
        _end_sessions(users.folder, name)


def _end_sessions(folder: Path, name: str) -> None:
    """Log the user out of a running server (its sessions are in the accounts folder)."""
    from avellino.web.sessions import FILE, Sessions

    if (folder / FILE).is_file():
        sessions = Sessions(folder)
        ended = sessions.end_user(name)
        sessions.close()
        if ended:
            err.print(f"{ended} open session(s) of {name} ended")


@user_app.command("list")
def user_list(workspace: Path = WorkspaceOpt, node_dir: Path = NodeDirOpt) -> None:
    """The accounts: name, role, agency, created, disabled.

    Example:  avellino user list -w uk-ws
    """
    table = Table("user", "role", "agency", "created", "disabled")
    for u in _users(workspace, node_dir).all().values():
        table.add_row(u.name, u.role.value, u.agency or "(this agency)", u.created, "yes" if u.disabled else "")
    out.print(table)


@user_app.command("disable")
def user_disable(name: str = typer.Argument(...), workspace: Path = WorkspaceOpt, node_dir: Path = NodeDirOpt) -> None:
    """Stop an account from logging in; its open sessions end at once.

    Example:  avellino user disable j.smith -w uk-ws
    """
    users = _users(workspace, node_dir)
    users.disable(name)
    err.print(f"user {name} disabled")
    _end_sessions(users.folder, name)


def serve(
    port: int = typer.Option(8443, "--port", help="TCP port."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (put TLS in front of it)."),
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        max=64,
        help="Server processes. One answers a few hundred reads a second; give one per core when many analysts "
        "use the server at once (each holds its own copy of the workspace's read model in memory).",
    ),
    workspace: Path = WorkspaceOpt,
    node_dir: Path = NodeDirOpt,
) -> None:
    """Run the analysts' web workbench (http://HOST:PORT/, API under /api/, OpenAPI at /openapi.json) and, when
    this workspace has a node (avellino node init), the node server partners send bundles to (/v1/, requests
    signed with their node keys). Every read is written to the audit log. Starting the server logs out every
    session of an earlier run.

    Example:  avellino serve -w uk-ws --port 8443     (then open http://127.0.0.1:8443/ and log in)
    Example:  avellino serve -w uk-ws --workers 4     (a busy server on a four-core machine)
    """
    import uvicorn

    from avellino.share.node import load_node
    from avellino.share.node import node_dir as where
    from avellino.web.sessions import Sessions

    folder = where(workspace, node_dir)
    has_node = (folder / "node.json").is_file()
    node = load_node(folder) if has_node else None
    sessions = Sessions(folder)
    sessions.clear()
    sessions.close()
    if not (folder / "users.json").is_file():
        err.print("[yellow]no workbench account yet:[/] create one with  avellino user add NAME --role analyst")
    what = f"workbench and node {node.name}" if node is not None else "workbench (no node keys: sharing is off)"
    err.print(f"{what} on http://{host}:{port}/" + (f" ({workers} processes)" if workers > 1 else ""))
    # a browser keeps its connection open between clicks: keep-alive 30 s
    options: dict[str, Any] = {"host": host, "port": port, "log_level": "warning", "timeout_keep_alive": 30}
    if workers == 1:
        from avellino.web.app import create_workbench

        uvicorn.run(create_workbench(workspace, folder, node, warm=True), **options)
        return
    import os

    from avellino.store import open_store
    from avellino.web.service import AuditWriter
    from avellino.web.workers import AuditService, WorkerConfig

    service = AuditService(AuditWriter(lambda: open_store(workspace, read_only=True)))
    config = WorkerConfig(str(workspace) if workspace else "", str(folder), has_node)
    os.environ.update({**config.environment(), **service.environment()})  # the workers' environment (spawned)
    try:
        uvicorn.run("avellino.web.workers:worker_app", factory=True, workers=workers, **options)
    finally:
        service.close()
