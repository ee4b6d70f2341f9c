"""The demo's output folder: what ``avellino demo`` may create there and, on a re-run, remove.

The demo writes invented people, so it only ever writes into a folder it owns: ``OUT/sample-op`` (the
synthetic operation), ``OUT/workspace`` (its own embedded DuckDB workspace, never ``AVELLINO_STORE_URL``) and
``OUT/briefing.html``. Each folder it makes carries ``MARKER`` from the moment it is created, so a later run
(``make demo`` again) can tell its own output from an analyst's and removes only what a demo made. Anything
else in OUT (an analyst's workspace, ``--out .`` in a project folder) makes it refuse, naming what it found,
and nothing is touched.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from avellino.errors import ConfigError

MARKER = ".avellino-demo"
SAMPLE, WORKSPACE, BRIEFING = "sample-op", "workspace", "briefing.html"
#: Shown at most this many foreign entries in the refusal.
SHOWN = 5


def _is_demo_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink() and (path / MARKER).is_file()


def foreign_entries(out_dir: Path) -> list[str]:
    """What in ``out_dir`` a demo did not make (empty: the demo may run there)."""
    if not out_dir.exists():
        return []
    if not out_dir.is_dir():
        return [str(out_dir)]
    foreign = []
    entries = sorted(out_dir.iterdir())
    made = {e.name for e in entries if e.name in (SAMPLE, WORKSPACE) and _is_demo_folder(e)}
    for entry in entries:
        if entry.name in made:
            continue
        if entry.name == BRIEFING and made and entry.is_file() and not entry.is_symlink():
            continue  # the briefing beside a demo's own folders is the demo's
        foreign.append(entry.name + ("/" if entry.is_dir() else ""))
    return foreign


def prepare(out_dir: Path) -> tuple[Path, Path]:
    """Check ``out_dir`` is the demo's (absent, empty or a demo's earlier output), remove the demo's earlier
    sample and workspace, and create both again, marked; returns ``(sample_dir, workspace)``.

    Raises ConfigError, having touched nothing, when OUT holds anything a demo did not make."""
    foreign = foreign_entries(out_dir)
    if foreign:
        listed = ", ".join(foreign[:SHOWN]) + (f" and {len(foreign) - SHOWN} more" if len(foreign) > SHOWN else "")
        raise ConfigError(
            f"{out_dir} holds files `avellino demo` did not make ({listed}); the demo only writes into an empty "
            f"folder or its own earlier output, and deletes nothing else. Choose another folder (avellino demo "
            f"--out NEW-FOLDER), or, if it is the output of a demo older than the {MARKER} marker, remove it yourself."
        )
    sample_dir, workspace = out_dir / SAMPLE, out_dir / WORKSPACE
    for folder in (sample_dir, workspace):
        if _is_demo_folder(folder):
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        (folder / MARKER).write_text("made by `avellino demo`: a re-run of the demo may delete this folder\n")
    return sample_dir, workspace
