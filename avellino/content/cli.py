"""``avellino content``: posts from platforms, their classification, selectors and campaigns (docs/content.md)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import typer
from rich.console import Console

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

app = typer.Typer(
    help=(
        "Online adverts: ingest platform posts, classify them (smuggling offer, fake job lure, document forgery, "
        "benign), extract selectors, cluster campaigns. See docs/content.md."
    ),
    no_args_is_help=True,
)

WorkspaceOpt = typer.Option(
    None, "--workspace", "-w", help="Workspace folder (default: $AVELLINO_WORKSPACE or ./workspace)."
)


@app.command("ingest")
def ingest_posts(
    files: list[Path] = typer.Argument(
        ...,
        help="Post files: JSON lines or CSV with text, url and optionally platform, account, time, language, caption.",
    ),
    originator: str = typer.Option(..., "--originator", "-o", help="The agency that collected the posts."),
    handling_code: str = typer.Option("H1", "--handling-code", help="H0-H3 for every statement."),
    tlp: str = typer.Option("AMBER", "--tlp", help="CLEAR, GREEN, AMBER, AMBER+STRICT or RED."),
    evaluation: str = typer.Option("C3", "--evaluation", help="Source reliability A-X and credibility 1-4."),
    subject_category: str = typer.Option(
        "potential_offender", "--subject-category", help="Who the posts' authors are to the agency."
    ),
    save_mapping: Path = typer.Option(
        None, "--save-mapping", help="Also write the mapping used (to import with `avellino ingest` later)."
    ),
    workspace: Path = WorkspaceOpt,
) -> None:
    """Import collected posts as Advert entities (with the accounts that posted them), marked like any partner
    file: each file is one atomic batch, every bad row is listed with its row and column, and nothing is written
    from a file with a bad row. Re-importing a file does nothing. Times are ISO 8601 (2026-03-01T10:22:00).

    Example:

      avellino content ingest posts.jsonl --originator UK-NCA --tlp AMBER -w ws
    """
    from avellino.content.posts import PostMarkings, write_mapping
    from avellino.ingest.cli import Tally, _report
    from avellino.ingest.run import ingest_file
    from avellino.store import open_store

    marks = PostMarkings(originator, handling_code, tlp, evaluation, subject_category)
    tally = Tally(total=len(files))
    with tempfile.TemporaryDirectory(prefix="avellino-posts-") as tmp, open_store(workspace) as store:
        for i, path in enumerate(files):
            folder = Path(tmp) / str(i)
            folder.mkdir()
            mapping = write_mapping(path, marks, folder)
            if save_mapping is not None:
                save_mapping.write_text(mapping.read_text(encoding="utf-8"), encoding="utf-8")
            from avellino.errors import InputRejected

            try:
                tally.add(_report(path, ingest_file(store, path, mapping)))
            except InputRejected as exc:
                tally.add(_report(path, exc))
    tally.finish()


@app.command("mapping")
def show_mapping() -> None:
    """Print the mapping post files are imported with (docs/mappings.md), to copy and adapt.

    Example:

      avellino content mapping > posts.yml
    """
    from avellino.content.posts import template

    typer.echo(template(), nl=False)
