"""``avellino ingest`` (``avellino export`` lives in ``avellino/share/export_cli.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.status import Status

from avellino.errors import AvellinoError, ConfigError, InputRejected

if TYPE_CHECKING:
    from avellino.ingest.run import IngestResult
    from avellino.store import Store

err = Console(stderr=True, soft_wrap=True)

WorkspaceOpt = typer.Option(
    None, "--workspace", "-w", help="Workspace folder (default: $AVELLINO_WORKSPACE or ./workspace)."
)


def ingest(
    files: list[Path] = typer.Argument(
        None, help="Partner files to import (CSV, XLSX, JSON, JSONL, FtM JSONL), or STIX, GraphML and GEXF exports."
    ),
    mapping: Path = typer.Option(None, "--mapping", "-m", help="Mapping YAML for the files (docs/mappings.md)."),
    manifest: Path = typer.Option(None, "--manifest", help="A sample operation's manifest.json: import all its files."),
    jobs_n: int = typer.Option(2, "--jobs", "-j", help="Files prepared side by side (2 suits 2 cores)."),
    workspace: Path = WorkspaceOpt,
) -> None:
    """Import partner files. Each file is one atomic batch: if any row is bad, nothing from that file is
    imported and every bad row is listed with file, row, column and reason. Re-importing a file does nothing.

    A STIX bundle (.stix.json, or a .json STIX bundle), GraphML or GEXF file written by `avellino export` needs no
    mapping: every statement it carries comes back with its own markings, and one without them is an error.

    Examples:

      avellino ingest partners/uk/persons.csv --mapping mappings/uk_persons.yml

      avellino ingest --manifest sample-op/manifest.json

      avellino ingest ops.stix.json ops.graphml -w copy
    """
    from avellino.ingest.run import ingest_files
    from avellino.store import open_store

    jobs: list[tuple[Path, Path | None]] = []
    if manifest is not None:
        jobs.extend(_manifest_jobs(manifest))
    if files:
        jobs.extend(_file_jobs(files, mapping))
    if not jobs:
        raise ConfigError("Nothing to import: give FILES with --mapping, or --manifest")
    runnable, bad_mappings = _check_mappings(jobs)
    tally = Tally(total=len(jobs), not_run=len(jobs) - len(runnable), config_error=bool(bad_mappings))
    if runnable:
        with open_store(workspace) as store:
            if len(runnable) == 1 or jobs_n <= 1:
                for path, map_path in runnable:
                    tally.add(_ingest_one(store, path, map_path))
            else:
                from rich.progress import Progress

                with Progress(console=err, transient=True) as bar:
                    task = bar.add_task(f"importing {len(runnable)} files ({jobs_n} at a time)", total=len(runnable))
                    for path, outcome in ingest_files(store, runnable, workers=jobs_n):
                        tally.add(_report(path, outcome))
                        bar.advance(task)
    tally.finish()


@dataclass
class Tally:
    """What became of each file of a run: the summary line and the exit code."""

    total: int
    not_run: int = 0  # files whose mapping is wrong
    config_error: bool = False
    imported: int = 0
    unchanged: int = 0
    rejected: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def finish(self) -> None:
        failed = self.rejected + self.not_run
        if self.total > 1:
            parts = [f"{self.imported} imported", f"{self.unchanged} unchanged", f"{self.rejected} rejected"]
            if self.not_run:
                parts.append(f"{self.not_run} not read (mapping has problems)")
            colour = "red" if failed else "green"
            err.print(f"[{colour}]{self.total} files:[/] {', '.join(parts)}", highlight=False)
        if not failed:
            return
        others = "; the other files are in the store" if failed < self.total else ""
        message = f"{failed} of {self.total} file(s) not imported{others}"
        raise (IngestConfigSummary if self.config_error else InputRejectedSummary)(message)


class InputRejectedSummary(AvellinoError):
    exit_code = InputRejected.exit_code


class IngestConfigSummary(AvellinoError):
    exit_code = ConfigError.exit_code


def _file_jobs(files: list[Path], mapping: Path | None) -> list[tuple[Path, Path | None]]:
    """Each file with its mapping; None for a STIX, GraphML or GEXF export (its statements carry their own
    markings, ``exchange.py``). A .json file is looked into only when no mapping is given."""
    from avellino.ingest.exchange import FORMATS, detect

    jobs: list[tuple[Path, Path | None]] = []
    for path in files:
        fmt = detect(path, sniff_json=mapping is None)
        if fmt is None and mapping is None:
            raise ConfigError(
                f"Give --mapping MAPPING.yml for {path} (see docs/mappings.md): only STIX bundles, GraphML and "
                "GEXF files written by `avellino export` import without one"
            )
        if fmt is not None and mapping is not None:
            err.print(f"{escape(str(path))}: {FORMATS[fmt]}, read with its statements' own markings (not the mapping)")
        jobs.append((path, None if fmt is not None else mapping))
    return jobs


def _check_mappings(jobs: list[tuple[Path, Path | None]]) -> tuple[list[tuple[Path, Path | None]], list[Path]]:
    """The jobs whose mapping is sound, and the mappings that are not (each printed once with its problems).
    A run whose every mapping is wrong raises the first one's ConfigError, as a one-file run does."""
    from avellino.ingest.mapping import load_mapping

    problems: dict[Path, ConfigError] = {}
    for map_path in dict.fromkeys(m for _f, m in jobs if m is not None):
        try:
            load_mapping(map_path)
        except ConfigError as exc:
            problems[map_path] = exc
    runnable = [(f, m) for f, m in jobs if m not in problems]
    if problems and not runnable:
        raise next(iter(problems.values()))
    for map_path, problem in problems.items():
        count = sum(m == map_path for _f, m in jobs)
        err.print(f"[red]not read[/] {count} file(s) whose mapping is wrong: {escape(str(problem))}", highlight=False)
    return runnable, list(problems)


def _ingest_one(store: Store, path: Path, map_path: Path | None) -> str:
    from avellino.ingest.run import ingest_file

    with err.status(f"{path.name}: starting") as status:

        def show(message: str, name: str = path.name, status: Status = status) -> None:
            status.update(f"{name}: {message}")

        try:
            result: IngestResult | InputRejected = ingest_file(store, path, map_path, progress=show)
        except InputRejected as exc:
            result = exc
    return _report(path, result)


def _report(path: Path, outcome: IngestResult | InputRejected) -> str:
    """Print one file's outcome; return its kind: imported, unchanged or rejected."""
    if isinstance(outcome, InputRejected):
        err.print(f"[red]rejected[/] {escape(str(outcome))}", highlight=False)
        return "rejected"
    if outcome.skipped:
        err.print(f"[yellow]unchanged[/] {path} was already imported (batch {outcome.batch_id[:8]})")
        return "unchanged"
    note = f", {outcome.unnormalised} value(s) kept as written" if outcome.unnormalised else ""
    err.print(
        f"[green]imported[/] {path}: {outcome.rows:,} rows -> {outcome.added:,} new statements "
        f"(batch {outcome.batch_id[:8]}{note})"
    )
    return "imported"


def _manifest_jobs(manifest: Path) -> list[tuple[Path, Path]]:
    import json

    try:
        data = json.loads(manifest.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"Cannot read manifest {manifest}: {exc}") from exc
    base = manifest.parent
    return [(base / f["path"], base / f["mapping"]) for f in data.get("files", [])]
