"""SIGKILL of `avellino share receive` at points of a measured whole receive: the shared loop of the kill tests."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tests.share.nodes import avellino, env


def receive_command(bundle: Path, ws: Path) -> list[str]:
    return [*avellino(), "share", "receive", str(bundle), "-w", str(ws)]


def timed_receive(bundle: Path, ws: Path, probe: Path) -> float:
    """Seconds a whole receive takes, measured on a copy of the receiver (workspace and node) at ``probe``."""
    shutil.copytree(ws, probe)
    start = time.perf_counter()
    full = subprocess.run(receive_command(bundle, probe), env=env(), capture_output=True, text=True)
    duration = time.perf_counter() - start
    assert full.returncode == 0, full.stderr
    return duration


def kill_receives(
    bundle: Path,
    ws: Path,
    duration: float,
    fractions: Sequence[float],
    state: Callable[[Path], Any],
    before: Any,
    after: Any,
    what: str,
) -> None:
    """Receive again and again, killed at each fraction of ``duration``: after every kill the receiver's
    ``state`` is ``before`` or ``after``, never anything else (``what`` names a torn one); stops once it is
    ``after``. At least two kills must land while the receive still ran, else the test proved nothing."""
    killed_alive = 0
    for fraction in fractions:
        proc = subprocess.Popen(
            receive_command(bundle, ws), env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(duration * fraction)
        if proc.poll() is None:
            killed_alive += 1
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode in (0, -signal.SIGKILL), f"the receive failed by itself ({proc.returncode})"
        now = state(ws)
        assert now in (before, after), f"torn {what} after SIGKILL at {fraction:.0%} of a receive: {now}"
        if now == after:
            break
    assert killed_alive >= 2, "the receive finished before any kill; the test proved nothing"
