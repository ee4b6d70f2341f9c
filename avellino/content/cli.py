"""``avellino content``: posts from platforms, their classification, selectors and campaigns (docs/content.md)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help=(
        "Online adverts: ingest platform posts, classify them (smuggling offer, fake job lure, document forgery, "
        "benign), extract selectors, cluster campaigns. See docs/content.md."
    ),
    no_args_is_help=True,
)
