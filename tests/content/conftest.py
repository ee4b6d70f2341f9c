"""Helpers for the content tests: the CLI run as an analyst runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_cli(*args: str, ws: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "avellino"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "avellino.cli"]
    env = {**os.environ, "COLUMNS": "200"}
    if ws is not None:
        env["AVELLINO_WORKSPACE"] = str(ws)
    env.pop("AVELLINO_STORE_URL", None)
    return subprocess.run([*cmd, *args], env=env, capture_output=True, text=True, input=stdin)
