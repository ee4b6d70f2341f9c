"""``avellino export``: the workspace as FtM JSON lines, STIX 2.1, GraphML or GEXF, for this agency or a partner."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
import tempfile
from pathlib import Path

import typer

from avellino.commands import WorkspaceOpt, err
from avellino.errors import ConfigError
from avellino.share.export import FORMATS

FORMAT_HELP = "; ".join(f"{name}: {what}" for name, what in FORMATS.items())
FOR_HELP = (
    "A registered partner (`avellino partner add`) the file is for: only what the sharing policy lets go to it "
    "(repeatable: what every one may have); graph files then never hold protected people. Without it the file "
    "is an internal copy: every fact, markings kept."
)


def export(
    out: Path = typer.Option(Path("-"), "--out", "-o", help="Output file, or - for standard output."),
    fmt: str = typer.Option("ftm", "--format", "-f", help=FORMAT_HELP),
    schema: list[str] = typer.Option(None, "--schema", "-s", help="Only these schemata (repeatable)."),
    to: list[str] = typer.Option(None, "--for", help=FOR_HELP),
    purpose: str = typer.Option(..., "--purpose", help="Why the facts leave the workspace (audit log; H3 notes)."),
    workspace: Path = WorkspaceOpt,
    node_dir: Path = typer.Option(None, "--node-dir", help="This node's folder (default: WORKSPACE/node)."),
) -> None:
    """Export the workspace. FtM JSON lines hold every statement as stored, one line per record and marking set,
    markings included, and import back unchanged; STIX, GraphML and GEXF hold the resolved entities and the
    links between them, each marked with the strictest markings of its statements, and carry every statement
    with its own markings too, so `avellino ingest FILE` reads them back without a mapping (docs/exports.md). An FtM
    file written to disk gets FtM's model beside it (FILE.ftm-model) so stock FtM tools read every line:
    FTM_MODEL_PATH=FILE.ftm-model ftm validate -i FILE.

    Examples:

      avellino export --format ftm -o entities.ftm.json --purpose "internal copy"

      avellino export --format stix -o to-fr.json --for FR-OCRIEST --purpose "investigation JIT-CHANNEL"
    """
    from avellino.share import audit
    from avellino.share.cli import print_withheld
    from avellino.share.export import check_format, check_schemata
    from avellino.share.export import export as run_export
    from avellino.store import open_store

    check_format(fmt)
    names = check_schemata(schema)
    request, jit_batches = _request(workspace, node_dir, to, purpose) if to else (None, {})
    target = None if str(out) == "-" else out
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
    # written aside, then released (renamed, or copied to standard output) only after the audit entry
    partial = target.with_name(target.name + ".partial") if target else Path(tempfile.mkstemp(suffix=".export")[1])
    try:
        with open_store(workspace, read_only=True) as store:
            with partial.open("w", encoding="utf-8") as fh:
                outcome = run_export(store, fh, fmt, names, request, model_beside=target, jit_batches=jit_batches)
            touched = audit.Touched(count=outcome.written.entities, counts=dict(outcome.withheld))
            recipients = ", ".join(to) if to else "internal copy"
            audit.record(store, purpose=purpose, action=f"export {fmt} ({recipients})", touched=touched)
        if target is None:
            with partial.open("r", encoding="utf-8") as fh:
                shutil.copyfileobj(fh, sys.stdout)
            partial.unlink()
        else:
            partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
    w = outcome.written
    level = "records" if fmt == "ftm" else "entities"
    lines = f" ({w.items:,} lines)" if fmt == "ftm" else ""
    err.print(f"exported {w.entities:,} {level} and {w.links:,} links as {fmt}{lines}")
    if outcome.model is not None:
        err.print(f"FtM model for stock tools: FTM_MODEL_PATH={outcome.model} ftm validate -i {target}")
    if request is not None:
        print_withheld(dict(outcome.withheld))


def _request(
    workspace: Path | None, node_dir: Path | None, names: list[str], purpose: str
) -> tuple[object, dict[str, str]]:
    """The policy's request for these partners, and the batches this node received inside a JIT."""
    from avellino.share.jit import batch_jits
    from avellino.share.node import load_node
    from avellino.share.node import node_dir as where
    from avellino.share.send import request_for

    folder = where(workspace, node_dir)
    if not (folder / "node.json").exists():
        raise ConfigError(
            f"--for needs this node's identity and its partners, and {folder} has none: create it with "
            "`avellino node init --name AGENCY --country CC` and register partners with `avellino partner add`"
        )
    node = load_node(folder)
    partners = [node.partner(n) for n in dict.fromkeys(names)]
    return request_for(node, partners, purpose, dt.date.today()), batch_jits(node)
