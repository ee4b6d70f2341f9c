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

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from avellino.errors import ConfigError

_SESSION: Any = None
_WORKDIR: Path | None = None


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
        workdir = _workdir()
        builder = SparkSession.builder
        for key, value in session_config(master, memory, workdir).items():
            builder = builder.config(key, value)
        _SESSION = builder.getOrCreate()
        _SESSION.sparkContext.setLogLevel("ERROR")
        _SESSION.sparkContext.setCheckpointDir(str(workdir / "checkpoints"))
    return _SESSION


def _workdir() -> Path:
    """This process's scratch folder for Spark, removed at exit: spilled rows and staged features hold personal
    data."""
    global _WORKDIR
    if _WORKDIR is None:
        _WORKDIR = Path(tempfile.mkdtemp(prefix="avellino-spark-"))
        atexit.register(shutil.rmtree, _WORKDIR, True)
    return _WORKDIR


def staging_dir() -> Path:
    """Where tables handed to Spark are written as Parquet: ``AVELLINO_SPARK_STAGING`` (on a cluster, a folder
    every executor reads: HDFS, S3, a shared mount), else the local session's own folder, removed at exit."""
    env = os.environ.get("AVELLINO_SPARK_STAGING")
    if env:
        return Path(env)
    path = _workdir() / "staging"
    path.mkdir(parents=True, exist_ok=True)
    return path


def stop() -> None:
    """Stop the session this process started and remove its folder (tests and benchmarks)."""
    global _SESSION, _WORKDIR
    if _SESSION is not None:
        _SESSION.stop()
        _SESSION = None
    if _WORKDIR is not None:
        shutil.rmtree(_WORKDIR, ignore_errors=True)
        _WORKDIR = None
