"""Top-level commands: init, stats, sample, demo (ingest and export live in avellino.ingest.cli)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from avellino.errors import ConfigError

out = Console()
err = Console(stderr=True)

WorkspaceOpt = typer.Option(
    None, "--workspace", "-w", help="Workspace folder (default: $AVELLINO_WORKSPACE or ./workspace)."
)


def init(
    workspace: Path = WorkspaceOpt,
    upgrade: bool = typer.Option(
        False, "--upgrade", help="PostgreSQL: apply the schema migrations of this Avellino to an older workspace."
    ),
    grant_analyst: list[str] = typer.Option(
        None, "--grant-analyst", metavar="ROLE", help="PostgreSQL: let this existing role read the workspace."
    ),
    grant_writer: list[str] = typer.Option(
        None,
        "--grant-writer",
        metavar="ROLE",
        help="PostgreSQL: let this existing role also import, resolve and build (rows only, never the tables).",
    ),
) -> None:
    """Create a workspace: a folder holding one DuckDB file, or (given a postgresql:// URL) the tables of a
    PostgreSQL schema, set up by numbered migrations (docs/postgres.md). Run it again after upgrading Avellino:
    a DuckDB workspace is upgraded by any write; a PostgreSQL one with --upgrade, by its administrator.

    Examples:

      avellino init --workspace ops/channel-2025

      avellino init --workspace postgresql://admin@db.internal/avellino --upgrade --grant-analyst ana
    """
    from avellino.settings import store_url, url_of_workspace, workspace_path
    from avellino.store import open_store

    url = url_of_workspace(workspace) or store_url()
    if url is None:
        if grant_analyst or grant_writer:
            raise ConfigError("--grant-analyst and --grant-writer are for a PostgreSQL workspace (a postgresql:// URL)")
        path = workspace_path(workspace)
        with open_store(path, create=True):
            pass
        err.print(f"Workspace ready at {path}")
        return
    from avellino.store.postgres_schema import init_workspace, redact

    before, after = init_workspace(url, upgrade, grant_analyst or [], grant_writer or [])
    done = "created" if before == 0 else "already current" if before == after else f"upgraded from {before}"
    err.print(f"PostgreSQL workspace ready at {redact(url)}: schema version {after} ({done})")
    for role in grant_analyst or []:
        err.print(f"  {role} may read it")
    for role in grant_writer or []:
        err.print(f"  {role} may read and write it")


def stats(
    workspace: Path = WorkspaceOpt,
    by: list[str] = typer.Option(
        None,
        "--by",
        help="Statement columns to group by (default: originator, schema, handling_code, subject_category).",
    ),
) -> None:
    """Count entities and statements by partner, schema, handling code and data-subject category.

    Example:  avellino stats --by originator --by tlp
    """
    from avellino.store import open_store

    with open_store(workspace, read_only=True) as store:
        for column in by or ["originator", "schema", "handling_code", "subject_category"]:
            try:
                rows = store.aggregate([column]).to_pylist()
            except ValueError as exc:
                raise ConfigError(str(exc)) from exc
            table = Table(title=f"by {column}")
            for name in (column, "entities", "statements"):
                table.add_column(name, justify="left" if name == column else "right")
            for r in rows:
                table.add_row(str(r[column]), f"{r['entities']:,}", f"{r['statements']:,}")
            out.print(table)


def sample(
    out_dir: Path = typer.Option(Path("sample-op"), "--out", "-o", help="Folder to write the operation into."),
    scale: int = typer.Option(2000, "--scale", help="Approximate number of partner records (1,000 to 10,000,000)."),
    seed: int = typer.Option(7, "--seed", help="Random seed: the same seed and scale give the same files."),
) -> None:
    """Generate a synthetic multi-agency smuggling operation with ground truth.

    Writes partner exports (UK CSV, French CSV, German XLSX, Italian JSON, Europol FtM JSONL), the mapping files
    to ingest them, a truth folder and manifest.json.

    Example:  avellino sample --out sample-op --scale 20000 && avellino ingest --manifest sample-op/manifest.json
    """
    from rich.progress import Progress

    from avellino.sample import generate

    if scale < 500:
        raise ConfigError("--scale must be at least 500 records")
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("generating", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total)

        manifest = generate(out_dir, scale=scale, seed=seed, progress=progress)
    err.print(f"Sample operation written to {out_dir} ({manifest.total_records:,} records)")


def demo(
    out_dir: Path = typer.Option(Path("demo-out"), "--out", "-o", help="Folder for the briefing and the workspace."),
    scale: int = typer.Option(2000, "--scale", help="Size of the synthetic operation."),
    seed: int = typer.Option(7, "--seed"),
) -> None:
    """Run the whole pipeline on a synthetic operation and write OUT/briefing.html.

    Steps: generate the sample operation, ingest every partner file, then each analysis area (resolution,
    network, flows) adds its section to the briefing.

    Example:  avellino demo --out demo-out && open demo-out/briefing.html
    """
    import shutil

    from avellino.errors import InputRejected
    from avellino.ingest.run import ingest_files
    from avellino.report.briefing import build_briefing
    from avellino.report.sections import DemoContext
    from avellino.sample import generate
    from avellino.settings import shared_data_dir
    from avellino.store import open_store

    sample_dir = out_dir / "sample-op"
    workspace = out_dir / "workspace"
    if workspace.exists():
        shutil.rmtree(workspace)
    with err.status("generating the sample operation"):
        manifest = generate(sample_dir, scale=scale, seed=seed)
    with open_store(workspace, create=True) as store:
        with err.status(f"ingesting {len(manifest.files)} partner files"):
            for path, res in ingest_files(store, [(f.path, f.mapping) for f in manifest.files], workers=2):
                if isinstance(res, InputRejected):
                    raise res
                err.print(f"  imported {path.name}: {res.rows:,} rows, {res.added:,} statements")
        ctx = DemoContext(store=store, out_dir=out_dir, truth_dir=manifest.truth_dir, shared_data=shared_data_dir())
        with err.status("analysing") as status:
            page = build_briefing(ctx, log=status.update)
    target = out_dir / "briefing.html"
    target.write_text(page, encoding="utf-8")
    err.print(f"Briefing: {target}")
