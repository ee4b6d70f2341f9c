"""A small sample operation with legitimate buyers, ingested and resolved once per session (about 10 s)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

SCALE, SEED = 1000, 3


@dataclass
class TraceOp:
    workspace: Path
    truth_dir: Path
    folder: Path


@pytest.fixture(scope="session")
def trace_op(tmp_path_factory: pytest.TempPathFactory) -> TraceOp:
    from avellino.ingest.run import ingest_file
    from avellino.resolve import store_io
    from avellino.sample import generate
    from avellino.sample.legit import add_legitimate
    from avellino.store.duckdb_store import DuckDBStore

    root = tmp_path_factory.mktemp("tracesample")
    generate(root / "op", scale=SCALE, seed=SEED)
    add_legitimate(root / "op", SEED, SCALE)
    manifest = json.loads((root / "op" / "manifest.json").read_text())
    store = DuckDBStore(root / "ws", create=True)
    for f in manifest["files"]:
        ingest_file(store, root / "op" / f["path"], root / "op" / f["mapping"])
    store_io.run(store)
    store.close()
    return TraceOp(root / "ws", root / "op" / "truth", root / "op")


@pytest.fixture(scope="session")
def amlsim_dir(shared_data: Path) -> Path:
    folder = shared_data / "aml" / "amlsim_exports_v2"
    if not folder.exists():
        pytest.skip(f"{folder} is absent")
    return folder
