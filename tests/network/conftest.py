"""A small synthetic sample operation, generated and ingested once per test session (about 10 s)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from avellino.store.base import Store

SCALE, SEED = 1000, 3


@dataclass
class SampleOp:
    workspace: Path
    truth_dir: Path

    def copy(self, dest: Path) -> Path:
        """A private copy of the workspace, for tests that change canonical ids."""
        shutil.copytree(self.workspace, dest)
        return dest


@pytest.fixture(scope="session")
def sample_op(tmp_path_factory: pytest.TempPathFactory) -> SampleOp:
    from avellino.ingest.run import ingest_file
    from avellino.sample import generate
    from avellino.store.duckdb_store import DuckDBStore

    root = tmp_path_factory.mktemp("netsample")
    manifest = generate(root / "op", scale=SCALE, seed=SEED)
    store = DuckDBStore(root / "ws", create=True)
    for f in manifest.files:
        ingest_file(store, f.path, f.mapping)
    store.close()
    return SampleOp(root / "ws", manifest.truth_dir)


@pytest.fixture()
def sample_store(sample_op: SampleOp) -> Iterator[Store]:
    from avellino.store.duckdb_store import DuckDBStore

    store = DuckDBStore(sample_op.workspace)
    yield store
    store.close()
