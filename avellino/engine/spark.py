"""One Spark session per process, configured for Avellino and Splink.

Spark is optional (``pip install 'avellino[spark]'`` and a Java runtime): nothing imports this module unless an
analyst asks for ``--engine spark``. ``require()`` turns a missing piece into one analyst-facing error instead of
a Py4J traceback. The session carries Splink's similarity functions (its jar on ``spark.jars``), so the same
backend-free Splink settings score on Spark as on DuckDB.

Locally (``local[N]``, the default ``local[2]``) the driver is the executor: its memory is the job's memory, and
few shuffle partitions suit a handful of cores. On a cluster, ``AVELLINO_SPARK_MASTER`` names it (or
``spark-submit`` has already made the session, which ``session()`` then reuses); see docs/scale.md.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from avellino.errors import ConfigError

_SESSION: Any = None


def missing() -> str | None:
    """Why Spark cannot run here (no pyspark, no Java), or None when it can."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed: pip install 'avellino[spark]'"
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        return "no Java runtime found (java on PATH or JAVA_HOME): apt-get install default-jre-headless"
    return None


def require() -> None:
    """Raise ``ConfigError`` naming what is missing for ``--engine spark``."""
    reason = missing()
    if reason:
        raise ConfigError(f"--engine spark cannot run: {reason}")


def splink_jar() -> str:
    """Splink's jar of similarity functions (Jaro-Winkler, Damerau-Levenshtein...) for this Spark version."""
    from splink.backends.spark import similarity_jar_location

    return str(similarity_jar_location())


def session_config(master: str, memory: str, workdir: Path) -> dict[str, str]:
    """The settings of a session Avellino starts itself (a session made by spark-submit keeps its own)."""
    local = master.startswith("local")
    cores = master[len("local[") : -1] if local and master.startswith("local[") else "2"
    cores = cores if cores.isdigit() else str(os.cpu_count() or 2)
    return {
        "spark.app.name": "avellino",
        "spark.master": master,
        "spark.jars": splink_jar(),
        "spark.driver.memory": memory,
        # a few partitions per core locally: Spark's default of 200 makes tiny tasks that cost more than they do
        "spark.sql.shuffle.partitions": str(int(cores) * 4) if local else "400",
        "spark.default.parallelism": str(int(cores) * 4) if local else "400",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.adaptive.enabled": "true",
        "spark.local.dir": str(workdir / "local"),
        "spark.sql.warehouse.dir": str(workdir / "warehouse"),
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        # loopback only: a local session needs no network and must not offer one
        **({"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"} if local else {}),
    }


def session(master: str | None = None, memory: str | None = None) -> Any:
    """The process's Spark session: the active one (spark-submit), else one started with ``session_config``."""
    global _SESSION
    require()
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        _SESSION = active
    if _SESSION is None:
        from avellino import settings

        master = master or settings.spark_master()
        memory = memory or settings.spark_memory()
        workdir = Path(tempfile.mkdtemp(prefix="avellino-spark-"))
        builder = SparkSession.builder
        for key, value in session_config(master, memory, workdir).items():
            builder = builder.config(key, value)
        _SESSION = builder.getOrCreate()
        _SESSION.sparkContext.setLogLevel("ERROR")
        _SESSION.sparkContext.setCheckpointDir(str(workdir / "checkpoints"))
    return _SESSION


def stop() -> None:
    """Stop the session this process started (tests and benchmarks; commands let the process end)."""
    global _SESSION
    if _SESSION is not None:
        _SESSION.stop()
        _SESSION = None
