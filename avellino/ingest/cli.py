"""``avellino ingest`` and ``avellino export``."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.status import Status

from avellino.errors import AvellinoError, ConfigError, InputRejected

err = Console(stderr=True, soft_wrap=True)

WorkspaceOpt = typer.Option(
    None, "--workspace", "-w", help="Workspace folder (default: $AVELLINO_WORKSPACE or ./workspace)."
)


def ingest(
    files: list[Path] = typer.Argument(None, help="Partner files to import (CSV, XLSX, JSON, JSONL, FtM JSONL)."),
    mapping: Path = typer.Option(None, "--mapping", "-m", help="Mapping YAML for the files (docs/mappings.md)."),
    manifest: Path = typer.Option(None, "--manifest", help="A sample operation's manifest.json: import all its files."),
    workspace: Path = WorkspaceOpt,
) -> None:
    """Import partner files. Each file is one atomic batch: if any row is bad, nothing from that file is
    imported and every bad row is listed with file, row, column and reason. Re-importing a file does nothing.

    Examples:

      avellino ingest partners/uk/persons.csv --mapping mappings/uk_persons.yml

      avellino ingest --manifest sample-op/manifest.json
    """
    from avellino.ingest.run import ingest_file
    from avellino.store import open_store

    jobs: list[tuple[Path, Path]] = []
    if manifest is not None:
        jobs.extend(_manifest_jobs(manifest))
    if files:
        if mapping is None:
            raise ConfigError("Give --mapping MAPPING.yml for the files (see docs/mappings.md)")
        jobs.extend((f, mapping) for f in files)
    if not jobs:
        raise ConfigError("Nothing to import: give FILES with --mapping, or --manifest")
    rejected = 0
    with open_store(workspace) as store:
        for path, map_path in jobs:
            with err.status(f"{path.name}: starting") as status:

                def show(message: str, name: str = path.name, status: Status = status) -> None:
                    status.update(f"{name}: {message}")

                try:
                    result = ingest_file(store, path, map_path, progress=show)
                except InputRejected as exc:
                    err.print(f"[red]rejected[/] {exc}", markup=True, highlight=False)
                    rejected += 1
                    continue
            if result.skipped:
                err.print(f"[yellow]unchanged[/] {path} was already imported (batch {result.batch_id[:8]})")
            else:
                note = f", {result.unnormalised} value(s) kept as written" if result.unnormalised else ""
                err.print(
                    f"[green]imported[/] {path}: {result.rows:,} rows -> {result.added:,} new statements "
                    f"(batch {result.batch_id[:8]}{note})"
                )
    if rejected:
        others = "; the other files were imported" if len(jobs) > rejected else ""
        raise InputRejectedSummary(f"{rejected} of {len(jobs)} file(s) rejected, nothing imported from them{others}")


class InputRejectedSummary(AvellinoError):
    exit_code = InputRejected.exit_code


def _manifest_jobs(manifest: Path) -> list[tuple[Path, Path]]:
    import json

    try:
        data = json.loads(manifest.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"Cannot read manifest {manifest}: {exc}") from exc
    base = manifest.parent
    return [(base / f["path"], base / f["mapping"]) for f in data.get("files", [])]


def export(
    out: Path = typer.Option(Path("-"), "--out", "-o", help="Output file, or - for standard output."),
    fmt: str = typer.Option("ftm", "--format", "-f", help="ftm (FtM JSON lines), stix (STIX 2.1 bundle) or graphml."),
    schema: list[str] = typer.Option(None, "--schema", "-s", help="Only these schemata (repeatable)."),
    markings: bool = typer.Option(True, help="Include each entity's markings (originator, handling, TLP)."),
    workspace: Path = WorkspaceOpt,
) -> None:
    """Export the workspace's entities, merged across partners by resolution.

    Examples:

      avellino export --format ftm -o entities.ftm.json

      avellino export --format stix -o bundle.json --schema Person
    """
    from avellino.ingest.export import export_entities
    from avellino.store import open_store

    with open_store(workspace) as store:
        if str(out) == "-":
            count = export_entities(store, sys.stdout, fmt, schema or None, markings)
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_name(out.name + ".partial")
            with tmp.open("w", encoding="utf-8") as fh:
                count = export_entities(store, fh, fmt, schema or None, markings)
            tmp.replace(out)
    err.print(f"exported {count:,} entities as {fmt}")
