"""``avellino money`` and ``avellino supply`` as an analyst runs them (the real CLI in a subprocess)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.share.nodes import avellino, env
from tests.trace.conftest import TraceOp


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*avellino(), *args], capture_output=True, text=True, env=env(), timeout=300)


def test_amlsim_json(amlsim_dir: Path) -> None:
    done = run("money", "amlsim", str(amlsim_dir), "--json")
    assert done.returncode == 0, done.stderr
    scored = json.loads(done.stdout)
    assert scored["alerts_recovered"]["recovered"] == 3 and scored["fan_in"]["recall"] == 1.0


def test_workspace_commands(trace_op: TraceOp) -> None:
    ws = str(trace_op.workspace)
    flows = run("money", "flows", "--workspace", ws, "--json")
    assert flows.returncode == 0, flows.stderr
    found = json.loads(flows.stdout)["findings"]
    assert found and all(f["transactions"] and f["markings"] for f in found)
    buyers = run("supply", "buyers", "--workspace", ws, "--json", "--top", "5")
    assert buyers.returncode == 0 and len(json.loads(buyers.stdout)) == 5
    table = run("money", "assets", "--workspace", ws)
    assert table.returncode == 0 and "Asset candidates" in table.stdout
    bad = run("money", "flows", "--workspace", ws, "--pattern", "nonsense")
    assert bad.returncode != 0 and "unknown pattern" in bad.stderr


def test_missing_export_is_a_clear_error(tmp_path: Path) -> None:
    done = run("money", "amlsim", str(tmp_path))
    assert done.returncode != 0 and "transactions.csv" in done.stderr and "Traceback" not in done.stderr


def test_workspace_reads_are_audited_before_output(trace_op: TraceOp) -> None:
    """Each reading command appends one entry naming its purpose, action and the ids it shows."""
    from avellino.share import audit
    from avellino.store.duckdb_store import DuckDBStore

    ws = str(trace_op.workspace)
    with DuckDBStore(trace_op.workspace, read_only=True) as store:
        before = len(audit.entries(store))
    shown = run("supply", "buyers", "--workspace", ws, "--json", "--top", "3", "--purpose", "case 21-07")
    assert shown.returncode == 0, shown.stderr
    assert run("money", "trace", "--workspace", ws, "--top", "2").returncode == 0
    with DuckDBStore(trace_op.workspace, read_only=True) as store:
        new = [e.fields for e in audit.entries(store)[before:]]
        assert audit.verify(store) == before + 2
    assert [(e["action"], e["purpose"]) for e in new] == [("supply buyers", "case 21-07"), ("money trace", "analysis")]
    assert new[0]["touched"]["ids"] == [b["buyer"] for b in json.loads(shown.stdout)]
    assert new[1]["touched"]["count"] == 2


def test_supply_warn_writes_a_screened_notice(trace_op: TraceOp, tmp_path: Path) -> None:
    ws = str(trace_op.workspace)
    sellers = json.loads(run("supply", "sellers", "--workspace", ws, "--json", "--top", "1").stdout)
    out_dir = tmp_path / "notices"
    done = run("supply", "warn", sellers[0]["seller"], "--workspace", ws, "--agency", "FR-OCRIEST",
               "--contact", "ocriest@example.org", "--out", str(out_dir))  # fmt: skip
    assert done.returncode == 0, done.stderr
    (notice,) = out_dir.glob("WARN-*.json")
    body = json.loads(notice.read_text())
    assert body["signs"] and body["issued_by"]["agency"] == "FR-OCRIEST"
    assert all(set(sale) <= {"recordId", "date", "itemKind", "quantity", "place"} for sale in body["sales"])
    unknown = run("supply", "warn", "nobody", "--workspace", ws, "--agency", "FR-OCRIEST", "--contact", "x",
                  "--out", str(out_dir))  # fmt: skip
    assert unknown.returncode != 0 and "sold nothing" in unknown.stderr and "Traceback" not in unknown.stderr
