"""Settings from AVELLINO_* environment variables, with defaults that work on a laptop."""

from __future__ import annotations

import os
import re
from pathlib import Path

DEFAULT_WORKSPACE = Path("workspace")


def workspace_path(explicit: Path | None = None) -> Path:
    """The workspace folder: the --workspace option, else $AVELLINO_WORKSPACE, else ./workspace."""
    if explicit is not None:
        return explicit
    env = os.environ.get("AVELLINO_WORKSPACE")
    return Path(env) if env else DEFAULT_WORKSPACE


def store_url(explicit: str | None = None) -> str | None:
    """A database URL for a shared server (postgresql://...), or None for the embedded DuckDB file."""
    return explicit or os.environ.get("AVELLINO_STORE_URL") or None


_PG_URL = re.compile(r"^(postgres(?:ql)?):/+(.*)$", re.DOTALL)


def url_of_workspace(workspace: Path | str | None) -> str | None:
    """The PostgreSQL URL given as a workspace (``--workspace postgresql://user@host/db``), else None. Typer hands
    the option over as a Path, which folds ``//`` into ``/``: the URL is put back together."""
    if workspace is None:
        return None
    match = _PG_URL.match(str(workspace))
    return f"{match.group(1)}://{match.group(2)}" if match else None


def shared_data_dir() -> Path | None:
    """Public data sets: $AVELLINO_SHARED_DATA, else ../shared/data beside the current folder or the clone."""
    env = os.environ.get("AVELLINO_SHARED_DATA")
    repo = Path(__file__).resolve().parent.parent
    candidates = ([Path(env)] if env else []) + [
        Path.cwd().parent / "shared" / "data",
        repo.parent / "shared" / "data",
    ]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


ENGINES = ("duckdb", "spark")


def engine(explicit: str | None = None) -> str:
    """The engine of the heavy steps: --engine, else $AVELLINO_ENGINE, else ``duckdb`` (see avellino/engine/)."""
    from avellino.errors import ConfigError

    value = (explicit or os.environ.get("AVELLINO_ENGINE") or "duckdb").strip().lower()
    if value not in ENGINES:
        raise ConfigError(f"unknown engine {value!r}: choose one of {', '.join(ENGINES)}")
    return value


def spark_master() -> str:
    """Where Spark runs: $AVELLINO_SPARK_MASTER (``spark://host:7077``, ``yarn``...), else ``local[2]``."""
    return os.environ.get("AVELLINO_SPARK_MASTER") or "local[2]"


def spark_memory() -> str:
    """Driver memory of a session Avellino starts: $AVELLINO_SPARK_MEMORY, else 4g (locally, the job's memory)."""
    return os.environ.get("AVELLINO_SPARK_MEMORY") or "4g"
