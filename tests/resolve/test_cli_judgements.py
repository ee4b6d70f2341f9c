"""`resolve judge` / `resolve retract` through the CLI on a real DuckDB workspace."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from avellino.cli import app
from avellino.errors import ConfigError
from avellino.resolve import clusters as cl
from avellino.resolve import store_io
from avellino.store import open_store
from tests.statements import batch, statement_row, statement_table


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    rows = [statement_row(e, "name", n) for e, n in (("uk-nca-a1", "Ali Hassan"), ("fr-ocriest-b2", "Hassan Ali"))]
    with open_store(ws, create=True) as store:
        store.write_batch(batch("people"), statement_table(rows))
    return ws


def _invoke(*args: str):
    return CliRunner().invoke(app, ["resolve", *args])


def test_judge_then_retract_records_both(workspace: Path) -> None:
    judged = _invoke(
        "judge", "uk-nca-a1", "fr-ocriest-b2", "--verdict", "different", "--user", "ana", "-w", str(workspace)
    )
    assert judged.exit_code == 0, judged.output
    jid = re.search(r"recorded: (\w+)", judged.stdout).group(1)  # type: ignore[union-attr]
    retracted = _invoke("retract", jid, "--user", "ben", "--reason", "wrong record", "-w", str(workspace))
    assert retracted.exit_code == 0, retracted.output
    with open_store(workspace) as store:
        log = store_io.judgements(store)
    assert sorted(log["verdict"]) == ["negative", "retract"]
    assert log.loc[log["verdict"] == "retract", "retracts"].tolist() == [jid]
    assert cl.effective_judgements(log).empty


def test_judge_refuses_unknown_ids_and_records_nothing(workspace: Path) -> None:
    result = _invoke("judge", "nosuch-id", "uk-nca-a1", "--verdict", "same", "--user", "ana", "-w", str(workspace))
    assert isinstance(result.exception, ConfigError)
    assert "nosuch-id" in str(result.exception)
    with open_store(workspace) as store:
        assert store_io.judgements(store).empty


def test_judge_unknown_id_exits_non_zero_with_a_message(workspace: Path) -> None:
    cmd = [sys.executable, "-m", "avellino.cli", "resolve", "judge", "nosuch-id", "uk-nca-a1"]
    cmd += ["--verdict", "same", "--user", "ana", "-w", str(workspace)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "no record with id 'nosuch-id'" in done.stderr


def test_retract_works_on_a_log_written_before_the_fix(workspace: Path) -> None:
    """Earlier versions stored the judgement log's ``retracts`` with DuckDB's NULL type; retracting must still work."""
    import duckdb

    judged = cl.judgement_row("uk-nca-a1", "fr-ocriest-b2", "negative", "ana", "twins")
    con = duckdb.connect(str(workspace / "avellino.duckdb"))
    con.register("_old", pa.Table.from_pylist([judged]))  # retracts: Arrow's null type, as the old code wrote it
    con.execute("CREATE TABLE x_resolve_judgements AS SELECT * FROM _old")
    types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns").fetchall())
    assert types["retracts"].strip('"') == "NULL"
    con.close()
    result = _invoke("retract", str(judged["judgement_id"]), "--user", "ben", "-w", str(workspace))
    assert result.exit_code == 0, result.output
    with open_store(workspace) as store:
        assert cl.effective_judgements(store_io.judgements(store)).empty
