"""Top-level commands: init, stats, sample, demo, brief (ingest and export live in avellino.ingest.cli)."""

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

    Steps (avellino/report/pipeline.py): generate the sample operation, ingest every partner file, resolve,
    then analyse the network and the flows and render the briefing. The demo always works in its own DuckDB
    workspace, OUT/workspace (AVELLINO_STORE_URL is ignored: its people are invented), and only writes into an
    empty folder or its own earlier output; it refuses any other folder and deletes nothing it did not make.

    Example:  avellino demo --out demo-out && open demo-out/briefing.html
    """
    from avellino import demo_folder
    from avellino.report.briefing import briefing_html
    from avellino.report.pipeline import run_pipeline
    from avellino.sample import generate
    from avellino.settings import shared_data_dir
    from avellino.store.duckdb_store import DuckDBStore

    if scale < 500:
        raise ConfigError("--scale must be at least 500 records")
    sample_dir, workspace = demo_folder.prepare(out_dir)
    with err.status("generating the sample operation"):
        manifest = generate(sample_dir, scale=scale, seed=seed)
    with DuckDBStore(workspace, create=True) as store, err.status("ingesting") as status:

        def log(message: str) -> None:
            if message.startswith("imported "):
                err.print(f"  {message}")
            else:
                status.update(message)

        files = [(f.path, f.mapping) for f in manifest.files]
        findings = run_pipeline(store, files, manifest.truth_dir, shared_data_dir(), log)
        page = briefing_html(store, findings)
    target = out_dir / demo_folder.BRIEFING
    target.write_text(page, encoding="utf-8")
    err.print(f"Briefing: {target}")
    _demo_accounts(workspace)


#: the demo's workbench accounts (its people are invented; the password is made per run)
DEMO_USERS = {"demo-analyst": "analyst", "demo-supervisor": "supervisor", "demo-dpo": "dpo"}


def _demo_accounts(workspace: Path) -> None:
    """Workbench accounts on the demo's own workspace, one per role, sharing a password made for this run and
    kept in WORKSPACE/workbench-login.txt (readable by its owner only); prints how to open the workbench."""
    import secrets

    from avellino.web.users import Users

    password = secrets.token_urlsafe(12)
    users = Users(workspace / "node")
    for name, role in DEMO_USERS.items():
        users.add(name, role, password, replace=True)
    login = workspace / "workbench-login.txt"
    login.write_text("".join(f"{name} ({role}): {password}\n" for name, role in DEMO_USERS.items()))
    login.chmod(0o600)
    err.print(
        f"Workbench: avellino serve -w {workspace} --port 8443   then open http://127.0.0.1:8443/\n"
        f"  log in as demo-analyst (or demo-supervisor, demo-dpo) with password {password}  (kept in {login})"
    )


def brief(
    workspace: Path = WorkspaceOpt,
    output: Path = typer.Option(Path("briefing.html"), "--out", "-o", help="HTML file to write."),
    truth: Path | None = typer.Option(
        None, "--truth", help="Truth folder of a sample operation: scores resolution and roles against it."
    ),
) -> None:
    """Write the briefing of a workspace: one self-contained HTML file, marked with the strictest TLP and
    handling code of what it shows.

    Reads the workspace only (it may be in use by other readers) and writes nothing to it: the resolution
    section shows the last `avellino resolve run`, the network and flows are analysed as they stand. A section
    with nothing to show says so.

    Example:  avellino brief -w demo-out/workspace -o briefing.html
    """
    import os
    import tempfile

    from avellino.report.briefing import briefing_html
    from avellino.report.pipeline import analyse
    from avellino.settings import shared_data_dir
    from avellino.store import open_store

    if truth is not None and not (truth / "persons.csv").is_file():
        raise ConfigError(
            f"No truth file at {truth / 'persons.csv'} (--truth takes the truth folder `avellino sample` writes)."
        )
    with open_store(workspace, read_only=True) as store, err.status("analysing") as status:
        page = briefing_html(store, analyse(store, truth, shared_data_dir(), status.update))
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    err.print(f"Briefing: {output}")
