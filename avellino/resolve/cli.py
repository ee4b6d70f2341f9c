"""``avellino resolve``: cross-agency entity resolution."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Find the records that describe the same person, company, phone or vessel across partners.",
    no_args_is_help=True,
)
