"""One computed forecast shared by ``flows forecast``, ``alerts`` and ``charts``: a file keyed by what decides it.

Why: fitting every candidate over every rolling origin is the slow part (minutes for the Frontex hierarchy), and
the three commands used to redo it each time on the same data. The key is a hash of the data (every bottom-level
count and its hierarchy), the settings (horizon, levels, series, calibration windows, fast) and the method (the
source of the modules that compute the forecast), so a change in any of them computes afresh; nothing else is
trusted. Files live in ``$AVELLINO_CACHE`` (default ``~/.cache/avellino``) under ``flows/``.

The files are pickles of :class:`avellino.flows.forecast.FlowForecast` written by this same user; a file that
cannot be read (another pandas, a half-written file) is ignored and recomputed, never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from avellino.flows.data import FlowData
from avellino.flows.forecast import FlowForecast

# The modules whose code decides the forecast: editing any of them makes every cached forecast stale.
METHOD_MODULES = ("combine", "forecast", "hierarchy", "models", "pooled", "robust", "data", "select")


def cache_dir() -> Path:
    """$AVELLINO_CACHE/flows, else ~/.cache/avellino/flows."""
    root = os.environ.get("AVELLINO_CACHE")
    return (Path(root) if root else Path.home() / ".cache" / "avellino") / "flows"


def _method_hash() -> str:
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in METHOD_MODULES:
        path = here / f"{name}.py"
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def data_hash(flow: FlowData) -> str:
    """Hash of every count, date and hierarchy value of ``flow`` (row order does not matter)."""
    frame = flow.frame[[*flow.levels, "ds", "y"]].sort_values([*flow.levels, "ds"]).reset_index(drop=True)
    rows = pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes()
    return hashlib.sha256(rows).hexdigest()


def cache_key(flow: FlowData, settings: dict[str, object]) -> str:
    """The file name (without suffix) of ``flow``'s forecast with ``settings``."""
    payload = {
        "name": flow.name,
        "freq": flow.freq,
        "levels": flow.levels,
        "data": data_hash(flow),
        "method": _method_hash(),
        "settings": settings,
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:24]
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in flow.name)
    return f"{safe}-{digest}"


def cached_forecast(
    flow: FlowData,
    settings: dict[str, object],
    compute: Callable[[], FlowForecast],
    folder: Path | None = None,
) -> tuple[FlowForecast, bool]:
    """``compute()``'s result, read from the cache when an identical request was computed before.

    Returns the forecast and whether it came from the cache. ``folder=None`` uses :func:`cache_dir`."""
    folder = folder or cache_dir()
    path = folder / f"{cache_key(flow, settings)}.pickle"
    if path.exists():
        try:
            with path.open("rb") as handle:
                found = pickle.load(handle)  # noqa: S301 - written by this user, into their own cache folder
            if isinstance(found, FlowForecast):
                return found, True
        except Exception:  # noqa: BLE001 - an unreadable cache file is recomputed, never fatal
            pass
    result = compute()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.part")
        with partial.open("wb") as handle:
            pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)
        partial.replace(path)  # atomic: a reader never sees half a file
    except OSError:
        pass  # a read-only home still forecasts, only without the cache
    return result, False


def cached_evaluation(
    flow: FlowData, compute: Callable[[], dict[str, object]], folder: Path | None = None
) -> dict[str, object]:
    """``compute()``'s alert evaluation of ``flow`` (a JSON object), read from the cache when the same data were
    evaluated by the same method before (``flows alerts --evaluate`` and the briefing share it)."""
    folder = folder or cache_dir()
    here = Path(__file__).resolve().parent
    method = hashlib.sha256((here / "alert_eval.py").read_bytes()).hexdigest()[:16]
    path = folder / f"{cache_key(flow, {'evaluation': method})}.json"
    if path.exists():
        try:
            found = json.loads(path.read_text())
            if isinstance(found, dict):
                return found
        except (OSError, ValueError):
            pass
    result = compute()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.part")
        partial.write_text(json.dumps(result))
        partial.replace(path)
    except OSError:
        pass
    return result
