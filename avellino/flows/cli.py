"""``avellino flows``: monitor and forecast irregular migration flows."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Load flow statistics, forecast them with honest intervals, back-test, and raise early warnings.",
    no_args_is_help=True,
)
