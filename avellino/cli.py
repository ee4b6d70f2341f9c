"""The ``avellino`` command line. One sub-command group per area; heavy imports happen inside commands."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape

from avellino import commands
from avellino.content.cli import app as content_app
from avellino.errors import AvellinoError
from avellino.flows.cli import app as flows_app
from avellino.hitcheck.cli import app as hitcheck_app
from avellino.ingest import cli as ingest_cli
from avellino.network.cli import app as network_app
from avellino.resolve.cli import app as resolve_app
from avellino.share import cli as share_cli
from avellino.share import export_cli
from avellino.share.audit_cli import audit_app, retention_app
from avellino.share.jit_cli import jit_app
from avellino.store.cli import workspace_app
from avellino.trace.cli import money_app, supply_app
from avellino.web import cli as web_cli

err = Console(stderr=True)

app = typer.Typer(
    name="avellino",
    help=(
        "Avellino: find, share and disrupt migrant-smuggling networks.\n\n"
        "Start here:  avellino demo --out demo-out   (builds a synthetic multi-agency operation, ingests it "
        "and writes demo-out/briefing.html).\n\n"
        "Typical flow: init -> ingest partner files -> resolve -> network -> flows -> export."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    # Sub-apps and their commands inherit this: -h is help everywhere, never a command's own option.
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command()(commands.init)
app.command()(commands.sample)
app.command()(ingest_cli.ingest)
app.command()(export_cli.export)
app.command()(commands.stats)
app.command()(commands.demo)
app.command()(commands.brief)
app.add_typer(resolve_app, name="resolve")
app.add_typer(network_app, name="network")
app.add_typer(flows_app, name="flows")
app.add_typer(audit_app, name="audit")
app.add_typer(retention_app, name="retention")
app.add_typer(share_cli.node_app, name="node")
app.add_typer(share_cli.partner_app, name="partner")
app.add_typer(share_cli.share_app, name="share")
app.command()(web_cli.serve)
app.add_typer(web_cli.user_app, name="user")
app.add_typer(hitcheck_app, name="hitcheck")
app.add_typer(jit_app, name="jit")
app.add_typer(workspace_app, name="workspace")
app.add_typer(content_app, name="content")
app.add_typer(money_app, name="money")
app.add_typer(supply_app, name="supply")


def main() -> None:
    """Entry point: run the app and turn Avellino errors into a clear message and a non-zero exit."""
    try:
        app()
    except AvellinoError as exc:
        err.print(f"[bold red]Error:[/] {escape(str(exc))}")
        sys.exit(exc.exit_code)


if __name__ == "__main__":  # pragma: no cover
    main()
