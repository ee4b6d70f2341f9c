"""``avellino network``: network analysis and disruption."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Communities, roles, key players and disruption simulation on the resolved network.",
    no_args_is_help=True,
)
